/*
 * filter.c — the ?filter= expression language (see filter.h): a
 * recursive-descent parser of go-bexpr's PEG grammar, the selector check
 * against the element schema, and evaluation on a jansson value.
 *
 * The parser follows grammar.peg rule by rule, backtracking where the
 * PEG does (a failed `not` or `and` alternative falls back); a failure
 * reports the farthest offset reached, in pigeon's `1:col (offset)`
 * form. Validation runs after a successful parse, as go-bexpr's
 * validate.go does: unknown selectors, operators the field's type does
 * not support, values that do not coerce, regular expressions that do
 * not compile. Reference: hashicorp/go-bexpr grammar/grammar.peg,
 * validate.go, evaluate.go, field_config.go (v0.1.x, as Consul 1.x
 * used it); spec/consul-api.md §1.8.
 */
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "err.h"
#include "filter.h"

enum fnode_type { FN_AND, FN_OR, FN_NOT, FN_MATCH };

enum fop {
	OP_EQ, OP_NE, OP_IN, OP_NOTIN, OP_EMPTY, OP_NOTEMPTY, OP_MATCHES,
	OP_NOTMATCHES,
};

static const char *const fop_names[] = { "Equal", "Not Equal", "In",
	"Not In", "Is Empty", "Is Not Empty", "Matches", "Not Matches" };

/* One selector segment: its name and the kinds around it. */
struct fseg {
	char *name;
	enum filter_kind in;   /* the value the segment selects from */
	enum filter_kind kind; /* the value it selects */
	const struct filter_field *sub;
};

struct fnode {
	enum fnode_type type;
	struct fnode *l, *r;
	/* FN_MATCH */
	enum fop op;
	struct fseg *seg;
	size_t nseg;
	char *val; /* NULL for is (not) empty */
	size_t vlen;
	bool has_re, bval, is_real;
	regex_t re;
	long long ival;
	double dval;
};

struct filter {
	struct fnode *root;
};

struct fparser {
	const char *s;
	size_t n, p;
	size_t far;       /* farthest failure offset */
	const char *want; /* what was expected there */
	const char *custom; /* a rule's own error, at custom_at */
	size_t custom_at;
	bool nomem;
};

/* ---- the tree ---- */

static void
fnode_free(struct fnode *x)
{
	if (x == NULL)
		return;
	fnode_free(x->l);
	fnode_free(x->r);
	for (size_t i = 0; i < x->nseg; i++)
		free(x->seg[i].name);
	free(x->seg);
	free(x->val);
	if (x->has_re)
		regfree(&x->re);
	free(x);
}

void
filter_free(struct filter *f)
{
	if (f == NULL)
		return;
	fnode_free(f->root);
	free(f);
}

static struct fnode *
fnode_new(struct fparser *ps, enum fnode_type t, struct fnode *l,
    struct fnode *r)
{
	struct fnode *x = calloc(1, sizeof(*x));

	if (x == NULL) {
		ps->nomem = true;
		fnode_free(l);
		fnode_free(r);
		return NULL;
	}
	x->type = t;
	x->l = l;
	x->r = r;
	return x;
}

/* ---- lexical pieces ---- */

