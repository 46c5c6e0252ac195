/*
 * config.c — one node's configuration: defaults, JSON files and
 * directories, then Consul's command line flags (see config.h).
 *
 * Key decision: one table of JSON keys (struct config_key) drives both the
 * files and the flags. A flag is a key path ("-http-port" is
 * "ports.http"): its string is turned into a JSON value of the key's type
 * and applied by the same setter, so a key and its flag cannot disagree
 * on type, range or merge rule. Scalars are overwritten by later sources,
 * lists appended, maps merged (Consul agent/config/merge.go). Sections
 * owned by a later role (services, checks, dns_config, acl, ...) are
 * type-checked here and kept as JSON text.
 *
 * Reference: Consul agent configuration (spec/consul-api.md §8, §6.1 for
 * -dev), Consul agent/config/builder.go for the validation rules, Go's
 * time.ParseDuration for durations. JSON is jansson (its one home here).
 */
#include <ctype.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "err.h"
#include "log.h"

enum config_kt {
	KT_BOOL,
	KT_INT,     /* int, range [min, max] (KF_NEG1: -1 too) */
	KT_U32,     /* uint32_t, range [min, max] */
	KT_DOUBLE,  /* double >= 0 */
	KT_DUR32,   /* duration into uint32_t milliseconds */
	KT_DUR64,   /* duration into uint64_t milliseconds */
	KT_STR,     /* char *, owned */
	KT_STRLIST, /* struct config_strlist, appended */
	KT_STRMAP,  /* struct config_strmap, merged */
	KT_OBJ,     /* nested table: sub */
	KT_JSONOBJ, /* kept as JSON text: object, deep-merged; sub checks keys */
	KT_JSONARR, /* kept as JSON text: array of objects, appended */
	KT_JSONONE, /* one object appended to a KT_JSONARR slot */
	KT_ANYOBJ,  /* an object accepted and not kept */
	KT_DURMAP,  /* an object of durations, not kept */
};

#define KF_NEG1 0x01    /* an int that also accepts -1 (disabled) */
#define KF_NOSTORE 0x02 /* type-checked, then dropped */
#define KF_LOT 0x04     /* leave_on_terminate: default depends on server */
#define KF_SLI 0x08     /* skip_leave_on_interrupt: likewise */
#define KF_BE 0x10      /* bootstrap_expect: -dev's 1 is for a dev server */

/* Slots of the sections kept as JSON text. */
enum config_js {
	JS_SERVICES,
	JS_CHECKS,
	JS_DNS,
	JS_ACL,
	JS_WATCHES,
	JS_TELEMETRY,
	JS_HTTPCONF,
	JS__N
};

struct config_key {
	const char *name;
	enum config_kt type;
	size_t off; /* offsetof(struct config, ...) or an enum config_js */
	const struct config_key *sub;
	long long min, max;
	unsigned flags;
};

#define C(f) offsetof(struct config, f)
#define KEND { NULL, 0, 0, NULL, 0, 0, 0 }
#define KB(n, f) { n, KT_BOOL, C(f), NULL, 0, 0, 0 }
#define KS(n, f) { n, KT_STR, C(f), NULL, 0, 0, 0 }
#define KL(n, f) { n, KT_STRLIST, C(f), NULL, 0, 0, 0 }
#define KU(n, f, lo, hi) { n, KT_U32, C(f), NULL, lo, hi, 0 }
#define KD(n, f) { n, KT_DUR32, C(f), NULL, 0, 0, 0 }
#define KD64(n, f) { n, KT_DUR64, C(f), NULL, 0, 0, 0 }
#define KPORT(n, f, fl) { n, KT_INT, C(ports.f), NULL, 1, 65535, fl }
#define KX(n, t) { n, t, 0, NULL, 0, 0, KF_NOSTORE }
#define KXU(n) { n, KT_U32, 0, NULL, 0, UINT32_MAX, KF_NOSTORE }
#define KXD(n) { n, KT_DUR64, 0, NULL, 0, 0, KF_NOSTORE }

static const struct config_key config_ports_keys[] = {
	KPORT("dns", dns, KF_NEG1),
	KPORT("http", http, KF_NEG1),
	KPORT("https", https, KF_NEG1),
	KPORT("grpc", grpc, KF_NEG1),
	KPORT("grpc_tls", grpc_tls, KF_NEG1),
	KPORT("serf_lan", serf_lan, 0),
	KPORT("serf_wan", serf_wan, KF_NEG1),
	KPORT("server", server, 0),
	{ "sidecar_min_port", KT_INT, 0, NULL, 1, 65535, KF_NOSTORE },
	{ "sidecar_max_port", KT_INT, 0, NULL, 1, 65535, KF_NOSTORE },
	{ "expose_min_port", KT_INT, 0, NULL, 1, 65535, KF_NOSTORE },
	{ "expose_max_port", KT_INT, 0, NULL, 1, 65535, KF_NOSTORE },
	KEND
};

static const struct config_key config_addresses_keys[] = {
	KS("http", addresses.http),
	KS("https", addresses.https),
	KS("dns", addresses.dns),
	KS("grpc", addresses.grpc),
	KEND
};

static const struct config_key config_ui_keys[] = {
	KB("enabled", ui),
	KS("dir", ui_dir),
	KS("content_path", ui_content_path),
	KX("metrics_provider", KT_STR),
	KX("metrics_provider_options_json", KT_STR),
	KX("metrics_proxy", KT_ANYOBJ),
	KX("dashboard_url_templates", KT_ANYOBJ),
	KEND
};

static const struct config_key config_limits_keys[] = {
	KU("http_max_conns_per_client", http_max_conns_per_client, 0,
	    UINT32_MAX),
	KU("rpc_max_conns_per_client", rpc_max_conns_per_client, 0,
	    UINT32_MAX),
	{ "rpc_rate", KT_DOUBLE, C(rpc_rate), NULL, 0, 0, 0 },
	KU("rpc_max_burst", rpc_max_burst, 0, UINT32_MAX),
	KD("rpc_client_timeout", rpc_client_timeout_ms),
	KXD("rpc_handshake_timeout"),
	KXD("https_handshake_timeout"),
	KU("kv_max_value_size", kv_max_value_size, 1, UINT32_MAX),
	KU("txn_max_req_len", txn_max_req_len, 1, UINT32_MAX),
	KX("request_limits", KT_ANYOBJ),
	KEND
};

