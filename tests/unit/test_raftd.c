/*
 * test_raftd.c — one raftd node in-process (raftd/node.c with the real
 * store, pipeline, writer thread and IPC server) driven through an IPC
 * client on the same loop: the messages httpd sends, their answers,
 * dedup of re-sent writes (answered at dispatch and, for duplicates in
 * flight together, at apply), malformed input, blocking reads woken by a
 * matching write or ended by their wait (those of one query evaluated
 * together, each on its own index and request id), group commit, and a
 * restart with the data, the indexes and a bumped term. The node runs the Raft
 * core as a single voter: its log starts with the configuration (1) and
 * the no-op of its first term (2), so the first write is at index 3 (B
 * + 1), and a restart elects it again (a new term and its no-op).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "proto.h"
#include "raftd/kv.h"
#include "raftd/raft.h"
#include "raftd/raftd.h"
#include "raftd/store.h"

struct reply {
	bool done;
	int err;
	uint8_t *data;
	size_t len;
	uint64_t at_ms;
};

/* Entries before the first write: configuration and no-op. */
#define B 2

struct fx {
	char dir[64];
	char run[96];
	struct config cfg;
	struct loop *l;
	struct raftd rd;
	struct ipc_client *c;
	struct proto_arena arena;
	bool timed_out;
};

static void
fx_start(struct fx *f)
{
	char url[256];

	assert_int_equal(node_open(&f->rd, f->l, &f->cfg), 0);
	assert_int_equal(ipc_url(url, sizeof(url), f->run, NODE_SOCKET), 0);
	assert_int_equal(ipc_client_open(f->l, url, &f->c), 0);
}

