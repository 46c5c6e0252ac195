/*
 * cmd_lock.c — `cairn lock [-n=1] [-name] [-timeout] [-shell=true]
 * [-pass-stdin] [-monitor-retry=3] [-child-exit-code] [-verbose] PREFIX
 * CHILD...`, Consul's `consul lock` (spec/consul-api.md §9, §10): leader
 * election around a child process.
 *
 * Key decisions: the procedure is api.Lock's — a session (TTL 15s,
 * renewed every 5 s, under TTL/2), a blocking GET on <prefix>/.lock until
 * no session holds it, ?acquire with the lock flags 0x2ddccbc058a50c18
 * (a key with other flags is a conflict), then the child runs with
 * CONSUL_LOCK_HELD=true while a consistent blocking GET watches the key;
 * on loss the child gets SIGTERM, then SIGKILL after 5 s. The loop is
 * single-threaded: blocking reads wait at most 5 s so renewals keep
 * their schedule. After a refused acquire (lock-delay) it retries after
 * 1 s rather than api.Lock's 5 s. While the child runs, a watch that
 * fails with a 5xx or no answer is retried -monitor-retry times, 1 s
 * apart (api.Lock's MonitorRetries), before the lock counts as lost.
 *
 * Semaphores (-n N > 1) are api.Semaphore's protocol, so cairn and
 * consul contenders can share one: each contender holds the key
 * <prefix>/<session> with ?acquire, and <prefix>/.lock (flags
 * 0xe0f69a2baa414de0) holds {"Limit":N,"Holders":{"<session>":true}},
 * changed only with ?cas. A contender drops holders whose session holds
 * no key under the prefix (dead), adds itself when fewer than N remain,
 * and holds a slot while its session is among the Holders; a limit
 * other than the stored one is a conflict. Release removes it from the
 * Holders (cas, retried) and deletes its contender key. Reference:
 * Consul command/lock/lock.go, api/lock.go, api/semaphore.go.
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_lock.h"

#define LOCK_FLAG_VALUE 0x2ddccbc058a50c18ull
#define SEM_FLAG_VALUE 0xe0f69a2baa414de0ull
#define LOCK_SESSION_TTL "15s"
#define LOCK_RENEW_MS 5000
#define LOCK_RETRY_MS 1000
#define LOCK_KILL_GRACE_MS 5000

static volatile sig_atomic_t lock_signaled;

static void
lock_on_signal(int sig)
{
	lock_signaled = sig;
}

static uint64_t
lock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
lock_sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* A Go duration of one unit ("10s", "1.5m", "500ms"); ms, -1 if bad. */
static long long
lock_parse_duration(const char *s)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 } };
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -1;
	if (*end == '\0')
		return v == 0 ? 0 : -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0)
			return (long long)(v * units[i].ms);
	return -1;
}

struct lock {
	struct http_client c;
	char *key_path;  /* /v1/kv/<prefix>/.lock, escaped */
	char *prefix_path; /* /v1/kv/<prefix>/, escaped (semaphores) */
	char *prefix;    /* <prefix>/, unescaped */
	uint64_t limit;  /* -n; 1: a lock */
	char sid[64];
	bool verbose;
	uint64_t index;
	uint64_t last_renew;
};

/* GETs the lock key: *holder gets its Session ("" if none or missing). */
static int
lock_read(struct lock *l, const char *query, char *holder, size_t hsize,
    bool *conflict, long *status)
{
	struct http_response resp;
	char err[512];
	json_t *root, *e, *v;

	holder[0] = '\0';
	*conflict = false;
	*status = 0;
	if (http_request(&l->c, "GET", l->key_path, query, 0, NULL, 0, &resp,
	    err, sizeof(err)) != 0) {
		if (l->verbose)
			fprintf(stderr, "Lock monitor: %s\n", err);
		return -1;
	}
	*status = resp.status;
	if (resp.index > 0)
		l->index = resp.index;
	if (resp.status == 404) {
		http_response_free(&resp);
		return 0;
	}
	if (resp.status != 200) {
		http_response_free(&resp);
		return -1;
	}
	/* flags may be above INT64_MAX (a semaphore's): numbers as doubles */
	root = json_loadb(resp.body, resp.len, JSON_DECODE_INT_AS_REAL, NULL);
	http_response_free(&resp);
	if (root == NULL || (e = json_array_get(root, 0)) == NULL) {
		json_decref(root);
		return -1;
	}
	if ((v = json_object_get(e, "Flags")) != NULL &&
	    json_number_value(v) != (double)LOCK_FLAG_VALUE)
		*conflict = true;
	if ((v = json_object_get(e, "Session")) != NULL && json_is_string(v))
		snprintf(holder, hsize, "%s", json_string_value(v));
	json_decref(root);
	return 0;
}

