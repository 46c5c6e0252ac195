/*
 * query.c — query string and key decoding (see query.h).
 *
 * Reference: Consul agent/http.go parseDC, parseConsistency, parseWait,
 * parseEntMeta (CE), conflictingFlags; Go strconv.ParseUint,
 * time.ParseDuration and Duration.String, net/url Values.Encode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "query.h"

bool
query_has(const struct query_args *a, const char *key)
{
	return query_get(a, key) != NULL;
}

const char *
query_get(const struct query_args *a, const char *key)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].key, key) == 0)
			return a->v[i].val != NULL ? a->v[i].val : "";
	return NULL;
}

int
query_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return ERR_INVAL;
	for (; *s != '\0'; s++) {
		unsigned d;
		if (*s < '0' || *s > '9')
			return ERR_INVAL;
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10) {
			for (s++; *s != '\0'; s++)
				if (*s < '0' || *s > '9')
					return ERR_INVAL;
			return ERR_TOOBIG;
		}
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static const struct {
	const char *name;
	uint64_t ns;
} query_units[] = {
	{ "ns", 1ull },
	{ "us", 1000ull },
	{ "\xc2\xb5s", 1000ull }, /* U+00B5 micro sign */
	{ "\xce\xbcs", 1000ull }, /* U+03BC Greek mu */
	{ "ms", 1000000ull },
	{ "s", 1000000000ull },
	{ "m", 60000000000ull },
	{ "h", 3600000000000ull },
};

#define QUERY_DUR_MAX (1ull << 63)

int
query_parse_duration(const char *s, int64_t *out)
{
	uint64_t d = 0;
	bool neg = false;

	if (s == NULL)
		return ERR_INVAL;
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (*s == '\0')
		return ERR_INVAL;
	while (*s != '\0') {
		uint64_t v = 0, f = 0, unit = 0;
		double scale = 1;
		bool pre = false, post = false, fover = false;
		size_t i, ulen;

		if (!(*s == '.' || (*s >= '0' && *s <= '9')))
			return ERR_INVAL;
		for (; *s >= '0' && *s <= '9'; s++) {
			pre = true;
			if (v > QUERY_DUR_MAX / 10)
				return ERR_INVAL;
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > QUERY_DUR_MAX)
				return ERR_INVAL;
		}
		if (*s == '.') {
			s++;
			for (; *s >= '0' && *s <= '9'; s++) {
				uint64_t y;
				post = true;
				if (fover)
					continue;
				if (f > (QUERY_DUR_MAX - 1) / 10) {
					fover = true;
					continue;
				}
				y = f * 10 + (uint64_t)(*s - '0');
				if (y > QUERY_DUR_MAX) {
					fover = true;
					continue;
				}
				f = y;
				scale *= 10;
			}
		}
		if (!pre && !post)
			return ERR_INVAL;
		for (ulen = 0; s[ulen] != '\0' && s[ulen] != '.' &&
		     !(s[ulen] >= '0' && s[ulen] <= '9');
		     ulen++)
			;
		if (ulen == 0)
			return ERR_INVAL;
		for (i = 0; i < sizeof(query_units) / sizeof(query_units[0]);
		     i++) {
			if (strlen(query_units[i].name) == ulen &&
			    memcmp(query_units[i].name, s, ulen) == 0) {
				unit = query_units[i].ns;
				break;
			}
		}
		if (unit == 0)
			return ERR_INVAL;
		s += ulen;
		if (v > QUERY_DUR_MAX / unit)
			return ERR_INVAL;
		v *= unit;
		if (f > 0) {
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > QUERY_DUR_MAX)
				return ERR_INVAL;
		}
		d += v;
		if (d > QUERY_DUR_MAX)
			return ERR_INVAL;
	}
	if (neg) {
		*out = d == QUERY_DUR_MAX ? INT64_MIN : -(int64_t)d;
		return 0;
	}
	if (d > QUERY_DUR_MAX - 1)
		return ERR_INVAL;
	*out = (int64_t)d;
	return 0;
}

/* Go's fmtFrac: writes ".ddd" (trailing zeros dropped) before buf[w]. */
static size_t
query_fmt_frac(char *buf, size_t w, uint64_t *v, int prec)
{
	bool print = false;
	int i;

	for (i = 0; i < prec; i++) {
		unsigned digit = (unsigned)(*v % 10);
		print = print || digit != 0;
		if (print)
			buf[--w] = (char)('0' + digit);
		*v /= 10;
	}
	if (print)
		buf[--w] = '.';
	return w;
}

