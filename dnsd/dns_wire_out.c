/*
 * dns_wire_out.c — dnsd's response writer: records straight into one
 * reusable buffer, with RFC 1035 name compression (see dns_wire.h).
 *
 * Key decisions: (1) no ldns here and no allocation per response: ldns's
 * writer (a red-black tree of cloned names, a label clone and a
 * left-chop per suffix) was most of the CPU of an SRV answer; (2) the
 * compression table is a flat array of (hash of the lowercased suffix,
 * offset), in write order, searched longest suffix first and verified
 * byte by byte against the buffer (following its pointers), so a hash
 * collision only costs a comparison; rolling back a record that did not
 * fit truncates the buffer and pops the entries past it; (3) the same
 * choices as ldns, so responses are byte-identical to what it wrote:
 * owner names and the names in NS/CNAME/PTR/SOA rdata are compressed and
 * become pointer targets, SRV targets are written whole and are not
 * targets (RFC 2782), the earliest occurrence of a suffix is the target.
 * Names only become targets below offset 0x4000 (14-bit pointers).
 * Reference: RFC 1035 §4.1.4, RFC 2782, RFC 6891 §6.1; NSD compression
 * tables; ldns host2wire.c (the behaviour kept).
 */
#include "dnsd/dns_wire.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

#define OUT_HDR 12u
#define OUT_NAME_MAX 255u
#define OUT_LABELS_MAX 128u
#define OUT_PTR_MAX 0x3fffu
#define OUT_TXT_MAX 1275u /* 5 character-strings */
#define OUT_OPT_LEN 11u
#define OUT_CMP_MAX 512u  /* compression targets per response */
#define OUT_RR_MAX 2400u  /* largest record: SOA 2 x 255 names + owner,
                           * TXT 1275 + 5 length bytes + owner */

struct out_cmp {
	uint32_t hash;
	uint16_t off;
};

struct dns_wire_writer {
	const struct dns_wire_query *q;
	size_t len;
	size_t limit; /* for records, OPT already subtracted */
	unsigned count[4];
	int last_section;
	size_t ncmp;
	struct out_cmp cmp[OUT_CMP_MAX];
	uint8_t buf[DNS_WIRE_MAX + OUT_RR_MAX + OUT_OPT_LEN];
};

/* A name in wire form, split into labels: off[i] is where label i
 * starts, hash[i] identifies the suffix starting there. */
struct out_name {
	const uint8_t *p;
	size_t len; /* including the root byte */
	unsigned n; /* labels, root excluded */
	uint16_t off[OUT_LABELS_MAX];
	uint32_t hash[OUT_LABELS_MAX];
};

static uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Splits the uncompressed wire name p (len bytes) into labels and
 * hashes its suffixes (FNV-1a over lowercased bytes, right to left).
 * false: not a well-formed name of exactly len bytes. */
static bool
name_split(const uint8_t *p, size_t len, struct out_name *nm)
{
	size_t pos = 0;
	uint32_t h;
	unsigned i;

	nm->p = p;
	nm->n = 0;
	if (p == NULL || len == 0 || len > OUT_NAME_MAX)
		return false;
	while (p[pos] != 0) {
		if (p[pos] > 63 || pos + 1 + p[pos] >= len ||
		    nm->n == OUT_LABELS_MAX)
			return false;
		nm->off[nm->n++] = (uint16_t)pos;
		pos += 1 + (size_t)p[pos];
	}
	if (pos + 1 != len)
		return false;
	nm->len = len;
	h = 2166136261u;
	for (i = nm->n; i-- > 0;) {
		const uint8_t *l = p + nm->off[i];
		unsigned k;

		for (k = 0; k <= l[0]; k++)
			h = (h ^ lower(l[k])) * 16777619u;
		nm->hash[i] = h;
	}
	return true;
}

