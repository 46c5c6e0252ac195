/*
 * test_check_idx.c — checkd/idx.c, the intrusive string-keyed hash table
 * behind checkd's services and checks by ID and checks by ServiceID:
 * find, a key held by many links (the multimap), removal in the middle
 * of a run, and growth from the single bucket to many, checked against
 * a plain array (the model).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checkd/idx.h"

struct item {
	char key[32];
	int val;
	bool in;
	struct idx_link link;
};

static size_t
count_key(const struct idx *x, const char *key)
{
	struct idx_link *l;
	size_t n = 0;

	for (l = idx_find(x, key); l != NULL; l = idx_next_same(l)) {
		assert_string_equal(l->key, key);
		n++;
	}
	return n;
}

static void
test_find_and_delete(void **state)
{
	struct idx x = { 0 };
	struct item a = { .key = "a", .val = 1 }, b = { .key = "b", .val = 2 };
	struct idx_link *l;

	(void)state;
	assert_null(idx_find(&x, "a"));
	idx_add(&x, &a.link, a.key);
	idx_add(&x, &b.link, b.key);
	l = idx_find(&x, "b");
	assert_non_null(l);
	assert_int_equal(IDX_ENTRY(l, struct item, link)->val, 2);
	assert_null(idx_next_same(l));
	idx_del(&x, &b.link);
	assert_null(idx_find(&x, "b"));
	assert_ptr_equal(idx_find(&x, "a"), &a.link);
	assert_int_equal(x.n, 1);
	idx_del(&x, &a.link);
	assert_null(idx_find(&x, "a"));
	assert_int_equal(x.n, 0);
	idx_fini(&x);
}

static void
test_multimap_newest_first(void **state)
{
	struct idx x = { 0 };
	struct item it[5];
	struct idx_link *l;
	int i, want;

	(void)state;
	for (i = 0; i < 5; i++) {
		memset(&it[i], 0, sizeof(it[i]));
		snprintf(it[i].key, sizeof(it[i].key), "%s", i % 2 ? "odd" :
		    "even");
		it[i].val = i;
		idx_add(&x, &it[i].link, it[i].key);
	}
	want = 4;
	for (l = idx_find(&x, "even"); l != NULL; l = idx_next_same(l)) {
		assert_int_equal(IDX_ENTRY(l, struct item, link)->val, want);
		want -= 2;
	}
	assert_int_equal(want, -2);
	/* removing the middle of the run keeps the rest reachable */
	idx_del(&x, &it[2].link);
	assert_int_equal(count_key(&x, "even"), 2);
	assert_int_equal(count_key(&x, "odd"), 2);
	idx_fini(&x);
}

/* 10,000 items over 997 keys, added and half removed, against a model;
 * the table grows past its first sizes on the way. */
static void
test_growth_against_model(void **state)
{
	enum { N = 10000, K = 997 };
	struct item *it = calloc(N, sizeof(*it));
	struct idx x = { 0 };
	size_t want[K], i, k;

	(void)state;
	assert_non_null(it);
	memset(want, 0, sizeof(want));
	for (i = 0; i < N; i++) {
		snprintf(it[i].key, sizeof(it[i].key), "svc-%zu", (i * 7) % K);
		idx_add(&x, &it[i].link, it[i].key);
		it[i].in = true;
		want[(i * 7) % K]++;
	}
	assert_true(x.nb >= N);
	assert_int_equal(x.n, N);
	for (i = 0; i < N; i += 2) {
		idx_del(&x, &it[i].link);
		it[i].in = false;
		want[(i * 7) % K]--;
	}
	for (k = 0; k < K; k++) {
		char key[32];
		snprintf(key, sizeof(key), "svc-%zu", k);
		assert_int_equal(count_key(&x, key), want[k]);
	}
	assert_null(idx_find(&x, "svc-absent"));
	assert_int_equal(x.n, N / 2);
	idx_fini(&x);
	free(it);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_and_delete),
		cmocka_unit_test(test_multimap_newest_first),
		cmocka_unit_test(test_growth_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
