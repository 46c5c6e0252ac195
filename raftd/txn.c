/*
 * txn.c — /v1/txn in raftd (see txn.h): the overlay and the KV
 * operations, the evaluation of a whole transaction, its apply and its
 * dispatch (the Node, Service and Check operations are txn_cat.c's).
 *
 * Key decisions: the operations run in order against an in-memory
 * overlay of the records they touch (loaded from the state through
 * kv_get, so later operations see earlier ones, as in Consul's single
 * memdb transaction); only when all succeed are the changed records
 * written, with the applied index and the dedup record, in ONE WriteBatch
 * — a failed transaction changes nothing but the applied index. Verbs,
 * results (Value blanked except for get and get-tree, no result for the
 * delete verbs and check-not-exists) and error texts follow Consul's
 * state/txn.go txnKVS and kvs.go. Lock-delay is not checked inside a
 * transaction (Consul checks it in KVS.Apply only). Reference: Consul
 * agent/consul/state/txn.go, agent/txn_endpoint.go; spec §2.6.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "raft.h"
#include "raftd.h"
#include "session.h"
#include "store.h"
#include "txn_int.h"
#include "watch.h"

static struct proto_str
txn_dup(struct proto_arena *a, struct proto_str s)
{
	struct proto_str d = { "", 0 };
	char *p;

	if (s.len == 0)
		return d;
	if ((p = proto_arena_alloc(a, s.len)) == NULL) {
		d.ptr = NULL;
		return d;
	}
	memcpy(p, s.ptr, s.len);
	d.ptr = p;
	d.len = s.len;
	return d;
}

static bool
txn_streq(struct proto_str a, struct proto_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr,
	    a.len) == 0);
}

static struct txn_rec *
txn_find(struct txn_ctx *c, struct proto_str key)
{
	for (size_t i = 0; i < c->n; i++)
		if (txn_streq(c->recs[i].e.key, key))
			return &c->recs[i];
	return NULL;
}

/* Adds e (copied) to the overlay as it is in the state. */
static struct txn_rec *
txn_add(struct txn_ctx *c, const struct proto_kv_entry *e, bool present)
{
	struct txn_rec *r;

	if (c->n == c->cap) {
		size_t n = c->cap ? c->cap * 2 : 16;
		struct txn_rec *p = realloc(c->recs, n * sizeof(*p));

		if (p == NULL)
			return NULL;
		c->recs = p;
		c->cap = n;
	}
	r = &c->recs[c->n];
	memset(r, 0, sizeof(*r));
	r->e = *e;
	r->e.key = txn_dup(&c->a, e->key);
	r->e.value = txn_dup(&c->a, e->value);
	r->e.session = txn_dup(&c->a, e->session);
	if (r->e.key.ptr == NULL || r->e.value.ptr == NULL ||
	    r->e.session.ptr == NULL)
		return NULL;
	r->present = r->existed = present;
	c->n++;
	return r;
}

/* The overlay record of key (loaded on first use); NULL: ERR_NOMEM/IO. */
static struct txn_rec *
txn_load(struct txn_ctx *c, struct proto_str key, int *rc)
{
	struct msg_kv_get q;
	struct proto_kv_entry none;
	struct txn_rec *r;

	if ((r = txn_find(c, key)) != NULL)
		return r;
	memset(&q, 0, sizeof(q));
	q.key = key;
	q.mode = KV_GET_ONE;
	if ((*rc = kv_get(c->kv, &q, &c->rd)) != 0)
		return NULL;
	if (c->rd.found && c->rd.n_entries > 0)
		r = txn_add(c, &c->rd.entries[0], true);
	else {
		memset(&none, 0, sizeof(none));
		none.key = key;
		r = txn_add(c, &none, false);
	}
	if (r == NULL)
		*rc = ERR_NOMEM;
	return r;
}

