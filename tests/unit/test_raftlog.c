/*
 * test_raftlog.c — the Raft log in segment files (raftd/raftlog.c) in a
 * mkdtemp directory: append/get/bounds round trips that survive a
 * reopen, implicit and explicit truncation (no entry removed comes back),
 * compaction deleting whole segments, batches bigger than a segment,
 * torn tails tolerated and zeroed, damage before the tail refused
 * (ERR_CORRUPT naming the file), records of another seq never valid, and
 * appends on one thread while another reads and compacts.
 *
 * The tests read and damage the files themselves, so they know the
 * format of raftlog.h: a 32-byte segment header (magic, version, crc,
 * seq, first) and records u32 len | u32 crc | u64 index | u64 term |
 * u8 type | data, little-endian, crc = CRC-32C over seq and everything
 * after the crc field.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "log.h"
#include "raftd/raftlog.h"
#include "raftd/store.h"

#define SEG_HDR 32
#define REC_HDR 25
#define MAX_SEGS 64
#define MIB (1u << 20)

struct fx {
	char dir[64];
	char log[96];
	struct raftlog *l;
};

/* The segment files of a log directory, sorted by name (= by seq). */
struct segs {
	int n;
	char name[MAX_SEGS][32];
};

/* One record found in a segment file. */
struct rec {
	uint64_t off;
	uint32_t len;
	uint64_t index, term;
};

/* ---- little-endian and CRC-32C, written here from the format ---- */

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Bitwise CRC-32C (Castagnoli, reflected 0x82f63b78), continuing crc. */
static uint32_t
crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n-- > 0) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

/* ---- fixture ---- */

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	strcpy(f->dir, "/tmp/test_raftlog.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->log, sizeof(f->log), "%s/raftlog", f->dir);
	err[0] = '\0';
	assert_int_equal(raftlog_open(f->log, &f->l, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	raftlog_close(f->l);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
lclose(struct fx *f)
{
	raftlog_close(f->l);
	f->l = NULL;
}

static void
reopen(struct fx *f)
{
	char err[256];

	lclose(f);
	err[0] = '\0';
	if (raftlog_open(f->log, &f->l, err, sizeof(err)) != 0)
		fail_msg("reopen: %s", err);
	assert_non_null(f->l);
}

/* Opens f->log expecting ERR_CORRUPT with an error naming file. */
static void
open_corrupt(struct fx *f, const char *file)
{
	struct raftlog *l2 = (struct raftlog *)1;
	char err[512];
	int rc;

	err[0] = '\0';
	if ((rc = raftlog_open(f->log, &l2, err, sizeof(err))) == 0) {
		uint64_t first, last, term;

		raftlog_bounds(l2, &first, &last, &term);
		raftlog_close(l2);
		fail_msg("opened (first %llu, last %llu), want ERR_CORRUPT",
		    (unsigned long long)first, (unsigned long long)last);
	}
	assert_int_equal(rc, ERR_CORRUPT);
	assert_null(l2);
	if (file != NULL && strstr(err, file) == NULL)
		fail_msg("error \"%s\" does not name %s", err, file);
}

/* ---- entries: data derived from (index, term, len) ---- */

static void
fill(uint8_t *p, size_t len, uint64_t index, uint64_t term)
{
	uint64_t x = index * 0x9e3779b97f4a7c15ull + term * 7919 + len;

	for (size_t j = 0; j < len; j++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		p[j] = (uint8_t)(x >> 56);
	}
}

static void
mkent(struct store_entry *e, uint64_t index, uint64_t term, size_t len)
{
	e->index = index;
	e->term = term;
	e->type = STORE_ENTRY_COMMAND;
	e->len = len;
	e->data = malloc(len ? len : 1);
	assert_non_null(e->data);
	fill(e->data, len, index, term);
}

/* Appends [from, to] of term with len-byte data, batch entries at once. */
static void
append_range(struct raftlog *l, uint64_t from, uint64_t to, uint64_t term,
    size_t len, size_t batch)
{
	struct store_entry *ents = calloc(batch, sizeof(*ents));

	assert_non_null(ents);
	for (uint64_t i = from; i <= to;) {
		size_t n = 0;

		while (n < batch && i <= to)
			mkent(&ents[n++], i++, term, len);
		assert_int_equal(raftlog_append(l, ents, n), 0);
		for (size_t k = 0; k < n; k++)
			store_entry_fini(&ents[k]);
	}
	free(ents);
}

/* Checks that entry index holds what mkent(index, term, len) made. */
static void
check_ent(struct raftlog *l, uint64_t index, uint64_t term, size_t len)
{
	struct store_entry got;
	uint8_t *want = malloc(len ? len : 1);
	int rc;

	assert_non_null(want);
	if ((rc = raftlog_get(l, index, &got)) != 0)
		fail_msg("get %llu: %s", (unsigned long long)index,
		    err_str(rc));
	assert_true(got.index == index);
	assert_true(got.term == term);
	assert_int_equal(got.type, STORE_ENTRY_COMMAND);
	assert_int_equal(got.len, len);
	fill(want, len, index, term);
	assert_memory_equal(got.data, want, len);
	store_entry_fini(&got);
	free(want);
}

static void
check_absent(struct raftlog *l, uint64_t index)
{
	struct store_entry got;

	assert_int_equal(raftlog_get(l, index, &got), ERR_NOTFOUND);
	store_entry_fini(&got);
}

static void
check_bounds(struct raftlog *l, uint64_t first, uint64_t last, uint64_t term)
{
	uint64_t f, la, t;

	raftlog_bounds(l, &f, &la, &t);
	if (f != first || la != last || t != term)
		fail_msg("bounds (%llu, %llu, %llu), want (%llu, %llu, %llu)",
		    (unsigned long long)f, (unsigned long long)la,
		    (unsigned long long)t, (unsigned long long)first,
		    (unsigned long long)last, (unsigned long long)term);
}

/* ---- the files ---- */

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
list_segs(const char *dir, struct segs *s)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t nl;

	assert_non_null(d);
	s->n = 0;
	while ((de = readdir(d)) != NULL) {
		nl = strlen(de->d_name);
		if (nl != 20 || strcmp(de->d_name + 16, ".seg") != 0)
			continue;
		assert_true(s->n < MAX_SEGS);
		memcpy(s->name[s->n++], de->d_name, nl + 1);
	}
	closedir(d);
	qsort(s->name, (size_t)s->n, sizeof(s->name[0]), cmp_name);
}

static int
count_segs(const char *dir)
{
	struct segs s;

	list_segs(dir, &s);
	return s.n;
}

static void
seg_path(const struct fx *f, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", f->log, name);
}

/* Reads a whole file into a malloc'd buffer. */
static uint8_t *
slurp(const char *path, uint64_t *size)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*size = (uint64_t)st.st_size;
	buf = malloc(*size ? *size : 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, *size, 0), (ssize_t)*size);
	close(fd);
	return buf;
}

