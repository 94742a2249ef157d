/* atomicfile.c - what a path names, then temp file, fsync, rename (see atomicfile.h). */
#define _GNU_SOURCE
#include "common/atomicfile.h"
#include "common/buf.h"
#include "common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* The base name of path. */
static const char *
base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

static int
temp_name(const char *path, char *out, size_t size)
{
	const char *base = base_of(path);
	unsigned rnd = 0;
	int n;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (unsigned)getpid() * 2654435761u;
	n = snprintf(out, size, "%.*s.%s.%ld.%08x.tmp", (int)(base - path),
	    path, base, (long)getpid(), rnd);
	return n < 0 || (size_t)n >= size ? PERR_LIMIT : 0;
}

/* --- what the path names --- */

enum dest {
	DEST_REPLACE,		/* a regular file, or none yet: rename over it */
	DEST_DIRECT,		/* a FIFO or character device: write in place */
};

static int
too_long(const char *path, struct perr *e)
{
	return perr_set(e, PERR_INVALID, "path too long: %s", path);
}

static const char *
kind_of(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	return "not a regular file";
}

static int
refuse(const char *path, const char *what, unsigned flags, struct perr *e)
{
	return perr_set(e, PERR_INVALID, "cannot write %s: it is %s (give a "
	    "regular file, a new one or a symbolic link to one%s)", path, what,
	    flags & ATOMICFILE_REGULAR_ONLY ? "" :
	    ", a FIFO or a character device");
}

/* A name a file can be created under: not "", "." or "..", no final "/". */
static int
check_file_name(const char *path, struct perr *e)
{
	const char *base = base_of(path);

	if (path[0] == '\0')
		return perr_set(e, PERR_INVALID, "cannot write \"\": the file "
		    "name is empty");
	if (base[0] == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0)
		return perr_set(e, PERR_INVALID, "cannot write %s: it names a "
		    "directory (give a file name)", path);
	return 0;
}

/*
 * Where the rule of atomicfile.h says to write path: the name into out
 * (size bytes) and how, in *how.
 */
static int
resolve(const char *path, unsigned flags, char *out, size_t size,
    enum dest *how, struct perr *e)
{
	struct stat final, st;
	int rc;

	*how = DEST_REPLACE;
	if (stat(path, &final) != 0) {
		if (errno != ENOENT)
			return perr_sys(e, errno, "cannot write %s", path);
		if (lstat(path, &st) != 0 && errno == ENOENT) {
			if ((size_t)snprintf(out, size, "%s", path) >= size)
				return too_long(path, e);
			return check_file_name(out, e);
		}
		if ((rc = fs_follow_links(path, out, size, e)) != 0)
			return rc;
		return perr_set(e, PERR_INVALID, "cannot write %s: it is a "
		    "symbolic link to %s, which does not exist (create it "
		    "first, or give its name)", path, out);
	}
	if (S_ISFIFO(final.st_mode) || S_ISCHR(final.st_mode)) {
		if (flags & ATOMICFILE_REGULAR_ONLY)
			return refuse(path, kind_of(final.st_mode), flags, e);
		*how = DEST_DIRECT;
		if ((size_t)snprintf(out, size, "%s", path) >= size)
			return too_long(path, e);
		return 0;
	}
	if (!S_ISREG(final.st_mode))
		return refuse(path, kind_of(final.st_mode), flags, e);
	if ((rc = fs_follow_links(path, out, size, e)) != 0)
		return rc;
	/* A link in /proc may lead to a file that has no name of its own. */
	if (lstat(out, &st) != 0 || st.st_dev != final.st_dev ||
	    st.st_ino != final.st_ino)
		return perr_set(e, PERR_INVALID, "cannot write %s: the file it "
		    "leads to has no name to be replaced under (give the "
		    "file's own name)", path);
	return 0;
}

/* --- writing --- */

static int
begin_direct(struct atomicfile *f)
{
	struct stat st;

	f->fd = fs_open(f->path, O_WRONLY | O_NOCTTY | O_CLOEXEC, 0);
	if (f->fd < 0)
		return perr_sys(f->e, errno, "cannot open %s", f->path);
	if (fstat(f->fd, &st) != 0 ||
	    !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
		close(f->fd);
		f->fd = -1;
		return perr_set(f->e, PERR_IO, "cannot write %s: it was "
		    "replaced while opening it", f->path);
	}
	return 0;
}

int
atomicfile_begin(struct atomicfile *f, const char *path, unsigned mode,
    unsigned flags, struct perr *e)
{
	enum dest how;
	int rc;

	f->flags = flags;
	f->e = e;
	f->fd = -1;
	f->tmp[0] = '\0';
	f->direct = false;
	if ((rc = resolve(path, flags, f->path, sizeof(f->path), &how,
	    e)) != 0)
		return rc;
	if (how == DEST_DIRECT) {
		f->direct = true;
		return begin_direct(f);
	}
	if (temp_name(f->path, f->tmp, sizeof(f->tmp)) != 0) {
		f->tmp[0] = '\0';
		return too_long(f->path, e);
	}
	f->fd = fs_open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (f->fd < 0) {
		rc = perr_sys(e, errno, "cannot create %s", f->tmp);
		f->tmp[0] = '\0';
		return rc;
	}
	if (fchmod(f->fd, (mode_t)mode) != 0) {
		rc = perr_sys(e, errno, "cannot set mode of %s", f->tmp);
		atomicfile_abort(f);
		return rc;
	}
	return 0;
}

