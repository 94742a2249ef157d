/*
 * storage.h - the in-memory series store the evaluator reads: series
 * identified by their label sets, each with its float samples in time
 * order, for the sizes rule unit tests and a replayed journal produce.
 *
 * Samples are kept as runs: n samples of one value at t, t+step, ...,
 * t+(n-1)*step, where step is the series' own spacing (fixed by the first
 * run that holds two samples).  A scrape every minute of a counter that
 * did not move, or a test series "1x100", is one run, so a month of
 * minutely samples of a quiet series costs a few bytes.  Values are
 * compared bit for bit, so NaN samples form runs too.
 *
 * Staleness markers are samples holding Prometheus's StaleNaN (a NaN with
 * a fixed bit pattern): a series whose latest sample within the lookback
 * is a marker has no value, and range selections skip markers.
 *
 * Limits: PQ_STORE_SERIES_MAX series; a run holds at most UINT32_MAX
 * samples.
 */
#ifndef PROMRUN_PROMQL_STORAGE_H
#define PROMRUN_PROMQL_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/err.h"
#include "common/hmap.h"
#include "promql/ast.h"
#include "promql/labels.h"

#define PQ_STORE_SERIES_MAX (16u * 1024 * 1024)
#define PQ_STALE_BITS 0x7ff0000000000002ull

/* pq_stale_nan: Prometheus's staleness marker value. */
double pq_stale_nan(void);

/* pq_is_stale: v is the staleness marker (bit for bit).  Inline: the
 * evaluator asks for every run it reads. */
static inline bool
pq_is_stale(double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	return bits == PQ_STALE_BITS;
}

/* pq_same_value: v and w are the same bits (NaN equals the same NaN).
 * Inline, as pq_is_stale. */
static inline bool
pq_same_value(double v, double w)
{
	uint64_t x, y;

	memcpy(&x, &v, sizeof(x));
	memcpy(&y, &w, sizeof(y));
	return x == y;
}

struct pq_run {
	int64_t t;		/* the first sample's time, in milliseconds */
	double v;
	uint32_t n;		/* samples, at least 1 */
};

/*
 * A reader's place in one series: the runs of the last range it asked
 * for.  A reader whose windows move forward (a rule evaluated minute
 * after minute) finds the next one by stepping over the runs that enter
 * and leave it, instead of searching the whole series.  Zeroed: no place
 * yet.
 */
struct pq_cursor {
	bool set;		/* false: no place yet */
	int64_t mint, maxt;	/* the last range (an instant: maxt) */
	long first, last;	/* its first run (nruns: none) and last run
				   (-1: none) */
	size_t nruns;		/* the series' runs then */
	/* Kept as the range moves, for its summary: the samples of the runs
	   between first and last (complete runs, which never change), and
	   the runs from first + 1 to last whose value is not at least the
	   one before (a fall, a marker, a NaN). */
	uint64_t inner;
	uint64_t falls;
};

/* One window's result, as the evaluator keeps it (pq_range_memo). */
struct pq_window {
	uint64_t samples;	/* the window's, for the sample limit */
	double v;
	bool has;		/* the function gave v (else no result) */
};

/*
 * What a range function (of one argument) gave for a series' windows at
 * the evaluation times t0, t0 + step, ..., t0 + (n - 1) * step: the
 * evaluator's.  Another rule asking the same of the same series at one
 * of these times finds it made; a rule evaluated at every step (a group
 * at its interval) finds the windows of its next evaluations made with
 * this one's, one after another while the series' samples were at hand.
 * It holds while the key matches: the function, the window relative to
 * the evaluation time ([t + lo, t + hi]), and the horizon (the windows'
 * ends are cut there); and while the series' latest sample is last_t, or
 * for the windows that end at or before last_t (samples appended come
 * after it).  Zeroed: nothing kept.  w is malloc'd; pq_store_free frees
 * it.
 */
struct pq_range_memo {
	const void *fn;
	int64_t lo, hi, horizon, last_t;
	int64_t t0, step;	/* step > 0 once n > 0 */
	size_t n, cap;
	struct pq_window *w;
	struct pq_cursor cur;	/* where making the windows left off */
};

struct pq_stored {
	const struct pq_lset *ls;	/* in the store's arena, stable */
	struct pq_run *runs;
	size_t nruns, cap;
	int64_t step;		/* spacing within runs; 0 until fixed */
	int64_t last_t;		/* the latest sample's time */
	size_t next_by_name;	/* next series of the same __name__ + 1; 0 */
	size_t name_head;	/* the first series of its __name__ */
	uint64_t name_samples;	/* in the first: samples appended to the
				   series of the name (pq_store_name_samples) */
	size_t name_series;	/* in the first: the series of the name */
	struct pq_range_memo memo;	/* the evaluator's (writes it through
					   a const store: one evaluation
					   at a time per store) */
};

