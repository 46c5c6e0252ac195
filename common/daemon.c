/*
 * daemon.c — sd_notify(3) and the watchdog for cairn daemons (daemon.h);
 * the only file that includes <systemd/sd-daemon.h>.
 *
 * Key decision: sd_notify() itself returns 0 without $NOTIFY_SOCKET, but we
 * check the variable once and skip even the formatting, so that tests and
 * hand-run daemons pay nothing. The watchdog ping rides the daemon's own
 * loop (a timer at half of WATCHDOG_USEC, as sd_watchdog_enabled(3)
 * recommends), so a wedged loop thread is exactly what stops the pings.
 * Reference: sd_notify(3), sd_watchdog_enabled(3), systemd.service(5).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <systemd/sd-daemon.h>

#include "config.h"
#include "daemon.h"
#include "err.h"
#include "log.h"
#include "loop.h"

static bool
daemon_under_systemd(void)
{
	const char *s = getenv("NOTIFY_SOCKET");

	return s != NULL && *s != '\0';
}

static void
daemon_notify(const char *state)
{
	int rc;

	if (!daemon_under_systemd())
		return;
	if ((rc = sd_notify(0, state)) < 0)
		log_debug("daemon: sd_notify(%s): %s", state, strerror(-rc));
}

void
daemon_notify_ready(void)
{
	daemon_notify("READY=1");
}

void
daemon_notify_stopping(void)
{
	daemon_notify("STOPPING=1");
}

void
daemon_notify_reloading(void)
{
	daemon_notify("RELOADING=1");
}

void
daemon_notify_status(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	if (!daemon_under_systemd())
		return;
	n = snprintf(buf, sizeof(buf), "STATUS=");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	/* one line: systemd reads newline-separated assignments */
	buf[strcspn(buf, "\n")] = '\0';
	daemon_notify(buf);
}

struct daemon_watchdog {
	uint64_t period_ms;
};

static struct daemon_watchdog daemon_wd;

static void
daemon_watchdog_tick(struct loop *l, void *arg)
{
	struct daemon_watchdog *wd = arg;

	daemon_notify("WATCHDOG=1");
	if (loop_timer_add(l, wd->period_ms, daemon_watchdog_tick, wd) == 0)
		log_warnx("daemon: cannot re-arm the watchdog timer");
}

int
daemon_watchdog_start(struct loop *l)
{
	uint64_t usec = 0;

	if (!daemon_under_systemd() || sd_watchdog_enabled(0, &usec) <= 0 ||
	    usec == 0)
		return 0;
	daemon_wd.period_ms = usec / 2000;
	if (daemon_wd.period_ms == 0)
		daemon_wd.period_ms = 1;
	daemon_notify("WATCHDOG=1");
	if (loop_timer_add(l, daemon_wd.period_ms, daemon_watchdog_tick,
	    &daemon_wd) == 0)
		return ERR_NOMEM;
	log_debug("daemon: watchdog ping every %llu ms",
	    (unsigned long long)daemon_wd.period_ms);
	return 1;
}

static int
daemon_mkdir_one(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return 0;
	if (errno == EEXIST) {
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		return ERR_EXISTS;
	}
	if (errno == EACCES || errno == EPERM || errno == EROFS)
		return ERR_PERM;
	if (errno == ENOTDIR)
		return ERR_EXISTS;
	return ERR_IO;
}

int
daemon_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len, i;
	int rc;

	if (path == NULL || (len = strlen(path)) == 0 || len >= sizeof(buf))
		return ERR_INVAL;
	memcpy(buf, path, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	for (i = 1; i < len; i++) {
		if (buf[i] != '/' || buf[i - 1] == '/')
			continue;
		buf[i] = '\0';
		rc = daemon_mkdir_one(buf, mode);
		buf[i] = '/';
		if (rc != 0)
			return rc;
	}
	return daemon_mkdir_one(buf, mode);
}

int
daemon_config(const char *role, int *argc, char **argv, struct config *cfg,
    bool *check_only)
{
	enum log_level level;
	char err[512];
	int i, j;

	log_init(role, LOG_LEVEL_INFO);
	*check_only = false;
	for (i = j = 1; i < *argc; i++) {
		if (strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "--n") == 0)
			*check_only = true;
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	*argc = j;
	memset(cfg, 0, sizeof(*cfg));
	err[0] = '\0';
	if (config_load(*argc, argv, cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", role, err[0] ? err :
		    "bad configuration");
		return 2;
	}
	if (log_level_parse(cfg->log_level, &level) == 0)
		log_set_level(level);
	return 0;
}
