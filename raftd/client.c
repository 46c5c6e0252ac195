/*
 * client.c — raftd on a client agent (a node without -server), and the
 * server's side of what client agents send (spec §6.1, DESIGN.md §1, §6).
 *
 * A client agent's raftd keeps no state: no store, no Raft, no tables.
 * It learns the servers of its datacenter from gossip (members.c calls
 * client_server_seen/_gone) and forwards every request its siblings send
 * on raftd.rpc (KV, catalog, sessions, txn, status, operator; blocking
 * reads with their wait) to one server, as MSG_RAFT_FORWARD over the
 * server transport (transport.c) with its own listen address in
 * reply_addr; the server replays the bytes into its own raftd.rpc (which
 * forwards to the leader when it is a follower) and sends the reply
 * envelope back byte for byte, so headers, indexes, 404s and errors are
 * exactly the server's.
 *
 * Key decisions, as Consul's client (agent/consul/client.go RPC, router
 * manager): the server is chosen at random and kept while it answers. A
 * status request is sent to it every CLIENT_PROBE_MS; one unanswered for
 * CLIENT_PROBE_TIMEOUT_MS (or gossip saying failed or left) marks it
 * down and another is chosen; a down server is probed too and comes back
 * when it answers. Every two to three minutes the choice is made afresh,
 * so clients spread over servers that joined later (Consul's rebalance). While no server is usable a request is held up to
 * rpc_hold_timeout, then answered 500 "No known Consul servers" (none in
 * gossip: Consul's structs.ErrNoServers) or "rpc error making call: ..."
 * (servers known, none answering). When the server a request went to is
 * marked down, a read is sent again to the next one (reads are safe to
 * repeat, Consul's canRetry), and so is a write the leader deduplicates
 * by (client_id, seq) (httpd's: the copy is answered with the outcome,
 * applied once); any other write fails (it may have been applied;
 * Consul answers such writes with the RPC error too). Each send of a
 * request has its own fwd id: a late answer to an earlier copy is never
 * taken for the outcome. The
 * nng PUSH link queues while it dials, so a send never fails for a
 * server that is merely connecting; only the probe tells an answering
 * server from a silent one.
 *
 * A server whose raftd restarts within the probe window never looks
 * silent, but what the old process had not answered is lost. Every
 * forward result carries the answering process's incarnation (random,
 * chosen at its start); when a server's changes, its requests in flight
 * are treated as if it had gone down (reads and deduplicated writes
 * sent again at once, other writes fail with the RPC error) without
 * marking it down. A late result from
 * the previous incarnation is still delivered but changes nothing.
 *
 * On servers (every server runs the Raft core and its transport on the
 * server port), forwarded requests from client agents arrive like a
 * follower's (consensus.c notes the reply address, client_peer_note),
 * are served by forward_recv_request (forward.c) and the results go back
 * to the reply address remembered per client id (client_peer_send). A
 * result the link has no room for (a burst: one commit answers hundreds)
 * waits in an outbox instead of being dropped; forward.c's results to a
 * follower server use it too.
 * Reference: consul agent/consul/client.go (RPC, ErrNoServers),
 * agent/router/manager.go (random server, rotate on failure).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/random.h>

#include "config.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "msg_raft.h"
#include "msg_session.h"
#include "nodeid.h"
#include "proto.h"
#include "raftd.h"
#include "transport.h"

#define CLIENT_PROBE_MS 1000	     /* a status probe per server and period */
#define CLIENT_PROBE_TIMEOUT_MS 3000 /* unanswered that long: down (at
					      * most half rpc_hold_timeout, at
					      * least a second) */
#define CLIENT_RETRY_MS 100	     /* re-check of a held request */
#define CLIENT_SLACK_MS 2500	     /* beyond the server's own hold time;
					      * under httpd's 3 s slack */
#define CLIENT_PEERS_MAX 4096	     /* reply addresses a server keeps */
#define CLIENT_REBALANCE_MS 120000  /* another random server, at most as
					      * often as this (plus up to half) */
#define CLIENT_OUT_MS 2		     /* retry of messages the link refused */
#define CLIENT_OUT_TTL_MS 10000	     /* a message not taken by then: dropped */
#define CLIENT_OUT_MAX 65536