/*
 * Lists the records of a segment from offset 32 up to the first all-zero
 * record header (no crc check: a test damages what it found here).
 * Returns how many (at most max) and the segment's seq in *seq.
 */
static int
scan_recs(const char *path, struct rec *recs, int max, uint64_t *seq)
{
	static const uint8_t zero[REC_HDR];
	uint64_t size, p = SEG_HDR;
	uint8_t *buf = slurp(path, &size);
	int n = 0;

	assert_true(size >= SEG_HDR);
	assert_memory_equal(buf, "CAIRNLG1", 8);
	if (seq != NULL)
		*seq = get64(buf + 16);
	while (p + REC_HDR <= size && memcmp(buf + p, zero, REC_HDR) != 0) {
		uint32_t len = get32(buf + p);

		assert_true(p + REC_HDR + len <= size);
		if (n < max) {
			recs[n].off = p;
			recs[n].len = len;
			recs[n].index = get64(buf + p + 8);
			recs[n].term = get64(buf + p + 16);
		}
		n++;
		p += REC_HDR + len;
	}
	free(buf);
	return n < max ? n : max;
}

static void
pwrite_file(const char *path, const void *buf, size_t n, uint64_t off)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
	close(fd);
}

static void
pread_file(const char *path, void *buf, size_t n, uint64_t off)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, n, (off_t)off), (ssize_t)n);
	close(fd);
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != 0)
			return false;
	return true;
}

/* ---- round trip ---- */

