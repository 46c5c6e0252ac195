/*
 * raft_sim.c — deterministic simulation of raftd's Raft core (sim_raft).
 *
 * Two parts. Scenario checks drive a cluster by hand and assert on the
 * trace: pre-vote keeps a rejoining partitioned server from disrupting
 * the leader, check-quorum deposes an isolated leader, fast backtracking
 * needs few rejects, leadership transfer, a snapshot catches a follower
 * up, a non-voter is promoted once caught up, a removed leader steps
 * down, ReadIndex and the lease. Then the seed sweep: clusters of 3 or 5
 * with random faults (crashes with loss of unsynced writes, restarts,
 * partitions incl. one-way, loss, duplication, reordering, slow disks,
 * snapshots, membership changes, transfers, reads), safety checked after
 * every step by raft_cluster.c, and liveness after healing: a leader is
 * elected and a new command commits everywhere within a bounded time.
 *
 * usage: sim_raft [--seeds N] [--first S] [--seed S] [--long] [--quiet]
 *        sim_raft --scenario NAME [--seed S]   (one scenario, traced)
 * Reference: Ongaro 2014, 3.6 (safety), 9.6, 6.2, 3.10, 4.2, 5.3, 6.4.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "raft_cluster.h"

#define DEFAULT_SEEDS 5000
#define LONG_SEEDS 10000
#define LIVENESS_MS (40 * CL_ET_MS)

static int failures;
static struct cl_stats total;
static bool long_run;

static void
report(struct cluster *c, const char *what)
{
	printf("FAIL %s (seed %llu): %s\n", what, (unsigned long long)c->seed,
	    c->why[0] ? c->why : "assertion");
	printf("  last events:\n");
	for (unsigned i = 0; i < 64; i++) {
		const char *l = c->trace[(c->trace_pos + i) % 64];
		if (l[0])
			printf("    %s\n", l);
	}
	printf("  replay: sim_raft --seed %llu\n", (unsigned long long)c->seed);
	failures++;
}

#define EXPECT(c, cond, ...)                                           \
	do {                                                           \
		if (!(c)->failed && !(cond))                           \
			cl_fail((c), __VA_ARGS__);                     \
	} while (0)

static bool
has_leader(struct cluster *c, void *arg)
{
	uint64_t l = cl_leader(c);

	(void)arg;
	return l != 0 && raft_leader_ready(cl_node(c, l)->r);
}

static bool
applied_everywhere(struct cluster *c, void *arg)
{
	uint64_t index = *(uint64_t *)arg;

	for (size_t i = 0; i < c->n; i++)
		if (c->nodes[i].up && c->nodes[i].disk.applied < index)
			return false;
	return true;
}

static bool
other_leader(struct cluster *c, void *arg)
{
	uint64_t old = *(uint64_t *)arg;

	return has_leader(c, NULL) && cl_leader(c) != old;
}

static uint64_t
elect(struct cluster *c)
{
	if (!cl_run_until(c, LIVENESS_MS, has_leader, NULL))
		cl_fail(c, "no leader elected");
	return cl_leader(c);
}

/* ---- scenario checks ------------------------------------------------- */

static void
scenario_prevote(struct cluster *c)
{
	uint64_t l = elect(c), x, term;

	x = l % 3 + 1;
	term = raft_term(cl_node(c, l)->r);
	cl_isolate(c, x);
	cl_run(c, 20 * CL_ET_MS);
	EXPECT(c, raft_term(cl_node(c, x)->r) == term,
	    "pre-vote: isolated n%llu moved to term %llu",
	    (unsigned long long)x,
	    (unsigned long long)raft_term(cl_node(c, x)->r));
	EXPECT(c, c->st.prevotes_sent > 0, "pre-vote: no pre-vote was sent");
	cl_heal(c);
	cl_run(c, 10 * CL_ET_MS);
	EXPECT(c, cl_leader(c) == l && raft_term(cl_node(c, l)->r) == term,
	    "pre-vote: the rejoining server disrupted the leader");
}

