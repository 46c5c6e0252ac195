/*
 * test_watch.c — raftd's blocking-read index (raftd/watch.c): a write
 * re-evaluates only the watchers whose exact key, prefix or "any" kind
 * matches; a watcher kept waiting is re-indexed; the wait ends on its
 * timer with jitter bounded by wait/16; watch_free drops what is held;
 * woken watchers of one group key are evaluated in one group call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "loop.h"
#include "raftd/watch.h"

struct probe {
	int id;
	int evals;
	int timeouts;
	int drops;
	bool answer; /* what eval returns on a touch */
	uint64_t t_added, t_done;
};

struct fx {
	struct loop *l;
	struct watch *wt;
	int evals;
};

static bool
eval(void *arg, void *data, bool timed_out)
{
	struct fx *f = arg;
	struct probe *p = data;

	f->evals++;
	p->evals++;
	if (timed_out) {
		p->timeouts++;
		p->t_done = loop_clock_ms();
		return true;
	}
	return p->answer;
}

static void
drop(void *arg, void *data)
{
	struct probe *p = data;

	(void)arg;
	p->drops++;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->l = loop_new();
	assert_non_null(f->l);
	f->wt = watch_new(f->l, eval, drop, f);
	assert_non_null(f->wt);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	watch_free(f->wt);
	loop_free(f->l);
	free(f);
	return 0;
}

static void
add(struct fx *f, struct probe *p, enum watch_kind k, const char *key,
    uint32_t wait_ms)
{
	p->t_added = loop_clock_ms();
	assert_int_equal(watch_add(f->wt, k, key, strlen(key), wait_ms, p),
	    0);
}

static void
touch(struct fx *f, const char *key)
{
	watch_touch(f->wt, key, strlen(key));
	watch_flush(f->wt);
}

static void
test_only_matching_watchers(void **state)
{
	struct fx *f = *state;
	enum { N = 3000 };
	struct probe *keys = calloc(N, sizeof(*keys));
	struct probe pa = { 0 }, pab = { 0 }, pall = { 0 }, pother = { 0 };
	struct probe any = { 0 };
	char k[32];

	for (int i = 0; i < N; i++) {
		keys[i].answer = true;
		snprintf(k, sizeof(k), "svc/%d/cfg", i);
		add(f, &keys[i], WATCH_KEY, k, 60000);
	}
	pa.answer = pab.answer = pall.answer = pother.answer = false;
	add(f, &pa, WATCH_PREFIX, "svc/", 60000);
	add(f, &pab, WATCH_PREFIX, "svc/17", 60000);
	add(f, &pall, WATCH_PREFIX, "", 60000);
	add(f, &pother, WATCH_PREFIX, "web/", 60000);
	any.answer = false;
	add(f, &any, WATCH_ANY, "", 60000);
	assert_int_equal(watch_count(f->wt), N + 5);

	/* one write: its exact key, the prefixes above it, "any" */
	touch(f, "svc/17/cfg");
	assert_int_equal(f->evals, 5);
	assert_int_equal(keys[17].evals, 1);
	assert_int_equal(keys[170].evals, 0);
	assert_int_equal(pa.evals, 1);
	assert_int_equal(pab.evals, 1);
	assert_int_equal(pall.evals, 1);
	assert_int_equal(pother.evals, 0);
	assert_int_equal(any.evals, 1);
	/* keys[17] answered and is gone; the others wait again */
	assert_int_equal(watch_count(f->wt), N + 4);
	touch(f, "svc/17/cfg");
	assert_int_equal(keys[17].evals, 1);
	assert_int_equal(pab.evals, 2);
	/* a write nobody reads but "any" and the empty prefix */
	f->evals = 0;
	touch(f, "zzz");
	assert_int_equal(f->evals, 2);
	/* a key shorter than a prefix does not match it */
	f->evals = 0;
	touch(f, "svc");
	assert_int_equal(f->evals, 2);
	/* the rest are still held: watch_free drops each once */
	watch_free(f->wt);
	f->wt = NULL;
	assert_int_equal(keys[0].drops, 1);
	assert_int_equal(keys[17].drops, 0);
	free(keys);
	assert_int_equal(pa.drops, 1);
	assert_int_equal(any.drops, 1);
	assert_int_equal(pother.drops, 1);
}

