/*
 * test_daemon.c — common/daemon.c: notify messages reach $NOTIFY_SOCKET
 * (a datagram socket the test owns, by path or in the abstract namespace),
 * nothing is sent without it or to an unusable address, the watchdog pings
 * at half of WATCHDOG_USEC from the loop and stays off when WATCHDOG_PID
 * names another process or WATCHDOG_USEC is not a positive number, and
 * mkdirs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "daemon.h"
#include "err.h"
#include "loop.h"

static char tmpdir[64];

static int
notify_socket(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/notify", tmpdir);
	unlink(sun.sun_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	setenv("NOTIFY_SOCKET", sun.sun_path, 1);
	return fd;
}

/* A datagram socket bound in the abstract namespace as "@<tag>-<pid>";
 * $NOTIFY_SOCKET names it. */
static int
notify_socket_abstract(const char *tag)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char name[64];
	socklen_t len;
	int fd;

	snprintf(name, sizeof(name), "@cairn-test-%s-%d", tag, (int)getpid());
	memcpy(sun.sun_path, name, strlen(name));
	sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(name));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, len), 0);
	setenv("NOTIFY_SOCKET", name, 1);
	return fd;
}

static int
recv_msg(int fd, char *buf, size_t size)
{
	ssize_t n = recv(fd, buf, size - 1, 0);

	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

static void
test_notify(void **state)
{
	char buf[600];
	int fd = notify_socket();

	daemon_notify_ready();
	assert_true(recv_msg(fd, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "READY=1");
	daemon_notify_reloading();
	assert_true(recv_msg(fd, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "RELOADING=1");
	daemon_notify_stopping();
	assert_true(recv_msg(fd, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "STOPPING=1");
	daemon_notify_status("leader %s, %d peers\nsecond line", "n1", 3);
	assert_true(recv_msg(fd, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "STATUS=leader n1, 3 peers");
	/* without $NOTIFY_SOCKET: nothing sent, nothing fails */
	unsetenv("NOTIFY_SOCKET");
	daemon_notify_ready();
	daemon_notify_status("x");
	assert_int_equal(recv_msg(fd, buf, sizeof(buf)), -1);
	close(fd);
}

/* '@' means the abstract namespace: same messages, no file. */
static void
test_notify_abstract(void **state)
{
	char buf[600];
	int fd = notify_socket_abstract("notify");

	daemon_notify_ready();
	assert_true(recv_msg(fd, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "READY=1");
	daemon_notify_status("%d members", 1000);
	assert_true(recv_msg(fd, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "STATUS=1000 members");
	daemon_notify_stopping();
	assert_true(recv_msg(fd, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "STOPPING=1");
	unsetenv("NOTIFY_SOCKET");
	close(fd);
}

/* Relative, empty, bare-prefix and too long addresses: nothing is sent,
 * nothing crashes; a socket the name does not reach stays empty. */
static void
test_notify_bad_address(void **state)
{
	char buf[600], longpath[200];
	int fd = notify_socket();

	setenv("NOTIFY_SOCKET", "relative/notify", 1);
	daemon_notify_ready();
	setenv("NOTIFY_SOCKET", "@", 1);
	daemon_notify_ready();
	setenv("NOTIFY_SOCKET", "/", 1);
	daemon_notify_ready();
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longpath, 1);
	daemon_notify_ready();
	longpath[0] = '@';
	setenv("NOTIFY_SOCKET", longpath, 1);
	daemon_notify_ready();
	/* a path of exactly sizeof(sun_path) bytes leaves no room for NUL */
	longpath[0] = '/';
	longpath[sizeof(((struct sockaddr_un *)0)->sun_path)] = '\0';
	setenv("NOTIFY_SOCKET", longpath, 1);
	daemon_notify_ready();
	assert_int_equal(recv_msg(fd, buf, sizeof(buf)), -1);
	unsetenv("NOTIFY_SOCKET");
	close(fd);
}

static void
stop_cb(struct loop *l, void *arg)
{
	loop_stop(l);
}

static void
test_watchdog(void **state)
{
	struct loop *l = loop_new();
	char buf[64], pid[32];
	uint64_t t0;
	int fd, pings = 0;

	/* not under systemd: no watchdog */
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(daemon_watchdog_start(l), 0);
	fd = notify_socket();
	unsetenv("WATCHDOG_USEC");
	assert_int_equal(daemon_watchdog_start(l), 0);
	/* WatchdogSec=0.2: a ping now and every 100 ms */
	setenv("WATCHDOG_USEC", "200000", 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	t0 = loop_clock_ms();
	assert_int_equal(daemon_watchdog_start(l), 1);
	/* until the fourth ping (or 10 s: a starved machine only delays
	 * the timers); then the pings were at most one per 100 ms */
	while (pings < 4 && loop_clock_ms() - t0 < 10000) {
		loop_timer_add(l, 20, stop_cb, NULL);
		assert_int_equal(loop_run(l), 0);
		while (recv_msg(fd, buf, sizeof(buf)) > 0) {
			assert_string_equal(buf, "WATCHDOG=1");
			pings++;
		}
	}
	assert_true(pings >= 4);
	assert_true(pings <= 1 + (int)((loop_clock_ms() - t0) / 100));
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	unsetenv("NOTIFY_SOCKET");
	close(fd);
	loop_free(l);
}

/* sd_watchdog_enabled(3): WATCHDOG_PID names another process (a child
 * that inherited the environment) or WATCHDOG_USEC is not a positive
 * number: no watchdog, no ping. Unset WATCHDOG_PID: ours. */
static void
test_watchdog_not_ours(void **state)
{
	struct loop *l = loop_new();
	char buf[64], pid[32];
	const char *bad[] = { "0", "", "-5", "12x", "abc",
	    "99999999999999999999999" };
	size_t i;
	int fd = notify_socket_abstract("wd");

	setenv("WATCHDOG_USEC", "200000", 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(daemon_watchdog_start(l), 0);
	setenv("WATCHDOG_PID", "x1", 1);
	assert_int_equal(daemon_watchdog_start(l), 0);
	unsetenv("WATCHDOG_PID");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("WATCHDOG_USEC", bad[i], 1);
		assert_int_equal(daemon_watchdog_start(l), 0);
	}
	assert_int_equal(recv_msg(fd, buf, sizeof(buf)), -1);
	/* no WATCHDOG_PID: the watchdog is ours, the first ping is at once */
	setenv("WATCHDOG_USEC", "200000", 1);
	assert_int_equal(daemon_watchdog_start(l), 1);
	assert_true(recv_msg(fd, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "WATCHDOG=1");
	unsetenv("WATCHDOG_USEC");
	unsetenv("NOTIFY_SOCKET");
	close(fd);
	loop_free(l);
}

static void
test_mkdirs(void **state)
{
	char path[256], file[256];
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/a/b//c/", tmpdir);
	assert_int_equal(daemon_mkdirs(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/a/b/c", tmpdir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(daemon_mkdirs(path, 0700), 0); /* exists: fine */
	snprintf(file, sizeof(file), "%s/a/file", tmpdir);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(daemon_mkdirs(file, 0700), ERR_EXISTS);
	snprintf(path, sizeof(path), "%s/a/file/sub", tmpdir);
	assert_int_equal(daemon_mkdirs(path, 0700), ERR_EXISTS);
	assert_int_equal(daemon_mkdirs("", 0700), ERR_INVAL);
	assert_int_equal(daemon_mkdirs(NULL, 0700), ERR_INVAL);
}

/* The roles' shared main() preamble: -n out of argv, the config loaded,
 * a bad flag is exit status 2. */
static void
test_config(void **state)
{
	char a0[] = "raftd", a1[] = "-n", a2[] = "-node", a3[] = "n7",
	    a4[] = "-bogus", a5[] = "-dev";
	char *argv[] = { a0, a1, a2, a3, a5, NULL };
	char *bad[] = { a0, a4, NULL };
	struct config cfg;
	bool check;
	int argc = 5;

	(void)state;
	assert_int_equal(daemon_config("raftd", &argc, argv, &cfg, &check), 0);
	assert_true(check);
	assert_int_equal(argc, 4);
	assert_string_equal(argv[1], "-node");
	assert_null(argv[4]);
	assert_string_equal(cfg.node_name, "n7");
	config_free(&cfg);
	argc = 4;
	assert_int_equal(daemon_config("raftd", &argc, argv, &cfg, &check), 0);
	assert_false(check);
	config_free(&cfg);
	argc = 2;
	assert_int_equal(daemon_config("raftd", &argc, bad, &cfg, &check), 2);
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_notify_abstract),
		cmocka_unit_test(test_notify_bad_address),
		cmocka_unit_test(test_watchdog),
		cmocka_unit_test(test_watchdog_not_ours),
		cmocka_unit_test(test_mkdirs),
		cmocka_unit_test(test_config),
	};
	char cmd[128];
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cairn-daemon-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	(void)!system(cmd);
	return rc;
}
