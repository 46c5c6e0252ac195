/*
 * rpc.c — calls from httpd to raftd (see rpc.h).
 *
 * One ipc_client to raftd.rpc; many calls in flight. Each call is tied to
 * its HTTP request, which sits on h->waiting until the reply, so shutdown
 * can answer all of them and a torn-down connection can cancel its call.
 * A blocking read's reply is first looked up in h->share (share.h): the
 * watchers one change wakes mostly get byte-identical replies, rendered
 * once and sent to all of them.
 * Reference: DESIGN.md §3 (never hang; clear error while a role is down).
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "httpd.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "proto.h"
#include "req.h"
#include "rpc.h"

static void
rpc_unlink(struct httpd *h, struct req *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else if (h->waiting == r)
		h->waiting = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
}

void
rpc_reply_error(struct req *r, int code, const char *msg, size_t len)
{
	const char *text = msg;
	int n = (int)len;

	if (msg == NULL || len == 0) {
		text = err_str(code);
		n = (int)strlen(text);
	}
	switch (code) {
	case ERR_NOLEADER:
		/* raftd says which: "No cluster leader", "leadership lost
		 * while committing log" (Consul's texts) */
		if (msg != NULL && len > 0)
			req_reply_text(r, 500, "%.*s", n, text);
		else
			req_reply_text(r, 500, "No cluster leader");
		break;
	case ERR_INVAL:
		req_reply_text(r, 400, "%.*s", n, text);
		break;
	case ERR_UNAVAILABLE:
	case ERR_TIMEOUT:
		/* raftd's own texts may already say where the call failed */
		if (n >= 10 && strncmp(text, "rpc error:", 10) == 0)
			req_reply_text(r, 503, "%.*s", n, text);
		else
			req_reply_text(r, 503, "rpc error: %.*s", n, text);
		break;
	default:
		req_reply_text(r, 500, "%.*s", n, text);
	}
}

static void
rpc_transport_error(struct req *r, int err)
{
	switch (err) {
	case ERR_UNAVAILABLE:
		req_reply_text(r, 503, "rpc error: raftd unavailable");
		break;
	case ERR_TIMEOUT:
		req_reply_text(r, 503, "rpc error: raftd timed out");
		break;
	case ERR_CANCELED:
		req_reply_text(r, 503, "agent is shutting down");
		break;
	default:
		req_reply_text(r, 503, "rpc error: %s", err_str(err));
	}
}

static void
rpc_share_timer_cb(struct loop *l, void *arg)
{
	struct httpd *h = arg;

	h->share_timer = 0;
	log_debug("httpd: shared answers so far: %llu hits, %llu misses",
	    (unsigned long long)h->share.hits,
	    (unsigned long long)h->share.misses);
	share_expire(&h->share, loop_clock_ms());
	if (h->share.n > 0)
		h->share_timer = loop_timer_add(l, SHARE_TTL_MS,
		    rpc_share_timer_cb, h);
}

/* Whether r's answer may be shared: a blocking GET (share.h). */
static bool
rpc_shareable(const struct req *r)
{
	return r->opts.index > 0 && strcmp(r->method, "GET") == 0;
}

/* Keeps r's fresh answer for the other watchers (takes over key). */
static void
rpc_share_keep(struct httpd *h, struct req *r, char *key, size_t key_len,
    const uint8_t *data, size_t len)
{
	share_keep(&h->share, r, key, key_len, data, len, loop_clock_ms());
	if (h->share.n > 0 && h->share_timer == 0)
		h->share_timer = loop_timer_add(h->loop, SHARE_TTL_MS,
		    rpc_share_timer_cb, h);
}