static void
test_roundtrip(void **state)
{
	struct fx *f = *state;
	const uint64_t b = (1ull << 32) + 7; /* any first index when empty */
	struct store_entry e[4], got;

	check_bounds(f->l, 0, 0, 0);
	check_absent(f->l, 1);
	mkent(&e[0], b, 5, 0); /* empty, data not NULL */
	e[0].type = STORE_ENTRY_NOOP;
	mkent(&e[1], b + 1, 5, 300);
	for (int j = 0; j < 300; j++) /* binary: NULs, 0xff, ... */
		e[1].data[j] = (uint8_t)(j % 3 == 0 ? 0 : j * 37);
	memset(&e[2], 0, sizeof(e[2])); /* empty with data NULL */
	e[2].index = b + 2;
	e[2].term = 6;
	e[2].type = STORE_ENTRY_CONFIG;
	mkent(&e[3], b + 3, 6, 1000);
	assert_int_equal(raftlog_append(f->l, e, 4), 0);
	for (int pass = 0; pass < 2; pass++) {
		check_bounds(f->l, b, b + 3, 6);
		assert_int_equal(raftlog_get(f->l, b, &got), 0);
		assert_true(got.index == b);
		assert_true(got.term == 5);
		assert_int_equal(got.type, STORE_ENTRY_NOOP);
		assert_int_equal(got.len, 0);
		store_entry_fini(&got);
		assert_int_equal(raftlog_get(f->l, b + 1, &got), 0);
		assert_int_equal(got.len, 300);
		assert_memory_equal(got.data, e[1].data, 300);
		store_entry_fini(&got);
		assert_int_equal(raftlog_get(f->l, b + 2, &got), 0);
		assert_true(got.term == 6);
		assert_int_equal(got.type, STORE_ENTRY_CONFIG);
		assert_int_equal(got.len, 0);
		store_entry_fini(&got);
		check_ent(f->l, b + 3, 6, 1000);
		check_absent(f->l, b - 1);
		check_absent(f->l, b + 4);
		check_absent(f->l, 0);
		check_absent(f->l, 1);
		reopen(f); /* everything appended is durable */
	}
	for (int i = 0; i < 4; i++)
		store_entry_fini(&e[i]);
	append_range(f->l, b + 4, b + 4, 7, 10, 1);
	reopen(f);
	check_bounds(f->l, b, b + 4, 7);
	check_ent(f->l, b + 4, 7, 10);
}

/* ---- truncation ---- */

static void
test_implicit_truncation(void **state)
{
	struct fx *f = *state;
	struct store_entry e[2];

	append_range(f->l, 1, 10, 1, 40, 1);
	check_bounds(f->l, 1, 10, 1);
	/* appending at 8 <= last replaces 8.. */
	append_range(f->l, 8, 9, 2, 40, 2);
	check_bounds(f->l, 1, 9, 2);
	check_ent(f->l, 7, 1, 40);
	check_ent(f->l, 8, 2, 40);
	check_ent(f->l, 9, 2, 40);
	check_absent(f->l, 10);
	/* the same length and term at the same place: the records of the
	 * old 9 and 10 must not come back after the new 8 at reopen */
	append_range(f->l, 8, 8, 2, 40, 1);
	check_bounds(f->l, 1, 8, 2);
	reopen(f);
	check_bounds(f->l, 1, 8, 2);
	check_absent(f->l, 9);
	check_absent(f->l, 10);
	/* a gap on a non-empty log, non-consecutive entries: refused */
	mkent(&e[0], 10, 2, 5);
	assert_int_equal(raftlog_append(f->l, e, 1), ERR_INVAL);
	mkent(&e[1], 11, 2, 5);
	e[0].index = 9;
	assert_int_equal(raftlog_append(f->l, e, 2), ERR_INVAL);
	store_entry_fini(&e[0]);
	store_entry_fini(&e[1]);
	check_bounds(f->l, 1, 8, 2);
	check_absent(f->l, 9);
	/* replacing from the first entry */
	append_range(f->l, 1, 1, 3, 7, 1);
	check_bounds(f->l, 1, 1, 3);
	reopen(f);
	check_bounds(f->l, 1, 1, 3);
	check_ent(f->l, 1, 3, 7);
	check_absent(f->l, 2);
	/* truncate(from <= first) empties; then any index starts it */
	append_range(f->l, 2, 5, 3, 7, 1);
	assert_int_equal(raftlog_truncate(f->l, 1), 0);
	check_bounds(f->l, 0, 0, 0);
	check_absent(f->l, 1);
	append_range(f->l, 1000000, 1000002, 4, 33, 3);
	check_bounds(f->l, 1000000, 1000002, 4);
	reopen(f);
	check_bounds(f->l, 1000000, 1000002, 4);
	check_ent(f->l, 1000001, 4, 33);
	check_absent(f->l, 1);
	check_absent(f->l, 5);
	/* truncate(0) empties too */
	assert_int_equal(raftlog_truncate(f->l, 0), 0);
	check_bounds(f->l, 0, 0, 0);
	reopen(f);
	check_bounds(f->l, 0, 0, 0);
	check_absent(f->l, 1000000);
}

