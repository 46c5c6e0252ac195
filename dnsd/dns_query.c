/*
 * dns_query.c — dnsd's answering core: entry point, size rules and the
 * per-form lookups (node, service, addr, PTR, apex).
 *
 * Key decisions: answering is a pure function of (config, view, query,
 * seed, time), kept apart from I/O as in Knot's process_query.c; the
 * records themselves are written by dns_answer.c, exactly up to the size
 * limit, and an answer section emptied by trimming always carries TC.
 * SRV answers are cut back until every target keeps its address record
 * (a binary search over the answer count). Healthy instances are
 * copied into per-context scratch and shuffled with a seeded splitmix64
 * (weights never influence order, Consul #1088).
 * Reference: consul-api.md §5.2–5.3, §3.2, §16.21; RFC 2782.
 */
#include "dnsd/dns_query.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsd/dns_answer.h"
#include "err.h"

struct dns_query_ctx *
dns_query_ctx_new(void)
{
	struct dns_query_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL)
		return NULL;
	if ((ctx->w = dns_wire_writer_new()) == NULL) {
		free(ctx);
		return NULL;
	}
	return ctx;
}

void
dns_query_ctx_free(struct dns_query_ctx *ctx)
{
	if (ctx == NULL)
		return;
	dns_wire_writer_free(ctx->w);
	dns_cache_free(ctx->cache);
	free(ctx->inst);
	free(ctx->done);
	free(ctx->seen);
	free(ctx);
}

int
dns_query_ctx_cache(struct dns_query_ctx *ctx)
{
	if (ctx->cache == NULL && (ctx->cache = dns_cache_new()) == NULL)
		return ERR_NOMEM;
	return 0;
}

void
dns_query_ctx_flush(struct dns_query_ctx *ctx)
{
	if (ctx != NULL)
		dns_cache_flush(ctx->cache);
}

uint64_t
dns_query_ctx_cache_hits(const struct dns_query_ctx *ctx)
{
	return dns_cache_hits(ctx->cache);
}

