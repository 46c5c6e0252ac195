/*
 * cmd_services.c — `cairn services register|deregister`, over
 * /v1/agent/service/register and /v1/agent/service/deregister/:id.
 *
 * Key decision: as Consul's command/services: either flags describe one
 * service (-name, -id, -tag and -meta repeatable, -address, -port) or
 * the arguments are JSON files holding "service"/"services" (the config
 * file form, snake_case accepted by the agent) or a bare definition.
 * Messages "Registered service: <name>" and "Deregistered service: <id>"
 * as Consul prints them. Reference: spec/consul-api.md §9; Consul
 * command/services/{register,deregister}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "err.h"

#define SVC_MAX_REPEAT 64

static const char services_usage[] =
    "Usage: cairn services <subcommand> [options] [args]\n\n"
    "  Register and deregister services of the local agent.\n\n"
    "Subcommands:\n"
    "    deregister    Deregister services with the local agent\n"
    "    register      Register services with the local agent\n";

/* A repeatable flag's values (borrowed), SVC_MAX_REPEAT at most. */
struct svc_repeat {
	const char *v[SVC_MAX_REPEAT];
	size_t n;
};

static int
svc_take(const char *v, void *arg)
{
	struct svc_repeat *r = arg;

	if (r->n < SVC_MAX_REPEAT)
		r->v[r->n++] = v;
	return 0;
}

static int
svc_put(struct http_client *c, const char *path, json_t *body,
    char *err, size_t errlen)
{
	struct http_response r;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int rc;

	rc = http_call(c, "PUT", path, NULL, 0, text, text ? strlen(text) : 0,
	    &r, err, errlen);
	free(text);
	if (rc != 0)
		return 1;
	http_response_free(&r);
	return 0;
}

/* The service objects of a file: "service", "services" or bare. */
static json_t *
svc_file_defs(const char *path)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je), *a, *v;
	const char *k;

	if (root == NULL) {
		fprintf(stderr, "Error: %s: %s\n", path, je.text);
		return NULL;
	}
	a = json_array();
	json_object_foreach(root, k, v) {
		if (strcasecmp(k, "service") == 0 && json_is_object(v))
			json_array_append(a, v);
		else if (strcasecmp(k, "services") == 0 && json_is_array(v))
			json_array_extend(a, v);
	}
	if (json_array_size(a) == 0 && json_is_object(root))
		json_array_append(a, root);
	json_decref(root);
	return a;
}

