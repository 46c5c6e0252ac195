/*
 * catalog_read.c — the reads of the catalog state machine (see
 * catalog.h catalog_get): the answers behind /v1/catalog and /v1/health
 * (nodes, services, one service's instances with their node and checks,
 * a node's services and checks, checks by state), with ?tag, ?node-meta
 * and ?passing, and the key a blocking read of them waits on.
 *
 * Key decisions. Reads see the store as of the last applied entry,
 * walked by prefix (kv_each) and copied into a reusable struct
 * catalog_read. Service reads answer the per-service index, or the
 * services (health: services and checks) table index when the service
 * has no instance, as Consul's maxIndexForService. Names are looked up
 * lowercased, as Consul's memdb indexes ignore case.
 * Reference: Consul agent/consul/state/catalog.go, health endpoints;
 * spec §1.5, §3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog_int.h"
#include "err.h"
#include "kv.h"
#include "log.h"
#include "store.h"

void
catalog_read_init(struct catalog_read *r)
{
	memset(r, 0, sizeof(*r));
	proto_arena_init(&r->arena);
}

void
catalog_read_fini(struct catalog_read *r)
{
	free(r->res.nodes);
	free(r->res.services);
	free(r->res.checks);
	proto_arena_free(&r->arena);
	memset(r, 0, sizeof(*r));
}

static void
cat_read_reset(struct catalog_read *r)
{
	proto_arena_reset(&r->arena);
	memset(&r->res.meta, 0, sizeof(r->res.meta));
	r->res.found = false;
	r->res.n_nodes = r->res.n_services = r->res.n_checks = 0;
	r->instances = false;
}

static int
cat_add_node(struct catalog_read *r, const struct proto_cat_node *n)
{
	if (kv_grow_array((void **)&r->res.nodes, &r->cap_nodes,
	    r->res.n_nodes, sizeof(*n)) != 0)
		return ERR_NOMEM;
	r->res.nodes[r->res.n_nodes++] = *n;
	return 0;
}

static int
cat_add_service(struct catalog_read *r, const struct proto_cat_service *s)
{
	if (kv_grow_array((void **)&r->res.services, &r->cap_services,
	    r->res.n_services, sizeof(*s)) != 0)
		return ERR_NOMEM;
	r->res.services[r->res.n_services++] = *s;
	return 0;
}

static int
cat_add_check(struct catalog_read *r, const struct proto_cat_check *k)
{
	if (kv_grow_array((void **)&r->res.checks, &r->cap_checks,
	    r->res.n_checks, sizeof(*k)) != 0)
		return ERR_NOMEM;
	r->res.checks[r->res.n_checks++] = *k;
	return 0;
}

/* Whether node meta m has every pair of want. */
static bool
cat_meta_match(const struct proto_strmap *m, const struct proto_strmap *want)
{
	for (uint32_t i = 0; i < want->n; i++) {
		bool ok = false;

		for (uint32_t j = 0; j < m->n && !ok; j++)
			ok = cat_streq(m->keys[j], want->keys[i]) &&
			    cat_streq(m->vals[j], want->vals[i]);
		if (!ok)
			return false;
	}
	return true;
}

/* Whether service tags have every one of want (ignoring case). */
static bool
cat_tags_match(const struct proto_str_array *tags,
    const struct proto_str_array *want)
{
	for (uint32_t i = 0; i < want->n; i++) {
		bool ok = false;

		for (uint32_t j = 0; j < tags->n && !ok; j++)
			ok = cat_strcaseeq(tags->v[j], want->v[i]);
		if (!ok)
			return false;
	}
	return true;
}

struct cat_rd {
	struct catalog *c;
	struct catalog_read *r;
	const struct msg_catalog_get *q;
};

/* Reads node name into *n; ERR_NOTFOUND when absent. */
static int
cat_read_node(struct cat_rd *x, struct proto_str name,
    struct proto_cat_node *n)
{
	struct msg_catalog_get_result *rec;
	char *k;
	size_t klen;
	int rc;

