/* aggregate.c - fold journal records into per-series state (see aggregate.h). */
#define _POSIX_C_SOURCE 200809L
#include "metrics/aggregate.h"
#include "common/hmap.h"
#include "common/text.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCOPE_WORKFLOW_BYTE 'w'
#define SCOPE_STEP_BYTE 's'
#define REBUILD_SLACK 64	/* dead open runs tolerated beyond the live ones
				   before a rebuild: each scrape of a replay
				   reads them all (agg_live_at) */

struct open_run {
	size_t series;
	double time;
	const char *key;	/* the open map's copy of the key */
	size_t keylen;
	bool live;
};

struct agg {
	struct agg_config cfg;
	double *buckets;
	char **labels;
	struct hmap series_map;		/* key -> index */
	struct agg_series **series;
	size_t nseries, capseries;
	bool *changed_mark;		/* per series: in changed[] */
	size_t *changed, nchanged;	/* capseries each, as series */
	struct hmap open_map;		/* key -> index in opens */
	struct open_run *opens;
	size_t nopens, capopens, nlive;
	uint64_t records_ok, records_corrupt;
	uint64_t records_foreign;	/* folded here, not part of the state */
	struct buf key;			/* scratch */
};

/* --- setup --- */

int
agg_new(struct agg **out, const struct agg_config *cfg, struct perr *e)
{
	struct agg *a = calloc(1, sizeof(*a));
	size_t i;

	if (a == NULL)
		goto nomem;
	a->cfg = *cfg;
	buf_init(&a->key, 1 << 20);
	a->buckets = calloc(cfg->nbuckets + 1, sizeof(double));
	a->labels = calloc(cfg->nlabels + 1, sizeof(char *));
	if (a->buckets == NULL || a->labels == NULL)
		goto nomem;
	memcpy(a->buckets, cfg->buckets, cfg->nbuckets * sizeof(double));
	for (i = 0; i < cfg->nlabels; i++)
		if ((a->labels[i] = strdup(cfg->labels[i])) == NULL)
			goto nomem;
	a->cfg.buckets = a->buckets;
	a->cfg.labels = a->labels;
	*out = a;
	return 0;
nomem:
	agg_free(a);
	return perr_set(e, PERR_NOMEM, "out of memory");
}

static void
free_series(struct agg_series *s)
{
	int i;

	for (i = 0; i < RUN_STATUS_COUNT; i++)
		free(s->hist[i].buckets);
	free((void *)s->labels);
	free(s);
}

void
agg_free(struct agg *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nseries; i++)
		free_series(a->series[i]);
	free(a->series);
	free(a->changed_mark);
	free(a->changed);
	if (a->labels != NULL)
		for (i = 0; i < a->cfg.nlabels; i++)
			free(a->labels[i]);
	free(a->labels);
	free(a->buckets);
	free(a->opens);
	hmap_free(&a->series_map);
	hmap_free(&a->open_map);
	buf_free(&a->key);
	free(a);
}

void
agg_add_damage(struct agg *a, uint64_t regions)
{
	a->records_corrupt += regions;
}

uint64_t
agg_records_ok(const struct agg *a)
{
	return a->records_ok;
}

uint64_t
agg_records_corrupt(const struct agg *a)
{
	return a->records_corrupt;
}

uint64_t
agg_records_foreign(const struct agg *a)
{
	return a->records_foreign;
}

size_t
agg_nseries(const struct agg *a)
{
	return a->nseries;
}

const struct agg_series *
agg_series_at(const struct agg *a, size_t index)
{
	return a->series[index];
}

const double *
agg_buckets(const struct agg *a, size_t *nbuckets)
{
	*nbuckets = a->cfg.nbuckets;
	return a->buckets;
}

/* --- series lookup --- */

/* Foreign names (run.h) never make a series, allow-list or not. */
static bool
allowed(const struct agg *a, const char *name)
{
	size_t i;

	if (run_label_foreign(name))
		return false;
	if (a->cfg.nlabels == 0)
		return true;
	for (i = 0; i < a->cfg.nlabels; i++)
		if (strcmp(a->labels[i], name) == 0)
			return true;
	return false;
}

