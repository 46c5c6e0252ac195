/*
 * dns_settings.c — reads dnsd's settings out of the node configuration
 * (see dns_settings.h): the top-level domain, alt_domain, datacenter and
 * recursors, and the dns_config object kept as JSON text by config_load().
 *
 * Key decision: config_load() validated keys and types already, so a
 * value of the wrong shape here is a broken invariant reported as
 * ERR_CONFIG, never a crash; durations are Go strings ("2s") or numbers
 * of nanoseconds, as Consul accepts. The only <jansson.h> includer of
 * dnsd. Reference: spec/consul-api.md §5.4 (defaults).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "dnsd/dns_settings.h"
#include "err.h"

#define DNS_SETTINGS_MAX_STALE_MS (87600ull * 3600 * 1000)

static char *
dns_settings_strdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* A duration value: a Go duration string or a number of nanoseconds. */
static int
dns_settings_duration(json_t *v, uint64_t *ms)
{
	uint64_t ns;

	if (json_is_string(v)) {
		if (config_duration_parse(json_string_value(v), &ns) != 0)
			return ERR_CONFIG;
	} else if (json_is_integer(v) && json_integer_value(v) >= 0)
		ns = (uint64_t)json_integer_value(v);
	else
		return ERR_CONFIG;
	*ms = ns / 1000000;
	return 0;
}

static int
dns_settings_u32(json_t *v, uint32_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > UINT32_MAX)
		return ERR_CONFIG;
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static int
dns_settings_bool(json_t *v, bool *out)
{
	if (!json_is_boolean(v))
		return ERR_CONFIG;
	*out = json_is_true(v);
	return 0;
}

static int
dns_settings_ttl_map(struct dns_settings *s, json_t *v)
{
	const char *k;
	json_t *d;
	uint64_t ms;
	size_t i = 0;

	if (!json_is_object(v))
		return ERR_CONFIG;
	if (json_object_size(v) == 0)
		return 0;
	if ((s->ttl = calloc(json_object_size(v), sizeof(*s->ttl))) == NULL)
		return ERR_NOMEM;
	json_object_foreach(v, k, d) {
		if (dns_settings_duration(d, &ms) != 0)
			return ERR_CONFIG;
		if ((s->ttl[i].pattern = strdup(k)) == NULL)
			return ERR_NOMEM;
		s->ttl[i].ttl_s = (uint32_t)(ms / 1000);
		s->n_ttl = ++i;
	}
	return 0;
}

static int
dns_settings_soa(struct dns_settings *s, json_t *v)
{
	json_t *x;

	if (!json_is_object(v))
		return ERR_CONFIG;
	if ((x = json_object_get(v, "expire")) != NULL &&
	    dns_settings_u32(x, &s->dns.soa.expire_s) != 0)
		return ERR_CONFIG;
	if ((x = json_object_get(v, "min_ttl")) != NULL &&
	    dns_settings_u32(x, &s->dns.soa.min_ttl_s) != 0)
		return ERR_CONFIG;
	if ((x = json_object_get(v, "refresh")) != NULL &&
	    dns_settings_u32(x, &s->dns.soa.refresh_s) != 0)
		return ERR_CONFIG;
	if ((x = json_object_get(v, "retry")) != NULL &&
	    dns_settings_u32(x, &s->dns.soa.retry_s) != 0)
		return ERR_CONFIG;
	return 0;
}

/* One key of dns_config; unknown keys were refused by config_load(). */
static int
dns_settings_key(struct dns_settings *s, const char *k, json_t *v)
{
	uint64_t ms;
	const char *str;

	if (strcmp(k, "allow_stale") == 0)
		return dns_settings_bool(v, &s->allow_stale);
	if (strcmp(k, "max_stale") == 0) {
		if (dns_settings_duration(v, &ms) != 0)
			return ERR_CONFIG;
		s->max_stale_ms = ms;
		return 0;
	}
	if (strcmp(k, "node_ttl") == 0) {
		if (dns_settings_duration(v, &ms) != 0)
			return ERR_CONFIG;
		s->dns.node_ttl_s = (uint32_t)(ms / 1000);
		return 0;
	}
	if (strcmp(k, "service_ttl") == 0)
		return dns_settings_ttl_map(s, v);
	if (strcmp(k, "udp_answer_limit") == 0)
		return dns_settings_u32(v, &s->dns.udp_answer_limit);
	if (strcmp(k, "a_record_limit") == 0)
		return dns_settings_u32(v, &s->dns.a_record_limit);
	if (strcmp(k, "enable_truncate") == 0)
		return dns_settings_bool(v, &s->dns.enable_truncate);
	if (strcmp(k, "only_passing") == 0)
		return dns_settings_bool(v, &s->dns.only_passing);
	if (strcmp(k, "enable_additional_node_meta_txt") == 0)
		return dns_settings_bool(v,
		    &s->dns.enable_additional_node_meta_txt);
	if (strcmp(k, "recursor_timeout") == 0) {
		if (dns_settings_duration(v, &ms) != 0 || ms == 0 ||
		    ms > UINT32_MAX)
			return ERR_CONFIG;
		s->recursor_timeout_ms = (uint32_t)ms;
		return 0;
	}
	if (strcmp(k, "recursor_strategy") == 0) {
		if (!json_is_string(v))
			return ERR_CONFIG;
		str = json_string_value(v);
		if (strcmp(str, "sequential") == 0 || *str == '\0')
			s->strategy = DNS_RECURSOR_SEQUENTIAL;
		else if (strcmp(str, "random") == 0)
			s->strategy = DNS_RECURSOR_RANDOM;
		else
			return ERR_CONFIG;
		return 0;
	}
	if (strcmp(k, "soa") == 0)
		return dns_settings_soa(s, v);
	if (strcmp(k, "x_cairn_rate_limit") == 0)
		return dns_settings_u32(v, &s->rate_limit);
	if (strcmp(k, "x_cairn_rate_burst") == 0)
		return dns_settings_u32(v, &s->rate_burst);
	/* disable_compression, use_cache, cache_max_age, prefer_namespace:
	 * accepted, no effect here (P2 or Enterprise). */
	return 0;
}

