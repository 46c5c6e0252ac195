/*
 * dns_ratelimit.c — the per-network token bucket (see dns_ratelimit.h).
 *
 * Tokens are kept in thousandths so refills at any qps are exact
 * integers: qps tokens per 1000 ms is qps thousandths per ms.
 * Reference: NSD rrl.c (hash table of per-prefix buckets).
 */
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dnsd/dns_ratelimit.h"

struct dns_ratelimit_slot {
	uint64_t key;     /* network prefix | family tag; 0 = free */
	uint64_t tokens;  /* thousandths */
	uint64_t last_ms;
};

struct dns_ratelimit {
	uint64_t qps, burst_milli;
	struct dns_ratelimit_slot slots[DNS_RATELIMIT_SLOTS];
};

struct dns_ratelimit *
dns_ratelimit_new(uint32_t qps, uint32_t burst)
{
	struct dns_ratelimit *rl;

	if (qps == 0)
		return NULL;
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	rl->qps = qps;
	rl->burst_milli = (uint64_t)(burst > 0 ? burst : 1) * 1000;
	return rl;
}

void
dns_ratelimit_free(struct dns_ratelimit *rl)
{
	free(rl);
}

/* The client's network as a non-zero key. */
static uint64_t
dns_ratelimit_key(const struct sockaddr *sa)
{
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;
	uint64_t k = 0;
	int i;

	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)sa;
		k = (uint64_t)(ntohl(s4->sin_addr.s_addr) >> 8) | 1ull << 62;
	} else if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)sa;
		for (i = 0; i < 7; i++)
			k = k << 8 | s6->sin6_addr.s6_addr[i];
		k |= 1ull << 63;
	} else
		k = 1;
	return k;
}

bool
dns_ratelimit_allow(struct dns_ratelimit *rl, const struct sockaddr *sa,
    uint64_t now_ms)
{
	struct dns_ratelimit_slot *s;
	uint64_t key, h;

	if (rl == NULL)
		return true;
	key = dns_ratelimit_key(sa);
	h = key * 0x9e3779b97f4a7c15ull;
	s = &rl->slots[(h >> 40) % DNS_RATELIMIT_SLOTS];
	if (s->key != key) {
		s->key = key;
		s->tokens = rl->burst_milli;
		s->last_ms = now_ms;
	} else if (now_ms > s->last_ms) {
		s->tokens += (now_ms - s->last_ms) * rl->qps;
		if (s->tokens > rl->burst_milli)
			s->tokens = rl->burst_milli;
		s->last_ms = now_ms;
	}
	if (s->tokens < 1000)
		return false;
	s->tokens -= 1000;
	return true;
}
