/*
 * swim_probe.c — failure detection: one probe per protocol period, the
 * indirect probe with NACKs, the TCP fallback, and Lifeguard's local health
 * awareness.
 *
 * Where it sits: swim_tick() drives the probe; swim_recv() hands pings,
 * ping-reqs, acks and nacks here; a failed probe suspects the target
 * through swim_member_suspect().
 *
 * Key decisions:
 * - Targets come round-robin from the shuffled member array, reshuffled at
 *   every wrap, skipping self, failed and left members (SWIM §4.3).
 * - Lifeguard §IV-A: the direct timeout and the protocol period are scaled
 *   by (awareness + 1). A success lowers awareness by one; a failed probe
 *   raises it by the number of NACKs that did not arrive (by one if no
 *   intermediary was asked); being suspected or refuting raises it by one.
 * - The buddy system: a suspect target gets the suspect message in the
 *   very ping that probes it, so it can refute at once (Lifeguard §IV-C).
 * - Every datagram is topped up with queued updates (piggybacking).
 *
 * Reference: SWIM §3.1, §4.3; Lifeguard §IV; memberlist state.go probeNode,
 * net.go handlePing/handleIndirectPing/handleAck/handleNack, awareness.go.
 */
#include <string.h>
#include <stdlib.h>

#include "err.h"
#include "swim_int.h"

#define SWIM_MAX_RELAYS 256

void
swim_probe_awareness(struct swim *s, int delta)
{
	int64_t a = (int64_t)s->awareness + delta;

	if (a < 0)
		a = 0;
	if (a > (int64_t)s->cfg.awareness_max - 1)
		a = s->cfg.awareness_max - 1;
	s->awareness = (uint32_t)a;
}

/* Queues msg-type `type` to `to`, piggybacked. Returns the send or NULL. */
static struct swim_send *
send_udp(struct swim *s, const struct swim_addr *to, uint8_t type)
{
	return swim_out_send(s, to, SWIM_UDP, type);
}

static void
top_up(struct swim *s, struct swim_send *snd)
{
	if (snd != NULL)
		swim_bcast_fill(s, &snd->msg, s->cfg.udp_budget);
}

static void
send_ping(struct swim *s, const struct swim_member *m, uint32_t seq)
{
	struct swim_send *snd = send_udp(s, &m->addr, SWIM_MSG_PING);
	struct swim_upd *u;

	if (snd == NULL)
		return;
	snd->msg.u.ping.seq = seq;
	swim_name_set(snd->msg.u.ping.node, m->name);
	if (m->state == SWIM_STATE_SUSPECT &&
	    (u = calloc(1, sizeof(*u))) != NULL) {
		/* buddy system: tell the suspect first */
		u->type = SWIM_UP_SUSPECT;
		swim_name_set(u->u.suspect.node, m->name);
		swim_name_set(u->u.suspect.from, s->self->name);
		u->u.suspect.incarnation = m->incarnation;
		snd->msg.updates = u;
		snd->msg.n_updates = 1;
	}
	top_up(s, snd);
}

static struct swim_member *
next_target(struct swim *s)
{
	uint32_t checked;
	struct swim_member *m;

	for (checked = 0; checked <= s->n_members; checked++) {
		if (s->probe_idx >= s->n_members) {
			swim_member_shuffle(s);
			s->probe_idx = 0;
		}
		m = s->members[s->probe_idx++];
		if (m == s->self || m->state == SWIM_STATE_DEAD ||
		    m->state == SWIM_STATE_LEFT)
			continue;
		return m;
	}
	return NULL;
}

static void
probe_start(struct swim *s)
{
	struct swim_member *m = next_target(s);
	struct swim_probe *p = &s->probe;

	if (m == NULL)
		return;
	memset(p, 0, sizeof(*p));
	p->active = true;
	swim_name_set(p->target, m->name);
	p->seq = ++s->seq;
	p->start_ms = s->now;
	p->deadline_ms = s->now + swim_scale(s, s->cfg.probe_interval_ms);
	p->timeout_ms = s->now + swim_scale(s, s->cfg.probe_timeout_ms);
	if (p->timeout_ms > p->deadline_ms)
		p->timeout_ms = p->deadline_ms;
	send_ping(s, m, p->seq);
}

static void
probe_done(struct swim *s, int awareness_delta)
{
	s->probe.active = false;
	swim_probe_awareness(s, awareness_delta);
}

/* Direct ping timed out: ask k random alive members, and try TCP. */
static void
probe_indirect(struct swim *s, struct swim_member *t)
{
	struct swim_member *pick[16], *m;
	uint32_t k = s->cfg.indirect_checks, n = 0, tries, i, j;
	struct swim_send *snd;
	struct swim_probe *p = &s->probe;

	p->indirect_sent = true;
	for (tries = 0; n < k && tries < 3 * s->n_members; tries++) {
		m = s->members[swim_rand_n(s, s->n_members)];
		if (m == s->self || m == t || m->state != SWIM_STATE_ALIVE)
			continue;
		for (j = 0; j < n && pick[j] != m; j++)
			;
		if (j == n)
			pick[n++] = m;
	}
	for (i = 0; i < n; i++) {
		if ((snd = send_udp(s, &pick[i]->addr, SWIM_MSG_PING_REQ)) ==
		    NULL)
			break;
		snd->msg.u.ping_req.seq = p->seq;
		swim_name_set(snd->msg.u.ping_req.node, t->name);
		snd->msg.u.ping_req.target = t->addr;
		snd->msg.u.ping_req.nack = true;
		p->expected_nacks++;
		top_up(s, snd);
	}
	if (s->cfg.tcp_fallback &&
	    (snd = swim_out_send(s, &t->addr, SWIM_TCP, SWIM_MSG_PING))) {
		snd->msg.u.ping.seq = p->seq;
		swim_name_set(snd->msg.u.ping.node, t->name);
	}
}