static const struct config_key config_performance_keys[] = {
	KU("raft_multiplier", raft_multiplier, 1, 10),
	KD("leave_drain_time", leave_drain_time_ms),
	KD("rpc_hold_timeout", rpc_hold_timeout_ms),
	KEND
};

static const struct config_key config_autopilot_keys[] = {
	KB("cleanup_dead_servers", autopilot.cleanup_dead_servers),
	KD("last_contact_threshold", autopilot.last_contact_threshold_ms),
	KU("max_trailing_logs", autopilot.max_trailing_logs, 0, UINT32_MAX),
	KU("min_quorum", autopilot.min_quorum, 0, UINT32_MAX),
	KD("server_stabilization_time",
	    autopilot.server_stabilization_time_ms),
	KX("redundancy_zone_tag", KT_STR),
	KX("disable_upgrade_migration", KT_BOOL),
	KX("upgrade_version_tag", KT_STR),
	KEND
};

/* dns_config (spec §5.4): checked here, kept as JSON text for dnsd. */
static const struct config_key config_soa_keys[] = {
	KXU("expire"), KXU("min_ttl"), KXU("refresh"), KXU("retry"), KEND
};
static const struct config_key config_dns_keys[] = {
	KX("allow_stale", KT_BOOL),
	KXD("max_stale"),
	KXD("node_ttl"),
	KX("service_ttl", KT_DURMAP),
	KXU("udp_answer_limit"),
	KXU("a_record_limit"),
	KX("enable_truncate", KT_BOOL),
	KX("only_passing", KT_BOOL),
	KX("recursor_strategy", KT_STR),
	KXD("recursor_timeout"),
	KX("disable_compression", KT_BOOL),
	KX("enable_additional_node_meta_txt", KT_BOOL),
	{ "soa", KT_OBJ, 0, config_soa_keys, 0, 0, KF_NOSTORE },
	KX("use_cache", KT_BOOL),
	KXD("cache_max_age"),
	KX("prefer_namespace", KT_BOOL),
	/* cairn's own (Consul has no DNS rate limit): per source network */
	KXU("x_cairn_rate_limit"),
	KXU("x_cairn_rate_burst"),
	KEND
};

/* acl (spec §7.1): checked here, kept as JSON text for a later issue. */
static const struct config_key config_acl_tokens_keys[] = {
	KX("initial_management", KT_STR), KX("master", KT_STR),
	KX("agent", KT_STR), KX("agent_recovery", KT_STR),
	KX("agent_master", KT_STR), KX("default", KT_STR),
	KX("replication", KT_STR), KX("dns", KT_STR),
	KX("config_file_service_registration", KT_STR), KEND
};
static const struct config_key config_acl_keys[] = {
	KX("enabled", KT_BOOL),
	KX("default_policy", KT_STR),
	KX("down_policy", KT_STR),
	KX("enable_token_persistence", KT_BOOL),
	KX("enable_token_replication", KT_BOOL),
	KX("enable_key_list_policy", KT_BOOL),
	KXD("token_ttl"),
	KXD("policy_ttl"),
	KXD("role_ttl"),
	{ "tokens", KT_OBJ, 0, config_acl_tokens_keys, 0, 0, KF_NOSTORE },
	KEND
};

static const struct config_key config_keys[] = {
	{ "datacenter", KT_STR, C(datacenter), NULL, 0, 0, 0 },
	KS("primary_datacenter", primary_datacenter),
	KS("node_name", node_name),
	KS("node_id", node_id),
	{ "node_meta", KT_STRMAP, C(node_meta), NULL, 0, 0, 0 },
	KB("server", server),
	{ "bootstrap_expect", KT_INT, C(bootstrap_expect), NULL, 0, INT_MAX,
	    KF_BE },
	KB("bootstrap", bootstrap),
	KS("data_dir", data_dir),
	KS("runtime_dir", runtime_dir),
	KS("bind_addr", bind_addr),
	KS("advertise_addr", advertise_addr),
	KS("advertise_addr_wan", advertise_addr_wan),
	KS("client_addr", client_addr),
	{ "addresses", KT_OBJ, 0, config_addresses_keys, 0, 0, 0 },
	{ "ports", KT_OBJ, 0, config_ports_keys, 0, 0, 0 },
	KL("retry_join", retry_join),
	KL("start_join", start_join),
	KL("retry_join_wan", retry_join_wan),
	KD("retry_interval", retry_interval_ms),
	KU("retry_max", retry_max, 0, UINT32_MAX),
	KD("retry_interval_wan", retry_interval_wan_ms),
	KU("retry_max_wan", retry_max_wan, 0, UINT32_MAX),
	KB("rejoin_after_leave", rejoin_after_leave),
	KB("ui", ui),
	KS("ui_dir", ui_dir),
	{ "ui_config", KT_OBJ, 0, config_ui_keys, 0, 0, 0 },
	KS("domain", domain),
	KS("alt_domain", alt_domain),
	KL("recursors", recursors),
	{ "dns_config", KT_JSONOBJ, JS_DNS, config_dns_keys, 0, 0, 0 },
	KS("log_level", log_level),
	KB("log_json", log_json),
	KB("enable_syslog", enable_syslog),
	KS("pid_file", pid_file),
	{ "leave_on_terminate", KT_BOOL, C(leave_on_terminate), NULL, 0, 0,
	    KF_LOT },
	{ "skip_leave_on_interrupt", KT_BOOL, C(skip_leave_on_interrupt),
	    NULL, 0, 0, KF_SLI },
	KD64("reconnect_timeout", reconnect_timeout_ms),
	KD64("reconnect_timeout_wan", reconnect_timeout_wan_ms),
	KD("session_ttl_min", session_ttl_min_ms),
	KB("enable_script_checks", enable_script_checks),
	KB("enable_local_script_checks", enable_local_script_checks),
	KD("check_update_interval", check_update_interval_ms),
	KD("default_query_time", default_query_ms),
	KD("max_query_time", max_query_ms),
	{ "limits", KT_OBJ, 0, config_limits_keys, 0, 0, 0 },
	{ "performance", KT_OBJ, 0, config_performance_keys, 0, 0, 0 },
	KU("raft_protocol", raft_protocol, 3, 3),
	KU("raft_snapshot_threshold", raft_snapshot_threshold, 0, UINT32_MAX),
	KD("raft_snapshot_interval", raft_snapshot_interval_ms),
	KU("raft_trailing_logs", raft_trailing_logs, 0, UINT32_MAX),
	{ "autopilot", KT_OBJ, 0, config_autopilot_keys, 0, 0, 0 },
	{ "acl", KT_JSONOBJ, JS_ACL, config_acl_keys, 0, 0, 0 },
	KS("encrypt", encrypt),
	{ "service", KT_JSONONE, JS_SERVICES, NULL, 0, 0, 0 },
	{ "services", KT_JSONARR, JS_SERVICES, NULL, 0, 0, 0 },
	{ "check", KT_JSONONE, JS_CHECKS, NULL, 0, 0, 0 },
	{ "checks", KT_JSONARR, JS_CHECKS, NULL, 0, 0, 0 },
	{ "watches", KT_JSONARR, JS_WATCHES, NULL, 0, 0, 0 },
	{ "telemetry", KT_JSONOBJ, JS_TELEMETRY, NULL, 0, 0, 0 },
	{ "http_config", KT_JSONOBJ, JS_HTTPCONF, NULL, 0, 0, 0 },
	KB("disable_update_check", disable_update_check),
	KX("disable_anonymous_signature", KT_BOOL),
	KX("disable_remote_exec", KT_BOOL),
	KEND
};

