/*
 * server.c — libmicrohttpd in external-event epoll mode on httpd's loop.
 *
 * Key decisions:
 *  - MHD_USE_EPOLL without an internal thread: MHD's epoll fd is one fd
 *    in our loop; when it is readable we call MHD_run(), and a loop timer
 *    follows MHD_get_timeout(). All httpd state stays on the loop thread
 *    (STYLE.md principle 1); IPC replies arrive as loop callbacks.
 *  - MHD_ALLOW_SUSPEND_RESUME: a request waiting on raftd (a blocking
 *    query waits up to 10 minutes) is a suspended connection, resumed when
 *    the reply arrives ("Flow control" in the MHD manual; its
 *    suspend_resume_epoll.c example). Suspended connections are not
 *    subject to MHD_OPTION_CONNECTION_TIMEOUT, and MHD does not watch
 *    their sockets: we do, so a client that gives up ends its wait at
 *    once (Go cancels the request context for Consul).
 *  - MHD_get_timeout() must be honoured even when it is 0: MHD handles
 *    connection sockets edge-triggered and keeps a list of connections
 *    still ready after an MHD_run(); they do not make its epoll fd
 *    readable again. Arming the loop timer only for non-zero timeouts
 *    stalled wrk -c256 at ~1k req/s (measured); honouring 0 does not.
 *  - Connections per client IP are counted by us (connlimit.h), not by
 *    MHD_OPTION_PER_IP_CONNECTION_LIMIT, so one over the limit gets
 *    Consul's "429 Too Many Requests" instead of a silent close.
 *  - Bad input (spec/fault-testing.md §7.1): an unescape callback flags
 *    %00 and malformed escapes (MHD would truncate the URL at the NUL);
 *    duplicate Content-Length and Content-Length with Transfer-Encoding
 *    are refused (request smuggling shapes); body bytes are counted and
 *    a body over the route's limit is 413 with Consul's text, before
 *    reading it when Content-Length says so (also for Expect:
 *    100-continue).
 * Reference: GNU libmicrohttpd manual 0.9.75; Consul agent/http.go.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "config.h"
#include "connlimit.h"
#include "err.h"
#include "httpd.h"
#include "log.h"
#include "loop.h"
#include "query.h"
#include "req.h"
#include "router.h"
#include "rpc.h"
#include "server.h"
#include "share.h"

/*
 * Per-connection memory: the request line and headers must fit (else
 * 414/431; a 30 KB key fits). MHD clears the pool for every request, so
 * a bigger pool costs: 32 KiB served 74k req/s here, 128 KiB 45k.
 */
#define SERVER_CONN_MEMORY (32u * 1024)
/* Descriptors kept for everything but HTTP connections (IPC, logs). */
#define SERVER_FD_RESERVE 128u
#define SERVER_BACKLOG 4096u
/*
 * Above this many open connections, the answer to a blocking query
 * (?index=) carries "Connection: close". Why: libmicrohttpd 0.9.75
 * zeroes a keep-alive connection's whole pool after every answer
 * (MHD_pool_reset memsets size - copy_bytes), so a woken watcher that
 * re-blocks on its kept-alive connection holds all SERVER_CONN_MEMORY
 * bytes resident (10,000 watchers: 63 MB held before the first wake,
 * ~340 MB after it; bench/RESULTS.md). Closing frees the pool without the
 * memset, and the client's reconnect starts with an untouched one. Go's
 * net/http (consul-template, the api package), requests and curl
 * reconnect transparently on "Connection: close". Below the watermark,
 * and for every non-blocking request, keep-alive stays. The last answers
 * of a mass wake-up go out below the watermark, so up to
 * SERVER_CLOSE_WATERMARK woken pools stay: 16 MB at 512 (at 1,024, 10,000
 * re-blocked watchers measured 89-98 MB, too close to issue 5's 100).
 */
