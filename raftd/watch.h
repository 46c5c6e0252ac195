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
 *
 * Watchers may carry a group key (the query they run, minus what is the
 * client's own: index, wait, request id). watch_flush() hands the woken
 * watchers of one group key to the group callback together, so a query
 * 10,000 clients block on is run and encoded once per write, not 10,000
 * times; each watcher still answers or keeps waiting on its own index.
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
/*
 * Re-evaluates, after a touch, the n (>= 2) woken watchers data[0..n)
 * that share one group key: sets done[i] (false on entry) for each that
 * answered, as eval's return value; the others keep waiting.
 */
typedef void (*watch_group_cb)(void *arg, void **data, bool *done, size_t n);

/* l and arg are borrowed. Returns an owned watch or NULL (no memory). */
struct watch *watch_new(struct loop *l, watch_eval_cb eval,
    watch_drop_cb drop, void *arg);
/* Sets the group callback (NULL: every watcher through eval alone). */
void watch_set_group(struct watch *wt, watch_group_cb group);
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
/*
 * watch_add with a group key (copied; glen 0 = none): watchers whose
 * group keys are equal byte for byte are evaluated together.
 */
int watch_add_group(struct watch *wt, enum watch_kind kind, const char *key,
    size_t klen, uint32_t wait_ms, const void *group, size_t glen,
    void *data);

/* A write changed key (borrowed): queue the watchers it concerns. */
void watch_touch(struct watch *wt, const char *key, size_t klen);
/* Re-evaluates every queued watcher. */
void watch_flush(struct watch *wt);

/* Watchers held. */
size_t watch_count(const struct watch *wt);

#endif
