/*
 * dns_ratelimit.h — per-source query rate limit for dnsd: a token bucket
 * per client network (/24 for IPv4, /56 for IPv6), in a fixed-size table.
 *
 * Consul has no DNS rate limit, so the keys are cairn's own:
 * dns_config.x_cairn_rate_limit (queries/s per network, default 0 = no
 * limit, as Consul) and x_cairn_rate_burst (default: the rate). Only UDP
 * is limited (a TCP source cannot be spoofed; dns_tcp.c caps
 * connections); a query over the limit is dropped unanswered, as RRL
 * with no slip, so it cannot be used for reflection. A table slot is
 * taken over by a new network on a hash collision (the newcomer starts
 * with a full bucket): memory stays fixed under spoofed sources, at the
 * cost of a lax limit when slots collide. Reference: NSD/BIND RRL
 * (per-/24 accounting); RFC 5452 §1.
 */
#ifndef CAIRN_DNS_RATELIMIT_H
#define CAIRN_DNS_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct sockaddr;
struct dns_ratelimit;

#define DNS_RATELIMIT_SLOTS 4096

/* Returns an owned limiter (dns_ratelimit_free) allowing qps queries per
 * second with bursts of burst (>= 1), or NULL when qps is 0 (no limit)
 * or on allocation failure. */
struct dns_ratelimit *dns_ratelimit_new(uint32_t qps, uint32_t burst);
void dns_ratelimit_free(struct dns_ratelimit *rl);

/* Whether a query from sa (borrowed; AF_INET or AF_INET6) at monotonic
 * now_ms may be answered; takes a token when it may. NULL rl: true. */
bool dns_ratelimit_allow(struct dns_ratelimit *rl, const struct sockaddr *sa,
    uint64_t now_ms);

#endif
