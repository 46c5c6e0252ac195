/*
 * swim_cases.c — hand-driven protocol cases for the SWIM core.
 *
 * Where it sits: run by sim_swim before the cluster runs. Each case builds
 * one or a few cores, feeds them messages and time by hand, and asserts on
 * what they send, the events they emit and the member states they report,
 * so every Lifeguard mechanism is checked on its own rather than only
 * through its aggregate effect in the cluster simulation.
 *
 * Reference: Lifeguard §IV-A (awareness), §IV-B (dynamic suspicion),
 * §IV-C (buddy system); memberlist suspicion_test.go, awareness_test.go.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gossipd/swim.h"
#include "../../gossipd/swim_int.h"
#include "err.h"
#include "swim_cases.h"

static int failures;
static const char *cur;

#define CHECK(c)                                                          \
	do {                                                              \
		if (!(c)) {                                               \
			printf("FAIL case %s: %s (line %d)\n", cur, #c,   \
			    __LINE__);                                    \
			failures++;                                       \
			return;                                           \
		}                                                         \
	} while (0)

static struct swim_addr
addr_of(int i)
{
	struct swim_addr a;

	memset(&a, 0, sizeof(a));
	a.ip[10] = a.ip[11] = 0xff;
	a.ip[12] = 10;
	a.ip[14] = (uint8_t)i;
	a.ip[15] = 1;
	a.port = 8301;
	return a;
}

static struct swim *
mk(int i, const struct swim_config *cfg)
{
	char name[16];
	struct swim_member_info info;

	snprintf(name, sizeof(name), "c%d", i);
	memset(&info, 0, sizeof(info));
	info.name = name;
	info.addr = addr_of(i);
	info.meta = (const uint8_t *)"v1";
	info.meta_len = 2;
	return swim_new(cfg, &info, 42 + i);
}

/* Drains s into *u (freeing what *u held). */
static void
pump(struct swim *s, struct swim_update *u)
{
	swim_update_free(u);
	swim_drain(s, u);
}

static struct swim_send *
find_send(struct swim_update *u, uint8_t type, int to)
{
	size_t i;
	struct swim_addr a = addr_of(to);

	for (i = 0; i < u->n_sends; i++)
		if (u->sends[i].msg.type == type &&
		    (to < 0 || swim_addr_eq(&u->sends[i].to, &a)))
			return &u->sends[i];
	return NULL;
}

static int
count_events(const struct swim_update *u, uint8_t type, const char *node)
{
	size_t i;
	int n = 0;

	for (i = 0; i < u->n_events; i++)
		if (u->events[i].type == type &&
		    (node == NULL || strcmp(u->events[i].node, node) == 0))
			n++;
	return n;
}

static void
feed_alive(struct swim *s, int i, uint32_t inc, uint64_t now)
{
	struct swim_upd up;
	struct swim_msg m;
	struct swim_addr from = addr_of(i);

	memset(&up, 0, sizeof(up));
	memset(&m, 0, sizeof(m));
	up.type = SWIM_UP_ALIVE;
	snprintf(up.u.alive.node, sizeof(up.u.alive.node), "c%d", i);
	up.u.alive.addr = from;
	up.u.alive.incarnation = inc;
	m.type = SWIM_MSG_GOSSIP;
	m.updates = &up;
	m.n_updates = 1;
	swim_recv(s, &from, &m, now);
}

static void
feed_suspect(struct swim *s, int who, int from, uint32_t inc, uint64_t now)
{
	struct swim_upd up;
	struct swim_msg m;
	struct swim_addr fa = addr_of(from);

	memset(&up, 0, sizeof(up));
	memset(&m, 0, sizeof(m));
	up.type = SWIM_UP_SUSPECT;
	snprintf(up.u.suspect.node, sizeof(up.u.suspect.node), "c%d", who);
	snprintf(up.u.suspect.from, sizeof(up.u.suspect.from), "c%d", from);
	up.u.suspect.incarnation = inc;
	m.type = SWIM_MSG_GOSSIP;
	m.updates = &up;
	m.n_updates = 1;
	swim_recv(s, &fa, &m, now);
}

/* Acks every UDP ping s sent in *u (so s never suspects anyone). */
static void
ack_pings(struct swim *s, struct swim_update *u, uint64_t now)
{
	size_t i, n = u->n_sends;
	struct swim_msg ack;

	for (i = 0; i < n; i++) {
		if (u->sends[i].msg.type != SWIM_MSG_PING ||
		    u->sends[i].transport != SWIM_UDP)
			continue;
		memset(&ack, 0, sizeof(ack));
		ack.type = SWIM_MSG_ACK;
		ack.u.ack.seq = u->sends[i].msg.u.ping.seq;
		swim_recv(s, &u->sends[i].to, &ack, now);
	}
}

