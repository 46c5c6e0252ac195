/*
 * raft_int.h — the Raft core's private state, shared by raft*.c only.
 *
 * Nothing outside raftd/raft*.c includes this file; raftd and the
 * simulation see only raft.h. The key decision: everything that carries a
 * pointer into the log (AppendEntries batches, entries to persist or
 * apply, snapshot chunks) is produced in raft_drain(), so no output can
 * point at entries that a later input truncated or compacted.
 */
#ifndef CAIRN_RAFT_INT_H
#define CAIRN_RAFT_INT_H

#include "raft.h"

/* The in-memory log: entries [first, last] after an optional snapshot. */
struct raft_log {
	struct raft_entry *e; /* e[0..n), consecutive indexes */
	size_t n;
	size_t cap;
	uint64_t snap_index; /* last index covered by the snapshot (0: none) */
	uint64_t snap_term;
};

enum raft_progress_state {
	RAFT_PROGRESS_PROBE = 1,    /* one AppendEntries at a time */
	RAFT_PROGRESS_PIPELINE = 2, /* optimistic, up to max_inflight */
	RAFT_PROGRESS_SNAPSHOT = 3, /* sending InstallSnapshot chunks */
};

/* What a leader knows about one follower (10.2.1 flow control). */
struct raft_progress {
	uint64_t id;
	enum raft_progress_state state;
	uint64_t next;
	uint64_t match;
	uint64_t *inflight; /* last index of each message in flight (fifo) */
	unsigned n_inflight;
	bool probe_sent;
	uint64_t last_contact_ms; /* any reply this term (check-quorum) */
	uint64_t acked_seq;	  /* highest AppendEntries seq echoed */
	uint64_t acked_send_ms;	  /* its send time (lease) */
	uint64_t commit_sent;	  /* highest commit index sent to it */
	uint64_t snap_index;	  /* snapshot being sent */
	uint64_t snap_offset;
	bool snap_sent;
	bool promote; /* promote to voter once caught up */
};

struct raft_pending_read {
	uint64_t ctx;
	uint64_t index;
	uint64_t seq; /* needs acks of messages with seq >= this */
};

/* A snapshot being received in chunks. */
struct raft_rsnap {
	uint64_t from; /* chunks of one leader's snapshot only */
	uint64_t msg_term;
	uint64_t index;
	uint64_t term;
	uint64_t total;
	uint64_t got;
	unsigned char *buf;
};

struct raft {
	struct raft_config cfg;
	uint64_t id;
	uint64_t rng;
	uint64_t now;
	bool started;

	/* durable */
	uint64_t term;
	uint64_t vote;
	struct raft_log log;
	void *snap_data; /* the latest snapshot, sent to followers */
	size_t snap_len;
	struct raft_conf snap_conf;
	void *snap_conf_buf; /* raft_conf_encode(snap_conf), sent in chunks */
	size_t snap_conf_len;

	/* volatile */
	enum raft_role role;
	uint64_t leader;
	uint64_t commit;
	uint64_t applied;
	uint64_t persisted;   /* log durable up to here */
	uint64_t known_match; /* follower: log matches the leader's to here */
	uint64_t acked;	      /* follower: last match sent to the leader */
	uint64_t leader_seq;  /* follower: last seq/send_ms from the leader */
	uint64_t leader_send_ms;
	struct raft_conf conf; /* latest, effective when appended (4.1) */
	uint64_t conf_index;   /* its index (0: from snapshot or none) */

	/* elections */
	uint64_t election_deadline;
	uint64_t last_heard_leader; /* stickiness (4.2.3) */
	uint64_t granted[RAFT_SERVERS_MAX];
	size_t n_granted;

	/* leader */
	struct raft_progress *prog;
	size_t n_prog;
	uint64_t heartbeat_deadline;
	bool heartbeat_due;
	bool commit_due; /* commit advanced: tell idle followers ... */
	uint64_t commit_notify_at; /* ... at this time (0: nothing to tell) */
	uint64_t check_quorum_deadline;
	uint64_t noop_index;
	uint64_t seq;
	uint64_t transfer_target;
	uint64_t transfer_deadline;
	bool transfer_sent;
	bool lease_lost; /* TimeoutNow sent this term */
	struct raft_pending_read *pending;
	size_t n_pending;
	size_t cap_pending;

	/* follower: snapshot being received, and the one to install */
	struct raft_rsnap rsnap;
	struct raft_snapshot_install install;
	bool install_pending;

