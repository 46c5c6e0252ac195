/*
 * dispatch.c — raftd's answers to its siblings on raftd.rpc: KV and
 * catalog reads (held while blocking), KV and catalog writes (handed to
 * the pipeline after the dedup check) and the status used by /v1/status
 * and /v1/agent/self.
 *
 * Key decisions: every request is decoded with proto_decode into an
 * arena reset after each request; a malformed message or one raftd does
 * not serve is logged (rate-limited) and answered MSG_ERROR ERR_BADMSG,
 * never fatal (STYLE.md §7). ?stale reads are answered from the local
 * state; writes and default/consistent reads pass forward_gate() first
 * (forward.c: a follower forwards them to the leader, holds them while
 * no leader is known, and the leader checks the lease or runs a
 * ReadIndex round; a single server is the leader of a cluster of one)
 * (spec §1.6).
 * A held blocking read keeps its ipc_req, whose request bytes stay valid
 * until it is answered (ipc.h), so the decoded query is kept by value.
 * Reference: bgpd rde.c rde_dispatch_imsg_session(); spec §1.5, §2.7.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "err.h"
#include "ipc.h"
#include "kv.h"
#include "log.h"
#include "loop.h"
#include "proto.h"
#include "raft.h"
#include "raftd.h"
#include "session.h"
#include "txn.h"
#include "watch.h"

/*
 * A blocking read held until its index passes min_index. Strings borrow
 * from the held request; a catalog query's arrays (decoded into the
 * arena, which is reset) are copied behind the struct.
 */
struct dispatch_held {
	struct raftd *rd;
	struct ipc_req *req;
	uint64_t reqid;
	uint32_t type; /* MSG_KV_GET or MSG_CATALOG_GET */
	struct msg_kv_get q;
	struct msg_catalog_get cq;
};

void
dispatch_send(struct ipc_req *req, uint64_t reqid, uint32_t type,
    const void *body)
{
	struct proto_buf out;
	int rc;

	if ((rc = proto_encode(type, reqid, body, &out)) != 0) {
		log_warnx("dispatch: cannot encode %s: %s",
		    proto_msg_name(type), err_str(rc));
		ipc_req_drop(req);
		return;
	}
	if ((rc = ipc_reply(req, out.data, out.len)) != 0)
		log_debug("dispatch: reply %s: %s", proto_msg_name(type),
		    err_str(rc));
	proto_buf_free(&out);
}

void
dispatch_reply_error(struct ipc_req *req, uint64_t reqid, int code,
    const char *msg)
{
	struct proto_buf out;

	if (proto_encode_error(reqid, code, &out, "%s", msg) != 0) {
		ipc_req_drop(req);
		return;
	}
	if (ipc_reply(req, out.data, out.len) != 0)
		log_debug("dispatch: error reply not sent");
	proto_buf_free(&out);
}

void
dispatch_reply_result(struct ipc_req *req, uint64_t reqid,
    uint32_t result_type, const struct kv_result *res)
{
	struct msg_kv_apply_result r;
	struct msg_catalog_write_result cr;

	if (res->err != 0) {
		dispatch_reply_error(req, reqid, res->err, res->msg);
		return;
	}
	if (result_type == MSG_CATALOG_WRITE_RESULT) {
		cr.ok = res->ok;
		cr.index = res->index;
		dispatch_send(req, reqid, MSG_CATALOG_WRITE_RESULT, &cr);
		return;
	}
	r.ok = res->ok;
	r.index = res->index;
	dispatch_send(req, reqid, MSG_KV_APPLY_RESULT, &r);
}

void
dispatch_reply_apply(struct ipc_req *req, uint64_t reqid,
    const struct kv_result *res)
{
	dispatch_reply_result(req, reqid, MSG_KV_APPLY_RESULT, res);
}

struct proto_read_meta
dispatch_meta(struct raftd *rd, uint64_t index)
{
	struct proto_read_meta m;

	m.index = index ? index : 1;
	m.known_leader = rd->leader;
	m.last_contact_ms = 0;
	if (rd->raft != NULL) {
		m.known_leader = raft_leader(rd->raft) != 0;
		m.last_contact_ms = raft_last_contact_ms(rd->raft);
	}
	return m;
}

