/*
 * store.c — persistence of API-registered services and checks under
 * <data_dir>/checkd/{services,checks}/<hash>.json, one file each.
 *
 * Key decision: a file is written to a temporary name, fsync'd, renamed
 * over the old one and the directory fsync'd before the API call returns,
 * so an acknowledged registration survives kill -9 and power loss. The
 * file name is a 64-bit FNV-1a hash of the ID (IDs may hold '/'); the ID
 * itself is inside. The writes of one loop iteration are made durable
 * together before any answer leaves (store_settle): each file is written
 * and its writeback started, then at the batch's end every file is
 * fsync'd and renamed, and each directory fsync'd once (git's batched
 * fsync idea; one journal commit instead of one per file). Check files carry status, output and the TTL deadline
 * (wall clock), so a restarted checkd resumes them. File-defined entries
 * are never stored (spec §8.2). Reference: Consul agent/agent.go
 * persistService/persistCheckState, spec/consul-api.md §3.3.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkd.h"
#include "config.h"
#include "daemon.h"
#include "err.h"
#include "log.h"
#include "loop.h"

static uint64_t
store_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static void
store_path(const struct checkd *cd, const char *kind, const char *id,
    char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s/%016" PRIx64 ".json", cd->store_dir, kind,
	    store_hash(id));
}

static uint64_t
store_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int
store_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return err_from_errno(errno);
	if (fsync(fd) != 0)
		rc = err_from_errno(errno);
	close(fd);
	return rc;
}

/*
 * A write of the current batch whose file is written but not yet
 * fsync'd and renamed into place (store_flush_pending).
 */
struct store_pending {
	int fd;
	int kind_bit;              /* 1 services, 2 checks */
	char *tmp, *path;
	struct store_pending *next;
};

#define STORE_PENDING_MAX 256

static int
store_kind_bit(const char *kind)
{
	return strcmp(kind, "services") == 0 ? 1 : 2;
}

static void
store_pending_free(struct store_pending *p, bool drop_tmp)
{
	close(p->fd);
	if (drop_tmp)
		unlink(p->tmp);
	free(p->tmp);
	free(p->path);
	free(p);
}

/* Forgets the batch's pending write of path (overwritten or removed). */
static void
store_pending_drop(struct checkd *cd, const char *path, bool drop_tmp)
{
	struct store_pending **pp, *p;

	for (pp = &cd->store_pending; (p = *pp) != NULL; pp = &p->next)
		if (strcmp(p->path, path) == 0) {
			*pp = p->next;
			cd->store_npending--;
			store_pending_free(p, drop_tmp);
			return;
		}
}

/*
 * The file fsyncs of one batch: writeback of every file was started when
 * it was written (sync_file_range), so the first fsync's journal commit
 * carries the block allocations of all and the others mostly wait for
 * their own data. A file is renamed into place only once it is durable.
 */
static void
store_flush_pending(struct checkd *cd)
{
	struct store_pending *p, *n;

	for (p = cd->store_pending, cd->store_pending = NULL; p != NULL;
	    p = n) {
		n = p->next;
		if (fsync(p->fd) != 0 || rename(p->tmp, p->path) != 0) {
			log_warn("store: cannot write %s", p->path);
			store_pending_free(p, true);
			continue;
		}
		cd->store_dirty |= p->kind_bit;
		store_pending_free(p, false);
	}
	cd->store_npending = 0;
}

/* Queues an open, written temporary file for store_flush_pending. */
static int
store_defer(struct checkd *cd, int fd, const char *kind, const char *tmp,
    const char *path)
{
	struct store_pending *p;

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->tmp = strdup(tmp)) == NULL || (p->path = strdup(path)) == NULL) {
		if (p != NULL)
			free(p->tmp);
		free(p);
		return ERR_NOMEM;
	}
	store_pending_drop(cd, path, false); /* same inode: O_TRUNC'd */
	(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	p->fd = fd;
	p->kind_bit = store_kind_bit(kind);
	p->next = cd->store_pending;
	cd->store_pending = p;
	cd->store_npending++;
	return 0;
}

