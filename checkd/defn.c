/*
 * defn.c — decoding of service and check definitions from JSON: the
 * agent API bodies and the services[]/checks[] of the configuration.
 *
 * Key decision: keys are matched the way Go's encoding/json plus
 * Consul's snake_case aliases do, by one rule: ASCII case is ignored and
 * so are underscores ("service_id" = "ServiceID" = "serviceid"). Durations
 * are Go strings or integer nanoseconds. Check IDs are generated as
 * Consul does: "service:<id>" for a lone check, "service:<id>:<n>"
 * (1-based, Check first then Checks) otherwise. Reference:
 * spec/consul-api.md §1.2, §2.1 (check ID generation), §3.1; Consul
 * agent/structs/check_type.go Validate(). jansson is included here and in
 * render.c only.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkd.h"
#include "config.h"
#include "err.h"
#include "log.h"

#define MUST_PROVIDE "Must provide TTL or Script/DockerContainerID/HTTP/" \
	"TCP/UDP/H2PING/GRPC/AliasService and Interval"

static char *
xstrdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* Key equality ignoring ASCII case and underscores. */
static bool
defn_key_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a == '_')
			a++;
		while (*b == '_')
			b++;
		if (*a == '\0' || *b == '\0')
			return *a == *b;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
		a++;
		b++;
	}
}

/* The member of o named like key (see above); NULL when absent/null. */
static json_t *
defn_get(json_t *o, const char *key)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return NULL;
	json_object_foreach(o, k, v) {
		if (defn_key_eq(k, key))
			return json_is_null(v) ? NULL : v;
	}
	return NULL;
}

struct derr {
	char *buf;
	size_t len;
	int status;
	bool set;
};

