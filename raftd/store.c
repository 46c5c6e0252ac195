/*
 * store.c — raftd's storage: the meta and state column families of one
 * RocksDB, and the Raft log in segment files beside them (raftlog.c),
 * as store.h describes (DESIGN.md §5).
 *
 * Key decisions: memory is kept small on purpose (raftd and httpd idle
 * together under 20 MB): 4 MiB write buffers, a shared 4 MiB LRU block
 * cache, 64 open files, two background jobs. paranoid_checks stays on and
 * an existing directory must hold our "format" meta record, so a corrupt
 * or foreign store is refused at open rather than served. RocksDB's
 * errptr strings are translated to ERR_* here and never leave this file
 * (STYLE.md §6). Reference: RocksDB wiki "Column Families",
 * "WAL Performance" (sync vs. unsynced writes).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rocksdb/c.h>

#include "err.h"
#include "log.h"
#include "raftlog.h"
#include "store.h"

#define STORE_FORMAT 1
#define STORE_WRITE_BUFFER_BYTES (4u << 20)
#define STORE_BLOCK_CACHE_BYTES (4u << 20)
#define STORE_MAX_OPEN_FILES 64
#define STORE_BLOOM_BITS 10.0		/* per key: ~1 % false positives */
#define STORE_MEMTABLE_BLOOM_RATIO 0.05	/* of the write buffer */
#define STORE_LOG_HEADER 9 /* term (8) + type (1) */
#define STORE_LOG_DIR "raftlog"
#define STORE_STATE_FLUSH_MS 50 /* state writes reach the WAL file */

enum { CF_DEFAULT, CF_LOG, CF_META, CF_STATE, CF_COUNT };
static const char *const store_cf_names[CF_COUNT] = {
	"default", "log", "meta", "state"
};

struct store {
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_options_t *cf_opts[CF_COUNT];
	rocksdb_block_based_table_options_t *bbo;
	rocksdb_block_based_table_options_t *bbo_state; /* + bloom filter */
	rocksdb_cache_t *cache;
	rocksdb_column_family_handle_t *cf[CF_COUNT];
	rocksdb_writeoptions_t *wo_nosync;
	rocksdb_readoptions_t *ro;
	struct raftlog *log;
	uint64_t flushed_ms; /* last unsynced WAL flush (store_log_append) */
};

static int store_log_open(struct store *s, const char *dir, bool fresh,
    char *err, size_t errlen);

struct store_batch {
	rocksdb_writebatch_t *wb;
	rocksdb_column_family_handle_t *cf; /* state */
};

struct store_iter {
	struct store *s;
	rocksdb_iterator_t *it;
	rocksdb_readoptions_t *ro;
	const rocksdb_snapshot_t *snap;
};

void
store_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint64_t
store_get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void
store_entry_fini(struct store_entry *e)
{
	if (e == NULL)
		return;
	free(e->data);
	memset(e, 0, sizeof(*e));
}

void
store_val_free(struct store_val *v)
{
	if (v == NULL)
		return;
	if (v->handle != NULL)
		rocksdb_pinnableslice_destroy(v->handle);
	memset(v, 0, sizeof(*v));
}

/* Translates a RocksDB error string (consumed) to an ERR_* code. */
static int
store_err(char *errptr, const char *what)
{
	int code = ERR_IO;

	if (errptr == NULL)
		return 0;
	if (strncmp(errptr, "Corruption", 10) == 0)
		code = ERR_CORRUPT;
	log_warnx("store: %s: %s", what, errptr);
	rocksdb_free(errptr);
	return code;
}

/*
 * The state column family gets whole-key bloom filters, in its tables and
 * in its memtables: every applied write looks up keys that mostly do not
 * exist (a new key, the dedup record of a new (client, seq)), and without
 * a filter each such miss searched the memtables and the index block of
 * every table (a third of the leader's CPU at 256 clients). Reference:
 * RocksDB wiki "RocksDB Bloom Filter", "Memtable" (memtable bloom).
 */
static rocksdb_options_t *
store_cf_options(struct store *s, int cf)
{
	rocksdb_options_t *o = rocksdb_options_create();

	rocksdb_options_set_write_buffer_size(o, STORE_WRITE_BUFFER_BYTES);
	rocksdb_options_set_max_write_buffer_number(o, 2);
	rocksdb_options_set_block_based_table_factory(o,
	    cf == CF_STATE ? s->bbo_state : s->bbo);
	rocksdb_options_set_compression(o, rocksdb_no_compression);
	if (cf == CF_STATE) {
		rocksdb_options_set_memtable_whole_key_filtering(o, 1);
		rocksdb_options_set_memtable_prefix_bloom_size_ratio(o,
		    STORE_MEMTABLE_BLOOM_RATIO);
	}
	return o;
}

