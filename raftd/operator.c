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
 * appended (in effect from then on: dissertation §4.1). A single server
 * (no Raft core) reports itself, leader and voter.
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
#include "nodeid.h"
#include "proto.h"
#include "raft.h"
#include "raftd.h"

static void
operator_send(struct ipc_req *req, uint64_t reqid, uint32_t type,
    const void *body)
{
	struct proto_buf out;

	if (proto_encode(type, reqid, body, &out) != 0) {
		ipc_req_drop(req);
		return;
	}
	if (ipc_reply(req, out.data, out.len) != 0)
		log_debug("operator: reply not sent");
	proto_buf_free(&out);
}

void
operator_raft_get(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const struct msg_operator_raft_get *q, const uint8_t *data, size_t len)
{
	struct msg_operator_raft_get_result r;
	struct proto_raft_server sv[RAFT_SERVERS_MAX];
	char hex[RAFT_SERVERS_MAX][17];
	char self_uuid[NODE_ID_LEN + 1];
	const struct raft_conf *c;

	if (q->opts.consistency != PROTO_CONSISTENCY_STALE &&
	    !forward_gate(rd, req, reqid, data, len,
	    q->opts.consistency == PROTO_CONSISTENCY_CONSISTENT ?
	    FORWARD_READ_CONSISTENT : FORWARD_READ_DEFAULT, 0))
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
	operator_send(req, reqid, MSG_OPERATOR_RAFT_GET_RESULT, &r);
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
	operator_send(req, reqid, MSG_OPERATOR_RAFT_REMOVE_RESULT, &res);
}
