/*
 * catalog_write.c — the writes of the catalog state machine (see
 * catalog.h): Consul's Catalog.Register and Catalog.Deregister applied
 * as log entries, and the hooks /v1/txn's Node, Service and Check verbs
 * use (catalog_txn_*).
 *
 * Key decisions. A write re-encodes each record with its stored indexes
 * and compares the bytes (cat_upsert), so an unchanged record keeps its
 * ModifyIndex and moves no table index (Consul's IsSame checks; maps are
 * sorted before encoding so their order does not count). Index rules
 * follow Consul's state store: a service change bumps the services
 * table and that service's index; a check change bumps the checks table
 * and the index of its service, or of every service on the node for a
 * node-level check; a changed node bumps the nodes table and every
 * service on it. A write looks at what it already queued in the same
 * entry (the node and service it registers) explicitly. Every write
 * goes through cat_apply: batch, dedup, exec, indexes, commit.
 * Reference: Consul agent/consul/state/catalog.go
 * ensureRegistrationTxn, ensureCheckTxn, deleteServiceTxn,
 * deleteNodeTxn; spec §1.5, §3.2.
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

static void
cat_fail(struct kv_result *res, int err, const char *msg)
{
	res->err = err;
	snprintf(res->msg, sizeof(res->msg), "%s", msg);
}

/* Remembers that the index of service name moves with this write. */
static int
cat_bump(struct catalog *c, struct proto_str name)
{
	char *p;

	for (size_t i = 0; i < c->n_bump; i++)
		if (cat_strcaseeq(c->bump[i], name))
			return 0;
	if (c->n_bump == c->cap_bump) {
		size_t ncap = c->cap_bump ? 2 * c->cap_bump : 16;
		struct proto_str *nb = proto_arena_alloc(&c->arena,
		    ncap * sizeof(*nb));

		if (nb == NULL)
			return ERR_NOMEM;
		if (c->n_bump > 0)
			memcpy(nb, c->bump, c->n_bump * sizeof(*nb));
		c->bump = nb;
		c->cap_bump = ncap;
	}
	if ((p = proto_arena_alloc(&c->arena, name.len + 1)) == NULL)
		return ERR_NOMEM;
	if (name.len > 0)
		memcpy(p, name.ptr, name.len);
	c->bump[c->n_bump].ptr = p;
	c->bump[c->n_bump].len = name.len;
	c->n_bump++;
	return 0;
}

static int
cat_bump_one(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
    size_t vlen)
{
	struct catalog *c = ctx;
	struct msg_catalog_get_result *r;
	int rc;

	(void)k;
	(void)klen;
	if ((rc = cat_decode(&c->arena, v, vlen, &r)) != 0)
		return rc;
	if (r->n_services != 1)
		return ERR_CORRUPT;
	return cat_bump(c, r->services[0].service);
}

/* Bumps every service stored on node (Consul updateAllServiceIndexes). */
static int
cat_bump_node(struct catalog *c, struct proto_str node)
{
	char *k;
	size_t klen;
	struct proto_str empty = { "", 0 };
	int rc;

	if ((rc = cat_key(&c->arena, 'v', &node, &empty, NULL, &k,
	    &klen)) != 0)
		return rc;
	return cat_weach(c, k, klen, cat_bump_one, c);
}

static bool
cat_name_ok(struct proto_str s)
{
	return s.len == 0 || (s.len <= CAT_NAME_MAX &&
	    memchr(s.ptr, '\0', s.len) == NULL);
}

static bool
cat_status_ok(struct proto_str s)
{
	return proto_str_eq(s, "passing") || proto_str_eq(s, "warning") ||
	    proto_str_eq(s, "critical");
}

/* Validates op before anything is written; fills res on a refusal. */
static bool
cat_register_valid(const struct msg_catalog_register *op,
    struct kv_result *res)
{
	uint32_t i;

