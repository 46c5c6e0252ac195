/*
 * consensus.c — raftd's glue around the pure Raft core (raft.h) on
 * every server (a single one too): restore at start, the drain loop, peer messages in
 * and out, the election/heartbeat timer.
 *
 * Each input (a peer message, a proposal, a finished log write, the
 * timer) is followed by consensus_step(), which drains the core and
 * executes the update in raft.h's order: (1) term and vote written
 * durably, as one synced meta record "raft_hs" (so a crash never keeps
 * a new term with an old vote); (2) a snapshot from the leader replaces
 * the state column family (snapshot.c) and resets the stored log; (3)
 * messages are encoded (proto/msg_raft.h) and sent on the transport
 * (before the log write, which raft.h allows: they only wait for 1 and
 * 2); (4) truncation and new entries go to the group-commit writer
 * (pipeline_log_write), which calls consensus_persisted() when durable;
 * (5) committed entries
 * are applied by the existing KV/catalog apply path (pipeline_apply_raft:
 * the entry data is [store entry type][the request bytes], so dedup and
 * the failpoints work unchanged); (6) reads, role changes and the timer.
 * Nothing feeds the core while an update is being executed (its pointers
 * are borrowed): follow-up work (held requests, ReadIndex results, the
 * leader's self-registration) runs after it, then the core is drained
 * again. Proposals are not drained at once but on a posted step, so that
 * the requests of one loop iteration share one AppendEntries and one
 * fsync (a lone voter's go to the disk at once). Reference: raft.h header; etcd raft's Ready loop
 * (raft/node.go), Raft dissertation §3, §10.2.1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "log.h"
#include "loop.h"
#include "msg_raft.h"
#include "nodeid.h"
#include "proto.h"
#include "raft.h"
#include "raftd.h"
#include "reconcile.h"
#include "session.h"
#include "store.h"
#include "transport.h"
#include "watch.h"

#define CONSENSUS_HS_KEY "raft_hs"
#define CONSENSUS_CHUNK (512u * 1024) /* InstallSnapshot chunk < PROTO_MAX_STR */
/*
 * The election timeout T per unit of performance.raft_multiplier (Consul's
 * key, 1..10, default 1). Half of Consul's one second: with T = 500 ms a
 * follower campaigns 500-750 ms after the last heartbeat (50 ms apart,
 * T/10), the leader lease is 400 ms and voters stay sticky 450 ms
 * (raft_election.c), so a new leader takes writes about 0.6-0.8 s after a
 * kill -9 of the old one (issue 4: p50 < 1 s, max < 2 s). Spurious
 * elections need a leader silent for T (a loop stalled that long: a
 * follower alone is refused by the others' stickiness, pre-vote keeps
 * its term), and raft_multiplier 2..10 buys slack on slow machines.
 */
#define CONSENSUS_ELECTION_MS 500ull

static void consensus_recv(void *arg, const uint8_t *data, size_t len);

/* ---- addresses ---- */

const char *
consensus_addr(struct raftd *rd, uint64_t id)
{
	const struct raft_server *s;

	if (id == rd->node_id)
		return rd->self_addr;
	if (rd->raft != NULL &&
	    (s = raft_conf_find(raft_configuration(rd->raft), id)) != NULL)
		return s->address;
	return discovery_addr(rd, id);
}

size_t
consensus_voters(struct raftd *rd, struct proto_str *out, size_t max)
{
	const struct raft_conf *c;
	size_t n = 0;

	if (rd->raft == NULL)
		return 0;
	c = raft_configuration(rd->raft);
	for (size_t i = 0; i < c->n && n < max; i++)
		if (c->servers[i].voter)
			out[n++] = proto_str_c(c->servers[i].address);
	return n;
}

int
consensus_send(struct raftd *rd, uint64_t id, const uint8_t *data,
    size_t len)
{
	const char *addr = consensus_addr(rd, id);

	if (rd->tp == NULL)
		return ERR_CLOSED;
	if (*addr == '\0')
		return ERR_NOTFOUND;
	return transport_send(rd->tp, id, addr, data, len);
}

/* ---- messages out ---- */

