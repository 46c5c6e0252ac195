/*
 * loop.c — the event loop of loop.h: epoll for descriptors, a binary
 * min-heap of one-shot timers on CLOCK_MONOTONIC, signalfd for signals and
 * an eventfd through which other threads hand work to the loop thread.
 *
 * Key decisions:
 * - Timer ids encode (generation << 32 | slot): cancel is O(1) with no
 *   lookup table, and a stale id (fired, cancelled, slot reused) is
 *   recognised by its generation and ignored.
 * - Posts go into a mutex-protected ring; only a post into an empty ring
 *   writes the eventfd, and one wakeup drains the whole ring by swapping it
 *   with a spare one, so a burst of N posts costs one syscall pair and
 *   zero allocations in the steady state (the IPC path relies on this).
 * - Timers due at the same millisecond fire in the order they were added;
 *   a timer added by a timer callback with delay 0 fires on the next
 *   iteration, never in the same pass (no starvation of descriptors).
 *
 * Reference: Redis ae.c (structure), epoll(7), signalfd(2), eventfd(2).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "loop.h"
#include "loop_internal.h"

#define LOOP_MAX_EVENTS 128
#define LOOP_NSIG 65

struct loop_fdent {
	loop_fd_cb cb;
	void *arg;
	uint32_t gen;
	bool active;
};

struct loop_timer {
	uint64_t when;
	uint64_t seq;
	loop_timer_cb cb;
	void *arg;
	uint32_t gen;
	uint32_t heap_idx; /* UINT32_MAX when not in the heap */
	uint32_t next_free;
};

struct loop_post_ent {
	loop_post_cb cb;
	void *arg;
};

struct loop_ring {
	struct loop_post_ent *v;
	size_t cap; /* power of two */
	size_t head;
	size_t n;
};

struct loop_sigent {
	loop_signal_cb cb;
	void *arg;
};

struct loop {
	int epfd;
	int evfd;
	int sigfd;
	sigset_t sigmask;
	struct loop_sigent sigs[LOOP_NSIG];

	struct loop_fdent *fds;
	size_t nfds;

	struct loop_timer *timers; /* slots */
	uint32_t ntimers, cap_timers;
	uint32_t free_timer; /* UINT32_MAX = none */
	uint32_t *heap;      /* slot indexes */
	uint32_t nheap;
	uint64_t timer_seq;

	pthread_mutex_t post_mtx;
	struct loop_ring posts;  /* guarded by post_mtx */
	struct loop_ring running; /* loop thread only */

	uint64_t now_ms;
	atomic_bool stop;
};

/* epoll data for the internal descriptors */
#define LOOP_TAG_EVFD (UINT64_MAX)
#define LOOP_TAG_SIGFD (UINT64_MAX - 1)

uint64_t
loop_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
loop_now_ms(struct loop *l)
{
	return l->now_ms;
}

struct loop *
loop_new(void)
{
	struct loop *l;
	struct epoll_event ev = { 0 };

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->sigfd = -1;
	l->free_timer = UINT32_MAX;
	sigemptyset(&l->sigmask);
	pthread_mutex_init(&l->post_mtx, NULL);
	atomic_init(&l->stop, false);
	if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		goto fail_ep;
	if ((l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		goto fail_ev;
	ev.events = EPOLLIN;
	ev.data.u64 = LOOP_TAG_EVFD;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->evfd, &ev) == -1)
		goto fail;
	l->now_ms = loop_clock_ms();
	return l;
fail:
	close(l->evfd);
fail_ev:
	close(l->epfd);
fail_ep:
	pthread_mutex_destroy(&l->post_mtx);
	free(l);
	return NULL;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	if (l->sigfd != -1)
		close(l->sigfd);
	close(l->evfd);
	close(l->epfd);
	pthread_mutex_destroy(&l->post_mtx);
	free(l->posts.v);
	free(l->running.v);
	free(l->fds);
	free(l->timers);
	free(l->heap);
	free(l);
}

/* ---- descriptors ---- */