static void
test_truncate_reopen(void **state)
{
	struct fx *f = *state;

	append_range(f->l, 1, 50, 1, 60, 1);
	assert_int_equal(raftlog_truncate(f->l, 31), 0);
	check_bounds(f->l, 1, 30, 1);
	check_absent(f->l, 31);
	reopen(f);
	check_bounds(f->l, 1, 30, 1);
	for (uint64_t i = 31; i <= 50; i++)
		check_absent(f->l, i);
	check_ent(f->l, 30, 1, 60);
	/* new terms at the same indexes */
	append_range(f->l, 31, 50, 2, 60, 4);
	reopen(f);
	check_bounds(f->l, 1, 50, 2);
	check_ent(f->l, 30, 1, 60);
	check_ent(f->l, 31, 2, 60);
	check_ent(f->l, 50, 2, 60);
	/* truncate without a reopen, then a shorter run of the same term
	 * and length: records 36..50 sit right after the new 35 unless the
	 * truncation cleared them, and would then validate at open */
	assert_int_equal(raftlog_truncate(f->l, 31), 0);
	append_range(f->l, 31, 35, 1, 60, 1);
	reopen(f);
	check_bounds(f->l, 1, 35, 1);
	check_absent(f->l, 36);
	check_ent(f->l, 35, 1, 60);
	/* truncating past last changes nothing */
	assert_int_equal(raftlog_truncate(f->l, 36), 0);
	check_bounds(f->l, 1, 35, 1);
}

/* ---- several segments ---- */

/* The index ranges of the segments of f->log, in order. */
static void
seg_ranges(struct fx *f, struct segs *s, uint64_t *lo, uint64_t *hi)
{
	static struct rec recs[4096];
	char path[160];

	list_segs(f->log, s);
	for (int k = 0; k < s->n; k++) {
		int n;

		seg_path(f, s->name[k], path, sizeof(path));
		n = scan_recs(path, recs, 4096, NULL);
		assert_true(n > 0);
		lo[k] = recs[0].index;
		hi[k] = recs[n - 1].index;
	}
}

static void
test_compact(void **state)
{
	struct fx *f = *state;
	const size_t len = 64 * 1024; /* 48 entries: a 3 MiB batch */
	uint64_t lo[MAX_SEGS], hi[MAX_SEGS], last = 8 * 48, upto;
	struct segs s;
	int n0;

	for (uint64_t b = 0; b < 8; b++)
		append_range(f->l, b * 48 + 1, b * 48 + 48, b + 1, len, 48);
	check_bounds(f->l, 1, last, 8);
	seg_ranges(f, &s, lo, hi);
	n0 = s.n;
	assert_true(n0 >= 3); /* 24 MiB in 8 MiB segments */
	assert_true(lo[0] == 1 && hi[n0 - 1] == last);
	for (int k = 1; k < n0; k++)
		assert_true(lo[k] == hi[k - 1] + 1);

	/* up to the end of the second segment: two files go */
	upto = hi[1];
	assert_int_equal(raftlog_compact(f->l, upto), 0);
	assert_int_equal(count_segs(f->log), n0 - 2);
	for (int pass = 0; pass < 2; pass++) {
		check_bounds(f->l, upto + 1, last, 8);
		check_absent(f->l, upto);
		check_absent(f->l, 1);
		check_ent(f->l, upto + 1, (upto) / 48 + 1, len);
		check_ent(f->l, last, 8, len);
		reopen(f);
	}

	/* inside the third segment: no file goes, first moves anyway (the
	 * segment header's first field keeps it across a reopen) */
	upto = lo[2] + 5;
	assert_int_equal(raftlog_compact(f->l, upto), 0);
	assert_int_equal(count_segs(f->log), n0 - 2);
	for (int pass = 0; pass < 2; pass++) {
		check_bounds(f->l, upto + 1, last, 8);
		check_absent(f->l, upto);
		check_absent(f->l, lo[2]);
		check_ent(f->l, upto + 1, (upto) / 48 + 1, len);
		reopen(f);
	}

	/* everything: the newest segment stays, the log takes last + 1 */
	assert_int_equal(raftlog_compact(f->l, last), 0);
	assert_int_equal(count_segs(f->log), 1);
	check_absent(f->l, last);
	check_absent(f->l, hi[n0 - 2]);
	append_range(f->l, last + 1, last + 2, 9, 100, 2);
	reopen(f);
	check_bounds(f->l, last + 1, last + 2, 9);
	check_ent(f->l, last + 1, 9, 100);
	check_ent(f->l, last + 2, 9, 100);
	check_absent(f->l, last);
}

static void
test_big_batch(void **state)
{
	struct fx *f = *state;
	const size_t len = 3 * MIB; /* 3 entries: 9 MiB, more than a segment */
	char path[160];
	struct segs s;
	bool big = false;

	append_range(f->l, 1, 5, 1, 100, 1);
	append_range(f->l, 6, 8, 1, len, 3);
	append_range(f->l, 9, 9, 2, 100, 1);
	for (int pass = 0; pass < 2; pass++) {
		check_bounds(f->l, 1, 9, 2);
		check_ent(f->l, 5, 1, 100);
		for (uint64_t i = 6; i <= 8; i++)
			check_ent(f->l, i, 1, len);
		check_ent(f->l, 9, 2, 100);
		reopen(f);
	}
	/* the batch went whole into one segment of its own size */
	list_segs(f->log, &s);
	for (int k = 0; k < s.n; k++) {
		struct stat st;

		seg_path(f, s.name[k], path, sizeof(path));
		assert_int_equal(stat(path, &st), 0);
		if ((uint64_t)st.st_size >= 3 * (len + REC_HDR) + SEG_HDR)
			big = true;
	}
	assert_true(big);
}

