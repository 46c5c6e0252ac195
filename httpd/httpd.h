/*
 * httpd.h — the HTTP API daemon's state, owned by its one loop thread
 * (STYLE.md principle 1), and the handlers' entry points.
 *
 * httpd keeps nothing (DESIGN.md §2): every answer comes from raftd (and
 * later the other roles) over IPC. A request that waits on IPC is a
 * suspended connection, never a held thread.
 */
#ifndef CAIRN_HTTPD_HTTPD_H
#define CAIRN_HTTPD_HTTPD_H

#include <stdbool.h>
#include <stdint.h>

#include "query.h"
#include "router.h"
#include "share.h"

struct loop;
struct config;
struct server;
struct ipc_client;
struct req;

/* Connection idle timeout; suspended connections are exempt. */
#define HTTPD_CONN_TIMEOUT_S 30
/* raftd client: how long a call waits for a connection (ipc.h). */
#define HTTPD_RAFTD_CONNECT_WAIT_MS 1000
/* Added to raftd's own deadlines so its answer arrives before ours. */
#define HTTPD_RPC_SLACK_MS 3000

struct httpd {
	struct loop *loop;
	const struct config *cfg; /* borrowed from main */
	struct router rt;
	struct server *srv;
	struct ipc_client *raftd;
	struct ipc_client *checkd; /* rpc_checkd.c: agent services/checks */
	struct ipc_client *gossipd; /* rpc_gossipd.c: members, events */
	struct query_limits lim;
	uint64_t client_id; /* random per start: write deduplication */
	uint64_t seq;       /* per-write sequence number */
	bool pretty;        /* always pretty (-dev or "pretty") */
	bool stopping;
	uint64_t drain_deadline; /* SIGTERM: in-flight calls end by then */
	char node_id[64];
	struct req *waiting; /* requests with an IPC call in flight */
	struct share share;  /* answers shared by woken watchers (rpc.c) */
	uint64_t share_timer; /* expires h->share while it holds entries */
};

/* Registers every implemented route in h->rt (routes.c). 0 or ERR_*. */
int routes_register(struct httpd *h);

/* Handlers (one file each: api_kv.c, api_status.c, api_agent.c). */
void api_kv(struct httpd *h, struct req *r);
void api_status_leader(struct httpd *h, struct req *r);
void api_status_peers(struct httpd *h, struct req *r);
void api_agent_self(struct httpd *h, struct req *r);
void api_agent_version(struct httpd *h, struct req *r);
void api_index(struct httpd *h, struct req *r);
/* The agent service/check endpoints, forwarded to checkd
 * (api_agent_services.c). */
void api_agent_services(struct httpd *h, struct req *r);
void api_agent_service(struct httpd *h, struct req *r);
void api_agent_checks(struct httpd *h, struct req *r);
void api_agent_service_register(struct httpd *h, struct req *r);
void api_agent_service_deregister(struct httpd *h, struct req *r);
void api_agent_service_maint(struct httpd *h, struct req *r);
void api_agent_check_register(struct httpd *h, struct req *r);
void api_agent_check_deregister(struct httpd *h, struct req *r);
void api_agent_check_pass(struct httpd *h, struct req *r);
void api_agent_check_warn(struct httpd *h, struct req *r);
void api_agent_check_fail(struct httpd *h, struct req *r);
void api_agent_check_update(struct httpd *h, struct req *r);
void api_agent_maintenance(struct httpd *h, struct req *r);
void api_agent_health_id(struct httpd *h, struct req *r);
void api_agent_health_name(struct httpd *h, struct req *r);

/*
 * Parses the common options into r->opts; on a bad parameter answers r
 * (400/500 with Consul's text) and returns false (api.c).
 */
bool api_parse_opts(struct httpd *h, struct req *r);

struct proto_read_meta;
/* Sets X-Consul-Index (never 0), -KnownLeader, -LastContact,
 * -Effective-Consistency and -Query-Backend from a read reply. */
void api_set_meta(struct req *r, const struct proto_read_meta *m);
/* Answers a JSON true/false (KV PUT/DELETE). */
void api_reply_bool(struct req *r, bool v);

#endif
