/*
 * test_http_kv.c — the KV endpoint's decisions without a network: which
 * MSG_KV_GET / MSG_KV_APPLY it sends for each query (Consul's
 * kvs_endpoint.go), the requests it refuses before any IPC, and how it
 * turns raftd's replies into HTTP (404 with an empty body but the index
 * headers, X-Consul-Index never 0, ?keys on the empty prefix is [], ?raw,
 * KVPair JSON). rpc.c is replaced by a fake that records the call.
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
#include "httpd/httpd.h"
#include "httpd/req.h"
#include "httpd/rpc.h"
#include "proto.h"

/* ---- fake rpc ---- */

static struct {
	int calls;
	uint32_t type, want, timeout;
	struct msg_kv_get get;
	struct msg_kv_apply apply;
	char sep[16];
	char key[64];
	char session[64];
	rpc_cb cb;
} fake;

void
rpc_raftd(struct httpd *h, struct req *r, uint32_t type, const void *body,
    uint32_t timeout_ms, uint32_t want, rpc_cb cb)
{
	fake.calls++;
	fake.type = type;
	fake.want = want;
	fake.timeout = timeout_ms;
	fake.cb = cb;
	if (type == MSG_KV_GET) {
		fake.get = *(const struct msg_kv_get *)body;
		snprintf(fake.key, sizeof(fake.key), "%.*s",
		    (int)fake.get.key.len, fake.get.key.ptr);
		snprintf(fake.sep, sizeof(fake.sep), "%.*s",
		    (int)fake.get.separator.len, fake.get.separator.ptr);
	} else if (type == MSG_KV_APPLY) {
		fake.apply = *(const struct msg_kv_apply *)body;
		snprintf(fake.key, sizeof(fake.key), "%.*s",
		    (int)fake.apply.key.len, fake.apply.key.ptr);
		snprintf(fake.session, sizeof(fake.session), "%.*s",
		    (int)fake.apply.session.len, fake.apply.session.ptr);
	}
}

uint32_t
rpc_read_timeout(const struct httpd *h, uint64_t index, uint32_t wait_ms)
{
	return 7000 + (index > 0 ? wait_ms + wait_ms / 16 : 0);
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
	memset(&fake, 0, sizeof(fake));
	memset(&cfg, 0, sizeof(cfg));
	memset(&h, 0, sizeof(h));
	cfg.datacenter = "dc1";
	cfg.rpc_hold_timeout_ms = 7000;
	h.cfg = &cfg;
	h.client_id = 0xabcdef;
	h.lim.default_query_ms = 300000;
	h.lim.max_query_ms = 600000;
	h.lim.datacenter = "dc1";
	return 0;
}

