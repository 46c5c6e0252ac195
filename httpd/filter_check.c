/*
 * filter_check.c — the check of a parsed ?filter= expression against the
 * element schema (see filter_int.h): every selector names a field (maps
 * take any key), the operator suits the field's type, values coerce to
 * bool and number fields, regular expressions compile (POSIX extended,
 * with the RE2 spellings translated). Reference: hashicorp/go-bexpr
 * validate.go, field_config.go, coerce.go (v0.1.x).
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "filter.h"
#include "filter_int.h"

static const char *const fop_names[] = { "Equal", "Not Equal", "In",
	"Not In", "Is Empty", "Is Not Empty", "Matches", "Not Matches" };

static const struct filter_field *
field_find(const struct filter_field *fs, const char *name)
{
	for (; fs != NULL && fs->name != NULL; fs++)
		if (strcmp(fs->name, name) == 0)
			return fs;
	return NULL;
}

/* The selector's first n segments joined by '.', for error texts. */
static void
sel_text(const struct fnode *x, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++) {
		int k = snprintf(buf + o, len - o, "%s%s", i ? "." : "",
		    x->seg[i].name);

		if (k < 0)
			break;
		o += (size_t)k;
	}
}

/* Resolves each segment's kinds; 0 or the index of the bad segment + 1. */
static size_t
resolve(struct fnode *x, const struct filter_field *schema)
{
	enum filter_kind in = FILTER_STRUCT;
	const struct filter_field *sub = schema;

	for (size_t i = 0; i < x->nseg; i++) {
		struct fseg *s = &x->seg[i];
		const struct filter_field *f;

		s->in = in;
		switch (in) {
		case FILTER_STRUCT:
		case FILTER_STRUCTLIST:
			if ((f = field_find(sub, s->name)) == NULL)
				return i + 1;
			s->kind = f->kind;
			s->sub = f->sub;
			break;
		case FILTER_STRMAP:
			s->kind = FILTER_STR;
			s->sub = NULL;
			break;
		case FILTER_STRUCTMAP:
			s->kind = FILTER_STRUCT;
			s->sub = sub;
			break;
		default:
			return i + 1;
		}
		in = s->kind;
		sub = s->sub;
	}
	return 0;
}

static bool
op_allowed(enum filter_kind k, enum fop op)
{
	switch (k) {
	case FILTER_STR:
		return true;
	case FILTER_BOOL:
	case FILTER_NUM:
		return op == OP_EQ || op == OP_NE;
	case FILTER_STRLIST:
	case FILTER_STRMAP:
	case FILTER_STRUCTMAP:
		return op == OP_IN || op == OP_NOTIN || op == OP_EMPTY ||
		    op == OP_NOTEMPTY;
	case FILTER_STRUCTLIST:
		return op == OP_EMPTY || op == OP_NOTEMPTY;
	default:
		return false;
	}
}

/*
 * RE2 spellings POSIX lacks: \d, \D (also in brackets), \A, \z, (?:...)
 * and a leading (?i).
 */
static char *
re_translate(const char *re, bool *icase)
{
	size_t n = strlen(re);
	char *o = malloc(n * 6 + 1), *p = o;
	bool in_br = false;

	if (o == NULL)
		return NULL;
	*icase = false;
	if (strncmp(re, "(?i)", 4) == 0) {
		*icase = true;
		re += 4;
	}
	for (; *re != '\0'; re++) {
		if (*re == '\\' && (re[1] == 'd' || re[1] == 'D')) {
			const char *t = re[1] == 'd' ? (in_br ? "0-9" : "[0-9]")
			    : (in_br ? "0-9" : "[^0-9]");

			p = stpcpy(p, t);
			re++;
			continue;
		}
		if (!in_br && *re == '\\' && (re[1] == 'A' || re[1] == 'z')) {
			*p++ = re[1] == 'A' ? '^' : '$';
			re++;
			continue;
		}
		if (*re == '\\' && re[1] != '\0') {
			*p++ = *re++;
			*p++ = *re;
			continue;
		}
		if (!in_br && strncmp(re, "(?:", 3) == 0) {
			*p++ = '(';
			re += 2;
			continue;
		}
		if (*re == '[' && !in_br)
			in_br = true;
		else if (*re == ']' && in_br && p[-1] != '[' &&
		    !(p[-1] == '^' && p[-2] == '['))
			in_br = false;
		*p++ = *re;
	}
	*p = '\0';
	return o;
}

