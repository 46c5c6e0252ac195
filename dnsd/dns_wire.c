/*
 * dns_wire.c — the ldns seam: query parsing and response writing.
 *
 * Key decisions: (1) parse with ldns_wire2rr, section by section, so we
 * know where each record ends (trailing bytes, a second OPT and OPT
 * placement are then checkable), after our own name guards that make
 * pointer loops impossible; (2) write with ldns_rr2buffer_wire_compress
 * into one reusable ldns_buffer, one record at a time, checking the size
 * after each and rolling back (including the compression entries that
 * point past the new end) when a record does not fit. Records are built
 * as stack ldns_rr/ldns_rdf values over our bytes, so writing a record
 * allocates only compression-tree entries. ldns stores compression
 * offsets only below 16384 and leaks the node otherwise, so past 15 KiB we
 * write names uncompressed. Reference: RFC 1035 §4.1.4, RFC 6891 §6.1,
 * ldns host2wire.c / wire2host.c; fault-testing.md §7.2.
 */
/* dns_wire.h brings <stdbool.h> in first: when it is absent, ldns/common.h
 * defines bool as signed char, which would silently differ from the _Bool
 * in every struct we share. Keep this order. */
#include "dnsd/dns_wire.h"

#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define WIRE_NAME_MAX 255u
#define WIRE_MAX_HOPS 64u
#define WIRE_COMPRESS_BELOW (16384u - 1024u)
#define WIRE_TXT_MAX 1275u /* 5 character-strings */
#define WIRE_OPT_LEN 11u
#define WIRE_CACHE_N 32u
#define WIRE_CACHE_TEXT 256u

struct dns_wire_writer {
	ldns_buffer *buf;
	ldns_rbtree_t *tree;
	const struct dns_wire_query *q;
	size_t limit; /* for records, OPT already subtracted */
	unsigned count[4];
	int last_section;
	ldns_rbnode_t **dead; /* rollback scratch */
	size_t ndead, capdead;
	size_t dead_mark;
	bool dead_oom;
	/* text names converted in this response (SRV targets recur as
	 * additional owners): converted once, freed at begin/free */
	struct {
		char text[WIRE_CACHE_TEXT];
		ldns_rdf *rdf;
	} cache[WIRE_CACHE_N];
	size_t ncache;
};

/* ---- parsing ---- */

/* Checks the name at *pos: label types 00 (and 11 when pointers are
 * allowed, strictly backwards), labels <= 63, name <= 255 bytes, inside
 * the packet. Advances *pos past the name as stored. */
static bool
name_guard(const uint8_t *pkt, size_t len, size_t *pos, bool pointers)
{
	size_t p = *pos, total = 1, hops = 0, end = 0;
	size_t floor = *pos; /* a pointer must point below this */

	for (;;) {
		uint8_t c;

		if (p >= len)
			return false;
		c = pkt[p];
		if (c == 0) {
			*pos = end ? end : p + 1;
			return true;
		}
		if ((c & 0xc0) == 0xc0) {
			size_t target;

			if (!pointers || p + 1 >= len || ++hops > WIRE_MAX_HOPS)
				return false;
			target = (size_t)(c & 0x3f) << 8 | pkt[p + 1];
			if (target < LDNS_HEADER_SIZE || target >= floor)
				return false;
			if (end == 0)
				end = p + 2;
			floor = target;
			p = target;
			continue;
		}
		if ((c & 0xc0) != 0)
			return false; /* 01 / 10: extended label types */
		total += (size_t)c + 1;
		if (total > WIRE_NAME_MAX || p + 1 + c > len)
			return false;
		p += 1 + (size_t)c;
	}
}

static int
parse_question(const uint8_t *pkt, size_t len, size_t *pos,
    struct dns_wire_query *q)
{
	size_t start = *pos, p = *pos;
	ldns_rr *rr = NULL;
	ldns_status st;

