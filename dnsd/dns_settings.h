/*
 * dns_settings.h — dnsd's settings from the node configuration: the
 * answering config (struct dns_config, for dns_query_answer()) and the
 * daemon-side knobs (recursors, their timeout and strategy, stale limits).
 *
 * config_load() has already checked dns_config's keys and types (an
 * unknown key is an error there); this file reads the kept JSON text
 * (config.h dns_config_json) into values. It owns every string the
 * dns_config points at, so a reload builds a new dns_settings and swaps
 * it in whole. Reference: spec/consul-api.md §5.4; Consul agent/config
 * "dns_config".
 */
#ifndef CAIRN_DNS_SETTINGS_H
#define CAIRN_DNS_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsd/dns_config.h"

struct config;

#define DNS_SETTINGS_MAX_RECURSORS 16

enum dns_recursor_strategy {
	DNS_RECURSOR_SEQUENTIAL = 0,
	DNS_RECURSOR_RANDOM = 1,
};

struct dns_settings {
	struct dns_config dns;       /* points into the fields below */
	char *domain, *alt_domain, *datacenter;
	struct dns_ttl_rule *ttl;    /* owned, patterns owned */
	size_t n_ttl;
	char *ns_server;             /* this node when it is a server */
	const char *ns_list[1];
	char **recursors;            /* owned strings, "ip[:port]" */
	size_t n_recursors;
	uint32_t recursor_timeout_ms; /* 2000 */
	enum dns_recursor_strategy strategy;
	bool allow_stale;            /* true */
	uint64_t max_stale_ms;       /* 87600h */
	/* cairn's own keys (Consul has none): per-source-network UDP
	 * limit, dns_config.x_cairn_rate_limit (queries/s, 0 = none, the
	 * default) and x_cairn_rate_burst (0: one second's worth) */
	uint32_t rate_limit, rate_burst;
};

/*
 * Fills s from cfg (borrowed for the call; s copies what it keeps).
 * Returns 0, or ERR_CONFIG / ERR_NOMEM after writing a line naming the key
 * into err. On failure s is left empty (dns_settings_free is still safe).
 * Free with dns_settings_free().
 */
int dns_settings_load(struct dns_settings *s, const struct config *cfg,
    char *err, size_t errlen);
void dns_settings_free(struct dns_settings *s);

#endif
