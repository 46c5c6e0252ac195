/*
 * swim_suspect.c — Lifeguard's dynamic suspicion timeouts.
 *
 * Where it sits: swim_member_suspect() starts a timer here when a member
 * first becomes suspect and confirms it on later suspect messages from
 * other members; swim_tick() fires expired timers, which declare the
 * member dead (from us) unless it refuted in between.
 *
 * Key decision (memberlist suspicion.go): min = suspicion_mult *
 * max(1, log10(max(1, n))) * probe_interval, max = suspicion_max_timeout_mult
 * * min; with k = suspicion_mult - 2 expected independent confirmations
 * (0 when n - 2 < k) the timeout after c confirmations is
 * max(min, max - (max - min) * log(c + 1) / log(k + 1)), measured from the
 * start of the suspicion. The accuser itself is not a confirmation.
 *
 * Reference: Lifeguard §IV-B (Dynamic Suspicion Timeouts); memberlist
 * state.go suspectNode, suspicion.go remainingSuspicionTime.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "swim_int.h"

uint64_t
swim_suspect_min_ms(const struct swim *s, uint32_t n)
{
	double scale = n > 1 ? swim_log10(n) : 0.0;

	if (scale < 1.0)
		scale = 1.0;
	return (uint64_t)(s->cfg.suspicion_mult * scale *
	    s->cfg.probe_interval_ms);
}

static uint64_t
timeout_ms(const struct swim_susp *su)
{
	double frac, raw;

	if (su->k < 1)
		return su->min_ms;
	frac = swim_ln((double)su->n + 1.0) / swim_ln((double)su->k + 1.0);
	raw = (double)su->max_ms - frac * (double)(su->max_ms - su->min_ms);
	if (raw < (double)su->min_ms)
		return su->min_ms;
	return (uint64_t)raw; /* raw >= min_ms >= 0: truncation is floor */
}

/* s->susp_next only ever moves down here; swim_suspect_tick() makes it
 * exact again. A stale (early) value costs one wake, not a list walk per
 * message as swim_suspect_next() did (perf: a 60 s partition of n = 2,000
 * left 1,000 suspicions per member, and the walks were 85 % of the CPU). */
static void
lower_next(struct swim *s, uint64_t deadline)
{
	if (s->susp_next == 0 || deadline < s->susp_next)
		s->susp_next = deadline;
}

static void
unlink_susp(struct swim *s, struct swim_susp *su)
{
	if (su->prev != NULL)
		su->prev->next = su->next;
	else
		s->susps = su->next;
	if (su->next != NULL)
		su->next->prev = su->prev;
	su->prev = su->next = NULL;
	if (s->susps == NULL)
		s->susp_next = 0;
}

int
swim_suspect_start(struct swim *s, struct swim_member *m, const char *from)
{
	struct swim_susp *su;
	uint32_t n = swim_live_count(s);

	if (m->susp != NULL)
		return 0;
	if ((su = calloc(1, sizeof(*su))) == NULL)
		return ERR_NOMEM;
	su->m = m;
	su->k = s->cfg.suspicion_mult > 2 ? s->cfg.suspicion_mult - 2 : 0;
	if (n < su->k + 2)
		su->k = 0;
	if (su->k > 15)
		su->k = 15;
	su->min_ms = swim_suspect_min_ms(s, n);
	su->max_ms = su->min_ms * s->cfg.suspicion_max_timeout_mult;
	su->start_ms = s->now;
	su->confirm[su->n_confirm++] = swim_member_hash(from);
	su->deadline_ms = su->start_ms + timeout_ms(su);
	su->next = s->susps;
	if (s->susps != NULL)
		s->susps->prev = su;
	s->susps = su;
	m->susp = su;
	lower_next(s, su->deadline_ms);
	return 0;
}

bool
swim_suspect_confirm(struct swim *s, struct swim_member *m, const char *from)
{
	struct swim_susp *su = m->susp;
	uint64_t h = swim_member_hash(from);
	uint32_t i;

	if (su == NULL || su->n >= su->k)
		return false;
	for (i = 0; i < su->n_confirm; i++)
		if (su->confirm[i] == h)
			return false;
	if (su->n_confirm < 16)
		su->confirm[su->n_confirm++] = h;
	su->n++;
	su->deadline_ms = su->start_ms + timeout_ms(su);
	lower_next(s, su->deadline_ms);
	return true;
}

void
swim_suspect_stop(struct swim *s, struct swim_member *m)
{
	if (m->susp == NULL)
		return;
	unlink_susp(s, m->susp);
	free(m->susp);
	m->susp = NULL;
}

/* One pass: unhook every expired suspicion (and find the next deadline
 * among the rest), then declare those members dead. Was a rescan from
 * the head after each expiry: O(s^2) when a partition's suspicions all
 * expire together. */
void
swim_suspect_tick(struct swim *s)
{
	struct swim_susp *su, *next, *due = NULL;
	struct swim_member *m;
	struct swim_dead d;
	uint64_t soonest = 0;

	if (s->susps == NULL || s->now < s->susp_next)
		return;
	for (su = s->susps; su != NULL; su = next) {
		next = su->next;
		if (s->now < su->deadline_ms) {
			if (soonest == 0 || su->deadline_ms < soonest)
				soonest = su->deadline_ms;
			continue;
		}
		unlink_susp(s, su);
		su->m->susp = NULL;
		su->next = due;
		due = su;
	}
	s->susp_next = soonest;
	for (su = due; su != NULL; su = next) {
		next = su->next;
		m = su->m;
		free(su);
		if (m->state != SWIM_STATE_SUSPECT)
			continue;
		memset(&d, 0, sizeof(d));
		swim_name_set(d.node, m->name);
		swim_name_set(d.from, s->self->name);
		d.incarnation = m->incarnation;
		d.ltime = s->member_clock;
		swim_member_dead(s, &d);
	}
}

uint64_t
swim_suspect_next(const struct swim *s)
{
	return s->susp_next;
}
