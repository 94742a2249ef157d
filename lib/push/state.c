/* state.c - what was last sent to a destination (see state.h). */
#define _POSIX_C_SOURCE 200809L
#include "push/state.h"
#include "common/atomicfile.h"
#include "common/crc32c.h"
#include "common/fsutil.h"
#include "common/latch.h"
#include "common/mem.h"
#include "common/text.h"
#include "journal/journal.h"
#include "promql/quote.h"
#include "push/snappyapi.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <threads.h>
#include <unistd.h>

#define MAGIC_TEXT "promrun-push-state 1 "
#define MAGIC "promrun-push-state 2 "
#define REC_BYTES 24		/* a record's TS, START and VALUE */

int
state_file_name(struct buf *out, const char *protocol, const char *url,
    const char *destination)
{
	const char *host = strstr(url, "://");
	uint32_t crc = crc32c(0, destination, strlen(destination));
	size_t i;
	int rc;

	host = host != NULL ? host + 3 : url;
	if ((rc = buf_adds(out, protocol)) != 0 || (rc = buf_addc(out, '-')) != 0)
		return rc;
	/* The host and port: readable, but only safe characters. */
	for (i = 0; i < 64 && host[i] != '\0' && host[i] != '/'; i++) {
		char c = host[i];
		bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-';

		if ((rc = buf_addc(out, safe ? c : '_')) != 0)
			return rc;
	}
	return buf_addf(out, "-%08x.state", (unsigned)crc);
}

const struct state_rec *
state_lookup(const struct push_state *st, const char *key, size_t len)
{
	size_t i;

	return st->indexed && hmap_find(&st->index, key, len, &i) ?
	    &st->entries[i].rec : NULL;
}

long long
state_next_ts(const struct state_rec *prev, long long t, double v)
{
	if (prev == NULL || t > prev->ts)
		return t;
	if (memcmp(&v, &prev->value, sizeof(v)) == 0)
		return prev->ts;
	return prev->ts + 1;
}

/* A fault of the file, at a line of version 1 or a record of version 2. */
static int
corrupt(struct push_state *st, unsigned at, const char *why,
    struct perr *e)
{
	if (st->binary)
		return perr_set(e, PERR_CORRUPT, "%s: record %u: %s: remove the "
		    "file to start afresh (the next push then sends no "
		    "staleness markers)", st->path, at, why);
	return perr_set(e, PERR_CORRUPT, "%s:%u: %s: remove the file to start "
	    "afresh (the next push then sends no staleness markers)",
	    st->path, at, why);
}

/* A fault of a version 2 file as a whole (its checksum, its compression). */
static int
damaged(struct push_state *st, const char *why, struct perr *e)
{
	return perr_set(e, PERR_CORRUPT, "%s: damaged (%s): remove the file to "
	    "start afresh (the next push then sends no staleness markers)",
	    st->path, why);
}

/* Where entry i is, in messages: its line (version 1) or record. */
static unsigned
place_of(const struct push_state *st, size_t i)
{
	return (unsigned)i + (st->binary ? 1 : 2);
}

/*
 * Hash the first n entries into the index, in the file's order: the
 * second of two entries with one key is a corrupt file, named by its line.
 */
static int
index_entries(struct push_state *st, size_t n, struct perr *e)
{
	size_t i, *slot;
	bool found;

	hmap_free(&st->index);
	st->indexed = false;
	for (i = 0; i < n; i++) {
		if (hmap_upsert(&st->index, st->entries[i].key,
		    st->entries[i].key_len, &slot, &found) != 0)
			return perr_set(e, PERR_NOMEM, "out of memory");
		if (found)
			return corrupt(st, place_of(st, i), "a series given "
			    "twice", e);
		*slot = i;
	}
	st->indexed = true;
	return 0;
}

/*
 * A decimal [-]D+ ending at a blank, the form state_commit writes: read
 * here by hand; anything else, and more than 18 digits, through strtoll,
 * whose rules the file has always been read by.
 */
