/*
 * idx.h — an intrusive string-keyed hash table: the link lives inside
 * the indexed object (struct svc, struct chk), so adding never allocates
 * and never fails; the table only grows when it can. The same key may
 * be added more than once (a check per service: a multimap); the links
 * of one key are reached with idx_find and idx_next_same.
 *
 * Why: checkd looked services and checks up by scanning lists, O(n) per
 * API call, status change and sync step; with 10,000 services that was
 * O(n^2) in total (issue 5). Reference: the BSD <sys/queue.h> idea of
 * links inside the element; FNV-1a for the hash.
 */
#ifndef CAIRN_CHECKD_IDX_H
#define CAIRN_CHECKD_IDX_H

#include <stddef.h>

struct idx_link {
	struct idx_link *next;
	const char *key;    /* borrowed from the object; stable while added */
	size_t hash;
};

struct idx {
	struct idx_link **b;  /* nb buckets (a power of two), or NULL */
	struct idx_link *one; /* the single bucket while b is NULL */
	size_t nb;
	size_t n;
};

/* Adds l under key (borrowed until idx_del). Never fails. */
void idx_add(struct idx *x, struct idx_link *l, const char *key);
/* Removes l, which must have been added. */
void idx_del(struct idx *x, struct idx_link *l);
/* The most recently added link under key, or NULL. */
struct idx_link *idx_find(const struct idx *x, const char *key);
/* The next link under l's key after l, or NULL. */
struct idx_link *idx_next_same(const struct idx_link *l);
/* Frees the buckets (not the objects). */
void idx_fini(struct idx *x);

#define IDX_ENTRY(l, type, member) \
	((type *)(void *)((char *)(l) - offsetof(type, member)))

#endif
