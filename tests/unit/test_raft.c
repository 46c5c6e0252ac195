/*
 * test_raft.c — unit tests of the Raft core's edges (unit_raft): the
 * configuration encoding (golden vector, every malformed form), API
 * misuse answered with errors, the update contract on a single server,
 * malformed messages that must be dropped without harm, when a follower
 * acknowledges new entries (once durable, when its disk was idle) and
 * when a new commit index reaches the followers (with the next entries,
 * or alone 2 ms later). Whole-cluster
 * behaviour is tested by tests/sim/raft_sim.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "raftd/raft.h"

static const unsigned char golden[] = {
	0x00, 0x02,					/* two servers */
	0, 0, 0, 0, 0, 0, 0, 1, 1, 3, 'a', ':', '1',	/* 1 voter "a:1" */
	0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 'b',		/* 2 non-voter "b" */
};

static void
test_conf_golden(void **state)
{
	struct raft_conf c, d;
	void *buf;
	size_t len;

	(void)state;
	raft_conf_init(&c);
	assert_int_equal(raft_conf_add(&c, 1, "a:1", true), 0);
	assert_int_equal(raft_conf_add(&c, 2, "b", false), 0);
	assert_int_equal(raft_conf_add(&c, 2, "c", false), ERR_EXISTS);
	assert_int_equal(raft_conf_add(&c, 0, "c", false), ERR_INVAL);
	assert_int_equal(raft_conf_add(&c, 3, "", false), ERR_INVAL);
	assert_int_equal(raft_conf_encode(&c, &buf, &len), 0);
	assert_int_equal(len, sizeof(golden));
	assert_memory_equal(buf, golden, len);
	assert_int_equal(raft_conf_decode(&d, buf, len), 0);
	assert_int_equal(d.n, 2);
	assert_true(d.servers[0].voter);
	assert_false(d.servers[1].voter);
	assert_string_equal(d.servers[0].address, "a:1");
	assert_non_null(raft_conf_find(&d, 2));
	assert_null(raft_conf_find(&d, 3));
	free(buf);
	raft_conf_fini(&c);
	raft_conf_fini(&d);
}

static void
expect_bad(const unsigned char *b, size_t len)
{
	struct raft_conf c;

	assert_int_equal(raft_conf_decode(&c, b, len), ERR_BADMSG);
	assert_int_equal(c.n, 0);
	assert_null(c.servers);
}

static void
test_conf_malformed(void **state)
{
	unsigned char b[sizeof(golden) + 1];

	(void)state;
	/* every truncation */
	for (size_t n = 0; n < sizeof(golden); n++)
		expect_bad(golden, n);
	expect_bad(NULL, 5);
	/* trailing byte */
	memcpy(b, golden, sizeof(golden));
	b[sizeof(golden)] = 0;
	expect_bad(b, sizeof(golden) + 1);
	/* voter flag not 0/1 */
	memcpy(b, golden, sizeof(golden));
	b[10] = 2;
	expect_bad(b, sizeof(golden));
	/* duplicate id */
	memcpy(b, golden, sizeof(golden));
	b[22] = 1;
	expect_bad(b, sizeof(golden));
	/* id 0 */
	memcpy(b, golden, sizeof(golden));
	b[9] = 0;
	expect_bad(b, sizeof(golden));
	/* empty address */
	{
		unsigned char e[] = { 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 1, 0 };
		expect_bad(e, sizeof(e));
	}
	/* NUL inside an address */
	memcpy(b, golden, sizeof(golden));
	b[13] = 0;
	expect_bad(b, sizeof(golden));
	/* too many servers */
	{
		unsigned char e[] = { 0xff, 0xff };
		expect_bad(e, sizeof(e));
	}
}

static struct raft *
new_raft(uint64_t id)
{
	struct raft_config cfg = {
		.id = id,
		.election_timeout_ms = 100,
		.heartbeat_ms = 20,
		.random_seed = 42,
	};

	return raft_new(&cfg);
}

