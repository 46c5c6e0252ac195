/*
 * test_kv.c — the KV state machine (raftd/kv*.c) against a real RocksDB
 * store in a mkdtemp directory: Consul's KV semantics (spec §2.4, §16
 * items 1–9), the index rules, tombstones, dedup and restart.
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
#include "log.h"
#include "raftd/kv.h"
#include "raftd/store.h"

struct fx {
	char dir[64];
	char raft[96];
	struct store *s;
	struct kv *kv;
	struct kv_read r;
	uint64_t next; /* next log index */
	uint64_t seq;
	char touched[1024]; /* keys touched by the last apply, '|'-joined */
};

static void
fx_open(struct fx *f)
{
	char err[256];

	assert_int_equal(store_open(f->raft, &f->s, err, sizeof(err)), 0);
	assert_int_equal(kv_open(f->s, &f->kv), 0);
	f->next = kv_applied_index(f->kv) + 1;
}

static void
fx_close(struct fx *f)
{
	kv_free(f->kv);
	store_close(f->s);
	f->kv = NULL;
	f->s = NULL;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/test_kv.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->raft, sizeof(f->raft), "%s/raft", f->dir);
	fx_open(f);
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
	fx_close(f);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct proto_str
S(const char *s)
{
	struct proto_str p = { s, (uint32_t)strlen(s) };

	return p;
}

static void
on_touch(void *arg, const char *key, size_t klen)
{
	struct fx *f = arg;
	size_t n = strlen(f->touched);

	snprintf(f->touched + n, sizeof(f->touched) - n, "%s%.*s",
	    n ? "|" : "", (int)klen, key);
}

/* Applies one op as the next log entry; returns res.ok (err checked). */
static struct kv_result
apply_full(struct fx *f, uint8_t op, const char *key, const char *val,
    uint64_t flags, uint64_t cas, const char *session)
{
	struct msg_kv_apply a = { 0 };
	struct kv_result res;

	a.client_id = 77;
	a.seq = ++f->seq;
	a.op = op;
	a.key = S(key);
	a.value = S(val ? val : "");
	a.flags = flags;
	a.cas_index = cas;
	a.session = S(session ? session : "");
	f->touched[0] = '\0';
	assert_int_equal(kv_apply(f->kv, f->next, &a, &res, on_touch, f), 0);
	f->next++;
	return res;
}

static bool
apply(struct fx *f, uint8_t op, const char *key, const char *val,
    uint64_t cas)
{
	struct kv_result res = apply_full(f, op, key, val, 0, cas, NULL);

	assert_int_equal(res.err, 0);
	assert_int_equal(res.index, f->next - 1);
	return res.ok;
}

static void
get(struct fx *f, uint8_t mode, const char *key, const char *sep)
{
	struct msg_kv_get q = { 0 };

	q.key = S(key);
	q.mode = mode;
	q.separator = S(sep ? sep : "");
	assert_int_equal(kv_get(f->kv, &q, &f->r), 0);
	assert_true(f->r.index > 0);
}

static void
assert_str(struct proto_str s, const char *want)
{
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.ptr, want, s.len);
}

static void
test_set_get_flags(void **state)
{
	struct fx *f = *state;
	struct kv_result res;

	get(f, KV_GET_ONE, "a", NULL);
	assert_false(f->r.found);
	assert_int_equal(f->r.index, 1); /* empty store: never 0 */

	res = apply_full(f, KV_OP_SET, "a", "hello", 0x2ddccbc058a50c18ULL,
	    0, NULL);
	assert_true(res.ok);
	assert_string_equal(f->touched, "a");
	get(f, KV_GET_ONE, "a", NULL);
	assert_true(f->r.found);
	assert_int_equal(f->r.n_entries, 1);
	assert_str(f->r.entries[0].key, "a");
	assert_str(f->r.entries[0].value, "hello");
	assert_true(f->r.entries[0].flags == 0x2ddccbc058a50c18ULL);
	assert_int_equal(f->r.entries[0].create_index, 1);
	assert_int_equal(f->r.entries[0].modify_index, 1);
	assert_int_equal(f->r.entries[0].lock_index, 0);
	assert_int_equal(f->r.entries[0].session.len, 0);
	assert_int_equal(f->r.index, 1);

	/* a set without flags resets them to 0; CreateIndex is kept */
	assert_true(apply(f, KV_OP_SET, "a", "", 0));
	get(f, KV_GET_ONE, "a", NULL);
	assert_int_equal(f->r.entries[0].flags, 0);
	assert_int_equal(f->r.entries[0].value.len, 0);
	assert_int_equal(f->r.entries[0].create_index, 1);
	assert_int_equal(f->r.entries[0].modify_index, 2);
	res = apply_full(f, KV_OP_SET, "a", "x", UINT64_MAX, 0, NULL);
	get(f, KV_GET_ONE, "a", NULL);
	assert_true(f->r.entries[0].flags == UINT64_MAX);
}

