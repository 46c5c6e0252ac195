/*
 * rpc_role.h — httpd's calls to a role other than raftd (checkd.rpc,
 * gossipd.rpc): one request message, one reply, answered on the loop.
 *
 * The transport's failures are answered here, the same for every role:
 * the role down or slow is 503 "rpc error: <role> unavailable|timed out"
 * (after HTTPD_ROLE_CONNECT_WAIT_MS without a connection: DESIGN.md §3,
 * never hang), a shutdown 503 "agent is shutting down", a malformed or
 * unexpected reply 500, a MSG_ERROR reply the error's HTTP form. Only a
 * reply of the expected type reaches the caller's callback.
 */
#ifndef CAIRN_HTTPD_RPC_ROLE_H
#define CAIRN_HTTPD_RPC_ROLE_H

#include <stdint.h>

struct httpd;
struct ipc_client;
struct req;

/* How long a call waits for a connection to the role (ipc.h). */
#define HTTPD_ROLE_CONNECT_WAIT_MS 1000

struct rpc_role_call;

/* The reply body (in an arena freed after the callback) for r, which the
 * callback must answer; call is the caller's description, copied. */
typedef void (*rpc_role_cb)(struct req *r, const void *body,
    const struct rpc_role_call *call);

struct rpc_role_call {
	const char *role;      /* "checkd": for error messages */
	uint32_t type;         /* request message type */
	const void *body;      /* borrowed; encoded before return */
	uint32_t result_type;  /* the reply type cb expects */
	uint32_t timeout_ms;
	rpc_role_cb cb;
	void (*fn)(void);      /* for cb: a callback of the caller's type */
};

/* Dials <runtime_dir>/<socket> into *out. Returns 0 or ERR_*. */
int rpc_role_open(struct httpd *h, const char *socket,
    struct ipc_client **out);
/* Closes *c (calls in flight are answered 503) and clears it. */
void rpc_role_close(struct ipc_client **c);
/* Sends the call on c for r; r is answered by cb or here. */
void rpc_role(struct httpd *h, struct ipc_client *c, struct req *r,
    const struct rpc_role_call *call);

#endif
