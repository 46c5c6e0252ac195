/*
 * test_dns.c — unit tests for dnsd's answering core: the view, name
 * classification, service_ttl matching, and dns_query_answer() end to end
 * on packets built and parsed with ldns.
 *
 * Fixture: 3 nodes (node1 with meta and an IPv6 tagged address), a "web"
 * service with 10 instances (2 warning, 1 critical, tags primary/secondary),
 * "api" with its own IPv4, "v6svc" with its own IPv6, "ext" whose address
 * is a hostname, "dead" with only critical instances, and "big" with 200
 * instances of their own addresses. Every reply is parsed with
 * ldns_wire2pkt and checked for ID, QR and the question echoed byte for
 * byte. Reference: consul-api.md §5, §16.21; fault-testing.md §7.2.
 */
#include <stdarg.h>
#include <stdbool.h> /* before ldns: see dnsd/dns_wire.c */
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <ldns/ldns.h>

#include "dnsd/dns_config.h"
#include "dnsd/dns_name.h"
#include "dnsd/dns_query.h"
#include "dnsd/dns_view.h"
#include "dnsd/dns_wire.h"
#include "err.h"

#define S(lit) ((struct dns_str){ (lit), (uint32_t)strlen(lit) })

static struct dns_view *view;
static struct dns_config cfg;
static struct dns_query_ctx *ctx;
static uint8_t out[70000];
static size_t outlen;
static uint8_t qbuf[70000];
static size_t qlen;

static const char *ns_servers[] = { "node1" };
static struct dns_ttl_rule ttl_rules[] = {
	{ "*", 5 }, { "web*", 10 }, { "web", 15 }, { "ap*", 20 },
	{ "api*", 25 },
};

/* ---- fixture ---- */

static void
add_node(const char *name, const char *addr, const struct dns_kv *tagged,
    uint32_t nt, const struct dns_kv *meta, uint32_t nm)
{
	struct dns_node_spec n;

	memset(&n, 0, sizeof(n));
	n.name = S(name);
	n.address = S(addr);
	n.datacenter = S("dc1");
	n.tagged = tagged;
	n.ntagged = nt;
	n.meta = meta;
	n.nmeta = nm;
	assert_int_equal(dns_view_add_node(view, &n), 0);
}

static void
add_inst(const char *node, const char *id, const char *svc,
    const char *addr, uint16_t port, enum dns_health h,
    const struct dns_str *tags, uint32_t ntags)
{
	struct dns_instance_spec in;

	memset(&in, 0, sizeof(in));
	in.node = S(node);
	in.id = S(id);
	in.service = S(svc);
	in.address = S(addr);
	in.port = port;
	in.health = h;
	in.tags = tags;
	in.ntags = ntags;
	in.weight_passing = 10;
	in.weight_warning = 1;
	assert_int_equal(dns_view_add_instance(view, &in), 0);
}

static int
setup(void **state)
{
	static const struct dns_kv meta1[] = {
		{ { "env", 3 }, { "prod", 4 } },
		{ { "rfc1035-note", 12 }, { "hello", 5 } },
	};
	static const struct dns_kv tag1[] = {
		{ { "lan_ipv6", 8 }, { "fd00::1", 7 } },
	};
	struct dns_str prim[] = { S("primary"), S("v1") };
	struct dns_str sec[] = { S("Secondary"), S("v1") };
	char id[32], ip[32];
	int i;

	(void)state;
	dns_config_init(&cfg);
	cfg.ns_servers = ns_servers;
	cfg.n_ns_servers = 1;
	view = dns_view_new();
	ctx = dns_query_ctx_new();
	assert_non_null(view);
	assert_non_null(ctx);
	add_node("node1", "10.0.0.1", tag1, 1, meta1, 2);
	add_node("node2", "10.0.0.2", NULL, 0, NULL, 0);
	add_node("node3", "10.0.0.3", NULL, 0, NULL, 0);
	for (i = 0; i < 10; i++) {
		enum dns_health h = DNS_HEALTH_PASSING;

		if (i == 5 || i == 7)
			h = DNS_HEALTH_WARNING;
		if (i == 8)
			h = DNS_HEALTH_CRITICAL;
		snprintf(id, sizeof(id), "web-%d", i);
		add_inst(i % 3 == 0 ? "node1" : i % 3 == 1 ? "node2" : "node3",
		    id, "web", "", (uint16_t)(8000 + i), h,
		    i % 2 ? sec : prim, 2);
	}
	add_inst("node2", "api-1", "api", "192.0.2.10", 9090,
	    DNS_HEALTH_PASSING, NULL, 0);
	add_inst("node1", "v6-1", "v6svc", "2001:db8::10", 7070,
	    DNS_HEALTH_PASSING, NULL, 0);
	add_inst("node3", "ext-1", "ext", "db.example.com", 5432,
	    DNS_HEALTH_PASSING, NULL, 0);
	add_inst("node3", "dead-1", "dead", "", 1, DNS_HEALTH_CRITICAL, NULL,
	    0);
	for (i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "big-%d", i);
		snprintf(ip, sizeof(ip), "10.2.%d.%d", i / 250, i % 250 + 1);
		add_inst("node2", id, "big", ip, (uint16_t)(1000 + i),
		    DNS_HEALTH_PASSING, NULL, 0);
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	dns_view_free(view);
	dns_query_ctx_free(ctx);
	return 0;
}

/* Restores the default config between tests. */
static int
reset_cfg(void **state)
{
	(void)state;
	dns_config_init(&cfg);
	cfg.ns_servers = ns_servers;
	cfg.n_ns_servers = 1;
	return 0;
}

/* ---- query helpers ---- */

struct qopt {
	bool tcp;
	int edns; /* 0 none, else the advertised size (use 1 for "0") */
	uint8_t edns_version;
	uint64_t seed;
	uint16_t qclass;
};

static void
build_query(const char *name, uint16_t type, const struct qopt *o)
{
	ldns_pkt *p = NULL;
	uint8_t *w = NULL;

	assert_int_equal(ldns_pkt_query_new_frm_str(&p, name, type,
	    o && o->qclass ? o->qclass : LDNS_RR_CLASS_IN, LDNS_RD),
	    LDNS_STATUS_OK);
	ldns_pkt_set_id(p, 0x1234);
	if (o && o->edns) {
		ldns_pkt_set_edns_udp_size(p, (uint16_t)(o->edns == 1 ? 0 :
		    o->edns));
		ldns_pkt_set_edns_version(p, o->edns_version);
		ldns_pkt_set_edns_do(p, o->edns == 1); /* force OPT */
	}
	assert_int_equal(ldns_pkt2wire(&w, p, &qlen), LDNS_STATUS_OK);
	memcpy(qbuf, w, qlen);
	free(w);
	ldns_pkt_free(p);
}

static int
run(const struct qopt *o)
{
	struct dns_request req;

	memset(&req, 0, sizeof(req));
	req.wire = qbuf;
	req.len = qlen;
	req.tcp = o && o->tcp;
	req.rand_seed = o ? o->seed : 0;
	req.now = 1700000000;
	return dns_query_answer(ctx, &cfg, view, &req, out, sizeof(out),
	    &outlen);
}

/* Checks the invariants of every reply and returns it parsed. */
static ldns_pkt *
reply_check(bool echo)
{
	ldns_pkt *p = NULL;
	size_t qn;

	assert_int_equal(ldns_wire2pkt(&p, out, outlen), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(p), LDNS_ID_WIRE(qbuf));
	assert_true(ldns_pkt_qr(p));
	if (echo) {
		assert_int_equal(ldns_pkt_qdcount(p), 1);
		/* the question bytes, case included */
		qn = 0;
		while (qbuf[12 + qn] != 0)
			qn += qbuf[12 + qn] + 1u;
		qn += 5;
		assert_memory_equal(out + 12, qbuf + 12, qn);
	}
	return p;
}