static void
test_new_bad_config(void **state)
{
	struct raft_config cfg = { .id = 0, .election_timeout_ms = 100 };

	(void)state;
	assert_null(raft_new(NULL));
	assert_null(raft_new(&cfg));
	cfg.id = 1;
	cfg.election_timeout_ms = 0;
	assert_null(raft_new(&cfg));
	raft_free(NULL);
}

static void
test_follower_refuses(void **state)
{
	struct raft *r = new_raft(1);
	uint64_t idx;

	(void)state;
	raft_tick(r, 1000);
	assert_int_equal(raft_propose(r, RAFT_ENTRY_NORMAL, "x", 1, &idx),
	    ERR_NOTLEADER);
	assert_int_equal(raft_propose(r, RAFT_ENTRY_NOOP, NULL, 0, &idx),
	    ERR_INVAL);
	assert_int_equal(raft_read_index(r, 1), ERR_NOTLEADER);
	assert_int_equal(raft_add_server(r, 2, "b", true), ERR_NOTLEADER);
	assert_int_equal(raft_remove_server(r, 2), ERR_NOTLEADER);
	assert_int_equal(raft_promote(r, 2), ERR_NOTLEADER);
	assert_int_equal(raft_transfer_leadership(r, 2), ERR_NOTLEADER);
	assert_int_equal(raft_snapshot_taken(r, 1, "s", 1), ERR_INVAL);
	assert_false(raft_lease_valid(r, 1000));
	assert_false(raft_leader_ready(r));
	raft_free(r);
}

static void
test_restore_inconsistent(void **state)
{
	struct raft *r;
	struct raft_entry e[2] = {
		{ .term = 1, .index = 1, .type = RAFT_ENTRY_NOOP },
		{ .term = 1, .index = 3, .type = RAFT_ENTRY_NOOP },
	};

	(void)state;
	r = new_raft(1);
	assert_int_equal(raft_restore(r, 1, 0, NULL, e, 2, 0), ERR_INVAL);
	raft_free(r);
	r = new_raft(1);
	assert_int_equal(raft_restore(r, 1, 0, NULL, e, 1, 5), ERR_INVAL);
	raft_free(r);
	r = new_raft(1);
	e[0].index = 2; /* gap before the first entry, no snapshot */
	assert_int_equal(raft_restore(r, 1, 0, NULL, e, 1, 0), ERR_INVAL);
	raft_free(r);
}

/* One server: the update contract, from bootstrap to an applied entry. */
static void
test_single_server_contract(void **state)
{
	struct raft *r = new_raft(7);
	struct raft_conf c;
	struct raft_update u;
	uint64_t idx, now = 1000;

	(void)state;
	raft_conf_init(&c);
	raft_conf_add(&c, 7, "127.0.0.1:8300", true);
	assert_int_equal(raft_bootstrap(r, &c), 0);
	assert_int_equal(raft_bootstrap(r, &c), ERR_EXISTS);
	raft_drain(r, &u);
	assert_true(u.hard_state_changed);
	assert_int_equal(u.term, 1);
	assert_int_equal(u.n_entries, 1);
	assert_int_equal(u.entries[0].type, RAFT_ENTRY_CONF);
	raft_persisted(r, 1, 1);
	raft_tick(r, now);
	raft_drain(r, &u);
	while (raft_role(r) != RAFT_LEADER && now < 2000) {
		now = u.next_deadline_ms;
		raft_tick(r, now);
		raft_drain(r, &u);
	}
	assert_int_equal(raft_role(r), RAFT_LEADER);
	assert_true(u.role_changed);
	assert_true(u.hard_state_changed);
	assert_int_equal(u.vote, 7);
	assert_int_equal(u.term, 2);
	/* the no-op of the term, not yet durable: nothing committed */
	assert_int_equal(u.n_entries, 1);
	assert_int_equal(u.entries[0].type, RAFT_ENTRY_NOOP);
	assert_int_equal(u.n_committed, 0);
	assert_false(raft_leader_ready(r));
	raft_persisted(r, 2, 1); /* stale term: ignored */
	raft_drain(r, &u);
	assert_int_equal(u.n_committed, 0);
	raft_persisted(r, 2, 2);
	raft_drain(r, &u);
	assert_int_equal(u.commit_index, 2);
	assert_int_equal(u.n_committed, 2); /* conf + no-op */
	assert_true(raft_leader_ready(r));
	assert_true(raft_lease_valid(r, now));
	assert_int_equal(raft_propose(r, RAFT_ENTRY_NORMAL, "hello", 5, &idx),
	    0);
	assert_int_equal(idx, 3);
	assert_int_equal(raft_read_index(r, 99), 0);
	raft_drain(r, &u);
	assert_int_equal(u.n_entries, 1);
	assert_memory_equal(u.entries[0].data, "hello", 5);
	assert_int_equal(u.n_reads, 1);
	assert_int_equal(u.reads[0].ctx, 99);
	assert_int_equal(u.reads[0].err, 0);
	assert_int_equal(u.reads[0].index, 2);
	raft_persisted(r, 3, 2);
	raft_drain(r, &u);
	assert_int_equal(u.n_committed, 1);
	assert_int_equal(u.committed[0].index, 3);
	assert_int_equal(raft_snapshot_taken(r, 4, "s", 1), ERR_INVAL);
	assert_int_equal(raft_snapshot_taken(r, 3, "snap", 4), 0);
	assert_int_equal(raft_snapshot_taken(r, 3, "snap", 4), ERR_INVAL);
	assert_int_equal(raft_remove_server(r, 7), ERR_INVAL); /* last voter */
	assert_int_equal(raft_transfer_leadership(r, 7), ERR_INVAL);
	raft_conf_fini(&c);
	raft_free(r);
}

