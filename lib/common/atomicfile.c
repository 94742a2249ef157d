/* atomicfile.c - temp file, fsync, rename, directory fsync (see atomicfile.h). */
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

/* The base name of path, and its length. */
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

int
atomicfile_begin(struct atomicfile *f, const char *path, unsigned mode,
    unsigned flags, struct perr *e)
{
	f->path = path;
	f->flags = flags;
	f->e = e;
	f->fd = -1;
	if (temp_name(path, f->tmp, sizeof(f->tmp)) != 0)
		return perr_set(e, PERR_INVALID, "path too long: %s", path);
	f->fd = fs_open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (f->fd < 0)
		return perr_sys(e, errno, "cannot create %s", f->tmp);
	if (fchmod(f->fd, (mode_t)mode) != 0) {
		int rc = perr_sys(e, errno, "cannot set mode of %s", f->tmp);

		atomicfile_abort(f);
		return rc;
	}
	return 0;
}

int
atomicfile_add(struct atomicfile *f, const void *data, size_t len)
{
	if (fs_write_all(f->fd, data, len) != 0)
		return perr_sys(f->e, errno, "cannot write %s", f->tmp);
	return 0;
}

void
atomicfile_abort(struct atomicfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	unlink(f->tmp);
}

int
atomicfile_commit(struct atomicfile *f)
{
	int rc = 0;

	if (!(f->flags & ATOMICFILE_NO_SYNC) && fs_sync(f->fd, 0) != 0)
		rc = perr_sys(f->e, errno, "cannot fsync %s", f->tmp);
	if (close(f->fd) != 0 && rc == 0)
		rc = perr_sys(f->e, errno, "cannot close %s", f->tmp);
	f->fd = -1;
	if (rc == 0 && fs_rename(f->tmp, f->path) != 0)
		rc = perr_sys(f->e, errno, "cannot rename %s to %s", f->tmp,
		    f->path);
	if (rc != 0)
		unlink(f->tmp);
	else if (!(f->flags & ATOMICFILE_NO_SYNC))
		rc = fs_fsync_dir_of(f->path, f->e);
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

static int
is_leftover(const char *name, const char *base)
{
	size_t blen = strlen(base), nlen = strlen(name);

	return name[0] == '.' && strncmp(name + 1, base, blen) == 0 &&
	    name[1 + blen] == '.' && nlen > blen + 5 &&
	    strcmp(name + nlen - 4, ".tmp") == 0;
}

int
atomicfile_cleanup(const char *path, struct perr *e)
{
	char dir[PATH_MAX];
	struct buf victim = BUF_INIT(PATH_MAX);
	const char *base = base_of(path);
	struct dirent *d;
	DIR *dp;

	if (fs_dirname(path, dir, sizeof(dir)) != 0)
		return perr_set(e, PERR_INVALID, "path too long: %s", path);
	if ((dp = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 :
		    perr_sys(e, errno, "cannot read directory %s", dir);
	while ((d = readdir(dp)) != NULL) {
		if (!is_leftover(d->d_name, base))
			continue;
		buf_reset(&victim);
		if (buf_adds(&victim, dir) == 0 && buf_addc(&victim, '/') == 0 &&
		    buf_adds(&victim, d->d_name) == 0)
			unlink(buf_str(&victim));
	}
	closedir(dp);
	buf_free(&victim);
	return 0;
}
