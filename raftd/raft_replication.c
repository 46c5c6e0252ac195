/*
 * raft_replication.c — the leader's side of log replication.
 *
 * Per follower a progress record in one of three states: PROBE (one
 * AppendEntries at a time until the logs are known to match), PIPELINE
 * (optimistic batches, at most max_inflight outstanding, each at most
 * max_batch_bytes) and SNAPSHOT (the follower needs entries already
 * compacted; see raft_snapshot.c). A reject moves back to PROBE at the
 * index computed from the follower's conflict hint (3.5). Heartbeats are
 * AppendEntries at next-1, so a lost batch shows up as a reject. The
 * leader counts itself only up to its own durable index, and commits only
 * entries of its own term by counting replicas (3.6.2). A new commit
 * index reaches the followers with the next AppendEntries; one that
 * carries nothing else is sent only if none went within commit_notify_ms
 * (2 ms), so at one client the next write's entries carry it and no
 * follower answers a commit-only message between two writes (each of
 * those answers woke the leader while the next request was on its way;
 * hashicorp/raft waits up to its CommitTimeout, 50 ms). Check-quorum: a
 * leader that did not hear from a majority within an election timeout
 * steps down (6.2). Reference: Ongaro 2014, 3.5, 3.6.2, 6.2, 10.2.1;
 * etcd raft's Progress/Inflights.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "raft_int.h"

void
raft_replication_reset(struct raft *r)
{
	for (size_t i = 0; i < r->n_prog; i++)
		free(r->prog[i].inflight);
	r->n_prog = 0;
}

struct raft_progress *
raft_replication_find(struct raft *r, uint64_t id)
{
	for (size_t i = 0; i < r->n_prog; i++)
		if (r->prog[i].id == id)
			return &r->prog[i];
	return NULL;
}

static int
progress_init(struct raft *r, struct raft_progress *p, uint64_t id)
{
	memset(p, 0, sizeof(*p));
	p->inflight = calloc(r->cfg.max_inflight, sizeof(*p->inflight));
	if (p->inflight == NULL)
		return ERR_NOMEM;
	p->id = id;
	p->state = RAFT_PROGRESS_PROBE;
	p->next = raft_log_last(&r->log) + 1;
	p->last_contact_ms = r->now;
	return 0;
}

/* Makes the progress records match the latest configuration. */
int
raft_replication_sync_progress(struct raft *r)
{
	struct raft_progress *np;
	size_t n = 0;

	np = calloc(r->conf.n ? r->conf.n : 1, sizeof(*np));
	if (np == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < r->conf.n; i++) {
		uint64_t id = r->conf.servers[i].id;
		struct raft_progress *old;

		if (id == r->id)
			continue;
		if ((old = raft_replication_find(r, id)) != NULL) {
			np[n++] = *old;
			old->inflight = NULL;
		} else if (progress_init(r, &np[n++], id) != 0) {
			for (size_t k = 0; k + 1 < n; k++)
				free(np[k].inflight);
			free(np);
			return ERR_NOMEM;
		}
	}
	raft_replication_reset(r);
	free(r->prog);
	r->prog = np;
	r->n_prog = n;
	return 0;
}

int
raft_replication_append(struct raft *r, enum raft_entry_type type,
    const void *data, size_t len, uint64_t *index)
{
	uint64_t i = raft_log_last(&r->log) + 1;
	int rc;

	if ((rc = raft_log_append(&r->log, r->term, i, type, data, len)) != 0)
		return rc;
	if (r->persist_from == 0)
		r->persist_from = i;
	if (type == RAFT_ENTRY_CONF &&
	    (rc = raft_membership_conf_changed(r)) != 0)
		return rc;
	if (index != NULL)
		*index = i;
	return 0;
}

