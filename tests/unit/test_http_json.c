/*
 * test_http_json.c — httpd's JSON writer against golden strings taken
 * from Go's encoding/json (json.Marshal and json.MarshalIndent with four
 * spaces, as Consul's agent/http.go uses them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "httpd/json.h"

static char *
finish(struct json *w)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(json_finish(w, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	return out;
}

static void
escaped(const char *in, size_t n, const char *want)
{
	struct json w;
	char *out;

	json_init(&w, false);
	json_strn(&w, in, n);
	out = finish(&w);
	assert_string_equal(out, want);
	free(out);
}

static void
test_escaping_like_go(void **state)
{
	escaped("plain", 5, "\"plain\"");
	escaped("<a&b>", 5, "\"\\u003ca\\u0026b\\u003e\"");
	escaped("q\"b\\", 4, "\"q\\\"b\\\\\"");
	escaped("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
	escaped("\x01\x1f", 2, "\"\\u0001\\u001f\"");
	escaped("\x7f", 1, "\"\x7f\"");
	escaped("a\0b", 3, "\"a\\u0000b\"");
	/* valid UTF-8 passes through, U+2028/2029 are escaped */
	escaped("\xd0\xba\xe2\x82\xac", 5, "\"\xd0\xba\xe2\x82\xac\"");
	escaped("\xe2\x80\xa8\xe2\x80\xa9", 6, "\"\\u2028\\u2029\"");
	/* invalid UTF-8: each bad byte becomes U+FFFD */
	escaped("a\xffz", 3, "\"a\\ufffdz\"");
	escaped("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");
	escaped("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	escaped("\xe2\x82", 2, "\"\\ufffd\\ufffd\"");              /* truncated */
	escaped("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");
	/* an empty proto_str may have no pointer at all */
	escaped(NULL, 0, "\"\"");
	escaped("", 0, "\"\"");
}

static void
test_uint64_exact(void **state)
{
	struct json w;
	char *out;

	json_init(&w, false);
	json_arr_begin(&w);
	json_u64(&w, 0);
	json_u64(&w, 0x2ddccbc058a50c18ull);
	json_u64(&w, UINT64_MAX);
	json_i64(&w, INT64_MIN);
	json_arr_end(&w);
	out = finish(&w);
	assert_string_equal(out, "[0,3304740253564472344,"
	    "18446744073709551615,-9223372036854775808]");
	free(out);
}

static void
kvpair(struct json *w, const char *value, size_t vlen, const char *session)
{
	json_obj_begin(w);
	json_kv_u64(w, "LockIndex", 0);
	json_kv_str(w, "Key", "foo");
	json_kv_u64(w, "Flags", 0);
	json_key(w, "Value");
	json_base64(w, value, vlen);
	if (session != NULL)
		json_kv_str(w, "Session", session);
	json_kv_u64(w, "CreateIndex", 5);
	json_kv_u64(w, "ModifyIndex", 5);
	json_obj_end(w);
}

static void
test_compact_kvpair(void **state)
{
	struct json w;
	char *out;

	json_init(&w, false);
	json_arr_begin(&w);
	kvpair(&w, "bar", 3, NULL);
	kvpair(&w, "", 0, "s1");
	json_arr_end(&w);
	out = finish(&w);
	assert_string_equal(out,
	    "[{\"LockIndex\":0,\"Key\":\"foo\",\"Flags\":0,\"Value\":\"YmFy\","
	    "\"CreateIndex\":5,\"ModifyIndex\":5},"
	    "{\"LockIndex\":0,\"Key\":\"foo\",\"Flags\":0,\"Value\":null,"
	    "\"Session\":\"s1\",\"CreateIndex\":5,\"ModifyIndex\":5}]");
	free(out);
}

static void
test_pretty_like_marshalindent(void **state)
{
	struct json w;
	char *out;

	json_init(&w, true);
	json_obj_begin(&w);
	json_key(&w, "A");
	json_arr_begin(&w);
	json_arr_end(&w);
	json_key(&w, "B");
	json_obj_begin(&w);
	json_obj_end(&w);
	json_key(&w, "C");
	json_arr_begin(&w);
	json_u64(&w, 1);
	json_obj_begin(&w);
	json_kv_bool(&w, "D", true);
	json_obj_end(&w);
	json_arr_end(&w);
	json_key(&w, "E");
	json_null(&w);
	json_obj_end(&w);
	out = finish(&w);
	assert_string_equal(out, "{\n"
				 "    \"A\": [],\n"
				 "    \"B\": {},\n"
				 "    \"C\": [\n"
				 "        1,\n"
				 "        {\n"
				 "            \"D\": true\n"
				 "        }\n"
				 "    ],\n"
				 "    \"E\": null\n"
				 "}\n");
	free(out);
}

static void
test_scalars_and_newline_rule(void **state)
{
	struct json w;
	char *out;

	json_init(&w, false);
	json_bool(&w, true);
	out = finish(&w);
	assert_string_equal(out, "true"); /* compact: no newline */
	free(out);
	json_init(&w, true);
	json_bool(&w, false);
	out = finish(&w);
	assert_string_equal(out, "false\n"); /* pretty: one newline */
	free(out);
	json_init(&w, true);
	json_arr_begin(&w);
	json_arr_end(&w);
	out = finish(&w);
	assert_string_equal(out, "[]\n");
	free(out);
}

static void
test_base64(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} v[] = {
		{ "f", "\"Zg==\"" },
		{ "fo", "\"Zm8=\"" },
		{ "foo", "\"Zm9v\"" },
		{ "foob", "\"Zm9vYg==\"" },
		{ "\xff\xfe\xfd", "\"//79\"" },
	};
	struct json w;
	size_t i;
	char *out;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_init(&w, false);
		json_base64(&w, v[i].in, strlen(v[i].in));
		out = finish(&w);
		assert_string_equal(out, v[i].out);
		free(out);
	}
}

static void
test_misuse_is_an_error(void **state)
{
	struct json w;
	char *out = NULL;
	size_t len;

	json_init(&w, false);
	json_obj_begin(&w);
	json_u64(&w, 1); /* value without a key */
	json_obj_end(&w);
	assert_int_equal(json_finish(&w, &out, &len), ERR_INVAL);
	assert_null(out);

	json_init(&w, false);
	json_arr_begin(&w); /* unclosed */
	assert_int_equal(json_finish(&w, &out, &len), ERR_INVAL);

	json_init(&w, false);
	assert_int_equal(json_finish(&w, &out, &len), ERR_INVAL); /* empty */

	json_init(&w, false);
	for (int i = 0; i < JSON_MAX_DEPTH + 1; i++)
		json_arr_begin(&w);
	assert_int_equal(json_finish(&w, &out, &len), ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping_like_go),
		cmocka_unit_test(test_uint64_exact),
		cmocka_unit_test(test_compact_kvpair),
		cmocka_unit_test(test_pretty_like_marshalindent),
		cmocka_unit_test(test_scalars_and_newline_rule),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_misuse_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
