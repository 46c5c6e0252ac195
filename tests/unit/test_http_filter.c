/*
 * test_http_filter.c — the ?filter= language (httpd/filter.c): every
 * operator, precedence, quoting and selector forms, go-bexpr's semantics
 * (ANY over lists of structs, missing map keys, typed fields), the error
 * texts (parse errors, unknown selectors, bad operators, coercion,
 * regular expressions), and the filtering of rendered JSON lists, compact
 * and indented, including a nested Services member.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "err.h"
#include "httpd/filter.h"

static const char *entry_json =
    "{\"Node\":{\"ID\":\"n1\",\"Node\":\"alpha\",\"Address\":\"10.0.0.1\","
    "\"Datacenter\":\"dc1\",\"TaggedAddresses\":null,"
    "\"Meta\":{\"env\":\"prod\",\"rack\":\"r1\"},\"CreateIndex\":5,"
    "\"ModifyIndex\":7},"
    "\"Service\":{\"ID\":\"web1\",\"Service\":\"web\",\"Tags\":[\"v1\","
    "\"primary\"],\"Address\":\"\",\"Meta\":{\"version\":\"1.2\"},"
    "\"Port\":8080,\"Weights\":{\"Passing\":1,\"Warning\":1},"
    "\"EnableTagOverride\":false,\"TaggedAddresses\":{\"lan\":{\"Address\":"
    "\"10.0.0.1\",\"Port\":8080}}},"
    "\"Checks\":[{\"Node\":\"alpha\",\"CheckID\":\"serfHealth\","
    "\"Status\":\"passing\",\"ServiceTags\":[]},{\"Node\":\"alpha\","
    "\"CheckID\":\"service:web1\",\"Status\":\"critical\","
    "\"ServiceTags\":[\"v1\"]}]}";

/* Compiles expr against the ServiceEntry schema and evaluates it. */
static int
eval_entry(const char *expr)
{
	char err[512];
	struct filter *f = NULL;
	json_error_t je;
	json_t *v = json_loads(entry_json, 0, &je);
	int rc;

	assert_non_null(v);
	rc = filter_compile(expr, filter_schema_entry, &f, err, sizeof(err));
	if (rc != 0) {
		print_message("compile %s: %s\n", expr, err);
		json_decref(v);
		return -1;
	}
	rc = filter_match(f, v) ? 1 : 0;
	filter_free(f);
	json_decref(v);
	return rc;
}

/* The error text of compiling expr (schema s), "" when it compiles. */
static const char *
compile_err(const struct filter_field *s, const char *expr)
{
	static char err[512];
	struct filter *f = NULL;

	if (filter_compile(expr, s, &f, err, sizeof(err)) == 0) {
		filter_free(f);
		return "";
	}
	assert_null(f);
	return err;
}

static void
test_equality(void **state)
{
	(void)state;
	assert_int_equal(eval_entry("Service.Service == web"), 1);
	assert_int_equal(eval_entry("Service.Service == \"web\""), 1);
	assert_int_equal(eval_entry("Service.Service == `web`"), 1);
	assert_int_equal(eval_entry("Service.Service==web"), 1);
	assert_int_equal(eval_entry("Service.Service == db"), 0);
	assert_int_equal(eval_entry("Service.Service != db"), 1);
	assert_int_equal(eval_entry("Service.Service != web"), 0);
	/* case-sensitive values */
	assert_int_equal(eval_entry("Service.Service == Web"), 0);
	/* typed fields */
	assert_int_equal(eval_entry("Service.Port == 8080"), 1);
	assert_int_equal(eval_entry("Service.Port != 8080"), 0);
	assert_int_equal(eval_entry("Service.Port == \"8080\""), 1);
	assert_int_equal(eval_entry("Service.EnableTagOverride == false"), 1);
	assert_int_equal(eval_entry("Service.EnableTagOverride == true"), 0);
	assert_int_equal(eval_entry("Service.Weights.Passing == 1"), 1);
	assert_int_equal(eval_entry("Node.CreateIndex == 5"), 1);
}

