/*
 * test_dns_feed.c — dnsd/dns_feed.c against an in-process fake raftd: an
 * ipc server on a mkdtemp path answering MSG_CATALOG_GET from a canned
 * catalog, holding blocking reads until the test moves the index.
 * Covers: the first view (nodes, instances, tags, ports, node- and
 * service-level health aggregation, Consul's default weights), a change
 * released from a held blocking read producing a new view, raftd going
 * away (stale, last view kept, no new view) and coming back (current
 * again, a fresh view), an error reply from raftd, allow_stale=false
 * (leader reads) and max_stale (a too-stale rebuild redone from the
 * leader).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dnsd/dns_feed.h"
#include "dnsd/dns_view.h"
#include "err.h"
#include "ipc.h"
#include "loop.h"
#include "proto.h"

static char tmpdir[64];
static char url[256];

/* ---- the fake catalog ---- */

#define MAXREC 128
#define MAXHELD 16

struct fake {
	struct loop *loop;
	struct ipc_server *srv;
	uint64_t index;
	struct proto_cat_node nodes[MAXREC];
	uint32_t nn;
	struct proto_cat_service svcs[MAXREC];
	uint32_t ns;
	struct proto_cat_check checks[MAXREC];
	uint32_t nc;
	struct ipc_req *held[MAXHELD];
	uint64_t held_reqid[MAXHELD];
	struct msg_catalog_get held_q[MAXHELD];
	char held_name[MAXHELD][64];
	int nheld;
	int nreq;
	bool fail; /* answer MSG_ERROR */
	bool allow_leader;      /* accept reads that are not stale */
	uint64_t stale_contact; /* last_contact_ms in stale replies */
	int nleader;            /* leader (default consistency) reads */
	int fail_at;            /* answer request number fail_at with an
				   error, once (0: never) */
	char names[MAXREC][16];
};

static struct proto_str web_tags[] = { { "v1", 2 }, { "primary", 7 } };

static struct proto_str
S(const char *s)
{
	return proto_str_c(s);
}

static void
fake_node(struct fake *f, const char *name, const char *addr)
{
	struct proto_cat_node *n = &f->nodes[f->nn++];

	memset(n, 0, sizeof(*n));
	n->node = S(name);
	n->address = S(addr);
	n->datacenter = S("dc1");
}

static void
fake_svc(struct fake *f, const char *node, const char *id, const char *name,
    uint32_t port, uint32_t wp, uint32_t ww)
{
	struct proto_cat_service *s = &f->svcs[f->ns++];

	memset(s, 0, sizeof(*s));
	s->node = S(node);
	s->id = S(id);
	s->service = S(name);
	s->port = port;
	s->weight_passing = wp;
	s->weight_warning = ww;
	if (strcmp(name, "web") == 0) {
		s->tags.v = web_tags;
		s->tags.n = 2;
	}
}

static void
fake_check(struct fake *f, const char *node, const char *id,
    const char *sid, const char *status)
{
	struct proto_cat_check *c = &f->checks[f->nc++];

	memset(c, 0, sizeof(*c));
	c->node = S(node);
	c->check_id = S(id);
	c->service_id = S(sid);
	c->status = S(status);
}

/* Fills r with the answer to q (arrays point into f or a scratch). */
static void
fake_answer(struct fake *f, const struct msg_catalog_get *q,
    struct msg_catalog_get_result *r, struct proto_cat_service *scratch)
{
	uint32_t i, j, k;

