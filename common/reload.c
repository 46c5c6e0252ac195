/*
 * reload.c — SIGHUP handling shared by the roles (see reload.h).
 */
#include <signal.h>
#include <stdlib.h>

#include "config.h"
#include "daemon.h"
#include "err.h"
#include "log.h"
#include "loop.h"
#include "reload.h"

static struct reload_state {
	int argc;
	char **argv;
	reload_cb cb;
	void *arg;
} reload_state;

static void
reload_on_sighup(struct loop *l, int signo, void *arg)
{
	struct reload_state *rs = arg;
	struct config cfg;
	enum log_level level;
	char err[512];

	(void)l;
	(void)signo;
	daemon_notify_reloading();
	if (config_load(rs->argc, rs->argv, &cfg, err, sizeof(err)) != 0) {
		log_warnx("reload: %s; keeping the running configuration",
		    err);
		daemon_notify_ready();
		return;
	}
	if (log_level_parse(cfg.log_level, &level) == 0 &&
	    level != log_get_level()) {
		log_set_level(level);
		log_info("reload: log level %s", cfg.log_level);
	}
	if (rs->cb != NULL)
		rs->cb(&cfg, rs->arg);
	config_free(&cfg);
	log_info("reload: configuration re-read");
	daemon_notify_ready();
}

int
reload_install(struct loop *l, int argc, char **argv, reload_cb cb, void *arg)
{
	reload_state.argc = argc;
	reload_state.argv = argv;
	reload_state.cb = cb;
	reload_state.arg = arg;
	return loop_signal(l, SIGHUP, reload_on_sighup, &reload_state);
}
