/*
 * atomicfile.h - replace a file so readers see the old version or the new
 * one, never a mix, and the new one survives a crash once we return.
 *
 * Every file promrun replaces (the textfile, the checkpoint, the journal on
 * compaction, any state file to come) goes through here, so they all follow
 * one rule for what the path names.  The path is looked at once, in
 * atomicfile_begin, with its symbolic links followed as open(2) would:
 *
 *   - nothing (and no symbolic link): a new file is created at the path;
 *   - a regular file: replaced atomically (below);
 *   - a symbolic link, or a chain of them (fs_follow_links: relative
 *     targets are read from the link's own directory), to a regular file,
 *     at most FS_MAX_LINKS links away: the target is replaced
 *     atomically, in the target's directory, and the links stay as they are;
 *   - a symbolic link to nothing: refused (PERR_INVALID), as cp(1) refuses
 *     to write through a dangling link: the file it names is not created
 *     where we were not asked to write;
 *   - a FIFO or a character device (also through links, /dev/stdout
 *     included): opened and written in place, like standard output, never
 *     replaced, its mode untouched; a write error (ENOSPC from /dev/full,
 *     EPIPE) is PERR_IO.  With ATOMICFILE_REGULAR_ONLY (files that are read
 *     back) they are refused instead (PERR_INVALID);
 *   - a directory, a block device or a socket: refused (PERR_INVALID);
 *     so is a path whose last part is empty, "." or "..".
 *
 * A replacement goes to a temporary file in the same directory as the file
 * replaced, named ".NAME.<pid>.<8 hex>.tmp" (node_exporter's textfile
 * collector reads only *.prom); it is fchmod'ed, written in full, fsync'ed,
 * renamed over NAME, and the directory is fsync'ed.  On any failure the
 * temporary file is removed and NAME is untouched.
 */
#ifndef PROMRUN_ATOMICFILE_H
#define PROMRUN_ATOMICFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define ATOMICFILE_NO_SYNC 1u	/* skip the fsyncs: readers still see old or
				   new, but a crash may leave the old file or
				   an empty one (for files that are checked
				   on reading, such as the checkpoint) */
#define ATOMICFILE_REGULAR_ONLY 2u /* refuse a FIFO or a character device
				   rather than write it in place (for files
				   that are read back: journal, checkpoint) */

/*
 * A file being replaced piece by piece, for contents that are produced in
 * parts and need not be gathered in memory first.  Between begin and
 * commit or abort the temporary file exists; exactly one of those two must
 * follow a successful begin.
 */
struct atomicfile {
	char path[PATH_MAX];		/* the file written: the path given,
					   its symbolic links followed */
	char tmp[PATH_MAX];		/* the temporary file; "" when direct */
	bool direct;			/* a FIFO or device written in place */
	int fd;
	unsigned flags;
	struct perr *e;
};

/*
 * atomicfile_begin: look at path as the rule above says and create the
 * temporary file for it with file mode mode (exactly, whatever the umask),
 * or open the FIFO or device.  flags: ATOMICFILE_NO_SYNC,
 * ATOMICFILE_REGULAR_ONLY or both.  Errors go to e, which f keeps for the
 * calls that follow.  Returns 0; PERR_INVALID for a path the rule refuses
 * (the message says what it is and what is accepted); PERR_IO naming the
 * file and the system's reason.
 */
int atomicfile_begin(struct atomicfile *f, const char *path, unsigned mode,
    unsigned flags, struct perr *e);

/*
 * atomicfile_add: append data[0..len) (a write(2) per call, continued after
 * short writes: callers hand over large pieces).  Returns 0, or PERR_IO;
 * the caller then aborts.
 */
int atomicfile_add(struct atomicfile *f, const void *data, size_t len);

/*
 * atomicfile_finish: the temporary file written in full: fsync'ed (unless
 * ATOMICFILE_NO_SYNC) and closed, so that atomicfile_commit has only the
 * rename left.  Optional, for a file written on one thread and committed
 * later on another: the fsync, and a close that may wait for the file
 * system, are the writer's.  Nothing for a FIFO or device.  Returns 0 or
 * PERR_IO; either way commit or abort follows.
 */
int atomicfile_finish(struct atomicfile *f);

/*
 * atomicfile_commit: fsync and close (unless atomicfile_finish did), rename
 * over the file, fsync the directory (a FIFO or device: close it).  On
 * failure the temporary file is removed and the file is untouched.
 * Returns 0 or PERR_IO.
 */
int atomicfile_commit(struct atomicfile *f);

/*
 * atomicfile_abort: remove the temporary file; the file is untouched (what
 * was written to a FIFO or device is gone already).
 */
void atomicfile_abort(struct atomicfile *f);

/*
 * atomicfile_write: replace path with data[0..len) (begin, add, commit).
 * Returns what those return.
 */
int atomicfile_write(const char *path, const void *data, size_t len,
    unsigned mode, unsigned flags, struct perr *e);

/*
 * atomicfile_cleanup: remove temporary files a crashed writer of path left
 * behind (".NAME.<pid>.<8 hex>.tmp" beside the file path leads to, by the
 * rule above).  Call it only while no other writer of path can be running
 * (under the caller's lock).  Returns 0, or PERR_IO when the directory
 * cannot be read; a missing directory, or a path atomicfile_begin would
 * refuse or write in place, is fine (nothing to remove).
 */
int atomicfile_cleanup(const char *path, struct perr *e);

/*
 * atomicfile_has_leftovers: whether atomicfile_cleanup would find anything
 * to remove, for callers that must take a lock first (and would rather not
 * take it for nothing).  Needs no lock; removes nothing.
 */
bool atomicfile_has_leftovers(const char *path);

#endif
