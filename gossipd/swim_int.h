/*
 * swim_int.h — the SWIM core's internal state, shared by gossipd/swim*.c
 * and by nothing else (gossipd glue and tests use swim.h only).
 *
 * Key decision: one table owns every member (a hash by name for lookups
 * and an array that doubles as memberlist's shuffled probe list); the
 * broadcast queue, the suspicion list and the probe state point into it,
 * and swim_member_reap() unhooks a member from all of them before freeing.
 */
#ifndef CAIRN_SWIM_INT_H
#define CAIRN_SWIM_INT_H

#include <string.h>

#include "swim.h"

struct swim_bcast;
struct swim_susp;

struct swim_member {
	/* hash and chain lead: a lookup touches one line per member it
	 * passes (perf, n = 2,000) and reads the name only when the hash
	 * matches */
	uint64_t hash;
	struct swim_member *hnext; /* hash chain */
	uint32_t incarnation;
	uint8_t state; /* enum swim_state */
	struct swim_addr addr;
	uint8_t *meta; /* owned */
	uint16_t meta_len;
	uint64_t ltime;
	uint64_t change_ms;
	uint32_t idx;		   /* position in s->members */
	struct swim_bcast *bc;	   /* our queued update about it, if any */
	struct swim_susp *susp;	   /* suspicion timer while suspect */
	/* NUL-terminated, allocated to its length (1..SWIM_NAME_MAX): an
	 * inline name[129] was half of a member (bench/gossip/rss.py) */
	char name[];
};

/* Lifeguard dynamic suspicion (memberlist suspicion.go). */
struct swim_susp {
	struct swim_member *m;
	struct swim_susp *prev, *next; /* O(1) stop: a partition suspects
					* half the cluster at once */
	uint32_t k;	  /* confirmations expected */
	uint32_t n;	  /* independent confirmations so far */
	uint64_t confirm[16]; /* hashes of confirmers, the accuser first */
	uint32_t n_confirm;
	uint64_t start_ms, min_ms, max_ms, deadline_ms;
};

/*
 * One queued update (memberlist TransmitLimitedQueue item), packed: a
 * struct swim_upd with its two inline names is ~300 B, and after a join
 * storm at n = 1,000 a member still holds hundreds of queued updates a
 * minute later (bench/gossip/rss.py); the names and the meta or payload
 * are stored by length in data, one allocation per item.
 */
struct swim_bcast {
	struct swim_bcast *prev, *next;
	size_t size; /* next to the links: the fill walk reads one line */
	uint32_t transmits;
	bool notify_leave;
	struct swim_member *m; /* member it is about (NULL: user event) */
	uint8_t type;	       /* enum swim_update_type */
	bool prune;
	uint8_t node_len, from_len; /* <= SWIM_NAME_MAX */
	uint16_t blob_len;	    /* meta (alive) or payload (user event) */
	uint32_t incarnation;
	uint64_t ltime;
	struct swim_addr addr;
	uint8_t data[]; /* node, from, blob: no terminators */
};

#define SWIM_BCAST_LEVELS 64

struct swim_bcast_list {
	struct swim_bcast *head, *tail;
};

/* A ping-req we relay as the intermediary. */
struct swim_relay {
	uint32_t seq;	   /* our ping to the target */
	uint32_t orig_seq; /* the requester's */
	struct swim_addr requester;
	uint64_t nack_ms;   /* send the NACK then */
	uint64_t expire_ms; /* forget it then (late acks still forwarded) */
	bool nack;
};

struct swim_probe {
	bool active;
	char target[SWIM_NAME_MAX + 1];
	uint32_t seq;
	uint64_t start_ms, timeout_ms, deadline_ms;
	bool indirect_sent;
	uint32_t expected_nacks, nacks;
	bool tcp_ok;
};

/* A remembered user event: buf holds the name, a NUL, then the payload. */
struct swim_evrec {
	uint64_t hash;
	uint8_t *buf;
	uint16_t name_len, payload_len;
};

#define SWIM_EVSLOT_EVENTS 4

struct swim_evslot {
	uint64_t ltime;
	struct swim_evrec ev[SWIM_EVSLOT_EVENTS];
	uint32_t n;
};

struct swim {
	struct swim_config cfg;
	uint64_t rng[4];
	uint64_t now;
	bool started;

	struct swim_member *self;
	struct swim_member **members; /* probe order; self included */
	uint32_t n_members, cap_members;
	uint32_t probe_idx;
	struct swim_member **buckets;
	uint32_t n_buckets;
	struct swim_counts counts;

	uint32_t seq;
	struct swim_probe probe;
	struct swim_relay *relays;
	uint32_t n_relays, cap_relays;
	uint32_t awareness;

	struct swim_bcast_list lv[SWIM_BCAST_LEVELS];
	uint32_t n_bcast;
	struct swim_susp *susps;
	uint64_t susp_next; /* <= the earliest suspicion deadline; 0: none */

	uint64_t member_clock, event_clock, event_min;
	uint64_t event_seen; /* 1 + newest event ltime seen or fired */
	struct swim_evslot events[SWIM_EVENT_BUFFER];

	uint64_t next_probe, next_gossip, next_pp, next_reconnect, next_reap;
	bool leaving, leave_done;

