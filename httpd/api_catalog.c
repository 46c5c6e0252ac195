/*
 * api_catalog.c — /v1/catalog reads: datacenters, nodes, services,
 * service/:name, node/:node and node-services/:node, answered from
 * raftd with MSG_CATALOG_GET; and the record JSON shapes the health
 * endpoints share (api_catalog.h). Register and deregister are in
 * api_catalog_write.c.
 *
 * Key decisions: output is written field by field in the order of
 * Consul's Go structs (nil maps are null, omitempty fields omitted);
 * lists are [] and never null (spec §1.3); an unknown node is 200
 * `null`. Reference: Consul agent/catalog_endpoint.go,
 * agent/structs/structs.go; spec/consul-api.md §2.0, §2.2, §16 item 10.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_catalog.h"
#include "api_filter.h"
#include "config.h"
#include "err.h"
#include "httpd.h"
#include "json.h"
#include "proto.h"
#include "query.h"
#include "req.h"
#include "rpc.h"

/* ---- JSON output ---- */

static void
jstr(struct json *w, const char *k, struct proto_str s)
{
	json_key(w, k);
	json_strn(w, s.ptr, s.len);
}

/* A string map; Go's nil map is null (sorted keys: raftd stores them so). */
static void
jmap(struct json *w, const char *k, const struct proto_strmap *m)
{
	json_key(w, k);
	if (m->n == 0) {
		json_null(w);
		return;
	}
	json_obj_begin(w);
	for (uint32_t i = 0; i < m->n; i++) {
		json_keyn(w, m->keys[i].ptr, m->keys[i].len);
		json_strn(w, m->vals[i].ptr, m->vals[i].len);
	}
	json_obj_end(w);
}

/* A string list, [] when empty. */
static void
jlist(struct json *w, const char *k, const struct proto_str_array *a)
{
	json_key(w, k);
	json_arr_begin(w);
	for (uint32_t i = 0; i < a->n; i++)
		json_strn(w, a->v[i].ptr, a->v[i].len);
	json_arr_end(w);
}

static void
jweights(struct json *w, const char *k, const struct proto_cat_service *s)
{
	json_key(w, k);
	json_obj_begin(w);
	json_kv_u64(w, "Passing", s->weight_passing);
	json_kv_u64(w, "Warning", s->weight_warning);
	json_obj_end(w);
}

static void
jtagged(struct json *w, const char *k, const struct proto_cat_service *s)
{
	json_key(w, k);
	json_obj_begin(w);
	for (uint32_t i = 0; i < s->n_tagged_addresses; i++) {
		const struct proto_cat_addr *a = &s->tagged_addresses[i];

		json_keyn(w, a->key.ptr, a->key.len);
		json_obj_begin(w);
		jstr(w, "Address", a->address);
		json_kv_u64(w, "Port", a->port);
		json_obj_end(w);
	}
	json_obj_end(w);
}

/* ConnectProxyConfig and ServiceConnect of a plain service. */
static void
jproxy(struct json *w, const char *pk, const char *ck)
{
	json_key(w, pk);
	json_obj_begin(w);
	json_kv_str(w, "Mode", "");
	json_key(w, "MeshGateway");
	json_obj_begin(w);
	json_obj_end(w);
	json_key(w, "Expose");
	json_obj_begin(w);
	json_obj_end(w);
	json_obj_end(w);
	json_key(w, ck);
	json_obj_begin(w);
	json_obj_end(w);
}

void
api_json_node(struct json *w, const struct proto_cat_node *n)
{
	json_obj_begin(w);
	jstr(w, "ID", n->id);
	jstr(w, "Node", n->node);
	jstr(w, "Address", n->address);
	jstr(w, "Datacenter", n->datacenter);
	jmap(w, "TaggedAddresses", &n->tagged_addresses);
	jmap(w, "Meta", &n->meta);
	json_kv_u64(w, "CreateIndex", n->create_index);
	json_kv_u64(w, "ModifyIndex", n->modify_index);
	json_obj_end(w);
}