	if (op->node.node.len == 0) {
		cat_fail(res, ERR_INVAL, "Missing node name");
		return false;
	}
	if (!cat_name_ok(op->node.node)) {
		cat_fail(res, ERR_INVAL, "Invalid node name");
		return false;
	}
	if (op->n_services > 1) {
		cat_fail(res, ERR_INVAL, "one service per registration");
		return false;
	}
	for (i = 0; i < op->n_services; i++) {
		const struct proto_cat_service *s = &op->services[i];

		if (!cat_name_ok(s->id) || !cat_name_ok(s->service)) {
			cat_fail(res, ERR_INVAL, "Invalid service name");
			return false;
		}
		if (s->service.len == 0) {
			cat_fail(res, ERR_INVAL,
			    "Must provide service name with ID");
			return false;
		}
	}
	for (i = 0; i < op->n_checks; i++) {
		const struct proto_cat_check *k = &op->checks[i];

		if (!cat_name_ok(k->check_id) || !cat_name_ok(k->name) ||
		    !cat_name_ok(k->service_id)) {
			cat_fail(res, ERR_INVAL, "Invalid check name");
			return false;
		}
		if (k->check_id.len == 0 && k->name.len == 0) {
			cat_fail(res, ERR_INVAL, "Missing check ID");
			return false;
		}
		if (k->status.len > 0 && !cat_status_ok(k->status)) {
			res->err = ERR_INVAL;
			snprintf(res->msg, sizeof(res->msg),
			    "Invalid check status: \"%.*s\"",
			    (int)(k->status.len > 64 ? 64 : k->status.len),
			    k->status.ptr);
			return false;
		}
		if (k->node.len > 0 && !cat_strcaseeq(k->node, op->node.node)) {
			res->err = ERR_INVAL;
			snprintf(res->msg, sizeof(res->msg), "Node '%.*s' for "
			    "check does not match register request node",
			    (int)(k->node.len > 64 ? 64 : k->node.len),
			    k->node.ptr);
			return false;
		}
	}
	return true;
}

/*
 * The write of one record at k (the node n, service s or check ck, one
 * of them set) whose *modify is the stored modify index: encoded so,
 * it is compared with the stored bytes raw; the same, nothing is
 * written (*changed false); else, unless dry, it is written with modify
 * index `index`.
 */
static int
cat_upsert(struct catalog *c, const char *k, size_t klen,
    const uint8_t *raw, size_t rawlen, const struct proto_cat_node *n,
    const struct proto_cat_service *s, const struct proto_cat_check *ck,
    uint64_t *modify, uint64_t index, bool dry, bool *changed)
{
	struct proto_buf b;
	int rc;

	if ((rc = cat_encode(n, s, ck, &b)) != 0)
		return rc;
	*changed = !cat_same(&b, raw, rawlen);
	proto_buf_free(&b);
	if (!*changed || dry)
		return 0;
	*modify = index;
	if ((rc = cat_encode(n, s, ck, &b)) != 0)
		return rc;
	cat_bput(c, k, klen, b.data, b.len);
	proto_buf_free(&b);
	return 0;
}

/* Upserts the node; *exists tells whether it is (now) present. */
static int
cat_put_node(struct catalog *c, uint64_t index,
    const struct msg_catalog_register *op, bool dry, bool *exists,
    bool *changed)
{
	struct msg_catalog_get_result *cur = NULL;
	struct proto_cat_node n = op->node;
	const uint8_t *raw = NULL;
	size_t klen, rawlen = 0;
	char *k;
	int rc;

	*changed = false;
	if ((rc = cat_key(&c->arena, 'n', &n.node, NULL, NULL, &k,
	    &klen)) != 0)
		return rc;
	rc = cat_wget(c, k, klen, &cur, &raw, &rawlen);
	if (rc != 0 && rc != ERR_NOTFOUND)
		return rc;
	*exists = rc == 0;
	if (op->skip_node_update)
		return 0;
	if (rc == 0 && cur->n_nodes != 1)
		return ERR_CORRUPT;
	if ((rc = cat_sort_map(&c->arena, &n.tagged_addresses)) != 0 ||
	    (rc = cat_sort_map(&c->arena, &n.meta)) != 0)
		return rc;
	n.create_index = *exists ? cur->nodes[0].create_index : index;
	n.modify_index = *exists ? cur->nodes[0].modify_index : index;
	if ((rc = cat_upsert(c, k, klen, raw, rawlen, &n, NULL, NULL,
	    &n.modify_index, index, dry, changed)) != 0 || !*changed)
		return rc;
	*exists = true;
	if (dry)
		return 0;
	c->node_changed = true;
	return cat_bump_node(c, n.node);
}