/* The inode numbers of dir's files whose names end in ext. */
static int
inodes(const char *dir, const char *ext, ino_t *out, int max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l > strlen(ext) && strcmp(de->d_name + l - strlen(ext),
		    ext) == 0 && n < max)
			out[n++] = de->d_ino;
	}
	closedir(d);
	return n;
}

/*
 * Segments freed by compaction are kept (two, as <seq>.tmp) and become
 * the next segments under new seqs, not zero-filled again: their old
 * records stay past the end mark, fail the crc under the new seq and are
 * never read back, across reopens; a kept file left at close is removed
 * at the next open.
 */
static void
test_reuse(void **state)
{
	struct fx *f = *state;
	const size_t len = 64 * 1024; /* 48 entries: a 3 MiB batch */
	uint64_t lo[MAX_SEGS], hi[MAX_SEGS], last = 8 * 48;
	ino_t kept[8], now[MAX_SEGS];
	char path[160];
	struct segs s;
	uint8_t *buf;
	uint64_t size;
	int nk, nn, reused = 0;

	for (uint64_t b = 0; b < 8; b++)
		append_range(f->l, b * 48 + 1, b * 48 + 48, b + 1, len, 48);
	seg_ranges(f, &s, lo, hi);
	assert_true(s.n >= 3);
	assert_int_equal(raftlog_compact(f->l, hi[1]), 0);
	nk = inodes(f->log, ".tmp", kept, 8);
	assert_int_equal(nk, 2);
	/* 3 more MiB: the newest segment is full, the next is a kept one */
	append_range(f->l, 8 * 48 + 1, 9 * 48, 10, len, 48);
	last = 9 * 48;
	nn = inodes(f->log, ".seg", now, MAX_SEGS);
	for (int i = 0; i < nn; i++)
		for (int k = 0; k < nk; k++)
			reused += now[i] == kept[k];
	assert_int_equal(reused, 1);
	assert_int_equal(inodes(f->log, ".tmp", kept, 8), 1);
	/* the reused file still holds old bytes past its end mark (the
	 * second old batch, from 3 MiB on) */
	list_segs(f->log, &s);
	seg_path(f, s.name[s.n - 1], path, sizeof(path));
	buf = slurp(path, &size);
	assert_true(size > 4 * MIB);
	assert_false(all_zero(buf + 4 * MIB, 4096));
	free(buf);
	for (int pass = 0; pass < 2; pass++) {
		check_bounds(f->l, hi[1] + 1, last, 10);
		check_ent(f->l, hi[1] + 1, hi[1] / 48 + 1, len);
		check_ent(f->l, last - 47, 10, len);
		check_ent(f->l, last, 10, len);
		reopen(f);
	}
	/* the end mark stopped the scan: no "torn tail" zeroed the old
	 * bytes at open */
	buf = slurp(path, &size);
	assert_false(all_zero(buf + 4 * MIB, 4096));
	free(buf);
	/* the reopen removed the kept file; appends go on in place */
	assert_int_equal(inodes(f->log, ".tmp", kept, 8), 0);
	append_range(f->l, last + 1, last + 3, 11, 100, 3);
	reopen(f);
	check_bounds(f->l, hi[1] + 1, last + 3, 11);
	check_ent(f->l, last + 3, 11, 100);
	check_absent(f->l, last + 4);
}

/* ---- damage ---- */

/* The newest segment of f->log and its records. */
static int
newest_recs(struct fx *f, char *path, size_t plen, struct rec *recs,
    int max, uint64_t *seq)
{
	struct segs s;

	list_segs(f->log, &s);
	assert_true(s.n > 0);
	seg_path(f, s.name[s.n - 1], path, plen);
	return scan_recs(path, recs, max, seq);
}

/*
 * After the end mark, bytes that look like records (an index just past
 * the end, a plausible term, a length of megabytes) cost the open a crc
 * each: their total is bounded, so an open stays quick whatever a reused
 * segment holds past its end (without the bound this open computed crcs
 * over ~500 GB; alarm() turns such a hang into a failure).
 */
