/*
 * connlimit.h — concurrent connections per client IP
 * (limits.http_max_conns_per_client, default 200; 0 is unlimited).
 *
 * Consul (hashicorp/go-connlimit, HTTPConnStateFuncWithDefault429Handler)
 * answers a connection over the limit with "429 Too Many Requests" and
 * closes it; libmicrohttpd's own per-IP limit closes silently, so httpd
 * counts here and the server writes the 429 (spec/consul-api.md §1.1,
 * fault-testing.md §7.1 slowloris row). Pure: no I/O. An agent sees few
 * distinct client addresses, so a small array is enough.
 */
#ifndef CAIRN_HTTPD_CONNLIMIT_H
#define CAIRN_HTTPD_CONNLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct connlimit_ent {
	uint8_t addr[16];
	uint8_t len;
	uint32_t n;
};

struct connlimit {
	struct connlimit_ent *v;
	size_t n;
	size_t cap;
	uint32_t max; /* 0: unlimited */
};

void connlimit_init(struct connlimit *cl, uint32_t max);
void connlimit_fini(struct connlimit *cl);

/*
 * Counts one more connection from addr (len 4 or 16 bytes, borrowed).
 * Returns 0 when within the limit, ERR_TOOBIG when over it (still
 * counted: release it when it closes), ERR_NOMEM when it could not be
 * counted (do not release), ERR_INVAL for a bad length.
 */
int connlimit_acquire(struct connlimit *cl, const void *addr, size_t len);
/* Uncounts a connection counted by connlimit_acquire. */
void connlimit_release(struct connlimit *cl, const void *addr, size_t len);
/* Connections counted now for addr. */
uint32_t connlimit_count(const struct connlimit *cl, const void *addr,
    size_t len);

#endif
