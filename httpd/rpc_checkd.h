/*
 * rpc_checkd.h — httpd's calls to checkd (checkd.rpc): one
 * MSG_AGENT_REQUEST per agent service/check request, whose
 * MSG_AGENT_RESULT (status, content type, body) is relayed as it is.
 *
 * While checkd is down a call fails after HTTPD_ROLE_CONNECT_WAIT_MS
 * with 503 "rpc error: checkd unavailable" (rpc_role.h; DESIGN.md §3:
 * never hang).
 */
#ifndef CAIRN_HTTPD_RPC_CHECKD_H
#define CAIRN_HTTPD_RPC_CHECKD_H

struct httpd;
struct req;
struct msg_agent_request;

/* Opens h->checkd on <runtime_dir>/checkd.rpc. Returns 0 or ERR_*. */
int rpc_checkd_open(struct httpd *h);
/* Closes h->checkd; calls in flight are answered 503. NULL-safe. */
void rpc_checkd_close(struct httpd *h);
/*
 * Sends rq (borrowed; encoded before return) for r and answers r with
 * checkd's reply, or with a 503/500 on failure. r must not be answered by
 * the caller.
 */
void rpc_checkd(struct httpd *h, struct req *r,
    const struct msg_agent_request *rq);

#endif
