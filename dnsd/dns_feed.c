/*
 * dns_feed.c — the catalog follower (see dns_feed.h).
 *
 * Key decisions. Watching and reading are apart: three blocking stale
 * watches (one per catalog table index) only say "something moved"; a
 * rebuild then reads the whole catalog with non-blocking stale reads, in
 * sequence, and builds a fresh view that replaces the old one in a
 * single swap (queries never see a half-built view). A move seen during
 * a rebuild marks the feed dirty and another rebuild follows; moves are
 * coalesced over DNS_FEED_COALESCE_MS. Health is aggregated here (spec
 * §3.2): a node's health is its worst node-level check (no ServiceID),
 * an instance's the worst of its service checks; the view combines both
 * when answering. Reply buffers are copied and kept for the rebuild,
 * because decoded strings borrow from them. Reference: Consul
 * agent/consul/state/catalog.go (table indexes), agent/dns.go (stale).
 */
#include <stdlib.h>
#include <string.h>

#include "dnsd/dns_feed.h"
#include "dnsd/dns_view.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "proto.h"

#define DNS_FEED_COALESCE_MS 10
#define DNS_FEED_NWATCH 3
#define DNS_FEED_READ_MS 10000 /* deadline of one rebuild read */
#define DNS_FEED_PARALLEL 32   /* service reads in flight at once */

struct dns_feed;

struct dns_feed_watch {
	struct dns_feed *f;
	uint8_t what;      /* enum catalog_what */
	const char *name;  /* "any" for the checks watch */
	uint64_t index;    /* last seen; 0 = none yet */
	uint64_t call;     /* in flight (0 = none) */
	uint64_t timer;    /* retry timer */
	uint32_t backoff;
};

/* Worst health of one (node, service_id) during a rebuild. */
struct dns_feed_health {
	struct proto_str node, sid;
	enum dns_health h;
	bool used;
};

/* One read of a rebuild and its kept reply. */
struct dns_feed_reply {
	struct dns_feed *f;
	uint64_t call; /* in flight (0 = none) */
	uint8_t *buf;
	struct msg_catalog_get_result *res;
};

struct dns_feed {
	struct loop *loop;
	struct ipc_client *c;
	struct dns_feed_opts o;
	dns_feed_view_cb cb;
	void *arg;
	struct dns_feed_watch w[DNS_FEED_NWATCH];
	bool dirty, building, stale;
	uint64_t index;       /* of the last delivered view */
	uint64_t build_timer;
	uint32_t build_backoff;
	/* rebuild state */
	struct proto_arena arena;
	struct dns_feed_reply nodes, checks, names;
	struct dns_feed_reply *svc; /* one per name */
	uint32_t nsvc, next_svc, done_svc;
	uint32_t inflight;
	uint64_t build_index;
	bool leader_read;              /* this rebuild: max_stale exceeded */
	uint64_t build_started_ms;
	struct dns_feed_health *health; /* in the arena */
	size_t nhealth;                 /* a power of two */
};

static void dns_feed_watch_arm(struct dns_feed_watch *w);
static void dns_feed_build_start(struct dns_feed *f);
static void dns_feed_build_retry(struct loop *l, void *arg);

/* ---- helpers ---- */

static int
dns_feed_call(struct dns_feed *f, uint8_t what, const char *name,
    uint64_t min_index, uint32_t wait_ms, uint32_t timeout_ms,
    ipc_reply_cb cb, void *arg, uint64_t *id)
{
	struct msg_catalog_get q;
	struct proto_buf b;
	int rc;

	memset(&q, 0, sizeof(q));
	q.what = what;
	if (name != NULL)
		q.name = proto_str_c(name);
	q.opts.consistency = f->o.consistent || f->leader_read ?
	    PROTO_CONSISTENCY_DEFAULT : PROTO_CONSISTENCY_STALE;
	q.opts.min_index = min_index;
	q.opts.wait_ms = wait_ms;
	if ((rc = proto_encode(MSG_CATALOG_GET, 0, &q, &b)) != 0)
		return rc;
	rc = ipc_call(f->c, b.data, b.len, timeout_ms, cb, arg, id);
	proto_buf_free(&b);
	return rc;
}

