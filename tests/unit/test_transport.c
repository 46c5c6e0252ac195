/*
 * test_transport.c — raftd/transport.c over real TCP on 127.0.0.1, two or
 * three transports and raw sockets on one loop: order and integrity of
 * 1,000 messages and of a 5 MiB one, a peer sending garbage (a wrong hello,
 * an oversized frame) is dropped while the other peers' messages still
 * arrive, frames split across reads and several frames in one write,
 * reconnect after the receiving peer restarts on the same port, the
 * bounded queue refusing messages (ERR_AGAIN) to a peer that does not read
 * while another peer is served, and the argument checks.
 */
#include <setjmp.h>
#include <stdarg.h>
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

#include "err.h"
#include "loop.h"
#include "raftd/transport.h"

static const uint8_t hello[8] = { 0, 'C', 'R', 'N', 'R', 'F', 0, 1 };

/* ---- helpers ---- */

/* A port nobody listens on right now. */
static int
free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd, port;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static void
addr_of(char *buf, size_t size, int port)
{
	snprintf(buf, size, "127.0.0.1:%d", port);
}

struct waiter {
	bool (*cond)(void *);
	void *arg;
	bool met;
	uint64_t tick;
};

static void
waiter_tick(struct loop *l, void *arg)
{
	struct waiter *w = arg;

	w->tick = 0;
	if (w->cond != NULL && w->cond(w->arg)) {
		w->met = true;
		loop_stop(l);
		return;
	}
	w->tick = loop_timer_add(l, 2, waiter_tick, w);
}

static void
guard_cb(struct loop *l, void *arg)
{
	loop_stop(l);
}

/* Runs the loop until cond(arg) holds or ms pass; returns whether it held. */
static bool
run_until(struct loop *l, bool (*cond)(void *), void *arg, uint64_t ms)
{
	struct waiter w = { .cond = cond, .arg = arg };
	uint64_t g = loop_timer_add(l, ms, guard_cb, NULL);

	w.tick = loop_timer_add(l, 0, waiter_tick, &w);
	assert_int_equal(loop_run(l), 0);
	loop_timer_cancel(l, g);
	loop_timer_cancel(l, w.tick);
	return w.met;
}

static void
run_for(struct loop *l, uint64_t ms)
{
	(void)run_until(l, NULL, NULL, ms);
}

/* Received messages: seq (u32) then bytes (seq + i) & 0xff. */
struct rx {
	int n;
	uint32_t next;
	bool bad;
	size_t last_len;
};

static void
rx_cb(void *arg, const uint8_t *data, size_t len)
{
	struct rx *r = arg;
	uint32_t seq;

	r->n++;
	r->last_len = len;
	if (len < 4) {
		r->bad = true;
		return;
	}
	memcpy(&seq, data, 4);
	if (seq != r->next)
		r->bad = true;
	r->next = seq + 1;
	for (size_t i = 4; i < len; i++)
		if (data[i] != (uint8_t)(seq + i)) {
			r->bad = true;
			break;
		}
}

static uint8_t *
msg_make(uint32_t seq, size_t len)
{
	uint8_t *m = malloc(len < 4 ? 4 : len);

	assert_non_null(m);
	memcpy(m, &seq, 4);
	for (size_t i = 4; i < len; i++)
		m[i] = (uint8_t)(seq + i);
	return m;
}

static int
send_seq(struct transport *t, uint64_t id, const char *addr, uint32_t seq,
    size_t len)
{
	uint8_t *m = msg_make(seq, len);
	int rc = transport_send(t, id, addr, m, len);

	free(m);
	return rc;
}

struct rx_want {
	struct rx *r;
	int n;
};

static bool
rx_has(void *arg)
{
	struct rx_want *w = arg;

	return w->r->n >= w->n || w->r->bad;
}

/* A raw TCP client of a transport's listener. */
static int
raw_connect(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd;

	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	return fd;
}

static void
raw_write(int fd, const void *p, size_t n)
{
	assert_int_equal(write(fd, p, n), (ssize_t)n);
}