struct pq_store {
	struct pq_arena arena;		/* label sets */
	struct pq_stored *s;
	size_t n, cap;
	struct hmap by_labels;		/* whole label set -> index */
	struct hmap by_name;		/* __name__ -> first index + 1 */
	size_t *last_by_name;		/* per series: last of its name list */
	uint64_t generation;		/* grows with every new series */
	uint64_t samples;		/* appended, for limits and reports */
	int64_t horizon;		/* samples after it are not read yet
					   (promtool loads a test's series
					   up to each evaluation's time) */
};

/* pq_store_init: an empty store, every sample visible (horizon INT64_MAX). */
void pq_store_init(struct pq_store *st);

/* pq_store_free: release everything; the store is empty after. */
void pq_store_free(struct pq_store *st);

/*
 * pq_store_series: the index of the series with label set ls, created
 * (ls copied into the store) when new.  Returns 0; PERR_LIMIT past
 * PQ_STORE_SERIES_MAX; PERR_NOMEM.
 */
int pq_store_series(struct pq_store *st, const struct pq_lset *ls,
    size_t *index, struct perr *e);

/*
 * pq_store_append: add sample (t, v) to series index.  t must be after the
 * series' latest sample; at the same time only the same value is accepted
 * (and changes nothing).  Returns 0; PERR_INVALID "duplicate sample for
 * timestamp" or "out of order sample" as Prometheus's storage refuses
 * them; PERR_NOMEM.
 */
int pq_store_append(struct pq_store *st, size_t index, int64_t t, double v,
    struct perr *e);

/*
 * pq_store_append_n: n samples of v at t, t + step, ..., t + (n - 1) *
 * step, with the same result as n calls of pq_store_append (the first
 * error ends it), in O(1) when they extend one run (the series' step is
 * step).  n == 0 adds nothing.  Returns as pq_store_append.
 */
int pq_store_append_n(struct pq_store *st, size_t index, int64_t t,
    int64_t step, uint64_t n, double v, struct perr *e);

/*
 * pq_store_by_name: the first series whose __name__ is name[0..len), as
 * index + 1, or 0; follow pq_stored.next_by_name for the others.
 */
size_t pq_store_by_name(const struct pq_store *st, const char *name,
    size_t len);

/*
 * pq_store_name_samples: the samples appended so far to the series whose
 * __name__ is that of series index (an unchanged count: none of them
 * changed).  Inline: the evaluator asks at every evaluation.
 */
static inline uint64_t
pq_store_name_samples(const struct pq_store *st, size_t index)
{
	return st->s[st->s[index].name_head].name_samples;
}

/*
 * A stretch of a series' samples: runs r[0..nr), of which the first skips
 * its first `skip` samples and the last keeps its first `keep` samples
 * (both apply to r[0] when nr == 1).  Runs holding the staleness marker
 * are in it; iterators skip them.
 */
struct pq_range {
	const struct pq_run *r;
	size_t nr;
	int64_t step;
	uint32_t skip, keep;
	/* Known when summarized (a range found through a cursor): count,
	   its samples (markers left out), and rising, whether it holds
	   samples and its values never fall from one run to the next, with
	   no marker or NaN among them (a counter that did not reset). */
	bool summarized, rising;
	uint64_t count;
};

/*
 * pq_stored_instant: the latest sample of s at or before ref, if it is at
 * or after ref - lookback and no staleness marker.  Returns true with
 * *t, *v set.
 */
bool pq_stored_instant(const struct pq_stored *s, int64_t ref,
    int64_t lookback, int64_t *t, double *v);

/* pq_stored_range: the samples of s in [mint, maxt] into *out. */
void pq_stored_range(const struct pq_stored *s, int64_t mint, int64_t maxt,
    struct pq_range *out);

/*
 * pq_stored_range_at: pq_stored_range, from and then to cursor c (which
 * must have been used with s alone, and only with this function), with
 * the range summarized.  The same result, whatever c holds; O(1)
 * amortized when ranges move forward and the series only grows.
 */
void pq_stored_range_at(const struct pq_stored *s, int64_t mint, int64_t maxt,
    struct pq_cursor *c, struct pq_range *out);

/*
 * pq_stored_instant_at: pq_stored_instant, from and then to cursor c
 * (used with s alone, and only with this function), as above.
 */
bool pq_stored_instant_at(const struct pq_stored *s, int64_t ref,
    int64_t lookback, struct pq_cursor *c, int64_t *t, double *v);

/* Iterating a range's samples, markers left out. */
struct pq_range_it {
	const struct pq_range *rg;
	size_t i;		/* run */
	uint32_t k, end;	/* sample within it, and its end */
};

void pq_range_it_init(struct pq_range_it *it, const struct pq_range *rg);
bool pq_range_it_next(struct pq_range_it *it, int64_t *t, double *v);

/* pq_range_count: the samples of rg, markers left out. */
size_t pq_range_count(const struct pq_range *rg);

/* pq_range_first / pq_range_last: the first and last sample; false when empty. */
bool pq_range_first(const struct pq_range *rg, int64_t *t, double *v);
bool pq_range_last(const struct pq_range *rg, int64_t *t, double *v);

#endif
