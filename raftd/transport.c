/*
 * transport.c — raftd's server-to-server link: cairn's own length-prefixed
 * frames over TCP on ports.server, driven by raftd's event loop
 * (transport.h; DESIGN.md §4 puts server RPC on ports.server).
 *
 * Why not nng (DESIGN.md §4 says "nng over TCP"; this is a deliberate
 * deviation): nng's PUSH/PULL moved each message across about three of
 * its threads (the sender's aio task, the poller, the receiver's task)
 * before the receive callback could even post it to the loop. A
 * replicated PUT is four AppendEntries out and four replies in at the
 * leader, so at one client the leader's raftd switched context 57-64
 * times per request, 26 of them in nng's task threads, and perf put 41 %
 * of its samples in nng (bench/RESULTS.md, "Where a replicated PUT's time
 * goes"). Here no thread is involved: the loop reads, parses and hands
 * each message to the callback itself, and the messages queued for a peer
 * during one loop iteration leave in one write at its end. common/ipc.c
 * made the same move for the local request/reply path; the buffers are
 * its own (common/framebuf.h). Measured (bench/RESULTS.md, "Raft
 * transport without nng"): at one client the leader's raftd went from
 * 365-487 to 169-258 µs of CPU and from 53-60 to 10-12 context switches
 * per PUT, p50 from 0.73-0.88 to 0.55-0.62 ms.
 *
 * Not wire-compatible with the nng transport: servers of one cluster
 * must run the same transport (an nng peer's SP header fails the hello).
 *
 * Key decisions:
 * - One-way links, as before: a TCP connection per peer that we dial and
 *   only write to, and a listener whose accepted connections we only read
 *   from. Raft messages are one-way (a reply is a message of its own,
 *   matched by term and indexes in the core) and forwarded client
 *   requests are matched by the fwd_id in MSG_RAFT_FORWARD, and every
 *   message names its sender, so no hello needs an identity: the dialer's
 *   8-byte hello is a magic and version only, so a stray client (or an
 *   old nng peer's SP header) is told apart from a peer at once.
 * - Wire: hello, then frames of a big-endian u32 length and the payload.
 *   A wrong hello, a frame over TRANSPORT_MAX_MSG, or bytes arriving on a
 *   dialed (write-only) connection close that connection only.
 * - Sending never blocks and never waits: a message is appended to the
 *   peer's output buffer (TCP_NODELAY; one write per loop iteration, the
 *   rest on LOOP_WRITE). consensus.c calls transport_flush() after each
 *   Raft update's messages, so AppendEntries leave before that update's
 *   applies and replies run: the followers' fsyncs start as early as
 *   with nng, which sent at once (the end-of-iteration flush alone looked
 *   ~20 % slower at 64 clients in two runs; later runs were within the
 *   disk's noise). The buffer is bounded (TRANSPORT_QUEUE_MSGS
 *   frames and TRANSPORT_QUEUE_BYTES since it last drained); a message
 *   that finds it full, or finds the peer down between reconnect
 *   attempts, is dropped with ERR_AGAIN — Raft retransmits (dissertation
 *   §3.3: "RPCs are retried if they do not receive a response") and a
 *   forwarded request times out or is retried by raftd/client.c. While a
 *   connect is in progress messages queue (so the first message to a
 *   peer is not lost); a failed connect drops them.
 * - Reconnect: at once on first use, then after a failure every 50 ms
 *   doubling to 1 s (nng's settings before), back to 50 ms once connected.
 *   TCP keepalive (about 30 s) closes connections whose peer vanished
 *   without a FIN; accepted connections are capped at
 *   TRANSPORT_MAX_CONNS.
 * - Addresses are numeric "ip:port" or "[ipv6]:port" (gossip and the
 *   configuration give IPs): no resolver, which would block the loop.
 *
 * Reference: hashicorp/raft net_transport.go (a connection per peer);
 * Redis anet.c / networking.c (non-blocking connect, reply buffers
 * written from the loop).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "framebuf.h"
#include "log.h"
#include "loop.h"
#include "transport.h"

#define TRANSPORT_MAX_MSG (64u << 20) /* PROTO_MAX_MSG */
#define TRANSPORT_HDR 4
#define TRANSPORT_QUEUE_MSGS 1024     /* frames waiting per peer */
#define TRANSPORT_QUEUE_BYTES (16u << 20)
#define TRANSPORT_RECONN_MIN_MS 50
#define TRANSPORT_RECONN_MAX_MS 1000
#define TRANSPORT_ADDR_MAX 300
#define TRANSPORT_MAX_CONNS 1024      /* accepted connections */
#define TRANSPORT_KEEPIDLE_S 15
#define TRANSPORT_KEEPINTVL_S 5
#define TRANSPORT_KEEPCNT 3

