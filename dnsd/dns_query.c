/*
 * dns_query.c — dnsd's answering core: entry point, size rules and the
 * per-form lookups (node, service, addr, PTR, apex).
 *
 * Key decisions: answering is a pure function of (config, view, query,
 * seed, time), kept apart from I/O as in Knot's process_query.c. Records
 * go straight into the wire writer one by one, so trimming is exact: the
 * answer section stops at the first record that passes the size limit or
 * the record cap, additional records are best effort, and an answer
 * section emptied by trimming always carries TC. Healthy instances are
 * copied into per-context scratch and shuffled with a seeded splitmix64
 * (weights never influence order, Consul #1088).
 * Reference: consul-api.md §5.2–5.3, §3.2, §16.21; RFC 2782, RFC 1464.
 */
#include "dnsd/dns_query.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsd/dns_name.h"
#include "dnsd/dns_wire.h"
#include "err.h"

#define QUERY_NAME_MAX 1100 /* presentation form with \DDD escapes */
#define QUERY_TXT_MAX 1275

enum seen_kind {
	SEEN_META = 0,   /* a node whose meta TXT is written (pointer) */
	SEEN_ADDR = 1,   /* an addr-form SRV target (compares the address) */
	SEEN_TARGET = 2, /* a node-form SRV target (pointer) */
};

struct seen {
	const void *p;
	int kind;
};

struct dns_query_ctx {
	struct dns_wire_writer *w;
	const struct dns_view_instance **inst; /* candidates */
	size_t capinst;
	const struct dns_view_instance **done; /* written answers */
	size_t ndone, capdone;
	struct seen *seen;
	size_t nseen, capseen;
};

/* State of one answer being built. */
struct ans {
	struct dns_query_ctx *ctx;
	const struct dns_config *cfg;
	const struct dns_view *view;
	const struct dns_request *req;
	const struct dns_wire_query *q;
	const struct dns_name *name;
	char domain[300];  /* the queried domain, with trailing dot */
	char primary[300]; /* cfg->domain, with trailing dot (PTR) */
	size_t limit;         /* response size limit */
	uint32_t max_answers; /* UDP record cap; 0 = none */
	uint32_t a_limit;     /* a_record_limit; 0 = none */
	bool udp;
	bool trimmed; /* an answer record was cut by size or the UDP cap */
	bool extra_missing; /* an additional address record did not fit */
	int rcode;
};

struct addrset {
	const struct dns_addr *addr;
	const char *host;
	const struct dns_addr *t4, *t6;
};

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
	free(ctx->inst);
	free(ctx->done);
	free(ctx->seen);
	free(ctx);
}

static int
grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	void *n;
	size_t ncap;

	if (need <= *cap)
		return 0;
	ncap = need < 64 ? 64 : need * 2;
	if ((n = realloc(*arr, ncap * elem)) == NULL)
		return ERR_NOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

/* splitmix64: a tiny, good, seedable generator (Steele et al. 2014). */
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

/* ---- names ---- */

static void
fqdn_domain(char *dst, size_t cap, const char *domain)
{
	size_t n;

	dst[0] = '\0';
	if (dns_name_append(dst, cap - 1, domain ? domain : "") != 0)
		return;
	n = strlen(dst);
	if (n == 0 || dst[n - 1] != '.') {
		dst[n] = '.';
		dst[n + 1] = '\0';
	}
}

/* Appends a dotted name (node names may contain dots) label by label. */
static int
append_dotted(char *dst, size_t cap, const char *s)
{
	const char *dot;
	int rc;

	for (;;) {
		dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);

		if (n == 0 || n > 63)
			return ERR_INVAL;
		if ((rc = dns_name_append_label(dst, cap, s, n)) != 0 ||
		    (rc = dns_name_append(dst, cap, ".")) != 0)
			return rc;
		if (dot == NULL)
			return 0;
		s = dot + 1;
	}
}

