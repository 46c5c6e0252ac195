/*
 * cmd_maint.c — `cairn maint`: node or service maintenance mode through
 * /v1/agent/maintenance and /v1/agent/service/maintenance/:id; without
 * -enable/-disable it lists what is in maintenance (from
 * /v1/agent/checks). Messages as Consul's command/maint prints them.
 * Reference: spec/consul-api.md §2.1, §9; Consul command/maint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "err.h"

static const char maint_usage[] =
    "Usage: cairn maint [options]\n\n"
    "  Places a node or service into maintenance mode, or lists it.\n\n"
    "  -enable          Enable maintenance mode.\n"
    "  -disable         Disable maintenance mode.\n"
    "  -reason=<str>    Text describing the maintenance reason.\n"
    "  -service=<id>    Control maintenance mode for a specific service "
    "ID.\n";

static int
maint_list(struct http_client *c)
{
	struct http_response r;
	json_t *root, *v;
	const char *k;

	if (http_expect(c, "Error", "GET", "/v1/agent/checks", NULL, 0, NULL,
	    0, &r) != 0)
		return 1;
	if ((root = json_loads(r.body, 0, NULL)) == NULL) {
		fprintf(stderr, "Error: Unexpected response code: %ld (%s)\n",
		    r.status, r.body);
		http_response_free(&r);
		return 1;
	}
	http_response_free(&r);
	json_object_foreach(root, k, v) {
		const char *notes = json_string_value(json_object_get(v,
		    "Notes"));
		if (strcmp(k, "_node_maintenance") == 0) {
			printf("Node:\n  Name:   %s\n  Reason: %s\n\n",
			    json_string_value(json_object_get(v, "Node")),
			    notes ? notes : "");
		} else if (strncmp(k, "_service_maintenance:", 21) == 0) {
			printf("Service:\n  ID:     %s\n  Reason: %s\n\n",
			    k + 21, notes ? notes : "");
		}
	}
	json_decref(root);
	return 0;
}

int
cmd_maint_main(int argc, char **argv)
{
	struct flags_http h = { 0 };
	bool enable = false, disable = false;
	const char *reason = NULL, *service = NULL;
	const struct flags_spec specs[] = {
		{ "enable", FLAGS_BOOL, &enable },
		{ "disable", FLAGS_BOOL, &disable },
		{ "reason", FLAGS_STR, &reason },
		{ "service", FLAGS_STR, &service },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	struct http_client c;
	struct http_response r;
	char err[4096], *path, *q = NULL;
	int rc;

	if ((rc = flags_parse_none(specs, argc, argv, maint_usage)) >= 0)
		return rc;
	if (enable && disable) {
		fprintf(stderr, "Only one of -enable or -disable may be "
		    "provided\n");
		return 1;
	}
	if (!enable && reason != NULL) {
		fprintf(stderr, "Reason may only be provided with -enable\n");
		return 1;
	}
	if (!enable && !disable && service != NULL) {
		fprintf(stderr, "Service requires either -enable or "
		    "-disable\n");
		return 1;
	}
	if (flags_http_client(&h, &c) != 0)
		return 1;
	if (!enable && !disable) {
		rc = maint_list(&c);
		http_client_fini(&c);
		return rc;
	}
	path = service != NULL ? http_path("/v1/agent/service/maintenance/",
	    service) : http_path("/v1/agent/maintenance", "");
	http_query_add(&q, "enable", enable ? "true" : "false");
	if (reason != NULL)
		http_query_add(&q, "reason", reason);
	rc = http_call(&c, "PUT", path, q, 0, NULL, 0, &r, err, sizeof(err));
	free(path);
	free(q);
	http_client_fini(&c);
	if (rc == ERR_UNAVAILABLE) {
		fprintf(stderr, "Error: %s\n", err);
		return 1;
	}
	if (rc != 0) {
		fprintf(stderr, "Error %s maintenance mode: %s\n", enable ?
		    "enabling" : "disabling", err);
		return 1;
	}
	http_response_free(&r);
	if (service != NULL)
		printf("Service maintenance is now %s for \"%s\"\n",
		    enable ? "enabled" : "disabled", service);
	else
		printf("Node maintenance is now %s\n", enable ? "enabled" :
		    "disabled");
	return 0;
}
