/*
 * join.c — joining a pool through given addresses (the join RPC,
 * -join/start_join, -retry-join and the snapshot's addresses at start).
 *
 * Key decision: every address is resolved (an IP, host:port, [v6]:port
 * or a DNS name, with this agent's serf port as the default) and each
 * result gets a TCP push/pull join; the join counts the nodes that
 * answered, as serf's Join does. Retry join repeats the whole list every
 * retry_interval until one node answers or retry_max attempts failed.
 * Reference: consul agent/retry_join.go, serf serf.go (Join), spec §6.4.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "gossipd.h"
#include "log.h"
#include "loop.h"

#define JOIN_MAX_RESOLVED 16

struct join_ctx {
	struct pool *p;
	int pending;
	int ok;
	join_done_cb cb;
	void *arg;
	char err[256];
};

int pool_join_addr(struct pool *p, const struct swim_addr *a,
    struct join_ctx *j);

static void
join_finish(struct join_ctx *j)
{
	if (--j->pending > 0)
		return;
	j->cb(j->arg, j->ok, j->ok > 0 ? NULL : j->err);
	free(j);
}

void
join_tcp_result(struct join_ctx *j, bool ok)
{
	if (ok)
		j->ok++;
	else if (j->err[0] == '\0')
		snprintf(j->err, sizeof(j->err),
		    "1 error occurred:\n\t* Failed to join: connection failed"
		    "\n\n");
	join_finish(j);
}

int
join_start(struct pool *p, char **addrs, size_t n, join_done_cb cb,
    void *arg)
{
	struct join_ctx *j;
	struct swim_addr res[JOIN_MAX_RESOLVED];
	int port = p->wan ? p->g->cfg->ports.serf_wan :
	    p->g->cfg->ports.serf_lan;
	size_t i;
	int k, got;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return ERR_NOMEM;
	j->p = p;
	j->cb = cb;
	j->arg = arg;
	j->pending = 1; /* held until every address is started */
	for (i = 0; i < n; i++) {
		got = net_resolve(addrs[i], port, res, JOIN_MAX_RESOLVED);
		if (got <= 0) {
			snprintf(j->err, sizeof(j->err),
			    "1 error occurred:\n\t* Failed to resolve %s: "
			    "lookup failed\n\n", addrs[i]);
			continue;
		}
		for (k = 0; k < got; k++) {
			if (swim_addr_eq(&res[k], &p->self)) {
				j->ok++; /* ourselves: serf counts it */
				continue;
			}
			j->pending++;
			if (pool_join_addr(p, &res[k], j) != 0)
				join_tcp_result(j, false);
		}
	}
	if (j->pending == 1 && j->ok == 0 && j->err[0] == '\0')
		snprintf(j->err, sizeof(j->err), "no address to join");
	join_finish(j);
	return 0;
}

static void join_retry_attempt(struct loop *l, void *arg);

static void
join_retry_done(void *arg, int joined, const char *err)
{
	struct pool *p = arg;
	const struct config *c = p->g->cfg;
	uint32_t max = p->wan ? c->retry_max_wan : c->retry_max;
	uint32_t iv = p->wan ? c->retry_interval_wan_ms : c->retry_interval_ms;

	if (joined > 0) {
		log_info("gossipd: %s join completed: %d nodes contacted",
		    p->wan ? "wan" : "lan", joined);
		return;
	}
	p->retry_attempts++;
	log_warnx("gossipd: %s join failed (attempt %u): %s",
	    p->wan ? "wan" : "lan", p->retry_attempts, err ? err : "");
	if (max > 0 && p->retry_attempts >= max) {
		log_warnx("gossipd: retry_join%s: max attempts reached",
		    p->wan ? "_wan" : "");
		return;
	}
	p->retry_timer = loop_timer_add(p->g->loop, iv ? iv : 30000,
	    join_retry_attempt, p);
}

static void
join_retry_attempt(struct loop *l, void *arg)
{
	struct pool *p = arg;

	(void)l;
	p->retry_timer = 0;
	if (p->g->leaving)
		return;
	if (join_start(p, p->retry_addrs, p->n_retry, join_retry_done, p) !=
	    0)
		join_retry_done(p, 0, "out of memory");
}

static int
join_add(struct pool *p, const char *a)
{
	char **v;

	for (size_t i = 0; i < p->n_retry; i++)
		if (strcmp(p->retry_addrs[i], a) == 0)
			return 0;
	if ((v = realloc(p->retry_addrs, (p->n_retry + 1) * sizeof(*v))) ==
	    NULL)
		return ERR_NOMEM;
	p->retry_addrs = v;
	if ((v[p->n_retry] = strdup(a)) == NULL)
		return ERR_NOMEM;
	p->n_retry++;
	return 0;
}

void
join_retry_start(struct gossipd *g)
{
	char **snap = NULL;
	size_t ns = 0, i;
	bool left = false;

	for (i = 0; i < g->cfg->start_join.n; i++)
		join_add(&g->lan, g->cfg->start_join.v[i]);
	for (i = 0; i < g->cfg->retry_join.n; i++)
		join_add(&g->lan, g->cfg->retry_join.v[i]);
	if (persist_load(g, &snap, &ns, &left) == 0) {
		if (left && !g->cfg->rejoin_after_leave)
			log_info("gossipd: left the cluster last time: not "
			    "rejoining the %zu remembered members", ns);
		else
			for (i = 0; i < ns; i++)
				join_add(&g->lan, snap[i]);
		persist_addrs_free(snap, ns);
	}
	if (g->lan.n_retry > 0)
		g->lan.retry_timer = loop_timer_add(g->loop, 0,
		    join_retry_attempt, &g->lan);
	if (!g->have_wan)
		return;
	for (i = 0; i < g->cfg->retry_join_wan.n; i++)
		join_add(&g->wan, g->cfg->retry_join_wan.v[i]);
	if (g->wan.n_retry > 0)
		g->wan.retry_timer = loop_timer_add(g->loop, 0,
		    join_retry_attempt, &g->wan);
}

static void
join_retry_stop_pool(struct pool *p)
{
	if (p->g != NULL && p->retry_timer != 0)
		loop_timer_cancel(p->g->loop, p->retry_timer);
	p->retry_timer = 0;
	for (size_t i = 0; i < p->n_retry; i++)
		free(p->retry_addrs[i]);
	free(p->retry_addrs);
	p->retry_addrs = NULL;
	p->n_retry = 0;
}

void
join_retry_stop(struct gossipd *g)
{
	join_retry_stop_pool(&g->lan);
	join_retry_stop_pool(&g->wan);
}
