/*
 * test_check_sched.c — checkd's pure scheduler with a fake clock: the
 * heap hands out due checks in time order (ties and many entries), the
 * first run is jittered within one interval, later runs come one interval
 * after the previous one, and the thresholds behave as Consul's
 * StatusHandler (SuccessBeforePassing, FailuresBeforeWarning,
 * FailuresBeforeCritical; counters reset by the opposite result).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "checkd/sched.h"

static void
test_heap_order(void **state)
{
	struct sched s;
	struct sched_ent e;
	uint64_t prev = 0, i, seed = 12345;
	size_t n = 0;

	(void)state;
	sched_init(&s);
	assert_false(sched_peek(&s, &e));
	for (i = 0; i < 5000; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		assert_int_equal(sched_push(&s, (seed >> 33) % 100000, i), 0);
	}
	while (sched_pop(&s, &e)) {
		assert_true(e.due_ms >= prev);
		prev = e.due_ms;
		n++;
	}
	assert_int_equal(n, 5000);
	sched_free(&s);
}

/* A fake clock driving three checks: due ones come out, others wait. */
static void
test_fake_clock_runs(void **state)
{
	struct sched s;
	struct sched_ent e;
	uint64_t now = 1000, runs[3] = { 0 }, interval[3] = { 1000, 2500,
		10000 };
	int k;

	(void)state;
	sched_init(&s);
	for (k = 0; k < 3; k++)
		sched_push(&s, sched_first_due(now, interval[k], 7u * k + 3),
		    (uint64_t)k);
	for (; now <= 31000; now += 100) {
		while (sched_peek(&s, &e) && e.due_ms <= now) {
			sched_pop(&s, &e);
			runs[e.key]++;
			sched_push(&s, sched_next_due(now, now,
			    interval[e.key]), e.key);
		}
	}
	/* 30 s of fake time: ~30, ~12 and 3 runs */
	assert_in_range(runs[0], 29, 31);
	assert_in_range(runs[1], 11, 13);
	assert_in_range(runs[2], 3, 4);
	sched_free(&s);
}

static void
test_first_due_jitter(void **state)
{
	uint64_t r;

	(void)state;
	for (r = 0; r < 100000; r += 997) {
		uint64_t d = sched_first_due(5000, 10000, r * 7919u);
		assert_true(d >= 5000 && d < 15000);
	}
	assert_int_equal(sched_first_due(5000, 0, 42), 5000);
	/* a late run does not make the next one due in the past */
	assert_int_equal(sched_next_due(1000, 9000, 1000), 9000);
	assert_int_equal(sched_next_due(9000, 9000, 1000), 10000);
}

static void
test_thresholds_default(void **state)
{
	struct sched_limits lim = { 0, 0, 0 };
	struct sched_thr t = { 0, 0 };
	int st = -1;

	(void)state;
	assert_true(sched_thr_result(&lim, &t, CHECK_PASSING, &st));
	assert_int_equal(st, CHECK_PASSING);
	assert_true(sched_thr_result(&lim, &t, CHECK_CRITICAL, &st));
	assert_int_equal(st, CHECK_CRITICAL);
	assert_true(sched_thr_result(&lim, &t, CHECK_WARNING, &st));
	assert_int_equal(st, CHECK_WARNING);
}

static void
test_thresholds_counts(void **state)
{
	/* SuccessBeforePassing 2, FailuresBeforeWarning 1,
	 * FailuresBeforeCritical 3 */
	struct sched_limits lim = { 2, 1, 3 };
	struct sched_thr t = { 0, 0 };
	int st = -1;

	(void)state;
	assert_false(sched_thr_result(&lim, &t, CHECK_PASSING, &st));
	assert_true(sched_thr_result(&lim, &t, CHECK_PASSING, &st));
	assert_int_equal(st, CHECK_PASSING);
	/* one failure: warning; two: still warning; three: critical */
	assert_true(sched_thr_result(&lim, &t, CHECK_CRITICAL, &st));
	assert_int_equal(st, CHECK_WARNING);
	assert_true(sched_thr_result(&lim, &t, CHECK_CRITICAL, &st));
	assert_int_equal(st, CHECK_WARNING);
	assert_true(sched_thr_result(&lim, &t, CHECK_CRITICAL, &st));
	assert_int_equal(st, CHECK_CRITICAL);
	/* a success resets the failures; one success is not enough */
	assert_false(sched_thr_result(&lim, &t, CHECK_PASSING, &st));
	assert_int_equal(t.failures, 0);
	/* a failure in between resets the successes */
	st = -1;
	assert_true(sched_thr_result(&lim, &t, CHECK_CRITICAL, &st));
	assert_int_equal(st, CHECK_WARNING);
	assert_false(sched_thr_result(&lim, &t, CHECK_PASSING, &st));
	assert_true(sched_thr_result(&lim, &t, CHECK_PASSING, &st));
	assert_int_equal(st, CHECK_PASSING);
}

static void
test_thresholds_no_warning_stage(void **state)
{
	/* FailuresBeforeWarning unset = FailuresBeforeCritical (2) */
	struct sched_limits lim = { 0, 0, 2 };
	struct sched_thr t = { 0, 0 };
	int st = -1;

	(void)state;
	assert_false(sched_thr_result(&lim, &t, CHECK_CRITICAL, &st));
	assert_true(sched_thr_result(&lim, &t, CHECK_CRITICAL, &st));
	assert_int_equal(st, CHECK_CRITICAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_order),
		cmocka_unit_test(test_fake_clock_runs),
		cmocka_unit_test(test_first_due_jitter),
		cmocka_unit_test(test_thresholds_default),
		cmocka_unit_test(test_thresholds_counts),
		cmocka_unit_test(test_thresholds_no_warning_stage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