static int
dns_settings_json(struct dns_settings *s, const char *text, char *err,
    size_t errlen)
{
	json_error_t je;
	json_t *root, *v;
	const char *k;
	int rc = 0;

	if ((root = json_loads(text, 0, &je)) == NULL || !json_is_object(root)) {
		snprintf(err, errlen, "dns_config: not a JSON object");
		json_decref(root);
		return ERR_CONFIG;
	}
	json_object_foreach(root, k, v) {
		if ((rc = dns_settings_key(s, k, v)) != 0) {
			snprintf(err, errlen, "dns_config.%s: %s", k,
			    rc == ERR_NOMEM ? "out of memory" :
					      "invalid value");
			break;
		}
	}
	json_decref(root);
	return rc;
}

static int
dns_settings_strings(struct dns_settings *s, const struct config *cfg)
{
	size_t i;

	if ((s->domain = dns_settings_strdup(cfg->domain)) == NULL ||
	    (s->alt_domain = dns_settings_strdup(cfg->alt_domain)) == NULL ||
	    (s->datacenter = dns_settings_strdup(cfg->datacenter)) == NULL)
		return ERR_NOMEM;
	if (cfg->recursors.n > 0) {
		s->recursors = calloc(cfg->recursors.n, sizeof(char *));
		if (s->recursors == NULL)
			return ERR_NOMEM;
		for (i = 0; i < cfg->recursors.n; i++) {
			if ((s->recursors[i] = strdup(cfg->recursors.v[i])) ==
			    NULL)
				return ERR_NOMEM;
			s->n_recursors = i + 1;
		}
	}
	if (cfg->server && cfg->node_name != NULL && *cfg->node_name != '\0') {
		if ((s->ns_server = strdup(cfg->node_name)) == NULL)
			return ERR_NOMEM;
	}
	return 0;
}

int
dns_settings_load(struct dns_settings *s, const struct config *cfg,
    char *err, size_t errlen)
{
	int rc;

	memset(s, 0, sizeof(*s));
	dns_config_init(&s->dns);
	s->recursor_timeout_ms = 2000;
	s->allow_stale = true;
	s->max_stale_ms = DNS_SETTINGS_MAX_STALE_MS;
	if ((rc = dns_settings_strings(s, cfg)) != 0) {
		snprintf(err, errlen, "dnsd: out of memory");
		dns_settings_free(s);
		return rc;
	}
	if ((rc = dns_settings_json(s, cfg->dns_config_json != NULL ?
	    cfg->dns_config_json : "{}", err, errlen)) != 0) {
		dns_settings_free(s);
		return rc;
	}
	if (s->n_recursors > DNS_SETTINGS_MAX_RECURSORS) {
		snprintf(err, errlen, "recursors: at most %d are used",
		    DNS_SETTINGS_MAX_RECURSORS);
		dns_settings_free(s);
		return ERR_CONFIG;
	}
	if (*s->domain != '\0')
		s->dns.domain = s->domain;
	s->dns.alt_domain = *s->alt_domain != '\0' ? s->alt_domain : NULL;
	if (*s->datacenter != '\0')
		s->dns.datacenter = s->datacenter;
	s->dns.service_ttl = s->ttl;
	s->dns.n_service_ttl = s->n_ttl;
	s->dns.recursors = s->n_recursors > 0;
	if (s->ns_server != NULL) {
		s->ns_list[0] = s->ns_server;
		s->dns.ns_servers = s->ns_list;
		s->dns.n_ns_servers = 1;
	}
	return 0;
}

void
dns_settings_free(struct dns_settings *s)
{
	size_t i;

	for (i = 0; i < s->n_ttl; i++)
		free((char *)s->ttl[i].pattern);
	free(s->ttl);
	for (i = 0; i < s->n_recursors; i++)
		free(s->recursors[i]);
	free(s->recursors);
	free(s->domain);
	free(s->alt_domain);
	free(s->datacenter);
	free(s->ns_server);
	memset(s, 0, sizeof(*s));
}
