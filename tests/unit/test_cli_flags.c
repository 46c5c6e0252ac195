/*
 * test_cli_flags.c — unit tests for the cairn command's pieces that need
 * no agent: Go-style flag parsing (cli/flags.c), base64 (cli/base64.c),
 * URL escaping of KV keys, paths and queries and the "Unexpected
 * response code" text (cli/http.c), the shared command helpers
 * (flags_parse_none, flags_take_repeat) and the agent address rules
 * (-http-addr, CONSUL_HTTP_ADDR, CAIRN_HTTP_ADDR). The commands against a
 * live agent are in tests/integration/test_cli_kv.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "cli/http.h"
#include "err.h"

static void
test_flags_forms(void **state)
{
	bool b = false, r = false;
	const char *s = "default";
	uint64_t n = 0;
	const struct flags_spec specs[] = {
		{ "base64", FLAGS_BOOL, &b },
		{ "recurse", FLAGS_BOOL, &r },
		{ "separator", FLAGS_STR, &s },
		{ "flags", FLAGS_U64, &n },
		{ NULL, 0, NULL },
	};
	char *argv1[] = { "get", "-base64", "--separator=:", "-flags", "42",
		"-recurse=false", "key", "-detailed", NULL };
	assert_int_equal(flags_parse(specs, 8, argv1, NULL), 6);
	assert_true(b);
	assert_false(r);
	assert_string_equal(s, ":");
	assert_int_equal(n, 42);

	/* "--" ends the flags; a lone "-" is an argument */
	char *argv2[] = { "put", "--", "-recurse", NULL };
	assert_int_equal(flags_parse(specs, 3, argv2, NULL), 2);
	char *argv3[] = { "put", "-", NULL };
	assert_int_equal(flags_parse(specs, 2, argv3, NULL), 1);
	/* an empty value is a value */
	char *argv4[] = { "get", "-separator=", NULL };
	assert_int_equal(flags_parse(specs, 2, argv4, NULL), 2);
	assert_string_equal(s, "");
}

static void
test_flags_errors(void **state)
{
	bool b = false;
	uint64_t n = 0;
	const char *s = NULL;
	const struct flags_spec specs[] = {
		{ "cas", FLAGS_BOOL, &b },
		{ "modify-index", FLAGS_U64, &n },
		{ "session", FLAGS_STR, &s },
		{ NULL, 0, NULL },
	};
	char *unknown[] = { "put", "-nope", NULL };
	assert_int_equal(flags_parse(specs, 2, unknown, NULL), -1);
	char *missing[] = { "put", "-session", NULL };
	assert_int_equal(flags_parse(specs, 2, missing, NULL), -1);
	char *badnum[] = { "put", "-modify-index=x1", NULL };
	assert_int_equal(flags_parse(specs, 2, badnum, NULL), -1);
	char *negnum[] = { "put", "-modify-index=-1", NULL };
	assert_int_equal(flags_parse(specs, 2, negnum, NULL), -1);
	char *badbool[] = { "put", "-cas=maybe", NULL };
	assert_int_equal(flags_parse(specs, 2, badbool, NULL), -1);
	char *help[] = { "put", "-h", NULL };
	assert_int_equal(flags_parse(specs, 2, help, NULL), FLAGS_HELP);
	char *triple[] = { "put", "---cas", NULL };
	assert_int_equal(flags_parse(specs, 2, triple, NULL), -1);
}

static void
roundtrip(const char *raw, size_t len, const char *want)
{
	char *enc = base64_encode(raw, len), *dec;
	size_t dlen, bad;

	assert_string_equal(enc, want);
	assert_int_equal(base64_decode(enc, strlen(enc), &dec, &dlen, &bad), 0);
	assert_int_equal(dlen, len);
	assert_memory_equal(dec, raw, len);
	free(enc);
	free(dec);
}

static void
test_base64(void **state)
{
	char *out;
	size_t len, bad;

	/* RFC 4648 §10 test vectors */
	roundtrip("", 0, "");
	roundtrip("f", 1, "Zg==");
	roundtrip("fo", 2, "Zm8=");
	roundtrip("foo", 3, "Zm9v");
	roundtrip("foob", 4, "Zm9vYg==");
	roundtrip("fooba", 5, "Zm9vYmE=");
	roundtrip("foobar", 6, "Zm9vYmFy");
	roundtrip("\0\xff\x10", 3, "AP8Q");
	/* Go's StdEncoding rejects these */
	assert_int_equal(base64_decode("Zg", 2, &out, &len, &bad), ERR_INVAL);
	assert_int_equal(base64_decode("Zg=a", 4, &out, &len, &bad),
	    ERR_INVAL);
	assert_int_equal(base64_decode("Z===", 4, &out, &len, &bad),
	    ERR_INVAL);
	assert_int_equal(base64_decode("Zg==Zg==", 8, &out, &len, &bad),
	    ERR_INVAL);
	assert_int_equal(base64_decode("Zm9v YmFy", 9, &out, &len, &bad),
	    ERR_INVAL);
	assert_int_equal(bad, 4);
	assert_int_equal(base64_decode("!!!!", 4, &out, &len, &bad),
	    ERR_INVAL);
	assert_int_equal(bad, 0);
}

static void
test_escape(void **state)
{
	char *e = http_escape("we ird/k?e#y%&=+:@$,;~._-", true);
	assert_string_equal(e, "we%20ird/k%3Fe%23y%25&=+:@$,;~._-");
	free(e);
	e = http_escape("a/b c&d", false);
	assert_string_equal(e, "a%2Fb%20c%26d");
	free(e);
	e = http_escape("\xc3\xa9", true);
	assert_string_equal(e, "%C3%A9");
	free(e);
}

