/*
 * api_operator.c — the operator Raft endpoints (spec/consul-api.md
 * operator table): GET /v1/operator/raft/configuration returns
 * {"Servers":[{"ID","Node","Address","Leader","Voter",
 * "ProtocolVersion":"3","LastIndex"}],"Index"} with the read headers
 * (?stale answers from any server; otherwise the leader's view, so
 * "No cluster leader" without one); DELETE /v1/operator/raft/peer with
 * ?id= or ?address= removes a server from the configuration and answers
 * 200 with an empty body; POST /v1/operator/raft/transfer-leader
 * [?id=] answers {"Success":true} once leadership moved (raftd holds it
 * until then); a server's PUT /v1/agent/leave first has raftd remove it
 * from the configuration (api_operator_raft_leave), then leaves gossip —
 * also when the removal failed, as Consul's leave does. Reference: Consul agent/operator_endpoint.go
 * (OperatorRaftConfiguration, OperatorRaftPeer).
 */
#include <string.h>

#include "api_operator.h"
#include "httpd.h"
#include "json.h"
#include "err.h"
#include "log.h"
#include "msg_operator.h"
#include "msg_raft.h"
#include "proto.h"
#include "query.h"
#include "req.h"
#include "rpc.h"

static void
api_operator_config_done(struct req *r, const void *body)
{
	const struct msg_operator_raft_get_result *res = body;
	struct json w;

	api_set_meta(r, &res->meta);
	req_json_init(r, &w);
	json_obj_begin(&w);
	json_key(&w, "Servers");
	json_arr_begin(&w);
	for (uint32_t i = 0; i < res->n_servers; i++) {
		const struct proto_raft_server *s = &res->servers[i];

		json_obj_begin(&w);
		json_key(&w, "ID");
		json_strn(&w, s->id.ptr, s->id.len);
		json_key(&w, "Node");
		json_strn(&w, s->node.ptr, s->node.len);
		json_key(&w, "Address");
		json_strn(&w, s->address.ptr, s->address.len);
		json_kv_bool(&w, "Leader", s->leader);
		json_kv_bool(&w, "Voter", s->voter);
		json_kv_str(&w, "ProtocolVersion", "3");
		json_kv_u64(&w, "LastIndex", s->last_index);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_kv_u64(&w, "Index", res->index);
	json_obj_end(&w);
	req_reply_json(r, 200, &w);
}

void
api_operator_raft_configuration(struct httpd *h, struct req *r)
{
	struct msg_operator_raft_get g;

	if (!api_parse_opts(h, r))
		return;
	memset(&g, 0, sizeof(g));
	g.opts.consistency = r->opts.consistency;
	rpc_raftd(h, r, MSG_OPERATOR_RAFT_GET, &g, rpc_read_timeout(h, 0, 0),
	    MSG_OPERATOR_RAFT_GET_RESULT, api_operator_config_done);
}

static void
api_operator_peer_done(struct req *r, const void *body)
{
	(void)body;
	req_reply_empty(r, 200);
}

void
api_operator_raft_peer(struct httpd *h, struct req *r)
{
	struct msg_operator_raft_remove m;
	const char *id, *addr;

	if (!api_parse_opts(h, r))
		return;
	id = query_get(&r->args, "id");
	addr = query_get(&r->args, "address");
	if ((id == NULL || *id == '\0') && (addr == NULL || *addr == '\0')) {
		req_reply_text(r, 400, "Must specify either ?id with the "
		    "server's ID or ?address with IP:port of peer to remove");
		return;
	}
	memset(&m, 0, sizeof(m));
	if (id != NULL && *id != '\0')
		m.id = proto_str_c(id);
	else
		m.address = proto_str_c(addr);
	rpc_raftd(h, r, MSG_OPERATOR_RAFT_REMOVE, &m, rpc_write_timeout(h),
	    MSG_OPERATOR_RAFT_REMOVE_RESULT, api_operator_peer_done);
}

static void
api_operator_transfer_done(struct req *r, const void *body)
{
	const struct msg_operator_raft_transfer_result *res = body;
	struct json w;

	req_json_init(r, &w);
	json_obj_begin(&w);
	json_kv_bool(&w, "Success", res->success);
	json_obj_end(&w);
	req_reply_json(r, 200, &w);
}

void
api_operator_raft_transfer_leader(struct httpd *h, struct req *r)
{
	struct msg_operator_raft_transfer m;
	const char *id;

	if (!api_parse_opts(h, r))
		return;
	memset(&m, 0, sizeof(m));
	if ((id = query_get(&r->args, "id")) != NULL && *id != '\0')
		m.id = proto_str_c(id);
	rpc_raftd(h, r, MSG_OPERATOR_RAFT_TRANSFER, &m, rpc_write_timeout(h),
	    MSG_OPERATOR_RAFT_TRANSFER_RESULT, api_operator_transfer_done);
}

/* The removal failed (raftd down, no leader): the leave goes on. */
static void
api_operator_leave_err(struct req *r, int code, const char *msg, size_t len)
{
	log_warnx("httpd: leave: raft removal failed: %.*s", (int)len,
	    msg != NULL ? msg : err_str(code));
	r->rpc_err = NULL;
	r->rpc_cb(r, NULL);
}

void
api_operator_raft_leave(struct httpd *h, struct req *r,
    void (*done)(struct req *r, const void *body))
{
	struct msg_operator_raft_leave m;

	memset(&m, 0, sizeof(m));
	m.id = proto_str_c(h->node_id);
	r->rpc_err = api_operator_leave_err;
	rpc_raftd(h, r, MSG_OPERATOR_RAFT_LEAVE, &m, rpc_write_timeout(h),
	    MSG_OPERATOR_RAFT_LEAVE_RESULT, done);
}
