/*
 * dnsd.h — the DNS daemon's state, owned by its one loop thread, and the
 * glue its I/O files share: answer one query from the current view, and
 * turn a recursor's outcome into the client's reply.
 *
 * The answering core (dns_query.c) is pure; this is where the clock, the
 * per-query random seed and forwarding meet it. Reference: Knot DNS
 * process_query.c / server udp-handler split; spec/consul-api.md §5.
 */
#ifndef CAIRN_DNSD_H
#define CAIRN_DNSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsd/dns_settings.h"

struct config;
struct loop;
struct dns_view;
struct dns_query_ctx;
struct dns_recursor;
struct dns_ratelimit;
struct dns_udp;
struct dns_tcp;
struct dns_feed;

#define DNSD_MAX_MSG 65535

struct dnsd {
	struct loop *loop;
	const struct config *cfg;
	struct dns_settings *set;     /* owned; replaced whole on SIGHUP */
	struct dns_view *view;        /* current view; the feed swaps it */
	struct dns_view *empty_view;  /* before the first catalog read */
	struct dns_query_ctx *qctx;
	struct dns_recursor *rec;
	struct dns_ratelimit *rl;     /* NULL: no per-source limit */
	struct dns_udp *udp;
	struct dns_tcp *tcp;
	struct dns_feed *feed;
	uint64_t rng;                 /* xorshift64* state */
	uint64_t fail_log_ms;         /* last "all resolvers failed" log */
	uint64_t fail_suppressed;
	uint64_t queries, forwards, servfails;
	/* NS of the apex: the nodes of the "consul" service in the view
	 * (names borrowed from d->view, recomputed at every swap) */
	const char **ns;
	size_t nns, capns;
};

/* A fast non-cryptographic random number (shuffle seeds, recursor ids). */
uint64_t dnsd_rand(struct dnsd *d);

/*
 * Answers the query q (len bytes, borrowed) into out (outsize bytes, at
 * least DNSD_MAX_MSG). Returns DNS_QUERY_REPLY with *outlen set,
 * DNS_QUERY_DROP or DNS_QUERY_FORWARD (the caller hands q to
 * dns_recursor_forward() and finishes with dnsd_forwarded()).
 */
int dnsd_answer(struct dnsd *d, const uint8_t *q, size_t len, bool tcp,
    uint8_t *out, size_t outsize, size_t *outlen);

/*
 * The reply to a forwarded query q (borrowed): the upstream answer
 * (borrowed; NULL when every recursor failed: SERVFAIL) with the client's
 * ID and RA. Returns DNS_QUERY_REPLY with out and *outlen set, or
 * DNS_QUERY_DROP.
 */
int dnsd_forwarded(struct dnsd *d, const uint8_t *q, size_t qlen, bool tcp,
    const uint8_t *answer, size_t alen, uint8_t *out, size_t outsize,
    size_t *outlen);

#endif