/* structs.NodeService: Kind, TaggedAddresses and SocketPath omitempty. */
void
api_json_node_service(struct json *w, const struct proto_cat_service *s)
{
	json_obj_begin(w);
	if (s->kind.len > 0)
		jstr(w, "Kind", s->kind);
	jstr(w, "ID", s->id);
	jstr(w, "Service", s->service);
	jlist(w, "Tags", &s->tags);
	jstr(w, "Address", s->address);
	if (s->n_tagged_addresses > 0)
		jtagged(w, "TaggedAddresses", s);
	jmap(w, "Meta", &s->meta);
	json_kv_u64(w, "Port", s->port);
	jweights(w, "Weights", s);
	json_kv_bool(w, "EnableTagOverride", s->enable_tag_override);
	jproxy(w, "Proxy", "Connect");
	json_kv_u64(w, "CreateIndex", s->create_index);
	json_kv_u64(w, "ModifyIndex", s->modify_index);
	json_obj_end(w);
}

/* structs.ServiceNode, the /v1/catalog/service element. */
void
api_json_catalog_service(struct json *w, const struct proto_cat_service *s,
    const struct proto_cat_node *n)
{
	static const struct proto_cat_node none;

	if (n == NULL)
		n = &none;
	json_obj_begin(w);
	jstr(w, "ID", n->id);
	jstr(w, "Node", s->node);
	jstr(w, "Address", n->address);
	jstr(w, "Datacenter", n->datacenter);
	jmap(w, "TaggedAddresses", &n->tagged_addresses);
	jmap(w, "NodeMeta", &n->meta);
	jstr(w, "ServiceKind", s->kind);
	jstr(w, "ServiceID", s->id);
	jstr(w, "ServiceName", s->service);
	jlist(w, "ServiceTags", &s->tags);
	jstr(w, "ServiceAddress", s->address);
	if (s->n_tagged_addresses > 0)
		jtagged(w, "ServiceTaggedAddresses", s);
	jweights(w, "ServiceWeights", s);
	jmap(w, "ServiceMeta", &s->meta);
	json_kv_u64(w, "ServicePort", s->port);
	json_kv_str(w, "ServiceSocketPath", "");
	json_kv_bool(w, "ServiceEnableTagOverride", s->enable_tag_override);
	jproxy(w, "ServiceProxy", "ServiceConnect");
	json_kv_u64(w, "CreateIndex", s->create_index);
	json_kv_u64(w, "ModifyIndex", s->modify_index);
	json_obj_end(w);
}

static void
jdur(struct json *w, const char *k, uint64_t ns)
{
	char buf[40];

	query_format_duration((int64_t)ns, buf, sizeof(buf));
	json_kv_str(w, k, buf);
}

void
api_json_check(struct json *w, const struct proto_cat_check *c)
{
	json_obj_begin(w);
	jstr(w, "Node", c->node);
	jstr(w, "CheckID", c->check_id);
	jstr(w, "Name", c->name);
	jstr(w, "Status", c->status);
	jstr(w, "Notes", c->notes);
	jstr(w, "Output", c->output);
	jstr(w, "ServiceID", c->service_id);
	jstr(w, "ServiceName", c->service_name);
	jlist(w, "ServiceTags", &c->service_tags);
	jstr(w, "Type", c->type);
	jstr(w, "Interval", c->interval);
	jstr(w, "Timeout", c->timeout);
	json_kv_u64(w, "ExposedPort", 0);
	json_key(w, "Definition");
	json_obj_begin(w);
	jdur(w, "Interval", c->def_interval_ns);
	jdur(w, "Timeout", c->def_timeout_ns);
	jdur(w, "DeregisterCriticalServiceAfter", c->def_deregister_ns);
	jstr(w, "HTTP", c->def_http);
	json_key(w, "Header");
	json_null(w);
	jstr(w, "Method", c->def_method);
	jstr(w, "Body", c->def_body);
	jstr(w, "TLSServerName", c->def_tls_server_name);
	json_kv_bool(w, "TLSSkipVerify", c->def_tls_skip_verify);
	jstr(w, "TCP", c->def_tcp);
	json_obj_end(w);
	json_kv_u64(w, "CreateIndex", c->create_index);
	json_kv_u64(w, "ModifyIndex", c->modify_index);
	json_obj_end(w);
}

