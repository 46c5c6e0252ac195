/*
 * transport.c — raftd's server-to-server link over nng TCP (transport.h;
 * DESIGN.md §4 puts server RPC on ports.server). With common/ipc.c the
 * only file that includes <nng/nng.h>.
 *
 * Key decisions: one-way PUSH/PULL pipes rather than REQ/REP: Raft
 * messages are one-way (a reply is a message of its own, matched by
 * term and sequence numbers in the core), and request/reply semantics
 * for forwarded client requests come from the fwd_id carried in
 * MSG_RAFT_FORWARD, so one listener serves everything. Sends are
 * non-blocking (NNG_FLAG_NONBLOCK): a full buffer or a missing
 * connection drops the message, which the core retransmits (dissertation
 * §3.3: "RPCs are retried if they do not receive a response"). nng's
 * threads never touch raftd state: the receive callback posts the
 * message to the loop; the posted item holds a reference to a small
 * shared record so a message posted just before transport_close() is
 * freed, not delivered. Reference: nng 1.5 pipeline0 (push/pull) docs,
 * hashicorp/raft net_transport.go (a pooled connection per peer).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include "err.h"
#include "log.h"
#include "loop.h"
#include "transport.h"

#define TRANSPORT_MAX_MSG (64u << 20) /* PROTO_MAX_MSG */
#define TRANSPORT_SENDBUF 64	      /* messages queued per peer */
#define TRANSPORT_RECVBUF 1024
#define TRANSPORT_RECONN_MIN_MS 50
#define TRANSPORT_RECONN_MAX_MS 1000
#define TRANSPORT_ADDR_MAX 300

/* Shared between the transport and messages posted to the loop. */
struct transport_shared {
	atomic_uint refs;
	bool closed; /* loop thread only */
	transport_recv_cb cb;
	void *arg;
};

struct transport_peer {
	uint64_t id;
	char addr[TRANSPORT_ADDR_MAX];
	nng_socket sock;
	struct transport_peer *next;
};

struct transport {
	struct loop *loop;
	nng_socket pull;
	nng_aio *aio;
	struct transport_shared *sh;
	struct transport_peer *peers;
};

struct transport_item {
	struct transport_shared *sh;
	nng_msg *msg;
};

static int
transport_err(int rv)
{
	switch (rv) {
	case NNG_ENOMEM:
		return ERR_NOMEM;
	case NNG_EADDRINUSE:
		return ERR_EXISTS;
	case NNG_EADDRINVAL:
	case NNG_EINVAL:
		return ERR_INVAL;
	case NNG_EAGAIN:
		return ERR_AGAIN;
	case NNG_ECLOSED:
		return ERR_CLOSED;
	default:
		return ERR_IO;
	}
}

/* nng starts its threads on first use: they inherit these blocked. */
static int
transport_sock_open(int (*open_fn)(nng_socket *), nng_socket *s)
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

static int
transport_url(char *buf, size_t size, const char *addr)
{
	const char *colon = addr != NULL ? strrchr(addr, ':') : NULL;
	int n;

	if (colon == NULL || colon == addr || colon[1] == '\0')
		return ERR_INVAL;
	n = snprintf(buf, size, "tcp://%s", addr);
	if (n < 0 || (size_t)n >= size)
		return ERR_TOOBIG;
	return 0;
}

static void
transport_unref(struct transport_shared *sh)
{
	if (atomic_fetch_sub(&sh->refs, 1) == 1)
		free(sh);
}

/* On the loop: one received message. */
static void
transport_deliver(void *arg)
{
	struct transport_item *it = arg;

	if (!it->sh->closed)
		it->sh->cb(it->sh->arg, nng_msg_body(it->msg),
		    nng_msg_len(it->msg));
	nng_msg_free(it->msg);
	transport_unref(it->sh);
	free(it);
}

/* On an nng thread: a receive finished; hand it over, receive again. */
static void
transport_recv_done(void *arg)
{
	struct transport *t = arg;
	struct transport_item *it;
	nng_msg *m;
	int rv;

	if ((rv = nng_aio_result(t->aio)) != 0) {
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		nng_recv_aio(t->pull, t->aio);
		return;
	}
	m = nng_aio_get_msg(t->aio);
	if ((it = malloc(sizeof(*it))) == NULL) {
		nng_msg_free(m);
	} else {
		it->sh = t->sh;
		it->msg = m;
		atomic_fetch_add(&t->sh->refs, 1);
		if (loop_post(t->loop, transport_deliver, it) != 0) {
			atomic_fetch_sub(&t->sh->refs, 1);
			nng_msg_free(m);
			free(it);
		}
	}
	nng_recv_aio(t->pull, t->aio);
}

