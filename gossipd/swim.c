/*
 * swim.c — the SWIM core's entry points: configuration profiles, the
 * lifecycle, input dispatch, the output queue and read-only queries.
 *
 * Where it sits: gossipd's loop calls these; the protocol itself lives in
 * swim_probe.c (failure detection), swim_suspect.c (Lifeguard suspicion),
 * swim_member.c (state transitions), swim_bcast.c (dissemination),
 * swim_pushpull.c (state exchange) and swim_event.c (user events).
 *
 * Key decision: the only entropy is xoshiro256** seeded from the caller's
 * seed and the only time is the now_ms passed in, so a seed replays a run.
 * Piggybacked updates of a message are applied before its body, so the
 * buddy system's suspect-in-a-ping is refuted in the ack.
 *
 * Reference: memberlist config.go (DefaultLANConfig, DefaultWANConfig),
 * state.go (schedule), net.go (handleCommand); spec/consul-api.md §6.4.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "err.h"
#include "swim_int.h"

struct swim_config
swim_config_lan(void)
{
	struct swim_config c = {
		.gossip_nodes = 3,
		.gossip_interval_ms = 200,
		.probe_interval_ms = 1000,
		.probe_timeout_ms = 500,
		.retransmit_mult = 4,
		.suspicion_mult = 4,
		.suspicion_max_timeout_mult = 6,
		.indirect_checks = 3,
		.awareness_max = 8,
		.push_pull_interval_ms = 30000,
		.gossip_to_dead_ms = 30000,
		.reconnect_interval_ms = 30000,
		.reconnect_timeout_ms = 72ull * 3600 * 1000,
		.reap_interval_ms = 15000,
		.udp_budget = 1400,
		.tcp_fallback = true,
	};
	return c;
}

struct swim_config
swim_config_wan(void)
{
	struct swim_config c = swim_config_lan();

	c.gossip_nodes = 4;
	c.gossip_interval_ms = 500;
	c.probe_interval_ms = 5000;
	c.probe_timeout_ms = 3000;
	c.suspicion_mult = 6;
	c.push_pull_interval_ms = 60000;
	c.gossip_to_dead_ms = 60000;
	return c;
}

int
swim_config_check(const struct swim_config *c)
{
	if (c == NULL || c->gossip_interval_ms == 0 ||
	    c->probe_interval_ms == 0 || c->probe_timeout_ms == 0 ||
	    c->probe_timeout_ms > c->probe_interval_ms ||
	    c->retransmit_mult == 0 || c->suspicion_mult == 0 ||
	    c->suspicion_max_timeout_mult == 0 || c->awareness_max == 0 ||
	    c->awareness_max > 64 || c->reconnect_interval_ms == 0 ||
	    c->reap_interval_ms == 0 || c->udp_budget < 256 ||
	    c->udp_budget > 65000 || c->indirect_checks > 16)
		return ERR_INVAL;
	return 0;
}

/* xoshiro256** (Blackman, Vigna), seeded by splitmix64. */
static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
swim_rand(struct swim *s)
{
	uint64_t *r = s->rng, res = rotl(r[1] * 5, 7) * 9, t = r[1] << 17;

	r[2] ^= r[0];
	r[3] ^= r[1];
	r[1] ^= r[2];
	r[0] ^= r[3];
	r[2] ^= t;
	r[3] = rotl(r[3], 45);
	return res;
}

uint32_t
swim_rand_n(struct swim *s, uint32_t n)
{
	return n == 0 ? 0 : (uint32_t)(swim_rand(s) % n);
}

uint32_t
swim_live_count(const struct swim *s)
{
	return s->counts.alive + s->counts.suspect;
}

/*
 * The core's logarithms, without libm: gossipd used only log, log10 and
 * log2 from it, and loading libm (~0.5 MB resident, its ifunc resolvers
 * run at load) cost more than the core's whole member table at n = 1,000.
 */
uint32_t
swim_ceil_log(uint64_t x, uint32_t base)
{
	uint64_t p = 1;
	uint32_t k = 0;

	while (p < x && p <= UINT64_MAX / base) {
		p *= base;
		k++;
	}
	return p < x ? k + 1 : k;
}

