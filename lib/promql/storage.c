/* storage.c - the in-memory series store (see storage.h). */
#include "promql/storage.h"
#include "common/buf.h"
#include "common/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double
pq_stale_nan(void)
{
	uint64_t bits = PQ_STALE_BITS;
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

void
pq_store_init(struct pq_store *st)
{
	memset(st, 0, sizeof(*st));
	st->horizon = INT64_MAX;
}

void
pq_store_free(struct pq_store *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->s[i].runs);
		free(st->s[i].memo.w);
	}
	free(st->s);
	free(st->last_by_name);
	hmap_free(&st->by_labels);
	hmap_free(&st->by_name);
	pq_arena_free(&st->arena);
	memset(st, 0, sizeof(*st));
}

/* Link series i into the list of its metric name. */
static int
index_name(struct pq_store *st, size_t i)
{
	size_t len = 0, *slot;
	const char *name = pq_lset_get(st->s[i].ls, PQ_NAME_LABEL, 8, &len);
	bool found;

	if (name == NULL)
		name = "";
	if (hmap_upsert(&st->by_name, name, len, &slot, &found) != 0)
		return PERR_NOMEM;
	if (!found) {
		*slot = i + 1;
		st->s[i].name_head = i;
		st->s[i].name_series = 1;
	} else {
		/* The head's entry in last_by_name is the list's tail. */
		size_t head = *slot - 1, tail = st->last_by_name[head];

		st->s[tail].next_by_name = i + 1;
		st->last_by_name[head] = i;
		st->s[i].name_head = head;
		st->s[head].name_series++;
	}
	st->last_by_name[i] = i;
	return 0;
}

int
pq_store_series(struct pq_store *st, const struct pq_lset *ls, size_t *index,
    struct perr *e)
{
	struct buf key = BUF_INIT(1 << 24);
	struct pq_stored *s;
	size_t *slot, *last;
	bool found;
	int rc;

	if ((rc = pq_lset_key_all(&key, ls)) != 0 ||
	    (rc = hmap_upsert(&st->by_labels, key.p, key.len, &slot,
	    &found)) != 0) {
		buf_free(&key);
		return perr_set(e, rc == PERR_LIMIT ? PERR_LIMIT : PERR_NOMEM,
		    "series labels: %s", rc == PERR_LIMIT ? "too long" :
		    "out of memory");
	}
	buf_free(&key);
	if (found && *slot < st->n) {
		*index = *slot;
		return 0;
	}
	/* Until the series exists the key names no series (SIZE_MAX), so a
	   failure below leaves nothing that a later lookup could trust. */
	*slot = SIZE_MAX;
	if (st->n >= PQ_STORE_SERIES_MAX)
		return perr_set(e, PERR_LIMIT, "more than %u series",
		    PQ_STORE_SERIES_MAX);
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;

		if ((s = realloc(st->s, cap * sizeof(*s))) == NULL)
			return perr_set(e, PERR_NOMEM, "out of memory");
		st->s = s;
		if ((last = realloc(st->last_by_name, cap * sizeof(*last))) ==
		    NULL)
			return perr_set(e, PERR_NOMEM, "out of memory");
		st->last_by_name = last;
		st->cap = cap;
	}
	s = &st->s[st->n];
	memset(s, 0, sizeof(*s));
	if ((s->ls = pq_lset_copy_stable(&st->arena, ls)) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	if (index_name(st, st->n) != 0)
		return perr_set(e, PERR_NOMEM, "out of memory");
	*slot = st->n;
	*index = st->n;
	st->n++;
	st->generation++;
	return 0;
}

int
pq_store_append(struct pq_store *st, size_t index, int64_t t, double v,
    struct perr *e)
{
	struct pq_stored *s = &st->s[index];
	struct pq_run *last;