static uint32_t
loop_to_epoll(uint32_t events)
{
	uint32_t e = 0;

	if (events & LOOP_READ)
		e |= EPOLLIN | EPOLLRDHUP;
	if (events & LOOP_WRITE)
		e |= EPOLLOUT;
	return e;
}

int
loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb,
    void *arg)
{
	struct epoll_event ev = { 0 };
	struct loop_fdent *e;

	if (fd < 0 || cb == NULL)
		return ERR_INVAL;
	if ((size_t)fd >= l->nfds) {
		size_t n = l->nfds ? l->nfds : 64;
		struct loop_fdent *nf;

		while (n <= (size_t)fd)
			n *= 2;
		if ((nf = realloc(l->fds, n * sizeof(*nf))) == NULL)
			return ERR_NOMEM;
		memset(nf + l->nfds, 0, (n - l->nfds) * sizeof(*nf));
		l->fds = nf;
		l->nfds = n;
	}
	e = &l->fds[fd];
	if (e->active)
		return ERR_EXISTS;
	ev.events = loop_to_epoll(events);
	ev.data.u64 = (uint64_t)(e->gen + 1) << 32 | (uint32_t)fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return err_from_errno(errno);
	e->gen++;
	e->cb = cb;
	e->arg = arg;
	e->active = true;
	return 0;
}

int
loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { 0 };

	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].active)
		return ERR_NOTFOUND;
	ev.events = loop_to_epoll(events);
	ev.data.u64 = (uint64_t)l->fds[fd].gen << 32 | (uint32_t)fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == -1)
		return err_from_errno(errno);
	return 0;
}

void
loop_del_fd(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].active)
		return;
	/* ENOENT/EBADF when the caller closed fd first: harmless */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd].active = false;
	l->fds[fd].cb = NULL;
	l->fds[fd].arg = NULL;
}

/* ---- timers: a min-heap of slot indexes ordered by (when, seq) ---- */

static bool
loop_timer_before(struct loop *l, uint32_t a, uint32_t b)
{
	struct loop_timer *ta = &l->timers[a], *tb = &l->timers[b];

	if (ta->when != tb->when)
		return ta->when < tb->when;
	return ta->seq < tb->seq;
}

static void
loop_heap_set(struct loop *l, uint32_t i, uint32_t slot)
{
	l->heap[i] = slot;
	l->timers[slot].heap_idx = i;
}

static void
loop_heap_up(struct loop *l, uint32_t i)
{
	uint32_t slot = l->heap[i];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (!loop_timer_before(l, slot, l->heap[p]))
			break;
		loop_heap_set(l, i, l->heap[p]);
		i = p;
	}
	loop_heap_set(l, i, slot);
}

static void
loop_heap_down(struct loop *l, uint32_t i)
{
	uint32_t slot = l->heap[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && loop_timer_before(l, l->heap[c + 1],
		    l->heap[c]))
			c++;
		if (!loop_timer_before(l, l->heap[c], slot))
			break;
		loop_heap_set(l, i, l->heap[c]);
		i = c;
	}
	loop_heap_set(l, i, slot);
}

static void
loop_heap_remove(struct loop *l, uint32_t i)
{
	uint32_t last;

	l->timers[l->heap[i]].heap_idx = UINT32_MAX;
	last = l->heap[--l->nheap];
	if (i == l->nheap)
		return;
	loop_heap_set(l, i, last);
	loop_heap_down(l, i);
	loop_heap_up(l, l->timers[last].heap_idx);
}

static void
loop_timer_release(struct loop *l, uint32_t slot)
{
	struct loop_timer *t = &l->timers[slot];

	t->gen++;
	if (t->gen == 0)
		t->gen = 1;
	t->cb = NULL;
	t->arg = NULL;
	t->next_free = l->free_timer;
	l->free_timer = slot;
}

static int
loop_timer_grow(struct loop *l)
{
	uint32_t n = l->cap_timers ? l->cap_timers * 2 : 64;
	struct loop_timer *nt;
	uint32_t *nh;

	if ((nt = realloc(l->timers, (size_t)n * sizeof(*nt))) == NULL)
		return ERR_NOMEM;
	l->timers = nt;
	if ((nh = realloc(l->heap, (size_t)n * sizeof(*nh))) == NULL)
		return ERR_NOMEM;
	l->heap = nh;
	l->cap_timers = n;
	return 0;
}

