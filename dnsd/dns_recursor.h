/*
 * dns_recursor.h — forwarding queries outside our domains to the
 * configured recursors over UDP (spec/consul-api.md §5.2 last row, §5.4):
 * sequential (each in order, recursor_timeout each) or random (a random
 * starting recursor, then the others in order).
 *
 * Asynchronous on the loop: one connected socket per attempt (UDP, or
 * TCP with 2-byte framing when the client asked over TCP), a
 * fresh random message ID per attempt (the client's ID is restored by
 * the caller), an answer accepted only from the recursor asked, with that
 * ID and QR set. A failed attempt (timeout, ICMP refusal, send error)
 * moves to the next recursor; when all failed the callback gets NULL.
 */
#ifndef CAIRN_DNS_RECURSOR_H
#define CAIRN_DNS_RECURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsd/dns_settings.h"

struct loop;
struct dns_recursor;

/* Queries waiting for an upstream at once; more are refused (ERR_AGAIN). */
#define DNS_RECURSOR_MAX_PENDING 1024

/*
 * The outcome of one forward, on the loop thread, exactly once unless
 * cancelled: answer/len is the upstream reply with the upstream's ID
 * (borrowed for the call), or NULL/0 when every recursor failed.
 */
typedef void (*dns_recursor_cb)(void *arg, const uint8_t *answer,
    size_t len);

/* Returns 0 and an owned forwarder in *out (dns_recursor_free), or
 * ERR_NOMEM. l is borrowed and must outlive it. */
int dns_recursor_new(struct loop *l, struct dns_recursor **out);

/*
 * Sets the recursor list ("ip", "ip:port", "[ipv6]:port"; default port
 * 53), the per-attempt timeout and the strategy. addrs is borrowed.
 * Forwards in flight keep their old list. Returns 0, or ERR_INVAL after
 * writing the bad address into err.
 */
int dns_recursor_configure(struct dns_recursor *r, char *const *addrs,
    size_t n, uint32_t timeout_ms, enum dns_recursor_strategy strategy,
    char *err, size_t errlen);

/* Number of configured recursors. */
size_t dns_recursor_count(const struct dns_recursor *r);

/*
 * Forwards the query q (len bytes, copied), over TCP when tcp (the
 * client's transport, as Consul). rnd seeds the message IDs and
 * the random strategy. Returns 0 and an id for dns_recursor_cancel() in
 * *id (may be NULL): cb(arg, ...) will be called later; or ERR_INVAL (no
 * recursors, q shorter than a header), ERR_AGAIN (too many pending) or
 * ERR_NOMEM, and cb is never called.
 */
int dns_recursor_forward(struct dns_recursor *r, const uint8_t *q,
    size_t len, bool tcp, uint64_t rnd, dns_recursor_cb cb, void *arg,
    uint64_t *id);

/* Abandons a pending forward: its callback is never called. Unknown ids
 * are ignored. */
void dns_recursor_cancel(struct dns_recursor *r, uint64_t id);

/* Pending forwards, for tests and status. */
size_t dns_recursor_pending(const struct dns_recursor *r);

/* Frees r; pending forwards are dropped without their callbacks. */
void dns_recursor_free(struct dns_recursor *r);

#endif
