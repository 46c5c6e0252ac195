/*
 * swim_member.c — the member table and memberlist's state transitions:
 * alive, suspect, dead/left, refutation, reaping.
 *
 * Where it sits: swim.c applies piggybacked updates here, swim_probe.c
 * suspects members whose probes failed, swim_suspect.c declares them dead,
 * swim_pushpull.c merges remote state through the same three functions.
 *
 * Key decisions:
 * - Incarnation numbers order claims about a member (SWIM §4.2): alive
 *   needs a higher incarnation than we hold to override suspect/dead;
 *   suspect/dead need at least the current one. A member refutes a claim
 *   about itself by announcing alive with an incarnation above it
 *   (memberlist refute()), and Lifeguard counts that as a health miss.
 * - A dead message from the member itself is a graceful leave and records
 *   `left`; it also turns `failed` into `left` (serf's leave intent), so a
 *   member that missed the leave and timed the leaver out converges.
 * - Failed and left members stay as tombstones until reconnect_timeout
 *   (serf's reap), then SWIM_EV_REAPED.
 *
 * Reference: memberlist state.go aliveNode/suspectNode/deadNode/refute;
 * serf serf.go handleNodeLeaveIntent, reap; SWIM §4.2; Lifeguard §IV-A.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "swim_int.h"

uint64_t
swim_member_hash(const char *name)
{
	uint64_t h = 1469598103934665603ull;

	while (*name)
		h = (h ^ (uint8_t)*name++) * 1099511628211ull;
	return h;
}

struct swim_member *
swim_member_find(const struct swim *s, const char *name)
{
	uint64_t h;
	struct swim_member *m;

	if (s->n_buckets == 0)
		return NULL;
	h = swim_member_hash(name);
	for (m = s->buckets[h & (s->n_buckets - 1)]; m; m = m->hnext)
		if (m->hash == h && strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

static int
grow(struct swim *s)
{
	uint32_t nb, i;
	struct swim_member **b, *m, *next;

	if (s->n_members == s->cap_members) {
		uint32_t cap = s->cap_members ? s->cap_members * 2 : 16;
		void *p = realloc(s->members, cap * sizeof(*s->members));
		if (p == NULL)
			return ERR_NOMEM;
		s->members = p;
		s->cap_members = cap;
	}
	if (s->n_members + 1 <= s->n_buckets)
		return 0;
	nb = s->n_buckets ? s->n_buckets * 2 : 16;
	if ((b = calloc(nb, sizeof(*b))) == NULL)
		return ERR_NOMEM;
	for (i = 0; i < s->n_buckets; i++)
		for (m = s->buckets[i]; m; m = next) {
			next = m->hnext;
			m->hnext = b[m->hash & (nb - 1)];
			b[m->hash & (nb - 1)] = m;
		}
	free(s->buckets);
	s->buckets = b;
	s->n_buckets = nb;
	return 0;
}

static void
count(struct swim *s, uint8_t state, int d)
{
	switch (state) {
	case SWIM_STATE_ALIVE:
		s->counts.alive += d;
		break;
	case SWIM_STATE_SUSPECT:
		s->counts.suspect += d;
		break;
	case SWIM_STATE_DEAD:
		s->counts.failed += d;
		break;
	default:
		s->counts.left += d;
	}
}

/* A new alive member, inserted at a random probe position (memberlist
 * aliveNode: "add at a random offset"). */
struct swim_member *
swim_member_add(struct swim *s, const char *name,
    const struct swim_addr *addr)
{
	struct swim_member *m;
	size_t len = strnlen(name, SWIM_NAME_MAX);
	uint32_t j;

	if (grow(s) != 0 || (m = calloc(1, sizeof(*m) + len + 1)) == NULL)
		return NULL;
	memcpy(m->name, name, len);
	m->addr = *addr;
	m->hash = swim_member_hash(m->name);
	m->state = SWIM_STATE_ALIVE;
	m->change_ms = s->now;
	m->hnext = s->buckets[m->hash & (s->n_buckets - 1)];
	s->buckets[m->hash & (s->n_buckets - 1)] = m;
	j = swim_rand_n(s, s->n_members + 1);
	m->idx = s->n_members;
	s->members[s->n_members++] = m;
	if (j != m->idx) {
		struct swim_member *o = s->members[j];
		s->members[j] = m;
		s->members[m->idx] = o;
		o->idx = m->idx;
		m->idx = j;
	}
	count(s, m->state, 1);
	return m;
}

