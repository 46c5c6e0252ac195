/*
 * members.c — a clustered raftd learns the servers of its datacenter
 * from gossipd (DESIGN.md §4): member events on gossipd.events and,
 * because pub/sub is a hint that may be missed (raftd starting after
 * gossipd, a dropped publish), the LAN member list polled every two
 * seconds on gossipd.rpc (MSG_MEMBER_REQUEST LIST), as Consul's leader
 * reconciles serf members periodically. A member whose tags say
 * role=consul and dc=<our datacenter> is a server with Raft id from tag
 * "id", RPC address <member address>:<tag port> and bootstrap
 * expectation tag "expect": alive it goes to discovery_server_seen(),
 * failed or left to discovery_server_gone(). On the leader every LAN
 * member and each polled list also go to reconcile.c (node health in the
 * catalog), and so does gossipd's silence (the leader's own node).
 * Reference: consul
 * agent/consul/server_serf.go (lanEventHandler, nodeJoin, maybeBootstrap),
 * leader.go (reconcileReaped/reconcileMember), metadata/server.go
 * (IsConsulServer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "msg_member.h"
#include "proto.h"
#include "raftd.h"
#include "reconcile.h"

#define MEMBERS_POLL_MS 2000

struct members {
	struct raftd *rd;
	struct ipc_sub *sub;
	struct ipc_client *rpc;
	uint64_t timer;
	uint64_t call_id;
	bool calling;
	uint64_t answered_ms; /* gossipd's last answer (0: never yet) */
	struct proto_arena arena;
};

/* The value of tag k in m, as a C string in buf ("" when absent). */
static const char *
members_tag(const struct proto_member *m, const char *k, char *buf,
    size_t size)
{
	buf[0] = '\0';
	for (uint32_t i = 0; i < m->tags.n; i++)
		if (proto_str_eq(m->tags.keys[i], k)) {
			snprintf(buf, size, "%.*s", (int)m->tags.vals[i].len,
			    m->tags.vals[i].ptr);
			break;
		}
	return buf;
}

/* One member, alive or not (gone: failed, left or reaped). */
static void
members_apply(struct raftd *rd, const struct proto_member *m, bool gone)
{
	char role[16], dc[128], id[64], port[16], expect[16], name[128];
	char addr[300];
	const char *mydc = rd->cfg->datacenter ? rd->cfg->datacenter : "dc1";
	int rc;

	if (strcmp(members_tag(m, "role", role, sizeof(role)), "consul") != 0 ||
	    strcmp(members_tag(m, "dc", dc, sizeof(dc)), mydc) != 0)
		return;
	members_tag(m, "id", id, sizeof(id));
	if (gone) {
		if (rd->client_agent)
			client_server_gone(rd, id);
		else
			discovery_server_gone(rd, id);
		return;
	}
	members_tag(m, "port", port, sizeof(port));
	members_tag(m, "expect", expect, sizeof(expect));
	snprintf(name, sizeof(name), "%.*s", (int)m->name.len, m->name.ptr);
	snprintf(addr, sizeof(addr), "%.*s:%s", (int)m->addr.len, m->addr.ptr,
	    port);
	if (rd->client_agent) {
		client_server_seen(rd, id, name, addr);
		return;
	}
	rc = discovery_server_seen(rd, id, name, addr, atoi(expect));
	if (rc != 0 && rc != ERR_CONFLICT)
		log_debug("members: server %s (%s) ignored: %s", name, addr,
		    err_str(rc));
}

static void
members_event(void *arg, const uint8_t *data, size_t len)
{
	struct members *ms = arg;
	struct proto_msg msg;
	const struct msg_member_event *ev;

	if (proto_decode(data, len, &ms->arena, &msg) == 0 &&
	    msg.type == MSG_MEMBER_EVENT) {
		ev = msg.body;
		if (!ev->wan)
			members_apply(ms->rd, &ev->member,
			    ev->event == MEMBER_EV_FAILED ||
			    ev->event == MEMBER_EV_LEFT ||
			    ev->event == MEMBER_EV_REAPED);
		if (!ev->wan) /* the leader's catalog (reconcile.c) */
			reconcile_member_event(ms->rd, &ev->member, ev->event);
	}
	proto_arena_reset(&ms->arena);
}