static ldns_pkt *
ask(const char *name, uint16_t type, const struct qopt *o)
{
	build_query(name, type, o);
	assert_int_equal(run(o), DNS_QUERY_REPLY);
	return reply_check(true);
}

static size_t
count_type(const ldns_rr_list *l, ldns_rr_type t)
{
	size_t i, n = 0;

	for (i = 0; i < ldns_rr_list_rr_count(l); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) == t)
			n++;
	return n;
}

/* The presentation form of rdata field f of rr i in list l (static). */
static const char *
rdf_str(const ldns_rr_list *l, size_t i, size_t f)
{
	static char buf[512];
	char *s = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(l, i), f));

	snprintf(buf, sizeof(buf), "%s", s ? s : "");
	free(s);
	return buf;
}

static bool
has_rdata(const ldns_rr_list *l, ldns_rr_type t, size_t f, const char *want)
{
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(l); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) == t &&
		    strcasecmp(rdf_str(l, i, f), want) == 0)
			return true;
	return false;
}

static bool
has_owner(const ldns_rr_list *l, ldns_rr_type t, const char *owner)
{
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		char *s;
		bool eq;

		if (ldns_rr_get_type(rr) != t)
			continue;
		s = ldns_rdf2str(ldns_rr_owner(rr));
		eq = strcasecmp(s, owner) == 0;
		free(s);
		if (eq)
			return true;
	}
	return false;
}

static void
assert_soa_authority(ldns_pkt *p, const char *zone)
{
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_authority(p)), 1);
	assert_int_equal(count_type(ldns_pkt_authority(p), LDNS_RR_TYPE_SOA),
	    1);
	assert_true(has_owner(ldns_pkt_authority(p), LDNS_RR_TYPE_SOA, zone));
}

/* ---- view, names, config ---- */

static void
test_view_tables(void **state)
{
	struct dns_view *v = dns_view_new();
	struct dns_node_spec n;
	struct dns_instance_spec in;
	const struct dns_view_service *s;
	struct dns_addr a;

	(void)state;
	memset(&n, 0, sizeof(n));
	n.name = S("Alpha");
	n.address = S("10.9.9.9");
	assert_int_equal(dns_view_add_node(v, &n), 0);
	assert_int_equal(dns_view_add_node(v, &n), ERR_EXISTS);
	n.name = S("ALPHA");
	assert_int_equal(dns_view_add_node(v, &n), ERR_EXISTS);
	n.name = S("beta");
	n.address = S("not an address!");
	assert_int_equal(dns_view_add_node(v, &n), ERR_INVAL);
	n.address = S("");
	assert_int_equal(dns_view_add_node(v, &n), ERR_INVAL);
	assert_non_null(dns_view_find_node(v, "alpha", 5));
	assert_null(dns_view_find_node(v, "alph", 4));

	memset(&in, 0, sizeof(in));
	in.node = S("nope");
	in.id = S("x");
	in.service = S("Svc");
	assert_int_equal(dns_view_add_instance(v, &in), ERR_NOTFOUND);
	in.node = S("alpha");
	assert_int_equal(dns_view_add_instance(v, &in), 0);
	assert_int_equal(dns_view_add_instance(v, &in), ERR_EXISTS);
	in.id = S("y");
	in.address = S("10.8.8.8");
	assert_int_equal(dns_view_add_instance(v, &in), 0);
	s = dns_view_find_service(v, "SVC", 3);
	assert_non_null(s);
	assert_int_equal(s->n, 2);
	assert_int_equal(dns_view_instance_count(v), 2);
	assert_int_equal(dns_view_parse_ip(S("10.8.8.8"), &a), 0);
	assert_non_null(dns_view_find_addr(v, &a));
	assert_int_equal(dns_view_set_instance_health(v, S("alpha"), S("y"),
	    DNS_HEALTH_WARNING), 0);
	assert_int_equal(dns_view_set_node_health(v, S("ALPHA"),
	    DNS_HEALTH_CRITICAL), 0);
	assert_int_equal(dns_view_instance_health(s->inst[1]),
	    DNS_HEALTH_CRITICAL);
	assert_int_equal(dns_view_remove_instance(v, S("alpha"), S("y")), 0);
	assert_int_equal(dns_view_remove_instance(v, S("alpha"), S("y")),
	    ERR_NOTFOUND);
	assert_null(dns_view_find_addr(v, &a));
	assert_int_equal(dns_view_remove_node(v, S("alpha")), 0);
	assert_null(dns_view_find_service(v, "svc", 3));
	assert_int_equal(dns_view_node_count(v), 0);
	assert_int_equal(dns_view_instance_count(v), 0);
	dns_view_free(v);
	dns_view_free(NULL);
}

static void
test_view_many(void **state)
{
	struct dns_view *v = dns_view_new();
	struct dns_node_spec n;
	struct dns_instance_spec in;
	char name[32];
	int i;

	(void)state;
	memset(&n, 0, sizeof(n));
	memset(&in, 0, sizeof(in));
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		n.name = S(name);
		n.address = S("10.0.0.1");
		assert_int_equal(dns_view_add_node(v, &n), 0);
		in.node = S(name);
		in.id = S("a");
		in.service = S(i % 2 ? "odd" : "even");
		assert_int_equal(dns_view_add_instance(v, &in), 0);
	}
	for (i = 0; i < 2000; i += 2) {
		snprintf(name, sizeof(name), "N%d", i);
		assert_int_equal(dns_view_remove_node(v, S(name)), 0);
	}
	assert_null(dns_view_find_service(v, "even", 4));
	assert_int_equal(dns_view_find_service(v, "odd", 3)->n, 1000);
	for (i = 1; i < 2000; i += 2) {
		snprintf(name, sizeof(name), "n%d", i);
		assert_non_null(dns_view_find_node(v, name, strlen(name)));
	}
	assert_int_equal(dns_view_max_instances(v), 1000);
	dns_view_free(v);
}

static void
parse_name(const char *text, struct dns_name *res)
{
	static uint8_t wire[300];
	ldns_rdf *r = ldns_dname_new_frm_str(text);

	assert_non_null(r);
	memcpy(wire, ldns_rdf_data(r), ldns_rdf_size(r));
	dns_name_parse(&cfg, wire, ldns_rdf_size(r), res);
	ldns_rdf_deep_free(r);
}

static bool
lbl(const struct dns_label *l, const char *s)
{
	return l->len == strlen(s) && strncmp(l->p, s, l->len) == 0;
}