static void
scenario_check_quorum(struct cluster *c)
{
	uint64_t l = elect(c), nl;

	cl_isolate(c, l);
	cl_run(c, 3 * CL_ET_MS);
	EXPECT(c, raft_role(cl_node(c, l)->r) != RAFT_LEADER,
	    "check-quorum: isolated leader n%llu did not step down",
	    (unsigned long long)l);
	EXPECT(c, !raft_lease_valid(cl_node(c, l)->r, cl_local(c, cl_node(c, l))),
	    "lease still valid on a deposed leader");
	cl_run_until(c, LIVENESS_MS, other_leader, &l);
	nl = cl_leader(c);
	EXPECT(c, nl != 0 && nl != l, "check-quorum: no new leader");
}

/*
 * kill -9 of the leader, five times: a new leader has committed its no-op
 * within the first follower timeout (at most 1.5T after the last
 * heartbeat) plus a pre-vote, a vote and an append round trip. A round
 * refused by stickiness, or two pre-candidates splitting the vote, costs
 * another timeout and fails this (raft_election.c: S < T, the pre-vote
 * tie-break).
 */
static void
scenario_failover(struct cluster *c)
{
	uint64_t bound = CL_ET_MS * 3 / 2 + CL_HB_MS + 6 * c->delay_max;

	for (int k = 0; k < 5 && !c->failed; k++) {
		uint64_t l = elect(c), t0, took;

		cl_run(c, 2 * CL_ET_MS);
		if ((l = cl_leader(c)) == 0)
			continue;
		cl_crash(c, l);
		t0 = c->now;
		if (!cl_run_until(c, LIVENESS_MS, other_leader, &l)) {
			cl_fail(c, "failover: no new leader");
			return;
		}
		took = c->now - t0;
		EXPECT(c, took <= bound, "failover: %llu ms to a new leader "
		    "(bound %llu)", (unsigned long long)took,
		    (unsigned long long)bound);
		cl_restart(c, l);
	}
}

static void
scenario_backtrack(struct cluster *c)
{
	uint64_t l = elect(c), nl, idx, rejects;

	/* The old leader appends entries no one else gets. */
	cl_isolate(c, l);
	for (int i = 0; i < 10; i++)
		cl_propose(c, l, 20);
	cl_run_until(c, LIVENESS_MS, other_leader, &l);
	nl = cl_leader(c);
	EXPECT(c, nl != l, "backtrack: isolated leader still leads");
	if (c->failed)
		return;
	/* The new majority writes a lot more in a newer term. */
	for (int i = 0; i < 10; i++) {
		cl_propose(c, nl, 25);
		cl_run(c, 20);
	}
	cl_run(c, 5 * CL_ET_MS);
	rejects = c->st.append_rejects;
	cl_heal(c);
	idx = cl_propose(c, cl_leader(c), 1);
	cl_run_until(c, LIVENESS_MS, applied_everywhere, &idx);
	EXPECT(c, cl_node(c, l)->disk.applied >= idx,
	    "backtrack: old leader never caught up");
	EXPECT(c, c->st.append_rejects - rejects <= 6,
	    "backtrack: %llu rejects for 200 conflicting entries",
	    (unsigned long long)(c->st.append_rejects - rejects));
}

static void
scenario_transfer(struct cluster *c)
{
	uint64_t l = elect(c), target, term, t0;
	int rc;

	cl_propose(c, l, 5);
	cl_run(c, 50);
	target = l % 3 + 1;
	term = raft_term(cl_node(c, l)->r);
	cl_tick(c, cl_node(c, l));
	rc = raft_transfer_leadership(cl_node(c, l)->r, target);
	EXPECT(c, rc == 0, "transfer: %s", err_str(rc));
	cl_process(c, cl_node(c, l));
	EXPECT(c, !raft_lease_valid(cl_node(c, l)->r, cl_local(c, cl_node(c, l))),
	    "transfer: lease kept while transferring");
	t0 = c->now;
	cl_run_until(c, CL_ET_MS, other_leader, &l);
	EXPECT(c, cl_leader(c) == target,
	    "transfer: leader is n%llu, wanted n%llu",
	    (unsigned long long)cl_leader(c), (unsigned long long)target);
	EXPECT(c, raft_term(cl_node(c, target)->r) == term + 1,
	    "transfer: took more than one term");
	EXPECT(c, c->now - t0 < CL_ET_MS, "transfer: slower than a timeout");
}

