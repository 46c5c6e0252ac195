/*
 * checkd.h — the agent's local services and health checks: the state
 * checkd's one loop thread owns (STYLE.md principle 1), the definitions
 * decoded from the API and the config files, and the interfaces between
 * checkd's files (one concern each: defn.c decodes, render.c encodes,
 * local.c mutates, store.c persists, run.c schedules, check_<kind>.c
 * runs one kind, api.c answers httpd, sync.c is anti-entropy).
 *
 * Reference: spec/consul-api.md §2.1, §3, §4, §8.2; Consul agent/local
 * state.go and agent/checks/.
 */
#ifndef CAIRN_CHECKD_CHECKD_H
#define CAIRN_CHECKD_CHECKD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idx.h"
#include "sched.h"

struct loop;
struct config;
struct ipc_server;
struct ipc_client;

#define CHECK_OUTPUT_MAX 4096       /* checks.BufSize */
#define CHECK_MIN_INTERVAL_MS 1000  /* MinInterval */
#define CHECK_DEFAULT_TIMEOUT_MS 10000
#define CHECK_SCRIPT_TIMEOUT_MS 30000
#define CHECK_MIN_DEREGISTER_MS 60000
#define CHECK_REAP_INTERVAL_MS 30000

enum check_type {
	CT_NONE = 0,  /* maintenance or a record with no runner */
	CT_TTL,
	CT_HTTP,
	CT_TCP,
	CT_UDP,
	CT_SCRIPT,
	CT_ALIAS,
	CT_GRPC,      /* run by check_http.c (HTTP/2 through libcurl) */
};

/* Where a definition came from (decides persistence and script rules). */
enum def_source {
	SRC_API = 0,  /* persisted under <data_dir>/checkd */
	SRC_FILE = 1, /* re-read from the configuration on reload */
};

struct kv {
	char *k;
	char *v;
};

struct tagged_addr {
	char *key;
	char *address;
	uint32_t port;
};

struct svc {
	char *id;
	char *name;
	char *kind;
	char **tags;
	size_t n_tags;
	char *address;
	uint32_t port;
	struct kv *meta;
	size_t n_meta;
	struct tagged_addr *taddrs;
	size_t n_taddrs;
	uint32_t weight_passing;
	uint32_t weight_warning;
	bool enable_tag_override;
	int source;        /* enum def_source */
	bool synced;       /* the catalog has this version */
	struct svc *next;
	struct svc *prev;  /* in cd->svcs (local.c) */
	struct svc *dnext, *dprev; /* in cd->dirty_svcs while !synced */
	bool dlinked;
	struct idx_link by_id; /* cd->svc_ix */
};

struct chk {
	char *id;
	char *name;
	char *notes;
	char *service_id;  /* "" for a node check */
	char *output;
	int status;        /* enum check_status */
	int type;          /* enum check_type */
	uint64_t interval_ms, timeout_ms, ttl_ms, deregister_ms;
	char *http, *method, *body, *tls_server_name;
	struct kv *headers; /* one entry per header value */
	size_t n_headers;
	bool tls_skip_verify, disable_redirects;
	char *tcp, *udp, *alias_service;
	char *grpc;        /* host:port[/service] */
	bool grpc_use_tls;
	char **args;
	size_t n_args;
	struct sched_limits lim;
	int source;        /* enum def_source */
	bool status_given; /* Status was in the definition */
	bool maint;        /* _node_maintenance / _service_maintenance:<id> */

	/* runtime (not part of the definition) */
	uint64_t serial;           /* scheduler key, unique per process */
	struct sched_thr thr;
	uint64_t ttl_deadline_ms;  /* CT_TTL: monotonic expiry */
	uint64_t critical_since_ms; /* monotonic; 0 when not critical */
	void *run;                 /* the kind's handle while running */
	uint64_t timer;            /* CT_TTL expiry loop timer */
	struct checkd *run_owner;  /* for loop callbacks given only c */
	uint64_t started_ms;
	bool synced;               /* the catalog has the current status */
	bool output_dirty;         /* output changed, not yet pushed */
	uint64_t defer_timer;      /* pushes a dirty output (local.c) */
	struct chk *next;
	struct chk *prev;          /* in cd->chks (local.c) */
	struct chk *dnext, *dprev; /* in cd->dirty_chks while !synced */
	bool dlinked;
	struct idx_link by_id;     /* cd->chk_ix */
	struct idx_link by_svc;    /* cd->chk_by_svc, key service_id */
};

/* A decoded service registration: the service and its checks. */
struct svc_def {
	struct svc *svc;
	struct chk *checks; /* list, in definition order */
};

