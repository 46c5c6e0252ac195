/*
 * forward.c — where a write or a non-stale read is served (spec §1.6):
 * forwarding to the leader, holding while no leader is known, and the
 * leader's read checks.
 *
 * On a server: a write, or a default or ?consistent read, on a
 * follower goes to the leader as MSG_RAFT_FORWARD carrying the request
 * bytes; the leader replays them into its own raftd.rpc through an IPC
 * client to itself (so the leader's dispatch, dedup and blocking reads
 * serve it exactly like a local request) and returns the reply envelope
 * byte for byte in MSG_RAFT_FORWARD_RESULT. While no leader is known a
 * request waits up to rpc_hold_timeout and is then answered
 * "No cluster leader" (Consul's RPCHoldTimeout). On the leader a default
 * read is served at once when the lease holds and the no-op of its term
 * has committed (raft_lease_valid, raft_leader_ready), else it takes a
 * ReadIndex round like a ?consistent read, which always does one
 * (raft_read_index); it is served once the state applied that index.
 * A held request is served by dispatching its bytes again with the gate
 * open (rd->gate_passed). A single server runs the same path: it leads
 * a configuration of itself alone (node.c).
 * When the leader changes, a request waiting for one is routed at once
 * (the new leader's first AppendEntries names it), and one already sent
 * to the old leader is sent to the new one only if that cannot apply it
 * twice (forward_may_resend); any other is answered by the old leader or
 * else "leadership lost while committing log", for the client to retry.
 * Reference: consul agent/consul/rpc.go forward/forwardLeader/
 * blockingQuery, Raft dissertation §6.4 (ReadIndex), §6.4.1 (lease).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "msg_raft.h"
#include "msg_session.h"
#include "proto.h"
#include "raft.h"
#include "raftd.h"

#define FORWARD_RETRY_MS 100 /* re-check of a request waiting for a leader */
#define FORWARD_SLACK_MS 2000
/* a request that must not be sent twice, sent to a leader that has been
 * replaced: how long its answer may still come from that server */
#define FORWARD_LOST_MS 3000

enum fwd_wait {
	FWD_LEADER = 1,   /* no leader known, or it was unreachable */
	FWD_READ_INDEX,   /* ReadIndex round running (ctx = id) */
	FWD_APPLIED,      /* serve once applied >= index */
	FWD_REMOTE,       /* sent to the leader, awaiting the result */
};

struct fwd_hold {
	struct raftd *rd;
	uint64_t id;
	enum fwd_wait wait;
	enum forward_kind kind;
	struct ipc_req *req;
	uint64_t reqid;
	const uint8_t *data; /* borrowed from req */
	size_t len;
	uint32_t wait_ms;
	uint64_t deadline;
	uint64_t index;
	uint64_t target; /* FWD_REMOTE: the leader it was sent to */
	uint64_t term;   /* FWD_REMOTE: in its term */
	bool lost;       /* FWD_REMOTE: its leader was replaced (not resent) */
	uint64_t remote_deadline; /* FWD_REMOTE: answered by then */
	uint64_t timer;
	struct fwd_hold *next;
};

/* A request a follower forwarded, replayed into our own raftd.rpc. */
struct fwd_serve {
	struct raftd *rd;
	uint64_t from;
	uint64_t fwd_id;
	uint64_t reqid;
	uint64_t call_id;
	struct fwd_serve *next;
};

struct fwd_state {
	struct fwd_hold *holds;
	struct fwd_serve *serving;
	uint64_t next_id;
	struct ipc_client *self;
};

static void forward_timer_cb(struct loop *l, void *arg);