/* Queues the service-name index entry of (name, node, id). */
static int
cat_name_index(struct catalog *c, struct proto_str name,
    struct proto_str node, struct proto_str id, bool put)
{
	char *k;
	size_t klen;
	int rc;

	if ((rc = cat_key(&c->arena, 'w', &name, &node, &id, &k, &klen)) != 0)
		return rc;
	if (put)
		cat_bput(c, k, klen, "", 0);
	else
		cat_bdel(c, k, klen);
	return 0;
}

static int
cat_put_service(struct catalog *c, uint64_t index,
    const struct msg_catalog_register *op, struct proto_cat_service *s,
    bool dry, bool *changed)
{
	struct msg_catalog_get_result *cur = NULL;
	const uint8_t *raw = NULL;
	size_t klen, rawlen = 0;
	char *k;
	int rc;

	*changed = false;
	s->node = op->node.node;
	if (s->id.len == 0)
		s->id = s->service;
	if ((rc = cat_key(&c->arena, 'v', &s->node, &s->id, NULL, &k,
	    &klen)) != 0)
		return rc;
	rc = cat_wget(c, k, klen, &cur, &raw, &rawlen);
	if (rc != 0 && rc != ERR_NOTFOUND)
		return rc;
	if (rc == 0 && cur->n_services != 1)
		return ERR_CORRUPT;
	if ((rc = cat_sort_map(&c->arena, &s->meta)) != 0)
		return rc;
	s->create_index = raw ? cur->services[0].create_index : index;
	s->modify_index = raw ? cur->services[0].modify_index : index;
	if ((rc = cat_upsert(c, k, klen, raw, rawlen, NULL, s, NULL,
	    &s->modify_index, index, dry, changed)) != 0 || !*changed ||
	    dry)
		return rc;
	c->services_changed = true;
	if (raw != NULL && !cat_strcaseeq(cur->services[0].service,
	    s->service)) {
		/* renamed: the old name loses an instance */
		if ((rc = cat_name_index(c, cur->services[0].service, s->node,
		    s->id, false)) != 0 ||
		    (rc = cat_bump(c, cur->services[0].service)) != 0)
			return rc;
	}
	if ((rc = cat_name_index(c, s->service, s->node, s->id, true)) != 0)
		return rc;
	return cat_bump(c, s->service);
}

