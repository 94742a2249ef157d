/*
 * eval.h - evaluate PromQL expressions over a series store (storage.h)
 * with Prometheus 2.42's semantics for float samples.
 *
 * What is evaluated as Prometheus does: the lookback delta (a selector
 * takes the latest sample at or up to lookback before the evaluation
 * time, inclusive; a staleness marker ends a series), range selections
 * [t - range, t] inclusive, offset, @ (with start() and end()),
 * subqueries (steps aligned to multiples of the step, the default step
 * given by the caller), every binary operator with bool, on/ignoring and
 * group_left/group_right and Prometheus's matching errors, every
 * aggregation, and the functions of func.h.  Results keep Prometheus's
 * order (selectors sorted by labels, aggregations in order of first
 * appearance) and drop __name__ where it does.
 *
 * Native histograms do not exist here: histogram_count, histogram_sum
 * and histogram_fraction see only floats and return nothing, as
 * Prometheus does for float samples.
 *
 * Limits, with clear errors: recursion as deep as the parser allows
 * (PQ_DEPTH_MAX, which bounds every tree); a subquery of at most
 * PQ_SUBQUERY_STEPS_MAX steps, and at most PQ_SUBQUERY_EVALS_MAX steps of
 * all subqueries together evaluated in one evaluation (nested subqueries
 * are evaluated once per step they need, each step's value kept until the
 * evaluation ends: the bound bounds that memory, and Prometheus's cost
 * for such queries is of the same order); opts.max_samples samples loaded or made
 * per query ("query processing would load too many samples into memory
 * in query execution", PERR_LIMIT).  Work is linear in the samples a
 * query touches, as in Prometheus, except that range functions over a
 * stored run of equal samples (storage.h) take one step where they can.
 *
 * Memory: everything a query returns lives in the caller's scratch
 * arena, valid until the arena is reset or freed.
 */
#ifndef PROMRUN_PROMQL_EVAL_H
#define PROMRUN_PROMQL_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "promql/ast.h"
#include "promql/labels.h"
#include "promql/storage.h"

#define PQ_LOOKBACK_DEFAULT_MS (5 * 60 * 1000)
#define PQ_SUBQUERY_STEPS_MAX 100000
#define PQ_SUBQUERY_EVALS_MAX 1000000
#define PQ_MAX_SAMPLES_DEFAULT 50000000
/* Windows worked out at once with ahead_ms: enough to make the steps to
 * the next batch rare, few enough that a batch stays small. */
#define PQ_AHEAD_WINDOWS 32

struct pq_engine_opts {
	int64_t lookback_ms;		/* 0: PQ_LOOKBACK_DEFAULT_MS */
	int64_t subquery_step_ms;	/* a subquery's step when none is
					   written; 0: one minute */
	uint64_t max_samples;		/* 0: PQ_MAX_SAMPLES_DEFAULT */
	/* The caller evaluates next at t + ahead_ms, and so on (a rule group
	   at its interval, over history): the windows of range functions
	   at those times (up to PQ_AHEAD_WINDOWS of them, as far as the
	   series' samples reach) may be worked out with t's, one after
	   another.  Results do not depend on it.  0: no. */
	int64_t ahead_ms;
};

struct pq_sample {
	const struct pq_lset *ls;
	int64_t t;		/* the sample's own time (timestamp() reads it) */
	double v;
};

struct pq_vector {
	struct pq_sample *v;
	size_t n, cap;
};

/* One series of a range vector: its samples as runs (storage.h). */
struct pq_series {
	const struct pq_lset *ls;
	struct pq_range rg;
};

struct pq_matrix {
	struct pq_series *s;
	size_t n, cap;
};

struct pq_value {
	enum pq_type type;		/* scalar, string, vector or matrix */
	double scalar;
	struct pq_str str;
	struct pq_vector vec;
	struct pq_matrix mat;
};

struct pq_query;

