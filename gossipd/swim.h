/*
 * swim.h — the pure SWIM + Lifeguard membership core used by gossipd for
 * both the LAN and the WAN pool.
 *
 * Where it sits: gossipd's loop feeds it decoded datagrams, TCP push/pull
 * replies, TCP fallback probe results and the time; after every input it
 * drains a struct swim_update holding datagrams/TCP requests to send,
 * member and user events, and the next timer deadline. The core owns no
 * socket, clock or entropy source (STYLE.md §3): randomness comes from a
 * PRNG seeded by the caller, so a whole cluster runs in tests/sim/swim_sim.c.
 *
 * Key decisions:
 * - Behaviour follows hashicorp/memberlist + serf as Consul runs them: one
 *   probe per protocol period to a round-robin target over a shuffled list,
 *   indirect probes through `indirect_checks` members with NACKs, a TCP
 *   fallback probe, suspicion refuted by incarnation numbers, updates
 *   piggybacked on every datagram (memberlist's TransmitLimitedQueue:
 *   retransmit_mult * ceil(log10(n+1)) sends each, least-sent then newest
 *   first), gossip to gossip_nodes random members every gossip_interval,
 *   periodic TCP push/pull, serf's reconnect of failed members and reaping.
 * - Lifeguard (Dadgar et al. 2018): local health awareness scales probe
 *   timeouts and the protocol period by (awareness+1); suspicion timeouts
 *   shrink from max to min as independent confirmations arrive; the buddy
 *   system piggybacks the suspect message on the probe to the suspect.
 * - Graceful leave is a dead message about self (from == node) which
 *   receivers record as `left`; it also turns a `failed` member into `left`
 *   (serf's leave intent), which force-leave uses.
 * - Messages are decoded structs (the msgpack codec is proto/'s job):
 *   names are NUL-terminated fixed arrays, blobs are (ptr, len).
 *
 * References: Das, Gupta, Motivala, "SWIM", DSN 2002 §3-4; Dadgar, Phillips,
 * Currey, "Lifeguard", 2018 §IV; spec/consul-api.md §6.4, §2.0 (Member
 * status), §2.1 (members/join/leave/force-leave), §16 items 23 and 25.
 */
#ifndef CAIRN_SWIM_H
#define CAIRN_SWIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SWIM_NAME_MAX 128	  /* node name bytes, without the NUL */
#define SWIM_META_MAX 512	  /* tags blob (memberlist MetaMaxSize) */
#define SWIM_USER_EVENT_MAX 512	  /* name + payload bytes (serf limit) */
#define SWIM_EVENT_BUFFER 256	  /* user events remembered for dedupe */
#define SWIM_MAX_UPDATES 255	  /* piggybacked updates in one message */
#define SWIM_MAX_PP_MEMBERS 65536 /* members in one push/pull */
#define SWIM_MAX_PP_EVENTS 1024	  /* user events in one push/pull */

/* An IPv4 (as ::ffff:a.b.c.d) or IPv6 address and a port. */
struct swim_addr {
	uint8_t ip[16];
	uint16_t port;
};

/* Serf member status as Consul reports it (spec §2.0 Member.Status). */
enum swim_status {
	SWIM_STATUS_NONE = 0,
	SWIM_STATUS_ALIVE = 1,
	SWIM_STATUS_LEAVING = 2,
	SWIM_STATUS_LEFT = 3,
	SWIM_STATUS_FAILED = 4,
};

/* memberlist's node state, carried by push/pull. */
enum swim_state {
	SWIM_STATE_ALIVE = 0,
	SWIM_STATE_SUSPECT = 1,
	SWIM_STATE_DEAD = 2,
	SWIM_STATE_LEFT = 3,
};