static int
coerce(struct fnode *x, enum filter_kind k, char *err, size_t errlen,
    const char *sel)
{
	char *end = NULL;

	if (x->val == NULL)
		return 0;
	if (k == FILTER_BOOL) {
		static const char *const t[] = { "1", "t", "T", "TRUE", "true",
		    "True" }, *const f[] = { "0", "f", "F", "FALSE", "false",
		    "False" };

		for (size_t i = 0; i < 6; i++) {
			if (strcmp(x->val, t[i]) == 0 ||
			    strcmp(x->val, f[i]) == 0) {
				x->bval = strcmp(x->val, t[i]) == 0;
				return 0;
			}
		}
		snprintf(err, errlen, FILTER_ERR_PREFIX "Failed to coerce "
		    "value \"%s\" for selector \"%s\": strconv.ParseBool: "
		    "parsing \"%s\": invalid syntax", x->val, sel, x->val);
		return ERR_INVAL;
	}
	if (k != FILTER_NUM)
		return 0;
	errno = 0;
	x->ival = strtoll(x->val, &end, 0);
	if (errno == 0 && end != x->val && *end == '\0')
		return 0;
	errno = 0;
	x->dval = strtod(x->val, &end);
	if (errno == 0 && end != x->val && *end == '\0') {
		x->is_real = true;
		return 0;
	}
	snprintf(err, errlen, FILTER_ERR_PREFIX "Failed to coerce value \"%s\" "
	    "for selector \"%s\": strconv.ParseInt: parsing \"%s\": invalid "
	    "syntax", x->val, sel, x->val);
	return ERR_INVAL;
}

int
filter_check(struct fnode *x, const struct filter_field *schema, char *err,
    size_t errlen)
{
	char sel[256];
	size_t bad;
	enum filter_kind k;
	int rc;

	if (x->type != FN_MATCH) {
		if ((rc = filter_check(x->l, schema, err, errlen)) != 0)
			return rc;
		return x->r ? filter_check(x->r, schema, err, errlen) : 0;
	}
	if ((bad = resolve(x, schema)) != 0) {
		sel_text(x, bad, sel, sizeof(sel));
		snprintf(err, errlen, FILTER_ERR_PREFIX "Selector \"%s\" is not "
		    "valid", sel);
		return ERR_INVAL;
	}
	sel_text(x, x->nseg, sel, sizeof(sel));
	k = x->seg[x->nseg - 1].kind;
	if (!op_allowed(k, x->op)) {
		snprintf(err, errlen, FILTER_ERR_PREFIX "Invalid match operator "
		    "\"%s\" for selector \"%s\"", fop_names[x->op], sel);
		return ERR_INVAL;
	}
	if ((rc = coerce(x, k, err, errlen, sel)) != 0)
		return rc;
	if (x->op == OP_MATCHES || x->op == OP_NOTMATCHES) {
		bool icase;
		char *re = re_translate(x->val, &icase), msg[128];

		if (re == NULL)
			return ERR_NOMEM;
		rc = regcomp(&x->re, re, REG_EXTENDED | REG_NOSUB |
		    (icase ? REG_ICASE : 0));
		free(re);
		if (rc != 0) {
			regerror(rc, &x->re, msg, sizeof(msg));
			snprintf(err, errlen, FILTER_ERR_PREFIX "Failed to compile "
			    "regular expression \"%s\": %s", x->val, msg);
			return ERR_INVAL;
		}
		x->has_re = true;
	}
	return 0;
}
