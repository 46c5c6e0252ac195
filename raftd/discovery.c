/*
 * discovery.c — which servers exist, as gossip reports them, and the
 * bootstrap of a new cluster (spec §6.2 -bootstrap-expect, §6.3).
 *
 * gossipd's member events for servers (tags role=consul, dc, port,
 * expect, id) reach discovery_server_seen(). A server keeps every server
 * seen with its address. With bootstrap_expect N > 1 and an empty log,
 * once N servers (itself included) that all announce the same expect are
 * known, it bootstraps the Raft configuration with exactly those
 * servers, sorted by id so every one of them derives the same
 * configuration; a server whose log is not empty never bootstraps (it
 * joins what it finds). A disagreeing expect stops the bootstrap and is
 * logged, as Consul's maybeBootstrap does. Later, the leader adds every
 * seen server missing from the configuration (as a voter, promoted once
 * caught up: raft.h raft_add_server). Reference: consul
 * agent/consul/server_serf.go maybeBootstrap, leader.go
 * reconcileMember/joinConsulServer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "log.h"
#include "loop.h"
#include "raft.h"
#include "raftd.h"

struct discovery_server {
	uint64_t id;
	char uuid[40];
	char name[128];
	char addr[RAFT_ADDRESS_MAX + 1];
	int expect;
	bool alive;
};

struct discovery {
	struct raftd *rd;
	struct discovery_server *v;
	size_t n, cap;
	uint64_t timer; /* autopilot retry while a removal waits */
	bool bootstrapped;
	bool conflict_logged;
};

uint64_t
discovery_raft_id(const char *uuid)
{
	uint64_t id = 0;
	int digits = 0;

	if (uuid == NULL)
		return 0;
	for (const char *p = uuid; *p != '\0' && digits < 16; p++) {
		int v;

		if (*p == '-')
			continue;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			return 0;
		id = id << 4 | (uint64_t)v;
		digits++;
	}
	return digits == 16 ? id : 0;
}

static struct discovery_server *
discovery_find(struct discovery *d, uint64_t id)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].id == id)
			return &d->v[i];
	return NULL;
}

const char *
discovery_addr(struct raftd *rd, uint64_t id)
{
	struct discovery_server *s;

	if (rd->disc == NULL || (s = discovery_find(rd->disc, id)) == NULL)
		return "";
	return s->addr;
}

void
discovery_names(struct raftd *rd, uint64_t id, const char **uuid,
    const char **name)
{
	struct discovery_server *s;

	*uuid = *name = "";
	if (rd->disc == NULL || (s = discovery_find(rd->disc, id)) == NULL)
		return;
	*uuid = s->uuid;
	*name = s->name;
}

static int
discovery_cmp(const void *a, const void *b)
{
	const struct discovery_server *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void
discovery_maybe_bootstrap(struct raftd *rd)
{
	struct discovery *d = rd->disc;
	int expect = rd->cfg->bootstrap_expect;
	uint64_t ids[RAFT_SERVERS_MAX];
	const char *addrs[RAFT_SERVERS_MAX];
	size_t n = 0;
	int rc;

	if (d->bootstrapped || expect <= 1 || rd->raft == NULL)
		return;
	if (raft_last_index(rd->raft) != 0 || raft_term(rd->raft) != 0) {
		d->bootstrapped = true; /* a log exists: never bootstrap */
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].expect != 0 && d->v[i].expect != expect) {
			if (!d->conflict_logged)
				log_warnx("raft: server %s expects %d servers, "
				    "this one %d: not bootstrapping",
				    d->v[i].name, d->v[i].expect, expect);
			d->conflict_logged = true;
			return;
		}
	}
	if (d->n < (size_t)expect)
		return;
	qsort(d->v, d->n, sizeof(*d->v), discovery_cmp);
	for (size_t i = 0; i < d->n && n < (size_t)expect &&
	    n < RAFT_SERVERS_MAX; i++) {
		ids[n] = d->v[i].id;
		addrs[n] = d->v[i].addr;
		n++;
	}
	if ((rc = consensus_bootstrap(rd, n, ids, addrs)) != 0 &&
	    rc != ERR_EXISTS)
		log_warnx("raft: bootstrap failed: %s", err_str(rc));
	d->bootstrapped = true;
}

static void discovery_retry(struct raftd *rd);

/* Leader: adds a seen server missing from the configuration. */
static void
discovery_reconcile(struct raftd *rd, const struct discovery_server *s)
{
	const struct raft_server *cs;
	int rc;

	if (rd->raft == NULL || raft_role(rd->raft) != RAFT_LEADER)
		return;
	if ((cs = raft_conf_find(raft_configuration(rd->raft), s->id)) !=
	    NULL) {
		/* a non-voter a previous leader added: promote it (the
		 * core does once it is caught up) */
		if (cs->voter)
			return;
		if ((rc = raft_promote(rd->raft, s->id)) == 0)
			consensus_kick(rd);
		else if (rc == ERR_AGAIN)
			discovery_retry(rd);
		return;
	}
	rc = raft_add_server(rd->raft, s->id, s->addr, true);
	if (rc == 0) {
		log_info("raft: adding server %s (%s) to the configuration",
		    s->name, s->addr);
		consensus_kick(rd);
	} else if (rc == ERR_AGAIN) {
		discovery_retry(rd); /* a change is in flight */
	} else {
		log_warnx("raft: cannot add server %s: %s", s->name,
		    err_str(rc));
	}
}

