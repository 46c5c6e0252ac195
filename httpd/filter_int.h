/*
 * filter_int.h — the compiled form of a ?filter= expression, shared by
 * its parser (filter.c), checker (filter_check.c) and evaluator
 * (filter_eval.c). Not for use outside those files.
 */
#ifndef CAIRN_HTTPD_FILTER_INT_H
#define CAIRN_HTTPD_FILTER_INT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "filter.h"

enum fnode_type { FN_AND, FN_OR, FN_NOT, FN_MATCH };

enum fop {
	OP_EQ, OP_NE, OP_IN, OP_NOTIN, OP_EMPTY, OP_NOTEMPTY, OP_MATCHES,
	OP_NOTMATCHES,
};

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

/*
 * Resolves the selectors of tree x against schema, checks operators and
 * values and compiles regular expressions (go-bexpr validate.go).
 * Returns 0, ERR_INVAL with the complete text in err, or ERR_NOMEM.
 */
int filter_check(struct fnode *x, const struct filter_field *schema,
    char *err, size_t errlen);

#endif
