/*
 * test_http_agent.c — /v1/status/leader, /v1/status/peers and /v1/agent/{self,version} with
 * rpc.c replaced by a fake: the JSON shapes, maps with sorted keys and
 * string values, [] for no peers, and agent/self still answering (with
 * empty raft/consul stats) when raftd does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "err.h"
#include "httpd/httpd.h"
#include "httpd/req.h"
#include "httpd/rpc.h"
#include "httpd/version.h"
#include "proto.h"

static struct {
	int calls;
	uint32_t type;
	rpc_cb cb;
} fake;

void
rpc_raftd(struct httpd *h, struct req *r, uint32_t type, const void *body,
    uint32_t timeout_ms, uint32_t want, rpc_cb cb)
{
	fake.calls++;
	fake.type = type;
	fake.cb = cb;
}

uint32_t
rpc_read_timeout(const struct httpd *h, uint64_t index, uint32_t wait_ms)
{
	return 7000;
}

uint32_t
rpc_write_timeout(const struct httpd *h)
{
	return 7000;
}

static struct config cfg;
static struct httpd h;

static int
setup(void **state)
{
	static char *meta_k[] = { "zone" };
	static char *meta_v[] = { "z1" };

	memset(&fake, 0, sizeof(fake));
	memset(&cfg, 0, sizeof(cfg));
	memset(&h, 0, sizeof(h));
	cfg.datacenter = "dc1";
	cfg.primary_datacenter = "";
	cfg.node_name = "node<1>";
	cfg.server = true;
	cfg.bind_addr = "0.0.0.0";
	cfg.advertise_addr = "10.0.0.5";
	cfg.client_addr = "127.0.0.1";
	cfg.domain = "consul.";
	cfg.data_dir = "/var/lib/cairn";
	cfg.log_level = "info";
	cfg.ui_content_path = "/ui/";
	cfg.ui_dir = "";
	cfg.ports.http = 8500;
	cfg.ports.dns = 8600;
	cfg.ports.serf_lan = 8301;
	cfg.ports.serf_wan = 8302;
	cfg.ports.server = 8300;
	cfg.bootstrap_expect = 3;
	cfg.session_ttl_min_ms = 10000;
	cfg.kv_max_value_size = 524288;
	cfg.txn_max_req_len = 524288;
	cfg.node_meta.k = meta_k;
	cfg.node_meta.v = meta_v;
	cfg.node_meta.n = 1;
	h.cfg = &cfg;
	snprintf(h.node_id, sizeof(h.node_id), "%s",
	    "40e4a748-2192-161a-0510-9bf59fe950b5");
	h.lim.default_query_ms = 300000;
	h.lim.max_query_ms = 600000;
	h.lim.datacenter = "dc1";
	return 0;
}

static struct req *
mkreq(const char *method)
{
	struct req *r = req_new(&h);

	r->method = method;
	return r;
}

static char *
body(struct req *r)
{
	static char buf[16384];

	assert_true(r->replied);
	assert_true(r->rbody_len < sizeof(buf));
	memcpy(buf, r->rbody, r->rbody_len);
	buf[r->rbody_len] = '\0';
	return buf;
}

static void
test_status(void **state)
{
	struct proto_str peers[2] = { { "10.0.0.1:8300", 13 },
		{ "10.0.0.2:8300", 13 } };
	struct msg_status_get_result res;
	struct req *r;

	memset(&res, 0, sizeof(res));
	res.leader = proto_str_c("10.0.0.1:8300");
	r = mkreq("GET");
	api_status_leader(&h, r);
	assert_int_equal(fake.type, MSG_STATUS_GET);
	fake.cb(r, &res);
	assert_string_equal(body(r), "\"10.0.0.1:8300\"");
	req_free(r);

	r = mkreq("GET");
	api_status_peers(&h, r);
	fake.cb(r, &res);
	assert_string_equal(body(r), "[]"); /* never null */
	req_free(r);

	res.peers.v = peers;
	res.peers.n = 2;
	r = mkreq("GET");
	api_status_peers(&h, r);
	fake.cb(r, &res);
	assert_string_equal(body(r), "[\"10.0.0.1:8300\",\"10.0.0.2:8300\"]");
	req_free(r);

	memset(&res, 0, sizeof(res));
	r = mkreq("GET");
	api_status_leader(&h, r);
	fake.cb(r, &res);
	assert_string_equal(body(r), "\"\""); /* no leader */
	req_free(r);
}

