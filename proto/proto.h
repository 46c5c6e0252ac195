/*
 * proto.h — cairn's message layer: the envelope, the message registry and
 * the payload structs every IPC and inter-node message decodes into.
 *
 * Wire form (DESIGN.md §3): a msgpack array [version, type, reqid, body]
 * whose body is a map keyed by small integer field tags. Decoders are
 * strict (STYLE.md §5): wrong types, out-of-range integers, over-long
 * strings, truncated input and trailing bytes are ERR_BADMSG; unknown field
 * tags are skipped so roles one version apart interoperate; a missing field
 * takes its zero value. Every message type is one line of PROTO_MESSAGES in
 * registry.h with a code that is never reused.
 *
 * Ownership: proto_encode() returns an owned buffer (proto_buf_free).
 * proto_decode() fills a struct whose strings borrow from the input buffer
 * and whose arrays live in the arena; both must outlive the decoded
 * message. Strings are (ptr, len), never NUL-terminated.
 */
#ifndef CAIRN_PROTO_H
#define CAIRN_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1
/* Caps enforced by the decoder (a longer input is ERR_BADMSG). */
#define PROTO_MAX_STR (1u << 20)     /* 1 MiB: KV values are <= 512 KiB */
#define PROTO_MAX_ARRAY (1u << 20)   /* elements in one array or map */
#define PROTO_MAX_MSG (64u << 20)    /* whole message */

struct proto_str {
	const char *ptr;
	uint32_t len;
};

struct proto_str_array {
	struct proto_str *v;
	uint32_t n;
};

struct proto_strmap {
	struct proto_str *keys;
	struct proto_str *vals;
	uint32_t n;
};

/* ---- shared pieces ---- */

enum proto_consistency {
	PROTO_CONSISTENCY_DEFAULT = 0, /* leader, no quorum check */
	PROTO_CONSISTENCY_STALE = 1,
	PROTO_CONSISTENCY_CONSISTENT = 2,
};

/* Read options every read request carries (spec §1.5, §1.6). */
struct proto_read_opts {
	uint8_t consistency;  /* enum proto_consistency */
	uint64_t min_index;   /* blocking: answer once index > min_index */
	uint32_t wait_ms;     /* blocking: the wait, already capped; the
				 server adds jitter up to wait/16 */
};

/* Metadata every read reply carries (X-Consul-* headers). */
struct proto_read_meta {
	uint64_t index; /* never 0 */
	bool known_leader;
	uint64_t last_contact_ms;
};

/* ---- payloads ---- */

/* MSG_ERROR: the reply to any request that failed. */
struct msg_error {
	int32_t code;             /* ERR_* from common/err.h */
	struct proto_str message; /* the exact text for the HTTP body */
};

enum kv_get_mode {
	KV_GET_ONE = 0,
	KV_GET_RECURSE = 1,
	KV_GET_KEYS = 2,
};

struct msg_kv_get {
	struct proto_str key;
	uint8_t mode;              /* enum kv_get_mode */
	struct proto_str separator; /* KV_GET_KEYS only; empty = none */
	struct proto_read_opts opts;
};

struct proto_kv_entry {
	struct proto_str key;
	struct proto_str value; /* empty value is JSON null */
	uint64_t flags;
	uint64_t create_index;
	uint64_t modify_index;
	uint64_t lock_index;
	struct proto_str session; /* empty = none */
};

struct msg_kv_get_result {
	struct proto_read_meta meta;
	bool found; /* false: HTTP 404 (headers still carry meta) */
	struct proto_kv_entry *entries;
	uint32_t n_entries;
	struct proto_str_array keys; /* KV_GET_KEYS */
};

enum kv_op {
	KV_OP_SET = 1,
	KV_OP_CAS = 2,         /* cas_index 0 = create only if absent */
	KV_OP_DELETE = 3,
	KV_OP_DELETE_TREE = 4,
	KV_OP_DELETE_CAS = 5,
	KV_OP_LOCK = 6,        /* ?acquire=session */
	KV_OP_UNLOCK = 7,      /* ?release=session */
};

