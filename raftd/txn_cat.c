/*
 * txn_cat.c — /v1/txn's Node, Service and Check operations in raftd
 * (see txn.h): get, set, cas, delete and delete-cas of one node, service
 * or check, with Consul's state/txn.go txnNode, txnService and txnCheck
 * semantics and error texts.
 *
 * Key decisions: the operations go through the catalog's own write path
 * (catalog_txn_*, one batch with the KV overlay's writes), so a later
 * operation of the same transaction sees an earlier one and a failed
 * transaction writes nothing; results are deep copies of the records
 * into the outcome. Reference: Consul agent/consul/state/txn.go,
 * agent/txn_endpoint.go; spec §2.6.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "err.h"
#include "log.h"
#include "proto.h"
#include "txn_int.h"

/* Appends rec (one record, copied into the outcome) at the next place. */
static int
txn_cat_result(struct txn_ctx *c, uint8_t kind,
    const struct msg_catalog_get_result *rec)
{
	struct txn_out *o = c->out;
	struct proto_txn_cat_result *d;
	struct msg_catalog_get_result one;
	struct proto_buf b;
	struct proto_msg m;
	uint8_t *copy;
	int rc;

	if (kv_grow_array((void **)&o->r.cat_results, &o->cap_cat,
	    o->r.n_cat_results, sizeof(*o->r.cat_results)) != 0)
		return ERR_NOMEM;
	/* a deep copy: encoded, then decoded into the outcome's arena */
	memset(&one, 0, sizeof(one));
	one.nodes = rec->nodes;
	one.n_nodes = rec->n_nodes;
	one.services = rec->services;
	one.n_services = rec->n_services;
	one.checks = rec->checks;
	one.n_checks = rec->n_checks;
	if ((rc = proto_encode(MSG_CATALOG_GET_RESULT, 0, &one, &b)) != 0)
		return rc;
	if ((copy = proto_arena_alloc(&o->arena, b.len)) == NULL) {
		proto_buf_free(&b);
		return ERR_NOMEM;
	}
	memcpy(copy, b.data, b.len);
	rc = proto_decode(copy, b.len, &o->arena, &m);
	proto_buf_free(&b);
	if (rc != 0)
		return ERR_INVAL;
	d = &o->r.cat_results[o->r.n_cat_results++];
	memset(d, 0, sizeof(*d));
	d->pos = o->r.n_results + o->r.n_cat_results - 1;
	d->kind = kind;
	d->rec = *(struct msg_catalog_get_result *)m.body;
	return 0;
}

/* A record as the transaction sees it: 0, ERR_NOTFOUND or ERR_*. */
static int
txn_cat_get(struct txn_ctx *c, char what, struct proto_str node,
    struct proto_str id, struct msg_catalog_get_result **rec,
    uint64_t *modify)
{
	int rc = catalog_txn_get(c->cat, what, node, id, rec);

	if (rc != 0)
		return rc;
	if (what == 'n' && (*rec)->n_nodes == 1)
		*modify = (*rec)->nodes[0].modify_index;
	else if (what == 'v' && (*rec)->n_services == 1)
		*modify = (*rec)->services[0].modify_index;
	else if (what == 'c' && (*rec)->n_checks == 1)
		*modify = (*rec)->checks[0].modify_index;
	else
		return ERR_CORRUPT;
	return 0;
}

/* Consul's CAS rule: index 0 creates only, else it must match. */
static bool
txn_cas_ok(bool exists, uint64_t modify, uint64_t want)
{
	if (want == 0)
		return !exists;
	return exists && modify == want;
}

/* The names of one catalog operation. */
struct txn_cat_names {
	char what;             /* 'n', 'v', 'c' */
	struct proto_str node;
	struct proto_str id;   /* service or check ID */
	const char *noun;      /* for the error texts */
};

static void
txn_cat_names(const struct proto_txn_op *op, struct txn_cat_names *n)
{
	memset(n, 0, sizeof(*n));
	n->node = op->cat.node.node;
	n->id = proto_str_c("");
	if (op->kind == TXN_KIND_NODE) {
		n->what = 'n';
		n->noun = "node";
	} else if (op->kind == TXN_KIND_SERVICE) {
		n->what = 'v';
		n->noun = "service";
		if (op->cat.n_services == 1) {
			n->id = op->cat.services[0].id;
			if (n->id.len == 0)
				n->id = op->cat.services[0].service;
		}
	} else {
		n->what = 'c';
		n->noun = "check";
		if (op->cat.n_checks == 1) {
			n->node = op->cat.checks[0].node;
			n->id = op->cat.checks[0].check_id;
			if (n->id.len == 0)
				n->id = op->cat.checks[0].name;
		}
	}
}

/* "node \"n\"" or "service \"s\" on node \"n\"" into buf. */
static const char *
txn_cat_what(const struct txn_cat_names *n, char *buf, size_t size)
{
	if (n->what == 'n')
		snprintf(buf, size, "node \"%.*s\"", KQ(n->node));
	else
		snprintf(buf, size, "%s \"%.*s\" on node \"%.*s\"", n->noun,
		    KQ(n->id), KQ(n->node));
	return buf;
}

