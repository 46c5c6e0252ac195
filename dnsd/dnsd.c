/*
 * dnsd.c — main of dnsd, the DNS interface (spec/consul-api.md §5):
 * configuration, the loop, the UDP and TCP listeners on
 * client_addr:ports.dns, the recursors, and the catalog feed from raftd.
 *
 * usage: dnsd [-n] [Consul agent flags: -dev -data-dir DIR -dns-port N
 *             -domain D -recursor ADDR -config-file F -config-dir D ...]
 *   -n   check the configuration (dns_config included) and exit: 0
 *        valid, 2 invalid.
 * Exit status: 0 after SIGINT/SIGTERM, 1 on a runtime failure (a port
 * that cannot be bound), 2 on bad usage/configuration.
 *
 * One thread owns everything (STYLE.md principle 1). dnsd keeps no state
 * of its own: it answers from a view of the catalog that dns_feed.c
 * rebuilds from stale reads of raftd, so it can be restarted at any time
 * and keeps answering from its last view while raftd is down. systemd is
 * told READY once both UDP and TCP listen (or the DNS port is -1);
 * SIGHUP re-reads dns_config and the recursors. Reference: OpenBSD
 * bgpd.c (startup shape); Knot DNS (answering apart from I/O).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>

#include "config.h"
#include "daemon.h"
#include "dnsd/dns_feed.h"
#include "dnsd/dns_query.h"
#include "dnsd/dns_ratelimit.h"
#include "dnsd/dns_recursor.h"
#include "dnsd/dns_tcp.h"
#include "dnsd/dns_udp.h"
#include "dnsd/dns_view.h"
#include "dnsd/dnsd.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "reload.h"

#define DNSD_FAIL_LOG_MS 10000 /* "all resolvers failed" at most every */

