/*
 * wire.c — struct swim_msg to and from the MSG_SWIM_* proto messages
 * (see wire.h for the contract, proto/msg_swim.h for the wire structs).
 *
 * Key decision: decoding never trusts a length: names longer than
 * SWIM_NAME_MAX or holding a NUL, addresses other than 16 bytes and blobs
 * over the core's caps are ERR_BADMSG before the core sees anything; the
 * core validates the rest again (swim_msg_check). Reference: memberlist
 * net.go (handleCommand), STYLE.md §5 (strict decoders).
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "msg_swim.h"
#include "wire.h"

static struct proto_str
wire_bytes(const void *p, size_t n)
{
	struct proto_str s = { .ptr = p, .len = (uint32_t)n };

	if (n == 0)
		s.ptr = NULL;
	return s;
}

static void
wire_upd_out(const struct swim_upd *u, struct proto_swim_upd *o)
{
	memset(o, 0, sizeof(*o));
	o->type = u->type;
	switch (u->type) {
	case SWIM_UP_ALIVE:
		o->node = proto_str_c(u->u.alive.node);
		o->ip = wire_bytes(u->u.alive.addr.ip, 16);
		o->port = u->u.alive.addr.port;
		o->incarnation = u->u.alive.incarnation;
		o->ltime = u->u.alive.ltime;
		o->meta = wire_bytes(u->u.alive.meta, u->u.alive.meta_len);
		break;
	case SWIM_UP_SUSPECT:
		o->node = proto_str_c(u->u.suspect.node);
		o->from = proto_str_c(u->u.suspect.from);
		o->incarnation = u->u.suspect.incarnation;
		break;
	case SWIM_UP_DEAD:
		o->node = proto_str_c(u->u.dead.node);
		o->from = proto_str_c(u->u.dead.from);
		o->incarnation = u->u.dead.incarnation;
		o->ltime = u->u.dead.ltime;
		o->prune = u->u.dead.prune;
		break;
	case SWIM_UP_USER_EVENT:
		o->node = proto_str_c(u->u.user.name);
		o->ltime = u->u.user.ltime;
		o->meta = wire_bytes(u->u.user.payload, u->u.user.payload_len);
		break;
	}
}

int
wire_encode(const struct swim_msg *m, struct proto_buf *out)
{
	struct proto_swim_upd *ups = NULL;
	struct proto_swim_member *mem = NULL;
	struct proto_swim_event *evs = NULL;
	union {
		struct msg_swim_ping ping;
		struct msg_swim_ping_req req;
		struct msg_swim_ack ack;
		struct msg_swim_nack nack;
		struct msg_swim_push_pull pp;
		struct msg_swim_gossip g;
	} b;
	uint32_t type, i;
	int rc;

	memset(&b, 0, sizeof(b));
	memset(out, 0, sizeof(*out));
	if (m->n_updates > 0 &&
	    (ups = calloc(m->n_updates, sizeof(*ups))) == NULL)
		return ERR_NOMEM;
	for (i = 0; i < m->n_updates; i++)
		wire_upd_out(&m->updates[i], &ups[i]);
	switch (m->type) {
	case SWIM_MSG_PING:
		type = MSG_SWIM_PING;
		b.ping.seq = m->u.ping.seq;
		b.ping.node = proto_str_c(m->u.ping.node);
		b.ping.updates = ups;
		b.ping.n_updates = m->n_updates;
		break;
	case SWIM_MSG_PING_REQ:
		type = MSG_SWIM_PING_REQ;
		b.req.seq = m->u.ping_req.seq;
		b.req.node = proto_str_c(m->u.ping_req.node);
		b.req.ip = wire_bytes(m->u.ping_req.target.ip, 16);
		b.req.port = m->u.ping_req.target.port;
		b.req.nack = m->u.ping_req.nack;
		b.req.updates = ups;
		b.req.n_updates = m->n_updates;
		break;
	case SWIM_MSG_ACK:
		type = MSG_SWIM_ACK;
		b.ack.seq = m->u.ack.seq;
		b.ack.updates = ups;
		b.ack.n_updates = m->n_updates;
		break;
	case SWIM_MSG_NACK:
		type = MSG_SWIM_NACK;
		b.nack.seq = m->u.nack.seq;
		b.nack.updates = ups;
		b.nack.n_updates = m->n_updates;
		break;
	case SWIM_MSG_GOSSIP:
		type = MSG_SWIM_GOSSIP;
		b.g.updates = ups;
		b.g.n_updates = m->n_updates;
		break;
	case SWIM_MSG_PUSH_PULL: {
		const struct swim_push_pull *pp = &m->u.pp;

		type = MSG_SWIM_PUSH_PULL;
		if ((pp->n_members > 0 &&
		    (mem = calloc(pp->n_members, sizeof(*mem))) == NULL) ||
		    (pp->n_events > 0 &&
		    (evs = calloc(pp->n_events, sizeof(*evs))) == NULL)) {
			rc = ERR_NOMEM;
			goto out;
		}
		for (i = 0; i < pp->n_members; i++) {
			const struct swim_pp_member *x = &pp->members[i];

			mem[i].node = proto_str_c(x->node);
			mem[i].ip = wire_bytes(x->addr.ip, 16);
			mem[i].port = x->addr.port;
			mem[i].incarnation = x->incarnation;
			mem[i].state = x->state;
			mem[i].ltime = x->ltime;
			mem[i].meta = wire_bytes(x->meta, x->meta_len);
		}
		for (i = 0; i < pp->n_events; i++) {
			evs[i].name = proto_str_c(pp->events[i].name);
			evs[i].ltime = pp->events[i].ltime;
			evs[i].payload = wire_bytes(pp->events[i].payload,
			    pp->events[i].payload_len);
		}
		b.pp.join = pp->join;
		b.pp.reply = pp->reply;
		b.pp.member_ltime = pp->member_ltime;
		b.pp.event_ltime = pp->event_ltime;
		b.pp.event_seen = pp->event_seen;
		b.pp.members = mem;
		b.pp.n_members = pp->n_members;
		b.pp.events = evs;
		b.pp.n_events = pp->n_events;
		b.pp.updates = ups;
		b.pp.n_updates = m->n_updates;
		break;
	}
	default:
		rc = ERR_INVAL;
		goto out;
	}
	rc = proto_encode(type, 0, &b, out);
out:
	free(ups);
	free(mem);
	free(evs);
	return rc;
}

/* Copies a wire name into a NUL-terminated array; empty only if allowed. */
static int
wire_name(struct proto_str s, char *dst, bool allow_empty)
{
	if (s.len > SWIM_NAME_MAX || (s.len == 0 && !allow_empty) ||
	    (s.len > 0 && memchr(s.ptr, '\0', s.len) != NULL))
		return ERR_BADMSG;
	if (s.len > 0)
		memcpy(dst, s.ptr, s.len);
	dst[s.len] = '\0';
	return 0;
}