/* Loads every state entry under prefix into the overlay. */
static int
txn_load_tree(struct txn_ctx *c, struct proto_str prefix)
{
	struct msg_kv_get q;
	int rc;

	memset(&q, 0, sizeof(q));
	q.key = prefix;
	q.mode = KV_GET_RECURSE;
	if ((rc = kv_get(c->kv, &q, &c->rd)) != 0)
		return rc;
	for (uint32_t i = 0; i < c->rd.n_entries; i++) {
		if (txn_find(c, c->rd.entries[i].key) != NULL)
			continue;
		if (txn_add(c, &c->rd.entries[i], true) == NULL)
			return ERR_NOMEM;
	}
	return 0;
}

static bool
txn_under(struct proto_str key, struct proto_str prefix)
{
	return key.len >= prefix.len && (prefix.len == 0 ||
	    memcmp(key.ptr, prefix.ptr, prefix.len) == 0);
}

int
txn_error(struct txn_ctx *c, uint32_t i, const char *fmt, ...)
{
	struct txn_out *o = c->out;
	char buf[600], *p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if (kv_grow_array((void **)&o->r.errors, &o->cap_errors,
	    o->r.n_errors, sizeof(*o->r.errors)) != 0)
		return ERR_NOMEM;
	if ((p = proto_arena_alloc(&o->arena, (size_t)n + 1)) == NULL)
		return ERR_NOMEM;
	memcpy(p, buf, (size_t)n + 1);
	o->r.errors[o->r.n_errors].op_index = i;
	o->r.errors[o->r.n_errors].what.ptr = p;
	o->r.errors[o->r.n_errors].what.len = (uint32_t)n;
	o->r.n_errors++;
	return 0;
}

/* Appends e (copied into the outcome) as a result; value kept or null. */
static int
txn_result(struct txn_ctx *c, const struct proto_kv_entry *e, bool value)
{
	struct txn_out *o = c->out;
	struct proto_kv_entry *d;

	if (kv_grow_array((void **)&o->r.results, &o->cap_results,
	    o->r.n_results, sizeof(*o->r.results)) != 0)
		return ERR_NOMEM;
	d = &o->r.results[o->r.n_results];
	*d = *e;
	d->key = txn_dup(&o->arena, e->key);
	d->session = txn_dup(&o->arena, e->session);
	d->value = value ? txn_dup(&o->arena, e->value) :
	    (struct proto_str){ "", 0 };
	if (d->key.ptr == NULL || d->session.ptr == NULL ||
	    d->value.ptr == NULL)
		return ERR_NOMEM;
	o->r.n_results++;
	return 0;
}

static int
txn_cmp_entry(const void *a, const void *b)
{
	const struct proto_kv_entry *x = a, *y = b;
	uint32_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
	int d = n ? memcmp(x->key.ptr, y->key.ptr, n) : 0;

	if (d != 0)
		return d;
	return x->key.len < y->key.len ? -1 : x->key.len > y->key.len;
}

/* The end of a set, cas, lock or unlock: op's value and flags at idx. */
static int
txn_store(struct txn_ctx *c, struct txn_rec *r, const struct proto_txn_op *op,
    uint64_t idx)
{
	r->e.modify_index = idx;
	r->e.flags = op->flags;
	if ((r->e.value = txn_dup(&c->a, op->value)).ptr == NULL)
		return ERR_NOMEM;
	r->present = r->dirty = true;
	return txn_result(c, &r->e, false);
}

/* lock and unlock (Consul's kvsLockTxn/kvsUnlockTxn) on record r. */
static int
txn_op_lock(struct txn_ctx *c, uint32_t i, const struct proto_txn_op *op,
    struct txn_rec *r)
{
	uint64_t idx = c->index;
	bool exists, same;
	int rc;

