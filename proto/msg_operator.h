/*
 * msg_operator.h — operator Raft requests added after the configuration
 * and peer removal (msg_raft.h, 112..115): leadership transfer
 * (POST /v1/operator/raft/transfer-leader, 116/117) and a server's
 * graceful leave of the Raft configuration (PUT /v1/agent/leave before
 * gossipd leaves, 118/119). httpd → raftd; a follower forwards them to
 * the leader like any write (raftd/forward.c). Reference: Consul
 * agent/operator_endpoint.go (OperatorRaftTransferLeader),
 * agent/consul/server.go (Leave).
 */
#ifndef CAIRN_PROTO_MSG_OPERATOR_H
#define CAIRN_PROTO_MSG_OPERATOR_H

#include <stdbool.h>

#include "proto.h"

/* MSG_OPERATOR_RAFT_TRANSFER: to id (a node UUID, 16 hex digits of the
 * Raft id, or an address; empty: the most caught-up voter). */
struct msg_operator_raft_transfer {
	struct proto_str id;
};

struct msg_operator_raft_transfer_result {
	bool success;
};

/* MSG_OPERATOR_RAFT_LEAVE: server id (its node UUID) leaves the Raft
 * configuration; a leader hands leadership over first. */
struct msg_operator_raft_leave {
	struct proto_str id;
};

struct msg_operator_raft_leave_result {
	bool ok;
};

#endif
