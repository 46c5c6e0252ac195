/*
 * api_members.c — /v1/agent/members, /v1/agent/join/:address,
 * /v1/agent/leave and /v1/agent/force-leave/:node (spec §2.1), answered
 * by gossipd (rpc_gossipd.c).
 *
 * Key decision: Member JSON exactly as Consul writes it (spec §2.0):
 * Name, Addr, Port, Tags, Status, then serf's protocol and delegate
 * versions (1/5/2, 2/5/4), which the gossip layer does not negotiate.
 * Reference: consul agent/agent_endpoint.go (AgentMembers, AgentJoin,
 * AgentLeave, AgentForceLeave).
 */
#include <string.h>

#include "api_filter.h"
#include "api_operator.h"
#include "config.h"
#include "err.h"
#include "httpd.h"
#include "json.h"
#include "msg_member.h"
#include "proto.h"
#include "query.h"
#include "req.h"
#include "rpc_gossipd.h"

#define API_MEMBERS_CALL_MS 5000
#define API_JOIN_CALL_MS 30000
#define API_LEAVE_CALL_MS 15000

static void
api_members_done(struct req *r, const struct msg_member_result *res)
{
	struct json w;
	uint32_t i, k;

	req_json_init(r, &w);
	json_arr_begin(&w);
	for (i = 0; i < res->n_members; i++) {
		const struct proto_member *m = &res->members[i];

		json_obj_begin(&w);
		json_key(&w, "Name");
		json_strn(&w, m->name.ptr, m->name.len);
		json_key(&w, "Addr");
		json_strn(&w, m->addr.ptr, m->addr.len);
		json_kv_u64(&w, "Port", m->port);
		json_key(&w, "Tags");
		json_obj_begin(&w);
		for (k = 0; k < m->tags.n; k++) {
			json_keyn(&w, m->tags.keys[k].ptr, m->tags.keys[k].len);
			json_strn(&w, m->tags.vals[k].ptr, m->tags.vals[k].len);
		}
		json_obj_end(&w);
		json_kv_u64(&w, "Status", m->status);
		json_kv_u64(&w, "ProtocolMin", 1);
		json_kv_u64(&w, "ProtocolMax", 5);
		json_kv_u64(&w, "ProtocolCur", 2);
		json_kv_u64(&w, "DelegateMin", 2);
		json_kv_u64(&w, "DelegateMax", 5);
		json_kv_u64(&w, "DelegateCur", 4);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	if (!api_filter_json(r, &w, filter_schema_member, NULL))
		return;
	req_reply_json(r, 200, &w);
}

void
api_agent_members(struct httpd *h, struct req *r)
{
	struct msg_member_request rq;

	if (!api_filter_check(r, filter_schema_member))
		return;
	memset(&rq, 0, sizeof(rq));
	rq.op = MEMBER_OP_LIST;
	rq.wan = query_has(&r->args, "wan");
	rpc_gossipd(h, r, &rq, API_MEMBERS_CALL_MS, api_members_done);
}

static void
api_empty_done(struct req *r, const struct msg_member_result *res)
{
	(void)res;
	req_reply_empty(r, 200);
}

void
api_agent_join(struct httpd *h, struct req *r)
{
	struct msg_member_request rq;
	struct proto_str a;

	if (r->param == NULL || *r->param == '\0') {
		req_reply_text(r, 400, "Missing address to join");
		return;
	}
	memset(&rq, 0, sizeof(rq));
	rq.op = MEMBER_OP_JOIN;
	rq.wan = query_has(&r->args, "wan");
	a = proto_str_c(r->param);
	rq.addrs.v = &a;
	rq.addrs.n = 1;
	rpc_gossipd(h, r, &rq, API_JOIN_CALL_MS, api_empty_done);
}

static void
api_agent_leave_gossip(struct req *r, const void *body)
{
	struct msg_member_request rq;

	(void)body;
	memset(&rq, 0, sizeof(rq));
	rq.op = MEMBER_OP_LEAVE;
	rpc_gossipd(r->h, r, &rq, API_LEAVE_CALL_MS, api_empty_done);
}

void
api_agent_leave(struct httpd *h, struct req *r)
{
	/* a server leaves the Raft configuration first (api_operator.c) */
	if (h->cfg->server || h->cfg->dev)
		api_operator_raft_leave(h, r, api_agent_leave_gossip);
	else
		api_agent_leave_gossip(r, NULL);
}

void
api_agent_force_leave(struct httpd *h, struct req *r)
{
	struct msg_member_request rq;

	if (r->param == NULL || *r->param == '\0') {
		req_reply_text(r, 400, "Missing node name");
		return;
	}
	memset(&rq, 0, sizeof(rq));
	rq.op = MEMBER_OP_FORCE_LEAVE;
	rq.node = proto_str_c(r->param);
	rq.prune = query_has(&r->args, "prune");
	rq.wan = query_has(&r->args, "wan");
	rpc_gossipd(h, r, &rq, API_MEMBERS_CALL_MS, api_empty_done);
}
