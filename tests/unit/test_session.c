/*
 * test_session.c — the session table and KV locks against a real store
 * in a mkdtemp directory, with a fake clock for lock-delay: session
 * create validation (node, checks), LockIndex rules, invalidation that
 * releases or deletes held keys and starts lock-delay, the sessions
 * index, invalid sessions after a check goes critical, the TTL arithmetic,
 * and the codec of the session messages (golden bytes, round trip,
 * malformed input).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "msg_session.h"
#include "raftd/catalog.h"
#include "raftd/kv.h"
#include "raftd/session.h"
#include "raftd/store.h"

#define S(x) proto_str_c(x)

struct fx {
	char dir[64];
	char raft[96];
	struct store *s;
	struct kv *kv;
	struct catalog *cat;
	struct kv_read r;
	struct session_read sr;
	uint64_t next;
	uint64_t now; /* the fake clock, ms */
};

static uint64_t
fake_now(void *arg)
{
	return ((struct fx *)arg)->now;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	strcpy(f->dir, "/tmp/test_session.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->raft, sizeof(f->raft), "%s/raft", f->dir);
	assert_int_equal(store_open(f->raft, &f->s, err, sizeof(err)), 0);
	assert_int_equal(kv_open(f->s, &f->kv), 0);
	assert_int_equal(catalog_open(f->s, f->kv, &f->cat), 0);
	kv_set_clock(f->kv, fake_now, f);
	f->now = 1000000;
	f->next = kv_applied_index(f->kv) + 1;
	kv_read_init(&f->r);
	session_read_init(&f->sr);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	session_read_fini(&f->sr);
	kv_read_fini(&f->r);
	catalog_free(f->cat);
	kv_free(f->kv);
	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Registers node n1 with check c1 in status (NULL: no check). */
static void
reg_node(struct fx *f, const char *node, const char *check,
    const char *status)
{
	struct msg_catalog_register m;
	struct proto_cat_check ck;
	struct kv_result res;

	memset(&m, 0, sizeof(m));
	memset(&ck, 0, sizeof(ck));
	m.node.node = S(node);
	m.node.address = S("127.0.0.1");
	if (check != NULL) {
		ck.node = S(node);
		ck.check_id = S(check);
		ck.name = S(check);
		ck.status = S(status);
		m.checks = &ck;
		m.n_checks = 1;
	}
	assert_int_equal(catalog_register(f->cat, f->next++, &m, &res, NULL,
	    NULL), 0);
	assert_int_equal(res.err, 0);
}

static struct kv_result
create(struct fx *f, const char *id, const char *node, const char *check,
    uint8_t behavior, uint64_t delay_ms)
{
	struct msg_session_apply m;
	struct proto_str ck[1];
	struct kv_result res;

	memset(&m, 0, sizeof(m));
	m.op = SESSION_OP_CREATE;
	m.session.id = S(id);
	m.session.node = S(node);
	m.session.behavior = behavior;
	m.session.lock_delay_ns = delay_ms * 1000000;
	m.session.ttl = S("10s");
	m.session.ttl_ns = 10000000000ull;
	if (check != NULL) {
		ck[0] = S(check);
		m.session.node_checks.v = ck;
		m.session.node_checks.n = 1;
	}
	assert_int_equal(session_state_apply(f->s, f->kv, f->cat, f->next++,
	    &m, &res, NULL, NULL), 0);
	return res;
}

static void
destroy(struct fx *f, const char *id)
{
	struct msg_session_apply m;
	struct kv_result res;

	memset(&m, 0, sizeof(m));
	m.op = SESSION_OP_DESTROY;
	m.session.id = S(id);
	assert_int_equal(session_state_apply(f->s, f->kv, f->cat, f->next++,
	    &m, &res, NULL, NULL), 0);
	assert_int_equal(res.err, 0);
	assert_true(res.ok);
}

static struct kv_result
kvop(struct fx *f, uint8_t op, const char *key, const char *val,
    const char *sess)
{
	struct msg_kv_apply a;
	struct kv_result res;

	memset(&a, 0, sizeof(a));
	a.op = op;
	a.key = S(key);
	a.value = S(val);
	a.session = S(sess ? sess : "");
	assert_int_equal(kv_apply(f->kv, f->next++, &a, &res, NULL, NULL), 0);
	return res;
}

/* The entry of key, or NULL. */
static const struct proto_kv_entry *
get(struct fx *f, const char *key)
{
	struct msg_kv_get q;

	memset(&q, 0, sizeof(q));
	q.key = S(key);
	q.mode = KV_GET_ONE;
	assert_int_equal(kv_get(f->kv, &q, &f->r), 0);
	return f->r.found ? &f->r.entries[0] : NULL;
}

static void
test_create_validation(void **state)
{
	struct fx *f = *state;
	struct kv_result res;

	res = create(f, "s-1", "ghost", NULL, 0, 0);
	assert_int_equal(res.err, ERR_SESSION);
	assert_string_equal(res.msg, "Missing node registration");
	reg_node(f, "n1", "c1", "passing");
	res = create(f, "s-1", "n1", "nope", 0, 0);
	assert_int_equal(res.err, ERR_SESSION);
	assert_string_equal(res.msg, "Missing check 'nope' registration");
	reg_node(f, "n2", "bad", "critical");
	res = create(f, "s-1", "n2", "bad", 0, 0);
	assert_string_equal(res.msg, "Check 'bad' is in critical state");
	res = create(f, "s-1", "n1", "c1", 0, 0);
	assert_int_equal(res.err, 0);
	assert_true(res.ok);
	/* the same ID twice is refused; nothing else changed */
	res = create(f, "s-1", "n1", NULL, 0, 0);
	assert_int_equal(res.err, ERR_EXISTS);
	assert_int_equal(session_state_get(f->s, SESSION_GET_INFO, S("s-1"),
	    &f->sr), 0);
	assert_int_equal(f->sr.n, 1);
	assert_int_equal(f->sr.v[0].ttl_ns, 10000000000ull);
	assert_true(proto_str_eq(f->sr.v[0].node_checks.v[0], "c1"));
	assert_int_equal(f->sr.v[0].create_index, res.index - 1);
	assert_int_equal(f->sr.index, f->sr.v[0].create_index);
	/* node listing */
	assert_int_equal(session_state_get(f->s, SESSION_GET_NODE, S("n2"),
	    &f->sr), 0);
	assert_int_equal(f->sr.n, 0);
	assert_int_equal(session_state_get(f->s, SESSION_GET_NODE, S("n1"),
	    &f->sr), 0);
	assert_int_equal(f->sr.n, 1);
}

static void
test_lock_index_rules(void **state)
{
	struct fx *f = *state;
	const struct proto_kv_entry *e;
	struct kv_result res;

	reg_node(f, "n1", NULL, NULL);
	assert_true(create(f, "a", "n1", NULL, 0, 0).ok);
	assert_true(create(f, "b", "n1", NULL, 0, 0).ok);
	res = kvop(f, KV_OP_LOCK, "k", "v1", "zzz");
	assert_int_equal(res.err, ERR_SESSION);
	assert_string_equal(res.msg, "invalid session \"zzz\"");
	assert_true(kvop(f, KV_OP_LOCK, "k", "v1", "a").ok);
	assert_true(kvop(f, KV_OP_LOCK, "k", "v2", "a").ok); /* re-acquire */
	e = get(f, "k");
	assert_int_equal(e->lock_index, 1);
	assert_true(proto_str_eq(e->session, "a"));
	assert_false(kvop(f, KV_OP_LOCK, "k", "x", "b").ok);
	assert_false(kvop(f, KV_OP_UNLOCK, "k", "x", "b").ok);
	/* advisory: a set keeps the holder */
	assert_true(kvop(f, KV_OP_SET, "k", "plain", NULL).ok);
	assert_true(proto_str_eq(get(f, "k")->session, "a"));
	assert_true(kvop(f, KV_OP_UNLOCK, "k", "rel", "a").ok);
	e = get(f, "k");
	assert_int_equal(e->session.len, 0);
	assert_int_equal(e->lock_index, 1);
	assert_true(proto_str_eq(e->value, "rel"));
	/* release starts no lock-delay */
	assert_true(kvop(f, KV_OP_LOCK, "k", "v3", "b").ok);
	assert_int_equal(get(f, "k")->lock_index, 2);
}

static void
test_invalidate_release_with_lock_delay(void **state)
{
	struct fx *f = *state;
	const struct proto_kv_entry *e;
	uint64_t mod;

	reg_node(f, "n1", NULL, NULL);
	assert_true(create(f, "a", "n1", NULL, SESSION_RELEASE, 1500).ok);
	assert_true(create(f, "b", "n1", NULL, SESSION_RELEASE, 0).ok);
	assert_true(kvop(f, KV_OP_LOCK, "x/1", "v", "a").ok);
	assert_true(kvop(f, KV_OP_LOCK, "x/2", "v", "a").ok);
	assert_true(kvop(f, KV_OP_SET, "x/3", "free", NULL).ok);
	mod = get(f, "x/1")->modify_index;
	destroy(f, "a");
	e = get(f, "x/1");
	assert_non_null(e);
	assert_int_equal(e->session.len, 0);
	assert_int_equal(e->lock_index, 1);
	assert_true(e->modify_index > mod);
	assert_true(proto_str_eq(e->value, "v"));
	assert_int_equal(kv_table_index(f->kv), e->modify_index);
	/* lock-delay: 1.5 s of false, only for the released keys */
	assert_int_equal(kv_lock_delay_until(f->kv, "x/1", 3), f->now + 1500);
	assert_false(kvop(f, KV_OP_LOCK, "x/1", "v", "b").ok);
	assert_true(kvop(f, KV_OP_LOCK, "x/3", "v", "b").ok);
	f->now += 1499;
	assert_false(kvop(f, KV_OP_LOCK, "x/2", "v", "b").ok);
	f->now += 1;
	assert_true(kvop(f, KV_OP_LOCK, "x/2", "v", "b").ok);
	assert_int_equal(get(f, "x/2")->lock_index, 2);
	/* destroy is idempotent */
	destroy(f, "a");
	assert_int_equal(session_state_get(f->s, SESSION_GET_INFO, S("a"),
	    &f->sr), 0);
	assert_int_equal(f->sr.n, 0);
}

static void
test_invalidate_delete(void **state)
{
	struct fx *f = *state;

	reg_node(f, "n1", NULL, NULL);
	assert_true(create(f, "d", "n1", NULL, SESSION_DELETE, 0).ok);
	assert_true(kvop(f, KV_OP_LOCK, "e/1", "v", "d").ok);
	assert_true(kvop(f, KV_OP_SET, "e/2", "v", NULL).ok);
	destroy(f, "d");
	assert_null(get(f, "e/1"));
	assert_non_null(get(f, "e/2"));
	/* no lock delay configured: acquire works at once */
	assert_true(create(f, "d2", "n1", NULL, SESSION_DELETE, 0).ok);
	assert_true(kvop(f, KV_OP_LOCK, "e/1", "v", "d2").ok);
}

static void
test_invalid_after_check_critical(void **state)
{
	struct fx *f = *state;
	struct proto_str none = { "", 0 };

	reg_node(f, "n1", "c1", "passing");
	assert_true(create(f, "s", "n1", "c1", 0, 0).ok);
	assert_true(create(f, "t", "n1", NULL, 0, 0).ok);
	assert_int_equal(session_state_invalid(f->s, f->cat, none, &f->sr), 0);
	assert_int_equal(f->sr.n, 0);
	reg_node(f, "n1", "c1", "critical");
	assert_int_equal(session_state_invalid(f->s, f->cat, S("n1"),
	    &f->sr), 0);
	assert_int_equal(f->sr.n, 1);
	assert_true(proto_str_eq(f->sr.v[0].id, "s"));
}

static void
test_ttl_arithmetic(void **state)
{
	(void)state;
	/* Consul's SessionTTLMultiplier: expiry at 2 × TTL */
	assert_int_equal(session_timeout_ms(10000000000ull), 20000);
	assert_int_equal(session_timeout_ms(15500000000ull), 31000);
	assert_int_equal(session_timeout_ms(86400000000000ull), 172800000);
	assert_int_equal(session_timeout_ms(0), 0);
}

static void
test_codec(void **state)
{
	struct msg_session_apply m, *d;
	struct proto_str ck[2] = { { "serfHealth", 10 }, { "c", 1 } };
	struct proto_buf out;
	struct proto_arena a;
	struct proto_msg msg;
	static const uint8_t golden[] = {
		0x94, 0x01, 0xcc, 0x82, 0x07, 0x84, 0x01, 0x05, 0x02, 0x06,
		0x03, 0x01, 0x04, 0x8b, 0x01, 0xa2, 0x69, 0x64, 0x02, 0xa0,
		0x03, 0xa2, 0x6e, 0x31, 0x04, 0x92, 0xaa, 0x73, 0x65, 0x72,
		0x66, 0x48, 0x65, 0x61, 0x6c, 0x74, 0x68, 0xa1, 0x63, 0x05,
		0x90, 0x06, 0xce, 0x3b, 0x9a, 0xca, 0x00, 0x07, 0x01, 0x08,
		0xa3, 0x31, 0x30, 0x73, 0x09, 0x00, 0x0a, 0x00, 0x0b, 0x00,
	};

	(void)state;
	memset(&m, 0, sizeof(m));
	m.client_id = 5;
	m.seq = 6;
	m.op = SESSION_OP_CREATE;
	m.session.id = S("id");
	m.session.node = S("n1");
	m.session.node_checks.v = ck;
	m.session.node_checks.n = 2;
	m.session.lock_delay_ns = 1000000000;
	m.session.behavior = SESSION_DELETE;
	m.session.ttl = S("10s");
	assert_int_equal(proto_encode(MSG_SESSION_APPLY, 7, &m, &out), 0);
	if (out.len != sizeof(golden) || memcmp(out.data, golden,
	    out.len) != 0) {
		for (size_t i = 0; i < out.len; i++)
			fprintf(stderr, "%02x", out.data[i]);
		fprintf(stderr, "\n");
		proto_buf_free(&out);
		fail_msg("MSG_SESSION_APPLY golden differs");
	}
	proto_arena_init(&a);
	assert_int_equal(proto_decode(out.data, out.len, &a, &msg), 0);
	assert_int_equal(msg.type, MSG_SESSION_APPLY);
	d = msg.body;
	assert_int_equal(d->seq, 6);
	assert_int_equal(d->session.behavior, SESSION_DELETE);
	assert_int_equal(d->session.node_checks.n, 2);
	assert_true(proto_str_eq(d->session.node_checks.v[1], "c"));
	assert_true(proto_str_eq(d->session.ttl, "10s"));
	/* malformed: a behavior out of range, a truncated message */
	assert_int_equal(out.data[sizeof(golden) - 12], 0x01);
	out.data[sizeof(golden) - 12] = 0x02; /* behavior 2 */
	assert_int_equal(proto_decode(out.data, out.len, &a, &msg),
	    ERR_BADMSG);
	assert_int_equal(proto_decode(out.data, out.len - 3, &a, &msg),
	    ERR_BADMSG);
	proto_arena_free(&a);
	proto_buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_validation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lock_index_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_invalidate_release_with_lock_delay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalidate_delete, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_invalid_after_check_critical,
		    setup, teardown),
		cmocka_unit_test(test_ttl_arithmetic),
		cmocka_unit_test(test_codec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
