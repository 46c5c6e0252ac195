/*
 * sync.c — anti-entropy: keeps the catalog's entries for this node equal
 * to the agent's local state, through raftd.rpc (MSG_CATALOG_REGISTER,
 * MSG_CATALOG_DEREGISTER, MSG_CATALOG_GET).
 *
 * Key decision: one round at a time, one request in flight, a sequence
 * of steps: [full: read the node's catalog services and checks, delete
 * what the agent does not know (never serfHealth or the consul service,
 * which the leader owns), mark what differs, register the node entry];
 * then the queued deletions; then one register per changed service (with
 * all its checks) and per changed node check. Partial rounds run right
 * after a local change (sync_kick), full rounds every minute and after an
 * error. Every write carries checkd's client id and a sequence number,
 * so raftd applies a re-sent one once (DESIGN.md §3). Registration
 * replies wait for the round that carries them (sync_after), bounded by
 * the ipc connect wait, so read-after-register works while raftd is up
 * and the API still answers while it is down (spec §4, §16 item 15).
 * Reference: spec/consul-api.md §4; Consul agent/local/state.go
 * SyncChanges/SyncFull/updateSyncState.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "checkd.h"
#include "config.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "proto.h"

#define SYNC_FULL_MS 60000
#define SYNC_RETRY_MS 5000
#define SYNC_CALL_MS 10000
/* registrations in flight at once: raftd commits them in one batch */
#define SYNC_PARALLEL 32

enum sync_step {
	STEP_IDLE = 0,
	STEP_READ_SERVICES,
	STEP_READ_CHECKS,
	STEP_NODE,
	STEP_DEREG,
	STEP_SERVICES,
	STEP_CHECKS,
};

struct sync_waiter {
	void (*fn)(void *arg);
	void *arg;
	struct sync_waiter *next;
};

struct sync_dereg {
	char *svc_id;   /* or */
	char *check_id;
	struct sync_dereg *next;
};

struct sync_state {
	int step;
	bool full;
	bool failed;
	bool requested;
	uint64_t kick_timer;
	uint64_t full_timer;
	struct sync_dereg *dereg;
	struct sync_waiter *waiting;   /* released by the next round */
	struct sync_waiter *current;   /* released by this round */
	int inflight;                  /* calls of this step in flight */
};

static void sync_step(struct checkd *cd);

static void
sync_release(struct sync_waiter **list)
{
	struct sync_waiter *w, *n;

	for (w = *list, *list = NULL; w != NULL; w = n) {
		n = w->next;
		w->fn(w->arg);
		free(w);
	}
}

static void
sync_round_end(struct checkd *cd)
{
	struct sync_state *ss = cd->sync;

	ss->step = STEP_IDLE;
	if (ss->failed) {
		ss->full = true;
		ss->failed = false;
		if (ss->kick_timer == 0)
			ss->kick_timer = 0; /* retried by the full timer */
	}
	sync_release(&ss->current);
	if (ss->requested || ss->waiting != NULL)
		sync_kick(cd);
}

static void sync_reply(void *arg, int err, const uint8_t *data, size_t len);

static void
sync_send(struct checkd *cd, uint32_t type, const void *body)
{
	struct proto_buf b;
	int rc;

	if ((rc = proto_encode(type, 0, body, &b)) != 0) {
		log_warnx("sync: encoding %s: %s", proto_msg_name(type),
		    err_str(rc));
		cd->sync->failed = true;
		return;
	}
	rc = ipc_call(cd->raftd, b.data, b.len, SYNC_CALL_MS, sync_reply, cd,
	    NULL);
	proto_buf_free(&b);
	if (rc != 0) {
		log_warnx("sync: raftd: %s", err_str(rc));
		cd->sync->failed = true;
		return;
	}
	cd->sync->inflight++;
}

static bool
sync_svc_differs(const struct svc *l, const struct proto_cat_service *c)
{
	size_t i;

	if (!proto_str_eq(c->service, l->name) ||
	    !proto_str_eq(c->address, l->address) || c->port != l->port ||
	    c->tags.n != l->n_tags || c->meta.n != l->n_meta ||
	    c->weight_passing != l->weight_passing ||
	    c->weight_warning != l->weight_warning)
		return true;
	if (l->enable_tag_override)
		return false;
	for (i = 0; i < l->n_tags; i++)
		if (!proto_str_eq(c->tags.v[i], l->tags[i]))
			return true;
	return false;
}

