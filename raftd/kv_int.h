/*
 * kv_int.h — what the files of the KV state machine share (kv.c: the
 * records, applying writes, dedup, batches and reap; kv_lock.c:
 * acquire/release, lock-delay and session invalidation; kv_read.c: the
 * reads). Not for other modules: they see kv.h. Loop thread only.
 */
#ifndef CAIRN_RAFTD_KV_INT_H
#define CAIRN_RAFTD_KV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv.h"
#include "proto.h"

struct store_val;

#define KV_KEY_APPLIED "xapplied"
#define KV_KEY_TABLE "xkvs"
#define KV_REC_ENTRY 'E'
#define KV_REC_TOMB 'T'
#define KV_ENTRY_HDR (1 + 8 + 8 + 8 + 8 + 2)
#define KV_SESSION_MAX 0xffffu

/* A key in lock-delay until `until` (ms on the kv clock). */
struct kv_delay {
	char *key;
	size_t klen;
	uint64_t until;
};

struct kv_keylist {
	char *buf;
	size_t len, cap;
	size_t n;
};

struct kv {
	struct store *store;
	uint64_t (*now_ms)(void *);
	void *now_arg;
	struct kv_delay *delays;
	size_t n_delays, cap_delays;
	struct kv_keylist pend; /* keys changed by kv_session_invalidate */
	struct store_batch *batch;
	uint64_t applied;
	uint64_t table;
	uint64_t tomb; /* >= every tombstone's index (table index at open) */
	uint64_t reap_bound; /* the highest reap bound applied since open */
	bool tomb_pending; /* the entry being applied writes a tombstone */
	char *kbuf; /* scratch for 'k' + key */
	size_t kcap;
	uint8_t *vbuf; /* scratch for encoded records */
	size_t vcap;
	/* a run of writes applied in one batch (kv_run_begin): the
	 * records it queued, which its later writes read (the overlay) */
	bool run; /* a run is open */
	bool run_rec; /* puts go into the overlay too */
	int run_err; /* the overlay could not grow: ERR_NOMEM */
	uint32_t run_n; /* entries in the run */
	uint64_t run_last, run_table, run_tomb;
	struct kv_keylist run_keys; /* keys the run changed */
	struct kv_ov *ov;
	uint32_t n_ov, cap_ov;
	uint32_t *ov_hash; /* open addressing: ov index + 1, 0 = empty */
	uint32_t ov_hcap; /* a power of two, > 2 * n_ov */
	uint8_t *ov_buf;
	size_t ov_len, ov_cap;
};

/* A record queued by the open run: bytes in kv->ov_buf, or deleted. */
struct kv_ov {
	size_t koff, klen, voff, vlen;
	bool del;
};

/* A decoded 'k' record; pointers borrow from the stored value. */
struct kv_rec {
	bool present; /* a live entry (not a tombstone, not absent) */
	bool tomb;
	uint64_t create, modify, lock, flags;
	const char *session;
	size_t slen;
	const char *value;
	size_t vlen;
};

/* Grows the byte buffer *p of *cap bytes to hold need: 0 or ERR_NOMEM. */
int kv_grow(void **p, size_t *cap, size_t need);
/* Builds 'k' + key in kv->kbuf, its length in *out: 0 or ERR_NOMEM. */
int kv_key(struct kv *kv, const char *key, size_t klen, size_t *out);
/* Decodes a stored 'k' record (r borrows v): 0 or ERR_CORRUPT. */
int kv_decode(const uint8_t *v, size_t len, struct kv_rec *r);
/* Reads key's record into r (absent: r->present false); *val, which r
 * borrows, is freed by the caller with store_val_free. */
int kv_lookup(struct kv *kv, const char *key, size_t klen, struct kv_rec *r,
    struct store_val *val);
/* Queues entry e of key (borrowed) in kv->batch: 0 or ERR_*. */
int kv_put_entry(struct kv *kv, const struct proto_str *key,
    const struct kv_rec *e);
/* Queues a tombstone of the raw state key k at index in kv->batch. */
void kv_put_tomb_raw(struct kv *kv, const void *k, size_t klen,
    uint64_t index);
/* Appends key k (copied) to l: 0 or ERR_NOMEM. */
int kv_keylist_add(struct kv_keylist *l, const uint8_t *k, size_t klen);
/* acquire and release of op against cur (kv_lock.c): fills res and the
 * batch; 0 or ERR_*. */
int kv_lock_exec(struct kv *kv, uint64_t index, const struct msg_kv_apply *op,
    const struct kv_rec *cur, struct kv_result *res);

#endif