	/* outputs accumulated until raft_drain() */
	bool hs_dirty;
	uint64_t persist_from; /* 0: nothing new to persist */
	uint64_t truncate_from;
	uint64_t compact_to;
	bool role_changed;
	struct raft_message *msgs;
	size_t n_msgs;
	size_t cap_msgs;
	struct raft_read *reads;
	size_t n_reads;
	size_t cap_reads;
};

/* raft.c */
struct raft_message *raft_msg_new(struct raft *r, enum raft_msg_type type,
    uint64_t to);
void raft_set_term(struct raft *r, uint64_t term);
uint64_t raft_quorum(const struct raft *r);
bool raft_is_voter(const struct raft *r, uint64_t id);
void raft_read_result(struct raft *r, uint64_t ctx, uint64_t index,
    int err);

/* raft_log.c */
void raft_log_init(struct raft_log *l);
void raft_log_fini(struct raft_log *l);
uint64_t raft_log_first(const struct raft_log *l);
uint64_t raft_log_last(const struct raft_log *l);
uint64_t raft_log_last_term(const struct raft_log *l);
/* Term at index; 0 if unknown (compacted or beyond the end). */
uint64_t raft_log_term(const struct raft_log *l, uint64_t index);
/* Borrowed pointer to the entry at index, or NULL. */
struct raft_entry *raft_log_get(const struct raft_log *l, uint64_t index);
/* Appends (data copied); index must be last + 1. 0 or ERR_NOMEM. */
int raft_log_append(struct raft_log *l, uint64_t term, uint64_t index,
    enum raft_entry_type type, const void *data, size_t len);
/* Deletes entries >= index. */
void raft_log_truncate(struct raft_log *l, uint64_t index);
/* Deletes entries <= index. */
void raft_log_compact(struct raft_log *l, uint64_t index);
/* Deletes everything and restarts after (index, term). */
void raft_log_reset(struct raft_log *l, uint64_t index, uint64_t term);
/* Last index of the run of the same term containing... (see .c). */
uint64_t raft_log_first_of_term(const struct raft_log *l, uint64_t index);
uint64_t raft_log_last_of_term(const struct raft_log *l, uint64_t term);

/* raft_election.c */
void raft_election_reset_timer(struct raft *r);
void raft_election_start(struct raft *r, bool prevote, bool transfer);
void raft_become_follower(struct raft *r, uint64_t term, uint64_t leader);
void raft_become_leader(struct raft *r);
void raft_election_tick(struct raft *r);
bool raft_election_sticky(const struct raft *r);
/* Stickiness S = 0.9T and lease L = 0.8T (see raft_election.c). */
uint64_t raft_sticky_ms(const struct raft *r);
uint64_t raft_lease_ms(const struct raft *r);
bool raft_election_won(const struct raft *r);

/* raft_recv_vote.c */
void raft_recv_vote(struct raft *r, const struct raft_message *m);
void raft_recv_vote_result(struct raft *r, const struct raft_message *m);

/* raft_recv_append.c */
void raft_recv_append(struct raft *r, const struct raft_message *m);
void raft_recv_append_ack(struct raft *r);

/* raft_replication.c */
void raft_replication_reset(struct raft *r);
int raft_replication_sync_progress(struct raft *r);
struct raft_progress *raft_replication_find(struct raft *r, uint64_t id);
void raft_replication_flush(struct raft *r);
void raft_replication_recv_result(struct raft *r,
    const struct raft_message *m);
void raft_replication_maybe_commit(struct raft *r);
void raft_replication_tick(struct raft *r);
int raft_replication_append(struct raft *r, enum raft_entry_type type,
    const void *data, size_t len, uint64_t *index);

/* raft_snapshot.c */
void raft_snapshot_send(struct raft *r, struct raft_progress *p);
void raft_snapshot_recv(struct raft *r, const struct raft_message *m);
void raft_snapshot_recv_result(struct raft *r,
    const struct raft_message *m);
void raft_snapshot_rsnap_clear(struct raft *r);
int raft_snapshot_set(struct raft *r, uint64_t index, uint64_t term,
    struct raft_conf *conf, void *data, size_t len);

/* raft_membership.c */
int raft_membership_conf_changed(struct raft *r);
void raft_membership_rebuild(struct raft *r);
int raft_membership_conf_at(const struct raft *r, uint64_t index,
    struct raft_conf *out);
void raft_membership_flush(struct raft *r);
void raft_membership_committed(struct raft *r);
bool raft_membership_may_campaign(const struct raft *r);
void raft_membership_recv_timeout_now(struct raft *r,
    const struct raft_message *m);
void raft_membership_transfer_tick(struct raft *r);

/* raft_read.c */
void raft_read_acked(struct raft *r);
void raft_read_fail_all(struct raft *r);

#endif
