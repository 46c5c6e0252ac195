/*
 * filter.h — the ?filter= expression language of Consul's list endpoints
 * (go-bexpr), compiled against a schema of the element type and evaluated
 * on the JSON httpd renders.
 *
 * Why on the rendered JSON: one evaluator serves every endpoint (catalog,
 * health, agent), whatever record a handler writes; selectors are the
 * JSON field names, which are Consul's Go field names. The schema makes
 * an unknown selector a 400 even when the list is empty, as go-bexpr's
 * field configurations did (validate.go), and types the values (bool and
 * number fields compare as such).
 *
 * Grammar (go-bexpr grammar.peg): `or` < `and` < `not` < parentheses;
 * matches `Sel == v`, `!=`, `Sel contains v`, `not contains`, `v in Sel`,
 * `not in`, `Sel is empty`, `is not empty`, `Sel matches "re"`, `not
 * matches`; values double-quoted (Go escapes), back-quoted (raw), numbers
 * or bare words; selectors `A.b.c`, `Meta["k"]`, `Meta.k`.
 * Semantics (go-bexpr evaluate.go): a path through a list of structs
 * (`Checks.Status`) is true when any element matches; a missing map key
 * makes ==, in, is not empty and matches false, their negations true;
 * `in`/`contains` is membership for lists, key existence for maps and
 * substring for strings. Regular expressions are POSIX extended (regcomp)
 * with RE2's \d, \D and a leading (?i) translated.
 */
#ifndef CAIRN_HTTPD_FILTER_H
#define CAIRN_HTTPD_FILTER_H

#include <stdbool.h>
#include <stddef.h>

/* The Go type of one selectable field. */
enum filter_kind {
	FILTER_STR,
	FILTER_BOOL,
	FILTER_NUM,
	FILTER_STRLIST,    /* []string */
	FILTER_STRMAP,     /* map[string]string: any key, then a string */
	FILTER_STRUCT,     /* sub lists its fields */
	FILTER_STRUCTLIST, /* []struct: sub lists the element's fields */
	FILTER_STRUCTMAP,  /* map[string]struct: any key, then sub */
};

/* A struct's fields; an array ends with a NULL name. */
struct filter_field {
	const char *name;
	enum filter_kind kind;
	const struct filter_field *sub;
};

/* Element schemas of the endpoints (filter_schema.c). */
extern const struct filter_field filter_schema_node[];         /* Node */
extern const struct filter_field filter_schema_service_node[]; /* catalog */
extern const struct filter_field filter_schema_node_service[]; /* NodeService */
extern const struct filter_field filter_schema_agent_service[];
extern const struct filter_field filter_schema_check[];   /* HealthCheck */
extern const struct filter_field filter_schema_entry[];   /* ServiceEntry */
extern const struct filter_field filter_schema_member[];  /* agent member */

struct filter;
struct json_t;

/* What every error text starts with (Consul's CreateFilter wrapping). */
#define FILTER_ERR_PREFIX "Failed to create boolean expression evaluator: "

/*
 * Compiles expr against schema. Returns 0 and *out (free with
 * filter_free), ERR_INVAL with the complete error text (prefix included)
 * in err, or ERR_NOMEM.
 */
int filter_compile(const char *expr, const struct filter_field *schema,
    struct filter **out, char *err, size_t errlen);
void filter_free(struct filter *f);

/* Whether the JSON element v satisfies f. */
bool filter_match(const struct filter *f, const struct json_t *v);

/*
 * Whether the JSON text[0..len) satisfies f: 0 and *out, or ERR_INVAL
 * when it is not JSON.
 */
int filter_match_text(const struct filter *f, const char *text, size_t len,
    bool *out);

/*
 * Keeps only the matching elements of the JSON list in text[0..*len):
 * the values of the top-level array or object, or with inner (not NULL)
 * those of the member `inner` of the top-level object. Compact and
 * indented text both stay as encoding/json writes them ([] and {} when
 * nothing is left). A top-level null is left alone. Edits text in place
 * and updates *len; returns 0, ERR_INVAL for text that is not JSON, or
 * ERR_NOMEM.
 */
int filter_json_list(const struct filter *f, char *text, size_t *len,
    const char *inner);

#endif