/* Indexes of the allowed labels, sorted by name. */
static size_t
sorted_allowed(const struct agg *a, const struct run_label *l, size_t n,
    size_t *order)
{
	size_t i, j, k = 0, t;

	for (i = 0; i < n; i++)
		if (allowed(a, l[i].name))
			order[k++] = i;
	for (i = 1; i < k; i++)
		for (j = i; j > 0 && strcmp(l[order[j - 1]].name,
		    l[order[j]].name) > 0; j--) {
			t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	return k;
}

/* Copy the n bytes of s and its NUL at *p, moving *p past them. */
static void
put(char **p, const char *s, size_t n)
{
	memcpy(*p, s, n + 1);
	*p += n + 1;
}

/*
 * The series key: scope byte, workflow NUL, [step NUL,] then name NUL
 * value NUL for each allowed label in name order.
 */
static int
build_key(struct agg *a, const char *workflow, const char *step,
    const struct run_label *l, size_t n)
{
	size_t order[RUN_MAX_LABELS], len[2 * RUN_MAX_LABELS + 2], k, i, total;
	struct buf *b = &a->key;
	char *p;

	buf_reset(b);
	k = sorted_allowed(a, l, n, order);
	/* Measured first, then made in one piece: every record asks. */
	len[0] = strlen(workflow);
	len[1] = step != NULL ? strlen(step) : 0;
	total = 1 + len[0] + 1 + (step != NULL ? len[1] + 1 : 0);
	for (i = 0; i < k; i++) {
		len[2 + 2 * i] = strlen(l[order[i]].name);
		len[3 + 2 * i] = strlen(l[order[i]].value);
		total += len[2 + 2 * i] + len[3 + 2 * i] + 2;
	}
	if (buf_extend(b, total, &p) != 0)
		return PERR_NOMEM;
	*p++ = step != NULL ? SCOPE_STEP_BYTE : SCOPE_WORKFLOW_BYTE;
	put(&p, workflow, len[0]);
	if (step != NULL)
		put(&p, step, len[1]);
	for (i = 0; i < k; i++) {
		put(&p, l[order[i]].name, len[2 + 2 * i]);
		put(&p, l[order[i]].value, len[3 + 2 * i]);
	}
	return 0;
}

/* Point a new series' strings into its key (which the map owns). */
static int
unpack_key(struct agg_series *s, const char *key, size_t len)
{
	const char *p = key + 1, *end = key + len;
	struct run_label *labels;
	size_t n = 0, cap = 0;

	s->workflow = p;
	p += strlen(p) + 1;
	if (key[0] == SCOPE_STEP_BYTE) {
		s->step = p;
		p += strlen(p) + 1;
	}
	for (const char *q = p; q < end; q += strlen(q) + 1)
		cap++;
	labels = calloc(cap / 2 + 1, sizeof(*labels));
	if (labels == NULL)
		return PERR_NOMEM;
	while (p < end) {
		labels[n].name = p;
		p += strlen(p) + 1;
		labels[n].value = p;
		p += strlen(p) + 1;
		n++;
	}
	s->labels = labels;
	s->nlabels = n;
	return 0;
}

void
agg_busiest_label(const struct agg *a, char *worst, size_t size,
    size_t *distinct)
{
	struct hmap pairs = HMAP_INIT, per_name = HMAP_INIT;
	size_t best = 0, i, k, *slot;
	bool found;
	struct buf pair = BUF_INIT(1 << 16);

	snprintf(worst, size, "workflow");
	for (i = 0; i < a->nseries; i++) {
		const struct agg_series *s = a->series[i];
		const char *names[RUN_MAX_LABELS + 2], *values[RUN_MAX_LABELS + 2];
		size_t n = 0;

		names[n] = "workflow";
		values[n++] = s->workflow;
		if (s->step != NULL) {
			names[n] = "step";
			values[n++] = s->step;
		}
		for (k = 0; k < s->nlabels; k++) {
			names[n] = s->labels[k].name;
			values[n++] = s->labels[k].value;
		}
		for (k = 0; k < n; k++) {
			buf_reset(&pair);
			if (buf_add(&pair, names[k], strlen(names[k]) + 1) ||
			    buf_adds(&pair, values[k]) ||
			    hmap_upsert(&pairs, pair.p, pair.len, &slot, &found))
				goto out;
			if (found)
				continue;
			if (hmap_upsert(&per_name, names[k], strlen(names[k]),
			    &slot, &found))
				goto out;
			if (++*slot > best) {
				best = *slot;
				snprintf(worst, size, "%s", names[k]);
			}
		}
	}
out:
	hmap_free(&pairs);
	hmap_free(&per_name);
	buf_free(&pair);
	*distinct = best;
}

static int
explain_limit(struct agg *a, struct perr *e)
{
	char label[128];
	size_t distinct;

	agg_busiest_label(a, label, sizeof(label), &distinct);
	return perr_set(e, PERR_FAILED, "series limit reached: more than "
	    "max_series %zu series; label \"%s\" has the most distinct values "
	    "(%zu): drop it from [journal] labels or raise [render] max_series",
	    a->cfg.max_series, label, distinct);
}

static int
new_series(struct agg *a, size_t **slot, size_t *index, struct perr *e)
{
	struct agg_series *s, **grown;
	const char *key;

	if (a->nseries == a->capseries) {
		size_t cap = a->capseries ? a->capseries * 2 : 64;
		bool *mark;
		size_t *changed;

		if ((grown = realloc(a->series, cap * sizeof(*grown))) == NULL)
			return perr_set(e, PERR_NOMEM, "out of memory");
		a->series = grown;
		if ((mark = realloc(a->changed_mark, cap * sizeof(*mark))) ==
		    NULL)
			return perr_set(e, PERR_NOMEM, "out of memory");
		a->changed_mark = mark;
		if ((changed = realloc(a->changed, cap * sizeof(*changed))) ==
		    NULL)
			return perr_set(e, PERR_NOMEM, "out of memory");
		a->changed = changed;
		a->capseries = cap;
	}
	key = hmap_key_of(&a->series_map, a->key.p, a->key.len);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    unpack_key(s, key, a->key.len) != 0) {
		free(s);
		return perr_set(e, PERR_NOMEM, "out of memory");
	}
	**slot = a->nseries;
	*index = a->nseries;
	a->changed_mark[a->nseries] = false;
	a->series[a->nseries++] = s;
	return 0;
}

