/*
 * session.c — the session table (see session.h): create and destroy as
 * log entries, invalidation releasing or deleting held keys with
 * lock-delay (kv_session_invalidate), the leader's TTL timers and the
 * reads (info, node, list) with blocking on the sessions index.
 *
 * Key decisions: everything that changes state is a log entry, so every
 * replica releases the same keys at the same index; time and health only
 * decide when the leader proposes a destroy (TTL expiry at 2 × TTL, a
 * node or check gone or critical after a catalog entry), as Consul's
 * leader does (session_ttl.go, state/session.go deleteSessionTxn). The
 * timers are in memory on the leader and re-armed with a full 2 × TTL
 * when a server becomes leader. A stored session is the encoded
 * MSG_SESSION_APPLY that created it, indexes filled in. Blocking reads
 * use their own watch on the sessions index. Reference: Consul
 * agent/consul/session_ttl.go, state/session.go; spec §2.5, §16 item 4.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "raftd.h"
#include "session.h"
#include "store.h"
#include "watch.h"

#define SESSION_KEY_INDEX "xsess"
#define SESSION_ID_MAX 128

/* A TTL timer of the leader. */
struct session_timer {
	struct sessions *ss;
	char id[SESSION_ID_MAX + 1];
	uint64_t timer;
	bool expired; /* a destroy was proposed */
};

struct sessions {
	struct raftd *rd;
	struct watch *watch;
	struct session_timer **t;
	size_t n, cap;
	struct session_read read;
};

/* A held blocking read. */
struct session_held {
	struct raftd *rd;
	struct ipc_req *req;
	uint64_t reqid;
	struct msg_session_get q;
};

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

/* ---- leader timers ---- */

uint64_t
session_timeout_ms(uint64_t ttl_ns)
{
	return ttl_ns / 1000000 * SESSION_TTL_MULTIPLIER;
}

/* A destroy to propose once the current apply or timer has returned. */
struct session_proposal {
	struct raftd *rd;
	size_t len;
	char id[SESSION_ID_MAX + 1];
};

static void
session_propose_now(void *arg)
{
	struct session_proposal *p = arg;
	struct proto_buf out;

	if (p->rd->leader && !p->rd->stopping &&
	    session_encode_destroy(p->id, p->len, &out) == 0) {
		if (pipeline_submit_internal(p->rd, STORE_ENTRY_COMMAND,
		    out.data, out.len) != 0)
			log_warnx("session: cannot propose the destroy of %s",
			    p->id);
		proto_buf_free(&out);
	}
	free(p);
}

/*
 * Proposes a destroy of id. Posted, never run inside the apply of an
 * entry: the Raft core is not re-entered from its own apply callback.
 */
static void
session_propose_destroy(struct raftd *rd, const char *id, size_t len)
{
	struct session_proposal *p;

	if (len > SESSION_ID_MAX || (p = calloc(1, sizeof(*p))) == NULL)
		return;
	p->rd = rd;
	p->len = len;
	memcpy(p->id, id, len);
	if (loop_post(rd->loop, session_propose_now, p) != 0) {
		log_warnx("session: cannot post the destroy of %s", p->id);
		free(p);
	}
}

static struct session_timer *
session_timer_find(struct sessions *ss, const char *id, size_t len,
    size_t *pos)
{
	for (size_t i = 0; i < ss->n; i++)
		if (strlen(ss->t[i]->id) == len &&
		    memcmp(ss->t[i]->id, id, len) == 0) {
			if (pos)
				*pos = i;
			return ss->t[i];
		}
	return NULL;
}

static void
session_timer_del(struct sessions *ss, const char *id, size_t len)
{
	struct session_timer *t;
	size_t pos;

	if ((t = session_timer_find(ss, id, len, &pos)) == NULL)
		return;
	if (t->timer != 0)
		loop_timer_cancel(ss->rd->loop, t->timer);
	free(t);
	ss->t[pos] = ss->t[--ss->n];
}

static void
session_timer_fire(struct loop *l, void *arg)
{
	struct session_timer *t = arg;
	struct raftd *rd = t->ss->rd;

	(void)l;
	t->timer = 0;
	if (!rd->leader || t->expired)
		return;
	t->expired = true;
	log_info("session %s expired (TTL)", t->id);
	session_propose_destroy(rd, t->id, strlen(t->id));
}

