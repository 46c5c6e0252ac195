/*
 * cmd_kv.c — `cairn kv get|put|delete|export|import`, over /v1/kv.
 *
 * Key decision: the messages, layouts and exit codes are copied from
 * Consul's command/kv/{get,put,del,exp,imp} (spec §9), because scripts
 * parse them: "Success! Data written to: k", "Error! No key exists at:
 * k", -detailed as a tabwriter table, export as Go's json.MarshalIndent
 * with tabs. Flags stop at the first argument as Go's flag package does.
 * Keys are percent-encoded in the path with "/" kept (Go's
 * URL.EscapedPath). JSON is jansson.
 * Reference: spec/consul-api.md §2.4 (KV API), §9 (CLI).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cli.h"
#include "err.h"
#include "log.h"

static const char kv_usage[] =
    "Usage: cairn kv <subcommand> [options] [args]\n\n"
    "  Interact with the key-value store.\n\n"
    "Subcommands:\n"
    "    delete    Removes data from the KV store\n"
    "    export    Exports a tree from the KV store as JSON\n"
    "    get       Retrieves or lists data from the KV store\n"
    "    import    Imports a tree stored as JSON to the KV store\n"
    "    put       Sets or updates data in the KV store\n";

static const char kv_http_help[] =
    "\nHTTP API Options:\n\n"
    "  -http-addr=<address>  The address of the agent (default\n"
    "                        http://127.0.0.1:8500; CONSUL_HTTP_ADDR).\n"
    "  -token=<value>        ACL token (CONSUL_HTTP_TOKEN).\n"
    "  -token-file=<path>    File holding the ACL token.\n"
    "  -datacenter=<name>    Datacenter to query.\n"
    "  -stale                Allow any server to answer reads.\n";

/* One KV pair of the API's JSON. */
struct kv_pair {
	const char *key;
	uint64_t create_index, modify_index, lock_index, flags;
	const char *session;
	char *value; /* decoded; owned */
	size_t vlen;
};

/* ---- shared helpers ---- */

static char *
kv_path(const char *key)
{
	char *esc = http_escape(key, true), *p;
	if (asprintf(&p, "/v1/kv/%s", esc) < 0)
		fatal("asprintf");
	free(esc);
	return p;
}

/*
 * One request whose answer must be 200 (or 404 when allow404). Returns
 * 0 (resp owned), or -1 with err set.
 */
static int
kv_call(struct http_client *c, const char *method, const char *key,
    const char *query, unsigned flags, const void *body, size_t blen,
    bool allow404, struct http_response *resp, char *err, size_t errlen)
{
	char *path = kv_path(key);
	int rc = http_request(c, method, path, query, flags, body, blen, resp,
	    err, errlen);

	free(path);
	if (rc != 0)
		return -1;
	if (resp->status == 200 || (allow404 && resp->status == 404))
		return 0;
	http_status_err(resp, HTTP_TRIM_EOL, err, errlen);
	http_response_free(resp);
	return -1;
}

static uint64_t
kv_u64(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);
	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

/* Decodes the API's array of pairs; pairs borrow from root. */
static int
kv_pairs(json_t *root, struct kv_pair **out, size_t *n, char *err,
    size_t errlen)
{
	size_t i, bad;
	json_t *e;

	*out = NULL;
	*n = 0;
	if (!json_is_array(root)) {
		snprintf(err, errlen, "unexpected response: not a JSON array");
		return -1;
	}
	if ((*out = calloc(json_array_size(root) + 1, sizeof(**out))) == NULL)
		fatal("calloc");
	json_array_foreach(root, i, e) {
		struct kv_pair *p = &(*out)[i];
		json_t *v = json_object_get(e, "Value");
		p->key = json_string_value(json_object_get(e, "Key"));
		p->session = json_string_value(json_object_get(e, "Session"));
		p->create_index = kv_u64(e, "CreateIndex");
		p->modify_index = kv_u64(e, "ModifyIndex");
		p->lock_index = kv_u64(e, "LockIndex");
		p->flags = kv_u64(e, "Flags");
		if (p->key == NULL)
			p->key = "";
		if (json_is_string(v)) {
			if (base64_decode(json_string_value(v),
			    json_string_length(v), &p->value, &p->vlen,
			    &bad) != 0) {
				snprintf(err, errlen, "illegal base64 data at "
				    "input byte %zu", bad);
				*n = i;
				return -1;
			}
		} else if ((p->value = strdup("")) == NULL)
			fatal("strdup");
		*n = i + 1;
	}
	return 0;
}