static void
test_contains_in(void **state)
{
	(void)state;
	assert_int_equal(eval_entry("v1 in Service.Tags"), 1);
	assert_int_equal(eval_entry("\"primary\" in Service.Tags"), 1);
	assert_int_equal(eval_entry("v2 in Service.Tags"), 0);
	assert_int_equal(eval_entry("v2 not in Service.Tags"), 1);
	assert_int_equal(eval_entry("v1 not in Service.Tags"), 0);
	assert_int_equal(eval_entry("Service.Tags contains v1"), 1);
	assert_int_equal(eval_entry("Service.Tags contains prim"), 0);
	assert_int_equal(eval_entry("Service.Tags not contains v3"), 1);
	/* substring of a string */
	assert_int_equal(eval_entry("Node.Address contains \"10.0\""), 1);
	assert_int_equal(eval_entry("\"0.0.1\" in Node.Address"), 1);
	assert_int_equal(eval_entry("Node.Address not contains 192"), 1);
	/* key of a map */
	assert_int_equal(eval_entry("env in Node.Meta"), 1);
	assert_int_equal(eval_entry("Node.Meta contains rack"), 1);
	assert_int_equal(eval_entry("zone in Node.Meta"), 0);
	assert_int_equal(eval_entry("zone not in Node.Meta"), 1);
}

static void
test_empty(void **state)
{
	(void)state;
	assert_int_equal(eval_entry("Service.Tags is not empty"), 1);
	assert_int_equal(eval_entry("Service.Tags is empty"), 0);
	assert_int_equal(eval_entry("Node.TaggedAddresses is empty"), 1);
	assert_int_equal(eval_entry("Node.Meta is empty"), 0);
	assert_int_equal(eval_entry("Service.Address is empty"), 1);
	assert_int_equal(eval_entry("Service.Service is not empty"), 1);
	assert_int_equal(eval_entry("Checks is empty"), 0);
	assert_int_equal(eval_entry("Checks is not empty"), 1);
	/* a field cairn does not render is Go's zero value */
	assert_int_equal(eval_entry("Service.SocketPath is empty"), 1);
	assert_int_equal(eval_entry("Service.Kind == \"\""), 1);
}

static void
test_matches(void **state)
{
	(void)state;
	assert_int_equal(eval_entry("Node.Node matches \"^al\""), 1);
	assert_int_equal(eval_entry("Node.Node matches \"^be\""), 0);
	assert_int_equal(eval_entry("Node.Node not matches \"^be\""), 1);
	assert_int_equal(eval_entry("Service.ID matches `web\\d+`"), 1);
	assert_int_equal(eval_entry("Service.ID matches `^web\\D`"), 0);
	assert_int_equal(eval_entry("Service.ID matches \"(?i)^WEB\""), 1);
	assert_int_equal(eval_entry("Node.Meta.env matches \"pr.d\""), 1);
	assert_int_equal(eval_entry("Service.ID matches \"[[:digit:]]$\""), 1);
	assert_int_equal(eval_entry("Service.ID matches `\\Aw(?:e|x)b1\\z`"),
	    1);
	assert_int_equal(eval_entry("Service.ID matches `\\Aeb`"), 0);
	assert_int_equal(eval_entry("Service.ID matches `[\\d]`"), 1);
}

static void
test_maps(void **state)
{
	(void)state;
	assert_int_equal(eval_entry("Node.Meta.env == prod"), 1);
	assert_int_equal(eval_entry("Node.Meta[\"env\"] == prod"), 1);
	assert_int_equal(eval_entry("Node.Meta[ \"rack\" ] == r1"), 1);
	assert_int_equal(eval_entry("Service.Meta.version == \"1.2\""), 1);
	assert_int_equal(eval_entry("Service.Meta.version == 1.2"), 1);
	/* a missing key: only the negative forms hold */
	assert_int_equal(eval_entry("Node.Meta.zone == a"), 0);
	assert_int_equal(eval_entry("Node.Meta.zone != a"), 1);
	assert_int_equal(eval_entry("Node.Meta.zone is empty"), 1);
	assert_int_equal(eval_entry("Node.Meta.zone is not empty"), 0);
	assert_int_equal(eval_entry("Node.Meta.zone matches a"), 0);
	assert_int_equal(eval_entry("Node.Meta.zone not matches a"), 1);
	/* a map of structs */
	assert_int_equal(eval_entry("Service.TaggedAddresses.lan.Port == 8080"),
	    1);
	assert_int_equal(eval_entry("lan in Service.TaggedAddresses"), 1);
	assert_int_equal(eval_entry("Service.TaggedAddresses.wan.Port == 1"),
	    0);
}

