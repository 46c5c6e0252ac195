/*
 * gossipd.c — main of gossipd, the gossip role (DESIGN.md §1; spec §6.4):
 * the LAN pool on bind_addr:serf_lan for every agent and, on servers, the
 * WAN pool on serf_wan with member names <node>.<dc>; member events are
 * published on <runtime_dir>/gossipd.events and requests served on
 * <runtime_dir>/gossipd.rpc.
 *
 * usage: gossipd [-n] [Consul agent flags]
 *   -n   check the configuration and exit: 0 valid, 2 invalid.
 * Exit status: 0 after a clean stop or a graceful leave, 1 on a runtime
 * failure (a port in use), 2 on bad usage/configuration.
 *
 * Signals: SIGTERM leaves the cluster first when leave_on_terminate
 * (clients' default), SIGINT unless skip_leave_on_interrupt (servers'
 * default); otherwise they stop at once and the others see this node
 * fail. SIGHUP re-reads the configuration (reload.h).
 *
 * Reference: consul agent/agent.go (Start, Leave, ShutdownAgent),
 * agent/consul/server_serf.go and client_serf.go, OpenBSD bgpd.c (shape).
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "err.h"
#include "gossipd.h"
#include "log.h"
#include "loop.h"
#include "nodeid.h"
#include "reload.h"

#define GOSSIPD_LEAVE_MAX_MS 5000

static void
gossipd_leave_timeout(struct loop *l, void *arg)
{
	struct gossipd *g = arg;

	(void)l;
	g->leave_timer = 0;
	log_warnx("gossipd: leave not confirmed in time: stopping anyway");
	rpc_leave_finish(g);
}

void
gossipd_leave(struct gossipd *g)
{
	if (g->leaving)
		return;
	g->leaving = true;
	log_info("gossipd: leaving the cluster");
	join_retry_stop(g);
	persist_leave(g);
	g->leave_timer = loop_timer_add(g->loop, GOSSIPD_LEAVE_MAX_MS,
	    gossipd_leave_timeout, g);
	if (g->have_wan) {
		swim_leave(g->wan.swim);
		pool_flush(&g->wan);
	}
	swim_leave(g->lan.swim);
	pool_flush(&g->lan);
}

static void
gossipd_on_signal(struct loop *l, int signo, void *arg)
{
	struct gossipd *g = arg;
	bool leave = signo == SIGTERM ? g->cfg->leave_on_terminate :
	    !g->cfg->skip_leave_on_interrupt;

	log_info("gossipd: signal %d: %s", signo, leave ? "leaving" :
	    "stopping");
	daemon_notify_stopping();
	if (leave && !g->leaving)
		gossipd_leave(g);
	else if (!leave || g->left)
		loop_stop(l);
}

static int
gossipd_start(struct gossipd *g)
{
	const struct config *c = g->cfg;
	const char *adv = *c->advertise_addr ? c->advertise_addr : c->bind_addr;
	uint8_t meta[SWIM_META_MAX];
	char wname[SWIM_NAME_MAX + 1];
	int n, rc;

	if ((rc = daemon_mkdirs(c->runtime_dir, 0700)) != 0)
		return rc;
	if ((rc = node_id_ensure(c->data_dir, c->node_id, g->node_id,
	    sizeof(g->node_id))) != 0) {
		log_warnx("gossipd: node id: %s", err_str(rc));
		return rc;
	}
	if ((rc = persist_open(g)) != 0)
		log_warnx("gossipd: snapshot directory: %s", err_str(rc));
	if ((rc = rpc_open(g)) != 0) {
		log_warnx("gossipd: ipc: %s", err_str(rc));
		return rc;
	}
	if ((n = tags_build(g, false, meta, sizeof(meta))) < 0)
		return n;
	if ((rc = pool_open(g, &g->lan, false, c->node_name, c->bind_addr,
	    adv, c->ports.serf_lan, meta, (uint16_t)n)) != 0)
		return rc;
	if (c->server && c->ports.serf_wan > 0) {
		const char *wadv = c->advertise_addr_wan &&
		    *c->advertise_addr_wan ? c->advertise_addr_wan : adv;

		snprintf(wname, sizeof(wname), "%s.%s", c->node_name,
		    c->datacenter);
		if ((n = tags_build(g, true, meta, sizeof(meta))) < 0)
			return n;
		if ((rc = pool_open(g, &g->wan, true, wname, c->bind_addr,
		    wadv, c->ports.serf_wan, meta, (uint16_t)n)) != 0)
			return rc;
		g->have_wan = true;
	}
	join_retry_start(g);
	return 0;
}

/*
 * Gives the pages malloc keeps after a burst (a join storm queues an
 * update per member per member) back to the system; glibc only trims the
 * top of the heap by itself. Every GOSSIPD_TRIM_MS, on the loop.
 */
