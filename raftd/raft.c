/*
 * raft.c — the Raft core's lifecycle, its inputs and raft_drain().
 *
 * Each input (tick, message, proposal, persistence report, ...) changes
 * state and queues messages without pointers; raft_drain() then produces
 * everything that points into the log (AppendEntries batches, entries to
 * persist and apply) and hands the lot to the caller, so one drain per
 * loop iteration batches many proposals into one write and one message
 * per follower. The message dispatch is a switch of one call per RPC
 * handler (cowsql/raft's shape). Reference: Ongaro 2014, chapter 3 and
 * Figure 3.1; etcd raft's Ready/Advance contract for the output order.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "raft_int.h"

#define RAFT_DEFAULT_INFLIGHT 32
#define RAFT_DEFAULT_COMMIT_NOTIFY_MS 2
#define RAFT_DEFAULT_BATCH_BYTES (1024 * 1024)
#define RAFT_DEFAULT_CHUNK_BYTES (1024 * 1024)
#define RAFT_DEFAULT_THRESHOLD 16384
#define RAFT_DEFAULT_TRAILING 10000

struct raft *
raft_new(const struct raft_config *cfg)
{
	struct raft *r;

	if (cfg == NULL || cfg->id == 0 || cfg->election_timeout_ms == 0)
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->cfg = *cfg;
	if (r->cfg.heartbeat_ms == 0)
		r->cfg.heartbeat_ms = cfg->election_timeout_ms / 10 + 1;
	if (r->cfg.commit_notify_ms == 0)
		r->cfg.commit_notify_ms = RAFT_DEFAULT_COMMIT_NOTIFY_MS;
	if (r->cfg.max_inflight == 0)
		r->cfg.max_inflight = RAFT_DEFAULT_INFLIGHT;
	if (r->cfg.max_batch_bytes == 0)
		r->cfg.max_batch_bytes = RAFT_DEFAULT_BATCH_BYTES;
	if (r->cfg.snapshot_chunk_bytes == 0)
		r->cfg.snapshot_chunk_bytes = RAFT_DEFAULT_CHUNK_BYTES;
	if (r->cfg.snapshot_threshold == 0)
		r->cfg.snapshot_threshold = RAFT_DEFAULT_THRESHOLD;
	if (r->cfg.snapshot_trailing == 0)
		r->cfg.snapshot_trailing = RAFT_DEFAULT_TRAILING;
	r->id = cfg->id;
	r->rng = cfg->random_seed ? cfg->random_seed : 0x9e3779b97f4a7c15ull;
	r->role = RAFT_FOLLOWER;
	raft_log_init(&r->log);
	raft_conf_init(&r->conf);
	raft_conf_init(&r->snap_conf);
	return r;
}

void
raft_free(struct raft *r)
{
	if (r == NULL)
		return;
	raft_replication_reset(r);
	raft_log_fini(&r->log);
	raft_conf_fini(&r->conf);
	raft_conf_fini(&r->snap_conf);
	raft_snapshot_rsnap_clear(r);
	free(r->snap_data);
	free(r->snap_conf_buf);
	free(r->prog);
	free(r->pending);
	free(r->msgs);
	free(r->reads);
	free(r);
}

int
raft_restore(struct raft *r, uint64_t term, uint64_t vote,
    const struct raft_snapshot_meta *snap, const struct raft_entry *entries,
    size_t n, uint64_t applied)
{
	uint64_t sidx = snap ? snap->index : 0;
	int rc;

	if (r->started || raft_log_last(&r->log) != 0 || r->term != 0)
		return ERR_INVAL;
	for (size_t i = 1; i < n; i++)
		if (entries[i].index != entries[i - 1].index + 1 ||
		    entries[i].term < entries[i - 1].term)
			return ERR_INVAL;
	if (n > 0 && (entries[0].index > sidx + 1 || entries[0].index == 0))
		return ERR_INVAL;
	if (n > 0 && entries[n - 1].index < sidx)
		n = 0; /* all older than the snapshot: useless */
	r->term = term;
	r->vote = vote;
	if (sidx > 0) {
		struct raft_conf c;
		void *copy;

		if (snap->term == 0 || snap->conf == NULL ||
		    (snap->len > 0 && snap->data == NULL))
			return ERR_INVAL;
		if ((rc = raft_conf_copy(&c, snap->conf)) != 0)
			return rc;
		if ((copy = malloc(snap->len ? snap->len : 1)) == NULL) {
			raft_conf_fini(&c);
			return ERR_NOMEM;
		}
		if (snap->len > 0)
			memcpy(copy, snap->data, snap->len);
		rc = raft_snapshot_set(r, sidx, snap->term, &c, copy,
		    snap->len);
		if (rc != 0)
			return rc;
	}
	for (size_t i = 0; i < n; i++) {
		/* The first stored entry may precede the snapshot. */
		if (r->log.n == 0 && entries[i].index != sidx + 1) {
			uint64_t save = r->log.snap_index;
			r->log.snap_index = entries[i].index - 1;
			rc = raft_log_append(&r->log, entries[i].term,
			    entries[i].index, entries[i].type, entries[i].data,
			    entries[i].len);
			r->log.snap_index = save;
		} else {
			rc = raft_log_append(&r->log, entries[i].term,
			    entries[i].index, entries[i].type, entries[i].data,
			    entries[i].len);
		}
		if (rc != 0)
			return rc;
	}
	if (sidx > 0 && raft_log_get(&r->log, sidx) != NULL &&
	    raft_log_term(&r->log, sidx) != snap->term)
		return ERR_INVAL;
	if (applied < sidx)
		applied = sidx;
	if (applied > raft_log_last(&r->log))
		return ERR_INVAL;
	r->applied = applied;
	r->commit = applied;
	r->persisted = raft_log_last(&r->log);
	return raft_membership_conf_changed(r);
}

