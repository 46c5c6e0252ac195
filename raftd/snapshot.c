/*
 * snapshot.c — Raft snapshots of a server taken from, and
 * installed into, the state column family (DESIGN.md §5).
 *
 * The state column family already is the state machine's snapshot: a
 * snapshot's data is a dump of every state key and value (framing: per
 * record a big-endian u32 key length, the key, a u32 value length, the
 * value; the applied index and dedup records are state keys too). The
 * dump is taken on the loop thread, where every apply happens, so it is
 * consistent with the applied index. Installing replaces the whole
 * state column family in one synced WriteBatch (every old key deleted,
 * every new key put: a crash leaves the old or the new state, never a
 * mix), then reopens the KV and catalog tables from it. The snapshot
 * metadata (index, term, configuration) goes to the meta record
 * "raft_snap"; at a restart the data is dumped again from the state,
 * whose applied index may be past the snapshot's: harmless, because an
 * entry at or below the state's applied index is never applied twice
 * (pipeline_apply_raft), so a receiver of such data just skips the
 * entries it already holds. Reference: Raft dissertation §5.1-5.3
 * (snapshotting memory-based state machines, InstallSnapshot), consul
 * agent/consul/fsm/snapshot.go (a stream of the state store).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "err.h"
#include "kv.h"
#include "log.h"
#include "raft.h"
#include "raftd.h"
#include "store.h"
#include "watch.h"

#define SNAP_META "raft_snap"

struct snap_buf {
	uint8_t *p;
	size_t len, cap;
};

static int
snap_put(struct snap_buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return ERR_NOMEM;
		b->p = p;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

static int
snap_put_u32(struct snap_buf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };

	return snap_put(b, x, 4);
}

int
snapshot_dump(struct raftd *rd, uint8_t **out, size_t *len)
{
	struct store_iter *it = store_iter_new(rd->store);
	struct snap_buf b = { NULL, 0, 0 };
	int rc = 0;

	if (it == NULL)
		return ERR_NOMEM;
	for (store_iter_seek(it, "", 0); rc == 0 && store_iter_valid(it);
	    store_iter_next(it)) {
		size_t kl, vl;
		const uint8_t *k = store_iter_key(it, &kl);
		const uint8_t *v = store_iter_value(it, &vl);

		if (kl > UINT32_MAX || vl > UINT32_MAX)
			rc = ERR_TOOBIG;
		else if ((rc = snap_put_u32(&b, (uint32_t)kl)) == 0 &&
		    (rc = snap_put(&b, k, kl)) == 0 &&
		    (rc = snap_put_u32(&b, (uint32_t)vl)) == 0)
			rc = snap_put(&b, v, vl);
	}
	if (rc == 0)
		rc = store_iter_status(it);
	store_iter_free(it);
	if (rc != 0) {
		free(b.p);
		return rc;
	}
	*out = b.p != NULL ? b.p : malloc(1);
	*len = b.len;
	return *out != NULL ? 0 : ERR_NOMEM;
}

static uint32_t
snap_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Checks the framing of data; 0 or ERR_BADMSG. */
static int
snapshot_check(const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		uint32_t n;

		for (int i = 0; i < 2; i++) {
			if (len - off < 4)
				return ERR_BADMSG;
			n = snap_get_u32(p + off);
			off += 4;
			if (len - off < n)
				return ERR_BADMSG;
			off += n;
		}
	}
	return 0;
}

/* Persists the snapshot's index, term and configuration. */
int
snapshot_meta_put(struct raftd *rd, uint64_t index, uint64_t term,
    const struct raft_conf *conf)
{
	void *cb = NULL;
	size_t cl = 0;
	uint8_t *rec;
	int rc;

	if ((rc = raft_conf_encode(conf, &cb, &cl)) != 0)
		return rc;
	if ((rec = malloc(16 + cl)) == NULL) {
		free(cb);
		return ERR_NOMEM;
	}
	store_put_be64(rec, index);
	store_put_be64(rec + 8, term);
	memcpy(rec + 16, cb, cl);
	rc = store_meta_put(rd->store, SNAP_META, rec, 16 + cl);
	free(rec);
	free(cb);
	return rc;
}

