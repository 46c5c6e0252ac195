/*
 * test_swim_wire.c — the gossip wire codec (gossipd/wire.c over
 * proto/msg_swim.c): a golden vector, round trips of every SWIM message
 * type with every update type, malformed input (truncation, wrong types,
 * over-long names, bad addresses, non-SWIM messages, random bytes) and
 * the split of an over-budget datagram.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "gossipd/wire.h"
#include "msg_swim.h"

static void
addr_set(struct swim_addr *a, uint8_t last, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->ip[10] = a->ip[11] = 0xff;
	a->ip[12] = 127;
	a->ip[15] = last;
	a->port = port;
}

static const uint8_t meta[] = { 0x81, 0xa4, 0x72, 0x6f, 0x6c, 0x65, 0xa1, 0x6e, 0 };

static void
fill_updates(struct swim_upd *u)
{
	memset(u, 0, 4 * sizeof(*u));
	u[0].type = SWIM_UP_ALIVE;
	strcpy(u[0].u.alive.node, "n1");
	addr_set(&u[0].u.alive.addr, 1, 8301);
	u[0].u.alive.incarnation = 3;
	u[0].u.alive.ltime = 9;
	u[0].u.alive.meta = meta;
	u[0].u.alive.meta_len = sizeof(meta) - 1;
	u[1].type = SWIM_UP_SUSPECT;
	strcpy(u[1].u.suspect.node, "n2");
	strcpy(u[1].u.suspect.from, "n1");
	u[1].u.suspect.incarnation = 4;
	u[2].type = SWIM_UP_DEAD;
	strcpy(u[2].u.dead.node, "n3");
	strcpy(u[2].u.dead.from, "n3");
	u[2].u.dead.incarnation = 5;
	u[2].u.dead.ltime = 11;
	u[2].u.dead.prune = true;
	u[3].type = SWIM_UP_USER_EVENT;
	strcpy(u[3].u.user.name, "deploy");
	u[3].u.user.ltime = 77;
	u[3].u.user.payload = (const uint8_t *)"xyz";
	u[3].u.user.payload_len = 3;
}

static void
upd_equal(const struct swim_upd *a, const struct swim_upd *b)
{
	assert_int_equal(a->type, b->type);
	switch (a->type) {
	case SWIM_UP_ALIVE:
		assert_string_equal(a->u.alive.node, b->u.alive.node);
		assert_true(swim_addr_eq(&a->u.alive.addr, &b->u.alive.addr));
		assert_int_equal(a->u.alive.incarnation,
		    b->u.alive.incarnation);
		assert_int_equal(a->u.alive.ltime, b->u.alive.ltime);
		assert_int_equal(a->u.alive.meta_len, b->u.alive.meta_len);
		assert_memory_equal(a->u.alive.meta, b->u.alive.meta,
		    a->u.alive.meta_len);
		break;
	case SWIM_UP_SUSPECT:
		assert_string_equal(a->u.suspect.node, b->u.suspect.node);
		assert_string_equal(a->u.suspect.from, b->u.suspect.from);
		assert_int_equal(a->u.suspect.incarnation,
		    b->u.suspect.incarnation);
		break;
	case SWIM_UP_DEAD:
		assert_string_equal(a->u.dead.node, b->u.dead.node);
		assert_string_equal(a->u.dead.from, b->u.dead.from);
		assert_int_equal(a->u.dead.incarnation, b->u.dead.incarnation);
		assert_int_equal(a->u.dead.ltime, b->u.dead.ltime);
		assert_int_equal(a->u.dead.prune, b->u.dead.prune);
		break;
	case SWIM_UP_USER_EVENT:
		assert_string_equal(a->u.user.name, b->u.user.name);
		assert_int_equal(a->u.user.ltime, b->u.user.ltime);
		assert_int_equal(a->u.user.payload_len, b->u.user.payload_len);
		assert_memory_equal(a->u.user.payload, b->u.user.payload,
		    a->u.user.payload_len);
		break;
	default:
		fail();
	}
}

/* Encodes m, decodes it, compares, and re-encodes to the same bytes. */
static void
round_trip(const struct swim_msg *m)
{
	struct proto_buf b, b2;
	struct proto_arena a;
	struct swim_msg d;
	uint16_t i;

	assert_int_equal(wire_encode(m, &b), 0);
	proto_arena_init(&a);
	assert_int_equal(wire_decode(b.data, b.len, &a, &d), 0);
	assert_int_equal(d.type, m->type);
	assert_int_equal(d.n_updates, m->n_updates);
	for (i = 0; i < m->n_updates; i++)
		upd_equal(&m->updates[i], &d.updates[i]);
	switch (m->type) {
	case SWIM_MSG_PING:
		assert_int_equal(d.u.ping.seq, m->u.ping.seq);
		assert_string_equal(d.u.ping.node, m->u.ping.node);
		break;
	case SWIM_MSG_PING_REQ:
		assert_int_equal(d.u.ping_req.seq, m->u.ping_req.seq);
		assert_string_equal(d.u.ping_req.node, m->u.ping_req.node);
		assert_true(swim_addr_eq(&d.u.ping_req.target,
		    &m->u.ping_req.target));
		assert_int_equal(d.u.ping_req.nack, m->u.ping_req.nack);
		break;
	case SWIM_MSG_ACK:
		assert_int_equal(d.u.ack.seq, m->u.ack.seq);
		break;
	case SWIM_MSG_NACK:
		assert_int_equal(d.u.nack.seq, m->u.nack.seq);
		break;
	case SWIM_MSG_PUSH_PULL: {
		const struct swim_push_pull *x = &m->u.pp, *y = &d.u.pp;

		assert_int_equal(x->join, y->join);
		assert_int_equal(x->reply, y->reply);
		assert_int_equal(x->member_ltime, y->member_ltime);
		assert_int_equal(x->event_ltime, y->event_ltime);
		assert_int_equal(x->event_seen, y->event_seen);
		assert_int_equal(x->n_members, y->n_members);
		assert_int_equal(x->n_events, y->n_events);
		for (i = 0; i < x->n_members; i++) {
			assert_string_equal(x->members[i].node,
			    y->members[i].node);
			assert_true(swim_addr_eq(&x->members[i].addr,
			    &y->members[i].addr));
			assert_int_equal(x->members[i].state,
			    y->members[i].state);
			assert_int_equal(x->members[i].incarnation,
			    y->members[i].incarnation);
			assert_int_equal(x->members[i].ltime,
			    y->members[i].ltime);
			assert_int_equal(x->members[i].meta_len,
			    y->members[i].meta_len);
		}
		for (i = 0; i < x->n_events; i++) {
			assert_string_equal(x->events[i].name,
			    y->events[i].name);
			assert_int_equal(x->events[i].ltime,
			    y->events[i].ltime);
			assert_int_equal(x->events[i].payload_len,
			    y->events[i].payload_len);
		}
		break;
	}
	}
	assert_int_equal(wire_encode(&d, &b2), 0);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.data, b2.data, b.len);
	proto_buf_free(&b);
	proto_buf_free(&b2);
	proto_arena_free(&a);
}

