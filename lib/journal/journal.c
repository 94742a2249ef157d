/* journal.c - append, lock and scan the journal (see journal.h). */
#define _DEFAULT_SOURCE
#include "journal/journal.h"
#include "common/atomicfile.h"
#include "common/buf.h"
#include "common/crc32c.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define MAGIC_LEN 4
#define HEADER_LEN 13	/* "pr1 " + 8 hex + " " */

int
journal_lock_path(const char *path, char *out, size_t size)
{
	char name[PATH_MAX];
	size_t len;

	/* One lock for the journal, whichever symbolic link names it. */
	if (fs_follow_links(path, name, sizeof(name), NULL) != 0)
		return PERR_LIMIT;
	len = strlen(name);
	if (len + sizeof(".lock") > size)
		return PERR_LIMIT;
	memcpy(out, name, len);
	memcpy(out + len, ".lock", sizeof(".lock"));
	return 0;
}

static int
flock_wait(int fd, int op)
{
	int rc;

	do
		rc = flock(fd, op);
	while (rc != 0 && errno == EINTR);
	return rc;
}

int
journal_lock(const char *path, int exclusive, int create, struct perr *e)
{
	char lock[PATH_MAX];
	int fd, why, flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);

	if (journal_lock_path(path, lock, sizeof(lock)) != 0) {
		perr_set(e, PERR_INVALID, "journal path too long: %s", path);
		return -1;
	}
	fd = fs_open(lock, flags, 0666);
	if (fd < 0 && errno == ENOENT && create) {
		if (fs_mkdir_parents(lock, e) != 0)
			return -1;
		fd = fs_open(lock, flags, 0666);
	}
	why = errno;
	/*
	 * flock needs no write access: a reader may only be able to read it.
	 * When that fails too, the first reason is the one to give (a lock
	 * file that could not be created is missing, but EACCES is why).
	 */
	if (fd < 0 && why == EACCES)
		fd = fs_open(lock, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		perr_sys(e, why, "cannot open lock file %s", lock);
		return -1;
	}
	if (flock_wait(fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
		perr_sys(e, errno, "cannot lock %s", lock);
		close(fd);
		return -1;
	}
	return fd;
}

int
journal_frame(const char *payload, size_t len, struct buf *out,
    struct perr *e)
{
	if (memchr(payload, '\n', len) != NULL)
		return perr_set(e, PERR_INVALID, "record payload contains a "
		    "newline");
	if (len > JOURNAL_PAYLOAD_MAX)
		return perr_set(e, PERR_LIMIT, "record of %zu bytes is larger "
		    "than the limit of %d bytes", len + JOURNAL_FRAME_OVERHEAD,
		    JOURNAL_RECORD_MAX);
	if (buf_addf(out, "%s%08x ", JOURNAL_MAGIC, crc32c(0, payload, len)) ||
	    buf_add(out, payload, len) || buf_addc(out, '\n'))
		return perr_set(e, PERR_NOMEM, "out of memory framing a record");
	return 0;
}

/*
 * Open the journal for appending under the lock.  *created tells whether
 * this call made the file (its directory entry then needs an fsync).
 */