/* Series i is about to change: list it in changed[] (once). */
static void
mark_changed(struct agg *a, size_t i)
{
	if (a->changed_mark[i])
		return;
	a->changed_mark[i] = true;
	a->changed[a->nchanged++] = i;
}

void
agg_changed(const struct agg *a, const size_t **changed, size_t *n)
{
	*changed = a->changed;
	*n = a->nchanged;
}

void
agg_changed_clear(struct agg *a)
{
	for (size_t i = 0; i < a->nchanged; i++)
		a->changed_mark[a->changed[i]] = false;
	a->nchanged = 0;
}

/* Find or make the series for these names; *index receives it. */
static int
series_for(struct agg *a, const char *workflow, const char *step,
    const struct run_label *l, size_t n, size_t *index, struct perr *e)
{
	size_t *slot;
	bool found;

	int rc;

	if (build_key(a, workflow, step, l, n) != 0)
		return perr_set(e, PERR_NOMEM, "out of memory");
	if (hmap_find(&a->series_map, a->key.p, a->key.len, index)) {
		/* Every caller changes the series it asks for. */
		mark_changed(a, *index);
		return 0;
	}
	if (a->cfg.max_series > 0 && a->nseries >= a->cfg.max_series)
		return explain_limit(a, e);
	if (hmap_upsert(&a->series_map, a->key.p, a->key.len, &slot,
	    &found) != 0)
		return perr_set(e, PERR_NOMEM, "out of memory");
	if ((rc = new_series(a, &slot, index, e)) == 0)
		mark_changed(a, *index);
	return rc;
}

/* --- applying events to a series --- */

static int
observe(const struct agg *a, struct agg_hist *h, double duration)
{
	size_t i;

	if (h->buckets == NULL &&
	    (h->buckets = calloc(a->cfg.nbuckets + 1, sizeof(uint64_t))) == NULL)
		return PERR_NOMEM;
	for (i = 0; i < a->cfg.nbuckets && duration > a->buckets[i]; i++)
		;
	h->buckets[i]++;
	h->count++;
	h->sum += duration;
	return 0;
}

/* The newer value wins; on equal times the later record. */
static void
newer(bool *has, double *slot_time, double time)
{
	if (!*has || time >= *slot_time) {
		*has = true;
		*slot_time = time;
	}
}

static void
set_outcome(struct agg_series *s, enum run_status st, double time)
{
	if (!s->has_outcome || time >= s->outcome_time) {
		s->has_outcome = true;
		s->outcome_time = time;
		s->outcome = st;
	}
}

/* A finished run's gauges and histogram; counted is runs[] or late[]. */
static int
finished(struct agg *a, struct agg_series *s, uint64_t *counted,
    enum run_status st, double time, bool has_duration, double duration)
{
	counted[st]++;
	set_outcome(s, st, time);
	newer(&s->has_run, &s->run_time, time);
	if (st == RUN_SUCCESS)
		newer(&s->has_success, &s->success_time, time);
	if (!has_duration)
		return 0;
	if (!s->has_duration || time >= s->duration_time) {
		s->has_duration = true;
		s->duration_time = time;
		s->duration = duration;
	}
	return observe(a, &s->hist[st], duration);
}

static int
nomem(struct perr *e)
{
	return perr_set(e, PERR_NOMEM, "out of memory");
}

/* --- open runs --- */

/* Key of an open run: scope byte, workflow NUL, step (or "") NUL, run id. */
static int
open_key(struct agg *a, const struct run *r)
{
	struct buf *b = &a->key;
	const char *step = r->step != NULL ? r->step : "";

	buf_reset(b);
	if (buf_addc(b, r->step != NULL ? SCOPE_STEP_BYTE : SCOPE_WORKFLOW_BYTE) ||
	    buf_add(b, r->workflow, strlen(r->workflow) + 1) ||
	    buf_add(b, step, strlen(step) + 1) || buf_adds(b, r->run_id))
		return PERR_NOMEM;
	return 0;
}