	memset(r, 0, sizeof(*r));
	r->meta.index = f->index;
	r->meta.known_leader = true;
	if (q->opts.consistency == PROTO_CONSISTENCY_STALE)
		r->meta.last_contact_ms = f->stale_contact;
	switch (q->what) {
	case CATALOG_NODES:
		r->nodes = f->nodes;
		r->n_nodes = f->nn;
		break;
	case CATALOG_HEALTH_STATE:
		assert_true(proto_str_eq(q->name, "any"));
		r->checks = f->checks;
		r->n_checks = f->nc;
		break;
	case CATALOG_SERVICES: /* one per name */
		for (i = 0, k = 0; i < f->ns; i++) {
			for (j = 0; j < k; j++)
				if (scratch[j].service.len ==
				    f->svcs[i].service.len &&
				    memcmp(scratch[j].service.ptr,
				    f->svcs[i].service.ptr,
				    f->svcs[i].service.len) == 0)
					break;
			if (j == k) {
				memset(&scratch[k], 0, sizeof(scratch[k]));
				scratch[k++].service = f->svcs[i].service;
			}
		}
		r->services = scratch;
		r->n_services = k;
		break;
	case CATALOG_SERVICE:
		for (i = 0, k = 0; i < f->ns; i++)
			if (f->svcs[i].service.len == q->name.len &&
			    memcmp(f->svcs[i].service.ptr, q->name.ptr,
			    q->name.len) == 0)
				scratch[k++] = f->svcs[i];
		r->services = scratch;
		r->n_services = k;
		break;
	default:
		fail_msg("unexpected catalog read %u", q->what);
	}
}

static void
fake_reply(struct fake *f, struct ipc_req *req, uint64_t reqid,
    const struct msg_catalog_get *q)
{
	struct msg_catalog_get_result r;
	struct proto_cat_service scratch[MAXREC];
	struct proto_buf b;

	if (f->fail || (f->fail_at > 0 && f->nreq == f->fail_at)) {
		assert_int_equal(proto_encode_error(reqid, ERR_INTERNAL, &b,
		    "raftd: state read failed"), 0);
	} else {
		fake_answer(f, q, &r, scratch);
		assert_int_equal(proto_encode(MSG_CATALOG_GET_RESULT, reqid, &r,
		    &b), 0);
	}
	assert_int_equal(ipc_reply(req, b.data, b.len), 0);
	proto_buf_free(&b);
}

static void
fake_request(struct ipc_server *srv, struct ipc_req *req,
    const uint8_t *data, size_t len, void *arg)
{
	struct fake *f = arg;
	struct proto_arena a;
	struct proto_msg m;
	struct msg_catalog_get *q;
	int i;

	f->nreq++;
	proto_arena_init(&a);
	assert_int_equal(proto_decode(data, len, &a, &m), 0);
	assert_int_equal(m.type, MSG_CATALOG_GET);
	q = m.body;
	/* dnsd reads stale (it must answer without a leader) unless the
	 * test allows leader reads */
	if (q->opts.consistency != PROTO_CONSISTENCY_STALE) {
		assert_true(f->allow_leader);
		assert_int_equal(q->opts.consistency,
		    PROTO_CONSISTENCY_DEFAULT);
		f->nleader++;
	}
	if (q->opts.min_index != 0 && q->opts.min_index >= f->index &&
	    !f->fail) {
		assert_true(f->nheld < MAXHELD);
		i = f->nheld++;
		f->held[i] = req;
		f->held_reqid[i] = m.reqid;
		f->held_q[i] = *q;
		assert_true(q->name.len < sizeof(f->held_name[i]));
		memcpy(f->held_name[i], q->name.ptr, q->name.len);
		f->held_name[i][q->name.len] = '\0';
		f->held_q[i].name = S(f->held_name[i]);
		f->held_q[i].tags.n = 0;
		f->held_q[i].node_meta.n = 0;
		proto_arena_free(&a);
		return;
	}
	fake_reply(f, req, m.reqid, q);
	proto_arena_free(&a);
}

/* Moves the index and answers every held blocking read. */
static void
fake_bump(struct fake *f)
{
	int i, n = f->nheld;

	f->index++;
	f->nheld = 0;
	for (i = 0; i < n; i++)
		fake_reply(f, f->held[i], f->held_reqid[i], &f->held_q[i]);
}

static void
fake_open(struct fake *f)
{
	assert_int_equal(ipc_server_open(f->loop, url, fake_request, f,
	    &f->srv), 0);
}

static void
fake_close(struct fake *f)
{
	int i;

	for (i = 0; i < f->nheld; i++)
		ipc_req_drop(f->held[i]);
	f->nheld = 0;
	ipc_server_close(f->srv);
	f->srv = NULL;
}

