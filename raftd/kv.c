/*
 * kv.c — the KV state machine (see kv.h): Consul's KV semantics on the
 * `state` column family, one WriteBatch per applied entry or per run of
 * consecutive KV writes: the records, applying writes, runs, the dedup
 * table, the batches other state machines share, the reap. Locks, lock-delay and session invalidation are in
 * kv_lock.c, the reads in kv_read.c (shared definitions: kv_int.h).
 *
 * Key decisions. Deleted keys leave a tombstone ('T' record holding the
 * delete's index) in the same key space as live entries, so one prefix
 * scan yields both the entries and the highest index under the prefix;
 * a delete therefore moves a prefix's index as Consul's graveyard does
 * (spec §1.5). Tombstones are kept until a reap entry (reap.c, Consul's
 * tombstone GC) removes those older than its bound. Index rules follow
 * Consul's state store (kvsListTxn, KVSKeys): a non-empty prefix uses
 * the highest index under it, else the table index; an empty prefix
 * uses the table index; never 0. Writes that change nothing (failed
 * cas, delete of a missing key) leave the table index alone, as Consul
 * does. Every prefix walk of the state (KV, catalog, sessions) is
 * kv_each. Reference: Consul agent/consul/state/kvs.go,
 * spec/consul-api.md §2.4 and §16.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "kv_int.h"
#include "log.h"
#include "store.h"

int
kv_grow(void **p, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 256;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if ((q = realloc(*p, n)) == NULL)
		return ERR_NOMEM;
	*p = q;
	*cap = n;
	return 0;
}

int
kv_grow_array(void **p, uint32_t *cap, uint32_t n, size_t size)
{
	uint32_t ncap;
	void *q;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if ((q = realloc(*p, (size_t)ncap * size)) == NULL)
		return ERR_NOMEM;
	*p = q;
	*cap = ncap;
	return 0;
}

/* Builds 'k' + key in kv->kbuf; returns its length or a negative ERR. */
int
kv_key(struct kv *kv, const char *key, size_t klen, size_t *out)
{
	if (kv_grow((void **)&kv->kbuf, &kv->kcap, klen + 1) != 0)
		return ERR_NOMEM;
	kv->kbuf[0] = 'k';
	memcpy(kv->kbuf + 1, key, klen);
	*out = klen + 1;
	return 0;
}

int
kv_decode(const uint8_t *v, size_t len, struct kv_rec *r)
{
	memset(r, 0, sizeof(*r));
	if (len == 9 && v[0] == KV_REC_TOMB) {
		r->tomb = true;
		r->modify = store_get_be64(v + 1);
		return 0;
	}
	if (len < KV_ENTRY_HDR || v[0] != KV_REC_ENTRY)
		return ERR_CORRUPT;
	r->present = true;
	r->create = store_get_be64(v + 1);
	r->modify = store_get_be64(v + 9);
	r->lock = store_get_be64(v + 17);
	r->flags = store_get_be64(v + 25);
	r->slen = ((size_t)v[33] << 8) | v[34];
	if (len < KV_ENTRY_HDR + r->slen)
		return ERR_CORRUPT;
	r->session = (const char *)v + KV_ENTRY_HDR;
	r->value = r->session + r->slen;
	r->vlen = len - KV_ENTRY_HDR - r->slen;
	return 0;
}

/* ---- the open run's overlay (see kv_run_begin) ---- */

