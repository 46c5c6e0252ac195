/*
 * msg_catalog.c — field tables of the catalog messages (MSG_CATALOG_*)
 * and of the node, service and check records they carry; raftd also
 * stores each catalog record as an encoded MSG_CATALOG_GET_RESULT
 * holding that one record. Tags are wire format: never renumber one; a
 * new field takes the next free tag. Reference: spec/consul-api.md §2.0,
 * §2.2, §2.3; Consul agent/structs/structs.go.
 */
#include <stddef.h>

#include "codec.h"

#define F(tag_, kind_, st, fld) \
	{ .tag = (tag_), .kind = (kind_), .off = offsetof(struct st, fld) }

static const struct proto_field cat_node_fields[] = {
	F(1, PK_STR, proto_cat_node, id),
	F(2, PK_STR, proto_cat_node, node),
	F(3, PK_STR, proto_cat_node, address),
	F(4, PK_STR, proto_cat_node, datacenter),
	F(5, PK_STRMAP, proto_cat_node, tagged_addresses),
	F(6, PK_STRMAP, proto_cat_node, meta),
	F(7, PK_U64, proto_cat_node, create_index),
	F(8, PK_U64, proto_cat_node, modify_index),
};
static const struct proto_desc proto_desc_cat_node = { "proto_cat_node",
	sizeof(struct proto_cat_node), PROTO_FIELDS(cat_node_fields) };

static const struct proto_field cat_addr_fields[] = {
	F(1, PK_STR, proto_cat_addr, key),
	F(2, PK_STR, proto_cat_addr, address),
	F(3, PK_U32, proto_cat_addr, port),
};
static const struct proto_desc proto_desc_cat_addr = { "proto_cat_addr",
	sizeof(struct proto_cat_addr), PROTO_FIELDS(cat_addr_fields) };

static const struct proto_field cat_service_fields[] = {
	F(1, PK_STR, proto_cat_service, node),
	F(2, PK_STR, proto_cat_service, kind),
	F(3, PK_STR, proto_cat_service, id),
	F(4, PK_STR, proto_cat_service, service),
	F(5, PK_STRARR, proto_cat_service, tags),
	F(6, PK_STR, proto_cat_service, address),
	{ .tag = 7, .kind = PK_STRUCTARR, .sub = &proto_desc_cat_addr,
	  .off = offsetof(struct proto_cat_service, tagged_addresses),
	  .count_off = offsetof(struct proto_cat_service,
	  n_tagged_addresses) },
	F(8, PK_STRMAP, proto_cat_service, meta),
	F(9, PK_U32, proto_cat_service, port),
	F(10, PK_U32, proto_cat_service, weight_passing),
	F(11, PK_U32, proto_cat_service, weight_warning),
	F(12, PK_BOOL, proto_cat_service, enable_tag_override),
	F(13, PK_U64, proto_cat_service, create_index),
	F(14, PK_U64, proto_cat_service, modify_index),
};
static const struct proto_desc proto_desc_cat_service = {
	"proto_cat_service", sizeof(struct proto_cat_service),
	PROTO_FIELDS(cat_service_fields) };

static const struct proto_field cat_check_fields[] = {
	F(1, PK_STR, proto_cat_check, node),
	F(2, PK_STR, proto_cat_check, check_id),
	F(3, PK_STR, proto_cat_check, name),
	F(4, PK_STR, proto_cat_check, status),
	F(5, PK_STR, proto_cat_check, notes),
	F(6, PK_STR, proto_cat_check, output),
	F(7, PK_STR, proto_cat_check, service_id),
	F(8, PK_STR, proto_cat_check, service_name),
	F(9, PK_STRARR, proto_cat_check, service_tags),
	F(10, PK_STR, proto_cat_check, type),
	F(11, PK_STR, proto_cat_check, interval),
	F(12, PK_STR, proto_cat_check, timeout),
	F(13, PK_STR, proto_cat_check, def_http),
	F(14, PK_STR, proto_cat_check, def_method),
	F(15, PK_STR, proto_cat_check, def_body),
	F(16, PK_STR, proto_cat_check, def_tcp),
	F(17, PK_STR, proto_cat_check, def_tls_server_name),
	F(18, PK_BOOL, proto_cat_check, def_tls_skip_verify),
	F(19, PK_U64, proto_cat_check, def_interval_ns),
	F(20, PK_U64, proto_cat_check, def_timeout_ns),
	F(21, PK_U64, proto_cat_check, def_deregister_ns),
	F(22, PK_U64, proto_cat_check, create_index),
	F(23, PK_U64, proto_cat_check, modify_index),
};
static const struct proto_desc proto_desc_cat_check = { "proto_cat_check",
	sizeof(struct proto_cat_check), PROTO_FIELDS(cat_check_fields) };

