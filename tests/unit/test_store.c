/*
 * test_store.c — raftd's RocksDB store (raftd/store.c) and group-commit
 * writer (raftd/writer.c) in a mkdtemp directory: log append, read,
 * bounds, truncate and compact; meta round trip; state batches and
 * iteration; one synced batch per group; corrupt stores refused at open
 * (RocksDB's files, and the Raft log's segment files in <dir>/raftlog/,
 * whose record format raftlog.h gives), a torn log tail tolerated; a
 * store made before raftlog (the log in RocksDB's "log" column family)
 * has its entries moved into raftlog at open, also after a move that a
 * crash cut short.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rocksdb/c.h>

#include "err.h"
#include "log.h"
#include "raftd/store.h"
#include "raftd/writer.h"

struct fx {
	char dir[64];
	char raft[96];
	struct store *s;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	strcpy(f->dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->raft, sizeof(f->raft), "%s/raft", f->dir);
	assert_int_equal(store_open(f->raft, &f->s, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
reopen(struct fx *f)
{
	char err[256];

	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->raft, &f->s, err, sizeof(err)), 0);
}

static void
mkentry(struct store_entry *e, uint64_t index, uint64_t term,
    const char *data)
{
	e->index = index;
	e->term = term;
	e->type = STORE_ENTRY_COMMAND;
	e->len = strlen(data);
	e->data = (uint8_t *)strdup(data);
}

static void
test_log(void **state)
{
	struct fx *f = *state;
	struct store_entry ents[5], got;
	uint64_t first, last, term;

	assert_int_equal(store_log_bounds(f->s, &first, &last, &term), 0);
	assert_int_equal(last, 0);
	for (int i = 0; i < 5; i++) {
		char d[32];

		snprintf(d, sizeof(d), "entry-%d", i + 1);
		mkentry(&ents[i], (uint64_t)i + 1, i < 3 ? 1 : 2, d);
	}
	ents[4].len = 0; /* an empty entry round-trips */
	assert_int_equal(store_log_append(f->s, ents, 5), 0);
	for (int i = 0; i < 5; i++)
		store_entry_fini(&ents[i]);
	assert_int_equal(store_log_bounds(f->s, &first, &last, &term), 0);
	assert_int_equal(first, 1);
	assert_int_equal(last, 5);
	assert_int_equal(term, 2);
	assert_int_equal(store_log_get(f->s, 3, &got), 0);
	assert_int_equal(got.index, 3);
	assert_int_equal(got.term, 1);
	assert_int_equal(got.type, STORE_ENTRY_COMMAND);
	assert_int_equal(got.len, 7);
	assert_memory_equal(got.data, "entry-3", 7);
	store_entry_fini(&got);
	assert_int_equal(store_log_get(f->s, 5, &got), 0);
	assert_int_equal(got.len, 0);
	store_entry_fini(&got);
	assert_int_equal(store_log_get(f->s, 6, &got), ERR_NOTFOUND);

	/* truncate a suffix, then compact a prefix; survive a reopen */
	assert_int_equal(store_log_truncate(f->s, 4), 0);
	assert_int_equal(store_log_get(f->s, 4, &got), ERR_NOTFOUND);
	assert_int_equal(store_log_compact(f->s, 1), 0);
	reopen(f);
	assert_int_equal(store_log_bounds(f->s, &first, &last, &term), 0);
	assert_int_equal(first, 2);
	assert_int_equal(last, 3);
	assert_int_equal(term, 1);
	assert_int_equal(store_log_get(f->s, 1, &got), ERR_NOTFOUND);
	assert_int_equal(store_log_get(f->s, 2, &got), 0);
	assert_memory_equal(got.data, "entry-2", 7);
	store_entry_fini(&got);
	/* the log is consecutive: a gap after last is refused */
	mkentry(&ents[0], 0x100000000ULL, 3, "big");
	assert_int_equal(store_log_append(f->s, ents, 1), ERR_INVAL);
	assert_int_equal(store_log_bounds(f->s, &first, &last, &term), 0);
	assert_int_equal(last, 3);
	/* emptied (a snapshot installed), it starts anywhere: a big index
	 * (past 32 bits) round-trips */
	assert_int_equal(store_log_truncate(f->s, first), 0);
	assert_int_equal(store_log_append(f->s, ents, 1), 0);
	store_entry_fini(&ents[0]);
	reopen(f);
	assert_int_equal(store_log_bounds(f->s, &first, &last, &term), 0);
	assert_true(first == 0x100000000ULL);
	assert_true(last == 0x100000000ULL);
	assert_int_equal(term, 3);
	assert_int_equal(store_log_get(f->s, 0x100000000ULL, &got), 0);
	assert_int_equal(got.len, 3);
	assert_memory_equal(got.data, "big", 3);
	store_entry_fini(&got);
	assert_int_equal(store_log_get(f->s, 3, &got), ERR_NOTFOUND);
}