static int
consensus_encode(const struct raft_message *m, struct proto_buf *out)
{
	int rc;

	switch (m->type) {
	case RAFT_MSG_VOTE: {
		struct msg_raft_vote v = { m->from, m->to, m->term,
		    m->u.vote.last_log_index, m->u.vote.last_log_term,
		    m->u.vote.prevote, m->u.vote.transfer };

		return proto_encode(MSG_RAFT_VOTE, 0, &v, out);
	}
	case RAFT_MSG_VOTE_RESULT: {
		struct msg_raft_vote_result v = { m->from, m->to, m->term,
		    m->u.vote_result.granted, m->u.vote_result.prevote };

		return proto_encode(MSG_RAFT_VOTE_RESULT, 0, &v, out);
	}
	case RAFT_MSG_APPEND: {
		const struct raft_msg_append *a = &m->u.append;
		struct msg_raft_append w = { m->from, m->to, m->term,
		    a->prev_index, a->prev_term, a->commit, a->seq, a->send_ms,
		    NULL, (uint32_t)a->n_entries };

		if (a->n_entries > 0 && (w.entries = calloc(a->n_entries,
		    sizeof(*w.entries))) == NULL)
			return ERR_NOMEM;
		for (size_t i = 0; i < a->n_entries; i++) {
			w.entries[i].term = a->entries[i].term;
			w.entries[i].index = a->entries[i].index;
			w.entries[i].type = (uint8_t)a->entries[i].type;
			w.entries[i].data.ptr = a->entries[i].data;
			w.entries[i].data.len = (uint32_t)a->entries[i].len;
		}
		rc = proto_encode(MSG_RAFT_APPEND, 0, &w, out);
		free(w.entries);
		return rc;
	}
	case RAFT_MSG_APPEND_RESULT: {
		const struct raft_msg_append_result *a = &m->u.append_result;
		struct msg_raft_append_result w = { m->from, m->to, m->term,
		    a->success, a->match, a->rejected, a->last_index,
		    a->conflict_term, a->conflict_index, a->seq, a->send_ms };

		return proto_encode(MSG_RAFT_APPEND_RESULT, 0, &w, out);
	}
	case RAFT_MSG_SNAPSHOT: {
		const struct raft_msg_snapshot *s = &m->u.snapshot;
		struct msg_raft_snapshot w = { m->from, m->to, m->term,
		    s->index, s->snap_term, { s->conf, (uint32_t)s->conf_len },
		    s->offset, s->total, { s->data, (uint32_t)s->len } };

		return proto_encode(MSG_RAFT_SNAPSHOT, 0, &w, out);
	}
	case RAFT_MSG_SNAPSHOT_RESULT: {
		const struct raft_msg_snapshot_result *s =
		    &m->u.snapshot_result;
		struct msg_raft_snapshot_result w = { m->from, m->to, m->term,
		    s->index, s->offset, s->done };

		return proto_encode(MSG_RAFT_SNAPSHOT_RESULT, 0, &w, out);
	}
	case RAFT_MSG_TIMEOUT_NOW: {
		struct msg_raft_timeout_now w = { m->from, m->to, m->term };

		return proto_encode(MSG_RAFT_TIMEOUT_NOW, 0, &w, out);
	}
	}
	return ERR_INVAL;
}

/*
 * True when msgs hold nothing but entry-less AppendEntries (a new commit
 * index, heartbeats): nobody waits for them, unlike entries to persist,
 * acks and votes.
 */
static bool
consensus_msgs_lazy(const struct raft_message *msgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (msgs[i].type != RAFT_MSG_APPEND ||
		    msgs[i].u.append.n_entries > 0)
			return false;
	return n > 0;
}

/* Queues msgs on the transport; now: written at once, not at the end of
 * the loop iteration. */