static int
cat_put_check(struct catalog *c, uint64_t index,
    const struct msg_catalog_register *op, const struct proto_cat_check *in,
    bool dry, bool *changed, struct kv_result *res)
{
	struct msg_catalog_get_result *cur = NULL, *svc = NULL;
	const struct proto_cat_service *sv = NULL;
	struct proto_cat_check ck = *in;
	const uint8_t *raw = NULL;
	size_t klen, rawlen = 0;
	char *k;
	int rc;

	*changed = false;
	ck.node = op->node.node;
	if (ck.check_id.len == 0)
		ck.check_id = ck.name;
	if (ck.status.len == 0)
		ck.status = proto_str_c("critical"); /* Consul's default */
	if (ck.service_id.len > 0) {
		/* the service registered by this same request, else stored */
		if (op->n_services == 1 &&
		    cat_strcaseeq(op->services[0].id, ck.service_id)) {
			sv = &op->services[0];
		} else {
			if ((rc = cat_key(&c->arena, 'v', &ck.node,
			    &ck.service_id, NULL, &k, &klen)) != 0)
				return rc;
			rc = cat_wget(c, k, klen, &svc, NULL, NULL);
			if (rc == ERR_NOTFOUND) {
				cat_fail(res, ERR_NOTFOUND, "failed inserting "
				    "check: Missing service registration");
				return 0;
			}
			if (rc != 0)
				return rc;
			if (svc->n_services != 1)
				return ERR_CORRUPT;
			sv = &svc->services[0];
		}
		ck.service_name = sv->service;
		ck.service_tags = sv->tags;
	} else {
		ck.service_name.len = 0;
		ck.service_tags.n = 0;
	}
	if ((rc = cat_key(&c->arena, 'c', &ck.node, &ck.check_id, NULL, &k,
	    &klen)) != 0)
		return rc;
	rc = cat_wget(c, k, klen, &cur, &raw, &rawlen);
	if (rc != 0 && rc != ERR_NOTFOUND)
		return rc;
	if (rc == 0 && cur->n_checks != 1)
		return ERR_CORRUPT;
	ck.create_index = raw ? cur->checks[0].create_index : index;
	ck.modify_index = raw ? cur->checks[0].modify_index : index;
	if ((rc = cat_upsert(c, k, klen, raw, rawlen, NULL, NULL, &ck,
	    &ck.modify_index, index, dry, changed)) != 0 || !*changed ||
	    dry)
		return rc;
	c->checks_changed = true;
	/* the service it belonged to before, or its node's, if it moved */
	if (raw != NULL && cur->checks[0].service_name.len > 0 &&
	    (rc = cat_bump(c, cur->checks[0].service_name)) != 0)
		return rc;
	if (raw != NULL && cur->checks[0].service_id.len == 0 && sv != NULL &&
	    (rc = cat_bump_node(c, ck.node)) != 0)
		return rc;
	if (sv != NULL)
		return cat_bump(c, sv->service);
	if ((rc = cat_bump_node(c, ck.node)) != 0)
		return rc;
	/* and the service this request registers, not stored yet */
	if (op->n_services == 1)
		return cat_bump(c, op->services[0].service);
	return 0;
}

/* Runs a register; dry: only tells whether it changes anything. */
static int
cat_register_exec(struct catalog *c, uint64_t index,
    const struct msg_catalog_register *op, bool dry, bool *any,
    struct kv_result *res)
{
	struct proto_cat_service s;
	bool exists, changed;
	uint32_t i;
	int rc;

	*any = false;
	if (!cat_register_valid(op, res))
		return 0;
	if ((rc = cat_put_node(c, index, op, dry, &exists, &changed)) != 0)
		return rc;
	*any |= changed;
	if (!exists && (op->n_services > 0 || op->n_checks > 0)) {
		cat_fail(res, ERR_NOTFOUND, "failed inserting service: "
		    "Missing node registration");
		return 0;
	}
	if (op->n_services == 1) {
		s = op->services[0];
		if ((rc = cat_put_service(c, index, op, &s, dry,
		    &changed)) != 0)
			return rc;
		*any |= changed;
	}
	for (i = 0; i < op->n_checks; i++) {
		struct msg_catalog_register op2 = *op;

		/* a check names the service by the defaulted ID */
		if (op->n_services == 1) {
			op2.services = &s;
		}
		if ((rc = cat_put_check(c, index, &op2, &op->checks[i], dry,
		    &changed, res)) != 0 || res->err != 0)
			return rc;
		*any |= changed;
	}
	res->ok = true;
	return 0;
}

static void
cat_begin(struct catalog *c)
{
	proto_arena_reset(&c->arena);
	c->node_changed = c->services_changed = c->checks_changed = false;
	c->bump = NULL;
	c->n_bump = c->cap_bump = 0;
}