static int
wire_addr(struct proto_str ip, uint32_t port, struct swim_addr *a)
{
	if (ip.len != 16)
		return ERR_BADMSG;
	memcpy(a->ip, ip.ptr, 16);
	a->port = (uint16_t)port;
	return 0;
}

static int
wire_blob(struct proto_str s, size_t cap, const uint8_t **p, uint16_t *len)
{
	if (s.len > cap)
		return ERR_BADMSG;
	*p = s.len ? (const uint8_t *)s.ptr : NULL;
	*len = (uint16_t)s.len;
	return 0;
}

static int
wire_upd_in(const struct proto_swim_upd *o, struct swim_upd *u)
{
	memset(u, 0, sizeof(*u));
	u->type = o->type;
	switch (o->type) {
	case SWIM_UP_ALIVE:
		if (wire_name(o->node, u->u.alive.node, false) != 0 ||
		    wire_addr(o->ip, o->port, &u->u.alive.addr) != 0 ||
		    wire_blob(o->meta, SWIM_META_MAX, &u->u.alive.meta,
		    &u->u.alive.meta_len) != 0)
			return ERR_BADMSG;
		u->u.alive.incarnation = o->incarnation;
		u->u.alive.ltime = o->ltime;
		return 0;
	case SWIM_UP_SUSPECT:
		if (wire_name(o->node, u->u.suspect.node, false) != 0 ||
		    wire_name(o->from, u->u.suspect.from, false) != 0)
			return ERR_BADMSG;
		u->u.suspect.incarnation = o->incarnation;
		return 0;
	case SWIM_UP_DEAD:
		if (wire_name(o->node, u->u.dead.node, false) != 0 ||
		    wire_name(o->from, u->u.dead.from, false) != 0)
			return ERR_BADMSG;
		u->u.dead.incarnation = o->incarnation;
		u->u.dead.ltime = o->ltime;
		u->u.dead.prune = o->prune;
		return 0;
	case SWIM_UP_USER_EVENT:
		if (wire_name(o->node, u->u.user.name, false) != 0 ||
		    wire_blob(o->meta, SWIM_USER_EVENT_MAX,
		    &u->u.user.payload, &u->u.user.payload_len) != 0)
			return ERR_BADMSG;
		u->u.user.ltime = o->ltime;
		return 0;
	}
	return ERR_BADMSG;
}

