/*
 * api.c — checkd's side of the /v1/agent service and check endpoints:
 * one MSG_AGENT_REQUEST (operation, path parameter, query, body) in, the
 * HTTP status, content type and body out (httpd relays them).
 *
 * Key decision: the texts are Consul's, byte for byte, because clients
 * string-match them (Spring and Vault re-register on the TTL errors).
 * Successful PUTs answer an empty 200 without Content-Type.
 * Reference: spec/consul-api.md §1.9, §2.1, §16 items 11 and 13; Consul
 * agent/agent_endpoint.go.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checkd.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "loop.h"
#include "msg_agent.h"

#define CT_TEXT "text/plain; charset=utf-8"
#define CT_JSON "application/json"

struct api_out {
	int status;
	const char *ctype;
	char *body;
};

static void
api_text(struct api_out *o, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
api_text(struct api_out *o, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&o->body, fmt, ap) < 0)
		o->body = NULL;
	va_end(ap);
	o->status = status;
	o->ctype = CT_TEXT;
}

static void
api_json(struct api_out *o, int status, char *json)
{
	if (json == NULL) {
		api_text(o, 500, "out of memory");
		return;
	}
	o->status = status;
	o->ctype = CT_JSON;
	o->body = json;
}

/* The value of query argument name (borrowed, NUL-terminated copy in
 * buf), or NULL when absent. */
static const char *
api_arg(const struct msg_agent_request *rq, const char *name, char *buf,
    size_t size)
{
	uint32_t i;

	for (i = 0; i < rq->query.n; i++)
		if (proto_str_eq(rq->query.keys[i], name)) {
			snprintf(buf, size, "%.*s", (int)rq->query.vals[i].len,
			    rq->query.vals[i].ptr);
			return buf;
		}
	return NULL;
}

/* strconv.ParseBool; returns -1 when invalid. */
static int
api_parse_bool(const char *s)
{
	static const char *const t[] = { "1", "t", "T", "TRUE", "true",
		"True" };
	static const char *const f[] = { "0", "f", "F", "FALSE", "false",
		"False" };
	size_t i;

	for (i = 0; i < 6; i++) {
		if (strcmp(s, t[i]) == 0)
			return 1;
		if (strcmp(s, f[i]) == 0)
			return 0;
	}
	return -1;
}

static void
api_unknown_service(struct api_out *o, const char *id)
{
	api_text(o, 404, "Unknown service ID \"%s\". Ensure that the service "
	    "ID is passed, not the service name.", id);
}

static void
api_unknown_check(struct api_out *o, const char *id)
{
	api_text(o, 404, "Unknown check ID \"%s\". Ensure that the check ID "
	    "is passed, not the check name.", id);
}

static void
api_service_register(struct checkd *cd, const struct msg_agent_request *rq,
    struct api_out *o)
{
	struct svc_def d;
	char err[1024], buf[16];
	int st = 400;

	if (defn_service(rq->body.ptr, rq->body.len, SRC_API, &d, err,
	    sizeof(err), &st) != 0) {
		api_text(o, st, "%s", err);
		return;
	}
	if (local_add_service(cd, &d, api_arg(rq, "replace-existing-checks",
	    buf, sizeof(buf)) != NULL, true, err, sizeof(err), &st) != 0) {
		api_text(o, st, "%s", err);
		return;
	}
	o->status = 200;
}

static void
api_check_register(struct checkd *cd, const struct msg_agent_request *rq,
    struct api_out *o)
{
	struct chk *c;
	char err[1024];
	int st = 400;

	if (defn_check(rq->body.ptr, rq->body.len, SRC_API, &c, err,
	    sizeof(err), &st) != 0 ||
	    local_add_check(cd, c, true, err, sizeof(err), &st) != 0) {
		api_text(o, st, "%s", err);
		return;
	}
	o->status = 200;
}

/* pass/warn/fail/update of a TTL check. output is owned. */
static void
api_ttl_update(struct checkd *cd, const char *id, int status, char *output,
    struct api_out *o)
{
	struct chk *c = local_chk(cd, id);

