/*
 * rpc_gossipd.c — calls from httpd to gossipd (see rpc_gossipd.h).
 *
 * Key decision: the same request bookkeeping as rpc_checkd.c (r on
 * h->waiting with call_pending, a ticket id with its own high bit, here
 * bit 62, so rpc_forget()/rpc_cancel_all() and teardown stay correct).
 * Reference: httpd/rpc_checkd.c, DESIGN.md §3.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "httpd.h"
#include "ipc.h"
#include "log.h"
#include "msg_member.h"
#include "proto.h"
#include "req.h"
#include "rpc.h"
#include "rpc_gossipd.h"

#define GOSSIPD_ID_BIT (1ull << 62)

struct gossipd_ticket {
	struct httpd *h;
	struct req *r;
	uint64_t id;
	rpc_gossipd_cb cb;
};

static uint64_t gossipd_next_ticket;

int
rpc_gossipd_open(struct httpd *h)
{
	char url[4200];
	int rc;

	if ((rc = ipc_url(url, sizeof(url), h->cfg->runtime_dir,
	    "gossipd.rpc")) != 0)
		return rc;
	if ((rc = ipc_client_open(h->loop, url, &h->gossipd)) != 0)
		return rc;
	ipc_client_set_connect_wait(h->gossipd, HTTPD_GOSSIPD_CONNECT_WAIT_MS);
	return 0;
}

void
rpc_gossipd_close(struct httpd *h)
{
	if (h->gossipd != NULL)
		ipc_client_close(h->gossipd);
	h->gossipd = NULL;
}

static struct req *
gossipd_claim(struct gossipd_ticket *t)
{
	struct req *r;

	for (r = t->h->waiting; r != NULL; r = r->next)
		if (r == t->r && r->call_pending && r->call_id == t->id)
			break;
	if (r == NULL)
		return NULL;
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		t->h->waiting = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
	r->call_pending = false;
	return r;
}

static void
gossipd_done(void *arg, int err, const uint8_t *data, size_t len)
{
	struct gossipd_ticket *t = arg;
	struct req *r = gossipd_claim(t);
	rpc_gossipd_cb cb = t->cb;
	struct proto_arena a;
	struct proto_msg m;

	free(t);
	if (r == NULL || r->call_forgotten)
		return;
	if (err != 0) {
		if (err == ERR_CANCELED)
			req_reply_text(r, 503, "agent is shutting down");
		else
			req_reply_text(r, 503, "rpc error: gossipd %s",
			    err == ERR_TIMEOUT ? "timed out" : "unavailable");
		return;
	}
	proto_arena_init(&a);
	if (proto_decode(data, len, &a, &m) != 0) {
		req_reply_text(r, 500, "rpc error: malformed reply from "
		    "gossipd");
	} else if (m.type == MSG_ERROR) {
		const struct msg_error *e = m.body;

		rpc_reply_error(r, e->code, e->message.ptr, e->message.len);
	} else if (m.type != MSG_MEMBER_RESULT) {
		req_reply_text(r, 500, "rpc error: unexpected reply from "
		    "gossipd");
	} else {
		const struct msg_member_result *res = m.body;

		if (res->code != 0)
			req_reply(r, res->code == ERR_INVAL ? 400 : 500,
			    "text/plain; charset=utf-8",
			    strndup(res->error.ptr ? res->error.ptr : "",
			    res->error.len), res->error.len);
		else
			cb(r, res);
	}
	proto_arena_free(&a);
}

void
rpc_gossipd(struct httpd *h, struct req *r,
    const struct msg_member_request *rq, uint32_t timeout_ms,
    rpc_gossipd_cb cb)
{
	struct gossipd_ticket *t;
	struct proto_buf buf;
	uint64_t call_id = 0;
	int rc;

	if (h->stopping) {
		req_reply_text(r, 503, "agent is shutting down");
		return;
	}
	if (h->gossipd == NULL) {
		req_reply_text(r, 503, "rpc error: gossipd unavailable");
		return;
	}
	if ((rc = proto_encode(MSG_MEMBER_REQUEST, 0, rq, &buf)) != 0) {
		req_reply_text(r, rc == ERR_TOOBIG ? 413 : 500,
		    "rpc error: encoding the request: %s", err_str(rc));
		return;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		proto_buf_free(&buf);
		req_reply_text(r, 500, "out of memory");
		return;
	}
	t->h = h;
	t->r = r;
	t->cb = cb;
	t->id = GOSSIPD_ID_BIT | ++gossipd_next_ticket;
	r->call_pending = true;
	r->call_forgotten = false;
	r->call_id = t->id;
	r->next = h->waiting;
	r->prev = NULL;
	if (h->waiting != NULL)
		h->waiting->prev = r;
	h->waiting = r;
	rc = ipc_call(h->gossipd, buf.data, buf.len, timeout_ms, gossipd_done,
	    t, &call_id);
	proto_buf_free(&buf);
	if (rc != 0) {
		if (gossipd_claim(t) != NULL)
			req_reply_text(r, 503, "rpc error: gossipd unavailable");
		free(t);
	}
}
