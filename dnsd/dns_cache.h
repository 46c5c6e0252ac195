/*
 * dns_cache.h — rendered service answers, reused with a fresh shuffle.
 *
 * A service answer that holds every healthy instance, one record each,
 * untrimmed (A, AAAA or SRV; EDNS or TCP sizes), is the same bytes for
 * every query of that question until the view or the config changes —
 * except for the order of the answer records, which Consul shuffles per
 * query. Such an answer is stored once; a hit copies it with the answer
 * records permuted (Fisher-Yates, seeded per query) and the query's ID,
 * RD and CD patched in. The answer records are position independent (the
 * owner is a pointer to the question; A/AAAA rdata has no name; an SRV
 * target is written whole and is never a compression target), so they
 * can move; the additional records keep the order of the render that
 * filled the entry (resolvers match them by name). Anything else (a CNAME
 * among the answers, trimming, a subset under a_record_limit, negative
 * answers) is not stored, and is rendered per query as before.
 *
 * The owner must call dns_cache_flush() whenever the view or the config
 * may have changed; the entries also remember the view and config
 * pointers as a second guard. Reference: Knot DNS and NSD (prerendered
 * answers patched per query); Consul agent/dns.go (per-query shuffle).
 */
#ifndef CAIRN_DNS_CACHE_H
#define CAIRN_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsd/dns_wire.h"

#define DNS_CACHE_SLOTS 64
#define DNS_CACHE_MAX_ANSWERS 256
#define DNS_CACHE_MAX_LEN 16384

/* What an answer depends on besides the view and config. */
struct dns_cache_key {
	const struct dns_wire_query *q; /* qname (case as sent), qtype,
	                                 * qclass, edns */
	size_t limit;                   /* the response size limit */
	bool tcp;
	const void *view, *cfg;         /* identity only */
};

struct dns_cache;

/* Returns an empty cache (dns_cache_free()), or NULL on allocation
 * failure. */
struct dns_cache *dns_cache_new(void);
void dns_cache_free(struct dns_cache *c);

/* Forgets every entry. */
void dns_cache_flush(struct dns_cache *c);

/* On a hit writes the stored answer, shuffled with seed and patched for
 * k->q, into out (outsize bytes), sets *outlen and returns true. */
bool dns_cache_get(struct dns_cache *c, const struct dns_cache_key *k,
    uint64_t seed, uint8_t *out, size_t outsize, size_t *outlen);

/* Answers given from the cache so far. */
uint64_t dns_cache_hits(const struct dns_cache *c);

/* Stores resp (len bytes, borrowed), the answer to k, if its answer
 * records are all of type k->q->qtype with the question as owner (the
 * caller has checked the rest of the rules above). Best effort: no
 * error is reported (a failed allocation just stores nothing). */
void dns_cache_put(struct dns_cache *c, const struct dns_cache_key *k,
    const uint8_t *resp, size_t len);

#endif