static int
wire_updates_in(const struct proto_swim_upd *ups, uint32_t n,
    struct proto_arena *a, struct swim_msg *out)
{
	uint32_t i;

	if (n > SWIM_MAX_UPDATES)
		return ERR_BADMSG;
	if (n == 0)
		return 0;
	if ((out->updates = proto_arena_alloc(a, n * sizeof(*out->updates))) ==
	    NULL)
		return ERR_NOMEM;
	for (i = 0; i < n; i++)
		if (wire_upd_in(&ups[i], &out->updates[i]) != 0)
			return ERR_BADMSG;
	out->n_updates = (uint16_t)n;
	return 0;
}

static int
wire_pp_in(const struct msg_swim_push_pull *b, struct proto_arena *a,
    struct swim_push_pull *pp)
{
	uint32_t i;

	if (b->n_members > SWIM_MAX_PP_MEMBERS ||
	    b->n_events > SWIM_MAX_PP_EVENTS)
		return ERR_BADMSG;
	pp->join = b->join;
	pp->reply = b->reply;
	pp->member_ltime = b->member_ltime;
	pp->event_ltime = b->event_ltime;
	pp->event_seen = b->event_seen;
	if (b->n_members > 0 && (pp->members = proto_arena_alloc(a,
	    b->n_members * sizeof(*pp->members))) == NULL)
		return ERR_NOMEM;
	if (b->n_events > 0 && (pp->events = proto_arena_alloc(a,
	    b->n_events * sizeof(*pp->events))) == NULL)
		return ERR_NOMEM;
	for (i = 0; i < b->n_members; i++) {
		const struct proto_swim_member *x = &b->members[i];
		struct swim_pp_member *y = &pp->members[i];

		memset(y, 0, sizeof(*y));
		if (wire_name(x->node, y->node, false) != 0 ||
		    wire_addr(x->ip, x->port, &y->addr) != 0 ||
		    wire_blob(x->meta, SWIM_META_MAX, &y->meta,
		    &y->meta_len) != 0)
			return ERR_BADMSG;
		y->incarnation = x->incarnation;
		y->state = x->state;
		y->ltime = x->ltime;
	}
	for (i = 0; i < b->n_events; i++) {
		const struct proto_swim_event *x = &b->events[i];
		struct swim_user_event *y = &pp->events[i];

		memset(y, 0, sizeof(*y));
		if (wire_name(x->name, y->name, false) != 0 ||
		    wire_blob(x->payload, SWIM_USER_EVENT_MAX, &y->payload,
		    &y->payload_len) != 0)
			return ERR_BADMSG;
		y->ltime = x->ltime;
	}
	pp->n_members = b->n_members;
	pp->n_events = b->n_events;
	return 0;
}