static void
test_junk_after_end(void **state)
{
	struct fx *f = *state;
	struct rec recs[16];
	uint64_t end, seq;
	char path[160];
	uint8_t *junk;
	const size_t jlen = 6 * MIB;
	int n;

	append_range(f->l, 1, 10, 3, 100, 10);
	n = newest_recs(f, path, sizeof(path), recs, 16, &seq);
	assert_int_equal(n, 10);
	end = recs[9].off + REC_HDR + recs[9].len;
	lclose(f);
	junk = calloc(1, jlen);
	assert_non_null(junk);
	for (size_t u = 0; u + 32 <= jlen; u += 32) {
		put32(junk + u, 4 * MIB);	  /* len */
		put32(junk + u + 4, 0x12345678);  /* crc: wrong */
		put64(junk + u + 8, 11);	  /* index: the next one */
		put64(junk + u + 16, 3);	  /* term: the last one */
		junk[u + 24] = 1;		  /* type */
	}
	pwrite_file(path, junk, jlen, end + REC_HDR);
	free(junk);
	alarm(60);
	reopen(f);
	alarm(0);
	check_bounds(f->l, 1, 10, 3);
	check_ent(f->l, 10, 3, 100);
}

static void
test_torn_tail(void **state)
{
	struct fx *f = *state;
	static struct rec recs[64];
	uint8_t junk[64], back[REC_HDR + 100];
	char path[160];
	int n;

	append_range(f->l, 1, 20, 1, 100, 1);
	lclose(f);
	n = newest_recs(f, path, sizeof(path), recs, 64, NULL);
	assert_int_equal(n, 20);
	assert_true(recs[19].index == 20 && recs[19].len == 100);
	/* garbage over part of the last record's data */
	memset(junk, 0xa5, sizeof(junk));
	pwrite_file(path, junk, 50, recs[19].off + REC_HDR + 20);
	reopen(f);
	check_bounds(f->l, 1, 19, 1);
	check_absent(f->l, 20);
	check_ent(f->l, 19, 1, 100);
	/* the torn tail was zeroed on disk */
	pread_file(path, back, sizeof(back), recs[19].off);
	assert_true(all_zero(back, sizeof(back)));
	/* the log goes on from there, and a shorter new 20 reads back */
	append_range(f->l, 20, 21, 2, 30, 1);
	reopen(f);
	check_bounds(f->l, 1, 21, 2);
	check_ent(f->l, 20, 2, 30);
	check_ent(f->l, 21, 2, 30);

	/* garbage over the header of the last record (a huge len) */
	lclose(f);
	n = newest_recs(f, path, sizeof(path), recs, 64, NULL);
	assert_int_equal(n, 21);
	memset(junk, 0xff, sizeof(junk));
	pwrite_file(path, junk, 6, recs[20].off);
	reopen(f);
	check_bounds(f->l, 1, 20, 2);
	check_ent(f->l, 20, 2, 30);
	append_range(f->l, 21, 21, 3, 10, 1);
	reopen(f);
	check_bounds(f->l, 1, 21, 3);
	check_ent(f->l, 21, 3, 10);
}

static void
test_corrupt_middle(void **state)
{
	struct fx *f = *state;
	static struct rec recs[256];
	uint8_t b, hdr[REC_HDR], zero[REC_HDR];
	struct segs s;
	char path[160];
	int n;

	append_range(f->l, 1, 200, 1, 64, 1);
	lclose(f);
	list_segs(f->log, &s);
	assert_int_equal(s.n, 1);
	n = newest_recs(f, path, sizeof(path), recs, 256, NULL);
	assert_int_equal(n, 200);

	/* one flipped byte in the data of entry 10, 190 entries after it */
	pread_file(path, &b, 1, recs[9].off + REC_HDR + 30);
	b ^= 0x40;
	pwrite_file(path, &b, 1, recs[9].off + REC_HDR + 30);
	open_corrupt(f, s.name[0]);
	/* the same byte put back: served again, all 200 entries */
	b ^= 0x40;
	pwrite_file(path, &b, 1, recs[9].off + REC_HDR + 30);
	reopen(f);
	check_bounds(f->l, 1, 200, 1);
	lclose(f);

	/* entry 10's header zeroed looks like the end of the log, but
	 * valid records follow it */
	pread_file(path, hdr, REC_HDR, recs[9].off);
	memset(zero, 0, sizeof(zero));
	pwrite_file(path, zero, REC_HDR, recs[9].off);
	open_corrupt(f, s.name[0]);
	pwrite_file(path, hdr, REC_HDR, recs[9].off);
	reopen(f);
	check_bounds(f->l, 1, 200, 1);
	check_ent(f->l, 200, 1, 64);
}

/*
 * Makes nmulti segments of five 1 MiB entries each (a 5 MiB batch does
 * not fit in a segment after another), then, if single, one more holding
 * one 5 MiB entry. Returns the last index.
 */
static uint64_t
fill_segments(struct fx *f, int nmulti, bool single)
{
	uint64_t i = 1;

	for (int k = 0; k < nmulti; k++) {
		append_range(f->l, i, i + 4, 1, MIB, 5);
		i += 5;
	}
	if (single) {
		append_range(f->l, i, i, 1, 5 * MIB, 1);
		i++;
	}
	assert_int_equal(count_segs(f->log), nmulti + (single ? 1 : 0));
	return i - 1;
}