#define SERVER_CLOSE_WATERMARK 512u
/*
 * After every SERVER_TRIM_CLOSES connections closed, malloc_trim(0) at the
 * end of that loop iteration (a 0 ms timer). Why: answering touches ~20 KB of a
 * connection's pool even when it then closes (MHD shrinks the 16 KB read
 * buffer with MHD_pool_reallocate, which zeroes the freed part), and the
 * 32 KiB pools are malloc'd (MHD mmaps only bigger ones), so after 10,000
 * watchers are woken and closed the heap keeps ~200 MB of free but
 * resident pages; glibc returns only the top of the heap by itself
 * (measured: 229 MB -> 36 MB on malloc_trim). Mmap'd pools (> 32 KiB)
 * would return at once but cost ~10 KB instead of ~6 KB per held
 * watcher (two touched pages each: 99 MB for 10,000, bench/RESULTS.md).
 * Trimming during the wake-up, not after it, keeps the peak down (with a
 * 250 ms delay, RSS read right after a wake was up to 122 MB); a trim is
 * ~0.4 % of httpd's samples in a wake-up.
 */
#define SERVER_TRIM_CLOSES 1024u
#define SERVER_TRIM_DELAY_MS 0u

struct server {
	struct httpd *h;
	struct loop *l;
	struct MHD_Daemon *d;
	int epfd;
	uint64_t timer;      /* MHD_get_timeout() timer */
	uint64_t kick;       /* run soon after a resume */
	uint64_t trim;       /* malloc_trim timer (SERVER_TRIM_CLOSES) */
	unsigned closed;     /* connections closed since the last trim */
	unsigned suspended;  /* connections suspended now */
	unsigned nconns;     /* connections open now (notify_conn) */
	bool quiesced;       /* the listener is closed (server_quiesce) */
	struct connlimit cl; /* http_max_conns_per_client */
	struct log_ratelimit rl;
	struct log_ratelimit rl_limit;
};

/* Per-connection state (MHD socket context). */
struct server_conn {
	bool bad_escape; /* %00 or a malformed %-escape in this request */
	bool nul_escape;
	bool counted;    /* in s->cl under addr */
	bool refused;    /* over the per-IP limit: answered 429, closing */
	uint8_t addr[16];
	uint8_t alen;
};

static void server_run(struct server *s);

static void
server_timer_cb(struct loop *l, void *arg)
{
	struct server *s = arg;

	s->timer = 0;
	server_run(s);
}

static void
server_kick_cb(struct loop *l, void *arg)
{
	struct server *s = arg;

	s->kick = 0;
	server_run(s);
}

/* Runs MHD soon (after a resume outside of MHD_run). */
static void
server_kick(struct server *s)
{
	if (s->kick == 0)
		s->kick = loop_timer_add(s->l, 0, server_kick_cb, s);
}

static void
server_arm(struct server *s)
{
	MHD_UNSIGNED_LONG_LONG to;

	if (s->timer != 0) {
		loop_timer_cancel(s->l, s->timer);
		s->timer = 0;
	}
	if (MHD_get_timeout(s->d, &to) == MHD_YES)
		s->timer = loop_timer_add(s->l, (uint64_t)to, server_timer_cb,
		    s);
}

static void
server_run(struct server *s)
{
	if (MHD_run(s->d) != MHD_YES && log_ratelimited(&s->rl, 5, 10000,
	    NULL))
		log_warnx("httpd: MHD_run failed");
	server_arm(s);
}

static void
server_fd_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	server_run(arg);
}

static void
server_logger(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_debug("httpd: mhd: %s", buf);
}

static struct server_conn *
server_conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/* Consul's answer to a connection over the per-IP limit (go-connlimit). */
static const char server_429[] = "HTTP/1.1 429 Too Many Requests\r\n"
				 "Content-Length: 0\r\n"
				 "Connection: close\r\n\r\n";

static void
server_conn_limit(struct server *s, struct MHD_Connection *c,
    struct server_conn *sc)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	char ip[INET6_ADDRSTRLEN];
	int rc;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		memcpy(sc->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		sc->alen = 4;
	} else if (sa->sa_family == AF_INET6) {
		memcpy(sc->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    16);
		sc->alen = 16;
	} else {
		return;
	}
	rc = connlimit_acquire(&s->cl, sc->addr, sc->alen);
	sc->counted = rc == 0 || rc == ERR_TOOBIG;
	if (rc != ERR_TOOBIG)
		return;
	sc->refused = true;
	inet_ntop(sa->sa_family, sc->addr, ip, sizeof(ip));
	if (log_ratelimited(&s->rl_limit, 5, 10000, NULL))
		log_warnx("httpd: %s is over http_max_conns_per_client (%u): "
		    "429", ip, s->cl.max);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL) {
		/* Best effort, never blocking; then MHD sees EOF and closes. */
		(void)send(ci->connect_fd, server_429, sizeof(server_429) - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		shutdown(ci->connect_fd, SHUT_RDWR);
	}
}