static void
fx_stop(struct fx *f)
{
	ipc_client_close(f->c);
	f->c = NULL;
	node_close(&f->rd);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/test_raftd.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->run, sizeof(f->run), "%s/run", f->dir);
	assert_int_equal(mkdir(f->run, 0700), 0);
	f->cfg.dev = true;
	f->cfg.server = true;
	f->cfg.data_dir = f->dir;
	f->cfg.runtime_dir = f->run;
	f->cfg.bind_addr = "127.0.0.1";
	f->cfg.advertise_addr = "";
	f->cfg.ports.server = 0; /* the raft transport on any free port */
	f->cfg.raft_trailing_logs = 10000;
	f->cfg.raft_snapshot_threshold = 16384;
	f->l = loop_new();
	assert_non_null(f->l);
	proto_arena_init(&f->arena);
	fx_start(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	fx_stop(f);
	loop_free(f->l);
	proto_arena_free(&f->arena);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A reply slot and its fixture. */
struct slot {
	struct reply r;
	struct fx *f;
};

static void
on_reply(void *arg, int err, const uint8_t *data, size_t len)
{
	struct slot *s = arg;

	s->r.done = true;
	s->r.err = err;
	s->r.at_ms = loop_clock_ms();
	if (data != NULL) {
		s->r.data = malloc(len ? len : 1);
		memcpy(s->r.data, data, len);
		s->r.len = len;
	}
	loop_stop(s->f->l);
}

static void
send_raw(struct fx *f, struct slot *s, const uint8_t *buf, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->f = f;
	assert_int_equal(ipc_call(f->c, buf, len, 20000, on_reply, s, NULL),
	    0);
}

static void
send_msg(struct fx *f, struct slot *s, uint32_t type, const void *body)
{
	struct proto_buf b;

	assert_int_equal(proto_encode(type, 42, body, &b), 0);
	send_raw(f, s, b.data, b.len);
	proto_buf_free(&b);
}

static void
guard_cb(struct loop *l, void *arg)
{
	struct fx *f = arg;

	f->timed_out = true;
	loop_stop(l);
}

/* Runs the loop until slots s[0..n) are all answered. */
static void
wait_n(struct fx *f, struct slot *s, int n)
{
	uint64_t t = loop_timer_add(f->l, 15000, guard_cb, f);

	for (int i = 0; i < n; i++) {
		while (!s[i].r.done && !f->timed_out)
			assert_int_equal(loop_run(f->l), 0);
	}
	loop_timer_cancel(f->l, t);
	if (f->timed_out)
		fail_msg("timed out waiting for replies");
}

static void
wait_one(struct fx *f, struct slot *s)
{
	wait_n(f, s, 1);
}

static void
stop_cb(struct loop *l, void *arg)
{
	bool *fired = arg;

	*fired = true;
	loop_stop(l);
}

/* Runs the loop for ms (replies arriving meanwhile are recorded). */
static void
run_for(struct fx *f, uint64_t ms)
{
	bool fired = false;
	uint64_t t = loop_timer_add(f->l, ms, stop_cb, &fired);

	while (!fired)
		assert_int_equal(loop_run(f->l), 0);
	loop_timer_cancel(f->l, t);
}

/* Runs the loop until the no-op of the leader's term is applied. */
static void
settle(struct fx *f)
{
	for (int i = 0; i < 200 && (f->rd.raft == NULL ||
	    !raft_leader_ready(f->rd.raft) ||
	    kv_applied_index(f->rd.kv) < raft_commit_index(f->rd.raft)); i++)
		run_for(f, 5);
	assert_true(raft_leader_ready(f->rd.raft));
}

/* Decodes s's reply; asserts its type. Body lives in f->arena. */
static void *
body(struct fx *f, struct slot *s, uint32_t type)
{
	struct proto_msg m;

	assert_true(s->r.done);
	assert_int_equal(s->r.err, 0);
	assert_int_equal(proto_decode(s->r.data, s->r.len, &f->arena, &m), 0);
	if (m.type != type && m.type == MSG_ERROR) {
		struct msg_error *e = m.body;

		fail_msg("error %d: %.*s", e->code, (int)e->message.len,
		    e->message.ptr);
	}
	assert_int_equal(m.type, type);
	return m.body;
}

static void
slot_free(struct slot *s)
{
	free(s->r.data);
	s->r.data = NULL;
}

static struct msg_kv_apply
mkput(uint64_t seq, uint8_t op, const char *key, const char *val,
    uint64_t cas)
{
	struct msg_kv_apply a;

	memset(&a, 0, sizeof(a));
	a.client_id = 0xc0ffee;
	a.seq = seq;
	a.op = op;
	a.key = proto_str_c(key);
	a.value = proto_str_c(val);
	a.cas_index = cas;
	return a;
}

static struct msg_kv_apply_result
put(struct fx *f, struct msg_kv_apply a)
{
	struct slot s;
	struct msg_kv_apply_result r;

	send_msg(f, &s, MSG_KV_APPLY, &a);
	wait_one(f, &s);
	r = *(struct msg_kv_apply_result *)body(f, &s, MSG_KV_APPLY_RESULT);
	slot_free(&s);
	return r;
}

static struct msg_kv_get
mkget(const char *key, uint8_t mode, uint64_t min_index, uint32_t wait_ms)
{
	struct msg_kv_get q;

	memset(&q, 0, sizeof(q));
	q.key = proto_str_c(key);
	q.mode = mode;
	q.opts.min_index = min_index;
	q.opts.wait_ms = wait_ms;
	return q;
}

static void
test_put_get_status(void **state)
{
	struct fx *f = *state;
	struct msg_kv_apply_result r;
	struct msg_kv_get q = mkget("a/b", KV_GET_ONE, 0, 0);
	struct msg_kv_get_result *g;
	struct msg_status_get st = { 0 };
	struct msg_status_get_result *sr;
	struct slot s;
	char self[32];
	bool leader_seen = false;

	r = put(f, mkput(1, KV_OP_SET, "a/b", "v1", 0));
	assert_true(r.ok);
	assert_int_equal(r.index, B + 1);
	send_msg(f, &s, MSG_KV_GET, &q);
	wait_one(f, &s);
	g = body(f, &s, MSG_KV_GET_RESULT);
	assert_true(g->found);
	assert_int_equal(g->n_entries, 1);
	assert_true(proto_str_eq(g->entries[0].value, "v1"));
	assert_int_equal(g->meta.index, B + 1);
	assert_true(g->meta.known_leader);
	slot_free(&s);

	q = mkget("nope", KV_GET_ONE, 0, 0);
	send_msg(f, &s, MSG_KV_GET, &q);
	wait_one(f, &s);
	g = body(f, &s, MSG_KV_GET_RESULT);
	assert_false(g->found);
	assert_int_equal(g->meta.index, B + 1);
	slot_free(&s);

	snprintf(self, sizeof(self), "127.0.0.1:%d", f->cfg.ports.server);
	send_msg(f, &s, MSG_STATUS_GET, &st);
	wait_one(f, &s);
	sr = body(f, &s, MSG_STATUS_GET_RESULT);
	assert_true(proto_str_eq(sr->leader, self));
	assert_int_equal(sr->peers.n, 1);
	assert_true(proto_str_eq(sr->peers.v[0], self));
	for (uint32_t i = 0; i < sr->raft.n; i++) {
		if (proto_str_eq(sr->raft.keys[i], "state"))
			assert_true(proto_str_eq(sr->raft.vals[i], "Leader"));
		if (proto_str_eq(sr->raft.keys[i], "applied_index"))
			assert_true(proto_str_eq(sr->raft.vals[i], "3"));
	}
	for (uint32_t i = 0; i < sr->consul.n; i++)
		if (proto_str_eq(sr->consul.keys[i], "leader"))
			leader_seen = proto_str_eq(sr->consul.vals[i], "true");
	assert_true(leader_seen);
	slot_free(&s);
}

static void
test_dedup_resend(void **state)
{
	struct fx *f = *state;
	struct msg_kv_apply a = mkput(7, KV_OP_CAS, "once", "first", 0);
	struct msg_kv_apply_result r;
	struct slot s1, s2;

	r = put(f, a);
	assert_true(r.ok);
	assert_int_equal(r.index, B + 1);
	/* the same (client, seq) re-sent later: the first result */
	r = put(f, a);
	assert_true(r.ok);
	assert_int_equal(r.index, B + 1);
	/* two copies in flight together: both become log entries, the
	 * second is answered with the first's result when applied */
	a = mkput(8, KV_OP_CAS, "twice", "x", 0);
	send_msg(f, &s1, MSG_KV_APPLY, &a);
	send_msg(f, &s2, MSG_KV_APPLY, &a);
	wait_one(f, &s1);
	wait_one(f, &s2);
	r = *(struct msg_kv_apply_result *)body(f, &s1, MSG_KV_APPLY_RESULT);
	assert_true(r.ok);
	assert_int_equal(r.index, B + 2);
	r = *(struct msg_kv_apply_result *)body(f, &s2, MSG_KV_APPLY_RESULT);
	assert_true(r.ok);
	assert_int_equal(r.index, B + 2);
	slot_free(&s1);
	slot_free(&s2);
	/* a new seq is a new write: cas 0 on an existing key is false */
	r = put(f, mkput(9, KV_OP_CAS, "twice", "y", 0));
	assert_false(r.ok);
}

static void
test_errors(void **state)
{
	struct fx *f = *state;
	struct msg_kv_apply a = mkput(1, KV_OP_LOCK, "l", "", 0);
	struct msg_kv_get_result bogus = { 0 };
	struct msg_error *e;
	struct slot s;
	const uint8_t junk[] = { 0x93, 0x01, 0xff, 0xc1 };

	a.session = proto_str_c("sess-1");
	send_msg(f, &s, MSG_KV_APPLY, &a);
	wait_one(f, &s);
	e = body(f, &s, MSG_ERROR);
	assert_int_equal(e->code, ERR_SESSION);
	assert_true(proto_str_eq(e->message, "invalid session \"sess-1\""));
	slot_free(&s);

	send_raw(f, &s, junk, sizeof(junk));
	wait_one(f, &s);
	e = body(f, &s, MSG_ERROR);
	assert_int_equal(e->code, ERR_BADMSG);
	slot_free(&s);

	send_msg(f, &s, MSG_KV_GET_RESULT, &bogus); /* not served here */
	wait_one(f, &s);
	e = body(f, &s, MSG_ERROR);
	assert_int_equal(e->code, ERR_BADMSG);
	slot_free(&s);

	a = mkput(2, 0, "k", "", 0); /* op 0 */
	send_msg(f, &s, MSG_KV_APPLY, &a);
	wait_one(f, &s);
	e = body(f, &s, MSG_ERROR);
	assert_int_equal(e->code, ERR_BADMSG);
	slot_free(&s);
	/* nothing of this was applied */
	assert_int_equal(kv_applied_index(f->rd.kv), B + 1);
}

static void
test_blocking(void **state)
{
	struct fx *f = *state;
	struct msg_kv_get q1, q2, q3;
	struct msg_kv_get_result *g;
	struct slot s1, s2, s3;
	uint64_t t0;

	put(f, mkput(1, KV_OP_SET, "w/a", "1", 0)); /* B + 1 */
	put(f, mkput(2, KV_OP_SET, "other", "1", 0)); /* B + 2 */
	/* held: key w/a at B + 1, prefix w/ at B + 1, missing key at B + 2 */
	q1 = mkget("w/a", KV_GET_ONE, B + 1, 10000);
	q2 = mkget("w/", KV_GET_RECURSE, B + 1, 10000);
	q3 = mkget("gone", KV_GET_ONE, B + 2, 10000);
	send_msg(f, &s1, MSG_KV_GET, &q1);
	send_msg(f, &s2, MSG_KV_GET, &q2);
	send_msg(f, &s3, MSG_KV_GET, &q3);
	run_for(f, 100);
	assert_false(s1.r.done || s2.r.done || s3.r.done);
	/* a write elsewhere wakes only the missing-key watcher */
	put(f, mkput(3, KV_OP_SET, "other", "2", 0)); /* B + 3 */
	run_for(f, 100);
	assert_false(s1.r.done || s2.r.done);
	assert_true(s3.r.done);
	g = body(f, &s3, MSG_KV_GET_RESULT);
	assert_false(g->found);
	assert_int_equal(g->meta.index, B + 3);
	/* a delete under the prefix wakes both */
	put(f, mkput(4, KV_OP_DELETE, "w/a", "", 0)); /* B + 4 */
	wait_one(f, &s1);
	wait_one(f, &s2);
	g = body(f, &s1, MSG_KV_GET_RESULT);
	assert_false(g->found);
	assert_int_equal(g->meta.index, B + 4);
	g = body(f, &s2, MSG_KV_GET_RESULT);
	assert_false(g->found);
	assert_int_equal(g->meta.index, B + 4);
	slot_free(&s1);
	slot_free(&s2);
	slot_free(&s3);
	/* the wait ends with the current answer */
	q1 = mkget("w/", KV_GET_KEYS, B + 4, 200);
	t0 = loop_clock_ms();
	send_msg(f, &s1, MSG_KV_GET, &q1);
	wait_one(f, &s1);
	assert_true(s1.r.at_ms - t0 >= 200);
	assert_true(s1.r.at_ms - t0 < 200 + 200 / 16 + 500);
	g = body(f, &s1, MSG_KV_GET_RESULT);
	assert_int_equal(g->meta.index, B + 4);
	slot_free(&s1);
	/* index already past: answered at once */
	q1 = mkget("other", KV_GET_ONE, B + 2, 10000);
	send_msg(f, &s1, MSG_KV_GET, &q1);
	wait_one(f, &s1);
	g = body(f, &s1, MSG_KV_GET_RESULT);
	assert_int_equal(g->meta.index, B + 3);
	slot_free(&s1);
}

/* Sends body under proto request id reqid (send_msg uses 42). */
static void
send_id(struct fx *f, struct slot *s, uint64_t reqid, const void *q)
{
	struct proto_buf b;

	assert_int_equal(proto_encode(MSG_KV_GET, reqid, q, &b), 0);
	send_raw(f, s, b.data, b.len);
	proto_buf_free(&b);
}

/* Decodes s's KV reply, asserting its request id; body in f->arena. */
static struct msg_kv_get_result *
kv_reply_id(struct fx *f, struct slot *s, uint64_t reqid)
{
	struct proto_msg m;

	assert_true(s->r.done);
	assert_int_equal(s->r.err, 0);
	assert_int_equal(proto_decode(s->r.data, s->r.len, &f->arena, &m), 0);
	assert_int_equal(m.type, MSG_KV_GET_RESULT);
	assert_int_equal(m.reqid, reqid);
	return m.body;
}

/*
 * Held reads of one query are evaluated together (watch.c's groups,
 * dispatch_watch_group): each answered one gets the reply under its own
 * request id, one whose index the write did not pass stays held, and a
 * different query (mode, consistency) on the same key is not merged.
 */
static void
test_blocking_grouped(void **state)
{
	struct fx *f = *state;
	struct msg_kv_get q[5];
	struct msg_kv_get_result *g;
	struct slot s[5];
	uint64_t ids[5] = { 7, 300, 70000, 5000000000ULL, 9 };

	put(f, mkput(1, KV_OP_SET, "g/k", "1", 0)); /* B + 1 */
	q[0] = mkget("g/k", KV_GET_ONE, B + 1, 10000);
	q[1] = mkget("g/k", KV_GET_ONE, B + 1, 20000); /* other wait */
	q[2] = mkget("g/k", KV_GET_ONE, B + 2, 10000); /* past the next */
	q[3] = mkget("g/k", KV_GET_RECURSE, B + 1, 10000);
	q[4] = mkget("g/k", KV_GET_ONE, B + 1, 10000);
	q[4].opts.consistency = PROTO_CONSISTENCY_STALE;
	for (int i = 0; i < 5; i++)
		send_id(f, &s[i], ids[i], &q[i]);
	run_for(f, 100);
	for (int i = 0; i < 5; i++)
		assert_false(s[i].r.done);
	put(f, mkput(2, KV_OP_SET, "g/k", "2", 0)); /* B + 2 */
	wait_n(f, s, 2);
	wait_n(f, &s[3], 2);
	for (int i = 0; i < 5; i++) {
		if (i == 2)
			continue;
		g = kv_reply_id(f, &s[i], ids[i]);
		assert_int_equal(g->meta.index, B + 2);
		if (i == 3) {
			assert_int_equal(g->n_entries, 1);
		} else {
			assert_true(g->found);
			assert_int_equal(g->n_entries, 1);
		}
		assert_memory_equal(g->entries[0].value.ptr, "2", 1);
		slot_free(&s[i]);
	}
	/* the watcher at B + 2 stays held until a write passes it */
	run_for(f, 100);
	assert_false(s[2].r.done);
	put(f, mkput(3, KV_OP_SET, "g/k", "3", 0)); /* B + 3 */
	wait_one(f, &s[2]);
	g = kv_reply_id(f, &s[2], ids[2]);
	assert_int_equal(g->meta.index, B + 3);
	assert_memory_equal(g->entries[0].value.ptr, "3", 1);
	slot_free(&s[2]);
}

static void
test_group_commit_and_restart(void **state)
{
	struct fx *f = *state;
	enum { N = 200 };
	struct slot *s = calloc(N, sizeof(*s));
	struct msg_kv_apply a;
	struct msg_kv_get q;
	struct msg_kv_get_result *g;
	struct slot one;
	char key[N][16];
	bool seen[N + B + 1];
	uint64_t term;

	for (int i = 0; i < N; i++) {
		snprintf(key[i], sizeof(key[i]), "g/%03d", i);
		a = mkput((uint64_t)i + 1, KV_OP_SET, key[i], "v", 0);
		send_msg(f, &s[i], MSG_KV_APPLY, &a);
	}
	wait_n(f, s, N);
	/* requests in flight together may arrive in any order: the
	 * indexes are B + 1..B + N, each once */
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < N; i++) {
		struct msg_kv_apply_result *r = body(f, &s[i],
		    MSG_KV_APPLY_RESULT);

		assert_true(r->ok);
		assert_true(r->index >= B + 1 && r->index <= B + N);
		assert_false(seen[r->index]);
		seen[r->index] = true;
		slot_free(&s[i]);
	}
	/* many writes, fewer synced batches */
	assert_int_equal(f->rd.n_entries, N + B);
	assert_true(f->rd.n_batches < N);
	term = f->rd.term;

	fx_stop(f);
	fx_start(f);
	/* elected again at once: a new term and its no-op */
	settle(f);
	assert_int_equal(f->rd.term, term + 1);
	assert_int_equal(kv_applied_index(f->rd.kv), N + B + 1);
	assert_int_equal(f->rd.last_index, N + B + 1);
	q = mkget("g/", KV_GET_KEYS, 0, 0);
	send_msg(f, &one, MSG_KV_GET, &q);
	wait_one(f, &one);
	g = body(f, &one, MSG_KV_GET_RESULT);
	assert_int_equal(g->keys.n, N);
	assert_int_equal(g->meta.index, N + B);
	slot_free(&one);
	/* a re-sent old write is still answered from its first result */
	a = mkput(N, KV_OP_SET, key[N - 1], "again", 0);
	{
		struct msg_kv_apply_result r = put(f, a);

		assert_true(r.ok);
		assert_true(r.index >= B + 1 && r.index <= B + N);
	}
	assert_int_equal(kv_applied_index(f->rd.kv), N + B + 1);
	free(s);
}

