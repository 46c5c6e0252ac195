/*
 * api_txn_body.c — the JSON body of PUT /v1/txn decoded into MSG_TXN
 * (the jansson side of api_txn.c; json.h's writer names clash with it).
 *
 * Key decisions: keys match ignoring case as Go's decoder does; Value is
 * standard padded base64 as Go's []byte; the limits are Consul's
 * (agent/txn_endpoint.go): more than 128 operations is 413 "Transaction
 * contains too many operations (n > 128)", a value above
 * kv_max_value_size is 413 "Value for key "k" is too large (n > m
 * bytes)", a body that does not decode is 400 "Failed to parse body: ...".
 * An unknown verb is reported as that operation's error (409), as
 * Consul's state store reports it. Node, Service and Check operations
 * carry their record (decoded as the catalog register body's parts,
 * api_catalog_write.c) and its ModifyIndex as the op's index; a Service
 * op names its node in the op's own "Node". Reference: Consul
 * agent/txn_endpoint.go convertOps, api/txn.go.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_catalog.h"
#include "api_session.h"
#include "config.h"
#include "err.h"
#include "httpd.h"
#include "msg_session.h"
#include "proto.h"
#include "req.h"

#define API_TXN_MAX_OPS 128

static const struct {
	const char *name;
	uint8_t verb;
	bool write;
} api_txn_verbs[] = {
	{ "set", TXN_SET, true },
	{ "cas", TXN_CAS, true },
	{ "lock", TXN_LOCK, true },
	{ "unlock", TXN_UNLOCK, true },
	{ "get", TXN_GET, false },
	{ "get-or-empty", TXN_GET_OR_EMPTY, false },
	{ "get-tree", TXN_GET_TREE, false },
	{ "check-index", TXN_CHECK_INDEX, false },
	{ "check-session", TXN_CHECK_SESSION, false },
	{ "check-not-exists", TXN_CHECK_NOT_EXISTS, false },
	{ "delete", TXN_DELETE, true },
	{ "delete-tree", TXN_DELETE_TREE, true },
	{ "delete-cas", TXN_DELETE_CAS, true },
};

/* Node, Service and Check verbs (api.NodeSet ... api.CheckDeleteCAS). */
static const struct {
	const char *name;
	uint8_t verb;
	bool write;
} api_txn_cat_verbs[] = {
	{ "set", TXN_SET, true },
	{ "cas", TXN_CAS, true },
	{ "get", TXN_GET, false },
	{ "delete", TXN_DELETE, true },
	{ "delete-cas", TXN_DELETE_CAS, true },
};

static json_t *
api_txn_body_get(json_t *o, const char *name)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return NULL;
	json_object_foreach(o, k, v)
		if (strcasecmp(k, name) == 0)
			return json_is_null(v) ? NULL : v;
	return NULL;
}

static int
api_txn_body_b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Standard padded base64 into the arena; ERR_INVAL if malformed. */
static int
api_txn_body_b64(struct proto_arena *a, const char *s, size_t n,
    struct proto_str *out)
{
	uint8_t *p;
	size_t i, o = 0;

