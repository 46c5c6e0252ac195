/*
 * reconcile.c — the leader reconciles gossip membership into the catalog
 * (see reconcile.h): node health from gossip, as Consul's leader.go
 * reconcileMember / handleAliveMember / handleFailedMember /
 * handleLeftMember / handleReapMember and reconcileReaped.
 *
 * Key decisions: the decision is a plan over catalog reads (pure, unit
 * tested) that writes only when the catalog disagrees — an alive member
 * whose node has gossip's address, serfHealth passing and (a server) the
 * consul service on its port with Consul's ServiceMeta costs no write,
 * so a reconcile never moves an index. A registration keeps the node's
 * ID, tagged addresses and meta (the agent's anti-entropy owns them); a
 * failed member's check is written with SkipNodeUpdate so the node
 * record stays. Writes are internal log entries nobody waits for,
 * through the ordinary write path (Raft on a cluster), so every replica
 * agrees and the session table (session_catalog_changed) invalidates the
 * sessions a critical or deregistered serfHealth breaks. The leader
 * reconciles each member event at once and the polled member list in
 * full when it changed, after leadership was gained, and every
 * RECONCILE_INTERVAL_MS, as Consul's reconcile channel and
 * ReconcileInterval. The leader's own node is never deregistered, and a
 * node missing from the member list is reaped only after
 * RECONCILE_REAP_GRACE_MS of lists without it: a list cut short (this
 * server's gossipd restarted) must not deregister live nodes and destroy
 * their sessions. The leader's own gossipd is a process of its own: when
 * it has stopped answering (it answered before) for
 * RECONCILE_SELF_DOWN_MS, the leader's serf agent is not alive, and the
 * leader marks its own serfHealth critical as Consul marks a failed
 * member's (the other members' gossip says the same of it, but only the
 * leader writes); when gossipd lists it alive again, the ordinary alive
 * plan makes it passing.
 * Reference: Consul agent/consul/leader.go,
 * leader_registrator_v1.go, structs.SerfCheck* constants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "loop.h"
#include "msg_member.h"
#include "proto.h"
#include "raft.h"
#include "raftd.h"
#include "reconcile.h"
#include "store.h"

/* ---- the plans ---- */

void
reconcile_reads_init(struct reconcile_reads *rr)
{
	catalog_read_init(&rr->node);
	catalog_read_init(&rr->checks);
}

void
reconcile_reads_fini(struct reconcile_reads *rr)
{
	catalog_read_fini(&rr->node);
	catalog_read_fini(&rr->checks);
}

enum reconcile_state
reconcile_state_of_status(uint8_t status)
{
	switch (status) {
	case 1:
		return RECONCILE_ALIVE;
	case 3:
		return RECONCILE_LEFT;
	case 4:
		return RECONCILE_FAILED;
	default:
		return RECONCILE_IGNORE; /* leaving: wait for left */
	}
}

enum reconcile_state
reconcile_state_of_event(uint8_t event, uint8_t status)
{
	switch (event) {
	case MEMBER_EV_FAILED:
		return RECONCILE_FAILED;
	case MEMBER_EV_LEFT:
	case MEMBER_EV_REAPED:
		return RECONCILE_LEFT;
	case MEMBER_EV_JOIN:
	case MEMBER_EV_UPDATE:
		return status == 0 ? RECONCILE_ALIVE :
		    reconcile_state_of_status(status);
	default:
		return RECONCILE_IGNORE;
	}
}

static bool
reconcile_str_same(struct proto_str a, struct proto_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr,
	    a.len) == 0);
}

/* Node names compare without case, as Consul's catalog does. */
static bool
reconcile_name_same(struct proto_str a, struct proto_str b)
{
	return a.len == b.len && (a.len == 0 || strncasecmp(a.ptr, b.ptr,
	    a.len) == 0);
}

/* Tag k of m (len 0 when absent). */
static struct proto_str
reconcile_tag(const struct proto_member *m, const char *k)
{
	struct proto_str none = { "", 0 };

	for (uint32_t i = 0; i < m->tags.n; i++)
		if (proto_str_eq(m->tags.keys[i], k))
			return m->tags.vals[i];
	return none;
}

/* Consul's shouldHandleMember: a Consul node or server of our dc. */
static bool
reconcile_ours(const struct reconcile_ctx *ctx, const struct proto_member *m,
    bool *server)
{
	struct proto_str role = reconcile_tag(m, "role");

	*server = proto_str_eq(role, "consul");
	if (!*server && !proto_str_eq(role, "node"))
		return false;
	return m->name.len > 0 && proto_str_eq(reconcile_tag(m, "dc"), ctx->dc);
}