static void
probe_failed(struct swim *s)
{
	struct swim_probe *p = &s->probe;
	struct swim_member *t = swim_member_find(s, p->target);
	struct swim_suspect su;
	int delta;

	if (p->tcp_ok) {
		probe_done(s, -1);
		return;
	}
	if (p->expected_nacks > 0)
		delta = (int)(p->expected_nacks - p->nacks);
	else
		delta = 1;
	probe_done(s, delta);
	if (t == NULL || t->state == SWIM_STATE_DEAD ||
	    t->state == SWIM_STATE_LEFT)
		return;
	memset(&su, 0, sizeof(su));
	swim_name_set(su.node, t->name);
	swim_name_set(su.from, s->self->name);
	su.incarnation = t->incarnation;
	swim_member_suspect(s, &su);
}

static void
relays_tick(struct swim *s)
{
	uint32_t i = 0;
	struct swim_relay *r;
	struct swim_send *snd;

	while (i < s->n_relays) {
		r = &s->relays[i];
		if (r->nack && s->now >= r->nack_ms) {
			r->nack = false;
			if ((snd = send_udp(s, &r->requester, SWIM_MSG_NACK))) {
				snd->msg.u.nack.seq = r->orig_seq;
				top_up(s, snd);
			}
		}
		if (s->now >= r->expire_ms) {
			s->relays[i] = s->relays[--s->n_relays];
			continue;
		}
		i++;
	}
}

void
swim_probe_tick(struct swim *s)
{
	struct swim_probe *p = &s->probe;
	struct swim_member *t;

	relays_tick(s);
	if (p->active) {
		t = swim_member_find(s, p->target);
		if (t == NULL) {
			probe_done(s, 0);
		} else if (!p->indirect_sent && s->now >= p->timeout_ms &&
		    s->now < p->deadline_ms) {
			probe_indirect(s, t);
		}
		if (p->active && s->now >= p->deadline_ms)
			probe_failed(s);
	}
	if (!p->active && s->now >= s->next_probe) {
		s->next_probe = s->now + s->cfg.probe_interval_ms;
		probe_start(s);
	}
}

uint64_t
swim_probe_next(const struct swim *s)
{
	const struct swim_probe *p = &s->probe;
	uint64_t d;
	uint32_t i;

	if (!p->active)
		d = s->next_probe;
	else if (!p->indirect_sent)
		d = p->timeout_ms;
	else
		d = p->deadline_ms;
	for (i = 0; i < s->n_relays; i++) {
		const struct swim_relay *r = &s->relays[i];
		uint64_t rd = r->nack ? r->nack_ms : r->expire_ms;
		if (rd < d)
			d = rd;
	}
	return d;
}

void
swim_probe_recv_ping(struct swim *s, const struct swim_addr *from,
    const struct swim_ping *p)
{
	struct swim_send *snd;

	if (p->node[0] != '\0' && strcmp(p->node, s->self->name) != 0)
		return; /* meant for a previous owner of this address */
	if ((snd = send_udp(s, from, SWIM_MSG_ACK)) == NULL)
		return;
	snd->msg.u.ack.seq = p->seq;
	top_up(s, snd);
}

void
swim_probe_recv_ping_req(struct swim *s, const struct swim_addr *from,
    const struct swim_ping_req *r)
{
	struct swim_relay *rl;
	struct swim_send *snd;

	if (s->n_relays >= SWIM_MAX_RELAYS)
		return;
	if (s->n_relays == s->cap_relays) {
		uint32_t cap = s->cap_relays ? s->cap_relays * 2 : 4;
		void *np = realloc(s->relays, cap * sizeof(*s->relays));
		if (np == NULL)
			return;
		s->relays = np;
		s->cap_relays = cap;
	}
	rl = &s->relays[s->n_relays++];
	rl->seq = ++s->seq;
	rl->orig_seq = r->seq;
	rl->requester = *from;
	rl->nack = r->nack;
	rl->nack_ms = s->now + s->cfg.probe_timeout_ms;
	rl->expire_ms = s->now + s->cfg.probe_interval_ms;
	if ((snd = send_udp(s, &r->target, SWIM_MSG_PING)) == NULL)
		return;
	snd->msg.u.ping.seq = rl->seq;
	memcpy(snd->msg.u.ping.node, r->node, sizeof(r->node));
	top_up(s, snd);
}

void
swim_probe_recv_ack(struct swim *s, uint32_t seq)
{
	struct swim_probe *p = &s->probe;
	struct swim_send *snd;
	uint32_t i;

	if (p->active && p->seq == seq) {
		probe_done(s, -1);
		return;
	}
	for (i = 0; i < s->n_relays; i++) {
		struct swim_relay r = s->relays[i];
		if (r.seq != seq)
			continue;
		s->relays[i] = s->relays[--s->n_relays];
		if ((snd = send_udp(s, &r.requester, SWIM_MSG_ACK))) {
			snd->msg.u.ack.seq = r.orig_seq;
			top_up(s, snd);
		}
		return;
	}
}

void
swim_probe_recv_nack(struct swim *s, uint32_t seq)
{
	if (s->probe.active && s->probe.seq == seq)
		s->probe.nacks++;
}

void
swim_probe_tcp_result(struct swim *s, uint32_t seq, bool ok)
{
	struct swim_probe *p = &s->probe;

	if (!p->active || p->seq != seq || !ok)
		return;
	p->tcp_ok = true;
	probe_done(s, -1);
}
