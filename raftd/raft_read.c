/*
 * raft_read.c — linearizable reads: ReadIndex and the leader lease.
 *
 * ReadIndex (6.4): the leader records its commit index (at least its
 * term's no-op), sends a heartbeat round, and answers once a majority
 * acknowledged a message sent after the request (AppendEntries carry a
 * sequence number that followers echo) and the no-op committed; the
 * caller serves the read once its state machine applied that index.
 * Lease (6.4.1): followers refuse votes for S = 0.9T after hearing from
 * a leader (T the election timeout), so a leader whose heartbeat sent at
 * time t was acknowledged by a majority stays the only leader until
 * t + S; we give up another tenth of T for clock drift (L = 0.8T,
 * raft_lease_ms), and the lease ends for good once TimeoutNow was sent. Reference: Ongaro 2014, 6.4.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "raft_int.h"

int
raft_read_index(struct raft *r, uint64_t ctx)
{
	struct raft_pending_read *pr;

	if (r->role != RAFT_LEADER)
		return ERR_NOTLEADER;
	if (r->n_pending == r->cap_pending) {
		size_t cap = r->cap_pending ? r->cap_pending * 2 : 16;
		pr = realloc(r->pending, cap * sizeof(*pr));
		if (pr == NULL)
			return ERR_NOMEM;
		r->pending = pr;
		r->cap_pending = cap;
	}
	pr = &r->pending[r->n_pending++];
	pr->ctx = ctx;
	pr->index = r->commit > r->noop_index ? r->commit : r->noop_index;
	pr->seq = r->seq + 1;
	r->heartbeat_due = true;
	raft_read_acked(r);
	return 0;
}

/* Voters (self included) that acknowledged a message with seq >= seq. */
static bool
read_confirmed(struct raft *r, uint64_t seq)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->conf.n; i++) {
		const struct raft_server *s = &r->conf.servers[i];
		struct raft_progress *p;

		if (!s->voter)
			continue;
		if (s->id == r->id)
			n++;
		else if ((p = raft_replication_find(r, s->id)) != NULL &&
		    p->acked_seq >= seq)
			n++;
	}
	return n >= raft_quorum(r);
}

void
raft_read_acked(struct raft *r)
{
	size_t k = 0;

	if (r->role != RAFT_LEADER || !raft_leader_ready(r))
		return;
	for (size_t i = 0; i < r->n_pending; i++) {
		struct raft_pending_read *pr = &r->pending[i];
		if (read_confirmed(r, pr->seq))
			raft_read_result(r, pr->ctx, pr->index, 0);
		else
			r->pending[k++] = *pr;
	}
	r->n_pending = k;
}

void
raft_read_fail_all(struct raft *r)
{
	for (size_t i = 0; i < r->n_pending; i++)
		raft_read_result(r, r->pending[i].ctx, 0, ERR_NOTLEADER);
	r->n_pending = 0;
}

static int
cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

bool
raft_lease_valid(const struct raft *r, uint64_t now_ms)
{
	uint64_t t[RAFT_SERVERS_MAX], n = 0, q;
	uint64_t span = raft_lease_ms(r);

	if (!raft_leader_ready(r) || r->lease_lost || r->transfer_target != 0)
		return false;
	for (size_t i = 0; i < r->conf.n; i++) {
		const struct raft_server *s = &r->conf.servers[i];
		const struct raft_progress *p = NULL;

		if (!s->voter)
			continue;
		if (s->id == r->id) {
			t[n++] = now_ms;
			continue;
		}
		for (size_t k = 0; k < r->n_prog; k++)
			if (r->prog[k].id == s->id)
				p = &r->prog[k];
		t[n++] = p ? p->acked_send_ms : 0;
	}
	q = raft_quorum(r);
	if (n < q)
		return false;
	qsort(t, n, sizeof(t[0]), cmp_desc);
	return t[q - 1] != 0 && now_ms < t[q - 1] + span;
}
