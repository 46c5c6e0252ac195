/*
 * test_raft_proto.c — the server-to-server messages (proto/msg_raft.h,
 * codes 100..111): for each a golden encoding (a codec change that
 * alters the wire fails here; RAFT_GOLDEN_PRINT=1 prints the current
 * encodings) and a round trip; then malformed input: every strict prefix
 * and a trailing byte, an entry type out of range, a string where an
 * integer belongs, entries that are not an array.
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
#include "msg_operator.h"
#include "msg_raft.h"
#include "proto.h"

/* goldens of the operator messages (tags: see proto/msg_raft.c) */
#define RAFT_G_OPGET "94017007810183010102000300"
#define RAFT_G_OPGETR "940171078301928601a2616202a2733103ac312e322e332e34" \
	"3a3833303004c305c306098601a2636402a003ac312e322e332e353a383330" \
	"3004c205c20600020c0383010c02c30300"
#define RAFT_G_OPRM "940172078201a002a3783a31"
#define RAFT_G_OPRMR "940173078101c3"
#define RAFT_G_OPTR "940174078101a26162"
#define RAFT_G_OPTRR "940175078101c3"
#define RAFT_G_OPLV "940176078101a26364"
#define RAFT_G_OPLVR "940177078101c3"

static struct proto_arena arena;
static uint8_t *kept[32]; /* encodings the decoded bodies borrow from */
static size_t n_kept;

static char *
to_hex(const uint8_t *b, size_t len)
{
	char *s = malloc(len * 2 + 1);

	assert_non_null(s);
	for (size_t i = 0; i < len; i++)
		sprintf(s + 2 * i, "%02x", b[i]);
	s[len * 2] = '\0';
	return s;
}

/* Encodes body, compares with hex, decodes back; returns the body. */
static void *
golden(uint32_t type, const void *body, const char *hex)
{
	struct proto_buf out;
	struct proto_msg m;
	char *h;
	uint8_t *buf;

	assert_int_equal(proto_encode(type, 7, body, &out), 0);
	h = to_hex(out.data, out.len);
	if (getenv("RAFT_GOLDEN_PRINT") != NULL)
		printf("%s: \"%s\"\n", proto_msg_name(type), h);
	else
		assert_string_equal(h, hex);
	free(h);
	/* every strict prefix is malformed, and a trailing byte too */
	for (size_t i = 0; i < out.len; i++)
		assert_int_equal(proto_decode(out.data, i, &arena, &m),
		    ERR_BADMSG);
	buf = malloc(out.len + 1);
	assert_non_null(buf);
	memcpy(buf, out.data, out.len);
	buf[out.len] = 0xc0;
	assert_int_equal(proto_decode(buf, out.len + 1, &arena, &m),
	    ERR_BADMSG);
	free(buf);
	/* decoded bodies borrow strings from the input: keep it */
	assert_int_equal(proto_decode(out.data, out.len, &arena, &m), 0);
	assert_int_equal(m.type, type);
	assert_int_equal(m.reqid, 7);
	assert_true(n_kept < 32);
	kept[n_kept++] = out.data; /* freed at exit */
	return m.body;
}

static void
test_vote(void **state)
{
	struct msg_raft_vote v = { .from = 1, .to = 2, .term = 5,
	    .last_log_index = 300, .last_log_term = 4, .prevote = true };
	struct msg_raft_vote *d;
	struct msg_raft_vote_result vr = { .from = 2, .to = 1, .term = 5,
	    .granted = true, .prevote = true }, *dr;
	struct msg_raft_timeout_now t = { .from = 1, .to = 3, .term = 9 }, *dt;

	(void)state;
	d = golden(MSG_RAFT_VOTE, &v,
	    "940164078701010202030504cd012c050406c307c2");
	assert_int_equal(d->from, 1);
	assert_int_equal(d->to, 2);
	assert_int_equal(d->term, 5);
	assert_int_equal(d->last_log_index, 300);
	assert_int_equal(d->last_log_term, 4);
	assert_true(d->prevote);
	assert_false(d->transfer);
	dr = golden(MSG_RAFT_VOTE_RESULT, &vr,
	    "940165078501020201030504c305c3");
	assert_true(dr->granted && dr->prevote);
	assert_int_equal(dr->term, 5);
	dt = golden(MSG_RAFT_TIMEOUT_NOW, &t, "94016a0783010102030309");
	assert_int_equal(dt->to, 3);
	assert_int_equal(dt->term, 9);
}

