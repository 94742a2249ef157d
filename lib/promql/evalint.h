/*
 * evalint.h - what the evaluator (eval.c) shares with the function
 * implementations (fn.c) and the function table (func.c).  Not for use
 * outside lib/promql: eval.h is the evaluator's contract.
 *
 * A function is called in one of two ways (func.h's impl and range):
 * - instant functions get their evaluated arguments in c->args and append
 *   their result samples to c->out (scalar functions append one sample,
 *   whose value is the scalar);
 * - range functions (one argument is a range vector) are called once per
 *   series whose range holds samples, with the series in c->series and
 *   the range's bounds in c->mint/c->maxt; they set c->result and
 *   c->has_result.  The evaluator labels the results (without __name__,
 *   except for last_over_time) and checks them.
 * Errors: an implementation returns 0 or a perr code with c->ev->e set.
 */
#ifndef PROMRUN_PROMQL_EVALINT_H
#define PROMRUN_PROMQL_EVALINT_H

#include <math.h>

#include "promql/eval.h"
#include "promql/func.h"

struct pq_ev;

struct pq_fcall {
	struct pq_ev *ev;
	const struct pq_node *node;	/* the call */
	int64_t t;			/* the evaluation time */
	struct pq_value args[PQ_FUNC_MAX_ARGS + 8];
	size_t nargs;
	const struct pq_series *series;	/* range functions */
	int64_t mint, maxt;
	double result;
	bool has_result;
	struct pq_vector *out;		/* instant functions */
	void *cache;			/* the call's prepared data (label_replace) */
};

/* Helpers of eval.c for the implementations. */
struct pq_arena *pq_ev_arena(struct pq_ev *ev);
struct perr *pq_ev_err(struct pq_ev *ev);
int pq_ev_push(struct pq_ev *ev, struct pq_vector *v,
    const struct pq_lset *ls, int64_t t, double val);
const struct pq_lset *pq_ev_drop_name(struct pq_ev *ev,
    const struct pq_lset *ls);
struct pq_lbuilder *pq_ev_builder(struct pq_ev *ev);
struct buf *pq_ev_keybuf(struct pq_ev *ev);
int pq_ev_nomem(struct pq_ev *ev);

/* Go's float64 arithmetic where C's differs. */
double pq_go_pow(double x, double y);
double pq_go_max(double x, double y);
double pq_go_min(double x, double y);
int64_t pq_go_int64(double v);

/* The PromQL quantile of values[0..n) (sorted in place), as quantile.go. */
double pq_quantile(double q, double *values, size_t n);

/* Kahan summation step, as Prometheus's kahanSumInc.  Inline: sums and
 * averages over time take it once a sample. */
static inline void
pq_kahan_add(double inc, double *sum, double *c)
{
	double t = *sum + inc;

	/* Using fabs is faster than the branch on their magnitudes Go's
	   code takes; both pick the same compensation. */
	if (fabs(*sum) >= fabs(inc))
		*c += (*sum - t) + inc;
	else
		*c += (inc - t) + *sum;
	*sum = t;
}

/* The implementations, one per function of func.c's table. */
int pq_fn_abs(struct pq_fcall *c);
int pq_fn_absent(struct pq_fcall *c);
int pq_fn_absent_over_time(struct pq_fcall *c);
int pq_fn_acos(struct pq_fcall *c);
int pq_fn_acosh(struct pq_fcall *c);
int pq_fn_asin(struct pq_fcall *c);
int pq_fn_asinh(struct pq_fcall *c);
int pq_fn_atan(struct pq_fcall *c);
int pq_fn_atanh(struct pq_fcall *c);
int pq_fn_avg_over_time(struct pq_fcall *c);
int pq_fn_ceil(struct pq_fcall *c);
int pq_fn_changes(struct pq_fcall *c);
int pq_fn_clamp(struct pq_fcall *c);
int pq_fn_clamp_max(struct pq_fcall *c);
int pq_fn_clamp_min(struct pq_fcall *c);
int pq_fn_cos(struct pq_fcall *c);
int pq_fn_cosh(struct pq_fcall *c);
int pq_fn_count_over_time(struct pq_fcall *c);
int pq_fn_day_of_month(struct pq_fcall *c);
int pq_fn_day_of_week(struct pq_fcall *c);
int pq_fn_day_of_year(struct pq_fcall *c);
int pq_fn_days_in_month(struct pq_fcall *c);
int pq_fn_deg(struct pq_fcall *c);
int pq_fn_delta(struct pq_fcall *c);
int pq_fn_deriv(struct pq_fcall *c);
int pq_fn_exp(struct pq_fcall *c);
int pq_fn_floor(struct pq_fcall *c);
int pq_fn_histogram_count(struct pq_fcall *c);
int pq_fn_histogram_fraction(struct pq_fcall *c);
int pq_fn_histogram_quantile(struct pq_fcall *c);
int pq_fn_histogram_sum(struct pq_fcall *c);
int pq_fn_holt_winters(struct pq_fcall *c);
int pq_fn_hour(struct pq_fcall *c);
int pq_fn_idelta(struct pq_fcall *c);
int pq_fn_increase(struct pq_fcall *c);
int pq_fn_irate(struct pq_fcall *c);
int pq_fn_label_join(struct pq_fcall *c);
int pq_fn_label_replace(struct pq_fcall *c);
int pq_fn_last_over_time(struct pq_fcall *c);
int pq_fn_ln(struct pq_fcall *c);
int pq_fn_log10(struct pq_fcall *c);
int pq_fn_log2(struct pq_fcall *c);
int pq_fn_max_over_time(struct pq_fcall *c);
int pq_fn_min_over_time(struct pq_fcall *c);
int pq_fn_minute(struct pq_fcall *c);
int pq_fn_month(struct pq_fcall *c);
int pq_fn_pi(struct pq_fcall *c);
int pq_fn_predict_linear(struct pq_fcall *c);
int pq_fn_present_over_time(struct pq_fcall *c);
int pq_fn_quantile_over_time(struct pq_fcall *c);
int pq_fn_rad(struct pq_fcall *c);
int pq_fn_rate(struct pq_fcall *c);
int pq_fn_resets(struct pq_fcall *c);
int pq_fn_round(struct pq_fcall *c);
int pq_fn_scalar(struct pq_fcall *c);
int pq_fn_sgn(struct pq_fcall *c);
int pq_fn_sin(struct pq_fcall *c);
int pq_fn_sinh(struct pq_fcall *c);
int pq_fn_sort(struct pq_fcall *c);
int pq_fn_sort_desc(struct pq_fcall *c);
int pq_fn_sqrt(struct pq_fcall *c);
int pq_fn_stddev_over_time(struct pq_fcall *c);
int pq_fn_stdvar_over_time(struct pq_fcall *c);
int pq_fn_sum_over_time(struct pq_fcall *c);
int pq_fn_tan(struct pq_fcall *c);
int pq_fn_tanh(struct pq_fcall *c);
int pq_fn_time(struct pq_fcall *c);
int pq_fn_timestamp(struct pq_fcall *c);
int pq_fn_vector(struct pq_fcall *c);
int pq_fn_year(struct pq_fcall *c);

#endif
