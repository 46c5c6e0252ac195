/*
 * msg_swim.h — the gossip wire format: one registry message per SWIM
 * message type (MSG_SWIM_*, codes 80..85), each carrying its body and the
 * piggybacked updates, plus the body of a user event (MSG_SWIM_USER_EVENT,
 * 86) that travels as a SWIM user event's payload.
 *
 * Key decision: the structs mirror gossipd/swim.h field for field
 * (gossipd/wire.c converts); an update is one flat struct whose unused
 * fields stay zero (a few bytes each on the wire), addresses are 16 raw
 * bytes (IPv4 as ::ffff:a.b.c.d) and a port; strings and blobs borrow from
 * the input as everywhere in proto/. Reference: memberlist net.go (message
 * types, compound messages), serf messages.go (messageUserEvent),
 * consul agent/user_event.go (UserEvent).
 */
#ifndef CAIRN_PROTO_MSG_SWIM_H
#define CAIRN_PROTO_MSG_SWIM_H

#include "proto.h"

/* One piggybacked update (struct swim_upd). */
struct proto_swim_upd {
	uint8_t type;		/* enum swim_update_type, 1..4 */
	struct proto_str node;	/* alive/suspect/dead node; event name */
	struct proto_str from;	/* suspect/dead accuser */
	struct proto_str ip;	/* alive: 16 bytes */
	uint32_t port;		/* alive */
	uint32_t incarnation;
	uint64_t ltime;		/* alive/dead member ltime; event ltime */
	struct proto_str meta;	/* alive tags; event payload */
	bool prune;		/* dead */
};

#define PROTO_SWIM_UPDATES                                                  \
	struct proto_swim_upd *updates;                                     \
	uint32_t n_updates

struct msg_swim_ping {
	uint32_t seq;
	struct proto_str node;
	PROTO_SWIM_UPDATES;
};

struct msg_swim_ping_req {
	uint32_t seq;
	struct proto_str node;
	struct proto_str ip; /* 16 bytes */
	uint32_t port;
	bool nack;
	PROTO_SWIM_UPDATES;
};

struct msg_swim_ack {
	uint32_t seq;
	PROTO_SWIM_UPDATES;
};

struct msg_swim_nack {
	uint32_t seq;
	PROTO_SWIM_UPDATES;
};

struct proto_swim_member {
	struct proto_str node;
	struct proto_str ip; /* 16 bytes */
	uint32_t port;
	uint32_t incarnation;
	uint8_t state; /* enum swim_state, 0..3 */
	uint64_t ltime;
	struct proto_str meta;
};

struct proto_swim_event {
	struct proto_str name;
	uint64_t ltime;
	struct proto_str payload;
};

struct msg_swim_push_pull {
	bool join;
	bool reply;
	uint64_t member_ltime;
	uint64_t event_ltime;
	uint64_t event_seen;
	struct proto_swim_member *members;
	uint32_t n_members;
	struct proto_swim_event *events;
	uint32_t n_events;
	PROTO_SWIM_UPDATES;
};

struct msg_swim_gossip {
	PROTO_SWIM_UPDATES;
};

/* MSG_SWIM_USER_EVENT: the payload of a SWIM user event (Consul's
 * UserEvent minus Name and LTime, which the SWIM event carries). */
struct msg_swim_user_event {
	struct proto_str id; /* UUID */
	struct proto_str payload;
	struct proto_str node_filter;
	struct proto_str service_filter;
	struct proto_str tag_filter;
	uint32_t version; /* 1 */
};

#endif
