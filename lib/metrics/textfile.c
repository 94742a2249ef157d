/* textfile.c - the render job: checkpoint, fold, compact, format, write (see textfile.h). */
#define _GNU_SOURCE
#include "metrics/textfile.h"
#include "metrics/aggregate.h"
#include "common/atomicfile.h"
#include "common/buf.h"
#include "metrics/checkpoint.h"
#include "common/fsutil.h"
#include "journal/journal.h"
#include "metrics/render.h"
#include "metrics/schema.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STOP_SCAN (-1)		/* a scan callback's "stop here", not an error */

struct job {
	const struct textfile_job *in;
	const char *journal;
	const struct schema_preset *preset;
	const char *ns;
	struct agg_config acfg;
	struct buf settings;
	struct buf checkpoint;
	int lockfd;
	int jfd;			/* the journal, -1 while it does not exist */
	struct agg *agg;
	uint64_t end;			/* journal bytes folded */
	struct textfile_report *rep;
	struct perr *e;
};

/* --- settings --- */

static int
resolve_settings(struct job *j)
{
	const struct render_settings *rs = j->in->render;
	const struct journal_settings *js = j->in->journal;
	const char *preset = j->in->preset != NULL ? j->in->preset :
	    rs->preset != NULL ? rs->preset : "native";
	int rc;

	if ((j->preset = schema_preset_find(preset, j->e)) == NULL)
		return PERR_INVALID;
	j->ns = j->in->ns != NULL ? j->in->ns : rs->namespace;
	if ((rc = schema_check_namespace(j->preset, j->ns, j->e)) != 0)
		return rc;
	j->acfg.buckets = j->preset->buckets != NULL ? j->preset->buckets :
	    rs->buckets;
	j->acfg.nbuckets = j->preset->buckets != NULL ? j->preset->nbuckets :
	    rs->nbuckets;
	j->acfg.labels = js->labels;
	j->acfg.nlabels = js->nlabels;
	j->acfg.lost_after = rs->lost_after;
	j->acfg.max_series = rs->max_series;
	j->journal = js->path;
	if (agg_config_fingerprint(&j->acfg, &j->settings) != 0 ||
	    (rs->checkpoint != NULL ?
	    buf_adds(&j->checkpoint, rs->checkpoint) :
	    buf_addf(&j->checkpoint, "%s.checkpoint", j->journal)) != 0)
		return perr_set(j->e, PERR_NOMEM, "out of memory");
	return 0;
}

/* The textfile to replace, or NULL for the stream. */
static const char *
destination(const struct job *j)
{
	const char *o = j->in->output != NULL ? j->in->output :
	    j->in->render->output;

	return o == NULL || strcmp(o, "-") == 0 ? NULL : o;
}

/* --- lock, leftovers, journal --- */