struct checkd {
	struct loop *loop;
	struct config *cfg;        /* owned by main; replaced on reload */
	struct ipc_server *srv;
	struct ipc_client *raftd;
	char node_id[64];
	char store_dir[4096];      /* <data_dir>/checkd */
	int store_batch;           /* store.c: directory fsyncs deferred */
	int store_dirty;
	uint64_t store_iter_timer; /* ends the loop iteration's batch */
	struct store_pending *store_pending; /* written, fsync at batch end */
	int store_npending;
	struct svc *svcs;          /* newest first; by ID in svc_ix */
	struct chk *chks;          /* newest first; by ID in chk_ix */
	struct idx svc_ix;
	struct idx chk_ix;
	struct idx chk_by_svc;     /* checks by ServiceID ("" node checks) */
	struct svc *dirty_svcs;    /* not synced: what sync sends next */
	struct chk *dirty_chks;
	uint32_t n_alias;          /* alias checks in chks */
	uint64_t next_serial;
	struct sched sched;
	uint64_t sched_timer;
	uint64_t sched_timer_due;
	uint64_t reap_timer;
	/* anti-entropy */
	uint64_t client_id;
	uint64_t seq;
	uint64_t sync_timer;
	bool sync_busy;
	bool sync_again;
	bool sync_full_pending;
	uint64_t last_full_sync_ms;
	struct sync_state *sync;
};

/* ---- defn.c: JSON definitions (case-insensitive, snake_case) ---- */

/*
 * Decodes a service registration body (json, len bytes, borrowed) into
 * *out (owned: free with defn_svc_def_free). On a bad definition returns
 * ERR_INVAL and writes Consul's error text into err; *status gets the
 * HTTP status (400). source decides nothing here but is recorded.
 */
int defn_service(const char *json, size_t len, int source,
    struct svc_def *out, char *err, size_t errlen, int *status);
/* Decodes a check registration (CheckID defaults to Name). */
int defn_check(const char *json, size_t len, int source, struct chk **out,
    char *err, size_t errlen, int *status);
/*
 * Decodes a JSON array of service (or check) definitions from the
 * configuration (services_json/checks_json). Returns 0 or ERR_INVAL
 * with err set; *out gets owned lists.
 */
int defn_config_services(const char *json, struct svc_def **out,
    size_t *n, char *err, size_t errlen);
int defn_config_checks(const char *json, struct chk **out, char *err,
    size_t errlen);
/* Decodes a TTL update body {Status, Output}: status CHECK_* or -1. */
int defn_update(const char *json, size_t len, int *status, char **output,
    char *err, size_t errlen);
void defn_svc_def_free(struct svc_def *d);
/* Reads the persisted-only fields of a check file (render_persist_check):
 * the TTL deadline (wall ms, 0 none) and the maintenance flag. */
/* Decodes a persisted check (no type validation: maintenance checks). */
int defn_check_persisted(const char *json, struct chk **out);
int defn_persist_extra(const char *json, uint64_t *ttl_wall_ms,
    bool *maint);

/* "passing" / "warning" / "critical"; parse returns -1 when unknown. */
const char *check_status_str(int status);
int check_status_parse(const char *s);
/* Go's time.Duration.String() of ms ("10s", "1m30s", "500ms"). */
void go_duration(uint64_t ms, char *buf, size_t size);
/* Truncates s (owned) to CHECK_OUTPUT_MAX with Consul's suffix. */
char *check_output_cap(char *s);

void svc_free(struct svc *s);
void chk_free(struct chk *c);
/* Deep copies (NULL on allocation failure). */
struct svc *svc_dup(const struct svc *s);

/* ---- render.c: JSON out ---- */

/*
 * Each returns an owned NUL-terminated JSON text (free()) or NULL on
 * allocation failure. pretty indents. node is the agent's node name.
 */
char *render_services(const struct checkd *cd, bool pretty);
char *render_service(const struct checkd *cd, const struct svc *s,
    bool pretty);
char *render_checks(const struct checkd *cd, bool pretty);
/* {AggregatedStatus, Service, Checks} of one service; agg names it. */
char *render_health(const struct checkd *cd, const struct svc *s,
    const char *agg, bool pretty);
/* An array of render_health objects for services (n of them). */
char *render_health_list(const struct checkd *cd, struct svc **svcs,
    const char **aggs, size_t n, bool pretty);
/* The persisted form of a service (its definition) and of a check
 * (definition plus status, output and the TTL deadline, wall clock ms). */
char *render_persist_service(const struct svc *s);
char *render_persist_check(const struct chk *c, uint64_t ttl_wall_ms);
/* The check's Type field ("http", "ttl", ...; "" for CT_NONE). */
const char *render_check_type(int type);

/* ---- local.c: the agent's local state ---- */

struct svc *local_svc(const struct checkd *cd, const char *id);
struct chk *local_chk(const struct checkd *cd, const char *id);
/*
 * The checks of service sid ("" the node checks), newest first:
 * for (c = local_svc_chk(cd, sid); c != NULL; c = local_svc_chk_next(c)).
 * Deleting c is safe once its successor has been taken.
 */
struct chk *local_svc_chk(const struct checkd *cd, const char *sid);
struct chk *local_svc_chk_next(const struct chk *c);
/*
 * Sets synced, keeping cd->dirty_svcs / dirty_chks (the entries the
 * next sync round sends, found without a scan of everything) in step.
 */
