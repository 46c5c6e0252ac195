/*
 * log.h — logging for every cairn process, after OpenBSD's log.c.
 *
 * One line per message on stderr: "<time> <proc> <level>: <message>".
 * Under systemd ($JOURNAL_STREAM set) each line instead starts with the
 * "<N>" priority prefix that journald reads, and carries no timestamp.
 * log_warn() appends strerror(errno); log_warnx() does not. fatal() and
 * fatalx() log at "crit" and exit(1); use them only at startup, on
 * allocation failure in daemon glue, or on a broken invariant.
 * log_ratelimited() guards warnings caused by remote input.
 */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_TRACE,
};

/* procname is borrowed and must outlive the process (a literal). */
void log_init(const char *procname, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "trace|debug|info|warn|err|error"; returns 0 or ERR_INVAL. */
int log_level_parse(const char *s, enum log_level *out);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/*
 * A token bucket for warnings caused by remote input: returns true when
 * the caller may log now. At most burst lines, then one per interval_ms;
 * the suppressed count is reported on the next allowed line by the caller
 * through *suppressed (may be NULL).
 */
struct log_ratelimit {
	uint64_t last_ms;
	uint32_t tokens;
	uint32_t dropped;
};
bool log_ratelimited(struct log_ratelimit *rl, uint32_t burst,
    uint32_t interval_ms, uint32_t *suppressed);

#endif
