/*
 * test_check_proto.c — the agent messages (codes 60-79, proto/msg_agent.h):
 * golden encodings of MSG_AGENT_REQUEST and MSG_AGENT_RESULT, round trips
 * (query maps, empty and binary-safe bodies), and one malformed input per
 * decoder rule: a wrong type, an out-of-range integer, truncation,
 * trailing bytes; unknown tags are skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "msg_agent.h"
#include "proto.h"

static uint8_t *
hex_to_bytes(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2, i;
	uint8_t *b = malloc(n + 1);
	unsigned v;

	for (i = 0; i < n; i++) {
		sscanf(hex + 2 * i, "%2x", &v);
		b[i] = (uint8_t)v;
	}
	*len = n;
	return b;
}

static char *
bytes_to_hex(const uint8_t *b, size_t n)
{
	char *s = malloc(2 * n + 1);
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", b[i]);
	s[2 * n] = '\0';
	return s;
}

static struct proto_str qk[2], qv[2];
static struct msg_agent_request s_req;
static struct msg_agent_result s_res;

static int
setup(void **state)
{
	(void)state;
	qk[0] = proto_str_c("note");
	qv[0] = proto_str_c("ok");
	qk[1] = proto_str_c("replace-existing-checks");
	qv[1] = proto_str_c("");
	s_req = (struct msg_agent_request){ AGENT_OP_CHECK_PASS,
		proto_str_c("service:web"), { qk, qv, 2 }, proto_str_c("{}"),
		true, false };
	s_res = (struct msg_agent_result){ 404, proto_str_c("text/plain"),
		proto_str_c("nope"), { NULL, 0 } };
	return 0;
}

/*
 * By hand: 94 (array 4) 01 (version) 3c (type 60) 07 (reqid) 86 (map 6)
 * 01 09 (op 9) 02 ab "service:web" 03 82 a4 "note" a2 "ok" b7
 * "replace-existing-checks" a0 04 a2 "{}" 05 c3 (pretty) 06 c2.
 */
static const char req_hex[] =
    "94013c0786" "0109" "02ab736572766963653a776562"
    "0382a46e6f7465a26f6b"
    "b77265706c6163652d6578697374696e672d636865636b73a0"
    "04a27b7d" "05c3" "06c2";
/* 94 01 3d (61) 08 84 01 cd0194 (404) 02 aa "text/plain" 03 a4 "nope"
 * 04 90 (no body parts) */
static const char res_hex[] =
    "94013d0884" "01cd0194" "02aa746578742f706c61696e" "03a46e6f7065"
    "0490";

static void
check_golden(uint32_t type, uint64_t reqid, const void *body,
    const char *hex)
{
	struct proto_buf b;
	uint8_t *want;
	size_t wlen;
	char *got;

	assert_int_equal(proto_encode(type, reqid, body, &b), 0);
	got = bytes_to_hex(b.data, b.len);
	want = hex_to_bytes(hex, &wlen);
	if (wlen != b.len || memcmp(want, b.data, wlen) != 0)
		fail_msg("%s encodes as %s", proto_msg_name(type), got);
	free(want);
	free(got);
	proto_buf_free(&b);
}

static void
test_golden(void **state)
{
	(void)state;
	check_golden(MSG_AGENT_REQUEST, 7, &s_req, req_hex);
	check_golden(MSG_AGENT_RESULT, 8, &s_res, res_hex);
	assert_string_equal(proto_msg_name(MSG_AGENT_REQUEST),
	    "MSG_AGENT_REQUEST");
	assert_int_equal(MSG_AGENT_REQUEST, 60);
	assert_int_equal(MSG_AGENT_RESULT, 61);
}

static void
test_round_trip(void **state)
{
	struct proto_buf b;
	struct proto_arena a;
	struct proto_msg m;
	const struct msg_agent_request *r;
	const struct msg_agent_result *x;
	static const char bin[] = { 'a', '\0', 'b' };
	struct proto_str parts[2] = { { "xy", 2 }, { "z", 1 } };
	struct msg_agent_result res = { 200, proto_str_c(""),
		{ bin, 3 }, { parts, 2 } };

	(void)state;
	proto_arena_init(&a);
	assert_int_equal(proto_encode(MSG_AGENT_REQUEST, 1, &s_req, &b), 0);
	assert_int_equal(proto_decode(b.data, b.len, &a, &m), 0);
	assert_int_equal(m.type, MSG_AGENT_REQUEST);
	r = m.body;
	assert_int_equal(r->op, AGENT_OP_CHECK_PASS);
	assert_true(proto_str_eq(r->id, "service:web"));
	assert_int_equal(r->query.n, 2);
	assert_true(proto_str_eq(r->query.keys[1], "replace-existing-checks"));
	assert_int_equal(r->query.vals[1].len, 0);
	assert_true(proto_str_eq(r->body, "{}"));
	assert_true(r->pretty);
	assert_false(r->accept_text);
	proto_buf_free(&b);
	proto_arena_reset(&a);
	assert_int_equal(proto_encode(MSG_AGENT_RESULT, 2, &res, &b), 0);
	assert_int_equal(proto_decode(b.data, b.len, &a, &m), 0);
	x = m.body;
	assert_int_equal(x->status, 200);
	assert_int_equal(x->content_type.len, 0);
	assert_int_equal(x->body.len, 3);
	assert_memory_equal(x->body.ptr, bin, 3);
	assert_int_equal(x->body_parts.n, 2);
	assert_true(proto_str_eq(x->body_parts.v[1], "z"));
	proto_buf_free(&b);
	proto_arena_free(&a);
}

static int
decode_hex(const char *hex)
{
	struct proto_arena a;
	struct proto_msg m;
	uint8_t *buf;
	size_t len;
	int rc;

	proto_arena_init(&a);
	buf = hex_to_bytes(hex, &len);
	rc = proto_decode(buf, len, &a, &m);
	free(buf);
	proto_arena_free(&a);
	return rc;
}

static void
test_malformed(void **state)
{
	(void)state;
	/* op as a string */
	assert_int_equal(decode_hex("94013c0781" "01a139"), ERR_BADMSG);
	/* op 256 does not fit a u8 */
	assert_int_equal(decode_hex("94013c0781" "01cd0100"), ERR_BADMSG);
	/* status as a negative number */
	assert_int_equal(decode_hex("94013d0881" "01ff"), ERR_BADMSG);
	/* query map with a non-string value */
	assert_int_equal(decode_hex("94013c0781" "0381a16101"), ERR_BADMSG);
	/* truncated string */
	assert_int_equal(decode_hex("94013c0781" "02ab7365"), ERR_BADMSG);
	/* trailing bytes */
	assert_int_equal(decode_hex("94013d0881" "01cd0194" "00"), ERR_BADMSG);
	/* an unknown tag (99) is skipped */
	assert_int_equal(decode_hex("94013d0882" "01cd0194" "63a178"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