static void
members_listed(void *arg, int err, const uint8_t *data, size_t len)
{
	struct members *ms = arg;
	struct proto_msg msg;
	const struct msg_member_result *r;

	ms->calling = false;
	if (err != 0) {
		/* gossipd not up (yet): the next poll retries; once it
		 * answered, its silence is the leader's own node failing */
		if (ms->answered_ms != 0 && ms->rd->members == ms)
			reconcile_gossip_silent(ms->rd,
			    loop_now_ms(ms->rd->loop) - ms->answered_ms);
		return;
	}
	ms->answered_ms = loop_now_ms(ms->rd->loop);
	if (proto_decode(data, len, &ms->arena, &msg) == 0 &&
	    msg.type == MSG_MEMBER_RESULT) {
		r = msg.body;
		for (uint32_t i = 0; r->code == 0 && i < r->n_members; i++)
			/* status 1 alive, 2 leaving, 3 left, 4 failed */
			members_apply(ms->rd, &r->members[i],
			    r->members[i].status >= 3);
		if (r->code == 0) /* the leader's catalog (reconcile.c) */
			reconcile_member_list(ms->rd, r->members,
			    r->n_members);
	}
	proto_arena_reset(&ms->arena);
}

static void
members_poll(struct loop *l, void *arg)
{
	struct members *ms = arg;
	struct msg_member_request q;
	struct proto_buf b;

	ms->timer = loop_timer_add(l, MEMBERS_POLL_MS, members_poll, ms);
	if (ms->calling)
		return;
	memset(&q, 0, sizeof(q));
	q.op = MEMBER_OP_LIST;
	if (proto_encode(MSG_MEMBER_REQUEST, 1, &q, &b) != 0)
		return;
	if (ipc_call(ms->rpc, b.data, b.len, MEMBERS_POLL_MS, members_listed,
	    ms, &ms->call_id) == 0)
		ms->calling = true;
	proto_buf_free(&b);
}

int
members_start(struct raftd *rd)
{
	struct members *ms;
	char url[512];
	int rc;

	/* servers (their leader reconciles) and client agents follow gossip */
	if (!rd->cfg->server && !rd->client_agent)
		return 0;
	if (rd->members != NULL)
		return 0; /* started already */
	if ((ms = calloc(1, sizeof(*ms))) == NULL)
		return ERR_NOMEM;
	ms->rd = rd;
	proto_arena_init(&ms->arena);
	rd->members = ms;
	if ((rc = ipc_url(url, sizeof(url), rd->cfg->runtime_dir,
	    "gossipd.events")) != 0 ||
	    (rc = ipc_sub_open(rd->loop, url, members_event, ms,
	    &ms->sub)) != 0 ||
	    (rc = ipc_url(url, sizeof(url), rd->cfg->runtime_dir,
	    "gossipd.rpc")) != 0 ||
	    (rc = ipc_client_open(rd->loop, url, &ms->rpc)) != 0) {
		log_warnx("members: gossipd sockets in %s: %s",
		    rd->cfg->runtime_dir, err_str(rc));
		members_stop(rd);
		return rc;
	}
	ipc_client_set_connect_wait(ms->rpc, 500);
	ms->timer = loop_timer_add(rd->loop, 0, members_poll, ms);
	return 0;
}

void
members_stop(struct raftd *rd)
{
	struct members *ms = rd->members;

	reconcile_close(rd);
	if (ms == NULL)
		return;
	rd->members = NULL;
	if (ms->timer != 0)
		loop_timer_cancel(rd->loop, ms->timer);
	if (ms->calling)
		ipc_cancel(ms->rpc, ms->call_id); /* runs members_listed */
	ipc_sub_close(ms->sub);
	ipc_client_close(ms->rpc);
	proto_arena_free(&ms->arena);
	free(ms);
}