/* Every char * of struct config, for defaults, "" filling and free. */
static const size_t config_strs[] = {
	C(node_name), C(node_id), C(datacenter), C(data_dir), C(runtime_dir),
	C(bind_addr), C(advertise_addr), C(client_addr), C(domain),
	C(alt_domain), C(log_level), C(services_json), C(checks_json),
	C(dns_config_json), C(advertise_addr_wan), C(addresses.http),
	C(addresses.https), C(addresses.dns), C(addresses.grpc), C(ui_dir),
	C(ui_content_path), C(pid_file), C(primary_datacenter), C(encrypt),
	C(acl_json), C(watches_json), C(telemetry_json), C(http_config_json),
};
static const size_t config_lists[] = { C(retry_join), C(recursors),
	C(start_join), C(retry_join_wan) };

/*
 * Flags: Consul's names (DESIGN.md §7, spec §8.3), each a key path.
 * FL_KEY applies the value to the key; the others are handled apart.
 */
enum config_fk { FL_KEY, FL_DEV, FL_FILE, FL_DIR, FL_FORMAT, FL_HCL };

struct config_flag {
	const char *name;
	enum config_fk kind;
	const char *key;
};

static const struct config_flag config_flags[] = {
	{ "dev", FL_DEV, NULL },
	{ "config-file", FL_FILE, NULL },
	{ "config-dir", FL_DIR, NULL },
	{ "config-format", FL_FORMAT, NULL },
	{ "hcl", FL_HCL, NULL },
	{ "server", FL_KEY, "server" },
	{ "bootstrap-expect", FL_KEY, "bootstrap_expect" },
	{ "bootstrap", FL_KEY, "bootstrap" },
	{ "node", FL_KEY, "node_name" },
	{ "node-id", FL_KEY, "node_id" },
	{ "node-meta", FL_KEY, "node_meta" },
	{ "datacenter", FL_KEY, "datacenter" },
	{ "primary-datacenter", FL_KEY, "primary_datacenter" },
	{ "data-dir", FL_KEY, "data_dir" },
	{ "runtime-dir", FL_KEY, "runtime_dir" },
	{ "bind", FL_KEY, "bind_addr" },
	{ "advertise", FL_KEY, "advertise_addr" },
	{ "advertise-wan", FL_KEY, "advertise_addr_wan" },
	{ "client", FL_KEY, "client_addr" },
	{ "retry-join", FL_KEY, "retry_join" },
	{ "join", FL_KEY, "start_join" },
	{ "retry-join-wan", FL_KEY, "retry_join_wan" },
	{ "retry-interval", FL_KEY, "retry_interval" },
	{ "retry-max", FL_KEY, "retry_max" },
	{ "retry-interval-wan", FL_KEY, "retry_interval_wan" },
	{ "retry-max-wan", FL_KEY, "retry_max_wan" },
	{ "rejoin", FL_KEY, "rejoin_after_leave" },
	{ "http-port", FL_KEY, "ports.http" },
	{ "https-port", FL_KEY, "ports.https" },
	{ "grpc-port", FL_KEY, "ports.grpc" },
	{ "dns-port", FL_KEY, "ports.dns" },
	{ "serf-lan-port", FL_KEY, "ports.serf_lan" },
	{ "serf-wan-port", FL_KEY, "ports.serf_wan" },
	{ "server-port", FL_KEY, "ports.server" },
	{ "ui", FL_KEY, "ui_config.enabled" },
	{ "ui-dir", FL_KEY, "ui_config.dir" },
	{ "ui-content-path", FL_KEY, "ui_config.content_path" },
	{ "log-level", FL_KEY, "log_level" },
	{ "log-json", FL_KEY, "log_json" },
	{ "syslog", FL_KEY, "enable_syslog" },
	{ "pid-file", FL_KEY, "pid_file" },
	{ "domain", FL_KEY, "domain" },
	{ "alt-domain", FL_KEY, "alt_domain" },
	{ "recursor", FL_KEY, "recursors" },
	{ "enable-script-checks", FL_KEY, "enable_script_checks" },
	{ "enable-local-script-checks", FL_KEY, "enable_local_script_checks" },
	{ "encrypt", FL_KEY, "encrypt" },
	{ "raft-protocol", FL_KEY, "raft_protocol" },
	{ NULL, 0, NULL }
};

