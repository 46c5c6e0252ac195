/*
 * test_dns_io.c — dnsd's daemon-side pieces without the network of a
 * real deployment: the per-/24 token bucket (dns_ratelimit.c), reading
 * dns_config into settings (dns_settings.c), and forwarding to recursors
 * (dns_recursor.c) against fake upstreams on 127.0.0.1 driven by one
 * loop: an answering one, a refused port (ICMP: the next recursor at
 * once), a silent one (the timeout), a wrong-ID answer (ignored), the
 * random strategy, cancel and the pending cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "dnsd/dns_ratelimit.h"
#include "dnsd/dns_recursor.h"
#include "dnsd/dns_settings.h"
#include "err.h"
#include "loop.h"

/* ---- rate limit ---- */

static struct sockaddr_in
v4(const char *ip)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &s.sin_addr), 1);
	return s;
}

static void
test_ratelimit(void **state)
{
	struct dns_ratelimit *rl;
	struct sockaddr_in a = v4("192.0.2.10"), b = v4("192.0.2.99"),
	    c = v4("198.51.100.1");
	struct sockaddr_in6 s6;
	int i, ok;

	assert_null(dns_ratelimit_new(0, 10)); /* 0 = no limit */
	assert_true(dns_ratelimit_allow(NULL, (struct sockaddr *)&a, 0));
	rl = dns_ratelimit_new(10, 5);
	assert_non_null(rl);
	/* a burst of 5, then nothing until tokens refill */
	for (i = 0, ok = 0; i < 20; i++)
		ok += dns_ratelimit_allow(rl, (struct sockaddr *)&a, 1000);
	assert_int_equal(ok, 5);
	/* the same /24 shares the bucket; another network has its own */
	assert_false(dns_ratelimit_allow(rl, (struct sockaddr *)&b, 1000));
	assert_true(dns_ratelimit_allow(rl, (struct sockaddr *)&c, 1000));
	/* 10 qps: 100 ms gives one token, 1 s gives the burst back */
	assert_true(dns_ratelimit_allow(rl, (struct sockaddr *)&a, 1100));
	assert_false(dns_ratelimit_allow(rl, (struct sockaddr *)&a, 1100));
	for (i = 0, ok = 0; i < 20; i++)
		ok += dns_ratelimit_allow(rl, (struct sockaddr *)&b, 3000);
	assert_int_equal(ok, 5);
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_addr.s6_addr[15] = 1;
	for (i = 0, ok = 0; i < 20; i++)
		ok += dns_ratelimit_allow(rl, (struct sockaddr *)&s6, 3000);
	assert_int_equal(ok, 5);
	dns_ratelimit_free(rl);
}

/* ---- settings ---- */

static void
cfg_init(struct config *c, const char *json)
{
	static char *recs[] = { "127.0.0.1:5353", "[::1]:53" };

	memset(c, 0, sizeof(*c));
	c->domain = "cairn.";
	c->alt_domain = "";
	c->datacenter = "east";
	c->node_name = "srv1";
	c->server = true;
	c->dns_config_json = (char *)json;
	c->recursors.v = recs;
	c->recursors.n = 2;
}

