/*
 * ipc.c — request/reply and pub/sub between the roles of one node over nng
 * ipc:// sockets (ipc.h; DESIGN.md §3). The only file that includes nng for
 * node-local IPC.
 *
 * Key decisions:
 * - Server: a cooked REP socket with a pool of nng contexts, one per request
 *   in progress. A context that received a request is the ipc_req handed to
 *   the caller; ipc_reply() sends on it and its completion re-arms it to
 *   receive. The pool grows when fewer than IPC_SRV_RECV_LOW contexts are
 *   receiving, so held requests (blocking queries) never starve new ones.
 *   Raw REP was rejected: nng's xrep0 silently drops replies once a pipe's
 *   64-deep send queue is full, which a burst of answers to a pipelining
 *   client hits; the cooked context send waits instead.
 * - Client: a raw REQ socket. The client puts its own 32-bit request id
 *   (high bit set, as the SP REQ protocol requires) in the message header,
 *   keeps a table of calls, matches replies, and owns every retry decision:
 *   a call is (re)sent when a pipe is up, waits up to connect_wait_ms for
 *   one otherwise, and is re-sent byte for byte after a pipe drop.
 * - nng's threads never touch state: aio and pipe callbacks append to an
 *   inbox (mutex + array) and post it to the loop only when it was empty,
 *   so one post carries a whole burst of messages.
 * - Garbage from a peer (no SP header, wrong protocol, oversized frames) is
 *   handled inside nng, which drops the pipe; the server keeps serving.
 *
 * Reference: nng 1.5 reqrep0 (rep.c, xreq.c) and pipe notification docs;
 * SP request/reply protocol (sp-request-reply-01) for the id format.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "err.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "loop_internal.h"

#define IPC_MAX_MSG (64u << 20)   /* NNG_OPT_RECVMAXSZ, = PROTO_MAX_MSG */
/*
 * The largest payload: nng's limit counts the 4-byte SP request id too,
 * and an oversized frame makes the receiver drop the whole connection
 * (every call on it), so oversized payloads are refused before sending.
 */
#define IPC_MAX_PAYLOAD (IPC_MAX_MSG - 4)
#define IPC_SRV_RECV_INIT 32      /* contexts receiving at open */
#define IPC_SRV_RECV_LOW 8        /* grow the pool below this */
#define IPC_RECONN_MIN_MS 20
#define IPC_RECONN_MAX_MS 200
#define IPC_CONNECT_WAIT_MS 1000
#define IPC_SENDBUF 8192          /* nng's maximum */
#define IPC_SP_REQ 0x30           /* SP protocol ids (for the probe) */
#define IPC_SP_SUB 0x21

static int
ipc_err(int rv)
{
	switch (rv) {
	case 0:
		return 0;
	case NNG_ENOMEM:
		return ERR_NOMEM;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
		return ERR_INVAL;
	case NNG_EADDRINUSE:
		return ERR_EXISTS;
	case NNG_ECLOSED:
		return ERR_CLOSED;
	case NNG_ETIMEDOUT:
		return ERR_TIMEOUT;
	case NNG_ECONNREFUSED:
	case NNG_ECONNRESET:
	case NNG_ECONNSHUT:
		return ERR_UNAVAILABLE;
	case NNG_EPERM:
		return ERR_PERM;
	case NNG_EAGAIN:
		return ERR_AGAIN;
	case NNG_ENOTSUP:
		return ERR_UNSUPPORTED;
	case NNG_EMSGSIZE:
		return ERR_TOOBIG;
	case NNG_ECANCELED:
		return ERR_CANCELED;
	default:
		return ERR_IO;
	}
}

/*
 * Opens an nng socket with the signals a daemon handles through signalfd
 * blocked, so that the threads nng starts on first use inherit them
 * blocked: a SIGTERM must stay pending for the loop's signalfd instead of
 * hitting an nng thread and its default action.
 */
