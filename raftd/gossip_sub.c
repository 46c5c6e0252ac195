/*
 * gossip_sub.c — raftd's view of gossip: the servers of its datacenter,
 * from gossipd's member events (<runtime_dir>/gossipd.events,
 * MSG_MEMBER_EVENT) and, because a subscriber misses what was published
 * before it connected, from the member list (MSG_MEMBER_REQUEST on
 * gossipd.rpc) read at start and every GOSSIP_SUB_POLL_MS after. Alive
 * servers (tags role=consul, dc = ours) go to discovery_server_seen()
 * with "addr:<tags port>" and their expect tag; failed, left and reaped
 * ones to discovery_server_gone().
 *
 * Key decision: events give the fast path, the periodic list is the
 * reconciliation Consul's leader also runs (leader.go reconcile), so a
 * lost event or a restarted gossipd never leaves discovery stale.
 * Reference: consul agent/consul/server_serf.go (lanEventHandler,
 * nodeJoin, maybeBootstrap), agent/metadata/server.go (IsConsulServer).
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

#define GOSSIP_SUB_POLL_MS 2000

struct gossip_sub {
	struct raftd *rd;
	struct ipc_sub *sub;
	struct ipc_client *cli;
	uint64_t timer;
	bool call_pending;
};

static void
gossip_sub_copy(struct proto_str s, char *buf, size_t len)
{
	size_t n = s.len < len - 1 ? s.len : len - 1;

	if (n > 0)
		memcpy(buf, s.ptr, n);
	buf[n] = '\0';
}

static bool
gossip_sub_tag(const struct proto_member *m, const char *k, char *buf,
    size_t len)
{
	for (uint32_t i = 0; i < m->tags.n; i++)
		if (proto_str_eq(m->tags.keys[i], k)) {
			gossip_sub_copy(m->tags.vals[i], buf, len);
			return true;
		}
	buf[0] = '\0';
	return false;
}

/* One member as gossip reports it; alive says which way. */
static void
gossip_sub_member(struct raftd *rd, const struct proto_member *m, bool alive)
{
	char role[16], dc[128], id[64], port[16], expect[16], name[256];
	char ip[64], addr[128];
	int rc;

	if (!gossip_sub_tag(m, "role", role, sizeof(role)) ||
	    strcmp(role, "consul") != 0 ||
	    !gossip_sub_tag(m, "dc", dc, sizeof(dc)) ||
	    strcmp(dc, rd->cfg->datacenter) != 0 ||
	    !gossip_sub_tag(m, "id", id, sizeof(id)))
		return;
	if (!alive) {
		discovery_server_gone(rd, id);
		return;
	}
	if (!gossip_sub_tag(m, "port", port, sizeof(port)))
		return;
	gossip_sub_tag(m, "expect", expect, sizeof(expect));
	gossip_sub_copy(m->name, name, sizeof(name));
	gossip_sub_copy(m->addr, ip, sizeof(ip));
	snprintf(addr, sizeof(addr), strchr(ip, ':') ? "[%s]:%s" : "%s:%s",
	    ip, port);
	rc = discovery_server_seen(rd, id, name, addr, atoi(expect));
	if (rc != 0 && rc != ERR_CONFLICT)
		log_debug("gossip: server %s (%s): %s", name, addr,
		    err_str(rc));
}

static void
gossip_sub_event(void *arg, const uint8_t *data, size_t len)
{
	struct gossip_sub *gs = arg;
	struct proto_arena a;
	struct proto_msg m;
	const struct msg_member_event *ev;

	proto_arena_init(&a);
	if (proto_decode(data, len, &a, &m) == 0 &&
	    m.type == MSG_MEMBER_EVENT) {
		ev = m.body;
		if (!ev->wan)
			gossip_sub_member(gs->rd, &ev->member,
			    ev->event == MEMBER_EV_JOIN ||
			    ev->event == MEMBER_EV_UPDATE ?
			    ev->member.status == 1 : false);
	}
	proto_arena_free(&a);
}

static void
gossip_sub_list_done(void *arg, int err, const uint8_t *data, size_t len)
{
	struct gossip_sub *gs = arg;
	struct proto_arena a;
	struct proto_msg m;
	const struct msg_member_result *res;

	gs->call_pending = false;
	if (err != 0 || gs->rd == NULL)
		return;
	proto_arena_init(&a);
	if (proto_decode(data, len, &a, &m) == 0 &&
	    m.type == MSG_MEMBER_RESULT) {
		res = m.body;
		for (uint32_t i = 0; i < res->n_members; i++)
			if (res->members[i].status == 1)
				gossip_sub_member(gs->rd, &res->members[i],
				    true);
	}
	proto_arena_free(&a);
}

static void
gossip_sub_poll(struct loop *l, void *arg)
{
	struct gossip_sub *gs = arg;
	struct msg_member_request rq;
	struct proto_buf b;
	uint64_t id;

	gs->timer = loop_timer_add(l, GOSSIP_SUB_POLL_MS, gossip_sub_poll, gs);
	if (gs->call_pending)
		return;
	memset(&rq, 0, sizeof(rq));
	rq.op = MEMBER_OP_LIST;
	if (proto_encode(MSG_MEMBER_REQUEST, 0, &rq, &b) != 0)
		return;
	if (ipc_call(gs->cli, b.data, b.len, GOSSIP_SUB_POLL_MS,
	    gossip_sub_list_done, gs, &id) == 0)
		gs->call_pending = true;
	proto_buf_free(&b);
}

int
gossip_sub_open(struct raftd *rd)
{
	struct gossip_sub *gs;
	char url[4200];
	int rc;

	if ((gs = calloc(1, sizeof(*gs))) == NULL)
		return ERR_NOMEM;
	gs->rd = rd;
	if ((rc = ipc_url(url, sizeof(url), rd->cfg->runtime_dir,
	    "gossipd.events")) != 0 ||
	    (rc = ipc_sub_open(rd->loop, url, gossip_sub_event, gs,
	    &gs->sub)) != 0 ||
	    (rc = ipc_url(url, sizeof(url), rd->cfg->runtime_dir,
	    "gossipd.rpc")) != 0 ||
	    (rc = ipc_client_open(rd->loop, url, &gs->cli)) != 0) {
		if (gs->sub != NULL)
			ipc_sub_close(gs->sub);
		free(gs);
		return rc;
	}
	ipc_client_set_connect_wait(gs->cli, 500);
	gs->timer = loop_timer_add(rd->loop, 0, gossip_sub_poll, gs);
	rd->gsub = gs;
	return 0;
}

void
gossip_sub_close(struct raftd *rd)
{
	struct gossip_sub *gs = rd->gsub;

	if (gs == NULL)
		return;
	if (gs->timer != 0)
		loop_timer_cancel(rd->loop, gs->timer);
	gs->rd = NULL;
	ipc_sub_close(gs->sub);
	ipc_client_close(gs->cli); /* answers a pending call (canceled) */
	free(gs);
	rd->gsub = NULL;
}