/* "<node>.node.<dc>.<domain>" */
static int
node_fqdn(const struct ans *a, const struct dns_view_node *n, const char *dom,
    char *dst, size_t cap)
{
	const char *dc = n->dc ? n->dc : a->cfg->datacenter;
	int rc;

	dst[0] = '\0';
	if ((rc = append_dotted(dst, cap, n->name)) != 0 ||
	    (rc = dns_name_append(dst, cap, "node.")) != 0 ||
	    (rc = append_dotted(dst, cap, dc ? dc : "dc1")) != 0)
		return rc;
	return dns_name_append(dst, cap, dom);
}

/* "<hex>.addr.<dc>.<domain>" */
static int
addr_fqdn(const struct ans *a, const struct dns_addr *ip, char *dst,
    size_t cap)
{
	char hex[40];
	int rc;

	dns_name_hex_ip(ip, hex);
	dst[0] = '\0';
	if ((rc = dns_name_append(dst, cap, hex)) != 0 ||
	    (rc = dns_name_append(dst, cap, ".addr.")) != 0 ||
	    (rc = append_dotted(dst, cap, a->cfg->datacenter)) != 0)
		return rc;
	return dns_name_append(dst, cap, a->domain);
}

static void
host_fqdn(const char *host, char *dst, size_t cap)
{
	fqdn_domain(dst, cap, host);
}

static struct dns_wire_name
qname(const struct ans *a)
{
	struct dns_wire_name n = { a->q->qname, a->q->qname_len, NULL };

	return n;
}

static struct dns_wire_name
text_name(const char *s)
{
	struct dns_wire_name n = { NULL, 0, s };

	return n;
}

/* ---- writing ---- */

/* Adds an answer record under the caps. ERR_TOOBIG: stop adding answers. */
static int
put_answer(struct ans *a, const struct dns_wire_rr *rr)
{
	unsigned n = dns_wire_count(a->ctx->w, DNS_SECTION_ANSWER);
	int rc;

	if (a->max_answers && n >= a->max_answers) {
		a->trimmed = true;
		return ERR_TOOBIG;
	}
	if (a->a_limit && n >= a->a_limit)
		return ERR_TOOBIG;
	rc = dns_wire_add(a->ctx->w, DNS_SECTION_ANSWER, rr);
	if (rc == ERR_TOOBIG)
		a->trimmed = true;
	return rc;
}

/* Adds a record to any section: answers go through the caps, others are
 * best effort (a record that does not fit is skipped). */
static int
put(struct ans *a, enum dns_section sec, const struct dns_wire_rr *rr)
{
	int rc;

	if (sec == DNS_SECTION_ANSWER)
		return put_answer(a, rr);
	rc = dns_wire_add(a->ctx->w, sec, rr);
	if (rc == ERR_TOOBIG && sec == DNS_SECTION_ADDITIONAL &&
	    rr->type != DNS_TYPE_TXT)
		a->extra_missing = true;
	return rc == ERR_TOOBIG || rc == ERR_INVAL ? 0 : rc;
}

static unsigned
answers(const struct ans *a)
{
	return dns_wire_count(a->ctx->w, DNS_SECTION_ANSWER);
}

static int
put_soa(struct ans *a, enum dns_section sec, struct dns_wire_name owner,
    const char *dom)
{
	char mname[QUERY_NAME_MAX], rname[QUERY_NAME_MAX];
	struct dns_wire_rr rr;

	memset(&rr, 0, sizeof(rr));
	mname[0] = rname[0] = '\0';
	if (dns_name_append(mname, sizeof(mname), "ns.") != 0 ||
	    dns_name_append(mname, sizeof(mname), dom) != 0 ||
	    dns_name_append(rname, sizeof(rname), "hostmaster.") != 0 ||
	    dns_name_append(rname, sizeof(rname), dom) != 0)
		return ERR_INVAL;
	rr.owner = owner;
	rr.type = DNS_TYPE_SOA;
	rr.ttl = a->cfg->soa.min_ttl_s;
	rr.name = text_name(mname);
	rr.name2 = text_name(rname);
	rr.soa[0] = a->req->now;
	rr.soa[1] = a->cfg->soa.refresh_s;
	rr.soa[2] = a->cfg->soa.retry_s;
	rr.soa[3] = a->cfg->soa.expire_s;
	rr.soa[4] = a->cfg->soa.min_ttl_s;
	return put(a, sec, &rr);
}

