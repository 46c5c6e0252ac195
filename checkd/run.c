/*
 * run.c — drives every check from checkd's one loop: the interval checks
 * through sched.c's heap and one loop timer armed at its earliest entry,
 * TTL checks through their expiry timers, alias checks on every status
 * change, and the DeregisterCriticalServiceAfter reaper every 30 s.
 *
 * Key decision: no thread and no process per check; a run in flight is a
 * handle of its kind (a curl easy handle, a socket, a child process) and
 * its result comes back through run_result(). A heap entry names a check
 * by its serial number, which changes whenever the check is rescheduled,
 * so stale entries of removed or restarted checks are simply skipped.
 * The next run is due one interval after the previous one finished, and
 * the first one after a random part of the interval, as Consul does.
 * Reference: Consul agent/checks/check.go, agent/agent.go reapServices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "checkd.h"
#include "err.h"
#include "log.h"
#include "loop.h"

static void run_arm(struct checkd *cd);

static uint64_t
run_rand(void)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint64_t)random();
	return r;
}

/*
 * serial -> check, open addressing with linear probing and backward-shift
 * deletion: a due heap entry finds its check in O(1), not by a scan of
 * every check (thousands of checks per agent).
 */
struct run_slot {
	uint64_t serial; /* 0 = empty */
	struct chk *c;
};

static struct run_slot *run_tab;
static size_t run_cap, run_n;

static size_t
run_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k & (run_cap - 1);
}

static int
run_tab_put(uint64_t serial, struct chk *c)
{
	size_t i;

	if ((run_n + 1) * 2 > run_cap) {
		struct run_slot *old = run_tab;
		size_t oc = run_cap, j;

		run_cap = run_cap ? run_cap * 2 : 256;
		if ((run_tab = calloc(run_cap, sizeof(*run_tab))) == NULL) {
			run_tab = old;
			run_cap = oc;
			return ERR_NOMEM;
		}
		run_n = 0;
		for (j = 0; j < oc; j++)
			if (old[j].serial != 0)
				run_tab_put(old[j].serial, old[j].c);
		free(old);
	}
	for (i = run_hash(serial); run_tab[i].serial != 0;
	    i = (i + 1) & (run_cap - 1))
		;
	run_tab[i].serial = serial;
	run_tab[i].c = c;
	run_n++;
	return 0;
}

static void
run_tab_del(uint64_t serial)
{
	size_t i, j, h;

	if (run_cap == 0)
		return;
	for (i = run_hash(serial); run_tab[i].serial != serial;
	    i = (i + 1) & (run_cap - 1))
		if (run_tab[i].serial == 0)
			return;
	run_tab[i].serial = 0;
	run_n--;
	for (j = (i + 1) & (run_cap - 1); run_tab[j].serial != 0;
	    j = (j + 1) & (run_cap - 1)) {
		h = run_hash(run_tab[j].serial);
		/* move j back to i unless its home lies cyclically in (i, j] */
		if ((j > i && (h <= i || h > j)) ||
		    (j < i && (h <= i && h > j))) {
			run_tab[i] = run_tab[j];
			run_tab[j].serial = 0;
			i = j;
		}
	}
}

static struct chk *
run_find(struct checkd *cd, uint64_t serial)
{
	size_t i;

	(void)cd;
	if (run_cap == 0)
		return NULL;
	for (i = run_hash(serial); run_tab[i].serial != 0;
	    i = (i + 1) & (run_cap - 1))
		if (run_tab[i].serial == serial)
			return run_tab[i].c;
	return NULL;
}

static bool
run_interval_kind(int type)
{
	return type == CT_HTTP || type == CT_TCP || type == CT_UDP ||
	    type == CT_SCRIPT || type == CT_GRPC;
}

static void
run_launch(struct checkd *cd, struct chk *c)
{
	int rc = ERR_UNSUPPORTED;

	c->started_ms = loop_now_ms(cd->loop);
	switch (c->type) {
	case CT_HTTP:
	case CT_GRPC:
		rc = check_http_start(cd, c);
		break;
	case CT_TCP:
		rc = check_tcp_start(cd, c);
		break;
	case CT_UDP:
		rc = check_udp_start(cd, c);
		break;
	case CT_SCRIPT:
		rc = check_script_start(cd, c);
		break;
	}
	if (rc != 0) {
		char *out = NULL;
		if (asprintf(&out, "check could not be started: %s",
		    err_str(rc)) < 0)
			out = NULL;
		run_result(cd, c, CHECK_CRITICAL, out);
	}
}

static void
run_due(struct loop *l, void *arg)
{
	struct checkd *cd = arg;
	struct sched_ent e;
	struct chk *c;
	uint64_t now = loop_now_ms(l);

	cd->sched_timer = 0;
	while (sched_peek(&cd->sched, &e) && e.due_ms <= now) {
		sched_pop(&cd->sched, &e);
		if ((c = run_find(cd, e.key)) == NULL || c->run != NULL)
			continue;
		run_launch(cd, c);
	}
	run_arm(cd);
}

