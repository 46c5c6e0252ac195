/*
 * test_raftd_cluster.c — three raftd nodes in one process (raftd/node.c
 * with their own store directories, writer threads, IPC servers and the
 * real TCP transport on 127.0.0.1), all on one event loop. Discovery
 * is injected with discovery_server_seen() as gossipd's member events
 * will do. Checks: bootstrap with bootstrap_expect 3 elects one leader
 * every node agrees on; a write sent to a follower is forwarded, applied
 * on the leader and replicated to every store; default and ?consistent
 * reads on a follower go to the leader, ?stale reads are local with the
 * leader contact in their metadata; the status shows the leader and the
 * three voters; a write to the leader replicates too; the leader stops,
 * the other two elect a new one and keep accepting writes (and snapshot
 * and compact their logs: small thresholds); the old leader restarts
 * from its store, rejoins as a follower and catches up through
 * InstallSnapshot (the state column family streamed);
 * a server reported failed is removed by autopilot and added back when it
 * returns; the operator API lists the three servers through a follower and removes
 * one by its id; with no quorum a write waits rpc_hold_timeout and fails
 * with "No cluster leader"; which forwarded requests may be sent again
 * to a new leader (forward_may_resend); a write sent again to a new
 * leader is not answered with the old leader's late error. The loop runner, nodes and reply
 * slots are raftd_harness.c's.
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
#include "msg_operator.h"
#include "msg_raft.h"
#include "msg_session.h"
#include "nodeid.h"
#include "proto.h"
#include "raftd/kv.h"
#include "raftd/raft.h"
#include "raftd/raftd.h"
#include "tests/unit/raftd_harness.h"

#define N 3
#define HOLD_MS 1500

struct fx {
	struct loop *l;
	struct node n[N];
	struct proto_arena arena;
	int port_base;
	int removed;
};

static struct fx F;

/* ---- loop helpers ---- */

/* Runs the loop until pred() or ms pass; returns pred(). */
static bool
run_until(bool (*pred)(void *), void *arg, uint64_t ms)
{
	return harness_run_until(F.l, pred, arg, ms);
}

/* ---- nodes ---- */

static void
node_start(int i)
{
	harness_node_start(F.l, &F.n[i]);
}

/* no more input from peers; let the write in flight finish */
static void
node_stop(int i)
{
	harness_node_stop(F.l, &F.n[i], true);
}

/* Tells node i about every other node, as gossip would. */
static void
introduce(int i)
{
	for (int j = 0; j < N; j++) {
		if (j == i || !F.n[i].up)
			continue;
		assert_int_equal(discovery_server_seen(&F.n[i].rd,
		    F.n[j].uuid, F.n[j].name, F.n[j].addr, 3), 0);
	}
}

static int
leader_of(void)
{
	int found = -1;

	for (int i = 0; i < N; i++) {
		if (!F.n[i].up || F.n[i].rd.raft == NULL)
			continue;
		if (raft_role(F.n[i].rd.raft) == RAFT_LEADER &&
		    raft_leader_ready(F.n[i].rd.raft)) {
			if (found >= 0)
				return -2; /* two leaders at once: reported */
			found = i;
		}
	}
	return found;
}

static bool
have_leader(void *arg)
{
	int want_agree = arg != NULL;
	int l = leader_of();

	if (l < 0)
		return false;
	if (!want_agree)
		return true;
	for (int i = 0; i < N; i++)
		if (F.n[i].up && raft_leader(F.n[i].rd.raft) !=
		    F.n[l].rd.node_id)
			return false;
	return true;
}

/* Every running server but the removed one has a 2-voter configuration. */
static bool
two_voters(void *arg)
{
	(void)arg;
	for (int i = 0; i < N; i++) {
		if (!F.n[i].up || i == F.removed)
			continue;
		if (raft_configuration(F.n[i].rd.raft)->n != 2)
			return false;
	}
	return true;
}

