/*
 * test_loop.c — common/loop.c: timer order and cancel, stale timer ids,
 * posts from other threads (run on the loop thread, in order), descriptor
 * callbacks, signal delivery through signalfd, loop_stop from a thread.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "loop.h"
#include "loop_internal.h"

struct rec {
	int order[64];
	int n;
	uint64_t at[64];
};

struct tctx {
	struct rec *r;
	int id;
	struct loop *l;
};

static void
rec_timer(struct loop *l, void *arg)
{
	struct tctx *t = arg;

	t->r->at[t->r->n] = loop_now_ms(l);
	t->r->order[t->r->n++] = t->id;
}

static void
stop_timer(struct loop *l, void *arg)
{
	loop_stop(l);
}

static void
test_timers_order_and_cancel(void **state)
{
	struct loop *l = loop_new();
	struct rec r = { 0 };
	struct tctx t[6];
	uint64_t ids[6], t0;
	static const uint64_t delay[6] = { 50, 10, 30, 30, 0, 20 };
	int i;

	assert_non_null(l);
	t0 = loop_now_ms(l);
	for (i = 0; i < 6; i++) {
		t[i] = (struct tctx){ &r, i, l };
		ids[i] = loop_timer_add(l, delay[i], rec_timer, &t[i]);
		assert_true(ids[i] > 0);
	}
	loop_timer_cancel(l, ids[5]);
	loop_timer_cancel(l, ids[5]); /* twice: ignored */
	loop_timer_cancel(l, 0);
	loop_timer_cancel(l, 12345678);
	loop_timer_add(l, 100, stop_timer, NULL);
	assert_int_equal(loop_run(l), 0);
	/* by deadline, ties in the order added; the cancelled one never */
	assert_int_equal(r.n, 5);
	assert_int_equal(r.order[0], 4);
	assert_int_equal(r.order[1], 1);
	assert_int_equal(r.order[2], 2);
	assert_int_equal(r.order[3], 3);
	assert_int_equal(r.order[4], 0);
	for (i = 0; i < 5; i++)
		assert_true(r.at[i] >= t0 + delay[r.order[i]]);
	/* a fired id is stale: cancelling it must not hit a reused slot */
	{
		struct rec r2 = { 0 };
		struct tctx t2 = { &r2, 9, l };
		uint64_t nid = loop_timer_add(l, 10, rec_timer, &t2);

		loop_timer_cancel(l, ids[1]); /* same slot maybe, old gen */
		loop_timer_add(l, 40, stop_timer, NULL);
		assert_int_equal(loop_run(l), 0);
		assert_int_equal(r2.n, 1);
		assert_true(nid != ids[1]);
	}
	loop_free(l);
}

/* many timers, random deadlines, half cancelled: heap integrity */
struct heapctx {
	uint64_t last;
	int fired;
	bool bad;
	uint64_t when;
};

static void
heap_timer(struct loop *l, void *arg)
{
	struct heapctx *h = arg;

	h->fired++;
	if (loop_now_ms(l) < h->when)
		h->bad = true;
}

static void
test_timer_heap_many(void **state)
{
	enum { N = 2000 };
	struct loop *l = loop_new();
	static struct heapctx h[N];
	static uint64_t ids[N];
	uint64_t now = loop_now_ms(l);
	int i, fired = 0, want = 0;

	srandom(7);
	for (i = 0; i < N; i++) {
		uint64_t d = (uint64_t)(random() % 60);

		h[i] = (struct heapctx){ .when = now + d };
		ids[i] = loop_timer_add(l, d, heap_timer, &h[i]);
	}
	for (i = 0; i < N; i += 2)
		loop_timer_cancel(l, ids[i]);
	loop_timer_add(l, 150, stop_timer, NULL);
	assert_int_equal(loop_run(l), 0);
	for (i = 0; i < N; i++) {
		assert_false(h[i].bad);
		fired += h[i].fired;
		want += i % 2;
		assert_int_equal(h[i].fired, i % 2);
	}
	assert_int_equal(fired, want);
	loop_free(l);
}

struct postctx {
	struct loop *l;
	pthread_t loop_thread;
	int seen[3][1000];
	int nseen[3];
	int total;
	bool wrong_thread;
};

struct postarg {
	struct postctx *p;
	int producer;
	int seq;
};

static void
post_cb(void *arg)
{
	struct postarg *a = arg;
	struct postctx *p = a->p;

	if (!pthread_equal(pthread_self(), p->loop_thread))
		p->wrong_thread = true;
	p->seen[a->producer][p->nseen[a->producer]++] = a->seq;
	if (++p->total == 3000)
		loop_stop(p->l);
	free(a);
}

struct producer {
	struct postctx *p;
	int id;
};

static void *
producer_main(void *arg)
{
	struct producer *pr = arg;
	int i;

	for (i = 0; i < 1000; i++) {
		struct postarg *a = malloc(sizeof(*a));

		*a = (struct postarg){ pr->p, pr->id, i };
		assert_int_equal(loop_post(pr->p->l, post_cb, a), 0);
		if (i % 100 == 0)
			usleep(1000);
	}
	return NULL;
}

