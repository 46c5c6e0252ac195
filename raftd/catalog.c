/*
 * catalog.c — the catalog and health state machine (see catalog.h):
 * Consul's Catalog.Register/Deregister on the `state` column family and
 * the reads behind /v1/catalog and /v1/health. This file holds what the
 * writes (catalog_write.c) and the reads (catalog_read.c) share: keys,
 * the record codec, the table indexes, and the write view of a /v1/txn
 * in progress (its own queued writes merged into lookups and walks).
 *
 * Key decisions. Records are stored encoded by the message codec, maps
 * sorted so equal records encode alike. Names in keys are lowercased:
 * node, service and check lookups ignore case as Consul's memdb indexes
 * do (records keep the case they were written with). Reference: Consul
 * agent/consul/state/catalog.go; spec §1.5, §3.2.
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

/* ---- keys and records ---- */

/* Copies n bytes of src lowercased (ASCII): Consul's indexes ignore case. */
void
cat_lower(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] + 32) :
		    src[i];
}

/* A key: prefix byte, then parts separated by NUL (in the arena). */
int
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
int
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
int
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
struct cat_pend *
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
void
cat_bput(struct catalog *c, const void *k, size_t klen, const void *v,
    size_t vlen)
{
	store_batch_put(c->b, k, klen, v, vlen);
	if (c->txn)
		cat_pend_set(c, k, klen, v, vlen);
}

void
cat_bdel(struct catalog *c, const void *k, size_t klen)
{
	store_batch_delete(c->b, k, klen);
	if (c->txn)
		cat_pend_set(c, k, klen, NULL, 0);
}

/* cat_get for the write path: a transaction's own writes first. */
int
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

int
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

bool
cat_same(const struct proto_buf *b, const uint8_t *raw, size_t rawlen)
{
	return raw != NULL && b->len == rawlen &&
	    memcmp(b->data, raw, rawlen) == 0;
}

bool
cat_streq(struct proto_str a, struct proto_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

int
cat_strcmp(struct proto_str a, struct proto_str b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.ptr, b.ptr, n) : 0;

	if (c != 0)
		return c;
	return a.len < b.len ? -1 : a.len > b.len;
}

bool
cat_strcaseeq(struct proto_str a, struct proto_str b)
{
	return a.len == b.len && (a.len == 0 ||
	    strncasecmp(a.ptr, b.ptr, a.len) == 0);
}

/* Copies m's arrays into a, sorted by key (stable encoding). */
int
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

		for (j = i; j > 0 && cat_strcmp(k[j - 1], kk) > 0; j--) {
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

void
cat_put_u64(struct catalog *c, const char *name, uint64_t v)
{
	uint8_t b[8];

	store_put_be64(b, v);
	cat_bput(c, name, strlen(name), b, sizeof(b));
}

int
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
int
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

