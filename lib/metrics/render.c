/* render.c - format the aggregate through a preset (see render.h). */
#define _POSIX_C_SOURCE 200809L
#include "metrics/render.h"
#include "metrics/expfmt.h"
#include "common/hmap.h"
#include "common/mem.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifndef PROMRUN_VERSION
#define PROMRUN_VERSION "unknown"
#endif

#define MAX_ROW_LABELS (SCHEMA_MAX_LABELS + RUN_MAX_LABELS)
#define RENDER_LE_MAX 130	/* bucket bounds and +Inf */

/* The user label names any series of a family's scope has, sorted. */
struct user_names {
	const char *names[RUN_MAX_LABELS];
	size_t n;
};

/* One output series group of a family: the series that share its labels. */
struct row {
	const char *instance;		/* prpc: the family's name prefix */
	size_t instance_at;		/* its offset in rows.names, plus one */
	struct expfmt_label *labels;	/* without status and le */
	size_t labels_at;		/* their offset in rows.labels */
	size_t nlabels;
	size_t status_at;		/* where "status" goes among labels */
	uint64_t runs[RUN_STATUS_COUNT];
	uint64_t late[RUN_STATUS_COUNT];
	struct agg_hist *hist;		/* RUN_STATUS_COUNT of them, for a
					   duration family only (else NULL) */
	bool has_outcome;
	double outcome_time;
	bool outcome_success;
	bool has_run, has_success, has_start, has_duration;
	double run_time, success_time, start_time, duration_time, duration;
	uint64_t in_progress;
	size_t series, nseries;		/* its first series, how many */
	/* The labels as text, 'a="x",b="y"', made once for all the families
	   the row serves (make_row_texts), split where the status goes. */
	const char *text;
	size_t text_at;			/* its offset in grouping.text */
	size_t text_len, text_split;
};

/* A family's lines lie in formatter.text, in the order they were made. */
struct family_out {
	char *name;			/* full family name */
	size_t start, end;		/* where its lines lie in the text (end:
					   from the next family's start, once
					   all are made) */
};

struct grouping;

/* 'status="success"' or 'le="0.5"': a label made into text once a render. */
struct piece {
	char text[64];
	size_t len;
};

struct formatter {
	const struct agg *a;
	const struct render_format *f;
	const struct agg_live *live;
	size_t nbuckets;
	const double *buckets;
	struct buf *text;		/* every family's lines, one after another:
					   one buffer, not one per family, so
					   they are neither copied together nor
					   grown one by one; the caller's
					   scratch, or own */
	struct buf own;
	struct family_out *fams;
	size_t nfams, capfams;
	size_t samples;
	/* Worked out once per render, not per row: */
	const char *values[RUN_STATUS_COUNT];	/* the preset's status values */
	size_t nvalues;
	int value_of[RUN_STATUS_COUNT];		/* each status's index in
						   values, -1 when not shown */
	bool have_le;				/* le and le_piece made, for a
						   histogram */
	bool need_hists;			/* a duration family is made:
						   rows merge histograms */
	struct piece status_piece[RUN_STATUS_COUNT];	/* per value */
	struct grouping *kept;			/* the last family's rows, for
						   the next family grouped the
						   same way */
	size_t row_series, row_nseries;		/* the row being written */
	/* render_series_values: the values go here, not to on_sample. */
	double *vals;
	size_t nvals, capvals;
	struct perr *e;
	/* Last, and not zeroed (FORMATTER_ZEROED): 13 KiB that most renders
	   (every partial render of a replay) never use. */
	char le[RENDER_LE_MAX][32];		/* bucket bounds as "le", */
	struct piece le_piece[RENDER_LE_MAX];	/* and as 'le="…"' */
};

/* What a render starts from zeroed: all but the bucket texts. */
#define FORMATTER_ZEROED offsetof(struct formatter, le)

static int
nomem(struct formatter *fm)
{
	return perr_set(fm->e, PERR_NOMEM, "out of memory while rendering");
}

/* --- grouping series into rows --- */

/* The label value a schema label takes for a series ("" when absent). */
static const char *
user_value(const struct agg_series *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i].name, name) == 0)
			return s->labels[i].value;
	return "";
}

/*
 * Every series of a family gets the same label names, "" where a series has
 * no value (node_exporter refuses a family whose series differ, and
 * Prometheus reads "" as no label at all).
 */
static void
push_label(struct expfmt_label *l, size_t *n, const char *name,
    const char *value)
{
	if (*n == MAX_ROW_LABELS)
		return;
	l[*n].name = name;
	l[*n].value = value != NULL ? value : "";
	(*n)++;
}

/* The row labels of series s in family fam; status_at receives the status slot. */
static size_t
row_labels(const struct schema_family *fam, const struct agg_series *s,
    const struct user_names *users, struct expfmt_label *l, size_t *status_at)
{
	size_t n = 0, i, k;

	*status_at = 0;
	for (i = 0; i < SCHEMA_MAX_LABELS && fam->labels[i].source != SRC_END;
	    i++) {
		const struct schema_label *sl = &fam->labels[i];

		switch (sl->source) {
		case SRC_WORKFLOW:
			push_label(l, &n, sl->name, s->workflow);
			break;
		case SRC_STEP:
			push_label(l, &n, sl->name, s->step);
			break;
		case SRC_STATUS:
			*status_at = n;
			break;
		case SRC_USER:
			push_label(l, &n, sl->name, user_value(s, sl->name));
			break;
		case SRC_USER_ALL:
			for (k = 0; k < users->n; k++)
				push_label(l, &n, users->names[k],
				    user_value(s, users->names[k]));
			break;
		default:
			break;
		}
	}
	return n;
}

static void
collect_user_names(const struct agg *a, enum schema_scope scope,
    struct user_names *u)
{
	size_t i, k, j;