static void
server_trim_cb(struct loop *l, void *arg)
{
	struct server *s = arg;
	uint64_t t0 = loop_clock_ms();

	s->trim = 0;
	s->closed = 0;
	malloc_trim(0);
	log_debug("httpd: malloc_trim after closes: %llu ms",
	    (unsigned long long)(loop_clock_ms() - t0));
}

static void
server_notify_conn(void *cls, struct MHD_Connection *c, void **socket_ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	struct server *s = cls;
	struct server_conn *sc;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		s->nconns++;
		if ((sc = calloc(1, sizeof(*sc))) != NULL)
			server_conn_limit(s, c, sc);
		*socket_ctx = sc;
	} else {
		s->nconns--;
		if (++s->closed >= SERVER_TRIM_CLOSES && s->trim == 0)
			s->trim = loop_timer_add(s->l, SERVER_TRIM_DELAY_MS,
			    server_trim_cb, s);
		sc = *socket_ctx;
		if (sc != NULL && sc->counted)
			connlimit_release(&s->cl, sc->addr, sc->alen);
		free(sc);
		*socket_ctx = NULL;
	}
}

static int
server_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes s in place (path, query keys and values). A %00 or a
 * malformed escape marks the request bad: MHD would truncate at the NUL
 * and the handler would see another key (fault-testing.md §7.1).
 */
static size_t
server_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	struct server_conn *sc = server_conn_of(c);
	char *w = s, *r = s;

	while (*r != '\0') {
		if (*r == '%') {
			int hi = server_hex(r[1]);
			int lo = hi >= 0 ? server_hex(r[2]) : -1;
			if (hi < 0 || lo < 0) {
				if (sc != NULL)
					sc->bad_escape = true;
				*w++ = *r++;
				continue;
			}
			if (hi == 0 && lo == 0 && sc != NULL)
				sc->nul_escape = true;
			*w++ = (char)(hi << 4 | lo);
			r += 3;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	return (size_t)(w - s);
}

struct server_collect {
	struct req *r;
	size_t nargs, cap_args;
	size_t nhdrs, cap_hdrs;
	bool nomem;
};

static enum MHD_Result
server_collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct server_collect *sc = cls;
	struct req *r = sc->r;

	if (sc->nargs == sc->cap_args) {
		size_t ncap = sc->cap_args ? sc->cap_args * 2 : 8;
		struct query_arg *nv = realloc(r->argv, ncap * sizeof(*nv));
		if (nv == NULL) {
			sc->nomem = true;
			return MHD_NO;
		}
		r->argv = nv;
		sc->cap_args = ncap;
	}
	r->argv[sc->nargs].key = key;
	r->argv[sc->nargs].val = value;
	sc->nargs++;
	return MHD_YES;
}

static enum MHD_Result
server_collect_hdr(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct server_collect *sc = cls;
	struct req *r = sc->r;

	if (sc->nhdrs == sc->cap_hdrs) {
		size_t ncap = sc->cap_hdrs ? sc->cap_hdrs * 2 : 16;
		struct req_header *nv = realloc(r->hdrs, ncap * sizeof(*nv));
		if (nv == NULL) {
			sc->nomem = true;
			return MHD_NO;
		}
		r->hdrs = nv;
		sc->cap_hdrs = ncap;
	}
	/* Borrowed from MHD for the request's lifetime (req.h). */
	r->hdrs[sc->nhdrs].name = (char *)(uintptr_t)key;
	r->hdrs[sc->nhdrs].value = (char *)(uintptr_t)(value ? value : "");
	sc->nhdrs++;
	return MHD_YES;
}

static void
server_unwatch(struct server *s, struct req *r)
{
	if (!r->peer_watched)
		return;
	loop_del_fd(s->l, r->peer_fd);
	r->peer_watched = false;
}

/*
 * The socket of a suspended connection became readable: if the client
 * closed it, end the wait now (as Go's request context does for Consul)
 * instead of holding the connection, its per-IP slot and raftd's watch
 * for up to ten minutes. Pipelined bytes only stop the watching.
 */
