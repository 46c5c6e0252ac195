/*
 * catalog.c — the catalog and health state machine (see catalog.h):
 * Consul's Catalog.Register/Deregister on the `state` column family and
 * the reads behind /v1/catalog and /v1/health.
 *
 * Key decisions. Records are stored encoded by the message codec; a
 * write re-encodes the new record with the stored indexes and compares
 * the bytes, so an unchanged record keeps its ModifyIndex and moves no
 * table index (Consul's IsSame checks; maps are sorted before encoding
 * so their order does not count). Index rules follow Consul's state
 * store (agent/consul/state/catalog.go): a service change bumps the
 * services table and that service's index; a check change bumps the
 * checks table and the index of its service, or of every service on the
 * node for a node-level check; a changed node bumps the nodes table and
 * every service on it. Service reads answer the per-service index, or
 * the services (health: services and checks) table index when the
 * service has no instance. Names in keys are lowercased: node, service
 * and check lookups ignore case as Consul's memdb indexes do (records
 * keep the case they were written with). Reads see the store as of the last applied
 * entry; a write looks at what it already queued in the same entry
 * (the node and service it registers) explicitly. Reference: Consul
 * agent/consul/state/catalog.go ensureRegistrationTxn, ensureCheckTxn,
 * deleteServiceTxn, deleteNodeTxn, maxIndexForService; spec §1.5, §3.2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "err.h"
#include "kv.h"
#include "log.h"
#include "store.h"

#define CAT_KEY_NODES "xcnodes"
#define CAT_KEY_SERVICES "xcservices"
#define CAT_KEY_CHECKS "xcchecks"
#define CAT_NAME_MAX 512 /* node, service and check ids and names */

struct catalog {
	struct store *store;
	struct kv *kv;
	uint64_t nodes, services, checks; /* table indexes */
	struct proto_arena arena;         /* per write */
	struct store_batch *b;            /* the kv batch of this write */
	/* what the write being applied changes */
	bool node_changed, services_changed, checks_changed;
	struct proto_str *bump; /* service names whose index moves (arena) */
	size_t n_bump, cap_bump;
	/* a /v1/txn in progress: what it queued, seen by its later ops */
	bool txn;
	int txn_err;
	struct cat_pend *pend;
	size_t n_pend, cap_pend;
};

/* A write a transaction queued (key and value in the arena). */
struct cat_pend {
	const char *k;
	size_t klen;
	const uint8_t *v; /* NULL: deleted */
	size_t vlen;
};

/* ---- keys and records ---- */

/* Copies n bytes of src lowercased (ASCII): Consul's indexes ignore case. */
static void
cat_lower(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] + 32) :
		    src[i];
}

/* A key: prefix byte, then parts separated by NUL (in the arena). */
static int
cat_key(struct proto_arena *a, char p, const struct proto_str *s1,
    const struct proto_str *s2, const struct proto_str *s3, char **k,
    size_t *klen)
{
	size_t n = 1 + s1->len + (s2 ? 1 + s2->len : 0) +
	    (s3 ? 1 + s3->len : 0), off = 1;
	char *b;

	if ((b = proto_arena_alloc(a, n)) == NULL)
		return ERR_NOMEM;
	b[0] = p;
	if (s1->len > 0)
		cat_lower(b + off, s1->ptr, s1->len);
	off += s1->len;
	if (s2 != NULL) {
		b[off++] = '\0';
		if (s2->len > 0)
			cat_lower(b + off, s2->ptr, s2->len);
		off += s2->len;
	}
	if (s3 != NULL) {
		b[off++] = '\0';
		if (s3->len > 0)
			cat_lower(b + off, s3->ptr, s3->len);
		off += s3->len;
	}
	*k = b;
	*klen = n;
	return 0;
}

/* Decodes a stored record (copied into a) into *out. */
static int
cat_decode(struct proto_arena *a, const uint8_t *v, size_t len,
    struct msg_catalog_get_result **out)
{
	struct proto_msg m;
	uint8_t *copy;

	if ((copy = proto_arena_alloc(a, len)) == NULL)
		return ERR_NOMEM;
	memcpy(copy, v, len);
	if (proto_decode(copy, len, a, &m) != 0 ||
	    m.type != MSG_CATALOG_GET_RESULT) {
		log_warnx("catalog: a stored record is malformed");
		return ERR_CORRUPT;
	}
	*out = m.body;
	return 0;
}

