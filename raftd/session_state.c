/*
 * session_state.c — the session state machine (see session.h
 * session_state_*, session_read_*): sessions stored in the 's' key space
 * of `state`, created and destroyed as log entries, the reads, and which
 * sessions a catalog change makes invalid.
 *
 * Key decisions: a stored session is the encoded MSG_SESSION_APPLY that
 * created it, indexes filled in; a create checks the node and its checks
 * as Consul's state/session.go sessionCreateTxn (Missing node
 * registration, a critical check); a destroy releases or deletes every
 * key the session held (kv_session_invalidate) in the same batch, so
 * every replica does it at the same index. Reference: Consul
 * agent/consul/state/session.go; spec §2.5, §16 item 4.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "err.h"
#include "kv.h"
#include "log.h"
#include "proto.h"
#include "session.h"
#include "store.h"

#define SESSION_KEY_INDEX "xsess"

/* ---- reads ---- */

void
session_read_init(struct session_read *r)
{
	memset(r, 0, sizeof(*r));
	proto_arena_init(&r->arena);
}

static void
session_read_reset(struct session_read *r)
{
	for (size_t i = 0; i < r->n_bufs; i++)
		free(r->bufs[i]);
	r->n_bufs = 0;
	r->n = 0;
	r->index = 1;
	proto_arena_reset(&r->arena);
}

void
session_read_fini(struct session_read *r)
{
	session_read_reset(r);
	free(r->bufs);
	free(r->v);
	proto_arena_free(&r->arena);
	memset(r, 0, sizeof(*r));
}

/* Decodes a stored record (copied) and appends its session to r. */
static int
session_read_add(struct session_read *r, const uint8_t *v, size_t len)
{
	struct proto_msg msg;
	uint8_t *copy;
	int rc;

	if (r->n_bufs == r->cap_bufs) {
		size_t n = r->cap_bufs ? r->cap_bufs * 2 : 16;
		uint8_t **p = realloc(r->bufs, n * sizeof(*p));

		if (p == NULL)
			return ERR_NOMEM;
		r->bufs = p;
		r->cap_bufs = n;
	}
	if (kv_grow_array((void **)&r->v, &r->cap, r->n, sizeof(*r->v)) != 0)
		return ERR_NOMEM;
	if ((copy = malloc(len ? len : 1)) == NULL)
		return ERR_NOMEM;
	memcpy(copy, v, len);
	r->bufs[r->n_bufs++] = copy;
	if ((rc = proto_decode(copy, len, &r->arena, &msg)) != 0 ||
	    msg.type != MSG_SESSION_APPLY) {
		log_warnx("session: a stored session is malformed");
		return ERR_CORRUPT;
	}
	r->v[r->n++] = ((struct msg_session_apply *)msg.body)->session;
	return 0;
}

static int
session_load_u64(struct store *s, const char *name, uint64_t *out)
{
	struct store_val v;
	int rc;

	*out = 0;
	rc = store_state_get(s, name, strlen(name), &v);
	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.len == 8)
		*out = store_get_be64(v.ptr);
	else
		rc = ERR_CORRUPT;
	store_val_free(&v);
	return rc;
}

static int
session_key(struct proto_str id, char *k, size_t *klen)
{
	if (id.len == 0 || id.len > SESSION_ID_MAX)
		return ERR_INVAL;
	k[0] = 's';
	memcpy(k + 1, id.ptr, id.len);
	*klen = 1 + id.len;
	return 0;
}

/* Looks id up: 0 with r->n 0 or 1, or ERR_*. */
static int
session_lookup(struct store *s, struct proto_str id, struct session_read *r)
{
	char k[1 + SESSION_ID_MAX];
	struct store_val v;
	size_t klen;
	int rc;

	if (session_key(id, k, &klen) != 0)
		return 0;
	rc = store_state_get(s, k, klen, &v);
	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	rc = session_read_add(r, v.ptr, v.len);
	store_val_free(&v);
	return rc;
}

/* session_state_get's walk: every session, or those of one node. */
struct session_listing {
	struct session_read *r;
	uint8_t what;
	struct proto_str node;
};

static int
session_list_cb(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
    size_t vlen)
{
	struct session_listing *x = ctx;
	struct session_read *r = x->r;
	uint32_t before = r->n;
	int rc;

	(void)k;
	(void)klen;
	if ((rc = session_read_add(r, v, vlen)) != 0)
		return rc;
	if (x->what == SESSION_GET_NODE &&
	    (r->v[before].node.len != x->node.len ||
	    memcmp(r->v[before].node.ptr, x->node.ptr, x->node.len) != 0))
		r->n = before;
	return 0;
}