/* set and cas: the precondition Consul's ensure*Txn checks. */
static int
txn_cat_set_pre(struct txn_ctx *c, uint32_t i, const struct proto_txn_op *op,
    const struct txn_cat_names *n, bool *ok)
{
	struct msg_catalog_get_result *rec;
	uint64_t m = 0;
	int rc;

	*ok = false;
	if (op->kind == TXN_KIND_NODE)
		goto done;
	rc = txn_cat_get(c, 'n', n->node, n->id, &rec, &m);
	if (rc == ERR_NOTFOUND)
		return txn_error(c, i, "Missing node registration");
	if (rc != 0)
		return rc;
	if (op->kind == TXN_KIND_CHECK && op->cat.n_checks == 1 &&
	    op->cat.checks[0].service_id.len > 0) {
		rc = txn_cat_get(c, 'v', n->node,
		    op->cat.checks[0].service_id, &rec, &m);
		if (rc == ERR_NOTFOUND)
			return txn_error(c, i, "Missing service registration");
		if (rc != 0)
			return rc;
	}
done:
	*ok = true;
	return 0;
}

/* Upserts the record of op (register semantics, node kept). */
static int
txn_cat_set(struct txn_ctx *c, uint32_t i, const struct proto_txn_op *op)
{
	struct msg_catalog_register reg = op->cat;
	struct proto_cat_check ck;
	struct kv_result res;
	int rc;

	reg.client_id = reg.seq = 0;
	if (op->kind == TXN_KIND_NODE) {
		reg.n_services = reg.n_checks = 0;
		reg.skip_node_update = false;
	} else if (op->kind == TXN_KIND_SERVICE) {
		reg.n_checks = 0;
		reg.skip_node_update = true;
	} else {
		ck = op->cat.checks[0];
		reg.node.node = ck.node;
		reg.n_services = 0;
		reg.checks = &ck;
		reg.skip_node_update = true;
	}
	if ((rc = catalog_txn_register(c->cat, c->index, &reg, &res)) != 0)
		return rc;
	if (res.err != 0)
		return txn_error(c, i, "%s", res.msg);
	return 0;
}

static int
txn_cat_del(struct txn_ctx *c, uint32_t i, const struct proto_txn_op *op,
    const struct txn_cat_names *n)
{
	struct msg_catalog_deregister d;
	struct kv_result res;
	int rc;

	memset(&d, 0, sizeof(d));
	d.node = n->node;
	if (op->kind == TXN_KIND_SERVICE)
		d.service_id = n->id;
	else if (op->kind == TXN_KIND_CHECK)
		d.check_id = n->id;
	if (d.node.len == 0)
		return txn_error(c, i, "Missing node name");
	if (op->kind != TXN_KIND_NODE && d.service_id.len == 0 &&
	    d.check_id.len == 0)
		return txn_error(c, i, "Missing %s ID", n->noun);
	if ((rc = catalog_txn_deregister(c->cat, &d, &res)) != 0)
		return rc;
	if (res.err != 0)
		return txn_error(c, i, "%s", res.msg);
	c->out->cat_changed = true;
	return 0;
}

/*
 * One Node, Service or Check operation: Consul's state/txn.go txnNode,
 * txnService and txnCheck with their error texts.
 */
int
txn_cat_op(struct txn_ctx *c, uint32_t i, const struct proto_txn_op *op)
{
	struct msg_catalog_get_result *rec = NULL;
	struct txn_cat_names n;
	char what[600];
	uint64_t modify = 0;
	bool exists, ok;
	int rc;

	if (c->cat == NULL)
		return txn_error(c, i, "catalog operations are not available");
	if ((op->kind == TXN_KIND_SERVICE && op->cat.n_services != 1) ||
	    (op->kind == TXN_KIND_CHECK && op->cat.n_checks != 1))
		return txn_error(c, i, "missing %s",
		    op->kind == TXN_KIND_SERVICE ? "service" : "check");
	txn_cat_names(op, &n);
	if (!(op->verb == TXN_SET || op->verb == TXN_CAS ||
	    op->verb == TXN_GET || op->verb == TXN_DELETE ||
	    op->verb == TXN_DELETE_CAS))
		return txn_error(c, i, "unknown %s verb",
		    op->kind == TXN_KIND_NODE ? "Node" :
		    op->kind == TXN_KIND_SERVICE ? "Service" : "Check");
	rc = txn_cat_get(c, n.what, n.node, n.id, &rec, &modify);
	if (rc != 0 && rc != ERR_NOTFOUND)
		return rc;
	exists = rc == 0;
	txn_cat_what(&n, what, sizeof(what));
	switch (op->verb) {
	case TXN_GET:
		if (!exists)
			return txn_error(c, i, "%s doesn't exist", what);
		return txn_cat_result(c, op->kind, rec);
	case TXN_CAS:
		if (!txn_cas_ok(exists, modify, op->index))
			return txn_error(c, i, "failed to set %s, index is "
			    "stale", what);
		/* FALLTHROUGH */
	case TXN_SET:
		if ((rc = txn_cat_set_pre(c, i, op, &n, &ok)) != 0 || !ok)
			return rc;
		if ((rc = txn_cat_set(c, i, op)) != 0 ||
		    c->out->r.n_errors > 0)
			return rc;
		c->out->cat_changed = true;
		if ((rc = txn_cat_get(c, n.what, n.node, n.id, &rec,
		    &modify)) != 0)
			return rc;
		return txn_cat_result(c, op->kind, rec);
	case TXN_DELETE_CAS:
		if (!exists || modify != op->index)
			return txn_error(c, i, "failed to delete %s, index is "
			    "stale", what);
		/* FALLTHROUGH */
	default: /* TXN_DELETE */
		return txn_cat_del(c, i, op, &n);
	}
}