static size_t
query_fmt_int(char *buf, size_t w, uint64_t v)
{
	if (v == 0) {
		buf[--w] = '0';
		return w;
	}
	while (v > 0) {
		buf[--w] = (char)('0' + v % 10);
		v /= 10;
	}
	return w;
}

void
query_format_duration(int64_t d, char *out, size_t size)
{
	char buf[32];
	size_t w = sizeof(buf);
	uint64_t u = (uint64_t)d;
	bool neg = d < 0;

	if (neg)
		u = -u;
	if (u < 1000000000ull) {
		int prec;
		if (u == 0) {
			snprintf(out, size, "0s");
			return;
		}
		buf[--w] = 's';
		if (u < 1000ull) {
			prec = 0;
			buf[--w] = 'n';
		} else if (u < 1000000ull) {
			prec = 3;
			buf[--w] = '\xb5';
			buf[--w] = '\xc2';
		} else {
			prec = 6;
			buf[--w] = 'm';
		}
		w = query_fmt_frac(buf, w, &u, prec);
		w = query_fmt_int(buf, w, u);
	} else {
		buf[--w] = 's';
		w = query_fmt_frac(buf, w, &u, 9);
		w = query_fmt_int(buf, w, u % 60);
		u /= 60;
		if (u > 0) {
			buf[--w] = 'm';
			w = query_fmt_int(buf, w, u % 60);
			u /= 60;
			if (u > 0) {
				buf[--w] = 'h';
				w = query_fmt_int(buf, w, u);
			}
		}
	}
	if (neg)
		buf[--w] = '-';
	snprintf(out, size, "%.*s", (int)(sizeof(buf) - w), buf + w);
}

/* Consul CE refuses non-default namespaces and partitions (parseEntMeta). */
static int
query_check_ent(const struct query_args *a, const char **why)
{
	const char *ns = query_get(a, "ns");
	const char *ap = query_get(a, "partition");

	if (ns != NULL && *ns != '\0' && strcmp(ns, "default") != 0) {
		*why = "Invalid query parameter: \"ns\" - Namespaces are a "
		       "Consul Enterprise feature";
		return ERR_INVAL;
	}
	if (ap != NULL && *ap != '\0' && strcmp(ap, "default") != 0) {
		*why = "Invalid query parameter: \"partition\" - Partitions "
		       "are a Consul Enterprise feature";
		return ERR_INVAL;
	}
	return 0;
}

static int
query_parse_consistency(const struct query_args *a, struct query_opts *o,
    const char **why)
{
	bool stale = query_has(a, "stale");
	bool consistent = query_has(a, "consistent");
	const char *ms = query_get(a, "max_stale");
	int64_t d;

	if (ms != NULL && *ms != '\0') {
		if (query_parse_duration(ms, &d) != 0) {
			*why = "Invalid max stale time";
			return ERR_INVAL;
		}
		if (d > 0)
			stale = true;
	}
	if (stale && consistent) {
		*why = "Cannot specify ?stale with ?consistent, conflicting "
		       "semantics.";
		return ERR_INVAL;
	}
	o->consistency = stale ? QUERY_STALE :
	    consistent	       ? QUERY_CONSISTENT :
				 QUERY_DEFAULT;
	return 0;
}

static int
query_parse_wait(const struct query_args *a, const struct query_limits *lim,
    struct query_opts *o, const char **why)
{
	const char *w = query_get(a, "wait");
	const char *idx = query_get(a, "index");
	int64_t ns = 0;
	uint64_t ms;

	if (w != NULL && *w != '\0' && query_parse_duration(w, &ns) != 0) {
		*why = "Invalid wait time";
		return ERR_INVAL;
	}
	if (idx != NULL && *idx != '\0' &&
	    query_parse_u64(idx, &o->index) != 0) {
		*why = "Invalid index";
		return ERR_INVAL;
	}
	/* Consul's blockingQuery: <= 0 is the default, above max the max. */
	if (ns <= 0)
		ms = lim->default_query_ms;
	else
		ms = ((uint64_t)ns + 999999) / 1000000;
	if (ms > lim->max_query_ms)
		ms = lim->max_query_ms;
	o->wait_ms = (uint32_t)ms;
	return 0;
}

int
query_parse_opts(const struct query_args *a, const struct query_limits *lim,
    struct query_opts *o, int *status, const char **why)
{
	const char *dc;
	int rc;