static void
scenario_snapshot(struct cluster *c)
{
	uint64_t l = elect(c), f, idx = 0;

	f = l % 3 + 1;
	cl_crash(c, f);
	for (int i = 0; i < 20; i++) {
		idx = cl_propose(c, l, 10);
		cl_run(c, 10);
	}
	cl_run(c, 200);
	cl_snapshot(c, l);
	EXPECT(c, cl_node(c, l)->disk.snap_index > 100,
	    "snapshot: leader did not snapshot");
	cl_restart(c, f);
	cl_run_until(c, LIVENESS_MS, applied_everywhere, &idx);
	EXPECT(c, cl_node(c, f)->disk.applied >= idx,
	    "snapshot: follower stuck at %llu < %llu",
	    (unsigned long long)cl_node(c, f)->disk.applied,
	    (unsigned long long)idx);
	EXPECT(c, c->st.snapshots_installed == 1,
	    "snapshot: %llu installs", (unsigned long long)c->st.snapshots_installed);
	EXPECT(c, c->st.snapshot_chunks > 2, "snapshot: not chunked");
}

static bool
is_voter(struct cluster *c, void *arg)
{
	uint64_t id = *(uint64_t *)arg, l = cl_leader(c);
	const struct raft_server *s;

	if (l == 0)
		return false;
	s = raft_conf_find(raft_configuration(cl_node(c, l)->r), id);
	return s != NULL && s->voter;
}

static void
scenario_promote(struct cluster *c)
{
	uint64_t l = elect(c), id = 4, idx = 0;
	const struct raft_server *s;
	int rc;

	for (int i = 0; i < 10; i++) {
		idx = cl_propose(c, l, 10);
		cl_run(c, 10);
	}
	cl_start(c, id);
	cl_tick(c, cl_node(c, l));
	rc = raft_add_server(cl_node(c, l)->r, id, "10.0.0.4:8300", true);
	EXPECT(c, rc == 0, "promote: add_server: %s", err_str(rc));
	s = raft_conf_find(raft_configuration(cl_node(c, l)->r), id);
	EXPECT(c, s != NULL && !s->voter, "promote: not added as non-voter");
	rc = raft_add_server(cl_node(c, l)->r, 5, "10.0.0.5:8300", true);
	EXPECT(c, rc == ERR_AGAIN, "promote: second change not refused: %s",
	    err_str(rc));
	cl_process(c, cl_node(c, l));
	{
		struct raft_peer_status ps;
		rc = raft_peer_status(cl_node(c, l)->r, id, &ps);
		EXPECT(c, rc == 0 && ps.promote_pending,
		    "promote: peer status %s", err_str(rc));
		EXPECT(c, raft_peer_status(cl_node(c, l)->r, 9, &ps) ==
		    ERR_NOTFOUND, "promote: status of an unknown peer");
	}
	cl_run_until(c, LIVENESS_MS, is_voter, &id);
	EXPECT(c, is_voter(c, &id), "promote: n4 never became a voter");
	EXPECT(c, cl_node(c, id)->disk.applied >= idx,
	    "promote: promoted before catching up");
	/* and the 4-voter cluster still commits */
	idx = cl_propose(c, cl_leader(c), 1);
	cl_run_until(c, LIVENESS_MS, applied_everywhere, &idx);
	EXPECT(c, applied_everywhere(c, &idx), "promote: no progress after");
}

static bool
leader_gone(struct cluster *c, void *arg)
{
	uint64_t id = *(uint64_t *)arg;

	return raft_role(cl_node(c, id)->r) != RAFT_LEADER;
}