/* Every running server has all three as voters. */
static bool
three_voters(void *arg)
{
	(void)arg;
	for (int i = 0; i < N; i++) {
		const struct raft_conf *c;

		if (!F.n[i].up)
			continue;
		c = raft_configuration(F.n[i].rd.raft);
		if (c->n != 3)
			return false;
		for (size_t j = 0; j < c->n; j++)
			if (!c->servers[j].voter)
				return false;
	}
	return true;
}

/* ---- IPC ---- */

/* Sends type/body to node i and waits; returns the decoded reply. */
static struct proto_msg
call(int i, uint32_t type, const void *body, struct slot *s)
{
	struct proto_buf b;
	struct proto_msg m;

	memset(s, 0, sizeof(*s));
	assert_int_equal(proto_encode(type, 42, body, &b), 0);
	assert_int_equal(ipc_call(F.n[i].c, b.data, b.len, 20000,
	    harness_on_reply, s, NULL), 0);
	proto_buf_free(&b);
	assert_true(run_until(harness_slot_done, s, 20000));
	assert_int_equal(s->err, 0);
	assert_int_equal(proto_decode(s->data, s->len, &F.arena, &m), 0);
	assert_int_equal(m.reqid, 42);
	return m;
}

static void
slot_free(struct slot *s)
{
	free(s->data);
	s->data = NULL;
}

static uint64_t seq;

/* A KV set through node i; returns the index (asserts success). */
static uint64_t
put(int i, const char *key, const char *val)
{
	struct msg_kv_apply a;
	struct slot s;
	struct proto_msg m;
	uint64_t index;

	memset(&a, 0, sizeof(a));
	a.client_id = 0xabc0 + (uint64_t)i;
	a.seq = ++seq;
	a.op = KV_OP_SET;
	a.key = proto_str_c(key);
	a.value = proto_str_c(val);
	m = call(i, MSG_KV_APPLY, &a, &s);
	if (m.type == MSG_ERROR) {
		struct msg_error *e = m.body;

		fail_msg("put via node %d: error %d %.*s", i, e->code,
		    (int)e->message.len, e->message.ptr);
	}
	assert_int_equal(m.type, MSG_KV_APPLY_RESULT);
	assert_true(((struct msg_kv_apply_result *)m.body)->ok);
	index = ((struct msg_kv_apply_result *)m.body)->index;
	slot_free(&s);
	proto_arena_reset(&F.arena);
	return index;
}

/* Reads key on node i in mode; returns the value ("" if not found). */
static void
get(int i, const char *key, uint8_t mode, char *out, size_t outlen,
    struct proto_read_meta *meta)
{
	struct msg_kv_get q;
	struct msg_kv_get_result *g;
	struct slot s;
	struct proto_msg m;

	memset(&q, 0, sizeof(q));
	q.key = proto_str_c(key);
	q.opts.consistency = mode;
	m = call(i, MSG_KV_GET, &q, &s);
	if (m.type == MSG_ERROR) {
		struct msg_error *e = m.body;

		fail_msg("get via node %d: error %d %.*s", i, e->code,
		    (int)e->message.len, e->message.ptr);
	}
	assert_int_equal(m.type, MSG_KV_GET_RESULT);
	g = m.body;
	out[0] = '\0';
	if (g->found && g->n_entries == 1)
		snprintf(out, outlen, "%.*s", (int)g->entries[0].value.len,
		    g->entries[0].value.ptr);
	if (meta != NULL)
		*meta = g->meta;
	slot_free(&s);
	proto_arena_reset(&F.arena);
}

struct want {
	int node;
	const char *key;
	const char *val;
};

static bool
stale_has(void *arg)
{
	struct want *w = arg;
	struct kv_read r;
	struct msg_kv_get q;
	bool ok;

	memset(&q, 0, sizeof(q));
	q.key = proto_str_c(w->key);
	kv_read_init(&r);
	ok = kv_get(F.n[w->node].rd.kv, &q, &r) == 0 && r.found &&
	    r.n_entries == 1 && proto_str_eq(r.entries[0].value, w->val);
	kv_read_fini(&r);
	return ok;
}