static void
server_peer_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct req *r = arg;
	struct server *s = r->h->srv;
	ssize_t n;
	char b;

	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR) &&
	    !(events & LOOP_ERROR))
		return;
	server_unwatch(s, r);
	if (n > 0)
		return;
	rpc_forget(s->h, r);
	if (!r->replied)
		req_reply_text(r, 503, "client closed the connection");
}

/* Watches a suspended connection's socket for the client going away. */
static void
server_watch(struct server *s, struct req *r)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return;
	r->peer_fd = ci->connect_fd;
	if (loop_add_fd(s->l, r->peer_fd, LOOP_READ, server_peer_cb, r) == 0)
		r->peer_watched = true;
}

static void
server_on_reply(struct req *r)
{
	struct server *s = r->h->srv;

	if (!r->suspended)
		return; /* answered inside the access handler */
	server_unwatch(s, r);
	r->suspended = false;
	s->suspended--;
	MHD_resume_connection(r->conn);
	server_kick(s);
}

static void
server_shared_free(void *cls)
{
	share_body_unref(cls);
}

/* Whether r's answer closes its connection (SERVER_CLOSE_WATERMARK). */
static bool
server_must_close(const struct server *s, const struct req *r)
{
	return r->opts.index > 0 && s->nconns > SERVER_CLOSE_WATERMARK;
}

static enum MHD_Result
server_queue(struct req *r)
{
	struct server *s = r->h->srv;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t i;

	if (r->shared != NULL) {
		/* One body for every watcher woken alike (share.h): MHD
		 * drops our reference when it is done with the response. */
		resp = MHD_create_response_from_buffer_with_free_callback_cls(
		    r->rbody_len, r->rbody, server_shared_free, r->shared);
		if (resp == NULL)
			return MHD_NO;
		r->shared = NULL;
	} else {
		resp = MHD_create_response_from_buffer(r->rbody_len, r->rbody,
		    MHD_RESPMEM_MUST_FREE);
		if (resp == NULL)
			return MHD_NO;
	}
	r->rbody = NULL;
	r->rbody_len = 0;
	for (i = 0; i < r->n_rhdrs; i++)
		MHD_add_response_header(resp, r->rhdrs[i].name,
		    r->rhdrs[i].value);
	/* On every response, even with ACLs disabled (Consul >= 1.9). */
	MHD_add_response_header(resp, "X-Consul-Default-Acl-Policy", "allow");
	if (s != NULL && server_must_close(s, r))
		MHD_add_response_header(resp, "Connection", "close");
	ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Checks that need only the request line and headers. */
static void
server_check_request(struct server *s, struct req *r, struct server_conn *sc)
{
	const struct route *rt;
	const char *param, *cl;
	char allow[64];
	uint64_t len;

	if (sc != NULL && (sc->nul_escape || sc->bad_escape)) {
		req_reply_text(r, 400, sc->nul_escape ?
		    "Invalid URL: %%00 (NUL) is not allowed" :
		    "Invalid URL: malformed %%-escape");
		return;
	}
	if (req_header_count(r, "Content-Length") > 1) {
		req_reply_text(r, 400, "Bad Request: more than one "
		    "Content-Length header");
		return;
	}
	cl = req_header(r, "Content-Length");
	if (cl != NULL && req_header(r, "Transfer-Encoding") != NULL) {
		req_reply_text(r, 400, "Bad Request: both Content-Length and "
		    "Transfer-Encoding");
		return;
	}
	switch (router_find(&s->h->rt, r->method, r->path, &rt, &param)) {
	case ROUTER_FOUND:
		break;
	case ROUTER_OPTIONS_OK:
		router_allow(rt, allow, sizeof(allow));
		req_set_header(r, "Allow", allow);
		req_reply_empty(r, 200);
		return;
	case ROUTER_NOT_ALLOWED:
		router_allow(rt, allow, sizeof(allow));
		req_set_header(r, "Allow", allow);
		req_reply_text(r, 405, "method %s not allowed", r->method);
		return;
	case ROUTER_REDIRECT:
		req_set_headerf(r, "Location", "%s/", r->path);
		req_reply_empty(r, 301);
		return;
	case ROUTER_NOT_FOUND:
	default:
		req_set_header(r, "X-Content-Type-Options", "nosniff");
		req_reply_text(r, 404, "404 page not found\n");
		return;
	}
	r->route = rt;
	r->param = param;
	r->wants_body = strcmp(r->method, "PUT") == 0 ||
	    strcmp(r->method, "POST") == 0;
	if (cl != NULL && rt->max_body > 0 && r->wants_body &&
	    query_parse_u64(cl, &len) == 0 && len > rt->max_body) {
		r->body_seen = len;
		r->body_too_big = true;
	}
}

static void
server_too_big(struct req *r)
{
	req_reply_text(r, 413, "Request body(%llu bytes) too large, max size: "
	    "%zu bytes. See https://developer.hashicorp.com/consul/docs/agent/"
	    "config/config-files#%s.", (unsigned long long)r->body_seen,
	    r->route->max_body, r->route->limit_name);
}

static struct req *
server_req_start(struct server *s, struct MHD_Connection *c,
    const char *url, const char *method)
{
	struct server_collect col = { 0 };
	struct server_conn *sc = server_conn_of(c);
	struct req *r;

	if (sc != NULL && sc->refused)
		return NULL; /* answered 429 at accept: close */
	if ((r = req_new(s->h)) == NULL)
		return NULL;
	r->conn = c;
	r->on_reply = server_on_reply;
	r->method = method;
	r->path = url;
	col.r = r;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND,
	    server_collect_arg, &col);
	MHD_get_connection_values(c, MHD_HEADER_KIND, server_collect_hdr,
	    &col);
	if (col.nomem) {
		req_free(r);
		return NULL;
	}
	r->args.v = r->argv;
	r->args.n = col.nargs;
	r->n_hdrs = col.nhdrs;
	r->pretty = s->h->pretty || query_has(&r->args, "pretty");
	server_check_request(s, r, sc);
	if (sc != NULL)
		sc->bad_escape = sc->nul_escape = false;
	if (r->body_too_big && !r->replied)
		server_too_big(r);
	return r;
}

