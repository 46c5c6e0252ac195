/*
 * raft_check.c — the safety checks of the Raft simulation, fed by
 * raft_cluster.c with everything each server's core hands out.
 *
 * Global knowledge: the leader of each term (election safety), a registry
 * (index, term) -> content hash and previous term (log matching: equal
 * index and term imply equal entries and equal histories), the term
 * committed at each index (commit safety, leader completeness: a new
 * leader's log holds every committed entry), a state-machine hash chain
 * per applied index (state machine safety), the durability of every
 * acknowledgement and vote, lease safety and linearizable ReadIndex.
 * A mirror of each core's log, rebuilt from its updates, is what the
 * checks read. Reference: Ongaro 2014, Figure 3.2 and 3.6.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft_cluster.h"

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

static uint64_t
hash_mix(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t
cl_entry_hash(uint64_t h, uint64_t index, uint64_t term, int type,
    const void *data, size_t len)
{
	uint64_t hdr[3] = { index, term, (uint64_t)type };

	h = hash_mix(h ^ 0xcbf29ce484222325ull, hdr, sizeof(hdr));
	return hash_mix(h, data, len);
}

/* ---- the registry: (index, term) -> content hash and previous term ---- */

struct reg_slot {
	uint64_t index;
	uint64_t term;
	uint64_t hash;
	uint64_t prev_term; /* +1; 0 unknown */
};

struct registry {
	struct reg_slot *s;
	size_t cap;
	size_t n;
};

static struct reg_slot *
reg_find(struct registry *g, uint64_t index, uint64_t term, bool create)
{
	size_t h, i;

	if (create && (g->n + 1) * 2 > g->cap) {
		struct registry ng = { 0 };
		ng.cap = g->cap ? g->cap * 2 : 1024;
		ng.s = xcalloc(ng.cap, sizeof(*ng.s));
		for (size_t k = 0; k < g->cap; k++)
			if (g->s[k].index != 0) {
				*reg_find(&ng, g->s[k].index, g->s[k].term,
				    true) = g->s[k];
				ng.n++;
			}
		free(g->s);
		*g = ng;
	}
	if (g->cap == 0)
		return NULL;
	h = (size_t)((index * 0x9e3779b97f4a7c15ull) ^ (term * 31));
	for (i = h % g->cap;; i = (i + 1) % g->cap) {
		if (g->s[i].index == index && g->s[i].term == term)
			return &g->s[i];
		if (g->s[i].index == 0) {
			if (!create)
				return NULL;
			g->s[i].index = index;
			g->s[i].term = term;
			g->n++;
			return &g->s[i];
		}
	}
}

/* ---- the mirror of a core's log ------------------------------------- */

uint64_t
cl_mirror_last(const struct cl_mirror *m)
{
	return m->n ? m->first + m->n - 1 : m->snap_index;
}

uint64_t
cl_mirror_term(const struct cl_mirror *m, uint64_t i)
{
	if (i == 0)
		return 0;
	if (m->n && i >= m->first && i < m->first + m->n)
		return m->terms[i - m->first];
	if (i == m->snap_index)
		return m->snap_term;
	return 0;
}

void
cl_mirror_append(struct cl_mirror *m, uint64_t index, uint64_t term)
{
	if (m->n == 0)
		m->first = index;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->terms = xrealloc(m->terms, m->cap * sizeof(*m->terms));
	}
	m->terms[m->n++] = term;
}

void
cl_mirror_truncate(struct cl_mirror *m, uint64_t index)
{
	while (m->n > 0 && m->first + m->n - 1 >= index)
		m->n--;
}

void
cl_mirror_compact(struct cl_mirror *m, uint64_t index)
{
	size_t k = 0;

	while (k < m->n && m->first + k <= index)
		k++;
	memmove(m->terms, m->terms + k, (m->n - k) * sizeof(*m->terms));
	m->n -= k;
	m->first += k;
}

/* ---- checks --------------------------------------------------------- */

