/*
 * api_session_body.c — the JSON body of PUT /v1/session/create decoded
 * into a MSG_SESSION_APPLY with Consul's defaults and validations (the
 * jansson side of api_session.c: json.h's writer names clash with it).
 *
 * Key decisions: keys match ignoring case and '_' (Patroni sends
 * lowercase keys); serfHealth is the default node check only when
 * neither NodeChecks nor Checks is present; LockDelay below 1000 means
 * seconds and is capped at 60 s; the TTL must be 0 or within
 * [session_ttl_min, 24h] with Consul's exact 500 text. Reference: Consul
 * agent/session_endpoint.go, agent/consul/session_endpoint.go; spec §2.5.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_session.h"
#include "config.h"
#include "err.h"
#include "httpd.h"
#include "msg_session.h"
#include "proto.h"
#include "query.h"
#include "req.h"

#define API_SESSION_LOCK_DELAY_DEFAULT (15ull * 1000000000)
#define API_SESSION_LOCK_DELAY_MAX (60ull * 1000000000)
#define API_SESSION_TTL_MAX (24ll * 3600 * 1000000000)

static bool
api_session_body_key_eq(const char *k, const char *want)
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

/* The value of key name (case-insensitive); *present even when null. */
static json_t *
api_session_body_get(json_t *o, const char *name, bool *present)
{
	const char *k;
	json_t *v;

	if (present)
		*present = false;
	if (!json_is_object(o))
		return NULL;
	json_object_foreach(o, k, v)
		if (api_session_body_key_eq(k, name)) {
			if (present)
				*present = true;
			return json_is_null(v) ? NULL : v;
		}
	return NULL;
}

/* Appends string elements (or objects' ID) of v to a; false on a type error. */
static bool
api_session_body_ids(json_t *v, bool objects, struct proto_str *a, uint32_t *n)
{
	size_t i;
	json_t *e;

	if (v == NULL)
		return true;
	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, e) {
		if (objects)
			e = api_session_body_get(e, "ID", NULL);
		if (!json_is_string(e))
			return false;
		if (*n >= API_SESSION_MAX_CHECKS)
			return false;
		a[*n].ptr = json_string_value(e);
		a[*n].len = (uint32_t)json_string_length(e);
		(*n)++;
	}
	return true;
}

/* A duration: a Go string, or an integer in ns. ERR_INVAL if neither. */
static int
api_session_body_duration(json_t *v, int64_t *ns)
{
	if (json_is_integer(v)) {
		*ns = (int64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		*ns = (int64_t)json_real_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		if (json_string_length(v) == 0) {
			*ns = 0;
			return 0;
		}
		return query_parse_duration(json_string_value(v), ns);
	}
	return ERR_INVAL;
}

void
api_session_body_free(void *root)
{
	json_decref(root);
}

int
api_session_body(const struct httpd *h, struct req *r,
    struct msg_session_apply *m, struct proto_str *nchecks,
    struct proto_str *schecks, void **rootp)
{
	json_t *root = NULL, *v, *nc, *ck;
	json_error_t jerr;
	bool has_nc, has_ck;
	char lo[32], hi[32];
	int64_t ns;

	*rootp = NULL;
	if (r->body_len > 0) {
		root = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, &jerr);
		if (root == NULL || !json_is_object(root)) {
			req_reply_text(r, 400, "Request decode failed: %s",
			    root == NULL ? jerr.text : "json: cannot unmarshal "
			    "into Go value of type structs.Session");
			json_decref(root);
			return ERR_INVAL;
		}
	}
	m->op = SESSION_OP_CREATE;
	if ((v = api_session_body_get(root, "Name", NULL)) != NULL) {
		if (!json_is_string(v))
			goto badtype;
		m->session.name.ptr = json_string_value(v);
		m->session.name.len = (uint32_t)json_string_length(v);
	}
	m->session.node = proto_str_c(h->cfg->node_name ? h->cfg->node_name :
	    "");
	if ((v = api_session_body_get(root, "Node", NULL)) != NULL) {
		if (!json_is_string(v))
			goto badtype;
		if (json_string_length(v) > 0) {
			m->session.node.ptr = json_string_value(v);
			m->session.node.len = (uint32_t)json_string_length(v);
		}
	}
	/* serfHealth only when neither key is present */
	nc = api_session_body_get(root, "NodeChecks", &has_nc);
	ck = api_session_body_get(root, "Checks", &has_ck);
	m->session.node_checks.v = nchecks;
	if (!has_nc && !has_ck) {
		nchecks[0] = proto_str_c("serfHealth");
		m->session.node_checks.n = 1;
	} else if (!api_session_body_ids(nc, false, nchecks,
	    &m->session.node_checks.n) ||
	    !api_session_body_ids(ck, false, nchecks,
	    &m->session.node_checks.n))
		goto badtype;
	m->session.service_checks.v = schecks;
	if (!api_session_body_ids(api_session_body_get(root, "ServiceChecks",
	    NULL), true, schecks, &m->session.service_checks.n))
		goto badtype;
	m->session.lock_delay_ns = API_SESSION_LOCK_DELAY_DEFAULT;
	if ((v = api_session_body_get(root, "LockDelay", NULL)) != NULL) {
		if (api_session_body_duration(v, &ns) != 0 || ns < 0)
			goto badtype;
		/* below 1000 (1 µs) means seconds, as Consul */
		if (ns < 1000)
			ns *= 1000000000;
		if ((uint64_t)ns > API_SESSION_LOCK_DELAY_MAX)
			ns = (int64_t)API_SESSION_LOCK_DELAY_MAX;
		m->session.lock_delay_ns = (uint64_t)ns;
	}
	if ((v = api_session_body_get(root, "Behavior", NULL)) != NULL) {
		const char *b = json_is_string(v) ? json_string_value(v) : NULL;

		if (b == NULL)
			goto badtype;
		if (strcmp(b, "delete") == 0) {
			m->session.behavior = SESSION_DELETE;
		} else if (*b != '\0' && strcmp(b, "release") != 0) {
			req_reply_text(r, 500, "Invalid Behavior setting");
			json_decref(root);
			return ERR_INVAL;
		}
	}
	if ((v = api_session_body_get(root, "TTL", NULL)) != NULL) {
		if (!json_is_string(v) ||
		    api_session_body_duration(v, &ns) != 0)
			goto badtype;
		if (ns != 0 && (ns < (int64_t)h->cfg->session_ttl_min_ms *
		    1000000 || ns > API_SESSION_TTL_MAX)) {
			query_format_duration(
			    (int64_t)h->cfg->session_ttl_min_ms * 1000000, lo,
			    sizeof(lo));
			query_format_duration(API_SESSION_TTL_MAX, hi,
			    sizeof(hi));
			req_reply_text(r, 500, "Invalid Session TTL '%lld', must "
			    "be between [%s=%s]", (long long)ns, lo, hi);
			json_decref(root);
			return ERR_INVAL;
		}
		if (ns != 0) {
			m->session.ttl.ptr = json_string_value(v);
			m->session.ttl.len = (uint32_t)json_string_length(v);
			m->session.ttl_ns = (uint64_t)ns;
		}
	}
	*rootp = root;
	return 0;
badtype:
	req_reply_text(r, 400, "Request decode failed: json: cannot "
	    "unmarshal into Go value of type structs.Session");
	json_decref(root);
	return ERR_INVAL;
}
