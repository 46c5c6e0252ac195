/*
 * systemd.h — the generator behind `cairn systemd`: one node's systemd
 * units, written from that node's configuration.
 *
 * Five services (cairn-raftd, -gossipd, -checkd, -httpd, -dnsd) grouped by
 * cairn.target, plus a sysusers.d snippet (cairn.conf) creating the user
 * they run as. With instances set, templates instead (cairn-raftd@.service
 * ..., cairn@.target, %i = node name) so several nodes share a host.
 *
 * Key decision: the roles are grouped (PartOf=, WantedBy=) and ordered
 * (After=) but never bound to one another (no Requires=, BindsTo=), so
 * restarting raftd leaves httpd running (DESIGN.md §1, §3: callers answer
 * at once while a sibling is down and recover when it returns). Each role
 * is Type=notify with a watchdog and refuses a broken configuration in
 * ExecStartPre (`<role> -n`). Reference: systemd.service(5), systemd.exec(5),
 * systemd.unit(5), sysusers.d(5); cairn-systemd(8).
 */
#ifndef CAIRN_SYSTEMD_H
#define CAIRN_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>

struct config;

/* One -config-file or -config-dir, in the order given (order matters:
 * later sources win, spec §8.1). */
enum systemd_source_kind {
	SYSTEMD_CONFIG_FILE,
	SYSTEMD_CONFIG_DIR,
};

struct systemd_source {
	enum systemd_source_kind kind;
	const char *path; /* absolute; may hold %i when instances is set */
};

#define SYSTEMD_DEFAULT_USER "cairn"
#define SYSTEMD_DEFAULT_PREFIX "/usr/local"
#define SYSTEMD_STATE_ROOT "/var/lib/cairn"   /* StateDirectory=cairn/... */
#define SYSTEMD_RUNTIME_ROOT "/run/cairn"     /* RuntimeDirectory=cairn/... */
#define SYSTEMD_WATCHDOG_SEC 30
#define SYSTEMD_SYSUSERS_FILE "cairn.conf"

struct systemd_opts {
	const struct systemd_source *sources; /* borrowed; may be empty */
	size_t nsources;
	const char *out_dir;      /* required; created if missing (not
	                           * its parents) */
	const char *sysusers_dir; /* NULL: out_dir; created likewise */
	const char *user;         /* NULL: SYSTEMD_DEFAULT_USER */
	const char *prefix;       /* NULL: SYSTEMD_DEFAULT_PREFIX; binaries
	                           * are <prefix>/bin/<role> */
	bool instances;           /* templates with %i = node name */
};

/*
 * Writes the node's units into opts->out_dir (and cairn.conf into
 * opts->sysusers_dir or out_dir), each file written to a temporary name
 * and renamed, mode 0644. cfg and opts are borrowed. cfg supplies the node
 * name (unused with instances: %i is the node), and the ports that decide
 * which role may bind below 1024 (CAP_NET_BIND_SERVICE) and whether the
 * advertise address is discovered from the interfaces (AF_NETLINK).
 * Returns 0; ERR_INVAL after writing into err one line naming the bad
 * option, path or name; or ERR_IO naming the file that could not be
 * written (files already written are left in place).
 */
int systemd_generate(const struct config *cfg,
    const struct systemd_opts *opts, char *err, size_t errlen);

/* The file names systemd_generate() writes, in order, for instances or
 * not; NULL-terminated, static. */
const char *const *systemd_files(bool instances);

#endif
