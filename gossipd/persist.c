/*
 * persist.c — <data_dir>/serf/local.snapshot: the addresses of the LAN
 * members this agent knows, so a restarted gossipd rejoins by itself,
 * and a "leave" line once the agent left gracefully (it then does not
 * rejoin unless rejoin_after_leave).
 *
 * Key decision: a small text file rewritten whole (write to a temporary
 * file, fsync, rename) at once after a member change, then at most once
 * a second,
 * rather than serf's append-only event log: member lists here are small
 * and a rewrite is always consistent. Reference: serf snapshot.go
 * (alive/not-alive/leave records), consul agent/consul/server.go
 * (serf/local.snapshot), spec §6.4 (-rejoin).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "err.h"
#include "gossipd.h"
#include "log.h"
#include "loop.h"

int
persist_open(struct gossipd *g)
{
	char dir[3800];
	int rc;

	if (*g->cfg->data_dir == '\0')
		return 0; /* nothing to persist to */
	snprintf(dir, sizeof(dir), "%s/serf", g->cfg->data_dir);
	if ((rc = daemon_mkdirs(dir, 0700)) != 0)
		return rc;
	snprintf(g->snap_path, sizeof(g->snap_path), "%s/local.snapshot",
	    dir);
	return 0;
}

static int
persist_write(struct gossipd *g, bool leave)
{
	char tmp[4200], ip[64];
	struct swim_member_view v;
	size_t pos = 0;
	FILE *f;
	int fd;

	if (g->snap_path[0] == '\0' || g->lan.swim == NULL)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", g->snap_path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		log_warn("gossipd: %s", tmp);
		return ERR_IO;
	}
	while (swim_member_next(g->lan.swim, &pos, &v)) {
		if (strcmp(v.name, g->lan.name) == 0 ||
		    v.status != SWIM_STATUS_ALIVE)
			continue;
		pool_addr_ip(&v.addr, ip, sizeof(ip));
		if (strchr(ip, ':') != NULL)
			fprintf(f, "alive: %s [%s]:%u\n", v.name, ip,
			    v.addr.port);
		else
			fprintf(f, "alive: %s %s:%u\n", v.name, ip,
			    v.addr.port);
	}
	if (leave)
		fprintf(f, "leave\n");
	if (fflush(f) != 0 || fsync(fd) != 0) {
		fclose(f);
		unlink(tmp);
		return ERR_IO;
	}
	fclose(f);
	if (rename(tmp, g->snap_path) != 0)
		return err_from_errno(errno);
	return 0;
}

static void
persist_timer(struct loop *l, void *arg)
{
	struct gossipd *g = arg;

	(void)l;
	g->snap_timer = 0;
	if (!g->snap_dirty || g->leaving)
		return;
	g->snap_dirty = false;
	persist_write(g, false);
	g->snap_timer = loop_timer_add(g->loop, 1000, persist_timer, g);
}

/* The first change is written at once (a kill -9 right after a join
 * must still find the members at restart); later ones at most once a
 * second. */
void
persist_mark_dirty(struct gossipd *g)
{
	if (g->snap_path[0] == '\0' || g->leaving)
		return;
	if (g->snap_timer != 0) {
		g->snap_dirty = true;
		return;
	}
	g->snap_dirty = false;
	persist_write(g, false);
	g->snap_timer = loop_timer_add(g->loop, 1000, persist_timer, g);
}

void
persist_leave(struct gossipd *g)
{
	persist_write(g, true);
}

int
persist_load(struct gossipd *g, char ***addrs, size_t *n, bool *left)
{
	char line[1024], name[512], addr[512];
	char **v = NULL, **nv;
	size_t k = 0;
	FILE *f;

	*addrs = NULL;
	*n = 0;
	*left = false;
	if (g->snap_path[0] == '\0' ||
	    (f = fopen(g->snap_path, "r")) == NULL)
		return ERR_NOTFOUND;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "leave", 5) == 0) {
			*left = true;
			continue;
		}
		if (sscanf(line, "alive: %511s %511s", name, addr) != 2)
			continue;
		if ((nv = realloc(v, (k + 1) * sizeof(*v))) == NULL)
			break;
		v = nv;
		if ((v[k] = strdup(addr)) == NULL)
			break;
		k++;
	}
	fclose(f);
	*addrs = v;
	*n = k;
	return 0;
}

void
persist_addrs_free(char **addrs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(addrs[i]);
	free(addrs);
}

void
persist_close(struct gossipd *g)
{
	if (g->snap_timer != 0)
		loop_timer_cancel(g->loop, g->snap_timer);
	g->snap_timer = 0;
	if (g->snap_dirty && !g->leaving)
		persist_write(g, false);
}
