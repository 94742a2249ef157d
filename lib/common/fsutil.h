/*
 * fsutil.h - small file-system helpers shared by the journal and the atomic
 * file writer: directory of a path, where symbolic links lead, mkdir -p,
 * fsync of a directory, and system calls retried on EINTR.
 */
#ifndef PROMRUN_FSUTIL_H
#define PROMRUN_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * fs_dirname: the directory part of path into out ("." for a bare name, "/"
 * for "/x").  Returns 0, or PERR_LIMIT when it does not fit in size bytes.
 */
int fs_dirname(const char *path, char *out, size_t size);

#define FS_MAX_LINKS 40	/* symbolic links followed in a row, as Linux */

/*
 * fs_follow_links: follow the symbolic links path is, one after the other,
 * as the kernel does (a relative target is read from the link's own
 * directory; links in the directories above are left to the kernel), to the
 * first name that is not a symbolic link or does not exist: into out (size
 * bytes; path itself when it is no link).  Returns 0; PERR_INVALID when a
 * name does not fit in size bytes; PERR_IO for a link that cannot be read
 * or more than FS_MAX_LINKS of them (ELOOP).
 */
int fs_follow_links(const char *path, char *out, size_t size, struct perr *e);

/*
 * fs_mkdir_parents: create the missing directories above path (not path
 * itself) with mode 0777 & ~umask.  Returns 0 or PERR_IO naming the
 * directory that could not be made.
 */
int fs_mkdir_parents(const char *path, struct perr *e);

/*
 * fs_fsync_dir_of: fsync the directory holding path, so a file created or
 * renamed there survives power loss.  Returns 0 or PERR_IO.
 */
int fs_fsync_dir_of(const char *path, struct perr *e);

/*
 * fs_sync: fdatasync(2) (data_only) or fsync(2), retried on EINTR (the
 * call was interrupted before it finished, not failed); any other failure
 * is returned, never taken for success.  0 or -1 with errno.
 */
int fs_sync(int fd, int data_only);

/* fs_rename: rename(2) retried on EINTR; the same return and errno. */
int fs_rename(const char *from, const char *to);

/* fs_open: open(2) retried on EINTR; the same return and errno. */
int fs_open(const char *path, int flags, mode_t mode);

/*
 * fs_write_all: write all len bytes, continuing after short writes and
 * EINTR.  Returns 0, or -1 with errno set.  Not for journal records, which
 * must never be completed by a second write.
 */
int fs_write_all(int fd, const void *p, size_t len);

/* fs_read: read(2) retried on EINTR; the same return and errno. */
ssize_t fs_read(int fd, void *p, size_t n);

#endif
