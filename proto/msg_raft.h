/*
 * msg_raft.h — payloads of the server-to-server messages carried by
 * raftd/transport.c over nng TCP on ports.server (DESIGN.md §4): the
 * seven Raft RPCs of raftd/raft.h (codes 100..106, registry.h) and a
 * forwarded client request with its reply (110, 111).
 *
 * Key decision: one flat struct per Raft message (from, to, term, then
 * the fields of the matching struct raft_msg_*), so the wire mirrors
 * raft.h one to one and raftd/transport.c converts field by field; entry
 * data and snapshot chunks are msgpack strings borrowed from the input.
 * A forwarded request carries the whole encoded IPC envelope (the
 * MSG_KV_APPLY, MSG_KV_GET, MSG_CATALOG_* bytes as the follower received
 * them) and the leader's reply envelope comes back byte for byte, so the
 * leader's dedup by (client_id, seq) still applies. Reference: Raft
 * dissertation §3.3-3.10, hashicorp/raft net_transport.go (one framed
 * stream per peer), consul agent/consul/rpc.go (forwardLeader).
 */
#ifndef CAIRN_PROTO_MSG_RAFT_H
#define CAIRN_PROTO_MSG_RAFT_H

#include "proto.h"

/* MSG_RAFT_VOTE: RequestVote or pre-vote. */
struct msg_raft_vote {
	uint64_t from, to, term;
	uint64_t last_log_index;
	uint64_t last_log_term;
	bool prevote;
	bool transfer;
};

struct msg_raft_vote_result {
	uint64_t from, to, term;
	bool granted;
	bool prevote;
};

/* One log entry on the wire; type is enum raft_entry_type (1..3). */
struct proto_raft_entry {
	uint64_t term;
	uint64_t index;
	uint8_t type;
	struct proto_str data;
};

/* MSG_RAFT_APPEND: AppendEntries (no entries: a heartbeat). */
struct msg_raft_append {
	uint64_t from, to, term;
	uint64_t prev_index;
	uint64_t prev_term;
	uint64_t commit;
	uint64_t seq;
	uint64_t send_ms;
	struct proto_raft_entry *entries;
	uint32_t n_entries;
};

struct msg_raft_append_result {
	uint64_t from, to, term;
	bool success;
	uint64_t match;
	uint64_t rejected;
	uint64_t last_index;
	uint64_t conflict_term;
	uint64_t conflict_index;
	uint64_t seq;
	uint64_t send_ms;
};

/* MSG_RAFT_SNAPSHOT: one InstallSnapshot chunk. */
struct msg_raft_snapshot {
	uint64_t from, to, term;
	uint64_t index;
	uint64_t snap_term;
	struct proto_str conf; /* raft_conf_encode() bytes */
	uint64_t offset;
	uint64_t total;
	struct proto_str data; /* the chunk */
};

struct msg_raft_snapshot_result {
	uint64_t from, to, term;
	uint64_t index;
	uint64_t offset;
	bool done;
};

struct msg_raft_timeout_now {
	uint64_t from, to, term;
};

/*
 * MSG_RAFT_FORWARD: a client request a follower hands to the leader.
 * fwd_id is the sender's tag, echoed in the result; from is the
 * sender's node id (the leader answers over its link to that id).
 */
struct msg_raft_forward {
	uint64_t from;
	uint64_t fwd_id;
	struct proto_str request; /* a whole encoded envelope */
	/* "ip:port" the result goes to when the sender is not a server
	 * (a client agent, raftd/client.c); empty from a server */
	struct proto_str reply_addr;
};

/* MSG_RAFT_FORWARD_RESULT: the leader's reply envelope, byte for byte. */
struct msg_raft_forward_result {
	uint64_t from;
	uint64_t fwd_id;
	struct proto_str reply;
	/* the answering raftd process's random id, chosen at its start
	 * (client_incarnation); a client agent that sees it change knows
	 * requests in flight to that server were lost. 0: not sent */
	uint64_t incarnation;
};

/* ---- operator API: /v1/operator/raft/configuration and /peer ---- */

/* One server of the Raft configuration (Consul RaftServer). */
struct proto_raft_server {
	struct proto_str id;      /* node UUID (Raft protocol 3 server ID) */
	struct proto_str node;    /* node name ("" when unknown) */
	struct proto_str address; /* "ip:port" */
	bool leader;
	bool voter;
	uint64_t last_index;
};

/* MSG_OPERATOR_RAFT_GET: the configuration (default or ?stale). */
struct msg_operator_raft_get {
	struct proto_read_opts opts;
};

struct msg_operator_raft_get_result {
	struct proto_raft_server *servers;
	uint32_t n_servers;
	uint64_t index;
	struct proto_read_meta meta;
};

/* MSG_OPERATOR_RAFT_REMOVE: DELETE /v1/operator/raft/peer (one of). */
struct msg_operator_raft_remove {
	struct proto_str id;
	struct proto_str address;
};

struct msg_operator_raft_remove_result {
	bool ok;
};

#endif