/* FNV-1a of a state key. */
static uint32_t
kv_ov_hashkey(const void *k, size_t klen)
{
	const uint8_t *p = k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < klen; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* The hash slot of key k: its latest record's, or the empty one. */
static uint32_t *
kv_ov_slot(struct kv *kv, const void *k, size_t klen)
{
	uint32_t m = kv->ov_hcap - 1, i = kv_ov_hashkey(k, klen) & m;

	for (;; i = (i + 1) & m) {
		uint32_t *sl = &kv->ov_hash[i];
		const struct kv_ov *o;

		if (*sl == 0)
			return sl;
		o = &kv->ov[*sl - 1];
		if (o->klen == klen &&
		    memcmp(kv->ov_buf + o->koff, k, klen) == 0)
			return sl;
	}
}

/* Keeps the hash at most half full: doubles and re-inserts. */
static int
kv_ov_rehash(struct kv *kv)
{
	uint32_t ncap = kv->ov_hcap ? kv->ov_hcap * 2 : 256, *nh;

	if ((nh = calloc(ncap, sizeof(*nh))) == NULL)
		return ERR_NOMEM;
	free(kv->ov_hash);
	kv->ov_hash = nh;
	kv->ov_hcap = ncap;
	for (uint32_t i = 0; i < kv->n_ov; i++) {
		const struct kv_ov *o = &kv->ov[i];

		*kv_ov_slot(kv, kv->ov_buf + o->koff, o->klen) = i + 1;
	}
	return 0;
}

/* Empties the overlay (its memory kept). */
static void
kv_ov_reset(struct kv *kv)
{
	if (kv->n_ov > 0 && kv->ov_hash != NULL)
		memset(kv->ov_hash, 0, kv->ov_hcap * sizeof(*kv->ov_hash));
	kv->n_ov = 0;
	kv->ov_len = 0;
}

/* Remembers that the open run queued k -> v (v NULL: a delete). */
static int
kv_ov_add(struct kv *kv, const void *k, size_t klen, const void *v,
    size_t vlen)
{
	struct kv_ov *o;
	int rc;

	if (2 * (kv->n_ov + 1) > kv->ov_hcap &&
	    (rc = kv_ov_rehash(kv)) != 0)
		return rc;
	if ((rc = kv_grow_array((void **)&kv->ov, &kv->cap_ov, kv->n_ov,
	    sizeof(*kv->ov))) != 0 ||
	    (rc = kv_grow((void **)&kv->ov_buf, &kv->ov_cap,
	    kv->ov_len + klen + vlen)) != 0)
		return rc;
	o = &kv->ov[kv->n_ov++];
	o->koff = kv->ov_len;
	o->klen = klen;
	memcpy(kv->ov_buf + kv->ov_len, k, klen);
	kv->ov_len += klen;
	o->voff = kv->ov_len;
	o->vlen = v != NULL ? vlen : 0;
	o->del = v == NULL;
	if (v != NULL && vlen > 0)
		memcpy(kv->ov_buf + kv->ov_len, v, vlen);
	kv->ov_len += o->vlen;
	*kv_ov_slot(kv, k, klen) = kv->n_ov; /* the latest record wins */
	return 0;
}

/*
 * Reads a state record as the applied state stands: the latest record
 * the open run queued for k, else the store's. v borrows the overlay
 * (handle NULL) until the next kv_ov_add.
 */
static int
kv_state_read(struct kv *kv, const void *k, size_t klen, struct store_val *v)
{
	uint32_t *sl;

	if (kv->n_ov > 0 && *(sl = kv_ov_slot(kv, k, klen)) != 0) {
		const struct kv_ov *o = &kv->ov[*sl - 1];

		memset(v, 0, sizeof(*v));
		if (o->del)
			return ERR_NOTFOUND;
		v->ptr = kv->ov_buf + o->voff;
		v->len = o->vlen;
		return 0;
	}
	return store_state_get(kv->store, k, klen, v);
}

/* store_batch_put, recorded in the overlay while a run executes (a
 * failure to record is kept in run_err for kv_apply_run). */
static void
kv_bput(struct kv *kv, const void *k, size_t klen, const void *v,
    size_t vlen)
{
	store_batch_put(kv->batch, k, klen, v, vlen);
	if (kv->run_rec && kv->run_err == 0)
		kv->run_err = kv_ov_add(kv, k, klen, v, vlen);
}

/* store_batch_delete, recorded as kv_bput. */
static void
kv_bdel(struct kv *kv, const void *k, size_t klen)
{
	store_batch_delete(kv->batch, k, klen);
	if (kv->run_rec && kv->run_err == 0)
		kv->run_err = kv_ov_add(kv, k, klen, NULL, 0);
}

/* Reads key's record into r; *val must be freed by the caller. */
int
kv_lookup(struct kv *kv, const char *key, size_t klen, struct kv_rec *r,
    struct store_val *val)
{
	size_t n;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(val, 0, sizeof(*val));
	if ((rc = kv_key(kv, key, klen, &n)) != 0)
		return rc;
	rc = kv_state_read(kv, kv->kbuf, n, val);
	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if ((rc = kv_decode(val->ptr, val->len, r)) != 0)
		log_warnx("kv: record for key %.*s is malformed", (int)klen,
		    key);
	return rc;
}

int
kv_each(struct store *s, const void *p, size_t plen, kv_each_cb cb,
    void *ctx)
{
	struct store_iter *it;
	const uint8_t *k, *v;
	size_t klen, vlen;
	int rc = 0;

	if ((it = store_iter_new(s)) == NULL)
		return ERR_NOMEM;
	for (store_iter_seek(it, p, plen); store_iter_valid(it);
	    store_iter_next(it)) {
		k = store_iter_key(it, &klen);
		if (klen < plen || memcmp(k, p, plen) != 0)
			break;
		v = store_iter_value(it, &vlen);
		if ((rc = cb(ctx, k, klen, v, vlen)) != 0)
			break;
	}
	if (rc == 0)
		rc = store_iter_status(it);
	store_iter_free(it);
	return rc;
}

static void
kv_put_u64(struct kv *kv, const char *name, uint64_t v)
{
	uint8_t b[8];

	store_put_be64(b, v);
	store_batch_put(kv->batch, name, strlen(name), b, sizeof(b));
}

static int
kv_load_u64(struct kv *kv, const char *name, uint64_t *out)
{
	struct store_val v;
	int rc;

	*out = 0;
	rc = store_state_get(kv->store, name, strlen(name), &v);
	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.len != 8)
		rc = ERR_CORRUPT;
	else
		*out = store_get_be64(v.ptr);
	store_val_free(&v);
	if (rc != 0)
		log_warnx("kv: state record %s is malformed", name);
	return rc;
}

