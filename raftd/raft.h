/*
 * raft.h — the pure Raft core used by raftd: events in, writes, messages
 * and timers out.
 *
 * The core owns no socket, clock, disk or OS randomness (STYLE.md
 * principle 3). The caller (raftd's event loop, or tests/sim/raft_sim.c)
 * makes one call per input (raft_tick, raft_recv, raft_propose,
 * raft_persisted, ...) and then drains the accumulated outputs with
 * raft_drain() into a struct raft_update, which it executes in this order:
 *
 *   1. hard state (term, vote) changed: write it durably (synchronously);
 *   2. snapshot to install: restore the state machine from it and make it
 *      durable (synchronously), with the snapshot itself (index, term,
 *      conf, data) for raft_restore(); this resets the stored log (delete
 *      every entry: truncate_from is 1) and supersedes log writes still
 *      queued; no raft_persisted() is needed for it;
 *   3. log: delete entries >= truncate_from (if non-zero), then append
 *      entries[]; this may complete asynchronously but in order; when a
 *      write is durable call raft_persisted(last index, last term written);
 *   4. send msgs[] (only after 1 and 2; never before);
 *   5. apply committed[] to the state machine, in order (durably, with
 *      the applied index: raft_restore() takes it back);
 *   6. deliver reads[] (a read is served once the state machine has
 *      applied up to its index), note role/leader changes, drop stored log
 *      entries <= compact_to (a snapshot covering them exists), take a
 *      snapshot if want_snapshot, and call raft_tick() no later than
 *      next_deadline_ms.
 *
 * Key decisions: pre-vote (dissertation 9.6) and check-quorum with leader
 * stickiness (4.2.3, 6.2) so a partitioned server cannot disrupt a healthy
 * leader; a leader lease derived from the send time of acknowledged
 * heartbeats (6.4.1); ReadIndex with a heartbeat round (6.4); a no-op at
 * the start of each term, commit only by counting current-term replicas
 * (3.6.2); fast log backtracking by conflicting term (3.5); pipelined
 * AppendEntries with an inflight window per follower (10.2.1); a follower
 * acknowledges only entries reported durable by raft_persisted(); chunked
 * InstallSnapshot (5.3); single-server membership changes effective when
 * appended (4.1) with non-voters promoted once caught up (4.2.1);
 * leadership transfer with TimeoutNow (3.10). Reference: D. Ongaro,
 * "Consensus: Bridging Theory and Practice", Stanford 2014; the shape of
 * cowsql/raft (one file per RPC handler).
 *
 * Driving it from an event loop (raftd):
 *
 *	raft_restore(r, meta.term, meta.vote, &snap, entries, n, applied);
 *	for (;;) {                       // each loop iteration
 *		raft_tick(r, loop_now_ms(l));
 *		... raft_recv(r, &msg) for each decoded peer message,
 *		    raft_propose() for each client write (leader),
 *		    raft_persisted() for each finished log write ...
 *		raft_drain(r, &u);
 *		execute u in the order above; re-arm the timer for
 *		u.next_deadline_ms;
 *	}
 *
 * Time: every input uses the time given by the last raft_tick(); call
 * raft_tick(now) before each batch of inputs for precise timing.
 * Pointers inside a drained struct raft_update (and the messages in it)
 * are borrowed from the core and stay valid until the next call into the
 * core other than the const getters below.
 */
#ifndef CAIRN_RAFT_H
#define CAIRN_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct raft;

enum raft_entry_type {
	RAFT_ENTRY_NORMAL = 1, /* a command for the state machine */
	RAFT_ENTRY_NOOP = 2,   /* appended by each new leader (3.6.2) */
	RAFT_ENTRY_CONF = 3,   /* data = raft_conf_encode() of the new set */
};

struct raft_entry {
	uint64_t term;
	uint64_t index;
	enum raft_entry_type type;
	void *data; /* owned by the core's log until truncated/compacted */
	size_t len;
};

enum raft_role {
	RAFT_FOLLOWER = 1,
	RAFT_PRECANDIDATE = 2,
	RAFT_CANDIDATE = 3,
	RAFT_LEADER = 4,
};

/* One server of a configuration. */
struct raft_server {
	uint64_t id; /* non-zero */
	char *address; /* NUL-terminated, owned by the configuration */
	bool voter;
};

