/*
 * swim_pushpull.c — full-state exchange over TCP: join, the periodic
 * anti-entropy push/pull, and serf's reconnect of failed members.
 *
 * Where it sits: swim_join() and swim_tick() start exchanges here; the
 * adapter carries them over TCP and hands the reply back to swim_recv().
 *
 * Key decisions (memberlist state.go pushPull/mergeState, serf reconnect):
 * - Remote `alive` and `left` are applied as such; remote `dead` and
 *   `suspect` only make us suspect the member, so we verify it ourselves
 *   (and if it is us, we refute).
 * - The periodic interval grows with the cluster past 32 members
 *   (memberlist pushPullScale: x ceil(log2(n) - log2(32)) + 1).
 * - Every reconnect_interval we push/pull with one random failed member,
 *   with probability failed/alive as serf does; this is what heals a
 *   partition once both sides have declared the other failed.
 * - Push/pull carries the remembered user events too (serf's event
 *   buffer), so a member that missed one gets it at the next exchange.
 * - A join reply sets the user-event floor past the newest event the
 *   remote has seen, so events still in flight from before the join are
 *   not replayed (Consul joins with ignoreOld; see swim_event.c).
 *
 * Reference: SWIM §5 (join), memberlist state.go pushPullNode/mergeState,
 * util.go pushPullScale; serf serf.go handleReconnect.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "swim_int.h"

int
swim_pushpull_send(struct swim *s, const struct swim_addr *to, bool join,
    bool reply)
{
	struct swim_send *snd;
	struct swim_push_pull *pp;
	size_t blob = 0, off = 0;
	uint32_t i;

	if ((snd = swim_out_send(s, to, SWIM_TCP, SWIM_MSG_PUSH_PULL)) == NULL)
		return ERR_NOMEM;
	pp = &snd->msg.u.pp;
	pp->join = join;
	pp->reply = reply;
	pp->member_ltime = s->member_clock;
	pp->event_ltime = s->event_clock;
	pp->event_seen = s->event_seen;
	for (i = 0; i < s->n_members; i++)
		blob += s->members[i]->meta_len;
	blob += swim_event_blob_len(s);
	pp->members = calloc(s->n_members, sizeof(*pp->members));
	if (pp->members == NULL ||
	    (blob > 0 && (snd->msg.blob = malloc(blob)) == NULL)) {
		swim_msg_free(&snd->msg);
		s->out.n_sends--;
		return ERR_NOMEM;
	}
	for (i = 0; i < s->n_members; i++) {
		const struct swim_member *m = s->members[i];
		struct swim_pp_member *o = &pp->members[i];
		swim_name_set(o->node, m->name);
		o->addr = m->addr;
		o->incarnation = m->incarnation;
		o->state = m->state;
		if (m == s->self && s->leaving)
			o->state = SWIM_STATE_LEFT;
		o->ltime = m->ltime;
		if (m->meta_len > 0) {
			memcpy(snd->msg.blob + off, m->meta, m->meta_len);
			o->meta = snd->msg.blob + off;
			o->meta_len = m->meta_len;
			off += m->meta_len;
		}
	}
	pp->n_members = s->n_members;
	if (swim_event_export(s, &snd->msg, off) != 0) {
		swim_msg_free(&snd->msg);
		s->out.n_sends--;
		return ERR_NOMEM;
	}
	return 0;
}

/* A member we never heard of arrives suspect or dead: take the remote
 * view as it is (a dead one is reported failed, never joined), so a new
 * member's list matches the cluster's; reconnect will retry it. */
static void
learn(struct swim *s, const struct swim_pp_member *r)
{
	struct swim_member *m;

	if (strcmp(r->node, s->self->name) == 0 ||
	    (m = swim_member_add(s, r->node, &r->addr)) == NULL)
		return;
	if (swim_member_set_meta(m, r->meta, r->meta_len) != 0) {
		swim_member_reap(s, m);
		return;
	}
	m->incarnation = r->incarnation;
	m->ltime = r->ltime;
	if (r->state == SWIM_STATE_DEAD) {
		swim_member_set_state(s, m, SWIM_STATE_DEAD);
		swim_out_event(s, SWIM_EV_FAILED, m);
		return;
	}
	swim_out_event(s, SWIM_EV_JOIN, m);
	swim_member_set_state(s, m, SWIM_STATE_SUSPECT);
	swim_suspect_start(s, m, s->self->name);
}