static const struct proto_field catalog_register_fields[] = {
	F(1, PK_U64, msg_catalog_register, client_id),
	F(2, PK_U64, msg_catalog_register, seq),
	F(3, PK_BOOL, msg_catalog_register, skip_node_update),
	{ .tag = 4, .kind = PK_STRUCT, .sub = &proto_desc_cat_node,
	  .off = offsetof(struct msg_catalog_register, node) },
	{ .tag = 5, .kind = PK_STRUCTARR, .sub = &proto_desc_cat_service,
	  .off = offsetof(struct msg_catalog_register, services),
	  .count_off = offsetof(struct msg_catalog_register, n_services) },
	{ .tag = 6, .kind = PK_STRUCTARR, .sub = &proto_desc_cat_check,
	  .off = offsetof(struct msg_catalog_register, checks),
	  .count_off = offsetof(struct msg_catalog_register, n_checks) },
};
const struct proto_desc proto_desc_msg_catalog_register = {
	"msg_catalog_register", sizeof(struct msg_catalog_register),
	PROTO_FIELDS(catalog_register_fields) };

static const struct proto_field catalog_deregister_fields[] = {
	F(1, PK_U64, msg_catalog_deregister, client_id),
	F(2, PK_U64, msg_catalog_deregister, seq),
	F(3, PK_STR, msg_catalog_deregister, node),
	F(4, PK_STR, msg_catalog_deregister, service_id),
	F(5, PK_STR, msg_catalog_deregister, check_id),
};
const struct proto_desc proto_desc_msg_catalog_deregister = {
	"msg_catalog_deregister", sizeof(struct msg_catalog_deregister),
	PROTO_FIELDS(catalog_deregister_fields) };

static const struct proto_field catalog_write_result_fields[] = {
	F(1, PK_BOOL, msg_catalog_write_result, ok),
	F(2, PK_U64, msg_catalog_write_result, index),
};
const struct proto_desc proto_desc_msg_catalog_write_result = {
	"msg_catalog_write_result", sizeof(struct msg_catalog_write_result),
	PROTO_FIELDS(catalog_write_result_fields) };

static const struct proto_field catalog_get_fields[] = {
	{ .tag = 1, .kind = PK_U8, .max = CATALOG_SERVICES_ALL,
	  .off = offsetof(struct msg_catalog_get, what) },
	F(2, PK_STR, msg_catalog_get, name),
	F(3, PK_STRARR, msg_catalog_get, tags),
	F(4, PK_BOOL, msg_catalog_get, passing),
	F(5, PK_STRMAP, msg_catalog_get, node_meta),
	{ .tag = 6, .kind = PK_STRUCT, .sub = &proto_desc_read_opts,
	  .off = offsetof(struct msg_catalog_get, opts) },
};
const struct proto_desc proto_desc_msg_catalog_get = { "msg_catalog_get",
	sizeof(struct msg_catalog_get), PROTO_FIELDS(catalog_get_fields) };

static const struct proto_field catalog_get_result_fields[] = {
	{ .tag = 1, .kind = PK_STRUCT, .sub = &proto_desc_read_meta,
	  .off = offsetof(struct msg_catalog_get_result, meta) },
	F(2, PK_BOOL, msg_catalog_get_result, found),
	{ .tag = 3, .kind = PK_STRUCTARR, .sub = &proto_desc_cat_node,
	  .off = offsetof(struct msg_catalog_get_result, nodes),
	  .count_off = offsetof(struct msg_catalog_get_result, n_nodes) },
	{ .tag = 4, .kind = PK_STRUCTARR, .sub = &proto_desc_cat_service,
	  .off = offsetof(struct msg_catalog_get_result, services),
	  .count_off = offsetof(struct msg_catalog_get_result, n_services) },
	{ .tag = 5, .kind = PK_STRUCTARR, .sub = &proto_desc_cat_check,
	  .off = offsetof(struct msg_catalog_get_result, checks),
	  .count_off = offsetof(struct msg_catalog_get_result, n_checks) },
};
const struct proto_desc proto_desc_msg_catalog_get_result = {
	"msg_catalog_get_result", sizeof(struct msg_catalog_get_result),
	PROTO_FIELDS(catalog_get_result_fields) };
