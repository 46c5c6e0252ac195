/*
 * ipc.c — request/reply and pub/sub between the roles of one node over
 * AF_UNIX sockets in the runtime directory (ipc.h; DESIGN.md §3).
 *
 * Key decisions:
 * - Request/reply (the hot path: httpd -> raftd.rpc on every HTTP request)
 *   is cairn's own: a SOCK_STREAM connection driven by the caller's loop on
 *   both sides, length-prefixed frames carrying the caller's bytes and a
 *   request id. No thread is involved: a wakeup reads everything the socket
 *   has and dispatches each frame; the replies (or calls) made during one
 *   wakeup or loop iteration leave in one write. It replaced nng REQ/REP,
 *   whose message crossed three or four nng threads per direction (about
 *   75 µs of CPU per GET across httpd and raftd, mostly scheduler
 *   switches; bench/RESULTS.md has the before/after numbers).
 * - Server: each request is copied out of the read buffer into a struct
 *   ipc_req so it can be held across iterations (blocking queries); a
 *   connection lives until its socket closes and no held request names it,
 *   so a late reply to a gone client is discarded silently.
 * - Client: owns every retry decision: a call is sent when connected,
 *   waits up to connect_wait_ms for a connection otherwise, and is re-sent
 *   byte for byte after the connection drops (reconnecting at once, then
 *   every 20..200 ms).
 * - Garbage from a peer (a wrong hello, an oversized frame) closes that
 *   connection only.
 * - Pub/sub (hints) stays on nng PUB/SUB: nng's threads only append to an
 *   inbox (mutex + array) posted to the loop when it was empty.
 *
 * Reference: nng 1.5 pubsub0 and pipe notification docs; the request id
 * format follows the SP request/reply protocol (sp-request-reply-01):
 * 31 bits with the high bit set.
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

#include "err.h"
#include "framebuf.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "loop_internal.h"

#define IPC_MAX_MSG (64u << 20)   /* NNG_OPT_RECVMAXSZ, = PROTO_MAX_MSG */
/*
 * The largest request or reply payload (the limit the nng transport had,
 * kept): an oversized frame makes the receiver drop the whole connection
 * (every call on it), so oversized payloads are refused before sending.
 */
#define IPC_MAX_PAYLOAD (IPC_MAX_MSG - 4)
#define IPC_RECONN_MIN_MS 20
#define IPC_RECONN_MAX_MS 200
#define IPC_CONNECT_WAIT_MS 1000
#define IPC_SP_SUB 0x21           /* SP protocol id (for the probe) */

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
};