/* Malformed or misaddressed messages are refused or dropped. */
static void
test_malformed_messages(void **state)
{
	struct raft *r = new_raft(1);
	struct raft_message m;
	struct raft_update u;
	struct raft_entry bad = { .term = 1, .index = 1,
		.type = RAFT_ENTRY_CONF, .data = "zz", .len = 2 };

	(void)state;
	raft_tick(r, 1000);
	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_APPEND;
	m.from = 2;
	m.to = 3;
	m.term = 1;
	assert_int_equal(raft_recv(r, &m), ERR_INVAL); /* not for us */
	m.to = 1;
	m.from = 0;
	assert_int_equal(raft_recv(r, &m), ERR_INVAL);
	m.from = 2;
	m.u.append.n_entries = 3; /* entries NULL */
	assert_int_equal(raft_recv(r, &m), 0);
	assert_int_equal(raft_last_index(r), 0);
	m.u.append.entries = &bad; /* undecodable configuration */
	m.u.append.n_entries = 1;
	assert_int_equal(raft_recv(r, &m), 0);
	assert_int_equal(raft_last_index(r), 0);
	bad.type = 99;
	assert_int_equal(raft_recv(r, &m), 0);
	assert_int_equal(raft_last_index(r), 0);
	memset(&m.u, 0, sizeof(m.u));
	m.type = RAFT_MSG_SNAPSHOT; /* no configuration */
	m.u.snapshot.index = 5;
	m.u.snapshot.snap_term = 1;
	m.u.snapshot.total = 10;
	m.u.snapshot.len = 10;
	m.u.snapshot.data = "0123456789";
	assert_int_equal(raft_recv(r, &m), 0);
	assert_int_equal(raft_commit_index(r), 0);
	m.type = 42;
	assert_int_equal(raft_recv(r, &m), ERR_INVAL);
	raft_drain(r, &u);
	assert_int_equal(u.n_entries, 0);
	assert_null(u.snapshot);
	raft_free(r);
}

static const struct raft_message *
find_msg(const struct raft_update *u, enum raft_msg_type type)
{
	for (size_t i = 0; i < u->n_msgs; i++)
		if (u->msgs[i].type == type)
			return &u->msgs[i];
	return NULL;
}

/* A three-voter follower (id 2) with entry 1 (the configuration) durable,
 * started at 1000 (contact with a leader assumed then). */
