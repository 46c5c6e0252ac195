/*
 * fuzz_dns.c — libFuzzer harness over dnsd's answering core.
 *
 * Bytes → dns_query_answer() with a fixed in-memory view → checks that a
 * reply parses with ldns_wire2pkt, keeps the query ID, has QR=1 and stays
 * within the size limit (512 bytes over UDP unless the query advertised a
 * larger EDNS buffer). The first input byte picks transport and config
 * switches (TCP, recursors, truncation, alt domain, only_passing, the
 * answer cache: the query again, filled then hit), the rest is the
 * packet. Build and run: tests/fuzz/build_dns.sh (not part of
 * make check). Reference: fault-testing.md §8 harness 1.
 */
/* our headers (and so <stdbool.h>) before ldns: without it ldns/common.h
 * defines bool as signed char, a different type from the core's _Bool */
#include "dnsd/dns_config.h"
#include "dnsd/dns_query.h"
#include "dnsd/dns_view.h"

#include <ldns/ldns.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S(lit) ((struct dns_str){ (lit), (uint32_t)strlen(lit) })

static struct dns_view *view;
static struct dns_query_ctx *ctx;

static void
setup(void)
{
	static const struct dns_kv meta[] = {
		{ { "env", 3 }, { "prod", 4 } },
		{ { "rfc1035-x", 9 }, { "bare", 4 } },
	};
	static const struct dns_kv tagged[] = {
		{ { "lan_ipv6", 8 }, { "fd00::1", 7 } },
	};
	static const char *nodes[] = { "node1", "node2", "node3" };
	static const char *addrs[] = { "10.0.0.1", "10.0.0.2", "fd00::3" };
	static const char *saddr[] = { "", "192.0.2.10", "db.example.com",
		"2001:db8::10" };
	struct dns_node_spec n;
	struct dns_instance_spec in;
	struct dns_str tags[] = { S("primary"), S("v1") };
	char id[16];
	int i;

	view = dns_view_new();
	ctx = dns_query_ctx_new();
	if (view == NULL || ctx == NULL)
		abort();
	for (i = 0; i < 3; i++) {
		memset(&n, 0, sizeof(n));
		n.name = S(nodes[i]);
		n.address = S(addrs[i]);
		n.meta = meta;
		n.nmeta = i == 0 ? 2 : 0;
		n.tagged = tagged;
		n.ntagged = i == 0 ? 1 : 0;
		if (dns_view_add_node(view, &n) != 0)
			abort();
	}
	for (i = 0; i < 40; i++) {
		memset(&in, 0, sizeof(in));
		snprintf(id, sizeof(id), "i%d", i);
		in.node = S(nodes[i % 3]);
		in.id = S(id);
		in.service = S(i < 30 ? "web" : "api");
		in.address = S(saddr[i % 4]);
		in.port = (uint16_t)(8000 + i);
		in.tags = tags;
		in.ntags = (uint32_t)(i % 3);
		in.health = (enum dns_health)(i % 5 == 0 ? 2 : i % 7 == 0);
		in.weight_passing = 3;
		in.weight_warning = 1;
		if (dns_view_add_instance(view, &in) != 0)
			abort();
	}
}

/* With the answer cache on (its own context): the same query twice
 * (fill, then a hit) gives replies of the length and header a fresh
 * render with the same seed has, and ldns parses them. */
static void
cached_again(const struct dns_config *cfg, struct dns_request *req)
{
	static struct dns_query_ctx *cctx;
	static uint8_t out1[65536], out2[65536];
	ldns_pkt *r = NULL;
	size_t n1, n2;
	int i, rc1, rc2;

	if (cctx == NULL && ((cctx = dns_query_ctx_new()) == NULL ||
	    dns_query_ctx_cache(cctx) != 0))
		abort();
	dns_query_ctx_flush(cctx);
	for (i = 0; i < 2; i++) {
		req->rand_seed += 7;
		n1 = n2 = 0;
		rc1 = dns_query_answer(ctx, cfg, view, req, out1,
		    sizeof(out1), &n1);
		rc2 = dns_query_answer(cctx, cfg, view, req, out2,
		    sizeof(out2), &n2);
		if (rc1 != rc2 || n1 != n2 || memcmp(out1, out2, n1 < 12 ?
		    n1 : 12) != 0)
			abort();
		if (rc2 == DNS_QUERY_REPLY &&
		    ldns_wire2pkt(&r, out2, n2) != LDNS_STATUS_OK)
			abort();
		ldns_pkt_free(r);
		r = NULL;
	}
	dns_query_ctx_flush(cctx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *ns[] = { "node1", "node2" };
	static uint8_t out[65536];
	struct dns_config cfg;
	struct dns_request req;
	size_t outlen = 0, limit = 512;
	ldns_pkt *q = NULL, *r = NULL;
	uint8_t sw;
	int rc;

	if (view == NULL)
		setup();
	if (size < 1)
		return 0;
	sw = data[0];
	dns_config_init(&cfg);
	cfg.recursors = sw & 2;
	cfg.enable_truncate = sw & 4;
	cfg.alt_domain = sw & 8 ? "alt.test." : NULL;
	cfg.only_passing = sw & 16;
	cfg.a_record_limit = sw & 32 ? 2 : 0;
	cfg.ns_servers = ns;
	cfg.n_ns_servers = 2;
	memset(&req, 0, sizeof(req));
	req.wire = data + 1;
	req.len = size - 1;
	req.tcp = sw & 1;
	req.rand_seed = size;
	req.now = 1;
	rc = dns_query_answer(ctx, &cfg, view, &req, out, sizeof(out),
	    &outlen);
	if (rc != DNS_QUERY_REPLY) {
		if (rc != DNS_QUERY_DROP && rc != DNS_QUERY_FORWARD)
			abort(); /* no allocation failures expected here */
		return 0;
	}
	if (outlen < 12 || ldns_wire2pkt(&r, out, outlen) != LDNS_STATUS_OK)
		abort();
	if (req.len < 12 || memcmp(out, req.wire, 2) != 0 || !ldns_pkt_qr(r))
		abort();
	if (ldns_wire2pkt(&q, req.wire, req.len) == LDNS_STATUS_OK &&
	    ldns_pkt_edns(q) && ldns_pkt_edns_udp_size(q) > 512)
		limit = ldns_pkt_edns_udp_size(q);
	if (req.tcp)
		limit = 65535;
	if (outlen > limit)
		abort();
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	if (sw & 64)
		cached_again(&cfg, &req);
	return 0;
}