static void
merge(struct swim *s, const struct swim_pp_member *r)
{
	struct swim_alive a;
	struct swim_suspect su;
	struct swim_dead d;

	switch (r->state) {
	case SWIM_STATE_ALIVE:
		memset(&a, 0, sizeof(a));
		memcpy(a.node, r->node, sizeof(a.node));
		a.addr = r->addr;
		a.incarnation = r->incarnation;
		a.ltime = r->ltime;
		a.meta = r->meta;
		a.meta_len = r->meta_len;
		swim_member_alive(s, &a);
		break;
	case SWIM_STATE_LEFT:
		memset(&d, 0, sizeof(d));
		memcpy(d.node, r->node, sizeof(d.node));
		memcpy(d.from, r->node, sizeof(d.from));
		d.incarnation = r->incarnation;
		d.ltime = r->ltime;
		swim_member_dead(s, &d);
		break;
	default: /* dead or suspect: verify it ourselves */
		if (swim_member_find(s, r->node) == NULL) {
			learn(s, r);
			break;
		}
		memset(&su, 0, sizeof(su));
		memcpy(su.node, r->node, sizeof(su.node));
		swim_name_set(su.from, s->self->name);
		su.incarnation = r->incarnation;
		swim_member_suspect(s, &su);
	}
}

void
swim_pushpull_recv(struct swim *s, const struct swim_addr *from,
    const struct swim_push_pull *pp)
{
	uint32_t i;

	if (pp->member_ltime >= s->member_clock)
		s->member_clock = pp->member_ltime + 1;
	if (pp->event_ltime >= s->event_clock)
		s->event_clock = pp->event_ltime + 1;
	if (pp->reply && pp->join && pp->event_seen > s->event_min)
		s->event_min = pp->event_seen;
	if (!pp->reply)
		swim_pushpull_send(s, from, pp->join, true);
	for (i = 0; i < pp->n_members; i++)
		merge(s, &pp->members[i]);
	for (i = 0; i < pp->n_events; i++) /* dedupe and floor apply */
		swim_event_recv(s, &pp->events[i]);
}

static uint64_t
pp_interval(const struct swim *s)
{
	uint32_t n = swim_live_count(s);
	uint64_t iv = s->cfg.push_pull_interval_ms;

	if (n <= 32)
		return iv;
	/* ceil(log2(n) - log2(32)) + 1, n > 32 */
	return iv * (uint64_t)(swim_ceil_log(n, 2) - 5 + 1);
}

static struct swim_member *
random_member(struct swim *s, bool failed)
{
	uint32_t tries;
	struct swim_member *m;

	for (tries = 0; tries < 3 * s->n_members; tries++) {
		m = s->members[swim_rand_n(s, s->n_members)];
		if (m == s->self)
			continue;
		if (failed ? m->state == SWIM_STATE_DEAD :
		    m->state == SWIM_STATE_ALIVE)
			return m;
	}
	return NULL;
}

/* Our leave also goes to two random live members over TCP: gossip alone
 * can lose all of its few transmissions in a small lossy cluster (the
 * simulation found n = 5 at 10 % loss), and a leave seen nowhere ends as
 * `failed` everywhere. Push/pull then spreads `left` to the rest. */
void
swim_pushpull_leave(struct swim *s)
{
	struct swim_member *a = random_member(s, false), *b;
	uint32_t tries = 0;

	if (a == NULL)
		return;
	swim_pushpull_send(s, &a->addr, false, false);
	do
		b = random_member(s, false);
	while (b == a && ++tries < 8);
	if (b != NULL && b != a)
		swim_pushpull_send(s, &b->addr, false, false);
}

static void
reconnect(struct swim *s)
{
	uint32_t failed = s->counts.failed, alive = swim_live_count(s);
	struct swim_member *m;

	if (failed == 0 || s->leaving)
		return;
	if (alive == 0)
		alive = 1;
	/* serf: prob = failed / alive */
	if (failed < alive && swim_rand_n(s, alive) >= failed)
		return;
	if ((m = random_member(s, true)) != NULL)
		swim_pushpull_send(s, &m->addr, false, false);
}

void
swim_pushpull_tick(struct swim *s)
{
	struct swim_member *m;

	if (s->cfg.push_pull_interval_ms > 0 && s->now >= s->next_pp) {
		s->next_pp = s->now + pp_interval(s);
		if (!s->leaving && (m = random_member(s, false)) != NULL)
			swim_pushpull_send(s, &m->addr, false, false);
	}
	if (s->now >= s->next_reconnect) {
		s->next_reconnect = s->now + s->cfg.reconnect_interval_ms;
		reconnect(s);
	}
}