struct swim_config {
	uint32_t gossip_nodes;		   /* LAN 3, WAN 4 */
	uint32_t gossip_interval_ms;	   /* LAN 200, WAN 500 */
	uint32_t probe_interval_ms;	   /* LAN 1000, WAN 5000 */
	uint32_t probe_timeout_ms;	   /* LAN 500, WAN 3000 */
	uint32_t retransmit_mult;	   /* 4 */
	uint32_t suspicion_mult;	   /* LAN 4, WAN 6 */
	uint32_t suspicion_max_timeout_mult; /* 6 */
	uint32_t indirect_checks;	   /* 3 */
	uint32_t awareness_max;		   /* 8: multiplier in [1, 8] */
	uint32_t push_pull_interval_ms;	   /* LAN 30 s, WAN 60 s; 0 = off */
	uint32_t gossip_to_dead_ms;	   /* LAN 30 s, WAN 60 s */
	uint32_t reconnect_interval_ms;	   /* serf: 30 s */
	uint64_t reconnect_timeout_ms;	   /* serf: 72 h, also left tombstones */
	uint32_t reap_interval_ms;	   /* serf: 15 s */
	uint32_t udp_budget;		   /* bytes per datagram: 1400 */
	bool tcp_fallback;		   /* TCP ping when UDP probes fail */
};

/* Who we are. meta is borrowed (copied by swim_new). */
struct swim_member_info {
	const char *name; /* NUL-terminated, 1..SWIM_NAME_MAX bytes */
	struct swim_addr addr;
	const uint8_t *meta;
	uint16_t meta_len;
};

/* ---- messages (the wire codec in proto/ mirrors these) ---- */

enum swim_msg_type {
	SWIM_MSG_PING = 1,     /* direct probe; also the TCP fallback probe */
	SWIM_MSG_PING_REQ = 2, /* indirect probe request */
	SWIM_MSG_ACK = 3,
	SWIM_MSG_NACK = 4,
	SWIM_MSG_PUSH_PULL = 5, /* full state, over TCP */
	SWIM_MSG_GOSSIP = 6,	/* only piggybacked updates */
};

enum swim_update_type {
	SWIM_UP_ALIVE = 1,
	SWIM_UP_SUSPECT = 2,
	SWIM_UP_DEAD = 3, /* from == node: a graceful leave */
	SWIM_UP_USER_EVENT = 4,
};

struct swim_ping {
	uint32_t seq;
	char node[SWIM_NAME_MAX + 1]; /* intended target; "" = anyone */
};

struct swim_ping_req {
	uint32_t seq;
	char node[SWIM_NAME_MAX + 1]; /* member to probe */
	struct swim_addr target;
	bool nack; /* answer NACK if the target does not ack in time */
};

struct swim_ack {
	uint32_t seq;
};

struct swim_nack {
	uint32_t seq;
};

struct swim_alive {
	char node[SWIM_NAME_MAX + 1];
	struct swim_addr addr;
	uint32_t incarnation;
	uint64_t ltime; /* member Lamport time (serf join intent) */
	const uint8_t *meta;
	uint16_t meta_len;
};

struct swim_suspect {
	char node[SWIM_NAME_MAX + 1];
	char from[SWIM_NAME_MAX + 1];
	uint32_t incarnation;
};

struct swim_dead {
	char node[SWIM_NAME_MAX + 1];
	char from[SWIM_NAME_MAX + 1]; /* == node: left gracefully */
	uint32_t incarnation;
	uint64_t ltime; /* member Lamport time (serf leave intent) */
	bool prune;	/* force-leave -prune: forget the member */
};

struct swim_user_event {
	char name[SWIM_NAME_MAX + 1];
	uint64_t ltime; /* event Lamport time */
	const uint8_t *payload;
	uint16_t payload_len;
};

struct swim_upd {
	uint8_t type; /* enum swim_update_type */
	union {
		struct swim_alive alive;
		struct swim_suspect suspect;
		struct swim_dead dead;
		struct swim_user_event user;
	} u;
};

/* One member of a push/pull state exchange. */
struct swim_pp_member {
	char node[SWIM_NAME_MAX + 1];
	struct swim_addr addr;
	uint32_t incarnation;
	uint8_t state; /* enum swim_state */
	uint64_t ltime;
	const uint8_t *meta;
	uint16_t meta_len;
};

