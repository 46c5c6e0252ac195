/*
 * msg_raft.c — field tables of the server-to-server Raft messages and
 * the forwarded client request (proto/msg_raft.h, registry codes 100..111)
 * and the operator Raft API between httpd and raftd (112..115).
 * Tags are wire format: never renumber one. Tags 1..3 are (from, to,
 * term) in every Raft message. Reference: raftd/raft.h (struct
 * raft_msg_*), DESIGN.md §3 (envelope), §4 (server RPC port).
 */
#include <stddef.h>

#include "codec.h"
#include "msg_raft.h"

#define RAFT_HDR(t)                                                         \
	{ .tag = 1, .kind = PK_U64, .off = offsetof(struct t, from) },      \
	{ .tag = 2, .kind = PK_U64, .off = offsetof(struct t, to) },        \
	{ .tag = 3, .kind = PK_U64, .off = offsetof(struct t, term) }

#define F(t, tg, k, f) { .tag = (tg), .kind = (k), .off = offsetof(struct t, f) }

static const struct proto_field vote_fields[] = {
	RAFT_HDR(msg_raft_vote),
	F(msg_raft_vote, 4, PK_U64, last_log_index),
	F(msg_raft_vote, 5, PK_U64, last_log_term),
	F(msg_raft_vote, 6, PK_BOOL, prevote),
	F(msg_raft_vote, 7, PK_BOOL, transfer),
};
const struct proto_desc proto_desc_msg_raft_vote = { "msg_raft_vote",
	sizeof(struct msg_raft_vote), PROTO_FIELDS(vote_fields) };

static const struct proto_field vote_result_fields[] = {
	RAFT_HDR(msg_raft_vote_result),
	F(msg_raft_vote_result, 4, PK_BOOL, granted),
	F(msg_raft_vote_result, 5, PK_BOOL, prevote),
};
const struct proto_desc proto_desc_msg_raft_vote_result = {
	"msg_raft_vote_result", sizeof(struct msg_raft_vote_result),
	PROTO_FIELDS(vote_result_fields) };

static const struct proto_field entry_fields[] = {
	F(proto_raft_entry, 1, PK_U64, term),
	F(proto_raft_entry, 2, PK_U64, index),
	{ .tag = 3, .kind = PK_U8, .max = 3,
	  .off = offsetof(struct proto_raft_entry, type) },
	F(proto_raft_entry, 4, PK_STR, data),
};
static const struct proto_desc proto_desc_raft_entry = { "raft_entry",
	sizeof(struct proto_raft_entry), PROTO_FIELDS(entry_fields) };

static const struct proto_field append_fields[] = {
	RAFT_HDR(msg_raft_append),
	F(msg_raft_append, 4, PK_U64, prev_index),
	F(msg_raft_append, 5, PK_U64, prev_term),
	F(msg_raft_append, 6, PK_U64, commit),
	F(msg_raft_append, 7, PK_U64, seq),
	F(msg_raft_append, 8, PK_U64, send_ms),
	{ .tag = 9, .kind = PK_STRUCTARR, .sub = &proto_desc_raft_entry,
	  .off = offsetof(struct msg_raft_append, entries),
	  .count_off = offsetof(struct msg_raft_append, n_entries) },
};
const struct proto_desc proto_desc_msg_raft_append = { "msg_raft_append",
	sizeof(struct msg_raft_append), PROTO_FIELDS(append_fields) };

static const struct proto_field append_result_fields[] = {
	RAFT_HDR(msg_raft_append_result),
	F(msg_raft_append_result, 4, PK_BOOL, success),
	F(msg_raft_append_result, 5, PK_U64, match),
	F(msg_raft_append_result, 6, PK_U64, rejected),
	F(msg_raft_append_result, 7, PK_U64, last_index),
	F(msg_raft_append_result, 8, PK_U64, conflict_term),
	F(msg_raft_append_result, 9, PK_U64, conflict_index),
	F(msg_raft_append_result, 10, PK_U64, seq),
	F(msg_raft_append_result, 11, PK_U64, send_ms),
};
const struct proto_desc proto_desc_msg_raft_append_result = {
	"msg_raft_append_result", sizeof(struct msg_raft_append_result),
	PROTO_FIELDS(append_result_fields) };

static const struct proto_field snapshot_fields[] = {
	RAFT_HDR(msg_raft_snapshot),
	F(msg_raft_snapshot, 4, PK_U64, index),
	F(msg_raft_snapshot, 5, PK_U64, snap_term),
	F(msg_raft_snapshot, 6, PK_STR, conf),
	F(msg_raft_snapshot, 7, PK_U64, offset),
	F(msg_raft_snapshot, 8, PK_U64, total),
	F(msg_raft_snapshot, 9, PK_STR, data),
};
const struct proto_desc proto_desc_msg_raft_snapshot = {
	"msg_raft_snapshot", sizeof(struct msg_raft_snapshot),
	PROTO_FIELDS(snapshot_fields) };