static long long
read_decimal(const char *s, char **end)
{
	const char *p = s + (*s == '-');
	unsigned long long v = 0;
	size_t n;

	for (n = 0; n < 19 && p[n] >= '0' && p[n] <= '9'; n++)
		v = v * 10 + (unsigned)(p[n] - '0');
	if (n == 0 || n > 18 || p[n] != ' ')
		return strtoll(s, end, 10);
	*end = (char *)p + n;
	return *s == '-' ? -(long long)v : (long long)v;
}

/* 16 hex digits ending at a blank by hand; anything else through strtoull. */
static uint64_t
read_hex64(const char *s, char **end)
{
	uint64_t v = 0;
	int i, d;

	for (i = 0; i < 16 && (d = pq_hexval((unsigned char)s[i])) >= 0; i++)
		v = v << 4 | (uint64_t)d;
	if (i < 16 || s[16] != ' ')
		return strtoull(s, end, 16);
	*end = (char *)s + 16;
	return v;
}

/* "TS START VALUE KEY" of len bytes, NUL-terminated, into en. */
static int
parse_line(struct push_state *st, char *line, size_t len, unsigned n,
    struct state_entry *en, struct perr *e)
{
	char *start = line, *end;
	uint64_t bits;

	errno = 0;
	en->rec.ts = read_decimal(line, &end);
	if (end == line || *end != ' ' || errno != 0)
		return corrupt(st, n, "bad timestamp", e);
	line = end + 1;
	en->rec.start = read_decimal(line, &end);
	if (end == line || *end != ' ' || errno != 0)
		return corrupt(st, n, "bad start time", e);
	line = end + 1;
	bits = read_hex64(line, &end);
	if (end - line != 16 || *end != ' ' || end[1] == '\0' || errno != 0)
		return corrupt(st, n, "bad value", e);
	memcpy(&en->rec.value, &bits, sizeof(bits));
	en->key = end + 1;
	en->key_len = len - (size_t)(en->key - start);
	en->seen = false;
	return 0;
}

/*
 * Version 1's entries, each pointing into the text the state keeps.  A
 * fault at a line is named unless a series given twice comes before it:
 * the first fault in the file, as when every line was checked in turn.
 */
static int
parse_entries(struct push_state *st, char *text, size_t len,
    struct perr *e)
{
	size_t cap = text_count_lines(text, len);
	char *line, *nl;
	unsigned n = 0;
	int rc = 0, dup;

	if (cap > 0 && (st->entries = malloc(cap * sizeof(*st->entries))) ==
	    NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	for (line = text; rc == 0 && *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL) {
			rc = corrupt(st, n + 1, "no final newline", e);
			break;
		}
		*nl = '\0';
		if (++n == 1) {
			if (strncmp(line, MAGIC_TEXT, strlen(MAGIC_TEXT)) != 0 ||
			    strcmp(line + strlen(MAGIC_TEXT), st->destination) !=
			    0)
				rc = corrupt(st, n, "not the state of this "
				    "destination", e);
			continue;
		}
		if ((rc = parse_line(st, line, (size_t)(nl - line), n,
		    &st->entries[st->n], e)) == 0)
			st->n++;
	}
	/* A series given twice before the fault is the file's first. */
	if (rc == PERR_CORRUPT && st->n > 1 &&
	    (dup = index_entries(st, st->n, e)) != 0)
		return dup;
	return rc;
}