static struct raft *
three_voter_follower(void)
{
	struct raft *r = new_raft(2);
	struct raft_conf c;
	struct raft_update u;

	raft_conf_init(&c);
	raft_conf_add(&c, 1, "a", true);
	raft_conf_add(&c, 2, "b", true);
	raft_conf_add(&c, 3, "c", true);
	assert_int_equal(raft_bootstrap(r, &c), 0);
	raft_drain(r, &u);
	raft_persisted(r, 1, 1);
	raft_tick(r, 1000);
	raft_conf_fini(&c);
	return r;
}

/* A follower echoes the seq of its current leader only (ReadIndex). */
static void
test_follower_echo_per_term(void **state)
{
	struct raft *r = three_voter_follower();
	struct raft_message m;
	struct raft_update u;
	const struct raft_message *res;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_APPEND;
	m.from = 1;
	m.to = 2;
	m.term = 2;
	m.u.append.prev_index = 1;
	m.u.append.prev_term = 1;
	m.u.append.seq = 500;
	m.u.append.send_ms = 777;
	assert_int_equal(raft_recv(r, &m), 0);
	raft_drain(r, &u);
	res = find_msg(&u, RAFT_MSG_APPEND_RESULT);
	assert_non_null(res);
	assert_true(res->u.append_result.success);
	assert_int_equal(res->u.append_result.seq, 500);
	/* leader 3 of term 3 starts its counter low */
	m.from = 3;
	m.term = 3;
	m.u.append.seq = 7;
	m.u.append.send_ms = 10;
	assert_int_equal(raft_recv(r, &m), 0);
	raft_drain(r, &u);
	res = find_msg(&u, RAFT_MSG_APPEND_RESULT);
	assert_non_null(res);
	assert_int_equal(res->to, 3);
	assert_int_equal(res->u.append_result.seq, 7);
	assert_int_equal(res->u.append_result.send_ms, 10);
	assert_int_equal(raft_leader(r), 3);
	/* a stale leader is told the newer term */
	m.from = 1;
	m.term = 2;
	assert_int_equal(raft_recv(r, &m), 0);
	raft_drain(r, &u);
	res = find_msg(&u, RAFT_MSG_APPEND_RESULT);
	assert_non_null(res);
	assert_false(res->u.append_result.success);
	assert_int_equal(res->term, 3);
	raft_free(r);
}

/* A follower that heard a leader refuses votes in any term (lease). */
static void
test_sticky_any_term(void **state)
{
	struct raft *r = three_voter_follower();
	struct raft_message m;
	struct raft_update u;
	const struct raft_message *res;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_APPEND; /* leader 1, term 2 */
	m.from = 1;
	m.to = 2;
	m.term = 2;
	m.u.append.prev_index = 1;
	m.u.append.prev_term = 1;
	assert_int_equal(raft_recv(r, &m), 0);
	raft_tick(r, 1010);
	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_VOTE_RESULT; /* a refused pre-vote, term 3 */
	m.from = 3;
	m.to = 2;
	m.term = 3;
	m.u.vote_result.prevote = true;
	assert_int_equal(raft_recv(r, &m), 0);
	assert_int_equal(raft_term(r), 3);
	raft_drain(r, &u);
	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_VOTE; /* now a real vote in that very term */
	m.from = 3;
	m.to = 2;
	m.term = 3;
	m.u.vote.last_log_index = 5;
	m.u.vote.last_log_term = 2;
	assert_int_equal(raft_recv(r, &m), 0);
	raft_drain(r, &u);
	res = find_msg(&u, RAFT_MSG_VOTE_RESULT);
	assert_non_null(res);
	assert_false(res->u.vote_result.granted);
	assert_int_equal(u.vote, 0);
	/* an election timeout later the vote is granted */
	raft_tick(r, 1200);
	assert_int_equal(raft_recv(r, &m), 0);
	raft_drain(r, &u);
	res = find_msg(&u, RAFT_MSG_VOTE_RESULT);
	assert_non_null(res);
	assert_true(res->u.vote_result.granted);
	assert_true(u.hard_state_changed);
	assert_int_equal(u.vote, 3);
	raft_free(r);
}

/* A follower that hears no leader campaigns between T and 1.5T after
 * its last contact (the jitter), whatever its random draw. */
static uint64_t
fixed_random(void *arg)
{
	return *(uint64_t *)arg;
}

