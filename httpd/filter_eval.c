/*
 * filter_eval.c — evaluation of a checked ?filter= expression on one
 * JSON element (jansson), with go-bexpr's semantics: a path through a
 * list of structs is true when any element matches (negations too); a
 * missing map key makes ==, in, is not empty and matches false and their
 * negations true; a field absent from the JSON is Go's zero value.
 * Reference: hashicorp/go-bexpr evaluate.go (v0.1.x).
 */
#include <regex.h>
#include <string.h>

#include <jansson.h>

#include "filter.h"
#include "filter_int.h"

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
