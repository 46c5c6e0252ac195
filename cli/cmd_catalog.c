/*
 * cmd_catalog.c — `cairn catalog datacenters|nodes|services`, read-only
 * views of the catalog over /v1/catalog/{datacenters,nodes,service/:s,
 * services,node/:n}, printed exactly as Consul's `consul catalog` does so
 * that scripts parsing its output keep working.
 *
 * Key decisions:
 * - nodes: a table `Node ID Address DC` (with -detailed also
 *   TaggedAddresses and Meta as sorted "k=v, k=v"), in the server's
 *   order; the ID is cut at its first "-" unless -detailed. -service asks
 *   /v1/catalog/service/:s and turns each instance into its node, one row
 *   per instance as Consul does.
 * - services: names sorted, one per line; -tags adds the sorted tags,
 *   comma-joined, in a column padded as Go's tabwriter (widest name + 6).
 *   -node reads /v1/catalog/node/:n and merges the tags of its instances.
 * - Tables are padded as ryanuber/columnize: each column to its widest
 *   cell, joined by two spaces, the last column unpadded.
 * - -filter takes the expression, "@file" or "-" (stdin), as Consul's
 *   helpers.LoadDataSource.
 * - An empty answer is not an error: "No nodes match the given query -
 *   try expanding your search." on stderr and exit 0; an HTTP error is
 *   "Error listing nodes: Unexpected response code: 400 (<body>)" and 1.
 * Reference: Consul command/catalog/list/{dc,nodes,services}; spec
 * consul-api.md §9 (CLI) and §1.8 (filters).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

#define CAT_MAX_META 64

static const char catalog_usage[] =
    "Usage: cairn catalog <subcommand> [options] [args]\n\n"
    "  This command has subcommands for interacting with Cairn's catalog.\n"
    "  The catalog should not be confused with the agent, although the\n"
    "  APIs and responses may be similar.\n\n"
    "Subcommands:\n"
    "    datacenters    Lists all known datacenters\n"
    "    nodes          Lists all nodes in the given datacenter\n"
    "    services       Lists all registered services in a datacenter\n";

/* A growing "k=v&k=v" query string. */
struct cat_query {
	char *s;
};

/* -node-meta's usage and where its values go. */
struct cat_meta {
	struct cat_query *q;
	const char *usage;
};

/*
 * One "-node-meta k=v" (Go's flag.Var of a map: repeatable): adds
 * "node-meta=k:v" to the query. Returns 0, or 1 after printing Go's
 * message for a value without "=".
 */
static int
cat_take_meta(const char *v, void *arg)
{
	const struct cat_meta *m = arg;
	const char *eq = strchr(v, '=');
	char *kv;

	if (eq == NULL) {
		fprintf(stderr, "invalid value \"%s\" for flag -node-meta: "
		    "Missing \"=\" value in argument: %s\n%s", v, v, m->usage);
		return 1;
	}
	if ((kv = strdup(v)) == NULL)
		return 1;
	kv[eq - v] = ':';
	http_query_add(&m->q->s, "node-meta", kv);
	free(kv);
	return 0;
}

/*
 * Adds ?filter from -filter: the expression itself, "@path" (the file's
 * contents) or "-" (all of stdin). Returns 0, or 1 after printing
 * Consul's "Could not process filter argument: ..." line.
 */
static int
cat_filter(struct cat_query *q, const char *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *in = stdin, *mem;
	int c;

	if (f == NULL || *f == '\0')
		return 0;
	if (f[0] != '@' && strcmp(f, "-") != 0) {
		http_query_add(&q->s, "filter", f);
		return 0;
	}
	if (f[0] == '@' && (in = fopen(f + 1, "r")) == NULL) {
		fprintf(stderr, "Could not process filter argument: Failed to "
		    "read file: open %s: %s\n", f + 1, strerror(errno));
		return 1;
	}
	if ((mem = open_memstream(&buf, &len)) == NULL) {
		if (in != stdin)
			fclose(in);
		return 1;
	}
	while ((c = fgetc(in)) != EOF)
		fputc(c, mem);
	fclose(mem);
	if (in != stdin)
		fclose(in);
	if (len > 0)
		http_query_add(&q->s, "filter", buf);
	free(buf);
	return 0;
}

