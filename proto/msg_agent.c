/*
 * msg_agent.c — field tables of MSG_AGENT_REQUEST and MSG_AGENT_RESULT
 * (proto/msg_agent.h). Tags are wire format: never renumber one.
 * Reference: spec/consul-api.md §2.1 (agent service and check endpoints).
 */
#include <stddef.h>

#include "codec.h"
#include "msg_agent.h"

static const struct proto_field agent_request_fields[] = {
	{ .tag = 1, .kind = PK_U8,
	  .off = offsetof(struct msg_agent_request, op) },
	{ .tag = 2, .kind = PK_STR,
	  .off = offsetof(struct msg_agent_request, id) },
	{ .tag = 3, .kind = PK_STRMAP,
	  .off = offsetof(struct msg_agent_request, query) },
	{ .tag = 4, .kind = PK_STR,
	  .off = offsetof(struct msg_agent_request, body) },
	{ .tag = 5, .kind = PK_BOOL,
	  .off = offsetof(struct msg_agent_request, pretty) },
	{ .tag = 6, .kind = PK_BOOL,
	  .off = offsetof(struct msg_agent_request, accept_text) },
};
const struct proto_desc proto_desc_msg_agent_request = {
	"msg_agent_request", sizeof(struct msg_agent_request),
	PROTO_FIELDS(agent_request_fields) };

static const struct proto_field agent_result_fields[] = {
	{ .tag = 1, .kind = PK_U32,
	  .off = offsetof(struct msg_agent_result, status) },
	{ .tag = 2, .kind = PK_STR,
	  .off = offsetof(struct msg_agent_result, content_type) },
	{ .tag = 3, .kind = PK_STR,
	  .off = offsetof(struct msg_agent_result, body) },
	{ .tag = 4, .kind = PK_STRARR,
	  .off = offsetof(struct msg_agent_result, body_parts) },
};
const struct proto_desc proto_desc_msg_agent_result = {
	"msg_agent_result", sizeof(struct msg_agent_result),
	PROTO_FIELDS(agent_result_fields) };