uint64_t
loop_timer_add(struct loop *l, uint64_t delay_ms, loop_timer_cb cb,
    void *arg)
{
	struct loop_timer *t;
	uint32_t slot;

	if (cb == NULL)
		return 0;
	if (l->free_timer != UINT32_MAX) {
		slot = l->free_timer;
		l->free_timer = l->timers[slot].next_free;
	} else {
		if (l->ntimers == l->cap_timers && loop_timer_grow(l) != 0)
			return 0;
		slot = l->ntimers++;
		l->timers[slot].gen = 1;
	}
	t = &l->timers[slot];
	if (delay_ms > UINT64_MAX - l->now_ms)
		delay_ms = UINT64_MAX - l->now_ms;
	t->when = l->now_ms + delay_ms;
	t->seq = l->timer_seq++;
	t->cb = cb;
	t->arg = arg;
	l->heap[l->nheap] = slot;
	t->heap_idx = l->nheap++;
	loop_heap_up(l, t->heap_idx);
	return (uint64_t)t->gen << 32 | slot;
}

void
loop_timer_cancel(struct loop *l, uint64_t id)
{
	uint32_t slot = (uint32_t)id, gen = (uint32_t)(id >> 32);
	struct loop_timer *t;

	if (id == 0 || slot >= l->ntimers)
		return;
	t = &l->timers[slot];
	if (t->gen != gen || t->heap_idx == UINT32_MAX)
		return;
	loop_heap_remove(l, t->heap_idx);
	loop_timer_release(l, slot);
}

static void
loop_run_timers(struct loop *l)
{
	uint64_t seq_limit = l->timer_seq;

	while (l->nheap > 0 && !atomic_load(&l->stop)) {
		uint32_t slot = l->heap[0];
		struct loop_timer *t = &l->timers[slot];
		loop_timer_cb cb;
		void *arg;

		if (t->when > l->now_ms || t->seq >= seq_limit)
			break;
		cb = t->cb;
		arg = t->arg;
		loop_heap_remove(l, 0);
		loop_timer_release(l, slot);
		cb(l, arg);
	}
}

static int
loop_timeout(struct loop *l)
{
	uint64_t when;

	if (l->nheap == 0)
		return -1;
	when = l->timers[l->heap[0]].when;
	if (when <= l->now_ms)
		return 0;
	if (when - l->now_ms > 60000)
		return 60000;
	return (int)(when - l->now_ms);
}

/* ---- posts ---- */

static int
loop_ring_grow(struct loop_ring *r)
{
	size_t ncap = r->cap ? r->cap * 2 : 256, i;
	struct loop_post_ent *nv;

	if ((nv = malloc(ncap * sizeof(*nv))) == NULL)
		return ERR_NOMEM;
	for (i = 0; i < r->n; i++)
		nv[i] = r->v[(r->head + i) & (r->cap - 1)];
	free(r->v);
	r->v = nv;
	r->cap = ncap;
	r->head = 0;
	return 0;
}

int
loop_post(struct loop *l, loop_post_cb cb, void *arg)
{
	struct loop_ring *r = &l->posts;
	bool wake;

	pthread_mutex_lock(&l->post_mtx);
	if (r->n == r->cap && loop_ring_grow(r) != 0) {
		pthread_mutex_unlock(&l->post_mtx);
		return ERR_NOMEM;
	}
	r->v[(r->head + r->n) & (r->cap - 1)] =
	    (struct loop_post_ent){ cb, arg };
	wake = r->n++ == 0;
	pthread_mutex_unlock(&l->post_mtx);
	if (wake) {
		uint64_t one = 1;

		/* EAGAIN only when the counter is saturated: still awake */
		(void)!write(l->evfd, &one, sizeof(one));
	}
	return 0;
}