/* NXDOMAIN or NODATA: rcode plus the SOA of dom in Authority. */
static int
negative(struct ans *a, int rcode, const char *dom)
{
	a->rcode = rcode;
	return put_soa(a, DNS_SECTION_AUTHORITY, text_name(dom), dom);
}

static bool
wants(uint16_t qtype, uint16_t t)
{
	return qtype == t || qtype == DNS_TYPE_ANY;
}

/* A/AAAA (or CNAME for a hostname) for one address set. *n counts the
 * records written. */
static int
put_addrs(struct ans *a, enum dns_section sec, struct dns_wire_name owner,
    uint32_t ttl, uint16_t qtype, const struct addrset *s, unsigned *n)
{
	const struct dns_addr *v4 = NULL, *v6 = NULL;
	char host[QUERY_NAME_MAX];
	struct dns_wire_rr rr;
	int rc = 0;

	memset(&rr, 0, sizeof(rr));
	rr.owner = owner;
	rr.ttl = ttl;
	if (s->addr->family == DNS_ADDR_HOST) {
		if (!wants(qtype, DNS_TYPE_A) && !wants(qtype, DNS_TYPE_AAAA))
			return 0;
		host_fqdn(s->host, host, sizeof(host));
		rr.type = DNS_TYPE_CNAME;
		rr.name = text_name(host);
		if ((rc = put(a, sec, &rr)) == 0)
			(*n)++;
		return rc == ERR_INVAL ? 0 : rc;
	}
	v4 = s->addr->family == DNS_ADDR_V4 ? s->addr :
	    (s->t4 && s->t4->family == DNS_ADDR_V4 ? s->t4 : NULL);
	v6 = s->addr->family == DNS_ADDR_V6 ? s->addr :
	    (s->t6 && s->t6->family == DNS_ADDR_V6 ? s->t6 : NULL);
	if (v4 && wants(qtype, DNS_TYPE_A)) {
		rr.type = DNS_TYPE_A;
		rr.ip = v4->ip;
		if ((rc = put(a, sec, &rr)) != 0)
			return rc;
		(*n)++;
	}
	if (v6 && wants(qtype, DNS_TYPE_AAAA)) {
		rr.type = DNS_TYPE_AAAA;
		rr.ip = v6->ip;
		if ((rc = put(a, sec, &rr)) != 0)
			return rc;
		(*n)++;
	}
	return 0;
}

static struct addrset
node_addrs(const struct dns_view_node *n)
{
	struct addrset s = { &n->addr, n->host, &n->tagged_v4, &n->tagged_v6 };

	return s;
}

static struct addrset
inst_addrs(const struct dns_view_instance *in)
{
	struct addrset s = { &in->addr, in->host, &in->tagged_v4,
		&in->tagged_v6 };

	if (in->addr.family == DNS_ADDR_NONE)
		return node_addrs(in->node);
	return s;
}

/* RFC 1464: "key=value", with '`' and '=' in the key escaped by '`';
 * keys starting "rfc1035-" give the bare value. */
static size_t
meta_txt(const struct dns_view_meta *m, char *dst, size_t cap)
{
	size_t pos = 0;
	const char *k;

	if (strncasecmp(m->key, "rfc1035-", 8) != 0) {
		for (k = m->key; *k; k++) {
			if (pos + 3 >= cap)
				return SIZE_MAX;
			if (*k == '`' || *k == '=')
				dst[pos++] = '`';
			dst[pos++] = *k;
		}
		dst[pos++] = '=';
	}
	if (pos + strlen(m->value) > cap)
		return SIZE_MAX;
	memcpy(dst + pos, m->value, strlen(m->value));
	return pos + strlen(m->value);
}