	u->n = 0;
	for (i = 0; i < agg_nseries(a); i++) {
		const struct agg_series *s = agg_series_at(a, i);

		if ((scope == SCOPE_STEP) != (s->step != NULL))
			continue;
		for (k = 0; k < s->nlabels; k++) {
			for (j = 0; j < u->n; j++)
				if (strcmp(u->names[j], s->labels[k].name) == 0)
					break;
			if (j == u->n && u->n < RUN_MAX_LABELS)
				u->names[u->n++] = s->labels[k].name;
		}
	}
	for (i = 1; i < u->n; i++)
		for (k = i; k > 0 && strcmp(u->names[k - 1], u->names[k]) > 0;
		    k--) {
			const char *t = u->names[k];

			u->names[k] = u->names[k - 1];
			u->names[k - 1] = t;
		}
}

static int
row_key(struct buf *key, const char *instance, const struct expfmt_label *l,
    size_t n)
{
	size_t i;

	buf_reset(key);
	if (buf_add(key, instance, strlen(instance) + 1))
		return PERR_NOMEM;
	for (i = 0; i < n; i++)
		if (buf_add(key, l[i].name, strlen(l[i].name) + 1) ||
		    buf_add(key, l[i].value, strlen(l[i].value) + 1))
			return PERR_NOMEM;
	return 0;
}

static int
merge_hist(struct formatter *fm, struct agg_hist *to,
    const struct agg_hist *from)
{
	size_t i;

	if (from->count == 0)
		return 0;
	if (to->buckets == NULL &&
	    (to->buckets = calloc(fm->nbuckets + 1, sizeof(uint64_t))) == NULL)
		return PERR_NOMEM;
	for (i = 0; i <= fm->nbuckets; i++)
		to->buckets[i] += from->buckets[i];
	to->count += from->count;
	to->sum += from->sum;
	return 0;
}

static void
newer(bool *has, double *slot, double t)
{
	if (!*has || t >= *slot) {
		*has = true;
		*slot = t;
	}
}

/* Fold series s (and what its open runs mean now) into row r; the
 * histograms only when the render writes one (hists). */
static int
accumulate(struct formatter *fm, struct row *r, const struct agg_series *s,
    const struct agg_live *live, bool hists)
{
	int st;

	if (hists && r->hist == NULL &&
	    (r->hist = calloc(RUN_STATUS_COUNT, sizeof(*r->hist))) == NULL)
		return PERR_NOMEM;
	for (st = 1; st < RUN_STATUS_COUNT; st++) {
		r->runs[st] += s->runs[st];
		r->late[st] += s->late[st];
		if (hists && merge_hist(fm, &r->hist[st], &s->hist[st]) != 0)
			return PERR_NOMEM;
	}
	r->runs[RUN_LOST] += live->lost;
	r->in_progress += live->in_progress;
	if (s->has_outcome && (!r->has_outcome ||
	    s->outcome_time >= r->outcome_time)) {
		r->has_outcome = true;
		r->outcome_time = s->outcome_time;
		r->outcome_success = s->outcome == RUN_SUCCESS;
	}
	if (live->has_lost && (!r->has_outcome ||
	    live->lost_deadline >= r->outcome_time)) {
		r->has_outcome = true;
		r->outcome_time = live->lost_deadline;
		r->outcome_success = false;
	}
	if (s->has_run)
		newer(&r->has_run, &r->run_time, s->run_time);
	if (s->has_success)
		newer(&r->has_success, &r->success_time, s->success_time);
	if (s->has_start)
		newer(&r->has_start, &r->start_time, s->start_time);
	if (s->has_duration && (!r->has_duration ||
	    s->duration_time >= r->duration_time)) {
		r->has_duration = true;
		r->duration_time = s->duration_time;
		r->duration = s->duration;
	}
	return 0;
}

struct rows {
	struct row *v;
	size_t n, cap;
	struct hmap map;
	struct buf names;		/* prpc instance names */
	struct expfmt_label *labels;	/* every row's, one after another */
	size_t nlabels, caplabels;
};

static void
rows_free(struct rows *rs)
{
	size_t i;
	int st;

	for (i = 0; i < rs->n; i++) {
		if (rs->v[i].hist == NULL)
			continue;
		for (st = 0; st < RUN_STATUS_COUNT; st++)
			free(rs->v[i].hist[st].buckets);
		free(rs->v[i].hist);
	}
	free(rs->v);
	free(rs->labels);
	hmap_free(&rs->map);
	buf_free(&rs->names);
}

static int
new_row(struct rows *rs, const char *instance, const struct expfmt_label *l,
    size_t n, size_t status_at, struct row **out)
{
	struct row *r;

	if (mem_grow(&rs->v, &rs->cap, rs->n + 1, sizeof(rs->v[0]), 64) != 0 ||
	    mem_grow(&rs->labels, &rs->caplabels, rs->nlabels + n,
	    sizeof(rs->labels[0]), 256) != 0)
		return PERR_NOMEM;
	r = &rs->v[rs->n];
	memset(r, 0, sizeof(*r));
	/* The pool may move while rows are added: an offset until then. */
	if (n > 0)
		memcpy(rs->labels + rs->nlabels, l, n * sizeof(*l));
	r->labels_at = rs->nlabels;
	rs->nlabels += n;
	r->nlabels = n;
	r->status_at = status_at;
	r->instance = instance;
	rs->n++;
	*out = r;
	return 0;
}

/* prpc names a family per workflow; others have one instance, "". */
static const char *
instance_of(const struct schema_family *fam, struct hmap *names,
    const struct agg_series *s, struct buf *scratch)
{
	size_t *slot;
	bool found;

	if (!fam->per_workflow_name)
		return "";
	buf_reset(scratch);
	if (schema_sanitize_name(s->workflow, scratch) != 0 ||
	    hmap_upsert(names, scratch->p, scratch->len, &slot, &found) != 0)
		return NULL;
	return hmap_key_of(names, scratch->p, scratch->len);
}