struct swim_push_pull {
	bool join;  /* sent by swim_join() */
	bool reply; /* the answer to a push/pull */
	uint64_t member_ltime;
	uint64_t event_ltime; /* the sender's event clock */
	uint64_t event_seen;  /* 1 + newest event ltime the sender saw */
	struct swim_pp_member *members;
	uint32_t n_members;
	/* the sender's remembered user events (serf's event buffer), so a
	 * member that missed one gets it at the next push/pull */
	struct swim_user_event *events;
	uint32_t n_events;
};

/*
 * A datagram or stream message: one primary body plus piggybacked updates
 * (memberlist's compound message). In swim_recv() everything is borrowed
 * from the caller; in a struct swim_update every pointer is owned by the
 * message (updates, members and the blob their meta/payload point into)
 * and released by swim_msg_free().
 */
struct swim_msg {
	uint8_t type; /* enum swim_msg_type */
	union {
		struct swim_ping ping;
		struct swim_ping_req ping_req;
		struct swim_ack ack;
		struct swim_nack nack;
		struct swim_push_pull pp;
	} u;
	struct swim_upd *updates;
	uint16_t n_updates;
	uint8_t *blob; /* owned bytes meta/payload pointers refer to */
};

/* ---- outputs ---- */

enum swim_transport {
	SWIM_UDP = 0,
	/* TCP: a push/pull (send, then feed the reply to swim_recv; an
	 * incoming push/pull's reply is addressed to the requester and goes
	 * back on the connection it came from) or a fallback ping (report
	 * with swim_tcp_probe_result(); on the receiving side feed the ping
	 * to swim_recv and write the ACK it produces back on that
	 * connection). */
	SWIM_TCP = 1,
};

struct swim_send {
	struct swim_addr to;
	uint8_t transport; /* enum swim_transport */
	struct swim_msg msg;
};

enum swim_event_type {
	SWIM_EV_JOIN = 1,   /* new member, or failed/left member back alive */
	SWIM_EV_UPDATE = 2, /* alive member changed address or tags */
	SWIM_EV_FAILED = 3,
	SWIM_EV_LEFT = 4,
	SWIM_EV_REAPED = 5, /* removed from the member list */
	SWIM_EV_USER = 6,
	SWIM_EV_LEAVE_DONE = 7, /* our leave message was disseminated */
};

struct swim_event {
	uint8_t type; /* enum swim_event_type */
	char node[SWIM_NAME_MAX + 1];
	struct swim_addr addr;
	uint32_t incarnation;
	uint8_t status; /* enum swim_status after the event */
	uint8_t *meta;	/* owned; member tags, or user event payload */
	uint16_t meta_len;
	/* user events */
	char name[SWIM_NAME_MAX + 1];
	uint64_t ltime;
};

/* What one input produced. Filled by swim_drain(); owned by the caller,
 * released with swim_update_free(). To keep one message past that, copy the
 * struct swim_send and zero the original's msg. */
struct swim_update {
	struct swim_send *sends;
	size_t n_sends;
	struct swim_event *events;
	size_t n_events;
	uint64_t next_deadline_ms; /* call swim_tick() by then */
};

/* A member as one node sees it. Pointers borrowed from the core, valid
 * until the next input call. */
struct swim_member_view {
	const char *name;
	struct swim_addr addr;
	const uint8_t *meta;
	uint16_t meta_len;
	uint32_t incarnation;
	uint8_t status; /* enum swim_status */
	uint8_t state;	/* enum swim_state (suspect shows here) */
	uint64_t ltime;
	uint64_t change_ms; /* last status change */
};

struct swim_counts {
	uint32_t alive, suspect, failed, left; /* including self */
	uint32_t queued; /* updates waiting to be disseminated */
};

struct swim;

/* ---- configuration ---- */

/* memberlist DefaultLANConfig / DefaultWANConfig as Consul uses them. */
struct swim_config swim_config_lan(void);
struct swim_config swim_config_wan(void);
/* Returns 0 or ERR_INVAL naming no field (zero intervals, mult < 1...). */
int swim_config_check(const struct swim_config *cfg);