static void
test_path_query(void **state)
{
	char *p = http_path("/v1/agent/join/", "a b/c");
	char *q = NULL;

	assert_string_equal(p, "/v1/agent/join/a%20b%2Fc");
	free(p);
	http_query_add(&q, "wan", "1");
	http_query_add(&q, "filter", "Name == \"x&y\"");
	assert_string_equal(q, "wan=1&filter=Name%20%3D%3D%20%22x%26y%22");
	free(q);
}

static void
test_status_err(void **state)
{
	char body[] = " \tNo cluster leader \r\n";
	struct http_response r = { 500, body, sizeof(body) - 1, 0 };
	char err[128];

	http_status_err(&r, 0, err, sizeof(err));
	assert_string_equal(err, "Unexpected response code: 500 ( \tNo "
	    "cluster leader \r\n)");
	http_status_err(&r, HTTP_TRIM_EOL, err, sizeof(err));
	assert_string_equal(err, "Unexpected response code: 500 ( \tNo "
	    "cluster leader )");
	http_status_err(&r, HTTP_TRIM_END, err, sizeof(err));
	assert_string_equal(err, "Unexpected response code: 500 ( \tNo "
	    "cluster leader)");
	http_status_err(&r, HTTP_TRIM, err, sizeof(err));
	assert_string_equal(err, "Unexpected response code: 500 (No "
	    "cluster leader)");
}

static int
take_count(const char *v, void *arg)
{
	const char **seen = arg;

	if (strcmp(v, "bad") == 0)
		return 1;
	for (; *seen != NULL; seen++)
		;
	*seen = v;
	return 0;
}

static void
test_parse_none_repeat(void **state)
{
	const struct flags_spec specs[] = { { NULL, 0, NULL } };
	char *none[] = { "info", NULL };
	char *extra[] = { "info", "x", "y", NULL };
	char *help[] = { "info", "-help", NULL };
	char *argv[] = { "register", "-tag", "a", "-name=x", "--tag=b",
		"pos", "--", "-tag=c", NULL };
	char *bad[] = { "register", "-tag=bad", NULL };
	char *missing[] = { "register", "-tag", NULL };
	const char *seen[4] = { NULL };
	int argc = 8;

	assert_int_equal(flags_parse_none(specs, 1, none, NULL), -1);
	assert_int_equal(flags_parse_none(specs, 3, extra, NULL), 1);
	assert_int_equal(flags_parse_none(specs, 2, help, NULL), 0);
	assert_int_equal(flags_take_repeat(&argc, argv, "tag", NULL,
	    take_count, seen), 0);
	assert_string_equal(seen[0], "a");
	assert_string_equal(seen[1], "b");
	assert_null(seen[2]);
	assert_int_equal(argc, 5);
	assert_string_equal(argv[1], "-name=x");
	assert_string_equal(argv[2], "pos");
	assert_string_equal(argv[3], "--");
	assert_string_equal(argv[4], "-tag=c");
	assert_null(argv[5]);
	argc = 2;
	assert_int_equal(flags_take_repeat(&argc, bad, "tag", NULL,
	    take_count, seen), 1);
	assert_int_equal(flags_take_repeat(&argc, missing, "tag", NULL,
	    take_count, seen), 1);
}

static void
test_addr(void **state)
{
	struct http_client c;
	char err[256];

	unsetenv("CONSUL_HTTP_ADDR");
	unsetenv("CAIRN_HTTP_ADDR");
	unsetenv("CONSUL_HTTP_SSL");
	unsetenv("CONSUL_HTTP_TOKEN");
	assert_int_equal(http_client_init(&c, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.base, "http://127.0.0.1:8500");
	assert_null(c.token);
	http_client_fini(&c);

	setenv("CAIRN_HTTP_ADDR", "10.0.0.1:1", 1);
	assert_int_equal(http_client_init(&c, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.base, "http://10.0.0.1:1");
	http_client_fini(&c);
	setenv("CONSUL_HTTP_ADDR", "https://h:2/", 1);
	setenv("CONSUL_HTTP_TOKEN", "tok", 1);
	assert_int_equal(http_client_init(&c, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.base, "https://h:2");
	assert_string_equal(c.token, "tok");
	http_client_fini(&c);
	/* the flag wins over the environment */
	assert_int_equal(http_client_init(&c, "127.0.0.1:3", "t2", err,
	    sizeof(err)), 0);
	assert_string_equal(c.base, "http://127.0.0.1:3");
	assert_string_equal(c.token, "t2");
	http_client_fini(&c);
	assert_int_equal(http_client_init(&c, "unix:///run/x.sock", NULL, err,
	    sizeof(err)), 0);
	assert_string_equal(c.unix_path, "/run/x.sock");
	http_client_fini(&c);
	assert_int_equal(http_client_init(&c, "ftp://h", NULL, err,
	    sizeof(err)), ERR_INVAL);
	assert_non_null(strstr(err, "ftp://h"));
	http_client_fini(&c);
	unsetenv("CONSUL_HTTP_ADDR");
	unsetenv("CAIRN_HTTP_ADDR");
	unsetenv("CONSUL_HTTP_TOKEN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_forms),
		cmocka_unit_test(test_flags_errors),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_path_query),
		cmocka_unit_test(test_status_err),
		cmocka_unit_test(test_parse_none_repeat),
		cmocka_unit_test(test_addr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