/* The index of the row with labels l (rs->n, not found: a new one),
 * looked up by its labels unless the caller vouches that each series
 * makes its own row. */
static int
find_row(struct formatter *fm, struct rows *rs, const char *instance,
    const struct expfmt_label *l, size_t n, struct buf *key, size_t *row,
    bool *found)
{
	size_t *slot;

	if (fm->f->singletons && fm->f->want_series != NULL) {
		*row = rs->n;
		*found = false;
		return 0;
	}
	if (row_key(key, instance, l, n) != 0 ||
	    hmap_upsert(&rs->map, key->p, key->len, &slot, found) != 0)
		return PERR_NOMEM;
	if (!*found)
		*slot = rs->n;
	*row = *slot;
	return 0;
}

static int
build_rows(struct formatter *fm, const struct schema_family *fam,
    struct user_names *users, struct rows *rs)
{
	struct expfmt_label l[MAX_ROW_LABELS];
	struct buf key = BUF_INIT(1 << 20), scratch = BUF_INIT(1 << 16);
	struct hmap instances = HMAP_INIT;
	size_t i, n, status_at, at;
	const char *instance;
	struct row *r;
	bool found;
	int rc = 0;

	collect_user_names(fm->a, fam->scope, users);
	for (i = 0; i < agg_nseries(fm->a) && rc == 0; i++) {
		const struct agg_series *s = agg_series_at(fm->a, i);

		if ((fam->scope == SCOPE_STEP) != (s->step != NULL) ||
		    (fm->f->want_series != NULL &&
		    !fm->f->want_series(fm->f->ctx, i)))
			continue;
		n = row_labels(fam, s, users, l, &status_at);
		instance = instance_of(fam, &instances, s, &scratch);
		if (instance == NULL || find_row(fm, rs, instance, l, n, &key,
		    &at, &found) != 0) {
			rc = PERR_NOMEM;
			break;
		}
		if (!found) {
			if (new_row(rs, instance, l, n, status_at, &r) != 0) {
				rc = PERR_NOMEM;
				break;
			}
			r->series = i;
			/* instance points into a map freed below: keep a copy. */
			if (fam->per_workflow_name) {
				r->instance_at = rs->names.len + 1;
				if (buf_add(&rs->names, instance,
				    strlen(instance) + 1) != 0) {
					rc = PERR_NOMEM;
					break;
				}
			}
		}
		if (++rs->v[at].nseries > 1 && fm->f->merged != NULL)
			*fm->f->merged = true;
		rc = accumulate(fm, &rs->v[at], s, &fm->live[i],
		    fm->need_hists);
	}
	/* Turn instance and label offsets into pointers now that names and
	   labels stopped growing. */
	for (i = 0; i < rs->n; i++) {
		rs->v[i].instance = rs->v[i].instance_at == 0 ? "" :
		    rs->names.p + rs->v[i].instance_at - 1;
		rs->v[i].labels = rs->labels != NULL ?
		    rs->labels + rs->v[i].labels_at : NULL;
	}
	hmap_free(&instances);
	buf_free(&key);
	buf_free(&scratch);
	return rc;
}

/*
 * strcmp, skipped for the same string: label names and the instance ""
 * are shared by every row, so the sort compares mostly values.
 */
static int
compare_text(const char *a, const char *b)
{
	return a == b ? 0 : strcmp(a, b);
}

static int
compare_rows(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	size_t i;
	int c;

	if ((c = compare_text(a->instance, b->instance)) != 0)
		return c;
	for (i = 0; i < a->nlabels && i < b->nlabels; i++) {
		if ((c = compare_text(a->labels[i].name,
		    b->labels[i].name)) != 0 ||
		    (c = compare_text(a->labels[i].value,
		    b->labels[i].value)) != 0)
			return c;
	}
	return a->nlabels < b->nlabels ? -1 : a->nlabels > b->nlabels;
}

static int
compare_row_pointers(const void *x, const void *y)
{
	return compare_rows(*(const struct row *const *)x,
	    *(const struct row *const *)y);
}

/* --- writing samples --- */

static int
sample(struct formatter *fm, struct buf *b, const char *name,
    const struct expfmt_label *l, size_t n, double value)
{
	fm->samples++;
	if (fm->f->on_sample != NULL)
		return fm->f->on_sample(fm->f->ctx, name, l, n, value,
		    fm->row_series, fm->row_nseries);
	return expfmt_write_sample(b, name, l, n, value) ? PERR_NOMEM : 0;
}

/* Whether the caller wants family fam, the preset's i-th
 * (render_format.want, remembered in want_memo). */
static bool
wanted(struct formatter *fm, const struct schema_family *fam, size_t i)
{
	struct buf name = BUF_INIT(4096);
	signed char *memo = fm->f->want_memo;
	bool want;

	if (fam->scope == SCOPE_SELF && fm->f->no_self)
		return false;
	if (fm->f->want == NULL || fam->per_workflow_name)
		return true;
	if (memo != NULL && memo[i] != 0)
		return memo[i] > 0;
	if (schema_family_name(fm->f->preset, fm->f->ns, fam, NULL, &name) != 0)
		return true;
	want = fm->f->want(fm->f->ctx, buf_str(&name));
	buf_free(&name);
	if (memo != NULL)
		memo[i] = want ? 1 : -1;
	return want;
}

/* The row's labels with status (and le) put in. */
static size_t
full_labels(const struct row *r, const char *status, const char *le,
    struct expfmt_label *out)
{
	size_t n = 0, i;

