/* checkpoint.c - save and load the renderer's checkpoint (see checkpoint.h). */
#define _POSIX_C_SOURCE 200809L
#include "metrics/checkpoint.h"
#include "common/atomicfile.h"
#include "common/buf.h"
#include "common/crc32c.h"
#include "journal/journal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VERSION 1

int
checkpoint_identify(int fd, uint64_t offset, struct checkpoint_id *id,
    struct perr *e)
{
	char tail[CHECKPOINT_TAIL_BYTES];
	size_t n = offset < sizeof(tail) ? (size_t)offset : sizeof(tail);
	struct stat st;
	ssize_t got;

	if (fstat(fd, &st) != 0)
		return perr_sys(e, errno, "cannot stat the journal");
	do
		got = pread(fd, tail, n, (off_t)(offset - n));
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)n)
		return perr_sys(e, got < 0 ? errno : EIO, "cannot read the "
		    "journal");
	id->dev = (uint64_t)st.st_dev;
	id->ino = (uint64_t)st.st_ino;
	id->offset = offset;
	id->tail_crc = crc32c(0, tail, n);
	return 0;
}

bool
checkpoint_matches(int fd, const struct checkpoint_id *id)
{
	struct checkpoint_id now;
	struct stat st;

	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < id->offset)
		return false;
	if (checkpoint_identify(fd, id->offset, &now, NULL) != 0)
		return false;
	return now.dev == id->dev && now.ino == id->ino &&
	    now.tail_crc == id->tail_crc;
}

/* --- saving --- */

struct saver {
	struct buf out;
	uint64_t records;
	struct perr *e;
};

static int
emit(void *ctx, const char *payload, size_t len)
{
	struct saver *s = ctx;

	s->records++;
	return journal_frame(payload, len, &s->out, s->e);
}

int
checkpoint_save(const char *path, const struct checkpoint_id *id,
    const char *settings, const struct agg *a, struct perr *e)
{
	struct saver s;
	struct buf line = BUF_INIT(1 << 16);
	int rc;

	memset(&s, 0, sizeof(s));
	s.e = e;
	buf_init(&s.out, (size_t)1 << 31);
	if (buf_addf(&line, "checkpoint version=%d dev=%" PRIu64 " ino=%" PRIu64
	    " offset=%" PRIu64 " tail=%08x settings=", VERSION, id->dev,
	    id->ino, id->offset, id->tail_crc) ||
	    run_add_escaped(&line, settings)) {
		buf_free(&line);
		return perr_set(e, PERR_NOMEM, "out of memory");
	}
	rc = journal_frame(line.p, line.len, &s.out, e);
	if (rc == 0)
		rc = agg_write_state(a, emit, &s, e);
	buf_reset(&line);
	if (rc == 0 && buf_addf(&line, "end records=%" PRIu64, s.records))
		rc = perr_set(e, PERR_NOMEM, "out of memory");
	if (rc == 0)
		rc = journal_frame(line.p, line.len, &s.out, e);
	if (rc == 0)
		/* Checked whole on loading, so no fsync: a crash costs a rebuild. */
		rc = atomicfile_write(path, s.out.p, s.out.len, 0644,
		    ATOMICFILE_NO_SYNC | ATOMICFILE_REGULAR_ONLY, e);
	buf_free(&line);
	buf_free(&s.out);
	return rc;
}

/* --- loading --- */

struct loader {
	struct agg *a;
	const char *settings;
	struct checkpoint_id *id;
	bool header, ended;
	uint64_t records, declared;
	struct perr *e;
};

static bool
field_u64(const char *v, uint64_t *out, int base)
{
	char *end;

	if (*v == '\0')
		return false;
	*out = strtoull(v, &end, base);
	return *end == '\0';
}

static int
bad(struct loader *l, const char *why)
{
	return perr_set(l->e, PERR_CORRUPT, "checkpoint not usable: %s", why);
}

static int
read_header(struct loader *l, char *payload)
{
	char *cursor = run_split_type(payload), *k, *v;
	uint64_t version = 0, crc = 0;
	bool settings_ok = false;
	int got;

	if (strcmp(payload, "checkpoint") != 0)
		return bad(l, "no header");
	while ((got = run_field_next(&cursor, &k, &v)) > 0) {
		if (strcmp(k, "version") == 0)
			got = field_u64(v, &version, 10);
		else if (strcmp(k, "dev") == 0)
			got = field_u64(v, &l->id->dev, 10);
		else if (strcmp(k, "ino") == 0)
			got = field_u64(v, &l->id->ino, 10);
		else if (strcmp(k, "offset") == 0)
			got = field_u64(v, &l->id->offset, 10);
		else if (strcmp(k, "tail") == 0)
			got = field_u64(v, &crc, 16);
		else if (strcmp(k, "settings") == 0)
			settings_ok = strcmp(v, l->settings) == 0;
		if (!got)
			return bad(l, "bad header");
	}
	if (got < 0 || version != VERSION)
		return bad(l, "bad header or version");
	if (!settings_ok)
		return bad(l, "made with other settings");
	l->id->tail_crc = (uint32_t)crc;
	l->header = true;
	return 0;
}

static int
on_record(void *ctx, char *payload, size_t len, uint64_t offset)
{
	struct loader *l = ctx;
	uint64_t n;
	char *cursor, *k, *v;

	(void)offset;
	payload[len] = '\0';
	if (l->ended)
		return bad(l, "records after the end");
	if (!l->header)
		return read_header(l, payload);
	if (strncmp(payload, "end ", 4) == 0) {
		cursor = run_split_type(payload);
		if (run_field_next(&cursor, &k, &v) != 1 ||
		    strcmp(k, "records") != 0 || !field_u64(v, &n, 10))
			return bad(l, "bad end record");
		l->declared = n;
		l->ended = true;
		return 0;
	}
	l->records++;
	if (agg_fold(l->a, payload, len, l->e) != 0)
		return l->e != NULL && l->e->code == PERR_NOMEM ? PERR_NOMEM :
		    bad(l, "bad state record");
	return 0;
}

int
checkpoint_load(const char *path, const char *settings, struct agg *a,
    struct checkpoint_id *id, struct perr *e)
{
	struct journal_scan_cb cb;
	struct journal_stats st;
	struct loader l;
	int rc;

	if (access(path, F_OK) != 0 && errno == ENOENT)
		return perr_set(e, PERR_CORRUPT, "no checkpoint yet");
	memset(&l, 0, sizeof(l));
	l.a = a;
	l.settings = settings;
	l.id = id;
	l.e = e;
	cb.record = on_record;
	cb.damage = NULL;
	cb.ctx = &l;
	rc = journal_scan(path, 0, &cb, &st, e);
	if (rc != 0)
		return rc;
	if (st.damaged > 0 || st.tail > 0)
		return bad(&l, "damaged");
	if (!l.header || !l.ended || l.records != l.declared)
		return bad(&l, "incomplete");
	return 0;
}