static void
store_free_handles(struct store *s)
{
	for (int i = 0; i < CF_COUNT; i++) {
		if (s->cf[i] != NULL)
			rocksdb_column_family_handle_destroy(s->cf[i]);
		if (s->cf_opts[i] != NULL)
			rocksdb_options_destroy(s->cf_opts[i]);
	}
	if (s->db != NULL)
		rocksdb_close(s->db);
	if (s->opts != NULL)
		rocksdb_options_destroy(s->opts);
	if (s->bbo != NULL)
		rocksdb_block_based_options_destroy(s->bbo);
	if (s->bbo_state != NULL)
		rocksdb_block_based_options_destroy(s->bbo_state);
	if (s->cache != NULL)
		rocksdb_cache_destroy(s->cache);
	if (s->wo_nosync != NULL)
		rocksdb_writeoptions_destroy(s->wo_nosync);
	if (s->ro != NULL)
		rocksdb_readoptions_destroy(s->ro);
	raftlog_close(s->log);
	free(s);
}

static void
store_setup_options(struct store *s)
{
	s->cache = rocksdb_cache_create_lru(STORE_BLOCK_CACHE_BYTES);
	s->bbo = rocksdb_block_based_options_create();
	rocksdb_block_based_options_set_block_cache(s->bbo, s->cache);
	s->bbo_state = rocksdb_block_based_options_create();
	rocksdb_block_based_options_set_block_cache(s->bbo_state, s->cache);
	rocksdb_block_based_options_set_filter_policy(s->bbo_state,
	    rocksdb_filterpolicy_create_bloom_full(STORE_BLOOM_BITS));
	s->opts = rocksdb_options_create();
	rocksdb_options_set_create_if_missing(s->opts, 1);
	rocksdb_options_set_create_missing_column_families(s->opts, 1);
	rocksdb_options_set_paranoid_checks(s->opts, 1);
	rocksdb_options_set_max_open_files(s->opts, STORE_MAX_OPEN_FILES);
	rocksdb_options_set_db_write_buffer_size(s->opts,
	    2 * STORE_WRITE_BUFFER_BYTES);
	rocksdb_options_set_max_background_jobs(s->opts, 2);
	rocksdb_options_set_keep_log_file_num(s->opts, 2);
	rocksdb_options_set_max_total_wal_size(s->opts, 32u << 20);
	/* RocksDB's text LOG stays empty: Debian's 7.8.3 keeps its
	 * assertions on, and the line after a failed LOG write (ENOSPC)
	 * aborted raftd from a background thread (test_disk_faults.py);
	 * every error that matters reaches raftd's log through errptr */
	rocksdb_options_set_info_log_level(s->opts,
	    6 /* NUM_INFO_LOG_LEVELS: nothing, not even the header */);
	rocksdb_options_set_max_manifest_file_size(s->opts, 8u << 20);
	/* a torn WAL tail (unsynced writes cut by a crash or a full disk)
	 * is dropped, but damage before the tail refuses the open: the
	 * default point-in-time recovery would silently cut every synced
	 * (acknowledged) record after it. This rules out recycled WAL
	 * files, whose stale bytes past the tail look like damage. */
	rocksdb_options_set_wal_recovery_mode(s->opts,
	    0 /* kTolerateCorruptedTailRecords */);
	/* writes fill the WAL buffer; store_write() flushes and syncs it
	 * for the writes that must be durable (see store_write) */
	rocksdb_options_set_manual_wal_flush(s->opts, 1);
	for (int i = 0; i < CF_COUNT; i++)
		s->cf_opts[i] = store_cf_options(s, i);
	s->wo_nosync = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(s->wo_nosync, 0);
	s->ro = rocksdb_readoptions_create();
	rocksdb_readoptions_set_verify_checksums(s->ro, 1);
}

/* True when dir/name exists. */
static bool
store_dir_has(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return false;
	return stat(path, &st) == 0;
}

