/*
 * swim_sim.c — a deterministic in-process SWIM cluster: up to a few
 * thousand struct swim cores on a simulated network and clock.
 *
 * What it checks on every run (and prints the seed when one fails):
 * - every live member eventually sees each crashed member as failed, within
 *   a bound derived from the protocol parameters (detect_bound_ms below);
 * - with loss <= 10 % and nobody paused or partitioned, no live member is
 *   ever declared failed by anyone (zero false positives);
 * - a member paused long enough to be suspected (or even declared failed)
 *   ends alive everywhere once it resumes (refutation);
 * - a graceful leave ends as `left` everywhere, never `failed`;
 * - a partitioned-then-healed cluster reconverges with everyone alive.
 *
 * Network model: UDP datagrams take 1-10 ms and are lost with probability
 * `loss` (each direction independently); TCP (push/pull, fallback ping) is
 * lossless but fails across a partition or to a crashed/paused process.
 * A paused process drops what arrives (its socket buffer overflowed) and
 * runs its timers late when it resumes.
 *
 * usage: sim_swim [--long] [--bench] [--seeds N] [--seed S] [--n N]
 *                 [--loss PCT]
 *   (no arguments) the fast set; --long n = 1000 and 2000 at 0/10/30 %
 *   loss (--n and --loss pick one size / loss of it); --seeds N runs N
 *   seeds of the fast set; --seed S replays one seed of the fast set with
 *   a trace; --bench prints the detection table.
 *
 * Cost: the join storm dominates (n members each gossip n alive updates
 * 4 * ceil(log10(n+1)) times: 64 M deliveries at n = 2,000, ~45 s of
 * CPU); --long runs the optimised build (make check-long).
 *
 * Reference: SWIM §5 (evaluation), Lifeguard §V; cowsql/raft
 * test/lib/cluster.h (the simulated cluster style).
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gossipd/swim.h"
#include "swim_cases.h"

enum { K_WAKE, K_UDP, K_TCP, K_TCP_RESULT };

struct pkt {
	uint64_t at, order;
	int kind, to, from;
	uint32_t seq; /* K_TCP_RESULT */
	bool ok;
	struct swim_msg msg;
};

struct node {
	struct swim *s;
	struct swim_addr addr;
	char name[16];
	bool crashed, stopped_left, leaving, reserved;
	uint64_t pause_from, pause_until;
	int group;
	int failed_seen; /* FAILED events about it while it was not crashed */
	int user_events; /* "deploy" user events delivered to it */
	uint64_t wake;
	uint64_t bytes;
};

struct crash {
	int idx;
	uint64_t at, done_at;
	uint8_t *seen;
	int n_seen;
};

struct opts {
	int n;
	double loss;
	uint64_t seed;
	int crashes;
	bool leave;
	uint64_t pause_short_ms, pause_long_ms;
	uint64_t partition_ms;
	bool wan;	     /* swim_config_wan() instead of _lan() */
	uint64_t window_ms;  /* steady-state traffic window (10 s) */
	bool trace;
	uint64_t base_seed; /* what --seed replays */
};

struct result {
	bool ok;
	uint64_t detect[64];
	int n_detect;
	uint64_t bound_ms;
	int fp;
	double bytes_per_s, tcp_per_s;
	size_t heap_per_member, heap_peak; /* steady / during the join */
	uint64_t converge_ms, end_ms;
	bool refuted;
	double event_reach;
};

struct sim {
	struct opts o;
	struct swim_config cfg;
	struct node *nodes;
	int n;
	struct pkt **heap;
	size_t n_heap, cap_heap;
	uint64_t now, order;
	uint64_t rng;
	struct crash crashes[64];
	int n_crashes;
	int fp, fp_any;
	bool counting;
	uint64_t window_bytes, window_tcp;
	char fail[256];
	int leaver, paused_short, paused_long;
	bool fired;
};

