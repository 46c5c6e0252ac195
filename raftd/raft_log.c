/*
 * raft_log.c — the Raft core's in-memory log.
 *
 * A dense array of consecutive entries after an optional snapshot point
 * (snap_index, snap_term); entries at or before the snapshot index may be
 * kept as trailing entries for slow followers (dissertation 5.1). Each
 * entry owns a malloc'd copy of its data until truncated or compacted.
 * Compaction shifts the array (memmove): it happens once per snapshot.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "raft_int.h"

void
raft_log_init(struct raft_log *l)
{
	memset(l, 0, sizeof(*l));
}

void
raft_log_fini(struct raft_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].data);
	free(l->e);
	memset(l, 0, sizeof(*l));
}

uint64_t
raft_log_first(const struct raft_log *l)
{
	return l->n ? l->e[0].index : l->snap_index + 1;
}

uint64_t
raft_log_last(const struct raft_log *l)
{
	return l->n ? l->e[l->n - 1].index : l->snap_index;
}

uint64_t
raft_log_last_term(const struct raft_log *l)
{
	return l->n ? l->e[l->n - 1].term : l->snap_term;
}

struct raft_entry *
raft_log_get(const struct raft_log *l, uint64_t index)
{
	if (l->n == 0 || index < l->e[0].index || index > raft_log_last(l))
		return NULL;
	return &l->e[index - l->e[0].index];
}

uint64_t
raft_log_term(const struct raft_log *l, uint64_t index)
{
	struct raft_entry *e;

	if (index == 0)
		return 0;
	if ((e = raft_log_get(l, index)) != NULL)
		return e->term;
	if (index == l->snap_index)
		return l->snap_term;
	return 0;
}

int
raft_log_append(struct raft_log *l, uint64_t term, uint64_t index,
    enum raft_entry_type type, const void *data, size_t len)
{
	struct raft_entry *e;
	void *copy = NULL;

	if (index != raft_log_last(l) + 1)
		return ERR_INVAL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct raft_entry *ne = realloc(l->e, cap * sizeof(*ne));
		if (ne == NULL)
			return ERR_NOMEM;
		l->e = ne;
		l->cap = cap;
	}
	if (len > 0) {
		if ((copy = malloc(len)) == NULL)
			return ERR_NOMEM;
		memcpy(copy, data, len);
	}
	e = &l->e[l->n++];
	e->term = term;
	e->index = index;
	e->type = type;
	e->data = copy;
	e->len = len;
	return 0;
}

void
raft_log_truncate(struct raft_log *l, uint64_t index)
{
	while (l->n > 0 && l->e[l->n - 1].index >= index) {
		free(l->e[l->n - 1].data);
		l->n--;
	}
}

void
raft_log_compact(struct raft_log *l, uint64_t index)
{
	size_t k = 0;

	while (k < l->n && l->e[k].index <= index) {
		free(l->e[k].data);
		k++;
	}
	if (k == 0)
		return;
	memmove(l->e, l->e + k, (l->n - k) * sizeof(*l->e));
	l->n -= k;
}

void
raft_log_reset(struct raft_log *l, uint64_t index, uint64_t term)
{
	raft_log_truncate(l, 0);
	l->snap_index = index;
	l->snap_term = term;
}

/* First index of the run of entries sharing the term of index. */
uint64_t
raft_log_first_of_term(const struct raft_log *l, uint64_t index)
{
	uint64_t t = raft_log_term(l, index);
	uint64_t i = index;

	while (i > 1 && raft_log_get(l, i - 1) != NULL &&
	    raft_log_term(l, i - 1) == t)
		i--;
	return i;
}

/* Last index holding term, or 0 if the log has no entry of that term. */
uint64_t
raft_log_last_of_term(const struct raft_log *l, uint64_t term)
{
	for (size_t k = l->n; k > 0; k--) {
		if (l->e[k - 1].term == term)
			return l->e[k - 1].index;
		if (l->e[k - 1].term < term)
			return 0;
	}
	if (l->snap_term == term && l->snap_index > 0)
		return l->snap_index;
	return 0;
}
