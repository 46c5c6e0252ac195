/*
 * pool.c — one gossip pool: a SWIM core (swim.h) driven by the loop. Every
 * input (a datagram, a TCP message or result, the core's timer, an RPC)
 * is followed by pool_flush(), which drains the core's update: datagrams
 * are split under the UDP budget and sent, TCP messages become exchanges
 * on threads (net.c), member events are published on gossipd.events and
 * mark the snapshot dirty, user events go to events.c, and the timer is
 * re-armed for the core's next deadline.
 *
 * Key decision: the reply to an incoming TCP message (a push/pull reply,
 * the ACK of a fallback ping) is what the core addresses to the
 * connection's peer address, written back on that connection; anything
 * else the core produces goes out normally. Reference: memberlist
 * net.go (handleConn, sendAndReceiveState), serf serf.go (event
 * delivery), consul agent/consul/server_serf.go (lanEventHandler).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "gossipd.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "msg_member.h"
#include "wire.h"

#define POOL_UDP_BUDGET 1400
#define POOL_UDP_MAX 65536

void
pool_addr_ip(const struct swim_addr *a, char *buf, size_t len)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };

	if (memcmp(a->ip, pfx, 12) == 0)
		inet_ntop(AF_INET, a->ip + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a->ip, buf, (socklen_t)len);
}

struct pool_udp_ctx {
	struct pool *p;
	const struct swim_addr *to;
};

static int
pool_udp_send(void *arg, const uint8_t *data, size_t len)
{
	struct pool_udp_ctx *c = arg;
	struct sockaddr_storage ss;
	unsigned sslen;

	net_to_sockaddr(c->to, c->p->family, &ss, &sslen);
	if (sendto(c->p->udp_fd, data, len, 0, (struct sockaddr *)&ss,
	    sslen) == -1)
		log_debug("gossipd: sendto: %s", strerror(errno));
	return 0;
}

static void
pool_publish(struct pool *p, const struct swim_event *ev)
{
	struct msg_member_event m;
	struct proto_buf b;
	struct proto_str keys[32], vals[32];
	char ip[64];
	size_t pos = 0;
	const char *k, *v;

	memset(&m, 0, sizeof(m));
	switch (ev->type) {
	case SWIM_EV_JOIN: m.event = MEMBER_EV_JOIN; break;
	case SWIM_EV_UPDATE: m.event = MEMBER_EV_UPDATE; break;
	case SWIM_EV_FAILED: m.event = MEMBER_EV_FAILED; break;
	case SWIM_EV_LEFT: m.event = MEMBER_EV_LEFT; break;
	case SWIM_EV_REAPED: m.event = MEMBER_EV_REAPED; break;
	default: return;
	}
	m.wan = p->wan;
	pool_addr_ip(&ev->addr, ip, sizeof(ip));
	m.member.name = proto_str_c(ev->node);
	m.member.addr = proto_str_c(ip);
	m.member.port = ev->addr.port;
	m.member.status = ev->status;
	while (m.member.tags.n < 32 &&
	    tags_next(ev->meta, ev->meta_len, &pos, &k, &v)) {
		keys[m.member.tags.n] = proto_str_c(k);
		vals[m.member.tags.n] = proto_str_c(v);
		m.member.tags.n++;
	}
	m.member.tags.keys = keys;
	m.member.tags.vals = vals;
	log_info("gossipd: %s member %s %s:%u status %u",
	    p->wan ? "wan" : "lan", ev->node, ip, ev->addr.port, ev->status);
	if (p->g->pub == NULL || proto_encode(MSG_MEMBER_EVENT, 0, &m, &b) != 0)
		return;
	ipc_publish(p->g->pub, b.data, b.len);
	proto_buf_free(&b);
}

static void pool_timer(struct loop *l, void *arg);

/* Starts a TCP exchange for snd (its msg is taken). */
static void
pool_tcp_send(struct pool *p, struct swim_send *snd, struct join_ctx *join)
{
	struct tcp_job *job;
	struct proto_buf b;

	if ((job = calloc(1, sizeof(*job))) == NULL ||
	    wire_encode(&snd->msg, &b) != 0) {
		free(job);
		if (snd->msg.type == SWIM_MSG_PING)
			swim_tcp_probe_result(p->swim, snd->msg.u.ping.seq,
			    false);
		return;
	}
	job->p = p;
	job->to = snd->to;
	job->out = b.data;
	job->out_len = b.len;
	job->want_reply = true;
	job->timeout_ms = GOSSIPD_TCP_TIMEOUT_MS;
	job->join = join;
	if (snd->msg.type == SWIM_MSG_PING) {
		job->is_ping = true;
		job->ping_seq = snd->msg.u.ping.seq;
		job->timeout_ms = 1000;
	}
	if (net_tcp_start(job) != 0) {
		job->err = ERR_NOMEM;
		pool_tcp_done(job);
	}
}