static int
lock_session_create(struct lock *l, const char *name)
{
	struct http_response resp;
	json_t *body, *root, *id;
	char *s;
	int rc = -1;

	body = json_pack("{s:s, s:s, s:s}", "Name", name, "TTL",
	    LOCK_SESSION_TTL, "Behavior", "release");
	s = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (s == NULL)
		return -1;
	if (http_expect(&l->c, "Error creating session", "PUT",
	    "/v1/session/create", NULL, 0, s, strlen(s), &resp) != 0) {
		free(s);
		return -1;
	}
	free(s);
	root = json_loadb(resp.body, resp.len, 0, NULL);
	http_response_free(&resp);
	id = json_object_get(root, "ID");
	if (json_is_string(id)) {
		snprintf(l->sid, sizeof(l->sid), "%s", json_string_value(id));
		rc = 0;
	} else {
		fprintf(stderr, "Error creating session: bad reply\n");
	}
	json_decref(root);
	l->last_renew = lock_now_ms();
	return rc;
}

/* Renews when due: 0, or -1 when the session is gone (404). */
static int
lock_renew(struct lock *l)
{
	struct http_response resp;
	char path[128], err[512];
	long st;

	if (lock_now_ms() - l->last_renew < LOCK_RENEW_MS)
		return 0;
	snprintf(path, sizeof(path), "/v1/session/renew/%s", l->sid);
	if (http_request(&l->c, "PUT", path, NULL, 0, NULL, 0, &resp, err,
	    sizeof(err)) != 0)
		return 0; /* transient: the TTL leaves room for a retry */
	st = resp.status;
	http_response_free(&resp);
	if (st == 404)
		return -1;
	if (st == 200)
		l->last_renew = lock_now_ms();
	return 0;
}

/* A KV PUT of body (NULL: empty): true when it answers 200 "true". */
static bool
lock_put_bool(struct lock *l, const char *path, const char *query,
    const char *body)
{
	struct http_response resp;
	char err[512];
	bool ok;

	if (body == NULL)
		body = "";
	if (http_request(&l->c, "PUT", path, query, 0, body, strlen(body),
	    &resp, err, sizeof(err)) != 0)
		return false;
	ok = resp.status == 200 && strncmp(resp.body, "true", 4) == 0;
	http_response_free(&resp);
	return ok;
}

/*
 * One turn of an acquire loop: 1 on timeout or a signal, -1 when the
 * session is gone (printed), else 0 with q the blocking query for the
 * next read (at l->index).
 */
static int
lock_wait_turn(struct lock *l, uint64_t start, long long timeout_ms,
    char *q, size_t qlen)
{
	if (lock_signaled || (timeout_ms > 0 &&
	    lock_now_ms() - start >= (uint64_t)timeout_ms))
		return 1;
	if (lock_renew(l) != 0) {
		fprintf(stderr, "Lock acquisition failed: session "
		    "invalidated\n");
		return -1;
	}
	snprintf(q, qlen, "index=%llu&wait=%s", (unsigned long long)l->index,
	    timeout_ms > 0 && timeout_ms < 5000 ? "1s" : "5s");
	return 0;
}