static void
test_any_over_lists(void **state)
{
	(void)state;
	assert_int_equal(eval_entry("Checks.Status == passing"), 1);
	assert_int_equal(eval_entry("Checks.Status == critical"), 1);
	assert_int_equal(eval_entry("Checks.Status == warning"), 0);
	/* != is any element differing too (go-bexpr) */
	assert_int_equal(eval_entry("Checks.Status != passing"), 1);
	assert_int_equal(eval_entry("not Checks.Status == critical"), 0);
	assert_int_equal(eval_entry("Checks.CheckID == serfHealth"), 1);
	assert_int_equal(eval_entry("v1 in Checks.ServiceTags"), 1);
	assert_int_equal(eval_entry("v9 in Checks.ServiceTags"), 0);
}

static void
test_boolean_ops(void **state)
{
	(void)state;
	assert_int_equal(eval_entry("Service.Service == web and "
	    "Service.Port == 8080"), 1);
	assert_int_equal(eval_entry("Service.Service == web and "
	    "Service.Port == 1"), 0);
	assert_int_equal(eval_entry("Service.Service == db or "
	    "Service.Port == 8080"), 1);
	assert_int_equal(eval_entry("Service.Service == db or "
	    "Service.Port == 1"), 0);
	assert_int_equal(eval_entry("not Service.Service == db"), 1);
	assert_int_equal(eval_entry("not not Service.Service == db"), 0);
	assert_int_equal(eval_entry("not (Service.Service == web)"), 0);
	/* and binds tighter than or: true or (false and false) */
	assert_int_equal(eval_entry("Service.Service == web or "
	    "Service.Port == 1 and Node.Node == x"), 1);
	assert_int_equal(eval_entry("(Service.Service == web or "
	    "Service.Port == 1) and Node.Node == x"), 0);
	/* not binds tighter than and */
	assert_int_equal(eval_entry("not Service.Service == db and "
	    "Node.Node == alpha"), 1);
	assert_int_equal(eval_entry("not (Service.Service == web and "
	    "Node.Node == x)"), 1);
	assert_int_equal(eval_entry("  ( ( Node.Node == alpha ) )  "), 1);
	assert_int_equal(eval_entry("Node.Node == alpha\tand\nNode.ID == n1"),
	    1);
	/* a selector that starts with a keyword is a selector */
	assert_string_equal(compile_err(filter_schema_entry,
	    "notable == 1"), FILTER_ERR_PREFIX "Selector \"notable\" is not "
	    "valid");
}

static void
test_strings(void **state)
{
	(void)state;
	assert_int_equal(eval_entry("Service.Meta.version == \"1\\x2e2\""), 1);
	assert_int_equal(eval_entry("Service.Meta.version == \"1\\u002e2\""),
	    1);
	assert_int_equal(eval_entry("Service.Meta.version == `1\\x2e2`"), 0);
	assert_int_equal(eval_entry("\"in\" in Service.Tags"), 0);
	assert_int_equal(eval_entry("Node.Node != \"a b\""), 1);
}

