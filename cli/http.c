/*
 * http.c — the cairn command's HTTP client (see http.h), on libcurl.
 *
 * Paths are escaped as Go's URL.EscapedPath escapes them (what Consul's
 * api package sends): unreserved characters and "/$&+,:;=@" stay.
 *
 * Key decision: one easy handle per request and no connection reuse:
 * the CLI makes a handful of requests, and a fresh handle keeps the
 * wrapper stateless. Errors are phrased as Go's net/http phrases them
 * ("Put \"http://...\": connection refused") because scripts grep
 * Consul's CLI output. http_call()/http_expect() hold the one copy of
 * "must answer 200, else '<what>: Unexpected response code: N (body)'"
 * that every command used to spell out. Reference: spec/consul-api.md
 * §9 (global HTTP flags), libcurl's easy interface, Consul api's
 * requireOK.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "err.h"
#include "http.h"
#include "log.h"

struct http_buf {
	char *p;
	size_t len, cap;
};

static size_t
http_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_buf *b = arg;
	size_t n = size * nmemb;

	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 4096);
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (p == NULL)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static size_t
http_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_response *r = arg;
	size_t n = size * nmemb;
	static const char name[] = "x-consul-index:";

	if (n > sizeof(name) - 1 &&
	    strncasecmp(data, name, sizeof(name) - 1) == 0)
		r->index = strtoull(data + sizeof(name) - 1, NULL, 10);
	return n;
}

static char *
http_xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		fatal("strdup");
	return p;
}

int
http_client_init(struct http_client *c, const char *addr, const char *token,
    char *err, size_t errlen)
{
	static bool inited;

	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			fatalx("curl_global_init failed");
		inited = true;
	}
	memset(c, 0, sizeof(*c));
	if (addr == NULL || *addr == '\0')
		addr = getenv("CONSUL_HTTP_ADDR");
	if (addr == NULL || *addr == '\0')
		addr = getenv("CAIRN_HTTP_ADDR");
	if (addr == NULL || *addr == '\0')
		addr = "http://127.0.0.1:8500";
	if (token == NULL || *token == '\0')
		token = getenv("CONSUL_HTTP_TOKEN");
	if (token != NULL && *token != '\0')
		c->token = http_xstrdup(token);

	if (strncmp(addr, "unix://", 7) == 0) {
		if (addr[7] == '\0') {
			snprintf(err, errlen, "Error: invalid -http-addr %s",
			    addr);
			return ERR_INVAL;
		}
		c->unix_path = http_xstrdup(addr + 7);
		c->base = http_xstrdup("http://localhost");
		return 0;
	}
	if (strncmp(addr, "http://", 7) == 0 ||
	    strncmp(addr, "https://", 8) == 0) {
		c->base = http_xstrdup(addr);
	} else if (strstr(addr, "://") != NULL) {
		snprintf(err, errlen, "Error: unknown protocol scheme in "
		    "-http-addr %s", addr);
		return ERR_INVAL;
	} else {
		const char *ssl = getenv("CONSUL_HTTP_SSL");
		bool https = ssl != NULL && (strcmp(ssl, "true") == 0 ||
		    strcmp(ssl, "1") == 0);
		if (asprintf(&c->base, "%s://%s", https ? "https" : "http",
		    addr) < 0)
			fatal("asprintf");
	}
	size_t l = strlen(c->base);
	while (l > 0 && c->base[l - 1] == '/')
		c->base[--l] = '\0';
	return 0;
}

void
http_client_fini(struct http_client *c)
{
	free(c->base);
	free(c->unix_path);
	free(c->token);
	free(c->datacenter);
	memset(c, 0, sizeof(*c));
}

void
http_response_free(struct http_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

char *
http_escape(const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = malloc(3 * n + 1), *o = out;

	if (out == NULL)
		fatal("malloc");
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || strchr("-_.~", ch) != NULL ||
		    (keep_slash && strchr("/$&+,:;=@", ch) != NULL)) {
			*o++ = (char)ch;
		} else {
			*o++ = '%';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o = '\0';
	return out;
}

char *
http_path(const char *prefix, const char *s)
{
	char *esc = http_escape(s, false), *p;

	if (asprintf(&p, "%s%s", prefix, esc) < 0)
		fatal("asprintf");
	free(esc);
	return p;
}

void
http_query_add(char **q, const char *k, const char *v)
{
	char *esc = http_escape(v, false), *n;

	if (asprintf(&n, "%s%s%s=%s", *q ? *q : "", *q ? "&" : "", k,
	    esc) < 0)
		fatal("asprintf");
	free(esc);
	free(*q);
	*q = n;
}

/* The query string with dc and stale added; owned. */
static char *
http_query(struct http_client *c, const char *query, unsigned flags)
{
	char *q = http_xstrdup(query ? query : ""), *n;

	if (c->datacenter != NULL) {
		char *dc = http_escape(c->datacenter, false);
		if (asprintf(&n, "%s%sdc=%s", q, *q ? "&" : "", dc) < 0)
			fatal("asprintf");
		free(dc);
		free(q);
		q = n;
	}
	if (c->stale && (flags & HTTP_STALE)) {
		if (asprintf(&n, "%s%sstale", q, *q ? "&" : "") < 0)
			fatal("asprintf");
		free(q);
		q = n;
	}
	return q;
}

