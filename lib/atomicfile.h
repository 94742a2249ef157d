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

#include <stddef.h>

#include "err.h"

#define ATOMICFILE_NO_SYNC 1u	/* skip the fsyncs: readers still see old or
				   new, but a crash may leave the old file or
				   an empty one (for files that are checked
				   on reading, such as the checkpoint) */

/*
 * atomicfile_write: replace path with data[0..len), file mode mode
 * (exactly, whatever the umask).  flags: 0 or ATOMICFILE_NO_SYNC.
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