	if (c == NULL) {
		free(output);
		api_unknown_check(o, id);
		return;
	}
	if (c->type != CT_TTL) {
		free(output);
		api_text(o, 500, "CheckID \"%s\" does not have associated TTL",
		    id);
		return;
	}
	if (output == NULL)
		output = strdup("");
	c->ttl_deadline_ms = loop_now_ms(cd->loop) + c->ttl_ms;
	check_ttl_arm(cd, c);
	local_set_status(cd, c, status, output);
	if (c->source == SRC_API)
		store_save_check(cd, c); /* the new deadline */
	o->status = 200;
}

static void
api_maint(struct checkd *cd, const struct msg_agent_request *rq,
    const char *svc_id, struct api_out *o)
{
	char ebuf[64], reason[1024];
	const char *en = api_arg(rq, "enable", ebuf, sizeof(ebuf));
	const char *rs = api_arg(rq, "reason", reason, sizeof(reason));
	int enable, rc;

	if (en == NULL || *en == '\0') {
		api_text(o, 400, "Missing value for enable");
		return;
	}
	if ((enable = api_parse_bool(en)) < 0) {
		api_text(o, 400, "Invalid value for enable: \"%s\"", en);
		return;
	}
	rc = local_maintenance(cd, svc_id, enable == 1, rs);
	if (rc == ERR_NOTFOUND)
		api_unknown_service(o, svc_id);
	else if (rc != 0)
		api_text(o, 500, "%s", err_str(rc));
	else
		o->status = 200;
}

static int
api_health_code(const char *agg)
{
	if (strcmp(agg, "passing") == 0)
		return 200;
	if (strcmp(agg, "warning") == 0)
		return 429;
	return 503;
}

static bool
api_wants_text(const struct msg_agent_request *rq)
{
	char buf[32];
	const char *f = api_arg(rq, "format", buf, sizeof(buf));

	return (f != NULL && strcmp(f, "text") == 0) || rq->accept_text;
}

static void
api_health_id(struct checkd *cd, const struct msg_agent_request *rq,
    const char *id, struct api_out *o)
{
	struct svc *s = local_svc(cd, id);
	const char *agg;

	if (s == NULL) {
		if (api_wants_text(rq))
			api_text(o, 404, "ServiceId %s not found", id);
		else
			api_json(o, 404, strdup("{\"AggregatedStatus\":"
			    "\"critical\",\"Service\":null,\"Checks\":null}"));
		return;
	}
	agg = local_aggregate(cd, s);
	if (api_wants_text(rq))
		api_text(o, api_health_code(agg), "%s", agg);
	else
		api_json(o, api_health_code(agg), render_health(cd, s, agg,
		    rq->pretty));
}

static void
api_health_name(struct checkd *cd, const struct msg_agent_request *rq,
    const char *name, struct api_out *o)
{
	struct svc *s, **v = NULL;
	const char **aggs = NULL, *worst = "passing";
	size_t n = 0, cap = 0;
	int code = 200, c;

	for (s = cd->svcs; s != NULL; s = s->next) {
		if (strcmp(s->name, name) != 0)
			continue;
		if (n == cap) {
			struct svc **nv;
			const char **na;

			cap = cap ? cap * 2 : 8;
			if ((nv = realloc(v, cap * sizeof(*v))) != NULL)
				v = nv;
			if ((na = realloc(aggs, cap * sizeof(*aggs))) != NULL)
				aggs = na;
			if (nv == NULL || na == NULL) {
				free(v);
				free(aggs);
				api_text(o, 500, "out of memory");
				return;
			}
		}
		v[n] = s;
		aggs[n] = local_aggregate(cd, s);
		if ((c = api_health_code(aggs[n])) > code ||
		    (c == code && strcmp(aggs[n], "maintenance") == 0)) {
			code = c;
			worst = aggs[n];
		}
		n++;
	}
	if (n == 0) {
		if (api_wants_text(rq))
			api_text(o, 404, "ServiceName %s Not Found", name);
		else
			api_json(o, 404, strdup("[]"));
	} else if (api_wants_text(rq)) {
		api_text(o, code, "%s", worst);
	} else {
		api_json(o, code, render_health_list(cd, v, aggs, n,
		    rq->pretty));
	}
	free(v);
	free(aggs);
}