static void
forward_unlink(struct raftd *rd, struct fwd_hold *h)
{
	struct fwd_hold **pp;

	for (pp = &rd->fwd->holds; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	if (h->timer != 0)
		loop_timer_cancel(rd->loop, h->timer);
	h->timer = 0;
}

/* Finishes h: re-dispatch with the gate open, or answer code/msg. */
static void
forward_finish(struct raftd *rd, struct fwd_hold *h, bool serve, int code,
    const char *msg)
{
	forward_unlink(rd, h);
	if (serve) {
		bool was = rd->gate_passed;

		rd->gate_passed = true;
		raftd_dispatch_httpd(rd->srv, h->req, h->data, h->len, rd);
		rd->gate_passed = was;
	} else {
		dispatch_reply_error(h->req, h->reqid, code, msg);
	}
	free(h);
}

static void
forward_arm(struct raftd *rd, struct fwd_hold *h, uint64_t delay)
{
	if (h->timer != 0)
		loop_timer_cancel(rd->loop, h->timer);
	h->timer = loop_timer_add(rd->loop, delay, forward_timer_cb, h);
}

static struct fwd_hold *
forward_hold(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const uint8_t *data, size_t len, enum forward_kind kind,
    uint32_t wait_ms)
{
	struct fwd_hold *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->rd = rd;
	h->id = ++rd->fwd->next_id;
	h->kind = kind;
	h->req = req;
	h->reqid = reqid;
	h->data = data;
	h->len = len;
	h->wait_ms = wait_ms;
	h->deadline = loop_now_ms(rd->loop) + rd->cfg->rpc_hold_timeout_ms;
	h->next = rd->fwd->holds;
	rd->fwd->holds = h;
	return h;
}

/* Sends h to the leader; false if it could not be sent. */
static bool
forward_send(struct raftd *rd, struct fwd_hold *h, uint64_t leader)
{
	struct msg_raft_forward f;
	struct proto_buf out;
	int rc;

	/* every send its own id: an answer to an earlier send (from a
	 * leader that was replaced, or the same server in an earlier term)
	 * finds no hold and is dropped (forward_recv_result) */
	h->id = ++rd->fwd->next_id;
	memset(&f, 0, sizeof(f));
	f.from = rd->node_id;
	f.fwd_id = h->id;
	f.request.ptr = (const char *)h->data;
	f.request.len = (uint32_t)h->len;
	if (proto_encode(MSG_RAFT_FORWARD, 0, &f, &out) != 0)
		return false;
	rc = consensus_send(rd, leader, out.data, out.len);
	proto_buf_free(&out);
	if (rc != 0)
		return false;
	h->wait = FWD_REMOTE;
	h->target = leader;
	h->term = raft_term(rd->raft);
	h->lost = false;
	h->remote_deadline = loop_now_ms(rd->loop) + h->wait_ms +
	    rd->cfg->rpc_hold_timeout_ms + FORWARD_SLACK_MS;
	forward_arm(rd, h, h->remote_deadline - loop_now_ms(rd->loop));
	return true;
}

/* Decides what to do with h now; may finish it. */
static void
forward_route(struct raftd *rd, struct fwd_hold *h)
{
	struct raft *r = rd->raft;
	uint64_t leader = r != NULL ? raft_leader(r) : 0;
	uint64_t now = loop_now_ms(rd->loop);

	if (r == NULL) {
		forward_finish(rd, h, false, ERR_NOLEADER,
		    "No cluster leader");
		return;
	}
	if (raft_role(r) == RAFT_LEADER) {
		if (h->kind == FORWARD_WRITE ||
		    (h->kind == FORWARD_READ_DEFAULT &&
		    raft_leader_ready(r) && raft_lease_valid(r, now))) {
			forward_finish(rd, h, true, 0, NULL);
			return;
		}
		raft_tick(r, now);
		if (raft_read_index(r, h->id) == 0) {
			h->wait = FWD_READ_INDEX;
			forward_arm(rd, h, rd->cfg->rpc_hold_timeout_ms);
			consensus_kick(rd);
			return;
		}
	} else if (leader != 0 && forward_send(rd, h, leader)) {
		return;
	}
	if (now >= h->deadline) {
		forward_finish(rd, h, false, ERR_NOLEADER,
		    "No cluster leader");
		return;
	}
	h->wait = FWD_LEADER;
	forward_arm(rd, h, FORWARD_RETRY_MS);
}

static void
forward_timer_cb(struct loop *l, void *arg)
{
	struct fwd_hold *h = arg;
	struct raftd *rd = h->rd;

	(void)l;
	h->timer = 0;
	switch (h->wait) {
	case FWD_LEADER:
		forward_route(rd, h);
		break;
	case FWD_REMOTE:
		if (h->lost)
			forward_finish(rd, h, false, ERR_NOLEADER,
			    "leadership lost while committing log");
		else
			forward_finish(rd, h, false, ERR_UNAVAILABLE,
			    "rpc error: timeout waiting for the leader");
		break;
	default: /* a ReadIndex round or the apply took too long */
		forward_finish(rd, h, false, ERR_NOLEADER,
		    "No cluster leader");
		break;
	}
}

bool
forward_gate(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const uint8_t *data, size_t len, enum forward_kind kind,
    uint32_t wait_ms)
{
	struct fwd_hold *h;

	if (rd->gate_passed)
		return true;
	if (rd->fwd == NULL || rd->raft == NULL) {
		/* Raft already stopped (node closing) */
		dispatch_reply_error(req, reqid, ERR_NOLEADER,
		    "No cluster leader");
		return false;
	}
	if (rd->raft != NULL && raft_role(rd->raft) == RAFT_LEADER &&
	    (kind == FORWARD_WRITE || (kind == FORWARD_READ_DEFAULT &&
	    raft_leader_ready(rd->raft) &&
	    raft_lease_valid(rd->raft, loop_now_ms(rd->loop)))))
		return true;
	if ((h = forward_hold(rd, req, reqid, data, len, kind,
	    wait_ms)) == NULL) {
		dispatch_reply_error(req, reqid, ERR_INTERNAL,
		    "raftd: out of memory");
		return false;
	}
	forward_route(rd, h);
	return false;
}

/*
 * May h go to another leader after it was sent to one? Reads may, and
 * writes the leader deduplicates by (client_id, seq) (DESIGN.md §3), and
 * a session renew (renewing twice is renewing). The rest — operator
 * remove-peer, transfer-leader, leave, a write without a client id —
 * would act twice if the first leader had already acted (a transfer
 * would move leadership on again).
 */
bool
forward_may_resend(enum forward_kind kind, const uint8_t *data, size_t len)
{
	struct proto_arena a;
	struct proto_msg m;
	uint64_t client_id = 0;
	bool ok = false;

	if (kind != FORWARD_WRITE)
		return true;
	proto_arena_init(&a);
	if (proto_decode(data, len, &a, &m) == 0) {
		switch (m.type) {
		case MSG_KV_APPLY:
			client_id = ((const struct msg_kv_apply *)
			    m.body)->client_id;
			break;
		case MSG_CATALOG_REGISTER:
			client_id = ((const struct msg_catalog_register *)
			    m.body)->client_id;
			break;
		case MSG_CATALOG_DEREGISTER:
			client_id = ((const struct msg_catalog_deregister *)
			    m.body)->client_id;
			break;
		case MSG_SESSION_APPLY:
			client_id = ((const struct msg_session_apply *)
			    m.body)->client_id;
			break;
		case MSG_TXN:
			client_id = ((const struct msg_txn *)
			    m.body)->client_id;
			break;
		case MSG_SESSION_GET:
			ok = true;
			break;
		default:
			break;
		}
	}
	proto_arena_free(&a);
	return ok || client_id != 0;
}

void
forward_leader_changed(struct raftd *rd)
{
	struct fwd_hold *h, *next;
	uint64_t now;

	if (rd->fwd == NULL)
		return;
	for (h = rd->fwd->holds; h != NULL; h = next) {
		next = h->next;
		if (h->wait == FWD_LEADER) {
			forward_route(rd, h);
			continue;
		}
		/* a request sent to a leader that is gone goes to the new
		 * one at once, if it may (forward_may_resend; consul rpc.go
		 * canRetry). The same server elected again in a later term
		 * counts as new: its raftd may have restarted and lost what
		 * was sent to it. One that may not is left to the old
		 * leader's answer for FORWARD_LOST_MS (a transfer-leader is
		 * answered right after the new leader won), then answered
		 * "leadership lost", which the client may retry. */
		if (h->wait != FWD_REMOTE || h->lost || rd->raft == NULL ||
		    raft_leader(rd->raft) == 0 ||
		    (raft_leader(rd->raft) == h->target &&
		    raft_term(rd->raft) == h->term))
			continue;
		if (forward_may_resend(h->kind, h->data, h->len)) {
			forward_route(rd, h);
			continue;
		}
		h->lost = true;
		now = loop_now_ms(rd->loop);
		if (h->remote_deadline > now + FORWARD_LOST_MS)
			forward_arm(rd, h, FORWARD_LOST_MS);
	}
}

void
forward_reads(struct raftd *rd, const struct raft_read *reads, size_t n)
{
	struct fwd_hold *h;

	if (rd->fwd == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		for (h = rd->fwd->holds; h != NULL; h = h->next)
			if (h->id == reads[i].ctx && h->wait == FWD_READ_INDEX)
				break;
		if (h == NULL)
			continue;
		if (reads[i].err != 0) {
			/* leadership lost: route again (forward or wait) */
			forward_route(rd, h);
			continue;
		}
		h->wait = FWD_APPLIED;
		h->index = reads[i].index;
	}
	forward_applied(rd);
}

void
forward_applied(struct raftd *rd)
{
	struct fwd_hold *h, *next;
	uint64_t applied = kv_applied_index(rd->kv);

	if (rd->fwd == NULL)
		return;
	for (h = rd->fwd->holds; h != NULL; h = next) {
		next = h->next;
		if (h->wait == FWD_APPLIED && applied >= h->index) {
			forward_finish(rd, h, true, 0, NULL);
			next = rd->fwd != NULL ? rd->fwd->holds : NULL;
		}
	}
}

/* ---- the leader's side ---- */

static void
forward_serve_unlink(struct raftd *rd, struct fwd_serve *s)
{
	struct fwd_serve **pp;

	for (pp = &rd->fwd->serving; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			return;
		}
	}
}