/* Names compare ignoring case, as Consul's catalog indexes them. */
bool
api_name_eq(struct proto_str a, struct proto_str b)
{
	return a.len == b.len && (a.len == 0 ||
	    strncasecmp(a.ptr, b.ptr, a.len) == 0);
}

struct api_node_slot {
	struct proto_str name; /* len 0 with ptr NULL: empty slot */
	uint32_t node;	       /* index in res->nodes, or API_IX_END */
	uint32_t first, last;  /* its checks, or API_IX_END */
};

static uint32_t
api_name_hash(struct proto_str s)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < s.len; i++)
		h = (h ^ (uint8_t)tolower((unsigned char)s.ptr[i])) *
		    16777619u;
	return h;
}

static struct api_node_slot *
api_node_slot(const struct api_node_ix *ix, struct proto_str name)
{
	uint32_t i = api_name_hash(name) & ix->mask;

	while (ix->slots[i].name.ptr != NULL &&
	    !api_name_eq(ix->slots[i].name, name))
		i = (i + 1) & ix->mask;
	return &ix->slots[i];
}

static struct api_node_slot *
api_node_slot_add(struct api_node_ix *ix, struct proto_str name)
{
	struct api_node_slot *sl = api_node_slot(ix, name);

	if (sl->name.ptr == NULL) {
		sl->name = name;
		if (sl->name.ptr == NULL)
			sl->name.ptr = "";
		sl->node = sl->first = sl->last = API_IX_END;
	}
	return sl;
}

int
api_node_ix_init(struct api_node_ix *ix,
    const struct msg_catalog_get_result *res)
{
	uint64_t want = 2 * ((uint64_t)res->n_nodes + res->n_checks) + 2;
	uint32_t size = 16, i;
	struct api_node_slot *sl;

	memset(ix, 0, sizeof(*ix));
	while (size < want)
		size *= 2;
	ix->res = res;
	ix->mask = size - 1;
	if ((ix->slots = calloc(size, sizeof(*ix->slots))) == NULL ||
	    (res->n_checks > 0 &&
	    (ix->next = malloc(res->n_checks * sizeof(*ix->next))) == NULL)) {
		api_node_ix_fini(ix);
		return ERR_NOMEM;
	}
	for (i = 0; i < res->n_nodes; i++) {
		sl = api_node_slot_add(ix, res->nodes[i].node);
		if (sl->node == API_IX_END)
			sl->node = i;
	}
	for (i = 0; i < res->n_checks; i++) {
		sl = api_node_slot_add(ix, res->checks[i].node);
		ix->next[i] = API_IX_END;
		if (sl->first == API_IX_END)
			sl->first = i;
		else
			ix->next[sl->last] = i;
		sl->last = i;
	}
	return 0;
}

void
api_node_ix_fini(struct api_node_ix *ix)
{
	free(ix->slots);
	free(ix->next);
	memset(ix, 0, sizeof(*ix));
}

const struct proto_cat_node *
api_node_ix_node(const struct api_node_ix *ix, struct proto_str name)
{
	const struct api_node_slot *sl = api_node_slot(ix, name);

	return sl->name.ptr == NULL || sl->node == API_IX_END ? NULL :
	    &ix->res->nodes[sl->node];
}

uint32_t
api_node_ix_checks(const struct api_node_ix *ix, struct proto_str name)
{
	const struct api_node_slot *sl = api_node_slot(ix, name);

	return sl->name.ptr == NULL ? API_IX_END : sl->first;
}

/* ---- reads ---- */

