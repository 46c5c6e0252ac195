/*
 * raft_snapshot.c — snapshots: taking them, sending and receiving
 * InstallSnapshot in chunks.
 *
 * The state machine (raftd's store) makes the snapshot and hands its bytes
 * to the core with raft_snapshot_taken(); the core keeps one copy of the
 * latest snapshot so that it can stream it to followers whose next entry
 * was compacted away, one chunk in flight per follower, resent on each
 * heartbeat until acknowledged (a stop-and-wait transfer; chunks are
 * large). A follower assembles the chunks, and when complete either
 * notes that its log already covers the snapshot (same index and term:
 * keep the log, 5.3) or discards its whole log and asks the caller to
 * restore the state machine. Compaction keeps snapshot_trailing entries
 * behind the snapshot for followers that are only a little behind (5.1).
 * Reference: Ongaro 2014, chapter 5 (5.1, 5.3).
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "raft_int.h"

#define RAFT_SNAPSHOT_MAX_BYTES ((uint64_t)1 << 36) /* 64 GiB sanity cap */

void
raft_snapshot_rsnap_clear(struct raft *r)
{
	free(r->rsnap.buf);
	memset(&r->rsnap, 0, sizeof(r->rsnap));
}

/* Takes ownership of data (malloc'd) and of conf's contents. */
int
raft_snapshot_set(struct raft *r, uint64_t index, uint64_t term,
    struct raft_conf *conf, void *data, size_t len)
{
	void *buf;
	size_t blen;
	int rc;

	if ((rc = raft_conf_encode(conf, &buf, &blen)) != 0) {
		raft_conf_fini(conf);
		free(data);
		return rc;
	}
	free(r->snap_conf_buf);
	r->snap_conf_buf = buf;
	r->snap_conf_len = blen;
	raft_conf_fini(&r->snap_conf);
	r->snap_conf = *conf;
	raft_conf_init(conf);
	free(r->snap_data);
	r->snap_data = data;
	r->snap_len = len;
	r->log.snap_index = index;
	r->log.snap_term = term;
	return 0;
}

int
raft_snapshot_taken(struct raft *r, uint64_t index, const void *data,
    size_t len)
{
	struct raft_conf conf;
	uint64_t term, cut;
	void *copy = NULL;
	int rc;

	if (index == 0 || index > r->applied || index <= r->log.snap_index ||
	    (len > 0 && data == NULL))
		return ERR_INVAL;
	if ((term = raft_log_term(&r->log, index)) == 0)
		return ERR_INVAL;
	if ((rc = raft_membership_conf_at(r, index, &conf)) != 0)
		return rc;
	if ((copy = malloc(len ? len : 1)) == NULL) {
		raft_conf_fini(&conf);
		return ERR_NOMEM;
	}
	if (len > 0)
		memcpy(copy, data, len);
	if ((rc = raft_snapshot_set(r, index, term, &conf, copy, len)) != 0)
		return rc;
	if (index > r->cfg.snapshot_trailing) {
		cut = index - r->cfg.snapshot_trailing;
		if (cut >= raft_log_first(&r->log)) {
			raft_log_compact(&r->log, cut);
			r->compact_to = cut;
		}
	}
	return 0;
}

void
raft_snapshot_get(const struct raft *r, struct raft_snapshot_meta *out)
{
	out->index = r->log.snap_index;
	out->term = r->log.snap_term;
	out->conf = &r->snap_conf;
	out->data = r->snap_data;
	out->len = r->snap_len;
}

void
raft_snapshot_send(struct raft *r, struct raft_progress *p)
{
	struct raft_message *m;
	struct raft_msg_snapshot *s;
	uint64_t left;

	if (r->log.snap_index == 0)
		return; /* nothing to send: cannot happen once compacted */
	if (p->snap_index != r->log.snap_index) {
		p->snap_index = r->log.snap_index;
		p->snap_offset = 0;
	}
	if (p->snap_offset > r->snap_len)
		p->snap_offset = 0;
	if ((m = raft_msg_new(r, RAFT_MSG_SNAPSHOT, p->id)) == NULL)
		return;
	s = &m->u.snapshot;
	s->index = r->log.snap_index;
	s->snap_term = r->log.snap_term;
	s->conf = r->snap_conf_buf;
	s->conf_len = r->snap_conf_len;
	s->offset = p->snap_offset;
	s->total = r->snap_len;
	left = r->snap_len - p->snap_offset;
	s->len = left < r->cfg.snapshot_chunk_bytes ?
	    left : r->cfg.snapshot_chunk_bytes;
	s->data = (const unsigned char *)r->snap_data + p->snap_offset;
	p->snap_sent = true;
}

