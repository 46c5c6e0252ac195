/*
 * msg_operator.c — field tables of msg_operator.h (116..119). Tags are
 * wire format: never renumber one.
 */
#include <stddef.h>

#include "codec.h"
#include "msg_operator.h"

#define F(t, tg, k, f) { .tag = (tg), .kind = (k), .off = offsetof(struct t, f) }

static const struct proto_field transfer_fields[] = {
	F(msg_operator_raft_transfer, 1, PK_STR, id),
};
const struct proto_desc proto_desc_msg_operator_raft_transfer = {
	"msg_operator_raft_transfer",
	sizeof(struct msg_operator_raft_transfer),
	PROTO_FIELDS(transfer_fields) };

static const struct proto_field transfer_result_fields[] = {
	F(msg_operator_raft_transfer_result, 1, PK_BOOL, success),
};
const struct proto_desc proto_desc_msg_operator_raft_transfer_result = {
	"msg_operator_raft_transfer_result",
	sizeof(struct msg_operator_raft_transfer_result),
	PROTO_FIELDS(transfer_result_fields) };

static const struct proto_field leave_fields[] = {
	F(msg_operator_raft_leave, 1, PK_STR, id),
};
const struct proto_desc proto_desc_msg_operator_raft_leave = {
	"msg_operator_raft_leave", sizeof(struct msg_operator_raft_leave),
	PROTO_FIELDS(leave_fields) };

static const struct proto_field leave_result_fields[] = {
	F(msg_operator_raft_leave_result, 1, PK_BOOL, ok),
};
const struct proto_desc proto_desc_msg_operator_raft_leave_result = {
	"msg_operator_raft_leave_result",
	sizeof(struct msg_operator_raft_leave_result),
	PROTO_FIELDS(leave_result_fields) };