static int
store_write(struct checkd *cd, const char *kind, const char *id,
    const char *text)
{
	char path[4200], tmp[4300], dir[4200];
	size_t len = strlen(text), off = 0;
	ssize_t n;
	int fd, rc = 0;

	store_path(cd, kind, id, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(dir, sizeof(dir), "%s/%s", cd->store_dir, kind);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = err_from_errno(errno);
		log_warn("store: %s", tmp);
		return rc;
	}
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			rc = err_from_errno(errno);
			break;
		}
		off += (size_t)n;
	}
	if (rc == 0)
		store_batch_iteration(cd);
	if (rc == 0 && cd->store_batch > 0 &&
	    cd->store_npending < STORE_PENDING_MAX &&
	    store_defer(cd, fd, kind, tmp, path) == 0)
		return 0; /* fsync'd and renamed by store_batch_end */
	if (rc == 0 && fsync(fd) != 0)
		rc = err_from_errno(errno);
	close(fd);
	if (rc == 0)
		store_pending_drop(cd, path, false);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = err_from_errno(errno);
	if (rc == 0 && cd->store_batch > 0)
		cd->store_dirty |= store_kind_bit(kind);
	else if (rc == 0)
		rc = store_fsync_dir(dir);
	if (rc != 0) {
		log_warnx("store: cannot write %s: %s", path, err_str(rc));
		unlink(tmp);
	}
	return rc;
}

void
store_batch_begin(struct checkd *cd)
{
	cd->store_batch++;
}

static void
store_iteration_end(struct loop *l, void *arg)
{
	struct checkd *cd = arg;

	(void)l;
	cd->store_iter_timer = 0;
	store_batch_end(cd);
}

/*
 * The writes of one loop iteration (a burst of registrations httpd
 * relayed together, or of status changes) share the directory fsyncs:
 * a batch opens at the first write and ends by a timer that runs after
 * this iteration's events, or earlier by store_settle, which every
 * answer calls before it leaves (so nothing is acknowledged before its
 * directory entry is durable).
 */
void
store_batch_iteration(struct checkd *cd)
{
	if (cd->store_iter_timer != 0 || cd->loop == NULL)
		return;
	cd->store_iter_timer = loop_timer_add(cd->loop, 0,
	    store_iteration_end, cd);
	if (cd->store_iter_timer != 0)
		store_batch_begin(cd);
}

void
store_settle(struct checkd *cd)
{
	if (cd->store_iter_timer == 0)
		return;
	loop_timer_cancel(cd->loop, cd->store_iter_timer);
	cd->store_iter_timer = 0;
	store_batch_end(cd);
}

void
store_batch_end(struct checkd *cd)
{
	char dir[4200];

	if (--cd->store_batch > 0)
		return;
	store_flush_pending(cd);
	if (cd->store_dirty & 1) {
		snprintf(dir, sizeof(dir), "%s/services", cd->store_dir);
		store_fsync_dir(dir);
	}
	if (cd->store_dirty & 2) {
		snprintf(dir, sizeof(dir), "%s/checks", cd->store_dir);
		store_fsync_dir(dir);
	}
	cd->store_dirty = 0;
}