/* Presentation form ("a.b.c.", \DDD and \X escapes; the trailing dot is
 * optional, "." and "" are the root) into wire form in dst (at least
 * OUT_NAME_MAX bytes). Returns the wire length, or 0 when malformed. */
static size_t
name_from_text(const char *s, uint8_t *dst)
{
	size_t len = 0, lab = 0;
	int n = 0; /* bytes in the current label */

	if (s[0] == '.' && s[1] == '\0')
		s++;
	while (*s != '\0') {
		uint8_t c = (uint8_t)*s++;

		if (c == '.') {
			if (n == 0)
				return 0; /* empty label */
			dst[lab] = (uint8_t)n;
			n = 0;
			continue;
		}
		if (c == '\\') {
			if (*s >= '0' && *s <= '9') {
				int v = 0, k;

				for (k = 0; k < 3; k++, s++) {
					if (*s < '0' || *s > '9')
						return 0;
					v = v * 10 + (*s - '0');
				}
				if (v > 255)
					return 0;
				c = (uint8_t)v;
			} else if (*s != '\0')
				c = (uint8_t)*s++;
			else
				return 0;
		}
		if (n == 0) {
			lab = len++;
			if (len >= OUT_NAME_MAX)
				return 0;
		}
		if (++n > 63 || len + 1 >= OUT_NAME_MAX)
			return 0;
		dst[len++] = c;
	}
	if (n > 0)
		dst[lab] = (uint8_t)n;
	dst[len++] = 0;
	return len;
}

/* Whether the name at buffer offset off (may hold pointers, all
 * backwards: we wrote them) equals the suffix s of a split name. */
static bool
name_eq_at(const struct dns_wire_writer *w, size_t off, const uint8_t *s)
{
	const uint8_t *b = w->buf;
	unsigned hops = 0;

	for (;;) {
		uint8_t c = b[off];
		unsigned k;

		if ((c & 0xc0) == 0xc0) {
			if (++hops > OUT_LABELS_MAX)
				return false;
			off = (size_t)(c & 0x3f) << 8 | b[off + 1];
			continue;
		}
		if (c != *s)
			return false;
		if (c == 0)
			return true;
		for (k = 1; k <= c; k++)
			if (lower(b[off + k]) != lower(s[k]))
				return false;
		off += 1 + (size_t)c;
		s += 1 + (size_t)c;
	}
}

static void
put16(struct dns_wire_writer *w, uint16_t v)
{
	w->buf[w->len++] = (uint8_t)(v >> 8);
	w->buf[w->len++] = (uint8_t)v;
}

static void
put32(struct dns_wire_writer *w, uint32_t v)
{
	put16(w, (uint16_t)(v >> 16));
	put16(w, (uint16_t)v);
}

/* Writes a split name. compress: point at the longest suffix already
 * written as a target, and make the labels written here targets. */
static void
put_name(struct dns_wire_writer *w, const struct out_name *nm, bool compress)
{
	unsigned i, hit = nm->n;
	size_t j, ptr = 0;

	if (!compress) {
		memcpy(w->buf + w->len, nm->p, nm->len);
		w->len += nm->len;
		return;
	}
	for (i = 0; i < nm->n && hit == nm->n; i++)
		for (j = 0; j < w->ncmp; j++)
			if (w->cmp[j].hash == nm->hash[i] &&
			    name_eq_at(w, w->cmp[j].off, nm->p + nm->off[i])) {
				hit = i;
				ptr = w->cmp[j].off;
				break;
			}
	for (i = 0; i < hit; i++) {
		const uint8_t *l = nm->p + nm->off[i];

		if (w->len <= OUT_PTR_MAX && w->ncmp < OUT_CMP_MAX) {
			w->cmp[w->ncmp].hash = nm->hash[i];
			w->cmp[w->ncmp++].off = (uint16_t)w->len;
		}
		memcpy(w->buf + w->len, l, (size_t)l[0] + 1);
		w->len += (size_t)l[0] + 1;
	}
	if (hit < nm->n)
		put16(w, (uint16_t)(0xc000 | ptr));
	else
		w->buf[w->len++] = 0;
}