static void
test_round_trips(void **state)
{
	struct swim_upd u[4];
	struct swim_pp_member mem[2];
	struct swim_user_event ev[1];
	struct swim_msg m;
	uint8_t t;

	(void)state;
	fill_updates(u);
	for (t = SWIM_MSG_PING; t <= SWIM_MSG_GOSSIP; t++) {
		memset(&m, 0, sizeof(m));
		m.type = t;
		m.updates = u;
		m.n_updates = 4;
		switch (t) {
		case SWIM_MSG_PING:
			m.u.ping.seq = 42;
			strcpy(m.u.ping.node, "target");
			break;
		case SWIM_MSG_PING_REQ:
			m.u.ping_req.seq = 43;
			strcpy(m.u.ping_req.node, "n9");
			addr_set(&m.u.ping_req.target, 9, 9301);
			m.u.ping_req.nack = true;
			break;
		case SWIM_MSG_ACK:
			m.u.ack.seq = UINT32_MAX;
			break;
		case SWIM_MSG_NACK:
			m.u.nack.seq = 1;
			break;
		case SWIM_MSG_PUSH_PULL:
			memset(mem, 0, sizeof(mem));
			strcpy(mem[0].node, "a");
			addr_set(&mem[0].addr, 1, 1);
			mem[0].state = SWIM_STATE_SUSPECT;
			mem[0].incarnation = 2;
			mem[0].ltime = 3;
			mem[0].meta = meta;
			mem[0].meta_len = 4;
			strcpy(mem[1].node, "b");
			addr_set(&mem[1].addr, 2, 2);
			mem[1].state = SWIM_STATE_LEFT;
			memset(ev, 0, sizeof(ev));
			strcpy(ev[0].name, "e");
			ev[0].ltime = 5;
			ev[0].payload = (const uint8_t *)"p";
			ev[0].payload_len = 1;
			m.u.pp.join = true;
			m.u.pp.member_ltime = 10;
			m.u.pp.event_ltime = 11;
			m.u.pp.event_seen = 12;
			m.u.pp.members = mem;
			m.u.pp.n_members = 2;
			m.u.pp.events = ev;
			m.u.pp.n_events = 1;
			break;
		}
		round_trip(&m);
		m.n_updates = 0;
		m.updates = NULL;
		round_trip(&m);
	}
}

