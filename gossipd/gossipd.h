/*
 * gossipd.h — gossipd's shared state and the functions its files offer
 * each other (gossipd.c main, pool.c driving a SWIM core, net.c sockets,
 * tags.c member tags, join.c joins, persist.c the member snapshot, rpc.c
 * the gossipd.rpc server, events.c user events).
 *
 * Key decision: one struct pool per gossip pool (LAN always; WAN for
 * servers), each a pure SWIM core (swim.h) plus its UDP and TCP sockets;
 * everything runs on the one loop thread except blocking TCP exchanges,
 * which run on short-lived threads and post their result back
 * (loop_post). Reference: consul agent/consul/server_serf.go,
 * client_serf.go (pool setup and tags), serf snapshot.go.
 */
#ifndef CAIRN_GOSSIPD_H
#define CAIRN_GOSSIPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "swim.h"

struct config;
struct loop;
struct ipc_pub;
struct ipc_server;
struct ipc_req;
struct gossipd;

#define GOSSIPD_EVENTS_MAX 256 /* user events remembered (Consul's 256) */
#define GOSSIPD_TCP_TIMEOUT_MS 10000
#define GOSSIPD_FRAME_MAX (32u << 20)

struct join_ctx;

struct pool {
	struct gossipd *g;
	bool wan;
	struct swim *swim;
	char name[SWIM_NAME_MAX + 1];
	struct swim_addr self;
	int udp_fd, tcp_fd;
	int family; /* AF_INET or AF_INET6 */
	uint64_t timer;
	uint32_t tcp_inflight; /* threads running */
	bool leave_done;
	/* retry join (join.c) */
	char **retry_addrs;
	size_t n_retry;
	uint32_t retry_attempts;
	uint64_t retry_timer;
};

/* A remembered user event (owned strings). */
struct gossip_event {
	char *id, *name, *payload, *node_filter, *service_filter, *tag_filter;
	size_t payload_len;
	bool has_payload;
	uint32_t version;
	uint64_t ltime;
};

struct event_waiter;
struct event_pending;

struct gossipd {
	struct loop *loop;
	struct config *cfg;
	char node_id[64];
	struct pool lan;
	struct pool wan;
	bool have_wan;
	struct ipc_pub *pub;
	struct ipc_server *rpc;
	/* leaving: a leave RPC or SIGTERM with leave_on_terminate */
	bool leaving;
	bool left; /* leave finished: stopping */
	struct ipc_req *leave_req;
	uint64_t leave_reqid;
	uint64_t leave_timer;
	/* user events (events.c) */
	struct gossip_event events[GOSSIPD_EVENTS_MAX];
	size_t n_events, ev_head; /* ring: oldest at ev_head */
	uint64_t ev_index;
	struct event_waiter *waiters;
	struct event_pending *pending; /* waiting for checkd's services */
	struct ipc_client *checkd;     /* opened for the first such event */
	/* persistence (persist.c) */
	char snap_path[4096];
	bool snap_dirty;
	uint64_t snap_timer;
};

/* ---- pool.c ---- */
/* Opens the sockets and the core of pool p (name, meta borrowed).
 * Returns 0 or an ERR_*. */
int pool_open(struct gossipd *g, struct pool *p, bool wan, const char *name,
    const char *bind, const char *advertise, int port, const uint8_t *meta,
    uint16_t meta_len);
void pool_close(struct pool *p);
/* Drains the core's output: sends datagrams, starts TCP exchanges,
 * publishes events, re-arms the timer. Call after every core input. */
void pool_flush(struct pool *p);
/* Fills "a.b.c.d" (or IPv6 text) of addr. */
void pool_addr_ip(const struct swim_addr *a, char *buf, size_t len);

/* ---- net.c ---- */
int net_udp_open(const char *bind, int port, int *family, int *fd);
int net_tcp_listen(const char *bind, int port, int family, int *fd);
void net_to_sockaddr(const struct swim_addr *a, int family, void *ss,
    unsigned *sslen);
