/*
 * dns_view.h — dnsd's in-memory view of the catalog: nodes and service
 * instances with their aggregate health, indexed for DNS answering.
 *
 * The daemon builds a view from the catalog (a whole new view that replaces
 * the old one, or incremental updates on the same view) and dns_query_answer()
 * reads it; a query costs no IPC and no allocation. Three hash tables with
 * case-insensitive keys: node name, service name, and address (for PTR).
 * The view copies every string it is given: specs are borrowed only for the
 * duration of the call. Pointers returned by the find functions are borrowed
 * and valid until the next modifying call on the view or dns_view_free().
 * Single-threaded: the daemon's loop thread owns the view (STYLE.md §1).
 * Reference: consul-api.md §3.2 (health aggregation), §5.2–5.3; NSD's
 * namedb (answers come from memory, never from a backend per query).
 */
#ifndef CAIRN_DNS_VIEW_H
#define CAIRN_DNS_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Severity order: critical > warning > passing (consul-api §3.2). */
enum dns_health {
	DNS_HEALTH_PASSING = 0,
	DNS_HEALTH_WARNING = 1,
	DNS_HEALTH_CRITICAL = 2,
};

/* A borrowed string, (ptr, len), not NUL-terminated: same shape as
 * proto_str, so decoded IPC payloads convert field by field. */
struct dns_str {
	const char *ptr;
	uint32_t len;
};

struct dns_kv {
	struct dns_str key;
	struct dns_str value;
};

/* What a node or instance address is. */
enum dns_addr_family {
	DNS_ADDR_NONE = 0,
	DNS_ADDR_V4 = 4,
	DNS_ADDR_V6 = 6,
	DNS_ADDR_HOST = 1, /* a hostname: answered with CNAME / SRV target */
};

struct dns_addr {
	uint8_t family; /* enum dns_addr_family */
	uint8_t ip[16]; /* 4 bytes for V4, 16 for V6 */
};

/* Input to dns_view_add_node(); borrowed for the call only. */
struct dns_node_spec {
	struct dns_str name;
	struct dns_str address;    /* IPv4, IPv6 or hostname */
	struct dns_str datacenter; /* empty = the config's datacenter */
	const struct dns_kv *tagged; /* TaggedAddresses (lan_ipv4, …) */
	uint32_t ntagged;
	const struct dns_kv *meta; /* node Meta, for TXT records */
	uint32_t nmeta;
	enum dns_health health; /* worst node-level check (serfHealth, maint) */
};

/* Input to dns_view_add_instance(); borrowed for the call only. */
struct dns_instance_spec {
	struct dns_str node;    /* must already be in the view */
	struct dns_str id;      /* service ID, unique per node */
	struct dns_str service; /* service name */
	const struct dns_str *tags;
	uint32_t ntags;
	struct dns_str address; /* empty = the node's address */
	uint16_t port;
	const struct dns_kv *tagged; /* service TaggedAddresses */
	uint32_t ntagged;
	uint32_t weight_passing; /* SRV weight if passing (Consul: 1) */
	uint32_t weight_warning; /* SRV weight if warning (Consul: 1) */
	enum dns_health health;  /* worst service-level check */
};

/* ---- read-only records, as dns_query sees them ---- */

struct dns_view_meta {
	char *key;
	char *value;
};

struct dns_view_node {
	char *name; /* as registered (case kept) */
	uint32_t name_len;
	char *dc; /* NULL = the config's datacenter */
	struct dns_addr addr;
	char *host; /* when addr.family == DNS_ADDR_HOST */
	struct dns_addr tagged_v4, tagged_v6; /* lan_ipv4 / lan_ipv6 */
	struct dns_view_meta *meta;
	uint32_t nmeta;
	enum dns_health health;
	uint32_t ninstances;
};

struct dns_view_instance {
	struct dns_view_node *node;
	char *id;
	char *service; /* as registered */
	uint32_t service_len;
	char **tags;
	uint32_t ntags;
	struct dns_addr addr; /* family NONE = the node's address */
	char *host;           /* when addr.family == DNS_ADDR_HOST */
	struct dns_addr tagged_v4, tagged_v6;
	uint16_t port;
	uint32_t weight_passing, weight_warning;
	enum dns_health health; /* service-level: dns_view_instance_health */
};

/* All instances of one service name, in insertion order. */
struct dns_view_service {
	char *name;
	uint32_t name_len;
	struct dns_view_instance **inst;
	uint32_t n, cap;
};

/* Nodes and instances registered at one address (PTR). */
struct dns_view_addr_entry {
	struct dns_addr addr;
	struct dns_view_node **nodes;
	uint32_t nnodes, capnodes;
	struct dns_view_instance **inst; /* instances with their own address */
	uint32_t ninst, capinst;
};

struct dns_view;

/* Returns a new empty view, owned by the caller (free with
 * dns_view_free()), or NULL on allocation failure. */
struct dns_view *dns_view_new(void);

/* Frees view and everything in it. NULL is a no-op. */
void dns_view_free(struct dns_view *view);

/* Adds a node. Copies spec. ERR_EXISTS if a node of that name (any case)
 * is present, ERR_INVAL for an empty name or an empty/invalid address,
 * ERR_NOMEM. On failure the view is unchanged. */
int dns_view_add_node(struct dns_view *view, const struct dns_node_spec *spec);

/* Adds a service instance on an existing node. Copies spec. ERR_NOTFOUND
 * if the node is absent, ERR_EXISTS if (node, id) is present, ERR_INVAL
 * for an empty service name or an unusable address, ERR_NOMEM. On failure
 * the view is unchanged. */
int dns_view_add_instance(struct dns_view *view,
    const struct dns_instance_spec *spec);

/* Removes instance (node, id); ERR_NOTFOUND if absent. */
int dns_view_remove_instance(struct dns_view *view, struct dns_str node,
    struct dns_str id);

/* Removes a node and all its instances; ERR_NOTFOUND if absent. */
int dns_view_remove_node(struct dns_view *view, struct dns_str node);

/* Sets the node-level health (applies to every instance on the node). */
int dns_view_set_node_health(struct dns_view *view, struct dns_str node,
    enum dns_health health);

/* Sets the service-level health of instance (node, id). */
int dns_view_set_instance_health(struct dns_view *view, struct dns_str node,
    struct dns_str id, enum dns_health health);

/* Lookups: case-insensitive; return borrowed pointers (valid until the
 * next modifying call) or NULL. */
const struct dns_view_node *dns_view_find_node(const struct dns_view *view,
    const char *name, size_t len);
const struct dns_view_service *dns_view_find_service(
    const struct dns_view *view, const char *name, size_t len);
const struct dns_view_addr_entry *dns_view_find_addr(
    const struct dns_view *view, const struct dns_addr *addr);

/* The instance's aggregate health: the worse of its own and its node's. */
enum dns_health dns_view_instance_health(const struct dns_view_instance *in);

/* Whether inst carries tag (case-insensitive). Borrows. */
bool dns_view_instance_has_tag(const struct dns_view_instance *inst,
    const char *tag, size_t len);

/* The largest instance count of any one service (sizes query scratch). */
uint32_t dns_view_max_instances(const struct dns_view *view);

/* Counts, for tests and metrics. */
uint32_t dns_view_node_count(const struct dns_view *view);
uint32_t dns_view_instance_count(const struct dns_view *view);

/* Parses s as an IPv4 or IPv6 literal into out; 0 or ERR_INVAL. */
int dns_view_parse_ip(struct dns_str s, struct dns_addr *out);

#endif