static void
test_tombstone_reap(void **state)
{
	struct fx *f = *state;
	struct msg_kv_get q = mkget("r/", KV_GET_KEYS, 0, 0);
	struct msg_kv_get_result *g;
	struct slot s;

	put(f, mkput(1, KV_OP_SET, "r/a", "1", 0));  /* B + 1 */
	put(f, mkput(2, KV_OP_DELETE, "r/a", "", 0)); /* B + 2: tombstone */
	put(f, mkput(3, KV_OP_SET, "z", "1", 0));    /* B + 3 */
	/* a short TTL: tombstones older than 300 ms go */
	reap_stop(&f->rd);
	f->rd.reap_ttl_ms = 300;
	f->rd.reap_interval_ms = 50;
	assert_int_equal(reap_start(&f->rd), 0);
	send_msg(f, &s, MSG_KV_GET, &q);
	wait_one(f, &s);
	g = body(f, &s, MSG_KV_GET_RESULT);
	assert_int_equal(g->meta.index, B + 2); /* the tombstone's */
	slot_free(&s);
	assert_int_equal(f->rd.last_index, B + 3);
	/* not before the TTL */
	run_for(f, 150);
	assert_int_equal(f->rd.last_index, B + 3);
	run_for(f, 400);
	/* one reap entry went through the log and was applied */
	assert_int_equal(f->rd.last_index, B + 4);
	assert_int_equal(kv_applied_index(f->rd.kv), B + 4);
	send_msg(f, &s, MSG_KV_GET, &q);
	wait_one(f, &s);
	g = body(f, &s, MSG_KV_GET_RESULT);
	assert_int_equal(g->meta.index, B + 3); /* now the table index */
	slot_free(&s);
	/* no new writes: no more reap entries */
	run_for(f, 400);
	assert_int_equal(f->rd.last_index, B + 4);
}

