/*
 * kv.h — the KV state machine of raftd: Consul's /v1/kv semantics on the
 * `state` column family (spec/consul-api.md §2.4, §1.5, §16 items 1–9).
 *
 * Applying a log entry writes ONE state WriteBatch holding the table
 * changes, the new applied index and the writer's dedup record, so a
 * restart resumes after the stored applied index without replaying what
 * was applied (DESIGN.md §5), and a retried (client_id, seq) gets its first
 * result (DESIGN.md §3, Raft dissertation §6.3).
 *
 * Everything here runs on the loop thread. The `state` key space:
 *   'k' key        a KV entry ('E' record) or a tombstone ('T' record)
 *   's' id         a session (session.c)
 *   'd' cid seq    a dedup record (big-endian u64s)
 *   "xapplied"     the last applied log index
 *   "xkvs"         the KV table index (max over entries and tombstones)
 *   'n' 'v' 'c' 'w' 'i' and "xc..."   the catalog tables (catalog.h)
 */
#ifndef CAIRN_RAFTD_KV_H
#define CAIRN_RAFTD_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct kv;
struct store;
struct store_batch;
struct txn_out;

/* Dedup records kept per client: seqs older than last - window are gone. */
#define KV_DEDUP_WINDOW 1024
#define KV_RESULT_MSG_MAX 256

/* The outcome of one write, also what a dedup hit answers. */
struct kv_result {
	int err;       /* 0, or ERR_* (ERR_SESSION ...): reply MSG_ERROR */
	bool ok;       /* the JSON bool when err == 0 */
	uint64_t index; /* the log index the write was applied at */
	char msg[KV_RESULT_MSG_MAX]; /* HTTP body text when err != 0 */
	struct txn_out *txn; /* MSG_TXN: the owned outcome (txn.h) */
};

/*
 * Called once for each key a write changed (created, updated, deleted),
 * after the write is in the store. key is borrowed for the call.
 */
typedef void (*kv_touch_cb)(void *arg, const char *key, size_t klen);

/*
 * Opens the KV state machine on s (borrowed; must outlive kv). Reads the
 * applied and table indexes. Returns 0 and an owned kv (kv_free), or
 * ERR_CORRUPT/ERR_IO/ERR_NOMEM.
 */
int kv_open(struct store *s, struct kv **out);
void kv_free(struct kv *kv);

uint64_t kv_applied_index(const struct kv *kv);
/* The KV table index (0 while the table has never been written). */
uint64_t kv_table_index(const struct kv *kv);


/*
 * Applies op as log entry `index` (> the applied index). If (client_id,
 * seq) was already applied (client_id 0 disables dedup) the stored
 * result is returned and nothing else changes but the applied index.
 * op is borrowed. Returns 0 (the write's own outcome, including errors
 * such as ERR_SESSION, is in *res), or ERR_IO/ERR_CORRUPT when the store
 * failed: the state machine cannot continue.
 */
int kv_apply(struct kv *kv, uint64_t index, const struct msg_kv_apply *op,
    struct kv_result *res, kv_touch_cb touch, void *arg);
/*
 * Runs of consecutive KV writes applied as one atomic store write (kv.c
 * says how reads inside a run see its earlier writes). kv_run_begin opens
 * a run; kv_apply_run applies op (kv_run_eligible: set, cas, delete,
 * delete-cas) as entry index exactly as kv_apply would, its result in
 * *res, but writes nothing yet; kv_run_end writes the run with its
 * applied index and then reports the changed keys through touch.
 * Nothing else may touch the kv between begin and end while the run
 * holds entries; kv_run_len is their number, kv_run_open whether a run
 * is open. Errors as kv_apply.
 */
bool kv_run_eligible(const struct msg_kv_apply *op);
void kv_run_begin(struct kv *kv);
uint32_t kv_run_len(const struct kv *kv);
bool kv_run_open(const struct kv *kv);
/* Bytes the open run holds besides its batch (the overlay). */
size_t kv_run_bytes(const struct kv *kv);
/* Overlay memory kept between runs; larger is freed at kv_run_end. */
#define KV_RUN_KEEP_BYTES (1u << 20)
int kv_apply_run(struct kv *kv, uint64_t index, const struct msg_kv_apply *op,
    struct kv_result *res);
int kv_run_end(struct kv *kv, kv_touch_cb touch, void *arg);
/*
 * Applies a reap as log entry `index`: deletes the tombstones whose
 * delete index is <= upto (Consul's tombstone GC; a prefix's index may
 * go backwards afterwards, spec §1.5) and the dedup records of writes
 * applied at or before upto (a retry arrives within seconds, not after
 * the TTL). *reaped (may be NULL) gets the tombstone count. Returns 0 or
 * ERR_IO/ERR_CORRUPT/ERR_INVAL as kv_apply.
 */
