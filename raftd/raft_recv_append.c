/*
 * raft_recv_append.c — AppendEntries on a follower.
 *
 * The log matching check of Figure 3.1, with two refinements: a reject
 * names the conflicting term and the first index the follower holds for
 * it, so the leader skips a whole term per round trip (3.5); and a
 * success acknowledges only entries that raft_persisted() reported
 * durable (min(persisted, known_match)), with a second acknowledgement
 * sent when the disk catches up. When the disk was idle and the batch
 * brings new entries, the first acknowledgement is not sent: it would
 * tell the leader nothing the second one, due one sync later, does not,
 * and at one client it cost a TCP send on the follower and a wake-up of
 * the leader between the AppendEntries and the follower's sync (the
 * leader's flow-control window and lease wait one sync longer; under
 * load, when a sync is already running, both acknowledgements still
 * go). Entries at or below the follower's
 * snapshot are committed and so match any leader's. Configuration
 * entries take effect as soon as they are appended (4.1) and are undone
 * if truncated. Reference: Ongaro 2014, 3.5, 4.1, 10.2.1.
 */
#include "err.h"
#include "raft_int.h"

static uint64_t
append_ack_index(const struct raft *r)
{
	uint64_t km = r->known_match > r->commit ? r->known_match : r->commit;

	if (km > raft_log_last(&r->log))
		km = raft_log_last(&r->log);
	return r->persisted < km ? r->persisted : km;
}

static void
append_reply(struct raft *r, uint64_t to, bool success, uint64_t rejected)
{
	struct raft_message *out;
	struct raft_msg_append_result *res;

	if ((out = raft_msg_new(r, RAFT_MSG_APPEND_RESULT, to)) == NULL)
		return;
	res = &out->u.append_result;
	res->success = success;
	res->seq = r->leader_seq;
	res->send_ms = r->leader_send_ms;
	if (success) {
		res->match = append_ack_index(r);
		res->last_index = r->known_match;
		if (res->match > r->acked)
			r->acked = res->match;
		return;
	}
	res->rejected = rejected;
	res->last_index = raft_log_last(&r->log);
	if (rejected <= raft_log_last(&r->log)) {
		res->conflict_term = raft_log_term(&r->log, rejected);
		res->conflict_index = raft_log_first_of_term(&r->log, rejected);
		if (res->conflict_index <= r->commit)
			res->conflict_index = r->commit + 1;
	} else {
		res->conflict_index = raft_log_last(&r->log) + 1;
	}
}

/* Called when the log became more durable: acknowledge to the leader. */
void
raft_recv_append_ack(struct raft *r)
{
	if (r->role != RAFT_FOLLOWER || r->leader == 0)
		return;
	if (append_ack_index(r) > r->acked)
		append_reply(r, r->leader, true, 0);
}

/* Deletes entries >= index; the stored log must follow. */
static int
append_truncate(struct raft *r, uint64_t index)
{
	bool conf_lost = r->conf_index >= index;

	raft_log_truncate(&r->log, index);
	if (r->truncate_from == 0 || index < r->truncate_from)
		r->truncate_from = index;
	if (r->persist_from > index)
		r->persist_from = index;
	if (r->persisted >= index)
		r->persisted = index - 1;
	if (conf_lost)
		return raft_membership_conf_changed(r);
	return 0;
}

static int
append_entries(struct raft *r, const struct raft_msg_append *a,
    uint64_t prev)
{
	for (size_t i = 0; i < a->n_entries; i++) {
		const struct raft_entry *e = &a->entries[i];
		int rc;

		if (e->index <= prev)
			continue; /* at or below our snapshot: committed */
		if (e->index <= raft_log_last(&r->log)) {
			if (raft_log_term(&r->log, e->index) == e->term)
				continue;
			if (e->index <= r->commit)
				return ERR_CORRUPT; /* would undo a commit */
			if ((rc = append_truncate(r, e->index)) != 0)
				return rc;
		}
		rc = raft_log_append(&r->log, e->term, e->index, e->type,
		    e->data, e->len);
		if (rc != 0)
			return rc;
		if (r->persist_from == 0)
			r->persist_from = e->index;
		if (e->type == RAFT_ENTRY_CONF &&
		    (rc = raft_membership_conf_changed(r)) != 0)
			return rc;
	}
	return 0;
}

/* Malformed batches are dropped whole (the wire codec checks too). */
static bool
append_well_formed(const struct raft_message *m)
{
	const struct raft_msg_append *a = &m->u.append;

	if (a->n_entries > 0 && a->entries == NULL)
		return false;
	if (a->prev_index > UINT64_MAX - a->n_entries - 1)
		return false;
	for (size_t i = 0; i < a->n_entries; i++) {
		const struct raft_entry *e = &a->entries[i];
		struct raft_conf c;

		if (e->index != a->prev_index + 1 + i || e->term == 0 ||
		    e->term > m->term || (e->len > 0 && e->data == NULL))
			return false;
		if (i > 0 && e->term < a->entries[i - 1].term)
			return false;
		switch (e->type) {
		case RAFT_ENTRY_NORMAL:
		case RAFT_ENTRY_NOOP:
			break;
		case RAFT_ENTRY_CONF:
			if (raft_conf_decode(&c, e->data, e->len) != 0)
				return false;
			raft_conf_fini(&c);
			break;
		default:
			return false;
		}
	}
	return true;
}

void
raft_recv_append(struct raft *r, const struct raft_message *m)
{
	const struct raft_msg_append *a = &m->u.append;
	uint64_t prev = a->prev_index, last_new, c;
	bool idle;

	if (m->term < r->term) {
		/* A stale leader: tell it the term so it steps down. */
		struct raft_message *out;
		if ((out = raft_msg_new(r, RAFT_MSG_APPEND_RESULT, m->from)))
			out->u.append_result.rejected = a->prev_index;
		return;
	}
	if (!append_well_formed(m))
		return;
	if (r->role == RAFT_LEADER)
		return; /* same term, two leaders: cannot happen */
	if (r->role != RAFT_FOLLOWER || r->leader != m->from)
		raft_become_follower(r, m->term, m->from);
	r->last_heard_leader = r->now;
	raft_election_reset_timer(r);
	if (a->seq > r->leader_seq) {
		r->leader_seq = a->seq;
		r->leader_send_ms = a->send_ms;
	}
	if (prev < r->log.snap_index) {
		prev = r->log.snap_index;
	} else if (raft_log_term(&r->log, prev) != a->prev_term ||
	    (prev > 0 && raft_log_term(&r->log, prev) == 0)) {
		append_reply(r, m->from, false, a->prev_index);
		return;
	}
	idle = r->persisted >= raft_log_last(&r->log);
	if (append_entries(r, a, prev) != 0)
		return;
	last_new = a->prev_index + a->n_entries;
	if (last_new < prev)
		last_new = prev;
	if (last_new > r->known_match)
		r->known_match = last_new;
	c = a->commit < last_new ? a->commit : last_new;
	if (c > r->commit)
		r->commit = c;
	/* new entries on an idle disk: raft_recv_append_ack answers once
	 * they are durable (it sends because acked < last_new) */
	if (idle && r->persisted < last_new && r->acked < last_new)
		return;
	append_reply(r, m->from, true, 0);
}
