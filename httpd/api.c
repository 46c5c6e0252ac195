/*
 * api.c — what every endpoint shares: option parsing with Consul's error
 * texts, the X-Consul-* read headers, JSON booleans, and GET /.
 *
 * Header names are written the way Go's net/http canonicalises Consul's
 * (X-Consul-Knownleader, X-Consul-Lastcontact): those are the bytes
 * Consul sends; HTTP header names are case-insensitive to every client.
 * Reference: Consul agent/http.go setMeta, setIndex (0 becomes 1), Index;
 * spec/consul-api.md §1.4, §1.6.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "httpd.h"
#include "json.h"
#include "proto.h"
#include "query.h"
#include "req.h"

/* Consul CE refuses Enterprise headers with a non-default value. */
static bool
api_check_ent_headers(struct req *r)
{
	const char *ns = req_header(r, "X-Consul-Namespace");
	const char *ap = req_header(r, "X-Consul-Partition");

	if (ns != NULL && *ns != '\0' && strcmp(ns, "default") != 0) {
		req_reply_text(r, 400, "Invalid header: \"X-Consul-Namespace\" "
		    "- Namespaces are a Consul Enterprise feature");
		return false;
	}
	if (ap != NULL && *ap != '\0' && strcmp(ap, "default") != 0) {
		req_reply_text(r, 400, "Invalid header: \"X-Consul-Partition\" "
		    "- Partitions are a Consul Enterprise feature");
		return false;
	}
	return true;
}

bool
api_parse_opts(struct httpd *h, struct req *r)
{
	const char *why = NULL;
	int status = 400;

	if (!api_check_ent_headers(r))
		return false;

	if (query_parse_opts(&r->args, &h->lim, &r->opts, &status, &why) != 0) {
		req_reply_text(r, status, "%s", why);
		return false;
	}
	return true;
}

void
api_set_meta(struct req *r, const struct proto_read_meta *m)
{
	static const char *const modes[] = { "leader", "stale", "consistent" };

	req_set_headerf(r, "X-Consul-Index", "%llu",
	    (unsigned long long)(m->index == 0 ? 1 : m->index));
	req_set_header(r, "X-Consul-Knownleader",
	    m->known_leader ? "true" : "false");
	req_set_headerf(r, "X-Consul-Lastcontact", "%llu",
	    (unsigned long long)m->last_contact_ms);
	req_set_header(r, "X-Consul-Effective-Consistency",
	    modes[r->opts.consistency <= 2 ? r->opts.consistency : 0]);
	req_set_header(r, "X-Consul-Query-Backend", "blocking-query");
}

void
api_reply_bool(struct req *r, bool v)
{
	struct json w;

	req_json_init(r, &w);
	json_bool(&w, v);
	req_reply_json(r, 200, &w);
}

/* GET / : the UI when enabled, else a line saying what this is. */
void
api_index(struct httpd *h, struct req *r)
{
	if (strcmp(r->path, "/") != 0) {
		req_reply_empty(r, 404);
		return;
	}
	if (h->cfg->ui) {
		char *body = NULL;
		int n;
		/* Go's http.Redirect, status 301 (Consul's Index handler). */
		req_set_header(r, "Location", h->cfg->ui_content_path);
		n = asprintf(&body, "<a href=\"%s\">Moved Permanently</a>.\n\n",
		    h->cfg->ui_content_path);
		req_reply(r, 301, "text/html; charset=utf-8", n < 0 ? NULL : body,
		    n < 0 ? 0 : (size_t)n);
		return;
	}
	req_reply_text(r, 200, "Consul Agent");
}