int
raft_bootstrap(struct raft *r, const struct raft_conf *conf)
{
	void *buf;
	size_t len;
	int rc;

	if (r->term != 0 || raft_log_last(&r->log) != 0)
		return ERR_EXISTS;
	if (conf == NULL || conf->n == 0)
		return ERR_INVAL;
	if ((rc = raft_conf_encode(conf, &buf, &len)) != 0)
		return rc;
	rc = raft_log_append(&r->log, 1, 1, RAFT_ENTRY_CONF, buf, len);
	free(buf);
	if (rc != 0)
		return rc;
	raft_set_term(r, 1);
	r->persist_from = 1;
	return raft_membership_conf_changed(r);
}

/* Sets a new term, forgetting the vote; the hard state must be written. */
void
raft_set_term(struct raft *r, uint64_t term)
{
	if (term == r->term)
		return;
	r->term = term;
	r->vote = 0;
	r->hs_dirty = true;
	r->known_match = 0;
	r->acked = 0;
	/* A new term means a new leader with its own counter and clock:
	 * never echo the old leader's seq to the new one. */
	r->leader_seq = 0;
	r->leader_send_ms = 0;
	r->lease_lost = false;
}

uint64_t
raft_quorum(const struct raft *r)
{
	uint64_t voters = 0;

	for (size_t i = 0; i < r->conf.n; i++)
		voters += r->conf.servers[i].voter;
	return voters / 2 + 1;
}

bool
raft_is_voter(const struct raft *r, uint64_t id)
{
	const struct raft_server *s = raft_conf_find(&r->conf, id);

	return s != NULL && s->voter;
}