static void
snapshot_reply(struct raft *r, const struct raft_message *m,
    uint64_t offset, bool done)
{
	struct raft_message *out;

	if ((out = raft_msg_new(r, RAFT_MSG_SNAPSHOT_RESULT, m->from)) == NULL)
		return;
	out->u.snapshot_result.index = m->u.snapshot.index;
	out->u.snapshot_result.offset = offset;
	out->u.snapshot_result.done = done;
}

/* The whole snapshot arrived: keep the log or replace it (5.3). */
static void
snapshot_complete(struct raft *r, const struct raft_message *m)
{
	const struct raft_msg_snapshot *s = &m->u.snapshot;
	struct raft_conf conf;
	unsigned char *data = r->rsnap.buf;

	if (raft_conf_decode(&conf, s->conf, s->conf_len) != 0) {
		raft_snapshot_rsnap_clear(r);
		return; /* malformed: the leader resends from offset 0 */
	}
	if (raft_log_term(&r->log, s->index) == s->snap_term) {
		raft_conf_fini(&conf);
		raft_snapshot_rsnap_clear(r);
		if (s->index > r->known_match)
			r->known_match = s->index;
		if (s->index > r->commit)
			r->commit = s->index;
		snapshot_reply(r, m, s->total, true);
		return;
	}
	r->rsnap.buf = NULL;
	raft_snapshot_rsnap_clear(r);
	raft_log_reset(&r->log, s->index, s->snap_term);
	if (raft_snapshot_set(r, s->index, s->snap_term, &conf, data,
	    s->total) != 0)
		return;
	r->commit = r->applied = r->persisted = s->index;
	r->known_match = s->index;
	r->truncate_from = 1;
	r->persist_from = 0;
	raft_membership_conf_changed(r);
	r->install.index = s->index;
	r->install.term = s->snap_term;
	r->install.conf = &r->snap_conf;
	r->install.data = r->snap_data;
	r->install.len = r->snap_len;
	r->install_pending = true;
	snapshot_reply(r, m, s->total, true);
}

void
raft_snapshot_recv(struct raft *r, const struct raft_message *m)
{
	const struct raft_msg_snapshot *s = &m->u.snapshot;

	if (m->term < r->term) {
		snapshot_reply(r, m, 0, false);
		return;
	}
	if (r->role == RAFT_LEADER)
		return;
	if (r->role != RAFT_FOLLOWER || r->leader != m->from)
		raft_become_follower(r, m->term, m->from);
	r->last_heard_leader = r->now;
	raft_election_reset_timer(r);
	if (s->index == 0 || s->snap_term == 0 || s->snap_term > m->term ||
	    s->total > RAFT_SNAPSHOT_MAX_BYTES || s->offset > s->total ||
	    s->len > s->total - s->offset || (s->len > 0 && s->data == NULL) ||
	    s->conf == NULL || s->conf_len == 0)
		return;
	if (s->index <= r->commit) {
		snapshot_reply(r, m, s->total, true);
		return;
	}
	if (r->rsnap.index != s->index || r->rsnap.term != s->snap_term ||
	    r->rsnap.total != s->total || r->rsnap.buf == NULL ||
	    r->rsnap.from != m->from || r->rsnap.msg_term != m->term) {
		if (s->offset != 0) {
			snapshot_reply(r, m, 0, false);
			return;
		}
		raft_snapshot_rsnap_clear(r);
		if ((r->rsnap.buf = malloc(s->total ? s->total : 1)) == NULL)
			return;
		r->rsnap.from = m->from;
		r->rsnap.msg_term = m->term;
		r->rsnap.index = s->index;
		r->rsnap.term = s->snap_term;
		r->rsnap.total = s->total;
	}
	if (s->offset != r->rsnap.got) {
		snapshot_reply(r, m, r->rsnap.got, false);
		return;
	}
	if (s->len > 0)
		memcpy(r->rsnap.buf + r->rsnap.got, s->data, s->len);
	r->rsnap.got += s->len;
	if (r->rsnap.got < r->rsnap.total) {
		snapshot_reply(r, m, r->rsnap.got, false);
		return;
	}
	snapshot_complete(r, m);
}

void
raft_snapshot_recv_result(struct raft *r, const struct raft_message *m)
{
	const struct raft_msg_snapshot_result *res = &m->u.snapshot_result;
	struct raft_progress *p;

	if (r->role != RAFT_LEADER || m->term != r->term)
		return;
	if ((p = raft_replication_find(r, m->from)) == NULL)
		return;
	p->last_contact_ms = r->now;
	if (p->state != RAFT_PROGRESS_SNAPSHOT || res->index != p->snap_index)
		return;
	if (res->done) {
		if (res->index > p->match)
			p->match = res->index;
		p->next = p->match + 1;
		p->state = RAFT_PROGRESS_PROBE;
		p->probe_sent = false;
		p->n_inflight = 0;
		return;
	}
	if (res->offset <= r->snap_len)
		p->snap_offset = res->offset;
	p->snap_sent = false;
}