struct ipc_item {
	int kind;
	nng_msg *msg;
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

/* ---- request/reply: cairn's own frames over AF_UNIX stream sockets ---- */

/*
 * Wire format. The client opens with an 8-byte hello; then each frame in
 * either direction is an 8-byte header — payload length and request id,
 * both big-endian u32 — and the payload. A reply carries its request's id.
 * A peer that sends anything else (a wrong hello, a frame over
 * IPC_MAX_PAYLOAD) is disconnected; the server keeps serving.
 */
static const uint8_t ipc_hello[8] = { 0, 'C', 'R', 'N', 'R', 'Q', 0, 1 };
#define IPC_HDR 8
/* Appends one frame (header and payload). */
static int
ipc_buf_frame(struct fbuf *b, uint32_t id, const uint8_t *data,
    size_t len)
{
	if (fbuf_reserve(b, IPC_HDR + len) != 0)
		return ERR_NOMEM;
	fbuf_put32(b->p + b->len, (uint32_t)len);
	fbuf_put32(b->p + b->len + 4, id);
	if (len > 0)
		memcpy(b->p + b->len + IPC_HDR, data, len);
	b->len += IPC_HDR + len;
	return 0;
}

/* Fills sun from an ipc:// url. */
static int
ipc_sun(const char *url, struct sockaddr_un *sun)
{
	size_t n;

	if (url == NULL || strncmp(url, "ipc://", 6) != 0)
		return ERR_INVAL;
	n = strlen(url + 6);
	if (n == 0 || n >= sizeof(sun->sun_path))
		return ERR_TOOBIG;
	*sun = (struct sockaddr_un){ .sun_family = AF_UNIX };
	memcpy(sun->sun_path, url + 6, n + 1);
	return 0;
}

/* ---- server ---- */

/* One accepted connection. Freed when closed and no request holds it. */
struct ipc_conn {
	struct ipc_server *srv; /* NULL once the server closed */
	int fd;                 /* -1 once closed */
	bool hello;             /* the client's hello was read */
	bool wwait;             /* waiting for LOOP_WRITE */
	bool dispatching;       /* replies wait for the read's one write */
	uint64_t peer;
	uint64_t ftimer;        /* flush at the end of this iteration */
	int refs;               /* open + held requests + dispatching */
	struct fbuf rb, wb;
	struct ipc_conn *prev, *next; /* srv->conns */
};

/* A received request, held by the caller until answered or dropped. */
struct ipc_req {
	struct ipc_server *srv;
	struct ipc_conn *conn;
	uint32_t id;
	struct ipc_req *prev, *next; /* srv->held */
	size_t len;
	uint8_t data[];
};

struct ipc_server {
	struct loop *loop;
	int lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ino_t ino;   /* of our socket file, to unlink only ours */
	ipc_request_cb cb;
	void *arg;
	struct ipc_conn *conns;
	struct ipc_req *held;
	uint64_t next_peer;
	int depth;   /* request callbacks running */
	bool closed; /* closed from a callback: freed when depth is 0 */
};

static void
ipc_conn_unref(struct ipc_conn *cn)
{
	if (--cn->refs > 0)
		return;
	fbuf_free(&cn->rb);
	fbuf_free(&cn->wb);
	free(cn);
}

static void
ipc_conn_close(struct ipc_conn *cn)
{
	struct ipc_server *srv = cn->srv;

	if (cn->fd == -1)
		return;
	loop_del_fd(srv->loop, cn->fd);
	close(cn->fd);
	cn->fd = -1;
	loop_timer_cancel(srv->loop, cn->ftimer);
	cn->ftimer = 0;
	if (cn->prev != NULL)
		cn->prev->next = cn->next;
	else
		srv->conns = cn->next;
	if (cn->next != NULL)
		cn->next->prev = cn->prev;
	cn->prev = cn->next = NULL;
	fbuf_clear(&cn->rb);
	fbuf_clear(&cn->wb);
	ipc_conn_unref(cn);
}

static void
ipc_conn_flush(struct ipc_conn *cn)
{
	int rc;

	if (cn->fd == -1 || cn->wwait)
		return;
	rc = fbuf_flush(cn->fd, &cn->wb);
	if (rc == ERR_AGAIN) {
		cn->wwait = true;
		loop_mod_fd(cn->srv->loop, cn->fd, LOOP_READ | LOOP_WRITE);
	} else if (rc != 0) {
		ipc_conn_close(cn);
	}
}

static void
ipc_conn_flush_timer(struct loop *l, void *arg)
{
	struct ipc_conn *cn = arg;

	cn->ftimer = 0;
	ipc_conn_flush(cn);
}

/* Hands one frame's payload to the server's callback. */
static void
ipc_conn_request(struct ipc_conn *cn, uint32_t id, const uint8_t *data,
    size_t len)
{
	struct ipc_server *srv = cn->srv;
	struct ipc_req *r;

	if ((r = malloc(sizeof(*r) + len)) == NULL) {
		log_warnx("ipc: no memory for a %zu-byte request", len);
		return; /* the caller's deadline answers it */
	}
	*r = (struct ipc_req){ .srv = srv, .conn = cn, .id = id, .len = len };
	if (len > 0)
		memcpy(r->data, data, len);
	cn->refs++;
	r->next = srv->held;
	if (srv->held != NULL)
		srv->held->prev = r;
	srv->held = r;
	srv->cb(srv, r, r->data, len, srv->arg);
}

/* Parses and dispatches every complete frame; false if cn was closed. */
static bool
ipc_conn_parse(struct ipc_conn *cn, size_t *want)
{
	struct fbuf *b = &cn->rb;
	uint32_t len, id;

	*want = 0;
	if (!cn->hello) {
		if (b->len - b->off < sizeof(ipc_hello))
			return true;
		if (memcmp(b->p + b->off, ipc_hello, sizeof(ipc_hello)) != 0) {
			ipc_conn_close(cn);
			return false;
		}
		b->off += sizeof(ipc_hello);
		cn->hello = true;
	}
	while (b->len - b->off >= IPC_HDR) {
		len = fbuf_get32(b->p + b->off);
		id = fbuf_get32(b->p + b->off + 4);
		if (len > IPC_MAX_PAYLOAD) {
			ipc_conn_close(cn);
			return false;
		}
		if (b->len - b->off < IPC_HDR + (size_t)len) {
			*want = IPC_HDR + (size_t)len;
			return true;
		}
		b->off += IPC_HDR + len;
		/* the payload stays put: the request copies it first */
		ipc_conn_request(cn, id, b->p + b->off - len, len);
		if (cn->fd == -1)
			return false;
	}
	if (b->off == b->len)
		fbuf_clear(b);
	return true;
}

static void ipc_server_free(struct ipc_server *srv);

static void
ipc_conn_io(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct ipc_conn *cn = arg;
	struct ipc_server *srv = cn->srv;
	size_t want = 0;
	int rc;

	if (events & LOOP_WRITE) {
		cn->wwait = false;
		loop_mod_fd(l, fd, LOOP_READ);
		ipc_conn_flush(cn);
		if (cn->fd == -1)
			return;
	}
	if (!(events & (LOOP_READ | LOOP_ERROR)))
		return;
	if (cn->rb.len - cn->rb.off >= IPC_HDR && cn->hello)
		want = IPC_HDR + fbuf_get32(cn->rb.p + cn->rb.off);
	rc = fbuf_fill(fd, &cn->rb, want > IPC_HDR + IPC_MAX_PAYLOAD ?
	    0 : want);
	/* frames that arrived before an end of stream are still served */
	cn->refs++;
	srv->depth++;
	cn->dispatching = true;
	if (ipc_conn_parse(cn, &want) && rc != 0)
		ipc_conn_close(cn);
	cn->dispatching = false;
	srv->depth--;
	/* the replies the callbacks gave go out in one write */
	if (!srv->closed)
		ipc_conn_flush(cn);
	ipc_conn_unref(cn);
	if (srv->closed && srv->depth == 0)
		ipc_server_free(srv);
}

static void
ipc_server_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct ipc_server *srv = arg;
	struct ipc_conn *cn;
	int cfd;

