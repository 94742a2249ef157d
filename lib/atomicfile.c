/* atomicfile.c - temp file, fsync, rename, directory fsync (see atomicfile.h). */
#define _GNU_SOURCE
#include "atomicfile.h"
#include "buf.h"
#include "fsutil.h"

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
temp_name(const char *path, struct buf *out)
{
	const char *base = base_of(path);
	unsigned rnd = 0;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (unsigned)getpid() * 2654435761u;
	if (buf_add(out, path, (size_t)(base - path)) ||
	    buf_addf(out, ".%s.%ld.%08x.tmp", base, (long)getpid(), rnd))
		return PERR_LIMIT;
	return 0;
}

static int
fill_temp(int fd, const char *tmp, const void *data, size_t len,
    unsigned mode, unsigned flags, struct perr *e)
{
	if (fchmod(fd, (mode_t)mode) != 0)
		return perr_sys(e, errno, "cannot set mode of %s", tmp);
	if (fs_write_all(fd, data, len) != 0)
		return perr_sys(e, errno, "cannot write %s", tmp);
	if (!(flags & ATOMICFILE_NO_SYNC) && fs_sync(fd, 0) != 0)
		return perr_sys(e, errno, "cannot fsync %s", tmp);
	return 0;
}

int
atomicfile_write(const char *path, const void *data, size_t len,
    unsigned mode, unsigned flags, struct perr *e)
{
	struct buf tmp = BUF_INIT(PATH_MAX);
	int fd, rc;

	if (temp_name(path, &tmp) != 0)
		return perr_set(e, PERR_INVALID, "path too long: %s", path);
	fd = fs_open(buf_str(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		rc = perr_sys(e, errno, "cannot create %s", buf_str(&tmp));
		buf_free(&tmp);
		return rc;
	}
	rc = fill_temp(fd, buf_str(&tmp), data, len, mode, flags, e);
	if (close(fd) != 0 && rc == 0)
		rc = perr_sys(e, errno, "cannot close %s", buf_str(&tmp));
	if (rc == 0 && fs_rename(buf_str(&tmp), path) != 0)
		rc = perr_sys(e, errno, "cannot rename %s to %s", buf_str(&tmp),
		    path);
	if (rc != 0)
		unlink(buf_str(&tmp));
	else if (!(flags & ATOMICFILE_NO_SYNC))
		rc = fs_fsync_dir_of(path, e);
	buf_free(&tmp);
	return rc;
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
