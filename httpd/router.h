/*
 * router.h — the route table: Consul's /v1 routes (spec Appendix A), each
 * an exact path or a prefix whose remainder is the (already URL-decoded)
 * parameter, with its method set.
 *
 * Semantics follow Consul's agent/http.go wrapper and Go's ServeMux: an
 * exact path beats a prefix, the longest prefix wins; OPTIONS on a route
 * answers 200 with "Allow: OPTIONS,<methods>"; any other method outside
 * the set is 405 with that Allow header and "method X not allowed"; an
 * unknown path is 404 "404 page not found"; "/v1/kv" (a prefix route
 * without its slash) is a 301 to "/v1/kv/" as ServeMux does. Routes that
 * are not implemented yet are simply not registered. Pure: no I/O.
 */
#ifndef CAIRN_HTTPD_ROUTER_H
#define CAIRN_HTTPD_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

struct httpd;
struct req;

/* Methods as bits, in the order Allow lists them. */
#define ROUTER_GET 0x01u
#define ROUTER_POST 0x02u
#define ROUTER_PUT 0x04u
#define ROUTER_DELETE 0x08u
#define ROUTER_HEAD 0x10u
#define ROUTER_OPTIONS 0x20u
#define ROUTER_OTHER 0x40u /* PATCH, TRACE, FOO... */

/* A handler answers r exactly once, now or later (see req.h). */
typedef void (*router_fn)(struct httpd *h, struct req *r);

struct route {
	const char *path; /* borrowed (a literal); ends in '/' for a prefix */
	bool prefix;
	unsigned methods;
	router_fn fn;
	size_t max_body; /* bytes accepted in a request body (0: none) */
	const char *limit_name; /* config key of that limit, for the 413 */
};

struct router {
	struct route *v;
	size_t n;
	size_t cap;
};

enum router_result {
	ROUTER_FOUND = 0,  /* call route->fn */
	ROUTER_OPTIONS_OK, /* 200, Allow header, no body */
	ROUTER_NOT_ALLOWED, /* 405, Allow header, "method X not allowed" */
	ROUTER_NOT_FOUND,  /* 404 "404 page not found" */
	ROUTER_REDIRECT,   /* 301 to path + "/" */
};

void router_init(struct router *rt);
void router_fini(struct router *rt);
/* path is borrowed and must outlive rt. Returns 0 or ERR_NOMEM/ERR_INVAL. */
int router_add(struct router *rt, const char *path, unsigned methods,
    router_fn fn, size_t max_body, const char *limit_name);

/* Maps a method name ("GET") to its bit (ROUTER_OTHER if unknown). */
unsigned router_method(const char *method);

/*
 * Finds the route for (method, path). *route is set for every result but
 * ROUTER_NOT_FOUND and ROUTER_REDIRECT; *param to the remainder of a
 * prefix route (borrowed from path; "" for an exact route).
 */
enum router_result router_find(const struct router *rt, const char *method,
    const char *path, const struct route **route, const char **param);

/* Writes the Allow header value ("OPTIONS,GET,PUT,DELETE") into buf. */
void router_allow(const struct route *r, char *buf, size_t size);

#endif