static void
test_settings(void **state)
{
	struct dns_settings s;
	struct config c;
	char err[256];

	cfg_init(&c, "{}");
	assert_int_equal(dns_settings_load(&s, &c, err, sizeof(err)), 0);
	/* Consul's defaults (spec §5.4) */
	assert_string_equal(s.dns.domain, "cairn.");
	assert_null(s.dns.alt_domain);
	assert_string_equal(s.dns.datacenter, "east");
	assert_int_equal(s.dns.udp_answer_limit, 3);
	assert_true(s.dns.recursors);
	assert_int_equal(s.n_recursors, 2);
	assert_int_equal(s.recursor_timeout_ms, 2000);
	assert_int_equal(s.strategy, DNS_RECURSOR_SEQUENTIAL);
	assert_true(s.allow_stale);
	assert_int_equal(s.dns.n_ns_servers, 1);
	assert_string_equal(s.dns.ns_servers[0], "srv1");
	assert_int_equal(s.rate_limit, 0); /* no limit, as Consul */
	assert_int_equal(s.rate_burst, 0);
	dns_settings_free(&s);

	cfg_init(&c, "{\"allow_stale\": false, \"max_stale\": \"10s\", "
	    "\"node_ttl\": \"30s\", \"service_ttl\": {\"*\": \"5s\", "
	    "\"web\": \"1m\"}, \"udp_answer_limit\": 7, \"a_record_limit\": 2,"
	    " \"enable_truncate\": true, \"only_passing\": true, "
	    "\"recursor_timeout\": \"250ms\", \"recursor_strategy\": "
	    "\"random\", \"enable_additional_node_meta_txt\": false, "
	    "\"disable_compression\": true, \"x_cairn_rate_limit\": 50, "
	    "\"x_cairn_rate_burst\": 80, "
	    "\"soa\": {\"expire\": 1, \"min_ttl\": 2, \"refresh\": 3, "
	    "\"retry\": 4}}");
	c.alt_domain = "alt.";
	c.server = false;
	assert_int_equal(dns_settings_load(&s, &c, err, sizeof(err)), 0);
	assert_false(s.allow_stale);
	assert_int_equal(s.max_stale_ms, 10000);
	assert_int_equal(s.dns.node_ttl_s, 30);
	assert_int_equal(dns_config_service_ttl(&s.dns, "web", 3), 60);
	assert_int_equal(dns_config_service_ttl(&s.dns, "db", 2), 5);
	assert_int_equal(s.dns.udp_answer_limit, 7);
	assert_int_equal(s.dns.a_record_limit, 2);
	assert_true(s.dns.enable_truncate);
	assert_true(s.dns.only_passing);
	assert_false(s.dns.enable_additional_node_meta_txt);
	assert_int_equal(s.recursor_timeout_ms, 250);
	assert_int_equal(s.strategy, DNS_RECURSOR_RANDOM);
	assert_int_equal(s.dns.soa.expire_s, 1);
	assert_int_equal(s.dns.soa.min_ttl_s, 2);
	assert_int_equal(s.dns.soa.refresh_s, 3);
	assert_int_equal(s.dns.soa.retry_s, 4);
	assert_string_equal(s.dns.alt_domain, "alt.");
	assert_int_equal(s.dns.n_ns_servers, 0);
	assert_int_equal(s.rate_limit, 50);
	assert_int_equal(s.rate_burst, 80);
	dns_settings_free(&s);

	cfg_init(&c, "{\"recursor_strategy\": \"roundrobin\"}");
	assert_int_equal(dns_settings_load(&s, &c, err, sizeof(err)),
	    ERR_CONFIG);
	assert_non_null(strstr(err, "recursor_strategy"));
	dns_settings_free(&s);
	cfg_init(&c, "{\"node_ttl\": \"soon\"}");
	assert_int_equal(dns_settings_load(&s, &c, err, sizeof(err)),
	    ERR_CONFIG);
	assert_non_null(strstr(err, "node_ttl"));
	cfg_init(&c, "{\"x_cairn_rate_limit\": -1}");
	assert_int_equal(dns_settings_load(&s, &c, err, sizeof(err)),
	    ERR_CONFIG);
	assert_non_null(strstr(err, "x_cairn_rate_limit"));
	cfg_init(&c, "[1]");
	assert_int_equal(dns_settings_load(&s, &c, err, sizeof(err)),
	    ERR_CONFIG);
}

/* ---- recursors ---- */

enum up_mode { UP_ANSWER, UP_SILENT, UP_WRONG_ID_FIRST };

struct upstream {
	int fd;
	uint16_t port;
	enum up_mode mode;
	int got;
	uint8_t marker;
};

static void
up_read(struct loop *l, int fd, uint32_t ev, void *arg)
{
	struct upstream *u = arg;
	uint8_t buf[512];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT,
	    (struct sockaddr *)&from, &fl)) > 0) {
		u->got++;
		if (u->mode == UP_SILENT)
			continue;
		buf[2] |= 0x80; /* QR */
		buf[3] = 0x00;
		buf[n] = u->marker;
		if (u->mode == UP_WRONG_ID_FIRST) {
			buf[0] ^= 0xff;
			sendto(fd, buf, (size_t)n + 1, 0,
			    (struct sockaddr *)&from, fl);
			buf[0] ^= 0xff;
		}
		sendto(fd, buf, (size_t)n + 1, 0, (struct sockaddr *)&from, fl);
		fl = sizeof(from);
	}
}

static void
up_open(struct loop *l, struct upstream *u, enum up_mode mode,
    uint8_t marker)
{
	struct sockaddr_in s = v4("127.0.0.1");
	socklen_t sl = sizeof(s);

	memset(u, 0, sizeof(*u));
	u->mode = mode;
	u->marker = marker;
	u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(u->fd >= 0);
	assert_int_equal(bind(u->fd, (struct sockaddr *)&s, sizeof(s)), 0);
	assert_int_equal(getsockname(u->fd, (struct sockaddr *)&s, &sl), 0);
	u->port = ntohs(s.sin_port);
	assert_int_equal(loop_add_fd(l, u->fd, LOOP_READ, up_read, u), 0);
}

