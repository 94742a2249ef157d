/*
 * journal.h - the append-only journal: the single source of truth.
 *
 * Record framing, one record per line:
 *
 *   "pr1 " CRC " " PAYLOAD "\n"
 *
 * CRC is the CRC-32C of PAYLOAD as 8 lowercase hex digits.  PAYLOAD never
 * contains a newline (run.h's encoding escapes it).  A whole record,
 * framing included, is at most JOURNAL_RECORD_MAX bytes.
 *
 * Writers: one record is one write(2) on an O_APPEND descriptor; it is never
 * completed by a second write.  Appenders take a shared flock(2) on the lock
 * file "<journal>.lock" (beside the journal itself when the path is a
 * symbolic link), which is never replaced; compaction takes it exclusive.  With JOURNAL_FSYNC_ALWAYS a record is on stable storage (data
 * and, for a new journal, its directory entry) before journal_append returns.
 *
 * Readers: a line that is not a valid record (bad magic, bad checksum,
 * overlong) is damage: it is skipped, and the scan resumes at the next "pr1 "
 * that starts a valid record, so garbage glued in front of a record does not
 * hide it.  Damage is counted in regions: the bytes between two intact
 * records that are not records.  Bytes after the last newline are an
 * incomplete tail (a record being written, or torn by a crash); they are
 * never parsed, and the scan's end offset stops before them.  Damage after
 * the last intact record is held back with the tail, not counted yet: more
 * damage may follow, and a region is counted once whether the journal is
 * scanned in one go or piece by piece.
 */
#ifndef PROMRUN_JOURNAL_H
#define PROMRUN_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define JOURNAL_RECORD_MAX 65536	/* bytes in one record, framing included */
#define JOURNAL_MAGIC "pr1 "
#define JOURNAL_FRAME_OVERHEAD 14	/* "pr1 " + 8 hex + " " + "\n" */
#define JOURNAL_PAYLOAD_MAX (JOURNAL_RECORD_MAX - JOURNAL_FRAME_OVERHEAD)

enum journal_sync {
	JOURNAL_FSYNC_ALWAYS,	/* fdatasync each record; fsync the directory on creation */
	JOURNAL_FSYNC_NEVER,	/* leave it to the kernel: fast, may lose the last records on power loss */
};

#define JOURNAL_MAX_LABELS 64	/* names in the label allow-list */

/*
 * The [journal] settings (config.h fills them): where the journal is, how
 * appends are synced, and which user labels a run may carry.
 */
struct journal_settings {
	char *path;		/* always set after config_load */
	enum journal_sync fsync; /* default JOURNAL_FSYNC_ALWAYS */
	char *labels[JOURNAL_MAX_LABELS]; /* allow-list; empty allows all */
	size_t nlabels;
};

/*
 * journal_append: frame payload[0..len) and append it to the journal at
 * path, creating the journal, its lock file and missing parent directories
 * (mode 0777 & ~umask for directories, 0666 & ~umask for files).
 * Returns 0 when the record is written (and synced per sync);
 * PERR_LIMIT when the framed record would exceed JOURNAL_RECORD_MAX, and
 * PERR_INVALID when payload holds a newline (nothing is written for either);
 * PERR_IO naming the path and the system's reason otherwise.  After a short
 * write the torn piece stays in the file for readers to skip.
 */
int journal_append(const char *path, const char *payload, size_t len,
    enum journal_sync sync, struct perr *e);

/*
 * journal_frame: append the framed record "pr1 CRC payload\n" to out.
 * Returns 0; PERR_INVALID for a payload with a newline; PERR_LIMIT past
 * JOURNAL_RECORD_MAX; PERR_NOMEM.
 */
int journal_frame(const char *payload, size_t len, struct buf *out,
    struct perr *e);

/*
 * journal_replace: compaction's swap.  With the exclusive lock held (see
 * journal_lock), replace the journal at path with head followed by the
 * bytes [keep_from, end) of the current journal (open on fd), with the
 * journal's mode, through atomicfile.h (ATOMICFILE_REGULAR_ONLY): a journal
 * reached through symbolic links is replaced where it lies, the links kept;
 * one that is not a regular file is refused.  *new_size receives the new
 * journal's size.  Returns 0, or PERR_IO (PERR_INVALID for a journal that
 * is not a regular file) with the journal untouched.
 */
int journal_replace(const char *path, int fd, uint64_t keep_from,
    const struct buf *head, uint64_t *new_size, struct perr *e);

/*
 * journal_remove_leftovers: remove the temporary files a compaction killed
 * halfway left beside the journal (atomicfile_cleanup, and the
 * "<journal>.compact.tmp" of earlier versions), if the journal's lock can
 * be taken exclusively right now (no appender or compaction is running);
 * otherwise leave them for a later call.  Returns 0.
 */
int journal_remove_leftovers(const char *path);

/*
 * journal_lock_path: the lock file's path for a journal path, written into
 * out (size bytes): the journal's own name, its symbolic links followed
 * (fs_follow_links), with ".lock" added, so every name of one journal
 * shares one lock.  Returns 0, or PERR_LIMIT when it does not fit.
 */
int journal_lock_path(const char *path, char *out, size_t size);

/*
 * journal_lock: open (creating it, and missing parent directories, when
 * create is non-zero) the lock file of the journal at path and flock it,
 * shared or exclusive.  Returns a descriptor to close() to unlock, or -1
 * with e set.  Waits for the lock; the kernel drops it when its holder dies.
 */
int journal_lock(const char *path, int exclusive, int create, struct perr *e);

struct journal_stats {
	uint64_t records;	/* intact records handed to the callback */
	uint64_t damaged;	/* damaged regions skipped */
	uint64_t damaged_bytes;	/* bytes in them */
	uint64_t end;		/* offset just past the last complete line:
				   a checkpoint may stop here, never later */
	uint64_t tail;		/* bytes after end: an incomplete last record,
				   or damage not followed by a record yet */
};

/*
 * Scan callbacks.  record() gets a payload it may modify, including
 * payload[len] (the newline, free to become a NUL), and the record's file
 * offset; a non-zero return stops the scan and is returned by
 * journal_scan_fd.  damage(), when not NULL, hears of each damaged region.
 */
struct journal_scan_cb {
	int (*record)(void *ctx, char *payload, size_t len, uint64_t offset);
	void (*damage)(void *ctx, uint64_t offset, uint64_t len);
	void *ctx;
};

/*
 * journal_scan_fd: read the journal open on fd from byte offset start (which
 * must be a record boundary, such as a previous scan's end) to its current
 * end.  st is zeroed and filled.  Returns 0, the record callback's non-zero
 * value, or PERR_IO/PERR_NOMEM with e set (what names the file in messages).
 */
int journal_scan_fd(int fd, const char *what, uint64_t start,
    const struct journal_scan_cb *cb, struct journal_stats *st,
    struct perr *e);

/*
 * journal_scan: journal_scan_fd on the file at path.  A journal that does not
 * exist yet scans as empty.
 */
int journal_scan(const char *path, uint64_t start,
    const struct journal_scan_cb *cb, struct journal_stats *st,
    struct perr *e);

#endif
