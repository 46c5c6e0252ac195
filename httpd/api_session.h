/*
 * api_session.h — the /v1/session and /v1/txn handlers (api_session.c,
 * api_txn.c), registered in routes.c.
 */
#ifndef CAIRN_HTTPD_API_SESSION_H
#define CAIRN_HTTPD_API_SESSION_H

#include <stdint.h>

struct httpd;
struct msg_session_apply;
struct proto_str;
struct req;

/* Node and service checks a create body may name (each list). */
#define API_SESSION_MAX_CHECKS 64

/*
 * Decodes r's create body into m (api_session_body.c): nchecks/schecks
 * are arrays of API_SESSION_MAX_CHECKS for the check lists. Strings
 * borrow from *root (owned: api_session_body_free after sending).
 * Returns 0, or ERR_INVAL after answering r (400 or Consul's 500).
 */
int api_session_body(const struct httpd *h, struct req *r,
    struct msg_session_apply *m, struct proto_str *nchecks,
    struct proto_str *schecks, void **root);
void api_session_body_free(void *root);

void api_session_create(struct httpd *h, struct req *r);
void api_session_destroy(struct httpd *h, struct req *r);
void api_session_renew(struct httpd *h, struct req *r);
void api_session_info(struct httpd *h, struct req *r);
void api_session_node(struct httpd *h, struct req *r);
void api_session_list(struct httpd *h, struct req *r);
void api_txn(struct httpd *h, struct req *r);

struct msg_txn;
struct proto_arena;
/*
 * Decodes r's /v1/txn body into m (api_txn_body.c): arrays and decoded
 * values in a, other strings borrow from *root (owned:
 * api_txn_body_free after sending). An operation that cannot run (an
 * unknown verb) sets *bad_op and *bad_what (Consul's text, in a) for a
 * 409. Returns 0, or ERR_* after answering
 * r (400, 413).
 */
int api_txn_body(const struct httpd *h, struct req *r, struct msg_txn *m,
    struct proto_arena *a, uint32_t *bad_op, const char **bad_what,
    void **root);
void api_txn_body_free(void *root);

#endif