	memset(o, 0, sizeof(*o));
	*status = 400;
	dc = query_get(a, "dc");
	o->dc = dc != NULL && *dc != '\0' ? dc : lim->datacenter;
	o->token = query_get(a, "token");
	o->filter = query_get(a, "filter");
	o->pretty = query_has(a, "pretty");
	if ((rc = query_check_ent(a, why)) != 0)
		return rc;
	if ((rc = query_parse_consistency(a, o, why)) != 0)
		return rc;
	if ((rc = query_parse_wait(a, lim, o, why)) != 0)
		return rc;
	if (lim->datacenter != NULL && strcmp(o->dc, lim->datacenter) != 0) {
		/* Only the local datacenter is reachable for now (§1.7). */
		*status = 500;
		*why = "No path to datacenter";
		return ERR_INVAL;
	}
	return 0;
}

/* Appends Go's url.QueryEscape(s) to *p (caller sized it 3x + 1). */
static char *
query_escape_to(char *p, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~') {
			*p++ = (char)c;
		} else if (c == ' ') {
			*p++ = '+';
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	return p;
}

int
query_encode(const struct query_args *a, char **out)
{
	size_t i, j, cap = 1, nk = 0;
	const char **keys;
	char *buf, *p;

	for (i = 0; i < a->n; i++) {
		cap += 3 * strlen(a->v[i].key) + 2;
		if (a->v[i].val != NULL)
			cap += 3 * strlen(a->v[i].val);
	}
	if ((keys = calloc(a->n + 1, sizeof(*keys))) == NULL)
		return ERR_NOMEM;
	if ((buf = malloc(cap)) == NULL) {
		free(keys);
		return ERR_NOMEM;
	}
	/* Distinct keys, insertion-sorted (a query has few parameters). */
	for (i = 0; i < a->n; i++) {
		const char *k = a->v[i].key;
		for (j = 0; j < nk && strcmp(keys[j], k) != 0; j++)
			;
		if (j < nk)
			continue;
		for (j = nk; j > 0 && strcmp(keys[j - 1], k) > 0; j--)
			keys[j] = keys[j - 1];
		keys[j] = k;
		nk++;
	}
	p = buf;
	for (j = 0; j < nk; j++) {
		for (i = 0; i < a->n; i++) {
			if (strcmp(a->v[i].key, keys[j]) != 0)
				continue;
			if (p != buf)
				*p++ = '&';
			p = query_escape_to(p, keys[j]);
			*p++ = '=';
			if (a->v[i].val != NULL)
				p = query_escape_to(p, a->v[i].val);
		}
	}
	*p = '\0';
	free(keys);
	*out = buf;
	return 0;
}

/* Decodes one UTF-8 rune at s; returns its length or 0 when invalid. */
static size_t
query_utf8(const unsigned char *s, size_t n, uint32_t *rune)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;
	uint32_t r;

	if (c < 0x80) {
		*rune = c;
		return 1;
	}
	if (c < 0xc2 || c > 0xf4)
		return 0;
	len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	r = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	r = (r << 6) | (s[1] & 0x3f);
	for (i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
		r = (r << 6) | (s[i] & 0x3f);
	}
	*rune = r;
	return len;
}

/* Control, format and non-ASCII space runes: what Go's unicode.IsPrint
 * refuses among those that show up in practice. */
static bool
query_unprintable(uint32_t r)
{
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0xa0) ||
	    r == 0xad || r == 0x1680 || (r >= 0x2000 && r <= 0x200f) ||
	    (r >= 0x2028 && r <= 0x202f) || (r >= 0x205f && r <= 0x206f) ||
	    r == 0x3000 || r == 0xfeff || (r >= 0xfff9 && r <= 0xfffb) ||
	    (r >= 0xe000 && r <= 0xf8ff) || (r & 0xfffe) == 0xfffe;
}

int
query_check_key(const char *key, size_t len, const char **why)
{
	const unsigned char *s = (const unsigned char *)key;
	size_t i = 0, l;
	uint32_t r;

	if (len > 0 && key[0] == '/') {
		*why = "Invalid key name: a key must not begin with '/'";
		return ERR_INVAL;
	}
	while (i < len) {
		if ((l = query_utf8(s + i, len - i, &r)) == 0) {
			*why = "Invalid key name: a key must be valid UTF-8";
			return ERR_INVAL;
		}
		if (query_unprintable(r)) {
			*why = "Invalid key name: a key must not contain "
			       "control or unprintable characters";
			return ERR_INVAL;
		}
		if (r == '/' && i + 1 < len && s[i + 1] == '/') {
			*why = "Invalid key name: a key must not contain '//'";
			return ERR_INVAL;
		}
		i += l;
	}
	return 0;
}