/* One -config-file/-config-dir, or one flag assignment, in argv order. */
struct config_arg {
	const struct config_flag *flag;
	const char *value; /* borrowed from argv */
};

struct config_load {
	struct config *cfg;
	json_t *js[JS__N];
	bool lot_set, sli_set, be_set;
	char path[256]; /* key path of the error */
	char msg[256];  /* what is wrong with it */
};

/* ---- durations ---- */

int
config_duration_parse(const char *s, uint64_t *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 },
		{ "\xce\xbcs", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		{ "m", 60e9 }, { "h", 3600e9 } };
	double total = 0;

	if (*s == '+')
		s++;
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (*s == '\0')
		return ERR_INVAL;
	while (*s != '\0') {
		const char *start = s;
		size_t best = 0, u, bestlen = 0;
		double v;

		while (isdigit((unsigned char)*s) || *s == '.')
			s++;
		if (s == start || (s - start == 1 && *start == '.'))
			return ERR_INVAL;
		errno = 0;
		v = strtod(start, NULL);
		if (errno != 0)
			return ERR_INVAL;
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			size_t l = strlen(units[u].unit);
			if (strncmp(s, units[u].unit, l) == 0 && l > bestlen) {
				best = u;
				bestlen = l;
			}
		}
		if (bestlen == 0)
			return ERR_INVAL; /* missing or unknown unit */
		total += v * units[best].ns;
		s += bestlen;
	}
	if (total > 9.2e18)
		return ERR_INVAL;
	*ns = (uint64_t)total;
	return 0;
}

/* ---- small helpers ---- */

static char *
config_strdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		fatal("config: strdup");
	return p;
}

static char **
config_strp(struct config *cfg, size_t off)
{
	return (char **)((char *)cfg + off);
}

static void
config_str_set(char **dst, const char *s)
{
	free(*dst);
	*dst = config_strdup(s);
}

static void
config_list_add(struct config_strlist *l, const char *s)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v == NULL)
		fatal("config: realloc");
	l->v = v;
	l->v[l->n++] = config_strdup(s);
}

static void
config_map_set(struct config_strmap *m, const char *k, const char *v)
{
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->k[i], k) == 0) {
			config_str_set(&m->v[i], v);
			return;
		}
	}
	char **nk = realloc(m->k, (m->n + 1) * sizeof(*nk));
	if (nk == NULL)
		fatal("config: realloc");
	m->k = nk;
	char **nv = realloc(m->v, (m->n + 1) * sizeof(*nv));
	if (nv == NULL)
		fatal("config: realloc");
	m->v = nv;
	m->k[m->n] = config_strdup(k);
	m->v[m->n++] = config_strdup(v);
}

static int
config_fail(struct config_load *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
config_fail(struct config_load *ld, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ld->msg, sizeof(ld->msg), fmt, ap);
	va_end(ap);
	return ERR_CONFIG;
}

/* Deep-merges src into dst (objects merged, anything else replaced). */
static void
config_json_merge(json_t *dst, json_t *src)
{
	const char *k;
	json_t *v;

	json_object_foreach(src, k, v) {
		json_t *old = json_object_get(dst, k);
		if (json_is_object(old) && json_is_object(v))
			config_json_merge(old, v);
		else
			json_object_set(dst, k, v);
	}
}

/* ---- applying one JSON value to one key ---- */

static int config_apply_obj(struct config_load *ld,
    const struct config_key *tab, json_t *obj, size_t plen);

static int
config_apply_dur(struct config_load *ld, const struct config_key *k,
    json_t *v, uint64_t *ms)
{
	uint64_t ns;

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		ns = (uint64_t)json_integer_value(v);
	else if (!json_is_string(v) ||
	    config_duration_parse(json_string_value(v), &ns) != 0)
		return config_fail(ld, "expected a duration such as \"10s\"");
	*ms = ns / 1000000;
	if (k->type == KT_DUR32 && *ms > UINT32_MAX)
		return config_fail(ld, "duration too long");
	return 0;
}

static int
config_apply_int(struct config_load *ld, const struct config_key *k,
    json_t *v, long long *out)
{
	if (!json_is_integer(v))
		return config_fail(ld, "expected an integer");
	long long n = json_integer_value(v);
	if ((k->flags & KF_NEG1) && n == -1) {
		*out = n;
		return 0;
	}
	if (n < k->min || n > k->max) {
		if (k->flags & KF_NEG1)
			return config_fail(ld,
			    "must be between %lld and %lld, or -1 to disable",
			    k->min, k->max);
		return config_fail(ld, "must be between %lld and %lld", k->min,
		    k->max);
	}
	*out = n;
	return 0;
}

static int
config_apply_list(struct config_load *ld, const struct config_key *k,
    json_t *v, size_t plen)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return config_fail(ld, "expected an array of strings");
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			snprintf(ld->path + plen, sizeof(ld->path) - plen,
			    "[%zu]", i);
			return config_fail(ld, "expected a string");
		}
	}
	if (k->flags & KF_NOSTORE)
		return 0;
	json_array_foreach(v, i, e) {
		config_list_add((void *)((char *)ld->cfg + k->off),
		    json_string_value(e));
	}
	return 0;
}

static int
config_apply_map(struct config_load *ld, const struct config_key *k,
    json_t *v, size_t plen)
{
	const char *mk;
	json_t *e;

	if (!json_is_object(v))
		return config_fail(ld, "expected an object");
	json_object_foreach(v, mk, e) {
		bool ok = k->type == KT_DURMAP ?
		    json_is_string(e) || json_is_integer(e) : json_is_string(e);
		if (!ok) {
			snprintf(ld->path + plen, sizeof(ld->path) - plen,
			    ".%s", mk);
			return config_fail(ld, k->type == KT_DURMAP ?
			    "expected a duration" : "expected a string");
		}
	}
	if (k->type == KT_STRMAP) {
		json_object_foreach(v, mk, e) {
			config_map_set((void *)((char *)ld->cfg + k->off), mk,
			    json_string_value(e));
		}
	}
	return 0;
}