static uint64_t
rnd(struct sim *sm)
{
	uint64_t z = (sm->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double
rndf(struct sim *sm)
{
	return (double)(rnd(sm) >> 11) / 9007199254740992.0;
}

static void
fail(struct sim *sm, const char *fmt, ...)
{
	va_list ap;

	if (sm->fail[0])
		return;
	va_start(ap, fmt);
	vsnprintf(sm->fail, sizeof(sm->fail), fmt, ap);
	va_end(ap);
}

/* ---- event heap ---- */

static bool
before(const struct pkt *a, const struct pkt *b)
{
	return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static void
push(struct sim *sm, struct pkt *p)
{
	size_t i;

	p->order = sm->order++;
	if (sm->n_heap == sm->cap_heap) {
		sm->cap_heap = sm->cap_heap ? sm->cap_heap * 2 : 1024;
		sm->heap = realloc(sm->heap, sm->cap_heap * sizeof(*sm->heap));
		if (sm->heap == NULL)
			abort();
	}
	i = sm->n_heap++;
	while (i > 0 && before(p, sm->heap[(i - 1) / 2])) {
		sm->heap[i] = sm->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	sm->heap[i] = p;
}

static struct pkt *
pop(struct sim *sm)
{
	struct pkt *top = sm->heap[0], *last = sm->heap[--sm->n_heap];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < sm->n_heap) {
		if (c + 1 < sm->n_heap && before(sm->heap[c + 1], sm->heap[c]))
			c++;
		if (!before(sm->heap[c], last))
			break;
		sm->heap[i] = sm->heap[c];
		i = c;
	}
	if (sm->n_heap > 0)
		sm->heap[i] = last;
	return top;
}

static struct pkt *
pkt_new(uint64_t at, int kind, int to, int from)
{
	struct pkt *p = calloc(1, sizeof(*p));

	if (p == NULL)
		abort();
	p->at = at;
	p->kind = kind;
	p->to = to;
	p->from = from;
	return p;
}

/* ---- nodes ---- */

static int
idx_of_addr(const struct swim_addr *a)
{
	return (a->ip[13] << 8) | a->ip[14] << 0 | 0;
}

static int
idx_of_name(const char *name)
{
	return atoi(name + 1);
}

static bool
running(const struct sim *sm, int i)
{
	const struct node *nd = &sm->nodes[i];

	return !nd->crashed && !nd->stopped_left &&
	    !(sm->now >= nd->pause_from && sm->now < nd->pause_until);
}

static bool
reachable(const struct sim *sm, int a, int b)
{
	return sm->nodes[a].group == sm->nodes[b].group;
}

static void
schedule_wake(struct sim *sm, int i, uint64_t at)
{
	struct node *nd = &sm->nodes[i];

	if (at <= sm->now)
		at = sm->now + 1;
	if (nd->wake != 0 && nd->wake <= at && nd->wake > sm->now)
		return; /* an earlier wake is pending */
	nd->wake = at;
	push(sm, pkt_new(at, K_WAKE, i, i));
}

static uint64_t
latency(struct sim *sm)
{
	return 1 + rnd(sm) % 10;
}

static void
on_event(struct sim *sm, int obs, const struct swim_event *ev)
{
	int who;
	int c;

	if (ev->type == SWIM_EV_LEAVE_DONE) {
		if (sm->o.trace)
			printf("%8" PRIu64 " %s leave disseminated\n", sm->now,
			    sm->nodes[obs].name);
		sm->nodes[obs].stopped_left = true;
		return;
	}
	if (ev->type == SWIM_EV_USER) {
		if (strcmp(ev->name, "deploy") == 0 && ev->meta_len == 6 &&
		    memcmp(ev->meta, "v2.0.1", 6) == 0)
			sm->nodes[obs].user_events++;
		return;
	}
	if (ev->node[0] != 'n')
		return;
	who = idx_of_name(ev->node);
	if (who < 0 || who >= sm->n)
		return;
	if (sm->o.trace && ev->type != SWIM_EV_JOIN)
		printf("%8" PRIu64 " %s sees %s %s (inc %u)\n", sm->now,
		    sm->nodes[obs].name, ev->node,
		    ev->type == SWIM_EV_FAILED ? "failed" :
		    ev->type == SWIM_EV_LEFT ? "left" :
		    ev->type == SWIM_EV_REAPED ? "reaped" : "updated",
		    ev->incarnation);
	if (sm->o.trace && ev->type == SWIM_EV_JOIN && sm->counting)
		printf("%8" PRIu64 " %s sees %s alive again (inc %u)\n",
		    sm->now, sm->nodes[obs].name, ev->node, ev->incarnation);
	if (ev->type != SWIM_EV_FAILED)
		return;
	if (!sm->nodes[who].crashed && !sm->nodes[who].leaving) {
		sm->fp_any++;
		sm->nodes[who].failed_seen++;
		if (sm->counting)
			sm->fp++;
		return;
	}
	for (c = 0; c < sm->n_crashes; c++) {
		struct crash *cr = &sm->crashes[c];
		if (cr->idx != who || cr->seen[obs])
			continue;
		cr->seen[obs] = 1;
		cr->done_at = sm->now; /* the latest observer so far */
	}
}

static void
deliver_out(struct sim *sm, int i, struct swim_update *u)
{
	size_t k;
	struct node *nd = &sm->nodes[i];

	for (k = 0; k < u->n_events; k++)
		on_event(sm, i, &u->events[k]);
	for (k = 0; k < u->n_sends; k++) {
		struct swim_send *snd = &u->sends[k];
		int to = idx_of_addr(&snd->to);
		size_t sz = swim_msg_size(&snd->msg);
		struct pkt *p;

		nd->bytes += sz;
		if (sm->counting && snd->transport == SWIM_UDP)
			sm->window_bytes += sz;
		else if (sm->counting)
			sm->window_tcp += sz;
		if (to < 0 || to >= sm->n)
			continue;
		if (snd->transport == SWIM_TCP && snd->msg.type == SWIM_MSG_PING) {
			/* the adapter's TCP ping: ok if the target runs and
			 * is reachable, else it times out */
			bool ok = running(sm, to) && reachable(sm, i, to);
			p = pkt_new(sm->now + (ok ? 2 * latency(sm) + 2 :
			    sm->cfg.probe_timeout_ms), K_TCP_RESULT, i, to);
			p->seq = snd->msg.u.ping.seq;
			p->ok = ok;
			push(sm, p);
			continue;
		}
		if (snd->transport == SWIM_UDP && rndf(sm) < sm->o.loss)
			continue;
		p = pkt_new(sm->now + latency(sm) * (snd->transport ? 3 : 1),
		    snd->transport == SWIM_TCP ? K_TCP : K_UDP, to, i);
		p->msg = snd->msg;
		memset(&snd->msg, 0, sizeof(snd->msg));
		push(sm, p);
	}
	schedule_wake(sm, i, u->next_deadline_ms);
}

static void
after_input(struct sim *sm, int i)
{
	struct swim_update u;

	swim_drain(sm->nodes[i].s, &u);
	deliver_out(sm, i, &u);
	swim_update_free(&u);
}

static void
step(struct sim *sm, struct pkt *p)
{
	struct node *nd = &sm->nodes[p->to];
	int rc;

	sm->now = p->at;
	switch (p->kind) {
	case K_WAKE:
		if (nd->wake != p->at || nd->crashed || nd->stopped_left)
			break;
		nd->wake = 0;
		if (!running(sm, p->to)) { /* paused: timers run late */
			schedule_wake(sm, p->to, nd->pause_until);
			break;
		}
		swim_tick(nd->s, sm->now);
		after_input(sm, p->to);
		break;
	case K_UDP:
	case K_TCP:
		if (!running(sm, p->to) || !reachable(sm, p->from, p->to))
			break;
		rc = swim_recv(nd->s, &sm->nodes[p->from].addr, &p->msg,
		    sm->now);
		if (rc != 0)
			fail(sm, "%s rejected a message from %s: %d", nd->name,
			    sm->nodes[p->from].name, rc);
		after_input(sm, p->to);
		break;
	case K_TCP_RESULT:
		if (!running(sm, p->to))
			break;
		swim_tcp_probe_result(nd->s, p->seq, p->ok);
		after_input(sm, p->to);
		break;
	}
	swim_msg_free(&p->msg);
	free(p);
}

static void
run_until(struct sim *sm, uint64_t t)
{
	while (sm->n_heap > 0 && sm->heap[0]->at <= t && !sm->fail[0])
		step(sm, pop(sm));
	sm->now = t;
}

static void
sim_init(struct sim *sm, const struct opts *o)
{
	int i;
	uint8_t meta[24];

	memset(sm, 0, sizeof(*sm));
	sm->o = *o;
	sm->n = o->n;
	sm->rng = o->seed * 7919 + 17;
	sm->cfg = o->wan ? swim_config_wan() : swim_config_lan();
	sm->nodes = calloc(o->n, sizeof(*sm->nodes));
	if (sm->nodes == NULL)
		abort();
	for (i = 0; i < o->n; i++) {
		struct node *nd = &sm->nodes[i];
		struct swim_member_info info;
		snprintf(nd->name, sizeof(nd->name), "n%d", i);
		nd->addr.ip[10] = nd->addr.ip[11] = 0xff;
		nd->addr.ip[12] = 10;
		nd->addr.ip[13] = (uint8_t)(i >> 8);
		nd->addr.ip[14] = (uint8_t)i;
		nd->addr.ip[15] = 1;
		nd->addr.port = 8301;
		int ml = snprintf((char *)meta, sizeof(meta), "role=node,id=%d",
		    i);
		info.name = nd->name;
		info.addr = nd->addr;
		info.meta = meta;
		info.meta_len = (uint16_t)ml;
		nd->s = swim_new(&sm->cfg, &info, o->seed * 1000003 + i);
		if (nd->s == NULL)
			abort();
	}
}

static void
sim_fini(struct sim *sm)
{
	int i;

	while (sm->n_heap > 0) {
		struct pkt *p = pop(sm);
		swim_msg_free(&p->msg);
		free(p);
	}
	free(sm->heap);
	for (i = 0; i < sm->n; i++)
		swim_free(sm->nodes[i].s);
	for (i = 0; i < sm->n_crashes; i++)
		free(sm->crashes[i].seen);
	free(sm->nodes);
}

/* Every running node counts `alive` live members, no failed/left except
 * the expected ones. */
static bool
converged(struct sim *sm, uint32_t alive, uint32_t failed, uint32_t left)
{
	int i;
	struct swim_counts c;

	for (i = 0; i < sm->n; i++) {
		if (sm->nodes[i].crashed || sm->nodes[i].stopped_left)
			continue;
		swim_counts_get(sm->nodes[i].s, &c);
		if (c.alive != alive || c.suspect != 0 || c.failed != failed ||
		    c.left != left)
			return false;
	}
	return true;
}

/* The full O(n^2) check of everyone's view. */
static bool
views_ok(struct sim *sm, bool report)
{
	int i, j;
	struct swim_member_view v;

	for (i = 0; i < sm->n; i++) {
		if (sm->nodes[i].crashed || sm->nodes[i].stopped_left)
			continue;
		for (j = 0; j < sm->n; j++) {
			uint8_t want = sm->nodes[j].crashed ? SWIM_STATUS_FAILED :
			    sm->nodes[j].stopped_left ? SWIM_STATUS_LEFT :
			    SWIM_STATUS_ALIVE;
			if (swim_member_get(sm->nodes[i].s, sm->nodes[j].name,
			    &v) != 0 || v.status != want ||
			    (want == SWIM_STATUS_ALIVE &&
			    v.state != SWIM_STATE_ALIVE)) {
				if (report)
					fail(sm, "%s sees %s as %d/%d, want %d",
					    sm->nodes[i].name,
					    sm->nodes[j].name, v.status,
					    v.state, want);
				return false;
			}
		}
	}
	return true;
}

/* Derived bound on crash -> every live member sees it failed:
 *   10 probe periods until some member probes it (a member escapes all
 *      probers of one period with probability ~1/e; e^-10 after ten),
 * + one (possibly awareness-scaled x2) probe period for that probe,
 * + the unconfirmed suspicion timeout max = 6 * mult * max(1,log10 n) * P,
 * + dissemination of the dead message: twice the retransmit limit of
 *   gossip intervals, plus one probe period of piggybacking. */
static uint64_t
detect_bound_ms(const struct swim_config *c, int n)
{
	double scale = n > 1 ? fmax(1.0, log10((double)n)) : 1.0;
	uint64_t smax = (uint64_t)(c->suspicion_mult * scale *
	    c->probe_interval_ms) * c->suspicion_max_timeout_mult;
	uint64_t lim = c->retransmit_mult *
	    (uint64_t)ceil(log10((double)n + 1.0));

	return 10ull * c->probe_interval_ms + 2ull * c->probe_interval_ms +
	    smax + 2 * lim * c->gossip_interval_ms + c->probe_interval_ms;
}

static void
start_nodes(struct sim *sm)
{
	int i;
	uint64_t spread = sm->n > 500 ? 2 : 10;

	for (i = 0; i < sm->n; i++) {
		sm->now = i * spread;
		swim_tick(sm->nodes[i].s, sm->now);
		if (i > 0)
			swim_join(sm->nodes[i].s, &sm->nodes[i ? (int)(rnd(sm) %
			    (uint64_t)i) : 0].addr);
		after_input(sm, i);
	}
}

static int
pick_victim(struct sim *sm)
{
	int i;

	for (;;) {
		i = (int)(rnd(sm) % (uint64_t)sm->n);
		if (!sm->nodes[i].reserved) {
			sm->nodes[i].reserved = true;
			return i;
		}
	}
}

static uint32_t
self_incarnation(struct sim *sm, int i)
{
	struct swim_member_view v;

	swim_member_get(sm->nodes[i].s, sm->nodes[i].name, &v);
	return v.incarnation;
}

/* The user event, fired 5 s before any fault, reached every live member
 * exactly once: gossip is best-effort (spec §16 item 25) but push/pull
 * re-shares remembered events, and the dedupe drops the copies. */
static void
user_event_check(struct sim *sm, struct result *r)
{
	int i, live = 0, got = 0;

	for (i = 0; i < sm->n; i++) {
		if (sm->nodes[i].user_events > 1)
			fail(sm, "%s got the user event %d times",
			    sm->nodes[i].name, sm->nodes[i].user_events);
		if (sm->nodes[i].crashed || sm->nodes[i].stopped_left)
			continue;
		live++;
		got += sm->nodes[i].user_events;
	}
	r->event_reach = live ? (double)got / live : 0;
	if (got != live)
		fail(sm, "user event reached %d of %d live members", got, live);
}

/* The faults did what the scenario says: the long pause got the member
 * declared failed and it came back by refuting; the partition made each
 * side declare the other failed; the leaver left. */
static void
narrative(struct sim *sm, struct result *r)
{
	int i, fails = 0;

	if (sm->o.pause_long_ms) {
		int p = sm->paused_long;
		if (sm->nodes[p].failed_seen == 0)
			fail(sm, "%s paused %" PRIu64 " ms but nobody declared "
			    "it failed", sm->nodes[p].name, sm->o.pause_long_ms);
		else if (self_incarnation(sm, p) < 2)
			fail(sm, "%s is back without refuting",
			    sm->nodes[p].name);
	}
	if (sm->o.pause_short_ms)
		r->refuted = self_incarnation(sm, sm->paused_short) > 1;
	if (sm->fired)
		user_event_check(sm, r);
	if (sm->o.partition_ms) {
		for (i = 0; i < sm->n; i++)
			fails += sm->nodes[i].failed_seen > 0;
		if (fails < sm->n - 1)
			fail(sm, "partition: only %d members were declared "
			    "failed across it", fails);
	}
}

/* Every running member has seen the crashed one failed. */
static bool
all_seen(const struct sim *sm, const struct crash *cr)
{
	int j;

	for (j = 0; j < sm->n; j++)
		if (!sm->nodes[j].crashed && !sm->nodes[j].stopped_left &&
		    !cr->seen[j])
			return false;
	return true;
}

/* 1. Bootstrap: everyone sees everyone alive. */
static bool
phase_bootstrap(struct sim *sm, struct result *r)
{
	uint64_t t;

	start_nodes(sm);
	for (t = 1000; !converged(sm, sm->n, 0, 0); t += 500) {
		if (t > 200000 || sm->fail[0]) {
			fail(sm, "no convergence after join (t=%" PRIu64 ")", t);
			return false;
		}
		run_until(sm, t);
		if (swim_heap_bytes(sm->nodes[0].s) > r->heap_peak)
			r->heap_peak = swim_heap_bytes(sm->nodes[0].s);
	}
	r->converge_ms = t;
	return true;
}

static uint64_t
queued(struct sim *sm)
{
	uint64_t q = 0;
	int i;
	struct swim_counts c;

	for (i = 0; i < sm->n; i++) {
		swim_counts_get(sm->nodes[i].s, &c);
		q += c.queued;
	}
	return q;
}

/* 2. Steady-state traffic once the join updates drained, and memory.
 * Returns the time faults start. */
static uint64_t
phase_steady(struct sim *sm, struct result *r)
{
	uint64_t window = sm->o.window_ms ? sm->o.window_ms : 10000;
	uint64_t t = r->converge_ms + 5000;

	/* Let the join storm drain first: every member queued an alive
	 * update about each of the n others, each sent 4 * ceil(log10(n+1))
	 * times, least-sent first, so the queues empty all at once; at
	 * n = 2,000 that is ~40 s after convergence, and a window inside it
	 * measured ~300x the steady UDP bytes. "Drained": under one item
	 * per 20 members (30 % loss keeps a trickle of refutations). */
	run_until(sm, t);
	while (queued(sm) > (uint64_t)sm->n / 20 &&
	    t < r->converge_ms + 300000)
		run_until(sm, t += 1000);
	sm->counting = true;
	run_until(sm, t + window);
	r->bytes_per_s = (double)sm->window_bytes / sm->n / (window / 1000.0);
	r->tcp_per_s = (double)sm->window_tcp / sm->n / (window / 1000.0);
	r->heap_per_member = swim_heap_bytes(sm->nodes[0].s) / sm->n;
	return t + window;
}

static void
trace(struct sim *sm, const char *fmt, ...)
{
	va_list ap;

	if (!sm->o.trace)
		return;
	printf("%8" PRIu64 " ", sm->now);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static int
pause_one(struct sim *sm, uint64_t at, uint64_t ms)
{
	int p = pick_victim(sm);

	sm->nodes[p].pause_from = at;
	sm->nodes[p].pause_until = at + ms;
	trace(sm, "%s will pause at %" PRIu64 " for %" PRIu64 " ms",
	    sm->nodes[p].name, at, ms);
	return p;
}

/* 3. Leave, pauses, staggered crashes, a partition; runs until every
 * pause and the partition are over. */
static void
phase_faults(struct sim *sm, uint64_t t0)
{
	const struct opts *o = &sm->o;
	int i;

	if (o->crashes > 0) { /* a user event 5 s before the faults */
		int f = (int)(rnd(sm) % (uint64_t)sm->n);
		trace(sm, "%s fires user event deploy", sm->nodes[f].name);
		swim_user_event(sm->nodes[f].s, "deploy",
		    (const uint8_t *)"v2.0.1", 6);
		after_input(sm, f);
		sm->fired = true;
		t0 += 5000;
	}
	for (i = 0; i < o->crashes && i < 64; i++) {
		struct crash *cr = &sm->crashes[sm->n_crashes++];
		cr->idx = pick_victim(sm);
		cr->at = t0 + i * 1500;
		cr->seen = calloc(sm->n, 1);
	}
	run_until(sm, t0);
	if (o->leave) {
		sm->leaver = pick_victim(sm);
		sm->nodes[sm->leaver].leaving = true;
		trace(sm, "%s leaves", sm->nodes[sm->leaver].name);
		swim_leave(sm->nodes[sm->leaver].s);
		after_input(sm, sm->leaver);
	}
	if (o->pause_short_ms)
		sm->paused_short = pause_one(sm, t0 + 500, o->pause_short_ms);
	if (o->pause_long_ms)
		sm->paused_long = pause_one(sm, t0 + 700, o->pause_long_ms);
	for (i = 0; i < sm->n_crashes; i++) {
		run_until(sm, sm->crashes[i].at);
		sm->nodes[sm->crashes[i].idx].crashed = true;
		trace(sm, "%s crashes", sm->nodes[sm->crashes[i].idx].name);
	}
	if (o->partition_ms) {
		run_until(sm, t0 + 1000);
		for (i = 0; i < sm->n; i++)
			sm->nodes[i].group = i < sm->n / 2 ? 1 : 2;
		trace(sm, "partition %d | %d", sm->n / 2, sm->n - sm->n / 2);
		run_until(sm, t0 + 1000 + o->partition_ms);
		for (i = 0; i < sm->n; i++)
			sm->nodes[i].group = 0;
		trace(sm, "partition healed");
	}
	for (i = 0; i < sm->n; i++)
		if (sm->nodes[i].pause_until > sm->now)
			run_until(sm, sm->nodes[i].pause_until);
}

/* 4. Every live member sees each crash as failed within the bound. */
static bool
phase_detect(struct sim *sm, struct result *r)
{
	const struct opts *o = &sm->o;
	int i;

	r->bound_ms = detect_bound_ms(&sm->cfg, sm->n);
	for (i = 0; i < sm->n_crashes; i++) {
		struct crash *cr = &sm->crashes[i];
		uint64_t limit = cr->at + r->bound_ms + o->pause_long_ms +
		    o->partition_ms;
		while (!all_seen(sm, cr)) {
			if (sm->now > limit) {
				fail(sm, "crash of %s not seen failed by all "
				    "within %" PRIu64 " ms",
				    sm->nodes[cr->idx].name, limit - cr->at);
				return false;
			}
			run_until(sm, sm->now + 100);
			if (sm->fail[0])
				return false;
		}
		if (o->pause_long_ms == 0 && o->partition_ms == 0 &&
		    o->pause_short_ms == 0 && r->n_detect < 64)
			r->detect[r->n_detect++] = cr->done_at - cr->at;
	}
	return true;
}

/* Every running member got the user event (if one was fired). */
static bool
events_done(const struct sim *sm)
{
	int i;

	for (i = 0; sm->fired && i < sm->n; i++)
		if (!sm->nodes[i].crashed && !sm->nodes[i].stopped_left &&
		    sm->nodes[i].user_events == 0)
			return false;
	return true;
}

static void
report_counts(struct sim *sm, uint32_t alive, uint32_t failed, uint32_t left)
{
	int i;
	struct swim_counts c;

	for (i = 0; i < sm->n && !sm->fail[0]; i++) {
		if (sm->nodes[i].crashed || sm->nodes[i].stopped_left)
			continue;
		swim_counts_get(sm->nodes[i].s, &c);
		if (c.alive != alive || c.suspect || c.failed != failed ||
		    c.left != left)
			fail(sm, "%s counts alive %u suspect %u failed %u "
			    "left %u (want %u/0/%u/%u)", sm->nodes[i].name,
			    c.alive, c.suspect, c.failed, c.left, alive,
			    failed, left);
	}
}

/* 5. Everyone converges to the expected view: live members alive,
 * crashed ones failed, the leaver left. */
static bool
phase_final(struct sim *sm)
{
	uint64_t deadline = sm->now + 240000 + sm->o.partition_ms;
	uint32_t n_left, alive;
	int i;

	for (;;) {
		n_left = 0;
		for (i = 0; i < sm->n; i++)
			n_left += sm->nodes[i].stopped_left;
		alive = sm->n - sm->n_crashes - n_left;
		if (converged(sm, alive, sm->n_crashes, n_left) &&
		    events_done(sm) && views_ok(sm, false))
			break;
		if (sm->now > deadline) {
			report_counts(sm, alive, sm->n_crashes, n_left);
			views_ok(sm, true);
			fail(sm, "no final convergence");
			return false;
		}
		run_until(sm, sm->now + 1000);
		if (sm->fail[0])
			return false;
	}
	if (sm->o.leave && n_left != 1)
		fail(sm, "the leaver never finished disseminating its leave");
	return true;
}

static void
run(const struct opts *o, struct result *r)
{
	struct sim sm_, *sm = &sm_;

	memset(r, 0, sizeof(*r));
	sim_init(sm, o);
	if (phase_bootstrap(sm, r)) {
		phase_faults(sm, phase_steady(sm, r));
		if (phase_detect(sm, r) && phase_final(sm)) {
			r->end_ms = sm->now;
			narrative(sm, r);
		}
	}
	if (o->loss <= 0.10 && o->pause_short_ms == 0 &&
	    o->pause_long_ms == 0 && o->partition_ms == 0 && sm->fp_any > 0)
		fail(sm, "%d false positive(s) without pauses or partitions",
		    sm->fp_any);
	r->fp = sm->fp_any;
	r->ok = sm->fail[0] == '\0';
	if (!r->ok)
		printf("FAIL seed %" PRIu64 " n=%d loss=%.0f%%: %s\n", o->seed,
		    o->n, o->loss * 100, sm->fail);
	sim_fini(sm);
}

/* ---- drivers ---- */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
pct(uint64_t *v, int n, double p)
{
	int i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	i = (int)ceil(p * n) - 1;
	return v[i < 0 ? 0 : i];
}

static int n_runs, n_failed;

static void
one(const struct opts *o, const char *what)
{
	struct result r;
	int i;
	uint64_t mx = 0;

	run(o, &r);
	n_runs++;
	if (!r.ok) {
		n_failed++;
		printf("  replay: sim_swim --seed %" PRIu64 " --n %d\n",
		    o->base_seed, o->n);
		return;
	}
	for (i = 0; i < r.n_detect; i++)
		if (r.detect[i] > mx)
			mx = r.detect[i];
	printf("ok   %-20s n=%-4d loss=%2.0f%% seed=%-3" PRIu64
	    " join %5.1fs detect max %4.1fs (bound %4.1fs) fp %-3d%s%s "
	    "udp %4.0f tcp %4.0f B/s/member heap %zu B/member (join peak "
	    "%zu KiB)\n", what,
	    o->n, o->loss * 100, o->seed, r.converge_ms / 1000.0,
	    mx / 1000.0, r.bound_ms / 1000.0, r.fp,
	    o->pause_short_ms ? (r.refuted ? " refuted" : " unsuspected") : "",
	    o->crashes ? (r.event_reach == 1.0 ? " event 100%" :
	    " event <100%") : "",
	    r.bytes_per_s, r.tcp_per_s, r.heap_per_member,
	    r.heap_peak / 1024);
}

/* memberlist's push/pull period at n (pushPullScale, 30 s base): a
 * traffic window this long sees every member's push/pull once. The
 * periods are in phase cluster-wide (everyone started within seconds),
 * so a 10 s window saw none at n = 2,000. */
static uint64_t
pp_period_ms(int n)
{
	if (n <= 32)
		return 30000;
	return 30000 * (uint64_t)(ceil(log2((double)n) - 5.0) + 1);
}

/* The scenarios of one seed at one size and loss. */
static void
scenarios(int n, double loss, uint64_t seed, bool trace, bool all)
{
	uint64_t win = n >= 500 ? pp_period_ms(n) : 0;
	struct opts o = {.n = n, .loss = loss, .seed = seed, .trace = trace,
	    .base_seed = seed, .window_ms = win};

	o.crashes = n >= 20 ? 3 : 1;
	o.leave = true;
	one(&o, "crash+leave");
	if (!all)
		return;
	o.wan = true;
	o.seed = seed + 300;
	o.window_ms = 2 * win; /* WAN push/pull: 60 s base */
	one(&o, "WAN crash+leave");
	o.wan = false;
	memset(&o, 0, sizeof(o));
	o.n = n;
	o.loss = loss;
	o.seed = seed + 100;
	o.trace = trace;
	o.base_seed = seed;
	o.window_ms = win;
	o.pause_short_ms = 2500; /* suspected, refutes */
	o.pause_long_ms = 60000; /* declared failed, comes back */
	one(&o, "pause short+long");
	o.pause_short_ms = o.pause_long_ms = 0;
	o.seed = seed + 200;
	o.partition_ms = 60000;
	one(&o, "partition 60s + heal");
}

static void
bench(void)
{
	static const int sizes[] = {100, 1000, 2000};
	static const double losses[] = {0.0, 0.10};
	int si, li, sd, i;

	printf("\nSWIM detection bench (memberlist LAN defaults; cairn uses "
	    "the same parameters, nothing tuned)\n");
	printf("%6s %5s %8s %8s %8s %5s %9s %9s %9s %11s\n", "n", "loss",
	    "p50 s", "p99 s", "bound s", "fp", "udp B/s", "tcp B/s",
	    "crashes", "heap B/mbr");
	for (si = 0; si < 3; si++)
		for (li = 0; li < 2; li++) {
			uint64_t det[256];
			int nd = 0, fp = 0, seeds = sizes[si] >= 1000 ? 2 : 5;
			double bps = 0, tps = 0;
			size_t heap = 0;
			uint64_t bound = 0;
			for (sd = 1; sd <= seeds; sd++) {
				struct opts o = {.n = sizes[si],
				    .loss = losses[li], .seed = 500 + sd,
				    .crashes = 5,
				    .window_ms = 2 * pp_period_ms(sizes[si])};
				struct result r;
				run(&o, &r);
				n_runs++;
				if (!r.ok)
					n_failed++;
				for (i = 0; i < r.n_detect && nd < 256; i++)
					det[nd++] = r.detect[i];
				fp += r.fp;
				bps += r.bytes_per_s / seeds;
				tps += r.tcp_per_s / seeds;
				heap = r.heap_per_member;
				bound = r.bound_ms;
			}
			printf("%6d %4.0f%% %8.1f %8.1f %8.1f %5d %9.0f %9.0f "
			    "%9d %11zu\n", sizes[si], losses[li] * 100,
			    pct(det, nd, 0.5) / 1000.0,
			    pct(det, nd, 0.99) / 1000.0, bound / 1000.0, fp,
			    bps, tps, nd, heap);
			fflush(stdout);
		}
}

int
main(int argc, char **argv)
{
	int i, seeds = 1, only_n = 0;
	double only_loss = -1;
	bool lng = false, bn = false, replay = false;
	uint64_t seed = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--long") == 0)
			lng = true;
		else if (strcmp(argv[i], "--bench") == 0)
			bn = true;
		else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
			seeds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 10);
			replay = true;
		} else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
			only_n = atoi(argv[++i]);
		else if (strcmp(argv[i], "--loss") == 0 && i + 1 < argc)
			only_loss = atof(argv[++i]) / 100.0;
		else {
			fprintf(stderr, "usage: sim_swim [--long] [--bench] "
			    "[--seeds N] [--seed S] [--n N] [--loss PCT]\n");
			return 2;
		}
	}
	if (bn) {
		bench();
	} else if (lng) {
		static const int sizes[] = {1000, 2000};
		static const double losses[] = {0.0, 0.10, 0.30};
		int si, li;
		for (si = 0; si < (only_n ? 1 : 2); si++)
			for (li = 0; li < 3; li++)
				if (only_loss < 0 || only_loss == losses[li])
					scenarios(only_n ? only_n : sizes[si],
					    losses[li], seed, false, li == 1);
	} else {
		static const int sizes[] = {5, 20, 100};
		if (!replay) {
			int cf = swim_cases_run();
			n_runs += 11;
			n_failed += cf;
		}
		uint64_t s0 = replay ? seed : 1;
		uint64_t s1 = replay ? seed : (uint64_t)seeds;
		uint64_t sd;
		int si;
		for (sd = s0; sd <= s1; sd++) {
			for (si = 0; si < (only_n ? 1 : 3); si++) {
				int n = only_n ? only_n : sizes[si];
				scenarios(n, 0.0, sd, replay, n <= 20);
				scenarios(n, 0.10, sd, replay, n <= 20);
			}
			if (!only_n)
				scenarios(250, 0.10, sd, replay, false);
		}
	}
	printf("sim_swim: %d runs, %d failed\n", n_runs, n_failed);
	return n_failed ? 1 : 0;
}
