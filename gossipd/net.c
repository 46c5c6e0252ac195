/*
 * net.c — gossipd's sockets: the UDP socket and TCP listener of a pool,
 * address conversion and resolution, and TCP exchanges (push/pull, the
 * fallback ping, joins) each on a short-lived thread so that a slow or
 * unreachable peer never stalls the probe loop.
 *
 * Key decision: a TCP message is one frame (4-byte big-endian length,
 * then a MSG_SWIM_* encoding); a connection carries one request and at
 * most one reply, then closes (memberlist opens a stream per push/pull
 * too). Threads only do blocking I/O with timeouts and post the result to
 * the loop (loop_post); every core call stays on the loop thread.
 * Reference: memberlist net.go (sendAndReceiveState, handleConn),
 * consul agent/retry_join.go (host:port with the default port, DNS).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "gossipd.h"
#include "log.h"
#include "loop.h"

/* TCP threads alive: counted down as each thread's very last step, after
 * its loop_post() has returned, so that 0 means none can touch the loop
 * again (net_threads_wait, before gossipd frees it). */
static atomic_uint net_threads;

void
net_from_sockaddr(const void *ssv, struct swim_addr *a)
{
	const struct sockaddr *sa = ssv;

	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = ssv;

		a->ip[10] = a->ip[11] = 0xff;
		memcpy(a->ip + 12, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = ssv;

		memcpy(a->ip, &s6->sin6_addr, 16);
		a->port = ntohs(s6->sin6_port);
	}
}

static bool
net_is_v4(const struct swim_addr *a)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };

	return memcmp(a->ip, pfx, 12) == 0;
}

void
net_to_sockaddr(const struct swim_addr *a, int family, void *ssv,
    unsigned *sslen)
{
	if (family == AF_INET || (family == 0 && net_is_v4(a))) {
		struct sockaddr_in *s4 = ssv;

		memset(s4, 0, sizeof(*s4));
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->ip + 12, 4);
		s4->sin_port = htons(a->port);
		*sslen = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = ssv;

		memset(s6, 0, sizeof(*s6));
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->ip, 16);
		s6->sin6_port = htons(a->port);
		*sslen = sizeof(*s6);
	}
}

int
net_parse_ip(const char *ip, int port, struct swim_addr *out)
{
	struct in_addr v4;
	struct in6_addr v6;

	memset(out, 0, sizeof(*out));
	out->port = (uint16_t)port;
	if (inet_pton(AF_INET, ip, &v4) == 1) {
		out->ip[10] = out->ip[11] = 0xff;
		memcpy(out->ip + 12, &v4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &v6) == 1) {
		memcpy(out->ip, &v6, 16);
		return 0;
	}
	return ERR_INVAL;
}

int
net_resolve(const char *spec, int default_port, struct swim_addr *out,
    int max)
{
	char host[256], *colon;
	const char *h = spec;
	long port = default_port;
	struct addrinfo hints, *res, *ai;
	int n = 0;

	if (strlen(spec) >= sizeof(host) || *spec == '\0')
		return ERR_INVAL;
	if (*spec == '[') { /* [v6] or [v6]:port */
		const char *end = strchr(spec, ']');

		if (end == NULL || (size_t)(end - spec - 1) >= sizeof(host))
			return ERR_INVAL;
		memcpy(host, spec + 1, (size_t)(end - spec - 1));
		host[end - spec - 1] = '\0';
		if (end[1] == ':')
			port = strtol(end + 2, NULL, 10);
		else if (end[1] != '\0')
			return ERR_INVAL;
		h = host;
	} else if ((colon = strchr(spec, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		char *e;

		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		port = strtol(colon + 1, &e, 10);
		if (*e != '\0' || e == colon + 1)
			return ERR_INVAL;
		h = host;
	}
	if (port <= 0 || port > 65535)
		return ERR_INVAL;
	if (net_parse_ip(h, (int)port, &out[0]) == 0)
		return 1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(h, NULL, &hints, &res) != 0)
		return 0;
	for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
		net_from_sockaddr(ai->ai_addr, &out[n]);
		out[n].port = (uint16_t)port;
		n++;
	}
	freeaddrinfo(res);
	return n;
}

static int
net_bind(int type, const char *bindaddr, int port, int *family, int *fd)
{
	struct swim_addr a;
	struct sockaddr_storage ss;
	unsigned sslen;
	int s, one = 1;

	if (net_parse_ip(bindaddr, port, &a) != 0)
		return ERR_INVAL;
	if (*family == 0)
		*family = net_is_v4(&a) ? AF_INET : AF_INET6;
	net_to_sockaddr(&a, *family, &ss, &sslen);
	if ((s = socket(*family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) ==
	    -1)
		return err_from_errno(errno);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&ss, sslen) == -1 ||
	    (type == SOCK_STREAM && listen(s, 128) == -1)) {
		int e = errno;

		close(s);
		return err_from_errno(e);
	}
	if (type == SOCK_DGRAM) {
		int sz = 4 << 20;

		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	*fd = s;
	return 0;
}

int
net_udp_open(const char *bind, int port, int *family, int *fd)
{
	*family = 0;
	return net_bind(SOCK_DGRAM, bind, port, family, fd);
}

int
net_tcp_listen(const char *bind, int port, int family, int *fd)
{
	return net_bind(SOCK_STREAM, bind, port, &family, fd);
}