/* Queues the table indexes and per-service indexes this write moves. */
static int
cat_put_indexes(struct catalog *c, uint64_t index)
{
	size_t i;
	int rc;

	if (c->node_changed)
		cat_put_u64(c, CAT_KEY_NODES, index);
	if (c->services_changed)
		cat_put_u64(c, CAT_KEY_SERVICES, index);
	if (c->checks_changed)
		cat_put_u64(c, CAT_KEY_CHECKS, index);
	for (i = 0; i < c->n_bump; i++) {
		char *k;
		size_t klen;
		uint8_t v[8];

		if ((rc = cat_key(&c->arena, 'i', &c->bump[i], NULL, NULL, &k,
		    &klen)) != 0)
			return rc;
		store_put_be64(v, index);
		cat_bput(c, k, klen, v, sizeof(v));
	}
	return 0;
}

/* After the batch is written: the table indexes, then the watch keys. */
static void
cat_after(struct catalog *c, uint64_t index, kv_touch_cb touch, void *arg)
{
	char key[CATALOG_WATCH_SVC_LEN + CAT_NAME_MAX];
	bool any;

	any = c->node_changed || c->services_changed || c->checks_changed;
	if (c->node_changed)
		c->nodes = index;
	if (c->services_changed)
		c->services = index;
	if (c->checks_changed)
		c->checks = index;
	if (touch == NULL || !any)
		return;
	touch(arg, CATALOG_WATCH_ALL, CATALOG_WATCH_ALL_LEN);
	for (size_t i = 0; i < c->n_bump; i++) {
		memcpy(key, CATALOG_WATCH_SVC, CATALOG_WATCH_SVC_LEN);
		if (c->bump[i].len > 0)
			cat_lower(key + CATALOG_WATCH_SVC_LEN, c->bump[i].ptr,
			    c->bump[i].len);
		touch(arg, key, CATALOG_WATCH_SVC_LEN + c->bump[i].len);
	}
}

/* Writes the indexes, commits the batch and touches the watch keys. */
static int
cat_commit(struct catalog *c, uint64_t index, uint64_t cid, uint64_t seq,
    struct kv_result *res, kv_touch_cb touch, void *arg)
{
	int rc;

	res->index = index;
	if (res->err != 0) {
		/* a refused write changes nothing but the applied index */
		store_batch_clear(c->b);
		c->node_changed = c->services_changed = false;
		c->checks_changed = false;
		c->n_bump = 0;
	}
	if ((rc = cat_put_indexes(c, index)) != 0)
		return rc;
	if ((rc = kv_batch_commit(c->kv, index, cid, seq, res)) != 0)
		return rc;
	cat_after(c, index, touch, arg);
	return 0;
}

/* One write's exec within cat_apply (op is its message). */
typedef int (*cat_exec_fn)(struct catalog *c, uint64_t index, const void *op,
    struct kv_result *res);

/*
 * Applies one catalog write as entry index: the batch, the dedup
 * record of (cid, seq) (a retry already applied only advances the
 * applied index), exec, then the indexes and the commit.
 */
static int
cat_apply(struct catalog *c, uint64_t index, uint64_t cid, uint64_t seq,
    cat_exec_fn exec, const void *op, struct kv_result *res,
    kv_touch_cb touch, void *arg)
{
	int rc;

	memset(res, 0, sizeof(*res));
	if ((c->b = kv_batch_begin(c->kv, index)) == NULL)
		return ERR_INVAL;
	if (cid != 0 && kv_dedup_find(c->kv, cid, seq, res) == 0)
		return kv_apply_skip(c->kv, index);
	cat_begin(c);
	if ((rc = exec(c, index, op, res)) != 0) {
		store_batch_clear(c->b);
		return rc;
	}
	return cat_commit(c, index, cid, seq, res, touch, arg);
}

static int
cat_register_op(struct catalog *c, uint64_t index, const void *op,
    struct kv_result *res)
{
	bool any;

	return cat_register_exec(c, index, op, false, &any, res);
}

int
catalog_register(struct catalog *c, uint64_t index,
    const struct msg_catalog_register *op, struct kv_result *res,
    kv_touch_cb touch, void *arg)
{
	return cat_apply(c, index, op->client_id, op->seq, cat_register_op,
	    op, res, touch, arg);
}

