/*
 * raftlog.c — the Raft log in pre-written segment files (raftlog.h says
 * why and gives the format).
 *
 * In memory: the list of segments, each with its open descriptor, the
 * first index it holds and the file offset of every record, so a read is
 * one pread. An append serialises its batch, makes a new segment when
 * the batch does not fit (written full of zeros, synced, renamed into
 * place, directory synced), then pwrites the batch where the previous
 * one ended and fdatasyncs: the bytes overwritten were already part of
 * the file, so the sync needs no journal commit. The mutex guards the
 * segment list and counters only; the writer's pwrite and fdatasync go
 * to the last segment, which compaction never removes.
 *
 * Every append also writes an all-zero record header after its batch
 * (overwritten by the next one), so the log always ends in an explicit
 * end mark, even in a reused segment: a segment that compaction frees is
 * kept (up to two, renamed <seq>.tmp) and becomes the next segment under
 * a new seq instead of a new file being written full of zeros; its old
 * records fail the crc under the new seq and lie past the end mark.
 *
 * Removal order keeps every crash state readable: a truncation unlinks
 * the later segments (syncing the directory) before zeroing the tail of
 * the one it cuts, and compaction removes whole segments from the front
 * only, so the segments left are always consecutive.
 *
 * Reference: cowsql/raft's uv segments (prepared, pre-allocated open
 * segments), RocksDB's WAL record format and recovery modes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "raftlog.h"

#define SEG_MAGIC "CAIRNLG1"
#define SEG_VERSION 1
#define SEG_HDR 32 /* magic 8, version 4, crc 4, seq 8, first 8 */
#define REC_HDR 25 /* len 4, crc 4, index 8, term 8, type 1 */
#define ZERO_CHUNK (1u << 20)
#define SCAN_CRC_BUDGET (64u << 20) /* per segment scanned after its end */

struct seg {
	uint64_t seq;
	int fd;
	uint64_t size;	/* file size */
	uint64_t tail;	/* where the next record goes */
	uint64_t first; /* index of off[0] (0: no records) */
	uint64_t *off;	/* record offsets */
	size_t n, cap;
};

struct raftlog {
	char dir[4096];
	int dfd;
	pthread_mutex_t mu;
	struct seg *segs;
	size_t n, cap;
	uint64_t next_seq;
	uint64_t lfirst; /* logical first (compaction), 0: physical */
	uint64_t last, last_term;
	struct seg pool[2]; /* freed segments to reuse, renamed <seq>.tmp */
	size_t n_pool;
};

/* in .bss, never written: reading it maps the kernel's zero page, so it
 * costs no resident memory */
static uint8_t zeros[ZERO_CHUNK];

/* ---- encoding ---- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
}

/* CRC-32C (Castagnoli), continuing from crc (0 to start). */
static uint32_t
crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	crc = ~crc;
	while (n-- > 0)
		crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
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

/* The crc of a record: seq, then everything after the crc field. */
static uint32_t
rec_crc(uint64_t seq, const uint8_t *rec, size_t len)
{
	uint8_t s[8];

	put64(s, seq);
	return crc32c(crc32c(0, s, 8), rec + 8, REC_HDR - 8 + len);
}

static void
seg_hdr_encode(uint8_t *h, uint64_t seq, uint64_t first)
{
	memset(h, 0, SEG_HDR);
	memcpy(h, SEG_MAGIC, 8);
	put32(h + 8, SEG_VERSION);
	put64(h + 16, seq);
	put64(h + 24, first);
	put32(h + 12, crc32c(0, h, SEG_HDR));
}

static bool
seg_hdr_valid(const uint8_t *h, uint64_t seq)
{
	uint8_t c[SEG_HDR];

	memcpy(c, h, SEG_HDR);
	put32(c + 12, 0);
	return memcmp(h, SEG_MAGIC, 8) == 0 && get32(h + 8) == SEG_VERSION &&
	    get32(h + 12) == crc32c(0, c, SEG_HDR) && get64(h + 16) == seq;
}

/* ---- file helpers ---- */

