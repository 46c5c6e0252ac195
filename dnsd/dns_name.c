/*
 * dns_name.c — query name classification for dnsd (Consul's name forms).
 *
 * Key decision: like Consul's dns.go, the labels left of the domain are read
 * right to left: an optional "<dc>.dc" or bare "<dc>" label, then the form
 * keyword ("node", "service", "addr"); the RFC 2782 form "_svc._tag" is
 * recognised first, with ".service" optional. Everything is compared
 * case-insensitively and points into the caller's wire bytes, so the
 * question can be echoed byte for byte (0x20). Reference: consul-api.md
 * §5.2; RFC 2782; RFC 1035 §3.5 (in-addr.arpa); RFC 3596 §2.5 (ip6.arpa).
 */
#include "dnsd/dns_name.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "err.h"

#define NAME_MAX_DOMAIN_LABELS 32

static bool
lbl_is(struct dns_label l, const char *s)
{
	size_t n = strlen(s);

	return l.len == n && strncasecmp(l.p, s, n) == 0;
}

static size_t
split_wire(const uint8_t *wire, size_t len, struct dns_label *l)
{
	size_t pos = 0, n = 0;

	while (pos < len && wire[pos] != 0 && n < DNS_NAME_MAX_LABELS) {
		uint8_t ll = wire[pos];

		if (pos + 1 + ll > len)
			break;
		l[n].p = (const char *)wire + pos + 1;
		l[n].len = ll;
		n++;
		pos += 1 + ll;
	}
	return n;
}

/* Splits a presentation-form domain ("consul." or "a.b") into labels. */
static size_t
split_text(const char *s, struct dns_label *l, size_t max)
{
	size_t n = 0;

	while (s != NULL && *s != '\0' && n < max) {
		const char *dot = strchr(s, '.');
		size_t ll = dot ? (size_t)(dot - s) : strlen(s);

		if (ll == 0 || ll > 63)
			return 0;
		l[n].p = s;
		l[n].len = (uint8_t)ll;
		n++;
		s += ll;
		if (*s == '.')
			s++;
	}
	return n;
}