/* ---- lifecycle ---- */

/* Returns an owned core (free with swim_free) or NULL on bad config,
 * bad self info or allocation failure. cfg and self are borrowed; seed
 * drives the core's only PRNG. Queues the alive message about self; timers
 * start at the first swim_tick(). */
struct swim *swim_new(const struct swim_config *cfg,
    const struct swim_member_info *self, uint64_t seed);
void swim_free(struct swim *s);

/* ---- inputs (each returns 0 or a negative ERR_*) ----
 * Calls without now_ms use the time of the latest swim_tick/swim_recv. */

int swim_tick(struct swim *s, uint64_t now_ms);
/* m and from are borrowed. ERR_BADMSG for a malformed message (nothing
 * applied from it). */
int swim_recv(struct swim *s, const struct swim_addr *from,
    const struct swim_msg *m, uint64_t now_ms);
/* Starts a push/pull join with addr (borrowed). The adapter reports a
 * connect failure to its caller itself. */
int swim_join(struct swim *s, const struct swim_addr *addr);
/* Broadcasts our leave and pushes it over TCP to two random live members;
 * SWIM_EV_LEAVE_DONE is emitted once the broadcast has been sent
 * retransmit-limit times (at once if we are alone). The adapter must
 * finish the queued TCP sends before exiting. ERR_CLOSED if already
 * leaving. */
int swim_leave(struct swim *s);
/* Marks a failed (or any known) member left cluster-wide; prune also
 * forgets it. ERR_NOTFOUND for an unknown name, ERR_INVAL for self. */
int swim_force_leave(struct swim *s, const char *name, bool prune);
/* Replaces our tags (copied) and broadcasts them with a new incarnation.
 * ERR_TOOBIG above SWIM_META_MAX. */
int swim_set_tags(struct swim *s, const uint8_t *meta, uint16_t len);
/* Fires a user event (name NUL-terminated, payload copied). ERR_TOOBIG
 * when name + payload exceed SWIM_USER_EVENT_MAX. */
int swim_user_event(struct swim *s, const char *name, const uint8_t *payload,
    uint16_t len);
/* Result of a SWIM_TCP ping with this seq: ok = the target acked. */
int swim_tcp_probe_result(struct swim *s, uint32_t seq, bool ok);

/* ---- outputs and queries ---- */

/* Moves everything produced since the last drain into *out (which it
 * overwrites; free the previous contents first). */
void swim_drain(struct swim *s, struct swim_update *out);
void swim_update_free(struct swim_update *u);
/* Releases what msg owns and zeroes it. NULL is a no-op. */
void swim_msg_free(struct swim_msg *msg);
/* Deep copy of msg into *dst (owned, swim_msg_free). 0 or ERR_NOMEM. */
int swim_msg_dup(struct swim_msg *dst, const struct swim_msg *msg);
/* Estimated encoded size in bytes (what the UDP budget is checked
 * against). */
size_t swim_msg_size(const struct swim_msg *msg);

/* 0 and *out filled, or ERR_NOTFOUND. name borrowed. */
int swim_member_get(const struct swim *s, const char *name,
    struct swim_member_view *out);
/* Iterates members (self included, order unspecified and changed by any
 * input): *pos starts at 0; returns false at the end. */
bool swim_member_next(const struct swim *s, size_t *pos,
    struct swim_member_view *out);
void swim_counts_get(const struct swim *s, struct swim_counts *out);
/* Lifeguard's local health score, 0 (healthy) .. awareness_max - 1. */
uint32_t swim_health_score(const struct swim *s);
/* Heap bytes the core holds right now (members, queues, timers). */
size_t swim_heap_bytes(const struct swim *s);
/* 0 and a "a.b.c.d:port" / "[v6]:port" string, or ERR_TOOBIG. */
int swim_addr_fmt(const struct swim_addr *a, char *buf, size_t len);
bool swim_addr_eq(const struct swim_addr *a, const struct swim_addr *b);

#endif
