/*
 * unit.c — the text of cairn's systemd units (see unit.h).
 *
 * The role table below is the template: one row per role saying what it
 * is, what it is ordered after, whether it serves IPC sockets (and so
 * declares the shared RuntimeDirectory=) and what a SIGHUP reloads. Each
 * service is Type=notify (READY=1 once the role serves, WATCHDOG=1 from
 * its loop; common/daemon.c), Restart=on-failure, and sandboxed with
 * systemd.exec(5)'s hardening options; a role gets CAP_NET_BIND_SERVICE
 * only when the configuration makes it bind a port below 1024.
 *
 * Key decision: roles are grouped by the target (PartOf=, WantedBy=) and
 * ordered (After=) but never bound (Requires=, BindsTo=): DESIGN.md §3
 * makes a missing sibling a clear error that heals by itself, so one role
 * restarts alone. The runtime directory is shared by the roles of a node
 * and kept when one of them stops (RuntimeDirectoryPreserve=yes),
 * otherwise stopping raftd would delete gossipd's and checkd's sockets.
 * Reference: systemd.service(5), systemd.exec(5), systemd.kill(5),
 * systemd.unit(5) "Specifiers", sysusers.d(5).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "systemd/systemd.h"
#include "systemd/unit.h"

struct unit_role_def {
	const char *name;
	const char *what;     /* Description= */
	const char *after[3]; /* roles ordered before this one */
	bool serves_ipc;      /* raftd.rpc, gossipd.rpc, checkd.rpc */
	bool mdwe;            /* MemoryDenyWriteExecute= is safe */
	const char *reload;   /* what SIGHUP re-reads (spec: reload) */
};

static const struct unit_role_def unit_roles[UNIT_NROLES] = {
	[UNIT_RAFTD] = {"raftd", "Raft consensus and replicated state",
	    {"gossipd"}, true, true,
	    "log_level, limits and raft_snapshot_* settings"},
	[UNIT_GOSSIPD] = {"gossipd", "gossip membership (SWIM)",
	    {NULL}, true, true, "log_level"},
	/* checkd runs script checks as its children: a JIT interpreter
	 * (node, java) in a check needs writable executable memory. */
	[UNIT_CHECKD] = {"checkd", "local services and health checks",
	    {"gossipd", "raftd"}, true, false,
	    "services, checks, watches and log_level"},
	[UNIT_HTTPD] = {"httpd", "HTTP API and web UI",
	    {"gossipd", "raftd", "checkd"}, false, true,
	    "log_level, http_config and limits"},
	[UNIT_DNSD] = {"dnsd", "DNS interface", {"raftd"}, false, true,
	    "dns_config and log_level"},
};

