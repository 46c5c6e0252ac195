/*
 * raft_election.c — election timers, pre-vote and role conversions.
 *
 * A follower whose randomized timeout ([T, 1.5T) after it last heard a
 * leader) expires first runs a pre-vote round (dissertation 9.6): it
 * asks for votes in term+1 without changing its own term, and only a
 * majority of pre-votes lets it start a real election. Servers that heard
 * from a leader within the stickiness S = 0.9T refuse both (leader
 * stickiness, 4.2.3), so a server rejoining from a partition cannot
 * depose a healthy leader. TimeoutNow (3.10) skips the pre-vote and the
 * stickiness. A server that is the only voter of its configuration (a
 * single server, -dev) and follows no leader campaigns at its first tick
 * and wins alone. Reference: Ongaro 2014, 3.4, 4.2.3, 9.6; etcd raft's
 * PreVote/CheckQuorum.
 *
 * The timings, all from the election timeout T, and why (kill -9 of a
 * leader to the first write a new one acknowledges is about the first
 * follower timeout plus one round; bench/RESULTS.md "failover"):
 *   lease L = 0.8T < stickiness S = 0.9T < first timeout >= T.
 *   L < S: the lease rests on the voters' refusal (raft_read.c), less a
 *   tenth of T for clock drift. S < T: when the first follower times out,
 *   the others' stickiness has ended even if they heard the last
 *   heartbeat up to 0.1T later than it, so the round is not refused and
 *   lost for a whole timeout (it was with S = T).
 *   Retry: a pre-vote or vote round that has not won is tried again after
 *   [T/2, T), not [T, 1.5T): it only follows a round that nobody was
 *   sticky enough to refuse outright, and candidates are never refused
 *   because of it (stickiness is the voters' own clock).
 *   Split votes: of two pre-candidates with equally up-to-date logs only
 *   the one with the higher id gets the other's pre-vote, so two servers
 *   whose timers fire within a round trip do not both stand and split the
 *   vote (one whose timer fires later finds the other a candidate
 *   already, which refuses its pre-vote, and then grants its real vote).
 *   Granting a pre-vote does not reset the granter's timer: a server
 *   that cannot hear answers (a one-way partition) would hold every
 *   election back with its retries.
 *   Check-quorum: 2T without a majority (raft_replication.c).
 * None of this weakens safety: votes, terms and the log checks are
 * unchanged; only when a server campaigns, and which pre-votes (which
 * bind nothing) it grants.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "raft_int.h"

static uint64_t
election_random(struct raft *r)
{
	uint64_t x;

	if (r->cfg.random != NULL)
		return r->cfg.random(r->cfg.random_arg);
	x = r->rng; /* xorshift64* */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/*
 * [T, 1.5T) rather than the paper's [T, 2T): no election can finish
 * before S after the last heartbeat anyway (voters are sticky, the lease
 * rests on it), so the jitter only adds to a failover; half of T still
 * spreads the candidates far wider than a vote round trip on a LAN, and
 * the pre-vote tie-break (raft_recv_vote.c) settles the rest. With two
 * followers the first timeout comes at 1.17T on average, never after
 * 1.5T.
 */
void
raft_election_reset_timer(struct raft *r)
{
	uint64_t t = r->cfg.election_timeout_ms;

	r->election_deadline = r->now + t + election_random(r) % (t / 2 + 1);
}

/* A round that has not won by [T/2, T) from its start is tried again. */
static void
election_round_timer(struct raft *r)
{
	uint64_t t = r->cfg.election_timeout_ms;

	r->election_deadline = r->now + t / 2 +
	    election_random(r) % (t - t / 2 + 1);
}

uint64_t
raft_sticky_ms(const struct raft *r)
{
	return r->cfg.election_timeout_ms - r->cfg.election_timeout_ms / 10;
}

uint64_t
raft_lease_ms(const struct raft *r)
{
	return raft_sticky_ms(r) - r->cfg.election_timeout_ms / 10;
}

/* True if a leader was heard from within the stickiness S. */
bool
raft_election_sticky(const struct raft *r)
{
	if (r->role == RAFT_LEADER)
		return true;
	return r->now < r->last_heard_leader + raft_sticky_ms(r);
}