/* The run id inside an open run's key. */
static const char *
open_run_id(const struct open_run *o)
{
	const char *p = o->key + 1;

	p += strlen(p) + 1;
	return p + strlen(p) + 1;
}

/* The live open run for r's key, or NULL. */
static struct open_run *
find_open(struct agg *a, const struct run *r)
{
	size_t i;

	if (open_key(a, r) != 0 ||
	    !hmap_find(&a->open_map, a->key.p, a->key.len, &i))
		return NULL;
	return a->opens[i].live ? &a->opens[i] : NULL;
}

/*
 * Finished runs leave dead entries behind; once they outnumber the live
 * ones, the map is rebuilt from the live runs, so memory follows the runs
 * in flight, not the length of the journal.
 */
static int
rebuild_opens(struct agg *a)
{
	struct hmap fresh = HMAP_INIT;
	size_t i, n = 0, *slot;
	bool found;

	for (i = 0; i < a->nopens; i++) {
		struct open_run o = a->opens[i];

		if (!o.live)
			continue;
		if (hmap_upsert(&fresh, o.key, o.keylen, &slot, &found) != 0) {
			hmap_free(&fresh);
			return PERR_NOMEM;
		}
		*slot = n;
		o.key = hmap_key_of(&fresh, o.key, o.keylen);
		a->opens[n++] = o;
	}
	hmap_free(&a->open_map);
	a->open_map = fresh;
	a->nopens = n;
	return 0;
}

static int
add_open(struct agg *a, size_t series, double time, struct perr *e)
{
	struct open_run *o, *grown;
	size_t *slot;
	bool found;

	if (hmap_upsert(&a->open_map, a->key.p, a->key.len, &slot, &found))
		return nomem(e);
	if (found && a->opens[*slot].live) {
		/* A start with the key of an open run replaces it. */
		a->opens[*slot].series = series;
		a->opens[*slot].time = time;
		return 0;
	}
	if (a->nopens == a->capopens) {
		a->capopens = a->capopens ? a->capopens * 2 : 64;
		grown = realloc(a->opens, a->capopens * sizeof(*grown));
		if (grown == NULL)
			return nomem(e);
		a->opens = grown;
	}
	*slot = a->nopens;
	o = &a->opens[a->nopens++];
	o->series = series;
	o->time = time;
	o->key = hmap_key_of(&a->open_map, a->key.p, a->key.len);
	o->keylen = a->key.len;
	o->live = true;
	a->nlive++;
	return 0;
}

static void
close_open(struct agg *a, struct open_run *o)
{
	o->live = false;
	a->nlive--;
}

/* --- folding user records --- */

static int
fold_start(struct agg *a, const struct run *r, struct perr *e)
{
	size_t series;
	int rc;

	if ((rc = series_for(a, r->workflow, r->step, r->labels, r->nlabels,
	    &series, e)) != 0)
		return rc;
	if (open_key(a, r) != 0 || (rc = add_open(a, series, r->time, e)) != 0)
		return rc ? rc : nomem(e);
	newer(&a->series[series]->has_start, &a->series[series]->start_time,
	    r->time);
	if (a->nopens - a->nlive > a->nlive + REBUILD_SLACK &&
	    rebuild_opens(a) != 0)
		return nomem(e);
	return 0;
}

/* A run or finish event without a matching start. */
static int
fold_unmatched(struct agg *a, const struct run *r, struct perr *e)
{
	struct agg_series *s;
	size_t series;
	int rc;

	if ((rc = series_for(a, r->workflow, r->step, r->labels, r->nlabels,
	    &series, e)) != 0)
		return rc;
	s = a->series[series];
	if (r->has_duration)
		newer(&s->has_start, &s->start_time, r->time - r->duration);
	if (finished(a, s, s->runs, r->status, r->time, r->has_duration,
	    r->duration) != 0)
		return nomem(e);
	return 0;
}

/* A finish for an open run: on time, or late after it was lost. */
static int
fold_matched(struct agg *a, const struct run *r, struct open_run *o,
    struct perr *e)
{
	struct agg_series *start_series = a->series[o->series], *s;
	double duration = r->duration, start = o->time;
	bool has_duration = r->has_duration;
	size_t series = o->series;
	int rc;

	close_open(a, o);
	mark_changed(a, series);
	if (r->nlabels > 0 && (rc = series_for(a, r->workflow, r->step,
	    r->labels, r->nlabels, &series, e)) != 0)
		return rc;
	s = a->series[series];
	if (!has_duration && r->time >= start) {
		has_duration = true;
		duration = r->time - start;
	}
	if (r->time - start <= a->cfg.lost_after)
		return finished(a, s, s->runs, r->status, r->time, has_duration,
		    duration) != 0 ? nomem(e) : 0;
	start_series->runs[RUN_LOST]++;
	set_outcome(start_series, RUN_LOST, start + a->cfg.lost_after);
	return finished(a, s, s->late, r->status, r->time, has_duration,
	    duration) != 0 ? nomem(e) : 0;
}

