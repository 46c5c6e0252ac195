/*
 * daemon.c — the sd_notify(3) protocol and the watchdog for cairn daemons
 * (daemon.h), written here rather than linked from libsystemd.
 *
 * Key decisions: libsystemd pulled libgcrypt, liblzma, libzstd, liblz4,
 * libcap and libgpg-error into every role (~0.5 MB of mapped, relocated,
 * partly touched pages per process) for one datagram; the protocol is
 * stable and documented, so we speak it ourselves: a single AF_UNIX
 * SOCK_DGRAM datagram of newline-separated VAR=value assignments to
 * $NOTIFY_SOCKET, a filesystem path, or an abstract socket when it starts
 * with '@' (sd_notify(3), "NOTES"). Without $NOTIFY_SOCKET nothing is
 * formatted or sent, so tests and hand-run daemons pay nothing. The
 * watchdog follows sd_watchdog_enabled(3): on only if WATCHDOG_USEC is a
 * positive number and WATCHDOG_PID, when set, is our pid; the ping rides
 * the daemon's own loop (a timer at half the period, as that page
 * recommends), so a wedged loop thread is exactly what stops the pings.
 * Reference: sd_notify(3), sd_watchdog_enabled(3), systemd.service(5).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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

/*
 * The address of $NOTIFY_SOCKET into *sun and its length into *len:
 * "/path" (NUL-terminated) or "@name" (abstract: a leading NUL byte, the
 * length counts no terminator). Returns 0, or ERR_INVAL for an empty,
 * relative or too long address.
 */
static int
daemon_notify_addr(const char *s, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n;

	if (s == NULL || (s[0] != '/' && s[0] != '@') ||
	    (n = strlen(s)) < 2 || n > sizeof(sun->sun_path) ||
	    (s[0] == '/' && n == sizeof(sun->sun_path)))
		return ERR_INVAL;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, s, n);
	if (s[0] == '@') {
		sun->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    n + 1);
	return 0;
}

static void
daemon_notify(const char *state)
{
	struct sockaddr_un sun;
	socklen_t len;
	ssize_t n;
	int fd;

	if (!daemon_under_systemd())
		return;
	if (daemon_notify_addr(getenv("NOTIFY_SOCKET"), &sun, &len) != 0) {
		log_debug("daemon: NOTIFY_SOCKET is not a usable address");
		return;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_debug("daemon: notify socket: %s", strerror(errno));
		return;
	}
	do
		n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		    (struct sockaddr *)&sun, len);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		log_debug("daemon: notify %s: %s", state, strerror(errno));
	close(fd);
}

/*
 * sd_watchdog_enabled(3) for our own pid: the period in µs when
 * WATCHDOG_USEC is a positive decimal number and WATCHDOG_PID is unset or
 * our pid, else 0.
 */
static uint64_t
daemon_watchdog_usec(void)
{
	const char *s = getenv("WATCHDOG_USEC"), *p = getenv("WATCHDOG_PID");
	unsigned long long usec, pid;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	usec = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || usec == 0 || usec == UINT64_MAX)
		return 0;
	if (p != NULL) {
		if (*p < '0' || *p > '9')
			return 0;
		errno = 0;
		pid = strtoull(p, &end, 10);
		if (errno != 0 || *end != '\0' ||
		    pid != (unsigned long long)getpid())
			return 0;
	}
	return usec;
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
	uint64_t usec;

	if (!daemon_under_systemd() || (usec = daemon_watchdog_usec()) == 0)
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