static void
scenario_remove_leader(struct cluster *c)
{
	uint64_t l = elect(c), nl, idx, t0;
	int rc;

	cl_tick(c, cl_node(c, l));
	rc = raft_remove_server(cl_node(c, l)->r, l);
	EXPECT(c, rc == 0, "remove: %s", err_str(rc));
	cl_process(c, cl_node(c, l));
	cl_run_until(c, LIVENESS_MS, leader_gone, &l);
	EXPECT(c, raft_role(cl_node(c, l)->r) != RAFT_LEADER,
	    "remove: removed leader did not step down");
	EXPECT(c, raft_commit_index(cl_node(c, l)->r) >=
	    raft_last_index(cl_node(c, l)->r) - 0,
	    "remove: stepped down before committing its removal");
	t0 = c->now;
	cl_run_until(c, LIVENESS_MS, other_leader, &l);
	nl = cl_leader(c);
	EXPECT(c, nl != 0 && nl != l, "remove: no new leader");
	EXPECT(c, c->now - t0 < CL_ET_MS, "remove: no hand-over, a new "
	    "leader took %llu ms", (unsigned long long)(c->now - t0));
	if (c->failed)
		return;
	idx = cl_propose(c, nl, 1);
	cl_run(c, 10 * CL_ET_MS);
	EXPECT(c, cl_node(c, nl)->disk.applied >= idx,
	    "remove: two-server cluster does not commit");
	EXPECT(c, raft_role(cl_node(c, l)->r) == RAFT_FOLLOWER &&
	    c->st.elections_won <= 3, "remove: removed server campaigned");
}

static void
scenario_reads(struct cluster *c)
{
	uint64_t l = elect(c), ok;

	cl_run(c, 2 * CL_HB_MS);
	EXPECT(c, raft_lease_valid(cl_node(c, l)->r, cl_local(c, cl_node(c, l))),
	    "reads: no lease on a healthy leader");
	ok = c->st.reads_ok;
	cl_read(c, l);
	cl_run(c, 3 * CL_HB_MS);
	EXPECT(c, c->st.reads_ok == ok + 1, "reads: ReadIndex not answered");
	cl_isolate(c, l);
	cl_read(c, l);
	cl_run(c, CL_ET_MS);
	EXPECT(c, !raft_lease_valid(cl_node(c, l)->r, cl_local(c, cl_node(c, l))),
	    "reads: lease outlives an election timeout without acks");
	EXPECT(c, c->st.reads_ok == ok + 1,
	    "reads: isolated leader confirmed a read");
	cl_run(c, 3 * CL_ET_MS);
	EXPECT(c, c->st.reads_failed == 1, "reads: read not failed on "
	    "step-down");
	EXPECT(c, raft_read_index(cl_node(c, l)->r, 99) == ERR_NOTLEADER,
	    "reads: follower accepted ReadIndex");
}

static void
scenario_single(struct cluster *c)
{
	uint64_t l = elect(c), idx;

	EXPECT(c, l == 1, "single: server did not elect itself");
	idx = cl_propose(c, l, 3);
	cl_run(c, 20);
	EXPECT(c, cl_node(c, 1)->disk.applied == idx,
	    "single: not applied (%llu < %llu)",
	    (unsigned long long)cl_node(c, 1)->disk.applied,
	    (unsigned long long)idx);
	cl_read(c, l);
	cl_run(c, 5);
	EXPECT(c, c->st.reads_ok == 1, "single: read not answered");
}

/* One-way partition: the leader is heard but hears nothing back. */
static void
scenario_one_way(struct cluster *c)
{
	uint64_t l = elect(c), nl, idx;

	for (uint64_t k = 1; k <= c->n; k++)
		cl_block(c, k, l, true);
	cl_trace(c, "n%llu hears no one", (unsigned long long)l);
	/* check-quorum: no majority heard for 2T, checked every T/2 */
	cl_run(c, 5 * CL_ET_MS / 2 + CL_HB_MS);
	EXPECT(c, raft_role(cl_node(c, l)->r) != RAFT_LEADER,
	    "one-way: deaf leader n%llu did not step down",
	    (unsigned long long)l);
	cl_run_until(c, LIVENESS_MS, other_leader, &l);
	nl = cl_leader(c);
	EXPECT(c, nl != 0 && nl != l, "one-way: no new leader");
	if (c->failed)
		return;
	cl_heal(c);
	idx = cl_propose(c, nl, 1);
	cl_run_until(c, LIVENESS_MS, applied_everywhere, &idx);
	EXPECT(c, applied_everywhere(c, &idx), "one-way: old leader not back");
}

