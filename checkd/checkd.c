/*
 * checkd.c — the checkd daemon: configuration, the loop, checkd.rpc (the
 * agent service/check API httpd forwards), SIGHUP reload of the
 * config-file services and checks, systemd readiness and watchdog.
 *
 * Start: config → persisted registrations (<data_dir>/checkd) and the
 * config-file ones → the checks start → checkd.rpc → anti-entropy with
 * raftd. Writes are answered after the sync round that carries them, so
 * /v1/catalog and /v1/health see a registration as soon as the agent API
 * acknowledged it (best effort: while raftd is down they are answered
 * after the connect wait and synced later). Reference: DESIGN.md §1-§3;
 * spec/consul-api.md §2.1, §4, §8.2; relayd hce.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkd.h"
#include "config.h"
#include "daemon.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "msg_agent.h"
#include "nodeid.h"
#include "proto.h"
#include "reload.h"

/* The longest a write's reply waits for its catalog sync. */
#define CHECKD_HOLD_MS 3000

/*
 * A reply held until the sync round carrying the write has ended, or
 * CHECKD_HOLD_MS passed (a slow raftd must not fail the agent API, which
 * succeeded locally). Both the sync waiter and the timer hold a
 * reference; the first one sends.
 */
struct held_reply {
	struct checkd *cd;
	struct ipc_req *req;
	struct proto_buf buf;
	uint64_t timer;
	int refs;
	bool sent;
};

static void
checkd_held_put(struct held_reply *h)
{
	if (!h->sent) {
		store_settle(h->cd);
		ipc_reply(h->req, h->buf.data, h->buf.len);
		proto_buf_free(&h->buf);
		h->sent = true;
	}
	if (--h->refs == 0)
		free(h);
}

static void
checkd_send_held(void *arg)
{
	struct held_reply *h = arg;

	if (h->timer != 0) {
		loop_timer_cancel(h->cd->loop, h->timer);
		h->timer = 0;
		h->refs--; /* the timer's reference */
	}
	checkd_held_put(h);
}

static void
checkd_held_timeout(struct loop *l, void *arg)
{
	struct held_reply *h = arg;

	(void)l;
	h->timer = 0;
	checkd_held_put(h);
}

static bool
checkd_is_write(int op)
{
	return op == AGENT_OP_SERVICE_REGISTER ||
	    op == AGENT_OP_SERVICE_DEREGISTER ||
	    op == AGENT_OP_SERVICE_MAINT || op == AGENT_OP_CHECK_REGISTER ||
	    op == AGENT_OP_CHECK_DEREGISTER || op == AGENT_OP_NODE_MAINT;
}

/* Puts body (borrowed) into res, in parts when it is large. */
static int
checkd_fill_body(struct msg_agent_result *res, const char *body, size_t len)
{
	size_t n, i;

	if (len <= AGENT_BODY_PART) {
		res->body.ptr = body;
		res->body.len = (uint32_t)len;
		return 0;
	}
	n = (len + AGENT_BODY_PART - 1) / AGENT_BODY_PART;
	if ((res->body_parts.v = calloc(n, sizeof(struct proto_str))) == NULL)
		return ERR_NOMEM;
	for (i = 0; i < n; i++) {
		size_t off = i * AGENT_BODY_PART;
		res->body_parts.v[i].ptr = body + off;
		res->body_parts.v[i].len = (uint32_t)(len - off < AGENT_BODY_PART ?
		    len - off : AGENT_BODY_PART);
	}
	res->body_parts.n = (uint32_t)n;
	return 0;
}

static void
checkd_request(struct ipc_server *srv, struct ipc_req *req,
    const uint8_t *data, size_t len, void *arg)
{
	struct checkd *cd = arg;
	struct proto_arena a;
	struct proto_msg m;
	struct msg_agent_result res;
	struct held_reply *h;
	struct proto_buf b;
	const char *ctype = NULL;
	char *body = NULL;
	size_t blen = 0;
	int status = 500, rc, op = 0;

	(void)srv;
	proto_arena_init(&a);
	if ((rc = proto_decode(data, len, &a, &m)) != 0 ||
	    m.type != MSG_AGENT_REQUEST) {
		log_warnx("checkd.rpc: %s", rc != 0 ? err_str(rc) :
		    "unexpected message type");
		rc = proto_encode_error(rc != 0 ? 0 : m.reqid, ERR_BADMSG, &b,
		    "checkd: malformed request");
	} else {
		const struct msg_agent_request *rq = m.body;
		op = rq->op;
		api_handle(cd, rq, &status, &ctype, &body, &blen);
		memset(&res, 0, sizeof(res));
		res.status = (uint32_t)status;
		res.content_type = proto_str_c(ctype ? ctype : "");
		rc = checkd_fill_body(&res, body, blen);
		if (rc == 0)
			rc = proto_encode(MSG_AGENT_RESULT, m.reqid, &res, &b);
		free(res.body_parts.v);
		if (rc != 0)
			rc = proto_encode_error(m.reqid, rc, &b,
			    "checkd: cannot encode the reply");
	}
	free(body);
	proto_arena_free(&a);
	if (rc != 0) {
		ipc_req_drop(req);
		return;
	}
	if (status == 200 && checkd_is_write(op) &&
	    (h = calloc(1, sizeof(*h))) != NULL) {
		h->cd = cd;
		h->req = req;
		h->buf = b;
		h->refs = 1;
		if (sync_after(cd, checkd_send_held, h) == 0) {
			h->timer = loop_timer_add(cd->loop, CHECKD_HOLD_MS,
			    checkd_held_timeout, h);
			if (h->timer != 0)
				h->refs++;
			return;
		}
		free(h);
	}
	store_settle(cd); /* the answer's writes are durable first */
	ipc_reply(req, b.data, b.len);
	proto_buf_free(&b);
}