static void
consensus_send_msgs(struct raftd *rd, const struct raft_message *msgs,
    size_t n, bool now)
{
	struct proto_buf out;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if ((rc = consensus_encode(&msgs[i], &out)) != 0) {
			log_warnx("raft: cannot encode a message to %016llx: "
			    "%s", (unsigned long long)msgs[i].to, err_str(rc));
			continue;
		}
		rc = consensus_send(rd, msgs[i].to, out.data, out.len);
		if (rc != 0)
			log_debug("raft: message to %016llx dropped: %s",
			    (unsigned long long)msgs[i].to, err_str(rc));
		proto_buf_free(&out);
	}
	/* out now, one write per peer, not after this update's applies */
	if (now && n > 0 && rd->tp != NULL)
		transport_flush(rd->tp);
}

/* ---- messages in ---- */

/* Converts a decoded MSG_RAFT_* body into m; entries go into *ents. */
static int
consensus_decode(const struct proto_msg *pm, struct raft_message *m,
    struct raft_entry **ents)
{
	memset(m, 0, sizeof(*m));
	*ents = NULL;
	switch (pm->type) {
	case MSG_RAFT_VOTE: {
		const struct msg_raft_vote *v = pm->body;

		m->type = RAFT_MSG_VOTE;
		m->from = v->from, m->to = v->to, m->term = v->term;
		m->u.vote.last_log_index = v->last_log_index;
		m->u.vote.last_log_term = v->last_log_term;
		m->u.vote.prevote = v->prevote;
		m->u.vote.transfer = v->transfer;
		return 0;
	}
	case MSG_RAFT_VOTE_RESULT: {
		const struct msg_raft_vote_result *v = pm->body;

		m->type = RAFT_MSG_VOTE_RESULT;
		m->from = v->from, m->to = v->to, m->term = v->term;
		m->u.vote_result.granted = v->granted;
		m->u.vote_result.prevote = v->prevote;
		return 0;
	}
	case MSG_RAFT_APPEND: {
		const struct msg_raft_append *a = pm->body;
		struct raft_entry *e = NULL;

		if (a->n_entries > 0 &&
		    (e = calloc(a->n_entries, sizeof(*e))) == NULL)
			return ERR_NOMEM;
		for (uint32_t i = 0; i < a->n_entries; i++) {
			if (a->entries[i].type < RAFT_ENTRY_NORMAL) {
				free(e);
				return ERR_BADMSG;
			}
			e[i].term = a->entries[i].term;
			e[i].index = a->entries[i].index;
			e[i].type = a->entries[i].type;
			e[i].data = (void *)a->entries[i].data.ptr;
			e[i].len = a->entries[i].data.len;
		}
		m->type = RAFT_MSG_APPEND;
		m->from = a->from, m->to = a->to, m->term = a->term;
		m->u.append.prev_index = a->prev_index;
		m->u.append.prev_term = a->prev_term;
		m->u.append.commit = a->commit;
		m->u.append.seq = a->seq;
		m->u.append.send_ms = a->send_ms;
		m->u.append.entries = e;
		m->u.append.n_entries = a->n_entries;
		*ents = e;
		return 0;
	}
	case MSG_RAFT_APPEND_RESULT: {
		const struct msg_raft_append_result *a = pm->body;

		m->type = RAFT_MSG_APPEND_RESULT;
		m->from = a->from, m->to = a->to, m->term = a->term;
		m->u.append_result.success = a->success;
		m->u.append_result.match = a->match;
		m->u.append_result.rejected = a->rejected;
		m->u.append_result.last_index = a->last_index;
		m->u.append_result.conflict_term = a->conflict_term;
		m->u.append_result.conflict_index = a->conflict_index;
		m->u.append_result.seq = a->seq;
		m->u.append_result.send_ms = a->send_ms;
		return 0;
	}
	case MSG_RAFT_SNAPSHOT: {
		const struct msg_raft_snapshot *s = pm->body;

		m->type = RAFT_MSG_SNAPSHOT;
		m->from = s->from, m->to = s->to, m->term = s->term;
		m->u.snapshot.index = s->index;
		m->u.snapshot.snap_term = s->snap_term;
		m->u.snapshot.conf = s->conf.ptr;
		m->u.snapshot.conf_len = s->conf.len;
		m->u.snapshot.offset = s->offset;
		m->u.snapshot.total = s->total;
		m->u.snapshot.data = s->data.ptr;
		m->u.snapshot.len = s->data.len;
		return 0;
	}
	case MSG_RAFT_SNAPSHOT_RESULT: {
		const struct msg_raft_snapshot_result *s = pm->body;

		m->type = RAFT_MSG_SNAPSHOT_RESULT;
		m->from = s->from, m->to = s->to, m->term = s->term;
		m->u.snapshot_result.index = s->index;
		m->u.snapshot_result.offset = s->offset;
		m->u.snapshot_result.done = s->done;
		return 0;
	}
	case MSG_RAFT_TIMEOUT_NOW: {
		const struct msg_raft_timeout_now *t = pm->body;

		m->type = RAFT_MSG_TIMEOUT_NOW;
		m->from = t->from, m->to = t->to, m->term = t->term;
		return 0;
	}
	}
	return ERR_BADMSG;
}