int
loop_post_cancel(struct loop *l, loop_post_cb cb, void *arg)
{
	struct loop_ring *r = &l->posts;
	size_t i, j = 0;
	int removed;

	pthread_mutex_lock(&l->post_mtx);
	for (i = 0; i < r->n; i++) {
		struct loop_post_ent e = r->v[(r->head + i) & (r->cap - 1)];

		if (e.cb == cb && e.arg == arg)
			continue;
		r->v[(r->head + j++) & (r->cap - 1)] = e;
	}
	removed = (int)(r->n - j);
	r->n = j;
	pthread_mutex_unlock(&l->post_mtx);
	return removed;
}

static void
loop_run_posts(struct loop *l)
{
	struct loop_ring tmp;
	uint64_t v;
	size_t i;

	(void)!read(l->evfd, &v, sizeof(v));
	pthread_mutex_lock(&l->post_mtx);
	tmp = l->posts;
	l->posts = l->running; /* an empty ring, keeping its storage */
	pthread_mutex_unlock(&l->post_mtx);
	for (i = 0; i < tmp.n; i++) {
		struct loop_post_ent *e = &tmp.v[(tmp.head + i) &
		    (tmp.cap - 1)];

		e->cb(e->arg);
	}
	tmp.n = 0;
	tmp.head = 0;
	l->running = tmp;
}

/* ---- signals ---- */

int
loop_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg)
{
	sigset_t one;
	int fd;

	if (signo <= 0 || signo >= LOOP_NSIG || cb == NULL)
		return ERR_INVAL;
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (pthread_sigmask(SIG_BLOCK, &one, NULL) != 0)
		return ERR_INVAL;
	sigaddset(&l->sigmask, signo);
	fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1)
		return err_from_errno(errno);
	if (l->sigfd == -1) {
		struct epoll_event ev = { 0 };

		ev.events = EPOLLIN;
		ev.data.u64 = LOOP_TAG_SIGFD;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			close(fd);
			return err_from_errno(errno);
		}
		l->sigfd = fd;
	}
	l->sigs[signo].cb = cb;
	l->sigs[signo].arg = arg;
	return 0;
}

static void
loop_run_signals(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == sizeof(si)) {
		int signo = (int)si.ssi_signo;

		if (signo > 0 && signo < LOOP_NSIG && l->sigs[signo].cb)
			l->sigs[signo].cb(l, signo, l->sigs[signo].arg);
	}
}

/* ---- running ---- */

static void
loop_dispatch(struct loop *l, struct epoll_event *ev)
{
	uint32_t fd, gen, events = 0;
	struct loop_fdent *e;

	if (ev->data.u64 == LOOP_TAG_EVFD) {
		loop_run_posts(l);
		return;
	}
	if (ev->data.u64 == LOOP_TAG_SIGFD) {
		loop_run_signals(l);
		return;
	}
	fd = (uint32_t)ev->data.u64;
	gen = (uint32_t)(ev->data.u64 >> 32);
	if (fd >= l->nfds)
		return;
	e = &l->fds[fd];
	/* deleted, or deleted and re-added, by an earlier callback */
	if (!e->active || e->gen != gen)
		return;
	if (ev->events & (EPOLLIN | EPOLLRDHUP))
		events |= LOOP_READ;
	if (ev->events & EPOLLOUT)
		events |= LOOP_WRITE;
	if (ev->events & (EPOLLERR | EPOLLHUP))
		events |= LOOP_ERROR;
	e->cb(l, (int)fd, events, e->arg);
}

int
loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];

	while (!atomic_load(&l->stop)) {
		int n, i;

		l->now_ms = loop_clock_ms();
		n = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, loop_timeout(l));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("loop: epoll_wait");
			return err_from_errno(errno);
		}
		l->now_ms = loop_clock_ms();
		for (i = 0; i < n && !atomic_load(&l->stop); i++)
			loop_dispatch(l, &evs[i]);
		loop_run_timers(l);
	}
	atomic_store(&l->stop, false);
	return 0;
}

void
loop_stop(struct loop *l)
{
	uint64_t one = 1;

	atomic_store(&l->stop, true);
	(void)!write(l->evfd, &one, sizeof(one));
}