void net_from_sockaddr(const void *ss, struct swim_addr *a);
/* Parses "ip", "ip:port", "[v6]:port", "host", "host:port" and resolves
 * it (DNS) into at most max addresses with default_port. Returns the
 * count (0: none) or a negative ERR_*. */
int net_resolve(const char *spec, int default_port, struct swim_addr *out,
    int max);
/* Text IP to swim_addr. 0 or ERR_INVAL. */
int net_parse_ip(const char *ip, int port, struct swim_addr *out);

/* A TCP exchange on a thread: connect to `to`, write the frame, read one
 * reply frame if want_reply; then done(job) on the loop thread. */
struct tcp_job {
	struct pool *p;
	struct swim_addr to;
	uint8_t *out;
	size_t out_len;
	bool want_reply;
	uint32_t timeout_ms;
	/* result */
	int err;
	uint8_t *in;
	size_t in_len;
	/* what it was for */
	bool is_ping;
	uint32_t ping_seq;
	struct join_ctx *join;
};
int net_tcp_start(struct tcp_job *job);
/* Waits up to ms for every TCP thread to have finished (its result
 * posted). Returns true when none is left. Any thread. */
bool net_threads_wait(uint32_t ms);
/* Accepts on p->tcp_fd (loop callback). */
void net_tcp_accept(struct loop *l, int fd, uint32_t events, void *arg);
/* Frame I/O on a blocking socket with timeouts (4-byte big-endian length
 * then the bytes). */
int net_write_frame(int fd, const uint8_t *data, size_t len);
int net_read_frame(int fd, uint8_t **data, size_t *len);

/* ---- pool.c: TCP results (loop thread) ---- */
void pool_tcp_done(struct tcp_job *job);
/* An incoming TCP message on connection fd from peer (frame owned). */
void pool_tcp_request(struct pool *p, int fd, const struct swim_addr *peer,
    uint8_t *frame, size_t len);

/* ---- tags.c ---- */
/* Encodes the agent's tags (Consul's) into buf; returns the length or
 * ERR_TOOBIG. */
int tags_build(const struct gossipd *g, bool wan, uint8_t *buf, size_t cap);
/* Iterates key\0value\0 pairs of meta: *pos starts at 0. */
bool tags_next(const uint8_t *meta, size_t len, size_t *pos, const char **k,
    const char **v);

/* ---- join.c ---- */
typedef void (*join_done_cb)(void *arg, int joined, const char *err);
/* Joins pool p through every address (each resolved); cb gets the number
 * of nodes contacted. Returns 0 (cb will run) or an ERR_* (cb never). */
int join_start(struct pool *p, char **addrs, size_t n, join_done_cb cb,
    void *arg);
void join_tcp_result(struct join_ctx *j, bool ok);
/* Starts start_join/retry_join and the snapshot's addresses (LAN) and
 * retry_join_wan (WAN). */
void join_retry_start(struct gossipd *g);
void join_retry_stop(struct gossipd *g);

/* ---- persist.c ---- */
int persist_open(struct gossipd *g);
/* The addresses the snapshot remembers (owned array of owned strings;
 * persist_addrs_free) and whether the agent left last time. */
int persist_load(struct gossipd *g, char ***addrs, size_t *n, bool *left);
void persist_addrs_free(char **addrs, size_t n);
void persist_mark_dirty(struct gossipd *g);
void persist_leave(struct gossipd *g);
void persist_close(struct gossipd *g);

/* ---- events.c ---- */
/* A user event delivered by the core (payload is the MSG_SWIM_USER_EVENT
 * body). */
void events_deliver(struct gossipd *g, const char *name, uint64_t ltime,
    const uint8_t *payload, size_t len);
void events_free(struct gossipd *g);

/* ---- rpc.c ---- */
int rpc_open(struct gossipd *g);
void rpc_close(struct gossipd *g);
/* Leave finished (or timed out): answer the leave request, stop. */
void rpc_leave_finish(struct gossipd *g);

/* ---- gossipd.c ---- */
void gossipd_leave(struct gossipd *g);

#endif