static void
fail(struct fparser *ps, size_t at, const char *want)
{
	if (at > ps->far || ps->want == NULL) {
		ps->far = at;
		ps->want = want;
	}
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* _? */
static void
ws_opt(struct fparser *ps)
{
	while (ps->p < ps->n && is_ws(ps->s[ps->p]))
		ps->p++;
}

/* _ (at least one) */
static bool
ws_req(struct fparser *ps)
{
	if (ps->p >= ps->n || !is_ws(ps->s[ps->p])) {
		fail(ps, ps->p, "whitespace");
		return false;
	}
	ws_opt(ps);
	return true;
}

static bool
lit(struct fparser *ps, const char *w)
{
	size_t l = strlen(w);

	if (ps->n - ps->p < l || memcmp(ps->s + ps->p, w, l) != 0) {
		fail(ps, ps->p, w);
		return false;
	}
	ps->p += l;
	return true;
}

/* _ w _ with backtracking on failure. */
static bool
word_between_ws(struct fparser *ps, const char *w, bool trailing)
{
	size_t save = ps->p;

	if (ws_req(ps) && lit(ps, w) && (!trailing || ws_req(ps)))
		return true;
	ps->p = save;
	return false;
}

static int
hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t
utf8_put(char *o, uint32_t cp)
{
	if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
		cp = 0xfffd;
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* One escape of Go's strconv.Unquote at in[*i] (after '\'); -1: bad. */
static int
unescape(const char *in, size_t n, size_t *i, char *o, size_t *ol)
{
	static const char from[] = "abfnrtv\\\"", to[] = "\a\b\f\n\r\t\v\\\"";
	const char *m;
	size_t digits = 0;
	uint32_t cp = 0;
	char c;

	if (*i >= n)
		return -1;
	c = in[(*i)++];
	if ((m = strchr(from, c)) != NULL && c != '\0') {
		o[(*ol)++] = to[m - from];
		return 0;
	}
	if (c >= '0' && c <= '7') {
		cp = (uint32_t)(c - '0');
		for (int k = 0; k < 2; k++) {
			if (*i >= n || in[*i] < '0' || in[*i] > '7')
				return -1;
			cp = cp * 8 + (uint32_t)(in[(*i)++] - '0');
		}
		if (cp > 255)
			return -1;
		o[(*ol)++] = (char)cp;
		return 0;
	}
	digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
	if (digits == 0)
		return -1;
	for (size_t k = 0; k < digits; k++) {
		int h = *i < n ? hexval(in[*i]) : -1;

		if (h < 0)
			return -1;
		cp = cp * 16 + (uint32_t)h;
		(*i)++;
	}
	if (c == 'x')
		o[(*ol)++] = (char)cp;
	else
		*ol += utf8_put(o + *ol, cp);
	return 0;
}

/*
 * StringLiteral: a back-quoted raw string (\r dropped) or a double-quoted
 * one ending at the next '"' (as the PEG: `"a\"b"` does not parse) and
 * unquoted with Go's escapes.
 */
static bool
string_lit(struct fparser *ps, char **out, size_t *olen)
{
	char q = ps->p < ps->n ? ps->s[ps->p] : '\0';
	const char *b, *e;
	size_t start = ps->p, i, ol = 0, l;
	char *o;

	if (q != '"' && q != '`') {
		fail(ps, ps->p, "string");
		return false;
	}
	b = ps->s + ps->p + 1;
	e = memchr(b, q, ps->n - ps->p - 1);
	if (e == NULL) {
		ps->custom = "Unterminated string literal";
		ps->custom_at = start;
		fail(ps, ps->n, "\"\\\"\"");
		return false;
	}
	l = (size_t)(e - b);
	if ((o = malloc(l + 1)) == NULL) {
		ps->nomem = true;
		return false;
	}
	for (i = 0; i < l;) {
		if (q == '`') {
			if (b[i] != '\r')
				o[ol++] = b[i];
			i++;
		} else if (b[i] == '\\') {
			i++;
			if (unescape(b, l, &i, o, &ol) != 0) {
				free(o);
				ps->custom = "invalid syntax";
				ps->custom_at = start;
				fail(ps, start, "string");
				return false;
			}
		} else if (b[i] == '\n') {
			free(o);
			ps->custom = "invalid syntax";
			ps->custom_at = start;
			fail(ps, start, "string");
			return false;
		} else {
			o[ol++] = b[i++];
		}
	}
	o[ol] = '\0';
	*out = o;
	*olen = ol;
	ps->p = (size_t)(e - ps->s) + 1;
	return true;
}

/* ---- selectors and values ---- */

struct fsel {
	char **part;
	size_t n;
};

static void
fsel_free(struct fsel *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->part[i]);
	free(s->part);
	s->part = NULL;
	s->n = 0;
}

static bool
fsel_add(struct fparser *ps, struct fsel *s, const char *p, size_t l)
{
	char **np = realloc(s->part, (s->n + 1) * sizeof(*np));
	char *c;

	if (np == NULL || (c = strndup(p, l)) == NULL) {
		if (np != NULL)
			s->part = np;
		ps->nomem = true;
		return false;
	}
	s->part = np;
	s->part[s->n++] = c;
	return true;
}

/* Identifier <- [a-zA-Z] [a-zA-Z0-9_/]* */
static size_t
ident_len(const struct fparser *ps, size_t at)
{
	size_t i = at;

	if (i >= ps->n || !is_alpha(ps->s[i]))
		return 0;
	for (i++; i < ps->n && (is_alpha(ps->s[i]) || is_digit(ps->s[i]) ||
	    ps->s[i] == '_' || ps->s[i] == '/'); i++)
		;
	return i - at;
}

/* ["k"] with optional spaces inside. */
static bool
index_expr(struct fparser *ps, struct fsel *s)
{
	size_t save = ps->p;
	char *k;
	size_t kl;

	ps->p++; /* '[' */
	ws_opt(ps);
	if (!string_lit(ps, &k, &kl)) {
		if (!ps->nomem && ps->custom == NULL) {
			ps->custom = "Invalid index";
			ps->custom_at = save;
		}
		ps->p = save;
		return false;
	}
	ws_opt(ps);
	if (ps->p >= ps->n || ps->s[ps->p] != ']') {
		free(k);
		ps->custom = "Unclosed index expression";
		ps->custom_at = save;
		fail(ps, ps->p, "\"]\"");
		ps->p = save;
		return false;
	}
	ps->p++;
	if (!fsel_add(ps, s, k, kl)) {
		free(k);
		return false;
	}
	free(k);
	return true;
}

static bool
selector(struct fparser *ps, struct fsel *s)
{
	size_t l = ident_len(ps, ps->p), save = ps->p;

	memset(s, 0, sizeof(*s));
	if (l == 0) {
		fail(ps, ps->p, "selector");
		return false;
	}
	if (!fsel_add(ps, s, ps->s + ps->p, l))
		return false;
	ps->p += l;
	for (;;) {
		char c = ps->p < ps->n ? ps->s[ps->p] : '\0';

		if (c == '.' && (l = ident_len(ps, ps->p + 1)) > 0) {
			if (!fsel_add(ps, s, ps->s + ps->p + 1, l))
				break;
			ps->p += 1 + l;
		} else if (c == '.' && ps->p + 1 < ps->n &&
		    is_digit(ps->s[ps->p + 1])) {
			for (l = 1; ps->p + 1 + l < ps->n &&
			    is_digit(ps->s[ps->p + 1 + l]); l++)
				;
			if (!fsel_add(ps, s, ps->s + ps->p + 1, l))
				break;
			ps->p += 1 + l;
		} else if (c == '[') {
			if (!index_expr(ps, s))
				break;
		} else {
			return true;
		}
	}
	fsel_free(s);
	ps->p = save;
	return false;
}

/* NumberLiteral; the text is kept raw. */
static bool
number_lit(struct fparser *ps, char **out, size_t *olen)
{
	size_t i = ps->p;

	if (i < ps->n && ps->s[i] == '-')
		i++;
	if (i >= ps->n || !is_digit(ps->s[i])) {
		fail(ps, ps->p, "number");
		return false;
	}
	if (ps->s[i] == '0')
		i++;
	else
		while (i < ps->n && is_digit(ps->s[i]))
			i++;
	if (i + 1 < ps->n && ps->s[i] == '.' && is_digit(ps->s[i + 1]))
		for (i++; i < ps->n && is_digit(ps->s[i]); i++)
			;
	if (i < ps->n && !is_ws(ps->s[i]) && ps->s[i] != ')') {
		ps->custom = "Invalid number literal";
		ps->custom_at = ps->p;
		fail(ps, i, "number");
		return false;
	}
	if ((*out = strndup(ps->s + ps->p, i - ps->p)) == NULL) {
		ps->nomem = true;
		return false;
	}
	*olen = i - ps->p;
	ps->p = i;
	return true;
}

/* Value <- Selector / NumberLiteral / StringLiteral */
static bool
value(struct fparser *ps, char **out, size_t *olen)
{
	struct fsel s;
	size_t l = 0;
	char *o;

	if (selector(ps, &s)) {
		for (size_t i = 0; i < s.n; i++)
			l += strlen(s.part[i]) + 1;
		if ((o = malloc(l + 1)) == NULL) {
			fsel_free(&s);
			ps->nomem = true;
			return false;
		}
		o[0] = '\0';
		for (size_t i = 0; i < s.n; i++) {
			if (i > 0)
				strcat(o, ".");
			strcat(o, s.part[i]);
		}
		fsel_free(&s);
		*out = o;
		*olen = strlen(o);
		return true;
	}
	if (ps->nomem)
		return false;
	if (ps->p < ps->n && (ps->s[ps->p] == '"' || ps->s[ps->p] == '`'))
		return string_lit(ps, out, olen);
	return number_lit(ps, out, olen);
}

/* ---- expressions ---- */

static struct fnode *or_expr(struct fparser *ps);

static struct fnode *
match_node(struct fparser *ps, struct fsel *s, enum fop op, char *v,
    size_t vl)
{
	struct fnode *x = fnode_new(ps, FN_MATCH, NULL, NULL);

	if (x == NULL) {
		fsel_free(s);
		free(v);
		return NULL;
	}
	x->op = op;
	x->val = v;
	x->vlen = vl;
	x->nseg = s->n;
	if ((x->seg = calloc(s->n, sizeof(*x->seg))) == NULL) {
		ps->nomem = true;
		fsel_free(s);
		fnode_free(x);
		return NULL;
	}
	for (size_t i = 0; i < s->n; i++)
		x->seg[i].name = s->part[i];
	free(s->part);
	s->part = NULL;
	s->n = 0;
	return x;
}

/* The operator after a selector: MatchSelectorOpValue / MatchSelectorOp. */
static bool
sel_op(struct fparser *ps, enum fop *op, bool *needs_value)
{
	size_t save = ps->p;
	static const struct {
		const char *w1, *w2;
		enum fop op;
	} words[] = {
		{ "is", "empty", OP_EMPTY },
		{ "contains", NULL, OP_IN },
		{ "matches", NULL, OP_MATCHES },
	};

	ws_opt(ps);
	*needs_value = true;
	if (lit(ps, "==") || lit(ps, "!=")) {
		*op = ps->s[ps->p - 2] == '=' ? OP_EQ : OP_NE;
		ws_opt(ps);
		return true;
	}
	ps->p = save;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		bool neg = false;

		ps->p = save;
		if (!ws_req(ps))
			return false;
		if (words[i].w2 != NULL) { /* is [not] empty */
			if (!lit(ps, words[i].w1) || !ws_req(ps))
				continue;
			if (lit(ps, "not")) {
				if (!ws_req(ps))
					continue;
				neg = true;
			}
			if (!lit(ps, words[i].w2))
				continue;
			*op = neg ? OP_NOTEMPTY : OP_EMPTY;
			*needs_value = false;
			return true;
		}
		if (lit(ps, "not")) {
			if (!ws_req(ps))
				continue;
			neg = true;
		}
		if (!lit(ps, words[i].w1) || !ws_req(ps))
			continue;
		*op = (enum fop)(words[i].op + (neg ? 1 : 0));
		return true;
	}
	ps->p = save;
	return false;
}

