/*
 * swim_msg.c — helpers on the SWIM message structs: validation of decoded
 * input, the size estimate the UDP budget is checked against, deep copy.
 *
 * Where it sits: swim_recv() validates every message here before applying
 * any of it; swim_bcast.c sizes piggybacked updates with it; the simulation
 * duplicates in-flight messages with swim_msg_dup().
 *
 * Key decision: the size estimate is an upper bound of the msgpack form
 * proto/ will use (a map with small integer keys per message and update),
 * so a datagram filled to the budget encodes within it.
 *
 * Reference: memberlist net.go (compound messages, UDP buffer 1400 bytes).
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "swim_int.h"

static bool
str_ok(const char *p, size_t cap, bool allow_empty)
{
	size_t n = strnlen(p, cap);

	return n < cap && (allow_empty || n > 0);
}

#define NAME_OK(a) str_ok((a), SWIM_NAME_MAX + 1, false)

static int
upd_check(const struct swim_upd *u)
{
	switch (u->type) {
	case SWIM_UP_ALIVE:
		if (!NAME_OK(u->u.alive.node) ||
		    u->u.alive.meta_len > SWIM_META_MAX ||
		    (u->u.alive.meta_len && !u->u.alive.meta))
			return ERR_BADMSG;
		return 0;
	case SWIM_UP_SUSPECT:
		return NAME_OK(u->u.suspect.node) &&
		    NAME_OK(u->u.suspect.from) ? 0 : ERR_BADMSG;
	case SWIM_UP_DEAD:
		return NAME_OK(u->u.dead.node) && NAME_OK(u->u.dead.from) ?
		    0 : ERR_BADMSG;
	case SWIM_UP_USER_EVENT:
		if (!NAME_OK(u->u.user.name) ||
		    strlen(u->u.user.name) + u->u.user.payload_len >
		    SWIM_USER_EVENT_MAX ||
		    (u->u.user.payload_len && !u->u.user.payload))
			return ERR_BADMSG;
		return 0;
	}
	return ERR_BADMSG;
}

static int
pp_check(const struct swim_push_pull *pp)
{
	uint32_t i;
	const struct swim_pp_member *m;

	if (pp->n_members > SWIM_MAX_PP_MEMBERS ||
	    (pp->n_members > 0 && pp->members == NULL))
		return ERR_BADMSG;
	for (i = 0; i < pp->n_members; i++) {
		m = &pp->members[i];
		if (!NAME_OK(m->node) || m->state > SWIM_STATE_LEFT ||
		    m->meta_len > SWIM_META_MAX || (m->meta_len && !m->meta))
			return ERR_BADMSG;
	}
	if (pp->n_events > SWIM_MAX_PP_EVENTS ||
	    (pp->n_events > 0 && pp->events == NULL))
		return ERR_BADMSG;
	for (i = 0; i < pp->n_events; i++) {
		struct swim_upd u;
		u.type = SWIM_UP_USER_EVENT;
		u.u.user = pp->events[i];
		if (upd_check(&u) != 0)
			return ERR_BADMSG;
	}
	return 0;
}

int
swim_msg_check(const struct swim_msg *m)
{
	uint16_t i;
	int rc;

	if (m->n_updates > SWIM_MAX_UPDATES ||
	    (m->n_updates > 0 && m->updates == NULL))
		return ERR_BADMSG;
	for (i = 0; i < m->n_updates; i++)
		if ((rc = upd_check(&m->updates[i])) != 0)
			return rc;
	switch (m->type) {
	case SWIM_MSG_PING:
		return str_ok(m->u.ping.node, SWIM_NAME_MAX + 1, true) ?
		    0 : ERR_BADMSG;
	case SWIM_MSG_PING_REQ:
		return NAME_OK(m->u.ping_req.node) ? 0 : ERR_BADMSG;
	case SWIM_MSG_ACK:
	case SWIM_MSG_NACK:
	case SWIM_MSG_GOSSIP:
		return 0;
	case SWIM_MSG_PUSH_PULL:
		return pp_check(&m->u.pp);
	}
	return ERR_BADMSG;
}

size_t
swim_msg_upd_size(const struct swim_upd *u)
{
	switch (u->type) {
	case SWIM_UP_ALIVE:
		return 44 + strlen(u->u.alive.node) + u->u.alive.meta_len;
	case SWIM_UP_SUSPECT:
		return 16 + strlen(u->u.suspect.node) +
		    strlen(u->u.suspect.from);
	case SWIM_UP_DEAD:
		return 26 + strlen(u->u.dead.node) + strlen(u->u.dead.from);
	case SWIM_UP_USER_EVENT:
		return 20 + strlen(u->u.user.name) + u->u.user.payload_len;
	}
	return 0;
}

size_t
swim_msg_size(const struct swim_msg *m)
{
	size_t n = 12, i;

	switch (m->type) {
	case SWIM_MSG_PING:
		n += 8 + strlen(m->u.ping.node);
		break;
	case SWIM_MSG_PING_REQ:
		n += 30 + strlen(m->u.ping_req.node);
		break;
	case SWIM_MSG_ACK:
	case SWIM_MSG_NACK:
		n += 6;
		break;
	case SWIM_MSG_PUSH_PULL:
		n += 24;
		for (i = 0; i < m->u.pp.n_members; i++)
			n += 40 + strlen(m->u.pp.members[i].node) +
			    m->u.pp.members[i].meta_len;
		for (i = 0; i < m->u.pp.n_events; i++)
			n += 20 + strlen(m->u.pp.events[i].name) +
			    m->u.pp.events[i].payload_len;
		break;
	}
	for (i = 0; i < m->n_updates; i++)
		n += 2 + swim_msg_upd_size(&m->updates[i]);
	return n;
}

static size_t
upd_blob(const struct swim_upd *u, const uint8_t **p)
{
	if (u->type == SWIM_UP_ALIVE) {
		*p = u->u.alive.meta;
		return u->u.alive.meta_len;
	}
	if (u->type == SWIM_UP_USER_EVENT) {
		*p = u->u.user.payload;
		return u->u.user.payload_len;
	}
	return 0;
}

int
swim_msg_dup(struct swim_msg *dst, const struct swim_msg *m)
{
	size_t blob = 0, off = 0, len, i;
	const uint8_t *src;
	uint32_t np = m->type == SWIM_MSG_PUSH_PULL ? m->u.pp.n_members : 0;
	uint32_t ne = m->type == SWIM_MSG_PUSH_PULL ? m->u.pp.n_events : 0;

	*dst = *m;
	dst->updates = NULL;
	dst->blob = NULL;
	if (m->type == SWIM_MSG_PUSH_PULL) {
		dst->u.pp.members = NULL;
		dst->u.pp.events = NULL;
	}
	for (i = 0; i < ne; i++)
		blob += m->u.pp.events[i].payload_len;
	for (i = 0; i < m->n_updates; i++)
		blob += upd_blob(&m->updates[i], &src);
	for (i = 0; i < np; i++)
		blob += m->u.pp.members[i].meta_len;
	if ((m->n_updates && !(dst->updates = malloc(m->n_updates *
	    sizeof(*dst->updates)))) ||
	    (np && !(dst->u.pp.members = malloc(np *
	    sizeof(*dst->u.pp.members)))) ||
	    (ne && !(dst->u.pp.events = malloc(ne *
	    sizeof(*dst->u.pp.events)))) ||
	    (blob && !(dst->blob = malloc(blob)))) {
		swim_msg_free(dst);
		return ERR_NOMEM;
	}
	for (i = 0; i < m->n_updates; i++) {
		struct swim_upd *u = &dst->updates[i];
		*u = m->updates[i];
		if ((len = upd_blob(u, &src)) == 0)
			continue;
		memcpy(dst->blob + off, src, len);
		if (u->type == SWIM_UP_ALIVE)
			u->u.alive.meta = dst->blob + off;
		else
			u->u.user.payload = dst->blob + off;
		off += len;
	}
	for (i = 0; i < np; i++) {
		struct swim_pp_member *pm = &dst->u.pp.members[i];
		*pm = m->u.pp.members[i];
		if (pm->meta_len) {
			memcpy(dst->blob + off, pm->meta, pm->meta_len);
			pm->meta = dst->blob + off;
			off += pm->meta_len;
		}
	}
	for (i = 0; i < ne; i++) {
		struct swim_user_event *e = &dst->u.pp.events[i];
		*e = m->u.pp.events[i];
		if (e->payload_len) {
			memcpy(dst->blob + off, e->payload, e->payload_len);
			e->payload = dst->blob + off;
			off += e->payload_len;
		}
	}
	return 0;
}