static uint8_t
state_of(struct swim *s, int i)
{
	char name[16];
	struct swim_member_view v;

	snprintf(name, sizeof(name), "c%d", i);
	if (swim_member_get(s, name, &v) != 0)
		return 0xff;
	return v.state;
}

static void
case_bad_input(void)
{
	struct swim_config cfg = swim_config_lan(), bad = cfg;
	struct swim *s;
	struct swim_msg m;
	struct swim_upd up;
	struct swim_pp_member pm;
	struct swim_addr from = addr_of(9);
	uint8_t big[600];

	cur = "bad input";
	bad.probe_interval_ms = 0;
	CHECK(mk(1, &bad) == NULL);
	CHECK((s = mk(1, &cfg)) != NULL);
	memset(&m, 0, sizeof(m));
	m.type = 99;
	CHECK(swim_recv(s, &from, &m, 1) == ERR_BADMSG);
	m.type = SWIM_MSG_PING;
	memset(m.u.ping.node, 'x', sizeof(m.u.ping.node)); /* no NUL */
	CHECK(swim_recv(s, &from, &m, 1) == ERR_BADMSG);
	memset(&m, 0, sizeof(m));
	m.type = SWIM_MSG_GOSSIP;
	m.n_updates = 1; /* but no array */
	CHECK(swim_recv(s, &from, &m, 1) == ERR_BADMSG);
	memset(&up, 0, sizeof(up));
	up.type = SWIM_UP_ALIVE;
	strcpy(up.u.alive.node, "c9");
	up.u.alive.meta_len = SWIM_META_MAX + 1;
	up.u.alive.meta = big;
	m.updates = &up;
	CHECK(swim_recv(s, &from, &m, 1) == ERR_BADMSG);
	up.type = 9;
	CHECK(swim_recv(s, &from, &m, 1) == ERR_BADMSG);
	memset(&m, 0, sizeof(m));
	memset(&pm, 0, sizeof(pm));
	strcpy(pm.node, "c9");
	pm.state = 7;
	m.type = SWIM_MSG_PUSH_PULL;
	m.u.pp.members = &pm;
	m.u.pp.n_members = 1;
	CHECK(swim_recv(s, &from, &m, 1) == ERR_BADMSG);
	CHECK(swim_member_get(s, "c9", &(struct swim_member_view){0}) ==
	    ERR_NOTFOUND); /* nothing applied */
	memset(big, 'a', sizeof(big));
	CHECK(swim_user_event(s, "ev", big, 600) == ERR_TOOBIG);
	CHECK(swim_set_tags(s, big, 600) == ERR_TOOBIG);
	CHECK(swim_force_leave(s, "nobody", false) == ERR_NOTFOUND);
	CHECK(swim_force_leave(s, "c1", false) == ERR_INVAL);
	swim_free(s);
	printf("ok   case %s\n", cur);
}

/* A suspected member is told in the probe itself and refutes in the ack. */
static void
case_buddy_refute(void)
{
	struct swim_config cfg = swim_config_lan();
	struct swim *a = mk(1, &cfg), *d = mk(4, &cfg);
	struct swim_update ua = {0}, ud = {0};
	struct swim_send *ping, *ack;
	struct swim_member_view v;
	uint64_t t;
	int i;

	cur = "buddy system + refutation";
	CHECK(a && d);
	swim_tick(a, 0);
	swim_tick(d, 0);
	for (i = 2; i <= 4; i++)
		feed_alive(a, i, 1, 0);
	feed_alive(d, 1, 1, 0);
	feed_suspect(a, 4, 2, 1, 10); /* c2 says c4 is suspect */
	CHECK(state_of(a, 4) == SWIM_STATE_SUSPECT);
	pump(a, &ua);
	ping = NULL;
	for (t = 20; t < 4000 && ping == NULL; t += 10) {
		ack_pings(a, &ua, t); /* ack pings to others */
		swim_tick(a, t);
		pump(a, &ua);
		ping = find_send(&ua, SWIM_MSG_PING, 4);
	}
	CHECK(ping != NULL);
	CHECK(ping->msg.n_updates >= 1 &&
	    ping->msg.updates[0].type == SWIM_UP_SUSPECT &&
	    strcmp(ping->msg.updates[0].u.suspect.node, "c4") == 0);
	CHECK(swim_recv(d, &(struct swim_addr){0}, &ping->msg, t) == 0);
	pump(d, &ud);
	CHECK((ack = find_send(&ud, SWIM_MSG_ACK, -1)) != NULL);
	CHECK(swim_member_get(d, "c4", &v) == 0 && v.incarnation == 2);
	CHECK(swim_health_score(d) == 1); /* Lifeguard: suspected => +1 */
	CHECK(swim_recv(a, &ping->to, &ack->msg, t + 1) == 0);
	CHECK(swim_member_get(a, "c4", &v) == 0 && v.incarnation == 2 &&
	    v.state == SWIM_STATE_ALIVE);
	swim_update_free(&ua);
	swim_update_free(&ud);
	swim_free(a);
	swim_free(d);
	printf("ok   case %s\n", cur);
}