/* Waits until the lock is acquired: 0, 1 (timeout/signal), -1 error. */
static int
lock_acquire(struct lock *l, long long timeout_ms)
{
	uint64_t start = lock_now_ms();
	char holder[128], q[160];
	bool conflict;
	long st;
	int rc;

	for (;;) {
		if ((rc = lock_wait_turn(l, start, timeout_ms, q,
		    sizeof(q))) != 0)
			return rc;
		if (lock_read(l, l->index ? q : NULL, holder, sizeof(holder),
		    &conflict, &st) != 0) {
			lock_sleep_ms(LOCK_RETRY_MS);
			continue;
		}
		if (conflict) {
			fprintf(stderr, "Lock acquisition failed: Existing key "
			    "does not match lock use\n");
			return -1;
		}
		if (holder[0] != '\0' && strcmp(holder, l->sid) != 0)
			continue; /* held: block again on the index */
		snprintf(q, sizeof(q), "acquire=%s&flags=%llu", l->sid,
		    (unsigned long long)LOCK_FLAG_VALUE);
		if (lock_put_bool(l, l->key_path, q, NULL))
			return 0;
		/* lock-delay or a lost race */
		lock_sleep_ms(LOCK_RETRY_MS);
		l->index = 0;
	}
}

/* ---- semaphores (-n > 1) ---- */

/* What a contender sees of the semaphore. */
struct sem_view {
	json_t *holders;     /* owned object: session -> true */
	uint64_t lock_index; /* ModifyIndex of .lock; 0: absent */
	bool conflict;       /* .lock has other flags */
	long long limit;     /* .lock's Limit (ours when absent) */
};

static void
sem_view_fini(struct sem_view *v)
{
	json_decref(v->holders);
	memset(v, 0, sizeof(*v));
}

/* Decodes .lock's Value (base64 of {"Limit":n,"Holders":{...}}). */
static int
sem_decode(struct sem_view *v, const char *b64)
{
	char *raw = NULL;
	size_t len = 0, bad;
	json_t *root, *h, *lim;

	if (b64 == NULL || base64_decode(b64, strlen(b64), &raw, &len,
	    &bad) != 0)
		return -1;
	root = json_loadb(raw, len, 0, NULL);
	free(raw);
	if (root == NULL)
		return -1;
	if ((lim = json_object_get(root, "Limit")) != NULL &&
	    json_is_integer(lim))
		v->limit = json_integer_value(lim);
	h = json_object_get(root, "Holders");
	if (h != NULL && json_is_object(h)) {
		json_decref(v->holders);
		v->holders = json_deep_copy(h);
	}
	json_decref(root);
	return v->holders != NULL ? 0 : -1;
}

/*
 * Lists <prefix>/ (recursively, blocking with query) into *v: the
 * holders with the dead ones (no key under the prefix held by their
 * session) dropped. 0, or -1 (*status the HTTP status, 0 unreachable).
 */
static int
sem_read(struct lock *l, const char *query, struct sem_view *v,
    long *status)
{
	struct http_response resp;
	char q[256], err[512], lockkey[1024];
	json_t *root = NULL, *e, *live;
	const char *k, *hk;
	json_t *hv, *tmp;
	size_t i;
	int rc = -1;

	memset(v, 0, sizeof(*v));
	v->limit = (long long)l->limit;
	v->holders = json_object();
	live = json_object();
	snprintf(q, sizeof(q), "recurse=%s%s", query ? "&" : "",
	    query ? query : "");
	snprintf(lockkey, sizeof(lockkey), "%s.lock", l->prefix);
	*status = 0;
	if (http_request(&l->c, "GET", l->prefix_path, q, 0, NULL, 0, &resp,
	    err, sizeof(err)) != 0) {
		if (l->verbose)
			fprintf(stderr, "Semaphore monitor: %s\n", err);
		goto out;
	}
	*status = resp.status;
	if (resp.index > 0)
		l->index = resp.index;
	if (resp.status != 200 && resp.status != 404) {
		http_response_free(&resp);
		goto out;
	}
	/* the semaphore flags are above INT64_MAX: numbers as doubles */
	if (resp.status == 200)
		root = json_loadb(resp.body, resp.len,
		    JSON_DECODE_INT_AS_REAL, NULL);
	if (resp.status == 200 && root == NULL)
		goto out;
	http_response_free(&resp);
	json_array_foreach(root, i, e) {
		if ((k = json_string_value(json_object_get(e, "Key"))) == NULL)
			continue;
		if (strcmp(k, lockkey) == 0) {
			v->lock_index = (uint64_t)json_number_value(
			    json_object_get(e, "ModifyIndex"));
			if (json_number_value(json_object_get(e, "Flags")) !=
			    (double)SEM_FLAG_VALUE) {
				v->conflict = true;
				continue;
			}
			if (sem_decode(v, json_string_value(json_object_get(e,
			    "Value"))) != 0)
				v->conflict = true;
			continue;
		}
		if ((hk = json_string_value(json_object_get(e,
		    "Session"))) != NULL && hk[0] != '\0')
			json_object_set_new(live, hk, json_true());
	}
	json_object_foreach_safe(v->holders, tmp, hk, hv)
		if (json_object_get(live, hk) == NULL)
			json_object_del(v->holders, hk);
	rc = 0;
out:
	json_decref(root);
	json_decref(live);
	return rc;
}