/* The canned catalog: web on n1 (passing) and n2 (critical), db on n2,
 * a warning node check on n2, n3 without services. */
static void
fake_init(struct fake *f, struct loop *l)
{
	memset(f, 0, sizeof(*f));
	f->loop = l;
	f->index = 10;
	fake_node(f, "n1", "10.0.0.1");
	fake_node(f, "n2", "10.0.0.2");
	fake_node(f, "n3", "10.0.0.3");
	fake_svc(f, "n1", "web1", "web", 80, 0, 0);
	fake_svc(f, "n2", "web2", "web", 81, 10, 2);
	fake_svc(f, "n2", "db", "db", 5432, 0, 0);
	fake_check(f, "n1", "serfHealth", "", "passing");
	fake_check(f, "n1", "web1-http", "web1", "passing");
	fake_check(f, "n2", "mem", "", "warning");
	fake_check(f, "n2", "serfHealth", "", "passing");
	fake_check(f, "n2", "web2-a", "web2", "passing");
	fake_check(f, "n2", "web2-b", "web2", "critical");
}

/* ---- the daemon side ---- */

struct got {
	struct dns_view *view;
	uint64_t index;
	int n;
	struct loop *loop;
	int stop_at;
};

static void
got_view(void *arg, struct dns_view *view, uint64_t index)
{
	struct got *g = arg;

	dns_view_free(g->view);
	g->view = view;
	g->index = index;
	g->n++;
	if (g->n == g->stop_at)
		loop_stop(g->loop);
}

static void
stop_cb(struct loop *l, void *arg)
{
	bool *fired = arg;

	*fired = true;
	loop_stop(l);
}

/* Runs until loop_stop() or ms elapse; returns whether time ran out. */
static bool
run_for(struct loop *l, uint64_t ms)
{
	bool fired = false;
	uint64_t t = loop_timer_add(l, ms, stop_cb, &fired);

	assert_int_equal(loop_run(l), 0);
	loop_timer_cancel(l, t);
	return fired;
}

static const struct dns_view_instance *
find_inst(const struct dns_view *v, const char *svc, const char *id)
{
	const struct dns_view_service *s = dns_view_find_service(v, svc,
	    strlen(svc));
	uint32_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < s->n; i++)
		if (strcmp(s->inst[i]->id, id) == 0)
			return s->inst[i];
	return NULL;
}

static const struct dns_feed_opts fast = {
	.wait_ms = 2000, .call_slack_ms = 1000, .retry_min_ms = 20,
	.retry_max_ms = 100,
};

static void
test_first_view_and_health(void **state)
{
	struct loop *l = loop_new();
	struct fake f;
	struct got g = { .stop_at = 1 };
	struct dns_feed *feed;
	const struct dns_view_node *n;
	const struct dns_view_instance *in;

	assert_non_null(l);
	g.loop = l;
	fake_init(&f, l);
	fake_open(&f);
	assert_int_equal(dns_feed_open(l, url, &fast, got_view, &g, &feed), 0);
	assert_false(run_for(l, 5000));
	assert_int_equal(g.n, 1);
	assert_int_equal(g.index, 10);
	assert_int_equal(dns_feed_index(feed), 10);
	assert_false(dns_feed_stale(feed));
	assert_int_equal(dns_view_node_count(g.view), 3);
	assert_int_equal(dns_view_instance_count(g.view), 3);
	n = dns_view_find_node(g.view, "N2", 2);
	assert_non_null(n);
	assert_int_equal(n->health, DNS_HEALTH_WARNING);
	assert_int_equal(n->addr.family, DNS_ADDR_V4);
	assert_int_equal(n->addr.ip[3], 2);
	n = dns_view_find_node(g.view, "n3", 2);
	assert_non_null(n);
	assert_int_equal(n->health, DNS_HEALTH_PASSING);
	in = find_inst(g.view, "web", "web1");
	assert_non_null(in);
	assert_int_equal(in->port, 80);
	assert_int_equal(in->health, DNS_HEALTH_PASSING);
	assert_int_equal(in->weight_passing, 1); /* Consul's default */
	assert_int_equal(in->weight_warning, 1);
	assert_true(dns_view_instance_has_tag(in, "PRIMARY", 7));
	in = find_inst(g.view, "web", "web2");
	assert_non_null(in);
	assert_int_equal(in->health, DNS_HEALTH_CRITICAL); /* worst check */
	assert_int_equal(in->weight_passing, 10);
	assert_int_equal(in->weight_warning, 2);
	in = find_inst(g.view, "db", "db");
	assert_non_null(in);
	/* no service check; the node's warning counts when answering */
	assert_int_equal(in->health, DNS_HEALTH_PASSING);
	assert_int_equal(dns_view_instance_health(in), DNS_HEALTH_WARNING);
	dns_feed_close(feed);
	fake_close(&f);
	dns_view_free(g.view);
	loop_free(l);
}