static void
test_cas(void **state)
{
	struct fx *f = *state;
	uint64_t mi;

	assert_true(apply(f, KV_OP_CAS, "c", "1", 0));   /* create */
	assert_false(apply(f, KV_OP_CAS, "c", "2", 0));  /* exists */
	assert_string_equal(f->touched, "");
	get(f, KV_GET_ONE, "c", NULL);
	assert_str(f->r.entries[0].value, "1");
	mi = f->r.entries[0].modify_index;
	assert_int_equal(kv_table_index(f->kv), mi); /* failed cas: no bump */
	assert_false(apply(f, KV_OP_CAS, "c", "3", mi + 100));
	assert_true(apply(f, KV_OP_CAS, "c", "4", mi));
	get(f, KV_GET_ONE, "c", NULL);
	assert_str(f->r.entries[0].value, "4");
	assert_int_equal(f->r.entries[0].create_index, mi);
	assert_false(apply(f, KV_OP_CAS, "missing", "x", 5));
}

static void
test_delete(void **state)
{
	struct fx *f = *state;
	uint64_t t;

	assert_true(apply(f, KV_OP_DELETE, "nope", NULL, 0)); /* true */
	assert_int_equal(kv_table_index(f->kv), 0);
	/* delete-cas of a missing key is true (Consul), and changes nothing */
	assert_true(apply(f, KV_OP_DELETE_CAS, "d", NULL, 0));
	assert_true(apply(f, KV_OP_DELETE_CAS, "d", NULL, 7));
	assert_int_equal(kv_table_index(f->kv), 0);
	assert_true(apply(f, KV_OP_SET, "d", "v", 0));
	/* delete-cas 0 never deletes */
	assert_false(apply(f, KV_OP_DELETE_CAS, "d", NULL, 0));
	assert_false(apply(f, KV_OP_DELETE_CAS, "d", NULL, 99));
	get(f, KV_GET_ONE, "d", NULL);
	assert_true(f->r.found);
	assert_true(apply(f, KV_OP_DELETE_CAS, "d", NULL,
	    f->r.entries[0].modify_index));
	get(f, KV_GET_ONE, "d", NULL);
	assert_false(f->r.found);
	assert_true(apply(f, KV_OP_SET, "d", "v", 0));
	assert_true(apply(f, KV_OP_DELETE, "d", NULL, 0));
	assert_string_equal(f->touched, "d");
	t = f->next - 1;
	get(f, KV_GET_ONE, "d", NULL);
	assert_false(f->r.found);
	assert_int_equal(f->r.index, t); /* missing key: table index */
	/* a key re-created over its tombstone gets a new CreateIndex */
	assert_true(apply(f, KV_OP_SET, "d", "w", 0));
	get(f, KV_GET_ONE, "d", NULL);
	assert_int_equal(f->r.entries[0].create_index, t + 1);
}

static void
test_delete_tree(void **state)
{
	struct fx *f = *state;

	assert_true(apply(f, KV_OP_SET, "t/a", "1", 0));
	assert_true(apply(f, KV_OP_SET, "t/b", "2", 0));
	assert_true(apply(f, KV_OP_SET, "tz", "3", 0));
	assert_true(apply(f, KV_OP_SET, "u", "4", 0));
	assert_true(apply(f, KV_OP_DELETE_TREE, "t/", NULL, 0));
	assert_string_equal(f->touched, "t/a|t/b");
	get(f, KV_GET_RECURSE, "t", NULL);
	assert_int_equal(f->r.n_entries, 1);
	assert_str(f->r.entries[0].key, "tz");
	/* the tombstones hold the prefix index at the delete */
	get(f, KV_GET_KEYS, "t/", NULL);
	assert_false(f->r.found);
	assert_int_equal(f->r.index, 5);
	/* empty prefix: everything */
	assert_true(apply(f, KV_OP_DELETE_TREE, "", NULL, 0));
	assert_string_equal(f->touched, "tz|u");
	get(f, KV_GET_RECURSE, "", NULL);
	assert_false(f->r.found);
	assert_int_equal(f->r.index, 6);
	get(f, KV_GET_KEYS, "", NULL);
	assert_true(f->r.found); /* empty prefix, no keys: [] */
	assert_int_equal(f->r.n_keys, 0);
}

