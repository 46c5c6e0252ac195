/*
 * local.c — the agent's authoritative local state: services, checks and
 * the maintenance checks, and every change to them (persist, reschedule,
 * push to the catalog).
 *
 * Key decision: re-registering keeps the status and output of a check
 * whose CheckID is unchanged (unless the new definition gives a Status);
 * maintenance is nothing but a critical check (spec §16 items 11, 13).
 * Reference: spec/consul-api.md §2.1, §3.3, §4; Consul agent/agent.go
 * (AddService, AddCheck, EnableServiceMaintenance) and agent/local.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkd.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "loop.h"

#define NODE_MAINT_ID "_node_maintenance"
#define SVC_MAINT_PREFIX "_service_maintenance:"
#define NODE_MAINT_REASON "Maintenance mode is enabled for this node, " \
	"but no reason was provided. This is a default message."
#define SVC_MAINT_REASON "Maintenance mode is enabled for this service, " \
	"but no reason was provided. This is a default message."

struct svc *
local_svc(const struct checkd *cd, const char *id)
{
	struct idx_link *l;

	if (id == NULL || *id == '\0')
		return NULL;
	l = idx_find(&cd->svc_ix, id);
	return l != NULL ? IDX_ENTRY(l, struct svc, by_id) : NULL;
}

struct chk *
local_chk(const struct checkd *cd, const char *id)
{
	struct idx_link *l = idx_find(&cd->chk_ix, id);

	return l != NULL ? IDX_ENTRY(l, struct chk, by_id) : NULL;
}

struct chk *
local_svc_chk(const struct checkd *cd, const char *sid)
{
	struct idx_link *l = idx_find(&cd->chk_by_svc, sid);

	return l != NULL ? IDX_ENTRY(l, struct chk, by_svc) : NULL;
}

struct chk *
local_svc_chk_next(const struct chk *c)
{
	struct idx_link *l = idx_next_same(&c->by_svc);

	return l != NULL ? IDX_ENTRY(l, struct chk, by_svc) : NULL;
}

void
local_svc_synced(struct checkd *cd, struct svc *s, bool synced)
{
	s->synced = synced;
	if (!synced && !s->dlinked) {
		s->dprev = NULL;
		s->dnext = cd->dirty_svcs;
		if (cd->dirty_svcs != NULL)
			cd->dirty_svcs->dprev = s;
		cd->dirty_svcs = s;
		s->dlinked = true;
	} else if (synced && s->dlinked) {
		if (s->dprev != NULL)
			s->dprev->dnext = s->dnext;
		else
			cd->dirty_svcs = s->dnext;
		if (s->dnext != NULL)
			s->dnext->dprev = s->dprev;
		s->dnext = s->dprev = NULL;
		s->dlinked = false;
	}
}

void
local_chk_synced(struct checkd *cd, struct chk *c, bool synced)
{
	c->synced = synced;
	if (!synced && !c->dlinked) {
		c->dprev = NULL;
		c->dnext = cd->dirty_chks;
		if (cd->dirty_chks != NULL)
			cd->dirty_chks->dprev = c;
		cd->dirty_chks = c;
		c->dlinked = true;
	} else if (synced && c->dlinked) {
		if (c->dprev != NULL)
			c->dprev->dnext = c->dnext;
		else
			cd->dirty_chks = c->dnext;
		if (c->dnext != NULL)
			c->dnext->dprev = c->dprev;
		c->dnext = c->dprev = NULL;
		c->dlinked = false;
	}
}

/* Puts s first in cd->svcs and in the index. */
static void
local_link_svc(struct checkd *cd, struct svc *s)
{
	s->prev = NULL;
	s->next = cd->svcs;
	if (cd->svcs != NULL)
		cd->svcs->prev = s;
	cd->svcs = s;
	idx_add(&cd->svc_ix, &s->by_id, s->id);
	if (!s->synced)
		local_svc_synced(cd, s, false);
}

static void
local_unlink_svc(struct checkd *cd, struct svc *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		cd->svcs = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
	idx_del(&cd->svc_ix, &s->by_id);
	local_svc_synced(cd, s, true);
}

static void
local_link_chk(struct checkd *cd, struct chk *c)
{
	c->prev = NULL;
	c->next = cd->chks;
	if (cd->chks != NULL)
		cd->chks->prev = c;
	cd->chks = c;
	if (!c->synced)
		local_chk_synced(cd, c, false);
	idx_add(&cd->chk_ix, &c->by_id, c->id);
	idx_add(&cd->chk_by_svc, &c->by_svc, c->service_id);
	if (c->type == CT_ALIAS)
		cd->n_alias++;
}