static int
derr_set(struct derr *e, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
derr_set(struct derr *e, int status, const char *fmt, ...)
{
	va_list ap;

	if (!e->set) {
		va_start(ap, fmt);
		vsnprintf(e->buf, e->len, fmt, ap);
		va_end(ap);
		e->status = status;
		e->set = true;
	}
	return ERR_INVAL;
}

static int
get_str(json_t *o, const char *key, char **out, struct derr *e)
{
	json_t *v = defn_get(o, key);

	free(*out);
	*out = NULL;
	if (v != NULL && !json_is_string(v))
		return derr_set(e, 400, "Request decode failed: %s: "
		    "expected a string", key);
	if ((*out = xstrdup(v ? json_string_value(v) : "")) == NULL)
		return ERR_NOMEM;
	return 0;
}

static int
get_bool(json_t *o, const char *key, bool *out, struct derr *e)
{
	json_t *v = defn_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return derr_set(e, 400, "Request decode failed: %s: "
		    "expected a bool", key);
	*out = json_is_true(v);
	return 0;
}

static int
get_u32(json_t *o, const char *key, uint32_t *out, struct derr *e)
{
	json_t *v = defn_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > (json_int_t)UINT32_MAX)
		return derr_set(e, 400, "Request decode failed: %s: "
		    "expected an unsigned integer", key);
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

/* A duration: Go string or integer nanoseconds; result in ms. */
static int
get_dur(json_t *o, const char *key, uint64_t *ms, struct derr *e)
{
	json_t *v = defn_get(o, key);
	uint64_t ns = 0;

	if (v == NULL)
		return 0;
	if (json_is_string(v)) {
		if (*json_string_value(v) != '\0' &&
		    config_duration_parse(json_string_value(v), &ns) != 0)
			return derr_set(e, 400, "Request decode failed: %s: "
			    "time: invalid duration \"%s\"", key,
			    json_string_value(v));
	} else if (json_is_integer(v) && json_integer_value(v) >= 0) {
		ns = (uint64_t)json_integer_value(v);
	} else {
		return derr_set(e, 400, "Request decode failed: %s: "
		    "expected a duration", key);
	}
	*ms = ns / 1000000u;
	if (ns > 0 && *ms == 0)
		*ms = 1;
	return 0;
}

static int
get_strarr(json_t *o, const char *key, char ***out, size_t *n,
    struct derr *e)
{
	json_t *v = defn_get(o, key), *x;
	size_t i;

	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return derr_set(e, 400, "Request decode failed: %s: "
		    "expected an array of strings", key);
	if ((*out = calloc(json_array_size(v) + 1, sizeof(char *))) == NULL)
		return ERR_NOMEM;
	json_array_foreach(v, i, x) {
		if (!json_is_string(x))
			return derr_set(e, 400, "Request decode failed: %s: "
			    "expected an array of strings", key);
		if (((*out)[i] = strdup(json_string_value(x))) == NULL)
			return ERR_NOMEM;
		*n = i + 1;
	}
	return 0;
}

static int
get_meta(json_t *o, const char *key, struct kv **out, size_t *n,
    struct derr *e)
{
	json_t *v = defn_get(o, key), *x;
	const char *k;

	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return derr_set(e, 400, "Request decode failed: %s: "
		    "expected an object", key);
	if ((*out = calloc(json_object_size(v) + 1, sizeof(**out))) == NULL)
		return ERR_NOMEM;
	json_object_foreach(v, k, x) {
		if (!json_is_string(x))
			return derr_set(e, 400, "Request decode failed: %s: "
			    "values must be strings", key);
		(*out)[*n].k = strdup(k);
		(*out)[*n].v = strdup(json_string_value(x));
		(*n)++;
		if ((*out)[*n - 1].k == NULL || (*out)[*n - 1].v == NULL)
			return ERR_NOMEM;
	}
	return 0;
}

/* Header: map[string][]string (a plain string value is accepted too). */
static int
get_headers(json_t *o, struct chk *c, struct derr *e)
{
	json_t *v = defn_get(o, "Header"), *x, *y;
	const char *k;
	size_t cap = 0, i;

	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return derr_set(e, 400, "Request decode failed: Header: "
		    "expected an object");
	json_object_foreach(v, k, x)
		cap += json_is_array(x) ? json_array_size(x) : 1;
	if ((c->headers = calloc(cap + 1, sizeof(*c->headers))) == NULL)
		return ERR_NOMEM;
	json_object_foreach(v, k, x) {
		if (json_is_string(x)) {
			c->headers[c->n_headers].k = strdup(k);
			c->headers[c->n_headers++].v =
			    strdup(json_string_value(x));
			continue;
		}
		if (!json_is_array(x))
			return derr_set(e, 400, "Request decode failed: "
			    "Header: expected map of string arrays");
		json_array_foreach(x, i, y) {
			if (!json_is_string(y))
				return derr_set(e, 400, "Request decode "
				    "failed: Header: expected strings");
			c->headers[c->n_headers].k = strdup(k);
			c->headers[c->n_headers++].v =
			    strdup(json_string_value(y));
		}
	}
	return 0;
}

void
chk_free(struct chk *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->id);
	free(c->name);
	free(c->notes);
	free(c->service_id);
	free(c->output);
	free(c->http);
	free(c->method);
	free(c->body);
	free(c->tls_server_name);
	for (i = 0; i < c->n_headers; i++) {
		free(c->headers[i].k);
		free(c->headers[i].v);
	}
	free(c->headers);
	free(c->tcp);
	free(c->udp);
	free(c->alias_service);
	free(c->grpc);
	for (i = 0; c->args != NULL && c->args[i] != NULL; i++)
		free(c->args[i]);
	free(c->args);
	free(c);
}

void
svc_free(struct svc *s)
{
	size_t i;

	if (s == NULL)
		return;
	free(s->id);
	free(s->name);
	free(s->kind);
	for (i = 0; i < s->n_tags; i++)
		free(s->tags[i]);
	free(s->tags);
	free(s->address);
	for (i = 0; i < s->n_meta; i++) {
		free(s->meta[i].k);
		free(s->meta[i].v);
	}
	free(s->meta);
	for (i = 0; i < s->n_taddrs; i++) {
		free(s->taddrs[i].key);
		free(s->taddrs[i].address);
	}
	free(s->taddrs);
	free(s);
}

void
defn_svc_def_free(struct svc_def *d)
{
	struct chk *c, *n;

	svc_free(d->svc);
	for (c = d->checks; c != NULL; c = n) {
		n = c->next;
		chk_free(c);
	}
	d->svc = NULL;
	d->checks = NULL;
}

const char *
check_status_str(int status)
{
	switch (status) {
	case CHECK_PASSING:
		return "passing";
	case CHECK_WARNING:
		return "warning";
	default:
		return "critical";
	}
}

