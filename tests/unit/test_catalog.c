/*
 * test_catalog.c — the catalog state machine (raftd/catalog*.c) against a
 * real RocksDB store in a mkdtemp directory: Consul's register and
 * deregister semantics, the index rules (table and per-service indexes,
 * unchanged records keep theirs), ?passing and node-level checks in
 * health entries, the watch keys a write touches, dedup and reopen; and
 * the MSG_CATALOG_* codec (golden encodings, round trips, malformed
 * input).
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
#include "log.h"
#include "proto.h"
#include "raftd/catalog.h"
#include "raftd/kv.h"
#include "raftd/store.h"

struct fx {
	char dir[64];
	char raft[96];
	struct store *s;
	struct kv *kv;
	struct catalog *c;
	struct catalog_read r;
	uint64_t next;
	char touched[2048]; /* watch keys of the last write, '|'-joined */
};

static void
fx_open(struct fx *f)
{
	char err[256];

	assert_int_equal(store_open(f->raft, &f->s, err, sizeof(err)), 0);
	assert_int_equal(kv_open(f->s, &f->kv), 0);
	assert_int_equal(catalog_open(f->s, f->kv, &f->c), 0);
	f->next = kv_applied_index(f->kv) + 1;
}

static void
fx_close(struct fx *f)
{
	catalog_free(f->c);
	kv_free(f->kv);
	store_close(f->s);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/test_catalog.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->raft, sizeof(f->raft), "%s/raft", f->dir);
	fx_open(f);
	catalog_read_init(&f->r);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	catalog_read_fini(&f->r);
	fx_close(f);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
on_touch(void *arg, const char *key, size_t klen)
{
	struct fx *f = arg;
	size_t n = strlen(f->touched);

	/* keys start with NUL: shown from their second byte */
	snprintf(f->touched + n, sizeof(f->touched) - n, "%s%.*s",
	    n ? "|" : "", (int)klen - 1, key + 1);
}

static struct proto_str
S(const char *s)
{
	return proto_str_c(s);
}

/* Registers node (address 10.0.0.<n>), optional service and checks. */
struct reg {
	const char *node;
	const char *service;  /* NULL: none */
	const char *tags[3];
	const char *checks[3][3]; /* id, status, service id (NULL: node) */
	const char *meta_k, *meta_v;
};

static struct kv_result
do_register(struct fx *f, const struct reg *g, uint64_t cid, uint64_t seq)
{
	struct msg_catalog_register m;
	struct proto_cat_service s;
	struct proto_cat_check ck[3];
	struct proto_str tags[3], mk, mv;
	struct kv_result res;
	int i;

	memset(&m, 0, sizeof(m));
	memset(&s, 0, sizeof(s));
	memset(ck, 0, sizeof(ck));
	m.client_id = cid;
	m.seq = seq;
	m.node.node = S(g->node);
	m.node.address = S("10.0.0.1");
	m.node.datacenter = S("dc1");
	if (g->meta_k != NULL) {
		mk = S(g->meta_k);
		mv = S(g->meta_v);
		m.node.meta.keys = &mk;
		m.node.meta.vals = &mv;
		m.node.meta.n = 1;
	}
	if (g->service != NULL) {
		s.service = S(g->service);
		s.port = 80;
		s.weight_passing = s.weight_warning = 1;
		for (i = 0; i < 3 && g->tags[i] != NULL; i++)
			tags[i] = S(g->tags[i]);
		s.tags.v = tags;
		s.tags.n = (uint32_t)i;
		m.services = &s;
		m.n_services = 1;
	}
	for (i = 0; i < 3 && g->checks[i][0] != NULL; i++) {
		ck[i].name = S(g->checks[i][0]);
		ck[i].status = S(g->checks[i][1]);
		ck[i].service_id = S(g->checks[i][2]);
	}
	m.checks = ck;
	m.n_checks = (uint32_t)i;
	f->touched[0] = '\0';
	assert_int_equal(catalog_register(f->c, f->next++, &m, &res, on_touch,
	    f), 0);
	return res;
}

