/*
 * cmd_systemd.c — `cairn systemd`: reads a node's configuration the way
 * its roles will (config_load() with the same -config-dir/-config-file)
 * and writes the node's systemd units with systemd_generate().
 *
 * Key decision: the units pass the roles exactly the configuration
 * sources given here, made absolute, plus -data-dir and -runtime-dir
 * under /var/lib/cairn/<node> and /run/cairn/<node>; so what was checked
 * here is what the roles read. With -instances a path may hold %i (the
 * node), left for systemd to expand; -node NAME then says which
 * instance's configuration to read for the check. Flags are Consul's
 * style: one or two dashes, "-flag value" or "-flag=value".
 * Reference: cairn-systemd(8); DESIGN.md §7 (exit status 0/1/2).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "systemd/systemd.h"

#define CMD_SYSTEMD_MAXSRC 64

/* Declared for the dispatch table in cli/cairn.c (cli/cli.h). */
int cmd_systemd_main(int argc, char **argv);

struct cmd_systemd_args {
	struct systemd_source src[CMD_SYSTEMD_MAXSRC];
	char *owned[CMD_SYSTEMD_MAXSRC]; /* absolute copies of src paths */
	size_t nsrc;
	struct systemd_opts opts;
	const char *node;
	bool help;
};

static void
cmd_systemd_usage(FILE *f)
{
	fprintf(f, "Usage: cairn systemd [-config-dir DIR] [-config-file FILE]"
	    " [-out DIR]\n"
	    "                     [-sysusers-dir DIR] [-user NAME] "
	    "[-prefix DIR]\n"
	    "                     [-instances [-node NAME]]\n"
	    "Writes the node's systemd units (see cairn-systemd(8)).\n");
}

/* An absolute copy of path (owned, free()); NULL on failure. */
static char *
cmd_systemd_abs(const char *path)
{
	char cwd[4096], *p;

	if (path[0] == '/')
		return strdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	if (asprintf(&p, "%s/%s", cwd, path) < 0)
		return NULL;
	return p;
}

static int
cmd_systemd_flag(struct cmd_systemd_args *a, const char *name,
    const char *val)
{
	if (strcmp(name, "config-dir") == 0 ||
	    strcmp(name, "config-file") == 0) {
		if (a->nsrc == CMD_SYSTEMD_MAXSRC) {
			fprintf(stderr, "cairn systemd: -%s: more than %d "
			    "configuration sources\n", name,
			    CMD_SYSTEMD_MAXSRC);
			return 2;
		}
		if ((a->owned[a->nsrc] = cmd_systemd_abs(val)) == NULL) {
			fprintf(stderr, "cairn systemd: -%s %s: cannot make "
			    "the path absolute\n", name, val);
			return 1;
		}
		a->src[a->nsrc].kind = name[7] == 'd' ? SYSTEMD_CONFIG_DIR :
							  SYSTEMD_CONFIG_FILE;
		a->src[a->nsrc].path = a->owned[a->nsrc];
		a->nsrc++;
	} else if (strcmp(name, "out") == 0)
		a->opts.out_dir = val;
	else if (strcmp(name, "sysusers-dir") == 0)
		a->opts.sysusers_dir = val;
	else if (strcmp(name, "user") == 0)
		a->opts.user = val;
	else if (strcmp(name, "prefix") == 0)
		a->opts.prefix = val;
	else if (strcmp(name, "node") == 0)
		a->node = val;
	else {
		fprintf(stderr, "cairn systemd: unknown flag -%s\n", name);
		return 2;
	}
	return 0;
}

/* Returns 0 or the exit status. */
static int
cmd_systemd_parse(int argc, char *argv[], struct cmd_systemd_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq, *val;
		char name[64];
		int rc;

		if (arg[0] != '-' || arg[1] == '\0') {
			fprintf(stderr, "cairn systemd: unexpected argument "
			    "%s\n", arg);
			return 2;
		}
		arg += arg[1] == '-' ? 2 : 1;
		eq = strchr(arg, '=');
		size_t n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		if (n == 0 || n >= sizeof(name)) {
			fprintf(stderr, "cairn systemd: bad flag %s\n", argv[i]);
			return 2;
		}
		memcpy(name, arg, n);
		name[n] = '\0';
		if (strcmp(name, "h") == 0 || strcmp(name, "help") == 0) {
			a->help = true;
			continue;
		}
		if (strcmp(name, "instances") == 0) {
			if (eq == NULL || strcmp(eq + 1, "true") == 0)
				a->opts.instances = true;
			else if (strcmp(eq + 1, "false") == 0)
				a->opts.instances = false;
			else {
				fprintf(stderr, "cairn systemd: -instances=%s: "
				    "expected true or false\n", eq + 1);
				return 2;
			}
			continue;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			fprintf(stderr, "cairn systemd: flag -%s needs a "
			    "value\n", name);
			return 2;
		}
		if ((rc = cmd_systemd_flag(a, name, val)) != 0)
			return rc;
	}
	return 0;
}

