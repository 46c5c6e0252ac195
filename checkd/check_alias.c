/*
 * check_alias.c — alias checks: the status mirrors the worst status of
 * the aliased LOCAL service's checks (node checks included, as Consul's
 * local alias does). An unknown service is critical.
 *
 * Key decision: evaluated in memory whenever any local status changes
 * (run_alias_update), no polling. A remote alias (AliasNode or a service
 * of another node) would need a blocking catalog query and is not done.
 * Reference: spec/consul-api.md §3.1 (alias); Consul agent/checks/alias.go.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkd.h"

void
check_alias_eval(struct checkd *cd, struct chk *c)
{
	const struct svc *s = local_svc(cd, c->alias_service);
	const struct chk *x;
	int worst = CHECK_PASSING, pass;
	const char *want;
	char *out = NULL;

	if (s == NULL) {
		if (asprintf(&out, "Service not found: %s",
		    c->alias_service) < 0)
			out = NULL;
		if (c->status != CHECK_CRITICAL || out == NULL ||
		    c->output == NULL || strcmp(c->output, out) != 0)
			local_set_status(cd, c, CHECK_CRITICAL, out);
		else
			free(out);
		return;
	}
	/* the service's checks, then the node's */
	for (pass = 0; pass < 2; pass++)
		for (x = local_svc_chk(cd, pass == 0 ? s->id : ""); x != NULL;
		    x = local_svc_chk_next(x))
			if (x != c && x->status > worst)
				worst = x->status;
	want = worst == CHECK_PASSING ? "All checks passing." :
	    worst == CHECK_WARNING ? "At least one check is warning." :
	    "At least one check is critical.";
	if (worst == c->status && c->output != NULL &&
	    strcmp(c->output, want) == 0)
		return;
	local_set_status(cd, c, worst, strdup(want));
}