/* ---- fixture ---- */

static int
setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	F.port_base = 21000 + (int)(getpid() % 20000);
	F.l = loop_new();
	assert_non_null(F.l);
	proto_arena_init(&F.arena);
	for (int i = 0; i < N; i++) {
		struct node *n = &F.n[i];

		char name[16];

		snprintf(name, sizeof(name), "s%d", i + 1);
		harness_node_init(n, "/tmp/test_raftd_cluster", name,
		    F.port_base + i, HOLD_MS);
		n->cfg.server = true;
		n->cfg.bootstrap_expect = 3;
		n->cfg.autopilot.cleanup_dead_servers = true;
		/* small: snapshots and compaction happen in the test */
		n->cfg.raft_trailing_logs = 2;
		n->cfg.raft_snapshot_threshold = 8;
		node_start(i);
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < N; i++)
		node_stop(i);
	/* let posted work of the closed nodes run before freeing */
	run_until(harness_never, NULL, 100);
	loop_free(F.l);
	proto_arena_free(&F.arena);
	for (int i = 0; i < N; i++)
		harness_node_rmdir(&F.n[i]);
	return 0;
}

/* ---- the scenario ---- */

static void
test_cluster(void **state)
{
	char v[64];
	struct proto_read_meta meta;
	struct want w;
	int lead, fol, other, newlead;
	uint64_t idx;

	(void)state;
	/* before discovery nobody has a leader: a stale read still works,
	 * a write waits rpc_hold_timeout and then fails */
	get(0, "none", PROTO_CONSISTENCY_STALE, v, sizeof(v), &meta);
	assert_false(meta.known_leader);

	for (int i = 0; i < N; i++)
		introduce(i);
	assert_true(run_until(have_leader, (void *)1, 15000));
	lead = leader_of();
	assert_true(lead >= 0);
	fol = (lead + 1) % N;
	other = (lead + 2) % N;
	assert_int_equal(raft_configuration(F.n[lead].rd.raft)->n, 3);

	/* a write through a follower is forwarded and replicated */
	idx = put(fol, "k1", "v1");
	assert_true(idx > 1);
	for (int i = 0; i < N; i++) {
		w = (struct want){ i, "k1", "v1" };
		assert_true(run_until(stale_has, &w, 5000));
	}
	/* reads on a follower: default and consistent go to the leader */
	get(fol, "k1", PROTO_CONSISTENCY_DEFAULT, v, sizeof(v), &meta);
	assert_string_equal(v, "v1");
	assert_true(meta.known_leader);
	get(other, "k1", PROTO_CONSISTENCY_CONSISTENT, v, sizeof(v), &meta);
	assert_string_equal(v, "v1");
	get(fol, "k1", PROTO_CONSISTENCY_STALE, v, sizeof(v), &meta);
	assert_string_equal(v, "v1");
	assert_true(meta.known_leader);
	assert_true(meta.last_contact_ms < 1000);
	/* the leader itself: default (lease) and consistent (ReadIndex) */
	get(lead, "k1", PROTO_CONSISTENCY_DEFAULT, v, sizeof(v), NULL);
	assert_string_equal(v, "v1");
	get(lead, "k1", PROTO_CONSISTENCY_CONSISTENT, v, sizeof(v), NULL);
	assert_string_equal(v, "v1");

	/* status on a follower: the leader's address and three voters */
	{
		struct msg_status_get st = { 0 };
		struct msg_status_get_result *sr;
		struct slot s;
		struct proto_msg m = call(fol, MSG_STATUS_GET, &st, &s);
		bool state_ok = false;

		assert_int_equal(m.type, MSG_STATUS_GET_RESULT);
		sr = m.body;
		assert_true(proto_str_eq(sr->leader, F.n[lead].addr));
		assert_int_equal(sr->peers.n, 3);
		for (uint32_t i = 0; i < sr->raft.n; i++) {
			if (proto_str_eq(sr->raft.keys[i], "state"))
				state_ok = proto_str_eq(sr->raft.vals[i],
				    "Follower");
			if (proto_str_eq(sr->raft.keys[i], "num_peers"))
				assert_true(proto_str_eq(sr->raft.vals[i],
				    "2"));
		}
		assert_true(state_ok);
		slot_free(&s);
		proto_arena_reset(&F.arena);
	}

	/* a write on the leader replicates too */
	put(lead, "k2", "v2");
	for (int i = 0; i < N; i++) {
		w = (struct want){ i, "k2", "v2" };
		assert_true(run_until(stale_has, &w, 5000));
	}

	/* the leader stops: the other two elect one and keep going */
	node_stop(lead);
	assert_true(run_until(have_leader, (void *)1, 15000));
	newlead = leader_of();
	assert_true(newlead >= 0 && newlead != lead);
	put(fol, "k3", "v3");
	/* enough writes that the survivors snapshot and compact past
	 * what the stopped server holds: it will need InstallSnapshot */
	for (int i = 0; i < 20; i++) {
		char key[32];

		snprintf(key, sizeof(key), "bulk/%02d", i);
		put(i % 2 ? fol : other, key, "x");
	}
	put(other, "k4", "v4");
	get(fol, "k4", PROTO_CONSISTENCY_CONSISTENT, v, sizeof(v), NULL);
	assert_string_equal(v, "v4");

	/* the old leader restarts from its store and catches up */
	node_start(lead);
	introduce(lead);
	w = (struct want){ lead, "k4", "v4" };
	assert_true(run_until(stale_has, &w, 10000));
	assert_true(F.n[lead].rd.n_installs >= 1);
	w = (struct want){ lead, "bulk/07", "x" };
	assert_true(stale_has(&w));
	assert_true(run_until(have_leader, (void *)1, 10000));
	get(lead, "k3", PROTO_CONSISTENCY_DEFAULT, v, sizeof(v), NULL);
	assert_string_equal(v, "v3");

	/* autopilot: a server gossip reports failed is removed by the
	 * leader; back again, it is added again (non-voter, promoted) */
	{
		int y = (leader_of() + 1) % N;

		node_stop(y);
		for (int i = 0; i < N; i++)
			if (i != y)
				discovery_server_gone(&F.n[i].rd, F.n[y].uuid);
		F.removed = y;
		assert_true(run_until(two_voters, NULL, 5000));
		node_start(y);
		introduce(y);
		for (int i = 0; i < N; i++)
			if (i != y)
				introduce(i);
		assert_true(run_until(three_voters, NULL, 10000));
		w = (struct want){ y, "k4", "v4" };
		assert_true(run_until(stale_has, &w, 5000));
		assert_true(run_until(have_leader, (void *)1, 10000));
	}

	/* the operator API: the configuration through a follower */
	{
		struct msg_operator_raft_get q;
		struct msg_operator_raft_get_result *cr;
		struct msg_operator_raft_remove rm;
		struct slot s;
		struct proto_msg m;
		int x = (lead + 1) % N, leaders = 0, cur = leader_of();

		memset(&q, 0, sizeof(q));
		m = call(lead, MSG_OPERATOR_RAFT_GET, &q, &s);
		assert_int_equal(m.type, MSG_OPERATOR_RAFT_GET_RESULT);
		cr = m.body;
		assert_int_equal(cr->n_servers, 3);
		for (uint32_t i = 0; i < cr->n_servers; i++) {
			bool known = false;

			for (int j = 0; j < N; j++)
				if (proto_str_eq(cr->servers[i].id,
				    F.n[j].uuid) && proto_str_eq(
				    cr->servers[i].address, F.n[j].addr) &&
				    proto_str_eq(cr->servers[i].node,
				    F.n[j].name))
					known = true;
			assert_true(known);
			assert_true(cr->servers[i].voter);
			if (cr->servers[i].leader) {
				leaders++;
				assert_true(proto_str_eq(
				    cr->servers[i].address, F.n[cur].addr));
			}
		}
		assert_int_equal(leaders, 1);
		assert_true(cr->meta.known_leader);
		slot_free(&s);
		proto_arena_reset(&F.arena);

		/* an unknown peer, then the old leader by its id */
		memset(&rm, 0, sizeof(rm));
		rm.address = proto_str_c("127.0.0.1:1");
		m = call(x, MSG_OPERATOR_RAFT_REMOVE, &rm, &s);
		assert_int_equal(m.type, MSG_ERROR);
		assert_int_equal(((struct msg_error *)m.body)->code,
		    ERR_NOTFOUND);
		slot_free(&s);
		proto_arena_reset(&F.arena);
		memset(&rm, 0, sizeof(rm));
		rm.id = proto_str_c(F.n[lead].uuid);
		m = call(x, MSG_OPERATOR_RAFT_REMOVE, &rm, &s);
		assert_int_equal(m.type, MSG_OPERATOR_RAFT_REMOVE_RESULT);
		assert_true(((struct msg_operator_raft_remove_result *)
		    m.body)->ok);
		slot_free(&s);
		proto_arena_reset(&F.arena);
		F.removed = lead;
		assert_true(run_until(two_voters, NULL, 5000));
		put(x, "k6", "v6");
	}

	/* two servers down: no quorum, a write fails after the hold */
	{
		int keep = (lead + 1) % N;
		struct msg_kv_apply a;
		struct slot s;
		struct proto_msg m;
		uint64_t t0;

		for (int i = 0; i < N; i++)
			if (i != keep)
				node_stop(i);
		/* the survivor loses its leader after an election timeout */
		run_until(harness_never, NULL, 2500);
		memset(&a, 0, sizeof(a));
		a.client_id = 0xdead;
		a.seq = 1;
		a.op = KV_OP_SET;
		a.key = proto_str_c("k5");
		a.value = proto_str_c("v5");
		t0 = loop_clock_ms();
		m = call(keep, MSG_KV_APPLY, &a, &s);
		assert_int_equal(m.type, MSG_ERROR);
		assert_int_equal(((struct msg_error *)m.body)->code,
		    ERR_NOLEADER);
		assert_true(loop_clock_ms() - t0 >= HOLD_MS - 50);
		slot_free(&s);
		proto_arena_reset(&F.arena);
	}
}