static int
config_apply_json(struct config_load *ld, const struct config_key *k,
    json_t *v, size_t plen)
{
	size_t i;
	json_t *e;
	int rc;

	switch (k->type) {
	case KT_JSONOBJ:
		if (!json_is_object(v))
			return config_fail(ld, "expected an object");
		if (k->sub != NULL &&
		    (rc = config_apply_obj(ld, k->sub, v, plen)) != 0)
			return rc;
		config_json_merge(ld->js[k->off], v);
		return 0;
	case KT_JSONONE:
		if (!json_is_object(v))
			return config_fail(ld, "expected an object");
		json_array_append(ld->js[k->off], v);
		return 0;
	default: /* KT_JSONARR */
		if (!json_is_array(v))
			return config_fail(ld, "expected an array of objects");
		json_array_foreach(v, i, e) {
			if (!json_is_object(e)) {
				snprintf(ld->path + plen,
				    sizeof(ld->path) - plen, "[%zu]", i);
				return config_fail(ld, "expected an object");
			}
		}
		json_array_extend(ld->js[k->off], v);
		return 0;
	}
}

/* Applies v to key k; ld->path holds the key's path (length plen). */
static int
config_apply(struct config_load *ld, const struct config_key *k, json_t *v,
    size_t plen)
{
	void *dst = (char *)ld->cfg + k->off;
	bool store = !(k->flags & KF_NOSTORE);
	long long n = 0;
	uint64_t ms = 0;
	int rc;

	switch (k->type) {
	case KT_BOOL:
		if (!json_is_boolean(v))
			return config_fail(ld, "expected a boolean");
		if (store)
			*(bool *)dst = json_is_true(v);
		ld->lot_set |= (k->flags & KF_LOT) != 0;
		ld->sli_set |= (k->flags & KF_SLI) != 0;
		return 0;
	case KT_INT:
	case KT_U32:
		if ((rc = config_apply_int(ld, k, v, &n)) != 0)
			return rc;
		ld->be_set |= (k->flags & KF_BE) != 0;
		if (store && k->type == KT_INT)
			*(int *)dst = (int)n;
		else if (store)
			*(uint32_t *)dst = (uint32_t)n;
		return 0;
	case KT_DOUBLE:
		if (!json_is_number(v) || json_number_value(v) < 0)
			return config_fail(ld, "expected a non-negative number");
		if (store)
			*(double *)dst = json_number_value(v);
		return 0;
	case KT_DUR32:
	case KT_DUR64:
		if ((rc = config_apply_dur(ld, k, v, &ms)) != 0)
			return rc;
		if (store && k->type == KT_DUR32)
			*(uint32_t *)dst = (uint32_t)ms;
		else if (store)
			*(uint64_t *)dst = ms;
		return 0;
	case KT_STR:
		if (!json_is_string(v))
			return config_fail(ld, "expected a string");
		if (store)
			config_str_set(dst, json_string_value(v));
		return 0;
	case KT_STRLIST:
		return config_apply_list(ld, k, v, plen);
	case KT_STRMAP:
	case KT_DURMAP:
		return config_apply_map(ld, k, v, plen);
	case KT_OBJ:
		if (!json_is_object(v))
			return config_fail(ld, "expected an object");
		return config_apply_obj(ld, k->sub, v, plen);
	case KT_ANYOBJ:
		if (!json_is_object(v))
			return config_fail(ld, "expected an object");
		return 0;
	default:
		return config_apply_json(ld, k, v, plen);
	}
}

static const struct config_key *
config_key_find(const struct config_key *tab, const char *name, size_t len)
{
	for (; tab->name != NULL; tab++) {
		if (strlen(tab->name) == len && strncmp(tab->name, name, len) == 0)
			return tab;
	}
	return NULL;
}

/* Applies every member of obj against tab; ld->path[0..plen) prefixes. */
static int
config_apply_obj(struct config_load *ld, const struct config_key *tab,
    json_t *obj, size_t plen)
{
	const char *name;
	json_t *v;
	int rc;

	json_object_foreach(obj, name, v) {
		int l = snprintf(ld->path + plen, sizeof(ld->path) - plen,
		    "%s%s", plen > 0 ? "." : "", name);
		size_t nlen = plen + (l > 0 ? (size_t)l : 0);
		if (nlen >= sizeof(ld->path))
			nlen = sizeof(ld->path) - 1;
		const struct config_key *k = config_key_find(tab, name,
		    strlen(name));
		if (k == NULL)
			return config_fail(ld, "unknown key");
		if ((rc = config_apply(ld, k, v, nlen)) != 0)
			return rc;
		ld->path[plen] = '\0';
	}
	return 0;
}

/* ---- sources ---- */

static bool
config_has_suffix(const char *s, const char *suf)
{
	size_t ls = strlen(s), lf = strlen(suf);
	return ls >= lf && strcmp(s + ls - lf, suf) == 0;
}

static int
config_load_file(struct config_load *ld, const char *file, char *err,
    size_t errlen)
{
	json_error_t je;
	json_t *root;
	int rc;

	if (config_has_suffix(file, ".hcl")) {
		snprintf(err, errlen,
		    "config: %s: HCL is not supported, use JSON", file);
		return ERR_CONFIG;
	}
	root = json_load_file(file, 0, &je);
	if (root == NULL) {
		if (je.line <= 0)
			snprintf(err, errlen, "config: %s: %s", file, je.text);
		else
			snprintf(err, errlen, "config: %s:%d:%d: %s", file,
			    je.line, je.column, je.text);
		return ERR_CONFIG;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(err, errlen,
		    "config: %s: expected a JSON object at the top level", file);
		return ERR_CONFIG;
	}
	ld->path[0] = '\0';
	rc = config_apply_obj(ld, config_keys, root, 0);
	json_decref(root);
	if (rc != 0)
		snprintf(err, errlen, "config: %s: key \"%s\": %s", file,
		    ld->path, ld->msg);
	return rc;
}