int
check_status_parse(const char *s)
{
	if (strcmp(s, "passing") == 0)
		return CHECK_PASSING;
	if (strcmp(s, "warning") == 0)
		return CHECK_WARNING;
	if (strcmp(s, "critical") == 0)
		return CHECK_CRITICAL;
	return -1;
}

void
go_duration(uint64_t ms, char *buf, size_t size)
{
	uint64_t h = ms / 3600000u, m = ms / 60000u % 60u;
	uint64_t s = ms / 1000u % 60u, frac = ms % 1000u;
	char sec[32];
	size_t off = 0;

	if (ms == 0) {
		snprintf(buf, size, "0s");
		return;
	}
	if (ms < 1000) {
		snprintf(buf, size, "%" PRIu64 "ms", ms);
		return;
	}
	if (frac != 0) {
		int n = snprintf(sec, sizeof(sec), "%" PRIu64 ".%03" PRIu64,
		    s, frac);
		while (n > 0 && sec[n - 1] == '0')
			sec[--n] = '\0';
	} else {
		snprintf(sec, sizeof(sec), "%" PRIu64, s);
	}
	buf[0] = '\0';
	if (h > 0)
		off += (size_t)snprintf(buf + off, size - off, "%" PRIu64 "h",
		    h);
	if (h > 0 || m > 0)
		off += (size_t)snprintf(buf + off, off < size ? size - off : 0,
		    "%" PRIu64 "m", m);
	if (off < size)
		snprintf(buf + off, size - off, "%ss", sec);
}

char *
check_output_cap(char *s)
{
	size_t total;
	char *t;

	if (s == NULL || (total = strlen(s)) <= CHECK_OUTPUT_MAX)
		return s;
	if (asprintf(&t, "%.*s ... (captured %d of %zu bytes)",
	    CHECK_OUTPUT_MAX, s, CHECK_OUTPUT_MAX, total) < 0)
		t = NULL;
	if (t == NULL) {
		s[CHECK_OUTPUT_MAX] = '\0';
		return s;
	}
	free(s);
	return t;
}

/* Fields that only decide the type or the status, not kept as they are. */
struct check_extra {
	char *status, *script, *grpc, *h2, *docker;
};

static void
check_extra_free(struct check_extra *x)
{
	free(x->status);
	free(x->script);
	free(x->grpc);
	free(x->h2);
	free(x->docker);
}

/* Decodes the fields every check definition shares into c and x. */
static int
defn_check_fields(json_t *o, struct chk *c, struct check_extra *x,
    struct derr *e)
{
	size_t nargs = 0;
	int rc = 0;

	rc |= get_str(o, "CheckID", &c->id, e);
	if (rc == 0 && *c->id == '\0')
		rc |= get_str(o, "ID", &c->id, e);
	rc |= get_str(o, "Name", &c->name, e);
	rc |= get_str(o, "Notes", &c->notes, e);
	rc |= get_str(o, "ServiceID", &c->service_id, e);
	rc |= get_str(o, "Status", &x->status, e);
	rc |= get_str(o, "Output", &c->output, e);
	rc |= get_dur(o, "Interval", &c->interval_ms, e);
	rc |= get_dur(o, "Timeout", &c->timeout_ms, e);
	rc |= get_dur(o, "TTL", &c->ttl_ms, e);
	rc |= get_dur(o, "DeregisterCriticalServiceAfter", &c->deregister_ms,
	    e);
	rc |= get_str(o, "HTTP", &c->http, e);
	rc |= get_str(o, "Method", &c->method, e);
	rc |= get_str(o, "Body", &c->body, e);
	rc |= get_str(o, "TLSServerName", &c->tls_server_name, e);
	rc |= get_bool(o, "TLSSkipVerify", &c->tls_skip_verify, e);
	rc |= get_bool(o, "DisableRedirects", &c->disable_redirects, e);
	rc |= get_headers(o, c, e);
	rc |= get_str(o, "TCP", &c->tcp, e);
	rc |= get_str(o, "UDP", &c->udp, e);
	rc |= get_str(o, "AliasService", &c->alias_service, e);
	rc |= get_str(o, "Script", &x->script, e);
	rc |= get_str(o, "GRPC", &x->grpc, e);
	rc |= get_bool(o, "GRPCUseTLS", &c->grpc_use_tls, e);
	rc |= get_str(o, "H2PING", &x->h2, e);
	rc |= get_str(o, "DockerContainerID", &x->docker, e);
	rc |= get_strarr(o, "ScriptArgs", &c->args, &nargs, e);
	if (rc == 0 && c->args == NULL)
		rc |= get_strarr(o, "Args", &c->args, &nargs, e);
	c->n_args = nargs;
	rc |= get_u32(o, "SuccessBeforePassing",
	    &c->lim.success_before_passing, e);
	rc |= get_u32(o, "FailuresBeforeWarning",
	    &c->lim.failures_before_warning, e);
	rc |= get_u32(o, "FailuresBeforeCritical",
	    &c->lim.failures_before_critical, e);
	return rc != 0 ? ERR_INVAL : 0;
}