/* Counts, then collects, the values of a repeated parameter. */
static uint32_t
api_args_count(const struct req *r, const char *key)
{
	uint32_t n = 0;

	for (size_t i = 0; i < r->args.n; i++)
		if (strcmp(r->args.v[i].key, key) == 0)
			n++;
	return n;
}

void
api_catalog_read(struct httpd *h, struct req *r, uint8_t what, bool passing,
    void (*cb)(struct req *r, const void *body))
{
	struct msg_catalog_get g;
	uint32_t nt = api_args_count(r, "tag"), nm = api_args_count(r,
	    "node-meta");
	struct proto_str *tags, *mk, *mv;

	tags = calloc((size_t)nt + 2 * (size_t)nm + 1, sizeof(*tags));
	if (tags == NULL) {
		req_reply_text(r, 500, "out of memory");
		return;
	}
	mk = tags + nt;
	mv = mk + nm;
	memset(&g, 0, sizeof(g));
	g.what = what;
	g.name = proto_str_c(r->param ? r->param : "");
	g.passing = passing;
	g.tags.v = tags;
	g.node_meta.keys = mk;
	g.node_meta.vals = mv;
	for (size_t i = 0; i < r->args.n; i++) {
		const struct query_arg *a = &r->args.v[i];
		const char *v = a->val ? a->val : "";

		if (strcmp(a->key, "tag") == 0) {
			tags[g.tags.n++] = proto_str_c(v);
		} else if (strcmp(a->key, "node-meta") == 0) {
			const char *c = strchr(v, ':');

			/* Consul: "key:value"; a missing ':' is key with "" */
			mk[g.node_meta.n].ptr = v;
			mk[g.node_meta.n].len = (uint32_t)(c ? (size_t)(c - v) :
			    strlen(v));
			mv[g.node_meta.n] = proto_str_c(c ? c + 1 : "");
			g.node_meta.n++;
		}
	}
	g.opts.consistency = r->opts.consistency;
	g.opts.min_index = r->opts.index;
	g.opts.wait_ms = r->opts.index > 0 ? r->opts.wait_ms : 0;
	rpc_raftd(h, r, MSG_CATALOG_GET, &g,
	    rpc_read_timeout(h, r->opts.index, r->opts.wait_ms),
	    MSG_CATALOG_GET_RESULT, cb);
	free(tags); /* rpc_raftd encoded the request */
}

static void
api_catalog_nodes_got(struct req *r, const void *body)
{
	const struct msg_catalog_get_result *res = body;
	struct json w;

	api_set_meta(r, &res->meta);
	req_json_init(r, &w);
	json_arr_begin(&w);
	for (uint32_t i = 0; i < res->n_nodes; i++)
		api_json_node(&w, &res->nodes[i]);
	json_arr_end(&w);
	if (!api_filter_json(r, &w, filter_schema_node, NULL))
		return;
	req_reply_json(r, 200, &w);
}

void
api_catalog_nodes(struct httpd *h, struct req *r)
{
	if (!api_parse_opts(h, r) ||
	    !api_filter_check(r, filter_schema_node))
		return;
	api_catalog_read(h, r, CATALOG_NODES, false, api_catalog_nodes_got);
}

static void
api_catalog_services_got(struct req *r, const void *body)
{
	const struct msg_catalog_get_result *res = body;
	struct json w;

	api_set_meta(r, &res->meta);
	req_json_init(r, &w);
	json_obj_begin(&w);
	for (uint32_t i = 0; i < res->n_services; i++) {
		const struct proto_cat_service *s = &res->services[i];

		json_keyn(&w, s->service.ptr, s->service.len);
		json_arr_begin(&w);
		for (uint32_t t = 0; t < s->tags.n; t++)
			json_strn(&w, s->tags.v[t].ptr, s->tags.v[t].len);
		json_arr_end(&w);
	}
	json_obj_end(&w);
	req_reply_json(r, 200, &w);
}