static uint32_t
reconcile_port(const struct proto_member *m, char *buf, size_t size)
{
	struct proto_str p = reconcile_tag(m, "port");

	snprintf(buf, size, "%.*s", (int)p.len, p.ptr);
	return (uint32_t)strtoul(buf, NULL, 10);
}

/* The length of the digits at p[0..len) (0 when none). */
static size_t
reconcile_digits(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && p[i] >= '0' && p[i] <= '9')
		i++;
	return i;
}

/* The first X.Y.Z in build into buf ("" when none), as Consul's
 * metadata.Build's versionFormat \d+\.\d+\.\d+. */
static void
reconcile_version(struct proto_str build, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < build.len; i++) {
		const char *p = build.ptr + i;
		size_t left = build.len - i, n = 0, d;
		int part;

		for (part = 0; part < 3; part++) {
			if ((d = reconcile_digits(p + n, left - n)) == 0)
				break;
			n += d;
			if (part < 2 && (n >= left || p[n] != '.'))
				break;
			if (part < 2)
				n++;
		}
		if (part == 3 && n < size) {
			memcpy(buf, p, n);
			buf[n] = '\0';
			return;
		}
	}
}

void
reconcile_consul_meta(struct reconcile_consul_meta *cm,
    struct proto_str build, struct proto_str raft_vsn, bool non_voter,
    bool read_replica, struct proto_strmap *out)
{
	static const char *keys[RECONCILE_CONSUL_META_N] = { "non_voter",
	    "raft_version", "read_replica", "serf_protocol_current",
	    "serf_protocol_max", "serf_protocol_min", "version" };

	reconcile_version(build, cm->version, sizeof(cm->version));
	for (size_t i = 0; i < RECONCILE_CONSUL_META_N; i++)
		cm->k[i] = proto_str_c(keys[i]);
	cm->v[0] = proto_str_c(non_voter ? "true" : "false");
	cm->v[1] = raft_vsn.len > 0 ? raft_vsn : proto_str_c("0");
	cm->v[2] = proto_str_c(read_replica ? "true" : "false");
	cm->v[3] = proto_str_c("2");
	cm->v[4] = proto_str_c("5");
	cm->v[5] = proto_str_c("1");
	cm->v[6] = proto_str_c(cm->version);
	out->keys = cm->k;
	out->vals = cm->v;
	out->n = RECONCILE_CONSUL_META_N;
}

/* The same map, whatever the order of its keys. */
static bool
reconcile_map_same(const struct proto_strmap *a, const struct proto_strmap *b)
{
	if (a->n != b->n)
		return false;
	for (uint32_t i = 0; i < a->n; i++) {
		bool found = false;

		for (uint32_t j = 0; j < b->n && !found; j++)
			found = reconcile_str_same(a->keys[i], b->keys[j]) &&
			    reconcile_str_same(a->vals[i], b->vals[j]);
		if (!found)
			return false;
	}
	return true;
}

static const struct proto_cat_check *
reconcile_serf_find(const struct catalog_read *cr)
{
	for (uint32_t i = 0; i < cr->res.n_checks; i++)
		if (proto_str_eq(cr->res.checks[i].check_id,
		    RECONCILE_SERF_CHECK) &&
		    cr->res.checks[i].service_id.len == 0)
			return &cr->res.checks[i];
	return NULL;
}

/* Reads m's node (and services) into rr->node, its checks into
 * rr->checks. */
static int
reconcile_read_node(struct catalog *cat, struct reconcile_reads *rr,
    struct proto_str name)
{
	struct msg_catalog_get q;
	int rc;

	memset(&q, 0, sizeof(q));
	q.what = CATALOG_NODE;
	q.name = name;
	if ((rc = catalog_get(cat, &q, &rr->node)) != 0)
		return rc;
	q.what = CATALOG_HEALTH_NODE;
	return catalog_get(cat, &q, &rr->checks);
}

/* The node record of a registration for m (existing: its ID, tagged
 * addresses and meta are kept). */
static void
reconcile_fill_node(struct reconcile_write *w, const struct reconcile_ctx *ctx,
    const struct proto_member *m, const struct proto_cat_node *cur)
{
	w->reg.node.node = m->name;
	w->reg.node.address = m->addr;
	w->reg.node.datacenter = proto_str_c(ctx->dc);
	w->reg.node.id = reconcile_tag(m, "id");
	if (cur == NULL)
		return;
	if (cur->id.len > 0)
		w->reg.node.id = cur->id;
	w->reg.node.tagged_addresses = cur->tagged_addresses;
	w->reg.node.meta = cur->meta;
}