	if ((rc = cat_key(&x->r->arena, 'n', &name, NULL, NULL, &k,
	    &klen)) != 0)
		return rc;
	if ((rc = cat_get(x->c->store, &x->r->arena, k, klen, &rec, NULL,
	    NULL)) != 0)
		return rc;
	if (rec->n_nodes != 1)
		return ERR_CORRUPT;
	*n = rec->nodes[0];
	return 0;
}

static int
cat_nodes_cb(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
    size_t vlen)
{
	struct cat_rd *x = ctx;
	struct msg_catalog_get_result *rec;
	int rc;

	(void)k;
	(void)klen;
	if ((rc = cat_decode(&x->r->arena, v, vlen, &rec)) != 0)
		return rc;
	if (rec->n_nodes != 1)
		return ERR_CORRUPT;
	if (!cat_meta_match(&rec->nodes[0].meta, &x->q->node_meta))
		return 0;
	return cat_add_node(x->r, &rec->nodes[0]);
}

static int
cat_services_cb(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
    size_t vlen)
{
	struct cat_rd *x = ctx;
	struct msg_catalog_get_result *rec;
	int rc;

	(void)k;
	(void)klen;
	if ((rc = cat_decode(&x->r->arena, v, vlen, &rec)) != 0)
		return rc;
	if (rec->n_services != 1)
		return ERR_CORRUPT;
	if (x->q->node_meta.n > 0 || x->q->what == CATALOG_SERVICES_ALL) {
		/* services are in node order: the last node read is cached */
		struct proto_cat_node *last = x->r->res.n_nodes ?
		    &x->r->res.nodes[x->r->res.n_nodes - 1] : NULL;
		struct proto_cat_node n;

		if (last == NULL || !cat_strcaseeq(last->node,
		    rec->services[0].node)) {
			if ((rc = cat_read_node(x, rec->services[0].node,
			    &n)) != 0)
				return rc == ERR_NOTFOUND ? 0 : rc;
			if ((rc = cat_add_node(x->r, &n)) != 0)
				return rc;
			last = &x->r->res.nodes[x->r->res.n_nodes - 1];
		}
		if (!cat_meta_match(&last->meta, &x->q->node_meta))
			return 0;
	}
	return cat_add_service(x->r, &rec->services[0]);
}

static int
cat_svc_name_cmp(const void *a, const void *b)
{
	const struct proto_cat_service *x = a, *y = b;
	int c = cat_strcmp(x->service, y->service);

	if (c != 0)
		return c;
	c = cat_strcmp(x->node, y->node);
	return c != 0 ? c : cat_strcmp(x->id, y->id);
}

static int
cat_str_cmp(const void *a, const void *b)
{
	return cat_strcmp(*(const struct proto_str *)a,
	    *(const struct proto_str *)b);
}

/* Folds services[] into one element per name with the sorted tag union. */
static int
cat_fold_services(struct catalog_read *r)
{
	struct proto_cat_service *s = r->res.services;
	uint32_t i, j, out = 0;

	if (r->res.n_services > 0)
		qsort(s, r->res.n_services, sizeof(*s), cat_svc_name_cmp);
	for (i = 0; i < r->res.n_services; i = j) {
		uint32_t ntags = 0, n = 0;
		struct proto_str *tags;

		for (j = i; j < r->res.n_services &&
		    cat_streq(s[j].service, s[i].service); j++)
			ntags += s[j].tags.n;
		tags = proto_arena_alloc(&r->arena,
		    (ntags ? ntags : 1) * sizeof(*tags));
		if (tags == NULL)
			return ERR_NOMEM;
		for (uint32_t m = i; m < j; m++)
			for (uint32_t t = 0; t < s[m].tags.n; t++)
				tags[n++] = s[m].tags.v[t];
		if (n > 0)
			qsort(tags, n, sizeof(*tags), cat_str_cmp);
		ntags = 0;
		for (uint32_t t = 0; t < n; t++)
			if (ntags == 0 || !cat_streq(tags[ntags - 1], tags[t]))
				tags[ntags++] = tags[t];
		s[out] = s[i];
		s[out].tags.v = tags;
		s[out].tags.n = ntags;
		out++;
	}
	r->res.n_services = out;
	r->res.n_nodes = 0; /* used only as the meta cache */
	return 0;
}

