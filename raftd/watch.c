/*
 * watch.c — blocking reads (see watch.h): watchers indexed by exact key,
 * by prefix and "any", each with a loop timer for its wait.
 *
 * Key decision: two chained hash tables of slots (exact keys, prefixes),
 * each slot holding the list of watchers reading it, plus the sorted
 * list of prefix lengths in use. A write to key K looks up K in the
 * exact table and K[0..L) in the prefix table for each length L in use
 * (usually a handful), so its cost does not grow with the number of
 * watchers. The wait gets Consul's jitter (up to wait/16). watch_flush
 * sorts the woken watchers by group key (hash, length, bytes) and hands
 * each run of equal keys to the group callback at once: the query is
 * evaluated once per distinct key, each watcher judged on its own index.
 * Reference: Consul agent/consul/rpc.go blockingQuery (Consul runs each
 * waiter's query itself; the grouping is ours), spec/consul-api.md §1.5.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "loop.h"
#include "watch.h"

struct wslot;

struct watcher {
	struct watch *wt;
	enum watch_kind kind;
	char *key;
	size_t klen;
	uint64_t timer;
	void *data;
	struct watcher *prev, *next;
	struct watcher **list; /* the list it is on */
	struct wslot *slot;    /* its slot while indexed */
	uint8_t *group;        /* group key or NULL */
	size_t glen;
	uint64_t ghash;
};

struct wslot {
	char *key;
	size_t klen;
	uint64_t hash;
	struct wslot *chain;
	struct watcher *head;
};

struct wtable {
	struct wslot **b;
	size_t nb;
	size_t n;
};

/* How many prefix slots have a given length. */
struct wlen {
	size_t len;
	size_t slots;
};

struct watch {
	struct loop *loop;
	watch_eval_cb eval;
	watch_drop_cb drop;
	watch_group_cb group;
	void *arg;
	struct wtable exact, prefix;
	struct wlen *lens; /* prefix lengths in use, ascending */
	size_t nlens, caplens;
	struct watcher *any;
	struct watcher *ready;
	size_t count;
	uint64_t rng;
	/* watch_flush's scratch, kept between flushes */
	struct watcher **vec;
	void **gdata;
	bool *gdone;
	size_t capvec;
	bool flushing;
};

static uint64_t
watch_hash(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)k[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t
watch_rand(struct watch *wt)
{
	/* xorshift64*: jitter only, never security */
	wt->rng ^= wt->rng >> 12;
	wt->rng ^= wt->rng << 25;
	wt->rng ^= wt->rng >> 27;
	return wt->rng * 2685821657736338717ULL;
}

static void
list_push(struct watcher **list, struct watcher *w)
{
	w->prev = NULL;
	w->next = *list;
	if (*list != NULL)
		(*list)->prev = w;
	*list = w;
	w->list = list;
}

static void
list_unlink(struct watcher *w)
{
	if (w->list == NULL)
		return;
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		*w->list = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->list = NULL;
}

static struct wslot *
table_find(struct wtable *t, const char *k, size_t n, uint64_t h)
{
	struct wslot *s;

	if (t->nb == 0)
		return NULL;
	for (s = t->b[h & (t->nb - 1)]; s != NULL; s = s->chain)
		if (s->hash == h && s->klen == n && memcmp(s->key, k, n) == 0)
			return s;
	return NULL;
}

static int
table_grow(struct wtable *t)
{
	size_t nb = t->nb ? t->nb * 2 : 64;
	struct wslot **b = calloc(nb, sizeof(*b));

	if (b == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < t->nb; i++) {
		struct wslot *s = t->b[i], *next;

		for (; s != NULL; s = next) {
			next = s->chain;
			s->chain = b[s->hash & (nb - 1)];
			b[s->hash & (nb - 1)] = s;
		}
	}
	free(t->b);
	t->b = b;
	t->nb = nb;
	return 0;
}

static struct wslot *
table_get(struct wtable *t, const char *k, size_t n, bool *created)
{
	uint64_t h = watch_hash(k, n);
	struct wslot *s = table_find(t, k, n, h);

	*created = false;
	if (s != NULL)
		return s;
	if (t->n >= t->nb && table_grow(t) != 0)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->key = malloc(n ? n : 1)) == NULL) {
		free(s);
		return NULL;
	}
	memcpy(s->key, k, n);
	s->klen = n;
	s->hash = h;
	s->chain = t->b[h & (t->nb - 1)];
	t->b[h & (t->nb - 1)] = s;
	t->n++;
	*created = true;
	return s;
}