static void
test_append(void **state)
{
	struct proto_raft_entry e[2] = {
		{ .term = 3, .index = 10, .type = 2 },
		{ .term = 3, .index = 11, .type = 1,
		  .data = { "\x94\x01\x0c", 3 } },
	};
	struct msg_raft_append a = { .from = 1, .to = 2, .term = 3,
	    .prev_index = 9, .prev_term = 2, .commit = 8, .seq = 77,
	    .send_ms = 123456, .entries = e, .n_entries = 2 }, *d;
	struct msg_raft_append_result r = { .from = 2, .to = 1, .term = 3,
	    .success = false, .rejected = 9, .last_index = 5,
	    .conflict_term = 2, .conflict_index = 4, .seq = 77,
	    .send_ms = 123456 }, *dr;

	(void)state;
	d = golden(MSG_RAFT_APPEND, &a,
	    "9401660789" "0101" "0202" "0303" "0409" "0502" "0608" "074d"
	    "08ce0001e240" "0992" "840103020a030204a0" "840103020b030104a394010c");
	assert_int_equal(d->n_entries, 2);
	assert_int_equal(d->entries[0].type, 2);
	assert_int_equal(d->entries[0].data.len, 0);
	assert_int_equal(d->entries[1].index, 11);
	assert_int_equal(d->entries[1].data.len, 3);
	assert_memory_equal(d->entries[1].data.ptr, "\x94\x01\x0c", 3);
	assert_int_equal(d->send_ms, 123456);
	assert_int_equal(d->commit, 8);
	dr = golden(MSG_RAFT_APPEND_RESULT, &r,
	    "940167078b010202010303" "04c2" "0500" "0609" "0705" "0802" "0904"
	    "0a4d" "0bce0001e240");
	assert_false(dr->success);
	assert_int_equal(dr->rejected, 9);
	assert_int_equal(dr->conflict_index, 4);
}

static void
test_snapshot_forward(void **state)
{
	struct msg_raft_snapshot s = { .from = 1, .to = 3, .term = 4,
	    .index = 100, .snap_term = 3, .conf = { "c", 1 }, .offset = 0,
	    .total = 2, .data = { "ab", 2 } }, *d;
	struct msg_raft_snapshot_result sr = { .from = 3, .to = 1, .term = 4,
	    .index = 100, .offset = 2, .done = true }, *dr;
	struct msg_raft_forward f = { .from = 5, .fwd_id = 6,
	    .request = { "xyz", 3 }, .reply_addr = { "a:1", 3 } }, *df;
	struct msg_raft_forward_result fr = { .from = 1, .fwd_id = 6,
	    .reply = { "ok", 2 }, .incarnation = 0x1122334455667788ull },
	    *dfr;
	struct proto_arena a;
	struct proto_msg m;
	/* a result from before tag 4: incarnation 0 (not known) */
	static const uint8_t old_fr[] = { 0x94, 0x01, 0x6f, 0x07, 0x83, 0x01,
	    0x01, 0x02, 0x06, 0x03, 0xa2, 0x6f, 0x6b };

	(void)state;
	d = golden(MSG_RAFT_SNAPSHOT, &s,
	    "9401680789" "0101" "0203" "0304" "0464" "0503" "06a163" "0700" "0802" "09a26162");
	assert_int_equal(d->total, 2);
	assert_memory_equal(d->data.ptr, "ab", 2);
	assert_int_equal(d->conf.len, 1);
	dr = golden(MSG_RAFT_SNAPSHOT_RESULT, &sr,
	    "940169078601030201030404640502" "06c3");
	assert_true(dr->done);
	df = golden(MSG_RAFT_FORWARD, &f,
	    "94016e07840105020603a378797a" "04a3613a31");
	assert_int_equal(df->fwd_id, 6);
	assert_memory_equal(df->reply_addr.ptr, "a:1", 3);
	assert_memory_equal(df->request.ptr, "xyz", 3);
	dfr = golden(MSG_RAFT_FORWARD_RESULT, &fr,
	    "94016f07840101020603a26f6b" "04cf1122334455667788");
	assert_int_equal(dfr->reply.len, 2);
	assert_true(dfr->incarnation == 0x1122334455667788ull);
	proto_arena_init(&a);
	assert_int_equal(proto_decode(old_fr, sizeof(old_fr), &a, &m), 0);
	assert_int_equal(m.type, MSG_RAFT_FORWARD_RESULT);
	assert_int_equal(((struct msg_raft_forward_result *)m.body)->fwd_id,
	    6);
	assert_true(((struct msg_raft_forward_result *)m.body)->incarnation ==
	    0);
	proto_arena_free(&a);
}