/* Writes not yet durable are lost at a crash, and were never counted. */
static void
scenario_unsynced(struct cluster *c)
{
	uint64_t l = elect(c), idx, commit;

	for (size_t i = 0; i < c->n; i++)
		if (c->nodes[i].id != l)
			c->nodes[i].disk_latency_min = 1000;
	cl_run(c, 5); /* one more beat of disk latency changes nothing */
	commit = raft_commit_index(cl_node(c, l)->r);
	idx = cl_propose(c, l, 3);
	cl_run(c, 60);
	EXPECT(c, raft_commit_index(cl_node(c, l)->r) == commit,
	    "unsynced: committed %llu with no follower durable",
	    (unsigned long long)raft_commit_index(cl_node(c, l)->r));
	for (size_t i = 0; i < c->n; i++)
		if (c->nodes[i].id != l) {
			EXPECT(c, c->nodes[i].writes != NULL,
			    "unsynced: n%llu has no pending write",
			    (unsigned long long)c->nodes[i].id);
			cl_crash(c, c->nodes[i].id);
			c->nodes[i].disk_latency_min = 0;
			cl_restart(c, c->nodes[i].id);
		}
	cl_run_until(c, LIVENESS_MS, applied_everywhere, &idx);
	EXPECT(c, applied_everywhere(c, &idx),
	    "unsynced: entries never committed after the restarts");
}

struct scenario {
	const char *name;
	void (*fn)(struct cluster *);
	size_t voters;
	size_t slots;
};

static const struct scenario scenarios[] = {
	{ "single-server", scenario_single, 1, 1 },
	{ "pre-vote", scenario_prevote, 3, 3 },
	{ "check-quorum", scenario_check_quorum, 3, 3 },
	{ "failover-time", scenario_failover, 3, 3 },
	{ "fast-backtracking", scenario_backtrack, 3, 3 },
	{ "leadership-transfer", scenario_transfer, 3, 3 },
	{ "snapshot-catch-up", scenario_snapshot, 3, 3 },
	{ "non-voter-promotion", scenario_promote, 3, 5 },
	{ "removed-leader-steps-down", scenario_remove_leader, 3, 3 },
	{ "read-index-and-lease", scenario_reads, 3, 3 },
	{ "one-way-partition", scenario_one_way, 3, 3 },
	{ "unsynced-writes-lost", scenario_unsynced, 3, 3 },
};

/* Every scenario under 20 seeds; or one (name) under one seed, traced. */
static int
run_scenarios(const char *only, uint64_t only_seed)
{
	bool found = false;

	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		int before = failures;
		if (only != NULL && strcmp(only, s->name) != 0)
			continue;
		found = true;
		for (uint64_t seed = 1; seed <= 20; seed++) {
			struct cluster c;
			if (only != NULL && only_seed != 0)
				seed = only_seed;
			cl_init(&c, seed, s->slots);
			c.verbose = only != NULL;
			cl_bootstrap(&c, s->voters);
			s->fn(&c);
			if (c.failed) {
				report(&c, s->name);
				printf("  replay: sim_raft --scenario %s "
				    "--seed %llu\n", s->name,
				    (unsigned long long)seed);
				cl_fini(&c);
				break;
			}
			cl_fini(&c);
			if (only != NULL && only_seed != 0)
				break;
		}
		printf("scenario %-28s %s\n", s->name,
		    failures > before ? "FAILED" : "ok");
	}
	if (!found)
		fprintf(stderr, "sim_raft: no scenario %s\n", only);
	return found && failures == 0 ? 0 : 1;
}

/* ---- the random sweep ----------------------------------------------- */