	for (;;) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("ipc: accept on %s", srv->path);
			return;
		}
		if ((cn = calloc(1, sizeof(*cn))) == NULL) {
			close(cfd);
			continue;
		}
		cn->srv = srv;
		cn->fd = cfd;
		cn->refs = 1;
		cn->peer = ++srv->next_peer;
		if (loop_add_fd(l, cfd, LOOP_READ, ipc_conn_io, cn) != 0) {
			close(cfd);
			free(cn);
			continue;
		}
		cn->next = srv->conns;
		if (srv->conns != NULL)
			srv->conns->prev = cn;
		srv->conns = cn;
	}
}

int
ipc_server_open(struct loop *l, const char *url, ipc_request_cb cb,
    void *arg, struct ipc_server **out)
{
	struct ipc_server *srv;
	struct sockaddr_un sun;
	struct stat st;
	int rc, fd;

	*out = NULL;
	if (cb == NULL)
		return ERR_INVAL;
	if ((rc = ipc_sun(url, &sun)) != 0)
		return rc;
	if ((rc = ipc_remove_stale(url)) != 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return err_from_errno(errno);
	/* 0600 before listen(): nobody can connect in between */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		rc = errno == EADDRINUSE ? ERR_EXISTS : err_from_errno(errno);
		close(fd);
		return rc;
	}
	if (chmod(sun.sun_path, 0600) == -1 || lstat(sun.sun_path, &st) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		rc = err_from_errno(errno);
		unlink(sun.sun_path);
		close(fd);
		return rc;
	}
	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		unlink(sun.sun_path);
		close(fd);
		return ERR_NOMEM;
	}
	srv->loop = l;
	srv->lfd = fd;
	srv->ino = st.st_ino;
	srv->cb = cb;
	srv->arg = arg;
	memcpy(srv->path, sun.sun_path, sizeof(srv->path));
	if ((rc = loop_add_fd(l, fd, LOOP_READ, ipc_server_accept, srv)) != 0) {
		unlink(sun.sun_path);
		close(fd);
		free(srv);
		return rc;
	}
	*out = srv;
	return 0;
}