void
api_catalog_services(struct httpd *h, struct req *r)
{
	if (!api_parse_opts(h, r) ||
	    !api_filter_check(r, filter_schema_service_node))
		return;
	if (api_filter_expr(r) != NULL) /* filters instances: api_filter.c */
		api_catalog_read(h, r, CATALOG_SERVICES_ALL, false,
		    api_filter_services_got);
	else
		api_catalog_read(h, r, CATALOG_SERVICES, false,
		    api_catalog_services_got);
}

static void
api_catalog_service_got(struct req *r, const void *body)
{
	const struct msg_catalog_get_result *res = body;
	struct api_node_ix ix;
	struct json w;

	if (api_node_ix_init(&ix, res) != 0) {
		req_reply_text(r, 500, "out of memory");
		return;
	}
	api_set_meta(r, &res->meta);
	req_json_init(r, &w);
	json_arr_begin(&w);
	for (uint32_t i = 0; i < res->n_services; i++)
		api_json_catalog_service(&w, &res->services[i],
		    api_node_ix_node(&ix, res->services[i].node));
	json_arr_end(&w);
	api_node_ix_fini(&ix);
	if (!api_filter_json(r, &w, filter_schema_service_node, NULL))
		return;
	req_reply_json(r, 200, &w);
}

/* Answers 400 `Missing <what> name` for an empty path parameter. */
static bool
api_need_param(struct req *r, const char *what)
{
	if (r->param != NULL && *r->param != '\0')
		return true;
	req_reply_text(r, 400, "Missing %s name", what);
	return false;
}

void
api_catalog_service(struct httpd *h, struct req *r)
{
	if (!api_parse_opts(h, r) || !api_need_param(r, "service") ||
	    !api_filter_check(r, filter_schema_service_node))
		return;
	api_catalog_read(h, r, CATALOG_SERVICE, false,
	    api_catalog_service_got);
}

static void
api_catalog_node_got(struct req *r, const void *body)
{
	const struct msg_catalog_get_result *res = body;
	bool list = r->hop == CATALOG_NODE_SERVICES;
	struct json w;

	api_set_meta(r, &res->meta);
	req_json_init(r, &w);
	if (!res->found && !list) {
		json_null(&w); /* Consul's quirk (spec §1.3) */
		req_reply_json(r, 200, &w);
		return;
	}
	json_obj_begin(&w);
	json_key(&w, "Node");
	if (res->found && res->n_nodes > 0)
		api_json_node(&w, &res->nodes[0]);
	else
		json_null(&w);
	json_key(&w, "Services");
	if (list)
		json_arr_begin(&w);
	else
		json_obj_begin(&w);
	for (uint32_t i = 0; i < res->n_services; i++) {
		if (!list)
			json_keyn(&w, res->services[i].id.ptr,
			    res->services[i].id.len);
		api_json_node_service(&w, &res->services[i]);
	}
	if (list)
		json_arr_end(&w);
	else
		json_obj_end(&w);
	json_obj_end(&w);
	if (!api_filter_json(r, &w, filter_schema_node_service, "Services"))
		return;
	req_reply_json(r, 200, &w);
}

void
api_catalog_node(struct httpd *h, struct req *r)
{
	if (!api_parse_opts(h, r) || !api_need_param(r, "node") ||
	    !api_filter_check(r, filter_schema_node_service))
		return;
	r->hop = CATALOG_NODE;
	api_catalog_read(h, r, CATALOG_NODE, false, api_catalog_node_got);
}

void
api_catalog_node_services(struct httpd *h, struct req *r)
{
	if (!api_parse_opts(h, r) || !api_need_param(r, "node") ||
	    !api_filter_check(r, filter_schema_node_service))
		return;
	r->hop = CATALOG_NODE_SERVICES;
	api_catalog_read(h, r, CATALOG_NODE_SERVICES, false,
	    api_catalog_node_got);
}

void
api_catalog_datacenters(struct httpd *h, struct req *r)
{
	struct json w;

	req_json_init(r, &w);
	json_arr_begin(&w);
	json_str(&w, h->cfg->datacenter);
	json_arr_end(&w);
	req_reply_json(r, 200, &w);
}