static void
forward_answer(struct raftd *rd, uint64_t to, uint64_t fwd_id,
    const uint8_t *reply, size_t len)
{
	struct msg_raft_forward_result r;
	struct proto_buf out;

	r.from = rd->node_id;
	r.fwd_id = fwd_id;
	r.reply.ptr = (const char *)reply;
	r.reply.len = (uint32_t)len;
	r.incarnation = client_incarnation(rd);
	if (proto_encode(MSG_RAFT_FORWARD_RESULT, 0, &r, &out) != 0)
		return;
	/* a server, or else a client agent or a full link (client.c's
	 * outbox keeps it: a burst of results must not be dropped) */
	if (consensus_send(rd, to, out.data, out.len) != 0 &&
	    client_peer_send(rd, to, out.data, out.len) != 0)
		log_debug("forward: result for %016llx dropped",
		    (unsigned long long)to);
	proto_buf_free(&out);
}

static void
forward_served(void *arg, int err, const uint8_t *data, size_t len)
{
	struct fwd_serve *s = arg;
	struct raftd *rd = s->rd;

	if (rd->fwd != NULL)
		forward_serve_unlink(rd, s);
	if (err == 0 && rd->tp != NULL) {
		forward_answer(rd, s->from, s->fwd_id, data, len);
	} else if (err != ERR_CANCELED && rd->tp != NULL) {
		struct proto_buf out;

		if (proto_encode_error(s->reqid, ERR_UNAVAILABLE, &out,
		    "rpc error: %s", err_str(err)) == 0) {
			forward_answer(rd, s->from, s->fwd_id, out.data,
			    out.len);
			proto_buf_free(&out);
		}
	}
	free(s);
}

