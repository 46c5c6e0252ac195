/*
 * api_catalog_write.c — PUT /v1/catalog/register and
 * /v1/catalog/deregister: the JSON body decoded into MSG_CATALOG_REGISTER
 * or MSG_CATALOG_DEREGISTER for raftd; the answer is `true`.
 *
 * Key decisions: bodies are parsed with jansson (this file is its home in
 * httpd, apart from the JSON writer json.h whose names clash) and
 * matched to Consul's field names ignoring case and underscores, as Go's
 * decoder plus Consul's snake_case aliases accept them (spec §1.2);
 * durations of a check Definition are Go duration strings or integer
 * nanoseconds. A missing Weights is {1, 1}. Writes carry httpd's client
 * id and a fresh seq like KV writes. Reference: Consul
 * agent/catalog_endpoint.go CatalogRegister/CatalogDeregister; spec §2.2.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_catalog.h"
#include "config.h"
#include "err.h"
#include "httpd.h"
#include "proto.h"
#include "query.h"
#include "req.h"
#include "rpc.h"

/* ---- writes: JSON bodies ---- */

/* Field names match ignoring case and '_' (Go decoding plus aliases). */
static bool
api_key_eq(const char *k, const char *want)
{
	for (;;) {
		while (*k == '_')
			k++;
		if (*k == '\0' || *want == '\0')
			return *k == *want;
		if (tolower((unsigned char)*k) != tolower((unsigned char)*want))
			return false;
		k++;
		want++;
	}
}

static json_t *
jget(json_t *o, const char *name)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return NULL;
	json_object_foreach(o, k, v)
		if (api_key_eq(k, name))
			return json_is_null(v) ? NULL : v;
	return NULL;
}

/* Decoding state: the first type error wins, arrays in the arena. */
struct dec {
	struct proto_arena *a;
	char err[256];
};

static void
dec_type(struct dec *d, const char *field, const char *want)
{
	if (d->err[0] == '\0')
		snprintf(d->err, sizeof(d->err), "json: cannot unmarshal into "
		    "Go struct field %s of type %s", field, want);
}

static void
dec_str(struct dec *d, json_t *o, const char *name, struct proto_str *out)
{
	json_t *v = jget(o, name);

	if (v == NULL)
		return;
	if (!json_is_string(v)) {
		dec_type(d, name, "string");
		return;
	}
	out->ptr = json_string_value(v);
	out->len = (uint32_t)json_string_length(v);
}

static void
dec_bool(struct dec *d, json_t *o, const char *name, bool *out)
{
	json_t *v = jget(o, name);

	if (v == NULL)
		return;
	if (!json_is_boolean(v)) {
		dec_type(d, name, "bool");
		return;
	}
	*out = json_is_true(v);
}

static void
dec_u32(struct dec *d, json_t *o, const char *name, uint32_t *out)
{
	json_t *v = jget(o, name);

	if (v == NULL)
		return;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 65535 * 16384LL) {
		dec_type(d, name, "int");
		return;
	}
	*out = (uint32_t)json_integer_value(v);
}

/* A Go duration string or an integer of nanoseconds. */
static void
dec_dur(struct dec *d, json_t *o, const char *name, uint64_t *out)
{
	json_t *v = jget(o, name);
	int64_t ns;

	if (v == NULL)
		return;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return;
	}
	if (json_is_string(v) && (json_string_length(v) == 0 ||
	    (query_parse_duration(json_string_value(v), &ns) == 0 &&
	    ns >= 0))) {
		*out = json_string_length(v) ? (uint64_t)ns : 0;
		return;
	}
	if (d->err[0] == '\0')
		snprintf(d->err, sizeof(d->err), "time: invalid duration for "
		    "%s", name);
}

static void
dec_strarr(struct dec *d, json_t *o, const char *name,
    struct proto_str_array *out)
{
	json_t *v = jget(o, name), *e;
	size_t i;

	if (v == NULL)
		return;
	if (!json_is_array(v)) {
		dec_type(d, name, "[]string");
		return;
	}
	if (json_array_size(v) == 0)
		return;
	if ((out->v = proto_arena_alloc(d->a, json_array_size(v) *
	    sizeof(*out->v))) == NULL) {
		snprintf(d->err, sizeof(d->err), "out of memory");
		return;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			dec_type(d, name, "[]string");
			return;
		}
		out->v[out->n].ptr = json_string_value(e);
		out->v[out->n].len = (uint32_t)json_string_length(e);
		out->n++;
	}
}

static void
dec_strmap(struct dec *d, json_t *o, const char *name,
    struct proto_strmap *out)
{
	json_t *v = jget(o, name), *e;
	const char *k;
	size_t n;