static int
fold_user_record(struct agg *a, const struct run *r, struct perr *e)
{
	struct open_run *o;

	switch (r->event) {
	case RUN_EVENT_START:
		return fold_start(a, r, e);
	case RUN_EVENT_FINISH:
		if ((o = find_open(a, r)) != NULL)
			return fold_matched(a, r, o, e);
		return fold_unmatched(a, r, e);
	default:
		return fold_unmatched(a, r, e);
	}
}

/* --- admission: the series limit, before anything is stored --- */

/* Does r join a series without making one (a finish matching a start)? */
static bool
joins_start(struct agg *a, const struct run *r, struct hmap *starts)
{
	if (r->event != RUN_EVENT_FINISH || r->nlabels > 0)
		return false;
	if (find_open(a, r) != NULL)
		return true;
	return open_key(a, r) == 0 &&
	    hmap_find(starts, a->key.p, a->key.len, NULL);
}

int
agg_admit(struct agg *a, const struct run *const *runs, size_t n,
    size_t pending, size_t *added, size_t *bad, struct perr *e)
{
	struct hmap fresh = HMAP_INIT, starts = HMAP_INIT;
	size_t i, *slot, count = 0;
	bool found;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const struct run *r = runs[i];

		if (joins_start(a, r, &starts))
			continue;
		if (r->event == RUN_EVENT_START && (open_key(a, r) != 0 ||
		    hmap_upsert(&starts, a->key.p, a->key.len, &slot, &found))) {
			rc = nomem(e);
			break;
		}
		if (build_key(a, r->workflow, r->step, r->labels,
		    r->nlabels) != 0 || hmap_upsert(&fresh, a->key.p,
		    a->key.len, &slot, &found) != 0) {
			rc = nomem(e);
			break;
		}
		if (found || hmap_find(&a->series_map, a->key.p, a->key.len,
		    NULL))
			continue;
		count++;
		if (a->cfg.max_series > 0 &&
		    a->nseries + pending + count > a->cfg.max_series) {
			*bad = i;
			rc = explain_limit(a, e);
		}
	}
	hmap_free(&fresh);
	hmap_free(&starts);
	*added = count;
	return rc;
}

/* --- snapshot and meta records --- */

static bool
parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	*out = strtoull(s, &end, 10);
	return *end == '\0' || *end == ',';
}

/* "a,b,c,d,e": one count per status, success first. */
static bool
parse_status_counts(char *v, uint64_t *counts)
{
	int i;

	for (i = 1; i < RUN_STATUS_COUNT; i++) {
		if (!parse_u64(v, &counts[i]))
			return false;
		v = strchr(v, ',');
		if ((v == NULL) != (i == RUN_STATUS_COUNT - 1))
			return false;
		if (v != NULL)
			v++;
	}
	return true;
}

static bool
parse_double(const char *s, char **end, double *out)
{
	return text_parse_double(s, end, out) && isfinite(*out);
}

/* "time" or "time,value" */
static bool
parse_time_value(const char *v, double *time, double *value)
{
	char *end;

	if (!parse_double(v, &end, time))
		return false;
	if (value == NULL)
		return *end == '\0';
	return *end == ',' && parse_double(end + 1, &end, value) &&
	    *end == '\0';
}

static int
status_index(const char *name)
{
	int i;

	for (i = 1; i < RUN_STATUS_COUNT; i++)
		if (strcmp(name, run_status_name((enum run_status)i)) == 0)
			return i;
	return -1;
}

/* The bucket a stored bound falls into (exact when the bounds agree). */
static size_t
bucket_for_bound(const struct agg *a, double bound)
{
	size_t i;

	for (i = 0; i < a->cfg.nbuckets && a->buckets[i] < bound; i++)
		;
	return i;
}

/* "count,sum,bound:n,...,+Inf:n" added into h. */
static bool
merge_hist(const struct agg *a, struct agg_hist *h, char *v)
{
	uint64_t count, n;
	double sum, bound;
	char *end;

	if (!parse_u64(v, &count) || (v = strchr(v, ',')) == NULL ||
	    !parse_double(v + 1, &end, &sum) || *end != ',')
		return false;
	if (h->buckets == NULL &&
	    (h->buckets = calloc(a->cfg.nbuckets + 1, sizeof(uint64_t))) == NULL)
		return false;
	h->count += count;
	h->sum += sum;
	for (v = end + 1; *v != '\0'; v = end + 1) {
		if (strncmp(v, "+Inf:", 5) == 0) {
			bound = INFINITY;
			end = v + 4;
		} else if (!parse_double(v, &end, &bound) || *end != ':') {
			return false;
		}
		if (!parse_u64(end + 1, &n))
			return false;
		h->buckets[bucket_for_bound(a, bound)] += n;
		end = strchr(end + 1, ',');
		if (end == NULL)
			break;
	}
	return true;
}