/* Moves segment k of f->log away, expects the log refused, moves it back
 * and expects the log whole. */
static void
check_gap(struct fx *f, const struct segs *s, int k, uint64_t last,
    size_t lastlen)
{
	char path[160], moved[160];

	seg_path(f, s->name[k], path, sizeof(path));
	snprintf(moved, sizeof(moved), "%s/moved", f->dir);
	assert_int_equal(rename(path, moved), 0);
	open_corrupt(f, NULL);
	assert_int_equal(rename(moved, path), 0);
	reopen(f);
	check_bounds(f->l, 1, last, 1);
	check_ent(f->l, last, 1, lastlen);
	lclose(f);
}

static void
test_missing_segment(void **state)
{
	struct fx *f = *state;
	uint64_t last = fill_segments(f, 3, true);
	struct segs s;

	lclose(f);
	list_segs(f->log, &s);
	assert_int_equal(s.n, 4);
	/* a gap before an older segment */
	check_gap(f, &s, 1, last, 5 * MIB);
	/* a gap before the newest segment, which holds one record */
	check_gap(f, &s, 2, last, 5 * MIB);
}

/*
 * The last record of an older segment loses its header (zeros: it looks
 * like that segment's end), and the newest segment holds one entry after
 * it: acknowledged entries 5 and 6 would vanish, so the log is refused.
 */
static void
test_damaged_older_end(void **state)
{
	struct fx *f = *state;
	static struct rec recs[16];
	uint8_t hdr[REC_HDR], zero[REC_HDR];
	char path[160];
	struct segs s;
	uint64_t last = fill_segments(f, 1, true);

	assert_true(last == 6);
	lclose(f);
	list_segs(f->log, &s);
	seg_path(f, s.name[0], path, sizeof(path));
	assert_int_equal(scan_recs(path, recs, 16, NULL), 5);
	pread_file(path, hdr, REC_HDR, recs[4].off);
	memset(zero, 0, sizeof(zero));
	pwrite_file(path, zero, REC_HDR, recs[4].off);
	open_corrupt(f, NULL);
	pwrite_file(path, hdr, REC_HDR, recs[4].off);
	reopen(f);
	check_bounds(f->l, 1, 6, 1);
	check_ent(f->l, 5, 1, MIB);
}

/* The newest segment's only record torn: the log ends with the segment
 * before, and the next append goes on in the newest one. */
static void
test_torn_first_of_segment(void **state)
{
	struct fx *f = *state;
	static struct rec recs[4];
	uint8_t junk[16];
	char path[160];
	uint64_t last = fill_segments(f, 1, true);

	assert_true(last == 6);
	lclose(f);
	assert_int_equal(newest_recs(f, path, sizeof(path), recs, 4, NULL),
	    1);
	memset(junk, 0x5a, sizeof(junk));
	pwrite_file(path, junk, sizeof(junk), recs[0].off + REC_HDR + 1000);
	reopen(f);
	check_bounds(f->l, 1, 5, 1);
	check_absent(f->l, 6);
	append_range(f->l, 6, 7, 2, 100, 2);
	reopen(f);
	check_bounds(f->l, 1, 7, 2);
	check_ent(f->l, 5, 1, MIB);
	check_ent(f->l, 6, 2, 100);
	assert_int_equal(count_segs(f->log), 2);
}

static void
test_foreign_file(void **state)
{
	struct fx *f = *state;
	char path[160], name[32], text[4096];
	uint8_t magic[8];
	struct segs s;
	uint64_t last = fill_segments(f, 2, false), seq;
	int fd;

	lclose(f);
	list_segs(f->log, &s);
	assert_int_equal(s.n, 2);
	/* the oldest segment's magic overwritten */
	seg_path(f, s.name[0], path, sizeof(path));
	pread_file(path, magic, 8, 0);
	pwrite_file(path, "NOTCAIRN", 8, 0);
	open_corrupt(f, s.name[0]);
	pwrite_file(path, magic, 8, 0);
	reopen(f);
	check_bounds(f->l, 1, last, 1);
	lclose(f);
	/* a text file named like the next segment */
	seq = strtoull(s.name[1], NULL, 16) + 1;
	snprintf(name, sizeof(name), "%016llx.seg", (unsigned long long)seq);
	seg_path(f, name, path, sizeof(path));
	for (size_t j = 0; j < sizeof(text); j++)
		text[j] = "this is not a cairn log segment\n"[j % 32];
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text)), (ssize_t)sizeof(text));
	close(fd);
	open_corrupt(f, name);
}

