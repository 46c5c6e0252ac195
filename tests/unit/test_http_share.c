/*
 * test_http_share.c — httpd/share.c, the answer shared by watchers woken
 * with the same raftd reply: a hit needs the same renderer, method, path,
 * arguments other than index/wait, ?pretty, handler state and reply
 * bytes; a hit copies the status and headers and shares the body, which
 * outlives the cache entry while a request holds it; a request with reply
 * headers already set is not answered from the cache; entries expire after
 * SHARE_TTL_MS and the oldest is replaced when every slot is taken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "httpd/req.h"
#include "httpd/share.h"

static void
render_a(struct req *r, const void *body)
{
}

static void
render_b(struct req *r, const void *body)
{
}

static const uint8_t raw1[] = "raftd reply one";
static const uint8_t raw2[] = "raftd reply two";

/* A GET of path with "k=v" arguments (NULL v: present without '='). */
static struct req *
mkreq(const char *path, const char *const *kv, size_t n)
{
	struct req *r = req_new(NULL);

	assert_non_null(r);
	r->method = "GET";
	r->path = path;
	r->argv = calloc(n + 1, sizeof(*r->argv));
	assert_non_null(r->argv);
	for (size_t i = 0; i < n; i++) {
		r->argv[i].key = kv[2 * i];
		r->argv[i].val = kv[2 * i + 1];
	}
	r->args.v = r->argv;
	r->args.n = n;
	return r;
}

static bool
same_key(struct req *a, share_cb ca, struct req *b, share_cb cb)
{
	char *ka, *kb;
	size_t la, lb;
	bool same;

	assert_int_equal(share_key(a, ca, &ka, &la), 0);
	assert_int_equal(share_key(b, cb, &kb, &lb), 0);
	same = la == lb && memcmp(ka, kb, la) == 0;
	free(ka);
	free(kb);
	return same;
}

static void
test_key_inputs(void **state)
{
	const char *i1[] = { "passing", NULL, "index", "7", "wait", "5m" };
	const char *i2[] = { "passing", NULL, "index", "9" };
	const char *f[] = { "passing", NULL, "index", "7", "filter", "x" };
	const char *t[] = { "passing", "", "index", "7" };
	struct req *a = mkreq("/v1/health/service/web", i1, 3);
	struct req *b = mkreq("/v1/health/service/web", i2, 2);
	struct req *c = mkreq("/v1/health/service/web", f, 3);
	struct req *d = mkreq("/v1/health/service/web", t, 2);
	struct req *e = mkreq("/v1/health/service/api", i2, 2);

	/* index and wait do not count; everything else does */
	assert_true(same_key(a, render_a, b, render_a));
	assert_false(same_key(a, render_a, b, render_b));
	assert_false(same_key(a, render_a, c, render_a));
	assert_false(same_key(b, render_a, d, render_a)); /* ?passing vs = */
	assert_false(same_key(a, render_a, e, render_a));
	b->pretty = true;
	assert_false(same_key(a, render_a, b, render_a));
	b->pretty = false;
	b->hflags = 1;
	assert_false(same_key(a, render_a, b, render_a));
	b->hflags = 0;
	b->hop = 2;
	assert_false(same_key(a, render_a, b, render_a));
	b->hop = 0;
	b->method = "HEAD";
	assert_false(same_key(a, render_a, b, render_a));
	req_free(a);
	req_free(b);
	req_free(c);
	req_free(d);
	req_free(e);
}

/* Answers r as a renderer would: status, headers, an owned body. */
static void
render(struct req *r, const char *body, const char *index)
{
	req_set_header(r, "X-Consul-Index", index);
	req_reply(r, 200, "application/json", strdup(body), strlen(body));
}

static void
keep(struct share *c, struct req *r, const uint8_t *raw, size_t len,
    uint64_t now)
{
	char *key;
	size_t kl;

	assert_int_equal(share_key(r, render_a, &key, &kl), 0);
	share_keep(c, r, key, kl, raw, len, now);
}

