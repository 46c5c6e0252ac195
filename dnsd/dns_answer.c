/*
 * dns_answer.c — building one DNS response: caps, names, record writers.
 *
 * Key decisions: records go straight into the wire writer one by one, so
 * trimming is exact: the answer section stops at the first record that
 * passes the size limit or a record cap (Consul's udp_answer_limit and
 * a_record_limit), Authority and Additional are best effort, and a missing
 * additional address record is flagged so that SRV answers can be cut back
 * until every target keeps its address (Consul's trimUDPResponse). Names
 * are composed in presentation form with \\DDD escapes and converted by
 * ldns inside the wire writer. Reference: consul-api.md §5.3; RFC 1464;
 * Consul agent/dns.go (generateMeta, trimUDPResponse).
 */
#include "dnsd/dns_answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"

int
dns_answer_grow(void **arr, size_t *cap, size_t need, size_t elem)
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
/* ---- names ---- */

void
dns_answer_fqdn_domain(char *dst, size_t cap, const char *domain)
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
int
dns_answer_node_fqdn(const struct dns_answer *a, const struct dns_view_node *n,
    const char *dom, char *dst, size_t cap)
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
int
dns_answer_addr_fqdn(const struct dns_answer *a, const struct dns_addr *ip,
    char *dst, size_t cap)
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

void
dns_answer_host_fqdn(const char *host, char *dst, size_t cap)
{
	dns_answer_fqdn_domain(dst, cap, host);
}

struct dns_wire_name
dns_answer_qname(const struct dns_answer *a)
{
	struct dns_wire_name n = { a->q->qname, a->q->qname_len, NULL };

	return n;
}

struct dns_wire_name
dns_answer_text_name(const char *s)
{
	struct dns_wire_name n = { NULL, 0, s };

	return n;
}

/* ---- writing ---- */

/* Adds an answer record under the caps. ERR_TOOBIG: stop adding answers. */
int
dns_answer_put_answer(struct dns_answer *a, const struct dns_wire_rr *rr)
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
int
dns_answer_put(
    struct dns_answer *a, enum dns_section sec, const struct dns_wire_rr *rr)
{
	int rc;

	if (sec == DNS_SECTION_ANSWER)
		return dns_answer_put_answer(a, rr);
	rc = dns_wire_add(a->ctx->w, sec, rr);
	if (rc == ERR_TOOBIG && sec == DNS_SECTION_ADDITIONAL &&
	    rr->type != DNS_TYPE_TXT)
		a->extra_missing = true;
	return rc == ERR_TOOBIG || rc == ERR_INVAL ? 0 : rc;
}

unsigned
dns_answer_count(const struct dns_answer *a)
{
	return dns_wire_count(a->ctx->w, DNS_SECTION_ANSWER);
}

int
dns_answer_put_soa(struct dns_answer *a, enum dns_section sec,
    struct dns_wire_name owner, const char *dom)
{
	char mname[DNS_ANSWER_NAME_MAX], rname[DNS_ANSWER_NAME_MAX];
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
	rr.name = dns_answer_text_name(mname);
	rr.name2 = dns_answer_text_name(rname);
	rr.soa[0] = a->req->now;
	rr.soa[1] = a->cfg->soa.refresh_s;
	rr.soa[2] = a->cfg->soa.retry_s;
	rr.soa[3] = a->cfg->soa.expire_s;
	rr.soa[4] = a->cfg->soa.min_ttl_s;
	return dns_answer_put(a, sec, &rr);
}

/* NXDOMAIN or NODATA: rcode plus the SOA of dom in Authority. */
int
dns_answer_negative(struct dns_answer *a, int rcode, const char *dom)
{
	a->rcode = rcode;
	return dns_answer_put_soa(
	    a, DNS_SECTION_AUTHORITY, dns_answer_text_name(dom), dom);
}

bool
dns_answer_wants(uint16_t qtype, uint16_t t)
{
	return qtype == t || qtype == DNS_TYPE_ANY;
}

/* A/AAAA (or CNAME for a hostname) for one address set. *n counts the
 * records written. */
