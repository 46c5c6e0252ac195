/*
 * events.c — user events (spec §2.10): firing one into the LAN pool,
 * remembering the last 256 this agent received, and /v1/event/list with
 * blocking on the event index.
 *
 * Key decision: the SWIM user event carries the name and Lamport time;
 * its payload is a MSG_SWIM_USER_EVENT encoding (ID, payload, filters,
 * version) as Consul wraps a UserEvent in a serf user event. The node
 * filters are applied on receipt as Consul's shouldProcessUserEvent does:
 * the node filter against this node's name; the service filter against
 * the IDs of this agent's services and the tag filter against their tags,
 * which checkd owns — so an event with a service filter waits for one
 * agent/services call to checkd.rpc before it is kept or dropped (dropped,
 * with a warning, when checkd cannot answer: delivering an event meant for
 * other services is worse than missing one). The index is a hash of
 * the newest event's ID (Consul: uuidToUint64 of the last ID); a request
 * whose index equals it waits for the next event or its wait time.
 * Reference: consul agent/user_event.go, agent/event_endpoint.go.
 */
#include <regex.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "gossipd.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "msg_agent.h"
#include "msg_member.h"
#include "msg_swim.h"
#include "nodeid.h"

struct event_waiter {
	struct gossipd *g;
	struct ipc_req *req;
	uint64_t reqid;
	char *name;
	uint64_t timer;
	struct event_waiter *next;
};

static char *
events_dup(struct proto_str s)
{
	char *p = malloc((size_t)s.len + 1);

	if (p == NULL)
		return NULL;
	if (s.len > 0)
		memcpy(p, s.ptr, s.len);
	p[s.len] = '\0';
	return p;
}

static void
events_clear(struct gossip_event *e)
{
	free(e->id);
	free(e->name);
	free(e->payload);
	free(e->node_filter);
	free(e->service_filter);
	free(e->tag_filter);
	memset(e, 0, sizeof(*e));
}

static uint64_t
events_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h < 2 ? h + 2 : h;
}

/* Replies to a list request with the remembered events named name. */
static void
events_reply(struct gossipd *g, struct ipc_req *req, uint64_t reqid,
    const char *name)
{
	struct msg_member_result res;
	struct proto_user_event *v = NULL;
	struct proto_buf b;
	size_t i, k = 0;

	memset(&res, 0, sizeof(res));
	if (g->n_events > 0 &&
	    (v = calloc(g->n_events, sizeof(*v))) == NULL) {
		ipc_req_drop(req);
		return;
	}
	for (i = 0; i < g->n_events; i++) {
		struct gossip_event *e =
		    &g->events[(g->ev_head + i) % GOSSIPD_EVENTS_MAX];

		if (*name != '\0' && strcmp(name, e->name) != 0)
			continue;
		v[k].id = proto_str_c(e->id);
		v[k].name = proto_str_c(e->name);
		v[k].payload = (struct proto_str){ e->payload,
			(uint32_t)e->payload_len };
		v[k].has_payload = e->has_payload;
		v[k].node_filter = proto_str_c(e->node_filter);
		v[k].service_filter = proto_str_c(e->service_filter);
		v[k].tag_filter = proto_str_c(e->tag_filter);
		v[k].version = e->version;
		v[k].ltime = e->ltime;
		k++;
	}
	res.events = v;
	res.n_events = (uint32_t)k;
	res.index = g->ev_index ? g->ev_index : 1;
	if (proto_encode(MSG_MEMBER_RESULT, reqid, &res, &b) == 0) {
		ipc_reply(req, b.data, b.len);
		proto_buf_free(&b);
	} else {
		ipc_req_drop(req);
	}
	free(v);
}