struct client_server {
	uint64_t id;
	char name[128];
	char addr[300];
	bool alive;	      /* gossip: alive (not failed, left, reaped) */
	bool down;	      /* stopped answering: not used until it does */
	uint64_t probe_id;    /* the fwd id of the probe in flight, 0 none */
	uint64_t probe_sent;  /* when it was sent */
	uint64_t last_ok;     /* when it last answered anything */
	uint64_t inc;	      /* its raftd's incarnation, 0 not known yet */
	uint64_t inc_old;     /* the one before (late results from it) */
};

struct client_req {
	struct raftd *rd;
	uint64_t id;		/* fwd id, echoed in the result */
	struct ipc_req *req;
	uint64_t reqid;
	const uint8_t *data;	/* borrowed from req */
	size_t len;
	bool read;		/* safe to send again */
	bool status;		/* MSG_STATUS_GET: Stats are this agent's */
	uint32_t wait_ms;	/* a blocking read's wait */
	uint64_t deadline;	/* held: give up then */
	uint64_t limit;		/* answer by then, whatever happens (httpd
				 * waits a little longer) */
	uint64_t target;	/* the server it went to, 0 while held */
	uint64_t timer;
	struct client_req *next;
};

/* A message the link's queue had no room for, retried shortly. */
struct client_out {
	uint64_t id;
	char addr[300];
	struct proto_buf buf;
	uint64_t since;
	struct client_out *next;
};

/* A client agent that sent us a request: where its results go. */
struct client_peer {
	uint64_t id;
	char addr[300];
	struct client_peer *next;
};

struct client {
	struct raftd *rd;
	bool agent;	     /* a client agent (else a server's peer table) */
	struct client_server *v;
	size_t n, cap;
	uint64_t cur;	     /* the server requests go to, 0 none */
	uint64_t logged;     /* the last one logged */
	struct client_req *reqs;
	uint64_t next_id;
	uint64_t probe_timer;
	uint64_t rebalance_at; /* pick a server afresh from then on */
	uint64_t rng;
	char reply_addr[300];
	uint64_t incarnation;	/* a server: this process's, in results */
	struct proto_arena arena;
	struct proto_buf probe; /* an encoded MSG_STATUS_GET */
	/* server side: client agents' reply addresses */
	struct client_peer *peers;
	size_t n_peers;
	/* both sides: messages waiting for room in the link (transport.c
	 * drops what finds its 64-message queue full: a burst of results
	 * from one commit, or of requests, must not be lost) */
	struct client_out *out, **out_tail; /* oldest first */
	size_t n_out;
	uint64_t out_timer;
};

static void client_req_route(struct client *c, struct client_req *r);

static uint64_t
client_rand(struct client *c)
{
	/* xorshift64*: spreading clients over servers, not security */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 2685821657736338717ull;
}

static struct client_server *
client_find(struct client *c, uint64_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].id == id)
			return &c->v[i];
	return NULL;
}

static bool
client_usable(const struct client_server *s)
{
	return s != NULL && s->alive && !s->down;
}

/* Keeps the current server while usable, else picks one at random. */
static struct client_server *
client_pick(struct client *c)
{
	struct client_server *s = client_find(c, c->cur);
	size_t n = 0, k;

	if (client_usable(s))
		return s;
	for (size_t i = 0; i < c->n; i++)
		n += client_usable(&c->v[i]);
	c->cur = 0;
	if (n == 0)
		return NULL;
	k = (size_t)(client_rand(c) % n);
	for (size_t i = 0; i < c->n; i++) {
		if (!client_usable(&c->v[i]))
			continue;
		if (k-- == 0) {
			c->cur = c->v[i].id;
			if (c->cur != c->logged)
				log_info("client: using server %s (%s)",
				    c->v[i].name, c->v[i].addr);
			c->logged = c->cur;
			return &c->v[i];
		}
	}
	return NULL;
}

/* ---- requests ---- */