static void
run_arm(struct checkd *cd)
{
	struct sched_ent e;
	uint64_t now = loop_now_ms(cd->loop);

	if (!sched_peek(&cd->sched, &e))
		return;
	if (cd->sched_timer != 0 && cd->sched_timer_due <= e.due_ms)
		return;
	if (cd->sched_timer != 0)
		loop_timer_cancel(cd->loop, cd->sched_timer);
	cd->sched_timer_due = e.due_ms;
	cd->sched_timer = loop_timer_add(cd->loop,
	    e.due_ms > now ? e.due_ms - now : 0, run_due, cd);
}

static void
run_push(struct checkd *cd, struct chk *c, uint64_t due)
{
	if (c->serial == 0)
		return; /* stopped */
	if (sched_push(&cd->sched, due, c->serial) != 0) {
		log_warnx("check %s: cannot schedule (out of memory)", c->id);
		return;
	}
	run_arm(cd);
}

void
run_stop(struct checkd *cd, struct chk *c)
{
	if (c->run != NULL) {
		switch (c->type) {
		case CT_HTTP:
		case CT_GRPC:
			check_http_cancel(cd, c);
			break;
		case CT_TCP:
			check_tcp_cancel(cd, c);
			break;
		case CT_UDP:
			check_udp_cancel(cd, c);
			break;
		case CT_SCRIPT:
			check_script_cancel(cd, c);
			break;
		}
		c->run = NULL;
	}
	check_ttl_cancel(cd, c);
	if (c->serial != 0)
		run_tab_del(c->serial);
	c->serial = 0; /* orphans its heap entries */
}

void
run_start(struct checkd *cd, struct chk *c)
{
	uint64_t now = loop_now_ms(cd->loop);

	run_stop(cd, c);
	c->thr.successes = c->thr.failures = 0;
	c->serial = ++cd->next_serial;
	if (run_tab_put(c->serial, c) != 0) {
		log_warnx("check %s: cannot schedule (out of memory)", c->id);
		c->serial = 0;
		return;
	}
	if (run_interval_kind(c->type))
		run_push(cd, c, sched_first_due(now, c->interval_ms,
		    run_rand()));
	else if (c->type == CT_TTL)
		check_ttl_arm(cd, c);
	else if (c->type == CT_ALIAS)
		check_alias_eval(cd, c);
}

void
run_result(struct checkd *cd, struct chk *c, int result, char *output)
{
	int status;

	c->run = NULL;
	if (sched_thr_result(&c->lim, &c->thr, result, &status))
		local_set_status(cd, c, status, output);
	else
		free(output);
	/* local_set_status may have removed nothing: c is still ours */
	run_push(cd, c, sched_next_due(loop_now_ms(cd->loop),
	    loop_now_ms(cd->loop), c->interval_ms));
}

void
run_alias_update(struct checkd *cd)
{
	static int depth;
	struct chk *c;

	/* an alias of an alias converges in a few rounds; cap the depth;
	 * most agents have no alias check: no scan of every check then */
	if (depth > 4 || cd->n_alias == 0)
		return;
	depth++;
	for (c = cd->chks; c != NULL; c = c->next)
		if (c->type == CT_ALIAS)
			check_alias_eval(cd, c);
	depth--;
}

/* DeregisterCriticalServiceAfter: remove services critical too long. */
static void
run_reap(struct loop *l, void *arg)
{
	struct checkd *cd = arg;
	uint64_t now = loop_now_ms(l);
	struct chk *c;
	bool again = true;

	while (again) {
		again = false;
		for (c = cd->chks; c != NULL; c = c->next) {
			if (c->deregister_ms == 0 || *c->service_id == '\0' ||
			    c->status != CHECK_CRITICAL ||
			    c->critical_since_ms == 0 ||
			    now - c->critical_since_ms < c->deregister_ms)
				continue;
			log_info("check %s critical for too long: "
			    "deregistering service %s", c->id, c->service_id);
			char *sid = strdup(c->service_id);
			if (sid != NULL) {
				local_remove_service(cd, sid);
				free(sid);
				again = true;
				break;
			}
		}
	}
	cd->reap_timer = loop_timer_add(l, CHECK_REAP_INTERVAL_MS, run_reap,
	    cd);
}

void
run_init(struct checkd *cd)
{
	sched_init(&cd->sched);
	cd->reap_timer = loop_timer_add(cd->loop, CHECK_REAP_INTERVAL_MS,
	    run_reap, cd);
}

void
run_fini(struct checkd *cd)
{
	if (cd->sched_timer != 0)
		loop_timer_cancel(cd->loop, cd->sched_timer);
	if (cd->reap_timer != 0)
		loop_timer_cancel(cd->loop, cd->reap_timer);
	sched_free(&cd->sched);
	free(run_tab);
	run_tab = NULL;
	run_cap = run_n = 0;
}
