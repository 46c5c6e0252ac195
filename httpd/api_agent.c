/*
 * api_agent.c — /v1/agent/self and /v1/agent/version.
 *
 * agent/self describes this agent from its own configuration (Config,
 * DebugConfig, Member, Meta) and raftd's MSG_STATUS_GET (Stats.raft and
 * Stats.consul). As in Consul it is answered even when the servers are
 * unreachable: if raftd does not answer, those two Stats maps are empty.
 * Maps are written with sorted keys and every Stats value is a string,
 * as Go encodes map[string]map[string]string. Coord is null until gossipd
 * provides coordinates; Stats.agent (checkd's counters) is an empty map
 * and serf_lan (gossipd's) is absent until those roles answer over IPC.
 * Reference: spec/consul-api.md §2.0 (Member), §2.1; Consul
 * agent/agent_endpoint.go AgentSelf, AgentVersion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "httpd.h"
#include "json.h"
#include "proto.h"
#include "query.h"
#include "req.h"
#include "rpc.h"
#include "version.h"

struct api_kvpair {
	const char *k;
	size_t klen;
	const char *v;
	size_t vlen;
};

static int
api_kvpair_cmp(const void *a, const void *b)
{
	const struct api_kvpair *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = n > 0 ? memcmp(x->k, y->k, n) : 0;

	if (c != 0)
		return c;
	return x->klen < y->klen ? -1 : x->klen > y->klen;
}

/* Writes n pairs as a JSON object of strings with sorted keys. */
static void
api_agent_strmap(struct json *w, struct api_kvpair *p, size_t n)
{
	size_t i;

	qsort(p, n, sizeof(*p), api_kvpair_cmp);
	json_obj_begin(w);
	for (i = 0; i < n; i++) {
		json_keyn(w, p[i].k, p[i].klen);
		json_strn(w, p[i].v, p[i].vlen);
	}
	json_obj_end(w);
}

static void
api_agent_protomap(struct json *w, const struct proto_strmap *m)
{
	struct api_kvpair *p;
	uint32_t i;

	if (m == NULL || m->n == 0) {
		json_obj_begin(w);
		json_obj_end(w);
		return;
	}
	if ((p = calloc(m->n, sizeof(*p))) == NULL) {
		w->err = -1;
		return;
	}
	for (i = 0; i < m->n; i++) {
		p[i].k = m->keys[i].ptr;
		p[i].klen = m->keys[i].len;
		p[i].v = m->vals[i].ptr;
		p[i].vlen = m->vals[i].len;
	}
	api_agent_strmap(w, p, m->n);
	free(p);
}

#define API_PAIR(key, val) \
	{ (key), strlen(key), (val), strlen(val) }

static const char *
api_agent_addr(const struct config *c)
{
	if (*c->advertise_addr != '\0')
		return c->advertise_addr;
	return c->bind_addr;
}

static void
api_agent_config(struct httpd *h, struct json *w)
{
	const struct config *c = h->cfg;

	json_key(w, "Config");
	json_obj_begin(w);
	json_kv_str(w, "Datacenter", c->datacenter);
	json_kv_str(w, "PrimaryDatacenter", *c->primary_datacenter != '\0' ?
	    c->primary_datacenter : c->datacenter);
	json_kv_str(w, "NodeName", c->node_name);
	json_kv_str(w, "NodeID", h->node_id);
	json_kv_str(w, "Revision", CAIRN_REVISION);
	json_kv_bool(w, "Server", c->server);
	json_kv_str(w, "Version", CAIRN_VERSION);
	json_kv_str(w, "BuildDate", CAIRN_BUILD_DATE);
	json_obj_end(w);
}

