/*
 * pipeline.c — raftd's write path: propose → persist → commit → apply →
 * answer, with group commit (DESIGN.md §5, §6).
 *
 * A write becomes a log entry whose data is the request's encoded bytes
 * (MSG_KV_APPLY as received): the Raft core stamps it with the current
 * term (consensus.c: consensus_propose) and its drain hands the entries
 * to pipeline_log_write, which adds them to the batch being accumulated.
 * At most one batch is on its way to disk (writer.c); when it is durable
 * the loop tells the core (consensus_persisted), which decides the
 * commit index — a lone voter at once — and hands the committed entries
 * back to pipeline_apply_raft. That applies every committed entry in
 * order through the KV or catalog state machine (by the message type of
 * the entry), answers the held requests and wakes the blocking reads the
 * writes touched. Consecutive KV writes of one update are applied as a
 * run in one store write (kv.c kv_run_begin), answered after it. Every server runs the core, a single one too
 * (node.c); compaction follows the core's snapshots (snapshot.c).
 * Reference: Raft dissertation §3.5 (log replication), §6.3
 * (linearizable writes via client sessions), §10.2.1 (batching).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "err.h"
#include "kv.h"
#include "log.h"
#include "loop.h"
#include "ipc.h"
#include "raft.h"
#include "raftd.h"
#include "session.h"
#include "store.h"
#include "txn.h"
#include "watch.h"
#include "writer.h"

/* A batch that knows its daemon, so the writer's callback can post it. */
struct pipeline_batch {
	struct writer_batch b; /* first: a writer_batch * is a batch * */
	struct raftd *rd;
};

static void
pipeline_touch(void *arg, const char *key, size_t klen)
{
	struct raftd *rd = arg;

	watch_touch(rd->watch, key, klen);
}

/*
 * Answers the request held for index, if any. Raft: an entry applied at
 * the index with another term than proposed replaced the request's entry
 * after a change of leader (raft.h raft_propose): the client retries.
 */
static void
pipeline_answer(struct raftd *rd, uint64_t index, uint64_t term,
    const struct kv_result *r, uint32_t result_type)
{
	struct pipeline_wait *w;

	while ((w = rd->wait_head) != NULL && w->index <= index) {
		rd->wait_head = w->next;
		if (rd->wait_head == NULL)
			rd->wait_tail = NULL;
		if (w->index == index && w->term != term) {
			dispatch_reply_error(w->req, w->reqid, ERR_NOLEADER,
			    "leadership lost while committing log");
		} else if (w->index == index) {
			if (rd->failpoint_exit_after_apply) {
				log_warnx("failpoint raftd-exit-after-apply: "
				    "exiting after applying %llu",
				    (unsigned long long)index);
				_exit(9);
			}
			if (result_type == MSG_TXN_RESULT && r->err == 0)
				txn_reply(rd, w->req, w->reqid, r);
			else
				dispatch_reply_result(w->req, w->reqid,
				    result_type, r);
		} else {
			ipc_req_drop(w->req); /* cannot happen: logged */
			log_warnx("pipeline: request for entry %llu lost",
			    (unsigned long long)w->index);
		}
		free(w);
	}
}

/*
 * Raft: this server stopped being the leader. Its held writes may still
 * commit under the next leader, or be replaced: the answer is unknown
 * now and may stay unknown for as long as a partition lasts. Answer them
 * at once, as Consul does (hashicorp/raft fails the futures with
 * ErrLeadershipLost): a 500 the client retries (dedup makes a retry of
 * a write that did commit harmless). Entries applied later find no
 * waiter.
 */
void
pipeline_leadership_lost(struct raftd *rd)
{
	struct pipeline_wait *w;
	size_t n = 0;

	while ((w = rd->wait_head) != NULL) {
		rd->wait_head = w->next;
		dispatch_reply_error(w->req, w->reqid, ERR_NOLEADER,
		    "leadership lost while committing log");
		free(w);
		n++;
	}
	rd->wait_tail = NULL;
	if (n > 0)
		log_info("raft: leadership lost with %zu writes uncommitted",
		    n);
}

/*
 * The answers of a run of KV writes (kv_run_begin), sent once the run is
 * written: a held request is answered only after its write is in the
 * store. One run at a time per process (the loop thread applies
 * synchronously: a run opens and closes within one pipeline_apply_all).
 */