void local_svc_synced(struct checkd *cd, struct svc *s, bool synced);
void local_chk_synced(struct checkd *cd, struct chk *c, bool synced);
/* Frees every service and check (shutdown; runs are stopped). */
void local_free_all(struct checkd *cd);
/*
 * Adds or replaces a service and its checks (d is consumed). replace
 * removes the service's other checks. Checks whose ID existed keep
 * status and output. Returns 0 or an ERR_* (err/status set).
 */
int local_add_service(struct checkd *cd, struct svc_def *d, bool replace,
    bool persist, char *err, size_t errlen, int *status);
/* Adds or replaces one check (c consumed). */
int local_add_check(struct checkd *cd, struct chk *c, bool persist,
    char *err, size_t errlen, int *status);
/* Removes a service and its checks; ERR_NOTFOUND when unknown. */
int local_remove_service(struct checkd *cd, const char *id);
int local_remove_check(struct checkd *cd, const char *id);
/* Sets a check's status and output (output owned, may be NULL). */
void local_set_status(struct checkd *cd, struct chk *c, int status,
    char *output);
/* Maintenance: svc_id NULL for the node. */
int local_maintenance(struct checkd *cd, const char *svc_id, bool enable,
    const char *reason);
/* The worst status of a service's checks incl. node checks; "maintenance"
 * when a maintenance check applies. */
const char *local_aggregate(const struct checkd *cd, const struct svc *s);
/* Removes every SRC_FILE service/check and adds those of cfg. */
int local_load_config(struct checkd *cd, const struct config *cfg);

/* ---- store.c: persistence under <data_dir>/checkd ---- */

int store_open(struct checkd *cd);
/*
 * Between begin and end, the files written are fsync'd but their
 * directories once, at the end (a registration of a service and its
 * checks costs one directory fsync, not one per file).
 */
void store_batch_begin(struct checkd *cd);
void store_batch_end(struct checkd *cd);
/* Every write joins the batch of the current loop iteration, which ends
 * after the iteration's events or at store_settle: call that before any
 * answer leaves checkd. */
void store_batch_iteration(struct checkd *cd);
void store_settle(struct checkd *cd);
int store_save_service(struct checkd *cd, const struct svc *s);
int store_save_check(struct checkd *cd, const struct chk *c);
void store_remove_service(struct checkd *cd, const char *id);
void store_remove_check(struct checkd *cd, const char *id);
/* Loads every persisted service and check into cd. */
int store_load(struct checkd *cd);

/* ---- run.c: scheduling the checks on the loop ---- */

void run_init(struct checkd *cd);
/* Starts (or restarts) c's schedule; stops any run in flight. */
void run_start(struct checkd *cd, struct chk *c);
/* Stops c (before it is freed). */
void run_stop(struct checkd *cd, struct chk *c);
/* A kind finished a run of c: result CHECK_*, output owned (or NULL). */
void run_result(struct checkd *cd, struct chk *c, int result, char *output);
/* Some check changed status: re-evaluates the alias checks. */
void run_alias_update(struct checkd *cd);
void run_fini(struct checkd *cd);

/* ---- check_<kind>.c: one kind each; start returns 0 or ERR_* ---- */

int check_http_init(struct checkd *cd);
int check_http_start(struct checkd *cd, struct chk *c);
void check_http_cancel(struct checkd *cd, struct chk *c);
void check_http_fini(struct checkd *cd);
int check_tcp_start(struct checkd *cd, struct chk *c);
void check_tcp_cancel(struct checkd *cd, struct chk *c);
int check_udp_start(struct checkd *cd, struct chk *c);
void check_udp_cancel(struct checkd *cd, struct chk *c);
int check_script_init(struct checkd *cd);
int check_script_start(struct checkd *cd, struct chk *c);
void check_script_cancel(struct checkd *cd, struct chk *c);
/* TTL: (re)arms the expiry from now; expired checks go critical. */
void check_ttl_arm(struct checkd *cd, struct chk *c);
void check_ttl_cancel(struct checkd *cd, struct chk *c);
/* Alias: the worst status of the local service's checks. */
void check_alias_eval(struct checkd *cd, struct chk *c);

/* ---- api.c: MSG_AGENT_REQUEST ---- */

struct msg_agent_request;
/* Answers one request: *status, *ctype (static) and *body (owned). */
void api_handle(struct checkd *cd, const struct msg_agent_request *rq,
    int *status, const char **ctype, char **body, size_t *len);

/* ---- sync.c: anti-entropy with the catalog ---- */

int sync_init(struct checkd *cd);
/* Something local changed: push it soon (now, if immediate). */
void sync_kick(struct checkd *cd);
/* A service or check was removed locally: delete it from the catalog. */
void sync_removed(struct checkd *cd, const char *svc_id,
    const char *check_id);
/*
 * Calls fn(arg) once the next sync round has ended (pushed or failed),
 * so a registration is answered after it reached the catalog. Returns 0
 * or ERR_UNAVAILABLE (no sync: call fn yourself).
 */
int sync_after(struct checkd *cd, void (*fn)(void *arg), void *arg);
void sync_fini(struct checkd *cd);

#endif