#define RAFT_ADDRESS_MAX 255
#define RAFT_SERVERS_MAX 64

struct raft_conf {
	struct raft_server *servers; /* owned; n entries */
	size_t n;
};

/* Configuration helpers (raft_conf.c). */
void raft_conf_init(struct raft_conf *c);
/* Frees what c owns and leaves it empty. */
void raft_conf_fini(struct raft_conf *c);
/* Adds a server (address copied). ERR_EXISTS, ERR_INVAL, ERR_TOOBIG. */
int raft_conf_add(struct raft_conf *c, uint64_t id, const char *address,
    bool voter);
/* Returns the server with id (borrowed from c) or NULL. */
const struct raft_server *raft_conf_find(const struct raft_conf *c,
    uint64_t id);
/* Deep copy of src into dst (dst must be empty). 0 or ERR_NOMEM. */
int raft_conf_copy(struct raft_conf *dst, const struct raft_conf *src);
/*
 * Compact encoding (big endian): u16 n, then per server u64 id, u8 voter,
 * u8 address length, address bytes. *out is owned by the caller (free()).
 */
int raft_conf_encode(const struct raft_conf *c, void **out, size_t *len);
/* Decodes into an empty c; ERR_BADMSG on malformed input. Borrows buf. */
int raft_conf_decode(struct raft_conf *c, const void *buf, size_t len);

/* Messages between servers. The wire codec lives in proto/. */
enum raft_msg_type {
	RAFT_MSG_VOTE = 1,	     /* RequestVote, or pre-vote (prevote) */
	RAFT_MSG_VOTE_RESULT = 2,
	RAFT_MSG_APPEND = 3,	     /* AppendEntries (also heartbeats) */
	RAFT_MSG_APPEND_RESULT = 4,
	RAFT_MSG_SNAPSHOT = 5,	     /* InstallSnapshot chunk */
	RAFT_MSG_SNAPSHOT_RESULT = 6,
	RAFT_MSG_TIMEOUT_NOW = 7,    /* leadership transfer (3.10) */
};

struct raft_msg_vote {
	uint64_t last_log_index;
	uint64_t last_log_term;
	bool prevote;  /* term is the term the sender would campaign in */
	bool transfer; /* sent because of TimeoutNow: skip stickiness */
};

struct raft_msg_vote_result {
	bool granted;
	bool prevote;
};

struct raft_msg_append {
	uint64_t prev_index;
	uint64_t prev_term;
	uint64_t commit;
	uint64_t seq;	  /* leader's message counter, echoed (reads) */
	uint64_t send_ms; /* leader's clock at send, echoed (lease) */
	const struct raft_entry *entries; /* borrowed, n_entries */
	size_t n_entries;
};

struct raft_msg_append_result {
	bool success;
	uint64_t match;	     /* success: follower durably matches to here */
	uint64_t rejected;   /* failure: the prev_index that did not match */
	uint64_t last_index; /* follower's last log index */
	uint64_t conflict_term;	 /* failure: term at rejected (0: none) */
	uint64_t conflict_index; /* failure: first index of conflict_term */
	uint64_t seq;
	uint64_t send_ms;
};

struct raft_msg_snapshot {
	uint64_t index; /* last index the snapshot covers */
	uint64_t snap_term;
	const void *conf; /* raft_conf_encode() of the configuration */
	size_t conf_len;
	uint64_t offset; /* of this chunk in the snapshot data */
	uint64_t total;	 /* size of the snapshot data */
	const void *data; /* borrowed chunk */
	size_t len;
};

struct raft_msg_snapshot_result {
	uint64_t index;	 /* snapshot index this answers */
	uint64_t offset; /* next offset expected (== total when done) */
	bool done;	 /* installed, or not needed (log already covers) */
};

struct raft_message {
	enum raft_msg_type type;
	uint64_t from;
	uint64_t to;
	uint64_t term;
	union {
		struct raft_msg_vote vote;
		struct raft_msg_vote_result vote_result;
		struct raft_msg_append append;
		struct raft_msg_append_result append_result;
		struct raft_msg_snapshot snapshot;
		struct raft_msg_snapshot_result snapshot_result;
	} u;
};