static void
test_change_then_outage_then_back(void **state)
{
	struct loop *l = loop_new();
	struct fake f;
	struct got g = { .stop_at = 1 };
	struct dns_feed *feed;
	struct dns_view *before;
	int nreq, i;

	assert_non_null(l);
	g.loop = l;
	fake_init(&f, l);
	fake_open(&f);
	assert_int_equal(dns_feed_open(l, url, &fast, got_view, &g, &feed), 0);
	assert_false(run_for(l, 5000));
	/* let the watches settle into held blocking reads */
	for (i = 0; i < 250 && f.nheld < 3; i++)
		run_for(l, 20);
	assert_int_equal(f.nheld, 3);
	assert_int_equal(g.n, 1);

	/* a change: a new instance; the held reads return, one rebuild */
	fake_svc(&f, "n3", "web3", "web", 82, 0, 0);
	fake_check(&f, "n3", "web3-c", "web3", "warning");
	fake_bump(&f);
	g.stop_at = 2;
	assert_false(run_for(l, 5000));
	assert_int_equal(g.index, 11);
	assert_int_equal(dns_view_instance_count(g.view), 4);
	assert_int_equal(find_inst(g.view, "web", "web3")->health,
	    DNS_HEALTH_WARNING);
	run_for(l, 200);
	assert_int_equal(g.n, 2); /* coalesced: one view for one change */

	/* raftd goes away: stale, the last view is kept, no new view */
	fake_close(&f);
	before = g.view;
	g.stop_at = 100;
	for (i = 0; i < 250 && !dns_feed_stale(feed); i++)
		run_for(l, 20);
	assert_true(dns_feed_stale(feed));
	run_for(l, 300);
	assert_ptr_equal(g.view, before);
	assert_int_equal(g.n, 2);

	/* it comes back (with a change made meanwhile): current again */
	fake_svc(&f, "n1", "db2", "db", 5433, 0, 0);
	f.index = 20;
	nreq = f.nreq;
	fake_open(&f);
	g.stop_at = 3;
	assert_false(run_for(l, 10000));
	assert_true(f.nreq > nreq);
	assert_false(dns_feed_stale(feed));
	assert_int_equal(g.index, 20);
	assert_int_equal(dns_view_instance_count(g.view), 5);
	assert_non_null(find_inst(g.view, "db", "db2"));
	dns_feed_close(feed);
	fake_close(&f);
	dns_view_free(g.view);
	loop_free(l);
}

static void
test_error_reply_is_stale(void **state)
{
	struct loop *l = loop_new();
	struct fake f;
	struct got g = { .stop_at = 1 };
	struct dns_feed *feed;

	assert_non_null(l);
	g.loop = l;
	fake_init(&f, l);
	f.fail = true;
	fake_open(&f);
	assert_int_equal(dns_feed_open(l, url, &fast, got_view, &g, &feed), 0);
	assert_true(run_for(l, 500));
	assert_int_equal(g.n, 0);
	assert_true(dns_feed_stale(feed));
	f.fail = false;
	assert_false(run_for(l, 5000));
	assert_int_equal(g.n, 1);
	assert_false(dns_feed_stale(feed));
	dns_feed_close(feed);
	fake_close(&f);
	dns_view_free(g.view);
	loop_free(l);
}

