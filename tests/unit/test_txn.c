/*
 * test_txn.c — /v1/txn's state machine (raftd/txn.c) against a real
 * store: all-or-nothing application in one batch at one index, ops that
 * see earlier ops of the same transaction, results and error texts,
 * read-only evaluation that writes nothing.
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
#include "raftd/kv.h"
#include "raftd/store.h"
#include "raftd/txn.h"

#define S(x) proto_str_c(x)

struct fx {
	char dir[64];
	char raft[96];
	struct store *s;
	struct kv *kv;
	struct kv_read r;
	uint64_t next;
	int touched;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	strcpy(f->dir, "/tmp/test_txn.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->raft, sizeof(f->raft), "%s/raft", f->dir);
	assert_int_equal(store_open(f->raft, &f->s, err, sizeof(err)), 0);
	assert_int_equal(kv_open(f->s, &f->kv), 0);
	f->next = kv_applied_index(f->kv) + 1;
	kv_read_init(&f->r);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	kv_read_fini(&f->r);
	kv_free(f->kv);
	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
on_touch(void *arg, const char *key, size_t klen)
{
	(void)key;
	(void)klen;
	((struct fx *)arg)->touched++;
}

static struct proto_txn_op
op(uint8_t verb, const char *key, const char *val, uint64_t index)
{
	struct proto_txn_op o;

	memset(&o, 0, sizeof(o));
	o.verb = verb;
	o.key = S(key);
	o.value = S(val ? val : "");
	o.index = index;
	return o;
}

static struct txn_out *
run(struct fx *f, struct proto_txn_op *ops, uint32_t n, bool write)
{
	struct msg_txn t;
	struct txn_out *o;

	memset(&t, 0, sizeof(t));
	t.ops = ops;
	t.n_ops = n;
	assert_int_equal(txn_eval(f->kv, write ? f->next : 0, &t, write,
	    on_touch, f, &o), 0);
	if (write)
		f->next++;
	return o;
}

static const struct proto_kv_entry *
get(struct fx *f, const char *key)
{
	struct msg_kv_get q;

	memset(&q, 0, sizeof(q));
	q.key = S(key);
	assert_int_equal(kv_get(f->kv, &q, &f->r), 0);
	return f->r.found ? &f->r.entries[0] : NULL;
}

static void
test_all_applied_at_one_index(void **state)
{
	struct fx *f = *state;
	struct proto_txn_op ops[4];
	struct txn_out *o;
	uint64_t at = f->next;

	ops[0] = op(TXN_SET, "a", "1", 0);
	ops[1] = op(TXN_CAS, "b", "2", 0);
	ops[2] = op(TXN_GET, "a", NULL, 0); /* sees op 0 */
	ops[3] = op(TXN_GET_TREE, "", NULL, 0);
	o = run(f, ops, 4, true);
	assert_int_equal(o->r.n_errors, 0);
	assert_int_equal(o->r.n_results, 5);
	assert_int_equal(o->r.results[0].value.len, 0); /* set: no value */
	assert_true(proto_str_eq(o->r.results[2].value, "1"));
	assert_true(proto_str_eq(o->r.results[3].key, "a"));
	assert_true(proto_str_eq(o->r.results[4].key, "b"));
	txn_out_free(o);
	assert_int_equal(get(f, "a")->modify_index, at);
	assert_int_equal(get(f, "b")->create_index, at);
	assert_int_equal(kv_applied_index(f->kv), at);
	assert_int_equal(kv_table_index(f->kv), at);
	assert_int_equal(f->touched, 2);
}

static void
test_rollback(void **state)
{
	struct fx *f = *state;
	struct proto_txn_op ops[4];
	struct txn_out *o;
	uint64_t before;

	ops[0] = op(TXN_SET, "k", "old", 0);
	txn_out_free(run(f, ops, 1, true));
	before = get(f, "k")->modify_index;
	f->touched = 0;
	ops[0] = op(TXN_SET, "k", "new", 0);
	ops[1] = op(TXN_DELETE, "k", NULL, 0);
	ops[2] = op(TXN_SET, "other", "x", 0);
	ops[3] = op(TXN_CHECK_INDEX, "k", NULL, before);
	/* op 3 sees op 1's delete: the key is gone, the txn fails */
	o = run(f, ops, 4, true);
	assert_int_equal(o->r.n_errors, 1);
	assert_int_equal(o->r.errors[0].op_index, 3);
	assert_true(proto_str_eq(o->r.errors[0].what,
	    "failed to read key \"k\""));
	assert_int_equal(o->r.n_results, 0);
	txn_out_free(o);
	assert_true(proto_str_eq(get(f, "k")->value, "old"));
	assert_int_equal(get(f, "k")->modify_index, before);
	assert_null(get(f, "other"));
	assert_int_equal(f->touched, 0);
	assert_int_equal(kv_applied_index(f->kv), f->next - 1);
	assert_int_equal(kv_table_index(f->kv), before);
	/* stale cas and delete-cas, check-not-exists */
	ops[0] = op(TXN_CAS, "k", "z", before + 99);
	o = run(f, ops, 1, true);
	assert_true(proto_str_eq(o->r.errors[0].what,
	    "failed to set key \"k\", index is stale"));
	txn_out_free(o);
	ops[0] = op(TXN_CHECK_NOT_EXISTS, "k", NULL, 0);
	o = run(f, ops, 1, true);
	assert_true(proto_str_eq(o->r.errors[0].what, "key \"k\" exists"));
	txn_out_free(o);
	ops[0] = op(TXN_DELETE_CAS, "k", NULL, before);
	o = run(f, ops, 1, true);
	assert_int_equal(o->r.n_errors, 0);
	assert_int_equal(o->r.n_results, 0);
	txn_out_free(o);
	assert_null(get(f, "k"));
}

static void
test_locks_in_txn(void **state)
{
	struct fx *f = *state;
	struct proto_txn_op ops[1];
	struct txn_out *o;

	ops[0] = op(TXN_LOCK, "l", "v", 0);
	ops[0].session = S("nosuch");
	o = run(f, ops, 1, true);
	assert_true(proto_str_eq(o->r.errors[0].what,
	    "invalid session \"nosuch\""));
	txn_out_free(o);
	ops[0] = op(TXN_UNLOCK, "l", "v", 0);
	o = run(f, ops, 1, true);
	assert_true(proto_str_eq(o->r.errors[0].what, "missing session"));
	txn_out_free(o);
}

static void
test_read_only(void **state)
{
	struct fx *f = *state;
	struct proto_txn_op ops[2];
	struct txn_out *o;
	uint64_t applied;

	ops[0] = op(TXN_SET, "r", "1", 0);
	txn_out_free(run(f, ops, 1, true));
	applied = kv_applied_index(f->kv);
	ops[0] = op(TXN_GET_OR_EMPTY, "none", NULL, 0);
	ops[1] = op(TXN_GET, "r", NULL, 0);
	o = run(f, ops, 2, false);
	assert_int_equal(o->r.n_errors, 0);
	assert_int_equal(o->r.n_results, 2);
	assert_true(proto_str_eq(o->r.results[0].key, "none"));
	assert_true(proto_str_eq(o->r.results[1].value, "1"));
	txn_out_free(o);
	/* a write verb is refused without writing */
	ops[0] = op(TXN_SET, "r", "2", 0);
	o = run(f, ops, 1, false);
	assert_int_equal(o->r.n_errors, 1);
	txn_out_free(o);
	assert_true(proto_str_eq(get(f, "r")->value, "1"));
	assert_int_equal(kv_applied_index(f->kv), applied);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_all_applied_at_one_index,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locks_in_txn, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