static void
test_operator(void **state)
{
	struct proto_raft_server sv[2] = {
		{ .id = { "ab", 2 }, .node = { "s1", 2 },
		  .address = { "1.2.3.4:8300", 12 }, .leader = true,
		  .voter = true, .last_index = 9 },
		{ .id = { "cd", 2 }, .address = { "1.2.3.5:8300", 12 },
		  .voter = false },
	};
	struct msg_operator_raft_get g = { .opts = { .consistency = 1 } },
	    *dg;
	struct msg_operator_raft_get_result r = { .servers = sv,
	    .n_servers = 2, .index = 12,
	    .meta = { .index = 12, .known_leader = true } }, *dr;
	struct msg_operator_raft_remove rm = { .address = { "x:1", 3 } },
	    *drm;
	struct msg_operator_raft_remove_result rr = { .ok = true }, *drr;

	(void)state;
	dg = golden(MSG_OPERATOR_RAFT_GET, &g, RAFT_G_OPGET);
	assert_int_equal(dg->opts.consistency, 1);
	dr = golden(MSG_OPERATOR_RAFT_GET_RESULT, &r, RAFT_G_OPGETR);
	assert_int_equal(dr->n_servers, 2);
	assert_true(proto_str_eq(dr->servers[0].address, "1.2.3.4:8300"));
	assert_true(dr->servers[0].leader && dr->servers[0].voter);
	assert_false(dr->servers[1].voter);
	assert_int_equal(dr->servers[0].last_index, 9);
	assert_int_equal(dr->index, 12);
	assert_true(dr->meta.known_leader);
	drm = golden(MSG_OPERATOR_RAFT_REMOVE, &rm, RAFT_G_OPRM);
	assert_true(proto_str_eq(drm->address, "x:1"));
	assert_int_equal(drm->id.len, 0);
	drr = golden(MSG_OPERATOR_RAFT_REMOVE_RESULT, &rr, RAFT_G_OPRMR);
	assert_true(drr->ok);
}

/* proto/msg_operator.h: transfer-leader and a server's leave (116..119) */
static void
test_operator_transfer_leave(void **state)
{
	struct msg_operator_raft_transfer t = { .id = { "ab", 2 } }, *dt;
	struct msg_operator_raft_transfer_result tr = { .success = true },
	    *dtr;
	struct msg_operator_raft_leave l = { .id = { "cd", 2 } }, *dl;
	struct msg_operator_raft_leave_result lr = { .ok = true }, *dlr;

	(void)state;
	dt = golden(MSG_OPERATOR_RAFT_TRANSFER, &t, RAFT_G_OPTR);
	assert_true(proto_str_eq(dt->id, "ab"));
	dtr = golden(MSG_OPERATOR_RAFT_TRANSFER_RESULT, &tr, RAFT_G_OPTRR);
	assert_true(dtr->success);
	dl = golden(MSG_OPERATOR_RAFT_LEAVE, &l, RAFT_G_OPLV);
	assert_true(proto_str_eq(dl->id, "cd"));
	dlr = golden(MSG_OPERATOR_RAFT_LEAVE_RESULT, &lr, RAFT_G_OPLVR);
	assert_true(dlr->ok);
}

static void
test_malformed(void **state)
{
	struct proto_msg m;
	/* entry type 4 (over the cap of 3) */
	static const uint8_t bad_type[] = { 0x94, 0x01, 0x66, 0x07, 0x81, 0x09,
		0x91, 0x81, 0x03, 0x04 };
	/* term as a string */
	static const uint8_t bad_term[] = { 0x94, 0x01, 0x64, 0x07, 0x81, 0x03,
		0xa1, 0x31 };
	/* entries as a map */
	static const uint8_t bad_entries[] = { 0x94, 0x01, 0x66, 0x07, 0x81,
		0x09, 0x80 };
	/* an unknown type in the raft range */
	static const uint8_t bad_code[] = { 0x94, 0x01, 0x6b, 0x07, 0x80 };
	/* a bool where a u64 belongs (match) */
	static const uint8_t bad_bool[] = { 0x94, 0x01, 0x67, 0x07, 0x81, 0x05,
		0xc3 };

	(void)state;
	assert_int_equal(proto_decode(bad_type, sizeof(bad_type), &arena, &m),
	    ERR_BADMSG);
	assert_int_equal(proto_decode(bad_term, sizeof(bad_term), &arena, &m),
	    ERR_BADMSG);
	assert_int_equal(proto_decode(bad_entries, sizeof(bad_entries), &arena,
	    &m), ERR_BADMSG);
	assert_int_equal(proto_decode(bad_code, sizeof(bad_code), &arena, &m),
	    ERR_BADMSG);
	assert_int_equal(proto_decode(bad_bool, sizeof(bad_bool), &arena, &m),
	    ERR_BADMSG);
	assert_string_equal(proto_msg_name(MSG_RAFT_FORWARD_RESULT),
	    "MSG_RAFT_FORWARD_RESULT");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vote),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_snapshot_forward),
		cmocka_unit_test(test_operator),
		cmocka_unit_test(test_operator_transfer_leave),
		cmocka_unit_test(test_malformed),
	};
	int rc;

	proto_arena_init(&arena);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	proto_arena_free(&arena);
	for (size_t i = 0; i < n_kept; i++)
		free(kept[i]);
	return rc;
}
