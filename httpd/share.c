/*
 * share.c — one rendered answer for the blocking watchers woken by the
 * same raftd reply (see share.h for why and why it is correct).
 *
 * A handful of slots, compared linearly: a wake-up brings one distinct
 * (query, reply) per watched query, and the comparison (lengths first,
 * then memcmp of a few KB) costs far less than decoding and rendering.
 * The body is reference counted because every woken connection sends it
 * at its own pace (the server hands a reference to libmicrohttpd).
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "req.h"
#include "share.h"

struct share_kb {
	char *p;
	size_t len, cap;
	bool nomem;
};

static void
share_kb_add(struct share_kb *b, const void *p, size_t n)
{
	size_t ncap;
	char *np;

	if (b->nomem)
		return;
	if (b->len + n > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->nomem = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
share_kb_str(struct share_kb *b, const char *s)
{
	share_kb_add(b, s, strlen(s) + 1);
}

int
share_key(const struct req *r, share_cb cb, char **key, size_t *key_len)
{
	struct share_kb b = { 0 };
	uint8_t flags[2] = { r->hop, r->pretty };

	share_kb_add(&b, &cb, sizeof(cb));
	share_kb_add(&b, &r->hflags, sizeof(r->hflags));
	share_kb_add(&b, flags, sizeof(flags));
	share_kb_str(&b, r->method);
	share_kb_str(&b, r->path);
	for (size_t i = 0; i < r->args.n; i++) {
		const struct query_arg *a = &r->args.v[i];

		/* index and wait shape raftd's wait, not the rendering */
		if (strcmp(a->key, "index") == 0 || strcmp(a->key, "wait") == 0)
			continue;
		share_kb_str(&b, a->key);
		/* absent value (?pretty) and empty value (?pretty=) differ */
		if (a->val == NULL)
			share_kb_add(&b, "\1", 1);
		else
			share_kb_str(&b, a->val);
	}
	if (b.nomem) {
		free(b.p);
		return ERR_NOMEM;
	}
	*key = b.p;
	*key_len = b.len;
	return 0;
}

void
share_body_unref(struct share_body *b)
{
	if (b == NULL || --b->refs > 0)
		return;
	free(b->data);
	free(b);
}

static void
share_entry_free(struct share_entry *e)
{
	for (size_t i = 0; i < e->n_hdrs; i++) {
		free(e->hdrs[i].name);
		free(e->hdrs[i].value);
	}
	free(e->hdrs);
	free(e->key);
	free(e->raw);
	share_body_unref(e->body);
	memset(e, 0, sizeof(*e));
}

static bool
share_live(const struct share_entry *e, uint64_t now_ms)
{
	return now_ms <= e->born_ms + SHARE_TTL_MS;
}

static struct share_entry *
share_find(struct share *c, const char *key, size_t key_len,
    const uint8_t *raw, size_t raw_len, uint64_t now_ms)
{
	for (size_t i = 0; i < c->n; i++) {
		struct share_entry *e = &c->e[i];

		if (e->raw_len == raw_len && e->key_len == key_len &&
		    share_live(e, now_ms) &&
		    memcmp(e->key, key, key_len) == 0 &&
		    memcmp(e->raw, raw, raw_len) == 0)
			return e;
	}
	return NULL;
}

bool
share_answer(struct share *c, struct req *r, const char *key,
    size_t key_len, const uint8_t *raw, size_t raw_len, uint64_t now_ms)
{
	struct share_entry *e;
	size_t i;

	/* Headers (or a body) set before the call would be doubled (or
	 * leak): such requests are rendered. */
	if (r->n_rhdrs > 0 || r->rbody != NULL || r->replied)
		return false;
	if ((e = share_find(c, key, key_len, raw, raw_len, now_ms)) == NULL) {
		c->misses++;
		return false;
	}
	for (i = 0; i < e->n_hdrs; i++)
		if (req_set_header(r, e->hdrs[i].name, e->hdrs[i].value) != 0)
			break;
	if (i < e->n_hdrs) {
		/* Out of memory: undo, the caller renders it itself. */
		while (r->n_rhdrs > 0) {
			r->n_rhdrs--;
			free(r->rhdrs[r->n_rhdrs].name);
			free(r->rhdrs[r->n_rhdrs].value);
		}
		return false;
	}
	c->hits++;
	e->body->refs++;
	req_reply_shared(r, e->status, e->body);
	return true;
}

/* A free slot, or the oldest entry's, emptied. */
static struct share_entry *
share_slot(struct share *c)
{
	struct share_entry *old;

	if (c->n < SHARE_SLOTS)
		return &c->e[c->n++];
	old = &c->e[0];
	for (size_t i = 1; i < c->n; i++)
		if (c->e[i].born_ms < old->born_ms)
			old = &c->e[i];
	share_entry_free(old);
	return old;
}

static int
share_copy_hdrs(struct share_entry *e, const struct req *r)
{
	if (r->n_rhdrs == 0)
		return 0;
	if ((e->hdrs = calloc(r->n_rhdrs, sizeof(*e->hdrs))) == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < r->n_rhdrs; i++) {
		e->hdrs[i].name = strdup(r->rhdrs[i].name);
		e->hdrs[i].value = strdup(r->rhdrs[i].value);
		e->n_hdrs++;
		if (e->hdrs[i].name == NULL || e->hdrs[i].value == NULL)
			return ERR_NOMEM;
	}
	return 0;
}

void
share_keep(struct share *c, struct req *r, char *key, size_t key_len,
    const uint8_t *raw, size_t raw_len, uint64_t now_ms)
{
	struct share_entry ne = { 0 };
	struct share_body *b;

	if (!r->replied || r->shared != NULL ||
	    share_find(c, key, key_len, raw, raw_len, now_ms) != NULL) {
		free(key);
		return;
	}
	ne.key = key;
	ne.key_len = key_len;
	ne.raw_len = raw_len;
	ne.born_ms = now_ms;
	ne.status = r->status;
	if ((ne.raw = malloc(raw_len ? raw_len : 1)) == NULL ||
	    (b = calloc(1, sizeof(*b))) == NULL) {
		share_entry_free(&ne);
		return;
	}
	memcpy(ne.raw, raw, raw_len);
	ne.body = b;
	b->refs = 1;
	if (share_copy_hdrs(&ne, r) != 0) {
		share_entry_free(&ne); /* frees b, whose data is still NULL */
		return;
	}
	/* r's body becomes the shared one: r and the entry hold it. */
	b->data = r->rbody;
	b->len = r->rbody_len;
	b->refs = 2;
	r->shared = b;
	*share_slot(c) = ne;
}

void
share_expire(struct share *c, uint64_t now_ms)
{
	size_t i = 0;

	while (i < c->n) {
		if (share_live(&c->e[i], now_ms)) {
			i++;
			continue;
		}
		share_entry_free(&c->e[i]);
		c->e[i] = c->e[--c->n];
		memset(&c->e[c->n], 0, sizeof(c->e[c->n]));
	}
}

void
share_clear(struct share *c)
{
	for (size_t i = 0; i < c->n; i++)
		share_entry_free(&c->e[i]);
	c->n = 0;
}
