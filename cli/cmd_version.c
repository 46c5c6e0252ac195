/*
 * cmd_version.c — `cairn version`: the release, the source revision and
 * the gossip protocol range, laid out as `consul version` prints them
 * (and `-format=json` as Consul's JSON form). The release is named once,
 * in cli.h; the revision comes from the build (mk/cli.mk).
 * Reference: spec/consul-api.md §9, Consul command/version/version.go.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef CAIRN_GIT_REVISION
#define CAIRN_GIT_REVISION "unknown"
#endif

static const char cmd_version_usage[] =
    "Usage: cairn version [-format=pretty|json]\n\n"
    "  Prints the version of this Cairn binary.\n";

int
cmd_version_main(int argc, char **argv)
{
	const char *format = "pretty";
	const struct flags_spec specs[] = {
		{ "format", FLAGS_STR, &format },
		{ NULL, 0, NULL },
	};
	int first = flags_parse(specs, argc, argv, cmd_version_usage);

	if (first == FLAGS_HELP)
		return 0;
	if (first < 0)
		return 1;
	if (first < argc) {
		fprintf(stderr, "Too many arguments (expected 0, got %d)\n%s",
		    argc - first, cmd_version_usage);
		return 1;
	}
	if (strcmp(format, "json") == 0) {
		printf("{\n    \"Version\": \"%s\",\n"
		    "    \"Revision\": \"%s\",\n"
		    "    \"Prerelease\": \"\",\n"
		    "    \"FullVersion\": \"%s\"\n}\n",
		    CAIRN_RELEASE, CAIRN_GIT_REVISION, CAIRN_RELEASE);
		return 0;
	}
	if (strcmp(format, "pretty") != 0) {
		fprintf(stderr, "Invalid format: %s (expected pretty or json)\n",
		    format);
		return 1;
	}
	printf("Cairn v%s\n", CAIRN_RELEASE);
	printf("Revision %s\n", CAIRN_GIT_REVISION);
	printf("Protocol %s\n", CAIRN_PROTOCOL);
	return 0;
}
