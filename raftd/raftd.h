/*
 * raftd.h — the state of one raftd process, shared by its glue files:
 * raftd.c (main, startup, shutdown), dispatch.c (IPC requests) and
 * pipeline.c (the write path: propose → persist → commit → apply).
 *
 * Everything in struct raftd belongs to the loop thread (STYLE.md §1);
 * the storage writer thread only posts finished batches back.
 */
#ifndef CAIRN_RAFTD_RAFTD_H
#define CAIRN_RAFTD_RAFTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "kv.h"
#include "log.h"
#include "proto.h"
#include "writer.h"

struct client;
struct config;
struct discovery;
struct fwd_state;
struct members;
struct op_hold;
struct ipc_req;
struct raft;
struct raft_entry;
struct reconcile;
struct raft_read;
struct transport;
struct ipc_server;
struct loop;
struct store;
struct watch;

/* A write waiting for its log entry to be applied, in index order. */
struct pipeline_wait {
	uint64_t index;
	uint64_t term; /* the entry's term when proposed (Raft) */
	uint64_t reqid;
	struct ipc_req *req;
	struct pipeline_wait *next;
};

struct raftd {
	struct config *cfg;
	struct loop *loop;
	struct store *store;
	struct kv *kv;
	struct writer *writer;
	struct watch *watch;
	struct ipc_server *srv;
	struct proto_arena arena; /* decoded requests, reset per request */
	struct kv_read read;      /* reused by every read */
	struct catalog *cat;      /* the catalog tables (catalog.c) */
	struct catalog_read cread; /* reused by every catalog read */
	struct log_ratelimit badmsg_rl;

	bool leader;       /* this server leads (set by consensus.c) */
	char leader_addr[300];
	bool failpoint_exit_after_apply;
	bool failpoint_exit_after_persist;
	bool stopping;

	/* Raft log positions: they mirror the Raft core's state, for the
	 * status. */
	uint64_t term;
	uint64_t log_first;  /* first entry kept in the log */
	uint64_t last_index; /* last entry appended (maybe not durable) */
	uint64_t last_term;
	uint64_t persisted_index;
	uint64_t commit_index;

	uint64_t n_batches, n_entries; /* written, for the stop log line */
	struct writer_batch *next; /* entries accumulating for the disk */
	bool writing;              /* a batch is being synced */
	uint64_t inline_timer;     /* a small batch to write on the loop */
	struct pipeline_wait *wait_head, *wait_tail;

	/* tombstone GC (reap.c) */
	uint32_t reap_ttl_ms;      /* a tombstone lives at least this long */
	uint32_t reap_interval_ms; /* sampling and reaping period */
	uint64_t reap_timer;
	uint64_t reaped_upto;
	struct reap_sample *reap_samples;
	size_t reap_n, reap_cap, reap_head;

	/* replication (consensus.c, transport.c, forward.c, discovery.c):
	 * clustered is set on every server (-server or -dev: a single one
	 * runs the Raft core too), not on a client agent */
	bool clustered;
	struct raft *raft;
	struct transport *tp;
	uint64_t node_id;      /* the Raft id: from <data_dir>/node-id */
	char node_uuid[40];    /* that file's UUID */
	char self_addr[300];   /* "ip:port" of this server's RPC port */
	uint64_t raft_timer;
	uint64_t trunc_pending; /* delete stored entries >= this first */
	bool in_step;          /* consensus_step is running */
	bool step_posted;      /* a consensus_step is posted */
	uint64_t snap_tried;   /* applied index of the last snapshot try */
	uint64_t n_installs;   /* snapshots installed from the leader */
	bool step_again;
	struct proto_arena rarena; /* decoded peer messages */
	struct fwd_state *fwd;  /* forward.c */
	struct discovery *disc; /* discovery.c */
	struct members *members; /* members.c: gossipd's server members */
	bool gate_passed;       /* re-dispatch of a held request */
	struct sessions *sess;  /* session.c: TTL timers, blocking reads */
	struct reconcile *recon; /* reconcile.c: gossip into the catalog */
	struct op_hold *op_holds; /* operator.c: transfers, leaves */
	/* client.c: on a node without -server raftd keeps no state and
	 * forwards every request to a server (client_agent); on a server,
	 * the reply addresses of the client agents that forwarded to it */
	bool client_agent;
	struct client *client;
};