/* Lifeguard dynamic suspicion: min/max and the log-scaled shrink. */
static uint64_t
dead_after(int confirmations, uint64_t *min_ms, uint64_t *max_ms)
{
	struct swim_config cfg = swim_config_lan();
	struct swim *a = mk(1, &cfg);
	struct swim_update u = {0};
	uint64_t t, start = 1000;
	int i;
	double scale;

	swim_tick(a, 0);
	for (i = 2; i <= 20; i++)
		feed_alive(a, i, 1, 0);
	/* 20 live members: min = 4 * log10(20) * 1 s */
	scale = log10(20.0);
	*min_ms = (uint64_t)(4 * scale * 1000);
	*max_ms = *min_ms * 6;
	feed_suspect(a, 20, 2, 1, start);
	for (i = 0; i < confirmations; i++)
		feed_suspect(a, 20, 3 + i, 1, start);
	pump(a, &u);
	for (t = start; t < start + 60000; t += 5) {
		ack_pings(a, &u, t);
		swim_tick(a, t);
		pump(a, &u);
		if (state_of(a, 20) == SWIM_STATE_DEAD)
			break;
	}
	swim_update_free(&u);
	swim_free(a);
	return t - start;
}

static void
case_dynamic_suspicion(void)
{
	uint64_t mn, mx, d0, d1, d2, d5, want1;

	cur = "dynamic suspicion timeouts";
	d0 = dead_after(0, &mn, &mx);
	d1 = dead_after(1, &mn, &mx);
	d2 = dead_after(2, &mn, &mx);
	d5 = dead_after(5, &mn, &mx); /* k = 2: extra ones do not count */
	/* after c confirmations: max - (max - min) * log(c+1) / log(k+1) */
	want1 = (uint64_t)(mx - (mx - mn) * log(2.0) / log(3.0));
	CHECK(d0 >= mx && d0 <= mx + 5);
	CHECK(d1 + 1 >= want1 && d1 <= want1 + 5);
	CHECK(d2 >= mn && d2 <= mn + 5);
	CHECK(d5 == d2);
	printf("ok   case %s (min %.2fs max %.2fs: 0 conf %.2fs, 1 conf "
	    "%.2fs, 2 conf %.2fs)\n", cur, mn / 1000.0, mx / 1000.0,
	    d0 / 1000.0, d1 / 1000.0, d2 / 1000.0);
}

/* Missed NACKs raise awareness to its max and stretch the probe; acks
 * bring it back down. */
static void
case_awareness(void)
{
	struct swim_config cfg = swim_config_lan();
	struct swim *a = mk(1, &cfg);
	struct swim_update u = {0};
	struct swim_send *req;
	uint64_t t, start = 0, req_at = 0;
	int i;
	uint32_t peak = 0;

	cur = "local health awareness";
	CHECK(a != NULL);
	swim_tick(a, 0);
	for (i = 2; i <= 8; i++)
		feed_alive(a, i, 1, 0);
	pump(a, &u);
	/* everything a sends is lost: no acks, no nacks */
	for (t = 0; t < 120000; t += 10) {
		swim_tick(a, t);
		pump(a, &u);
		if ((req = find_send(&u, SWIM_MSG_PING, -1)) != NULL &&
		    req->transport == SWIM_UDP)
			start = t;
		if ((req = find_send(&u, SWIM_MSG_PING_REQ, -1)) != NULL &&
		    swim_health_score(a) == cfg.awareness_max - 1 &&
		    req_at == 0)
			req_at = t - start;
		if (swim_health_score(a) > peak)
			peak = swim_health_score(a);
		/* re-announce everyone so there is always a target */
		for (i = 2; i <= 8; i++)
			if (state_of(a, i) != SWIM_STATE_ALIVE)
				feed_alive(a, i, (uint32_t)(t / 10), t);
	}
	CHECK(peak == cfg.awareness_max - 1);
	/* at score 7 the direct timeout is 8 x 500 ms */
	CHECK(req_at >= 8 * cfg.probe_timeout_ms &&
	    req_at <= 8 * cfg.probe_timeout_ms + 10);
	/* now every ping is acked: one step down per successful probe */
	for (; t < 240000 && swim_health_score(a) > 0; t += 10) {
		ack_pings(a, &u, t);
		swim_tick(a, t);
		pump(a, &u);
	}
	CHECK(swim_health_score(a) == 0);
	swim_update_free(&u);
	swim_free(a);
	printf("ok   case %s (peak %u, ping-req after %" PRIu64 " ms)\n",
	    cur, peak, req_at);
}

/* An intermediary NACKs when the target stays silent, forwards its ack
 * otherwise. */