static void
events_waiter_free(struct gossipd *g, struct event_waiter *w)
{
	struct event_waiter **pp;

	for (pp = &g->waiters; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	if (w->timer != 0)
		loop_timer_cancel(g->loop, w->timer);
	free(w->name);
	free(w);
}

static void
events_waiter_timeout(struct loop *l, void *arg)
{
	struct event_waiter *w = arg;

	(void)l;
	w->timer = 0;
	events_reply(w->g, w->req, w->reqid, w->name);
	events_waiter_free(w->g, w);
}

#define EVENTS_CHECKD_MS 5000

/* An event waiting for checkd's service list to pass its filters. */
struct event_pending {
	struct gossipd *g;
	struct gossip_event e;
	struct event_pending *next;
};

/* Go's regexp.MatchString (unanchored); a bad expression never matches. */
static bool
events_match(const char *expr, const char *s)
{
	regex_t re;
	bool match = false;

	if (regcomp(&re, expr, REG_EXTENDED | REG_NOSUB) == 0) {
		match = regexec(&re, s, 0, NULL, 0) == 0;
		regfree(&re);
	}
	return match;
}

/* Keeps e (taking its strings) as the newest event, waking list waiters. */
static void
events_store(struct gossipd *g, struct gossip_event *e)
{
	struct gossip_event *slot;

	if (g->n_events == GOSSIPD_EVENTS_MAX) {
		events_clear(&g->events[g->ev_head]);
		g->ev_head = (g->ev_head + 1) % GOSSIPD_EVENTS_MAX;
		g->n_events--;
	}
	slot = &g->events[(g->ev_head + g->n_events) % GOSSIPD_EVENTS_MAX];
	*slot = *e;
	memset(e, 0, sizeof(*e));
	g->n_events++;
	g->ev_index = events_hash(slot->id);
	log_info("gossipd: user event %s (ltime %llu)", slot->name,
	    (unsigned long long)slot->ltime);
	while (g->waiters != NULL) {
		struct event_waiter *w = g->waiters;

		events_reply(g, w->req, w->reqid, w->name);
		events_waiter_free(g, w);
	}
}

/*
 * Whether the agent/services JSON (an object keyed by service ID, each
 * with "Tags") has a service whose ID matches svc and, when tag is not
 * empty, one of whose tags matches tag (Consul's shouldProcessUserEvent).
 */
static bool
events_services_match(const char *json, size_t len, const char *svc,
    const char *tag)
{
	json_t *root, *v, *tags, *t;
	const char *id;
	size_t i;
	bool found = false;

	if ((root = json_loadb(json, len, 0, NULL)) == NULL)
		return false;
	json_object_foreach(root, id, v) {
		if (!events_match(svc, id))
			continue;
		if (*tag == '\0') {
			found = true;
			break;
		}
		tags = json_object_get(v, "Tags");
		json_array_foreach(tags, i, t) {
			if (json_is_string(t) &&
			    events_match(tag, json_string_value(t))) {
				found = true;
				break;
			}
		}
		if (found)
			break;
	}
	json_decref(root);
	return found;
}

static void
events_pending_unlink(struct gossipd *g, struct event_pending *p)
{
	struct event_pending **pp;

	for (pp = &g->pending; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
}

/* checkd's agent/services answer for a pending event. */
static void
events_services_done(void *arg, int err, const uint8_t *data, size_t len)
{
	struct event_pending *p = arg;
	struct gossipd *g = p->g;
	struct proto_arena a;
	struct proto_msg m;
	const struct msg_agent_result *res;
	bool keep = false, answered = false;

	events_pending_unlink(g, p);
	proto_arena_init(&a);
	if (err == 0 && proto_decode(data, len, &a, &m) == 0 &&
	    m.type == MSG_AGENT_RESULT &&
	    (res = m.body)->status == 200 && res->body_parts.n == 0) {
		answered = true;
		keep = events_services_match((const char *)res->body.ptr,
		    res->body.len, p->e.service_filter, p->e.tag_filter);
	}
	proto_arena_free(&a);
	if (!answered)
		log_warnx("gossipd: user event %s dropped: its service filter "
		    "needs checkd's services (%s)", p->e.name,
		    err != 0 ? err_str(err) : "bad reply");
	if (keep)
		events_store(g, &p->e);
	events_clear(&p->e);
	free(p);
}

/* Asks checkd for this agent's services; p is freed by the callback. */
static void
events_pend(struct gossipd *g, struct event_pending *p)
{
	struct msg_agent_request rq;
	struct proto_buf b;
	char url[4200];
	int rc;

	p->g = g;
	p->next = g->pending;
	g->pending = p;
	if (g->checkd == NULL &&
	    ((rc = ipc_url(url, sizeof(url), g->cfg->runtime_dir,
	    "checkd.rpc")) != 0 ||
	    (rc = ipc_client_open(g->loop, url, &g->checkd)) != 0)) {
		g->checkd = NULL;
		events_services_done(p, rc, NULL, 0);
		return;
	}
	memset(&rq, 0, sizeof(rq));
	rq.op = AGENT_OP_SERVICES;
	if ((rc = proto_encode(MSG_AGENT_REQUEST, 0, &rq, &b)) != 0) {
		events_services_done(p, rc, NULL, 0);
		return;
	}
	rc = ipc_call(g->checkd, b.data, b.len, EVENTS_CHECKD_MS,
	    events_services_done, p, NULL);
	proto_buf_free(&b);
	if (rc != 0)
		events_services_done(p, rc, NULL, 0);
}

void
events_deliver(struct gossipd *g, const char *name, uint64_t ltime,
    const uint8_t *payload, size_t len)
{
	struct proto_arena a;
	struct proto_msg m;
	struct msg_swim_user_event *u;
	struct event_pending *p;
	struct gossip_event e;
	char *nf;
	bool match;

	proto_arena_init(&a);
	if (proto_decode(payload, len, &a, &m) != 0 ||
	    m.type != MSG_SWIM_USER_EVENT) {
		log_debug("gossipd: user event %s: undecodable payload", name);
		proto_arena_free(&a);
		return;
	}
	u = m.body;
	if (u->node_filter.len > 0 && (nf = events_dup(u->node_filter))) {
		match = events_match(nf, g->cfg->node_name);
		free(nf);
		if (!match) {
			proto_arena_free(&a);
			return;
		}
	}
	memset(&e, 0, sizeof(e));
	e.id = events_dup(u->id);
	e.name = strdup(name);
	e.payload = events_dup(u->payload);
	e.payload_len = u->payload.len;
	e.has_payload = u->payload.len > 0;
	e.node_filter = events_dup(u->node_filter);
	e.service_filter = events_dup(u->service_filter);
	e.tag_filter = events_dup(u->tag_filter);
	e.version = u->version;
	e.ltime = ltime;
	proto_arena_free(&a);
	if (!e.id || !e.name || !e.payload || !e.node_filter ||
	    !e.service_filter || !e.tag_filter) {
		events_clear(&e);
		return;
	}
	if (*e.service_filter == '\0') {
		events_store(g, &e);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		events_clear(&e);
		return;
	}
	p->e = e;
	events_pend(g, p);
}

/* MEMBER_OP_EVENT_FIRE: the UserEvent JSON fields come back in res. */
int events_fire(struct gossipd *g, const struct msg_member_request *r,
    struct proto_user_event *out, char *id, size_t idlen, char *err,
    size_t errlen);

int
events_fire(struct gossipd *g, const struct msg_member_request *r,
    struct proto_user_event *out, char *id, size_t idlen, char *err,
    size_t errlen)
{
	struct msg_swim_user_event u;
	struct proto_buf b;
	char name[SWIM_NAME_MAX + 1];
	int rc;

	if (r->name.len == 0 || r->name.len > SWIM_NAME_MAX ||
	    memchr(r->name.ptr, '\0', r->name.len) != NULL) {
		snprintf(err, errlen, "User event missing name");
		return ERR_INVAL;
	}
	memcpy(name, r->name.ptr, r->name.len);
	name[r->name.len] = '\0';
	if (node_id_generate(id, idlen) != 0)
		return ERR_INTERNAL;
	memset(&u, 0, sizeof(u));
	u.id = proto_str_c(id);
	u.payload = r->payload;
	u.node_filter = r->node_filter;
	u.service_filter = r->service_filter;
	u.tag_filter = r->tag_filter;
	u.version = 1;
	if ((rc = proto_encode(MSG_SWIM_USER_EVENT, 0, &u, &b)) != 0)
		return rc;
	if (b.len > UINT16_MAX)
		rc = ERR_TOOBIG;
	else
		rc = swim_user_event(g->lan.swim, name, b.data,
		    (uint16_t)b.len);
	proto_buf_free(&b);
	if (rc == ERR_TOOBIG) {
		snprintf(err, errlen, "user event exceeds limit of %d bytes",
		    SWIM_USER_EVENT_MAX);
		return rc;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s", err_str(rc));
		return rc;
	}
	memset(out, 0, sizeof(*out));
	out->id = proto_str_c(id);
	out->name = r->name;
	out->payload = r->payload;
	out->has_payload = r->payload.len > 0;
	out->node_filter = r->node_filter;
	out->service_filter = r->service_filter;
	out->tag_filter = r->tag_filter;
	out->version = 1;
	pool_flush(&g->lan);
	return 0;
}

/* MEMBER_OP_EVENT_LIST: answers now, or parks until the next event. */
void events_list(struct gossipd *g, struct ipc_req *req, uint64_t reqid,
    const struct msg_member_request *r);

void
events_list(struct gossipd *g, struct ipc_req *req, uint64_t reqid,
    const struct msg_member_request *r)
{
	struct event_waiter *w;
	char *name = events_dup(r->name);
	uint64_t cur = g->ev_index ? g->ev_index : 1;

	if (name == NULL) {
		ipc_req_drop(req);
		return;
	}
	if (r->min_index == 0 || r->min_index != cur || r->wait_ms == 0 ||
	    (w = calloc(1, sizeof(*w))) == NULL) {
		events_reply(g, req, reqid, name);
		free(name);
		return;
	}
	w->g = g;
	w->req = req;
	w->reqid = reqid;
	w->name = name;
	w->next = g->waiters;
	g->waiters = w;
	w->timer = loop_timer_add(g->loop, r->wait_ms, events_waiter_timeout,
	    w);
}

void
events_free(struct gossipd *g)
{
	while (g->waiters != NULL) {
		struct event_waiter *w = g->waiters;

		events_reply(g, w->req, w->reqid, w->name);
		events_waiter_free(g, w);
	}
	if (g->checkd != NULL) /* pending events complete, dropped */
		ipc_client_close(g->checkd);
	g->checkd = NULL;
	for (size_t i = 0; i < GOSSIPD_EVENTS_MAX; i++)
		events_clear(&g->events[i]);
	g->n_events = 0;
}
