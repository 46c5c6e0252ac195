/*
 * test_dns_wire.c — unit tests for dnsd's response writer (dns_wire_out.c).
 *
 * The writer is checked against ldns twice: every response must parse
 * with ldns_wire2pkt into the records we asked for (round trip), and for
 * seeded random record sets it must be byte-identical to what ldns's own
 * compressing writer (ldns_rr2buffer_wire_compress, which dnsd used
 * before) writes for the same records. Also: rollback of a record that
 * does not fit (bytes and compression targets), case-insensitive
 * compression keeping the first spelling, presentation names with
 * escapes and the malformed ones, pointers only below 0x4000 in a large
 * response. Reference: RFC 1035 §4.1.4; ldns host2wire.c.
 */
#include <stdarg.h>
#include <stdbool.h> /* before ldns: see dnsd/dns_wire.c */
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <ldns/ldns.h>

#include "dnsd/dns_wire.h"
#include "err.h"

static struct dns_wire_writer *w;
static uint8_t out[70000];
static size_t outlen;

static int
setup(void **state)
{
	(void)state;
	w = dns_wire_writer_new();
	return w == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	dns_wire_writer_free(w);
	return 0;
}

/* A parsed query for qname/qtype (presentation form), no EDNS. */
static struct dns_wire_query
query(uint8_t *pkt, size_t *len, const char *qname, ldns_rr_type t,
    bool edns)
{
	struct dns_wire_query q;
	ldns_pkt *p = NULL;
	uint8_t *wire = NULL;

	assert_int_equal(ldns_pkt_query_new_frm_str(&p, qname, t,
	    LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
	ldns_pkt_set_id(p, 0x1234);
	if (edns)
		ldns_pkt_set_edns_udp_size(p, 4096);
	assert_int_equal(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
	memcpy(pkt, wire, *len);
	free(wire);
	ldns_pkt_free(p);
	assert_int_equal(dns_wire_parse(pkt, *len, &q), DNS_RCODE_NOERROR);
	return q;
}

static ldns_pkt *
finish_parse(int rcode)
{
	ldns_pkt *p = NULL;

	assert_int_equal(dns_wire_finish(w, rcode, true, false, false, out,
	    sizeof(out), &outlen), 0);
	assert_int_equal(ldns_wire2pkt(&p, out, outlen), LDNS_STATUS_OK);
	return p;
}

/* Walks the name at *pos of pkt: every pointer must point backwards;
 * *maxptr keeps the largest pointer target seen. */
static void
walk_name(const uint8_t *pkt, size_t len, size_t *pos, size_t *maxptr)
{
	for (;;) {
		uint8_t c;

		assert_true(*pos < len);
		c = pkt[*pos];
		if ((c & 0xc0) == 0xc0) {
			size_t t = (size_t)(c & 0x3f) << 8 | pkt[*pos + 1];

			assert_true(t < *pos);
			if (t > *maxptr)
				*maxptr = t;
			*pos += 2;
			return;
		}
		*pos += 1 + (size_t)c;
		if (c == 0)
			return;
	}
}

/* ---- round trips ---- */

static void
test_srv_round_trip(void **state)
{
	uint8_t pkt[512], ip[4] = { 10, 0, 0, 1 };
	char target[64];
	struct dns_wire_query q;
	struct dns_wire_rr rr;
	ldns_pkt *p;
	ldns_rr_list *an, *ad;
	size_t len, i;

	(void)state;
	q = query(pkt, &len, "web.service.consul.", LDNS_RR_TYPE_SRV, true);
	assert_int_equal(dns_wire_begin(w, &q, 4096), 0);
	memset(&rr, 0, sizeof(rr));
	rr.owner.wire = q.qname;
	rr.owner.wire_len = q.qname_len;
	rr.type = DNS_TYPE_SRV;
	rr.ttl = 30;
	rr.srv_priority = 1;
	rr.srv_weight = 5;
	rr.srv_port = 8080;
	rr.name.text = target;
	for (i = 0; i < 5; i++) {
		snprintf(target, sizeof(target), "n%zu.node.dc1.consul.", i);
		assert_int_equal(dns_wire_add(w, DNS_SECTION_ANSWER, &rr), 0);
	}
	for (i = 0; i < 5; i++) {
		struct dns_wire_rr a;

		memset(&a, 0, sizeof(a));
		snprintf(target, sizeof(target), "n%zu.node.dc1.consul.", i);
		a.owner.text = target;
		a.type = DNS_TYPE_A;
		a.ip = ip;
		ip[3] = (uint8_t)(i + 1);
		assert_int_equal(dns_wire_add(w, DNS_SECTION_ADDITIONAL, &a), 0);
	}
	assert_int_equal(dns_wire_count(w, DNS_SECTION_ANSWER), 5);
	p = finish_parse(DNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_id(p), 0x1234);
	assert_true(ldns_pkt_qr(p) && ldns_pkt_aa(p) && ldns_pkt_rd(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), 4096);
	an = ldns_pkt_answer(p);
	ad = ldns_pkt_additional(p);
	assert_int_equal(ldns_rr_list_rr_count(an), 5);
	assert_int_equal(ldns_rr_list_rr_count(ad), 5);
	for (i = 0; i < 5; i++) {
		char want[128], *got;
		ldns_rr *r = ldns_rr_list_rr(an, i);

		snprintf(want, sizeof(want),
		    "web.service.consul.\t30\tIN\tSRV\t1 5 8080 "
		    "n%zu.node.dc1.consul.\n", i);
		got = ldns_rr2str(r);
		assert_string_equal(got, want);
		free(got);
		snprintf(want, sizeof(want),
		    "n%zu.node.dc1.consul.\t0\tIN\tA\t10.0.0.%zu\n", i, i + 1);
		got = ldns_rr2str(ldns_rr_list_rr(ad, i));
		assert_string_equal(got, want);
		free(got);
	}
	ldns_pkt_free(p);
	/* compression happened: 10 names of ~20 bytes in far fewer bytes */
	assert_true(outlen < 12 + 24 + 5 * (2 + 10 + 6 + 21) + 5 * 35 + 11);
}

/* ---- byte identity with ldns's writer, random record sets ---- */

static uint64_t rng = 42;

static unsigned
rnd(unsigned n)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)((rng >> 33) % n);
}

static const char *const pool[] = {
	"web.service.consul.", "WEB.Service.consul.", "n1.node.dc1.consul.",
	"n2.node.dc1.consul.", "node.dc1.consul.", "consul.",
	"c0a80001.addr.dc1.consul.", "a.b.c.d.e.f.g.", "ext.example.com.",
	"example.com.", "x.ext.example.com.", "N1.NODE.DC1.CONSUL.",
	"\\046dot\\.ted.consul.", "ns.consul.", "hostmaster.consul.", ".",
};
#define NPOOL (sizeof(pool) / sizeof(pool[0]))

/* One random record, as our input and as ldns presentation text. */
static void
random_rr(struct dns_wire_rr *rr, uint8_t *ip, char *txtbuf, char *text,
    size_t cap)
{
	static const uint16_t types[] = { DNS_TYPE_A, DNS_TYPE_AAAA,
		DNS_TYPE_CNAME, DNS_TYPE_PTR, DNS_TYPE_NS, DNS_TYPE_SRV,
		DNS_TYPE_SOA, DNS_TYPE_TXT };
	const char *own = pool[rnd(NPOOL)], *n1 = pool[rnd(NPOOL)],
		   *n2 = pool[rnd(NPOOL)];
	size_t i, tl;
	int k;

	memset(rr, 0, sizeof(*rr));
	rr->owner.text = own;
	rr->type = types[rnd(sizeof(types) / sizeof(types[0]))];
	rr->ttl = rnd(1000);
	rr->name.text = n1;
	rr->name2.text = n2;
	rr->ip = ip;
	for (i = 0; i < 16; i++)
		ip[i] = (uint8_t)rnd(256);
	k = snprintf(text, cap, "%s %u IN ", own, rr->ttl);
	switch (rr->type) {
	case DNS_TYPE_A:
		snprintf(text + k, cap - (size_t)k, "A %u.%u.%u.%u", ip[0],
		    ip[1], ip[2], ip[3]);
		break;
	case DNS_TYPE_AAAA:
		snprintf(text + k, cap - (size_t)k,
		    "AAAA %x:%x:%x:%x:%x:%x:%x:%x", ip[0] << 8 | ip[1],
		    ip[2] << 8 | ip[3], ip[4] << 8 | ip[5], ip[6] << 8 | ip[7],
		    ip[8] << 8 | ip[9], ip[10] << 8 | ip[11],
		    ip[12] << 8 | ip[13], ip[14] << 8 | ip[15]);
		break;
	case DNS_TYPE_CNAME:
		snprintf(text + k, cap - (size_t)k, "CNAME %s", n1);
		break;
	case DNS_TYPE_PTR:
		snprintf(text + k, cap - (size_t)k, "PTR %s", n1);
		break;
	case DNS_TYPE_NS:
		snprintf(text + k, cap - (size_t)k, "NS %s", n1);
		break;
	case DNS_TYPE_SRV:
		rr->srv_priority = (uint16_t)rnd(3);
		rr->srv_weight = (uint16_t)rnd(100);
		rr->srv_port = (uint16_t)rnd(65536);
		snprintf(text + k, cap - (size_t)k, "SRV %u %u %u %s",
		    rr->srv_priority, rr->srv_weight, rr->srv_port, n1);
		break;
	case DNS_TYPE_SOA:
		for (i = 0; i < 5; i++)
			rr->soa[i] = rnd(100000);
		snprintf(text + k, cap - (size_t)k, "SOA %s %s %u %u %u %u %u",
		    n1, n2, rr->soa[0], rr->soa[1], rr->soa[2], rr->soa[3],
		    rr->soa[4]);
		break;
	default: /* TXT: up to 600 bytes, so it splits in strings */
		tl = rnd(600);
		for (i = 0; i < tl; i++)
			txtbuf[i] = (char)('a' + rnd(26));
		txtbuf[tl] = '\0';
		rr->txt = txtbuf;
		rr->txt_len = tl;
		k += snprintf(text + k, cap - (size_t)k, "TXT");
		for (i = 0; i < tl || i == 0; i += 255)
			k += snprintf(text + k, cap - (size_t)k, " \"%.*s\"",
			    (int)(tl - i > 255 ? 255 : tl - i), txtbuf + i);
		break;
	}
}

/* Frees ldns's compression tree: nodes and their cloned names. */
static void
free_tree(ldns_rbtree_t *tree)
{
	ldns_rbnode_t *node;

	while ((node = ldns_rbtree_first(tree)) != LDNS_RBTREE_NULL) {
		ldns_rbtree_delete(tree, node->key);
		ldns_rdf_deep_free((ldns_rdf *)(uintptr_t)node->key);
		free(node);
	}
	ldns_rbtree_free(tree);
}

/* ldns's writer for the same question and records, header as ours. */
static size_t
ldns_reference(const struct dns_wire_query *q, ldns_rr **rrs,
    const int *sect, size_t n, uint8_t *dst)
{
	ldns_buffer *b = ldns_buffer_new(65535);
	ldns_rbtree_t *tree = ldns_rbtree_create(ldns_dname_compare_v);
	ldns_rdf *qn = ldns_dname_new_frm_data((uint16_t)q->qname_len,
	    q->qname);
	ldns_rr *qr = ldns_rr_new();
	size_t i, len;

	assert_non_null(b);
	assert_non_null(tree);
	ldns_rr_set_owner(qr, qn);
	ldns_rr_set_type(qr, (ldns_rr_type)q->qtype);
	ldns_rr_set_class(qr, (ldns_rr_class)q->qclass);
	ldns_rr_set_question(qr, true);
	ldns_buffer_write(b, out, 12); /* our header: compared separately */
	assert_int_equal(ldns_rr2buffer_wire_compress(b, qr,
	    LDNS_SECTION_QUESTION, tree), LDNS_STATUS_OK);
	for (i = 0; i < n; i++)
		assert_int_equal(ldns_rr2buffer_wire_compress(b, rrs[i],
		    sect[i], tree), LDNS_STATUS_OK);
	len = ldns_buffer_position(b);
	memcpy(dst, ldns_buffer_begin(b), len);
	ldns_rr_free(qr);
	free_tree(tree);
	ldns_buffer_free(b);
	return len;
}

static void
test_identical_to_ldns(void **state)
{
	static uint8_t ref[70000];
	uint8_t pkt[512], ip[16];
	char text[2048], txtbuf[700];
	int round;

	(void)state;
	for (round = 0; round < 300; round++) {
		struct dns_wire_query q;
		struct dns_wire_rr rr;
		ldns_rr *rrs[12];
		int sect[12], s = DNS_SECTION_ANSWER;
		size_t len, n = 1 + rnd(12), i, rlen;

		q = query(pkt, &len, pool[rnd(NPOOL - 1)], LDNS_RR_TYPE_ANY,
		    false);
		assert_int_equal(dns_wire_begin(w, &q, 65535), 0);
		for (i = 0; i < n; i++) {
			if (rnd(4) == 0 && s < DNS_SECTION_ADDITIONAL)
				s++;
			random_rr(&rr, ip, txtbuf, text, sizeof(text));
			rrs[i] = NULL;
			assert_int_equal(ldns_rr_new_frm_str(&rrs[i], text, 0,
			    NULL, NULL), LDNS_STATUS_OK);
			sect[i] = s;
			assert_int_equal(dns_wire_add(w, s, &rr), 0);
		}
		assert_int_equal(dns_wire_finish(w, 0, true, false, false, out,
		    sizeof(out), &outlen), 0);
		rlen = ldns_reference(&q, rrs, sect, n, ref);
		if (rlen != outlen || memcmp(ref, out, outlen) != 0) {
			for (i = 0; i < n; i++)
				ldns_rr_print(stderr, rrs[i]);
			fail_msg("round %d: %zu bytes, ldns %zu", round, outlen,
			    rlen);
		}
		for (i = 0; i < n; i++)
			ldns_rr_free(rrs[i]);
	}
}

/* ---- rollback, limits ---- */

static void
test_rollback(void **state)
{
	uint8_t pkt[512], ip[4] = { 1, 2, 3, 4 }, before[600];
	struct dns_wire_query q;
	struct dns_wire_rr rr;
	ldns_pkt *p;
	char *s;
	size_t len, blen;

	(void)state;
	q = query(pkt, &len, "q.consul.", LDNS_RR_TYPE_A, false);
	/* header and question: 12 + 10 + 4 = 26; the first record 23 + 14
	 * = 37 (63); the second would be 32 + 14 = 46 (109); "yy.consul."
	 * compressed is 5 + 14 = 19 (82) */
	assert_int_equal(dns_wire_begin(w, &q, 89), 0);
	memset(&rr, 0, sizeof(rr));
	rr.type = DNS_TYPE_A;
	rr.ip = ip;
	rr.owner.text = "a-long-label-here.zz.consul."; /* compresses consul */
	assert_int_equal(dns_wire_add(w, DNS_SECTION_ANSWER, &rr), 0);
	assert_int_equal(dns_wire_finish(w, 0, true, false, false, before,
	    sizeof(before), &blen), 0);
	/* a second record that does not fit leaves no trace, including no
	 * compression target inside the rolled-back bytes */
	rr.owner.text = "another-label-that-is-long.yy.consul.";
	assert_int_equal(dns_wire_add(w, DNS_SECTION_ANSWER, &rr),
	    ERR_TOOBIG);
	assert_int_equal(dns_wire_count(w, DNS_SECTION_ANSWER), 1);
	assert_int_equal(dns_wire_finish(w, 0, true, false, false, out,
	    sizeof(out), &outlen), 0);
	assert_int_equal(outlen, blen);
	assert_memory_equal(out, before, blen);
	/* a record sharing the rolled-back suffix must not point there */
	rr.owner.text = "yy.consul.";
	assert_int_equal(dns_wire_add(w, DNS_SECTION_ADDITIONAL, &rr), 0);
	p = finish_parse(0);
	s = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_additional(p), 0));
	assert_string_equal(s, "yy.consul.\t0\tIN\tA\t1.2.3.4\n");
	free(s);
	ldns_pkt_free(p);
	/* sections out of order, unusable records */
	assert_int_equal(dns_wire_add(w, DNS_SECTION_ANSWER, &rr), ERR_INVAL);
	rr.ip = NULL;
	assert_int_equal(dns_wire_add(w, DNS_SECTION_ADDITIONAL, &rr),
	    ERR_INVAL);
	rr.ip = ip;
	rr.type = 99;
	assert_int_equal(dns_wire_add(w, DNS_SECTION_ADDITIONAL, &rr),
	    ERR_INVAL);
	/* the finish buffer too small */
	assert_int_equal(dns_wire_finish(w, 0, true, false, false, out, 20,
	    &outlen), ERR_TOOBIG);
}

