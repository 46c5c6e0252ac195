/*
 * cmd_agent.c — `cairn agent`: runs one node's roles in the foreground,
 * as `consul agent` runs one node (development, tests, small setups).
 *
 * Key decision: the agent is a small supervisor, not a role. It checks
 * the configuration with config_load() (so a bad flag or file fails here,
 * once, with exit 2), makes the -dev temporary data directory, then runs
 * each role's binary from its own directory with the same flags (plus
 * -data-dir). Signals are forwarded by PID; a role that fails during
 * start-up stops the agent (exit 1), one that crashes later is restarted
 * after a back-off of 1 s doubling to 30 s, like systemd's
 * Restart=on-failure with RestartSteps. Roles write to our stderr.
 * Reference: DESIGN.md §1 and §7, spec/consul-api.md §6.1 (-dev), §9.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "err.h"
#include "log.h"

/* The node's roles, in start order: the one table. A missing binary is
 * skipped (roles land one issue at a time). */
static const char *const agent_role_names[] = { "raftd", "gossipd", "checkd",
	"httpd", "dnsd" };
#define AGENT_NROLES (sizeof(agent_role_names) / sizeof(agent_role_names[0]))

#define AGENT_BACKOFF_MIN_MS 1000
#define AGENT_BACKOFF_MAX_MS 30000
#define AGENT_STABLE_MS 60000    /* up this long: back-off starts over */
#define AGENT_STARTUP_MS 30000   /* start-up lasts at most this */
#define AGENT_NOHTTP_MS 2000     /* start-up without HTTP to poll */
#define AGENT_STOP_MS 20000      /* then SIGKILL */
#define AGENT_POLL_MS 100

struct agent_role {
	const char *name;
	char path[PATH_MAX];
	pid_t pid;             /* 0: not running */
	uint64_t started_ms;
	uint64_t restart_at_ms; /* 0: no restart scheduled */
	uint32_t backoff_ms;
};

struct agent {
	struct agent_role roles[AGENT_NROLES];
	size_t nroles;
	char **child_argv; /* [1..] our flags, then -data-dir, NULL */
	sigset_t oldmask;
	pid_t self;
	bool running;   /* start-up is over (HTTP answered, or timed out) */
	bool banner;    /* "Cairn agent running!" printed */
	bool stopping;
	int exit_code;
	uint64_t stop_deadline_ms;
	uint64_t last_poll_ms;
	struct http_client http;
	bool have_http;
};

static uint64_t
agent_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char agent_usage[] =
    "Usage: cairn agent [options]\n\n"
    "  Starts the Cairn agent: this node's roles (raftd, gossipd, checkd,\n"
    "  httpd, dnsd) in the foreground. Takes Consul's agent flags:\n"
    "  -dev -server -bootstrap-expect N -node NAME -datacenter DC\n"
    "  -data-dir DIR -bind ADDR -advertise ADDR -client ADDR\n"
    "  -retry-join ADDR -join ADDR -config-file FILE -config-dir DIR\n"
    "  -http-port -dns-port -serf-lan-port -serf-wan-port -server-port\n"
    "  -ui -log-level -domain -alt-domain -recursor -node-id\n"
    "  -enable-script-checks -runtime-dir ...\n";

/* ---- processes ---- */

static int
agent_spawn(struct agent *a, struct agent_role *r)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_warn("%s: fork", r->name);
		return ERR_IO;
	}
	if (pid == 0) {
		/* the roles die with the agent, even by SIGKILL */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != a->self)
			_exit(1);
		sigprocmask(SIG_SETMASK, &a->oldmask, NULL);
		a->child_argv[0] = (char *)r->name;
		execv(r->path, a->child_argv);
		fprintf(stderr, "cairn: %s: exec %s: %s\n", r->name, r->path,
		    strerror(errno));
		_exit(127);
	}
	r->pid = pid;
	r->started_ms = agent_now_ms();
	r->restart_at_ms = 0;
	log_debug("started %s (pid %d)", r->name, (int)pid);
	return 0;
}