int
dns_answer_put_addrs(struct dns_answer *a, enum dns_section sec,
    struct dns_wire_name owner, uint32_t ttl, uint16_t qtype,
    const struct dns_answer_addrs *s, unsigned *n)
{
	const struct dns_addr *v4 = NULL, *v6 = NULL;
	char host[DNS_ANSWER_NAME_MAX];
	struct dns_wire_rr rr;
	int rc = 0;

	memset(&rr, 0, sizeof(rr));
	rr.owner = owner;
	rr.ttl = ttl;
	if (s->addr->family == DNS_ADDR_HOST) {
		if (!dns_answer_wants(qtype, DNS_TYPE_A) &&
		    !dns_answer_wants(qtype, DNS_TYPE_AAAA))
			return 0;
		dns_answer_host_fqdn(s->host, host, sizeof(host));
		rr.type = DNS_TYPE_CNAME;
		rr.name = dns_answer_text_name(host);
		if ((rc = dns_answer_put(a, sec, &rr)) == 0)
			(*n)++;
		return rc == ERR_INVAL ? 0 : rc;
	}
	v4 = s->addr->family == DNS_ADDR_V4 ?
	    s->addr :
	    (s->t4 && s->t4->family == DNS_ADDR_V4 ? s->t4 : NULL);
	v6 = s->addr->family == DNS_ADDR_V6 ?
	    s->addr :
	    (s->t6 && s->t6->family == DNS_ADDR_V6 ? s->t6 : NULL);
	if (v4 && dns_answer_wants(qtype, DNS_TYPE_A)) {
		rr.type = DNS_TYPE_A;
		rr.ip = v4->ip;
		if ((rc = dns_answer_put(a, sec, &rr)) != 0)
			return rc;
		(*n)++;
	}
	if (v6 && dns_answer_wants(qtype, DNS_TYPE_AAAA)) {
		rr.type = DNS_TYPE_AAAA;
		rr.ip = v6->ip;
		if ((rc = dns_answer_put(a, sec, &rr)) != 0)
			return rc;
		(*n)++;
	}
	return 0;
}

struct dns_answer_addrs
dns_answer_node_addrs(const struct dns_view_node *n)
{
	struct dns_answer_addrs s = { &n->addr, n->host, &n->tagged_v4,
		&n->tagged_v6 };

	return s;
}

struct dns_answer_addrs
dns_answer_inst_addrs(const struct dns_view_instance *in)
{
	struct dns_answer_addrs s = { &in->addr, in->host, &in->tagged_v4,
		&in->tagged_v6 };

	if (in->addr.family == DNS_ADDR_NONE)
		return dns_answer_node_addrs(in->node);
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

int
dns_answer_put_meta(struct dns_answer *a, enum dns_section sec,
    struct dns_wire_name owner, uint32_t ttl, const struct dns_view_node *n,
    unsigned *count)
{
	char txt[DNS_ANSWER_TXT_MAX];
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
		if ((rc = dns_answer_put(a, sec, &rr)) == ERR_INVAL)
			continue;
		if (rc != 0)
			return rc;
		(*count)++;
	}
	return 0;
}

/* ---- dedupe of additional records ---- */

bool
dns_answer_seen_add(struct dns_query_ctx *ctx, const void *p, int kind)
{
	size_t i;

	for (i = 0; i < ctx->nseen; i++) {
		if (ctx->seen[i].kind != kind)
			continue;
		if (kind != DNS_SEEN_ADDR ?
		        ctx->seen[i].p == p :
		        memcmp(ctx->seen[i].p, p, sizeof(struct dns_addr)) == 0)
			return false;
	}
	if (dns_answer_grow((void **)&ctx->seen, &ctx->capseen, ctx->nseen + 1,
	        sizeof(*ctx->seen)) != 0)
		return false; /* out of memory: skip the extra record */
	ctx->seen[ctx->nseen].p = p;
	ctx->seen[ctx->nseen].kind = kind;
	ctx->nseen++;
	return true;
}

int
dns_answer_done_add(
    struct dns_query_ctx *ctx, const struct dns_view_instance *in)
{
	if (dns_answer_grow((void **)&ctx->done, &ctx->capdone, ctx->ndone + 1,
	        sizeof(*ctx->done)) != 0)
		return ERR_NOMEM;
	ctx->done[ctx->ndone++] = in;
	return 0;
}

/* Node meta TXT for each answered instance's node, in Additional. */
int
dns_answer_extra_meta(struct dns_answer *a, uint32_t ttl)
{
	char owner[DNS_ANSWER_NAME_MAX];
	size_t i;
	unsigned n = 0;
	int rc;

	if (!a->cfg->enable_additional_node_meta_txt)
		return 0;
	for (i = 0; i < a->ctx->ndone; i++) {
		const struct dns_view_node *node = a->ctx->done[i]->node;

		if (node->nmeta == 0 ||
		    !dns_answer_seen_add(a->ctx, node, DNS_SEEN_META))
			continue;
		if (dns_answer_node_fqdn(
		        a, node, a->domain, owner, sizeof(owner)) != 0)
			continue;
		rc = dns_answer_put_meta(a, DNS_SECTION_ADDITIONAL,
		    dns_answer_text_name(owner), ttl, node, &n);
		if (rc != 0)
			return rc;
	}
	return 0;
}