/* True when dir holds RocksDB files (a MANIFEST, a table or a WAL). */
static bool
store_dir_has_db_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (d == NULL)
		return false;
	while (!found && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		found = strncmp(de->d_name, "MANIFEST-", 9) == 0 ||
		    (n > 4 && strcmp(de->d_name + n - 4, ".sst") == 0) ||
		    (n > 4 && strcmp(de->d_name + n - 4, ".log") == 0);
	}
	closedir(d);
	return found;
}

/* Checks (or, for a fresh store, writes) the format record. */
static int
store_check_format(struct store *s, bool fresh, char *err, size_t errlen)
{
	uint64_t fmt;
	int rc;

	rc = store_meta_get_u64(s, "format", &fmt);
	if (rc == ERR_NOTFOUND && fresh)
		return store_meta_put_u64(s, "format", STORE_FORMAT);
	if (rc == ERR_NOTFOUND) {
		snprintf(err, errlen, "store has no format record: not a "
		    "cairn raft store or damaged");
		return ERR_CORRUPT;
	}
	if (rc != 0) {
		snprintf(err, errlen, "format record unreadable: %s",
		    err_str(rc));
		return ERR_CORRUPT;
	}
	if (fmt != STORE_FORMAT) {
		snprintf(err, errlen, "store format %llu, expected %d",
		    (unsigned long long)fmt, STORE_FORMAT);
		return ERR_CORRUPT;
	}
	return 0;
}