uint64_t
dnsd_rand(struct dnsd *d)
{
	uint64_t x = d->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	d->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

int
dnsd_answer(struct dnsd *d, const uint8_t *q, size_t len, bool tcp,
    uint8_t *out, size_t outsize, size_t *outlen)
{
	struct dns_request req;
	int rc;

	d->queries++;
	req.wire = q;
	req.len = len;
	req.tcp = tcp;
	req.rand_seed = dnsd_rand(d);
	req.now = (uint32_t)time(NULL);
	rc = dns_query_answer(d->qctx, &d->set->dns, d->view, &req, out,
	    outsize, outlen);
	if (rc < 0) {
		log_debug("dnsd: query not answered: %s", err_str(rc));
		return DNS_QUERY_DROP;
	}
	/* before the first catalog read nothing is known to be absent:
	 * SERVFAIL (try again), never an authoritative NXDOMAIN */
	if (rc == DNS_QUERY_REPLY && d->view == d->empty_view &&
	    *outlen >= 4 && (out[3] & 0x0f) == 3)
		return dns_query_error_reply(d->qctx, &d->set->dns, &req, 2,
		    out, outsize, outlen) == DNS_QUERY_REPLY ?
		    DNS_QUERY_REPLY : DNS_QUERY_DROP;
	if (rc == DNS_QUERY_FORWARD) {
		if (dns_recursor_count(d->rec) > 0) {
			d->forwards++;
			return DNS_QUERY_FORWARD;
		}
		/* recursors just removed by a reload */
		return dnsd_forwarded(d, q, len, tcp, NULL, 0, out, outsize,
		    outlen);
	}
	return rc;
}

/* "all resolvers failed", at most once per DNSD_FAIL_LOG_MS. */
static void
dnsd_fail_log(struct dnsd *d)
{
	uint64_t now = loop_now_ms(d->loop);

	if (d->fail_log_ms != 0 && now - d->fail_log_ms < DNSD_FAIL_LOG_MS) {
		d->fail_suppressed++;
		return;
	}
	if (d->fail_suppressed > 0)
		log_warnx("dnsd: all resolvers failed (%llu more since the "
		    "last report)", (unsigned long long)d->fail_suppressed);
	else
		log_warnx("dnsd: all resolvers failed");
	d->fail_log_ms = now;
	d->fail_suppressed = 0;
}

int
dnsd_forwarded(struct dnsd *d, const uint8_t *q, size_t qlen, bool tcp,
    const uint8_t *answer, size_t alen, uint8_t *out, size_t outsize,
    size_t *outlen)
{
	struct dns_request req;
	int rc;

	if (qlen < 12)
		return DNS_QUERY_DROP;
	if (answer != NULL && alen >= 12 && alen <= outsize) {
		memcpy(out, answer, alen);
		out[0] = q[0];
		out[1] = q[1];
		out[3] |= 0x80; /* RA */
		*outlen = alen;
		return DNS_QUERY_REPLY;
	}
	d->servfails++;
	dnsd_fail_log(d);
	memset(&req, 0, sizeof(req));
	req.wire = q;
	req.len = qlen;
	req.tcp = tcp;
	req.now = (uint32_t)time(NULL);
	rc = dns_query_error_reply(d->qctx, &d->set->dns, &req, 2, out,
	    outsize, outlen);
	return rc == DNS_QUERY_REPLY ? rc : DNS_QUERY_DROP;
}

/*
 * The apex NS records name the servers, as Consul does: the nodes of the
 * "consul" service in the view (Consul agent/dns.go nameservers()); until
 * the view has one, this node when it is a server.
 */
static void
dnsd_ns(struct dnsd *d)
{
	const struct dns_view_service *s;
	const char **v;
	uint32_t i;

	d->nns = 0;
	s = dns_view_find_service(d->view, "consul", 6);
	if (s != NULL && s->n > d->capns) {
		if ((v = reallocarray(d->ns, s->n, sizeof(*v))) == NULL)
			fatal("dnsd: out of memory");
		d->ns = v;
		d->capns = s->n;
	}
	for (i = 0; s != NULL && i < s->n; i++)
		d->ns[d->nns++] = s->inst[i]->node->name;
	if (d->nns > 0) {
		d->set->dns.ns_servers = d->ns;
		d->set->dns.n_ns_servers = d->nns;
	} else {
		d->set->dns.ns_servers = d->set->ns_list;
		d->set->dns.n_ns_servers = d->set->ns_server != NULL ? 1 : 0;
	}
}

static void
dnsd_view(void *arg, struct dns_view *view, uint64_t index)
{
	struct dnsd *d = arg;

	if (d->view != d->empty_view)
		dns_view_free(d->view);
	d->view = view;
	dnsd_ns(d);
	dns_query_ctx_flush(d->qctx);
	log_debug("dnsd: view at index %llu: %u nodes, %u instances",
	    (unsigned long long)index, dns_view_node_count(view),
	    dns_view_instance_count(view));
}

static void
dnsd_signal(struct loop *l, int signo, void *arg)
{
	log_info("dnsd: %s received, stopping", strsignal(signo));
	daemon_notify_stopping();
	loop_stop(l);
}

/* (Re)creates the per-source limiter from the settings: a reload starts
 * every source with a full bucket. 0 or ERR_NOMEM (the old one kept). */
static int
dnsd_ratelimit(struct dnsd *d)
{
	struct dns_ratelimit *rl = NULL;
	uint32_t qps = d->set->rate_limit, burst = d->set->rate_burst;

	if (qps > 0 && (rl = dns_ratelimit_new(qps, burst ? burst : qps)) ==
	    NULL)
		return ERR_NOMEM;
	dns_ratelimit_free(d->rl);
	d->rl = rl;
	if (qps > 0)
		log_info("dnsd: UDP rate limit %u queries/s per source network "
		    "(burst %u)", qps, burst ? burst : qps);
	return 0;
}

/* Loads settings and applies the recursors; on error nothing changes. */
static int
dnsd_settings(struct dnsd *d, const struct config *cfg, char *err,
    size_t errlen)
{
	struct dns_settings *s;
	int rc;

	if ((s = malloc(sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return ERR_NOMEM;
	}
	if ((rc = dns_settings_load(s, cfg, err, errlen)) != 0) {
		free(s);
		return rc;
	}
	if (d->rec != NULL && (rc = dns_recursor_configure(d->rec,
	    s->recursors, s->n_recursors, s->recursor_timeout_ms, s->strategy,
	    err, errlen)) != 0) {
		dns_settings_free(s);
		free(s);
		return rc;
	}
	if (d->set != NULL) {
		dns_settings_free(d->set);
		free(d->set);
	}
	d->set = s;
	return 0;
}

static void
dnsd_reload(const struct config *cfg, void *arg)
{
	struct dnsd *d = arg;
	char err[512];

	if (dnsd_settings(d, cfg, err, sizeof(err)) != 0) {
		log_warnx("dnsd: reload: %s; keeping the running dns_config",
		    err);
		return;
	}
	dnsd_ns(d);
	dns_query_ctx_flush(d->qctx);
	if (dnsd_ratelimit(d) != 0)
		log_warnx("dnsd: reload: out of memory; keeping the rate limit");
	if (d->feed != NULL)
		dns_feed_set_staleness(d->feed, !d->set->allow_stale,
		    d->set->max_stale_ms);
	log_info("dnsd: reloaded dns_config (%zu recursors)",
	    d->set->n_recursors);
}

/* The listen address: addresses.dns, else the first of client_addr. */
static void
dnsd_listen_addr(const struct config *cfg, char *buf, size_t size)
{
	const char *a = *cfg->addresses.dns != '\0' ? cfg->addresses.dns :
						      cfg->client_addr;
	size_t n = strcspn(a, " \t");

	if (n >= size)
		n = size - 1;
	memcpy(buf, a, n);
	buf[n] = '\0';
}

static int
dnsd_start(struct dnsd *d)
{
	struct dns_feed_opts fo;
	char url[256], addr[128];
	int rc;

	if (getrandom(&d->rng, sizeof(d->rng), 0) != sizeof(d->rng))
		fatal("dnsd: getrandom");
	d->rng |= 1;
	if ((d->qctx = dns_query_ctx_new()) == NULL ||
	    dns_query_ctx_cache(d->qctx) != 0 ||
	    (d->empty_view = dns_view_new()) == NULL)
		fatal("dnsd: out of memory");
	d->view = d->empty_view;
	if (dnsd_ratelimit(d) != 0)
		fatal("dnsd: out of memory");
	if ((rc = ipc_url(url, sizeof(url), d->cfg->runtime_dir,
	    "raftd.rpc")) != 0) {
		log_warnx("dnsd: runtime_dir %s: %s", d->cfg->runtime_dir,
		    err_str(rc));
		return rc;
	}
	memset(&fo, 0, sizeof(fo));
	fo.consistent = !d->set->allow_stale;
	fo.max_stale_ms = d->set->max_stale_ms;
	if ((rc = dns_feed_open(d->loop, url, &fo, dnsd_view, d,
	    &d->feed)) != 0) {
		log_warnx("dnsd: cannot open %s: %s", url, err_str(rc));
		return rc;
	}
	if (d->cfg->ports.dns < 0) {
		log_info("dnsd: DNS disabled (ports.dns = -1)");
		return 0;
	}
	dnsd_listen_addr(d->cfg, addr, sizeof(addr));
	if ((rc = dns_udp_open(d, addr, d->cfg->ports.dns, &d->udp)) != 0 ||
	    (rc = dns_tcp_open(d, addr, d->cfg->ports.dns, &d->tcp)) != 0)
		return rc;
	log_info("dnsd: listening on %s:%d (udp, tcp), domain %s%s%s, "
	    "%zu recursors", addr, d->cfg->ports.dns, d->set->dns.domain,
	    d->set->dns.alt_domain != NULL ? ", alt_domain " : "",
	    d->set->dns.alt_domain != NULL ? d->set->dns.alt_domain : "",
	    d->set->n_recursors);
	return 0;
}

static void
dnsd_stop(struct dnsd *d)
{
	dns_udp_close(d->udp);
	dns_tcp_close(d->tcp);
	dns_feed_close(d->feed);
	dns_recursor_free(d->rec);
	if (d->view != d->empty_view)
		dns_view_free(d->view);
	dns_view_free(d->empty_view);
	dns_query_ctx_free(d->qctx);
	dns_ratelimit_free(d->rl);
	free(d->ns);
	if (d->set != NULL) {
		dns_settings_free(d->set);
		free(d->set);
	}
}

int
main(int argc, char *argv[])
{
	struct config cfg;
	struct dnsd d;
	char err[512];
	enum log_level lvl = LOG_LEVEL_INFO;
	bool check_only = false;
	int i, j, rc;

	/* -n (check the configuration) is ours; the rest is config_load's. */
	for (i = j = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0)
			check_only = true;
		else
			argv[j++] = argv[i];
	}
	argc = j;
	argv[argc] = NULL;
	log_init("dnsd", LOG_LEVEL_INFO);
	memset(&cfg, 0, sizeof(cfg));
	memset(&d, 0, sizeof(d));
	if (config_load(argc, argv, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "dnsd: %s\n", err);
		return 2;
	}
	if (log_level_parse(cfg.log_level, &lvl) == 0)
		log_set_level(lvl);
	if (*cfg.runtime_dir == '\0') {
		fprintf(stderr, "dnsd: runtime_dir is unset: use -data-dir DIR "
		    "or -runtime-dir DIR\n");
		config_free(&cfg);
		return 2;
	}
	d.cfg = &cfg;
	if ((d.loop = loop_new()) == NULL)
		fatal("dnsd: loop_new");
	if (dns_recursor_new(d.loop, &d.rec) != 0)
		fatal("dnsd: out of memory");
	if (dnsd_settings(&d, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "dnsd: %s\n", err);
		dnsd_stop(&d);
		loop_free(d.loop);
		config_free(&cfg);
		return 2;
	}
	if (check_only) {
		fprintf(stderr, "dnsd: configuration OK\n");
		dnsd_stop(&d);
		loop_free(d.loop);
		config_free(&cfg);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	loop_signal(d.loop, SIGINT, dnsd_signal, &d);
	loop_signal(d.loop, SIGTERM, dnsd_signal, &d);
	reload_install(d.loop, argc, argv, dnsd_reload, &d);
	rc = dnsd_start(&d);
	if (rc == 0) {
		if (daemon_watchdog_start(d.loop) < 0)
			log_warnx("dnsd: cannot arm the systemd watchdog");
		daemon_notify_status("serving DNS on port %d", cfg.ports.dns);
		daemon_notify_ready();
		rc = loop_run(d.loop);
	}
	dnsd_stop(&d);
	loop_free(d.loop);
	config_free(&cfg);
	log_debug("dnsd: stopped");
	return rc == 0 ? 0 : 1;
}
