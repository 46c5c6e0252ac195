/*
 * rpc.c — the gossipd.rpc server: MSG_MEMBER_REQUEST in, MSG_MEMBER_RESULT
 * (or MSG_ERROR for an undecodable request) out. Operations: members
 * [wan], join [wan] addrs (answered once every address was tried, with
 * the number of nodes contacted), leave (answered once the leave was
 * disseminated, then gossipd stops), force-leave [prune] [wan], user
 * event fire and list (events.c).
 *
 * Key decision: the members list is the core's view with status as serf
 * reports it (suspect members are alive), tags decoded to a string map,
 * so httpd renders Consul's Member JSON without gossip knowledge.
 * Reference: consul agent/agent.go (LANMembers, JoinLAN, ForceLeave),
 * spec §2.1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "gossipd.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "msg_member.h"

int events_fire(struct gossipd *g, const struct msg_member_request *r,
    struct proto_user_event *out, char *id, size_t idlen, char *err,
    size_t errlen);
void events_list(struct gossipd *g, struct ipc_req *req, uint64_t reqid,
    const struct msg_member_request *r);

static void
rpc_send(struct ipc_req *req, uint64_t reqid, struct msg_member_result *res)
{
	struct proto_buf b;

	if (proto_encode(MSG_MEMBER_RESULT, reqid, res, &b) != 0) {
		ipc_req_drop(req);
		return;
	}
	ipc_reply(req, b.data, b.len);
	proto_buf_free(&b);
}

static void
rpc_error(struct ipc_req *req, uint64_t reqid, int code, const char *msg)
{
	struct msg_member_result res;

	memset(&res, 0, sizeof(res));
	res.code = code;
	res.error = proto_str_c(msg);
	rpc_send(req, reqid, &res);
}

#define RPC_TAGS_MAX 32

static void
rpc_members(struct gossipd *g, struct ipc_req *req, uint64_t reqid, bool wan)
{
	struct pool *p = wan ? &g->wan : &g->lan;
	struct msg_member_result res;
	struct swim_member_view v;
	struct swim_counts c;
	struct proto_member *m = NULL;
	struct proto_str *kv = NULL;
	char (*ips)[64] = NULL;
	size_t pos = 0, n = 0, cap;

	memset(&res, 0, sizeof(res));
	if (wan && !g->have_wan) {
		rpc_send(req, reqid, &res); /* a client: no WAN members */
		return;
	}
	swim_counts_get(p->swim, &c);
	cap = (size_t)c.alive + c.suspect + c.failed + c.left + 1;
	if ((m = calloc(cap, sizeof(*m))) == NULL ||
	    (kv = calloc(cap * RPC_TAGS_MAX * 2, sizeof(*kv))) == NULL ||
	    (ips = calloc(cap, sizeof(*ips))) == NULL) {
		rpc_error(req, reqid, ERR_NOMEM, "out of memory");
		goto out;
	}
	while (n < cap && swim_member_next(p->swim, &pos, &v)) {
		struct proto_member *x = &m[n];
		struct proto_str *k = kv + n * RPC_TAGS_MAX * 2;
		struct proto_str *val = k + RPC_TAGS_MAX;
		size_t tp = 0;
		const char *tk, *tv;

		pool_addr_ip(&v.addr, ips[n], sizeof(ips[n]));
		x->name = proto_str_c(v.name);
		x->addr = proto_str_c(ips[n]);
		x->port = v.addr.port;
		x->status = v.status;
		x->tags.keys = k;
		x->tags.vals = val;
		while (x->tags.n < RPC_TAGS_MAX &&
		    tags_next(v.meta, v.meta_len, &tp, &tk, &tv)) {
			k[x->tags.n] = proto_str_c(tk);
			val[x->tags.n] = proto_str_c(tv);
			x->tags.n++;
		}
		n++;
	}
	res.members = m;
	res.n_members = (uint32_t)n;
	rpc_send(req, reqid, &res);