int
kv_open(struct store *s, struct kv **out)
{
	struct kv *kv;
	int rc;

	*out = NULL;
	if ((kv = calloc(1, sizeof(*kv))) == NULL)
		return ERR_NOMEM;
	kv->store = s;
	if ((kv->batch = store_batch_new(s)) == NULL) {
		free(kv);
		return ERR_NOMEM;
	}
	if ((rc = kv_load_u64(kv, KV_KEY_APPLIED, &kv->applied)) != 0 ||
	    (rc = kv_load_u64(kv, KV_KEY_TABLE, &kv->table)) != 0) {
		kv_free(kv);
		return rc;
	}
	kv->tomb = kv->table;
	*out = kv;
	return 0;
}

void
kv_free(struct kv *kv)
{
	if (kv == NULL)
		return;
	store_batch_free(kv->batch);
	for (size_t i = 0; i < kv->n_delays; i++)
		free(kv->delays[i].key);
	free(kv->delays);
	free(kv->pend.buf);
	free(kv->kbuf);
	free(kv->vbuf);
	free(kv->run_keys.buf);
	free(kv->ov);
	free(kv->ov_hash);
	free(kv->ov_buf);
	free(kv);
}

uint64_t
kv_applied_index(const struct kv *kv)
{
	return kv->applied;
}

uint64_t
kv_table_index(const struct kv *kv)
{
	return kv->table;
}


/* ---- dedup: 'd' cid seq -> ok (1) index (8) err (4) message ---- */

static void
kv_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
kv_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
kv_dedup_key(uint8_t k[17], uint64_t cid, uint64_t seq)
{
	k[0] = 'd';
	store_put_be64(k + 1, cid);
	store_put_be64(k + 9, seq);
}

