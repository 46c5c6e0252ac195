/*
 * rpc_gossipd.c — calls from httpd to gossipd (see rpc_gossipd.h): a
 * member request whose MSG_MEMBER_RESULT goes to the handler's callback
 * unless it carries an error; the transport's failures are rpc_role.c's.
 * Reference: DESIGN.md §3.
 */
#include <string.h>

#include "err.h"
#include "httpd.h"
#include "msg_member.h"
#include "proto.h"
#include "req.h"
#include "rpc_gossipd.h"
#include "rpc_role.h"

int
rpc_gossipd_open(struct httpd *h)
{
	return rpc_role_open(h, "gossipd.rpc", &h->gossipd);
}

void
rpc_gossipd_close(struct httpd *h)
{
	rpc_role_close(&h->gossipd);
}

/* An error result is answered as Consul answers a failed join (500 with
 * gossipd's text; 400 for bad input), else the handler's callback. */
static void
gossipd_result(struct req *r, const void *body,
    const struct rpc_role_call *call)
{
	const struct msg_member_result *res = body;

	if (res->code != 0)
		req_reply(r, res->code == ERR_INVAL ? 400 : 500,
		    "text/plain; charset=utf-8",
		    strndup(res->error.ptr ? res->error.ptr : "",
		    res->error.len), res->error.len);
	else
		((rpc_gossipd_cb)call->fn)(r, res);
}

void
rpc_gossipd(struct httpd *h, struct req *r,
    const struct msg_member_request *rq, uint32_t timeout_ms,
    rpc_gossipd_cb cb)
{
	struct rpc_role_call call = {
		.role = "gossipd",
		.type = MSG_MEMBER_REQUEST,
		.body = rq,
		.result_type = MSG_MEMBER_RESULT,
		.timeout_ms = timeout_ms,
		.cb = gossipd_result,
		.fn = (void (*)(void))cb,
	};

	rpc_role(h, h->gossipd, r, &call);
}