static void
reconcile_fill_check(struct reconcile_write *w, const struct proto_member *m,
    bool alive)
{
	w->chk.node = m->name;
	w->chk.check_id = proto_str_c(RECONCILE_SERF_CHECK);
	w->chk.name = proto_str_c(RECONCILE_SERF_NAME);
	w->chk.status = proto_str_c(alive ? "passing" : "critical");
	w->chk.output = proto_str_c(alive ? RECONCILE_ALIVE_OUTPUT :
	    RECONCILE_FAILED_OUTPUT);
	w->reg.checks = &w->chk;
	w->reg.n_checks = 1;
}

/* handleAliveMember */
static void
reconcile_plan_alive(struct reconcile_reads *rr,
    const struct reconcile_ctx *ctx,
    const struct proto_member *m, bool server, struct reconcile_write *w)
{
	const struct catalog_read *n = &rr->node;
	const struct proto_cat_node *cur = n->res.found &&
	    n->res.n_nodes == 1 ? &n->res.nodes[0] : NULL;
	const struct proto_cat_check *chk = reconcile_serf_find(&rr->checks);
	uint32_t port = server ? reconcile_port(m, w->port_buf,
	    sizeof(w->port_buf)) : 0;
	struct proto_strmap meta;
	bool svc_ok = !server;

	reconcile_consul_meta(&w->meta, reconcile_tag(m, "build"),
	    reconcile_tag(m, "raft_vsn"),
	    proto_str_eq(reconcile_tag(m, "nonvoter"), "1"),
	    proto_str_eq(reconcile_tag(m, "read_replica"), "1"), &meta);
	for (uint32_t i = 0; server && i < n->res.n_services; i++)
		if (proto_str_eq(n->res.services[i].id, "consul") &&
		    proto_str_eq(n->res.services[i].service, "consul") &&
		    n->res.services[i].port == port &&
		    reconcile_map_same(&n->res.services[i].meta, &meta))
			svc_ok = true;
	if (cur != NULL && svc_ok &&
	    reconcile_str_same(cur->address, m->addr) &&
	    chk != NULL && proto_str_eq(chk->status, "passing"))
		return;
	w->kind = RECONCILE_REGISTER;
	w->why = "alive";
	reconcile_fill_node(w, ctx, m, cur);
	reconcile_fill_check(w, m, true);
	if (server) {
		w->svc.node = m->name;
		w->svc.id = proto_str_c("consul");
		w->svc.service = proto_str_c("consul");
		w->svc.port = port;
		w->svc.meta = meta;
		w->svc.weight_passing = 1;
		w->svc.weight_warning = 1;
		w->reg.services = &w->svc;
		w->reg.n_services = 1;
	}
}

/* handleFailedMember: the node record stays as it is (SkipNodeUpdate). */
static void
reconcile_plan_failed(struct reconcile_reads *rr,
    const struct reconcile_ctx *ctx,
    const struct proto_member *m, struct reconcile_write *w)
{
	const struct catalog_read *n = &rr->node;
	const struct proto_cat_node *cur = n->res.found &&
	    n->res.n_nodes == 1 ? &n->res.nodes[0] : NULL;
	const struct proto_cat_check *chk = reconcile_serf_find(&rr->checks);

	if (cur != NULL && chk != NULL &&
	    reconcile_str_same(cur->address, m->addr) &&
	    proto_str_eq(chk->status, "critical"))
		return;
	w->kind = RECONCILE_REGISTER;
	w->why = "failed";
	reconcile_fill_node(w, ctx, m, cur);
	w->reg.skip_node_update = cur != NULL;
	reconcile_fill_check(w, m, false);
}

int
reconcile_plan_member(struct catalog *cat, struct reconcile_reads *rr,
    const struct reconcile_ctx *ctx, const struct proto_member *m,
    enum reconcile_state st, struct reconcile_write *w)
{
	bool server;
	int rc;

