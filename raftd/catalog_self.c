/*
 * catalog_self.c — the leader registers its own node in the catalog:
 * the node (ID, advertise address, lan/wan tagged addresses, the
 * consul-network-segment meta), the serfHealth check and the consul
 * service on the server port with Consul's ServiceMeta (spec §4:
 * "registered by the leader through reconcile"; Appendix B scenario 1).
 *
 * Key decision: the registration is an ordinary MSG_CATALOG_REGISTER
 * appended as a log entry nobody waits for (client id 0: no dedup
 * record), and only when catalog_register_changes() says it would change
 * a record, so a restart neither grows the log nor moves an index.
 * It runs when this server becomes leader, before the first member list
 * arrives; from then on reconcile.c keeps every member's entries (this
 * node's included) as Consul's leader.go reconcileMember and
 * handleAliveMember, and writes nothing for entries that already agree.
 * Reference: Consul agent/consul/leader_registrator_v1.go
 * HandleAliveMember.
 */
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "nodeid.h"
#include "proto.h"
#include "raftd.h"
#include "reconcile.h"
#include "store.h"
#include "../httpd/version.h"

int
catalog_self_register(struct raftd *rd)
{
	const struct config *cfg = rd->cfg;
	struct msg_catalog_register reg;
	struct proto_cat_service svc;
	struct proto_cat_check chk;
	struct reconcile_consul_meta cm;
	struct proto_str tk[4], tv[4], mk[1], mv[1];
	char id[NODE_ID_LEN + 8];
	const char *addr, *wan;
	struct proto_buf b;
	bool changes;
	int rc;

	if (cfg->node_name == NULL || *cfg->node_name == '\0' ||
	    cfg->datacenter == NULL) {
		log_warnx("catalog: no node name: this node is not registered");
		return 0;
	}
	if ((rc = node_id_ensure(cfg->data_dir, cfg->node_id, id,
	    sizeof(id))) != 0) {
		log_warnx("node id in %s: %s", cfg->data_dir, err_str(rc));
		return rc;
	}
	addr = cfg->advertise_addr && *cfg->advertise_addr ?
	    cfg->advertise_addr : cfg->bind_addr && *cfg->bind_addr ?
	    cfg->bind_addr : "127.0.0.1";
	wan = cfg->advertise_addr_wan && *cfg->advertise_addr_wan ?
	    cfg->advertise_addr_wan : addr;
	memset(&reg, 0, sizeof(reg));
	reg.node.id = proto_str_c(id);
	reg.node.node = proto_str_c(cfg->node_name);
	reg.node.address = proto_str_c(addr);
	reg.node.datacenter = proto_str_c(cfg->datacenter);
	tk[0] = proto_str_c("lan");
	tv[0] = proto_str_c(addr);
	tk[1] = proto_str_c("lan_ipv4");
	tv[1] = proto_str_c(addr);
	tk[2] = proto_str_c("wan");
	tv[2] = proto_str_c(wan);
	tk[3] = proto_str_c("wan_ipv4");
	tv[3] = proto_str_c(wan);
	reg.node.tagged_addresses.keys = tk;
	reg.node.tagged_addresses.vals = tv;
	reg.node.tagged_addresses.n = 4;
	mk[0] = proto_str_c("consul-network-segment");
	mv[0] = proto_str_c("");
	reg.node.meta.keys = mk;
	reg.node.meta.vals = mv;
	reg.node.meta.n = 1;

	memset(&svc, 0, sizeof(svc));
	svc.id = proto_str_c("consul");
	svc.service = proto_str_c("consul");
	svc.port = (uint32_t)cfg->ports.server;
	/* what reconcile.c writes from this node's gossip tags */
	reconcile_consul_meta(&cm, proto_str_c(CAIRN_VERSION ":"
	    CAIRN_REVISION), proto_str_c("3"), false, false, &svc.meta);
	svc.weight_passing = 1;
	svc.weight_warning = 1;
	reg.services = &svc;
	reg.n_services = 1;

	memset(&chk, 0, sizeof(chk));
	chk.check_id = proto_str_c("serfHealth");
	chk.name = proto_str_c("Serf Health Status");
	chk.status = proto_str_c("passing");
	chk.output = proto_str_c("Agent alive and reachable");
	reg.checks = &chk;
	reg.n_checks = 1;

	if ((rc = catalog_register_changes(rd->cat, &reg, &changes)) != 0)
		return rc;
	if (!changes) {
		log_debug("catalog: node %s already registered",
		    cfg->node_name);
		return 0;
	}
	if ((rc = proto_encode(MSG_CATALOG_REGISTER, 0, &reg, &b)) != 0)
		return rc;
	rc = pipeline_submit_internal(rd, STORE_ENTRY_COMMAND, b.data, b.len);
	proto_buf_free(&b);
	if (rc == 0)
		log_info("catalog: registering node %s (%s) with serfHealth "
		    "and the consul service", cfg->node_name, addr);
	return rc;
}