#define PIPELINE_RUN_MAX 512
#define PIPELINE_RUN_BYTES (4u << 20) /* a run of large values ends */
static struct pipeline_run_ans {
	uint64_t index, term;
	struct kv_result res;
} pipeline_run[PIPELINE_RUN_MAX];

/* Writes the open run and answers its requests. */
static void
pipeline_run_flush(struct raftd *rd)
{
	uint32_t n = kv_run_len(rd->kv);
	int rc;

	if ((rc = kv_run_end(rd->kv, pipeline_touch, rd)) != 0)
		fatalx("pipeline: applying entries up to %llu failed: %s",
		    n ? (unsigned long long)pipeline_run[n - 1].index : 0ULL,
		    err_str(rc));
	for (uint32_t i = 0; i < n; i++)
		pipeline_answer(rd, pipeline_run[i].index,
		    pipeline_run[i].term, &pipeline_run[i].res,
		    MSG_KV_APPLY_RESULT);
	kv_run_begin(rd->kv);
}

/* Applies e into the open run if it is a KV write that can join it. */
static bool
pipeline_run_add(struct raftd *rd, const struct store_entry *e)
{
	struct pipeline_run_ans *a;
	struct proto_msg msg;
	uint32_t n = kv_run_len(rd->kv);
	bool ok;
	int rc;

	if (e->type != STORE_ENTRY_COMMAND || !kv_run_open(rd->kv))
		return false;
	ok = proto_decode(e->data, e->len, &rd->arena, &msg) == 0 &&
	    msg.type == MSG_KV_APPLY && kv_run_eligible(msg.body);
	if (!ok) {
		proto_arena_reset(&rd->arena);
		return false;
	}
	if (n == PIPELINE_RUN_MAX || kv_run_bytes(rd->kv) >
	    PIPELINE_RUN_BYTES) {
		pipeline_run_flush(rd);
		n = 0;
	}
	a = &pipeline_run[n];
	a->index = e->index;
	a->term = e->term;
	rc = kv_apply_run(rd->kv, e->index, msg.body, &a->res);
	proto_arena_reset(&rd->arena);
	if (rc != 0)
		fatalx("pipeline: applying entry %llu failed: %s",
		    (unsigned long long)e->index, err_str(rc));
	return true;
}

/* Applies one committed entry to the state machine. */
static void
pipeline_apply_entry(struct raftd *rd, const struct store_entry *e)
{
	struct proto_msg msg;
	struct kv_result res;
	uint32_t result_type = MSG_KV_APPLY_RESULT;
	int rc;

	if (pipeline_run_add(rd, e))
		return;
	if (kv_run_len(rd->kv) > 0)
		pipeline_run_flush(rd);
	memset(&res, 0, sizeof(res));
	if (e->type == STORE_ENTRY_REAP && e->len == 8) {
		size_t n;

		rc = kv_reap(rd->kv, e->index, store_get_be64(e->data), &n);
		if (rc == 0 && n > 0)
			log_info("reaped %zu kv tombstones up to index %llu", n,
			    (unsigned long long)store_get_be64(e->data));
	} else if (e->type != STORE_ENTRY_COMMAND) {
		rc = kv_apply_skip(rd->kv, e->index);
	} else if (proto_decode(e->data, e->len, &rd->arena, &msg) != 0 ||
	    (msg.type != MSG_KV_APPLY && msg.type != MSG_CATALOG_REGISTER &&
	    msg.type != MSG_CATALOG_DEREGISTER &&
	    msg.type != MSG_SESSION_APPLY && msg.type != MSG_TXN)) {
		/* a command this version cannot read: skip, never wedge */
		log_warnx("pipeline: entry %llu is not a kv write, skipped",
		    (unsigned long long)e->index);
		res.err = ERR_BADMSG;
		snprintf(res.msg, sizeof(res.msg), "malformed log entry");
		rc = kv_apply_skip(rd->kv, e->index);
	} else if (msg.type == MSG_CATALOG_REGISTER) {
		result_type = MSG_CATALOG_WRITE_RESULT;
		rc = catalog_register(rd->cat, e->index, msg.body, &res,
		    pipeline_touch, rd);
		if (rc == 0)
			session_catalog_changed(rd, ((const struct
			    msg_catalog_register *)msg.body)->node.node);
	} else if (msg.type == MSG_CATALOG_DEREGISTER) {
		result_type = MSG_CATALOG_WRITE_RESULT;
		rc = catalog_deregister(rd->cat, e->index, msg.body, &res,
		    pipeline_touch, rd);
		if (rc == 0)
			session_catalog_changed(rd, ((const struct
			    msg_catalog_deregister *)msg.body)->node);
	} else if (msg.type == MSG_SESSION_APPLY) {
		rc = session_apply(rd, e->index, msg.body, &res);
	} else if (msg.type == MSG_TXN) {
		result_type = MSG_TXN_RESULT;
		rc = txn_apply(rd, e->index, msg.body, &res);
	} else {
		rc = kv_apply(rd->kv, e->index, msg.body, &res, pipeline_touch,
		    rd);
	}
	proto_arena_reset(&rd->arena);
	if (rc != 0)
		fatalx("pipeline: applying entry %llu failed: %s",
		    (unsigned long long)e->index, err_str(rc));
	pipeline_answer(rd, e->index, e->term, &res, result_type);
	txn_out_free(res.txn);
}