	for (i = 0; i <= r->nlabels; i++) {
		if (i == r->status_at && status != NULL) {
			out[n].name = "status";
			out[n++].value = status;
		}
		if (i < r->nlabels)
			out[n++] = r->labels[i];
	}
	if (le != NULL) {
		out[n].name = "le";
		out[n++].value = le;
	}
	return n;
}

/*
 * A row's sample as text: what expfmt_write_sample writes for the row's
 * labels with status and le put in, joined from the row's text and the
 * pieces, each made once.
 */
static int
put_row_line(struct buf *b, const char *name, const struct row *r,
    const struct piece *status, const struct piece *le, double value)
{
	const char *part[4];
	size_t len[4], n = 0, i, room, name_len = strlen(name);
	char *p;

	if (r->text_split > 0) {
		part[n] = r->text;
		len[n++] = r->text_split;
	}
	if (status != NULL) {
		part[n] = status->text;
		len[n++] = status->len;
	}
	if (r->text_len > r->text_split) {
		part[n] = r->text + r->text_split;
		len[n++] = r->text_len - r->text_split;
	}
	if (le != NULL) {
		part[n] = le->text;
		len[n++] = le->len;
	}
	/* The name, "{" and "," before each part, "}". */
	room = name_len + (n > 0 ? n + 1 : 0);
	for (i = 0; i < n; i++)
		room += len[i];
	if (buf_extend(b, room, &p) != 0)
		return PERR_NOMEM;
	memcpy(p, name, name_len);
	p += name_len;
	for (i = 0; i < n; i++) {
		*p++ = i == 0 ? '{' : ',';
		memcpy(p, part[i], len[i]);
		p += len[i];
	}
	if (n > 0)
		*p = '}';
	if (buf_addc(b, ' ') || buf_add_double(b, value) || buf_addc(b, '\n'))
		return PERR_NOMEM;
	return 0;
}

/*
 * A sample of row r: its labels with the status value of index status and
 * the bucket bound of index le put in (-1: none).
 */
static int
row_sample(struct formatter *fm, struct buf *b, const char *name,
    const struct row *r, int status, int le, double value)
{
	struct expfmt_label l[MAX_ROW_LABELS + 2];
	size_t n;

	if (fm->vals != NULL) {
		if (fm->nvals < fm->capvals)
			fm->vals[fm->nvals] = value;
		fm->nvals++;
		return 0;
	}
	if (fm->f->on_sample == NULL) {
		fm->samples++;
		return put_row_line(b, name, r, status >= 0 ?
		    &fm->status_piece[status] : NULL, le >= 0 ?
		    &fm->le_piece[le] : NULL, value);
	}
	n = full_labels(r, status >= 0 ? fm->values[status] : NULL,
	    le >= 0 ? fm->le[le] : NULL, l);
	return sample(fm, b, name, l, n, value);
}

/* The preset's distinct status values, in its order or sorted. */
static size_t
status_values(const struct schema_preset *p, const char **values)
{
	size_t n = 0, i, k;
	int st;

	if (p->status_order[0] != NULL) {
		while (n < RUN_STATUS_COUNT && p->status_order[n] != NULL) {
			values[n] = p->status_order[n];
			n++;
		}
		return n;
	}
	for (st = 1; st < RUN_STATUS_COUNT; st++) {
		const char *v = p->status_names[st];
		bool dup = false;

		for (k = 0; k < n; k++)
			dup = dup || strcmp(values[k], v) == 0;
		if (v != NULL && !dup)
			values[n++] = v;
	}
	for (i = 1; i < n; i++)
		for (k = i; k > 0 && strcmp(values[k - 1], values[k]) > 0; k--) {
			const char *t = values[k];

			values[k] = values[k - 1];
			values[k - 1] = t;
		}
	return n;
}

static bool
has_status_label(const struct schema_family *fam)
{
	size_t i;

	for (i = 0; i < SCHEMA_MAX_LABELS && fam->labels[i].source != SRC_END;
	    i++)
		if (fam->labels[i].source == SRC_STATUS)
			return true;
	return false;
}

/* The sums of counts over the statuses shown as each value (by_status),
 * or over all of them (false: total[0]), in one pass. */
static void
totals_of(const struct formatter *fm, const uint64_t *counts, bool by_status,
    uint64_t *total)
{
	int st;

	memset(total, 0, RUN_STATUS_COUNT * sizeof(*total));
	for (st = 1; st < RUN_STATUS_COUNT; st++)
		if (!by_status)
			total[0] += counts[st];
		else if (fm->value_of[st] >= 0)
			total[fm->value_of[st]] += counts[st];
}

static int
write_counts(struct formatter *fm, const struct schema_family *fam,
    const char *name, const struct row *r, const uint64_t *counts,
    struct buf *b)
{
	bool by_status = has_status_label(fam);
	size_t nv = by_status ? fm->nvalues : 1, i;
	uint64_t total[RUN_STATUS_COUNT];

	totals_of(fm, counts, by_status, total);
	for (i = 0; i < nv; i++) {
		/* Late finishes are rare: only the outcomes that happened. */
		if (fam->value == SV_LATE_FINISHES && total[i] == 0)
			continue;
		if (row_sample(fm, b, name, r, by_status ? (int)i : -1, -1,
		    (double)total[i]) != 0)
			return PERR_NOMEM;
	}
	return 0;
}

/* name="value" as text, in expfmt's escaping. */
static int
make_piece(const char *name, const char *value, struct piece *out)
{
	struct expfmt_label l = {name, value};
	struct buf b = BUF_INIT(sizeof(out->text) - 1);

	if (expfmt_write_label_pairs(&b, &l, 1) != 0)
		return PERR_NOMEM;
	memcpy(out->text, buf_str(&b), b.len + 1);
	out->len = b.len;
	buf_free(&b);
	return 0;
}

