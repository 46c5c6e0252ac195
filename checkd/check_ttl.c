/*
 * check_ttl.c — TTL checks: the status is set from outside (agent
 * check/pass|warn|fail|update); when no update arrives within the TTL
 * the check goes critical with output "TTL expired".
 *
 * Key decision: one loop timer per TTL check at its deadline; the
 * deadline is kept (and persisted by store.c as wall-clock time) so a
 * restarted checkd expires the check when it would have expired anyway.
 * Reference: spec/consul-api.md §3.1 (ttl); Consul agent/checks CheckTTL.
 */
#include <stdlib.h>
#include <string.h>

#include "checkd.h"
#include "log.h"
#include "loop.h"

static void
check_ttl_fire(struct loop *l, void *arg)
{
	struct checkd *cd;
	struct chk *c = arg;
	char *out;

	(void)l;
	c->timer = 0;
	c->ttl_deadline_ms = 0;
	cd = c->run_owner;
	log_info("check %s: TTL expired", c->id);
	out = strdup("TTL expired");
	local_set_status(cd, c, CHECK_CRITICAL, out);
}

void
check_ttl_arm(struct checkd *cd, struct chk *c)
{
	uint64_t now = loop_now_ms(cd->loop);

	check_ttl_cancel(cd, c);
	if (c->ttl_deadline_ms == 0)
		c->ttl_deadline_ms = now + c->ttl_ms;
	c->run_owner = cd;
	c->timer = loop_timer_add(cd->loop, c->ttl_deadline_ms > now ?
	    c->ttl_deadline_ms - now : 0, check_ttl_fire, c);
}

void
check_ttl_cancel(struct checkd *cd, struct chk *c)
{
	if (c->timer != 0) {
		loop_timer_cancel(cd->loop, c->timer);
		c->timer = 0;
	}
}