static void
client_req_unlink(struct client *c, struct client_req *r)
{
	struct client_req **pp;

	for (pp = &c->reqs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	if (r->timer != 0)
		loop_timer_cancel(c->rd->loop, r->timer);
	r->timer = 0;
}

static void
client_req_fail(struct client *c, struct client_req *r, int code,
    const char *msg)
{
	client_req_unlink(c, r);
	dispatch_reply_error(r->req, r->reqid, code, msg);
	free(r);
}

static void
client_req_timer(struct loop *l, void *arg)
{
	struct client_req *r = arg;
	struct client *c = r->rd->client;
	struct client_server *s;
	char msg[600];

	(void)l;
	r->timer = 0;
	if (r->target == 0) { /* held: try again */
		client_req_route(c, r);
		return;
	}
	s = client_find(c, r->target);
	snprintf(msg, sizeof(msg), "rpc error making call: timeout waiting "
	    "for server %s (%s)", s != NULL ? s->name : "?",
	    s != NULL ? s->addr : "?");
	client_req_fail(c, r, ERR_INTERNAL, msg);
}

static void
client_req_arm(struct client *c, struct client_req *r, uint64_t delay)
{
	if (r->timer != 0)
		loop_timer_cancel(c->rd->loop, r->timer);
	r->timer = loop_timer_add(c->rd->loop, delay, client_req_timer, r);
}

static void client_out_flush(struct loop *l, void *arg);

static void
client_out_arm(struct client *c)
{
	if (c->out != NULL && c->out_timer == 0)
		c->out_timer = loop_timer_add(c->rd->loop, CLIENT_OUT_MS,
		    client_out_flush, c);
}

/* Retries every waiting message; order does not matter (each carries
 * its fwd_id). */
static void
client_out_flush(struct loop *l, void *arg)
{
	struct client *c = arg;
	struct client_out **pp = &c->out, *o;
	uint64_t now = loop_now_ms(l);
	int rc;

	c->out_timer = 0;
	while ((o = *pp) != NULL) {
		rc = c->rd->tp == NULL ? ERR_CLOSED : transport_send(c->rd->tp,
		    o->id, o->addr, o->buf.data, o->buf.len);
		if (rc == ERR_AGAIN && now - o->since < CLIENT_OUT_TTL_MS) {
			pp = &o->next;
			continue;
		}
		if (rc != 0)
			log_debug("client: message to %016llx dropped: %s",
			    (unsigned long long)o->id, err_str(rc));
		*pp = o->next;
		proto_buf_free(&o->buf);
		free(o);
		c->n_out--;
	}
	c->out_tail = pp;
	client_out_arm(c);
}

/* Drops what waits for id (its link was dropped). */
static void
client_out_forget(struct client *c, uint64_t id)
{
	struct client_out **pp = &c->out, *o;

	while ((o = *pp) != NULL) {
		if (o->id != id) {
			pp = &o->next;
			continue;
		}
		*pp = o->next;
		proto_buf_free(&o->buf);
		free(o);
		c->n_out--;
	}
	c->out_tail = pp;
}

/* Sends buf (owned: taken in every case) to id at addr; a message the
 * link has no room for waits in the outbox. */
static int
client_out_send(struct client *c, uint64_t id, const char *addr,
    struct proto_buf *buf)
{
	struct client_out *o;
	int rc;

	if (c->rd->tp == NULL) {
		proto_buf_free(buf);
		return ERR_CLOSED;
	}
	rc = transport_send(c->rd->tp, id, addr, buf->data, buf->len);
	if (rc != ERR_AGAIN || c->n_out >= CLIENT_OUT_MAX ||
	    strlen(addr) >= sizeof(o->addr) ||
	    (o = calloc(1, sizeof(*o))) == NULL) {
		proto_buf_free(buf);
		return rc;
	}
	o->id = id;
	snprintf(o->addr, sizeof(o->addr), "%s", addr);
	o->buf = *buf;
	o->since = loop_now_ms(c->rd->loop);
	if (c->out_tail == NULL)
		c->out_tail = &c->out;
	*c->out_tail = o;
	c->out_tail = &o->next;
	c->n_out++;
	client_out_arm(c);
	return 0;
}

/* Sends data as MSG_RAFT_FORWARD tagged fwd_id to s. */
static int
client_send(struct client *c, struct client_server *s, uint64_t fwd_id,
    const uint8_t *data, size_t len)
{
	struct msg_raft_forward f;
	struct proto_buf out;
	int rc;

	memset(&f, 0, sizeof(f));
	f.from = c->rd->node_id;
	f.fwd_id = fwd_id;
	f.request.ptr = (const char *)data;
	f.request.len = (uint32_t)len;
	f.reply_addr = proto_str_c(c->reply_addr);
	if ((rc = proto_encode(MSG_RAFT_FORWARD, 0, &f, &out)) != 0)
		return rc;
	return client_out_send(c, s->id, s->addr, &out);
}

/* The answer for a request nobody could take before its deadline. */
static void
client_req_expire(struct client *c, struct client_req *r)
{
	char msg[600];
	size_t known = 0;

	for (size_t i = 0; i < c->n; i++)
		known += c->v[i].alive;
	if (known == 0) {
		client_req_fail(c, r, ERR_INTERNAL, "No known Consul servers");
		return;
	}
	snprintf(msg, sizeof(msg), "rpc error making call: no Consul server "
	    "answered (%zu known)", known);
	client_req_fail(c, r, ERR_INTERNAL, msg);
}

/* Sends r to a usable server, or holds it until its deadline. */
static void
client_req_route(struct client *c, struct client_req *r)
{
	struct client_server *s = client_pick(c);
	uint64_t now = loop_now_ms(c->rd->loop);

	/* every send its own id: only the answer to the latest is taken
	 * (client_result), never a late one to a copy sent before */
	r->id = ++c->next_id;
	if (s != NULL && now < r->limit &&
	    client_send(c, s, r->id, r->data, r->len) == 0) {
		r->target = s->id;
		client_req_arm(c, r, r->limit - now);
		return;
	}
	r->target = 0;
	if (now >= r->deadline) {
		client_req_expire(c, r);
		return;
	}
	client_req_arm(c, r, CLIENT_RETRY_MS);
}

/* The wait of a blocking read (0 otherwise); whether it is a read. */
static uint32_t
client_req_wait(const struct proto_msg *m, bool *read)
{
	const struct proto_read_opts *o = NULL;

	*read = true;
	switch (m->type) {
	case MSG_KV_GET:
		o = &((const struct msg_kv_get *)m->body)->opts;
		break;
	case MSG_CATALOG_GET:
		o = &((const struct msg_catalog_get *)m->body)->opts;
		break;
	case MSG_SESSION_GET:
		o = &((const struct msg_session_get *)m->body)->opts;
		break;
	case MSG_STATUS_GET:
	case MSG_OPERATOR_RAFT_GET:
		break;
	default:
		*read = false;
		break;
	}
	return o != NULL && o->min_index > 0 ? o->wait_ms : 0;
}

void
client_dispatch(struct raftd *rd, struct ipc_req *req, const uint8_t *data,
    size_t len)
{
	struct client *c = rd->client;
	struct client_req *r;
	struct proto_msg m;

	if (proto_decode(data, len, &c->arena, &m) != 0 ||
	    m.type == MSG_ERROR || (m.type >= MSG_RAFT_VOTE &&
	    m.type <= MSG_RAFT_FORWARD_RESULT)) {
		proto_arena_reset(&c->arena);
		dispatch_reply_error(req, 0, ERR_BADMSG, "malformed message");
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		proto_arena_reset(&c->arena);
		dispatch_reply_error(req, m.reqid, ERR_INTERNAL,
		    "raftd: out of memory");
		return;
	}
	r->rd = rd;
	r->id = ++c->next_id;
	r->req = req;
	r->reqid = m.reqid;
	r->data = data;
	r->len = len;
	r->wait_ms = client_req_wait(&m, &r->read);
	r->status = m.type == MSG_STATUS_GET;
	proto_arena_reset(&c->arena);
	r->deadline = loop_now_ms(rd->loop) + rd->cfg->rpc_hold_timeout_ms;
	r->limit = r->deadline + r->wait_ms + r->wait_ms / 16 +
	    CLIENT_SLACK_MS;
	r->next = c->reqs;
	c->reqs = r;
	client_req_route(c, r);
}

/* Held requests go now that a server may be usable. */
static void
client_release(struct client *c)
{
	struct client_req *r, *next;

	if (client_pick(c) == NULL)
		return;
	for (r = c->reqs; r != NULL; r = next) {
		next = r->next;
		if (r->target == 0)
			client_req_route(c, r);
	}
}

/*
 * What was sent to s is lost: reads are sent again, and so are writes
 * the leader deduplicates by (client_id, seq) (forward_may_resend);
 * other writes fail. A write must not fail here while it may still
 * apply: a server whose raftd restarted within the probe window is sent
 * what the link held for it while it was down (the outbox), and its new
 * process forwards that once it hears from the leader — after its first
 * probe answer told us it restarted. Told that the write failed, the
 * client read the key back before it applied and found its cas refused
 * later (test_role_restart_cluster). Sent again, the copy is answered
 * with the outcome: the leader applies (client_id, seq) once.
 */
static void
client_server_lost(struct client *c, struct client_server *s,
    const char *why)
{
	struct client_req *r, *next;
	uint64_t now = loop_now_ms(c->rd->loop);
	char msg[600];

	/* drop what the link still queues for it: a request answered
	 * with an error here must not reach a restarted server later */
	transport_forget(c->rd->tp, s->id);
	client_out_forget(c, s->id);
	snprintf(msg, sizeof(msg), "rpc error making call: server %s (%s) %s",
	    s->name, s->addr, why);
	for (r = c->reqs; r != NULL; r = next) {
		next = r->next;
		if (r->target != s->id)
			continue;
		if (!r->read && !forward_may_resend(FORWARD_WRITE, r->data,
		    r->len)) {
			client_req_fail(c, r, ERR_INTERNAL, msg);
			continue;
		}
		/* another hold, within what the caller waits for */
		r->deadline = now + c->rd->cfg->rpc_hold_timeout_ms;
		if (r->deadline > r->limit)
			r->deadline = r->limit;
		r->target = 0;
		client_req_arm(c, r, 0);
	}
}

/* s stopped answering: reads to it go elsewhere, writes fail. */
static void
client_server_down(struct client *c, struct client_server *s,
    const char *why)
{
	if (!s->down)
		log_warnx("client: server %s (%s) %s", s->name, s->addr, why);
	s->down = true;
	if (c->cur == s->id)
		c->cur = 0;
	client_server_lost(c, s, why);
}

/* A result from s by raftd incarnation inc (0: an old server's). */
static void
client_server_inc(struct client *c, struct client_server *s, uint64_t inc)
{
	if (inc == 0 || inc == s->inc || inc == s->inc_old)
		return;
	s->inc_old = s->inc;
	s->inc = inc;
	if (s->inc_old == 0)
		return; /* the first we hear of */
	log_warnx("client: server %s (%s) restarted: requests in flight to "
	    "it are lost", s->name, s->addr);
	client_server_lost(c, s, "restarted");
}

/* A reply from server `from` (any reply: it answers). */
static void
client_server_answered(struct client *c, uint64_t from)
{
	struct client_server *s = client_find(c, from);

	if (s == NULL)
		return;
	s->last_ok = loop_now_ms(c->rd->loop);
	if (!s->down)
		return;
	s->down = false;
	log_info("client: server %s (%s) answers again", s->name, s->addr);
	client_release(c);
}

/*
 * The server's status answers /v1/status/leader and /peers as is; the
 * agent/self Stats are this agent's, as a Consul client's: consul
 * {known_servers, server "false"}, no raft. Returns false to relay as is.
 */
static bool
client_status_reply(struct client *c, struct client_req *r,
    const struct msg_raft_forward_result *f)
{
	struct msg_status_get_result st;
	struct proto_arena a;
	struct proto_msg m;
	struct proto_buf out;
	struct proto_str k[2], v[2];
	char known[24];
	size_t n = 0;
	int rc;

	proto_arena_init(&a);
	if (proto_decode((const uint8_t *)f->reply.ptr, f->reply.len, &a,
	    &m) != 0 || m.type != MSG_STATUS_GET_RESULT) {
		proto_arena_free(&a);
		return false;
	}
	for (size_t i = 0; i < c->n; i++)
		n += c->v[i].alive;
	snprintf(known, sizeof(known), "%zu", n);
	k[0] = proto_str_c("known_servers");
	v[0] = proto_str_c(known);
	k[1] = proto_str_c("server");
	v[1] = proto_str_c("false");
	st = *(const struct msg_status_get_result *)m.body;
	st.consul.keys = k;
	st.consul.vals = v;
	st.consul.n = 2;
	memset(&st.raft, 0, sizeof(st.raft));
	rc = proto_encode(MSG_STATUS_GET_RESULT, r->reqid, &st, &out);
	proto_arena_free(&a);
	if (rc != 0)
		return false;
	if (ipc_reply(r->req, out.data, out.len) != 0)
		log_debug("client: status reply not sent");
	proto_buf_free(&out);
	return true;
}

static void
client_result(struct client *c, const struct msg_raft_forward_result *f)
{
	struct client_req *r;
	struct client_server *s;

	for (size_t i = 0; i < c->n; i++) {
		s = &c->v[i];
		if (s->probe_id != 0 && s->probe_id == f->fwd_id) {
			s->probe_id = 0;
			client_server_inc(c, s, f->incarnation);
			client_server_answered(c, s->id);
			return;
		}
	}
	for (r = c->reqs; r != NULL; r = r->next)
		if (r->id == f->fwd_id && r->target != 0)
			break;
	if (r == NULL)
		return; /* answered or failed meanwhile */
	/* by the server it went to; r is answered, whatever a restart
	 * means for the others */
	client_req_unlink(c, r);
	if ((s = client_find(c, r->target)) != NULL)
		client_server_inc(c, s, f->incarnation);
	client_server_answered(c, r->target);
	if (r->status && client_status_reply(c, r, f)) {
		free(r);
		return;
	}
	if (ipc_reply(r->req, (const uint8_t *)f->reply.ptr,
	    f->reply.len) != 0)
		log_debug("client: relayed reply not sent");
	free(r);
}

/* Messages on our transport: results from servers. */
static void
client_recv(void *arg, const uint8_t *data, size_t len)
{
	struct raftd *rd = arg;
	struct client *c = rd->client;
	struct proto_msg m;

	if (c == NULL)
		return;
	if (proto_decode(data, len, &c->arena, &m) == 0 &&
	    m.type == MSG_RAFT_FORWARD_RESULT)
		client_result(c, m.body);
	else
		log_debug("client: unexpected message on the server port");
	proto_arena_reset(&c->arena);
}

/* ---- probes ---- */

static void
client_probe(struct loop *l, void *arg)
{
	struct client *c = arg;
	uint64_t now = loop_now_ms(l);
	uint64_t timeout = c->rd->cfg->rpc_hold_timeout_ms / 2;
	struct client_server *cur;

	if (timeout > CLIENT_PROBE_TIMEOUT_MS)
		timeout = CLIENT_PROBE_TIMEOUT_MS;
	if (timeout < 1000)
		timeout = 1000;
	c->probe_timer = loop_timer_add(l, CLIENT_PROBE_MS, client_probe, c);
	if (now >= c->rebalance_at) {
		/* spread the clients over the servers again (Consul's
		 * router rebalance); requests in flight stay where they are */
		c->rebalance_at = now + CLIENT_REBALANCE_MS +
		    client_rand(c) % (CLIENT_REBALANCE_MS / 2);
		c->cur = 0;
	}
	cur = client_pick(c);
	for (size_t i = 0; i < c->n; i++) {
		struct client_server *s = &c->v[i];

		/* the current server, and down ones to see them back */
		if (!s->alive || (s != cur && !s->down))
			continue;
		if (s->probe_id != 0) {
			if (now - s->probe_sent < timeout)
				continue;
			s->probe_id = 0;
			/* a busy server that answers requests is not down */
			if (s->last_ok < s->probe_sent)
				client_server_down(c, s, "is not answering");
		}
		s->probe_id = ++c->next_id;
		s->probe_sent = now;
		if (client_send(c, s, s->probe_id, c->probe.data,
		    c->probe.len) != 0)
			s->probe_id = 0;
	}
	client_release(c);
}

/* ---- gossip ---- */

void
client_server_seen(struct raftd *rd, const char *id, const char *name,
    const char *addr)
{
	struct client *c = rd->client;
	struct client_server *s;
	uint64_t rid = discovery_raft_id(id);
	const char *colon = strrchr(addr, ':');

	/* a server without an id or a port tag cannot be reached */
	if (c == NULL || rid == 0 || colon == NULL || colon == addr ||
	    atoi(colon + 1) <= 0)
		return;
	if ((s = client_find(c, rid)) == NULL) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 8;
			struct client_server *v = realloc(c->v,
			    cap * sizeof(*v));

			if (v == NULL)
				return;
			c->v = v;
			c->cap = cap;
		}
		s = &c->v[c->n++];
		memset(s, 0, sizeof(*s));
		s->id = rid;
		log_info("client: server %s seen at %s", name, addr);
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	if (strcmp(s->addr, addr) != 0) {
		snprintf(s->addr, sizeof(s->addr), "%s", addr);
		s->down = false;
	}
	if (!s->alive) {
		s->alive = true;
		client_release(c);
	}
}

