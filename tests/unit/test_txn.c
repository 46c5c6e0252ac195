/*
 * test_txn.c — /v1/txn's state machine (raftd/txn*.c) against a real
 * store: all-or-nothing application in one batch at one index, ops that
 * see earlier ops of the same transaction, results and error texts,
 * read-only evaluation that writes nothing; Node, Service and Check
 * operations mixed with KV ones (later ops see earlier ones, rollback
 * of all, Consul's error texts, catalog indexes and watch keys).
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
#include "raftd/store.h"
#include "raftd/txn.h"

#define S(x) proto_str_c(x)

struct fx {
	char dir[64];
	char raft[96];
	struct store *s;
	struct kv *kv;
	struct catalog *cat;
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
	assert_int_equal(catalog_open(f->s, f->kv, &f->cat), 0);
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
	catalog_free(f->cat);
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
	assert_int_equal(txn_eval(f->kv, f->cat, write ? f->next : 0, &t,
	    write, on_touch, f, &o), 0);
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

/* ---- Node, Service and Check operations ---- */

static struct proto_cat_service svcs[8];
static struct proto_cat_check chks[8];
static int nsvc, nchk;

static struct proto_txn_op
nodeop(uint8_t verb, const char *node, uint64_t index)
{
	struct proto_txn_op o;

	memset(&o, 0, sizeof(o));
	o.kind = TXN_KIND_NODE;
	o.verb = verb;
	o.cat.node.node = S(node);
	o.cat.node.address = S("10.0.0.1");
	o.index = index;
	return o;
}

static struct proto_txn_op
svcop(uint8_t verb, const char *node, const char *id, uint64_t index)
{
	struct proto_txn_op o;
	struct proto_cat_service *v = &svcs[nsvc++ % 8];

	memset(&o, 0, sizeof(o));
	memset(v, 0, sizeof(*v));
	o.kind = TXN_KIND_SERVICE;
	o.verb = verb;
	o.cat.node.node = S(node);
	v->id = S(id);
	v->service = S("web");
	v->port = 80;
	o.cat.services = v;
	o.cat.n_services = 1;
	o.index = index;
	return o;
}

static struct proto_txn_op
chkop(uint8_t verb, const char *node, const char *id, const char *svc,
    uint64_t index)
{
	struct proto_txn_op o;
	struct proto_cat_check *c = &chks[nchk++ % 8];

	memset(&o, 0, sizeof(o));
	memset(c, 0, sizeof(*c));
	o.kind = TXN_KIND_CHECK;
	o.verb = verb;
	c->node = S(node);
	c->check_id = S(id);
	c->name = S(id);
	c->status = S("passing");
	c->service_id = S(svc ? svc : "");
	o.cat.checks = c;
	o.cat.n_checks = 1;
	o.index = index;
	return o;
}

/* The catalog's answer to what/name (borrowed until the next call). */
static const struct msg_catalog_get_result *
cat_read(struct fx *f, uint8_t what, const char *name,
    struct catalog_read *cr)
{
	struct msg_catalog_get q;

	memset(&q, 0, sizeof(q));
	q.what = what;
	q.name = S(name);
	assert_int_equal(catalog_get(f->cat, &q, cr), 0);
	return &cr->res;
}

static void
test_catalog_with_kv(void **state)
{
	struct fx *f = *state;
	struct proto_txn_op ops[5];
	struct catalog_read cr;
	const struct msg_catalog_get_result *r;
	struct txn_out *o;
	uint64_t at = f->next;

	/* a new node, a service and a check on it, a key: one entry */
	ops[0] = nodeop(TXN_SET, "n1", 0);
	ops[1] = op(TXN_SET, "k", "v", 0);
	ops[2] = svcop(TXN_SET, "n1", "web1", 0);
	ops[3] = chkop(TXN_SET, "n1", "c1", "web1", 0);
	ops[4] = nodeop(TXN_GET, "n1", 0);
	o = run(f, ops, 5, true);
	assert_int_equal(o->r.n_errors, 0);
	assert_int_equal(o->r.n_results, 1);
	assert_int_equal(o->r.n_cat_results, 4);
	assert_int_equal(o->r.cat_results[0].pos, 0);
	assert_int_equal(o->r.cat_results[0].kind, TXN_KIND_NODE);
	assert_int_equal(o->r.cat_results[0].rec.nodes[0].create_index, at);
	assert_int_equal(o->r.cat_results[1].pos, 2); /* KV is at 1 */
	assert_true(proto_str_eq(o->r.cat_results[1].rec.services[0].id,
	    "web1"));
	assert_int_equal(o->r.cat_results[2].pos, 3);
	assert_true(proto_str_eq(
	    o->r.cat_results[2].rec.checks[0].service_name, "web"));
	assert_int_equal(o->r.cat_results[3].pos, 4);
	txn_out_free(o);
	assert_true(proto_str_eq(get(f, "k")->value, "v"));
	assert_int_equal(catalog_nodes_index(f->cat), at);
	assert_int_equal(catalog_services_index(f->cat), at);
	assert_int_equal(catalog_checks_index(f->cat), at);
	/* the kv key, the catalog and the service's watch keys */
	assert_true(f->touched >= 3);
	catalog_read_init(&cr);
	r = cat_read(f, CATALOG_HEALTH_SERVICE, "web", &cr);
	assert_int_equal(r->n_services, 1);
	assert_int_equal(r->n_checks, 1);
	assert_int_equal(r->meta.index, at);
	catalog_read_fini(&cr);
	/* deleting the node takes its service and check, in a txn */
	ops[0] = nodeop(TXN_DELETE, "n1", 0);
	ops[1] = svcop(TXN_GET, "n1", "web1", 0); /* sees the delete */
	o = run(f, ops, 2, true);
	assert_int_equal(o->r.n_errors, 1);
	assert_int_equal(o->r.errors[0].op_index, 1);
	assert_true(proto_str_eq(o->r.errors[0].what,
	    "service \"web1\" on node \"n1\" doesn't exist"));
	txn_out_free(o);
	catalog_read_init(&cr);
	assert_int_equal(cat_read(f, CATALOG_NODES, "", &cr)->n_nodes, 1);
	catalog_read_fini(&cr);
	ops[0] = nodeop(TXN_DELETE, "n1", 0);
	o = run(f, ops, 1, true);
	assert_int_equal(o->r.n_errors, 0);
	assert_int_equal(o->r.n_cat_results, 0);
	txn_out_free(o);
	catalog_read_init(&cr);
	assert_int_equal(cat_read(f, CATALOG_NODES, "", &cr)->n_nodes, 0);
	assert_int_equal(cat_read(f, CATALOG_HEALTH_STATE, "any",
	    &cr)->n_checks, 0);
	catalog_read_fini(&cr);
	assert_int_equal(catalog_services_index(f->cat), f->next - 1);
}