/* Sends AppendEntries from p->next (entries only if with_entries). */
static uint64_t
send_append(struct raft *r, struct raft_progress *p, bool with_entries)
{
	struct raft_message *m;
	struct raft_msg_append *a;
	uint64_t last = raft_log_last(&r->log), n = 0;
	size_t bytes = 0;

	if ((m = raft_msg_new(r, RAFT_MSG_APPEND, p->id)) == NULL)
		return 0;
	a = &m->u.append;
	a->prev_index = p->next - 1;
	a->prev_term = raft_log_term(&r->log, a->prev_index);
	a->commit = r->commit;
	if (r->commit > p->commit_sent)
		p->commit_sent = r->commit;
	a->seq = ++r->seq;
	a->send_ms = r->now;
	if (with_entries && p->next <= last) {
		a->entries = raft_log_get(&r->log, p->next);
		while (p->next + n <= last &&
		    (n == 0 || bytes < r->cfg.max_batch_bytes)) {
			bytes += a->entries[n].len + 32;
			n++;
		}
		a->n_entries = n;
	}
	return n;
}

static void
flush_one(struct raft *r, struct raft_progress *p)
{
	uint64_t last = raft_log_last(&r->log);
	bool sent = false;

	/* The entry before next (whose term AppendEntries must carry) or
	 * next itself was compacted away: only a snapshot helps. */
	if (p->state != RAFT_PROGRESS_SNAPSHOT &&
	    (p->next < raft_log_first(&r->log) || (p->next > 1 &&
	    raft_log_term(&r->log, p->next - 1) == 0))) {
		p->state = RAFT_PROGRESS_SNAPSHOT;
		p->snap_index = 0;
		p->snap_sent = false;
	}
	switch (p->state) {
	case RAFT_PROGRESS_SNAPSHOT:
		if (!p->snap_sent || r->heartbeat_due)
			raft_snapshot_send(r, p);
		return;
	case RAFT_PROGRESS_PROBE:
		if (!p->probe_sent || r->heartbeat_due) {
			send_append(r, p, true);
			p->probe_sent = true;
		}
		return;
	case RAFT_PROGRESS_PIPELINE:
		while (p->next <= last && p->n_inflight < r->cfg.max_inflight) {
			uint64_t n = send_append(r, p, true);
			if (n == 0)
				break;
			p->next += n;
			p->inflight[p->n_inflight++] = p->next - 1;
			sent = true;
		}
		if (!sent && (r->heartbeat_due ||
		    (r->commit_due && p->commit_sent < r->commit)))
			send_append(r, p, false);
		return;
	}
}

void
raft_replication_flush(struct raft *r)
{
	for (size_t i = 0; i < r->n_prog; i++)
		flush_one(r, &r->prog[i]);
	r->heartbeat_due = false;
	r->commit_due = false;
}

static void
progress_release(struct raft_progress *p, uint64_t upto)
{
	unsigned k = 0;

	while (k < p->n_inflight && p->inflight[k] <= upto)
		k++;
	if (k == 0)
		return;
	memmove(p->inflight, p->inflight + k,
	    (p->n_inflight - k) * sizeof(*p->inflight));
	p->n_inflight -= k;
}

static void
recv_reject(struct raft *r, struct raft_progress *p,
    const struct raft_msg_append_result *res)
{
	uint64_t next;

	if (res->rejected <= p->match)
		return; /* stale */
	if (p->state == RAFT_PROGRESS_PROBE && res->rejected != p->next - 1)
		return; /* answers an older probe */
	if (p->state == RAFT_PROGRESS_SNAPSHOT)
		return;
	next = res->conflict_index;
	if (res->conflict_term != 0) {
		uint64_t li = raft_log_last_of_term(&r->log, res->conflict_term);
		if (li != 0)
			next = li + 1;
	}
	if (next > res->rejected)
		next = res->rejected;
	if (next > raft_log_last(&r->log) + 1)
		next = raft_log_last(&r->log) + 1;
	if (next <= p->match)
		next = p->match + 1;
	if (next == 0)
		next = 1;
	p->next = next;
	p->state = RAFT_PROGRESS_PROBE;
	p->n_inflight = 0;
	p->probe_sent = false;
}

