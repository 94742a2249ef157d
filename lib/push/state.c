/* state.c - what was last sent to a destination (see state.h). */
#define _POSIX_C_SOURCE 200809L
#include "push/state.h"
#include "common/atomicfile.h"
#include "common/crc32c.h"
#include "common/fsutil.h"
#include "journal/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "promrun-push-state 1 "

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

	return hmap_find(&st->index, key, len, &i) ? &st->entries[i].rec : NULL;
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

static int
corrupt(struct push_state *st, unsigned line, const char *why,
    struct perr *e)
{
	return perr_set(e, PERR_CORRUPT, "%s:%u: %s: remove the file to start "
	    "afresh (the next push then sends no staleness markers)",
	    st->path, line, why);
}

static int
add_entry(struct push_state *st, const char *key, size_t len,
    const struct state_rec *rec)
{
	struct state_entry *grown;
	size_t *slot;
	bool found;

	if (hmap_upsert(&st->index, key, len, &slot, &found) != 0)
		return PERR_NOMEM;
	if (found)
		return PERR_INVALID;
	if (st->n == st->cap) {
		st->cap = st->cap ? 2 * st->cap : 1024;
		if ((grown = realloc(st->entries, st->cap * sizeof(*grown))) ==
		    NULL)
			return PERR_NOMEM;
		st->entries = grown;
	}
	*slot = st->n;
	st->entries[st->n].key = hmap_key_of(&st->index, key, len);
	st->entries[st->n].key_len = len;
	st->entries[st->n++].rec = *rec;
	return 0;
}

/* "TS START VALUE KEY" */
static int
parse_line(struct push_state *st, char *line, unsigned n, struct perr *e)
{
	struct state_rec rec;
	uint64_t bits;
	char *end;
	int rc;

	errno = 0;
	rec.ts = strtoll(line, &end, 10);
	if (end == line || *end != ' ' || errno != 0)
		return corrupt(st, n, "bad timestamp", e);
	line = end + 1;
	rec.start = strtoll(line, &end, 10);
	if (end == line || *end != ' ' || errno != 0)
		return corrupt(st, n, "bad start time", e);
	line = end + 1;
	bits = strtoull(line, &end, 16);
	if (end - line != 16 || *end != ' ' || end[1] == '\0' || errno != 0)
		return corrupt(st, n, "bad value", e);
	memcpy(&rec.value, &bits, sizeof(bits));
	line = end + 1;
	if ((rc = add_entry(st, line, strlen(line), &rec)) == PERR_INVALID)
		return corrupt(st, n, "a series given twice", e);
	return rc != 0 ? perr_set(e, rc, "out of memory") : 0;
}

static int
load(struct push_state *st, struct perr *e)
{
	struct buf text = BUF_INIT(STATE_MAX_FILE);
	char chunk[65536], *line, *nl;
	unsigned n = 0;
	ssize_t got;
	int fd, rc = 0;

	if ((fd = fs_open(st->path, O_RDONLY | O_CLOEXEC, 0)) < 0)
		return errno == ENOENT ? 0 : perr_sys(e, errno, "cannot read "
		    "%s", st->path);
	while (rc == 0 && (got = fs_read(fd, chunk, sizeof(chunk))) > 0)
		rc = buf_add(&text, chunk, (size_t)got);
	if (rc == 0 && got < 0)
		rc = perr_sys(e, errno, "cannot read %s", st->path);
	else if (rc != 0)
		rc = perr_set(e, PERR_CORRUPT, "%s is larger than %u MiB",
		    st->path, STATE_MAX_FILE >> 20);
	close(fd);
	for (line = text.p; rc == 0 && line != NULL && *line != '\0';
	    line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL) {
			rc = corrupt(st, n + 1, "no final newline", e);
			break;
		}
		*nl = '\0';
		if (++n == 1) {
			if (strncmp(line, MAGIC, strlen(MAGIC)) != 0 ||
			    strcmp(line + strlen(MAGIC), st->destination) != 0)
				rc = corrupt(st, n, "not the state of this "
				    "destination", e);
			continue;
		}
		rc = parse_line(st, line, n, e);
	}
	buf_free(&text);
	return rc;
}

int
state_open(struct push_state *st, const char *dir, const char *name,
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
	return load(st, e);
}

static int
by_key(const void *a, const void *b)
{
	const struct state_entry *x = *(const struct state_entry *const *)a;
	const struct state_entry *y = *(const struct state_entry *const *)b;

	return strcmp(x->key, y->key);
}

int
state_vanished(const struct push_state *st, const struct series_set *set,
    struct buf *keys)
{
	const struct state_entry **gone;
	size_t i, n = 0, idx;
	int rc = 0;

	if (st->n == 0)
		return 0;
	if ((gone = calloc(st->n, sizeof(*gone))) == NULL)
		return PERR_NOMEM;
	for (i = 0; i < st->n; i++)
		if (!series_find(set, st->entries[i].key,
		    st->entries[i].key_len, &idx))
			gone[n++] = &st->entries[i];
	qsort(gone, n, sizeof(*gone), by_key);
	for (i = 0; rc == 0 && i < n; i++)
		if ((rc = buf_add(keys, gone[i]->key, gone[i]->key_len)) == 0)
			rc = buf_addc(keys, '\n');
	free(gone);
	return rc;
}

int
state_commit(struct push_state *st, const struct series_set *set,
    const struct state_rec *recs, struct perr *e)
{
	struct buf out = BUF_INIT(STATE_MAX_FILE);
	uint64_t bits;
	size_t i;
	int rc;

	rc = buf_addf(&out, MAGIC "%s\n", st->destination);
	for (i = 0; rc == 0 && i < set->nseries; i++) {
		memcpy(&bits, &recs[i].value, sizeof(bits));
		if ((rc = buf_addf(&out, "%lld %lld %016llx ", recs[i].ts,
		    recs[i].start, (unsigned long long)bits)) == 0 &&
		    (rc = buf_add(&out, set->series[i].key,
		    set->series[i].key_len)) == 0)
			rc = buf_addc(&out, '\n');
	}
	if (rc != 0)
		return perr_set(e, rc, "the state for %s is too large",
		    st->path);
	/*
	 * Not synced: after a crash the old state or an empty one is read,
	 * which costs at most one out-of-order refusal or one missed
	 * staleness marker; an fsync would cost every push.
	 */
	rc = atomicfile_write(st->path, out.p, out.len, 0600,
	    ATOMICFILE_NO_SYNC, e);
	buf_free(&out);
	return rc;
}

void
state_close(struct push_state *st)
{
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st->path);
	free(st->destination);
	free(st->entries);
	hmap_free(&st->index);
	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
}
