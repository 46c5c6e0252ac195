/*
 * api_health.c — /v1/health: node/:node, checks/:service,
 * service/:service (?passing, ?tag) and state/:state, answered from
 * raftd with MSG_CATALOG_GET.
 *
 * Key decisions: raftd applies ?passing (any non-passing check of the
 * instance or of its node drops it, spec §3.2) and sends each node's
 * own checks once; this file assembles every ServiceEntry as Consul's
 * parseCheckServiceNodes does: the node's checks first, then the
 * instance's, both in CheckID order; Checks is [] never null.
 * Reference: Consul agent/health_endpoint.go; spec §2.3, §3.2, §16 item
 * 12.
 */
#include <string.h>

#include "api_catalog.h"
#include "api_filter.h"
#include "httpd.h"
#include "json.h"
#include "proto.h"
#include "query.h"
#include "req.h"

static void
api_health_checks_got(struct req *r, const void *body)
{
	const struct msg_catalog_get_result *res = body;
	struct json w;

	api_set_meta(r, &res->meta);
	req_json_init(r, &w);
	json_arr_begin(&w);
	for (uint32_t i = 0; i < res->n_checks; i++)
		api_json_check(&w, &res->checks[i]);
	json_arr_end(&w);
	if (!api_filter_json(r, &w, filter_schema_check, NULL))
		return;
	req_reply_json(r, 200, &w);
}

static bool
api_health_param(struct req *r, const char *what)
{
	if (r->param != NULL && *r->param != '\0')
		return true;
	req_reply_text(r, 400, "Missing %s name", what);
	return false;
}

void
api_health_node(struct httpd *h, struct req *r)
{
	if (!api_parse_opts(h, r) || !api_health_param(r, "node") ||
	    !api_filter_check(r, filter_schema_check))
		return;
	api_catalog_read(h, r, CATALOG_HEALTH_NODE, false,
	    api_health_checks_got);
}

void
api_health_checks(struct httpd *h, struct req *r)
{
	if (!api_parse_opts(h, r) || !api_health_param(r, "service") ||
	    !api_filter_check(r, filter_schema_check))
		return;
	api_catalog_read(h, r, CATALOG_HEALTH_CHECKS, false,
	    api_health_checks_got);
}

void
api_health_state(struct httpd *h, struct req *r)
{
	static const char *const states[] = { "any", "passing", "warning",
	    "critical" };
	bool ok = false;

	if (!api_parse_opts(h, r))
		return;
	if (r->param == NULL || *r->param == '\0') {
		req_reply_text(r, 400, "Missing check state");
		return;
	}
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		ok |= strcmp(r->param, states[i]) == 0;
	if (!ok) {
		req_reply_text(r, 400, "Bad check state");
		return;
	}
	if (!api_filter_check(r, filter_schema_check))
		return;
	api_catalog_read(h, r, CATALOG_HEALTH_STATE, false,
	    api_health_checks_got);
}

static void
api_health_service_got(struct req *r, const void *body)
{
	const struct msg_catalog_get_result *res = body;
	static const struct proto_cat_node none;
	struct api_node_ix ix;
	struct json w;

	if (api_node_ix_init(&ix, res) != 0) {
		req_reply_text(r, 500, "out of memory");
		return;
	}
	api_set_meta(r, &res->meta);
	req_json_init(r, &w);
	json_arr_begin(&w);
	for (uint32_t i = 0; i < res->n_services; i++) {
		const struct proto_cat_service *s = &res->services[i];
		const struct proto_cat_node *n = api_node_ix_node(&ix,
		    s->node);
		uint32_t first = api_node_ix_checks(&ix, s->node);

		json_obj_begin(&w);
		json_key(&w, "Node");
		api_json_node(&w, n ? n : &none);
		json_key(&w, "Service");
		api_json_node_service(&w, s);
		json_key(&w, "Checks");
		json_arr_begin(&w);
		for (int pass = 0; pass < 2; pass++)
			for (uint32_t j = first; j != API_IX_END;
			    j = ix.next[j]) {
				const struct proto_cat_check *c =
				    &res->checks[j];

				if (pass == 0 ? c->service_id.len == 0 :
				    api_name_eq(c->service_id, s->id))
					api_json_check(&w, c);
			}
		json_arr_end(&w);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	api_node_ix_fini(&ix);
	if (!api_filter_json(r, &w, filter_schema_entry, NULL))
		return;
	req_reply_json(r, 200, &w);
}

/* strconv.ParseBool. */
static int
api_parse_bool(const char *s, bool *out)
{
	static const char *const t[] = { "1", "t", "T", "TRUE", "true",
	    "True" };
	static const char *const f[] = { "0", "f", "F", "FALSE", "false",
	    "False" };

	for (size_t i = 0; i < 6; i++) {
		if (strcmp(s, t[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, f[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

void
api_health_service(struct httpd *h, struct req *r)
{
	const char *p;
	bool passing = false;

	if (!api_parse_opts(h, r) || !api_health_param(r, "service") ||
	    !api_filter_check(r, filter_schema_entry))
		return;
	if ((p = query_get(&r->args, "passing")) != NULL) {
		/* ?passing alone is true (Consul's backwards compatibility) */
		if (*p == '\0')
			passing = true;
		else if (api_parse_bool(p, &passing) != 0) {
			req_reply_text(r, 400, "Invalid value for ?passing");
			return;
		}
	}
	api_catalog_read(h, r, CATALOG_HEALTH_SERVICE, passing,
	    api_health_service_got);
}