#define SWIM_LN2 0.693147180559945309417232121458176568
#define SWIM_LN10 2.30258509299404568401799145468436421

/* ln(m), m in [0.707, 1.415): 2 atanh(s), s = (m - 1) / (m + 1), |s| <
 * 0.172, summed from the smallest term (s^2 < 0.03: 12 terms reach 1e-19) */
static double
ln_reduced(double m)
{
	double s = (m - 1.0) / (m + 1.0), s2 = s * s, sum = 0.0;
	int i;

	for (i = 25; i >= 1; i -= 2)
		sum = sum * s2 + 1.0 / i;
	return 2.0 * s * sum;
}

double
swim_ln(double x)
{
	double m = x;
	int e = 0;

	if (!(x > 0.0) || x > 1e300)
		return 0.0;
	while (m >= 1.4142135623730951) {
		m *= 0.5;
		e++;
	}
	while (m < 0.7071067811865476) {
		m *= 2.0;
		e--;
	}
	return e * SWIM_LN2 + ln_reduced(m);
}

double
swim_log10(uint64_t n)
{
	uint64_t p = 1;
	uint32_t k = 0;

	if (n == 0)
		return 0.0;
	while (p <= n / 10) {
		p *= 10;
		k++;
	}
	/* exact at powers of ten: the suspicion timeout at n = 1,000 is
	 * exactly 3 x mult x probe interval, as with libm's log10 */
	return k + (n == p ? 0.0 : swim_ln((double)n / (double)p) / SWIM_LN10);
}

uint64_t
swim_scale(const struct swim *s, uint64_t ms)
{
	return ms * (s->awareness + 1);
}

uint8_t
swim_status_of(const struct swim *s, const struct swim_member *m)
{
	switch (m->state) {
	case SWIM_STATE_ALIVE:
	case SWIM_STATE_SUSPECT:
		if (m == s->self && s->leaving)
			return SWIM_STATUS_LEAVING;
		return SWIM_STATUS_ALIVE;
	case SWIM_STATE_DEAD:
		return SWIM_STATUS_FAILED;
	default:
		return SWIM_STATUS_LEFT;
	}
}

static bool
name_ok(const char *name)
{
	size_t n;

	if (name == NULL)
		return false;
	n = strnlen(name, SWIM_NAME_MAX + 1);
	return n > 0 && n <= SWIM_NAME_MAX;
}

struct swim *
swim_new(const struct swim_config *cfg, const struct swim_member_info *self,
    uint64_t seed)
{
	struct swim *s;
	struct swim_upd up;
	uint64_t z = seed;
	int i;

	if (swim_config_check(cfg) != 0 || self == NULL ||
	    !name_ok(self->name) || self->meta_len > SWIM_META_MAX ||
	    (self->meta_len > 0 && self->meta == NULL))
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->cfg = *cfg;
	for (i = 0; i < 4; i++) {
		z += 0x9e3779b97f4a7c15ull;
		uint64_t x = z;
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
		s->rng[i] = x ^ (x >> 31);
	}
	s->self = swim_member_add(s, self->name, &self->addr);
	if (s->self == NULL ||
	    swim_member_set_meta(s->self, self->meta, self->meta_len) != 0) {
		swim_free(s);
		return NULL;
	}
	s->self->incarnation = 1;
	s->self->ltime = s->member_clock++;
	memset(&up, 0, sizeof(up));
	up.type = SWIM_UP_ALIVE;
	swim_name_set(up.u.alive.node, s->self->name);
	up.u.alive.addr = s->self->addr;
	up.u.alive.incarnation = 1;
	up.u.alive.ltime = s->self->ltime;
	up.u.alive.meta = s->self->meta;
	up.u.alive.meta_len = s->self->meta_len;
	if (swim_bcast_member(s, s->self, &up, false) != 0) {
		swim_free(s);
		return NULL;
	}
	return s;
}

