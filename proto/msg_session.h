/*
 * msg_session.h — payloads of the session table and of /v1/txn between
 * httpd and raftd (MSG_SESSION_* and MSG_TXN*, registry.h codes 130–135).
 *
 * Key decisions: httpd decodes the JSON body, applies Consul's defaults
 * and validations that need no state (TTL range, Behavior, LockDelay) and
 * picks the session's UUID, so the log entry is deterministic; raftd
 * checks the node and its checks when applying. A session write is
 * answered MSG_KV_APPLY_RESULT {ok, index}. Renew is a leader-side read
 * (it re-arms the TTL timer, no log entry), as Consul's Session.Renew.
 * A stored session ('s' id in the state column family) is the encoded
 * MSG_SESSION_APPLY that created it with its indexes filled in.
 * Reference: Consul agent/session_endpoint.go, agent/consul/session_endpoint.go,
 * agent/txn_endpoint.go; spec/consul-api.md §2.5, §2.6.
 */
#ifndef CAIRN_PROTO_MSG_SESSION_H
#define CAIRN_PROTO_MSG_SESSION_H

#include "proto.h"

enum session_behavior {
	SESSION_RELEASE = 0,
	SESSION_DELETE = 1,
};

/* A session (Consul structs.Session). */
struct proto_session {
	struct proto_str id;   /* UUID */
	struct proto_str name;
	struct proto_str node;
	struct proto_str_array node_checks;
	struct proto_str_array service_checks; /* check IDs */
	uint64_t lock_delay_ns;
	uint8_t behavior;      /* enum session_behavior */
	struct proto_str ttl;  /* as given ("10s"); empty = none */
	uint64_t ttl_ns;
	uint64_t create_index;
	uint64_t modify_index;
};

enum session_op {
	SESSION_OP_CREATE = 1,
	SESSION_OP_DESTROY = 2, /* session.id only */
};

/* MSG_SESSION_APPLY: a replicated session write (dedup as msg_kv_apply). */
struct msg_session_apply {
	uint64_t client_id;
	uint64_t seq;
	uint8_t op; /* enum session_op */
	struct proto_session session;
};

enum session_what {
	SESSION_GET_INFO = 1,  /* name = id */
	SESSION_GET_NODE = 2,  /* name = node */
	SESSION_GET_LIST = 3,
	SESSION_RENEW = 4,     /* name = id; on the leader; found false: 404 */
};

/* MSG_SESSION_GET: reads (blocking on the sessions index) and renew. */
struct msg_session_get {
	uint8_t what; /* enum session_what */
	struct proto_str name;
	struct proto_read_opts opts;
};

/* Sessions sorted by ID; meta.index is the sessions table index. */
struct msg_session_get_result {
	struct proto_read_meta meta;
	bool found;
	struct proto_session *sessions;
	uint32_t n_sessions;
};

/* ---- /v1/txn ---- */

enum txn_verb {
	TXN_SET = 1,
	TXN_CAS = 2,
	TXN_LOCK = 3,
	TXN_UNLOCK = 4,
	TXN_GET = 5,
	TXN_GET_OR_EMPTY = 6,
	TXN_GET_TREE = 7,
	TXN_CHECK_INDEX = 8,
	TXN_CHECK_SESSION = 9,
	TXN_CHECK_NOT_EXISTS = 10,
	TXN_DELETE = 11,
	TXN_DELETE_TREE = 12,
	TXN_DELETE_CAS = 13,
};

/* What an operation works on: Consul's TxnOp KV, Node, Service, Check. */
enum txn_kind {
	TXN_KIND_KV = 0,
	TXN_KIND_NODE = 1,
	TXN_KIND_SERVICE = 2,
	TXN_KIND_CHECK = 3,
};

/*
 * One operation of a transaction. KV: verb, key, value, flags, index
 * (cas, check-index, delete-cas), session. Node, Service and Check
 * (verbs set, cas, get, delete, delete-cas): cat.node is the node (only
 * its name for Service and Check ops), cat.services[0] the service,
 * cat.checks[0] the check; index is the record's ModifyIndex (cas,
 * delete-cas).
 */
struct proto_txn_op {
	uint8_t verb; /* enum txn_verb */
	struct proto_str key;
	struct proto_str value;
	uint64_t flags;
	uint64_t index;
	struct proto_str session;
	uint8_t kind; /* enum txn_kind */
	struct msg_catalog_register cat;
};

/* MSG_TXN: the ops, applied all or none in one log entry. */
struct msg_txn {
	uint64_t client_id;
	uint64_t seq;
	bool read_only; /* only get/check verbs: served as a read */
	struct proto_txn_op *ops;
	uint32_t n_ops;
	struct proto_read_opts opts; /* read_only */
};

struct proto_txn_error {
	uint32_t op_index;
	struct proto_str what;
};

/*
 * A Node, Service or Check result: its place pos in the reply's Results
 * (KV results fill the places not taken) and the record in rec (one
 * node, service or check).
 */
struct proto_txn_cat_result {
	uint32_t pos;
	uint8_t kind; /* enum txn_kind */
	struct msg_catalog_get_result rec;
};

/*
 * MSG_TXN_RESULT: n_errors 0 — results (KV entries, values only for
 * get verbs; cat_results placed among them by pos) and index; else
 * errors (HTTP 409) and nothing applied.
 */
struct msg_txn_result {
	struct proto_read_meta meta;
	struct proto_kv_entry *results;
	uint32_t n_results;
	struct proto_txn_error *errors;
	uint32_t n_errors;
	struct proto_txn_cat_result *cat_results;
	uint32_t n_cat_results;
};

#endif