static struct kv_result
do_deregister(struct fx *f, const char *node, const char *svc,
    const char *check)
{
	struct msg_catalog_deregister m;
	struct kv_result res;

	memset(&m, 0, sizeof(m));
	m.node = S(node);
	m.service_id = S(svc);
	m.check_id = S(check);
	f->touched[0] = '\0';
	assert_int_equal(catalog_deregister(f->c, f->next++, &m, &res,
	    on_touch, f), 0);
	return res;
}

static const struct msg_catalog_get_result *
get(struct fx *f, uint8_t what, const char *name, bool passing,
    const char *tag)
{
	struct msg_catalog_get q;
	struct proto_str t = S(tag);

	memset(&q, 0, sizeof(q));
	q.what = what;
	q.name = S(name);
	q.passing = passing;
	if (tag != NULL) {
		q.tags.v = &t;
		q.tags.n = 1;
	}
	assert_int_equal(catalog_get(f->c, &q, &f->r), 0);
	return &f->r.res;
}

static void
test_register_and_read(void **state)
{
	struct fx *f = *state;
	struct reg web1 = { "n1", "web", { "v1", "Primary" },
	    { { "web-ok", "passing", "web" }, { "serf", "passing", NULL } },
	    "rack", "a" };
	struct reg web2 = { "n2", "web", { "v2" },
	    { { "web-ok", "critical", "web" } }, "rack", "b" };
	const struct msg_catalog_get_result *g;
	struct kv_result res;

	res = do_register(f, &web1, 0, 0);
	assert_int_equal(res.err, 0);
	assert_true(res.ok);
	assert_int_equal(res.index, 1);
	assert_string_equal(f->touched, "cat|svc:web");
	res = do_register(f, &web2, 0, 0);
	assert_int_equal(res.index, 2);

	g = get(f, CATALOG_NODES, "", false, NULL);
	assert_int_equal(g->n_nodes, 2);
	assert_true(proto_str_eq(g->nodes[0].node, "n1"));
	assert_true(proto_str_eq(g->nodes[1].node, "n2"));
	assert_int_equal(g->meta.index, 2);

	g = get(f, CATALOG_SERVICES, "", false, NULL);
	assert_int_equal(g->n_services, 1);
	assert_true(proto_str_eq(g->services[0].service, "web"));
	/* the sorted union of the tags */
	assert_int_equal(g->services[0].tags.n, 3);
	assert_true(proto_str_eq(g->services[0].tags.v[0], "Primary"));
	assert_true(proto_str_eq(g->services[0].tags.v[2], "v2"));

	g = get(f, CATALOG_SERVICE, "web", false, NULL);
	assert_int_equal(g->n_services, 2);
	assert_int_equal(g->n_nodes, 2);
	assert_true(proto_str_eq(g->services[0].id, "web")); /* defaulted */
	assert_true(proto_str_eq(g->services[1].node, "n2"));
	assert_int_equal(g->meta.index, 2);
	/* ?tag ignores case */
	g = get(f, CATALOG_SERVICE, "web", false, "primary");
	assert_int_equal(g->n_services, 1);
	assert_true(proto_str_eq(g->services[0].node, "n1"));

	/* health: node-level checks ride along; ?passing drops n2 */
	g = get(f, CATALOG_HEALTH_SERVICE, "web", false, NULL);
	assert_int_equal(g->n_services, 2);
	assert_int_equal(g->n_checks, 3);
	g = get(f, CATALOG_HEALTH_SERVICE, "web", true, NULL);
	assert_int_equal(g->n_services, 1);
	assert_true(proto_str_eq(g->services[0].node, "n1"));
	assert_int_equal(g->n_checks, 2);
	/* in CheckID order; the service's check took its name and tags */
	assert_true(proto_str_eq(g->checks[0].check_id, "serf"));
	assert_int_equal(g->checks[0].service_name.len, 0);
	assert_true(proto_str_eq(g->checks[1].service_name, "web"));
	assert_int_equal(g->checks[1].service_tags.n, 2);

	g = get(f, CATALOG_HEALTH_CHECKS, "web", false, NULL);
	assert_int_equal(g->n_checks, 2); /* service checks only */
	g = get(f, CATALOG_HEALTH_NODE, "n1", false, NULL);
	assert_int_equal(g->n_checks, 2);
	g = get(f, CATALOG_HEALTH_STATE, "critical", false, NULL);
	assert_int_equal(g->n_checks, 1);
	assert_true(proto_str_eq(g->checks[0].node, "n2"));
	g = get(f, CATALOG_HEALTH_STATE, "any", false, NULL);
	assert_int_equal(g->n_checks, 3);

	g = get(f, CATALOG_NODE, "n1", false, NULL);
	assert_true(g->found);
	assert_int_equal(g->n_nodes, 1);
	assert_int_equal(g->n_services, 1);
	g = get(f, CATALOG_NODE, "nope", false, NULL);
	assert_false(g->found);
	assert_int_equal(g->n_nodes, 0);
	assert_int_equal(g->meta.index, 2);
}

