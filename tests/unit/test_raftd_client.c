/*
 * test_raftd_client.c — a client agent's raftd (raftd/client.c) in one
 * process with two single servers A and B (raftd/node.c, each its own
 * store, writer thread, IPC server and TCP listener on 127.0.0.1), all
 * on one event loop. Gossip is injected with client_server_seen/_gone as
 * members.c does. Checks: with no server known a request is held
 * rpc_hold_timeout and fails "No known Consul servers"; a write and reads
 * through the client reach A, and the client relays A's reply byte for
 * byte; a blocking read held on A wakes on a write made on A; the status
 * is A's with the client's own Stats (server "false", known_servers); the
 * client keeps A when B appears; when A stops, a read moves to B; with A
 * silent and B gone a request fails with the RPC error, with both gone
 * "No known Consul servers"; a malformed message is refused. A server
 * whose raftd restarts faster than the probe notices (a new incarnation
 * in its results): a blocking read held by the old process is sent
 * again and answered at once, a write the old process held (B without
 * a leader) fails at once with the RPC error instead of waiting for its
 * deadline if it has no client id, and is sent again (answered with the
 * copy's outcome, never "restarted") if it has one. The loop runner, nodes and reply slots are raftd_harness.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "config.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "nodeid.h"
#include "proto.h"
#include "raftd/kv.h"
#include "raftd/raftd.h"
#include "tests/unit/raftd_harness.h"

#define N 3 /* A, B: servers; C: the client agent */
#define A 0
#define B 1
#define C 2
#define HOLD_MS 2000

static struct {
	struct loop *l;
	struct node n[N];
	struct proto_arena arena;
} F;

static bool
run_until(bool (*pred)(void *), void *arg, uint64_t ms)
{
	return harness_run_until(F.l, pred, arg, ms);
}

static void
node_start(int i)
{
	harness_node_start(F.l, &F.n[i]);
}

static void
node_stop(int i)
{
	harness_node_stop(F.l, &F.n[i], false);
}

static void
seen(int i)
{
	client_server_seen(&F.n[C].rd, F.n[i].uuid, F.n[i].name,
	    F.n[i].addr);
}

/* ---- IPC ---- */

static void
send_to(int i, uint32_t type, const void *body, struct slot *s)
{
	struct proto_buf b;

	memset(s, 0, sizeof(*s));
	assert_int_equal(proto_encode(type, 42, body, &b), 0);
	assert_int_equal(ipc_call(F.n[i].c, b.data, b.len, 30000,
	    harness_on_reply, s, NULL), 0);
	proto_buf_free(&b);
}

static struct proto_msg
wait_reply(struct slot *s)
{
	struct proto_msg m;
	uint64_t t0 = loop_clock_ms();

	assert_true(run_until(harness_slot_done, s, 30000));
	s->took = loop_clock_ms() - t0;
	assert_int_equal(s->err, 0);
	assert_int_equal(proto_decode(s->data, s->len, &F.arena, &m), 0);
	assert_int_equal(m.reqid, 42);
	return m;
}

static struct proto_msg
call(int i, uint32_t type, const void *body, struct slot *s)
{
	send_to(i, type, body, s);
	return wait_reply(s);
}

static void
slot_free(struct slot *s)
{
	free(s->data);
	s->data = NULL;
	proto_arena_reset(&F.arena);
}

static void
assert_error(struct proto_msg m, const char *want_prefix)
{
	const struct msg_error *e = m.body;

	assert_int_equal(m.type, MSG_ERROR);
	if (e->message.len < strlen(want_prefix) ||
	    memcmp(e->message.ptr, want_prefix, strlen(want_prefix)) != 0)
		fail_msg("error '%.*s', want '%s...'", (int)e->message.len,
		    e->message.ptr, want_prefix);
}

static uint64_t seq;