static const uint8_t transport_hello[8] = { 0, 'C', 'R', 'N', 'R', 'F', 0,
    1 };

enum peer_state {
	PEER_DOWN,       /* waiting for the reconnect timer */
	PEER_CONNECTING, /* non-blocking connect in progress */
	PEER_UP,
};

/* A peer we send to: one dialed connection, write-only. */
struct transport_peer {
	struct transport *t;
	uint64_t id;
	char addr[TRANSPORT_ADDR_MAX];
	struct sockaddr_storage sa;
	socklen_t salen;
	enum peer_state state;
	int fd;
	bool wwait;           /* waiting for LOOP_WRITE */
	uint32_t nq;          /* frames appended since wb last drained */
	bool full;            /* a send found wb full (logged once) */
	uint32_t backoff_ms;
	uint64_t timer;       /* reconnect */
	struct fbuf wb;
	struct transport_peer *next;
};

/* An accepted connection: read-only. */
struct transport_conn {
	struct transport *t;
	int fd;
	bool hello;
	struct fbuf rb;
	struct transport_conn *prev, *next;
};

struct transport {
	struct loop *loop;
	int lfd;
	transport_recv_cb cb;
	void *arg;
	struct transport_peer *peers;
	struct transport_conn *conns;
	size_t nconns;
	uint64_t ftimer;  /* flush at the end of this loop iteration */
	int depth;        /* receive callbacks running */
	bool closed;      /* closed from a callback: freed when depth is 0 */
};

/*
 * Parses "ip:port" or "[ipv6]:port" (numeric only) into sa. Returns 0 or
 * ERR_INVAL.
 */