static void
test_name_forms(void **state)
{
	struct dns_name n;

	(void)state;
	cfg.alt_domain = "cairn.test.";
	parse_name("node1.node.consul.", &n);
	assert_int_equal(n.kind, DNS_NAME_NODE);
	assert_string_equal(n.node, "node1");
	assert_int_equal(n.dc.len, 0);
	parse_name("a.b.node.dc2.consul.", &n);
	assert_int_equal(n.kind, DNS_NAME_NODE);
	assert_string_equal(n.node, "a.b");
	assert_true(lbl(&n.dc, "dc2"));
	parse_name("node1.node.dc1.dc.consul.", &n);
	assert_true(lbl(&n.dc, "dc1"));
	parse_name("Primary.Web.Service.Consul.", &n);
	assert_int_equal(n.kind, DNS_NAME_SERVICE);
	assert_true(lbl(&n.service, "Web"));
	assert_true(lbl(&n.tag, "Primary"));
	parse_name("web.service.dc1.dc.consul.", &n);
	assert_int_equal(n.kind, DNS_NAME_SERVICE);
	assert_true(lbl(&n.dc, "dc1"));
	assert_int_equal(n.tag.len, 0);
	parse_name("_web._tcp.service.consul.", &n);
	assert_true(n.rfc2782);
	assert_true(lbl(&n.service, "web"));
	assert_int_equal(n.tag.len, 0);
	parse_name("_rabbitmq._amqp.consul.", &n);
	assert_int_equal(n.kind, DNS_NAME_SERVICE);
	assert_true(lbl(&n.tag, "amqp"));
	parse_name("_web._udp.dc1.consul.", &n);
	assert_true(lbl(&n.dc, "dc1"));
	assert_int_equal(n.tag.len, 0);
	parse_name("c000020a.addr.dc1.consul.", &n);
	assert_int_equal(n.kind, DNS_NAME_ADDR);
	assert_int_equal(n.addr.family, DNS_ADDR_V4);
	assert_int_equal(n.addr.ip[0], 192);
	parse_name("zz00020a.addr.dc1.consul.", &n);
	assert_int_equal(n.addr.family, DNS_ADDR_NONE);
	parse_name("4.3.2.1.in-addr.arpa.", &n);
	assert_int_equal(n.kind, DNS_NAME_PTR);
	assert_int_equal(n.addr.ip[0], 1);
	assert_int_equal(n.addr.ip[3], 4);
	parse_name("3.2.1.in-addr.arpa.", &n);
	assert_int_equal(n.addr.family, DNS_ADDR_NONE);
	parse_name("consul.", &n);
	assert_int_equal(n.kind, DNS_NAME_APEX);
	parse_name("web.service.cairn.test.", &n);
	assert_int_equal(n.kind, DNS_NAME_SERVICE);
	assert_true(n.alt);
	parse_name("example.com.", &n);
	assert_int_equal(n.kind, DNS_NAME_OUTSIDE);
	parse_name("a.b.c.service.consul.", &n);
	assert_int_equal(n.kind, DNS_NAME_INVALID);
	parse_name("foo.bar.consul.", &n);
	assert_int_equal(n.kind, DNS_NAME_INVALID);
}

static void
test_config_ttl(void **state)
{
	(void)state;
	cfg.service_ttl = ttl_rules;
	cfg.n_service_ttl = 5;
	assert_int_equal(dns_config_service_ttl(&cfg, "web", 3), 15);
	assert_int_equal(dns_config_service_ttl(&cfg, "WEBX", 4), 10);
	assert_int_equal(dns_config_service_ttl(&cfg, "api", 3), 25);
	assert_int_equal(dns_config_service_ttl(&cfg, "apx", 3), 20);
	assert_int_equal(dns_config_service_ttl(&cfg, "db", 2), 5);
	cfg.n_service_ttl = 0;
	assert_int_equal(dns_config_service_ttl(&cfg, "db", 2), 0);
}

/* ---- answers ---- */

static void
test_service_a(void **state)
{
	struct qopt o = { .edns = 4096 };
	ldns_pkt *p;

	(void)state;
	p = ask("web.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(p));
	assert_false(ldns_pkt_ra(p));
	assert_true(ldns_pkt_rd(p));
	/* 10 instances, 1 critical: warning instances are kept */
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_A), 9);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_A, 0,
	    "10.0.0.1"));
	/* node1's meta in Additional, owned by the node name */
	assert_true(has_owner(ldns_pkt_additional(p), LDNS_RR_TYPE_TXT,
	    "node1.node.dc1.consul."));
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)),
	    0);
	ldns_pkt_free(p);

	cfg.only_passing = true;
	p = ask("web.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_A), 7);
	ldns_pkt_free(p);

	cfg.only_passing = false;
	cfg.enable_additional_node_meta_txt = false;
	p = ask("web.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(count_type(ldns_pkt_additional(p), LDNS_RR_TYPE_TXT),
	    0);
	ldns_pkt_free(p);
}

static void
test_node_health(void **state)
{
	struct qopt o = { .edns = 4096 };
	ldns_pkt *p;

	(void)state;
	/* node1 carries web-0, -3, -6, -9: a node-level critical check
	 * removes them all */
	assert_int_equal(dns_view_set_node_health(view, S("node1"),
	    DNS_HEALTH_CRITICAL), 0);
	p = ask("web.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_A), 5);
	assert_false(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_A, 0,
	    "10.0.0.1"));
	ldns_pkt_free(p);
	assert_int_equal(dns_view_set_node_health(view, S("node1"),
	    DNS_HEALTH_PASSING), 0);
}

static void
test_case_and_tags(void **state)
{
	struct qopt o = { .edns = 4096 };
	ldns_pkt *p;

	(void)state;
	/* reply_check compares the echoed question byte for byte */
	p = ask("WeB.SeRvIcE.CoNsUl.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_A), 9);
	assert_memory_equal(out + 13, "WeB", 3);
	ldns_pkt_free(p);
	/* primary: web-0,2,4,6,8 minus critical 8 */
	p = ask("PRIMARY.web.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_A), 4);
	ldns_pkt_free(p);
	/* tag registered as "Secondary": web-1,3,5,7,9 */
	p = ask("secondary.web.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_A), 5);
	ldns_pkt_free(p);
	p = ask("nosuchtag.web.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_soa_authority(p, "consul.");
	ldns_pkt_free(p);
}

static void
test_srv(void **state)
{
	struct qopt o = { .edns = 4096 };
	ldns_pkt *p;
	size_t i, warn = 0;

	(void)state;
	p = ask("web.service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_SRV), 9);
	for (i = 0; i < 9; i++) {
		assert_string_equal(rdf_str(ldns_pkt_answer(p), i, 0), "1");
		if (strcmp(rdf_str(ldns_pkt_answer(p), i, 1), "1") == 0)
			warn++;
		else
			assert_string_equal(rdf_str(ldns_pkt_answer(p), i, 1),
			    "10");
	}
	assert_int_equal(warn, 2);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_SRV, 3,
	    "node2.node.dc1.consul."));
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_SRV, 2,
	    "8004"));
	/* one A per target node (3), AAAA for node1's lan_ipv6, node1 meta */
	assert_int_equal(count_type(ldns_pkt_additional(p), LDNS_RR_TYPE_A),
	    3);
	assert_true(has_owner(ldns_pkt_additional(p), LDNS_RR_TYPE_A,
	    "node3.node.dc1.consul."));
	assert_int_equal(count_type(ldns_pkt_additional(p),
	    LDNS_RR_TYPE_AAAA), 1);
	assert_true(has_rdata(ldns_pkt_additional(p), LDNS_RR_TYPE_TXT, 0,
	    "\"env=prod\""));
	assert_true(has_rdata(ldns_pkt_additional(p), LDNS_RR_TYPE_TXT, 0,
	    "\"hello\""));
	ldns_pkt_free(p);

	p = ask("api.service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_SRV, 3,
	    "c000020a.addr.dc1.consul."));
	assert_true(has_owner(ldns_pkt_additional(p), LDNS_RR_TYPE_A,
	    "c000020a.addr.dc1.consul."));
	assert_true(has_rdata(ldns_pkt_additional(p), LDNS_RR_TYPE_A, 0,
	    "192.0.2.10"));
	ldns_pkt_free(p);

	p = ask("v6svc.service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_SRV, 3,
	    "20010db8000000000000000000000010.addr.dc1.consul."));
	assert_true(has_rdata(ldns_pkt_additional(p), LDNS_RR_TYPE_AAAA, 0,
	    "2001:db8::10"));
	ldns_pkt_free(p);

	p = ask("ext.service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_SRV, 3,
	    "db.example.com."));
	ldns_pkt_free(p);

	/* A on a service never gives SRV */
	p = ask("api.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_SRV), 0);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_A, 0,
	    "192.0.2.10"));
	ldns_pkt_free(p);
}