static void
agent_signal_all(struct agent *a, int sig)
{
	for (size_t i = 0; i < a->nroles; i++) {
		if (a->roles[i].pid > 0)
			kill(a->roles[i].pid, sig);
	}
}

static size_t
agent_live(const struct agent *a)
{
	size_t n = 0;
	for (size_t i = 0; i < a->nroles; i++)
		n += a->roles[i].pid > 0 || a->roles[i].restart_at_ms != 0;
	return n;
}

static void
agent_stop(struct agent *a, int sig)
{
	if (!a->stopping) {
		a->stopping = true;
		a->stop_deadline_ms = agent_now_ms() + AGENT_STOP_MS;
	}
	for (size_t i = 0; i < a->nroles; i++)
		a->roles[i].restart_at_ms = 0;
	agent_signal_all(a, sig);
}

static void
agent_describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "stopped (status 0x%x)", status);
}

/* A role's process ended with status. */
static void
agent_exited(struct agent *a, struct agent_role *r, int status)
{
	uint64_t now = agent_now_ms();
	char what[128];
	bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	r->pid = 0;
	agent_describe(status, what, sizeof(what));
	if (a->stopping) {
		log_debug("%s %s", r->name, what);
		return;
	}
	if (!a->running) {
		fprintf(stderr, "cairn: %s %s during start-up\n", r->name, what);
		a->exit_code = 1;
		agent_stop(a, SIGTERM);
		return;
	}
	if (!failed && strcmp(r->name, "gossipd") == 0) {
		/* gossipd exits 0 after a graceful leave (cairn leave,
		 * PUT /v1/agent/leave): the agent has left, as Consul's */
		log_info("gossipd left the cluster; stopping the agent");
		agent_stop(a, SIGTERM);
		return;
	}
	if (!failed) {
		log_info("%s %s; not restarting it", r->name, what);
		return;
	}
	if (now - r->started_ms >= AGENT_STABLE_MS || r->backoff_ms == 0)
		r->backoff_ms = AGENT_BACKOFF_MIN_MS;
	log_warnx("%s %s; restarting it in %u s", r->name, what,
	    r->backoff_ms / 1000);
	r->restart_at_ms = now + r->backoff_ms;
	r->backoff_ms = r->backoff_ms * 2 > AGENT_BACKOFF_MAX_MS ?
	    AGENT_BACKOFF_MAX_MS : r->backoff_ms * 2;
}

static void
agent_reap(struct agent *a)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < a->nroles; i++) {
			if (a->roles[i].pid == pid)
				agent_exited(a, &a->roles[i], status);
		}
	}
}

/* ---- start-up ---- */

/* The URL that reaches the HTTP API from here; false when disabled. */
static bool
agent_http_addr(const struct config *cfg, char *buf, size_t len)
{
	const char *a = *cfg->addresses.http ? cfg->addresses.http :
	    cfg->client_addr;
	char host[256];

	if (cfg->ports.http <= 0)
		return false;
	if (strncmp(a, "unix://", 7) == 0) {
		snprintf(buf, len, "%s", a);
		return true;
	}
	snprintf(host, sizeof(host), "%.*s", (int)strcspn(a, " \t"), a);
	if (strcmp(host, "0.0.0.0") == 0 || *host == '\0')
		snprintf(host, sizeof(host), "127.0.0.1");
	else if (strcmp(host, "::") == 0 || strcmp(host, "[::]") == 0)
		snprintf(host, sizeof(host), "[::1]");
	if (strchr(host, ':') != NULL && host[0] != '[')
		snprintf(buf, len, "http://[%s]:%d", host, cfg->ports.http);
	else
		snprintf(buf, len, "http://%s:%d", host, cfg->ports.http);
	return true;
}

static bool
agent_http_ready(struct agent *a)
{
	struct http_response r;
	char err[256];

	if (http_request(&a->http, "GET", "/v1/status/leader", NULL, 0, NULL,
	    0, &r, err, sizeof(err)) != 0)
		return false;
	/* any answer will do: a server waiting for its peers has no leader */
	bool ok = r.status > 0;
	http_response_free(&r);
	return ok;
}

