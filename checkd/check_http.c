/*
 * check_http.c — HTTP checks on libcurl's multi interface, driven by
 * checkd's loop (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION): thousands of
 * checks in flight on one thread, no thread per check.
 *
 * Result rules (Consul agent/checks/check.go CheckHTTP): 2xx passing,
 * 429 warning, anything else or a transport error critical. Output
 * "HTTP <METHOD> <url>: <code> <reason> Output: <body>" with the body
 * capped at 4 KiB; User-Agent "Consul Health Check"; redirects followed
 * unless DisableRedirects. <curl/curl.h> is included here only.
 *
 * gRPC checks ride on the same multi handle: grpc.health.v1.Health/Check
 * is one HTTP/2 POST (prior knowledge over cleartext, ALPN with
 * GRPCUseTLS) of a length-prefixed HealthCheckRequest{service}; the
 * reply's HealthCheckResponse.status SERVING (1) is passing, anything
 * else (or a grpc-status trailer other than 0) critical. Reference:
 * gRPC health checking protocol (grpc/doc/health-checking.md), gRPC over
 * HTTP/2 (PROTOCOL-HTTP2.md); Consul agent/checks/grpc.go.
 * Reference: spec/consul-api.md §3.1 (http); curl libcurl-multi(3),
 * "multi_socket" API.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checkd.h"
#include "err.h"
#include "log.h"
#include "loop.h"

struct http_run {
	struct checkd *cd;
	struct chk *c;
	CURL *easy;
	struct curl_slist *hdrs;
	char body[CHECK_OUTPUT_MAX + 1];
	size_t len;
	char errbuf[CURL_ERROR_SIZE];
	char *url;          /* gRPC: the derived URL (owned) */
	uint8_t req[8 + 256]; /* gRPC: the framed request */
	int grpc_status;    /* grpc-status trailer or header; -1 none */
	char grpc_msg[256];
};

static CURLM *http_multi;
static struct checkd *http_cd;
static uint64_t http_timer;

static void http_drain(void);

static const char *
http_reason(long code)
{
	switch (code) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

static size_t
http_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_run *hr = arg;
	size_t n = size * nmemb, room = CHECK_OUTPUT_MAX - hr->len;

	if (n < room)
		room = n;
	memcpy(hr->body + hr->len, ptr, room);
	hr->len += room;
	hr->body[hr->len] = '\0';
	return n; /* keep reading; the rest is discarded */
}

static void
http_fd_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	int mask = 0, running;

	(void)l;
	(void)arg;
	if (events & LOOP_READ)
		mask |= CURL_CSELECT_IN;
	if (events & LOOP_WRITE)
		mask |= CURL_CSELECT_OUT;
	if (events & LOOP_ERROR)
		mask |= CURL_CSELECT_ERR;
	curl_multi_socket_action(http_multi, fd, mask, &running);
	http_drain();
}

