/*
 * reload.h — SIGHUP for every role: re-read the configuration the role
 * was started with (the same argv, so the same -config-file/-config-dir)
 * and apply what can change at run time. Today that is the log level; a
 * role with more to reload passes a callback. An invalid configuration is
 * logged and the running one kept (spec §8.1 "Reload"). systemd is told
 * RELOADING=1 and then READY=1.
 */
#ifndef CAIRN_RELOAD_H
#define CAIRN_RELOAD_H

struct config;
struct loop;

/* Called with the new, valid configuration (borrowed for the call). */
typedef void (*reload_cb)(const struct config *cfg, void *arg);

/*
 * Handles SIGHUP on l from now on. argv is borrowed and must outlive the
 * loop (main's argv). cb may be NULL. Returns 0 or an ERR_* code.
 */
int reload_install(struct loop *l, int argc, char **argv, reload_cb cb,
    void *arg);

#endif
