/*
 * daemon.h — the systemd side of a cairn daemon's life (sd_notify(3)):
 * readiness, reload and stop notices, a status line, the watchdog ping,
 * and directory creation for runtime and data paths.
 *
 * Every notify function is a no-op when the process is not run by systemd
 * with a notify socket ($NOTIFY_SOCKET unset), so the same binary runs
 * under systemd, in tests and by hand. This is the only code that speaks
 * to systemd; it does so without libsystemd (see daemon.c).
 */
#ifndef CAIRN_DAEMON_H
#define CAIRN_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

struct config;
struct loop;

/*
 * The start of every role's main(): logging as role, "-n" (check the
 * configuration, then exit) taken out of argv into *check_only, the
 * configuration loaded into *cfg (zeroed first) and its log level
 * applied. Returns 0, or 2 — the exit status — after printing
 * "<role>: <error naming file and key>" on stderr.
 */
int daemon_config(const char *role, int *argc, char **argv,
    struct config *cfg, bool *check_only);

/* READY=1: startup is complete (Type=notify units leave "activating"). */
void daemon_notify_ready(void);
/* STOPPING=1: shutdown has begun. */
void daemon_notify_stopping(void);
/* RELOADING=1: a configuration reload has begun; call ready() after it. */
void daemon_notify_reloading(void);
/* STATUS=<text>: one line shown by `systemctl status` (fmt is printf). */
void daemon_notify_status(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * If systemd expects watchdog pings (WatchdogSec= set), arms a repeating
 * loop timer at half the period that sends WATCHDOG=1 and returns 1.
 * Returns 0 when there is no watchdog, or ERR_NOMEM if the timer could not
 * be added. l is borrowed and must outlive the process's use of it; the
 * timer runs until the loop is freed.
 */
int daemon_watchdog_start(struct loop *l);

/*
 * mkdir -p: creates path and any missing parents with mode (subject to the
 * umask); existing directories are left as they are. path is borrowed.
 * Returns 0, ERR_INVAL (empty path or too long), ERR_EXISTS (a component
 * exists and is not a directory), ERR_PERM or ERR_IO.
 */
int daemon_mkdirs(const char *path, mode_t mode);

#endif
