/*
 * test_http_catalog.c — the catalog and health endpoints without a
 * network: how a register body is decoded (any key case, snake_case,
 * durations as strings or nanoseconds, type errors refused before any
 * IPC), which MSG_CATALOG_GET each read sends (?tag, ?node-meta,
 * ?passing as a bool), and the exact JSON each reply renders (Consul's
 * field order, [] never null, null for an unknown node, a health entry's
 * node checks then service checks). rpc.c is replaced by a fake that
 * keeps an encoded copy of the request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "err.h"
#include "httpd/api_catalog.h"
#include "httpd/httpd.h"
#include "httpd/req.h"
#include "httpd/rpc.h"
#include "proto.h"

/* ---- fake rpc ---- */

static struct {
	int calls;
	uint32_t type, want;
	struct proto_buf sent; /* the request as encoded */
	struct proto_arena a;
	void *body;            /* sent, decoded */
	rpc_cb cb;
} fake;

void
rpc_raftd(struct httpd *h, struct req *r, uint32_t type, const void *body,
    uint32_t timeout_ms, uint32_t want, rpc_cb cb)
{
	struct proto_msg m;

	fake.calls++;
	fake.type = type;
	fake.want = want;
	fake.cb = cb;
	proto_buf_free(&fake.sent);
	assert_int_equal(proto_encode(type, 1, body, &fake.sent), 0);
	assert_int_equal(proto_decode(fake.sent.data, fake.sent.len, &fake.a,
	    &m), 0);
	fake.body = m.body;
}

uint32_t
rpc_read_timeout(const struct httpd *h, uint64_t index, uint32_t wait_ms)
{
	return 7000;
}

uint32_t
rpc_write_timeout(const struct httpd *h)
{
	return 7000;
}

/* ---- fixture ---- */

static struct config cfg;
static struct httpd h;
static struct query_arg argv[8];

static int
setup(void **state)
{
	proto_buf_free(&fake.sent);
	proto_arena_free(&fake.a);
	memset(&fake, 0, sizeof(fake));
	proto_arena_init(&fake.a);
	memset(&cfg, 0, sizeof(cfg));
	memset(&h, 0, sizeof(h));
	cfg.datacenter = "dc1";
	h.cfg = &cfg;
	h.client_id = 0xabcdef;
	h.lim.default_query_ms = 300000;
	h.lim.max_query_ms = 600000;
	h.lim.datacenter = "dc1";
	return 0;
}

static int
teardown(void **state)
{
	proto_buf_free(&fake.sent);
	proto_arena_free(&fake.a);
	return 0;
}

/* A request: "key=val" or "key" arguments, NULL-terminated. */
static struct req *
mkreq(const char *method, const char *param, const char *body, ...)
{
	struct req *r = req_new(&h);
	va_list ap;
	const char *a;
	size_t n = 0;

	r->method = method;
	r->path = "/v1/x";
	r->param = param;
	va_start(ap, body);
	while ((a = va_arg(ap, const char *)) != NULL) {
		const char *eq = strchr(a, '=');

		argv[n].key = eq ? strndup(a, (size_t)(eq - a)) : strdup(a);
		argv[n].val = eq ? eq + 1 : NULL;
		n++;
	}
	va_end(ap);
	r->args.v = argv;
	r->args.n = n;
	if (body != NULL) {
		r->body = strdup(body);
		r->body_len = strlen(body);
	}
	return r;
}

static void
done(struct req *r)
{
	for (size_t i = 0; i < r->args.n; i++)
		free((char *)argv[i].key);
	req_free(r);
}

static void
assert_body(struct req *r, int status, const char *body)
{
	assert_true(r->replied);
	if (r->status != status || r->rbody_len != strlen(body) ||
	    memcmp(r->rbody, body, r->rbody_len) != 0)
		fail_msg("got %d %.*s", r->status, (int)r->rbody_len,
		    r->rbody);
}

static bool
eq(struct proto_str s, const char *c)
{
	return proto_str_eq(s, c);
}

/* ---- register ---- */