/*
 * GET path?query and parse the JSON answer. On failure prints
 * "<what>: <Go api error>" to stderr and returns NULL. A "null" body is
 * returned as JSON null (json_null()).
 */
static json_t *
cat_get(const struct flags_http *h, const char *what, const char *path,
    const char *query)
{
	struct http_client c;
	struct http_response r;
	json_error_t jerr;
	json_t *root;
	int rc;

	if (flags_http_client(h, &c) != 0)
		return NULL;
	rc = http_expect(&c, what, "GET", path, query, HTTP_STALE | HTTP_TRIM,
	    NULL, 0, &r);
	http_client_fini(&c);
	if (rc != 0)
		return NULL;
	root = json_loadb(r.body, r.len, JSON_DECODE_ANY, &jerr);
	http_response_free(&r);
	if (root == NULL)
		fprintf(stderr, "%s: %s\n", what, jerr.text);
	return root;
}

/* A copy of s without leading and trailing white space (columnize). */
static char *
cat_trim(const char *s)
{
	size_t n;

	s = s ? s : "";
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	n = strlen(s);
	while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
		n--;
	return strndup(s, n);
}

static const char *
cat_str(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

/*
 * One row of the nodes table from a Node (or a CatalogService, whose
 * node's Meta is "NodeMeta").
 */
static int
cat_node_row(json_t *n, const char *meta_key, bool detailed, char **row)
{
	const char *id = cat_str(n, "ID"), *dash = strchr(id, '-');

	row[0] = cat_trim(cat_str(n, "Node"));
	if (!detailed && dash != NULL && dash > id)
		row[1] = strndup(id, (size_t)(dash - id));
	else
		row[1] = cat_trim(id);
	row[2] = cat_trim(cat_str(n, "Address"));
	row[3] = cat_trim(cat_str(n, "Datacenter"));
	if (detailed) {
		char *t = table_map_kv(json_object_get(n, "TaggedAddresses"),
		    ", ");
		char *m = table_map_kv(json_object_get(n, meta_key), ", ");

		row[4] = cat_trim(t);
		row[5] = cat_trim(m);
		free(t);
		free(m);
	}
	for (int c = 0; c < (detailed ? 6 : 4); c++)
		if (row[c] == NULL)
			return -1;
	return 0;
}

static int
cat_print_nodes(json_t *list, const char *meta_key, bool detailed)
{
	static const char *hdr[] = { "Node", "ID", "Address", "DC",
		"TaggedAddresses", "Meta" };
	size_t ncols = detailed ? 6 : 4, n = json_array_size(list), i, c;
	char **cells;
	int rc = 0;

	if ((cells = calloc((n + 1) * ncols, sizeof(*cells))) == NULL)
		return 1;
	for (c = 0; c < ncols; c++)
		cells[c] = (char *)hdr[c];
	for (i = 0; i < n && rc == 0; i++)
		if (cat_node_row(json_array_get(list, i), meta_key, detailed,
		    &cells[(i + 1) * ncols]) != 0)
			rc = 1;
	if (rc == 0)
		table_print((const char *const *)cells, n + 1, ncols);
	for (i = ncols; i < (n + 1) * ncols; i++)
		free(cells[i]);
	free(cells);
	return rc;
}

static int
cat_nodes(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: cairn catalog nodes [options]\n\n"
	    "  Retrieves the list of nodes registered in a given datacenter.\n"
	    "  By default, the datacenter of the local agent is queried.\n\n"
	    "  -detailed          Output detailed information about the nodes\n"
	    "                     including their addresses and metadata.\n"
	    "  -filter=<expr>     Filter to use with the request.\n"
	    "  -near=<node>       Node name to sort the node list in ascending\n"
	    "                     order based on estimated round-trip time\n"
	    "                     from that node (\"_agent\": this agent).\n"
	    "  -node-meta=<k=v>   Only nodes with this metadata (repeatable).\n"
	    "  -service=<name>    Only nodes providing this service.\n"
	    "  -http-addr=<addr>  The agent's HTTP address.\n";
	struct flags_http h = { 0 };
	struct cat_query q = { NULL };
	const char *service = NULL, *near = NULL, *filter = NULL;
	bool detailed = false;
	const struct flags_spec specs[] = {
		{ "detailed", FLAGS_BOOL, &detailed },
		{ "near", FLAGS_STR, &near },
		{ "service", FLAGS_STR, &service },
		{ "filter", FLAGS_STR, &filter },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	json_t *root;
	char *path = NULL;
	int rc = 1;

	if (flags_take_repeat(&argc, argv, "node-meta", usage, cat_take_meta,
	    &(struct cat_meta){ &q, usage }) != 0)
		goto out;
	if ((rc = flags_parse_none(specs, argc, argv, usage)) >= 0)
		goto out;
	rc = 1;
	if (near && *near)
		http_query_add(&q.s, "near", near);
	if (cat_filter(&q, filter) != 0)
		goto out;
	if (service != NULL && *service != '\0') {
		path = http_path("/v1/catalog/service/", service);
		root = cat_get(&h, "Error listing nodes for service", path,
		    q.s);
	} else
		root = cat_get(&h, "Error listing nodes", "/v1/catalog/nodes",
		    q.s);
	if (root == NULL)
		goto out;
	if (json_array_size(root) == 0) {
		fprintf(stderr, "No nodes match the given query - try "
		    "expanding your search.\n");
		rc = 0;
	} else
		rc = cat_print_nodes(root, service && *service ? "NodeMeta" :
		    "Meta", detailed);
	json_decref(root);
out:
	free(path);
	free(q.s);
	return rc;
}

/* Adds the tags in arr to the list of name in svcs ({name: [tags]}). */
static int
cat_merge_tags(json_t *svcs, const char *name, json_t *arr)
{
	json_t *list = json_object_get(svcs, name);

	if (list == NULL) {
		list = json_array();
		if (list == NULL || json_object_set_new(svcs, name, list) != 0)
			return -1;
	}
	if (json_is_array(arr))
		json_array_extend(list, arr);
	return 0;
}

/* {id: AgentService} of /v1/catalog/node/:n as {name: [tags]}. */
static json_t *
cat_node_services(json_t *node)
{
	json_t *svcs = json_object(), *s;
	const char *id;

	if (svcs == NULL)
		return NULL;
	json_object_foreach(json_object_get(node, "Services"), id, s) {
		if (cat_merge_tags(svcs, cat_str(s, "Service"),
		    json_object_get(s, "Tags")) != 0) {
			json_decref(svcs);
			return NULL;
		}
	}
	return svcs;
}

/*
 * Prints the service names sorted; with tags, as Go's tabwriter with
 * padding 6: the name padded to the widest name + 6, then the sorted
 * tags comma-joined; the whole output trimmed of trailing space.
 */
static int
cat_print_services(json_t *svcs, bool tags)
{
	size_t n = json_object_size(svcs), i = 0, w = 0, j, bl = 0;
	const char *k, **names;
	json_t *v;
	char *buf = NULL;
	FILE *f;

	if ((names = calloc(n + 1, sizeof(*names))) == NULL)
		return 1;
	json_object_foreach(svcs, k, v) {
		names[i++] = k;
		if (strlen(k) > w)
			w = strlen(k);
	}
	qsort(names, n, sizeof(*names), table_strcmp);
	if (!tags) {
		for (i = 0; i < n; i++)
			printf("%s\n", names[i]);
		free(names);
		return 0;
	}
	if ((f = open_memstream(&buf, &bl)) == NULL) {
		free(names);
		return 1;
	}
	for (i = 0; i < n; i++) {
		json_t *list = json_object_get(svcs, names[i]);
		size_t nt = json_array_size(list);
		const char **t = calloc(nt + 1, sizeof(*t));

		if (t == NULL)
			break;
		for (j = 0; j < nt; j++) {
			const char *s = json_string_value(json_array_get(list,
			    j));
			t[j] = s ? s : "";
		}
		qsort(t, nt, sizeof(*t), table_strcmp);
		fprintf(f, "%-*s", (int)(w + 6), names[i]);
		for (j = 0; j < nt; j++)
			fprintf(f, "%s%s", j ? "," : "", t[j]);
		fputc('\n', f);
		free(t);
	}
	fclose(f);
	while (bl > 0 && strchr(" \t\r\n", buf[bl - 1]) != NULL)
		bl--;
	printf("%.*s\n", (int)bl, buf);
	free(buf);
	free(names);
	return i == n ? 0 : 1;
}

static int
cat_services(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: cairn catalog services [options]\n\n"
	    "  Retrieves the list of services registered in a given\n"
	    "  datacenter. By default, the datacenter of the local agent is\n"
	    "  queried.\n\n"
	    "  -filter=<expr>     Filter to use with the request.\n"
	    "  -node=<name>       Node id or name for which to list services.\n"
	    "  -node-meta=<k=v>   Only services on nodes with this metadata\n"
	    "                     (repeatable).\n"
	    "  -tags              Display each service's tags as a\n"
	    "                     comma-separated list beside each service.\n"
	    "  -http-addr=<addr>  The agent's HTTP address.\n";
	struct flags_http h = { 0 };
	struct cat_query q = { NULL };
	const char *node = NULL, *filter = NULL;
	bool tags = false;
	const struct flags_spec specs[] = {
		{ "node", FLAGS_STR, &node },
		{ "tags", FLAGS_BOOL, &tags },
		{ "filter", FLAGS_STR, &filter },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	json_t *root, *svcs;
	char *path = NULL;
	int rc = 1;

	if (flags_take_repeat(&argc, argv, "node-meta", usage, cat_take_meta,
	    &(struct cat_meta){ &q, usage }) != 0)
		goto out;
	if ((rc = flags_parse_none(specs, argc, argv, usage)) >= 0)
		goto out;
	rc = 1;
	if (cat_filter(&q, filter) != 0)
		goto out;
	if (node != NULL && *node != '\0') {
		path = http_path("/v1/catalog/node/", node);
		if ((root = cat_get(&h, "Error listing services for node",
		    path, q.s)) == NULL)
			goto out;
		svcs = cat_node_services(root);
		json_decref(root);
	} else {
		svcs = cat_get(&h, "Error listing services",
		    "/v1/catalog/services", q.s);
	}
	if (svcs == NULL)
		goto out;
	if (json_object_size(svcs) == 0) {
		fprintf(stderr, "No services match the given query - try "
		    "expanding your search.\n");
		rc = 0;
	} else
		rc = cat_print_services(svcs, tags);
	json_decref(svcs);
out:
	free(path);
	free(q.s);
	return rc;
}

static int
cat_datacenters(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: cairn catalog datacenters [options]\n\n"
	    "  Retrieves the list of all known datacenters.\n\n"
	    "  -http-addr=<addr>  The agent's HTTP address.\n";
	struct flags_http h = { 0 };
	const struct flags_spec specs[] = {
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	json_t *root;
	size_t i;
	int rc;

	if ((rc = flags_parse_none(specs, argc, argv, usage)) >= 0)
		return rc;
	if ((root = cat_get(&h, "Error listing datacenters",
	    "/v1/catalog/datacenters", NULL)) == NULL)
		return 1;
	if (json_array_size(root) == 0) {
		fprintf(stderr, "No datacenters found\n");
		json_decref(root);
		return 1;
	}
	for (i = 0; i < json_array_size(root); i++)
		printf("%s\n", json_string_value(json_array_get(root, i)) ?
		    json_string_value(json_array_get(root, i)) : "");
	json_decref(root);
	return 0;
}

int
cmd_catalog_main(int argc, char **argv)
{
	static const struct flags_sub subs[] = {
		{ "datacenters", cat_datacenters },
		{ "nodes", cat_nodes },
		{ "services", cat_services },
		{ NULL, NULL },
	};

	return flags_subcommand(argc, argv, catalog_usage, subs);
}
