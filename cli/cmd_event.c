/*
 * cmd_event.c — `cairn event -name=x [-node=re] [-service=re] [-tag=re]
 * [payload]`: PUT /v1/event/fire/:name, prints "Event ID: <id>".
 * Reference: consul command/event/event.go.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_gossip.h"

static const char event_usage[] =
    "Usage: cairn event [options] [payload]\n\n"
    "  Dispatches a custom user event across a datacenter.\n\n"
    "  -name=<name>      The event name (required).\n"
    "  -node=<regex>     Only nodes matching.\n"
    "  -service=<regex>  Only nodes with a matching service.\n"
    "  -tag=<regex>      Only a service with a matching tag.\n";

/* Adds k=v to *q when v is set. */
static void
event_append(char **q, const char *k, const char *v)
{
	if (v != NULL && *v != '\0')
		http_query_add(q, k, v);
}

int
cmd_event_main(int argc, char **argv)
{
	struct flags_http h = { 0 };
	const char *name = NULL, *node = NULL, *service = NULL, *tag = NULL;
	const struct flags_spec specs[] = {
		{ "name", FLAGS_STR, &name },
		{ "node", FLAGS_STR, &node },
		{ "service", FLAGS_STR, &service },
		{ "tag", FLAGS_STR, &tag },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	struct http_client c;
	struct http_response r;
	json_t *root;
	json_error_t jerr;
	char *path, *q = NULL;
	const char *payload = NULL;
	int first, rc;

	if ((first = flags_parse(specs, argc, argv, event_usage)) < 0)
		return first == FLAGS_HELP ? 0 : 1;
	if (name == NULL || *name == '\0') {
		fprintf(stderr, "Event name must be specified\n");
		return 1;
	}
	if (tag != NULL && *tag != '\0' && (service == NULL ||
	    *service == '\0')) {
		fprintf(stderr, "Cannot provide tag filter without service "
		    "filter.\n");
		return 1;
	}
	if (argc - first > 1) {
		fprintf(stderr, "Too many command line arguments.\n");
		return 1;
	}
	if (first < argc)
		payload = argv[first];
	if (flags_http_client(&h, &c) != 0)
		return 1;
	event_append(&q, "node", node);
	event_append(&q, "service", service);
	event_append(&q, "tag", tag);
	path = http_path("/v1/event/fire/", name);
	rc = http_expect(&c, "Error firing event", "PUT", path, q, 0, payload,
	    payload ? strlen(payload) : 0, &r);
	free(path);
	free(q);
	http_client_fini(&c);
	if (rc != 0)
		return 1;
	root = json_loads(r.body, 0, &jerr);
	http_response_free(&r);
	printf("Event ID: %s\n", json_string_value(json_object_get(root,
	    "ID")) ? json_string_value(json_object_get(root, "ID")) : "");
	json_decref(root);
	return 0;
}