	memset(w, 0, sizeof(*w));
	w->kind = RECONCILE_NONE;
	if (st == RECONCILE_IGNORE || !reconcile_ours(ctx, m, &server))
		return 0;
	if (st == RECONCILE_LEFT && ctx->self != NULL &&
	    reconcile_name_same(m->name, proto_str_c(ctx->self)))
		return 0; /* never deregister the leader itself */
	if ((rc = reconcile_read_node(cat, rr, m->name)) != 0)
		return rc;
	switch (st) {
	case RECONCILE_ALIVE:
		reconcile_plan_alive(rr, ctx, m, server, w);
		break;
	case RECONCILE_FAILED:
		reconcile_plan_failed(rr, ctx, m, w);
		break;
	case RECONCILE_LEFT:
		if (!rr->node.res.found)
			break;
		w->kind = RECONCILE_DEREGISTER;
		w->why = "left";
		w->dereg.node = m->name;
		break;
	case RECONCILE_IGNORE:
		break;
	}
	return 0;
}

int
reconcile_plan_self_down(struct catalog *cat, struct reconcile_reads *rr,
    const struct reconcile_ctx *ctx, struct reconcile_write *w)
{
	struct proto_member self;
	const struct catalog_read *n = &rr->node;
	int rc;

	memset(w, 0, sizeof(*w));
	w->kind = RECONCILE_NONE;
	if (ctx->self == NULL || *ctx->self == '\0')
		return 0;
	if ((rc = reconcile_read_node(cat, rr, proto_str_c(ctx->self))) != 0)
		return rc;
	if (!n->res.found || n->res.n_nodes != 1)
		return 0; /* catalog_self.c registers it first */
	/* the node as the catalog has it: only the check changes */
	memset(&self, 0, sizeof(self));
	self.name = n->res.nodes[0].node;
	self.addr = n->res.nodes[0].address;
	reconcile_plan_failed(rr, ctx, &self, w);
	if (w->kind == RECONCILE_REGISTER)
		w->why = "gossipd not answering";
	return 0;
}

int
reconcile_plan_reaped(struct catalog *cat, struct reconcile_reads *rr,
    const struct reconcile_ctx *ctx, const struct proto_member *members,
    size_t n, reconcile_reap_cb cb, void *arg)
{
	struct proto_str self = proto_str_c(ctx->self ? ctx->self : "");
	struct msg_catalog_get q;
	bool self_known = false;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (reconcile_name_same(members[i].name, self))
			self_known = true;
	if (!self_known || self.len == 0)
		return 0;
	memset(&q, 0, sizeof(q));
	q.what = CATALOG_HEALTH_STATE;
	q.name = proto_str_c("any");
	if ((rc = catalog_get(cat, &q, &rr->checks)) != 0)
		return rc;
	for (uint32_t i = 0; i < rr->checks.res.n_checks; i++) {
		const struct proto_cat_check *c = &rr->checks.res.checks[i];
		bool known = false;

		if (!proto_str_eq(c->check_id, RECONCILE_SERF_CHECK) ||
		    c->service_id.len != 0 ||
		    reconcile_name_same(c->node, self))
			continue;
		for (size_t j = 0; j < n && !known; j++)
			known = reconcile_name_same(members[j].name, c->node);
		if (!known)
			cb(arg, c->node);
	}
	return 0;
}

/* ---- the reap grace ---- */

void
reconcile_grace_begin(struct reconcile_grace *g)
{
	for (size_t i = 0; i < g->n; i++)
		g->v[i].seen = false;
}

static struct reconcile_absent *
reconcile_grace_find(struct reconcile_grace *g, struct proto_str node)
{
	for (size_t i = 0; i < g->n; i++)
		if (reconcile_name_same(proto_str_c(g->v[i].name), node))
			return &g->v[i];
	return NULL;
}

bool
reconcile_grace_due(struct reconcile_grace *g, struct proto_str node,
    uint64_t now_ms)
{
	struct reconcile_absent *a;

	if (node.len > RECONCILE_NAME_MAX)
		return false;
	if ((a = reconcile_grace_find(g, node)) == NULL) {
		if (g->n == g->cap) {
			size_t cap = g->cap ? g->cap * 2 : 8;
			struct reconcile_absent *v = realloc(g->v,
			    cap * sizeof(*v));

			if (v == NULL)
				return false;
			g->v = v;
			g->cap = cap;
		}
		a = &g->v[g->n++];
		memset(a, 0, sizeof(*a));
		memcpy(a->name, node.ptr, node.len);
		a->since_ms = now_ms;
		log_info("reconcile: node %s is not a member: reaped in %u s "
		    "unless it joins", a->name,
		    RECONCILE_REAP_GRACE_MS / 1000);
	}
	if (now_ms - a->since_ms < RECONCILE_REAP_GRACE_MS) {
		a->seen = true;
		return false;
	}
	return true; /* not seen: forgotten by the pass's end */
}