static void
rpc_done(void *arg, int err, const uint8_t *data, size_t len)
{
	struct req *r = arg;
	struct httpd *h = r->h;
	struct proto_arena arena;
	struct proto_msg m;
	char *key = NULL;
	size_t key_len = 0;
	int rc;

	r->call_pending = false;
	rpc_unlink(h, r);
	if (r->call_forgotten)
		return;
	if (err != 0) {
		if (r->rpc_err != NULL && err != ERR_CANCELED)
			r->rpc_err(r, err, NULL, 0);
		else
			rpc_transport_error(r, err);
		return;
	}
	if (rpc_shareable(r) &&
	    share_key(r, r->rpc_cb, &key, &key_len) == 0 &&
	    share_answer(&h->share, r, key, key_len, data, len,
	    loop_clock_ms())) {
		free(key);
		return;
	}
	proto_arena_init(&arena);
	if ((rc = proto_decode(data, len, &arena, &m)) != 0) {
		log_warnx("httpd: malformed reply from raftd: %s", err_str(rc));
		req_reply_text(r, 500, "rpc error: malformed reply from raftd");
	} else if (m.type == MSG_ERROR) {
		const struct msg_error *e = m.body;
		if (r->rpc_err != NULL)
			r->rpc_err(r, e->code, e->message.ptr, e->message.len);
		else
			rpc_reply_error(r, e->code, e->message.ptr,
			    e->message.len);
	} else if (m.type != r->rpc_want) {
		log_warnx("httpd: raftd answered %s with %s",
		    proto_msg_name(r->rpc_want), proto_msg_name(m.type));
		req_reply_text(r, 500, "rpc error: unexpected reply from raftd");
	} else {
		r->rpc_cb(r, m.body);
		if (key != NULL && r->replied && !r->call_pending) {
			rpc_share_keep(h, r, key, key_len, data, len);
			key = NULL;
		}
	}
	proto_arena_free(&arena);
	free(key);
}

void
rpc_raftd(struct httpd *h, struct req *r, uint32_t type, const void *body,
    uint32_t timeout_ms, uint32_t want, rpc_cb cb)
{
	struct proto_buf buf;
	int rc;

	if (h->stopping) {
		rpc_transport_error(r, ERR_CANCELED);
		return;
	}
	if ((rc = proto_encode(type, 0, body, &buf)) != 0) {
		req_reply_text(r, 500, "rpc error: encoding %s: %s",
		    proto_msg_name(type), err_str(rc));
		return;
	}
	r->rpc_cb = cb;
	r->rpc_want = want;
	r->rpc_blocking = timeout_ms > rpc_write_timeout(h);
	r->call_pending = true;
	r->call_forgotten = false;
	r->next = h->waiting;
	r->prev = NULL;
	if (h->waiting != NULL)
		h->waiting->prev = r;
	h->waiting = r;
	rc = ipc_call(h->raftd, buf.data, buf.len, timeout_ms, rpc_done, r,
	    &r->call_id);
	proto_buf_free(&buf);
	if (rc != 0 && r->call_pending) {
		/* Not sent and the callback will not run. */
		r->call_pending = false;
		rpc_unlink(h, r);
		rpc_transport_error(r, rc == ERR_NOMEM ? ERR_UNAVAILABLE : rc);
	}
}

uint32_t
rpc_write_timeout(const struct httpd *h)
{
	return h->cfg->rpc_hold_timeout_ms + HTTPD_RPC_SLACK_MS;
}

uint32_t
rpc_read_timeout(const struct httpd *h, uint64_t index, uint32_t wait_ms)
{
	uint32_t t = rpc_write_timeout(h);

	if (index > 0)
		t += wait_ms + wait_ms / 16;
	return t;
}

void
rpc_forget(struct httpd *h, struct req *r)
{
	if (!r->call_pending)
		return;
	r->call_forgotten = true;
	ipc_cancel(h->raftd, r->call_id);
	if (r->call_pending) {
		/* The ipc layer did not complete it: drop our bookkeeping. */
		r->call_pending = false;
		rpc_unlink(h, r);
	}
}

bool
rpc_cancel_blocking(struct httpd *h)
{
	struct req *r, *next;

	for (r = h->waiting; r != NULL; r = next) {
		next = r->next;
		if (!r->rpc_blocking)
			continue;
		ipc_cancel(h->raftd, r->call_id);
		if (r->call_pending) {
			r->call_pending = false;
			rpc_unlink(h, r);
			rpc_transport_error(r, ERR_CANCELED);
		}
	}
	return h->waiting != NULL;
}

void
rpc_cancel_all(struct httpd *h)
{
	while (h->waiting != NULL) {
		struct req *r = h->waiting;
		ipc_cancel(h->raftd, r->call_id);
		if (h->waiting == r) {
			/* Not completed by the cancel: answer it ourselves. */
			r->call_pending = false;
			rpc_unlink(h, r);
			rpc_transport_error(r, ERR_CANCELED);
		}
	}
}