/* A subset of Consul's sanitized runtime config; keys in Go map order. */
static void
api_agent_debug(struct httpd *h, struct json *w)
{
	const struct config *c = h->cfg;
	char ttl[32];

	query_format_duration((int64_t)c->session_ttl_min_ms * 1000000, ttl,
	    sizeof(ttl));
	json_key(w, "DebugConfig");
	json_obj_begin(w);
	json_kv_str(w, "AdvertiseAddrLAN", api_agent_addr(c));
	json_kv_str(w, "BindAddr", c->bind_addr);
	json_kv_bool(w, "Bootstrap", c->bootstrap);
	json_kv_i64(w, "BootstrapExpect", c->bootstrap_expect);
	json_key(w, "ClientAddrs");
	json_arr_begin(w);
	json_str(w, c->client_addr);
	json_arr_end(w);
	json_kv_str(w, "DNSDomain", c->domain);
	json_kv_i64(w, "DNSPort", c->ports.dns);
	json_kv_str(w, "DataDir", c->data_dir);
	json_kv_str(w, "Datacenter", c->datacenter);
	json_kv_bool(w, "DevMode", c->dev);
	json_kv_i64(w, "HTTPPort", c->ports.http);
	json_kv_u64(w, "KVMaxValueSize", c->kv_max_value_size);
	json_kv_str(w, "LogLevel", c->log_level);
	json_kv_str(w, "NodeID", h->node_id);
	json_kv_str(w, "NodeName", c->node_name);
	json_kv_str(w, "PrimaryDatacenter", *c->primary_datacenter != '\0' ?
	    c->primary_datacenter : c->datacenter);
	json_kv_str(w, "Revision", CAIRN_REVISION);
	json_kv_i64(w, "SerfPortLAN", c->ports.serf_lan);
	json_kv_i64(w, "SerfPortWAN", c->ports.serf_wan);
	json_kv_bool(w, "ServerMode", c->server);
	json_kv_i64(w, "ServerPort", c->ports.server);
	json_kv_str(w, "SessionTTLMin", ttl);
	json_kv_u64(w, "TxnMaxReqLen", c->txn_max_req_len);
	json_key(w, "UIConfig");
	json_obj_begin(w);
	json_kv_str(w, "ContentPath", c->ui_content_path);
	json_kv_str(w, "Dir", c->ui_dir);
	json_kv_bool(w, "Enabled", c->ui);
	json_obj_end(w);
	json_kv_str(w, "Version", CAIRN_VERSION);
	json_obj_end(w);
}

static void
api_agent_member(struct httpd *h, struct json *w)
{
	const struct config *c = h->cfg;
	char port[16], wan[16], expect[16], build[64];
	struct api_kvpair tags[20];
	size_t n = 0;

	snprintf(port, sizeof(port), "%d", c->ports.server);
	snprintf(wan, sizeof(wan), "%d", c->ports.serf_wan);
	snprintf(expect, sizeof(expect), "%d", c->bootstrap_expect);
	snprintf(build, sizeof(build), "%s:%s", CAIRN_VERSION, CAIRN_REVISION);
	tags[n++] = (struct api_kvpair)API_PAIR("role",
	    c->server ? "consul" : "node");
	tags[n++] = (struct api_kvpair)API_PAIR("dc", c->datacenter);
	tags[n++] = (struct api_kvpair)API_PAIR("id", h->node_id);
	tags[n++] = (struct api_kvpair)API_PAIR("build", build);
	tags[n++] = (struct api_kvpair)API_PAIR("vsn", "2");
	tags[n++] = (struct api_kvpair)API_PAIR("vsn_min", "2");
	tags[n++] = (struct api_kvpair)API_PAIR("vsn_max", "3");
	tags[n++] = (struct api_kvpair)API_PAIR("segment", "");
	tags[n++] = (struct api_kvpair)API_PAIR("acls", "0");
	if (c->server) {
		tags[n++] = (struct api_kvpair)API_PAIR("port", port);
		tags[n++] = (struct api_kvpair)API_PAIR("raft_vsn", "3");
		tags[n++] = (struct api_kvpair)API_PAIR("ft_fs", "1");
		tags[n++] = (struct api_kvpair)API_PAIR("ft_si", "1");
		if (c->ports.serf_wan > 0)
			tags[n++] = (struct api_kvpair)API_PAIR(
			    "wan_join_port", wan);
		if (c->bootstrap || c->dev)
			tags[n++] = (struct api_kvpair)API_PAIR("bootstrap",
			    "1");
		if (c->bootstrap_expect > 0)
			tags[n++] = (struct api_kvpair)API_PAIR("expect",
			    expect);
	}
	json_key(w, "Member");
	json_obj_begin(w);
	json_kv_str(w, "Name", c->node_name);
	json_kv_str(w, "Addr", api_agent_addr(c));
	json_kv_i64(w, "Port", c->ports.serf_lan);
	json_key(w, "Tags");
	api_agent_strmap(w, tags, n);
	json_kv_i64(w, "Status", 1); /* serf: alive (this agent) */
	json_kv_i64(w, "ProtocolMin", 1);
	json_kv_i64(w, "ProtocolMax", 5);
	json_kv_i64(w, "ProtocolCur", 2);
	json_kv_i64(w, "DelegateMin", 2);
	json_kv_i64(w, "DelegateMax", 5);
	json_kv_i64(w, "DelegateCur", 4);
	json_obj_end(w);
}