static void
stop_cb(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

static void
test_timeout_with_jitter(void **state)
{
	struct fx *f = *state;
	struct probe a = { 0 }, b = { 0 };
	uint64_t da, db;

	add(f, &a, WATCH_KEY, "k", 160);
	add(f, &b, WATCH_PREFIX, "p/", 80);
	assert_true(loop_timer_add(f->l, 1500, stop_cb, NULL) > 0);
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(a.timeouts, 1);
	assert_int_equal(b.timeouts, 1);
	da = a.t_done - a.t_added;
	db = b.t_done - b.t_added;
	/* never before the wait; the jitter is at most wait/16 (10 and 5 ms)
	 * plus however late a loaded 2-core machine runs the loop (slack) */
	assert_true(da >= 160 && da <= 160 + 10 + 300);
	assert_true(db >= 80 && db <= 80 + 5 + 300);
	assert_int_equal(watch_count(f->wt), 0);
	/* a touch after the timeout finds nothing */
	touch(f, "k");
	assert_int_equal(a.evals, 1);
}

static void
test_kept_watcher_is_reindexed(void **state)
{
	struct fx *f = *state;
	struct probe p = { 0 };

	p.answer = false;
	add(f, &p, WATCH_KEY, "k", 60000);
	for (int i = 0; i < 5; i++)
		touch(f, "k");
	assert_int_equal(p.evals, 5);
	p.answer = true;
	touch(f, "k");
	assert_int_equal(p.evals, 6);
	assert_int_equal(watch_count(f->wt), 0);
	touch(f, "k");
	assert_int_equal(p.evals, 6);
	assert_int_equal(p.drops, 0);
}

static void
test_prefix_lengths(void **state)
{
	struct fx *f = *state;
	struct probe p[6];
	const char *pre[6] = { "a/", "a/b/", "b/", "a/b/c/", "", "a/b/" };

	memset(p, 0, sizeof(p));
	for (int i = 0; i < 6; i++) {
		p[i].answer = true;
		add(f, &p[i], WATCH_PREFIX, pre[i], 60000);
	}
	touch(f, "a/b/x"); /* a/, a/b/ (two), "" */
	assert_int_equal(f->evals, 4);
	assert_int_equal(p[0].evals + p[1].evals + p[4].evals + p[5].evals, 4);
	assert_int_equal(watch_count(f->wt), 2);
	/* lengths 0, 2 and 4 left the index; 2 ("b/") and 6 remain */
	touch(f, "a/b/c/d");
	assert_int_equal(p[3].evals, 1);
	touch(f, "b/1");
	assert_int_equal(p[2].evals, 1);
	assert_int_equal(watch_count(f->wt), 0);
	/* and a new one of a length seen before still matches */
	memset(&p[0], 0, sizeof(p[0]));
	p[0].answer = true;
	add(f, &p[0], WATCH_PREFIX, "a/b/", 60000);
	touch(f, "a/b/z");
	assert_int_equal(p[0].evals, 1);
}

/* Group callback: records each call; answers the probes marked so. */
static int group_calls, group_sizes[8];

static void
group(void *arg, void **data, bool *done, size_t n)
{
	struct fx *f = arg;

	assert_true(n >= 2);
	if (group_calls < 8)
		group_sizes[group_calls] = (int)n;
	group_calls++;
	for (size_t i = 0; i < n; i++) {
		struct probe *p = data[i];

		f->evals++;
		p->evals++;
		done[i] = p->answer;
	}
}

static void
addg(struct fx *f, struct probe *p, const char *key, const char *g)
{
	assert_int_equal(watch_add_group(f->wt, WATCH_KEY, key, strlen(key),
	    60000, g, g ? strlen(g) : 0, p), 0);
}

/*
 * Woken watchers with equal group keys go to the group callback in one
 * call; other keys (or none) are evaluated apart; the ones it leaves
 * waiting are re-indexed and woken by the next write.
 */
static void
test_groups(void **state)
{
	struct fx *f = *state;
	enum { N = 1000 };
	struct probe *same = calloc(N, sizeof(*same));
	struct probe other[2] = { 0 }, alone = { 0 }, nokey[2] = { 0 };
	struct probe db = { 0 };

	watch_set_group(f->wt, group);
	group_calls = 0;
	for (int i = 0; i < N; i++) {
		same[i].answer = i % 10 != 0; /* a tenth keep waiting */
		addg(f, &same[i], "svc/web", "Q1");
	}
	other[0].answer = other[1].answer = true;
	addg(f, &other[0], "svc/web", "Q2");
	addg(f, &other[1], "svc/web", "Q2");
	alone.answer = true;
	addg(f, &alone, "svc/web", "Q1x"); /* a longer key is another */
	nokey[0].answer = nokey[1].answer = true;
	addg(f, &nokey[0], "svc/web", NULL);
	addg(f, &nokey[1], "svc/web", NULL);
	db.answer = true;
	addg(f, &db, "svc/db", "Q1");
	touch(f, "svc/web");
	/* one call for Q1 (all N), one for Q2; Q1x and no-key ones alone */
	assert_int_equal(group_calls, 2);
	assert_true((group_sizes[0] == N && group_sizes[1] == 2) ||
	    (group_sizes[0] == 2 && group_sizes[1] == N));
	assert_int_equal(alone.evals, 1);
	assert_int_equal(nokey[0].evals, 1);
	assert_int_equal(nokey[1].evals, 1);
	assert_int_equal(f->evals, N + 2 + 1 + 2);
	/* the db watcher (same group key, other data) is still held */
	assert_int_equal(watch_count(f->wt), N / 10 + 1);
	/* the waiting tenth is woken again, still as one group */
	for (int i = 0; i < N; i += 10)
		same[i].answer = true;
	touch(f, "svc/web");
	assert_int_equal(group_calls, 3);
	assert_int_equal(group_sizes[2], N / 10);
	assert_int_equal(same[0].evals, 2);
	assert_int_equal(same[1].evals, 1);
	assert_int_equal(watch_count(f->wt), 1);
	free(same);
	watch_free(f->wt);
	f->wt = NULL;
	assert_int_equal(db.evals, 0);
	assert_int_equal(db.drops, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_only_matching_watchers,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_with_jitter,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_kept_watcher_is_reindexed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_lengths, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
	};

	log_init("unit_watch", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
