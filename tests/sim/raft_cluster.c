/*
 * raft_cluster.c — the simulated cluster driving raftd's pure Raft core:
 * network, disks, clock and the safety checks run after every step.
 *
 * The key decision: the simulation executes each drained update exactly
 * as raft.h tells raftd to (hard state and snapshot synchronously, then
 * messages; log writes later, in order, reported with raft_persisted),
 * and a crash throws away every write not yet reported. Everything the
 * core says is checked against global knowledge accumulated from all
 * servers. Reference: cowsql/raft test/lib/cluster.h; Ongaro 2014, 3.6.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "raft_cluster.h"

/* ---- small helpers ------------------------------------------------- */

static void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (p == NULL) {
		fprintf(stderr, "sim: out of memory\n");
		abort();
	}
	return p;
}

static void *
xrealloc(void *p, size_t sz)
{
	if ((p = realloc(p, sz ? sz : 1)) == NULL) {
		fprintf(stderr, "sim: out of memory\n");
		abort();
	}
	return p;
}

static void *
xdup(const void *src, size_t len)
{
	void *p = xcalloc(1, len);

	if (len > 0)
		memcpy(p, src, len);
	return p;
}

uint64_t
cl_rand(struct cluster *c)
{
	uint64_t x = c->rng; /* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint64_t
node_rand(void *arg)
{
	return cl_rand(arg);
}

void
cl_trace(struct cluster *c, const char *fmt, ...)
{
	va_list ap;
	char *line = c->trace[c->trace_pos++ % 64];
	int k;

	k = snprintf(line, 160, "t=%-6llu ", (unsigned long long)c->now);
	va_start(ap, fmt);
	vsnprintf(line + k, 160 - (size_t)k, fmt, ap);
	va_end(ap);
	if (c->verbose)
		printf("  %s\n", line);
}

void
cl_fail(struct cluster *c, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return;
	c->failed = true;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	cl_trace(c, "FAIL: %s", c->why);
}

struct cl_node *
cl_node(struct cluster *c, uint64_t id)
{
	if (id == 0 || id > c->n)
		return NULL;
	return &c->nodes[id - 1];
}

uint64_t
cl_local(struct cluster *c, struct cl_node *nd)
{
	int64_t el = (int64_t)(c->now - 1000);

	return (uint64_t)((int64_t)c->now + el * nd->skew / 1000);
}

void
cl_tick(struct cluster *c, struct cl_node *nd)
{
	raft_tick(nd->r, cl_local(c, nd));
}

/* Simulation time at which the node's clock reads local. */
static uint64_t
sim_time_of(struct cluster *c, struct cl_node *nd, uint64_t local)
{
	uint64_t t;
	uint64_t saved = c->now;

	if (local <= 1000)
		return 1000;
	t = 1000 + (local - 1000) * 1000 / (uint64_t)(1000 + nd->skew);
	for (;;) {
		c->now = t;
		if (cl_local(c, nd) >= local)
			break;
		t++;
	}
	c->now = saved;
	return t;
}

void
cl_grow(void **arr, size_t *n, size_t want, size_t elem)
{
	if (want <= *n)
		return;
	size_t nn = *n ? *n : 64;
	while (nn < want)
		nn *= 2;
	*arr = xrealloc(*arr, nn * elem);
	memset((char *)*arr + *n * elem, 0, (nn - *n) * elem);
	*n = nn;
}

/* ---- disk ----------------------------------------------------------- */

static void
entry_free(struct cl_entry *e)
{
	free(e->data);
	e->data = NULL;
}

static void
disk_truncate(struct cl_disk *d, uint64_t index)
{
	while (d->n > 0 && d->log[d->n - 1].index >= index)
		entry_free(&d->log[--d->n]);
}

uint64_t
cl_disk_last(const struct cl_disk *d)
{
	return d->n ? d->log[d->n - 1].index : d->snap_index;
}

uint64_t
cl_disk_term(const struct cl_disk *d, uint64_t i)
{
	if (d->n && i >= d->log[0].index && i <= cl_disk_last(d))
		return d->log[i - d->log[0].index].term;
	if (i == d->snap_index)
		return d->snap_term;
	return 0;
}

static void
writes_free(struct cl_node *nd)
{
	while (nd->writes) {
		struct cl_write *w = nd->writes;
		nd->writes = w->next;
		for (size_t i = 0; i < w->n; i++)
			entry_free(&w->e[i]);
		free(w->e);
		free(w);
	}
}

static void
disk_fini(struct cl_disk *d)
{
	disk_truncate(d, 0);
	free(d->log);
	free(d->snap_conf);
	free(d->snap_data);
	free(d->conf);
	memset(d, 0, sizeof(*d));
}

/* ---- network -------------------------------------------------------- */

static void
msg_free(struct cl_msg *m)
{
	if (m->m.type == RAFT_MSG_APPEND)
		for (size_t i = 0; i < m->m.u.append.n_entries; i++)
			free(m->ents[i].data);
	free(m->ents);
	free(m->data);
	free(m->conf);
}

static void
net_enqueue(struct cluster *c, const struct raft_message *src)
{
	struct cl_msg *m;
	uint64_t span = c->delay_max - c->delay_min + 1;

	if (c->n_msgs == c->cap_msgs) {
		c->cap_msgs = c->cap_msgs ? c->cap_msgs * 2 : 256;
		c->msgs = xrealloc(c->msgs, c->cap_msgs * sizeof(*c->msgs));
	}
	m = &c->msgs[c->n_msgs++];
	memset(m, 0, sizeof(*m));
	m->m = *src;
	m->at = c->now + c->delay_min + cl_rand(c) % span;
	if (c->fifo) { /* a TCP stream per pair, like nng between servers */
		uint64_t *last = &c->last_at[src->from - 1][src->to - 1];
		if (m->at < *last)
			m->at = *last;
		*last = m->at;
	}
	m->order = ++c->order;
	if (src->type == RAFT_MSG_APPEND && src->u.append.n_entries > 0) {
		size_t n = src->u.append.n_entries;
		m->ents = xcalloc(n, sizeof(*m->ents));
		for (size_t i = 0; i < n; i++) {
			m->ents[i] = src->u.append.entries[i];
			m->ents[i].data = src->u.append.entries[i].len ?
			    xdup(src->u.append.entries[i].data,
				src->u.append.entries[i].len) : NULL;
		}
		m->m.u.append.entries = m->ents;
	}
	if (src->type == RAFT_MSG_SNAPSHOT) {
		m->data = xdup(src->u.snapshot.data, src->u.snapshot.len);
		m->conf = xdup(src->u.snapshot.conf, src->u.snapshot.conf_len);
		m->m.u.snapshot.data = m->data;
		m->m.u.snapshot.conf = m->conf;
	}
}

static void
net_send(struct cluster *c, const struct raft_message *m)
{
	c->st.msgs_sent++;
	if (m->to == 0 || m->to > c->n)
		return;
	if (c->blocked[m->from - 1][m->to - 1])
		return;
	if (cl_rand(c) % 100 < c->loss_pct)
		return;
	net_enqueue(c, m);
	if (cl_rand(c) % 100 < c->dup_pct)
		net_enqueue(c, m);
}

/* ---- executing a drained update ------------------------------------- */

static void
apply_install(struct cluster *c, struct cl_node *nd,
    const struct raft_snapshot_install *s)
{
	struct cl_disk *d = &nd->disk;
	uint64_t idx = 0, term = 0, hash = 0;
	void *cbuf;
	size_t clen;

	uint64_t maker = 0;

	if (s->len < 32) {
		cl_fail(c, "snapshot install: %zu bytes", s->len);
		return;
	}
	memcpy(&idx, s->data, 8);
	memcpy(&term, (const char *)s->data + 8, 8);
	memcpy(&hash, (const char *)s->data + 16, 8);
	/* the padding depends on the server that made the snapshot, so
	 * chunks of two leaders' snapshots mixed would show */
	memcpy(&maker, (const char *)s->data + 24, 8);
	for (size_t i = 32; i < s->len; i++)
		if (((const unsigned char *)s->data)[i] !=
		    (unsigned char)(i ^ idx ^ maker)) {
			cl_fail(c, "snapshot install: corrupt byte %zu", i);
			return;
		}
	if (idx != s->index || term != s->term) {
		cl_fail(c, "snapshot install: data for %llu, meta %llu",
		    (unsigned long long)idx, (unsigned long long)s->index);
		return;
	}
	if (idx <= d->applied) {
		cl_fail(c, "snapshot install at %llu behind applied %llu",
		    (unsigned long long)idx, (unsigned long long)d->applied);
		return;
	}
	cl_check_chain(c, idx, hash, nd);
	writes_free(nd); /* superseded */
	disk_truncate(d, 0);
	if (raft_conf_encode(s->conf, &cbuf, &clen) != 0)
		abort();
	free(d->snap_conf);
	free(d->snap_data);
	d->snap_conf = cbuf;
	d->snap_conf_len = clen;
	d->snap_data = xdup(s->data, s->len);
	d->snap_len = s->len;
	d->snap_index = s->index;
	d->snap_term = s->term;
	d->applied = idx;
	d->applied_term = term;
	d->hash = hash;
	free(d->conf);
	d->conf = xdup(cbuf, clen);
	d->conf_len = clen;
	nd->mem.n = 0;
	nd->mem.snap_index = s->index;
	nd->mem.snap_term = s->term;
	c->st.snapshots_installed++;
	cl_trace(c, "n%llu installed snapshot %llu/%llu",
	    (unsigned long long)nd->id, (unsigned long long)s->index,
	    (unsigned long long)s->term);
}

static void
apply_entries(struct cluster *c, struct cl_node *nd,
    const struct raft_update *u)
{
	struct cl_write *w, **tail;

	if (u->truncate_from != 0)
		cl_mirror_truncate(&nd->mem, u->truncate_from);
	for (size_t i = 0; i < u->n_entries; i++) {
		const struct raft_entry *e = &u->entries[i];
		uint64_t prev = cl_mirror_term(&nd->mem, e->index - 1);
		uint64_t h = cl_entry_hash(0, e->index, e->term, e->type, e->data,
		    e->len);

		if (e->index != cl_mirror_last(&nd->mem) + 1) {
			cl_fail(c, "n%llu: entry %llu to persist after %llu",
			    (unsigned long long)nd->id,
			    (unsigned long long)e->index,
			    (unsigned long long)cl_mirror_last(&nd->mem));
			return;
		}
		cl_mirror_append(&nd->mem, e->index, e->term);
		cl_check_entry(c, nd, e, prev, h);
		if (c->failed)
			return;
	}
	if (u->truncate_from == 0 && u->n_entries == 0)
		return;
	w = xcalloc(1, sizeof(*w));
	w->due = c->now + nd->disk_latency_min;
	if (nd->disk_latency_max > nd->disk_latency_min)
		w->due += cl_rand(c) %
		    (nd->disk_latency_max - nd->disk_latency_min + 1);
	w->truncate_from = u->truncate_from;
	w->n = u->n_entries;
	w->e = xcalloc(w->n, sizeof(*w->e));
	for (size_t i = 0; i < w->n; i++) {
		w->e[i].term = u->entries[i].term;
		w->e[i].index = u->entries[i].index;
		w->e[i].type = u->entries[i].type;
		w->e[i].len = u->entries[i].len;
		w->e[i].data = u->entries[i].len ?
		    xdup(u->entries[i].data, u->entries[i].len) : NULL;
	}
	for (tail = &nd->writes; *tail; tail = &(*tail)->next)
		;
	*tail = w;
}

static void
apply_committed(struct cluster *c, struct cl_node *nd,
    const struct raft_update *u)
{
	struct cl_disk *d = &nd->disk;

	for (size_t i = 0; i < u->n_committed; i++) {
		const struct raft_entry *e = &u->committed[i];

		if (e->index != d->applied + 1) {
			cl_fail(c, "n%llu applies %llu after %llu",
			    (unsigned long long)nd->id,
			    (unsigned long long)e->index,
			    (unsigned long long)d->applied);
			return;
		}
		cl_check_committed(c, e->index, e->term, "apply");
		d->hash = cl_entry_hash(d->hash, e->index, e->term, e->type,
		    e->data, e->len);
		d->applied = e->index;
		d->applied_term = e->term;
		cl_check_chain(c, e->index, d->hash, nd);
		if (e->type == RAFT_ENTRY_CONF) {
			free(d->conf);
			d->conf = xdup(e->data, e->len);
			d->conf_len = e->len;
		}
		c->st.applied++;
	}
}

static void
make_snapshot_data(uint64_t idx, uint64_t term, uint64_t hash,
    uint64_t maker, unsigned char **out, size_t *len)
{
	size_t n = 224 + (size_t)(idx % 200);
	unsigned char *b = xcalloc(1, n);

	memcpy(b, &idx, 8);
	memcpy(b + 8, &term, 8);
	memcpy(b + 16, &hash, 8);
	memcpy(b + 24, &maker, 8);
	for (size_t i = 32; i < n; i++)
		b[i] = (unsigned char)(i ^ idx ^ maker);
	*out = b;
	*len = n;
}

void
cl_snapshot(struct cluster *c, uint64_t id)
{
	struct cl_node *nd = cl_node(c, id);
	struct cl_disk *d;
	unsigned char *data;
	size_t len;
	int rc;

	if (nd == NULL || !nd->up)
		return;
	d = &nd->disk;
	if (d->applied <= d->snap_index || d->applied == 0)
		return;
	make_snapshot_data(d->applied, d->applied_term, d->hash, id, &data,
	    &len);
	rc = raft_snapshot_taken(nd->r, d->applied, data, len);
	if (rc != 0) {
		free(data);
		cl_fail(c, "n%llu snapshot at %llu: %s",
		    (unsigned long long)id, (unsigned long long)d->applied,
		    err_str(rc));
		return;
	}
	{
		/* the core's idea of the snapshot matches the state machine */
		struct raft_snapshot_meta meta;
		void *cb;
		size_t cl;
		raft_snapshot_get(nd->r, &meta);
		if (raft_conf_encode(meta.conf, &cb, &cl) != 0)
			abort();
		if (meta.index != d->applied || meta.term != d->applied_term ||
		    cl != d->conf_len || memcmp(cb, d->conf, cl) != 0 ||
		    meta.len != len || memcmp(meta.data, data, len) != 0)
			cl_fail(c, "n%llu snapshot metadata differs from the "
			    "state machine at %llu", (unsigned long long)id,
			    (unsigned long long)d->applied);
		free(cb);
	}
	free(d->snap_data);
	free(d->snap_conf);
	d->snap_data = data;
	d->snap_len = len;
	d->snap_conf = xdup(d->conf, d->conf_len);
	d->snap_conf_len = d->conf_len;
	d->snap_index = d->applied;
	d->snap_term = d->applied_term;
	nd->mem.snap_index = d->applied;
	nd->mem.snap_term = d->applied_term;
	cl_trace(c, "n%llu snapshot at %llu", (unsigned long long)id,
	    (unsigned long long)d->applied);
	cl_process(c, nd);
}

void
cl_process(struct cluster *c, struct cl_node *nd)
{
	struct raft_update u;

	raft_drain(nd->r, &u);
	if (u.hard_state_changed) {
		if (u.term < nd->disk.term)
			cl_fail(c, "n%llu term goes back %llu -> %llu",
			    (unsigned long long)nd->id,
			    (unsigned long long)nd->disk.term,
			    (unsigned long long)u.term);
		if (u.term == nd->disk.term && nd->disk.vote != 0 &&
		    u.vote != nd->disk.vote)
			cl_fail(c, "n%llu changes its vote in term %llu",
			    (unsigned long long)nd->id,
			    (unsigned long long)u.term);
		nd->disk.term = u.term;
		nd->disk.vote = u.vote;
	}
	if (u.snapshot != NULL)
		apply_install(c, nd, u.snapshot);
	apply_entries(c, nd, &u);
	for (size_t i = 0; i < u.n_msgs; i++) {
		cl_check_outgoing(c, nd, &u.msgs[i]);
		net_send(c, &u.msgs[i]);
	}
	/* 3.6.2: a leader advances its commit index only to an entry of
	 * its own term (older entries commit indirectly). */
	if (u.role == RAFT_LEADER && nd->role == RAFT_LEADER &&
	    u.commit_index > nd->reported_commit &&
	    cl_mirror_term(&nd->mem, u.commit_index) != u.term)
		cl_fail(c, "leader n%llu commits index %llu of term %llu in "
		    "term %llu by counting", (unsigned long long)nd->id,
		    (unsigned long long)u.commit_index,
		    (unsigned long long)cl_mirror_term(&nd->mem, u.commit_index),
		    (unsigned long long)u.term);
	for (uint64_t i = nd->reported_commit + 1; i <= u.commit_index; i++) {
		uint64_t t = cl_mirror_term(&nd->mem, i);
		if (t != 0)
			cl_check_committed(c, i, t, "commit");
	}
	if (u.commit_index > nd->reported_commit)
		nd->reported_commit = u.commit_index;
	apply_committed(c, nd, &u);
	cl_check_reads(c, nd, &u);
	if (u.role == RAFT_LEADER)
		cl_check_leader(c, nd);
	if (u.role_changed) {
		if (u.role == RAFT_LEADER && nd->role != RAFT_LEADER) {
			c->st.elections_won++;
			cl_check_new_leader(c, nd);
		}
		cl_trace(c, "n%llu %s term %llu leader n%llu",
		    (unsigned long long)nd->id, raft_role_name(u.role),
		    (unsigned long long)u.term, (unsigned long long)u.leader);
		nd->role = u.role;
		nd->leader = u.leader;
	}
	if (u.compact_to != 0) {
		struct cl_disk *d = &nd->disk;
		size_t k = 0;
		if (u.compact_to > d->snap_index)
			cl_fail(c, "n%llu compacts beyond its snapshot",
			    (unsigned long long)nd->id);
		while (k < d->n && d->log[k].index <= u.compact_to)
			entry_free(&d->log[k++]);
		memmove(d->log, d->log + k, (d->n - k) * sizeof(*d->log));
		d->n -= k;
		cl_mirror_compact(&nd->mem, u.compact_to);
	}
	nd->deadline = sim_time_of(c, nd, u.next_deadline_ms);
	if (u.want_snapshot && !c->failed)
		cl_snapshot(c, nd->id);
}

/* ---- lifecycle of nodes ---------------------------------------------- */

static struct raft *
node_new(struct cluster *c, struct cl_node *nd)
{
	struct raft_config cfg = {
		.id = nd->id,
		.election_timeout_ms = CL_ET_MS,
		.heartbeat_ms = c->hb_ms,
		.random = node_rand,
		.random_arg = c,
		.max_inflight = c->max_inflight,
		.max_batch_bytes = c->max_batch_bytes,
		.snapshot_chunk_bytes = c->chunk_bytes,
		.snapshot_threshold = c->snap_threshold,
		.snapshot_trailing = c->snap_trailing,
	};
	struct raft *r = raft_new(&cfg);

	if (r == NULL)
		abort();
	return r;
}

static void
node_boot(struct cluster *c, struct cl_node *nd)
{
	struct cl_disk *d = &nd->disk;
	struct raft_snapshot_meta meta = { 0 };
	struct raft_conf conf;
	struct raft_entry *ents;
	int rc;

	nd->r = node_new(c, nd);
	raft_conf_init(&conf);
	ents = xcalloc(d->n, sizeof(*ents));
	for (size_t i = 0; i < d->n; i++) {
		ents[i].term = d->log[i].term;
		ents[i].index = d->log[i].index;
		ents[i].type = d->log[i].type;
		ents[i].data = d->log[i].data;
		ents[i].len = d->log[i].len;
	}
	if (d->snap_index) {
		if (raft_conf_decode(&conf, d->snap_conf, d->snap_conf_len))
			abort();
		meta.index = d->snap_index;
		meta.term = d->snap_term;
		meta.conf = &conf;
		meta.data = d->snap_data;
		meta.len = d->snap_len;
	}
	rc = raft_restore(nd->r, d->term, d->vote, d->snap_index ? &meta : NULL,
	    ents, d->n, d->applied);
	free(ents);
	raft_conf_fini(&conf);
	if (rc != 0) {
		cl_fail(c, "n%llu restore: %s", (unsigned long long)nd->id,
		    err_str(rc));
		return;
	}
	/* the mirror restarts from what is on disk */
	nd->mem.n = 0;
	nd->mem.snap_index = d->snap_index;
	nd->mem.snap_term = d->snap_term;
	for (size_t i = 0; i < d->n; i++) {
		if (nd->mem.n == 0 && d->log[i].index != d->snap_index + 1) {
			nd->mem.first = d->log[i].index;
		}
		cl_mirror_append(&nd->mem, d->log[i].index, d->log[i].term);
	}
	nd->up = true;
	nd->role = RAFT_FOLLOWER;
	nd->leader = 0;
	nd->reported_commit = raft_commit_index(nd->r);
	cl_tick(c, nd);
	cl_process(c, nd);
}

void
cl_start(struct cluster *c, uint64_t id)
{
	struct cl_node *nd = cl_node(c, id);

	if (nd == NULL || nd->up)
		return;
	nd->exists = true;
	node_boot(c, nd);
	cl_trace(c, "n%llu started", (unsigned long long)id);
}

void
cl_crash(struct cluster *c, uint64_t id)
{
	struct cl_node *nd = cl_node(c, id);

	if (nd == NULL || !nd->up)
		return;
	raft_free(nd->r);
	nd->r = NULL;
	nd->up = false;
	writes_free(nd);
	c->st.crashes++;
	cl_trace(c, "n%llu crashed (disk last %llu)", (unsigned long long)id,
	    (unsigned long long)cl_disk_last(&nd->disk));
}

void
cl_restart(struct cluster *c, uint64_t id)
{
	struct cl_node *nd = cl_node(c, id);

	if (nd == NULL || nd->up || !nd->exists)
		return;
	node_boot(c, nd);
	cl_trace(c, "n%llu restarted", (unsigned long long)id);
}

void
cl_block(struct cluster *c, uint64_t from, uint64_t to, bool b)
{
	if (from && to && from <= c->n && to <= c->n)
		c->blocked[from - 1][to - 1] = b;
}

void
cl_isolate(struct cluster *c, uint64_t id)
{
	for (uint64_t k = 1; k <= c->n; k++)
		if (k != id) {
			cl_block(c, id, k, true);
			cl_block(c, k, id, true);
		}
	cl_trace(c, "n%llu isolated", (unsigned long long)id);
}

void
cl_heal(struct cluster *c)
{
	memset(c->blocked, 0, sizeof(c->blocked));
	cl_trace(c, "network healed");
}

void
cl_init(struct cluster *c, uint64_t seed, size_t n_slots)
{
	memset(c, 0, sizeof(*c));
	c->seed = seed;
	c->rng = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
	if (c->rng == 0)
		c->rng = 1;
	c->now = 1000;
	c->n = n_slots;
	c->delay_min = 1;
	c->delay_max = 10;
	c->fifo = true;
	c->hb_ms = CL_HB_MS;
	cl_check_init(c);
	c->max_inflight = 8;
	c->max_batch_bytes = 4096;
	c->chunk_bytes = 64;
	c->snap_threshold = 100000;
	c->snap_trailing = 20;
	for (size_t i = 0; i < n_slots; i++) {
		c->nodes[i].id = i + 1;
		c->nodes[i].role = RAFT_FOLLOWER;
	}
}

void
cl_bootstrap(struct cluster *c, size_t n_voters)
{
	struct raft_conf conf;
	char addr[64];

	raft_conf_init(&conf);
	for (size_t i = 0; i < n_voters; i++) {
		snprintf(addr, sizeof(addr), "10.0.0.%zu:8300", i + 1);
		raft_conf_add(&conf, i + 1, addr, true);
	}
	/* bootstrap: every initial server writes the same first entry */
	for (size_t i = 0; i < n_voters; i++) {
		struct cl_node *nd = &c->nodes[i];
		struct raft *r = node_new(c, nd);
		struct raft_update u;

		nd->exists = true;
		if (raft_bootstrap(r, &conf) != 0)
			abort();
		raft_drain(r, &u);
		nd->disk.term = u.term;
		nd->disk.log = xcalloc(1, sizeof(*nd->disk.log));
		nd->disk.cap = 1;
		nd->disk.n = 1;
		nd->disk.log[0].term = u.entries[0].term;
		nd->disk.log[0].index = u.entries[0].index;
		nd->disk.log[0].type = u.entries[0].type;
		nd->disk.log[0].len = u.entries[0].len;
		nd->disk.log[0].data = xdup(u.entries[0].data, u.entries[0].len);
		raft_free(r);
	}
	raft_conf_fini(&conf);
	for (size_t i = 0; i < n_voters; i++)
		cl_start(c, i + 1);
}

void
cl_fini(struct cluster *c)
{
	for (size_t i = 0; i < c->n; i++) {
		raft_free(c->nodes[i].r);
		writes_free(&c->nodes[i]);
		disk_fini(&c->nodes[i].disk);
		free(c->nodes[i].mem.terms);
	}
	for (size_t i = 0; i < c->n_msgs; i++)
		msg_free(&c->msgs[i]);
	free(c->msgs);
	free(c->leader_of);
	free(c->commit_term);
	free(c->chain);
	free(c->reads);
	cl_check_fini(c);
}

/* ---- the event loop ------------------------------------------------- */

static void
complete_write(struct cluster *c, struct cl_node *nd)
{
	struct cl_write *w = nd->writes;
	struct cl_disk *d = &nd->disk;

	nd->writes = w->next;
	if (w->truncate_from != 0)
		disk_truncate(d, w->truncate_from);
	for (size_t i = 0; i < w->n; i++) {
		if (w->e[i].index != cl_disk_last(d) + 1) {
			cl_fail(c, "n%llu disk: write %llu after %llu",
			    (unsigned long long)nd->id,
			    (unsigned long long)w->e[i].index,
			    (unsigned long long)cl_disk_last(d));
			break;
		}
		if (d->n == d->cap) {
			d->cap = d->cap ? d->cap * 2 : 64;
			d->log = xrealloc(d->log, d->cap * sizeof(*d->log));
		}
		d->log[d->n++] = w->e[i];
		w->e[i].data = NULL;
	}
	if (w->n > 0 && !c->failed) {
		cl_tick(c, nd);
		raft_persisted(nd->r, w->e[w->n - 1].index, w->e[w->n - 1].term);
		cl_process(c, nd);
	}
	for (size_t i = 0; i < w->n; i++)
		entry_free(&w->e[i]);
	free(w->e);
	free(w);
}

void
cl_step(struct cluster *c, uint64_t limit)
{
	uint64_t t = limit;
	size_t best = SIZE_MAX;

	for (size_t i = 0; i < c->n_msgs; i++)
		if (c->msgs[i].at < t)
			t = c->msgs[i].at;
	for (size_t i = 0; i < c->n; i++) {
		struct cl_node *nd = &c->nodes[i];
		if (!nd->up)
			continue;
		if (nd->writes && nd->writes->due < t)
			t = nd->writes->due;
		if (nd->deadline < t)
			t = nd->deadline;
	}
	if (t < c->now)
		t = c->now;
	c->now = t;
	/* disk completions first, then timers, then one message */
	for (size_t i = 0; i < c->n && !c->failed; i++) {
		struct cl_node *nd = &c->nodes[i];
		while (nd->up && nd->writes && nd->writes->due <= c->now &&
		    !c->failed)
			complete_write(c, nd);
	}
	for (size_t i = 0; i < c->n && !c->failed; i++) {
		struct cl_node *nd = &c->nodes[i];
		if (nd->up && nd->deadline <= c->now) {
			cl_tick(c, nd);
			cl_process(c, nd);
			if (nd->deadline <= c->now)
				nd->deadline = c->now + 1;
		}
	}
	best = SIZE_MAX;
	for (size_t i = 0; i < c->n_msgs; i++)
		if (c->msgs[i].at <= c->now && (best == SIZE_MAX ||
		    c->msgs[i].order < c->msgs[best].order))
			best = i;
	if (best != SIZE_MAX && !c->failed) {
		struct cl_msg m = c->msgs[best];
		struct cl_node *nd = cl_node(c, m.m.to);

		c->msgs[best] = c->msgs[--c->n_msgs];
		if (nd && nd->up && !c->blocked[m.m.from - 1][m.m.to - 1]) {
			c->st.msgs_delivered++;
			cl_tick(c, nd);
			raft_recv(nd->r, &m.m);
			cl_process(c, nd);
		}
		msg_free(&m);
	}
	if (!c->failed)
		cl_check_leases(c);
}

void
cl_run(struct cluster *c, uint64_t ms)
{
	uint64_t end = c->now + ms;

	while (c->now < end && !c->failed)
		cl_step(c, end);
}

bool
cl_run_until(struct cluster *c, uint64_t ms,
    bool (*pred)(struct cluster *, void *), void *arg)
{
	uint64_t end = c->now + ms;

	while (!c->failed) {
		if (pred(c, arg))
			return true;
		if (c->now >= end)
			return false;
		cl_step(c, end);
	}
	return false;
}

/* ---- client actions ------------------------------------------------- */

uint64_t
cl_leader(struct cluster *c)
{
	uint64_t best = 0, term = 0;

	for (size_t i = 0; i < c->n; i++) {
		struct cl_node *nd = &c->nodes[i];
		if (nd->up && raft_role(nd->r) == RAFT_LEADER &&
		    raft_term(nd->r) >= term) {
			best = nd->id;
			term = raft_term(nd->r);
		}
	}
	return best;
}

uint64_t
cl_propose(struct cluster *c, uint64_t id, unsigned n)
{
	struct cl_node *nd = cl_node(c, id);
	uint64_t index = 0;
	unsigned char buf[256];

	if (nd == NULL || !nd->up)
		return 0;
	cl_tick(c, nd);
	for (unsigned i = 0; i < n; i++) {
		size_t len = 8 + cl_rand(c) % 120;
		uint64_t v = ++c->next_value;
		memset(buf, (int)(v & 0xff), len);
		memcpy(buf, &v, 8);
		if (raft_propose(nd->r, RAFT_ENTRY_NORMAL, buf, len, &index))
			break;
		c->st.proposals++;
	}
	cl_process(c, nd);
	return index;
}

void
cl_read(struct cluster *c, uint64_t id)
{
	struct cl_node *nd = cl_node(c, id);
	uint64_t ctx = ++c->next_ctx;

	if (nd == NULL || !nd->up)
		return;
	cl_tick(c, nd);
	if (raft_read_index(nd->r, ctx) == 0) {
		c->reads = xrealloc(c->reads,
		    (c->n_reads + 1) * sizeof(*c->reads));
		c->reads[c->n_reads].ctx = ctx;
		c->reads[c->n_reads].need = c->max_commit;
		c->n_reads++;
	}
	cl_process(c, nd);
}
