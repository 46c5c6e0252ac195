/*
 * api_session.c — /v1/session/{create,destroy,renew,info,node,list}
 * (spec/consul-api.md §2.5): the create body decoded with Consul's
 * defaults and validations into MSG_SESSION_APPLY, the reads and renew
 * through MSG_SESSION_GET, and the SessionEntry JSON.
 *
 * Key decisions: httpd picks the session's UUID (getrandom), so the log
 * entry raftd applies is deterministic; it is kept as the prepared reply
 * body while the write is in flight. The body is decoded by
 * api_session_body.c (stateless validation, Consul's 500 texts); the
 * node and checks are checked by raftd when applying. An empty body is
 * allowed (python-consul sends none). Reference: Consul
 * agent/session_endpoint.go, agent/consul/session_endpoint.go.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api_session.h"
#include "config.h"
#include "err.h"
#include "httpd.h"
#include "json.h"
#include "msg_session.h"
#include "proto.h"
#include "query.h"
#include "req.h"
#include "rpc.h"


static void
api_session_uuid(char out[37])
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		memset(b, 0x5a, sizeof(b)); /* cannot happen: logged below */
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* The prepared {"ID": ...} reply: freed if the write fails. */
static void
api_session_create_err(struct req *r, int code, const char *msg, size_t len)
{
	free(r->rbody);
	r->rbody = NULL;
	r->rbody_len = 0;
	rpc_reply_error(r, code, msg, len);
}

static void
api_session_created(struct req *r, const void *body)
{
	char *b = r->rbody;
	size_t n = r->rbody_len;

	(void)body;
	r->rbody = NULL;
	r->rbody_len = 0;
	req_reply(r, 200, "application/json", b, n);
}

void
api_session_create(struct httpd *h, struct req *r)
{
	struct proto_str nchecks[API_SESSION_MAX_CHECKS];
	struct proto_str schecks[API_SESSION_MAX_CHECKS];
	struct msg_session_apply m;
	void *root;
	char id[37];
	struct json w;
	char *out;
	size_t outlen;

	memset(&m, 0, sizeof(m));
	if (!api_parse_opts(h, r))
		return;
	if (api_session_body(h, r, &m, nchecks, schecks, &root) != 0)
		return;
	api_session_uuid(id);
	m.session.id = proto_str_c(id);
	req_json_init(r, &w);
	json_obj_begin(&w);
	json_kv_str(&w, "ID", id);
	json_obj_end(&w);
	if (json_finish(&w, &out, &outlen) != 0) {
		req_reply_text(r, 500, "out of memory");
		api_session_body_free(root);
		return;
	}
	r->rpc_err = api_session_create_err;
	m.client_id = h->client_id;
	m.seq = ++h->seq;
	rpc_raftd(h, r, MSG_SESSION_APPLY, &m, rpc_write_timeout(h),
	    MSG_KV_APPLY_RESULT, api_session_created);
	/* the reply waits in rbody unless rpc_raftd answered at once (the
	 * IPC reply always comes later, from the loop) */
	if (r->replied) {
		free(out);
	} else {
		r->rbody = out;
		r->rbody_len = outlen;
	}
	api_session_body_free(root);
}

static void
api_session_destroyed(struct req *r, const void *body)
{
	(void)body;
	api_reply_bool(r, true);
}

void
api_session_destroy(struct httpd *h, struct req *r)
{
	struct msg_session_apply m;

	if (!api_parse_opts(h, r))
		return;
	if (r->param[0] == '\0') {
		req_reply_text(r, 400, "Missing session");
		return;
	}
	memset(&m, 0, sizeof(m));
	m.op = SESSION_OP_DESTROY;
	m.session.id = proto_str_c(r->param);
	m.client_id = h->client_id;
	m.seq = ++h->seq;
	rpc_raftd(h, r, MSG_SESSION_APPLY, &m, rpc_write_timeout(h),
	    MSG_KV_APPLY_RESULT, api_session_destroyed);
}