/* The initial status and the deprecated Script (run by /bin/sh -c). */
static int
defn_check_status_script(struct chk *c, struct check_extra *x,
    bool in_service, struct derr *e)
{
	if (*x->status != '\0') {
		if ((c->status = check_status_parse(x->status)) < 0)
			return derr_set(e, 400, in_service ? "Status for checks "
			    "must 'passing', 'warning', 'critical'" :
			    "Bad check status");
		c->status_given = true;
	}
	if (*x->script != '\0' && c->args == NULL) {
		if ((c->args = calloc(4, sizeof(char *))) == NULL ||
		    (c->args[0] = strdup("/bin/sh")) == NULL ||
		    (c->args[1] = strdup("-c")) == NULL ||
		    (c->args[2] = strdup(x->script)) == NULL)
			return ERR_NOMEM;
		c->n_args = 3;
	}
	return 0;
}

/* Derives the type in Consul's order (structs.CheckType) and checks it. */
static int
defn_check_type(struct chk *c, struct check_extra *x, bool lenient,
    struct derr *e)
{
	if (c->ttl_ms > 0 && c->interval_ms > 0)
		return derr_set(e, 400, "Invalid check: Interval and TTL "
		    "cannot both be specified");
	if (*x->docker != '\0' || *x->h2 != '\0')
		return derr_set(e, 400, "Invalid check: %s checks are not "
		    "supported by this agent", *x->docker != '\0' ? "Docker" :
		    "H2PING");
	if (c->ttl_ms > 0)
		c->type = CT_TTL;
	else if (c->n_args > 0)
		c->type = CT_SCRIPT;
	else if (*c->http != '\0')
		c->type = CT_HTTP;
	else if (*c->tcp != '\0')
		c->type = CT_TCP;
	else if (*c->udp != '\0')
		c->type = CT_UDP;
	else if (*x->grpc != '\0')
		c->type = CT_GRPC;
	else if (*c->alias_service != '\0')
		c->type = CT_ALIAS;
	c->grpc = x->grpc;
	x->grpc = NULL;
	if (!lenient && (c->type == CT_NONE || (c->type != CT_TTL &&
	    c->type != CT_ALIAS && c->interval_ms == 0)))
		return derr_set(e, 400, MUST_PROVIDE);
	return 0;
}

/* Consul's defaults and bounds (MinInterval, timeouts, reaper minimum). */
static int
defn_check_defaults(struct chk *c)
{
	if (c->lim.failures_before_warning == 0)
		c->lim.failures_before_warning =
		    c->lim.failures_before_critical;
	if (c->type != CT_TTL && c->type != CT_ALIAS && c->type != CT_NONE &&
	    c->interval_ms < CHECK_MIN_INTERVAL_MS) {
		log_warnx("check %s: interval below 1s, raised to 1s",
		    *c->id ? c->id : c->name);
		c->interval_ms = CHECK_MIN_INTERVAL_MS;
	}
	if (c->timeout_ms == 0)
		c->timeout_ms = c->type == CT_SCRIPT ?
		    CHECK_SCRIPT_TIMEOUT_MS : CHECK_DEFAULT_TIMEOUT_MS;
	if (c->deregister_ms > 0 && c->deregister_ms < CHECK_MIN_DEREGISTER_MS)
		c->deregister_ms = CHECK_MIN_DEREGISTER_MS;
	if (*c->method == '\0') {
		free(c->method);
		if ((c->method = strdup("GET")) == NULL)
			return ERR_NOMEM;
	}
	c->output = check_output_cap(c->output);
	return 0;
}

/*
 * Decodes one check definition (in_service: an embedded Check/Checks
 * element, whose status error text differs; lenient: no type required,
 * for persisted maintenance checks). *out is owned (chk_free).
 */
