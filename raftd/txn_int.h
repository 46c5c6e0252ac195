/*
 * txn_int.h — what the files of /v1/txn in raftd share (txn.c: the
 * overlay, the KV verbs, evaluation and raftd glue; txn_cat.c: the Node,
 * Service and Check verbs). Not for other modules: they see txn.h.
 * Loop thread only.
 */
#ifndef CAIRN_RAFTD_TXN_INT_H
#define CAIRN_RAFTD_TXN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv.h"
#include "proto.h"
#include "txn.h"

struct catalog;

/* A record of the overlay; strings live in the evaluation's arena. */
struct txn_rec {
	struct proto_kv_entry e; /* key always set */
	bool present;
	bool existed; /* present in the state before the transaction */
	bool dirty;
};

struct txn_ctx {
	struct kv *kv;
	struct catalog *cat; /* NULL: no catalog operations */
	uint64_t index;
	struct proto_arena a; /* overlay strings */
	struct txn_rec *recs;
	size_t n, cap;
	struct kv_read rd;
	struct txn_out *out;
};

/* A string argument of an error text, at most 256 bytes of it. */
#define KQ(s) (int)((s).len > 256 ? 256 : (s).len), (s).ptr

/*
 * Records the failure of operation i (Consul's text, printf-style) in
 * the outcome: 0, or ERR_NOMEM.
 */
int txn_error(struct txn_ctx *c, uint32_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * One Node, Service or Check operation (txn_cat.c): its result or its
 * error recorded in the outcome; 0 or ERR_* when the state failed.
 */
int txn_cat_op(struct txn_ctx *c, uint32_t i, const struct proto_txn_op *op);

#endif