static void
test_errors(void **state)
{
	const char *e;

	(void)state;
	e = compile_err(filter_schema_entry, "Service.Nope == x");
	assert_string_equal(e, FILTER_ERR_PREFIX
	    "Selector \"Service.Nope\" is not valid");
	e = compile_err(filter_schema_node, "Foo == x");
	assert_string_equal(e, FILTER_ERR_PREFIX "Selector \"Foo\" is not valid");
	e = compile_err(filter_schema_node, "Meta.a.b == x");
	assert_string_equal(e, FILTER_ERR_PREFIX
	    "Selector \"Meta.a.b\" is not valid");
	/* selectors are case-sensitive */
	assert_string_equal(compile_err(filter_schema_node, "node == x"),
	    FILTER_ERR_PREFIX "Selector \"node\" is not valid");
	e = compile_err(filter_schema_node, "Node ==");
	assert_true(strncmp(e, FILTER_ERR_PREFIX "1:8 (7): no match found",
	    strlen(FILTER_ERR_PREFIX) + 23) == 0);
	e = compile_err(filter_schema_node, "");
	assert_true(strstr(e, "no match found") != NULL);
	e = compile_err(filter_schema_node, "Node == x and");
	assert_true(strstr(e, "1:14 (13): no match found") != NULL);
	e = compile_err(filter_schema_node, "Node = x");
	assert_true(strstr(e, "no match found") != NULL);
	e = compile_err(filter_schema_node, "(Node == x");
	assert_string_equal(e, FILTER_ERR_PREFIX "1:11 (10): rule grouping: "
	    "Unmatched parentheses");
	/* pigeon's list of what was expected (Consul issue #6467's case) */
	assert_string_equal(compile_err(filter_schema_node, "Node==host-name"),
	    FILTER_ERR_PREFIX "1:11 (10): no match found, expected: \".\", "
	    "\"[\", [ \\t\\r\\n], [a-zA-Z0-9_/] or EOF");
	assert_string_equal(compile_err(filter_schema_node, "Node =="),
	    FILTER_ERR_PREFIX "1:8 (7): no match found, expected: \"-\", "
	    "\"0\", \"[\", \"\\\"\", \"`\", [ \\t\\r\\n], [1-9] or [a-zA-Z]");
	assert_string_equal(compile_err(filter_schema_node, "Node == a b"),
	    FILTER_ERR_PREFIX "1:11 (10): no match found, expected: \"and\", "
	    "\"or\", [ \\t\\r\\n] or EOF");
	assert_string_equal(compile_err(filter_schema_node, "Node ==\n\"x"),
	    FILTER_ERR_PREFIX "2:3 (10): rule string: Unterminated string "
	    "literal");
	assert_string_equal(compile_err(filter_schema_node, "x in 5"),
	    FILTER_ERR_PREFIX "1:6 (5): rule match: Invalid selector");
	assert_string_equal(compile_err(filter_schema_node, "Meta[x] == y"),
	    FILTER_ERR_PREFIX "1:6 (5): rule index: Invalid index");
	e = compile_err(filter_schema_node, "Node == \"x");
	assert_true(strstr(e, "Unterminated string literal") != NULL);
	e = compile_err(filter_schema_node, "Node == \"a\\\"b\"");
	assert_true(strstr(e, FILTER_ERR_PREFIX) == e);
	e = compile_err(filter_schema_node, "Node == 5x");
	assert_true(strstr(e, "Invalid number literal") != NULL);
	e = compile_err(filter_schema_node, "Node == x x");
	assert_true(strstr(e, "no match found") != NULL);
	e = compile_err(filter_schema_node, "Meta[x] == y");
	assert_true(strstr(e, FILTER_ERR_PREFIX) == e);
	/* operators the field's type does not support */
	assert_string_equal(compile_err(filter_schema_node_service,
	    "Port contains 5"), FILTER_ERR_PREFIX "Invalid match operator "
	    "\"In\" for selector \"Port\"");
	assert_string_equal(compile_err(filter_schema_node_service,
	    "Tags == x"), FILTER_ERR_PREFIX "Invalid match operator "
	    "\"Equal\" for selector \"Tags\"");
	assert_string_equal(compile_err(filter_schema_entry,
	    "Service == x"), FILTER_ERR_PREFIX "Invalid match operator "
	    "\"Equal\" for selector \"Service\"");
	/* values that do not coerce */
	e = compile_err(filter_schema_node_service, "Port == abc");
	assert_true(strstr(e, "Failed to coerce value \"abc\" for selector "
	    "\"Port\"") != NULL);
	e = compile_err(filter_schema_node_service,
	    "EnableTagOverride == yes");
	assert_true(strstr(e, "Failed to coerce value \"yes\"") != NULL);
	/* a regular expression that does not compile */
	e = compile_err(filter_schema_node, "Node matches \"a(\"");
	assert_true(strstr(e, FILTER_ERR_PREFIX "Failed to compile regular "
	    "expression \"a(\"") == e);
	/* not given a value */
	e = compile_err(filter_schema_node, "x in");
	assert_true(strstr(e, FILTER_ERR_PREFIX) == e);
}