static int
config_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory's *.json (and, to refuse them, *.hcl) files, in order. */
static int
config_load_dir(struct config_load *ld, const char *dir, char *err,
    size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (d == NULL) {
		snprintf(err, errlen, "config: %s: %s", dir, strerror(errno));
		return ERR_CONFIG;
	}
	while ((de = readdir(d)) != NULL) {
		if (!config_has_suffix(de->d_name, ".json") &&
		    !config_has_suffix(de->d_name, ".hcl"))
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(*nn));
		if (nn == NULL)
			fatal("config: realloc");
		names = nn;
		if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0)
			fatal("config: asprintf");
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), config_name_cmp);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			rc = config_load_file(ld, names[i], err, errlen);
		free(names[i]);
	}
	free(names);
	return rc;
}

/* -config-file and -config-dir both take a file or a directory (Consul). */
static int
config_load_path(struct config_load *ld, const char *path, char *err,
    size_t errlen)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "config: %s: %s", path, strerror(errno));
		return ERR_CONFIG;
	}
	if (S_ISDIR(st.st_mode))
		return config_load_dir(ld, path, err, errlen);
	return config_load_file(ld, path, err, errlen);
}

/* ---- flags ---- */

static const struct config_key *
config_key_path(const char *path)
{
	const struct config_key *tab = config_keys, *k = NULL;

	for (;;) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		if ((k = config_key_find(tab, path, len)) == NULL)
			return NULL;
		if (dot == NULL)
			return k;
		tab = k->sub;
		path = dot + 1;
	}
}

/* Go's strconv.ParseBool. */
static int
config_parse_bool(const char *s, bool *out)
{
	static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const f[] = { "0", "f", "F", "FALSE", "false",
		"False" };
	for (size_t i = 0; i < 6; i++) {
		if (strcmp(s, t[i]) == 0)
			return *out = true, 0;
		if (strcmp(s, f[i]) == 0)
			return *out = false, 0;
	}
	return ERR_INVAL;
}

/* The flag's string as a JSON value of its key's type; NULL if invalid. */
static json_t *
config_flag_value(const struct config_key *k, const char *s)
{
	bool b;
	char *end;
	long long n = 0;
	const char *colon;

	switch (k->type) {
	case KT_BOOL:
		return config_parse_bool(s, &b) == 0 ? json_boolean(b) : NULL;
	case KT_INT:
	case KT_U32:
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0 || end == s || *end != '\0')
			return NULL;
		return json_integer(n);
	case KT_STRLIST:
		return json_pack("[s]", s);
	case KT_STRMAP:
		if ((colon = strchr(s, ':')) == NULL || colon == s)
			return NULL;
		json_t *o = json_object();
		char *key = strndup(s, (size_t)(colon - s));
		if (key == NULL)
			fatal("config: strndup");
		json_object_set_new(o, key, json_string(colon + 1));
		free(key);
		return o;
	default: /* strings and durations */
		return json_string(s);
	}
}

static int
config_apply_flag(struct config_load *ld, const struct config_flag *f,
    const char *value, char *err, size_t errlen)
{
	const struct config_key *k = config_key_path(f->key);
	json_t *v;
	int rc;

	if (k == NULL)
		fatalx("config: flag -%s names no key %s", f->name, f->key);
	if ((v = config_flag_value(k, value)) == NULL) {
		snprintf(err, errlen, "config: flag -%s: invalid value \"%s\"%s",
		    f->name, value, k->type == KT_STRMAP ?
		    ": expected key:value" : "");
		return ERR_CONFIG;
	}
	snprintf(ld->path, sizeof(ld->path), "%s", f->key);
	rc = config_apply(ld, k, v, strlen(ld->path));
	json_decref(v);
	if (rc != 0)
		snprintf(err, errlen, "config: flag -%s: invalid value \"%s\": %s",
		    f->name, value, ld->msg);
	return rc;
}

static bool
config_flag_is_bool(const struct config_flag *f)
{
	if (f->kind == FL_DEV)
		return true;
	if (f->kind != FL_KEY)
		return false;
	return config_key_path(f->key)->type == KT_BOOL;
}

/*
 * Splits argv into flag assignments in order. Returns 0 or ERR_CONFIG
 * naming the flag; *dev is set when -dev is given (and true).
 */
static int
config_parse_argv(int argc, char *const argv[], struct config_arg *args,
    size_t *nargs, bool *dev, char *err, size_t errlen)
{
	*nargs = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *value = NULL;
		const struct config_flag *f;
		size_t len;

		if (a[0] != '-' || a[1] == '\0' || strcmp(a, "--") == 0) {
			snprintf(err, errlen,
			    "config: unexpected argument \"%s\"", a);
			return ERR_CONFIG;
		}
		name = a + (a[1] == '-' ? 2 : 1);
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		for (f = config_flags; f->name != NULL; f++) {
			if (strlen(f->name) == len &&
			    strncmp(f->name, name, len) == 0)
				break;
		}
		if (f->name == NULL) {
			snprintf(err, errlen,
			    "config: flag provided but not defined: -%.*s",
			    (int)len, name);
			return ERR_CONFIG;
		}
		if (eq != NULL)
			value = eq + 1;
		else if (config_flag_is_bool(f))
			value = "true";
		else if (i + 1 < argc)
			value = argv[++i];
		else {
			snprintf(err, errlen,
			    "config: flag needs an argument: -%s", f->name);
			return ERR_CONFIG;
		}
		if (f->kind == FL_DEV) {
			if (config_parse_bool(value, dev) != 0) {
				snprintf(err, errlen,
				    "config: flag -dev: invalid value \"%s\"",
				    value);
				return ERR_CONFIG;
			}
			continue;
		}
		args[*nargs].flag = f;
		args[*nargs].value = value;
		(*nargs)++;
	}
	return 0;
}

/* ---- defaults, derived values, validation ---- */

