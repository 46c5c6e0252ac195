/*
 * cmd_join.c — `cairn join [-wan] address...`: PUT /v1/agent/join/:addr
 * for each address; prints "Successfully joined cluster by contacting N
 * nodes." (N = addresses joined), or "Failed to join any nodes." and
 * exits 1. Reference: consul command/join/join.go.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_gossip.h"

static const char join_usage[] =
    "Usage: cairn join [options] address ...\n\n"
    "  Tells a running agent to join the cluster by specifying at least\n"
    "  one existing member.\n\n"
    "  -wan  Joins a server to another server in the WAN pool.\n";

int
cmd_join_main(int argc, char **argv)
{
	struct flags_http h = { 0 };
	bool wan = false;
	const struct flags_spec specs[] = {
		{ "wan", FLAGS_BOOL, &wan },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	struct http_client c;
	struct http_response r;
	char err[4096], *path;
	int first, i, joined = 0, rc;

	if ((first = flags_parse(specs, argc, argv, join_usage)) < 0)
		return first == FLAGS_HELP ? 0 : 1;
	if (first >= argc) {
		fprintf(stderr, "At least one address to join must be "
		    "specified.\n");
		return 1;
	}
	if (flags_http_client(&h, &c) != 0)
		return 1;
	c.timeout_ms = 60000;
	for (i = first; i < argc; i++) {
		path = http_path("/v1/agent/join/", argv[i]);
		rc = http_call(&c, "PUT", path, wan ? "wan=1" : NULL, 0, NULL,
		    0, &r, err, sizeof(err));
		free(path);
		if (rc != 0) {
			fprintf(stderr, "Error joining address '%s': %s\n",
			    argv[i], err);
			continue;
		}
		joined++;
		http_response_free(&r);
	}
	http_client_fini(&c);
	if (joined == 0) {
		fprintf(stderr, "Failed to join any nodes.\n");
		return 1;
	}
	printf("Successfully joined cluster by contacting %d nodes.\n",
	    joined);
	return 0;
}
