/* fsutil.c - file-system helpers (see fsutil.h). */
#define _DEFAULT_SOURCE
#include "common/fsutil.h"
#include "common/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
fs_dirname(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t len;

	if (slash == NULL) {
		if (size < 2)
			return PERR_LIMIT;
		memcpy(out, ".", 2);
		return 0;
	}
	while (slash > path && slash[-1] == '/')
		slash--;
	len = slash == path ? 1 : (size_t)(slash - path);
	if (len + 1 > size)
		return PERR_LIMIT;
	memcpy(out, path, len);
	out[len] = '\0';
	return 0;
}

/* Some systems report EACCES rather than EEXIST for a directory we cannot write. */
static int
is_dir(const char *path)
{
	struct stat st;
	int saved = errno, rc;

	rc = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	errno = saved;
	return rc;
}

static int
path_too_long(const char *path, struct perr *e)
{
	return perr_set(e, PERR_INVALID, "path too long: %s", path);
}

/*
 * Where the link cur, holding target, leads: target itself when absolute,
 * else target read from cur's directory, as the kernel reads it.
 */
static int
join_target(const char *cur, const char *target, struct buf *next)
{
	const char *slash = strrchr(cur, '/');

	buf_reset(next);
	if (target[0] != '/' && slash != NULL &&
	    buf_add(next, cur, (size_t)(slash - cur) + 1) != 0)
		return PERR_LIMIT;
	return buf_adds(next, target);
}

int
fs_follow_links(const char *path, char *out, size_t size, struct perr *e)
{
	struct buf cur = BUF_INIT(PATH_MAX - 1), next = BUF_INIT(PATH_MAX - 1);
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int hops, rc = 0;

	if (buf_adds(&cur, path) != 0)
		return path_too_long(path, e);
	for (hops = 0; rc == 0; hops++) {
		if (lstat(buf_str(&cur), &st) != 0 || !S_ISLNK(st.st_mode))
			break;
		if (hops == FS_MAX_LINKS) {
			rc = perr_sys(e, ELOOP, "cannot write %s", path);
		} else if ((n = readlink(buf_str(&cur), target,
		    sizeof(target))) < 0) {
			rc = perr_sys(e, errno, "cannot read the symbolic "
			    "link %s", buf_str(&cur));
		} else if ((size_t)n == sizeof(target)) {
			rc = path_too_long(buf_str(&cur), e);
		} else {
			target[n] = '\0';
			if (join_target(buf_str(&cur), target, &next) != 0)
				rc = path_too_long(target, e);
			buf_reset(&cur);
			if (rc == 0 && buf_adds(&cur, buf_str(&next)) != 0)
				rc = path_too_long(buf_str(&next), e);
		}
	}
	if (rc == 0 && (size_t)snprintf(out, size, "%s", buf_str(&cur)) >=
	    size)
		rc = path_too_long(buf_str(&cur), e);
	buf_free(&cur);
	buf_free(&next);
	return rc;
}

int
fs_mkdir_parents(const char *path, struct perr *e)
{
	char dir[PATH_MAX];
	size_t i;

	if (fs_dirname(path, dir, sizeof(dir)) != 0)
		return perr_set(e, PERR_INVALID, "path too long: %s", path);
	/* Walk down from the root, creating each missing component. */
	for (i = 1; ; i++) {
		char c = dir[i];

		if (c != '/' && c != '\0')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0777) != 0 && errno != EEXIST && !is_dir(dir))
			return perr_sys(e, errno, "cannot create directory %s",
			    dir);
		dir[i] = c;
		if (c == '\0')
			return 0;
	}
}

int
fs_fsync_dir_of(const char *path, struct perr *e)
{
	char dir[PATH_MAX];
	int fd, rc = 0;

	if (fs_dirname(path, dir, sizeof(dir)) != 0)
		return perr_set(e, PERR_INVALID, "path too long: %s", path);
	fd = fs_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0)
		return perr_sys(e, errno, "cannot open directory %s", dir);
	if (fs_sync(fd, 0) != 0)
		rc = perr_sys(e, errno, "cannot fsync directory %s", dir);
	close(fd);
	return rc;
}

int
fs_open(const char *path, int flags, mode_t mode)
{
	int fd;

	do
		fd = open(path, flags, mode);
	while (fd < 0 && errno == EINTR);
	return fd;
}

ssize_t
fs_read(int fd, void *p, size_t n)
{
	ssize_t got;

	do
		got = read(fd, p, n);
	while (got < 0 && errno == EINTR);
	return got;
}

int
fs_write_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	ssize_t n;

	while (len > 0) {
		n = write(fd, c, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fs_sync(int fd, int data_only)
{
	int rc;

	do
		rc = data_only ? fdatasync(fd) : fsync(fd);
	while (rc != 0 && errno == EINTR);
	return rc;
}

int
fs_rename(const char *from, const char *to)
{
	int rc;

	do
		rc = rename(from, to);
	while (rc != 0 && errno == EINTR);
	return rc;
}