int
kv_dedup_find(struct kv *kv, uint64_t client_id, uint64_t seq,
    struct kv_result *res)
{
	struct store_val v;
	uint8_t k[17];
	size_t mlen;
	int rc;

	memset(res, 0, sizeof(*res));
	if (client_id == 0)
		return ERR_NOTFOUND;
	kv_dedup_key(k, client_id, seq);
	if ((rc = kv_state_read(kv, k, sizeof(k), &v)) != 0)
		return rc;
	if (v.len < 13) {
		store_val_free(&v);
		log_warnx("kv: dedup record of client %016llx is malformed",
		    (unsigned long long)client_id);
		return ERR_CORRUPT;
	}
	res->ok = v.ptr[0] != 0;
	res->index = store_get_be64(v.ptr + 1);
	res->err = (int32_t)kv_get_be32(v.ptr + 9);
	mlen = v.len - 13;
	if (mlen >= sizeof(res->msg))
		mlen = sizeof(res->msg) - 1;
	memcpy(res->msg, v.ptr + 13, mlen);
	res->msg[mlen] = '\0';
	store_val_free(&v);
	return 0;
}

static void
kv_dedup_put(struct kv *kv, uint64_t cid, uint64_t seq,
    const struct kv_result *res)
{
	uint8_t k[17], v[13 + KV_RESULT_MSG_MAX];
	size_t mlen = res->err ? strlen(res->msg) : 0;

	kv_dedup_key(k, cid, seq);
	v[0] = res->ok;
	store_put_be64(v + 1, res->index);
	kv_put_be32(v + 9, (uint32_t)res->err);
	memcpy(v + 13, res->msg, mlen);
	kv_bput(kv, k, sizeof(k), v, 13 + mlen);
	if (seq > KV_DEDUP_WINDOW) {
		kv_dedup_key(k, cid, seq - KV_DEDUP_WINDOW);
		kv_bdel(kv, k, sizeof(k));
	}
}

/* ---- writes ---- */

/* Queues an entry record for key into the batch. */
int
kv_put_entry(struct kv *kv, const struct proto_str *key,
    const struct kv_rec *e)
{
	size_t n, vl = KV_ENTRY_HDR + e->slen + e->vlen;
	uint8_t *p;
	int rc;

	if (e->slen > KV_SESSION_MAX)
		return ERR_TOOBIG;
	if ((rc = kv_grow((void **)&kv->vbuf, &kv->vcap, vl)) != 0 ||
	    (rc = kv_key(kv, key->ptr, key->len, &n)) != 0)
		return rc;
	p = kv->vbuf;
	p[0] = KV_REC_ENTRY;
	store_put_be64(p + 1, e->create);
	store_put_be64(p + 9, e->modify);
	store_put_be64(p + 17, e->lock);
	store_put_be64(p + 25, e->flags);
	p[33] = (uint8_t)(e->slen >> 8);
	p[34] = (uint8_t)e->slen;
	if (e->slen)
		memcpy(p + KV_ENTRY_HDR, e->session, e->slen);
	if (e->vlen)
		memcpy(p + KV_ENTRY_HDR + e->slen, e->value, e->vlen);
	kv_bput(kv, kv->kbuf, n, p, vl);
	return 0;
}

void
kv_put_tomb_raw(struct kv *kv, const void *k, size_t klen, uint64_t index)
{
	uint8_t t[9];

	t[0] = KV_REC_TOMB;
	store_put_be64(t + 1, index);
	kv->tomb_pending = true;
	kv_bput(kv, k, klen, t, sizeof(t));
}