static void
kv_pairs_free(struct kv_pair *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].value);
	free(p);
}

/* GET and decode; *root owned by the caller (json_decref). */
static int
kv_fetch(struct http_client *c, const char *key, const char *query,
    json_t **root, struct kv_pair **pairs, size_t *n, bool *missing,
    char *err, size_t errlen)
{
	struct http_response r;
	json_error_t je;

	*root = NULL;
	*pairs = NULL;
	*n = 0;
	*missing = false;
	if (kv_call(c, "GET", key, query, HTTP_STALE, NULL, 0, true, &r, err,
	    errlen) != 0)
		return -1;
	if (r.status == 404) {
		*missing = true;
		http_response_free(&r);
		return 0;
	}
	*root = json_loadb(r.body, r.len, 0, &je);
	http_response_free(&r);
	if (*root == NULL) {
		snprintf(err, errlen, "invalid JSON from the agent: %s",
		    je.text);
		return -1;
	}
	if (query != NULL && strncmp(query, "keys", 4) == 0)
		return 0;
	if (kv_pairs(*root, pairs, n, err, errlen) != 0) {
		kv_pairs_free(*pairs, *n);
		*pairs = NULL;
		json_decref(*root);
		*root = NULL;
		return -1;
	}
	return 0;
}

static void
kv_print_value(const char *v, size_t len, bool b64)
{
	if (b64) {
		char *e = base64_encode(v, len);
		fputs(e, stdout);
		free(e);
	} else
		fwrite(v, 1, len, stdout);
	fputc('\n', stdout);
}

/* Consul's prettyKVPair: a tabwriter with padding 6 (labels to 17). */
static void
kv_print_detailed(const struct kv_pair *p, bool b64)
{
	printf("%-17s%llu\n", "CreateIndex",
	    (unsigned long long)p->create_index);
	printf("%-17s%llu\n", "Flags", (unsigned long long)p->flags);
	printf("%-17s%s\n", "Key", p->key);
	printf("%-17s%llu\n", "LockIndex", (unsigned long long)p->lock_index);
	printf("%-17s%llu\n", "ModifyIndex",
	    (unsigned long long)p->modify_index);
	printf("%-17s%s\n", "Session",
	    p->session && *p->session ? p->session : "-");
	printf("%-17s", "Value");
	kv_print_value(p->value, p->vlen, b64);
}