int kv_reap(struct kv *kv, uint64_t index, uint64_t upto, size_t *reaped);
/* Advances the applied index over an entry that is not a KV write. */
int kv_apply_skip(struct kv *kv, uint64_t index);

/*
 * For another state machine of the `state` column family (catalog.c):
 * kv_batch_begin() returns the batch (borrowed) to fill for log entry
 * index, or NULL when index is not past the applied index;
 * kv_batch_commit() adds the applied index and the dedup record of
 * (client_id, seq) -> res (client_id 0: none) and writes the batch
 * atomically. Returns 0 or ERR_IO.
 */
struct store_batch *kv_batch_begin(struct kv *kv, uint64_t index);
int kv_batch_commit(struct kv *kv, uint64_t index, uint64_t client_id,
    uint64_t seq, const struct kv_result *res);

/*
 * Session invalidation, inside kv_batch_begin/kv_batch_commit of entry
 * index: every key held by session id is released (Session cleared,
 * ModifyIndex = index, LockIndex kept) or, with del, deleted; each such
 * key enters lock-delay for delay_ms (0: none). The keys are reported by
 * kv_batch_touch() after the commit. Returns 0 or ERR_NOMEM/ERR_IO/
 * ERR_CORRUPT.
 */
int kv_session_invalidate(struct kv *kv, uint64_t index, const char *id,
    size_t idlen, bool del, uint64_t delay_ms);
/*
 * Transactions (txn.c), inside kv_batch_begin/kv_batch_commit: writes
 * entry e (indexes as given; borrowed) or a tombstone of key at index.
 * 0 or ERR_NOMEM/ERR_TOOBIG.
 */
int kv_batch_put(struct kv *kv, const struct proto_kv_entry *e);
int kv_batch_del(struct kv *kv, uint64_t index, struct proto_str key);
/* Whether session id is in the session table: 0 or ERR_IO. */
int kv_session_exists(struct kv *kv, struct proto_str id, bool *exists);
/* Reports (touch) and forgets the keys the last batch changed. */
void kv_batch_touch(struct kv *kv, kv_touch_cb touch, void *arg);

/*
 * Lock-delay (in memory, Consul's kvsLockDelay): the deadline of key in
 * ms of the kv clock, 0 when none is running; set one delay_ms from now.
 * kv_set_clock replaces the clock (NULL: CLOCK_MONOTONIC) for tests.
 */
uint64_t kv_lock_delay_until(struct kv *kv, const char *key, size_t klen);
int kv_lock_delay_set(struct kv *kv, const char *key, size_t klen,
    uint64_t delay_ms);
void kv_set_clock(struct kv *kv, uint64_t (*now_ms)(void *), void *arg);

/*
 * Makes room for element n of the array *p of *cap elements of size
 * bytes (doubling, 16 at first): 0, or ERR_NOMEM with *p and *cap as
 * they were. Shared by the state machines' read and outcome arrays.
 */
int kv_grow_array(void **p, uint32_t *cap, uint32_t n, size_t size);

/*
 * The prefix walk of the `state` column family shared by its state
 * machines (KV, catalog, sessions): calls cb for each record of s whose
 * key starts with the plen bytes at p, in key order, on one snapshot;
 * stops at the first cb result that is not 0 and returns it, else the
 * iterator's status (0 or ERR_IO). k and v borrow until cb returns; p is
 * borrowed for the whole walk.
 */
typedef int (*kv_each_cb)(void *ctx, const uint8_t *k, size_t klen,
    const uint8_t *v, size_t vlen);
int kv_each(struct store *s, const void *p, size_t plen, kv_each_cb cb,
    void *ctx);

/* Looks up the stored result of (client_id, seq): 0 or ERR_NOTFOUND. */
int kv_dedup_find(struct kv *kv, uint64_t client_id, uint64_t seq,
    struct kv_result *res);

/*
 * The answer to a read. Reused across reads (kv_read_init once,
 * kv_read_fini at the end); every pointer in it borrows from the struct
 * and is valid until the next kv_get on it or kv_read_fini.
 */
struct kv_read {
	uint64_t index; /* X-Consul-Index, never 0 */
	bool found;
	struct proto_kv_entry *entries;
	uint32_t n_entries;
	struct proto_str *keys;
	uint32_t n_keys;
	/* internal */
	uint32_t cap_entries, cap_keys;
	char *buf;
	size_t len, cap;
	void *pinned; /* struct store_val for a single-key read */
};
void kv_read_init(struct kv_read *r);
void kv_read_fini(struct kv_read *r);

/*
 * Answers q (borrowed) into r. Returns 0, ERR_INVAL (bad mode),
 * ERR_NOMEM, or ERR_IO/ERR_CORRUPT (store failure, logged).
 */
int kv_get(struct kv *kv, const struct msg_kv_get *q, struct kv_read *r);

#endif