static void
test_posts_from_threads(void **state)
{
	static struct postctx p;
	struct producer pr[3];
	pthread_t th[3];
	int i, k;

	memset(&p, 0, sizeof(p));
	p.l = loop_new();
	p.loop_thread = pthread_self();
	for (i = 0; i < 3; i++) {
		pr[i] = (struct producer){ &p, i };
		pthread_create(&th[i], NULL, producer_main, &pr[i]);
	}
	loop_timer_add(p.l, 10000, stop_timer, NULL); /* guard */
	assert_int_equal(loop_run(p.l), 0);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	assert_false(p.wrong_thread);
	assert_int_equal(p.total, 3000);
	/* each producer's posts ran in the order they were made */
	for (i = 0; i < 3; i++) {
		assert_int_equal(p.nseen[i], 1000);
		for (k = 0; k < 1000; k++)
			assert_int_equal(p.seen[i][k], k);
	}
	loop_free(p.l);
}

static int cancel_hits;

static void
cancel_post_cb(void *arg)
{
	cancel_hits++;
}

static void
test_post_cancel_and_free(void **state)
{
	struct loop *l = loop_new();
	int a, b;

	cancel_hits = 0;
	assert_int_equal(loop_post(l, cancel_post_cb, &a), 0);
	assert_int_equal(loop_post(l, cancel_post_cb, &b), 0);
	assert_int_equal(loop_post(l, cancel_post_cb, &a), 0);
	assert_int_equal(loop_post_cancel(l, cancel_post_cb, &a), 2);
	loop_timer_add(l, 20, stop_timer, NULL);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(cancel_hits, 1);
	/* pending posts are dropped by loop_free without running */
	assert_int_equal(loop_post(l, cancel_post_cb, &a), 0);
	loop_free(l);
	assert_int_equal(cancel_hits, 1);
	loop_free(NULL);
}

static void *
stopper_main(void *arg)
{
	usleep(50000);
	loop_stop(arg);
	return NULL;
}

static void
test_stop_from_thread(void **state)
{
	struct loop *l = loop_new();
	pthread_t th;
	uint64_t t0 = loop_clock_ms();

	pthread_create(&th, NULL, stopper_main, l);
	assert_int_equal(loop_run(l), 0); /* no timers: blocks until stop */
	pthread_join(th, NULL);
	assert_true(loop_clock_ms() - t0 >= 45);
	loop_free(l);
}

struct fdctx {
	int reads;
	char buf[16];
	int wfd;
};

static void
fd_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct fdctx *f = arg;
	ssize_t n;

	assert_true(events & LOOP_READ);
	n = read(fd, f->buf, sizeof(f->buf));
	assert_true(n > 0);
	f->reads++;
	loop_del_fd(l, fd);
	loop_stop(l);
}

static void
write_timer(struct loop *l, void *arg)
{
	struct fdctx *f = arg;

	assert_int_equal(write(f->wfd, "ping", 4), 4);
}

static void
test_fd_events(void **state)
{
	struct loop *l = loop_new();
	struct fdctx f = { 0 };
	int p[2];

	assert_int_equal(pipe(p), 0);
	f.wfd = p[1];
	assert_int_equal(loop_add_fd(l, p[0], LOOP_READ, fd_cb, &f), 0);
	assert_int_equal(loop_add_fd(l, p[0], LOOP_READ, fd_cb, &f),
	    ERR_EXISTS);
	assert_int_equal(loop_mod_fd(l, p[1], LOOP_READ), ERR_NOTFOUND);
	assert_int_equal(loop_add_fd(l, -1, LOOP_READ, fd_cb, &f), ERR_INVAL);
	loop_timer_add(l, 10, write_timer, &f);
	loop_timer_add(l, 2000, stop_timer, NULL);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(f.reads, 1);
	assert_memory_equal(f.buf, "ping", 4);
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

static int sig_seen;

static void
sig_cb(struct loop *l, int signo, void *arg)
{
	sig_seen = signo;
	loop_stop(l);
}

static void
raise_timer(struct loop *l, void *arg)
{
	kill(getpid(), SIGUSR1);
}

static void
test_signal(void **state)
{
	struct loop *l = loop_new();

	sig_seen = 0;
	assert_int_equal(loop_signal(l, SIGUSR1, sig_cb, NULL), 0);
	assert_int_equal(loop_signal(l, SIGUSR2, sig_cb, NULL), 0);
	assert_int_equal(loop_signal(l, 0, sig_cb, NULL), ERR_INVAL);
	loop_timer_add(l, 10, raise_timer, NULL);
	loop_timer_add(l, 2000, stop_timer, NULL);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(sig_seen, SIGUSR1);
	loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_order_and_cancel),
		cmocka_unit_test(test_timer_heap_many),
		cmocka_unit_test(test_posts_from_threads),
		cmocka_unit_test(test_post_cancel_and_free),
		cmocka_unit_test(test_stop_from_thread),
		cmocka_unit_test(test_fd_events),
		cmocka_unit_test(test_signal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