/* ---- node.c ---- */

#define NODE_SOCKET "raftd.rpc"

/*
 * Opens a node on l (borrowed) with cfg (borrowed; data_dir and
 * runtime_dir set and existing) into rd (zeroed first): store, state,
 * pipeline (replaying), writer thread and the IPC server. Returns 0, or
 * ERR_* after logging the cause (rd is then closed). Block signals
 * before: it starts threads.
 */
int node_open(struct raftd *rd, struct loop *l, struct config *cfg);
/* Closes everything node_open opened (not the loop). */
void node_close(struct raftd *rd);

/* ---- pipeline.c ---- */

/*
 * Opens the write path: reads the log bounds; the Raft core
 * (consensus_start) restores the rest. Returns 0 or ERR_*.
 */
int pipeline_start(struct raftd *rd);
/*
 * Appends the encoded MSG_KV_APPLY msg (copied) as a log entry and holds
 * req until the entry is applied. Takes ownership of req (it is answered
 * or dropped). Returns 0, or ERR_NOMEM (req not taken).
 */
int pipeline_submit(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const uint8_t *msg, size_t len);
/* Appends an internal entry (type, a copy of data) nobody waits for. */
int pipeline_submit_internal(struct raftd *rd, uint8_t type,
    const uint8_t *data, size_t len);
/* Begins a clean stop: the loop stops once the in-flight batch is done. */
void pipeline_stop(struct raftd *rd);
/* Frees what the pipeline holds (after the loop ended). */
void pipeline_fini(struct raftd *rd);
/* Called on the writer thread: posts b back to the loop. */
void pipeline_on_written(void *arg, struct writer_batch *b);

/*
 * The log entries of a drain to store in order after deleting
 * stored entries >= truncate_from (if non-zero); the batch goes to the
 * writer like any other. Entries are borrowed (copied).
 */
int pipeline_log_write(struct raftd *rd, uint64_t truncate_from,
    const struct raft_entry *ents, size_t n);
/* Applies one committed entry (any type) and answers. */
void pipeline_apply_raft(struct raftd *rd, const struct raft_entry *e);
/* Applies n committed entries in order, runs of KV writes in one store
 * write each (kv.h kv_run_begin), and answers. */
void pipeline_apply_all(struct raftd *rd, const struct raft_entry *e,
    size_t n);
/* Raft: answers every held write with "leadership lost while committing
 * log" (500) when this server stops being the leader. */
void pipeline_leadership_lost(struct raftd *rd);

/* ---- consensus.c ---- */

/*
 * Starts the Raft core of a server: the node id, the durable
 * term/vote/log restored into the core, the transport on ports.server
 * and the timer. 0 or ERR_*.
 */
int consensus_start(struct raftd *rd);
void consensus_stop(struct raftd *rd);
/* Feeds the core's outputs to disk, peers and the state machine. */
void consensus_step(struct raftd *rd);
/* Runs consensus_step soon (posted: batches this iteration's inputs). */
void consensus_kick(struct raftd *rd);
/*
 * Proposes a log entry (store type, data copied) on the leader; *index
 * and *term identify it. ERR_NOTLEADER, ERR_AGAIN or ERR_NOMEM.
 */
int consensus_propose(struct raftd *rd, uint8_t type, const uint8_t *data,
    size_t len, uint64_t *index, uint64_t *term);
/* A batch of the log is durable up to (index, term). */
void consensus_persisted(struct raftd *rd, uint64_t index, uint64_t term);
/* Sends an encoded message to server id (its address from the
 * configuration or discovery). 0 or ERR_*. */
