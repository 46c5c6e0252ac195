/*
 * reap.c — the KV tombstone (and dedup record) GC of raftd: deleted keys leave tombstones
 * so that a prefix's index moves on delete (spec §1.5); they are reaped
 * once older than Consul's tombstone TTL (15 minutes).
 *
 * Key decision: the leader samples (time, KV table index) every
 * interval (30 s, Consul's granularity) and, when the newest sample
 * older than the TTL carries an index past the last reap, appends a
 * REAP log entry carrying that index; applying it also drops the dedup
 * records of writes that old (kv_reap). Reaping is therefore a replicated, deterministic log entry —
 * every replica deletes the same tombstones at the same log position —
 * and time only decides when the leader proposes it. After a reap a
 * prefix's index may go backwards, as in Consul; clients reset to 0.
 * Reference: Consul agent/consul/state/tombstone_gc.go, kvs.go
 * ReapTombstones; spec/consul-api.md §1.5.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "kv.h"
#include "log.h"
#include "loop.h"
#include "raftd.h"
#include "store.h"

static void
reap_tick(struct loop *l, void *arg)
{
	struct raftd *rd = arg;
	uint64_t now = loop_now_ms(l), upto = 0;
	struct reap_sample *sm;
	uint8_t data[8];

	rd->reap_timer = loop_timer_add(l, rd->reap_interval_ms, reap_tick,
	    rd);
	if (rd->stopping)
		return;
	if (!rd->leader)
		return;
	/* ring: the oldest falls out once full (cap covers the TTL) */
	sm = &rd->reap_samples[(rd->reap_head + rd->reap_n) % rd->reap_cap];
	if (rd->reap_n == rd->reap_cap) {
		rd->reap_head = (rd->reap_head + 1) % rd->reap_cap;
		rd->reap_n--;
		sm = &rd->reap_samples[(rd->reap_head + rd->reap_n) %
		    rd->reap_cap];
	}
	sm->at_ms = now;
	sm->index = kv_table_index(rd->kv);
	rd->reap_n++;
	for (size_t i = 0; i < rd->reap_n; i++) {
		sm = &rd->reap_samples[(rd->reap_head + i) % rd->reap_cap];
		if (sm->at_ms + rd->reap_ttl_ms > now)
			break;
		upto = sm->index;
	}
	if (upto <= rd->reaped_upto)
		return;
	store_put_be64(data, upto);
	if (pipeline_submit_internal(rd, STORE_ENTRY_REAP, data,
	    sizeof(data)) == 0)
		rd->reaped_upto = upto;
}

int
reap_start(struct raftd *rd)
{
	if (rd->reap_ttl_ms == 0)
		rd->reap_ttl_ms = REAP_TTL_MS;
	if (rd->reap_interval_ms == 0)
		rd->reap_interval_ms = REAP_INTERVAL_MS;
	rd->reap_cap = rd->reap_ttl_ms / rd->reap_interval_ms + 2;
	rd->reap_samples = calloc(rd->reap_cap, sizeof(*rd->reap_samples));
	if (rd->reap_samples == NULL)
		return ERR_NOMEM;
	rd->reap_n = rd->reap_head = 0;
	rd->reap_timer = loop_timer_add(rd->loop, rd->reap_interval_ms,
	    reap_tick, rd);
	return rd->reap_timer != 0 ? 0 : ERR_NOMEM;
}

void
reap_stop(struct raftd *rd)
{
	if (rd->reap_timer != 0)
		loop_timer_cancel(rd->loop, rd->reap_timer);
	rd->reap_timer = 0;
	free(rd->reap_samples);
	rd->reap_samples = NULL;
	rd->reap_n = rd->reap_cap = 0;
}
