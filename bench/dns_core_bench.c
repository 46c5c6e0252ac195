/*
 * dns_core_bench.c — answers per second of dnsd's pure core
 * (dns_query_answer) on one core, no I/O.
 *
 * A view of 3 nodes and a "web" service with 10 passing instances (node1
 * has two meta keys, so answers carry TXT in Additional); queries
 * web.service.consul A and SRV, without EDNS (3 answers, the UDP default)
 * and with EDNS 4096 (all 10), in a tight loop with a new shuffle seed per
 * query, rendered each time and then with dnsd's answer cache on;
 * timed in process CPU time (the machine is shared).
 * Usage: build/dns_core_bench [iterations] (default 500000).
 * The whole-daemon target is >= 60 % of NSD's ~170k qps on one core.
 */
/* our headers (and so <stdbool.h>) before ldns, see dns_wire.c */
#include "dnsd/dns_config.h"
#include "dnsd/dns_query.h"
#include "dnsd/dns_view.h"

#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S(lit) ((struct dns_str){ (lit), (uint32_t)strlen(lit) })

static struct dns_view *
fixture(void)
{
	static const struct dns_kv meta[] = {
		{ { "env", 3 }, { "prod", 4 } },
		{ { "rack", 4 }, { "r12", 3 } },
	};
	static const char *names[] = { "node1", "node2", "node3" };
	static const char *addrs[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3" };
	struct dns_view *v = dns_view_new();
	struct dns_node_spec n;
	struct dns_instance_spec in;
	char id[16];
	int i;

	for (i = 0; i < 3; i++) {
		memset(&n, 0, sizeof(n));
		n.name = S(names[i]);
		n.address = S(addrs[i]);
		if (i == 0) {
			n.meta = meta;
			n.nmeta = 2;
		}
		if (dns_view_add_node(v, &n) != 0)
			exit(1);
	}
	for (i = 0; i < 10; i++) {
		memset(&in, 0, sizeof(in));
		snprintf(id, sizeof(id), "web-%d", i);
		in.node = S(names[i % 3]);
		in.id = S(id);
		in.service = S("web");
		in.port = (uint16_t)(8000 + i);
		in.weight_passing = in.weight_warning = 1;
		if (dns_view_add_instance(v, &in) != 0)
			exit(1);
	}
	return v;
}

static size_t
query(uint8_t *buf, ldns_rr_type type, bool edns)
{
	ldns_pkt *p = NULL;
	uint8_t *w = NULL;
	size_t len = 0;

	if (ldns_pkt_query_new_frm_str(&p, "web.service.consul.", type,
	    LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK)
		exit(1);
	if (edns)
		ldns_pkt_set_edns_udp_size(p, 4096);
	if (ldns_pkt2wire(&w, p, &len) != LDNS_STATUS_OK)
		exit(1);
	memcpy(buf, w, len);
	free(w);
	ldns_pkt_free(p);
	return len;
}

static void
run(const char *label, struct dns_query_ctx *ctx, const struct dns_config *cfg,
    const struct dns_view *v, ldns_rr_type type, bool edns, long iters)
{
	static uint8_t out[65536];
	uint8_t q[512];
	struct dns_request req;
	struct timespec t0, t1;
	size_t outlen = 0;
	ldns_pkt *p = NULL;
	double s;
	long i;

	memset(&req, 0, sizeof(req));
	req.wire = q;
	req.len = query(q, type, edns);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (i = 0; i < iters; i++) {
		req.rand_seed = (uint64_t)i;
		if (dns_query_answer(ctx, cfg, v, &req, out, sizeof(out),
		    &outlen) != DNS_QUERY_REPLY)
			exit(1);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (ldns_wire2pkt(&p, out, outlen) != LDNS_STATUS_OK)
		exit(1);
	printf("%-28s %9.0f answers/s (%.2f us each, %zu bytes, %zu RRs)\n",
	    label, iters / s, s / iters * 1e6, outlen,
	    (size_t)ldns_pkt_ancount(p));
	ldns_pkt_free(p);
}

int
main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 500000;
	struct dns_config cfg;
	struct dns_view *v = fixture();
	struct dns_query_ctx *ctx = dns_query_ctx_new();
	struct dns_query_ctx *cctx = dns_query_ctx_new();

	if (ctx == NULL || cctx == NULL)
		exit(1);
	dns_config_init(&cfg);
	run("A, no EDNS (3 answers)", ctx, &cfg, v, LDNS_RR_TYPE_A, false,
	    iters);
	run("A, EDNS 4096 (10 answers)", ctx, &cfg, v, LDNS_RR_TYPE_A, true,
	    iters);
	run("SRV, no EDNS (3 answers)", ctx, &cfg, v, LDNS_RR_TYPE_SRV, false,
	    iters);
	run("SRV, EDNS 4096 (10 answers)", ctx, &cfg, v, LDNS_RR_TYPE_SRV,
	    true, iters);
	/* dnsd's setting: the answer cache on (only the EDNS answers are
	 * complete, so only they are reused) */
	if (dns_query_ctx_cache(cctx) != 0)
		exit(1);
	run("cached: A, no EDNS", cctx, &cfg, v, LDNS_RR_TYPE_A, false,
	    iters);
	run("cached: A, EDNS 4096", cctx, &cfg, v, LDNS_RR_TYPE_A, true,
	    iters);
	run("cached: SRV, no EDNS", cctx, &cfg, v, LDNS_RR_TYPE_SRV, false,
	    iters);
	run("cached: SRV, EDNS 4096", cctx, &cfg, v, LDNS_RR_TYPE_SRV, true,
	    iters);
	dns_query_ctx_free(cctx);
	dns_query_ctx_free(ctx);
	dns_view_free(v);
	return 0;
}
