/*
 * api_filter.c — ?filter= on the list endpoints (see api_filter.h).
 *
 * Key decisions: the expression is compiled when the request arrives, so
 * a bad one is a 400 before any blocking wait, and again when the reply
 * is rendered (compiling is cheap; nothing is kept on the request). The
 * rendered list is filtered as text (filter_json_list), so every
 * endpoint's JSON stays byte-identical for the elements kept;
 * X-Consul-Index is the unfiltered read's, as in Consul (the filter runs
 * after the blocking query). /v1/catalog/services filters ServiceNodes,
 * not the folded name -> tags map (Consul's Catalog.ListServices), so it
 * asks raftd for every instance and folds here.
 * Reference: Consul agent/consul/catalog_endpoint.go ListServices,
 * servicesTagsByName; agent/http.go parseFilter; spec §1.8.
 */
#include <stdlib.h>
#include <string.h>

#include "api_catalog.h"
#include "api_filter.h"
#include "err.h"
#include "filter.h"
#include "httpd.h"
#include "json.h"
#include "proto.h"
#include "query.h"
#include "req.h"

#define API_FILTER_ERRLEN 1024

const char *
api_filter_expr(const struct req *r)
{
	const char *e = query_get(&r->args, "filter");

	return e != NULL && *e != '\0' ? e : NULL;
}

/* Compiles r's filter; NULL with *ok when there is none. */
static struct filter *
api_filter_compile(struct req *r, const struct filter_field *schema,
    bool *ok)
{
	const char *e = api_filter_expr(r);
	char err[API_FILTER_ERRLEN];
	struct filter *f = NULL;
	int rc;

	*ok = true;
	if (e == NULL)
		return NULL;
	if ((rc = filter_compile(e, schema, &f, err, sizeof(err))) != 0) {
		*ok = false;
		if (rc == ERR_INVAL)
			req_reply_text(r, 400, "%s", err);
		else
			req_reply_text(r, 500, "%s", err_str(rc));
		return NULL;
	}
	return f;
}

bool
api_filter_check(struct req *r, const struct filter_field *schema)
{
	bool ok;

	filter_free(api_filter_compile(r, schema, &ok));
	return ok;
}

bool
api_filter_json(struct req *r, struct json *w,
    const struct filter_field *schema, const char *inner)
{
	struct filter *f;
	bool ok;
	int rc;

	if (w->err != 0)
		return true; /* req_reply_json answers the writer's error */
	if ((f = api_filter_compile(r, schema, &ok)) == NULL) {
		if (!ok)
			json_fini(w);
		return ok;
	}
	rc = filter_json_list(f, w->buf, &w->len, inner);
	filter_free(f);
	if (rc != 0) {
		json_fini(w);
		req_reply_text(r, 500, "filter: %s", err_str(rc));
		return false;
	}
	return true;
}

bool
api_filter_agent_body(struct req *r, int status, char *body, size_t *len)
{
	const struct filter_field *schema;
	struct filter *f;
	bool ok;
	int rc;

	if (status != 200 || body == NULL || strcmp(r->method, "GET") != 0)
		return true;
	if (strcmp(r->path, "/v1/agent/services") == 0)
		schema = filter_schema_agent_service;
	else if (strcmp(r->path, "/v1/agent/checks") == 0)
		schema = filter_schema_check;
	else
		return true;
	if ((f = api_filter_compile(r, schema, &ok)) == NULL)
		return ok;
	rc = filter_json_list(f, body, len, NULL);
	filter_free(f);
	if (rc != 0) {
		req_reply_text(r, 500, "filter: %s", err_str(rc));
		return false;
	}
	return true;
}

/* ---- /v1/catalog/services ---- */

/* Whether instance s (on node n) passes f, judged on its ServiceNode. */
static int
api_filter_instance(const struct filter *f,
    const struct proto_cat_service *s, const struct proto_cat_node *n,
    bool *keep)
{
	struct json w;
	char *txt;
	size_t len;
	int rc;

	json_init(&w, false);
	api_json_catalog_service(&w, s, n);
	if ((rc = json_finish(&w, &txt, &len)) != 0)
		return rc;
	rc = filter_match_text(f, txt, len, keep);
	free(txt);
	return rc;
}

static int
api_str_cmp(const void *a, const void *b)
{
	const struct proto_str *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = n ? memcmp(x->ptr, y->ptr, n) : 0;

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

static int
api_svc_cmp(const void *a, const void *b)
{
	const struct proto_cat_service *const *x = a, *const *y = b;

	return api_str_cmp(&(*x)->service, &(*y)->service);
}

/* The kept instances (sorted by name) as Go's map[string][]string. */
static void
api_filter_fold(struct json *w, const struct proto_cat_service **kept,
    size_t n, struct proto_str *tags)
{
	size_t i, j;

	json_obj_begin(w);
	for (i = 0; i < n; i = j) {
		size_t nt = 0, k;

		for (j = i; j < n && api_str_cmp(&kept[j]->service,
		    &kept[i]->service) == 0; j++)
			for (uint32_t t = 0; t < kept[j]->tags.n; t++)
				tags[nt++] = kept[j]->tags.v[t];
		if (nt > 0)
			qsort(tags, nt, sizeof(*tags), api_str_cmp);
		json_keyn(w, kept[i]->service.ptr, kept[i]->service.len);
		json_arr_begin(w);
		for (k = 0; k < nt; k++)
			if (k == 0 || api_str_cmp(&tags[k - 1], &tags[k]) != 0)
				json_strn(w, tags[k].ptr, tags[k].len);
		json_arr_end(w);
	}
	json_obj_end(w);
}

void
api_filter_services_got(struct req *r, const void *body)
{
	const struct msg_catalog_get_result *res = body;
	const struct proto_cat_service **kept = NULL;
	struct proto_str *tags = NULL;
	struct api_node_ix ix;
	struct filter *f;
	size_t nk = 0, ntags = 0;
	struct json w;
	bool ok, keep;
	int rc = 0;

	if ((f = api_filter_compile(r, filter_schema_service_node, &ok)) ==
	    NULL && !ok)
		return;
	for (uint32_t i = 0; i < res->n_services; i++)
		ntags += res->services[i].tags.n;
	if (api_node_ix_init(&ix, res) != 0 || (kept = calloc(
	    res->n_services + 1, sizeof(*kept))) == NULL || (tags = calloc(
	    ntags + 1, sizeof(*tags))) == NULL)
		rc = ERR_NOMEM;
	for (uint32_t i = 0; rc == 0 && i < res->n_services; i++) {
		const struct proto_cat_service *s = &res->services[i];

		keep = true;
		if (f != NULL && (rc = api_filter_instance(f, s,
		    api_node_ix_node(&ix, s->node), &keep)) != 0)
			break;
		if (keep)
			kept[nk++] = s;
	}
	if (rc == 0) {
		if (nk > 0)
			qsort(kept, nk, sizeof(*kept), api_svc_cmp);
		api_set_meta(r, &res->meta);
		req_json_init(r, &w);
		api_filter_fold(&w, kept, nk, tags);
		req_reply_json(r, 200, &w);
	} else {
		req_reply_text(r, 500, "filter: %s", err_str(rc));
	}
	api_node_ix_fini(&ix);
	filter_free(f);
	free(kept);
	free(tags);
}