	if (v == NULL)
		return;
	if (!json_is_object(v)) {
		dec_type(d, name, "map[string]string");
		return;
	}
	if ((n = json_object_size(v)) == 0)
		return;
	out->keys = proto_arena_alloc(d->a, n * sizeof(*out->keys));
	out->vals = proto_arena_alloc(d->a, n * sizeof(*out->vals));
	if (out->keys == NULL || out->vals == NULL) {
		snprintf(d->err, sizeof(d->err), "out of memory");
		return;
	}
	json_object_foreach(v, k, e) {
		if (!json_is_string(e)) {
			dec_type(d, name, "map[string]string");
			return;
		}
		out->keys[out->n] = proto_str_c(k);
		out->vals[out->n].ptr = json_string_value(e);
		out->vals[out->n].len = (uint32_t)json_string_length(e);
		out->n++;
	}
}

static void
dec_service(struct dec *d, json_t *o, struct proto_cat_service *s)
{
	json_t *ta, *wt, *e;
	const char *k;

	if (!json_is_object(o)) {
		dec_type(d, "Service", "structs.NodeService");
		return;
	}
	dec_str(d, o, "Kind", &s->kind);
	dec_str(d, o, "ID", &s->id);
	dec_str(d, o, "Service", &s->service);
	dec_strarr(d, o, "Tags", &s->tags);
	dec_str(d, o, "Address", &s->address);
	dec_strmap(d, o, "Meta", &s->meta);
	dec_u32(d, o, "Port", &s->port);
	dec_bool(d, o, "EnableTagOverride", &s->enable_tag_override);
	s->weight_passing = s->weight_warning = 1;
	if ((wt = jget(o, "Weights")) != NULL) {
		s->weight_passing = 0;
		s->weight_warning = 0;
		dec_u32(d, wt, "Passing", &s->weight_passing);
		dec_u32(d, wt, "Warning", &s->weight_warning);
	}
	if ((ta = jget(o, "TaggedAddresses")) != NULL) {
		size_t n = json_is_object(ta) ? json_object_size(ta) : 0;

		if (!json_is_object(ta)) {
			dec_type(d, "TaggedAddresses",
			    "map[string]structs.ServiceAddress");
			return;
		}
		if (n > 0 && (s->tagged_addresses = proto_arena_alloc(d->a,
		    n * sizeof(*s->tagged_addresses))) == NULL) {
			snprintf(d->err, sizeof(d->err), "out of memory");
			return;
		}
		json_object_foreach(ta, k, e) {
			struct proto_cat_addr *a =
			    &s->tagged_addresses[s->n_tagged_addresses++];

			a->key = proto_str_c(k);
			dec_str(d, e, "Address", &a->address);
			dec_u32(d, e, "Port", &a->port);
		}
	}
}

static void
dec_check(struct dec *d, json_t *o, struct proto_cat_check *c)
{
	json_t *def;

	if (!json_is_object(o)) {
		dec_type(d, "Check", "structs.HealthCheck");
		return;
	}
	dec_str(d, o, "Node", &c->node);
	dec_str(d, o, "CheckID", &c->check_id);
	dec_str(d, o, "Name", &c->name);
	dec_str(d, o, "Status", &c->status);
	dec_str(d, o, "Notes", &c->notes);
	dec_str(d, o, "Output", &c->output);
	dec_str(d, o, "ServiceID", &c->service_id);
	dec_str(d, o, "Type", &c->type);
	dec_str(d, o, "Interval", &c->interval);
	dec_str(d, o, "Timeout", &c->timeout);
	if ((def = jget(o, "Definition")) != NULL) {
		dec_str(d, def, "HTTP", &c->def_http);
		dec_str(d, def, "Method", &c->def_method);
		dec_str(d, def, "Body", &c->def_body);
		dec_str(d, def, "TCP", &c->def_tcp);
		dec_str(d, def, "TLSServerName", &c->def_tls_server_name);
		dec_bool(d, def, "TLSSkipVerify", &c->def_tls_skip_verify);
		dec_dur(d, def, "Interval", &c->def_interval_ns);
		dec_dur(d, def, "Timeout", &c->def_timeout_ns);
		dec_dur(d, def, "DeregisterCriticalServiceAfter",
		    &c->def_deregister_ns);
	}
}