/* One instance of a service-name index key 'w' name \0 node \0 id. */
struct cat_inst {
	struct proto_str node, id;
};

struct cat_insts {
	struct cat_inst *v;
	uint32_t n, cap;
	size_t plen; /* the 'w' name \0 prefix length */
};

static int
cat_inst_cb(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
    size_t vlen)
{
	struct cat_insts *l = ((struct cat_insts **)ctx)[0];
	struct proto_arena *a = ((struct proto_arena **)ctx)[1];
	const char *rest = (const char *)k + l->plen, *sep;
	size_t rlen = klen - l->plen;
	char *copy;

	(void)v;
	(void)vlen;
	if ((sep = memchr(rest, '\0', rlen)) == NULL)
		return ERR_CORRUPT;
	if (kv_grow_array((void **)&l->v, &l->cap, l->n, sizeof(*l->v)) != 0 ||
	    (copy = proto_arena_alloc(a, rlen)) == NULL)
		return ERR_NOMEM;
	memcpy(copy, rest, rlen);
	l->v[l->n].node.ptr = copy;
	l->v[l->n].node.len = (uint32_t)(sep - rest);
	l->v[l->n].id.ptr = copy + (sep - rest) + 1;
	l->v[l->n].id.len = (uint32_t)(rlen - (size_t)(sep - rest) - 1);
	l->n++;
	return 0;
}

/* The instances of service name, in node then ID order. */
static int
cat_instances(struct cat_rd *x, struct proto_str name, struct cat_insts *l)
{
	struct proto_str empty = { "", 0 };
	void *ctx[2] = { l, &x->r->arena };
	char *k;
	size_t klen;
	int rc;

	if ((rc = cat_key(&x->r->arena, 'w', &name, &empty, NULL, &k,
	    &klen)) != 0)
		return rc;
	l->plen = klen;
	return kv_each(x->c->store, k, klen, cat_inst_cb, ctx);
}

static int
cat_read_service(struct cat_rd *x, struct cat_inst *in,
    struct proto_cat_service *s)
{
	struct msg_catalog_get_result *rec;
	char *k;
	size_t klen;
	int rc;

	if ((rc = cat_key(&x->r->arena, 'v', &in->node, &in->id, NULL, &k,
	    &klen)) != 0)
		return rc;
	if ((rc = cat_get(x->c->store, &x->r->arena, k, klen, &rec, NULL,
	    NULL)) != 0)
		return rc == ERR_NOTFOUND ? ERR_CORRUPT : rc;
	if (rec->n_services != 1)
		return ERR_CORRUPT;
	*s = rec->services[0];
	return 0;
}

struct cat_chk {
	struct cat_rd *x;
	struct proto_str service_id; /* only these (with node_level) */
	bool all;                    /* every check */
	bool node_level;             /* and the node's own checks */
	const struct proto_str *state; /* status filter, NULL: any */
	const struct proto_str *service_name; /* filter, NULL: any */
};

static int
cat_checks_cb(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
    size_t vlen)
{
	struct cat_chk *f = ctx;
	struct msg_catalog_get_result *rec;
	const struct proto_cat_check *ck;
	int rc;

	(void)k;
	(void)klen;
	if ((rc = cat_decode(&f->x->r->arena, v, vlen, &rec)) != 0)
		return rc;
	if (rec->n_checks != 1)
		return ERR_CORRUPT;
	ck = &rec->checks[0];
	if (f->state != NULL && !cat_streq(ck->status, *f->state))
		return 0;
	if (f->service_name != NULL && !cat_streq(ck->service_name,
	    *f->service_name))
		return 0;
	if (!f->all && !(f->node_level && ck->service_id.len == 0) &&
	    !(f->service_id.len > 0 && cat_strcaseeq(ck->service_id,
	    f->service_id)))
		return 0;
	return cat_add_check(f->x->r, ck);
}

