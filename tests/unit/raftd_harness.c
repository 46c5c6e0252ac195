/*
 * raftd_harness.c — the shared part of the multi-node raftd unit tests
 * (raftd_harness.h): the loop runner, opening and closing a node with
 * its IPC client, its directories and common configuration, and the
 * IPC reply slot. Linked by unit_raftd_cluster and unit_raftd_client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ipc.h"
#include "loop.h"
#include "tests/unit/raftd_harness.h"

static void
tick_cb(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

bool
harness_run_until(struct loop *l, bool (*pred)(void *), void *arg,
    uint64_t ms)
{
	uint64_t deadline = loop_clock_ms() + ms;

	while (!pred(arg) && loop_clock_ms() < deadline) {
		uint64_t t = loop_timer_add(l, 20, tick_cb, NULL);

		assert_int_equal(loop_run(l), 0);
		loop_timer_cancel(l, t);
	}
	return pred(arg);
}

bool
harness_never(void *arg)
{
	(void)arg;
	return false;
}

void
harness_node_init(struct node *n, const char *prefix, const char *name,
    int port, uint32_t hold_ms)
{
	snprintf(n->dir, sizeof(n->dir), "%s.XXXXXX", prefix);
	assert_non_null(mkdtemp(n->dir));
	memcpy(n->run, n->dir, sizeof(n->dir));
	strcat(n->run, "/run");
	assert_int_equal(mkdir(n->run, 0700), 0);
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->addr, sizeof(n->addr), "127.0.0.1:%d", port);
	n->cfg.data_dir = n->dir;
	n->cfg.runtime_dir = n->run;
	n->cfg.node_name = n->name;
	n->cfg.node_id = "";
	n->cfg.datacenter = "dc1";
	n->cfg.bind_addr = "127.0.0.1";
	n->cfg.advertise_addr = "";
	n->cfg.ports.server = port;
	n->cfg.raft_multiplier = 1;
	n->cfg.rpc_hold_timeout_ms = hold_ms;
	assert_int_equal(node_id_ensure(n->dir, "", n->uuid, sizeof(n->uuid)),
	    0);
}

void
harness_node_start(struct loop *l, struct node *n)
{
	char url[256];

	assert_int_equal(node_open(&n->rd, l, &n->cfg), 0);
	assert_int_equal(ipc_url(url, sizeof(url), n->run, NODE_SOCKET), 0);
	assert_int_equal(ipc_client_open(l, url, &n->c), 0);
	n->up = true;
}

/* Nothing accumulating for the disk and no batch being synced. */
static bool
quiet(void *arg)
{
	struct raftd *rd = arg;

	return !rd->writing && (rd->next == NULL || rd->next->n == 0);
}

void
harness_node_stop(struct loop *l, struct node *n, bool raft_first)
{
	if (!n->up)
		return;
	if (raft_first)
		consensus_stop(&n->rd);
	n->rd.stopping = true;
	harness_run_until(l, quiet, &n->rd, 5000);
	ipc_client_close(n->c);
	n->c = NULL;
	node_close(&n->rd);
	n->up = false;
}

void
harness_node_rmdir(struct node *n)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", n->dir);
	assert_int_equal(system(cmd), 0);
}

void
harness_on_reply(void *arg, int err, const uint8_t *data, size_t len)
{
	struct slot *s = arg;

	s->done = true;
	s->err = err;
	if (data != NULL) {
		s->data = malloc(len ? len : 1);
		memcpy(s->data, data, len);
		s->len = len;
	}
}

bool
harness_slot_done(void *arg)
{
	return ((struct slot *)arg)->done;
}
