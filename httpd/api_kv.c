/*
 * api_kv.c — /v1/kv/<key>: GET (single, ?recurse, ?keys[&separator],
 * ?raw), PUT (?flags, ?cas, ?acquire, ?release) and DELETE (?recurse,
 * ?cas), answered from raftd with MSG_KV_GET and MSG_KV_APPLY.
 *
 * Semantics follow Consul's agent/kvs_endpoint.go line by line: the order
 * of checks (options, "Missing key name", conflicting flags), a plain SET
 * and DELETE always answer true, 404 with an empty body but the index
 * headers, `?keys` with an empty prefix answers [] and never 404. Keys
 * are validated once here (query_check_key). Writes carry httpd's client
 * id and a fresh sequence number so a retried write is applied once.
 * Reference: spec/consul-api.md §2.4, §16 items 1, 7-9.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "httpd.h"
#include "json.h"
#include "proto.h"
#include "query.h"
#include "req.h"
#include "rpc.h"

#define API_KV_RAW 0x1u
#define API_KV_KEYS 0x2u
#define API_KV_EMPTY_KEY 0x4u

static struct proto_str
api_kv_key(const struct req *r)
{
	struct proto_str s = { r->param, (uint32_t)strlen(r->param) };
	return s;
}

static void
api_kv_pair(struct json *w, const struct proto_kv_entry *e)
{
	json_obj_begin(w);
	json_kv_u64(w, "LockIndex", e->lock_index);
	json_key(w, "Key");
	json_strn(w, e->key.ptr, e->key.len);
	json_kv_u64(w, "Flags", e->flags);
	json_key(w, "Value");
	json_base64(w, e->value.ptr, e->value.len);
	if (e->session.len > 0) {
		json_key(w, "Session");
		json_strn(w, e->session.ptr, e->session.len);
	}
	json_kv_u64(w, "CreateIndex", e->create_index);
	json_kv_u64(w, "ModifyIndex", e->modify_index);
	json_obj_end(w);
}

static void
api_kv_raw(struct req *r, const struct proto_kv_entry *e)
{
	char *body = NULL;

	if (e->value.len > 0 && (body = malloc(e->value.len)) == NULL) {
		req_reply_text(r, 500, "out of memory");
		return;
	}
	if (body != NULL)
		memcpy(body, e->value.ptr, e->value.len);
	req_set_header(r, "X-Content-Type-Options", "nosniff");
	req_set_header(r, "Content-Security-Policy", "sandbox");
	req_reply(r, 200, "text/plain", body, e->value.len);
}

static void
api_kv_got(struct req *r, const void *body)
{
	const struct msg_kv_get_result *res = body;
	struct json w;
	uint32_t i;

	api_set_meta(r, &res->meta);
	if (r->hflags & API_KV_KEYS) {
		if (res->keys.n == 0 && !(r->hflags & API_KV_EMPTY_KEY)) {
			req_reply_empty(r, 404);
			return;
		}
		req_json_init(r, &w);
		json_arr_begin(&w);
		for (i = 0; i < res->keys.n; i++)
			json_strn(&w, res->keys.v[i].ptr, res->keys.v[i].len);
		json_arr_end(&w);
		req_reply_json(r, 200, &w);
		return;
	}
	if (!res->found || res->n_entries == 0) {
		req_reply_empty(r, 404);
		return;
	}
	if (r->hflags & API_KV_RAW) {
		api_kv_raw(r, &res->entries[0]);
		return;
	}
	req_json_init(r, &w);
	json_arr_begin(&w);
	for (i = 0; i < res->n_entries; i++)
		api_kv_pair(&w, &res->entries[i]);
	json_arr_end(&w);
	req_reply_json(r, 200, &w);
}

static void
api_kv_get(struct httpd *h, struct req *r)
{
	struct msg_kv_get g;
	const char *sep;

	memset(&g, 0, sizeof(g));
	g.key = api_kv_key(r);
	if (g.key.len == 0)
		r->hflags |= API_KV_EMPTY_KEY;
	if (query_has(&r->args, "keys")) {
		g.mode = KV_GET_KEYS;
		r->hflags |= API_KV_KEYS;
		/* the historic misspelling, overridden by the right one */
		sep = query_get(&r->args, "separator");
		if (sep == NULL)
			sep = query_get(&r->args, "seperator");
		if (sep != NULL)
			g.separator = proto_str_c(sep);
	} else if (query_has(&r->args, "recurse")) {
		g.mode = KV_GET_RECURSE;
	} else {
		if (g.key.len == 0) {
			req_reply_text(r, 400, "Missing key name");
			return;
		}
		g.mode = KV_GET_ONE;
		if (query_has(&r->args, "raw"))
			r->hflags |= API_KV_RAW;
	}
	g.opts.consistency = r->opts.consistency;
	g.opts.min_index = r->opts.index;
	g.opts.wait_ms = r->opts.index > 0 ? r->opts.wait_ms : 0;
	rpc_raftd(h, r, MSG_KV_GET, &g,
	    rpc_read_timeout(h, r->opts.index, r->opts.wait_ms),
	    MSG_KV_GET_RESULT, api_kv_got);
}