/* set and cas: the value and flags from op; session and lock kept. */
static int
kv_do_set(struct kv *kv, uint64_t index, const struct msg_kv_apply *op,
    const struct kv_rec *cur, struct kv_result *res)
{
	struct kv_rec e = *cur;

	if (op->op == KV_OP_CAS) {
		if (op->cas_index == 0 && cur->present)
			return 0;
		if (op->cas_index != 0 &&
		    (!cur->present || cur->modify != op->cas_index))
			return 0;
	}
	e.create = cur->present ? cur->create : index;
	e.modify = index;
	e.lock = cur->present ? cur->lock : 0;
	if (!cur->present)
		e.slen = 0;
	e.flags = op->flags;
	e.value = op->value.ptr;
	e.vlen = op->value.len;
	res->ok = true;
	return kv_put_entry(kv, &op->key, &e);
}

static int
kv_do_delete(struct kv *kv, uint64_t index, const struct msg_kv_apply *op,
    const struct kv_rec *cur, struct kv_result *res)
{
	size_t n;
	int rc;

	res->ok = true;
	if (op->op == KV_OP_DELETE_CAS) {
		/* Consul's kvsDeleteCASTxn: a missing key is true, a present
		 * one needs its ModifyIndex (never 0, so cas 0 never deletes) */
		res->ok = !cur->present || cur->modify == op->cas_index;
		if (!res->ok)
			return 0;
	}
	if (!cur->present)
		return 0;
	if ((rc = kv_key(kv, op->key.ptr, op->key.len, &n)) != 0)
		return rc;
	kv_put_tomb_raw(kv, kv->kbuf, n, index);
	return 0;
}

int
kv_keylist_add(struct kv_keylist *l, const uint8_t *k, size_t klen)
{
	if (kv_grow((void **)&l->buf, &l->cap, l->len + 8 + klen) != 0)
		return ERR_NOMEM;
	store_put_be64((uint8_t *)l->buf + l->len, klen);
	memcpy(l->buf + l->len + 8, k, klen);
	l->len += 8 + klen;
	l->n++;
	return 0;
}

/* kv_do_delete_tree's walk: a tombstone for each live entry. */
struct kv_tree {
	struct kv *kv;
	uint64_t index;
	struct kv_keylist *keys;
};

static int
kv_tree_cb(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
    size_t vlen)
{
	struct kv_tree *t = ctx;
	struct kv_rec r;
	int rc;

	if ((rc = kv_decode(v, vlen, &r)) != 0 || !r.present)
		return rc;
	kv_put_tomb_raw(t->kv, k, klen, t->index);
	return kv_keylist_add(t->keys, k + 1, klen - 1);
}

/*
 * Turns every live entry under the prefix into a tombstone; the keys are
 * reported through touch after the batch is written, so they are
 * collected in *keys (a '\0'-separated list with lengths).
 */
static int
kv_do_delete_tree(struct kv *kv, uint64_t index,
    const struct msg_kv_apply *op, struct kv_keylist *keys,
    struct kv_result *res)
{
	struct kv_tree t = { kv, index, keys };
	size_t n;
	int rc;

	res->ok = true;
	if ((rc = kv_key(kv, op->key.ptr, op->key.len, &n)) != 0)
		return rc;
	return kv_each(kv->store, kv->kbuf, n, kv_tree_cb, &t);
}

/* Runs op against the current record; fills res and the batch. */
static int
kv_exec(struct kv *kv, uint64_t index, const struct msg_kv_apply *op,
    struct kv_keylist *keys, struct kv_result *res)
{
	struct store_val val;
	struct kv_rec cur;
	int rc;

	if (op->op == KV_OP_DELETE_TREE)
		return kv_do_delete_tree(kv, index, op, keys, res);
	if (op->op < KV_OP_SET || op->op > KV_OP_UNLOCK) {
		res->err = ERR_INVAL;
		snprintf(res->msg, sizeof(res->msg), "unknown kv op %u",
		    op->op);
		return 0;
	}
	if ((rc = kv_lookup(kv, op->key.ptr, op->key.len, &cur, &val)) != 0)
		return rc;
	switch (op->op) {
	case KV_OP_SET:
	case KV_OP_CAS:
		rc = kv_do_set(kv, index, op, &cur, res);
		break;
	case KV_OP_DELETE:
	case KV_OP_DELETE_CAS:
		rc = kv_do_delete(kv, index, op, &cur, res);
		break;
	default:
		rc = kv_lock_exec(kv, index, op, &cur, res);
		break;
	}
	/* a write to a present key, or a create, changed key */
	if (rc == 0 && res->err == 0 && res->ok &&
	    (cur.present || (op->op != KV_OP_DELETE &&
	    op->op != KV_OP_DELETE_CAS)))
		rc = kv_keylist_add(keys, (const uint8_t *)op->key.ptr,
		    op->key.len);
	store_val_free(&val);
	return rc;
}

