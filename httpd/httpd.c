/*
 * httpd.c — the HTTP API daemon's main: configuration, the loop, the
 * raftd client, the listener, signals.
 *
 * One thread owns everything (STYLE.md principle 1; OpenBSD bgpd.c
 * shape): config_load() with the same argv as every role, then the loop
 * runs until SIGINT/SIGTERM. Then the listener closes, blocking reads are
 * answered 503, new requests on open connections 503, and the writes and
 * reads already sent to raftd get their real answer (a drain, at most
 * rpc_hold_timeout plus slack): a graceful stop leaves no write with an
 * unknown outcome. A second signal stops at once. `-n` checks the
 * configuration and exits.
 * httpd keeps no state of its own (DESIGN.md §2), so it can be restarted
 * at any time; a random client id per start keeps raftd's write
 * deduplication correct across restarts (DESIGN.md §3).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>

#include "config.h"
#include "daemon.h"
#include "err.h"
#include "httpd.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "nodeid.h"
#include "reload.h"
#include "rpc.h"
#include "rpc_checkd.h"
#include "rpc_gossipd.h"
#include "server.h"

#define HTTPD_STOP_GRACE_MS 500

#define HTTPD_DRAIN_TICK_MS 10

/* Stops the loop once no call is in flight or the drain time is up. */
static void
httpd_drain_tick(struct loop *l, void *arg)
{
	struct httpd *h = arg;

	if (h->waiting == NULL || loop_now_ms(l) >= h->drain_deadline) {
		loop_stop(l);
		return;
	}
	if (loop_timer_add(l, HTTPD_DRAIN_TICK_MS, httpd_drain_tick, h) == 0)
		loop_stop(l);
}

static void
httpd_signal(struct loop *l, int signo, void *arg)
{
	struct httpd *h = arg;

	if (h->stopping) {
		loop_stop(l);
		return;
	}
	log_info("httpd: %s received, stopping", strsignal(signo));
	daemon_notify_stopping();
	h->stopping = true;
	server_quiesce(h->srv);
	rpc_cancel_blocking(h);
	h->drain_deadline = loop_now_ms(l) + rpc_write_timeout(h);
	httpd_drain_tick(l, h);
}

/* Our own connection limit needs file descriptors: raise the soft cap. */
static void
httpd_rlimit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("httpd: raising the open file limit");
	}
}

/* The node id: configured, or the one persisted in <data_dir>/node-id. */
static void
httpd_node_id(struct httpd *h)
{
	int rc;

	h->node_id[0] = '\0';
	if (*h->cfg->node_id == '\0' && *h->cfg->data_dir == '\0')
		return;
	if ((rc = daemon_mkdirs(h->cfg->data_dir, 0700)) != 0 ||
	    (rc = node_id_ensure(h->cfg->data_dir, h->cfg->node_id, h->node_id,
	    sizeof(h->node_id))) != 0) {
		log_warnx("httpd: node id in %s: %s", h->cfg->data_dir,
		    err_str(rc));
		h->node_id[0] = '\0';
	}
}

static int
httpd_start(struct httpd *h)
{
	char url[256];
	const char *addr;
	int rc;

	if (getrandom(&h->client_id, sizeof(h->client_id), 0) !=
	    sizeof(h->client_id))
		fatal("httpd: getrandom");
	h->pretty = h->cfg->pretty || h->cfg->dev;
	h->lim.default_query_ms = h->cfg->default_query_ms;
	h->lim.max_query_ms = h->cfg->max_query_ms;
	h->lim.datacenter = h->cfg->datacenter;
	httpd_node_id(h);
	router_init(&h->rt);
	if (routes_register(h) != 0)
		fatal("httpd: out of memory");
	if ((rc = ipc_url(url, sizeof(url), h->cfg->runtime_dir,
	    "raftd.rpc")) != 0) {
		log_warnx("httpd: runtime_dir %s: %s", h->cfg->runtime_dir,
		    err_str(rc));
		return rc;
	}
	if ((rc = ipc_client_open(h->loop, url, &h->raftd)) != 0) {
		log_warnx("httpd: cannot open %s: %s", url, err_str(rc));
		return rc;
	}
	ipc_client_set_connect_wait(h->raftd, HTTPD_RAFTD_CONNECT_WAIT_MS);
	if ((rc = rpc_checkd_open(h)) != 0)
		log_warnx("httpd: checkd client: %s", err_str(rc));
	if ((rc = rpc_gossipd_open(h)) != 0)
		log_warnx("httpd: gossipd client: %s", err_str(rc));
	addr = *h->cfg->addresses.http != '\0' ? h->cfg->addresses.http :
						 h->cfg->client_addr;
	if ((rc = server_open(h, addr, h->cfg->ports.http, &h->srv)) != 0)
		return rc;
	log_info("httpd: listening on %s:%d", addr, h->cfg->ports.http);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct config cfg;
	struct httpd h;
	bool check_only;
	int rc;

	if ((rc = daemon_config("httpd", &argc, argv, &cfg, &check_only)) != 0)
		return rc;
	if (*cfg.runtime_dir == '\0') {
		fprintf(stderr, "httpd: runtime_dir is unset: use -data-dir DIR "
		    "or -runtime-dir DIR\n");
		config_free(&cfg);
		return 2;
	}
	if (check_only) {
		fprintf(stderr, "httpd: configuration OK\n");
		config_free(&cfg);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	httpd_rlimit();
	memset(&h, 0, sizeof(h));
	h.cfg = &cfg;
	if ((h.loop = loop_new()) == NULL)
		fatal("httpd: loop_new");
	loop_signal(h.loop, SIGINT, httpd_signal, &h);
	loop_signal(h.loop, SIGTERM, httpd_signal, &h);
	reload_install(h.loop, argc, argv, NULL, NULL);
	rc = httpd_start(&h);
	if (rc == 0) {
		if (daemon_watchdog_start(h.loop) < 0)
			log_warnx("httpd: cannot arm the systemd watchdog");
		daemon_notify_status("serving HTTP on port %d",
		    cfg.ports.http);
		daemon_notify_ready();
		rc = loop_run(h.loop);
	}
	server_close(h.srv, HTTPD_STOP_GRACE_MS);
	if (h.share_timer != 0)
		loop_timer_cancel(h.loop, h.share_timer);
	share_clear(&h.share);
	log_debug("httpd: listener closed");
	ipc_client_close(h.raftd);
	log_debug("httpd: raftd client closed");
	rpc_checkd_close(&h);
	rpc_gossipd_close(&h);
	router_fini(&h.rt);
	loop_free(h.loop);
	config_free(&cfg);
	log_debug("httpd: stopped");
	return rc == 0 ? 0 : 1;
}