static void
local_unlink_chk(struct checkd *cd, struct chk *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		cd->chks = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	local_chk_synced(cd, c, true);
	idx_del(&cd->chk_ix, &c->by_id);
	idx_del(&cd->chk_by_svc, &c->by_svc);
	if (c->type == CT_ALIAS)
		cd->n_alias--;
}

void
local_free_all(struct checkd *cd)
{
	struct chk *c, *cn;
	struct svc *s, *sn;

	for (c = cd->chks; c != NULL; c = cn) {
		cn = c->next;
		run_stop(cd, c);
		if (c->defer_timer != 0)
			loop_timer_cancel(cd->loop, c->defer_timer);
		chk_free(c);
	}
	for (s = cd->svcs; s != NULL; s = sn) {
		sn = s->next;
		svc_free(s);
	}
	cd->chks = NULL;
	cd->svcs = NULL;
	cd->dirty_chks = NULL;
	cd->dirty_svcs = NULL;
	cd->n_alias = 0;
	idx_fini(&cd->svc_ix);
	idx_fini(&cd->chk_ix);
	idx_fini(&cd->chk_by_svc);
}

/* Drops c from the state (not from the catalog or the store). */
static void
local_drop_chk(struct checkd *cd, struct chk *c)
{
	if (c->defer_timer != 0)
		loop_timer_cancel(cd->loop, c->defer_timer);
	c->defer_timer = 0;
	run_stop(cd, c);
	local_unlink_chk(cd, c);
	chk_free(c);
}

static int
local_script_allowed(const struct checkd *cd, const struct chk *c,
    char *err, size_t errlen, int *status)
{
	const struct config *cfg = cd->cfg;

	if (c->type != CT_SCRIPT)
		return 0;
	if (c->source == SRC_API && !cfg->enable_script_checks) {
		snprintf(err, errlen, "Scripts are disabled on this agent "
		    "from remote calls; to enable, configure "
		    "'enable_script_checks' to true");
		*status = 500;
		return ERR_PERM;
	}
	if (c->source == SRC_FILE && !cfg->enable_script_checks &&
	    !cfg->enable_local_script_checks) {
		snprintf(err, errlen, "Scripts are disabled on this agent; "
		    "to enable, configure 'enable_script_checks' or "
		    "'enable_local_script_checks' to true");
		*status = 500;
		return ERR_PERM;
	}
	return 0;
}

/* Inserts c (taking it), replacing a check of the same ID. */
static void
local_insert_chk(struct checkd *cd, struct chk *c, bool persist)
{
	struct chk *old = local_chk(cd, c->id);

	if (old != NULL) {
		if (!c->status_given) {
			c->status = old->status;
			free(c->output);
			c->output = old->output;
			old->output = NULL;
		}
		c->ttl_deadline_ms = old->ttl_deadline_ms;
		c->critical_since_ms = old->critical_since_ms;
		local_drop_chk(cd, old);
	}
	c->synced = false;
	if (c->status == CHECK_CRITICAL && c->critical_since_ms == 0)
		c->critical_since_ms = loop_now_ms(cd->loop);
	local_link_chk(cd, c);
	if (persist && c->source == SRC_API)
		store_save_check(cd, c);
	run_start(cd, c);
}

int
local_add_service(struct checkd *cd, struct svc_def *d, bool replace,
    bool persist, char *err, size_t errlen, int *status)
{
	struct svc *s = d->svc, *old;
	struct chk *c, *next, *n;
	int rc;

	for (c = d->checks; c != NULL; c = c->next)
		if ((rc = local_script_allowed(cd, c, err, errlen, status)) !=
		    0) {
			defn_svc_def_free(d);
			return rc;
		}
	if ((old = local_svc(cd, s->id)) != NULL) {
		local_unlink_svc(cd, old);
		svc_free(old);
	}
	s->synced = false;
	local_link_svc(cd, s);
	store_batch_begin(cd);
	if (persist && s->source == SRC_API)
		store_save_service(cd, s);
	if (replace) {
		for (c = local_svc_chk(cd, s->id); c != NULL; c = next) {
			next = local_svc_chk_next(c);
			if (c->maint)
				continue;
			for (n = d->checks; n != NULL; n = n->next)
				if (strcmp(n->id, c->id) == 0)
					break;
			if (n == NULL) {
				char *id = strdup(c->id);
				if (c->source == SRC_API)
					store_remove_check(cd, c->id);
				local_drop_chk(cd, c);
				if (id != NULL)
					sync_removed(cd, NULL, id);
				free(id);
			}
		}
	}
	for (c = d->checks; c != NULL; c = next) {
		next = c->next;
		c->next = NULL;
		local_insert_chk(cd, c, persist);
	}
	store_batch_end(cd);
	d->svc = NULL;
	d->checks = NULL;
	run_alias_update(cd);
	sync_kick(cd);
	return 0;
}