static void
test_register_decoding(void **state)
{
	const struct msg_catalog_register *m;
	struct msg_catalog_write_result ok = { true, 9 };
	struct req *r = mkreq("PUT", NULL,
	    "{\"node\":\"n1\",\"ADDRESS\":\"10.0.0.1\","
	    "\"tagged_addresses\":{\"wan\":\"1.2.3.4\"},"
	    "\"NodeMeta\":{\"k\":\"v\"},"
	    "\"service\":{\"service\":\"web\",\"port\":80,\"tags\":[\"a\"],"
	    "\"weights\":{\"passing\":3,\"warning\":2},"
	    "\"enable_tag_override\":true},"
	    "\"check\":{\"name\":\"c1\",\"status\":\"passing\","
	    "\"serviceid\":\"web\",\"definition\":{\"interval\":\"1m30s\","
	    "\"timeout\":500000000,\"http\":\"http://x/\"}},"
	    "\"checks\":[{\"CheckID\":\"c2\",\"Name\":\"two\"}],"
	    "\"WriteRequest\":{\"Token\":\"t\"}}", NULL);

	api_catalog_register(&h, r);
	assert_false(r->replied);
	assert_int_equal(fake.type, MSG_CATALOG_REGISTER);
	assert_int_equal(fake.want, MSG_CATALOG_WRITE_RESULT);
	m = fake.body;
	assert_true(m->client_id == 0xabcdef);
	assert_true(m->seq == 1);
	assert_true(eq(m->node.node, "n1"));
	assert_true(eq(m->node.address, "10.0.0.1"));
	assert_true(eq(m->node.datacenter, "dc1")); /* the agent's */
	assert_int_equal(m->node.tagged_addresses.n, 1);
	assert_true(eq(m->node.meta.vals[0], "v"));
	assert_int_equal(m->n_services, 1);
	assert_true(eq(m->services[0].service, "web"));
	assert_int_equal(m->services[0].port, 80);
	assert_int_equal(m->services[0].weight_passing, 3);
	assert_int_equal(m->services[0].weight_warning, 2);
	assert_true(m->services[0].enable_tag_override);
	assert_int_equal(m->n_checks, 2);
	assert_true(eq(m->checks[0].service_id, "web"));
	assert_true(m->checks[0].def_interval_ns == 90000000000ull);
	assert_true(m->checks[0].def_timeout_ns == 500000000ull);
	assert_true(eq(m->checks[0].def_http, "http://x/"));
	assert_true(eq(m->checks[1].check_id, "c2"));
	fake.cb(r, &ok);
	assert_body(r, 200, "true");
	done(r);

	/* no Weights: {1, 1} */
	r = mkreq("PUT", NULL, "{\"Node\":\"n\",\"Address\":\"a\","
	    "\"Service\":{\"Service\":\"s\"}}", NULL);
	api_catalog_register(&h, r);
	m = fake.body;
	assert_int_equal(m->services[0].weight_passing, 1);
	assert_int_equal(m->services[0].weight_warning, 1);
	assert_int_equal(m->n_checks, 0);
	done(r);
}

