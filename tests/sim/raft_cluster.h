/*
 * raft_cluster.h — a whole Raft cluster in one process for the simulation
 * (tests/sim/raft_sim.c): a simulated network (delay, loss, duplication,
 * reordering, partitions including one-way ones), one simulated disk per
 * server (hard state written synchronously, log writes completing later
 * and lost at a crash), a simulated clock and a seeded PRNG.
 *
 * The cluster checks Raft's safety properties after every step and fails
 * loudly (cluster->failed, with a message) when one breaks: election
 * safety, log matching (via a registry of (index, term) -> content and
 * previous term), leader completeness (a new leader holds every committed
 * entry), state machine safety (a hash chain per applied index that all
 * servers must reproduce), no acknowledgement or vote before durability,
 * lease safety and linearizable ReadIndex results. Reference: cowsql/raft
 * test/lib/cluster.h; Ongaro 2014, Figure 3.2 (the safety properties).
 */
#ifndef CAIRN_RAFT_CLUSTER_H
#define CAIRN_RAFT_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raftd/raft.h"

#define CL_MAX_NODES 7
#define CL_ET_MS 100
#define CL_HB_MS 20

struct cl_entry {
	uint64_t term;
	uint64_t index;
	enum raft_entry_type type;
	unsigned char *data;
	size_t len;
};

struct cl_write {
	uint64_t due;
	uint64_t truncate_from;
	struct cl_entry *e;
	size_t n;
	struct cl_write *next;
};

/* What survives a crash. */
struct cl_disk {
	uint64_t term;
	uint64_t vote;
	struct cl_entry *log; /* consecutive */
	size_t n;
	size_t cap;
	uint64_t snap_index;
	uint64_t snap_term;
	unsigned char *snap_conf; /* raft_conf_encode() */
	size_t snap_conf_len;
	unsigned char *snap_data;
	size_t snap_len;
	/* the state machine, durable with each apply (DESIGN.md §5) */
	uint64_t applied;
	uint64_t applied_term;
	uint64_t hash;
	unsigned char *conf; /* last applied configuration */
	size_t conf_len;
};

/* Mirror of the core's in-memory log, rebuilt from updates. */
struct cl_mirror {
	uint64_t snap_index;
	uint64_t snap_term;
	uint64_t first; /* index of terms[0] */
	uint64_t *terms;
	size_t n;
	size_t cap;
};

struct cl_node {
	uint64_t id;
	bool exists;
	bool up;
	struct raft *r;
	struct cl_disk disk;
	struct cl_mirror mem;
	struct cl_write *writes; /* fifo */
	uint64_t deadline;
	uint64_t reported_commit;
	enum raft_role role;
	uint64_t leader;
	int skew; /* clock rate error in per mille (lease drift) */
	unsigned disk_latency_min;
	unsigned disk_latency_max;
};

struct cl_msg {
	uint64_t at;
	uint64_t order;
	struct raft_message m;
	struct raft_entry *ents;
	void *data;
	void *conf;
};

struct cl_stats {
	uint64_t msgs_sent;
	uint64_t msgs_delivered;
	uint64_t append_rejects;
	uint64_t snapshots_installed;
	uint64_t snapshot_chunks;
	uint64_t elections_won;
	uint64_t prevotes_sent;
	uint64_t votes_sent;
	uint64_t crashes;
	uint64_t applied;
	uint64_t reads_ok;
	uint64_t reads_failed;
	uint64_t proposals;
};

struct cl_read {
	uint64_t ctx;
	uint64_t need; /* global commit when issued */
};

struct cluster {
	uint64_t seed;
	uint64_t rng;
	uint64_t now;
	struct cl_node nodes[CL_MAX_NODES];
	size_t n; /* slots in use (ids 1..n) */
	struct cl_msg *msgs;
	size_t n_msgs;
	size_t cap_msgs;
	uint64_t order;
	bool blocked[CL_MAX_NODES][CL_MAX_NODES];
	unsigned loss_pct;
	unsigned dup_pct;
	unsigned delay_min;
	unsigned delay_max;
	bool fifo; /* per-pair ordered delivery (else reordering) */
	uint64_t last_at[CL_MAX_NODES][CL_MAX_NODES];
	/* raft_config knobs for new nodes */
	uint64_t hb_ms;
	unsigned max_inflight;
	size_t max_batch_bytes;
	size_t chunk_bytes;
	uint64_t snap_threshold;
	uint64_t snap_trailing;
	/* global knowledge for the checks */
	uint64_t *leader_of; /* by term */
	size_t n_leader_of;
	uint64_t *commit_term; /* by index: term of the committed entry */
	uint64_t *chain;       /* by index: state machine hash after it */
	size_t n_commit;
	size_t n_chain;
	uint64_t max_commit;
	void *registry; /* (index, term) -> content */
	struct cl_read *reads;
	size_t n_reads;
	uint64_t next_ctx;
	uint64_t next_value;
	bool failed;
	char why[512];
	bool verbose;
	char trace[64][160];
	unsigned trace_pos;
	struct cl_stats st;
};