static void
up_close(struct loop *l, struct upstream *u)
{
	loop_del_fd(l, u->fd);
	close(u->fd);
}

/* A port nobody listens on (ICMP port unreachable). */
static uint16_t
dead_port(void)
{
	struct sockaddr_in s = v4("127.0.0.1");
	socklen_t sl = sizeof(s);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_int_equal(bind(fd, (struct sockaddr *)&s, sizeof(s)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&s, &sl), 0);
	close(fd);
	return ntohs(s.sin_port);
}

struct outcome {
	int calls;
	bool failed;
	uint8_t marker;
	uint16_t id;
	uint64_t at;
	struct loop *loop;
	int stop_after;
};

static void
fwd_done(void *arg, const uint8_t *ans, size_t len)
{
	struct outcome *o = arg;

	o->calls++;
	o->at = loop_clock_ms();
	o->failed = ans == NULL;
	if (ans != NULL) {
		assert_true(len >= 13);
		o->marker = ans[len - 1];
		o->id = (uint16_t)(ans[0] << 8 | ans[1]);
	}
	if (o->stop_after > 0 && --o->stop_after == 0)
		loop_stop(o->loop);
}

static void
guard(struct loop *l, void *arg)
{
	*(bool *)arg = true;
	loop_stop(l);
}

static bool
run_for(struct loop *l, uint64_t ms)
{
	bool fired = false;
	uint64_t t = loop_timer_add(l, ms, guard, &fired);

	assert_int_equal(loop_run(l), 0);
	loop_timer_cancel(l, t);
	return fired;
}

/* A query for example.com A with ID 0x1234. */
static const uint8_t query[] = {
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	0x00, 0x01, 0x00, 0x01,
};

static void
set_recursors(struct dns_recursor *r, const uint16_t *ports, size_t n,
    uint32_t timeout, enum dns_recursor_strategy st)
{
	char bufs[4][32], *addrs[4], err[128];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "127.0.0.1:%u", ports[i]);
		addrs[i] = bufs[i];
	}
	assert_int_equal(dns_recursor_configure(r, addrs, n, timeout, st, err,
	    sizeof(err)), 0);
}

