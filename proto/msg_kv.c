/*
 * msg_kv.c — field tables of the KV messages (MSG_KV_GET, MSG_KV_APPLY and
 * their results). Tags are wire format: never renumber one; a new field
 * takes the next free tag. Reference: spec/consul-api.md (KV endpoints),
 * DESIGN.md §3 (client id and seq for deduplicated writes).
 */
#include <stddef.h>

#include "codec.h"

static const struct proto_field kv_get_fields[] = {
	{ .tag = 1, .kind = PK_STR, .off = offsetof(struct msg_kv_get, key) },
	{ .tag = 2, .kind = PK_U8, .max = KV_GET_KEYS,
	  .off = offsetof(struct msg_kv_get, mode) },
	{ .tag = 3, .kind = PK_STR,
	  .off = offsetof(struct msg_kv_get, separator) },
	{ .tag = 4, .kind = PK_STRUCT, .sub = &proto_desc_read_opts,
	  .off = offsetof(struct msg_kv_get, opts) },
};
const struct proto_desc proto_desc_msg_kv_get = { "msg_kv_get",
	sizeof(struct msg_kv_get), PROTO_FIELDS(kv_get_fields) };

static const struct proto_field kv_get_result_fields[] = {
	{ .tag = 1, .kind = PK_STRUCT, .sub = &proto_desc_read_meta,
	  .off = offsetof(struct msg_kv_get_result, meta) },
	{ .tag = 2, .kind = PK_BOOL,
	  .off = offsetof(struct msg_kv_get_result, found) },
	{ .tag = 3, .kind = PK_STRUCTARR, .sub = &proto_desc_kv_entry,
	  .off = offsetof(struct msg_kv_get_result, entries),
	  .count_off = offsetof(struct msg_kv_get_result, n_entries) },
	{ .tag = 4, .kind = PK_STRARR,
	  .off = offsetof(struct msg_kv_get_result, keys) },
};
const struct proto_desc proto_desc_msg_kv_get_result = { "msg_kv_get_result",
	sizeof(struct msg_kv_get_result), PROTO_FIELDS(kv_get_result_fields) };

static const struct proto_field kv_apply_fields[] = {
	{ .tag = 1, .kind = PK_U64,
	  .off = offsetof(struct msg_kv_apply, client_id) },
	{ .tag = 2, .kind = PK_U64, .off = offsetof(struct msg_kv_apply, seq) },
	{ .tag = 3, .kind = PK_U8, .max = KV_OP_UNLOCK,
	  .off = offsetof(struct msg_kv_apply, op) },
	{ .tag = 4, .kind = PK_STR, .off = offsetof(struct msg_kv_apply, key) },
	{ .tag = 5, .kind = PK_STR,
	  .off = offsetof(struct msg_kv_apply, value) },
	{ .tag = 6, .kind = PK_U64,
	  .off = offsetof(struct msg_kv_apply, flags) },
	{ .tag = 7, .kind = PK_U64,
	  .off = offsetof(struct msg_kv_apply, cas_index) },
	{ .tag = 8, .kind = PK_STR,
	  .off = offsetof(struct msg_kv_apply, session) },
};
const struct proto_desc proto_desc_msg_kv_apply = { "msg_kv_apply",
	sizeof(struct msg_kv_apply), PROTO_FIELDS(kv_apply_fields) };

static const struct proto_field kv_apply_result_fields[] = {
	{ .tag = 1, .kind = PK_BOOL,
	  .off = offsetof(struct msg_kv_apply_result, ok) },
	{ .tag = 2, .kind = PK_U64,
	  .off = offsetof(struct msg_kv_apply_result, index) },
};
const struct proto_desc proto_desc_msg_kv_apply_result = {
	"msg_kv_apply_result", sizeof(struct msg_kv_apply_result),
	PROTO_FIELDS(kv_apply_result_fields) };