int
discovery_server_seen(struct raftd *rd, const char *id, const char *name,
    const char *addr, int expect)
{
	struct discovery *d = rd->disc;
	struct discovery_server *s;
	uint64_t rid = discovery_raft_id(id);
	const char *colon = addr != NULL ? strrchr(addr, ':') : NULL;

	if (d == NULL)
		return ERR_CLOSED;
	if (rid == 0 || colon == NULL || colon == addr || colon[1] == '\0' ||
	    strlen(addr) > RAFT_ADDRESS_MAX || expect < 0)
		return ERR_INVAL;
	if ((s = discovery_find(d, rid)) == NULL) {
		if (d->n == d->cap) {
			size_t cap = d->cap ? d->cap * 2 : 8;
			struct discovery_server *v = realloc(d->v,
			    cap * sizeof(*v));

			if (v == NULL)
				return ERR_NOMEM;
			d->v = v;
			d->cap = cap;
		}
		s = &d->v[d->n++];
		memset(s, 0, sizeof(*s));
		s->id = rid;
		log_info("raft: server %s seen at %s (expect %d)",
		    name ? name : "?", addr, expect);
	}
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "");
	snprintf(s->uuid, sizeof(s->uuid), "%s", id);
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	s->expect = expect;
	s->alive = true;
	if (expect != 0 && rd->cfg->bootstrap_expect > 1 &&
	    expect != rd->cfg->bootstrap_expect) {
		discovery_maybe_bootstrap(rd); /* logs the conflict */
		return ERR_CONFLICT;
	}
	discovery_maybe_bootstrap(rd);
	if ((s = discovery_find(d, rid)) != NULL) /* qsort moved it */
		discovery_reconcile(rd, s);
	return 0;
}

static void discovery_autopilot(struct raftd *rd);

static void
discovery_timer_cb(struct loop *l, void *arg)
{
	struct raftd *rd = arg;

	(void)l;
	if (rd->disc == NULL)
		return;
	rd->disc->timer = 0;
	discovery_leader(rd);
}

/* Reconciles again in a second (a membership change was in flight). */
static void
discovery_retry(struct raftd *rd)
{
	if (rd->disc->timer == 0)
		rd->disc->timer = loop_timer_add(rd->loop, 1000,
		    discovery_timer_cb, rd);
}

/*
 * Autopilot's dead-server cleanup (spec §6.3 cleanup_dead_servers;
 * consul autopilot pruneDeadServers): the leader removes voters gossip
 * reports failed or left, one change at a time, only while the failed
 * ones are a minority of the voters (removing them cannot cost the
 * quorum) and the voters left stay at least min_quorum. A removal that
 * must wait (a change in flight) is retried every second.
 */
static void
discovery_autopilot(struct raftd *rd)
{
	struct discovery *d = rd->disc;
	const struct raft_conf *c;
	size_t voters = 0, failed = 0;
	uint64_t victim = 0;
	int rc;

	if (d == NULL || rd->raft == NULL ||
	    !rd->cfg->autopilot.cleanup_dead_servers ||
	    raft_role(rd->raft) != RAFT_LEADER)
		return;
	c = raft_configuration(rd->raft);
	for (size_t i = 0; i < c->n; i++) {
		struct discovery_server *s;

		if (!c->servers[i].voter)
			continue;
		voters++;
		s = discovery_find(d, c->servers[i].id);
		if (s != NULL && !s->alive && c->servers[i].id != rd->node_id) {
			failed++;
			victim = c->servers[i].id;
		}
	}
	if (victim == 0 || failed * 2 >= voters ||
	    voters - 1 < rd->cfg->autopilot.min_quorum)
		return;
	rc = raft_remove_server(rd->raft, victim);
	if (rc == 0) {
		log_info("autopilot: removing dead server %016llx",
		    (unsigned long long)victim);
		consensus_kick(rd);
	}
	if (rc == 0 || rc == ERR_AGAIN)
		discovery_retry(rd);
}

void
discovery_server_gone(struct raftd *rd, const char *id)
{
	struct discovery_server *s;

	if (rd->disc != NULL &&
	    (s = discovery_find(rd->disc, discovery_raft_id(id))) != NULL) {
		s->alive = false;
		discovery_autopilot(rd);
	}
}

/* The leader adds seen servers missing from the configuration. */
void
discovery_leader(struct raftd *rd)
{
	if (rd->disc == NULL)
		return;
	for (size_t i = 0; i < rd->disc->n; i++)
		if (rd->disc->v[i].alive)
			discovery_reconcile(rd, &rd->disc->v[i]);
	discovery_autopilot(rd);
}

int
discovery_init(struct raftd *rd)
{
	if ((rd->disc = calloc(1, sizeof(*rd->disc))) == NULL)
		return ERR_NOMEM;
	/* itself, so the bootstrap count includes this server */
	return discovery_server_seen(rd, rd->node_uuid, rd->cfg->node_name,
	    rd->self_addr, rd->cfg->bootstrap_expect > 1 ?
	    rd->cfg->bootstrap_expect : 0);
}

void
discovery_fini(struct raftd *rd)
{
	if (rd->disc == NULL)
		return;
	if (rd->disc->timer != 0)
		loop_timer_cancel(rd->loop, rd->disc->timer);
	free(rd->disc->v);
	free(rd->disc);
	rd->disc = NULL;
}
