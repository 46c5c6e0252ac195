/*
 * test_http_router.c — route lookup and method enforcement as Consul's
 * agent/http.go wrapper and Go's ServeMux do it: exact beats prefix, the
 * longest prefix wins, the remainder (already URL-decoded, may hold '/')
 * is the parameter, OPTIONS answers Allow, other methods 405, unknown
 * paths 404, a prefix route's root without its slash redirects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "httpd/router.h"

static void h_kv(struct httpd *h, struct req *r) { }
static void h_svc(struct httpd *h, struct req *r) { }
static void h_reg(struct httpd *h, struct req *r) { }
static void h_leader(struct httpd *h, struct req *r) { }
static void h_keyring(struct httpd *h, struct req *r) { }

static struct router rt;

static int
setup(void **state)
{
	router_init(&rt);
	assert_int_equal(router_add(&rt, "/v1/kv/", ROUTER_GET | ROUTER_PUT |
	    ROUTER_DELETE, h_kv, 524288, "kv_max_value_size"), 0);
	assert_int_equal(router_add(&rt, "/v1/agent/service/", ROUTER_GET,
	    h_svc, 0, NULL), 0);
	assert_int_equal(router_add(&rt, "/v1/agent/service/register",
	    ROUTER_PUT, h_reg, 0, NULL), 0);
	assert_int_equal(router_add(&rt, "/v1/status/leader", ROUTER_GET,
	    h_leader, 0, NULL), 0);
	assert_int_equal(router_add(&rt, "/v1/operator/keyring", ROUTER_GET |
	    ROUTER_POST | ROUTER_PUT | ROUTER_DELETE, h_keyring, 0, NULL), 0);
	return 0;
}

static int
teardown(void **state)
{
	router_fini(&rt);
	return 0;
}

static void
test_exact_and_prefix(void **state)
{
	const struct route *r;
	const char *p;

	assert_int_equal(router_find(&rt, "GET", "/v1/status/leader", &r, &p),
	    ROUTER_FOUND);
	assert_ptr_equal(r->fn, h_leader);
	assert_string_equal(p, "");
	assert_int_equal(router_find(&rt, "GET", "/v1/kv/a/b c:d,e", &r, &p),
	    ROUTER_FOUND);
	assert_ptr_equal(r->fn, h_kv);
	assert_string_equal(p, "a/b c:d,e");
	assert_int_equal(r->max_body, 524288);
	assert_int_equal(router_find(&rt, "GET", "/v1/kv/", &r, &p),
	    ROUTER_FOUND);
	assert_string_equal(p, "");
	/* "//" after the prefix is part of the parameter (checked later) */
	assert_int_equal(router_find(&rt, "GET", "/v1/kv//a", &r, &p),
	    ROUTER_FOUND);
	assert_string_equal(p, "/a");
	/* an exact route beats the prefix it lies under */
	assert_int_equal(router_find(&rt, "PUT", "/v1/agent/service/register",
	    &r, &p), ROUTER_FOUND);
	assert_ptr_equal(r->fn, h_reg);
	/* ... but only when exact: a longer path takes the prefix */
	assert_int_equal(router_find(&rt, "GET",
	    "/v1/agent/service/register/x", &r, &p), ROUTER_FOUND);
	assert_ptr_equal(r->fn, h_svc);
	assert_string_equal(p, "register/x");
	assert_int_equal(router_find(&rt, "GET",
	    "/v1/agent/service/batman/postgresql0", &r, &p), ROUTER_FOUND);
	assert_string_equal(p, "batman/postgresql0");
}

static void
test_methods(void **state)
{
	const struct route *r;
	const char *p;
	char allow[64];

	assert_int_equal(router_find(&rt, "OPTIONS", "/v1/kv/x", &r, &p),
	    ROUTER_OPTIONS_OK);
	router_allow(r, allow, sizeof(allow));
	assert_string_equal(allow, "OPTIONS,GET,PUT,DELETE");
	assert_int_equal(router_find(&rt, "POST", "/v1/kv/x", &r, &p),
	    ROUTER_NOT_ALLOWED);
	assert_int_equal(router_find(&rt, "FOO", "/v1/kv/x", &r, &p),
	    ROUTER_NOT_ALLOWED);
	assert_int_equal(router_find(&rt, "HEAD", "/v1/kv/x", &r, &p),
	    ROUTER_NOT_ALLOWED);
	assert_int_equal(router_find(&rt, "get", "/v1/kv/x", &r, &p),
	    ROUTER_NOT_ALLOWED); /* methods are case-sensitive */
	assert_int_equal(router_find(&rt, "PUT", "/v1/status/leader", &r, &p),
	    ROUTER_NOT_ALLOWED);
	router_allow(r, allow, sizeof(allow));
	assert_string_equal(allow, "OPTIONS,GET");
	assert_int_equal(router_find(&rt, "GET", "/v1/agent/service/register",
	    &r, &p), ROUTER_NOT_ALLOWED);
	router_allow(r, allow, sizeof(allow));
	assert_string_equal(allow, "OPTIONS,PUT");
	assert_int_equal(router_find(&rt, "DELETE", "/v1/operator/keyring", &r,
	    &p), ROUTER_FOUND);
	router_allow(r, allow, sizeof(allow));
	assert_string_equal(allow, "OPTIONS,GET,POST,PUT,DELETE");
}

static void
test_not_found_and_redirect(void **state)
{
	const struct route *r;
	const char *p;

	assert_int_equal(router_find(&rt, "GET", "/v1/no/such", &r, &p),
	    ROUTER_NOT_FOUND);
	assert_null(r);
	assert_int_equal(router_find(&rt, "GET", "/v1/status/leader/", &r, &p),
	    ROUTER_NOT_FOUND);
	assert_int_equal(router_find(&rt, "GET", "/v1/kvx", &r, &p),
	    ROUTER_NOT_FOUND);
	/* absolute-form request targets never match a route */
	assert_int_equal(router_find(&rt, "GET", "http://evil/v1/kv/a", &r,
	    &p), ROUTER_NOT_FOUND);
	assert_int_equal(router_find(&rt, "GET", "", &r, &p),
	    ROUTER_NOT_FOUND);
	assert_int_equal(router_find(&rt, "GET", "/v1/kv", &r, &p),
	    ROUTER_REDIRECT);
}

static void
test_bad_routes_refused(void **state)
{
	struct router t;

	router_init(&t);
	assert_int_equal(router_add(&t, "v1/x", ROUTER_GET, h_kv, 0, NULL),
	    ERR_INVAL);
	assert_int_equal(router_add(&t, "/v1/x", 0, h_kv, 0, NULL), ERR_INVAL);
	assert_int_equal(router_method("OPTIONS"), ROUTER_OPTIONS);
	assert_int_equal(router_method("PATCH"), ROUTER_OTHER);
	router_fini(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_and_prefix),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_not_found_and_redirect),
		cmocka_unit_test(test_bad_routes_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