/* Decodes a catalog reply into the rebuild arena; keeps a copy of data. */
static int
dns_feed_decode(struct dns_feed *f, const uint8_t *data, size_t len,
    struct dns_feed_reply *r)
{
	struct proto_msg m;
	struct msg_error *e;
	int rc;

	if ((r->buf = malloc(len > 0 ? len : 1)) == NULL)
		return ERR_NOMEM;
	memcpy(r->buf, data, len);
	if ((rc = proto_decode(r->buf, len, &f->arena, &m)) != 0)
		return rc;
	if (m.type == MSG_ERROR) {
		e = m.body;
		return e->code < 0 ? e->code : ERR_INTERNAL;
	}
	if (m.type != MSG_CATALOG_GET_RESULT)
		return ERR_BADMSG;
	r->res = m.body;
	return 0;
}

static void
dns_feed_set_stale(struct dns_feed *f, int err)
{
	if (f->stale)
		return;
	f->stale = true;
	log_warnx("dnsd: catalog unreachable in raftd (%s): answering from "
	    "the last view (index %llu) until it is back", err_str(err),
	    (unsigned long long)f->index);
}

/* ---- watches ---- */

static void
dns_feed_watch_retry(struct loop *l, void *arg)
{
	struct dns_feed_watch *w = arg;

	w->timer = 0;
	dns_feed_watch_arm(w);
}

static void
dns_feed_mark_dirty(struct dns_feed *f)
{
	f->dirty = true;
	if (!f->building && f->build_timer == 0)
		f->build_timer = loop_timer_add(f->loop, DNS_FEED_COALESCE_MS,
		    dns_feed_build_retry, f);
}

static void
dns_feed_watch_reply(void *arg, int err, const uint8_t *data, size_t len)
{
	struct dns_feed_watch *w = arg;
	struct dns_feed *f = w->f;
	struct proto_arena a;
	struct proto_msg m;
	struct msg_catalog_get_result *r;
	int rc = err;

	w->call = 0;
	if (err == ERR_CANCELED)
		return;
	proto_arena_init(&a);
	if (rc == 0 && (rc = proto_decode(data, len, &a, &m)) == 0) {
		if (m.type == MSG_CATALOG_GET_RESULT) {
			r = m.body;
			if (r->meta.index != w->index) {
				w->index = r->meta.index;
				dns_feed_mark_dirty(f);
			}
		} else
			rc = m.type == MSG_ERROR &&
			    ((struct msg_error *)m.body)->code < 0 ?
			    ((struct msg_error *)m.body)->code : ERR_BADMSG;
	}
	proto_arena_free(&a);
	if (rc == ERR_TIMEOUT) /* a long wait ran out: ask again */
		rc = 0;
	if (rc != 0) {
		dns_feed_set_stale(f, rc);
		/* after an outage, read everything again */
		w->index = 0;
		w->backoff = w->backoff == 0 ? f->o.retry_min_ms :
		    w->backoff * 2;
		if (w->backoff > f->o.retry_max_ms)
			w->backoff = f->o.retry_max_ms;
		w->timer = loop_timer_add(f->loop, w->backoff,
		    dns_feed_watch_retry, w);
		return;
	}
	w->backoff = 0;
	dns_feed_watch_arm(w);
}

static void
dns_feed_watch_arm(struct dns_feed_watch *w)
{
	struct dns_feed *f = w->f;
	int rc;

	rc = dns_feed_call(f, w->what, w->name, w->index,
	    w->index > 0 ? f->o.wait_ms : 0,
	    f->o.wait_ms + f->o.wait_ms / 16 + f->o.call_slack_ms,
	    dns_feed_watch_reply, w,
	    &w->call);
	if (rc != 0) {
		w->timer = loop_timer_add(f->loop, f->o.retry_max_ms,
		    dns_feed_watch_retry, w);
		if (w->timer == 0)
			fatal("dnsd: out of memory");
	}
}

/* ---- rebuild ---- */

