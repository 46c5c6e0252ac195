/*
 * routes.c — the routes httpd serves today, out of Consul's table
 * (spec/consul-api.md Appendix A, agent/http_register.go). A route that
 * is not implemented is not registered, so it answers 404 like any
 * unknown path until its issue lands.
 */
#include "config.h"
#include "err.h"
#include "httpd.h"
#include "router.h"

#define GET ROUTER_GET
#define PUT ROUTER_PUT
#define DELETE ROUTER_DELETE

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
	rc |= router_add(rt, "/v1/agent/self", GET, api_agent_self, 0, NULL);
	rc |= router_add(rt, "/v1/agent/version", GET, api_agent_version, 0,
	    NULL);
	return rc != 0 ? ERR_NOMEM : 0;
}