static int
transport_parse(const char *addr, struct sockaddr_storage *sa,
    socklen_t *salen)
{
	struct addrinfo hints, *res = NULL;
	char host[TRANSPORT_ADDR_MAX];
	const char *colon, *h = addr;
	size_t hl;

	if (addr == NULL || (colon = strrchr(addr, ':')) == NULL ||
	    colon == addr || colon[1] == '\0')
		return ERR_INVAL;
	hl = (size_t)(colon - addr);
	if (addr[0] == '[') {
		if (hl < 3 || addr[hl - 1] != ']')
			return ERR_INVAL;
		h = addr + 1;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return ERR_INVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || res == NULL)
		return ERR_INVAL;
	if (res->ai_addrlen > sizeof(*sa)) {
		freeaddrinfo(res);
		return ERR_INVAL;
	}
	memset(sa, 0, sizeof(*sa));
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*salen = (socklen_t)res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/*
 * Keepalive on both ends, so that a connection whose peer vanished
 * without a FIN (a host down, a partition) is closed in about 30 s instead
 * of holding its slot for ever; NODELAY on the dialed end, which writes.
 */
static void
transport_sockopts(int fd, bool dialed)
{
	int one = 1, idle = TRANSPORT_KEEPIDLE_S, intvl = TRANSPORT_KEEPINTVL_S,
	    cnt = TRANSPORT_KEEPCNT;

	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	if (dialed)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
}

/* ---- accepted connections: frames in ---- */

static void
transport_conn_close(struct transport_conn *cn)
{
	struct transport *t = cn->t;

	loop_del_fd(t->loop, cn->fd);
	close(cn->fd);
	if (cn->prev != NULL)
		cn->prev->next = cn->next;
	else
		t->conns = cn->next;
	if (cn->next != NULL)
		cn->next->prev = cn->prev;
	t->nconns--;
	fbuf_free(&cn->rb);
	free(cn);
}

/*
 * Hands every complete frame to the callback. Returns false when the
 * stream is bad (cn must be closed) or the transport was closed by a
 * callback; *want is the size of the frame being assembled.
 */
static bool
transport_conn_parse(struct transport_conn *cn, size_t *want)
{
	struct transport *t = cn->t;
	struct fbuf *b = &cn->rb;
	uint32_t len;

	*want = 0;
	if (!cn->hello) {
		if (fbuf_pending(b) < sizeof(transport_hello))
			return fbuf_pending(b) == 0 || memcmp(b->p + b->off,
			    transport_hello, fbuf_pending(b)) == 0;
		if (memcmp(b->p + b->off, transport_hello,
		    sizeof(transport_hello)) != 0)
			return false;
		b->off += sizeof(transport_hello);
		cn->hello = true;
	}
	while (fbuf_pending(b) >= TRANSPORT_HDR) {
		len = fbuf_get32(b->p + b->off);
		if (len > TRANSPORT_MAX_MSG)
			return false;
		if (fbuf_pending(b) < TRANSPORT_HDR + (size_t)len) {
			*want = TRANSPORT_HDR + (size_t)len;
			return true;
		}
		b->off += TRANSPORT_HDR + len;
		/* borrowed: nothing the callback may call touches rb */
		t->cb(t->arg, b->p + b->off - len, len);
		if (t->closed)
			return false;
	}
	if (b->off == b->len)
		fbuf_clear(b);
	return true;
}

static void transport_free(struct transport *t);

static void
transport_conn_io(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct transport_conn *cn = arg;
	struct transport *t = cn->t;
	size_t want = 0;
	bool ok;
	int rc;

	if (cn->hello && fbuf_pending(&cn->rb) >= TRANSPORT_HDR)
		want = TRANSPORT_HDR + fbuf_get32(cn->rb.p + cn->rb.off);
	rc = fbuf_fill(fd, &cn->rb, want > TRANSPORT_HDR + TRANSPORT_MAX_MSG ?
	    0 : want);
	/* frames that arrived before an end of stream are still delivered */
	t->depth++;
	ok = transport_conn_parse(cn, &want);
	t->depth--;
	if (t->closed) {
		if (t->depth == 0)
			transport_free(t);
		return;
	}
	if (!ok) {
		log_debug("transport: dropping a connection that sent "
		    "garbage");
		transport_conn_close(cn);
	} else if (rc != 0) {
		transport_conn_close(cn);
	}
}

static void
transport_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct transport *t = arg;
	struct transport_conn *cn;
	int cfd;

	for (;;) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("transport: accept");
			return;
		}
		if (t->nconns >= TRANSPORT_MAX_CONNS ||
		    (cn = calloc(1, sizeof(*cn))) == NULL) {
			close(cfd);
			continue;
		}
		transport_sockopts(cfd, false);
		cn->t = t;
		cn->fd = cfd;
		if (loop_add_fd(l, cfd, LOOP_READ, transport_conn_io, cn) != 0) {
			close(cfd);
			free(cn);
			continue;
		}
		cn->next = t->conns;
		if (t->conns != NULL)
			t->conns->prev = cn;
		t->conns = cn;
		t->nconns++;
	}
}

int
transport_open(struct loop *l, const char *listen_addr,
    transport_recv_cb cb, void *arg, struct transport **out)
{
	struct sockaddr_storage sa;
	struct transport *t;
	socklen_t salen;
	int fd, one = 1, rc;

	*out = NULL;
	if ((rc = transport_parse(listen_addr, &sa, &salen)) != 0)
		return rc;
	if ((fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return err_from_errno(errno);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, salen) == -1 ||
	    listen(fd, 128) == -1) {
		rc = errno == EADDRINUSE ? ERR_EXISTS :
		    errno == EADDRNOTAVAIL ? ERR_INVAL : err_from_errno(errno);
		log_warn("transport: listen on %s", listen_addr);
		close(fd);
		return rc;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		close(fd);
		return ERR_NOMEM;
	}
	t->loop = l;
	t->lfd = fd;
	t->cb = cb;
	t->arg = arg;
	if ((rc = loop_add_fd(l, fd, LOOP_READ, transport_accept, t)) != 0) {
		close(fd);
		free(t);
		return rc;
	}
	log_info("transport: listening on tcp://%s", listen_addr);
	*out = t;
	return 0;
}