	struct swim_update out;
	size_t cap_sends, cap_events;
};

/* swim.c: helpers shared by the other files */
uint64_t swim_rand(struct swim *s);
uint32_t swim_rand_n(struct swim *s, uint32_t n); /* [0, n) */
uint32_t swim_live_count(const struct swim *s);	  /* alive + suspect */
struct swim_send *swim_out_send(struct swim *s, const struct swim_addr *to,
    uint8_t transport, uint8_t type);
struct swim_event *swim_out_event(struct swim *s, uint8_t type,
    const struct swim_member *m);
uint8_t swim_status_of(const struct swim *s, const struct swim_member *m);
uint64_t swim_scale(const struct swim *s, uint64_t ms);
/* ⌈log_base(x)⌉ for x >= 1 (0 for x <= 1), exact: the smallest k with
 * base^k >= x. */
uint32_t swim_ceil_log(uint64_t x, uint32_t base);
/* Natural logarithm of x > 0 (0 otherwise), within a few ulp of libm's. */
double swim_ln(double x);
/* log10(n) for n >= 1 (0 for n = 0), exact at powers of ten. */
double swim_log10(uint64_t n);

/* Copies the member name src (NUL-terminated, at most SWIM_NAME_MAX
 * bytes) into dst, an array of SWIM_NAME_MAX + 1 bytes. */
static inline void
swim_name_set(char *dst, const char *src)
{
	size_t n = strnlen(src, SWIM_NAME_MAX);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* swim_member.c: the table and state transitions */
uint64_t swim_member_hash(const char *name);
struct swim_member *swim_member_find(const struct swim *s, const char *name);
struct swim_member *swim_member_add(struct swim *s, const char *name,
    const struct swim_addr *addr);
void swim_member_reap(struct swim *s, struct swim_member *m);
void swim_member_set_state(struct swim *s, struct swim_member *m,
    uint8_t state);
int swim_member_set_meta(struct swim_member *m, const uint8_t *meta,
    uint16_t len);
void swim_member_shuffle(struct swim *s);
void swim_member_alive(struct swim *s, const struct swim_alive *a);
void swim_member_suspect(struct swim *s, const struct swim_suspect *su);
void swim_member_dead(struct swim *s, const struct swim_dead *d);
void swim_member_refute(struct swim *s, uint32_t accused_inc);
void swim_member_reap_tick(struct swim *s);
void swim_member_free_all(struct swim *s);

/* swim_suspect.c: Lifeguard suspicion timers */
int swim_suspect_start(struct swim *s, struct swim_member *m,
    const char *from);
bool swim_suspect_confirm(struct swim *s, struct swim_member *m,
    const char *from);
void swim_suspect_stop(struct swim *s, struct swim_member *m);
void swim_suspect_tick(struct swim *s);
uint64_t swim_suspect_next(const struct swim *s);
uint64_t swim_suspect_min_ms(const struct swim *s, uint32_t n);

/* swim_bcast.c: the transmit-limited queue */
int swim_bcast_member(struct swim *s, struct swim_member *m,
    const struct swim_upd *up, bool notify_leave);
int swim_bcast_user(struct swim *s, const struct swim_upd *up);
void swim_bcast_drop_member(struct swim *s, struct swim_member *m);
int swim_bcast_fill(struct swim *s, struct swim_msg *msg, size_t budget);
uint32_t swim_bcast_limit(const struct swim *s);
void swim_bcast_free_all(struct swim *s);
void swim_bcast_gossip(struct swim *s);

/* swim_probe.c: probe, indirect probe, ack/nack, TCP fallback */
void swim_probe_tick(struct swim *s);
uint64_t swim_probe_next(const struct swim *s);
void swim_probe_recv_ping(struct swim *s, const struct swim_addr *from,
    const struct swim_ping *p);
void swim_probe_recv_ping_req(struct swim *s, const struct swim_addr *from,
    const struct swim_ping_req *r);
void swim_probe_recv_ack(struct swim *s, uint32_t seq);
void swim_probe_recv_nack(struct swim *s, uint32_t seq);
void swim_probe_tcp_result(struct swim *s, uint32_t seq, bool ok);
void swim_probe_awareness(struct swim *s, int delta);

/* swim_pushpull.c: state exchange, join, reconnect */
int swim_pushpull_send(struct swim *s, const struct swim_addr *to,
    bool join, bool reply);
void swim_pushpull_recv(struct swim *s, const struct swim_addr *from,
    const struct swim_push_pull *pp);
void swim_pushpull_tick(struct swim *s);
void swim_pushpull_leave(struct swim *s);

/* swim_event.c: user events and their Lamport clock */
void swim_event_recv(struct swim *s, const struct swim_user_event *ev);
int swim_event_fire(struct swim *s, const char *name, const uint8_t *payload,
    uint16_t len);
/* Copies the remembered events into pp (events array and their payloads in
 * msg->blob after off). */
int swim_event_export(struct swim *s, struct swim_msg *msg, size_t off);
size_t swim_event_blob_len(const struct swim *s);
size_t swim_event_heap(const struct swim *s);
void swim_event_free_all(struct swim *s);

/* swim_msg.c */
int swim_msg_check(const struct swim_msg *m);
size_t swim_msg_upd_size(const struct swim_upd *up);

#endif