void
swim_free(struct swim *s)
{
	if (s == NULL)
		return;
	while (s->susps != NULL)
		swim_suspect_stop(s, s->susps->m);
	swim_bcast_free_all(s);
	swim_member_free_all(s);
	swim_event_free_all(s);
	swim_update_free(&s->out);
	free(s->relays);
	free(s);
}

static void
start(struct swim *s, uint64_t now)
{
	s->started = true;
	s->next_probe = now + swim_rand_n(s, s->cfg.probe_interval_ms);
	s->next_gossip = now + swim_rand_n(s, s->cfg.gossip_interval_ms);
	s->next_pp = now + s->cfg.push_pull_interval_ms +
	    swim_rand_n(s, s->cfg.push_pull_interval_ms + 1);
	s->next_reconnect = now + s->cfg.reconnect_interval_ms;
	s->next_reap = now + s->cfg.reap_interval_ms;
}

static void
set_now(struct swim *s, uint64_t now)
{
	if (now > s->now)
		s->now = now;
	if (!s->started)
		start(s, s->now);
}

int
swim_tick(struct swim *s, uint64_t now_ms)
{
	if (s == NULL)
		return ERR_INVAL;
	set_now(s, now_ms);
	swim_probe_tick(s);
	swim_suspect_tick(s);
	if (s->now >= s->next_gossip) {
		swim_bcast_gossip(s);
		s->next_gossip = s->now + s->cfg.gossip_interval_ms;
	}
	swim_pushpull_tick(s);
	if (s->now >= s->next_reap) {
		swim_member_reap_tick(s);
		s->next_reap = s->now + s->cfg.reap_interval_ms;
	}
	return 0;
}

static void
apply_update(struct swim *s, const struct swim_upd *up)
{
	switch (up->type) {
	case SWIM_UP_ALIVE:
		swim_member_alive(s, &up->u.alive);
		break;
	case SWIM_UP_SUSPECT:
		swim_member_suspect(s, &up->u.suspect);
		break;
	case SWIM_UP_DEAD:
		swim_member_dead(s, &up->u.dead);
		break;
	case SWIM_UP_USER_EVENT:
		swim_event_recv(s, &up->u.user);
		break;
	}
}

int
swim_recv(struct swim *s, const struct swim_addr *from,
    const struct swim_msg *m, uint64_t now_ms)
{
	uint16_t i;
	int rc;

	if (s == NULL || from == NULL || m == NULL)
		return ERR_INVAL;
	if ((rc = swim_msg_check(m)) != 0)
		return rc;
	set_now(s, now_ms);
	for (i = 0; i < m->n_updates; i++)
		apply_update(s, &m->updates[i]);
	switch (m->type) {
	case SWIM_MSG_PING:
		swim_probe_recv_ping(s, from, &m->u.ping);
		break;
	case SWIM_MSG_PING_REQ:
		swim_probe_recv_ping_req(s, from, &m->u.ping_req);
		break;
	case SWIM_MSG_ACK:
		swim_probe_recv_ack(s, m->u.ack.seq);
		break;
	case SWIM_MSG_NACK:
		swim_probe_recv_nack(s, m->u.nack.seq);
		break;
	case SWIM_MSG_PUSH_PULL:
		swim_pushpull_recv(s, from, &m->u.pp);
		break;
	case SWIM_MSG_GOSSIP:
		break;
	}
	return 0;
}

int
swim_join(struct swim *s, const struct swim_addr *addr)
{
	if (s == NULL || addr == NULL)
		return ERR_INVAL;
	if (s->leaving)
		return ERR_CLOSED;
	return swim_pushpull_send(s, addr, true, false);
}

int
swim_leave(struct swim *s)
{
	struct swim_upd up;
	int rc;

	if (s == NULL)
		return ERR_INVAL;
	if (s->leaving)
		return ERR_CLOSED;
	s->leaving = true;
	memset(&up, 0, sizeof(up));
	up.type = SWIM_UP_DEAD;
	swim_name_set(up.u.dead.node, s->self->name);
	swim_name_set(up.u.dead.from, s->self->name);
	up.u.dead.incarnation = s->self->incarnation;
	up.u.dead.ltime = s->member_clock++;
	if (swim_live_count(s) <= 1) {
		s->leave_done = true;
		swim_out_event(s, SWIM_EV_LEAVE_DONE, s->self);
		return 0;
	}
	if ((rc = swim_bcast_member(s, s->self, &up, true)) != 0)
		return rc;
	swim_pushpull_leave(s);
	return 0;
}

