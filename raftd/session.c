/*
 * session.c — the session table in raftd (see session.h): the leader's
 * TTL timers and health checks that propose destroys, and the glue:
 * applying entries, answering reads (info, node, list) with blocking on
 * the sessions index. The state machine itself (records, create and
 * destroy, invalidation releasing or deleting held keys with lock-delay
 * through kv_session_invalidate) is session_state.c.
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
