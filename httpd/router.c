/*
 * router.c — route lookup and method enforcement (see router.h).
 *
 * Reference: Consul agent/http.go (the method check in wrap(),
 * MethodNotAllowedError), Go net/http ServeMux (longest pattern wins,
 * subtree redirect). The table is small (about 150 routes when complete)
 * and built once at startup, so a linear scan is enough.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "router.h"

void
router_init(struct router *rt)
{
	memset(rt, 0, sizeof(*rt));
}

void
router_fini(struct router *rt)
{
	free(rt->v);
	memset(rt, 0, sizeof(*rt));
}

int
router_add(struct router *rt, const char *path, unsigned methods,
    router_fn fn, size_t max_body, const char *limit_name)
{
	struct route *nv;
	size_t len = strlen(path);

	if (len == 0 || path[0] != '/' || methods == 0)
		return ERR_INVAL;
	if (rt->n == rt->cap) {
		size_t ncap = rt->cap ? rt->cap * 2 : 32;
		if ((nv = realloc(rt->v, ncap * sizeof(*nv))) == NULL)
			return ERR_NOMEM;
		rt->v = nv;
		rt->cap = ncap;
	}
	rt->v[rt->n].path = path;
	rt->v[rt->n].prefix = len > 1 && path[len - 1] == '/';
	rt->v[rt->n].methods = methods;
	rt->v[rt->n].fn = fn;
	rt->v[rt->n].max_body = max_body;
	rt->v[rt->n].limit_name = limit_name != NULL ? limit_name : "";
	rt->n++;
	return 0;
}

unsigned
router_method(const char *m)
{
	static const struct {
		const char *name;
		unsigned bit;
	} tbl[] = {
		{ "GET", ROUTER_GET },
		{ "POST", ROUTER_POST },
		{ "PUT", ROUTER_PUT },
		{ "DELETE", ROUTER_DELETE },
		{ "HEAD", ROUTER_HEAD },
		{ "OPTIONS", ROUTER_OPTIONS },
	};
	size_t i;

	for (i = 0; i < sizeof(tbl) / sizeof(tbl[0]); i++)
		if (strcmp(m, tbl[i].name) == 0)
			return tbl[i].bit;
	return ROUTER_OTHER;
}

static const struct route *
router_lookup(const struct router *rt, const char *path, const char **param)
{
	const struct route *best = NULL;
	size_t i, blen = 0, len;

	for (i = 0; i < rt->n; i++) {
		const struct route *r = &rt->v[i];
		if (!r->prefix && strcmp(r->path, path) == 0) {
			*param = "";
			return r;
		}
	}
	for (i = 0; i < rt->n; i++) {
		const struct route *r = &rt->v[i];
		len = strlen(r->path);
		if (r->prefix && len > blen && strncmp(r->path, path, len) == 0) {
			best = r;
			blen = len;
		}
	}
	if (best != NULL)
		*param = path + blen;
	return best;
}

/* Is path + "/" a prefix route (ServeMux redirects /v1/kv to /v1/kv/)? */
static bool
router_subtree_root(const struct router *rt, const char *path)
{
	size_t i, len = strlen(path);

	for (i = 0; i < rt->n; i++) {
		const struct route *r = &rt->v[i];
		if (r->prefix && strlen(r->path) == len + 1 &&
		    strncmp(r->path, path, len) == 0)
			return true;
	}
	return false;
}

enum router_result
router_find(const struct router *rt, const char *method, const char *path,
    const struct route **route, const char **param)
{
	const struct route *r;
	unsigned m = router_method(method);

	*route = NULL;
	*param = "";
	if ((r = router_lookup(rt, path, param)) == NULL) {
		if (path[0] == '/' && router_subtree_root(rt, path))
			return ROUTER_REDIRECT;
		return ROUTER_NOT_FOUND;
	}
	*route = r;
	if (m & r->methods)
		return ROUTER_FOUND;
	if (m == ROUTER_OPTIONS)
		return ROUTER_OPTIONS_OK;
	return ROUTER_NOT_ALLOWED;
}

void
router_allow(const struct route *r, char *buf, size_t size)
{
	static const struct {
		unsigned bit;
		const char *name;
	} order[] = {
		{ ROUTER_GET, "GET" },
		{ ROUTER_POST, "POST" },
		{ ROUTER_PUT, "PUT" },
		{ ROUTER_DELETE, "DELETE" },
	};
	size_t i, off;

	off = (size_t)snprintf(buf, size, "OPTIONS");
	for (i = 0; i < sizeof(order) / sizeof(order[0]) && off < size; i++)
		if (r->methods & order[i].bit)
			off += (size_t)snprintf(buf + off, size - off, ",%s",
			    order[i].name);
}
