/*
 * api_catalog.h — the /v1/catalog (api_catalog.c) and /v1/health
 * (api_health.c) handlers, and the JSON shapes and read plumbing they
 * share: Consul's Node, NodeService, CatalogService and HealthCheck
 * (spec/consul-api.md §2.0), rendered field by field in Go's order.
 */
#ifndef CAIRN_HTTPD_API_CATALOG_H
#define CAIRN_HTTPD_API_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

struct httpd;
struct json;
struct req;

/* Handlers (routes.c). */
void api_catalog_register(struct httpd *h, struct req *r);
void api_catalog_deregister(struct httpd *h, struct req *r);
void api_catalog_datacenters(struct httpd *h, struct req *r);
void api_catalog_nodes(struct httpd *h, struct req *r);
void api_catalog_services(struct httpd *h, struct req *r);
void api_catalog_service(struct httpd *h, struct req *r);
void api_catalog_node(struct httpd *h, struct req *r);
void api_catalog_node_services(struct httpd *h, struct req *r);
void api_health_node(struct httpd *h, struct req *r);
void api_health_checks(struct httpd *h, struct req *r);
void api_health_service(struct httpd *h, struct req *r);
void api_health_state(struct httpd *h, struct req *r);

/* JSON of one record (all arguments borrowed). */
void api_json_node(struct json *w, const struct proto_cat_node *n);
void api_json_node_service(struct json *w, const struct proto_cat_service *s);
void api_json_check(struct json *w, const struct proto_cat_check *c);
/* structs.ServiceNode of instance s on node n (NULL: an empty node). */
void api_json_catalog_service(struct json *w,
    const struct proto_cat_service *s, const struct proto_cat_node *n);

/*
 * For /v1/txn (api_txn_body.c): a JSON Node, NodeService or HealthCheck
 * object (json is a jansson json_t *) decoded as the register body's
 * parts, arrays in a. 0, or ERR_INVAL with Go's decode error in err.
 */
int api_catalog_dec_node(void *json, struct proto_arena *a,
    struct proto_cat_node *n, char *err, size_t size);
int api_catalog_dec_service(void *json, struct proto_arena *a,
    struct proto_cat_service *s, char *err, size_t size);
int api_catalog_dec_check(void *json, struct proto_arena *a,
    struct proto_cat_check *c, char *err, size_t size);

/* Whether two node, service or check names are equal ignoring case. */
bool api_name_eq(struct proto_str a, struct proto_str b);

/*
 * An index of one catalog reply by node name (ignoring case): its node
 * record and its checks in reply order, so that rendering n service
 * entries costs O(n), not a scan of every node and check per entry.
 */
struct api_node_ix {
	const struct msg_catalog_get_result *res;
	struct api_node_slot *slots;
	uint32_t mask;
	uint32_t *next; /* per check: the next check of its node */
};
#define API_IX_END UINT32_MAX

/* 0, or ERR_NOMEM. */
int api_node_ix_init(struct api_node_ix *ix,
    const struct msg_catalog_get_result *res);
void api_node_ix_fini(struct api_node_ix *ix);
/* The node record named name, or NULL. */
const struct proto_cat_node *api_node_ix_node(const struct api_node_ix *ix,
    struct proto_str name);
/* The index in res->checks of the first check of node name, then
 * ix->next[i] for the following ones; API_IX_END after the last. */
uint32_t api_node_ix_checks(const struct api_node_ix *ix,
    struct proto_str name);

/*
 * Sends a MSG_CATALOG_GET of what for name (r->param) with the request's
 * options, ?tag and ?node-meta; cb renders the result. Parses the
 * options first and answers 400 itself (returns then).
 */
void api_catalog_read(struct httpd *h, struct req *r, uint8_t what,
    bool passing, void (*cb)(struct req *r, const void *body));

#endif