void
cl_check_leader(struct cluster *c, struct cl_node *nd)
{
	uint64_t t = raft_term(nd->r);

	cl_grow((void **)&c->leader_of, &c->n_leader_of, t + 1, sizeof(uint64_t));
	if (c->leader_of[t] == 0)
		c->leader_of[t] = nd->id;
	else if (c->leader_of[t] != nd->id)
		cl_fail(c, "election safety: n%llu and n%llu both lead term "
		    "%llu", (unsigned long long)c->leader_of[t],
		    (unsigned long long)nd->id, (unsigned long long)t);
}

/* Leader completeness: a new leader holds every committed entry. */
void
cl_check_new_leader(struct cluster *c, struct cl_node *nd)
{
	for (uint64_t i = c->max_commit; i > nd->mem.snap_index; i--) {
		uint64_t t = cl_mirror_term(&nd->mem, i);
		if (i < nd->mem.first && nd->mem.n)
			break;
		if (c->commit_term[i] != 0 && t != c->commit_term[i]) {
			cl_fail(c, "leader completeness: new leader n%llu "
			    "term %llu has term %llu at committed index %llu "
			    "(committed term %llu)",
			    (unsigned long long)nd->id,
			    (unsigned long long)raft_term(nd->r),
			    (unsigned long long)t, (unsigned long long)i,
			    (unsigned long long)c->commit_term[i]);
			return;
		}
	}
}

void
cl_check_committed(struct cluster *c, uint64_t i, uint64_t t, const char *who)
{
	cl_grow((void **)&c->commit_term, &c->n_commit, i + 1, sizeof(uint64_t));
	if (c->commit_term[i] == 0)
		c->commit_term[i] = t;
	else if (c->commit_term[i] != t)
		cl_fail(c, "commit safety: %s commits term %llu at %llu, "
		    "committed before with term %llu", who,
		    (unsigned long long)t, (unsigned long long)i,
		    (unsigned long long)c->commit_term[i]);
	if (i > c->max_commit)
		c->max_commit = i;
}

void
cl_check_chain(struct cluster *c, uint64_t index, uint64_t hash,
    struct cl_node *nd)
{
	cl_grow((void **)&c->chain, &c->n_chain, index + 1, sizeof(uint64_t));
	if (c->chain[index] == 0)
		c->chain[index] = hash;
	else if (c->chain[index] != hash)
		cl_fail(c, "state machine safety: n%llu applied a different "
		    "history at index %llu", (unsigned long long)nd->id,
		    (unsigned long long)index);
}

void
cl_check_outgoing(struct cluster *c, struct cl_node *nd,
    const struct raft_message *m)
{
	if (m->from != nd->id) {
		cl_fail(c, "n%llu sends as n%llu", (unsigned long long)nd->id,
		    (unsigned long long)m->from);
		return;
	}
	if (m->type == RAFT_MSG_APPEND_RESULT && m->u.append_result.success) {
		uint64_t i = m->u.append_result.match;
		if (i > cl_disk_last(&nd->disk) ||
		    (i > nd->disk.snap_index &&
			cl_disk_term(&nd->disk, i) != cl_mirror_term(&nd->mem, i)))
			cl_fail(c, "n%llu acknowledges index %llu not durable "
			    "(disk last %llu)", (unsigned long long)nd->id,
			    (unsigned long long)i,
			    (unsigned long long)cl_disk_last(&nd->disk));
	}
	if (m->type == RAFT_MSG_VOTE_RESULT && m->u.vote_result.granted &&
	    !m->u.vote_result.prevote &&
	    (nd->disk.vote != m->to || nd->disk.term != m->term))
		cl_fail(c, "n%llu grants a vote not durable",
		    (unsigned long long)nd->id);
	if (m->type == RAFT_MSG_VOTE) {
		if (m->u.vote.prevote)
			c->st.prevotes_sent++;
		else
			c->st.votes_sent++;
		if (!m->u.vote.prevote && (nd->disk.vote != nd->id ||
		    nd->disk.term != m->term))
			cl_fail(c, "n%llu campaigns before its vote is durable",
			    (unsigned long long)nd->id);
	}
	if (m->type == RAFT_MSG_APPEND_RESULT && !m->u.append_result.success) {
		c->st.append_rejects++;
		cl_trace(c, "n%llu rejects append at %llu from n%llu (conflict "
		    "term %llu index %llu)", (unsigned long long)nd->id,
		    (unsigned long long)m->u.append_result.rejected,
		    (unsigned long long)m->to,
		    (unsigned long long)m->u.append_result.conflict_term,
		    (unsigned long long)m->u.append_result.conflict_index);
	}
	if (m->type == RAFT_MSG_SNAPSHOT)
		c->st.snapshot_chunks++;
}

