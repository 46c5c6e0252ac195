/*
 * http.h — the cairn command's HTTP client: one request to the agent's
 * /v1 API (method, path, query, body → status, X-Consul-Index, body).
 *
 * A tiny wrapper over libcurl (cli/http.c is its only includer). The
 * agent address follows Consul's CLI (spec §9): -http-addr, else
 * CONSUL_HTTP_ADDR (or CAIRN_HTTP_ADDR), else http://127.0.0.1:8500;
 * "host:port", "http://", "https://" and "unix:///path" are accepted.
 */
#ifndef CAIRN_CLI_HTTP_H
#define CAIRN_CLI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_client {
	char *base;      /* "http://127.0.0.1:8500", no trailing slash */
	char *unix_path; /* socket path for unix://, else NULL */
	char *token;     /* X-Consul-Token, NULL when none */
	char *datacenter; /* ?dc=, NULL when none */
	bool stale;      /* ?stale on reads that pass HTTP_STALE */
	long timeout_ms; /* whole-request timeout, 0 = none */
};

struct http_response {
	long status;
	char *body;     /* NUL-terminated; owned */
	size_t len;
	uint64_t index; /* X-Consul-Index, 0 when absent */
};

#define HTTP_STALE 0x1 /* a read that honours -stale */
/* How an error quotes the body (see http_status_err()): */
#define HTTP_TRIM_END 0x2 /* without trailing white space */
#define HTTP_TRIM 0x4     /* without white space at either end */
#define HTTP_TRIM_EOL 0x8 /* without trailing CR and LF (kv) */

/*
 * Sets c up. addr and token are borrowed (may be NULL: then the
 * environment, then the defaults). Returns 0 or ERR_INVAL with err
 * naming the bad address.
 */
int http_client_init(struct http_client *c, const char *addr,
    const char *token, char *err, size_t errlen);
void http_client_fini(struct http_client *c);

/*
 * One request. path starts with "/" and is already escaped; query is
 * NULL or "a=b&c" without "?" (dc and stale are added here); body may be
 * NULL. On 0, *resp is owned (free with http_response_free()) whatever
 * the status. On a transport failure returns ERR_UNAVAILABLE and writes
 * Go's form of the error ("Get \"<url>\": <reason>") into err.
 */
int http_request(struct http_client *c, const char *method,
    const char *path, const char *query, unsigned flags, const void *body,
    size_t blen, struct http_response *resp, char *err, size_t errlen);
void http_response_free(struct http_response *r);

/*
 * Writes Consul's api error for an unexpected status into err:
 * "Unexpected response code: <status> (<body>)", the body trimmed as
 * flags say (HTTP_TRIM_END, HTTP_TRIM; else verbatim).
 */
void http_status_err(const struct http_response *r, unsigned flags,
    char *err, size_t errlen);

/*
 * http_request() for a call that must answer 200 (flags: HTTP_STALE and
 * the HTTP_TRIM ones). Returns 0 with *resp owned. Otherwise nothing is
 * owned, err holds what Consul's CLI prints after "<what>: " (Go's
 * transport error, or http_status_err()'s text) and the return is
 * ERR_UNAVAILABLE (no answer) or the HTTP status.
 */
int http_call(struct http_client *c, const char *method, const char *path,
    const char *query, unsigned flags, const void *body, size_t blen,
    struct http_response *resp, char *err, size_t errlen);

/*
 * http_call() that prints "<what>: <error>" to stderr itself, as every
 * command's "Error ...: Unexpected response code: 500 (...)" reads.
 * Returns 0 with *resp owned, or 1 (the exit status) with nothing owned.
 */
int http_expect(struct http_client *c, const char *what,
    const char *method, const char *path, const char *query,
    unsigned flags, const void *body, size_t blen,
    struct http_response *resp);

/*
 * Percent-encodes s for a URL path (keeping "/" when keep_slash) or a
 * query value. Returns owned; free().
 */
char *http_escape(const char *s, bool keep_slash);

/* prefix ("/v1/agent/join/") then s escaped as one segment; owned. */
char *http_path(const char *prefix, const char *s);

/* Appends "k=<v escaped>" to the query *q (NULL when empty), "&"-joined. */
void http_query_add(char **q, const char *k, const char *v);

#endif