static bool
sync_chk_differs(const struct chk *l, const struct proto_cat_check *c)
{
	return !proto_str_eq(c->name, l->name) ||
	    !proto_str_eq(c->status, check_status_str(l->status)) ||
	    !proto_str_eq(c->output, l->output ? l->output : "") ||
	    !proto_str_eq(c->notes, l->notes) ||
	    !proto_str_eq(c->service_id, l->service_id);
}

static void
sync_queue_dereg(struct checkd *cd, const char *svc_id, const char *chk_id)
{
	struct sync_dereg *d = calloc(1, sizeof(*d)), **pp;

	if (d == NULL)
		return;
	d->svc_id = svc_id ? strdup(svc_id) : NULL;
	d->check_id = chk_id ? strdup(chk_id) : NULL;
	for (pp = &cd->sync->dereg; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = d;
}

static void
sync_got_services(struct checkd *cd, const struct msg_catalog_get_result *r)
{
	struct svc *s;
	uint32_t i;
	char id[1024];

	for (s = cd->svcs; s != NULL; s = s->next)
		local_svc_synced(cd, s, false); /* unless equal below */
	for (i = 0; i < r->n_services; i++) {
		const struct proto_cat_service *c = &r->services[i];
		snprintf(id, sizeof(id), "%.*s", (int)c->id.len, c->id.ptr);
		if (strcmp(id, "consul") == 0)
			continue;
		if ((s = local_svc(cd, id)) == NULL)
			sync_queue_dereg(cd, id, NULL);
		else if (!sync_svc_differs(s, c))
			local_svc_synced(cd, s, true);
	}
}

static void
sync_got_checks(struct checkd *cd, const struct msg_catalog_get_result *r)
{
	struct chk *k;
	uint32_t i;
	char id[1024];

	for (k = cd->chks; k != NULL; k = k->next)
		local_chk_synced(cd, k, false);
	for (i = 0; i < r->n_checks; i++) {
		const struct proto_cat_check *c = &r->checks[i];
		snprintf(id, sizeof(id), "%.*s", (int)c->check_id.len,
		    c->check_id.ptr);
		if (strcmp(id, "serfHealth") == 0)
			continue;
		if ((k = local_chk(cd, id)) == NULL)
			sync_queue_dereg(cd, NULL, id);
		else if (!sync_chk_differs(k, c)) {
			local_chk_synced(cd, k, true);
			k->output_dirty = false;
		}
	}
	/* a service whose check differs is re-registered with its checks */
	for (k = cd->chks; k != NULL; k = k->next) {
		struct svc *s = local_svc(cd, k->service_id);
		if (!k->synced && s != NULL)
			local_svc_synced(cd, s, false);
	}
}

static void
sync_reply(void *arg, int err, const uint8_t *data, size_t len)
{
	struct checkd *cd = arg;
	struct sync_state *ss = cd->sync;
	struct proto_arena a;
	struct proto_msg m;

	if (ss == NULL)
		return; /* shutting down */
	ss->inflight--;
	if (err != 0) {
		if (err != ERR_CANCELED && !ss->failed)
			log_warnx("sync: raftd: %s (retrying)", err_str(err));
		ss->failed = true;
		if (ss->inflight == 0)
			sync_round_end(cd);
		return;
	}
	proto_arena_init(&a);
	if (proto_decode(data, len, &a, &m) != 0) {
		log_warnx("sync: malformed reply from raftd");
		ss->failed = true;
	} else if (m.type == MSG_ERROR) {
		const struct msg_error *e = m.body;
		log_warnx("sync: raftd: %.*s", (int)e->message.len,
		    e->message.ptr);
		ss->failed = true;
	} else if (m.type == MSG_CATALOG_GET_RESULT) {
		if (ss->step == STEP_READ_SERVICES)
			sync_got_services(cd, m.body);
		else
			sync_got_checks(cd, m.body);
	}
	proto_arena_free(&a);
	if (ss->inflight > 0)
		return; /* the rest of this step's calls */
	if (ss->failed) {
		sync_round_end(cd);
		return;
	}
	sync_step(cd);
}

static void
sync_read(struct checkd *cd, uint8_t what)
{
	struct msg_catalog_get g;

	memset(&g, 0, sizeof(g));
	g.what = what;
	g.name = proto_str_c(cd->cfg->node_name);
	sync_send(cd, MSG_CATALOG_GET, &g);
}

/* The node entry as the leader writes it (raftd/catalog_self.c). */
struct sync_node {
	struct proto_str tk[4], tv[4];
	struct proto_str *mk, *mv;
};

static int
sync_fill_node(struct checkd *cd, struct proto_cat_node *n,
    struct sync_node *sn)
{
	const struct config *cfg = cd->cfg;
	const char *addr, *wan;
	size_t i;

	addr = *cfg->advertise_addr ? cfg->advertise_addr :
	    *cfg->bind_addr ? cfg->bind_addr : "127.0.0.1";
	wan = *cfg->advertise_addr_wan ? cfg->advertise_addr_wan : addr;
	memset(n, 0, sizeof(*n));
	n->id = proto_str_c(cd->node_id);
	n->node = proto_str_c(cfg->node_name);
	n->address = proto_str_c(addr);
	n->datacenter = proto_str_c(cfg->datacenter);
	sn->tk[0] = proto_str_c("lan");
	sn->tk[1] = proto_str_c("lan_ipv4");
	sn->tk[2] = proto_str_c("wan");
	sn->tk[3] = proto_str_c("wan_ipv4");
	sn->tv[0] = sn->tv[1] = proto_str_c(addr);
	sn->tv[2] = sn->tv[3] = proto_str_c(wan);
	n->tagged_addresses.keys = sn->tk;
	n->tagged_addresses.vals = sn->tv;
	n->tagged_addresses.n = 4;
	sn->mk = calloc(cfg->node_meta.n + 1, sizeof(*sn->mk));
	sn->mv = calloc(cfg->node_meta.n + 1, sizeof(*sn->mv));
	if (sn->mk == NULL || sn->mv == NULL)
		return ERR_NOMEM;
	sn->mk[0] = proto_str_c("consul-network-segment");
	sn->mv[0] = proto_str_c("");
	for (i = 0; i < cfg->node_meta.n; i++) {
		sn->mk[i + 1] = proto_str_c(cfg->node_meta.k[i]);
		sn->mv[i + 1] = proto_str_c(cfg->node_meta.v[i]);
	}
	n->meta.keys = sn->mk;
	n->meta.vals = sn->mv;
	n->meta.n = (uint32_t)cfg->node_meta.n + 1;
	return 0;
}

static void
sync_fill_check(struct checkd *cd, const struct chk *c,
    struct proto_cat_check *p, char *iv, char *to, size_t sz)
{
	const struct svc *s = local_svc(cd, c->service_id);

	memset(p, 0, sizeof(*p));
	p->node = proto_str_c(cd->cfg->node_name);
	p->check_id = proto_str_c(c->id);
	p->name = proto_str_c(c->name);
	p->status = proto_str_c(check_status_str(c->status));
	p->notes = proto_str_c(c->notes);
	p->output = proto_str_c(c->output ? c->output : "");
	p->service_id = proto_str_c(c->service_id);
	p->service_name = proto_str_c(s ? s->name : "");
	p->type = proto_str_c(render_check_type(c->type));
	iv[0] = to[0] = '\0';
	if (c->interval_ms > 0)
		go_duration(c->interval_ms, iv, sz);
	if (c->type != CT_TTL && c->type != CT_NONE && c->type != CT_ALIAS)
		go_duration(c->timeout_ms, to, sz);
	p->interval = proto_str_c(iv);
	p->timeout = proto_str_c(to);
	p->def_http = proto_str_c(c->http);
	p->def_method = proto_str_c(*c->http ? c->method : "");
	p->def_body = proto_str_c(c->body);
	p->def_tcp = proto_str_c(c->tcp);
	p->def_tls_server_name = proto_str_c(c->tls_server_name);
	p->def_tls_skip_verify = c->tls_skip_verify;
	p->def_interval_ns = c->interval_ms * 1000000u;
	p->def_timeout_ns = c->timeout_ms * 1000000u;
	p->def_deregister_ns = c->deregister_ms * 1000000u;
}

/* The arrays a service record borrows while it is encoded. */
struct sync_svc_bufs {
	struct proto_str *tags, *mk, *mv;
	struct proto_cat_addr *pa;
};

static void
sync_svc_bufs_free(struct sync_svc_bufs *b)
{
	free(b->tags);
	free(b->mk);
	free(b->mv);
	free(b->pa);
}

/* Fills ps from s (borrowing its strings; arrays in b). 0 or ERR_NOMEM. */
static int
sync_fill_service(struct checkd *cd, const struct svc *s,
    struct proto_cat_service *ps, struct sync_svc_bufs *b)
{
	size_t i;

	memset(ps, 0, sizeof(*ps));
	b->tags = calloc(s->n_tags + 1, sizeof(*b->tags));
	b->mk = calloc(s->n_meta + 1, sizeof(*b->mk));
	b->mv = calloc(s->n_meta + 1, sizeof(*b->mv));
	b->pa = calloc(s->n_taddrs + 1, sizeof(*b->pa));
	if (!b->tags || !b->mk || !b->mv || !b->pa)
		return ERR_NOMEM;
	ps->node = proto_str_c(cd->cfg->node_name);
	ps->kind = proto_str_c(s->kind);
	ps->id = proto_str_c(s->id);
	ps->service = proto_str_c(s->name);
	for (i = 0; i < s->n_tags; i++)
		b->tags[i] = proto_str_c(s->tags[i]);
	ps->tags.v = b->tags;
	ps->tags.n = (uint32_t)s->n_tags;
	ps->address = proto_str_c(s->address);
	for (i = 0; i < s->n_taddrs; i++) {
		b->pa[i].key = proto_str_c(s->taddrs[i].key);
		b->pa[i].address = proto_str_c(s->taddrs[i].address);
		b->pa[i].port = s->taddrs[i].port;
	}
	ps->tagged_addresses = b->pa;
	ps->n_tagged_addresses = (uint32_t)s->n_taddrs;
	for (i = 0; i < s->n_meta; i++) {
		b->mk[i] = proto_str_c(s->meta[i].k);
		b->mv[i] = proto_str_c(s->meta[i].v);
	}
	ps->meta.keys = b->mk;
	ps->meta.vals = b->mv;
	ps->meta.n = (uint32_t)s->n_meta;
	ps->port = s->port;
	ps->weight_passing = s->weight_passing;
	ps->weight_warning = s->weight_warning;
	ps->enable_tag_override = s->enable_tag_override;
	return 0;
}

/*
 * Registers s with all its checks (or, s NULL, the node check k alone;
 * or, both NULL, the bare node entry). What is sent is marked synced now:
 * a change while the call is in flight marks it again, a failure makes
 * the next round a full one.
 */
static void
sync_register(struct checkd *cd, struct svc *s, struct chk *k)
{
	struct msg_catalog_register reg;
	struct proto_cat_service ps;
	struct proto_cat_check *pc = NULL;
	struct sync_svc_bufs sb = { 0 };
	struct sync_node sn = { 0 };
	char (*dur)[2][64] = NULL;
	struct chk *c;
	size_t n = 0;

	memset(&reg, 0, sizeof(reg));
	reg.client_id = cd->client_id;
	reg.seq = ++cd->seq;
	if (sync_fill_node(cd, &reg.node, &sn) != 0)
		goto nomem;
	for (c = s ? local_svc_chk(cd, s->id) : NULL; c != NULL;
	    c = local_svc_chk_next(c))
		n++;
	if (s == NULL && k != NULL)
		n = 1;
	pc = calloc(n + 1, sizeof(*pc));
	dur = calloc(n + 1, sizeof(*dur));
	if (pc == NULL || dur == NULL)
		goto nomem;
	n = 0;
	if (s != NULL) {
		if (sync_fill_service(cd, s, &ps, &sb) != 0)
			goto nomem;
		reg.services = &ps;
		reg.n_services = 1;
		local_svc_synced(cd, s, true);
		for (c = local_svc_chk(cd, s->id); c != NULL;
		    c = local_svc_chk_next(c)) {
			sync_fill_check(cd, c, &pc[n], dur[n][0], dur[n][1],
			    64);
			pc[n].service_tags = ps.tags;
			local_chk_synced(cd, c, true);
			c->output_dirty = false;
			n++;
		}
	} else if (k != NULL) {
		sync_fill_check(cd, k, &pc[n++], dur[0][0], dur[0][1], 64);
		local_chk_synced(cd, k, true);
		k->output_dirty = false;
	}
	reg.checks = pc;
	reg.n_checks = (uint32_t)n;
	sync_send(cd, MSG_CATALOG_REGISTER, &reg);
	goto out;
nomem:
	log_warnx("sync: out of memory");
	cd->sync->failed = true;
out:
	free(sn.mk);
	free(sn.mv);
	free(pc);
	free(dur);
	sync_svc_bufs_free(&sb);
}

static void
sync_send_dereg(struct checkd *cd, struct sync_dereg *d)
{
	struct msg_catalog_deregister m;

	memset(&m, 0, sizeof(m));
	m.client_id = cd->client_id;
	m.seq = ++cd->seq;
	m.node = proto_str_c(cd->cfg->node_name);
	if (d->svc_id != NULL)
		m.service_id = proto_str_c(d->svc_id);
	else
		m.check_id = proto_str_c(d->check_id ? d->check_id : "");
	sync_send(cd, MSG_CATALOG_DEREGISTER, &m);
	free(d->svc_id);
	free(d->check_id);
	free(d);
}

/*
 * Issues up to SYNC_PARALLEL registrations; returns how many. Only the
 * dirty lists are walked: each registration takes what it sends off
 * them, so the head is always the next one to send.
 */
static int
sync_issue_registers(struct checkd *cd)
{
	struct sync_state *ss = cd->sync;
	struct svc *s;
	struct chk *k;
	int n = 0;

	while ((s = cd->dirty_svcs) != NULL && ss->inflight < SYNC_PARALLEL &&
	    !ss->failed) {
		sync_register(cd, s, NULL);
		n++;
	}
	while ((k = cd->dirty_chks) != NULL && ss->inflight < SYNC_PARALLEL &&
	    !ss->failed) {
		if (*k->service_id == '\0') {
			sync_register(cd, NULL, k);
			n++;
		} else if ((s = local_svc(cd, k->service_id)) != NULL) {
			/* the service's registration carries its checks */
			sync_register(cd, s, NULL);
			n++;
		} else {
			/* no service (yet): its registration will carry it */
			local_chk_synced(cd, k, true);
		}
	}
	return n;
}

/*
 * Runs the next step of the round or ends it. Every step but the
 * registrations is one request; the registrations go SYNC_PARALLEL at a
 * time. A call that could not be sent ends the round as failed.
 */
static void
sync_step(struct checkd *cd)
{
	struct sync_state *ss = cd->sync;
	struct sync_dereg *d;

	for (;;) {
		switch (ss->step) {
		case STEP_IDLE:
			if (ss->full) {
				ss->step = STEP_READ_SERVICES;
				sync_read(cd, CATALOG_NODE_SERVICES);
				goto sent;
			}
			ss->step = STEP_DEREG;
			continue;
		case STEP_READ_SERVICES:
			ss->step = STEP_READ_CHECKS;
			sync_read(cd, CATALOG_HEALTH_NODE);
			goto sent;
		case STEP_READ_CHECKS:
			ss->step = STEP_NODE;
			ss->full = false;
			cd->last_full_sync_ms = loop_now_ms(cd->loop);
			sync_register(cd, NULL, NULL);
			goto sent;
		case STEP_NODE:
			ss->step = STEP_DEREG;
			continue;
		case STEP_DEREG:
			if ((d = ss->dereg) != NULL) {
				ss->dereg = d->next;
				sync_send_dereg(cd, d);
				goto sent;
			}
			ss->step = STEP_SERVICES;
			continue;
		case STEP_SERVICES:
		case STEP_CHECKS:
			if (sync_issue_registers(cd) > 0)
				goto sent;
			sync_round_end(cd);
			return;
		}
	}
sent:
	if (ss->inflight == 0) /* nothing could be sent */
		sync_round_end(cd);
}

static void
sync_start(struct loop *l, void *arg)
{
	struct checkd *cd = arg;
	struct sync_state *ss = cd->sync;

	(void)l;
	ss->kick_timer = 0;
	if (ss->step != STEP_IDLE)
		return; /* sync_round_end kicks again */
	ss->requested = false;
	ss->current = ss->waiting;
	ss->waiting = NULL;
	sync_step(cd);
}

void
sync_kick(struct checkd *cd)
{
	struct sync_state *ss = cd->sync;

	if (ss == NULL)
		return;
	ss->requested = true;
	if (ss->step == STEP_IDLE && ss->kick_timer == 0)
		ss->kick_timer = loop_timer_add(cd->loop, 0, sync_start, cd);
}

void
sync_removed(struct checkd *cd, const char *svc_id, const char *check_id)
{
	if (cd->sync == NULL)
		return;
	sync_queue_dereg(cd, svc_id, check_id);
	sync_kick(cd);
}

int
sync_after(struct checkd *cd, void (*fn)(void *arg), void *arg)
{
	struct sync_waiter *w;

	if (cd->sync == NULL || (w = calloc(1, sizeof(*w))) == NULL)
		return ERR_UNAVAILABLE;
	w->fn = fn;
	w->arg = arg;
	w->next = cd->sync->waiting;
	cd->sync->waiting = w;
	sync_kick(cd);
	return 0;
}

static void
sync_full_tick(struct loop *l, void *arg)
{
	struct checkd *cd = arg;
	uint64_t r = 0;

	cd->sync->full = true;
	sync_kick(cd);
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = 0;
	/* staggered: 1 min plus up to 1/16 more */
	cd->sync->full_timer = loop_timer_add(l, SYNC_FULL_MS +
	    r % (SYNC_FULL_MS / 16), sync_full_tick, cd);
}

static void
sync_retry_tick(struct loop *l, void *arg)
{
	struct checkd *cd = arg;

	/* after a failed round, retry sooner than the full interval */
	if (cd->sync->full && cd->sync->step == STEP_IDLE)
		sync_kick(cd);
	loop_timer_add(l, SYNC_RETRY_MS, sync_retry_tick, cd);
}

int
sync_init(struct checkd *cd)
{
	char url[4200];
	int rc;

	if ((cd->sync = calloc(1, sizeof(*cd->sync))) == NULL)
		return ERR_NOMEM;
	if (getrandom(&cd->client_id, sizeof(cd->client_id), 0) !=
	    sizeof(cd->client_id))
		return ERR_IO;
	if ((rc = ipc_url(url, sizeof(url), cd->cfg->runtime_dir,
	    "raftd.rpc")) != 0)
		return rc;
	if ((rc = ipc_client_open(cd->loop, url, &cd->raftd)) != 0)
		return rc;
	ipc_client_set_connect_wait(cd->raftd, 500);
	cd->sync->full = true;
	cd->sync->full_timer = loop_timer_add(cd->loop, SYNC_FULL_MS,
	    sync_full_tick, cd);
	loop_timer_add(cd->loop, SYNC_RETRY_MS, sync_retry_tick, cd);
	sync_kick(cd);
	return 0;
}

void
sync_fini(struct checkd *cd)
{
	struct sync_state *ss = cd->sync;
	struct sync_dereg *d, *n;

	if (ss == NULL)
		return;
	sync_release(&ss->current);
	sync_release(&ss->waiting);
	for (d = ss->dereg; d != NULL; d = n) {
		n = d->next;
		free(d->svc_id);
		free(d->check_id);
		free(d);
	}
	cd->sync = NULL;
	ipc_client_close(cd->raftd); /* outstanding calls: ERR_CANCELED */
	cd->raftd = NULL;
	free(ss);
}