void
client_server_gone(struct raftd *rd, const char *id)
{
	struct client *c = rd->client;
	struct client_server *s;

	if (c == NULL ||
	    (s = client_find(c, discovery_raft_id(id))) == NULL || !s->alive)
		return;
	log_info("client: server %s (%s) failed or left", s->name, s->addr);
	client_server_down(c, s, "failed or left");
	s->alive = false;
	s->down = false; /* seen alive again: usable at once */
	s->probe_id = 0;
	client_release(c);
}

/* ---- start and stop ---- */

static int
client_self(struct raftd *rd, char *listen, size_t size)
{
	const struct config *cfg = rd->cfg;
	char uuid[NODE_ID_LEN + 1];
	const char *addr, *bind;
	int rc;

	if ((rc = node_id_ensure(cfg->data_dir, cfg->node_id, uuid,
	    sizeof(uuid))) != 0) {
		log_warnx("client: node id in %s: %s", cfg->data_dir,
		    err_str(rc));
		return rc;
	}
	snprintf(rd->node_uuid, sizeof(rd->node_uuid), "%s", uuid);
	if ((rd->node_id = discovery_raft_id(uuid)) == 0) {
		log_warnx("client: node id %s is not a UUID", uuid);
		return ERR_INVAL;
	}
	addr = cfg->advertise_addr && *cfg->advertise_addr ?
	    cfg->advertise_addr : cfg->bind_addr;
	if (addr == NULL || *addr == '\0' || strcmp(addr, "0.0.0.0") == 0)
		addr = "127.0.0.1";
	snprintf(rd->client->reply_addr, sizeof(rd->client->reply_addr),
	    "%s:%d", addr, cfg->ports.server);
	bind = cfg->bind_addr && *cfg->bind_addr ? cfg->bind_addr : "0.0.0.0";
	snprintf(listen, size, "%s:%d", bind, cfg->ports.server);
	return 0;
}

