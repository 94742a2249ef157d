/*
 * atomicfile.h - replace a file so readers see the old version or the new
 * one, never a mix, and the new one survives a crash once we return.
 *
 * The new contents go to a temporary file in the same directory whose name
 * does not end in ".prom" (".NAME.<pid>.<random>.tmp", which node_exporter's
 * textfile collector ignores); it is fchmod'ed, written in full, fsync'ed,
 * renamed over NAME, and the directory is fsync'ed.  On any failure the
 * temporary file is removed and NAME is untouched.
 */
#ifndef PROMRUN_ATOMICFILE_H
#define PROMRUN_ATOMICFILE_H

#include <limits.h>
#include <stddef.h>

#include "common/err.h"

#define ATOMICFILE_NO_SYNC 1u	/* skip the fsyncs: readers still see old or
				   new, but a crash may leave the old file or
				   an empty one (for files that are checked
				   on reading, such as the checkpoint) */

/*
 * A file being replaced piece by piece, for contents that are produced in
 * parts and need not be gathered in memory first.  Between begin and
 * commit or abort the temporary file exists; exactly one of those two must
 * follow a successful begin.
 */
struct atomicfile {
	const char *path;		/* the file being replaced */
	char tmp[PATH_MAX];		/* the temporary file */
	int fd;
	unsigned flags;
	struct perr *e;
};

/*
 * atomicfile_begin: create the temporary file for path with file mode mode
 * (exactly, whatever the umask).  flags: 0 or ATOMICFILE_NO_SYNC.  Errors
 * go to e, which f keeps for the calls that follow.  Returns 0, or
 * PERR_IO naming the temporary file and the system's reason.
 */
int atomicfile_begin(struct atomicfile *f, const char *path, unsigned mode,
    unsigned flags, struct perr *e);

/*
 * atomicfile_add: append data[0..len) to the temporary file (a write(2)
 * per call: callers hand over large pieces).  Returns 0, or PERR_IO; the
 * caller then aborts.
 */
int atomicfile_add(struct atomicfile *f, const void *data, size_t len);

/*
 * atomicfile_commit: fsync, rename over path, fsync the directory.  On
 * failure the temporary file is removed and path is untouched.  Returns 0
 * or PERR_IO.
 */
int atomicfile_commit(struct atomicfile *f);

/* atomicfile_abort: remove the temporary file; path is untouched. */
void atomicfile_abort(struct atomicfile *f);

/*
 * atomicfile_write: replace path with data[0..len) (begin, add, commit).
 * Returns 0, or PERR_IO naming the path, the step that failed and the
 * system's reason.
 */
int atomicfile_write(const char *path, const void *data, size_t len,
    unsigned mode, unsigned flags, struct perr *e);

/*
 * atomicfile_cleanup: remove temporary files a crashed writer of path left
 * behind (".NAME.*.tmp" in its directory).  Call it only while no other
 * writer of path can be running (under the caller's lock).  Returns 0, or
 * PERR_IO when the directory cannot be read; a missing directory is fine.
 */
int atomicfile_cleanup(const char *path, struct perr *e);

#endif
