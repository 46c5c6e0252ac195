/*
 * raft_membership.c — single-server membership changes and leadership
 * transfer.
 *
 * One server is added or removed at a time; a change is a configuration
 * entry that takes effect on each server as soon as it is in its log
 * (4.1), and the next change waits until it commits. A leader accepts a
 * change only after its term's no-op committed (the fix in the errata of
 * the dissertation, 4.1). New servers join as non-voters and are
 * promoted once caught up to the commit index (4.2.1). A leader removed
 * from the configuration steps down once the removal commits (4.2.2).
 * Leadership transfer (3.10): stop accepting proposals, catch the target
 * up, send it TimeoutNow; give up after an election timeout.
 * Reference: Ongaro 2014, 3.10, 4.1, 4.2.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "raft_int.h"

/* Configuration as of index (>= the snapshot index) into empty *out. */
int
raft_membership_conf_at(const struct raft *r, uint64_t index,
    struct raft_conf *out)
{
	uint64_t floor = r->log.snap_index + 1;

	if (floor < raft_log_first(&r->log))
		floor = raft_log_first(&r->log);
	for (uint64_t i = index; i >= floor && i > 0; i--) {
		const struct raft_entry *e = raft_log_get(&r->log, i);
		if (e != NULL && e->type == RAFT_ENTRY_CONF)
			return raft_conf_decode(out, e->data, e->len);
	}
	return raft_conf_copy(out, &r->snap_conf);
}

/* Recomputes the effective configuration: the latest one in the log. */
int
raft_membership_conf_changed(struct raft *r)
{
	struct raft_conf c;
	uint64_t last = raft_log_last(&r->log), at = 0;
	int rc;

	for (uint64_t i = last; i > r->log.snap_index; i--) {
		const struct raft_entry *e = raft_log_get(&r->log, i);
		if (e == NULL)
			break;
		if (e->type == RAFT_ENTRY_CONF) {
			at = i;
			break;
		}
	}
	if ((rc = raft_membership_conf_at(r, last, &c)) != 0)
		return rc;
	raft_conf_fini(&r->conf);
	r->conf = c;
	r->conf_index = at;
	if (r->role == RAFT_LEADER)
		return raft_replication_sync_progress(r);
	return 0;
}

/*
 * May this server start an election? Yes if it votes in its latest
 * configuration, and also while a change removing it is uncommitted if it
 * voted in the committed one: its log may hold that change alone, and
 * without it no one else could win (the others' logs are behind).
 */
bool
raft_membership_may_campaign(const struct raft *r)
{
	struct raft_conf c;
	bool voter;

	if (raft_is_voter(r, r->id))
		return true;
	if (r->conf_index <= r->commit)
		return false;
	if (raft_membership_conf_at(r, r->commit, &c) != 0)
		return false;
	voter = raft_conf_find(&c, r->id) != NULL &&
	    raft_conf_find(&c, r->id)->voter;
	raft_conf_fini(&c);
	return voter;
}

/*
 * A leader no longer voting in a committed configuration steps down, and
 * hands over to an up-to-date voter with TimeoutNow so that the cluster
 * does not wait an election timeout (3.10, 4.2.2).
 */
void
raft_membership_committed(struct raft *r)
{
	uint64_t last = raft_log_last(&r->log), to = 0;

	if (r->role != RAFT_LEADER || r->commit < r->conf_index ||
	    raft_is_voter(r, r->id))
		return;
	for (size_t i = 0; i < r->n_prog && to == 0; i++)
		if (raft_is_voter(r, r->prog[i].id) && r->prog[i].match == last)
			to = r->prog[i].id;
	if (to != 0)
		raft_msg_new(r, RAFT_MSG_TIMEOUT_NOW, to);
	raft_become_follower(r, r->term, 0);
}

static int
membership_check(const struct raft *r)
{
	if (r->role != RAFT_LEADER)
		return ERR_NOTLEADER;
	if (!raft_leader_ready(r) || r->conf_index > r->commit ||
	    r->transfer_target != 0)
		return ERR_AGAIN;
	return 0;
}

static int
membership_append(struct raft *r, const struct raft_conf *c)
{
	void *buf;
	size_t len;
	int rc;

	if ((rc = raft_conf_encode(c, &buf, &len)) != 0)
		return rc;
	rc = raft_replication_append(r, RAFT_ENTRY_CONF, buf, len, NULL);
	free(buf);
	return rc;
}

int
raft_add_server(struct raft *r, uint64_t id, const char *address,
    bool voter)
{
	struct raft_conf c;
	struct raft_progress *p;
	int rc;

	if ((rc = membership_check(r)) != 0)
		return rc;
	if (raft_conf_find(&r->conf, id) != NULL)
		return ERR_EXISTS;
	if ((rc = raft_conf_copy(&c, &r->conf)) != 0)
		return rc;
	if ((rc = raft_conf_add(&c, id, address, false)) == 0)
		rc = membership_append(r, &c);
	raft_conf_fini(&c);
	if (rc == 0 && (p = raft_replication_find(r, id)) != NULL)
		p->promote = voter;
	return rc;
}

