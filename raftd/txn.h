/*
 * txn.h — /v1/txn in raftd (spec/consul-api.md §2.6): the KV, Node,
 * Service and Check operations of a transaction evaluated in order
 * against one state and applied all or none in one log entry (one state
 * WriteBatch).
 */
#ifndef CAIRN_RAFTD_TXN_H
#define CAIRN_RAFTD_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv.h"
#include "msg_session.h"

struct catalog;
struct ipc_req;
struct raftd;

/* Consul's maxTxnOps (1.14+). */
#define TXN_MAX_OPS 128

/* The outcome of a transaction: owns its strings (txn_out_free). */
struct txn_out {
	struct msg_txn_result r; /* meta is left to the caller */
	struct proto_arena arena;
	uint32_t cap_results, cap_errors, cap_cat;
	bool cat_changed; /* a Node, Service or Check op was applied */
};
void txn_out_free(struct txn_out *o);

/*
 * Evaluates t (borrowed) against kv's and cat's state (cat NULL: Node,
 * Service and Check operations fail). write: t is log entry
 * index; when every op succeeds their changes, the applied index and the
 * dedup record of (client_id, seq) are written in one batch and touch
 * reports the changed keys; when one fails (out->r.n_errors > 0) only
 * the applied index and dedup record are. Not write (read-only
 * transactions): nothing is written and index is ignored. *out is owned
 * by the caller. Returns 0 or ERR_IO/ERR_CORRUPT/ERR_NOMEM/ERR_INVAL.
 */
int txn_eval(struct kv *kv, struct catalog *cat, uint64_t index,
    const struct msg_txn *t, bool write, kv_touch_cb touch, void *arg,
    struct txn_out **out);

/* pipeline: a committed MSG_TXN; res->txn gets the owned outcome. */
int txn_apply(struct raftd *rd, uint64_t index, const struct msg_txn *t,
    struct kv_result *res);
/* dispatch: MSG_TXN (request bytes for forwarding). */
void txn_dispatch(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const struct msg_txn *t, const uint8_t *data, size_t len);
/* Answers req with MSG_TXN_RESULT from res->txn (NULL: a dedup hit). */
void txn_reply(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const struct kv_result *res);

#endif
