/*
 * unit.h — the text of cairn's systemd units: the role table and the
 * formatting of one service, the target and the sysusers.d snippet into
 * a growable buffer. Pure: no files, no clock; systemd.c validates the
 * inputs and writes the files.
 */
#ifndef CAIRN_SYSTEMD_UNIT_H
#define CAIRN_SYSTEMD_UNIT_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct systemd_opts;

enum unit_role {
	UNIT_RAFTD,
	UNIT_GOSSIPD,
	UNIT_CHECKD,
	UNIT_HTTPD,
	UNIT_DNSD,
	UNIT_NROLES
};

/* A growable text buffer; an allocation failure is sticky (oom). */
struct unit_buf {
	char *p; /* NUL-terminated when len > 0; owned */
	size_t len;
	size_t cap;
	bool oom;
};

void unit_buf_init(struct unit_buf *b);
void unit_buf_fini(struct unit_buf *b);
void unit_buf_printf(struct unit_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* What every unit's text depends on; all fields borrowed, validated by
 * the caller (systemd_generate()). */
struct unit_ctx {
	const struct config *cfg;
	const struct systemd_opts *opts;
	const char *user;
	const char *prefix;
	const char *node;   /* the node name, or "%i" for templates */
	bool instances;
	bool netlink;       /* AF_NETLINK: advertise address is discovered */
};

/* "raftd", ...; static. */
const char *unit_role_name(enum unit_role r);

/*
 * The lowest port in 1..1023 that role r binds with cfg (so it needs
 * CAP_NET_BIND_SERVICE), or 0 when none. cfg is borrowed.
 */
int unit_low_port(const struct config *cfg, enum unit_role r);

/*
 * Appends word to b as one ExecStart= argument: as is when it holds only
 * safe characters, else double-quoted with \" and \\ escaped; "%" becomes
 * "%%" and "$" becomes "$$" (systemd.service(5) "Command lines"), except
 * that "%i" is kept when keep_instance is set. word is borrowed and must
 * hold no control character.
 */
void unit_quote(struct unit_buf *b, const char *word, bool keep_instance);

/* Append the text of one file to b. Return 0 or ERR_NOMEM. */
int unit_service(struct unit_buf *b, const struct unit_ctx *c,
    enum unit_role r);
int unit_target(struct unit_buf *b, const struct unit_ctx *c);
int unit_sysusers(struct unit_buf *b, const struct unit_ctx *c);

#endif