static void
test_election_jitter(void **state)
{
	static const uint64_t draws[] = { 0, 1, 250, 500, 501, 999,
	    0x7fffffffffffffffull, 0xffffffffffffffffull };
	uint64_t latest = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(draws) / sizeof(draws[0]); i++) {
		uint64_t draw = draws[i], t;
		struct raft_config cfg = { .id = 2,
			.election_timeout_ms = 1000, .random = fixed_random,
			.random_arg = &draw };
		struct raft *r = raft_new(&cfg);
		struct raft_conf c;
		struct raft_update u;

		assert_non_null(r);
		raft_conf_init(&c);
		raft_conf_add(&c, 1, "a", true);
		raft_conf_add(&c, 2, "b", true);
		raft_conf_add(&c, 3, "c", true);
		assert_int_equal(raft_bootstrap(r, &c), 0);
		raft_drain(r, &u);
		raft_persisted(r, 1, 1);
		raft_tick(r, 5000); /* started: contact assumed now */
		for (t = 5000; raft_role(r) == RAFT_FOLLOWER && t < 9000;
		    t++)
			raft_tick(r, t);
		assert_int_not_equal(raft_role(r), RAFT_FOLLOWER);
		t -= 1 + 5000; /* the tick that campaigned, from contact */
		assert_true(t >= 1000 && t <= 1500);
		if (t > latest)
			latest = t;
		raft_conf_fini(&c);
		raft_free(r);
	}
	assert_int_equal(latest, 1500);
}

/*
 * Pre-votes of a quick failover: a pre-candidate grants a pre-vote for
 * its own round only to a higher id when the logs are equal, and to a
 * lower id whose log is newer; stickiness ends at 0.9T; granting one
 * does not hold the granter's own timer back (a deaf server's retries
 * would stall every election).
 */
static void
prevote_from(struct raft *r, uint64_t from, uint64_t term,
    uint64_t last_index, uint64_t last_term, struct raft_update *u)
{
	struct raft_message m;

	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_VOTE;
	m.from = from;
	m.to = 2;
	m.term = term;
	m.u.vote.prevote = true;
	m.u.vote.last_log_index = last_index;
	m.u.vote.last_log_term = last_term;
	assert_int_equal(raft_recv(r, &m), 0);
	raft_drain(r, u);
}

static bool
granted(const struct raft_update *u)
{
	const struct raft_message *res = find_msg(u, RAFT_MSG_VOTE_RESULT);

	assert_non_null(res);
	return res->u.vote_result.granted;
}

static void
test_prevote_tiebreak(void **state)
{
	struct raft *r = three_voter_follower(); /* T = 100 */
	struct raft_update u;
	uint64_t t;

	(void)state;
	raft_tick(r, 1089);
	prevote_from(r, 3, 2, 1, 1, &u);
	assert_false(granted(&u)); /* sticky until 0.9T */
	raft_tick(r, 1090);
	prevote_from(r, 3, 2, 1, 1, &u);
	assert_true(granted(&u));
	assert_int_equal(raft_role(r), RAFT_FOLLOWER);
	/* its own timeout, unchanged: a pre-candidate for term 2 by
	 * 1.5T after the contact */
	for (t = 1091; raft_role(r) == RAFT_FOLLOWER && t < 2000; t++)
		raft_tick(r, t);
	assert_int_equal(raft_role(r), RAFT_PRECANDIDATE);
	assert_true(t - 1 <= 1150);
	assert_int_equal(raft_term(r), 1);
	prevote_from(r, 1, 2, 1, 1, &u);
	assert_false(granted(&u)); /* lower id, same log */
	prevote_from(r, 1, 2, 2, 1, &u);
	assert_true(granted(&u)); /* lower id, newer log */
	prevote_from(r, 3, 2, 1, 1, &u);
	assert_true(granted(&u)); /* higher id, same log */
	assert_int_equal(raft_role(r), RAFT_PRECANDIDATE);
	/* a lost round is tried again within [T/2, T] */
	assert_true(u.next_deadline_ms >= t - 1 + 50 &&
	    u.next_deadline_ms <= t - 1 + 100);
	raft_free(r);
}