static void
agent_banner(const struct config *cfg)
{
	printf("==> Starting Cairn agent...\n");
	printf("%18s: '%s'\n", "Version", "v" CAIRN_RELEASE);
	printf("%18s: '%s'\n", "Node name", cfg->node_name);
	printf("%18s: '%s'\n", "Datacenter", cfg->datacenter);
	printf("%18s: %s (Bootstrap: %s)\n", "Server",
	    cfg->server ? "true" : "false",
	    cfg->bootstrap || (cfg->server && cfg->bootstrap_expect == 1) ?
	    "true" : "false");
	printf("%18s: [%s] (HTTP: %d, HTTPS: %d, gRPC: %d, DNS: %d)\n",
	    "Client Addr", cfg->client_addr, cfg->ports.http, cfg->ports.https,
	    cfg->ports.grpc, cfg->ports.dns);
	printf("%18s: %s (LAN: %d, WAN: %d)\n", "Cluster Addr",
	    cfg->advertise_addr, cfg->ports.serf_lan, cfg->ports.serf_wan);
	printf("%18s: '%s'\n", "Data Dir", cfg->data_dir);
	printf("\n==> Log data will now stream in as it occurs:\n\n");
	fflush(stdout);
}

/* Finds the role binaries next to our own executable. */
static size_t
agent_find_roles(struct agent *a)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (len <= 0)
		fatal("readlink /proc/self/exe");
	self[len] = '\0';
	char *slash = strrchr(self, '/');
	if (slash != NULL)
		*slash = '\0';
	for (size_t i = 0; i < AGENT_NROLES; i++) {
		struct agent_role *r = &a->roles[a->nroles];
		memset(r, 0, sizeof(*r));
		r->name = agent_role_names[i];
		int n = snprintf(r->path, sizeof(r->path), "%s/%s", self,
		    r->name);
		if (n < 0 || (size_t)n >= sizeof(r->path) ||
		    access(r->path, X_OK) != 0) {
			log_debug("%s: no binary at %s, skipped", r->name,
			    r->path);
			continue;
		}
		a->nroles++;
	}
	return a->nroles;
}

static bool
agent_has_role(const struct agent *a, const char *name)
{
	for (size_t i = 0; i < a->nroles; i++) {
		if (strcmp(a->roles[i].name, name) == 0)
			return true;
	}
	return false;
}

static int
agent_rm(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	if (remove(path) != 0)
		log_warn("remove %s", path);
	return 0;
}

/* ---- the loop ---- */

static void
agent_on_signal(struct agent *a, int sig)
{
	static const char *const names[] = { [SIGINT] = "interrupt",
		[SIGTERM] = "terminated", [SIGHUP] = "hangup" };

	if (sig == SIGCHLD) {
		agent_reap(a);
		return;
	}
	printf("==> Caught signal: %s\n", names[sig]);
	fflush(stdout);
	if (sig == SIGHUP) {
		agent_signal_all(a, SIGHUP);
		return;
	}
	if (a->stopping) /* a second interrupt: no more waiting */
		agent_stop(a, SIGKILL);
	else
		agent_stop(a, sig);
}

