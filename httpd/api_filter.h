/*
 * api_filter.h — ?filter= on httpd's list endpoints (api_filter.c): the
 * request-time check that answers 400, and the reply-time filtering of a
 * rendered list (httpd/filter.h does the language).
 */
#ifndef CAIRN_HTTPD_API_FILTER_H
#define CAIRN_HTTPD_API_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "filter.h"

struct json;
struct req;

/* The request's non-empty ?filter, or NULL. */
const char *api_filter_expr(const struct req *r);

/*
 * Compiles r's ?filter against schema: true when there is none or it is
 * valid; otherwise answers 400 with Consul's text and returns false.
 */
bool api_filter_check(struct req *r, const struct filter_field *schema);

/*
 * Filters the list rendered in w (not finished yet), the top-level array
 * or object, or its member inner; then r is answered by the caller with
 * req_reply_json as usual. False: r was answered (400 or 500) and w
 * freed.
 */
bool api_filter_json(struct req *r, struct json *w,
    const struct filter_field *schema, const char *inner);

/*
 * The same on a reply body relayed from checkd (GET /v1/agent/services
 * and /v1/agent/checks; other paths are left alone).
 */
bool api_filter_agent_body(struct req *r, int status, char *body,
    size_t *len);

/* GET /v1/catalog/services with ?filter: the CATALOG_SERVICES_ALL reply
 * filtered per instance (ServiceNode), then folded to name -> tags. */
void api_filter_services_got(struct req *r, const void *body);

#endif