/* Parses the body; answers 400 and returns NULL on a decode error. */
static json_t *
api_catalog_body(struct req *r)
{
	json_error_t e;
	json_t *root;

	root = json_loadb(r->body ? r->body : "", r->body_len,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (root == NULL) {
		req_reply_text(r, 400, "Request decode failed: %s", r->body_len
		    ? e.text : "EOF");
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		req_reply_text(r, 400, "Request decode failed: json: cannot "
		    "unmarshal into Go value of type structs.RegisterRequest");
		return NULL;
	}
	return root;
}

static void
api_catalog_written(struct req *r, const void *body)
{
	(void)body;
	api_reply_bool(r, true);
}

void
api_catalog_register(struct httpd *h, struct req *r)
{
	struct msg_catalog_register m;
	struct proto_cat_service svc;
	struct proto_arena a;
	struct dec d;
	json_t *root, *v, *e;
	size_t i, n = 0;

	if (!api_parse_opts(h, r) || (root = api_catalog_body(r)) == NULL)
		return;
	proto_arena_init(&a);
	memset(&d, 0, sizeof(d));
	d.a = &a;
	memset(&m, 0, sizeof(m));
	memset(&svc, 0, sizeof(svc));
	dec_str(&d, root, "ID", &m.node.id);
	dec_str(&d, root, "Node", &m.node.node);
	dec_str(&d, root, "Address", &m.node.address);
	dec_str(&d, root, "Datacenter", &m.node.datacenter);
	dec_strmap(&d, root, "TaggedAddresses", &m.node.tagged_addresses);
	dec_strmap(&d, root, "NodeMeta", &m.node.meta);
	dec_bool(&d, root, "SkipNodeUpdate", &m.skip_node_update);
	if ((v = jget(root, "Service")) != NULL) {
		dec_service(&d, v, &svc);
		m.services = &svc;
		m.n_services = 1;
	}
	if (jget(root, "Check") != NULL)
		n++;
	if ((v = jget(root, "Checks")) != NULL) {
		if (!json_is_array(v))
			dec_type(&d, "Checks", "structs.HealthChecks");
		else
			n += json_array_size(v);
	}
	if (n > 0 && (m.checks = proto_arena_alloc(&a, n *
	    sizeof(*m.checks))) == NULL)
		snprintf(d.err, sizeof(d.err), "out of memory");
	if (m.checks != NULL) {
		if ((e = jget(root, "Check")) != NULL)
			dec_check(&d, e, &m.checks[m.n_checks++]);
		if (v != NULL && json_is_array(v))
			json_array_foreach(v, i, e)
				dec_check(&d, e, &m.checks[m.n_checks++]);
	}
	if (d.err[0] != '\0')
		req_reply_text(r, 400, "Request decode failed: %s", d.err);
	else if (m.node.node.len == 0)
		req_reply_text(r, 400, "Missing node name");
	else if (m.node.address.len == 0 && !m.skip_node_update)
		req_reply_text(r, 400, "Missing node address");
	else {
		if (m.node.datacenter.len == 0)
			m.node.datacenter = proto_str_c(h->cfg->datacenter);
		m.client_id = h->client_id;
		m.seq = ++h->seq;
		rpc_raftd(h, r, MSG_CATALOG_REGISTER, &m, rpc_write_timeout(h),
		    MSG_CATALOG_WRITE_RESULT, api_catalog_written);
	}
	proto_arena_free(&a);
	json_decref(root);
}

void
api_catalog_deregister(struct httpd *h, struct req *r)
{
	struct msg_catalog_deregister m;
	struct dec d;
	json_t *root;

	if (!api_parse_opts(h, r) || (root = api_catalog_body(r)) == NULL)
		return;
	memset(&d, 0, sizeof(d));
	memset(&m, 0, sizeof(m));
	dec_str(&d, root, "Node", &m.node);
	dec_str(&d, root, "ServiceID", &m.service_id);
	dec_str(&d, root, "CheckID", &m.check_id);
	if (d.err[0] != '\0')
		req_reply_text(r, 400, "Request decode failed: %s", d.err);
	else if (m.node.len == 0)
		req_reply_text(r, 400, "Missing node name");
	else {
		m.client_id = h->client_id;
		m.seq = ++h->seq;
		rpc_raftd(h, r, MSG_CATALOG_DEREGISTER, &m,
		    rpc_write_timeout(h), MSG_CATALOG_WRITE_RESULT,
		    api_catalog_written);
	}
	json_decref(root);
}

/* ---- the records of /v1/txn's Node, Service and Check operations ---- */

static int
api_catalog_dec_done(struct dec *d, char *err, size_t size)
{
	if (d->err[0] == '\0')
		return 0;
	snprintf(err, size, "%s", d->err);
	return ERR_INVAL;
}

int
api_catalog_dec_node(void *json, struct proto_arena *a,
    struct proto_cat_node *n, char *err, size_t size)
{
	struct dec d;
	json_t *o = json;

	memset(&d, 0, sizeof(d));
	d.a = a;
	if (!json_is_object(o))
		dec_type(&d, "Node", "structs.Node");
	dec_str(&d, o, "ID", &n->id);
	dec_str(&d, o, "Node", &n->node);
	dec_str(&d, o, "Address", &n->address);
	dec_str(&d, o, "Datacenter", &n->datacenter);
	dec_strmap(&d, o, "TaggedAddresses", &n->tagged_addresses);
	dec_strmap(&d, o, "Meta", &n->meta);
	return api_catalog_dec_done(&d, err, size);
}

int
api_catalog_dec_service(void *json, struct proto_arena *a,
    struct proto_cat_service *s, char *err, size_t size)
{
	struct dec d;

	memset(&d, 0, sizeof(d));
	d.a = a;
	dec_service(&d, json, s);
	return api_catalog_dec_done(&d, err, size);
}

int
api_catalog_dec_check(void *json, struct proto_arena *a,
    struct proto_cat_check *c, char *err, size_t size)
{
	struct dec d;

	memset(&d, 0, sizeof(d));
	d.a = a;
	dec_check(&d, json, c);
	return api_catalog_dec_done(&d, err, size);
}