static int
cat_node_checks(struct cat_rd *x, struct cat_chk *f, struct proto_str node)
{
	struct proto_str empty = { "", 0 };
	char *k;
	size_t klen;
	int rc;

	if ((rc = cat_key(&x->r->arena, 'c', &node, &empty, NULL, &k,
	    &klen)) != 0)
		return rc;
	return kv_each(x->c->store, k, klen, cat_checks_cb, f);
}

/* catalog/service, health/service and health/checks of q->name. */
static int
cat_get_instances(struct cat_rd *x)
{
	const struct msg_catalog_get *q = x->q;
	struct catalog_read *r = x->r;
	struct cat_insts l = { 0 };
	struct proto_cat_service s;
	struct proto_cat_node n;
	uint32_t i, first_check;
	int rc;

	if ((rc = cat_instances(x, q->name, &l)) != 0)
		goto out;
	r->instances = l.n > 0;
	for (i = 0; i < l.n; i++) {
		bool new_node = r->res.n_nodes == 0 ||
		    !cat_strcaseeq(r->res.nodes[r->res.n_nodes - 1].node,
		    l.v[i].node);

		if ((rc = cat_read_service(x, &l.v[i], &s)) != 0)
			goto out;
		if (!cat_tags_match(&s.tags, &q->tags))
			continue;
		if (new_node) {
			rc = cat_read_node(x, l.v[i].node, &n);
			if (rc == ERR_NOTFOUND) {
				rc = 0;
				continue;
			}
			if (rc != 0)
				goto out;
			if (!cat_meta_match(&n.meta, &q->node_meta))
				continue;
		} else if (!cat_meta_match(
		    &r->res.nodes[r->res.n_nodes - 1].meta, &q->node_meta))
			continue;
		first_check = r->res.n_checks;
		if (q->what != CATALOG_SERVICE) {
			struct cat_chk f = { x, s.id, false,
			    q->what == CATALOG_HEALTH_SERVICE, NULL, NULL };

			if ((rc = cat_node_checks(x, &f, s.node)) != 0)
				goto out;
		}
		if (q->what == CATALOG_HEALTH_SERVICE && q->passing) {
			bool ok = true;

			for (uint32_t j = first_check; j < r->res.n_checks; j++)
				if (!proto_str_eq(r->res.checks[j].status,
				    "passing"))
					ok = false;
			if (!ok) {
				r->res.n_checks = first_check;
				continue;
			}
		}
		if (q->what == CATALOG_HEALTH_SERVICE && !new_node) {
			/* the node's own checks are there once already */
			uint32_t out = first_check;

			for (uint32_t j = first_check; j < r->res.n_checks; j++)
				if (r->res.checks[j].service_id.len > 0)
					r->res.checks[out++] = r->res.checks[j];
			r->res.n_checks = out;
		}
		if (new_node && q->what != CATALOG_HEALTH_CHECKS &&
		    (rc = cat_add_node(r, &n)) != 0)
			goto out;
		if (q->what != CATALOG_HEALTH_CHECKS &&
		    (rc = cat_add_service(r, &s)) != 0)
			goto out;
	}
out:
	free(l.v);
	return rc;
}

static uint64_t
cat_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* The per-service index of name, 0 when none is stored. */
static int
cat_service_index(struct cat_rd *x, struct proto_str name, uint64_t *idx)
{
	char *k;
	size_t klen;
	int rc;

	if ((rc = cat_key(&x->r->arena, 'i', &name, NULL, NULL, &k,
	    &klen)) != 0)
		return rc;
	return cat_load_u64(x->c->store, k, klen, idx);
}

static int
cat_get_node(struct cat_rd *x)
{
	struct proto_str empty = { "", 0 };
	struct proto_cat_node n;
	char *k;
	size_t klen;
	int rc;

	x->r->res.meta.index = cat_max(x->c->nodes, x->c->services);
	rc = cat_read_node(x, x->q->name, &n);
	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc != 0 || (rc = cat_add_node(x->r, &n)) != 0)
		return rc;
	x->r->res.found = true;
	if ((rc = cat_key(&x->r->arena, 'v', &x->q->name, &empty, NULL, &k,
	    &klen)) != 0)
		return rc;
	x->r->res.n_nodes = 0; /* the services callback's node cache */
	{
		struct msg_catalog_get q2 = *x->q;
		struct cat_rd y = { x->c, x->r, &q2 };

		q2.node_meta.n = 0;
		rc = kv_each(x->c->store, k, klen, cat_services_cb, &y);
	}
	x->r->res.nodes[0] = n;
	x->r->res.n_nodes = 1;
	return rc;
}