static void
dispatch_reply_read(struct raftd *rd, struct ipc_req *req, uint64_t reqid)
{
	struct msg_kv_get_result r;

	memset(&r, 0, sizeof(r));
	r.meta = dispatch_meta(rd, rd->read.index);
	r.found = rd->read.found;
	r.entries = rd->read.entries;
	r.n_entries = rd->read.n_entries;
	r.keys.v = rd->read.keys;
	r.keys.n = rd->read.n_keys;
	dispatch_send(req, reqid, MSG_KV_GET_RESULT, &r);
}

/* Runs q into rd->read; answers an error itself and returns false. */
static bool
dispatch_read(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const struct msg_kv_get *q)
{
	int rc = kv_get(rd->kv, q, &rd->read);

	if (rc == 0)
		return true;
	log_warnx("dispatch: kv read failed: %s", err_str(rc));
	dispatch_reply_error(req, reqid, rc == ERR_INVAL ? ERR_BADMSG :
	    ERR_INTERNAL, rc == ERR_INVAL ? "unknown kv read mode" :
	    "raftd: state read failed");
	return false;
}

/* ---- catalog reads ---- */

static void
dispatch_reply_catalog(struct raftd *rd, struct ipc_req *req, uint64_t reqid)
{
	struct msg_catalog_get_result r = rd->cread.res;

	r.meta = dispatch_meta(rd, rd->cread.res.meta.index);
	dispatch_send(req, reqid, MSG_CATALOG_GET_RESULT, &r);
}

/* Runs q into rd->cread; answers an error itself and returns false. */
static bool
dispatch_catalog_read(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const struct msg_catalog_get *q)
{
	int rc = catalog_get(rd->cat, q, &rd->cread);

	if (rc == 0)
		return true;
	if (rc == ERR_INVAL && q->what == CATALOG_HEALTH_STATE)
		dispatch_reply_error(req, reqid, ERR_INVAL, "Bad check state");
	else if (rc == ERR_INVAL)
		dispatch_reply_error(req, reqid, ERR_BADMSG,
		    "unknown catalog read");
	else
		dispatch_reply_error(req, reqid, ERR_INTERNAL,
		    "raftd: state read failed");
	return false;
}

/* ---- held reads evaluated by group (watch.h) ---- */

static void dispatch_watch_group(void *arg, void **data, bool *done,
    size_t n);

/*
 * Holds h on key with a group key: the query (MSG_KV_GET or
 * MSG_CATALOG_GET, so type, body and consistency) encoded without the
 * client's own index, wait and request id. Held reads that share it are
 * read and encoded once per write (dispatch_watch_group).
 */
static int
dispatch_watch_add(struct raftd *rd, enum watch_kind kind, const char *key,
    size_t klen, uint32_t type, const void *q, uint32_t wait_ms,
    struct dispatch_held *h)
{
	struct msg_kv_get kq;
	struct msg_catalog_get cq;
	struct proto_buf g;
	int rc;

	if (type == MSG_KV_GET) {
		kq = *(const struct msg_kv_get *)q;
		kq.opts.min_index = 0;
		kq.opts.wait_ms = 0;
		rc = proto_encode(type, 0, &kq, &g);
	} else {
		cq = *(const struct msg_catalog_get *)q;
		cq.opts.min_index = 0;
		cq.opts.wait_ms = 0;
		rc = proto_encode(type, 0, &cq, &g);
	}
	if (rc != 0)
		g.len = 0; /* held alone */
	watch_set_group(rd->watch, dispatch_watch_group);
	rc = watch_add_group(rd->watch, kind, key, klen, wait_ms, g.data,
	    g.len, h);
	proto_buf_free(&g);
	return rc;
}