static uint64_t
pick(struct cluster *c, bool up)
{
	uint64_t ids[CL_MAX_NODES], n = 0;

	for (size_t i = 0; i < c->n; i++)
		if (c->nodes[i].exists && c->nodes[i].up == up)
			ids[n++] = c->nodes[i].id;
	return n ? ids[cl_rand(c) % n] : 0;
}

static void
random_partition(struct cluster *c)
{
	unsigned side[CL_MAX_NODES];

	for (size_t i = 0; i < c->n; i++)
		side[i] = cl_rand(c) % 2;
	for (size_t i = 0; i < c->n; i++)
		for (size_t k = 0; k < c->n; k++)
			c->blocked[i][k] = side[i] != side[k];
	cl_trace(c, "partition");
}

static void
random_membership(struct cluster *c, uint64_t l)
{
	struct raft *r = cl_node(c, l)->r;
	const struct raft_conf *conf = raft_configuration(r);
	uint64_t id = 1 + cl_rand(c) % c->n;
	char addr[64];
	int rc;

	cl_tick(c, cl_node(c, l));
	if (raft_conf_find(conf, id) == NULL) {
		cl_start(c, id);
		snprintf(addr, sizeof(addr), "10.0.0.%llu:8300",
		    (unsigned long long)id);
		rc = raft_add_server(r, id, addr, cl_rand(c) % 4 != 0);
		cl_trace(c, "n%llu add n%llu: %s", (unsigned long long)l,
		    (unsigned long long)id, err_str(rc));
	} else if (!raft_conf_find(conf, id)->voter && cl_rand(c) % 2) {
		rc = raft_promote(r, id);
		cl_trace(c, "n%llu promote n%llu: %s", (unsigned long long)l,
		    (unsigned long long)id, err_str(rc));
	} else if (conf->n > 2) {
		rc = raft_remove_server(r, id);
		cl_trace(c, "n%llu remove n%llu: %s", (unsigned long long)l,
		    (unsigned long long)id, err_str(rc));
	}
	cl_process(c, cl_node(c, l));
}

static void
random_event(struct cluster *c, bool membership, bool snapshots)
{
	unsigned x = (unsigned)(cl_rand(c) % 100);
	uint64_t l = cl_leader(c), id;

	/* sometimes ask any server: a deposed leader that does not know
	 * yet, a follower (ERR_NOTLEADER) */
	if (x < 35 || (x >= 86 && x < 93)) {
		if (cl_rand(c) % 3 == 0 && (id = pick(c, true)) != 0)
			l = id;
	}

	if (x < 35) {
		if (l)
			cl_propose(c, l, 1 + (unsigned)(cl_rand(c) % 4));
	} else if (x < 43) {
		if ((id = pick(c, true)) != 0)
			cl_crash(c, id);
	} else if (x < 53) {
		if ((id = pick(c, false)) != 0)
			cl_restart(c, id);
	} else if (x < 60) {
		random_partition(c);
	} else if (x < 65) {
		uint64_t a = 1 + cl_rand(c) % c->n, b = 1 + cl_rand(c) % c->n;
		cl_block(c, a, b, true);
		cl_trace(c, "block n%llu -> n%llu", (unsigned long long)a,
		    (unsigned long long)b);
	} else if (x < 73) {
		cl_heal(c);
	} else if (x < 78) {
		if (snapshots && (id = pick(c, true)) != 0)
			cl_snapshot(c, id);
	} else if (x < 82) {
		if (l) {
			struct raft *r = cl_node(c, l)->r;
			cl_tick(c, cl_node(c, l));
			int rc = raft_transfer_leadership(r,
			    cl_rand(c) % 2 ? 0 : 1 + cl_rand(c) % c->n);
			cl_trace(c, "n%llu transfer: %s", (unsigned long long)l,
			    err_str(rc));
			cl_process(c, cl_node(c, l));
		}
	} else if (x < 86) {
		if (membership && l)
			random_membership(c, l);
	} else if (x < 93) {
		if (l)
			cl_read(c, l);
	} else {
		c->loss_pct = (unsigned)(cl_rand(c) % 4 == 0 ? cl_rand(c) % 30 : 0);
		c->dup_pct = (unsigned)(cl_rand(c) % 10);
		c->delay_max = c->delay_min + (unsigned)(cl_rand(c) % 30);
		if ((id = pick(c, true)) != 0)
			cl_node(c, id)->disk_latency_max =
			    (unsigned)(cl_rand(c) % 20);
		cl_trace(c, "net loss %u%% dup %u%% delay <= %u", c->loss_pct,
		    c->dup_pct, c->delay_max);
	}
}