/* MatchExpression */
static struct fnode *
match_expr(struct fparser *ps)
{
	size_t save = ps->p;
	struct fsel s;
	enum fop op;
	bool nv;
	char *v = NULL;
	size_t vl = 0;

	if (selector(ps, &s)) {
		if (sel_op(ps, &op, &nv) && (!nv || value(ps, &v, &vl)))
			return match_node(ps, &s, op, v, vl);
		fsel_free(&s);
		if (ps->nomem)
			return NULL;
		ps->p = save;
	}
	if (ps->nomem || !value(ps, &v, &vl))
		return NULL;
	if (word_between_ws(ps, "in", true))
		op = OP_IN;
	else if (word_between_ws(ps, "not", true) && lit(ps, "in") &&
	    ws_req(ps))
		op = OP_NOTIN;
	else {
		free(v);
		ps->p = save;
		return NULL;
	}
	if (!selector(ps, &s)) {
		free(v);
		if (!ps->nomem && ps->custom == NULL) {
			ps->custom = "Invalid selector";
			ps->custom_at = save;
		}
		ps->p = save;
		return NULL;
	}
	return match_node(ps, &s, op, v, vl);
}

/* ParenthesizedExpression */
static struct fnode *
paren_expr(struct fparser *ps)
{
	size_t save = ps->p;
	struct fnode *x;

	if (ps->p < ps->n && ps->s[ps->p] == '(') {
		ps->p++;
		ws_opt(ps);
		if ((x = or_expr(ps)) == NULL) {
			ps->p = save;
			return NULL;
		}
		ws_opt(ps);
		if (ps->p < ps->n && ps->s[ps->p] == ')') {
			ps->p++;
			return x;
		}
		fnode_free(x);
		fail(ps, ps->p, "\")\"");
		if (ps->custom == NULL) {
			ps->custom = "Unmatched parentheses";
			ps->custom_at = save;
		}
		ps->p = save;
		return NULL;
	}
	fail(ps, ps->p, "\"(\"");
	return match_expr(ps);
}