static void
kv_touch_all(const struct kv_keylist *keys, kv_touch_cb touch, void *arg)
{
	size_t off = 0;

	if (touch == NULL)
		return;
	while (off < keys->len) {
		size_t klen = store_get_be64((const uint8_t *)keys->buf + off);

		touch(arg, keys->buf + off + 8, klen);
		off += 8 + klen;
	}
}

int
kv_apply(struct kv *kv, uint64_t index, const struct msg_kv_apply *op,
    struct kv_result *res, kv_touch_cb touch, void *arg)
{
	struct kv_keylist keys = { 0 };
	int rc;

	memset(res, 0, sizeof(*res));
	if (index <= kv->applied) {
		log_warnx("kv: entry %llu applied twice (applied %llu)",
		    (unsigned long long)index,
		    (unsigned long long)kv->applied);
		return ERR_INVAL;
	}
	store_batch_clear(kv->batch);
	kv->tomb_pending = false;
	if (op->client_id != 0 &&
	    kv_dedup_find(kv, op->client_id, op->seq, res) == 0) {
		log_debug("kv: entry %llu repeats client %016llx seq %llu",
		    (unsigned long long)index,
		    (unsigned long long)op->client_id,
		    (unsigned long long)op->seq);
		return kv_apply_skip(kv, index);
	}
	rc = kv_exec(kv, index, op, &keys, res);
	if (rc == 0) {
		res->index = index;
		if (keys.n > 0)
			kv_put_u64(kv, KV_KEY_TABLE, index);
		kv_put_u64(kv, KV_KEY_APPLIED, index);
		if (op->client_id != 0)
			kv_dedup_put(kv, op->client_id, op->seq, res);
		rc = store_batch_write(kv->store, kv->batch, false);
	}
	if (rc == 0) {
		kv->applied = index;
		if (keys.n > 0)
			kv->table = index;
		if (kv->tomb_pending)
			kv->tomb = index;
		kv_touch_all(&keys, touch, arg);
	}
	store_batch_clear(kv->batch);
	free(keys.buf);
	return rc;
}

/*
 * A run: consecutive committed KV writes applied in one RocksDB write.
 * Each write reads only its own key's record and its dedup record, so
 * the overlay of what the run queued so far (kv_state_read) gives every write
 * of the run the state the writes before it left, as one write per entry
 * did: every server applies the same entries to the same results however
 * its runs are cut. The applied index, the table index and the data go
 * in the same batch, so a crash keeps all of a run or none of it (the
 * entries are in the log and are applied again). Cuts RocksDB's
 * per-write cost (write path, memtable inserts of the applied and table
 * records) to once per run.
 */
bool
kv_run_eligible(const struct msg_kv_apply *op)
{
	return op->op == KV_OP_SET || op->op == KV_OP_CAS ||
	    op->op == KV_OP_DELETE || op->op == KV_OP_DELETE_CAS;
}

void
kv_run_begin(struct kv *kv)
{
	store_batch_clear(kv->batch);
	kv->run = true;
	kv->run_rec = false;
	kv->run_err = 0;
	kv->run_n = 0;
	kv->run_last = kv->applied;
	kv->run_table = kv->run_tomb = 0;
	kv->run_keys.len = kv->run_keys.n = 0;
	kv_ov_reset(kv);
}

uint32_t
kv_run_len(const struct kv *kv)
{
	return kv->run ? kv->run_n : 0;
}