/* Transport callback: one message from a peer. */
static void
consensus_recv(void *arg, const uint8_t *data, size_t len)
{
	struct raftd *rd = arg;
	struct proto_msg pm;
	struct raft_message m;
	struct raft_entry *ents;
	int rc;

	if (rd->raft == NULL)
		return;
	if (proto_decode(data, len, &rd->rarena, &pm) != 0) {
		log_debug("raft: malformed message from a peer dropped");
		proto_arena_reset(&rd->rarena);
		return;
	}
	if (pm.type == MSG_RAFT_FORWARD) {
		const struct msg_raft_forward *f = pm.body;

		client_peer_note(rd, f->from, &f->reply_addr);
		forward_recv_request(rd, f->from, f->fwd_id,
		    (const uint8_t *)f->request.ptr, f->request.len);
	} else if (pm.type == MSG_RAFT_FORWARD_RESULT) {
		const struct msg_raft_forward_result *f = pm.body;

		forward_recv_result(rd, f->from, f->fwd_id,
		    (const uint8_t *)f->reply.ptr, f->reply.len);
	} else if (consensus_decode(&pm, &m, &ents) == 0) {
		raft_tick(rd->raft, loop_now_ms(rd->loop));
		if ((rc = raft_recv(rd->raft, &m)) != 0)
			log_debug("raft: message type %u from %016llx "
			    "refused: %s", m.type, (unsigned long long)m.from,
			    err_str(rc));
		free(ents);
		proto_arena_reset(&rd->rarena);
		consensus_step(rd);
		return;
	} else {
		log_debug("raft: unexpected %s from a peer",
		    proto_msg_name(pm.type));
	}
	proto_arena_reset(&rd->rarena);
}

/* ---- the drain ---- */

static void
consensus_timer_cb(struct loop *l, void *arg)
{
	struct raftd *rd = arg;

	(void)l;
	rd->raft_timer = 0;
	consensus_step(rd);
}

static void
consensus_arm(struct raftd *rd, uint64_t deadline)
{
	uint64_t now = loop_now_ms(rd->loop);

	if (rd->raft_timer != 0)
		loop_timer_cancel(rd->loop, rd->raft_timer);
	rd->raft_timer = loop_timer_add(rd->loop,
	    deadline > now ? deadline - now : 0, consensus_timer_cb, rd);
	if (rd->raft_timer == 0)
		fatalx("raft: cannot arm the timer");
}

static void
consensus_hard_state(struct raftd *rd, uint64_t term, uint64_t vote)
{
	uint8_t hs[16];
	int rc;

	store_put_be64(hs, term);
	store_put_be64(hs + 8, vote);
	if ((rc = store_meta_put(rd->store, CONSENSUS_HS_KEY, hs,
	    sizeof(hs))) != 0)
		fatalx("raft: cannot persist term %llu: %s",
		    (unsigned long long)term, err_str(rc));
	rd->term = term;
}

/* Role or leader changed: rd's view (status, dispatch) follows. */
static bool
consensus_role(struct raftd *rd, enum raft_role role, uint64_t leader)
{
	bool was = rd->leader;

	rd->leader = role == RAFT_LEADER;
	if (leader != 0)
		snprintf(rd->leader_addr, sizeof(rd->leader_addr), "%s",
		    consensus_addr(rd, leader));
	else
		rd->leader_addr[0] = '\0';
	log_info("raft: %s in term %llu, leader %s", raft_role_name(role),
	    (unsigned long long)raft_term(rd->raft),
	    leader ? rd->leader_addr : "unknown");
	return rd->leader && !was;
}