static void
test_case_and_header(void **state)
{
	uint8_t pkt[512], ip[4] = { 9, 9, 9, 9 };
	struct dns_wire_query q;
	struct dns_wire_rr rr;
	size_t len;

	(void)state;
	q = query(pkt, &len, "WeB.service.consul.", LDNS_RR_TYPE_A, false);
	q.cd = true;
	assert_int_equal(dns_wire_begin(w, &q, 512), 0);
	memset(&rr, 0, sizeof(rr));
	rr.type = DNS_TYPE_A;
	rr.ip = ip;
	rr.owner.text = "web.SERVICE.consul.";
	assert_int_equal(dns_wire_add(w, DNS_SECTION_ANSWER, &rr), 0);
	assert_int_equal(dns_wire_finish(w, DNS_RCODE_NXDOMAIN, false, true,
	    true, out, sizeof(out), &outlen), 0);
	/* the owner is one pointer to the question (offset 12) */
	assert_int_equal(outlen, 12 + 24 + 2 + 10 + 4);
	assert_int_equal(out[36], 0xc0);
	assert_int_equal(out[37], 12);
	/* ID, QR, opcode 0, AA=0, TC, RD, RA, CD, rcode, counts */
	assert_int_equal(out[0] << 8 | out[1], 0x1234);
	assert_int_equal(out[2], 0x80 | 0x02 | 0x01);
	assert_int_equal(out[3], 0x80 | 0x10 | 3);
	assert_int_equal(out[5], 1);
	assert_int_equal(out[7], 1);
	assert_int_equal(out[9], 0);
	assert_int_equal(out[11], 0);
}

