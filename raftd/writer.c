/*
 * writer.c — the storage writer thread of raftd (see writer.h).
 *
 * Key decision: a single thread and a FIFO of batches guarded by one
 * mutex. The loop keeps at most one batch in flight, so the queue is
 * short; the thread exists only so that fdatasync never blocks the loop
 * (STYLE.md principle 1: the writer touches no daemon state, it only
 * posts completions). Reference: Raft dissertation §10.2.1 (batching and
 * pipelining), RocksDB "group commit" of synced writes.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "writer.h"

struct writer_node {
	struct writer_batch *b;
	struct writer_node *next;
};

struct writer {
	struct store *store;
	writer_done_cb cb;
	void *arg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct writer_node *head, *tail;
	bool stopping;
};

int
writer_batch_add(struct writer_batch *b, struct store_entry *e)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		struct store_entry *v = realloc(b->ents, cap * sizeof(*v));

		if (v == NULL) {
			store_entry_fini(e);
			return ERR_NOMEM;
		}
		b->ents = v;
		b->cap = cap;
	}
	b->ents[b->n++] = *e;
	memset(e, 0, sizeof(*e));
	return 0;
}

void
writer_batch_fini(struct writer_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		store_entry_fini(&b->ents[i]);
	free(b->ents);
	memset(b, 0, sizeof(*b));
}

static void *
writer_main(void *p)
{
	struct writer *w = p;
	struct writer_node *nd;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->head == NULL)
			break;
		nd = w->head;
		w->head = nd->next;
		if (w->head == NULL)
			w->tail = NULL;
		pthread_mutex_unlock(&w->mu);
		nd->b->err = store_log_append(w->store, nd->b->ents, nd->b->n);
		w->cb(w->arg, nd->b);
		free(nd);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int
writer_new(struct store *s, writer_done_cb cb, void *arg,
    struct writer **out)
{
	struct writer *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (w == NULL)
		return ERR_NOMEM;
	w->store = s;
	w->cb = cb;
	w->arg = arg;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return ERR_NOMEM;
	}
	*out = w;
	return 0;
}

int
writer_submit(struct writer *w, struct writer_batch *b)
{
	struct writer_node *nd = malloc(sizeof(*nd));

	if (nd == NULL)
		return ERR_NOMEM;
	nd->b = b;
	nd->next = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->stopping) {
		pthread_mutex_unlock(&w->mu);
		free(nd);
		return ERR_CLOSED;
	}
	if (w->tail != NULL)
		w->tail->next = nd;
	else
		w->head = nd;
	w->tail = nd;
	pthread_mutex_unlock(&w->mu);
	/*
	 * Signalled after the unlock: a writer woken while we still held mu
	 * would only block on it again (one more futex round trip and thread
	 * switch on every synced write, seen in strace of a PUT). w outlives
	 * this: writer_free() runs on this same thread.
	 */
	pthread_cond_signal(&w->cv);
	return 0;
}

void
writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