/* Little-endian, spelled out so that compilers make one load or store. */
static uint32_t
get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get_le64(const unsigned char *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void
put_le64(unsigned char *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/*
 * Version 2's body: COUNT, then per series TS, START, VALUE and its key
 * with a NUL (state.h); the entries point into it.  A series given twice
 * before a fault is the file's first fault, as in version 1.
 */
static int
parse_records(struct push_state *st, char *body, size_t len,
    struct perr *e)
{
	const unsigned char *p = (const unsigned char *)body;
	size_t at = 8, count, i, room;
	struct state_entry *en;
	uint64_t bits;
	char *nul;
	int rc = 0, dup;

	if (len < 8 || (count = get_le64(p)) > (len - 8) / (REC_BYTES + 2))
		return damaged(st, "its count does not match its records", e);
	if (count > 0 && (st->entries = malloc(count * sizeof(*st->entries))) ==
	    NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	for (i = 0; i < count; i++) {
		room = len - at;
		if (room < REC_BYTES + 2 || (nul = memchr(body + at + REC_BYTES,
		    '\0', room - REC_BYTES)) == NULL) {
			rc = corrupt(st, (unsigned)i + 1, "cut short", e);
			break;
		}
		en = &st->entries[st->n];
		en->rec.ts = (long long)get_le64(p + at);
		en->rec.start = (long long)get_le64(p + at + 8);
		bits = get_le64(p + at + 16);
		memcpy(&en->rec.value, &bits, sizeof(bits));
		en->key = body + at + REC_BYTES;
		en->key_len = (size_t)(nul - en->key);
		en->seen = false;
		if (en->key_len == 0) {
			rc = corrupt(st, (unsigned)i + 1, "no series key", e);
			break;
		}
		st->n++;
		at += REC_BYTES + en->key_len + 1;
	}
	if (rc == 0 && at != len)
		rc = damaged(st, "bytes after its last record", e);
	if (rc == PERR_CORRUPT && st->n > 1 &&
	    (dup = index_entries(st, st->n, e)) != 0)
		return dup;
	return rc;
}

/*
 * Version 2 after its first line: the snappy block, checked against its
 * CRC-32C, uncompressed into the body st keeps.
 */
static int
parse_binary(struct push_state *st, const char *z, size_t len,
    struct perr *e)
{
	const struct snappyapi *snappy;
	size_t size;
	int rc;

	st->binary = true;
	if (len < 4)
		return damaged(st, "cut short", e);
	len -= 4;
	if (crc32c(0, z, len) != get_le32((const unsigned char *)z + len))
		return damaged(st, "its checksum does not match", e);
	if ((rc = snappyapi_load(&snappy, e)) != 0)
		return rc;
	if (snappy->uncompressed_length(z, len, &size) != SNAPPY_OK ||
	    size > STATE_MAX_FILE)
		return damaged(st, "its compressed block does not read", e);
	if ((st->text = malloc(size > 0 ? size : 1)) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	/* Mapped in one call, not a fault a page as snappy writes it. */
	mem_prefault(st->text, size);
	if (snappy->uncompress(z, len, st->text, &size) != SNAPPY_OK)
		return damaged(st, "its compressed block does not read", e);
	return parse_records(st, st->text, size, e);
}

/*
 * The file (len bytes, NUL-terminated, malloc'd) read into st, which keeps
 * what its entries point into: the file itself (version 1) or its body
 * (version 2, the file then freed).
 */
static int
parse_file(struct push_state *st, char *file, size_t len, struct perr *e)
{
	size_t magic = strlen(MAGIC), dest = strlen(st->destination);
	int rc;

	if (len > magic + dest && memcmp(file, MAGIC, magic) == 0 &&
	    memcmp(file + magic, st->destination, dest) == 0 &&
	    file[magic + dest] == '\n') {
		rc = parse_binary(st, file + magic + dest + 1,
		    len - magic - dest - 1, e);
		free(file);
		return rc;
	}
	/* Version 1 (or another destination's file: its first line says). */
	st->text = file;
	return parse_entries(st, file, len, e);
}

static int
load(struct push_state *st, struct perr *e)
{
	struct buf text = BUF_INIT(STATE_MAX_FILE);
	size_t len;
	int fd, rc;

	if ((fd = fs_open(st->path, O_RDONLY | O_CLOEXEC, 0)) < 0)
		return errno == ENOENT ? 0 : perr_sys(e, errno, "cannot read "
		    "%s", st->path);
	if ((rc = fs_read_all(fd, &text)) == PERR_IO)
		rc = perr_sys(e, errno, "cannot read %s", st->path);
	else if (rc != 0)
		rc = perr_set(e, PERR_CORRUPT, "%s is larger than %u MiB",
		    st->path, STATE_MAX_FILE >> 20);
	close(fd);
	if (rc != 0 || text.p == NULL) {
		buf_free(&text);
		return rc;
	}
	len = text.len;
	return parse_file(st, buf_take(&text), len, e);
}

/* The state read ahead: a push_state of its own, filled by a thread. */
struct state_ahead {
	struct push_state st;	/* its path, destination, text, entries */
	struct stat file;	/* the file read, as it was then */
	int rc;			/* 0: read and parsed; else not to be used */
	thrd_t thread;
	struct latch done;	/* told by the thread, not joined (latch.h) */
};

static int
read_ahead(void *arg)
{
	struct state_ahead *a = arg;
	struct buf text = BUF_INIT(STATE_MAX_FILE);
	size_t len;
	int fd;

	a->rc = PERR_IO;
	if ((fd = fs_open(a->st.path, O_RDONLY | O_CLOEXEC, 0)) >= 0) {
		if (fstat(fd, &a->file) == 0 && fs_read_all(fd, &text) == 0 &&
		    text.p != NULL) {
			len = text.len;
			a->rc = parse_file(&a->st, buf_take(&text), len, NULL);
		}
		close(fd);
	}
	buf_free(&text);
	latch_open(&a->done);
	return 0;
}

static void
free_ahead(struct state_ahead *a)
{
	latch_wait(&a->done);
	thrd_join(a->thread, NULL);
	latch_destroy(&a->done);
	free(a->st.path);
	free(a->st.destination);
	free(a->st.entries);
	free(a->st.text);
	hmap_free(&a->st.index);
	free(a);
}

struct state_ahead *
state_read_ahead(const char *dir, const char *name, const char *destination)
{
	struct buf path = BUF_INIT(4096);
	struct state_ahead *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	if (latch_init(&a->done, false) != 0) {
		free(a);
		return NULL;
	}
	if (buf_addf(&path, "%s/%s", dir, name) != 0 ||
	    (a->st.destination = strdup(destination)) == NULL ||
	    (a->st.path = buf_take(&path)) == NULL ||
	    thrd_create(&a->thread, read_ahead, a) != thrd_success) {
		buf_free(&path);
		free(a->st.destination);
		free(a->st.path);
		latch_destroy(&a->done);
		free(a);
		return NULL;
	}
	return a;
}

bool
state_ahead_found(struct state_ahead *a)
{
	if (a == NULL)
		return false;
	latch_wait(&a->done);
	return a->rc == 0;
}

void
state_ahead_free(struct state_ahead *a)
{
	if (a != NULL)
		free_ahead(a);
}

/* What the thread read, if the file is still that one: st takes it. */
static bool
take_ahead(struct push_state *st, struct state_ahead *a)
{
	struct stat now;

	latch_wait(&a->done);
	if (a->rc != 0 || strcmp(a->st.path, st->path) != 0 ||
	    strcmp(a->st.destination, st->destination) != 0 ||
	    stat(st->path, &now) != 0 || now.st_dev != a->file.st_dev ||
	    now.st_ino != a->file.st_ino || now.st_size != a->file.st_size ||
	    now.st_mtim.tv_sec != a->file.st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != a->file.st_mtim.tv_nsec ||
	    now.st_ctim.tv_sec != a->file.st_ctim.tv_sec ||
	    now.st_ctim.tv_nsec != a->file.st_ctim.tv_nsec)
		return false;
	st->text = a->st.text;
	st->entries = a->st.entries;
	st->n = a->st.n;
	st->binary = a->st.binary;
	a->st.text = NULL;
	a->st.entries = NULL;
	return true;
}

/* state_open but the loading: the path, the directory, the lock. */
static int
open_locked(struct push_state *st, const char *dir, const char *name,
    const char *destination, struct perr *e)
{
	struct buf path = BUF_INIT(4096);

	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	if (buf_addf(&path, "%s/%s", dir, name) != 0)
		return perr_set(e, PERR_INVALID, "state directory path too "
		    "long: %s", dir);
	st->path = buf_take(&path);
	if ((st->destination = strdup(destination)) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	/* The directory is ours: nobody else need read what we sent. */
	if (mkdir(dir, 0700) != 0 && errno == ENOENT &&
	    fs_mkdir_parents(dir, e) != 0)
		return PERR_IO;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return perr_sys(e, errno, "cannot create the state directory "
		    "%s", dir);
	if ((st->lock_fd = journal_lock(st->path, 1, 1, e)) < 0)
		return e != NULL ? e->code : PERR_IO;
	/*
	 * A push killed while its request was out leaves the new file it
	 * was writing beside the state (state_write): ours to remove, under
	 * the lock.
	 */
	(void)atomicfile_cleanup(st->path, NULL);
	return 0;
}

int
state_open(struct push_state *st, const char *dir, const char *name,
    const char *destination, struct perr *e)
{
	return state_open_ahead(st, dir, name, destination, NULL, e);
}

int
state_open_ahead(struct push_state *st, const char *dir, const char *name,
    const char *destination, struct state_ahead *ahead, struct perr *e)
{
	int rc = open_locked(st, dir, name, destination, e);

	if (rc == 0 && (ahead == NULL || !take_ahead(st, ahead)))
		rc = load(st, e);
	return rc;
}

static int
by_key(const void *a, const void *b)
{
	const struct state_entry *x = *(const struct state_entry *const *)a;
	const struct state_entry *y = *(const struct state_entry *const *)b;

	return strcmp(x->key, y->key);
}

static bool
same_key(const struct state_entry *en, const struct series *s)
{
	return en->key_len == s->key_len &&
	    memcmp(en->key, s->key, s->key_len) == 0;
}

int
state_match(struct push_state *st, const struct series_set *set,
    const struct state_rec **prev, struct perr *e)
{
	size_t i, j;
	int rc;

	for (i = 0; i < set->nseries; i++) {
		prev[i] = NULL;
		if (!st->indexed && i < st->n &&
		    same_key(&st->entries[i], &set->series[i])) {
			st->entries[i].seen = true;
			prev[i] = &st->entries[i].rec;
			continue;
		}
		/* Out of step: every entry hashed (and checked) once. */
		if (!st->indexed && (rc = index_entries(st, st->n, e)) != 0)
			return rc;
		if (hmap_find(&st->index, set->series[i].key,
		    set->series[i].key_len, &j)) {
			st->entries[j].seen = true;
			prev[i] = &st->entries[j].rec;
		}
	}
	/*
	 * Entries beyond the series: gone since, and to be checked for a
	 * series given twice (those matched in place are the set's own
	 * series, which are all different).
	 */
	if (!st->indexed && st->n > set->nseries)
		return index_entries(st, st->n, e);
	return 0;
}

int
state_vanished(const struct push_state *st, struct buf *keys)
{
	const struct state_entry **gone;
	size_t i, n = 0;
	int rc = 0;

	/* Counted first: mostly none is gone, and nothing is allocated. */
	for (i = 0; i < st->n; i++)
		n += !st->entries[i].seen;
	if (n == 0)
		return 0;
	if ((gone = malloc(n * sizeof(*gone))) == NULL)
		return PERR_NOMEM;
	for (i = 0, n = 0; i < st->n; i++)
		if (!st->entries[i].seen)
			gone[n++] = &st->entries[i];
	qsort(gone, n, sizeof(*gone), by_key);
	for (i = 0; rc == 0 && i < n; i++)
		if ((rc = buf_add(keys, gone[i]->key, gone[i]->key_len)) == 0)
			rc = buf_addc(keys, '\n');
	free(gone);
	return rc;
}

/* v in decimal, backwards from end; the start of the digits. */
static char *
put_decimal(char *end, long long v)
{
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v :
	    (unsigned long long)v;

	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		*--end = '-';
	return end;
}

/*
 * A number's decimal text, kept: the series of a push mostly share their
 * timestamp (the render's) and start, which are then converted once.
 */
struct numtext {
	long long v;
	size_t len;
	bool set;
	char s[24];
};

static size_t
put_number(char *out, struct numtext *t, long long v)
{
	char *p;

	if (!t->set || t->v != v) {
		p = put_decimal(t->s + sizeof(t->s), v);
		t->len = (size_t)(t->s + sizeof(t->s) - p);
		memmove(t->s, p, t->len);
		t->v = v;
		t->set = true;
	}
	memcpy(out, t->s, t->len);
	return t->len;
}

/*
 * "TS START VALUE " of one record into out, as "%lld %lld %016llx "
 * would write it, without printf's cost (a state has a line per series);
 * nums[2] keeps the last TS and START.  Returns the length, at most
 * STATE_REC_MAX.
 */
#define STATE_REC_MAX (20 + 1 + 20 + 1 + 16 + 1)
static size_t
format_rec(char *out, const struct state_rec *r, struct numtext nums[2])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t bits;
	size_t len;
	int i;

	len = put_number(out, &nums[0], r->ts);
	out[len++] = ' ';
	len += put_number(out + len, &nums[1], r->start);
	out[len++] = ' ';
	memcpy(&bits, &r->value, sizeof(bits));
	for (i = 15; i >= 0; i--, bits >>= 4)
		out[len + (size_t)i] = hex[bits & 15];
	len += 16;
	out[len++] = ' ';
	return len;
}

/* The new file: its block made first, written when the file is made. */
struct state_writer {
	struct atomicfile f;
	struct snappy_stream z;
};

/* A record: TS, START, VALUE, the key and its NUL (state.h). */
static int
put_record(struct snappy_stream *z, const struct state_rec *r,
    const char *key, size_t key_len)
{
	unsigned char *p;
	uint64_t bits;

	if ((p = (unsigned char *)snappy_stream_room(z, REC_BYTES + key_len +
	    1)) == NULL)
		return PERR_NOMEM;
	put_le64(p, (uint64_t)r->ts);
	put_le64(p + 8, (uint64_t)r->start);
	memcpy(&bits, &r->value, sizeof(bits));
	put_le64(p + 16, bits);
	memcpy(p + REC_BYTES, key, key_len);
	p[REC_BYTES + key_len] = '\0';
	return snappy_stream_wrote(z, REC_BYTES + key_len + 1);
}

/* Bytes of the body for set's series, or SIZE_MAX past STATE_MAX_FILE. */
static size_t
body_size(const struct series_set *set)
{
	size_t total = 8, i;

	for (i = 0; i < set->nseries; i++) {
		if (set->series[i].key_len > STATE_MAX_FILE)
			return SIZE_MAX;
		total += REC_BYTES + set->series[i].key_len + 1;
		if (total > STATE_MAX_FILE)
			return SIZE_MAX;
	}
	return total;
}

/* The body compressed: the number of series, then their records. */
static int
make_block(struct snappy_stream *z, const struct series_set *set,
    const struct state_rec *recs)
{
	unsigned char count[8];
	size_t i;
	int rc;

	put_le64(count, set->nseries);
	rc = snappy_stream_add(z, count, sizeof(count));
	for (i = 0; rc == 0 && i < set->nseries; i++)
		rc = put_record(z, &recs[i], set->series[i].key,
		    set->series[i].key_len);
	return rc;
}

/* The file: its first line, the block, the block's CRC-32C. */
static int
write_file(struct state_writer *w, const struct push_state *st,
    const char *block, size_t len)
{
	struct buf line = BUF_INIT(STATE_MAX_FILE);
	unsigned char crc[4];
	int rc;

	put_le32(crc, crc32c(0, block, len));
	if ((rc = buf_adds(&line, MAGIC)) != 0 ||
	    (rc = buf_adds(&line, st->destination)) != 0 ||
	    (rc = buf_addc(&line, '\n')) != 0)
		return perr_set(w->f.e, rc, "out of memory writing %s", st->path);
	if ((rc = atomicfile_add(&w->f, line.p, line.len)) == 0 &&
	    (rc = atomicfile_add(&w->f, block, len)) == 0)
		rc = atomicfile_add(&w->f, crc, sizeof(crc));
	buf_free(&line);
	return rc;
}

/*
 * The file being replaced, given a second name (".NAME.prev" beside it)
 * while the receiver works, or removed (keep false).  The rename that puts
 * the new file in place then does not free the old one's blocks, which a
 * file system does when a file's last name goes (0.4 to 2 ms here, on the
 * way from the receiver's answer to the exit); the next push removes that
 * name first, here, under the lock as now.  A hint: failing, the rename
 * frees them as before.
 */
static void
prev_name(const char *path, bool keep)
{
	struct buf prev = BUF_INIT(PATH_MAX);
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;

	if (buf_addf(&prev, "%.*s.%s.prev", (int)(base - path), path, base) ==
	    0) {
		(void)unlink(buf_str(&prev));
		if (keep)
			(void)link(path, buf_str(&prev));
	}
	buf_free(&prev);
}

/* The file's entries and text let go (state_write, state_close). */
static void
release_entries(struct push_state *st)
{
	free(st->entries);
	free(st->text);
	hmap_free(&st->index);
	st->entries = NULL;
	st->text = NULL;
	st->n = 0;
	st->indexed = false;
}

int
state_write(struct push_state *st, const struct series_set *set,
    const struct state_rec *recs, struct perr *e)
{
	struct state_writer *w;
	const char *block;
	size_t size, len;
	int rc;

	state_drop(st);
	/* A state past the limit is refused before a file is made. */
	if ((size = body_size(set)) == SIZE_MAX)
		return perr_set(e, PERR_LIMIT, "the state for %s is too large",
		    st->path);
	if ((w = malloc(sizeof(*w))) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory writing the state "
		    "for %s", st->path);
	if ((rc = snappy_stream_begin(&w->z, size, e)) != 0)
		goto fail;
	if ((rc = make_block(&w->z, set, recs)) != 0 ||
	    (rc = snappy_stream_end(&w->z, &block, &len)) != 0) {
		rc = perr_set(e, rc, "out of memory writing the state for %s",
		    st->path);
		goto fail;
	}
	/*
	 * Not synced: after a crash the old state or an empty one is read,
	 * which costs at most one out-of-order refusal or one missed
	 * staleness marker; an fsync would cost every push.
	 */
	if ((rc = atomicfile_begin(&w->f, st->path, 0600, ATOMICFILE_NO_SYNC,
	    e)) != 0)
		goto fail;
	if ((rc = write_file(w, st, block, len)) != 0) {
		atomicfile_abort(&w->f);
		goto fail;
	}
	snappy_stream_free(&w->z);
	/*
	 * The rename that puts the file in place would have the file system
	 * allocate and start writing it (ext4 does on a replace): started
	 * here, while nobody waits; and the file closed here too, not on
	 * the way to the exit (a close that soon after the write can take
	 * milliseconds).  And the old state, matched already, is not needed
	 * any more.
	 */
	fs_writeback_start(w->f.fd);
	if ((rc = atomicfile_finish(&w->f)) != 0) {
		atomicfile_abort(&w->f);
		goto fail;
	}
	prev_name(st->path, true);
	release_entries(st);
	st->pending = w;
	return 0;
fail:
	snappy_stream_free(&w->z);
	free(w);
	return rc;
}

int
state_put(struct push_state *st, struct perr *e)
{
	struct state_writer *w = st->pending;
	int rc;

	if (w == NULL)
		return 0;
	st->pending = NULL;
	w->f.e = e;	/* not state_write's, which may be gone */
	rc = atomicfile_commit(&w->f);
	free(w);
	return rc;
}

void
state_drop(struct push_state *st)
{
	if (st->pending == NULL)
		return;
	prev_name(st->path, false);
	atomicfile_abort(&st->pending->f);
	free(st->pending);
	st->pending = NULL;
}

int
state_commit(struct push_state *st, const struct series_set *set,
    const struct state_rec *recs, struct perr *e)
{
	int rc;

	if ((rc = state_write(st, set, recs, e)) != 0)
		return rc;
	return state_put(st, e);
}

/* The destination on the first line of a state file of either version. */
static int
file_destination(struct push_state *st, const char *file, size_t len,
    struct perr *e)
{
	const char *nl = memchr(file, '\n', len), *magic = NULL;

	if (nl != NULL && strncmp(file, MAGIC, strlen(MAGIC)) == 0)
		magic = MAGIC;
	else if (nl != NULL && strncmp(file, MAGIC_TEXT, strlen(MAGIC_TEXT)) == 0)
		magic = MAGIC_TEXT;
	if (magic == NULL || nl < file + strlen(magic))
		return corrupt(st, 1, "not a state file", e);
	st->destination = strndup(file + strlen(magic),
	    (size_t)(nl - file) - strlen(magic));
	return st->destination != NULL ? 0 : perr_set(e, PERR_NOMEM, "out of "
	    "memory");
}

int
state_dump(const char *path, struct buf *out, struct perr *e)
{
	struct buf file = BUF_INIT(STATE_MAX_FILE);
	struct numtext nums[2];
	struct push_state st;
	char line[STATE_REC_MAX];
	size_t i, len;
	int fd, rc;

	memset(&st, 0, sizeof(st));
	st.lock_fd = -1;
	if ((st.path = strdup(path)) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	if ((fd = fs_open(path, O_RDONLY | O_CLOEXEC, 0)) < 0) {
		rc = perr_sys(e, errno, "cannot read %s", path);
		goto out;
	}
	rc = fs_read_all(fd, &file);
	close(fd);
	if (rc != 0) {
		rc = perr_set(e, rc == PERR_IO ? PERR_IO : PERR_CORRUPT,
		    "cannot read %s", path);
		goto out;
	}
	len = file.len;
	if (file.p == NULL) {
		rc = corrupt(&st, 1, "not a state file", e);
		goto out;
	}
	if ((rc = file_destination(&st, file.p, len, e)) != 0)
		goto out;
	if ((rc = parse_file(&st, buf_take(&file), len, e)) != 0)
		goto out;
	memset(nums, 0, sizeof(nums));
	if ((rc = buf_adds(out, MAGIC_TEXT)) != 0 ||
	    (rc = buf_adds(out, st.destination)) != 0 ||
	    (rc = buf_addc(out, '\n')) != 0)
		goto nomem;
	for (i = 0; i < st.n; i++)
		if ((rc = buf_add(out, line, format_rec(line,
		    &st.entries[i].rec, nums))) != 0 ||
		    (rc = buf_add(out, st.entries[i].key,
		    st.entries[i].key_len)) != 0 ||
		    (rc = buf_addc(out, '\n')) != 0)
			goto nomem;
	goto out;
nomem:
	rc = perr_set(e, rc, "out of memory");
out:
	buf_free(&file);
	state_close(&st);
	return rc;
}

void
state_close(struct push_state *st)
{
	state_drop(st);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st->path);
	free(st->destination);
	free(st->entries);
	free(st->text);
	hmap_free(&st->index);
	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
}