int
client_start(struct raftd *rd)
{
	struct client *c;
	struct msg_status_get q;
	char listen[320];
	int rc;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ERR_NOMEM;
	c->rd = rd;
	c->agent = true;
	proto_arena_init(&c->arena);
	rd->client = c;
	memset(&q, 0, sizeof(q));
	if ((rc = proto_encode(MSG_STATUS_GET, 0, &q, &c->probe)) != 0 ||
	    (rc = client_self(rd, listen, sizeof(listen))) != 0)
		return rc;
	c->rng = rd->node_id ^ loop_clock_ms() ^ 0x9e3779b97f4a7c15ull;
	c->rebalance_at = loop_now_ms(rd->loop) + CLIENT_REBALANCE_MS +
	    client_rand(c) % (CLIENT_REBALANCE_MS / 2);
	if ((rc = transport_open(rd->loop, listen, client_recv, rd,
	    &rd->tp)) != 0) {
		log_warnx("client: cannot listen on %s for server replies: %s",
		    listen, err_str(rc));
		return rc;
	}
	if ((rc = members_start(rd)) != 0)
		return rc;
	c->probe_timer = loop_timer_add(rd->loop, CLIENT_PROBE_MS,
	    client_probe, c);
	log_info("client agent: forwarding to the servers gossip reports "
	    "(replies on %s)", c->reply_addr);
	return 0;
}