/*
 * A write. client_id/seq identify it for deduplication: raftd remembers
 * the last seq applied per client and answers a repeated (client_id, seq)
 * with the first result without applying it again.
 */
struct msg_kv_apply {
	uint64_t client_id;
	uint64_t seq;
	uint8_t op; /* enum kv_op */
	struct proto_str key;
	struct proto_str value;
	uint64_t flags;
	uint64_t cas_index;
	struct proto_str session;
};

struct msg_kv_apply_result {
	bool ok;        /* the JSON true/false of the HTTP reply */
	uint64_t index; /* the raft index the write was applied at */
};

struct msg_status_get {
	uint8_t unused;
};

struct msg_status_get_result {
	struct proto_str leader;     /* "ip:port" or empty */
	struct proto_str_array peers; /* voters, "ip:port" */
	struct proto_strmap raft;    /* agent/self Stats.raft */
	struct proto_strmap consul;  /* agent/self Stats.consul */
	struct proto_read_meta meta;
};

/* ---- catalog and health (raftd/catalog.c, httpd/api_catalog.c) ---- */

/* A node of the catalog (Consul structs.Node). Empty maps are JSON null. */
struct proto_cat_node {
	struct proto_str id;
	struct proto_str node;
	struct proto_str address;
	struct proto_str datacenter;
	struct proto_strmap tagged_addresses;
	struct proto_strmap meta;
	uint64_t create_index;
	uint64_t modify_index;
};

/* One service TaggedAddresses value: {"lan": {Address, Port}}. */
struct proto_cat_addr {
	struct proto_str key;
	struct proto_str address;
	uint32_t port;
};

/* A service instance on a node (Consul structs.ServiceNode/NodeService). */
struct proto_cat_service {
	struct proto_str node; /* the node it runs on */
	struct proto_str kind;
	struct proto_str id;
	struct proto_str service;
	struct proto_str_array tags;
	struct proto_str address;
	struct proto_cat_addr *tagged_addresses;
	uint32_t n_tagged_addresses;
	struct proto_strmap meta;
	uint32_t port;
	uint32_t weight_passing;
	uint32_t weight_warning;
	bool enable_tag_override;
	uint64_t create_index;
	uint64_t modify_index;
};

/* A health check record (Consul structs.HealthCheck). */
struct proto_cat_check {
	struct proto_str node;
	struct proto_str check_id;
	struct proto_str name;
	struct proto_str status; /* passing | warning | critical */
	struct proto_str notes;
	struct proto_str output;
	struct proto_str service_id;
	struct proto_str service_name;
	struct proto_str_array service_tags;
	struct proto_str type;
	struct proto_str interval;
	struct proto_str timeout;
	/* Definition (stored only, never run) */
	struct proto_str def_http;
	struct proto_str def_method;
	struct proto_str def_body;
	struct proto_str def_tcp;
	struct proto_str def_tls_server_name;
	bool def_tls_skip_verify;
	uint64_t def_interval_ns;
	uint64_t def_timeout_ns;
	uint64_t def_deregister_ns;
	uint64_t create_index;
	uint64_t modify_index;
};

/*
 * MSG_CATALOG_REGISTER: Consul's Catalog.Register. The node is upserted
 * unless skip_node_update; the service (n_services 0 or 1; its ID
 * defaults to its name) and the checks (CheckID defaults to Name) are
 * upserted on it. Index fields of the records are ignored.
 */
struct msg_catalog_register {
	uint64_t client_id; /* dedup, as msg_kv_apply */
	uint64_t seq;
	bool skip_node_update;
	struct proto_cat_node node;
	struct proto_cat_service *services;
	uint32_t n_services;
	struct proto_cat_check *checks;
	uint32_t n_checks;
};

/* MSG_CATALOG_DEREGISTER: a service, a check, or (neither) the node. */
struct msg_catalog_deregister {
	uint64_t client_id;
	uint64_t seq;
	struct proto_str node;
	struct proto_str service_id;
	struct proto_str check_id;
};

/* The result of both writes (the JSON true of the HTTP reply). */
struct msg_catalog_write_result {
	bool ok;
	uint64_t index;
};