static void
test_rfc2782(void **state)
{
	struct qopt o = { .edns = 4096 };
	ldns_pkt *p;

	(void)state;
	p = ask("_web._tcp.service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_SRV), 9);
	ldns_pkt_free(p);
	p = ask("_web._udp.service.dc1.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_SRV), 9);
	ldns_pkt_free(p);
	p = ask("_web._primary.service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_SRV), 4);
	ldns_pkt_free(p);
	p = ask("_web._tcp.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_SRV), 9);
	ldns_pkt_free(p);
	/* A also answers on the RFC 2782 form */
	p = ask("_web._tcp.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_A), 9);
	ldns_pkt_free(p);
}

static void
test_hostname_cname(void **state)
{
	ldns_pkt *p;

	(void)state;
	p = ask("ext.service.consul.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_CNAME),
	    1);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_CNAME, 0,
	    "db.example.com."));
	ldns_pkt_free(p);
}

static void
test_node_lookup(void **state)
{
	ldns_pkt *p;

	(void)state;
	cfg.node_ttl_s = 30;
	p = ask("node1.node.consul.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 1);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_A, 0,
	    "10.0.0.1"));
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)),
	    30);
	assert_int_equal(count_type(ldns_pkt_additional(p), LDNS_RR_TYPE_TXT),
	    2);
	ldns_pkt_free(p);
	p = ask("NODE1.node.dc1.consul.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_A), 1);
	ldns_pkt_free(p);
	p = ask("node1.node.dc1.dc.consul.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_A), 1);
	ldns_pkt_free(p);
	p = ask("node1.node.consul.", LDNS_RR_TYPE_TXT, NULL);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_TXT), 2);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_TXT, 0,
	    "\"env=prod\""));
	ldns_pkt_free(p);
	p = ask("node1.node.consul.", LDNS_RR_TYPE_ANY, NULL);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_A), 1);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_AAAA), 1);
	ldns_pkt_free(p);
	/* tagged lan_ipv6 answers AAAA */
	p = ask("node1.node.consul.", LDNS_RR_TYPE_AAAA, NULL);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_AAAA, 0,
	    "fd00::1"));
	ldns_pkt_free(p);
	/* NODATA: the name exists, the type does not */
	p = ask("node2.node.consul.", LDNS_RR_TYPE_AAAA, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_soa_authority(p, "consul.");
	ldns_pkt_free(p);
	p = ask("nosuch.node.consul.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_soa_authority(p, "consul.");
	ldns_pkt_free(p);
	/* another datacenter: NXDOMAIN until multi-DC forwarding lands */
	p = ask("node1.node.dc2.consul.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	p = ask("web.service.dc2.consul.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
}

static void
test_addr_form(void **state)
{
	ldns_pkt *p;

	(void)state;
	p = ask("c000020a.addr.dc1.consul.", LDNS_RR_TYPE_A, NULL);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_A, 0,
	    "192.0.2.10"));
	ldns_pkt_free(p);
	p = ask("20010db8000000000000000000000010.addr.dc1.consul.",
	    LDNS_RR_TYPE_AAAA, NULL);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_AAAA, 0,
	    "2001:db8::10"));
	ldns_pkt_free(p);
	p = ask("c000020a.addr.dc1.consul.", LDNS_RR_TYPE_AAAA, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_soa_authority(p, "consul.");
	ldns_pkt_free(p);
	p = ask("c00002.addr.dc1.consul.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
}

static void
test_ptr(void **state)
{
	ldns_pkt *p;

	(void)state;
	cfg.alt_domain = "alt.example.";
	p = ask("1.0.0.10.in-addr.arpa.", LDNS_RR_TYPE_PTR, NULL);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_PTR, 0,
	    "node1.node.dc1.consul."));
	ldns_pkt_free(p);
	p = ask("10.2.0.192.in-addr.arpa.", LDNS_RR_TYPE_PTR, NULL);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_PTR, 0,
	    "api.service.consul."));
	ldns_pkt_free(p);
	p = ask("0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0."
	    "0.2.ip6.arpa.", LDNS_RR_TYPE_PTR, NULL);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_PTR, 0,
	    "v6svc.service.consul."));
	ldns_pkt_free(p);
	p = ask("9.9.9.9.in-addr.arpa.", LDNS_RR_TYPE_PTR, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_soa_authority(p, "consul.");
	ldns_pkt_free(p);
	cfg.recursors = true;
	build_query("9.9.9.9.in-addr.arpa.", LDNS_RR_TYPE_PTR, NULL);
	assert_int_equal(run(NULL), DNS_QUERY_FORWARD);
}

static void
test_apex(void **state)
{
	ldns_pkt *p;
	ldns_rr *soa;

	(void)state;
	p = ask("consul.", LDNS_RR_TYPE_SOA, NULL);
	assert_int_equal(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_SOA), 1);
	soa = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	assert_string_equal(rdf_str(ldns_pkt_answer(p), 0, 0), "ns.consul.");
	assert_string_equal(rdf_str(ldns_pkt_answer(p), 0, 1),
	    "hostmaster.consul.");
	assert_string_equal(rdf_str(ldns_pkt_answer(p), 0, 2), "1700000000");
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 3)), 3600);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 4)), 600);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 5)), 86400);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 6)), 0);
	ldns_pkt_free(p);
	p = ask("consul.", LDNS_RR_TYPE_NS, NULL);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_NS, 0,
	    "node1.node.dc1.consul."));
	assert_true(has_owner(ldns_pkt_additional(p), LDNS_RR_TYPE_A,
	    "node1.node.dc1.consul."));
	ldns_pkt_free(p);
	p = ask("consul.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_soa_authority(p, "consul.");
	ldns_pkt_free(p);
}

