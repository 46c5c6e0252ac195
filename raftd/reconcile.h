/*
 * reconcile.h — the leader's reconcile of gossip membership into the
 * catalog (spec §4, issue 5 item 5): every LAN member of this datacenter
 * alive → its node registered with serfHealth passing (and the consul
 * service for a server), failed → serfHealth critical, left or reaped →
 * its node deregistered (never the leader's own).
 *
 * Two layers: reconcile_plan_*() decide, from a member and the catalog
 * (read only), the one write to make, if any — pure over the catalog,
 * used by tests; reconcile_*() taking a struct raftd are the glue
 * members.c and consensus.c call, which submits the writes through the
 * ordinary write path on the leader. Loop thread only.
 */
#ifndef CAIRN_RAFTD_RECONCILE_H
#define CAIRN_RAFTD_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "msg_member.h"
#include "proto.h"

struct raftd;

#define RECONCILE_SERF_CHECK "serfHealth"
#define RECONCILE_SERF_NAME "Serf Health Status"
#define RECONCILE_ALIVE_OUTPUT "Agent alive and reachable"
#define RECONCILE_FAILED_OUTPUT "Agent not live or unreachable"
/* Consul's ReconcileInterval: a full pass at least this often. */
#define RECONCILE_INTERVAL_MS 60000
/* A node with serfHealth missing from the member list this long is
 * reaped (a short list, gossipd restarting, is not enough). */
#define RECONCILE_REAP_GRACE_MS 10000
#define RECONCILE_NAME_MAX 255
/* This server's gossipd has not answered a poll this long (it answered
 * before): the serf agent of the leader's node is not alive, its
 * serfHealth goes critical. Longer than a restart by `cairn agent`,
 * about the time the other members' gossip takes to call it failed. */
#define RECONCILE_SELF_DOWN_MS 5000

/* What gossip says of a member, as reconcile handles it. */
enum reconcile_state {
	RECONCILE_IGNORE = 0, /* leaving, or unknown */
	RECONCILE_ALIVE = 1,
	RECONCILE_FAILED = 2,
	RECONCILE_LEFT = 3, /* left or reaped */
};

enum reconcile_kind {
	RECONCILE_NONE = 0,
	RECONCILE_REGISTER = 1,
	RECONCILE_DEREGISTER = 2,
};

/* The context of a plan: this server's node name and datacenter. */
struct reconcile_ctx {
	const char *self;
	const char *dc;
};

/* Catalog reads reused by the plans (init/fini). */
struct reconcile_reads {
	struct catalog_read node;   /* the member's node and services */
	struct catalog_read checks; /* its checks */
};
void reconcile_reads_init(struct reconcile_reads *rr);
void reconcile_reads_fini(struct reconcile_reads *rr);

/*
 * The ServiceMeta of a server's consul service, as Consul's
 * handleAliveMember writes it (keys sorted): non_voter and read_replica
 * from tags nonvoter/read_replica "1", raft_version from tag raft_vsn
 * ("0" without), serf_protocol_current/max/min 2/5/1 (gossipd speaks
 * Serf protocol 2 of 1..5, as /v1/agent/members reports), version the
 * X.Y.Z in the member's build tag ("1.21.4:cairn" -> "1.21.4").
 * reconcile_consul_meta fills cm and points *out at it (borrows build
 * and raft_vsn for as long as *out is used).
 */
#define RECONCILE_CONSUL_META_N 7
struct reconcile_consul_meta {
	struct proto_str k[RECONCILE_CONSUL_META_N];
	struct proto_str v[RECONCILE_CONSUL_META_N];
	char version[32];
};
void reconcile_consul_meta(struct reconcile_consul_meta *cm,
    struct proto_str build, struct proto_str raft_vsn, bool non_voter,
    bool read_replica, struct proto_strmap *out);

/*
 * One write a plan decided. reg or dereg per kind; the strings borrow
 * from the member, the context and rr until the next plan on rr.
 */
struct reconcile_write {
	enum reconcile_kind kind;
	struct msg_catalog_register reg;
	struct msg_catalog_deregister dereg;
	struct proto_cat_service svc;
	struct proto_cat_check chk;
	struct reconcile_consul_meta meta; /* svc's */
	char port_buf[16];
	const char *why; /* for the log: "alive", "failed", "left", "reaped" */
};

/* The state of a member in a MEMBER_OP_LIST answer (status 1 alive,
 * 2 leaving, 3 left, 4 failed). */