static void
server_body(struct req *r, const char *data, size_t n)
{
	/* Only PUT and POST bodies are read; others are counted, dropped. */
	size_t max = r->route != NULL && r->wants_body ? r->route->max_body :
							   0;
	size_t ncap;
	char *nb;

	r->body_seen += n;
	if (r->body_too_big || r->replied || max == 0)
		return; /* counted and discarded */
	if (r->body_seen > max) {
		r->body_too_big = true;
		free(r->body);
		r->body = NULL;
		r->body_len = r->body_cap = 0;
		return;
	}
	if (r->body_len + n > r->body_cap) {
		ncap = r->body_cap ? r->body_cap : 4096;
		while (ncap < r->body_len + n)
			ncap *= 2;
		if ((nb = realloc(r->body, ncap)) == NULL) {
			req_reply_text(r, 500, "out of memory");
			return;
		}
		r->body = nb;
		r->body_cap = ncap;
	}
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
}

static bool
server_has_body(const struct req *r)
{
	const char *cl = req_header(r, "Content-Length");

	if (req_header(r, "Transfer-Encoding") != NULL)
		return true;
	return cl != NULL && strcmp(cl, "0") != 0;
}

static enum MHD_Result
server_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct server *s = cls;
	struct req *r = *con_cls;

	if (r == NULL) {
		if ((r = server_req_start(s, c, url, method)) == NULL)
			return MHD_NO;
		*con_cls = r;
		/* An error found from the headers alone goes out before a
		 * body is read (also refusing Expect: 100-continue); MHD
		 * then closes the connection. Without a body it waits for
		 * the final call so the connection stays alive. */
		if (r->replied && server_has_body(r))
			return server_queue(r);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		server_body(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->replied)
		return server_queue(r); /* resumed, or failed during upload */
	if (r->body_too_big) {
		server_too_big(r);
		return server_queue(r);
	}
	if (s->h->stopping) {
		req_reply_text(r, 503, "agent is shutting down");
		return server_queue(r);
	}
	r->route->fn(s->h, r);
	if (r->replied)
		return server_queue(r);
	r->suspended = true;
	s->suspended++;
	MHD_suspend_connection(c);
	server_watch(s, r);
	return MHD_YES;
}