int
store_open(const char *dir, struct store **out, char *err, size_t errlen)
{
	struct store *s;
	char *errptr = NULL;
	bool fresh;
	int rc;

	*out = NULL;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return ERR_IO;
	}
	fresh = !store_dir_has(dir, "CURRENT");
	if (fresh && store_dir_has_db_files(dir)) {
		snprintf(err, errlen, "%s: database files without CURRENT: "
		    "damaged store", dir);
		return ERR_CORRUPT;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ERR_NOMEM;
	store_setup_options(s);
	s->db = rocksdb_open_column_families(s->opts, dir, CF_COUNT,
	    store_cf_names, (const rocksdb_options_t *const *)s->cf_opts,
	    s->cf, &errptr);
	if (errptr != NULL) {
		snprintf(err, errlen, "%s: %s", dir, errptr);
		rc = strncmp(errptr, "IO error", 8) == 0 &&
		    strstr(errptr, "No such file") == NULL ? ERR_IO
		    : ERR_CORRUPT;
		rocksdb_free(errptr);
		s->db = NULL;
		store_free_handles(s);
		return rc;
	}
	if ((rc = store_check_format(s, fresh, err, errlen)) != 0 ||
	    (rc = store_log_open(s, dir, fresh, err, errlen)) != 0) {
		store_free_handles(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
store_close(struct store *s)
{
	char *errptr = NULL;

	if (s == NULL)
		return;
	rocksdb_flush_wal(s->db, 1, &errptr); /* the buffered state writes */
	store_err(errptr, "close");
	store_free_handles(s);
}

/*
 * Writes wb through the WAL. With manual_wal_flush the WAL is a buffer
 * in memory; a durable write flushes and fdatasyncs it. RocksDB syncs
 * outside its write queue (SyncWAL), so the loop thread's unsynced state
 * writes never wait behind the writer thread's fdatasync, which is what
 * lets one batch sync while the previous one is applied. Unsynced state
 * writes reach the disk with the next synced write; any that a crash
 * loses are re-derived from the log (point-in-time WAL recovery keeps
 * state and applied index consistent).
 */
static int
store_write(struct store *s, rocksdb_writebatch_t *wb, bool sync,
    const char *what)
{
	char *errptr = NULL;

	rocksdb_write(s->db, s->wo_nosync, wb, &errptr);
	if (errptr == NULL && sync)
		rocksdb_flush_wal(s->db, 1, &errptr);
	return store_err(errptr, what);
}

/* ---- log ---- */

static uint64_t
store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The log is synced in raftlog; the state writes, unsynced, wait in
 * RocksDB's WAL buffer (manual WAL flush). Every STORE_STATE_FLUSH_MS an
 * append writes that buffer to the WAL file, unsynced, so a crashed
 * raftd replays at most that much of its log at restart; a crash of the
 * machine may lose more, re-derived from the log the same way.
 */
int
store_log_append(struct store *s, const struct store_entry *ents, size_t n)
{
	uint64_t now = store_now_ms();
	char *errptr = NULL;

	if (now - s->flushed_ms >= STORE_STATE_FLUSH_MS) {
		s->flushed_ms = now;
		rocksdb_flush_wal(s->db, 0, &errptr);
		if (errptr != NULL)
			return store_err(errptr, "state flush");
	}
	return raftlog_append(s->log, ents, n);
}

int
store_log_get(struct store *s, uint64_t index, struct store_entry *out)
{
	return raftlog_get(s->log, index, out);
}

int
store_log_bounds(struct store *s, uint64_t *first, uint64_t *last,
    uint64_t *last_term)
{
	raftlog_bounds(s->log, first, last, last_term);
	return 0;
}

int
store_log_truncate(struct store *s, uint64_t from)
{
	return raftlog_truncate(s->log, from);
}

int
store_log_compact(struct store *s, uint64_t upto)
{
	return raftlog_compact(s->log, upto);
}

static int
store_log_decode(uint64_t index, const char *v, size_t vlen,
    struct store_entry *out)
{
	memset(out, 0, sizeof(*out));
	if (vlen < STORE_LOG_HEADER)
		return ERR_CORRUPT;
	out->index = index;
	out->term = store_get_be64((const uint8_t *)v);
	out->type = (uint8_t)v[8];
	out->len = vlen - STORE_LOG_HEADER;
	out->data = (uint8_t *)v + STORE_LOG_HEADER; /* borrowed */
	return 0;
}

/*
 * Stores of format 1 before raftlog kept the log in the "log" column
 * family: its entries move into raftlog (which is emptied first: a move
 * cut short by a crash starts over), then leave the column family.
 */
static int
store_log_migrate(struct store *s, char *err, size_t errlen)
{
	rocksdb_iterator_t *it;
	struct store_entry batch[256];
	char *errptr = NULL;
	size_t n = 0, moved = 0;
	int rc = 0;

	it = rocksdb_create_iterator_cf(s->db, s->ro, s->cf[CF_LOG]);
	rocksdb_iter_seek_to_first(it);
	if (rocksdb_iter_valid(it))
		rc = raftlog_compact(s->log, UINT64_MAX);
	for (; rc == 0 && rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *v = rocksdb_iter_value(it, &vlen);

		if (klen != 8 || store_log_decode(store_get_be64(
		    (const uint8_t *)k), v, vlen, &batch[n]) != 0) {
			rc = ERR_CORRUPT;
			break;
		}
		if (++n == sizeof(batch) / sizeof(batch[0])) {
			rc = raftlog_append(s->log, batch, n);
			moved += n;
			n = 0;
		}
	}
	if (rc == 0 && n > 0) {
		rc = raftlog_append(s->log, batch, n);
		moved += n;
	}
	rocksdb_iter_get_error(it, &errptr);
	rocksdb_iter_destroy(it);
	if (errptr != NULL)
		rc = store_err(errptr, "log migration");
	if (rc == 0 && moved > 0) {
		rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
		uint8_t a[8] = { 0 }, b[9];

		memset(b, 0xff, sizeof(b));
		rocksdb_writebatch_delete_range_cf(wb, s->cf[CF_LOG],
		    (const char *)a, sizeof(a), (const char *)b, sizeof(b));
		rc = store_write(s, wb, true, "log migration");
		rocksdb_writebatch_destroy(wb);
		log_info("store: %zu log entries moved into %s/", moved,
		    STORE_LOG_DIR);
	}
	if (rc != 0)
		snprintf(err, errlen, "cannot move the log out of RocksDB: %s",
		    err_str(rc));
	return rc;
}

/* Opens the log directory beside RocksDB's files. */
static int
store_log_open(struct store *s, const char *dir, bool fresh, char *err,
    size_t errlen)
{
	char path[4096];
	uint64_t first, last, term;
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s", dir, STORE_LOG_DIR) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return ERR_INVAL;
	}
	if ((rc = raftlog_open(path, &s->log, err, errlen)) != 0)
		return rc;
	raftlog_bounds(s->log, &first, &last, &term);
	if (fresh && last != 0) {
		/* term and vote went with RocksDB's files */
		snprintf(err, errlen, "%s: a Raft log without its database "
		    "(term, vote, state): damaged store", dir);
		return ERR_CORRUPT;
	}
	return store_log_migrate(s, err, errlen);
}

/* ---- meta ---- */

static int
store_get_cf(struct store *s, int cf, const void *key, size_t klen,
    struct store_val *v)
{
	char *errptr = NULL;
	rocksdb_pinnableslice_t *ps;

	memset(v, 0, sizeof(*v));
	ps = rocksdb_get_pinned_cf(s->db, s->ro, s->cf[cf], key, klen,
	    &errptr);
	if (errptr != NULL)
		return store_err(errptr, "read");
	if (ps == NULL)
		return ERR_NOTFOUND;
	v->handle = ps;
	v->ptr = (const uint8_t *)rocksdb_pinnableslice_value(ps, &v->len);
	return 0;
}

int
store_meta_get(struct store *s, const char *name, struct store_val *v)
{
	return store_get_cf(s, CF_META, name, strlen(name), v);
}

int
store_meta_put(struct store *s, const char *name, const void *val,
    size_t len)
{
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	int rc;

	rocksdb_writebatch_put_cf(wb, s->cf[CF_META], name, strlen(name),
	    len ? val : "", len);
	rc = store_write(s, wb, true, "meta write");
	rocksdb_writebatch_destroy(wb);
	return rc;
}

int
store_meta_get_u64(struct store *s, const char *name, uint64_t *out)
{
	struct store_val v;
	int rc;

	*out = 0;
	if ((rc = store_meta_get(s, name, &v)) != 0)
		return rc;
	if (v.len != 8)
		rc = ERR_CORRUPT;
	else
		*out = store_get_be64(v.ptr);
	store_val_free(&v);
	return rc;
}

int
store_meta_put_u64(struct store *s, const char *name, uint64_t v)
{
	uint8_t b[8];

	store_put_be64(b, v);
	return store_meta_put(s, name, b, sizeof(b));
}

/* ---- state ---- */

int
store_state_get(struct store *s, const void *key, size_t klen,
    struct store_val *v)
{
	return store_get_cf(s, CF_STATE, key, klen, v);
}

struct store_batch *
store_batch_new(struct store *s)
{
	struct store_batch *b = malloc(sizeof(*b));

	if (b == NULL)
		return NULL;
	b->wb = rocksdb_writebatch_create();
	b->cf = s->cf[CF_STATE];
	return b;
}

void
store_batch_free(struct store_batch *b)
{
	if (b == NULL)
		return;
	rocksdb_writebatch_destroy(b->wb);
	free(b);
}

void
store_batch_clear(struct store_batch *b)
{
	rocksdb_writebatch_clear(b->wb);
}

void
store_batch_put(struct store_batch *b, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	rocksdb_writebatch_put_cf(b->wb, b->cf, key, klen,
	    vlen ? val : "", vlen);
}

void
store_batch_delete(struct store_batch *b, const void *key, size_t klen)
{
	rocksdb_writebatch_delete_cf(b->wb, b->cf, key,
	    klen);
}

int
store_batch_write(struct store *s, struct store_batch *b, bool sync)
{
	return store_write(s, b->wb, sync, "state write");
}

struct store_iter *
store_iter_new(struct store *s)
{
	struct store_iter *it = calloc(1, sizeof(*it));

	if (it == NULL)
		return NULL;
	it->s = s;
	it->ro = rocksdb_readoptions_create();
	it->snap = rocksdb_create_snapshot(s->db);
	rocksdb_readoptions_set_snapshot(it->ro, it->snap);
	it->it = rocksdb_create_iterator_cf(s->db, it->ro, s->cf[CF_STATE]);
	return it;
}

void
store_iter_free(struct store_iter *it)
{
	if (it == NULL)
		return;
	rocksdb_iter_destroy(it->it);
	rocksdb_release_snapshot(it->s->db, it->snap);
	rocksdb_readoptions_destroy(it->ro);
	free(it);
}

void
store_iter_seek(struct store_iter *it, const void *key, size_t klen)
{
	rocksdb_iter_seek(it->it, key, klen);
}

bool
store_iter_valid(struct store_iter *it)
{
	return rocksdb_iter_valid(it->it) != 0;
}

void
store_iter_next(struct store_iter *it)
{
	rocksdb_iter_next(it->it);
}

const uint8_t *
store_iter_key(struct store_iter *it, size_t *len)
{
	return (const uint8_t *)rocksdb_iter_key(it->it, len);
}

const uint8_t *
store_iter_value(struct store_iter *it, size_t *len)
{
	return (const uint8_t *)rocksdb_iter_value(it->it, len);
}

int
store_iter_status(struct store_iter *it)
{
	char *errptr = NULL;

	rocksdb_iter_get_error(it->it, &errptr);
	return store_err(errptr, "state iteration");
}