enum reconcile_state reconcile_state_of_status(uint8_t status);
/* The state a MSG_MEMBER_EVENT of type event reports for its member. */
enum reconcile_state reconcile_state_of_event(uint8_t event,
    uint8_t status);

/*
 * Decides the write that makes the catalog agree with member m in state
 * st (Consul's handleAliveMember / handleFailedMember /
 * handleDeregisterMember): nothing when the member is not of ctx->dc or
 * the catalog already agrees. Returns 0 (w filled) or ERR_*.
 */
int reconcile_plan_member(struct catalog *cat, struct reconcile_reads *rr,
    const struct reconcile_ctx *ctx, const struct proto_member *m,
    enum reconcile_state st, struct reconcile_write *w);

/*
 * Consul's reconcileReaped: calls cb for every node of the catalog that
 * has a serfHealth check, is not among the n members (any status) and is
 * not ctx->self — to be deregistered. Nothing is reaped when self is not
 * among the members (a list that does not even know this server is not
 * trusted). Returns 0 or ERR_*.
 */
typedef void (*reconcile_reap_cb)(void *arg, struct proto_str node);
int reconcile_plan_reaped(struct catalog *cat, struct reconcile_reads *rr,
    const struct reconcile_ctx *ctx, const struct proto_member *members,
    size_t n, reconcile_reap_cb cb, void *arg);

/*
 * The leader's own gossipd is not alive (Consul: a node whose serf
 * agent is not alive is failed; here gossipd is a process of its own
 * and only this server's gossipd tells its raftd about members): the
 * write that makes ctx->self's serfHealth critical with Consul's
 * output, the node record kept (SkipNodeUpdate); nothing when the node
 * is not registered or the check is critical already. Back to passing
 * is the ordinary alive plan, once gossipd lists this node again.
 * Returns 0 (w filled) or ERR_*.
 */
int reconcile_plan_self_down(struct catalog *cat, struct reconcile_reads *rr,
    const struct reconcile_ctx *ctx, struct reconcile_write *w);

/*
 * The reap grace (Consul reaps at once; a leader whose gossipd just
 * restarted lists too few members for a moment): within one pass,
 * between reconcile_grace_begin and _end, reconcile_grace_due says
 * whether a reap candidate has been missing since RECONCILE_REAP_GRACE_MS
 * before now_ms (then it is forgotten: the caller deregisters it);
 * candidates not offered in a pass are forgotten at its end. A zeroed
 * struct is empty; reconcile_grace_fini frees it.
 */
struct reconcile_absent {
	char name[RECONCILE_NAME_MAX + 1];
	uint64_t since_ms; /* the first pass it was missing in */
	bool seen;         /* offered in this pass, still waiting */
};
struct reconcile_grace {
	struct reconcile_absent *v;
	size_t n, cap;
};
void reconcile_grace_begin(struct reconcile_grace *g);
bool reconcile_grace_due(struct reconcile_grace *g, struct proto_str node,
    uint64_t now_ms);
void reconcile_grace_end(struct reconcile_grace *g);
void reconcile_grace_fini(struct reconcile_grace *g);

/* ---- raftd glue (members.c, consensus.c) ---- */

/* A member event from gossipd.events (LAN): reconciled at once on the
 * leader. */
void reconcile_member_event(struct raftd *rd, const struct proto_member *m,
    uint8_t event);
/* The polled LAN member list: a full reconcile (members and reaped
 * nodes) on the leader when it changed, leadership was gained since, or
 * RECONCILE_INTERVAL_MS passed; nodes missing from it are deregistered
 * after RECONCILE_REAP_GRACE_MS of lists (members borrowed). */
void reconcile_member_list(struct raftd *rd,
    const struct proto_member *members, size_t n);
/* This server's gossipd did not answer a member poll and last answered
 * silent_ms ago (members.c calls it only once gossipd answered since
 * raftd started: a raftd run without gossipd keeps its node passing).
 * From RECONCILE_SELF_DOWN_MS on, the leader marks its own serfHealth
 * critical; the next member list is reconciled in full (passing again). */
void reconcile_gossip_silent(struct raftd *rd, uint64_t silent_ms);
/* This server became leader: the next member list is reconciled in
 * full. */
void reconcile_leader(struct raftd *rd);
/* Frees the reconcile state (members_stop). */
void reconcile_close(struct raftd *rd);

#endif