/* (Re-)arms id's timer at 2 × ttl from now (leader only). */
static void
session_timer_arm(struct sessions *ss, struct proto_str id, uint64_t ttl_ns)
{
	struct session_timer *t;
	uint64_t ms;

	if (ttl_ns == 0 || id.len == 0 || id.len > SESSION_ID_MAX ||
	    !ss->rd->leader)
		return;
	if ((t = session_timer_find(ss, id.ptr, id.len, NULL)) == NULL) {
		if (ss->n == ss->cap) {
			size_t n = ss->cap ? ss->cap * 2 : 16;
			struct session_timer **p = realloc(ss->t,
			    n * sizeof(*p));

			if (p == NULL)
				return;
			ss->t = p;
			ss->cap = n;
		}
		if ((t = calloc(1, sizeof(*t))) == NULL)
			return;
		t->ss = ss;
		memcpy(t->id, id.ptr, id.len);
		ss->t[ss->n++] = t;
	}
	if (t->timer != 0)
		loop_timer_cancel(ss->rd->loop, t->timer);
	t->expired = false;
	ms = session_timeout_ms(ttl_ns);
	t->timer = loop_timer_add(ss->rd->loop, ms, session_timer_fire, t);
}

static void
session_timers_clear(struct sessions *ss)
{
	while (ss->n > 0)
		session_timer_del(ss, ss->t[0]->id, strlen(ss->t[0]->id));
}

void
session_leader_changed(struct raftd *rd)
{
	struct sessions *ss = rd->sess;
	struct proto_str none = { "", 0 };

	if (ss == NULL)
		return;
	session_timers_clear(ss);
	if (!rd->leader)
		return;
	/* a new leader re-arms every timer with a full 2 × TTL */
	if (session_state_get(rd->store, SESSION_GET_LIST, none,
	    &ss->read) != 0) {
		log_warnx("session: cannot read the sessions to arm timers");
		return;
	}
	for (uint32_t i = 0; i < ss->read.n; i++)
		session_timer_arm(ss, ss->read.v[i].id, ss->read.v[i].ttl_ns);
	if (ss->read.n > 0)
		log_info("session: %u TTL timers armed", ss->read.n);
	session_catalog_changed(rd, none);
}

void
session_catalog_changed(struct raftd *rd, struct proto_str node)
{
	struct sessions *ss = rd->sess;
	struct session_timer *t;

	if (ss == NULL || !rd->leader)
		return;
	if (session_state_invalid(rd->store, rd->cat, node, &ss->read) != 0) {
		log_warnx("session: cannot check the sessions' health");
		return;
	}
	for (uint32_t i = 0; i < ss->read.n; i++) {
		struct proto_str id = ss->read.v[i].id;

		/* once per session: the timer entry remembers it */
		t = session_timer_find(ss, id.ptr, id.len, NULL);
		if (t != NULL && t->expired)
			continue;
		if (t == NULL) {
			session_timer_arm(ss, id, 1); /* a marker */
			t = session_timer_find(ss, id.ptr, id.len, NULL);
			if (t != NULL && t->timer != 0) {
				loop_timer_cancel(rd->loop, t->timer);
				t->timer = 0;
			}
		}
		if (t != NULL)
			t->expired = true;
		log_info("session %.*s invalidated: node or check failed",
		    (int)id.len, id.ptr);
		session_propose_destroy(rd, id.ptr, id.len);
	}
}

/* ---- raftd glue ---- */

static void
session_touch(void *arg, const char *key, size_t klen)
{
	struct raftd *rd = arg;

	watch_touch(rd->watch, key, klen);
}

static void
session_reply_read(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const struct session_read *r)
{
	struct msg_session_get_result res;

	memset(&res, 0, sizeof(res));
	res.meta = dispatch_meta(rd, r->index);
	res.found = r->n > 0;
	res.sessions = r->v;
	res.n_sessions = r->n;
	dispatch_send(req, reqid, MSG_SESSION_GET_RESULT, &res);
}

static bool
session_watch_eval(void *arg, void *data, bool timed_out)
{
	struct session_held *h = data;
	struct raftd *rd = h->rd;
	struct sessions *ss = rd->sess;

	(void)arg;
	if (session_state_get(rd->store, h->q.what, h->q.name,
	    &ss->read) != 0) {
		dispatch_reply_error(h->req, h->reqid, ERR_INTERNAL,
		    "raftd: state read failed");
		free(h);
		return true;
	}
	if (!timed_out && ss->read.index <= h->q.opts.min_index)
		return false;
	session_reply_read(rd, h->req, h->reqid, &ss->read);
	free(h);
	return true;
}

