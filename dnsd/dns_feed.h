/*
 * dns_feed.h — dnsd's follower of the catalog in raftd: it keeps a
 * complete dns_view built from stale catalog reads and hands every new
 * view to the daemon, so that answering a query costs no IPC.
 *
 * Three blocking stale reads watch the catalog's table indexes (nodes,
 * services, checks: MSG_CATALOG_GET with CATALOG_NODES, CATALOG_SERVICES
 * and CATALOG_HEALTH_STATE "any"). When any index moves, the feed reads
 * the whole catalog (all nodes, all checks, the service names and each
 * service's instances) into a fresh view and passes it to the callback,
 * which swaps it in; queries use the old view until then. While raftd is
 * unreachable the last view stays in use: the feed logs once that it is
 * stale, retries with back-off (100 ms doubling to 5 s) and logs again
 * when it is current. Reference: Consul agent/dns.go (stale reads with
 * max_stale); DESIGN.md §6 (the DNS path); spec/consul-api.md §1.5
 * (blocking queries), §3.2 (health aggregation).
 */
#ifndef CAIRN_DNS_FEED_H
#define CAIRN_DNS_FEED_H

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct dns_view;
struct dns_feed;

/* A new complete view, owned by the callee from now on. */
typedef void (*dns_feed_view_cb)(void *arg, struct dns_view *view,
    uint64_t index);

struct dns_feed_opts {
	uint32_t wait_ms;      /* blocking wait per watch (default 300000) */
	uint32_t call_slack_ms; /* IPC deadline beyond the wait (10000) */
	uint32_t retry_min_ms; /* back-off start (100) */
	uint32_t retry_max_ms; /* back-off cap (5000) */
	/* dns_config.allow_stale / max_stale (spec §5.1): stale reads
	 * unless allow_stale is false; a stale rebuild that finds raftd out
	 * of contact with the leader for longer than max_stale_ms (0: no
	 * limit) is redone as a leader read. */
	bool consistent;
	uint64_t max_stale_ms;
};

/*
 * Dials url (an ipc:// URL of raftd.rpc, borrowed) and starts following
 * the catalog on l (borrowed; must outlive the feed). opts may be NULL
 * (defaults). cb(arg, view, index) is called on the loop thread for the
 * first view and every change after. Returns 0 and an owned feed in *out
 * (dns_feed_close), or ERR_NOMEM / the ipc_client_open() error.
 */
int dns_feed_open(struct loop *l, const char *url,
    const struct dns_feed_opts *opts, dns_feed_view_cb cb, void *arg,
    struct dns_feed **out);

/* Applies new allow_stale / max_stale values (a reload) from the next
 * read on. */
void dns_feed_set_staleness(struct dns_feed *f, bool consistent,
    uint64_t max_stale_ms);

/* Stops following; calls in flight are cancelled. NULL is a no-op. */
void dns_feed_close(struct dns_feed *f);

/* Whether the last attempt to read the catalog failed (the daemon's view
 * may be out of date), and the index of the last view delivered. */
bool dns_feed_stale(const struct dns_feed *f);
uint64_t dns_feed_index(const struct dns_feed *f);

#endif