struct raft_message *
raft_msg_new(struct raft *r, enum raft_msg_type type, uint64_t to)
{
	struct raft_message *m;

	if (r->n_msgs == r->cap_msgs) {
		size_t cap = r->cap_msgs ? r->cap_msgs * 2 : 16;
		m = realloc(r->msgs, cap * sizeof(*m));
		if (m == NULL)
			return NULL; /* dropped: Raft tolerates message loss */
		r->msgs = m;
		r->cap_msgs = cap;
	}
	m = &r->msgs[r->n_msgs++];
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->from = r->id;
	m->to = to;
	m->term = r->term;
	return m;
}

void
raft_read_result(struct raft *r, uint64_t ctx, uint64_t index, int err)
{
	struct raft_read *rd;

	if (r->n_reads == r->cap_reads) {
		size_t cap = r->cap_reads ? r->cap_reads * 2 : 16;
		rd = realloc(r->reads, cap * sizeof(*rd));
		if (rd == NULL)
			return;
		r->reads = rd;
		r->cap_reads = cap;
	}
	rd = &r->reads[r->n_reads++];
	rd->ctx = ctx;
	rd->index = err ? 0 : index;
	rd->err = err;
}

void
raft_tick(struct raft *r, uint64_t now_ms)
{
	if (now_ms > r->now || !r->started)
		r->now = now_ms;
	if (!r->started) {
		/* A restarted server has forgotten when it last heard a
		 * leader: assume just now, so leases held by others stay
		 * valid (6.4.1) and bootstrap elections are not raced. */
		r->started = true;
		r->last_heard_leader = r->now;
		raft_election_reset_timer(r);
	}
	if (r->role == RAFT_LEADER) {
		raft_replication_tick(r);
		raft_membership_transfer_tick(r);
	} else {
		raft_election_tick(r);
	}
}

int
raft_recv(struct raft *r, const struct raft_message *m)
{
	if (m == NULL || m->to != r->id || m->from == 0 || m->from == r->id ||
	    m->term == 0)
		return ERR_INVAL;
	if (!r->started)
		return ERR_AGAIN;
	switch (m->type) {
	case RAFT_MSG_VOTE:
		raft_recv_vote(r, m);
		return 0;
	case RAFT_MSG_VOTE_RESULT:
		raft_recv_vote_result(r, m);
		return 0;
	default:
		break;
	}
	/* Every other message from a higher term makes us a follower. */
	if (m->term > r->term) {
		bool from_leader = m->type == RAFT_MSG_APPEND ||
		    m->type == RAFT_MSG_SNAPSHOT ||
		    m->type == RAFT_MSG_TIMEOUT_NOW;
		raft_become_follower(r, m->term, from_leader ? m->from : 0);
	}
	switch (m->type) {
	case RAFT_MSG_APPEND:
		raft_recv_append(r, m);
		break;
	case RAFT_MSG_APPEND_RESULT:
		raft_replication_recv_result(r, m);
		break;
	case RAFT_MSG_SNAPSHOT:
		raft_snapshot_recv(r, m);
		break;
	case RAFT_MSG_SNAPSHOT_RESULT:
		raft_snapshot_recv_result(r, m);
		break;
	case RAFT_MSG_TIMEOUT_NOW:
		raft_membership_recv_timeout_now(r, m);
		break;
	default:
		return ERR_INVAL;
	}
	return 0;
}

int
raft_propose(struct raft *r, enum raft_entry_type type, const void *data,
    size_t len, uint64_t *index)
{
	if (type != RAFT_ENTRY_NORMAL || (len > 0 && data == NULL))
		return ERR_INVAL;
	if (r->role != RAFT_LEADER)
		return ERR_NOTLEADER;
	if (r->transfer_target != 0)
		return ERR_AGAIN;
	return raft_replication_append(r, type, data, len, index);
}

void
raft_persisted(struct raft *r, uint64_t index, uint64_t term)
{
	if (index <= r->persisted || index > raft_log_last(&r->log))
		return;
	if (raft_log_term(&r->log, index) != term)
		return; /* a write superseded by a truncation */
	r->persisted = index;
	if (r->role == RAFT_LEADER)
		raft_replication_maybe_commit(r);
	else
		raft_recv_append_ack(r);
}