static void
test_errors(void **state)
{
	struct fx *f = *state;
	struct reg bad_status = { "n1", NULL, { NULL },
	    { { "c", "fine", NULL } }, NULL, NULL };
	struct reg no_service = { "n1", NULL, { NULL },
	    { { "c", "passing", "nosuch" } }, NULL, NULL };
	struct reg ok = { "n1", NULL, { NULL }, { { NULL } }, NULL, NULL };
	struct msg_catalog_get q;
	struct kv_result res;

	res = do_register(f, &bad_status, 0, 0);
	assert_int_equal(res.err, ERR_INVAL);
	assert_string_equal(res.msg, "Invalid check status: \"fine\"");
	assert_string_equal(f->touched, "");
	/* nothing of a refused write is stored, not even the node */
	assert_int_equal(get(f, CATALOG_NODES, "", false, NULL)->n_nodes, 0);
	res = do_register(f, &no_service, 0, 0);
	assert_int_equal(res.err, ERR_NOTFOUND);
	assert_string_equal(res.msg,
	    "failed inserting check: Missing service registration");
	assert_int_equal(get(f, CATALOG_NODES, "", false, NULL)->n_nodes, 0);
	res = do_register(f, &ok, 0, 0);
	assert_int_equal(res.err, 0);
	assert_int_equal(kv_applied_index(f->kv), 3);

	memset(&q, 0, sizeof(q));
	q.what = CATALOG_HEALTH_STATE;
	q.name = S("bogus");
	assert_int_equal(catalog_get(f->c, &q, &f->r), ERR_INVAL);
	q.what = 99;
	assert_int_equal(catalog_get(f->c, &q, &f->r), ERR_INVAL);
	/* a stale index is refused */
	f->next = 2;
	memset(&res, 0, sizeof(res));
	{
		struct msg_catalog_deregister d = { 0 };

		d.node = S("n1");
		assert_int_equal(catalog_deregister(f->c, 2, &d, &res, NULL,
		    NULL), ERR_INVAL);
	}
}