/* Reads one record: 0 (r set, raw and rawlen its bytes), ERR_NOTFOUND. */
static int
cat_get(struct store *s, struct proto_arena *a, const char *k, size_t klen,
    struct msg_catalog_get_result **r, const uint8_t **raw, size_t *rawlen)
{
	struct store_val v;
	int rc;

	if ((rc = store_state_get(s, k, klen, &v)) != 0)
		return rc;
	rc = cat_decode(a, v.ptr, v.len, r);
	if (rc == 0 && raw != NULL) {
		/* the decode copied the bytes: point at a stable copy */
		uint8_t *c = proto_arena_alloc(a, v.len);

		if (c == NULL)
			rc = ERR_NOMEM;
		else {
			memcpy(c, v.ptr, v.len);
			*raw = c;
			*rawlen = v.len;
		}
	}
	store_val_free(&v);
	return rc;
}

/* The transaction's pending write of k, or NULL. */
static struct cat_pend *
cat_pend_find(struct catalog *c, const void *k, size_t klen)
{
	for (size_t i = 0; i < c->n_pend; i++)
		if (c->pend[i].klen == klen && memcmp(c->pend[i].k, k,
		    klen) == 0)
			return &c->pend[i];
	return NULL;
}

/* Remembers a transaction's write (v NULL: a delete). */
static void
cat_pend_set(struct catalog *c, const void *k, size_t klen, const void *v,
    size_t vlen)
{
	struct cat_pend *p;
	char *kc;
	uint8_t *vc = NULL;

	if ((p = cat_pend_find(c, k, klen)) == NULL) {
		if (c->n_pend == c->cap_pend) {
			size_t n = c->cap_pend ? 2 * c->cap_pend : 16;
			struct cat_pend *np = realloc(c->pend,
			    n * sizeof(*np));

			if (np == NULL) {
				c->txn_err = ERR_NOMEM;
				return;
			}
			c->pend = np;
			c->cap_pend = n;
		}
		if ((kc = proto_arena_alloc(&c->arena, klen)) == NULL) {
			c->txn_err = ERR_NOMEM;
			return;
		}
		memcpy(kc, k, klen);
		p = &c->pend[c->n_pend++];
		p->k = kc;
		p->klen = klen;
	}
	if (v != NULL && (vc = proto_arena_alloc(&c->arena,
	    vlen ? vlen : 1)) == NULL) {
		c->txn_err = ERR_NOMEM;
		return;
	}
	if (v != NULL && vlen > 0)
		memcpy(vc, v, vlen);
	p->v = vc;
	p->vlen = v != NULL ? vlen : 0;
}

/* Queues a put (and, in a transaction, makes it visible to its ops). */
static void
cat_bput(struct catalog *c, const void *k, size_t klen, const void *v,
    size_t vlen)
{
	store_batch_put(c->b, k, klen, v, vlen);
	if (c->txn)
		cat_pend_set(c, k, klen, v, vlen);
}

static void
cat_bdel(struct catalog *c, const void *k, size_t klen)
{
	store_batch_delete(c->b, k, klen);
	if (c->txn)
		cat_pend_set(c, k, klen, NULL, 0);
}

/* cat_get for the write path: a transaction's own writes first. */
static int
cat_wget(struct catalog *c, const char *k, size_t klen,
    struct msg_catalog_get_result **r, const uint8_t **raw, size_t *rawlen)
{
	struct cat_pend *p;
	int rc;

	if (!c->txn || (p = cat_pend_find(c, k, klen)) == NULL)
		return cat_get(c->store, &c->arena, k, klen, r, raw, rawlen);
	if (p->v == NULL)
		return ERR_NOTFOUND;
	if ((rc = cat_decode(&c->arena, p->v, p->vlen, r)) != 0)
		return rc;
	if (raw != NULL) {
		*raw = p->v;
		*rawlen = p->vlen;
	}
	return 0;
}

