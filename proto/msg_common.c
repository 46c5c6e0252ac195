/*
 * msg_common.c — field tables of the pieces many messages share (read
 * options, read metadata, KV entries) and of MSG_ERROR. Tags are wire
 * format: never renumber one; a new field takes the next free tag.
 * Reference: DESIGN.md §3; spec/consul-api.md §1.5–§1.6 (read options).
 */
#include <stddef.h>

#include "codec.h"

static const struct proto_field read_opts_fields[] = {
	{ .tag = 1, .kind = PK_U8, .max = PROTO_CONSISTENCY_CONSISTENT,
	  .off = offsetof(struct proto_read_opts, consistency) },
	{ .tag = 2, .kind = PK_U64,
	  .off = offsetof(struct proto_read_opts, min_index) },
	{ .tag = 3, .kind = PK_U32,
	  .off = offsetof(struct proto_read_opts, wait_ms) },
};
const struct proto_desc proto_desc_read_opts = { "proto_read_opts",
	sizeof(struct proto_read_opts), PROTO_FIELDS(read_opts_fields) };

static const struct proto_field read_meta_fields[] = {
	{ .tag = 1, .kind = PK_U64,
	  .off = offsetof(struct proto_read_meta, index) },
	{ .tag = 2, .kind = PK_BOOL,
	  .off = offsetof(struct proto_read_meta, known_leader) },
	{ .tag = 3, .kind = PK_U64,
	  .off = offsetof(struct proto_read_meta, last_contact_ms) },
};
const struct proto_desc proto_desc_read_meta = { "proto_read_meta",
	sizeof(struct proto_read_meta), PROTO_FIELDS(read_meta_fields) };

static const struct proto_field kv_entry_fields[] = {
	{ .tag = 1, .kind = PK_STR, .off = offsetof(struct proto_kv_entry, key) },
	{ .tag = 2, .kind = PK_STR,
	  .off = offsetof(struct proto_kv_entry, value) },
	{ .tag = 3, .kind = PK_U64,
	  .off = offsetof(struct proto_kv_entry, flags) },
	{ .tag = 4, .kind = PK_U64,
	  .off = offsetof(struct proto_kv_entry, create_index) },
	{ .tag = 5, .kind = PK_U64,
	  .off = offsetof(struct proto_kv_entry, modify_index) },
	{ .tag = 6, .kind = PK_U64,
	  .off = offsetof(struct proto_kv_entry, lock_index) },
	{ .tag = 7, .kind = PK_STR,
	  .off = offsetof(struct proto_kv_entry, session) },
};
const struct proto_desc proto_desc_kv_entry = { "proto_kv_entry",
	sizeof(struct proto_kv_entry), PROTO_FIELDS(kv_entry_fields) };

static const struct proto_field error_fields[] = {
	{ .tag = 1, .kind = PK_I32, .off = offsetof(struct msg_error, code) },
	{ .tag = 2, .kind = PK_STR, .off = offsetof(struct msg_error, message) },
};
const struct proto_desc proto_desc_msg_error = { "msg_error",
	sizeof(struct msg_error), PROTO_FIELDS(error_fields) };