static void
test_index_rules(void **state)
{
	struct fx *f = *state;
	struct reg web = { "n1", "web", { "v1" },
	    { { "web-ok", "passing", "web" } }, NULL, NULL };
	struct reg db = { "n2", "db", { NULL },
	    { { "db-ok", "passing", "db" } }, NULL, NULL };
	struct reg web_crit = { "n1", "web", { "v1" },
	    { { "web-ok", "critical", "web" } }, NULL, NULL };
	struct reg n1_check = { "n1", NULL, { NULL },
	    { { "maint", "warning", NULL } }, NULL, NULL };
	const struct msg_catalog_get_result *g;
	uint64_t idx;

	do_register(f, &web, 0, 0); /* 1 */
	do_register(f, &db, 0, 0);  /* 2 */
	g = get(f, CATALOG_HEALTH_SERVICE, "web", false, NULL);
	assert_int_equal(g->meta.index, 1);
	assert_int_equal(g->services[0].modify_index, 1);

	/* the same registration again changes nothing: no index moves */
	do_register(f, &web, 0, 0); /* 3 */
	assert_string_equal(f->touched, "");
	g = get(f, CATALOG_HEALTH_SERVICE, "web", false, NULL);
	assert_int_equal(g->meta.index, 1);
	assert_int_equal(g->checks[0].modify_index, 1);
	assert_int_equal(catalog_services_index(f->c), 2);
	assert_int_equal(catalog_checks_index(f->c), 2);

	/* a check of db moves db's index only */
	db.checks[0][1] = "warning";
	do_register(f, &db, 0, 0); /* 4 */
	assert_string_equal(f->touched, "cat|svc:db");
	assert_int_equal(get(f, CATALOG_HEALTH_SERVICE, "web", false,
	    NULL)->meta.index, 1);
	assert_int_equal(get(f, CATALOG_HEALTH_SERVICE, "db", false,
	    NULL)->meta.index, 4);

	/* a check status change of web moves web's index */
	do_register(f, &web_crit, 0, 0); /* 5 */
	assert_string_equal(f->touched, "cat|svc:web");
	g = get(f, CATALOG_HEALTH_SERVICE, "web", false, NULL);
	assert_int_equal(g->meta.index, 5);
	assert_int_equal(g->checks[0].create_index, 1);
	assert_int_equal(g->checks[0].modify_index, 5);
	assert_int_equal(catalog_checks_index(f->c), 5);
	assert_int_equal(catalog_services_index(f->c), 2);

	/* a node-level check moves every service of its node */
	do_register(f, &n1_check, 0, 0); /* 6 */
	assert_string_equal(f->touched, "cat|svc:web");
	assert_int_equal(get(f, CATALOG_SERVICE, "web", false,
	    NULL)->meta.index, 6);
	g = get(f, CATALOG_HEALTH_SERVICE, "web", false, NULL);
	assert_int_equal(g->n_checks, 2);

	/* a missing service answers the services table index */
	g = get(f, CATALOG_SERVICE, "nosuch", false, NULL);
	assert_int_equal(g->n_services, 0);
	assert_false(f->r.instances);
	assert_int_equal(g->meta.index, 2);
	g = get(f, CATALOG_HEALTH_SERVICE, "nosuch", false, NULL);
	assert_int_equal(g->meta.index, 6);

	/* the watch key of a service read */
	{
		struct msg_catalog_get q = { 0 };
		char key[64];
		size_t n;

		q.what = CATALOG_HEALTH_SERVICE;
		q.name = S("web");
		assert_int_equal(catalog_get(f->c, &q, &f->r), 0);
		n = catalog_watch_key(&q, &f->r, key, sizeof(key));
		assert_int_equal(n, CATALOG_WATCH_SVC_LEN + 3);
		assert_memory_equal(key, "\0svc:web", n);
		q.name = S("nosuch");
		assert_int_equal(catalog_get(f->c, &q, &f->r), 0);
		n = catalog_watch_key(&q, &f->r, key, sizeof(key));
		assert_int_equal(n, CATALOG_WATCH_ALL_LEN);
	}
	(void)idx;
}