bool
raft_election_won(const struct raft *r)
{
	uint64_t votes = 0;

	for (size_t i = 0; i < r->n_granted; i++)
		if (raft_is_voter(r, r->granted[i]))
			votes++;
	return votes >= raft_quorum(r);
}

static void
election_set_role(struct raft *r, enum raft_role role, uint64_t leader)
{
	if (r->role != role || r->leader != leader)
		r->role_changed = true;
	r->role = role;
	r->leader = leader;
}

void
raft_election_start(struct raft *r, bool prevote, bool transfer)
{
	uint64_t term = r->term + 1;

	if (!raft_membership_may_campaign(r)) {
		raft_election_reset_timer(r);
		return;
	}
	election_round_timer(r);
	if (prevote) {
		election_set_role(r, RAFT_PRECANDIDATE, 0);
	} else {
		raft_set_term(r, term);
		r->vote = r->id;
		r->hs_dirty = true;
		election_set_role(r, RAFT_CANDIDATE, 0);
	}
	r->granted[0] = r->id;
	r->n_granted = 1;
	if (raft_election_won(r)) {
		if (prevote)
			raft_election_start(r, false, false);
		else
			raft_become_leader(r);
		return;
	}
	for (size_t i = 0; i < r->conf.n; i++) {
		const struct raft_server *s = &r->conf.servers[i];
		struct raft_message *m;

		if (s->id == r->id || !s->voter)
			continue;
		if ((m = raft_msg_new(r, RAFT_MSG_VOTE, s->id)) == NULL)
			continue;
		m->term = term;
		m->u.vote.last_log_index = raft_log_last(&r->log);
		m->u.vote.last_log_term = raft_log_last_term(&r->log);
		m->u.vote.prevote = prevote;
		m->u.vote.transfer = transfer;
	}
}

static void
election_leave_leader(struct raft *r)
{
	raft_read_fail_all(r);
	raft_replication_reset(r);
	r->transfer_target = 0;
	r->transfer_sent = false;
	r->noop_index = 0;
	r->heartbeat_due = false;
	r->commit_due = false;
	r->commit_notify_at = 0;
}

void
raft_become_follower(struct raft *r, uint64_t term, uint64_t leader)
{
	if (r->role == RAFT_LEADER)
		election_leave_leader(r);
	if (term > r->term)
		raft_set_term(r, term);
	election_set_role(r, RAFT_FOLLOWER, leader);
	r->n_granted = 0;
	raft_election_reset_timer(r);
}

void
raft_become_leader(struct raft *r)
{
	uint64_t index;

	election_set_role(r, RAFT_LEADER, r->id);
	r->n_granted = 0;
	r->transfer_target = 0;
	r->transfer_sent = false;
	r->check_quorum_deadline = r->now + r->cfg.election_timeout_ms;
	r->heartbeat_deadline = r->now + r->cfg.heartbeat_ms;
	r->heartbeat_due = true;
	if (raft_replication_sync_progress(r) != 0 ||
	    raft_replication_append(r, RAFT_ENTRY_NOOP, NULL, 0, &index) != 0) {
		/* Out of memory: give the term up rather than lead badly. */
		raft_become_follower(r, r->term, 0);
		return;
	}
	r->noop_index = index;
}

/* The configuration's only voter is this server: nobody else can lead. */
static bool
election_alone(const struct raft *r)
{
	size_t voters = 0;

	for (size_t i = 0; i < r->conf.n; i++)
		if (r->conf.servers[i].voter)
			voters++;
	return voters == 1 && raft_is_voter(r, r->id);
}

void
raft_election_tick(struct raft *r)
{
	/* a single voter that follows no leader (it just started) elects
	 * itself at once; one that followed a leader until its
	 * configuration shrank waits the timeout out like anyone, so that
	 * leader's lease ends first (6.4.1) */
	if (r->now < r->election_deadline &&
	    !(r->leader == 0 && election_alone(r)))
		return;
	/* Followers, and candidates whose round failed, try again. */
	raft_election_start(r, true, false);
}