static void
test_meta(void **state)
{
	struct fx *f = *state;
	struct store_val v;
	uint64_t x;

	assert_int_equal(store_meta_get_u64(f->s, "term", &x), ERR_NOTFOUND);
	assert_int_equal(store_meta_put_u64(f->s, "term", 42), 0);
	assert_int_equal(store_meta_put(f->s, "vote", "node-1", 6), 0);
	assert_int_equal(store_meta_put(f->s, "bad", "abc", 3), 0);
	reopen(f);
	assert_int_equal(store_meta_get_u64(f->s, "term", &x), 0);
	assert_int_equal(x, 42);
	assert_int_equal(store_meta_get(f->s, "vote", &v), 0);
	assert_int_equal(v.len, 6);
	assert_memory_equal(v.ptr, "node-1", 6);
	store_val_free(&v);
	assert_int_equal(store_meta_get_u64(f->s, "bad", &x), ERR_CORRUPT);
}

static void
test_state_batch_iter(void **state)
{
	struct fx *f = *state;
	struct store_batch *b = store_batch_new(f->s);
	struct store_iter *it;
	struct store_val v;
	const uint8_t *k;
	size_t klen;
	int n = 0;

	store_batch_put(b, "a1", 2, "x", 1);
	store_batch_put(b, "a2", 2, "y", 1);
	store_batch_put(b, "b1", 2, "z", 1);
	store_batch_delete(b, "a2", 2);
	assert_int_equal(store_batch_write(f->s, b, false), 0);
	store_batch_free(b);
	assert_int_equal(store_state_get(f->s, "a2", 2, &v), ERR_NOTFOUND);
	assert_int_equal(store_state_get(f->s, "a1", 2, &v), 0);
	assert_memory_equal(v.ptr, "x", 1);
	store_val_free(&v);
	it = store_iter_new(f->s);
	for (store_iter_seek(it, "a", 1); store_iter_valid(it);
	    store_iter_next(it)) {
		k = store_iter_key(it, &klen);
		n++;
		if (n == 1)
			assert_memory_equal(k, "a1", 2);
		if (n == 2)
			assert_memory_equal(k, "b1", 2);
	}
	assert_int_equal(n, 2);
	assert_int_equal(store_iter_status(it), 0);
	store_iter_free(it);
}

/* group commit: batches complete in order on the writer thread */
struct wfx {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	size_t entries;
	uint64_t last;
	int err;
};

static void
on_done(void *arg, struct writer_batch *b)
{
	struct wfx *w = arg;

	pthread_mutex_lock(&w->mu);
	w->done++;
	w->entries += b->n;
	if (b->n > 0 && b->ents[0].index <= w->last)
		w->err = -1; /* out of order */
	if (b->n > 0)
		w->last = b->ents[b->n - 1].index;
	if (b->err != 0)
		w->err = b->err;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	writer_batch_fini(b);
	free(b);
}

static void
test_group_commit(void **state)
{
	struct fx *f = *state;
	struct wfx w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
		0, 0, 0, 0 };
	struct writer *wr;
	uint64_t idx = 1, first, last, term;

	assert_int_equal(writer_new(f->s, on_done, &w, &wr), 0);
	for (int g = 0; g < 10; g++) {
		struct writer_batch *b = calloc(1, sizeof(*b));

		for (int i = 0; i < 50; i++) {
			struct store_entry e;

			mkentry(&e, idx++, 1, "payload");
			assert_int_equal(writer_batch_add(b, &e), 0);
			assert_null(e.data); /* ownership moved */
		}
		assert_int_equal(writer_submit(wr, b), 0);
	}
	writer_free(wr); /* finishes every queued batch */
	assert_int_equal(w.done, 10);
	assert_int_equal(w.entries, 500);
	assert_int_equal(w.err, 0);
	assert_int_equal(store_log_bounds(f->s, &first, &last, &term), 0);
	assert_int_equal(first, 1);
	assert_int_equal(last, 500);
}