static void
test_deregister(void **state)
{
	struct fx *f = *state;
	struct reg web = { "n1", "web", { NULL },
	    { { "web-ok", "passing", "web" }, { "serf", "passing", NULL } },
	    NULL, NULL };
	struct reg api = { "n1", "api", { NULL },
	    { { "api-ok", "passing", "api" } }, NULL, NULL };
	const struct msg_catalog_get_result *g;
	struct kv_result res;

	do_register(f, &web, 0, 0); /* 1 */
	do_register(f, &api, 0, 0); /* 2 */
	assert_int_equal(get(f, CATALOG_HEALTH_NODE, "n1", false,
	    NULL)->n_checks, 3);

	/* a service goes with its checks */
	res = do_deregister(f, "n1", "web", ""); /* 3 */
	assert_true(res.ok);
	assert_string_equal(f->touched, "cat|svc:web");
	g = get(f, CATALOG_HEALTH_NODE, "n1", false, NULL);
	assert_int_equal(g->n_checks, 2);
	g = get(f, CATALOG_SERVICE, "web", false, NULL);
	assert_int_equal(g->n_services, 0);
	assert_int_equal(g->meta.index, 3);

	/* a missing service: true, nothing moves */
	res = do_deregister(f, "n1", "web", ""); /* 4 */
	assert_true(res.ok);
	assert_string_equal(f->touched, "");
	assert_int_equal(catalog_services_index(f->c), 3);

	/* a node-level check: every service of the node moves */
	res = do_deregister(f, "n1", "", "serf"); /* 5 */
	assert_string_equal(f->touched, "cat|svc:api");
	assert_int_equal(get(f, CATALOG_HEALTH_NODE, "n1", false,
	    NULL)->n_checks, 1);
	assert_int_equal(get(f, CATALOG_SERVICE, "api", false,
	    NULL)->meta.index, 5);

	/* the node with everything on it */
	res = do_deregister(f, "n1", "", ""); /* 6 */
	assert_true(res.ok);
	assert_int_equal(get(f, CATALOG_NODES, "", false, NULL)->n_nodes, 0);
	assert_int_equal(get(f, CATALOG_HEALTH_STATE, "any", false,
	    NULL)->n_checks, 0);
	g = get(f, CATALOG_SERVICES, "", false, NULL);
	assert_int_equal(g->n_services, 0);
	assert_int_equal(g->meta.index, 6);
	assert_int_equal(catalog_nodes_index(f->c), 6);

	res = do_deregister(f, "", "", "");
	assert_int_equal(res.err, ERR_INVAL);
}

static void
test_dedup_and_reopen(void **state)
{
	struct fx *f = *state;
	struct reg web = { "n1", "web", { NULL },
	    { { "web-ok", "passing", "web" } }, "k", "v" };
	struct reg web2 = { "n1", "web", { "changed" }, { { NULL } }, "k",
	    "v" };
	const struct msg_catalog_get_result *g;
	struct kv_result res, again;

	res = do_register(f, &web, 7, 1);
	assert_int_equal(res.index, 1);
	/* the same (client, seq) again: the first result, nothing applied */
	again = do_register(f, &web2, 7, 1);
	assert_int_equal(again.index, 1);
	assert_true(again.ok);
	assert_int_equal(kv_applied_index(f->kv), 2);
	g = get(f, CATALOG_SERVICE, "web", false, NULL);
	assert_int_equal(g->services[0].tags.n, 0);

	fx_close(f);
	fx_open(f);
	assert_int_equal(f->next, 3);
	assert_int_equal(catalog_services_index(f->c), 1);
	g = get(f, CATALOG_HEALTH_SERVICE, "web", false, NULL);
	assert_int_equal(g->n_services, 1);
	assert_int_equal(g->n_checks, 1);
	assert_true(proto_str_eq(g->nodes[0].meta.keys[0], "k"));
	assert_int_equal(g->meta.index, 1);
	/* node-meta filter */
	{
		struct msg_catalog_get q = { 0 };
		struct proto_str k = S("k"), v = S("w");

		q.what = CATALOG_NODES;
		q.node_meta.keys = &k;
		q.node_meta.vals = &v;
		q.node_meta.n = 1;
		assert_int_equal(catalog_get(f->c, &q, &f->r), 0);
		assert_int_equal(f->r.res.n_nodes, 0);
		v = S("v");
		assert_int_equal(catalog_get(f->c, &q, &f->r), 0);
		assert_int_equal(f->r.res.n_nodes, 1);
	}
	/* dry run: the stored registration changes nothing */
	{
		struct msg_catalog_register m = { 0 };
		struct proto_str mk = S("k"), mv = S("v");
		bool changes = true;

		m.node.node = S("n1");
		m.node.address = S("10.0.0.1");
		m.node.datacenter = S("dc1");
		m.node.meta.keys = &mk;
		m.node.meta.vals = &mv;
		m.node.meta.n = 1;
		assert_int_equal(catalog_register_changes(f->c, &m, &changes),
		    0);
		assert_false(changes);
		m.node.address = S("10.0.0.9");
		assert_int_equal(catalog_register_changes(f->c, &m, &changes),
		    0);
		assert_true(changes);
	}
}

