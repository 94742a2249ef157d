/*
 * series.h - the series notation of Prometheus's PromQL tests, which
 * promtool's unit tests use for input_series (parser.ParseSeriesDesc), and
 * the metric notation of their exp_samples (parser.ParseMetric).
 *
 *   metric{label="value", ...}  VALUES
 *
 * VALUES is a blank-separated list of items: a number ("1", "-2.5", "Inf",
 * "NaN", "1e3"; "010" is octal 8 as Go's ParseInt reads it), "stale" (a
 * staleness marker), "_" (no sample), "_xN" (N times no sample), "AxN"
 * (N+1 times A) or "A+BxN" / "A-BxN" (N+1 values from A, adding B each
 * time, in floating point as Prometheus adds).  Item i is the sample at
 * i times the test's interval.
 */
#ifndef PROMRUN_PROMQL_SERIES_H
#define PROMRUN_PROMQL_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "promql/ast.h"
#include "promql/labels.h"

#define PQ_SERIES_VALUES_MAX 10000000	/* values of one series */

/* One item of VALUES: count values starting at start, delta apart. */
struct pq_seq_item {
	double start, delta;
	uint64_t count;
	bool omitted;		/* "_": no samples, count of them */
	bool stale;		/* "stale": one staleness marker */
};

/*
 * pq_parse_metric: s[0..len) as parser.ParseMetric reads it: a metric
 * name, a label set, both, or nothing (no labels).  A label set alone is
 * kept as written (labels.New): labels set to "" stay, a name given twice
 * is there twice; after a name, "" removes and the last of a name wins
 * (the grammar goes through a labels.Builder).  Returns 0 and *out (in
 * arena a);
 * PERR_INVALID with e saying what ("1:5: parse error: ...") and *err_pos;
 * PERR_NOMEM.
 */
int pq_parse_metric(const char *s, size_t len, struct pq_arena *a,
    const struct pq_lset **out, size_t *err_pos, struct perr *e);

/*
 * pq_parse_series: s[0..len) as parser.ParseSeriesDesc reads it: the
 * metric, then the items (*items in arena a, *nitems of them; their
 * values add up to at most PQ_SERIES_VALUES_MAX).  Labels set to "" are
 * left out, as Prometheus's storage leaves them out; a bare label set keeps
 * a name given twice, twice (the storage refuses such a series, and one
 * with no labels: pq_lset_storable).  Returns 0,
 * PERR_INVALID (e, *err_pos), PERR_LIMIT or PERR_NOMEM.
 */
/*
 * pq_lset_storable: NULL when Prometheus's storage takes a series of
 * labels ls, else why not, in its words: "empty labelset: invalid sample",
 * "label name \"a\" is not unique: invalid sample" (written to b).
 */
struct buf;
const char *pq_lset_storable(const struct pq_lset *ls, struct buf *b);

int pq_parse_series(const char *s, size_t len, struct pq_arena *a,
    const struct pq_lset **labels, struct pq_seq_item **items,
    size_t *nitems, size_t *err_pos, struct perr *e);

#endif