static void
write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static void
test_corrupt_current(void **state)
{
	struct fx *f = *state;
	char path[160], err[256];
	struct store *s2;

	assert_int_equal(store_meta_put_u64(f->s, "term", 1), 0);
	store_close(f->s);
	f->s = NULL;
	snprintf(path, sizeof(path), "%s/CURRENT", f->raft);
	write_file(path, "MANIFEST-999999\n");
	err[0] = '\0';
	assert_int_not_equal(store_open(f->raft, &s2, err, sizeof(err)), 0);
	assert_null(s2);
	assert_true(strlen(err) > 0);
	/* CURRENT removed but the manifest left: still refused */
	unlink(path);
	assert_int_equal(store_open(f->raft, &s2, err, sizeof(err)),
	    ERR_CORRUPT);
	assert_null(s2);
}

static void
test_corrupt_manifest(void **state)
{
	struct fx *f = *state;
	char cmd[256], err[256];
	struct store *s2;

	store_close(f->s);
	f->s = NULL;
	snprintf(cmd, sizeof(cmd), "for m in %s/MANIFEST-*; do "
	    "printf 'garbage garbage garbage garbage' > $m; done", f->raft);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(store_open(f->raft, &s2, err, sizeof(err)),
	    ERR_CORRUPT);
	assert_null(s2);
}

/*
 * The Raft log's newest segment file under dir (raftlog.h: <dir>/raftlog/
 * <16 hex digits>.seg) into path, and the offsets of its first max
 * records into off (u32 len | u32 crc | u64 index | u64 term | u8 type |
 * data, from offset 32 up to an all-zero record header). Returns how
 * many records it holds.
 */
#define SEG_HDR 32
#define REC_HDR 25
static int
newest_seg_recs(const char *dir, char *path, size_t plen, uint64_t *off,
    int max)
{
	static const uint8_t zero[REC_HDR];
	char cmd[256];
	uint8_t h[REC_HDR];
	uint64_t p = SEG_HDR;
	FILE *ls;
	int fd, n = 0;

	snprintf(cmd, sizeof(cmd), "ls %s/raftlog/*.seg | tail -1", dir);
	assert_non_null(ls = popen(cmd, "r"));
	assert_non_null(fgets(path, (int)plen, ls));
	pclose(ls);
	path[strcspn(path, "\n")] = '\0';
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	while (pread(fd, h, REC_HDR, (off_t)p) == REC_HDR &&
	    memcmp(h, zero, REC_HDR) != 0) {
		if (n < max)
			off[n] = p;
		n++;
		p += REC_HDR + ((uint32_t)h[0] | (uint32_t)h[1] << 8 |
		    (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24);
	}
	close(fd);
	return n;
}

static void
pwrite_path(const char *path, const void *buf, size_t n, uint64_t off)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
	close(fd);
}

static void
test_corrupt_log_middle(void **state)
{
	struct fx *f = *state;
	struct store_entry e;
	struct store *s2;
	uint64_t off[128];
	char err[256], path[512];
	uint8_t b;
	int fd;

	/* 100 synced appends, in the log's one segment */
	for (uint64_t i = 1; i <= 100; i++) {
		char d[64];

		snprintf(d, sizeof(d), "entry %llu padded to be longer ......",
		    (unsigned long long)i);
		mkentry(&e, i, 1, d);
		assert_int_equal(store_log_append(f->s, &e, 1), 0);
		store_entry_fini(&e);
	}
	store_close(f->s);
	f->s = NULL;
	/* one flipped byte in the data of entry 50 */
	assert_int_equal(newest_seg_recs(f->raft, path, sizeof(path), off,
	    128), 100);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off[49] + REC_HDR + 10), 1);
	close(fd);
	b ^= 0x10;
	pwrite_path(path, &b, 1, off[49] + REC_HDR + 10);
	/* acknowledged entries after the damage must not vanish silently:
	 * the store is refused, naming the segment */
	err[0] = '\0';
	assert_int_equal(store_open(f->raft, &s2, err, sizeof(err)),
	    ERR_CORRUPT);
	assert_null(s2);
	assert_non_null(strstr(err, strrchr(path, '/') + 1));
}

static void
test_torn_log_tail(void **state)
{
	struct fx *f = *state;
	struct store_entry e;
	uint64_t first, last, term, off[128];
	const char *d = "an entry of the log, some forty bytes";
	uint8_t junk[20];
	char path[512];

	for (uint64_t i = 1; i <= 100; i++) {
		mkentry(&e, i, 1, d);
		assert_int_equal(store_log_append(f->s, &e, 1), 0);
		store_entry_fini(&e);
	}
	store_close(f->s);
	f->s = NULL;
	/* a crash cut the last record's write short: its last 20 bytes
	 * are not what was written */
	assert_int_equal(newest_seg_recs(f->raft, path, sizeof(path), off,
	    128), 100);
	memset(junk, 0xff, sizeof(junk));
	pwrite_path(path, junk, sizeof(junk),
	    off[99] + REC_HDR + strlen(d) - sizeof(junk));
	reopen(f);
	assert_int_equal(store_log_bounds(f->s, &first, &last, &term), 0);
	assert_int_equal(first, 1);
	assert_int_equal(last, 99);
	/* and the log goes on from there */
	mkentry(&e, 100, 2, "again");
	assert_int_equal(store_log_append(f->s, &e, 1), 0);
	store_entry_fini(&e);
	reopen(f);
	assert_int_equal(store_log_bounds(f->s, &first, &last, &term), 0);
	assert_int_equal(last, 100);
	assert_int_equal(term, 2);
}