static void
table_remove(struct wtable *t, struct wslot *s)
{
	struct wslot **pp = &t->b[s->hash & (t->nb - 1)];

	while (*pp != s)
		pp = &(*pp)->chain;
	*pp = s->chain;
	t->n--;
	free(s->key);
	free(s);
}

struct watch *
watch_new(struct loop *l, watch_eval_cb eval, watch_drop_cb drop, void *arg)
{
	struct watch *wt = calloc(1, sizeof(*wt));
	struct timespec ts;

	if (wt == NULL)
		return NULL;
	wt->loop = l;
	wt->eval = eval;
	wt->drop = drop;
	wt->arg = arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	wt->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)getpid() ^
	    (uint64_t)ts.tv_sec ^ 0x9e3779b97f4a7c15ULL;
	return wt;
}

/* Counts one more prefix slot of length len (room was made). */
static void
watch_len_add(struct watch *wt, size_t len)
{
	size_t i = 0;

	while (i < wt->nlens && wt->lens[i].len < len)
		i++;
	if (i < wt->nlens && wt->lens[i].len == len) {
		wt->lens[i].slots++;
		return;
	}
	memmove(&wt->lens[i + 1], &wt->lens[i],
	    (wt->nlens - i) * sizeof(*wt->lens));
	wt->lens[i].len = len;
	wt->lens[i].slots = 1;
	wt->nlens++;
}

/* Counts one prefix slot of length len less. */
static void
watch_len_del(struct watch *wt, size_t len)
{
	for (size_t i = 0; i < wt->nlens; i++) {
		if (wt->lens[i].len != len)
			continue;
		if (--wt->lens[i].slots == 0) {
			memmove(&wt->lens[i], &wt->lens[i + 1],
			    (wt->nlens - i - 1) * sizeof(*wt->lens));
			wt->nlens--;
		}
		return;
	}
}

/* Puts w on the list of its key (creating the slot). */
static int
watch_index(struct watch *wt, struct watcher *w)
{
	struct wtable *t = w->kind == WATCH_KEY ? &wt->exact : &wt->prefix;
	struct wslot *s;
	bool created;

	if (w->kind == WATCH_ANY) {
		list_push(&wt->any, w);
		return 0;
	}
	if (w->kind == WATCH_PREFIX && wt->nlens == wt->caplens) {
		size_t cap = wt->caplens ? 2 * wt->caplens : 8;
		struct wlen *p = realloc(wt->lens, cap * sizeof(*p));

		if (p == NULL)
			return ERR_NOMEM;
		wt->lens = p;
		wt->caplens = cap;
	}
	if ((s = table_get(t, w->key, w->klen, &created)) == NULL)
		return ERR_NOMEM;
	if (created && w->kind == WATCH_PREFIX)
		watch_len_add(wt, w->klen);
	list_push(&s->head, w);
	w->slot = s;
	return 0;
}

/* Takes w off whatever list it is on, freeing an emptied slot. */
static void
watch_unindex(struct watch *wt, struct watcher *w)
{
	struct wslot *s = w->slot;

	list_unlink(w);
	w->slot = NULL;
	if (s == NULL || s->head != NULL)
		return;
	if (w->kind == WATCH_PREFIX) {
		watch_len_del(wt, s->klen);
		table_remove(&wt->prefix, s);
	} else {
		table_remove(&wt->exact, s);
	}
}

static void
watcher_destroy(struct watch *wt, struct watcher *w)
{
	watch_unindex(wt, w);
	if (w->timer != 0)
		loop_timer_cancel(wt->loop, w->timer);
	wt->count--;
	free(w->group);
	free(w->key);
	free(w);
}

static void
watch_on_timer(struct loop *l, void *arg)
{
	struct watcher *w = arg;
	struct watch *wt = w->wt;

	w->timer = 0;
	watch_unindex(wt, w);
	wt->eval(wt->arg, w->data, true);
	watcher_destroy(wt, w);
}