static bool
answer(struct share *c, struct req *r, const uint8_t *raw, size_t len,
    uint64_t now)
{
	char *key;
	size_t kl;
	bool hit;

	assert_int_equal(share_key(r, render_a, &key, &kl), 0);
	hit = share_answer(c, r, key, kl, raw, len, now);
	free(key);
	return hit;
}

static void
test_hit_shares_body(void **state)
{
	const char *i1[] = { "index", "7" };
	const char *i2[] = { "index", "8", "wait", "1s" };
	struct share c = { 0 };
	struct req *a = mkreq("/v1/kv/k", i1, 1);
	struct req *b = mkreq("/v1/kv/k", i2, 2);
	struct req *d = mkreq("/v1/kv/k", i2, 2);

	assert_false(answer(&c, a, raw1, sizeof(raw1), 100));
	render(a, "[1,2]", "42");
	keep(&c, a, raw1, sizeof(raw1), 100);
	assert_non_null(a->shared);
	assert_int_equal(c.n, 1);
	/* a request with reply headers already set: rendered, not shared */
	req_set_header(d, "X-Pre", "1");
	assert_false(answer(&c, d, raw1, sizeof(raw1), 150));
	assert_false(d->replied);
	/* another reply: no hit */
	assert_false(answer(&c, d, raw2, sizeof(raw2), 150));
	assert_false(d->replied);
	/* the same reply: the same body, status and headers */
	assert_true(answer(&c, b, raw1, sizeof(raw1), 150));
	assert_true(b->replied);
	assert_int_equal(b->status, 200);
	assert_ptr_equal(b->rbody, a->rbody);
	assert_int_equal(b->rbody_len, 5);
	assert_string_equal(req_reply_header(b, "X-Consul-Index"), "42");
	assert_string_equal(req_reply_header(b, "Content-Type"),
	    "application/json");
	assert_int_equal(a->shared->refs, 3);
	assert_int_equal(c.hits, 1);
	/* the body outlives the entry and the first request (ASan) */
	share_expire(&c, 100 + SHARE_TTL_MS + 1);
	assert_int_equal(c.n, 0);
	req_free(a);
	assert_memory_equal(b->rbody, "[1,2]", 5);
	req_free(b);
	req_free(d);
}

static void
test_expiry_and_slots(void **state)
{
	const char *kv[] = { "index", "7" };
	struct share c = { 0 };
	struct req *r[SHARE_SLOTS + 1];
	uint8_t raw[SHARE_SLOTS + 1][4];
	struct req *q;

	for (size_t i = 0; i <= SHARE_SLOTS; i++) {
		memcpy(raw[i], "raw", 3);
		raw[i][3] = (uint8_t)i;
		r[i] = mkreq("/v1/kv/k", kv, 1);
		render(r[i], "x", "1");
		keep(&c, r[i], raw[i], 4, 1000 + i);
	}
	assert_int_equal(c.n, SHARE_SLOTS);
	/* the oldest (raw 0) was replaced; the newest hits */
	q = mkreq("/v1/kv/k", kv, 1);
	assert_false(answer(&c, q, raw[0], 4, 1010));
	assert_true(answer(&c, q, raw[SHARE_SLOTS], 4, 1010));
	req_free(q);
	/* past the TTL, no hit even before share_expire runs */
	q = mkreq("/v1/kv/k", kv, 1);
	assert_false(answer(&c, q, raw[SHARE_SLOTS], 4,
	    1000 + SHARE_SLOTS + SHARE_TTL_MS + 1));
	req_free(q);
	for (size_t i = 0; i <= SHARE_SLOTS; i++)
		req_free(r[i]);
	share_clear(&c);
	assert_int_equal(c.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_inputs),
		cmocka_unit_test(test_hit_shares_body),
		cmocka_unit_test(test_expiry_and_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