/* How long a replayed request may take: the hold, and a blocking read's
 * wait with the jitter the server adds (up to wait/16). */
static uint32_t
forward_serve_timeout(struct raftd *rd, const struct proto_msg *m)
{
	const struct proto_read_opts *o = NULL;
	uint32_t t = rd->cfg->rpc_hold_timeout_ms + FORWARD_SLACK_MS;

	if (m->type == MSG_KV_GET)
		o = &((const struct msg_kv_get *)m->body)->opts;
	else if (m->type == MSG_CATALOG_GET)
		o = &((const struct msg_catalog_get *)m->body)->opts;
	else if (m->type == MSG_SESSION_GET)
		o = &((const struct msg_session_get *)m->body)->opts;
	if (o != NULL && o->min_index > 0)
		t += o->wait_ms + o->wait_ms / 16;
	return t;
}

void
forward_recv_request(struct raftd *rd, uint64_t from, uint64_t fwd_id,
    const uint8_t *request, size_t len)
{
	struct fwd_state *fs = rd->fwd;
	struct fwd_serve *s;
	struct proto_arena a;
	struct proto_msg m;
	uint32_t timeout;
	int rc;

	if (fs == NULL || from == 0 || from == rd->node_id)
		return;
	/* the reqid and the wait, for an error reply and the deadline */
	proto_arena_init(&a);
	rc = proto_decode(request, len, &a, &m);
	/* any request raftd.rpc serves (its dispatch refuses the rest),
	 * never a server-to-server message */
	if (rc != 0 || m.type == MSG_ERROR || (m.type >= MSG_RAFT_VOTE &&
	    m.type <= MSG_RAFT_FORWARD_RESULT)) {
		proto_arena_free(&a);
		log_debug("forward: refused a malformed forwarded request");
		return;
	}
	timeout = forward_serve_timeout(rd, &m);
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		proto_arena_free(&a);
		return;
	}
	s->rd = rd;
	s->from = from;
	s->fwd_id = fwd_id;
	s->reqid = m.reqid;
	proto_arena_free(&a);
	if (fs->self == NULL) {
		char url[512];

		if (ipc_url(url, sizeof(url), rd->cfg->runtime_dir,
		    NODE_SOCKET) != 0 ||
		    ipc_client_open(rd->loop, url, &fs->self) != 0) {
			free(s);
			return;
		}
	}
	s->next = fs->serving;
	fs->serving = s;
	if (ipc_call(fs->self, request, len, timeout, forward_served, s,
	    &s->call_id) != 0) {
		forward_serve_unlink(rd, s);
		free(s);
	}
}

