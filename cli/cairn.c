/*
 * cairn.c — the `cairn` command: picks the subcommand and runs it, as
 * `consul <command>` does. `cairn agent` runs a node's roles; the other
 * commands talk HTTP to an agent.
 *
 * Key decision: a flat table of subcommands here, each in its own
 * cmd_<name>.c, so adding a command is one line and one file. An unknown
 * command prints the usage and exits 127 like Consul's CLI (mitchellh/cli).
 * Reference: spec/consul-api.md §9.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_lock.h"
#include "cmd_gossip.h"
#include "cmd_operator.h"
#include "log.h"

static const struct {
	const char *name;
	int (*run)(int, char **);
	const char *synopsis;
} cairn_cmds[] = {
	{ "agent", cmd_agent_main, "Runs a Cairn agent" },
	{ "catalog", cmd_catalog_main, "Interact with the catalog" },
	{ "event", cmd_event_main, "Fire a new event" },
	{ "force-leave", cmd_force_leave_main,
	    "Forces a member of the cluster to enter the \"left\" state" },
	{ "info", cmd_info_main, "Provides debugging information for operators" },
	{ "join", cmd_join_main, "Tell Cairn agent to join cluster" },
	{ "kv", cmd_kv_main, "Interact with the key-value store" },
	{ "leave", cmd_leave_main, "Gracefully leaves the Cairn cluster and shuts down" },
	{ "lock", cmd_lock_main, "Execute a command holding a lock" },
	{ "maint", cmd_maint_main, "Controls node or service maintenance mode" },
	{ "members", cmd_members_main, "Lists the members of a Cairn cluster" },
	{ "operator", cmd_operator_main,
	    "Provides cluster-level tools for Cairn operators" },
	{ "services", cmd_services_main, "Interact with services" },
	{ "systemd", cmd_systemd_main, "Writes a node's systemd units" },
	{ "version", cmd_version_main, "Prints the Cairn version" },
};

#define CAIRN_NCMDS (sizeof(cairn_cmds) / sizeof(cairn_cmds[0]))

static void
cairn_usage(FILE *f)
{
	fprintf(f, "Usage: cairn [--version] [--help] <command> [<args>]\n\n"
	    "Available commands are:\n");
	for (size_t i = 0; i < CAIRN_NCMDS; i++)
		fprintf(f, "    %-10s %s\n", cairn_cmds[i].name,
		    cairn_cmds[i].synopsis);
}

int
main(int argc, char **argv)
{
	log_init("cairn", LOG_LEVEL_INFO);
	if (argc < 2) {
		cairn_usage(stderr);
		return 127;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "-help") == 0 ||
	    strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		cairn_usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "-v") == 0 || strcmp(cmd, "-version") == 0 ||
	    strcmp(cmd, "--version") == 0)
		return cmd_version_main(1, (char *[]){ "version", NULL });
	for (size_t i = 0; i < CAIRN_NCMDS; i++) {
		if (strcmp(cmd, cairn_cmds[i].name) == 0)
			return cairn_cmds[i].run(argc - 1, argv + 1);
	}
	cairn_usage(stderr);
	return 127;
}
