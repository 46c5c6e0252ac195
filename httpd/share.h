/*
 * share.h — one rendered answer shared by the blocking watchers that one
 * change wakes with the same raftd reply (issue 5: 10,000 watchers woken
 * within 1 s, held in < 100 MB).
 *
 * When many watchers block on the same query, raftd answers each with
 * byte-identical replies when the watched data changes. Decoding and
 * rendering every one of them was ~23 % of httpd's CPU in the wake-up
 * (bench/RESULTS.md), and each rendered copy (~6 KB, in an 8 KB JSON
 * buffer) lived until sent: tens of MB at the peak. So a blocking read's
 * reply is looked up here first by (request key, raftd reply bytes): on a
 * hit the request gets the cached status, headers and a reference to the
 * cached body, without decoding or rendering.
 *
 * Correctness argument: an entry matches only when the raftd reply bytes
 * are identical and the request key is identical. The key holds every
 * input a renderer reads apart from the reply: the callback, method,
 * path, every query argument except index and wait (they only shape
 * raftd's wait, not the rendering), ?pretty, and the handler's hflags/hop
 * state. Renderers of raftd reads read no request headers (the Accept
 * header is read only for checkd's agent endpoints, not cached here).
 *
 * Memory: SHARE_SLOTS entries, each dropped SHARE_TTL_MS after it was
 * made (the caller calls share_expire from a timer); a body lives on while
 * a response still references it (share_body_unref).
 */
#ifndef CAIRN_HTTPD_SHARE_H
#define CAIRN_HTTPD_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct req;
struct req_header;

/* The renderer of a reply (rpc.h's rpc_cb). */
typedef void (*share_cb)(struct req *r, const void *body);

#define SHARE_SLOTS 8
#define SHARE_TTL_MS 1000

/* A rendered body, reference counted; freed when the last ref goes. */
struct share_body {
	unsigned refs;
	char *data;
	size_t len;
};

struct share_entry {
	char *key;
	size_t key_len;
	uint8_t *raw; /* raftd's reply, as received */
	size_t raw_len;
	uint64_t born_ms;
	int status;
	struct req_header *hdrs;
	size_t n_hdrs;
	struct share_body *body;
};

struct share {
	struct share_entry e[SHARE_SLOTS];
	size_t n;
	uint64_t hits, misses; /* for tests and debug logs */
};

/*
 * Builds r's key (owned, *key_len bytes) for answers rendered by cb; 0 or
 * ERR_NOMEM. cb identifies the renderer (compared as a pointer).
 */
int share_key(const struct req *r, share_cb cb, char **key,
    size_t *key_len);

/*
 * Answers r from the entry for (key, raw) made at most SHARE_TTL_MS
 * before now_ms, if any: copies the status and headers and takes a
 * reference to the body. Returns true when r was answered; never when r
 * already has reply headers (they would be doubled).
 */
bool share_answer(struct share *c, struct req *r, const char *key,
    size_t key_len, const uint8_t *raw, size_t raw_len, uint64_t now_ms);

/*
 * Keeps r's answer (already given, with an owned body) for later requests
 * with the same key and reply: r's body becomes a shared body referenced
 * by r and the entry. Takes over key. Does nothing (and frees key) when
 * out of memory or when r has no owned answer.
 */
void share_keep(struct share *c, struct req *r, char *key, size_t key_len,
    const uint8_t *raw, size_t raw_len, uint64_t now_ms);

/* Drops the entries made more than SHARE_TTL_MS before now_ms. */
void share_expire(struct share *c, uint64_t now_ms);
/* Drops every entry (shutdown). */
void share_clear(struct share *c);

void share_body_unref(struct share_body *b);

#endif
