/*
 * fsfault.c — an LD_PRELOAD shim for the disk-fault tests
 * (test_disk_faults.py): fdatasync(2) and fsync(2) fail with EIO while
 * the file named by $FSFAULT_FILE exists, and go to libc's otherwise.
 *
 * Why a shim and not libfiu: fiu-run is not installed on every machine
 * that runs the tests, and the test wants to switch the fault on and off
 * at run time by creating and removing a file (checked with access() on
 * each call, so it costs one syscall per sync). $FSFAULT_PROG, when set,
 * limits the fault to processes of that name (raftd), so the agent's
 * other roles under the same environment keep syncing normally.
 * Each failed call is counted in $FSFAULT_FILE.hits (one byte per call)
 * so a test can tell that the fault was reached.
 * Reference: spec/fault-testing.md §3.6 (the slow-fsync shim idea).
 * Build: cc -shared -fPIC -o fsfault.so fsfault.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
fsfault_on(void)
{
	const char *path = getenv("FSFAULT_FILE");
	const char *prog = getenv("FSFAULT_PROG");
	char hits[4096];
	int fd;

	if (path == NULL || access(path, F_OK) != 0)
		return 0;
	if (prog != NULL && strcmp(prog, program_invocation_short_name) != 0)
		return 0;
	if (strlen(path) + 6 <= sizeof(hits)) {
		strcpy(hits, path);
		strcat(hits, ".hits");
		fd = open(hits, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		    0600);
		if (fd >= 0) {
			(void)!write(fd, "x", 1);
			close(fd);
		}
	}
	return 1;
}

int
fdatasync(int fd)
{
	static int (*real)(int);

	if (fsfault_on()) {
		errno = EIO;
		return -1;
	}
	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	return real(fd);
}

int
fsync(int fd)
{
	static int (*real)(int);

	if (fsfault_on()) {
		errno = EIO;
		return -1;
	}
	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return real(fd);
}
