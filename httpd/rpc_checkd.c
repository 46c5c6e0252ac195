/*
 * rpc_checkd.c — calls from httpd to checkd (see rpc_checkd.h): an agent
 * request whose MSG_AGENT_RESULT is relayed as the HTTP answer; the
 * transport's failures are rpc_role.c's. Reference: DESIGN.md §3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_filter.h"
#include "httpd.h"
#include "msg_agent.h"
#include "proto.h"
#include "req.h"
#include "rpc_checkd.h"
#include "rpc_role.h"

#define CHECKD_CALL_MS 15000 /* a write waits for its catalog sync */

int
rpc_checkd_open(struct httpd *h)
{
	return rpc_role_open(h, "checkd.rpc", &h->checkd);
}

void
rpc_checkd_close(struct httpd *h)
{
	rpc_role_close(&h->checkd);
}

/* checkd's answer: status, content type and a body (maybe in parts). */
static void
checkd_result(struct req *r, const void *body,
    const struct rpc_role_call *call)
{
	const struct msg_agent_result *res = body;
	size_t blen = res->body.len, off;
	char *buf = NULL, ct[128];
	uint32_t i;

	(void)call;
	for (i = 0; i < res->body_parts.n; i++)
		blen += res->body_parts.v[i].len;
	if (blen > 0 && (buf = malloc(blen)) == NULL) {
		req_reply_text(r, 500, "out of memory");
		return;
	}
	if (blen > 0) {
		memcpy(buf, res->body.ptr, res->body.len);
		off = res->body.len;
		for (i = 0; i < res->body_parts.n; i++) {
			memcpy(buf + off, res->body_parts.v[i].ptr,
			    res->body_parts.v[i].len);
			off += res->body_parts.v[i].len;
		}
	}
	if (!api_filter_agent_body(r, (int)res->status, buf, &blen)) {
		free(buf);
		return;
	}
	if (res->content_type.len == 0) {
		if (blen == 0)
			req_reply_empty(r, (int)res->status);
		else
			req_reply(r, (int)res->status, NULL, buf, blen);
		return;
	}
	snprintf(ct, sizeof(ct), "%.*s", (int)res->content_type.len,
	    res->content_type.ptr);
	req_reply(r, (int)res->status, ct, buf, blen);
}

void
rpc_checkd(struct httpd *h, struct req *r, const struct msg_agent_request *rq)
{
	struct rpc_role_call call = {
		.role = "checkd",
		.type = MSG_AGENT_REQUEST,
		.body = rq,
		.result_type = MSG_AGENT_RESULT,
		.timeout_ms = CHECKD_CALL_MS,
		.cb = checkd_result,
		.fn = NULL,
	};

	rpc_role(h, h->checkd, r, &call);
}