/* Names are looked up ignoring case (Consul's memdb indexes lowercase). */
static void
test_case_insensitive(void **state)
{
	struct fx *f = *state;
	struct reg web = { "Node-A", "Web", { NULL },
	    { { "Web-OK", "passing", "WEB" }, { "Serf", "passing", NULL } },
	    NULL, NULL };
	struct reg again = { "node-a", NULL, { NULL },
	    { { "web-ok", "critical", "web" } }, NULL, NULL };
	const struct msg_catalog_get_result *g;
	struct kv_result res;

	res = do_register(f, &web, 0, 0); /* 1 */
	assert_int_equal(res.err, 0);
	assert_string_equal(f->touched, "cat|svc:web");
	g = get(f, CATALOG_HEALTH_SERVICE, "wEB", false, NULL);
	assert_int_equal(g->n_services, 1);
	assert_true(proto_str_eq(g->services[0].service, "Web"));
	assert_int_equal(g->n_nodes, 1);
	assert_int_equal(g->n_checks, 2);
	assert_true(get(f, CATALOG_NODE, "NODE-A", false, NULL)->found);
	/* the same node and check under another case: updated, not added */
	res = do_register(f, &again, 0, 0); /* 2 */
	assert_int_equal(res.err, 0);
	assert_int_equal(get(f, CATALOG_NODES, "", false, NULL)->n_nodes, 1);
	g = get(f, CATALOG_HEALTH_NODE, "node-a", false, NULL);
	assert_int_equal(g->n_checks, 2);
	assert_true(proto_str_eq(g->checks[1].status, "critical"));
	assert_true(proto_str_eq(g->checks[1].service_name, "Web"));
	assert_int_equal(get(f, CATALOG_HEALTH_SERVICE, "web", false,
	    NULL)->meta.index, 2);
	res = do_deregister(f, "NODE-A", "web", "");
	assert_string_equal(f->touched, "cat|svc:web");
	assert_int_equal(get(f, CATALOG_SERVICE, "Web", false,
	    NULL)->n_services, 0);
	assert_int_equal(get(f, CATALOG_HEALTH_NODE, "node-a", false,
	    NULL)->n_checks, 1);
}

/* ---- codec ---- */