#define NW 90

/* Writes in flight through every node while the leader stops: every
 * acknowledged write is on both survivors, answered once. */
static void
test_concurrent_failover(void **state)
{
	static struct slot s[NW];
	static struct msg_kv_apply a[NW];
	static char keys[NW][16];
	struct proto_buf b;
	int lead, acked = 0;

	(void)state;
	for (int i = 0; i < N; i++)
		introduce(i);
	assert_true(run_until(have_leader, (void *)1, 15000));
	lead = leader_of();
	for (int i = 0; i < NW; i++) {
		int via = i % N;

		memset(&a[i], 0, sizeof(a[i]));
		snprintf(keys[i], sizeof(keys[i]), "c/%03d", i);
		a[i].client_id = 0x5000 + (uint64_t)via;
		a[i].seq = (uint64_t)i + 1;
		a[i].op = KV_OP_SET;
		a[i].key = proto_str_c(keys[i]);
		a[i].value = proto_str_c(keys[i]);
		memset(&s[i], 0, sizeof(s[i]));
		if (i == NW / 2) {
			/* half are in flight: the leader goes */
			run_until(harness_never, NULL, 30);
			node_stop(lead);
		}
		if (!F.n[via].up) {
			s[i].done = true;
			s[i].err = ERR_CLOSED;
			continue;
		}
		assert_int_equal(proto_encode(MSG_KV_APPLY, 42, &a[i], &b), 0);
		assert_int_equal(ipc_call(F.n[via].c, b.data, b.len, 20000,
		    harness_on_reply, &s[i], NULL), 0);
		proto_buf_free(&b);
	}
	for (int i = 0; i < NW; i++) {
		struct proto_msg m;

		assert_true(run_until(harness_slot_done, &s[i], 25000));
		if (i % N != lead) {
			/* through a survivor: forwarded, held over the
			 * election, re-sent to the new leader: applied */
			assert_int_equal(s[i].err, 0);
		}
		if (s[i].err != 0 || s[i].data == NULL)
			continue;
		assert_int_equal(proto_decode(s[i].data, s[i].len, &F.arena,
		    &m), 0);
		if (m.type == MSG_KV_APPLY_RESULT) {
			struct want w;

			assert_true(((struct msg_kv_apply_result *)
			    m.body)->ok);
			acked++;
			for (int j = 0; j < N; j++) {
				if (!F.n[j].up)
					continue;
				w = (struct want){ j, keys[i], keys[i] };
				assert_true(run_until(stale_has, &w, 10000));
			}
		} else {
			struct msg_error *e = m.body;

			assert_int_equal(m.type, MSG_ERROR);
			assert_int_equal(i % N, lead);
			print_message("write %d: error %d %.*s\n", i, e->code,
			    (int)e->message.len, e->message.ptr);
		}
		slot_free(&s[i]);
		proto_arena_reset(&F.arena);
	}
	assert_true(acked >= NW - NW / N);
	print_message("%d of %d writes acknowledged across the failover\n",
	    acked, NW);
}