/* path with every "%i" replaced by node (owned, free()); NULL on OOM. */
static char *
cmd_systemd_expand(const char *path, const char *node)
{
	size_t n = strlen(path) + 1, nl = strlen(node);
	char *out, *o;

	for (const char *s = strstr(path, "%i"); s; s = strstr(s + 2, "%i"))
		n += nl;
	if ((out = o = malloc(n)) == NULL)
		return NULL;
	for (const char *s = path; *s != '\0';) {
		if (s[0] == '%' && s[1] == 'i') {
			memcpy(o, node, nl);
			o += nl;
			s += 2;
		} else
			*o++ = *s++;
	}
	*o = '\0';
	return out;
}

/*
 * Loads cfg from the sources as the roles will. The units give the roles
 * -data-dir, so a configuration without data_dir is fine: it is loaded
 * again with a placeholder. Returns 0 or the exit status.
 */
static int
cmd_systemd_load(struct cmd_systemd_args *a, struct config *cfg)
{
	char *argv[2 * CMD_SYSTEMD_MAXSRC + 6], err[512];
	char *exp[CMD_SYSTEMD_MAXSRC];
	int argc = 0, rc = 0;
	size_t i;

	argv[argc++] = "cairn systemd";
	for (i = 0; i < a->nsrc; i++) {
		exp[i] = NULL;
		if (strstr(a->src[i].path, "%i") != NULL && a->opts.instances) {
			if (a->node == NULL) {
				fprintf(stderr, "cairn systemd: %s holds %%i: "
				    "use -node NAME to say which instance's "
				    "configuration to check\n", a->src[i].path);
				rc = 2;
				break;
			}
			if ((exp[i] = cmd_systemd_expand(a->src[i].path,
			    a->node)) == NULL) {
				fprintf(stderr, "cairn systemd: out of memory\n");
				rc = 1;
				break;
			}
		}
		argv[argc++] = a->src[i].kind == SYSTEMD_CONFIG_DIR ?
		    "-config-dir" : "-config-file";
		argv[argc++] = exp[i] != NULL ? exp[i] : a->owned[i];
	}
	if (rc == 0 && a->node != NULL) {
		argv[argc++] = "-node";
		argv[argc++] = (char *)a->node;
	}
	if (rc == 0 && config_load(argc, argv, cfg, err, sizeof(err)) != 0) {
		argv[argc++] = "-data-dir";
		argv[argc++] = SYSTEMD_STATE_ROOT;
		if (config_load(argc, argv, cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "cairn systemd: %s\n", err);
			rc = 2;
		}
	} else if (rc == 0 && cfg->data_dir[0] != '\0')
		fprintf(stderr, "cairn systemd: warning: data_dir %s is "
		    "replaced by -data-dir %s/%s in the units\n", cfg->data_dir,
		    SYSTEMD_STATE_ROOT, a->opts.instances ? "<node>" :
		    cfg->node_name);
	while (i-- > 0)
		free(exp[i]);
	return rc;
}

int
cmd_systemd_main(int argc, char **argv)
{
	struct cmd_systemd_args a;
	struct config cfg;
	char err[512];
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&cfg, 0, sizeof(cfg));
	a.opts.out_dir = ".";
	rc = cmd_systemd_parse(argc, argv, &a);
	if (rc == 0 && a.help) {
		cmd_systemd_usage(stdout);
		goto out;
	}
	if (rc == 0 && a.node != NULL && !a.opts.instances) {
		fprintf(stderr, "cairn systemd: -node is only for -instances "
		    "(the node name comes from the configuration)\n");
		rc = 2;
	}
	if (rc == 2)
		cmd_systemd_usage(stderr);
	if (rc != 0 || (rc = cmd_systemd_load(&a, &cfg)) != 0)
		goto out;
	a.opts.sources = a.src;
	a.opts.nsources = a.nsrc;
	if ((rc = systemd_generate(&cfg, &a.opts, err, sizeof(err))) != 0) {
		fprintf(stderr, "cairn systemd: %s\n", err);
		rc = rc == ERR_INVAL ? 2 : 1;
	}
	config_free(&cfg);
out:
	for (size_t i = 0; i < a.nsrc; i++)
		free(a.owned[i]);
	return rc;
}
