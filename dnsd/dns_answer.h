/*
 * dns_answer.h — building one DNS response for dnsd's core: the answer
 * state, the record caps, names in presentation form and the record
 * writers (address sets, node meta TXT, SOA) over the wire writer.
 *
 * Internal to the answering core (dns_query.c is its only user). Every
 * function borrows its arguments for the call; names and records are
 * written into the context's wire writer at once. Errors: 0, ERR_TOOBIG
 * (an answer record did not fit or hit a cap: stop adding answers),
 * ERR_INVAL (that record was unusable and skipped), ERR_NOMEM.
 * Reference: consul-api.md §5.3; RFC 1464 (TXT key=value); Consul
 * agent/dns.go (trimUDPResponse, generateMeta).
 */
#ifndef CAIRN_DNS_ANSWER_H
#define CAIRN_DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsd/dns_cache.h"
#include "dnsd/dns_config.h"
#include "dnsd/dns_name.h"
#include "dnsd/dns_query.h"
#include "dnsd/dns_view.h"
#include "dnsd/dns_wire.h"

#define DNS_ANSWER_NAME_MAX 1100 /* presentation form with \DDD escapes */
#define DNS_ANSWER_TXT_MAX 1275

enum dns_answer_seen_kind {
	DNS_SEEN_META = 0,   /* a node whose meta TXT is written (pointer) */
	DNS_SEEN_ADDR = 1,   /* an addr-form SRV target (compares address) */
	DNS_SEEN_TARGET = 2, /* a node-form SRV target (pointer) */
};

struct dns_answer_seen {
	const void *p;
	int kind;
};

/* Per-thread scratch, reused across queries (dns_query_ctx_new()). */
struct dns_query_ctx {
	struct dns_wire_writer *w;
	const struct dns_view_instance **inst; /* candidates */
	size_t capinst;
	const struct dns_view_instance **done; /* answered instances */
	size_t ndone, capdone;
	struct dns_answer_seen *seen; /* additional records already written */
	size_t nseen, capseen;
	size_t ncollect;         /* healthy instances of the service asked */
	struct dns_cache *cache; /* NULL unless dns_query_ctx_cache() */
};

/* State of one response being built. */
struct dns_answer {
	struct dns_query_ctx *ctx;
	const struct dns_config *cfg;
	const struct dns_view *view;
	const struct dns_request *req;
	const struct dns_wire_query *q;
	const struct dns_name *name;
	char domain[300];     /* the queried domain, with trailing dot */
	char primary[300];    /* cfg->domain, with trailing dot (PTR) */
	size_t limit;         /* response size limit */
	uint32_t max_answers; /* UDP record cap; 0 = none */
	uint32_t a_limit;     /* a_record_limit; 0 = none */
	bool udp;
	bool trimmed;       /* an answer record was cut by size or a cap */
	bool extra_missing; /* an additional address record did not fit */
	int rcode;
};

/* An address to answer with: IP, hostname (CNAME), and the tagged
 * addresses of the other family. All borrowed from the view. */
struct dns_answer_addrs {
	const struct dns_addr *addr;
	const char *host;
	const struct dns_addr *t4, *t6;
};

/* Grows *arr (elements of elem bytes) to hold need; 0 or ERR_NOMEM. */
int dns_answer_grow(void **arr, size_t *cap, size_t need, size_t elem);

/* ---- names (presentation form, into dst of cap bytes) ---- */

/* domain with a trailing dot. */
void dns_answer_fqdn_domain(char *dst, size_t cap, const char *domain);
/* "<node>.node.<dc>.<dom>" */
int dns_answer_node_fqdn(const struct dns_answer *a,
    const struct dns_view_node *n, const char *dom, char *dst, size_t cap);
/* "<hex>.addr.<dc>.<queried domain>" */
int dns_answer_addr_fqdn(const struct dns_answer *a,
    const struct dns_addr *ip, char *dst, size_t cap);
/* host with a trailing dot. */
void dns_answer_host_fqdn(const char *host, char *dst, size_t cap);
/* The question name (wire form, case as sent), for answer owners. */
struct dns_wire_name dns_answer_qname(const struct dns_answer *a);
/* A presentation-form name (borrows s). */
struct dns_wire_name dns_answer_text_name(const char *s);

/* ---- records ---- */

/* Adds an answer record under the caps (UDP count cap, a_record_limit,
 * size): ERR_TOOBIG means stop adding answers (a->trimmed says whether
 * that trimmed the answer). */
int dns_answer_put_answer(struct dns_answer *a, const struct dns_wire_rr *rr);
/* Adds rr to sec: answers as above; Authority/Additional best effort (a
 * record that does not fit is skipped; a missing address record sets
 * a->extra_missing). */
int dns_answer_put(struct dns_answer *a, enum dns_section sec,
    const struct dns_wire_rr *rr);
/* Answer records written so far. */
unsigned dns_answer_count(const struct dns_answer *a);
/* The SOA of dom (owner given) into sec. */
int dns_answer_put_soa(struct dns_answer *a, enum dns_section sec,
    struct dns_wire_name owner, const char *dom);
/* NXDOMAIN or NODATA (rcode NOERROR): sets the rcode, SOA of dom in
 * Authority. */
int dns_answer_negative(struct dns_answer *a, int rcode, const char *dom);
/* Whether qtype asks for type t (equal, or ANY). */
bool dns_answer_wants(uint16_t qtype, uint16_t t);
/* A/AAAA (or CNAME for a hostname) for s; *n counts records written. */
int dns_answer_put_addrs(struct dns_answer *a, enum dns_section sec,
    struct dns_wire_name owner, uint32_t ttl, uint16_t qtype,
    const struct dns_answer_addrs *s, unsigned *n);
struct dns_answer_addrs dns_answer_node_addrs(const struct dns_view_node *n);
/* The instance's own address, else its node's. */
struct dns_answer_addrs dns_answer_inst_addrs(
    const struct dns_view_instance *in);
/* One TXT per node meta pair (RFC 1464; bare value for rfc1035- keys). */
int dns_answer_put_meta(struct dns_answer *a, enum dns_section sec,
    struct dns_wire_name owner, uint32_t ttl, const struct dns_view_node *n,
    unsigned *count);

/* ---- additional-record bookkeeping ---- */

/* Records p (kind: enum dns_answer_seen_kind); false if already seen
 * (or out of memory: the extra record is then skipped). */
bool dns_answer_seen_add(struct dns_query_ctx *ctx, const void *p, int kind);
/* Remembers an answered instance; 0 or ERR_NOMEM. */
int dns_answer_done_add(struct dns_query_ctx *ctx,
    const struct dns_view_instance *in);
/* Node meta TXT in Additional for each answered instance's node, once. */
int dns_answer_extra_meta(struct dns_answer *a, uint32_t ttl);

#endif
