/*
 * raftd.c — main of raftd, the process that owns the replicated state
 * (DESIGN.md §1, §2, §5): KV for now, served to the node's other roles on
 * the IPC socket <runtime_dir>/raftd.rpc.
 *
 * usage: raftd [-n] [Consul agent flags: -dev -server -bootstrap-expect N
 *              -data-dir DIR -config-file F -config-dir D ...]
 *   -n   check the configuration and exit: 0 valid, 2 invalid (for
 *        systemd's ExecStartPre).
 * Exit status: 0 after a clean stop (SIGINT/SIGTERM: the batch being
 * synced is finished first), 1 on a runtime failure (an unreadable or
 * corrupt store is refused, never served), 2 on bad usage/configuration.
 *
 * Startup: config_load(), the data and runtime directories (a fresh
 * temporary directory in -dev without -data-dir, removed at exit),
 * signals blocked before any thread starts, then node_open() (node.c:
 * the store at <data_dir>/raft, the KV state machine, the write pipeline
 * with the term bumped and persisted and log entries after the applied
 * index replayed, the writer thread, the IPC server), then readiness is
 * reported to systemd.
 * Every server runs the Raft core (consensus.c) and listens on
 * ports.server for its peers (transport.c). In -dev, with -bootstrap or
 * with -bootstrap-expect 1 it is a cluster of one that leads at once
 * and adds servers that join later; any other server
 * bootstraps once bootstrap_expect servers are known (discovery.c) or
 * waits to be added by a leader, forwards writes and non-stale reads to
 * the leader (forward.c), and without a leader answers "No cluster
 * leader" after rpc_hold_timeout except to ?stale reads.
 *
 * Test failpoint: when the environment variable CAIRN_FAILPOINT contains
 * "raftd-exit-after-apply", raftd calls _exit(9) right after a KV write
 * from a client is committed (synced in the log) and applied, before its
 * reply is sent — a crash between commit and reply, so the requester
 * re-sends the same (client_id, seq) after a restart and must get the
 * first result (the restart re-derives the applied state from the log,
 * dedup record included, and answers the re-send from it).
 * "raftd-exit-after-persist" exits once a batch of log entries is synced
 * but before any of it is applied to the state: a restart must replay
 * those entries from the log (committed writes are never lost).
 *
 * Reference: OpenBSD bgpd.c (startup shape), spec/consul-api.md §2.7.
 */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "err.h"
#include "log.h"
#include "loop.h"
#include "raftd.h"
#include "reload.h"

static char raftd_tmpdir[256]; /* -dev without -data-dir */

static int
raftd_rm_cb(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Fills in the data and runtime directories and creates them. */
static void
raftd_dirs(struct config *cfg)
{
	int rc;

	if (*cfg->data_dir == '\0') {
		/* -dev without -data-dir: a fresh temporary directory */
		snprintf(raftd_tmpdir, sizeof(raftd_tmpdir),
		    "%s/cairn-raftd-XXXXXX",
		    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (mkdtemp(raftd_tmpdir) == NULL)
			fatal("mkdtemp %s", raftd_tmpdir);
		free(cfg->data_dir);
		if ((cfg->data_dir = strdup(raftd_tmpdir)) == NULL)
			fatalx("out of memory");
		log_info("dev mode: data in %s", cfg->data_dir);
	}
	if (*cfg->runtime_dir == '\0') {
		free(cfg->runtime_dir);
		if (asprintf(&cfg->runtime_dir, "%s/run", cfg->data_dir) < 0)
			fatalx("out of memory");
	}
	if ((rc = daemon_mkdirs(cfg->data_dir, 0700)) != 0)
		fatalx("data dir %s: %s", cfg->data_dir, err_str(rc));
	if ((rc = daemon_mkdirs(cfg->runtime_dir, 0700)) != 0)
		fatalx("runtime dir %s: %s", cfg->runtime_dir, err_str(rc));
}

static void
raftd_on_signal(struct loop *l, int signo, void *arg)
{
	struct raftd *rd = arg;

	(void)l;
	log_info("signal %d: stopping", signo);
	daemon_notify_stopping();
	/* a leaving leader hands over first (operator.c) */
	if (signo == SIGTERM && rd->cfg->leave_on_terminate &&
	    operator_leave_on_signal(rd))
		return;
	pipeline_stop(rd);
}

int
main(int argc, char *argv[])
{
	struct raftd rd;
	struct config cfg;
	struct loop *l;
	bool check;
	int rc;

	if ((rc = daemon_config("raftd", &argc, argv, &cfg, &check)) != 0)
		return rc;
	if (check) {
		config_free(&cfg);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	raftd_dirs(&cfg);

	if ((l = loop_new()) == NULL)
		fatalx("cannot create the event loop");
	/* before any thread exists (RocksDB's, the writer, nng's), so that
	 * every thread inherits the blocked mask and signalfd gets them */
	if (loop_signal(l, SIGINT, raftd_on_signal, &rd) != 0 ||
	    loop_signal(l, SIGTERM, raftd_on_signal, &rd) != 0 ||
	    reload_install(l, argc, argv, NULL, NULL) != 0)
		fatalx("cannot watch signals");
	if (node_open(&rd, l, &cfg) != 0)
		fatalx("cannot start (see above)");
	daemon_notify_ready();
	if (daemon_watchdog_start(l) < 0)
		fatalx("cannot arm the systemd watchdog");
	rc = loop_run(l);
	node_close(&rd);
	loop_free(l);
	if (raftd_tmpdir[0] != '\0')
		nftw(raftd_tmpdir, raftd_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	config_free(&cfg);
	return rc == 0 ? 0 : 1;
}
