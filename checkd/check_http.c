/*
 * check_http.c — HTTP checks on libcurl's multi interface, driven by
 * checkd's loop (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION): thousands of
 * checks in flight on one thread, no thread per check.
 *
 * Result rules (Consul agent/checks/check.go CheckHTTP): 2xx passing,
 * 429 warning, anything else or a transport error critical. Output
 * "HTTP <METHOD> <url>: <code> <reason> Output: <body>" with the body
 * capped at 4 KiB; User-Agent "Consul Health Check"; redirects followed
 * unless DisableRedirects. <curl/curl.h> is included here only.
 * Reference: spec/consul-api.md §3.1 (http); curl libcurl-multi(3),
 * "multi_socket" API.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkd.h"
#include "err.h"
#include "log.h"
#include "loop.h"

struct http_run {
	struct checkd *cd;
	struct chk *c;
	CURL *easy;
	struct curl_slist *hdrs;
	char body[CHECK_OUTPUT_MAX + 1];
	size_t len;
	char errbuf[CURL_ERROR_SIZE];
};

static CURLM *http_multi;
static struct checkd *http_cd;
static uint64_t http_timer;

static void http_drain(void);

static const char *
http_reason(long code)
{
	switch (code) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

static size_t
http_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_run *hr = arg;
	size_t n = size * nmemb, room = CHECK_OUTPUT_MAX - hr->len;

	if (n < room)
		room = n;
	memcpy(hr->body + hr->len, ptr, room);
	hr->len += room;
	hr->body[hr->len] = '\0';
	return n; /* keep reading; the rest is discarded */
}

static void
http_fd_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	int mask = 0, running;

	(void)l;
	(void)arg;
	if (events & LOOP_READ)
		mask |= CURL_CSELECT_IN;
	if (events & LOOP_WRITE)
		mask |= CURL_CSELECT_OUT;
	if (events & LOOP_ERROR)
		mask |= CURL_CSELECT_ERR;
	curl_multi_socket_action(http_multi, fd, mask, &running);
	http_drain();
}

