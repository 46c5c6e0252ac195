/*
 * dns_query.h — dnsd's pure answering core: query bytes in, response bytes
 * out, from a config and a view.
 *
 * No sockets, clocks or randomness inside: the daemon passes the time (SOA
 * serial) and a random seed (the per-query shuffle), so tests and the fuzzer
 * are deterministic. The daemon owns the network I/O and forwarding: this
 * core only says DROP (send nothing), REPLY (send out[0..outlen)) or
 * FORWARD (send the query to the recursors). Reference: Knot DNS
 * process_query.c (answering apart from I/O); consul-api.md §5, §16.21;
 * fault-testing.md §7.2.
 */
#ifndef CAIRN_DNS_QUERY_H
#define CAIRN_DNS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsd/dns_config.h"
#include "dnsd/dns_view.h"

/* Outcomes of dns_query_answer() (errors are negative ERR_* codes). */
enum dns_query_result {
	DNS_QUERY_REPLY = 0,   /* send out[0..*outlen) to the client */
	DNS_QUERY_DROP = 1,    /* send nothing (QR=1, < 12 bytes) */
	DNS_QUERY_FORWARD = 2, /* out of our domains and recursors are
	                        * configured: forward the query as is */
};

/* One query, as received. */
struct dns_request {
	const uint8_t *wire; /* borrowed for the call */
	size_t len;
	bool tcp;            /* arrived over TCP: 64 KiB answers, no trimming
	                      * to the UDP sizes */
	uint64_t rand_seed;  /* seeds the shuffle; vary it per query */
	uint32_t now;        /* unix seconds: the SOA serial */
};

/* Per-thread scratch (response writer, instance arrays): create once,
 * reuse for every query, so answering allocates almost nothing. */
struct dns_query_ctx;

/* Returns a context owned by the caller (dns_query_ctx_free()), or NULL
 * on allocation failure. */
struct dns_query_ctx *dns_query_ctx_new(void);
void dns_query_ctx_free(struct dns_query_ctx *ctx);

/* Turns on ctx's answer cache (dnsd/dns_cache.h): complete service
 * answers are rendered once and reshuffled per query. The caller must
 * then call dns_query_ctx_flush() whenever the view or the config it
 * passes may have changed. Returns 0 or ERR_NOMEM. */
int dns_query_ctx_cache(struct dns_query_ctx *ctx);
void dns_query_ctx_flush(struct dns_query_ctx *ctx);
/* Answers ctx gave from its cache (0 when it has none). */
uint64_t dns_query_ctx_cache_hits(const struct dns_query_ctx *ctx);

/* Answers req from view under cfg (all borrowed for the call). out must
 * hold outsize bytes; pass at least 65535 to never clamp (the response is
 * also clamped to outsize). Returns DNS_QUERY_REPLY with *outlen set,
 * DNS_QUERY_DROP, DNS_QUERY_FORWARD, or ERR_NOMEM / ERR_TOOBIG (out too
 * small even for an error reply) — on an internal allocation failure the
 * core first tries to reply SERVFAIL.
 *
 * Policies (fault-testing.md §7.2): malformed → FORMERR (question echoed
 * when it parsed); opcode != QUERY → NOTIMP; EDNS version > 0 → BADVERS;
 * QCLASS other than IN/ANY (e.g. CH version.bind) → REFUSED; AXFR/IXFR →
 * REFUSED; names outside our domains → REFUSED, or FORWARD with
 * cfg->recursors. Every reply: same ID, QR=1, RD copied, AA on our
 * answers, RA iff cfg->recursors, question echoed byte for byte. */
int dns_query_answer(struct dns_query_ctx *ctx, const struct dns_config *cfg,
    const struct dns_view *view, const struct dns_request *req,
    uint8_t *out, size_t outsize, size_t *outlen);

/* Builds an error reply (e.g. DNS_RCODE_SERVFAIL = 2 when every recursor
 * failed) to req: same ID, question echoed, RA iff cfg->recursors.
 * Returns DNS_QUERY_REPLY, DNS_QUERY_DROP (req must not be answered) or a
 * negative ERR_*. */
int dns_query_error_reply(struct dns_query_ctx *ctx,
    const struct dns_config *cfg, const struct dns_request *req, int rcode,
    uint8_t *out, size_t outsize, size_t *outlen);

#endif