enum catalog_what {
	CATALOG_NODES = 1,         /* nodes[] */
	CATALOG_SERVICES = 2,      /* services[]: one per name, tags union */
	CATALOG_SERVICE = 3,       /* services[] of name (+tags), nodes[] */
	CATALOG_NODE = 4,          /* found, nodes[0], services[] */
	CATALOG_NODE_SERVICES = 5, /* same as CATALOG_NODE */
	CATALOG_HEALTH_NODE = 6,   /* checks[] of node name */
	CATALOG_HEALTH_CHECKS = 7, /* checks[] of service name */
	CATALOG_HEALTH_SERVICE = 8, /* services[], nodes[], checks[] (node
				       and service checks of each instance) */
	CATALOG_HEALTH_STATE = 9,  /* checks[] in state name (or "any") */
	CATALOG_SERVICES_ALL = 10, /* services[]: every instance, nodes[]:
				      theirs (catalog/services ?filter) */
};

struct msg_catalog_get {
	uint8_t what; /* enum catalog_what */
	struct proto_str name; /* service, node or state */
	struct proto_str_array tags; /* ?tag: all must match (ignoring case) */
	bool passing;                /* ?passing (health service) */
	struct proto_strmap node_meta; /* ?node-meta k:v, all must match */
	struct proto_read_opts opts;
};

/*
 * Arrays sorted by node name then service/check ID; nodes[] holds every
 * node a services[] element runs on (once).
 */
struct msg_catalog_get_result {
	struct proto_read_meta meta;
	bool found; /* CATALOG_NODE(_SERVICES): the node exists */
	struct proto_cat_node *nodes;
	uint32_t n_nodes;
	struct proto_cat_service *services;
	uint32_t n_services;
	struct proto_cat_check *checks;
	uint32_t n_checks;
};

#include "registry.h"

enum msg_type {
#define PROTO_ENUM(name, code, from, to, type) name = (code),
	PROTO_MESSAGES(PROTO_ENUM)
#undef PROTO_ENUM
};

/* A decoded message: body points to the struct named in the registry. */
struct proto_msg {
	uint32_t version;
	uint32_t type;  /* enum msg_type */
	uint64_t reqid;
	void *body;     /* in the arena */
};

/* Growable output buffer; data is owned (free with proto_buf_free). */
struct proto_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};
void proto_buf_free(struct proto_buf *b);

/* A bump allocator for decoded arrays; reset/free after dispatch. */
struct proto_arena {
	struct proto_arena_chunk *head;
	size_t used;
};
void proto_arena_init(struct proto_arena *a);
void *proto_arena_alloc(struct proto_arena *a, size_t size);
void proto_arena_reset(struct proto_arena *a);
void proto_arena_free(struct proto_arena *a);

/*
 * Encodes [PROTO_VERSION, type, reqid, body] into out (which it
 * initialises). body points to the struct the registry names for type.
 * Returns 0, ERR_INVAL (unknown type, NULL body), ERR_TOOBIG (a string,
 * array or the whole message over the PROTO_MAX_* caps) or ERR_NOMEM;
 * on failure out holds nothing to free.
 */
int proto_encode(uint32_t type, uint64_t reqid, const void *body,
    struct proto_buf *out);

/*
 * Decodes one whole message. Returns 0, or ERR_BADMSG for anything
 * malformed, including an unknown type or a version other than
 * PROTO_VERSION. On success out->body is in a (see ownership above).
 */
int proto_decode(const uint8_t *buf, size_t len, struct proto_arena *a,
    struct proto_msg *out);

/*
 * Encodes a MSG_ERROR reply {code, printf-formatted message (truncated to
 * 1023 bytes)} for request reqid into out (which it initialises; free with
 * proto_buf_free). Returns 0 or ERR_NOMEM.
 */
int proto_encode_error(uint64_t reqid, int code, struct proto_buf *out,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The registry name of type ("MSG_KV_GET"), or NULL if unknown. */
const char *proto_msg_name(uint32_t type);

/* Helpers for building messages. */
struct proto_str proto_str_c(const char *s); /* borrows s */
/* Compares a proto_str with a C string. */
bool proto_str_eq(struct proto_str a, const char *s);

#endif