void
pipeline_apply_raft(struct raftd *rd, const struct raft_entry *re)
{
	struct store_entry e;

	memset(&e, 0, sizeof(e));
	e.index = re->index;
	e.term = re->term;
	if (re->type == RAFT_ENTRY_NORMAL && re->len > 0) {
		/* data is [store type][payload] (consensus.c) */
		e.type = ((const uint8_t *)re->data)[0];
		e.data = (uint8_t *)re->data + 1;
		e.len = re->len - 1;
	} else {
		e.type = re->type == RAFT_ENTRY_CONF ? STORE_ENTRY_CONFIG :
		    STORE_ENTRY_NOOP;
	}
	if (e.index <= kv_applied_index(rd->kv))
		return;
	pipeline_apply_entry(rd, &e);
	if (e.index > rd->commit_index)
		rd->commit_index = e.index;
}

void
pipeline_apply_all(struct raftd *rd, const struct raft_entry *re, size_t n)
{
	kv_run_begin(rd->kv);
	for (size_t i = 0; i < n; i++)
		pipeline_apply_raft(rd, &re[i]);
	pipeline_run_flush(rd);
	kv_run_end(rd->kv, pipeline_touch, rd); /* the empty one reopened */
}

/*
 * A small batch is written by the loop thread itself, at the end of the
 * loop iteration that made it (after that iteration's messages, applies
 * and answers), instead of by the writer thread. At
 * one client the writer path's two thread hand-offs (the writer's futex
 * wake-up, then its eventfd post back to the loop) cost a follower
 * 100-150 µs between an AppendEntries arriving and its ack leaving, on
 * top of the sync, and the leader's sync started 90 µs after its
 * AppendEntries left, late enough to be the last of the three (perf
 * record of the syscalls, bench/RESULTS.md "Where a replicated PUT's
 * latency goes at one client"). The overlap the thread buys (decoding,
 * applying and answering what arrives during the sync) is worth little
 * for a few entries; a batch that grew while a sync blocked the loop is
 * larger and goes to the writer thread, so under load nothing changes.
 * Order is unchanged: at most one batch is on its way to disk, and
 * rd->writing covers the scheduled one too, so entries arriving before
 * the timer runs join the batch.
 */
#define PIPELINE_INLINE_MAX 8			/* entries */
#define PIPELINE_INLINE_BYTES (256u << 10)

static bool
pipeline_inline_ok(const struct raftd *rd, const struct writer_batch *b)
{
	size_t bytes = 0;

	if (rd->stopping || b == NULL || b->n == 0 ||
	    b->n > PIPELINE_INLINE_MAX)
		return false;
	for (size_t i = 0; i < b->n; i++)
		bytes += b->ents[i].len;
	return bytes <= PIPELINE_INLINE_BYTES;
}

static void pipeline_persisted(void *arg);

/* Hands the accumulated batch to the writer, or writes it here (inl). */
static void
pipeline_write(struct raftd *rd, bool inl)
{
	struct writer_batch *b = rd->next;
	int rc;

	if (rd->trunc_pending != 0) {
		/* between two batches: the one in flight wrote first */
		if ((rc = store_log_truncate(rd->store,
		    rd->trunc_pending)) != 0)
			fatalx("pipeline: log truncation from %llu failed: %s",
			    (unsigned long long)rd->trunc_pending, err_str(rc));
		rd->trunc_pending = 0;
	}
	if (b == NULL || b->n == 0)
		return;
	rd->next = NULL;
	rd->n_batches++;
	rd->n_entries += b->n;
	rd->writing = true;
	if (inl) {
		b->err = store_log_append(rd->store, b->ents, b->n);
		pipeline_persisted(b);
		return;
	}
	if ((rc = writer_submit(rd->writer, b)) != 0)
		fatalx("pipeline: cannot hand a batch to the writer: %s",
		    err_str(rc));
}

