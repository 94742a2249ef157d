/* func.c - the function table of Prometheus 2.42 (see func.h). */
#include "promql/func.h"
#include "promql/evalint.h"

#include <string.h>

#define S PQ_TYPE_SCALAR
#define V PQ_TYPE_VECTOR
#define M PQ_TYPE_MATRIX
#define STR PQ_TYPE_STRING

/* Sorted by name: pq_func_lookup bisects. */
static const struct pq_func funcs[] = {
	{"abs", {V}, 1, 0, V, pq_fn_abs},
	{"absent", {V}, 1, 0, V, pq_fn_absent},
	{"absent_over_time", {M}, 1, 0, V, pq_fn_absent_over_time},
	{"acos", {V}, 1, 0, V, pq_fn_acos},
	{"acosh", {V}, 1, 0, V, pq_fn_acosh},
	{"asin", {V}, 1, 0, V, pq_fn_asin},
	{"asinh", {V}, 1, 0, V, pq_fn_asinh},
	{"atan", {V}, 1, 0, V, pq_fn_atan},
	{"atanh", {V}, 1, 0, V, pq_fn_atanh},
	{"avg_over_time", {M}, 1, 0, V, pq_fn_avg_over_time},
	{"ceil", {V}, 1, 0, V, pq_fn_ceil},
	{"changes", {M}, 1, 0, V, pq_fn_changes},
	{"clamp", {V, S, S}, 3, 0, V, pq_fn_clamp},
	{"clamp_max", {V, S}, 2, 0, V, pq_fn_clamp_max},
	{"clamp_min", {V, S}, 2, 0, V, pq_fn_clamp_min},
	{"cos", {V}, 1, 0, V, pq_fn_cos},
	{"cosh", {V}, 1, 0, V, pq_fn_cosh},
	{"count_over_time", {M}, 1, 0, V, pq_fn_count_over_time},
	{"day_of_month", {V}, 1, 1, V, pq_fn_day_of_month},
	{"day_of_week", {V}, 1, 1, V, pq_fn_day_of_week},
	{"day_of_year", {V}, 1, 1, V, pq_fn_day_of_year},
	{"days_in_month", {V}, 1, 1, V, pq_fn_days_in_month},
	{"deg", {V}, 1, 0, V, pq_fn_deg},
	{"delta", {M}, 1, 0, V, pq_fn_delta},
	{"deriv", {M}, 1, 0, V, pq_fn_deriv},
	{"exp", {V}, 1, 0, V, pq_fn_exp},
	{"floor", {V}, 1, 0, V, pq_fn_floor},
	{"histogram_count", {V}, 1, 0, V, pq_fn_histogram_count},
	{"histogram_fraction", {S, S, V}, 3, 0, V, pq_fn_histogram_fraction},
	{"histogram_quantile", {S, V}, 2, 0, V, pq_fn_histogram_quantile},
	{"histogram_sum", {V}, 1, 0, V, pq_fn_histogram_sum},
	{"holt_winters", {M, S, S}, 3, 0, V, pq_fn_holt_winters},
	{"hour", {V}, 1, 1, V, pq_fn_hour},
	{"idelta", {M}, 1, 0, V, pq_fn_idelta},
	{"increase", {M}, 1, 0, V, pq_fn_increase},
	{"irate", {M}, 1, 0, V, pq_fn_irate},
	{"label_join", {V, STR, STR, STR}, 4, -1, V, pq_fn_label_join},
	{"label_replace", {V, STR, STR, STR, STR}, 5, 0, V, pq_fn_label_replace},
	{"last_over_time", {M}, 1, 0, V, pq_fn_last_over_time},
	{"ln", {V}, 1, 0, V, pq_fn_ln},
	{"log10", {V}, 1, 0, V, pq_fn_log10},
	{"log2", {V}, 1, 0, V, pq_fn_log2},
	{"max_over_time", {M}, 1, 0, V, pq_fn_max_over_time},
	{"min_over_time", {M}, 1, 0, V, pq_fn_min_over_time},
	{"minute", {V}, 1, 1, V, pq_fn_minute},
	{"month", {V}, 1, 1, V, pq_fn_month},
	{"pi", {PQ_TYPE_NONE}, 0, 0, S, pq_fn_pi},
	{"predict_linear", {M, S}, 2, 0, V, pq_fn_predict_linear},
	{"present_over_time", {M}, 1, 0, V, pq_fn_present_over_time},
	{"quantile_over_time", {S, M}, 2, 0, V, pq_fn_quantile_over_time},
	{"rad", {V}, 1, 0, V, pq_fn_rad},
	{"rate", {M}, 1, 0, V, pq_fn_rate},
	{"resets", {M}, 1, 0, V, pq_fn_resets},
	{"round", {V, S}, 2, 1, V, pq_fn_round},
	{"scalar", {V}, 1, 0, S, pq_fn_scalar},
	{"sgn", {V}, 1, 0, V, pq_fn_sgn},
	{"sin", {V}, 1, 0, V, pq_fn_sin},
	{"sinh", {V}, 1, 0, V, pq_fn_sinh},
	{"sort", {V}, 1, 0, V, pq_fn_sort},
	{"sort_desc", {V}, 1, 0, V, pq_fn_sort_desc},
	{"sqrt", {V}, 1, 0, V, pq_fn_sqrt},
	{"stddev_over_time", {M}, 1, 0, V, pq_fn_stddev_over_time},
	{"stdvar_over_time", {M}, 1, 0, V, pq_fn_stdvar_over_time},
	{"sum_over_time", {M}, 1, 0, V, pq_fn_sum_over_time},
	{"tan", {V}, 1, 0, V, pq_fn_tan},
	{"tanh", {V}, 1, 0, V, pq_fn_tanh},
	{"time", {PQ_TYPE_NONE}, 0, 0, S, pq_fn_time},
	{"timestamp", {V}, 1, 0, V, pq_fn_timestamp},
	{"vector", {S}, 1, 0, V, pq_fn_vector},
	{"year", {V}, 1, 1, V, pq_fn_year},
};

#define NFUNCS (sizeof(funcs) / sizeof(funcs[0]))

const struct pq_func *
pq_func_lookup(const char *s, size_t len)
{
	size_t lo = 0, hi = NFUNCS, mid, n;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		n = strlen(funcs[mid].name);
		c = strncmp(s, funcs[mid].name, len < n ? len : n);
		if (c == 0)
			c = len < n ? -1 : len > n ? 1 : 0;
		if (c == 0)
			return &funcs[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct pq_func *
pq_func_at(size_t i)
{
	return i < NFUNCS ? &funcs[i] : NULL;
}