static void
test_negative(void **state)
{
	ldns_pkt *p;

	(void)state;
	p = ask("nosuch.service.consul.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_true(ldns_pkt_aa(p));
	assert_soa_authority(p, "consul.");
	ldns_pkt_free(p);
	/* only critical instances: NXDOMAIN */
	p = ask("dead.service.consul.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_soa_authority(p, "consul.");
	ldns_pkt_free(p);
	/* exists, no record of that type: NODATA */
	p = ask("web.service.consul.", LDNS_RR_TYPE_MX, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_soa_authority(p, "consul.");
	ldns_pkt_free(p);
	p = ask("api.service.consul.", LDNS_RR_TYPE_AAAA, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	p = ask("foo.bar.consul.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	/* odd bytes and an escaped dot in the service label */
	p = ask("we\\.b.service.consul.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	p = ask("\\000\\255x.service.consul.", LDNS_RR_TYPE_SRV, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
}

static void
test_ttl(void **state)
{
	struct qopt o = { .edns = 4096 };
	ldns_pkt *p;

	(void)state;
	cfg.service_ttl = ttl_rules;
	cfg.n_service_ttl = 5;
	p = ask("web.service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)),
	    15);
	ldns_pkt_free(p);
	p = ask("api.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)),
	    25);
	ldns_pkt_free(p);
	p = ask("ext.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)),
	    5);
	ldns_pkt_free(p);
	cfg.soa.min_ttl_s = 42;
	p = ask("nosuch.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_authority(p),
	    0)), 42);
	ldns_pkt_free(p);
}

static void
test_udp_limits(void **state)
{
	struct qopt o = { 0 };
	ldns_pkt *p;

	(void)state;
	/* no EDNS: at most udp_answer_limit (3), silently */
	p = ask("web.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(ldns_pkt_ancount(p), 3);
	assert_false(ldns_pkt_tc(p));
	assert_true(outlen <= 512);
	ldns_pkt_free(p);
	p = ask("big.service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_int_equal(ldns_pkt_ancount(p), 3);
	assert_true(outlen <= 512);
	ldns_pkt_free(p);
	cfg.enable_truncate = true;
	p = ask("web.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(ldns_pkt_ancount(p), 3);
	assert_true(ldns_pkt_tc(p));
	ldns_pkt_free(p);
	/* fewer than the cap: not trimmed, no TC */
	p = ask("api.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_false(ldns_pkt_tc(p));
	ldns_pkt_free(p);
	/* a larger cap still stops at 512 bytes */
	cfg.udp_answer_limit = 1000;
	p = ask("big.service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_true(outlen <= 512);
	assert_true(ldns_pkt_ancount(p) > 3);
	assert_true(ldns_pkt_ancount(p) < 200);
	assert_true(ldns_pkt_tc(p));
	ldns_pkt_free(p);
}

/* Every additional owner in p is <hex>.addr.dc1.consul. — a compression
 * pointer left dangling by a rolled-back record would garble names. */
static void
assert_sane_additional(ldns_pkt *p)
{
	const ldns_rr_list *l = ldns_pkt_additional(p);
	size_t i;

	assert_true(ldns_rr_list_rr_count(l) > 0);
	for (i = 0; i < ldns_rr_list_rr_count(l); i++) {
		char *o = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(l, i)));

		assert_int_equal(strlen(o),
		    strlen("0a020001.addr.dc1.consul."));
		assert_string_equal(o + 8, ".addr.dc1.consul.");
		free(o);
	}
}

static void
test_trim_rollback(void **state)
{
	struct qopt o = { .edns = 700 };
	ldns_pkt *p;
	size_t i;

	(void)state;
	for (i = 0; i < 20; i++) {
		o.seed = i;
		o.edns = (int)(600 + 37 * i);
		p = ask("big.service.consul.", LDNS_RR_TYPE_SRV, &o);
		assert_true(outlen <= (size_t)o.edns);
		assert_true(ldns_pkt_ancount(p) > 3);
		assert_true(ldns_pkt_ancount(p) < 200);
		/* every SRV keeps its target's address record */
		assert_int_equal(count_type(ldns_pkt_additional(p),
		    LDNS_RR_TYPE_A), ldns_pkt_ancount(p));
		assert_sane_additional(p);
		ldns_pkt_free(p);
	}
}

/* A record bigger than the UDP limit: never an empty answer without TC,
 * even when enable_truncate is off (#1931). */
static void
test_tc_when_nothing_fits(void **state)
{
	static char big[1200];
	struct dns_kv meta[1];
	struct dns_node_spec n;
	ldns_pkt *p;

	(void)state;
	memset(big, 'x', sizeof(big));
	meta[0].key = S("blob");
	meta[0].value.ptr = big;
	meta[0].value.len = sizeof(big);
	memset(&n, 0, sizeof(n));
	n.name = S("fat");
	n.address = S("10.0.0.9");
	n.meta = meta;
	n.nmeta = 1;
	assert_int_equal(dns_view_add_node(view, &n), 0);
	p = ask("fat.node.consul.", LDNS_RR_TYPE_TXT, NULL);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_true(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
	/* over TCP it fits */
	{
		struct qopt o = { .tcp = true };

		p = ask("fat.node.consul.", LDNS_RR_TYPE_TXT, &o);
		assert_int_equal(ldns_pkt_ancount(p), 1);
		assert_false(ldns_pkt_tc(p));
		ldns_pkt_free(p);
	}
	/* the A answer still fits; the meta in Additional is dropped */
	p = ask("fat.node.consul.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_arcount(p), 0);
	ldns_pkt_free(p);
	assert_int_equal(dns_view_remove_node(view, S("fat")), 0);
}

static void
test_edns_limits(void **state)
{
	struct qopt o = { .edns = 1232 };
	ldns_pkt *p;

	(void)state;
	p = ask("big.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_true(outlen <= 1232);
	assert_true(ldns_pkt_ancount(p) > 3);
	assert_true(ldns_pkt_ancount(p) < 200);
	assert_false(ldns_pkt_tc(p));
	assert_true(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_edns_version(p), 0);
	ldns_pkt_free(p);
	/* < 512 counts as 512, and 512 brings the 3-record cap back */
	o.edns = 100;
	p = ask("big.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_true(outlen <= 512);
	assert_int_equal(ldns_pkt_ancount(p), 3);
	ldns_pkt_free(p);
	o.edns = 1; /* bufsize 0 */
	p = ask("big.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_true(outlen <= 512);
	assert_int_equal(ldns_pkt_ancount(p), 3);
	ldns_pkt_free(p);
	o.edns = 513;
	p = ask("big.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_true(outlen <= 513);
	assert_true(ldns_pkt_ancount(p) > 3);
	ldns_pkt_free(p);
	o.edns = 65535;
	p = ask("big.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(ldns_pkt_ancount(p), 200);
	ldns_pkt_free(p);
	cfg.enable_truncate = true;
	o.edns = 1232;
	p = ask("big.service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_true(outlen <= 1232);
	assert_true(ldns_pkt_tc(p));
	ldns_pkt_free(p);
}

static void
test_tcp_full(void **state)
{
	struct qopt o = { .tcp = true };
	ldns_pkt *p;

	(void)state;
	cfg.enable_truncate = true;
	p = ask("big.service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_int_equal(ldns_pkt_ancount(p), 200);
	assert_int_equal(count_type(ldns_pkt_additional(p), LDNS_RR_TYPE_A),
	    200);
	assert_false(ldns_pkt_tc(p));
	ldns_pkt_free(p);
	p = ask("big.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(ldns_pkt_ancount(p), 200);
	ldns_pkt_free(p);
}

static void
test_a_record_limit(void **state)
{
	struct qopt o = { .tcp = true };
	ldns_pkt *p;

	(void)state;
	cfg.a_record_limit = 2;
	cfg.enable_truncate = true;
	p = ask("big.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(ldns_pkt_ancount(p), 2);
	assert_false(ldns_pkt_tc(p));
	ldns_pkt_free(p);
	/* SRV is not capped by a_record_limit */
	p = ask("big.service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_int_equal(ldns_pkt_ancount(p), 200);
	ldns_pkt_free(p);
}

static void
test_alt_domain(void **state)
{
	struct qopt o = { .edns = 4096 };
	ldns_pkt *p;

	(void)state;
	cfg.alt_domain = "cairn.test.";
	p = ask("web.service.cairn.test.", LDNS_RR_TYPE_SRV, &o);
	assert_int_equal(ldns_pkt_ancount(p), 9);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_SRV, 3,
	    "node1.node.dc1.cairn.test."));
	ldns_pkt_free(p);
	p = ask("nosuch.service.cairn.test.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_soa_authority(p, "cairn.test.");
	ldns_pkt_free(p);
	p = ask("node2.node.cairn.test.", LDNS_RR_TYPE_A, &o);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_A, 0,
	    "10.0.0.2"));
	ldns_pkt_free(p);
	/* PTR always names the primary domain */
	p = ask("2.0.0.10.in-addr.arpa.", LDNS_RR_TYPE_PTR, &o);
	assert_true(has_rdata(ldns_pkt_answer(p), LDNS_RR_TYPE_PTR, 0,
	    "node2.node.dc1.consul."));
	ldns_pkt_free(p);
}

static void
srv_ports(uint64_t seed, char *dst, size_t cap)
{
	struct qopt o = { .edns = 4096, .seed = seed };
	ldns_pkt *p = ask("web.service.consul.", LDNS_RR_TYPE_SRV, &o);
	size_t i;

	dst[0] = '\0';
	for (i = 0; i < ldns_pkt_ancount(p); i++) {
		strncat(dst, rdf_str(ldns_pkt_answer(p), i, 2),
		    cap - strlen(dst) - 2);
		strcat(dst, ",");
	}
	ldns_pkt_free(p);
}

static void
test_shuffle(void **state)
{
	char a[200], b[200], c[200];
	uint64_t seed;
	int differ = 0;

	(void)state;
	srv_ports(1, a, sizeof(a));
	srv_ports(1, b, sizeof(b));
	assert_string_equal(a, b); /* deterministic for a seed */
	for (seed = 2; seed < 12; seed++) {
		srv_ports(seed, c, sizeof(c));
		if (strcmp(a, c) != 0)
			differ++;
	}
	assert_true(differ >= 9);
}

/* ---- malformed input (fault-testing.md §7.2) ---- */

static int
raw(const uint8_t *pkt, size_t len)
{
	memcpy(qbuf, pkt, len);
	qlen = len;
	return run(NULL);
}

static int
rcode_of_reply(bool echo)
{
	ldns_pkt *p = reply_check(echo);
	int rc = ldns_pkt_get_rcode(p);

	if (!echo)
		assert_int_equal(ldns_pkt_qdcount(p), 0);
	ldns_pkt_free(p);
	return rc;
}

#define HDR(qd, an, ns, ar) 0xab, 0xcd, 0x01, 0x00, 0, qd, 0, an, 0, ns, 0, ar

static void
test_bad_header(void **state)
{
	static const uint8_t hdr_only[] = { HDR(1, 0, 0, 0) };
	static const uint8_t qd0[] = { HDR(0, 0, 0, 0) };
	uint8_t pkt[64];
	int op;

	(void)state;
	assert_int_equal(raw(hdr_only, 11), DNS_QUERY_DROP);
	assert_int_equal(raw(hdr_only, 0), DNS_QUERY_DROP);
	assert_int_equal(raw(hdr_only, 12), DNS_QUERY_REPLY);
	assert_int_equal(rcode_of_reply(false), LDNS_RCODE_FORMERR);
	assert_int_equal(raw(qd0, 12), DNS_QUERY_REPLY);
	assert_int_equal(rcode_of_reply(false), LDNS_RCODE_FORMERR);
	/* QR=1: never answered */
	build_query("web.service.consul.", LDNS_RR_TYPE_A, NULL);
	qbuf[2] |= 0x80;
	assert_int_equal(run(NULL), DNS_QUERY_DROP);
	/* QDCOUNT=2 */
	build_query("web.service.consul.", LDNS_RR_TYPE_A, NULL);
	memcpy(pkt, qbuf, qlen);
	memcpy(pkt + qlen, qbuf + 12, qlen - 12);
	pkt[5] = 2;
	assert_int_equal(raw(pkt, qlen * 2 - 12), DNS_QUERY_REPLY);
	assert_int_equal(rcode_of_reply(false), LDNS_RCODE_FORMERR);
	/* IQUERY, STATUS, NOTIFY, UPDATE */
	for (op = 1; op <= 5; op++) {
		if (op == 3)
			continue;
		build_query("web.service.consul.", LDNS_RR_TYPE_A, NULL);
		qbuf[2] = (uint8_t)((qbuf[2] & 0x87) | op << 3);
		assert_int_equal(run(NULL), DNS_QUERY_REPLY);
		assert_int_equal(rcode_of_reply(true), LDNS_RCODE_NOTIMPL);
	}
}

static void
test_bad_names(void **state)
{
	uint8_t pkt[600];
	size_t i, n;

	(void)state;
	/* label type 01 (0x40) and 10 (0x80) */
	{
		static const uint8_t p1[] = { HDR(1, 0, 0, 0), 0x40, 'a', 0, 0,
			1, 0, 1 };
		static const uint8_t p2[] = { HDR(1, 0, 0, 0), 0x80, 'a', 0, 0,
			1, 0, 1 };

		assert_int_equal(raw(p1, sizeof(p1)), DNS_QUERY_REPLY);
		assert_int_equal(rcode_of_reply(false), LDNS_RCODE_FORMERR);
		assert_int_equal(raw(p2, sizeof(p2)), DNS_QUERY_REPLY);
		assert_int_equal(rcode_of_reply(false), LDNS_RCODE_FORMERR);
	}
	/* label of 64 bytes is type 01 by construction; name > 255 */
	memcpy(pkt, (uint8_t[]){ HDR(1, 0, 0, 0) }, 12);
	n = 12;
	for (i = 0; i < 5; i++) {
		pkt[n++] = 63;
		memset(pkt + n, 'a', 63);
		n += 63;
	}
	pkt[n++] = 0;
	memcpy(pkt + n, (uint8_t[]){ 0, 1, 0, 1 }, 4);
	n += 4;
	assert_int_equal(raw(pkt, n), DNS_QUERY_REPLY);
	assert_int_equal(rcode_of_reply(false), LDNS_RCODE_FORMERR);
	/* pointers in the question: to itself, forward, out of bounds */
	{
		static const uint8_t self[] = { HDR(1, 0, 0, 0), 0xc0, 12, 0, 1,
			0, 1 };
		static const uint8_t fwd[] = { HDR(1, 0, 0, 0), 0xc0, 18, 0, 1,
			0, 1, 1, 'a', 0 };
		static const uint8_t oob[] = { HDR(1, 0, 0, 0), 0xff, 0xff, 0,
			1, 0, 1 };
		static const uint8_t loop[] = { HDR(1, 0, 0, 0), 1, 'a', 0xc0,
			12, 0, 1, 0, 1 };

		assert_int_equal(raw(self, sizeof(self)), DNS_QUERY_REPLY);
		assert_int_equal(rcode_of_reply(false), LDNS_RCODE_FORMERR);
		assert_int_equal(raw(fwd, sizeof(fwd)), DNS_QUERY_REPLY);
		assert_int_equal(rcode_of_reply(false), LDNS_RCODE_FORMERR);
		assert_int_equal(raw(oob, sizeof(oob)), DNS_QUERY_REPLY);
		assert_int_equal(rcode_of_reply(false), LDNS_RCODE_FORMERR);
		assert_int_equal(raw(loop, sizeof(loop)), DNS_QUERY_REPLY);
		assert_int_equal(rcode_of_reply(false), LDNS_RCODE_FORMERR);
	}
	/* truncated question; trailing garbage */
	build_query("web.service.consul.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(raw(qbuf, qlen - 3), DNS_QUERY_REPLY);
	assert_int_equal(rcode_of_reply(false), LDNS_RCODE_FORMERR);
	build_query("web.service.consul.", LDNS_RR_TYPE_A, NULL);
	memcpy(pkt, qbuf, qlen);
	memcpy(pkt + qlen, "junk", 4);
	assert_int_equal(raw(pkt, qlen + 4), DNS_QUERY_REPLY);
	assert_int_equal(rcode_of_reply(true), LDNS_RCODE_FORMERR);
}

/* Appends an OPT RR (owner root) to qbuf and bumps ARCOUNT. */
static void
append_opt(uint16_t size, uint8_t version, const uint8_t *rdata,
    uint16_t rdlen)
{
	uint8_t *p = qbuf + qlen;

	p[0] = 0;
	ldns_write_uint16(p + 1, LDNS_RR_TYPE_OPT);
	ldns_write_uint16(p + 3, size);
	p[5] = 0;
	p[6] = version;
	p[7] = 0;
	p[8] = 0;
	ldns_write_uint16(p + 9, rdlen);
	if (rdlen)
		memcpy(p + 11, rdata, rdlen);
	qlen += 11u + rdlen;
	ldns_write_uint16(qbuf + 10, (uint16_t)(LDNS_ARCOUNT(qbuf) + 1));
}

static void
test_bad_edns(void **state)
{
	static const uint8_t unknown_opt[] = { 0xfd, 0xe9, 0, 2, 'h', 'i' };
	struct qopt o = { .edns = 4096, .edns_version = 1 };
	ldns_pkt *p;
	uint8_t pkt[600];

	(void)state;
	/* two OPT RRs */
	build_query("web.service.consul.", LDNS_RR_TYPE_A, NULL);
	append_opt(4096, 0, NULL, 0);
	append_opt(4096, 0, NULL, 0);
	assert_int_equal(run(NULL), DNS_QUERY_REPLY);
	assert_int_equal(rcode_of_reply(true), LDNS_RCODE_FORMERR);
	/* version 1: BADVERS (extended rcode 1 in the OPT, header 0) */
	build_query("web.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(run(&o), DNS_QUERY_REPLY);
	p = reply_check(true);
	assert_true(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_edns_extended_rcode(p), 1);
	assert_int_equal(ldns_pkt_get_rcode(p), 0);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	/* unknown options are ignored */
	build_query("web.service.consul.", LDNS_RR_TYPE_A, NULL);
	append_opt(4096, 0, unknown_opt, sizeof(unknown_opt));
	assert_int_equal(run(NULL), DNS_QUERY_REPLY);
	p = reply_check(true);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 9);
	ldns_pkt_free(p);
	/* OPT in the answer section */
	build_query("web.service.consul.", LDNS_RR_TYPE_A, NULL);
	append_opt(4096, 0, NULL, 0);
	qbuf[7] = 1;  /* ANCOUNT */
	qbuf[11] = 0; /* ARCOUNT */
	assert_int_equal(run(NULL), DNS_QUERY_REPLY);
	assert_int_equal(rcode_of_reply(true), LDNS_RCODE_FORMERR);
	/* OPT owner with a pointer loop in the additional section */
	build_query("web.service.consul.", LDNS_RR_TYPE_A, NULL);
	memcpy(pkt, qbuf, qlen);
	pkt[qlen] = 0xc0;
	pkt[qlen + 1] = (uint8_t)qlen;
	memcpy(pkt + qlen + 2, (uint8_t[]){ 0, 41, 16, 0, 0, 0, 0, 0, 0, 0 },
	    10);
	pkt[11] = 1;
	assert_int_equal(raw(pkt, qlen + 12), DNS_QUERY_REPLY);
	assert_int_equal(rcode_of_reply(true), LDNS_RCODE_FORMERR);
}

/* An additional record whose rdata name is a pointer to itself: skipped
 * unparsed (ldns would follow it 65535 times, ~200 us a packet). */
static void
test_rdata_pointer_loop(void **state)
{
	struct timespec t0, t1;
	uint8_t *p;
	double s;
	int i, r;

	(void)state;
	build_query("web.service.consul.", LDNS_RR_TYPE_A, NULL);
	for (r = 0; r < 4; r++) {
		p = qbuf + qlen;
		memcpy(p, (uint8_t[]){ 0, 0, 6, 0, 1, 0, 0, 0, 0, 0, 22 }, 11);
		p[11] = (uint8_t)(0xc0 | (qlen + 11) >> 8);
		p[12] = (uint8_t)(qlen + 11);
		memset(p + 13, 0, 20);
		qlen += 33;
	}
	qbuf[11] = 4;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(run(NULL), DNS_QUERY_REPLY);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(s < 0.5); /* ~0.02 s under ASan; ~1 s when looping */
	assert_int_equal(rcode_of_reply(true), LDNS_RCODE_NOERROR);
	/* a skipped record must still fit in the packet */
	qlen -= 5;
	assert_int_equal(run(NULL), DNS_QUERY_REPLY);
	assert_int_equal(rcode_of_reply(true), LDNS_RCODE_FORMERR);
}

static void
test_policy_refusals(void **state)
{
	struct qopt ch = { .qclass = LDNS_RR_CLASS_CH };
	ldns_pkt *p;

	(void)state;
	build_query("version.bind.", LDNS_RR_TYPE_TXT, &ch);
	assert_int_equal(run(NULL), DNS_QUERY_REPLY);
	assert_int_equal(rcode_of_reply(true), LDNS_RCODE_REFUSED);
	build_query("consul.", LDNS_RR_TYPE_AXFR, NULL);
	assert_int_equal(run(NULL), DNS_QUERY_REPLY);
	assert_int_equal(rcode_of_reply(true), LDNS_RCODE_REFUSED);
	build_query("consul.", LDNS_RR_TYPE_IXFR, NULL);
	assert_int_equal(run(NULL), DNS_QUERY_REPLY);
	assert_int_equal(rcode_of_reply(true), LDNS_RCODE_REFUSED);
	/* out of zone: not an open resolver */
	p = ask("example.com.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	assert_false(ldns_pkt_aa(p));
	assert_false(ldns_pkt_ra(p));
	ldns_pkt_free(p);
	/* ANY over UDP answers like Consul (address records) */
	p = ask("web.service.consul.", LDNS_RR_TYPE_ANY, NULL);
	assert_int_equal(ldns_pkt_ancount(p), 3);
	ldns_pkt_free(p);
	/* with recursors: forward, and RA on our own answers */
	cfg.recursors = true;
	build_query("example.com.", LDNS_RR_TYPE_A, NULL);
	assert_int_equal(run(NULL), DNS_QUERY_FORWARD);
	p = ask("web.service.consul.", LDNS_RR_TYPE_A, NULL);
	assert_true(ldns_pkt_ra(p));
	ldns_pkt_free(p);
}

static void
test_error_reply(void **state)
{
	struct dns_request req;
	int rc;

	(void)state;
	cfg.recursors = true;
	build_query("example.com.", LDNS_RR_TYPE_A, NULL);
	memset(&req, 0, sizeof(req));
	req.wire = qbuf;
	req.len = qlen;
	rc = dns_query_error_reply(ctx, &cfg, &req, DNS_RCODE_SERVFAIL, out,
	    sizeof(out), &outlen);
	assert_int_equal(rc, DNS_QUERY_REPLY);
	assert_int_equal(rcode_of_reply(true), LDNS_RCODE_SERVFAIL);
}

/* ---- the answer cache ---- */

static int
run_with(struct dns_query_ctx *c, const struct qopt *o)
{
	struct dns_request req;

	memset(&req, 0, sizeof(req));
	req.wire = qbuf;
	req.len = qlen;
	req.tcp = o && o->tcp;
	req.rand_seed = o ? o->seed : 0;
	req.now = 1700000000;
	return dns_query_answer(c, &cfg, view, &req, out, sizeof(out),
	    &outlen);
}

static int
line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The records of l as sorted presentation lines, joined (caller frees). */
static char *
sorted_text(const ldns_rr_list *l)
{
	size_t n = ldns_rr_list_rr_count(l), i, len = 1;
	char **v = calloc(n + 1, sizeof(char *)), *s;

	assert_non_null(v);
	for (i = 0; i < n; i++) {
		v[i] = ldns_rr2str(ldns_rr_list_rr(l, i));
		len += strlen(v[i]);
	}
	qsort(v, n, sizeof(char *), line_cmp);
	s = calloc(1, len);
	assert_non_null(s);
	for (i = 0; i < n; i++) {
		strcat(s, v[i]);
		free(v[i]);
	}
	free(v);
	return s;
}

/* The query in qbuf, answered fresh (ctx) and by cctx, seeds 1..rounds:
 * the same records and header, the cached answer order shuffled (every
 * candidate comes first at least min_first times; field f of the first
 * answer names it). Returns how many distinct firsts were seen. */
static size_t
cache_compare(struct dns_query_ctx *cctx, int rounds, size_t f,
    int min_first)
{
	char firsts[16][64];
	int counts[16] = { 0 };
	size_t nf = 0, i;
	struct qopt o = { .edns = 4096 };
	int r;

	for (r = 1; r <= rounds; r++) {
		ldns_pkt *p1, *p2;
		char *a1, *a2, *x1, *x2;
		const char *first;
		uint8_t h1[12];

		o.seed = (uint64_t)r * 7919;
		assert_int_equal(run(&o), DNS_QUERY_REPLY);
		memcpy(h1, out, 12);
		p1 = reply_check(true);
		assert_int_equal(run_with(cctx, &o), DNS_QUERY_REPLY);
		assert_memory_equal(out, h1, 12);
		p2 = reply_check(true);
		a1 = sorted_text(ldns_pkt_answer(p1));
		a2 = sorted_text(ldns_pkt_answer(p2));
		x1 = sorted_text(ldns_pkt_additional(p1));
		x2 = sorted_text(ldns_pkt_additional(p2));
		assert_string_equal(a1, a2);
		assert_string_equal(x1, x2);
		first = rdf_str(ldns_pkt_answer(p2), 0, f);
		for (i = 0; i < nf && strcmp(firsts[i], first) != 0; i++)
			;
		if (i == nf && nf < 16)
			snprintf(firsts[nf++], sizeof(firsts[0]), "%s", first);
		if (i < 16)
			counts[i]++;
		free(a1);
		free(a2);
		free(x1);
		free(x2);
		ldns_pkt_free(p1);
		ldns_pkt_free(p2);
	}
	for (i = 0; i < nf; i++)
		assert_true(counts[i] >= min_first);
	return nf;
}

static void
test_answer_cache(void **state)
{
	struct dns_query_ctx *cctx = dns_query_ctx_new();
	struct qopt o = { .edns = 4096, .seed = 1 };
	uint64_t hits;
	ldns_pkt *p;
	int r;

	(void)state;
	assert_non_null(cctx);
	assert_int_equal(dns_query_ctx_cache(cctx), 0);
	/* SRV and A of web (9 healthy instances, 9 ports, 9 addresses?
	 * no: addresses are the 3 nodes'; ports tell instances apart) */
	build_query("web.service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_int_equal(cache_compare(cctx, 360, 2, 15), 9);
	hits = dns_query_ctx_cache_hits(cctx);
	assert_int_equal(hits, 359);
	build_query("_web._tcp.service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_int_equal(cache_compare(cctx, 50, 2, 0), 9);
	build_query("api.service.consul.", LDNS_RR_TYPE_A, &o);
	assert_int_equal(cache_compare(cctx, 20, 0, 20), 1);
	build_query("big.service.consul.", LDNS_RR_TYPE_A, &o);
	cache_compare(cctx, 20, 0, 0);
	hits = dns_query_ctx_cache_hits(cctx);
	assert_int_equal(hits, 359 + 49 + 19 + 19);

	/* the query's ID, RD and CD; the question's case */
	build_query("web.service.consul.", LDNS_RR_TYPE_SRV, &o);
	qbuf[0] = 0xbe;
	qbuf[1] = 0xef;
	qbuf[2] &= (uint8_t)~0x01;
	qbuf[3] |= 0x10;
	assert_int_equal(run_with(cctx, &o), DNS_QUERY_REPLY);
	assert_int_equal(dns_query_ctx_cache_hits(cctx), hits + 1);
	assert_int_equal(out[0], 0xbe);
	assert_int_equal(out[1], 0xef);
	assert_int_equal(out[2] & 0x01, 0);
	assert_int_equal(out[3] & 0x10, 0x10);
	ldns_pkt_free(reply_check(true));
	build_query("WEB.Service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_int_equal(run_with(cctx, &o), DNS_QUERY_REPLY);
	ldns_pkt_free(reply_check(true)); /* echoed as asked: not a hit */
	assert_int_equal(dns_query_ctx_cache_hits(cctx), hits + 1);

	/* not stored: trimmed (no EDNS: 3 of 9), a subset under
	 * a_record_limit, CNAME answers, negative answers */
	hits = dns_query_ctx_cache_hits(cctx);
	build_query("web.service.consul.", LDNS_RR_TYPE_A, NULL);
	for (r = 0; r < 5; r++)
		assert_int_equal(run_with(cctx, NULL), DNS_QUERY_REPLY);
	cfg.a_record_limit = 2;
	build_query("web.service.consul.", LDNS_RR_TYPE_A, &o);
	for (r = 0; r < 5; r++)
		assert_int_equal(run_with(cctx, &o), DNS_QUERY_REPLY);
	cfg.a_record_limit = 0;
	build_query("ext.service.consul.", LDNS_RR_TYPE_A, &o);
	for (r = 0; r < 5; r++)
		assert_int_equal(run_with(cctx, &o), DNS_QUERY_REPLY);
	build_query("dead.service.consul.", LDNS_RR_TYPE_A, &o);
	for (r = 0; r < 5; r++)
		assert_int_equal(run_with(cctx, &o), DNS_QUERY_REPLY);
	assert_int_equal(dns_query_ctx_cache_hits(cctx), hits);

	/* a flush forgets: the next query renders, the one after hits */
	dns_query_ctx_flush(cctx);
	build_query("web.service.consul.", LDNS_RR_TYPE_SRV, &o);
	assert_int_equal(run_with(cctx, &o), DNS_QUERY_REPLY);
	assert_int_equal(dns_query_ctx_cache_hits(cctx), hits);
	assert_int_equal(run_with(cctx, &o), DNS_QUERY_REPLY);
	assert_int_equal(dns_query_ctx_cache_hits(cctx), hits + 1);
	/* TCP is a question of its own */
	o.tcp = true;
	assert_int_equal(run_with(cctx, &o), DNS_QUERY_REPLY);
	assert_int_equal(dns_query_ctx_cache_hits(cctx), hits + 1);
	p = reply_check(true);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 9);
	ldns_pkt_free(p);
	dns_query_ctx_free(cctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_view_tables),
		cmocka_unit_test(test_view_many),
		cmocka_unit_test_setup(test_name_forms, reset_cfg),
		cmocka_unit_test_setup(test_config_ttl, reset_cfg),
		cmocka_unit_test_setup(test_service_a, reset_cfg),
		cmocka_unit_test_setup(test_node_health, reset_cfg),
		cmocka_unit_test_setup(test_case_and_tags, reset_cfg),
		cmocka_unit_test_setup(test_srv, reset_cfg),
		cmocka_unit_test_setup(test_rfc2782, reset_cfg),
		cmocka_unit_test_setup(test_hostname_cname, reset_cfg),
		cmocka_unit_test_setup(test_node_lookup, reset_cfg),
		cmocka_unit_test_setup(test_addr_form, reset_cfg),
		cmocka_unit_test_setup(test_ptr, reset_cfg),
		cmocka_unit_test_setup(test_apex, reset_cfg),
		cmocka_unit_test_setup(test_negative, reset_cfg),
		cmocka_unit_test_setup(test_ttl, reset_cfg),
		cmocka_unit_test_setup(test_udp_limits, reset_cfg),
		cmocka_unit_test_setup(test_edns_limits, reset_cfg),
		cmocka_unit_test_setup(test_tcp_full, reset_cfg),
		cmocka_unit_test_setup(test_trim_rollback, reset_cfg),
		cmocka_unit_test_setup(test_tc_when_nothing_fits, reset_cfg),
		cmocka_unit_test_setup(test_a_record_limit, reset_cfg),
		cmocka_unit_test_setup(test_alt_domain, reset_cfg),
		cmocka_unit_test_setup(test_shuffle, reset_cfg),
		cmocka_unit_test_setup(test_bad_header, reset_cfg),
		cmocka_unit_test_setup(test_bad_names, reset_cfg),
		cmocka_unit_test_setup(test_bad_edns, reset_cfg),
		cmocka_unit_test_setup(test_rdata_pointer_loop, reset_cfg),
		cmocka_unit_test_setup(test_policy_refusals, reset_cfg),
		cmocka_unit_test_setup(test_error_reply, reset_cfg),
		cmocka_unit_test_setup(test_answer_cache, reset_cfg),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