static int
ipc_sock_open(int (*open_fn)(nng_socket *), nng_socket *s)
{
	sigset_t set, old;
	int rv;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	rv = open_fn(s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rv;
}

/*
 * nng_close() with a deadline. nng 1.5.2 was seen to hang for ever in
 * nng_close() (about 1 run in 20 in tests/unit/test_ipc.c's conditions)
 * when a socket is closed while replies are still queued on a pipe; a
 * daemon's shutdown must not hang on that, so the close runs on its own
 * thread and the caller waits up to IPC_CLOSE_WAIT_MS. Returns false on
 * time-out: the socket is then abandoned, and so must be everything its
 * callbacks can reach.
 */
#define IPC_CLOSE_WAIT_MS 2000

struct ipc_closer {
	nng_socket sock;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	bool done;
	int refs;
};

static void
ipc_closer_rele(struct ipc_closer *cl)
{
	bool last;

	pthread_mutex_lock(&cl->mtx);
	last = --cl->refs == 0;
	pthread_mutex_unlock(&cl->mtx);
	if (last) {
		pthread_cond_destroy(&cl->cv);
		pthread_mutex_destroy(&cl->mtx);
		free(cl);
	}
}

static void *
ipc_closer_main(void *arg)
{
	struct ipc_closer *cl = arg;

	nng_close(cl->sock);
	pthread_mutex_lock(&cl->mtx);
	cl->done = true;
	pthread_cond_signal(&cl->cv);
	pthread_mutex_unlock(&cl->mtx);
	ipc_closer_rele(cl);
	return NULL;
}

static bool
ipc_close_bounded(nng_socket sock)
{
	struct ipc_closer *cl;
	struct timespec ts;
	pthread_attr_t attr;
	pthread_t th;
	sigset_t all, old;
	bool done;
	int rc;

	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		nng_close(sock);
		return true;
	}
	cl->sock = sock;
	cl->refs = 2;
	pthread_mutex_init(&cl->mtx, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cl->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&th, &attr, ipc_closer_main, cl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		free(cl);
		nng_close(sock);
		return true;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += IPC_CLOSE_WAIT_MS / 1000;
	pthread_mutex_lock(&cl->mtx);
	while (!cl->done)
		if (pthread_cond_timedwait(&cl->cv, &cl->mtx, &ts) != 0)
			break;
	done = cl->done;
	pthread_mutex_unlock(&cl->mtx);
	ipc_closer_rele(cl);
	if (!done)
		log_warnx("ipc: nng_close() did not return within %d ms "
		    "(nng 1.5.2); abandoning the socket", IPC_CLOSE_WAIT_MS);
	return done;
}

int
ipc_url(char *buf, size_t size, const char *runtime_dir, const char *name)
{
	struct sockaddr_un sun;
	int n;

	n = snprintf(buf, size, "ipc://%s/%s", runtime_dir, name);
	if (n < 0 || (size_t)n >= size)
		return ERR_TOOBIG;
	if ((size_t)n - 6 >= sizeof(sun.sun_path))
		return ERR_TOOBIG;
	return 0;
}

/* ---- inbox: the hand-off from nng threads to the loop ---- */

enum ipc_item_kind {
	IPC_ITEM_MSG = 1,
	IPC_ITEM_PIPE_ADD,
	IPC_ITEM_PIPE_REM,
	IPC_ITEM_SEND_DONE,
};

struct ipc_item {
	int kind;
	int rv;
	void *ptr;
	nng_msg *msg;
	uint32_t pipe;
};

typedef void (*ipc_item_fn)(void *owner, struct ipc_item *it);

struct ipc_inbox {
	pthread_mutex_t mtx;
	struct ipc_item *v; /* guarded by mtx */
	size_t n, cap;
	bool posted;        /* a drain is queued on the loop */
	bool closed;
	bool draining;      /* loop thread only */
	struct ipc_item *spare;
	size_t spare_cap;
	struct loop *loop;
	ipc_item_fn fn;
	void *owner;
};

static struct ipc_inbox *
ipc_inbox_new(struct loop *l, ipc_item_fn fn, void *owner)
{
	struct ipc_inbox *ib;

	if ((ib = calloc(1, sizeof(*ib))) == NULL)
		return NULL;
	pthread_mutex_init(&ib->mtx, NULL);
	ib->loop = l;
	ib->fn = fn;
	ib->owner = owner;
	return ib;
}

static void
ipc_inbox_free(struct ipc_inbox *ib)
{
	size_t i;

	for (i = 0; i < ib->n; i++)
		if (ib->v[i].msg != NULL)
			nng_msg_free(ib->v[i].msg);
	free(ib->v);
	free(ib->spare);
	pthread_mutex_destroy(&ib->mtx);
	free(ib);
}

static void ipc_inbox_drain(void *arg);

/* Any thread. Takes ownership of it->msg (freed if it cannot be queued). */
static void
ipc_inbox_push(struct ipc_inbox *ib, const struct ipc_item *it)
{
	pthread_mutex_lock(&ib->mtx);
	if (ib->closed)
		goto drop;
	if (ib->n == ib->cap) {
		size_t ncap = ib->cap ? ib->cap * 2 : 64;
		struct ipc_item *nv = realloc(ib->v, ncap * sizeof(*nv));

		if (nv == NULL)
			goto drop;
		ib->v = nv;
		ib->cap = ncap;
	}
	ib->v[ib->n++] = *it;
	/*
	 * Posted under the inbox lock so that ipc_inbox_close() (which
	 * cancels the post under the same lock) never races with it. Lock
	 * order: inbox, then the loop's post queue.
	 */
	if (!ib->posted && loop_post(ib->loop, ipc_inbox_drain, ib) == 0)
		ib->posted = true; /* else the next push posts again */
	pthread_mutex_unlock(&ib->mtx);
	return;
drop:
	pthread_mutex_unlock(&ib->mtx);
	if (it->msg != NULL)
		nng_msg_free(it->msg);
}

static void
ipc_inbox_drain(void *arg)
{
	struct ipc_inbox *ib = arg;
	struct ipc_item *items;
	size_t n, cap, i;
	bool free_now;

	pthread_mutex_lock(&ib->mtx);
	items = ib->v;
	n = ib->n;
	cap = ib->cap;
	ib->v = ib->spare;
	ib->cap = ib->spare_cap;
	ib->n = 0;
	ib->spare = NULL;
	ib->spare_cap = 0;
	ib->posted = false;
	pthread_mutex_unlock(&ib->mtx);

	ib->draining = true;
	for (i = 0; i < n; i++) {
		if (ib->closed) {
			if (items[i].msg != NULL)
				nng_msg_free(items[i].msg);
			continue;
		}
		ib->fn(ib->owner, &items[i]);
	}
	ib->draining = false;
	ib->spare = items;
	ib->spare_cap = cap;

	pthread_mutex_lock(&ib->mtx);
	free_now = ib->closed && !ib->posted;
	pthread_mutex_unlock(&ib->mtx);
	if (free_now)
		ipc_inbox_free(ib);
}

/* Loop thread, after nng can no longer push (or pushes are refused). */
static void
ipc_inbox_close(struct ipc_inbox *ib)
{
	bool free_now;

	if (ib == NULL)
		return;
	pthread_mutex_lock(&ib->mtx);
	ib->closed = true;
	if (ib->posted && loop_post_cancel(ib->loop, ipc_inbox_drain, ib) > 0)
		ib->posted = false;
	free_now = !ib->posted && !ib->draining;
	pthread_mutex_unlock(&ib->mtx);
	if (free_now)
		ipc_inbox_free(ib);
}

/* The inbox of an abandoned socket: refuses pushes, is never freed. */
static void
ipc_inbox_abandon(struct ipc_inbox *ib)
{
	pthread_mutex_lock(&ib->mtx);
	ib->closed = true;
	if (ib->posted && loop_post_cancel(ib->loop, ipc_inbox_drain, ib) > 0)
		ib->posted = false;
	pthread_mutex_unlock(&ib->mtx);
}


/* ---- listening and dialing ---- */

/*
 * A socket file nobody accepts on is stale (its server died): remove it.
 * A live one means another server owns the name: ERR_EXISTS.
 */
static int
ipc_remove_stale(const char *url)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	const char *path;
	int fd, rc = 0;

	if (strncmp(url, "ipc://", 6) != 0)
		return 0;
	path = url + 6;
	if (strlen(path) >= sizeof(sun.sun_path))
		return ERR_TOOBIG;
	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : err_from_errno(errno);
	if (!S_ISSOCK(st.st_mode))
		return ERR_EXISTS;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return err_from_errno(errno);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		rc = ERR_EXISTS;
	else if (errno == ECONNREFUSED && unlink(path) == -1 &&
	    errno != ENOENT)
		rc = err_from_errno(errno);
	close(fd);
	return rc;
}

