/*
 * render.c — checkd's JSON out: AgentService, HealthCheck, the
 * /v1/agent/health/service objects, and the persisted form of services
 * and checks (which defn.c reads back).
 *
 * Key decision: field order follows Consul's Go structs and map keys are
 * sorted (encoding/json), so replies diff cleanly against Consul's; empty
 * Tags/ServiceTags are [] and empty Meta is {} (spec §16 item 10).
 * Reference: spec/consul-api.md §2.0 (AgentService, HealthCheck), §2.1.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "checkd.h"
#include "config.h"

#define JSET(o, k, v) json_object_set_new((o), (k), (v))

/*
 * A JSON string of s, whose bytes may not be UTF-8 (script and HTTP
 * output): invalid bytes become U+FFFD, as Go's encoding/json does.
 */
static json_t *
render_text(const char *s)
{
	json_t *j = json_string(s);
	const unsigned char *p = (const unsigned char *)s;
	char *t, *q;

	if (j != NULL || s == NULL)
		return j;
	if ((t = malloc(strlen(s) * 3 + 1)) == NULL)
		return json_string("");
	for (q = t; *p != '\0';) {
		size_t n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 :
		    (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
		size_t i;
		bool ok = n > 0;

		for (i = 1; ok && i < n; i++)
			ok = (p[i] & 0xc0) == 0x80;
		if (ok && (j = json_stringn(s + (p - (const unsigned char *)s),
		    n)) != NULL) {
			json_decref(j);
			memcpy(q, p, n);
			q += n;
			p += n;
		} else {
			memcpy(q, "\xef\xbf\xbd", 3);
			q += 3;
			p++;
		}
	}
	*q = '\0';
	j = json_string(t);
	free(t);
	return j != NULL ? j : json_string("");
}

static size_t
render_flags(bool pretty)
{
	return JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(4) : JSON_COMPACT);
}

static char *
render_dump(json_t *j, bool pretty)
{
	char *s = j != NULL ? json_dumps(j, render_flags(pretty) |
	    JSON_ENCODE_ANY) : NULL;

	json_decref(j);
	return s;
}

static json_t *
render_strarr(char **v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static int
kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->k, ((const struct kv *)b)->k);
}

static json_t *
render_meta(const struct kv *m, size_t n)
{
	json_t *o = json_object();
	struct kv *s;
	size_t i;

	if (o == NULL || n == 0)
		return o;
	if ((s = malloc(n * sizeof(*s))) == NULL)
		return o;
	memcpy(s, m, n * sizeof(*s));
	qsort(s, n, sizeof(*s), kv_cmp);
	for (i = 0; i < n; i++)
		JSET(o, s[i].k, json_string(s[i].v));
	free(s);
	return o;
}

const char *
render_check_type(int type)
{
	static const char *const names[] = { "", "ttl", "http", "tcp", "udp",
		"script", "alias", "grpc" };

	return type >= 0 && type <= CT_GRPC ? names[type] : "";
}

static json_t *
render_svc_obj(const struct checkd *cd, const struct svc *s)
{
	json_t *o = json_object(), *t, *w;
	size_t i;

	if (*s->kind != '\0')
		JSET(o, "Kind", json_string(s->kind));
	JSET(o, "ID", json_string(s->id));
	JSET(o, "Service", json_string(s->name));
	JSET(o, "Tags", render_strarr(s->tags, s->n_tags));
	JSET(o, "Meta", render_meta(s->meta, s->n_meta));
	JSET(o, "Port", json_integer(s->port));
	JSET(o, "Address", json_string(s->address));
	if (s->n_taddrs > 0) {
		t = json_object();
		for (i = 0; i < s->n_taddrs; i++) {
			json_t *a = json_object();
			JSET(a, "Address", json_string(s->taddrs[i].address));
			JSET(a, "Port", json_integer(s->taddrs[i].port));
			JSET(t, s->taddrs[i].key, a);
		}
		JSET(o, "TaggedAddresses", t);
	}
	w = json_object();
	JSET(w, "Passing", json_integer(s->weight_passing));
	JSET(w, "Warning", json_integer(s->weight_warning));
	JSET(o, "Weights", w);
	JSET(o, "EnableTagOverride", json_boolean(s->enable_tag_override));
	if (cd != NULL)
		JSET(o, "Datacenter", json_string(cd->cfg->datacenter));
	return o;
}