/* Filters text with expr over schema s (inner as filter_json_list). */
static char *
filter_text(const struct filter_field *s, const char *expr, const char *text,
    const char *inner)
{
	char err[256], *buf = strdup(text);
	size_t len = strlen(text);
	struct filter *f = NULL;

	assert_non_null(buf);
	assert_int_equal(filter_compile(expr, s, &f, err, sizeof(err)), 0);
	assert_int_equal(filter_json_list(f, buf, &len, inner), 0);
	filter_free(f);
	buf[len] = '\0';
	return buf;
}

static void
test_json_compact(void **state)
{
	const char *nodes = "[{\"Node\":\"a\",\"Meta\":{\"k\":\"1\"}},"
	    "{\"Node\":\"b\",\"Meta\":null},{\"Node\":\"c\","
	    "\"Meta\":{\"k\":\"2\"}}]";
	char *o;

	(void)state;
	o = filter_text(filter_schema_node, "Meta.k is not empty", nodes,
	    NULL);
	assert_string_equal(o, "[{\"Node\":\"a\",\"Meta\":{\"k\":\"1\"}},"
	    "{\"Node\":\"c\",\"Meta\":{\"k\":\"2\"}}]");
	free(o);
	o = filter_text(filter_schema_node, "Node == b", nodes, NULL);
	assert_string_equal(o, "[{\"Node\":\"b\",\"Meta\":null}]");
	free(o);
	o = filter_text(filter_schema_node, "Node == z", nodes, NULL);
	assert_string_equal(o, "[]");
	free(o);
	o = filter_text(filter_schema_node, "Node != z", "[]", NULL);
	assert_string_equal(o, "[]");
	free(o);
	/* a map of elements: its values are filtered */
	o = filter_text(filter_schema_agent_service, "Service == db",
	    "{\"w1\":{\"Service\":\"web\",\"Tags\":[\"a,]}\"]},\"d1\":"
	    "{\"Service\":\"db\"}}", NULL);
	assert_string_equal(o, "{\"d1\":{\"Service\":\"db\"}}");
	free(o);
	o = filter_text(filter_schema_agent_service, "Service == x",
	    "{\"w1\":{\"Service\":\"web\"}}", NULL);
	assert_string_equal(o, "{}");
	free(o);
	o = filter_text(filter_schema_node, "Node == x", "null", NULL);
	assert_string_equal(o, "null");
	free(o);
	/* escaped quotes, brackets and backslashes inside strings */
	o = filter_text(filter_schema_node, "Node != a",
	    "[{\"Node\":\"a\",\"ID\":\"q\\\"],{\\\\\"},{\"Node\":\"b\","
	    "\"ID\":\"\\u005d\\\\\"}]", NULL);
	assert_string_equal(o, "[{\"Node\":\"b\",\"ID\":\"\\u005d\\\\\"}]");
	free(o);
}

static void
test_json_pretty(void **state)
{
	const char *in = "[\n    {\n        \"Node\": \"a\"\n    },\n    {\n"
	    "        \"Node\": \"b\"\n    },\n    {\n        \"Node\": \"c\"\n"
	    "    }\n]\n";
	char *o;

	(void)state;
	o = filter_text(filter_schema_node, "Node != b", in, NULL);
	assert_string_equal(o, "[\n    {\n        \"Node\": \"a\"\n    },\n"
	    "    {\n        \"Node\": \"c\"\n    }\n]\n");
	free(o);
	o = filter_text(filter_schema_node, "Node == c", in, NULL);
	assert_string_equal(o, "[\n    {\n        \"Node\": \"c\"\n    }\n]\n");
	free(o);
	o = filter_text(filter_schema_node, "Node == q", in, NULL);
	assert_string_equal(o, "[]\n");
	free(o);
}

