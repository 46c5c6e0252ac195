/*
 * rpc_role.c — calls from httpd to checkd and gossipd (see rpc_role.h).
 *
 * Key decision: a call rides on the same request bookkeeping as rpc.c
 * (r->call_pending, h->waiting), so a torn-down connection and shutdown
 * are handled by rpc_forget()/rpc_cancel_all() unchanged. Those cancel on
 * the raftd client, so r->call_id holds a ticket with bit 63 set: it never
 * matches a raftd call id, and the reply callback only touches r after
 * finding it still waiting with that same ticket, which is false once
 * rpc.c has let r go. Reference: DESIGN.md §3; httpd/rpc.c.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "httpd.h"
#include "ipc.h"
#include "proto.h"
#include "req.h"
#include "rpc.h"
#include "rpc_role.h"

#define ROLE_TICKET_BIT (1ull << 63)

struct role_ticket {
	struct httpd *h;
	struct req *r;
	uint64_t id; /* r->call_id while the call is ours */
	struct rpc_role_call call;
};

static uint64_t role_next_ticket;

int
rpc_role_open(struct httpd *h, const char *socket, struct ipc_client **out)
{
	char url[4200];
	int rc;

	if ((rc = ipc_url(url, sizeof(url), h->cfg->runtime_dir, socket)) !=
	    0)
		return rc;
	if ((rc = ipc_client_open(h->loop, url, out)) != 0)
		return rc;
	ipc_client_set_connect_wait(*out, HTTPD_ROLE_CONNECT_WAIT_MS);
	return 0;
}

void
rpc_role_close(struct ipc_client **c)
{
	if (*c != NULL)
		ipc_client_close(*c);
	*c = NULL;
}

/* r if it is still waiting on this ticket (then unlinked), else NULL. */
static struct req *
role_claim(struct role_ticket *t)
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
role_done(void *arg, int err, const uint8_t *data, size_t len)
{
	struct role_ticket *t = arg;
	struct req *r = role_claim(t);
	struct rpc_role_call call = t->call;
	struct proto_arena a;
	struct proto_msg m;

	free(t);
	if (r == NULL || r->call_forgotten)
		return;
	if (err != 0) {
		if (err == ERR_CANCELED)
			req_reply_text(r, 503, "agent is shutting down");
		else
			req_reply_text(r, 503, "rpc error: %s %s", call.role,
			    err == ERR_TIMEOUT ? "timed out" : "unavailable");
		return;
	}
	proto_arena_init(&a);
	if (proto_decode(data, len, &a, &m) != 0) {
		req_reply_text(r, 500, "rpc error: malformed reply from %s",
		    call.role);
	} else if (m.type == MSG_ERROR) {
		const struct msg_error *e = m.body;

		rpc_reply_error(r, e->code, e->message.ptr, e->message.len);
	} else if (m.type != call.result_type) {
		req_reply_text(r, 500, "rpc error: unexpected reply from %s",
		    call.role);
	} else {
		call.cb(r, m.body, &call);
	}
	proto_arena_free(&a);
}

void
rpc_role(struct httpd *h, struct ipc_client *c, struct req *r,
    const struct rpc_role_call *call)
{
	struct role_ticket *t;
	struct proto_buf buf;
	int rc;

	if (h->stopping) {
		req_reply_text(r, 503, "agent is shutting down");
		return;
	}
	if (c == NULL) {
		req_reply_text(r, 503, "rpc error: %s unavailable", call->role);
		return;
	}
	if ((rc = proto_encode(call->type, 0, call->body, &buf)) != 0) {
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
	t->call = *call;
	t->call.body = NULL; /* borrowed only until here */
	t->id = ROLE_TICKET_BIT | ++role_next_ticket;
	r->call_pending = true;
	r->call_forgotten = false;
	r->call_id = t->id;
	r->next = h->waiting;
	r->prev = NULL;
	if (h->waiting != NULL)
		h->waiting->prev = r;
	h->waiting = r;
	rc = ipc_call(c, buf.data, buf.len, call->timeout_ms, role_done, t,
	    NULL);
	proto_buf_free(&buf);
	if (rc != 0) {
		/* the callback will not run */
		if (role_claim(t) != NULL)
			req_reply_text(r, 503, "rpc error: %s unavailable",
			    call->role);
		free(t);
	}
}