#define GOSSIPD_TRIM_MS 30000

static void
gossipd_trim(struct loop *l, void *arg)
{
	(void)arg;
	malloc_trim(0);
	loop_timer_add(l, GOSSIPD_TRIM_MS, gossipd_trim, NULL);
}

/*
 * Lets the TCP threads finish before the loop is freed: each posts its
 * result into the loop. Waits for them, then runs the loop for one more
 * pass so that their results reach the pools (which free the jobs), until
 * none is left or GOSSIPD_DRAIN_MS have passed. Returns true when none is
 * left; false when a peer still holds a thread (it may wait for its TCP
 * timeout): the loop then stays allocated until the process exits.
 */
#define GOSSIPD_DRAIN_MS 1000

static void
gossipd_drain_stop(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

static bool
gossipd_drain(struct gossipd *g)
{
	uint64_t now, end = loop_clock_ms() + GOSSIPD_DRAIN_MS;

	for (;;) {
		now = loop_clock_ms();
		if (!net_threads_wait(end > now ? (uint32_t)(end - now) : 0))
			return false;
		if (g->lan.tcp_inflight == 0 && g->wan.tcp_inflight == 0)
			return true;
		if (loop_clock_ms() >= end ||
		    loop_timer_add(g->loop, 0, gossipd_drain_stop, NULL) == 0 ||
		    loop_run(g->loop) != 0)
			return false;
	}
}

int
main(int argc, char *argv[])
{
	struct gossipd g;
	struct config cfg;
	bool check, drained;
	int rc;

	if ((rc = daemon_config("gossipd", &argc, argv, &cfg, &check)) != 0)
		return rc;
	if (*cfg.runtime_dir == '\0' || *cfg.data_dir == '\0') {
		fprintf(stderr, "gossipd: data_dir is unset: use -data-dir "
		    "DIR\n");
		config_free(&cfg);
		return 2;
	}
	if (check) {
		config_free(&cfg);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	/* one malloc arena: the short-lived TCP threads would each get
	 * their own (up to 8 per core), whose touched pages stay resident
	 * (gossipd RSS at 1,000 members, bench/gossip/rss.py) */
	mallopt(M_ARENA_MAX, 1);
	memset(&g, 0, sizeof(g));
	g.cfg = &cfg;
	g.lan.udp_fd = g.lan.tcp_fd = g.wan.udp_fd = g.wan.tcp_fd = -1;
	if ((g.loop = loop_new()) == NULL)
		fatalx("cannot create the event loop");
	if (loop_signal(g.loop, SIGINT, gossipd_on_signal, &g) != 0 ||
	    loop_signal(g.loop, SIGTERM, gossipd_on_signal, &g) != 0 ||
	    reload_install(g.loop, argc, argv, NULL, NULL) != 0)
		fatalx("cannot watch signals");
	if ((rc = gossipd_start(&g)) == 0) {
		daemon_notify_status("gossip on %s:%d", cfg.bind_addr,
		    cfg.ports.serf_lan);
		daemon_notify_ready();
		if (daemon_watchdog_start(g.loop) < 0)
			log_warnx("gossipd: cannot arm the systemd watchdog");
		loop_timer_add(g.loop, GOSSIPD_TRIM_MS, gossipd_trim, NULL);
		rc = loop_run(g.loop);
	} else {
		log_warnx("gossipd: cannot start: %s", err_str(rc));
		rc = 1;
	}
	join_retry_stop(&g);
	drained = gossipd_drain(&g);
	persist_close(&g);
	events_free(&g);
	rpc_close(&g);
	pool_close(&g.wan);
	pool_close(&g.lan);
	if (drained)
		loop_free(g.loop);
	else
		log_debug("gossipd: a TCP exchange is still running at exit");
	config_free(&cfg);
	return rc == 0 ? 0 : 1;
}
