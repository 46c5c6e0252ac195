/*
 * rpc.h — httpd's calls to raftd over IPC (proto/ messages), with the
 * error mapping every endpoint shares.
 *
 * rpc_raftd() sends one request on behalf of an HTTP request and calls cb
 * with the decoded reply body when it is of the expected type. Every
 * failure is answered here, so cb only sees success:
 *   transport ERR_UNAVAILABLE / ERR_TIMEOUT  -> 503 "rpc error: raftd ..."
 *   ERR_CANCELED (shutdown)                  -> 503
 *   MSG_ERROR ERR_NOLEADER                   -> 500 "No cluster leader"
 *   MSG_ERROR ERR_INVAL                      -> 400 <message>
 *   MSG_ERROR other (ERR_SESSION, ...)       -> 500 <message>
 *   malformed or unexpected reply            -> 500
 * While raftd is down a call fails after the client's connect wait
 * (HTTPD_RAFTD_CONNECT_WAIT_MS), so no request hangs (DESIGN.md §3).
 */
#ifndef CAIRN_HTTPD_RPC_H
#define CAIRN_HTTPD_RPC_H

#include <stdbool.h>
#include <stdint.h>

struct httpd;
struct req;

/* body points to the decoded reply struct; borrowed for the call only. */
typedef void (*rpc_cb)(struct req *r, const void *body);

/*
 * Encodes (type, body) and sends it to raftd with timeout_ms; want is the
 * expected reply type. r must not be answered by the caller afterwards
 * unless cb runs. Returns nothing: a failure to send is answered (503).
 */
void rpc_raftd(struct httpd *h, struct req *r, uint32_t type,
    const void *body, uint32_t timeout_ms, uint32_t want, rpc_cb cb);

/* The timeout for a read with these options (blocking: wait + jitter). */
uint32_t rpc_read_timeout(const struct httpd *h, uint64_t index,
    uint32_t wait_ms);
/* The timeout for a write (rpc_hold_timeout plus slack). */
uint32_t rpc_write_timeout(const struct httpd *h);

/*
 * Cancels r's call in flight, if any (r is going away); its callback
 * does not run. Used when a connection is torn down.
 */
void rpc_forget(struct httpd *h, struct req *r);

/* Answers every request waiting on IPC with 503 (shutdown). */
void rpc_cancel_all(struct httpd *h);

/*
 * Answers the blocking reads waiting on IPC with 503 (shutdown); the
 * others stay in flight. Returns whether any call is still in flight.
 */
bool rpc_cancel_blocking(struct httpd *h);

/* Maps an MSG_ERROR (code, message) to an HTTP reply on r. */
void rpc_reply_error(struct req *r, int code, const char *msg, size_t len);

#endif