static void
test_tombstone_prefix_index(void **state)
{
	struct fx *f = *state;

	assert_true(apply(f, KV_OP_SET, "p/a", "1", 0)); /* 1 */
	assert_true(apply(f, KV_OP_SET, "p/b", "2", 0)); /* 2 */
	assert_true(apply(f, KV_OP_SET, "q", "3", 0));   /* 3 */
	get(f, KV_GET_RECURSE, "p/", NULL);
	assert_int_equal(f->r.index, 2);
	assert_true(apply(f, KV_OP_DELETE, "p/b", NULL, 0)); /* 4 */
	get(f, KV_GET_RECURSE, "p/", NULL);
	assert_int_equal(f->r.n_entries, 1);
	assert_int_equal(f->r.index, 4); /* the delete moved it */
	get(f, KV_GET_KEYS, "p/", NULL);
	assert_int_equal(f->r.index, 4);
	/* a write elsewhere does not move the prefix index */
	assert_true(apply(f, KV_OP_SET, "q", "4", 0)); /* 5 */
	get(f, KV_GET_RECURSE, "p/", NULL);
	assert_int_equal(f->r.index, 4);
	/* nothing ever under the prefix: the table index */
	get(f, KV_GET_RECURSE, "zz", NULL);
	assert_false(f->r.found);
	assert_int_equal(f->r.index, 5);
	/* present key: its ModifyIndex; missing: the table index */
	get(f, KV_GET_ONE, "p/a", NULL);
	assert_int_equal(f->r.index, 1);
	get(f, KV_GET_ONE, "p/b", NULL);
	assert_int_equal(f->r.index, 5);
}

static void
test_keys_separator(void **state)
{
	struct fx *f = *state;
	const char *want[] = { "web/bar", "web/foo", "web/subdir/" };

	assert_true(apply(f, KV_OP_SET, "web/bar", "", 0));
	assert_true(apply(f, KV_OP_SET, "web/foo", "", 0));
	assert_true(apply(f, KV_OP_SET, "web/subdir/x", "", 0));
	assert_true(apply(f, KV_OP_SET, "web/subdir/y/z", "", 0));
	assert_true(apply(f, KV_OP_SET, "webx", "", 0));
	get(f, KV_GET_KEYS, "web/", "/");
	assert_true(f->r.found);
	assert_int_equal(f->r.n_keys, 3);
	for (int i = 0; i < 3; i++)
		assert_str(f->r.keys[i], want[i]);
	assert_int_equal(f->r.index, 4);
	get(f, KV_GET_KEYS, "web", NULL); /* raw prefix, no separator */
	assert_int_equal(f->r.n_keys, 5);
	get(f, KV_GET_KEYS, "", "/");
	assert_int_equal(f->r.n_keys, 2);
	assert_str(f->r.keys[0], "web/");
	assert_str(f->r.keys[1], "webx");
	get(f, KV_GET_KEYS, "nomatch", NULL);
	assert_false(f->r.found);
	get(f, KV_GET_RECURSE, "web/subdir/", NULL);
	assert_int_equal(f->r.n_entries, 2);
	assert_str(f->r.entries[0].key, "web/subdir/x");
	assert_str(f->r.entries[1].key, "web/subdir/y/z");
	assert_int_equal(f->r.entries[1].modify_index, 4);
}