struct marker {
	uint64_t leader;
	uint64_t term;
	uint64_t index;
};

/* Liveness: a leader commits a fresh command on every voter. */
static bool
live(struct cluster *c, void *arg)
{
	struct marker *mk = arg;
	uint64_t l = cl_leader(c);
	const struct raft_conf *conf;
	struct raft *r;

	if (l == 0 || !raft_leader_ready(cl_node(c, l)->r))
		return false;
	r = cl_node(c, l)->r;
	if (mk->leader != l || mk->term != raft_term(r)) {
		mk->leader = l;
		mk->term = raft_term(r);
		mk->index = cl_propose(c, l, 1);
		return false;
	}
	if (mk->index == 0) { /* refused, e.g. during a transfer */
		mk->index = cl_propose(c, l, 1);
		return false;
	}
	conf = raft_configuration(r);
	for (size_t i = 0; i < conf->n; i++) {
		struct cl_node *nd = cl_node(c, conf->servers[i].id);
		if (conf->servers[i].voter &&
		    (nd == NULL || nd->disk.applied < mk->index))
			return false;
	}
	return true;
}

static bool
run_seed(uint64_t seed, bool verbose)
{
	struct cluster c;
	size_t voters = seed % 2 ? 3 : 5;
	bool membership = seed % 3 == 0;
	bool snapshots = seed % 4 != 1;
	uint64_t end;
	struct marker mk = { 0 };
	bool ok;

	cl_init(&c, seed, membership ? 7 : voters);
	c.verbose = verbose;
	c.fifo = seed % 5 < 3;
	c.max_inflight = 1 + (unsigned)(cl_rand(&c) % 8);
	c.max_batch_bytes = 64 + (size_t)(cl_rand(&c) % 4096);
	c.chunk_bytes = 16 + (size_t)(cl_rand(&c) % 200);
	c.snap_trailing = 1 + cl_rand(&c) % 30;
	c.snap_threshold = snapshots ? 10 + cl_rand(&c) % 60 : 100000;
	c.hb_ms = 10 + cl_rand(&c) % 36; /* heartbeat 1/10 .. 1/2.2 of ET */
	/* clocks running up to 4% fast or slow: the lease keeps 10% */
	if (seed % 2 == 0)
		for (size_t i = 0; i < c.n; i++)
			c.nodes[i].skew = (int)(cl_rand(&c) % 81) - 40;
	cl_bootstrap(&c, voters);
	end = c.now + 2000 + cl_rand(&c) % (long_run ? 20000 : 3000);
	while (c.now < end && !c.failed) {
		uint64_t next = c.now + 5 + cl_rand(&c) % 120;
		while (c.now < next && !c.failed)
			cl_step(&c, next);
		if (!c.failed)
			random_event(&c, membership, snapshots);
	}
	/* heal: everyone up, clean network */
	cl_heal(&c);
	c.loss_pct = c.dup_pct = 0;
	for (size_t i = 0; i < c.n; i++)
		if (c.nodes[i].exists && !c.nodes[i].up)
			cl_restart(&c, c.nodes[i].id);
	ok = cl_run_until(&c, LIVENESS_MS, live, &mk);
	if (!ok && !c.failed)
		cl_fail(&c, "liveness: no leader committing on all voters "
		    "within %d ms of healing (leader n%llu)", LIVENESS_MS,
		    (unsigned long long)cl_leader(&c));
	if (c.failed) {
		report(&c, "sweep");
		for (size_t i = 0; i < c.n; i++) {
			struct cl_node *nd = &c.nodes[i];
			const struct raft_conf *cf;
			if (!nd->up)
				continue;
			cf = raft_configuration(nd->r);
			printf("  n%llu %s term %llu last %llu commit %llu "
			    "applied %llu conf", (unsigned long long)nd->id,
			    raft_role_name(raft_role(nd->r)),
			    (unsigned long long)raft_term(nd->r),
			    (unsigned long long)raft_last_index(nd->r),
			    (unsigned long long)raft_commit_index(nd->r),
			    (unsigned long long)nd->disk.applied);
			for (size_t k = 0; k < cf->n; k++)
				printf(" %llu%s", (unsigned long long)
				    cf->servers[k].id,
				    cf->servers[k].voter ? "" : "(nv)");
			printf("\n");
		}
	}
	else if (verbose)
		printf("seed %llu ok: %llu msgs, %llu applied, %llu crashes, "
		    "%llu elections, %llu installs, %llu reads\n",
		    (unsigned long long)seed,
		    (unsigned long long)c.st.msgs_delivered,
		    (unsigned long long)c.st.applied,
		    (unsigned long long)c.st.crashes,
		    (unsigned long long)c.st.elections_won,
		    (unsigned long long)c.st.snapshots_installed,
		    (unsigned long long)c.st.reads_ok);
	ok = !c.failed;
	total.msgs_delivered += c.st.msgs_delivered;
	total.applied += c.st.applied;
	total.crashes += c.st.crashes;
	total.elections_won += c.st.elections_won;
	total.snapshots_installed += c.st.snapshots_installed;
	total.reads_ok += c.st.reads_ok;
	total.reads_failed += c.st.reads_failed;
	total.append_rejects += c.st.append_rejects;
	total.proposals += c.st.proposals;
	cl_fini(&c);
	return ok;
}