static json_t *
render_dur(uint64_t ms)
{
	char buf[64];

	go_duration(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
render_chk_obj(const struct checkd *cd, const struct chk *c)
{
	json_t *o = json_object(), *d, *h;
	const struct svc *s = local_svc(cd, c->service_id);
	size_t i;

	JSET(o, "Node", json_string(cd->cfg->node_name));
	JSET(o, "CheckID", json_string(c->id));
	JSET(o, "Name", json_string(c->name));
	JSET(o, "Status", json_string(check_status_str(c->status)));
	JSET(o, "Notes", render_text(c->notes));
	JSET(o, "Output", render_text(c->output ? c->output : ""));
	JSET(o, "ServiceID", json_string(c->service_id));
	JSET(o, "ServiceName", json_string(s ? s->name : ""));
	JSET(o, "ServiceTags", s ? render_strarr(s->tags, s->n_tags) :
	    json_array());
	JSET(o, "Type", json_string(render_check_type(c->type)));
	JSET(o, "Interval", json_string(""));
	JSET(o, "Timeout", json_string(""));
	if (c->interval_ms > 0)
		JSET(o, "Interval", render_dur(c->interval_ms));
	if (c->type != CT_TTL && c->type != CT_NONE && c->type != CT_ALIAS)
		JSET(o, "Timeout", render_dur(c->timeout_ms));
	JSET(o, "ExposedPort", json_integer(0));
	d = json_object();
	JSET(d, "Interval", render_dur(c->interval_ms));
	JSET(d, "Timeout", render_dur(c->type == CT_TTL ||
	    c->type == CT_NONE ? 0 : c->timeout_ms));
	JSET(d, "DeregisterCriticalServiceAfter",
	    render_dur(c->deregister_ms));
	JSET(d, "HTTP", json_string(c->http));
	if (c->n_headers == 0) {
		JSET(d, "Header", json_null());
	} else {
		h = json_object();
		for (i = 0; i < c->n_headers; i++) {
			json_t *a = json_object_get(h, c->headers[i].k);
			if (a == NULL) {
				a = json_array();
				JSET(h, c->headers[i].k, a);
			}
			json_array_append_new(a,
			    json_string(c->headers[i].v));
		}
		JSET(d, "Header", h);
	}
	JSET(d, "Method", json_string(*c->http ? c->method : ""));
	JSET(d, "Body", json_string(c->body));
	JSET(d, "TLSServerName", json_string(c->tls_server_name));
	JSET(d, "TLSSkipVerify", json_boolean(c->tls_skip_verify));
	JSET(d, "TCP", json_string(c->tcp));
	JSET(d, "UDP", json_string(c->udp));
	JSET(o, "Definition", d);
	JSET(o, "CreateIndex", json_integer(0));
	JSET(o, "ModifyIndex", json_integer(0));
	return o;
}

static int
svcp_cmp(const void *a, const void *b)
{
	return strcmp((*(struct svc *const *)a)->id,
	    (*(struct svc *const *)b)->id);
}

static int
chkp_cmp(const void *a, const void *b)
{
	return strcmp((*(struct chk *const *)a)->id,
	    (*(struct chk *const *)b)->id);
}

char *
render_services(const struct checkd *cd, bool pretty)
{
	json_t *o = json_object();
	struct svc *s, **v;
	size_t n = 0, i;

	for (s = cd->svcs; s != NULL; s = s->next)
		n++;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		json_decref(o);
		return NULL;
	}
	for (n = 0, s = cd->svcs; s != NULL; s = s->next)
		v[n++] = s;
	qsort(v, n, sizeof(*v), svcp_cmp);
	for (i = 0; i < n; i++)
		JSET(o, v[i]->id, render_svc_obj(cd, v[i]));
	free(v);
	return render_dump(o, pretty);
}

char *
render_service(const struct checkd *cd, const struct svc *s, bool pretty)
{
	return render_dump(render_svc_obj(cd, s), pretty);
}

/* Checks sorted by ID; service_id non-NULL: that service's and node's. */
static json_t *
render_chk_list(const struct checkd *cd, const char *service_id,
    bool as_map)
{
	json_t *o = as_map ? json_object() : json_array();
	struct chk *c, **v;
	size_t n = 0, i;
	int pass;

	if (service_id == NULL) {
		for (c = cd->chks; c != NULL; c = c->next)
			n++;
	} else {
		for (pass = 0; pass < 2; pass++)
			for (c = local_svc_chk(cd, pass ? "" : service_id);
			    c != NULL; c = local_svc_chk_next(c))
				n++;
	}
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return o;
	if (service_id == NULL) {
		for (n = 0, c = cd->chks; c != NULL; c = c->next)
			v[n++] = c;
	} else {
		/* the node's checks once, even for the service "" */
		n = 0;
		for (pass = *service_id == '\0' ? 1 : 0; pass < 2; pass++)
			for (c = local_svc_chk(cd, pass ? "" : service_id);
			    c != NULL; c = local_svc_chk_next(c))
				v[n++] = c;
	}
	qsort(v, n, sizeof(*v), chkp_cmp);
	for (i = 0; i < n; i++) {
		if (as_map)
			JSET(o, v[i]->id, render_chk_obj(cd, v[i]));
		else
			json_array_append_new(o, render_chk_obj(cd, v[i]));
	}
	free(v);
	return o;
}

char *
render_checks(const struct checkd *cd, bool pretty)
{
	return render_dump(render_chk_list(cd, NULL, true), pretty);
}

static json_t *
render_health_obj(const struct checkd *cd, const struct svc *s,
    const char *agg)
{
	json_t *o = json_object();

	JSET(o, "AggregatedStatus", json_string(agg));
	JSET(o, "Service", render_svc_obj(cd, s));
	JSET(o, "Checks", render_chk_list(cd, s->id, false));
	return o;
}

char *
render_health(const struct checkd *cd, const struct svc *s, const char *agg,
    bool pretty)
{
	return render_dump(render_health_obj(cd, s, agg), pretty);
}

char *
render_health_list(const struct checkd *cd, struct svc **svcs,
    const char **aggs, size_t n, bool pretty)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, render_health_obj(cd, svcs[i],
		    aggs[i]));
	return render_dump(a, pretty);
}