static void
api_kv_applied(struct req *r, const void *body)
{
	const struct msg_kv_apply_result *res = body;

	/* Only conditional writes report the outcome (kvs_endpoint.go). */
	if (r->hop == KV_OP_SET || r->hop == KV_OP_DELETE ||
	    r->hop == KV_OP_DELETE_TREE)
		api_reply_bool(r, true);
	else
		api_reply_bool(r, res->ok);
}

/* "Conflicting flags: <url.Values.Encode()>" when two of names appear. */
static bool
api_kv_conflict(struct req *r, const char *const *names, size_t n)
{
	size_t i, found = 0;
	char *enc = NULL;

	for (i = 0; i < n; i++)
		if (query_has(&r->args, names[i]))
			found++;
	if (found < 2)
		return false;
	if (query_encode(&r->args, &enc) != 0)
		enc = NULL;
	req_reply_text(r, 400, "Conflicting flags: %s", enc ? enc : "");
	free(enc);
	return true;
}

/* Parses ?name= as a uint64 into *v; answers 400 and returns false. */
static bool
api_kv_u64(struct req *r, const char *name, uint64_t *v)
{
	const char *s = query_get(&r->args, name);
	int rc;

	if (s == NULL)
		return true;
	if ((rc = query_parse_u64(s, v)) == 0)
		return true;
	req_reply_text(r, 400, "Invalid %s value: strconv.ParseUint: parsing "
	    "\"%s\": %s", name, s,
	    rc == ERR_TOOBIG ? "value out of range" : "invalid syntax");
	return false;
}

static void
api_kv_send(struct httpd *h, struct req *r, struct msg_kv_apply *a)
{
	a->client_id = h->client_id;
	a->seq = ++h->seq;
	r->hop = a->op;
	rpc_raftd(h, r, MSG_KV_APPLY, a, rpc_write_timeout(h),
	    MSG_KV_APPLY_RESULT, api_kv_applied);
}

static void
api_kv_put(struct httpd *h, struct req *r)
{
	static const char *const conflicts[] = { "cas", "acquire", "release" };
	struct msg_kv_apply a;
	const char *s;

	memset(&a, 0, sizeof(a));
	a.key = api_kv_key(r);
	if (a.key.len == 0) {
		req_reply_text(r, 400, "Missing key name");
		return;
	}
	if (api_kv_conflict(r, conflicts, 3))
		return;
	a.op = KV_OP_SET;
	if (!api_kv_u64(r, "flags", &a.flags))
		return;
	if (query_has(&r->args, "cas")) {
		if (!api_kv_u64(r, "cas", &a.cas_index))
			return;
		a.op = KV_OP_CAS;
	}
	if ((s = query_get(&r->args, "acquire")) != NULL) {
		a.session = proto_str_c(s);
		a.op = KV_OP_LOCK;
	}
	if ((s = query_get(&r->args, "release")) != NULL) {
		a.session = proto_str_c(s);
		a.op = KV_OP_UNLOCK;
	}
	a.value.ptr = r->body;
	a.value.len = (uint32_t)r->body_len;
	api_kv_send(h, r, &a);
}

static void
api_kv_delete(struct httpd *h, struct req *r)
{
	static const char *const conflicts[] = { "recurse", "cas" };
	struct msg_kv_apply a;

	if (api_kv_conflict(r, conflicts, 2))
		return;
	memset(&a, 0, sizeof(a));
	a.key = api_kv_key(r);
	a.op = KV_OP_DELETE;
	if (query_has(&r->args, "recurse")) {
		a.op = KV_OP_DELETE_TREE;
	} else if (a.key.len == 0) {
		req_reply_text(r, 400, "Missing key name");
		return;
	}
	if (query_has(&r->args, "cas")) {
		if (!api_kv_u64(r, "cas", &a.cas_index))
			return;
		a.op = KV_OP_DELETE_CAS;
	}
	api_kv_send(h, r, &a);
}

void
api_kv(struct httpd *h, struct req *r)
{
	const char *why;

	if (!api_parse_opts(h, r))
		return;
	if (query_check_key(r->param, strlen(r->param), &why) != 0) {
		req_reply_text(r, 400, "%s", why);
		return;
	}
	if (strcmp(r->method, "GET") == 0)
		api_kv_get(h, r);
	else if (strcmp(r->method, "PUT") == 0)
		api_kv_put(h, r);
	else
		api_kv_delete(h, r);
}
