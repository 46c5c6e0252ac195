/*
 * raftd.h — the state of one raftd process, shared by its glue files:
 * raftd.c (main, startup, shutdown), dispatch.c (IPC requests) and
 * pipeline.c (the write path: append → persist → commit → apply).
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

struct config;
struct ipc_req;
struct ipc_server;
struct loop;
struct store;
struct watch;

/* A write waiting for its log entry to be applied, in index order. */
struct pipeline_wait {
	uint64_t index;
	uint64_t reqid;
	struct ipc_req *req;
	struct pipeline_wait *next;
};

/* A persisted batch whose entries are not all applied yet. */
struct pipeline_done {
	struct writer_batch *b;
	size_t pos; /* next entry to apply */
	struct pipeline_done *next;
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

	bool leader;       /* this server leads (single server: at once) */
	char leader_addr[300];
	bool failpoint_exit_after_apply;
	bool failpoint_exit_after_persist;
	bool stopping;

	/* Raft log positions (the Raft issue adds replication between
	 * persisted and commit: here a single voter commits on persist). */
	uint64_t term;
	uint64_t log_first;  /* first entry kept in the log */
	uint64_t last_index; /* last entry appended (maybe not durable) */
	uint64_t last_term;
	uint64_t persisted_index;
	uint64_t commit_index;

	uint64_t n_batches, n_entries; /* written, for the stop log line */
	struct writer_batch *next; /* entries accumulating for the disk */
	bool writing;              /* a batch is being synced */
	struct pipeline_wait *wait_head, *wait_tail;
	struct pipeline_done *done_head, *done_tail;

	/* tombstone GC (reap.c) */
	uint32_t reap_ttl_ms;      /* a tombstone lives at least this long */
	uint32_t reap_interval_ms; /* sampling and reaping period */
	uint64_t reap_timer;
	uint64_t reaped_upto;
	struct reap_sample *reap_samples;
	size_t reap_n, reap_cap, reap_head;
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
 * Opens the write path: reads the log bounds and the term, bumps and
 * persists the term, replays log entries after the applied index (a
 * single voter: every persisted entry is committed). Returns 0 or ERR_*.
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
/*
 * Removes log entries up to applied - trailing once that is at least
 * threshold entries past the log's first one (the state column family
 * holds everything they built). Synced; on the loop thread. 0 or ERR_*.
 */
int pipeline_compact(struct raftd *rd, uint32_t trailing,
    uint32_t threshold);
/* Begins a clean stop: the loop stops once the in-flight batch is done. */
void pipeline_stop(struct raftd *rd);
/* Frees what the pipeline holds (after the loop ended). */
void pipeline_fini(struct raftd *rd);
/* Called on the writer thread: posts b back to the loop. */
void pipeline_on_written(void *arg, struct writer_batch *b);

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
/* Answers req with MSG_ERROR {code, message}. */
void dispatch_reply_error(struct ipc_req *req, uint64_t reqid, int code,
    const char *msg);

#endif