/* The drain, with sends addressed to reply_to written on reply_fd; a
 * PUSH_PULL with join set is tied to join (swim_join's send). */
static void
pool_flush_ex(struct pool *p, int reply_fd, const struct swim_addr *reply_to,
    struct join_ctx *join)
{
	struct swim_update u;
	size_t i;
	uint64_t now, due;

	memset(&u, 0, sizeof(u));
	swim_drain(p->swim, &u);
	for (i = 0; i < u.n_sends; i++) {
		struct swim_send *snd = &u.sends[i];

		if (reply_fd >= 0 && swim_addr_eq(&snd->to, reply_to)) {
			struct proto_buf b;

			if (wire_encode(&snd->msg, &b) == 0) {
				net_write_frame(reply_fd, b.data, b.len);
				proto_buf_free(&b);
			}
			reply_fd = -1; /* one reply per connection */
			continue;
		}
		if (snd->transport == SWIM_TCP) {
			bool j = snd->msg.type == SWIM_MSG_PUSH_PULL &&
			    snd->msg.u.pp.join;

			pool_tcp_send(p, snd, j ? join : NULL);
			if (j)
				join = NULL;
		} else {
			struct pool_udp_ctx c = { p, &snd->to };

			wire_split(&snd->msg, POOL_UDP_BUDGET, pool_udp_send,
			    &c);
		}
	}
	if (join != NULL) /* swim_join queued nothing */
		join_tcp_result(join, false);
	for (i = 0; i < u.n_events; i++) {
		struct swim_event *ev = &u.events[i];

		switch (ev->type) {
		case SWIM_EV_USER:
			events_deliver(p->g, ev->name, ev->ltime, ev->meta,
			    ev->meta_len);
			break;
		case SWIM_EV_LEAVE_DONE:
			p->leave_done = true;
			break;
		default:
			pool_publish(p, ev);
			if (!p->wan)
				persist_mark_dirty(p->g);
			break;
		}
	}
	due = u.next_deadline_ms;
	swim_update_free(&u);
	if (p->timer != 0)
		loop_timer_cancel(p->g->loop, p->timer);
	now = loop_now_ms(p->g->loop);
	p->timer = loop_timer_add(p->g->loop, due > now ? due - now : 0,
	    pool_timer, p);
	if (p->g->leaving && p->leave_done && p->tcp_inflight == 0)
		rpc_leave_finish(p->g);
}

void
pool_flush(struct pool *p)
{
	pool_flush_ex(p, -1, NULL, NULL);
}

/* swim_join then tie its push/pull to j. */
int pool_join_addr(struct pool *p, const struct swim_addr *a,
    struct join_ctx *j);

int
pool_join_addr(struct pool *p, const struct swim_addr *a, struct join_ctx *j)
{
	int rc;

	if ((rc = swim_join(p->swim, a)) != 0)
		return rc;
	pool_flush_ex(p, -1, NULL, j);
	return 0;
}

static void
pool_timer(struct loop *l, void *arg)
{
	struct pool *p = arg;

	p->timer = 0;
	swim_tick(p->swim, loop_now_ms(l));
	pool_flush(p);
}

static void
pool_udp_read(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct pool *p = arg;
	static uint8_t buf[POOL_UDP_MAX];
	struct sockaddr_storage ss;
	socklen_t sl;
	struct proto_arena a;
	struct swim_msg m;
	struct swim_addr from;
	ssize_t n;
	int budget = 64, rc;

	(void)events;
	proto_arena_init(&a);
	while (budget-- > 0) {
		sl = sizeof(ss);
		if ((n = recvfrom(fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&ss, &sl)) < 0)
			break;
		net_from_sockaddr(&ss, &from);
		if ((rc = wire_decode(buf, (size_t)n, &a, &m)) == 0) {
			if (m.type == SWIM_MSG_PUSH_PULL)
				log_debug("gossipd: push/pull over UDP ignored");
			else
				swim_recv(p->swim, &from, &m, loop_now_ms(l));
		} else {
			char ip[64];

			pool_addr_ip(&from, ip, sizeof(ip));
			log_debug("gossipd: bad datagram from %s:%u: %s", ip,
			    from.port, err_str(rc));
		}
		proto_arena_reset(&a);
	}
	proto_arena_free(&a);
	pool_flush(p);
}