int
wire_decode(const uint8_t *buf, size_t len, struct proto_arena *a,
    struct swim_msg *out)
{
	struct proto_msg pm;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = proto_decode(buf, len, a, &pm)) != 0)
		return rc == ERR_NOMEM ? rc : ERR_BADMSG;
	switch (pm.type) {
	case MSG_SWIM_PING: {
		struct msg_swim_ping *b = pm.body;

		out->type = SWIM_MSG_PING;
		out->u.ping.seq = b->seq;
		if (wire_name(b->node, out->u.ping.node, true) != 0)
			return ERR_BADMSG;
		return wire_updates_in(b->updates, b->n_updates, a, out);
	}
	case MSG_SWIM_PING_REQ: {
		struct msg_swim_ping_req *b = pm.body;

		out->type = SWIM_MSG_PING_REQ;
		out->u.ping_req.seq = b->seq;
		out->u.ping_req.nack = b->nack;
		if (wire_name(b->node, out->u.ping_req.node, false) != 0 ||
		    wire_addr(b->ip, b->port, &out->u.ping_req.target) != 0)
			return ERR_BADMSG;
		return wire_updates_in(b->updates, b->n_updates, a, out);
	}
	case MSG_SWIM_ACK: {
		struct msg_swim_ack *b = pm.body;

		out->type = SWIM_MSG_ACK;
		out->u.ack.seq = b->seq;
		return wire_updates_in(b->updates, b->n_updates, a, out);
	}
	case MSG_SWIM_NACK: {
		struct msg_swim_nack *b = pm.body;

		out->type = SWIM_MSG_NACK;
		out->u.nack.seq = b->seq;
		return wire_updates_in(b->updates, b->n_updates, a, out);
	}
	case MSG_SWIM_GOSSIP: {
		struct msg_swim_gossip *b = pm.body;

		out->type = SWIM_MSG_GOSSIP;
		return wire_updates_in(b->updates, b->n_updates, a, out);
	}
	case MSG_SWIM_PUSH_PULL: {
		struct msg_swim_push_pull *b = pm.body;

		out->type = SWIM_MSG_PUSH_PULL;
		if ((rc = wire_pp_in(b, a, &out->u.pp)) != 0)
			return rc;
		return wire_updates_in(b->updates, b->n_updates, a, out);
	}
	}
	return ERR_BADMSG;
}

int
wire_split(const struct swim_msg *m, size_t budget,
    int (*send)(void *arg, const uint8_t *data, size_t len), void *arg)
{
	struct proto_buf b;
	struct swim_msg part;
	uint16_t k;
	int rc;

	if ((rc = wire_encode(m, &b)) != 0)
		return rc;
	if (b.len <= budget || m->n_updates == 0 ||
	    (m->n_updates == 1 && m->type == SWIM_MSG_GOSSIP)) {
		rc = send(arg, b.data, b.len);
		proto_buf_free(&b);
		return rc;
	}
	proto_buf_free(&b);
	/* the primary body with the first half of the updates, then gossip
	 * messages with the rest, each split again if still too big */
	k = m->n_updates / 2;
	if (m->type == SWIM_MSG_GOSSIP && k == 0)
		k = 1;
	part = *m;
	part.n_updates = k;
	if (k == 0)
		part.updates = NULL;
	if ((rc = wire_split(&part, budget, send, arg)) != 0)
		return rc;
	memset(&part, 0, sizeof(part));
	part.type = SWIM_MSG_GOSSIP;
	part.updates = m->updates + k;
	part.n_updates = m->n_updates - k;
	return wire_split(&part, budget, send, arg);
}
