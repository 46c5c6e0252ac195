/*
 * rpc_checkd.c — calls from httpd to checkd (see rpc_checkd.h).
 *
 * Key decision: a call rides on the same request bookkeeping as rpc.c
 * (r->call_pending, h->waiting), so a torn-down connection and shutdown
 * are handled by rpc_forget()/rpc_cancel_all() unchanged. Those cancel on
 * the raftd client, so r->call_id holds checkd's call id with bit 63 set:
 * it never matches a raftd call, and the callback below only touches r
 * after finding it still waiting with that same id (a ticket), which is
 * false once rpc.c has let r go. Reference: DESIGN.md §3; httpd/rpc.c.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "httpd.h"
#include "ipc.h"
#include "log.h"
#include "msg_agent.h"
#include "proto.h"
#include "req.h"
#include "rpc.h"
#include "rpc_checkd.h"

#define CHECKD_ID_BIT (1ull << 63)
#define CHECKD_CALL_MS 15000 /* a write waits for its catalog sync */

struct checkd_ticket {
	struct httpd *h;
	struct req *r;
	uint64_t id; /* r->call_id while the call is ours */
};

static uint64_t checkd_next_ticket;

int
rpc_checkd_open(struct httpd *h)
{
	char url[4200];
	int rc;

	if ((rc = ipc_url(url, sizeof(url), h->cfg->runtime_dir,
	    "checkd.rpc")) != 0)
		return rc;
	if ((rc = ipc_client_open(h->loop, url, &h->checkd)) != 0)
		return rc;
	ipc_client_set_connect_wait(h->checkd, HTTPD_CHECKD_CONNECT_WAIT_MS);
	return 0;
}

void
rpc_checkd_close(struct httpd *h)
{
	if (h->checkd != NULL)
		ipc_client_close(h->checkd);
	h->checkd = NULL;
}

/* r if it is still waiting on this call, else NULL. */
static struct req *
checkd_claim(struct checkd_ticket *t)
{
	struct req *r;

	for (r = t->h->waiting; r != NULL; r = r->next)
		if (r == t->r && r->call_pending && r->call_id == t->id)
			break;
	if (r == NULL)
		return NULL;
	/* unlink exactly as rpc.c does */
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
checkd_done(void *arg, int err, const uint8_t *data, size_t len)
{
	struct checkd_ticket *t = arg;
	struct req *r = checkd_claim(t);
	struct proto_arena a;
	struct proto_msg m;
	char *body;

	free(t);
	if (r == NULL || r->call_forgotten)
		return;
	if (err != 0) {
		if (err == ERR_CANCELED)
			req_reply_text(r, 503, "agent is shutting down");
		else
			req_reply_text(r, 503, "rpc error: checkd %s",
			    err == ERR_TIMEOUT ? "timed out" : "unavailable");
		return;
	}
	proto_arena_init(&a);
	if (proto_decode(data, len, &a, &m) != 0) {
		req_reply_text(r, 500, "rpc error: malformed reply from checkd");
	} else if (m.type == MSG_ERROR) {
		const struct msg_error *e = m.body;
		rpc_reply_error(r, e->code, e->message.ptr, e->message.len);
	} else if (m.type != MSG_AGENT_RESULT) {
		req_reply_text(r, 500, "rpc error: unexpected reply from checkd");
	} else {
		const struct msg_agent_result *res = m.body;
		size_t blen = res->body.len, off;
		uint32_t i;

		for (i = 0; i < res->body_parts.n; i++)
			blen += res->body_parts.v[i].len;
		body = NULL;
		if (blen > 0 && (body = malloc(blen)) != NULL) {
			memcpy(body, res->body.ptr, res->body.len);
			off = res->body.len;
			for (i = 0; i < res->body_parts.n; i++) {
				memcpy(body + off, res->body_parts.v[i].ptr,
				    res->body_parts.v[i].len);
				off += res->body_parts.v[i].len;
			}
		}
		if (blen > 0 && body == NULL) {
			req_reply_text(r, 500, "out of memory");
		} else if (res->content_type.len == 0) {
			if (blen == 0)
				req_reply_empty(r, (int)res->status);
			else
				req_reply(r, (int)res->status, NULL, body,
				    blen);
		} else {
			char ct[128];
			size_t n = res->content_type.len < sizeof(ct) - 1 ?
			    res->content_type.len : sizeof(ct) - 1;
			memcpy(ct, res->content_type.ptr, n);
			ct[n] = '\0';
			req_reply(r, (int)res->status, ct, body, blen);
		}
	}
	proto_arena_free(&a);
}

void
rpc_checkd(struct httpd *h, struct req *r, const struct msg_agent_request *rq)
{
	struct checkd_ticket *t;
	struct proto_buf buf;
	uint64_t call_id = 0;
	int rc;

	if (h->stopping) {
		req_reply_text(r, 503, "agent is shutting down");
		return;
	}
	if (h->checkd == NULL) {
		req_reply_text(r, 503, "rpc error: checkd unavailable");
		return;
	}
	if ((rc = proto_encode(MSG_AGENT_REQUEST, 0, rq, &buf)) != 0) {
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
	t->id = CHECKD_ID_BIT | ++checkd_next_ticket;
	r->call_pending = true;
	r->call_forgotten = false;
	r->call_id = t->id;
	r->next = h->waiting;
	r->prev = NULL;
	if (h->waiting != NULL)
		h->waiting->prev = r;
	h->waiting = r;
	rc = ipc_call(h->checkd, buf.data, buf.len, CHECKD_CALL_MS,
	    checkd_done, t, &call_id);
	proto_buf_free(&buf);
	(void)call_id;
	if (rc != 0) {
		/* the callback will not run */
		if (checkd_claim(t) != NULL)
			req_reply_text(r, 503, "rpc error: checkd unavailable");
		free(t);
	}
}