static void
case_nack(void)
{
	struct swim_config cfg = swim_config_lan();
	struct swim *b = mk(2, &cfg);
	struct swim_update u = {0};
	struct swim_msg m, ack;
	struct swim_send *ping, *nack, *fwd;
	struct swim_addr req = addr_of(1);
	uint64_t t;

	cur = "indirect probe NACK";
	CHECK(b != NULL);
	swim_tick(b, 0);
	memset(&m, 0, sizeof(m));
	m.type = SWIM_MSG_PING_REQ;
	m.u.ping_req.seq = 77;
	strcpy(m.u.ping_req.node, "c3");
	m.u.ping_req.target = addr_of(3);
	m.u.ping_req.nack = true;
	CHECK(swim_recv(b, &req, &m, 100) == 0);
	pump(b, &u);
	CHECK((ping = find_send(&u, SWIM_MSG_PING, 3)) != NULL);
	nack = NULL;
	for (t = 100; t <= 100 + cfg.probe_timeout_ms && !nack; t += 10) {
		swim_tick(b, t);
		pump(b, &u);
		nack = find_send(&u, SWIM_MSG_NACK, 1);
	}
	CHECK(nack != NULL && nack->msg.u.nack.seq == 77);
	CHECK(t - 10 - 100 == cfg.probe_timeout_ms);
	/* second request, this time the target answers */
	m.u.ping_req.seq = 78;
	CHECK(swim_recv(b, &req, &m, 2000) == 0);
	pump(b, &u);
	CHECK((ping = find_send(&u, SWIM_MSG_PING, 3)) != NULL);
	memset(&ack, 0, sizeof(ack));
	ack.type = SWIM_MSG_ACK;
	ack.u.ack.seq = ping->msg.u.ping.seq;
	CHECK(swim_recv(b, &ping->to, &ack, 2005) == 0);
	pump(b, &u);
	CHECK((fwd = find_send(&u, SWIM_MSG_ACK, 1)) != NULL &&
	    fwd->msg.u.ack.seq == 78);
	swim_update_free(&u);
	swim_free(b);
	printf("ok   case %s\n", cur);
}

static void
case_user_events(void)
{
	struct swim_config cfg = swim_config_lan();
	struct swim *a = mk(1, &cfg), *b = mk(2, &cfg);
	struct swim_update u = {0}, ub = {0};
	struct swim_msg m;
	size_t i;
	struct swim_upd *ev = NULL;

	cur = "user events";
	CHECK(a && b);
	swim_tick(a, 0);
	swim_tick(b, 0);
	feed_alive(a, 2, 1, 0);
	pump(a, &u);
	CHECK(swim_user_event(a, "deploy", (const uint8_t *)"v2", 2) == 0);
	pump(a, &u);
	CHECK(count_events(&u, SWIM_EV_USER, NULL) == 1);
	swim_tick(a, 1000); /* gossip carries it */
	pump(a, &u);
	for (i = 0; i < u.n_sends && !ev; i++) {
		struct swim_msg *sm = &u.sends[i].msg;
		for (uint16_t k = 0; k < sm->n_updates; k++)
			if (sm->updates[k].type == SWIM_UP_USER_EVENT)
				ev = &sm->updates[k];
	}
	CHECK(ev != NULL && ev->u.user.payload_len == 2 &&
	    memcmp(ev->u.user.payload, "v2", 2) == 0);
	memset(&m, 0, sizeof(m));
	m.type = SWIM_MSG_GOSSIP;
	m.updates = ev;
	m.n_updates = 1;
	CHECK(swim_recv(b, &u.sends[0].to, &m, 1001) == 0);
	CHECK(swim_recv(b, &u.sends[0].to, &m, 1002) == 0); /* duplicate */
	pump(b, &ub);
	CHECK(count_events(&ub, SWIM_EV_USER, NULL) == 1);
	CHECK(strcmp(ub.events[0].name, "deploy") == 0 &&
	    ub.events[0].meta_len == 2);
	swim_update_free(&u);
	swim_update_free(&ub);
	swim_free(a);
	swim_free(b);
	printf("ok   case %s\n", cur);
}

