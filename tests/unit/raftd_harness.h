/*
 * raftd_harness.h — what the multi-node raftd unit tests share
 * (test_raftd_cluster.c, test_raftd_client.c): nodes opened with
 * node_open in one process on one event loop, each with its own
 * mkdtemp directory, runtime directory and IPC client; running the loop
 * until a condition holds; IPC calls answered into a slot. The tests
 * keep their scenarios, their configuration and their request helpers.
 */
#ifndef CAIRN_TESTS_RAFTD_HARNESS_H
#define CAIRN_TESTS_RAFTD_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "nodeid.h"
#include "raftd/raftd.h"

struct ipc_client;
struct loop;

struct node {
	char dir[64];
	char run[96];
	char name[16];
	char addr[32];
	char uuid[NODE_ID_LEN + 1];
	struct config cfg;
	struct raftd rd;
	struct ipc_client *c;
	bool up;
};

/* A reply to an ipc_call (harness_on_reply fills it). */
struct slot {
	bool done;
	int err;
	uint8_t *data;
	size_t len;
	uint64_t took; /* set by a test that measures it */
};

/* Runs l until pred(arg) or ms pass; returns pred(arg). */
bool harness_run_until(struct loop *l, bool (*pred)(void *), void *arg,
    uint64_t ms);
/* A predicate that never holds: harness_run_until runs ms. */
bool harness_never(void *arg);

/*
 * Makes n's directories ("<prefix>.XXXXXX" and its run/), its name, its
 * address 127.0.0.1:port and its UUID, and the configuration every test
 * uses (dc1 on 127.0.0.1, rpc_hold_timeout hold_ms, raft_multiplier 1).
 * The test sets the rest of n->cfg, then harness_node_start.
 */
void harness_node_init(struct node *n, const char *prefix, const char *name,
    int port, uint32_t hold_ms);
/* Opens n on l and an IPC client to its raftd.rpc. */
void harness_node_start(struct loop *l, struct node *n);
/*
 * Closes n if up: with raft_first the Raft core stops first (no more
 * input from peers); the write in flight finishes.
 */
void harness_node_stop(struct loop *l, struct node *n, bool raft_first);
/* Removes n's directory. */
void harness_node_rmdir(struct node *n);

/* ipc_call callback: arg is a struct slot. */
void harness_on_reply(void *arg, int err, const uint8_t *data, size_t len);
/* Predicate: the slot arg is answered. */
bool harness_slot_done(void *arg);

#endif
