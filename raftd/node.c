/*
 * node.c — opening and closing one raftd node on a loop: the store at
 * <data_dir>/raft, the KV and catalog state machines, the blocking-read
 * index, the write pipeline and its storage writer, the leader's own
 * catalog entries (catalog_self.c), and the IPC server on
 * <runtime_dir>/raftd.rpc. main (raftd.c) adds configuration, signals and
 * the process around it; tests open a node in-process the same way.
 *
 * Key decision: every server runs the Raft core (consensus.c). In -dev,
 * with -bootstrap or with -bootstrap-expect 1 it bootstraps a
 * configuration of itself alone and leads at once (a single voter
 * campaigns at its first tick), so it grows into a cluster when other
 * servers join; any other server bootstraps with bootstrap_expect
 * servers seen (discovery.c) or joins an existing cluster, and forwards
 * to the leader (forward.c) (spec §1.6, §6.2). A store of an earlier
 * single server (no Raft records) is taken over as a snapshot.
 * Reference: OpenBSD bgpd.c startup order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "err.h"
#include "ipc.h"
#include "kv.h"
#include "log.h"
#include "loop.h"
#include "nodeid.h"
#include "proto.h"
#include "raft.h"
#include "raftd.h"
#include "session.h"
#include "store.h"
#include "watch.h"
#include "writer.h"

/* consensus.c's term/vote record and snapshot.c's snapshot record */
#define NODE_HS_KEY "raft_hs"
#define NODE_SNAP_KEY "raft_snap"

static int
node_open_state(struct raftd *rd)
{
	char path[4096], err[512];
	int rc;

	if (snprintf(path, sizeof(path), "%s/raft", rd->cfg->data_dir) >=
	    (int)sizeof(path)) {
		log_warnx("data dir path too long");
		return ERR_TOOBIG;
	}
	err[0] = '\0';
	if ((rc = store_open(path, &rd->store, err, sizeof(err))) != 0) {
		log_warnx("store %s refused: %s (%s)", path, err, err_str(rc));
		return rc;
	}
	if ((rc = kv_open(rd->store, &rd->kv)) != 0) {
		log_warnx("store %s: state unreadable: %s", path,
		    err_str(rc));
		return rc;
	}
	if ((rc = catalog_open(rd->store, rd->kv, &rd->cat)) != 0) {
		log_warnx("store %s: catalog unreadable: %s", path,
		    err_str(rc));
		return rc;
	}
	if ((rc = pipeline_start(rd)) != 0) {
		log_warnx("store %s: log unreadable: %s", path, err_str(rc));
		return rc;
	}
	return 0;
}

/* A server knows no leader until the Raft core elects one. */
static void
node_leadership(struct raftd *rd)
{
	rd->leader = false;
	rd->leader_addr[0] = '\0';
	log_info("clustered server: leader elected by raft "
	    "(bootstrap_expect %d)", rd->cfg->bootstrap_expect);
}

/*
 * -dev, -bootstrap, -bootstrap-expect 1: an empty store gets a
 * configuration of this server alone, which elects itself at its first
 * tick (raft_election.c); servers that join later are added by it like
 * any leader adds them (discovery.c), with no second bootstrap.
 */
static int
node_bootstrap_single(struct raftd *rd)
{
	const struct config *cfg = rd->cfg;
	const char *addr = rd->self_addr;
	int rc;

	if (!(cfg->dev || cfg->bootstrap || cfg->bootstrap_expect == 1))
		return 0;
	rc = consensus_bootstrap(rd, 1, &rd->node_id, &addr);
	return rc == ERR_EXISTS ? 0 : rc;
}

/*
 * A store written by a single server of an earlier version (no Raft
 * core: no term/vote record, no configuration in the log, maybe
 * compacted) is taken over as a snapshot at its applied index whose
 * configuration is this server alone, with its term; entries after it
 * stay in the log and commit with the first no-op. Only for a server
 * that bootstraps alone.
 */
static int
node_adopt_single(struct raftd *rd)
{
	const struct config *cfg = rd->cfg;
	uint64_t first, last, last_term, term = 0, applied, id;
	char uuid[NODE_ID_LEN + 1], self[320];
	const char *addr;
	struct store_entry e;
	struct store_val v;
	struct raft_conf c;
	uint8_t hs[16];
	int rc;

	if (!(cfg->dev || cfg->bootstrap || cfg->bootstrap_expect == 1))
		return 0;
	if ((rc = store_meta_get(rd->store, NODE_HS_KEY, &v)) == 0)
		store_val_free(&v);
	if (rc != ERR_NOTFOUND)
		return rc;
	if ((rc = store_meta_get(rd->store, NODE_SNAP_KEY, &v)) == 0)
		store_val_free(&v);
	if (rc != ERR_NOTFOUND)
		return rc;
	applied = kv_applied_index(rd->kv);
	if ((rc = store_log_bounds(rd->store, &first, &last, &last_term)) != 0)
		return rc;
	if (applied == 0)
		return 0; /* nothing applied: a fresh store */
	if ((rc = store_meta_get_u64(rd->store, "term", &term)) != 0 &&
	    rc != ERR_NOTFOUND)
		return rc;
	if (term < last_term)
		term = last_term;
	if ((rc = node_id_ensure(cfg->data_dir, cfg->node_id, uuid,
	    sizeof(uuid))) != 0 || (id = discovery_raft_id(uuid)) == 0)
		return rc != 0 ? rc : ERR_INVAL;
	addr = cfg->advertise_addr && *cfg->advertise_addr ?
	    cfg->advertise_addr : cfg->bind_addr;
	if (addr == NULL || *addr == '\0' || strcmp(addr, "0.0.0.0") == 0)
		addr = "127.0.0.1";
	snprintf(self, sizeof(self), "%s:%d", addr, cfg->ports.server);
	raft_conf_init(&c);
	if ((rc = raft_conf_add(&c, id, self, true)) == 0) {
		uint64_t sterm = term;

		if (store_log_get(rd->store, applied, &e) == 0) {
			sterm = e.term;
			store_entry_fini(&e);
		}
		rc = snapshot_meta_put(rd, applied, sterm, &c);
	}
	raft_conf_fini(&c);
	store_put_be64(hs, term);
	store_put_be64(hs + 8, 0);
	if (rc == 0)
		rc = store_meta_put(rd->store, NODE_HS_KEY, hs, sizeof(hs));
	if (rc == 0)
		log_info("raft: took over a single server's store: snapshot at "
		    "%llu, term %llu, log %llu..%llu",
		    (unsigned long long)applied, (unsigned long long)term,
		    (unsigned long long)first, (unsigned long long)last);
	return rc;
}