/* Sends r (id 2) an AppendEntries of leader 1 in term 2 after prev,
 * with n entries of that term (n = 0: a heartbeat). */
static void
append_from_leader(struct raft *r, uint64_t prev, uint64_t prev_term,
    size_t n, uint64_t commit, struct raft_update *u)
{
	struct raft_entry e[4];
	struct raft_message m;

	memset(&m, 0, sizeof(m));
	memset(e, 0, sizeof(e));
	for (size_t i = 0; i < n; i++) {
		e[i].term = 2;
		e[i].index = prev + 1 + i;
		e[i].type = RAFT_ENTRY_NORMAL;
		e[i].data = "w";
		e[i].len = 1;
	}
	m.type = RAFT_MSG_APPEND;
	m.from = 1;
	m.to = 2;
	m.term = 2;
	m.u.append.prev_index = prev;
	m.u.append.prev_term = prev_term;
	m.u.append.entries = n ? e : NULL;
	m.u.append.n_entries = n;
	m.u.append.commit = commit;
	m.u.append.seq = prev + 100;
	assert_int_equal(raft_recv(r, &m), 0);
	raft_drain(r, u);
}

/*
 * A follower whose disk was idle answers AppendEntries that bring new
 * entries once they are durable, not also on arrival (that answer told
 * the leader nothing new and cost it a wake-up); while a sync is
 * running it answers at once as well (the leader's window moves on),
 * and a heartbeat is answered at once.
 */
static void
test_follower_acks_when_durable(void **state)
{
	struct raft *r = three_voter_follower();
	struct raft_update u;
	const struct raft_message *res;

	(void)state;
	append_from_leader(r, 1, 1, 1, 1, &u); /* entry 2, disk idle */
	assert_int_equal(u.n_entries, 1);
	assert_null(find_msg(&u, RAFT_MSG_APPEND_RESULT));
	raft_persisted(r, 2, 2);
	raft_drain(r, &u);
	res = find_msg(&u, RAFT_MSG_APPEND_RESULT);
	assert_non_null(res);
	assert_true(res->u.append_result.success);
	assert_int_equal(res->u.append_result.match, 2);

	append_from_leader(r, 2, 2, 1, 2, &u); /* entry 3, disk idle */
	assert_null(find_msg(&u, RAFT_MSG_APPEND_RESULT));
	append_from_leader(r, 3, 2, 1, 2, &u); /* entry 4, 3 still syncing */
	res = find_msg(&u, RAFT_MSG_APPEND_RESULT);
	assert_non_null(res);
	assert_int_equal(res->u.append_result.match, 2);
	assert_int_equal(res->u.append_result.last_index, 4);
	raft_persisted(r, 4, 2);
	raft_drain(r, &u);
	res = find_msg(&u, RAFT_MSG_APPEND_RESULT);
	assert_non_null(res);
	assert_int_equal(res->u.append_result.match, 4);

	append_from_leader(r, 4, 2, 0, 4, &u); /* a heartbeat */
	res = find_msg(&u, RAFT_MSG_APPEND_RESULT);
	assert_non_null(res);
	assert_int_equal(res->u.append_result.match, 4);
	raft_free(r);
}

/* Makes r (id 2 of voters 1, 2, 3) the leader of term 2 at now. */
static void
win_election(struct raft *r, uint64_t *now, struct raft_update *u)
{
	struct raft_message m;

	while (raft_role(r) == RAFT_FOLLOWER && *now < 5000)
		raft_tick(r, ++*now);
	assert_int_equal(raft_role(r), RAFT_PRECANDIDATE);
	raft_drain(r, u);
	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_VOTE_RESULT;
	m.from = 1;
	m.to = 2;
	m.term = raft_term(r) + 1;
	m.u.vote_result.prevote = true;
	m.u.vote_result.granted = true;
	assert_int_equal(raft_recv(r, &m), 0);
	assert_int_equal(raft_role(r), RAFT_CANDIDATE);
	raft_drain(r, u);
	raft_persisted(r, 1, 1);
	m.term = raft_term(r);
	m.u.vote_result.prevote = false;
	assert_int_equal(raft_recv(r, &m), 0);
	assert_int_equal(raft_role(r), RAFT_LEADER);
	raft_drain(r, u);
}

