/*
 * msg_member.c — field tables of gossipd's IPC messages
 * (proto/msg_member.h, registry codes 87..89). Tags are wire format:
 * never renumber one. Reference: spec §2.0 Member and UserEvent.
 */
#include <stddef.h>

#include "codec.h"
#include "msg_member.h"

#define F(t, tg, k, f) { .tag = (tg), .kind = (k), .off = offsetof(struct t, f) }
#define FM(t, tg, k, f, m)                                                  \
	{ .tag = (tg), .kind = (k), .max = (m), .off = offsetof(struct t, f) }

static const struct proto_field member_fields[] = {
	F(proto_member, 1, PK_STR, name),
	F(proto_member, 2, PK_STR, addr),
	FM(proto_member, 3, PK_U32, port, 65535),
	F(proto_member, 4, PK_STRMAP, tags),
	FM(proto_member, 5, PK_U8, status, 4),
};
static const struct proto_desc proto_desc_member = { "member",
	sizeof(struct proto_member), PROTO_FIELDS(member_fields) };

static const struct proto_field event_fields[] = {
	FM(msg_member_event, 1, PK_U8, event, 5),
	F(msg_member_event, 2, PK_BOOL, wan),
	{ .tag = 3, .kind = PK_STRUCT, .sub = &proto_desc_member,
	  .off = offsetof(struct msg_member_event, member) },
};
const struct proto_desc proto_desc_msg_member_event = { "msg_member_event",
	sizeof(struct msg_member_event), PROTO_FIELDS(event_fields) };

static const struct proto_field request_fields[] = {
	FM(msg_member_request, 1, PK_U8, op, 6),
	F(msg_member_request, 2, PK_BOOL, wan),
	F(msg_member_request, 3, PK_STRARR, addrs),
	F(msg_member_request, 4, PK_STR, node),
	F(msg_member_request, 5, PK_BOOL, prune),
	F(msg_member_request, 6, PK_STR, name),
	F(msg_member_request, 7, PK_STR, payload),
	F(msg_member_request, 8, PK_STR, node_filter),
	F(msg_member_request, 9, PK_STR, service_filter),
	F(msg_member_request, 10, PK_STR, tag_filter),
	F(msg_member_request, 11, PK_U64, min_index),
	F(msg_member_request, 12, PK_U32, wait_ms),
};
const struct proto_desc proto_desc_msg_member_request = {
	"msg_member_request", sizeof(struct msg_member_request),
	PROTO_FIELDS(request_fields) };

static const struct proto_field uev_fields[] = {
	F(proto_user_event, 1, PK_STR, id),
	F(proto_user_event, 2, PK_STR, name),
	F(proto_user_event, 3, PK_STR, payload),
	F(proto_user_event, 4, PK_BOOL, has_payload),
	F(proto_user_event, 5, PK_STR, node_filter),
	F(proto_user_event, 6, PK_STR, service_filter),
	F(proto_user_event, 7, PK_STR, tag_filter),
	F(proto_user_event, 8, PK_U32, version),
	F(proto_user_event, 9, PK_U64, ltime),
};
static const struct proto_desc proto_desc_user_event = { "user_event",
	sizeof(struct proto_user_event), PROTO_FIELDS(uev_fields) };

static const struct proto_field result_fields[] = {
	F(msg_member_result, 1, PK_I32, code),
	F(msg_member_result, 2, PK_STR, error),
	{ .tag = 3, .kind = PK_STRUCTARR, .sub = &proto_desc_member,
	  .off = offsetof(struct msg_member_result, members),
	  .count_off = offsetof(struct msg_member_result, n_members) },
	F(msg_member_result, 4, PK_U32, joined),
	{ .tag = 5, .kind = PK_STRUCTARR, .sub = &proto_desc_user_event,
	  .off = offsetof(struct msg_member_result, events),
	  .count_off = offsetof(struct msg_member_result, n_events) },
	F(msg_member_result, 6, PK_U64, index),
};
const struct proto_desc proto_desc_msg_member_result = {
	"msg_member_result", sizeof(struct msg_member_result),
	PROTO_FIELDS(result_fields) };
