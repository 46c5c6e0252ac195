/*
 * kv_lock.c — KV locks (see kv.h): acquire and release
 * (?acquire=/?release=, Consul's kvsLockTxn/kvsUnlockTxn), the
 * session lookup they need, lock-delay, and the release or deletion
 * of every key a session held when it is invalidated.
 *
 * Key decisions: acquire looks the session up in the session table
 * (session.c, the 's' key space) and fails with Consul's
 * `invalid session "<id>"`; release only compares the holder; both fail
 * with "missing session" without one. Lock-delay is in memory with a
 * deadline per key on the kv clock, as Consul's state store keeps it
 * (kvsLockDelay): set when a session is invalidated, checked by
 * acquire; it is not replicated state, a restarted server forgets it.
 * Reference: Consul agent/consul/state/kvs.go, delay.go,
 * spec/consul-api.md §2.4 and §16.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "kv_int.h"
#include "log.h"
#include "store.h"

/* The session table (session.c) is the 's' key space of state. */
int
kv_session_exists(struct kv *kv, struct proto_str id, bool *exists)
{
	struct store_val v;
	char k[1 + 256];
	int rc;

	*exists = false;
	if (id.len == 0 || id.len > sizeof(k) - 1)
		return 0;
	k[0] = 's';
	memcpy(k + 1, id.ptr, id.len);
	rc = store_state_get(kv->store, k, 1 + id.len, &v);
	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	store_val_free(&v);
	*exists = true;
	return 0;
}

/* ---- lock-delay ---- */

static uint64_t
kv_clock_real(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
kv_set_clock(struct kv *kv, uint64_t (*now_ms)(void *), void *arg)
{
	kv->now_ms = now_ms ? now_ms : kv_clock_real;
	kv->now_arg = arg;
}

static uint64_t
kv_now(struct kv *kv)
{
	return kv->now_ms ? kv->now_ms(kv->now_arg) : kv_clock_real(NULL);
}

uint64_t
kv_lock_delay_until(struct kv *kv, const char *key, size_t klen)
{
	uint64_t now = kv_now(kv);
	size_t i;

	for (i = 0; i < kv->n_delays; i++) {
		struct kv_delay *d = &kv->delays[i];

		if (d->klen == klen && memcmp(d->key, key, klen) == 0)
			return d->until > now ? d->until : 0;
	}
	return 0;
}

int
kv_lock_delay_set(struct kv *kv, const char *key, size_t klen,
    uint64_t delay_ms)
{
	uint64_t now = kv_now(kv);
	size_t i, j;

	/* drop the expired ones first: the map stays small */
	for (i = j = 0; i < kv->n_delays; i++) {
		if (kv->delays[i].until <= now ||
		    (kv->delays[i].klen == klen &&
		    memcmp(kv->delays[i].key, key, klen) == 0)) {
			free(kv->delays[i].key);
			continue;
		}
		kv->delays[j++] = kv->delays[i];
	}
	kv->n_delays = j;
	if (delay_ms == 0)
		return 0;
	if (kv->n_delays == kv->cap_delays) {
		size_t n = kv->cap_delays ? kv->cap_delays * 2 : 16;
		struct kv_delay *p = realloc(kv->delays, n * sizeof(*p));

		if (p == NULL)
			return ERR_NOMEM;
		kv->delays = p;
		kv->cap_delays = n;
	}
	if ((kv->delays[j].key = malloc(klen ? klen : 1)) == NULL)
		return ERR_NOMEM;
	memcpy(kv->delays[j].key, key, klen);
	kv->delays[j].klen = klen;
	kv->delays[j].until = now + delay_ms;
	kv->n_delays++;
	return 0;
}

/* acquire (lock) and release (unlock), Consul's kvsLockTxn/UnlockTxn. */
int
kv_lock_exec(struct kv *kv, uint64_t index, const struct msg_kv_apply *op,
    const struct kv_rec *cur, struct kv_result *res)
{
	struct kv_rec e = *cur;
	bool exists, same;
	int rc;

	if (op->session.len == 0) {
		res->err = ERR_SESSION;
		snprintf(res->msg, sizeof(res->msg), "missing session");
		return 0;
	}
	/* acquire checks the session table; release only the holder */
	exists = true;
	if (op->op == KV_OP_LOCK &&
	    (rc = kv_session_exists(kv, op->session, &exists)) != 0)
		return rc;
	if (!exists) {
		res->err = ERR_SESSION;
		snprintf(res->msg, sizeof(res->msg), "invalid session \"%.*s\"",
		    (int)(op->session.len > 200 ? 200 : op->session.len),
		    op->session.ptr);
		return 0;
	}
	same = cur->present && cur->slen == op->session.len &&
	    memcmp(cur->session, op->session.ptr, cur->slen) == 0;
	/* Consul's KVS.Apply: no acquisition inside the lock-delay */
	if (op->op == KV_OP_LOCK &&
	    kv_lock_delay_until(kv, op->key.ptr, op->key.len) > 0)
		return 0;
	if (op->op == KV_OP_LOCK) {
		if (cur->present && cur->slen != 0 && !same)
			return 0;
		e.create = cur->present ? cur->create : index;
		e.lock = !cur->present ? 1 : same ? cur->lock : cur->lock + 1;
		e.session = op->session.ptr;
		e.slen = op->session.len;
	} else {
		if (!same)
			return 0;
		e.slen = 0;
	}
	e.modify = index;
	e.flags = op->flags;
	e.value = op->value.ptr;
	e.vlen = op->value.len;
	res->ok = true;
	return kv_put_entry(kv, &op->key, &e);
}

/* kv_session_invalidate's walk over every key. */
struct kv_inval {
	struct kv *kv;
	uint64_t index;
	const char *id;
	size_t idlen;
	bool del;
	uint64_t delay_ms;
};

static int
kv_inval_cb(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
    size_t vlen)
{
	struct kv_inval *x = ctx;
	struct kv *kv = x->kv;
	struct proto_str key;
	struct kv_rec r;
	int rc;

	if ((rc = kv_decode(v, vlen, &r)) != 0)
		return rc;
	if (!r.present || r.slen != x->idlen ||
	    memcmp(r.session, x->id, x->idlen) != 0)
		return 0;
	if (x->del) {
		kv_put_tomb_raw(kv, k, klen, x->index);
	} else {
		key.ptr = (const char *)k + 1;
		key.len = (uint32_t)(klen - 1);
		r.slen = 0;
		r.modify = x->index;
		if ((rc = kv_put_entry(kv, &key, &r)) != 0)
			return rc;
	}
	if ((rc = kv_keylist_add(&kv->pend, k + 1, klen - 1)) != 0)
		return rc;
	if (x->delay_ms > 0)
		return kv_lock_delay_set(kv, (const char *)k + 1, klen - 1,
		    x->delay_ms);
	return 0;
}

int
kv_session_invalidate(struct kv *kv, uint64_t index, const char *id,
    size_t idlen, bool del, uint64_t delay_ms)
{
	struct kv_inval x = { kv, index, id, idlen, del, delay_ms };

	return kv_each(kv->store, "k", 1, kv_inval_cb, &x);
}