static int
ipc_listen_nng(nng_socket sock, const char *url, nng_listener *out)
{
	nng_listener lst;
	int rv;

	if ((rv = nng_listener_create(&lst, sock, url)) != 0)
		return ipc_err(rv);
	if (strncmp(url, "ipc://", 6) == 0 &&
	    (rv = nng_listener_set_int(lst, NNG_OPT_IPC_PERMISSIONS, 0600)) != 0)
		goto fail;
	if ((rv = nng_listener_set_size(lst, NNG_OPT_RECVMAXSZ,
	    IPC_MAX_MSG)) != 0)
		goto fail;
	if ((rv = nng_listener_start(lst, 0)) != 0)
		goto fail;
	*out = lst;
	return 0;
fail:
	nng_listener_close(lst);
	return ipc_err(rv);
}

/*
 * A listener and its liveness probe. nng 1.5.2 (Debian 12) stops accepting
 * handing new pipes to its socket once a peer disconnects during the SP
 * handshake (nng issue #1518, fixed in 1.6): the transport still accepts and
 * answers the handshake, so new clients believe they are connected, but no
 * request of theirs is ever delivered. One stray `nc -U` would cut a role
 * off from every new client. So every IPC_PROBE_INTERVAL_MS the loop
 * connects to its own socket and speaks the SP header of the socket's peer
 * protocol; unless the handshake completes and the socket reports a pipe
 * added (NNG_PIPE_EV_ADD_POST) within IPC_PROBE_TIMEOUT_MS, twice in a row
 * (so one slow moment on a loaded machine does not count), the listener is
 * wedged: it is closed, which also drops the pipes it accepted (healthy
 * clients reconnect within IPC_RECONN_MIN_MS and re-send their calls; the
 * half-open ones learn they were never connected), and a new listener is
 * bound on the same path.
 */
#define IPC_PROBE_INTERVAL_MS 1000
#define IPC_PROBE_TIMEOUT_MS 1000
#define IPC_PROBE_FAILS 2 /* consecutive failures before a restart */

struct ipc_listener {
	struct loop *loop;
	nng_socket sock;
	nng_listener lst;
	char url[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	uint16_t peer_proto; /* SP protocol id the probe speaks */
	atomic_uint added;   /* pipes added to the socket (nng threads) */
	unsigned added_at_start;
	int fd;
	size_t rxn;
	uint64_t timer;
	uint32_t fails;      /* consecutive failed probes */
	uint32_t restarts;
};

static void ipc_probe_start(struct loop *l, void *arg);

static void
ipc_probe_end(struct ipc_listener *il, bool again)
{
	if (il->fd != -1) {
		loop_del_fd(il->loop, il->fd);
		close(il->fd);
		il->fd = -1;
	}
	loop_timer_cancel(il->loop, il->timer);
	il->timer = again ? loop_timer_add(il->loop, IPC_PROBE_INTERVAL_MS,
	    ipc_probe_start, il) : 0;
}

static void
ipc_listener_restart(struct ipc_listener *il)
{
	const char *path = il->url + 6;
	nng_listener nl;
	struct stat st;
	int rc;

	il->restarts++;
	log_warnx("ipc: listener on %s stopped accepting (nng bug #1518 after "
	    "a peer broke off its handshake); binding a new one", path);
	nng_listener_close(il->lst);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if ((rc = ipc_listen_nng(il->sock, il->url, &nl)) != 0) {
		log_warnx("ipc: cannot listen again on %s: %s", path,
		    err_str(rc));
		return;
	}
	il->lst = nl;
}

static void
ipc_probe_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct ipc_listener *il = arg;

	atomic_fetch_add(&il->added, 1);
}

static void
ipc_probe_timeout(struct loop *l, void *arg)
{
	struct ipc_listener *il = arg;
	bool ok;

	il->timer = 0;
	/* no early close: breaking off our own handshake is the trigger */
	ok = il->rxn == 8 && atomic_load(&il->added) != il->added_at_start;
	if (ok) {
		il->fails = 0;
		ipc_probe_end(il, true);
		return;
	}
	/* a loaded machine may be slow once: restart on a second failure */
	ipc_probe_end(il, false);
	if (++il->fails >= IPC_PROBE_FAILS) {
		il->fails = 0;
		ipc_listener_restart(il);
	}
	il->timer = loop_timer_add(l, 0, ipc_probe_start, il);
}

static void
ipc_probe_io(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct ipc_listener *il = arg;
	uint8_t buf[8];
	ssize_t n;

	n = read(fd, buf, sizeof(buf) - il->rxn);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		il->rxn += (size_t)n;
		if (il->rxn < sizeof(buf))
			return;
	}
	/* the header is in (or the peer closed): wait for the timer */
	loop_del_fd(l, fd);
}