void
watch_set_group(struct watch *wt, watch_group_cb group)
{
	wt->group = group;
}

int
watch_add(struct watch *wt, enum watch_kind kind, const char *key,
    size_t klen, uint32_t wait_ms, void *data)
{
	return watch_add_group(wt, kind, key, klen, wait_ms, NULL, 0, data);
}

int
watch_add_group(struct watch *wt, enum watch_kind kind, const char *key,
    size_t klen, uint32_t wait_ms, const void *group, size_t glen,
    void *data)
{
	struct watcher *w = calloc(1, sizeof(*w));
	uint64_t delay;

	if (w == NULL)
		return ERR_NOMEM;
	if (glen > 0) {
		if ((w->group = malloc(glen)) == NULL) {
			free(w);
			return ERR_NOMEM;
		}
		memcpy(w->group, group, glen);
		w->glen = glen;
		w->ghash = watch_hash(group, glen);
	}
	if (kind == WATCH_ANY)
		klen = 0;
	w->wt = wt;
	w->kind = kind;
	w->data = data;
	w->klen = klen;
	if ((w->key = malloc(klen ? klen : 1)) == NULL) {
		free(w->group);
		free(w);
		return ERR_NOMEM;
	}
	if (klen)
		memcpy(w->key, key, klen);
	if (wait_ms == 0)
		wait_ms = WATCH_DEFAULT_WAIT_MS;
	if (wait_ms > WATCH_MAX_WAIT_MS)
		wait_ms = WATCH_MAX_WAIT_MS;
	delay = wait_ms + watch_rand(wt) % (wait_ms / 16 + 1);
	if (watch_index(wt, w) != 0) {
		free(w->group);
		free(w->key);
		free(w);
		return ERR_NOMEM;
	}
	if ((w->timer = loop_timer_add(wt->loop, delay, watch_on_timer, w)) ==
	    0) {
		watch_unindex(wt, w);
		free(w->group);
		free(w->key);
		free(w);
		return ERR_NOMEM;
	}
	wt->count++;
	return 0;
}

/* Moves every watcher of slot s to the ready list. */
static void
watch_ready_slot(struct watch *wt, struct wslot *s, bool prefix)
{
	struct watcher *w;

	while ((w = s->head) != NULL) {
		list_unlink(w);
		w->slot = NULL;
		list_push(&wt->ready, w);
	}
	if (prefix) {
		watch_len_del(wt, s->klen);
		table_remove(&wt->prefix, s);
	} else {
		table_remove(&wt->exact, s);
	}
}

void
watch_touch(struct watch *wt, const char *key, size_t klen)
{
	struct watcher *w;
	struct wslot *s;

	if (wt->count == 0)
		return;
	if ((s = table_find(&wt->exact, key, klen, watch_hash(key, klen))))
		watch_ready_slot(wt, s, false);
	/* each length in use up to klen; a matched slot is removed, so
	 * walk from the longest down (removal only shifts what follows) */
	for (size_t i = wt->nlens; i-- > 0;) {
		size_t n = wt->lens[i].len;

		if (n > klen)
			continue;
		s = table_find(&wt->prefix, key, n, watch_hash(key, n));
		if (s != NULL)
			watch_ready_slot(wt, s, true);
	}
	while ((w = wt->any) != NULL) {
		list_unlink(w);
		list_push(&wt->ready, w);
	}
}

/* After w's evaluation: forget it (answered) or index it again. */
static void
watch_settle(struct watch *wt, struct watcher *w, bool done)
{
	if (done) {
		watcher_destroy(wt, w);
	} else if (watch_index(wt, w) != 0) {
		log_warnx("watch: out of memory, answering a watcher early");
		wt->eval(wt->arg, w->data, true);
		watcher_destroy(wt, w);
	}
}

/* Re-evaluates the ready watchers one by one. */
static void
watch_flush_each(struct watch *wt)
{
	struct watcher *w;

	while ((w = wt->ready) != NULL) {
		list_unlink(w);
		watch_settle(wt, w, wt->eval(wt->arg, w->data, false));
	}
}