static int
put_meta(struct ans *a, enum dns_section sec, struct dns_wire_name owner,
    uint32_t ttl, const struct dns_view_node *n, unsigned *count)
{
	char txt[QUERY_TXT_MAX];
	struct dns_wire_rr rr;
	uint32_t i;
	int rc;

	memset(&rr, 0, sizeof(rr));
	rr.owner = owner;
	rr.type = DNS_TYPE_TXT;
	rr.ttl = ttl;
	rr.txt = txt;
	for (i = 0; i < n->nmeta; i++) {
		rr.txt_len = meta_txt(&n->meta[i], txt, sizeof(txt));
		if (rr.txt_len == SIZE_MAX)
			continue;
		if ((rc = put(a, sec, &rr)) == ERR_INVAL)
			continue;
		if (rc != 0)
			return rc;
		(*count)++;
	}
	return 0;
}

/* ---- dedupe of additional records ---- */

static bool
seen_add(struct dns_query_ctx *ctx, const void *p, int kind)
{
	size_t i;

	for (i = 0; i < ctx->nseen; i++) {
		if (ctx->seen[i].kind != kind)
			continue;
		if (kind != SEEN_ADDR ? ctx->seen[i].p == p :
		    memcmp(ctx->seen[i].p, p, sizeof(struct dns_addr)) == 0)
			return false;
	}
	if (grow((void **)&ctx->seen, &ctx->capseen, ctx->nseen + 1,
	    sizeof(*ctx->seen)) != 0)
		return false; /* out of memory: skip the extra record */
	ctx->seen[ctx->nseen].p = p;
	ctx->seen[ctx->nseen].kind = kind;
	ctx->nseen++;
	return true;
}

static int
done_add(struct dns_query_ctx *ctx, const struct dns_view_instance *in)
{
	if (grow((void **)&ctx->done, &ctx->capdone, ctx->ndone + 1,
	    sizeof(*ctx->done)) != 0)
		return ERR_NOMEM;
	ctx->done[ctx->ndone++] = in;
	return 0;
}