/* End of the loop iteration: the scheduled inline write. */
static void
pipeline_inline_cb(struct loop *l, void *arg)
{
	struct raftd *rd = arg;

	(void)l;
	rd->inline_timer = 0;
	rd->writing = false;
	pipeline_write(rd, pipeline_inline_ok(rd, rd->next));
	if (rd->stopping && !rd->writing)
		loop_stop(rd->loop);
}

/* Hands the accumulated batch on if none is in flight. */
static void
pipeline_kick(struct raftd *rd)
{
	if (rd->writing)
		return;
	if (pipeline_inline_ok(rd, rd->next) && (rd->inline_timer =
	    loop_timer_add(rd->loop, 0, pipeline_inline_cb, rd)) != 0) {
		rd->writing = true; /* scheduled: the batch keeps filling */
		return;
	}
	pipeline_write(rd, false);
}

/* On the loop: batch pb is durable (or failed). */
static void
pipeline_persisted(void *arg)
{
	struct pipeline_batch *pb = arg;
	struct raftd *rd = pb->rd;
	uint64_t idx = 0, term = 0;

	rd->writing = false;
	if (pb->b.err != 0)
		fatalx("pipeline: log append of %zu entries failed: %s",
		    pb->b.n, err_str(pb->b.err));
	/* a client's write in the batch (not a leader's own no-op or
	 * self-registration at start) */
	if (rd->failpoint_exit_after_persist && pb->b.n > 0 &&
	    rd->wait_head != NULL &&
	    rd->wait_head->index <= pb->b.ents[pb->b.n - 1].index) {
		log_warnx("failpoint raftd-exit-after-persist: exiting with "
		    "entries up to %llu durable but not applied",
		    (unsigned long long)pb->b.ents[pb->b.n - 1].index);
		_exit(9);
	}
	if (pb->b.n > 0) {
		idx = pb->b.ents[pb->b.n - 1].index;
		term = pb->b.ents[pb->b.n - 1].term;
		rd->persisted_index = idx;
	}
	writer_batch_fini(&pb->b);
	free(pb);
	pipeline_kick(rd);
	if (idx != 0)
		consensus_persisted(rd, idx, term);
	if (rd->stopping && !rd->writing)
		loop_stop(rd->loop);
}

void
pipeline_on_written(void *arg, struct writer_batch *b)
{
	struct pipeline_batch *pb = (struct pipeline_batch *)b;

	if (loop_post(pb->rd->loop, pipeline_persisted, pb) != 0)
		fatalx("pipeline: cannot post a finished batch");
}

/* Holds req for (index, term). 0 or ERR_NOMEM. */
static int
pipeline_hold(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    uint64_t index, uint64_t term)
{
	struct pipeline_wait *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return ERR_NOMEM;
	w->index = index;
	w->term = term;
	w->reqid = reqid;
	w->req = req;
	if (rd->wait_tail != NULL)
		rd->wait_tail->next = w;
	else
		rd->wait_head = w;
	rd->wait_tail = w;
	return 0;
}

/*
 * Proposes an entry of type with a copy of data (the drain hands it to
 * the log and peers); holds req, if not NULL, until it is applied.
 */
static int
pipeline_append(struct raftd *rd, uint8_t type, const uint8_t *data,
    size_t len, struct ipc_req *req, uint64_t reqid)
{
	uint64_t index, term;
	int rc;

	if (rd->stopping)
		return ERR_CLOSED;
	rc = consensus_propose(rd, type, data, len, &index, &term);
	if ((rc == ERR_AGAIN || rc == ERR_NOTLEADER) && req != NULL) {
		/* leadership moving: the client retries (dedup makes it
		 * safe) */
		dispatch_reply_error(req, reqid, ERR_NOLEADER, rc == ERR_AGAIN ?
		    "leadership transfer in progress" : "No cluster leader");
		return 0;
	}
	if (rc != 0)
		return rc;
	if (req != NULL && (rc = pipeline_hold(rd, req, reqid, index,
	    term)) != 0) {
		/* proposed but nobody waits: the client retries (dedup) */
		dispatch_reply_error(req, reqid, ERR_INTERNAL,
		    "raftd: out of memory");
	}
	return 0;
}