int
session_state_get(struct store *s, uint8_t what, struct proto_str name,
    struct session_read *r)
{
	struct session_listing x = { r, what, name };
	int rc;

	session_read_reset(r);
	if ((rc = session_load_u64(s, SESSION_KEY_INDEX, &r->index)) != 0)
		return rc;
	if (r->index == 0)
		r->index = 1;
	if (what == SESSION_GET_INFO || what == SESSION_RENEW)
		return session_lookup(s, name, r);
	if (what != SESSION_GET_NODE && what != SESSION_GET_LIST)
		return ERR_INVAL;
	return kv_each(s, "s", 1, session_list_cb, &x);
}

/* ---- the state machine ---- */

/* Why sess cannot exist now (node, checks), in msg; "" when it can. */
static int
session_health(struct catalog *cat, const struct proto_session *sess,
    struct catalog_read *cr, char *msg, size_t size)
{
	struct msg_catalog_get q;
	const struct proto_str_array *lists[2];
	int rc;

	msg[0] = '\0';
	memset(&q, 0, sizeof(q));
	q.what = CATALOG_NODE;
	q.name = sess->node;
	if ((rc = catalog_get(cat, &q, cr)) != 0)
		return rc;
	if (!cr->res.found) {
		snprintf(msg, size, "Missing node registration");
		return 0;
	}
	q.what = CATALOG_HEALTH_NODE;
	if ((rc = catalog_get(cat, &q, cr)) != 0)
		return rc;
	lists[0] = &sess->node_checks;
	lists[1] = &sess->service_checks;
	for (int l = 0; l < 2; l++) {
		for (uint32_t i = 0; i < lists[l]->n; i++) {
			struct proto_str id = lists[l]->v[i];
			const struct proto_cat_check *c = NULL;

			for (uint32_t j = 0; j < cr->res.n_checks; j++)
				if (cr->res.checks[j].check_id.len == id.len &&
				    memcmp(cr->res.checks[j].check_id.ptr,
				    id.ptr, id.len) == 0)
					c = &cr->res.checks[j];
			if (c == NULL) {
				snprintf(msg, size, "Missing check '%.*s' "
				    "registration", (int)(id.len > 200 ? 200 :
				    id.len), id.ptr);
				return 0;
			}
			if (proto_str_eq(c->status, "critical")) {
				snprintf(msg, size, "Check '%.*s' is in "
				    "critical state", (int)(id.len > 200 ?
				    200 : id.len), id.ptr);
				return 0;
			}
		}
	}
	return 0;
}

static int
session_create(struct store *s, struct kv *kv, struct catalog *cat,
    uint64_t index, const struct msg_session_apply *m,
    struct store_batch *b, struct kv_result *res)
{
	struct msg_session_apply rec = *m;
	struct catalog_read cr;
	struct session_read sr;
	struct proto_buf out;
	char k[1 + SESSION_ID_MAX];
	uint8_t ib[8];
	size_t klen;
	int rc;

	(void)kv;
	if (session_key(m->session.id, k, &klen) != 0) {
		res->err = ERR_INVAL;
		snprintf(res->msg, sizeof(res->msg), "Missing session ID");
		return 0;
	}
	session_read_init(&sr);
	rc = session_lookup(s, m->session.id, &sr);
	if (rc == 0 && sr.n > 0) {
		res->err = ERR_EXISTS;
		snprintf(res->msg, sizeof(res->msg), "session already exists");
	}
	session_read_fini(&sr);
	if (rc != 0 || res->err != 0)
		return rc;
	catalog_read_init(&cr);
	rc = session_health(cat, &m->session, &cr, res->msg,
	    sizeof(res->msg));
	catalog_read_fini(&cr);
	if (rc != 0)
		return rc;
	if (res->msg[0] != '\0') {
		res->err = ERR_SESSION;
		return 0;
	}
	rec.client_id = rec.seq = 0;
	rec.session.create_index = rec.session.modify_index = index;
	if ((rc = proto_encode(MSG_SESSION_APPLY, 0, &rec, &out)) != 0)
		return rc;
	store_batch_put(b, k, klen, out.data, out.len);
	proto_buf_free(&out);
	store_put_be64(ib, index);
	store_batch_put(b, SESSION_KEY_INDEX, strlen(SESSION_KEY_INDEX), ib, 8);
	res->ok = true;
	return 0;
}

