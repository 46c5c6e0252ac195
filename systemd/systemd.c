/*
 * systemd.c — `cairn systemd`'s generator: checks the options and the
 * node name, then writes each unit (text from unit.c) into the output
 * directory.
 *
 * Key decision: everything that lands in a unit is validated here, before
 * any file is written, and names are restricted to what needs no quoting
 * in a path or a unit name (node: letters, digits, '.', '_', '-'), so a
 * node name can never smuggle a specifier, a newline or "../" into a unit.
 * Configuration paths are free-form but absolute; unit.c quotes them.
 * Each file is written to a temporary name and renamed, so systemd never
 * reads half a unit. Reference: systemd.unit(5) "Specifiers",
 * systemd.service(5) "Command lines", sysusers.d(5).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "systemd/systemd.h"
#include "systemd/unit.h"

#define SYSTEMD_NAME_MAX 64

/* The first UNIT_NROLES names are the services, in enum unit_role order. */
static const char *const systemd_files_plain[] = {
	"cairn-raftd.service", "cairn-gossipd.service", "cairn-checkd.service",
	"cairn-httpd.service", "cairn-dnsd.service", "cairn.target",
	SYSTEMD_SYSUSERS_FILE, NULL};
static const char *const systemd_files_inst[] = {
	"cairn-raftd@.service", "cairn-gossipd@.service",
	"cairn-checkd@.service", "cairn-httpd@.service", "cairn-dnsd@.service",
	"cairn@.target", SYSTEMD_SYSUSERS_FILE, NULL};

const char *const *
systemd_files(bool instances)
{
	return instances ? systemd_files_inst : systemd_files_plain;
}

static bool
systemd_name_ok(const char *s, const char *extra)
{
	size_t n = strlen(s);

	if (n == 0 || n > SYSTEMD_NAME_MAX)
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(extra, *p) != NULL))
			return false;
	}
	return true;
}

static int
systemd_check_user(const char *user, char *err, size_t errlen)
{
	/* sysusers.d(5) and useradd's portable set; a leading digit or '-'
	 * would read as a uid or an option. */
	if (!systemd_name_ok(user, "_-") || strlen(user) > 31 ||
	    user[0] == '-' || (user[0] >= '0' && user[0] <= '9')) {
		snprintf(err, errlen, "-user %s: not a valid user name "
		    "(letters, digits, '_', '-'; at most 31)", user);
		return ERR_INVAL;
	}
	if (strcmp(user, "root") == 0) {
		snprintf(err, errlen, "-user root: the roles run as an "
		    "unprivileged user");
		return ERR_INVAL;
	}
	return 0;
}

static int
systemd_check_prefix(const char *prefix, char *err, size_t errlen)
{
	/* Printed unquoted into ExecStart=: only characters that need no
	 * quoting and are no specifier. */
	if (prefix[0] != '/' || !systemd_name_ok(prefix, "/._+-") ||
	    strstr(prefix, "/../") != NULL) {
		snprintf(err, errlen, "-prefix %s: must be an absolute path "
		    "of letters, digits, '/', '.', '_', '+', '-'", prefix);
		return ERR_INVAL;
	}
	return 0;
}

static int
systemd_check_sources(const struct systemd_opts *o, char *err, size_t errlen)
{
	for (size_t i = 0; i < o->nsources; i++) {
		const char *p = o->sources[i].path;
		const char *flag = o->sources[i].kind == SYSTEMD_CONFIG_DIR ?
		    "-config-dir" : "-config-file";

		if (p == NULL || p[0] != '/') {
			snprintf(err, errlen, "%s %s: must be an absolute path",
			    flag, p == NULL ? "(null)" : p);
			return ERR_INVAL;
		}
		for (const char *s = p; *s != '\0'; s++) {
			if ((unsigned char)*s < 0x20 || *s == 0x7f) {
				snprintf(err, errlen, "%s: path holds a "
				    "control character", flag);
				return ERR_INVAL;
			}
		}
		if (!o->instances && strstr(p, "%i") != NULL) {
			snprintf(err, errlen, "%s %s: %%i names the node only "
			    "with -instances", flag, p);
			return ERR_INVAL;
		}
	}
	return 0;
}

static int
systemd_check_node(const struct config *cfg, char *err, size_t errlen)
{
	const char *n = cfg->node_name;

	if (n == NULL || !systemd_name_ok(n, "._-") || strcmp(n, ".") == 0 ||
	    strcmp(n, "..") == 0) {
		snprintf(err, errlen, "node name %s: cannot name a directory "
		    "or unit (letters, digits, '.', '_', '-'; at most %d)",
		    n == NULL || n[0] == '\0' ? "(empty)" : n, SYSTEMD_NAME_MAX);
		return ERR_INVAL;
	}
	return 0;
}

