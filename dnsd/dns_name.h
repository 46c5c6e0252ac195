/*
 * dns_name.h — classifies a query name into one of Consul's DNS forms.
 *
 * Pure: takes the question name in wire form (already validated by
 * dns_wire_parse: uncompressed labels, <= 255 bytes) and the config, and
 * returns which form it is with its fields pointing into the wire bytes.
 * The datacenter is an explicit field so that multi-DC forwarding can slot
 * in later. Reference: consul-api.md §5.2; Consul agent/dns.go
 * (dispatch / parseQuery label walk, right to left).
 */
#ifndef CAIRN_DNS_NAME_H
#define CAIRN_DNS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsd/dns_config.h"
#include "dnsd/dns_view.h"

#define DNS_NAME_MAX_LABELS 128

struct dns_label {
	const char *p; /* borrowed from the wire name; not NUL-terminated */
	uint8_t len;
};

enum dns_name_kind {
	DNS_NAME_OUTSIDE = 0, /* not in our domains nor a reverse zone */
	DNS_NAME_INVALID,     /* in our domain, no known form: NXDOMAIN */
	DNS_NAME_APEX,        /* the domain itself (SOA, NS) */
	DNS_NAME_NODE,        /* <node>.node[.<dc>[.dc]].<domain> */
	DNS_NAME_SERVICE,     /* [<tag>.]<svc>.service…, _<svc>._<tag>… */
	DNS_NAME_ADDR,        /* <hex>.addr[.<dc>[.dc]].<domain> */
	DNS_NAME_PTR,         /* …in-addr.arpa / …ip6.arpa */
};

struct dns_name {
	enum dns_name_kind kind;
	const char *domain;   /* the matched domain text (cfg->domain or
	                       * cfg->alt_domain), borrowed; NULL outside */
	bool alt;             /* matched alt_domain */
	struct dns_label dc;  /* len 0 = not given (the local DC) */
	char node[256];       /* NODE: labels before "node" joined by '.' */
	size_t node_len;
	struct dns_label service;
	struct dns_label tag; /* len 0 = no tag filter */
	bool rfc2782;
	struct dns_addr addr; /* ADDR/PTR; family NONE = not a valid address */
};

/* Classifies wire (len bytes, a validated uncompressed name ending in the
 * root label). Fills out; borrows wire and cfg (out points into both). */
void dns_name_parse(const struct dns_config *cfg, const uint8_t *wire,
    size_t len, struct dns_name *out);

/* Whether name's datacenter (if any) is cfg's datacenter. */
bool dns_name_dc_ok(const struct dns_config *cfg, const struct dns_name *name);

/* Appends src (len bytes, one label) to dst (NUL-terminated, cap bytes in
 * total) in presentation form, escaping every byte outside [A-Za-z0-9-_]
 * as \DDD. Returns 0, or ERR_TOOBIG if it does not fit (dst unchanged). */
int dns_name_append_label(char *dst, size_t cap, const char *src, size_t len);

/* Appends a C string verbatim (already presentation form). 0 or
 * ERR_TOOBIG. */
int dns_name_append(char *dst, size_t cap, const char *s);

/* Writes the lowercase hex form of an IP (8 or 32 digits) into dst (>= 33
 * bytes). */
void dns_name_hex_ip(const struct dns_addr *a, char *dst);

#endif
