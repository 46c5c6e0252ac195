/*
 * tags.c — the member tags an agent announces (spec §2.0 Member.Tags) and
 * their encoding in the SWIM meta blob.
 *
 * Key decision: meta is a sequence of key NUL value NUL pairs (compact,
 * well under memberlist's 512-byte MetaMaxSize, trivial to decode
 * safely); the tags are Consul's: role consul|node, dc, segment, id, vsn
 * 2 (min 2, max 3), build, and for servers port (the server RPC port),
 * raft_vsn 3, wan_join_port, expect and bootstrap. Reference: consul
 * agent/consul/server.go setupSerf, client.go setupSerf.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "gossipd.h"
#include "../httpd/version.h"

static int
tags_put(uint8_t *buf, size_t cap, size_t *off, const char *k, const char *v)
{
	size_t kl = strlen(k) + 1, vl = strlen(v) + 1;

	if (*off + kl + vl > cap)
		return ERR_TOOBIG;
	memcpy(buf + *off, k, kl);
	memcpy(buf + *off + kl, v, vl);
	*off += kl + vl;
	return 0;
}

int
tags_build(const struct gossipd *g, bool wan, uint8_t *buf, size_t cap)
{
	const struct config *c = g->cfg;
	char num[32];
	size_t off = 0;
	int rc = 0;

	(void)wan;
	rc |= tags_put(buf, cap, &off, "role", c->server ? "consul" : "node");
	rc |= tags_put(buf, cap, &off, "dc", c->datacenter);
	rc |= tags_put(buf, cap, &off, "segment", "");
	rc |= tags_put(buf, cap, &off, "id", g->node_id);
	rc |= tags_put(buf, cap, &off, "vsn", "2");
	rc |= tags_put(buf, cap, &off, "vsn_min", "2");
	rc |= tags_put(buf, cap, &off, "vsn_max", "3");
	rc |= tags_put(buf, cap, &off, "build",
	    CAIRN_VERSION ":" CAIRN_REVISION);
	if (c->server) {
		snprintf(num, sizeof(num), "%d", c->ports.server);
		rc |= tags_put(buf, cap, &off, "port", num);
		rc |= tags_put(buf, cap, &off, "raft_vsn", "3");
		if (c->ports.serf_wan > 0) {
			snprintf(num, sizeof(num), "%d", c->ports.serf_wan);
			rc |= tags_put(buf, cap, &off, "wan_join_port", num);
		}
		if (c->bootstrap)
			rc |= tags_put(buf, cap, &off, "bootstrap", "1");
		if (c->bootstrap_expect > 0) {
			snprintf(num, sizeof(num), "%d", c->bootstrap_expect);
			rc |= tags_put(buf, cap, &off, "expect", num);
		}
	}
	return rc != 0 ? ERR_TOOBIG : (int)off;
}

bool
tags_next(const uint8_t *meta, size_t len, size_t *pos, const char **k,
    const char **v)
{
	const uint8_t *ke, *ve;

	if (meta == NULL || *pos >= len)
		return false;
	if ((ke = memchr(meta + *pos, '\0', len - *pos)) == NULL)
		return false;
	if ((ve = memchr(ke + 1, '\0', len - (size_t)(ke + 1 - meta))) ==
	    NULL)
		return false;
	*k = (const char *)meta + *pos;
	*v = (const char *)ke + 1;
	*pos = (size_t)(ve + 1 - meta);
	return true;
}
