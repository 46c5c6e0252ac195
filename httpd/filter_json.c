/*
 * filter_json.c — applies a compiled ?filter= to a JSON list httpd has
 * already rendered (see filter_json_list in filter.h).
 *
 * Why on text: every handler renders its list through json.c field by
 * field; keeping the kept elements' bytes as written (and the whitespace
 * the indented form puts before each element and before the closing
 * bracket) leaves the output byte-identical to the unfiltered rendering
 * minus the dropped elements. Each element is parsed with jansson only
 * to evaluate it. Reference: Go encoding/json indent.go (empty arrays and
 * objects print as [] and {} even indented).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "err.h"
#include "filter.h"

static size_t
skip_ws(const char *t, size_t n, size_t p)
{
	while (p < n && (t[p] == ' ' || t[p] == '\t' || t[p] == '\n' ||
	    t[p] == '\r'))
		p++;
	return p;
}

/* The end of the string starting at t[p] == '"', or 0. */
static size_t
skip_str(const char *t, size_t n, size_t p)
{
	for (p++; p < n; p++) {
		if (t[p] == '\\')
			p++;
		else if (t[p] == '"')
			return p + 1;
	}
	return 0;
}

/* The end of the value at t[p], or 0. */
static size_t
skip_value(const char *t, size_t n, size_t p)
{
	int depth = 0;

	if (p >= n)
		return 0;
	if (t[p] == '"')
		return skip_str(t, n, p);
	if (t[p] != '{' && t[p] != '[') {
		while (p < n && t[p] != ',' && t[p] != ']' && t[p] != '}' &&
		    t[p] != ' ' && t[p] != '\n' && t[p] != '\t' &&
		    t[p] != '\r')
			p++;
		return p;
	}
	for (; p < n; p++) {
		if (t[p] == '"') {
			if ((p = skip_str(t, n, p)) == 0)
				return 0;
			p--;
		} else if (t[p] == '{' || t[p] == '[') {
			depth++;
		} else if ((t[p] == '}' || t[p] == ']') && --depth == 0) {
			return p + 1;
		}
	}
	return 0;
}

struct member {
	size_t from;      /* after the '[' or ',' before it */
	size_t key;       /* start of the key (objects) */
	size_t vs, ve;    /* the value */
};

/*
 * Scans the container t[cs..] ('[' or '{'): its members into *ms (owned),
 * the offset of its closing bracket into *close. 0 or an error.
 */
static int
scan(const char *t, size_t n, size_t cs, struct member **ms, size_t *nm,
    size_t *close)
{
	bool obj = t[cs] == '{';
	size_t p = cs + 1, cap = 0;
	struct member m;

	*ms = NULL;
	*nm = 0;
	for (;;) {
		m.from = p;
		p = skip_ws(t, n, p);
		if (p < n && t[p] == (obj ? '}' : ']') && *nm == 0) {
			*close = p;
			return 0;
		}
		m.key = p;
		if (obj) {
			if (p >= n || t[p] != '"' ||
			    (p = skip_str(t, n, p)) == 0)
				return ERR_INVAL;
			p = skip_ws(t, n, p);
			if (p >= n || t[p] != ':')
				return ERR_INVAL;
			p = skip_ws(t, n, p + 1);
		}
		m.vs = p;
		if ((p = skip_value(t, n, p)) == 0 || p == m.vs)
			return ERR_INVAL;
		m.ve = p;
		if (*nm == cap) {
			struct member *nmv;

			cap = cap ? cap * 2 : 16;
			if ((nmv = realloc(*ms, cap * sizeof(*nmv))) == NULL)
				return ERR_NOMEM;
			*ms = nmv;
		}
		(*ms)[(*nm)++] = m;
		p = skip_ws(t, n, p);
		if (p < n && t[p] == ',') {
			p++;
			continue;
		}
		if (p < n && t[p] == (obj ? '}' : ']')) {
			*close = p;
			return 0;
		}
		return ERR_INVAL;
	}
}

int
filter_match_text(const struct filter *f, const char *text, size_t len,
    bool *out)
{
	json_error_t je;
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    &je);

	if (v == NULL)
		return ERR_INVAL;
	*out = filter_match(f, v);
	json_decref(v);
	return 0;
}

static int
keep(const struct filter *f, const char *t, const struct member *m,
    bool *out)
{
	return filter_match_text(f, t + m->vs, m->ve - m->vs, out);
}

/*
 * Writes the filtered container t[cs..close] to o (room for its length);
 * returns the bytes written through *ol, 0 or an error.
 */
static int
filter_container(const struct filter *f, const char *t, size_t n, size_t cs,
    char *o, size_t *ol, size_t *end)
{
	struct member *ms;
	size_t nm, close, w = 0, kept = 0;
	int rc;

	if ((rc = scan(t, n, cs, &ms, &nm, &close)) != 0) {
		free(ms);
		return rc;
	}
	o[w++] = t[cs];
	for (size_t i = 0; i < nm; i++) {
		bool k;

		if ((rc = keep(f, t, &ms[i], &k)) != 0) {
			free(ms);
			return rc;
		}
		if (!k)
			continue;
		if (kept++ > 0)
			o[w++] = ',';
		memcpy(o + w, t + ms[i].from, ms[i].ve - ms[i].from);
		w += ms[i].ve - ms[i].from;
	}
	if (kept > 0) { /* the space before the bracket, after the last */
		size_t ws = skip_ws(t, n, ms[nm - 1].ve);

		memcpy(o + w, t + ms[nm - 1].ve, ws - ms[nm - 1].ve);
		w += ws - ms[nm - 1].ve;
	}
	o[w++] = t[close];
	free(ms);
	*ol = w;
	*end = close + 1;
	return 0;
}

/* The value range of member key of the object at t[cs], or ERR_NOTFOUND. */
static int
find_member(const char *t, size_t n, size_t cs, const char *key, size_t *vs,
    size_t *ve)
{
	struct member *ms;
	size_t nm, close, kl = strlen(key);
	int rc;

	if ((rc = scan(t, n, cs, &ms, &nm, &close)) != 0) {
		free(ms);
		return rc;
	}
	rc = ERR_NOTFOUND;
	for (size_t i = 0; i < nm; i++) {
		const char *k = t + ms[i].key;

		if (k[0] == '"' && memcmp(k + 1, key, kl) == 0 &&
		    k[kl + 1] == '"') {
			*vs = ms[i].vs;
			*ve = ms[i].ve;
			rc = 0;
			break;
		}
	}
	free(ms);
	return rc;
}

int
filter_json_list(const struct filter *f, char *text, size_t *len,
    const char *inner)
{
	size_t n = *len, cs = skip_ws(text, n, 0), ve = 0, ol = 0, end = 0;
	char *o;
	int rc;

	if (cs >= n)
		return ERR_INVAL;
	if (text[cs] == 'n')
		return 0; /* null: nothing to filter */
	if (inner != NULL) {
		if (text[cs] != '{')
			return ERR_INVAL;
		if ((rc = find_member(text, n, cs, inner, &cs, &ve)) != 0)
			return rc == ERR_NOTFOUND ? 0 : rc;
		if (text[cs] == 'n')
			return 0;
	}
	if (text[cs] != '[' && text[cs] != '{')
		return ERR_INVAL;
	if ((o = malloc(n)) == NULL)
		return ERR_NOMEM;
	if ((rc = filter_container(f, text, n, cs, o, &ol, &end)) == 0) {
		memcpy(text + cs, o, ol);
		memmove(text + cs + ol, text + end, n - end);
		*len = cs + ol + (n - end);
	}
	free(o);
	return rc;
}