static void
ipc_probe_start(struct loop *l, void *arg)
{
	struct ipc_listener *il = arg;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	uint8_t hdr[8] = { 0, 'S', 'P', 0, 0, 0, 0, 0 };

	il->timer = 0;
	il->rxn = 0;
	il->added_at_start = atomic_load(&il->added);
	hdr[4] = (uint8_t)(il->peer_proto >> 8);
	hdr[5] = (uint8_t)il->peer_proto;
	memcpy(sun.sun_path, il->url + 6, strlen(il->url + 6) + 1);
	il->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (il->fd == -1) {
		ipc_probe_end(il, true);
		return;
	}
	if (connect(il->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		/* the socket file is gone or nobody listens on it: rebind */
		bool gone = errno == ENOENT || errno == ECONNREFUSED;

		ipc_probe_end(il, true);
		if (gone || ++il->fails >= IPC_PROBE_FAILS) {
			il->fails = 0;
			ipc_listener_restart(il);
		}
		return;
	}
	if (write(il->fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    loop_add_fd(l, il->fd, LOOP_READ, ipc_probe_io, il) != 0) {
		ipc_probe_end(il, true);
		return;
	}
	il->timer = loop_timer_add(l, IPC_PROBE_TIMEOUT_MS, ipc_probe_timeout,
	    il);
}

static int
ipc_listener_open(struct loop *l, nng_socket sock, const char *url,
    uint16_t peer_proto, struct ipc_listener **out)
{
	struct ipc_listener *il;
	int rc;

	*out = NULL;
	if (strlen(url) >= sizeof(il->url))
		return ERR_TOOBIG;
	if ((rc = ipc_remove_stale(url)) != 0)
		return rc;
	if ((il = calloc(1, sizeof(*il))) == NULL)
		return ERR_NOMEM;
	il->loop = l;
	il->sock = sock;
	il->fd = -1;
	il->peer_proto = peer_proto;
	memcpy(il->url, url, strlen(url) + 1);
	atomic_init(&il->added, 0);
	if ((rc = nng_pipe_notify(sock, NNG_PIPE_EV_ADD_POST,
	    ipc_probe_pipe_cb, il)) != 0) {
		free(il);
		return ipc_err(rc);
	}
	if ((rc = ipc_listen_nng(sock, url, &il->lst)) != 0) {
		free(il);
		return rc;
	}
	if (strncmp(url, "ipc://", 6) == 0)
		il->timer = loop_timer_add(l, IPC_PROBE_INTERVAL_MS,
		    ipc_probe_start, il);
	*out = il;
	return 0;
}

/* Stops the probe; il stays valid (for an abandoned socket's callback). */
static void
ipc_listener_stop(struct ipc_listener *il)
{
	if (il != NULL)
		ipc_probe_end(il, false);
}

/* Stops the probe; call after nng_close() (the pipe callback uses il). */
static void
ipc_listener_free(struct ipc_listener *il)
{
	if (il == NULL)
		return;
	ipc_probe_end(il, false);
	free(il);
}

static int
ipc_dial(nng_socket sock, const char *url)
{
	nng_dialer d;
	int rv;

	if ((rv = nng_dialer_create(&d, sock, url)) != 0)
		return ipc_err(rv);
	if ((rv = nng_dialer_set_ms(d, NNG_OPT_RECONNMINT,
	    IPC_RECONN_MIN_MS)) != 0 ||
	    (rv = nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT,
	    IPC_RECONN_MAX_MS)) != 0 ||
	    (rv = nng_dialer_set_size(d, NNG_OPT_RECVMAXSZ, IPC_MAX_MSG)) != 0 ||
	    (rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
		nng_dialer_close(d);
		return ipc_err(rv);
	}
	return 0;
}

static nng_msg *
ipc_msg_new(const uint8_t *data, size_t len)
{
	nng_msg *m;

	if (nng_msg_alloc(&m, len) != 0)
		return NULL;
	if (len > 0)
		memcpy(nng_msg_body(m), data, len);
	return m;
}

/* ---- server ---- */

enum ipc_ctx_state {
	IPC_CTX_RECV = 1,
	IPC_CTX_HELD,
	IPC_CTX_SEND,
};

/* One nng context; while IPC_CTX_HELD it is the caller's request. */
struct ipc_req {
	struct ipc_server *srv;
	nng_ctx ctx;
	nng_aio *aio;
	nng_msg *msg;   /* the held request (loop thread) */
	uint64_t peer;
	int state;
	struct ipc_req *next; /* srv->all */
};

struct ipc_server {
	struct loop *loop;
	nng_socket sock;
	ipc_request_cb cb;
	void *arg;
	struct ipc_inbox *inbox;
	struct ipc_req *all;
	size_t nctx;
	atomic_int nrecv; /* contexts with a receive pending */
	atomic_bool closing; /* callbacks stop re-arming */
	pthread_mutex_t arm_mtx; /* orders re-arming against nng_close() */
	struct ipc_listener *lst;
};

/*
 * Any thread. An operation submitted while nng_close() runs can outlive
 * it and crash nng_aio_free() (nng 1.5.2), so re-arming holds arm_mtx and
 * ipc_server_close() sets closing under it before closing.
 */
static void
ipc_srv_arm(struct ipc_req *r)
{
	struct ipc_server *srv = r->srv;

	pthread_mutex_lock(&srv->arm_mtx);
	if (!atomic_load(&srv->closing)) {
		r->state = IPC_CTX_RECV;
		atomic_fetch_add(&srv->nrecv, 1);
		nng_ctx_recv(r->ctx, r->aio);
	}
	pthread_mutex_unlock(&srv->arm_mtx);
}

/* nng thread */
static void
ipc_srv_ctx_cb(void *arg)
{
	struct ipc_req *r = arg;
	struct ipc_item it = { .kind = IPC_ITEM_MSG };
	int rv = nng_aio_result(r->aio);

	if (r->state == IPC_CTX_SEND) {
		if (rv != 0) {
			nng_msg *m = nng_aio_get_msg(r->aio);

			nng_aio_set_msg(r->aio, NULL);
			if (m != NULL)
				nng_msg_free(m);
			if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
				return;
		}
		ipc_srv_arm(r);
		return;
	}
	atomic_fetch_sub(&r->srv->nrecv, 1);
	if (rv != 0) {
		if (rv != NNG_ECLOSED && rv != NNG_ECANCELED)
			ipc_srv_arm(r);
		return;
	}
	r->state = IPC_CTX_HELD;
	it.ptr = r;
	it.msg = nng_aio_get_msg(r->aio);
	nng_aio_set_msg(r->aio, NULL);
	ipc_inbox_push(r->srv->inbox, &it);
}

static int
ipc_srv_spawn(struct ipc_server *srv)
{
	struct ipc_req *r;
	int rv;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ERR_NOMEM;
	r->srv = srv;
	if ((rv = nng_ctx_open(&r->ctx, srv->sock)) != 0) {
		free(r);
		return ipc_err(rv);
	}
	if ((rv = nng_aio_alloc(&r->aio, ipc_srv_ctx_cb, r)) != 0) {
		nng_ctx_close(r->ctx);
		free(r);
		return ipc_err(rv);
	}
	r->next = srv->all;
	srv->all = r;
	srv->nctx++;
	ipc_srv_arm(r);
	return 0;
}

/* Loop thread: a received request. */
static void
ipc_srv_item(void *owner, struct ipc_item *it)
{
	struct ipc_server *srv = owner;
	struct ipc_req *r = it->ptr;
	int n;

	r->msg = it->msg;
	r->peer = nng_pipe_id(nng_msg_get_pipe(r->msg));
	n = atomic_load(&srv->nrecv);
	for (; n < IPC_SRV_RECV_LOW; n++)
		if (ipc_srv_spawn(srv) != 0) {
			log_warnx("ipc: cannot grow the server context pool "
			    "(%zu contexts)", srv->nctx);
			break;
		}
	srv->cb(srv, r, nng_msg_body(r->msg), nng_msg_len(r->msg), srv->arg);
}

int
ipc_server_open(struct loop *l, const char *url, ipc_request_cb cb,
    void *arg, struct ipc_server **out)
{
	struct ipc_server *srv;
	int rv, rc, i;

	*out = NULL;
	if (cb == NULL || url == NULL)
		return ERR_INVAL;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return ERR_NOMEM;
	srv->loop = l;
	srv->cb = cb;
	srv->arg = arg;
	pthread_mutex_init(&srv->arm_mtx, NULL);
	atomic_init(&srv->nrecv, 0);
	if ((srv->inbox = ipc_inbox_new(l, ipc_srv_item, srv)) == NULL) {
		free(srv);
		return ERR_NOMEM;
	}
	if ((rv = ipc_sock_open(nng_rep0_open, &srv->sock)) != 0) {
		ipc_inbox_close(srv->inbox);
		free(srv);
		return ipc_err(rv);
	}
	nng_socket_set_size(srv->sock, NNG_OPT_RECVMAXSZ, IPC_MAX_MSG);
	for (i = 0; i < IPC_SRV_RECV_INIT; i++)
		if ((rc = ipc_srv_spawn(srv)) != 0)
			goto fail;
	if ((rc = ipc_listener_open(l, srv->sock, url, IPC_SP_REQ,
	    &srv->lst)) != 0)
		goto fail;
	*out = srv;
	return 0;
fail:
	ipc_server_close(srv);
	return rc;
}

void
ipc_server_close(struct ipc_server *srv)
{
	struct ipc_req *r, *next;

	if (srv == NULL)
		return;
	/*
	 * nng 1.5.2 is fragile here: stopping aios before nng_close() can hang
	 * it, and an aio re-armed by its callback while nng_close() runs can
	 * corrupt it. So: callbacks stop re-arming, then close (which
	 * finishes every pending operation), then stop and free the aios.
	 */
	pthread_mutex_lock(&srv->arm_mtx);
	atomic_store(&srv->closing, true);
	pthread_mutex_unlock(&srv->arm_mtx);
	if (!ipc_close_bounded(srv->sock)) {
		/* nng may still call into srv, its contexts and inbox: leak */
		ipc_listener_stop(srv->lst);
		ipc_inbox_abandon(srv->inbox);
		return;
	}
	ipc_listener_free(srv->lst);
	for (r = srv->all; r != NULL; r = next) {
		next = r->next;
		nng_aio_free(r->aio); /* waits for a running callback */
		if (r->msg != NULL)
			nng_msg_free(r->msg);
		free(r);
	}
	ipc_inbox_close(srv->inbox);
	pthread_mutex_destroy(&srv->arm_mtx);
	free(srv);
}

/*
 * Frees the held request message and hands the context back to nng. On
 * allocation failure the request is dropped (still finished exactly once).
 */
int
ipc_reply(struct ipc_req *req, const uint8_t *data, size_t len)
{
	nng_msg *m;

	if (req->state != IPC_CTX_HELD)
		return ERR_INVAL;
	if (len > IPC_MAX_PAYLOAD || (m = ipc_msg_new(data, len)) == NULL) {
		ipc_req_drop(req);
		return len > IPC_MAX_PAYLOAD ? ERR_TOOBIG : ERR_NOMEM;
	}
	nng_msg_free(req->msg);
	req->msg = NULL;
	req->state = IPC_CTX_SEND;
	nng_aio_set_msg(req->aio, m);
	nng_ctx_send(req->ctx, req->aio);
	return 0;
}

void
ipc_req_drop(struct ipc_req *req)
{
	if (req == NULL || req->state != IPC_CTX_HELD)
		return;
	nng_msg_free(req->msg);
	req->msg = NULL;
	ipc_srv_arm(req);
}

uint64_t
ipc_req_peer(const struct ipc_req *req)
{
	return req->peer;
}

/* ---- client ---- */

struct ipc_call {
	struct ipc_client *c;
	uint64_t id;
	uint32_t wire;     /* request id in the header, high bit set */
	nng_msg *tmpl;     /* header + body, duplicated for each send */
	ipc_reply_cb cb;
	void *arg;
	uint64_t deadline;   /* loop ms */
	uint64_t wait_until; /* waiting for a connection until (0 = no) */
	uint64_t timer;
	bool sent;           /* on the current connection */
	struct ipc_call *hnext;
	struct ipc_call *prev, *next; /* c->calls, in call order */
};

struct ipc_client {
	struct loop *loop;
	nng_socket sock;
	struct ipc_inbox *inbox;
	nng_aio *raio;
	nng_aio *saio;      /* overflow sends, when nng's queue is full */
	bool saio_busy;
	nng_msg **outq;     /* overflow FIFO (loop thread) */
	size_t outq_head, outq_n, outq_cap;
	uint32_t connect_wait_ms;
	uint32_t *pipes;    /* pipe ids up */
	size_t npipes, cap_pipes;
	struct ipc_call *head, *tail; /* every pending call, oldest first */
	struct ipc_call **tab; /* chained hash on wire id */
	size_t tab_size, ncalls;
	uint64_t next_id;
	bool closing;
	atomic_bool stopping; /* nng callbacks stop re-arming */
	pthread_mutex_t arm_mtx; /* as in struct ipc_server */
};

static struct ipc_call **
ipc_tab_slot(struct ipc_client *c, uint32_t wire)
{
	struct ipc_call **pp = &c->tab[(wire * 2654435761u) &
	    (c->tab_size - 1)];

	while (*pp != NULL && (*pp)->wire != wire)
		pp = &(*pp)->hnext;
	return pp;
}

static int
ipc_tab_grow(struct ipc_client *c)
{
	size_t n = c->tab_size * 2, i;
	struct ipc_call **nt, **old = c->tab, *call, *next;
	size_t old_size = c->tab_size;

	if ((nt = calloc(n, sizeof(*nt))) == NULL)
		return ERR_NOMEM;
	c->tab = nt;
	c->tab_size = n;
	for (i = 0; i < old_size; i++)
		for (call = old[i]; call != NULL; call = next) {
			next = call->hnext;
			call->hnext = NULL;
			*ipc_tab_slot(c, call->wire) = call;
		}
	free(old);
	return 0;
}

static void
ipc_tab_remove(struct ipc_client *c, struct ipc_call *call)
{
	struct ipc_call **pp = ipc_tab_slot(c, call->wire);

	if (*pp != call)
		return;
	*pp = call->hnext;
	c->ncalls--;
	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		c->head = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	else
		c->tail = call->prev;
}

static void
ipc_call_free(struct ipc_call *call)
{
	nng_msg_free(call->tmpl);
	free(call);
}

/* Removes the call, then runs its callback; the call is gone after. */
static void
ipc_call_finish(struct ipc_client *c, struct ipc_call *call, int err,
    const uint8_t *data, size_t len)
{
	ipc_tab_remove(c, call);
	loop_timer_cancel(c->loop, call->timer);
	call->cb(call->arg, err, data, len);
	ipc_call_free(call);
}

static void
ipc_call_timer_cb(struct loop *l, void *arg)
{
	struct ipc_call *call = arg;
	struct ipc_client *c = call->c;
	int err = ERR_TIMEOUT;

	call->timer = 0;
	if (!call->sent && call->wait_until != 0 &&
	    call->wait_until < call->deadline)
		err = ERR_UNAVAILABLE;
	ipc_call_finish(c, call, err, NULL, 0);
}

static void
ipc_call_schedule(struct ipc_client *c, struct ipc_call *call)
{
	uint64_t now = loop_now_ms(c->loop), when = call->deadline;

	if (call->wait_until != 0 && call->wait_until < when)
		when = call->wait_until;
	loop_timer_cancel(c->loop, call->timer);
	call->timer = loop_timer_add(c->loop, when > now ? when - now : 0,
	    ipc_call_timer_cb, call);
}

static void
ipc_outq_flush(struct ipc_client *c)
{
	while (c->outq_n > 0 && !c->saio_busy) {
		nng_msg *m = c->outq[c->outq_head];
		int rv;

		rv = nng_sendmsg(c->sock, m, NNG_FLAG_NONBLOCK);
		if (rv == NNG_EAGAIN) {
			/* nng's queue is full: wait for room with an aio */
			c->saio_busy = true;
			nng_aio_set_msg(c->saio, m);
			nng_send_aio(c->sock, c->saio);
		} else if (rv != 0) {
			nng_msg_free(m); /* the call will time out */
		}
		c->outq_head = (c->outq_head + 1) & (c->outq_cap - 1);
		c->outq_n--;
	}
}

static int
ipc_outq_push(struct ipc_client *c, nng_msg *m)
{
	if (c->outq_n == c->outq_cap) {
		size_t ncap = c->outq_cap ? c->outq_cap * 2 : 64, i;
		nng_msg **nq = malloc(ncap * sizeof(*nq));

		if (nq == NULL)
			return ERR_NOMEM;
		for (i = 0; i < c->outq_n; i++)
			nq[i] = c->outq[(c->outq_head + i) & (c->outq_cap - 1)];
		free(c->outq);
		c->outq = nq;
		c->outq_cap = ncap;
		c->outq_head = 0;
	}
	c->outq[(c->outq_head + c->outq_n) & (c->outq_cap - 1)] = m;
	c->outq_n++;
	return 0;
}

static void
ipc_outq_clear(struct ipc_client *c)
{
	while (c->outq_n > 0) {
		nng_msg_free(c->outq[c->outq_head]);
		c->outq_head = (c->outq_head + 1) & (c->outq_cap - 1);
		c->outq_n--;
	}
}

/* Sends a copy of the call's message; on failure the call just waits. */
static void
ipc_call_send(struct ipc_client *c, struct ipc_call *call)
{
	nng_msg *m;
	int rv;

	call->sent = true;
	call->wait_until = 0;
	if (nng_msg_dup(&m, call->tmpl) != 0)
		return;
	if (c->outq_n == 0 && !c->saio_busy) {
		rv = nng_sendmsg(c->sock, m, NNG_FLAG_NONBLOCK);
		if (rv == 0)
			return;
		if (rv != NNG_EAGAIN) {
			nng_msg_free(m);
			return;
		}
	}
	if (ipc_outq_push(c, m) != 0)
		nng_msg_free(m);
	ipc_outq_flush(c);
}

static void
ipc_cli_pipe_add(struct ipc_client *c, uint32_t pipe)
{
	struct ipc_call *call;
	size_t i;

	for (i = 0; i < c->npipes; i++)
		if (c->pipes[i] == pipe)
			return;
	if (c->npipes == c->cap_pipes) {
		size_t ncap = c->cap_pipes ? c->cap_pipes * 2 : 4;
		uint32_t *np = realloc(c->pipes, ncap * sizeof(*np));

		if (np == NULL)
			return;
		c->pipes = np;
		c->cap_pipes = ncap;
	}
	c->pipes[c->npipes++] = pipe;
	if (c->npipes > 1)
		return;
	/* connected: send everything waiting, oldest first */
	for (call = c->head; call != NULL; call = call->next)
		if (!call->sent) {
			ipc_call_send(c, call);
			ipc_call_schedule(c, call);
		}
}

static void
ipc_cli_pipe_rem(struct ipc_client *c, uint32_t pipe)
{
	struct ipc_call *call;
	uint64_t wait_until;
	size_t i;

	for (i = 0; i < c->npipes; i++)
		if (c->pipes[i] == pipe)
			break;
	if (i == c->npipes)
		return;
	c->pipes[i] = c->pipes[--c->npipes];
	/*
	 * Raw REQ does not say which pipe carried a call, so every call in
	 * flight may be lost with this one: re-send them all now if another
	 * pipe is up (the new connection's ADD can be reported before the old
	 * one's REM), else once a pipe is back. A duplicate is harmless: the
	 * server deduplicates writes and a second reply finds no call.
	 */
	if (c->npipes > 0) {
		for (call = c->head; call != NULL; call = call->next)
			if (call->sent)
				ipc_call_send(c, call);
		return;
	}
	ipc_outq_clear(c);
	wait_until = loop_now_ms(c->loop) + c->connect_wait_ms;
	for (call = c->head; call != NULL; call = call->next)
		if (call->sent) {
			call->sent = false;
			call->wait_until = wait_until;
			ipc_call_schedule(c, call);
		}
}

static void
ipc_cli_reply(struct ipc_client *c, nng_msg *m)
{
	struct ipc_call *call;
	uint32_t wire;

	if (nng_msg_header_len(m) != 4 ||
	    nng_msg_header_trim_u32(m, &wire) != 0) {
		nng_msg_free(m);
		return;
	}
	call = *ipc_tab_slot(c, wire);
	if (call == NULL) { /* late: timed out, canceled or a duplicate */
		nng_msg_free(m);
		return;
	}
	ipc_call_finish(c, call, 0, nng_msg_body(m), nng_msg_len(m));
	nng_msg_free(m);
}

static void
ipc_cli_item(void *owner, struct ipc_item *it)
{
	struct ipc_client *c = owner;

	switch (it->kind) {
	case IPC_ITEM_MSG:
		ipc_cli_reply(c, it->msg);
		break;
	case IPC_ITEM_PIPE_ADD:
		ipc_cli_pipe_add(c, it->pipe);
		break;
	case IPC_ITEM_PIPE_REM:
		ipc_cli_pipe_rem(c, it->pipe);
		break;
	case IPC_ITEM_SEND_DONE:
		c->saio_busy = false;
		if (it->msg != NULL)
			nng_msg_free(it->msg);
		ipc_outq_flush(c);
		break;
	}
}

/* nng threads */
static void
ipc_cli_recv_cb(void *arg)
{
	struct ipc_client *c = arg;
	struct ipc_item it = { .kind = IPC_ITEM_MSG };
	int rv = nng_aio_result(c->raio);

	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		return;
	if (rv == 0) {
		it.msg = nng_aio_get_msg(c->raio);
		nng_aio_set_msg(c->raio, NULL);
		ipc_inbox_push(c->inbox, &it);
	}
	pthread_mutex_lock(&c->arm_mtx);
	if (!atomic_load(&c->stopping))
		nng_recv_aio(c->sock, c->raio);
	pthread_mutex_unlock(&c->arm_mtx);
}

static void
ipc_cli_send_cb(void *arg)
{
	struct ipc_client *c = arg;
	struct ipc_item it = { .kind = IPC_ITEM_SEND_DONE };

	it.rv = nng_aio_result(c->saio);
	if (it.rv != 0) {
		it.msg = nng_aio_get_msg(c->saio);
		nng_aio_set_msg(c->saio, NULL);
	}
	ipc_inbox_push(c->inbox, &it);
}

static void
ipc_cli_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct ipc_client *c = arg;
	struct ipc_item it = { 0 };

	it.kind = ev == NNG_PIPE_EV_ADD_POST ? IPC_ITEM_PIPE_ADD :
	    IPC_ITEM_PIPE_REM;
	it.pipe = (uint32_t)nng_pipe_id(p);
	ipc_inbox_push(c->inbox, &it);
}

int
ipc_client_open(struct loop *l, const char *url, struct ipc_client **out)
{
	struct ipc_client *c;
	int rv, rc;

	*out = NULL;
	if (url == NULL)
		return ERR_INVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ERR_NOMEM;
	c->loop = l;
	pthread_mutex_init(&c->arm_mtx, NULL);
	c->connect_wait_ms = IPC_CONNECT_WAIT_MS;
	c->tab_size = 256;
	c->next_id = 1;
	if ((c->tab = calloc(c->tab_size, sizeof(*c->tab))) == NULL ||
	    (c->inbox = ipc_inbox_new(l, ipc_cli_item, c)) == NULL) {
		free(c->tab);
		free(c);
		return ERR_NOMEM;
	}
	if ((rv = ipc_sock_open(nng_req0_open_raw, &c->sock)) != 0) {
		ipc_inbox_close(c->inbox);
		free(c->tab);
		free(c);
		return ipc_err(rv);
	}
	if ((rv = nng_aio_alloc(&c->raio, ipc_cli_recv_cb, c)) != 0 ||
	    (rv = nng_aio_alloc(&c->saio, ipc_cli_send_cb, c)) != 0 ||
	    (rv = nng_socket_set_int(c->sock, NNG_OPT_SENDBUF,
	    IPC_SENDBUF)) != 0 ||
	    (rv = nng_socket_set_int(c->sock, NNG_OPT_RECVBUF,
	    IPC_SENDBUF)) != 0 ||
	    (rv = nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ,
	    IPC_MAX_MSG)) != 0 ||
	    (rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST,
	    ipc_cli_pipe_cb, c)) != 0 ||
	    (rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST,
	    ipc_cli_pipe_cb, c)) != 0) {
		rc = ipc_err(rv);
		goto fail;
	}
	nng_recv_aio(c->sock, c->raio);
	if ((rc = ipc_dial(c->sock, url)) != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	ipc_client_close(c);
	return rc;
}