int
swim_force_leave(struct swim *s, const char *name, bool prune)
{
	struct swim_member *m;
	struct swim_dead d;

	if (s == NULL || !name_ok(name))
		return ERR_INVAL;
	if ((m = swim_member_find(s, name)) == NULL)
		return ERR_NOTFOUND;
	if (m == s->self)
		return ERR_INVAL;
	memset(&d, 0, sizeof(d));
	swim_name_set(d.node, m->name);
	swim_name_set(d.from, m->name);
	d.incarnation = m->incarnation;
	d.ltime = s->member_clock++;
	d.prune = prune;
	swim_member_dead(s, &d);
	return 0;
}

int
swim_set_tags(struct swim *s, const uint8_t *meta, uint16_t len)
{
	if (s == NULL || (len > 0 && meta == NULL))
		return ERR_INVAL;
	if (len > SWIM_META_MAX)
		return ERR_TOOBIG;
	if (s->leaving)
		return ERR_CLOSED;
	if (swim_member_set_meta(s->self, meta, len) != 0)
		return ERR_NOMEM;
	/* a new incarnation makes the new tags win everywhere */
	swim_member_refute(s, s->self->incarnation);
	swim_out_event(s, SWIM_EV_UPDATE, s->self);
	return 0;
}

int
swim_user_event(struct swim *s, const char *name, const uint8_t *payload,
    uint16_t len)
{
	if (s == NULL)
		return ERR_INVAL;
	return swim_event_fire(s, name, payload, len);
}

int
swim_tcp_probe_result(struct swim *s, uint32_t seq, bool ok)
{
	if (s == NULL)
		return ERR_INVAL;
	swim_probe_tcp_result(s, seq, ok);
	return 0;
}

/* ---- outputs ---- */

struct swim_send *
swim_out_send(struct swim *s, const struct swim_addr *to, uint8_t transport,
    uint8_t type)
{
	struct swim_update *o = &s->out;
	struct swim_send *snd;

	if (o->n_sends == s->cap_sends) {
		size_t cap = s->cap_sends ? s->cap_sends * 2 : 8;
		void *p = realloc(o->sends, cap * sizeof(*o->sends));
		if (p == NULL)
			return NULL;
		o->sends = p;
		s->cap_sends = cap;
	}
	snd = &o->sends[o->n_sends++];
	memset(snd, 0, sizeof(*snd));
	snd->to = *to;
	snd->transport = transport;
	snd->msg.type = type;
	return snd;
}

struct swim_event *
swim_out_event(struct swim *s, uint8_t type, const struct swim_member *m)
{
	struct swim_update *o = &s->out;
	struct swim_event *ev;

	if (o->n_events == s->cap_events) {
		size_t cap = s->cap_events ? s->cap_events * 2 : 8;
		void *p = realloc(o->events, cap * sizeof(*o->events));
		if (p == NULL)
			return NULL;
		o->events = p;
		s->cap_events = cap;
	}
	ev = &o->events[o->n_events++];
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	if (m != NULL) {
		swim_name_set(ev->node, m->name);
		ev->addr = m->addr;
		ev->incarnation = m->incarnation;
		ev->status = swim_status_of(s, m);
		ev->ltime = m->ltime;
		if (m->meta_len > 0 && (ev->meta = malloc(m->meta_len))) {
			memcpy(ev->meta, m->meta, m->meta_len);
			ev->meta_len = m->meta_len;
		}
	}
	return ev;
}