static void
case_force_leave_reap(void)
{
	struct swim_config cfg = swim_config_lan();
	struct swim *a;
	struct swim_update u = {0};
	struct swim_member_view v;
	struct swim_upd up;
	struct swim_msg m;
	struct swim_addr from = addr_of(2);
	struct swim_counts cn;
	uint32_t queued;
	uint64_t t;

	cur = "force-leave, prune, reap";
	cfg.reconnect_timeout_ms = 60000;
	CHECK((a = mk(1, &cfg)) != NULL);
	swim_tick(a, 0);
	feed_alive(a, 2, 1, 0);
	feed_alive(a, 3, 1, 0);
	feed_alive(a, 4, 1, 0);
	memset(&up, 0, sizeof(up));
	memset(&m, 0, sizeof(m));
	up.type = SWIM_UP_DEAD;
	strcpy(up.u.dead.node, "c3");
	strcpy(up.u.dead.from, "c2");
	up.u.dead.incarnation = 1;
	m.type = SWIM_MSG_GOSSIP;
	m.updates = &up;
	m.n_updates = 1;
	CHECK(swim_recv(a, &from, &m, 10) == 0);
	strcpy(up.u.dead.node, "c4");
	CHECK(swim_recv(a, &from, &m, 10) == 0);
	pump(a, &u);
	CHECK(count_events(&u, SWIM_EV_FAILED, "c3") == 1);
	CHECK(swim_member_get(a, "c3", &v) == 0 &&
	    v.status == SWIM_STATUS_FAILED);
	CHECK(swim_force_leave(a, "c3", false) == 0);
	pump(a, &u);
	CHECK(count_events(&u, SWIM_EV_LEFT, "c3") == 1);
	CHECK(swim_member_get(a, "c3", &v) == 0 &&
	    v.status == SWIM_STATUS_LEFT);
	CHECK(swim_force_leave(a, "c4", true) == 0);
	pump(a, &u);
	CHECK(count_events(&u, SWIM_EV_REAPED, "c4") == 1);
	CHECK(swim_member_get(a, "c4", &v) == ERR_NOTFOUND);
	/* -prune of a member already left forgets it too, and queues the
	 * prune for the others although the member is gone here */
	feed_alive(a, 5, 1, 0);
	CHECK(swim_force_leave(a, "c5", false) == 0);
	pump(a, &u);
	CHECK(swim_member_get(a, "c5", &v) == 0 &&
	    v.status == SWIM_STATUS_LEFT);
	swim_counts_get(a, &cn);
	queued = cn.queued;
	CHECK(swim_force_leave(a, "c5", true) == 0);
	pump(a, &u);
	swim_counts_get(a, &cn);
	CHECK(cn.queued == queued);
	CHECK(count_events(&u, SWIM_EV_REAPED, "c5") == 1);
	CHECK(swim_member_get(a, "c5", &v) == ERR_NOTFOUND);
	/* the left tombstone c3 is reaped after reconnect_timeout */
	for (t = 20; t < 100000; t += 1000) {
		swim_tick(a, t);
		pump(a, &u);
		if (count_events(&u, SWIM_EV_REAPED, "c3"))
			break;
	}
	CHECK(t >= 60000 && t < 60000 + cfg.reap_interval_ms + 1000);
	CHECK(swim_member_get(a, "c3", &v) == ERR_NOTFOUND);
	swim_update_free(&u);
	swim_free(a);
	printf("ok   case %s\n", cur);
}

static void
case_tags_and_self(void)
{
	struct swim_config cfg = swim_config_lan();
	struct swim *a = mk(1, &cfg), *b = mk(2, &cfg);
	struct swim_update u = {0}, ub = {0};
	struct swim_member_view v;
	struct swim_send *g;
	struct swim_upd up;
	struct swim_msg m;

	cur = "tags, self refute, lone leave";
	CHECK(a && b);
	swim_tick(a, 0);
	swim_tick(b, 0);
	feed_alive(a, 2, 1, 0);
	feed_alive(b, 1, 1, 0);
	pump(a, &u);
	CHECK(swim_set_tags(a, (const uint8_t *)"v2-tags", 7) == 0);
	swim_tick(a, 1000);
	pump(a, &u);
	CHECK((g = find_send(&u, SWIM_MSG_GOSSIP, 2)) != NULL ||
	    (g = find_send(&u, SWIM_MSG_PING, 2)) != NULL);
	CHECK(swim_recv(b, &g->to, &g->msg, 1001) == 0);
	pump(b, &ub);
	CHECK(count_events(&ub, SWIM_EV_UPDATE, "c1") == 1);
	CHECK(swim_member_get(b, "c1", &v) == 0 && v.meta_len == 7 &&
	    memcmp(v.meta, "v2-tags", 7) == 0 && v.incarnation == 2);
	/* a stale claim about us with other tags is refuted */
	memset(&up, 0, sizeof(up));
	memset(&m, 0, sizeof(m));
	up.type = SWIM_UP_ALIVE;
	strcpy(up.u.alive.node, "c1");
	up.u.alive.addr = addr_of(9);
	up.u.alive.incarnation = 5;
	m.type = SWIM_MSG_GOSSIP;
	m.updates = &up;
	m.n_updates = 1;
	CHECK(swim_recv(a, &g->to, &m, 1100) == 0);
	CHECK(swim_member_get(a, "c1", &v) == 0 && v.incarnation == 6);
	/* a lone member's leave is done at once */
	swim_free(b);
	b = mk(3, &cfg);
	CHECK(b != NULL && swim_leave(b) == 0);
	pump(b, &ub);
	CHECK(count_events(&ub, SWIM_EV_LEAVE_DONE, NULL) == 1);
	CHECK(swim_leave(b) == ERR_CLOSED);
	swim_update_free(&u);
	swim_update_free(&ub);
	swim_free(a);
	swim_free(b);
	printf("ok   case %s\n", cur);
}