static void
test_text_names(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* ldns presentation, NULL: rejected */
	} cases[] = {
		{ "a\\.b.c.", "a\\.b.c." },
		{ "\\065bc.", "Abc." },
		{ "no-dot", "no-dot." },
		{ ".", "." },
		{ "", "." },
		{ "a..b.", NULL },
		{ ".a.", NULL },
		{ "\\256.x.", NULL },
		{ "\\06", NULL },
		{ "x\\", NULL },
	};
	char big[400];
	uint8_t pkt[512];
	struct dns_wire_query q;
	struct dns_wire_rr rr;
	size_t len, i;

	(void)state;
	q = query(pkt, &len, "t.consul.", LDNS_RR_TYPE_PTR, false);
	memset(&rr, 0, sizeof(rr));
	rr.type = DNS_TYPE_PTR;
	rr.owner.wire = q.qname;
	rr.owner.wire_len = q.qname_len;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ldns_pkt *p;
		char *s;

		assert_int_equal(dns_wire_begin(w, &q, 512), 0);
		rr.name.text = cases[i].text;
		if (cases[i].want == NULL) {
			assert_int_equal(dns_wire_add(w, DNS_SECTION_ANSWER,
			    &rr), ERR_INVAL);
			continue;
		}
		assert_int_equal(dns_wire_add(w, DNS_SECTION_ANSWER, &rr), 0);
		p = finish_parse(0);
		s = ldns_rdf2str(ldns_rr_rdf(
		    ldns_rr_list_rr(ldns_pkt_answer(p), 0), 0));
		assert_string_equal(s, cases[i].want);
		free(s);
		ldns_pkt_free(p);
	}
	/* a 64-byte label; a name over 255 bytes */
	memset(big, 'a', 64);
	strcpy(big + 64, ".x.");
	rr.name.text = big;
	assert_int_equal(dns_wire_begin(w, &q, 512), 0);
	assert_int_equal(dns_wire_add(w, DNS_SECTION_ANSWER, &rr), ERR_INVAL);
	for (i = 0; i < 64; i++)
		memcpy(big + 4 * i, "abc.", 4);
	big[256] = '\0';
	assert_int_equal(dns_wire_add(w, DNS_SECTION_ANSWER, &rr), ERR_INVAL);
	big[252] = '\0'; /* 63 labels of 3: 253 bytes with the root */
	assert_int_equal(dns_wire_add(w, DNS_SECTION_ANSWER, &rr), 0);
	/* a malformed wire name */
	rr.name.text = NULL;
	rr.owner.wire_len = q.qname_len - 1;
	assert_int_equal(dns_wire_add(w, DNS_SECTION_ANSWER, &rr), ERR_INVAL);
}

