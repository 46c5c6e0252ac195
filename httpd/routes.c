/*
 * routes.c — the routes httpd serves today, out of Consul's table
 * (spec/consul-api.md Appendix A, agent/http_register.go). A route that
 * is not implemented is not registered, so it answers 404 like any
 * unknown path until its issue lands.
 */
#include "api_catalog.h"
#include "api_operator.h"
#include "api_session.h"
#include "config.h"
#include "err.h"
#include "httpd.h"
#include "router.h"
#include "rpc_gossipd.h"

#define GET ROUTER_GET
#define PUT ROUTER_PUT
#define DELETE ROUTER_DELETE
/* A catalog registration body (Consul reads it without a limit). */
#define API_CATALOG_MAX_BODY (1u << 20)

int
routes_register(struct httpd *h)
{
	struct router *rt = &h->rt;
	int rc = 0;

	rc |= router_add(rt, "/", GET | ROUTER_POST | PUT | DELETE |
	    ROUTER_HEAD | ROUTER_OPTIONS | ROUTER_OTHER, api_index, 0, NULL);
	rc |= router_add(rt, "/v1/kv/", GET | PUT | DELETE, api_kv,
	    h->cfg->kv_max_value_size, "kv_max_value_size");
	rc |= router_add(rt, "/v1/status/leader", GET, api_status_leader, 0,
	    NULL);
	rc |= router_add(rt, "/v1/status/peers", GET, api_status_peers, 0,
	    NULL);
	rc |= router_add(rt, "/v1/operator/raft/configuration", GET,
	    api_operator_raft_configuration, 0, NULL);
	rc |= router_add(rt, "/v1/operator/raft/peer", DELETE,
	    api_operator_raft_peer, 0, NULL);
	rc |= router_add(rt, "/v1/operator/raft/transfer-leader",
	    ROUTER_POST,
	    api_operator_raft_transfer_leader, 0, NULL);
	rc |= router_add(rt, "/v1/agent/self", GET, api_agent_self, 0, NULL);
	rc |= router_add(rt, "/v1/agent/version", GET, api_agent_version, 0,
	    NULL);
	rc |= router_add(rt, "/v1/catalog/register", PUT,
	    api_catalog_register, API_CATALOG_MAX_BODY, "limits");
	rc |= router_add(rt, "/v1/catalog/deregister", PUT,
	    api_catalog_deregister, API_CATALOG_MAX_BODY, "limits");
	rc |= router_add(rt, "/v1/catalog/datacenters", GET,
	    api_catalog_datacenters, 0, NULL);
	rc |= router_add(rt, "/v1/catalog/nodes", GET, api_catalog_nodes, 0,
	    NULL);
	rc |= router_add(rt, "/v1/catalog/services", GET,
	    api_catalog_services, 0, NULL);
	rc |= router_add(rt, "/v1/catalog/service/", GET, api_catalog_service,
	    0, NULL);
	rc |= router_add(rt, "/v1/catalog/node/", GET, api_catalog_node, 0,
	    NULL);
	rc |= router_add(rt, "/v1/catalog/node-services/", GET,
	    api_catalog_node_services, 0, NULL);
	rc |= router_add(rt, "/v1/health/node/", GET, api_health_node, 0,
	    NULL);
	rc |= router_add(rt, "/v1/health/checks/", GET, api_health_checks, 0,
	    NULL);
	rc |= router_add(rt, "/v1/health/service/", GET, api_health_service,
	    0, NULL);
	rc |= router_add(rt, "/v1/health/state/", GET, api_health_state, 0,
	    NULL);
	/* agent services and checks, answered by checkd */
	rc |= router_add(rt, "/v1/agent/services", GET, api_agent_services, 0,
	    NULL);
	rc |= router_add(rt, "/v1/agent/service/", GET, api_agent_service, 0,
	    NULL);
	rc |= router_add(rt, "/v1/agent/checks", GET, api_agent_checks, 0,
	    NULL);
	rc |= router_add(rt, "/v1/agent/service/register", PUT,
	    api_agent_service_register, 1u << 20, NULL);
	rc |= router_add(rt, "/v1/agent/service/deregister/", PUT,
	    api_agent_service_deregister, 0, NULL);
	rc |= router_add(rt, "/v1/agent/service/maintenance/", PUT,
	    api_agent_service_maint, 0, NULL);
	rc |= router_add(rt, "/v1/agent/check/register", PUT,
	    api_agent_check_register, 1u << 20, NULL);
	rc |= router_add(rt, "/v1/agent/check/deregister/", PUT,
	    api_agent_check_deregister, 0, NULL);
	rc |= router_add(rt, "/v1/agent/check/pass/", PUT,
	    api_agent_check_pass, 0, NULL);
	rc |= router_add(rt, "/v1/agent/check/warn/", PUT,
	    api_agent_check_warn, 0, NULL);
	rc |= router_add(rt, "/v1/agent/check/fail/", PUT,
	    api_agent_check_fail, 0, NULL);
	rc |= router_add(rt, "/v1/agent/check/update/", PUT,
	    api_agent_check_update, 1u << 20, NULL);
	rc |= router_add(rt, "/v1/agent/maintenance", PUT,
	    api_agent_maintenance, 0, NULL);
	rc |= router_add(rt, "/v1/agent/health/service/id/", GET,
	    api_agent_health_id, 0, NULL);
	rc |= router_add(rt, "/v1/agent/health/service/name/", GET,
	    api_agent_health_name, 0, NULL);
	/* sessions and transactions (api_session.c, api_txn.c) */
	rc |= router_add(rt, "/v1/session/create", PUT, api_session_create,
	    1u << 20, NULL);
	rc |= router_add(rt, "/v1/session/destroy/", PUT,
	    api_session_destroy, 0, NULL);
	rc |= router_add(rt, "/v1/session/renew/", PUT, api_session_renew, 0,
	    NULL);
	rc |= router_add(rt, "/v1/session/info/", GET, api_session_info, 0,
	    NULL);
	rc |= router_add(rt, "/v1/session/node/", GET, api_session_node, 0,
	    NULL);
	rc |= router_add(rt, "/v1/session/list", GET, api_session_list, 0,
	    NULL);
	rc |= router_add(rt, "/v1/txn", PUT, api_txn,
	    h->cfg->txn_max_req_len, "txn_max_req_len");
	/* gossip: members, join, leave, force-leave, user events (gossipd) */
	rc |= router_add(rt, "/v1/agent/members", GET, api_agent_members, 0,
	    NULL);
	rc |= router_add(rt, "/v1/agent/join/", PUT, api_agent_join, 0, NULL);
	rc |= router_add(rt, "/v1/agent/leave", PUT, api_agent_leave, 0, NULL);
	rc |= router_add(rt, "/v1/agent/force-leave/", PUT,
	    api_agent_force_leave, 0, NULL);
	rc |= router_add(rt, "/v1/event/fire/", PUT, api_event_fire,
	    64 * 1024, NULL);
	rc |= router_add(rt, "/v1/event/list", GET, api_event_list, 0, NULL);
	return rc != 0 ? ERR_NOMEM : 0;
}