static int
set_err(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
set_err(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int
pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ERR_IO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static int
pread_all(int fd, void *buf, size_t n, uint64_t off)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t r = pread(fd, p, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return ERR_IO;
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* Writes zeros over [from, to) of fd. */
static int
zero_range(int fd, uint64_t from, uint64_t to)
{
	while (from < to) {
		size_t n = to - from < ZERO_CHUNK ? to - from : ZERO_CHUNK;

		if (pwrite_all(fd, zeros, n, from) != 0)
			return ERR_IO;
		from += n;
	}
	return 0;
}

static void
seg_path(const struct raftlog *l, uint64_t seq, const char *ext,
    char *out, size_t len)
{
	snprintf(out, len, "%s/%016llx.%s", l->dir, (unsigned long long)seq,
	    ext);
}

static void
seg_fini(struct seg *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->off);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static int
seg_push_off(struct seg *s, uint64_t off)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		uint64_t *o = realloc(s->off, cap * sizeof(*o));

		if (o == NULL)
			return ERR_NOMEM;
		s->off = o;
		s->cap = cap;
	}
	s->off[s->n++] = off;
	return 0;
}

static uint64_t
seg_last(const struct seg *s)
{
	return s->n ? s->first + s->n - 1 : 0;
}

/* The segment holding entry index, or NULL. */
static const struct seg *
seg_holding(const struct raftlog *l, uint64_t index)
{
	for (size_t k = 0; k < l->n; k++) {
		const struct seg *s = &l->segs[k];

		if (s->n > 0 && index >= s->first && index <= seg_last(s))
			return s;
	}
	return NULL;
}

/* Reads entry index's record header into h (REC_HDR bytes); *s and
 * *off get where the record is. ERR_NOTFOUND or ERR_IO. */
static int
read_rec_hdr(const struct raftlog *l, uint64_t index, uint8_t *h,
    const struct seg **s, uint64_t *off)
{
	if ((*s = seg_holding(l, index)) == NULL)
		return ERR_NOTFOUND;
	*off = (*s)->off[index - (*s)->first];
	return pread_all((*s)->fd, h, REC_HDR, *off);
}

/* The term of entry index (held by the log), or 0. */
static uint64_t
log_term_at(const struct raftlog *l, uint64_t index)
{
	const struct seg *s;
	uint8_t h[REC_HDR];
	uint64_t off;

	return read_rec_hdr(l, index, h, &s, &off) == 0 ? get64(h + 16) : 0;
}

static int
dir_sync(struct raftlog *l)
{
	return fsync(l->dfd) == 0 ? 0 : ERR_IO;
}

/* ---- making and removing segments ---- */

/* Makes segment seq of size bytes, all zeros after its header. */
static int
seg_create(struct raftlog *l, uint64_t size, struct seg *out)
{
	char tmp[4200], path[4200];
	uint8_t h[SEG_HDR];
	uint64_t seq = l->next_seq;
	int fd, rc = ERR_IO;

	seg_path(l, seq, "tmp", tmp, sizeof(tmp));
	seg_path(l, seq, "seg", path, sizeof(path));
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn("raftlog: %s", tmp);
		return ERR_IO;
	}
	seg_hdr_encode(h, seq, 0);
	if (pwrite_all(fd, h, SEG_HDR, 0) != 0 ||
	    zero_range(fd, SEG_HDR, size) != 0 || fdatasync(fd) != 0 ||
	    rename(tmp, path) != 0 || dir_sync(l) != 0) {
		log_warn("raftlog: cannot make segment %s", path);
		close(fd);
		unlink(tmp);
		return rc;
	}
	memset(out, 0, sizeof(*out));
	out->seq = seq;
	out->fd = fd;
	out->size = size;
	out->tail = SEG_HDR;
	l->next_seq++;
	return 0;
}

static void
seg_remove(struct raftlog *l, struct seg *s)
{
	char path[4200];

	seg_path(l, s->seq, "seg", path, sizeof(path));
	if (unlink(path) != 0)
		log_warn("raftlog: cannot remove %s", path);
	seg_fini(s);
}

/* Keeps s, freed by compaction, for reuse if the pool has room and it
 * has the default size; removes it otherwise (l->mu held). */
