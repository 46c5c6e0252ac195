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
	char *advertise_addr; /* default: the bind address */
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
	 * text for the role that owns them (checkd); see config_section(). */
	char *services_json; /* a JSON array, "[]" when none */
	char *checks_json;   /* a JSON array, "[]" when none */
	char *dns_config_json; /* a JSON object, "{}" when none */
};

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