/* Resolves a writer name (wire or text; text goes to scratch) and
 * splits it. false: unusable. */
static bool
name_get(const struct dns_wire_name *n, uint8_t *scratch,
    struct out_name *nm)
{
	size_t len;

	if (n->wire != NULL)
		return name_split(n->wire, n->wire_len, nm);
	if (n->text == NULL || (len = name_from_text(n->text, scratch)) == 0)
		return false;
	return name_split(scratch, len, nm);
}

struct dns_wire_writer *
dns_wire_writer_new(void)
{
	return calloc(1, sizeof(struct dns_wire_writer));
}

void
dns_wire_writer_free(struct dns_wire_writer *w)
{
	free(w);
}

int
dns_wire_begin(struct dns_wire_writer *w, const struct dns_wire_query *q,
    size_t limit)
{
	struct out_name nm;

	memset(w->count, 0, sizeof(w->count));
	w->last_section = 0;
	w->ncmp = 0;
	w->q = q;
	if (limit > DNS_WIRE_MAX)
		limit = DNS_WIRE_MAX;
	if (q->edns)
		limit = limit > OUT_OPT_LEN + OUT_HDR ? limit - OUT_OPT_LEN :
		    OUT_HDR;
	if (limit < OUT_HDR)
		limit = OUT_HDR;
	w->limit = limit;
	memset(w->buf, 0, OUT_HDR);
	w->len = OUT_HDR;
	if (!q->has_question)
		return 0;
	if (!name_split(q->qname, q->qname_len, &nm))
		return ERR_INVAL; /* dns_wire_parse() never lets one by */
	put_name(w, &nm, true);
	put16(w, q->qtype);
	put16(w, q->qclass);
	w->count[0] = 1;
	return 0;
}

static int
put_txt(struct dns_wire_writer *w, const char *txt, size_t len)
{
	size_t off = 0;

	if (len > OUT_TXT_MAX)
		return ERR_INVAL;
	do {
		size_t chunk = len - off > 255 ? 255 : len - off;

		w->buf[w->len++] = (uint8_t)chunk;
		memcpy(w->buf + w->len, txt + off, chunk);
		w->len += chunk;
		off += chunk;
	} while (off < len);
	return 0;
}

/* The rdata of in after the RDLENGTH field. */
static int
put_rdata(struct dns_wire_writer *w, const struct dns_wire_rr *in)
{
	uint8_t s1[OUT_NAME_MAX], s2[OUT_NAME_MAX];
	struct out_name a, b;
	int k;

	switch (in->type) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA:
		if (in->ip == NULL)
			return ERR_INVAL;
		k = in->type == DNS_TYPE_A ? 4 : 16;
		memcpy(w->buf + w->len, in->ip, (size_t)k);
		w->len += (size_t)k;
		return 0;
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
	case DNS_TYPE_NS:
		if (!name_get(&in->name, s1, &a))
			return ERR_INVAL;
		put_name(w, &a, true);
		return 0;
	case DNS_TYPE_TXT:
		return put_txt(w, in->txt ? in->txt : "", in->txt_len);
	case DNS_TYPE_SRV:
		if (!name_get(&in->name, s1, &a))
			return ERR_INVAL;
		put16(w, in->srv_priority);
		put16(w, in->srv_weight);
		put16(w, in->srv_port);
		put_name(w, &a, false);
		return 0;
	case DNS_TYPE_SOA:
		if (!name_get(&in->name, s1, &a) ||
		    !name_get(&in->name2, s2, &b))
			return ERR_INVAL;
		put_name(w, &a, true);
		put_name(w, &b, true);
		for (k = 0; k < 5; k++)
			put32(w, in->soa[k]);
		return 0;
	default:
		return ERR_INVAL;
	}
}