static void
config_defaults(struct config *cfg, bool dev)
{
	char host[256];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < sizeof(config_strs) / sizeof(config_strs[0]);
	    i++)
		*config_strp(cfg, config_strs[i]) = config_strdup("");
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	cfg->dev = dev;
	config_str_set(&cfg->node_name, host);
	config_str_set(&cfg->datacenter, "dc1");
	config_str_set(&cfg->bind_addr, dev ? "127.0.0.1" : "0.0.0.0");
	config_str_set(&cfg->client_addr, "127.0.0.1");
	config_str_set(&cfg->domain, "consul.");
	config_str_set(&cfg->log_level, dev ? "debug" : "info");
	config_str_set(&cfg->ui_content_path, "/ui/");
	cfg->ports = (struct config_ports){ .dns = 8600, .http = 8500,
		.https = -1, .serf_lan = 8301, .serf_wan = 8302,
		.server = 8300, .grpc = -1, .grpc_tls = -1 };
	cfg->server = dev;
	cfg->bootstrap_expect = dev ? 1 : 0;
	cfg->ui = dev;
	cfg->pretty = dev;
	cfg->session_ttl_min_ms = 10000;
	cfg->default_query_ms = 300000;
	cfg->max_query_ms = 600000;
	cfg->kv_max_value_size = 512 * 1024;
	cfg->txn_max_req_len = 512 * 1024;
	/* issue 4: an election timeout of about one second by default;
	 * Consul's default is 5 (spec §6.2, §16 item 28): set
	 * performance.raft_multiplier for its timing */
	cfg->raft_multiplier = 1;
	cfg->rpc_hold_timeout_ms = 7000;
	cfg->retry_interval_ms = 30000;
	cfg->retry_interval_wan_ms = 30000;
	cfg->reconnect_timeout_ms = 72ULL * 3600 * 1000;
	cfg->reconnect_timeout_wan_ms = 72ULL * 3600 * 1000;
	cfg->check_update_interval_ms = 5 * 60 * 1000;
	cfg->http_max_conns_per_client = 200;
	cfg->rpc_max_conns_per_client = 100;
	cfg->rpc_max_burst = 1000;
	cfg->rpc_client_timeout_ms = 60000;
	cfg->leave_drain_time_ms = 5000;
	cfg->raft_protocol = 3;
	cfg->raft_snapshot_threshold = 16384;
	cfg->raft_snapshot_interval_ms = 30000;
	cfg->raft_trailing_logs = 10000;
	cfg->autopilot = (struct config_autopilot){ .cleanup_dead_servers =
		true, .last_contact_threshold_ms = 200, .max_trailing_logs = 250,
		.server_stabilization_time_ms = 10000 };
}

