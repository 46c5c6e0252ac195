/*
 * dns_recursor.c — forwarding to the recursors (see dns_recursor.h).
 *
 * Key decision: one connected socket per attempt — UDP, or TCP when the
 * client asked over TCP (Consul forwards on the client's transport) — so
 * the kernel filters answers by source address and an ICMP
 * port-unreachable or a TCP reset shows up at once (the next recursor is
 * tried without waiting for the timeout); the upstream sees a random ID,
 * never the client's.
 * Reference: Consul agent/dns.go handleRecurse (sequential order,
 * recursor_timeout per attempt, SERVFAIL when all fail); RFC 5452 §9.2
 * (random IDs).
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "dnsd/dns_recursor.h"
#include "err.h"
#include "log.h"
#include "loop.h"

struct dns_recursor_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};

struct dns_fwd {
	struct dns_fwd *next, *prev;
	struct dns_recursor *r;
	uint64_t id;
	uint8_t *q;
	size_t len;
	struct dns_recursor_addr addrs[DNS_SETTINGS_MAX_RECURSORS];
	size_t naddrs, tried, start;
	uint64_t rnd;
	uint16_t msgid;
	int fd;
	uint64_t timer;
	uint32_t timeout_ms;
	dns_recursor_cb cb;
	void *arg;
	/* over TCP (the client asked over TCP, as Consul does) */
	bool tcp;
	bool connected;
	uint8_t *tbuf;  /* 2 + 65535: the framed answer being read */
	size_t tlen;    /* bytes read into tbuf */
	size_t woff;    /* bytes of the framed query sent */
};

struct dns_recursor {
	struct loop *loop;
	struct dns_recursor_addr addrs[DNS_SETTINGS_MAX_RECURSORS];
	size_t naddrs;
	uint32_t timeout_ms;
	enum dns_recursor_strategy strategy;
	struct dns_fwd *head;
	size_t npending;
	uint64_t next_id;
};

static void dns_recursor_attempt(struct dns_fwd *f);

int
dns_recursor_new(struct loop *l, struct dns_recursor **out)
{
	struct dns_recursor *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ERR_NOMEM;
	r->loop = l;
	r->timeout_ms = 2000;
	r->next_id = 1;
	*out = r;
	return 0;
}