/* A leader whose followers are gone steps down (check-quorum) and
 * answers the write it holds at once with "leadership lost while
 * committing log", as Consul does: not after the IPC timeout, and never
 * as applied. */
static void
test_leader_loses_quorum(void **state)
{
	struct msg_kv_apply a;
	struct msg_error *e;
	struct slot s;
	struct proto_msg m;
	uint64_t t0;
	int lead;

	(void)state;
	for (int i = 0; i < N; i++)
		introduce(i);
	assert_true(run_until(have_leader, (void *)1, 15000));
	lead = leader_of();
	put(lead, "q/before", "b");
	for (int i = 0; i < N; i++)
		if (i != lead)
			node_stop(i);
	assert_int_equal(raft_role(F.n[lead].rd.raft), RAFT_LEADER);
	memset(&a, 0, sizeof(a));
	a.client_id = 0x1057;
	a.seq = 1;
	a.op = KV_OP_SET;
	a.key = proto_str_c("q/lost");
	a.value = proto_str_c("x");
	t0 = loop_clock_ms();
	m = call(lead, MSG_KV_APPLY, &a, &s);
	assert_int_equal(m.type, MSG_ERROR);
	e = m.body;
	assert_int_equal(e->code, ERR_NOLEADER);
	assert_true(proto_str_eq(e->message,
	    "leadership lost while committing log"));
	assert_int_not_equal(raft_role(F.n[lead].rd.raft), RAFT_LEADER);
	/* check-quorum: 2T to 2.5T (1-1.25 s), well inside the 20 s IPC
	 * timeout of call() */
	assert_true(loop_clock_ms() - t0 < 4000);
	slot_free(&s);
	proto_arena_reset(&F.arena);
}