int
catalog_register_changes(struct catalog *c,
    const struct msg_catalog_register *op, bool *changes)
{
	struct kv_result res;
	int rc;

	memset(&res, 0, sizeof(res));
	cat_begin(c);
	rc = cat_register_exec(c, 0, op, true, changes, &res);
	if (rc == 0 && res.err != 0)
		*changes = true; /* let the write report it */
	return rc;
}

/* ---- deregister ---- */

struct cat_del {
	struct catalog *c;
	struct proto_str node;
	bool by_service;             /* checks: only of service_id */
	struct proto_str service_id;
	bool node_gone;              /* the whole node goes */
};

static int
cat_del_check_cb(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
    size_t vlen)
{
	struct cat_del *d = ctx;
	struct msg_catalog_get_result *r;
	int rc;

	if ((rc = cat_decode(&d->c->arena, v, vlen, &r)) != 0)
		return rc;
	if (r->n_checks != 1)
		return ERR_CORRUPT;
	if (d->by_service && !cat_strcaseeq(r->checks[0].service_id,
	    d->service_id))
		return 0;
	cat_bdel(d->c, k, klen);
	d->c->checks_changed = true;
	if (r->checks[0].service_name.len > 0)
		return cat_bump(d->c, r->checks[0].service_name);
	if (!d->node_gone)
		return cat_bump_node(d->c, d->node);
	return 0;
}

static int
cat_del_service_cb(void *ctx, const uint8_t *k, size_t klen,
    const uint8_t *v, size_t vlen)
{
	struct cat_del *d = ctx;
	struct msg_catalog_get_result *r;
	const struct proto_cat_service *s;
	int rc;

	if ((rc = cat_decode(&d->c->arena, v, vlen, &r)) != 0)
		return rc;
	if (r->n_services != 1)
		return ERR_CORRUPT;
	s = &r->services[0];
	cat_bdel(d->c, k, klen);
	d->c->services_changed = true;
	if ((rc = cat_name_index(d->c, s->service, s->node, s->id,
	    false)) != 0)
		return rc;
	return cat_bump(d->c, s->service);
}

/* Point lookup of k, then cb on it when present. */
static int
cat_del_one(struct cat_del *d, const char *k, size_t klen, kv_each_cb cb,
    bool *found)
{
	struct store_val v;
	struct cat_pend *p;
	int rc;

	*found = false;
	if (d->c->txn && (p = cat_pend_find(d->c, k, klen)) != NULL) {
		if (p->v == NULL)
			return 0;
		*found = true;
		return cb(d, (const uint8_t *)k, klen, p->v, p->vlen);
	}
	rc = store_state_get(d->c->store, k, klen, &v);
	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	*found = true;
	rc = cb(d, (const uint8_t *)k, klen, v.ptr, v.len);
	store_val_free(&v);
	return rc;
}

static int
cat_deregister_exec(struct catalog *c, const struct msg_catalog_deregister *op,
    struct kv_result *res)
{
	struct cat_del d = { c, op->node, false, { "", 0 }, false };
	struct proto_str empty = { "", 0 };
	bool found;
	char *k;
	size_t klen;
	int rc;

