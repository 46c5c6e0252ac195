/*
 * dns_udp.c — the UDP listener (see dns_udp.h).
 *
 * Key decision: one readiness callback drains up to DNS_UDP_ROUNDS
 * batches of DNS_UDP_BATCH datagrams (recvmmsg), answers each into its
 * own 64 KiB slot and sends the replies of a batch with one sendmmsg; the
 * loop then gets a turn (TCP, the feed) before more datagrams are read.
 * A forwarded query keeps a copy of itself and the client address until
 * the recursor answers; its reply goes out with a plain sendto. A full
 * socket buffer drops replies, as a lost datagram would. Reference: Knot
 * DNS udp-handler.c; Linux recvmmsg(2), sendmmsg(2).
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "dnsd/dns_query.h"
#include "dnsd/dns_ratelimit.h"
#include "dnsd/dns_recursor.h"
#include "dnsd/dns_udp.h"
#include "dnsd/dnsd.h"
#include "err.h"
#include "log.h"
#include "loop.h"

#define DNS_UDP_ROUNDS 8
#define DNS_UDP_RCVBUF (4 << 20)

struct dns_udp {
	struct dnsd *d;
	int fd;
	uint8_t *in;  /* DNS_UDP_BATCH x DNSD_MAX_MSG */
	uint8_t *out; /* DNS_UDP_BATCH x DNSD_MAX_MSG */
	struct sockaddr_storage from[DNS_UDP_BATCH];
	struct iovec iov_in[DNS_UDP_BATCH], iov_out[DNS_UDP_BATCH];
	struct mmsghdr msg_in[DNS_UDP_BATCH], msg_out[DNS_UDP_BATCH];
	struct dns_udp_fwd *fwds; /* waiting for a recursor */
};

struct dns_udp_fwd {
	struct dns_udp_fwd *next, *prev;
	struct dns_udp *u;
	uint64_t id;
	struct sockaddr_storage from;
	socklen_t fromlen;
	size_t len;
	uint8_t q[];
};

static void
dns_udp_fwd_unlink(struct dns_udp_fwd *f)
{
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		f->u->fwds = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
}

static void
dns_udp_forwarded(void *arg, const uint8_t *ans, size_t alen)
{
	struct dns_udp_fwd *f = arg;
	struct dns_udp *u = f->u;
	size_t outlen;

	dns_udp_fwd_unlink(f);
	if (dnsd_forwarded(u->d, f->q, f->len, false, ans, alen, u->out,
	    DNSD_MAX_MSG, &outlen) == DNS_QUERY_REPLY)
		(void)sendto(u->fd, u->out, outlen, MSG_DONTWAIT,
		    (struct sockaddr *)&f->from, f->fromlen);
	free(f);
}

/* Hands one query to the recursors; on refusal answers SERVFAIL now. */
static int
dns_udp_forward(struct dns_udp *u, const uint8_t *q, size_t len,
    const struct sockaddr_storage *from, socklen_t fromlen, uint8_t *out,
    size_t *outlen)
{
	struct dns_udp_fwd *f;

	if ((f = malloc(sizeof(*f) + len)) != NULL) {
		memset(f, 0, sizeof(*f));
		f->u = u;
		f->from = *from;
		f->fromlen = fromlen;
		f->len = len;
		memcpy(f->q, q, len);
		if (dns_recursor_forward(u->d->rec, q, len, false,
		    dnsd_rand(u->d),
		    dns_udp_forwarded, f, &f->id) == 0) {
			f->next = u->fwds;
			if (u->fwds != NULL)
				u->fwds->prev = f;
			u->fwds = f;
			return DNS_QUERY_DROP;
		}
		free(f);
	}
	return dnsd_forwarded(u->d, q, len, false, NULL, 0, out, DNSD_MAX_MSG,
	    outlen);
}

/* Answers received datagram i into out slot *nout. */
static void
dns_udp_one(struct dns_udp *u, unsigned i, unsigned *nout)
{
	struct mmsghdr *m = &u->msg_in[i];
	uint8_t *q = u->in + (size_t)i * DNSD_MAX_MSG;
	uint8_t *out = u->out + (size_t)*nout * DNSD_MAX_MSG;
	size_t outlen = 0;
	int rc;

	if (!dns_ratelimit_allow(u->d->rl, (struct sockaddr *)&u->from[i],
	    loop_now_ms(u->d->loop)))
		return;
	rc = dnsd_answer(u->d, q, m->msg_len, false, out, DNSD_MAX_MSG,
	    &outlen);
	if (rc == DNS_QUERY_FORWARD)
		rc = dns_udp_forward(u, q, m->msg_len, &u->from[i],
		    m->msg_hdr.msg_namelen, out, &outlen);
	if (rc != DNS_QUERY_REPLY)
		return;
	u->iov_out[*nout].iov_base = out;
	u->iov_out[*nout].iov_len = outlen;
	memset(&u->msg_out[*nout], 0, sizeof(u->msg_out[0]));
	u->msg_out[*nout].msg_hdr.msg_name = &u->from[i];
	u->msg_out[*nout].msg_hdr.msg_namelen = m->msg_hdr.msg_namelen;
	u->msg_out[*nout].msg_hdr.msg_iov = &u->iov_out[*nout];
	u->msg_out[*nout].msg_hdr.msg_iovlen = 1;
	(*nout)++;
}