static int
cat_encode(const struct proto_cat_node *n, const struct proto_cat_service *sv,
    const struct proto_cat_check *ck, struct proto_buf *out)
{
	struct msg_catalog_get_result r;

	memset(&r, 0, sizeof(r));
	r.nodes = (struct proto_cat_node *)n;
	r.n_nodes = n != NULL;
	r.services = (struct proto_cat_service *)sv;
	r.n_services = sv != NULL;
	r.checks = (struct proto_cat_check *)ck;
	r.n_checks = ck != NULL;
	return proto_encode(MSG_CATALOG_GET_RESULT, 0, &r, out);
}

static bool
cat_same(const struct proto_buf *b, const uint8_t *raw, size_t rawlen)
{
	return raw != NULL && b->len == rawlen &&
	    memcmp(b->data, raw, rawlen) == 0;
}

static bool
str_eq(struct proto_str a, struct proto_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int
str_cmp(struct proto_str a, struct proto_str b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.ptr, b.ptr, n) : 0;

	if (c != 0)
		return c;
	return a.len < b.len ? -1 : a.len > b.len;
}

static bool
str_caseeq(struct proto_str a, struct proto_str b)
{
	return a.len == b.len && (a.len == 0 ||
	    strncasecmp(a.ptr, b.ptr, a.len) == 0);
}

/* Copies m's arrays into a, sorted by key (stable encoding). */
static int
cat_sort_map(struct proto_arena *a, struct proto_strmap *m)
{
	struct proto_str *k, *v;
	uint32_t i, j;

	if (m->n == 0)
		return 0;
	k = proto_arena_alloc(a, m->n * sizeof(*k));
	v = proto_arena_alloc(a, m->n * sizeof(*v));
	if (k == NULL || v == NULL)
		return ERR_NOMEM;
	for (i = 0; i < m->n; i++) {
		struct proto_str kk = m->keys[i], vv = m->vals[i];

		for (j = i; j > 0 && str_cmp(k[j - 1], kk) > 0; j--) {
			k[j] = k[j - 1];
			v[j] = v[j - 1];
		}
		k[j] = kk;
		v[j] = vv;
	}
	m->keys = k;
	m->vals = v;
	return 0;
}

static void
cat_put_u64(struct catalog *c, const char *name, uint64_t v)
{
	uint8_t b[8];

	store_put_be64(b, v);
	cat_bput(c, name, strlen(name), b, sizeof(b));
}

static int
cat_load_u64(struct store *s, const char *k, size_t klen, uint64_t *out)
{
	struct store_val v;
	int rc;

	*out = 0;
	rc = store_state_get(s, k, klen, &v);
	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.len != 8)
		rc = ERR_CORRUPT;
	else
		*out = store_get_be64(v.ptr);
	store_val_free(&v);
	if (rc != 0)
		log_warnx("catalog: index record %.*s is malformed", (int)klen,
		    k);
	return rc;
}

/* ---- open ---- */

