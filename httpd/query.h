/*
 * query.h — decoding the query string and path parameters of a request the
 * way Consul's agent/http.go does (spec/consul-api.md §1.2, §1.5, §1.6).
 *
 * Flags are presence-based (`?recurse=false` still recurses); a repeated
 * parameter's first value wins (Go url.Values.Get). Numbers follow
 * strconv.ParseUint(s, 10, 64) and durations time.ParseDuration, so
 * `wait=9.98s` and `1h2m` work and `-1`, `2^64`, `x` are refused.
 * Everything here is pure: no MHD, no IPC; strings are borrowed.
 */
#ifndef CAIRN_HTTPD_QUERY_H
#define CAIRN_HTTPD_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One query parameter; val is NULL for "?key" without '=' (Go: ""). */
struct query_arg {
	const char *key;
	const char *val;
};

struct query_args {
	const struct query_arg *v; /* borrowed */
	size_t n;
};

/* Consistency modes (values equal enum proto_consistency). */
enum query_consistency {
	QUERY_DEFAULT = 0,
	QUERY_STALE = 1,
	QUERY_CONSISTENT = 2,
};

/* Limits from the configuration that parsing depends on. */
struct query_limits {
	uint32_t default_query_ms; /* 300000 */
	uint32_t max_query_ms;     /* 600000 */
	const char *datacenter;    /* the local datacenter, borrowed */
};

/* The options every read (and write) takes; strings borrow from args. */
struct query_opts {
	const char *dc;        /* the local datacenter when absent */
	uint8_t consistency;   /* enum query_consistency */
	uint64_t index;        /* 0: not blocking */
	uint32_t wait_ms;      /* capped; meaningful when index > 0 */
	const char *token;     /* ?token, or NULL */
	const char *filter;    /* ?filter, or NULL */
	bool pretty;
};

bool query_has(const struct query_args *a, const char *key);
/* First value of key: "" when present without a value, NULL when absent. */
const char *query_get(const struct query_args *a, const char *key);

/* strconv.ParseUint(s, 10, 64). Returns 0, ERR_INVAL (syntax) or
 * ERR_TOOBIG (out of range). */
int query_parse_u64(const char *s, uint64_t *out);
/* time.ParseDuration. Returns 0, or ERR_INVAL (syntax or overflow). */
int query_parse_duration(const char *s, int64_t *ns);
/* time.Duration.String() into buf (32 bytes are always enough). */
void query_format_duration(int64_t ns, char *buf, size_t size);

/*
 * Parses dc, token, filter, consistency (stale, consistent, leader,
 * max_stale), wait and index, and the Enterprise ns/partition parameters,
 * in Consul's order. Returns 0, or ERR_INVAL with *status (400 or 500) and
 * *why set to a static message for the plain-text error body.
 */
int query_parse_opts(const struct query_args *a, const struct query_limits *lim,
    struct query_opts *o, int *status, const char **why);

/*
 * Writes Go's url.Values.Encode() of a (keys sorted, values in order,
 * QueryEscape'd) into an owned string (free()). Returns 0 or ERR_NOMEM.
 * Used for Consul's "Conflicting flags: <encoded query>" message.
 */
int query_encode(const struct query_args *a, char **out);

/*
 * Checks a decoded KV key (without the /v1/kv/ prefix): refuses a leading
 * '/', "//", invalid UTF-8, control and unprintable characters. The empty
 * key is accepted here (its meaning depends on the call). Returns 0, or
 * ERR_INVAL with *why a static message.
 */
int query_check_key(const char *key, size_t len, const char **why);

#endif
