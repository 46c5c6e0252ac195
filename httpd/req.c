/*
 * req.c — request accessors and reply building (see req.h).
 *
 * Kept apart from server.c so handlers and their tests never see
 * libmicrohttpd (STYLE.md principle 4): the server only turns the
 * finished reply (status, headers, body) into an MHD response.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "json.h"
#include "log.h"
#include "req.h"
#include "share.h"

struct req *
req_new(struct httpd *h)
{
	struct req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->h = h;
	r->path = "";
	r->param = "";
	r->method = "";
	return r;
}

void
req_free(struct req *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n_rhdrs; i++) {
		free(r->rhdrs[i].name);
		free(r->rhdrs[i].value);
	}
	free(r->rhdrs);
	if (r->shared != NULL)
		share_body_unref(r->shared); /* rbody is its data */
	else
		free(r->rbody);
	free(r->body);
	free(r->argv);
	free(r->hdrs);
	free(r);
}

const char *
req_header(const struct req *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n_hdrs; i++)
		if (strcasecmp(r->hdrs[i].name, name) == 0)
			return r->hdrs[i].value;
	return NULL;
}

size_t
req_header_count(const struct req *r, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < r->n_hdrs; i++)
		if (strcasecmp(r->hdrs[i].name, name) == 0)
			n++;
	return n;
}

int
req_set_header(struct req *r, const char *name, const char *value)
{
	struct req_header *nh;
	char *n, *v;

	n = strdup(name);
	v = strdup(value);
	nh = realloc(r->rhdrs, (r->n_rhdrs + 1) * sizeof(*nh));
	if (n == NULL || v == NULL || nh == NULL) {
		free(n);
		free(v);
		if (nh != NULL)
			r->rhdrs = nh;
		return ERR_NOMEM;
	}
	r->rhdrs = nh;
	r->rhdrs[r->n_rhdrs].name = n;
	r->rhdrs[r->n_rhdrs].value = v;
	r->n_rhdrs++;
	return 0;
}

int
req_set_headerf(struct req *r, const char *name, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return req_set_header(r, name, buf);
}

const char *
req_reply_header(const struct req *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n_rhdrs; i++)
		if (strcasecmp(r->rhdrs[i].name, name) == 0)
			return r->rhdrs[i].value;
	return NULL;
}

void
req_reply(struct req *r, int status, const char *ctype, char *body,
    size_t len)
{
	if (r->replied) {
		log_warnx("httpd: second reply to %s %s ignored", r->method,
		    r->path);
		free(body);
		return;
	}
	r->replied = true;
	r->status = status;
	r->rbody = body;
	r->rbody_len = body != NULL ? len : 0;
	if (ctype != NULL && req_set_header(r, "Content-Type", ctype) != 0) {
		/* Out of memory: the reply goes without its content type. */
		log_warnx("httpd: out of memory setting a reply header");
	}
	if (r->on_reply != NULL)
		r->on_reply(r);
}

void
req_reply_shared(struct req *r, int status, struct share_body *b)
{
	if (r->replied) {
		log_warnx("httpd: second reply to %s %s ignored", r->method,
		    r->path);
		share_body_unref(b);
		return;
	}
	r->replied = true;
	r->status = status;
	r->shared = b;
	r->rbody = b->data;
	r->rbody_len = b->len;
	if (r->on_reply != NULL)
		r->on_reply(r);
}

void
req_reply_text(struct req *r, int status, const char *fmt, ...)
{
	char *body = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0) {
		body = NULL;
		n = 0;
	}
	req_reply(r, status, "text/plain; charset=utf-8", body, (size_t)n);
}

void
req_reply_empty(struct req *r, int status)
{
	req_reply(r, status, NULL, NULL, 0);
}

void
req_reply_json(struct req *r, int status, struct json *w)
{
	char *out;
	size_t len;
	int rc;

	if ((rc = json_finish(w, &out, &len)) != 0) {
		log_warnx("httpd: json output for %s failed: %s", r->path,
		    err_str(rc));
		req_reply_text(r, 500, "failed to encode the reply: %s",
		    err_str(rc));
		return;
	}
	req_reply(r, status, "application/json", out, len);
}

void
req_json_init(const struct req *r, struct json *w)
{
	json_init(w, r->pretty);
}