/* Push/pull: a join gets the full state back; remote dead members are
 * learnt as failed (never joined), a remote claim that we are dead is
 * refuted, and the reply floor hides older user events. */
static void
case_push_pull(void)
{
	struct swim_config cfg = swim_config_lan();
	struct swim *a = mk(1, &cfg);
	struct swim_update u = {0};
	struct swim_pp_member pm[3];
	struct swim_msg m;
	struct swim_send *pp;
	struct swim_member_view v;
	struct swim_addr seed = addr_of(2);

	cur = "push/pull join and merge";
	CHECK(a != NULL);
	swim_tick(a, 0);
	CHECK(swim_join(a, &seed) == 0);
	pump(a, &u);
	CHECK((pp = find_send(&u, SWIM_MSG_PUSH_PULL, 2)) != NULL &&
	    pp->transport == SWIM_TCP && pp->msg.u.pp.join &&
	    !pp->msg.u.pp.reply && pp->msg.u.pp.n_members == 1);
	memset(pm, 0, sizeof(pm));
	strcpy(pm[0].node, "c2");
	pm[0].addr = addr_of(2);
	pm[0].incarnation = 3;
	pm[0].state = SWIM_STATE_ALIVE;
	strcpy(pm[1].node, "c5");
	pm[1].addr = addr_of(5);
	pm[1].incarnation = 2;
	pm[1].state = SWIM_STATE_DEAD;
	strcpy(pm[2].node, "c1");
	pm[2].addr = addr_of(1);
	pm[2].incarnation = 4;
	pm[2].state = SWIM_STATE_DEAD;
	memset(&m, 0, sizeof(m));
	m.type = SWIM_MSG_PUSH_PULL;
	m.u.pp.join = m.u.pp.reply = true;
	m.u.pp.event_ltime = 50;
	m.u.pp.event_seen = 40;
	m.u.pp.members = pm;
	m.u.pp.n_members = 3;
	CHECK(swim_recv(a, &seed, &m, 10) == 0);
	pump(a, &u);
	CHECK(find_send(&u, SWIM_MSG_PUSH_PULL, 2) == NULL); /* a reply */
	CHECK(count_events(&u, SWIM_EV_JOIN, "c2") == 1);
	CHECK(count_events(&u, SWIM_EV_FAILED, "c5") == 1);
	CHECK(count_events(&u, SWIM_EV_JOIN, "c5") == 0);
	CHECK(swim_member_get(a, "c5", &v) == 0 &&
	    v.status == SWIM_STATUS_FAILED);
	CHECK(swim_member_get(a, "c1", &v) == 0 && v.incarnation == 5 &&
	    v.state == SWIM_STATE_ALIVE);
	CHECK(swim_health_score(a) == 1);
	/* the join floor: events before the target's newest are old */
	{
		struct swim_upd ue;
		struct swim_msg g;
		memset(&ue, 0, sizeof(ue));
		memset(&g, 0, sizeof(g));
		ue.type = SWIM_UP_USER_EVENT;
		strcpy(ue.u.user.name, "old");
		ue.u.user.ltime = 39;
		g.type = SWIM_MSG_GOSSIP;
		g.updates = &ue;
		g.n_updates = 1;
		CHECK(swim_recv(a, &seed, &g, 15) == 0);
		ue.u.user.ltime = 40;
		strcpy(ue.u.user.name, "new");
		CHECK(swim_recv(a, &seed, &g, 15) == 0);
		pump(a, &u);
		CHECK(count_events(&u, SWIM_EV_USER, NULL) == 1 &&
		    strcmp(u.events[0].name, "new") == 0);
	}
	/* an incoming (non-reply) push/pull is answered over TCP */
	m.u.pp.reply = false;
	CHECK(swim_recv(a, &seed, &m, 20) == 0);
	pump(a, &u);
	CHECK((pp = find_send(&u, SWIM_MSG_PUSH_PULL, 2)) != NULL &&
	    pp->msg.u.pp.reply && pp->msg.u.pp.n_members == 3);
	/* leaving: the leave is pushed over TCP, with us as left */
	CHECK(swim_leave(a) == 0);
	pump(a, &u);
	CHECK((pp = find_send(&u, SWIM_MSG_PUSH_PULL, 2)) != NULL &&
	    pp->transport == SWIM_TCP);
	{
		uint32_t k;
		for (k = 0; k < pp->msg.u.pp.n_members; k++)
			if (strcmp(pp->msg.u.pp.members[k].node, "c1") == 0)
				break;
		CHECK(k < pp->msg.u.pp.n_members &&
		    pp->msg.u.pp.members[k].state == SWIM_STATE_LEFT);
	}
	CHECK(swim_member_get(a, "c1", &v) == 0 &&
	    v.status == SWIM_STATUS_LEAVING);
	swim_update_free(&u);
	swim_free(a);
	printf("ok   case %s\n", cur);
}

