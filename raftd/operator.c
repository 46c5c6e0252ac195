/*
 * operator.c — raftd's side of /v1/operator/raft/configuration and
 * DELETE /v1/operator/raft/peer (spec/consul-api.md operator table;
 * Consul agent/operator_endpoint.go, agent/consul/operator_raft_endpoint.go).
 *
 * The configuration is the core's latest one (raft_configuration): ID is
 * the server's node UUID when gossip told it (else the 16 hex digits of
 * its Raft id), Node its name, Address its RPC address, Leader and Voter
 * from the core, LastIndex the leader's view of its match index (the
 * last log index for itself). Reads go through the leader unless ?stale
 * (forward.c); removal is a write and goes to the leader, which proposes
 * the single-server change (raft_remove_server) and answers once it is
 * appended (in effect from then on: dissertation §4.1). A server whose
 * Raft core has already stopped (closing) reports itself alone to a
 * ?stale read.
 *
 * POST /v1/operator/raft/transfer-leader (MSG_OPERATOR_RAFT_TRANSFER)
 * runs on the leader: the core sends TimeoutNow to the target (or the
 * most caught-up voter) and {"Success":true} answers at once (Consul
 * waits for the transfer; answering first means a follower that
 * forwarded it has its answer before the leader changes: forward.c
 * never re-sends a transfer to a new leader, it waits for the old
 * one's answer and otherwise answers "leadership lost"). A
 * server's graceful leave (MSG_OPERATOR_RAFT_LEAVE, sent by httpd before
 * gossipd leaves; Consul agent/consul/server.go Leave): a leader first
 * hands leadership over, then any server has the leader remove it from
 * the configuration (forwarded like a write); the last voter and a
 * server not in the configuration have nothing to do. Leave always
 * answers ok, as Consul's leave goes on when the removal fails (logged).
 * SIGTERM with leave_on_terminate: a leader hands leadership over before
 * raftd stops (the new leader removes it once gossip reports it left,
 * discovery.c), bounded by two election timeouts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "msg_operator.h"
#include "msg_raft.h"
#include "nodeid.h"
#include "proto.h"
#include "raft.h"
#include "raftd.h"

void
operator_raft_get(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const struct msg_operator_raft_get *q, const uint8_t *data, size_t len)
{
	struct msg_operator_raft_get_result r;
	struct proto_raft_server sv[RAFT_SERVERS_MAX];
	char hex[RAFT_SERVERS_MAX][17];
	char self_uuid[NODE_ID_LEN + 1];
	const struct raft_conf *c;

	if (!dispatch_read_gate(rd, req, reqid, data, len, &q->opts, 0))
		return;
	memset(&r, 0, sizeof(r));
	memset(sv, 0, sizeof(sv));
	r.servers = sv;
	if (rd->raft == NULL) {
		if (node_id_ensure(rd->cfg->data_dir, rd->cfg->node_id,
		    self_uuid, sizeof(self_uuid)) != 0)
			self_uuid[0] = '\0';
		sv[0].id = proto_str_c(self_uuid);
		sv[0].node = proto_str_c(rd->cfg->node_name ?
		    rd->cfg->node_name : "");
		sv[0].address = proto_str_c(rd->leader_addr);
		sv[0].leader = rd->leader;
		sv[0].voter = true;
		sv[0].last_index = rd->last_index;
		r.n_servers = 1;
		r.index = kv_applied_index(rd->kv);
	} else {
		c = raft_configuration(rd->raft);
		for (size_t i = 0; i < c->n && i < RAFT_SERVERS_MAX; i++) {
			const struct raft_server *s = &c->servers[i];
			struct raft_peer_status ps;
			const char *uuid, *name;

			discovery_names(rd, s->id, &uuid, &name);
			snprintf(hex[i], sizeof(hex[i]), "%016llx",
			    (unsigned long long)s->id);
			sv[i].id = proto_str_c(*uuid ? uuid : hex[i]);
			sv[i].node = proto_str_c(name);
			sv[i].address = proto_str_c(s->address);
			sv[i].leader = s->id == raft_leader(rd->raft);
			sv[i].voter = s->voter;
			if (s->id == rd->node_id)
				sv[i].last_index = raft_last_index(rd->raft);
			else if (raft_peer_status(rd->raft, s->id, &ps) == 0)
				sv[i].last_index = ps.match_index;
			r.n_servers++;
		}
		r.index = raft_commit_index(rd->raft);
	}
	r.meta.index = r.index ? r.index : 1;
	r.meta.known_leader = rd->raft != NULL ?
	    raft_leader(rd->raft) != 0 : rd->leader;
	r.meta.last_contact_ms = rd->raft != NULL ?
	    raft_last_contact_ms(rd->raft) : 0;
	dispatch_send(req, reqid, MSG_OPERATOR_RAFT_GET_RESULT, &r);
}

void
operator_raft_remove(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const struct msg_operator_raft_remove *m, const uint8_t *data,
    size_t len)
{
	struct msg_operator_raft_remove_result res = { .ok = true };
	const struct raft_conf *c;
	uint64_t target = 0;
	char want[RAFT_ADDRESS_MAX + 1];
	int rc;

	if (m->id.len == 0 && m->address.len == 0) {
		dispatch_reply_error(req, reqid, ERR_INVAL, "Must specify "
		    "either ?id with the server's ID or ?address with "
		    "IP:port of peer to remove");
		return;
	}
	if (!forward_gate(rd, req, reqid, data, len, FORWARD_WRITE, 0))
		return;
	snprintf(want, sizeof(want), "%.*s",
	    (int)(m->id.len ? m->id.len : m->address.len),
	    m->id.len ? m->id.ptr : m->address.ptr);
	if (rd->raft != NULL) {
		c = raft_configuration(rd->raft);
		for (size_t i = 0; i < c->n && target == 0; i++) {
			const char *uuid, *name;
			char hex[17];

			discovery_names(rd, c->servers[i].id, &uuid, &name);
			snprintf(hex, sizeof(hex), "%016llx",
			    (unsigned long long)c->servers[i].id);
			if (m->id.len > 0 ? strcmp(want, uuid) == 0 ||
			    strcmp(want, hex) == 0 ||
			    discovery_raft_id(want) == c->servers[i].id :
			    strcmp(want, c->servers[i].address) == 0)
				target = c->servers[i].id;
		}
	}
	if (target == 0) {
		char msg[400];

		snprintf(msg, sizeof(msg), "%s \"%s\" was not found in the "
		    "Raft configuration", m->id.len ? "id" : "address", want);
		dispatch_reply_error(req, reqid, ERR_NOTFOUND, msg);
		return;
	}
	raft_tick(rd->raft, loop_now_ms(rd->loop));
	if ((rc = raft_remove_server(rd->raft, target)) != 0) {
		dispatch_reply_error(req, reqid, rc == ERR_NOTLEADER ?
		    ERR_NOLEADER : ERR_INTERNAL, rc == ERR_AGAIN ?
		    "a configuration change is already in progress" :
		    err_str(rc));
		return;
	}
	log_info("operator: removing server %016llx (%s) from the raft "
	    "configuration", (unsigned long long)target, want);
	consensus_kick(rd);
	dispatch_send(req, reqid, MSG_OPERATOR_RAFT_REMOVE_RESULT, &res);
}

/* ---- leadership transfer and graceful leave ---- */