static void
ipc_server_free(struct ipc_server *srv)
{
	free(srv);
}

void
ipc_server_close(struct ipc_server *srv)
{
	struct ipc_req *r;
	struct stat st;

	if (srv == NULL || srv->closed)
		return;
	srv->closed = true;
	loop_del_fd(srv->loop, srv->lfd);
	close(srv->lfd);
	/* unless a newer server took the name meanwhile */
	if (lstat(srv->path, &st) == 0 && st.st_ino == srv->ino)
		unlink(srv->path);
	while ((r = srv->held) != NULL)
		ipc_req_drop(r);
	while (srv->conns != NULL)
		ipc_conn_close(srv->conns);
	if (srv->depth == 0)
		ipc_server_free(srv);
}

/* Unlinks req from its server's held list and frees it. */
static void
ipc_req_finish(struct ipc_req *req)
{
	struct ipc_server *srv = req->srv;

	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		srv->held = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	ipc_conn_unref(req->conn);
	free(req);
}

int
ipc_reply(struct ipc_req *req, const uint8_t *data, size_t len)
{
	struct ipc_conn *cn = req->conn;
	int rc = 0;

	if (len > IPC_MAX_PAYLOAD) {
		ipc_req_finish(req);
		return ERR_TOOBIG;
	}
	if (cn->fd != -1) {
		if ((rc = ipc_buf_frame(&cn->wb, req->id, data, len)) == 0 &&
		    cn->ftimer == 0 && !cn->dispatching)
			/* answered later: flush at the end of this iteration */
			cn->ftimer = loop_timer_add(cn->srv->loop, 0,
			    ipc_conn_flush_timer, cn);
	}
	ipc_req_finish(req);
	return rc;
}

void
ipc_req_drop(struct ipc_req *req)
{
	if (req != NULL)
		ipc_req_finish(req);
}

uint64_t
ipc_req_peer(const struct ipc_req *req)
{
	return req->conn->peer;
}

/* ---- client ---- */

struct ipc_call {
	struct ipc_client *c;
	uint64_t id;
	uint32_t wire;       /* request id on the wire, high bit set */
	ipc_reply_cb cb;
	void *arg;
	uint64_t deadline;   /* loop ms */
	uint64_t wait_until; /* waiting for a connection until (0 = no) */
	uint64_t timer;
	bool sent;           /* on the current connection */
	struct ipc_call *hnext;
	struct ipc_call *prev, *next; /* c->head, in call order */
	size_t len;
	uint8_t data[];      /* the payload, re-sent byte for byte */
};