struct snapshot {
	const char *workflow, *step;
	struct run_label labels[RUN_MAX_LABELS];
	size_t nlabels;
	char *fields[64][2];	/* the state fields, applied once the series is known */
	size_t nfields;
};

static bool
apply_field(struct agg *a, struct agg_series *s, const char *k, char *v)
{
	double t, x;
	int st;

	if (strcmp(k, "runs") == 0) {
		uint64_t c[RUN_STATUS_COUNT] = {0};

		if (!parse_status_counts(v, c))
			return false;
		for (st = 1; st < RUN_STATUS_COUNT; st++)
			s->runs[st] += c[st];
		return true;
	}
	if (strcmp(k, "late") == 0) {
		uint64_t c[RUN_STATUS_COUNT] = {0};

		if (!parse_status_counts(v, c))
			return false;
		for (st = 1; st < RUN_STATUS_COUNT; st++)
			s->late[st] += c[st];
		return true;
	}
	if (strncmp(k, "hist.", 5) == 0)
		return (st = status_index(k + 5)) > 0 &&
		    merge_hist(a, &s->hist[st], v);
	if (strcmp(k, "outcome") == 0) {
		char *comma = strchr(v, ',');

		if (comma == NULL)
			return false;
		*comma = '\0';
		if (!parse_time_value(v, &t, NULL) ||
		    (st = status_index(comma + 1)) < 0)
			return false;
		set_outcome(s, (enum run_status)st, t);
		return true;
	}
	if (strcmp(k, "duration") == 0) {
		if (!parse_time_value(v, &t, &x))
			return false;
		if (!s->has_duration || t >= s->duration_time) {
			s->has_duration = true;
			s->duration_time = t;
			s->duration = x;
		}
		return true;
	}
	if (!parse_time_value(v, &t, NULL))
		return false;
	if (strcmp(k, "run") == 0)
		newer(&s->has_run, &s->run_time, t);
	else if (strcmp(k, "success") == 0)
		newer(&s->has_success, &s->success_time, t);
	else if (strcmp(k, "start") == 0)
		newer(&s->has_start, &s->start_time, t);
	else
		return false;
	return true;
}

static int
fold_snapshot(struct agg *a, char *cursor, struct perr *e)
{
	struct snapshot snap;
	char *k, *v;
	size_t series, i;
	int got, rc;

	memset(&snap, 0, sizeof(snap));
	while ((got = run_field_next(&cursor, &k, &v)) > 0) {
		if (strcmp(k, "workflow") == 0) {
			snap.workflow = v;
		} else if (strcmp(k, "step") == 0) {
			snap.step = v;
		} else if (strncmp(k, "label.", 6) == 0 &&
		    snap.nlabels < RUN_MAX_LABELS) {
			snap.labels[snap.nlabels].name = k + 6;
			snap.labels[snap.nlabels++].value = v;
		} else if (snap.nfields < 64) {
			snap.fields[snap.nfields][0] = k;
			snap.fields[snap.nfields++][1] = v;
		} else {
			got = -1;
			break;
		}
	}
	if (got < 0 || snap.workflow == NULL || snap.workflow[0] == '\0')
		return perr_set(e, PERR_CORRUPT, "malformed snapshot record");
	if ((rc = series_for(a, snap.workflow, snap.step, snap.labels,
	    snap.nlabels, &series, e)) != 0)
		return rc;
	for (i = 0; i < snap.nfields; i++)
		if (!apply_field(a, a->series[series], snap.fields[i][0],
		    snap.fields[i][1]))
			return perr_set(e, PERR_CORRUPT, "bad field \"%.40s\" in "
			    "snapshot record", snap.fields[i][0]);
	return 0;
}

static int
fold_meta(struct agg *a, char *cursor, struct perr *e)
{
	uint64_t n;
	char *k, *v;
	int got;

	while ((got = run_field_next(&cursor, &k, &v)) > 0) {
		if (!parse_u64(v, &n) || strchr(v, ',') != NULL)
			return perr_set(e, PERR_CORRUPT, "bad meta record");
		if (strcmp(k, "records_ok") == 0)
			a->records_ok += n;
		else if (strcmp(k, "records_corrupt") == 0)
			a->records_corrupt += n;
		else
			return perr_set(e, PERR_CORRUPT, "bad meta record");
	}
	return got < 0 ? perr_set(e, PERR_CORRUPT, "bad meta record") : 0;
}