static void
api_agent_runtime(struct json *w)
{
	char cpus[24];
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	struct api_kvpair p[5];
#if defined(__x86_64__)
	const char *arch = "amd64";
#elif defined(__aarch64__)
	const char *arch = "arm64";
#else
	const char *arch = "unknown";
#endif

	snprintf(cpus, sizeof(cpus), "%ld", n > 0 ? n : 1);
	p[0] = (struct api_kvpair)API_PAIR("arch", arch);
	p[1] = (struct api_kvpair)API_PAIR("cpu_count", cpus);
	p[2] = (struct api_kvpair)API_PAIR("max_procs", cpus);
	p[3] = (struct api_kvpair)API_PAIR("os", "linux");
	p[4] = (struct api_kvpair)API_PAIR("version", "C " __VERSION__);
	api_agent_strmap(w, p, 5);
}

static void
api_agent_stats(struct json *w, const struct msg_status_get_result *st)
{
	struct api_kvpair b[4] = {
		API_PAIR("prerelease", CAIRN_VERSION_PRERELEASE),
		API_PAIR("revision", CAIRN_REVISION),
		API_PAIR("version", CAIRN_VERSION),
		API_PAIR("version_metadata", CAIRN_VERSION_METADATA),
	};

	json_key(w, "Stats");
	json_obj_begin(w);
	/* checkd's counters (checks, services, ...): empty until checkd
	 * answers over IPC; the section exists so clients can index it. */
	json_key(w, "agent");
	api_agent_protomap(w, NULL);
	json_key(w, "build");
	api_agent_strmap(w, b, 4);
	json_key(w, "consul");
	api_agent_protomap(w, st != NULL ? &st->consul : NULL);
	json_key(w, "raft");
	api_agent_protomap(w, st != NULL ? &st->raft : NULL);
	json_key(w, "runtime");
	api_agent_runtime(w);
	json_obj_end(w);
}

static void
api_agent_meta(struct httpd *h, struct json *w)
{
	const struct config *c = h->cfg;
	struct api_kvpair *p;
	size_t i, n = 0;

	if ((p = calloc(c->node_meta.n + 2, sizeof(*p))) == NULL) {
		w->err = -1;
		return;
	}
	for (i = 0; i < c->node_meta.n; i++)
		p[n++] = (struct api_kvpair)API_PAIR(c->node_meta.k[i],
		    c->node_meta.v[i]);
	p[n++] = (struct api_kvpair)API_PAIR("consul-network-segment", "");
	p[n++] = (struct api_kvpair)API_PAIR("consul-version", CAIRN_VERSION);
	json_key(w, "Meta");
	api_agent_strmap(w, p, n);
	free(p);
}

static void
api_agent_self_reply(struct req *r, const struct msg_status_get_result *st)
{
	struct httpd *h = r->h;
	struct json w;

	req_json_init(r, &w);
	json_obj_begin(&w);
	api_agent_config(h, &w);
	api_agent_debug(h, &w);
	json_key(&w, "Coord");
	json_null(&w);
	api_agent_member(h, &w);
	api_agent_stats(&w, st);
	api_agent_meta(h, &w);
	json_obj_end(&w);
	req_reply_json(r, 200, &w);
}

static void
api_agent_self_done(struct req *r, const void *body)
{
	api_agent_self_reply(r, body);
}

static void
api_agent_self_err(struct req *r, int code, const char *msg, size_t len)
{
	/* raftd unreachable or failing: the agent still describes itself. */
	api_agent_self_reply(r, NULL);
}

void
api_agent_self(struct httpd *h, struct req *r)
{
	struct msg_status_get g;

	memset(&g, 0, sizeof(g));
	r->rpc_err = api_agent_self_err;
	rpc_raftd(h, r, MSG_STATUS_GET, &g, rpc_read_timeout(h, 0, 0),
	    MSG_STATUS_GET_RESULT, api_agent_self_done);
}

void
api_agent_version(struct httpd *h, struct req *r)
{
	struct json w;

	req_json_init(r, &w);
	json_obj_begin(&w);
	json_kv_str(&w, "SHA", CAIRN_REVISION);
	json_kv_str(&w, "BuildDate", CAIRN_BUILD_DATE);
	json_kv_str(&w, "HumanVersion", CAIRN_VERSION);
	json_kv_str(&w, "FIPS", "");
	json_obj_end(&w);
	req_reply_json(r, 200, &w);
}