	if (op->session.len == 0)
		return txn_error(c, i, "missing session");
	if (op->verb == TXN_LOCK) {
		if ((rc = kv_session_exists(c->kv, op->session,
		    &exists)) != 0)
			return rc;
		if (!exists)
			return txn_error(c, i, "invalid session "
			    "\"%.*s\"", KQ(op->session));
	}
	same = r->present && txn_streq(r->e.session, op->session);
	if (op->verb == TXN_LOCK) {
		if (r->present && r->e.session.len > 0 && !same)
			return txn_error(c, i, "failed to lock key "
			    "\"%.*s\", lock is already held",
			    KQ(op->key));
		r->e.lock_index = !r->present ? 1 : same ?
		    r->e.lock_index : r->e.lock_index + 1;
		if (!r->present)
			r->e.create_index = idx;
		if ((r->e.session = txn_dup(&c->a,
		    op->session)).ptr == NULL)
			return ERR_NOMEM;
	} else {
		if (!same)
			return txn_error(c, i, "failed to unlock key "
			    "\"%.*s\", lock isn't held, or is held by "
			    "another session", KQ(op->key));
		r->e.session.len = 0;
	}
	return txn_store(c, r, op, idx);
}

/* One operation; a failure is recorded with txn_error. */
static int
txn_op(struct txn_ctx *c, uint32_t i, const struct proto_txn_op *op)
{
	struct txn_rec *r;
	uint64_t idx = c->index;
	uint32_t first;
	int rc = 0;

	if (op->verb == TXN_GET_TREE || op->verb == TXN_DELETE_TREE) {
		if ((rc = txn_load_tree(c, op->key)) != 0)
			return rc;
		first = c->out->r.n_results;
		for (size_t j = 0; j < c->n; j++) {
			r = &c->recs[j];
			if (!r->present || !txn_under(r->e.key, op->key))
				continue;
			if (op->verb == TXN_GET_TREE) {
				if ((rc = txn_result(c, &r->e, true)) != 0)
					return rc;
			} else {
				r->present = false;
				r->dirty = true;
			}
		}
		if (op->verb == TXN_GET_TREE)
			qsort(c->out->r.results + first,
			    c->out->r.n_results - first,
			    sizeof(*c->out->r.results), txn_cmp_entry);
		return 0;
	}
	if ((r = txn_load(c, op->key, &rc)) == NULL)
		return rc;
	switch (op->verb) {
	case TXN_SET:
	case TXN_CAS:
		if (op->verb == TXN_CAS && ((op->index == 0 && r->present) ||
		    (op->index != 0 && (!r->present ||
		    r->e.modify_index != op->index))))
			return txn_error(c, i, "failed to set key \"%.*s\", "
			    "index is stale", KQ(op->key));
		if (!r->present) {
			r->e.create_index = idx;
			r->e.lock_index = 0;
			r->e.session.len = 0;
		}
		return txn_store(c, r, op, idx);
	case TXN_LOCK:
	case TXN_UNLOCK:
		return txn_op_lock(c, i, op, r);
	case TXN_GET:
		if (!r->present)
			return txn_error(c, i, "key \"%.*s\" doesn't exist",
			    KQ(op->key));
		return txn_result(c, &r->e, true);
	case TXN_GET_OR_EMPTY:
		if (!r->present) {
			struct proto_kv_entry e;

			memset(&e, 0, sizeof(e));
			e.key = op->key;
			return txn_result(c, &e, false);
		}
		return txn_result(c, &r->e, true);
	case TXN_CHECK_INDEX:
		if (!r->present)
			return txn_error(c, i, "failed to read key \"%.*s\"",
			    KQ(op->key));
		if (r->e.modify_index != op->index)
			return txn_error(c, i, "failed index check for key "
			    "\"%.*s\", current modify index %llu != %llu",
			    KQ(op->key),
			    (unsigned long long)r->e.modify_index,
			    (unsigned long long)op->index);
		return txn_result(c, &r->e, false);
	case TXN_CHECK_SESSION:
		if (!r->present)
			return txn_error(c, i, "failed to read key \"%.*s\"",
			    KQ(op->key));
		if (!txn_streq(r->e.session, op->session))
			return txn_error(c, i, "failed session check for key "
			    "\"%.*s\", current session \"%.*s\" != \"%.*s\"",
			    KQ(op->key), KQ(r->e.session), KQ(op->session));
		return txn_result(c, &r->e, false);
	case TXN_CHECK_NOT_EXISTS:
		if (r->present)
			return txn_error(c, i, "key \"%.*s\" exists",
			    KQ(op->key));
		return 0;
	case TXN_DELETE:
		if (r->present)
			r->dirty = true;
		r->present = false;
		return 0;
	case TXN_DELETE_CAS:
		if (r->present && r->e.modify_index != op->index)
			return txn_error(c, i, "failed to delete key \"%.*s\", "
			    "index is stale", KQ(op->key));
		if (r->present)
			r->dirty = true;
		r->present = false;
		return 0;
	default:
		return txn_error(c, i, "unknown KV verb %u", op->verb);
	}
}