/* The exact bytes of an ACK: [1, 82, 0, {1: 7, 15: []}]. */
static void
test_golden_ack(void **state)
{
	static const uint8_t want[] = { 0x94, 0x01, 0x52, 0x00, 0x82, 0x01,
		0x07, 0x0f, 0x90 };
	struct swim_msg m;
	struct proto_buf b;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = SWIM_MSG_ACK;
	m.u.ack.seq = 7;
	assert_int_equal(wire_encode(&m, &b), 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	proto_buf_free(&b);
}

static int
decode_rc(const void *buf, size_t len)
{
	struct proto_arena a;
	struct swim_msg d;
	int rc;

	proto_arena_init(&a);
	rc = wire_decode(buf, len, &a, &d);
	proto_arena_free(&a);
	return rc;
}

/* Encodes a raw MSG_SWIM_* body and returns what wire_decode says. */
static int
decode_body(uint32_t type, const void *body)
{
	struct proto_buf b;
	int rc;

	assert_int_equal(proto_encode(type, 0, body, &b), 0);
	rc = decode_rc(b.data, b.len);
	proto_buf_free(&b);
	return rc;
}

static void
test_malformed(void **state)
{
	struct swim_upd u[4];
	struct swim_msg m;
	struct proto_buf b;
	struct msg_swim_ping ping;
	struct msg_swim_ping_req req;
	struct msg_swim_gossip g;
	struct proto_swim_upd pu;
	char longname[SWIM_NAME_MAX + 2];
	size_t i;
	uint8_t junk[256];

	(void)state;
	fill_updates(u);
	memset(&m, 0, sizeof(m));
	m.type = SWIM_MSG_GOSSIP;
	m.updates = u;
	m.n_updates = 4;
	assert_int_equal(wire_encode(&m, &b), 0);
	/* every truncation fails cleanly */
	for (i = 0; i < b.len; i++)
		assert_int_equal(decode_rc(b.data, i), ERR_BADMSG);
	/* trailing byte */
	b.data[b.len] = 0;
	assert_int_equal(decode_rc(b.data, b.len + 1), ERR_BADMSG);
	/* every single-byte corruption: an error or a valid message, never
	 * a crash (ASan watches) */
	for (i = 0; i < b.len; i++) {
		uint8_t save = b.data[i];
		int rc;

		b.data[i] ^= 0x5a;
		rc = decode_rc(b.data, b.len);
		assert_true(rc == 0 || rc == ERR_BADMSG);
		b.data[i] = save;
	}
	proto_buf_free(&b);

	/* a name over SWIM_NAME_MAX */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(&ping, 0, sizeof(ping));
	ping.node = proto_str_c(longname);
	assert_int_equal(decode_body(MSG_SWIM_PING, &ping), ERR_BADMSG);
	ping.node = (struct proto_str){ "a\0b", 3 };
	assert_int_equal(decode_body(MSG_SWIM_PING, &ping), ERR_BADMSG);
	ping.node = proto_str_c("");
	assert_int_equal(decode_body(MSG_SWIM_PING, &ping), 0);

	/* ping-req: empty node, 4-byte address */
	memset(&req, 0, sizeof(req));
	req.node = proto_str_c("n");
	req.ip = (struct proto_str){ "\x7f\0\0\1", 4 };
	assert_int_equal(decode_body(MSG_SWIM_PING_REQ, &req), ERR_BADMSG);
	req.ip = (struct proto_str){ "0123456789abcdef", 16 };
	assert_int_equal(decode_body(MSG_SWIM_PING_REQ, &req), 0);
	req.node = proto_str_c("");
	assert_int_equal(decode_body(MSG_SWIM_PING_REQ, &req), ERR_BADMSG);

	/* updates: unknown type, alive without address, huge meta */
	memset(&g, 0, sizeof(g));
	memset(&pu, 0, sizeof(pu));
	g.updates = &pu;
	g.n_updates = 1;
	pu.type = 0;
	pu.node = proto_str_c("n");
	assert_int_equal(decode_body(MSG_SWIM_GOSSIP, &g), ERR_BADMSG);
	pu.type = SWIM_UP_ALIVE;
	assert_int_equal(decode_body(MSG_SWIM_GOSSIP, &g), ERR_BADMSG);
	pu.ip = (struct proto_str){ "0123456789abcdef", 16 };
	assert_int_equal(decode_body(MSG_SWIM_GOSSIP, &g), 0);
	{
		static char big[SWIM_META_MAX + 1];

		pu.meta = (struct proto_str){ big, sizeof(big) };
		assert_int_equal(decode_body(MSG_SWIM_GOSSIP, &g),
		    ERR_BADMSG);
	}
	pu.type = SWIM_UP_SUSPECT; /* no accuser */
	pu.meta = (struct proto_str){ NULL, 0 };
	assert_int_equal(decode_body(MSG_SWIM_GOSSIP, &g), ERR_BADMSG);

	/* a valid proto message that is not a SWIM one */
	{
		struct msg_swim_user_event ue;

		memset(&ue, 0, sizeof(ue));
		assert_int_equal(decode_body(MSG_SWIM_USER_EVENT, &ue),
		    ERR_BADMSG);
	}
	/* random bytes */
	srand(7);
	for (i = 0; i < 2000; i++) {
		size_t n = (size_t)rand() % sizeof(junk), k;
		int rc;

		for (k = 0; k < n; k++)
			junk[k] = (uint8_t)rand();
		if (n > 3) {
			junk[0] = 0x94;
			junk[1] = 1;
			junk[2] = (uint8_t)(80 + rand() % 6);
			junk[3] = 0;
		}
		rc = decode_rc(junk, n);
		assert_true(rc == 0 || rc == ERR_BADMSG);
	}
}

struct split_ctx {
	size_t n, max;
	uint32_t updates;
	int first_type;
};

static int
split_cb(void *arg, const uint8_t *data, size_t len)
{
	struct split_ctx *c = arg;
	struct proto_arena a;
	struct swim_msg d;

	proto_arena_init(&a);
	assert_int_equal(wire_decode(data, len, &a, &d), 0);
	if (c->n == 0)
		c->first_type = d.type;
	else
		assert_int_equal(d.type, SWIM_MSG_GOSSIP);
	c->updates += d.n_updates;
	c->n++;
	if (len > c->max)
		c->max = len;
	proto_arena_free(&a);
	return 0;
}

static void
test_split(void **state)
{
	struct swim_upd u[SWIM_MAX_UPDATES];
	static uint8_t m400[400];
	struct swim_msg m;
	struct split_ctx c;
	size_t i;

	(void)state;
	memset(u, 0, sizeof(u));
	for (i = 0; i < SWIM_MAX_UPDATES; i++) {
		u[i].type = SWIM_UP_ALIVE;
		snprintf(u[i].u.alive.node, sizeof(u[i].u.alive.node),
		    "node-%zu.example", i);
		addr_set(&u[i].u.alive.addr, (uint8_t)i, 8301);
		u[i].u.alive.incarnation = (uint32_t)i * 100000;
		u[i].u.alive.ltime = (uint64_t)i << 40;
		u[i].u.alive.meta = m400;
		u[i].u.alive.meta_len = (uint16_t)(i % 3 ? 60 : 400);
	}
	memset(&m, 0, sizeof(m));
	m.type = SWIM_MSG_PING;
	m.u.ping.seq = 5;
	strcpy(m.u.ping.node, "t");
	m.updates = u;
	m.n_updates = SWIM_MAX_UPDATES;
	memset(&c, 0, sizeof(c));
	assert_int_equal(wire_split(&m, 1400, split_cb, &c), 0);
	assert_int_equal(c.first_type, SWIM_MSG_PING);
	assert_int_equal(c.updates, SWIM_MAX_UPDATES);
	assert_true(c.max <= 1400);
	assert_true(c.n > 10);
	/* a small message is one datagram */
	m.n_updates = 2;
	memset(&c, 0, sizeof(c));
	assert_int_equal(wire_split(&m, 1400, split_cb, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.updates, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_golden_ack),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
