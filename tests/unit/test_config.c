/*
 * test_config.c — unit tests for common/config.c: defaults, -dev, flag
 * forms, file and directory merge order, and that every error names the
 * file and the key (or the flag). Reference: spec/consul-api.md §8.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "err.h"

static char tmpdir[64];
static char errbuf[512];

static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *
tpath(const char *name)
{
	static char buf[4][256];
	static int n;
	char *p = buf[n++ % 4];
	snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

/* config_load over a NULL-terminated list of arguments. */
static int
load(struct config *cfg, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;

	argv[argc++] = "test";
	va_start(ap, cfg);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	return config_load(argc, argv, cfg, errbuf, sizeof(errbuf));
}

static int
setup(void **state)
{
	/* /dev/shm when there is one: the mangled-file test writes ~3000 */
	snprintf(tmpdir, sizeof(tmpdir), "/dev/shm/cairn-test-config-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		snprintf(tmpdir, sizeof(tmpdir),
		    "/tmp/cairn-test-config-XXXXXX");
		assert_non_null(mkdtemp(tmpdir));
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_defaults(void **state)
{
	struct config c;
	char host[256] = "";

	gethostname(host, sizeof(host));
	assert_int_equal(load(&c, "-data-dir", "/var/lib/cairn", NULL), 0);
	assert_false(c.dev);
	assert_false(c.server);
	assert_int_equal(c.bootstrap_expect, 0);
	assert_string_equal(c.node_name, host);
	assert_string_equal(c.node_id, "");
	assert_string_equal(c.datacenter, "dc1");
	assert_string_equal(c.data_dir, "/var/lib/cairn");
	assert_string_equal(c.runtime_dir, "/var/lib/cairn/run");
	assert_string_equal(c.bind_addr, "0.0.0.0");
	/* bind 0.0.0.0: this host's one (private) IPv4 address */
	struct in_addr in;
	assert_int_equal(inet_pton(AF_INET, c.advertise_addr, &in), 1);
	assert_string_not_equal(c.advertise_addr, "0.0.0.0");
	assert_string_not_equal(c.advertise_addr, "127.0.0.1");
	assert_string_equal(c.advertise_addr_wan, c.advertise_addr);
	assert_string_equal(c.client_addr, "127.0.0.1");
	assert_int_equal(c.ports.http, 8500);
	assert_int_equal(c.ports.dns, 8600);
	assert_int_equal(c.ports.https, -1);
	assert_int_equal(c.ports.serf_lan, 8301);
	assert_int_equal(c.ports.serf_wan, 8302);
	assert_int_equal(c.ports.server, 8300);
	assert_int_equal(c.ports.grpc, -1);
	assert_string_equal(c.domain, "consul.");
	assert_string_equal(c.alt_domain, "");
	assert_string_equal(c.log_level, "info");
	assert_false(c.ui);
	assert_false(c.pretty);
	assert_true(c.leave_on_terminate); /* a client */
	assert_false(c.skip_leave_on_interrupt);
	assert_int_equal(c.session_ttl_min_ms, 10000);
	assert_int_equal(c.default_query_ms, 300000);
	assert_int_equal(c.max_query_ms, 600000);
	assert_int_equal(c.kv_max_value_size, 524288);
	assert_int_equal(c.txn_max_req_len, 524288);
	assert_int_equal(c.raft_multiplier, 1);
	assert_int_equal(c.rpc_hold_timeout_ms, 7000);
	assert_int_equal(c.retry_interval_ms, 30000);
	assert_int_equal(c.reconnect_timeout_ms, 72ULL * 3600 * 1000);
	assert_int_equal(c.raft_snapshot_threshold, 16384);
	assert_int_equal(c.raft_trailing_logs, 10000);
	assert_true(c.autopilot.cleanup_dead_servers);
	assert_int_equal(c.autopilot.last_contact_threshold_ms, 200);
	assert_string_equal(c.ui_content_path, "/ui/");
	assert_string_equal(c.primary_datacenter, "dc1");
	assert_string_equal(c.services_json, "[]");
	assert_string_equal(c.checks_json, "[]");
	assert_string_equal(c.dns_config_json, "{}");
	assert_string_equal(c.acl_json, "{}");
	assert_int_equal(c.retry_join.n, 0);
	assert_int_equal(c.recursors.n, 0);
	config_free(&c);
	config_free(&c); /* twice is harmless */
}

static void
test_dev_defaults(void **state)
{
	struct config c;

	assert_int_equal(load(&c, "-dev", NULL), 0);
	assert_true(c.dev);
	assert_true(c.server);
	assert_int_equal(c.bootstrap_expect, 1);
	assert_string_equal(c.bind_addr, "127.0.0.1");
	assert_string_equal(c.advertise_addr, "127.0.0.1");
	assert_string_equal(c.client_addr, "127.0.0.1");
	assert_string_equal(c.log_level, "debug");
	assert_true(c.ui);
	assert_true(c.pretty);
	assert_string_equal(c.data_dir, ""); /* the caller makes one */
	assert_string_equal(c.runtime_dir, "");
	assert_false(c.leave_on_terminate); /* a server */
	assert_true(c.skip_leave_on_interrupt);
	config_free(&c);

	/* -dev=false is not -dev: data_dir is required again */
	assert_int_equal(load(&c, "-dev=false", NULL), ERR_CONFIG);
	assert_non_null(strstr(errbuf, "-data-dir"));
}

static void
test_flag_forms(void **state)
{
	struct config c;

	assert_int_equal(load(&c, "-dev", "-node", "n1", "--datacenter=East_1",
	    "-http-port=18500", "--dns-port", "18600", "-server-port", "18300",
	    "-serf-lan-port=18301", "-serf-wan-port", "-1", "-ui=false",
	    "-retry-join", "10.0.0.1", "-retry-join=10.0.0.2", "-recursor",
	    "8.8.8.8", "-log-level", "TRACE", "-domain", "Example",
	    "-alt-domain=alt.", "-node-meta", "rack:r1",
	    "-enable-script-checks", "-join", "10.0.0.3",
	    "-data-dir=/d", "-runtime-dir", "/run/x", "-client", "0.0.0.0",
	    "-advertise", "10.1.1.1", "-bind=10.1.1.2", NULL), 0);
	assert_string_equal(c.node_name, "n1");
	assert_string_equal(c.datacenter, "east_1");
	assert_int_equal(c.ports.http, 18500);
	assert_int_equal(c.ports.dns, 18600);
	assert_int_equal(c.ports.server, 18300);
	assert_int_equal(c.ports.serf_lan, 18301);
	assert_int_equal(c.ports.serf_wan, -1);
	assert_false(c.ui);
	assert_int_equal(c.retry_join.n, 2);
	assert_string_equal(c.retry_join.v[0], "10.0.0.1");
	assert_string_equal(c.retry_join.v[1], "10.0.0.2");
	assert_int_equal(c.start_join.n, 1);
	assert_int_equal(c.recursors.n, 1);
	assert_string_equal(c.log_level, "TRACE");
	assert_string_equal(c.domain, "example.");
	assert_string_equal(c.alt_domain, "alt.");
	assert_int_equal(c.node_meta.n, 1);
	assert_string_equal(c.node_meta.k[0], "rack");
	assert_string_equal(c.node_meta.v[0], "r1");
	assert_true(c.enable_script_checks);
	assert_string_equal(c.data_dir, "/d");
	assert_string_equal(c.runtime_dir, "/run/x");
	assert_string_equal(c.client_addr, "0.0.0.0");
	assert_string_equal(c.bind_addr, "10.1.1.2");
	assert_string_equal(c.advertise_addr, "10.1.1.1");
	config_free(&c);

	/* a boolean flag: bare, =true, =false, =0 */
	assert_int_equal(load(&c, "-data-dir", "/d", "-server",
	    "-bootstrap-expect", "3", NULL), 0);
	assert_true(c.server);
	assert_int_equal(c.bootstrap_expect, 3);
	config_free(&c);
	assert_int_equal(load(&c, "-dev", "--server=false",
	    "-bootstrap-expect=0", NULL), 0);
	assert_false(c.server);
	config_free(&c);
	/* a dev client: -dev's bootstrap_expect 1 goes with its server */
	assert_int_equal(load(&c, "-dev", "-server=0", NULL), 0);
	assert_false(c.server);
	assert_int_equal(c.bootstrap_expect, 0);
	config_free(&c);
	assert_int_equal(load(&c, "-dev", "-server=0", "-bootstrap-expect",
	    "1", NULL), ERR_CONFIG);
}

static void
test_flag_errors(void **state)
{
	struct config c;

	assert_int_equal(load(&c, "-dev", "-http-prot=1", NULL), ERR_CONFIG);
	assert_string_equal(errbuf,
	    "config: flag provided but not defined: -http-prot");
	assert_int_equal(load(&c, "-dev", "-node", NULL), ERR_CONFIG);
	assert_string_equal(errbuf, "config: flag needs an argument: -node");
	assert_int_equal(load(&c, "-dev", "-http-port", "abc", NULL),
	    ERR_CONFIG);
	assert_string_equal(errbuf,
	    "config: flag -http-port: invalid value \"abc\"");
	assert_int_equal(load(&c, "-dev", "-http-port", "70000", NULL),
	    ERR_CONFIG);
	assert_string_equal(errbuf, "config: flag -http-port: invalid value "
	    "\"70000\": must be between 1 and 65535, or -1 to disable");
	assert_int_equal(load(&c, "-dev", "-server-port=-1", NULL),
	    ERR_CONFIG);
	assert_non_null(strstr(errbuf, "-server-port"));
	assert_int_equal(load(&c, "-dev", "-server=maybe", NULL), ERR_CONFIG);
	assert_non_null(strstr(errbuf, "-server"));
	assert_int_equal(load(&c, "-dev", "extra", NULL), ERR_CONFIG);
	assert_string_equal(errbuf, "config: unexpected argument \"extra\"");
	assert_int_equal(load(&c, "-dev", "-node-meta", "nocolon", NULL),
	    ERR_CONFIG);
	assert_non_null(strstr(errbuf, "-node-meta"));
	assert_int_equal(load(&c, "-dev", "-retry-interval", "10", NULL),
	    ERR_CONFIG);
	assert_non_null(strstr(errbuf, "expected a duration"));
	assert_int_equal(load(&c, "-dev", "-hcl", "x = 1", NULL), ERR_CONFIG);
	assert_non_null(strstr(errbuf, "HCL is not supported"));
}

static void
test_files_merge(void **state)
{
	struct config c;

	mkdir(tpath("d"), 0700);
	mkdir(tpath("d/sub.json"), 0700); /* a directory: ignored */
	write_file("base.json",
	    "{\"datacenter\": \"dc2\", \"node_name\": \"base\","
	    " \"data_dir\": \"/data\", \"retry_join\": [\"a\"],"
	    " \"ports\": {\"http\": 1000, \"dns\": 1001},"
	    " \"node_meta\": {\"x\": \"1\", \"y\": \"1\"},"
	    " \"services\": [{\"name\": \"web\", \"port\": 80}],"
	    " \"dns_config\": {\"only_passing\": true, \"soa\": {\"retry\": 1}}}");
	write_file("d/20-b.json",
	    "{\"node_name\": \"b\", \"retry_join\": [\"c\"],"
	    " \"ports\": {\"http\": 3000},"
	    " \"service\": {\"name\": \"db\"},"
	    " \"check\": {\"id\": \"c1\", \"ttl\": \"10s\"}}");
	write_file("d/10-a.json",
	    "{\"node_name\": \"a\", \"retry_join\": [\"b\"],"
	    " \"ports\": {\"http\": 2000}, \"node_meta\": {\"y\": \"2\"},"
	    " \"dns_config\": {\"node_ttl\": \"5s\", \"soa\": {\"expire\": 9}}}");
	write_file("d/notes.txt", "not json at all");

	assert_int_equal(load(&c, "-config-file", tpath("base.json"),
	    "-config-dir", tpath("d"), "-retry-join", "flag", NULL), 0);
	assert_string_equal(c.datacenter, "dc2");
	assert_string_equal(c.node_name, "b");     /* last file wins */
	assert_int_equal(c.ports.http, 3000);
	assert_int_equal(c.ports.dns, 1001);       /* maps merged */
	assert_int_equal(c.retry_join.n, 4);       /* lists appended */
	assert_string_equal(c.retry_join.v[0], "a");
	assert_string_equal(c.retry_join.v[1], "b");
	assert_string_equal(c.retry_join.v[2], "c");
	assert_string_equal(c.retry_join.v[3], "flag");
	assert_int_equal(c.node_meta.n, 2);
	assert_string_equal(c.node_meta.v[1], "2");
	assert_string_equal(c.services_json,
	    "[{\"name\":\"web\",\"port\":80},{\"name\":\"db\"}]");
	assert_string_equal(c.checks_json, "[{\"id\":\"c1\",\"ttl\":\"10s\"}]");
	assert_string_equal(c.dns_config_json, "{\"only_passing\":true,"
	    "\"soa\":{\"retry\":1,\"expire\":9},\"node_ttl\":\"5s\"}");
	config_free(&c);

	/* flags win over files whatever their place in argv */
	assert_int_equal(load(&c, "-node", "flagnode", "-http-port", "4000",
	    "-config-dir", tpath("d"), "-data-dir", "/x", NULL), 0);
	assert_string_equal(c.node_name, "flagnode");
	assert_int_equal(c.ports.http, 4000);
	assert_string_equal(c.data_dir, "/x");
	config_free(&c);

	/* -config-dir naming a file, as people do (seeds/000) */
	assert_int_equal(load(&c, "-dev", "-config-dir", tpath("base.json"),
	    NULL), 0);
	assert_string_equal(c.node_name, "base");
	config_free(&c);

	/* "ui" legacy key, -ui flag, and ui_config.enabled agree */
	write_file("ui.json", "{\"ui_config\": {\"enabled\": true, "
	    "\"content_path\": \"/console/\"}, \"server\": true,"
	    " \"leave_on_terminate\": true, \"bootstrap_expect\": 3}");
	assert_int_equal(load(&c, "-config-file", tpath("ui.json"),
	    "-data-dir", "/d", NULL), 0);
	assert_true(c.ui);
	assert_string_equal(c.ui_content_path, "/console/");
	assert_true(c.leave_on_terminate); /* set, though a server */
	assert_true(c.skip_leave_on_interrupt);
	config_free(&c);
}

/* Loads one file with body text; expects ERR_CONFIG and message want. */
static void
expect_file_error(const char *text, const char *want)
{
	struct config c;
	char full[512];

	write_file("bad.json", text);
	assert_int_equal(load(&c, "-dev", "-config-file", tpath("bad.json"),
	    NULL), ERR_CONFIG);
	/* a position ("3:7: ...") follows the file name without a space */
	snprintf(full, sizeof(full), "config: %s:%s%s", tpath("bad.json"),
	    want[0] >= '0' && want[0] <= '9' ? "" : " ", want);
	assert_string_equal(errbuf, full);
}

static void
test_file_errors(void **state)
{
	expect_file_error("{\"ports\": {\"htp\": 1}}",
	    "key \"ports.htp\": unknown key");
	expect_file_error("{\"nosuch\": 1}", "key \"nosuch\": unknown key");
	expect_file_error("{\"server\": \"yes\"}",
	    "key \"server\": expected a boolean");
	expect_file_error("{\"ports\": {\"http\": \"80\"}}",
	    "key \"ports.http\": expected an integer");
	expect_file_error("{\"ports\": {\"server\": -1}}",
	    "key \"ports.server\": must be between 1 and 65535");
	expect_file_error("{\"ports\": {\"dns\": 0}}",
	    "key \"ports.dns\": must be between 1 and 65535, or -1 to disable");
	expect_file_error("{\"retry_join\": \"a\"}",
	    "key \"retry_join\": expected an array of strings");
	expect_file_error("{\"retry_join\": [\"a\", 2]}",
	    "key \"retry_join[1]\": expected a string");
	expect_file_error("{\"node_meta\": {\"k\": 1}}",
	    "key \"node_meta.k\": expected a string");
	expect_file_error("{\"services\": [{\"name\": \"a\"}, 3]}",
	    "key \"services[1]\": expected an object");
	expect_file_error("{\"service\": []}",
	    "key \"service\": expected an object");
	expect_file_error("{\"dns_config\": {\"soa\": {\"retyr\": 1}}}",
	    "key \"dns_config.soa.retyr\": unknown key");
	expect_file_error("{\"acl\": {\"enabled\": 1}}",
	    "key \"acl.enabled\": expected a boolean");
	expect_file_error("{\"session_ttl_min\": \"10 seconds\"}",
	    "key \"session_ttl_min\": expected a duration such as \"10s\"");
	expect_file_error("{\"performance\": {\"raft_multiplier\": 11}}",
	    "key \"performance.raft_multiplier\": must be between 1 and 10");
	expect_file_error("{\"limits\": {\"kv_max_value_size\": -5}}",
	    "key \"limits.kv_max_value_size\": must be between 1 and "
	    "4294967295");
	expect_file_error("[1, 2]", "expected a JSON object at the top level");
	/* invalid JSON: the file and line:column from jansson */
	expect_file_error("{\n  \"server\": true,\n  \"x\" 1\n}",
	    "3:7: ':' expected near '1'");
}

static void
test_source_errors(void **state)
{
	struct config c;
	char want[512];

	mkdir(tpath("h"), 0700);
	write_file("h/a.json", "{}");
	write_file("h/b.hcl", "server = true");
	assert_int_equal(load(&c, "-dev", "-config-dir", tpath("h"), NULL),
	    ERR_CONFIG);
	snprintf(want, sizeof(want),
	    "config: %s: HCL is not supported, use JSON", tpath("h/b.hcl"));
	assert_string_equal(errbuf, want);

	assert_int_equal(load(&c, "-dev", "-config-file", tpath("none.json"),
	    NULL), ERR_CONFIG);
	snprintf(want, sizeof(want), "config: %s: No such file or directory",
	    tpath("none.json"));
	assert_string_equal(errbuf, want);

	/* the error in the second file of a directory names that file */
	mkdir(tpath("e"), 0700);
	write_file("e/1.json", "{\"server\": true}");
	write_file("e/2.json", "{\"autopilot\": {\"min_quorum\": true}}");
	assert_int_equal(load(&c, "-dev", "-config-dir", tpath("e"), NULL),
	    ERR_CONFIG);
	snprintf(want, sizeof(want), "config: %s: key \"autopilot.min_quorum\""
	    ": expected an integer", tpath("e/2.json"));
	assert_string_equal(errbuf, want);
}

static void
test_validation(void **state)
{
	struct config c;

	assert_int_equal(load(&c, NULL), ERR_CONFIG);
	assert_string_equal(errbuf, "config: data_dir is required: use "
	    "-data-dir DIR or \"data_dir\" in a configuration file");
	assert_int_equal(load(&c, "-data-dir", "/d", "-bootstrap-expect", "3",
	    NULL), ERR_CONFIG);
	assert_non_null(strstr(errbuf, "bootstrap_expect"));
	assert_non_null(strstr(errbuf, "-server"));
	assert_int_equal(load(&c, "-dev", "-datacenter", "dc 1", NULL),
	    ERR_CONFIG);
	assert_non_null(strstr(errbuf, "datacenter \"dc 1\""));
	assert_int_equal(load(&c, "-dev", "-datacenter", "dc.1", NULL),
	    ERR_CONFIG);
	assert_int_equal(load(&c, "-dev", "-node", "my node", NULL),
	    ERR_CONFIG);
	assert_non_null(strstr(errbuf, "node_name \"my node\""));
	assert_int_equal(load(&c, "-dev", "-node", "a\"b", NULL), ERR_CONFIG);
	assert_int_equal(load(&c, "-dev", "-log-level", "loud", NULL),
	    ERR_CONFIG);
	assert_non_null(strstr(errbuf, "log_level \"loud\""));
	assert_int_equal(load(&c, "-dev", "-node-id", "1234", NULL),
	    ERR_CONFIG);
	assert_non_null(strstr(errbuf, "node_id"));
	assert_int_equal(load(&c, "-dev", "-node-id",
	    "adf4238a-882b-9ddc-4a9d-5b6758e4159e", NULL), 0);
	config_free(&c);
	assert_int_equal(load(&c, "-dev", "-config-format", "hcl", NULL),
	    ERR_CONFIG);
}

static void
test_durations(void **state)
{
	uint64_t ns;
	struct config c;

	assert_int_equal(config_duration_parse("10s", &ns), 0);
	assert_int_equal(ns, 10000000000ULL);
	assert_int_equal(config_duration_parse("1m30s", &ns), 0);
	assert_int_equal(ns, 90000000000ULL);
	assert_int_equal(config_duration_parse("500ms", &ns), 0);
	assert_int_equal(ns, 500000000ULL);
	assert_int_equal(config_duration_parse("72h", &ns), 0);
	assert_int_equal(ns, 72ULL * 3600 * 1000000000ULL);
	assert_int_equal(config_duration_parse("9.98s", &ns), 0);
	assert_int_equal(ns, 9980000000ULL);
	assert_int_equal(config_duration_parse("15.0s", &ns), 0);
	assert_int_equal(ns, 15000000000ULL);
	assert_int_equal(config_duration_parse("1h2m3s4ms5us6ns", &ns), 0);
	assert_int_equal(ns, 3723004005006ULL);
	assert_int_equal(config_duration_parse("3\xc2\xb5s", &ns), 0);
	assert_int_equal(ns, 3000);
	assert_int_equal(config_duration_parse("0", &ns), 0);
	assert_int_equal(ns, 0);
	assert_int_equal(config_duration_parse("", &ns), ERR_INVAL);
	assert_int_equal(config_duration_parse("10", &ns), ERR_INVAL);
	assert_int_equal(config_duration_parse("s", &ns), ERR_INVAL);
	assert_int_equal(config_duration_parse("-1s", &ns), ERR_INVAL);
	assert_int_equal(config_duration_parse("1d", &ns), ERR_INVAL);
	assert_int_equal(config_duration_parse(".s", &ns), ERR_INVAL);
	assert_int_equal(config_duration_parse("10s ", &ns), ERR_INVAL);
	assert_int_equal(config_duration_parse("99999999999h", &ns), ERR_INVAL);

	/* strings and integer nanoseconds in files */
	write_file("dur.json", "{\"session_ttl_min\": \"1m30s\","
	    " \"default_query_time\": 2000000000,"
	    " \"performance\": {\"rpc_hold_timeout\": \"500ms\"},"
	    " \"reconnect_timeout\": \"8760h\"}");
	assert_int_equal(load(&c, "-dev", "-config-file", tpath("dur.json"),
	    "-retry-interval", "5s", NULL), 0);
	assert_int_equal(c.session_ttl_min_ms, 90000);
	assert_int_equal(c.default_query_ms, 2000);
	assert_int_equal(c.rpc_hold_timeout_ms, 500);
	assert_int_equal(c.reconnect_timeout_ms, 8760ULL * 3600 * 1000);
	assert_int_equal(c.retry_interval_ms, 5000);
	config_free(&c);

	write_file("dur.json", "{\"session_ttl_min\": \"8760h\"}");
	assert_int_equal(load(&c, "-dev", "-config-file", tpath("dur.json"),
	    NULL), ERR_CONFIG);
	assert_non_null(strstr(errbuf, "duration too long"));
}

/* Every prefix of a full file, and every one-byte corruption of it, is
 * either accepted or refused with one line naming the file: no crash,
 * no leak (ASan), no empty message. */
static void
test_mangled_files(void **state)
{
	static const char full[] =
	    "{\"datacenter\": \"dc1\", \"server\": true, "
	    "\"bootstrap_expect\": 1, \"data_dir\": \"/d\", "
	    "\"ports\": {\"http\": 8500, \"dns\": -1}, "
	    "\"retry_join\": [\"a\", \"b\"], \"node_meta\": {\"k\": \"v\"}, "
	    "\"services\": [{\"name\": \"web\"}], \"session_ttl_min\": \"10s\", "
	    "\"dns_config\": {\"soa\": {\"retry\": 1}}, "
	    "\"acl\": {\"enabled\": true, \"tokens\": {\"agent\": \"x\"}}}";
	static const char junk[] = "\"}],:-x\x01\xff";
	char buf[sizeof(full)];
	struct config c;
	size_t n = strlen(full), ok = 0, refused = 0;

	for (size_t len = 0; len <= n; len++) {
		memcpy(buf, full, len);
		buf[len] = '\0';
		write_file("m.json", buf);
		/* -bind: no interface lookup (netlink is slow in VMs) */
		int rc = load(&c, "-config-file", tpath("m.json"), "-bind",
		    "127.0.0.1", NULL);
		if (rc == 0) {
			config_free(&c);
			ok++;
		} else {
			refused++;
			assert_int_equal(rc, ERR_CONFIG);
			assert_non_null(strstr(errbuf, "m.json"));
		}
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < sizeof(junk) - 1; j++) {
			memcpy(buf, full, n + 1);
			buf[i] = junk[j];
			write_file("m.json", buf);
			int rc = load(&c, "-config-file", tpath("m.json"),
			    "-bind", "127.0.0.1", NULL);
			if (rc == 0) {
				config_free(&c);
				ok++;
			} else {
				refused++;
				assert_true(strlen(errbuf) > 10);
			}
		}
	}
	/* the full file loads; most manglings do not */
	print_message("mangled: %zu accepted, %zu refused\n", ok, refused);
	assert_true(ok >= 2 && refused > n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_dev_defaults),
		cmocka_unit_test(test_flag_forms),
		cmocka_unit_test(test_flag_errors),
		cmocka_unit_test(test_files_merge),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_source_errors),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_mangled_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