/* "ip", "ip:port", "[v6]", "[v6]:port" into a socket address. */
static int
dns_recursor_parse(const char *s, struct dns_recursor_addr *a)
{
	char host[128];
	const char *port = "53", *p;
	struct addrinfo hints, *res = NULL;
	size_t n;

	if (*s == '[') {
		if ((p = strchr(s, ']')) == NULL ||
		    (n = (size_t)(p - s - 1)) >= sizeof(host))
			return ERR_INVAL;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (p[1] == ':')
			port = p + 2;
		else if (p[1] != '\0')
			return ERR_INVAL;
	} else if ((p = strchr(s, ':')) != NULL && strchr(p + 1, ':') == NULL) {
		if ((n = (size_t)(p - s)) >= sizeof(host))
			return ERR_INVAL;
		memcpy(host, s, n);
		host[n] = '\0';
		port = p + 1;
	} else {
		if (strlen(s) >= sizeof(host))
			return ERR_INVAL;
		strcpy(host, s);
	}
	if (*port == '\0' || strspn(port, "0123456789") != strlen(port) ||
	    atoi(port) <= 0 || atoi(port) > 65535)
		return ERR_INVAL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
		return ERR_INVAL;
	memcpy(&a->sa, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int
dns_recursor_configure(struct dns_recursor *r, char *const *addrs, size_t n,
    uint32_t timeout_ms, enum dns_recursor_strategy strategy, char *err,
    size_t errlen)
{
	struct dns_recursor_addr tmp[DNS_SETTINGS_MAX_RECURSORS];
	size_t i;

	if (n > DNS_SETTINGS_MAX_RECURSORS)
		n = DNS_SETTINGS_MAX_RECURSORS;
	for (i = 0; i < n; i++) {
		if (dns_recursor_parse(addrs[i], &tmp[i]) != 0) {
			snprintf(err, errlen, "recursors: invalid address "
			    "\"%s\" (want ip or ip:port)", addrs[i]);
			return ERR_INVAL;
		}
	}
	memcpy(r->addrs, tmp, n * sizeof(tmp[0]));
	r->naddrs = n;
	r->timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
	r->strategy = strategy;
	return 0;
}

size_t
dns_recursor_count(const struct dns_recursor *r)
{
	return r->naddrs;
}

size_t
dns_recursor_pending(const struct dns_recursor *r)
{
	return r->npending;
}

/* Ends the current attempt: socket and timer. */
static void
dns_recursor_end_attempt(struct dns_fwd *f)
{
	if (f->fd >= 0) {
		loop_del_fd(f->r->loop, f->fd);
		close(f->fd);
		f->fd = -1;
	}
	if (f->timer != 0) {
		loop_timer_cancel(f->r->loop, f->timer);
		f->timer = 0;
	}
	f->connected = false;
	f->tlen = f->woff = 0;
}

static void
dns_recursor_unlink_free(struct dns_fwd *f)
{
	struct dns_recursor *r = f->r;

	dns_recursor_end_attempt(f);
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		r->head = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	r->npending--;
	free(f->q);
	free(f->tbuf);
	free(f);
}

static void
dns_recursor_finish(struct dns_fwd *f, const uint8_t *ans, size_t len)
{
	dns_recursor_cb cb = f->cb;
	void *arg = f->arg;

	/* the callback may forward again: free first, answer last */
	if (ans == NULL) {
		dns_recursor_unlink_free(f);
		cb(arg, NULL, 0);
		return;
	}
	dns_recursor_end_attempt(f);
	cb(arg, ans, len);
	dns_recursor_unlink_free(f);
}

static void
dns_recursor_next(struct dns_fwd *f)
{
	dns_recursor_end_attempt(f);
	if (f->tried >= f->naddrs) {
		dns_recursor_finish(f, NULL, 0);
		return;
	}
	dns_recursor_attempt(f);
}

static void
dns_recursor_timeout(struct loop *l, void *arg)
{
	struct dns_fwd *f = arg;

	f->timer = 0;
	dns_recursor_next(f);
}

/* Whether a complete answer is ours: our ID, QR set. */
static bool
dns_recursor_ours(const struct dns_fwd *f, const uint8_t *m, size_t n)
{
	return n >= 12 && (m[0] << 8 | m[1]) == f->msgid && (m[2] & 0x80);
}

static void
dns_recursor_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct dns_fwd *f = arg;
	uint8_t buf[65536];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* ECONNREFUSED (ICMP) and the like: next recursor */
			dns_recursor_next(f);
			return;
		}
		/* ours: our ID, QR set; anything else is ignored */
		if (dns_recursor_ours(f, buf, (size_t)n)) {
			dns_recursor_finish(f, buf, (size_t)n);
			return;
		}
	}
}

/* TCP: send the framed query once connected, then read the framed
 * answer (RFC 7766 §8); any error or EOF moves to the next recursor. */
static void
dns_recursor_tcp_event(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct dns_fwd *f = arg;
	uint8_t hdr[2] = { (uint8_t)(f->len >> 8), (uint8_t)f->len };
	struct iovec iov[2];
	int err = 0;
	socklen_t el = sizeof(err);
	ssize_t n;
	size_t want;

	if (!f->connected) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 ||
		    err != 0) {
			dns_recursor_next(f);
			return;
		}
		f->connected = true;
	}
	while (f->woff < 2 + f->len) {
		iov[0].iov_base = hdr + (f->woff < 2 ? f->woff : 2);
		iov[0].iov_len = f->woff < 2 ? 2 - f->woff : 0;
		iov[1].iov_base = f->q + (f->woff > 2 ? f->woff - 2 : 0);
		iov[1].iov_len = f->len - (f->woff > 2 ? f->woff - 2 : 0);
		n = writev(fd, iov, 2);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			dns_recursor_next(f);
			return;
		}
		f->woff += (size_t)n;
		if (f->woff == 2 + f->len)
			loop_mod_fd(l, fd, LOOP_READ);
	}
	for (;;) {
		want = f->tlen < 2 ? 2 : 2 + ((size_t)f->tbuf[0] << 8 |
		    f->tbuf[1]);
		if (f->tlen >= 2 && f->tlen == want) {
			if (dns_recursor_ours(f, f->tbuf + 2, want - 2))
				dns_recursor_finish(f, f->tbuf + 2, want - 2);
			else
				dns_recursor_next(f);
			return;
		}
		n = recv(fd, f->tbuf + f->tlen, want - f->tlen, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			dns_recursor_next(f);
			return;
		}
		f->tlen += (size_t)n;
	}
}

