/*
 * check_tcp.c — TCP checks: a non-blocking connect on the loop; connected
 * within the timeout is passing, anything else critical. Output
 * "TCP connect <addr>: Success" or the reason, as Consul's CheckTCP.
 * Reference: spec/consul-api.md §3.1 (tcp); relayd check_tcp.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_addr.h"
#include "checkd.h"
#include "err.h"
#include "loop.h"

struct tcp_run {
	struct checkd *cd;
	struct chk *c;
	int fd;
	uint64_t timer;
};

static void
tcp_finish(struct tcp_run *tr, int err)
{
	struct chk *c = tr->c;
	struct checkd *cd = tr->cd;
	char *out = NULL;
	int rc;

	loop_del_fd(cd->loop, tr->fd);
	close(tr->fd);
	if (tr->timer != 0)
		loop_timer_cancel(cd->loop, tr->timer);
	free(tr);
	c->run = NULL;
	if (err == 0)
		rc = asprintf(&out, "TCP connect %s: Success", c->tcp);
	else if (err == ETIMEDOUT)
		rc = asprintf(&out, "dial tcp %s: i/o timeout", c->tcp);
	else
		rc = asprintf(&out, "dial tcp %s: connect: %s", c->tcp,
		    check_errstr(err));
	if (rc < 0)
		out = NULL;
	run_result(cd, c, err == 0 ? CHECK_PASSING : CHECK_CRITICAL, out);
}

static void
tcp_ready(struct loop *l, int fd, uint32_t events, void *arg)
{
	int err = 0;
	socklen_t len = sizeof(err);

	(void)l;
	(void)events;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	tcp_finish(arg, err);
}

static void
tcp_timeout(struct loop *l, void *arg)
{
	struct tcp_run *tr = arg;

	(void)l;
	tr->timer = 0;
	tcp_finish(tr, ETIMEDOUT);
}

int
check_tcp_start(struct checkd *cd, struct chk *c)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct tcp_run *tr;
	int fd, rc;

	if ((rc = check_addr_resolve(c->tcp, SOCK_STREAM, &ss, &sl)) != 0)
		return rc;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return err_from_errno(errno);
	if ((tr = calloc(1, sizeof(*tr))) == NULL) {
		close(fd);
		return ERR_NOMEM;
	}
	tr->cd = cd;
	tr->c = c;
	tr->fd = fd;
	/* a refused connect is reported through the loop like a slow one */
	(void)connect(fd, (struct sockaddr *)&ss, sl);
	if (loop_add_fd(cd->loop, fd, LOOP_WRITE, tcp_ready, tr) != 0) {
		close(fd);
		free(tr);
		return ERR_NOMEM;
	}
	tr->timer = loop_timer_add(cd->loop, c->timeout_ms, tcp_timeout, tr);
	c->run = tr;
	return 0;
}

void
check_tcp_cancel(struct checkd *cd, struct chk *c)
{
	struct tcp_run *tr = c->run;

	if (tr == NULL)
		return;
	loop_del_fd(cd->loop, tr->fd);
	close(tr->fd);
	if (tr->timer != 0)
		loop_timer_cancel(cd->loop, tr->timer);
	free(tr);
	c->run = NULL;
}