int
main(int argc, char **argv)
{
	uint64_t seeds = DEFAULT_SEEDS, one = 0;
	bool replay = false, quiet = false;
	const char *scenario = NULL;
	uint64_t first = 1;
	struct timespec t0, t1;
	double secs;
	uint64_t bad = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
			seeds = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			one = strtoull(argv[++i], NULL, 10);
			replay = true;
		} else if (strcmp(argv[i], "--long") == 0) {
			seeds = LONG_SEEDS;
			long_run = true; /* and fault phases up to 22 s */
		} else if (strcmp(argv[i], "--quiet") == 0)
			quiet = true;
		else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc)
			first = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--scenario") == 0 && i + 1 < argc)
			scenario = argv[++i];
		else {
			fprintf(stderr, "usage: sim_raft [--seeds N] "
			    "[--first S] [--seed S] [--long] [--quiet] "
			    "[--scenario NAME [--seed S]]\n");
			return 2;
		}
	}
	if (scenario != NULL)
		return run_scenarios(scenario, one);
	if (replay)
		return run_seed(one, true) ? 0 : 1;
	run_scenarios(NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t ran = 0;
	for (uint64_t s = first; s < first + seeds; s++, ran++) {
		if (!run_seed(s, false)) {
			bad++;
			if (bad >= 3)
				break;
		}
	}
	seeds = ran;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (!quiet || failures)
		printf("sim_raft: %llu seeds in %.1fs (%.0f seeds/s), "
		    "%d failures\n", (unsigned long long)seeds, secs,
		    secs > 0 ? (double)seeds / secs : 0.0, failures);
	if (!quiet)
		printf("  totals: %llu proposals, %llu applied, %llu messages, "
		    "%llu crashes, %llu elections, %llu snapshot installs, "
		    "%llu append rejects, %llu reads ok, %llu reads failed\n",
		    (unsigned long long)total.proposals,
		    (unsigned long long)total.applied,
		    (unsigned long long)total.msgs_delivered,
		    (unsigned long long)total.crashes,
		    (unsigned long long)total.elections_won,
		    (unsigned long long)total.snapshots_installed,
		    (unsigned long long)total.append_rejects,
		    (unsigned long long)total.reads_ok,
		    (unsigned long long)total.reads_failed);
	return failures ? 1 : 0;
}
