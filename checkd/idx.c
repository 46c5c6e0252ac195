/*
 * idx.c — the intrusive string-keyed hash table of idx.h.
 *
 * Key decision: chaining with the link inside the object, so idx_add
 * cannot fail (a failed growth keeps the smaller table, which still
 * works, only slower); the table doubles when it holds more links than
 * buckets. Links of one key are kept adjacent in their chain (a new one
 * goes in front of the first of its key), so idx_next_same stops at the
 * first link of another key. Reference: FNV-1a (Fowler, Noll, Vo).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idx.h"

#define IDX_MIN_BUCKETS 64

static size_t
idx_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

static struct idx_link **
idx_bucket(const struct idx *x, size_t hash)
{
	if (x->b == NULL)
		return (struct idx_link **)&x->one;
	return &x->b[hash & (x->nb - 1)];
}

static bool
idx_same(const struct idx_link *l, size_t hash, const char *key)
{
	return l->hash == hash && strcmp(l->key, key) == 0;
}

/* Moves every link to a table of nb buckets, keeping same-key runs. */
static void
idx_grow(struct idx *x, size_t nb)
{
	struct idx_link **b = calloc(nb, sizeof(*b)), *l, *next, **pp;
	struct idx_link *all = NULL, **tail = &all;
	size_t i;

	if (b == NULL)
		return;
	/* one list of every link, each bucket's order kept */
	if (x->b == NULL) {
		*tail = x->one;
	} else {
		for (i = 0; i < x->nb; i++) {
			*tail = x->b[i];
			while (*tail != NULL)
				tail = &(*tail)->next;
		}
	}
	free(x->b);
	x->b = b;
	x->nb = nb;
	x->one = NULL;
	/* appending at the end of each new bucket keeps runs and order */
	for (l = all; l != NULL; l = next) {
		next = l->next;
		l->next = NULL;
		for (pp = idx_bucket(x, l->hash); *pp != NULL;
		    pp = &(*pp)->next)
			;
		*pp = l;
	}
}

void
idx_add(struct idx *x, struct idx_link *l, const char *key)
{
	struct idx_link **pp;

	if (x->n >= x->nb)
		idx_grow(x, x->nb == 0 ? IDX_MIN_BUCKETS : x->nb * 2);
	l->key = key;
	l->hash = idx_hash(key);
	pp = idx_bucket(x, l->hash);
	while (*pp != NULL && !idx_same(*pp, l->hash, key))
		pp = &(*pp)->next;
	l->next = *pp;
	*pp = l;
	x->n++;
}

void
idx_del(struct idx *x, struct idx_link *l)
{
	struct idx_link **pp;

	for (pp = idx_bucket(x, l->hash); *pp != NULL; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			l->next = NULL;
			x->n--;
			return;
		}
}

struct idx_link *
idx_find(const struct idx *x, const char *key)
{
	size_t h = idx_hash(key);
	struct idx_link *l;

	for (l = *idx_bucket(x, h); l != NULL; l = l->next)
		if (idx_same(l, h, key))
			return l;
	return NULL;
}

struct idx_link *
idx_next_same(const struct idx_link *l)
{
	struct idx_link *n = l->next;

	return n != NULL && idx_same(n, l->hash, l->key) ? n : NULL;
}

void
idx_fini(struct idx *x)
{
	free(x->b);
	x->b = NULL;
	x->one = NULL;
	x->nb = 0;
	x->n = 0;
}