char *
render_persist_service(const struct svc *s)
{
	json_t *o = render_svc_obj(NULL, s);

	/* the definition form: Name, not Service */
	JSET(o, "Name", json_string(s->name));
	json_object_del(o, "Service");
	return render_dump(o, false);
}

char *
render_persist_check(const struct chk *c, uint64_t ttl_wall_ms)
{
	json_t *o = json_object(), *h, *a;
	size_t i;

	JSET(o, "CheckID", json_string(c->id));
	JSET(o, "Name", json_string(c->name));
	JSET(o, "Notes", render_text(c->notes));
	JSET(o, "ServiceID", json_string(c->service_id));
	JSET(o, "Status", json_string(check_status_str(c->status)));
	JSET(o, "Output", render_text(c->output ? c->output : ""));
	if (c->interval_ms)
		JSET(o, "Interval", render_dur(c->interval_ms));
	if (c->timeout_ms)
		JSET(o, "Timeout", render_dur(c->timeout_ms));
	if (c->ttl_ms)
		JSET(o, "TTL", render_dur(c->ttl_ms));
	if (c->deregister_ms)
		JSET(o, "DeregisterCriticalServiceAfter",
		    render_dur(c->deregister_ms));
	JSET(o, "HTTP", json_string(c->http));
	JSET(o, "Method", json_string(c->method ? c->method : ""));
	JSET(o, "Body", json_string(c->body));
	JSET(o, "TLSServerName", json_string(c->tls_server_name));
	JSET(o, "TLSSkipVerify", json_boolean(c->tls_skip_verify));
	JSET(o, "DisableRedirects", json_boolean(c->disable_redirects));
	if (c->n_headers > 0) {
		h = json_object();
		for (i = 0; i < c->n_headers; i++) {
			if ((a = json_object_get(h, c->headers[i].k)) ==
			    NULL) {
				a = json_array();
				JSET(h, c->headers[i].k, a);
			}
			json_array_append_new(a,
			    json_string(c->headers[i].v));
		}
		JSET(o, "Header", h);
	}
	JSET(o, "TCP", json_string(c->tcp));
	JSET(o, "UDP", json_string(c->udp));
	JSET(o, "AliasService", json_string(c->alias_service));
	JSET(o, "GRPC", json_string(c->grpc ? c->grpc : ""));
	JSET(o, "GRPCUseTLS", json_boolean(c->grpc_use_tls));
	if (c->n_args > 0)
		JSET(o, "Args", render_strarr(c->args, c->n_args));
	JSET(o, "SuccessBeforePassing",
	    json_integer(c->lim.success_before_passing));
	JSET(o, "FailuresBeforeWarning",
	    json_integer(c->lim.failures_before_warning));
	JSET(o, "FailuresBeforeCritical",
	    json_integer(c->lim.failures_before_critical));
	if (c->maint)
		JSET(o, "Maintenance", json_true());
	JSET(o, "TTLDeadlineUnixMs", json_integer((json_int_t)ttl_wall_ms));
	return render_dump(o, false);
}