/* Follower id answers r's AppendEntries: its log matches up to match. */
static void
ack_from(struct raft *r, uint64_t id, uint64_t match)
{
	struct raft_message m;

	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_APPEND_RESULT;
	m.from = id;
	m.to = 2;
	m.term = raft_term(r);
	m.u.append_result.success = true;
	m.u.append_result.match = match;
	m.u.append_result.last_index = match;
	assert_int_equal(raft_recv(r, &m), 0);
}

/* The entry-less AppendEntries to id in u, or NULL. */
static const struct raft_message *
commit_only_to(const struct raft_update *u, uint64_t id)
{
	for (size_t i = 0; i < u->n_msgs; i++)
		if (u->msgs[i].type == RAFT_MSG_APPEND && u->msgs[i].to == id &&
		    u->msgs[i].u.append.n_entries == 0)
			return &u->msgs[i];
	return NULL;
}

/*
 * A new commit index reaches the followers with the next AppendEntries
 * that carries entries; only if none goes within 2 ms does it go on its
 * own (each commit-only message was answered, waking the leader between
 * two writes of one client).
 */
static void
test_commit_notice(void **state)
{
	struct raft *r = three_voter_follower();
	struct raft_update u;
	uint64_t now = 1000, idx, last;
	const struct raft_message *a;

	(void)state;
	win_election(r, &now, &u);
	last = raft_last_index(r); /* the no-op of term 2 */
	raft_persisted(r, last, raft_term(r));
	ack_from(r, 1, last);
	ack_from(r, 3, last);
	raft_drain(r, &u);
	assert_int_equal(u.commit_index, last);
	assert_null(commit_only_to(&u, 1));
	assert_null(commit_only_to(&u, 3));
	assert_true(u.next_deadline_ms <= now + 2);
	raft_tick(r, now + 2);
	raft_drain(r, &u);
	assert_non_null(a = commit_only_to(&u, 1));
	assert_int_equal(a->u.append.commit, last);
	assert_non_null(commit_only_to(&u, 3));

	/* a write commits; the next one, 1 ms later, carries the commit */
	now += 10;
	raft_tick(r, now);
	assert_int_equal(raft_propose(r, RAFT_ENTRY_NORMAL, "a", 1, &idx), 0);
	raft_drain(r, &u);
	raft_persisted(r, idx, raft_term(r));
	ack_from(r, 1, idx);
	raft_drain(r, &u);
	assert_int_equal(u.commit_index, idx);
	assert_null(commit_only_to(&u, 1));
	raft_tick(r, now + 1);
	assert_int_equal(raft_propose(r, RAFT_ENTRY_NORMAL, "b", 1, &idx), 0);
	raft_drain(r, &u);
	a = find_msg(&u, RAFT_MSG_APPEND);
	assert_non_null(a);
	assert_int_equal(a->u.append.n_entries, 1);
	assert_int_equal(a->u.append.commit, idx - 1);
	assert_null(commit_only_to(&u, 1));
	assert_null(commit_only_to(&u, 3));
	/* both followers got the commit with the entries: nothing more */
	raft_tick(r, now + 3);
	raft_drain(r, &u);
	assert_null(commit_only_to(&u, 1));
	assert_null(commit_only_to(&u, 3));
	raft_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_golden),
		cmocka_unit_test(test_conf_malformed),
		cmocka_unit_test(test_new_bad_config),
		cmocka_unit_test(test_follower_refuses),
		cmocka_unit_test(test_restore_inconsistent),
		cmocka_unit_test(test_single_server_contract),
		cmocka_unit_test(test_malformed_messages),
		cmocka_unit_test(test_follower_echo_per_term),
		cmocka_unit_test(test_sticky_any_term),
		cmocka_unit_test(test_election_jitter),
		cmocka_unit_test(test_prevote_tiebreak),
		cmocka_unit_test(test_follower_acks_when_durable),
		cmocka_unit_test(test_commit_notice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
