/*
 * cli.h — what the cairn command's files share: the subcommands, Go-style
 * flag parsing (flags.c), the global HTTP flags, and base64 (base64.c).
 *
 * Subcommands return the process exit status (0 ok, 1 error, 2 bad agent
 * configuration) and print as Consul's CLI does: results on stdout,
 * errors on stderr. Reference: spec/consul-api.md §9.
 */
#ifndef CAIRN_CLI_H
#define CAIRN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* The one place the cairn release is named (`cairn version`). */
#define CAIRN_RELEASE "0.1.0"
#define CAIRN_PROTOCOL "2 spoken by default, understands 2 to 3 " \
	"(agent will automatically use protocol >2 when speaking to " \
	"compatible agents)"

/* argv[0] is the subcommand's name ("agent", "get", ...). */
int cmd_agent_main(int argc, char **argv);
int cmd_catalog_main(int argc, char **argv); /* cmd_catalog.c */
int cmd_kv_main(int argc, char **argv);
int cmd_maint_main(int argc, char **argv);    /* cmd_maint.c */
int cmd_services_main(int argc, char **argv); /* cmd_services.c */
int cmd_systemd_main(int argc, char **argv); /* cmd_systemd.c, systemd/ */
int cmd_version_main(int argc, char **argv);

/* ---- flags.c: Go's flag package, as Consul's commands use it ---- */

enum flags_type { FLAGS_BOOL, FLAGS_STR, FLAGS_U64 };

struct flags_spec {
	const char *name;
	enum flags_type type;
	void *ptr; /* bool *, const char ** (borrows argv), uint64_t * */
};

#define FLAGS_HELP (-2) /* -h or -help: usage printed, exit 0 */

/*
 * Parses argv[1..] against specs (ended by a NULL name): "-f", "--f",
 * "-f=v", "-f v"; stops at the first non-flag argument or after "--".
 * Returns the index of the first positional argument, FLAGS_HELP, or -1
 * after printing Go's message and usage to stderr.
 */
int flags_parse(const struct flags_spec *specs, int argc, char **argv,
    const char *usage);

/*
 * flags_parse() for a command that takes no arguments: -1 when it may
 * go on, else its exit status (0 after -help; 1 after a bad flag or
 * "Too many arguments (expected 0, got N)", printed).
 */
int flags_parse_none(const struct flags_spec *specs, int argc,
    char **argv, const char *usage);

/*
 * Takes every "-name v" / "-name=v" (one or two dashes, none after "--")
 * out of argv, a repeatable flag as Go's flag.Var, and calls take(v, arg)
 * on each value (borrowed) in order. Returns 0, or 1 after "flag needs an
 * argument: -name" (then usage, unless NULL) or a nonzero take() (which
 * prints why).
 */
int flags_take_repeat(int *argc, char **argv, const char *name,
    const char *usage, int (*take)(const char *v, void *arg), void *arg);

struct flags_sub {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the name */
};

/*
 * Runs the subcommand argv[1] of subs (ended by a NULL name). Without
 * one: usage on stderr, 1; -h/-help/--help: usage on stdout, 0; an
 * unknown one: "Unknown subcommand: <x>" and usage on stderr, 1.
 */
int flags_subcommand(int argc, char **argv, const char *usage,
    const struct flags_sub *subs);

/* The global HTTP flags of every command that talks to an agent. */
struct flags_http {
	const char *addr;
	const char *token;
	const char *token_file;
	const char *datacenter;
	bool stale;
};

#define FLAGS_HTTP_SPECS(h)                                            \
	{ "http-addr", FLAGS_STR, &(h)->addr },                        \
	{ "token", FLAGS_STR, &(h)->token },                           \
	{ "token-file", FLAGS_STR, &(h)->token_file },                 \
	{ "datacenter", FLAGS_STR, &(h)->datacenter },                 \
	{ "stale", FLAGS_BOOL, &(h)->stale }

/*
 * Sets up an HTTP client from the flags and the environment
 * (CONSUL_HTTP_TOKEN_FILE too). Returns 0, or 1 after printing why.
 * Free c with http_client_fini().
 */
int flags_http_client(const struct flags_http *h, struct http_client *c);

/* ---- table.c: columns and maps as Consul's commands print them ---- */

/* qsort() comparison of two const char *. */
int table_strcmp(const void *a, const void *b);

/*
 * Prints cells (nrows x ncols, row-major, borrowed; the header is a row
 * like any other) as columnize's SimpleFormat: each column padded to
 * its widest cell, two spaces apart, the last one unpadded.
 */
void table_print(const char *const *cells, size_t nrows, size_t ncols);

struct json_t;
/*
 * A JSON string map as "k=v" pairs sorted by key, joined by sep (", " as
 * Consul's mapToKV, "," for member tags); a missing or non-string value
 * counts as "". Owned, or NULL when out of memory.
 */
char *table_map_kv(struct json_t *m, const char *sep);

/* ---- base64.c: RFC 4648 standard alphabet, padded ---- */

/* Returns owned, NUL-terminated; free(). */
char *base64_encode(const void *data, size_t len);
/*
 * Decodes s (padded; whitespace is an error, as Go's StdEncoding).
 * Returns 0 and an owned buffer in *out (NUL-terminated, *outlen bytes),
 * or ERR_INVAL with the offset of the first bad byte in *bad.
 */
int base64_decode(const char *s, size_t slen, char **out, size_t *outlen,
    size_t *bad);

#endif
