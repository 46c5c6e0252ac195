/*
 * raftlog.h — the Raft log in pre-written segment files.
 *
 * Why not RocksDB's WAL: every synced append there grows the WAL file,
 * so each fdatasync also commits the inode's new size through the ext4
 * journal. Here a segment is written full of zeros when it is made, and
 * an append overwrites bytes already on disk inside the file's size: its
 * fdatasync writes the data and flushes the device, with no journal
 * commit. On this machine's disk that is 124 against 191 µs alone and
 * 221 against 272 µs with three servers syncing at once (bench/RESULTS.md),
 * and a replicated write waits for two such syncs in parallel.
 *
 * Layout: a directory of segments named <seq>.seg (16 hex digits, seq
 * increasing), each a 32-byte header (magic "CAIRNLG1", seq) and records
 *
 *	u32 len | u32 crc | u64 index | u64 term | u8 type | len bytes
 *
 * little-endian, where crc is CRC-32C over seq and everything after the
 * crc field, so a record written under another seq never validates.
 * Indexes are consecutive across the whole log and terms never decrease.
 * Each append ends with an all-zero record header (the end mark), so the
 * log ends at the first all-zero header, also in a segment that
 * compaction freed and the log reuses (old records lie past the mark and
 * fail the crc under the new seq); a position that does not validate
 * ends it too. A bad record is accepted as a torn tail only if nothing after
 * it, in its segment or a later one, is a valid record further on in the
 * log; otherwise the log is refused (ERR_CORRUPT), since acknowledged
 * entries would vanish. A torn tail is zeroed at open.
 *
 * Threads: raftlog_append may run on one thread (raftd's writer) while
 * another calls raftlog_get, _bounds or _compact; _truncate and _open/
 * _close must not run concurrently with an append.
 */
#ifndef CAIRN_RAFTLOG_H
#define CAIRN_RAFTLOG_H

#include <stddef.h>
#include <stdint.h>

#include "store.h" /* struct store_entry */

struct raftlog;

/* Default size of a new segment; a batch larger than it gets its own. */
#define RAFTLOG_SEGMENT_BYTES (8u << 20)

/*
 * Opens (creating dir, mode 0700, if missing) and scans the log. On
 * failure *out is NULL and err names the file and offset: ERR_CORRUPT
 * (damage before the tail, a foreign file, a gap between segments) or
 * ERR_IO.
 */
int raftlog_open(const char *dir, struct raftlog **out, char *err,
    size_t errlen);
/* Closes l (NULL is a no-op). Everything appended is already durable. */
void raftlog_close(struct raftlog *l);

/*
 * Appends n consecutive entries and returns once they are durable
 * (fdatasync). The first index may be at most last + 1; entries at or
 * below last replace them and everything after (an implicit truncation).
 * On an empty log any first index is fine. ERR_INVAL for a gap or
 * non-consecutive entries, ERR_IO (the log must not be used further).
 */
int raftlog_append(struct raftlog *l, const struct store_entry *ents,
    size_t n);

/* Copies entry index into *out (free with store_entry_fini).
 * ERR_NOTFOUND outside [first, last], ERR_IO, ERR_NOMEM. */
int raftlog_get(struct raftlog *l, uint64_t index, struct store_entry *out);

/* The stored range (0, 0, 0 when empty). */
void raftlog_bounds(struct raftlog *l, uint64_t *first, uint64_t *last,
    uint64_t *last_term);

/* Removes entries >= from (durable on return); from <= first empties the
 * log, and the next append may start anywhere. */
int raftlog_truncate(struct raftlog *l, uint64_t from);

/*
 * Entries <= upto are no longer needed (a snapshot covers them):
 * segments holding only such entries are deleted, except the one being
 * written. first then reads upto + 1 until the next open, which may
 * again report a few older entries from a partly covered segment.
 */
int raftlog_compact(struct raftlog *l, uint64_t upto);

#endif
