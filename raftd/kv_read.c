/*
 * kv_read.c — the reads of the KV state machine (see kv.h kv_get): one
 * key, a recursive listing or the keys under a prefix (with a
 * separator, cut after it), copied into a reusable struct kv_read.
 *
 * Key decisions: a listing is one prefix walk (kv_each) over entries
 * and tombstones alike, so it yields the highest index under the prefix
 * as Consul's graveyard does (kvsListTxn, KVSKeys): a non-empty prefix
 * answers with it, an empty prefix or one that never held a key with the
 * table index, never 0. Strings are copied into one growing buffer and
 * stored as offsets until the walk ends (the buffer may move), then
 * fixed up. Reference: Consul agent/consul/state/kvs.go,
 * spec/consul-api.md §2.4 and §1.5.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "kv_int.h"
#include "log.h"
#include "store.h"

void
kv_read_init(struct kv_read *r)
{
	memset(r, 0, sizeof(*r));
}

static void
kv_read_reset(struct kv_read *r)
{
	if (r->pinned != NULL)
		store_val_free(r->pinned);
	r->index = 0;
	r->found = false;
	r->n_entries = 0;
	r->n_keys = 0;
	r->len = 0;
}

void
kv_read_fini(struct kv_read *r)
{
	kv_read_reset(r);
	free(r->pinned);
	free(r->entries);
	free(r->keys);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* Copies s into r->buf; returns its offset, stored in the pointer. */
static int
kv_read_copy(struct kv_read *r, const void *s, size_t len,
    struct proto_str *out)
{
	if (kv_grow((void **)&r->buf, &r->cap, r->len + len + 1) != 0)
		return ERR_NOMEM;
	if (len)
		memcpy(r->buf + r->len, s, len);
	out->ptr = (const char *)(uintptr_t)r->len;
	out->len = (uint32_t)len;
	r->len += len;
	return 0;
}

static void
kv_read_fix(struct kv_read *r, struct proto_str *s)
{
	s->ptr = r->buf + (uintptr_t)s->ptr;
}

static void
kv_rec_to_entry(const struct kv_rec *rec, struct proto_kv_entry *e)
{
	e->flags = rec->flags;
	e->create_index = rec->create;
	e->modify_index = rec->modify;
	e->lock_index = rec->lock;
}

/* Makes room for one more entry (and key). */
static int
kv_read_room(struct kv_read *r)
{
	if (r->n_entries == r->cap_entries) {
		uint32_t cap = r->cap_entries ? 2 * r->cap_entries : 16;
		void *p = realloc(r->entries, cap * sizeof(*r->entries));

		if (p == NULL)
			return ERR_NOMEM;
		r->entries = p;
		r->cap_entries = cap;
	}
	if (r->n_keys == r->cap_keys) {
		uint32_t cap = r->cap_keys ? 2 * r->cap_keys : 16;
		void *p = realloc(r->keys, cap * sizeof(*r->keys));

		if (p == NULL)
			return ERR_NOMEM;
		r->keys = p;
		r->cap_keys = cap;
	}
	return 0;
}

static int
kv_get_one(struct kv *kv, const struct msg_kv_get *q, struct kv_read *r)
{
	struct proto_kv_entry *e;
	struct kv_rec rec;
	int rc;

	if (r->pinned == NULL && (r->pinned = calloc(1,
	    sizeof(struct store_val))) == NULL)
		return ERR_NOMEM;
	if ((rc = kv_lookup(kv, q->key.ptr, q->key.len, &rec,
	    r->pinned)) != 0)
		return rc;
	r->index = kv->table;
	if (!rec.present)
		return 0;
	if ((rc = kv_read_room(r)) != 0)
		return rc;
	e = &r->entries[r->n_entries++];
	memset(e, 0, sizeof(*e));
	kv_rec_to_entry(&rec, e);
	e->key = q->key;
	e->value.ptr = rec.value;
	e->value.len = (uint32_t)rec.vlen;
	e->session.ptr = rec.session;
	e->session.len = (uint32_t)rec.slen;
	r->index = rec.modify;
	r->found = true;
	return 0;
}