	if (op->node.len == 0) {
		cat_fail(res, ERR_INVAL, "Missing node name");
		return 0;
	}
	if (!cat_name_ok(op->node) || !cat_name_ok(op->service_id) ||
	    !cat_name_ok(op->check_id)) {
		cat_fail(res, ERR_INVAL, "Invalid node, service or check name");
		return 0;
	}
	res->ok = true;
	if (op->service_id.len > 0) {
		/* the service, then its checks */
		if ((rc = cat_key(&c->arena, 'v', &op->node, &op->service_id,
		    NULL, &k, &klen)) != 0 ||
		    (rc = cat_del_one(&d, k, klen, cat_del_service_cb,
		    &found)) != 0)
			return rc;
		if (found) {
			d.by_service = true;
			d.service_id = op->service_id;
			if ((rc = cat_key(&c->arena, 'c', &op->node, &empty,
			    NULL, &k, &klen)) != 0 ||
			    (rc = cat_weach(c, k, klen,
			    cat_del_check_cb, &d)) != 0)
				return rc;
			d.by_service = false;
		}
	}
	if (op->check_id.len > 0) {
		if ((rc = cat_key(&c->arena, 'c', &op->node, &op->check_id,
		    NULL, &k, &klen)) != 0 ||
		    (rc = cat_del_one(&d, k, klen, cat_del_check_cb,
		    &found)) != 0)
			return rc;
	}
	if (op->service_id.len > 0 || op->check_id.len > 0)
		return 0;
	/* the node with its services and checks */
	if ((rc = cat_key(&c->arena, 'n', &op->node, NULL, NULL, &k,
	    &klen)) != 0)
		return rc;
	{
		struct msg_catalog_get_result *cur;

		rc = cat_wget(c, k, klen, &cur, NULL, NULL);
		if (rc == ERR_NOTFOUND)
			return 0;
		if (rc != 0)
			return rc;
	}
	cat_bdel(c, k, klen);
	c->node_changed = true;
	d.node_gone = true;
	if ((rc = cat_key(&c->arena, 'v', &op->node, &empty, NULL, &k,
	    &klen)) != 0 ||
	    (rc = cat_weach(c, k, klen, cat_del_service_cb, &d)) != 0)
		return rc;
	if ((rc = cat_key(&c->arena, 'c', &op->node, &empty, NULL, &k,
	    &klen)) != 0 ||
	    (rc = cat_weach(c, k, klen, cat_del_check_cb, &d)) != 0)
		return rc;
	return 0;
}

static int
cat_deregister_op(struct catalog *c, uint64_t index, const void *op,
    struct kv_result *res)
{
	(void)index;
	return cat_deregister_exec(c, op, res);
}

int
catalog_deregister(struct catalog *c, uint64_t index,
    const struct msg_catalog_deregister *op, struct kv_result *res,
    kv_touch_cb touch, void *arg)
{
	return cat_apply(c, index, op->client_id, op->seq, cat_deregister_op,
	    op, res, touch, arg);
}

void
catalog_txn_begin(struct catalog *c, struct store_batch *b)
{
	cat_begin(c);
	c->b = b;
	c->txn = true;
	c->txn_err = 0;
	c->n_pend = 0;
}

int
catalog_txn_register(struct catalog *c, uint64_t index,
    const struct msg_catalog_register *op, struct kv_result *res)
{
	bool any;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = cat_register_exec(c, index, op, false, &any, res);
	return rc != 0 ? rc : c->txn_err;
}

int
catalog_txn_deregister(struct catalog *c,
    const struct msg_catalog_deregister *op, struct kv_result *res)
{
	int rc;

	memset(res, 0, sizeof(*res));
	rc = cat_deregister_exec(c, op, res);
	return rc != 0 ? rc : c->txn_err;
}

int
catalog_txn_get(struct catalog *c, char what, struct proto_str node,
    struct proto_str id, struct msg_catalog_get_result **out)
{
	char *k;
	size_t klen;
	int rc;

	if (what != 'n' && what != 'v' && what != 'c')
		return ERR_INVAL;
	if ((rc = cat_key(&c->arena, what, &node, what == 'n' ? NULL : &id,
	    NULL, &k, &klen)) != 0)
		return rc;
	return cat_wget(c, k, klen, out, NULL, NULL);
}

int
catalog_txn_end(struct catalog *c, uint64_t index, bool commit)
{
	int rc = c->txn_err;

	c->txn = false;
	c->n_pend = 0;
	if (!commit) {
		c->node_changed = c->services_changed = false;
		c->checks_changed = false;
		c->n_bump = 0;
		return 0;
	}
	if (rc == 0)
		rc = cat_put_indexes(c, index);
	return rc;
}

void
catalog_txn_touch(struct catalog *c, uint64_t index, kv_touch_cb touch,
    void *arg)
{
	cat_after(c, index, touch, arg);
}