int consensus_send(struct raftd *rd, uint64_t id, const uint8_t *data,
    size_t len);
/* The address of server id ("" when unknown; borrowed). */
const char *consensus_addr(struct raftd *rd, uint64_t id);
/* Bootstraps the core with servers (ids, addresses); ERR_EXISTS when
 * the store is not empty. */
int consensus_bootstrap(struct raftd *rd, size_t n, const uint64_t *ids,
    const char *const *addrs);
/* Fills out[] with the voters' addresses (borrowed); returns how many. */
size_t consensus_voters(struct raftd *rd, struct proto_str *out, size_t max);

/* ---- snapshot.c ---- */

struct raft_conf;
struct raft_snapshot_install;
/* Dumps the state column family into *out (owned, free()). 0 or ERR_*. */
int snapshot_dump(struct raftd *rd, uint8_t **out, size_t *len);
/* The core wants a snapshot: dump, hand it over, persist its record. */
void snapshot_take(struct raftd *rd);
/* Replaces the state with s's data (synced) and reopens the tables. */
int snapshot_install(struct raftd *rd, const struct raft_snapshot_install *s);
/* Persists the snapshot record (index, term, conf). 0 or ERR_*. */
int snapshot_meta_put(struct raftd *rd, uint64_t index, uint64_t term,
    const struct raft_conf *conf);
/* The persisted snapshot record (conf empty on entry). ERR_NOTFOUND. */
int snapshot_meta_get(struct raftd *rd, uint64_t *index, uint64_t *term,
    struct raft_conf *conf);

/* ---- forward.c ---- */

enum forward_kind {
	FORWARD_WRITE = 1,
	FORWARD_READ_DEFAULT = 2,
	FORWARD_READ_CONSISTENT = 3,
};

/*
 * The gate before a write or a non-stale read (spec §1.6): returns true
 * when dispatch may serve it here now; otherwise it took req (forwarded
 * to the leader, held until a leader is known or the ReadIndex round
 * ends — then re-dispatched — or answered "No cluster leader"). data is
 * the whole request, valid until req is finished. wait_ms is a blocking
 * read's wait (0 otherwise).
 */
bool forward_gate(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const uint8_t *data, size_t len, enum forward_kind kind,
    uint32_t wait_ms);
int forward_init(struct raftd *rd);
void forward_fini(struct raftd *rd);
/* Role or leader changed: re-dispatch what waited for a leader. */
void forward_leader_changed(struct raftd *rd);
/* May a request already sent to a replaced leader go to the new one
 * (reads, deduplicated writes, session renew)? */
bool forward_may_resend(enum forward_kind kind, const uint8_t *data,
    size_t len);
/* ReadIndex results of a drain. */
void forward_reads(struct raftd *rd, const struct raft_read *reads,
    size_t n);
/* Applied index moved: serve reads waiting for it. */
void forward_applied(struct raftd *rd);
/* MSG_RAFT_FORWARD / _RESULT from a peer (decoded bodies, borrowed). */
void forward_recv_request(struct raftd *rd, uint64_t from, uint64_t fwd_id,
    const uint8_t *request, size_t len);
/* A result is taken only from the server the request's latest send
 * went to (from), with that send's fwd_id. */
void forward_recv_result(struct raftd *rd, uint64_t from, uint64_t fwd_id,
    const uint8_t *reply, size_t len);

/* ---- discovery.c ---- */

/*
 * A server of this datacenter was seen (gossip member event with
 * role=consul): id its node id (the <data_dir>/node-id UUID, tag "id"),
 * name its node name, addr "ip:port" of its server RPC port, expect its
 * bootstrap_expect tag (0: none). Borrowed strings. Bootstraps once
 * bootstrap_expect servers agreeing on it are known and the log is
 * empty; on the leader, adds a server missing from the configuration.
 * Returns 0, ERR_INVAL (bad id or address) or ERR_CONFLICT (expect
 * disagrees: logged, never bootstraps).
 */
