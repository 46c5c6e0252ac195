/*
 * dns_cache.c — rendered service answers with a per-query shuffle (see
 * dns_cache.h).
 *
 * Key decisions: a small direct-mapped table (a colliding question just
 * replaces the entry: the working set of a DNS interface is a handful of
 * service names); an entry keeps the response bytes and where each answer
 * record starts, found by walking the rendered response, which also
 * checks that every answer record can move (owner = pointer to offset
 * 12, type = qtype). The permutation uses the core's splitmix64 so a
 * given seed gives the same order every time. Reference: Knuth vol. 2
 * §3.4.2 (Fisher-Yates); RFC 1035 §4.1.
 */
#include "dnsd/dns_cache.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_HDR 12u

struct dns_cache_entry {
	bool used;
	uint8_t qname[255];
	size_t qname_len;
	uint16_t qtype, qclass;
	bool edns, tcp;
	size_t limit;
	const void *view, *cfg;
	uint8_t *resp;
	size_t len;
	unsigned n;                             /* answer records */
	uint16_t blk[DNS_CACHE_MAX_ANSWERS + 1]; /* record i is
	                                          * [blk[i], blk[i + 1]) */
};

struct dns_cache {
	uint64_t hits;
	struct dns_cache_entry e[DNS_CACHE_SLOTS];
};

static uint64_t
cache_rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

struct dns_cache *
dns_cache_new(void)
{
	return calloc(1, sizeof(struct dns_cache));
}

void
dns_cache_flush(struct dns_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < DNS_CACHE_SLOTS; i++) {
		free(c->e[i].resp);
		memset(&c->e[i], 0, sizeof(c->e[i]));
	}
}

void
dns_cache_free(struct dns_cache *c)
{
	dns_cache_flush(c);
	free(c);
}

static struct dns_cache_entry *
cache_slot(struct dns_cache *c, const struct dns_cache_key *k)
{
	const struct dns_wire_query *q = k->q;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < q->qname_len; i++)
		h = (h ^ q->qname[i]) * 16777619u;
	h = (h ^ q->qtype) * 16777619u;
	h = (h ^ (uint32_t)k->limit) * 16777619u;
	h ^= h >> 15;
	return &c->e[h % DNS_CACHE_SLOTS];
}

static bool
cache_match(const struct dns_cache_entry *e, const struct dns_cache_key *k)
{
	const struct dns_wire_query *q = k->q;

	return e->used && e->qname_len == q->qname_len &&
	    e->qtype == q->qtype && e->qclass == q->qclass &&
	    e->edns == q->edns && e->tcp == k->tcp && e->limit == k->limit &&
	    e->view == k->view && e->cfg == k->cfg &&
	    memcmp(e->qname, q->qname, q->qname_len) == 0;
}

bool
dns_cache_get(struct dns_cache *c, const struct dns_cache_key *k,
    uint64_t seed, uint8_t *out, size_t outsize, size_t *outlen)
{
	struct dns_cache_entry *e;
	uint16_t idx[DNS_CACHE_MAX_ANSWERS];
	size_t pos;
	unsigned i, j;

	if (c == NULL || k->q->qname_len > sizeof(e->qname))
		return false;
	e = cache_slot(c, k);
	if (!cache_match(e, k) || e->len > outsize)
		return false;
	for (i = 0; i < e->n; i++)
		idx[i] = (uint16_t)i;
	for (i = e->n; i > 1; i--) {
		uint16_t t;

		j = (unsigned)(cache_rng(&seed) % i);
		t = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = t;
	}
	pos = e->blk[0];
	memcpy(out, e->resp, pos);
	for (i = 0; i < e->n; i++) {
		size_t b = e->blk[idx[i]], n = e->blk[idx[i] + 1] - b;

		memcpy(out + pos, e->resp + b, n);
		pos += n;
	}
	memcpy(out + pos, e->resp + pos, e->len - pos);
	out[0] = (uint8_t)(k->q->id >> 8);
	out[1] = (uint8_t)k->q->id;
	out[2] = (uint8_t)((out[2] & ~0x01) | (k->q->rd ? 0x01 : 0));
	out[3] = (uint8_t)((out[3] & ~0x10) | (k->q->cd ? 0x10 : 0));
	*outlen = e->len;
	c->hits++;
	return true;
}

uint64_t
dns_cache_hits(const struct dns_cache *c)
{
	return c != NULL ? c->hits : 0;
}

/* Finds the answer records of resp into e->blk; false if any cannot
 * move or the response is not a plain complete NOERROR answer. */
static bool
cache_walk(struct dns_cache_entry *e, const uint8_t *resp, size_t len,
    uint16_t qtype)
{
	size_t pos = CACHE_HDR;
	unsigned i, n;

	if (len < CACHE_HDR || rd16(resp + 4) != 1 || (resp[2] & 0x02) ||
	    (resp[3] & 0x0f) != 0)
		return false;
	n = rd16(resp + 6);
	if (n == 0 || n > DNS_CACHE_MAX_ANSWERS)
		return false;
	while (pos < len && resp[pos] != 0) { /* the question: no pointers */
		if (resp[pos] & 0xc0)
			return false;
		pos += 1 + (size_t)resp[pos];
	}
	pos += 1 + 4;
	for (i = 0; i < n; i++) {
		if (pos + 12 > len || resp[pos] != 0xc0 ||
		    resp[pos + 1] != CACHE_HDR || rd16(resp + pos + 2) != qtype)
			return false;
		e->blk[i] = (uint16_t)pos;
		pos += 12 + (size_t)rd16(resp + pos + 10);
	}
	if (pos > len)
		return false;
	e->blk[n] = (uint16_t)pos;
	e->n = n;
	return true;
}

void
dns_cache_put(struct dns_cache *c, const struct dns_cache_key *k,
    const uint8_t *resp, size_t len)
{
	struct dns_cache_entry *e;
	const struct dns_wire_query *q = k->q;

	if (c == NULL || len > DNS_CACHE_MAX_LEN ||
	    q->qname_len > sizeof(e->qname))
		return;
	e = cache_slot(c, k);
	free(e->resp);
	memset(e, 0, sizeof(*e));
	if (!cache_walk(e, resp, len, q->qtype) ||
	    (e->resp = malloc(len)) == NULL) {
		memset(e, 0, sizeof(*e));
		return;
	}
	memcpy(e->resp, resp, len);
	e->len = len;
	memcpy(e->qname, q->qname, q->qname_len);
	e->qname_len = q->qname_len;
	e->qtype = q->qtype;
	e->qclass = q->qclass;
	e->edns = q->edns;
	e->tcp = k->tcp;
	e->limit = k->limit;
	e->view = k->view;
	e->cfg = k->cfg;
	e->used = true;
}