static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
shuffle(const struct dns_view_instance **v, size_t n, uint64_t seed)
{
	size_t i, j;
	uint64_t s = seed;

	for (i = n; i > 1; i--) {
		const struct dns_view_instance *t;

		j = (size_t)(rng_next(&s) % i);
		t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* ---- lookups, one per name form ---- */

static int
lookup_node(struct dns_answer *a)
{
	const struct dns_view_node *n;
	struct dns_answer_addrs s;
	uint16_t qt = a->q->qtype;
	uint32_t ttl = a->cfg->node_ttl_s;
	unsigned cnt = 0, extra = 0;
	int rc;

	if (!dns_name_dc_ok(a->cfg, a->name) ||
	    (n = dns_view_find_node(
	         a->view, a->name->node, a->name->node_len)) == NULL)
		return dns_answer_negative(a, DNS_RCODE_NXDOMAIN, a->domain);
	s = dns_answer_node_addrs(n);
	rc = dns_answer_put_addrs(
	    a, DNS_SECTION_ANSWER, dns_answer_qname(a), ttl, qt, &s, &cnt);
	if (rc != 0 && rc != ERR_TOOBIG)
		return rc;
	if (rc == 0 && dns_answer_wants(qt, DNS_TYPE_TXT)) {
		rc = dns_answer_put_meta(
		    a, DNS_SECTION_ANSWER, dns_answer_qname(a), ttl, n, &cnt);
		if (rc != 0 && rc != ERR_TOOBIG)
			return rc;
	}
	if (dns_answer_count(a) == 0 && !a->trimmed)
		return dns_answer_negative(a, DNS_RCODE_NOERROR, a->domain);
	if (!dns_answer_wants(qt, DNS_TYPE_TXT) &&
	    a->cfg->enable_additional_node_meta_txt)
		return dns_answer_put_meta(a, DNS_SECTION_ADDITIONAL,
		    dns_answer_qname(a), ttl, n, &extra);
	return 0;
}

/* Healthy instances of the service matching the tag, into ctx->inst. */
static int
collect(struct dns_answer *a, const struct dns_view_service *s, size_t *n)
{
	enum dns_health worst =
	    a->cfg->only_passing ? DNS_HEALTH_PASSING : DNS_HEALTH_WARNING;
	const struct dns_label *tag = &a->name->tag;
	uint32_t i;

	*n = 0;
	if (dns_answer_grow((void **)&a->ctx->inst, &a->ctx->capinst, s->n,
	        sizeof(*a->ctx->inst)) != 0)
		return ERR_NOMEM;
	for (i = 0; i < s->n; i++) {
		const struct dns_view_instance *in = s->inst[i];

		if (dns_view_instance_health(in) > worst)
			continue;
		if (tag->len &&
		    !dns_view_instance_has_tag(in, tag->p, tag->len))
			continue;
		a->ctx->inst[(*n)++] = in;
	}
	return 0;
}

/* The SRV target for an instance (see consul-api §5.3). */
static int
srv_target(struct dns_answer *a, const struct dns_view_instance *in, char *dst,
    size_t cap)
{
	if (in->addr.family == DNS_ADDR_HOST) {
		dns_answer_host_fqdn(in->host, dst, cap);
		return 0;
	}
	if (in->addr.family != DNS_ADDR_NONE)
		return dns_answer_addr_fqdn(a, &in->addr, dst, cap);
	if (in->node->addr.family == DNS_ADDR_HOST) {
		dns_answer_host_fqdn(in->node->host, dst, cap);
		return 0;
	}
	return dns_answer_node_fqdn(a, in->node, a->domain, dst, cap);
}

static int
srv_answers(struct dns_answer *a, size_t n, uint32_t ttl)
{
	char target[DNS_ANSWER_NAME_MAX];
	struct dns_wire_rr rr;
	size_t i;
	int rc;

	memset(&rr, 0, sizeof(rr));
	rr.owner = dns_answer_qname(a);
	rr.type = DNS_TYPE_SRV;
	rr.ttl = ttl;
	rr.srv_priority = 1;
	rr.name = dns_answer_text_name(target);
	for (i = 0; i < n; i++) {
		const struct dns_view_instance *in = a->ctx->inst[i];
		bool warn = dns_view_instance_health(in) == DNS_HEALTH_WARNING;
		uint32_t wt = warn ? in->weight_warning : in->weight_passing;

		if (srv_target(a, in, target, sizeof(target)) != 0)
			continue;
		rr.srv_weight = (uint16_t)(wt > 65535 ? 65535 : wt);
		rr.srv_port = in->port;
		rc = dns_answer_put_answer(a, &rr);
		if (rc == ERR_TOOBIG)
			break;
		if (rc == ERR_INVAL)
			continue;
		if (rc != 0 || (rc = dns_answer_done_add(a->ctx, in)) != 0)
			return rc;
	}
	return 0;
}

/* Additional A/AAAA for each SRV target, then node meta TXT. */
static int
srv_extra(struct dns_answer *a, uint32_t ttl)
{
	char target[DNS_ANSWER_NAME_MAX];
	struct dns_answer_addrs s;
	size_t i;
	unsigned n = 0;
	int rc;

	for (i = 0; i < a->ctx->ndone; i++) {
		const struct dns_view_instance *in = a->ctx->done[i];
		bool own = in->addr.family != DNS_ADDR_NONE;
		const void *key =
		    own ? (const void *)&in->addr : (const void *)in->node;

		s = dns_answer_inst_addrs(in);
		if (s.addr->family == DNS_ADDR_HOST ||
		    !dns_answer_seen_add(
		        a->ctx, key, own ? DNS_SEEN_ADDR : DNS_SEEN_TARGET))
			continue;
		if (srv_target(a, in, target, sizeof(target)) != 0)
			continue;
		rc = dns_answer_put_addrs(a, DNS_SECTION_ADDITIONAL,
		    dns_answer_text_name(target), ttl, DNS_TYPE_ANY, &s, &n);
		if (rc != 0)
			return rc;
	}
	return dns_answer_extra_meta(a, ttl);
}

/* One try at an SRV answer of at most k records and their additional
 * records; *complete says every answered target got its addresses. */
static int
srv_attempt(
    struct dns_answer *a, size_t n, uint32_t ttl, size_t k, bool *complete)
{
	uint32_t cap = a->max_answers;
	int rc;

	if ((rc = dns_wire_begin(a->ctx->w, a->q, a->limit)) != 0)
		return rc;
	a->ctx->ndone = 0;
	a->ctx->nseen = 0;
	a->trimmed = false;
	a->extra_missing = false;
	if (k < n && (cap == 0 || k < cap))
		a->max_answers = (uint32_t)k;
	rc = srv_answers(a, n, ttl);
	a->max_answers = cap;
	if (rc == 0 && dns_answer_count(a))
		rc = srv_extra(a, ttl);
	*complete = !a->extra_missing;
	return rc;
}

/* SRV answers keep their targets' addresses (as Consul's
 * trimUDPResponse does): when the additional records do not all fit,
 * binary-search the largest answer count for which they do. */
static int
srv_lookup(struct dns_answer *a, size_t n, uint32_t ttl)
{
	size_t lo = 1, hi, mid, best = 1, last;
	bool complete;
	int rc;

	if ((rc = srv_attempt(a, n, ttl, n, &complete)) != 0 || complete ||
	    dns_answer_count(a) <= 1)
		return rc;
	hi = dns_answer_count(a) - 1;
	last = 0;
	while (lo <= hi) {
		mid = lo + (hi - lo) / 2;
		if ((rc = srv_attempt(a, n, ttl, mid, &complete)) != 0)
			return rc;
		last = mid;
		if (complete) {
			best = mid;
			lo = mid + 1;
		} else
			hi = mid - 1;
	}
	if (last == best)
		return 0;
	return srv_attempt(a, n, ttl, best, &complete);
}

static int
addr_answers(struct dns_answer *a, size_t n, uint32_t ttl)
{
	size_t i;
	unsigned cnt;
	int rc;

	if (a->cfg->a_record_limit)
		a->a_limit = a->cfg->a_record_limit;
	for (i = 0; i < n; i++) {
		struct dns_answer_addrs s =
		    dns_answer_inst_addrs(a->ctx->inst[i]);

		cnt = 0;
		rc = dns_answer_put_addrs(a, DNS_SECTION_ANSWER,
		    dns_answer_qname(a), ttl, a->q->qtype, &s, &cnt);
		if (cnt && (rc == 0 || rc == ERR_TOOBIG) &&
		    dns_answer_done_add(a->ctx, a->ctx->inst[i]) != 0)
			return ERR_NOMEM;
		if (rc == ERR_TOOBIG)
			break;
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
lookup_service(struct dns_answer *a)
{
	const struct dns_view_service *s;
	uint16_t qt = a->q->qtype;
	uint32_t ttl;
	size_t n = 0;
	int rc;

	if (!dns_name_dc_ok(a->cfg, a->name) ||
	    (s = dns_view_find_service(
	         a->view, a->name->service.p, a->name->service.len)) == NULL)
		return dns_answer_negative(a, DNS_RCODE_NXDOMAIN, a->domain);
	if ((rc = collect(a, s, &n)) != 0)
		return rc;
	if (n == 0)
		return dns_answer_negative(a, DNS_RCODE_NXDOMAIN, a->domain);
	a->ctx->ncollect = n;
	shuffle(a->ctx->inst, n, a->req->rand_seed);
	ttl = dns_config_service_ttl(a->cfg, s->name, s->name_len);
	if (qt == DNS_TYPE_SRV)
		return srv_lookup(a, n, ttl);
	if (dns_answer_wants(qt, DNS_TYPE_A) ||
	    dns_answer_wants(qt, DNS_TYPE_AAAA)) {
		if ((rc = addr_answers(a, n, ttl)) != 0)
			return rc;
		if (dns_answer_count(a))
			return dns_answer_extra_meta(a, ttl);
		if (a->trimmed)
			return 0;
	}
	return dns_answer_negative(a, DNS_RCODE_NOERROR, a->domain);
}

static int
lookup_addr(struct dns_answer *a)
{
	const struct dns_addr *ip = &a->name->addr;
	struct dns_wire_rr rr;
	int rc;

	if (!dns_name_dc_ok(a->cfg, a->name) || ip->family == DNS_ADDR_NONE)
		return dns_answer_negative(a, DNS_RCODE_NXDOMAIN, a->domain);
	memset(&rr, 0, sizeof(rr));
	rr.owner = dns_answer_qname(a);
	rr.ttl = a->cfg->node_ttl_s;
	rr.ip = ip->ip;
	rr.type = ip->family == DNS_ADDR_V4 ? DNS_TYPE_A : DNS_TYPE_AAAA;
	if (!dns_answer_wants(a->q->qtype, rr.type))
		return dns_answer_negative(a, DNS_RCODE_NOERROR, a->domain);
	rc = dns_answer_put_answer(a, &rr);
	return rc == ERR_TOOBIG ? 0 : rc;
}

static int
ptr_service(struct dns_answer *a, const struct dns_view_addr_entry *e,
    uint32_t i, char *target, size_t cap)
{
	const struct dns_view_instance *in = e->inst[i];
	uint32_t j;

	for (j = 0; j < i; j++) /* one PTR per service name */
		if (strcasecmp(e->inst[j]->service, in->service) == 0)
			return ERR_EXISTS;
	target[0] = '\0';
	if (dns_name_append_label(target, cap, in->service, in->service_len) !=
	        0 ||
	    dns_name_append(target, cap, ".service.") != 0 ||
	    dns_name_append(target, cap, a->primary) != 0)
		return ERR_INVAL;
	return 0;
}

static int
lookup_ptr(struct dns_answer *a)
{
	const struct dns_view_addr_entry *e = NULL;
	char target[DNS_ANSWER_NAME_MAX];
	struct dns_wire_rr rr;
	uint32_t i;
	int rc;

	if (a->name->addr.family != DNS_ADDR_NONE)
		e = dns_view_find_addr(a->view, &a->name->addr);
	if (e == NULL && a->cfg->recursors)
		return DNS_QUERY_FORWARD;
	if (e == NULL)
		return dns_answer_negative(a, DNS_RCODE_NXDOMAIN, a->primary);
	if (!dns_answer_wants(a->q->qtype, DNS_TYPE_PTR))
		return dns_answer_negative(a, DNS_RCODE_NOERROR, a->primary);
	memset(&rr, 0, sizeof(rr));
	rr.owner = dns_answer_qname(a);
	rr.type = DNS_TYPE_PTR;
	rr.ttl = a->cfg->node_ttl_s;
	rr.name = dns_answer_text_name(target);
	for (i = 0; i < e->nnodes; i++) {
		if (dns_answer_node_fqdn(a, e->nodes[i], a->primary, target,
		        sizeof(target)) != 0)
			continue;
		if ((rc = dns_answer_put_answer(a, &rr)) == ERR_TOOBIG)
			return 0;
		if (rc != 0 && rc != ERR_INVAL)
			return rc;
	}
	for (i = 0; i < e->ninst; i++) {
		if (ptr_service(a, e, i, target, sizeof(target)) != 0)
			continue;
		rr.ttl = dns_config_service_ttl(
		    a->cfg, e->inst[i]->service, e->inst[i]->service_len);
		if ((rc = dns_answer_put_answer(a, &rr)) == ERR_TOOBIG)
			return 0;
		if (rc != 0 && rc != ERR_INVAL)
			return rc;
	}
	return 0;
}

/* NS records for the apex: the configured server nodes. Glue follows. */
static int
apex_ns(struct dns_answer *a)
{
	char target[DNS_ANSWER_NAME_MAX];
	struct dns_wire_rr rr;
	size_t i;
	int rc;

	memset(&rr, 0, sizeof(rr));
	rr.owner = dns_answer_qname(a);
	rr.type = DNS_TYPE_NS;
	rr.ttl = a->cfg->node_ttl_s;
	rr.name = dns_answer_text_name(target);
	for (i = 0; i < a->cfg->n_ns_servers; i++) {
		const struct dns_view_node *n = dns_view_find_node(a->view,
		    a->cfg->ns_servers[i], strlen(a->cfg->ns_servers[i]));

		if (n == NULL ||
		    dns_answer_node_fqdn(
		        a, n, a->domain, target, sizeof(target)) != 0)
			continue;
		if ((rc = dns_answer_put_answer(a, &rr)) == ERR_TOOBIG)
			return 0;
		if (rc != 0 && rc != ERR_INVAL)
			return rc;
	}
	return 0;
}

static int
apex_glue(struct dns_answer *a)
{
	char target[DNS_ANSWER_NAME_MAX];
	size_t i;
	unsigned n = 0;
	int rc;

	for (i = 0; i < a->cfg->n_ns_servers; i++) {
		const struct dns_view_node *node = dns_view_find_node(a->view,
		    a->cfg->ns_servers[i], strlen(a->cfg->ns_servers[i]));
		struct dns_answer_addrs s;

		if (node == NULL || node->addr.family == DNS_ADDR_HOST ||
		    dns_answer_node_fqdn(
		        a, node, a->domain, target, sizeof(target)) != 0)
			continue;
		s = dns_answer_node_addrs(node);
		rc = dns_answer_put_addrs(a, DNS_SECTION_ADDITIONAL,
		    dns_answer_text_name(target), a->cfg->node_ttl_s,
		    DNS_TYPE_ANY, &s, &n);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
lookup_apex(struct dns_answer *a)
{
	uint16_t qt = a->q->qtype;
	int rc;

	if (dns_answer_wants(qt, DNS_TYPE_SOA)) {
		rc = dns_answer_put_soa(
		    a, DNS_SECTION_ANSWER, dns_answer_qname(a), a->domain);
		if (rc != 0 && rc != ERR_TOOBIG)
			return rc;
	}
	if (dns_answer_wants(qt, DNS_TYPE_NS) && (rc = apex_ns(a)) != 0)
		return rc;
	if (dns_answer_count(a) == 0)
		return a->trimmed ?
		    0 :
		    dns_answer_negative(a, DNS_RCODE_NOERROR, a->domain);
	return dns_answer_wants(qt, DNS_TYPE_NS) ? apex_glue(a) : 0;
}

/* ---- entry ---- */

static size_t
size_limit(const struct dns_wire_query *q, const struct dns_request *req,
    size_t outsize)
{
	size_t limit = DNS_WIRE_UDP_MIN;

	if (req->tcp)
		limit = DNS_WIRE_MAX;
	else if (q->edns && q->edns_udp_size > DNS_WIRE_UDP_MIN)
		limit = q->edns_udp_size;
	return limit < outsize ? limit : outsize;
}

static int
reply_rcode(struct dns_query_ctx *ctx, const struct dns_config *cfg,
    const struct dns_wire_query *q, const struct dns_request *req, int rcode,
    uint8_t *out, size_t outsize, size_t *outlen)
{
	int rc;

	if ((rc = dns_wire_begin(ctx->w, q, size_limit(q, req, outsize))) != 0)
		return rc;
	rc = dns_wire_finish(
	    ctx->w, rcode, false, false, cfg->recursors, out, outsize, outlen);
	return rc ? rc : DNS_QUERY_REPLY;
}

static int
dispatch(struct dns_answer *a)
{
	switch (a->name->kind) {
	case DNS_NAME_APEX:
		return lookup_apex(a);
	case DNS_NAME_NODE:
		return lookup_node(a);
	case DNS_NAME_SERVICE:
		return lookup_service(a);
	case DNS_NAME_ADDR:
		return lookup_addr(a);
	case DNS_NAME_PTR:
		return lookup_ptr(a);
	default:
		return dns_answer_negative(a, DNS_RCODE_NXDOMAIN, a->domain);
	}
}

static void
ans_init(struct dns_answer *a, struct dns_query_ctx *ctx,
    const struct dns_config *cfg, const struct dns_view *view,
    const struct dns_request *req, const struct dns_wire_query *q,
    const struct dns_name *name, size_t limit)
{
	memset(a, 0, sizeof(*a));
	a->ctx = ctx;
	a->cfg = cfg;
	a->view = view;
	a->req = req;
	a->q = q;
	a->name = name;
	a->udp = !req->tcp;
	a->limit = limit;
	/* Consul caps the record count when the UDP size is 512, i.e. no
	 * EDNS or an EDNS buffer of 512 or less */
	if (!req->tcp && limit <= DNS_WIRE_UDP_MIN)
		a->max_answers = cfg->udp_answer_limit;
	dns_answer_fqdn_domain(a->domain, sizeof(a->domain),
	    name->domain ? name->domain : cfg->domain);
	dns_answer_fqdn_domain(a->primary, sizeof(a->primary), cfg->domain);
	ctx->ndone = 0;
	ctx->nseen = 0;
	ctx->ncollect = 0;
}

/* Whether the answer just rendered may go to the cache: a service
 * answer with every healthy instance, one record each, nothing trimmed
 * (dns_cache_put() checks the records themselves). */
static bool
cacheable(const struct dns_answer *a, bool tc)
{
	uint16_t qt = a->q->qtype;

	return a->ctx->cache != NULL && a->name->kind == DNS_NAME_SERVICE &&
	    a->rcode == DNS_RCODE_NOERROR && !tc && !a->trimmed &&
	    !a->extra_missing && a->ctx->ncollect > 0 &&
	    a->ctx->ndone == a->ctx->ncollect &&
	    dns_answer_count(a) == a->ctx->ndone &&
	    (qt == DNS_TYPE_A || qt == DNS_TYPE_AAAA || qt == DNS_TYPE_SRV);
}

static int
answer_name(struct dns_query_ctx *ctx, const struct dns_config *cfg,
    const struct dns_view *view, const struct dns_request *req,
    const struct dns_wire_query *q, uint8_t *out, size_t outsize,
    size_t *outlen)
{
	struct dns_name name;
	struct dns_answer a;
	bool tc;
	int rc;

	dns_name_parse(cfg, q->qname, q->qname_len, &name);
	if (name.kind == DNS_NAME_OUTSIDE)
		return cfg->recursors ?
		    DNS_QUERY_FORWARD :
		    reply_rcode(ctx, cfg, q, req, DNS_RCODE_REFUSED, out,
		        outsize, outlen);
	ans_init(
	    &a, ctx, cfg, view, req, q, &name, size_limit(q, req, outsize));
	if ((rc = dns_wire_begin(ctx->w, q, a.limit)) != 0)
		return rc;
	if ((rc = dispatch(&a)) != 0)
		return rc;
	tc = a.trimmed &&
	    (dns_answer_count(&a) == 0 || (a.udp && cfg->enable_truncate));
	rc = dns_wire_finish(
	    ctx->w, a.rcode, true, tc, cfg->recursors, out, outsize, outlen);
	if (rc != 0)
		return rc;
	if (cacheable(&a, tc)) {
		struct dns_cache_key k = { q, a.limit, req->tcp, view, cfg };

		dns_cache_put(ctx->cache, &k, out, *outlen);
	}
	return DNS_QUERY_REPLY;
}

int
dns_query_answer(struct dns_query_ctx *ctx, const struct dns_config *cfg,
    const struct dns_view *view, const struct dns_request *req, uint8_t *out,
    size_t outsize, size_t *outlen)
{
	struct dns_wire_query q;
	int rc;

	*outlen = 0;
	rc = dns_wire_parse(req->wire, req->len, &q);
	if (rc == DNS_WIRE_DROP)
		return DNS_QUERY_DROP;
	if (rc < 0)
		return rc;
	if (rc != DNS_RCODE_NOERROR)
		return reply_rcode(ctx, cfg, &q, req, rc, out, outsize, outlen);
	if (q.qclass != DNS_CLASS_IN && q.qclass != DNS_CLASS_ANY)
		return reply_rcode(
		    ctx, cfg, &q, req, DNS_RCODE_REFUSED, out, outsize, outlen);
	if (q.qtype == DNS_TYPE_AXFR || q.qtype == DNS_TYPE_IXFR)
		return reply_rcode(
		    ctx, cfg, &q, req, DNS_RCODE_REFUSED, out, outsize, outlen);
	if (ctx->cache != NULL) {
		struct dns_cache_key k = { &q, size_limit(&q, req, outsize),
			req->tcp, view, cfg };

		if (dns_cache_get(ctx->cache, &k, req->rand_seed, out, outsize,
		    outlen))
			return DNS_QUERY_REPLY;
	}
	rc = answer_name(ctx, cfg, view, req, &q, out, outsize, outlen);
	if (rc == ERR_NOMEM) /* best effort: tell the client */
		rc = reply_rcode(ctx, cfg, &q, req, DNS_RCODE_SERVFAIL, out,
		    outsize, outlen);
	return rc;
}

int
dns_query_error_reply(struct dns_query_ctx *ctx, const struct dns_config *cfg,
    const struct dns_request *req, int rcode, uint8_t *out, size_t outsize,
    size_t *outlen)
{
	struct dns_wire_query q;
	int rc;

	*outlen = 0;
	rc = dns_wire_parse(req->wire, req->len, &q);
	if (rc == DNS_WIRE_DROP)
		return DNS_QUERY_DROP;
	if (rc < 0)
		return rc;
	return reply_rcode(ctx, cfg, &q, req, rcode, out, outsize, outlen);
}