static const char *
svc_field(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (v == NULL)
		v = json_object_get(o, b);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int
svc_register(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: cairn services register [options] [FILE...]\n\n"
	    "  -name=<name> -id=<id> -tag=<tag>... -meta=<k=v>... "
	    "-address=<addr> -port=<port>\n";
	struct flags_http h = { 0 };
	const char *name = NULL, *id = NULL, *address = NULL;
	struct svc_repeat tags = { { NULL }, 0 }, meta = { { NULL }, 0 };
	size_t i;
	uint64_t port = 0;
	const struct flags_spec specs[] = {
		{ "name", FLAGS_STR, &name },
		{ "id", FLAGS_STR, &id },
		{ "address", FLAGS_STR, &address },
		{ "port", FLAGS_U64, &port },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	struct http_client c;
	char err[1024];
	json_t *defs, *o, *t, *m;
	int first, rc = 0;

	if (flags_take_repeat(&argc, argv, "tag", NULL, svc_take, &tags) != 0 ||
	    flags_take_repeat(&argc, argv, "meta", NULL, svc_take, &meta) != 0)
		return 1;
	if ((first = flags_parse(specs, argc, argv, usage)) < 0)
		return first == FLAGS_HELP ? 0 : 1;
	defs = json_array();
	if (first == argc) {
		if (name == NULL || *name == '\0') {
			fprintf(stderr, "Service name must be specified with "
			    "the -name flag\n");
			json_decref(defs);
			return 1;
		}
		o = json_object();
		json_object_set_new(o, "Name", json_string(name));
		if (id != NULL)
			json_object_set_new(o, "ID", json_string(id));
		if (address != NULL)
			json_object_set_new(o, "Address", json_string(address));
		if (port > 0)
			json_object_set_new(o, "Port", json_integer(
			    (json_int_t)port));
		t = json_array();
		for (i = 0; i < tags.n; i++)
			json_array_append_new(t, json_string(tags.v[i]));
		json_object_set_new(o, "Tags", t);
		m = json_object();
		for (i = 0; i < meta.n; i++) {
			const char *mv = meta.v[i], *eq = strchr(mv, '=');
			char *k = strndup(mv, eq ? (size_t)(eq - mv) :
			    strlen(mv));
			json_object_set_new(m, k, json_string(eq ? eq + 1 : ""));
			free(k);
		}
		json_object_set_new(o, "Meta", m);
		json_array_append_new(defs, o);
	} else {
		if (name != NULL || id != NULL || tags.n > 0 || meta.n > 0) {
			fprintf(stderr, "Flags and files may not be combined\n");
			json_decref(defs);
			return 1;
		}
		for (; first < argc; first++) {
			json_t *f = svc_file_defs(argv[first]);
			if (f == NULL) {
				json_decref(defs);
				return 1;
			}
			json_array_extend(defs, f);
			json_decref(f);
		}
	}
	if (flags_http_client(&h, &c) != 0) {
		json_decref(defs);
		return 1;
	}
	json_array_foreach(defs, i, o) {
		const char *nm2 = svc_field(o, "Name", "name");
		if (svc_put(&c, "/v1/agent/service/register", o, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "Error registering service \"%s\": %s\n",
			    nm2 ? nm2 : "", err);
			rc = 1;
			break;
		}
		printf("Registered service: %s\n", nm2 ? nm2 : "");
	}
	http_client_fini(&c);
	json_decref(defs);
	return rc;
}

static int
svc_deregister_id(struct http_client *c, const char *id)
{
	char err[1024], *path = http_path("/v1/agent/service/deregister/", id);

	if (svc_put(c, path, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "Error deregistering service \"%s\": %s\n", id,
		    err);
		free(path);
		return 1;
	}
	free(path);
	printf("Deregistered service: %s\n", id);
	return 0;
}

static int
svc_deregister(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: cairn services deregister [options] [FILE...]\n\n"
	    "  -id=<id>  The ID of the service to deregister.\n";
	struct flags_http h = { 0 };
	const char *id = NULL;
	const struct flags_spec specs[] = {
		{ "id", FLAGS_STR, &id },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	struct http_client c;
	json_t *defs, *o;
	size_t i;
	int first, rc = 0;

	if ((first = flags_parse(specs, argc, argv, usage)) < 0)
		return first == FLAGS_HELP ? 0 : 1;
	if ((id == NULL || *id == '\0') && first == argc) {
		fprintf(stderr, "Either the -id flag or a file must be "
		    "specified\n");
		return 1;
	}
	if (id != NULL && first < argc) {
		fprintf(stderr, "Only one of -id or files may be specified\n");
		return 1;
	}
	if (flags_http_client(&h, &c) != 0)
		return 1;
	if (id != NULL) {
		rc = svc_deregister_id(&c, id);
	} else {
		for (; rc == 0 && first < argc; first++) {
			if ((defs = svc_file_defs(argv[first])) == NULL) {
				rc = 1;
				break;
			}
			json_array_foreach(defs, i, o) {
				const char *sid = svc_field(o, "ID", "id");
				if (sid == NULL)
					sid = svc_field(o, "Name", "name");
				if (sid == NULL || (rc = svc_deregister_id(&c,
				    sid)) != 0)
					break;
			}
			json_decref(defs);
		}
	}
	http_client_fini(&c);
	return rc;
}

int
cmd_services_main(int argc, char **argv)
{
	static const struct flags_sub subs[] = {
		{ "register", svc_register },
		{ "deregister", svc_deregister },
		{ NULL, NULL },
	};

	return flags_subcommand(argc, argv, services_usage, subs);
}