static uint64_t
put(int i, const char *key, const char *val)
{
	struct msg_kv_apply a;
	struct slot s;
	struct proto_msg m;
	uint64_t index;

	memset(&a, 0, sizeof(a));
	a.client_id = 0xc11e;
	a.seq = ++seq;
	a.op = KV_OP_SET;
	a.key = proto_str_c(key);
	a.value = proto_str_c(val);
	m = call(i, MSG_KV_APPLY, &a, &s);
	if (m.type == MSG_ERROR)
		fail_msg("put via %d: %.*s", i,
		    (int)((struct msg_error *)m.body)->message.len,
		    ((struct msg_error *)m.body)->message.ptr);
	assert_int_equal(m.type, MSG_KV_APPLY_RESULT);
	index = ((struct msg_kv_apply_result *)m.body)->index;
	slot_free(&s);
	return index;
}

static void
kv_query(struct msg_kv_get *q, const char *key)
{
	memset(q, 0, sizeof(*q));
	q->key = proto_str_c(key);
}

/* ---- fixture ---- */

/* A TCP port free on 127.0.0.1 now (the kernel's pick). */
static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int
setup_with(int b_expect)
{
	memset(&F, 0, sizeof(F));
	F.l = loop_new();
	assert_non_null(F.l);
	proto_arena_init(&F.arena);
	for (int i = 0; i < N; i++) {
		struct node *n = &F.n[i];
		int port = free_port();

		char name[2] = { "ABC"[i], '\0' };

		harness_node_init(n, "/tmp/test_raftd_client", name, port,
		    HOLD_MS);
		n->cfg.server = i != C;
		n->cfg.bootstrap_expect = i == C ? 0 : i == B ? b_expect : 1;
		node_start(i);
	}
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	return setup_with(1);
}

/* B never elects a leader (it waits for a second server): writes sent
 * to it are held there for rpc_hold_timeout. */
static int
setup_leaderless_b(void **state)
{
	(void)state;
	return setup_with(2);
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < N; i++)
		node_stop(i);
	run_until(harness_never, NULL, 100);
	loop_free(F.l);
	proto_arena_free(&F.arena);
	for (int i = 0; i < N; i++)
		harness_node_rmdir(&F.n[i]);
	return 0;
}

/* ---- the scenario ---- */

static void
test_no_servers(void)
{
	struct msg_kv_get q;
	struct slot s;
	struct proto_msg m;
	struct stat st;
	char path[128];

	/* a client keeps no state */
	snprintf(path, sizeof(path), "%s/raft", F.n[C].dir);
	assert_int_not_equal(stat(path, &st), 0);
	kv_query(&q, "k");
	m = call(C, MSG_KV_GET, &q, &s);
	assert_error(m, "No known Consul servers");
	assert_true(s.took >= HOLD_MS - 50);
	slot_free(&s);
}