void
reconcile_grace_end(struct reconcile_grace *g)
{
	size_t i, j;

	for (i = j = 0; i < g->n; i++)
		if (g->v[i].seen)
			g->v[j++] = g->v[i];
	g->n = j;
}

void
reconcile_grace_fini(struct reconcile_grace *g)
{
	free(g->v);
	memset(g, 0, sizeof(*g));
}

/* ---- raftd glue ---- */

struct reconcile {
	struct raftd *rd;
	struct reconcile_reads rr;
	uint64_t last_full_ms;
	uint64_t now_ms; /* of the pass running */
	uint64_t digest; /* of the last fully reconciled member list */
	bool full_pending; /* leadership gained: reconcile the next list */
	struct reconcile_grace grace; /* reap candidates */
};

static struct reconcile *
reconcile_get(struct raftd *rd)
{
	if (rd->recon == NULL) {
		if ((rd->recon = calloc(1, sizeof(*rd->recon))) == NULL)
			return NULL;
		reconcile_reads_init(&rd->recon->rr);
		rd->recon->rd = rd;
		rd->recon->full_pending = true;
	}
	return rd->recon;
}

static void
reconcile_ctx_of(const struct raftd *rd, struct reconcile_ctx *ctx)
{
	ctx->self = rd->cfg->node_name;
	ctx->dc = rd->cfg->datacenter && *rd->cfg->datacenter ?
	    rd->cfg->datacenter : "dc1";
}

static void
reconcile_submit(struct raftd *rd, uint32_t type, const void *body,
    struct proto_str node, const char *why)
{
	struct proto_buf b;
	int rc;

	if ((rc = proto_encode(type, 0, body, &b)) != 0) {
		log_warnx("reconcile: cannot encode the write for %.*s: %s",
		    (int)node.len, node.ptr, err_str(rc));
		return;
	}
	rc = pipeline_submit_internal(rd, STORE_ENTRY_COMMAND, b.data, b.len);
	proto_buf_free(&b);
	if (rc != 0)
		log_warnx("reconcile: cannot write member %.*s (%s): %s",
		    (int)node.len, node.ptr, why, err_str(rc));
	else
		log_info("reconcile: member %.*s %s: %s", (int)node.len,
		    node.ptr, why, type == MSG_CATALOG_DEREGISTER ?
		    "node deregistered" : "serfHealth updated");
}

static bool
reconcile_may_write(const struct raftd *rd)
{
	return rd->leader && !rd->stopping && rd->cat != NULL;
}

static void
reconcile_one(struct raftd *rd, struct reconcile *r,
    const struct proto_member *m,
    enum reconcile_state st)
{
	struct reconcile_ctx ctx;
	struct reconcile_write w;
	int rc;

	reconcile_ctx_of(rd, &ctx);
	/* the leader's own node is catalog_self.c's, appended on election:
	 * no plan on a catalog that has not applied it yet (it would drop
	 * the tagged addresses); the next list is reconciled in full (an
	 * earlier write of this pass defers it too) */
	if (rd->raft != NULL && ctx.self != NULL &&
	    raft_applied_index(rd->raft) < raft_last_index(rd->raft) &&
	    reconcile_name_same(m->name, proto_str_c(ctx.self))) {
		r->full_pending = true;
		return;
	}
	if ((rc = reconcile_plan_member(rd->cat, &r->rr, &ctx, m, st,
	    &w)) != 0) {
		log_warnx("reconcile: member %.*s: %s", (int)m->name.len,
		    m->name.ptr, err_str(rc));
		return;
	}
	if (w.kind == RECONCILE_REGISTER)
		reconcile_submit(rd, MSG_CATALOG_REGISTER, &w.reg, m->name,
		    w.why);
	else if (w.kind == RECONCILE_DEREGISTER)
		reconcile_submit(rd, MSG_CATALOG_DEREGISTER, &w.dereg, m->name,
		    w.why);
}

static void
reconcile_reap(void *arg, struct proto_str node)
{
	struct reconcile *r = arg;
	struct msg_catalog_deregister d;

	if (!reconcile_grace_due(&r->grace, node, r->now_ms))
		return;
	memset(&d, 0, sizeof(d));
	d.node = node;
	reconcile_submit(r->rd, MSG_CATALOG_DEREGISTER, &d, node, "reaped");
}