/* PUT .lock?cas with v->holders: true when the cas took. */
static bool
sem_cas(struct lock *l, const struct sem_view *v)
{
	char q[160], *body;
	json_t *o;
	bool ok;

	o = json_pack("{s:I, s:O}", "Limit", (json_int_t)l->limit,
	    "Holders", v->holders);
	body = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (body == NULL)
		return false;
	snprintf(q, sizeof(q), "cas=%llu&flags=%llu",
	    (unsigned long long)v->lock_index,
	    (unsigned long long)SEM_FLAG_VALUE);
	ok = lock_put_bool(l, l->key_path, q, body);
	free(body);
	return ok;
}

/* Reports a semaphore that is not ours to use: true if so. */
static bool
sem_conflict(const struct lock *l, const struct sem_view *v)
{
	if (v->conflict) {
		fprintf(stderr, "Lock acquisition failed: Existing key does "
		    "not match semaphore use\n");
		return true;
	}
	if (v->limit != (long long)l->limit) {
		fprintf(stderr, "Lock acquisition failed: semaphore limit "
		    "conflict (lock: %lld, local: %llu)\n", v->limit,
		    (unsigned long long)l->limit);
		return true;
	}
	return false;
}

/* Waits for a slot: 0, 1 (timeout/signal), -1 error (as lock_acquire). */
static int
sem_acquire(struct lock *l, long long timeout_ms)
{
	uint64_t start = lock_now_ms();
	struct sem_view v;
	char q[160], path[1200];
	long st;
	int rc;

	/* the contender entry, held by our session */
	snprintf(path, sizeof(path), "%s%s", l->prefix_path, l->sid);
	snprintf(q, sizeof(q), "acquire=%s&flags=%llu", l->sid,
	    (unsigned long long)SEM_FLAG_VALUE);
	if (!lock_put_bool(l, path, q, NULL)) {
		fprintf(stderr, "Lock acquisition failed: failed to make "
		    "contender entry\n");
		return -1;
	}
	l->index = 0;
	for (;;) {
		if ((rc = lock_wait_turn(l, start, timeout_ms, q,
		    sizeof(q))) != 0)
			return rc;
		if (sem_read(l, l->index ? q : NULL, &v, &st) != 0) {
			sem_view_fini(&v);
			lock_sleep_ms(LOCK_RETRY_MS);
			continue;
		}
		if (sem_conflict(l, &v)) {
			sem_view_fini(&v);
			return -1;
		}
		if (json_object_get(v.holders, l->sid) != NULL) {
			sem_view_fini(&v);
			return 0;
		}
		if (json_object_size(v.holders) >= l->limit) {
			sem_view_fini(&v);
			continue; /* full: block again on the index */
		}
		json_object_set_new(v.holders, l->sid, json_true());
		if (sem_cas(l, &v)) {
			sem_view_fini(&v);
			return 0;
		}
		sem_view_fini(&v);
		l->index = 0; /* lost a race: read again at once */
	}
}

/* Frees our slot (cas, retried) and deletes the contender entry. */
static void
sem_release(struct lock *l)
{
	struct http_response resp;
	struct sem_view v;
	char path[1200], err[512];
	long st;

	for (int i = 0; i < 10; i++) {
		if (sem_read(l, NULL, &v, &st) != 0 || v.conflict ||
		    json_object_get(v.holders, l->sid) == NULL) {
			sem_view_fini(&v);
			break;
		}
		json_object_del(v.holders, l->sid);
		if (sem_cas(l, &v)) {
			sem_view_fini(&v);
			break;
		}
		sem_view_fini(&v);
	}
	snprintf(path, sizeof(path), "%s%s", l->prefix_path, l->sid);
	if (http_request(&l->c, "DELETE", path, NULL, 0, NULL, 0, &resp, err,
	    sizeof(err)) == 0)
		http_response_free(&resp);
}

