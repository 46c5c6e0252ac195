/*
 * req.h — one HTTP request as httpd's handlers see it, and its reply.
 *
 * The server (server.c, the only file that knows libmicrohttpd) fills the
 * request side; a handler reads it and answers exactly once with one of
 * the req_reply*() calls, either before it returns or later from a loop
 * callback (an IPC reply): then the server has suspended the connection
 * and resumes it on the reply (MHD "Flow control"). Nothing blocks.
 *
 * Ownership: method, path, argument and header strings are borrowed from
 * the server and stay valid until the request is freed (after its reply
 * was sent or the connection died). Reply bodies passed to req_reply() are
 * taken over. Error bodies are plain text (spec/consul-api.md §1.9).
 */
#ifndef CAIRN_HTTPD_REQ_H
#define CAIRN_HTTPD_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query.h"

struct httpd;
struct route;
struct json;
struct share_body;

struct req_header {
	char *name;
	char *value;
};

struct req {
	struct httpd *h;
	/* request (borrowed from the server) */
	const char *method;
	const char *path;  /* URL-decoded path */
	const char *param; /* remainder of a prefix route, in path */
	const struct route *route;
	struct query_args args;
	struct query_arg *argv; /* owned array behind args */
	struct req_header *hdrs; /* owned array; strings borrowed */
	size_t n_hdrs;
	/* body (owned), accumulated by the server up to route->max_body */
	char *body;
	size_t body_len;
	size_t body_cap;
	uint64_t body_seen;   /* bytes received, including refused ones */
	bool wants_body;      /* PUT or POST: the body is read */
	bool body_too_big;
	bool pretty;          /* ?pretty or the agent's pretty/dev mode */
	struct query_opts opts; /* filled by handlers that parse options */
	unsigned hflags;        /* handler state kept across an IPC call */
	uint8_t hop;

	/* reply (owned) */
	bool replied;
	int status;
	struct req_header *rhdrs;
	size_t n_rhdrs;
	char *rbody;
	size_t rbody_len;
	struct share_body *shared; /* rbody borrowed from it (share.h) */

	/* server and IPC bookkeeping */
	void (*on_reply)(struct req *r); /* set by the server */
	void *conn;                     /* the server's connection */
	bool suspended;
	bool peer_watched;              /* peer_fd is in the loop */
	int peer_fd;                    /* socket watched while suspended */
	bool call_pending;
	bool call_forgotten;  /* torn down: the IPC callback must not reply */
	uint64_t call_id;
	void (*rpc_cb)(struct req *r, const void *body); /* see rpc.h */
	/* optional: called instead of the default error reply */
	void (*rpc_err)(struct req *r, int code, const char *msg, size_t len);
	uint32_t rpc_want;
	bool rpc_blocking;    /* a blocking read: not waited for on SIGTERM */
	struct req *next, *prev; /* httpd's list of requests waiting on IPC */
};

/* Returns an owned, zeroed request (free with req_free), or NULL. */
struct req *req_new(struct httpd *h);
/* Frees r and everything it owns. NULL is a no-op. */
void req_free(struct req *r);

/* Request header value (case-insensitive name), borrowed; or NULL. */
const char *req_header(const struct req *r, const char *name);
/* Number of request headers with that name. */
size_t req_header_count(const struct req *r, const char *name);

/* Adds a reply header (both strings copied). Returns 0 or ERR_NOMEM. */
int req_set_header(struct req *r, const char *name, const char *value);
/* Sets a reply header from a printf format. */
int req_set_headerf(struct req *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Value of a reply header already set, or NULL (borrowed). */
const char *req_reply_header(const struct req *r, const char *name);

/*
 * Answers r: status, Content-Type (NULL: none), body (taken over, may be
 * NULL when len is 0). Only the first reply counts; a second one is a
 * broken invariant and is ignored with a warning.
 */
void req_reply(struct req *r, int status, const char *ctype, char *body,
    size_t len);
/* Plain-text reply ("text/plain; charset=utf-8", as Go sniffs it). */
void req_reply_text(struct req *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Empty reply without Content-Type. */
void req_reply_empty(struct req *r, int status);
/*
 * Answers r with a shared body (share.h), whose reference it takes over;
 * the headers (Content-Type included) are already set.
 */
void req_reply_shared(struct req *r, int status, struct share_body *b);
/*
 * Finishes w and replies with it as application/json; a writer error is
 * answered 500. w is left empty either way.
 */
void req_reply_json(struct req *r, int status, struct json *w);

/* Starts a JSON writer in the request's mode (pretty or compact). */
void req_json_init(const struct req *r, struct json *w);

#endif