/* Builds the record (index, term, data of len) as written under seq. */
static size_t
mkrec(uint8_t *r, uint64_t seq, uint64_t index, uint64_t term, size_t len)
{
	uint8_t s[8];

	put32(r, (uint32_t)len);
	put64(r + 8, index);
	put64(r + 16, term);
	r[24] = STORE_ENTRY_COMMAND;
	fill(r + REC_HDR, len, index, term);
	put64(s, seq);
	put32(r + 4, crc32c(crc32c(0, s, 8), r + 8, REC_HDR - 8 + len));
	return REC_HDR + len;
}

static void
test_other_seq(void **state)
{
	struct fx *f = *state;
	static struct rec recs[64];
	uint8_t r[REC_HDR + 50];
	uint64_t seq, tail;
	char path[160];
	size_t rl;
	int n;

	append_range(f->l, 1, 10, 1, 50, 1);
	lclose(f);
	n = newest_recs(f, path, sizeof(path), recs, 64, &seq);
	assert_int_equal(n, 10);
	tail = recs[9].off + REC_HDR + recs[9].len;
	/* entry 11 as an older segment (seq - 1) would hold it, right
	 * where the newest segment's next record goes: not part of the
	 * log (a tail, not damage) */
	rl = mkrec(r, seq - 1, 11, 1, 50);
	pwrite_file(path, r, rl, tail);
	reopen(f);
	check_bounds(f->l, 1, 10, 1);
	check_absent(f->l, 11);
	append_range(f->l, 11, 11, 2, 20, 1);
	reopen(f);
	check_bounds(f->l, 1, 11, 2);
	check_ent(f->l, 11, 2, 20);
	lclose(f);
	/* the control: the same record under the segment's own seq is
	 * read as entry 12 (so the one above was refused for its seq) */
	tail += REC_HDR + 20;
	rl = mkrec(r, seq, 12, 2, 50);
	pwrite_file(path, r, rl, tail);
	reopen(f);
	check_bounds(f->l, 1, 12, 2);
	check_ent(f->l, 12, 2, 50);
}

/* ---- one appender, one reader and compactor ---- */

#define CONC_N 20000
#define CONC_LEN 1000

struct conc {
	struct raftlog *l;
	int rc;
};

static void *
appender(void *arg)
{
	struct conc *c = arg;
	struct store_entry e;

	for (uint64_t i = 1; i <= CONC_N && c->rc == 0; i++) {
		mkent(&e, i, 1 + i / 5000, CONC_LEN);
		c->rc = raftlog_append(c->l, &e, 1);
		store_entry_fini(&e);
	}
	return NULL;
}

/* Checks one random entry of [first, last]. */
static void
conc_check_one(struct raftlog *l, unsigned *seed, uint64_t first,
    uint64_t last)
{
	uint64_t i = first + (uint64_t)rand_r(seed) % (last - first + 1);

	check_ent(l, i, 1 + i / 5000, CONC_LEN);
}

static void
test_concurrent(void **state)
{
	struct fx *f = *state;
	struct conc c = { f->l, 0 };
	pthread_t th;
	uint64_t first, last, term, gets = 0, compacted = 0;
	unsigned seed = 1;
	int removed = 0;

	assert_int_equal(pthread_create(&th, NULL, appender, &c), 0);
	do {
		raftlog_bounds(f->l, &first, &last, &term);
		if (last == 0)
			continue;
		assert_true(first <= last);
		conc_check_one(f->l, &seed, first, last);
		if (++gets % 200 == 0 && last > first + 100) {
			uint64_t upto = first + (last - first) / 2;

			int before = count_segs(f->log);

			assert_int_equal(raftlog_compact(f->l, upto), 0);
			removed += before - count_segs(f->log);
			check_absent(f->l, upto);
			raftlog_bounds(f->l, &first, &last, &term);
			assert_true(first == upto + 1);
			compacted = upto;
		}
	} while (last < CONC_N && c.rc == 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(c.rc, 0);
	assert_true(compacted > 0);
	assert_true(removed >= 1); /* segments went while appends ran */
	raftlog_bounds(f->l, &first, &last, &term);
	assert_true(last == CONC_N);
	assert_true(first == compacted + 1);
	for (uint64_t i = first; i <= last; i++)
		check_ent(f->l, i, 1 + i / 5000, CONC_LEN);
	reopen(f);
	raftlog_bounds(f->l, &first, &last, &term);
	assert_true(last == CONC_N);
	assert_true(first <= compacted + 1);
	for (uint64_t i = compacted + 1; i <= last; i += 7)
		check_ent(f->l, i, 1 + i / 5000, CONC_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_implicit_truncation,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_compact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_junk_after_end, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_big_batch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_middle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing_segment, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_damaged_older_end, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_torn_first_of_segment,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_other_seq, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
		    teardown),
	};

	log_init("unit_raftlog", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