/* Periodic push/pull with n members: memberlist's pushPullScale,
 * 30 s x (ceil(log2 n - log2 32) + 1) above 32 members, so 210 s at
 * 2,000 (the bench's TCP bytes per member follow from it), 30 s at 20. */
static uint64_t
pp_gap(int n_members)
{
	struct swim_config cfg = swim_config_lan();
	struct swim *a = mk(1, &cfg);
	struct swim_update u = {0};
	struct swim_pp_member *pm = calloc(n_members, sizeof(*pm));
	struct swim_msg m;
	struct swim_addr seed = addr_of(2);
	uint64_t t, last = 0, gap = 0;
	size_t k;
	int i;

	if (a == NULL || pm == NULL)
		goto out;
	swim_tick(a, 0);
	for (i = 0; i < n_members; i++) {
		snprintf(pm[i].node, sizeof(pm[i].node), "c%d", i + 2);
		pm[i].addr = addr_of(0);
		pm[i].addr.ip[13] = (uint8_t)((i + 2) >> 8);
		pm[i].addr.ip[14] = (uint8_t)(i + 2);
		pm[i].incarnation = 1;
		pm[i].state = SWIM_STATE_ALIVE;
	}
	memset(&m, 0, sizeof(m));
	m.type = SWIM_MSG_PUSH_PULL;
	m.u.pp.reply = true;
	m.u.pp.members = pm;
	m.u.pp.n_members = (uint32_t)n_members;
	if (swim_recv(a, &seed, &m, 1) != 0)
		goto out;
	for (t = 100; t < 1000000 && gap == 0; t += 100) {
		swim_tick(a, t);
		pump(a, &u);
		ack_pings(a, &u, t);
		for (k = 0; k < u.n_sends; k++) {
			if (u.sends[k].msg.type != SWIM_MSG_PUSH_PULL ||
			    u.sends[k].msg.u.pp.reply)
				continue;
			if (last != 0)
				gap = t - last;
			last = t;
		}
	}
out:
	swim_update_free(&u);
	swim_free(a);
	free(pm);
	return gap;
}

static void
case_push_pull_scale(void)
{
	cur = "push/pull period scales with log2 n";
	CHECK(pp_gap(19) == 30000);
	CHECK(pp_gap(99) == 30000 * 3);	    /* ceil(6.64 - 5) + 1 */
	CHECK(pp_gap(1999) == 30000 * 7);   /* ceil(10.97 - 5) + 1 */
	printf("ok   case %s\n", cur);
}

/* Feeds a join-less push/pull reply with members c2 .. c(n+1). */
static int
feed_members(struct swim *a, int n, uint64_t now)
{
	struct swim_pp_member *pm = calloc(n, sizeof(*pm));
	struct swim_msg m;
	struct swim_addr seed = addr_of(2);
	int i, rc;

	if (pm == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(pm[i].node, sizeof(pm[i].node), "c%d", i + 2);
		pm[i].addr = addr_of(0);
		pm[i].addr.ip[13] = (uint8_t)((i + 2) >> 8);
		pm[i].addr.ip[14] = (uint8_t)(i + 2);
		pm[i].incarnation = 1;
		pm[i].state = SWIM_STATE_ALIVE;
	}
	memset(&m, 0, sizeof(m));
	m.type = SWIM_MSG_PUSH_PULL;
	m.u.pp.reply = true;
	m.u.pp.members = pm;
	m.u.pp.n_members = (uint32_t)n;
	rc = swim_recv(a, &seed, &m, now);
	free(pm);
	return rc;
}

static int
count_failed(const struct swim_update *u, int lo, int hi)
{
	size_t i;
	int n = 0;

	for (i = 0; i < u->n_events; i++)
		if (u->events[i].type == SWIM_EV_FAILED &&
		    u->events[i].node[0] == 'c' &&
		    atoi(u->events[i].node + 1) >= lo &&
		    atoi(u->events[i].node + 1) <= hi)
			n++;
	return n;
}

/* A partition's worth of suspicions expiring together: all declared
 * dead by the one tick after their deadline, none before it, and a
 * later batch still expires on time (the suspicion list is unhooked in
 * one pass and the next deadline kept without walking it). */