int
transport_open(struct loop *l, const char *listen_addr,
    transport_recv_cb cb, void *arg, struct transport **out)
{
	struct transport *t;
	char url[TRANSPORT_ADDR_MAX + 8];
	nng_listener lst;
	int rc, rv;

	*out = NULL;
	if ((rc = transport_url(url, sizeof(url), listen_addr)) != 0)
		return rc;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ERR_NOMEM;
	if ((t->sh = calloc(1, sizeof(*t->sh))) == NULL) {
		free(t);
		return ERR_NOMEM;
	}
	atomic_init(&t->sh->refs, 1);
	t->sh->cb = cb;
	t->sh->arg = arg;
	t->loop = l;
	if ((rv = transport_sock_open(nng_pull0_open, &t->pull)) != 0) {
		free(t->sh);
		free(t);
		return transport_err(rv);
	}
	if ((rv = nng_socket_set_size(t->pull, NNG_OPT_RECVMAXSZ,
	    TRANSPORT_MAX_MSG)) != 0 ||
	    (rv = nng_socket_set_int(t->pull, NNG_OPT_RECVBUF,
	    TRANSPORT_RECVBUF)) != 0 ||
	    (rv = nng_listener_create(&lst, t->pull, url)) != 0 ||
	    (rv = nng_listener_set_size(lst, NNG_OPT_RECVMAXSZ,
	    TRANSPORT_MAX_MSG)) != 0 ||
	    (rv = nng_listener_start(lst, 0)) != 0 ||
	    (rv = nng_aio_alloc(&t->aio, transport_recv_done, t)) != 0) {
		log_warnx("transport: listen %s: %s", url, nng_strerror(rv));
		nng_close(t->pull);
		free(t->sh);
		free(t);
		return transport_err(rv);
	}
	nng_recv_aio(t->pull, t->aio);
	log_info("transport: listening on %s", url);
	*out = t;
	return 0;
}

static void
transport_peer_free(struct transport_peer *p)
{
	nng_close(p->sock);
	free(p);
}

void
transport_close(struct transport *t)
{
	struct transport_peer *p;

	if (t == NULL)
		return;
	nng_aio_stop(t->aio); /* waits for a callback in progress */
	nng_close(t->pull);
	nng_aio_free(t->aio);
	while ((p = t->peers) != NULL) {
		t->peers = p->next;
		transport_peer_free(p);
	}
	t->sh->closed = true;
	transport_unref(t->sh);
	free(t);
}

static struct transport_peer *
transport_peer_open(struct transport *t, uint64_t id, const char *addr)
{
	struct transport_peer *p;
	char url[TRANSPORT_ADDR_MAX + 8];
	nng_dialer d;
	int rv;

	if (strlen(addr) >= TRANSPORT_ADDR_MAX ||
	    transport_url(url, sizeof(url), addr) != 0)
		return NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->id = id;
	strcpy(p->addr, addr);
	if ((rv = transport_sock_open(nng_push0_open, &p->sock)) != 0) {
		free(p);
		return NULL;
	}
	if ((rv = nng_socket_set_int(p->sock, NNG_OPT_SENDBUF,
	    TRANSPORT_SENDBUF)) != 0 ||
	    (rv = nng_dialer_create(&d, p->sock, url)) != 0 ||
	    (rv = nng_dialer_set_ms(d, NNG_OPT_RECONNMINT,
	    TRANSPORT_RECONN_MIN_MS)) != 0 ||
	    (rv = nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT,
	    TRANSPORT_RECONN_MAX_MS)) != 0 ||
	    (rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
		log_warnx("transport: dial %s: %s", url, nng_strerror(rv));
		transport_peer_free(p);
		return NULL;
	}
	p->next = t->peers;
	t->peers = p;
	return p;
}

int
transport_send(struct transport *t, uint64_t id, const char *addr,
    const uint8_t *data, size_t len)
{
	struct transport_peer *p;
	nng_msg *m;
	int rv;

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
	if (nng_msg_alloc(&m, len) != 0)
		return ERR_NOMEM;
	if (len > 0)
		memcpy(nng_msg_body(m), data, len);
	if ((rv = nng_sendmsg(p->sock, m, NNG_FLAG_NONBLOCK)) != 0) {
		nng_msg_free(m);
		return transport_err(rv);
	}
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
