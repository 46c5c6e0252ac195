/*
 * api_txn.c — PUT /v1/txn (spec/consul-api.md §2.6): the decoded
 * operations (api_txn_body.c) sent to raftd as one MSG_TXN, applied all
 * or none in one log entry; read-only transactions are served as reads
 * with the consistency options and the X-Consul-* headers.
 *
 * Key decisions: 200 {"Results":[{"KV":...}],"Errors":null} or 409
 * {"Results":null,"Errors":[{"OpIndex":i,"What":"..."}]} exactly as
 * Consul's TxnResponse; a Node, Service or Check result is
 * {"Node":Node}, {"Service":NodeService} or {"Check":HealthCheck} in the
 * shapes of the catalog endpoints (api_catalog.c), placed among the KV
 * results by its position. Reference: Consul agent/txn_endpoint.go,
 * agent/structs/txn.go TxnResult.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_catalog.h"
#include "api_session.h"
#include "config.h"
#include "err.h"
#include "httpd.h"
#include "json.h"
#include "msg_session.h"
#include "proto.h"
#include "req.h"
#include "rpc.h"

static void
api_txn_errors(struct req *r, const struct proto_txn_error *e, uint32_t n)
{
	struct json w;

	req_json_init(r, &w);
	json_obj_begin(&w);
	json_key(&w, "Results");
	json_null(&w);
	json_key(&w, "Errors");
	json_arr_begin(&w);
	for (uint32_t i = 0; i < n; i++) {
		json_obj_begin(&w);
		json_kv_u64(&w, "OpIndex", e[i].op_index);
		json_key(&w, "What");
		json_strn(&w, e[i].what.ptr, e[i].what.len);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_obj_end(&w);
	req_reply_json(r, 409, &w);
}

static void
api_txn_kv(struct json *w, const struct proto_kv_entry *e)
{
	json_obj_begin(w);
	json_key(w, "KV");
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
	json_obj_end(w);
}

static void
api_txn_cat(struct json *w, const struct proto_txn_cat_result *c)
{
	const struct msg_catalog_get_result *rec = &c->rec;

	json_obj_begin(w);
	if (c->kind == TXN_KIND_NODE && rec->n_nodes == 1) {
		json_key(w, "Node");
		api_json_node(w, &rec->nodes[0]);
	} else if (c->kind == TXN_KIND_SERVICE && rec->n_services == 1) {
		json_key(w, "Service");
		api_json_node_service(w, &rec->services[0]);
	} else if (c->kind == TXN_KIND_CHECK && rec->n_checks == 1) {
		json_key(w, "Check");
		api_json_check(w, &rec->checks[0]);
	}
	json_obj_end(w);
}

static void
api_txn_done(struct req *r, const void *body)
{
	const struct msg_txn_result *res = body;
	struct json w;

	if (r->hop)
		api_set_meta(r, &res->meta);
	if (res->n_errors > 0) {
		api_txn_errors(r, res->errors, res->n_errors);
		return;
	}
	req_json_init(r, &w);
	json_obj_begin(&w);
	json_key(&w, "Results");
	json_arr_begin(&w);
	/* catalog results at their places, KV results in the others */
	for (uint32_t p = 0, k = 0, c = 0; p < res->n_results +
	    res->n_cat_results; p++) {
		if (c < res->n_cat_results && res->cat_results[c].pos == p)
			api_txn_cat(&w, &res->cat_results[c++]);
		else if (k < res->n_results)
			api_txn_kv(&w, &res->results[k++]);
	}
	json_arr_end(&w);
	json_key(&w, "Errors");
	json_null(&w);
	json_obj_end(&w);
	req_reply_json(r, 200, &w);
}

void
api_txn(struct httpd *h, struct req *r)
{
	struct proto_arena a;
	struct msg_txn m;
	struct proto_txn_error e;
	const char *what;
	uint32_t bad = 0;
	void *root;

	if (!api_parse_opts(h, r))
		return;
	memset(&m, 0, sizeof(m));
	proto_arena_init(&a);
	if (api_txn_body(h, r, &m, &a, &bad, &what, &root) != 0) {
		proto_arena_free(&a);
		return;
	}
	if (what != NULL) {
		e.op_index = bad;
		e.what = proto_str_c(what);
		api_txn_errors(r, &e, 1);
	} else {
		m.client_id = h->client_id;
		m.seq = ++h->seq;
		r->hop = m.read_only;
		m.opts.consistency = r->opts.consistency;
		rpc_raftd(h, r, MSG_TXN, &m, rpc_write_timeout(h),
		    MSG_TXN_RESULT, api_txn_done);
	}
	api_txn_body_free(root);
	proto_arena_free(&a);
}