void
client_stop(struct raftd *rd)
{
	struct client *c = rd->client;
	struct client_req *r;
	struct client_peer *p;
	struct client_out *o;

	if (c == NULL)
		return;
	if (c->agent) {
		members_stop(rd);
		transport_close(rd->tp); /* no more results */
		rd->tp = NULL;
	}
	if (c->probe_timer != 0)
		loop_timer_cancel(rd->loop, c->probe_timer);
	while ((r = c->reqs) != NULL) {
		c->reqs = r->next;
		if (r->timer != 0)
			loop_timer_cancel(rd->loop, r->timer);
		ipc_req_drop(r->req);
		free(r);
	}
	while ((p = c->peers) != NULL) {
		c->peers = p->next;
		free(p);
	}
	if (c->out_timer != 0)
		loop_timer_cancel(rd->loop, c->out_timer);
	while ((o = c->out) != NULL) {
		c->out = o->next;
		proto_buf_free(&o->buf);
		free(o);
	}
	proto_buf_free(&c->probe);
	proto_arena_free(&c->arena);
	free(c->v);
	free(c);
	rd->client = NULL;
}

/* ---- the server's side ---- */

void
client_peer_note(struct raftd *rd, uint64_t id, const struct proto_str *addr)
{
	struct client *c = rd->client;
	struct client_peer *p;

	if (c == NULL || id == 0 || addr->len == 0 ||
	    addr->len >= sizeof(p->addr))
		return;
	for (p = c->peers; p != NULL; p = p->next) {
		if (p->id == id) {
			if (strlen(p->addr) != addr->len ||
			    memcmp(p->addr, addr->ptr, addr->len) != 0)
				snprintf(p->addr, sizeof(p->addr), "%.*s",
				    (int)addr->len, addr->ptr);
			return;
		}
	}
	if (c->n_peers >= CLIENT_PEERS_MAX || (p = calloc(1, sizeof(*p))) ==
	    NULL)
		return;
	p->id = id;
	snprintf(p->addr, sizeof(p->addr), "%.*s", (int)addr->len, addr->ptr);
	p->next = c->peers;
	c->peers = p;
	c->n_peers++;
}