/* Cancels a read in flight (its callback returns at once). */
static void
dns_feed_cancel(struct dns_feed *f, struct dns_feed_reply *r)
{
	if (r->call != 0) {
		ipc_cancel(f->c, r->call);
		r->call = 0;
	}
}

static void
dns_feed_build_reset(struct dns_feed *f)
{
	uint32_t i;

	dns_feed_cancel(f, &f->nodes);
	dns_feed_cancel(f, &f->checks);
	dns_feed_cancel(f, &f->names);
	for (i = 0; i < f->nsvc; i++)
		dns_feed_cancel(f, &f->svc[i]);
	f->inflight = 0;
	free(f->nodes.buf);
	free(f->checks.buf);
	free(f->names.buf);
	for (i = 0; i < f->nsvc; i++)
		free(f->svc[i].buf);
	free(f->svc);
	f->svc = NULL;
	f->nsvc = f->next_svc = f->done_svc = 0;
	memset(&f->nodes, 0, sizeof(f->nodes));
	memset(&f->checks, 0, sizeof(f->checks));
	memset(&f->names, 0, sizeof(f->names));
	f->health = NULL;
	f->nhealth = 0;
	proto_arena_reset(&f->arena);
	f->building = false;
	f->leader_read = false;
}

static void
dns_feed_build_retry(struct loop *l, void *arg)
{
	struct dns_feed *f = arg;

	f->build_timer = 0;
	dns_feed_build_start(f);
}

static void
dns_feed_build_fail(struct dns_feed *f, int err)
{
	dns_feed_build_reset(f);
	dns_feed_set_stale(f, err);
	f->dirty = true;
	f->build_backoff = f->build_backoff == 0 ? f->o.retry_min_ms :
	    f->build_backoff * 2;
	if (f->build_backoff > f->o.retry_max_ms)
		f->build_backoff = f->o.retry_max_ms;
	f->build_timer = loop_timer_add(f->loop, f->build_backoff,
	    dns_feed_build_retry, f);
}

/* Worst status of a set of checks (an unknown status counts critical). */
static enum dns_health
dns_feed_status(struct proto_str s)
{
	if (proto_str_eq(s, "passing"))
		return DNS_HEALTH_PASSING;
	if (proto_str_eq(s, "warning"))
		return DNS_HEALTH_WARNING;
	return DNS_HEALTH_CRITICAL;
}