static char *
hexof(const uint8_t *b, size_t n)
{
	char *s = malloc(2 * n + 1);

	for (size_t i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", b[i]);
	s[2 * n] = '\0';
	return s;
}

/* Encodes body, compares with the golden hex, decodes it back. */
static void *
golden(uint32_t type, const void *body, const char *hex,
    struct proto_arena *a)
{
	struct proto_buf b;
	struct proto_msg m;
	uint8_t *keep;
	char *h;
	size_t len;

	assert_int_equal(proto_encode(type, 5, body, &b), 0);
	h = hexof(b.data, b.len);
	if (strcmp(h, hex) != 0)
		fail_msg("%s encodes as %s", proto_msg_name(type), h);
	free(h);
	/* decoded strings borrow the bytes: keep a copy in the arena */
	len = b.len;
	keep = proto_arena_alloc(a, len);
	memcpy(keep, b.data, len);
	proto_buf_free(&b);
	/* every strict prefix is malformed, and a trailing byte too */
	for (size_t n = 0; n < len; n++) {
		struct proto_msg x;

		assert_int_equal(proto_decode(keep, n, a, &x), ERR_BADMSG);
	}
	assert_int_equal(proto_decode(keep, len, a, &m), 0);
	assert_int_equal(m.type, type);
	assert_int_equal(m.reqid, 5);
	return m.body;
}

static void
test_codec(void **state)
{
	struct proto_arena a;
	struct msg_catalog_deregister d = { 1, 2, { "n", 1 }, { "s", 1 },
	    { "", 0 } };
	struct msg_catalog_write_result w = { true, 9 };
	struct msg_catalog_get g;
	struct msg_catalog_register reg;
	struct proto_cat_service svc;
	struct proto_cat_addr ta = { { "lan", 3 }, { "1.2.3.4", 7 }, 80 };
	struct proto_cat_check ck;
	struct proto_str tag = S("v1");
	const struct msg_catalog_deregister *d2;
	const struct msg_catalog_register *r2;
	const struct msg_catalog_get *g2;

	(void)state;
	proto_arena_init(&a);
	d2 = golden(MSG_CATALOG_DEREGISTER, &d,
	    "9401" "1f" "05" "85" "0101" "0202" "03a16e" "04a173" "05a0", &a);
	assert_int_equal(d2->seq, 2);
	assert_true(proto_str_eq(d2->service_id, "s"));
	golden(MSG_CATALOG_WRITE_RESULT, &w, "94012005" "82" "01c3" "0209",
	    &a);

	memset(&g, 0, sizeof(g));
	g.what = CATALOG_HEALTH_SERVICE;
	g.name = S("web");
	g.tags.v = &tag;
	g.tags.n = 1;
	g.passing = true;
	g.opts.min_index = 3;
	g2 = golden(MSG_CATALOG_GET, &g, "94012105" "86" "0108" "02a3776562"
	    "0391a27631" "04c3" "0580" "0683" "0100" "0203" "0300", &a);
	assert_int_equal(g2->what, CATALOG_HEALTH_SERVICE);
	assert_true(proto_str_eq(g2->tags.v[0], "v1"));
	assert_int_equal(g2->opts.min_index, 3);

	memset(&reg, 0, sizeof(reg));
	memset(&svc, 0, sizeof(svc));
	memset(&ck, 0, sizeof(ck));
	reg.node.node = S("n");
	svc.service = S("w");
	svc.tagged_addresses = &ta;
	svc.n_tagged_addresses = 1;
	svc.port = 80;
	ck.check_id = S("c");
	ck.def_interval_ns = 1000000000;
	reg.services = &svc;
	reg.n_services = 1;
	reg.checks = &ck;
	reg.n_checks = 1;
	r2 = golden(MSG_CATALOG_REGISTER, &reg, getenv("CATALOG_GOLDEN_REG") ?
	    getenv("CATALOG_GOLDEN_REG") :
	    "94011e05860100020003c2"
	    "0488" "01a0" "02a16e" "03a0" "04a0" "0580" "0680" "0700" "0800"
	    "0591" "8e" "01a0" "02a0" "03a0" "04a177" "0590" "06a0"
	    "0791" "83" "01a36c616e" "02a7312e322e332e34" "0350"
	    "0880" "0950" "0a00" "0b00" "0cc2" "0d00" "0e00"
	    "0691" "de0017" "01a0" "02a163" "03a0" "04a0" "05a0" "06a0" "07a0"
	    "08a0" "0990" "0aa0" "0ba0" "0ca0" "0da0" "0ea0" "0fa0" "10a0"
	    "11a0" "12c2" "13ce3b9aca00" "1400" "1500" "1600" "1700", &a);
	assert_int_equal(r2->n_services, 1);
	assert_int_equal(r2->services[0].n_tagged_addresses, 1);
	assert_int_equal(r2->services[0].tagged_addresses[0].port, 80);
	assert_int_equal(r2->checks[0].def_interval_ns, 1000000000);

	/* malformed: a string where a bool belongs, a status over max */
	{
		static const uint8_t bad1[] = { 0x94, 0x01, 0x20, 0x00, 0x81,
		    0x01, 0xa1, 'x' };
		static const uint8_t bad2[] = { 0x94, 0x01, 0x21, 0x00, 0x81,
		    0x01, 0x0b }; /* one past CATALOG_SERVICES_ALL */
		static const uint8_t bad3[] = { 0x94, 0x01, 0x1e, 0x00, 0x81,
		    0x05, 0x91, 0x81, 0x09, 0xce, 0xff, 0xff, 0xff, 0xff,
		    0x00 };
		struct proto_msg m;

		assert_int_equal(proto_decode(bad1, sizeof(bad1), &a, &m),
		    ERR_BADMSG);
		assert_int_equal(proto_decode(bad2, sizeof(bad2), &a, &m),
		    ERR_BADMSG);
		assert_int_equal(proto_decode(bad3, sizeof(bad3), &a, &m),
		    ERR_BADMSG);
	}
	proto_arena_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_and_read, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deregister, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dedup_and_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_case_insensitive, setup,
		    teardown),
		cmocka_unit_test(test_codec),
	};

	log_init("unit_catalog", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
