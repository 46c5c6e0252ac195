/*
 * watch.h — blocking reads in raftd: requests held until the data they
 * read changes or their wait ends (spec/consul-api.md §1.5).
 *
 * A watcher is indexed by what it reads: an exact key (a present single
 * key), a prefix (?recurse, ?keys) or "any KV write" (a missing single
 * key, as Consul: issue #9449). A write touches the watchers of its key
 * only: one hash lookup for the exact key and one per distinct prefix
 * length in use, so thousands of idle watchers cost a write nothing.
 * Touched watchers are queued and re-evaluated by watch_flush() after
 * the applied batch, through the owner's callback, which answers (the
 * index moved past the client's) or keeps waiting. Loop thread only.
 */
#ifndef CAIRN_RAFTD_WATCH_H
#define CAIRN_RAFTD_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct watch;
struct watcher;

enum watch_kind {
	WATCH_KEY = 0,
	WATCH_PREFIX = 1,
	WATCH_ANY = 2,
};

/* The default and the longest wait (Consul's default/max query time). */
#define WATCH_DEFAULT_WAIT_MS (300u * 1000)
#define WATCH_MAX_WAIT_MS (600u * 1000)

/*
 * Re-evaluates the watcher whose data is `data`: on a touch (timed_out
 * false) return true once it answered (the watch then forgets it) or
 * false to keep waiting; on the end of its wait (timed_out true) it must
 * answer, the return value is ignored.
 */
typedef bool (*watch_eval_cb)(void *arg, void *data, bool timed_out);
/* Releases data of a watcher still held at watch_free (drop the request). */
typedef void (*watch_drop_cb)(void *arg, void *data);

/* l and arg are borrowed. Returns an owned watch or NULL (no memory). */
struct watch *watch_new(struct loop *l, watch_eval_cb eval,
    watch_drop_cb drop, void *arg);
/* Drops every watcher (drop callback each) and frees wt. NULL is a no-op. */
void watch_free(struct watch *wt);

/*
 * Holds data (owned by the caller until eval answered or drop ran) until
 * key (copied; a prefix for WATCH_PREFIX, ignored for WATCH_ANY) is
 * touched or wait_ms (0 = the default; capped at the max) plus a random
 * jitter up to wait_ms/16 passes. Returns 0 or ERR_NOMEM.
 */
int watch_add(struct watch *wt, enum watch_kind kind, const char *key,
    size_t klen, uint32_t wait_ms, void *data);

/* A write changed key (borrowed): queue the watchers it concerns. */
void watch_touch(struct watch *wt, const char *key, size_t klen);
/* Re-evaluates every queued watcher. */
void watch_flush(struct watch *wt);

/* Watchers held. */
size_t watch_count(const struct watch *wt);

#endif