int discovery_server_seen(struct raftd *rd, const char *id,
    const char *name, const char *addr, int expect);
/* A server failed or left (gossip): the leader's autopilot removes it
 * from the configuration when that keeps a quorum (cleanup_dead_servers);
 * discovery_server_seen() marks it alive again. */
void discovery_server_gone(struct raftd *rd, const char *id);
int discovery_init(struct raftd *rd);
/* This server became leader: add seen servers missing from the
 * configuration. */
void discovery_leader(struct raftd *rd);
void discovery_fini(struct raftd *rd);
/* The address of a seen server ("" when unknown; borrowed). */
const char *discovery_addr(struct raftd *rd, uint64_t id);
/* The UUID and node name gossip gave for id ("" when unknown). */
void discovery_names(struct raftd *rd, uint64_t id, const char **uuid,
    const char **name);
/* The Raft id of a node-id UUID (first 16 hex digits; 0 if invalid). */
uint64_t discovery_raft_id(const char *uuid);

/* ---- members.c ---- */

/*
 * Clustered server: follows gossipd's LAN members (gossipd.events and a
 * poll of gossipd.rpc) into discovery_server_seen()/_gone(). 0 or ERR_*.
 */
int members_start(struct raftd *rd);
void members_stop(struct raftd *rd);

/* ---- client.c ---- */

/*
 * A client agent: learns servers (client_server_seen/_gone from
 * members.c), listens on ports.server for their results and forwards
 * every raftd.rpc request (client_dispatch) to one of them. 0 or ERR_*.
 */
int client_start(struct raftd *rd);
/* A server: keeps the reply addresses of client agents that forward
 * to it (their requests come on the Raft transport). 0 or ERR_*. */
int client_listen(struct raftd *rd);
void client_stop(struct raftd *rd);
void client_dispatch(struct raftd *rd, struct ipc_req *req,
    const uint8_t *data, size_t len);
void client_server_seen(struct raftd *rd, const char *id, const char *name,
    const char *addr);
void client_server_gone(struct raftd *rd, const char *id);
/* A forwarded request from client agent id: its results go to addr. */
void client_peer_note(struct raftd *rd, uint64_t id,
    const struct proto_str *addr);
/* Sends a result to client agent id, or to server id through the
 * outbox (kept while the link is full); ERR_NOTFOUND if neither. */
int client_peer_send(struct raftd *rd, uint64_t id, const uint8_t *data,
    size_t len);
/* This raftd process's incarnation (random, nonzero on a server; sent
 * in every forward result), 0 if none. */
uint64_t client_incarnation(const struct raftd *rd);

/* ---- operator.c ---- */

struct msg_operator_raft_get;
struct msg_operator_raft_remove;
/* MSG_OPERATOR_RAFT_GET / _REMOVE (request bytes for forwarding). */
void operator_raft_get(struct raftd *rd, struct ipc_req *req,
    uint64_t reqid, const struct msg_operator_raft_get *q,
    const uint8_t *data, size_t len);
void operator_raft_remove(struct raftd *rd, struct ipc_req *req,
    uint64_t reqid, const struct msg_operator_raft_remove *m,
    const uint8_t *data, size_t len);
struct msg_operator_raft_transfer;
struct msg_operator_raft_leave;
/* MSG_OPERATOR_RAFT_TRANSFER / _LEAVE (leader; forwarded otherwise). */
void operator_raft_transfer(struct raftd *rd, struct ipc_req *req,
    uint64_t reqid, const struct msg_operator_raft_transfer *m,
    const uint8_t *data, size_t len);
void operator_raft_leave(struct raftd *rd, struct ipc_req *req,
    uint64_t reqid, const struct msg_operator_raft_leave *m,
    const uint8_t *data, size_t len);
/* Drops the requests held for a transfer or leave (node closing). */
void operator_fini(struct raftd *rd);
/* SIGTERM with leave_on_terminate: a leader starts handing leadership
 * over and stops once it did (true: the stop is deferred). */