static int
session_destroy(struct store *s, struct kv *kv, uint64_t index,
    const struct msg_session_apply *m, struct store_batch *b,
    struct kv_result *res)
{
	struct session_read sr;
	const struct proto_session *sess;
	char k[1 + SESSION_ID_MAX];
	uint8_t ib[8];
	size_t klen;
	int rc;

	res->ok = true; /* idempotent */
	if (session_key(m->session.id, k, &klen) != 0)
		return 0;
	session_read_init(&sr);
	if ((rc = session_lookup(s, m->session.id, &sr)) != 0 || sr.n == 0) {
		session_read_fini(&sr);
		return rc;
	}
	sess = &sr.v[0];
	store_batch_delete(b, k, klen);
	store_put_be64(ib, index);
	store_batch_put(b, SESSION_KEY_INDEX, strlen(SESSION_KEY_INDEX), ib, 8);
	rc = kv_session_invalidate(kv, index, sess->id.ptr, sess->id.len,
	    sess->behavior == SESSION_DELETE, sess->lock_delay_ns / 1000000);
	session_read_fini(&sr);
	return rc;
}

int
session_state_apply(struct store *s, struct kv *kv, struct catalog *cat,
    uint64_t index, const struct msg_session_apply *m,
    struct kv_result *res, kv_touch_cb touch, void *arg)
{
	struct store_batch *b;
	int rc;

	memset(res, 0, sizeof(*res));
	if (m->client_id != 0 &&
	    kv_dedup_find(kv, m->client_id, m->seq, res) == 0)
		return kv_apply_skip(kv, index);
	if ((b = kv_batch_begin(kv, index)) == NULL)
		return ERR_INVAL;
	if (m->op == SESSION_OP_CREATE)
		rc = session_create(s, kv, cat, index, m, b, res);
	else if (m->op == SESSION_OP_DESTROY)
		rc = session_destroy(s, kv, index, m, b, res);
	else {
		res->err = ERR_INVAL;
		snprintf(res->msg, sizeof(res->msg), "unknown session op");
		rc = 0;
	}
	if (rc != 0)
		return rc;
	if (res->err != 0) {
		/* nothing of the failed write: only the index and dedup */
		store_batch_clear(b);
		kv_batch_begin(kv, index);
	}
	res->index = index;
	if ((rc = kv_batch_commit(kv, index, m->client_id, m->seq, res)) != 0)
		return rc;
	kv_batch_touch(kv, touch, arg);
	return 0;
}

int
session_state_invalid(struct store *s, struct catalog *cat,
    struct proto_str node, struct session_read *r)
{
	struct session_read all;
	struct catalog_read cr;
	char msg[256];
	int rc;

	session_read_reset(r);
	session_read_init(&all);
	catalog_read_init(&cr);
	rc = session_state_get(s, node.len ? SESSION_GET_NODE :
	    SESSION_GET_LIST, node, &all);
	for (uint32_t i = 0; rc == 0 && i < all.n; i++) {
		if ((rc = session_health(cat, &all.v[i], &cr, msg,
		    sizeof(msg))) != 0 || msg[0] == '\0')
			continue;
		if ((rc = kv_grow_array((void **)&r->v, &r->cap, r->n,
		    sizeof(*r->v))) != 0)
			break;
		/* only the ID is used: copy it into r's arena */
		memset(&r->v[r->n], 0, sizeof(r->v[r->n]));
		{
			char *id = proto_arena_alloc(&r->arena,
			    all.v[i].id.len + 1);

			if (id == NULL) {
				rc = ERR_NOMEM;
				break;
			}
			memcpy(id, all.v[i].id.ptr, all.v[i].id.len);
			r->v[r->n].id.ptr = id;
			r->v[r->n].id.len = all.v[i].id.len;
			r->n++;
		}
	}
	catalog_read_fini(&cr);
	session_read_fini(&all);
	return rc;
}

int
session_encode_destroy(const char *id, size_t len, struct proto_buf *out)
{
	struct msg_session_apply m;

	memset(&m, 0, sizeof(m));
	m.op = SESSION_OP_DESTROY;
	m.session.id.ptr = id;
	m.session.id.len = (uint32_t)len;
	return proto_encode(MSG_SESSION_APPLY, 0, &m, out);
}