int
client_peer_send(struct raftd *rd, uint64_t id, const uint8_t *data,
    size_t len)
{
	struct client_peer *p;
	struct proto_buf b;
	const char *addr;

	if (rd->client == NULL || rd->tp == NULL)
		return ERR_NOTFOUND;
	for (p = rd->client->peers; p != NULL; p = p->next)
		if (p->id == id)
			break;
	/* a client agent, or a server whose link was full */
	addr = p != NULL ? p->addr : consensus_addr(rd, id);
	if (*addr == '\0')
		return ERR_NOTFOUND;
	if ((b.data = malloc(len > 0 ? len : 1)) == NULL)
		return ERR_NOMEM;
	memcpy(b.data, data, len);
	b.len = b.cap = len;
	return client_out_send(rd->client, id, addr, &b);
}

/* A server: client agents' requests arrive on its Raft transport
 * (consensus.c notes their reply address); this keeps the table and
 * picks the process's incarnation. */
int
client_listen(struct raftd *rd)
{
	struct client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ERR_NOMEM;
	c->rd = rd;
	proto_arena_init(&c->arena);
	if (getrandom(&c->incarnation, sizeof(c->incarnation),
	    GRND_NONBLOCK) != sizeof(c->incarnation))
		c->incarnation = loop_clock_ms() ^ ((uint64_t)getpid() << 32) ^
		    (uint64_t)(uintptr_t)c;
	if (c->incarnation == 0)
		c->incarnation = 1;
	rd->client = c;
	return 0;
}

uint64_t
client_incarnation(const struct raftd *rd)
{
	return rd->client != NULL ? rd->client->incarnation : 0;
}
