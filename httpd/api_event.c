/*
 * api_event.c — PUT /v1/event/fire/:name and GET /v1/event/list
 * (spec §2.10), answered by gossipd (gossipd/events.c).
 *
 * Key decision: the list blocks in gossipd on the event index (?index,
 * ?wait, default 5 min, capped at 10 min as other blocking queries), so
 * httpd only adds X-Consul-Index. An event's node, service and tag
 * filters (?node, ?service, ?tag of fire) are applied by each receiving
 * gossipd (events.c). Reference: consul agent/event_endpoint.go.
 */
#include <string.h>

#include "config.h"
#include "err.h"
#include "httpd.h"
#include "json.h"
#include "msg_member.h"
#include "proto.h"
#include "query.h"
#include "req.h"
#include "rpc_gossipd.h"

#define API_EVENT_CALL_MS 5000
#define API_EVENT_SLACK_MS 5000

static void
api_event_json(struct json *w, const struct proto_user_event *e)
{
	json_obj_begin(w);
	json_key(w, "ID");
	json_strn(w, e->id.ptr, e->id.len);
	json_key(w, "Name");
	json_strn(w, e->name.ptr, e->name.len);
	json_key(w, "Payload");
	if (e->has_payload)
		json_base64(w, e->payload.ptr, e->payload.len);
	else
		json_null(w);
	json_key(w, "NodeFilter");
	json_strn(w, e->node_filter.ptr, e->node_filter.len);
	json_key(w, "ServiceFilter");
	json_strn(w, e->service_filter.ptr, e->service_filter.len);
	json_key(w, "TagFilter");
	json_strn(w, e->tag_filter.ptr, e->tag_filter.len);
	json_kv_u64(w, "Version", e->version);
	json_kv_u64(w, "LTime", e->ltime);
	json_obj_end(w);
}

static void
api_event_fire_done(struct req *r, const struct msg_member_result *res)
{
	struct json w;

	if (res->n_events != 1) {
		req_reply_text(r, 500, "rpc error: no event in the reply");
		return;
	}
	req_json_init(r, &w);
	api_event_json(&w, &res->events[0]);
	req_reply_json(r, 200, &w);
}

static const char *
api_arg(const struct req *r, const char *k)
{
	const char *v = query_get(&r->args, k);

	return v != NULL ? v : "";
}

void
api_event_fire(struct httpd *h, struct req *r)
{
	struct msg_member_request rq;

	if (r->param == NULL || *r->param == '\0') {
		req_reply_text(r, 400, "Missing name");
		return;
	}
	memset(&rq, 0, sizeof(rq));
	rq.op = MEMBER_OP_EVENT_FIRE;
	rq.name = proto_str_c(r->param);
	rq.payload = (struct proto_str){ r->body, (uint32_t)r->body_len };
	rq.node_filter = proto_str_c(api_arg(r, "node"));
	rq.service_filter = proto_str_c(api_arg(r, "service"));
	rq.tag_filter = proto_str_c(api_arg(r, "tag"));
	if (rq.tag_filter.len > 0 && rq.service_filter.len == 0) {
		req_reply_text(r, 400, "Cannot provide tag filter without "
		    "service filter");
		return;
	}
	rpc_gossipd(h, r, &rq, API_EVENT_CALL_MS, api_event_fire_done);
}

static void
api_event_list_done(struct req *r, const struct msg_member_result *res)
{
	struct json w;
	uint32_t i;

	req_set_headerf(r, "X-Consul-Index", "%llu",
	    (unsigned long long)res->index);
	req_json_init(r, &w);
	json_arr_begin(&w);
	for (i = 0; i < res->n_events; i++)
		api_event_json(&w, &res->events[i]);
	json_arr_end(&w);
	req_reply_json(r, 200, &w);
}

void
api_event_list(struct httpd *h, struct req *r)
{
	struct msg_member_request rq;
	const char *v;
	uint64_t wait_ms = 300000, idx = 0;
	int64_t ns;

	memset(&rq, 0, sizeof(rq));
	rq.op = MEMBER_OP_EVENT_LIST;
	rq.name = proto_str_c(api_arg(r, "name"));
	if ((v = query_get(&r->args, "index")) != NULL && *v != '\0' &&
	    query_parse_u64(v, &idx) != 0) {
		req_reply_text(r, 400, "Invalid index");
		return;
	}
	if ((v = query_get(&r->args, "wait")) != NULL && *v != '\0') {
		if (query_parse_duration(v, &ns) != 0 || ns < 0) {
			req_reply_text(r, 400, "Invalid wait time");
			return;
		}
		wait_ms = (uint64_t)ns / 1000000;
	}
	if (wait_ms > 600000)
		wait_ms = 600000;
	rq.min_index = idx;
	rq.wait_ms = (uint32_t)wait_ms;
	rpc_gossipd(h, r, &rq, (uint32_t)(idx ? wait_ms : 0) +
	    API_EVENT_SLACK_MS, api_event_list_done);
}