/* Moves the ready list into wt->vec (grown as needed), its length to *np. */
static int
watch_collect(struct watch *wt, size_t *np)
{
	struct watcher *w;
	size_t n = 0;

	for (w = wt->ready; w != NULL; w = w->next)
		n++;
	if (n > wt->capvec) {
		size_t cap = n < 64 ? 64 : n + n / 2;
		struct watcher **v = malloc(cap * sizeof(*v));
		void **d = malloc(cap * sizeof(*d));
		bool *b = malloc(cap * sizeof(*b));

		if (v == NULL || d == NULL || b == NULL) {
			free(v);
			free(d);
			free(b);
			return ERR_NOMEM;
		}
		free(wt->vec);
		free(wt->gdata);
		free(wt->gdone);
		wt->vec = v;
		wt->gdata = d;
		wt->gdone = b;
		wt->capvec = cap;
	}
	n = 0;
	while ((w = wt->ready) != NULL) {
		list_unlink(w);
		wt->vec[n++] = w;
	}
	*np = n;
	return 0;
}

static int
watcher_cmp(const void *a, const void *b)
{
	const struct watcher *x = *(struct watcher *const *)a;
	const struct watcher *y = *(struct watcher *const *)b;

	if (x->ghash != y->ghash)
		return x->ghash < y->ghash ? -1 : 1;
	if (x->glen != y->glen)
		return x->glen < y->glen ? -1 : 1;
	return x->glen == 0 ? 0 : memcmp(x->group, y->group, x->glen);
}

static bool
watcher_same_group(const struct watcher *x, const struct watcher *y)
{
	return x->glen > 0 && x->ghash == y->ghash && x->glen == y->glen &&
	    memcmp(x->group, y->group, x->glen) == 0;
}

/* Evaluates vec[0..n), the watchers of one group key, together. */
static void
watch_eval_group(struct watch *wt, struct watcher **vec, size_t n)
{
	if (n == 1) {
		watch_settle(wt, vec[0], wt->eval(wt->arg, vec[0]->data,
		    false));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		wt->gdata[i] = vec[i]->data;
		wt->gdone[i] = false;
	}
	wt->group(wt->arg, wt->gdata, wt->gdone, n);
	for (size_t i = 0; i < n; i++)
		watch_settle(wt, vec[i], wt->gdone[i]);
}

void
watch_flush(struct watch *wt)
{
	size_t n, i, j;

	if (wt->flushing)
		return; /* the running flush takes what was queued */
	wt->flushing = true;
	while (wt->ready != NULL) {
		if (wt->group == NULL || watch_collect(wt, &n) != 0) {
			watch_flush_each(wt);
			break;
		}
		qsort(wt->vec, n, sizeof(*wt->vec), watcher_cmp);
		/* vec is reused by nothing below: eval never flushes */
		for (i = 0; i < n; i = j) {
			for (j = i + 1; j < n &&
			    watcher_same_group(wt->vec[i], wt->vec[j]); j++)
				;
			watch_eval_group(wt, &wt->vec[i], j - i);
		}
	}
	wt->flushing = false;
}

size_t
watch_count(const struct watch *wt)
{
	return wt->count;
}

static void
watch_drop_list(struct watch *wt, struct watcher **list)
{
	struct watcher *w;

	while ((w = *list) != NULL) {
		list_unlink(w);
		w->slot = NULL;
		wt->drop(wt->arg, w->data);
		if (w->timer != 0)
			loop_timer_cancel(wt->loop, w->timer);
		free(w->group);
		free(w->key);
		free(w);
	}
}

static void
watch_drop_table(struct watch *wt, struct wtable *t)
{
	for (size_t i = 0; i < t->nb; i++) {
		struct wslot *s, *next;

		for (s = t->b[i]; s != NULL; s = next) {
			next = s->chain;
			watch_drop_list(wt, &s->head);
			free(s->key);
			free(s);
		}
	}
	free(t->b);
	memset(t, 0, sizeof(*t));
}

void
watch_free(struct watch *wt)
{
	if (wt == NULL)
		return;
	watch_drop_list(wt, &wt->ready);
	watch_drop_list(wt, &wt->any);
	watch_drop_table(wt, &wt->exact);
	watch_drop_table(wt, &wt->prefix);
	free(wt->lens);
	free(wt->vec);
	free(wt->gdata);
	free(wt->gdone);
	free(wt);
}