int
store_open(struct checkd *cd)
{
	char path[4200];
	int rc;

	if (snprintf(cd->store_dir, sizeof(cd->store_dir), "%s/checkd",
	    cd->cfg->data_dir) >= (int)sizeof(cd->store_dir))
		return ERR_TOOBIG;
	snprintf(path, sizeof(path), "%s/services", cd->store_dir);
	if ((rc = daemon_mkdirs(path, 0700)) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/checks", cd->store_dir);
	return daemon_mkdirs(path, 0700);
}

int
store_save_service(struct checkd *cd, const struct svc *s)
{
	char *text = render_persist_service(s);
	int rc;

	if (text == NULL)
		return ERR_NOMEM;
	rc = store_write(cd, "services", s->id, text);
	free(text);
	return rc;
}

int
store_save_check(struct checkd *cd, const struct chk *c)
{
	uint64_t wall = 0, now = loop_now_ms(cd->loop);
	char *text;
	int rc;

	if (c->type == CT_TTL && c->ttl_deadline_ms > 0)
		wall = store_wall_ms() + (c->ttl_deadline_ms > now ?
		    c->ttl_deadline_ms - now : 0);
	if ((text = render_persist_check(c, wall)) == NULL)
		return ERR_NOMEM;
	rc = store_write(cd, "checks", c->id, text);
	free(text);
	return rc;
}

static void
store_unlink(struct checkd *cd, const char *kind, const char *id)
{
	char path[4200], dir[4200];

	store_path(cd, kind, id, path, sizeof(path));
	snprintf(dir, sizeof(dir), "%s/%s", cd->store_dir, kind);
	store_pending_drop(cd, path, true); /* a write of this batch */
	if (unlink(path) == 0) {
		store_batch_iteration(cd);
		if (cd->store_batch > 0)
			cd->store_dirty |= strcmp(kind, "services") == 0 ?
			    1 : 2;
		else
			store_fsync_dir(dir);
	} else if (errno != ENOENT)
		log_warn("store: unlink %s", path);
}

void
store_remove_service(struct checkd *cd, const char *id)
{
	store_unlink(cd, "services", id);
}

void
store_remove_check(struct checkd *cd, const char *id)
{
	store_unlink(cd, "checks", id);
}

/* Reads a whole small file; owned NUL-terminated text or NULL. */
static char *
store_read(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *b = realloc(buf, cap = (cap + 4096) * 2);
			if (b == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = b;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
		if (n < 4096)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

typedef void (*store_each_cb)(struct checkd *cd, const char *path,
    const char *text);

static void
store_each(struct checkd *cd, const char *kind, store_each_cb cb)
{
	char dir[4200], path[4500];
	struct dirent *de;
	DIR *d;
	char *text;
	size_t n;

	snprintf(dir, sizeof(dir), "%s/%s", cd->store_dir, kind);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((text = store_read(path)) == NULL) {
			log_warn("store: cannot read %s", path);
			continue;
		}
		cb(cd, path, text);
		free(text);
	}
	closedir(d);
}

static void
store_load_service(struct checkd *cd, const char *path, const char *text)
{
	struct svc_def d;
	char err[512];
	int st;

	if (defn_service(text, strlen(text), SRC_API, &d, err, sizeof(err),
	    &st) != 0) {
		log_warnx("store: %s: %s (ignored)", path, err);
		return;
	}
	if (local_add_service(cd, &d, false, false, err, sizeof(err), &st) !=
	    0)
		log_warnx("store: %s: %s", path, err);
}

static void
store_load_check(struct checkd *cd, const char *path, const char *text)
{
	struct chk *c;
	uint64_t wall, now_wall, now = loop_now_ms(cd->loop);
	bool maint;
	char err[512];
	int st;

	if (defn_check_persisted(text, &c) != 0) {
		log_warnx("store: %s: unreadable check (ignored)", path);
		return;
	}
	defn_persist_extra(text, &wall, &maint);
	if (c->type == CT_TTL && wall > 0) {
		now_wall = store_wall_ms();
		/* at least 1 ms, so an expired TTL fires on the loop */
		c->ttl_deadline_ms = now + (wall > now_wall ? wall - now_wall :
		    1);
	}
	if (local_add_check(cd, c, false, err, sizeof(err), &st) != 0)
		log_warnx("store: %s: %s", path, err);
}

int
store_load(struct checkd *cd)
{
	store_each(cd, "services", store_load_service);
	store_each(cd, "checks", store_load_check);
	return 0;
}
