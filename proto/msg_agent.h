/*
 * msg_agent.h — payloads of the agent-local service/check API between
 * httpd and checkd (MSG_AGENT_REQUEST / MSG_AGENT_RESULT, registry.h).
 *
 * Key decision: checkd owns the agent's local state and also its JSON
 * (AgentService, HealthCheck, the registration decoding with Consul's
 * case-insensitive keys), so httpd forwards the operation, the path
 * parameter, the query arguments and the raw body, and relays checkd's
 * status, content type and body. One message pair covers the fifteen
 * /v1/agent service and check endpoints (spec/consul-api.md §2.1).
 */
#ifndef CAIRN_PROTO_MSG_AGENT_H
#define CAIRN_PROTO_MSG_AGENT_H

#include "proto.h"

enum agent_op {
	AGENT_OP_SERVICES = 1,          /* GET  agent/services */
	AGENT_OP_SERVICE = 2,           /* GET  agent/service/:id */
	AGENT_OP_CHECKS = 3,            /* GET  agent/checks */
	AGENT_OP_SERVICE_REGISTER = 4,  /* PUT  agent/service/register */
	AGENT_OP_SERVICE_DEREGISTER = 5, /* PUT agent/service/deregister/:id */
	AGENT_OP_SERVICE_MAINT = 6,     /* PUT  agent/service/maintenance/:id */
	AGENT_OP_CHECK_REGISTER = 7,    /* PUT  agent/check/register */
	AGENT_OP_CHECK_DEREGISTER = 8,  /* PUT  agent/check/deregister/:id */
	AGENT_OP_CHECK_PASS = 9,        /* PUT  agent/check/pass/:id */
	AGENT_OP_CHECK_WARN = 10,       /* PUT  agent/check/warn/:id */
	AGENT_OP_CHECK_FAIL = 11,       /* PUT  agent/check/fail/:id */
	AGENT_OP_CHECK_UPDATE = 12,     /* PUT  agent/check/update/:id */
	AGENT_OP_NODE_MAINT = 13,       /* PUT  agent/maintenance */
	AGENT_OP_HEALTH_ID = 14,        /* GET  agent/health/service/id/:id */
	AGENT_OP_HEALTH_NAME = 15,      /* GET  agent/health/service/name/:n */
	AGENT_OP__LAST = 16,
};

/* MSG_AGENT_REQUEST: one agent API call (httpd -> checkd). */
struct msg_agent_request {
	uint8_t op;               /* enum agent_op */
	struct proto_str id;      /* the path parameter; empty if none */
	struct proto_strmap query; /* the query arguments, in order */
	struct proto_str body;    /* the raw request body (JSON) */
	bool pretty;              /* indent JSON replies */
	bool accept_text;         /* Accept: text/plain (health endpoints) */
};

/* MSG_AGENT_RESULT: the HTTP answer (checkd -> httpd). */
struct msg_agent_result {
	uint32_t status;              /* HTTP status */
	struct proto_str content_type; /* empty: no Content-Type */
	struct proto_str body;
	/* A body over AGENT_BODY_PART bytes travels here instead, in parts
	 * (a proto string is capped at PROTO_MAX_STR): the HTTP body is
	 * body followed by every part. */
	struct proto_str_array body_parts;
};

#define AGENT_BODY_PART (512u * 1024u)

#endif