	out->ptr = "";
	out->len = 0;
	if (n == 0)
		return 0;
	if (n % 4 != 0)
		return ERR_INVAL;
	if ((p = proto_arena_alloc(a, n / 4 * 3)) == NULL)
		return ERR_NOMEM;
	for (i = 0; i < n; i += 4) {
		int v[4];

		for (int j = 0; j < 4; j++) {
			v[j] = api_txn_body_b64val((unsigned char)s[i + j]);
			if (v[j] < 0 && !(s[i + j] == '=' && i + 4 == n &&
			    j >= 2))
				return ERR_INVAL;
		}
		if (v[2] < 0 && v[3] >= 0)
			return ERR_INVAL;
		p[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (v[2] >= 0)
			p[o++] = (uint8_t)((v[1] & 15) << 4 | v[2] >> 2);
		if (v[3] >= 0)
			p[o++] = (uint8_t)((v[2] & 3) << 6 | v[3]);
	}
	out->ptr = (const char *)p;
	out->len = (uint32_t)o;
	return 0;
}

static int
api_txn_body_u64(json_t *o, const char *name, uint64_t *out)
{
	json_t *v = api_txn_body_get(o, name);

	*out = 0;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return ERR_INVAL;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int
api_txn_body_str(json_t *o, const char *name, struct proto_str *out)
{
	json_t *v = api_txn_body_get(o, name);

	out->ptr = "";
	out->len = 0;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return ERR_INVAL;
	out->ptr = json_string_value(v);
	out->len = (uint32_t)json_string_length(v);
	return 0;
}

/*
 * A {"Node"|"Service"|"Check": {...}} operation into op. Returns 0 (a
 * bad verb leaves op->verb 0), or ERR_INVAL with the decode error in err.
 */
static int
api_txn_body_cat(const struct httpd *h, json_t *e, struct proto_txn_op *op,
    struct proto_arena *a, struct proto_str *verbp, char *err, size_t size)
{
	static const char *const kinds[] = { "", "Node", "Service", "Check" };
	struct proto_str verb;
	json_t *o = NULL, *rec;
	uint8_t k;
	int rc;

	for (k = TXN_KIND_NODE; k <= TXN_KIND_CHECK; k++)
		if ((o = api_txn_body_get(e, kinds[k])) != NULL)
			break;
	if (o == NULL || !json_is_object(o)) {
		snprintf(err, size, "json: cannot unmarshal into Go value of "
		    "type api.TxnOp");
		return ERR_INVAL;
	}
	op->kind = k;
	if (api_txn_body_str(o, "Verb", &verb) != 0) {
		snprintf(err, size, "json: cannot unmarshal into Go struct "
		    "field Verb of type string");
		return ERR_INVAL;
	}
	rec = api_txn_body_get(o, kinds[k]);
	if (k == TXN_KIND_NODE) {
		if (rec != NULL && (rc = api_catalog_dec_node(rec, a,
		    &op->cat.node, err, size)) != 0)
			return rc;
		if (op->cat.node.datacenter.len == 0)
			op->cat.node.datacenter =
			    proto_str_c(h->cfg->datacenter);
	} else if (k == TXN_KIND_SERVICE) {
		if (api_txn_body_str(o, "Node", &op->cat.node.node) != 0) {
			snprintf(err, size, "json: cannot unmarshal into Go "
			    "struct field Node of type string");
			return ERR_INVAL;
		}
		if ((op->cat.services = proto_arena_alloc(a,
		    sizeof(*op->cat.services))) == NULL)
			return ERR_NOMEM;
		memset(op->cat.services, 0, sizeof(*op->cat.services));
		op->cat.n_services = 1;
		if (rec != NULL && (rc = api_catalog_dec_service(rec, a,
		    op->cat.services, err, size)) != 0)
			return rc;
	} else {
		if ((op->cat.checks = proto_arena_alloc(a,
		    sizeof(*op->cat.checks))) == NULL)
			return ERR_NOMEM;
		memset(op->cat.checks, 0, sizeof(*op->cat.checks));
		op->cat.n_checks = 1;
		if (rec != NULL && (rc = api_catalog_dec_check(rec, a,
		    op->cat.checks, err, size)) != 0)
			return rc;
	}
	if (rec != NULL && api_txn_body_u64(rec, "ModifyIndex",
	    &op->index) != 0) {
		snprintf(err, size, "json: cannot unmarshal into Go struct "
		    "field ModifyIndex of type uint64");
		return ERR_INVAL;
	}
	for (size_t j = 0; j < sizeof(api_txn_cat_verbs) /
	    sizeof(api_txn_cat_verbs[0]); j++)
		if (proto_str_eq(verb, api_txn_cat_verbs[j].name))
			op->verb = api_txn_cat_verbs[j].verb;
	*verbp = verb;
	return 0;
}

/* Consul's text for an unknown verb, `unknown KV verb "x"`, in a. */
static const char *
api_txn_body_badverb(struct proto_arena *a, const char *kind,
    struct proto_str verb)
{
	int n = verb.len > 200 ? 200 : (int)verb.len;
	size_t size = strlen(kind) + (size_t)n + 32;
	char *p = proto_arena_alloc(a, size);

	if (p == NULL)
		return "unknown verb";
	snprintf(p, size, "unknown %s verb \"%.*s\"", kind, n, verb.ptr);
	return p;
}

void
api_txn_body_free(void *root)
{
	json_decref(root);
}

int
api_txn_body(const struct httpd *h, struct req *r, struct msg_txn *m,
    struct proto_arena *a, uint32_t *bad_op, const char **bad_what,
    void **rootp)
{
	json_t *root, *e, *kv, *v;
	json_error_t jerr;
	size_t i, j, n;
	uint32_t writes = 0;

	*rootp = NULL;
	*bad_what = NULL;
	root = json_loadb(r->body ? r->body : "", r->body_len,
	    JSON_DECODE_ANY, &jerr);
	if (root == NULL || !json_is_array(root)) {
		req_reply_text(r, 400, "Failed to parse body: %s",
		    root == NULL ? jerr.text : "json: cannot unmarshal object "
		    "into Go value of type api.TxnOps");
		json_decref(root);
		return ERR_INVAL;
	}
	n = json_array_size(root);
	if (n > API_TXN_MAX_OPS) {
		req_reply_text(r, 413, "Transaction contains too many "
		    "operations (%zu > %d)", n, API_TXN_MAX_OPS);
		json_decref(root);
		return ERR_TOOBIG;
	}
	m->ops = n ? proto_arena_alloc(a, n * sizeof(*m->ops)) : NULL;
	if (n > 0 && m->ops == NULL) {
		req_reply_text(r, 500, "out of memory");
		json_decref(root);
		return ERR_NOMEM;
	}
	m->n_ops = 0;
	json_array_foreach(root, i, e) {
		struct proto_txn_op *op = &m->ops[m->n_ops];
		struct proto_str verb, val;

		if (!json_is_object(e)) {
			req_reply_text(r, 400, "Failed to parse body: json: "
			    "cannot unmarshal %s into Go value of type "
			    "api.TxnOp", json_is_array(e) ? "array" :
			    json_is_string(e) ? "string" : json_is_null(e) ?
			    "null" : json_is_boolean(e) ? "bool" : "number");
			json_decref(root);
			return ERR_INVAL;
		}
		/* an element with none of the four is skipped, as Consul's
		 * convertOps does (OpIndex counts the ops kept) */
		if (api_txn_body_get(e, "KV") == NULL &&
		    api_txn_body_get(e, "Node") == NULL &&
		    api_txn_body_get(e, "Service") == NULL &&
		    api_txn_body_get(e, "Check") == NULL)
			continue;
		memset(op, 0, sizeof(*op));
		m->n_ops++;
		if ((kv = api_txn_body_get(e, "KV")) == NULL) {
			char err[300];
			struct proto_str cv = { "", 0 };
			int rc = api_txn_body_cat(h, e, op, a, &cv, err,
			    sizeof(err));

			if (rc != 0) {
				req_reply_text(r, 400, "Failed to parse body: "
				    "%s", rc == ERR_NOMEM ? "out of memory" :
				    err);
				json_decref(root);
				return rc;
			}
			if (op->verb == 0) {
				if (*bad_what == NULL) {
					*bad_op = m->n_ops - 1;
					*bad_what = api_txn_body_badverb(a,
					    op->kind == TXN_KIND_NODE ? "Node" :
					    op->kind == TXN_KIND_SERVICE ?
					    "Service" : "Check", cv);
				}
				continue;
			}
			if (op->verb != TXN_GET)
				writes++;
			continue;
		}
		if (api_txn_body_str(kv, "Verb", &verb) != 0 ||
		    api_txn_body_str(kv, "Key", &op->key) != 0 ||
		    api_txn_body_str(kv, "Session", &op->session) != 0 ||
		    api_txn_body_u64(kv, "Flags", &op->flags) != 0 ||
		    api_txn_body_u64(kv, "Index", &op->index) != 0 ||
		    api_txn_body_str(kv, "Value", &val) != 0 ||
		    api_txn_body_b64(a, val.ptr, val.len, &op->value) != 0) {
			req_reply_text(r, 400, "Failed to parse body: json: "
			    "cannot unmarshal into Go struct field of type "
			    "api.KVTxnOp");
			json_decref(root);
			return ERR_INVAL;
		}
		if (op->value.len > h->cfg->kv_max_value_size) {
			req_reply_text(r, 413, "Value for key \"%.*s\" is too "
			    "large (%u > %u bytes)", (int)op->key.len,
			    op->key.ptr, op->value.len,
			    h->cfg->kv_max_value_size);
			json_decref(root);
			return ERR_TOOBIG;
		}
		for (j = 0; j < sizeof(api_txn_verbs) /
		    sizeof(api_txn_verbs[0]); j++)
			if (proto_str_eq(verb, api_txn_verbs[j].name))
				break;
		if (j == sizeof(api_txn_verbs) / sizeof(api_txn_verbs[0])) {
			if (*bad_what == NULL) {
				*bad_op = m->n_ops - 1;
				*bad_what = api_txn_body_badverb(a, "KV",
				    verb);
			}
			continue;
		}
		op->verb = api_txn_verbs[j].verb;
		if (api_txn_verbs[j].write)
			writes++;
		(void)v;
	}
	m->read_only = writes == 0;
	*rootp = root;
	return 0;
}