/* The bucket bounds as "le" texts and pieces, made at the first histogram
 * written (prepare checked that they fit). */
static int
le_texts(struct formatter *fm)
{
	struct buf le = BUF_INIT(sizeof(fm->le[0]) - 1);
	size_t i;

	if (fm->have_le)
		return 0;
	for (i = 0; i <= fm->nbuckets; i++) {
		buf_reset(&le);
		if (i < fm->nbuckets ? buf_add_double(&le, fm->buckets[i]) :
		    buf_adds(&le, "+Inf"))
			return PERR_NOMEM;
		memcpy(fm->le[i], buf_str(&le), le.len + 1);
		if (make_piece("le", fm->le[i], &fm->le_piece[i]) != 0) {
			buf_free(&le);
			return PERR_NOMEM;
		}
	}
	buf_free(&le);
	fm->have_le = true;
	return 0;
}

static int
write_one_hist(struct formatter *fm, const char *name, const struct row *r,
    int status, const struct agg_hist *h, struct buf *b)
{
	struct buf metric = BUF_INIT(4096);
	uint64_t cumulative = 0;
	size_t i;
	int rc = 0;

	/* Values alone need no bound texts. */
	if ((fm->vals == NULL && le_texts(fm) != 0) ||
	    buf_adds(&metric, name) || buf_adds(&metric, "_bucket"))
		rc = PERR_NOMEM;
	for (i = 0; i <= fm->nbuckets && rc == 0; i++) {
		cumulative += h->buckets[i];
		rc = row_sample(fm, b, buf_str(&metric), r, status, (int)i,
		    (double)cumulative);
	}
	buf_reset(&metric);
	if (rc == 0 && (buf_adds(&metric, name) || buf_adds(&metric, "_sum") ||
	    row_sample(fm, b, buf_str(&metric), r, status, -1, h->sum)))
		rc = PERR_NOMEM;
	buf_reset(&metric);
	if (rc == 0 && (buf_adds(&metric, name) || buf_adds(&metric, "_count") ||
	    row_sample(fm, b, buf_str(&metric), r, status, -1,
	    (double)h->count)))
		rc = PERR_NOMEM;
	buf_free(&metric);
	return rc;
}

/* One histogram per status value present (or one over all statuses). */
static int
write_hist(struct formatter *fm, const struct schema_family *fam,
    const char *name, const struct row *r, struct buf *b)
{
	bool by_status = has_status_label(fam);
	size_t nv = by_status ? fm->nvalues : 1, i;
	struct agg_hist merged;
	int st, rc = 0;

	for (i = 0; i < nv && rc == 0; i++) {
		memset(&merged, 0, sizeof(merged));
		for (st = 1; st < RUN_STATUS_COUNT && rc == 0 &&
		    r->hist != NULL; st++)
			if (!by_status || fm->value_of[st] == (int)i)
				rc = merge_hist(fm, &merged, &r->hist[st]);
		if (rc == 0 && merged.count > 0)
			rc = write_one_hist(fm, name, r,
			    by_status ? (int)i : -1, &merged, b);
		free(merged.buckets);
	}
	return rc;
}

static int
write_gauge(struct formatter *fm, const char *name, const struct row *r,
    bool has, double value, struct buf *b)
{
	if (!has)
		return 0;
	return row_sample(fm, b, name, r, -1, -1, value);
}

static int
write_row(struct formatter *fm, const struct schema_family *fam,
    const char *name, const struct row *r, struct buf *b)
{
	switch (fam->value) {
	case SV_RUNS:
		return write_counts(fm, fam, name, r, r->runs, b);
	case SV_LATE_FINISHES:
		return write_counts(fm, fam, name, r, r->late, b);
	case SV_DURATION:
		return write_hist(fm, fam, name, r, b);
	case SV_UP:
		return write_gauge(fm, name, r, r->has_outcome,
		    r->outcome_success ? 1 : 0, b);
	case SV_LAST_DURATION:
		return write_gauge(fm, name, r, r->has_duration, r->duration, b);
	case SV_LAST_RUN_TIME:
		return write_gauge(fm, name, r, r->has_run, r->run_time, b);
	case SV_LAST_SUCCESS_TIME:
		/*
		 * 0 once a run has ended without any success: a "no success
		 * for N hours" alert must fire for a workflow that never
		 * succeeded, the case it exists for, and cannot on an absent
		 * series.
		 */
		return write_gauge(fm, name, r, r->has_success ||
		    r->has_outcome, r->has_success ? r->success_time : 0, b);
	case SV_LAST_START_TIME:
		return write_gauge(fm, name, r, r->has_start, r->start_time, b);
	case SV_IN_PROGRESS:
		return write_gauge(fm, name, r, true, (double)r->in_progress, b);
	default:
		return 0;
	}
}

/* --- families --- */

static int
add_family(struct formatter *fm, const char *name, struct family_out **out)
{
	struct family_out *grown, *f;

	if (fm->nfams == fm->capfams) {
		fm->capfams = fm->capfams ? fm->capfams * 2 : 32;
		grown = realloc(fm->fams, fm->capfams * sizeof(*grown));
		if (grown == NULL)
			return PERR_NOMEM;
		fm->fams = grown;
	}
	f = &fm->fams[fm->nfams];
	if ((f->name = strdup(name)) == NULL)
		return PERR_NOMEM;
	f->start = fm->text->len;
	fm->nfams++;
	*out = f;
	return 0;
}

/* HELP with "%s" standing for the prpc instance name. */
static int
help_text(const char *help, const char *instance, struct buf *out)
{
	const char *at = strstr(help, "%s");

	if (at == NULL)
		return buf_adds(out, help);
	if (buf_add(out, help, (size_t)(at - help)) || buf_adds(out, instance))
		return PERR_NOMEM;
	return buf_adds(out, at + 2);
}

