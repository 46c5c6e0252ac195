/*
 * msg_session.c — field tables of the session and transaction messages
 * (msg_session.h). Tags are wire format and also the stored form of a
 * session record: never renumber one; a new field takes the next tag.
 * Reference: spec/consul-api.md §2.5, §2.6.
 */
#include <stddef.h>

#include "codec.h"
#include "msg_session.h"

static const struct proto_field session_fields[] = {
	{ .tag = 1, .kind = PK_STR, .off = offsetof(struct proto_session, id) },
	{ .tag = 2, .kind = PK_STR,
	  .off = offsetof(struct proto_session, name) },
	{ .tag = 3, .kind = PK_STR,
	  .off = offsetof(struct proto_session, node) },
	{ .tag = 4, .kind = PK_STRARR,
	  .off = offsetof(struct proto_session, node_checks) },
	{ .tag = 5, .kind = PK_STRARR,
	  .off = offsetof(struct proto_session, service_checks) },
	{ .tag = 6, .kind = PK_U64,
	  .off = offsetof(struct proto_session, lock_delay_ns) },
	{ .tag = 7, .kind = PK_U8, .max = SESSION_DELETE,
	  .off = offsetof(struct proto_session, behavior) },
	{ .tag = 8, .kind = PK_STR, .off = offsetof(struct proto_session, ttl) },
	{ .tag = 9, .kind = PK_U64,
	  .off = offsetof(struct proto_session, ttl_ns) },
	{ .tag = 10, .kind = PK_U64,
	  .off = offsetof(struct proto_session, create_index) },
	{ .tag = 11, .kind = PK_U64,
	  .off = offsetof(struct proto_session, modify_index) },
};
static const struct proto_desc proto_desc_session = { "proto_session",
	sizeof(struct proto_session), PROTO_FIELDS(session_fields) };

static const struct proto_field session_apply_fields[] = {
	{ .tag = 1, .kind = PK_U64,
	  .off = offsetof(struct msg_session_apply, client_id) },
	{ .tag = 2, .kind = PK_U64,
	  .off = offsetof(struct msg_session_apply, seq) },
	{ .tag = 3, .kind = PK_U8, .max = SESSION_OP_DESTROY,
	  .off = offsetof(struct msg_session_apply, op) },
	{ .tag = 4, .kind = PK_STRUCT, .sub = &proto_desc_session,
	  .off = offsetof(struct msg_session_apply, session) },
};
const struct proto_desc proto_desc_msg_session_apply = {
	"msg_session_apply", sizeof(struct msg_session_apply),
	PROTO_FIELDS(session_apply_fields) };

static const struct proto_field session_get_fields[] = {
	{ .tag = 1, .kind = PK_U8, .max = SESSION_RENEW,
	  .off = offsetof(struct msg_session_get, what) },
	{ .tag = 2, .kind = PK_STR,
	  .off = offsetof(struct msg_session_get, name) },
	{ .tag = 3, .kind = PK_STRUCT, .sub = &proto_desc_read_opts,
	  .off = offsetof(struct msg_session_get, opts) },
};
const struct proto_desc proto_desc_msg_session_get = { "msg_session_get",
	sizeof(struct msg_session_get), PROTO_FIELDS(session_get_fields) };

static const struct proto_field session_get_result_fields[] = {
	{ .tag = 1, .kind = PK_STRUCT, .sub = &proto_desc_read_meta,
	  .off = offsetof(struct msg_session_get_result, meta) },
	{ .tag = 2, .kind = PK_BOOL,
	  .off = offsetof(struct msg_session_get_result, found) },
	{ .tag = 3, .kind = PK_STRUCTARR, .sub = &proto_desc_session,
	  .off = offsetof(struct msg_session_get_result, sessions),
	  .count_off = offsetof(struct msg_session_get_result, n_sessions) },
};
const struct proto_desc proto_desc_msg_session_get_result = {
	"msg_session_get_result", sizeof(struct msg_session_get_result),
	PROTO_FIELDS(session_get_result_fields) };