/* Copies q's arena arrays behind a new held struct. */
static struct dispatch_held *
dispatch_hold_catalog(const struct msg_catalog_get *q)
{
	size_t n = sizeof(struct dispatch_held) +
	    (q->tags.n + 2 * (size_t)q->node_meta.n) * sizeof(struct proto_str);
	struct dispatch_held *h = calloc(1, n);
	struct proto_str *p;

	if (h == NULL)
		return NULL;
	p = (struct proto_str *)(h + 1);
	h->cq = *q;
	if (q->tags.n > 0)
		memcpy(p, q->tags.v, q->tags.n * sizeof(*p));
	h->cq.tags.v = p;
	p += q->tags.n;
	if (q->node_meta.n > 0) {
		memcpy(p, q->node_meta.keys, q->node_meta.n * sizeof(*p));
		memcpy(p + q->node_meta.n, q->node_meta.vals,
		    q->node_meta.n * sizeof(*p));
	}
	h->cq.node_meta.keys = p;
	h->cq.node_meta.vals = p + q->node_meta.n;
	return h;
}

static void
dispatch_catalog_get(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const struct msg_catalog_get *q, const uint8_t *data, size_t len)
{
	struct dispatch_held *h;
	char key[CATALOG_WATCH_SVC_LEN + 600];
	size_t klen;

	if (!dispatch_read_gate(rd, req, reqid, data, len, &q->opts,
	    q->opts.wait_ms))
		return;
	if (!dispatch_catalog_read(rd, req, reqid, q))
		return;
	if (q->opts.min_index == 0 ||
	    rd->cread.res.meta.index > q->opts.min_index) {
		dispatch_reply_catalog(rd, req, reqid);
		return;
	}
	klen = catalog_watch_key(q, &rd->cread, key, sizeof(key));
	if ((h = dispatch_hold_catalog(q)) == NULL ||
	    dispatch_watch_add(rd, WATCH_KEY, key, klen, MSG_CATALOG_GET, q,
	    q->opts.wait_ms, h) != 0) {
		free(h);
		log_warnx("dispatch: out of memory holding a blocking read");
		dispatch_reply_catalog(rd, req, reqid);
		return;
	}
	h->rd = rd;
	h->req = req;
	h->reqid = reqid;
	h->type = MSG_CATALOG_GET;
}

static bool
dispatch_watch_eval_catalog(struct dispatch_held *h, bool timed_out)
{
	struct raftd *rd = h->rd;

	if (!dispatch_catalog_read(rd, h->req, h->reqid, &h->cq)) {
		free(h);
		return true;
	}
	if (!timed_out && rd->cread.res.meta.index <= h->cq.opts.min_index)
		return false;
	dispatch_reply_catalog(rd, h->req, h->reqid);
	free(h);
	return true;
}

bool
dispatch_read_gate(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const uint8_t *data, size_t len, const struct proto_read_opts *opts,
    uint32_t wait_ms)
{
	if (opts->consistency == PROTO_CONSISTENCY_STALE)
		return true;
	return forward_gate(rd, req, reqid, data, len,
	    opts->consistency == PROTO_CONSISTENCY_CONSISTENT ?
	    FORWARD_READ_CONSISTENT : FORWARD_READ_DEFAULT, wait_ms);
}

void
dispatch_write(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    uint64_t client_id, uint64_t seq, const uint8_t *data, size_t len,
    dispatch_dedup_fn dedup)
{
	struct kv_result res;
	int rc;

	if (!forward_gate(rd, req, reqid, data, len, FORWARD_WRITE, 0))
		return;
	if (client_id != 0 &&
	    kv_dedup_find(rd->kv, client_id, seq, &res) == 0) {
		log_debug("dispatch: client %016llx seq %llu already applied",
		    (unsigned long long)client_id, (unsigned long long)seq);
		dedup(rd, req, reqid, &res);
		return;
	}
	rc = pipeline_submit(rd, req, reqid, data, len);
	if (rc == ERR_CLOSED) {
		/* stopping: the client re-sends once we are back */
		ipc_req_drop(req);
	} else if (rc != 0) {
		dispatch_reply_error(req, reqid, ERR_INTERNAL,
		    "raftd: out of memory");
	}
}

void
dispatch_dedup_apply(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const struct kv_result *res)
{
	(void)rd;
	dispatch_reply_apply(req, reqid, res);
}

static void
dispatch_dedup_catalog(struct raftd *rd, struct ipc_req *req,
    uint64_t reqid, const struct kv_result *res)
{
	(void)rd;
	dispatch_reply_result(req, reqid, MSG_CATALOG_WRITE_RESULT, res);
}