static bool
names_leader(void *arg)
{
	int i = (int)(intptr_t)arg, l = leader_of();

	return l >= 0 && strcmp(F.n[i].rd.leader_addr, F.n[l].addr) == 0;
}

static bool
follows_someone(void *arg)
{
	struct node *n = &F.n[(int)(intptr_t)arg];

	return n->rd.raft != NULL && raft_leader(n->rd.raft) != 0;
}

/* A server that gossip has told about nobody yet (so it never
 * bootstraps) hears the leader's AppendEntries before it can name the
 * leader; gossip then reports the servers. It must name the leader
 * (/v1/status/leader) from then on, not "" until the next election. */
static void
test_late_member_names_leader(void **state)
{
	struct want w = { 2, "late/k", "v" };

	(void)state;
	introduce(0);
	introduce(1);
	assert_true(run_until(have_leader, NULL, 15000));
	assert_true(run_until(follows_someone, (void *)2, 5000));
	introduce(2);
	assert_true(run_until(names_leader, (void *)2, 5000));
	put(leader_of(), "late/k", "v");
	assert_true(run_until(stale_has, &w, 5000));
}

/* The stale-answer scenario below: the two followers and what was
 * injected into each. */
struct stale {
	int f[2];
	uint64_t old_id;
	bool injected[2];
	int n_injected;
};