/* Node meta TXT for each answered instance's node, in Additional. */
static int
extra_meta(struct ans *a, uint32_t ttl)
{
	char owner[QUERY_NAME_MAX];
	size_t i;
	unsigned n = 0;
	int rc;

	if (!a->cfg->enable_additional_node_meta_txt)
		return 0;
	for (i = 0; i < a->ctx->ndone; i++) {
		const struct dns_view_node *node = a->ctx->done[i]->node;

		if (node->nmeta == 0 || !seen_add(a->ctx, node, SEEN_META))
			continue;
		if (node_fqdn(a, node, a->domain, owner, sizeof(owner)) != 0)
			continue;
		rc = put_meta(a, DNS_SECTION_ADDITIONAL, text_name(owner), ttl,
		    node, &n);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- lookups, one per name form ---- */

static int
lookup_node(struct ans *a)
{
	const struct dns_view_node *n;
	struct addrset s;
	uint16_t qt = a->q->qtype;
	uint32_t ttl = a->cfg->node_ttl_s;
	unsigned cnt = 0, extra = 0;
	int rc;

	if (!dns_name_dc_ok(a->cfg, a->name) ||
	    (n = dns_view_find_node(a->view, a->name->node,
	    a->name->node_len)) == NULL)
		return negative(a, DNS_RCODE_NXDOMAIN, a->domain);
	s = node_addrs(n);
	rc = put_addrs(a, DNS_SECTION_ANSWER, qname(a), ttl, qt, &s, &cnt);
	if (rc != 0 && rc != ERR_TOOBIG)
		return rc;
	if (rc == 0 && wants(qt, DNS_TYPE_TXT)) {
		rc = put_meta(a, DNS_SECTION_ANSWER, qname(a), ttl, n, &cnt);
		if (rc != 0 && rc != ERR_TOOBIG)
			return rc;
	}
	if (answers(a) == 0 && !a->trimmed)
		return negative(a, DNS_RCODE_NOERROR, a->domain);
	if (!wants(qt, DNS_TYPE_TXT) && a->cfg->enable_additional_node_meta_txt)
		return put_meta(a, DNS_SECTION_ADDITIONAL, qname(a), ttl, n,
		    &extra);
	return 0;
}

/* Healthy instances of the service matching the tag, into ctx->inst. */
static int
collect(struct ans *a, const struct dns_view_service *s, size_t *n)
{
	enum dns_health worst = a->cfg->only_passing ? DNS_HEALTH_PASSING :
	    DNS_HEALTH_WARNING;
	const struct dns_label *tag = &a->name->tag;
	uint32_t i;

	*n = 0;
	if (grow((void **)&a->ctx->inst, &a->ctx->capinst, s->n,
	    sizeof(*a->ctx->inst)) != 0)
		return ERR_NOMEM;
	for (i = 0; i < s->n; i++) {
		const struct dns_view_instance *in = s->inst[i];

		if (dns_view_instance_health(in) > worst)
			continue;
		if (tag->len && !dns_view_instance_has_tag(in, tag->p,
		    tag->len))
			continue;
		a->ctx->inst[(*n)++] = in;
	}
	return 0;
}

/* The SRV target for an instance (see consul-api §5.3). */
static int
srv_target(struct ans *a, const struct dns_view_instance *in, char *dst,
    size_t cap)
{
	if (in->addr.family == DNS_ADDR_HOST) {
		host_fqdn(in->host, dst, cap);
		return 0;
	}
	if (in->addr.family != DNS_ADDR_NONE)
		return addr_fqdn(a, &in->addr, dst, cap);
	if (in->node->addr.family == DNS_ADDR_HOST) {
		host_fqdn(in->node->host, dst, cap);
		return 0;
	}
	return node_fqdn(a, in->node, a->domain, dst, cap);
}

static int
srv_answers(struct ans *a, size_t n, uint32_t ttl)
{
	char target[QUERY_NAME_MAX];
	struct dns_wire_rr rr;
	size_t i;
	int rc;

	memset(&rr, 0, sizeof(rr));
	rr.owner = qname(a);
	rr.type = DNS_TYPE_SRV;
	rr.ttl = ttl;
	rr.srv_priority = 1;
	rr.name = text_name(target);
	for (i = 0; i < n; i++) {
		const struct dns_view_instance *in = a->ctx->inst[i];
		bool warn = dns_view_instance_health(in) == DNS_HEALTH_WARNING;
		uint32_t wt = warn ? in->weight_warning : in->weight_passing;

		if (srv_target(a, in, target, sizeof(target)) != 0)
			continue;
		rr.srv_weight = (uint16_t)(wt > 65535 ? 65535 : wt);
		rr.srv_port = in->port;
		rc = put_answer(a, &rr);
		if (rc == ERR_TOOBIG)
			break;
		if (rc == ERR_INVAL)
			continue;
		if (rc != 0 || (rc = done_add(a->ctx, in)) != 0)
			return rc;
	}
	return 0;
}

/* Additional A/AAAA for each SRV target, then node meta TXT. */
static int
srv_extra(struct ans *a, uint32_t ttl)
{
	char target[QUERY_NAME_MAX];
	struct addrset s;
	size_t i;
	unsigned n = 0;
	int rc;

	for (i = 0; i < a->ctx->ndone; i++) {
		const struct dns_view_instance *in = a->ctx->done[i];
		bool own = in->addr.family != DNS_ADDR_NONE;
		const void *key = own ? (const void *)&in->addr :
		    (const void *)in->node;

		s = inst_addrs(in);
		if (s.addr->family == DNS_ADDR_HOST ||
		    !seen_add(a->ctx, key, own ? SEEN_ADDR : SEEN_TARGET))
			continue;
		if (srv_target(a, in, target, sizeof(target)) != 0)
			continue;
		rc = put_addrs(a, DNS_SECTION_ADDITIONAL, text_name(target),
		    ttl, DNS_TYPE_ANY, &s, &n);
		if (rc != 0)
			return rc;
	}
	return extra_meta(a, ttl);
}

/* One try at an SRV answer of at most k records and their additional
 * records; *complete says every answered target got its addresses. */
static int
srv_attempt(struct ans *a, size_t n, uint32_t ttl, size_t k,
    bool *complete)
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
	if (rc == 0 && answers(a))
		rc = srv_extra(a, ttl);
	*complete = !a->extra_missing;
	return rc;
}

/* SRV answers keep their targets' addresses (as Consul's
 * trimUDPResponse does): when the additional records do not all fit,
 * binary-search the largest answer count for which they do. */
static int
srv_lookup(struct ans *a, size_t n, uint32_t ttl)
{
	size_t lo = 1, hi, mid, best = 1, last;
	bool complete;
	int rc;

	if ((rc = srv_attempt(a, n, ttl, n, &complete)) != 0 || complete ||
	    answers(a) <= 1)
		return rc;
	hi = answers(a) - 1;
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
addr_answers(struct ans *a, size_t n, uint32_t ttl)
{
	size_t i;
	unsigned cnt;
	int rc;

	if (a->cfg->a_record_limit)
		a->a_limit = a->cfg->a_record_limit;
	for (i = 0; i < n; i++) {
		struct addrset s = inst_addrs(a->ctx->inst[i]);

		cnt = 0;
		rc = put_addrs(a, DNS_SECTION_ANSWER, qname(a), ttl,
		    a->q->qtype, &s, &cnt);
		if (cnt && (rc == 0 || rc == ERR_TOOBIG) &&
		    done_add(a->ctx, a->ctx->inst[i]) != 0)
			return ERR_NOMEM;
		if (rc == ERR_TOOBIG)
			break;
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
lookup_service(struct ans *a)
{
	const struct dns_view_service *s;
	uint16_t qt = a->q->qtype;
	uint32_t ttl;
	size_t n = 0;
	int rc;

	if (!dns_name_dc_ok(a->cfg, a->name) ||
	    (s = dns_view_find_service(a->view, a->name->service.p,
	    a->name->service.len)) == NULL)
		return negative(a, DNS_RCODE_NXDOMAIN, a->domain);
	if ((rc = collect(a, s, &n)) != 0)
		return rc;
	if (n == 0)
		return negative(a, DNS_RCODE_NXDOMAIN, a->domain);
	shuffle(a->ctx->inst, n, a->req->rand_seed);
	ttl = dns_config_service_ttl(a->cfg, s->name, s->name_len);
	if (qt == DNS_TYPE_SRV)
		return srv_lookup(a, n, ttl);
	if (wants(qt, DNS_TYPE_A) || wants(qt, DNS_TYPE_AAAA)) {
		if ((rc = addr_answers(a, n, ttl)) != 0)
			return rc;
		if (answers(a))
			return extra_meta(a, ttl);
		if (a->trimmed)
			return 0;
	}
	return negative(a, DNS_RCODE_NOERROR, a->domain);
}

static int
lookup_addr(struct ans *a)
{
	const struct dns_addr *ip = &a->name->addr;
	struct dns_wire_rr rr;
	int rc;

	if (!dns_name_dc_ok(a->cfg, a->name) || ip->family == DNS_ADDR_NONE)
		return negative(a, DNS_RCODE_NXDOMAIN, a->domain);
	memset(&rr, 0, sizeof(rr));
	rr.owner = qname(a);
	rr.ttl = a->cfg->node_ttl_s;
	rr.ip = ip->ip;
	rr.type = ip->family == DNS_ADDR_V4 ? DNS_TYPE_A : DNS_TYPE_AAAA;
	if (!wants(a->q->qtype, rr.type))
		return negative(a, DNS_RCODE_NOERROR, a->domain);
	rc = put_answer(a, &rr);
	return rc == ERR_TOOBIG ? 0 : rc;
}

static int
ptr_service(struct ans *a, const struct dns_view_addr_entry *e, uint32_t i,
    char *target, size_t cap)
{
	const struct dns_view_instance *in = e->inst[i];
	uint32_t j;

	for (j = 0; j < i; j++) /* one PTR per service name */
		if (strcasecmp(e->inst[j]->service, in->service) == 0)
			return ERR_EXISTS;
	target[0] = '\0';
	if (dns_name_append_label(target, cap, in->service,
	    in->service_len) != 0 ||
	    dns_name_append(target, cap, ".service.") != 0 ||
	    dns_name_append(target, cap, a->primary) != 0)
		return ERR_INVAL;
	return 0;
}

static int
lookup_ptr(struct ans *a)
{
	const struct dns_view_addr_entry *e = NULL;
	char target[QUERY_NAME_MAX];
	struct dns_wire_rr rr;
	uint32_t i;
	int rc;

	if (a->name->addr.family != DNS_ADDR_NONE)
		e = dns_view_find_addr(a->view, &a->name->addr);
	if (e == NULL && a->cfg->recursors)
		return DNS_QUERY_FORWARD;
	if (e == NULL)
		return negative(a, DNS_RCODE_NXDOMAIN, a->primary);
	if (!wants(a->q->qtype, DNS_TYPE_PTR))
		return negative(a, DNS_RCODE_NOERROR, a->primary);
	memset(&rr, 0, sizeof(rr));
	rr.owner = qname(a);
	rr.type = DNS_TYPE_PTR;
	rr.ttl = a->cfg->node_ttl_s;
	rr.name = text_name(target);
	for (i = 0; i < e->nnodes; i++) {
		if (node_fqdn(a, e->nodes[i], a->primary, target,
		    sizeof(target)) != 0)
			continue;
		if ((rc = put_answer(a, &rr)) == ERR_TOOBIG)
			return 0;
		if (rc != 0 && rc != ERR_INVAL)
			return rc;
	}
	for (i = 0; i < e->ninst; i++) {
		if (ptr_service(a, e, i, target, sizeof(target)) != 0)
			continue;
		rr.ttl = dns_config_service_ttl(a->cfg, e->inst[i]->service,
		    e->inst[i]->service_len);
		if ((rc = put_answer(a, &rr)) == ERR_TOOBIG)
			return 0;
		if (rc != 0 && rc != ERR_INVAL)
			return rc;
	}
	return 0;
}

/* NS records for the apex: the configured server nodes. Glue follows. */
static int
apex_ns(struct ans *a)
{
	char target[QUERY_NAME_MAX];
	struct dns_wire_rr rr;
	size_t i;
	int rc;

	memset(&rr, 0, sizeof(rr));
	rr.owner = qname(a);
	rr.type = DNS_TYPE_NS;
	rr.ttl = a->cfg->node_ttl_s;
	rr.name = text_name(target);
	for (i = 0; i < a->cfg->n_ns_servers; i++) {
		const struct dns_view_node *n = dns_view_find_node(a->view,
		    a->cfg->ns_servers[i], strlen(a->cfg->ns_servers[i]));

		if (n == NULL ||
		    node_fqdn(a, n, a->domain, target, sizeof(target)) != 0)
			continue;
		if ((rc = put_answer(a, &rr)) == ERR_TOOBIG)
			return 0;
		if (rc != 0 && rc != ERR_INVAL)
			return rc;
	}
	return 0;
}

static int
apex_glue(struct ans *a)
{
	char target[QUERY_NAME_MAX];
	size_t i;
	unsigned n = 0;
	int rc;

	for (i = 0; i < a->cfg->n_ns_servers; i++) {
		const struct dns_view_node *node = dns_view_find_node(a->view,
		    a->cfg->ns_servers[i], strlen(a->cfg->ns_servers[i]));
		struct addrset s;

		if (node == NULL || node->addr.family == DNS_ADDR_HOST ||
		    node_fqdn(a, node, a->domain, target, sizeof(target)) != 0)
			continue;
		s = node_addrs(node);
		rc = put_addrs(a, DNS_SECTION_ADDITIONAL, text_name(target),
		    a->cfg->node_ttl_s, DNS_TYPE_ANY, &s, &n);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
lookup_apex(struct ans *a)
{
	uint16_t qt = a->q->qtype;
	int rc;

	if (wants(qt, DNS_TYPE_SOA)) {
		rc = put_soa(a, DNS_SECTION_ANSWER, qname(a), a->domain);
		if (rc != 0 && rc != ERR_TOOBIG)
			return rc;
	}
	if (wants(qt, DNS_TYPE_NS) && (rc = apex_ns(a)) != 0)
		return rc;
	if (answers(a) == 0)
		return a->trimmed ? 0 : negative(a, DNS_RCODE_NOERROR,
		    a->domain);
	return wants(qt, DNS_TYPE_NS) ? apex_glue(a) : 0;
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
	rc = dns_wire_finish(ctx->w, rcode, false, false, cfg->recursors, out,
	    outsize, outlen);
	return rc ? rc : DNS_QUERY_REPLY;
}

static int
dispatch(struct ans *a)
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
		return negative(a, DNS_RCODE_NXDOMAIN, a->domain);
	}
}

static void
ans_init(struct ans *a, struct dns_query_ctx *ctx,
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
	fqdn_domain(a->domain, sizeof(a->domain),
	    name->domain ? name->domain : cfg->domain);
	fqdn_domain(a->primary, sizeof(a->primary), cfg->domain);
	ctx->ndone = 0;
	ctx->nseen = 0;
}

static int
answer_name(struct dns_query_ctx *ctx, const struct dns_config *cfg,
    const struct dns_view *view, const struct dns_request *req,
    const struct dns_wire_query *q, uint8_t *out, size_t outsize,
    size_t *outlen)
{
	struct dns_name name;
	struct ans a;
	bool tc;
	int rc;

	dns_name_parse(cfg, q->qname, q->qname_len, &name);
	if (name.kind == DNS_NAME_OUTSIDE)
		return cfg->recursors ? DNS_QUERY_FORWARD :
		    reply_rcode(ctx, cfg, q, req, DNS_RCODE_REFUSED, out,
		    outsize, outlen);
	ans_init(&a, ctx, cfg, view, req, q, &name,
	    size_limit(q, req, outsize));
	if ((rc = dns_wire_begin(ctx->w, q, a.limit)) != 0)
		return rc;
	if ((rc = dispatch(&a)) != 0)
		return rc;
	tc = a.trimmed && (answers(&a) == 0 ||
	    (a.udp && cfg->enable_truncate));
	rc = dns_wire_finish(ctx->w, a.rcode, true, tc, cfg->recursors, out,
	    outsize, outlen);
	return rc ? rc : DNS_QUERY_REPLY;
}

int
dns_query_answer(struct dns_query_ctx *ctx, const struct dns_config *cfg,
    const struct dns_view *view, const struct dns_request *req,
    uint8_t *out, size_t outsize, size_t *outlen)
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
		return reply_rcode(ctx, cfg, &q, req, DNS_RCODE_REFUSED, out,
		    outsize, outlen);
	if (q.qtype == DNS_TYPE_AXFR || q.qtype == DNS_TYPE_IXFR)
		return reply_rcode(ctx, cfg, &q, req, DNS_RCODE_REFUSED, out,
		    outsize, outlen);
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