/* Sets up n_slots servers (ids 1..n_slots), none running yet. */
void cl_init(struct cluster *c, uint64_t seed, size_t n_slots);
/* Bootstraps servers 1..n_voters with one configuration and starts them. */
void cl_bootstrap(struct cluster *c, size_t n_voters);
void cl_fini(struct cluster *c);
uint64_t cl_rand(struct cluster *c);
void cl_trace(struct cluster *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cl_fail(struct cluster *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Advances the simulation by one event (or to limit); false when idle. */
void cl_step(struct cluster *c, uint64_t limit);
/* Runs until time now + ms (or failure). */
void cl_run(struct cluster *c, uint64_t ms);
/* Runs until pred(c, arg) or ms elapsed; returns pred's last value. */
bool cl_run_until(struct cluster *c, uint64_t ms,
    bool (*pred)(struct cluster *, void *), void *arg);

/* Creates (fresh disk) and starts node id if needed. */
void cl_start(struct cluster *c, uint64_t id);
void cl_crash(struct cluster *c, uint64_t id);
void cl_restart(struct cluster *c, uint64_t id);
void cl_block(struct cluster *c, uint64_t from, uint64_t to, bool b);
void cl_isolate(struct cluster *c, uint64_t id);
void cl_heal(struct cluster *c);

/* Current leader among up nodes with the highest term (0: none). */
uint64_t cl_leader(struct cluster *c);
/* Proposes n commands at the leader; returns the last index (0: none). */
uint64_t cl_propose(struct cluster *c, uint64_t id, unsigned n);
void cl_snapshot(struct cluster *c, uint64_t id);
void cl_read(struct cluster *c, uint64_t id);
/* Feeds an input's results back: drains the node and executes them. */
void cl_process(struct cluster *c, struct cl_node *nd);
struct cl_node *cl_node(struct cluster *c, uint64_t id);
/* The node's own clock (skewed), and raft_tick() with it. */
uint64_t cl_local(struct cluster *c, struct cl_node *nd);
void cl_tick(struct cluster *c, struct cl_node *nd);

/* Shared helpers of raft_cluster.c. */
void cl_grow(void **arr, size_t *n, size_t want, size_t elem);
uint64_t cl_disk_last(const struct cl_disk *d);
uint64_t cl_disk_term(const struct cl_disk *d, uint64_t i);

/* raft_check.c: the mirror of a core's log and the safety checks. */
uint64_t cl_mirror_last(const struct cl_mirror *m);
uint64_t cl_mirror_term(const struct cl_mirror *m, uint64_t i);
void cl_mirror_append(struct cl_mirror *m, uint64_t index, uint64_t term);
void cl_mirror_truncate(struct cl_mirror *m, uint64_t index);
void cl_mirror_compact(struct cl_mirror *m, uint64_t index);
uint64_t cl_entry_hash(uint64_t h, uint64_t index, uint64_t term, int type,
    const void *data, size_t len);
void cl_check_init(struct cluster *c);
void cl_check_fini(struct cluster *c);
void cl_check_entry(struct cluster *c, struct cl_node *nd,
    const struct raft_entry *e, uint64_t prev, uint64_t h);
void cl_check_leader(struct cluster *c, struct cl_node *nd);
void cl_check_new_leader(struct cluster *c, struct cl_node *nd);
void cl_check_committed(struct cluster *c, uint64_t i, uint64_t t,
    const char *who);
void cl_check_chain(struct cluster *c, uint64_t index, uint64_t hash,
    struct cl_node *nd);
void cl_check_outgoing(struct cluster *c, struct cl_node *nd,
    const struct raft_message *m);
void cl_check_reads(struct cluster *c, struct cl_node *nd,
    const struct raft_update *u);
void cl_check_leases(struct cluster *c);

#endif
