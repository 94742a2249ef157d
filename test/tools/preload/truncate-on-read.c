/*
 * truncate-on-read.so - an LD_PRELOAD shim for tests: the file named by
 * $TRUNCATE_ON_READ is truncated to $TRUNCATE_TO bytes (default 0) right
 * after the program's first read(2) from it returns, so the program sees
 * the file change under it at a known point, every time: a test of what
 * a reader does with a file truncated while it reads, without a race.
 *
 * The file is known by its device and inode, taken on the first read.
 * Only read(2) is watched: a program that reads with stdio (glibc calls
 * its own read inside) or maps the file is not.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

ssize_t read(int fd, void *p, size_t n);

static int done;

static int
is_target(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

ssize_t
read(int fd, void *p, size_t n)
{
	static ssize_t (*real)(int, void *, size_t);
	const char *path = getenv("TRUNCATE_ON_READ");
	const char *to = getenv("TRUNCATE_TO");
	ssize_t got;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "read");
	got = real(fd, p, n);
	if (!done && path != NULL && got > 0 && is_target(fd, path)) {
		done = 1;
		if (truncate(path, to != NULL ? atol(to) : 0) != 0)
			abort();	/* the test would mean nothing */
	}
	return got;
}
