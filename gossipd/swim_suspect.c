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
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "swim_int.h"

uint64_t
swim_suspect_min_ms(const struct swim *s, uint32_t n)
{
	double scale = n > 1 ? log10((double)n) : 0.0;

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
	frac = log((double)su->n + 1.0) / log((double)su->k + 1.0);
	raw = (double)su->max_ms - frac * (double)(su->max_ms - su->min_ms);
	if (raw < (double)su->min_ms)
		return su->min_ms;
	return (uint64_t)floor(raw);
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
	s->susps = su;
	m->susp = su;
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
	(void)s;
	return true;
}

void
swim_suspect_stop(struct swim *s, struct swim_member *m)
{
	struct swim_susp **pp;

	if (m->susp == NULL)
		return;
	for (pp = &s->susps; *pp != m->susp; pp = &(*pp)->next)
		;
	*pp = m->susp->next;
	free(m->susp);
	m->susp = NULL;
}

void
swim_suspect_tick(struct swim *s)
{
	struct swim_susp *su;
	struct swim_member *m;
	struct swim_dead d;

again:
	for (su = s->susps; su != NULL; su = su->next) {
		if (s->now < su->deadline_ms)
			continue;
		m = su->m;
		swim_suspect_stop(s, m);
		if (m->state != SWIM_STATE_SUSPECT)
			goto again;
		memset(&d, 0, sizeof(d));
		memcpy(d.node, m->name, sizeof(d.node));
		memcpy(d.from, s->self->name, sizeof(d.from));
		d.incarnation = m->incarnation;
		d.ltime = s->member_clock;
		swim_member_dead(s, &d);
		goto again; /* the list changed under us */
	}
}

uint64_t
swim_suspect_next(const struct swim *s)
{
	const struct swim_susp *su;
	uint64_t d = 0;

	for (su = s->susps; su != NULL; su = su->next)
		if (d == 0 || su->deadline_ms < d)
			d = su->deadline_ms;
	return d;
}
