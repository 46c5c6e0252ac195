/*
 * dns_config.c — defaults and the service_ttl lookup for dnsd.
 *
 * Key decision: service_ttl is matched at query time by a linear scan of
 * the (short, operator-written) rule list; an exact key beats any prefix
 * and the longest trailing-"*" prefix wins, "*" being the empty prefix.
 * Reference: Consul agent config "dns_config.service_ttl"; consul-api §5.3.
 */
#include "dnsd/dns_config.h"

#include <strings.h>
#include <string.h>

void
dns_config_init(struct dns_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->domain = "consul.";
	cfg->datacenter = "dc1";
	cfg->udp_answer_limit = 3;
	cfg->enable_additional_node_meta_txt = true;
	cfg->soa.refresh_s = 3600;
	cfg->soa.retry_s = 600;
	cfg->soa.expire_s = 86400;
	cfg->soa.min_ttl_s = 0;
}

uint32_t
dns_config_service_ttl(const struct dns_config *cfg, const char *name,
    size_t len)
{
	size_t i, plen;
	long best = -1;
	uint32_t ttl = 0;

	for (i = 0; i < cfg->n_service_ttl; i++) {
		const char *p = cfg->service_ttl[i].pattern;

		if (p == NULL)
			continue;
		plen = strlen(p);
		if (plen > 0 && p[plen - 1] == '*') {
			plen--;
			if (plen <= len && (long)plen > best &&
			    strncasecmp(p, name, plen) == 0) {
				best = (long)plen;
				ttl = cfg->service_ttl[i].ttl_s;
			}
		} else if (plen == len && strncasecmp(p, name, len) == 0)
			return cfg->service_ttl[i].ttl_s;
	}
	return ttl;
}