void
txn_out_free(struct txn_out *o)
{
	if (o == NULL)
		return;
	free(o->r.results);
	free(o->r.errors);
	free(o->r.cat_results);
	proto_arena_free(&o->arena);
	free(o);
}

/* Writes the overlay's changes into the begun batch. */
static int
txn_write(struct txn_ctx *c)
{
	int rc;

	for (size_t i = 0; i < c->n; i++) {
		struct txn_rec *r = &c->recs[i];

		if (!r->dirty)
			continue;
		if (r->present)
			rc = kv_batch_put(c->kv, &r->e);
		else if (r->existed)
			rc = kv_batch_del(c->kv, c->index, r->e.key);
		else
			rc = 0;
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Whether op only reads. */
static bool
txn_read_op(const struct proto_txn_op *op)
{
	if (op->kind != TXN_KIND_KV)
		return op->verb == TXN_GET;
	return op->verb == TXN_GET || op->verb == TXN_GET_OR_EMPTY ||
	    op->verb == TXN_GET_TREE || op->verb == TXN_CHECK_INDEX ||
	    op->verb == TXN_CHECK_SESSION || op->verb == TXN_CHECK_NOT_EXISTS;
}

int
txn_eval(struct kv *kv, struct catalog *cat, uint64_t index,
    const struct msg_txn *t, bool write, kv_touch_cb touch, void *arg,
    struct txn_out **out)
{
	struct store_batch *b = NULL;
	struct txn_ctx c;
	struct kv_result res;
	bool ok;
	int rc = 0;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.kv = kv;
	c.cat = cat;
	c.index = index;
	proto_arena_init(&c.a);
	kv_read_init(&c.rd);
	if ((c.out = calloc(1, sizeof(*c.out))) == NULL)
		rc = ERR_NOMEM;
	else
		proto_arena_init(&c.out->arena);
	if (rc == 0 && write && (b = kv_batch_begin(kv, index)) == NULL)
		rc = ERR_INVAL;
	/* catalog writes go into the batch at once, seen by later ops */
	if (rc == 0 && cat != NULL)
		catalog_txn_begin(cat, b);
	for (uint32_t i = 0; rc == 0 && i < t->n_ops; i++) {
		/* a write op in a read-only transaction is refused */
		if (!write && !txn_read_op(&t->ops[i]))
			rc = txn_error(&c, i, "write op in a read-only "
			    "transaction");
		else if (t->ops[i].kind != TXN_KIND_KV)
			rc = txn_cat_op(&c, i, &t->ops[i]);
		else
			rc = txn_op(&c, i, &t->ops[i]);
	}
	ok = rc == 0 && c.out->r.n_errors == 0;
	if (rc == 0 && !ok) {
		/* rolled back: no results, nothing but the index */
		c.out->r.n_results = 0;
		c.out->r.n_cat_results = 0;
		c.out->cat_changed = false;
	}
	if (cat != NULL) {
		int erc = catalog_txn_end(cat, index, ok && write);

		if (rc == 0)
			rc = erc;
	}
	if (rc != 0 && b != NULL)
		store_batch_clear(b);
	if (rc == 0 && write) {
		if (ok)
			rc = txn_write(&c);
		else
			store_batch_clear(b); /* the catalog ops' writes */
		if (rc == 0) {
			memset(&res, 0, sizeof(res));
			res.ok = ok;
			res.index = index;
			rc = kv_batch_commit(kv, index, t->client_id, t->seq,
			    &res);
		}
		if (rc == 0) {
			kv_batch_touch(kv, touch, arg);
			if (cat != NULL && ok)
				catalog_txn_touch(cat, index, touch, arg);
		}
	}
	kv_read_fini(&c.rd);
	proto_arena_free(&c.a);
	free(c.recs);
	if (rc != 0) {
		txn_out_free(c.out);
		return rc;
	}
	*out = c.out;
	return 0;
}

/* ---- raftd glue ---- */

static void
txn_touch(void *arg, const char *key, size_t klen)
{
	struct raftd *rd = arg;

	watch_touch(rd->watch, key, klen);
}

int
txn_apply(struct raftd *rd, uint64_t index, const struct msg_txn *t,
    struct kv_result *res)
{
	struct txn_out *o;
	int rc;

	memset(res, 0, sizeof(*res));
	if (t->client_id != 0 &&
	    kv_dedup_find(rd->kv, t->client_id, t->seq, res) == 0)
		return kv_apply_skip(rd->kv, index);
	if ((rc = txn_eval(rd->kv, rd->cat, index, t, true, txn_touch, rd,
	    &o)) != 0)
		return rc;
	res->ok = o->r.n_errors == 0;
	res->index = index;
	res->txn = o;
	if (o->cat_changed) {
		/* a node or check gone: its sessions, as after a register */
		struct proto_str all = { "", 0 };

		session_catalog_changed(rd, all);
	}
	return 0;
}

static void
txn_send(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    struct msg_txn_result *r, uint64_t index)
{
	struct proto_buf out;

	r->meta = dispatch_meta(rd, index);
	if (proto_encode(MSG_TXN_RESULT, reqid, r, &out) != 0) {
		dispatch_reply_error(req, reqid, ERR_INTERNAL,
		    "raftd: cannot encode the transaction result");
		return;
	}
	if (ipc_reply(req, out.data, out.len) != 0)
		log_debug("txn: reply not sent");
	proto_buf_free(&out);
}

void
txn_reply(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const struct kv_result *res)
{
	struct msg_txn_result empty;

	if (res->txn == NULL) {
		/* a retried transaction already applied: its outcome only */
		memset(&empty, 0, sizeof(empty));
		txn_send(rd, req, reqid, &empty, res->index);
		return;
	}
	txn_send(rd, req, reqid, &res->txn->r, res->index);
}

void
txn_dispatch(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const struct msg_txn *t, const uint8_t *data, size_t len)
{
	struct txn_out *o;
	int rc;

	if (t->n_ops > TXN_MAX_OPS) {
		dispatch_reply_error(req, reqid, ERR_TOOBIG,
		    "Transaction contains too many operations");
		return;
	}
	if (t->read_only) {
		if (!dispatch_read_gate(rd, req, reqid, data, len, &t->opts,
		    0))
			return;
		if ((rc = txn_eval(rd->kv, rd->cat, 0, t, false, NULL, NULL,
		    &o)) != 0) {
			dispatch_reply_error(req, reqid, ERR_INTERNAL,
			    "raftd: state read failed");
			return;
		}
		txn_send(rd, req, reqid, &o->r, kv_applied_index(rd->kv));
		txn_out_free(o);
		return;
	}
	dispatch_write(rd, req, reqid, t->client_id, t->seq, data, len,
	    txn_reply);
}