static void
test_lock_invalid_session(void **state)
{
	struct fx *f = *state;
	struct kv_result res;

	res = apply_full(f, KV_OP_LOCK, "l", "v", 0, 0, "abc-123");
	assert_int_equal(res.err, ERR_SESSION);
	assert_string_equal(res.msg, "invalid session \"abc-123\"");
	/* release compares the holder only (Consul's kvsUnlockTxn) */
	res = apply_full(f, KV_OP_UNLOCK, "l", "v", 0, 0, "abc-123");
	assert_int_equal(res.err, 0);
	assert_false(res.ok);
	assert_true(apply(f, KV_OP_SET, "l", "v", 0)); /* 3 */
	res = apply_full(f, KV_OP_UNLOCK, "l", "w", 0, 0, "abc-123");
	assert_int_equal(res.err, 0);
	assert_false(res.ok);
	res = apply_full(f, KV_OP_LOCK, "l", "v", 0, 0, "");
	assert_int_equal(res.err, ERR_SESSION);
	assert_string_equal(res.msg, "missing session");
	res = apply_full(f, KV_OP_UNLOCK, "l", "v", 0, 0, "");
	assert_int_equal(res.err, ERR_SESSION);
	get(f, KV_GET_ONE, "l", NULL);
	assert_str(f->r.entries[0].value, "v");
	assert_int_equal(f->r.entries[0].modify_index, 3);
	assert_int_equal(kv_applied_index(f->kv), 6);
	assert_int_equal(kv_table_index(f->kv), 3);
}

static void
test_dedup(void **state)
{
	struct fx *f = *state;
	struct msg_kv_apply a = { 0 };
	struct kv_result res, again, found;

	a.client_id = 5;
	a.seq = 9;
	a.op = KV_OP_CAS;
	a.key = S("k");
	a.value = S("first");
	assert_int_equal(kv_apply(f->kv, 1, &a, &res, on_touch, f), 0);
	assert_true(res.ok);
	assert_int_equal(res.index, 1);
	/* the same (client, seq) again at a later index: the first result,
	 * not a second application (a second cas 0 would be false) */
	a.value = S("second");
	f->touched[0] = '\0';
	assert_int_equal(kv_apply(f->kv, 2, &a, &again, on_touch, f), 0);
	assert_true(again.ok);
	assert_int_equal(again.index, 1);
	assert_string_equal(f->touched, "");
	assert_int_equal(kv_applied_index(f->kv), 2);
	assert_int_equal(kv_dedup_find(f->kv, 5, 9, &found), 0);
	assert_true(found.ok);
	assert_int_equal(found.index, 1);
	assert_int_equal(kv_dedup_find(f->kv, 5, 10, &found), ERR_NOTFOUND);
	get(f, KV_GET_ONE, "k", NULL);
	assert_str(f->r.entries[0].value, "first");
	/* errors are remembered too */
	a.seq = 10;
	a.op = KV_OP_LOCK;
	a.session = S("s1");
	assert_int_equal(kv_apply(f->kv, 3, &a, &res, NULL, NULL), 0);
	assert_int_equal(kv_dedup_find(f->kv, 5, 10, &found), 0);
	assert_int_equal(found.err, ERR_SESSION);
	assert_string_equal(found.msg, "invalid session \"s1\"");
	/* an index not past the applied one is refused */
	a.seq = 11;
	assert_int_equal(kv_apply(f->kv, 3, &a, &res, NULL, NULL), ERR_INVAL);
	/* the window forgets old seqs */
	a.op = KV_OP_SET;
	a.seq = 10 + KV_DEDUP_WINDOW;
	assert_int_equal(kv_apply(f->kv, 4, &a, &res, NULL, NULL), 0);
	assert_int_equal(kv_dedup_find(f->kv, 5, 10, &found), ERR_NOTFOUND);
	assert_int_equal(kv_dedup_find(f->kv, 5, 9, &found), 0);
}