#define OP_POLL_MS 20

enum op_kind {
	OP_LEAVE = 1, /* transfer first, then have the leader remove us */
	OP_STOP,      /* SIGTERM with leave_on_terminate: then stop */
	OP_REMOVE,    /* leader: retry a removal a change in flight held */
};

/* A transfer or leave waiting for leadership to move. */
struct op_hold {
	struct raftd *rd;
	enum op_kind kind;
	struct ipc_req *req;
	uint64_t reqid;
	const uint8_t *data; /* the request, borrowed from req */
	size_t len;
	uint64_t deadline;
	uint64_t timer;
	uint64_t target; /* OP_REMOVE: the server to remove */
	struct op_hold *next;
};

/* The Raft id of want (node UUID, 16 hex digits or address); 0: none. */
static uint64_t
operator_find(struct raftd *rd, const char *want)
{
	const struct raft_conf *c = raft_configuration(rd->raft);

	for (size_t i = 0; i < c->n; i++) {
		const char *uuid, *name;
		char hex[17];

		discovery_names(rd, c->servers[i].id, &uuid, &name);
		snprintf(hex, sizeof(hex), "%016llx",
		    (unsigned long long)c->servers[i].id);
		if ((*uuid != '\0' && strcmp(want, uuid) == 0) ||
		    strcmp(want, hex) == 0 ||
		    strcmp(want, c->servers[i].address) == 0 ||
		    discovery_raft_id(want) == c->servers[i].id)
			return c->servers[i].id;
	}
	return 0;
}

/* Voters of the configuration other than this server. */
static size_t
operator_other_voters(struct raftd *rd)
{
	const struct raft_conf *c = raft_configuration(rd->raft);
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		if (c->servers[i].voter && c->servers[i].id != rd->node_id)
			n++;
	return n;
}