/* Opens the socket of one attempt at a; 0 or -1 (try the next). */
static int
dns_recursor_open(struct dns_fwd *f, const struct dns_recursor_addr *a)
{
	struct dns_recursor *r = f->r;

	f->fd = socket(a->sa.ss_family, (f->tcp ? SOCK_STREAM : SOCK_DGRAM) |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd < 0) {
		log_warn("dnsd: recursor socket");
		return -1;
	}
	if (f->tcp) {
		if ((connect(f->fd, (const struct sockaddr *)&a->sa,
		    a->len) != 0 && errno != EINPROGRESS) ||
		    loop_add_fd(r->loop, f->fd, LOOP_WRITE,
		    dns_recursor_tcp_event, f) != 0)
			goto fail;
		return 0;
	}
	if (connect(f->fd, (const struct sockaddr *)&a->sa, a->len) != 0 ||
	    send(f->fd, f->q, f->len, 0) != (ssize_t)f->len ||
	    loop_add_fd(r->loop, f->fd, LOOP_READ, dns_recursor_readable,
	    f) != 0)
		goto fail;
	return 0;
fail:
	close(f->fd);
	f->fd = -1;
	return -1;
}

static void
dns_recursor_attempt(struct dns_fwd *f)
{
	struct dns_recursor *r = f->r;
	const struct dns_recursor_addr *a;
	size_t idx;

	while (f->tried < f->naddrs) {
		idx = (f->start + f->tried++) % f->naddrs;
		a = &f->addrs[idx];
		f->rnd = f->rnd * 6364136223846793005ull + 1442695040888963407ull;
		f->msgid = (uint16_t)(f->rnd >> 48);
		f->q[0] = (uint8_t)(f->msgid >> 8);
		f->q[1] = (uint8_t)f->msgid;
		if (dns_recursor_open(f, a) != 0)
			continue;
		f->timer = loop_timer_add(r->loop, f->timeout_ms,
		    dns_recursor_timeout, f);
		if (f->timer == 0) {
			dns_recursor_end_attempt(f);
			continue;
		}
		return;
	}
	/* every recursor failed at once: fail on the next iteration, so the
	 * callback never runs inside dns_recursor_forward() */
	f->timer = loop_timer_add(r->loop, 0, dns_recursor_timeout, f);
	if (f->timer == 0)
		fatal("dnsd: out of memory");
}

int
dns_recursor_forward(struct dns_recursor *r, const uint8_t *q, size_t len,
    bool tcp, uint64_t rnd, dns_recursor_cb cb, void *arg, uint64_t *id)
{
	struct dns_fwd *f;

	if (r->naddrs == 0 || len < 12 || len > 65535)
		return ERR_INVAL;
	if (r->npending >= DNS_RECURSOR_MAX_PENDING)
		return ERR_AGAIN;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return ERR_NOMEM;
	if ((f->q = malloc(len)) == NULL) {
		free(f);
		return ERR_NOMEM;
	}
	memcpy(f->q, q, len);
	f->len = len;
	f->tcp = tcp;
	if (tcp && (f->tbuf = malloc(2 + 65535)) == NULL) {
		free(f->q);
		free(f);
		return ERR_NOMEM;
	}
	f->r = r;
	f->id = r->next_id++;
	f->fd = -1;
	f->rnd = rnd | 1;
	f->cb = cb;
	f->arg = arg;
	f->timeout_ms = r->timeout_ms;
	memcpy(f->addrs, r->addrs, r->naddrs * sizeof(r->addrs[0]));
	f->naddrs = r->naddrs;
	f->start = r->strategy == DNS_RECURSOR_RANDOM ?
	    (size_t)((rnd >> 33) % r->naddrs) : 0;
	f->next = r->head;
	if (r->head != NULL)
		r->head->prev = f;
	r->head = f;
	r->npending++;
	if (id != NULL)
		*id = f->id;
	dns_recursor_attempt(f);
	return 0;
}

void
dns_recursor_cancel(struct dns_recursor *r, uint64_t id)
{
	struct dns_fwd *f;

	for (f = r->head; f != NULL; f = f->next) {
		if (f->id == id) {
			dns_recursor_unlink_free(f);
			return;
		}
	}
}

void
dns_recursor_free(struct dns_recursor *r)
{
	if (r == NULL)
		return;
	while (r->head != NULL)
		dns_recursor_unlink_free(r->head);
	free(r);
}