/* Removes m from every structure and frees it. */
void
swim_member_reap(struct swim *s, struct swim_member *m)
{
	struct swim_member **pp, *last;

	swim_suspect_stop(s, m);
	swim_bcast_drop_member(s, m);
	pp = &s->buckets[m->hash & (s->n_buckets - 1)];
	while (*pp != m)
		pp = &(*pp)->hnext;
	*pp = m->hnext;
	last = s->members[--s->n_members];
	s->members[m->idx] = last;
	last->idx = m->idx;
	count(s, m->state, -1);
	free(m->meta);
	free(m);
}

void
swim_member_set_state(struct swim *s, struct swim_member *m, uint8_t state)
{
	if (m->state == state)
		return;
	count(s, m->state, -1);
	count(s, state, 1);
	m->state = state;
	m->change_ms = s->now;
}

int
swim_member_set_meta(struct swim_member *m, const uint8_t *meta, uint16_t len)
{
	uint8_t *p = NULL;

	if (len > 0) {
		if ((p = malloc(len)) == NULL)
			return ERR_NOMEM;
		memcpy(p, meta, len);
	}
	free(m->meta);
	m->meta = p;
	m->meta_len = len;
	return 0;
}

/* Fisher-Yates over the probe order (memberlist resetNodes+shuffle). */
void
swim_member_shuffle(struct swim *s)
{
	uint32_t i, j;
	struct swim_member *t;

	for (i = s->n_members; i > 1; i--) {
		j = swim_rand_n(s, i);
		t = s->members[i - 1];
		s->members[i - 1] = s->members[j];
		s->members[j] = t;
		s->members[i - 1]->idx = i - 1;
		s->members[j]->idx = j;
	}
}

static void
queue_alive(struct swim *s, struct swim_member *m)
{
	struct swim_upd up;

	memset(&up, 0, sizeof(up));
	up.type = SWIM_UP_ALIVE;
	swim_name_set(up.u.alive.node, m->name);
	up.u.alive.addr = m->addr;
	up.u.alive.incarnation = m->incarnation;
	up.u.alive.ltime = m->ltime;
	up.u.alive.meta = m->meta;
	up.u.alive.meta_len = m->meta_len;
	swim_bcast_member(s, m, &up, false);
}

/* Announce ourselves alive above accused_inc (memberlist refute). */
void
swim_member_refute(struct swim *s, uint32_t accused_inc)
{
	struct swim_member *me = s->self;

	me->incarnation++;
	if (accused_inc >= me->incarnation)
		me->incarnation = accused_inc + 1;
	me->ltime = s->member_clock++;
	queue_alive(s, me);
}

static void
witness(uint64_t *clock, uint64_t t)
{
	if (t >= *clock)
		*clock = t + 1;
}

static bool
meta_eq(const struct swim_member *m, const uint8_t *meta, uint16_t len)
{
	return m->meta_len == len && (len == 0 || memcmp(m->meta, meta, len) == 0);
}

void
swim_member_alive(struct swim *s, const struct swim_alive *a)
{
	struct swim_member *m = swim_member_find(s, a->node);
	bool was_down, changed;

	witness(&s->member_clock, a->ltime);
	if (m == s->self) {
		/* Our own echo is fine; anything newer or different about us
		 * is someone else's stale or forged view: refute. */
		if (a->incarnation < m->incarnation ||
		    (a->incarnation == m->incarnation &&
		    meta_eq(m, a->meta, a->meta_len)))
			return;
		if (s->leaving)
			return;
		swim_member_refute(s, a->incarnation);
		return;
	}
	if (m == NULL) {
		if ((m = swim_member_add(s, a->node, &a->addr)) == NULL)
			return;
		if (swim_member_set_meta(m, a->meta, a->meta_len) != 0) {
			swim_member_reap(s, m);
			return;
		}
		m->incarnation = a->incarnation;
		m->ltime = a->ltime;
		queue_alive(s, m);
		swim_out_event(s, SWIM_EV_JOIN, m);
		return;
	}
	if (a->incarnation <= m->incarnation)
		return;
	was_down = m->state == SWIM_STATE_DEAD || m->state == SWIM_STATE_LEFT;
	changed = !meta_eq(m, a->meta, a->meta_len) ||
	    !swim_addr_eq(&m->addr, &a->addr);
	swim_suspect_stop(s, m);
	if (changed && swim_member_set_meta(m, a->meta, a->meta_len) != 0)
		return;
	m->addr = a->addr;
	m->incarnation = a->incarnation;
	m->ltime = a->ltime;
	swim_member_set_state(s, m, SWIM_STATE_ALIVE);
	queue_alive(s, m);
	if (was_down)
		swim_out_event(s, SWIM_EV_JOIN, m);
	else if (changed)
		swim_out_event(s, SWIM_EV_UPDATE, m);
}