void
unit_buf_init(struct unit_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
unit_buf_fini(struct unit_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
unit_buf_printf(struct unit_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p == NULL ? NULL : b->p + b->len, room, fmt,
		    ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = b->cap == 0 ? 1024 : b->cap;
		while (ncap - b->len <= (size_t)n)
			ncap *= 2;
		char *np = realloc(b->p, ncap);
		if (np == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}

const char *
unit_role_name(enum unit_role r)
{
	return r < UNIT_NROLES ? unit_roles[r].name : "?";
}

static int
unit_low(int lowest, int port)
{
	if (port <= 0 || port >= 1024)
		return lowest;
	return lowest == 0 || port < lowest ? port : lowest;
}

int
unit_low_port(const struct config *cfg, enum unit_role r)
{
	int p = 0;

	switch (r) {
	case UNIT_RAFTD:
		/* A client's raftd forwards to servers; it does not listen. */
		if (cfg->server)
			p = unit_low(p, cfg->ports.server);
		break;
	case UNIT_GOSSIPD:
		p = unit_low(p, cfg->ports.serf_lan);
		if (cfg->server)
			p = unit_low(p, cfg->ports.serf_wan);
		break;
	case UNIT_HTTPD:
		p = unit_low(p, cfg->ports.http);
		p = unit_low(p, cfg->ports.https);
		break;
	case UNIT_DNSD:
		p = unit_low(p, cfg->ports.dns);
		break;
	case UNIT_CHECKD:
	case UNIT_NROLES:
		break;
	}
	return p;
}

static bool
unit_safe_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || strchr("/._,:=+@-", ch) != NULL;
}

void
unit_quote(struct unit_buf *b, const char *word, bool keep_instance)
{
	bool plain = word[0] != '\0';

	for (const char *s = word; *s != '\0'; s++)
		if (!unit_safe_char(*s) && *s != '%')
			plain = false;
	if (!plain)
		unit_buf_printf(b, "\"");
	for (const char *s = word; *s != '\0'; s++) {
		if (*s == '%' && keep_instance && s[1] == 'i') {
			unit_buf_printf(b, "%%i");
			s++;
		} else if (*s == '%')
			unit_buf_printf(b, "%%%%");
		else if (*s == '$')
			unit_buf_printf(b, "$$");
		else if (*s == '"' || *s == '\\')
			unit_buf_printf(b, "\\%c", *s);
		else
			unit_buf_printf(b, "%c", *s);
	}
	if (!plain)
		unit_buf_printf(b, "\"");
}

/* "cairn-raftd.service" or "cairn-raftd@%i.service" */
static void
unit_name(struct unit_buf *b, const struct unit_ctx *c, enum unit_role r)
{
	unit_buf_printf(b, "cairn-%s%s.service", unit_roles[r].name,
	    c->instances ? "@%i" : "");
}

static const char *
unit_target_name(const struct unit_ctx *c)
{
	return c->instances ? "cairn@%i.target" : "cairn.target";
}

static void
unit_header(struct unit_buf *b, const struct unit_ctx *c)
{
	const struct systemd_opts *o = c->opts;

	unit_buf_printf(b, "# Generated by `cairn systemd` from ");
	if (o->nsources == 0)
		unit_buf_printf(b, "the default configuration (no file)");
	for (size_t i = 0; i < o->nsources; i++)
		unit_buf_printf(b, "%s%s %s", i > 0 ? " " : "",
		    o->sources[i].kind == SYSTEMD_CONFIG_DIR ?
			"-config-dir" : "-config-file",
		    o->sources[i].path);
	unit_buf_printf(b, "\n");
	if (c->instances)
		unit_buf_printf(b, "# as templates: the instance name "
		    "(%%i) is the node name.\n");
	else
		unit_buf_printf(b, "# for node %s.\n", c->node);
	unit_buf_printf(b, "# Do not edit: change the configuration and run "
	    "`cairn systemd` again.\n");
}

/* ExecStart= arguments after the program: the configuration sources the
 * generator was given, then the node's directories. */
static void
unit_args(struct unit_buf *b, const struct unit_ctx *c)
{
	const struct systemd_opts *o = c->opts;

	for (size_t i = 0; i < o->nsources; i++) {
		unit_buf_printf(b, " %s ",
		    o->sources[i].kind == SYSTEMD_CONFIG_DIR ? "-config-dir" :
							     "-config-file");
		unit_quote(b, o->sources[i].path, c->instances);
	}
	if (c->instances)
		unit_buf_printf(b, " -node %%i");
	unit_buf_printf(b, " -data-dir %s/%s -runtime-dir %s/%s",
	    SYSTEMD_STATE_ROOT, c->node, SYSTEMD_RUNTIME_ROOT, c->node);
}

static void
unit_section_unit(struct unit_buf *b, const struct unit_ctx *c,
    enum unit_role r)
{
	const struct unit_role_def *d = &unit_roles[r];

	unit_buf_printf(b, "\n[Unit]\nDescription=cairn %s: %s (node %s)\n",
	    d->name, d->what, c->node);
	unit_buf_printf(b, "Documentation=man:%s(8) man:cairn-systemd(8)\n",
	    d->name);
	unit_buf_printf(b, "# Grouped by the target, ordered after its "
	    "siblings, never bound to them:\n# restarting one role leaves "
	    "the others running.\n");
	unit_buf_printf(b, "PartOf=%s\n", unit_target_name(c));
	unit_buf_printf(b, "Wants=network-online.target\n");
	unit_buf_printf(b, "After=network-online.target");
	for (size_t i = 0; i < 3 && d->after[i] != NULL; i++) {
		unit_buf_printf(b, " cairn-%s%s.service", d->after[i],
		    c->instances ? "@%i" : "");
	}
	unit_buf_printf(b, "\n");
}

static void
unit_section_exec(struct unit_buf *b, const struct unit_ctx *c,
    enum unit_role r)
{
	const struct unit_role_def *d = &unit_roles[r];

	unit_buf_printf(b, "\n[Service]\nType=notify\nNotifyAccess=main\n");
	unit_buf_printf(b, "# Refuse a broken configuration (exit 2) "
	    "before starting.\n");
	unit_buf_printf(b, "ExecStartPre=%s/bin/%s -n", c->prefix, d->name);
	unit_args(b, c);
	unit_buf_printf(b, "\nExecStart=%s/bin/%s", c->prefix, d->name);
	unit_args(b, c);
	unit_buf_printf(b, "\n# SIGHUP re-reads %s.\n", d->reload);
	unit_buf_printf(b, "ExecReload=/bin/kill -HUP $MAINPID\n");
	unit_buf_printf(b, "# A role that dies of SIGHUP (a clean signal to "
	    "systemd) is restarted,\n# which re-reads everything, rather "
	    "than left down.\n");
	unit_buf_printf(b, "RestartForceExitStatus=SIGHUP\n");
	unit_buf_printf(b, "# SIGTERM drains and exits.\n");
	unit_buf_printf(b, "KillSignal=SIGTERM\nTimeoutStopSec=30s\n");
	unit_buf_printf(b, "Restart=on-failure\nRestartSec=1s\n");
	unit_buf_printf(b, "# Exit status 2 is a bad configuration: "
	    "restarting cannot fix it.\n");
	unit_buf_printf(b, "RestartPreventExitStatus=2\n");
	unit_buf_printf(b, "WatchdogSec=%ds\n", SYSTEMD_WATCHDOG_SEC);
	unit_buf_printf(b, "LimitNOFILE=65536\n");
	unit_buf_printf(b, "User=%s\nGroup=%s\nUMask=0077\n", c->user,
	    c->user);
	unit_buf_printf(b, "StateDirectory=cairn/%s\n", c->node);
	unit_buf_printf(b, "StateDirectoryMode=0700\n");
	if (d->serves_ipc) {
		unit_buf_printf(b, "# IPC sockets of every role of the node; "
		    "kept when this role stops.\n");
		unit_buf_printf(b, "RuntimeDirectory=cairn/%s\n", c->node);
		unit_buf_printf(b, "RuntimeDirectoryMode=0700\n");
		unit_buf_printf(b, "RuntimeDirectoryPreserve=yes\n");
	}
}

static void
unit_section_sandbox(struct unit_buf *b, const struct unit_ctx *c,
    enum unit_role r)
{
	const struct unit_role_def *d = &unit_roles[r];
	int low = unit_low_port(c->cfg, r);

	unit_buf_printf(b, "# Sandbox.\n");
	if (r == UNIT_CHECKD)
		unit_buf_printf(b, "# Script checks (args, script) run as "
		    "children of checkd, inside this\n# sandbox: as user %s, "
		    "read-only file system except %s/%s,\n# private /tmp, no "
		    "home directories, no capabilities, no new privileges.\n",
		    c->user, SYSTEMD_STATE_ROOT, c->node);
	unit_buf_printf(b, "ProtectSystem=strict\nProtectHome=yes\n"
	    "PrivateTmp=yes\nPrivateDevices=yes\nNoNewPrivileges=yes\n");
	unit_buf_printf(b, "ProtectKernelTunables=yes\nProtectKernelModules=yes"
	    "\nProtectKernelLogs=yes\nProtectControlGroups=yes\n"
	    "ProtectClock=yes\nProtectHostname=yes\n");
	unit_buf_printf(b, "RestrictNamespaces=yes\nRestrictRealtime=yes\n"
	    "RestrictSUIDSGID=yes\nLockPersonality=yes\n");
	if (d->mdwe)
		unit_buf_printf(b, "MemoryDenyWriteExecute=yes\n");
	unit_buf_printf(b, "SystemCallArchitectures=native\n"
	    "SystemCallFilter=@system-service\nSystemCallErrorNumber=EPERM\n");
	if (c->netlink)
		unit_buf_printf(b, "# AF_NETLINK: the advertise address is "
		    "picked from the interfaces (getifaddrs).\n");
	unit_buf_printf(b, "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6%s\n",
	    c->netlink ? " AF_NETLINK" : "");
	if (low > 0) {
		unit_buf_printf(b, "# Binds port %d, below 1024.\n", low);
		unit_buf_printf(b, "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n"
		    "AmbientCapabilities=CAP_NET_BIND_SERVICE\n");
	} else
		unit_buf_printf(b, "CapabilityBoundingSet=\n");
}

int
unit_service(struct unit_buf *b, const struct unit_ctx *c, enum unit_role r)
{
	if (r >= UNIT_NROLES)
		return ERR_INVAL;
	unit_header(b, c);
	unit_section_unit(b, c, r);
	unit_section_exec(b, c, r);
	unit_section_sandbox(b, c, r);
	unit_buf_printf(b, "\n[Install]\nWantedBy=%s\n", unit_target_name(c));
	return b->oom ? ERR_NOMEM : 0;
}

int
unit_target(struct unit_buf *b, const struct unit_ctx *c)
{
	unit_header(b, c);
	unit_buf_printf(b, "\n[Unit]\nDescription=cairn node %s "
	    "(raftd, gossipd, checkd, httpd, dnsd)\n", c->node);
	unit_buf_printf(b, "Documentation=man:cairn-systemd(8)\n");
	unit_buf_printf(b, "# The roles are WantedBy= and PartOf= this "
	    "target: stopping or restarting\n# it does the same to all of "
	    "them; each role can also be restarted alone.\n");
	unit_buf_printf(b, "\n[Install]\nWantedBy=multi-user.target\n");
	unit_buf_printf(b, "# Enabling the target enables every role.\n");
	unit_buf_printf(b, "Also=");
	for (int r = 0; r < UNIT_NROLES; r++) {
		if (r > 0)
			unit_buf_printf(b, " ");
		unit_name(b, c, (enum unit_role)r);
	}
	unit_buf_printf(b, "\n");
	return b->oom ? ERR_NOMEM : 0;
}

int
unit_sysusers(struct unit_buf *b, const struct unit_ctx *c)
{
	unit_header(b, c);
	unit_buf_printf(b, "# The system user every cairn role runs as "
	    "(sysusers.d(5)).\n");
	unit_buf_printf(b, "#Type Name ID GECOS Home Shell\n");
	unit_buf_printf(b, "u %s - \"cairn service discovery\" - -\n",
	    c->user);
	return b->oom ? ERR_NOMEM : 0;
}