static int
start_family(struct formatter *fm, const struct schema_family *fam,
    const char *instance, struct family_out **out)
{
	struct buf name = BUF_INIT(4096), help = BUF_INIT(4096);
	int rc;

	if (fam->per_workflow_name)
		rc = buf_adds(&name, instance) || buf_adds(&name, fam->name);
	else
		rc = schema_family_name(fm->f->preset, fm->f->ns, fam, NULL,
		    &name);
	if (rc == 0)
		rc = add_family(fm, buf_str(&name), out);
	/* Samples handed to on_sample make no text: no header either. */
	if (rc == 0 && fm->f->on_sample == NULL)
		rc = help_text(fam->help, instance, &help) ||
		    expfmt_write_header(fm->text, buf_str(&name),
		    buf_str(&help), fam->type);
	buf_free(&name);
	buf_free(&help);
	return rc != 0 ? PERR_NOMEM : 0;
}

/* A family whose rows had nothing to show gets no HELP or TYPE either. */
static void
drop_if_empty(struct formatter *fm, size_t samples_before)
{
	struct family_out *last;

	if (fm->nfams == 0 || fm->samples != samples_before)
		return;
	last = &fm->fams[--fm->nfams];
	buf_truncate(fm->text, last->start);
	free(last->name);
}

/*
 * The rows of a family, sorted: built once for all the families that group
 * series the same way (native's nine families of a scope share them), as
 * rows do not depend on the value a family shows.
 */
struct grouping {
	const struct schema_family *fam;	/* the family they were made for */
	struct user_names users;		/* of the families' scope */
	struct rows rs;
	struct row **order;
	struct buf text;			/* the rows' texts */
	bool has_text;
	size_t text_status_at;			/* where they were split */
};

static void
grouping_free(struct grouping *g)
{
	if (g == NULL)
		return;
	buf_free(&g->text);
	free(g->order);
	rows_free(&g->rs);
	free(g);
}

/* The label of f at or after *i that is not the status; NULL at the end. */
static const struct schema_label *
next_row_label(const struct schema_family *f, size_t *i)
{
	for (; *i < SCHEMA_MAX_LABELS && f->labels[*i].source != SRC_END;
	    (*i)++)
		if (f->labels[*i].source != SRC_STATUS)
			return &f->labels[(*i)++];
	return NULL;
}

/* The same labels from the same places, whether or not with a status. */
static bool
same_rows(const struct schema_family *a, const struct schema_family *b)
{
	const struct schema_label *x, *y;
	size_t i = 0, k = 0;

	if (a->scope != b->scope || a->per_workflow_name != b->per_workflow_name)
		return false;
	do {
		x = next_row_label(a, &i);
		y = next_row_label(b, &k);
		if ((x == NULL) != (y == NULL))
			return false;
		if (x != NULL && (x->source != y->source ||
		    (x->name == NULL) != (y->name == NULL) ||
		    (x->name != NULL && strcmp(x->name, y->name) != 0)))
			return false;
	} while (x != NULL);
	return true;
}