void
raft_replication_recv_result(struct raft *r, const struct raft_message *m)
{
	const struct raft_msg_append_result *res = &m->u.append_result;
	struct raft_progress *p;

	if (r->role != RAFT_LEADER || m->term != r->term)
		return;
	if ((p = raft_replication_find(r, m->from)) == NULL)
		return;
	p->last_contact_ms = r->now;
	if (res->seq > p->acked_seq && res->seq <= r->seq) {
		p->acked_seq = res->seq;
		p->acked_send_ms = res->send_ms;
		raft_read_acked(r);
	}
	if (!res->success) {
		recv_reject(r, p, res);
		return;
	}
	if (res->match > p->match && res->match <= raft_log_last(&r->log))
		p->match = res->match;
	if (p->state == RAFT_PROGRESS_SNAPSHOT)
		return;
	if (res->last_index + 1 > p->next &&
	    res->last_index <= raft_log_last(&r->log))
		p->next = res->last_index + 1;
	if (p->match + 1 > p->next)
		p->next = p->match + 1;
	progress_release(p, res->last_index);
	if (p->state == RAFT_PROGRESS_PROBE) {
		p->state = RAFT_PROGRESS_PIPELINE;
		p->n_inflight = 0;
	}
	p->probe_sent = false;
	raft_replication_maybe_commit(r);
}

static int
cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

void
raft_replication_maybe_commit(struct raft *r)
{
	uint64_t m[RAFT_SERVERS_MAX], n = 0, q, c;

	if (r->role != RAFT_LEADER)
		return;
	for (size_t i = 0; i < r->conf.n; i++) {
		const struct raft_server *s = &r->conf.servers[i];
		struct raft_progress *p;

		if (!s->voter)
			continue;
		if (s->id == r->id)
			m[n++] = r->persisted;
		else if ((p = raft_replication_find(r, s->id)) != NULL)
			m[n++] = p->match;
		else
			m[n++] = 0;
	}
	q = raft_quorum(r);
	if (n < q)
		return;
	qsort(m, n, sizeof(m[0]), cmp_desc);
	c = m[q - 1];
	if (c <= r->commit || raft_log_term(&r->log, c) != r->term)
		return;
	r->commit = c;
	if (r->commit_notify_at == 0 && r->n_prog > 0)
		r->commit_notify_at = r->now + r->cfg.commit_notify_ms;
	raft_read_acked(r);
	raft_membership_committed(r);
}

/*
 * Heartbeats and check-quorum. The leader steps down when no majority
 * answered within 2T, checked every T/2: it gives up within 2T to 2.5T
 * of losing its majority (the lease, 0.8T, has long ended by then, so
 * this is about answering "No cluster leader" on the cut-off side, not
 * about safety), and a leader whose process was merely starved of CPU
 * for up to 2T on a loaded machine, its followers' answers waiting in
 * its socket, keeps leading instead of costing an election.
 */
void
raft_replication_tick(struct raft *r)
{
	uint64_t window = 2 * r->cfg.election_timeout_ms;

	if (r->commit_notify_at != 0 && r->now >= r->commit_notify_at) {
		r->commit_due = true;
		r->commit_notify_at = 0;
	}
	if (r->now >= r->heartbeat_deadline) {
		r->heartbeat_due = true;
		r->heartbeat_deadline = r->now + r->cfg.heartbeat_ms;
	}
	if (r->now >= r->check_quorum_deadline) {
		uint64_t heard = 0;
		uint64_t since = r->now > window ? r->now - window : 0;

		r->check_quorum_deadline = r->now +
		    r->cfg.election_timeout_ms / 2;
		for (size_t i = 0; i < r->conf.n; i++) {
			const struct raft_server *s = &r->conf.servers[i];
			struct raft_progress *p;

			if (!s->voter)
				continue;
			if (s->id == r->id)
				heard++;
			else if ((p = raft_replication_find(r, s->id)) &&
			    p->last_contact_ms >= since)
				heard++;
		}
		if (heard < raft_quorum(r))
			raft_become_follower(r, r->term, 0);
	}
}

int
raft_peer_status(const struct raft *r, uint64_t id,
    struct raft_peer_status *out)
{
	if (r->role != RAFT_LEADER)
		return ERR_NOTLEADER;
	for (size_t i = 0; i < r->n_prog; i++) {
		const struct raft_progress *p = &r->prog[i];
		if (p->id != id)
			continue;
		out->match_index = p->match;
		out->next_index = p->next;
		out->last_contact_ms = r->now - p->last_contact_ms;
		out->snapshotting = p->state == RAFT_PROGRESS_SNAPSHOT;
		out->promote_pending = p->promote;
		return 0;
	}
	return ERR_NOTFOUND;
}