static int
node_serve(struct raftd *rd)
{
	char url[512];
	int rc;

	if ((rc = ipc_url(url, sizeof(url), rd->cfg->runtime_dir,
	    NODE_SOCKET)) != 0) {
		log_warnx("ipc socket path in %s: %s", rd->cfg->runtime_dir,
		    err_str(rc));
		return rc;
	}
	if ((rc = ipc_server_open(rd->loop, url, raftd_dispatch_httpd, rd,
	    &rd->srv)) != 0) {
		log_warnx("listen %s: %s", url, err_str(rc));
		return rc;
	}
	log_info("serving %s", url);
	return 0;
}

int
node_open(struct raftd *rd, struct loop *l, struct config *cfg)
{
	const char *fp = getenv("CAIRN_FAILPOINT");
	int rc;

	memset(rd, 0, sizeof(*rd));
	rd->cfg = cfg;
	rd->loop = l;
	rd->failpoint_exit_after_apply = fp != NULL &&
	    strstr(fp, "raftd-exit-after-apply") != NULL;
	if (rd->failpoint_exit_after_apply)
		log_warnx("failpoint raftd-exit-after-apply armed");
	rd->failpoint_exit_after_persist = fp != NULL &&
	    strstr(fp, "raftd-exit-after-persist") != NULL;
	if (rd->failpoint_exit_after_persist)
		log_warnx("failpoint raftd-exit-after-persist armed");
	proto_arena_init(&rd->arena);
	kv_read_init(&rd->read);
	catalog_read_init(&rd->cread);
	if ((rd->watch = watch_new(l, dispatch_watch_eval,
	    dispatch_watch_drop, rd)) == NULL) {
		rc = ERR_NOMEM;
		goto fail;
	}
	/* every server runs the Raft core; a single one bootstraps alone
	 * (node_bootstrap_single) and grows into a cluster as servers join */
	rd->clustered = cfg->server || cfg->dev;
	/* a client agent keeps no state: it forwards (client.c) */
	if ((rd->client_agent = !cfg->server && !cfg->dev)) {
		if ((rc = client_start(rd)) != 0 || (rc = node_serve(rd)) != 0)
			goto fail;
		return 0;
	}
	if ((rc = node_open_state(rd)) != 0) /* replays: watch exists */
		goto fail;
	node_leadership(rd);
	if ((rc = writer_new(rd->store, pipeline_on_written, rd,
	    &rd->writer)) != 0) {
		log_warnx("cannot start the storage writer: %s", err_str(rc));
		goto fail;
	}
	if ((rc = node_adopt_single(rd)) != 0 ||
	    (rc = consensus_start(rd)) != 0 ||
	    (rc = node_bootstrap_single(rd)) != 0) {
		log_warnx("cannot start raft: %s", err_str(rc));
		goto fail;
	}
	if ((rc = client_listen(rd)) != 0) {
		log_warnx("cannot serve client agents: %s", err_str(rc));
		goto fail;
	}
	if ((rc = session_open(rd)) != 0 || (rc = reap_start(rd)) != 0 ||
	    (rc = node_serve(rd)) != 0)
		goto fail;
	return 0;
fail:
	node_close(rd);
	return rc;
}

void
node_close(struct raftd *rd)
{
	if (rd->kv != NULL)
		log_info("stopped (applied %llu; %llu entries written in "
		    "%llu batches)",
		    (unsigned long long)kv_applied_index(rd->kv),
		    (unsigned long long)rd->n_entries,
		    (unsigned long long)rd->n_batches);
	reap_stop(rd);
	session_close(rd);
	client_stop(rd);
	consensus_stop(rd);
	operator_fini(rd);
	writer_free(rd->writer); /* runs the callbacks of queued batches */
	rd->writer = NULL;
	watch_free(rd->watch);
	rd->watch = NULL;
	pipeline_fini(rd); /* drops held writes: before their server goes */
	ipc_server_close(rd->srv);
	rd->srv = NULL;
	kv_read_fini(&rd->read);
	catalog_read_fini(&rd->cread);
	proto_arena_free(&rd->arena);
	catalog_free(rd->cat);
	rd->cat = NULL;
	kv_free(rd->kv);
	rd->kv = NULL;
	store_close(rd->store);
	rd->store = NULL;
}
