/*
 * dns_tcp.c — the TCP listener (see dns_tcp.h).
 *
 * Key decisions: a connection answers its queries strictly in order —
 * while one is with a recursor, later frames wait in the read buffer — so
 * pipelining needs no reordering; answers are queued in one write buffer
 * and reading pauses while more than DNS_TCP_WBUF_HIGH bytes wait, so a
 * client that does not read cannot grow dnsd's memory. Connections over
 * the cap make room by closing the longest-idle connection (one not
 * waiting for a recursor), so idle connections held open by one client
 * cannot lock others out; if none can go, the newcomer is closed at once
 * (a reset, not a hang). A sweep once a second closes connections idle
 * for DNS_TCP_IDLE_MS. Reference: RFC 7766 §6.2.1–6.2.3; NSD server.c
 * (tcp handler: length prefix, per-connection buffers).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnsd/dns_query.h"
#include "dnsd/dns_ratelimit.h"
#include "dnsd/dns_recursor.h"
#include "dnsd/dns_tcp.h"
#include "dnsd/dns_udp.h"
#include "dnsd/dnsd.h"
#include "err.h"
#include "log.h"
#include "loop.h"

#define DNS_TCP_RBUF (2 + DNSD_MAX_MSG)
#define DNS_TCP_WBUF_HIGH (256 * 1024)
#define DNS_TCP_SWEEP_MS 1000

struct dns_tcp_conn {
	struct dns_tcp_conn *next, *prev;
	struct dns_tcp *t;
	int fd;
	uint8_t *rbuf; /* DNS_TCP_RBUF */
	size_t rlen;
	uint8_t *wbuf;
	size_t wlen, woff, wcap;
	uint64_t last_ms;
	bool forwarding; /* a query is with a recursor */
	uint64_t fwd_id;
	uint32_t events;
	bool eof;
};

struct dns_tcp {
	struct dnsd *d;
	int fd;
	struct dns_tcp_conn *conns;
	size_t nconns;
	uint64_t sweep;
	uint8_t *out; /* DNSD_MAX_MSG + 2 */
};

static void dns_tcp_process(struct dns_tcp_conn *c);