/* NotExpression */
static struct fnode *
not_expr(struct fparser *ps)
{
	size_t save = ps->p;
	struct fnode *x;

	if (lit(ps, "not") && ws_req(ps)) {
		if ((x = not_expr(ps)) != NULL) {
			if (x->type == FN_NOT) { /* not not e is e */
				struct fnode *in = x->l;

				x->l = NULL;
				fnode_free(x);
				return in;
			}
			return fnode_new(ps, FN_NOT, x, NULL);
		}
		if (ps->nomem)
			return NULL;
	}
	ps->p = save;
	return paren_expr(ps);
}

static struct fnode *
bin_expr(struct fparser *ps, bool is_or)
{
	struct fnode *l, *r;
	size_t save;

	if ((l = is_or ? bin_expr(ps, false) : not_expr(ps)) == NULL)
		return NULL;
	save = ps->p;
	if (!word_between_ws(ps, is_or ? "or" : "and", true))
		return l;
	if ((r = bin_expr(ps, is_or)) == NULL) {
		if (ps->nomem) {
			fnode_free(l);
			return NULL;
		}
		ps->p = save; /* the PEG's other alternative: left alone */
		return l;
	}
	return fnode_new(ps, is_or ? FN_OR : FN_AND, l, r);
}

static struct fnode *
or_expr(struct fparser *ps)
{
	return bin_expr(ps, true);
}