static bool
dns_feed_str_eq(struct proto_str a, struct proto_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Hash of (node, service_id) for the health table. */
static uint64_t
dns_feed_hash(struct proto_str node, struct proto_str sid)
{
	uint64_t h = 1469598103934665603ull;
	uint32_t i;

	for (i = 0; i < node.len; i++)
		h = (h ^ (uint8_t)node.ptr[i]) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (i = 0; i < sid.len; i++)
		h = (h ^ (uint8_t)sid.ptr[i]) * 1099511628211ull;
	return h;
}

/* The slot of (node, sid) in the health table: its entry or a free one. */
static struct dns_feed_health *
dns_feed_health_slot(struct dns_feed *f, struct proto_str node,
    struct proto_str sid)
{
	uint64_t i = dns_feed_hash(node, sid) & (f->nhealth - 1);
	struct dns_feed_health *e;

	for (;; i = (i + 1) & (f->nhealth - 1)) {
		e = &f->health[i];
		if (!e->used || (dns_feed_str_eq(e->node, node) &&
		    dns_feed_str_eq(e->sid, sid)))
			return e;
	}
}

/* Worst status per (node, service_id) of every check (spec §3.2). */
static void
dns_feed_health_index(struct dns_feed *f)
{
	const struct msg_catalog_get_result *ck = f->checks.res;
	struct dns_feed_health *e;
	enum dns_health h;
	uint32_t i;
	size_t n = 16;

	while (n < (size_t)ck->n_checks * 2)
		n *= 2;
	f->health = proto_arena_alloc(&f->arena, n * sizeof(*f->health));
	if (f->health == NULL)
		fatal("dnsd: out of memory");
	memset(f->health, 0, n * sizeof(*f->health));
	f->nhealth = n;
	for (i = 0; i < ck->n_checks; i++) {
		e = dns_feed_health_slot(f, ck->checks[i].node,
		    ck->checks[i].service_id);
		h = dns_feed_status(ck->checks[i].status);
		if (!e->used) {
			e->used = true;
			e->node = ck->checks[i].node;
			e->sid = ck->checks[i].service_id;
			e->h = h;
		} else if (h > e->h)
			e->h = h;
	}
}

/* Worst check of (node, service_id); service_id empty = node-level. */
static enum dns_health
dns_feed_health_of(struct dns_feed *f, struct proto_str node,
    struct proto_str sid)
{
	struct dns_feed_health *e = dns_feed_health_slot(f, node, sid);

	return e->used ? e->h : DNS_HEALTH_PASSING;
}

static struct dns_str
dns_feed_str(struct proto_str s)
{
	struct dns_str d = { s.ptr, s.len };

	return d;
}

/* A strmap as dns_kv pairs in the arena. */
static struct dns_kv *
dns_feed_kv(struct dns_feed *f, const struct proto_strmap *m)
{
	struct dns_kv *kv;
	uint32_t i;

	if (m->n == 0)
		return NULL;
	if ((kv = proto_arena_alloc(&f->arena, m->n * sizeof(*kv))) == NULL)
		fatal("dnsd: out of memory");
	for (i = 0; i < m->n; i++) {
		kv[i].key = dns_feed_str(m->keys[i]);
		kv[i].value = dns_feed_str(m->vals[i]);
	}
	return kv;
}

static void
dns_feed_add_node(struct dns_feed *f, struct dns_view *v,
    const struct proto_cat_node *n)
{
	struct dns_node_spec s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.name = dns_feed_str(n->node);
	s.address = dns_feed_str(n->address);
	s.datacenter = dns_feed_str(n->datacenter);
	s.tagged = dns_feed_kv(f, &n->tagged_addresses);
	s.ntagged = n->tagged_addresses.n;
	s.meta = dns_feed_kv(f, &n->meta);
	s.nmeta = n->meta.n;
	s.health = dns_feed_health_of(f, n->node, (struct proto_str){ 0 });
	if ((rc = dns_view_add_node(v, &s)) != 0)
		log_debug("dnsd: node %.*s left out of the view: %s",
		    (int)n->node.len, n->node.ptr, err_str(rc));
}

static void
dns_feed_add_instance(struct dns_feed *f, struct dns_view *v,
    const struct proto_cat_service *p)
{
	struct dns_instance_spec s;
	struct dns_str *tags = NULL;
	struct dns_kv *tagged = NULL;
	uint32_t i;
	int rc;

	memset(&s, 0, sizeof(s));
	if (p->tags.n > 0) {
		tags = proto_arena_alloc(&f->arena, p->tags.n * sizeof(*tags));
		if (tags == NULL)
			fatal("dnsd: out of memory");
		for (i = 0; i < p->tags.n; i++)
			tags[i] = dns_feed_str(p->tags.v[i]);
	}
	if (p->n_tagged_addresses > 0) {
		tagged = proto_arena_alloc(&f->arena,
		    p->n_tagged_addresses * sizeof(*tagged));
		if (tagged == NULL)
			fatal("dnsd: out of memory");
		for (i = 0; i < p->n_tagged_addresses; i++) {
			tagged[i].key = dns_feed_str(p->tagged_addresses[i].key);
			tagged[i].value =
			    dns_feed_str(p->tagged_addresses[i].address);
		}
	}
	s.node = dns_feed_str(p->node);
	s.id = dns_feed_str(p->id);
	s.service = dns_feed_str(p->service);
	s.tags = tags;
	s.ntags = p->tags.n;
	s.address = dns_feed_str(p->address);
	s.port = (uint16_t)(p->port <= 65535 ? p->port : 0);
	s.tagged = tagged;
	s.ntagged = p->n_tagged_addresses;
	/* Consul's default Weights are {Passing: 1, Warning: 1} */
	s.weight_passing = p->weight_passing > 0 ? p->weight_passing : 1;
	s.weight_warning = p->weight_passing > 0 ? p->weight_warning : 1;
	s.health = dns_feed_health_of(f, p->node, p->id);
	if ((rc = dns_view_add_instance(v, &s)) != 0)
		log_debug("dnsd: instance %.*s/%.*s left out of the view: %s",
		    (int)p->node.len, p->node.ptr, (int)p->id.len, p->id.ptr,
		    err_str(rc));
}

static void
dns_feed_build_finish(struct dns_feed *f)
{
	struct dns_view *v;
	const struct msg_catalog_get_result *r;
	uint32_t i, j;

	if ((v = dns_view_new()) == NULL)
		fatal("dnsd: out of memory");
	dns_feed_health_index(f);
	r = f->nodes.res;
	for (i = 0; i < r->n_nodes; i++)
		dns_feed_add_node(f, v, &r->nodes[i]);
	for (j = 0; j < f->nsvc; j++) {
		r = f->svc[j].res;
		for (i = 0; r != NULL && i < r->n_services; i++)
			dns_feed_add_instance(f, v, &r->services[i]);
	}
	f->index = f->build_index;
	if (f->stale) {
		f->stale = false;
		log_info("dnsd: catalog view current again (index %llu, "
		    "%u nodes, %u instances)", (unsigned long long)f->index,
		    dns_view_node_count(v), dns_view_instance_count(v));
	}
	f->build_backoff = 0;
	log_debug("dnsd: catalog read in %llu ms (%u services)",
	    (unsigned long long)(loop_clock_ms() - f->build_started_ms),
	    f->nsvc);
	dns_feed_build_reset(f);
	f->cb(f->arg, v, f->index);
	if (f->dirty)
		dns_feed_mark_dirty(f);
}

static void dns_feed_build_reply(void *arg, int err, const uint8_t *data,
    size_t len);

/* Issues one read of the rebuild into r. */
static int
dns_feed_build_call(struct dns_feed *f, struct dns_feed_reply *r,
    uint8_t what, const char *name)
{
	int rc;

	r->f = f;
	rc = dns_feed_call(f, what, name, 0, 0, DNS_FEED_READ_MS,
	    dns_feed_build_reply, r, &r->call);
	if (rc == 0)
		f->inflight++;
	return rc;
}

/*
 * Issues the next reads of the rebuild, or finishes it: the nodes, the
 * checks and the service names one after the other, then the services,
 * DNS_FEED_PARALLEL reads at a time (raftd answers pipelined requests,
 * so a rebuild costs about one round trip per DNS_FEED_PARALLEL names).
 */
static void
dns_feed_build_next(struct dns_feed *f)
{
	char nbuf[1024];
	struct proto_str s;
	int rc = 0;

	if (f->nodes.res == NULL)
		rc = dns_feed_build_call(f, &f->nodes, CATALOG_NODES, NULL);
	else if (f->checks.res == NULL)
		rc = dns_feed_build_call(f, &f->checks, CATALOG_HEALTH_STATE,
		    "any");
	else if (f->names.res == NULL)
		rc = dns_feed_build_call(f, &f->names, CATALOG_SERVICES, NULL);
	else {
		while (rc == 0 && f->next_svc < f->nsvc &&
		    f->inflight < DNS_FEED_PARALLEL) {
			s = f->names.res->services[f->next_svc].service;
			if (s.len >= sizeof(nbuf)) {
				/* no such service can be registered: skip */
				f->next_svc++;
				f->done_svc++;
				continue;
			}
			memcpy(nbuf, s.ptr, s.len);
			nbuf[s.len] = '\0';
			rc = dns_feed_build_call(f, &f->svc[f->next_svc++],
			    CATALOG_SERVICE, nbuf);
		}
		if (rc == 0 && f->done_svc == f->nsvc) {
			dns_feed_build_finish(f);
			return;
		}
	}
	if (rc != 0)
		dns_feed_build_fail(f, rc);
}

static void
dns_feed_build_reply(void *arg, int err, const uint8_t *data, size_t len)
{
	struct dns_feed_reply *r = arg;
	struct dns_feed *f;
	int rc;

	if (err == ERR_CANCELED) /* reset or close: touch nothing */
		return;
	f = r->f;
	r->call = 0;
	f->inflight--;
	if (err != 0) {
		dns_feed_build_fail(f, err);
		return;
	}
	if ((rc = dns_feed_decode(f, data, len, r)) != 0) {
		dns_feed_build_fail(f, rc);
		return;
	}
	if (r->res->meta.index > f->build_index)
		f->build_index = r->res->meta.index;
	if (!f->o.consistent && !f->leader_read && f->o.max_stale_ms > 0 &&
	    r->res->meta.last_contact_ms > f->o.max_stale_ms) {
		/* too stale (Consul: re-query the leader): start over */
		log_info("dnsd: catalog %llu ms behind the leader (max_stale "
		    "%llu ms): reading from the leader",
		    (unsigned long long)r->res->meta.last_contact_ms,
		    (unsigned long long)f->o.max_stale_ms);
		dns_feed_build_reset(f);
		f->building = true;
		f->leader_read = true;
		f->build_index = 0;
		dns_feed_build_next(f);
		return;
	}
	if (r == &f->names && r->res->n_services > 0) {
		f->nsvc = r->res->n_services;
		if ((f->svc = calloc(f->nsvc, sizeof(*f->svc))) == NULL)
			fatal("dnsd: out of memory");
	} else if (r != &f->nodes && r != &f->checks && r != &f->names)
		f->done_svc++;
	dns_feed_build_next(f);
}

static void
dns_feed_build_start(struct dns_feed *f)
{
	f->build_timer = 0;
	if (f->building)
		return;
	f->building = true;
	f->dirty = false;
	f->build_index = 0;
	f->build_started_ms = loop_clock_ms();
	dns_feed_build_next(f);
}

/* ---- life cycle ---- */

int
dns_feed_open(struct loop *l, const char *url,
    const struct dns_feed_opts *opts, dns_feed_view_cb cb, void *arg,
    struct dns_feed **out)
{
	static const uint8_t what[DNS_FEED_NWATCH] = { CATALOG_NODES,
		CATALOG_SERVICES, CATALOG_HEALTH_STATE };
	struct dns_feed *f;
	int i, rc;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return ERR_NOMEM;
	f->loop = l;
	f->cb = cb;
	f->arg = arg;
	if (opts != NULL)
		f->o = *opts;
	if (f->o.wait_ms == 0)
		f->o.wait_ms = 300000;
	if (f->o.call_slack_ms == 0)
		f->o.call_slack_ms = 10000;
	if (f->o.retry_min_ms == 0)
		f->o.retry_min_ms = 100;
	if (f->o.retry_max_ms == 0)
		f->o.retry_max_ms = 5000;
	proto_arena_init(&f->arena);
	if ((rc = ipc_client_open(l, url, &f->c)) != 0) {
		free(f);
		return rc;
	}
	for (i = 0; i < DNS_FEED_NWATCH; i++) {
		f->w[i].f = f;
		f->w[i].what = what[i];
		f->w[i].name = what[i] == CATALOG_HEALTH_STATE ? "any" : NULL;
		dns_feed_watch_arm(&f->w[i]);
	}
	*out = f;
	return 0;
}

void
dns_feed_close(struct dns_feed *f)
{
	int i;

	if (f == NULL)
		return;
	for (i = 0; i < DNS_FEED_NWATCH; i++)
		if (f->w[i].timer != 0)
			loop_timer_cancel(f->loop, f->w[i].timer);
	if (f->build_timer != 0)
		loop_timer_cancel(f->loop, f->build_timer);
	/* rebuild reads first (cancelled on the open client), then the
	 * watches complete with ERR_CANCELED as the client closes */
	dns_feed_build_reset(f);
	ipc_client_close(f->c);
	proto_arena_free(&f->arena);
	free(f);
}

void
dns_feed_set_staleness(struct dns_feed *f, bool consistent,
    uint64_t max_stale_ms)
{
	f->o.consistent = consistent;
	f->o.max_stale_ms = max_stale_ms;
}

bool
dns_feed_stale(const struct dns_feed *f)
{
	return f->stale;
}

uint64_t
dns_feed_index(const struct dns_feed *f)
{
	return f->index;
}