/* Reads all of f into an owned, NUL-terminated buffer. */
static char *
kv_read_all(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0, got;
	char *b = malloc(cap);

	if (b == NULL)
		fatal("malloc");
	while ((got = fread(b + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			char *nb = realloc(b, cap *= 2);
			if (nb == NULL)
				fatal("realloc");
			b = nb;
		}
	}
	if (ferror(f)) {
		free(b);
		return NULL;
	}
	b[n] = '\0';
	*len = n;
	return b;
}

/* Consul's helpers.LoadDataSource: "", "@file", "-" (stdin), or data. */
static char *
kv_load_data(const char *arg, size_t *len, char *err, size_t errlen)
{
	char *d;

	if (arg[0] == '@' || strcmp(arg, "-") == 0) {
		const char *file = arg[0] == '@' ? arg + 1 : NULL;
		FILE *f;
		if (file != NULL && *file == '\0') {
			snprintf(err, errlen, "Failed to load data: data "
			    "source is empty");
			return NULL;
		}
		f = file ? fopen(file, "rb") : stdin;
		if (f == NULL) {
			snprintf(err, errlen, "Failed to read file: open %s: %s",
			    file, strerror(errno));
			return NULL;
		}
		d = kv_read_all(f, len);
		if (file)
			fclose(f);
		if (d == NULL)
			snprintf(err, errlen, "Failed to read %s: %s",
			    file ? "file" : "stdin", strerror(errno));
		return d;
	}
	if ((d = strdup(arg)) == NULL)
		fatal("strdup");
	*len = strlen(d);
	return d;
}

static const char *
kv_strip_slash(const char *key)
{
	return key[0] == '/' ? key + 1 : key;
}

/*
 * The one KEY argument, "/"-stripped into *key (left as it is when
 * absent). Returns 0, or 1 after printing why: more than one, or none
 * and !may_omit.
 */
static int
kv_key_arg(int argc, char **argv, int first, bool may_omit,
    const char **key)
{
	if (argc - first > 1) {
		fprintf(stderr, "Too many arguments (expected 1, got %d)\n",
		    argc - first);
		return 1;
	}
	if (argc - first == 1)
		*key = kv_strip_slash(argv[first]);
	if (**key == '\0' && !may_omit) {
		fprintf(stderr, "Error! Missing KEY argument\n");
		return 1;
	}
	return 0;
}

/* Parses flags; returns the first positional index, or -(exit+1). */
static int
kv_flags(const struct flags_spec *specs, int argc, char **argv,
    const char *usage)
{
	int first = flags_parse(specs, argc, argv, usage);
	if (first == FLAGS_HELP)
		return -1; /* exit 0 */
	if (first < 0)
		return -2; /* exit 1 */
	return first;
}

#define KV_EXIT(first) ((first) == -1 ? 0 : 1)

/* ---- kv get ---- */

/* Prints what kv get fetched; returns the exit status. */
static int
kv_get_print(json_t *root, const struct kv_pair *pairs, size_t n,
    bool missing, const char *key, bool keys, bool recurse, bool detailed,
    bool b64)
{
	size_t i;
	json_t *e;

	if (keys) {
		json_array_foreach(root, i, e) {
			if (json_is_string(e))
				printf("%s\n", json_string_value(e));
		}
		return 0;
	}
	if (recurse) {
		for (i = 0; i < n; i++) {
			if (detailed) {
				kv_print_detailed(&pairs[i], b64);
				if (i + 1 < n)
					printf("\n");
			} else {
				printf("%s:", pairs[i].key);
				kv_print_value(pairs[i].value, pairs[i].vlen,
				    b64);
			}
		}
		return 0;
	}
	if (missing || n == 0) {
		fprintf(stderr, "Error! No key exists at: %s\n", key);
		return 1;
	}
	if (detailed)
		kv_print_detailed(&pairs[0], b64);
	else
		kv_print_value(pairs[0].value, pairs[0].vlen, b64);
	return 0;
}

static int
kv_get(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: cairn kv get [options] [KEY_OR_PREFIX]\n\n"
	    "  -base64  -detailed  -keys  -recurse  -separator=<string>\n";
	struct flags_http h = { 0 };
	bool b64 = false, detailed = false, keys = false, recurse = false;
	const char *sep = "/", *key = "";
	const struct flags_spec specs[] = {
		{ "base64", FLAGS_BOOL, &b64 },
		{ "detailed", FLAGS_BOOL, &detailed },
		{ "keys", FLAGS_BOOL, &keys },
		{ "recurse", FLAGS_BOOL, &recurse },
		{ "separator", FLAGS_STR, &sep },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	int first = kv_flags(specs, argc, argv, usage), rc = 1;
	struct http_client c;
	struct kv_pair *pairs = NULL;
	size_t n = 0;
	json_t *root = NULL;
	bool missing;
	char err[1024], *query = NULL;

	if (first < 0)
		return KV_EXIT(first);
	if (kv_key_arg(argc, argv, first, recurse || keys, &key) != 0)
		return 1;
	if (flags_http_client(&h, &c) != 0)
		return 1;
	if (keys) {
		char *esc = http_escape(sep, false);
		if (asprintf(&query, *sep ? "keys=&separator=%s" : "keys=%s",
		    *sep ? esc : "") < 0)
			fatal("asprintf");
		free(esc);
	} else if (recurse && (query = strdup("recurse=")) == NULL)
		fatal("strdup");
	if (kv_fetch(&c, key, query, &root, &pairs, &n, &missing, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "Error querying Consul agent: %s\n", err);
		goto out;
	}
	rc = kv_get_print(root, pairs, n, missing, key, keys, recurse,
	    detailed, b64);
out:
	kv_pairs_free(pairs, n);
	json_decref(root);
	free(query);
	http_client_fini(&c);
	return rc;
}

/* ---- kv put ---- */

struct kv_put_opts {
	bool cas, acquire, release, b64;
	uint64_t modify_index, flags;
	const char *session;
};

/* The query of one PUT; owned. */
static char *
kv_put_query(const struct kv_put_opts *o)
{
	char *q = NULL, *sess = http_escape(o->session ? o->session : "",
	    false);
	char fl[32] = "";
	int r;

	if (o->flags != 0)
		snprintf(fl, sizeof(fl), "flags=%llu",
		    (unsigned long long)o->flags);
	if (o->cas)
		r = asprintf(&q, "%s%scas=%llu", fl, *fl ? "&" : "",
		    (unsigned long long)o->modify_index);
	else if (o->acquire || o->release)
		r = asprintf(&q, "%s%s%s=%s", fl, *fl ? "&" : "",
		    o->acquire ? "acquire" : "release", sess);
	else
		r = asprintf(&q, "%s", fl);
	if (r < 0)
		fatal("asprintf");
	free(sess);
	return q;
}

static int
kv_put_send(struct http_client *c, const char *key,
    const struct kv_put_opts *o, const char *data, size_t len)
{
	struct http_response r;
	char err[1024], *q = kv_put_query(o);
	int rc = kv_call(c, "PUT", key, q, 0, data, len, false, &r, err,
	    sizeof(err));
	bool ok;

	free(q);
	if (rc != 0) {
		if (o->cas)
			fprintf(stderr, "Error! Did not write to %s: %s\n", key,
			    err);
		else
			fprintf(stderr, "Error! Failed writing data: %s\n", err);
		return 1;
	}
	ok = strncmp(r.body, "true", 4) == 0;
	http_response_free(&r);
	if (o->cas && !ok) {
		fprintf(stderr, "Error! Did not write to %s: CAS failed\n", key);
		return 1;
	}
	if (o->acquire) {
		if (!ok) {
			fprintf(stderr, "Error! Did not acquire lock\n");
			return 1;
		}
		printf("Success! Lock acquired on: %s\n", key);
	} else if (o->release) {
		if (!ok) {
			fprintf(stderr, "Error! Did not release lock\n");
			return 1;
		}
		printf("Success! Lock released on: %s\n", key);
	} else
		printf("Success! Data written to: %s\n", key);
	return 0;
}

static int
kv_put(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: cairn kv put [options] KEY [DATA]\n\n"
	    "  -acquire  -base64  -cas  -flags=<uint>  -modify-index=<uint>\n"
	    "  -release  -session=<string>\n";
	struct flags_http h = { 0 };
	struct kv_put_opts o = { 0 };
	const struct flags_spec specs[] = {
		{ "acquire", FLAGS_BOOL, &o.acquire },
		{ "base64", FLAGS_BOOL, &o.b64 },
		{ "cas", FLAGS_BOOL, &o.cas },
		{ "flags", FLAGS_U64, &o.flags },
		{ "modify-index", FLAGS_U64, &o.modify_index },
		{ "release", FLAGS_BOOL, &o.release },
		{ "session", FLAGS_STR, &o.session },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	int first = kv_flags(specs, argc, argv, usage), rc;
	struct http_client c;
	char err[1024], *data = NULL;
	size_t len = 0;

	if (first < 0)
		return KV_EXIT(first);
	int nargs = argc - first;
	if (nargs == 0) {
		fprintf(stderr, "Error! Missing KEY argument\n");
		return 1;
	}
	if (nargs > 2) {
		fprintf(stderr, "Error! Too many arguments (expected 1 or 2, "
		    "got %d)\n", nargs);
		return 1;
	}
	const char *key = argv[first];
	if (nargs == 2 && argv[first + 1][0] != '\0') {
		if ((data = kv_load_data(argv[first + 1], &len, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "Error! %s\n", err);
			return 1;
		}
	}
	if (o.b64 && data != NULL) {
		char *raw;
		size_t bad;
		if (base64_decode(data, len, &raw, &len, &bad) != 0) {
			fprintf(stderr, "Error! Cannot base 64 decode data: "
			    "illegal base64 data at input byte %zu\n", bad);
			free(data);
			return 1;
		}
		free(data);
		data = raw;
	}
	if ((o.release || o.acquire) && (o.session == NULL ||
	    *o.session == '\0')) {
		fprintf(stderr, "Error! Missing -session (required with "
		    "-acquire and -release)\n");
		free(data);
		return 1;
	}
	if (o.cas && o.modify_index == 0) {
		fprintf(stderr, "Must specify -modify-index with -cas!\n");
		free(data);
		return 1;
	}
	if (flags_http_client(&h, &c) != 0) {
		free(data);
		return 1;
	}
	rc = kv_put_send(&c, key, &o, data ? data : "", len);
	free(data);
	http_client_fini(&c);
	return rc;
}

/* ---- kv delete ---- */

static int
kv_delete(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: cairn kv delete [options] KEY_OR_PREFIX\n\n"
	    "  -cas  -modify-index=<uint>  -recurse\n";
	struct flags_http h = { 0 };
	bool cas = false, recurse = false;
	uint64_t mi = 0;
	const struct flags_spec specs[] = {
		{ "cas", FLAGS_BOOL, &cas },
		{ "modify-index", FLAGS_U64, &mi },
		{ "recurse", FLAGS_BOOL, &recurse },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	int first = kv_flags(specs, argc, argv, usage), rc;
	struct http_client c;
	struct http_response r;
	const char *key = "";
	char err[1024], q[64] = "";

	if (first < 0)
		return KV_EXIT(first);
	if (kv_key_arg(argc, argv, first, recurse, &key) != 0)
		return 1;
	if (cas && mi == 0) {
		fprintf(stderr, "Must specify -modify-index with -cas!\n");
		return 1;
	}
	if (mi != 0 && !cas) /* Consul warns and goes on */
		fprintf(stderr, "Cannot specify -modify-index without -cas!\n");
	if (recurse && cas) {
		fprintf(stderr, "Cannot specify both -cas and -recurse!\n");
		return 1;
	}
	if (flags_http_client(&h, &c) != 0)
		return 1;
	if (recurse)
		snprintf(q, sizeof(q), "recurse=");
	else if (cas)
		snprintf(q, sizeof(q), "cas=%llu", (unsigned long long)mi);
	rc = kv_call(&c, "DELETE", key, q, 0, NULL, 0, false, &r, err,
	    sizeof(err));
	http_client_fini(&c);
	if (rc != 0) {
		if (recurse)
			fprintf(stderr, "Error! Did not delete prefix %s: %s\n",
			    key, err);
		else if (cas)
			fprintf(stderr, "Error! Did not delete key %s: %s\n",
			    key, err);
		else
			fprintf(stderr, "Error deleting key %s: %s\n", key, err);
		return 1;
	}
	bool ok = strncmp(r.body, "true", 4) == 0;
	http_response_free(&r);
	if (recurse) {
		printf("Success! Deleted keys with prefix: %s\n", key);
		return 0;
	}
	if (cas && !ok) {
		fprintf(stderr, "Error! Did not delete key %s: CAS failed\n",
		    key);
		return 1;
	}
	printf("Success! Deleted key: %s\n", key);
	return 0;
}

/* ---- kv export ---- */

/* A string as Go's encoding/json writes it (HTML-safe escaping). */
static void
kv_go_json_str(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			putchar('\\');
			putchar(*p);
		} else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\r')
			fputs("\\r", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&')
			printf("\\u00%c%c", hex[*p >> 4], hex[*p & 15]);
		else if (p[0] == 0xe2 && p[1] == 0x80 &&
		    (p[2] == 0xa8 || p[2] == 0xa9)) {
			printf("\\u202%c", p[2] == 0xa8 ? '8' : '9');
			p += 2;
		} else
			putchar(*p);
	}
	putchar('"');
}

static int
kv_export(int argc, char **argv)
{
	static const char usage[] = "Usage: cairn kv export [KEY_OR_PREFIX]\n";
	struct flags_http h = { 0 };
	const struct flags_spec specs[] = {
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	int first = kv_flags(specs, argc, argv, usage);
	struct http_client c;
	struct kv_pair *pairs;
	size_t n;
	json_t *root;
	bool missing;
	const char *key = "";
	char err[1024];

	if (first < 0)
		return KV_EXIT(first);
	if (kv_key_arg(argc, argv, first, true, &key) != 0)
		return 1;
	if (flags_http_client(&h, &c) != 0)
		return 1;
	int rc = kv_fetch(&c, key, "recurse=", &root, &pairs, &n, &missing,
	    err, sizeof(err));
	http_client_fini(&c);
	if (rc != 0) {
		fprintf(stderr, "Error querying Consul agent: %s\n", err);
		return 1;
	}
	printf(n == 0 ? "[]\n" : "[\n");
	for (size_t i = 0; i < n; i++) {
		char *v = base64_encode(pairs[i].value, pairs[i].vlen);
		printf("\t{\n\t\t\"key\": ");
		kv_go_json_str(pairs[i].key);
		printf(",\n\t\t\"flags\": %llu,\n\t\t\"value\": \"%s\"\n\t}%s\n",
		    (unsigned long long)pairs[i].flags, v,
		    i + 1 < n ? "," : "");
		free(v);
	}
	if (n > 0)
		printf("]\n");
	kv_pairs_free(pairs, n);
	json_decref(root);
	return 0;
}

/* ---- kv import ---- */

/* A member of o matched case-insensitively, as Go's json.Unmarshal does. */
static json_t *
kv_field(json_t *o, const char *name)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		if (strcasecmp(k, name) == 0)
			return v;
	}
	return NULL;
}

/* prefix + "/" + key without doubled slashes; owned. */
static char *
kv_join(const char *prefix, const char *key)
{
	char *out;
	size_t pl = strlen(prefix);

	while (pl > 0 && prefix[pl - 1] == '/')
		pl--;
	while (pl > 0 && *key == '/')
		key++;
	if (asprintf(&out, "%.*s%s%s", (int)pl, prefix,
	    pl > 0 && *key ? "/" : "", key) < 0)
		fatal("asprintf");
	return out;
}

static int
kv_import_one(struct http_client *c, const char *prefix, json_t *e)
{
	json_t *jk = kv_field(e, "key"), *jf = kv_field(e, "flags"),
	       *jv = kv_field(e, "value");
	const char *key = json_is_string(jk) ? json_string_value(jk) : "";
	const char *val = json_is_string(jv) ? json_string_value(jv) : "";
	struct kv_put_opts o = { 0 };
	char *raw, *full;
	size_t len, bad;
	int rc;

	if ((jk && !json_is_string(jk)) || (jv && !json_is_string(jv)) ||
	    (jf && !json_is_integer(jf)) ||
	    (jf && json_integer_value(jf) < 0)) {
		fprintf(stderr, "Cannot unmarshal data: json: cannot unmarshal "
		    "into Go struct field kvExportEntry of the wrong type\n");
		return 1;
	}
	o.flags = jf ? (uint64_t)json_integer_value(jf) : 0;
	if (base64_decode(val, strlen(val), &raw, &len, &bad) != 0) {
		fprintf(stderr, "Error base 64 decoding value for key %s: "
		    "illegal base64 data at input byte %zu\n", key, bad);
		return 1;
	}
	full = kv_join(prefix, key);
	char q[32] = "", err[1024];
	struct http_response r;
	if (o.flags != 0)
		snprintf(q, sizeof(q), "flags=%llu",
		    (unsigned long long)o.flags);
	rc = kv_call(c, "PUT", full, q, 0, raw, len, false, &r, err,
	    sizeof(err));
	if (rc != 0)
		fprintf(stderr, "Error! Failed writing data for key %s: %s\n",
		    full, err);
	else {
		http_response_free(&r);
		printf("Imported: %s\n", full);
	}
	free(full);
	free(raw);
	return rc != 0;
}

static int
kv_import(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: cairn kv import [-prefix=<string>] [DATA]\n";
	struct flags_http h = { 0 };
	const char *prefix = "";
	const struct flags_spec specs[] = {
		{ "prefix", FLAGS_STR, &prefix },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	int first = kv_flags(specs, argc, argv, usage), rc = 0;
	struct http_client c;
	json_error_t je;
	json_t *root, *e;
	char err[512], *data;
	size_t len, i;

	if (first < 0)
		return KV_EXIT(first);
	if (argc - first == 0) {
		fprintf(stderr, "Error! Missing DATA argument\n");
		return 1;
	}
	if (argc - first > 1) {
		fprintf(stderr, "Error! Too many arguments (expected 1, got "
		    "%d)\n", argc - first);
		return 1;
	}
	if (argv[first][0] == '\0') {
		fprintf(stderr, "Error! Empty DATA argument\n");
		return 1;
	}
	if ((data = kv_load_data(argv[first], &len, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "Error! %s\n", err);
		return 1;
	}
	root = json_loadb(data, len, 0, &je);
	free(data);
	if (root == NULL || !json_is_array(root)) {
		fprintf(stderr, "Cannot unmarshal data: %s\n",
		    root ? "json: cannot unmarshal into Go value of type "
		    "[]*kvExportEntry" : je.text);
		json_decref(root);
		return 1;
	}
	json_array_foreach(root, i, e) {
		if (!json_is_object(e)) {
			fprintf(stderr, "Cannot unmarshal data: json: cannot "
			    "unmarshal into Go value of type kvExportEntry\n");
			json_decref(root);
			return 1;
		}
	}
	if (flags_http_client(&h, &c) != 0) {
		json_decref(root);
		return 1;
	}
	json_array_foreach(root, i, e) {
		if ((rc = kv_import_one(&c, prefix, e)) != 0)
			break;
	}
	http_client_fini(&c);
	json_decref(root);
	return rc;
}

int
cmd_kv_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} subs[] = { { "get", kv_get }, { "put", kv_put },
		{ "delete", kv_delete }, { "export", kv_export },
		{ "import", kv_import } };

	if (argc < 2) {
		fprintf(stderr, "%s", kv_usage);
		return 1;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "-help") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		printf("%s%s", kv_usage, kv_http_help);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s", kv_usage);
	return 127;
}