static int
systemd_check_dir(const char *flag, const char *dir, char *err,
    size_t errlen)
{
	struct stat st;

	if (dir == NULL || dir[0] == '\0') {
		snprintf(err, errlen, "%s: no directory given", flag);
		return ERR_INVAL;
	}
	/* Created when missing (Debian has no /etc/sysusers.d), not its
	 * parents: a mistyped path fails rather than growing a tree. */
	if (stat(dir, &st) == -1 && (errno != ENOENT || mkdir(dir, 0755) == -1 ||
	    stat(dir, &st) == -1)) {
		snprintf(err, errlen, "%s %s: %s", flag, dir, strerror(errno));
		return ERR_INVAL;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a directory", flag, dir);
		return ERR_INVAL;
	}
	return 0;
}

static bool
systemd_wildcard(const char *a)
{
	return a == NULL || a[0] == '\0' || strcmp(a, "0.0.0.0") == 0 ||
	    strcmp(a, "::") == 0 || strcmp(a, "[::]") == 0 ||
	    strstr(a, "{{") != NULL;
}

/* True when the roles pick the advertise address from the interfaces
 * (advertise_addr, else bind_addr, is a wildcard or a go-sockaddr
 * template), which getifaddrs() reads over netlink. getaddrinfo() alone
 * does not need AF_NETLINK: glibc's check_pf assumes both IPv4 and IPv6
 * when the netlink socket is refused. */
static bool
systemd_needs_netlink(const struct config *cfg)
{
	const char *a = cfg->advertise_addr;

	if (a == NULL || a[0] == '\0')
		a = cfg->bind_addr;
	return systemd_wildcard(a);
}

static int
systemd_write(const char *dir, const char *name, const struct unit_buf *b,
    char *err, size_t errlen)
{
	char path[4096], tmp[4200];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		snprintf(err, errlen, "%s/%s: path too long", dir, name);
		return ERR_INVAL;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path);
	if ((fd = mkstemp(tmp)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ERR_IO;
	}
	size_t off = 0;
	while (off < b->len) {
		ssize_t n = write(fd, b->p + off, b->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fchmod(fd, 0644) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return ERR_IO;
}

static int
systemd_check(const struct config *cfg, const struct systemd_opts *o,
    struct unit_ctx *c, char *err, size_t errlen)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->opts = o;
	c->instances = o->instances;
	c->user = o->user != NULL ? o->user : SYSTEMD_DEFAULT_USER;
	c->prefix = o->prefix != NULL ? o->prefix : SYSTEMD_DEFAULT_PREFIX;
	if ((rc = systemd_check_user(c->user, err, errlen)) != 0 ||
	    (rc = systemd_check_prefix(c->prefix, err, errlen)) != 0 ||
	    (rc = systemd_check_sources(o, err, errlen)) != 0 ||
	    (rc = systemd_check_dir("-out", o->out_dir, err, errlen)) != 0)
		return rc;
	if (o->sysusers_dir != NULL && (rc = systemd_check_dir(
	    "-sysusers-dir", o->sysusers_dir, err, errlen)) != 0)
		return rc;
	if (o->instances)
		c->node = "%i";
	else if ((rc = systemd_check_node(cfg, err, errlen)) != 0)
		return rc;
	else
		c->node = cfg->node_name;
	c->netlink = systemd_needs_netlink(cfg);
	return 0;
}

int
systemd_generate(const struct config *cfg, const struct systemd_opts *o,
    char *err, size_t errlen)
{
	const char *const *files = systemd_files(o->instances);
	struct unit_ctx c;
	struct unit_buf b;
	int rc;

	if ((rc = systemd_check(cfg, o, &c, err, errlen)) != 0)
		return rc;
	for (int i = 0; files[i] != NULL; i++) {
		const char *dir = o->out_dir;

		unit_buf_init(&b);
		if (i < UNIT_NROLES)
			rc = unit_service(&b, &c, (enum unit_role)i);
		else if (strcmp(files[i], SYSTEMD_SYSUSERS_FILE) == 0) {
			rc = unit_sysusers(&b, &c);
			if (o->sysusers_dir != NULL)
				dir = o->sysusers_dir;
		} else
			rc = unit_target(&b, &c);
		if (rc != 0)
			snprintf(err, errlen, "%s: %s", files[i], err_str(rc));
		else
			rc = systemd_write(dir, files[i], &b, err, errlen);
		unit_buf_fini(&b);
		if (rc != 0)
			return rc;
	}
	return 0;
}