static int
defn_check_obj(json_t *o, int source, bool in_service, bool lenient,
    struct chk **out, struct derr *e)
{
	struct check_extra x = { 0 };
	struct chk *c;
	int rc;

	if (!json_is_object(o))
		return derr_set(e, 400, "Request decode failed: check "
		    "definition must be an object");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ERR_NOMEM;
	c->source = source;
	c->status = CHECK_CRITICAL;
	if ((rc = defn_check_fields(o, c, &x, e)) == 0 &&
	    (rc = defn_check_status_script(c, &x, in_service, e)) == 0 &&
	    (rc = defn_check_type(c, &x, lenient, e)) == 0)
		rc = defn_check_defaults(c);
	check_extra_free(&x);
	if (rc != 0) {
		chk_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static int
defn_parse(const char *json, size_t len, json_t **out, struct derr *e)
{
	json_error_t je;

	if (len == 0)
		return derr_set(e, 400, "Request decode failed: EOF");
	*out = json_loadb(json, len, JSON_DECODE_ANY, &je);
	if (*out == NULL)
		return derr_set(e, 400, "Request decode failed: %s", je.text);
	return 0;
}

static int
defn_taddrs(json_t *o, struct svc *s, struct derr *e)
{
	json_t *v = defn_get(o, "TaggedAddresses"), *x;
	const char *k;
	uint32_t port;

	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return derr_set(e, 400, "Request decode failed: "
		    "TaggedAddresses: expected an object");
	if ((s->taddrs = calloc(json_object_size(v) + 1,
	    sizeof(*s->taddrs))) == NULL)
		return ERR_NOMEM;
	json_object_foreach(v, k, x) {
		struct tagged_addr *t = &s->taddrs[s->n_taddrs++];
		port = 0;
		t->key = strdup(k);
		if (get_str(x, "Address", &t->address, e) != 0 ||
		    get_u32(x, "Port", &port, e) != 0)
			return ERR_INVAL;
		t->port = port;
		if (t->key == NULL)
			return ERR_NOMEM;
	}
	return 0;
}

/* Decodes a service object (not its checks). */
static int
defn_svc_obj(json_t *o, int source, struct svc **out, struct derr *e)
{
	struct svc *s;
	json_t *w;
	int rc = 0;

	if (!json_is_object(o))
		return derr_set(e, 400, "Request decode failed: service "
		    "definition must be an object");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ERR_NOMEM;
	s->source = source;
	s->weight_passing = s->weight_warning = 1;
	rc |= get_str(o, "Name", &s->name, e);
	rc |= get_str(o, "ID", &s->id, e);
	rc |= get_str(o, "Kind", &s->kind, e);
	rc |= get_str(o, "Address", &s->address, e);
	rc |= get_u32(o, "Port", &s->port, e);
	rc |= get_bool(o, "EnableTagOverride", &s->enable_tag_override, e);
	rc |= get_strarr(o, "Tags", &s->tags, &s->n_tags, e);
	rc |= get_meta(o, "Meta", &s->meta, &s->n_meta, e);
	rc |= defn_taddrs(o, s, e);
	if ((w = defn_get(o, "Weights")) != NULL) {
		rc |= get_u32(w, "Passing", &s->weight_passing, e);
		rc |= get_u32(w, "Warning", &s->weight_warning, e);
	}
	if (rc == 0 && *s->name == '\0')
		rc = derr_set(e, 400, "Missing service name");
	if (rc == 0 && *s->id == '\0') {
		free(s->id);
		if ((s->id = strdup(s->name)) == NULL)
			rc = ERR_NOMEM;
	}
	if (rc != 0) {
		svc_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* Service object plus Check/Checks, with generated check IDs. */
static int
defn_svc_full(json_t *o, int source, struct svc_def *d, struct derr *e)
{
	json_t *one, *many, *x;
	struct chk **tail = &d->checks, *c;
	size_t i, total, n = 0;
	int rc;

	d->svc = NULL;
	d->checks = NULL;
	if ((rc = defn_svc_obj(o, source, &d->svc, e)) != 0)
		return rc;
	one = defn_get(o, "Check");
	many = defn_get(o, "Checks");
	if (one != NULL && json_is_object(one) && json_object_size(one) == 0)
		one = NULL;
	if (many != NULL && !json_is_array(many))
		return derr_set(e, 400, "Request decode failed: Checks: "
		    "expected an array");
	total = (one != NULL) + (many ? json_array_size(many) : 0);
	for (i = 0; i < total; i++) {
		x = (one != NULL && i == 0) ? one :
		    json_array_get(many, i - (one != NULL));
		if ((rc = defn_check_obj(x, source, true, false, &c, e)) != 0)
			return rc;
		*tail = c;
		tail = &c->next;
		n++;
		free(c->service_id);
		c->service_id = strdup(d->svc->id);
		if (*c->id == '\0') {
			free(c->id);
			if (total == 1)
				rc = asprintf(&c->id, "service:%s", d->svc->id);
			else
				rc = asprintf(&c->id, "service:%s:%zu",
				    d->svc->id, n);
			if (rc < 0) {
				c->id = NULL;
				return ERR_NOMEM;
			}
		}
		if (*c->name == '\0') {
			free(c->name);
			if (asprintf(&c->name, "Service '%s' check",
			    d->svc->name) < 0) {
				c->name = NULL;
				return ERR_NOMEM;
			}
		}
		if (c->service_id == NULL)
			return ERR_NOMEM;
	}
	return 0;
}

int
defn_service(const char *json, size_t len, int source, struct svc_def *out,
    char *err, size_t errlen, int *status)
{
	struct derr e = { err, errlen, 400, false };
	json_t *root = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = defn_parse(json, len, &root, &e)) == 0)
		rc = defn_svc_full(root, source, out, &e);
	json_decref(root);
	if (rc != 0) {
		defn_svc_def_free(out);
		if (rc == ERR_NOMEM)
			derr_set(&e, 500, "out of memory");
		*status = e.status;
	}
	return rc;
}

int
defn_check(const char *json, size_t len, int source, struct chk **out,
    char *err, size_t errlen, int *status)
{
	struct derr e = { err, errlen, 400, false };
	json_t *root = NULL, *n;
	int rc;

	*out = NULL;
	if ((rc = defn_parse(json, len, &root, &e)) == 0) {
		n = defn_get(root, "Name");
		if (n == NULL || !json_is_string(n) ||
		    *json_string_value(n) == '\0')
			rc = derr_set(&e, 400, "Missing check name");
	}
	if (rc == 0)
		rc = defn_check_obj(root, source, false, false, out, &e);
	json_decref(root);
	if (rc == 0 && *(*out)->id == '\0') {
		free((*out)->id);
		if (((*out)->id = strdup((*out)->name)) == NULL)
			rc = ERR_NOMEM;
	}
	if (rc != 0) {
		chk_free(*out);
		*out = NULL;
		if (rc == ERR_NOMEM)
			derr_set(&e, 500, "out of memory");
		*status = e.status;
	}
	return rc;
}

int
defn_config_services(const char *json, struct svc_def **out, size_t *n,
    char *err, size_t errlen)
{
	struct derr e = { err, errlen, 400, false };
	json_t *root = NULL, *x;
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = defn_parse(json, strlen(json), &root, &e)) != 0)
		return rc;
	if (!json_is_array(root)) {
		json_decref(root);
		return derr_set(&e, 400, "services: expected an array");
	}
	if ((*out = calloc(json_array_size(root) + 1, sizeof(**out))) ==
	    NULL) {
		json_decref(root);
		return ERR_NOMEM;
	}
	json_array_foreach(root, i, x) {
		if ((rc = defn_svc_full(x, SRC_FILE, &(*out)[i], &e)) != 0) {
			(*n) = i + 1;
			break;
		}
		*n = i + 1;
	}
	json_decref(root);
	if (rc != 0) {
		for (i = 0; i < *n; i++)
			defn_svc_def_free(&(*out)[i]);
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int
defn_config_checks(const char *json, struct chk **out, char *err,
    size_t errlen)
{
	struct derr e = { err, errlen, 400, false };
	struct chk **tail = out, *c, *next;
	json_t *root = NULL, *x, *nm;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = defn_parse(json, strlen(json), &root, &e)) != 0)
		return rc;
	if (!json_is_array(root)) {
		json_decref(root);
		return derr_set(&e, 400, "checks: expected an array");
	}
	json_array_foreach(root, i, x) {
		nm = defn_get(x, "Name");
		if (nm == NULL || !json_is_string(nm) ||
		    *json_string_value(nm) == '\0') {
			rc = derr_set(&e, 400, "Missing check name");
			break;
		}
		if ((rc = defn_check_obj(x, SRC_FILE, false, false, &c, &e)) != 0)
			break;
		if (*c->id == '\0') {
			free(c->id);
			c->id = strdup(c->name);
		}
		*tail = c;
		tail = &c->next;
		if (c->id == NULL) {
			rc = ERR_NOMEM;
			break;
		}
	}
	json_decref(root);
	if (rc != 0) {
		for (c = *out; c != NULL; c = next) {
			next = c->next;
			chk_free(c);
		}
		*out = NULL;
	}
	return rc;
}