static void
seg_release(struct raftlog *l, struct seg *s)
{
	char from[4200], to[4200];

	if (l->n_pool < sizeof(l->pool) / sizeof(l->pool[0]) &&
	    s->size == RAFTLOG_SEGMENT_BYTES) {
		seg_path(l, s->seq, "seg", from, sizeof(from));
		seg_path(l, s->seq, "tmp", to, sizeof(to));
		if (rename(from, to) == 0) {
			free(s->off);
			s->off = NULL;
			s->n = s->cap = 0;
			l->pool[l->n_pool++] = *s;
			return;
		}
		log_warn("raftlog: cannot keep %s for reuse", from);
	}
	seg_remove(l, s);
}

/*
 * Makes a kept segment the next one (no l->mu: the appender only): a
 * header with the new seq and an end mark, synced, then the name. A crash before the
 * rename leaves a .tmp file, which the next open deletes.
 */
static int
seg_reuse(struct raftlog *l, struct seg *s)
{
	char from[4200], to[4200];
	uint8_t h[SEG_HDR + REC_HDR];
	uint64_t old = s->seq;

	seg_path(l, old, "tmp", from, sizeof(from));
	seg_path(l, l->next_seq, "seg", to, sizeof(to));
	seg_hdr_encode(h, l->next_seq, 0);
	memset(h + SEG_HDR, 0, REC_HDR); /* the end mark of an empty log */
	if (pwrite_all(s->fd, h, sizeof(h), 0) != 0 || fdatasync(s->fd) != 0 ||
	    rename(from, to) != 0 || dir_sync(l) != 0) {
		log_warn("raftlog: cannot reuse %s as %s", from, to);
		unlink(from);
		seg_fini(s);
		return ERR_IO;
	}
	s->seq = l->next_seq++;
	s->tail = SEG_HDR;
	s->first = 0;
	return 0;
}

/* Removes every segment (l->mu held). */
static int
log_clear(struct raftlog *l)
{
	while (l->n > 0)
		seg_remove(l, &l->segs[--l->n]);
	l->lfirst = l->last = l->last_term = 0;
	return dir_sync(l);
}

static int
log_add_seg(struct raftlog *l, const struct seg *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct seg *n = realloc(l->segs, cap * sizeof(*n));

		if (n == NULL)
			return ERR_NOMEM;
		l->segs = n;
		l->cap = cap;
	}
	l->segs[l->n++] = *s;
	return 0;
}

/* ---- scanning at open ---- */

/*
 * True if a record valid under seq with an index above last starts
 * anywhere in buf[from, size). Entries last+1 .. idx-1 would lie in
 * [from, p), at least REC_HDR bytes each, so only an index up to
 * last + 1 + (p - from) / REC_HDR can be there, and its term is at
 * least term: other positions cost no crc (without these bounds, bytes
 * of old records in a reused segment that looked like an index and a
 * length cost a crc over megabytes each, and an open took minutes). The
 * crcs together cover at most SCAN_CRC_BUDGET bytes, whatever the bytes.
 */
static bool
scan_valid_after(const uint8_t *buf, uint64_t from, uint64_t size,
    uint64_t seq, uint64_t last, uint64_t term, const char *path)
{
	uint64_t budget = SCAN_CRC_BUDGET;

	for (uint64_t p = from; p + REC_HDR <= size; p++) {
		uint64_t idx = get64(buf + p + 8), t = get64(buf + p + 16);
		uint32_t len = get32(buf + p);

		if (idx <= last || idx - last > 1 + (p - from) / REC_HDR ||
		    len > size - p - REC_HDR || t < term || t - term > UINT32_MAX)
			continue;
		if (len > budget) {
			log_warnx("raftlog: %s: the bytes after offset %llu were "
			    "not all checked for damage (too many look like "
			    "records)", path, (unsigned long long)p);
			return false;
		}
		budget -= len;
		if (get32(buf + p + 4) == rec_crc(seq, buf + p, len))
			return true;
	}
	return false;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != 0)
			return false;
	return true;
}

