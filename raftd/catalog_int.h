/*
 * catalog_int.h — what the files of the catalog state machine share
 * (catalog.c: keys, records, the write view and prefix walks;
 * catalog_write.c: register, deregister and the txn hooks;
 * catalog_read.c: the reads). Not for other modules: they see
 * catalog.h. Loop thread only.
 */
#ifndef CAIRN_RAFTD_CATALOG_INT_H
#define CAIRN_RAFTD_CATALOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "kv.h"
#include "proto.h"

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

/* Copies n bytes of src lowercased (ASCII): Consul's indexes ignore case. */
void cat_lower(char *dst, const char *src, size_t n);
/* A key: prefix byte, then parts separated by NUL (in the arena). */
int cat_key(struct proto_arena *a, char p, const struct proto_str *s1,
    const struct proto_str *s2, const struct proto_str *s3, char **k,
    size_t *klen);
/* Decodes a stored record (copied into a) into *out. */
int cat_decode(struct proto_arena *a, const uint8_t *v, size_t len,
    struct msg_catalog_get_result **out);
/* Reads one record: 0 (r set, raw and rawlen its bytes), ERR_NOTFOUND. */
int cat_get(struct store *s, struct proto_arena *a, const char *k, size_t klen,
    struct msg_catalog_get_result **r, const uint8_t **raw, size_t *rawlen);
/* The transaction's pending write of k, or NULL. */
struct cat_pend *cat_pend_find(struct catalog *c, const void *k, size_t klen);
/* Queues a put (and, in a transaction, makes it visible to its ops). */
void cat_bput(struct catalog *c, const void *k, size_t klen, const void *v,
    size_t vlen);
/* Queues a delete, as cat_bput. */
void cat_bdel(struct catalog *c, const void *k, size_t klen);
/* cat_get for the write path: a transaction's own writes first. */
int cat_wget(struct catalog *c, const char *k, size_t klen,
    struct msg_catalog_get_result **r, const uint8_t **raw, size_t *rawlen);
/* Encodes the one record of n, sv or ck set (stored form) into out. */
int cat_encode(const struct proto_cat_node *n,
    const struct proto_cat_service *sv, const struct proto_cat_check *ck,
    struct proto_buf *out);
/* Whether b holds the bytes raw (NULL: nothing stored). */
bool cat_same(const struct proto_buf *b, const uint8_t *raw, size_t rawlen);
/* proto_str equality, order and ASCII case-insensitive equality. */
bool cat_streq(struct proto_str a, struct proto_str b);
int cat_strcmp(struct proto_str a, struct proto_str b);
bool cat_strcaseeq(struct proto_str a, struct proto_str b);
/* Queues the 8-byte big-endian value v of the state key name. */
void cat_put_u64(struct catalog *c, const char *name, uint64_t v);
/* Reads the 8-byte value of state key k (absent: 0). 0 or ERR_*. */
int cat_load_u64(struct store *s, const char *k, size_t klen, uint64_t *out);
/* Copies m's arrays into a, sorted by key (stable encoding). */
int cat_sort_map(struct proto_arena *a, struct proto_strmap *m);
/*
 * kv_each for the write path: in a transaction the records under p are
 * the stored ones merged with its own writes, in key order.
 */
int cat_weach(struct catalog *c, const void *p, size_t plen, kv_each_cb cb,
    void *ctx);

#endif