static void
api_session_json(struct json *w, const struct proto_session *s)
{
	uint32_t i;
	bool only_serf;

	json_obj_begin(w);
	json_key(w, "ID");
	json_strn(w, s->id.ptr, s->id.len);
	json_key(w, "Name");
	json_strn(w, s->name.ptr, s->name.len);
	json_key(w, "Node");
	json_strn(w, s->node.ptr, s->node.len);
	json_kv_u64(w, "LockDelay", s->lock_delay_ns);
	json_kv_str(w, "Behavior", s->behavior == SESSION_DELETE ? "delete" :
	    "release");
	json_key(w, "TTL");
	json_strn(w, s->ttl.ptr, s->ttl.len);
	json_key(w, "NodeChecks");
	if (s->node_checks.n == 0) {
		json_null(w);
	} else {
		json_arr_begin(w);
		for (i = 0; i < s->node_checks.n; i++)
			json_strn(w, s->node_checks.v[i].ptr,
			    s->node_checks.v[i].len);
		json_arr_end(w);
	}
	json_key(w, "ServiceChecks");
	if (s->service_checks.n == 0) {
		json_null(w);
	} else {
		json_arr_begin(w);
		for (i = 0; i < s->service_checks.n; i++) {
			json_obj_begin(w);
			json_key(w, "ID");
			json_strn(w, s->service_checks.v[i].ptr,
			    s->service_checks.v[i].len);
			json_kv_str(w, "Namespace", "");
			json_obj_end(w);
		}
		json_arr_end(w);
	}
	/* the deprecated Checks: node and service check IDs, omitted when
	 * that is only serfHealth (or nothing) */
	only_serf = s->service_checks.n == 0 && (s->node_checks.n == 0 ||
	    (s->node_checks.n == 1 &&
	    proto_str_eq(s->node_checks.v[0], "serfHealth")));
	if (!only_serf) {
		json_key(w, "Checks");
		json_arr_begin(w);
		for (i = 0; i < s->node_checks.n; i++)
			json_strn(w, s->node_checks.v[i].ptr,
			    s->node_checks.v[i].len);
		for (i = 0; i < s->service_checks.n; i++)
			json_strn(w, s->service_checks.v[i].ptr,
			    s->service_checks.v[i].len);
		json_arr_end(w);
	}
	json_kv_u64(w, "CreateIndex", s->create_index);
	json_kv_u64(w, "ModifyIndex", s->modify_index);
	json_obj_end(w);
}

static void
api_session_got(struct req *r, const void *body)
{
	const struct msg_session_get_result *res = body;
	struct json w;

	api_set_meta(r, &res->meta);
	if (r->hop == SESSION_RENEW && !res->found) {
		req_reply_text(r, 404, "Session id '%s' not found", r->param);
		return;
	}
	req_json_init(r, &w);
	json_arr_begin(&w);
	for (uint32_t i = 0; i < res->n_sessions; i++)
		api_session_json(&w, &res->sessions[i]);
	json_arr_end(&w);
	req_reply_json(r, 200, &w);
}

static void
api_session_read(struct httpd *h, struct req *r, uint8_t what,
    bool need_param)
{
	struct msg_session_get g;

	if (!api_parse_opts(h, r))
		return;
	if (need_param && r->param[0] == '\0') {
		req_reply_text(r, 400, what == SESSION_GET_NODE ?
		    "Missing node name" : "Missing session");
		return;
	}
	memset(&g, 0, sizeof(g));
	g.what = what;
	if (need_param)
		g.name = proto_str_c(r->param);
	r->hop = what;
	if (what != SESSION_RENEW) {
		g.opts.consistency = r->opts.consistency;
		g.opts.min_index = r->opts.index;
		g.opts.wait_ms = r->opts.index > 0 ? r->opts.wait_ms : 0;
	}
	rpc_raftd(h, r, MSG_SESSION_GET, &g, what == SESSION_RENEW ?
	    rpc_write_timeout(h) : rpc_read_timeout(h, g.opts.min_index,
	    g.opts.wait_ms), MSG_SESSION_GET_RESULT, api_session_got);
}

void
api_session_renew(struct httpd *h, struct req *r)
{
	api_session_read(h, r, SESSION_RENEW, true);
}

void
api_session_info(struct httpd *h, struct req *r)
{
	api_session_read(h, r, SESSION_GET_INFO, true);
}

void
api_session_node(struct httpd *h, struct req *r)
{
	api_session_read(h, r, SESSION_GET_NODE, true);
}

void
api_session_list(struct httpd *h, struct req *r)
{
	api_session_read(h, r, SESSION_GET_LIST, false);
}