static void
test_forwarding(void)
{
	struct msg_kv_get q;
	struct msg_status_get sg;
	struct msg_status_get_result *sr;
	struct slot s, s2;
	struct proto_msg m;
	uint64_t idx;

	seen(A);
	idx = put(C, "k", "v1");
	assert_true(idx > 0);
	/* the client relays A's reply byte for byte */
	kv_query(&q, "k");
	call(C, MSG_KV_GET, &q, &s);
	call(A, MSG_KV_GET, &q, &s2);
	assert_int_equal(s.len, s2.len);
	assert_memory_equal(s.data, s2.data, s.len);
	slot_free(&s);
	slot_free(&s2);
	kv_query(&q, "missing");
	q.opts.consistency = PROTO_CONSISTENCY_CONSISTENT;
	m = call(C, MSG_KV_GET, &q, &s);
	assert_int_equal(m.type, MSG_KV_GET_RESULT);
	assert_false(((struct msg_kv_get_result *)m.body)->found);
	assert_true(((struct msg_kv_get_result *)m.body)->meta.known_leader);
	slot_free(&s);

	/* a blocking read held on A wakes on a write made on A */
	kv_query(&q, "k");
	q.opts.min_index = idx;
	q.opts.wait_ms = 10000;
	send_to(C, MSG_KV_GET, &q, &s2);
	run_until(harness_never, NULL, 200);
	assert_false(s2.done);
	idx = put(A, "k", "v2");
	m = wait_reply(&s2);
	assert_int_equal(m.type, MSG_KV_GET_RESULT);
	assert_int_equal(((struct msg_kv_get_result *)m.body)->meta.index, idx);
	assert_true(s2.took < 5000);
	slot_free(&s2);

	/* the status: A's leader, this agent's Stats */
	memset(&sg, 0, sizeof(sg));
	m = call(C, MSG_STATUS_GET, &sg, &s);
	assert_int_equal(m.type, MSG_STATUS_GET_RESULT);
	sr = m.body;
	assert_true(proto_str_eq(sr->leader, F.n[A].rd.leader_addr));
	assert_int_equal(sr->raft.n, 0);
	assert_int_equal(sr->consul.n, 2);
	assert_true(proto_str_eq(sr->consul.keys[0], "known_servers"));
	assert_true(proto_str_eq(sr->consul.vals[0], "1"));
	assert_true(proto_str_eq(sr->consul.vals[1], "false"));
	slot_free(&s);
}

static bool
b_has_key(void *arg)
{
	struct kv_read r;
	struct msg_kv_get q;
	bool ok;

	kv_query(&q, arg);
	kv_read_init(&r);
	ok = kv_get(F.n[B].rd.kv, &q, &r) == 0 && r.found;
	kv_read_fini(&r);
	return ok;
}

static void
test_failover(void)
{
	struct msg_kv_get q;
	struct slot s;
	struct proto_msg m;

	/* B appears: the client keeps A while it answers */
	seen(B);
	put(C, "only-on-a", "x");
	assert_false(b_has_key("only-on-a"));
	/* A stops: a read moves to B (which has none of A's keys) */
	node_stop(A);
	kv_query(&q, "k");
	m = call(C, MSG_KV_GET, &q, &s);
	if (m.type == MSG_ERROR)
		fail_msg("read after A stopped: %.*s",
		    (int)((struct msg_error *)m.body)->message.len,
		    ((struct msg_error *)m.body)->message.ptr);
	assert_int_equal(m.type, MSG_KV_GET_RESULT);
	assert_false(((struct msg_kv_get_result *)m.body)->found);
	slot_free(&s);
	put(C, "on-b", "y");
	assert_true(b_has_key("on-b"));

	/* B gone, A silent: the RPC error after the hold */
	client_server_gone(&F.n[C].rd, F.n[B].uuid);
	m = call(C, MSG_KV_GET, &q, &s);
	assert_error(m, "rpc error making call: no Consul server answered");
	slot_free(&s);
	/* both gone */
	client_server_gone(&F.n[C].rd, F.n[A].uuid);
	m = call(C, MSG_KV_GET, &q, &s);
	assert_error(m, "No known Consul servers");
	slot_free(&s);
}

static void
test_malformed(void)
{
	struct slot s;
	struct proto_msg m;
	static const uint8_t junk[] = { 0x94, 0x01, 0x0a, 0x07 };

	memset(&s, 0, sizeof(s));
	assert_int_equal(ipc_call(F.n[C].c, junk, sizeof(junk), 5000,
	    harness_on_reply, &s, NULL), 0);
	assert_true(run_until(harness_slot_done, &s, 5000));
	assert_int_equal(s.err, 0);
	assert_int_equal(proto_decode(s.data, s.len, &F.arena, &m), 0);
	assert_int_equal(m.type, MSG_ERROR);
	assert_int_equal(((struct msg_error *)m.body)->code, ERR_BADMSG);
	slot_free(&s);
}

