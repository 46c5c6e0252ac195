/*
 * dns_udp.h — dnsd's UDP listener: batched receive and send on one
 * non-blocking socket on the loop (recvmmsg/sendmmsg, DNS_UDP_BATCH per
 * call), answers from dnsd_answer(), forwarded queries answered when the
 * recursor replies. Reference: Knot DNS udp-handler.c (mmsg batching).
 */
#ifndef CAIRN_DNS_UDP_H
#define CAIRN_DNS_UDP_H

struct dnsd;
struct dns_udp;

#define DNS_UDP_BATCH 32

/*
 * Binds addr:port (a numeric IPv4 or IPv6 address, borrowed) and starts
 * answering on d->loop. d is borrowed and must outlive the listener.
 * Returns 0 and an owned listener in *out (dns_udp_close), or ERR_INVAL
 * (bad address), ERR_IO (bind failed: logged) or ERR_NOMEM.
 */
int dns_udp_open(struct dnsd *d, const char *addr, int port,
    struct dns_udp **out);
/*
 * A bound non-blocking socket of type (SOCK_DGRAM or SOCK_STREAM, not yet
 * listening) for addr:port, in *fdp (owned by the caller). Returns 0,
 * ERR_INVAL (addr is not a numeric address) or ERR_IO (logged).
 */
int dns_udp_bind(const char *addr, int port, int type, int *fdp);

/* Stops listening and drops queries waiting for a recursor. NULL ok. */
void dns_udp_close(struct dns_udp *u);

#endif
