/*
 * catalog.h — the service catalog and health state machine of raftd:
 * Consul's Catalog.Register/Deregister semantics and the catalog and
 * health reads (spec/consul-api.md §2.0, §2.2, §2.3, §1.5, §3.2).
 *
 * Tables live in the `state` column family next to the KV table, and an
 * applied entry is ONE WriteBatch with the table changes, the applied
 * index and the dedup record (kv_batch_begin/kv_batch_commit), exactly
 * as kv_apply. Key space:
 *   'n' node                    a node record
 *   'v' node \0 service-id      a service record
 *   'c' node \0 check-id        a check record
 *   'w' name \0 node \0 id      service-name index (empty value)
 *   'i' name                    per-service index (big-endian u64)
 *   "xcnodes" "xcservices" "xcchecks"   table indexes
 * A record is an encoded MSG_CATALOG_GET_RESULT holding that one record,
 * so the codec's strict decoder guards the store too.
 *
 * Blocking reads: every write that changed something touches
 * CATALOG_WATCH_ALL, and CATALOG_WATCH_SVC + name for every service
 * whose per-service index it bumped. Loop thread only.
 */
#ifndef CAIRN_RAFTD_CATALOG_H
#define CAIRN_RAFTD_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv.h"
#include "proto.h"

struct catalog;
struct store;

/* Watch keys (they start with NUL: never a KV key). */
#define CATALOG_WATCH_ALL "\0cat"
#define CATALOG_WATCH_ALL_LEN 4
#define CATALOG_WATCH_SVC "\0svc:"
#define CATALOG_WATCH_SVC_LEN 5

/*
 * Opens the catalog on s and kv (both borrowed; they outlive it): reads
 * the table indexes. Returns 0 and an owned catalog (catalog_free), or
 * ERR_CORRUPT/ERR_IO/ERR_NOMEM.
 */
int catalog_open(struct store *s, struct kv *kv, struct catalog **out);
void catalog_free(struct catalog *c);

/* Table indexes (0 while never written). */
uint64_t catalog_nodes_index(const struct catalog *c);
uint64_t catalog_services_index(const struct catalog *c);
uint64_t catalog_checks_index(const struct catalog *c);

/*
 * Applies a register or deregister as log entry index (> the applied
 * index), deduplicated by (client_id, seq) as kv_apply. op is borrowed.
 * The write's own failure (a check for a missing service, a bad status)
 * is res->err with res->msg; the return value is 0, or ERR_IO/
 * ERR_CORRUPT/ERR_INVAL when the store failed or the index is stale.
 * touch (may be NULL) is called for each watch key after the write.
 */
int catalog_register(struct catalog *c, uint64_t index,
    const struct msg_catalog_register *op, struct kv_result *res,
    kv_touch_cb touch, void *arg);
int catalog_deregister(struct catalog *c, uint64_t index,
    const struct msg_catalog_deregister *op, struct kv_result *res,
    kv_touch_cb touch, void *arg);

/*
 * Whether applying op now would change any record (self registration
 * skips a write that changes nothing). Returns 0 or ERR_*.
 */
int catalog_register_changes(struct catalog *c,
    const struct msg_catalog_register *op, bool *changes);

/*
 * Catalog operations of a /v1/txn (txn.c), between catalog_txn_begin
 * and catalog_txn_end: writes go into b (the transaction's kv batch,
 * borrowed) and later operations and catalog_txn_get see them. A
 * refusal is res->err with res->msg; the return value is 0 or ERR_*.
 * catalog_txn_get reads a node ('n', id unused), a service ('v') or a
 * check ('c', id the check ID) of node: 0 and *out (one record, valid
 * until catalog_txn_end), ERR_NOTFOUND or ERR_*. catalog_txn_end with
 * commit queues the indexes the transaction moved into b; without it
 * forgets them (the caller clears b). After kv_batch_commit of a
 * committed transaction, catalog_txn_touch sets the table indexes and
 * wakes the watchers as a register does.
 */
void catalog_txn_begin(struct catalog *c, struct store_batch *b);
int catalog_txn_register(struct catalog *c, uint64_t index,
    const struct msg_catalog_register *op, struct kv_result *res);
int catalog_txn_deregister(struct catalog *c,
    const struct msg_catalog_deregister *op, struct kv_result *res);
int catalog_txn_get(struct catalog *c, char what, struct proto_str node,
    struct proto_str id, struct msg_catalog_get_result **out);
int catalog_txn_end(struct catalog *c, uint64_t index, bool commit);
void catalog_txn_touch(struct catalog *c, uint64_t index, kv_touch_cb touch,
    void *arg);

/*
 * The answer to a read: res borrows from the struct (its arena and
 * arrays) until the next catalog_get on it or catalog_read_fini.
 */
struct catalog_read {
	struct msg_catalog_get_result res; /* meta.index set, never 0 */
	bool instances; /* service reads: the service has instances */
	/* internal */
	struct proto_arena arena;
	uint32_t cap_nodes, cap_services, cap_checks;
};
void catalog_read_init(struct catalog_read *r);
void catalog_read_fini(struct catalog_read *r);

/*
 * Answers q (borrowed) into r. Returns 0, ERR_INVAL (bad what or state:
 * r->res is empty) or ERR_NOMEM/ERR_IO/ERR_CORRUPT.
 */
int catalog_get(struct catalog *c, const struct msg_catalog_get *q,
    struct catalog_read *r);

/*
 * The watch key a blocking q waits on after catalog_get answered it in
 * r: the service's own key when it has instances, else the catalog key.
 * Writes into buf (size bytes) and returns the length, or 0 if too long
 * (then the catalog key is in buf).
 */
size_t catalog_watch_key(const struct msg_catalog_get *q,
    const struct catalog_read *r, char *buf, size_t size);

#endif