bool operator_leave_on_signal(struct raftd *rd);

/* ---- catalog_self.c ---- */

/*
 * The leader's own catalog entries (spec §4, Appendix B 1): its node
 * (ID from <data_dir>/node-id, advertise address, tagged addresses,
 * consul-network-segment meta), the serfHealth check (passing) and the
 * consul service on the server port, appended as an internal log entry
 * only when they differ from what is stored. Returns 0 or ERR_*.
 */
int catalog_self_register(struct raftd *rd);

/* ---- reap.c ---- */

struct reap_sample {
	uint64_t at_ms;
	uint64_t index;
};

/* Consul's tombstone_ttl and its granularity (agent/consul/config.go). */
#define REAP_TTL_MS (15u * 60 * 1000)
#define REAP_INTERVAL_MS (30u * 1000)

/*
 * Starts the tombstone GC timer with rd->reap_ttl_ms and
 * rd->reap_interval_ms (0: the defaults above). Returns 0 or ERR_NOMEM.
 */
int reap_start(struct raftd *rd);
void reap_stop(struct raftd *rd);

/* ---- dispatch.c ---- */

/* The ipc_request_cb of raftd.rpc (see ipc.h). */
void raftd_dispatch_httpd(struct ipc_server *srv, struct ipc_req *req,
    const uint8_t *data, size_t len, void *arg);
/* watch.h callbacks: answer or keep a held blocking read. */
bool dispatch_watch_eval(void *arg, void *data, bool timed_out);
void dispatch_watch_drop(void *arg, void *data);
/* Answers req with a MSG_KV_APPLY_RESULT or MSG_ERROR for res. */
void dispatch_reply_apply(struct ipc_req *req, uint64_t reqid,
    const struct kv_result *res);
/* Answers req with result_type (MSG_KV_APPLY_RESULT or
 * MSG_CATALOG_WRITE_RESULT) or MSG_ERROR for res. */
void dispatch_reply_result(struct ipc_req *req, uint64_t reqid,
    uint32_t result_type, const struct kv_result *res);
/* Answers req with message type and body (encoding failed: dropped). */
void dispatch_send(struct ipc_req *req, uint64_t reqid, uint32_t type,
    const void *body);
/* The X-Consul-* metadata of a read answered at index (never 0):
 * KnownLeader and LastContact as this server's Raft sees them. */
struct proto_read_meta dispatch_meta(struct raftd *rd, uint64_t index);
/* Answers req with MSG_ERROR {code, message}. */
void dispatch_reply_error(struct ipc_req *req, uint64_t reqid, int code,
    const char *msg);
/* How a write answers a retry already applied (its outcome from the
 * dedup table), for dispatch_write. */
typedef void (*dispatch_dedup_fn)(struct raftd *rd, struct ipc_req *req,
    uint64_t reqid, const struct kv_result *res);
/*
 * Every replicated write (KV, catalog, session, txn): forward_gate
 * (a follower forwards it to the leader); a retry whose (client_id, seq)
 * was applied is answered by dedup; else the pipeline takes it and
 * answers once applied (stopping: dropped, the client re-sends).
 * data/len borrowed from req.
 */
void dispatch_write(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    uint64_t client_id, uint64_t seq, const uint8_t *data, size_t len,
    dispatch_dedup_fn dedup);
/*
 * The gate of a read with opts' consistency: ?stale passes at once
 * (true); default and consistent reads pass forward_gate (false: it
 * forwarded, held or answered req itself). wait_ms as forward_gate's.
 */
bool dispatch_read_gate(struct raftd *rd, struct ipc_req *req,
    uint64_t reqid, const uint8_t *data, size_t len,
    const struct proto_read_opts *opts, uint32_t wait_ms);
/* dispatch_dedup_fn answering MSG_KV_APPLY_RESULT (KV, sessions). */
void dispatch_dedup_apply(struct raftd *rd, struct ipc_req *req,
    uint64_t reqid, const struct kv_result *res);

#endif