int
local_add_check(struct checkd *cd, struct chk *c, bool persist, char *err,
    size_t errlen, int *status)
{
	int rc;

	if (*c->service_id != '\0' && local_svc(cd, c->service_id) == NULL) {
		snprintf(err, errlen, "ServiceID \"%s\" does not exist",
		    c->service_id);
		*status = 500;
		chk_free(c);
		return ERR_NOTFOUND;
	}
	if ((rc = local_script_allowed(cd, c, err, errlen, status)) != 0) {
		chk_free(c);
		return rc;
	}
	local_insert_chk(cd, c, persist);
	run_alias_update(cd);
	sync_kick(cd);
	return 0;
}

int
local_remove_check(struct checkd *cd, const char *id)
{
	struct chk *c = local_chk(cd, id);
	char *cid;

	if (c == NULL)
		return ERR_NOTFOUND;
	if ((cid = strdup(id)) == NULL)
		return ERR_NOMEM;
	if (c->source == SRC_API)
		store_remove_check(cd, cid);
	local_drop_chk(cd, c);
	sync_removed(cd, NULL, cid);
	free(cid);
	run_alias_update(cd);
	return 0;
}

int
local_remove_service(struct checkd *cd, const char *id)
{
	struct svc *s = local_svc(cd, id);
	struct chk *c, *next;
	char *sid;

	if (s == NULL)
		return ERR_NOTFOUND;
	if ((sid = strdup(id)) == NULL)
		return ERR_NOMEM;
	for (c = local_svc_chk(cd, sid); c != NULL; c = next) {
		next = local_svc_chk_next(c);
		if (c->source == SRC_API)
			store_remove_check(cd, c->id);
		local_drop_chk(cd, c);
	}
	local_unlink_svc(cd, s);
	if (s->source == SRC_API)
		store_remove_service(cd, sid);
	svc_free(s);
	sync_removed(cd, sid, NULL);
	free(sid);
	run_alias_update(cd);
	return 0;
}

static void
local_output_due(struct loop *l, void *arg)
{
	struct chk *c = arg;

	(void)l;
	c->defer_timer = 0;
	if (c->output_dirty) {
		local_chk_synced(c->run_owner, c, false);
		sync_kick(c->run_owner);
	}
}

/*
 * An output-only change reaches the catalog after check_update_interval
 * (0: at once), to spare Raft writes (spec §3.3); a status change or the
 * periodic full sync may carry it earlier.
 */
static void
local_defer_output(struct checkd *cd, struct chk *c)
{
	uint32_t iv = cd->cfg->check_update_interval_ms;

	c->output_dirty = true;
	if (iv == 0) {
		local_chk_synced(cd, c, false);
		sync_kick(cd);
		return;
	}
	if (c->defer_timer == 0) {
		c->run_owner = cd;
		c->defer_timer = loop_timer_add(cd->loop, iv, local_output_due,
		    c);
	}
}

void
local_set_status(struct checkd *cd, struct chk *c, int status, char *output)
{
	bool changed = c->status != status;
	bool out_changed;

	out_changed = output != NULL && (c->output == NULL ||
	    strcmp(c->output, output) != 0);
	if (out_changed) {
		free(c->output);
		c->output = output;
	} else {
		free(output);
	}
	if (changed) {
		log_info("check %s: %s -> %s", c->id,
		    check_status_str(c->status), check_status_str(status));
		c->status = status;
		c->critical_since_ms = status == CHECK_CRITICAL ?
		    loop_now_ms(cd->loop) : 0;
		local_chk_synced(cd, c, false);
	} else if (out_changed && !c->output_dirty) {
		local_defer_output(cd, c);
	}
	if ((changed || (out_changed && c->type == CT_TTL)) &&
	    c->source == SRC_API)
		store_save_check(cd, c);
	if (changed) {
		run_alias_update(cd);
		sync_kick(cd);
	}
}