/* ---- validation ---- */

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

static int
validate(struct fnode *x, const struct filter_field *schema, char *err,
    size_t errlen)
{
	char sel[256];
	size_t bad;
	enum filter_kind k;
	int rc;

	if (x->type != FN_MATCH) {
		if ((rc = validate(x->l, schema, err, errlen)) != 0)
			return rc;
		return x->r ? validate(x->r, schema, err, errlen) : 0;
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

/* ---- compile ---- */

static void
parse_error(const struct fparser *ps, char *err, size_t errlen)
{
	if (ps->custom != NULL) {
		snprintf(err, errlen, FILTER_ERR_PREFIX "1:%zu (%zu): %s",
		    ps->custom_at + 1, ps->custom_at, ps->custom);
		return;
	}
	snprintf(err, errlen, FILTER_ERR_PREFIX "1:%zu (%zu): no match found, "
	    "expected: %s", ps->far + 1, ps->far,
	    ps->want ? ps->want : "end of input");
}

int
filter_compile(const char *expr, const struct filter_field *schema,
    struct filter **out, char *err, size_t errlen)
{
	struct fparser ps;
	struct filter *f;
	struct fnode *root;
	int rc;

	memset(&ps, 0, sizeof(ps));
	ps.s = expr;
	ps.n = strlen(expr);
	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	ws_opt(&ps);
	root = or_expr(&ps);
	if (root != NULL) {
		ws_opt(&ps);
		if (ps.p != ps.n) {
			fail(&ps, ps.p, "\"and\", \"or\" or end of input");
			fnode_free(root);
			root = NULL;
		}
	}
	if (ps.nomem) {
		fnode_free(root);
		return ERR_NOMEM;
	}
	if (root == NULL) {
		parse_error(&ps, err, errlen);
		return ERR_INVAL;
	}
	if ((rc = validate(root, schema, err, errlen)) != 0) {
		fnode_free(root);
		return rc;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		fnode_free(root);
		return ERR_NOMEM;
	}
	f->root = root;
	*out = f;
	return 0;
}

/* ---- evaluation ---- */

/* A missing map key: nothing equals, contains or matches it. */
static bool
missing(enum fop op)
{
	return !(op == OP_EQ || op == OP_IN || op == OP_NOTEMPTY ||
	    op == OP_MATCHES);
}

static bool
negated(enum fop op)
{
	return op == OP_NE || op == OP_NOTIN || op == OP_NOTEMPTY ||
	    op == OP_NOTMATCHES;
}

static bool
leaf_str(const struct fnode *x, const json_t *v)
{
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	size_t l = json_is_string(v) ? json_string_length(v) : 0;

	switch (x->op) {
	case OP_EQ:
	case OP_NE:
		return l == x->vlen && memcmp(s, x->val, l) == 0;
	case OP_IN:
	case OP_NOTIN:
		return x->vlen == 0 || memmem(s, l, x->val, x->vlen) != NULL;
	case OP_EMPTY:
	case OP_NOTEMPTY:
		return l == 0;
	default:
		return regexec(&x->re, s, 0, NULL, 0) == 0;
	}
}

static bool
leaf_num(const struct fnode *x, const json_t *v)
{
	if (x->is_real)
		return json_is_number(v) && json_number_value(v) == x->dval;
	if (json_is_integer(v))
		return json_integer_value(v) == x->ival;
	if (json_is_real(v))
		return json_real_value(v) == (double)x->ival;
	return x->ival == 0; /* absent: Go's zero value */
}

static bool
leaf_list(const struct fnode *x, const json_t *v)
{
	size_t i, n = json_is_array(v) ? json_array_size(v) : 0;

	if (x->op == OP_EMPTY || x->op == OP_NOTEMPTY)
		return n == 0;
	for (i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);

		if (json_is_string(e) && json_string_length(e) == x->vlen &&
		    memcmp(json_string_value(e), x->val, x->vlen) == 0)
			return true;
	}
	return false;
}

static bool
leaf_map(const struct fnode *x, const json_t *v)
{
	if (x->op == OP_EMPTY || x->op == OP_NOTEMPTY)
		return !json_is_object(v) || json_object_size(v) == 0;
	return json_is_object(v) &&
	    json_object_getn(v, x->val, x->vlen) != NULL;
}

/* The operator's positive form on the selected value. */
static bool
leaf(const struct fnode *x, const json_t *v)
{
	switch (x->seg[x->nseg - 1].kind) {
	case FILTER_STR:
		return leaf_str(x, v);
	case FILTER_BOOL:
		return json_is_true(v) == x->bval;
	case FILTER_NUM:
		return leaf_num(x, v);
	case FILTER_STRLIST:
		return leaf_list(x, v);
	case FILTER_STRUCTLIST:
		return !json_is_array(v) || json_array_size(v) == 0;
	default:
		return leaf_map(x, v);
	}
}

static bool
eval_path(const struct fnode *x, const json_t *v, size_t d)
{
	const struct fseg *s;
	const json_t *c;

	if (d == x->nseg)
		return leaf(x, v) != negated(x->op);
	s = &x->seg[d];
	switch (s->in) {
	case FILTER_STRUCTLIST:
		/* slices are implicitly ANY (go-bexpr evaluate.go) */
		for (size_t i = 0; json_is_array(v) && i < json_array_size(v);
		    i++) {
			c = json_array_get(v, i);
			if (eval_path(x, json_object_get(c, s->name), d + 1))
				return true;
		}
		return false;
	case FILTER_STRMAP:
	case FILTER_STRUCTMAP:
		c = json_is_object(v) ? json_object_get(v, s->name) : NULL;
		if (c == NULL)
			return missing(x->op);
		return eval_path(x, c, d + 1);
	default:
		c = json_is_object(v) ? json_object_get(v, s->name) : NULL;
		return eval_path(x, c, d + 1);
	}
}

static bool
eval(const struct fnode *x, const json_t *v)
{
	switch (x->type) {
	case FN_AND:
		return eval(x->l, v) && eval(x->r, v);
	case FN_OR:
		return eval(x->l, v) || eval(x->r, v);
	case FN_NOT:
		return !eval(x->l, v);
	default:
		return eval_path(x, v, 0);
	}
}

bool
filter_match(const struct filter *f, const struct json_t *v)
{
	return eval(f->root, v);
}