static void
net_timeouts(int fd, uint32_t ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
		.tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int
net_full(int fd, void *buf, size_t len, bool wr)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = wr ? send(fd, p, len, MSG_NOSIGNAL) :
		    recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_from_errno(errno);
		if (n == 0)
			return ERR_CLOSED;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
net_write_frame(int fd, const uint8_t *data, size_t len)
{
	uint8_t hdr[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
		(uint8_t)(len >> 8), (uint8_t)len };
	int rc;

	if ((rc = net_full(fd, hdr, 4, true)) != 0)
		return rc;
	return net_full(fd, (void *)(uintptr_t)data, len, true);
}

int
net_read_frame(int fd, uint8_t **data, size_t *len)
{
	uint8_t hdr[4];
	size_t n;
	int rc;

	*data = NULL;
	if ((rc = net_full(fd, hdr, 4, false)) != 0)
		return rc;
	n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
	    (size_t)hdr[2] << 8 | hdr[3];
	if (n == 0 || n > GOSSIPD_FRAME_MAX)
		return ERR_BADMSG;
	if ((*data = malloc(n)) == NULL)
		return ERR_NOMEM;
	if ((rc = net_full(fd, *data, n, false)) != 0) {
		free(*data);
		*data = NULL;
		return rc;
	}
	*len = n;
	return 0;
}

/* Non-blocking connect bounded by ms, then a blocking socket. */
static int
net_connect(const struct swim_addr *to, uint32_t ms, int *out)
{
	struct sockaddr_storage ss;
	unsigned sslen;
	struct pollfd pfd;
	int fd, err = 0, fl;
	socklen_t el = sizeof(err);

	net_to_sockaddr(to, 0, &ss, &sslen);
	if ((fd = socket(sslen == sizeof(struct sockaddr_in) ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return err_from_errno(errno);
	if (connect(fd, (struct sockaddr *)&ss, sslen) == -1) {
		if (errno != EINPROGRESS) {
			err = errno;
			close(fd);
			return err_from_errno(err);
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, (int)ms) != 1) {
			close(fd);
			return ERR_TIMEOUT;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err != 0) {
			close(fd);
			return err_from_errno(err);
		}
	}
	fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	net_timeouts(fd, ms);
	*out = fd;
	return 0;
}

static void
net_job_done(void *arg)
{
	struct tcp_job *job = arg;

	job->p->tcp_inflight--;
	pool_tcp_done(job);
}

static void *
net_job_run(void *arg)
{
	struct tcp_job *job = arg;
	int fd = -1;

	if ((job->err = net_connect(&job->to, job->timeout_ms, &fd)) == 0) {
		job->err = net_write_frame(fd, job->out, job->out_len);
		if (job->err == 0 && job->want_reply)
			job->err = net_read_frame(fd, &job->in, &job->in_len);
		close(fd);
	}
	if (loop_post(job->p->g->loop, net_job_done, job) != 0)
		log_warnx("gossipd: cannot post a TCP result");
	atomic_fetch_sub(&net_threads, 1);
	return NULL;
}

/*
 * A short-lived TCP thread: detached, with a small stack. glibc keeps the
 * stacks of exited threads for reuse, so during a join storm (hundreds of
 * push/pulls at once) 8 MiB default stacks leave their touched pages
 * resident; these threads only read and write malloc'd frames.
 */
#define NET_THREAD_STACK (128u * 1024)

static void
net_thread_attr(pthread_attr_t *at)
{
	pthread_attr_init(at);
	pthread_attr_setdetachstate(at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(at, NET_THREAD_STACK);
}

int
net_tcp_start(struct tcp_job *job)
{
	pthread_t t;
	pthread_attr_t at;
	int rc;

	net_thread_attr(&at);
	job->p->tcp_inflight++;
	atomic_fetch_add(&net_threads, 1);
	rc = pthread_create(&t, &at, net_job_run, job);
	pthread_attr_destroy(&at);
	if (rc != 0) {
		atomic_fetch_sub(&net_threads, 1);
		job->p->tcp_inflight--;
		return err_from_errno(rc);
	}
	return 0;
}

bool
net_threads_wait(uint32_t ms)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	uint64_t end = loop_clock_ms() + ms;

	while (atomic_load(&net_threads) != 0) {
		if (loop_clock_ms() >= end)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

/* An accepted connection: read one frame on a thread, then the loop. */
struct net_conn {
	struct pool *p;
	int fd;
	struct swim_addr peer;
	uint8_t *frame;
	size_t len;
	int err;
};

static void
net_conn_done(void *arg)
{
	struct net_conn *c = arg;

	c->p->tcp_inflight--;
	if (c->err == 0)
		pool_tcp_request(c->p, c->fd, &c->peer, c->frame, c->len);
	else
		free(c->frame);
	close(c->fd);
	free(c);
}

static void *
net_conn_run(void *arg)
{
	struct net_conn *c = arg;

	c->err = net_read_frame(c->fd, &c->frame, &c->len);
	if (loop_post(c->p->g->loop, net_conn_done, c) != 0)
		log_warnx("gossipd: cannot post a TCP request");
	atomic_fetch_sub(&net_threads, 1);
	return NULL;
}

void
net_tcp_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct pool *p = arg;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct net_conn *c;
	pthread_t t;
	pthread_attr_t at;
	int cfd;

	(void)l;
	(void)events;
	while ((cfd = accept4(fd, (struct sockaddr *)&ss, &sl,
	    SOCK_CLOEXEC)) >= 0) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(cfd);
			continue;
		}
		c->p = p;
		c->fd = cfd;
		net_from_sockaddr(&ss, &c->peer);
		net_timeouts(cfd, GOSSIPD_TCP_TIMEOUT_MS);
		net_thread_attr(&at);
		p->tcp_inflight++;
		atomic_fetch_add(&net_threads, 1);
		if (pthread_create(&t, &at, net_conn_run, c) != 0) {
			atomic_fetch_sub(&net_threads, 1);
			p->tcp_inflight--;
			close(cfd);
			free(c);
		}
		pthread_attr_destroy(&at);
		sl = sizeof(ss);
	}
}