int
pipeline_log_write(struct raftd *rd, uint64_t truncate_from,
    const struct raft_entry *ents, size_t n)
{
	struct writer_batch *b;

	if (truncate_from != 0) {
		/* entries not yet handed to the writer go without a trace */
		if ((b = rd->next) != NULL) {
			size_t keep = 0;

			for (size_t i = 0; i < b->n; i++) {
				if (b->ents[i].index < truncate_from)
					b->ents[keep++] = b->ents[i];
				else
					store_entry_fini(&b->ents[i]);
			}
			b->n = keep;
		}
		if (rd->trunc_pending == 0 || truncate_from < rd->trunc_pending)
			rd->trunc_pending = truncate_from;
		if (rd->last_index >= truncate_from)
			rd->last_index = truncate_from - 1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct raft_entry *re = &ents[i];
		struct store_entry e;

		if (rd->next == NULL) {
			struct pipeline_batch *pb = calloc(1, sizeof(*pb));

			if (pb == NULL)
				return ERR_NOMEM;
			pb->rd = rd;
			rd->next = &pb->b;
		}
		memset(&e, 0, sizeof(e));
		e.index = re->index;
		e.term = re->term;
		if (re->type == RAFT_ENTRY_NORMAL && re->len > 0) {
			e.type = ((const uint8_t *)re->data)[0];
			e.len = re->len - 1;
		} else {
			e.type = re->type == RAFT_ENTRY_CONF ?
			    STORE_ENTRY_CONFIG : STORE_ENTRY_NOOP;
			e.len = re->type == RAFT_ENTRY_CONF ? re->len : 0;
		}
		if ((e.data = malloc(e.len ? e.len : 1)) == NULL)
			return ERR_NOMEM;
		if (e.len > 0)
			memcpy(e.data, re->type == RAFT_ENTRY_NORMAL ?
			    (const uint8_t *)re->data + 1 : re->data, e.len);
		if (writer_batch_add(rd->next, &e) != 0)
			return ERR_NOMEM;
		rd->last_index = re->index;
		rd->last_term = re->term;
	}
	pipeline_kick(rd);
	return 0;
}

int
pipeline_submit(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const uint8_t *msg, size_t len)
{
	return pipeline_append(rd, STORE_ENTRY_COMMAND, msg, len, req, reqid);
}

int
pipeline_submit_internal(struct raftd *rd, uint8_t type,
    const uint8_t *data, size_t len)
{
	return pipeline_append(rd, type, data, len, NULL, 0);
}

int
pipeline_start(struct raftd *rd)
{
	uint64_t first, last, last_term;
	int rc;

	if ((rc = store_log_bounds(rd->store, &first, &last, &last_term)) != 0)
		return rc;
	/* the Raft core restores term, vote and log (consensus.c) and hands
	 * out committed entries once the commit index is known */
	rd->last_index = rd->persisted_index = last;
	rd->last_term = last_term;
	rd->log_first = first ? first : last + 1;
	rd->commit_index = kv_applied_index(rd->kv);
	return 0;
}

void
pipeline_stop(struct raftd *rd)
{
	rd->stopping = true;
	if (!rd->writing)
		pipeline_kick(rd); /* finish what was accepted */
	if (!rd->writing)
		loop_stop(rd->loop);
}

void
pipeline_fini(struct raftd *rd)
{
	struct pipeline_wait *w;

	if (rd->inline_timer != 0) {
		/* accepted entries are written, as writer_free() writes the
		 * queued batches; the timer must not fire on a later instance */
		loop_timer_cancel(rd->loop, rd->inline_timer);
		rd->inline_timer = 0;
		rd->writing = false;
		pipeline_write(rd, true);
	}
	while ((w = rd->wait_head) != NULL) {
		rd->wait_head = w->next;
		ipc_req_drop(w->req);
		free(w);
	}
	rd->wait_tail = NULL;
	if (rd->next != NULL) {
		writer_batch_fini(rd->next);
		free(rd->next);
		rd->next = NULL;
	}
}