	if (s->nruns > 0) {
		if (t < s->last_t)
			return perr_set(e, PERR_INVALID, "out of order sample");
		if (t == s->last_t) {
			if (pq_same_value(s->runs[s->nruns - 1].v, v))
				return 0;
			return perr_set(e, PERR_INVALID,
			    "duplicate sample for timestamp");
		}
		last = &s->runs[s->nruns - 1];
		if (pq_same_value(last->v, v) && last->n < UINT32_MAX) {
			if (s->step == 0 && last->n == 1)
				s->step = t - last->t;
			if (t == last->t + (int64_t)last->n * s->step) {
				last->n++;
				s->last_t = t;
				st->samples++;
				st->s[s->name_head].name_samples++;
				return 0;
			}
		}
	}
	if (mem_grow(&s->runs, &s->cap, s->nruns + 1, sizeof(s->runs[0]), 4) != 0)
		return perr_set(e, PERR_NOMEM, "out of memory");
	s->runs[s->nruns].t = t;
	s->runs[s->nruns].v = v;
	s->runs[s->nruns].n = 1;
	s->nruns++;
	s->last_t = t;
	st->samples++;
	st->s[s->name_head].name_samples++;
	return 0;
}

/* Whether m more samples of v, step apart after the one at prev, would
 * each extend s's last run (which ends at prev). */
static bool
extends_last(const struct pq_stored *s, int64_t prev, int64_t step,
    uint64_t m, double v)
{
	const struct pq_run *last = &s->runs[s->nruns - 1];

	return s->step == step && pq_same_value(last->v, v) &&
	    last->t + (int64_t)(last->n - 1) * step == prev &&
	    m <= UINT32_MAX - last->n;
}

int
pq_store_append_n(struct pq_store *st, size_t index, int64_t t,
    int64_t step, uint64_t n, double v, struct perr *e)
{
	struct pq_stored *s = &st->s[index];
	int rc;

	for (uint64_t k = 0; k < n; k++) {
		if (k > 0 && extends_last(s, t + (int64_t)(k - 1) * step, step,
		    n - k, v)) {
			s->runs[s->nruns - 1].n += (uint32_t)(n - k);
			s->last_t = t + (int64_t)(n - 1) * step;
			st->samples += n - k;
			st->s[s->name_head].name_samples += n - k;
			return 0;
		}
		/* The first, or one that a run does not take as is (the
		   series' step not yet fixed, or not this one). */
		if ((rc = pq_store_append(st, index, t + (int64_t)k * step, v,
		    e)) != 0)
			return rc;
	}
	return 0;
}

size_t
pq_store_by_name(const struct pq_store *st, const char *name, size_t len)
{
	size_t v;

	return hmap_find(&st->by_name, name, len, &v) ? v : 0;
}