static void
test_register_refusals(void **state)
{
	static const struct {
		const char *body;
		const char *reply;
	} cases[] = {
		{ "", "Request decode failed: EOF" },
		{ "[1]", "Request decode failed: json: cannot unmarshal into "
		  "Go value of type structs.RegisterRequest" },
		{ "{\"Node\":\"n\",\"Address\":\"a\",\"Service\":{\"Port\":"
		  "\"80\"}}", "Request decode failed: json: cannot unmarshal "
		  "into Go struct field Port of type int" },
		{ "{\"Node\":\"n\",\"Address\":\"a\",\"Check\":{\"Definition\":"
		  "{\"Interval\":\"soon\"}}}", "Request decode failed: time: "
		  "invalid duration for Interval" },
		{ "{\"Node\":7}", "Request decode failed: json: cannot "
		  "unmarshal into Go struct field Node of type string" },
		{ "{\"Address\":\"a\"}", "Missing node name" },
		{ "{\"Node\":\"n\"}", "Missing node address" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct req *r = mkreq("PUT", NULL, cases[i].body, NULL);

		api_catalog_register(&h, r);
		assert_body(r, 400, cases[i].reply);
		done(r);
	}
	assert_int_equal(fake.calls, 0);
	{
		/* SkipNodeUpdate needs no address */
		struct req *r = mkreq("PUT", NULL, "{\"Node\":\"n\","
		    "\"SkipNodeUpdate\":true}", NULL);

		api_catalog_register(&h, r);
		assert_int_equal(fake.calls, 1);
		assert_true(((const struct msg_catalog_register *)
		    fake.body)->skip_node_update);
		done(r);
	}
	{
		struct req *r = mkreq("PUT", NULL, "{\"Node\":\"n\","
		    "\"ServiceID\":\"s\"}", NULL);
		const struct msg_catalog_deregister *d;

		api_catalog_deregister(&h, r);
		d = fake.body;
		assert_int_equal(fake.type, MSG_CATALOG_DEREGISTER);
		assert_true(eq(d->service_id, "s"));
		done(r);
		r = mkreq("PUT", NULL, "{\"CheckID\":\"c\"}", NULL);
		api_catalog_deregister(&h, r);
		assert_body(r, 400, "Missing node name");
		done(r);
	}
}

/* ---- reads ---- */

static struct proto_str tags_v1[] = { { "v1", 2 } };
static struct proto_str mk[] = { { "lan", 3 } }, mv[] = { { "10.0.0.1", 8 } };

static void
sample(struct msg_catalog_get_result *res, struct proto_cat_node *n,
    struct proto_cat_service *s, struct proto_cat_check *c)
{
	memset(res, 0, sizeof(*res));
	memset(n, 0, sizeof(*n));
	memset(s, 0, 2 * sizeof(*s));
	memset(c, 0, 3 * sizeof(*c));
	res->meta.index = 12;
	res->meta.known_leader = true;
	n->node = proto_str_c("n1");
	n->address = proto_str_c("10.0.0.1");
	n->datacenter = proto_str_c("dc1");
	n->tagged_addresses.keys = mk;
	n->tagged_addresses.vals = mv;
	n->tagged_addresses.n = 1;
	n->create_index = n->modify_index = 3;
	for (int i = 0; i < 2; i++) {
		s[i].node = proto_str_c("n1");
		s[i].service = proto_str_c("web");
		s[i].id = proto_str_c(i ? "web2" : "web1");
		s[i].port = 80;
		s[i].weight_passing = s[i].weight_warning = 1;
		s[i].create_index = s[i].modify_index = 4;
	}
	s[0].tags.v = tags_v1;
	s[0].tags.n = 1;
	c[0].node = c[1].node = c[2].node = proto_str_c("n1");
	c[0].check_id = proto_str_c("serfHealth");
	c[0].status = proto_str_c("passing");
	c[1].check_id = proto_str_c("w1");
	c[1].service_id = proto_str_c("web1");
	c[1].status = proto_str_c("critical");
	c[2].check_id = proto_str_c("w2");
	c[2].service_id = proto_str_c("web2");
	c[2].status = proto_str_c("passing");
	res->nodes = n;
	res->n_nodes = 1;
	res->services = s;
	res->n_services = 2;
	res->checks = c;
	res->n_checks = 3;
}

static void
test_health_service(void **state)
{
	struct msg_catalog_get_result res;
	struct proto_cat_node n;
	struct proto_cat_service s[2];
	struct proto_cat_check c[3];
	const struct msg_catalog_get *g;
	struct req *r = mkreq("GET", "web", NULL, "passing", "tag=v1",
	    "tag=x", "node-meta=rack:a:b", "index=5", NULL);
	char *p;

	api_health_service(&h, r);
	g = fake.body;
	assert_int_equal(g->what, CATALOG_HEALTH_SERVICE);
	assert_true(eq(g->name, "web"));
	assert_true(g->passing);
	assert_int_equal(g->tags.n, 2);
	assert_true(eq(g->tags.v[1], "x"));
	assert_int_equal(g->node_meta.n, 1);
	assert_true(eq(g->node_meta.keys[0], "rack"));
	assert_true(eq(g->node_meta.vals[0], "a:b"));
	assert_true(g->opts.min_index == 5);
	sample(&res, &n, s, c);
	fake.cb(r, &res);
	assert_string_equal(req_reply_header(r, "X-Consul-Index"), "12");
	/* entry 2: the node check, then its own; Tags [] */
	p = strstr(r->rbody, "\"ID\":\"web2\"");
	assert_non_null(p);
	assert_non_null(strstr(p, "\"Tags\":[]"));
	assert_non_null(strstr(p, "\"Checks\":[{\"Node\":\"n1\",\"CheckID\":"
	    "\"serfHealth\""));
	assert_non_null(strstr(p, "\"CheckID\":\"w2\""));
	assert_null(strstr(p, "\"CheckID\":\"w1\""));
	done(r);

	static const char *const bools[][2] = { { "passing=1", "1" },
	    { "passing=true", "1" }, { "passing=False", "0" },
	    { "passing=0", "0" }, { "passing=", "1" } };
	for (size_t i = 0; i < 5; i++) {
		r = mkreq("GET", "web", NULL, bools[i][0], NULL);
		api_health_service(&h, r);
		assert_int_equal(((const struct msg_catalog_get *)
		    fake.body)->passing, bools[i][1][0] == '1');
		done(r);
	}
	r = mkreq("GET", "web", NULL, "passing=yes", NULL);
	fake.calls = 0;
	api_health_service(&h, r);
	assert_body(r, 400, "Invalid value for ?passing");
	assert_int_equal(fake.calls, 0);
	done(r);
	r = mkreq("GET", "", NULL, NULL);
	api_health_service(&h, r);
	assert_body(r, 400, "Missing service name");
	done(r);
	r = mkreq("GET", "sick", NULL, NULL);
	api_health_state(&h, r);
	assert_body(r, 400, "Bad check state");
	done(r);
}

static void
test_catalog_json(void **state)
{
	struct msg_catalog_get_result res;
	struct proto_cat_node n;
	struct proto_cat_service s[2];
	struct proto_cat_check c[3];
	struct req *r = mkreq("GET", "web", NULL, NULL);

	api_catalog_service(&h, r);
	assert_int_equal(((const struct msg_catalog_get *)fake.body)->what,
	    CATALOG_SERVICE);
	sample(&res, &n, s, c);
	res.n_services = 1;
	fake.cb(r, &res);
	assert_body(r, 200, "[{\"ID\":\"\",\"Node\":\"n1\",\"Address\":"
	    "\"10.0.0.1\",\"Datacenter\":\"dc1\",\"TaggedAddresses\":"
	    "{\"lan\":\"10.0.0.1\"},\"NodeMeta\":null,\"ServiceKind\":\"\","
	    "\"ServiceID\":\"web1\",\"ServiceName\":\"web\",\"ServiceTags\":"
	    "[\"v1\"],\"ServiceAddress\":\"\",\"ServiceWeights\":{\"Passing\":"
	    "1,\"Warning\":1},\"ServiceMeta\":null,\"ServicePort\":80,"
	    "\"ServiceSocketPath\":\"\",\"ServiceEnableTagOverride\":false,"
	    "\"ServiceProxy\":{\"Mode\":\"\",\"MeshGateway\":{},\"Expose\":{}},"
	    "\"ServiceConnect\":{},\"CreateIndex\":4,\"ModifyIndex\":4}]");
	done(r);

	/* an unknown node is null with the index headers */
	r = mkreq("GET", "nope", NULL, NULL);
	api_catalog_node(&h, r);
	memset(&res, 0, sizeof(res));
	res.meta.index = 0;
	fake.cb(r, &res);
	assert_body(r, 200, "null");
	assert_string_equal(req_reply_header(r, "X-Consul-Index"), "1");
	done(r);
	r = mkreq("GET", "nope", NULL, NULL);
	api_catalog_node_services(&h, r);
	fake.cb(r, &res);
	assert_body(r, 200, "{\"Node\":null,\"Services\":[]}");
	done(r);

	/* checks: the HealthCheck shape */
	r = mkreq("GET", "n1", NULL, NULL);
	api_health_node(&h, r);
	sample(&res, &n, s, c);
	res.n_checks = 1;
	fake.cb(r, &res);
	assert_body(r, 200, "[{\"Node\":\"n1\",\"CheckID\":\"serfHealth\","
	    "\"Name\":\"\",\"Status\":\"passing\",\"Notes\":\"\",\"Output\":"
	    "\"\",\"ServiceID\":\"\",\"ServiceName\":\"\",\"ServiceTags\":[],"
	    "\"Type\":\"\",\"Interval\":\"\",\"Timeout\":\"\",\"ExposedPort\":0,"
	    "\"Definition\":{\"Interval\":\"0s\",\"Timeout\":\"0s\","
	    "\"DeregisterCriticalServiceAfter\":\"0s\",\"HTTP\":\"\","
	    "\"Header\":null,\"Method\":\"\",\"Body\":\"\",\"TLSServerName\":"
	    "\"\",\"TLSSkipVerify\":false,\"TCP\":\"\"},\"CreateIndex\":0,"
	    "\"ModifyIndex\":0}]");
	done(r);

	/* services: {name: tags}; datacenters without raftd */
	r = mkreq("GET", NULL, NULL, NULL);
	api_catalog_services(&h, r);
	sample(&res, &n, s, c);
	res.n_services = 1;
	fake.cb(r, &res);
	assert_body(r, 200, "{\"web\":[\"v1\"]}");
	done(r);
	fake.calls = 0;
	r = mkreq("GET", NULL, NULL, NULL);
	api_catalog_datacenters(&h, r);
	assert_body(r, 200, "[\"dc1\"]");
	assert_int_equal(fake.calls, 0);
	done(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_decoding, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_register_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_health_service, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_catalog_json, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
