/*
 * store.h — raftd's durable storage under <data_dir>/raft (DESIGN.md §5):
 *
 *   raftlog/  the Raft log in segment files written in place (raftlog.h:
 *             why not RocksDB's WAL); store_log_* below are its API.
 *   RocksDB   one database with the column families
 *     meta    small named records: current term, vote, configuration,
 *             format;
 *     state   the replicated tables (kv.c) and the last applied index;
 *     log     empty: where stores made before raftlog kept the log (its
 *             entries move into raftlog/ at the first open).
 *
 * Log appends and meta writes are synced; state writes go into RocksDB's
 * WAL buffer unsynced (manual WAL flush: written out at least every 50 ms
 * of appends, synced with the next meta write or at close), because a
 * state write lost in a crash is re-derived by replaying the synced log
 * from the stored applied index. store.c is the only file that includes
 * <rocksdb/c.h> (STYLE.md §4); nothing of RocksDB crosses this header.
 *
 * Threads: the loop thread and the storage writer (writer.c) may call
 * these functions concurrently (RocksDB is thread-safe; raftlog.h says
 * what it allows: one appender, reads and compaction beside it); a
 * store_batch, store_iter or store_val is used by one thread at a time.
 */
#ifndef CAIRN_RAFTD_STORE_H
#define CAIRN_RAFTD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_batch;
struct store_iter;

enum store_entry_type {
	STORE_ENTRY_COMMAND = 1, /* data: an encoded client request */
	STORE_ENTRY_NOOP = 2,    /* a leader's first entry of its term */
	STORE_ENTRY_CONFIG = 3,  /* data: a membership configuration */
	STORE_ENTRY_REAP = 4,    /* data: big-endian u64, reap tombstones
				    with an index <= it (reap.c) */
};

/* One log entry. data is owned by whoever holds the struct (see below). */
struct store_entry {
	uint64_t index;
	uint64_t term;
	uint8_t type; /* enum store_entry_type */
	uint8_t *data;
	size_t len;
};

/* Frees e->data (malloc'd) and zeroes it. NULL is a no-op. */
void store_entry_fini(struct store_entry *e);

/* A value read from the store; release with store_val_free(). */
struct store_val {
	const uint8_t *ptr;
	size_t len;
	void *handle; /* internal: the pinned slice */
};
void store_val_free(struct store_val *v);

/*
 * Opens (creating when absent) the store in dir (the directory
 * <data_dir>/raft itself). Returns 0 and an owned store in *out (close
 * with store_close), or ERR_CORRUPT (unreadable or foreign data: the
 * caller must refuse to serve), ERR_IO or ERR_NOMEM, after writing one
 * line naming the cause into err (errlen bytes).
 */
int store_open(const char *dir, struct store **out, char *err,
    size_t errlen);
/* Closes s (flushing nothing extra: the WAL holds every write). NULL ok. */
void store_close(struct store *s);

/* ---- log ---- */

/*
 * Appends entries ents[0..n) (consecutive, borrowed) with one
 * fdatasync (group commit); the first may replace a suffix (index <=
 * last) or start an empty log anywhere. Returns 0, ERR_INVAL (a gap),
 * ERR_IO.
 */
int store_log_append(struct store *s, const struct store_entry *ents,
    size_t n);
/*
 * Reads entry index into *out; out->data is owned (store_entry_fini).
 * Returns 0, ERR_NOTFOUND or ERR_IO.
 */
int store_log_get(struct store *s, uint64_t index, struct store_entry *out);
/* The first and last index and the last term; all 0 for an empty log. */
int store_log_bounds(struct store *s, uint64_t *first, uint64_t *last,
    uint64_t *last_term);
/* Deletes every entry with index >= from (synced): a conflicting suffix. */
int store_log_truncate(struct store *s, uint64_t from);
/* Entries <= upto are covered by a snapshot: they go (whole segments;
 * UINT64_MAX empties the log, synced). */
int store_log_compact(struct store *s, uint64_t upto);

/* ---- meta (synced) ---- */

/* name is a NUL-terminated key. *v is owned (store_val_free). */
int store_meta_get(struct store *s, const char *name, struct store_val *v);
int store_meta_put(struct store *s, const char *name, const void *val,
    size_t len);
/* Reads a u64 record; ERR_NOTFOUND when absent, ERR_CORRUPT if not 8 B. */
int store_meta_get_u64(struct store *s, const char *name, uint64_t *out);
int store_meta_put_u64(struct store *s, const char *name, uint64_t v);

/* ---- state ---- */

/* Point read; returns 0 (*v owned), ERR_NOTFOUND or ERR_IO. */
int store_state_get(struct store *s, const void *key, size_t klen,
    struct store_val *v);

/* A WriteBatch on the state column family of s (borrowed; s outlives
 * it). Returns an owned batch (store_batch_free) or NULL (no memory). */
struct store_batch *store_batch_new(struct store *s);
void store_batch_free(struct store_batch *b);
void store_batch_clear(struct store_batch *b);
void store_batch_put(struct store_batch *b, const void *key, size_t klen,
    const void *val, size_t vlen);
void store_batch_delete(struct store_batch *b, const void *key, size_t klen);
/* Writes b atomically through the WAL (synced if sync). 0 or ERR_IO. */
int store_batch_write(struct store *s, struct store_batch *b, bool sync);

/*
 * An iterator over the state column family from a consistent snapshot
 * of the moment it was made. Returns NULL only on allocation failure.
 */
struct store_iter *store_iter_new(struct store *s);
void store_iter_free(struct store_iter *it);
void store_iter_seek(struct store_iter *it, const void *key, size_t klen);
bool store_iter_valid(struct store_iter *it);
void store_iter_next(struct store_iter *it);
/* Borrowed until the next move of it. */
const uint8_t *store_iter_key(struct store_iter *it, size_t *len);
const uint8_t *store_iter_value(struct store_iter *it, size_t *len);
/* 0, or ERR_IO/ERR_CORRUPT when iteration stopped on an error. */
int store_iter_status(struct store_iter *it);

/* Big-endian helpers for keys and records. */
void store_put_be64(uint8_t *p, uint64_t v);
uint64_t store_get_be64(const uint8_t *p);

#endif
