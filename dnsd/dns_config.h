/*
 * dns_config.h — dnsd's answering configuration (Consul's dns_config plus
 * the top-level domain, alt_domain, datacenter and recursors flag).
 *
 * The daemon fills one struct dns_config at startup (from config.h's
 * dns_config_json) and hands it, read-only, to dns_query_answer(). Every
 * string is borrowed: it must outlive every call that uses the config.
 * Reference: Consul docs "DNS interface", agent config "dns_config";
 * spec/consul-api.md §5.4.
 */
#ifndef CAIRN_DNS_CONFIG_H
#define CAIRN_DNS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One service_ttl entry: "web" (exact), "web*" (prefix), "*" (any). */
struct dns_ttl_rule {
	const char *pattern; /* borrowed */
	uint32_t ttl_s;
};

struct dns_soa_config {
	uint32_t refresh_s; /* 3600 */
	uint32_t retry_s;   /* 600 */
	uint32_t expire_s;  /* 86400 */
	uint32_t min_ttl_s; /* 0: also the SOA's TTL (negative caching) */
};

struct dns_config {
	const char *domain;     /* "consul." (trailing dot optional) */
	const char *alt_domain; /* NULL or "" for none */
	const char *datacenter; /* "dc1": the local datacenter */
	uint32_t node_ttl_s;    /* 0 */
	const struct dns_ttl_rule *service_ttl; /* borrowed array */
	size_t n_service_ttl;
	uint32_t udp_answer_limit; /* 3; 0 = no record-count cap */
	uint32_t a_record_limit;   /* 0 = unlimited */
	bool enable_truncate;      /* false: trim UDP answers silently */
	bool only_passing;         /* false: warning instances are answered */
	bool enable_additional_node_meta_txt; /* true */
	struct dns_soa_config soa;
	/* Recursors are configured: set RA and return DNS_QUERY_FORWARD for
	 * names outside our domains (REFUSED otherwise). */
	bool recursors;
	/* Server node names for the apex NS answer (<srv>.node.<dc>.<domain>,
	 * glue from the view). Borrowed. */
	const char *const *ns_servers;
	size_t n_ns_servers;
};

/* Fills cfg with Consul's defaults: domain "consul.", datacenter "dc1",
 * TTLs 0, udp_answer_limit 3, node meta TXT on, SOA 3600/600/86400/0, no
 * recursors, no NS servers. Strings point at literals. */
void dns_config_init(struct dns_config *cfg);

/* The TTL for service name (len bytes, case-insensitive): the exact rule,
 * else the longest matching "prefix*" rule ("*" is the empty prefix), else
 * 0. Borrows everything; allocates nothing. */
uint32_t dns_config_service_ttl(const struct dns_config *cfg,
    const char *name, size_t len);

#endif