int
raft_promote(struct raft *r, uint64_t id)
{
	const struct raft_server *s;
	struct raft_progress *p;

	if (r->role != RAFT_LEADER)
		return ERR_NOTLEADER;
	if ((s = raft_conf_find(&r->conf, id)) == NULL)
		return ERR_NOTFOUND;
	if (s->voter)
		return ERR_EXISTS;
	if ((p = raft_replication_find(r, id)) == NULL)
		return ERR_NOTFOUND;
	p->promote = true;
	return 0;
}

int
raft_remove_server(struct raft *r, uint64_t id)
{
	struct raft_conf c;
	const struct raft_server *s;
	size_t k = 0, voters = 0;
	int rc;

	if ((rc = membership_check(r)) != 0)
		return rc;
	if ((s = raft_conf_find(&r->conf, id)) == NULL)
		return ERR_NOTFOUND;
	for (size_t i = 0; i < r->conf.n; i++)
		voters += r->conf.servers[i].voter;
	if (s->voter && voters == 1)
		return ERR_INVAL; /* the last voter */
	if ((rc = raft_conf_copy(&c, &r->conf)) != 0)
		return rc;
	for (size_t i = 0; i < c.n; i++) {
		if (c.servers[i].id == id)
			free(c.servers[i].address);
		else
			c.servers[k++] = c.servers[i];
	}
	c.n = k;
	rc = membership_append(r, &c);
	raft_conf_fini(&c);
	return rc;
}

/* Promotes one caught-up non-voter, if any (called at drain). */
static void
membership_promote(struct raft *r)
{
	struct raft_conf c;

	if (membership_check(r) != 0)
		return;
	for (size_t i = 0; i < r->n_prog; i++) {
		struct raft_progress *p = &r->prog[i];

		if (!p->promote || p->match < r->commit)
			continue;
		if (raft_conf_copy(&c, &r->conf) != 0)
			return;
		for (size_t k = 0; k < c.n; k++)
			if (c.servers[k].id == p->id)
				c.servers[k].voter = true;
		uint64_t id = p->id;
		p->promote = false; /* p dies: the append rebuilds progress */
		if (membership_append(r, &c) != 0 &&
		    (p = raft_replication_find(r, id)) != NULL)
			p->promote = true;
		raft_conf_fini(&c);
		return;
	}
}

void
raft_membership_flush(struct raft *r)
{
	struct raft_progress *p;
	struct raft_message *m;

	membership_promote(r);
	if (r->role != RAFT_LEADER || r->transfer_target == 0 ||
	    r->transfer_sent)
		return;
	p = raft_replication_find(r, r->transfer_target);
	if (p == NULL || !raft_is_voter(r, p->id)) {
		r->transfer_target = 0;
		return;
	}
	if (p->match != raft_log_last(&r->log))
		return;
	if ((m = raft_msg_new(r, RAFT_MSG_TIMEOUT_NOW, p->id)) == NULL)
		return;
	r->transfer_sent = true;
	r->lease_lost = true;
}

int
raft_transfer_leadership(struct raft *r, uint64_t target)
{
	if (r->role != RAFT_LEADER)
		return ERR_NOTLEADER;
	if (r->transfer_target != 0)
		return ERR_AGAIN;
	if (target == 0) {
		uint64_t best = 0;
		for (size_t i = 0; i < r->n_prog; i++) {
			struct raft_progress *p = &r->prog[i];
			if (raft_is_voter(r, p->id) &&
			    (target == 0 || p->match > best)) {
				target = p->id;
				best = p->match;
			}
		}
		if (target == 0)
			return ERR_NOTFOUND;
	}
	if (target == r->id)
		return ERR_INVAL;
	if (!raft_is_voter(r, target))
		return ERR_NOTFOUND;
	r->transfer_target = target;
	r->transfer_deadline = r->now + r->cfg.election_timeout_ms;
	r->transfer_sent = false;
	r->heartbeat_due = true;
	return 0;
}

void
raft_membership_transfer_tick(struct raft *r)
{
	if (r->role == RAFT_LEADER && r->transfer_target != 0 &&
	    r->now >= r->transfer_deadline) {
		r->transfer_target = 0;
		r->transfer_sent = false;
	}
}

void
raft_membership_recv_timeout_now(struct raft *r,
    const struct raft_message *m)
{
	if (m->term != r->term || r->role != RAFT_FOLLOWER ||
	    r->leader != m->from || !raft_is_voter(r, r->id))
		return;
	raft_election_start(r, false, true);
}