static int
http_socket_cb(CURL *e, curl_socket_t s, int what, void *userp,
    void *socketp)
{
	uint32_t ev = 0;

	(void)e;
	(void)userp;
	if (what == CURL_POLL_REMOVE) {
		if (socketp != NULL) {
			loop_del_fd(http_cd->loop, s);
			curl_multi_assign(http_multi, s, NULL);
		}
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= LOOP_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= LOOP_WRITE;
	if (socketp == NULL) {
		if (loop_add_fd(http_cd->loop, s, ev, http_fd_cb, NULL) == 0)
			curl_multi_assign(http_multi, s, http_cd);
	} else {
		loop_mod_fd(http_cd->loop, s, ev);
	}
	return 0;
}

static void
http_timer_fire(struct loop *l, void *arg)
{
	int running;

	(void)l;
	(void)arg;
	http_timer = 0;
	curl_multi_socket_action(http_multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	http_drain();
}

static int
http_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	(void)m;
	(void)userp;
	if (http_timer != 0) {
		loop_timer_cancel(http_cd->loop, http_timer);
		http_timer = 0;
	}
	if (timeout_ms >= 0)
		http_timer = loop_timer_add(http_cd->loop,
		    (uint64_t)timeout_ms, http_timer_fire, NULL);
	return 0;
}

static void
http_run_free(struct http_run *hr)
{
	curl_multi_remove_handle(http_multi, hr->easy);
	curl_easy_cleanup(hr->easy);
	curl_slist_free_all(hr->hdrs);
	free(hr);
}

static void
http_done(struct http_run *hr, CURLcode res)
{
	struct chk *c = hr->c;
	struct checkd *cd = hr->cd;
	long code = 0;
	char *out = NULL;
	int status;

	if (res != CURLE_OK) {
		if (asprintf(&out, "HTTP %s %s: %s", c->method, c->http,
		    hr->errbuf[0] ? hr->errbuf : curl_easy_strerror(res)) < 0)
			out = NULL;
		status = CHECK_CRITICAL;
	} else {
		curl_easy_getinfo(hr->easy, CURLINFO_RESPONSE_CODE, &code);
		if (asprintf(&out, "HTTP %s %s: %ld %s Output: %s", c->method,
		    c->http, code, http_reason(code), hr->body) < 0)
			out = NULL;
		status = code >= 200 && code <= 299 ? CHECK_PASSING :
		    code == 429 ? CHECK_WARNING : CHECK_CRITICAL;
	}
	c->run = NULL;
	http_run_free(hr);
	run_result(cd, c, status, out);
}

static void
http_drain(void)
{
	CURLMsg *m;
	int left;
	struct http_run *hr;

	while ((m = curl_multi_info_read(http_multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		hr = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    (char **)&hr);
		if (hr != NULL)
			http_done(hr, m->data.result);
	}
}

int
check_http_init(struct checkd *cd)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return ERR_INTERNAL;
	if ((http_multi = curl_multi_init()) == NULL)
		return ERR_NOMEM;
	http_cd = cd;
	curl_multi_setopt(http_multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl_multi_setopt(http_multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	return 0;
}

int
check_http_start(struct checkd *cd, struct chk *c)
{
	struct http_run *hr;
	struct curl_slist *l;
	char *line;
	size_t i;
	bool has_ua = false;

	if (http_multi == NULL)
		return ERR_INTERNAL;
	if ((hr = calloc(1, sizeof(*hr))) == NULL)
		return ERR_NOMEM;
	hr->cd = cd;
	hr->c = c;
	if ((hr->easy = curl_easy_init()) == NULL) {
		free(hr);
		return ERR_NOMEM;
	}
	for (i = 0; i < c->n_headers; i++) {
		if (strcasecmp(c->headers[i].k, "User-Agent") == 0)
			has_ua = true;
		if (asprintf(&line, "%s: %s", c->headers[i].k,
		    c->headers[i].v) < 0)
			continue;
		if ((l = curl_slist_append(hr->hdrs, line)) != NULL)
			hr->hdrs = l;
		free(line);
	}
	if (!has_ua && (l = curl_slist_append(hr->hdrs,
	    "User-Agent: Consul Health Check")) != NULL)
		hr->hdrs = l;
	if ((l = curl_slist_append(hr->hdrs, "Accept: text/plain, text/*, "
	    "*/*")) != NULL)
		hr->hdrs = l;
	curl_easy_setopt(hr->easy, CURLOPT_URL, c->http);
	curl_easy_setopt(hr->easy, CURLOPT_CUSTOMREQUEST, c->method);
	if (strcmp(c->method, "HEAD") == 0)
		curl_easy_setopt(hr->easy, CURLOPT_NOBODY, 1L);
	if (*c->body != '\0') {
		curl_easy_setopt(hr->easy, CURLOPT_POSTFIELDS, c->body);
		curl_easy_setopt(hr->easy, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(c->body));
	}
	curl_easy_setopt(hr->easy, CURLOPT_HTTPHEADER, hr->hdrs);
	curl_easy_setopt(hr->easy, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(hr->easy, CURLOPT_WRITEDATA, hr);
	curl_easy_setopt(hr->easy, CURLOPT_PRIVATE, hr);
	curl_easy_setopt(hr->easy, CURLOPT_ERRORBUFFER, hr->errbuf);
	curl_easy_setopt(hr->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(hr->easy, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(hr->easy, CURLOPT_FOLLOWLOCATION,
	    c->disable_redirects ? 0L : 1L);
	curl_easy_setopt(hr->easy, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(hr->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->tls_skip_verify) {
		curl_easy_setopt(hr->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(hr->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (curl_multi_add_handle(http_multi, hr->easy) != CURLM_OK) {
		curl_easy_cleanup(hr->easy);
		curl_slist_free_all(hr->hdrs);
		free(hr);
		return ERR_INTERNAL;
	}
	c->run = hr;
	return 0;
}

void
check_http_cancel(struct checkd *cd, struct chk *c)
{
	(void)cd;
	if (c->run != NULL)
		http_run_free(c->run);
	c->run = NULL;
}

void
check_http_fini(struct checkd *cd)
{
	(void)cd;
	if (http_timer != 0)
		loop_timer_cancel(http_cd->loop, http_timer);
	http_timer = 0;
	if (http_multi != NULL)
		curl_multi_cleanup(http_multi);
	http_multi = NULL;
	curl_global_cleanup();
}