static int
build_grouping(struct formatter *fm, const struct schema_family *fam,
    struct grouping **out)
{
	struct grouping *g;
	size_t i;
	int rc;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return PERR_NOMEM;
	g->fam = fam;
	buf_init(&g->rs.names, (size_t)1 << 30);
	buf_init(&g->text, (size_t)1 << 31);
	rc = build_rows(fm, fam, &g->users, &g->rs);
	/* Rows are large: sort pointers to them. */
	if (rc == 0 && g->rs.n > 0 &&
	    (g->order = malloc(g->rs.n * sizeof(*g->order))) == NULL)
		rc = PERR_NOMEM;
	for (i = 0; rc == 0 && i < g->rs.n; i++)
		g->order[i] = &g->rs.v[i];
	/* (qsort(NULL, 0, ...) is undefined.) */
	if (rc == 0 && g->rs.n > 1 && !(fm->f->unsorted &&
	    fm->f->on_sample != NULL && !fam->per_workflow_name))
		qsort(g->order, g->rs.n, sizeof(*g->order),
		    compare_row_pointers);
	if (rc != 0) {
		grouping_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

/*
 * Where "status" goes among the labels of fam's rows (0 without one), as
 * row_labels counts: one label per source, every user label for
 * SRC_USER_ALL.
 */
static size_t
status_slot(const struct schema_family *fam, const struct grouping *g)
{
	size_t at = 0, i;

	for (i = 0; i < SCHEMA_MAX_LABELS && fam->labels[i].source != SRC_END;
	    i++) {
		if (fam->labels[i].source == SRC_STATUS)
			return at < MAX_ROW_LABELS ? at : MAX_ROW_LABELS;
		at += fam->labels[i].source == SRC_USER_ALL ? g->users.n : 1;
	}
	return 0;
}

/*
 * Each row's labels as text, split where the status goes: made once for
 * every sample of every family the rows serve (again only for a family
 * whose status goes elsewhere), in expfmt's own escaping.
 */
static int
make_row_texts(struct grouping *g, size_t status_at)
{
	struct row *r;
	size_t i, split;

	buf_reset(&g->text);
	for (i = 0; i < g->rs.n; i++) {
		r = &g->rs.v[i];
		split = status_at < r->nlabels ? status_at : r->nlabels;
		r->text_at = g->text.len;
		if (expfmt_write_label_pairs(&g->text, r->labels, split) != 0)
			return PERR_NOMEM;
		r->text_split = g->text.len - r->text_at;
		if (expfmt_write_label_pairs(&g->text, r->labels + split,
		    r->nlabels - split) != 0)
			return PERR_NOMEM;
		r->text_len = g->text.len - r->text_at;
	}
	/* Pointers only now that the text stopped growing. */
	for (i = 0; i < g->rs.n; i++)
		g->rs.v[i].text = buf_str(&g->text) + g->rs.v[i].text_at;
	g->has_text = true;
	g->text_status_at = status_at;
	return 0;
}

static int
write_family(struct formatter *fm, const struct schema_family *fam)
{
	struct family_out *out = NULL;
	struct grouping *g;
	const char *current = NULL;
	size_t i, before = fm->samples, status_at;
	int rc = 0;

	if (fm->kept == NULL || !same_rows(fm->kept->fam, fam)) {
		grouping_free(fm->kept);
		fm->kept = NULL;
		if ((rc = build_grouping(fm, fam, &fm->kept)) != 0)
			return rc;
	}
	g = fm->kept;
	status_at = status_slot(fam, g);
	for (i = 0; i < g->rs.n; i++)
		g->rs.v[i].status_at = status_at;
	/* Without a status the split does not matter: keep the texts. */
	if (fm->f->on_sample == NULL && (!g->has_text ||
	    (has_status_label(fam) && g->text_status_at != status_at)) &&
	    (rc = make_row_texts(g, status_at)) != 0)
		return rc;
	for (i = 0; i < g->rs.n && rc == 0; i++) {
		if (current == NULL ||
		    compare_text(current, g->order[i]->instance) != 0) {
			if (current != NULL)
				drop_if_empty(fm, before);
			current = g->order[i]->instance;
			before = fm->samples;
			rc = start_family(fm, fam, current, &out);
			if (rc != 0)
				break;
		}
		fm->row_series = g->order[i]->series;
		fm->row_nseries = g->order[i]->nseries;
		rc = write_row(fm, fam, out->name, g->order[i], fm->text);
	}
	fm->row_series = SIZE_MAX;
	fm->row_nseries = 0;
	if (rc == 0 && current != NULL)
		drop_if_empty(fm, before);
	return rc;
}

static int
write_self(struct formatter *fm, const struct schema_family *fam)
{
	struct expfmt_label l[2] = {{"preset", fm->f->preset->name}, {"", ""}};
	struct family_out *out;
	int rc;

	if ((rc = start_family(fm, fam, "", &out)) != 0)
		return rc;
	switch (fam->value) {
	case SV_BUILD_INFO:
		l[1].name = "version";
		l[1].value = PROMRUN_VERSION;
		return sample(fm, fm->text, out->name, l, 2, 1);
	case SV_RECORDS:
		l[1].name = "result";
		l[1].value = "corrupt";
		if (sample(fm, fm->text, out->name, l, 2,
		    (double)agg_records_corrupt(fm->a)))
			return PERR_NOMEM;
		l[1].value = "ok";
		return sample(fm, fm->text, out->name, l, 2,
		    (double)agg_records_ok(fm->a));
	default:
		return sample(fm, fm->text, out->name, l, 1, fm->f->now);
	}
}

static int
compare_families(const void *x, const void *y)
{
	return strcmp(((const struct family_out *)x)->name,
	    ((const struct family_out *)y)->name);
}

static void
formatter_free(struct formatter *fm)
{
	size_t i;

	for (i = 0; i < fm->nfams; i++)
		free(fm->fams[i].name);
	free(fm->fams);
	buf_free(&fm->own);
	if (fm->live != fm->f->live)
		free((void *)fm->live);
	grouping_free(fm->kept);
}

static int
too_many(struct formatter *fm)
{
	char label[128];
	size_t distinct;

	agg_busiest_label(fm->a, label, sizeof(label), &distinct);
	return perr_set(fm->e, PERR_FAILED, "series limit reached: %zu series "
	    "to render, more than max_series %zu; label \"%s\" has the most "
	    "distinct values (%zu): drop it from [journal] labels or raise "
	    "[render] max_series", fm->samples, fm->f->max_series, label,
	    distinct);
}

/* Each family ends where the next one made starts. */
static void
mark_ends(struct formatter *fm)
{
	size_t i;

	for (i = 0; i < fm->nfams; i++)
		fm->fams[i].end = i + 1 < fm->nfams ? fm->fams[i + 1].start :
		    fm->text->len;
}

/*
 * Hand the families to the sink in name order, families that lie one after
 * another in the text in one piece (usually all of them).
 */
static int
emit_sorted(struct formatter *fm, render_sink sink, void *ctx)
{
	const char *text = fm->text->p != NULL ? fm->text->p : "";
	size_t i = 0, from, to;
	int rc = 0;

	mark_ends(fm);
	if (fm->nfams > 1)	/* qsort(NULL, 0, ...) is undefined */
		qsort(fm->fams, fm->nfams, sizeof(*fm->fams), compare_families);
	while (i < fm->nfams && rc == 0) {
		from = fm->fams[i].start;
		to = fm->fams[i].end;
		while (++i < fm->nfams && fm->fams[i].start == to)
			to = fm->fams[i].end;
		rc = sink(ctx, text + from, to - from);
	}
	return rc;
}

/* What every row of every family uses: status values (and, for text,
 * their pieces); room for the "le" texts (le_texts). */
static int
prepare(struct formatter *fm)
{
	struct render_statuses *kept = fm->f->statuses;
	size_t k;
	int st;

	if (kept != NULL && kept->preset == fm->f->preset) {
		fm->nvalues = kept->n;
		memcpy(fm->values, kept->values, sizeof(fm->values));
		memcpy(fm->value_of, kept->value_of, sizeof(fm->value_of));
	} else {
		fm->nvalues = status_values(fm->f->preset, fm->values);
		for (st = 0; st < RUN_STATUS_COUNT; st++) {
			const char *v = fm->f->preset->status_names[st];

			fm->value_of[st] = -1;
			for (k = 0; st > 0 && v != NULL && k < fm->nvalues; k++)
				if (strcmp(fm->values[k], v) == 0)
					fm->value_of[st] = (int)k;
		}
	}
	if (kept != NULL && kept->preset != fm->f->preset) {
		kept->preset = fm->f->preset;
		kept->n = fm->nvalues;
		memcpy(kept->values, fm->values, sizeof(kept->values));
		memcpy(kept->value_of, fm->value_of, sizeof(kept->value_of));
	}
	if (fm->nbuckets + 1 > RENDER_LE_MAX)
		return PERR_NOMEM;
	for (k = 0; fm->f->on_sample == NULL && k < fm->nvalues; k++)
		if (make_piece("status", fm->values[k],
		    &fm->status_piece[k]) != 0)
			return PERR_NOMEM;
	return 0;
}

/* A formatter for a render of a under f, zeroed but for the bucket
 * texts. */
static void
formatter_start(struct formatter *fm, const struct agg *a,
    const struct render_format *f, struct perr *e)
{
	memset(fm, 0, FORMATTER_ZEROED);
	fm->a = a;
	fm->f = f;
	fm->e = e;
	fm->buckets = agg_buckets(a, &fm->nbuckets);
}

/* Rows merge histograms only for a render that shows one (rows serve
 * every family grouped the same way). */
static void
need_hists(struct formatter *fm)
{
	const struct schema_preset *p = fm->f->preset;

	for (size_t i = 0; i < p->nfamilies; i++)
		if (p->families[i].value == SV_DURATION &&
		    wanted(fm, &p->families[i], i))
			fm->need_hists = true;
}

/* The families made for series of each scope (workflows, steps), in the
 * preset's order: those wanted, promrun's own left out. */
struct made {
	const struct schema_family *fam[2][SCHEMA_MAX_FAMILIES];
	size_t n[2];
};

static void
families_made(struct formatter *fm, struct made *m)
{
	const struct schema_preset *p = fm->f->preset;

	m->n[0] = m->n[1] = 0;
	for (size_t i = 0; i < p->nfamilies; i++) {
		const struct schema_family *fam = &p->families[i];
		int step = fam->scope == SCOPE_STEP;

		if (fam->scope != SCOPE_SELF && m->n[step] <
		    SCHEMA_MAX_FAMILIES && wanted(fm, fam, i))
			m->fam[step][m->n[step]++] = fam;
	}
}

/* The values of series s's row, alone: every family made of its scope
 * in the preset's order, as write_family writes them. */
static int
series_values(struct formatter *fm, const struct made *m, size_t index,
    const struct agg_series *s)
{
	int step = s->step != NULL, rc, st;
	struct row r;

	memset(&r, 0, sizeof(r));
	r.series = index;
	r.nseries = 1;
	rc = accumulate(fm, &r, s, &fm->live[index], fm->need_hists);
	for (size_t i = 0; i < m->n[step] && rc == 0; i++)
		rc = write_row(fm, m->fam[step][i], "", &r, NULL);
	for (st = 0; r.hist != NULL && st < RUN_STATUS_COUNT; st++)
		free(r.hist[st].buckets);
	free(r.hist);
	return rc;
}

int
render_series_values(const struct agg *a, const struct render_format *f,
    const size_t *series, size_t nseries, double *values, size_t cap,
    size_t *counts, size_t *n, struct perr *e)
{
	struct formatter fm;
	struct made made;
	size_t before;
	int rc = 0;

	formatter_start(&fm, a, f, e);
	fm.live = f->live;
	fm.vals = values;
	fm.capvals = cap;
	if (prepare(&fm) != 0)
		return perr_set(e, PERR_NOMEM, "out of memory while rendering");
	need_hists(&fm);
	families_made(&fm, &made);
	for (size_t i = 0; i < nseries && rc == 0; i++) {
		before = fm.nvals;
		rc = series_values(&fm, &made, series[i], agg_series_at(a,
		    series[i]));
		counts[i] = fm.nvals - before;
	}
	*n = fm.nvals;
	return rc != 0 ? perr_set(e, PERR_NOMEM, "out of memory while "
	    "rendering") : 0;
}

int
render_format(const struct agg *a, const struct render_format *f,
    render_sink sink, void *ctx, size_t *nsamples, struct perr *e)
{
	struct formatter fm;
	struct agg_live *live;
	size_t i;
	int rc = 0;

	formatter_start(&fm, a, f, e);
	fm.row_series = SIZE_MAX;
	buf_init(&fm.own, (size_t)1 << 31);
	fm.text = f->scratch != NULL ? f->scratch : &fm.own;
	buf_reset(fm.text);
	if (prepare(&fm) != 0)
		return perr_set(e, PERR_NOMEM, "out of memory while rendering");
	if (f->live != NULL) {
		fm.live = f->live;
	} else {
		if ((live = calloc(agg_nseries(a) + 1, sizeof(*live))) == NULL)
			return perr_set(e, PERR_NOMEM,
			    "out of memory while rendering");
		agg_live_at(a, f->now, live);
		fm.live = live;
	}
	need_hists(&fm);
	for (i = 0; i < f->preset->nfamilies && rc == 0; i++) {
		const struct schema_family *fam = &f->preset->families[i];

		if (!wanted(&fm, fam, i))
			continue;
		rc = fam->scope == SCOPE_SELF ? write_self(&fm, fam) :
		    write_family(&fm, fam);
	}
	if (rc == 0 && f->max_series > 0 && f->want_series == NULL &&
	    fm.samples > f->max_series)
		rc = too_many(&fm);
	if (rc == PERR_NOMEM)
		nomem(&fm);
	if (rc == 0 && sink != NULL)
		rc = emit_sorted(&fm, sink, ctx);
	*nsamples = fm.samples;
	formatter_free(&fm);
	return rc;
}