/* Result of raft_read_index(): serve the read once applied >= index. */
struct raft_read {
	uint64_t ctx;	/* the caller's tag */
	uint64_t index; /* 0 when err != 0 */
	int err;	/* 0, or ERR_NOTLEADER when leadership was lost */
};

/* A snapshot received from the leader, to restore the state machine. */
struct raft_snapshot_install {
	uint64_t index;
	uint64_t term;
	const struct raft_conf *conf; /* borrowed */
	const void *data;	      /* borrowed */
	size_t len;
};

struct raft_update {
	bool hard_state_changed;
	uint64_t term;
	uint64_t vote; /* 0: none */

	const struct raft_snapshot_install *snapshot; /* NULL: none */

	uint64_t truncate_from; /* non-zero: delete stored entries >= this */
	const struct raft_entry *entries; /* to append, in index order */
	size_t n_entries;

	const struct raft_message *msgs;
	size_t n_msgs;

	uint64_t commit_index;
	/* To apply, in index order: every type is handed out; NOOP has no
	 * effect, CONF (raft_conf_decode of data) becomes the state
	 * machine's configuration, which raft_restore() needs back with a
	 * snapshot. Entries up to min(commit, durable) only. */
	const struct raft_entry *committed;
	size_t n_committed;

	const struct raft_read *reads;
	size_t n_reads;

	bool role_changed; /* role or leader changed since the last drain */
	enum raft_role role;
	uint64_t leader; /* 0: unknown */

	uint64_t compact_to; /* non-zero: stored entries <= this may go */
	bool want_snapshot;  /* applied - snapshot index >= threshold; stays
				set until raft_snapshot_taken() */

	uint64_t next_deadline_ms; /* call raft_tick() by then */
};

typedef uint64_t (*raft_random_fn)(void *arg);

struct raft_config {
	uint64_t id; /* this server, non-zero */
	uint64_t election_timeout_ms; /* raftd: 500 x raft_multiplier */
	uint64_t heartbeat_ms;	      /* default election_timeout / 10 */
	uint64_t random_seed;	      /* election jitter (xorshift) ... */
	raft_random_fn random;	      /* ... or this, if non-NULL */
	void *random_arg;	      /* borrowed */
	uint64_t commit_notify_ms;    /* idle followers learn a new commit
					 index this late, 0: 2 ms */
	unsigned max_inflight;	      /* AppendEntries per follower, 0: 32 */
	size_t max_batch_bytes;	      /* per AppendEntries, 0: 1 MiB */
	size_t snapshot_chunk_bytes;  /* per InstallSnapshot, 0: 1 MiB */
	uint64_t snapshot_threshold;  /* 0: 16384 */
	uint64_t snapshot_trailing;   /* 0: 10000 */
};

/* Returns an owned core (free with raft_free) or NULL (bad cfg, memory). */
struct raft *raft_new(const struct raft_config *cfg);
/* Frees r and everything it owns. NULL is a no-op. */
void raft_free(struct raft *r);

/* Persisted snapshot metadata and data given to raft_restore(). */
struct raft_snapshot_meta {
	uint64_t index; /* 0: no snapshot */
	uint64_t term;
	const struct raft_conf *conf; /* borrowed; copied */
	const void *data;	      /* borrowed; copied (sent to followers) */
	size_t len;
};

/*
 * Restores durable state before the first tick (the state machine was
 * restored from the snapshot first, so applied >= its index): hard
 * state, the last
 * snapshot (may be NULL), the stored log entries (borrowed and copied;
 * consecutive; those <= the snapshot index are kept as trailing entries
 * or skipped if not contiguous with it) and the state machine's last
 * applied index (entries up to it are not handed out again). Returns 0,
 * ERR_INVAL (inconsistent input, e.g. a gap) or ERR_NOMEM.
 */
int raft_restore(struct raft *r, uint64_t term, uint64_t vote,
    const struct raft_snapshot_meta *snap, const struct raft_entry *entries,
    size_t n, uint64_t applied);

/*
 * Bootstraps a brand-new cluster: only on an empty core (else ERR_EXISTS).
 * Appends the configuration at index 1, term 1. Every server of the
 * initial set must bootstrap with an identical conf (borrowed).
 */
int raft_bootstrap(struct raft *r, const struct raft_conf *conf);

/* Advances the core's clock (monotonic ms); fires due timers. */
void raft_tick(struct raft *r, uint64_t now_ms);