static void
server_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;
	struct req *r = *con_cls;

	if (r == NULL)
		return;
	server_unwatch(s, r);
	if (r->suspended) {
		/* Closed while suspended (daemon shutdown). */
		r->suspended = false;
		s->suspended--;
	}
	rpc_forget(s->h, r);
	req_free(r);
	*con_cls = NULL;
}

static int
server_sockaddr(const char *addr, int port, struct sockaddr_storage *ss,
    bool *v6)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (port <= 0 || port > 65535)
		return ERR_INVAL;
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*v6 = false;
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*v6 = true;
		return 0;
	}
	return ERR_INVAL;
}

/*
 * How many connections MHD may hold: as many as the open file limit
 * allows (httpd raises the soft limit to the hard one at start; systemd
 * units set LimitNOFILE=65536), less a reserve — thousands of blocking
 * watchers are each one held connection (Consul, in Go, has no global cap).
 */
static unsigned int
server_max_conns(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 65536u;
	if (rl.rlim_cur < 2 * SERVER_FD_RESERVE)
		return (unsigned int)(rl.rlim_cur / 2);
	return (unsigned int)(rl.rlim_cur - SERVER_FD_RESERVE);
}

int
server_open(struct httpd *h, const char *addr, int port, struct server **out)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *di;
	unsigned int flags;
	struct server *s;
	bool v6;
	int rc;

	if ((rc = server_sockaddr(addr, port, &ss, &v6)) != 0) {
		log_warnx("httpd: bad listen address %s port %d", addr, port);
		return rc;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ERR_NOMEM;
	s->h = h;
	s->l = h->loop;
	connlimit_init(&s->cl, h->cfg->http_max_conns_per_client);
	h->srv = s;
	flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
	    (v6 ? MHD_USE_IPv6 : 0);
	s->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL,
	    server_access, s,
	    MHD_OPTION_EXTERNAL_LOGGER, server_logger, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTPD_CONN_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVER_CONN_MEMORY,
	    MHD_OPTION_CONNECTION_LIMIT, server_max_conns(),
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)SERVER_BACKLOG,
	    MHD_OPTION_UNESCAPE_CALLBACK, server_unescape, s,
	    MHD_OPTION_NOTIFY_COMPLETED, server_completed, s,
	    MHD_OPTION_NOTIFY_CONNECTION, server_notify_conn, s,
	    MHD_OPTION_END);
	if (s->d == NULL) {
		log_warn("httpd: cannot listen on %s:%d", addr, port);
		h->srv = NULL;
		connlimit_fini(&s->cl);
		free(s);
		return ERR_IO;
	}
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL || (s->epfd = di->epoll_fd) < 0 ||
	    loop_add_fd(s->l, s->epfd, LOOP_READ, server_fd_cb, s) != 0) {
		log_warnx("httpd: cannot watch the MHD epoll fd");
		MHD_stop_daemon(s->d);
		h->srv = NULL;
		connlimit_fini(&s->cl);
		free(s);
		return ERR_IO;
	}
	server_arm(s);
	*out = s;
	return 0;
}

void
server_quiesce(struct server *s)
{
	MHD_socket lfd;

	if (s == NULL || s->quiesced)
		return;
	s->quiesced = true;
	if ((lfd = MHD_quiesce_daemon(s->d)) != MHD_INVALID_SOCKET)
		close(lfd);
}

void
server_close(struct server *s, uint32_t grace_ms)
{
	uint64_t deadline;

	if (s == NULL)
		return;
	s->h->stopping = true;
	rpc_cancel_all(s->h);
	/* Let the 503s and other replies in flight leave. */
	deadline = loop_clock_ms() + grace_ms;
	server_quiesce(s);
	while (loop_clock_ms() < deadline) {
		const union MHD_DaemonInfo *di;
		MHD_run(s->d);
		di = MHD_get_daemon_info(s->d,
		    MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (di == NULL || di->num_connections == 0)
			break;
		MHD_run_wait(s->d, 10);
	}
	if (s->timer != 0)
		loop_timer_cancel(s->l, s->timer);
	if (s->kick != 0)
		loop_timer_cancel(s->l, s->kick);
	if (s->trim != 0)
		loop_timer_cancel(s->l, s->trim);
	loop_del_fd(s->l, s->epfd);
	MHD_stop_daemon(s->d);
	connlimit_fini(&s->cl);
	s->h->srv = NULL;
	free(s);
}
