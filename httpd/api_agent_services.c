/*
 * api_agent_services.c — the /v1/agent service and check endpoints
 * (services, service/:id, checks, service/register|deregister|
 * maintenance, check/register|deregister|pass|warn|fail|update,
 * maintenance, health/service/id|name). checkd owns that state: each
 * handler forwards the operation, the path parameter, the query and the
 * body to checkd (rpc_checkd.c) and relays its answer.
 * Reference: spec/consul-api.md §2.1; proto/msg_agent.h.
 */
#include <string.h>

#include "httpd.h"
#include "msg_agent.h"
#include "proto.h"
#include "req.h"
#include "rpc_checkd.h"

#define AGENT_MAX_QUERY 64

static void
api_agent_forward(struct httpd *h, struct req *r, uint8_t op)
{
	struct msg_agent_request rq;
	struct proto_str k[AGENT_MAX_QUERY], v[AGENT_MAX_QUERY];
	const char *accept = req_header(r, "Accept");
	size_t i;

	memset(&rq, 0, sizeof(rq));
	rq.op = op;
	rq.id = proto_str_c(r->param != NULL ? r->param : "");
	for (i = 0; i < r->args.n && i < AGENT_MAX_QUERY; i++) {
		k[i] = proto_str_c(r->args.v[i].key);
		v[i] = proto_str_c(r->args.v[i].val ? r->args.v[i].val : "");
	}
	rq.query.keys = k;
	rq.query.vals = v;
	rq.query.n = (uint32_t)i;
	rq.body.ptr = r->body;
	rq.body.len = (uint32_t)r->body_len;
	rq.pretty = r->pretty;
	rq.accept_text = accept != NULL && strstr(accept, "text/plain") !=
	    NULL;
	rpc_checkd(h, r, &rq);
}

#define AGENT_HANDLER(fn, op)                                           \
	void fn(struct httpd *h, struct req *r)                         \
	{                                                               \
		api_agent_forward(h, r, op);                            \
	}

AGENT_HANDLER(api_agent_services, AGENT_OP_SERVICES)
AGENT_HANDLER(api_agent_service, AGENT_OP_SERVICE)
AGENT_HANDLER(api_agent_checks, AGENT_OP_CHECKS)
AGENT_HANDLER(api_agent_service_register, AGENT_OP_SERVICE_REGISTER)
AGENT_HANDLER(api_agent_service_deregister, AGENT_OP_SERVICE_DEREGISTER)
AGENT_HANDLER(api_agent_service_maint, AGENT_OP_SERVICE_MAINT)
AGENT_HANDLER(api_agent_check_register, AGENT_OP_CHECK_REGISTER)
AGENT_HANDLER(api_agent_check_deregister, AGENT_OP_CHECK_DEREGISTER)
AGENT_HANDLER(api_agent_check_pass, AGENT_OP_CHECK_PASS)
AGENT_HANDLER(api_agent_check_warn, AGENT_OP_CHECK_WARN)
AGENT_HANDLER(api_agent_check_fail, AGENT_OP_CHECK_FAIL)
AGENT_HANDLER(api_agent_check_update, AGENT_OP_CHECK_UPDATE)
AGENT_HANDLER(api_agent_maintenance, AGENT_OP_NODE_MAINT)
AGENT_HANDLER(api_agent_health_id, AGENT_OP_HEALTH_ID)
AGENT_HANDLER(api_agent_health_name, AGENT_OP_HEALTH_NAME)