static void
operator_unlink(struct raftd *rd, struct op_hold *h)
{
	struct op_hold **pp;

	for (pp = &rd->op_holds; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	if (h->timer != 0)
		loop_timer_cancel(rd->loop, h->timer);
	h->timer = 0;
}

static void operator_hold_cb(struct loop *l, void *arg);

static int
operator_hold(struct raftd *rd, enum op_kind kind, struct ipc_req *req,
    uint64_t reqid, const uint8_t *data, size_t len)
{
	uint32_t mult = rd->cfg->raft_multiplier ? rd->cfg->raft_multiplier : 1;
	struct op_hold *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return ERR_NOMEM;
	h->rd = rd;
	h->kind = kind;
	h->req = req;
	h->reqid = reqid;
	h->data = data;
	h->len = len;
	/* the core gives up a transfer after an election timeout */
	h->deadline = loop_now_ms(rd->loop) + 2000ull * mult;
	if ((h->timer = loop_timer_add(rd->loop, OP_POLL_MS,
	    operator_hold_cb, h)) == 0) {
		free(h);
		return ERR_NOMEM;
	}
	h->next = rd->op_holds;
	rd->op_holds = h;
	return 0;
}

/* Logs the outcome rc of raft_remove_server(id) on the leader. */
static void
operator_leave_removed(struct raftd *rd, uint64_t id, int rc)
{
	if (rc != 0) {
		log_warnx("leave: cannot remove server %016llx from the raft "
		    "configuration: %s", (unsigned long long)id, err_str(rc));
		return;
	}
	log_info("leave: removing server %016llx from the raft "
	    "configuration", (unsigned long long)id);
	consensus_kick(rd);
}

/* Leader: removes server id (maybe itself); logs a failure. */
static void
operator_leave_remove(struct raftd *rd, uint64_t id)
{
	raft_tick(rd->raft, loop_now_ms(rd->loop));
	operator_leave_removed(rd, id, raft_remove_server(rd->raft, id));
}

static void
operator_leave_ok(struct ipc_req *req, uint64_t reqid)
{
	struct msg_operator_raft_leave_result res = { .ok = true };

	dispatch_send(req, reqid, MSG_OPERATOR_RAFT_LEAVE_RESULT, &res);
}

/* A leaving leader no longer leads (or gave up): the leader removes it. */
static void
operator_leave_handed_over(struct raftd *rd, struct ipc_req *req,
    uint64_t reqid, const uint8_t *data, size_t len)
{
	if (rd->raft != NULL && raft_role(rd->raft) == RAFT_LEADER) {
		/* the transfer failed: remove itself, Consul's way (the
		 * others elect a leader once it steps down) */
		operator_leave_remove(rd, rd->node_id);
		operator_leave_ok(req, reqid);
		return;
	}
	if (forward_gate(rd, req, reqid, data, len, FORWARD_WRITE, 0)) {
		/* leads again (re-dispatched): remove itself */
		operator_leave_remove(rd, rd->node_id);
		operator_leave_ok(req, reqid);
	}
}

static void
operator_hold_cb(struct loop *l, void *arg)
{
	struct op_hold *h = arg;
	struct raftd *rd = h->rd;
	bool leads = rd->raft != NULL && raft_role(rd->raft) == RAFT_LEADER;
	bool late = loop_now_ms(l) >= h->deadline;

	h->timer = 0;
	if (h->kind == OP_REMOVE) {
		/* the leader retries while the previous change commits */
		int rc = leads && !late ? raft_remove_server(rd->raft,
		    h->target) : ERR_TIMEOUT;

		if (rc == ERR_AGAIN && (h->timer = loop_timer_add(l,
		    OP_POLL_MS, operator_hold_cb, h)) != 0)
			return;
		operator_leave_removed(rd, h->target, rc);
		operator_unlink(rd, h);
		operator_leave_ok(h->req, h->reqid);
		free(h);
		return;
	}
	if (leads && !late) {
		if ((h->timer = loop_timer_add(l, OP_POLL_MS, operator_hold_cb,
		    h)) != 0)
			return;
		late = true;
	}
	operator_unlink(rd, h);
	if (h->kind == OP_STOP)
		pipeline_stop(rd);
	else
		operator_leave_handed_over(rd, h->req, h->reqid, h->data,
		    h->len);
	free(h);
}

void
operator_raft_transfer(struct raftd *rd, struct ipc_req *req,
    uint64_t reqid, const struct msg_operator_raft_transfer *m,
    const uint8_t *data, size_t len)
{
	struct msg_operator_raft_transfer_result ok = { .success = true };
	char want[RAFT_ADDRESS_MAX + 1], msg[400];
	uint64_t target = 0;
	int rc;

	if (!forward_gate(rd, req, reqid, data, len, FORWARD_WRITE, 0))
		return;
	snprintf(want, sizeof(want), "%.*s", (int)m->id.len,
	    m->id.ptr != NULL ? m->id.ptr : "");
	if (rd->raft == NULL || operator_other_voters(rd) == 0) {
		dispatch_reply_error(req, reqid, ERR_INTERNAL,
		    "cannot find peer");
		return;
	}
	if (*want != '\0' && (target = operator_find(rd, want)) == 0) {
		snprintf(msg, sizeof(msg), "cannot find peer with id \"%s\"",
		    want);
		dispatch_reply_error(req, reqid, ERR_INTERNAL, msg);
		return;
	}
	if (target == rd->node_id) {
		/* already there: a client retrying a transfer whose
		 * answer was lost finds it done */
		dispatch_send(req, reqid, MSG_OPERATOR_RAFT_TRANSFER_RESULT,
		    &ok);
		return;
	}
	raft_tick(rd->raft, loop_now_ms(rd->loop));
	if ((rc = raft_transfer_leadership(rd->raft, target)) != 0) {
		if (rc == ERR_NOTLEADER)
			dispatch_reply_error(req, reqid, ERR_NOLEADER,
			    "No cluster leader");
		else
			dispatch_reply_error(req, reqid, ERR_INTERNAL,
			    rc == ERR_AGAIN ? "leadership transfer in "
			    "progress" : rc == ERR_INVAL ? "cannot transfer "
			    "leadership to the current leader" :
			    "cannot find peer");
		return;
	}
	log_info("operator: transferring leadership to %s",
	    *want ? want : "the most up-to-date voter");
	/* answered before leadership moves, so a follower that forwarded
	 * it is not left waiting on a leader that is gone (forward.c does
	 * not re-send operator requests to the next leader) */
	dispatch_send(req, reqid, MSG_OPERATOR_RAFT_TRANSFER_RESULT, &ok);
	consensus_kick(rd);
}

void
operator_raft_leave(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const struct msg_operator_raft_leave *m, const uint8_t *data,
    size_t len)
{
	char want[RAFT_ADDRESS_MAX + 1];
	uint64_t target;
	int rc = 0;

	snprintf(want, sizeof(want), "%.*s", (int)m->id.len,
	    m->id.ptr != NULL ? m->id.ptr : "");
	if (rd->raft == NULL || *want == '\0' ||
	    (target = operator_find(rd, want)) == 0) {
		operator_leave_ok(req, reqid); /* not in the configuration */
		return;
	}
	if (target == rd->node_id && !rd->gate_passed) {
		if (operator_other_voters(rd) == 0) {
			log_info("leave: the last voter stays in the raft "
			    "configuration");
			operator_leave_ok(req, reqid);
			return;
		}
		if (raft_role(rd->raft) == RAFT_LEADER) {
			raft_tick(rd->raft, loop_now_ms(rd->loop));
			rc = raft_transfer_leadership(rd->raft, 0);
			log_info("leave: handing leadership over first%s%s",
			    rc != 0 ? ": " : "", rc != 0 ? err_str(rc) : "");
			consensus_kick(rd);
			if (operator_hold(rd, OP_LEAVE, req, reqid, data,
			    len) != 0)
				operator_leave_handed_over(rd, req, reqid, data,
				    len);
			return;
		}
	}
	if (!forward_gate(rd, req, reqid, data, len, FORWARD_WRITE, 0))
		return;
	raft_tick(rd->raft, loop_now_ms(rd->loop));
	if (target != rd->node_id && (rc = raft_remove_server(rd->raft,
	    target)) == ERR_AGAIN && operator_hold(rd, OP_REMOVE, req, reqid,
	    data, len) == 0) {
		/* a change in flight (a new leader's first ones): retried */
		rd->op_holds->target = target;
		return;
	}
	if (target == rd->node_id)
		operator_leave_remove(rd, target);
	else
		operator_leave_removed(rd, target, rc);
	operator_leave_ok(req, reqid);
}

void
operator_fini(struct raftd *rd)
{
	struct op_hold *h;

	while ((h = rd->op_holds) != NULL) {
		operator_unlink(rd, h);
		if (h->req != NULL)
			ipc_req_drop(h->req);
		free(h);
	}
}

bool
operator_leave_on_signal(struct raftd *rd)
{
	int rc;

	if (rd->raft == NULL || raft_role(rd->raft) != RAFT_LEADER ||
	    operator_other_voters(rd) == 0)
		return false;
	for (struct op_hold *h = rd->op_holds; h != NULL; h = h->next)
		if (h->kind == OP_STOP)
			return false; /* a second signal: stop now */
	raft_tick(rd->raft, loop_now_ms(rd->loop));
	if ((rc = raft_transfer_leadership(rd->raft, 0)) != 0 &&
	    rc != ERR_AGAIN) {
		log_warnx("leave: cannot hand leadership over: %s",
		    err_str(rc));
		return false;
	}
	log_info("leave: handing leadership over before stopping");
	consensus_kick(rd);
	return operator_hold(rd, OP_STOP, NULL, 0, NULL, 0) == 0;
}