/* Number of labels of domain matched at the tail of q, or -1. */
static int
match_domain(const struct dns_label *q, size_t nq, const char *domain)
{
	struct dns_label d[NAME_MAX_DOMAIN_LABELS];
	size_t nd = split_text(domain, d, NAME_MAX_DOMAIN_LABELS), i;

	if (nd == 0 || nd > nq)
		return -1;
	for (i = 0; i < nd; i++) {
		struct dns_label a = q[nq - nd + i], b = d[i];

		if (a.len != b.len || strncasecmp(a.p, b.p, a.len) != 0)
			return -1;
	}
	return (int)nd;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
parse_hex_addr(struct dns_label l, struct dns_addr *a)
{
	size_t i, n;

	memset(a, 0, sizeof(*a));
	if (l.len == 8)
		n = 4;
	else if (l.len == 32)
		n = 16;
	else
		return;
	for (i = 0; i < l.len; i++)
		if (hexval(l.p[i]) < 0)
			return;
	for (i = 0; i < n; i++)
		a->ip[i] = (uint8_t)(hexval(l.p[2 * i]) << 4 |
		    hexval(l.p[2 * i + 1]));
	a->family = n == 4 ? DNS_ADDR_V4 : DNS_ADDR_V6;
}

static void
parse_ptr(const struct dns_label *l, size_t n, bool v6, struct dns_addr *a)
{
	size_t i, j;

	memset(a, 0, sizeof(*a));
	if (!v6) {
		if (n != 4)
			return;
		for (i = 0; i < 4; i++) {
			unsigned v = 0;

			if (l[i].len < 1 || l[i].len > 3)
				return;
			for (j = 0; j < l[i].len; j++) {
				if (l[i].p[j] < '0' || l[i].p[j] > '9')
					return;
				v = v * 10 + (unsigned)(l[i].p[j] - '0');
			}
			if (v > 255)
				return;
			a->ip[3 - i] = (uint8_t)v;
		}
		a->family = DNS_ADDR_V4;
		return;
	}
	if (n != 32)
		return;
	for (i = 0; i < 32; i++) {
		int v = l[i].len == 1 ? hexval(l[i].p[0]) : -1;

		if (v < 0)
			return;
		/* label 0 is the lowest nibble of byte 15 */
		a->ip[15 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
	}
	a->family = DNS_ADDR_V6;
}

static bool
is_keyword(struct dns_label l)
{
	return lbl_is(l, "node") || lbl_is(l, "service") ||
	    lbl_is(l, "addr") || lbl_is(l, "query") || lbl_is(l, "connect") ||
	    lbl_is(l, "ingress") || lbl_is(l, "virtual");
}

static bool
underscored(struct dns_label l)
{
	return l.len >= 2 && l.p[0] == '_';
}

/* _<svc>._<tag>[.service][.<dc>[.dc]] */
static bool
parse_rfc2782(const struct dns_label *r, size_t m, struct dns_name *out)
{
	size_t k = 2;

	if (m < 2 || !underscored(r[0]) || !underscored(r[1]))
		return false;
	if (k < m && lbl_is(r[k], "service"))
		k++;
	if (k < m) {
		out->dc = r[k++];
		if (k < m && lbl_is(r[k], "dc"))
			k++;
	}
	if (k != m)
		return false;
	out->kind = DNS_NAME_SERVICE;
	out->rfc2782 = true;
	out->service.p = r[0].p + 1;
	out->service.len = r[0].len - 1;
	if (!lbl_is(r[1], "_tcp") && !lbl_is(r[1], "_udp")) {
		out->tag.p = r[1].p + 1;
		out->tag.len = r[1].len - 1;
	}
	return true;
}

static void
join_node(const struct dns_label *r, size_t n, struct dns_name *out)
{
	size_t i, pos = 0;

	for (i = 0; i < n; i++) {
		if (pos + r[i].len + 1 >= sizeof(out->node)) {
			out->kind = DNS_NAME_INVALID;
			return;
		}
		if (i)
			out->node[pos++] = '.';
		memcpy(out->node + pos, r[i].p, r[i].len);
		pos += r[i].len;
	}
	out->node[pos] = '\0';
	out->node_len = pos;
	out->kind = DNS_NAME_NODE;
}

static void
parse_in_domain(const struct dns_label *r, size_t m, struct dns_name *out)
{
	struct dns_label kw;

	out->kind = DNS_NAME_INVALID;
	if (m == 0) {
		out->kind = DNS_NAME_APEX;
		return;
	}
	if (parse_rfc2782(r, m, out))
		return;
	if (m >= 3 && lbl_is(r[m - 1], "dc")) {
		out->dc = r[m - 2];
		m -= 2;
	} else if (m >= 2 && !is_keyword(r[m - 1])) {
		out->dc = r[m - 1];
		m -= 1;
	}
	if (m < 2)
		return;
	kw = r[m - 1];
	if (lbl_is(kw, "node")) {
		join_node(r, m - 1, out);
	} else if (lbl_is(kw, "service")) {
		if (m == 2) {
			out->service = r[0];
		} else if (m == 3) {
			out->tag = r[0];
			out->service = r[1];
		} else
			return;
		out->kind = DNS_NAME_SERVICE;
	} else if (lbl_is(kw, "addr") && m == 2) {
		out->kind = DNS_NAME_ADDR;
		parse_hex_addr(r[0], &out->addr);
	}
}

void
dns_name_parse(const struct dns_config *cfg, const uint8_t *wire, size_t len,
    struct dns_name *out)
{
	struct dns_label l[DNS_NAME_MAX_LABELS];
	size_t n = split_wire(wire, len, l);
	int dp, da = -1;

	memset(out, 0, sizeof(*out));
	out->kind = DNS_NAME_OUTSIDE;
	if (n >= 2 && lbl_is(l[n - 1], "arpa") &&
	    (lbl_is(l[n - 2], "in-addr") || lbl_is(l[n - 2], "ip6"))) {
		out->kind = DNS_NAME_PTR;
		out->domain = cfg->domain;
		parse_ptr(l, n - 2, lbl_is(l[n - 2], "ip6"), &out->addr);
		return;
	}
	dp = match_domain(l, n, cfg->domain);
	if (cfg->alt_domain != NULL && cfg->alt_domain[0] != '\0')
		da = match_domain(l, n, cfg->alt_domain);
	if (dp < 0 && da < 0)
		return;
	if (da > dp) { /* the longer (more specific) domain wins */
		out->alt = true;
		out->domain = cfg->alt_domain;
		parse_in_domain(l, n - (size_t)da, out);
	} else {
		out->domain = cfg->domain;
		parse_in_domain(l, n - (size_t)dp, out);
	}
}

bool
dns_name_dc_ok(const struct dns_config *cfg, const struct dns_name *name)
{
	if (name->dc.len == 0)
		return true;
	return cfg->datacenter != NULL && lbl_is(name->dc, cfg->datacenter);
}

int
dns_name_append_label(char *dst, size_t cap, const char *src, size_t len)
{
	size_t pos = strlen(dst), start = pos, i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_';

		if (pos + (plain ? 1 : 4) + 1 > cap) {
			dst[start] = '\0';
			return ERR_TOOBIG;
		}
		if (plain)
			dst[pos++] = (char)c;
		else
			pos += (size_t)snprintf(dst + pos, cap - pos, "\\%03u",
			    c);
	}
	dst[pos] = '\0';
	return 0;
}

int
dns_name_append(char *dst, size_t cap, const char *s)
{
	size_t pos = strlen(dst), n = strlen(s);

	if (pos + n + 1 > cap)
		return ERR_TOOBIG;
	memcpy(dst + pos, s, n + 1);
	return 0;
}

void
dns_name_hex_ip(const struct dns_addr *a, char *dst)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n = a->family == DNS_ADDR_V4 ? 4 : 16;

	for (i = 0; i < n; i++) {
		dst[2 * i] = hex[a->ip[i] >> 4];
		dst[2 * i + 1] = hex[a->ip[i] & 15];
	}
	dst[2 * n] = '\0';
}