out:
	free(m);
	free(kv);
	free(ips);
}

struct rpc_join {
	struct ipc_req *req;
	uint64_t reqid;
};

static void
rpc_join_done(void *arg, int joined, const char *err)
{
	struct rpc_join *j = arg;
	struct msg_member_result res;

	memset(&res, 0, sizeof(res));
	if (joined > 0) {
		res.joined = (uint32_t)joined;
		rpc_send(j->req, j->reqid, &res);
	} else {
		rpc_error(j->req, j->reqid, ERR_UNAVAILABLE,
		    err ? err : "join failed");
	}
	free(j);
}

static void
rpc_join(struct gossipd *g, struct ipc_req *req, uint64_t reqid,
    const struct msg_member_request *r)
{
	struct rpc_join *j;
	char **addrs;
	uint32_t i;
	int rc;

	if (r->wan && !g->have_wan) {
		rpc_error(req, reqid, ERR_UNSUPPORTED,
		    "Must be a server to join WAN cluster");
		return;
	}
	if (r->addrs.n == 0) {
		rpc_error(req, reqid, ERR_INVAL, "no address to join");
		return;
	}
	if ((addrs = calloc(r->addrs.n, sizeof(*addrs))) == NULL ||
	    (j = calloc(1, sizeof(*j))) == NULL) {
		free(addrs);
		rpc_error(req, reqid, ERR_NOMEM, "out of memory");
		return;
	}
	for (i = 0; i < r->addrs.n; i++)
		addrs[i] = strndup(r->addrs.v[i].ptr, r->addrs.v[i].len);
	for (i = 0; i < r->addrs.n; i++)
		if (addrs[i] == NULL)
			break;
	j->req = req;
	j->reqid = reqid;
	if (i < r->addrs.n)
		rc = ERR_NOMEM;
	else
		rc = join_start(r->wan ? &g->wan : &g->lan, addrs, r->addrs.n,
		    rpc_join_done, j);
	for (i = 0; i < r->addrs.n; i++)
		free(addrs[i]);
	free(addrs);
	if (rc != 0) {
		free(j);
		rpc_error(req, reqid, rc, err_str(rc));
	}
}

static void
rpc_force_leave(struct gossipd *g, struct ipc_req *req, uint64_t reqid,
    const struct msg_member_request *r)
{
	struct pool *p = r->wan ? &g->wan : &g->lan;
	struct msg_member_result res;
	char name[SWIM_NAME_MAX + 1], msg[300];
	int rc;

	if (r->wan && !g->have_wan) {
		rpc_error(req, reqid, ERR_UNSUPPORTED,
		    "Must be a server to force-leave a WAN member");
		return;
	}
	if (r->node.len == 0 || r->node.len > SWIM_NAME_MAX) {
		snprintf(msg, sizeof(msg), "No node found with name '%.*s'",
		    (int)(r->node.len > 200 ? 200 : r->node.len),
		    r->node.ptr ? r->node.ptr : "");
		rpc_error(req, reqid, ERR_NOTFOUND, msg);
		return;
	}
	memcpy(name, r->node.ptr, r->node.len);
	name[r->node.len] = '\0';
	rc = swim_force_leave(p->swim, name, r->prune);
	if (rc == ERR_NOTFOUND) {
		snprintf(msg, sizeof(msg), "No node found with name '%s'",
		    name);
		rpc_error(req, reqid, rc, msg);
		return;
	}
	if (rc != 0) {
		snprintf(msg, sizeof(msg), "cannot force-leave %s: %s", name,
		    err_str(rc));
		rpc_error(req, reqid, rc, msg);
		return;
	}
	log_info("gossipd: force-leave %s%s", name, r->prune ? " (prune)" : "");
	pool_flush(p);
	memset(&res, 0, sizeof(res));
	rpc_send(req, reqid, &res);
}