int
local_maintenance(struct checkd *cd, const char *svc_id, bool enable,
    const char *reason)
{
	struct chk *c;
	char *id;
	int rc;

	if (svc_id != NULL && local_svc(cd, svc_id) == NULL)
		return ERR_NOTFOUND;
	if (svc_id == NULL)
		id = strdup(NODE_MAINT_ID);
	else if (asprintf(&id, SVC_MAINT_PREFIX "%s", svc_id) < 0)
		id = NULL;
	if (id == NULL)
		return ERR_NOMEM;
	if (!enable) {
		if (local_chk(cd, id) != NULL)
			local_remove_check(cd, id);
		free(id);
		sync_kick(cd);
		return 0;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		free(id);
		return ERR_NOMEM;
	}
	c->id = id;
	c->name = strdup(svc_id ? "Service Maintenance Mode" :
	    "Node Maintenance Mode");
	c->notes = strdup(reason != NULL && *reason != '\0' ? reason :
	    svc_id ? SVC_MAINT_REASON : NODE_MAINT_REASON);
	c->service_id = strdup(svc_id ? svc_id : "");
	c->output = strdup("");
	c->http = strdup("");
	c->method = strdup("");
	c->body = strdup("");
	c->tls_server_name = strdup("");
	c->tcp = strdup("");
	c->udp = strdup("");
	c->alias_service = strdup("");
	c->status = CHECK_CRITICAL;
	c->status_given = true;
	c->maint = true;
	c->type = CT_NONE;
	c->source = SRC_API;
	if (!c->name || !c->notes || !c->service_id || !c->output ||
	    !c->http || !c->method || !c->body || !c->tls_server_name ||
	    !c->tcp || !c->udp || !c->alias_service) {
		chk_free(c);
		return ERR_NOMEM;
	}
	log_info("%s maintenance enabled: %s", svc_id ? svc_id : "node",
	    c->notes);
	rc = 0;
	local_insert_chk(cd, c, true);
	run_alias_update(cd);
	sync_kick(cd);
	return rc;
}

const char *
local_aggregate(const struct checkd *cd, const struct svc *s)
{
	const struct chk *c;
	int worst = CHECK_PASSING, pass;

	/* the service's own checks, then the node's */
	for (pass = 0; pass < 2; pass++)
		for (c = local_svc_chk(cd, pass == 0 ? s->id : "");
		    c != NULL; c = local_svc_chk_next(c)) {
			if (c->maint)
				return "maintenance";
			if (c->status > worst)
				worst = c->status;
		}
	return check_status_str(worst);
}

int
local_load_config(struct checkd *cd, const struct config *cfg)
{
	struct svc_def *defs = NULL;
	struct chk *checks = NULL, *c, *next, *n;
	struct svc *s, *snext;
	char err[512];
	size_t nd = 0, i;
	int st, rc;

	if ((rc = defn_config_services(cfg->services_json, &defs, &nd, err,
	    sizeof(err))) != 0) {
		log_warnx("config services: %s", err);
		return rc;
	}
	if ((rc = defn_config_checks(cfg->checks_json, &checks, err,
	    sizeof(err))) != 0) {
		log_warnx("config checks: %s", err);
		for (i = 0; i < nd; i++)
			defn_svc_def_free(&defs[i]);
		free(defs);
		return rc;
	}
	/* drop file entries the new configuration no longer has */
	for (s = cd->svcs; s != NULL; s = snext) {
		snext = s->next;
		if (s->source != SRC_FILE)
			continue;
		for (i = 0; i < nd; i++)
			if (strcmp(defs[i].svc->id, s->id) == 0)
				break;
		if (i == nd) {
			log_info("service %s: removed from the configuration",
			    s->id);
			local_remove_service(cd, s->id);
			snext = cd->svcs; /* the list changed */
		}
	}
	for (c = cd->chks; c != NULL; c = next) {
		next = c->next;
		if (c->source != SRC_FILE || *c->service_id != '\0')
			continue;
		for (n = checks; n != NULL; n = n->next)
			if (strcmp(n->id, c->id) == 0)
				break;
		if (n == NULL) {
			local_remove_check(cd, c->id);
			next = cd->chks;
		}
	}
	for (i = 0; i < nd; i++)
		if (local_add_service(cd, &defs[i], true, false, err,
		    sizeof(err), &st) != 0)
			log_warnx("config service: %s", err);
	free(defs);
	for (c = checks; c != NULL; c = next) {
		next = c->next;
		c->next = NULL;
		if (local_add_check(cd, c, false, err, sizeof(err), &st) != 0)
			log_warnx("config check: %s", err);
	}
	return 0;
}
