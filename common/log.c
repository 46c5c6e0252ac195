/*
 * log.c — stderr/journald logging (see log.h). Reference: OpenBSD log.c;
 * sd-daemon(3) for the "<N>" priority prefixes journald understands.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

static const char *log_proc = "cairn";
static enum log_level log_level = LOG_LEVEL_INFO;
static int log_journal = -1;

/* syslog priorities: crit 2, err 3, warning 4, info 6, debug 7 */
static const int log_prio[] = { 3, 4, 6, 7, 7 };
static const char *const log_names[] = { "error", "warn", "info", "debug",
	"trace" };

void
log_init(const char *procname, enum log_level level)
{
	log_proc = procname;
	log_level = level;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	static const struct {
		const char *name;
		enum log_level level;
	} names[] = { { "trace", LOG_LEVEL_TRACE }, { "debug", LOG_LEVEL_DEBUG },
		{ "info", LOG_LEVEL_INFO }, { "warn", LOG_LEVEL_WARN },
		{ "warning", LOG_LEVEL_WARN }, { "err", LOG_LEVEL_ERROR },
		{ "error", LOG_LEVEL_ERROR } };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].level;
			return 0;
		}
	}
	return ERR_INVAL;
}

static void
log_vwrite(int prio, const char *level, const char *fmt, va_list ap,
    const char *suffix)
{
	char msg[2048];
	int saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_journal == -1)
		log_journal = getenv("JOURNAL_STREAM") != NULL;
	if (log_journal) {
		fprintf(stderr, "<%d>%s: %s%s%s\n", prio, level, msg,
		    suffix ? ": " : "", suffix ? suffix : "");
	} else {
		struct timespec ts;
		struct tm tm;
		char tbuf[32];
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s[%d] %s: %s%s%s\n", tbuf,
		    ts.tv_nsec / 1000000, log_proc, (int)getpid(), level, msg,
		    suffix ? ": " : "", suffix ? suffix : "");
	}
	errno = saved;
}

#define LOG_BODY(lvl, suffix)                                         \
	do {                                                          \
		va_list ap;                                           \
		if (log_level < (lvl))                                \
			return;                                       \
		va_start(ap, fmt);                                    \
		log_vwrite(log_prio[lvl], log_names[lvl], fmt, ap, suffix); \
		va_end(ap);                                           \
	} while (0)

void
log_warn(const char *fmt, ...)
{
	const char *e = strerror(errno);
	LOG_BODY(LOG_LEVEL_WARN, e);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, NULL);
}

void
log_error(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, NULL);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, NULL);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, NULL);
}

void
log_trace(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_TRACE, NULL);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);
	va_start(ap, fmt);
	log_vwrite(2, "fatal", fmt, ap, e);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(2, "fatal", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

bool
log_ratelimited(struct log_ratelimit *rl, uint32_t burst,
    uint32_t interval_ms, uint32_t *suppressed)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (rl->last_ms == 0) {
		rl->last_ms = now;
		rl->tokens = burst;
	}
	if (interval_ms > 0 && now - rl->last_ms >= interval_ms) {
		uint64_t add = (now - rl->last_ms) / interval_ms;
		rl->tokens = (uint32_t)((rl->tokens + add > burst) ? burst :
								 rl->tokens + add);
		rl->last_ms = now;
	}
	if (rl->tokens == 0) {
		rl->dropped++;
		return false;
	}
	rl->tokens--;
	if (suppressed)
		*suppressed = rl->dropped;
	rl->dropped = 0;
	return true;
}