static void
dns_udp_send(struct dns_udp *u, unsigned n)
{
	unsigned off = 0;
	int rc;

	while (off < n) {
		rc = sendmmsg(u->fd, u->msg_out + off, n - off, MSG_DONTWAIT);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			/* EAGAIN or a per-destination error: skip one */
			off++;
			continue;
		}
		off += (unsigned)rc;
	}
}

static void
dns_udp_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct dns_udp *u = arg;
	unsigned i, nout;
	int round, n;

	for (round = 0; round < DNS_UDP_ROUNDS; round++) {
		for (i = 0; i < DNS_UDP_BATCH; i++) {
			memset(&u->msg_in[i].msg_hdr, 0,
			    sizeof(u->msg_in[i].msg_hdr));
			u->msg_in[i].msg_hdr.msg_name = &u->from[i];
			u->msg_in[i].msg_hdr.msg_namelen = sizeof(u->from[i]);
			u->msg_in[i].msg_hdr.msg_iov = &u->iov_in[i];
			u->msg_in[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, u->msg_in, DNS_UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("dnsd: udp receive");
			return;
		}
		nout = 0;
		for (i = 0; i < (unsigned)n; i++) {
			/* a datagram larger than the buffer was cut: drop */
			if (u->msg_in[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue;
			dns_udp_one(u, i, &nout);
		}
		dns_udp_send(u, nout);
		if (n < DNS_UDP_BATCH)
			return;
	}
}

/* A bound, non-blocking UDP or TCP socket for addr:port. */
int
dns_udp_bind(const char *addr, int port, int type, int *fdp)
{
	struct addrinfo hints, *res = NULL;
	char ps[16];
	int fd, one = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = type;
	snprintf(ps, sizeof(ps), "%d", port);
	if ((rc = getaddrinfo(addr, ps, &hints, &res)) != 0 || res == NULL) {
		log_warnx("dnsd: bad listen address %s: %s", addr,
		    gai_strerror(rc));
		return ERR_INVAL;
	}
	fd = socket(res->ai_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("dnsd: socket");
		freeaddrinfo(res);
		return ERR_IO;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
		log_warn("dnsd: bind %s:%d/%s", addr, port,
		    type == SOCK_DGRAM ? "udp" : "tcp");
		close(fd);
		freeaddrinfo(res);
		return ERR_IO;
	}
	freeaddrinfo(res);
	*fdp = fd;
	return 0;
}

int
dns_udp_open(struct dnsd *d, const char *addr, int port,
    struct dns_udp **out)
{
	struct dns_udp *u;
	int rc, sz = DNS_UDP_RCVBUF, i;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return ERR_NOMEM;
	u->d = d;
	u->fd = -1;
	u->in = malloc((size_t)DNS_UDP_BATCH * DNSD_MAX_MSG);
	u->out = malloc((size_t)DNS_UDP_BATCH * DNSD_MAX_MSG);
	if (u->in == NULL || u->out == NULL) {
		dns_udp_close(u);
		return ERR_NOMEM;
	}
	for (i = 0; i < DNS_UDP_BATCH; i++) {
		u->iov_in[i].iov_base = u->in + (size_t)i * DNSD_MAX_MSG;
		u->iov_in[i].iov_len = DNSD_MAX_MSG;
	}
	if ((rc = dns_udp_bind(addr, port, SOCK_DGRAM, &u->fd)) != 0) {
		dns_udp_close(u);
		return rc;
	}
	(void)setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	(void)setsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if ((rc = loop_add_fd(d->loop, u->fd, LOOP_READ, dns_udp_readable,
	    u)) != 0) {
		dns_udp_close(u);
		return rc;
	}
	*out = u;
	return 0;
}

void
dns_udp_close(struct dns_udp *u)
{
	struct dns_udp_fwd *f;

	if (u == NULL)
		return;
	while ((f = u->fwds) != NULL) {
		dns_recursor_cancel(u->d->rec, f->id);
		dns_udp_fwd_unlink(f);
		free(f);
	}
	if (u->fd >= 0) {
		loop_del_fd(u->d->loop, u->fd);
		close(u->fd);
	}
	free(u->in);
	free(u->out);
	free(u);
}