static void
agent_tick(struct agent *a, uint64_t start_ms)
{
	uint64_t now = agent_now_ms();

	if (a->stopping) {
		if (now >= a->stop_deadline_ms) {
			log_warnx("roles still running after %d s; killing "
			    "them", AGENT_STOP_MS / 1000);
			agent_signal_all(a, SIGKILL);
			a->stop_deadline_ms = UINT64_MAX;
		}
		return;
	}
	for (size_t i = 0; i < a->nroles; i++) {
		struct agent_role *r = &a->roles[i];
		if (r->restart_at_ms != 0 && now >= r->restart_at_ms) {
			log_info("restarting %s", r->name);
			if (agent_spawn(a, r) != 0)
				r->restart_at_ms = now + r->backoff_ms;
		}
	}
	if (a->banner || (a->running && now - a->last_poll_ms < 1000))
		return;
	a->last_poll_ms = now;
	bool ready = a->have_http ? agent_http_ready(a) :
	    now - start_ms >= AGENT_NOHTTP_MS;
	if (ready) {
		a->running = a->banner = true;
		printf("==> Cairn agent running!\n");
		fflush(stdout);
	} else if (!a->running && now - start_ms >= AGENT_STARTUP_MS) {
		/* start-up is over all the same: from now on, restart */
		log_warnx("HTTP API at %s not answering after %d s",
		    a->http.base, AGENT_STARTUP_MS / 1000);
		a->running = true;
	}
}

static int
agent_run(struct agent *a)
{
	sigset_t set;
	uint64_t start = agent_now_ms();

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	for (size_t i = 0; i < a->nroles && !a->stopping; i++) {
		if (agent_spawn(a, &a->roles[i]) != 0) {
			a->exit_code = 1;
			agent_stop(a, SIGTERM);
		}
	}
	while (!(a->stopping && agent_live(a) == 0)) {
		struct timespec ts = { 0, AGENT_POLL_MS * 1000000L };
		int sig = sigtimedwait(&set, NULL, &ts);
		if (sig > 0)
			agent_on_signal(a, sig);
		else if (sig < 0 && errno != EAGAIN && errno != EINTR)
			fatal("sigtimedwait");
		agent_reap(a);
		if (!a->stopping && agent_live(a) == 0) {
			log_info("every role has exited");
			a->stopping = true;
		}
		agent_tick(a, start);
	}
	return a->exit_code;
}

int
cmd_agent_main(int argc, char **argv)
{
	struct agent a = { 0 };
	struct config cfg;
	enum log_level lvl;
	char err[1024], url[300], tmp[PATH_MAX] = "";
	sigset_t set;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "-help") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			printf("%s", agent_usage);
			return 0;
		}
	}
	if (config_load(argc, argv, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (log_level_parse(cfg.log_level, &lvl) == 0)
		log_set_level(lvl);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (cfg.dev && *cfg.data_dir == '\0') {
		const char *t = getenv("TMPDIR");
		snprintf(tmp, sizeof(tmp), "%s/cairn-dev-XXXXXX",
		    t && *t ? t : "/tmp");
		if (mkdtemp(tmp) == NULL) {
			fprintf(stderr, "cairn: mkdtemp %s: %s\n", tmp,
			    strerror(errno));
			config_free(&cfg);
			return 1;
		}
		free(cfg.data_dir);
		if ((cfg.data_dir = strdup(tmp)) == NULL)
			fatal("strdup");
	}
	if ((a.child_argv = calloc((size_t)argc + 3, sizeof(char *))) == NULL)
		fatal("calloc");
	for (i = 1; i < argc; i++)
		a.child_argv[i] = argv[i];
	if (*tmp != '\0') {
		a.child_argv[i++] = "-data-dir";
		a.child_argv[i++] = tmp;
	}
	if (agent_find_roles(&a) == 0)
		fprintf(stderr, "cairn: no role binaries found next to the "
		    "cairn executable\n");
	a.have_http = agent_http_addr(&cfg, url, sizeof(url)) &&
	    agent_has_role(&a, "httpd");
	if (http_client_init(&a.http, a.have_http ? url : NULL, NULL, err,
	    sizeof(err)) != 0)
		a.have_http = false;
	a.http.timeout_ms = 1000;
	a.self = getpid();

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &a.oldmask);

	agent_banner(&cfg);
	rc = a.nroles == 0 ? 1 : agent_run(&a);

	sigprocmask(SIG_SETMASK, &a.oldmask, NULL);
	if (*tmp != '\0')
		nftw(tmp, agent_rm, 16, FTW_DEPTH | FTW_PHYS);
	http_client_fini(&a.http);
	free(a.child_argv);
	config_free(&cfg);
	return rc;
}