static uint64_t
min_nz(uint64_t a, uint64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

void
swim_drain(struct swim *s, struct swim_update *out)
{
	uint64_t d;

	*out = s->out;
	memset(&s->out, 0, sizeof(s->out));
	s->cap_sends = s->cap_events = 0;
	if (!s->started) {
		out->next_deadline_ms = s->now;
		return;
	}
	d = min_nz(s->next_gossip, swim_probe_next(s));
	d = min_nz(d, swim_suspect_next(s));
	d = min_nz(d, s->next_reconnect);
	d = min_nz(d, s->next_reap);
	if (s->cfg.push_pull_interval_ms > 0)
		d = min_nz(d, s->next_pp);
	out->next_deadline_ms = d;
}

void
swim_msg_free(struct swim_msg *msg)
{
	if (msg == NULL)
		return;
	free(msg->updates);
	free(msg->blob);
	if (msg->type == SWIM_MSG_PUSH_PULL) {
		free(msg->u.pp.members);
		free(msg->u.pp.events);
	}
	memset(msg, 0, sizeof(*msg));
}

void
swim_update_free(struct swim_update *u)
{
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < u->n_sends; i++)
		swim_msg_free(&u->sends[i].msg);
	for (i = 0; i < u->n_events; i++)
		free(u->events[i].meta);
	free(u->sends);
	free(u->events);
	memset(u, 0, sizeof(*u));
}

/* ---- queries ---- */

static void
view(const struct swim *s, const struct swim_member *m,
    struct swim_member_view *out)
{
	out->name = m->name;
	out->addr = m->addr;
	out->meta = m->meta;
	out->meta_len = m->meta_len;
	out->incarnation = m->incarnation;
	out->status = swim_status_of(s, m);
	out->state = m->state;
	out->ltime = m->ltime;
	out->change_ms = m->change_ms;
}

int
swim_member_get(const struct swim *s, const char *name,
    struct swim_member_view *out)
{
	const struct swim_member *m;

	if (s == NULL || !name_ok(name) || out == NULL)
		return ERR_INVAL;
	if ((m = swim_member_find(s, name)) == NULL)
		return ERR_NOTFOUND;
	view(s, m, out);
	return 0;
}

bool
swim_member_next(const struct swim *s, size_t *pos,
    struct swim_member_view *out)
{
	if (s == NULL || *pos >= s->n_members)
		return false;
	view(s, s->members[(*pos)++], out);
	return true;
}

void
swim_counts_get(const struct swim *s, struct swim_counts *out)
{
	*out = s->counts;
	out->queued = s->n_bcast;
}

uint32_t
swim_health_score(const struct swim *s)
{
	return s->awareness;
}

size_t
swim_heap_bytes(const struct swim *s)
{
	size_t b = sizeof(*s), i;
	const struct swim_susp *su;
	const struct swim_bcast *bc;

	b += s->cap_members * sizeof(*s->members);
	b += s->n_buckets * sizeof(*s->buckets);
	b += s->cap_relays * sizeof(*s->relays);
	for (i = 0; i < s->n_members; i++)
		b += sizeof(struct swim_member) +
		    strlen(s->members[i]->name) + 1 +
		    s->members[i]->meta_len;
	b += swim_event_heap(s);
	for (su = s->susps; su != NULL; su = su->next)
		b += sizeof(*su);
	for (i = 0; i < SWIM_BCAST_LEVELS; i++)
		for (bc = s->lv[i].head; bc != NULL; bc = bc->next)
			b += sizeof(*bc) + bc->node_len + bc->from_len +
			    bc->blob_len;
	return b;
}

int
swim_addr_fmt(const struct swim_addr *a, char *buf, size_t len)
{
	static const uint8_t v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff};
	int n;

	if (memcmp(a->ip, v4, 12) == 0)
		n = snprintf(buf, len, "%u.%u.%u.%u:%u", a->ip[12], a->ip[13],
		    a->ip[14], a->ip[15], a->port);
	else {
		char h[40];
		int i, o = 0;
		for (i = 0; i < 16; i += 2)
			o += snprintf(h + o, sizeof(h) - o, "%s%x",
			    i ? ":" : "", (a->ip[i] << 8) | a->ip[i + 1]);
		n = snprintf(buf, len, "[%s]:%u", h, a->port);
	}
	return (n < 0 || (size_t)n >= len) ? ERR_TOOBIG : 0;
}

bool
swim_addr_eq(const struct swim_addr *a, const struct swim_addr *b)
{
	return a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
}