static void
test_log_compaction(void **state)
{
	struct fx *f = *state;
	uint64_t first, last, term, applied;
	struct msg_kv_get q = mkget("c/", KV_GET_KEYS, 0, 0);
	struct msg_kv_get_result *g;
	struct slot s;

	/* Raft snapshots every 20 entries, 10 kept behind them */
	fx_stop(f);
	f->cfg.raft_snapshot_threshold = 20;
	f->cfg.raft_trailing_logs = 10;
	fx_start(f);
	settle(f);
	for (uint64_t i = 1; i <= 50; i++) {
		char k[16];

		snprintf(k, sizeof(k), "c/%02llu", (unsigned long long)i);
		put(f, mkput(i, KV_OP_SET, k, "v", 0));
	}
	run_for(f, 50);
	assert_int_equal(store_log_bounds(f->rd.store, &first, &last, &term),
	    0);
	assert_true(first > 1);
	assert_true(last - first + 1 < 50);
	assert_int_equal(f->rd.log_first, first);
	/* a restart resumes from the state and the snapshot record */
	applied = kv_applied_index(f->rd.kv);
	fx_stop(f);
	fx_start(f);
	settle(f);
	assert_int_equal(f->rd.log_first, first);
	assert_int_equal(kv_applied_index(f->rd.kv), applied + 1);
	put(f, mkput(51, KV_OP_SET, "c/51", "v", 0));
	send_msg(f, &s, MSG_KV_GET, &q);
	wait_one(f, &s);
	g = body(f, &s, MSG_KV_GET_RESULT);
	assert_int_equal(g->keys.n, 51);
	assert_int_equal(g->meta.index, applied + 2);
	slot_free(&s);
}