void
swim_member_suspect(struct swim *s, const struct swim_suspect *su)
{
	struct swim_member *m = swim_member_find(s, su->node);
	struct swim_upd up;

	if (m == NULL || su->incarnation < m->incarnation)
		return;
	if (m->susp != NULL) {
		/* Lifeguard: an independent confirmation shortens the timer;
		 * re-gossip it so others learn of it too. */
		if (swim_suspect_confirm(s, m, su->from)) {
			memset(&up, 0, sizeof(up));
			up.type = SWIM_UP_SUSPECT;
			up.u.suspect = *su;
			swim_bcast_member(s, m, &up, false);
		}
		return;
	}
	if (m->state != SWIM_STATE_ALIVE)
		return;
	if (m == s->self) {
		if (!s->leaving) {
			swim_member_refute(s, su->incarnation);
			swim_probe_awareness(s, 1);
		}
		return;
	}
	memset(&up, 0, sizeof(up));
	up.type = SWIM_UP_SUSPECT;
	up.u.suspect = *su;
	m->incarnation = su->incarnation;
	swim_member_set_state(s, m, SWIM_STATE_SUSPECT);
	swim_bcast_member(s, m, &up, false);
	swim_suspect_start(s, m, su->from);
}

static void
queue_dead(struct swim *s, struct swim_member *m, const struct swim_dead *d)
{
	struct swim_upd up;

	memset(&up, 0, sizeof(up));
	up.type = SWIM_UP_DEAD;
	up.u.dead = *d;
	swim_bcast_member(s, m, &up, false);
}

void
swim_member_dead(struct swim *s, const struct swim_dead *d)
{
	struct swim_member *m = swim_member_find(s, d->node);
	bool leave = strcmp(d->node, d->from) == 0;

	witness(&s->member_clock, d->ltime);
	if (m == NULL || d->incarnation < m->incarnation)
		return;
	if (m->state == SWIM_STATE_LEFT && leave && d->prune) {
		/* force-leave -prune of a left tombstone: forget it now
		 * and spread the prune so every member forgets it too */
		queue_dead(s, m, d);
		swim_out_event(s, SWIM_EV_REAPED, m);
		swim_member_reap(s, m);
		return;
	}
	if (m->state == SWIM_STATE_LEFT ||
	    (m->state == SWIM_STATE_DEAD && !leave))
		return;
	if (m == s->self) {
		if (!s->leaving) {
			swim_member_refute(s, d->incarnation);
			swim_probe_awareness(s, 1);
		}
		return;
	}
	swim_suspect_stop(s, m);
	m->incarnation = d->incarnation;
	if (d->ltime > m->ltime)
		m->ltime = d->ltime;
	swim_member_set_state(s, m, leave ? SWIM_STATE_LEFT : SWIM_STATE_DEAD);
	queue_dead(s, m, d);
	swim_out_event(s, leave ? SWIM_EV_LEFT : SWIM_EV_FAILED, m);
	if (leave && d->prune) {
		swim_out_event(s, SWIM_EV_REAPED, m);
		swim_member_reap(s, m);
	}
}

void
swim_member_reap_tick(struct swim *s)
{
	uint32_t i = 0;
	struct swim_member *m;

	while (i < s->n_members) {
		m = s->members[i];
		if ((m->state == SWIM_STATE_DEAD ||
		    m->state == SWIM_STATE_LEFT) &&
		    s->now >= m->change_ms + s->cfg.reconnect_timeout_ms) {
			swim_out_event(s, SWIM_EV_REAPED, m);
			swim_member_reap(s, m); /* the last one moved to i */
			continue;
		}
		i++;
	}
}

void
swim_member_free_all(struct swim *s)
{
	uint32_t i;

	for (i = 0; i < s->n_members; i++) {
		free(s->members[i]->meta);
		free(s->members[i]);
	}
	free(s->members);
	free(s->buckets);
	s->members = NULL;
	s->buckets = NULL;
	s->n_members = 0;
}