static void
test_json_inner(void **state)
{
	const char *in = "{\"Node\":{\"Node\":\"a\"},\"Services\":{\"w1\":"
	    "{\"ID\":\"w1\",\"Service\":\"web\"},\"d1\":{\"ID\":\"d1\","
	    "\"Service\":\"db\"}}}";
	const char *pretty = "{\n    \"Node\": null,\n    \"Services\": [\n"
	    "        {\n            \"ID\": \"w1\"\n        },\n        {\n"
	    "            \"ID\": \"d1\"\n        }\n    ]\n}\n";
	char *o;

	(void)state;
	o = filter_text(filter_schema_node_service, "Service == web", in,
	    "Services");
	assert_string_equal(o, "{\"Node\":{\"Node\":\"a\"},\"Services\":"
	    "{\"w1\":{\"ID\":\"w1\",\"Service\":\"web\"}}}");
	free(o);
	o = filter_text(filter_schema_node_service, "ID == d1", pretty,
	    "Services");
	assert_string_equal(o, "{\n    \"Node\": null,\n    \"Services\": [\n"
	    "        {\n            \"ID\": \"d1\"\n        }\n    ]\n}\n");
	free(o);
	o = filter_text(filter_schema_node_service, "ID == x", pretty,
	    "Services");
	assert_string_equal(o, "{\n    \"Node\": null,\n    \"Services\": []\n"
	    "}\n");
	free(o);
}

static void
test_json_malformed(void **state)
{
	char err[128], bad[] = "[{\"Node\":\"a\"";
	size_t len = strlen(bad);
	struct filter *f = NULL;

	(void)state;
	assert_int_equal(filter_compile("Node == a", filter_schema_node, &f,
	    err, sizeof(err)), 0);
	assert_int_equal(filter_json_list(f, bad, &len, NULL), ERR_INVAL);
	filter_free(f);
}

static uint32_t
rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 16;
}

/* A random well-formed expression of depth at most d into b. */
static void
gen_expr(char *b, size_t len, uint32_t *seed, int d)
{
	static const char *const sel[] = { "Service.Tags", "Node.Meta",
	    "Node.Meta.env", "Checks.Status", "Service.Port", "Node.Node",
	    "Node.Meta[\"rack\"]", "Checks.ServiceTags", "Checks",
	    "Service.TaggedAddresses.lan.Port", "Service.EnableTagOverride",
	    "Service.Meta.version", "Service.Weights.Passing" };
	static const char *const val[] = { "v1", "\"primary\"", "`prod`",
	    "8080", "1", "true", "\"r.*\"", "critical", "\"\"" };
	static const char *const op[] = { "==", "!=", "contains",
	    "not contains", "matches", "not matches", "is empty",
	    "is not empty", "in", "not in" };
	char l[256], r[256];
	uint32_t k = rnd(seed) % (d > 0 ? 5 : 1);
	const char *o = op[rnd(seed) % 10];

	switch (k) {
	case 0:
		if (strcmp(o, "in") == 0 || strcmp(o, "not in") == 0)
			snprintf(b, len, "%s %s %s", val[rnd(seed) % 9], o,
			    sel[rnd(seed) % 13]);
		else if (strncmp(o, "is", 2) == 0)
			snprintf(b, len, "%s %s", sel[rnd(seed) % 13], o);
		else
			snprintf(b, len, "%s %s %s", sel[rnd(seed) % 13], o,
			    val[rnd(seed) % 9]);
		break;
	case 1:
	case 2:
		gen_expr(l, sizeof(l), seed, d - 1);
		gen_expr(r, sizeof(r), seed, d - 1);
		snprintf(b, len, "%s %s %s", l, k == 1 ? "and" : "or", r);
		break;
	case 3:
		gen_expr(l, sizeof(l), seed, d - 1);
		snprintf(b, len, "not %s", l);
		break;
	default:
		gen_expr(l, sizeof(l), seed, d - 1);
		snprintf(b, len, "(%s)", l);
		break;
	}
}