bool
kv_run_open(const struct kv *kv)
{
	return kv->run;
}

size_t
kv_run_bytes(const struct kv *kv)
{
	return kv->run ? kv->ov_len : 0;
}

int
kv_apply_run(struct kv *kv, uint64_t index, const struct msg_kv_apply *op,
    struct kv_result *res)
{
	size_t nkeys = kv->run_keys.n;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!kv->run || !kv_run_eligible(op) || index <= kv->run_last) {
		log_warnx("kv: entry %llu cannot join the run (last %llu)",
		    (unsigned long long)index,
		    (unsigned long long)kv->run_last);
		return ERR_INVAL;
	}
	if (op->client_id != 0 &&
	    kv_dedup_find(kv, op->client_id, op->seq, res) == 0) {
		/* a repeat: only the applied index moves (kv_apply_skip) */
		kv->run_last = index;
		kv->run_n++;
		return 0;
	}
	kv->run_rec = true;
	kv->tomb_pending = false;
	rc = kv_exec(kv, index, op, &kv->run_keys, res);
	if (rc == 0) {
		res->index = index;
		if (op->client_id != 0)
			kv_dedup_put(kv, op->client_id, op->seq, res);
	}
	kv->run_rec = false;
	if (rc == 0 && (rc = kv->run_err) != 0)
		return rc;
	if (rc != 0)
		return rc;
	kv->run_last = index;
	kv->run_n++;
	if (kv->run_keys.n > nkeys)
		kv->run_table = index;
	if (kv->tomb_pending)
		kv->run_tomb = index;
	kv->tomb_pending = false;
	return 0;
}

int
kv_run_end(struct kv *kv, kv_touch_cb touch, void *arg)
{
	int rc = 0;

	if (!kv->run)
		return 0;
	kv->run = false;
	if (kv->run_n > 0) {
		if (kv->run_table != 0)
			kv_put_u64(kv, KV_KEY_TABLE, kv->run_table);
		kv_put_u64(kv, KV_KEY_APPLIED, kv->run_last);
		rc = store_batch_write(kv->store, kv->batch, false);
	}
	store_batch_clear(kv->batch);
	kv_ov_reset(kv);
	if (kv->ov_cap > KV_RUN_KEEP_BYTES) {
		/* a run of large values: do not hold on to its memory */
		free(kv->ov_buf);
		kv->ov_buf = NULL;
		kv->ov_cap = 0;
	}
	if (rc == 0 && kv->run_n > 0) {
		kv->applied = kv->run_last;
		if (kv->run_table != 0)
			kv->table = kv->run_table;
		if (kv->run_tomb != 0)
			kv->tomb = kv->run_tomb;
		kv_touch_all(&kv->run_keys, touch, arg);
	}
	kv->run_n = 0;
	kv->run_keys.len = kv->run_keys.n = 0;
	return rc;
}

/* kv_reap_scan's walk over one key space. */
struct kv_reaping {
	struct kv *kv;
	char p;
	uint64_t upto;
	size_t *n;
};

static int
kv_reap_cb(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
    size_t vlen)
{
	struct kv_reaping *x = ctx;
	struct kv_rec r;
	bool old;
	int rc;

	if (x->p == 'd') {
		/* a dedup record: ok (1) index (8) ... */
		old = vlen >= 9 && store_get_be64(v + 1) <= x->upto;
	} else {
		if ((rc = kv_decode(v, vlen, &r)) != 0)
			return rc;
		old = r.tomb && r.modify <= x->upto;
	}
	if (old) {
		store_batch_delete(x->kv->batch, k, klen);
		if (x->p == 'k')
			(*x->n)++;
	}
	return 0;
}

/* Queues the deletion of every record under prefix p matching `old`. */
static int
kv_reap_scan(struct kv *kv, char p, uint64_t upto, size_t *n)
{
	struct kv_reaping x = { kv, p, upto, n };

	return kv_each(kv->store, &x.p, 1, kv_reap_cb, &x);
}