/* The index of the last run starting at or before t, or -1. */
static long
run_at_or_before(const struct pq_stored *s, int64_t t)
{
	size_t lo = 0, hi = s->nruns, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->runs[mid].t <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

static int64_t
run_end(const struct pq_stored *s, const struct pq_run *r)
{
	return r->t + (int64_t)(r->n - 1) * s->step;
}

/* The latest sample of s at or before ref, in run i (the last run
 * starting at or before ref), if within lookback and not a marker. */
static bool
instant_in(const struct pq_stored *s, long i, int64_t ref, int64_t lookback,
    int64_t *t, double *v)
{
	const struct pq_run *r;
	int64_t k;

	if (i < 0)
		return false;
	r = &s->runs[i];
	k = r->n > 1 ? (ref - r->t) / s->step : 0;
	if (k > (int64_t)r->n - 1)
		k = r->n - 1;
	*t = r->t + k * s->step;
	if (*t < ref - lookback || pq_is_stale(r->v))
		return false;
	*v = r->v;
	return true;
}

bool
pq_stored_instant(const struct pq_stored *s, int64_t ref, int64_t lookback,
    int64_t *t, double *v)
{
	return instant_in(s, run_at_or_before(s, ref), ref, lookback, t, v);
}

/* The first run with a sample at or after t (s->nruns when none). */
static long
run_ending_at_or_after(const struct pq_stored *s, int64_t t)
{
	long first = run_at_or_before(s, t);

	if (first < 0)
		return 0;
	return run_end(s, &s->runs[first]) < t ? first + 1 : first;
}

/* The range of runs first..last of s, clipped to [mint, maxt]. */
static inline void
fill_range(const struct pq_stored *s, long first, long last, int64_t mint,
    int64_t maxt, struct pq_range *out)
{
	const struct pq_run *r;
	int64_t k;

	out->r = NULL;
	out->nr = 0;
	out->step = s->step;
	out->skip = out->keep = 0;
	out->summarized = out->rising = false;
	out->count = 0;
	if (maxt < mint || last < 0 || first > last)
		return;
	r = &s->runs[first];
	out->r = r;
	out->nr = (size_t)(last - first + 1);
	if (r->t < mint)
		out->skip = (uint32_t)((mint - r->t + s->step - 1) / s->step);
	r = &s->runs[last];
	k = r->n > 1 ? (maxt - r->t) / s->step : 0;
	out->keep = (uint32_t)(k + 1 > (int64_t)r->n ? r->n : k + 1);
}

void
pq_stored_range(const struct pq_stored *s, int64_t mint, int64_t maxt,
    struct pq_range *out)
{
	long last = maxt < mint ? -1 : run_at_or_before(s, maxt);

	fill_range(s, last < 0 ? 0 : run_ending_at_or_after(s, mint), last,
	    mint, maxt, out);
}

/* The last run starting at or before t, from cursor c's last one. */
static long
last_run_at(const struct pq_stored *s, int64_t t, struct pq_cursor *c)
{
	long last, n = (long)s->nruns;

	if (!c->set || t < c->maxt)
		return run_at_or_before(s, t);
	/* Runs up to the cursor's start at or before its older time. */
	for (last = c->last; last + 1 < n && s->runs[last + 1].t <= t; last++)
		;
	return last;
}

/* The samples run i counts in a range's summary (markers count none). */
static uint64_t
run_samples(const struct pq_stored *s, long i)
{
	return pq_is_stale(s->runs[i].v) ? 0 : s->runs[i].n;
}

/* Whether run i's value is not at least run i - 1's (NaN and markers
 * compare false). */
static uint64_t
falls(const struct pq_stored *s, long i)
{
	return !(s->runs[i - 1].v <= s->runs[i].v);
}

/* The cursor's sums over runs first..last, counted afresh. */
static void
recount(const struct pq_stored *s, struct pq_cursor *c)
{
	c->inner = c->falls = 0;
	for (long i = c->first + 1; i <= c->last; i++) {
		c->falls += falls(s, i);
		if (i < c->last)
			c->inner += run_samples(s, i);
	}
}

/* The summary of the range c holds, filled as out. */
static void
summarize(const struct pq_stored *s, const struct pq_cursor *c,
    struct pq_range *out)
{
	long f = c->first, l = c->last;

	out->summarized = true;
	out->count = 0;
	out->rising = false;
	if (out->nr == 0)
		return;
	if (f == l) {
		if (!pq_is_stale(s->runs[f].v) && out->keep > out->skip)
			out->count = out->keep - out->skip;
		out->rising = out->count > 0 && !isnan(s->runs[f].v);
		return;
	}
	out->count = (run_samples(s, f) > 0 ? s->runs[f].n - out->skip : 0) +
	    c->inner + (run_samples(s, l) > 0 ? out->keep : 0);
	out->rising = c->falls == 0;
}

void
pq_stored_range_at(const struct pq_stored *s, int64_t mint, int64_t maxt,
    struct pq_cursor *c, struct pq_range *out)
{
	long n = (long)s->nruns;

	if (!c->set || mint < c->mint || maxt < c->maxt ||
	    c->first >= (long)c->nruns) {
		/* Back in time, or no place yet: search.  (A first run past
		   the runs there were may have been the last run, since
		   grown into the window: searched again too.) */
		c->first = run_ending_at_or_after(s, mint);
		c->last = run_at_or_before(s, maxt);
		recount(s, c);
	} else {
		/* Forward, a run at a time, the sums kept: runs up to last
		   start at or before the older maxt, and the runs before
		   first ended before the older mint (all but the last run
		   are complete). */
		while (c->last + 1 < n && s->runs[c->last + 1].t <= maxt) {
			if (c->first < c->last + 1)
				c->falls += falls(s, c->last + 1);
			if (c->first < c->last)
				c->inner += run_samples(s, c->last);
			c->last++;
		}
		while (c->first < n && run_end(s, &s->runs[c->first]) < mint) {
			if (c->first + 1 <= c->last)
				c->falls -= falls(s, c->first + 1);
			if (c->first + 1 < c->last)
				c->inner -= run_samples(s, c->first + 1);
			c->first++;
		}
	}
	c->set = true;
	c->mint = mint;
	c->maxt = maxt;
	c->nruns = s->nruns;
	fill_range(s, c->first, maxt < mint ? -1 : c->last, mint, maxt, out);
	summarize(s, c, out);
}

bool
pq_stored_instant_at(const struct pq_stored *s, int64_t ref,
    int64_t lookback, struct pq_cursor *c, int64_t *t, double *v)
{
	long i = last_run_at(s, ref, c);

	/* An instant's cursor holds no first run: a range's must not
	   follow it (storage.h). */
	c->set = true;
	c->maxt = ref;
	c->last = i;
	c->nruns = s->nruns;
	return instant_in(s, i, ref, lookback, t, v);
}

/* The sample bounds [from, to) of run i of rg. */
static void
bounds(const struct pq_range *rg, size_t i, uint32_t *from, uint32_t *to)
{
	*from = i == 0 ? rg->skip : 0;
	*to = i + 1 == rg->nr ? rg->keep : rg->r[i].n;
}

void
pq_range_it_init(struct pq_range_it *it, const struct pq_range *rg)
{
	it->rg = rg;
	it->i = 0;
	it->k = it->end = 0;
	if (rg->nr > 0)
		bounds(rg, 0, &it->k, &it->end);
}

bool
pq_range_it_next(struct pq_range_it *it, int64_t *t, double *v)
{
	const struct pq_range *rg = it->rg;

	while (it->i < rg->nr) {
		const struct pq_run *r = &rg->r[it->i];

		if (it->k < it->end && !pq_is_stale(r->v)) {
			*t = r->t + (int64_t)it->k * rg->step;
			*v = r->v;
			it->k++;
			return true;
		}
		if (++it->i < rg->nr)
			bounds(rg, it->i, &it->k, &it->end);
	}
	return false;
}

size_t
pq_range_count(const struct pq_range *rg)
{
	size_t n = 0;
	uint32_t from, to;

	if (rg->summarized)
		return (size_t)rg->count;

	for (size_t i = 0; i < rg->nr; i++) {
		if (pq_is_stale(rg->r[i].v))
			continue;
		bounds(rg, i, &from, &to);
		if (to > from)
			n += to - from;
	}
	return n;
}

bool
pq_range_first(const struct pq_range *rg, int64_t *t, double *v)
{
	uint32_t from, to;

	for (size_t i = 0; i < rg->nr; i++) {
		bounds(rg, i, &from, &to);
		if (pq_is_stale(rg->r[i].v) || to <= from)
			continue;
		*t = rg->r[i].t + (int64_t)from * rg->step;
		*v = rg->r[i].v;
		return true;
	}
	return false;
}

bool
pq_range_last(const struct pq_range *rg, int64_t *t, double *v)
{
	uint32_t from, to;

	for (size_t i = rg->nr; i-- > 0;) {
		bounds(rg, i, &from, &to);
		if (pq_is_stale(rg->r[i].v) || to <= from)
			continue;
		*t = rg->r[i].t + (int64_t)(to - 1) * rg->step;
		*v = rg->r[i].v;
		return true;
	}
	return false;
}