/*
 * Generated well-formed expressions: those whose operator fits the field
 * compile and evaluate; a copy with one byte removed compiles or fails
 * with the prefix. No fault or leak under ASan.
 */
static void
test_generated_expressions(void **state)
{
	json_error_t je;
	json_t *v = json_loads(entry_json, 0, &je);
	uint32_t seed = 777;
	char expr[256], err[512];
	int compiled = 0;

	(void)state;
	assert_non_null(v);
	for (int i = 0; i < 5000; i++) {
		struct filter *f = NULL;
		size_t n, cut;

		gen_expr(expr, sizeof(expr), &seed, 3);
		for (int pass = 0; pass < 2; pass++) {
			int rc = filter_compile(expr, filter_schema_entry, &f,
			    err, sizeof(err));

			if (rc == 0) {
				(void)filter_match(f, v);
				filter_free(f);
				f = NULL;
				compiled += pass == 0;
			} else {
				assert_int_equal(rc, ERR_INVAL);
				assert_true(strncmp(err, FILTER_ERR_PREFIX,
				    strlen(FILTER_ERR_PREFIX)) == 0);
			}
			n = strlen(expr);
			cut = rnd(&seed) % n;
			memmove(expr + cut, expr + cut + 1, n - cut);
		}
	}
	print_message("%d of 5000 compiled\n", compiled);
	assert_true(compiled > 500);
	json_decref(v);
}

/*
 * Deterministic random expressions from the language's pieces: each
 * compiles or fails with the prefix, and evaluates without a fault (the
 * ASan build checks memory).
 */
static void
test_random_expressions(void **state)
{
	static const char *const piece[] = { "Service.Tags", "Node.Meta",
	    "Node.Meta.env", "Checks.Status", "Service.Port", "Service",
	    "Node.Meta[\"rack\"]", "==", "!=", "in", "not", "contains",
	    "is", "empty", "matches", "and", "or", "(", ")", "\"v1\"",
	    "`x`", "\"", "`", "8080", "-1", "1.5", "[", "]", ".", " ", " ",
	    "\"a(\"", "true", "Nope", "\\" };
	const size_t np = sizeof(piece) / sizeof(piece[0]);
	json_error_t je;
	json_t *v = json_loads(entry_json, 0, &je);
	uint32_t seed = 12345;
	char expr[512], err[512];
	int compiled = 0;

	(void)state;
	assert_non_null(v);
	for (int i = 0; i < 20000; i++) {
		struct filter *f = NULL;
		size_t o = 0;
		int n, rc;

		seed = seed * 1103515245u + 12345u;
		n = 1 + (int)((seed >> 16) % 12);
		for (int k = 0; k < n; k++) {
			const char *p;

			seed = seed * 1103515245u + 12345u;
			p = piece[(seed >> 16) % np];
			if (o + strlen(p) + 2 >= sizeof(expr))
				break;
			o += (size_t)snprintf(expr + o, sizeof(expr) - o,
			    "%s%s", p, (seed & 0x100) ? " " : "");
		}
		expr[o] = '\0';
		rc = filter_compile(expr, filter_schema_entry, &f, err,
		    sizeof(err));
		if (rc == 0) {
			(void)filter_match(f, v);
			filter_free(f);
			compiled++;
		} else {
			assert_int_equal(rc, ERR_INVAL);
			assert_true(strncmp(err, FILTER_ERR_PREFIX,
			    strlen(FILTER_ERR_PREFIX)) == 0);
		}
	}
	print_message("%d of 20000 compiled\n", compiled);
	assert_true(compiled > 20);
	json_decref(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equality),
		cmocka_unit_test(test_contains_in),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_maps),
		cmocka_unit_test(test_any_over_lists),
		cmocka_unit_test(test_boolean_ops),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_json_compact),
		cmocka_unit_test(test_json_pretty),
		cmocka_unit_test(test_json_inner),
		cmocka_unit_test(test_json_malformed),
		cmocka_unit_test(test_random_expressions),
		cmocka_unit_test(test_generated_expressions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