void
ipc_client_close(struct ipc_client *c)
{
	struct ipc_call *call;

	if (c == NULL || c->closing)
		return;
	c->closing = true;
	/* the order of ipc_server_close(), for the same nng reasons */
	pthread_mutex_lock(&c->arm_mtx);
	atomic_store(&c->stopping, true);
	pthread_mutex_unlock(&c->arm_mtx);
	if (!ipc_close_bounded(c->sock)) {
		/* nng may still call into c and its inbox: leak them */
		ipc_inbox_abandon(c->inbox);
		while ((call = c->head) != NULL)
			ipc_call_finish(c, call, ERR_CANCELED, NULL, 0);
		return;
	}
	if (c->raio != NULL)
		nng_aio_free(c->raio);
	if (c->saio != NULL) {
		nng_msg *m;

		nng_aio_stop(c->saio);
		if (c->saio_busy && (m = nng_aio_get_msg(c->saio)) != NULL)
			nng_msg_free(m);
		nng_aio_free(c->saio);
	}
	ipc_outq_clear(c);
	free(c->outq);
	while ((call = c->head) != NULL)
		ipc_call_finish(c, call, ERR_CANCELED, NULL, 0);
	ipc_inbox_close(c->inbox);
	free(c->tab);
	free(c->pipes);
	pthread_mutex_destroy(&c->arm_mtx);
	free(c);
}