/*
 * The answer to a request sent to the leader. Only the answer of its
 * latest send, by the server it went to, is relayed: after the request
 * was sent again to a new leader, the old one's late answer — typically
 * "leadership lost while committing log", from a leader that was
 * starved while the others elected another — would tell the client the
 * write failed while its copy on the new leader is still to apply, and
 * a read-back then misses it (test_role_restart_cluster's cas counter
 * got `false`). The new leader answers with the outcome (dedup).
 */
void
forward_recv_result(struct raftd *rd, uint64_t from, uint64_t fwd_id,
    const uint8_t *reply, size_t len)
{
	struct fwd_hold *h;

	if (rd->fwd == NULL)
		return;
	for (h = rd->fwd->holds; h != NULL; h = h->next)
		if (h->id == fwd_id && h->wait == FWD_REMOTE)
			break;
	if (h == NULL)
		return; /* timed out meanwhile, or an earlier send's */
	if (from != h->target) {
		log_debug("forward: result for %llu from %016llx, sent to "
		    "%016llx: dropped", (unsigned long long)fwd_id,
		    (unsigned long long)from, (unsigned long long)h->target);
		return;
	}
	forward_unlink(rd, h);
	if (ipc_reply(h->req, reply, len) != 0)
		log_debug("forward: relayed reply not sent");
	free(h);
}

int
forward_init(struct raftd *rd)
{
	if ((rd->fwd = calloc(1, sizeof(*rd->fwd))) == NULL)
		return ERR_NOMEM;
	return 0;
}

void
forward_fini(struct raftd *rd)
{
	struct fwd_state *fs = rd->fwd;
	struct fwd_hold *h;

	if (fs == NULL)
		return;
	/* closing the client cancels the calls: forward_served frees them */
	rd->fwd = NULL;
	ipc_client_close(fs->self);
	while ((h = fs->holds) != NULL) {
		fs->holds = h->next;
		if (h->timer != 0)
			loop_timer_cancel(rd->loop, h->timer);
		ipc_req_drop(h->req);
		free(h);
	}
	free(fs);
}