static void
test_reap(void **state)
{
	struct fx *f = *state;
	size_t n;

	assert_true(apply(f, KV_OP_SET, "g/a", "1", 0));  /* 1 */
	assert_true(apply(f, KV_OP_SET, "g/b", "2", 0));  /* 2 */
	assert_true(apply(f, KV_OP_SET, "h", "3", 0));    /* 3 */
	assert_true(apply(f, KV_OP_DELETE, "g/a", NULL, 0)); /* 4 */
	assert_true(apply(f, KV_OP_DELETE, "h", NULL, 0));   /* 5 */
	get(f, KV_GET_RECURSE, "g/", NULL);
	assert_int_equal(f->r.index, 4);
	/* reap up to 4: g/a's tombstone goes, h's (5) stays */
	assert_int_equal(kv_reap(f->kv, f->next++, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(kv_applied_index(f->kv), 6);
	{
		struct kv_result res;

		/* dedup records of writes at index <= 4 went, 5's stayed */
		assert_int_equal(kv_dedup_find(f->kv, 77, 4, &res),
		    ERR_NOTFOUND);
		assert_int_equal(kv_dedup_find(f->kv, 77, 5, &res), 0);
		assert_int_equal(res.index, 5);
	}
	/* the prefix index went back to its live entries (Consul too) */
	get(f, KV_GET_RECURSE, "g/", NULL);
	assert_int_equal(f->r.index, 2);
	get(f, KV_GET_KEYS, "h", NULL);
	assert_false(f->r.found);
	assert_int_equal(f->r.index, 5);
	/* the table index never goes back */
	assert_int_equal(kv_table_index(f->kv), 5);
	assert_int_equal(kv_reap(f->kv, f->next++, 100, &n), 0);
	assert_int_equal(n, 1);
	get(f, KV_GET_KEYS, "h", NULL);
	assert_int_equal(f->r.index, 5); /* nothing left: table index */
	assert_int_equal(kv_reap(f->kv, 3, 100, &n), ERR_INVAL);
	{
		struct kv_result res;

		/* the dedup records of writes up to 100 went too */
		assert_int_equal(kv_dedup_find(f->kv, 77, 1, &res),
		    ERR_NOTFOUND);
		assert_int_equal(kv_dedup_find(f->kv, 77, 5, &res),
		    ERR_NOTFOUND);
	}
}

static void
test_restart(void **state)
{
	struct fx *f = *state;

	assert_true(apply(f, KV_OP_SET, "r/1", "one", 0));
	assert_true(apply(f, KV_OP_SET, "r/2", "two", 0));
	assert_true(apply(f, KV_OP_DELETE, "r/2", NULL, 0));
	fx_close(f);
	fx_open(f);
	assert_int_equal(kv_applied_index(f->kv), 3);
	assert_int_equal(kv_table_index(f->kv), 3);
	assert_int_equal(f->next, 4);
	get(f, KV_GET_RECURSE, "r/", NULL);
	assert_int_equal(f->r.n_entries, 1);
	assert_str(f->r.entries[0].value, "one");
	assert_int_equal(f->r.index, 3);
	/* the dedup record of seq 1 survived: re-applying answers it */
	{
		struct msg_kv_apply a = { 0 };
		struct kv_result res;

		a.client_id = 77;
		a.seq = 1;
		a.op = KV_OP_CAS;
		a.key = S("r/1");
		a.value = S("again");
		assert_int_equal(kv_apply(f->kv, 4, &a, &res, NULL, NULL), 0);
		assert_true(res.ok);
		assert_int_equal(res.index, 1);
	}
	get(f, KV_GET_ONE, "r/1", NULL);
	assert_str(f->r.entries[0].value, "one");
	/* an applied index is never applied again */
	{
		struct msg_kv_apply a = { 0 };
		struct kv_result res;

		a.op = KV_OP_SET;
		a.key = S("r/3");
		assert_int_equal(kv_apply(f->kv, 2, &a, &res, NULL, NULL),
		    ERR_INVAL);
	}
}

/*
 * Runs (kv_run_begin .. kv_run_end): the same pseudo-random writes over a
 * few keys, with repeats of (client, seq) and seqs that push records out
 * of the dedup window, applied one entry at a time into f and in runs of
 * random length into a second store: every result, the applied and
 * table indexes, every value and dedup answer must be the same.
 */
static void
test_run_same_as_single(void **state)
{
	struct fx *f = *state, g;
	static const char *const keys[] = { "r/a", "r/b", "r/c", "q" };
	static const uint8_t ops[] = { KV_OP_SET, KV_OP_CAS, KV_OP_DELETE,
	    KV_OP_DELETE_CAS };
	uint64_t rnd = 12345, seq = 0, idx = 0, seqs[4096] = { 0 };
	uint32_t runleft = 0;
	char val[32], touched_run[1024] = "";

	memset(&g, 0, sizeof(g));
	strcpy(g.dir, "/tmp/test_kv.XXXXXX");
	assert_non_null(mkdtemp(g.dir));
	snprintf(g.raft, sizeof(g.raft), "%s/raft", g.dir);
	fx_open(&g);
	kv_run_begin(g.kv);
	for (int i = 0; i < 4000; i++) {
		struct msg_kv_apply a = { 0 };
		struct kv_result r1, r2;

		rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
		a.client_id = 1 + (rnd >> 60) % 2;
		if (seq > 0 && (rnd >> 20) % 8 == 0) {
			a.seq = seqs[1 + (rnd >> 24) % seq]; /* a repeat */
		} else {
			seq++;
			/* now and then past the window of earlier seqs */
			seqs[seq] = seqs[seq - 1] +
			    ((rnd >> 28) % 64 == 0 ? KV_DEDUP_WINDOW : 1);
			a.seq = seqs[seq];
		}
		a.op = ops[(rnd >> 32) % 4];
		a.key = S(keys[(rnd >> 36) % 4]);
		snprintf(val, sizeof(val), "v%d", i);
		a.value = S(val);
		a.cas_index = (rnd >> 40) % 3 == 0 ? 0 :
		    idx - (rnd >> 44) % 4;
		idx++;
		f->touched[0] = '\0';
		assert_int_equal(kv_apply(f->kv, idx, &a, &r1, on_touch, f),
		    0);
		assert_int_equal(kv_apply_run(g.kv, idx, &a, &r2), 0);
		assert_int_equal(r1.ok, r2.ok);
		assert_int_equal(r1.index, r2.index);
		assert_int_equal(r1.err, r2.err);
		if (runleft == 0) {
			g.touched[0] = '\0';
			assert_int_equal(kv_run_end(g.kv, on_touch, &g), 0);
			assert_int_equal(kv_applied_index(g.kv), idx);
			assert_int_equal(kv_table_index(g.kv),
			    kv_table_index(f->kv));
			strcpy(touched_run, g.touched);
			kv_run_begin(g.kv);
			runleft = (rnd >> 48) % 200;
		} else
			runleft--;
	}
	assert_int_equal(kv_run_end(g.kv, NULL, NULL), 0);
	assert_int_equal(kv_applied_index(g.kv), idx);
	assert_int_equal(kv_table_index(g.kv), kv_table_index(f->kv));
	for (size_t k = 0; k < 4; k++) {
		struct msg_kv_get q = { 0 };
		struct kv_read r2;
		int rc1, rc2;

		kv_read_init(&r2);
		q.key = S(keys[k]);
		q.mode = KV_GET_ONE;
		rc1 = kv_get(f->kv, &q, &f->r);
		rc2 = kv_get(g.kv, &q, &r2);
		assert_int_equal(rc1, rc2);
		assert_int_equal(f->r.n_entries, r2.n_entries);
		assert_int_equal(f->r.index, r2.index);
		if (f->r.n_entries == 1) {
			assert_int_equal(f->r.entries[0].value.len,
			    r2.entries[0].value.len);
			assert_memory_equal(f->r.entries[0].value.ptr,
			    r2.entries[0].value.ptr, r2.entries[0].value.len);
			assert_int_equal(f->r.entries[0].modify_index,
			    r2.entries[0].modify_index);
		}
		kv_read_fini(&r2);
	}
	for (uint64_t i = 1; i <= seq; i++) {
		for (uint64_t c = 1; c <= 2; c++) {
			struct kv_result d1, d2;

			assert_int_equal(kv_dedup_find(f->kv, c, seqs[i], &d1),
			    kv_dedup_find(g.kv, c, seqs[i], &d2));
			assert_int_equal(d1.index, d2.index);
			assert_int_equal(d1.ok, d2.ok);
		}
	}
	/* a run cut by a crash (never ended) leaves nothing applied */
	kv_run_begin(g.kv);
	{
		struct msg_kv_apply a = { 0 };
		struct kv_result r;

		a.op = KV_OP_SET;
		a.key = S("lost");
		a.value = S("x");
		assert_int_equal(kv_apply_run(g.kv, idx + 1, &a, &r), 0);
		assert_int_equal(kv_apply_run(g.kv, idx + 1, &a, &r),
		    ERR_INVAL);
	}
	fx_close(&g);
	fx_open(&g);
	assert_int_equal(kv_applied_index(g.kv), idx);
	{
		struct msg_kv_get q = { 0 };

		q.key = S("lost");
		q.mode = KV_GET_ONE;
		(void)kv_get(g.kv, &q, &f->r);
		assert_false(f->r.found);
		assert_int_equal(f->r.n_entries, 0);
	}
	fx_close(&g);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", g.dir);
		assert_int_equal(system(cmd), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set_get_flags, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_tree, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tombstone_prefix_index,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_separator, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lock_invalid_session,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_same_as_single, setup,
		    teardown),
	};

	log_init("unit_kv", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
