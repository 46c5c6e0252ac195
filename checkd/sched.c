/*
 * sched.c — checkd's pure scheduler (see sched.h): a binary min-heap of
 * next-due times and the result-threshold state machine. Reference:
 * Consul agent/checks/check.go StatusHandler.updateCheck: a passing or
 * warning result resets the failure count and updates once
 * successes >= SuccessBeforePassing; a critical one resets the success
 * count, goes critical once failures >= FailuresBeforeCritical, else
 * warning once failures >= FailuresBeforeWarning.
 */
#include <stdlib.h>

#include "err.h"
#include "sched.h"

void
sched_init(struct sched *s)
{
	s->v = NULL;
	s->n = s->cap = 0;
}

void
sched_free(struct sched *s)
{
	free(s->v);
	sched_init(s);
}

static void
sched_swap(struct sched *s, size_t a, size_t b)
{
	struct sched_ent t = s->v[a];

	s->v[a] = s->v[b];
	s->v[b] = t;
}

int
sched_push(struct sched *s, uint64_t due_ms, uint64_t key)
{
	size_t i;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct sched_ent *v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return ERR_NOMEM;
		s->v = v;
		s->cap = cap;
	}
	i = s->n++;
	s->v[i].due_ms = due_ms;
	s->v[i].key = key;
	while (i > 0 && s->v[(i - 1) / 2].due_ms > s->v[i].due_ms) {
		sched_swap(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return 0;
}

bool
sched_peek(const struct sched *s, struct sched_ent *out)
{
	if (s->n == 0)
		return false;
	*out = s->v[0];
	return true;
}

bool
sched_pop(struct sched *s, struct sched_ent *out)
{
	size_t i = 0;

	if (s->n == 0)
		return false;
	*out = s->v[0];
	s->v[0] = s->v[--s->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->n && s->v[l].due_ms < s->v[m].due_ms)
			m = l;
		if (r < s->n && s->v[r].due_ms < s->v[m].due_ms)
			m = r;
		if (m == i)
			break;
		sched_swap(s, i, m);
		i = m;
	}
	return true;
}

uint64_t
sched_first_due(uint64_t now_ms, uint64_t interval_ms, uint64_t rnd)
{
	if (interval_ms == 0)
		return now_ms;
	return now_ms + rnd % interval_ms;
}

uint64_t
sched_next_due(uint64_t started_ms, uint64_t now_ms, uint64_t interval_ms)
{
	uint64_t due = started_ms + interval_ms;

	return due < now_ms ? now_ms : due;
}

bool
sched_thr_result(const struct sched_limits *lim, struct sched_thr *t,
    int result, int *status)
{
	uint32_t warn = lim->failures_before_warning;

	if (warn == 0 || warn > lim->failures_before_critical)
		warn = lim->failures_before_critical;
	if (result == CHECK_PASSING || result == CHECK_WARNING) {
		t->failures = 0;
		if (t->successes < UINT32_MAX)
			t->successes++;
		if (t->successes >= lim->success_before_passing) {
			*status = result;
			return true;
		}
		return false;
	}
	t->successes = 0;
	if (t->failures < UINT32_MAX)
		t->failures++;
	if (t->failures >= lim->failures_before_critical) {
		*status = CHECK_CRITICAL;
		return true;
	}
	if (t->failures >= warn) {
		*status = CHECK_WARNING;
		return true;
	}
	return false;
}