static void
test_recursor_sequential(void **state)
{
	struct loop *l = loop_new();
	struct dns_recursor *r;
	struct upstream good, silent, wrong;
	struct outcome o;
	uint16_t ports[3];
	uint64_t t0, id;
	char *bad[] = { "not-an-ip" }, err[128];

	assert_non_null(l);
	assert_int_equal(dns_recursor_new(l, &r), 0);
	assert_int_equal(dns_recursor_forward(r, query, sizeof(query), false, 1,
	    fwd_done, &o, NULL), ERR_INVAL); /* no recursors */
	assert_int_equal(dns_recursor_configure(r, bad, 1, 100,
	    DNS_RECURSOR_SEQUENTIAL, err, sizeof(err)), ERR_INVAL);
	assert_non_null(strstr(err, "not-an-ip"));
	up_open(l, &good, UP_ANSWER, 0xa1);
	up_open(l, &silent, UP_SILENT, 0);
	up_open(l, &wrong, UP_WRONG_ID_FIRST, 0xb2);

	/* a refused port first: the answer comes at once from the next */
	ports[0] = dead_port();
	ports[1] = good.port;
	set_recursors(r, ports, 2, 3000, DNS_RECURSOR_SEQUENTIAL);
	memset(&o, 0, sizeof(o));
	o.loop = l;
	o.stop_after = 1;
	t0 = loop_clock_ms();
	assert_int_equal(dns_recursor_forward(r, query, sizeof(query), false, 7,
	    fwd_done, &o, NULL), 0);
	assert_int_equal(o.calls, 0); /* never from inside forward() */
	assert_false(run_for(l, 3000));
	assert_int_equal(o.calls, 1);
	assert_false(o.failed);
	assert_int_equal(o.marker, 0xa1);
	assert_true(o.at - t0 < 1500); /* well before the 3 s timeout */
	assert_int_equal(dns_recursor_pending(r), 0);

	/* a silent one first: the next one after the timeout */
	ports[0] = silent.port;
	set_recursors(r, ports, 2, 150, DNS_RECURSOR_SEQUENTIAL);
	memset(&o, 0, sizeof(o));
	o.loop = l;
	o.stop_after = 1;
	t0 = loop_clock_ms();
	assert_int_equal(dns_recursor_forward(r, query, sizeof(query), false, 8,
	    fwd_done, &o, NULL), 0);
	assert_false(run_for(l, 3000));
	assert_false(o.failed);
	assert_int_equal(o.marker, 0xa1);
	assert_true(o.at - t0 >= 140);
	assert_int_equal(silent.got, 1);

	/* an answer with another ID is ignored, the right one taken */
	ports[0] = wrong.port;
	set_recursors(r, ports, 1, 500, DNS_RECURSOR_SEQUENTIAL);
	memset(&o, 0, sizeof(o));
	o.loop = l;
	o.stop_after = 1;
	assert_int_equal(dns_recursor_forward(r, query, sizeof(query), false, 9,
	    fwd_done, &o, NULL), 0);
	assert_false(run_for(l, 3000));
	assert_int_equal(o.calls, 1);
	assert_false(o.failed);
	assert_int_equal(o.marker, 0xb2);
	assert_int_not_equal(o.id, 0x1234); /* upstream never sees ours */

	/* all fail: NULL, once */
	ports[0] = dead_port();
	ports[1] = silent.port;
	set_recursors(r, ports, 2, 100, DNS_RECURSOR_SEQUENTIAL);
	memset(&o, 0, sizeof(o));
	o.loop = l;
	assert_int_equal(dns_recursor_forward(r, query, sizeof(query), false, 10,
	    fwd_done, &o, NULL), 0);
	run_for(l, 400);
	assert_int_equal(o.calls, 1);
	assert_true(o.failed);

	/* cancel: the callback never runs */
	ports[0] = silent.port;
	set_recursors(r, ports, 1, 100, DNS_RECURSOR_SEQUENTIAL);
	memset(&o, 0, sizeof(o));
	assert_int_equal(dns_recursor_forward(r, query, sizeof(query), false, 11,
	    fwd_done, &o, &id), 0);
	assert_int_equal(dns_recursor_pending(r), 1);
	dns_recursor_cancel(r, id);
	assert_int_equal(dns_recursor_pending(r), 0);
	run_for(l, 300);
	assert_int_equal(o.calls, 0);

	/* a short message is refused */
	assert_int_equal(dns_recursor_forward(r, query, 11, false, 1, fwd_done, &o,
	    NULL), ERR_INVAL);
	/* pending ones are dropped silently by free */
	assert_int_equal(dns_recursor_forward(r, query, sizeof(query), false, 12,
	    fwd_done, &o, NULL), 0);
	dns_recursor_free(r);
	assert_int_equal(o.calls, 0);
	up_close(l, &good);
	up_close(l, &silent);
	up_close(l, &wrong);
	loop_free(l);
}

static void
test_recursor_random_and_cap(void **state)
{
	struct loop *l = loop_new();
	struct dns_recursor *r;
	struct upstream a, b, s;
	struct outcome o;
	uint16_t ports[2];
	int i, rc, ok = 0, busy = 0;

	assert_non_null(l);
	assert_int_equal(dns_recursor_new(l, &r), 0);
	up_open(l, &a, UP_ANSWER, 1);
	up_open(l, &b, UP_ANSWER, 2);
	up_open(l, &s, UP_SILENT, 0);
	ports[0] = a.port;
	ports[1] = b.port;
	set_recursors(r, ports, 2, 1000, DNS_RECURSOR_RANDOM);
	memset(&o, 0, sizeof(o));
	o.loop = l;
	o.stop_after = 40;
	for (i = 0; i < 40; i++)
		assert_int_equal(dns_recursor_forward(r, query, sizeof(query),
		    false, (uint64_t)i * 0x9e3779b97f4a7c15ull, fwd_done, &o,
		    NULL), 0);
	assert_false(run_for(l, 3000));
	/* both are used first; sequential would use only a */
	assert_true(a.got > 5);
	assert_true(b.got > 5);
	assert_int_equal(a.got + b.got, 40);

	/* the pending cap: ERR_AGAIN beyond it */
	ports[0] = s.port;
	set_recursors(r, ports, 1, 5000, DNS_RECURSOR_SEQUENTIAL);
	for (i = 0; i < DNS_RECURSOR_MAX_PENDING + 10; i++) {
		rc = dns_recursor_forward(r, query, sizeof(query), false, (uint64_t)i,
		    fwd_done, &o, NULL);
		if (rc == 0)
			ok++;
		else if (rc == ERR_AGAIN)
			busy++;
	}
	assert_int_equal(ok, DNS_RECURSOR_MAX_PENDING);
	assert_int_equal(busy, 10);
	dns_recursor_free(r);
	up_close(l, &a);
	up_close(l, &b);
	up_close(l, &s);
	loop_free(l);
}