static void
rpc_fire(struct gossipd *g, struct ipc_req *req, uint64_t reqid,
    const struct msg_member_request *r)
{
	struct msg_member_result res;
	struct proto_user_event ev;
	char id[64], err[256];
	int rc;

	if ((rc = events_fire(g, r, &ev, id, sizeof(id), err,
	    sizeof(err))) != 0) {
		rpc_error(req, reqid, rc, err);
		return;
	}
	memset(&res, 0, sizeof(res));
	res.events = &ev;
	res.n_events = 1;
	rpc_send(req, reqid, &res);
}

static void
rpc_request(struct ipc_server *srv, struct ipc_req *req, const uint8_t *data,
    size_t len, void *arg)
{
	struct gossipd *g = arg;
	struct proto_arena a;
	struct proto_msg m;
	struct msg_member_request *r;
	struct proto_buf b;
	int rc;

	(void)srv;
	proto_arena_init(&a);
	if ((rc = proto_decode(data, len, &a, &m)) != 0 ||
	    m.type != MSG_MEMBER_REQUEST) {
		if (proto_encode_error(rc == 0 ? m.reqid : 0, ERR_BADMSG, &b,
		    "gossipd: bad request") == 0) {
			ipc_reply(req, b.data, b.len);
			proto_buf_free(&b);
		} else {
			ipc_req_drop(req);
		}
		proto_arena_free(&a);
		return;
	}
	r = m.body;
	switch (r->op) {
	case MEMBER_OP_LIST:
		rpc_members(g, req, m.reqid, r->wan);
		break;
	case MEMBER_OP_JOIN:
		rpc_join(g, req, m.reqid, r);
		break;
	case MEMBER_OP_LEAVE:
		if (g->leave_req != NULL) {
			rpc_error(req, m.reqid, ERR_CLOSED, "already leaving");
			break;
		}
		g->leave_req = req;
		g->leave_reqid = m.reqid;
		gossipd_leave(g);
		break;
	case MEMBER_OP_FORCE_LEAVE:
		rpc_force_leave(g, req, m.reqid, r);
		break;
	case MEMBER_OP_EVENT_FIRE:
		rpc_fire(g, req, m.reqid, r);
		break;
	case MEMBER_OP_EVENT_LIST:
		events_list(g, req, m.reqid, r);
		break;
	default:
		rpc_error(req, m.reqid, ERR_INVAL, "unknown operation");
		break;
	}
	proto_arena_free(&a);
}

static void
rpc_stop(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

void
rpc_leave_finish(struct gossipd *g)
{
	struct msg_member_result res;

	if (g->left)
		return;
	g->left = true;
	if (g->leave_req != NULL) {
		memset(&res, 0, sizeof(res));
		rpc_send(g->leave_req, g->leave_reqid, &res);
		g->leave_req = NULL;
	}
	if (g->leave_timer != 0) {
		loop_timer_cancel(g->loop, g->leave_timer);
		g->leave_timer = 0;
	}
	log_info("gossipd: left the cluster");
	/* let the reply reach the requester before the sockets close */
	loop_timer_add(g->loop, 200, rpc_stop, g);
}

int
rpc_open(struct gossipd *g)
{
	char url[512];
	int rc;

	if ((rc = ipc_url(url, sizeof(url), g->cfg->runtime_dir,
	    "gossipd.rpc")) != 0 ||
	    (rc = ipc_server_open(g->loop, url, rpc_request, g, &g->rpc)) != 0)
		return rc;
	if ((rc = ipc_url(url, sizeof(url), g->cfg->runtime_dir,
	    "gossipd.events")) != 0 ||
	    (rc = ipc_pub_open(g->loop, url, &g->pub)) != 0)
		return rc;
	return 0;
}

void
rpc_close(struct gossipd *g)
{
	if (g->leave_req != NULL) {
		ipc_req_drop(g->leave_req);
		g->leave_req = NULL;
	}
	if (g->rpc != NULL)
		ipc_server_close(g->rpc);
	if (g->pub != NULL)
		ipc_pub_close(g->pub);
	g->rpc = NULL;
	g->pub = NULL;
}