/* A request: "key=val" or "key" (no '=') arguments, NULL-terminated. */
static struct req *
mkreq(const char *method, const char *key, const char *body, ...)
{
	struct req *r = req_new(&h);
	va_list ap;
	const char *a;
	size_t n = 0;

	r->method = method;
	r->param = key;
	va_start(ap, body);
	while ((a = va_arg(ap, const char *)) != NULL) {
		const char *eq = strchr(a, '=');
		if (eq != NULL) {
			argv[n].key = strndup(a, (size_t)(eq - a));
			argv[n].val = eq + 1;
		} else {
			argv[n].key = strdup(a);
			argv[n].val = NULL;
		}
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
	size_t i;

	for (i = 0; i < r->args.n; i++)
		free((char *)argv[i].key);
	req_free(r);
}

static void
assert_body(struct req *r, int status, const char *body)
{
	assert_true(r->replied);
	assert_int_equal(r->status, status);
	assert_int_equal(r->rbody_len, strlen(body));
	if (r->rbody_len > 0)
		assert_memory_equal(r->rbody, body, r->rbody_len);
}

/* ---- writes ---- */

static void
apply_result(struct req *r, bool ok)
{
	struct msg_kv_apply_result res = { ok, 42 };

	assert_non_null(fake.cb);
	fake.cb(r, &res);
}

static void
test_put_plain_is_always_true(void **state)
{
	struct req *r = mkreq("PUT", "web/config", "hello", NULL);

	api_kv(&h, r);
	assert_false(r->replied);
	assert_int_equal(fake.type, MSG_KV_APPLY);
	assert_int_equal(fake.want, MSG_KV_APPLY_RESULT);
	assert_int_equal(fake.apply.op, KV_OP_SET);
	assert_string_equal(fake.key, "web/config");
	assert_int_equal(fake.apply.value.len, 5);
	assert_memory_equal(fake.apply.value.ptr, "hello", 5);
	assert_true(fake.apply.client_id == 0xabcdef);
	assert_true(fake.apply.seq == 1);
	apply_result(r, false);
	assert_body(r, 200, "true");
	assert_string_equal(req_reply_header(r, "Content-Type"),
	    "application/json");
	done(r);
	r = mkreq("PUT", "k", NULL, "flags=18446744073709551615", NULL);
	api_kv(&h, r);
	assert_true(fake.apply.seq == 2); /* a fresh seq per write */
	assert_true(fake.apply.flags == UINT64_MAX);
	assert_int_equal(fake.apply.value.len, 0);
	done(r);
}

static void
test_put_conditional_ops(void **state)
{
	struct req *r = mkreq("PUT", "c", "a", "cas=0", NULL);

	api_kv(&h, r);
	assert_int_equal(fake.apply.op, KV_OP_CAS);
	assert_true(fake.apply.cas_index == 0);
	apply_result(r, false);
	assert_body(r, 200, "false");
	done(r);

	r = mkreq("PUT", "lock", "v", "acquire=s1", "flags=3", NULL);
	api_kv(&h, r);
	assert_int_equal(fake.apply.op, KV_OP_LOCK);
	assert_string_equal(fake.session, "s1");
	assert_true(fake.apply.flags == 3);
	apply_result(r, true);
	assert_body(r, 200, "true");
	done(r);

	r = mkreq("PUT", "lock", NULL, "release=s1", NULL);
	api_kv(&h, r);
	assert_int_equal(fake.apply.op, KV_OP_UNLOCK);
	assert_string_equal(fake.session, "s1");
	apply_result(r, false);
	assert_body(r, 200, "false");
	done(r);
}

static void
test_put_refusals(void **state)
{
	static const struct {
		const char *key;
		const char *arg;
		const char *body;
	} v[] = {
		{ "", NULL, "Missing key name" },
		{ "/lead", NULL, "Invalid key name: a key must not begin "
				 "with '/'" },
		{ "a//b", NULL, "Invalid key name: a key must not contain "
				"'//'" },
		{ "a", "flags=-1", "Invalid flags value: strconv.ParseUint: "
				   "parsing \"-1\": invalid syntax" },
		{ "a", "flags=18446744073709551616", "Invalid flags value: "
		    "strconv.ParseUint: parsing \"18446744073709551616\": value "
		    "out of range" },
		{ "a", "cas=x", "Invalid cas value: strconv.ParseUint: parsing "
				"\"x\": invalid syntax" },
	};
	struct req *r;
	size_t i;

	r = mkreq("PUT", "a", NULL, "cas=1", "acquire=a b", NULL);
	api_kv(&h, r);
	assert_body(r, 400, "Conflicting flags: acquire=a+b&cas=1");
	done(r);
	r = mkreq("PUT", "a", NULL, "stale", "consistent", NULL);
	api_kv(&h, r);
	assert_body(r, 400, "Cannot specify ?stale with ?consistent, "
			    "conflicting semantics.");
	done(r);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		r = mkreq("PUT", v[i].key, "x", v[i].arg, NULL);
		api_kv(&h, r);
		assert_body(r, 400, v[i].body);
		done(r);
	}
	assert_int_equal(fake.calls, 0); /* nothing reached raftd */
}