static void
test_catalog_rollback_and_errors(void **state)
{
	struct fx *f = *state;
	struct proto_txn_op ops[4];
	struct catalog_read cr;
	struct txn_out *o;
	uint64_t nodes, at;

	ops[0] = nodeop(TXN_SET, "a", 0);
	txn_out_free(run(f, ops, 1, true));
	at = f->next - 1;
	nodes = catalog_nodes_index(f->cat);
	f->touched = 0;
	/* op 1 fails: op 0's node and op 2's key are not written */
	ops[0] = nodeop(TXN_SET, "b", 0);
	ops[1] = svcop(TXN_SET, "nosuch", "s", 0);
	ops[2] = op(TXN_SET, "k2", "x", 0);
	ops[3] = chkop(TXN_SET, "a", "c", "nosvc", 0);
	o = run(f, ops, 4, true);
	assert_int_equal(o->r.n_errors, 2);
	assert_int_equal(o->r.errors[0].op_index, 1);
	assert_true(proto_str_eq(o->r.errors[0].what,
	    "Missing node registration"));
	assert_int_equal(o->r.errors[1].op_index, 3);
	assert_true(proto_str_eq(o->r.errors[1].what,
	    "Missing service registration"));
	assert_int_equal(o->r.n_results, 0);
	assert_int_equal(o->r.n_cat_results, 0);
	txn_out_free(o);
	assert_null(get(f, "k2"));
	assert_int_equal(catalog_nodes_index(f->cat), nodes);
	assert_int_equal(f->touched, 0);
	catalog_read_init(&cr);
	assert_int_equal(cat_read(f, CATALOG_NODES, "", &cr)->n_nodes, 1);
	catalog_read_fini(&cr);
	/* cas: 0 only creates; a stale index fails; the right one sets */
	ops[0] = nodeop(TXN_CAS, "a", 0);
	o = run(f, ops, 1, true);
	assert_true(proto_str_eq(o->r.errors[0].what,
	    "failed to set node \"a\", index is stale"));
	txn_out_free(o);
	ops[0] = nodeop(TXN_CAS, "a", at);
	ops[0].cat.node.address = S("10.9.9.9");
	o = run(f, ops, 1, true);
	assert_int_equal(o->r.n_errors, 0);
	assert_int_equal(o->r.cat_results[0].rec.nodes[0].modify_index,
	    f->next - 1);
	txn_out_free(o);
	ops[0] = nodeop(TXN_DELETE_CAS, "a", at);
	o = run(f, ops, 1, true);
	assert_true(proto_str_eq(o->r.errors[0].what,
	    "failed to delete node \"a\", index is stale"));
	txn_out_free(o);
	ops[0] = nodeop(TXN_GET, "zz", 0);
	o = run(f, ops, 1, false);
	assert_true(proto_str_eq(o->r.errors[0].what,
	    "node \"zz\" doesn't exist"));
	txn_out_free(o);
	/* service and check cas/delete-cas texts */
	ops[0] = svcop(TXN_SET, "a", "s1", 0);
	ops[1] = chkop(TXN_SET, "a", "c1", NULL, 0);
	txn_out_free(run(f, ops, 2, true));
	at = f->next - 1;
	ops[0] = svcop(TXN_CAS, "a", "s1", at + 5);
	ops[1] = chkop(TXN_DELETE_CAS, "a", "c1", NULL, at + 5);
	ops[2] = svcop(TXN_DELETE_CAS, "a", "s1", at);
	o = run(f, ops, 3, true);
	assert_int_equal(o->r.n_errors, 2);
	assert_true(proto_str_eq(o->r.errors[0].what,
	    "failed to set service \"s1\" on node \"a\", index is stale"));
	assert_true(proto_str_eq(o->r.errors[1].what,
	    "failed to delete check \"c1\" on node \"a\", index is "
	    "stale"));
	txn_out_free(o);
	/* read-only: a check get works, a check set is refused */
	ops[0] = chkop(TXN_GET, "a", "c1", NULL, 0);
	o = run(f, ops, 1, false);
	assert_int_equal(o->r.n_errors, 0);
	assert_int_equal(o->r.n_cat_results, 1);
	assert_true(proto_str_eq(o->r.cat_results[0].rec.checks[0].status,
	    "passing"));
	txn_out_free(o);
	ops[0] = chkop(TXN_DELETE, "a", "c1", NULL, 0);
	o = run(f, ops, 1, false);
	assert_int_equal(o->r.n_errors, 1);
	txn_out_free(o);
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
		cmocka_unit_test_setup_teardown(test_catalog_with_kv, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_catalog_rollback_and_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
