/*
 * test_http_query.c — query-string decoding as Consul's agent/http.go
 * does it: presence flags, strconv.ParseUint, time.ParseDuration and
 * Duration.String, the wait default and cap, consistency conflicts, the
 * Enterprise parameters, url.Values.Encode, and KV key validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "httpd/query.h"

#define ARGS(...)                                                          \
	static const struct query_arg argv_[] = { __VA_ARGS__ };           \
	struct query_args a = { argv_, sizeof(argv_) / sizeof(argv_[0]) }

static const struct query_limits lim = { 300000, 600000, "dc1" };

static void
test_presence_flags(void **state)
{
	ARGS({ "recurse", "false" }, { "keys", NULL }, { "x", "1" },
	    { "x", "2" });

	assert_true(query_has(&a, "recurse")); /* ?recurse=false recurses */
	assert_true(query_has(&a, "keys"));
	assert_string_equal(query_get(&a, "keys"), "");
	assert_string_equal(query_get(&a, "x"), "1"); /* first wins */
	assert_null(query_get(&a, "raw"));
}

static void
test_parse_u64(void **state)
{
	uint64_t v;

	assert_int_equal(query_parse_u64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(query_parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(query_parse_u64("18446744073709551616", &v),
	    ERR_TOOBIG);
	assert_int_equal(query_parse_u64("99999999999999999999x", &v),
	    ERR_INVAL);
	assert_int_equal(query_parse_u64("-1", &v), ERR_INVAL);
	assert_int_equal(query_parse_u64("+1", &v), ERR_INVAL);
	assert_int_equal(query_parse_u64("x", &v), ERR_INVAL);
	assert_int_equal(query_parse_u64("", &v), ERR_INVAL);
	assert_int_equal(query_parse_u64("1 ", &v), ERR_INVAL);
	assert_int_equal(query_parse_u64("0x10", &v), ERR_INVAL);
}

static void
dur_ok(const char *s, int64_t want)
{
	int64_t ns = -12345;

	assert_int_equal(query_parse_duration(s, &ns), 0);
	assert_true(ns == want);
}

static void
test_parse_duration(void **state)
{
	int64_t ns;

	dur_ok("0", 0);
	dur_ok("10s", 10000000000ll);
	dur_ok("9.98s", 9980000000ll);
	dur_ok("5m", 300000000000ll);
	dur_ok("1h2m", 3720000000000ll);
	dur_ok("1m30s", 90000000000ll);
	dur_ok("500ms", 500000000ll);
	dur_ok("1.5h", 5400000000000ll);
	dur_ok(".5s", 500000000ll);
	dur_ok("1.s", 1000000000ll);
	dur_ok("-1s", -1000000000ll);
	dur_ok("+2s", 2000000000ll);
	dur_ok("3us", 3000ll);
	dur_ok("3\xc2\xb5s", 3000ll);
	dur_ok("3\xce\xbcs", 3000ll);
	dur_ok("7ns", 7ll);
	dur_ok("2562047h47m16.854775807s", INT64_MAX);
	assert_int_equal(query_parse_duration("", &ns), ERR_INVAL);
	assert_int_equal(query_parse_duration("abc", &ns), ERR_INVAL);
	assert_int_equal(query_parse_duration("10", &ns), ERR_INVAL);
	assert_int_equal(query_parse_duration("10x", &ns), ERR_INVAL);
	assert_int_equal(query_parse_duration("5mx", &ns), ERR_INVAL);
	assert_int_equal(query_parse_duration(".s", &ns), ERR_INVAL);
	assert_int_equal(query_parse_duration("-", &ns), ERR_INVAL);
	assert_int_equal(query_parse_duration("1s ", &ns), ERR_INVAL);
	assert_int_equal(query_parse_duration("2562048h", &ns), ERR_INVAL);
	assert_int_equal(query_parse_duration("9223372036854775808ns", &ns),
	    ERR_INVAL);
}

static void
dur_str(int64_t ns, const char *want)
{
	char buf[32];

	query_format_duration(ns, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void
test_format_duration(void **state)
{
	dur_str(0, "0s");
	dur_str(10000000000ll, "10s");
	dur_str(300000000000ll, "5m0s");
	dur_str(3600000000000ll, "1h0m0s");
	dur_str(1500000000ll, "1.5s");
	dur_str(500000000ll, "500ms");
	dur_str(1500ll, "1.5\xc2\xb5s");
	dur_str(7ll, "7ns");
	dur_str(-2000000000ll, "-2s");
	dur_str(INT64_MAX, "2562047h47m16.854775807s");
}

static int
opts(const struct query_args *a, struct query_opts *o, int *status,
    const char **why)
{
	*why = NULL;
	return query_parse_opts(a, &lim, o, status, why);
}

static void
test_opts_defaults_and_wait(void **state)
{
	struct query_opts o;
	const char *why;
	int status;

	{
		ARGS({ "index", "42" });
		assert_int_equal(opts(&a, &o, &status, &why), 0);
		assert_true(o.index == 42);
		assert_int_equal(o.wait_ms, 300000); /* default 5 m */
		assert_string_equal(o.dc, "dc1");
		assert_int_equal(o.consistency, QUERY_DEFAULT);
	}
	{
		ARGS({ "index", "1" }, { "wait", "9.98s" });
		assert_int_equal(opts(&a, &o, &status, &why), 0);
		assert_int_equal(o.wait_ms, 9980);
	}
	{
		ARGS({ "index", "1" }, { "wait", "999h" });
		assert_int_equal(opts(&a, &o, &status, &why), 0);
		assert_int_equal(o.wait_ms, 600000); /* capped at 10 m */
	}
	{
		ARGS({ "wait", "-5s" }, { "index", "" }, { "pretty", NULL });
		assert_int_equal(opts(&a, &o, &status, &why), 0);
		assert_int_equal(o.wait_ms, 300000);
		assert_true(o.index == 0);
		assert_true(o.pretty);
	}
	{
		ARGS({ "dc", "dc1" }, { "token", "t" }, { "ns", "default" });
		assert_int_equal(opts(&a, &o, &status, &why), 0);
		assert_string_equal(o.token, "t");
	}
}

static void
opt_err(const struct query_args *a, int want_status, const char *want)
{
	struct query_opts o;
	const char *why;
	int status = 0;

	assert_int_equal(opts(a, &o, &status, &why), ERR_INVAL);
	assert_int_equal(status, want_status);
	assert_string_equal(why, want);
}

static void
test_opts_errors(void **state)
{
	{
		ARGS({ "index", "abc" });
		opt_err(&a, 400, "Invalid index");
	}
	{
		ARGS({ "index", "-1" });
		opt_err(&a, 400, "Invalid index");
	}
	{
		ARGS({ "index", "1" }, { "wait", "abc" });
		opt_err(&a, 400, "Invalid wait time");
	}
	{
		ARGS({ "stale", NULL }, { "consistent", "false" });
		opt_err(&a, 400, "Cannot specify ?stale with ?consistent, "
				 "conflicting semantics.");
	}
	{
		ARGS({ "max_stale", "10s" }, { "consistent", NULL });
		opt_err(&a, 400, "Cannot specify ?stale with ?consistent, "
				 "conflicting semantics.");
	}
	{
		ARGS({ "max_stale", "zz" });
		opt_err(&a, 400, "Invalid max stale time");
	}
	{
		ARGS({ "ns", "team" });
		opt_err(&a, 400, "Invalid query parameter: \"ns\" - Namespaces "
				 "are a Consul Enterprise feature");
	}
	{
		ARGS({ "partition", "p1" });
		opt_err(&a, 400, "Invalid query parameter: \"partition\" - "
				 "Partitions are a Consul Enterprise feature");
	}
	{
		ARGS({ "dc", "dc2" });
		opt_err(&a, 500, "No path to datacenter");
	}
}

static void
test_consistency(void **state)
{
	struct query_opts o;
	const char *why;
	int status;

	{
		ARGS({ "stale", "" });
		assert_int_equal(opts(&a, &o, &status, &why), 0);
		assert_int_equal(o.consistency, QUERY_STALE);
	}
	{
		ARGS({ "consistent", NULL });
		assert_int_equal(opts(&a, &o, &status, &why), 0);
		assert_int_equal(o.consistency, QUERY_CONSISTENT);
	}
	{
		ARGS({ "max_stale", "5s" });
		assert_int_equal(opts(&a, &o, &status, &why), 0);
		assert_int_equal(o.consistency, QUERY_STALE);
	}
}

static void
test_encode_like_go(void **state)
{
	char *s;
	ARGS({ "cas", "0" }, { "acquire", "a b/c" }, { "cas", "1" },
	    { "flag", NULL }, { "k~", "é" });

	assert_int_equal(query_encode(&a, &s), 0);
	assert_string_equal(s,
	    "acquire=a+b%2Fc&cas=0&cas=1&flag=&k~=%C3%A9");
	free(s);
}

static void
key_ok(const char *k)
{
	const char *why = NULL;

	assert_int_equal(query_check_key(k, strlen(k), &why), 0);
}

static void
key_bad(const char *k, size_t n)
{
	const char *why = NULL;

	assert_int_equal(query_check_key(k, n, &why), ERR_INVAL);
	assert_non_null(why);
	assert_true(strncmp(why, "Invalid key name", 16) == 0);
}

static void
test_keys(void **state)
{
	key_ok("");
	key_ok("foo");
	key_ok("config/app,dev/data");
	key_ok("host:ctr:80");
	key_ok("a b");
	key_ok("public/../secret");
	key_ok("dir/");
	key_ok("\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87");
	key_ok("?&=%2F");
	key_bad("/lead", 5);
	key_bad("a//b", 4);
	key_bad("a/b//", 5);
	key_bad("a\0b", 3);
	key_bad("a\x01", 2);
	key_bad("a\x7f", 2);
	key_bad("a\nb", 3);
	key_bad("\xc2\xa0", 2);     /* NBSP */
	key_bad("\xc2\x85", 2);     /* NEL (C1) */
	key_bad("\xe2\x80\x8b", 3); /* zero-width space */
	key_bad("\xff", 1);         /* invalid UTF-8 */
	key_bad("\xed\xa0\x80", 3); /* surrogate */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_presence_flags),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_opts_defaults_and_wait),
		cmocka_unit_test(test_opts_errors),
		cmocka_unit_test(test_consistency),
		cmocka_unit_test(test_encode_like_go),
		cmocka_unit_test(test_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