/*
 * A follower can hear from a leader before it can name it: the first
 * AppendEntries of a server that joined by the leader's replication
 * arrives before the configuration entry, and gossip may not have
 * reported the leader yet. Resolve the address again until known, so
 * /v1/status/leader and Stats stop saying "" for a known leader.
 */
static void
consensus_leader_addr(struct raftd *rd)
{
	uint64_t leader;
	const char *a;

	if (rd->raft == NULL || rd->leader_addr[0] != '\0' ||
	    (leader = raft_leader(rd->raft)) == 0)
		return;
	a = consensus_addr(rd, leader);
	if (*a == '\0')
		return;
	snprintf(rd->leader_addr, sizeof(rd->leader_addr), "%s", a);
	log_info("raft: leader is %s", rd->leader_addr);
}

/* Executes one drained update; returns false when it held nothing. */
static bool
consensus_execute(struct raftd *rd, struct raft_update *u, bool *elected,
    struct raft_read **reads, size_t *n_reads, bool *role_changed,
    bool *want_snapshot)
{
	uint64_t applied = kv_applied_index(rd->kv);
	bool lazy;
	int rc;

	if (u->hard_state_changed)
		consensus_hard_state(rd, u->term, u->vote);
	if (u->snapshot != NULL) {
		const struct raft_snapshot_install *si = u->snapshot;

		if ((rc = snapshot_install(rd, si)) != 0)
			fatalx("raft: cannot install the snapshot at %llu: %s",
			    (unsigned long long)si->index, err_str(rc));
		/* the stored log goes: queued writes are superseded */
		if ((rc = pipeline_log_write(rd, 1, NULL, 0)) != 0)
			fatalx("raft: log reset: %s", err_str(rc));
		rd->last_index = rd->persisted_index = si->index;
		rd->last_term = si->term;
		rd->log_first = si->index + 1;
	}
	/*
	 * Messages before the log write: the leader's AppendEntries leave
	 * before it wakes its writer thread (a futex wake-up of 10-30 µs
	 * here; pipeline.c says when the loop writes a batch itself). Entry-less AppendEntries that only
	 * carry a new commit index leave after the applies, at the end of the
	 * loop iteration, behind the answers to the clients (perf record of
	 * a PUT at one client: the two sends before the apply cost 20-100 µs
	 * of the reply, one of them often preempted by the follower it woke).
	 */
	lazy = u->n_committed > 0 && consensus_msgs_lazy(u->msgs, u->n_msgs);
	consensus_send_msgs(rd, u->msgs, u->n_msgs, !lazy);
	if (u->truncate_from != 0 || u->n_entries > 0) {
		if ((rc = pipeline_log_write(rd, u->truncate_from, u->entries,
		    u->n_entries)) != 0)
			fatalx("raft: log write: %s", err_str(rc));
	}
	if (u->compact_to != 0 && u->compact_to >= rd->log_first) {
		/* a snapshot covers them (snapshot.c) */
		if ((rc = store_log_compact(rd->store, u->compact_to)) != 0)
			log_warnx("raft: log compaction up to %llu failed: %s",
			    (unsigned long long)u->compact_to, err_str(rc));
		else
			rd->log_first = u->compact_to + 1;
	}
	pipeline_apply_all(rd, u->committed, u->n_committed);
	if (u->n_committed > 0)
		watch_flush(rd->watch);
	if (lazy && rd->tp != NULL)
		transport_flush_later(rd->tp); /* after the answers queued */
	rd->commit_index = u->commit_index;
	if (u->n_reads > 0) {
		struct raft_read *r = realloc(*reads,
		    (*n_reads + u->n_reads) * sizeof(*r));

		if (r == NULL)
			fatalx("raft: out of memory");
		memcpy(r + *n_reads, u->reads, u->n_reads * sizeof(*r));
		*reads = r;
		*n_reads += u->n_reads;
	}
	if (u->want_snapshot)
		*want_snapshot = true;
	if (u->role_changed) {
		*role_changed = true;
		if (consensus_role(rd, u->role, u->leader))
			*elected = true;
	}
	consensus_arm(rd, u->next_deadline_ms);
	return u->hard_state_changed || u->n_entries > 0 ||
	    u->truncate_from != 0 || u->n_msgs > 0 || u->n_committed > 0 ||
	    u->n_reads > 0 || u->role_changed || kv_applied_index(rd->kv) !=
	    applied;
}