static int
http_socket_cb(CURL *e, curl_socket_t s, int what, void *userp,
    void *socketp)
{
	uint32_t ev = 0;

	(void)e;
	(void)userp;
	if (what == CURL_POLL_REMOVE) {
		if (socketp != NULL) {
			loop_del_fd(http_cd->loop, s);
			curl_multi_assign(http_multi, s, NULL);
		}
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= LOOP_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= LOOP_WRITE;
	if (socketp == NULL) {
		if (loop_add_fd(http_cd->loop, s, ev, http_fd_cb, NULL) == 0)
			curl_multi_assign(http_multi, s, http_cd);
	} else {
		loop_mod_fd(http_cd->loop, s, ev);
	}
	return 0;
}

static void
http_timer_fire(struct loop *l, void *arg)
{
	int running;

	(void)l;
	(void)arg;
	http_timer = 0;
	curl_multi_socket_action(http_multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	http_drain();
}

static int
http_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	(void)m;
	(void)userp;
	if (http_timer != 0) {
		loop_timer_cancel(http_cd->loop, http_timer);
		http_timer = 0;
	}
	if (timeout_ms >= 0)
		http_timer = loop_timer_add(http_cd->loop,
		    (uint64_t)timeout_ms, http_timer_fire, NULL);
	return 0;
}

static void
http_run_free(struct http_run *hr)
{
	curl_multi_remove_handle(http_multi, hr->easy);
	curl_easy_cleanup(hr->easy);
	curl_slist_free_all(hr->hdrs);
	free(hr->url);
	free(hr);
}

static const char *
grpc_status_name(unsigned v)
{
	static const char *const n[] = { "UNKNOWN", "SERVING", "NOT_SERVING",
		"SERVICE_UNKNOWN" };

	return v < 4 ? n[v] : "UNKNOWN";
}

/* Decodes a framed HealthCheckResponse: status (field 1) or -1. */
static int
grpc_parse(const struct http_run *hr)
{
	const uint8_t *p = (const uint8_t *)hr->body;
	size_t len = hr->len, i, mlen;
	uint64_t v = 0;
	int shift = 0, status = 0;

	if (len < 5 || p[0] != 0)
		return -1;
	mlen = ((size_t)p[1] << 24) | ((size_t)p[2] << 16) |
	    ((size_t)p[3] << 8) | p[4];
	if (mlen > len - 5)
		return -1;
	for (i = 5; i < 5 + mlen;) {
		uint8_t key = p[i++];
		v = 0;
		shift = 0;
		if ((key & 7) != 0)
			return -1; /* only varints in this message */
		while (i < 5 + mlen) {
			v |= (uint64_t)(p[i] & 0x7f) << shift;
			shift += 7;
			if ((p[i++] & 0x80) == 0 || shift > 63)
				break;
		}
		if ((key >> 3) == 1)
			status = (int)(v & 0xff);
	}
	return status; /* absent = UNKNOWN (0) */
}

static void
grpc_done(struct http_run *hr, CURLcode res, char **out, int *status)
{
	struct chk *c = hr->c;
	int st;

	*status = CHECK_CRITICAL;
	if (res != CURLE_OK) {
		if (asprintf(out, "gRPC check %s: failed: %s", c->grpc,
		    hr->errbuf[0] ? hr->errbuf : curl_easy_strerror(res)) < 0)
			*out = NULL;
	} else if (hr->grpc_status > 0) {
		if (asprintf(out, "gRPC check %s: failed: rpc error: code = %d "
		    "desc = %s", c->grpc, hr->grpc_status, hr->grpc_msg) < 0)
			*out = NULL;
	} else if ((st = grpc_parse(hr)) < 0) {
		if (asprintf(out, "gRPC check %s: failed: malformed response",
		    c->grpc) < 0)
			*out = NULL;
	} else if (st != 1) {
		if (asprintf(out, "gRPC %s serving status: %s", c->grpc,
		    grpc_status_name((unsigned)st)) < 0)
			*out = NULL;
	} else {
		*status = CHECK_PASSING;
		if (asprintf(out, "gRPC check %s: success", c->grpc) < 0)
			*out = NULL;
	}
}

/* Picks grpc-status / grpc-message out of headers and trailers. */
static size_t
grpc_header(char *buf, size_t size, size_t nitems, void *arg)
{
	struct http_run *hr = arg;
	size_t n = size * nitems, l;

	if (n > 12 && strncasecmp(buf, "grpc-status:", 12) == 0)
		hr->grpc_status = atoi(buf + 12);
	else if (n > 13 && strncasecmp(buf, "grpc-message:", 13) == 0) {
		l = n - 13 < sizeof(hr->grpc_msg) - 1 ? n - 13 :
		    sizeof(hr->grpc_msg) - 1;
		memcpy(hr->grpc_msg, buf + 13, l);
		while (l > 0 && (hr->grpc_msg[l - 1] == '\n' ||
		    hr->grpc_msg[l - 1] == '\r'))
			l--;
		hr->grpc_msg[l] = '\0';
	}
	return n;
}

/* Sets hr up for a gRPC health check of c. */
static int
grpc_setup(struct http_run *hr, struct chk *c)
{
	const char *slash = strchr(c->grpc, '/');
	const char *svc = slash ? slash + 1 : "";
	size_t hl = slash ? (size_t)(slash - c->grpc) : strlen(c->grpc);
	size_t sl = strlen(svc), ml = sl > 0 ? 2 + sl : 0;
	struct curl_slist *l;

	if (sl > 127)
		return ERR_TOOBIG;
	if (asprintf(&hr->url, "%s://%.*s/grpc.health.v1.Health/Check",
	    c->grpc_use_tls ? "https" : "http", (int)hl, c->grpc) < 0) {
		hr->url = NULL;
		return ERR_NOMEM;
	}
	hr->req[0] = 0;
	hr->req[1] = hr->req[2] = hr->req[3] = 0;
	hr->req[4] = (uint8_t)ml;
	if (sl > 0) {
		hr->req[5] = 0x0a; /* field 1, length-delimited */
		hr->req[6] = (uint8_t)sl;
		memcpy(hr->req + 7, svc, sl);
	}
	hr->grpc_status = -1;
	if ((l = curl_slist_append(hr->hdrs, "Content-Type: "
	    "application/grpc")) != NULL)
		hr->hdrs = l;
	if ((l = curl_slist_append(hr->hdrs, "TE: trailers")) != NULL)
		hr->hdrs = l;
	curl_easy_setopt(hr->easy, CURLOPT_URL, hr->url);
	curl_easy_setopt(hr->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(hr->easy, CURLOPT_POSTFIELDS, hr->req);
	curl_easy_setopt(hr->easy, CURLOPT_POSTFIELDSIZE, (long)(5 + ml));
	curl_easy_setopt(hr->easy, CURLOPT_HTTP_VERSION, c->grpc_use_tls ?
	    (long)CURL_HTTP_VERSION_2TLS :
	    (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
	/* a connection per probe, as Consul's GrpcHealthProbe dials one */
	curl_easy_setopt(hr->easy, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(hr->easy, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(hr->easy, CURLOPT_HEADERFUNCTION, grpc_header);
	curl_easy_setopt(hr->easy, CURLOPT_HEADERDATA, hr);
	curl_easy_setopt(hr->easy, CURLOPT_HTTPHEADER, hr->hdrs);
	curl_easy_setopt(hr->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	return 0;
}

static void
http_done(struct http_run *hr, CURLcode res)
{
	struct chk *c = hr->c;
	struct checkd *cd = hr->cd;
	long code = 0;
	char *out = NULL;
	int status;

	if (c->type == CT_GRPC) {
		grpc_done(hr, res, &out, &status);
	} else if (res != CURLE_OK) {
		if (asprintf(&out, "HTTP %s %s: %s", c->method, c->http,
		    hr->errbuf[0] ? hr->errbuf : curl_easy_strerror(res)) < 0)
			out = NULL;
		status = CHECK_CRITICAL;
	} else {
		curl_easy_getinfo(hr->easy, CURLINFO_RESPONSE_CODE, &code);
		if (asprintf(&out, "HTTP %s %s: %ld %s Output: %s", c->method,
		    c->http, code, http_reason(code), hr->body) < 0)
			out = NULL;
		status = code >= 200 && code <= 299 ? CHECK_PASSING :
		    code == 429 ? CHECK_WARNING : CHECK_CRITICAL;
	}
	c->run = NULL;
	http_run_free(hr);
	run_result(cd, c, status, out);
}

static void
http_drain(void)
{
	CURLMsg *m;
	int left;
	struct http_run *hr;

	while ((m = curl_multi_info_read(http_multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		hr = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    (char **)&hr);
		if (hr != NULL)
			http_done(hr, m->data.result);
	}
}

int
check_http_init(struct checkd *cd)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return ERR_INTERNAL;
	if ((http_multi = curl_multi_init()) == NULL)
		return ERR_NOMEM;
	http_cd = cd;
	curl_multi_setopt(http_multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl_multi_setopt(http_multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	return 0;
}

int
check_http_start(struct checkd *cd, struct chk *c)
{
	struct http_run *hr;
	struct curl_slist *l;
	char *line;
	size_t i;
	bool has_ua = false;

	if (http_multi == NULL)
		return ERR_INTERNAL;
	if ((hr = calloc(1, sizeof(*hr))) == NULL)
		return ERR_NOMEM;
	hr->cd = cd;
	hr->c = c;
	if ((hr->easy = curl_easy_init()) == NULL) {
		free(hr);
		return ERR_NOMEM;
	}
	if (c->type == CT_GRPC) {
		int rc;
		curl_easy_setopt(hr->easy, CURLOPT_WRITEFUNCTION, http_write);
		curl_easy_setopt(hr->easy, CURLOPT_WRITEDATA, hr);
		curl_easy_setopt(hr->easy, CURLOPT_PRIVATE, hr);
		curl_easy_setopt(hr->easy, CURLOPT_ERRORBUFFER, hr->errbuf);
		curl_easy_setopt(hr->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(hr->easy, CURLOPT_TIMEOUT_MS,
		    (long)c->timeout_ms);
		if (c->tls_skip_verify) {
			curl_easy_setopt(hr->easy, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(hr->easy, CURLOPT_SSL_VERIFYHOST, 0L);
		}
		if ((rc = grpc_setup(hr, c)) != 0 ||
		    curl_multi_add_handle(http_multi, hr->easy) != CURLM_OK) {
			curl_easy_cleanup(hr->easy);
			curl_slist_free_all(hr->hdrs);
			free(hr->url);
			free(hr);
			return rc != 0 ? rc : ERR_INTERNAL;
		}
		c->run = hr;
		return 0;
	}
	for (i = 0; i < c->n_headers; i++) {
		if (strcasecmp(c->headers[i].k, "User-Agent") == 0)
			has_ua = true;
		if (asprintf(&line, "%s: %s", c->headers[i].k,
		    c->headers[i].v) < 0)
			continue;
		if ((l = curl_slist_append(hr->hdrs, line)) != NULL)
			hr->hdrs = l;
		free(line);
	}
	if (!has_ua && (l = curl_slist_append(hr->hdrs,
	    "User-Agent: Consul Health Check")) != NULL)
		hr->hdrs = l;
	if ((l = curl_slist_append(hr->hdrs, "Accept: text/plain, text/*, "
	    "*/*")) != NULL)
		hr->hdrs = l;
	curl_easy_setopt(hr->easy, CURLOPT_URL, c->http);
	curl_easy_setopt(hr->easy, CURLOPT_CUSTOMREQUEST, c->method);
	if (strcmp(c->method, "HEAD") == 0)
		curl_easy_setopt(hr->easy, CURLOPT_NOBODY, 1L);
	if (*c->body != '\0') {
		curl_easy_setopt(hr->easy, CURLOPT_POSTFIELDS, c->body);
		curl_easy_setopt(hr->easy, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(c->body));
	}
	curl_easy_setopt(hr->easy, CURLOPT_HTTPHEADER, hr->hdrs);
	curl_easy_setopt(hr->easy, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(hr->easy, CURLOPT_WRITEDATA, hr);
	curl_easy_setopt(hr->easy, CURLOPT_PRIVATE, hr);
	curl_easy_setopt(hr->easy, CURLOPT_ERRORBUFFER, hr->errbuf);
	curl_easy_setopt(hr->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(hr->easy, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(hr->easy, CURLOPT_FOLLOWLOCATION,
	    c->disable_redirects ? 0L : 1L);
	curl_easy_setopt(hr->easy, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(hr->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->tls_skip_verify) {
		curl_easy_setopt(hr->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(hr->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (curl_multi_add_handle(http_multi, hr->easy) != CURLM_OK) {
		curl_easy_cleanup(hr->easy);
		curl_slist_free_all(hr->hdrs);
		free(hr);
		return ERR_INTERNAL;
	}
	c->run = hr;
	return 0;
}

void
check_http_cancel(struct checkd *cd, struct chk *c)
{
	(void)cd;
	if (c->run != NULL)
		http_run_free(c->run);
	c->run = NULL;
}

void
check_http_fini(struct checkd *cd)
{
	(void)cd;
	if (http_timer != 0)
		loop_timer_cancel(http_cd->loop, http_timer);
	http_timer = 0;
	if (http_multi != NULL)
		curl_multi_cleanup(http_multi);
	http_multi = NULL;
	curl_global_cleanup();
}