bool
dispatch_watch_eval(void *arg, void *data, bool timed_out)
{
	struct dispatch_held *h = data;
	struct raftd *rd = h->rd;

	(void)arg;
	if (h->type == MSG_CATALOG_GET)
		return dispatch_watch_eval_catalog(h, timed_out);
	if (!dispatch_read(rd, h->req, h->reqid, &h->q)) {
		free(h);
		return true;
	}
	if (!timed_out && rd->read.index <= h->q.opts.min_index)
		return false;
	dispatch_reply_read(rd, h->req, h->reqid);
	free(h);
	return true;
}

/* Encodes the read in rd->read or rd->cread as the reply to type. */
static int
dispatch_encode_held(struct raftd *rd, uint32_t type, struct proto_buf *out)
{
	struct msg_kv_get_result r;
	struct msg_catalog_get_result cr;

	if (type == MSG_CATALOG_GET) {
		cr = rd->cread.res;
		cr.meta = dispatch_meta(rd, rd->cread.res.meta.index);
		return proto_encode(MSG_CATALOG_GET_RESULT, 0, &cr, out);
	}
	memset(&r, 0, sizeof(r));
	r.meta = dispatch_meta(rd, rd->read.index);
	r.found = rd->read.found;
	r.entries = rd->read.entries;
	r.n_entries = rd->read.n_entries;
	r.keys.v = rd->read.keys;
	r.keys.n = rd->read.n_keys;
	return proto_encode(MSG_KV_GET_RESULT, 0, &r, out);
}

/*
 * A reply encoded once for request id 0, re-stamped per watcher: the
 * envelope [version, type, reqid, body] is a fixarray, two small
 * integers, then reqid (0 packs as one byte) then the body, so the body
 * is copied once behind room for the longest head and each watcher's
 * head is written just before it.
 */
#define STAMP_ROOM 16

struct dispatch_stamp {
	uint8_t *buf;  /* STAMP_ROOM + body */
	size_t blen;   /* body length */
	uint8_t head[STAMP_ROOM];
	size_t hlen;   /* head without the reqid */
};

/* Skips one msgpack unsigned integer at p (n bytes left); 0 if not one. */
static size_t
stamp_uint_len(const uint8_t *p, size_t n)
{
	size_t l;

	if (n == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] < 0xcc || p[0] > 0xcf)
		return 0;
	l = 1 + ((size_t)1 << (p[0] - 0xcc));
	return l <= n ? l : 0;
}

static int
stamp_init(struct dispatch_stamp *st, const struct proto_buf *out)
{
	size_t t;

	/* 0x94, the version, the type, then reqid 0 */
	if (out->len < 4 || out->data[0] != 0x94 || out->data[1] >= 0x80 ||
	    (t = stamp_uint_len(out->data + 2, out->len - 2)) == 0 ||
	    2 + t + 1 > out->len || 2 + t > STAMP_ROOM - 9 ||
	    out->data[2 + t] != 0x00)
		return ERR_INVAL;
	st->hlen = 2 + t;
	memcpy(st->head, out->data, st->hlen);
	st->blen = out->len - st->hlen - 1;
	if ((st->buf = malloc(STAMP_ROOM + st->blen + 1)) == NULL)
		return ERR_NOMEM;
	memcpy(st->buf + STAMP_ROOM, out->data + st->hlen + 1, st->blen);
	return 0;
}

/* Answers req with the stamped reply under reqid. */
static void
stamp_send(struct dispatch_stamp *st, struct ipc_req *req, uint64_t reqid)
{
	uint8_t id[9];
	size_t il, i;
	uint8_t *p;
	int rc;

	if (reqid < 0x80) {
		id[0] = (uint8_t)reqid;
		il = 1;
	} else {
		il = reqid <= 0xff ? 2 : reqid <= 0xffff ? 3 :
		    reqid <= 0xffffffffULL ? 5 : 9;
		id[0] = il == 2 ? 0xcc : il == 3 ? 0xcd : il == 5 ? 0xce : 0xcf;
		for (i = 1; i < il; i++)
			id[i] = (uint8_t)(reqid >> (8 * (il - 1 - i)));
	}
	p = st->buf + STAMP_ROOM - il - st->hlen;
	memcpy(p, st->head, st->hlen);
	memcpy(p + st->hlen, id, il);
	if ((rc = ipc_reply(req, p, st->hlen + il + st->blen)) != 0)
		log_debug("dispatch: reply to a held read: %s", err_str(rc));
}

