/*
 * cmd_members.c — `cairn members [-wan] [-detailed] [-status=regex]
 * [-filter=expr]`:
 * GET /v1/agent/members printed as Consul's table (spec §9): Node Address
 * Status Type Build Protocol DC Partition Segment, servers first then by
 * name, or with -detailed Node Address Status Tags (k=v sorted by key).
 * -filter is passed on as ?filter (the agent evaluates it, spec §1.8);
 * when no member matches, nothing is printed and the exit status is 2.
 *
 * Key decision: columns padded to their widest cell and joined with two
 * spaces, the last one unpadded (ryanuber/columnize as Consul uses it).
 * Reference: consul command/members/members.go.
 */
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_gossip.h"
#include "log.h"

static const char members_usage[] =
    "Usage: cairn members [options]\n\n"
    "  Outputs the members of a running agent's gossip pool.\n\n"
    "  -detailed        Additional information such as tags.\n"
    "  -filter=<expr>   Filter to use with the request.\n"
    "  -status=<regex>  Only members whose status matches.\n"
    "  -wan             Members of the WAN pool (servers only).\n"
    "  -http-addr=<addr> The agent's HTTP address.\n";

#define MEMBERS_COLS 9

struct members_row {
	char *cell[MEMBERS_COLS];
	const char *name;
	bool server;
};

static const char *
members_status(json_int_t s)
{
	switch (s) {
	case 1: return "alive";
	case 2: return "leaving";
	case 3: return "left";
	case 4: return "failed";
	}
	return "none";
}

static const char *
members_tag(json_t *m, const char *k)
{
	const char *v = json_string_value(json_object_get(
	    json_object_get(m, "Tags"), k));

	return v != NULL ? v : "";
}

static int
members_cmp(const void *a, const void *b)
{
	const struct members_row *x = a, *y = b;

	if (x->server != y->server) /* servers first, as Consul sorts */
		return x->server ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The header and rows as one table (see table_print()). */
static void
members_print(struct members_row *rows, size_t n, const char **hdr,
    int ncols)
{
	const char **cells = calloc((n + 1) * (size_t)ncols, sizeof(*cells));
	size_t i;
	int c;

	if (cells == NULL)
		fatal("calloc");
	for (c = 0; c < ncols; c++)
		cells[c] = hdr[c];
	for (i = 0; i < n; i++)
		for (c = 0; c < ncols; c++)
			cells[(i + 1) * (size_t)ncols + (size_t)c] =
			    rows[i].cell[c];
	table_print(cells, n + 1, (size_t)ncols);
	free(cells);
}

int
cmd_members_main(int argc, char **argv)
{
	static const char *hdr[] = { "Node", "Address", "Status", "Type",
		"Build", "Protocol", "DC", "Partition", "Segment" };
	static const char *dhdr[] = { "Node", "Address", "Status", "Tags" };
	struct flags_http h = { 0 };
	bool wan = false, detailed = false;
	const char *status = NULL, *filter = NULL;
	const struct flags_spec specs[] = {
		{ "wan", FLAGS_BOOL, &wan },
		{ "detailed", FLAGS_BOOL, &detailed },
		{ "status", FLAGS_STR, &status },
		{ "filter", FLAGS_STR, &filter },
		{ "segment", FLAGS_STR, &(const char *){ NULL } },
		{ "partition", FLAGS_STR, &(const char *){ NULL } },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	struct http_client c;
	struct http_response r;
	struct members_row *rows;
	regex_t re;
	json_t *root, *m;
	json_error_t jerr;
	char *query = NULL;
	size_t i, n = 0;
	int rc, k;

	if ((rc = flags_parse_none(specs, argc, argv, members_usage)) >= 0)
		return rc;
	if (status != NULL && regcomp(&re, status, REG_EXTENDED |
	    REG_NOSUB) != 0) {
		fprintf(stderr, "Failed to compile status regexp: %s\n",
		    status);
		return 1;
	}
	if (flags_http_client(&h, &c) != 0)
		return 1;
	if (wan)
		http_query_add(&query, "wan", "1");
	if (filter != NULL && *filter != '\0')
		http_query_add(&query, "filter", filter);
	rc = http_expect(&c, "Error retrieving members", "GET",
	    "/v1/agent/members", query, HTTP_TRIM_END, NULL, 0, &r);
	http_client_fini(&c);
	free(query);
	if (rc != 0)
		return 1;
	root = json_loads(r.body, 0, &jerr);
	http_response_free(&r);
	if (!json_is_array(root)) {
		fprintf(stderr, "Error retrieving members: bad JSON\n");
		json_decref(root);
		return 1;
	}
	if ((rows = calloc(json_array_size(root) + 1, sizeof(*rows))) == NULL)
		return 1;
	json_array_foreach(root, i, m) {
		const char *st = members_status(json_integer_value(
		    json_object_get(m, "Status")));
		const char *name = json_string_value(json_object_get(m,
		    "Name"));
		const char *addr = json_string_value(json_object_get(m,
		    "Addr"));
		bool server = strcmp(members_tag(m, "role"), "consul") == 0;
		struct members_row *row = &rows[n];
		char *p;

		if (status != NULL && regexec(&re, st, 0, NULL, 0) != 0)
			continue;
		row->name = name ? name : "";
		row->server = server;
		if (asprintf(&row->cell[0], "%s", row->name) < 0 ||
		    asprintf(&row->cell[1], strchr(addr ? addr : "", ':') ?
		    "[%s]:%lld" : "%s:%lld", addr ? addr : "",
		    (long long)json_integer_value(json_object_get(m,
		    "Port"))) < 0 ||
		    asprintf(&row->cell[2], "%s", st) < 0)
			return 1;
		if (detailed) {
			row->cell[3] = table_map_kv(json_object_get(m,
			    "Tags"), ",");
		} else {
			row->cell[3] = strdup(server ? "server" : "client");
			row->cell[4] = strdup(members_tag(m, "build"));
			if (row->cell[4] && (p = strchr(row->cell[4], ':')))
				*p = '\0';
			row->cell[5] = strdup(members_tag(m, "vsn"));
			row->cell[6] = strdup(members_tag(m, "dc"));
			row->cell[7] = strdup("default");
			row->cell[8] = strdup(server ? "<all>" : "<default>");
		}
		for (k = 0; k < (detailed ? 4 : MEMBERS_COLS); k++)
			if (row->cell[k] == NULL)
				return 1;
		n++;
	}
	qsort(rows, n, sizeof(*rows), members_cmp);
	if (n > 0)
		members_print(rows, n, detailed ? dhdr : hdr,
		    detailed ? 4 : MEMBERS_COLS);
	for (i = 0; i < n; i++)
		for (k = 0; k < MEMBERS_COLS; k++)
			free(rows[i].cell[k]);
	free(rows);
	json_decref(root);
	if (status != NULL)
		regfree(&re);
	return n > 0 ? 0 : 2; /* no matching members: 2, as Consul */
}