/* Once follower f names a new leader, its write (sent to the old one)
 * has been sent again: answer it now in the old leader's name, as a
 * leader that was starved while the others elected another does when it
 * steps down — for every id an earlier send may have had, and in the
 * new leader's name with the first send's id (the same server elected
 * again answering what its earlier term was sent). */
static bool
stale_inject(void *arg)
{
	struct stale *st = arg;
	struct proto_buf e;

	for (int k = 0; k < 2; k++) {
		struct raftd *rd = &F.n[st->f[k]].rd;
		uint64_t nl;

		if (st->injected[k] || rd->raft == NULL)
			continue;
		nl = raft_leader(rd->raft);
		if (nl == 0 || nl == st->old_id)
			continue;
		assert_int_equal(proto_encode_error(42, ERR_NOLEADER, &e,
		    "leadership lost while committing log"), 0);
		for (uint64_t id = 1; id <= 64; id++)
			forward_recv_result(rd, st->old_id, id, e.data, e.len);
		forward_recv_result(rd, nl, 1, e.data, e.len);
		proto_buf_free(&e);
		st->injected[k] = true;
		st->n_injected++;
	}
	return st->n_injected == 2;
}

/* One loop iteration per check: the injection must come before the new
 * leader's own answer, a few iterations later. */
static void
step_stop(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

static bool
run_steps_until(bool (*pred)(void *), void *arg, uint64_t ms)
{
	uint64_t deadline = loop_clock_ms() + ms;

	while (!pred(arg) && loop_clock_ms() < deadline) {
		uint64_t t = loop_timer_add(F.l, 0, step_stop, NULL);

		assert_int_equal(loop_run(F.l), 0);
		loop_timer_cancel(F.l, t);
	}
	return pred(arg);
}

/*
 * A write a follower forwarded to a leader that then lost its place is
 * sent again to the new leader (it carries a client id); the old
 * leader's late "leadership lost while committing log" must not be
 * relayed for it: the client would take the write as failed, read the
 * key back before the new leader applied the copy, and find its cas
 * refused later (test_role_restart_cluster, cas_false). Only the answer
 * of the latest send, from the server it went to, is relayed.
 */
static void
test_stale_result_after_resend(void **state)
{
	static struct slot s[2];
	struct msg_kv_apply a[2];
	struct stale st;
	struct proto_buf b;
	char key[2][24];
	int lead, k = 0;

	(void)state;
	for (int i = 0; i < N; i++)
		introduce(i);
	assert_true(run_until(have_leader, (void *)1, 15000));
	lead = leader_of();
	memset(&st, 0, sizeof(st));
	st.old_id = F.n[lead].rd.node_id;
	for (int i = 0; i < N; i++)
		if (i != lead)
			st.f[k++] = i;
	/* the leader goes; each follower is sent a write it forwards to
	 * the leader it still knows */
	node_stop(lead);
	for (k = 0; k < 2; k++) {
		memset(&a[k], 0, sizeof(a[k]));
		snprintf(key[k], sizeof(key[k]), "stale/%d", k);
		a[k].client_id = 0x57a1e0 + (uint64_t)k;
		a[k].seq = 1;
		a[k].op = KV_OP_SET;
		a[k].key = proto_str_c(key[k]);
		a[k].value = proto_str_c("v");
		memset(&s[k], 0, sizeof(s[k]));
		assert_int_equal(proto_encode(MSG_KV_APPLY, 42, &a[k], &b), 0);
		assert_int_equal(ipc_call(F.n[st.f[k]].c, b.data, b.len, 20000,
		    harness_on_reply, &s[k], NULL), 0);
		proto_buf_free(&b);
	}
	assert_true(run_steps_until(stale_inject, &st, 15000));
	for (k = 0; k < 2; k++) {
		struct want w = { st.f[k], key[k], "v" };
		struct proto_msg m;

		assert_true(run_until(harness_slot_done, &s[k], 20000));
		assert_int_equal(s[k].err, 0);
		assert_int_equal(proto_decode(s[k].data, s[k].len, &F.arena,
		    &m), 0);
		if (m.type == MSG_ERROR) {
			struct msg_error *e = m.body;

			fail_msg("write via node %d: error %d %.*s", st.f[k],
			    e->code, (int)e->message.len, e->message.ptr);
		}
		assert_int_equal(m.type, MSG_KV_APPLY_RESULT);
		assert_true(((struct msg_kv_apply_result *)m.body)->ok);
		assert_true(run_until(stale_has, &w, 10000));
		slot_free(&s[k]);
		proto_arena_reset(&F.arena);
	}
}

/* What a follower may send again to a new leader after the old one was
 * sent it (forward.c): reads and deduplicated writes, never an operator
 * request that would act twice (a second transfer moves leadership on). */
static bool
resend(enum forward_kind kind, uint32_t type, const void *body)
{
	struct proto_buf b;
	bool ok;

	assert_int_equal(proto_encode(type, 9, body, &b), 0);
	ok = forward_may_resend(kind, b.data, b.len);
	proto_buf_free(&b);
	return ok;
}

static void
test_forward_resend_rules(void **state)
{
	struct msg_kv_apply a;
	struct msg_txn t;
	struct msg_operator_raft_transfer tr;
	struct msg_operator_raft_remove rm;
	struct msg_kv_get g;
	static const uint8_t junk[] = { 0xc1, 0x00 };

	(void)state;
	memset(&a, 0, sizeof(a));
	a.op = KV_OP_SET;
	a.key = proto_str_c("k");
	a.value = proto_str_c("v");
	assert_false(resend(FORWARD_WRITE, MSG_KV_APPLY, &a));
	a.client_id = 7;
	a.seq = 1;
	assert_true(resend(FORWARD_WRITE, MSG_KV_APPLY, &a));
	memset(&t, 0, sizeof(t));
	assert_false(resend(FORWARD_WRITE, MSG_TXN, &t));
	t.client_id = 3;
	assert_true(resend(FORWARD_WRITE, MSG_TXN, &t));
	memset(&tr, 0, sizeof(tr));
	assert_false(resend(FORWARD_WRITE, MSG_OPERATOR_RAFT_TRANSFER, &tr));
	memset(&rm, 0, sizeof(rm));
	rm.id = proto_str_c("x");
	assert_false(resend(FORWARD_WRITE, MSG_OPERATOR_RAFT_REMOVE, &rm));
	memset(&g, 0, sizeof(g));
	g.key = proto_str_c("k");
	assert_true(resend(FORWARD_READ_CONSISTENT, MSG_KV_GET, &g));
	assert_true(resend(FORWARD_READ_DEFAULT, MSG_KV_GET, &g));
	assert_false(forward_may_resend(FORWARD_WRITE, junk, sizeof(junk)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward_resend_rules),
		cmocka_unit_test_setup_teardown(test_cluster, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_failover,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_leader_loses_quorum,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_member_names_leader,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_result_after_resend,
		    setup, teardown),
	};

	log_init("test_raftd_cluster", LOG_LEVEL_INFO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
