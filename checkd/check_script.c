/*
 * check_script.c — script checks: fork/exec of Args (no shell unless the
 * deprecated Script field asked for one) in a process group of its own,
 * stdout and stderr captured through one pipe read on the loop (the last
 * 4 KiB kept), the child reaped on SIGCHLD through the loop's signalfd.
 * Exit 0 passing, 1 warning, anything else critical; on timeout the
 * whole process group is killed and the check is critical with
 * "Timed out (<timeout>) running check".
 *
 * Only allowed with enable_script_checks (or enable_local_script_checks
 * for config-file checks): local.c enforces that. Reference:
 * spec/consul-api.md §3.1 (script); Consul agent/checks CheckMonitor;
 * relayd check_script.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkd.h"
#include "err.h"
#include "log.h"
#include "loop.h"

struct script_run {
	struct checkd *cd;
	struct chk *c;
	pid_t pid;
	int fd;              /* read end; -1 after EOF */
	uint64_t timer;
	bool timed_out;
	char buf[CHECK_OUTPUT_MAX];
	size_t len;          /* bytes in buf (the last ones written) */
	size_t total;
	struct script_run *next;
};

static struct script_run *script_runs;

static void
script_unlink(struct script_run *sr)
{
	struct script_run **pp;

	for (pp = &script_runs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == sr) {
			*pp = sr->next;
			return;
		}
}

static void
script_keep(struct script_run *sr, const char *p, size_t n)
{
	sr->total += n;
	if (n >= sizeof(sr->buf)) {
		memcpy(sr->buf, p + n - sizeof(sr->buf), sizeof(sr->buf));
		sr->len = sizeof(sr->buf);
		return;
	}
	if (sr->len + n > sizeof(sr->buf)) {
		size_t drop = sr->len + n - sizeof(sr->buf);
		memmove(sr->buf, sr->buf + drop, sr->len - drop);
		sr->len -= drop;
	}
	memcpy(sr->buf + sr->len, p, n);
	sr->len += n;
}

static void
script_close_fd(struct script_run *sr)
{
	if (sr->fd >= 0) {
		loop_del_fd(sr->cd->loop, sr->fd);
		close(sr->fd);
		sr->fd = -1;
	}
}

/* Reads what is there; returns true at EOF or error. */
static bool
script_read(struct script_run *sr)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = read(sr->fd, buf, sizeof(buf));
		if (n > 0) {
			script_keep(sr, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return !(n < 0 && errno == EAGAIN);
	}
}

static void
script_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct script_run *sr = arg;

	(void)l;
	(void)fd;
	(void)events;
	if (script_read(sr))
		script_close_fd(sr);
}

static void
script_finish(struct script_run *sr, int wstatus)
{
	struct chk *c = sr->c;
	struct checkd *cd = sr->cd;
	char *out = NULL, dur[64];
	int result, rc;

	if (c == NULL) { /* canceled: only collect the child */
		script_close_fd(sr);
		script_unlink(sr);
		free(sr);
		return;
	}
	if (sr->fd >= 0) {
		script_read(sr);
		script_close_fd(sr);
	}
	if (sr->timer != 0)
		loop_timer_cancel(cd->loop, sr->timer);
	script_unlink(sr);
	c->run = NULL;
	if (sr->timed_out) {
		go_duration(c->timeout_ms, dur, sizeof(dur));
		rc = asprintf(&out, "Timed out (%s) running check", dur);
		result = CHECK_CRITICAL;
	} else {
		if (sr->total > sr->len)
			rc = asprintf(&out, "Captured %zu of %zu bytes\n...\n"
			    "%.*s", sr->len, sr->total, (int)sr->len, sr->buf);
		else
			rc = asprintf(&out, "%.*s", (int)sr->len, sr->buf);
		if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
			result = CHECK_PASSING;
		else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 1)
			result = CHECK_WARNING;
		else
			result = CHECK_CRITICAL;
	}
	if (rc < 0)
		out = NULL;
	free(sr);
	run_result(cd, c, result, out);
}

static void
script_sigchld(struct loop *l, int signo, void *arg)
{
	struct script_run *sr;
	pid_t pid;
	int ws;

	(void)l;
	(void)signo;
	(void)arg;
	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		for (sr = script_runs; sr != NULL; sr = sr->next)
			if (sr->pid == pid)
				break;
		if (sr != NULL)
			script_finish(sr, ws);
	}
}

static void
script_timeout(struct loop *l, void *arg)
{
	struct script_run *sr = arg;

	(void)l;
	sr->timer = 0;
	sr->timed_out = true;
	log_warnx("check %s: timed out, killing process group %d", sr->c->id,
	    (int)sr->pid);
	kill(-sr->pid, SIGKILL);
}

int
check_script_init(struct checkd *cd)
{
	return loop_signal(cd->loop, SIGCHLD, script_sigchld, cd);
}

static void
script_child(struct chk *c, int wfd)
{
	sigset_t none;
	int devnull;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if ((devnull = open("/dev/null", O_RDONLY)) >= 0)
		dup2(devnull, 0);
	dup2(wfd, 1);
	dup2(wfd, 2);
	execvp(c->args[0], c->args);
	dprintf(2, "exec %s: %s\n", c->args[0], strerror(errno));
	_exit(127);
}

int
check_script_start(struct checkd *cd, struct chk *c)
{
	struct script_run *sr;
	int p[2];
	pid_t pid;

	if (c->n_args == 0)
		return ERR_INVAL;
	if ((sr = calloc(1, sizeof(*sr))) == NULL)
		return ERR_NOMEM;
	if (pipe2(p, O_CLOEXEC) != 0) {
		free(sr);
		return err_from_errno(errno);
	}
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		free(sr);
		return err_from_errno(errno);
	}
	if (pid == 0)
		script_child(c, p[1]);
	setpgid(pid, pid);
	close(p[1]);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	sr->cd = cd;
	sr->c = c;
	sr->pid = pid;
	sr->fd = p[0];
	if (loop_add_fd(cd->loop, p[0], LOOP_READ, script_readable, sr) != 0) {
		close(p[0]);
		sr->fd = -1;
	}
	sr->timer = loop_timer_add(cd->loop, c->timeout_ms, script_timeout,
	    sr);
	sr->next = script_runs;
	script_runs = sr;
	c->run = sr;
	return 0;
}

void
check_script_cancel(struct checkd *cd, struct chk *c)
{
	struct script_run *sr = c->run;

	(void)cd;
	if (sr == NULL)
		return;
	kill(-sr->pid, SIGKILL);
	/* keep it on the list so the reaper collects the child; orphan it */
	script_close_fd(sr);
	if (sr->timer != 0)
		loop_timer_cancel(cd->loop, sr->timer);
	sr->timer = 0;
	sr->c = NULL;
	c->run = NULL;
}
