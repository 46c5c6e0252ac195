/*
 * dns_wire.c — the ldns seam: query parsing (the writer is
 * dns_wire_out.c, which needs no ldns).
 *
 * Key decision: parse with ldns_wire2rr, section by section, so we know
 * where each record ends (trailing bytes, a second OPT and OPT placement
 * are then checkable), after our own name guards that make pointer loops
 * impossible. Reference: RFC 1035 §4.1.4, RFC 6891 §6.1, ldns
 * wire2host.c; fault-testing.md §7.2.
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