/* Forgets everything written from mark on. */
static void
rollback(struct dns_wire_writer *w, size_t mark)
{
	w->len = mark;
	while (w->ncmp > 0 && w->cmp[w->ncmp - 1].off >= mark)
		w->ncmp--;
}

int
dns_wire_add(struct dns_wire_writer *w, enum dns_section section,
    const struct dns_wire_rr *in)
{
	uint8_t scratch[OUT_NAME_MAX];
	struct out_name owner;
	size_t mark = w->len, rdlen_at;
	int rc;

	if ((int)section < w->last_section || section < DNS_SECTION_ANSWER ||
	    section > DNS_SECTION_ADDITIONAL)
		return ERR_INVAL;
	w->last_section = (int)section;
	if (!name_get(&in->owner, scratch, &owner))
		return ERR_INVAL;
	if (mark > w->limit)
		return ERR_TOOBIG; /* cannot happen: every add checks */
	put_name(w, &owner, true);
	put16(w, in->type);
	put16(w, DNS_CLASS_IN);
	put32(w, in->ttl);
	rdlen_at = w->len;
	w->len += 2;
	if ((rc = put_rdata(w, in)) != 0) {
		rollback(w, mark);
		return rc;
	}
	w->buf[rdlen_at] = (uint8_t)((w->len - rdlen_at - 2) >> 8);
	w->buf[rdlen_at + 1] = (uint8_t)(w->len - rdlen_at - 2);
	if (w->len > w->limit) {
		rollback(w, mark);
		return ERR_TOOBIG;
	}
	w->count[section]++;
	return 0;
}

unsigned
dns_wire_count(const struct dns_wire_writer *w, enum dns_section section)
{
	return w->count[section];
}

/* The OPT pseudo-record: root owner, our UDP size, extended rcode. */
static void
put_opt(struct dns_wire_writer *w, int rcode)
{
	w->buf[w->len++] = 0;
	put16(w, DNS_TYPE_OPT);
	put16(w, (uint16_t)DNS_WIRE_EDNS_SIZE);
	put32(w, (uint32_t)((rcode >> 4) & 0xff) << 24); /* version 0, DO 0 */
	put16(w, 0);
	w->count[DNS_SECTION_ADDITIONAL]++;
}

int
dns_wire_finish(struct dns_wire_writer *w, int rcode, bool aa, bool tc,
    bool ra, uint8_t *out, size_t outsize, size_t *outlen)
{
	const struct dns_wire_query *q = w->q;
	uint8_t *h = w->buf;

	*outlen = 0;
	if (q->edns)
		put_opt(w, rcode);
	h[0] = (uint8_t)(q->id >> 8);
	h[1] = (uint8_t)q->id;
	h[2] = (uint8_t)(0x80 | (q->opcode & 0xf) << 3 | (aa ? 0x04 : 0) |
	    (tc ? 0x02 : 0) | (q->rd ? 0x01 : 0));
	h[3] = (uint8_t)((ra ? 0x80 : 0) | (q->cd ? 0x10 : 0) | (rcode & 0xf));
	h[4] = 0;
	h[5] = (uint8_t)w->count[0];
	h[6] = (uint8_t)(w->count[DNS_SECTION_ANSWER] >> 8);
	h[7] = (uint8_t)w->count[DNS_SECTION_ANSWER];
	h[8] = (uint8_t)(w->count[DNS_SECTION_AUTHORITY] >> 8);
	h[9] = (uint8_t)w->count[DNS_SECTION_AUTHORITY];
	h[10] = (uint8_t)(w->count[DNS_SECTION_ADDITIONAL] >> 8);
	h[11] = (uint8_t)w->count[DNS_SECTION_ADDITIONAL];
	if (w->len > outsize)
		return ERR_TOOBIG;
	memcpy(out, h, w->len);
	*outlen = w->len;
	return 0;
}