	if (!name_guard(pkt, len, &p, false))
		return DNS_RCODE_FORMERR;
	st = ldns_wire2rr(&rr, pkt, len, pos, LDNS_SECTION_QUESTION);
	if (st == LDNS_STATUS_MEM_ERR)
		return ERR_NOMEM;
	if (st != LDNS_STATUS_OK)
		return DNS_RCODE_FORMERR;
	q->qname = pkt + start;
	q->qname_len = p - start;
	q->qtype = (uint16_t)ldns_rr_get_type(rr);
	q->qclass = (uint16_t)ldns_rr_get_class(rr);
	q->has_question = true;
	ldns_rr_free(rr);
	return 0;
}

static int
parse_additional(const uint8_t *pkt, size_t len, size_t *pos,
    struct dns_wire_query *q)
{
	size_t p = *pos;
	ldns_rr *rr = NULL;
	ldns_status st;
	uint32_t ttl;
	int rc = 0;

	if (!name_guard(pkt, len, &p, true) || p + 10 > len)
		return DNS_RCODE_FORMERR;
	if (ldns_read_uint16(pkt + p) != LDNS_RR_TYPE_OPT) {
		/* TSIG, SIG(0) or junk: not supported, skipped unparsed.
		 * Letting ldns parse their rdata would follow pointer loops
		 * in rdata names up to 65535 hops (~200 us a packet). */
		size_t rdlen = ldns_read_uint16(pkt + p + 8);

		if (p + 10 + rdlen > len)
			return DNS_RCODE_FORMERR;
		*pos = p + 10 + rdlen;
		return 0;
	}
	st = ldns_wire2rr(&rr, pkt, len, pos, LDNS_SECTION_ADDITIONAL);
	if (st == LDNS_STATUS_MEM_ERR)
		return ERR_NOMEM;
	if (st != LDNS_STATUS_OK)
		return DNS_RCODE_FORMERR;
	if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT) {
		if (q->edns || ldns_dname_label_count(ldns_rr_owner(rr)) != 0) {
			rc = DNS_RCODE_FORMERR;
		} else {
			q->edns = true;
			q->edns_udp_size = (uint16_t)ldns_rr_get_class(rr);
			ttl = ldns_rr_ttl(rr);
			q->edns_version = (uint8_t)(ttl >> 16);
			q->edns_do = (ttl & 0x8000) != 0;
		}
	}
	ldns_rr_free(rr);
	return rc;
}

int
dns_wire_parse(const uint8_t *pkt, size_t len, struct dns_wire_query *q)
{
	size_t pos = LDNS_HEADER_SIZE;
	unsigned qd, an, ns, ar, i;
	int rc = 0;

	memset(q, 0, sizeof(*q));
	if (pkt == NULL || len < LDNS_HEADER_SIZE || LDNS_QR_WIRE(pkt))
		return DNS_WIRE_DROP;
	q->id = LDNS_ID_WIRE(pkt);
	q->opcode = (uint8_t)LDNS_OPCODE_WIRE(pkt);
	q->rd = LDNS_RD_WIRE(pkt) != 0;
	q->cd = LDNS_CD_WIRE(pkt) != 0;
	qd = LDNS_QDCOUNT(pkt);
	an = LDNS_ANCOUNT(pkt);
	ns = LDNS_NSCOUNT(pkt);
	ar = LDNS_ARCOUNT(pkt);
	if (qd == 1 && (rc = parse_question(pkt, len, &pos, q)) < 0)
		return rc;
	if (q->opcode != DNS_OPCODE_QUERY)
		return DNS_RCODE_NOTIMP;
	if (qd != 1 || rc != 0) {
		q->has_question = false;
		return DNS_RCODE_FORMERR;
	}
	if (an != 0 || ns != 0 || ar > DNS_WIRE_MAX_ARCOUNT)
		return DNS_RCODE_FORMERR;
	for (i = 0; i < ar; i++)
		if ((rc = parse_additional(pkt, len, &pos, q)) != 0)
			return rc;
	if (pos != len)
		return DNS_RCODE_FORMERR; /* trailing bytes */
	if (q->edns && q->edns_version != 0)
		return DNS_RCODE_BADVERS;
	return DNS_RCODE_NOERROR;
}