static void
session_watch_drop(void *arg, void *data)
{
	struct session_held *h = data;

	(void)arg;
	ipc_req_drop(h->req);
	free(h);
}

int
session_open(struct raftd *rd)
{
	struct sessions *ss;

	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return ERR_NOMEM;
	ss->rd = rd;
	session_read_init(&ss->read);
	if ((ss->watch = watch_new(rd->loop, session_watch_eval,
	    session_watch_drop, rd)) == NULL) {
		free(ss);
		return ERR_NOMEM;
	}
	rd->sess = ss;
	session_leader_changed(rd);
	return 0;
}

void
session_close(struct raftd *rd)
{
	struct sessions *ss = rd->sess;

	if (ss == NULL)
		return;
	session_timers_clear(ss);
	free(ss->t);
	watch_free(ss->watch);
	session_read_fini(&ss->read);
	free(ss);
	rd->sess = NULL;
}

int
session_apply(struct raftd *rd, uint64_t index,
    const struct msg_session_apply *m, struct kv_result *res)
{
	struct sessions *ss = rd->sess;
	int rc;

	rc = session_state_apply(rd->store, rd->kv, rd->cat, index, m, res,
	    session_touch, rd);
	if (rc != 0 || res->err != 0 || ss == NULL)
		return rc;
	if (m->op == SESSION_OP_CREATE)
		session_timer_arm(ss, m->session.id, m->session.ttl_ns);
	else
		session_timer_del(ss, m->session.id.ptr, m->session.id.len);
	watch_touch(ss->watch, SESSION_WATCH_KEY, SESSION_WATCH_KEY_LEN);
	watch_flush(ss->watch);
	return 0;
}

void
session_dispatch_apply(struct raftd *rd, struct ipc_req *req,
    uint64_t reqid, const struct msg_session_apply *m, const uint8_t *data,
    size_t len)
{
	dispatch_write(rd, req, reqid, m->client_id, m->seq, data, len,
	    dispatch_dedup_apply);
}

void
session_dispatch_get(struct raftd *rd, struct ipc_req *req,
    uint64_t reqid, const struct msg_session_get *q, const uint8_t *data,
    size_t len)
{
	struct sessions *ss = rd->sess;
	struct session_held *h;
	enum forward_kind kind = FORWARD_READ_DEFAULT;

	if (ss == NULL) {
		dispatch_reply_error(req, reqid, ERR_UNAVAILABLE,
		    "raftd: starting");
		return;
	}
	if (q->what == SESSION_RENEW)
		kind = FORWARD_WRITE;
	else if (q->opts.consistency == PROTO_CONSISTENCY_CONSISTENT)
		kind = FORWARD_READ_CONSISTENT;
	if ((q->what == SESSION_RENEW ||
	    q->opts.consistency != PROTO_CONSISTENCY_STALE) &&
	    !forward_gate(rd, req, reqid, data, len, kind,
	    q->what == SESSION_RENEW ? 0 : q->opts.wait_ms))
		return;
	if (session_state_get(rd->store, q->what, q->name, &ss->read) != 0) {
		dispatch_reply_error(req, reqid, ERR_INTERNAL,
		    "raftd: state read failed");
		return;
	}
	if (q->what == SESSION_RENEW) {
		if (ss->read.n > 0)
			session_timer_arm(ss, ss->read.v[0].id,
			    ss->read.v[0].ttl_ns);
		session_reply_read(rd, req, reqid, &ss->read);
		return;
	}
	if (q->opts.min_index == 0 || ss->read.index > q->opts.min_index) {
		session_reply_read(rd, req, reqid, &ss->read);
		return;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    watch_add(ss->watch, WATCH_KEY, SESSION_WATCH_KEY,
	    SESSION_WATCH_KEY_LEN, q->opts.wait_ms, h) != 0) {
		free(h);
		session_reply_read(rd, req, reqid, &ss->read);
		return;
	}
	h->rd = rd;
	h->req = req;
	h->reqid = reqid;
	h->q = *q;
}
