/*
 * msg_swim.c — field tables of the gossip wire messages (proto/msg_swim.h,
 * registry codes 80..86). Tags are wire format: never renumber one; the
 * updates array is tag 15 in every SWIM message. Reference: gossipd/swim.h
 * (the structs these mirror), memberlist net.go.
 */
#include <stddef.h>

#include "codec.h"
#include "msg_swim.h"

#define F(t, tg, k, f) { .tag = (tg), .kind = (k), .off = offsetof(struct t, f) }
#define FM(t, tg, k, f, m)                                                  \
	{ .tag = (tg), .kind = (k), .max = (m), .off = offsetof(struct t, f) }
#define UPDATES(t)                                                          \
	{ .tag = 15, .kind = PK_STRUCTARR, .sub = &proto_desc_swim_upd,     \
	  .off = offsetof(struct t, updates),                               \
	  .count_off = offsetof(struct t, n_updates) }

static const struct proto_field upd_fields[] = {
	FM(proto_swim_upd, 1, PK_U8, type, 4),
	F(proto_swim_upd, 2, PK_STR, node),
	F(proto_swim_upd, 3, PK_STR, from),
	F(proto_swim_upd, 4, PK_STR, ip),
	FM(proto_swim_upd, 5, PK_U32, port, 65535),
	F(proto_swim_upd, 6, PK_U32, incarnation),
	F(proto_swim_upd, 7, PK_U64, ltime),
	F(proto_swim_upd, 8, PK_STR, meta),
	F(proto_swim_upd, 9, PK_BOOL, prune),
};
static const struct proto_desc proto_desc_swim_upd = { "swim_upd",
	sizeof(struct proto_swim_upd), PROTO_FIELDS(upd_fields) };

static const struct proto_field ping_fields[] = {
	F(msg_swim_ping, 1, PK_U32, seq),
	F(msg_swim_ping, 2, PK_STR, node),
	UPDATES(msg_swim_ping),
};
const struct proto_desc proto_desc_msg_swim_ping = { "msg_swim_ping",
	sizeof(struct msg_swim_ping), PROTO_FIELDS(ping_fields) };

static const struct proto_field ping_req_fields[] = {
	F(msg_swim_ping_req, 1, PK_U32, seq),
	F(msg_swim_ping_req, 2, PK_STR, node),
	F(msg_swim_ping_req, 3, PK_STR, ip),
	FM(msg_swim_ping_req, 4, PK_U32, port, 65535),
	F(msg_swim_ping_req, 5, PK_BOOL, nack),
	UPDATES(msg_swim_ping_req),
};
const struct proto_desc proto_desc_msg_swim_ping_req = { "msg_swim_ping_req",
	sizeof(struct msg_swim_ping_req), PROTO_FIELDS(ping_req_fields) };

static const struct proto_field ack_fields[] = {
	F(msg_swim_ack, 1, PK_U32, seq),
	UPDATES(msg_swim_ack),
};
const struct proto_desc proto_desc_msg_swim_ack = { "msg_swim_ack",
	sizeof(struct msg_swim_ack), PROTO_FIELDS(ack_fields) };

static const struct proto_field nack_fields[] = {
	F(msg_swim_nack, 1, PK_U32, seq),
	UPDATES(msg_swim_nack),
};
const struct proto_desc proto_desc_msg_swim_nack = { "msg_swim_nack",
	sizeof(struct msg_swim_nack), PROTO_FIELDS(nack_fields) };

static const struct proto_field member_fields[] = {
	F(proto_swim_member, 1, PK_STR, node),
	F(proto_swim_member, 2, PK_STR, ip),
	FM(proto_swim_member, 3, PK_U32, port, 65535),
	F(proto_swim_member, 4, PK_U32, incarnation),
	FM(proto_swim_member, 5, PK_U8, state, 3),
	F(proto_swim_member, 6, PK_U64, ltime),
	F(proto_swim_member, 7, PK_STR, meta),
};
static const struct proto_desc proto_desc_swim_member = { "swim_member",
	sizeof(struct proto_swim_member), PROTO_FIELDS(member_fields) };

static const struct proto_field event_fields[] = {
	F(proto_swim_event, 1, PK_STR, name),
	F(proto_swim_event, 2, PK_U64, ltime),
	F(proto_swim_event, 3, PK_STR, payload),
};
static const struct proto_desc proto_desc_swim_event = { "swim_event",
	sizeof(struct proto_swim_event), PROTO_FIELDS(event_fields) };

static const struct proto_field pp_fields[] = {
	F(msg_swim_push_pull, 1, PK_BOOL, join),
	F(msg_swim_push_pull, 2, PK_BOOL, reply),
	F(msg_swim_push_pull, 3, PK_U64, member_ltime),
	F(msg_swim_push_pull, 4, PK_U64, event_ltime),
	F(msg_swim_push_pull, 5, PK_U64, event_seen),
	{ .tag = 6, .kind = PK_STRUCTARR, .sub = &proto_desc_swim_member,
	  .off = offsetof(struct msg_swim_push_pull, members),
	  .count_off = offsetof(struct msg_swim_push_pull, n_members) },
	{ .tag = 7, .kind = PK_STRUCTARR, .sub = &proto_desc_swim_event,
	  .off = offsetof(struct msg_swim_push_pull, events),
	  .count_off = offsetof(struct msg_swim_push_pull, n_events) },
	UPDATES(msg_swim_push_pull),
};
const struct proto_desc proto_desc_msg_swim_push_pull = {
	"msg_swim_push_pull", sizeof(struct msg_swim_push_pull),
	PROTO_FIELDS(pp_fields) };

static const struct proto_field gossip_fields[] = {
	UPDATES(msg_swim_gossip),
};
const struct proto_desc proto_desc_msg_swim_gossip = { "msg_swim_gossip",
	sizeof(struct msg_swim_gossip), PROTO_FIELDS(gossip_fields) };

static const struct proto_field uev_fields[] = {
	F(msg_swim_user_event, 1, PK_STR, id),
	F(msg_swim_user_event, 2, PK_STR, payload),
	F(msg_swim_user_event, 3, PK_STR, node_filter),
	F(msg_swim_user_event, 4, PK_STR, service_filter),
	F(msg_swim_user_event, 5, PK_STR, tag_filter),
	F(msg_swim_user_event, 6, PK_U32, version),
};
const struct proto_desc proto_desc_msg_swim_user_event = {
	"msg_swim_user_event", sizeof(struct msg_swim_user_event),
	PROTO_FIELDS(uev_fields) };
