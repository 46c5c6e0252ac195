/*
 * sched.h — checkd's pure scheduling core: the next-due times of every
 * running check in a binary min-heap, the jitter of a check's first run,
 * and the consecutive-result thresholds (SuccessBeforePassing,
 * FailuresBeforeWarning, FailuresBeforeCritical) as a state machine.
 *
 * No clock, no randomness, no I/O: callers pass the time and a random
 * number, so the unit test drives it with a fake clock (STYLE.md
 * principle 3). Reference: Consul agent/checks/check.go (StatusHandler,
 * lib.RandomStagger for the first run).
 */
#ifndef CAIRN_CHECKD_SCHED_H
#define CAIRN_CHECKD_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum check_status {
	CHECK_PASSING = 0,
	CHECK_WARNING = 1,
	CHECK_CRITICAL = 2,
};

struct sched_ent {
	uint64_t due_ms;
	uint64_t key; /* the caller's handle (a check's serial number) */
};

/* A min-heap on due_ms; entries are owned by the heap. */
struct sched {
	struct sched_ent *v;
	size_t n;
	size_t cap;
};

void sched_init(struct sched *s);
/* Frees the entries; s may be reused after sched_init(). */
void sched_free(struct sched *s);
/* Adds (due_ms, key). Returns 0 or ERR_NOMEM. */
int sched_push(struct sched *s, uint64_t due_ms, uint64_t key);
/* The earliest entry, without removing it; false when empty. */
bool sched_peek(const struct sched *s, struct sched_ent *out);
/* Removes the earliest entry into *out; false when empty. */
bool sched_pop(struct sched *s, struct sched_ent *out);

/* The first run of a check registered at now: now + rnd % interval. */
uint64_t sched_first_due(uint64_t now_ms, uint64_t interval_ms,
    uint64_t rnd);
/* The run after one that started at started_ms (never before now). */
uint64_t sched_next_due(uint64_t started_ms, uint64_t now_ms,
    uint64_t interval_ms);

/* Thresholds of one check (0 = immediately, Consul's default). */
struct sched_limits {
	uint32_t success_before_passing;
	uint32_t failures_before_warning; /* 0: same as ..._critical */
	uint32_t failures_before_critical;
};

struct sched_thr {
	uint32_t successes;
	uint32_t failures;
};

/*
 * Feeds one result (CHECK_*) through the thresholds. Returns true and
 * sets *status when the check's status (and output) must be updated;
 * false while a threshold holds the current status.
 */
bool sched_thr_result(const struct sched_limits *lim, struct sched_thr *t,
    int result, int *status);

#endif
