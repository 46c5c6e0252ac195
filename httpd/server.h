/*
 * server.h — the HTTP listener: libmicrohttpd run from httpd's loop.
 *
 * The only part of httpd that knows libmicrohttpd. It accepts
 * connections, decodes requests into struct req (req.h), refuses bad
 * input (bad escapes, %00, duplicate Content-Length, Content-Length with
 * Transfer-Encoding, bodies over the route's limit), routes them
 * (router.h) and sends the handlers' replies. A handler that waits on IPC
 * leaves its connection suspended until it replies.
 */
#ifndef CAIRN_HTTPD_SERVER_H
#define CAIRN_HTTPD_SERVER_H

#include <stdint.h>

struct httpd;
struct server;

/*
 * Listens on addr:port (a numeric IPv4 or IPv6 address) and serves from
 * h's loop. Returns 0 and an owned server in *out (free with
 * server_close), or ERR_IO / ERR_INVAL / ERR_NOMEM (logged).
 */
int server_open(struct httpd *h, const char *addr, int port,
    struct server **out);

/*
 * Stops accepting connections (SIGTERM's drain); the open ones are still
 * served. Idempotent; NULL is a no-op.
 */
void server_quiesce(struct server *s);

/*
 * Stops serving: requests waiting on IPC are answered 503, replies in
 * flight get up to grace_ms to leave, then every connection is closed
 * and s freed. NULL is a no-op.
 */
void server_close(struct server *s, uint32_t grace_ms);

#endif