/* Entries (applied, min(commit, persisted)] are handed out to apply. */
static void
drain_committed(struct raft *r, struct raft_update *u)
{
	uint64_t to = r->commit < r->persisted ? r->commit : r->persisted;
	struct raft_entry *e;

	if (to <= r->applied)
		return;
	if ((e = raft_log_get(&r->log, r->applied + 1)) == NULL)
		return; /* cannot happen: applied >= snapshot index */
	u->committed = e;
	u->n_committed = to - r->applied;
	r->applied = to;
}

static uint64_t
next_deadline(const struct raft *r)
{
	uint64_t d;

	if (r->role != RAFT_LEADER)
		return r->election_deadline;
	d = r->heartbeat_deadline;
	if (r->check_quorum_deadline < d)
		d = r->check_quorum_deadline;
	if (r->transfer_target != 0 && r->transfer_deadline < d)
		d = r->transfer_deadline;
	if (r->commit_notify_at != 0 && r->commit_notify_at < d)
		d = r->commit_notify_at;
	return d;
}

void
raft_drain(struct raft *r, struct raft_update *u)
{
	memset(u, 0, sizeof(*u));
	if (r->role == RAFT_LEADER) {
		raft_membership_flush(r);
		raft_replication_maybe_commit(r);
		raft_replication_flush(r);
	}
	u->hard_state_changed = r->hs_dirty;
	u->term = r->term;
	u->vote = r->vote;
	if (r->install_pending)
		u->snapshot = &r->install;
	u->truncate_from = r->truncate_from;
	if (r->persist_from != 0 && r->persist_from <= raft_log_last(&r->log)) {
		u->entries = raft_log_get(&r->log, r->persist_from);
		u->n_entries = raft_log_last(&r->log) - r->persist_from + 1;
	}
	u->msgs = r->msgs;
	u->n_msgs = r->n_msgs;
	u->commit_index = r->commit;
	drain_committed(r, u);
	u->reads = r->reads;
	u->n_reads = r->n_reads;
	u->role_changed = r->role_changed;
	u->role = r->role;
	u->leader = r->leader;
	u->compact_to = r->compact_to;
	u->want_snapshot = r->applied >= r->log.snap_index +
	    r->cfg.snapshot_threshold;
	u->next_deadline_ms = next_deadline(r);

	r->hs_dirty = false;
	r->install_pending = false;
	r->truncate_from = 0;
	r->persist_from = 0;
	r->n_msgs = 0;
	r->n_reads = 0;
	r->role_changed = false;
	r->compact_to = 0;
}

enum raft_role
raft_role(const struct raft *r)
{
	return r->role;
}

uint64_t
raft_leader(const struct raft *r)
{
	return r->leader;
}

uint64_t
raft_term(const struct raft *r)
{
	return r->term;
}

uint64_t
raft_commit_index(const struct raft *r)
{
	return r->commit;
}

uint64_t
raft_last_index(const struct raft *r)
{
	return raft_log_last(&r->log);
}

uint64_t
raft_applied_index(const struct raft *r)
{
	return r->applied;
}

bool
raft_leader_ready(const struct raft *r)
{
	return r->role == RAFT_LEADER && r->noop_index != 0 &&
	    r->commit >= r->noop_index;
}

const struct raft_conf *
raft_configuration(const struct raft *r)
{
	return &r->conf;
}

uint64_t
raft_last_contact_ms(const struct raft *r)
{
	if (r->role == RAFT_LEADER)
		return 0;
	return r->now - r->last_heard_leader;
}

const char *
raft_role_name(enum raft_role role)
{
	switch (role) {
	case RAFT_FOLLOWER:
		return "follower";
	case RAFT_PRECANDIDATE:
		return "pre-candidate";
	case RAFT_CANDIDATE:
		return "candidate";
	case RAFT_LEADER:
		return "leader";
	}
	return "unknown";
}