/* "Get", "Put", ... as Go's net/http names the method in errors. */
static void
http_go_method(const char *method, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", method);
	for (size_t i = 1; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

int
http_request(struct http_client *c, const char *method, const char *path,
    const char *query, unsigned flags, const void *body, size_t blen,
    struct http_response *resp, char *err, size_t errlen)
{
	struct http_buf b = { 0 };
	struct curl_slist *hdrs = NULL;
	char *q = http_query(c, query, flags), *url, *tok = NULL;
	char cerr[CURL_ERROR_SIZE] = "";
	CURL *h;
	CURLcode cc;
	int rc = 0;

	memset(resp, 0, sizeof(*resp));
	if (asprintf(&url, "%s%s%s%s", c->base, path, *q ? "?" : "", q) < 0)
		fatal("asprintf");
	free(q);
	if ((h = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "cairn");
	if (c->timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	if (c->unix_path != NULL)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (body != NULL || strcmp(method, "PUT") == 0 ||
	    strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)blen);
		hdrs = curl_slist_append(hdrs, "Content-Type:");
	}
	if (c->token != NULL) {
		if (asprintf(&tok, "X-Consul-Token: %s", c->token) < 0)
			fatal("asprintf");
		hdrs = curl_slist_append(hdrs, tok);
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		char m[16];
		const char *hp = strstr(c->base, "://") + 3;
		http_go_method(method, m, sizeof(m));
		if (cc == CURLE_COULDNT_CONNECT && c->unix_path == NULL)
			snprintf(err, errlen, "%s \"%s\": dial tcp %s: connect: "
			    "connection refused", m, url, hp);
		else
			snprintf(err, errlen, "%s \"%s\": %s", m, url,
			    *cerr ? cerr : curl_easy_strerror(cc));
		free(b.p);
		rc = ERR_UNAVAILABLE;
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
		resp->body = b.p ? b.p : http_xstrdup("");
		resp->len = b.len;
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	free(tok);
	free(url);
	return rc;
}

/* The body as an error quotes it: *b and its length, trimmed per flags. */
static int
http_err_body(const struct http_response *r, unsigned flags,
    const char **b)
{
	const char *end = (flags & HTTP_TRIM_EOL) ? "\r\n" : " \t\r\n";
	size_t n = r->body ? r->len : 0;

	*b = r->body ? r->body : "";
	if (flags & (HTTP_TRIM | HTTP_TRIM_END | HTTP_TRIM_EOL))
		while (n > 0 && strchr(end, (*b)[n - 1]) != NULL)
			n--;
	if (flags & HTTP_TRIM)
		while (n > 0 && strchr(" \t\r\n", **b) != NULL)
			(*b)++, n--;
	return (int)n;
}

void
http_status_err(const struct http_response *r, unsigned flags, char *err,
    size_t errlen)
{
	const char *b;
	int n = http_err_body(r, flags, &b);

	snprintf(err, errlen, "Unexpected response code: %ld (%.*s)",
	    r->status, n, b);
}

int
http_call(struct http_client *c, const char *method, const char *path,
    const char *query, unsigned flags, const void *body, size_t blen,
    struct http_response *resp, char *err, size_t errlen)
{
	long status;

	if (http_request(c, method, path, query, flags, body, blen, resp, err,
	    errlen) != 0)
		return ERR_UNAVAILABLE;
	if (resp->status == 200)
		return 0;
	http_status_err(resp, flags, err, errlen);
	status = resp->status;
	http_response_free(resp);
	return (int)status;
}

/* Printed here, not through err: a long body is quoted whole. */
int
http_expect(struct http_client *c, const char *what, const char *method,
    const char *path, const char *query, unsigned flags, const void *body,
    size_t blen, struct http_response *resp)
{
	char err[1024];
	const char *b;
	int n;

	if (http_request(c, method, path, query, flags, body, blen, resp, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", what, err);
		return 1;
	}
	if (resp->status == 200)
		return 0;
	n = http_err_body(resp, flags, &b);
	fprintf(stderr, "%s: Unexpected response code: %ld (%.*s)\n", what,
	    resp->status, n, b);
	http_response_free(resp);
	return 1;
}