static void
checkd_reload(const struct config *cfg, void *arg)
{
	struct checkd *cd = arg;

	/* only the definitions change: the rest needs a restart */
	free(cd->cfg->services_json);
	free(cd->cfg->checks_json);
	cd->cfg->services_json = strdup(cfg->services_json);
	cd->cfg->checks_json = strdup(cfg->checks_json);
	cd->cfg->enable_script_checks = cfg->enable_script_checks;
	cd->cfg->enable_local_script_checks = cfg->enable_local_script_checks;
	if (cd->cfg->services_json == NULL || cd->cfg->checks_json == NULL)
		fatalx("out of memory");
	if (local_load_config(cd, cd->cfg) != 0)
		log_warnx("reload: services and checks kept as they were");
	else
		log_info("reload: services and checks re-read");
}

static void
checkd_signal(struct loop *l, int signo, void *arg)
{
	(void)arg;
	log_info("signal %d: stopping", signo);
	daemon_notify_stopping();
	loop_stop(l);
}

/* Checks the definitions of the configuration (for -n and startup). */
static int
checkd_validate(const struct config *cfg, char *err, size_t errlen)
{
	struct svc_def *defs;
	struct chk *checks, *c, *n;
	size_t nd, i;
	int rc;

	if ((rc = defn_config_services(cfg->services_json, &defs, &nd, err,
	    errlen)) != 0)
		return rc;
	for (i = 0; i < nd; i++)
		defn_svc_def_free(&defs[i]);
	free(defs);
	if ((rc = defn_config_checks(cfg->checks_json, &checks, err,
	    errlen)) != 0)
		return rc;
	for (c = checks; c != NULL; c = n) {
		n = c->next;
		chk_free(c);
	}
	return 0;
}

static void
checkd_open(struct checkd *cd, int argc, char **argv)
{
	char url[4200];
	int rc;

	if ((rc = node_id_ensure(cd->cfg->data_dir, cd->cfg->node_id,
	    cd->node_id, sizeof(cd->node_id))) != 0)
		fatalx("node id in %s: %s", cd->cfg->data_dir, err_str(rc));
	if ((rc = store_open(cd)) != 0)
		fatalx("store %s: %s", cd->store_dir, err_str(rc));
	if (loop_signal(cd->loop, SIGINT, checkd_signal, cd) != 0 ||
	    loop_signal(cd->loop, SIGTERM, checkd_signal, cd) != 0 ||
	    check_script_init(cd) != 0 ||
	    reload_install(cd->loop, argc, argv, checkd_reload, cd) != 0)
		fatalx("cannot watch signals");
	if (check_http_init(cd) != 0)
		fatalx("cannot initialise libcurl");
	run_init(cd);
	if ((rc = sync_init(cd)) != 0)
		fatalx("sync: %s", err_str(rc));
	if (local_load_config(cd, cd->cfg) != 0)
		log_warnx("configuration services/checks not loaded");
	store_load(cd);
	if ((rc = ipc_url(url, sizeof(url), cd->cfg->runtime_dir,
	    "checkd.rpc")) != 0 ||
	    (rc = ipc_server_open(cd->loop, url, checkd_request, cd,
	    &cd->srv)) != 0)
		fatalx("cannot listen on checkd.rpc: %s", err_str(rc));
}

static void
checkd_close(struct checkd *cd)
{
	store_settle(cd);
	sync_fini(cd); /* answers the held replies: before the server */
	ipc_server_close(cd->srv);
	local_free_all(cd);
	run_fini(cd);
	check_http_fini(cd);
}

int
main(int argc, char *argv[])
{
	struct checkd cd;
	struct config cfg;
	char err[512];
	bool check;
	int rc;

	if ((rc = daemon_config("checkd", &argc, argv, &cfg, &check)) != 0)
		return rc;
	if (checkd_validate(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "checkd: %s\n", err);
		config_free(&cfg);
		return 2;
	}
	if (check) {
		fprintf(stderr, "checkd: configuration OK\n");
		config_free(&cfg);
		return 0;
	}
	if (*cfg.runtime_dir == '\0' && *cfg.data_dir != '\0') {
		free(cfg.runtime_dir);
		if (asprintf(&cfg.runtime_dir, "%s/run", cfg.data_dir) < 0)
			fatalx("out of memory");
	}
	if (*cfg.data_dir == '\0') {
		fprintf(stderr, "checkd: data_dir is unset: use -data-dir "
		    "DIR\n");
		config_free(&cfg);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((rc = daemon_mkdirs(cfg.runtime_dir, 0700)) != 0)
		fatalx("runtime dir %s: %s", cfg.runtime_dir, err_str(rc));
	memset(&cd, 0, sizeof(cd));
	cd.cfg = &cfg;
	if ((cd.loop = loop_new()) == NULL)
		fatalx("cannot create the event loop");
	checkd_open(&cd, argc, argv);
	daemon_notify_status("running local checks");
	daemon_notify_ready();
	if (daemon_watchdog_start(cd.loop) < 0)
		fatalx("cannot arm the systemd watchdog");
	log_info("checkd: serving checkd.rpc");
	rc = loop_run(cd.loop);
	checkd_close(&cd);
	loop_free(cd.loop);
	config_free(&cfg);
	return rc == 0 ? 0 : 1;
}
