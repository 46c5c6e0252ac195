/*
 * writer.h — raftd's storage writer thread: group commit of log entries.
 *
 * The loop thread owns daemon state and does not wait for a disk sync
 * under load (a batch of a few entries found with no write in flight it
 * syncs itself: pipeline.c says why). It hands the writer one batch of
 * log entries at a time; the writer thread
 * appends the batch as ONE synced RocksDB WriteBatch (store_log_append)
 * and calls the completion callback on the writer thread, which posts the
 * batch back to the loop (loop_post). While one batch syncs, the loop
 * accumulates new requests into the next batch, so N concurrent writes
 * cost one fdatasync, not N (DESIGN.md §5; Raft dissertation §10.2.1).
 */
#ifndef CAIRN_RAFTD_WRITER_H
#define CAIRN_RAFTD_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct writer;

/* A batch of entries; the entries and their data are owned by the batch. */
struct writer_batch {
	struct store_entry *ents;
	size_t n;
	size_t cap;
	int err; /* set by the writer: 0 or the store_log_append error */
};

/* Appends e (taking ownership of e->data, also on failure). 0/ERR_NOMEM. */
int writer_batch_add(struct writer_batch *b, struct store_entry *e);
/* Frees every entry's data and the array; b itself is not freed. */
void writer_batch_fini(struct writer_batch *b);

/*
 * Called on the WRITER thread once b is durable (b->err == 0) or failed.
 * b is owned by the callee (it is usually posted to the loop).
 */
typedef void (*writer_done_cb)(void *arg, struct writer_batch *b);

/* Starts the thread. s and arg are borrowed and must outlive the writer. */
int writer_new(struct store *s, writer_done_cb cb, void *arg,
    struct writer **out);
/*
 * Queues b (heap-allocated, ownership passes to the writer and then to
 * the callback). Batches are written in submission order. Returns 0, or
 * ERR_CLOSED after writer_free began (b is then still the caller's).
 */
int writer_submit(struct writer *w, struct writer_batch *b);
/*
 * Finishes every queued batch (their callbacks run), stops and joins the
 * thread, frees w. NULL is a no-op.
 */
void writer_free(struct writer *w);

#endif
