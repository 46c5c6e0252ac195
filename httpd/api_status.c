/*
 * api_status.c — /v1/status/leader and /v1/status/peers, from raftd's
 * MSG_STATUS_GET: the leader's RPC address as a JSON string ("" when
 * there is none) and the voters' addresses as a JSON array (never null).
 * Clients use /v1/status/leader as a liveness ping. No ACL.
 * Reference: spec/consul-api.md §2.7; Consul agent/status_endpoint.go.
 */
#include <string.h>

#include "httpd.h"
#include "json.h"
#include "proto.h"
#include "req.h"
#include "rpc.h"

static void
api_status_leader_done(struct req *r, const void *body)
{
	const struct msg_status_get_result *res = body;
	struct json w;

	req_json_init(r, &w);
	json_strn(&w, res->leader.ptr, res->leader.len);
	req_reply_json(r, 200, &w);
}

static void
api_status_peers_done(struct req *r, const void *body)
{
	const struct msg_status_get_result *res = body;
	struct json w;
	uint32_t i;

	req_json_init(r, &w);
	json_arr_begin(&w);
	for (i = 0; i < res->peers.n; i++)
		json_strn(&w, res->peers.v[i].ptr, res->peers.v[i].len);
	json_arr_end(&w);
	req_reply_json(r, 200, &w);
}

static void
api_status_get(struct httpd *h, struct req *r, rpc_cb cb)
{
	struct msg_status_get g;

	if (!api_parse_opts(h, r))
		return;
	memset(&g, 0, sizeof(g));
	rpc_raftd(h, r, MSG_STATUS_GET, &g, rpc_read_timeout(h, 0, 0),
	    MSG_STATUS_GET_RESULT, cb);
}

void
api_status_leader(struct httpd *h, struct req *r)
{
	api_status_get(h, r, api_status_leader_done);
}

void
api_status_peers(struct httpd *h, struct req *r)
{
	api_status_get(h, r, api_status_peers_done);
}