void
consensus_step(struct raftd *rd)
{
	struct raft_update u;
	struct raft_read *reads = NULL;
	size_t n_reads = 0;
	bool elected = false, role_changed = false, want_snap = false, more;

	if (rd->raft == NULL)
		return;
	if (rd->in_step) {
		rd->step_again = true;
		return;
	}
	rd->in_step = true;
	do {
		rd->step_again = false;
		raft_tick(rd->raft, loop_now_ms(rd->loop));
		raft_drain(rd->raft, &u);
		more = consensus_execute(rd, &u, &elected, &reads, &n_reads,
		    &role_changed, &want_snap);
		/* follow-up inputs, now that u is done with */
		if (n_reads > 0) {
			forward_reads(rd, reads, n_reads);
			n_reads = 0;
		}
		if (elected) {
			elected = false;
			if (catalog_self_register(rd) != 0)
				log_warnx("raft: cannot register this server "
				    "in the catalog");
			discovery_leader(rd);
			reconcile_leader(rd);
		}
		if (role_changed) {
			role_changed = false;
			if (!rd->leader)
				pipeline_leadership_lost(rd);
			forward_leader_changed(rd);
			session_leader_changed(rd);
		}
		forward_applied(rd);
		if (want_snap && rd->snap_tried != raft_applied_index(rd->raft)) {
			/* once per applied index, even if refused */
			rd->snap_tried = raft_applied_index(rd->raft);
			snapshot_take(rd);
			more = true; /* compact_to comes with the next drain */
		}
		want_snap = false;
	} while ((more || rd->step_again) && rd->raft != NULL);
	consensus_leader_addr(rd);
	free(reads);
	rd->in_step = false;
}

static void
consensus_posted(void *arg)
{
	struct raftd *rd = arg;

	rd->step_posted = false;
	consensus_step(rd);
}

int
consensus_propose(struct raftd *rd, uint8_t type, const uint8_t *data,
    size_t len, uint64_t *index, uint64_t *term)
{
	uint8_t *buf;
	int rc;

	if (rd->raft == NULL)
		return ERR_CLOSED;
	if ((buf = malloc(len + 1)) == NULL)
		return ERR_NOMEM;
	buf[0] = type;
	if (len > 0)
		memcpy(buf + 1, data, len);
	raft_tick(rd->raft, loop_now_ms(rd->loop));
	rc = raft_propose(rd->raft, RAFT_ENTRY_NORMAL, buf, len + 1, index);
	free(buf);
	if (rc != 0)
		return rc;
	*term = raft_term(rd->raft);
	/* a lone voter has no AppendEntries to share: to the disk now */
	if (raft_configuration(rd->raft)->n == 1)
		consensus_step(rd);
	else
		consensus_kick(rd);
	return 0;
}

void
consensus_kick(struct raftd *rd)
{
	if (rd->step_posted || rd->raft == NULL)
		return;
	if (loop_post(rd->loop, consensus_posted, rd) != 0) {
		consensus_step(rd);
		return;
	}
	rd->step_posted = true;
}

void
consensus_persisted(struct raftd *rd, uint64_t index, uint64_t term)
{
	if (rd->raft == NULL)
		return;
	raft_tick(rd->raft, loop_now_ms(rd->loop));
	raft_persisted(rd->raft, index, term);
	consensus_step(rd);
}