/* "consul" and "Consul." both become "consul.". */
static void
config_fqdn(char **d)
{
	size_t l = strlen(*d);

	for (char *p = *d; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (l == 0 || (*d)[l - 1] == '.')
		return;
	char *n;
	if (asprintf(&n, "%s.", *d) < 0)
		fatal("config: asprintf");
	free(*d);
	*d = n;
}

static void
config_derive(struct config_load *ld)
{
	struct config *cfg = ld->cfg;
	static const size_t js_off[JS__N] = { C(services_json),
		C(checks_json), C(dns_config_json), C(acl_json),
		C(watches_json), C(telemetry_json), C(http_config_json) };

	for (int i = 0; i < JS__N; i++) {
		char *t = json_dumps(ld->js[i], JSON_COMPACT);
		if (t == NULL)
			fatal("config: json_dumps");
		free(*config_strp(cfg, js_off[i]));
		*config_strp(cfg, js_off[i]) = t;
	}
	for (char *p = cfg->datacenter; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (*cfg->primary_datacenter == '\0')
		config_str_set(&cfg->primary_datacenter, cfg->datacenter);
	if (*cfg->runtime_dir == '\0' && *cfg->data_dir != '\0') {
		free(cfg->runtime_dir);
		if (asprintf(&cfg->runtime_dir, "%s/run", cfg->data_dir) < 0)
			fatal("config: asprintf");
	}
	config_fqdn(&cfg->domain);
	config_fqdn(&cfg->alt_domain);
	if (cfg->dev && !cfg->server && !ld->be_set)
		cfg->bootstrap_expect = 0; /* "-dev -server=false": a client */
	if (!ld->lot_set)
		cfg->leave_on_terminate = !cfg->server;
	if (!ld->sli_set)
		cfg->skip_leave_on_interrupt = cfg->server;
}

static bool
config_uuid_ok(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

static int
config_validate(const struct config *cfg, char *err, size_t errlen)
{
	enum log_level lvl;
	const char *p;

#define CONFIG_BAD(...) \
	do { \
		snprintf(err, errlen, "config: " __VA_ARGS__); \
		return ERR_CONFIG; \
	} while (0)
	if (!cfg->dev && *cfg->data_dir == '\0')
		CONFIG_BAD("data_dir is required: use -data-dir DIR or "
		    "\"data_dir\" in a configuration file");
	if (cfg->bootstrap_expect > 0 && !cfg->server)
		CONFIG_BAD("bootstrap_expect (-bootstrap-expect) requires "
		    "server mode (-server)");
	if (cfg->bootstrap && !cfg->server)
		CONFIG_BAD("bootstrap (-bootstrap) requires server mode "
		    "(-server)");
	if (cfg->bootstrap && cfg->bootstrap_expect > 0 && !cfg->dev)
		CONFIG_BAD("bootstrap and bootstrap_expect are mutually "
		    "exclusive");
	if (*cfg->datacenter == '\0' ||
	    cfg->datacenter[strspn(cfg->datacenter,
		"abcdefghijklmnopqrstuvwxyz0123456789_-")] != '\0')
		CONFIG_BAD("datacenter \"%s\": only letters, digits, '-' and "
		    "'_' are allowed", cfg->datacenter);
	if (*cfg->node_name == '\0')
		CONFIG_BAD("node_name is empty and the hostname is unknown: "
		    "use -node NAME");
	for (p = cfg->node_name; *p != '\0'; p++) {
		if (isspace((unsigned char)*p) || *p == '"' || *p == '\'' ||
		    *p == '`')
			CONFIG_BAD("node_name \"%s\": whitespace and quotes "
			    "are not allowed", cfg->node_name);
	}
	if (*cfg->node_id != '\0' && !config_uuid_ok(cfg->node_id))
		CONFIG_BAD("node_id \"%s\": expected a UUID", cfg->node_id);
	if (log_level_parse(cfg->log_level, &lvl) != 0)
		CONFIG_BAD("log_level \"%s\": expected trace, debug, info, "
		    "warn or error", cfg->log_level);
	if (cfg->node_meta.n > 64)
		CONFIG_BAD("node_meta: at most 64 pairs are allowed");
	if (*cfg->domain == '.' || (*cfg->alt_domain != '\0' &&
	    strcmp(cfg->domain, cfg->alt_domain) == 0))
		CONFIG_BAD("alt_domain must differ from domain, and domain "
		    "must not be empty");
	if (cfg->max_query_ms < cfg->default_query_ms)
		CONFIG_BAD("max_query_time must not be below "
		    "default_query_time");
#undef CONFIG_BAD
	return 0;
}

static bool
config_ip_private(uint32_t a)
{
	return (a >> 24) == 10 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8 ||
	    (a >> 22) == (0x6440 >> 6);
}

/*
 * advertise_addr defaults to the bind address; with bind 0.0.0.0, to the
 * one private IPv4 address of this host (Consul's GetPrivateIP), or the
 * one other IPv4 address when there is no private one.
 */
static int
config_advertise(struct config *cfg, char *err, size_t errlen)
{
	struct ifaddrs *ifs, *i;
	char priv[INET_ADDRSTRLEN] = "", other[INET_ADDRSTRLEN] = "";
	int npriv = 0, nother = 0;

	if (*cfg->advertise_addr == '\0' &&
	    strcmp(cfg->bind_addr, "0.0.0.0") != 0)
		config_str_set(&cfg->advertise_addr, cfg->bind_addr);
	if (*cfg->advertise_addr == '\0') {
		if (getifaddrs(&ifs) != 0) {
			snprintf(err, errlen, "config: cannot list the network "
			    "interfaces (%s): set -bind or -advertise",
			    strerror(errno));
			return ERR_CONFIG;
		}
		for (i = ifs; i != NULL; i = i->ifa_next) {
			if (i->ifa_addr == NULL ||
			    i->ifa_addr->sa_family != AF_INET ||
			    !(i->ifa_flags & IFF_UP) ||
			    (i->ifa_flags & IFF_LOOPBACK))
				continue;
			struct in_addr in =
			    ((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr;
			bool p = config_ip_private(ntohl(in.s_addr));
			char *dst = p ? priv : other;
			if ((p ? npriv++ : nother++) == 0)
				inet_ntop(AF_INET, &in, dst, INET_ADDRSTRLEN);
		}
		freeifaddrs(ifs);
		if (npriv > 1) {
			snprintf(err, errlen, "config: multiple private IPv4 "
			    "addresses found: set -bind or -advertise");
			return ERR_CONFIG;
		}
		if (npriv == 0 && nother != 1) {
			snprintf(err, errlen, "config: %s IPv4 address found to "
			    "advertise: set -bind or -advertise",
			    nother ? "no private and several public" : "no");
			return ERR_CONFIG;
		}
		config_str_set(&cfg->advertise_addr, npriv ? priv : other);
	}
	if (*cfg->advertise_addr_wan == '\0')
		config_str_set(&cfg->advertise_addr_wan, cfg->advertise_addr);
	return 0;
}

/* ---- entry points ---- */

int
config_load(int argc, char *const argv[], struct config *cfg, char *err,
    size_t errlen)
{
	struct config_load ld = { .cfg = cfg };
	struct config_arg *args;
	size_t nargs = 0, i;
	bool dev = false;
	int rc;

	snprintf(err, errlen, "config: internal error");
	if ((args = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*args))) == NULL)
		fatal("config: calloc");
	rc = config_parse_argv(argc, argv, args, &nargs, &dev, err, errlen);
	config_defaults(cfg, dev);
	for (i = 0; i < JS__N; i++) {
		bool arr = i == JS_SERVICES || i == JS_CHECKS || i == JS_WATCHES;
		ld.js[i] = arr ? json_array() : json_object();
		if (ld.js[i] == NULL)
			fatal("config: json");
	}
	/* files and directories first, in order; then the flags win */
	for (i = 0; rc == 0 && i < nargs; i++) {
		const struct config_flag *f = args[i].flag;
		if (f->kind == FL_FILE || f->kind == FL_DIR)
			rc = config_load_path(&ld, args[i].value, err, errlen);
		else if (f->kind == FL_HCL) {
			snprintf(err, errlen,
			    "config: flag -hcl: HCL is not supported, use JSON");
			rc = ERR_CONFIG;
		} else if (f->kind == FL_FORMAT &&
		    strcmp(args[i].value, "json") != 0) {
			snprintf(err, errlen, "config: flag -config-format: "
			    "\"%s\" is not supported, only json",
			    args[i].value);
			rc = ERR_CONFIG;
		}
	}
	for (i = 0; rc == 0 && i < nargs; i++) {
		if (args[i].flag->kind == FL_KEY)
			rc = config_apply_flag(&ld, args[i].flag,
			    args[i].value, err, errlen);
	}
	if (rc == 0) {
		config_derive(&ld);
		rc = config_validate(cfg, err, errlen);
		if (rc == 0)
			rc = config_advertise(cfg, err, errlen);
	}
	for (i = 0; i < JS__N; i++)
		json_decref(ld.js[i]);
	free(args);
	if (rc != 0)
		config_free(cfg);
	else if (errlen > 0)
		err[0] = '\0';
	return rc;
}

void
config_free(struct config *cfg)
{
	size_t i, j;

	if (cfg == NULL)
		return;
	for (i = 0; i < sizeof(config_strs) / sizeof(config_strs[0]); i++) {
		free(*config_strp(cfg, config_strs[i]));
		*config_strp(cfg, config_strs[i]) = NULL;
	}
	for (i = 0; i < sizeof(config_lists) / sizeof(config_lists[0]); i++) {
		struct config_strlist *l =
		    (void *)((char *)cfg + config_lists[i]);
		for (j = 0; j < l->n; j++)
			free(l->v[j]);
		free(l->v);
		l->v = NULL;
		l->n = 0;
	}
	for (j = 0; j < cfg->node_meta.n; j++) {
		free(cfg->node_meta.k[j]);
		free(cfg->node_meta.v[j]);
	}
	free(cfg->node_meta.k);
	free(cfg->node_meta.v);
	cfg->node_meta = (struct config_strmap){ 0 };
}