/*
 * An open run carried over by a checkpoint or compaction: a start that was
 * already counted as a record when it was first folded.
 */
static int
fold_carried_open(struct agg *a, char *payload, size_t len, struct perr *e)
{
	struct buf copy = BUF_INIT(len + 8);
	struct run r;
	int rc;

	if (buf_adds(&copy, "start") || buf_add(&copy, payload + 4, len - 4))
		return nomem(e);
	rc = run_decode(copy.p, copy.len, &r, e);
	if (rc == 0)
		rc = fold_start(a, &r, e);
	buf_free(&copy);
	return rc;
}

static bool
has_foreign_label(const struct run *r)
{
	size_t i;

	for (i = 0; i < r->nlabels; i++)
		if (run_label_foreign(r->labels[i].name))
			return true;
	return false;
}

int
agg_fold(struct agg *a, char *payload, size_t len, struct perr *e)
{
	struct run r;
	char *cursor;
	int rc;

	payload[len] = '\0';
	if (strncmp(payload, "snapshot ", 9) == 0 ||
	    strncmp(payload, "meta ", 5) == 0) {
		bool snapshot = payload[0] == 's';

		cursor = run_split_type(payload);
		rc = snapshot ? fold_snapshot(a, cursor, e) :
		    fold_meta(a, cursor, e);
	} else if (strncmp(payload, "open ", 5) == 0) {
		rc = fold_carried_open(a, payload, len, e);
	} else if ((rc = run_decode(payload, len, &r, e)) == 0) {
		rc = fold_user_record(a, &r, e);
		if (rc == 0)
			a->records_ok++;
		if (rc == 0 && has_foreign_label(&r))
			a->records_foreign++;
	}
	if (rc == PERR_CORRUPT)
		a->records_corrupt++;
	return rc;
}

int
agg_fold_run(struct agg *a, const struct run *r, struct perr *e)
{
	int rc;

	if ((rc = fold_user_record(a, r, e)) == 0)
		a->records_ok++;
	if (rc == 0 && has_foreign_label(r))
		a->records_foreign++;
	return rc;
}

/* --- reading the state at a time --- */

int
agg_live_at(const struct agg *a, double now, struct agg_live *live)
{
	size_t i;

	memset(live, 0, a->nseries * sizeof(*live));
	for (i = 0; i < a->nopens; i++) {
		const struct open_run *o = &a->opens[i];
		struct agg_live *l;
		double deadline = o->time + a->cfg.lost_after;

		if (!o->live)
			continue;
		l = &live[o->series];
		if (now - o->time <= a->cfg.lost_after) {
			l->in_progress++;
			continue;
		}
		l->lost++;
		if (!l->has_lost || deadline > l->lost_deadline) {
			l->has_lost = true;
			l->lost_deadline = deadline;
		}
	}
	return 0;
}

double
agg_next_lost(const struct agg *a, double now)
{
	double next = INFINITY, deadline;
	size_t i;

	for (i = 0; i < a->nopens; i++) {
		if (!a->opens[i].live)
			continue;
		deadline = a->opens[i].time + a->cfg.lost_after;
		if (deadline >= now && deadline < next)
			next = deadline;
	}
	return next;
}

/* --- writing the state --- */

static int
add_counts(struct buf *b, const char *key, const uint64_t *c)
{
	int i, any = 0;

	for (i = 1; i < RUN_STATUS_COUNT; i++)
		any |= c[i] != 0;
	if (!any)
		return 0;
	if (buf_addc(b, ' ') || buf_adds(b, key) || buf_addc(b, '='))
		return PERR_NOMEM;
	for (i = 1; i < RUN_STATUS_COUNT; i++)
		if ((i > 1 && buf_addc(b, ',')) || buf_add_u64(b, c[i]))
			return PERR_NOMEM;
	return 0;
}

static int
add_number(struct buf *b, const char *prefix, double v)
{
	return buf_adds(b, prefix) || buf_add_double(b, v) ? PERR_NOMEM : 0;
}

static int
add_hist(const struct agg *a, struct buf *b, int st, const struct agg_hist *h)
{
	size_t i;

	if (h->count == 0)
		return 0;
	if (buf_adds(b, " hist.") || buf_adds(b, run_status_name(st)) ||
	    buf_addc(b, '=') || buf_add_u64(b, h->count) || buf_addc(b, ',') ||
	    buf_add_double(b, h->sum))
		return PERR_NOMEM;
	for (i = 0; i <= a->cfg.nbuckets; i++) {
		if (h->buckets[i] == 0)
			continue;
		if (i == a->cfg.nbuckets ? buf_adds(b, ",+Inf") :
		    add_number(b, ",", a->buckets[i]))
			return PERR_NOMEM;
		if (buf_addc(b, ':') || buf_add_u64(b, h->buckets[i]))
			return PERR_NOMEM;
	}
	return 0;
}