void
pool_tcp_done(struct tcp_job *job)
{
	struct pool *p = job->p;
	struct proto_arena a;
	struct swim_msg m;
	bool ok = false;

	proto_arena_init(&a);
	if (job->err == 0 && job->in != NULL &&
	    wire_decode(job->in, job->in_len, &a, &m) == 0) {
		if (job->is_ping)
			ok = m.type == SWIM_MSG_ACK &&
			    m.u.ack.seq == job->ping_seq;
		else if (m.type == SWIM_MSG_PUSH_PULL)
			ok = swim_recv(p->swim, &job->to, &m,
			    loop_now_ms(p->g->loop)) == 0;
	}
	if (job->is_ping)
		swim_tcp_probe_result(p->swim, job->ping_seq, ok);
	if (job->join != NULL)
		join_tcp_result(job->join, ok);
	proto_arena_free(&a);
	free(job->out);
	free(job->in);
	free(job);
	pool_flush(p);
}

void
pool_tcp_request(struct pool *p, int fd, const struct swim_addr *peer,
    uint8_t *frame, size_t len)
{
	struct proto_arena a;
	struct swim_msg m;

	proto_arena_init(&a);
	if (wire_decode(frame, len, &a, &m) == 0)
		swim_recv(p->swim, peer, &m, loop_now_ms(p->g->loop));
	proto_arena_free(&a);
	free(frame);
	pool_flush_ex(p, fd, peer, NULL);
}

int
pool_open(struct gossipd *g, struct pool *p, bool wan, const char *name,
    const char *bind, const char *advertise, int port, const uint8_t *meta,
    uint16_t meta_len)
{
	struct swim_config cfg = wan ? swim_config_wan() : swim_config_lan();
	struct swim_member_info self;
	uint64_t seed;
	int rc;

	memset(p, 0, sizeof(*p));
	p->g = g;
	p->wan = wan;
	p->udp_fd = p->tcp_fd = -1;
	snprintf(p->name, sizeof(p->name), "%s", name);
	if ((rc = net_parse_ip(advertise, port, &p->self)) != 0) {
		log_warnx("gossipd: advertise address %s is not an IP",
		    advertise);
		return rc;
	}
	if ((rc = net_udp_open(bind, port, &p->family, &p->udp_fd)) != 0 ||
	    (rc = net_tcp_listen(bind, port, p->family, &p->tcp_fd)) != 0) {
		log_warnx("gossipd: bind %s:%d: %s", bind, port, err_str(rc));
		return rc;
	}
	cfg.reconnect_timeout_ms = wan ? g->cfg->reconnect_timeout_wan_ms :
	    g->cfg->reconnect_timeout_ms;
	if (cfg.reconnect_timeout_ms == 0)
		cfg.reconnect_timeout_ms = 72ull * 3600 * 1000;
	cfg.tcp_fallback = true;
	memset(&self, 0, sizeof(self));
	self.name = p->name;
	self.addr = p->self;
	self.meta = meta;
	self.meta_len = meta_len;
	seed = loop_clock_ms() ^ ((uint64_t)getpid() << 32);
	if ((p->swim = swim_new(&cfg, &self, seed)) == NULL)
		return ERR_INVAL;
	if ((rc = loop_add_fd(g->loop, p->udp_fd, LOOP_READ, pool_udp_read,
	    p)) != 0 ||
	    (rc = loop_add_fd(g->loop, p->tcp_fd, LOOP_READ, net_tcp_accept,
	    p)) != 0)
		return rc;
	swim_tick(p->swim, loop_now_ms(g->loop));
	pool_flush(p);
	log_info("gossipd: %s pool: %s on %s:%d (advertise %s)",
	    wan ? "wan" : "lan", p->name, bind, port, advertise);
	return 0;
}

void
pool_close(struct pool *p)
{
	if (p->g == NULL)
		return;
	if (p->timer != 0)
		loop_timer_cancel(p->g->loop, p->timer);
	if (p->udp_fd >= 0) {
		loop_del_fd(p->g->loop, p->udp_fd);
		close(p->udp_fd);
	}
	if (p->tcp_fd >= 0) {
		loop_del_fd(p->g->loop, p->tcp_fd);
		close(p->tcp_fd);
	}
	swim_free(p->swim);
	p->swim = NULL;
	p->g = NULL;
}