static void
test_delete(void **state)
{
	struct req *r = mkreq("DELETE", "d/1", NULL, NULL);

	api_kv(&h, r);
	assert_int_equal(fake.apply.op, KV_OP_DELETE);
	apply_result(r, false);
	assert_body(r, 200, "true"); /* true even if it did not exist */
	done(r);

	r = mkreq("DELETE", "", NULL, "recurse", NULL);
	api_kv(&h, r);
	assert_int_equal(fake.apply.op, KV_OP_DELETE_TREE);
	assert_string_equal(fake.key, ""); /* everything */
	apply_result(r, false);
	assert_body(r, 200, "true");
	done(r);

	r = mkreq("DELETE", "d/2", NULL, "cas=0", NULL);
	api_kv(&h, r);
	assert_int_equal(fake.apply.op, KV_OP_DELETE_CAS);
	apply_result(r, false);
	assert_body(r, 200, "false");
	done(r);

	fake.calls = 0;
	r = mkreq("DELETE", "d/", NULL, "recurse", "cas=1", NULL);
	api_kv(&h, r);
	assert_body(r, 400, "Conflicting flags: cas=1&recurse=");
	done(r);
	r = mkreq("DELETE", "", NULL, NULL);
	api_kv(&h, r);
	assert_body(r, 400, "Missing key name");
	done(r);
	assert_int_equal(fake.calls, 0);
}

/* ---- reads ---- */

static void
test_get_request_shapes(void **state)
{
	struct req *r = mkreq("GET", "a", NULL, "index=5", "wait=2s",
	    "stale", NULL);

	api_kv(&h, r);
	assert_int_equal(fake.type, MSG_KV_GET);
	assert_int_equal(fake.get.mode, KV_GET_ONE);
	assert_true(fake.get.opts.min_index == 5);
	assert_int_equal(fake.get.opts.wait_ms, 2000);
	assert_int_equal(fake.get.opts.consistency, PROTO_CONSISTENCY_STALE);
	assert_int_equal(fake.timeout, 7000 + 2000 + 125);
	done(r);

	r = mkreq("GET", "web", NULL, "recurse=false", NULL);
	api_kv(&h, r);
	assert_int_equal(fake.get.mode, KV_GET_RECURSE); /* presence */
	done(r);

	r = mkreq("GET", "web/", NULL, "keys", "seperator=/", NULL);
	api_kv(&h, r);
	assert_int_equal(fake.get.mode, KV_GET_KEYS);
	assert_string_equal(fake.sep, "/");
	done(r);

	r = mkreq("GET", "web/", NULL, "keys", "seperator=-",
	    "separator=/", NULL);
	api_kv(&h, r);
	assert_string_equal(fake.sep, "/"); /* the right spelling wins */
	done(r);

	fake.calls = 0;
	r = mkreq("GET", "", NULL, NULL);
	api_kv(&h, r);
	assert_body(r, 400, "Missing key name");
	done(r);
	r = mkreq("GET", "a", NULL, "index=abc", NULL);
	api_kv(&h, r);
	assert_body(r, 400, "Invalid index");
	done(r);
	assert_int_equal(fake.calls, 0);
}

static void
test_get_404_has_headers_and_empty_body(void **state)
{
	struct msg_kv_get_result res;
	struct req *r = mkreq("GET", "missing", NULL, "consistent", NULL);

	api_kv(&h, r);
	memset(&res, 0, sizeof(res));
	res.meta.index = 0; /* an empty store */
	res.meta.known_leader = true;
	res.meta.last_contact_ms = 0;
	fake.cb(r, &res);
	assert_body(r, 404, "");
	assert_null(req_reply_header(r, "Content-Type"));
	assert_string_equal(req_reply_header(r, "X-Consul-Index"), "1");
	assert_string_equal(req_reply_header(r, "X-Consul-KnownLeader"),
	    "true");
	assert_string_equal(req_reply_header(r, "X-Consul-LastContact"), "0");
	assert_string_equal(req_reply_header(r,
	    "X-Consul-Effective-Consistency"), "consistent");
	done(r);
}