void
cl_check_reads(struct cluster *c, struct cl_node *nd, const struct raft_update *u)
{
	for (size_t i = 0; i < u->n_reads; i++) {
		const struct raft_read *rd = &u->reads[i];
		uint64_t need = 0;
		bool found = false;

		for (size_t k = 0; k < c->n_reads; k++)
			if (c->reads[k].ctx == rd->ctx) {
				need = c->reads[k].need;
				c->reads[k] = c->reads[--c->n_reads];
				found = true;
				break;
			}
		if (!found) {
			cl_fail(c, "n%llu answers unknown read %llu",
			    (unsigned long long)nd->id,
			    (unsigned long long)rd->ctx);
			return;
		}
		if (rd->err != 0) {
			c->st.reads_failed++;
			continue;
		}
		c->st.reads_ok++;
		if (rd->index < need)
			cl_fail(c, "read %llu at n%llu: index %llu < %llu "
			    "committed when issued (stale read)",
			    (unsigned long long)rd->ctx,
			    (unsigned long long)nd->id,
			    (unsigned long long)rd->index,
			    (unsigned long long)need);
	}
}

void
cl_check_leases(struct cluster *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct cl_node *nd = &c->nodes[i];
		if (!nd->up || !raft_lease_valid(nd->r, cl_local(c, nd)))
			continue;
		if (raft_commit_index(nd->r) < c->max_commit)
			cl_fail(c, "lease: n%llu holds a lease with commit "
			    "%llu < %llu committed", (unsigned long long)nd->id,
			    (unsigned long long)raft_commit_index(nd->r),
			    (unsigned long long)c->max_commit);
		for (size_t k = 0; k < c->n; k++) {
			struct cl_node *o = &c->nodes[k];
			if (o->up && k != i && raft_role(o->r) == RAFT_LEADER &&
			    raft_term(o->r) > raft_term(nd->r))
				cl_fail(c, "lease: n%llu holds a lease in term "
				    "%llu while n%llu leads term %llu",
				    (unsigned long long)nd->id,
				    (unsigned long long)raft_term(nd->r),
				    (unsigned long long)o->id,
				    (unsigned long long)raft_term(o->r));
		}
	}
}

void
cl_check_init(struct cluster *c)
{
	c->registry = xcalloc(1, sizeof(struct registry));
}

void
cl_check_fini(struct cluster *c)
{
	struct registry *g = c->registry;

	if (g != NULL)
		free(g->s);
	free(g);
	c->registry = NULL;
}

/* Log matching: an (index, term) seen anywhere has one content and one
 * previous term (prev is 0 when the server does not know it). */
void
cl_check_entry(struct cluster *c, struct cl_node *nd,
    const struct raft_entry *e, uint64_t prev, uint64_t h)
{
	struct reg_slot *s = reg_find(c->registry, e->index, e->term, true);

	if (s->hash == 0) {
		s->hash = h;
		s->prev_term = prev ? prev + 1 : 0;
	} else if (s->hash != h ||
	    (prev && s->prev_term && s->prev_term != prev + 1)) {
		cl_fail(c, "log matching: n%llu entry %llu/%llu differs",
		    (unsigned long long)nd->id, (unsigned long long)e->index,
		    (unsigned long long)e->term);
	} else if (prev && !s->prev_term) {
		s->prev_term = prev + 1;
	}
}
