/*
 * cmd_operator.c — `cairn operator raft list-peers [-stale]`,
 * `cairn operator raft remove-peer -id=<id> | -address=<ip:port>` and
 * `cairn operator raft transfer-leader [-id=<id>]` over
 * /v1/operator/raft/configuration, /peer and /transfer-leader.
 *
 * list-peers prints Consul's table: Node, ID, Address, State
 * (leader/follower), Voter, RaftProtocol, Commit Index (the server's
 * LastIndex) and Trails Leader By ("N commits" behind the leader's, "-"
 * for the leader), columns two spaces apart, the last one unpadded
 * (ryanuber/columnize). Errors are Consul's ("Error getting peers:
 * Unexpected response code: 500 (No cluster leader)"), exit status 1.
 * Reference: consul command/operator/raft/listpeers, removepeer,
 * transferleader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cmd_operator.h"

#define PEERS_COLS 8

static const char operator_usage[] =
    "Usage: cairn operator <subcommand> [options]\n\n"
    "  Provides cluster-level tools for Cairn operators.\n\n"
    "Subcommands:\n"
    "    raft    Provides cluster-level tools for managing Raft\n";

static const char raft_usage[] =
    "Usage: cairn operator raft <subcommand> [options]\n\n"
    "  The Raft operator command is used to interact with Cairn's Raft\n"
    "  subsystem.\n\n"
    "Subcommands:\n"
    "    list-peers       Display the current Raft peer configuration\n"
    "    remove-peer      Remove a Cairn server from the Raft "
    "configuration\n"
    "    transfer-leader  Transfer Raft leadership to another Cairn "
    "server\n";

static const char list_usage[] =
    "Usage: cairn operator raft list-peers [options]\n\n"
    "  Displays the current Raft peer configuration.\n";

static const char remove_usage[] =
    "Usage: cairn operator raft remove-peer [options]\n\n"
    "  Remove the Cairn server with the given -id or -address from the\n"
    "  Raft configuration.\n";

static const char transfer_usage[] =
    "Usage: cairn operator raft transfer-leader [options]\n\n"
    "  Transfer the Raft leadership to another server (-id), or to the\n"
    "  most up-to-date one.\n";

static const char *
operator_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static int
operator_table(json_t *servers)
{
	static const char *hdr[PEERS_COLS] = { "Node", "ID", "Address",
	    "State", "Voter", "RaftProtocol", "Commit Index",
	    "Trails Leader By" };
	size_t n = json_array_size(servers), i;
	char *(*rows)[PEERS_COLS];
	const char **cells;
	json_int_t lead = 0;
	json_t *s;
	int c, rc = 0;

	if ((rows = calloc(n + 1, sizeof(*rows))) == NULL)
		return 1;
	json_array_foreach(servers, i, s)
		if (json_is_true(json_object_get(s, "Leader")))
			lead = json_integer_value(json_object_get(s,
			    "LastIndex"));
	json_array_foreach(servers, i, s) {
		bool leader = json_is_true(json_object_get(s, "Leader"));
		json_int_t last = json_integer_value(json_object_get(s,
		    "LastIndex"));
		json_int_t behind = lead > last ? lead - last : 0;
		const char *proto = operator_str(s, "ProtocolVersion");

		if (asprintf(&rows[i][0], "%s", operator_str(s, "Node")) < 0 ||
		    asprintf(&rows[i][1], "%s", operator_str(s, "ID")) < 0 ||
		    asprintf(&rows[i][2], "%s", operator_str(s,
		    "Address")) < 0 ||
		    asprintf(&rows[i][3], "%s", leader ? "leader" :
		    "follower") < 0 ||
		    asprintf(&rows[i][4], "%s", json_is_true(json_object_get(s,
		    "Voter")) ? "true" : "false") < 0 ||
		    asprintf(&rows[i][5], "%s", *proto ? proto : "<=1") < 0 ||
		    asprintf(&rows[i][6], "%lld", (long long)last) < 0 ||
		    (leader ? asprintf(&rows[i][7], "-") :
		    asprintf(&rows[i][7], "%lld commit%s", (long long)behind,
		    behind == 1 ? "" : "s")) < 0) {
			rc = 1;
			n = i + 1;
			goto out;
		}
	}
	if ((cells = calloc((n + 1) * PEERS_COLS, sizeof(*cells))) == NULL) {
		rc = 1;
		goto out;
	}
	for (c = 0; c < PEERS_COLS; c++) {
		cells[c] = hdr[c];
		for (i = 0; i < n; i++)
			cells[(i + 1) * PEERS_COLS + c] = rows[i][c];
	}
	table_print(cells, n + 1, PEERS_COLS);
	free(cells);
out:
	for (i = 0; i < n; i++)
		for (c = 0; c < PEERS_COLS; c++)
			free(rows[i][c]);
	free(rows);
	return rc;
}

static int
operator_list_peers(int argc, char **argv)
{
	struct flags_http h = { 0 };
	const struct flags_spec specs[] = {
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	struct http_client c;
	struct http_response r;
	json_error_t jerr;
	json_t *root, *servers;
	int rc;

	if ((rc = flags_parse_none(specs, argc, argv, list_usage)) >= 0)
		return rc;
	if (flags_http_client(&h, &c) != 0)
		return 1;
	rc = http_expect(&c, "Error getting peers", "GET",
	    "/v1/operator/raft/configuration", NULL, HTTP_STALE, NULL, 0, &r);
	http_client_fini(&c);
	if (rc != 0)
		return 1;
	root = json_loads(r.body, 0, &jerr);
	http_response_free(&r);
	servers = json_object_get(root, "Servers");
	if (!json_is_array(servers)) {
		fprintf(stderr, "Error getting peers: bad JSON\n");
		json_decref(root);
		return 1;
	}
	rc = operator_table(servers);
	json_decref(root);
	return rc;
}

static int
operator_remove_peer(int argc, char **argv)
{
	struct flags_http h = { 0 };
	const char *id = NULL, *addr = NULL;
	const struct flags_spec specs[] = {
		{ "id", FLAGS_STR, &id },
		{ "address", FLAGS_STR, &addr },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	struct http_client c;
	struct http_response r;
	char *q = NULL;
	int rc;

	if ((rc = flags_parse_none(specs, argc, argv, remove_usage)) >= 0)
		return rc;
	if ((id == NULL || *id == '\0') && (addr == NULL || *addr == '\0')) {
		fprintf(stderr, "Error removing peer: an address or id is "
		    "required for the peer to remove\n");
		return 1;
	}
	if (id != NULL && *id != '\0' && addr != NULL && *addr != '\0') {
		fprintf(stderr, "Error removing peer: cannot give both an "
		    "address and id\n");
		return 1;
	}
	if (flags_http_client(&h, &c) != 0)
		return 1;
	http_query_add(&q, addr && *addr ? "address" : "id",
	    addr && *addr ? addr : id);
	rc = http_expect(&c, "Error removing peer", "DELETE",
	    "/v1/operator/raft/peer", q, 0, NULL, 0, &r);
	http_client_fini(&c);
	free(q);
	if (rc != 0)
		return 1;
	http_response_free(&r);
	if (addr != NULL && *addr != '\0')
		printf("Removed peer with address \"%s\"\n", addr);
	else
		printf("Removed peer with id \"%s\"\n", id);
	return 0;
}

static int
operator_transfer_leader(int argc, char **argv)
{
	struct flags_http h = { 0 };
	const char *id = NULL;
	const struct flags_spec specs[] = {
		{ "id", FLAGS_STR, &id },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	struct http_client c;
	struct http_response r;
	json_error_t jerr;
	json_t *root;
	char *q = NULL;
	bool ok;
	int rc;

	if ((rc = flags_parse_none(specs, argc, argv, transfer_usage)) >= 0)
		return rc;
	if (flags_http_client(&h, &c) != 0)
		return 1;
	if (id != NULL && *id != '\0')
		http_query_add(&q, "id", id);
	rc = http_expect(&c, "Error transferring leadership", "POST",
	    "/v1/operator/raft/transfer-leader", q, 0, NULL, 0, &r);
	http_client_fini(&c);
	free(q);
	if (rc != 0)
		return 1;
	root = json_loads(r.body, 0, &jerr);
	http_response_free(&r);
	ok = json_is_true(json_object_get(root, "Success"));
	json_decref(root);
	if (!ok) {
		fprintf(stderr, "Error transferring leadership: the agent "
		    "did not report success\n");
		return 1;
	}
	printf("Success! Leadership transferred.\n");
	return 0;
}

static int
operator_raft(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} subs[] = {
		{ "list-peers", operator_list_peers },
		{ "remove-peer", operator_remove_peer },
		{ "transfer-leader", operator_transfer_leader },
	};

	if (argc >= 2)
		for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
			if (strcmp(argv[1], subs[i].name) == 0)
				return subs[i].run(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "-help") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(raft_usage, stdout);
		return 0;
	}
	fputs(raft_usage, stderr);
	return 1;
}

int
cmd_operator_main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "raft") == 0)
		return operator_raft(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "-help") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(operator_usage, stdout);
		return 0;
	}
	fputs(operator_usage, stderr);
	return 1;
}