int
consensus_bootstrap(struct raftd *rd, size_t n, const uint64_t *ids,
    const char *const *addrs)
{
	struct raft_conf c;
	int rc = 0;

	if (rd->raft == NULL)
		return ERR_CLOSED;
	if (raft_last_index(rd->raft) != 0 || raft_term(rd->raft) != 0)
		return ERR_EXISTS;
	raft_conf_init(&c);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = raft_conf_add(&c, ids[i], addrs[i], true);
	if (rc == 0)
		rc = raft_bootstrap(rd->raft, &c);
	raft_conf_fini(&c);
	if (rc != 0)
		return rc;
	log_info("raft: bootstrapped a cluster of %zu servers", n);
	consensus_step(rd);
	return 0;
}

/* ---- start and stop ---- */

/* Maps a stored entry to a core entry; data allocated into *buf. */
static int
consensus_entry(const struct store_entry *se, struct raft_entry *re)
{
	uint8_t *buf = NULL;

	memset(re, 0, sizeof(*re));
	re->index = se->index;
	re->term = se->term;
	switch (se->type) {
	case STORE_ENTRY_NOOP:
		re->type = RAFT_ENTRY_NOOP;
		return 0;
	case STORE_ENTRY_CONFIG:
		re->type = RAFT_ENTRY_CONF;
		if (se->len > 0 && (buf = malloc(se->len)) == NULL)
			return ERR_NOMEM;
		if (se->len > 0)
			memcpy(buf, se->data, se->len);
		re->data = buf;
		re->len = se->len;
		return 0;
	default:
		re->type = RAFT_ENTRY_NORMAL;
		if ((buf = malloc(se->len + 1)) == NULL)
			return ERR_NOMEM;
		buf[0] = se->type;
		if (se->len > 0)
			memcpy(buf + 1, se->data, se->len);
		re->data = buf;
		re->len = se->len + 1;
		return 0;
	}
}

static int
consensus_restore(struct raftd *rd)
{
	uint64_t first, last, last_term, term = 0, vote = 0;
	struct raft_entry *ents = NULL;
	struct raft_snapshot_meta snap;
	struct raft_conf sconf;
	uint8_t *sdata = NULL;
	struct store_val v;
	size_t n = 0;
	int rc;

	if ((rc = store_log_bounds(rd->store, &first, &last, &last_term)) != 0)
		return rc;
	if ((rc = store_meta_get(rd->store, CONSENSUS_HS_KEY, &v)) == 0) {
		if (v.len == 16) {
			term = store_get_be64(v.ptr);
			vote = store_get_be64(v.ptr + 8);
		}
		store_val_free(&v);
	} else if (rc != ERR_NOTFOUND) {
		return rc;
	}
	rc = 0;
	raft_conf_init(&sconf);
	memset(&snap, 0, sizeof(snap));
	rc = snapshot_meta_get(rd, &snap.index, &snap.term, &sconf);
	if (rc != 0 && rc != ERR_NOTFOUND) {
		raft_conf_fini(&sconf);
		return rc;
	}
	if (rc == 0) {
		/* the data: the state as it is now (snapshot.c) */
		snap.conf = &sconf;
		if ((rc = snapshot_dump(rd, &sdata, &snap.len)) != 0) {
			raft_conf_fini(&sconf);
			return rc;
		}
		snap.data = sdata;
	} else if (first > 1) {
		log_warnx("raft: the stored log starts at %llu with no "
		    "snapshot record (compacted by a single server)",
		    (unsigned long long)first);
		raft_conf_fini(&sconf);
		return ERR_CORRUPT;
	}
	rc = 0;
	if (last >= first && last > 0 &&
	    (ents = calloc(last - first + 1, sizeof(*ents))) == NULL) {
		raft_conf_fini(&sconf);
		free(sdata);
		return ERR_NOMEM;
	}
	for (uint64_t i = first; i >= 1 && i <= last; i++) {
		struct store_entry se;

		if ((rc = store_log_get(rd->store, i, &se)) != 0)
			break;
		rc = consensus_entry(&se, &ents[n]);
		store_entry_fini(&se);
		if (rc != 0)
			break;
		n++;
	}
	if (rc == 0)
		rc = raft_restore(rd->raft, term, vote,
		    snap.index != 0 ? &snap : NULL, ents, n,
		    kv_applied_index(rd->kv));
	for (size_t i = 0; i < n; i++)
		free(ents[i].data);
	free(ents);
	free(sdata);
	raft_conf_fini(&sconf);
	if (rc == 0) {
		rd->term = term;
		log_info("raft: restored term %llu, snapshot %llu, log "
		    "%llu..%llu, applied %llu", (unsigned long long)term,
		    (unsigned long long)snap.index, (unsigned long long)first,
		    (unsigned long long)last,
		    (unsigned long long)kv_applied_index(rd->kv));
	}
	return rc;
}