static int
add_names(struct buf *b, const char *workflow, const char *step,
    const struct run_label *l, size_t n)
{
	size_t i;

	if (buf_adds(b, " workflow=") || run_add_escaped(b, workflow))
		return PERR_NOMEM;
	if (step != NULL && (buf_adds(b, " step=") || run_add_escaped(b, step)))
		return PERR_NOMEM;
	for (i = 0; i < n; i++)
		if (buf_adds(b, " label.") || buf_adds(b, l[i].name) ||
		    buf_addc(b, '=') || run_add_escaped(b, l[i].value))
			return PERR_NOMEM;
	return 0;
}

static int
encode_series(const struct agg *a, const struct agg_series *s, struct buf *b)
{
	int st;

	if (buf_adds(b, "snapshot") ||
	    add_names(b, s->workflow, s->step, s->labels, s->nlabels) ||
	    add_counts(b, "runs", s->runs) || add_counts(b, "late", s->late))
		return PERR_NOMEM;
	for (st = 1; st < RUN_STATUS_COUNT; st++)
		if (add_hist(a, b, st, &s->hist[st]))
			return PERR_NOMEM;
	if (s->has_outcome && (add_number(b, " outcome=", s->outcome_time) ||
	    buf_addc(b, ',') || buf_adds(b, run_status_name(s->outcome))))
		return PERR_NOMEM;
	if (s->has_run && add_number(b, " run=", s->run_time))
		return PERR_NOMEM;
	if (s->has_duration && (add_number(b, " duration=", s->duration_time) ||
	    add_number(b, ",", s->duration)))
		return PERR_NOMEM;
	if (s->has_success && add_number(b, " success=", s->success_time))
		return PERR_NOMEM;
	if (s->has_start && add_number(b, " start=", s->start_time))
		return PERR_NOMEM;
	return 0;
}

/* An open run as an "open" record: a start's fields, in a start's order. */
static int
encode_open(const struct agg *a, const struct open_run *o, struct buf *b)
{
	const struct agg_series *s = a->series[o->series];
	size_t i;

	if (add_number(b, "open time=", o->time) ||
	    buf_adds(b, " workflow=") || run_add_escaped(b, s->workflow))
		return PERR_NOMEM;
	if (s->step != NULL && (buf_adds(b, " step=") ||
	    run_add_escaped(b, s->step)))
		return PERR_NOMEM;
	if (buf_adds(b, " run_id=") || run_add_escaped(b, open_run_id(o)))
		return PERR_NOMEM;
	for (i = 0; i < s->nlabels; i++)
		if (buf_adds(b, " label.") || buf_adds(b, s->labels[i].name) ||
		    buf_addc(b, '=') || run_add_escaped(b, s->labels[i].value))
			return PERR_NOMEM;
	return 0;
}

int
agg_write_state(const struct agg *a,
    int (*emit)(void *ctx, const char *payload, size_t len), void *ctx,
    struct perr *e)
{
	struct buf b = BUF_INIT(1 << 20);
	size_t i;
	int rc = 0;

	if (buf_addf(&b, "meta records_ok=%" PRIu64 " records_corrupt=%" PRIu64,
	    a->records_ok, a->records_corrupt))
		return nomem(e);
	rc = emit(ctx, b.p, b.len);
	for (i = 0; rc == 0 && i < a->nseries; i++) {
		buf_reset(&b);
		if (encode_series(a, a->series[i], &b) != 0) {
			rc = nomem(e);
			break;
		}
		rc = emit(ctx, b.p, b.len);
	}
	for (i = 0; rc == 0 && i < a->nopens; i++) {
		if (!a->opens[i].live)
			continue;
		buf_reset(&b);
		if (encode_open(a, &a->opens[i], &b) != 0) {
			rc = nomem(e);
			break;
		}
		rc = emit(ctx, b.p, b.len);
	}
	buf_free(&b);
	return rc;
}

int
agg_config_fingerprint(const struct agg_config *cfg, struct buf *out)
{
	size_t i;

	if (buf_adds(out, "buckets="))
		return PERR_NOMEM;
	for (i = 0; i < cfg->nbuckets; i++)
		if ((i > 0 && buf_addc(out, ',')) ||
		    buf_add_double(out, cfg->buckets[i]))
			return PERR_NOMEM;
	if (buf_adds(out, ";labels="))
		return PERR_NOMEM;
	for (i = 0; i < cfg->nlabels; i++)
		if ((i > 0 && buf_addc(out, ',')) || buf_adds(out, cfg->labels[i]))
			return PERR_NOMEM;
	if (buf_adds(out, ";lost_after=") || buf_add_double(out, cfg->lost_after))
		return PERR_NOMEM;
	return 0;
}