static void
test_bad_log_entries(void **state)
{
	struct fx *f = *state;
	struct store_entry e[3];
	struct msg_kv_apply_result r;
	uint8_t junk[] = { 0xc1, 0xc1, 0xc1 };
	uint8_t reap[8];
	uint64_t first, last, term;
	struct store *st;
	char err[256], path[160];

	put(f, mkput(1, KV_OP_SET, "k", "v", 0)); /* B + 1 */
	fx_stop(f);
	/* entries this version cannot read, written behind its back */
	snprintf(path, sizeof(path), "%s/raft", f->dir);
	assert_int_equal(store_open(path, &st, err, sizeof(err)), 0);
	assert_int_equal(store_log_bounds(st, &first, &last, &term), 0);
	assert_int_equal(last, B + 1);
	memset(e, 0, sizeof(e));
	e[0].index = last + 1;
	e[0].term = term;
	e[0].type = STORE_ENTRY_COMMAND;
	e[0].data = junk;
	e[0].len = sizeof(junk);
	e[1].index = last + 2;
	e[1].term = term;
	e[1].type = 77; /* unknown type */
	e[2].index = last + 3;
	e[2].term = term;
	e[2].type = STORE_ENTRY_REAP;
	e[2].data = reap;
	e[2].len = 3; /* short */
	assert_int_equal(store_log_append(st, e, 3), 0);
	store_close(st);
	/* committed with the new term's no-op: skipped, logged, never
	 * fatal; the node serves */
	fx_start(f);
	settle(f);
	assert_int_equal(kv_applied_index(f->rd.kv), last + 4);
	r = put(f, mkput(2, KV_OP_SET, "k", "w", 0));
	assert_true(r.ok);
	assert_int_equal(r.index, last + 5);
}