static void
test_self(void **state)
{
	struct proto_str rk[3] = { { "term", 4 }, { "state", 5 },
		{ "applied_index", 13 } };
	struct proto_str rv[3] = { { "2", 1 }, { "Leader", 6 }, { "17", 2 } };
	struct msg_status_get_result res;
	struct req *r = mkreq("GET");
	const char *b, *p;

	memset(&res, 0, sizeof(res));
	res.raft.keys = rk;
	res.raft.vals = rv;
	res.raft.n = 3;
	api_agent_self(&h, r);
	assert_int_equal(fake.type, MSG_STATUS_GET);
	fake.cb(r, &res);
	b = body(r);
	assert_string_equal(req_reply_header(r, "Content-Type"),
	    "application/json");
	assert_non_null(strstr(b, "{\"Config\":{\"Datacenter\":\"dc1\","
	    "\"PrimaryDatacenter\":\"dc1\",\"NodeName\":\"node\\u003c1\\u003e\","
	    "\"NodeID\":\"40e4a748-2192-161a-0510-9bf59fe950b5\","
	    "\"Revision\":\"" CAIRN_REVISION "\",\"Server\":true,"
	    "\"Version\":\"" CAIRN_VERSION "\","));
	assert_non_null(strstr(b, "\"SessionTTLMin\":\"10s\""));
	assert_non_null(strstr(b, "\"Coord\":null"));
	assert_non_null(strstr(b, "\"Member\":{\"Name\":\"node\\u003c1\\u003e\","
	    "\"Addr\":\"10.0.0.5\",\"Port\":8301,\"Tags\":{\"acls\":\"0\","
	    "\"build\":\"" CAIRN_VERSION ":" CAIRN_REVISION "\",\"dc\":\"dc1\","
	    "\"expect\":\"3\",\"ft_fs\":\"1\",\"ft_si\":\"1\","
	    "\"id\":\"40e4a748-2192-161a-0510-9bf59fe950b5\",\"port\":\"8300\","
	    "\"raft_vsn\":\"3\",\"role\":\"consul\",\"segment\":\"\","
	    "\"vsn\":\"2\",\"vsn_max\":\"3\",\"vsn_min\":\"2\","
	    "\"wan_join_port\":\"8302\"},\"Status\":1,"));
	/* raft stats sorted, all strings */
	assert_non_null(strstr(b, "\"raft\":{\"applied_index\":\"17\","
	    "\"state\":\"Leader\",\"term\":\"2\"}"));
	assert_non_null(strstr(b, "\"Stats\":{\"agent\":{},\"build\":{"));
	assert_non_null(strstr(b, "\"consul\":{}"));
	p = strstr(b, "\"Meta\":{\"consul-network-segment\":\"\","
	    "\"consul-version\":\"" CAIRN_VERSION "\",\"zone\":\"z1\"}}");
	assert_non_null(p);
	assert_string_equal(p + strlen(p) - 2, "}}"); /* the document ends */
	req_free(r);
}

static void
test_self_without_raftd(void **state)
{
	struct req *r = mkreq("GET");
	const char *b;

	api_agent_self(&h, r);
	assert_false(r->replied);
	assert_non_null(r->rpc_err);
	r->rpc_err(r, ERR_UNAVAILABLE, NULL, 0);
	assert_int_equal(r->status, 200);
	b = body(r);
	assert_non_null(strstr(b, "\"raft\":{}"));
	assert_non_null(strstr(b, "\"consul\":{}"));
	assert_non_null(strstr(b, "\"NodeName\":\"node\\u003c1\\u003e\""));
	req_free(r);
}

static void
test_version(void **state)
{
	struct req *r = mkreq("GET");

	api_agent_version(&h, r);
	assert_int_equal(fake.calls, 0); /* local: no IPC */
	assert_string_equal(body(r), "{\"SHA\":\"" CAIRN_REVISION "\","
	    "\"BuildDate\":\"" CAIRN_BUILD_DATE "\",\"HumanVersion\":\""
	    CAIRN_VERSION "\",\"FIPS\":\"\"}");
	req_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_status, setup),
		cmocka_unit_test_setup(test_self, setup),
		cmocka_unit_test_setup(test_self_without_raftd, setup),
		cmocka_unit_test_setup(test_version, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
