/*
 * cmd_leave.c — `cairn leave` (PUT /v1/agent/leave: a graceful leave of
 * the target agent, "Graceful leave complete") and `cairn force-leave
 * [-prune] [-wan] node` (PUT /v1/agent/force-leave/:node; silent on
 * success). Reference: consul command/leave/leave.go,
 * command/forceleave/forceleave.go.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_gossip.h"

static const char leave_usage[] =
    "Usage: cairn leave [options]\n\n"
    "  Causes the agent to gracefully leave the cluster and shut down.\n";

static const char force_leave_usage[] =
    "Usage: cairn force-leave [options] name\n\n"
    "  Forces a member of the cluster to enter the \"left\" state.\n\n"
    "  -prune  Remove the member from the list entirely.\n"
    "  -wan    The member is in the WAN pool.\n";

int
cmd_leave_main(int argc, char **argv)
{
	struct flags_http h = { 0 };
	const struct flags_spec specs[] = {
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	struct http_client c;
	struct http_response r;
	int first, rc;

	if ((first = flags_parse(specs, argc, argv, leave_usage)) < 0)
		return first == FLAGS_HELP ? 0 : 1;
	if (first < argc) {
		fprintf(stderr, "Error parsing flags: Too many arguments "
		    "(expected 0, got %d)\n", argc - first);
		return 1;
	}
	if (flags_http_client(&h, &c) != 0)
		return 1;
	c.timeout_ms = 30000;
	rc = http_expect(&c, "Error leaving", "PUT", "/v1/agent/leave", NULL,
	    0, NULL, 0, &r);
	http_client_fini(&c);
	if (rc != 0)
		return 1;
	http_response_free(&r);
	printf("Graceful leave complete\n");
	return 0;
}

int
cmd_force_leave_main(int argc, char **argv)
{
	struct flags_http h = { 0 };
	bool prune = false, wan = false;
	const struct flags_spec specs[] = {
		{ "prune", FLAGS_BOOL, &prune },
		{ "wan", FLAGS_BOOL, &wan },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	struct http_client c;
	struct http_response r;
	char *path, q[32];
	int first, rc;

	if ((first = flags_parse(specs, argc, argv, force_leave_usage)) < 0)
		return first == FLAGS_HELP ? 0 : 1;
	if (first + 1 != argc) {
		fprintf(stderr, "A single node name must be specified to "
		    "force leave.\n");
		return 1;
	}
	if (flags_http_client(&h, &c) != 0)
		return 1;
	path = http_path("/v1/agent/force-leave/", argv[first]);
	snprintf(q, sizeof(q), "%s%s%s", prune ? "prune=1" : "",
	    prune && wan ? "&" : "", wan ? "wan=1" : "");
	rc = http_expect(&c, "Error force leaving", "PUT", path, *q ? q : NULL,
	    0, NULL, 0, &r);
	free(path);
	http_client_fini(&c);
	if (rc != 0)
		return 1;
	http_response_free(&r);
	return 0;
}