/*
 * Re-evaluates n (>= 2) woken held reads of one group key: runs the
 * query once; each whose own index the read passed gets the same reply
 * bytes under its own request id, the others keep waiting. An error
 * (read or encode) falls back to evaluating each alone, which answers it.
 */
static void
dispatch_watch_group(void *arg, void **data, bool *done, size_t n)
{
	struct dispatch_held *h0 = data[0], *h;
	struct raftd *rd = h0->rd;
	uint32_t type = h0->type; /* h0 may be answered (freed) first */
	struct dispatch_stamp st;
	struct proto_buf out;
	uint64_t index, min;
	bool ready = false;
	int rc;

	if (type == MSG_CATALOG_GET) {
		rc = catalog_get(rd->cat, &h0->cq, &rd->cread);
		index = rd->cread.res.meta.index;
	} else {
		rc = kv_get(rd->kv, &h0->q, &rd->read);
		index = rd->read.index;
	}
	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < n; i++) {
		h = data[i];
		min = h->type == MSG_CATALOG_GET ? h->cq.opts.min_index :
		    h->q.opts.min_index;
		if (rc == 0 && index <= min)
			continue;
		if (rc == 0 && !ready) {
			if ((rc = dispatch_encode_held(rd, type, &out)) == 0) {
				rc = stamp_init(&st, &out);
				proto_buf_free(&out);
			}
			ready = rc == 0;
		}
		if (!ready) {
			done[i] = dispatch_watch_eval(arg, h, false);
			continue;
		}
		stamp_send(&st, h->req, h->reqid);
		free(h);
		done[i] = true;
	}
	free(st.buf);
}

void
dispatch_watch_drop(void *arg, void *data)
{
	struct dispatch_held *h = data;

	(void)arg;
	ipc_req_drop(h->req);
	free(h);
}

static void
dispatch_kv_get(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const struct msg_kv_get *q, const uint8_t *data, size_t len)
{
	struct dispatch_held *h;
	enum watch_kind kind;

	if (!dispatch_read_gate(rd, req, reqid, data, len, &q->opts,
	    q->opts.wait_ms))
		return;
	if (!dispatch_read(rd, req, reqid, q))
		return;
	if (q->opts.min_index == 0 || rd->read.index > q->opts.min_index) {
		dispatch_reply_read(rd, req, reqid);
		return;
	}
	if (q->mode != KV_GET_ONE)
		kind = WATCH_PREFIX;
	else
		kind = rd->read.found ? WATCH_KEY : WATCH_ANY;
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    dispatch_watch_add(rd, kind, q->key.ptr, q->key.len, MSG_KV_GET,
	    q, q->opts.wait_ms, h) != 0) {
		free(h);
		log_warnx("dispatch: out of memory holding a blocking read");
		dispatch_reply_read(rd, req, reqid);
		return;
	}
	h->rd = rd;
	h->req = req;
	h->reqid = reqid;
	h->type = MSG_KV_GET;
	h->q = *q;
}

static void
dispatch_kv_apply(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const struct msg_kv_apply *a, const uint8_t *data, size_t len)
{
	if (a->op < KV_OP_SET || a->op > KV_OP_UNLOCK) {
		dispatch_reply_error(req, reqid, ERR_BADMSG, "unknown kv op");
		return;
	}
	dispatch_write(rd, req, reqid, a->client_id, a->seq, data, len,
	    dispatch_dedup_apply);
}

/* ---- status ---- */

#define STATUS_MAX 24

struct status_map {
	struct proto_str k[STATUS_MAX];
	struct proto_str v[STATUS_MAX];
	char buf[STATUS_MAX][48];
	uint32_t n;
};

static void
status_add(struct status_map *m, const char *k, const char *v)
{
	if (m->n == STATUS_MAX)
		return;
	m->k[m->n] = proto_str_c(k);
	m->v[m->n] = proto_str_c(v);
	m->n++;
}