struct ipc_client {
	struct loop *loop;
	struct sockaddr_un sun;
	int fd;              /* -1 while disconnected */
	bool wwait;          /* waiting for LOOP_WRITE */
	struct fbuf rb, wb;
	uint64_t ftimer;     /* flush at the end of this iteration */
	uint64_t rtimer;     /* reconnect */
	uint32_t backoff_ms;
	uint32_t connect_wait_ms;
	struct ipc_call *head, *tail; /* every pending call, oldest first */
	struct ipc_call **tab; /* chained hash on wire id */
	size_t tab_size, ncalls;
	uint64_t next_id;
	int depth;           /* reply callbacks running from a read */
	bool closing;
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

/* Removes the call, then runs its callback; the call is gone after. */
static void
ipc_call_finish(struct ipc_client *c, struct ipc_call *call, int err,
    const uint8_t *data, size_t len)
{
	ipc_tab_remove(c, call);
	loop_timer_cancel(c->loop, call->timer);
	call->cb(call->arg, err, data, len);
	free(call);
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

static void ipc_cli_disconnect(struct ipc_client *c);

static void
ipc_cli_flush(struct ipc_client *c)
{
	int rc;

	if (c->fd == -1 || c->wwait)
		return;
	rc = fbuf_flush(c->fd, &c->wb);
	if (rc == ERR_AGAIN) {
		c->wwait = true;
		loop_mod_fd(c->loop, c->fd, LOOP_READ | LOOP_WRITE);
	} else if (rc != 0) {
		ipc_cli_disconnect(c);
	}
}

static void
ipc_cli_flush_timer(struct loop *l, void *arg)
{
	struct ipc_client *c = arg;

	c->ftimer = 0;
	ipc_cli_flush(c);
}

/*
 * Queues the call's frame; the calls of one loop iteration leave in one
 * write at its end. On allocation failure the call just waits for its
 * deadline.
 */
static void
ipc_call_send(struct ipc_client *c, struct ipc_call *call)
{
	call->sent = true;
	call->wait_until = 0;
	if (ipc_buf_frame(&c->wb, call->wire, call->data, call->len) != 0)
		return;
	if (c->ftimer == 0)
		c->ftimer = loop_timer_add(c->loop, 0, ipc_cli_flush_timer, c);
}

static void ipc_cli_connect(struct loop *l, void *arg);

static void
ipc_cli_retry(struct ipc_client *c)
{
	loop_timer_cancel(c->loop, c->rtimer);
	c->rtimer = loop_timer_add(c->loop, c->backoff_ms, ipc_cli_connect, c);
	c->backoff_ms = c->backoff_ms == 0 ? IPC_RECONN_MIN_MS :
	    c->backoff_ms * 2;
	if (c->backoff_ms > IPC_RECONN_MAX_MS)
		c->backoff_ms = IPC_RECONN_MAX_MS;
}

/*
 * The connection broke: every call sent on it may be lost, so each waits
 * up to connect_wait_ms for a new one and is then re-sent byte for byte
 * (the server deduplicates writes; a second reply finds no call).
 */
static void
ipc_cli_disconnect(struct ipc_client *c)
{
	struct ipc_call *call;
	uint64_t wait_until;

	if (c->fd == -1)
		return;
	loop_del_fd(c->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->wwait = false;
	fbuf_clear(&c->rb);
	fbuf_clear(&c->wb);
	loop_timer_cancel(c->loop, c->ftimer);
	c->ftimer = 0;
	wait_until = loop_now_ms(c->loop) + c->connect_wait_ms;
	for (call = c->head; call != NULL; call = call->next)
		if (call->sent) {
			call->sent = false;
			call->wait_until = wait_until;
			ipc_call_schedule(c, call);
		}
	c->backoff_ms = 0;
	ipc_cli_retry(c);
}

/* Handles every complete reply frame; false if c is closing. */
static bool
ipc_cli_parse(struct ipc_client *c, size_t *want)
{
	struct fbuf *b = &c->rb;
	struct ipc_call *call;
	uint32_t len, wire;

	*want = 0;
	while (b->len - b->off >= IPC_HDR) {
		len = fbuf_get32(b->p + b->off);
		wire = fbuf_get32(b->p + b->off + 4);
		if (len > IPC_MAX_PAYLOAD) {
			log_warnx("ipc: oversized reply on %s", c->sun.sun_path);
			ipc_cli_disconnect(c);
			return false;
		}
		if (b->len - b->off < IPC_HDR + (size_t)len) {
			*want = IPC_HDR + (size_t)len;
			return true;
		}
		b->off += IPC_HDR + len;
		call = *ipc_tab_slot(c, wire);
		/* else late: timed out, canceled or a duplicate */
		if (call != NULL && call->sent)
			ipc_call_finish(c, call, 0, b->p + b->off - len, len);
		if (c->closing || c->fd == -1)
			return false;
	}
	if (b->off == b->len)
		fbuf_clear(b);
	return true;
}

static void ipc_client_free(struct ipc_client *c);

static void
ipc_cli_io(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct ipc_client *c = arg;
	size_t want = 0;
	int rc;

	if (events & LOOP_WRITE) {
		c->wwait = false;
		loop_mod_fd(l, fd, LOOP_READ);
		ipc_cli_flush(c);
		if (c->fd == -1)
			return;
	}
	if (!(events & (LOOP_READ | LOOP_ERROR)))
		return;
	if (c->rb.len - c->rb.off >= IPC_HDR)
		want = IPC_HDR + fbuf_get32(c->rb.p + c->rb.off);
	rc = fbuf_fill(fd, &c->rb, want > IPC_HDR + IPC_MAX_PAYLOAD ?
	    0 : want);
	c->depth++;
	if (ipc_cli_parse(c, &want) && rc != 0)
		ipc_cli_disconnect(c);
	c->depth--;
	if (c->closing && c->depth == 0)
		ipc_client_free(c);
}

/* Timer: dial; on success send the hello and every waiting call. */
static void
ipc_cli_connect(struct loop *l, void *arg)
{
	struct ipc_client *c = arg;
	struct ipc_call *call;
	int fd;

	c->rtimer = 0;
	if (c->fd != -1)
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		ipc_cli_retry(c);
		return;
	}
	/* on AF_UNIX a connect completes at once or fails (EAGAIN: backlog) */
	if (connect(fd, (struct sockaddr *)&c->sun, sizeof(c->sun)) == -1 ||
	    loop_add_fd(l, fd, LOOP_READ, ipc_cli_io, c) != 0) {
		close(fd);
		ipc_cli_retry(c);
		return;
	}
	c->fd = fd;
	c->backoff_ms = 0;
	fbuf_clear(&c->wb);
	if (fbuf_reserve(&c->wb, sizeof(ipc_hello)) != 0) {
		ipc_cli_disconnect(c);
		return;
	}
	memcpy(c->wb.p + c->wb.len, ipc_hello, sizeof(ipc_hello));
	c->wb.len += sizeof(ipc_hello);
	/* send everything waiting, oldest first */
	for (call = c->head; call != NULL; call = call->next)
		if (!call->sent) {
			ipc_call_send(c, call);
			ipc_call_schedule(c, call);
		}
	ipc_cli_flush(c);
}

int
ipc_client_open(struct loop *l, const char *url, struct ipc_client **out)
{
	struct ipc_client *c;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ERR_NOMEM;
	if ((rc = ipc_sun(url, &c->sun)) != 0) {
		free(c);
		return rc;
	}
	c->loop = l;
	c->fd = -1;
	c->connect_wait_ms = IPC_CONNECT_WAIT_MS;
	c->tab_size = 256;
	c->next_id = 1;
	if ((c->tab = calloc(c->tab_size, sizeof(*c->tab))) == NULL) {
		free(c);
		return ERR_NOMEM;
	}
	ipc_cli_connect(l, c);
	*out = c;
	return 0;
}

static void
ipc_client_free(struct ipc_client *c)
{
	fbuf_free(&c->rb);
	fbuf_free(&c->wb);
	free(c->tab);
	free(c);
}

void
ipc_client_close(struct ipc_client *c)
{
	struct ipc_call *call;

	if (c == NULL || c->closing)
		return;
	c->closing = true;
	if (c->fd != -1) {
		loop_del_fd(c->loop, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	loop_timer_cancel(c->loop, c->ftimer);
	loop_timer_cancel(c->loop, c->rtimer);
	while ((call = c->head) != NULL)
		ipc_call_finish(c, call, ERR_CANCELED, NULL, 0);
	if (c->depth == 0)
		ipc_client_free(c);
}

void
ipc_client_set_connect_wait(struct ipc_client *c, uint32_t ms)
{
	c->connect_wait_ms = ms;
}

bool
ipc_client_connected(const struct ipc_client *c)
{
	return c->fd != -1;
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
	if ((call = malloc(sizeof(*call) + len)) == NULL)
		return ERR_NOMEM;
	*call = (struct ipc_call){ .c = c, .cb = cb, .arg = arg, .len = len };
	if (len > 0)
		memcpy(call->data, data, len);
	do {
		call->id = c->next_id++;
		call->wire = (uint32_t)(call->id & 0x7fffffffu) | 0x80000000u;
	} while (*ipc_tab_slot(c, call->wire) != NULL);
	call->deadline = now + timeout_ms;
	*ipc_tab_slot(c, call->wire) = call;
	c->ncalls++;
	call->prev = c->tail;
	if (c->tail != NULL)
		c->tail->next = call;
	else
		c->head = call;
	c->tail = call;
	if (c->fd != -1)
		ipc_call_send(c, call);
	else
		call->wait_until = now + c->connect_wait_ms;
	ipc_call_schedule(c, call);
	if (call->timer == 0) {
		ipc_tab_remove(c, call);
		free(call);
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