static void
test_get_keys_empty_prefix(void **state)
{
	struct msg_kv_get_result res;
	struct req *r = mkreq("GET", "", NULL, "keys", NULL);

	memset(&res, 0, sizeof(res));
	res.meta.index = 9;
	api_kv(&h, r);
	fake.cb(r, &res);
	assert_body(r, 200, "[]");
	assert_string_equal(req_reply_header(r, "X-Consul-Index"), "9");
	done(r);

	r = mkreq("GET", "nope", NULL, "keys", NULL);
	api_kv(&h, r);
	fake.cb(r, &res);
	assert_body(r, 404, "");
	done(r);
}

static void
test_get_entries_json_and_raw(void **state)
{
	struct proto_kv_entry e[2];
	struct msg_kv_get_result res;
	struct req *r;

	memset(e, 0, sizeof(e));
	e[0].key = proto_str_c("foo");
	e[0].value = proto_str_c("bar");
	e[0].flags = 0x2ddccbc058a50c18ull;
	e[0].create_index = 5;
	e[0].modify_index = 6;
	e[0].lock_index = 1;
	e[0].session = proto_str_c("s<1>");
	e[1].key = proto_str_c("foo/x");
	e[1].create_index = 7;
	e[1].modify_index = 7;
	memset(&res, 0, sizeof(res));
	res.found = true;
	res.entries = e;
	res.n_entries = 2;
	res.meta.index = 7;

	r = mkreq("GET", "foo", NULL, "recurse", NULL);
	api_kv(&h, r);
	fake.cb(r, &res);
	assert_body(r, 200,
	    "[{\"LockIndex\":1,\"Key\":\"foo\",\"Flags\":3304740253564472344,"
	    "\"Value\":\"YmFy\",\"Session\":\"s\\u003c1\\u003e\","
	    "\"CreateIndex\":5,\"ModifyIndex\":6},"
	    "{\"LockIndex\":0,\"Key\":\"foo/x\",\"Flags\":0,\"Value\":null,"
	    "\"CreateIndex\":7,\"ModifyIndex\":7}]");
	done(r);

	r = mkreq("GET", "foo", NULL, "pretty", NULL);
	r->pretty = true;
	res.n_entries = 1;
	api_kv(&h, r);
	fake.cb(r, &res);
	assert_body(r, 200, "[\n    {\n        \"LockIndex\": 1,\n"
	    "        \"Key\": \"foo\",\n"
	    "        \"Flags\": 3304740253564472344,\n"
	    "        \"Value\": \"YmFy\",\n"
	    "        \"Session\": \"s\\u003c1\\u003e\",\n"
	    "        \"CreateIndex\": 5,\n        \"ModifyIndex\": 6\n"
	    "    }\n]\n");
	done(r);

	r = mkreq("GET", "foo", NULL, "raw", NULL);
	api_kv(&h, r);
	fake.cb(r, &res);
	assert_body(r, 200, "bar");
	assert_string_equal(req_reply_header(r, "Content-Type"), "text/plain");
	assert_string_equal(req_reply_header(r, "X-Content-Type-Options"),
	    "nosniff");
	assert_string_equal(req_reply_header(r, "Content-Security-Policy"),
	    "sandbox");
	assert_string_equal(req_reply_header(r, "X-Consul-Index"), "7");
	done(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_put_plain_is_always_true, setup),
		cmocka_unit_test_setup(test_put_conditional_ops, setup),
		cmocka_unit_test_setup(test_put_refusals, setup),
		cmocka_unit_test_setup(test_delete, setup),
		cmocka_unit_test_setup(test_get_request_shapes, setup),
		cmocka_unit_test_setup(test_get_404_has_headers_and_empty_body,
		    setup),
		cmocka_unit_test_setup(test_get_keys_empty_prefix, setup),
		cmocka_unit_test_setup(test_get_entries_json_and_raw, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