/* ---- peers: frames out ---- */

static void transport_peer_connect(struct loop *l, void *arg);

/* Closes the connection, drops what was queued, schedules a reconnect. */
static void
transport_peer_down(struct transport_peer *p)
{
	struct transport *t = p->t;

	if (p->fd != -1) {
		loop_del_fd(t->loop, p->fd);
		close(p->fd);
		p->fd = -1;
	}
	p->state = PEER_DOWN;
	p->wwait = false;
	p->nq = 0;
	fbuf_clear(&p->wb);
	if (p->timer == 0)
		p->timer = loop_timer_add(t->loop, p->backoff_ms,
		    transport_peer_connect, p);
	p->backoff_ms *= 2;
	if (p->backoff_ms > TRANSPORT_RECONN_MAX_MS)
		p->backoff_ms = TRANSPORT_RECONN_MAX_MS;
}

/* Writes what is queued; on a full socket the rest waits for LOOP_WRITE. */
static void
transport_peer_flush(struct transport_peer *p)
{
	int rc;

	if (p->state != PEER_UP || p->wwait || fbuf_pending(&p->wb) == 0)
		return;
	rc = fbuf_flush(p->fd, &p->wb);
	if (rc == 0) {
		p->nq = 0;
		p->full = false;
	} else if (rc == ERR_AGAIN) {
		p->wwait = true;
		loop_mod_fd(p->t->loop, p->fd, LOOP_READ | LOOP_WRITE);
	} else {
		log_debug("transport: send to %s: %s", p->addr, err_str(rc));
		transport_peer_down(p);
	}
}

static void
transport_peer_io(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct transport_peer *p = arg;
	socklen_t len = sizeof(int);
	uint8_t junk[64];
	int err = 0;
	ssize_t n;

	if (p->state == PEER_CONNECTING) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			log_debug("transport: connect to %s: %s", p->addr,
			    strerror(err));
			transport_peer_down(p);
			return;
		}
		p->state = PEER_UP;
		p->backoff_ms = TRANSPORT_RECONN_MIN_MS;
		loop_mod_fd(l, fd, LOOP_READ);
		transport_peer_flush(p);
		return;
	}
	if (events & (LOOP_READ | LOOP_ERROR)) {
		/* the peer never writes here: data, EOF or an error ends it */
		n = read(fd, junk, sizeof(junk));
		if (n == -1 && (errno == EAGAIN || errno == EINTR) &&
		    !(events & LOOP_ERROR))
			goto write;
		transport_peer_down(p);
		return;
	}
write:
	if (events & LOOP_WRITE) {
		p->wwait = false;
		loop_mod_fd(l, fd, LOOP_READ);
		transport_peer_flush(p);
	}
}