static void
dns_tcp_conn_close(struct dns_tcp_conn *c)
{
	struct dns_tcp *t = c->t;

	if (c->forwarding)
		dns_recursor_cancel(t->d->rec, c->fwd_id);
	loop_del_fd(t->d->loop, c->fd);
	close(c->fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		t->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	t->nconns--;
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

/* Appends a framed reply to the write buffer. */
static int
dns_tcp_queue(struct dns_tcp_conn *c, const uint8_t *msg, size_t len)
{
	size_t need = c->wlen + 2 + len, cap;
	uint8_t *nb;

	if (c->woff > 0 && c->woff == c->wlen)
		c->woff = c->wlen = 0, need = 2 + len;
	if (need > c->wcap) {
		cap = c->wcap > 0 ? c->wcap : 4096;
		while (cap < need)
			cap *= 2;
		if ((nb = realloc(c->wbuf, cap)) == NULL)
			return ERR_NOMEM;
		c->wbuf = nb;
		c->wcap = cap;
	}
	c->wbuf[c->wlen] = (uint8_t)(len >> 8);
	c->wbuf[c->wlen + 1] = (uint8_t)len;
	memcpy(c->wbuf + c->wlen + 2, msg, len);
	c->wlen += 2 + len;
	return 0;
}

/* Writes what it can; returns false when the connection was closed. */
static bool
dns_tcp_flush(struct dns_tcp_conn *c)
{
	ssize_t n;

	while (c->woff < c->wlen) {
		n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			dns_tcp_conn_close(c);
			return false;
		}
		c->woff += (size_t)n;
	}
	if (c->woff == c->wlen)
		c->woff = c->wlen = 0;
	return true;
}

/* Read while there is room for answers; write while answers wait. */
static void
dns_tcp_interest(struct dns_tcp_conn *c)
{
	uint32_t ev = 0;

	if (!c->eof && c->wlen - c->woff < DNS_TCP_WBUF_HIGH &&
	    !c->forwarding)
		ev |= LOOP_READ;
	if (c->wlen > c->woff)
		ev |= LOOP_WRITE;
	if (ev != c->events) {
		c->events = ev;
		loop_mod_fd(c->t->d->loop, c->fd, ev);
	}
}

static void
dns_tcp_forwarded(void *arg, const uint8_t *ans, size_t alen)
{
	struct dns_tcp_conn *c = arg;
	struct dns_tcp *t = c->t;
	size_t outlen, qlen;

	c->forwarding = false;
	qlen = (size_t)c->rbuf[0] << 8 | c->rbuf[1];
	if (dnsd_forwarded(t->d, c->rbuf + 2, qlen, true, ans, alen, t->out,
	    DNSD_MAX_MSG, &outlen) == DNS_QUERY_REPLY &&
	    dns_tcp_queue(c, t->out, outlen) != 0) {
		dns_tcp_conn_close(c);
		return;
	}
	memmove(c->rbuf, c->rbuf + 2 + qlen, c->rlen - 2 - qlen);
	c->rlen -= 2 + qlen;
	c->last_ms = loop_now_ms(t->d->loop);
	dns_tcp_process(c);
}

/*
 * Answers one complete frame at the head of rbuf. Returns 1 when it was
 * consumed, 0 when it went to a recursor (stays in rbuf until the
 * answer), -1 when the connection was closed.
 */
static int
dns_tcp_one(struct dns_tcp_conn *c, size_t qlen)
{
	struct dns_tcp *t = c->t;
	size_t outlen = 0;
	int rc;

	rc = dnsd_answer(t->d, c->rbuf + 2, qlen, true, t->out, DNSD_MAX_MSG,
	    &outlen);
	if (rc == DNS_QUERY_FORWARD) {
		if (dns_recursor_forward(t->d->rec, c->rbuf + 2, qlen,
		    true, dnsd_rand(t->d), dns_tcp_forwarded, c, &c->fwd_id) == 0) {
			c->forwarding = true;
			return 0;
		}
		rc = dnsd_forwarded(t->d, c->rbuf + 2, qlen, true, NULL, 0,
		    t->out, DNSD_MAX_MSG, &outlen);
	}
	if (rc == DNS_QUERY_REPLY && dns_tcp_queue(c, t->out, outlen) != 0) {
		dns_tcp_conn_close(c);
		return -1;
	}
	return 1;
}

/* Answers every complete frame in order, then flushes. */
static void
dns_tcp_process(struct dns_tcp_conn *c)
{
	size_t qlen, off = 0;
	int rc = 1;

	while (!c->forwarding && c->rlen - off >= 2 &&
	    c->wlen - c->woff < DNS_TCP_WBUF_HIGH) {
		qlen = (size_t)c->rbuf[off] << 8 | c->rbuf[off + 1];
		if (c->rlen - off < 2 + qlen)
			break;
		if (off > 0) {
			memmove(c->rbuf, c->rbuf + off, c->rlen - off);
			c->rlen -= off;
			off = 0;
		}
		if ((rc = dns_tcp_one(c, qlen)) < 0)
			return;
		if (rc == 1)
			off = 2 + qlen;
	}
	if (off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	if (!dns_tcp_flush(c))
		return;
	/* peer closed its side and nothing is left to answer or send */
	if (c->eof && !c->forwarding && c->wlen == c->woff &&
	    (c->rlen < 2 || c->rlen < 2 + ((size_t)c->rbuf[0] << 8 |
	    c->rbuf[1]))) {
		dns_tcp_conn_close(c);
		return;
	}
	dns_tcp_interest(c);
}

static void
dns_tcp_conn_event(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct dns_tcp_conn *c = arg;
	ssize_t n;

	/* reset or error: nothing can be sent back; closing also stops a
	 * level-triggered HUP from spinning while reads are paused */
	if (events & LOOP_ERROR) {
		dns_tcp_conn_close(c);
		return;
	}
	if ((events & LOOP_WRITE) && !dns_tcp_flush(c))
		return;
	if ((events & LOOP_READ) && !c->eof && !c->forwarding) {
		n = recv(fd, c->rbuf + c->rlen, DNS_TCP_RBUF - c->rlen,
		    MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			n = -2;
		if (n == -1) {
			dns_tcp_conn_close(c);
			return;
		}
		if (n == 0)
			c->eof = true;
		else if (n > 0) {
			c->rlen += (size_t)n;
			c->last_ms = loop_now_ms(l);
		}
	}
	dns_tcp_process(c);
}

/* At the cap: closes the longest-idle connection; false if none can go. */
static bool
dns_tcp_evict(struct dns_tcp *t)
{
	struct dns_tcp_conn *c, *old = NULL;

	for (c = t->conns; c != NULL; c = c->next)
		if (!c->forwarding && (old == NULL || c->last_ms < old->last_ms))
			old = c;
	if (old == NULL)
		return false;
	dns_tcp_conn_close(old);
	return true;
}

static void
dns_tcp_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct dns_tcp *t = arg;
	struct dns_tcp_conn *c;
	int cfd, i;

	for (i = 0; i < 64; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("dnsd: tcp accept");
			return;
		}
		if (t->nconns >= DNS_TCP_MAX_CONNS && !dns_tcp_evict(t)) {
			close(cfd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->rbuf = malloc(DNS_TCP_RBUF)) == NULL) {
			free(c);
			close(cfd);
			continue;
		}
		c->t = t;
		c->fd = cfd;
		c->last_ms = loop_now_ms(l);
		c->events = LOOP_READ;
		if (loop_add_fd(l, cfd, LOOP_READ, dns_tcp_conn_event, c) != 0) {
			free(c->rbuf);
			free(c);
			close(cfd);
			continue;
		}
		c->next = t->conns;
		if (t->conns != NULL)
			t->conns->prev = c;
		t->conns = c;
		t->nconns++;
	}
}

static void
dns_tcp_sweep(struct loop *l, void *arg)
{
	struct dns_tcp *t = arg;
	struct dns_tcp_conn *c, *next;
	uint64_t now = loop_now_ms(l);

	for (c = t->conns; c != NULL; c = next) {
		next = c->next;
		if (!c->forwarding && now - c->last_ms >= DNS_TCP_IDLE_MS)
			dns_tcp_conn_close(c);
	}
	t->sweep = loop_timer_add(l, DNS_TCP_SWEEP_MS, dns_tcp_sweep, t);
}

int
dns_tcp_open(struct dnsd *d, const char *addr, int port,
    struct dns_tcp **out)
{
	struct dns_tcp *t;
	int rc;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ERR_NOMEM;
	t->d = d;
	t->fd = -1;
	if ((t->out = malloc(DNSD_MAX_MSG)) == NULL) {
		free(t);
		return ERR_NOMEM;
	}
	if ((rc = dns_udp_bind(addr, port, SOCK_STREAM, &t->fd)) != 0) {
		dns_tcp_close(t);
		return rc;
	}
	if (listen(t->fd, 128) != 0) {
		log_warn("dnsd: listen %s:%d/tcp", addr, port);
		dns_tcp_close(t);
		return ERR_IO;
	}
	if ((rc = loop_add_fd(d->loop, t->fd, LOOP_READ, dns_tcp_accept,
	    t)) != 0) {
		close(t->fd);
		t->fd = -1;
		dns_tcp_close(t);
		return rc;
	}
	t->sweep = loop_timer_add(d->loop, DNS_TCP_SWEEP_MS, dns_tcp_sweep, t);
	*out = t;
	return 0;
}

void
dns_tcp_close(struct dns_tcp *t)
{
	if (t == NULL)
		return;
	while (t->conns != NULL)
		dns_tcp_conn_close(t->conns);
	if (t->sweep != 0)
		loop_timer_cancel(t->d->loop, t->sweep);
	if (t->fd >= 0) {
		loop_del_fd(t->d->loop, t->fd);
		close(t->fd);
	}
	free(t->out);
	free(t);
}

size_t
dns_tcp_conns(const struct dns_tcp *t)
{
	return t->nconns;
}
