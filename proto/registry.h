/*
 * registry.h — every IPC and inter-node message, one line each:
 * X(name, fixed numeric code, sender, receiver, payload struct).
 * A code is never reused or renumbered; replies are named _RESULT.
 * Adding a message: a line here, its field table in proto/msg_*.c,
 * a golden vector and malformed cases in tests/unit/test_proto.c, and a
 * case in the receiver's dispatch.
 */
#ifndef CAIRN_PROTO_REGISTRY_H
#define CAIRN_PROTO_REGISTRY_H

#define PROTO_MESSAGES(X)                                                   \
	X(MSG_ERROR, 1, "any", "any", msg_error)                            \
	X(MSG_KV_GET, 10, "httpd", "raftd", msg_kv_get)                     \
	X(MSG_KV_GET_RESULT, 11, "raftd", "httpd", msg_kv_get_result)       \
	X(MSG_KV_APPLY, 12, "httpd", "raftd", msg_kv_apply)                 \
	X(MSG_KV_APPLY_RESULT, 13, "raftd", "httpd", msg_kv_apply_result)   \
	X(MSG_STATUS_GET, 20, "httpd", "raftd", msg_status_get)             \
	X(MSG_STATUS_GET_RESULT, 21, "raftd", "httpd", msg_status_get_result) \
	X(MSG_CATALOG_REGISTER, 30, "httpd", "raftd", msg_catalog_register) \
	X(MSG_CATALOG_DEREGISTER, 31, "httpd", "raftd",                     \
	    msg_catalog_deregister)                                         \
	X(MSG_CATALOG_WRITE_RESULT, 32, "raftd", "httpd",                   \
	    msg_catalog_write_result)                                       \
	X(MSG_CATALOG_GET, 33, "httpd", "raftd", msg_catalog_get)           \
	X(MSG_CATALOG_GET_RESULT, 34, "raftd", "httpd", msg_catalog_get_result) \
	X(MSG_AGENT_REQUEST, 60, "httpd", "checkd", msg_agent_request)     \
	X(MSG_AGENT_RESULT, 61, "checkd", "httpd", msg_agent_result)     \
	X(MSG_RAFT_VOTE, 100, "raftd", "raftd", msg_raft_vote)             \
	X(MSG_RAFT_VOTE_RESULT, 101, "raftd", "raftd", msg_raft_vote_result) \
	X(MSG_RAFT_APPEND, 102, "raftd", "raftd", msg_raft_append)         \
	X(MSG_RAFT_APPEND_RESULT, 103, "raftd", "raftd",                   \
	    msg_raft_append_result)                                         \
	X(MSG_RAFT_SNAPSHOT, 104, "raftd", "raftd", msg_raft_snapshot)     \
	X(MSG_RAFT_SNAPSHOT_RESULT, 105, "raftd", "raftd",                 \
	    msg_raft_snapshot_result)                                       \
	X(MSG_RAFT_TIMEOUT_NOW, 106, "raftd", "raftd", msg_raft_timeout_now) \
	X(MSG_RAFT_FORWARD, 110, "raftd", "raftd", msg_raft_forward)       \
	X(MSG_RAFT_FORWARD_RESULT, 111, "raftd", "raftd",                  \
	    msg_raft_forward_result)                                        \
	X(MSG_OPERATOR_RAFT_GET, 112, "httpd", "raftd", msg_operator_raft_get) \
	X(MSG_OPERATOR_RAFT_GET_RESULT, 113, "raftd", "httpd",             \
	    msg_operator_raft_get_result)                                   \
	X(MSG_OPERATOR_RAFT_REMOVE, 114, "httpd", "raftd",                 \
	    msg_operator_raft_remove)                                       \
	X(MSG_OPERATOR_RAFT_REMOVE_RESULT, 115, "raftd", "httpd",          \
	    msg_operator_raft_remove_result)                                \
	X(MSG_OPERATOR_RAFT_TRANSFER, 116, "httpd", "raftd",               \
	    msg_operator_raft_transfer)                                     \
	X(MSG_OPERATOR_RAFT_TRANSFER_RESULT, 117, "raftd", "httpd",        \
	    msg_operator_raft_transfer_result)                              \
	X(MSG_OPERATOR_RAFT_LEAVE, 118, "httpd", "raftd",                  \
	    msg_operator_raft_leave)                                        \
	X(MSG_OPERATOR_RAFT_LEAVE_RESULT, 119, "raftd", "httpd",           \
	    msg_operator_raft_leave_result)                                 \
	X(MSG_SESSION_APPLY, 130, "httpd", "raftd", msg_session_apply)     \
	X(MSG_SESSION_GET, 132, "httpd", "raftd", msg_session_get)         \
	X(MSG_SESSION_GET_RESULT, 133, "raftd", "httpd",                   \
	    msg_session_get_result)                                         \
	X(MSG_TXN, 134, "httpd", "raftd", msg_txn)                         \
	X(MSG_TXN_RESULT, 135, "raftd", "httpd", msg_txn_result) \
	X(MSG_SWIM_PING, 80, "gossipd", "gossipd", msg_swim_ping)           \
	X(MSG_SWIM_PING_REQ, 81, "gossipd", "gossipd", msg_swim_ping_req)   \
	X(MSG_SWIM_ACK, 82, "gossipd", "gossipd", msg_swim_ack)             \
	X(MSG_SWIM_NACK, 83, "gossipd", "gossipd", msg_swim_nack)           \
	X(MSG_SWIM_PUSH_PULL, 84, "gossipd", "gossipd", msg_swim_push_pull) \
	X(MSG_SWIM_GOSSIP, 85, "gossipd", "gossipd", msg_swim_gossip)       \
	X(MSG_SWIM_USER_EVENT, 86, "gossipd", "gossipd",                    \
	    msg_swim_user_event)                                            \
	X(MSG_MEMBER_EVENT, 87, "gossipd", "raftd", msg_member_event)       \
	X(MSG_MEMBER_REQUEST, 88, "httpd", "gossipd", msg_member_request)   \
	X(MSG_MEMBER_RESULT, 89, "gossipd", "httpd", msg_member_result)

#endif
