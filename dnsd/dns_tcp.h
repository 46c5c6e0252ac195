/*
 * dns_tcp.h — dnsd's TCP listener (RFC 7766): 2-byte length framing,
 * pipelined queries answered in order, an idle timeout and a cap on open
 * connections (at the cap the longest-idle one is closed for a newcomer). Reference: RFC 7766 §6.2 (connection handling), §7.
 */
#ifndef CAIRN_DNS_TCP_H
#define CAIRN_DNS_TCP_H

#include <stddef.h>

struct dnsd;
struct dns_tcp;

#define DNS_TCP_MAX_CONNS 256
#define DNS_TCP_IDLE_MS 10000

/*
 * Listens on addr:port (numeric address, borrowed). d is borrowed and
 * must outlive the listener. Returns 0 and an owned listener in *out
 * (dns_tcp_close), or ERR_INVAL, ERR_IO (logged) or ERR_NOMEM.
 */
int dns_tcp_open(struct dnsd *d, const char *addr, int port,
    struct dns_tcp **out);
/* Closes the listener and every connection. NULL is a no-op. */
void dns_tcp_close(struct dns_tcp *t);
/* Open connections (tests, status). */
size_t dns_tcp_conns(const struct dns_tcp *t);

#endif