/* Consul's reconcileReaped pass over this list; candidates that are no
 * longer missing (they joined, or are gone) are forgotten. */
static void
reconcile_reaped(struct raftd *rd, struct reconcile *r,
    const struct proto_member *members, size_t n)
{
	struct reconcile_ctx ctx;
	int rc;

	reconcile_grace_begin(&r->grace);
	reconcile_ctx_of(rd, &ctx);
	if ((rc = reconcile_plan_reaped(rd->cat, &r->rr, &ctx, members, n,
	    reconcile_reap, r)) != 0) {
		log_warnx("reconcile: reaped members: %s", err_str(rc));
		return; /* the candidates stay as they were */
	}
	reconcile_grace_end(&r->grace);
}

void
reconcile_member_event(struct raftd *rd, const struct proto_member *m,
    uint8_t event)
{
	struct reconcile *r;

	if (!reconcile_may_write(rd) || (r = reconcile_get(rd)) == NULL)
		return;
	reconcile_one(rd, r, m, reconcile_state_of_event(event, m->status));
}

/* FNV-1a over what a reconcile looks at. */
static uint64_t
reconcile_fnv(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* The digest of a member list, whatever its order (a sum of the
 * members' hashes). */
static uint64_t
reconcile_digest(const struct proto_member *members, size_t n)
{
	uint64_t sum = n;

	for (size_t i = 0; i < n; i++) {
		const struct proto_member *m = &members[i];
		struct proto_str port = reconcile_tag(m, "port");
		uint64_t h = 14695981039346656037ull;

		h = reconcile_fnv(h, m->name.ptr, m->name.len);
		h = reconcile_fnv(h, "\0", 1);
		h = reconcile_fnv(h, m->addr.ptr, m->addr.len);
		h = reconcile_fnv(h, &m->status, 1);
		h = reconcile_fnv(h, port.ptr, port.len);
		sum += h;
	}
	return sum;
}

void
reconcile_member_list(struct raftd *rd, const struct proto_member *members,
    size_t n)
{
	struct reconcile *r;
	uint64_t now, digest;

	if (!reconcile_may_write(rd) || (r = reconcile_get(rd)) == NULL)
		return;
	now = loop_now_ms(rd->loop);
	r->now_ms = now;
	digest = reconcile_digest(members, n);
	if (!r->full_pending && digest == r->digest &&
	    now - r->last_full_ms < RECONCILE_INTERVAL_MS) {
		if (r->grace.n > 0) /* candidates wait out their grace */
			reconcile_reaped(rd, r, members, n);
		return;
	}
	r->full_pending = false;
	r->digest = digest;
	r->last_full_ms = now;
	log_debug("reconcile: %zu members", n);
	for (size_t i = 0; i < n; i++)
		reconcile_one(rd, r, &members[i],
		    reconcile_state_of_status(members[i].status));
	reconcile_reaped(rd, r, members, n);
}

void
reconcile_gossip_silent(struct raftd *rd, uint64_t silent_ms)
{
	struct reconcile_ctx ctx;
	struct reconcile_write w;
	struct reconcile *r;
	int rc;

	if (silent_ms < RECONCILE_SELF_DOWN_MS || !reconcile_may_write(rd) ||
	    (r = reconcile_get(rd)) == NULL)
		return;
	r->full_pending = true; /* gossipd back: its list in full */
	/* as reconcile_one: not before catalog_self.c's entry applied */
	if (rd->raft != NULL &&
	    raft_applied_index(rd->raft) < raft_last_index(rd->raft))
		return;
	reconcile_ctx_of(rd, &ctx);
	if ((rc = reconcile_plan_self_down(rd->cat, &r->rr, &ctx, &w)) != 0) {
		log_warnx("reconcile: own node %s: %s", ctx.self, err_str(rc));
		return;
	}
	if (w.kind == RECONCILE_REGISTER)
		reconcile_submit(rd, MSG_CATALOG_REGISTER, &w.reg,
		    w.reg.node.node, w.why);
}

void
reconcile_leader(struct raftd *rd)
{
	struct reconcile *r;

	if ((r = reconcile_get(rd)) != NULL) {
		r->full_pending = true;
		r->grace.n = 0; /* a new term starts the grace again */
	}
}

void
reconcile_close(struct raftd *rd)
{
	if (rd->recon == NULL)
		return;
	reconcile_reads_fini(&rd->recon->rr);
	reconcile_grace_fini(&rd->recon->grace);
	free(rd->recon);
	rd->recon = NULL;
}
