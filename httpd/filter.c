/*
 * filter.c — the ?filter= expression language (see filter.h): a
 * recursive-descent parser of go-bexpr's PEG grammar into the tree of
 * filter_int.h, then filter_check.c's check against the element schema;
 * filter_eval.c evaluates, filter_json.c applies it to rendered lists.
 *
 * The parser follows grammar.peg rule by rule, backtracking where the
 * PEG does (a failed `not` or `and` alternative falls back). Errors are
 * pigeon's (the generator of go-bexpr's parser): every leaf matcher that
 * fails records what it wanted at its offset, and a failed parse reports
 * `line:col (offset): no match found, expected: <sorted wants>` for the
 * farthest offset; a rule's own error (Unmatched parentheses, Invalid
 * number literal, ...) is `line:col (offset): rule <name>: <msg>` and
 * fails the parse. The check runs after a successful parse, as
 * go-bexpr's validate.go does. Reference: hashicorp/go-bexpr
 * grammar/grammar.peg (v0.1.x, as Consul 1.x used it), pigeon's
 * generated failAt/addErrAt; Consul issue #6467 for a real error text;
 * spec/consul-api.md §1.8.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "filter.h"
#include "filter_int.h"

#define FP_MAXEXP 32
#define FP_MAXERR 4

/* What pigeon prints for the leaf matchers (literals quoted as Go does). */
#define W_WS "[ \\t\\r\\n]"
#define W_ALPHA "[a-zA-Z]"
#define W_IDENT "[a-zA-Z0-9_/]"
#define W_DIGIT "[0-9]"
#define W_DIGIT1 "[1-9]"
#define W_EOF "EOF"

/* A rule's own error (a &{...} predicate or an action of the PEG). */
struct fp_err {
	size_t at;
	const char *rule, *msg;
};

