/*
 * flags.c — command line flags for cairn's subcommands, parsed as Go's
 * flag package parses them, because Consul's commands use it and scripts
 * depend on its rules: one or two dashes, "-f=v" or "-f v", a boolean
 * takes only "-f" or "-f=v", parsing stops at the first non-flag. Also
 * the global HTTP flags (spec/consul-api.md §9). Reference: Go's
 * flag/flag.go (parseOne), Consul command/flags/http.go.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"

static int
flags_bool(const char *s, bool *out)
{
	static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const f[] = { "0", "f", "F", "FALSE", "false",
		"False" };
	for (size_t i = 0; i < 6; i++) {
		if (strcmp(s, t[i]) == 0)
			return *out = true, 0;
		if (strcmp(s, f[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

static int flags_fail(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
flags_fail(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (usage != NULL)
		fprintf(stderr, "%s", usage);
	return -1;
}

int
flags_parse(const struct flags_spec *specs, int argc, char **argv,
    const char *usage)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *val;
		const struct flags_spec *s;
		size_t len;

		if (a[0] != '-' || a[1] == '\0')
			break;
		if (strcmp(a, "--") == 0)
			return i + 1;
		name = a + 1 + (a[1] == '-');
		if (*name == '-' || *name == '=')
			return flags_fail(usage, "bad flag syntax: %s", a);
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		for (s = specs; s->name != NULL; s++) {
			if (strlen(s->name) == len &&
			    strncmp(s->name, name, len) == 0)
				break;
		}
		if (s->name == NULL) {
			if ((len == 1 && *name == 'h') ||
			    (len == 4 && strncmp(name, "help", 4) == 0)) {
				if (usage != NULL)
					fprintf(stderr, "%s", usage);
				return FLAGS_HELP;
			}
			char n[128];
			snprintf(n, sizeof(n), "%.*s", (int)len, name);
			return flags_fail(usage,
			    "flag provided but not defined: -%s", n);
		}
		if (s->type == FLAGS_BOOL) {
			if (flags_bool(eq ? eq + 1 : "true", s->ptr) != 0)
				return flags_fail(usage, "invalid boolean value "
				    "\"%s\" for -%s: parse error", eq + 1,
				    s->name);
			continue;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return flags_fail(usage,
			    "flag needs an argument: -%s", s->name);
		if (s->type == FLAGS_STR) {
			*(const char **)s->ptr = val;
		} else {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(val, &end, 0);
			if (errno != 0 || end == val || *end != '\0' ||
			    val[0] == '-')
				return flags_fail(usage, "invalid value \"%s\" "
				    "for flag -%s: parse error", val, s->name);
			*(uint64_t *)s->ptr = v;
		}
	}
	return i;
}

int
flags_parse_none(const struct flags_spec *specs, int argc, char **argv,
    const char *usage)
{
	int first = flags_parse(specs, argc, argv, usage);

	if (first < 0)
		return first == FLAGS_HELP ? 0 : 1;
	if (first < argc) {
		fprintf(stderr, "Too many arguments (expected 0, got %d)\n",
		    argc - first);
		return 1;
	}
	return -1;
}

int
flags_take_repeat(int *argc, char **argv, const char *name,
    const char *usage, int (*take)(const char *v, void *arg), void *arg)
{
	size_t nl = strlen(name);
	int i, j = 1;

	for (i = 1; i < *argc; i++) {
		const char *a = argv[i], *v;

		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[j++] = argv[i++];
			break;
		}
		if (a[0] == '-' && a[1] == '-')
			a++;
		if (a[0] != '-' || strncmp(a + 1, name, nl) != 0 ||
		    (a[nl + 1] != '\0' && a[nl + 1] != '=')) {
			argv[j++] = argv[i];
			continue;
		}
		if (a[nl + 1] == '=')
			v = a + nl + 2;
		else if (i + 1 < *argc)
			v = argv[++i];
		else {
			fprintf(stderr, "flag needs an argument: -%s\n%s", name,
			    usage ? usage : "");
			return 1;
		}
		if (take(v, arg) != 0)
			return 1;
	}
	argv[j] = NULL;
	*argc = j;
	return 0;
}

int
flags_subcommand(int argc, char **argv, const char *usage,
    const struct flags_sub *subs)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "-help") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	for (; subs->name != NULL; subs++)
		if (strcmp(argv[1], subs->name) == 0)
			return subs->run(argc - 1, argv + 1);
	fprintf(stderr, "Unknown subcommand: %s\n\n%s", argv[1], usage);
	return 1;
}

/* Reads a token file (CONSUL_HTTP_TOKEN_FILE): its first line. */
static char *
flags_token_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[512];

	if (f == NULL) {
		fprintf(stderr, "Error loading token file: open %s: %s\n",
		    path, strerror(errno));
		return NULL;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	char *t = strdup(buf);
	if (t == NULL)
		fprintf(stderr, "Error: out of memory\n");
	return t;
}

int
flags_http_client(const struct flags_http *h, struct http_client *c)
{
	char err[256], *tok = NULL;
	const char *tf = h->token_file;
	int rc;

	if (tf == NULL && (h->token == NULL || *h->token == '\0') &&
	    getenv("CONSUL_HTTP_TOKEN") == NULL)
		tf = getenv("CONSUL_HTTP_TOKEN_FILE");
	if (tf != NULL && *tf != '\0' && (tok = flags_token_file(tf)) == NULL)
		return 1;
	rc = http_client_init(c, h->addr, tok ? tok : h->token, err,
	    sizeof(err));
	free(tok);
	if (rc != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (h->datacenter != NULL && *h->datacenter != '\0' &&
	    (c->datacenter = strdup(h->datacenter)) == NULL) {
		http_client_fini(c);
		return 1;
	}
	c->stale = h->stale;
	return 0;
}