static void
test_foreign_db(void **state)
{
	struct fx *f = *state;
	char err[256], other[160];
	struct store *s2;

	/* a RocksDB without our format record is not served */
	snprintf(other, sizeof(other), "%s/other", f->dir);
	assert_int_equal(store_open(other, &s2, err, sizeof(err)), 0);
	assert_int_equal(store_meta_put(s2, "format", "xx", 2), 0);
	store_close(s2);
	assert_int_equal(store_open(other, &s2, err, sizeof(err)),
	    ERR_CORRUPT);
	assert_non_null(strstr(err, "format"));
}

/* Writes entries [from, to] of term 1, data "old-<i>", into the "log"
 * column family the way stores before raftlog did. */
static void
put_old_log(const char *dir, uint64_t from, uint64_t to)
{
	const char *names[4] = { "default", "log", "meta", "state" };
	rocksdb_options_t *o = rocksdb_options_create();
	const rocksdb_options_t *co[4] = { o, o, o, o };
	rocksdb_column_family_handle_t *cf[4];
	rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
	char *errptr = NULL;
	rocksdb_t *db;

	db = rocksdb_open_column_families(o, dir, 4, names, co, cf, &errptr);
	assert_null(errptr);
	for (uint64_t i = from; i <= to; i++) {
		uint8_t key[8], val[64];
		int n;

		store_put_be64(key, i);
		store_put_be64(val, 1);
		val[8] = STORE_ENTRY_COMMAND;
		n = snprintf((char *)val + 9, sizeof(val) - 9, "old-%llu",
		    (unsigned long long)i);
		rocksdb_put_cf(db, wo, cf[1], (const char *)key, sizeof(key),
		    (const char *)val, 9 + (size_t)n, &errptr);
		assert_null(errptr);
	}
	for (int i = 0; i < 4; i++)
		rocksdb_column_family_handle_destroy(cf[i]);
	rocksdb_close(db);
	rocksdb_writeoptions_destroy(wo);
	rocksdb_options_destroy(o);
}

static void
check_old_log(struct fx *f, uint64_t from, uint64_t to)
{
	uint64_t first, last, term;
	struct store_entry got;
	char want[32];

	assert_int_equal(store_log_bounds(f->s, &first, &last, &term), 0);
	assert_int_equal(first, from);
	assert_int_equal(last, to);
	assert_int_equal(term, 1);
	for (uint64_t i = from; i <= to; i++) {
		snprintf(want, sizeof(want), "old-%llu", (unsigned long long)i);
		assert_int_equal(store_log_get(f->s, i, &got), 0);
		assert_int_equal(got.len, strlen(want));
		assert_memory_equal(got.data, want, got.len);
		store_entry_fini(&got);
	}
}

static void
test_migrate_old_log(void **state)
{
	struct fx *f = *state;
	struct store_entry e;
	char cmd[256];

	/* a store as raftd made it before raftlog: entries in RocksDB */
	store_close(f->s);
	f->s = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s/raftlog", f->raft);
	assert_int_equal(system(cmd), 0);
	put_old_log(f->raft, 5, 700);
	reopen(f);
	check_old_log(f, 5, 700);
	/* moved, not copied: the column family is empty, so a reopen
	 * finds raftlog's entries only, and appends continue */
	mkentry(&e, 701, 2, "new-701");
	assert_int_equal(store_log_append(f->s, &e, 1), 0);
	store_entry_fini(&e);
	reopen(f);
	assert_int_equal(store_log_get(f->s, 701, &e), 0);
	assert_int_equal(e.term, 2);
	store_entry_fini(&e);

	/* a move cut short by a crash: raftlog holds something, the
	 * column family still everything; the move starts over */
	store_close(f->s);
	f->s = NULL;
	put_old_log(f->raft, 10, 20);
	reopen(f);
	check_old_log(f, 10, 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_batch_iter, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_current, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_manifest, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_log_middle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_torn_log_tail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_migrate_old_log, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_foreign_db, setup,
		    teardown),
	};

	log_init("unit_store", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