static void
case_mass_suspicion(void)
{
	struct swim_config cfg = swim_config_lan();
	struct swim *a = mk(1, &cfg);
	struct swim_update u = {0};
	struct swim_counts c;
	uint64_t max_ms, t0;
	int i;

	cur = "mass suspicion expiry";
	CHECK(a != NULL);
	swim_tick(a, 0);
	CHECK(feed_members(a, 300, 1) == 0);
	max_ms = cfg.suspicion_max_timeout_mult * (uint64_t)(
	    cfg.suspicion_mult * log10(301.0) * cfg.probe_interval_ms);
	for (i = 2; i <= 201; i++)
		feed_suspect(a, i, 280, 1, 1000);
	swim_counts_get(a, &c);
	CHECK(c.suspect == 200);
	swim_tick(a, 1000 + max_ms - 5);
	pump(a, &u);
	CHECK(count_failed(&u, 2, 201) == 0);
	swim_tick(a, 1000 + max_ms + 5);
	pump(a, &u);
	CHECK(count_failed(&u, 2, 201) == 200);
	swim_counts_get(a, &c);
	CHECK(c.failed == 200);
	t0 = 2000 + max_ms; /* 101 live now: a shorter timeout */
	max_ms = cfg.suspicion_max_timeout_mult * (uint64_t)(
	    cfg.suspicion_mult * log10(101.0) * cfg.probe_interval_ms);
	for (i = 202; i <= 251; i++)
		feed_suspect(a, i, 280, 1, t0);
	pump(a, &u);
	CHECK(u.next_deadline_ms <= t0 + max_ms);
	swim_tick(a, t0 + max_ms - 5);
	pump(a, &u);
	CHECK(count_failed(&u, 202, 251) == 0);
	swim_tick(a, t0 + max_ms + 5);
	pump(a, &u);
	CHECK(count_failed(&u, 202, 251) == 50);
	swim_update_free(&u);
	swim_free(a);
	printf("ok   case %s\n", cur);
}

/*
 * The core's own logarithms (gossipd links no libm) against libm's: the
 * integer results the protocol uses — retransmit scale, push/pull scale,
 * the suspicion minimum and the dynamic suspicion timeout in ms — are
 * identical over every n up to 100,000 and every confirmation count
 * (the timeout up to libm's rounding where the exact value is whole).
 */
static void
case_logs(void)
{
	static const uint64_t iv[] = { 200, 1000, 5000 };
	static const uint32_t mult[] = { 4, 5, 6 };
	uint64_t n, lo, hi;
	double a, b;
	uint32_t k, c, i, j;

	cur = "logarithms without libm";
	CHECK(swim_ceil_log(0, 10) == 0 && swim_ceil_log(1, 10) == 0);
	CHECK(swim_ceil_log(UINT64_MAX, 10) == 20);
	CHECK(swim_ceil_log(UINT64_MAX, 2) == 64);
	CHECK(swim_log10(1000) == 3.0 && swim_log10(1) == 0.0);
	for (n = 1; n <= 100000; n++) {
		CHECK(swim_ceil_log(n + 1, 10) ==
		    (uint32_t)ceil(log10((double)n + 1.0)));
		if (n > 32)
			CHECK(swim_ceil_log(n, 2) - 5 + 1 ==
			    (uint32_t)(ceil(log2((double)n) - log2(32.0)) + 1));
		a = swim_log10(n);
		b = log10((double)n);
		CHECK(fabs(a - b) <= 4e-16 * (b > 1.0 ? b : 1.0));
		a = swim_ln((double)n);
		b = log((double)n);
		CHECK(fabs(a - b) <= 4e-16 * (b > 1.0 ? b : 1.0));
		for (i = 0; i < 3; i++)
			for (j = 0; j < 3; j++)
				CHECK((uint64_t)(mult[j] * swim_log10(n) *
				    iv[i]) == (uint64_t)(mult[j] *
				    log10((double)n) * iv[i]));
	}
	/* Lifeguard: max - (max - min) * log(c + 1) / log(k + 1) */
	for (k = 1; k <= 32; k++)
		for (c = 0; c <= k; c++)
			for (lo = 4000; lo <= 60000; lo += 4000) {
				hi = 6 * lo;
				a = (double)hi - swim_ln(c + 1.0) /
				    swim_ln(k + 1.0) * (double)(hi - lo);
				b = (double)hi - log(c + 1.0) / log(k + 1.0) *
				    (double)(hi - lo);
				/* where the exact value is an integer (k = 26,
				 * c = 8: ln 9 / ln 27 = 2/3) libm's lands just
				 * below it; ours may be exact */
				CHECK((uint64_t)a == (uint64_t)floor(b) ||
				    (fabs(b - round(b)) < 1e-6 &&
				    (uint64_t)a == (uint64_t)round(b)));
			}
}

int
swim_cases_run(void)
{
	failures = 0;
	case_bad_input();
	case_buddy_refute();
	case_dynamic_suspicion();
	case_awareness();
	case_nack();
	case_user_events();
	case_force_leave_reap();
	case_tags_and_self();
	case_push_pull();
	case_push_pull_scale();
	case_mass_suspicion();
	case_logs();
	return failures;
}
