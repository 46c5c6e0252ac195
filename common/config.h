/*
 * config.h — one node's configuration, read the same way by every role.
 *
 * Sources, in order (spec §8.1): defaults, then each -config-file and
 * -config-dir (a directory's *.json files in lexical order), then command
 * line flags, which win. Scalars are overwritten by later sources, lists
 * are appended, maps merged. Consul's JSON keys and flags (DESIGN.md §7).
 * An unknown key or a wrong type is an error naming the file and the key;
 * a bad flag names the flag. Every daemon and `cairn agent` call
 * config_load() with their argv, so all roles of a node agree.
 */
#ifndef CAIRN_CONFIG_H
#define CAIRN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config_ports {
	int dns;      /* 8600; -1 disables */
	int http;     /* 8500 */
	int https;    /* -1 */
	int serf_lan; /* 8301 */
	int serf_wan; /* 8302; -1 disables */
	int server;   /* 8300 */
	/* added with config.c: */
	int grpc;     /* -1 */
	int grpc_tls; /* -1 */
};

/* addresses{}: per-listener bind addresses; "" means client_addr. */
struct config_addresses {
	char *http;
	char *https;
	char *dns;
	char *grpc;
};

/* A string map (node_meta); keys unique, later sources overwrite. */
struct config_strmap {
	char **k;
	char **v;
	size_t n;
};

/* autopilot{} (spec §6.3), read by raftd at bootstrap. */
struct config_autopilot {
	bool cleanup_dead_servers;         /* true */
	uint32_t last_contact_threshold_ms; /* 200 ms */
	uint32_t max_trailing_logs;        /* 250 */
	uint32_t min_quorum;               /* 0 */
	uint32_t server_stabilization_time_ms; /* 10 s */
};

struct config_strlist {
	char **v;
	size_t n;
};

struct config {
	bool dev;
	bool server;
	int bootstrap_expect;
	char *node_name;     /* default: hostname ("<host>" in -dev too) */
	char *node_id;       /* empty: generated and persisted */
	char *datacenter;    /* "dc1" */
	char *data_dir;      /* required unless -dev */
	char *runtime_dir;   /* default <data_dir>/run */
	char *bind_addr;     /* "0.0.0.0" ("127.0.0.1" in -dev) */
	char *advertise_addr; /* default: the bind address; for 0.0.0.0 the
				 host's one private IPv4 address (else error) */
	char *client_addr;   /* "127.0.0.1" */
	struct config_ports ports;
	struct config_strlist retry_join;
	struct config_strlist recursors;
	char *domain;        /* "consul." */
	char *alt_domain;
	char *log_level;     /* "info" ("debug" in -dev) */
	bool ui;             /* ui_config.enabled (true in -dev) */
	bool pretty;         /* always-pretty JSON (true in -dev) */
	bool enable_script_checks;
	bool leave_on_terminate;
	uint32_t session_ttl_min_ms;  /* 10 s */
	uint32_t default_query_ms;    /* 300 s */
	uint32_t max_query_ms;        /* 600 s */
	uint32_t kv_max_value_size;   /* 512 KiB */
	uint32_t txn_max_req_len;     /* 512 KiB */
	uint32_t raft_multiplier;     /* performance.raft_multiplier */
	uint32_t rpc_hold_timeout_ms; /* performance.rpc_hold_timeout, 7 s */
	/* services[], checks[] and other sections are kept as parsed JSON
	 * text for the role that owns them (checkd). */
	char *services_json; /* a JSON array, "[]" when none */
	char *checks_json;   /* a JSON array, "[]" when none */
	char *dns_config_json; /* a JSON object, "{}" when none */

	/*
	 * Added with config.c. After config_load() every char * above and
	 * below is non-NULL ("" when unset); data_dir is "" in
	 * -dev without -data-dir (the caller makes a temporary directory).
	 * domain and alt_domain are lowercased and end with ".".
	 */
	bool bootstrap;
	char *advertise_addr_wan;    /* default: advertise_addr */
	struct config_addresses addresses;
	struct config_strmap node_meta;
	struct config_strlist start_join;     /* -join */
	struct config_strlist retry_join_wan;
	uint32_t retry_interval_ms;  /* 30 s */
	uint32_t retry_max;          /* 0 = forever */
	uint32_t retry_interval_wan_ms; /* 30 s */
	uint32_t retry_max_wan;      /* 0 */
	bool rejoin_after_leave;
	char *ui_dir;                /* ui_config.dir */
	char *ui_content_path;       /* "/ui/" */
	bool log_json;
	bool enable_syslog;
	char *pid_file;
	bool skip_leave_on_interrupt; /* client false / server true */
	uint64_t reconnect_timeout_ms;     /* 72 h */
	uint64_t reconnect_timeout_wan_ms; /* 72 h */
	bool enable_local_script_checks;
	uint32_t check_update_interval_ms; /* 5 min */
	uint32_t http_max_conns_per_client; /* 200 */
	uint32_t rpc_max_conns_per_client;  /* 100 */
	double rpc_rate;             /* requests/s, 0 = unlimited */
	uint32_t rpc_max_burst;      /* 1000 */
	uint32_t rpc_client_timeout_ms; /* 60 s */
	uint32_t leave_drain_time_ms;   /* performance.leave_drain_time, 5 s */
	uint32_t raft_protocol;         /* 3 */
	uint32_t raft_snapshot_threshold; /* 16384 */
	uint32_t raft_snapshot_interval_ms; /* 30 s */
	uint32_t raft_trailing_logs;    /* 10000 */
	struct config_autopilot autopilot;
	char *primary_datacenter;    /* default: datacenter */
	char *encrypt;               /* gossip key, base64; "" when none */
	bool disable_update_check;
	/* Kept as JSON text for the role that owns them (a later issue). */
	char *acl_json;       /* acl{}: a JSON object, "{}" when none */
	char *watches_json;   /* watches[]: a JSON array, "[]" */
	char *telemetry_json; /* telemetry{}: a JSON object, "{}" */
	char *http_config_json; /* http_config{}: a JSON object, "{}" */
};

/*
 * Parses a Go duration ("10s", "1m30s", "500ms", "9.98s", "72h", "0";
 * units ns us µs ms s m h) into nanoseconds. Returns 0 or ERR_INVAL
 * (also on overflow or a negative value). s is borrowed.
 */
int config_duration_parse(const char *s, uint64_t *ns);

/*
 * Parses argv (argv[0] is the program; flags as Consul's, single or
 * double dash, "-flag value" or "-flag=value") and the configuration
 * files they name into cfg. Returns 0, or ERR_CONFIG after writing one
 * line naming the flag or the file and key into err (size errlen).
 * Positional arguments are an error. cfg is owned: free with
 * config_free().
 */
int config_load(int argc, char *const argv[], struct config *cfg,
    char *err, size_t errlen);
void config_free(struct config *cfg);

#endif