void
ipc_client_set_connect_wait(struct ipc_client *c, uint32_t ms)
{
	c->connect_wait_ms = ms;
}

bool
ipc_client_connected(const struct ipc_client *c)
{
	return c->npipes > 0;
}

int
ipc_call(struct ipc_client *c, const uint8_t *data, size_t len,
    uint32_t timeout_ms, ipc_reply_cb cb, void *arg, uint64_t *call_id)
{
	struct ipc_call *call;
	/* the real time: loop_now_ms() is stale outside loop callbacks */
	uint64_t now = loop_clock_ms();

	if (cb == NULL)
		return ERR_INVAL;
	if (c->closing)
		return ERR_CLOSED;
	if (len > IPC_MAX_PAYLOAD)
		return ERR_TOOBIG;
	if (c->ncalls >= c->tab_size && ipc_tab_grow(c) != 0)
		return ERR_NOMEM;
	if ((call = calloc(1, sizeof(*call))) == NULL)
		return ERR_NOMEM;
	call->c = c;
	do {
		call->id = c->next_id++;
		call->wire = (uint32_t)(call->id & 0x7fffffffu) | 0x80000000u;
	} while (*ipc_tab_slot(c, call->wire) != NULL);
	if ((call->tmpl = ipc_msg_new(data, len)) == NULL ||
	    nng_msg_header_append_u32(call->tmpl, call->wire) != 0) {
		if (call->tmpl != NULL)
			nng_msg_free(call->tmpl);
		free(call);
		return ERR_NOMEM;
	}
	call->cb = cb;
	call->arg = arg;
	call->deadline = now + timeout_ms;
	*ipc_tab_slot(c, call->wire) = call;
	c->ncalls++;
	call->prev = c->tail;
	if (c->tail != NULL)
		c->tail->next = call;
	else
		c->head = call;
	c->tail = call;
	if (c->npipes > 0) {
		ipc_call_send(c, call);
	} else {
		call->wait_until = now + c->connect_wait_ms;
	}
	ipc_call_schedule(c, call);
	if (call->timer == 0) {
		ipc_tab_remove(c, call);
		ipc_call_free(call);
		return ERR_NOMEM;
	}
	if (call_id != NULL)
		*call_id = call->id;
	return 0;
}