static int
open_for_append(const char *path, bool *created, struct perr *e)
{
	struct stat by_fd, by_path;
	int fd;

	*created = false;
	fd = fs_open(path, O_WRONLY | O_APPEND | O_CLOEXEC, 0);
	if (fd < 0 && errno == ENOENT) {
		fd = fs_open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
		    O_CLOEXEC, 0666);
		if (fd >= 0)
			*created = true;
		else if (errno == EEXIST)	/* another appender made it */
			fd = fs_open(path, O_WRONLY | O_APPEND | O_CLOEXEC, 0);
	}
	if (fd < 0) {
		perr_sys(e, errno, "cannot open journal %s", path);
		return -1;
	}
	/*
	 * The lock keeps compaction from swapping the file under us; check
	 * anyway that the descriptor is the file now at the path, so a record
	 * never lands in a file that has been replaced.
	 */
	if (fstat(fd, &by_fd) != 0 || stat(path, &by_path) != 0 ||
	    by_fd.st_dev != by_path.st_dev || by_fd.st_ino != by_path.st_ino) {
		perr_set(e, PERR_IO, "journal %s was replaced while opening it",
		    path);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A short write reports no errno; the usual reason is a full file system,
 * which the free space tells.  The record must not be completed by a second
 * write, so the torn piece stays for readers to skip.
 */
static const char *
short_write_reason(int fd)
{
	struct statvfs vfs;

	if (fstatvfs(fd, &vfs) == 0 && vfs.f_bavail == 0)
		return strerror(ENOSPC);
	return "short write";
}

static int
write_once(int fd, const char *path, const struct buf *rec, struct perr *e)
{
	ssize_t n;

	do
		n = write(fd, rec->p, rec->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return perr_sys(e, errno, "cannot append to journal %s", path);
	if ((size_t)n != rec->len)
		return perr_set(e, PERR_IO, "cannot append to journal %s: only "
		    "%zd of %zu bytes written: %s", path, n, rec->len,
		    short_write_reason(fd));
	return 0;
}

static int
sync_record(int fd, const char *path, bool created, struct perr *e)
{
	int rc;

#ifdef PROMRUN_UNSAFE_NO_FSYNC
	/* Only for showing that the power-cut test catches a missing sync. */
	(void)fd;
	(void)path;
	(void)created;
	(void)e;
	return 0;
#endif
	if ((rc = fs_sync(fd, 1)) != 0)
		return perr_sys(e, errno, "cannot sync journal %s", path);
	return created ? fs_fsync_dir_of(path, e) : 0;
}

int
journal_append(const char *path, const char *payload, size_t len,
    enum journal_sync sync, struct perr *e)
{
	struct buf rec = BUF_INIT(JOURNAL_RECORD_MAX);
	bool created;
	int lockfd, fd, rc;

	if ((rc = journal_frame(payload, len, &rec, e)) != 0)
		return rc;
	lockfd = journal_lock(path, 0, 1, e);
	if (lockfd < 0) {
		buf_free(&rec);
		return e != NULL ? e->code : PERR_IO;
	}
	fd = open_for_append(path, &created, e);
	if (fd < 0) {
		rc = e != NULL ? e->code : PERR_IO;
		goto out;
	}
	rc = write_once(fd, path, &rec, e);
	if (rc == 0 && sync == JOURNAL_FSYNC_ALWAYS)
		rc = sync_record(fd, path, created, e);
	if (close(fd) != 0 && rc == 0)
		rc = perr_sys(e, errno, "cannot close journal %s", path);
out:
	close(lockfd);
	buf_free(&rec);
	return rc;
}

/* --- compaction's swap --- */

/* What compactions before atomicfile.h left behind; removed the same way. */
#define OLD_TEMP_SUFFIX ".compact.tmp"

int
journal_remove_leftovers(const char *path)
{
	char lock[PATH_MAX], old[PATH_MAX];
	int fd;

	if (journal_lock_path(path, lock, sizeof(lock)) != 0 ||
	    (size_t)snprintf(old, sizeof(old), "%s" OLD_TEMP_SUFFIX, path) >=
	    sizeof(old) ||
	    (access(old, F_OK) != 0 && !atomicfile_has_leftovers(path)))
		return 0;
	fd = fs_open(lock, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		unlink(old);
		atomicfile_cleanup(path, NULL);
	}
	close(fd);
	return 0;
}

static int
copy_rest(int from, uint64_t offset, struct atomicfile *to, const char *what,
    uint64_t *copied, struct perr *e)
{
	char chunk[65536];
	ssize_t n;
	int rc;

	if (lseek(from, (off_t)offset, SEEK_SET) < 0)
		return perr_sys(e, errno, "cannot seek in journal %s", what);
	while ((n = fs_read(from, chunk, sizeof(chunk))) > 0) {
		if ((rc = atomicfile_add(to, chunk, (size_t)n)) != 0)
			return rc;
		*copied += (uint64_t)n;
	}
	if (n < 0)
		return perr_sys(e, errno, "cannot read journal %s", what);
	return 0;
}

int
journal_replace(const char *path, int fd, uint64_t keep_from,
    const struct buf *head, uint64_t *new_size, struct perr *e)
{
	struct atomicfile out;
	struct stat st;
	uint64_t size = head->len;
	int rc;

	if (fstat(fd, &st) != 0)
		return perr_sys(e, errno, "cannot stat journal %s", path);
	if ((rc = atomicfile_begin(&out, path, st.st_mode & 07777,
	    ATOMICFILE_REGULAR_ONLY, e)) != 0)
		return rc;
	if (head->len > 0)
		rc = atomicfile_add(&out, head->p, head->len);
	if (rc == 0)
		rc = copy_rest(fd, keep_from, &out, path, &size, e);
	if (rc != 0) {
		atomicfile_abort(&out);
		return rc;
	}
	if ((rc = atomicfile_commit(&out)) == 0)
		*new_size = size;
	return rc;
}

/* --- scanning --- */

#define SCAN_BUF (2 * JOURNAL_RECORD_MAX)

struct scanner {
	int fd;
	const char *what;
	char *buf;
	size_t len;		/* valid bytes in buf */
	size_t pos;		/* next unparsed byte */
	uint64_t base;		/* file offset of buf[0] */
	bool eof;
	bool in_damage;		/* inside a damaged region */
	uint64_t damage_start;	/* its file offset */
	const struct journal_scan_cb *cb;
	struct journal_stats *st;
};

static int
hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Is [p, nl) a whole valid record?  nl points at its newline. */
static bool
valid_frame(const char *p, const char *nl)
{
	uint32_t want = 0;
	size_t len = (size_t)(nl - p), i;
	int d;

	if (len < HEADER_LEN || len + 1 > JOURNAL_RECORD_MAX ||
	    memcmp(p, JOURNAL_MAGIC, MAGIC_LEN) != 0 || p[HEADER_LEN - 1] != ' ')
		return false;
	for (i = MAGIC_LEN; i < MAGIC_LEN + 8; i++) {
		if ((d = hexdigit(p[i])) < 0)
			return false;
		want = want << 4 | (uint32_t)d;
	}
	return crc32c(0, p + HEADER_LEN, len - HEADER_LEN) == want;
}

/* The next place in (from, to) where the magic starts, or NULL. */
static char *
next_magic(char *from, char *to)
{
	char *p;

	for (p = from + 1; p + MAGIC_LEN <= to; p++) {
		p = memchr(p, JOURNAL_MAGIC[0], (size_t)(to - p));
		if (p == NULL || p + MAGIC_LEN > to)
			return NULL;
		if (memcmp(p, JOURNAL_MAGIC, MAGIC_LEN) == 0)
			return p;
	}
	return NULL;
}

/*
 * Skip the damaged bytes [pos, to).  Damage next to damage is one region,
 * reported when the region ends (at the next intact record or the end of
 * the scan).  The bytes can never become a record, so a later scan may
 * resume after them: end moves too.
 */
static void
skip_damage(struct scanner *s, size_t to)
{
	if (!s->in_damage) {
		s->in_damage = true;
		s->damage_start = s->base + s->pos;
	}
	s->pos = to;
	s->st->end = s->base + s->pos;
}

static void
end_damage(struct scanner *s)
{
	uint64_t len = s->base + s->pos - s->damage_start;

	if (!s->in_damage)
		return;
	s->in_damage = false;
	s->st->damaged++;
	s->st->damaged_bytes += len;
	if (s->cb->damage != NULL)
		s->cb->damage(s->cb->ctx, s->damage_start, len);
}

/* Move unparsed bytes to the front and read more. */
static int
refill(struct scanner *s, struct perr *e)
{
	ssize_t n;

	if (s->pos > 0) {
		memmove(s->buf, s->buf + s->pos, s->len - s->pos);
		s->base += s->pos;
		s->len -= s->pos;
		s->pos = 0;
	}
	n = fs_read(s->fd, s->buf + s->len, SCAN_BUF - s->len);
	if (n < 0)
		return perr_sys(e, errno, "cannot read journal %s", s->what);
	if (n == 0)
		s->eof = true;
	s->len += (size_t)n;
	return 0;
}

/*
 * No newline within a record's maximum length: the bytes up to the next
 * magic (or all but the last few, which may start one) are damage.
 */
static void
skip_overlong(struct scanner *s)
{
	char *start = s->buf + s->pos, *end = s->buf + s->len;
	char *m = next_magic(start, end);
	size_t to = m != NULL ? (size_t)(m - s->buf) : s->len - (MAGIC_LEN - 1);

	skip_damage(s, to);
}

/* Handle the complete line [pos, nl]. */
static int
scan_line(struct scanner *s, char *nl)
{
	char *start = s->buf + s->pos, *m;
	uint64_t offset = s->base + s->pos;
	int rc;

	if (valid_frame(start, nl)) {
		end_damage(s);
		/* end passes the record only once the callback has taken it. */
		rc = s->cb->record(s->cb->ctx, start + HEADER_LEN,
		    (size_t)(nl - start) - HEADER_LEN, offset);
		if (rc != 0)
			return rc;
		s->pos = (size_t)(nl + 1 - s->buf);
		s->st->records++;
		s->st->end = s->base + s->pos;
		return 0;
	}
	m = next_magic(start, nl);
	skip_damage(s, (size_t)((m != NULL ? m : nl + 1) - s->buf));
	return 0;
}

int
journal_scan_fd(int fd, const char *what, uint64_t start,
    const struct journal_scan_cb *cb, struct journal_stats *st,
    struct perr *e)
{
	struct scanner s;
	char *nl;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	st->end = start;
	memset(&s, 0, sizeof(s));
	s.fd = fd;
	s.what = what;
	s.cb = cb;
	s.st = st;
	s.base = start;
	if (lseek(fd, (off_t)start, SEEK_SET) < 0)
		return perr_sys(e, errno, "cannot seek in journal %s", what);
	if ((s.buf = malloc(SCAN_BUF)) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory reading %s", what);
	for (;;) {
		nl = memchr(s.buf + s.pos, '\n', s.len - s.pos);
		if (nl != NULL) {
			if ((rc = scan_line(&s, nl)) != 0)
				break;
			continue;
		}
		if (s.len - s.pos >= JOURNAL_RECORD_MAX) {
			skip_overlong(&s);
			continue;
		}
		if (s.eof)
			break;
		if ((rc = refill(&s, e)) != 0)
			break;
	}
	/*
	 * Damage at the very end is held back with the tail: it may still be
	 * followed by more damage, and one region must be counted once, the
	 * same whether the journal is scanned in one go or incrementally.
	 */
	if (rc == 0 && s.in_damage) {
		st->end = s.damage_start;
		s.in_damage = false;
	}
	if (rc == 0)
		st->tail = s.base + s.len - st->end;
	free(s.buf);
	return rc;
}

int
journal_scan(const char *path, uint64_t start,
    const struct journal_scan_cb *cb, struct journal_stats *st,
    struct perr *e)
{
	int fd, rc;

	fd = fs_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0 && errno == ENOENT) {
		memset(st, 0, sizeof(*st));
		st->end = start;
		return 0;
	}
	if (fd < 0)
		return perr_sys(e, errno, "cannot open journal %s", path);
	rc = journal_scan_fd(fd, path, start, cb, st, e);
	close(fd);
	return rc;
}