/* Reads a whole file. */
static int
read_file(int fd, uint8_t **buf, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return ERR_IO;
	*size = (uint64_t)st.st_size;
	if ((*buf = malloc(*size ? *size : 1)) == NULL)
		return ERR_NOMEM;
	if (*size > 0 && pread_all(fd, *buf, *size, 0) != 0) {
		free(*buf);
		*buf = NULL;
		return ERR_IO;
	}
	return 0;
}

/*
 * Scans segment s (its fd and seq set) after the ones already in l,
 * filling its offsets; last says whether it is the newest segment.
 */
static int
scan_seg(struct raftlog *l, struct seg *s, bool last, char *err,
    size_t errlen)
{
	char path[4200];
	uint8_t *buf;
	uint64_t size, p = SEG_HDR, prev = l->last, pterm = l->last_term;
	bool bad = false;
	int rc;

	seg_path(l, s->seq, "seg", path, sizeof(path));
	if ((rc = read_file(s->fd, &buf, &size)) != 0)
		return set_err(err, errlen, rc, "raftlog: cannot read %s",
		    path);
	s->size = size;
	if (size < SEG_HDR || !seg_hdr_valid(buf, s->seq)) {
		free(buf);
		return set_err(err, errlen, ERR_CORRUPT,
		    "raftlog: %s: not a cairn log segment (bad header)", path);
	}
	if (l->n == 0)
		l->lfirst = get64(buf + 24);
	while (p + REC_HDR <= size && !all_zero(buf + p, REC_HDR)) {
		uint32_t len = get32(buf + p);
		uint64_t idx = get64(buf + p + 8), term = get64(buf + p + 16);

		bool crc_ok = len <= size - p - REC_HDR &&
		    get32(buf + p + 4) == rec_crc(s->seq, buf + p, len);

		if (crc_ok && prev != 0 && idx > prev + 1) {
			/* a whole record that skips entries: a segment or a
			 * range of the log is missing */
			free(buf);
			return set_err(err, errlen, ERR_CORRUPT, "raftlog: %s: "
			    "entries %llu to %llu missing before offset %llu",
			    path, (unsigned long long)prev + 1,
			    (unsigned long long)idx - 1, (unsigned long long)p);
		}
		if (!crc_ok || idx == 0 || (prev != 0 && idx != prev + 1) ||
		    term < pterm) {
			bad = true;
			break;
		}
		if ((rc = seg_push_off(s, p)) != 0) {
			free(buf);
			return rc;
		}
		if (s->n == 1)
			s->first = idx;
		prev = idx;
		pterm = term;
		p += REC_HDR + len;
	}
	s->tail = p;
	if ((bad && !last) || scan_valid_after(buf, p, size, s->seq,
	    prev, pterm, path)) {
		free(buf);
		return set_err(err, errlen, ERR_CORRUPT,
		    "raftlog: %s: damaged record at offset %llu with entries "
		    "after it (log ends at index %llu)", path,
		    (unsigned long long)p, (unsigned long long)prev);
	}
	if (bad) {
		/* a torn tail: zero it, so nothing of it is read again */
		uint64_t end = size;

		while (end > p && buf[end - 1] == 0)
			end--;
		log_warnx("raftlog: %s: torn tail at offset %llu after index "
		    "%llu dropped", path, (unsigned long long)p,
		    (unsigned long long)prev);
		if (zero_range(s->fd, p, end) != 0 || fdatasync(s->fd) != 0) {
			free(buf);
			return set_err(err, errlen, ERR_IO,
			    "raftlog: %s: cannot clear the torn tail", path);
		}
	}
	free(buf);
	l->last = prev;
	l->last_term = pterm;
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The seqs of dir's segments, sorted; stale .tmp files are removed. */
static int
list_segs(struct raftlog *l, uint64_t **seqs, size_t *n)
{
	DIR *d = opendir(l->dir);
	struct dirent *de;
	size_t cap = 0;

	*seqs = NULL;
	*n = 0;
	if (d == NULL)
		return ERR_IO;
	while ((de = readdir(d)) != NULL) {
		unsigned long long seq;
		char ext[8];
		int used = 0;

		if (strlen(de->d_name) != 20 ||
		    sscanf(de->d_name, "%16llx.%3s%n", &seq, ext, &used) != 2 ||
		    used != 20)
			continue;
		if (strcmp(ext, "tmp") == 0) {
			unlinkat(l->dfd, de->d_name, 0);
			continue;
		}
		if (strcmp(ext, "seg") != 0)
			continue;
		if (*n == cap) {
			uint64_t *s = realloc(*seqs, (cap = cap ? 2 * cap : 16) *
			    sizeof(*s));
			if (s == NULL) {
				closedir(d);
				return ERR_NOMEM;
			}
			*seqs = s;
		}
		(*seqs)[(*n)++] = seq;
	}
	closedir(d);
	if (*n > 1)
		qsort(*seqs, *n, sizeof(**seqs), cmp_u64);
	return 0;
}

int
raftlog_open(const char *dir, struct raftlog **out, char *err,
    size_t errlen)
{
	struct raftlog *l;
	uint64_t *seqs = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	pthread_once(&crc_once, crc_init);
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return ERR_NOMEM;
	snprintf(l->dir, sizeof(l->dir), "%s", dir);
	pthread_mutex_init(&l->mu, NULL);
	l->next_seq = 1;
	l->dfd = -1;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = set_err(err, errlen, ERR_IO, "raftlog: cannot create %s: "
		    "%s", dir, strerror(errno));
		goto fail;
	}
	if ((l->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = set_err(err, errlen, ERR_IO, "raftlog: cannot open %s: %s",
		    dir, strerror(errno));
		goto fail;
	}
	if ((rc = list_segs(l, &seqs, &n)) != 0) {
		set_err(err, errlen, rc, "raftlog: cannot list %s", dir);
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct seg s;
		char path[4200];

		memset(&s, 0, sizeof(s));
		s.seq = seqs[i];
		seg_path(l, s.seq, "seg", path, sizeof(path));
		if ((s.fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
			rc = set_err(err, errlen, ERR_IO, "raftlog: cannot "
			    "open %s: %s", path, strerror(errno));
			goto fail;
		}
		if ((rc = scan_seg(l, &s, i + 1 == n, err, errlen)) != 0 ||
		    (rc = log_add_seg(l, &s)) != 0) {
			seg_fini(&s);
			goto fail;
		}
		l->next_seq = s.seq + 1;
	}
	free(seqs);
	*out = l;
	return 0;
fail:
	free(seqs);
	raftlog_close(l);
	return rc;
}

void
raftlog_close(struct raftlog *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		seg_fini(&l->segs[i]);
	for (size_t i = 0; i < l->n_pool; i++)
		seg_fini(&l->pool[i]); /* its .tmp name goes at the next open */
	free(l->segs);
	if (l->dfd >= 0)
		close(l->dfd);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* ---- reading ---- */

static uint64_t
phys_first(const struct raftlog *l)
{
	for (size_t k = 0; k < l->n; k++)
		if (l->segs[k].n > 0)
			return l->segs[k].first;
	return 0;
}

/* The logical first index (l->mu held); > last when nothing is left. */
static uint64_t
log_first(const struct raftlog *l)
{
	uint64_t f = phys_first(l);

	return l->lfirst > f ? l->lfirst : f;
}

void
raftlog_bounds(struct raftlog *l, uint64_t *first, uint64_t *last,
    uint64_t *last_term)
{
	pthread_mutex_lock(&l->mu);
	*first = log_first(l);
	*last = l->last;
	*last_term = l->last_term;
	if (*last == 0 || *first > *last)
		*first = *last = *last_term = 0;
	pthread_mutex_unlock(&l->mu);
}

int
raftlog_get(struct raftlog *l, uint64_t index, struct store_entry *out)
{
	const struct seg *s;
	uint8_t h[REC_HDR];
	uint64_t off;
	int rc = ERR_NOTFOUND;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&l->mu);
	if (index == 0 || index < log_first(l) || index > l->last ||
	    (rc = read_rec_hdr(l, index, h, &s, &off)) != 0)
		goto done;
	out->index = index;
	out->term = get64(h + 16);
	out->type = h[24];
	out->len = get32(h);
	if ((out->data = malloc(out->len ? out->len : 1)) == NULL)
		rc = ERR_NOMEM;
	else if (out->len > 0)
		rc = pread_all(s->fd, out->data, out->len, off + REC_HDR);
	if (rc != 0)
		store_entry_fini(out);
done:
	pthread_mutex_unlock(&l->mu);
	return rc;
}

/* ---- truncation and compaction ---- */

/* Removes entries >= from (l->mu held). */
static int
log_truncate(struct raftlog *l, uint64_t from)
{
	struct seg *s;
	uint64_t at;

	if (l->last == 0 || from > l->last)
		return 0;
	if (from <= phys_first(l) || from <= l->lfirst)
		return log_clear(l);
	/* later segments first, so a crash leaves consecutive segments */
	while (l->n > 1 && (l->segs[l->n - 1].n == 0 ||
	    l->segs[l->n - 1].first >= from)) {
		seg_remove(l, &l->segs[--l->n]);
	}
	if (dir_sync(l) != 0)
		return ERR_IO;
	s = &l->segs[l->n - 1];
	if (s->n > 0 && from <= seg_last(s)) {
		at = s->off[from - s->first];
		if (zero_range(s->fd, at, s->tail) != 0 ||
		    fdatasync(s->fd) != 0)
			return ERR_IO;
		s->n = from - s->first;
		s->tail = at;
	}
	l->last = from - 1;
	l->last_term = log_term_at(l, l->last);
	return 0;
}

int
raftlog_truncate(struct raftlog *l, uint64_t from)
{
	int rc;

	pthread_mutex_lock(&l->mu);
	rc = log_truncate(l, from);
	pthread_mutex_unlock(&l->mu);
	return rc;
}

int
raftlog_compact(struct raftlog *l, uint64_t upto)
{
	uint8_t h[SEG_HDR];
	int rc = 0;

	pthread_mutex_lock(&l->mu);
	if (upto == UINT64_MAX) {
		rc = log_clear(l);
		goto done;
	}
	if (upto < log_first(l))
		goto done;
	/* whole segments, never the one being written */
	while (l->n > 1 && seg_last(&l->segs[0]) <= upto) {
		seg_release(l, &l->segs[0]);
		memmove(l->segs, l->segs + 1, --l->n * sizeof(*l->segs));
	}
	l->lfirst = upto + 1;
	if (l->n > 0) {
		/* a hint for the next open: not synced, an older first only
		 * shows entries a snapshot covers */
		seg_hdr_encode(h, l->segs[0].seq, l->lfirst);
		if (pwrite_all(l->segs[0].fd, h, SEG_HDR, 0) != 0)
			rc = ERR_IO;
	}
done:
	pthread_mutex_unlock(&l->mu);
	return rc;
}

/* ---- appending ---- */

/* Serialises ents, len bytes in all, into one buffer of records under
 * seq, followed by an end mark (REC_HDR zero bytes); offs[i] is entry
 * i's offset in it. */
static int
encode_batch(uint64_t seq, const struct store_entry *ents, size_t n,
    size_t len, uint8_t **buf, uint64_t **offs)
{
	size_t p = 0;

	*buf = malloc(len + REC_HDR);
	*offs = malloc(n * sizeof(**offs));
	if (*buf == NULL || *offs == NULL) {
		free(*buf);
		free(*offs);
		return ERR_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t *r = *buf + p;

		put32(r, (uint32_t)ents[i].len);
		put64(r + 8, ents[i].index);
		put64(r + 16, ents[i].term);
		r[24] = ents[i].type;
		if (ents[i].len > 0)
			memcpy(r + REC_HDR, ents[i].data, ents[i].len);
		put32(r + 4, rec_crc(seq, r, ents[i].len));
		(*offs)[i] = p;
		p += REC_HDR + ents[i].len;
	}
	memset(*buf + p, 0, REC_HDR);
	return 0;
}

/*
 * Where a batch of need bytes (its end mark included) goes: the last
 * segment if it fits, else a kept one or a new one. Returns its seq,
 * descriptor and offset (no pointer into l->segs, which compaction may
 * move meanwhile).
 */
static int
append_target(struct raftlog *l, size_t need, uint64_t *seq, int *fd,
    uint64_t *at)
{
	struct seg s;
	uint64_t size = RAFTLOG_SEGMENT_BYTES;
	bool fits;
	int rc;

	pthread_mutex_lock(&l->mu);
	fits = l->n > 0 && l->segs[l->n - 1].tail + need <=
	    l->segs[l->n - 1].size;
	if (fits) {
		*seq = l->segs[l->n - 1].seq;
		*fd = l->segs[l->n - 1].fd;
		*at = l->segs[l->n - 1].tail;
	}
	pthread_mutex_unlock(&l->mu);
	if (fits)
		return 0;
	pthread_mutex_lock(&l->mu);
	fits = l->n_pool > 0 && SEG_HDR + need <= l->pool[l->n_pool - 1].size;
	if (fits)
		s = l->pool[--l->n_pool];
	pthread_mutex_unlock(&l->mu);
	if (!fits || seg_reuse(l, &s) != 0) {
		if (SEG_HDR + need > size)
			size = (SEG_HDR + need + ZERO_CHUNK - 1) / ZERO_CHUNK *
			    ZERO_CHUNK;
		if ((rc = seg_create(l, size, &s)) != 0)
			return rc;
	}
	*seq = s.seq;
	*fd = s.fd;
	*at = s.tail;
	pthread_mutex_lock(&l->mu);
	rc = log_add_seg(l, &s);
	pthread_mutex_unlock(&l->mu);
	if (rc != 0)
		seg_remove(l, &s);
	return rc;
}

/* Checks the batch and makes the log ready to take it at its index;
 * *len gets its encoded size. */
static int
append_prepare(struct raftlog *l, const struct store_entry *ents, size_t n,
    size_t *len)
{
	uint64_t idx = ents[0].index;
	int rc = 0;

	*len = 0;
	for (size_t i = 0; i < n; i++) {
		if (ents[i].len > UINT32_MAX - REC_HDR ||
		    *len > SIZE_MAX / 2 - REC_HDR - ents[i].len)
			return ERR_TOOBIG;
		*len += REC_HDR + ents[i].len;
		if (i > 0 && (ents[i].index != idx + i ||
		    ents[i].term < ents[i - 1].term))
			return ERR_INVAL;
	}
	if (idx == 0 || ents[0].term == 0)
		return ERR_INVAL;
	pthread_mutex_lock(&l->mu);
	if (l->last != 0 && log_first(l) > l->last && idx != l->last + 1)
		rc = log_clear(l); /* all compacted away: start afresh */
	else if (l->last != 0 && idx <= l->last)
		rc = log_truncate(l, idx);
	else if (l->last != 0 && idx > l->last + 1)
		rc = ERR_INVAL;
	if (rc == 0 && l->last != 0 && ents[0].term < l->last_term)
		rc = ERR_INVAL;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

int
raftlog_append(struct raftlog *l, const struct store_entry *ents, size_t n)
{
	uint8_t *buf;
	uint64_t *offs, seq, at;
	size_t len;
	int fd, rc;

	if (n == 0)
		return 0;
	if ((rc = append_prepare(l, ents, n, &len)) != 0 ||
	    (rc = append_target(l, len + REC_HDR, &seq, &fd, &at)) != 0 ||
	    (rc = encode_batch(seq, ents, n, len, &buf, &offs)) != 0)
		return rc;
	if (pwrite_all(fd, buf, len + REC_HDR, at) != 0 ||
	    fdatasync(fd) != 0) {
		log_warn("raftlog: append of %zu entries at %llu", n,
		    (unsigned long long)ents[0].index);
		rc = ERR_IO;
		goto out;
	}
	pthread_mutex_lock(&l->mu);
	{
		struct seg *s = &l->segs[l->n - 1]; /* still seq's */

		for (size_t i = 0; i < n && rc == 0; i++)
			rc = seg_push_off(s, at + offs[i]);
		if (rc == 0) {
			if (s->n == n)
				s->first = ents[0].index;
			s->tail = at + len;
			l->last = ents[n - 1].index;
			l->last_term = ents[n - 1].term;
		}
	}
	pthread_mutex_unlock(&l->mu);
out:
	free(buf);
	free(offs);
	return rc;
}
