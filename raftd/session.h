/*
 * session.h — the session table of raftd (spec/consul-api.md §2.5, §16
 * item 4): sessions stored as 's' id in the `state` column family, their
 * invalidation (destroy, TTL expiry at 2 × TTL, node or check failure)
 * as replicated log entries decided by the leader, and the reads.
 *
 * Two layers: session_state_apply() and session_state_get() are the pure
 * state machine over (store, kv, catalog), used by tests; the session_*
 * functions taking a struct raftd add the leader's TTL timers, blocking
 * reads and IPC answers. Loop thread only.
 */
#ifndef CAIRN_RAFTD_SESSION_H
#define CAIRN_RAFTD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv.h"
#include "msg_session.h"

struct catalog;
struct ipc_req;
struct raftd;
struct store;

/* Consul's SessionTTLMultiplier: a session expires 2 × TTL after renew. */
#define SESSION_TTL_MULTIPLIER 2
/* The longest session ID stored or timed (Consul's are UUIDs). */
#define SESSION_ID_MAX 128
/* The watch key of the sessions table. */
#define SESSION_WATCH_KEY "\0sess"
#define SESSION_WATCH_KEY_LEN 5

/* The answer to a session read (reused; pointers borrow from it). */
struct session_read {
	uint64_t index; /* the sessions table index (never 0) */
	struct proto_session *v;
	uint32_t n, cap;
	struct proto_arena arena;
	uint8_t **bufs; /* copies of the stored records */
	size_t n_bufs, cap_bufs;
};
void session_read_init(struct session_read *r);
void session_read_fini(struct session_read *r);

/*
 * Applies m as log entry index: create (the node must exist, its checks
 * exist and not be critical: else res->err ERR_SESSION with Consul's
 * text) or destroy (idempotent; the held keys are released or deleted
 * and enter lock-delay). Deduplicated by (client_id, seq). Returns 0 or
 * ERR_IO/ERR_CORRUPT/ERR_NOMEM/ERR_INVAL (the state machine stops).
 */
int session_state_apply(struct store *s, struct kv *kv, struct catalog *cat,
    uint64_t index, const struct msg_session_apply *m,
    struct kv_result *res, kv_touch_cb touch, void *arg);
/* Answers what/name into r (sorted by ID). 0 or ERR_*. */
int session_state_get(struct store *s, uint8_t what, struct proto_str name,
    struct session_read *r);
/*
 * The IDs (into r) of sessions of node (empty: every node) that are no
 * longer valid: node missing, a check missing or critical. 0 or ERR_*.
 */
int session_state_invalid(struct store *s, struct catalog *cat,
    struct proto_str node, struct session_read *r);
/* When a session with ttl_ns expires after a renew: 2 × TTL, in ms. */
uint64_t session_timeout_ms(uint64_t ttl_ns);
/* Encodes a destroy of id as an internal MSG_SESSION_APPLY (owned). */
int session_encode_destroy(const char *id, size_t len, struct proto_buf *out);

/* ---- raftd glue ---- */

/* Opens the timers and the watch (after replay). 0 or ERR_NOMEM. */
int session_open(struct raftd *rd);
void session_close(struct raftd *rd);
/* Leadership changed (rd->leader): arm every TTL timer or cancel them. */
void session_leader_changed(struct raftd *rd);
/* pipeline: a committed MSG_SESSION_APPLY. */
int session_apply(struct raftd *rd, uint64_t index,
    const struct msg_session_apply *m, struct kv_result *res);
/* pipeline: a catalog entry was applied; the leader invalidates the
 * sessions of node (empty: all) that lost their node or checks. */
void session_catalog_changed(struct raftd *rd, struct proto_str node);
/* dispatch: MSG_SESSION_APPLY and MSG_SESSION_GET (request bytes). */
void session_dispatch_apply(struct raftd *rd, struct ipc_req *req,
    uint64_t reqid, const struct msg_session_apply *m, const uint8_t *data,
    size_t len);
void session_dispatch_get(struct raftd *rd, struct ipc_req *req,
    uint64_t reqid, const struct msg_session_get *q, const uint8_t *data,
    size_t len);

#endif