/* A 60 KiB TCP-size response: every pointer targets a name below 0x4000
 * and ldns reads it all back. */
static void
test_large_response(void **state)
{
	uint8_t pkt[512], ip[4] = { 10, 1, 0, 0 };
	char owner[64];
	struct dns_wire_query q;
	struct dns_wire_rr rr;
	ldns_pkt *p;
	size_t len, i, pos, maxptr = 0, n;
	int rc;

	(void)state;
	q = query(pkt, &len, "big.service.consul.", LDNS_RR_TYPE_A, false);
	assert_int_equal(dns_wire_begin(w, &q, 65535), 0);
	memset(&rr, 0, sizeof(rr));
	rr.type = DNS_TYPE_A;
	rr.ip = ip;
	rr.owner.text = owner;
	for (i = 0;; i++) {
		snprintf(owner, sizeof(owner), "host-%05zu.node.dc1.consul.",
		    i);
		ip[2] = (uint8_t)(i >> 8);
		ip[3] = (uint8_t)i;
		if ((rc = dns_wire_add(w, DNS_SECTION_ANSWER, &rr)) != 0)
			break;
	}
	assert_int_equal(rc, ERR_TOOBIG);
	n = i;
	assert_true(n > 2000);
	p = finish_parse(0);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_answer(p)), n);
	ldns_pkt_free(p);
	assert_true(outlen <= 65535);
	pos = 12;
	walk_name(out, outlen, &pos, &maxptr);
	pos += 4;
	for (i = 0; i < n; i++) {
		walk_name(out, outlen, &pos, &maxptr);
		pos += 8;
		pos += 2 + (size_t)(out[pos] << 8 | out[pos + 1]);
	}
	assert_int_equal(pos, outlen);
	assert_true(maxptr < 0x4000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_round_trip),
		cmocka_unit_test(test_identical_to_ldns),
		cmocka_unit_test(test_rollback),
		cmocka_unit_test(test_case_and_header),
		cmocka_unit_test(test_text_names),
		cmocka_unit_test(test_large_response),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
