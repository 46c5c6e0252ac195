/*
 * connlimit.c — per-client-IP connection counting (see connlimit.h).
 */
#include <stdlib.h>
#include <string.h>

#include "connlimit.h"
#include "err.h"

void
connlimit_init(struct connlimit *cl, uint32_t max)
{
	memset(cl, 0, sizeof(*cl));
	cl->max = max;
}

void
connlimit_fini(struct connlimit *cl)
{
	free(cl->v);
	memset(cl, 0, sizeof(*cl));
}

static struct connlimit_ent *
connlimit_find(const struct connlimit *cl, const void *addr, size_t len)
{
	size_t i;

	for (i = 0; i < cl->n; i++)
		if (cl->v[i].len == len && memcmp(cl->v[i].addr, addr, len) == 0)
			return &cl->v[i];
	return NULL;
}

int
connlimit_acquire(struct connlimit *cl, const void *addr, size_t len)
{
	struct connlimit_ent *e, *nv;

	if (len != 4 && len != 16)
		return ERR_INVAL;
	if ((e = connlimit_find(cl, addr, len)) == NULL) {
		if (cl->n == cl->cap) {
			size_t ncap = cl->cap ? cl->cap * 2 : 8;
			if ((nv = realloc(cl->v, ncap * sizeof(*nv))) == NULL)
				return ERR_NOMEM;
			cl->v = nv;
			cl->cap = ncap;
		}
		e = &cl->v[cl->n++];
		memset(e, 0, sizeof(*e));
		memcpy(e->addr, addr, len);
		e->len = (uint8_t)len;
	}
	e->n++;
	return cl->max > 0 && e->n > cl->max ? ERR_TOOBIG : 0;
}

void
connlimit_release(struct connlimit *cl, const void *addr, size_t len)
{
	struct connlimit_ent *e = connlimit_find(cl, addr, len);

	if (e == NULL || e->n == 0)
		return;
	if (--e->n == 0)
		*e = cl->v[--cl->n]; /* keep the array dense */
}

uint32_t
connlimit_count(const struct connlimit *cl, const void *addr, size_t len)
{
	const struct connlimit_ent *e = connlimit_find(cl, addr, len);

	return e != NULL ? e->n : 0;
}