/* ---- a TCP upstream: framed query in, framed answer out ---- */

struct tcp_up {
	int lfd, cfd;
	uint16_t port;
	uint8_t buf[600];
	size_t len;
	int answered;
};

static void
tcp_up_conn(struct loop *l, int fd, uint32_t ev, void *arg)
{
	struct tcp_up *u = arg;
	ssize_t n;
	size_t qlen;
	uint8_t out[600];

	n = recv(fd, u->buf + u->len, sizeof(u->buf) - u->len, MSG_DONTWAIT);
	if (n <= 0) {
		loop_del_fd(l, fd);
		close(fd);
		u->cfd = -1;
		return;
	}
	u->len += (size_t)n;
	if (u->len < 2 || u->len < 2 + (qlen = (size_t)(u->buf[0] << 8 |
	    u->buf[1])))
		return;
	/* the answer: the query with QR and a marker byte, framed, sent in
	 * two pieces so the reader sees a partial frame */
	memcpy(out, u->buf, 2 + qlen);
	out[4] |= 0x80;
	out[2 + qlen] = 0xc3;
	out[0] = (uint8_t)((qlen + 1) >> 8);
	out[1] = (uint8_t)(qlen + 1);
	assert_int_equal(send(fd, out, 3, 0), 3);
	usleep(20000);
	assert_int_equal(send(fd, out + 3, qlen, 0), (ssize_t)qlen);
	u->answered++;
	u->len = 0;
}

static void
tcp_up_accept(struct loop *l, int fd, uint32_t ev, void *arg)
{
	struct tcp_up *u = arg;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK);

	if (c < 0)
		return;
	u->cfd = c;
	u->len = 0;
	assert_int_equal(loop_add_fd(l, c, LOOP_READ, tcp_up_conn, u), 0);
}

static void
test_recursor_tcp(void **state)
{
	struct loop *l = loop_new();
	struct dns_recursor *r;
	struct tcp_up u;
	struct outcome o;
	struct sockaddr_in s = v4("127.0.0.1");
	socklen_t sl = sizeof(s);
	uint16_t ports[2];
	uint64_t t0;

	assert_non_null(l);
	memset(&u, 0, sizeof(u));
	u.cfd = -1;
	u.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(bind(u.lfd, (struct sockaddr *)&s, sizeof(s)), 0);
	assert_int_equal(listen(u.lfd, 8), 0);
	assert_int_equal(getsockname(u.lfd, (struct sockaddr *)&s, &sl), 0);
	u.port = ntohs(s.sin_port);
	assert_int_equal(loop_add_fd(l, u.lfd, LOOP_READ, tcp_up_accept, &u),
	    0);
	assert_int_equal(dns_recursor_new(l, &r), 0);
	/* a refused TCP port first (reset at once), then the upstream */
	ports[0] = dead_port();
	ports[1] = u.port;
	set_recursors(r, ports, 2, 3000, DNS_RECURSOR_SEQUENTIAL);
	memset(&o, 0, sizeof(o));
	o.loop = l;
	o.stop_after = 1;
	t0 = loop_clock_ms();
	assert_int_equal(dns_recursor_forward(r, query, sizeof(query), true, 5,
	    fwd_done, &o, NULL), 0);
	assert_false(run_for(l, 3000));
	assert_int_equal(o.calls, 1);
	assert_false(o.failed);
	assert_int_equal(o.marker, 0xc3);
	assert_int_equal(u.answered, 1);
	assert_true(o.at - t0 < 1500); /* well before the 3 s timeout */
	/* only the refused port: NULL */
	set_recursors(r, ports, 1, 3000, DNS_RECURSOR_SEQUENTIAL);
	memset(&o, 0, sizeof(o));
	o.loop = l;
	o.stop_after = 1;
	assert_int_equal(dns_recursor_forward(r, query, sizeof(query), true, 6,
	    fwd_done, &o, NULL), 0);
	assert_false(run_for(l, 3000));
	assert_true(o.failed);
	dns_recursor_free(r);
	if (u.cfd >= 0) {
		loop_del_fd(l, u.cfd);
		close(u.cfd);
	}
	loop_del_fd(l, u.lfd);
	close(u.lfd);
	loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_recursor_sequential),
		cmocka_unit_test(test_recursor_random_and_cap),
		cmocka_unit_test(test_recursor_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