static void
status_add_u64(struct status_map *m, const char *k, uint64_t v)
{
	if (m->n == STATUS_MAX)
		return;
	snprintf(m->buf[m->n], sizeof(m->buf[0]), "%llu",
	    (unsigned long long)v);
	status_add(m, k, m->buf[m->n]);
}

static const char *
dispatch_raft_state(struct raftd *rd)
{
	if (rd->raft == NULL)
		return rd->leader ? "Leader" : "Follower";
	switch (raft_role(rd->raft)) {
	case RAFT_LEADER:
		return "Leader";
	case RAFT_CANDIDATE:
	case RAFT_PRECANDIDATE:
		return "Candidate";
	default:
		return "Follower";
	}
}

/* Consul's latest_configuration: [{Suffrage:Voter ID:<id> Address:<a>}]. */
static void
dispatch_conf_string(struct raftd *rd, char *buf, size_t len)
{
	const struct raft_conf *c;
	size_t off = 1;

	snprintf(buf, len, "[");
	for (size_t i = 0; rd->raft != NULL &&
	    i < (c = raft_configuration(rd->raft))->n && off < len; i++) {
		const char *uuid, *name;
		int n;

		discovery_names(rd, c->servers[i].id, &uuid, &name);
		n = snprintf(buf + off, len - off, "%s{Suffrage:%s ID:%s "
		    "Address:%s}", i > 0 ? " " : "", c->servers[i].voter ?
		    "Voter" : "Nonvoter", uuid, c->servers[i].address);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (off < len - 1)
		snprintf(buf + off, len - off, "]");
}

static void
dispatch_status(struct raftd *rd, struct ipc_req *req, uint64_t reqid)
{
	struct msg_status_get_result r;
	struct status_map raft, consul;
	struct proto_str peer = proto_str_c(rd->leader_addr);
	struct proto_str voters[RAFT_SERVERS_MAX];
	const char *leader = rd->leader ? rd->leader_addr : "";
	char contact[32], conf[4096];

	if (rd->raft != NULL) /* a follower knows the leader too */
		leader = rd->leader_addr;

	memset(&r, 0, sizeof(r));
	raft.n = consul.n = 0;
	status_add_u64(&raft, "applied_index", kv_applied_index(rd->kv));
	status_add_u64(&raft, "commit_index", rd->commit_index);
	status_add(&raft, "fsm_pending", "0");
	status_add_u64(&raft, "last_log_index", rd->last_index);
	status_add_u64(&raft, "last_log_term", rd->last_term);
	if (rd->raft != NULL && raft_role(rd->raft) != RAFT_LEADER) {
		snprintf(contact, sizeof(contact), "%llums",
		    (unsigned long long)raft_last_contact_ms(rd->raft));
		status_add(&raft, "last_contact", raft_leader(rd->raft) ?
		    contact : "never");
	} else {
		status_add(&raft, "last_contact", "0");
	}
	if (rd->raft != NULL) {
		struct raft_snapshot_meta sm;

		raft_snapshot_get(rd->raft, &sm);
		status_add_u64(&raft, "last_snapshot_index", sm.index);
		status_add_u64(&raft, "last_snapshot_term", sm.term);
	} else {
		status_add(&raft, "last_snapshot_index", "0");
		status_add(&raft, "last_snapshot_term", "0");
	}
	dispatch_conf_string(rd, conf, sizeof(conf));
	status_add(&raft, "latest_configuration", conf);
	status_add_u64(&raft, "num_peers", rd->raft == NULL ? 0 :
	    raft_configuration(rd->raft)->n > 0 ?
	    raft_configuration(rd->raft)->n - 1 : 0);
	status_add(&raft, "protocol_version", "3");
	status_add(&raft, "protocol_version_max", "3");
	status_add(&raft, "protocol_version_min", "0");
	status_add(&raft, "snapshot_version_max", "1");
	status_add(&raft, "snapshot_version_min", "0");
	status_add(&raft, "state", dispatch_raft_state(rd));
	status_add_u64(&raft, "term", rd->raft != NULL ?
	    raft_term(rd->raft) : rd->term);
	status_add(&consul, "bootstrap", rd->cfg->bootstrap ||
	    rd->cfg->bootstrap_expect == 1 || rd->cfg->dev ? "true" : "false");
	status_add(&consul, "known_datacenters", "1");
	status_add(&consul, "leader", rd->leader ? "true" : "false");
	status_add(&consul, "leader_addr", leader);
	status_add(&consul, "server", rd->cfg->server || rd->cfg->dev ?
	    "true" : "false");
	r.leader = proto_str_c(leader);
	r.peers.v = &peer;
	r.peers.n = rd->leader ? 1 : 0;
	if (rd->raft != NULL) {
		r.peers.v = voters;
		r.peers.n = (uint32_t)consensus_voters(rd, voters,
		    RAFT_SERVERS_MAX);
	}
	r.raft.keys = raft.k;
	r.raft.vals = raft.v;
	r.raft.n = raft.n;
	r.consul.keys = consul.k;
	r.consul.vals = consul.v;
	r.consul.n = consul.n;
	r.meta = dispatch_meta(rd, kv_applied_index(rd->kv));
	dispatch_send(req, reqid, MSG_STATUS_GET_RESULT, &r);
}

/* ---- entry point ---- */

static void
dispatch_bad(struct raftd *rd, struct ipc_req *req, uint64_t reqid,
    const char *what)
{
	uint32_t suppressed = 0;

	if (log_ratelimited(&rd->badmsg_rl, 10, 10000, &suppressed))
		log_warnx("dispatch: %s from peer %llx (%u suppressed)", what,
		    (unsigned long long)ipc_req_peer(req), suppressed);
	dispatch_reply_error(req, reqid, ERR_BADMSG, what);
}

void
raftd_dispatch_httpd(struct ipc_server *srv, struct ipc_req *req,
    const uint8_t *data, size_t len, void *arg)
{
	struct raftd *rd = arg;
	struct proto_msg msg;

	(void)srv;
	if (rd->client_agent) { /* no state here: a server answers */
		client_dispatch(rd, req, data, len);
		return;
	}
	if (proto_decode(data, len, &rd->arena, &msg) != 0) {
		dispatch_bad(rd, req, 0, "malformed message");
		proto_arena_reset(&rd->arena);
		return;
	}
	switch (msg.type) {
	case MSG_KV_GET:
		dispatch_kv_get(rd, req, msg.reqid, msg.body, data, len);
		break;
	case MSG_KV_APPLY:
		dispatch_kv_apply(rd, req, msg.reqid, msg.body, data, len);
		break;
	case MSG_STATUS_GET:
		dispatch_status(rd, req, msg.reqid);
		break;
	case MSG_CATALOG_GET:
		dispatch_catalog_get(rd, req, msg.reqid, msg.body, data, len);
		break;
	case MSG_CATALOG_REGISTER: {
		const struct msg_catalog_register *m = msg.body;

		dispatch_write(rd, req, msg.reqid, m->client_id, m->seq,
		    data, len, dispatch_dedup_catalog);
		break;
	}
	case MSG_CATALOG_DEREGISTER: {
		const struct msg_catalog_deregister *m = msg.body;

		dispatch_write(rd, req, msg.reqid, m->client_id, m->seq,
		    data, len, dispatch_dedup_catalog);
		break;
	}
	case MSG_OPERATOR_RAFT_GET:
		operator_raft_get(rd, req, msg.reqid, msg.body, data, len);
		break;
	case MSG_OPERATOR_RAFT_REMOVE:
		operator_raft_remove(rd, req, msg.reqid, msg.body, data, len);
		break;
	case MSG_OPERATOR_RAFT_TRANSFER:
		operator_raft_transfer(rd, req, msg.reqid, msg.body, data,
		    len);
		break;
	case MSG_OPERATOR_RAFT_LEAVE:
		operator_raft_leave(rd, req, msg.reqid, msg.body, data, len);
		break;
	case MSG_SESSION_APPLY:
		session_dispatch_apply(rd, req, msg.reqid, msg.body, data, len);
		break;
	case MSG_SESSION_GET:
		session_dispatch_get(rd, req, msg.reqid, msg.body, data, len);
		break;
	case MSG_TXN:
		txn_dispatch(rd, req, msg.reqid, msg.body, data, len);
		break;
	default:
		dispatch_bad(rd, req, msg.reqid, "unexpected message type");
		break;
	}
	proto_arena_reset(&rd->arena);
}