/* Adds one live entry of a recurse scan (copied into r->buf). */
static int
kv_list_entry(struct kv_read *r, const uint8_t *k, size_t klen,
    const struct kv_rec *rec)
{
	struct proto_kv_entry *e;
	int rc;

	if ((rc = kv_read_room(r)) != 0)
		return rc;
	e = &r->entries[r->n_entries];
	memset(e, 0, sizeof(*e));
	kv_rec_to_entry(rec, e);
	if ((rc = kv_read_copy(r, k, klen, &e->key)) != 0 ||
	    (rc = kv_read_copy(r, rec->value, rec->vlen, &e->value)) != 0 ||
	    (rc = kv_read_copy(r, rec->session, rec->slen, &e->session)) != 0)
		return rc;
	r->n_entries++;
	return 0;
}

/*
 * Adds one key of a keys scan: with a separator, the key cut after the
 * first separator past the prefix, skipped when equal to the last one
 * (keys under one directory are contiguous in key order).
 */
static int
kv_list_key(struct kv_read *r, const struct msg_kv_get *q, const char *k,
    size_t klen)
{
	const char *dir;
	struct proto_str *last;
	int rc;

	if (q->separator.len > 0 && klen > q->key.len) {
		dir = memmem(k + q->key.len, klen - q->key.len,
		    q->separator.ptr, q->separator.len);
		if (dir != NULL)
			klen = (size_t)(dir - k) + q->separator.len;
	}
	if (r->n_keys > 0) {
		last = &r->keys[r->n_keys - 1];
		if (last->len == klen &&
		    memcmp(r->buf + (uintptr_t)last->ptr, k, klen) == 0)
			return 0;
	}
	if ((rc = kv_read_room(r)) != 0)
		return rc;
	if ((rc = kv_read_copy(r, k, klen, &r->keys[r->n_keys])) != 0)
		return rc;
	r->n_keys++;
	return 0;
}

/* kv_get_list's walk: the entries or keys, the highest index seen. */
struct kv_listing {
	const struct msg_kv_get *q;
	struct kv_read *r;
	uint64_t lindex;
};

static int
kv_list_cb(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
    size_t vlen)
{
	struct kv_listing *x = ctx;
	struct kv_rec rec;
	int rc;

	if ((rc = kv_decode(v, vlen, &rec)) != 0) {
		log_warnx("kv: record for key %.*s is malformed",
		    (int)(klen - 1), (const char *)k + 1);
		return rc;
	}
	if (rec.modify > x->lindex)
		x->lindex = rec.modify;
	if (!rec.present)
		return 0;
	if (x->q->mode == KV_GET_RECURSE)
		return kv_list_entry(x->r, k + 1, klen - 1, &rec);
	return kv_list_key(x->r, x->q, (const char *)k + 1, klen - 1);
}

static int
kv_get_list(struct kv *kv, const struct msg_kv_get *q, struct kv_read *r)
{
	struct kv_listing x = { q, r, 0 };
	size_t n;
	int rc;

	if ((rc = kv_key(kv, q->key.ptr, q->key.len, &n)) != 0)
		return rc;
	if ((rc = kv_each(kv->store, kv->kbuf, n, kv_list_cb, &x)) != 0)
		return rc;
	for (uint32_t i = 0; i < r->n_entries; i++) {
		kv_read_fix(r, &r->entries[i].key);
		kv_read_fix(r, &r->entries[i].value);
		kv_read_fix(r, &r->entries[i].session);
	}
	for (uint32_t i = 0; i < r->n_keys; i++)
		kv_read_fix(r, &r->keys[i]);
	/* Consul: an empty prefix lists everything: the table index */
	r->index = q->key.len > 0 && x.lindex != 0 ? x.lindex : kv->table;
	if (q->mode == KV_GET_RECURSE)
		r->found = r->n_entries > 0;
	else
		r->found = r->n_keys > 0 || q->key.len == 0;
	return 0;
}

int
kv_get(struct kv *kv, const struct msg_kv_get *q, struct kv_read *r)
{
	int rc;

	kv_read_reset(r);
	switch (q->mode) {
	case KV_GET_ONE:
		rc = kv_get_one(kv, q, r);
		break;
	case KV_GET_RECURSE:
	case KV_GET_KEYS:
		rc = kv_get_list(kv, q, r);
		break;
	default:
		return ERR_INVAL;
	}
	if (rc != 0) {
		kv_read_reset(r);
		return rc;
	}
	if (r->index == 0)
		r->index = 1;
	return 0;
}
