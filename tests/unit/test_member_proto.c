/*
 * test_member_proto.c — gossipd's IPC messages (proto/msg_member.c,
 * MSG_MEMBER_EVENT/REQUEST/RESULT 87..89) and the user event body
 * (MSG_SWIM_USER_EVENT 86): golden vectors, round trips and malformed
 * cases (out-of-range enums, wrong types, truncation).
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
#include "msg_member.h"
#include "msg_swim.h"

static char *
hex(const uint8_t *p, size_t n)
{
	char *s = malloc(n * 2 + 1);

	for (size_t i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	s[n * 2] = '\0';
	return s;
}

static void
golden(uint32_t type, const void *body, const char *want)
{
	struct proto_buf b;
	char *got;

	assert_int_equal(proto_encode(type, 3, body, &b), 0);
	got = hex(b.data, b.len);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "%s encodes as %s\n", proto_msg_name(type), got);
	assert_string_equal(got, want);
	free(got);
	proto_buf_free(&b);
}

static void
test_goldens(void **state)
{
	struct msg_member_event ev;
	struct msg_member_request rq;
	struct msg_member_result res;
	struct msg_swim_user_event ue;
	struct proto_str k = proto_str_c("role"), v = proto_str_c("consul");

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.event = MEMBER_EV_FAILED;
	ev.member.name = proto_str_c("n1");
	ev.member.addr = proto_str_c("10.0.0.1");
	ev.member.port = 8301;
	ev.member.tags.keys = &k;
	ev.member.tags.vals = &v;
	ev.member.tags.n = 1;
	ev.member.status = 4;
	/* [1, 87, 3, {1: 3, 2: false, 3: {1: "n1", 2: "10.0.0.1",
	 * 3: 8301, 4: {"role": "consul"}, 5: 4}}] */
	golden(MSG_MEMBER_EVENT, &ev, "9401570383010302c2038501a26e3102a831"
	    "302e302e302e3103cd206d0481a4726f6c65a6636f6e73756c0504");
	memset(&rq, 0, sizeof(rq));
	rq.op = MEMBER_OP_LIST;
	rq.wan = true;
	golden(MSG_MEMBER_REQUEST, &rq, "94015803"
	    "8c010102c3039004a005c206a007a008a009a00aa00b000c00");
	memset(&res, 0, sizeof(res));
	res.code = ERR_NOTFOUND;
	res.error = proto_str_c("x");
	golden(MSG_MEMBER_RESULT, &res, "94015903"
	    "8601fc02a1780390040005900600");
	memset(&ue, 0, sizeof(ue));
	ue.id = proto_str_c("i");
	ue.version = 1;
	golden(MSG_SWIM_USER_EVENT, &ue, "94015603"
	    "8601a16902a003a004a005a00601");
}

static void
test_round_trip(void **state)
{
	struct msg_member_result res, *d;
	struct proto_member m[2];
	struct proto_user_event e;
	struct proto_str k[2] = { proto_str_c("a"), proto_str_c("b") };
	struct proto_str v[2] = { proto_str_c("1"), proto_str_c("") };
	struct proto_buf b;
	struct proto_arena a;
	struct proto_msg pm;

	(void)state;
	memset(m, 0, sizeof(m));
	m[0].name = proto_str_c("alpha");
	m[0].addr = proto_str_c("::1");
	m[0].port = 65535;
	m[0].tags.keys = k;
	m[0].tags.vals = v;
	m[0].tags.n = 2;
	m[0].status = 3;
	m[1].name = proto_str_c("beta");
	memset(&e, 0, sizeof(e));
	e.id = proto_str_c("uuid");
	e.name = proto_str_c("deploy");
	e.payload = (struct proto_str){ "\0\1", 2 };
	e.has_payload = true;
	e.version = 1;
	e.ltime = 1ull << 40;
	memset(&res, 0, sizeof(res));
	res.members = m;
	res.n_members = 2;
	res.joined = 7;
	res.events = &e;
	res.n_events = 1;
	res.index = UINT64_MAX;
	assert_int_equal(proto_encode(MSG_MEMBER_RESULT, 9, &res, &b), 0);
	proto_arena_init(&a);
	assert_int_equal(proto_decode(b.data, b.len, &a, &pm), 0);
	assert_int_equal(pm.type, MSG_MEMBER_RESULT);
	assert_int_equal(pm.reqid, 9);
	d = pm.body;
	assert_int_equal(d->n_members, 2);
	assert_true(proto_str_eq(d->members[0].name, "alpha"));
	assert_true(proto_str_eq(d->members[0].addr, "::1"));
	assert_int_equal(d->members[0].port, 65535);
	assert_int_equal(d->members[0].tags.n, 2);
	assert_true(proto_str_eq(d->members[0].tags.vals[1], ""));
	assert_int_equal(d->members[0].status, 3);
	assert_int_equal(d->joined, 7);
	assert_int_equal(d->n_events, 1);
	assert_int_equal(d->events[0].payload.len, 2);
	assert_true(d->events[0].has_payload);
	assert_int_equal(d->events[0].ltime, 1ull << 40);
	assert_int_equal(d->index, UINT64_MAX);
	proto_arena_free(&a);
	proto_buf_free(&b);
}

static int
decode_rc(const uint8_t *p, size_t n)
{
	struct proto_arena a;
	struct proto_msg m;
	int rc;

	proto_arena_init(&a);
	rc = proto_decode(p, n, &a, &m);
	proto_arena_free(&a);
	return rc;
}

static void
test_malformed(void **state)
{
	/* event type 6 (max 5), status 5 (max 4), port 65536, op 7 (max 6),
	 * a string where the op is */
	static const uint8_t bad_event[] = { 0x94, 1, 0x57, 0, 0x81, 1, 6 };
	static const uint8_t bad_status[] = { 0x94, 1, 0x57, 0, 0x81, 3, 0x81,
		5, 5 };
	static const uint8_t bad_port[] = { 0x94, 1, 0x57, 0, 0x81, 3, 0x81,
		3, 0xce, 0, 1, 0, 0 };
	static const uint8_t bad_op[] = { 0x94, 1, 0x58, 0, 0x81, 1, 7 };
	static const uint8_t str_op[] = { 0x94, 1, 0x58, 0, 0x81, 1, 0xa1,
		'x' };
	static const uint8_t ok_op[] = { 0x94, 1, 0x58, 0, 0x81, 1, 6 };
	struct msg_member_request rq;
	struct proto_buf b;
	size_t i;

	(void)state;
	assert_int_equal(decode_rc(bad_event, sizeof(bad_event)), ERR_BADMSG);
	assert_int_equal(decode_rc(bad_status, sizeof(bad_status)),
	    ERR_BADMSG);
	assert_int_equal(decode_rc(bad_port, sizeof(bad_port)), ERR_BADMSG);
	assert_int_equal(decode_rc(bad_op, sizeof(bad_op)), ERR_BADMSG);
	assert_int_equal(decode_rc(str_op, sizeof(str_op)), ERR_BADMSG);
	assert_int_equal(decode_rc(ok_op, sizeof(ok_op)), 0);
	memset(&rq, 0, sizeof(rq));
	rq.op = MEMBER_OP_JOIN;
	rq.node = proto_str_c("somewhere");
	assert_int_equal(proto_encode(MSG_MEMBER_REQUEST, 1, &rq, &b), 0);
	for (i = 0; i < b.len; i++)
		assert_int_equal(decode_rc(b.data, i), ERR_BADMSG);
	proto_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_goldens),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