/* Whether we still hold the lock or a slot: 1, 0 (lost), -1 (*st). */
static int
lock_held(struct lock *l, const char *q, long *st)
{
	struct sem_view v;
	char holder[128];
	bool conflict;
	int held;

	if (l->limit <= 1) {
		if (lock_read(l, q, holder, sizeof(holder), &conflict,
		    st) != 0)
			return -1;
		return strcmp(holder, l->sid) == 0;
	}
	if (sem_read(l, q, &v, st) != 0) {
		sem_view_fini(&v);
		return -1;
	}
	held = json_object_get(v.holders, l->sid) != NULL;
	sem_view_fini(&v);
	return held;
}

static pid_t
lock_spawn(char **args, int n, bool shell, bool pass_stdin)
{
	pid_t pid;
	char *cmd = NULL;
	size_t len = 0;
	FILE *f;

	if (shell) {
		if ((f = open_memstream(&cmd, &len)) == NULL)
			return -1;
		for (int i = 0; i < n; i++)
			fprintf(f, "%s%s", i ? " " : "", args[i]);
		fclose(f);
	}
	if ((pid = fork()) < 0) {
		free(cmd);
		return -1;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		setenv("CONSUL_LOCK_HELD", "true", 1);
		if (!pass_stdin) {
			FILE *dn = freopen("/dev/null", "r", stdin);

			(void)dn;
		}
		if (shell)
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		else
			execvp(args[0], args);
		fprintf(stderr, "Error starting handler: %s\n",
		    strerror(errno));
		_exit(127);
	}
	free(cmd);
	return pid;
}

/* SIGTERM, then SIGKILL after the grace period; returns the status. */
static int
lock_kill(pid_t pid)
{
	uint64_t start = lock_now_ms();
	int status = 0;

	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (lock_now_ms() - start >= LOCK_KILL_GRACE_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		lock_sleep_ms(50);
	}
	return status;
}

/* Runs the child while the lock is held; returns its wait status. */
static int
lock_monitor(struct lock *l, pid_t pid, uint64_t retries, bool *lost)
{
	char q[160];
	uint64_t fails = 0;
	int status, held;
	long st;

	*lost = false;
	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		if (lock_signaled)
			return lock_kill(pid);
		if (lock_renew(l) != 0) {
			*lost = true;
		} else {
			snprintf(q, sizeof(q), "consistent=&index=%llu&wait=1s",
			    (unsigned long long)l->index);
			if ((held = lock_held(l, q, &st)) < 0) {
				/*
				 * -monitor-retry: ride out a 5xx or an agent
				 * that does not answer, 1 s apart, as
				 * api.Lock's IsRetryableError; then lost
				 */
				if ((st >= 500 || st == 0) && ++fails <= retries) {
					lock_sleep_ms(1000);
					l->index = 0;
					continue;
				}
				*lost = true;
			} else {
				fails = 0;
				*lost = held == 0;
			}
		}
		if (*lost) {
			fprintf(stderr, "Lock lost, killing child\n");
			return lock_kill(pid);
		}
	}
}

static void
lock_cleanup(struct lock *l, bool held)
{
	char q[160], path[128];

	if (l->limit > 1 && l->sid[0] != '\0')
		sem_release(l); /* also a contender that never held a slot */
	else if (held) {
		snprintf(q, sizeof(q), "release=%s&flags=%llu", l->sid,
		    (unsigned long long)LOCK_FLAG_VALUE);
		if (!lock_put_bool(l, l->key_path, q, NULL) && l->verbose)
			fprintf(stderr, "Lock release failed\n");
	}
	if (l->sid[0] != '\0') {
		snprintf(path, sizeof(path), "/v1/session/destroy/%s", l->sid);
		lock_put_bool(l, path, NULL, NULL);
	}
}