int
consensus_start(struct raftd *rd)
{
	const struct config *cfg = rd->cfg;
	struct raft_config rc_cfg;
	char uuid[NODE_ID_LEN + 1];
	const char *addr;
	uint32_t mult;
	int rc;

	proto_arena_init(&rd->rarena);
	if ((rc = node_id_ensure(cfg->data_dir, cfg->node_id, uuid,
	    sizeof(uuid))) != 0) {
		log_warnx("raft: node id in %s: %s", cfg->data_dir,
		    err_str(rc));
		return rc;
	}
	snprintf(rd->node_uuid, sizeof(rd->node_uuid), "%s", uuid);
	if ((rd->node_id = discovery_raft_id(uuid)) == 0) {
		log_warnx("raft: node id %s is not a UUID", uuid);
		return ERR_INVAL;
	}
	addr = cfg->advertise_addr && *cfg->advertise_addr ?
	    cfg->advertise_addr : cfg->bind_addr;
	if (addr == NULL || *addr == '\0' || strcmp(addr, "0.0.0.0") == 0)
		addr = "127.0.0.1";
	snprintf(rd->self_addr, sizeof(rd->self_addr), "%s:%d", addr,
	    cfg->ports.server);
	mult = cfg->raft_multiplier ? cfg->raft_multiplier : 1;
	memset(&rc_cfg, 0, sizeof(rc_cfg));
	rc_cfg.id = rd->node_id;
	rc_cfg.election_timeout_ms = CONSENSUS_ELECTION_MS * mult;
	rc_cfg.random_seed = rd->node_id ^ loop_clock_ms();
	rc_cfg.snapshot_chunk_bytes = CONSENSUS_CHUNK;
	rc_cfg.max_batch_bytes = CONSENSUS_CHUNK;
	rc_cfg.snapshot_threshold = cfg->raft_snapshot_threshold;
	rc_cfg.snapshot_trailing = cfg->raft_trailing_logs;
	if ((rd->raft = raft_new(&rc_cfg)) == NULL)
		return ERR_NOMEM;
	if ((rc = consensus_restore(rd)) != 0) {
		log_warnx("raft: cannot restore the log: %s", err_str(rc));
		return rc;
	}
	if ((rc = forward_init(rd)) != 0 || (rc = discovery_init(rd)) != 0)
		return rc;
	{
		char listen[320];
		const char *bind = cfg->bind_addr && *cfg->bind_addr ?
		    cfg->bind_addr : "0.0.0.0";

		snprintf(listen, sizeof(listen), "%s:%d", bind,
		    cfg->ports.server);
		if ((rc = transport_open(rd->loop, listen, consensus_recv, rd,
		    &rd->tp)) != 0) {
			log_warnx("raft: cannot listen on %s: %s", listen,
			    err_str(rc));
			return rc;
		}
	}
	log_info("raft: server %016llx at %s, election timeout %llu ms",
	    (unsigned long long)rd->node_id, rd->self_addr,
	    (unsigned long long)rc_cfg.election_timeout_ms);
	if ((rc = members_start(rd)) != 0)
		return rc;
	consensus_step(rd);
	return 0;
}

void
consensus_stop(struct raftd *rd)
{
	members_stop(rd);
	transport_close(rd->tp);
	rd->tp = NULL;
	if (rd->raft_timer != 0)
		loop_timer_cancel(rd->loop, rd->raft_timer);
	rd->raft_timer = 0;
	forward_fini(rd);
	discovery_fini(rd);
	raft_free(rd->raft);
	rd->raft = NULL;
	if (rd->clustered)
		proto_arena_free(&rd->rarena);
}
