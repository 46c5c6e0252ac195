/*
 * msg_status.c — field tables of MSG_STATUS_GET and its result (the
 * /v1/status/leader, /v1/status/peers and /v1/agent/self data). Tags are
 * wire format: never renumber one. Reference: spec/consul-api.md (status
 * and agent endpoints).
 */
#include <stddef.h>

#include "codec.h"

static const struct proto_field status_get_fields[] = {
	{ .tag = 1, .kind = PK_U8,
	  .off = offsetof(struct msg_status_get, unused) },
};
const struct proto_desc proto_desc_msg_status_get = { "msg_status_get",
	sizeof(struct msg_status_get), PROTO_FIELDS(status_get_fields) };

static const struct proto_field status_get_result_fields[] = {
	{ .tag = 1, .kind = PK_STR,
	  .off = offsetof(struct msg_status_get_result, leader) },
	{ .tag = 2, .kind = PK_STRARR,
	  .off = offsetof(struct msg_status_get_result, peers) },
	{ .tag = 3, .kind = PK_STRMAP,
	  .off = offsetof(struct msg_status_get_result, raft) },
	{ .tag = 4, .kind = PK_STRMAP,
	  .off = offsetof(struct msg_status_get_result, consul) },
	{ .tag = 5, .kind = PK_STRUCT, .sub = &proto_desc_read_meta,
	  .off = offsetof(struct msg_status_get_result, meta) },
};
const struct proto_desc proto_desc_msg_status_get_result = {
	"msg_status_get_result", sizeof(struct msg_status_get_result),
	PROTO_FIELDS(status_get_result_fields) };