struct fparser {
	const char *s;
	size_t n, p;
	size_t far;                   /* farthest failure offset */
	const char *exp[FP_MAXEXP];   /* what was expected there */
	size_t nexp;
	struct fp_err err[FP_MAXERR]; /* rule errors, in order, deduplicated */
	size_t nerr;
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

/* A leaf matcher failed at offset at (pigeon's failAt). */
static void
fail(struct fparser *ps, size_t at, const char *want)
{
	if (at < ps->far)
		return;
	if (at > ps->far) {
		ps->far = at;
		ps->nexp = 0;
	}
	for (size_t i = 0; i < ps->nexp; i++)
		if (strcmp(ps->exp[i], want) == 0)
			return;
	if (ps->nexp < FP_MAXEXP)
		ps->exp[ps->nexp++] = want;
}

/* A rule's predicate or action reported msg at offset at. */
static void
rule_error(struct fparser *ps, size_t at, const char *rule, const char *msg)
{
	for (size_t i = 0; i < ps->nerr; i++)
		if (ps->err[i].at == at && ps->err[i].rule == rule &&
		    ps->err[i].msg == msg)
			return;
	if (ps->nerr < FP_MAXERR)
		ps->err[ps->nerr++] = (struct fp_err){ at, rule, msg };
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
	fail(ps, ps->p, W_WS);
}

/* _ (at least one) */
static bool
ws_req(struct fparser *ps)
{
	if (ps->p >= ps->n || !is_ws(ps->s[ps->p])) {
		fail(ps, ps->p, W_WS);
		return false;
	}
	ws_opt(ps);
	return true;
}

/* Go's strconv.Quote of the grammar's literals. */
static const char *
quoted(const char *w)
{
	static const char *const q[][2] = {
		{ "==", "\"==\"" }, { "!=", "\"!=\"" }, { "not", "\"not\"" },
		{ "and", "\"and\"" }, { "or", "\"or\"" }, { "in", "\"in\"" },
		{ "is", "\"is\"" }, { "empty", "\"empty\"" },
		{ "contains", "\"contains\"" }, { "matches", "\"matches\"" },
		{ "(", "\"(\"" }, { ")", "\")\"" }, { "[", "\"[\"" },
		{ "]", "\"]\"" }, { ".", "\".\"" }, { "-", "\"-\"" },
		{ "0", "\"0\"" }, { "\"", "\"\\\"\"" }, { "`", "\"`\"" },
	};

	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		if (strcmp(q[i][0], w) == 0)
			return q[i][1];
	return w;
}

static bool
lit(struct fparser *ps, const char *w)
{
	size_t l = strlen(w);

	if (ps->n - ps->p < l || memcmp(ps->s + ps->p, w, l) != 0) {
		fail(ps, ps->p, quoted(w));
		return false;
	}
	ps->p += l;
	return true;
}

/* One character c at the cursor (a one-character literal). */
static bool
chr(struct fparser *ps, char c)
{
	char w[2] = { c, '\0' };

	if (ps->p < ps->n && ps->s[ps->p] == c) {
		ps->p++;
		return true;
	}
	fail(ps, ps->p, quoted(w));
	return false;
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
		fail(ps, ps->p, quoted("`"));
		fail(ps, ps->p, quoted("\""));
		return false;
	}
	b = ps->s + ps->p + 1;
	e = memchr(b, q, ps->n - ps->p - 1);
	if (e == NULL) {
		fail(ps, ps->n, quoted(q == '"' ? "\"" : "`"));
		rule_error(ps, ps->n, "string", "Unterminated string literal");
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
				rule_error(ps, start, "string",
				    "invalid syntax");
				return false;
			}
		} else if (b[i] == '\n') {
			free(o);
			rule_error(ps, start, "string", "invalid syntax");
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
ident_len(struct fparser *ps, size_t at)
{
	size_t i = at;

	if (i >= ps->n || !is_alpha(ps->s[i])) {
		fail(ps, at, W_ALPHA);
		return 0;
	}
	for (i++; i < ps->n && (is_alpha(ps->s[i]) || is_digit(ps->s[i]) ||
	    ps->s[i] == '_' || ps->s[i] == '/'); i++)
		;
	fail(ps, i, W_IDENT);
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
		if (!ps->nomem)
			rule_error(ps, ps->p, "index", "Invalid index");
		ps->p = save;
		return false;
	}
	ws_opt(ps);
	if (!chr(ps, ']')) {
		free(k);
		rule_error(ps, ps->p, "index", "Unclosed index expression");
		ps->p = save;
		return false;
	}
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
	if (l == 0) { /* the inline-value and JSON-pointer alternatives */
		fail(ps, ps->p, quoted("["));
		fail(ps, ps->p, quoted("\""));
		return false;
	}
	if (!fsel_add(ps, s, ps->s + ps->p, l))
		return false;
	ps->p += l;
	for (;;) { /* SelectorOrIndex* */
		char c = ps->p < ps->n ? ps->s[ps->p] : '\0';

		if (c != '.') {
			fail(ps, ps->p, quoted("."));
			if (c != '[') {
				fail(ps, ps->p, quoted("["));
				return true;
			}
			if (!index_expr(ps, s))
				return !ps->nomem; /* the PEG's loop ends */
		} else if ((l = ident_len(ps, ps->p + 1)) > 0) {
			if (!fsel_add(ps, s, ps->s + ps->p + 1, l))
				break;
			ps->p += 1 + l;
		} else if (ps->p + 1 < ps->n && is_digit(ps->s[ps->p + 1])) {
			for (l = 1; ps->p + 1 + l < ps->n &&
			    is_digit(ps->s[ps->p + 1 + l]); l++)
				;
			if (!fsel_add(ps, s, ps->s + ps->p + 1, l))
				break;
			ps->p += 1 + l;
			fail(ps, ps->p, W_DIGIT);
		} else {
			fail(ps, ps->p + 1, W_DIGIT);
			fail(ps, ps->p, quoted("["));
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
	else
		fail(ps, i, quoted("-"));
	if (i >= ps->n || !is_digit(ps->s[i])) {
		fail(ps, i, quoted("0"));
		fail(ps, i, W_DIGIT1);
		return false;
	}
	if (ps->s[i] == '0') {
		i++;
	} else {
		fail(ps, i, quoted("0"));
		while (i < ps->n && is_digit(ps->s[i]))
			i++;
		fail(ps, i, W_DIGIT);
	}
	if (i + 1 < ps->n && ps->s[i] == '.' && is_digit(ps->s[i + 1])) {
		for (i++; i < ps->n && is_digit(ps->s[i]); i++)
			;
		fail(ps, i, W_DIGIT);
	} else {
		fail(ps, i, quoted("."));
	}
	if (i < ps->n && !is_ws(ps->s[i]) && ps->s[i] != ')') {
		fail(ps, i, W_WS); /* &AfterNumbers */
		fail(ps, i, W_EOF);
		fail(ps, i, quoted(")"));
		rule_error(ps, i, "number", "Invalid number literal");
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
	if (ps->nomem || number_lit(ps, out, olen))
		return !ps->nomem;
	return !ps->nomem && string_lit(ps, out, olen);
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
		if (!ps->nomem)
			rule_error(ps, ps->p, "match", "Invalid selector");
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

	if (chr(ps, '(')) {
		ws_opt(ps);
		if ((x = or_expr(ps)) == NULL) {
			ps->p = save;
			return NULL;
		}
		ws_opt(ps);
		if (chr(ps, ')'))
			return x;
		fnode_free(x);
		rule_error(ps, ps->p, "grouping", "Unmatched parentheses");
		ps->p = save;
		return NULL;
	}
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

/* ---- compile ---- */

/* pigeon's "line:col (offset)": col counts runes from the line's start. */
static int
fp_pos(const struct fparser *ps, size_t at, char *buf, size_t len)
{
	size_t line = 1, col = 1;

	for (size_t i = 0; i < at && i < ps->n; i++) {
		if (ps->s[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)ps->s[i] & 0xc0) != 0x80) {
			col++;
		}
	}
	return snprintf(buf, len, "%zu:%zu (%zu)", line, col, at);
}

static int
str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * pigeon's error: the rules' own errors, one per line; else "no match
 * found" with what was expected at the farthest offset, sorted, EOF last.
 */
static void
parse_error(struct fparser *ps, char *err, size_t errlen)
{
	/* bounded: FP_MAXERR short rule errors or FP_MAXEXP short wants */
	char buf[2048], pos[64];
	size_t o = 0, k = 0;
	bool eof = false;

	for (size_t i = 0; i < ps->nerr; i++) {
		fp_pos(ps, ps->err[i].at, pos, sizeof(pos));
		o += (size_t)snprintf(buf + o, sizeof(buf) - o,
		    "%s%s: rule %s: %s", i > 0 ? "\n" : "", pos,
		    ps->err[i].rule, ps->err[i].msg);
	}
	if (ps->nerr == 0) {
		for (size_t i = 0; i < ps->nexp; i++) {
			if (strcmp(ps->exp[i], W_EOF) == 0)
				eof = true;
			else
				ps->exp[k++] = ps->exp[i];
		}
		qsort(ps->exp, k, sizeof(ps->exp[0]), str_ptr_cmp);
		if (eof)
			ps->exp[k++] = W_EOF;
		fp_pos(ps, ps->far, pos, sizeof(pos));
		o = (size_t)snprintf(buf, sizeof(buf), "%s: no match found, "
		    "expected: ", pos);
		for (size_t i = 0; i < k; i++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
			    i == 0 ? "" : i + 1 == k ? " or " : ", ",
			    ps->exp[i]);
	}
	snprintf(err, errlen, "%s%s", FILTER_ERR_PREFIX, buf);
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
			fail(&ps, ps.p, W_EOF);
			fnode_free(root);
			root = NULL;
		}
	}
	if (root != NULL && ps.nerr > 0) { /* pigeon: errors fail the parse */
		fnode_free(root);
		root = NULL;
	}
	if (ps.nomem) {
		fnode_free(root);
		return ERR_NOMEM;
	}
	if (root == NULL) {
		parse_error(&ps, err, errlen);
		return ERR_INVAL;
	}
	if ((rc = filter_check(root, schema, err, errlen)) != 0) {
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