/*
 * pq_query_new: prepare the parsed, type-checked expression root for
 * evaluation (its regular expressions compiled once); root must outlive
 * the query.  Returns 0 and *out (free with pq_query_free); PERR_INVALID
 * for a regex PCRE2 cannot take; PERR_NOMEM.
 */
int pq_query_new(const struct pq_node *root, struct pq_query **out,
    struct perr *e);

void pq_query_free(struct pq_query *q);

/*
 * pq_query_exec: evaluate q at time t (milliseconds) over st, as an
 * instant query whose start() and end() are start and end (both t for an
 * instant query).  On success returns 0 and *out, in scratch.  Errors, in
 * Prometheus's words: PERR_INVALID for evaluation errors ("vector cannot
 * contain metrics with the same labelset", "found duplicate series for
 * the match group ...", "invalid regular expression in label_replace():
 * ..."), PERR_LIMIT past the limits above, PERR_NOMEM.
 */
int pq_query_exec(struct pq_query *q, const struct pq_store *st,
    const struct pq_engine_opts *opts, int64_t t, int64_t start, int64_t end,
    struct pq_arena *scratch, struct pq_value *out, struct perr *e);

/*
 * pq_node_reach: what evaluating n needs from storage: *back_ms, how far
 * before the evaluation time it may read (ranges, offsets and subquery
 * ranges along each path, plus lookback_ms; absolute @ times are not
 * counted), and the metric names its selectors fix (name() is called for
 * each; *all is set when a selector does not fix its metric name).
 */
void pq_node_reach(const struct pq_node *n, int64_t lookback_ms,
    int64_t *back_ms, void (*name)(void *ctx, const char *s, size_t len),
    void *ctx, bool *all);

/*
 * pq_node_future: whether evaluating n at a time t, with start() and end()
 * t, may read samples after t: a negative offset, or an @ time, anywhere
 * in it (counted in whether or not the time is after t).
 */
bool pq_node_future(const struct pq_node *n);

/* pq_query_samples: samples the last pq_query_exec loaded or made. */
uint64_t pq_query_samples(const struct pq_query *q);

/*
 * pq_query_range: a range query: q evaluated at start, start+step, ...,
 * end (start() and end() are start and end), its results gathered per
 * label set into *out (type PQ_TYPE_MATRIX, series sorted by labels,
 * each series' points as runs of one sample) in scratch.  The query must
 * be of instant-vector or scalar type; a scalar gives one series with no
 * labels.  At most PQ_SUBQUERY_STEPS_MAX steps.  Returns as
 * pq_query_exec.
 */
int pq_query_range(struct pq_query *q, const struct pq_store *st,
    const struct pq_engine_opts *opts, int64_t start, int64_t end,
    int64_t step, struct pq_arena *scratch, struct pq_value *out,
    struct perr *e);

/*
 * pq_value_write: append a result as text or as the data of Prometheus's
 * query API (json true: {"resultType":...,"result":...}).  Text: one
 * "{labels} => value @[t]" line per sample (a range series: its labels,
 * then one "value @[t]" line per point), as promtool query prints them.
 * t is the evaluation time of an instant result.  Returns buf.h's codes.
 */
int pq_value_write(struct buf *b, const struct pq_value *v, int64_t t,
    bool json);

/*
 * pq_vector_push: append a sample to v, growing it in arena a.  Returns 0
 * or PERR_NOMEM.
 */
int pq_vector_push(struct pq_arena *a, struct pq_vector *v,
    const struct pq_lset *ls, int64_t t, double val);

/*
 * pq_vector_sort: order v by labels (Prometheus's labels.Compare), as
 * test comparisons and range-query output do.
 */
void pq_vector_sort(struct pq_vector *v);

/*
 * pq_series_points: the samples of s in time order, markers left out,
 * into t[] and v[] (n = pq_range_count(&s->rg) entries each).
 */
void pq_series_points(const struct pq_series *s, int64_t *t, double *v);

#endif