static void
test_client(void **state)
{
	(void)state;
	test_no_servers();
	test_malformed();
	test_forwarding();
	test_failover();
}

/* Stops server i and starts it again at once (a new incarnation). */
static void
restart(int i)
{
	node_stop(i);
	node_start(i);
}

static void
test_restart(void **state)
{
	struct msg_kv_get q;
	struct msg_kv_apply a;
	struct msg_status_get sg;
	const struct msg_error *e;
	struct slot s;
	struct proto_msg m;
	uint64_t idx, t0;

	(void)state;
	/* a blocking read held by A when A restarts: sent again to the new
	 * process, it wakes on the next write (else it would wait for the
	 * server that no longer has it until its limit, ~15 s) */
	seen(A);
	idx = put(C, "r", "1");
	kv_query(&q, "r");
	q.opts.min_index = idx;
	q.opts.wait_ms = 10000;
	send_to(C, MSG_KV_GET, &q, &s);
	run_until(harness_never, NULL, 300);
	assert_false(s.done);
	t0 = loop_clock_ms();
	restart(A);
	run_until(harness_never, NULL, 1500); /* a probe sees the new one */
	idx = put(A, "r", "2");
	m = wait_reply(&s);
	assert_int_equal(m.type, MSG_KV_GET_RESULT);
	assert_true(((struct msg_kv_get_result *)m.body)->meta.index >= idx);
	assert_true(loop_clock_ms() - t0 < 6000);
	slot_free(&s);

	/* a write held by B (no leader) when B restarts, one that cannot
	 * be repeated (no client id): it may have been applied, so it fails
	 * at once rather than after its deadline */
	client_server_gone(&F.n[C].rd, F.n[A].uuid);
	seen(B);
	memset(&sg, 0, sizeof(sg)); /* C learns B's incarnation */
	m = call(C, MSG_STATUS_GET, &sg, &s);
	assert_int_equal(m.type, MSG_STATUS_GET_RESULT);
	slot_free(&s);
	memset(&a, 0, sizeof(a));
	a.client_id = 0;
	a.op = KV_OP_SET;
	a.key = proto_str_c("w");
	a.value = proto_str_c("1");
	send_to(C, MSG_KV_APPLY, &a, &s);
	run_until(harness_never, NULL, 300);
	assert_false(s.done);
	t0 = loop_clock_ms();
	restart(B);
	m = wait_reply(&s);
	assert_error(m, "rpc error making call: server B");
	if (strstr(((struct msg_error *)m.body)->message.ptr, "restarted") ==
	    NULL)
		fail_msg("error '%.*s', want a restart",
		    (int)((struct msg_error *)m.body)->message.len,
		    ((struct msg_error *)m.body)->message.ptr);
	/* B alone would answer after HOLD_MS, the client after 4.5 s */
	assert_true(loop_clock_ms() - t0 < HOLD_MS);
	slot_free(&s);

	/* one the leader deduplicates is sent again instead (here to the
	 * new process): answered with that copy's outcome — B still has no
	 * leader — never "restarted" while a copy may still apply (the new
	 * process may have been handed the first one by the link) */
	a.client_id = 0xc11e;
	a.seq = ++seq;
	send_to(C, MSG_KV_APPLY, &a, &s);
	run_until(harness_never, NULL, 300);
	assert_false(s.done);
	t0 = loop_clock_ms();
	restart(B);
	m = wait_reply(&s);
	assert_int_equal(m.type, MSG_ERROR);
	e = m.body;
	if (memmem(e->message.ptr, e->message.len, "restarted", 9) != NULL)
		fail_msg("error '%.*s' for a write sent again",
		    (int)e->message.len, e->message.ptr);
	/* the copy waited out the new process's hold */
	assert_true(loop_clock_ms() - t0 >= HOLD_MS);
	slot_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart,
		    setup_leaderless_b, teardown),
	};

	log_init("test_raftd_client", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