int
cmd_lock_main(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: cairn lock [options] prefix child...\n\n"
	    "  Acquires a lock or semaphore at a given path, and invokes a "
	    "child process\n  when successful.\n\n"
	    "  -n=1  -name=<string>  -timeout=<duration>  -shell=true\n"
	    "  -pass-stdin  -monitor-retry=3  -child-exit-code  -verbose\n";
	struct flags_http h = { 0 };
	uint64_t n = 1, retries = 3;
	const char *name = NULL, *timeout = NULL;
	bool shell = true, pass_stdin = false, child_code = false;
	bool verbose = false, lost, held = false;
	const struct flags_spec specs[] = {
		{ "n", FLAGS_U64, &n },
		{ "name", FLAGS_STR, &name },
		{ "timeout", FLAGS_STR, &timeout },
		{ "shell", FLAGS_BOOL, &shell },
		{ "pass-stdin", FLAGS_BOOL, &pass_stdin },
		{ "monitor-retry", FLAGS_U64, &retries },
		{ "child-exit-code", FLAGS_BOOL, &child_code },
		{ "verbose", FLAGS_BOOL, &verbose },
		FLAGS_HTTP_SPECS(&h),
		{ NULL, 0, NULL },
	};
	int first = flags_parse(specs, argc, argv, usage), rc = 1, status;
	long long timeout_ms = 0;
	struct lock l;
	struct sigaction sa;
	char *prefix, *esc, sname[300];
	size_t plen;
	pid_t pid;

	if (first == FLAGS_HELP)
		return 0;
	if (first < 0)
		return 1;
	if (argc - first < 2) {
		fprintf(stderr, "Key prefix and child command must be "
		    "specified\n");
		return 1;
	}
	if (n == 0) {
		fprintf(stderr, "Number of lock holders must be positive\n");
		return 1;
	}
	if (timeout != NULL && (timeout_ms = lock_parse_duration(timeout)) <
	    0) {
		fprintf(stderr, "invalid value \"%s\" for flag -timeout\n",
		    timeout);
		return 1;
	}
	memset(&l, 0, sizeof(l));
	l.verbose = verbose;
	l.limit = n;
	if (flags_http_client(&h, &l.c) != 0)
		return 1;
	l.c.timeout_ms = 30000;
	if ((prefix = strdup(argv[first])) == NULL)
		return 1;
	plen = strlen(prefix);
	while (plen > 0 && prefix[plen - 1] == '/')
		prefix[--plen] = '\0';
	esc = http_escape(prefix, true);
	if (esc == NULL || asprintf(&l.key_path, "/v1/kv/%s/.lock", esc) < 0 ||
	    asprintf(&l.prefix_path, "/v1/kv/%s/", esc) < 0 ||
	    asprintf(&l.prefix, "%s/", prefix) < 0) {
		free(esc);
		free(l.key_path);
		free(l.prefix_path);
		free(prefix);
		http_client_fini(&l.c);
		return 1;
	}
	free(esc);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lock_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	snprintf(sname, sizeof(sname), "%s", name != NULL ? name : n > 1 ?
	    "Consul API Semaphore" : "Consul API Lock");
	if (verbose)
		fprintf(stderr, "Setting up lock at path: %s/.lock\n", prefix);
	if (lock_session_create(&l, sname) != 0)
		goto out;
	if (verbose)
		fprintf(stderr, "Attempting lock acquisition\n");
	switch (n > 1 ? sem_acquire(&l, timeout_ms) :
	    lock_acquire(&l, timeout_ms)) {
	case 0:
		held = true;
		break;
	case 1:
		fprintf(stderr, "Shutdown triggered or timeout during lock "
		    "acquisition\n");
		goto out;
	default:
		goto out;
	}
	if (verbose)
		fprintf(stderr, "Starting handler\n");
	if ((pid = lock_spawn(argv + first + 1, argc - first - 1, shell,
	    pass_stdin)) < 0) {
		fprintf(stderr, "Error starting handler: %s\n",
		    strerror(errno));
		goto out;
	}
	status = lock_monitor(&l, pid, retries, &lost);
	if (verbose)
		fprintf(stderr, "Child terminated, releasing lock\n");
	rc = 0;
	if (child_code && WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else if (child_code)
		rc = 2;
	if (lost)
		held = false;
out:
	lock_cleanup(&l, held);
	if (verbose && held)
		fprintf(stderr, "Lock release and cleanup completed\n");
	free(l.key_path);
	free(l.prefix_path);
	free(l.prefix);
	free(prefix);
	http_client_fini(&l.c);
	return rc;
}