static int
lock_render(struct job *j)
{
	struct buf path = BUF_INIT(4096 + 8);
	int rc = 0;

	if (buf_addf(&path, "%s.lock", buf_str(&j->checkpoint)) != 0)
		return perr_set(j->e, PERR_INVALID, "checkpoint path too long");
	j->lockfd = fs_open(buf_str(&path), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (j->lockfd < 0 && errno == ENOENT &&
	    (rc = fs_mkdir_parents(buf_str(&path), j->e)) == 0)
		j->lockfd = fs_open(buf_str(&path), O_RDWR | O_CREAT | O_CLOEXEC,
		    0644);
	if (rc == 0 && j->lockfd < 0)
		rc = perr_sys(j->e, errno, "cannot open lock file %s",
		    buf_str(&path));
	while (rc == 0 && flock(j->lockfd, LOCK_EX) != 0)
		if (errno != EINTR)
			rc = perr_sys(j->e, errno, "cannot lock %s",
			    buf_str(&path));
	buf_free(&path);
	return rc;
}

static int
remove_leftovers(struct job *j)
{
	const char *dest = destination(j);
	int rc;

	if (dest != NULL && (rc = atomicfile_cleanup(dest, j->e)) != 0)
		return rc;
	journal_remove_leftovers(j->journal);
	return atomicfile_cleanup(buf_str(&j->checkpoint), j->e);
}

static int
open_journal(struct job *j)
{
	j->jfd = fs_open(j->journal, O_RDONLY | O_CLOEXEC, 0);
	if (j->jfd < 0 && errno != ENOENT)
		return perr_sys(j->e, errno, "cannot open journal %s",
		    j->journal);
	return 0;
}

/* --- folding --- */

static int
fold_record(void *ctx, char *payload, size_t len, uint64_t offset)
{
	struct job *j = ctx;
	int rc;

	(void)offset;
	rc = agg_fold(j->agg, payload, len, j->e);
	/* A record that is not valid is counted as corrupt; go on. */
	return rc == PERR_CORRUPT ? 0 : rc;
}

/* Fold the journal open on fd from j->end to its end. */
static int
fold_journal(struct job *j, int fd)
{
	struct journal_scan_cb cb = {fold_record, NULL, j};
	struct journal_stats st;
	int rc;

	rc = journal_scan_fd(fd, j->journal, j->end, &cb, &st, j->e);
	if (rc != 0)
		return rc;
	agg_add_damage(j->agg, st.damaged);
	j->rep->foreign = agg_records_foreign(j->agg);
	j->rep->records_read += st.records;
	j->rep->damaged += st.damaged;
	j->end = st.end;
	return 0;
}

static int
new_aggregate(struct job *j)
{
	agg_free(j->agg);
	j->agg = NULL;
	j->end = 0;
	return agg_new(&j->agg, &j->acfg, j->e);
}

/* Start from the checkpoint when it fits this journal and these settings. */
static int
load_state(struct job *j)
{
	struct checkpoint_id id;
	struct perr why;
	int rc;

	if ((rc = new_aggregate(j)) != 0)
		return rc;
	if (j->in->rebuild || j->jfd < 0)
		return 0;
	rc = checkpoint_load(buf_str(&j->checkpoint), buf_str(&j->settings),
	    j->agg, &id, &why);
	if (rc == PERR_NOMEM)
		return perr_set(j->e, PERR_NOMEM, "out of memory");
	if (rc != 0 || !checkpoint_matches(j->jfd, &id))
		return new_aggregate(j);
	j->end = id.offset;
	j->rep->from_checkpoint = true;
	return 0;
}

/* --- compaction --- */

/* A user record's time; state records (snapshot, meta, open) are old. */
static double
record_time(const char *payload)
{
	const char *t;

	if (strncmp(payload, "run ", 4) != 0 &&
	    strncmp(payload, "start ", 6) != 0 &&
	    strncmp(payload, "finish ", 7) != 0)
		return -INFINITY;
	t = strstr(payload, " time=");
	return t != NULL ? strtod(t + 6, NULL) : -INFINITY;
}

struct prefix {
	struct agg *agg;
	double cutoff;
	bool stopped;
	uint64_t stop_at;
	uint64_t user_records;
	struct perr *e;
};

static int
fold_prefix(void *ctx, char *payload, size_t len, uint64_t offset)
{
	struct prefix *p = ctx;
	bool user;
	int rc;

	payload[len] = '\0';
	if (record_time(payload) >= p->cutoff) {
		p->stopped = true;
		p->stop_at = offset;
		return STOP_SCAN;
	}
	user = record_time(payload) != -INFINITY;
	rc = agg_fold(p->agg, payload, len, p->e);
	if (rc == 0 && user)
		p->user_records++;
	return rc == PERR_CORRUPT ? 0 : rc;
}

struct framer {
	struct buf *out;
	struct perr *e;
};

static int
frame(void *ctx, const char *payload, size_t len)
{
	struct framer *f = ctx;

	return journal_frame(payload, len, f->out, f->e);
}

/*
 * With the journal locked exclusively and caught up: fold the old prefix
 * into state records and swap in head + the rest of the journal.
 */
static int
swap_compacted(struct job *j, int fd)
{
	struct prefix p = {NULL, 0, false, 0, 0, j->e};
	struct journal_scan_cb cb = {fold_prefix, NULL, &p};
	struct buf head = BUF_INIT((size_t)1 << 31);
	struct framer fr = {&head, j->e};
	struct journal_stats st;
	uint64_t new_size = 0, keep_from;
	int rc;

	p.cutoff = j->in->now - j->in->render->keep_history;
	if ((rc = agg_new(&p.agg, &j->acfg, j->e)) != 0)
		return rc;
	rc = journal_scan_fd(fd, j->journal, 0, &cb, &st, j->e);
	if (rc == STOP_SCAN || rc == 0) {
		agg_add_damage(p.agg, st.damaged);
		keep_from = p.stopped ? p.stop_at : st.end;
		rc = 0;
		if (p.user_records > 0)
			rc = agg_write_state(p.agg, frame, &fr, j->e);
		if (rc == 0 && p.user_records > 0)
			rc = journal_replace(j->journal, fd, keep_from, &head,
			    &new_size, j->e);
		if (rc == 0 && p.user_records > 0) {
			j->end = head.len + (j->end - keep_from);
			j->rep->compacted = true;
			j->rep->journal_after = new_size;
		}
	}
	agg_free(p.agg);
	buf_free(&head);
	return rc;
}

static bool
same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static bool
wants_compaction(const struct job *j)
{
	struct stat st;

	if (j->jfd < 0 || fstat(j->jfd, &st) != 0)
		return false;
	return j->in->compact || (j->in->render->max_journal_size > 0 &&
	    (unsigned long long)st.st_size > j->in->render->max_journal_size);
}

static int
compact_now(struct job *j)
{
	struct stat st;
	int lockfd, fd, rc = 0;

	if ((lockfd = journal_lock(j->journal, 1, 1, j->e)) < 0)
		return j->e != NULL ? j->e->code : PERR_IO;
	fd = fs_open(j->journal, O_RDONLY | O_CLOEXEC, 0);
	/* Another render (other settings) may have compacted meanwhile. */
	if (fd >= 0 && same_file(fd, j->jfd)) {
		if (fstat(fd, &st) == 0)
			j->rep->journal_before = (uint64_t)st.st_size;
		rc = fold_journal(j, fd);
		if (rc == 0)
			rc = swap_compacted(j, fd);
	}
	if (fd >= 0)
		close(fd);
	if (rc == 0 && j->rep->compacted) {
		close(j->jfd);
		j->jfd = fs_open(j->journal, O_RDONLY | O_CLOEXEC, 0);
		if (j->jfd < 0)
			rc = perr_sys(j->e, errno, "cannot open journal %s",
			    j->journal);
	}
	close(lockfd);
	return rc;
}

/*
 * Compaction asked for is part of the job; compaction because the journal
 * grew is housekeeping, and its failure only a warning: the metrics are
 * still rendered and the next render tries again.
 */
static int
compact(struct job *j)
{
	struct perr why, *caller = j->e;
	int rc;

	if (!wants_compaction(j))
		return 0;
	if (j->in->compact)
		return compact_now(j);
	perr_clear(&why);
	j->e = &why;
	rc = compact_now(j);
	j->e = caller;
	if (rc == PERR_NOMEM)
		return perr_set(caller, PERR_NOMEM, "%s", why.msg);
	if (rc != 0)
		snprintf(j->rep->warning, sizeof(j->rep->warning),
		    "journal not compacted: %.450s", why.msg);
	return 0;
}

/* --- output --- */

/* The sinks render_format hands the text to: the textfile or a stream. */
static int
to_textfile(void *ctx, const char *text, size_t len)
{
	return atomicfile_add(ctx, text, len);
}

struct stream_sink {
	FILE *out;
	struct perr *e;
};

static int
stream_failed(struct perr *e)
{
	return perr_sys(e, errno ? errno : EIO, "cannot write the metrics to "
	    "standard output");
}

static int
to_stream(void *ctx, const char *text, size_t len)
{
	struct stream_sink *s = ctx;

	return fwrite(text, 1, len, s->out) == len ? 0 : stream_failed(s->e);
}

static int
format_to_textfile(struct job *j, const struct render_format *f,
    const char *dest)
{
	struct atomicfile file;
	int rc;

	if ((rc = atomicfile_begin(&file, dest, j->in->render->mode, 0,
	    j->e)) != 0)
		return rc;
	rc = render_format(j->agg, f, to_textfile, &file, &j->rep->samples,
	    j->e);
	if (rc != 0) {
		atomicfile_abort(&file);
		return rc;
	}
	return atomicfile_commit(&file);
}

static int
format_to_stream(struct job *j, const struct render_format *f)
{
	struct stream_sink s = {j->in->out != NULL ? j->in->out : stdout, j->e};
	int rc;

	rc = render_format(j->agg, f, to_stream, &s, &j->rep->samples, j->e);
	if (rc == 0 && fflush(s.out) != 0)
		rc = stream_failed(j->e);
	return rc;
}

static int
format_and_write(struct job *j)
{
	struct render_format f;
	const char *dest = destination(j);

	memset(&f, 0, sizeof(f));
	f.preset = j->preset;
	f.ns = j->ns;
	f.now = j->in->now;
	f.max_series = j->in->render->max_series;
	j->rep->written = dest != NULL ? dest : "-";
	return dest != NULL ? format_to_textfile(j, &f, dest) :
	    format_to_stream(j, &f);
}

/*
 * The checkpoint only saves work: failing to write it is a warning, and it
 * is not rewritten for a handful of new records, which cost less to read
 * again than the checkpoint costs to write.
 */
static void
save_checkpoint(struct job *j)
{
	struct checkpoint_id id;
	struct perr why;

	if (j->jfd < 0 || (j->rep->from_checkpoint && !j->rep->compacted &&
	    j->rep->records_read + j->rep->damaged < TEXTFILE_CHECKPOINT_EVERY))
		return;
	if (checkpoint_identify(j->jfd, j->end, &id, &why) == 0 &&
	    checkpoint_save(buf_str(&j->checkpoint), &id,
	    buf_str(&j->settings), j->agg, &why) == 0)
		return;
	snprintf(j->rep->warning, sizeof(j->rep->warning), "checkpoint not "
	    "saved, the next render reads the journal again: %.400s", why.msg);
}

int
textfile_render(const struct textfile_job *in, struct textfile_report *rep,
    struct perr *e)
{
	struct job j;
	int rc;

	memset(&j, 0, sizeof(j));
	memset(rep, 0, sizeof(*rep));
	j.in = in;
	j.rep = rep;
	j.e = e;
	j.lockfd = j.jfd = -1;
	buf_init(&j.settings, 1 << 16);
	buf_init(&j.checkpoint, 4096);
	if ((rc = resolve_settings(&j)) == 0 && (rc = lock_render(&j)) == 0 &&
	    (rc = remove_leftovers(&j)) == 0 && (rc = open_journal(&j)) == 0 &&
	    (rc = load_state(&j)) == 0 &&
	    (j.jfd < 0 || (rc = fold_journal(&j, j.jfd)) == 0) &&
	    (rc = compact(&j)) == 0 && (rc = format_and_write(&j)) == 0)
		save_checkpoint(&j);
	agg_free(j.agg);
	if (j.jfd >= 0)
		close(j.jfd);
	if (j.lockfd >= 0)
		close(j.lockfd);
	buf_free(&j.settings);
	buf_free(&j.checkpoint);
	return rc;
}

/* --- verification --- */

struct verifier {
	struct agg *agg;
	struct textfile_verify_report *rep;
};

static void
list(struct textfile_verify_report *rep, uint64_t offset, uint64_t length,
    const char *why)
{
	struct textfile_damage *d;

	if (rep->nlisted == TEXTFILE_VERIFY_LISTED)
		return;
	d = &rep->listed[rep->nlisted++];
	d->offset = offset;
	d->length = length;
	d->undecodable = why != NULL;
	snprintf(d->why, sizeof(d->why), "%.150s", why != NULL ? why : "");
}

static int
verify_record(void *ctx, char *payload, size_t len, uint64_t offset)
{
	struct verifier *v = ctx;
	struct perr why;
	int rc;

	rc = agg_fold(v->agg, payload, len, &why);
	if (rc == PERR_CORRUPT) {
		v->rep->undecodable++;
		list(v->rep, offset, len, why.msg);
		return 0;
	}
	return rc;
}

static void
verify_damage(void *ctx, uint64_t offset, uint64_t len)
{
	struct verifier *v = ctx;

	list(v->rep, offset, len, NULL);
}

int
textfile_verify(const char *path, struct textfile_verify_report *rep,
    struct perr *e)
{
	static const double one_bucket[] = {1};
	struct agg_config cfg = {one_bucket, 1, NULL, 0, 86400, 0};
	struct verifier v;
	struct journal_scan_cb cb = {verify_record, verify_damage, &v};
	struct journal_stats st;
	struct stat sb;
	int rc;

	memset(rep, 0, sizeof(*rep));
	v.rep = rep;
	if ((rc = agg_new(&v.agg, &cfg, e)) != 0)
		return rc;
	rc = journal_scan(path, 0, &cb, &st, e);
	agg_free(v.agg);
	if (rc != 0)
		return rc;
	rep->records = st.records;
	rep->damaged = st.damaged;
	rep->damaged_bytes = st.damaged_bytes;
	rep->tail = st.tail;
	rep->size = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	return 0;
}