int
catalog_open(struct store *s, struct kv *kv, struct catalog **out)
{
	struct catalog *c;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ERR_NOMEM;
	c->store = s;
	c->kv = kv;
	proto_arena_init(&c->arena);
	if ((rc = cat_load_u64(s, CAT_KEY_NODES, strlen(CAT_KEY_NODES),
	    &c->nodes)) != 0 ||
	    (rc = cat_load_u64(s, CAT_KEY_SERVICES, strlen(CAT_KEY_SERVICES),
	    &c->services)) != 0 ||
	    (rc = cat_load_u64(s, CAT_KEY_CHECKS, strlen(CAT_KEY_CHECKS),
	    &c->checks)) != 0) {
		catalog_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void
catalog_free(struct catalog *c)
{
	if (c == NULL)
		return;
	proto_arena_free(&c->arena);
	free(c->pend);
	free(c);
}

uint64_t
catalog_nodes_index(const struct catalog *c)
{
	return c->nodes;
}

uint64_t
catalog_services_index(const struct catalog *c)
{
	return c->services;
}

uint64_t
catalog_checks_index(const struct catalog *c)
{
	return c->checks;
}

/* ---- iteration ---- */

/* One record of a merged transaction iteration. */
struct cat_kv {
	const uint8_t *k, *v;
	size_t klen, vlen;
};

static int
cat_kv_cmp(const void *a, const void *b)
{
	const struct cat_kv *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int d = n ? memcmp(x->k, y->k, n) : 0;

	if (d != 0)
		return d;
	return x->klen < y->klen ? -1 : x->klen > y->klen;
}

struct cat_collect {
	struct catalog *c;
	struct cat_kv *v;
	size_t n, cap;
};

static int
cat_collect_cb(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
    size_t vlen)
{
	struct cat_collect *l = ctx;
	uint8_t *kc, *vc;

	if (cat_pend_find(l->c, k, klen) != NULL)
		return 0; /* the transaction's version wins */
	if (l->n == l->cap) {
		size_t n = l->cap ? 2 * l->cap : 16;
		struct cat_kv *nv = realloc(l->v, n * sizeof(*nv));

		if (nv == NULL)
			return ERR_NOMEM;
		l->v = nv;
		l->cap = n;
	}
	kc = proto_arena_alloc(&l->c->arena, klen);
	vc = proto_arena_alloc(&l->c->arena, vlen ? vlen : 1);
	if (kc == NULL || vc == NULL)
		return ERR_NOMEM;
	memcpy(kc, k, klen);
	if (vlen > 0)
		memcpy(vc, v, vlen);
	l->v[l->n++] = (struct cat_kv){ kc, vc, klen, vlen };
	return 0;
}

/*
 * kv_each for the write path: in a transaction the records under p are
 * the stored ones merged with its own writes, in key order.
 */
static int
cat_weach(struct catalog *c, const void *p, size_t plen, kv_each_cb cb,
    void *ctx)
{
	struct cat_collect l = { c, NULL, 0, 0 };
	int rc;

	if (!c->txn)
		return kv_each(c->store, p, plen, cb, ctx);
	if ((rc = kv_each(c->store, p, plen, cat_collect_cb, &l)) != 0)
		goto out;
	for (size_t i = 0; i < c->n_pend; i++) {
		const struct cat_pend *q = &c->pend[i];

		if (q->v == NULL || q->klen < plen ||
		    memcmp(q->k, p, plen) != 0)
			continue;
		if (l.n == l.cap) {
			size_t n = l.cap ? 2 * l.cap : 16;
			struct cat_kv *nv = realloc(l.v, n * sizeof(*nv));

			if (nv == NULL) {
				rc = ERR_NOMEM;
				goto out;
			}
			l.v = nv;
			l.cap = n;
		}
		l.v[l.n++] = (struct cat_kv){ (const uint8_t *)q->k, q->v,
		    q->klen, q->vlen };
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), cat_kv_cmp);
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = cb(ctx, l.v[i].k, l.v[i].klen, l.v[i].v, l.v[i].vlen);
out:
	free(l.v);
	return rc;
}

/* ---- writes ---- */

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
		if (str_caseeq(c->bump[i], name))
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
		if (k->node.len > 0 && !str_caseeq(k->node, op->node.node)) {
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
	if (raw != NULL && !str_caseeq(cur->services[0].service,
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
		    str_caseeq(op->services[0].id, ck.service_id)) {
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
	if (d->by_service && !str_caseeq(r->checks[0].service_id,
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

/* ---- reads ---- */

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
			ok = str_eq(m->keys[j], want->keys[i]) &&
			    str_eq(m->vals[j], want->vals[i]);
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
			ok = str_caseeq(tags->v[j], want->v[i]);
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

		if (last == NULL || !str_caseeq(last->node,
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
	int c = str_cmp(x->service, y->service);

	if (c != 0)
		return c;
	c = str_cmp(x->node, y->node);
	return c != 0 ? c : str_cmp(x->id, y->id);
}

static int
cat_str_cmp(const void *a, const void *b)
{
	return str_cmp(*(const struct proto_str *)a,
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
		    str_eq(s[j].service, s[i].service); j++)
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
			if (ntags == 0 || !str_eq(tags[ntags - 1], tags[t]))
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
	if (f->state != NULL && !str_eq(ck->status, *f->state))
		return 0;
	if (f->service_name != NULL && !str_eq(ck->service_name,
	    *f->service_name))
		return 0;
	if (!f->all && !(f->node_level && ck->service_id.len == 0) &&
	    !(f->service_id.len > 0 && str_caseeq(ck->service_id,
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
		    !str_caseeq(r->res.nodes[r->res.n_nodes - 1].node,
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