/* ---- writing ---- */

/* Compression-tree order: by wire length, then by ASCII-lowercased bytes.
 * Any total order consistent with case-insensitive equality serves (the
 * tree is only searched for equal names), and this one is a short loop
 * where ldns_dname_compare counts and walks labels from the right (it
 * was half the time of an answer). Length octets are <= 63, so
 * lowercasing the whole wire form is safe. */
static int
tree_cmp(const void *a, const void *b)
{
	const ldns_rdf *x = a, *y = b;
	const uint8_t *p = x->_data, *q = y->_data;
	size_t i;

	if (x->_size != y->_size)
		return x->_size < y->_size ? -1 : 1;
	for (i = 0; i < x->_size; i++) {
		uint8_t c = p[i], d = q[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (d >= 'A' && d <= 'Z')
			d += 'a' - 'A';
		if (c != d)
			return c < d ? -1 : 1;
	}
	return 0;
}

static void
tree_node_free(ldns_rbnode_t *node, void *arg)
{
	(void)arg;
	ldns_rdf_deep_free((ldns_rdf *)(uintptr_t)node->key);
	free(node);
}

static void
cache_drop(struct dns_wire_writer *w)
{
	size_t i;

	for (i = 0; i < w->ncache; i++)
		ldns_rdf_deep_free(w->cache[i].rdf);
	w->ncache = 0;
}

static void
tree_drop(struct dns_wire_writer *w)
{
	if (w->tree == NULL)
		return;
	ldns_traverse_postorder(w->tree, tree_node_free, NULL);
	ldns_rbtree_free(w->tree);
	w->tree = NULL;
}

struct dns_wire_writer *
dns_wire_writer_new(void)
{
	struct dns_wire_writer *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	if ((w->buf = ldns_buffer_new(DNS_WIRE_MAX + 1024)) == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

void
dns_wire_writer_free(struct dns_wire_writer *w)
{
	if (w == NULL)
		return;
	tree_drop(w);
	cache_drop(w);
	ldns_buffer_free(w->buf);
	free(w->dead);
	free(w);
}

/* Collects compression entries that point at or past dead_mark. */
static void
collect_dead(ldns_rbnode_t *node, void *arg)
{
	struct dns_wire_writer *w = arg;

	if ((size_t)(intptr_t)node->data < w->dead_mark)
		return;
	if (w->ndead == w->capdead) {
		size_t ncap = w->capdead ? w->capdead * 2 : 16;
		ldns_rbnode_t **nd = realloc(w->dead, ncap * sizeof(*nd));

		if (nd == NULL) {
			w->dead_oom = true;
			return;
		}
		w->dead = nd;
		w->capdead = ncap;
	}
	w->dead[w->ndead++] = node;
}

/* Returns the buffer to mark; forgets compression targets past it. */
static int
rollback(struct dns_wire_writer *w, size_t mark)
{
	size_t i;

	ldns_buffer_set_position(w->buf, mark);
	w->buf->_status = LDNS_STATUS_OK;
	if (w->tree == NULL)
		return 0;
	w->ndead = 0;
	w->dead_mark = mark;
	w->dead_oom = false;
	ldns_traverse_postorder(w->tree, collect_dead, w);
	if (w->dead_oom) {
		/* cannot prune: stop compressing for this response */
		tree_drop(w);
		return 0;
	}
	for (i = 0; i < w->ndead; i++) {
		ldns_rbnode_t *n = ldns_rbtree_delete(w->tree, w->dead[i]->key);

		if (n != NULL)
			tree_node_free(n, NULL);
	}
	return 0;
}

int
dns_wire_begin(struct dns_wire_writer *w, const struct dns_wire_query *q,
    size_t limit)
{
	ldns_rdf owner;
	ldns_rr rr;
	ldns_status st;

	tree_drop(w);
	cache_drop(w);
	w->tree = ldns_rbtree_create(tree_cmp);
	if (w->tree == NULL)
		return ERR_NOMEM;
	memset(w->count, 0, sizeof(w->count));
	w->last_section = 0;
	w->q = q;
	if (limit > DNS_WIRE_MAX)
		limit = DNS_WIRE_MAX;
	if (q->edns)
		limit = limit > WIRE_OPT_LEN + LDNS_HEADER_SIZE ?
		    limit - WIRE_OPT_LEN : LDNS_HEADER_SIZE;
	if (limit < LDNS_HEADER_SIZE)
		limit = LDNS_HEADER_SIZE;
	w->limit = limit;
	ldns_buffer_clear(w->buf);
	w->buf->_status = LDNS_STATUS_OK;
	if (!ldns_buffer_reserve(w->buf, LDNS_HEADER_SIZE))
		return ERR_NOMEM;
	memset(ldns_buffer_begin(w->buf), 0, LDNS_HEADER_SIZE);
	ldns_buffer_set_position(w->buf, LDNS_HEADER_SIZE);
	if (!q->has_question)
		return 0;
	memset(&rr, 0, sizeof(rr));
	owner._size = q->qname_len;
	owner._type = LDNS_RDF_TYPE_DNAME;
	owner._data = (void *)(uintptr_t)q->qname;
	rr._owner = &owner;
	rr._rr_type = (ldns_rr_type)q->qtype;
	rr._rr_class = (ldns_rr_class)q->qclass;
	rr._rr_question = true;
	st = ldns_rr2buffer_wire_compress(w->buf, &rr, LDNS_SECTION_QUESTION,
	    w->tree);
	if (st != LDNS_STATUS_OK)
		return ERR_NOMEM;
	w->count[0] = 1;
	return 0;
}

/* Resolves a writer name into rdf: a stack view of wire bytes, or an
 * ldns-parsed text name, kept in the response's cache or, when that is
 * full, stored in *owned (caller frees). */
static int
name_rdf(struct dns_wire_writer *w, const struct dns_wire_name *n,
    ldns_rdf *rdf, ldns_rdf **owned)
{
	size_t i, len;

	*owned = NULL;
	if (n->wire != NULL) {
		rdf->_size = n->wire_len;
		rdf->_type = LDNS_RDF_TYPE_DNAME;
		rdf->_data = (void *)(uintptr_t)n->wire;
		return 0;
	}
	if (n->text == NULL)
		return ERR_INVAL;
	for (i = 0; i < w->ncache; i++)
		if (strcmp(w->cache[i].text, n->text) == 0) {
			*rdf = *w->cache[i].rdf;
			return 0;
		}
	if (ldns_str2rdf_dname(owned, n->text) != LDNS_STATUS_OK ||
	    *owned == NULL)
		return ERR_INVAL;
	*rdf = **owned;
	len = strlen(n->text);
	if (w->ncache < WIRE_CACHE_N && len < WIRE_CACHE_TEXT) {
		memcpy(w->cache[w->ncache].text, n->text, len + 1);
		w->cache[w->ncache++].rdf = *owned;
		*owned = NULL;
	}
	return 0;
}

struct rr_build {
	ldns_rr rr;
	ldns_rdf rdf[8];
	ldns_rdf *rdfp[8];
	ldns_rdf owner;
	ldns_rdf *owned[3];
	uint8_t scratch[WIRE_TXT_MAX + 8 + 20];
};

static void
rdf_set(struct rr_build *b, size_t i, ldns_rdf_type t, const void *p,
    size_t n)
{
	b->rdf[i]._type = t;
	b->rdf[i]._data = (void *)(uintptr_t)p;
	b->rdf[i]._size = n;
	b->rdfp[i] = &b->rdf[i];
	b->rr._rd_count = i + 1;
}

static int
build_txt(struct rr_build *b, const char *txt, size_t len)
{
	size_t off = 0, i = 0;

	if (len > WIRE_TXT_MAX)
		return ERR_INVAL;
	do {
		size_t chunk = len - off > 255 ? 255 : len - off;
		uint8_t *s = b->scratch + off + i;

		s[0] = (uint8_t)chunk;
		memcpy(s + 1, txt + off, chunk);
		rdf_set(b, i, LDNS_RDF_TYPE_STR, s, chunk + 1);
		off += chunk;
		i++;
	} while (off < len && i < 8);
	return 0;
}

static int
build_rdata(struct dns_wire_writer *w, struct rr_build *b,
    const struct dns_wire_rr *in)
{
	uint8_t *s = b->scratch;
	int rc = 0, k;

	switch (in->type) {
	case DNS_TYPE_A:
		rdf_set(b, 0, LDNS_RDF_TYPE_A, in->ip, 4);
		return in->ip ? 0 : ERR_INVAL;
	case DNS_TYPE_AAAA:
		rdf_set(b, 0, LDNS_RDF_TYPE_AAAA, in->ip, 16);
		return in->ip ? 0 : ERR_INVAL;
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
	case DNS_TYPE_NS:
		rc = name_rdf(w, &in->name, &b->rdf[0], &b->owned[1]);
		b->rdfp[0] = &b->rdf[0];
		b->rr._rd_count = 1;
		return rc;
	case DNS_TYPE_TXT:
		return build_txt(b, in->txt ? in->txt : "", in->txt_len);
	case DNS_TYPE_SRV:
		ldns_write_uint16(s, in->srv_priority);
		ldns_write_uint16(s + 2, in->srv_weight);
		ldns_write_uint16(s + 4, in->srv_port);
		rdf_set(b, 0, LDNS_RDF_TYPE_INT16, s, 2);
		rdf_set(b, 1, LDNS_RDF_TYPE_INT16, s + 2, 2);
		rdf_set(b, 2, LDNS_RDF_TYPE_INT16, s + 4, 2);
		rc = name_rdf(w, &in->name, &b->rdf[3], &b->owned[1]);
		b->rdfp[3] = &b->rdf[3];
		b->rr._rd_count = 4;
		return rc;
	case DNS_TYPE_SOA:
		rc = name_rdf(w, &in->name, &b->rdf[0], &b->owned[1]);
		if (rc == 0)
			rc = name_rdf(w, &in->name2, &b->rdf[1], &b->owned[2]);
		if (rc != 0)
			return rc;
		b->rdfp[0] = &b->rdf[0];
		b->rdfp[1] = &b->rdf[1];
		for (k = 0; k < 5; k++) {
			ldns_write_uint32(s + 4 * k, in->soa[k]);
			rdf_set(b, 2 + (size_t)k, k ? LDNS_RDF_TYPE_PERIOD :
			    LDNS_RDF_TYPE_INT32, s + 4 * k, 4);
		}
		return 0;
	default:
		return ERR_INVAL;
	}
}

int
dns_wire_add(struct dns_wire_writer *w, enum dns_section section,
    const struct dns_wire_rr *in)
{
	struct rr_build b;
	size_t mark = ldns_buffer_position(w->buf), i;
	ldns_rbtree_t *tree;
	ldns_status st;
	int rc;

	if ((int)section < w->last_section || section < DNS_SECTION_ANSWER ||
	    section > DNS_SECTION_ADDITIONAL)
		return ERR_INVAL;
	w->last_section = (int)section;
	memset(&b.rr, 0, sizeof(b.rr));
	memset(b.owned, 0, sizeof(b.owned));
	b.rr._rdata_fields = b.rdfp;
	b.rr._rr_type = (ldns_rr_type)in->type;
	b.rr._rr_class = LDNS_RR_CLASS_IN;
	b.rr._ttl = in->ttl;
	if ((rc = name_rdf(w, &in->owner, &b.owner, &b.owned[0])) == 0)
		rc = build_rdata(w, &b, in);
	if (rc != 0)
		goto out;
	b.rr._owner = &b.owner;
	tree = mark < WIRE_COMPRESS_BELOW ? w->tree : NULL;
	st = ldns_rr2buffer_wire_compress(w->buf, &b.rr, (int)section, tree);
	if (st != LDNS_STATUS_OK) {
		rollback(w, mark);
		rc = ERR_NOMEM;
	} else if (ldns_buffer_position(w->buf) > w->limit) {
		rollback(w, mark);
		rc = ERR_TOOBIG;
	} else
		w->count[section]++;
out:
	for (i = 0; i < 3; i++)
		ldns_rdf_deep_free(b.owned[i]);
	return rc;
}

unsigned
dns_wire_count(const struct dns_wire_writer *w, enum dns_section section)
{
	return w->count[section];
}

static void
write_opt(struct dns_wire_writer *w, int rcode)
{
	static uint8_t root[1] = { 0 };
	ldns_rdf owner = { 1, LDNS_RDF_TYPE_DNAME, root };
	ldns_rr rr;

	memset(&rr, 0, sizeof(rr));
	rr._owner = &owner;
	rr._rr_type = LDNS_RR_TYPE_OPT;
	rr._rr_class = (ldns_rr_class)DNS_WIRE_EDNS_SIZE;
	rr._ttl = (uint32_t)((rcode >> 4) & 0xff) << 24; /* version 0, DO 0 */
	(void)ldns_rr2buffer_wire(w->buf, &rr, LDNS_SECTION_ADDITIONAL);
	w->count[DNS_SECTION_ADDITIONAL]++;
}

int
dns_wire_finish(struct dns_wire_writer *w, int rcode, bool aa, bool tc,
    bool ra, uint8_t *out, size_t outsize, size_t *outlen)
{
	const struct dns_wire_query *q = w->q;
	uint8_t *h;
	size_t len;

	*outlen = 0;
	if (q->edns)
		write_opt(w, rcode);
	if (ldns_buffer_status(w->buf) != LDNS_STATUS_OK)
		return ERR_NOMEM;
	h = ldns_buffer_begin(w->buf);
	LDNS_ID_SET(h, q->id);
	h[2] = 0;
	h[3] = 0;
	LDNS_QR_SET(h);
	LDNS_OPCODE_SET(h, q->opcode & 0xf);
	if (aa)
		LDNS_AA_SET(h);
	if (tc)
		LDNS_TC_SET(h);
	if (q->rd)
		LDNS_RD_SET(h);
	if (ra)
		LDNS_RA_SET(h);
	if (q->cd)
		LDNS_CD_SET(h);
	LDNS_RCODE_SET(h, (uint8_t)(rcode & 0xf));
	ldns_write_uint16(h + LDNS_QDCOUNT_OFF, (uint16_t)w->count[0]);
	ldns_write_uint16(h + LDNS_ANCOUNT_OFF,
	    (uint16_t)w->count[DNS_SECTION_ANSWER]);
	ldns_write_uint16(h + LDNS_NSCOUNT_OFF,
	    (uint16_t)w->count[DNS_SECTION_AUTHORITY]);
	ldns_write_uint16(h + LDNS_ARCOUNT_OFF,
	    (uint16_t)w->count[DNS_SECTION_ADDITIONAL]);
	len = ldns_buffer_position(w->buf);
	tree_drop(w);
	if (len > outsize)
		return ERR_TOOBIG;
	memcpy(out, h, len);
	*outlen = len;
	return 0;
}