/*
 * A store of a single server of an earlier version (no Raft records: the
 * log of KV commands in term 4, applied, the first two compacted away)
 * is taken over: it leads, keeps the data and takes writes.
 */
static void
test_single_server_store_adopted(void **state)
{
	struct fx *f = *state;
	struct msg_kv_get q = mkget("old/", KV_GET_KEYS, 0, 0);
	struct msg_kv_get_result *g;
	struct msg_kv_apply_result r;
	struct store_entry e[4];
	struct proto_buf b[4];
	struct kv_result res;
	struct store *st;
	struct kv *kv;
	struct slot s;
	char err[256], path[160], keys[4][16];

	fx_stop(f);
	snprintf(path, sizeof(path), "%s/legacy", f->dir);
	f->cfg.data_dir = strdup(path);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/legacy/raft", f->dir);
	assert_int_equal(store_open(path, &st, err, sizeof(err)), 0);
	assert_int_equal(kv_open(st, &kv), 0);
	memset(e, 0, sizeof(e));
	for (int i = 0; i < 4; i++) {
		struct msg_kv_apply a;

		snprintf(keys[i], sizeof(keys[i]), "old/%d", i);
		a = mkput((uint64_t)i + 1, KV_OP_SET, keys[i], "v", 0);
		assert_int_equal(proto_encode(MSG_KV_APPLY, 0, &a, &b[i]), 0);
		e[i].index = (uint64_t)i + 1;
		e[i].term = 4;
		e[i].type = STORE_ENTRY_COMMAND;
		e[i].data = b[i].data;
		e[i].len = b[i].len;
		memset(&res, 0, sizeof(res));
		assert_int_equal(kv_apply(kv, e[i].index, &a, &res, NULL,
		    NULL), 0);
	}
	assert_int_equal(store_log_append(st, e, 4), 0);
	assert_int_equal(store_log_compact(st, 2), 0);
	assert_int_equal(store_meta_put_u64(st, "term", 4), 0);
	for (int i = 0; i < 4; i++)
		proto_buf_free(&b[i]);
	kv_free(kv);
	store_close(st);

	fx_start(f);
	settle(f);
	assert_int_equal(f->rd.term, 5);
	assert_int_equal(kv_applied_index(f->rd.kv), 5); /* + the no-op */
	send_msg(f, &s, MSG_KV_GET, &q);
	wait_one(f, &s);
	g = body(f, &s, MSG_KV_GET_RESULT);
	assert_int_equal(g->keys.n, 4);
	assert_int_equal(g->meta.index, 4);
	slot_free(&s);
	r = put(f, mkput(9, KV_OP_SET, "old/new", "w", 0));
	assert_true(r.ok);
	assert_int_equal(r.index, 6);
	/* and once more after a restart: now a Raft store */
	fx_stop(f);
	fx_start(f);
	settle(f);
	assert_int_equal(f->rd.term, 6);
	assert_int_equal(kv_applied_index(f->rd.kv), 7);
	free((char *)f->cfg.data_dir);
	f->cfg.data_dir = f->dir;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_status, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dedup_resend, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocking, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_blocking_grouped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_group_commit_and_restart,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tombstone_reap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_log_compaction, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_log_entries, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_single_server_store_adopted, setup, teardown),
	};

	log_init("unit_raftd", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