/* allow_stale=false reads the leader; max_stale exceeded re-reads it. */
static void
test_consistency(void **state)
{
	struct loop *l = loop_new();
	struct fake f;
	struct got g = { .stop_at = 1 };
	struct dns_feed *feed;
	struct dns_feed_opts o = fast;

	assert_non_null(l);
	g.loop = l;
	fake_init(&f, l);
	f.allow_leader = true;
	fake_open(&f);
	o.consistent = true;
	assert_int_equal(dns_feed_open(l, url, &o, got_view, &g, &feed), 0);
	assert_false(run_for(l, 5000));
	assert_int_equal(g.n, 1);
	assert_int_equal(f.nleader, f.nreq); /* every read */
	dns_feed_close(feed);
	dns_view_free(g.view);
	g.view = NULL;
	g.n = 0;

	/* stale replies 5 s behind, max_stale 1 s: the rebuild is redone
	 * from the leader; within max_stale it stays stale */
	f.stale_contact = 5000;
	f.nleader = 0;
	o.consistent = false;
	o.max_stale_ms = 1000;
	assert_int_equal(dns_feed_open(l, url, &o, got_view, &g, &feed), 0);
	assert_false(run_for(l, 5000));
	assert_int_equal(g.n, 1);
	assert_int_equal(dns_view_instance_count(g.view), 3);
	assert_true(f.nleader >= 4); /* nodes, checks, names, 2 services */
	dns_feed_close(feed);
	dns_view_free(g.view);
	g.view = NULL;
	g.n = 0;
	f.nleader = 0;
	o.max_stale_ms = 10000;
	assert_int_equal(dns_feed_open(l, url, &o, got_view, &g, &feed), 0);
	assert_false(run_for(l, 5000));
	assert_int_equal(g.n, 1);
	assert_int_equal(f.nleader, 0);
	dns_feed_close(feed);
	fake_close(&f);
	dns_view_free(g.view);
	loop_free(l);
}

/* More services than reads in flight at once, and one read failing in
 * the middle of a rebuild (the others are cancelled, the rebuild is
 * retried and completes). */
static void
test_many_services(void **state)
{
	struct loop *l = loop_new();
	struct fake f;
	struct got g = { .stop_at = 1 };
	struct dns_feed *feed;
	int i;

	assert_non_null(l);
	g.loop = l;
	fake_init(&f, l);
	for (i = 0; i < 100; i++) {
		snprintf(f.names[i], sizeof(f.names[i]), "s%03d", i);
		fake_svc(&f, i % 2 ? "n1" : "n3", f.names[i], f.names[i],
		    (uint32_t)(1000 + i), 0, 0);
	}
	fake_check(&f, "n3", "s010-c", "s010", "critical");
	f.fail_at = 40; /* inside the service reads */
	fake_open(&f);
	assert_int_equal(dns_feed_open(l, url, &fast, got_view, &g, &feed), 0);
	assert_false(run_for(l, 10000));
	assert_int_equal(g.n, 1);
	assert_int_equal(dns_view_instance_count(g.view), 103);
	assert_int_equal(find_inst(g.view, "s099", "s099")->port, 1099);
	assert_int_equal(find_inst(g.view, "s010", "s010")->health,
	    DNS_HEALTH_CRITICAL);
	assert_int_equal(find_inst(g.view, "s011", "s011")->health,
	    DNS_HEALTH_PASSING);
	dns_feed_close(feed);
	fake_close(&f);
	dns_view_free(g.view);
	loop_free(l);
}

static int
setup(void **state)
{
	strcpy(tmpdir, "/tmp/dnsfeed.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return ipc_url(url, sizeof(url), tmpdir, "raftd.rpc");
}

static int
teardown(void **state)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/raftd.rpc", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_view_and_health),
		cmocka_unit_test(test_change_then_outage_then_back),
		cmocka_unit_test(test_error_reply_is_stale),
		cmocka_unit_test(test_consistency),
		cmocka_unit_test(test_many_services),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