int
atomicfile_add(struct atomicfile *f, const void *data, size_t len)
{
	if (fs_write_all(f->fd, data, len) != 0)
		return perr_sys(f->e, errno, "cannot write %s",
		    f->direct ? f->path : f->tmp);
	return 0;
}

void
atomicfile_abort(struct atomicfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->tmp[0] != '\0')
		unlink(f->tmp);
	f->tmp[0] = '\0';
}

static int
commit_direct(struct atomicfile *f)
{
	int rc = close(f->fd) != 0 ?
	    perr_sys(f->e, errno, "cannot write %s", f->path) : 0;

	f->fd = -1;
	return rc;
}

int
atomicfile_finish(struct atomicfile *f)
{
	int rc = 0;

	if (f->direct || f->fd < 0)
		return 0;
	if (!(f->flags & ATOMICFILE_NO_SYNC) && fs_sync(f->fd, 0) != 0)
		rc = perr_sys(f->e, errno, "cannot fsync %s", f->tmp);
	if (close(f->fd) != 0 && rc == 0)
		rc = perr_sys(f->e, errno, "cannot close %s", f->tmp);
	f->fd = -1;
	return rc;
}

int
atomicfile_commit(struct atomicfile *f)
{
	int rc;

	if (f->direct)
		return commit_direct(f);
	rc = atomicfile_finish(f);
	if (rc == 0 && fs_rename(f->tmp, f->path) != 0)
		rc = perr_sys(f->e, errno, "cannot rename %s to %s", f->tmp,
		    f->path);
	if (rc != 0)
		unlink(f->tmp);
	else if (!(f->flags & ATOMICFILE_NO_SYNC))
		rc = fs_fsync_dir_of(f->path, f->e);
	f->tmp[0] = '\0';
	return rc;
}

int
atomicfile_write(const char *path, const void *data, size_t len,
    unsigned mode, unsigned flags, struct perr *e)
{
	struct atomicfile f;
	int rc;

	if ((rc = atomicfile_begin(&f, path, mode, flags, e)) != 0)
		return rc;
	if ((rc = atomicfile_add(&f, data, len)) != 0) {
		atomicfile_abort(&f);
		return rc;
	}
	return atomicfile_commit(&f);
}

/* --- leftovers --- */

/* ".BASE.<pid>.<8 hex>.tmp", exactly what temp_name makes for base. */
static int
is_leftover(const char *name, const char *base)
{
	size_t blen = strlen(base), digits, hex;
	const char *p;

	if (name[0] != '.' || strncmp(name + 1, base, blen) != 0 ||
	    name[1 + blen] != '.')
		return 0;
	p = name + blen + 2;
	digits = strspn(p, "0123456789");
	if (digits == 0 || p[digits] != '.')
		return 0;
	p += digits + 1;
	hex = strspn(p, "0123456789abcdef");
	return hex == 8 && strcmp(p + hex, ".tmp") == 0;
}

/*
 * The leftovers beside the file path leads to: counted, and removed when
 * remove is true.  Returns their number, or -1 with e set.
 */
static int
scan_leftovers(const char *path, bool remove, struct perr *e)
{
	char name[PATH_MAX], dir[PATH_MAX];
	struct buf victim = BUF_INIT(PATH_MAX);
	const char *base;
	struct dirent *d;
	enum dest how;
	DIR *dp;
	int found = 0;

	/* What begin would refuse or write in place leaves no temp file. */
	if (resolve(path, 0, name, sizeof(name), &how, NULL) != 0 ||
	    how == DEST_DIRECT)
		return 0;
	base = base_of(name);
	if (fs_dirname(name, dir, sizeof(dir)) != 0) {
		too_long(name, e);
		return -1;
	}
	if ((dp = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		perr_sys(e, errno, "cannot read directory %s", dir);
		return -1;
	}
	while ((d = readdir(dp)) != NULL) {
		if (!is_leftover(d->d_name, base))
			continue;
		found++;
		buf_reset(&victim);
		if (remove && buf_adds(&victim, dir) == 0 &&
		    buf_addc(&victim, '/') == 0 &&
		    buf_adds(&victim, d->d_name) == 0)
			unlink(buf_str(&victim));
	}
	closedir(dp);
	buf_free(&victim);
	return found;
}

int
atomicfile_cleanup(const char *path, struct perr *e)
{
	return scan_leftovers(path, true, e) < 0 ? PERR_IO : 0;
}

bool
atomicfile_has_leftovers(const char *path)
{
	return scan_leftovers(path, false, NULL) > 0;
}