int
catalog_get(struct catalog *c, const struct msg_catalog_get *q,
    struct catalog_read *r)
{
	struct cat_rd x = { c, r, q };
	struct proto_str state = q->name;
	struct cat_chk f = { &x, { "", 0 }, true, false, NULL, NULL };
	uint64_t idx;
	int rc = 0;

	cat_read_reset(r);
	switch (q->what) {
	case CATALOG_NODES:
		r->res.meta.index = c->nodes;
		rc = kv_each(c->store, "n", 1, cat_nodes_cb, &x);
		break;
	case CATALOG_SERVICES:
		r->res.meta.index = c->services;
		if ((rc = kv_each(c->store, "v", 1, cat_services_cb,
		    &x)) == 0)
			rc = cat_fold_services(r);
		break;
	case CATALOG_SERVICES_ALL: /* httpd folds what its ?filter keeps */
		r->res.meta.index = c->services;
		rc = kv_each(c->store, "v", 1, cat_services_cb, &x);
		break;
	case CATALOG_SERVICE:
	case CATALOG_HEALTH_SERVICE:
	case CATALOG_HEALTH_CHECKS:
		if ((rc = cat_get_instances(&x)) != 0)
			break;
		if (q->what == CATALOG_HEALTH_CHECKS) {
			r->res.meta.index = c->checks;
			break;
		}
		if ((rc = cat_service_index(&x, q->name, &idx)) != 0)
			break;
		if (r->instances && idx != 0)
			r->res.meta.index = idx;
		else if (q->what == CATALOG_SERVICE)
			r->res.meta.index = c->services;
		else
			r->res.meta.index = cat_max(c->services, c->checks);
		break;
	case CATALOG_NODE:
	case CATALOG_NODE_SERVICES:
		rc = cat_get_node(&x);
		break;
	case CATALOG_HEALTH_NODE:
		r->res.meta.index = c->checks;
		rc = cat_node_checks(&x, &f, q->name);
		break;
	case CATALOG_HEALTH_STATE:
		if (!proto_str_eq(state, "any") &&
		    !proto_str_eq(state, "passing") &&
		    !proto_str_eq(state, "warning") &&
		    !proto_str_eq(state, "critical")) {
			rc = ERR_INVAL;
			break;
		}
		r->res.meta.index = c->checks;
		if (!proto_str_eq(state, "any"))
			f.state = &state;
		rc = kv_each(c->store, "c", 1, cat_checks_cb, &f);
		break;
	default:
		rc = ERR_INVAL;
		break;
	}
	if (rc != 0) {
		if (rc != ERR_INVAL)
			log_warnx("catalog: read failed: %s", err_str(rc));
		cat_read_reset(r);
		return rc;
	}
	if (r->res.meta.index == 0)
		r->res.meta.index = 1;
	return 0;
}

size_t
catalog_watch_key(const struct msg_catalog_get *q,
    const struct catalog_read *r, char *buf, size_t size)
{
	bool svc = (q->what == CATALOG_SERVICE ||
	    q->what == CATALOG_HEALTH_SERVICE) && r->instances;
	size_t n = CATALOG_WATCH_SVC_LEN + q->name.len;

	if (!svc || n > size) {
		memcpy(buf, CATALOG_WATCH_ALL, CATALOG_WATCH_ALL_LEN);
		return CATALOG_WATCH_ALL_LEN;
	}
	memcpy(buf, CATALOG_WATCH_SVC, CATALOG_WATCH_SVC_LEN);
	cat_lower(buf + CATALOG_WATCH_SVC_LEN, q->name.ptr, q->name.len);
	return n;
}