/*
 * Handles a message from a peer (borrowed). ERR_INVAL if not for us or
 * malformed (term 0, unknown type), ERR_AGAIN before the first tick.
 * Malformed batches and chunks are dropped without effect.
 */
int raft_recv(struct raft *r, const struct raft_message *m);

/*
 * Appends a command (data copied) to the leader's log; *index gets its
 * index. ERR_NOTLEADER on a non-leader, ERR_AGAIN during a leadership
 * transfer, ERR_INVAL for type other than RAFT_ENTRY_NORMAL. The command
 * took effect iff the entry later applied at *index has the term that
 * raft_term() had when proposing; a different term means it was lost
 * with a change of leader (answer the client with an error to retry).
 */
int raft_propose(struct raft *r, enum raft_entry_type type,
    const void *data, size_t len, uint64_t *index);

/* The log is durable up to (index, term); stale reports are ignored. */
void raft_persisted(struct raft *r, uint64_t index, uint64_t term);

/*
 * The state machine took a snapshot covering entries up to index
 * (<= applied). data (borrowed, copied) is what followers receive.
 * ERR_INVAL if index is beyond applied or not newer than the last one.
 */
int raft_snapshot_taken(struct raft *r, uint64_t index, const void *data,
    size_t len);

/*
 * The latest snapshot's metadata (index 0: none), to persist after
 * raft_snapshot_taken() or an install; conf and data are borrowed, valid
 * until the next input.
 */
void raft_snapshot_get(const struct raft *r, struct raft_snapshot_meta *out);

/*
 * Asks for a linearizable read (6.4). The answer comes in a later
 * update's reads[] with the same ctx. ERR_NOTLEADER on a non-leader.
 */
int raft_read_index(struct raft *r, uint64_t ctx);

/*
 * Hands leadership to target (0: the most caught-up voter): proposals get
 * ERR_AGAIN until the target wins or an election timeout passes.
 * ERR_NOTLEADER, ERR_AGAIN (a transfer is running), ERR_INVAL (target is
 * this server), ERR_NOTFOUND (target is not a voter).
 */
int raft_transfer_leadership(struct raft *r, uint64_t target);

/*
 * Membership (leader only, one uncommitted change at a time: ERR_AGAIN).
 * raft_add_server adds id as a non-voter; with voter it is promoted
 * automatically once caught up. raft_promote promotes a non-voter once it
 * is caught up. raft_remove_server removes id (a leader removing itself
 * steps down once the change is committed).
 */
int raft_add_server(struct raft *r, uint64_t id, const char *address,
    bool voter);
int raft_promote(struct raft *r, uint64_t id);
int raft_remove_server(struct raft *r, uint64_t id);

/* Moves the outputs accumulated since the last drain into *u. */
void raft_drain(struct raft *r, struct raft_update *u);

/* Getters (const; do not invalidate a drained update). */
enum raft_role raft_role(const struct raft *r);
uint64_t raft_leader(const struct raft *r);
uint64_t raft_term(const struct raft *r);
uint64_t raft_commit_index(const struct raft *r);
uint64_t raft_last_index(const struct raft *r);
uint64_t raft_applied_index(const struct raft *r);
/* Leader whose no-op of this term has committed (may serve reads). */
bool raft_leader_ready(const struct raft *r);
/* Leader holding a lease at now_ms: default-mode reads need no round. */
bool raft_lease_valid(const struct raft *r, uint64_t now_ms);
/* Latest configuration (borrowed, valid until the next input). */
const struct raft_conf *raft_configuration(const struct raft *r);
/* Milliseconds since the leader was last heard (followers; 0: leader). */
uint64_t raft_last_contact_ms(const struct raft *r);
const char *raft_role_name(enum raft_role role);

/* What the leader knows of a peer (autopilot health, operator APIs). */
struct raft_peer_status {
	uint64_t match_index;	  /* durably replicated up to here */
	uint64_t next_index;
	uint64_t last_contact_ms; /* since its last reply (leader clock) */
	bool snapshotting;	  /* being sent a snapshot */
	bool promote_pending;	  /* non-voter to promote once caught up */
};
/* Leader only: ERR_NOTLEADER, or ERR_NOTFOUND if id is no peer. */
int raft_peer_status(const struct raft *r, uint64_t id,
    struct raft_peer_status *out);

#endif
