/*
 * check_udp.c — UDP checks: send one datagram on a connected socket; any
 * reply, or silence until the timeout, is passing; an error (an ICMP
 * port unreachable shows up as ECONNREFUSED) is critical, as Consul's
 * CheckUDP. Reference: spec/consul-api.md §3.1 (udp).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_addr.h"
#include "checkd.h"
#include "err.h"
#include "loop.h"

struct udp_run {
	struct checkd *cd;
	struct chk *c;
	int fd;
	uint64_t timer;
};

static void
udp_finish(struct udp_run *ur, int err)
{
	struct chk *c = ur->c;
	struct checkd *cd = ur->cd;
	char *out = NULL;
	int rc;

	loop_del_fd(cd->loop, ur->fd);
	close(ur->fd);
	if (ur->timer != 0)
		loop_timer_cancel(cd->loop, ur->timer);
	free(ur);
	c->run = NULL;
	if (err == 0)
		rc = asprintf(&out, "UDP connect %s: Success", c->udp);
	else
		rc = asprintf(&out, "read udp %s: %s", c->udp, check_errstr(err));
	if (rc < 0)
		out = NULL;
	run_result(cd, c, err == 0 ? CHECK_PASSING : CHECK_CRITICAL, out);
}

static void
udp_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	char buf[512];
	ssize_t n;

	(void)l;
	(void)events;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	udp_finish(arg, n < 0 ? errno : 0);
}

static void
udp_timeout(struct loop *l, void *arg)
{
	struct udp_run *ur = arg;

	(void)l;
	ur->timer = 0;
	udp_finish(ur, 0); /* no answer is not a failure */
}

int
check_udp_start(struct checkd *cd, struct chk *c)
{
	static const char payload[] = "cairn udp health check";
	struct sockaddr_storage ss;
	socklen_t sl;
	struct udp_run *ur;
	int fd, rc;

	if ((rc = check_addr_resolve(c->udp, SOCK_DGRAM, &ss, &sl)) != 0)
		return rc;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return err_from_errno(errno);
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    send(fd, payload, sizeof(payload) - 1, 0) < 0) {
		rc = err_from_errno(errno);
		close(fd);
		return rc;
	}
	if ((ur = calloc(1, sizeof(*ur))) == NULL) {
		close(fd);
		return ERR_NOMEM;
	}
	ur->cd = cd;
	ur->c = c;
	ur->fd = fd;
	if (loop_add_fd(cd->loop, fd, LOOP_READ, udp_readable, ur) != 0) {
		close(fd);
		free(ur);
		return ERR_NOMEM;
	}
	ur->timer = loop_timer_add(cd->loop, c->timeout_ms, udp_timeout, ur);
	c->run = ur;
	return 0;
}

void
check_udp_cancel(struct checkd *cd, struct chk *c)
{
	struct udp_run *ur = c->run;

	if (ur == NULL)
		return;
	loop_del_fd(cd->loop, ur->fd);
	close(ur->fd);
	if (ur->timer != 0)
		loop_timer_cancel(cd->loop, ur->timer);
	free(ur);
	c->run = NULL;
}