static const struct proto_field snapshot_result_fields[] = {
	RAFT_HDR(msg_raft_snapshot_result),
	F(msg_raft_snapshot_result, 4, PK_U64, index),
	F(msg_raft_snapshot_result, 5, PK_U64, offset),
	F(msg_raft_snapshot_result, 6, PK_BOOL, done),
};
const struct proto_desc proto_desc_msg_raft_snapshot_result = {
	"msg_raft_snapshot_result", sizeof(struct msg_raft_snapshot_result),
	PROTO_FIELDS(snapshot_result_fields) };

static const struct proto_field timeout_now_fields[] = {
	RAFT_HDR(msg_raft_timeout_now),
};
const struct proto_desc proto_desc_msg_raft_timeout_now = {
	"msg_raft_timeout_now", sizeof(struct msg_raft_timeout_now),
	PROTO_FIELDS(timeout_now_fields) };

static const struct proto_field forward_fields[] = {
	F(msg_raft_forward, 1, PK_U64, from),
	F(msg_raft_forward, 2, PK_U64, fwd_id),
	F(msg_raft_forward, 3, PK_STR, request),
	F(msg_raft_forward, 4, PK_STR, reply_addr),
};
const struct proto_desc proto_desc_msg_raft_forward = { "msg_raft_forward",
	sizeof(struct msg_raft_forward), PROTO_FIELDS(forward_fields) };

static const struct proto_field forward_result_fields[] = {
	F(msg_raft_forward_result, 1, PK_U64, from),
	F(msg_raft_forward_result, 2, PK_U64, fwd_id),
	F(msg_raft_forward_result, 3, PK_STR, reply),
	F(msg_raft_forward_result, 4, PK_U64, incarnation),
};
const struct proto_desc proto_desc_msg_raft_forward_result = {
	"msg_raft_forward_result", sizeof(struct msg_raft_forward_result),
	PROTO_FIELDS(forward_result_fields) };

static const struct proto_field raft_server_fields[] = {
	F(proto_raft_server, 1, PK_STR, id),
	F(proto_raft_server, 2, PK_STR, node),
	F(proto_raft_server, 3, PK_STR, address),
	F(proto_raft_server, 4, PK_BOOL, leader),
	F(proto_raft_server, 5, PK_BOOL, voter),
	F(proto_raft_server, 6, PK_U64, last_index),
};
static const struct proto_desc proto_desc_raft_server = { "raft_server",
	sizeof(struct proto_raft_server), PROTO_FIELDS(raft_server_fields) };

static const struct proto_field op_get_fields[] = {
	{ .tag = 1, .kind = PK_STRUCT, .sub = &proto_desc_read_opts,
	  .off = offsetof(struct msg_operator_raft_get, opts) },
};
const struct proto_desc proto_desc_msg_operator_raft_get = {
	"msg_operator_raft_get", sizeof(struct msg_operator_raft_get),
	PROTO_FIELDS(op_get_fields) };

static const struct proto_field op_get_result_fields[] = {
	{ .tag = 1, .kind = PK_STRUCTARR, .sub = &proto_desc_raft_server,
	  .off = offsetof(struct msg_operator_raft_get_result, servers),
	  .count_off = offsetof(struct msg_operator_raft_get_result,
	  n_servers) },
	F(msg_operator_raft_get_result, 2, PK_U64, index),
	{ .tag = 3, .kind = PK_STRUCT, .sub = &proto_desc_read_meta,
	  .off = offsetof(struct msg_operator_raft_get_result, meta) },
};
const struct proto_desc proto_desc_msg_operator_raft_get_result = {
	"msg_operator_raft_get_result",
	sizeof(struct msg_operator_raft_get_result),
	PROTO_FIELDS(op_get_result_fields) };

static const struct proto_field op_remove_fields[] = {
	F(msg_operator_raft_remove, 1, PK_STR, id),
	F(msg_operator_raft_remove, 2, PK_STR, address),
};
const struct proto_desc proto_desc_msg_operator_raft_remove = {
	"msg_operator_raft_remove", sizeof(struct msg_operator_raft_remove),
	PROTO_FIELDS(op_remove_fields) };

static const struct proto_field op_remove_result_fields[] = {
	F(msg_operator_raft_remove_result, 1, PK_BOOL, ok),
};
const struct proto_desc proto_desc_msg_operator_raft_remove_result = {
	"msg_operator_raft_remove_result",
	sizeof(struct msg_operator_raft_remove_result),
	PROTO_FIELDS(op_remove_result_fields) };