void
ipc_cancel(struct ipc_client *c, uint64_t call_id)
{
	uint32_t wire = (uint32_t)(call_id & 0x7fffffffu) | 0x80000000u;
	struct ipc_call *call;

	if (call_id == 0)
		return;
	call = *ipc_tab_slot(c, wire);
	if (call != NULL && call->id == call_id)
		ipc_call_finish(c, call, ERR_CANCELED, NULL, 0);
}

/* ---- pub/sub ---- */

struct ipc_pub {
	nng_socket sock;
	struct ipc_listener *lst;
};

int
ipc_pub_open(struct loop *l, const char *url, struct ipc_pub **out)
{
	struct ipc_pub *p;
	int rv, rc;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ERR_NOMEM;
	if ((rv = ipc_sock_open(nng_pub0_open, &p->sock)) != 0) {
		free(p);
		return ipc_err(rv);
	}
	if ((rc = ipc_listener_open(l, p->sock, url, IPC_SP_SUB,
	    &p->lst)) != 0) {
		nng_close(p->sock);
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void
ipc_pub_close(struct ipc_pub *p)
{
	if (p == NULL)
		return;
	if (!ipc_close_bounded(p->sock)) {
		ipc_listener_stop(p->lst);
		return;
	}
	ipc_listener_free(p->lst);
	free(p);
}

int
ipc_publish(struct ipc_pub *p, const uint8_t *data, size_t len)
{
	nng_msg *m;
	int rv;

	if (len > IPC_MAX_MSG)
		return ERR_TOOBIG;
	if ((m = ipc_msg_new(data, len)) == NULL)
		return ERR_NOMEM;
	if ((rv = nng_sendmsg(p->sock, m, NNG_FLAG_NONBLOCK)) != 0) {
		nng_msg_free(m);
		return ipc_err(rv);
	}
	return 0;
}

struct ipc_sub {
	nng_socket sock;
	atomic_bool stopping;
	pthread_mutex_t arm_mtx; /* as in struct ipc_server */
	nng_aio *aio;
	struct ipc_inbox *inbox;
	ipc_event_cb cb;
	void *arg;
};

static void
ipc_sub_item(void *owner, struct ipc_item *it)
{
	struct ipc_sub *s = owner;

	s->cb(s->arg, nng_msg_body(it->msg), nng_msg_len(it->msg));
	nng_msg_free(it->msg);
}

static void
ipc_sub_recv_cb(void *arg)
{
	struct ipc_sub *s = arg;
	struct ipc_item it = { .kind = IPC_ITEM_MSG };
	int rv = nng_aio_result(s->aio);

	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		return;
	if (rv == 0) {
		it.msg = nng_aio_get_msg(s->aio);
		nng_aio_set_msg(s->aio, NULL);
		ipc_inbox_push(s->inbox, &it);
	}
	pthread_mutex_lock(&s->arm_mtx);
	if (!atomic_load(&s->stopping))
		nng_recv_aio(s->sock, s->aio);
	pthread_mutex_unlock(&s->arm_mtx);
}

int
ipc_sub_open(struct loop *l, const char *url, ipc_event_cb cb, void *arg,
    struct ipc_sub **out)
{
	struct ipc_sub *s;
	int rv, rc;

	*out = NULL;
	if (cb == NULL)
		return ERR_INVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ERR_NOMEM;
	s->cb = cb;
	s->arg = arg;
	pthread_mutex_init(&s->arm_mtx, NULL);
	if ((s->inbox = ipc_inbox_new(l, ipc_sub_item, s)) == NULL) {
		free(s);
		return ERR_NOMEM;
	}
	if ((rv = ipc_sock_open(nng_sub0_open, &s->sock)) != 0) {
		ipc_inbox_close(s->inbox);
		free(s);
		return ipc_err(rv);
	}
	if ((rv = nng_aio_alloc(&s->aio, ipc_sub_recv_cb, s)) != 0 ||
	    (rv = nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, "", 0)) != 0 ||
	    (rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ,
	    IPC_MAX_MSG)) != 0) {
		rc = ipc_err(rv);
		goto fail;
	}
	nng_recv_aio(s->sock, s->aio);
	if ((rc = ipc_dial(s->sock, url)) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	ipc_sub_close(s);
	return rc;
}

void
ipc_sub_close(struct ipc_sub *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->arm_mtx);
	atomic_store(&s->stopping, true);
	pthread_mutex_unlock(&s->arm_mtx);
	if (!ipc_close_bounded(s->sock)) {
		ipc_inbox_abandon(s->inbox);
		return;
	}
	if (s->aio != NULL)
		nng_aio_free(s->aio);
	ipc_inbox_close(s->inbox);
	pthread_mutex_destroy(&s->arm_mtx);
	free(s);
}