int
defn_update(const char *json, size_t len, int *status, char **output,
    char *err, size_t errlen)
{
	struct derr e = { err, errlen, 400, false };
	json_t *root = NULL;
	char *st = NULL;
	int rc;

	*status = -1;
	*output = NULL;
	if ((rc = defn_parse(json, len, &root, &e)) != 0)
		return rc;
	rc = get_str(root, "Status", &st, &e);
	if (rc == 0)
		rc = get_str(root, "Output", output, &e);
	json_decref(root);
	if (rc == 0 && (*status = check_status_parse(st)) < 0)
		rc = derr_set(&e, 400, "Invalid check status: '%s'", st);
	free(st);
	if (rc != 0) {
		free(*output);
		*output = NULL;
		return rc;
	}
	*output = check_output_cap(*output);
	return 0;
}

struct svc *
svc_dup(const struct svc *s)
{
	struct svc *d = calloc(1, sizeof(*d));
	size_t i;
	bool bad = false;

	if (d == NULL)
		return NULL;
	*d = *s;
	d->next = NULL;
	d->id = strdup(s->id);
	d->name = strdup(s->name);
	d->kind = strdup(s->kind);
	d->address = strdup(s->address);
	d->tags = calloc(s->n_tags + 1, sizeof(char *));
	d->meta = calloc(s->n_meta + 1, sizeof(struct kv));
	d->taddrs = calloc(s->n_taddrs + 1, sizeof(struct tagged_addr));
	if (!d->id || !d->name || !d->kind || !d->address || !d->tags ||
	    !d->meta || !d->taddrs)
		bad = true;
	for (i = 0; !bad && i < s->n_tags; i++)
		bad = (d->tags[i] = strdup(s->tags[i])) == NULL;
	for (i = 0; !bad && i < s->n_meta; i++)
		bad = (d->meta[i].k = strdup(s->meta[i].k)) == NULL ||
		    (d->meta[i].v = strdup(s->meta[i].v)) == NULL;
	for (i = 0; !bad && i < s->n_taddrs; i++) {
		d->taddrs[i].port = s->taddrs[i].port;
		bad = (d->taddrs[i].key = strdup(s->taddrs[i].key)) == NULL ||
		    (d->taddrs[i].address = strdup(s->taddrs[i].address)) ==
		    NULL;
	}
	if (bad) {
		/* counts still describe arrays of NULL-initialised slots */
		svc_free(d);
		return NULL;
	}
	return d;
}

int
defn_persist_extra(const char *json, uint64_t *ttl_wall_ms, bool *maint)
{
	json_t *root = json_loads(json, 0, NULL), *v;

	*ttl_wall_ms = 0;
	*maint = false;
	if (root == NULL)
		return ERR_CORRUPT;
	if ((v = json_object_get(root, "TTLDeadlineUnixMs")) != NULL &&
	    json_is_integer(v) && json_integer_value(v) > 0)
		*ttl_wall_ms = (uint64_t)json_integer_value(v);
	*maint = json_is_true(json_object_get(root, "Maintenance"));
	json_decref(root);
	return 0;
}

int
defn_check_persisted(const char *json, struct chk **out)
{
	char err[256];
	struct derr e = { err, sizeof(err), 400, false };
	json_t *root = json_loads(json, 0, NULL);
	uint64_t ttl_wall;
	bool maint;
	int rc;

	*out = NULL;
	if (root == NULL)
		return ERR_CORRUPT;
	rc = defn_check_obj(root, SRC_API, false, true, out, &e);
	json_decref(root);
	if (rc != 0)
		return rc;
	(*out)->status_given = true;
	defn_persist_extra(json, &ttl_wall, &maint);
	(*out)->maint = maint;
	return 0;
}