static const struct proto_field txn_op_fields[] = {
	{ .tag = 1, .kind = PK_U8, .max = TXN_DELETE_CAS,
	  .off = offsetof(struct proto_txn_op, verb) },
	{ .tag = 2, .kind = PK_STR, .off = offsetof(struct proto_txn_op, key) },
	{ .tag = 3, .kind = PK_STR,
	  .off = offsetof(struct proto_txn_op, value) },
	{ .tag = 4, .kind = PK_U64,
	  .off = offsetof(struct proto_txn_op, flags) },
	{ .tag = 5, .kind = PK_U64,
	  .off = offsetof(struct proto_txn_op, index) },
	{ .tag = 6, .kind = PK_STR,
	  .off = offsetof(struct proto_txn_op, session) },
	{ .tag = 7, .kind = PK_U8, .max = TXN_KIND_CHECK,
	  .off = offsetof(struct proto_txn_op, kind) },
	{ .tag = 8, .kind = PK_STRUCT, .sub = &proto_desc_msg_catalog_register,
	  .off = offsetof(struct proto_txn_op, cat) },
};
static const struct proto_desc proto_desc_txn_op = { "proto_txn_op",
	sizeof(struct proto_txn_op), PROTO_FIELDS(txn_op_fields) };

static const struct proto_field txn_fields[] = {
	{ .tag = 1, .kind = PK_U64,
	  .off = offsetof(struct msg_txn, client_id) },
	{ .tag = 2, .kind = PK_U64, .off = offsetof(struct msg_txn, seq) },
	{ .tag = 3, .kind = PK_BOOL,
	  .off = offsetof(struct msg_txn, read_only) },
	{ .tag = 4, .kind = PK_STRUCTARR, .sub = &proto_desc_txn_op,
	  .off = offsetof(struct msg_txn, ops),
	  .count_off = offsetof(struct msg_txn, n_ops) },
	{ .tag = 5, .kind = PK_STRUCT, .sub = &proto_desc_read_opts,
	  .off = offsetof(struct msg_txn, opts) },
};
const struct proto_desc proto_desc_msg_txn = { "msg_txn",
	sizeof(struct msg_txn), PROTO_FIELDS(txn_fields) };

static const struct proto_field txn_error_fields[] = {
	{ .tag = 1, .kind = PK_U32,
	  .off = offsetof(struct proto_txn_error, op_index) },
	{ .tag = 2, .kind = PK_STR,
	  .off = offsetof(struct proto_txn_error, what) },
};
static const struct proto_desc proto_desc_txn_error = { "proto_txn_error",
	sizeof(struct proto_txn_error), PROTO_FIELDS(txn_error_fields) };

static const struct proto_field txn_cat_result_fields[] = {
	{ .tag = 1, .kind = PK_U32,
	  .off = offsetof(struct proto_txn_cat_result, pos) },
	{ .tag = 2, .kind = PK_U8, .max = TXN_KIND_CHECK,
	  .off = offsetof(struct proto_txn_cat_result, kind) },
	{ .tag = 3, .kind = PK_STRUCT,
	  .sub = &proto_desc_msg_catalog_get_result,
	  .off = offsetof(struct proto_txn_cat_result, rec) },
};
static const struct proto_desc proto_desc_txn_cat_result = {
	"proto_txn_cat_result", sizeof(struct proto_txn_cat_result),
	PROTO_FIELDS(txn_cat_result_fields) };

static const struct proto_field txn_result_fields[] = {
	{ .tag = 1, .kind = PK_STRUCT, .sub = &proto_desc_read_meta,
	  .off = offsetof(struct msg_txn_result, meta) },
	{ .tag = 2, .kind = PK_STRUCTARR, .sub = &proto_desc_kv_entry,
	  .off = offsetof(struct msg_txn_result, results),
	  .count_off = offsetof(struct msg_txn_result, n_results) },
	{ .tag = 3, .kind = PK_STRUCTARR, .sub = &proto_desc_txn_error,
	  .off = offsetof(struct msg_txn_result, errors),
	  .count_off = offsetof(struct msg_txn_result, n_errors) },
	{ .tag = 4, .kind = PK_STRUCTARR, .sub = &proto_desc_txn_cat_result,
	  .off = offsetof(struct msg_txn_result, cat_results),
	  .count_off = offsetof(struct msg_txn_result, n_cat_results) },
};
const struct proto_desc proto_desc_msg_txn_result = { "msg_txn_result",
	sizeof(struct msg_txn_result), PROTO_FIELDS(txn_result_fields) };
