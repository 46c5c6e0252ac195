/*
 * msg_member.h — gossipd's IPC messages: member events published on
 * <runtime_dir>/gossipd.events (MSG_MEMBER_EVENT, 87) and the requests
 * served on <runtime_dir>/gossipd.rpc (MSG_MEMBER_REQUEST 88 /
 * MSG_MEMBER_RESULT 89: members, join, leave, force-leave, user event fire
 * and list).
 *
 * Key decision: a member is sent as Consul's Member JSON needs it (name,
 * address text, port, tags as a string map, serf status), so httpd
 * renders without knowing the gossip tag encoding, and raftd reads role,
 * dc, port, expect and id from the tags map. Reference: spec §2.0
 * (Member, UserEvent), §2.1, §2.10; consul agent/agent.go (Members,
 * JoinLAN, Leave, ForceLeave), serf event.go (MemberEvent types).
 */
#ifndef CAIRN_PROTO_MSG_MEMBER_H
#define CAIRN_PROTO_MSG_MEMBER_H

#include "proto.h"

enum member_event_type {
	MEMBER_EV_JOIN = 1,
	MEMBER_EV_UPDATE = 2,
	MEMBER_EV_FAILED = 3,
	MEMBER_EV_LEFT = 4,
	MEMBER_EV_REAPED = 5,
};

/* A member (spec §2.0 Member). status: 1 alive, 2 leaving, 3 left,
 * 4 failed. */
struct proto_member {
	struct proto_str name;
	struct proto_str addr; /* "127.0.0.1" or an IPv6 text */
	uint32_t port;
	struct proto_strmap tags;
	uint8_t status;
};

/* MSG_MEMBER_EVENT (gossipd -> subscribers). */
struct msg_member_event {
	uint8_t event; /* enum member_event_type */
	bool wan;      /* the WAN pool (names <node>.<dc>) */
	struct proto_member member;
};

enum member_op {
	MEMBER_OP_LIST = 1,	   /* wan */
	MEMBER_OP_JOIN = 2,	   /* wan, addrs */
	MEMBER_OP_LEAVE = 3,
	MEMBER_OP_FORCE_LEAVE = 4, /* wan, node, prune */
	MEMBER_OP_EVENT_FIRE = 5,  /* name, payload, filters */
	MEMBER_OP_EVENT_LIST = 6,  /* name, min_index, wait_ms */
};

struct msg_member_request {
	uint8_t op; /* enum member_op */
	bool wan;
	struct proto_str_array addrs;
	struct proto_str node; /* force-leave target */
	bool prune;
	struct proto_str name; /* event name (list: filter, "" = all) */
	struct proto_str payload;
	struct proto_str node_filter;
	struct proto_str service_filter;
	struct proto_str tag_filter;
	uint64_t min_index; /* event list blocking */
	uint32_t wait_ms;
};

/* A user event (spec §2.0 UserEvent). */
struct proto_user_event {
	struct proto_str id;
	struct proto_str name;
	struct proto_str payload;
	bool has_payload; /* false: "Payload": null */
	struct proto_str node_filter;
	struct proto_str service_filter;
	struct proto_str tag_filter;
	uint32_t version;
	uint64_t ltime;
};

/* MSG_MEMBER_RESULT: code 0 or a negative ERR_* with error the text
 * (join: "N nodes contacted" in joined). */
struct msg_member_result {
	int32_t code;
	struct proto_str error;
	struct proto_member *members;
	uint32_t n_members;
	uint32_t joined;
	struct proto_user_event *events; /* fire: the one fired */
	uint32_t n_events;
	uint64_t index; /* event list: X-Consul-Index */
};

#endif