static bool
api_needs_id(int op)
{
	return op == AGENT_OP_SERVICE || op == AGENT_OP_SERVICE_DEREGISTER ||
	    op == AGENT_OP_SERVICE_MAINT || op == AGENT_OP_CHECK_DEREGISTER ||
	    op == AGENT_OP_CHECK_PASS || op == AGENT_OP_CHECK_WARN ||
	    op == AGENT_OP_CHECK_FAIL || op == AGENT_OP_CHECK_UPDATE ||
	    op == AGENT_OP_HEALTH_ID || op == AGENT_OP_HEALTH_NAME;
}

static void
api_dispatch(struct checkd *cd, const struct msg_agent_request *rq,
    const char *id, struct api_out *o)
{
	char note[CHECK_OUTPUT_MAX * 2], err[512];
	const char *nt;
	char *out;
	int st;
	struct svc *s;

	switch (rq->op) {
	case AGENT_OP_SERVICES:
		api_json(o, 200, render_services(cd, rq->pretty));
		break;
	case AGENT_OP_SERVICE:
		if ((s = local_svc(cd, id)) == NULL)
			api_text(o, 404, "unknown service ID: %s", id);
		else
			api_json(o, 200, render_service(cd, s, rq->pretty));
		break;
	case AGENT_OP_CHECKS:
		api_json(o, 200, render_checks(cd, rq->pretty));
		break;
	case AGENT_OP_SERVICE_REGISTER:
		api_service_register(cd, rq, o);
		break;
	case AGENT_OP_SERVICE_DEREGISTER:
		if (local_remove_service(cd, id) == ERR_NOTFOUND)
			api_unknown_service(o, id);
		else
			o->status = 200;
		break;
	case AGENT_OP_SERVICE_MAINT:
		api_maint(cd, rq, id, o);
		break;
	case AGENT_OP_NODE_MAINT:
		api_maint(cd, rq, NULL, o);
		break;
	case AGENT_OP_CHECK_REGISTER:
		api_check_register(cd, rq, o);
		break;
	case AGENT_OP_CHECK_DEREGISTER:
		if (local_remove_check(cd, id) == ERR_NOTFOUND)
			api_unknown_check(o, id);
		else
			o->status = 200;
		break;
	case AGENT_OP_CHECK_PASS:
	case AGENT_OP_CHECK_WARN:
	case AGENT_OP_CHECK_FAIL:
		nt = api_arg(rq, "note", note, sizeof(note));
		st = rq->op == AGENT_OP_CHECK_PASS ? CHECK_PASSING :
		    rq->op == AGENT_OP_CHECK_WARN ? CHECK_WARNING :
		    CHECK_CRITICAL;
		api_ttl_update(cd, id, st, check_output_cap(strdup(nt ? nt :
		    "")), o);
		break;
	case AGENT_OP_CHECK_UPDATE:
		if (defn_update(rq->body.ptr, rq->body.len, &st, &out, err,
		    sizeof(err)) != 0)
			api_text(o, 400, "%s", err);
		else
			api_ttl_update(cd, id, st, out, o);
		break;
	case AGENT_OP_HEALTH_ID:
		api_health_id(cd, rq, id, o);
		break;
	case AGENT_OP_HEALTH_NAME:
		api_health_name(cd, rq, id, o);
		break;
	default:
		api_text(o, 400, "unknown agent operation %u", rq->op);
	}
}

void
api_handle(struct checkd *cd, const struct msg_agent_request *rq,
    int *status, const char **ctype, char **body, size_t *len)
{
	struct api_out o = { 200, NULL, NULL };
	char *id;

	if ((id = strndup(rq->id.ptr ? rq->id.ptr : "", rq->id.len)) ==
	    NULL) {
		api_text(&o, 500, "out of memory");
	} else if (api_needs_id(rq->op) && *id == '\0') {
		api_text(&o, 400, rq->op == AGENT_OP_HEALTH_ID ||
		    rq->op == AGENT_OP_HEALTH_NAME ? "Missing service "
		    "Name" : "Missing %s ID", rq->op == AGENT_OP_SERVICE ||
		    rq->op == AGENT_OP_SERVICE_DEREGISTER ||
		    rq->op == AGENT_OP_SERVICE_MAINT ? "service" : "check");
	} else {
		api_dispatch(cd, rq, id, &o);
	}
	free(id);
	*status = o.status;
	*ctype = o.ctype;
	*body = o.body;
	*len = o.body != NULL ? strlen(o.body) : 0;
}