/* Timer (or first use): a non-blocking connect, the hello queued first. */
static void
transport_peer_connect(struct loop *l, void *arg)
{
	struct transport_peer *p = arg;
	int fd;

	p->timer = 0;
	fbuf_clear(&p->wb);
	p->nq = 0;
	if ((fd = socket(p->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		transport_peer_down(p);
		return;
	}
	transport_sockopts(fd, true);
	if (connect(fd, (struct sockaddr *)&p->sa, p->salen) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		transport_peer_down(p);
		return;
	}
	if (fbuf_append(&p->wb, transport_hello,
	    sizeof(transport_hello)) != 0 ||
	    loop_add_fd(l, fd, LOOP_READ | LOOP_WRITE, transport_peer_io,
	    p) != 0) {
		close(fd);
		transport_peer_down(p);
		return;
	}
	p->fd = fd;
	p->state = PEER_CONNECTING;
}

static void
transport_peer_free(struct transport_peer *p)
{
	struct transport *t = p->t;

	if (p->fd != -1) {
		/* best effort: what is queued may still fit the socket */
		if (p->state == PEER_UP && !p->wwait)
			(void)fbuf_flush(p->fd, &p->wb);
		loop_del_fd(t->loop, p->fd);
		close(p->fd);
	}
	loop_timer_cancel(t->loop, p->timer);
	fbuf_free(&p->wb);
	free(p);
}

static struct transport_peer *
transport_peer_open(struct transport *t, uint64_t id, const char *addr)
{
	struct transport_peer *p;

	if (strlen(addr) >= TRANSPORT_ADDR_MAX)
		return NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if (transport_parse(addr, &p->sa, &p->salen) != 0) {
		free(p);
		return NULL;
	}
	p->t = t;
	p->id = id;
	p->fd = -1;
	p->backoff_ms = TRANSPORT_RECONN_MIN_MS;
	strcpy(p->addr, addr);
	p->next = t->peers;
	t->peers = p;
	transport_peer_connect(t->loop, p);
	return p;
}

void
transport_flush(struct transport *t)
{
	struct transport_peer *p;

	for (p = t->peers; p != NULL; p = p->next)
		transport_peer_flush(p);
}

/* End of the loop iteration: every peer's frames leave in one write. */
static void
transport_flush_all(struct loop *l, void *arg)
{
	struct transport *t = arg;

	t->ftimer = 0;
	transport_flush(t);
}

void
transport_flush_later(struct transport *t)
{
	/* re-armed: timers of one iteration run in the order added */
	if (t->ftimer != 0)
		loop_timer_cancel(t->loop, t->ftimer);
	t->ftimer = loop_timer_add(t->loop, 0, transport_flush_all, t);
	if (t->ftimer == 0)
		transport_flush(t);
}

int
transport_send(struct transport *t, uint64_t id, const char *addr,
    const uint8_t *data, size_t len)
{
	struct transport_peer *p;
	uint8_t hdr[TRANSPORT_HDR];
	size_t queued;

	if (addr == NULL || *addr == '\0' || len > TRANSPORT_MAX_MSG)
		return ERR_INVAL;
	for (p = t->peers; p != NULL; p = p->next)
		if (p->id == id)
			break;
	if (p != NULL && strcmp(p->addr, addr) != 0) {
		transport_forget(t, id);
		p = NULL;
	}
	if (p == NULL && (p = transport_peer_open(t, id, addr)) == NULL)
		return ERR_INVAL;
	if (p->state == PEER_DOWN)
		return ERR_AGAIN;
	queued = fbuf_pending(&p->wb);
	if (p->nq >= TRANSPORT_QUEUE_MSGS || (p->nq > 0 &&
	    queued + TRANSPORT_HDR + len > TRANSPORT_QUEUE_BYTES)) {
		if (!p->full)
			log_warnx("transport: queue to %s full (%u messages, "
			    "%zu bytes): dropping until it drains", p->addr,
			    p->nq, queued);
		p->full = true;
		return ERR_AGAIN;
	}
	fbuf_put32(hdr, (uint32_t)len);
	if (fbuf_reserve(&p->wb, TRANSPORT_HDR + len) != 0)
		return ERR_NOMEM;
	(void)fbuf_append(&p->wb, hdr, sizeof(hdr));
	(void)fbuf_append(&p->wb, data, len);
	p->nq++;
	if (t->ftimer == 0)
		t->ftimer = loop_timer_add(t->loop, 0, transport_flush_all, t);
	if (t->ftimer == 0)
		transport_peer_flush(p);
	return 0;
}

void
transport_forget(struct transport *t, uint64_t id)
{
	struct transport_peer **pp, *p;

	for (pp = &t->peers; (p = *pp) != NULL; pp = &p->next) {
		if (p->id == id) {
			*pp = p->next;
			transport_peer_free(p);
			return;
		}
	}
}

static void
transport_free(struct transport *t)
{
	free(t);
}

void
transport_close(struct transport *t)
{
	struct transport_peer *p;

	if (t == NULL)
		return;
	loop_del_fd(t->loop, t->lfd);
	close(t->lfd);
	loop_timer_cancel(t->loop, t->ftimer);
	t->ftimer = 0;
	while ((p = t->peers) != NULL) {
		t->peers = p->next;
		transport_peer_free(p);
	}
	while (t->conns != NULL)
		transport_conn_close(t->conns);
	t->closed = true;
	if (t->depth == 0)
		transport_free(t);
}
