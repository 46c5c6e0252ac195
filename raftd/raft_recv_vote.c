/*
 * raft_recv_vote.c — RequestVote (and pre-vote) requests and results.
 *
 * A vote is granted to a candidate whose log is at least as up to date
 * (3.6.1), once per term, and the vote is durable before the reply is
 * sent (the update's hard state is written before its messages). A
 * pre-vote changes nothing locally. Both are refused while a leader is
 * being heard from (4.2.3), in any term, unless the request follows a
 * TimeoutNow: the leader lease (6.4.1) rests on that refusal. Pre-votes
 * bind nothing, so the rule for a quick failover touches them only: the
 * tie-break between pre-candidates (raft_election.c says why).
 * Reference: Ongaro 2014, 3.4, 3.6.1, 4.2.3, 9.6.
 */
#include "err.h"
#include "raft_int.h"

static bool
vote_log_ok(const struct raft *r, const struct raft_msg_vote *v)
{
	uint64_t lt = raft_log_last_term(&r->log);

	if (v->last_log_term != lt)
		return v->last_log_term > lt;
	return v->last_log_index >= raft_log_last(&r->log);
}

/*
 * Two pre-candidates of the same round with equally up-to-date logs
 * (their timers fired within a round trip): only the one with the higher
 * id gets the other's pre-vote, so they do not both stand and split the
 * real vote. With different logs the log check alone decides, so one of
 * them is always approved by the other.
 */
static bool
prevote_yields(const struct raft *r, const struct raft_message *m)
{
	const struct raft_msg_vote *v = &m->u.vote;

	return r->role == RAFT_PRECANDIDATE && m->term == r->term + 1 &&
	    v->last_log_term == raft_log_last_term(&r->log) &&
	    v->last_log_index == raft_log_last(&r->log) && m->from < r->id;
}

static void
vote_reply(struct raft *r, const struct raft_message *m, bool granted)
{
	struct raft_message *out;

	if ((out = raft_msg_new(r, RAFT_MSG_VOTE_RESULT, m->from)) == NULL)
		return;
	/* A granted pre-vote answers in the term asked about. */
	out->term = (granted && m->u.vote.prevote) ? m->term : r->term;
	out->u.vote_result.granted = granted;
	out->u.vote_result.prevote = m->u.vote.prevote;
}

void
raft_recv_vote(struct raft *r, const struct raft_message *m)
{
	const struct raft_msg_vote *v = &m->u.vote;
	bool sticky = raft_election_sticky(r) && !v->transfer;

	if (v->prevote) {
		/* the timer is left alone: a server that cannot hear the
		 * answers (one-way partition) would otherwise hold every
		 * election back with its retried pre-votes */
		vote_reply(r, m, m->term > r->term && !sticky &&
		    vote_log_ok(r, v) && !prevote_yields(r, m));
		return;
	}
	/* Stickiness whatever the term: a server may have reached the
	 * candidate's term without a vote (a rejected pre-vote answer
	 * carries the term), and a leader's lease counts on its refusal. */
	if (sticky && !(m->term == r->term && r->vote == m->from)) {
		vote_reply(r, m, false);
		return;
	}
	if (m->term > r->term)
		raft_become_follower(r, m->term, 0);
	if (m->term < r->term) {
		vote_reply(r, m, false);
		return;
	}
	if ((r->vote == 0 || r->vote == m->from) && vote_log_ok(r, v)) {
		if (r->role != RAFT_FOLLOWER)
			raft_become_follower(r, r->term, 0);
		if (r->vote != m->from) {
			r->vote = m->from;
			r->hs_dirty = true;
		}
		raft_election_reset_timer(r);
		vote_reply(r, m, true);
		return;
	}
	vote_reply(r, m, false);
}

void
raft_recv_vote_result(struct raft *r, const struct raft_message *m)
{
	const struct raft_msg_vote_result *v = &m->u.vote_result;

	if (m->term > r->term && !(v->prevote && v->granted)) {
		/* Someone is in a later term: join it. */
		raft_become_follower(r, m->term, 0);
		return;
	}
	if (!v->granted)
		return;
	if (v->prevote) {
		if (r->role != RAFT_PRECANDIDATE || m->term != r->term + 1)
			return;
	} else if (r->role != RAFT_CANDIDATE || m->term != r->term) {
		return;
	}
	for (size_t i = 0; i < r->n_granted; i++)
		if (r->granted[i] == m->from)
			return;
	if (r->n_granted >= RAFT_SERVERS_MAX)
		return;
	r->granted[r->n_granted++] = m->from;
	if (!raft_election_won(r))
		return;
	if (v->prevote)
		raft_election_start(r, false, false);
	else
		raft_become_leader(r);
}