static bool
raw_closed(void *arg)
{
	int fd = *(int *)arg;
	uint8_t b;

	return recv(fd, &b, 1, MSG_DONTWAIT) == 0;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- tests ---- */

static void
test_order_and_size(void **state)
{
	struct loop *l = loop_new();
	struct transport *a, *b;
	struct rx ra = { 0 }, rb = { 0 };
	struct rx_want w = { &rb, 1000 };
	char aa[64], ab[64];
	int pa = free_port(), pb = free_port();

	addr_of(aa, sizeof(aa), pa);
	addr_of(ab, sizeof(ab), pb);
	assert_int_equal(transport_open(l, aa, rx_cb, &ra, &a), 0);
	assert_int_equal(transport_open(l, ab, rx_cb, &rb, &b), 0);
	/* 1,000 messages queued while the connect is in progress */
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(send_seq(a, 2, ab, i, 4 + (i * 37) % 3000),
		    0);
	assert_true(run_until(l, rx_has, &w, 10000));
	assert_false(rb.bad);
	assert_int_equal(rb.n, 1000);
	/* one large message, read across many wakeups into one buffer */
	w.n = 1001;
	assert_int_equal(send_seq(a, 2, ab, 1000, 5u << 20), 0);
	assert_true(run_until(l, rx_has, &w, 10000));
	assert_false(rb.bad);
	assert_int_equal(rb.last_len, 5u << 20);
	/* and back, on the other direction's own connection */
	w = (struct rx_want){ &ra, 1 };
	assert_int_equal(send_seq(b, 1, aa, 0, 100), 0);
	assert_true(run_until(l, rx_has, &w, 10000));
	assert_false(ra.bad);
	transport_close(a);
	transport_close(b);
	loop_free(l);
}

static void
test_garbage_peer_dropped(void **state)
{
	struct loop *l = loop_new();
	struct transport *a, *b;
	struct rx ra = { 0 }, rb = { 0 };
	struct rx_want w = { &rb, 1 };
	char aa[64], ab[64];
	uint8_t hdr[4];
	int pa = free_port(), pb = free_port(), g1, g2, g3;

	addr_of(aa, sizeof(aa), pa);
	addr_of(ab, sizeof(ab), pb);
	assert_int_equal(transport_open(l, aa, rx_cb, &ra, &a), 0);
	assert_int_equal(transport_open(l, ab, rx_cb, &rb, &b), 0);
	assert_int_equal(send_seq(a, 2, ab, 0, 64), 0);
	assert_true(run_until(l, rx_has, &w, 10000));

	/* an HTTP client on the raft port: a wrong hello */
	g1 = raw_connect(pb);
	raw_write(g1, "GET / HTTP/1.0\r\n\r\n", 18);
	assert_true(run_until(l, raw_closed, &g1, 10000));
	/* a right hello, then a frame over the limit */
	g2 = raw_connect(pb);
	raw_write(g2, hello, sizeof(hello));
	put32(hdr, (64u << 20) + 1);
	raw_write(g2, hdr, sizeof(hdr));
	assert_true(run_until(l, raw_closed, &g2, 10000));
	/* a well-behaved raw peer stays connected meanwhile */
	g3 = raw_connect(pb);
	raw_write(g3, hello, sizeof(hello));
	run_for(l, 20);
	assert_false(raw_closed(&g3));

	/* the real peer's link was not disturbed */
	w.n = 2;
	assert_int_equal(send_seq(a, 2, ab, 1, 64), 0);
	assert_true(run_until(l, rx_has, &w, 10000));
	assert_false(rb.bad);
	assert_int_equal(rb.n, 2);
	close(g1);
	close(g2);
	close(g3);
	transport_close(a);
	transport_close(b);
	loop_free(l);
}

static void
test_partial_frames(void **state)
{
	struct loop *l = loop_new();
	struct transport *b;
	struct rx rb = { 0 };
	struct rx_want w = { &rb, 3 };
	char ab[64];
	uint8_t wire[3 * (4 + 300)], *m;
	size_t off = 0, i;
	int pb = free_port(), fd;

	addr_of(ab, sizeof(ab), pb);
	assert_int_equal(transport_open(l, ab, rx_cb, &rb, &b), 0);
	for (uint32_t s = 0; s < 3; s++) {
		m = msg_make(s, 300);
		put32(wire + off, 300);
		memcpy(wire + off + 4, m, 300);
		off += 304;
		free(m);
	}
	fd = raw_connect(pb);
	/* the hello and the first frame a few bytes at a time */
	raw_write(fd, hello, 3);
	run_for(l, 5);
	raw_write(fd, hello + 3, 5);
	run_for(l, 5);
	for (i = 0; i < 304; i += i < 8 ? 1 : 100) {
		size_t n = i < 8 ? 1 : (304 - i < 100 ? 304 - i : 100);

		raw_write(fd, wire + i, n);
		run_for(l, 2);
		assert_int_equal(rb.n, i + n == 304 ? 1 : 0);
	}
	assert_int_equal(rb.n, 1);
	/* the other two frames in one write */
	raw_write(fd, wire + 304, 2 * 304);
	assert_true(run_until(l, rx_has, &w, 10000));
	assert_false(rb.bad);
	assert_int_equal(rb.n, 3);
	assert_false(raw_closed(&fd));
	close(fd);
	transport_close(b);
	loop_free(l);
}

/* A keeps sending to B on a timer (the Raft core retransmits so). */
struct pinger {
	struct transport *t;
	const char *addr;
	uint32_t seq;
	uint64_t timer;
};

static void
pinger_tick(struct loop *l, void *arg)
{
	struct pinger *p = arg;

	(void)send_seq(p->t, 2, p->addr, p->seq, 16);
	p->timer = loop_timer_add(l, 10, pinger_tick, p);
}

static bool
rx_any(void *arg)
{
	return ((struct rx *)arg)->n > 0;
}

static void
test_reconnect_after_restart(void **state)
{
	struct loop *l = loop_new();
	struct transport *a, *b;
	struct rx ra = { 0 }, rb = { 0 }, rb2 = { 0 };
	struct pinger pg;
	char aa[64], ab[64];
	int pa = free_port(), pb = free_port(), rc;

	addr_of(aa, sizeof(aa), pa);
	addr_of(ab, sizeof(ab), pb);
	assert_int_equal(transport_open(l, aa, rx_cb, &ra, &a), 0);
	assert_int_equal(transport_open(l, ab, rx_cb, &rb, &b), 0);
	pg = (struct pinger){ .t = a, .addr = ab };
	pg.timer = loop_timer_add(l, 0, pinger_tick, &pg);
	assert_true(run_until(l, rx_any, &rb, 10000));

	/* B goes away: A notices, sends are refused or vanish */
	transport_close(b);
	run_for(l, 200);
	rc = send_seq(a, 2, ab, 0, 16);
	assert_true(rc == 0 || rc == ERR_AGAIN);

	/* B comes back on the same port: A reconnects by itself */
	assert_int_equal(transport_open(l, ab, rx_cb, &rb2, &b), 0);
	assert_true(run_until(l, rx_any, &rb2, 10000));
	assert_false(rb2.bad);
	loop_timer_cancel(l, pg.timer);
	transport_close(a);
	transport_close(b);
	loop_free(l);
}

static void
test_queue_full(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct loop *l = loop_new();
	struct transport *a, *b;
	struct rx ra = { 0 }, rb = { 0 };
	struct rx_want w = { &rb, 1 };
	char aa[64], ab[64], ax[64];
	uint8_t *big = msg_make(0, 1u << 20), sink[65536];
	int pa = free_port(), pb = free_port(), lfd, cfd, rc = 0, i;
	ssize_t n;
	socklen_t len = sizeof(sin);

	/* a "peer" that accepts the connection but never reads */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((lfd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	addr_of(ax, sizeof(ax), ntohs(sin.sin_port));
	addr_of(aa, sizeof(aa), pa);
	addr_of(ab, sizeof(ab), pb);
	assert_int_equal(transport_open(l, aa, rx_cb, &ra, &a), 0);
	assert_int_equal(transport_open(l, ab, rx_cb, &rb, &b), 0);

	for (i = 0; i < 400; i++) {
		rc = transport_send(a, 9, ax, big, 1u << 20);
		if (rc != 0)
			break;
		run_for(l, 1);
	}
	assert_int_equal(rc, ERR_AGAIN); /* bounded: dropped, not grown */
	assert_true(i < 400);
	/* the stuck peer does not hold up another */
	assert_int_equal(send_seq(a, 2, ab, 0, 100), 0);
	assert_true(run_until(l, rx_has, &w, 10000));
	assert_false(rb.bad);

	/* once the peer reads, the queue drains and sends are taken again */
	assert_true((cfd = accept(lfd, NULL, NULL)) != -1);
	for (i = 0; i < 20000; i++) {
		while ((n = recv(cfd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
			;
		run_for(l, 1);
		if ((rc = transport_send(a, 9, ax, big, 16)) == 0)
			break;
	}
	assert_int_equal(rc, 0);
	free(big);
	close(cfd);
	close(lfd);
	transport_close(a);
	transport_close(b);
	loop_free(l);
}

static void
test_args(void **state)
{
	struct loop *l = loop_new();
	struct transport *a, *b;
	struct rx ra = { 0 };
	uint8_t one = 1;
	char aa[64];
	int pa = free_port();

	addr_of(aa, sizeof(aa), pa);
	assert_int_equal(transport_open(l, "nohost", rx_cb, &ra, &a),
	    ERR_INVAL);
	assert_null(a);
	assert_int_equal(transport_open(l, "example.com:8300", rx_cb, &ra,
	    &a), ERR_INVAL);
	assert_int_equal(transport_open(l, aa, rx_cb, &ra, &a), 0);
	assert_int_equal(transport_open(l, aa, rx_cb, &ra, &b), ERR_EXISTS);
	assert_int_equal(transport_send(a, 2, "", &one, 1), ERR_INVAL);
	assert_int_equal(transport_send(a, 2, "nohost", &one, 1), ERR_INVAL);
	assert_int_equal(transport_send(a, 2, aa, &one, (64u << 20) + 1),
	    ERR_INVAL);
	assert_int_equal(transport_send(a, 2, "[::1]:1", &one, 1) == ERR_INVAL,
	    false);
	transport_forget(a, 2);
	transport_forget(a, 77);
	transport_close(a);
	transport_close(NULL);
	loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_size),
		cmocka_unit_test(test_garbage_peer_dropped),
		cmocka_unit_test(test_partial_frames),
		cmocka_unit_test(test_reconnect_after_restart),
		cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
