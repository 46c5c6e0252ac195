/*
 * test_reconcile.c — the leader's reconcile plans (raftd/reconcile.c)
 * against a real catalog in a mkdtemp store: an alive member registered
 * with serfHealth passing (a server with the consul service and its
 * ServiceMeta from the member's tags) and then
 * left alone (no write, no index moved), the node's ID, tagged addresses
 * and meta kept, a failed member's serfHealth critical with its services
 * kept and out of ?passing, left members deregistered but never this
 * server, members of another datacenter or leaving ignored, reaped
 * nodes (serfHealth, not a member) found and deregistered only after
 * the grace of lists without them, the leader's own serfHealth critical
 * when its gossipd is not answering (once) and passing again, and the sessions a failed or
 * deregistered node breaks reported invalid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "msg_member.h"
#include "msg_session.h"
#include "raftd/catalog.h"
#include "raftd/kv.h"
#include "raftd/reconcile.h"
#include "raftd/session.h"
#include "raftd/store.h"

#define S(x) proto_str_c(x)

struct fx {
	char dir[64];
	char raft[96];
	struct store *s;
	struct kv *kv;
	struct catalog *cat;
	struct reconcile_reads rr;
	struct catalog_read cr;
	struct session_read sr;
	struct reconcile_ctx ctx;
	uint64_t next;
};

/* A member with its tags (role consul|node, dc, id, port). */
struct mem {
	struct proto_member m;
	struct proto_str k[4], v[4];
	char port[16];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	strcpy(f->dir, "/tmp/test_reconcile.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->raft, sizeof(f->raft), "%s/raft", f->dir);
	assert_int_equal(store_open(f->raft, &f->s, err, sizeof(err)), 0);
	assert_int_equal(kv_open(f->s, &f->kv), 0);
	assert_int_equal(catalog_open(f->s, f->kv, &f->cat), 0);
	f->next = kv_applied_index(f->kv) + 1;
	reconcile_reads_init(&f->rr);
	catalog_read_init(&f->cr);
	session_read_init(&f->sr);
	f->ctx.self = "leader";
	f->ctx.dc = "dc1";
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	session_read_fini(&f->sr);
	catalog_read_fini(&f->cr);
	reconcile_reads_fini(&f->rr);
	catalog_free(f->cat);
	kv_free(f->kv);
	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
mem_init(struct mem *x, const char *name, const char *addr, bool server,
    const char *dc, uint32_t port, uint8_t status)
{
	memset(x, 0, sizeof(*x));
	snprintf(x->port, sizeof(x->port), "%u", port);
	x->m.name = S(name);
	x->m.addr = S(addr);
	x->m.port = 8301;
	x->m.status = status;
	x->k[0] = S("role");
	x->v[0] = S(server ? "consul" : "node");
	x->k[1] = S("dc");
	x->v[1] = S(dc);
	x->k[2] = S("id");
	x->v[2] = S("11111111-2222-3333-4444-555555555555");
	x->k[3] = S("port");
	x->v[3] = S(x->port);
	x->m.tags.keys = x->k;
	x->m.tags.vals = x->v;
	x->m.tags.n = server ? 4 : 3;
}

/* Plans m in st and applies the write, if any; returns its kind. */
static enum reconcile_kind
step(struct fx *f, const struct mem *x, enum reconcile_state st)
{
	struct reconcile_write w;
	struct kv_result res;

	assert_int_equal(reconcile_plan_member(f->cat, &f->rr, &f->ctx, &x->m,
	    st, &w), 0);
	memset(&res, 0, sizeof(res));
	if (w.kind == RECONCILE_REGISTER)
		assert_int_equal(catalog_register(f->cat, f->next++, &w.reg,
		    &res, NULL, NULL), 0);
	else if (w.kind == RECONCILE_DEREGISTER)
		assert_int_equal(catalog_deregister(f->cat, f->next++,
		    &w.dereg, &res, NULL, NULL), 0);
	assert_int_equal(res.err, 0);
	return w.kind;
}

static void
get(struct fx *f, uint8_t what, const char *name, bool passing)
{
	struct msg_catalog_get q;

	memset(&q, 0, sizeof(q));
	q.what = what;
	q.name = S(name);
	q.passing = passing;
	assert_int_equal(catalog_get(f->cat, &q, &f->cr), 0);
}

static const struct proto_cat_check *
serf(struct fx *f, const char *node)
{
	get(f, CATALOG_HEALTH_NODE, node, false);
	for (uint32_t i = 0; i < f->cr.res.n_checks; i++)
		if (proto_str_eq(f->cr.res.checks[i].check_id, "serfHealth"))
			return &f->cr.res.checks[i];
	return NULL;
}

static void
reg_service(struct fx *f, const char *node, const char *svc)
{
	struct msg_catalog_register m;
	struct proto_cat_service s;
	struct kv_result res;

	memset(&m, 0, sizeof(m));
	memset(&s, 0, sizeof(s));
	m.node.node = S(node);
	m.node.address = S("127.0.0.2");
	s.id = S(svc);
	s.service = S(svc);
	s.port = 80;
	m.services = &s;
	m.n_services = 1;
	assert_int_equal(catalog_register(f->cat, f->next++, &m, &res, NULL,
	    NULL), 0);
	assert_int_equal(res.err, 0);
}

static void
test_alive_server_registered_once(void **state)
{
	struct fx *f = *state;
	const struct proto_cat_check *c;
	struct mem x;
	uint64_t idx;

	mem_init(&x, "s2", "127.0.0.2", true, "dc1", 8300, 1);
	assert_int_equal(step(f, &x, RECONCILE_ALIVE), RECONCILE_REGISTER);
	get(f, CATALOG_NODE, "s2", false);
	assert_true(f->cr.res.found);
	assert_true(proto_str_eq(f->cr.res.nodes[0].address, "127.0.0.2"));
	assert_true(proto_str_eq(f->cr.res.nodes[0].id,
	    "11111111-2222-3333-4444-555555555555"));
	assert_true(proto_str_eq(f->cr.res.nodes[0].datacenter, "dc1"));
	assert_int_equal(f->cr.res.n_services, 1);
	assert_true(proto_str_eq(f->cr.res.services[0].service, "consul"));
	assert_int_equal(f->cr.res.services[0].port, 8300);
	c = serf(f, "s2");
	assert_non_null(c);
	assert_true(proto_str_eq(c->status, "passing"));
	assert_true(proto_str_eq(c->output, "Agent alive and reachable"));
	assert_true(proto_str_eq(c->name, "Serf Health Status"));
	/* again: the catalog agrees, nothing is written */
	idx = catalog_checks_index(f->cat);
	assert_int_equal(step(f, &x, RECONCILE_ALIVE), RECONCILE_NONE);
	assert_int_equal(catalog_checks_index(f->cat), idx);
	/* the consul service on another port is rewritten */
	x.v[3] = S("8400");
	assert_int_equal(step(f, &x, RECONCILE_ALIVE), RECONCILE_REGISTER);
	get(f, CATALOG_NODE, "s2", false);
	assert_int_equal(f->cr.res.services[0].port, 8400);
	assert_int_equal(step(f, &x, RECONCILE_ALIVE), RECONCILE_NONE);
}

/* The value of key k in map m ("" when absent). */
static const char *
meta_of(const struct proto_strmap *m, const char *k, char *buf, size_t size)
{
	buf[0] = '\0';
	for (uint32_t i = 0; i < m->n; i++)
		if (proto_str_eq(m->keys[i], k))
			snprintf(buf, size, "%.*s", (int)m->vals[i].len,
			    m->vals[i].ptr);
	return buf;
}

/* The consul service carries Consul's ServiceMeta, from the member's
 * tags; a member whose tags change it is registered again. */
static void
test_consul_service_meta(void **state)
{
	struct fx *f = *state;
	struct proto_str k[7], v[7];
	const struct proto_strmap *meta;
	struct mem x;
	char b[64];

	mem_init(&x, "s3", "127.0.0.3", true, "dc1", 8300, 1);
	memcpy(k, x.k, sizeof(x.k));
	memcpy(v, x.v, sizeof(x.v));
	k[4] = S("build");
	v[4] = S("1.21.4:cairn");
	k[5] = S("raft_vsn");
	v[5] = S("3");
	k[6] = S("nonvoter");
	v[6] = S("1");
	x.m.tags.keys = k;
	x.m.tags.vals = v;
	x.m.tags.n = 7;
	assert_int_equal(step(f, &x, RECONCILE_ALIVE), RECONCILE_REGISTER);
	get(f, CATALOG_SERVICE, "consul", false);
	assert_int_equal(f->cr.res.n_services, 1);
	meta = &f->cr.res.services[0].meta;
	assert_int_equal(meta->n, 7);
	assert_string_equal(meta_of(meta, "version", b, sizeof(b)), "1.21.4");
	assert_string_equal(meta_of(meta, "raft_version", b, sizeof(b)), "3");
	assert_string_equal(meta_of(meta, "non_voter", b, sizeof(b)), "true");
	assert_string_equal(meta_of(meta, "read_replica", b, sizeof(b)),
	    "false");
	assert_string_equal(meta_of(meta, "serf_protocol_current", b,
	    sizeof(b)), "2");
	assert_string_equal(meta_of(meta, "serf_protocol_max", b, sizeof(b)),
	    "5");
	assert_string_equal(meta_of(meta, "serf_protocol_min", b, sizeof(b)),
	    "1");
	assert_int_equal(f->cr.res.services[0].port, 8300);
	assert_int_equal(step(f, &x, RECONCILE_ALIVE), RECONCILE_NONE);
	/* an upgraded server: its version is written */
	v[4] = S("1.22.0-dev:abcdef");
	assert_int_equal(step(f, &x, RECONCILE_ALIVE), RECONCILE_REGISTER);
	get(f, CATALOG_SERVICE, "consul", false);
	assert_string_equal(meta_of(&f->cr.res.services[0].meta, "version", b,
	    sizeof(b)), "1.22.0");
	assert_int_equal(step(f, &x, RECONCILE_ALIVE), RECONCILE_NONE);
}

static void
test_consul_meta_version(void **state)
{
	struct reconcile_consul_meta cm;
	struct proto_strmap m;
	char b[64];

	(void)state;
	reconcile_consul_meta(&cm, S("v10.2.33:x"), S(""), false, true, &m);
	assert_string_equal(meta_of(&m, "version", b, sizeof(b)), "10.2.33");
	assert_string_equal(meta_of(&m, "raft_version", b, sizeof(b)), "0");
	assert_string_equal(meta_of(&m, "read_replica", b, sizeof(b)), "true");
	reconcile_consul_meta(&cm, S("1.2:x 3.4.5"), S("3"), false, false,
	    &m);
	assert_string_equal(meta_of(&m, "version", b, sizeof(b)), "3.4.5");
	reconcile_consul_meta(&cm, S("1.2."), S("3"), false, false, &m);
	assert_string_equal(meta_of(&m, "version", b, sizeof(b)), "");
}

static void
test_alive_keeps_node_fields(void **state)
{
	struct fx *f = *state;
	struct msg_catalog_register m;
	struct proto_str tk[1] = { S("lan") }, tv[1] = { S("10.0.0.1") };
	struct proto_str mk[1] = { S("rack") }, mv[1] = { S("r1") };
	struct kv_result res;
	struct mem x;

	/* the agent's anti-entropy registered its node */
	memset(&m, 0, sizeof(m));
	m.node.node = S("c1");
	m.node.id = S("aaaaaaaa-2222-3333-4444-555555555555");
	m.node.address = S("127.0.0.3");
	m.node.tagged_addresses.keys = tk;
	m.node.tagged_addresses.vals = tv;
	m.node.tagged_addresses.n = 1;
	m.node.meta.keys = mk;
	m.node.meta.vals = mv;
	m.node.meta.n = 1;
	assert_int_equal(catalog_register(f->cat, f->next++, &m, &res, NULL,
	    NULL), 0);
	mem_init(&x, "c1", "127.0.0.3", false, "dc1", 0, 1);
	assert_int_equal(step(f, &x, RECONCILE_ALIVE), RECONCILE_REGISTER);
	get(f, CATALOG_NODE, "c1", false);
	assert_int_equal(f->cr.res.n_services, 0); /* a client: no consul */
	assert_true(proto_str_eq(f->cr.res.nodes[0].id,
	    "aaaaaaaa-2222-3333-4444-555555555555"));
	assert_int_equal(f->cr.res.nodes[0].tagged_addresses.n, 1);
	assert_true(proto_str_eq(f->cr.res.nodes[0].tagged_addresses.vals[0],
	    "10.0.0.1"));
	assert_int_equal(f->cr.res.nodes[0].meta.n, 1);
	assert_true(proto_str_eq(f->cr.res.nodes[0].meta.vals[0], "r1"));
	assert_int_equal(step(f, &x, RECONCILE_ALIVE), RECONCILE_NONE);
}

static void
test_failed_then_alive(void **state)
{
	struct fx *f = *state;
	const struct proto_cat_check *c;
	struct mem x;
	uint64_t nidx;

	mem_init(&x, "c2", "127.0.0.2", false, "dc1", 0, 1);
	assert_int_equal(step(f, &x, RECONCILE_ALIVE), RECONCILE_REGISTER);
	reg_service(f, "c2", "web");
	get(f, CATALOG_HEALTH_SERVICE, "web", true);
	assert_int_equal(f->cr.res.n_services, 1);
	nidx = catalog_nodes_index(f->cat);
	x.m.status = 4;
	assert_int_equal(step(f, &x, reconcile_state_of_status(x.m.status)),
	    RECONCILE_REGISTER);
	c = serf(f, "c2");
	assert_non_null(c);
	assert_true(proto_str_eq(c->status, "critical"));
	assert_true(proto_str_eq(c->output, "Agent not live or unreachable"));
	assert_int_equal(catalog_nodes_index(f->cat), nidx); /* node kept */
	get(f, CATALOG_HEALTH_SERVICE, "web", true);
	assert_int_equal(f->cr.res.n_services, 0); /* out of ?passing */
	get(f, CATALOG_HEALTH_SERVICE, "web", false);
	assert_int_equal(f->cr.res.n_services, 1); /* but still there */
	assert_int_equal(step(f, &x, RECONCILE_FAILED), RECONCILE_NONE);
	/* it comes back */
	assert_int_equal(step(f, &x, reconcile_state_of_event(MEMBER_EV_JOIN,
	    1)), RECONCILE_REGISTER);
	assert_true(proto_str_eq(serf(f, "c2")->status, "passing"));
	get(f, CATALOG_HEALTH_SERVICE, "web", true);
	assert_int_equal(f->cr.res.n_services, 1);
}

static void
test_failed_unknown_node_registered(void **state)
{
	struct fx *f = *state;
	struct mem x;

	mem_init(&x, "c9", "127.0.0.9", false, "dc1", 0, 4);
	assert_int_equal(step(f, &x, RECONCILE_FAILED), RECONCILE_REGISTER);
	get(f, CATALOG_NODE, "c9", false);
	assert_true(f->cr.res.found);
	assert_true(proto_str_eq(serf(f, "c9")->status, "critical"));
}

static void
test_left_deregistered_never_self(void **state)
{
	struct fx *f = *state;
	struct mem x, self;

	mem_init(&x, "c3", "127.0.0.3", false, "dc1", 0, 1);
	assert_int_equal(step(f, &x, RECONCILE_ALIVE), RECONCILE_REGISTER);
	reg_service(f, "c3", "api");
	assert_int_equal(step(f, &x, reconcile_state_of_event(MEMBER_EV_LEFT,
	    3)), RECONCILE_DEREGISTER);
	get(f, CATALOG_NODE, "c3", false);
	assert_false(f->cr.res.found);
	get(f, CATALOG_HEALTH_SERVICE, "api", false);
	assert_int_equal(f->cr.res.n_services, 0);
	assert_null(serf(f, "c3"));
	/* gone already: nothing more */
	assert_int_equal(step(f, &x, reconcile_state_of_event(
	    MEMBER_EV_REAPED, 3)), RECONCILE_NONE);
	/* the leader itself (any case) stays */
	mem_init(&self, "Leader", "127.0.0.1", true, "dc1", 8300, 3);
	assert_int_equal(step(f, &self, RECONCILE_ALIVE), RECONCILE_REGISTER);
	assert_int_equal(step(f, &self, RECONCILE_LEFT), RECONCILE_NONE);
	get(f, CATALOG_NODE, "Leader", false);
	assert_true(f->cr.res.found);
}

/* The leader's own gossipd not answering: its serfHealth critical, the
 * node record as it was; once, then passing again from gossip. */
static void
test_self_down(void **state)
{
	struct fx *f = *state;
	struct reconcile_write w;
	struct kv_result res;
	const struct proto_cat_check *c;
	struct mem self;
	uint64_t nidx;

	/* not registered yet: nothing to mark */
	assert_int_equal(reconcile_plan_self_down(f->cat, &f->rr, &f->ctx,
	    &w), 0);
	assert_int_equal(w.kind, RECONCILE_NONE);
	mem_init(&self, "leader", "127.0.0.1", true, "dc1", 8300, 1);
	assert_int_equal(step(f, &self, RECONCILE_ALIVE), RECONCILE_REGISTER);
	nidx = catalog_nodes_index(f->cat);
	assert_int_equal(reconcile_plan_self_down(f->cat, &f->rr, &f->ctx,
	    &w), 0);
	assert_int_equal(w.kind, RECONCILE_REGISTER);
	assert_true(w.reg.skip_node_update);
	memset(&res, 0, sizeof(res));
	assert_int_equal(catalog_register(f->cat, f->next++, &w.reg, &res,
	    NULL, NULL), 0);
	assert_int_equal(res.err, 0);
	c = serf(f, "leader");
	assert_non_null(c);
	assert_true(proto_str_eq(c->status, "critical"));
	assert_true(proto_str_eq(c->output, "Agent not live or unreachable"));
	assert_int_equal(catalog_nodes_index(f->cat), nidx);
	get(f, CATALOG_HEALTH_SERVICE, "consul", true);
	assert_int_equal(f->cr.res.n_services, 0); /* out of ?passing */
	get(f, CATALOG_NODE, "leader", false);
	assert_int_equal(f->cr.res.n_services, 1); /* consul kept */
	/* critical already: no second write */
	assert_int_equal(reconcile_plan_self_down(f->cat, &f->rr, &f->ctx,
	    &w), 0);
	assert_int_equal(w.kind, RECONCILE_NONE);
	/* gossipd lists it alive again */
	assert_int_equal(step(f, &self, RECONCILE_ALIVE), RECONCILE_REGISTER);
	assert_true(proto_str_eq(serf(f, "leader")->status, "passing"));
	assert_true(proto_str_eq(serf(f, "leader")->output,
	    "Agent alive and reachable"));
}

static void
test_ignored_members(void **state)
{
	struct fx *f = *state;
	struct mem x;

	mem_init(&x, "w1", "127.0.0.4", true, "dc2", 8300, 1);
	assert_int_equal(step(f, &x, RECONCILE_ALIVE), RECONCILE_NONE);
	mem_init(&x, "w2", "127.0.0.4", false, "dc1", 0, 2);
	assert_int_equal(reconcile_state_of_status(2), RECONCILE_IGNORE);
	assert_int_equal(step(f, &x, reconcile_state_of_status(2)),
	    RECONCILE_NONE);
	mem_init(&x, "w3", "127.0.0.4", false, "dc1", 0, 1);
	x.v[0] = S("other"); /* not a Consul agent */
	assert_int_equal(step(f, &x, RECONCILE_ALIVE), RECONCILE_NONE);
	get(f, CATALOG_NODES, "", false);
	assert_int_equal(f->cr.res.n_nodes, 0);
}

struct reaped {
	char names[8][32];
	int n;
};

static void
on_reap(void *arg, struct proto_str node)
{
	struct reaped *r = arg;

	assert_true(r->n < 8);
	snprintf(r->names[r->n++], 32, "%.*s", (int)node.len, node.ptr);
}

static void
test_reaped(void **state)
{
	struct fx *f = *state;
	struct mem a, b, self, list[2];
	struct reaped r;

	mem_init(&a, "a", "127.0.0.5", false, "dc1", 0, 1);
	mem_init(&b, "b", "127.0.0.6", false, "dc1", 0, 1);
	mem_init(&self, "leader", "127.0.0.1", true, "dc1", 8300, 1);
	assert_int_equal(step(f, &a, RECONCILE_ALIVE), RECONCILE_REGISTER);
	assert_int_equal(step(f, &b, RECONCILE_ALIVE), RECONCILE_REGISTER);
	assert_int_equal(step(f, &self, RECONCILE_ALIVE), RECONCILE_REGISTER);
	reg_service(f, "ext", "db"); /* no serfHealth: not gossip's */
	list[0] = self;
	list[1] = a;
	memset(&r, 0, sizeof(r));
	{
		struct proto_member ms[2] = { list[0].m, list[1].m };

		assert_int_equal(reconcile_plan_reaped(f->cat, &f->rr, &f->ctx,
		    ms, 2, on_reap, &r), 0);
		assert_int_equal(r.n, 1);
		assert_string_equal(r.names[0], "b");
		/* a list without this server is not trusted */
		memset(&r, 0, sizeof(r));
		assert_int_equal(reconcile_plan_reaped(f->cat, &f->rr, &f->ctx,
		    &ms[1], 1, on_reap, &r), 0);
		assert_int_equal(r.n, 0);
	}
}

static void
test_reap_grace(void **state)
{
	struct reconcile_grace g;
	uint64_t t0 = 5000;

	(void)state;
	memset(&g, 0, sizeof(g));
	/* first seen missing: waits */
	reconcile_grace_begin(&g);
	assert_false(reconcile_grace_due(&g, S("a"), t0));
	assert_false(reconcile_grace_due(&g, S("b"), t0));
	reconcile_grace_end(&g);
	assert_int_equal(g.n, 2);
	/* b is back in the list (not offered): forgotten */
	reconcile_grace_begin(&g);
	assert_false(reconcile_grace_due(&g, S("A"), t0 + 2000));
	reconcile_grace_end(&g);
	assert_int_equal(g.n, 1);
	/* missing again later: its grace starts over */
	reconcile_grace_begin(&g);
	assert_false(reconcile_grace_due(&g, S("a"), t0 + 9999));
	assert_false(reconcile_grace_due(&g, S("b"), t0 + 9999));
	reconcile_grace_end(&g);
	reconcile_grace_begin(&g);
	assert_true(reconcile_grace_due(&g, S("a"), t0 +
	    RECONCILE_REAP_GRACE_MS));
	assert_false(reconcile_grace_due(&g, S("b"), t0 +
	    RECONCILE_REAP_GRACE_MS));
	reconcile_grace_end(&g);
	/* a was due (the caller deregisters it): forgotten */
	assert_int_equal(g.n, 1);
	assert_string_equal(g.v[0].name, "b");
	reconcile_grace_begin(&g);
	assert_true(reconcile_grace_due(&g, S("b"), t0 + 9999 +
	    RECONCILE_REAP_GRACE_MS));
	reconcile_grace_end(&g);
	assert_int_equal(g.n, 0);
	reconcile_grace_fini(&g);
}

static void
test_sessions_invalidated(void **state)
{
	struct fx *f = *state;
	struct msg_session_apply m;
	struct proto_str ck[1] = { S("serfHealth") };
	struct proto_str none = { "", 0 };
	struct kv_result res;
	struct mem x;

	mem_init(&x, "c4", "127.0.0.4", false, "dc1", 0, 1);
	assert_int_equal(step(f, &x, RECONCILE_ALIVE), RECONCILE_REGISTER);
	memset(&m, 0, sizeof(m));
	m.op = SESSION_OP_CREATE;
	m.session.id = S("sess-1");
	m.session.node = S("c4");
	m.session.node_checks.v = ck;
	m.session.node_checks.n = 1;
	assert_int_equal(session_state_apply(f->s, f->kv, f->cat, f->next++,
	    &m, &res, NULL, NULL), 0);
	assert_int_equal(res.err, 0);
	assert_int_equal(session_state_invalid(f->s, f->cat, none, &f->sr), 0);
	assert_int_equal(f->sr.n, 0);
	assert_int_equal(step(f, &x, RECONCILE_FAILED), RECONCILE_REGISTER);
	assert_int_equal(session_state_invalid(f->s, f->cat, S("c4"),
	    &f->sr), 0);
	assert_int_equal(f->sr.n, 1);
	assert_true(proto_str_eq(f->sr.v[0].id, "sess-1"));
	/* deregistered: invalid too */
	assert_int_equal(step(f, &x, RECONCILE_LEFT), RECONCILE_DEREGISTER);
	assert_int_equal(session_state_invalid(f->s, f->cat, S("c4"),
	    &f->sr), 0);
	assert_int_equal(f->sr.n, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_alive_server_registered_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_consul_service_meta,
		    setup, teardown),
		cmocka_unit_test(test_consul_meta_version),
		cmocka_unit_test_setup_teardown(test_alive_keeps_node_fields,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_then_alive, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_unknown_node_registered, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_left_deregistered_never_self, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_down, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ignored_members, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reaped, setup, teardown),
		cmocka_unit_test(test_reap_grace),
		cmocka_unit_test_setup_teardown(test_sessions_invalidated,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