int
kv_reap(struct kv *kv, uint64_t index, uint64_t upto, size_t *reaped)
{
	size_t n = 0;
	int rc = 0;

	if (reaped != NULL)
		*reaped = 0;
	if (index <= kv->applied)
		return ERR_INVAL;
	store_batch_clear(kv->batch);
	/* every tombstone is older than an earlier reap bound: none left */
	if (kv->tomb > kv->reap_bound)
		rc = kv_reap_scan(kv, 'k', upto, &n);
	if (rc == 0)
		rc = kv_reap_scan(kv, 'd', upto, &n);
	if (rc == 0) {
		kv_put_u64(kv, KV_KEY_APPLIED, index);
		rc = store_batch_write(kv->store, kv->batch, false);
	}
	store_batch_clear(kv->batch);
	if (rc != 0)
		return rc;
	kv->applied = index;
	if (upto > kv->reap_bound)
		kv->reap_bound = upto;
	if (reaped != NULL)
		*reaped = n;
	return 0;
}

struct store_batch *
kv_batch_begin(struct kv *kv, uint64_t index)
{
	if (index <= kv->applied) {
		log_warnx("kv: entry %llu applied twice (applied %llu)",
		    (unsigned long long)index,
		    (unsigned long long)kv->applied);
		return NULL;
	}
	store_batch_clear(kv->batch);
	kv->pend.len = kv->pend.n = 0;
	kv->tomb_pending = false;
	return kv->batch;
}

int
kv_batch_commit(struct kv *kv, uint64_t index, uint64_t client_id,
    uint64_t seq, const struct kv_result *res)
{
	int rc;

	kv_put_u64(kv, KV_KEY_APPLIED, index);
	if (kv->pend.n > 0)
		kv_put_u64(kv, KV_KEY_TABLE, index);
	if (client_id != 0)
		kv_dedup_put(kv, client_id, seq, res);
	rc = store_batch_write(kv->store, kv->batch, false);
	store_batch_clear(kv->batch);
	if (rc == 0) {
		kv->applied = index;
		if (kv->pend.n > 0)
			kv->table = index;
		if (kv->tomb_pending)
			kv->tomb = index;
	}
	kv->tomb_pending = false;
	return rc;
}

int
kv_batch_put(struct kv *kv, const struct proto_kv_entry *e)
{
	struct kv_rec r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.present = true;
	r.create = e->create_index;
	r.modify = e->modify_index;
	r.lock = e->lock_index;
	r.flags = e->flags;
	r.session = e->session.ptr;
	r.slen = e->session.len;
	r.value = e->value.ptr;
	r.vlen = e->value.len;
	if ((rc = kv_put_entry(kv, &e->key, &r)) != 0)
		return rc;
	return kv_keylist_add(&kv->pend, (const uint8_t *)e->key.ptr,
	    e->key.len);
}

int
kv_batch_del(struct kv *kv, uint64_t index, struct proto_str key)
{
	size_t n;
	int rc;

	if ((rc = kv_key(kv, key.ptr, key.len, &n)) != 0)
		return rc;
	kv_put_tomb_raw(kv, kv->kbuf, n, index);
	return kv_keylist_add(&kv->pend, (const uint8_t *)key.ptr, key.len);
}

void
kv_batch_touch(struct kv *kv, kv_touch_cb touch, void *arg)
{
	kv_touch_all(&kv->pend, touch, arg);
	kv->pend.len = kv->pend.n = 0;
}

int
kv_apply_skip(struct kv *kv, uint64_t index)
{
	int rc;

	if (index <= kv->applied)
		return ERR_INVAL;
	store_batch_clear(kv->batch);
	kv_put_u64(kv, KV_KEY_APPLIED, index);
	rc = store_batch_write(kv->store, kv->batch, false);
	store_batch_clear(kv->batch);
	if (rc == 0)
		kv->applied = index;
	return rc;
}