int
snapshot_meta_get(struct raftd *rd, uint64_t *index, uint64_t *term,
    struct raft_conf *conf)
{
	struct store_val v;
	int rc;

	if ((rc = store_meta_get(rd->store, SNAP_META, &v)) != 0)
		return rc;
	if (v.len < 16) {
		store_val_free(&v);
		return ERR_CORRUPT;
	}
	*index = store_get_be64(v.ptr);
	*term = store_get_be64(v.ptr + 8);
	rc = raft_conf_decode(conf, v.ptr + 16, v.len - 16);
	store_val_free(&v);
	return rc != 0 ? ERR_CORRUPT : 0;
}

void
snapshot_take(struct raftd *rd)
{
	struct raft_snapshot_meta m;
	uint64_t index = raft_applied_index(rd->raft);
	uint8_t *data;
	size_t len;
	int rc;

	if ((rc = snapshot_dump(rd, &data, &len)) != 0) {
		log_warnx("raft: snapshot dump failed: %s", err_str(rc));
		return;
	}
	rc = raft_snapshot_taken(rd->raft, index, data, len);
	free(data);
	if (rc != 0) {
		log_debug("raft: snapshot at %llu refused: %s",
		    (unsigned long long)index, err_str(rc));
		return;
	}
	raft_snapshot_get(rd->raft, &m);
	if ((rc = snapshot_meta_put(rd, m.index, m.term, m.conf)) != 0)
		fatalx("raft: cannot persist the snapshot record: %s",
		    err_str(rc));
	log_info("raft: snapshot at index %llu (%zu bytes of state)",
	    (unsigned long long)m.index, len);
}

int
snapshot_install(struct raftd *rd, const struct raft_snapshot_install *s)
{
	struct store_batch *b;
	struct store_iter *it;
	const uint8_t *p = s->data;
	size_t off = 0;
	int rc;

	if ((rc = snapshot_check(p, s->len)) != 0) {
		log_warnx("raft: snapshot %llu has a malformed body",
		    (unsigned long long)s->index);
		return rc;
	}
	if ((b = store_batch_new(rd->store)) == NULL)
		return ERR_NOMEM;
	if ((it = store_iter_new(rd->store)) == NULL) {
		store_batch_free(b);
		return ERR_NOMEM;
	}
	for (store_iter_seek(it, "", 0); store_iter_valid(it);
	    store_iter_next(it)) {
		size_t kl;
		const uint8_t *k = store_iter_key(it, &kl);

		store_batch_delete(b, k, kl);
	}
	rc = store_iter_status(it);
	store_iter_free(it);
	while (rc == 0 && off < s->len) {
		uint32_t kl = snap_get_u32(p + off), vl;
		const uint8_t *k = p + off + 4;

		off += 4 + kl;
		vl = snap_get_u32(p + off);
		store_batch_put(b, k, kl, p + off + 4, vl);
		off += 4 + vl;
	}
	if (rc == 0)
		rc = store_batch_write(rd->store, b, true);
	store_batch_free(b);
	if (rc != 0)
		return rc;
	/* the tables cache indexes: reopen them on the new state */
	catalog_free(rd->cat);
	rd->cat = NULL;
	kv_free(rd->kv);
	rd->kv = NULL;
	if ((rc = kv_open(rd->store, &rd->kv)) != 0 ||
	    (rc = catalog_open(rd->store, rd->kv, &rd->cat)) != 0)
		fatalx("raft: the installed snapshot is unreadable: %s",
		    err_str(rc));
	if ((rc = snapshot_meta_put(rd, s->index, s->term, s->conf)) != 0)
		return rc;
	log_info("raft: installed a snapshot at index %llu (%zu bytes, "
	    "state applied %llu)", (unsigned long long)s->index, s->len,
	    (unsigned long long)kv_applied_index(rd->kv));
	rd->n_installs++;
	watch_touch(rd->watch, "", 0);
	watch_flush(rd->watch);
	return 0;
}
