/*
 * fn.c - the PromQL functions of Prometheus 2.42 for float samples
 * (functions.go, quantile.go), called by eval.c through the table of
 * func.c (evalint.h says how).  Comments name where our arithmetic has to
 * follow Go's rather than C's.
 */
#include "promql/evalint.h"
#include "promql/numfmt.h"
#include "promql/rematch.h"
#include "common/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Go's math.Pi. */
#define PI 3.14159265358979323846264338327950288419716939937510582097494459

/* --- helpers --- */

static double
arg_scalar(const struct pq_fcall *c, size_t i)
{
	return c->args[i].scalar;
}

static const struct pq_vector *
arg_vector(const struct pq_fcall *c, size_t i)
{
	return &c->args[i].vec;
}

static const struct pq_str *
arg_string(const struct pq_fcall *c, size_t i)
{
	return &c->args[i].str;
}

static int
out_sample(struct pq_fcall *c, const struct pq_lset *ls, double v)
{
	return pq_ev_push(c->ev, c->out, ls, c->t, v);
}

static int
result(struct pq_fcall *c, double v)
{
	c->result = v;
	c->has_result = true;
	return 0;
}

/* Apply f to every sample, dropping the metric name. */
static int
simple(struct pq_fcall *c, double (*f)(double))
{
	const struct pq_vector *v = arg_vector(c, 0);
	int rc;

	for (size_t i = 0; i < v->n; i++)
		if ((rc = out_sample(c, pq_ev_drop_name(c->ev, v->v[i].ls),
		    f(v->v[i].v))) != 0)
			return rc;
	return 0;
}

/* The runs of a range, clipped, markers left out: one value each. */
struct seg {
	int64_t t0;	/* first sample's time */
	double v;
	uint32_t n;
};

struct seg_it {
	const struct pq_range *rg;
	size_t i;
};

static inline bool
seg_next(struct seg_it *it, struct seg *s)
{
	const struct pq_range *rg = it->rg;

	while (it->i < rg->nr) {
		size_t i = it->i++;
		uint32_t from = i == 0 ? rg->skip : 0;
		uint32_t to = i + 1 == rg->nr ? rg->keep : rg->r[i].n;

		if (to <= from || pq_is_stale(rg->r[i].v))
			continue;
		s->t0 = rg->r[i].t + (int64_t)from * rg->step;
		s->v = rg->r[i].v;
		s->n = to - from;
		return true;
	}
	return false;
}

static int64_t
seg_last_t(const struct pq_range *rg, const struct seg *s)
{
	return s->t0 + (int64_t)(s->n - 1) * rg->step;
}

/* --- math on instant vectors --- */

static double f_deg(double v) { return v * 180 / PI; }
static double f_rad(double v) { return v * PI / 180; }
static double
f_sgn(double v)
{
	return v < 0 ? -1 : v > 0 ? 1 : v;
}

int pq_fn_abs(struct pq_fcall *c) { return simple(c, fabs); }
int pq_fn_acos(struct pq_fcall *c) { return simple(c, acos); }
int pq_fn_acosh(struct pq_fcall *c) { return simple(c, acosh); }
int pq_fn_asin(struct pq_fcall *c) { return simple(c, asin); }
int pq_fn_asinh(struct pq_fcall *c) { return simple(c, asinh); }
int pq_fn_atan(struct pq_fcall *c) { return simple(c, atan); }
int pq_fn_atanh(struct pq_fcall *c) { return simple(c, atanh); }
int pq_fn_ceil(struct pq_fcall *c) { return simple(c, ceil); }
int pq_fn_cos(struct pq_fcall *c) { return simple(c, cos); }
int pq_fn_cosh(struct pq_fcall *c) { return simple(c, cosh); }
int pq_fn_deg(struct pq_fcall *c) { return simple(c, f_deg); }
int pq_fn_exp(struct pq_fcall *c) { return simple(c, exp); }
int pq_fn_floor(struct pq_fcall *c) { return simple(c, floor); }
int pq_fn_ln(struct pq_fcall *c) { return simple(c, log); }
int pq_fn_log10(struct pq_fcall *c) { return simple(c, log10); }
int pq_fn_log2(struct pq_fcall *c) { return simple(c, log2); }
int pq_fn_rad(struct pq_fcall *c) { return simple(c, f_rad); }
int pq_fn_sgn(struct pq_fcall *c) { return simple(c, f_sgn); }
int pq_fn_sin(struct pq_fcall *c) { return simple(c, sin); }
int pq_fn_sinh(struct pq_fcall *c) { return simple(c, sinh); }
int pq_fn_sqrt(struct pq_fcall *c) { return simple(c, sqrt); }
int pq_fn_tan(struct pq_fcall *c) { return simple(c, tan); }
int pq_fn_tanh(struct pq_fcall *c) { return simple(c, tanh); }

int
pq_fn_clamp(struct pq_fcall *c)
{
	const struct pq_vector *v = arg_vector(c, 0);
	double min = arg_scalar(c, 1), max = arg_scalar(c, 2);
	int rc;

	if (max < min)
		return 0;
	for (size_t i = 0; i < v->n; i++)
		if ((rc = out_sample(c, pq_ev_drop_name(c->ev, v->v[i].ls),
		    pq_go_max(min, pq_go_min(max, v->v[i].v)))) != 0)
			return rc;
	return 0;
}

static int
clamp_one(struct pq_fcall *c, bool is_max)
{
	const struct pq_vector *v = arg_vector(c, 0);
	double b = arg_scalar(c, 1);
	int rc;

	for (size_t i = 0; i < v->n; i++)
		if ((rc = out_sample(c, pq_ev_drop_name(c->ev, v->v[i].ls),
		    is_max ? pq_go_min(b, v->v[i].v) :
		    pq_go_max(b, v->v[i].v))) != 0)
			return rc;
	return 0;
}

int pq_fn_clamp_max(struct pq_fcall *c) { return clamp_one(c, true); }
int pq_fn_clamp_min(struct pq_fcall *c) { return clamp_one(c, false); }

int
pq_fn_round(struct pq_fcall *c)
{
	const struct pq_vector *v = arg_vector(c, 0);
	double to = c->nargs >= 2 ? arg_scalar(c, 1) : 1, inv = 1.0 / to;
	int rc;

	for (size_t i = 0; i < v->n; i++)
		if ((rc = out_sample(c, pq_ev_drop_name(c->ev, v->v[i].ls),
		    floor(v->v[i].v * inv + 0.5) / inv)) != 0)
			return rc;
	return 0;
}

/* --- scalars, vectors, time --- */

int
pq_fn_pi(struct pq_fcall *c)
{
	return out_sample(c, &pq_lset_empty, PI);
}

int
pq_fn_time(struct pq_fcall *c)
{
	return out_sample(c, &pq_lset_empty, (double)c->t / 1000);
}

int
pq_fn_scalar(struct pq_fcall *c)
{
	const struct pq_vector *v = arg_vector(c, 0);

	return out_sample(c, &pq_lset_empty, v->n == 1 ? v->v[0].v : NAN);
}

int
pq_fn_vector(struct pq_fcall *c)
{
	return out_sample(c, &pq_lset_empty, arg_scalar(c, 0));
}

/* timestamp(): a selector's samples carry their own times; the results of
 * anything else carry the evaluation time, as in Prometheus. */
int
pq_fn_timestamp(struct pq_fcall *c)
{
	const struct pq_vector *v = arg_vector(c, 0);
	const struct pq_node *a = c->node->args[0];
	bool own;
	int rc;

	while (a->kind == PQ_PAREN)
		a = a->expr;
	own = a->kind == PQ_VECTOR_SELECTOR;
	for (size_t i = 0; i < v->n; i++)
		if ((rc = out_sample(c, pq_ev_drop_name(c->ev, v->v[i].ls),
		    (double)(own ? v->v[i].t : c->t) / 1000)) != 0)
			return rc;
	return 0;
}

int
pq_fn_absent(struct pq_fcall *c)
{
	/* eval.c puts the labels the argument implies. */
	if (arg_vector(c, 0)->n > 0)
		return 0;
	return out_sample(c, &pq_lset_empty, 1);
}

int
pq_fn_absent_over_time(struct pq_fcall *c)
{
	return result(c, 1);
}

/* Go's sort of a vector by value (funcSort, funcSortDesc), NaN last;
 * equal values keep their order, as Go's insertion sort keeps them for
 * the small vectors it sorts that way. */
static bool
sort_before(double a, double b, bool desc)
{
	if (isnan(a))
		return false;
	if (isnan(b))
		return true;
	return desc ? a > b : a < b;
}

static int
sort_vector(struct pq_fcall *c, bool desc)
{
	const struct pq_vector *v = arg_vector(c, 0);
	struct pq_sample *tmp, *a;
	size_t n = v->n, w, i, j, k, lo, mid, hi;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = pq_ev_push(c->ev, c->out, v->v[i].ls, v->v[i].t,
		    v->v[i].v)) != 0)
			return rc;
	if (n < 2)
		return 0;
	a = c->out->v;
	if ((tmp = malloc(n * sizeof(*tmp))) == NULL)
		return pq_ev_nomem(c->ev);
	/* Bottom-up merge sort: stable, n log n. */
	for (w = 1; w < n; w *= 2) {
		for (lo = 0; lo < n; lo += 2 * w) {
			mid = lo + w < n ? lo + w : n;
			hi = lo + 2 * w < n ? lo + 2 * w : n;
			for (i = lo, j = mid, k = lo; k < hi; k++)
				tmp[k] = (i < mid && (j >= hi ||
				    !sort_before(a[j].v, a[i].v, desc))) ?
				    a[i++] : a[j++];
		}
		memcpy(a, tmp, n * sizeof(*a));
	}
	free(tmp);
	return 0;
}

int pq_fn_sort(struct pq_fcall *c) { return sort_vector(c, false); }
int pq_fn_sort_desc(struct pq_fcall *c) { return sort_vector(c, true); }

/* --- dates, as Go's time package computes them in UTC --- */

struct civil {
	int64_t year;
	int month, day, yday, wday, hour, minute;
};

static bool
is_leap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/*
 * Go's absDate for time.Unix(sec, 0).UTC(), wrapping as Go's unsigned
 * arithmetic wraps, so even int64(NaN) gives Go's (odd) answer.
 */
static void
civil_of(int64_t sec, struct civil *cv)
{
	static const int before[13] = {0, 31, 59, 90, 120, 151, 181, 212,
	    243, 273, 304, 334, 365};
	const uint64_t day_s = 86400, y400 = 365 * 400 + 97,
	    y100 = 365 * 100 + 24, y4 = 365 * 4 + 1;
	uint64_t abs = (uint64_t)sec + 9223372028715321600ull;
	uint64_t d = abs / day_s, n, y;
	int day, m, end, begin;

	cv->hour = (int)((abs % day_s) / 3600);
	cv->minute = (int)((abs % 3600) / 60);
	cv->wday = (int)(((abs + day_s) % (7 * day_s)) / day_s);
	n = d / y400;
	y = 400 * n;
	d -= y400 * n;
	n = d / y100;
	n -= n >> 2;
	y += 100 * n;
	d -= y100 * n;
	n = d / y4;
	y += 4 * n;
	d -= y4 * n;
	n = d / 365;
	n -= n >> 2;
	y += n;
	d -= 365 * n;
	cv->year = (int64_t)y - 292277022399LL;
	cv->yday = (int)d + 1;
	day = (int)d;
	if (is_leap(cv->year)) {
		if (day > 31 + 29 - 1) {
			day--;
		} else if (day == 31 + 29 - 1) {
			cv->month = 2;
			cv->day = 29;
			return;
		}
	}
	m = day / 31;
	end = before[m + 1];
	if (day >= end) {
		m++;
		begin = end;
	} else {
		begin = before[m];
	}
	cv->month = m + 1;
	cv->day = day - begin + 1;
}

enum date_part { D_MONTH_DAY, D_WEEK_DAY, D_YEAR_DAY, D_MONTH_DAYS, D_HOUR,
    D_MINUTE, D_MONTH, D_YEAR };

static double
date_part(int64_t sec, enum date_part p)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31};
	struct civil cv;

	civil_of(sec, &cv);
	switch (p) {
	case D_MONTH_DAY: return cv.day;
	case D_WEEK_DAY: return cv.wday;
	case D_YEAR_DAY: return cv.yday;
	case D_MONTH_DAYS:
		return days[cv.month - 1] + (cv.month == 2 &&
		    is_leap(cv.year) ? 1 : 0);
	case D_HOUR: return cv.hour;
	case D_MINUTE: return cv.minute;
	case D_MONTH: return cv.month;
	default: return (double)cv.year;
	}
}

static int
date_fn(struct pq_fcall *c, enum date_part p)
{
	const struct pq_vector *v;
	int rc;

	if (c->nargs == 0)
		return out_sample(c, &pq_lset_empty, date_part(c->t / 1000, p));
	v = arg_vector(c, 0);
	for (size_t i = 0; i < v->n; i++)
		if ((rc = out_sample(c, pq_ev_drop_name(c->ev, v->v[i].ls),
		    date_part(pq_go_int64(v->v[i].v), p))) != 0)
			return rc;
	return 0;
}

int pq_fn_day_of_month(struct pq_fcall *c) { return date_fn(c, D_MONTH_DAY); }
int pq_fn_day_of_week(struct pq_fcall *c) { return date_fn(c, D_WEEK_DAY); }
int pq_fn_day_of_year(struct pq_fcall *c) { return date_fn(c, D_YEAR_DAY); }
int pq_fn_days_in_month(struct pq_fcall *c) { return date_fn(c, D_MONTH_DAYS); }
int pq_fn_hour(struct pq_fcall *c) { return date_fn(c, D_HOUR); }
int pq_fn_minute(struct pq_fcall *c) { return date_fn(c, D_MINUTE); }
int pq_fn_month(struct pq_fcall *c) { return date_fn(c, D_MONTH); }
int pq_fn_year(struct pq_fcall *c) { return date_fn(c, D_YEAR); }

/* --- labels --- */

int
pq_fn_label_replace(struct pq_fcall *c)
{
	const struct pq_vector *v = arg_vector(c, 0);
	const struct pq_str *dst = arg_string(c, 1), *repl = arg_string(c, 2),
	    *src = arg_string(c, 3);
	struct pq_lbuilder *lb = pq_ev_builder(c->ev);
	struct buf res = BUF_INIT(1 << 24);
	const struct pq_lset *ls;
	const char *sv;
	size_t svlen;
	bool matched;
	int rc = 0;

	if (!pq_label_name_valid(dst->p, dst->len))
		return perr_set(pq_ev_err(c->ev), PERR_INVALID, "invalid "
		    "destination label name in label_replace(): %s", dst->p);
	for (size_t i = 0; i < v->n && rc == 0; i++) {
		ls = v->v[i].ls;
		if ((sv = pq_lset_get(ls, src->p, src->len, &svlen)) == NULL) {
			sv = "";
			svlen = 0;
		}
		buf_reset(&res);
		rc = pq_regex_expand(c->cache, sv, svlen, repl->p, repl->len,
		    &res, &matched, pq_ev_err(c->ev));
		if (rc != 0)
			break;
		if (matched) {
			pq_lb_reset(lb, ls);
			pq_lb_set_copy(lb, dst->p, dst->len, buf_str(&res),
			    res.len);
			if ((ls = pq_lb_finish(lb)) == NULL) {
				rc = pq_ev_nomem(c->ev);
				break;
			}
		}
		rc = out_sample(c, ls, v->v[i].v);
	}
	buf_free(&res);
	return rc;
}

int
pq_fn_label_join(struct pq_fcall *c)
{
	const struct pq_vector *v = arg_vector(c, 0);
	const struct pq_str *dst = arg_string(c, 1), *sep = arg_string(c, 2);
	struct pq_lbuilder *lb = pq_ev_builder(c->ev);
	struct buf joined = BUF_INIT(1 << 24);
	const struct pq_lset *ls;
	const char *sv;
	size_t svlen;
	int rc = 0;

	for (size_t k = 3; k < c->nargs; k++) {
		const struct pq_str *s = arg_string(c, k);

		if (!pq_label_name_valid(s->p, s->len))
			return perr_set(pq_ev_err(c->ev), PERR_INVALID, "invalid "
			    "source label name in label_join(): %s", s->p);
	}
	if (!pq_label_name_valid(dst->p, dst->len))
		return perr_set(pq_ev_err(c->ev), PERR_INVALID, "invalid "
		    "destination label name in label_join(): %s", dst->p);
	for (size_t i = 0; i < v->n && rc == 0; i++) {
		buf_reset(&joined);
		for (size_t k = 3; k < c->nargs && rc == 0; k++) {
			const struct pq_str *s = arg_string(c, k);

			sv = pq_lset_get(v->v[i].ls, s->p, s->len, &svlen);
			if (k > 3)
				rc = buf_add(&joined, sep->p, sep->len);
			if (rc == 0 && sv != NULL)
				rc = buf_add(&joined, sv, svlen);
		}
		if (rc != 0) {
			rc = perr_set(pq_ev_err(c->ev), rc, "label_join(): "
			    "value too long");
			break;
		}
		pq_lb_reset(lb, v->v[i].ls);
		pq_lb_set_copy(lb, dst->p, dst->len, buf_str(&joined),
		    joined.len);
		if ((ls = pq_lb_finish(lb)) == NULL) {
			rc = pq_ev_nomem(c->ev);
			break;
		}
		rc = out_sample(c, ls, v->v[i].v);
	}
	buf_free(&joined);
	return rc;
}

/* --- histograms --- */

struct bucket {
	double upper, count;
};

static int
cmp_bucket(const void *a, const void *b)
{
	const struct bucket *x = a, *y = b;

	return x->upper < y->upper ? -1 : x->upper > y->upper ? 1 : 0;
}

/* quantile.go's bucketQuantile. */
static double
bucket_quantile(double q, struct bucket *b, size_t n)
{
	double max = -INFINITY, obs, rank, start = 0, end, count;
	size_t i, k;

	if (isnan(q))
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	qsort(b, n, sizeof(*b), cmp_bucket);
	if (!isinf(b[n - 1].upper) || b[n - 1].upper < 0)
		return NAN;
	/* Buckets with the same bound add up. */
	for (i = 1, k = 0; i < n; i++) {
		if (b[i].upper == b[k].upper)
			b[k].count += b[i].count;
		else
			b[++k] = b[i];
	}
	n = k + 1;
	for (i = 0; i < n; i++) {
		if (b[i].count > max)
			max = b[i].count;
		else if (b[i].count < max)
			b[i].count = max;
	}
	if (n < 2)
		return NAN;
	obs = b[n - 1].count;
	if (obs == 0)
		return NAN;
	rank = q * obs;
	/* sort.Search over the first n - 1 buckets. */
	for (i = 0; i < n - 1 && !(b[i].count >= rank); i++)
		;
	if (i == n - 1)
		return b[n - 2].upper;
	if (i == 0 && b[0].upper <= 0)
		return b[0].upper;
	end = b[i].upper;
	count = b[i].count;
	if (i > 0) {
		start = b[i - 1].upper;
		count -= b[i - 1].count;
		rank -= b[i - 1].count;
	}
	return start + (end - start) * (rank / count);
}

struct hgroup {
	const struct pq_lset *ls;
	struct bucket *b;
	size_t n, cap;
};

int
pq_fn_histogram_quantile(struct pq_fcall *c)
{
	const struct pq_vector *v = arg_vector(c, 1);
	struct pq_lbuilder *lb = pq_ev_builder(c->ev);
	struct hmap index = HMAP_INIT;
	struct hgroup *g = calloc(v->n + 1, sizeof(*g));
	struct buf *key = pq_ev_keybuf(c->ev);
	static const struct pq_label_name le = {"le", 2};
	size_t ng = 0, *slot, lelen;
	const char *lev;
	double upper;
	bool found;
	int rc = 0;

	if (g == NULL)
		return pq_ev_nomem(c->ev);
	for (size_t i = 0; i < v->n && rc == 0; i++) {
		lev = pq_lset_get(v->v[i].ls, "le", 2, &lelen);
		if (lev == NULL || !pq_parse_float(lev, lelen, &upper))
			continue;
		/* The group: every label but le, __name__ included. */
		buf_reset(key);
		for (size_t k = 0; k < v->v[i].ls->n && rc == 0; k++) {
			const struct pq_lpair *l = &v->v[i].ls->l[k];

			if (l->nlen == 2 && memcmp(l->name, "le", 2) == 0)
				continue;
			rc = buf_add(key, l->name, l->nlen + 1);
			if (rc == 0)
				rc = buf_add(key, l->value, l->vlen + 1);
		}
		if (rc != 0 || hmap_upsert(&index, key->p, key->len, &slot,
		    &found) != 0) {
			rc = pq_ev_nomem(c->ev);
			break;
		}
		if (!found) {
			*slot = ng;
			pq_lb_reset(lb, v->v[i].ls);
			pq_lb_del(lb, "__name__", 8);
			pq_lb_del(lb, le.p, le.len);
			if ((g[ng].ls = pq_lb_finish(lb)) == NULL) {
				rc = pq_ev_nomem(c->ev);
				break;
			}
			ng++;
		}
		struct hgroup *h = &g[*slot];

		if (mem_grow(&h->b, &h->cap, h->n + 1, sizeof(h->b[0]), 16) != 0) {
			rc = pq_ev_nomem(c->ev);
			break;
		}
		h->b[h->n].upper = upper;
		h->b[h->n].count = v->v[i].v;
		h->n++;
	}
	for (size_t i = 0; i < ng && rc == 0; i++)
		rc = out_sample(c, g[i].ls, bucket_quantile(arg_scalar(c, 0),
		    g[i].b, g[i].n));
	for (size_t i = 0; i < ng; i++)
		free(g[i].b);
	free(g);
	hmap_free(&index);
	return rc;
}

/* Native histograms only: float samples give nothing, as in Prometheus. */
int pq_fn_histogram_count(struct pq_fcall *c) { (void)c; return 0; }
int pq_fn_histogram_sum(struct pq_fcall *c) { (void)c; return 0; }
int pq_fn_histogram_fraction(struct pq_fcall *c) { (void)c; return 0; }

/* --- quantile (aggregation and quantile_over_time) --- */

static int
cmp_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	/* vectorByValueHeap: NaN first. */
	if (isnan(x))
		return isnan(y) ? 0 : -1;
	if (isnan(y))
		return 1;
	return x < y ? -1 : x > y ? 1 : 0;
}

double
pq_quantile(double q, double *values, size_t n)
{
	double rank, lower, upper, weight;

	if (n == 0 || isnan(q))
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	qsort(values, n, sizeof(*values), cmp_value);
	rank = q * (double)(n - 1);
	lower = pq_go_max(0, floor(rank));
	upper = pq_go_min((double)(n - 1), lower + 1);
	weight = rank - floor(rank);
	return values[(size_t)lower] * (1 - weight) +
	    values[(size_t)upper] * weight;
}

/* --- range functions --- */

static const struct pq_range *
range_of(const struct pq_fcall *c)
{
	return &c->series->rg;
}

/*
 * (double)ms / 1000, as Prometheus turns a span of milliseconds into
 * seconds: whole seconds (spans between scrapes and evaluations on the
 * second, the usual case) without the division, as the quotient is then
 * exact and the division would give it bit for bit.
 */
static inline double
ms_to_seconds(int64_t ms)
{
	if (ms % 1000 == 0 && ms < (INT64_C(1) << 53) &&
	    ms > -(INT64_C(1) << 53))
		return (double)(ms / 1000);
	return (double)ms / 1000;
}

/* extrapolatedRate of functions.go. */
static int
extrapolated_rate(struct pq_fcall *c, bool counter, bool rate)
{
	const struct pq_range *rg = range_of(c);
	struct seg_it it = {rg, 0};
	struct seg s;
	size_t n = 0;
	int64_t t0 = 0, t1 = 0;
	double v0 = 0, v1 = 0, prev = 0, value, to_start, to_end, sampled,
	    avg, threshold, interval, to_zero, factor;
	bool first = true;

	value = 0;
	if (rg->summarized && rg->rising) {
		/* No resets, no markers: the first and last samples and the
		   count say it all, whatever the runs between. */
		n = (size_t)rg->count;
		t0 = rg->r[0].t + (int64_t)rg->skip * rg->step;
		v0 = rg->r[0].v;
		t1 = rg->r[rg->nr - 1].t + (int64_t)(rg->keep - 1) * rg->step;
		v1 = rg->r[rg->nr - 1].v;
	} else {
		/* First, last and the counter's resets, a run at a time. */
		while (seg_next(&it, &s)) {
			if (first) {
				t0 = s.t0;
				v0 = s.v;
				first = false;
			} else if (counter && s.v < prev) {
				value += prev;
			}
			prev = s.v;
			t1 = seg_last_t(rg, &s);
			v1 = s.v;
			n += s.n;
		}
	}
	if (n < 2)
		return 0;
	value += v1 - v0;
	/* Nothing counted (+0): the factor below is finite and positive (the
	   samples lie in the range, t1 > t0), so the result is +0 anyway. */
	if (value == 0 && !signbit(value) && (!rate || c->maxt > c->mint))
		return result(c, value);
	to_start = ms_to_seconds(t0 - c->mint);
	to_end = ms_to_seconds(c->maxt - t1);
	sampled = ms_to_seconds(t1 - t0);
	avg = sampled / (double)(n - 1);
	if (counter && value > 0 && v0 >= 0) {
		to_zero = sampled * (v0 / value);
		if (to_zero < to_start)
			to_start = to_zero;
	}
	threshold = avg * 1.1;
	interval = sampled;
	interval += to_start < threshold ? to_start : avg / 2;
	interval += to_end < threshold ? to_end : avg / 2;
	/* The factor first, then the value: the order decides the last bit. */
	factor = interval / sampled;
	if (rate)
		factor /= ms_to_seconds(c->maxt - c->mint);
	return result(c, value * factor);
}

int pq_fn_rate(struct pq_fcall *c) { return extrapolated_rate(c, true, true); }
int pq_fn_increase(struct pq_fcall *c) { return extrapolated_rate(c, true, false); }
int pq_fn_delta(struct pq_fcall *c) { return extrapolated_rate(c, false, false); }

/* The last two samples of a range, for irate and idelta. */
static bool
last_two(const struct pq_range *rg, int64_t *tp, double *vp, int64_t *tl,
    double *vl)
{
	struct seg_it it = {rg, 0};
	struct seg s;
	bool any = false, have_prev = false;

	while (seg_next(&it, &s)) {
		if (s.n >= 2) {
			*tp = seg_last_t(rg, &s) - rg->step;
			*vp = s.v;
			have_prev = true;
		} else if (any) {
			*tp = *tl;
			*vp = *vl;
			have_prev = true;
		}
		*tl = seg_last_t(rg, &s);
		*vl = s.v;
		any = true;
	}
	return have_prev;
}

static int
instant_value(struct pq_fcall *c, bool rate)
{
	int64_t tp = 0, tl = 0;
	double vp = 0, vl = 0, value;

	if (!last_two(range_of(c), &tp, &vp, &tl, &vl))
		return 0;
	value = rate && vl < vp ? vl : vl - vp;
	if (tl - tp == 0)
		return 0;
	if (rate)
		value /= (double)(tl - tp) / 1000;
	return result(c, value);
}

int pq_fn_irate(struct pq_fcall *c) { return instant_value(c, true); }
int pq_fn_idelta(struct pq_fcall *c) { return instant_value(c, false); }

/* linearRegression of functions.go, with its Kahan sums. */
static void
linear_regression(const struct pq_range *rg, int64_t icept, double *slope,
    double *intercept)
{
	struct pq_range_it it;
	double n = 0, sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0,
	    sx2 = 0, cx2 = 0, init = 0, x, v, cov, var;
	int64_t t;
	bool const_y = true, first = true;

	pq_range_it_init(&it, rg);
	while (pq_range_it_next(&it, &t, &v)) {
		if (first) {
			init = v;
			first = false;
		} else if (const_y && v != init) {
			const_y = false;
		}
		n += 1;
		x = (double)(t - icept) / 1e3;
		pq_kahan_add(x, &sx, &cx);
		pq_kahan_add(v, &sy, &cy);
		pq_kahan_add(x * v, &sxy, &cxy);
		pq_kahan_add(x * x, &sx2, &cx2);
	}
	if (const_y) {
		if (isinf(init)) {
			*slope = *intercept = NAN;
			return;
		}
		*slope = 0;
		*intercept = init;
		return;
	}
	sx += cx;
	sy += cy;
	sxy += cxy;
	sx2 += cx2;
	cov = sxy - sx * sy / n;
	var = sx2 - sx * sx / n;
	*slope = cov / var;
	*intercept = sy / n - *slope * sx / n;
}

int
pq_fn_deriv(struct pq_fcall *c)
{
	const struct pq_range *rg = range_of(c);
	int64_t t0;
	double v0, slope, icept;

	if (pq_range_count(rg) < 2 || !pq_range_first(rg, &t0, &v0))
		return 0;
	linear_regression(rg, t0, &slope, &icept);
	return result(c, slope);
}

int
pq_fn_predict_linear(struct pq_fcall *c)
{
	const struct pq_range *rg = range_of(c);
	double slope, icept;

	if (pq_range_count(rg) < 2)
		return 0;
	linear_regression(rg, c->t, &slope, &icept);
	return result(c, slope * arg_scalar(c, 1) + icept);
}

int
pq_fn_holt_winters(struct pq_fcall *c)
{
	const struct pq_range *rg = range_of(c);
	double sf = arg_scalar(c, 1), tf = arg_scalar(c, 2), s0 = 0, s1 = 0,
	    b = 0, x, y, v;
	struct buf m = BUF_INIT(64);
	struct pq_range_it it;
	int64_t t;
	size_t i = 0;

	if (sf <= 0 || sf >= 1 || tf <= 0 || tf >= 1) {
		bool smooth = sf <= 0 || sf >= 1;

		(void)pq_format_float(&m, smooth ? sf : tf, 'f', 6);
		perr_set(pq_ev_err(c->ev), PERR_INVALID, "invalid %s factor. "
		    "Expected: 0 < %s < 1, got: %s", smooth ? "smoothing" :
		    "trend", smooth ? "sf" : "tf", buf_str(&m));
		buf_free(&m);
		return PERR_INVALID;
	}
	if (pq_range_count(rg) < 2)
		return 0;
	pq_range_it_init(&it, rg);
	while (pq_range_it_next(&it, &t, &v)) {
		if (i == 0) {
			s1 = v;
		} else if (i == 1) {
			b = v - s1;
			/* calcTrendValue(0, ...) is b itself. */
			x = sf * v;
			y = (1 - sf) * (s1 + b);
			s0 = s1;
			s1 = x + y;
		} else {
			b = tf * (s1 - s0) + (1 - tf) * b;
			x = sf * v;
			y = (1 - sf) * (s1 + b);
			s0 = s1;
			s1 = x + y;
		}
		i++;
	}
	return result(c, s1);
}

int
pq_fn_changes(struct pq_fcall *c)
{
	struct seg_it it = {range_of(c), 0};
	struct seg s;
	double prev = 0, n = 0;
	bool first = true;

	while (seg_next(&it, &s)) {
		if (!first && s.v != prev && !(isnan(s.v) && isnan(prev)))
			n++;
		prev = s.v;
		first = false;
	}
	return result(c, n);
}

int
pq_fn_resets(struct pq_fcall *c)
{
	struct seg_it it = {range_of(c), 0};
	struct seg s;
	double prev = 0, n = 0;
	bool first = true;

	while (seg_next(&it, &s)) {
		if (!first && s.v < prev)
			n++;
		prev = s.v;
		first = false;
	}
	return result(c, n);
}

/*
 * Whether adding more samples of value v to the running mean and its
 * compensation changes neither, bit for bit: the mean is v (finite), so
 * each step adds v/count - v/count, +0, which leaves both as they are
 * unless one is -0.
 */
static bool
mean_settled(double mean, double comp, double v)
{
	return isfinite(v) && pq_same_value(mean, v) &&
	    !(mean == 0 && signbit(mean)) && !(comp == 0 && signbit(comp));
}

int
pq_fn_avg_over_time(struct pq_fcall *c)
{
	struct seg_it it = {range_of(c), 0};
	struct seg s;
	double mean = 0, count = 0, comp = 0;

	/* A run at a time: the run's value once, and the rest of a run
	   counted in one step once the mean has reached it. */
	while (seg_next(&it, &s)) {
		for (uint32_t k = 0; k < s.n; k++) {
			count++;
			if (isinf(mean)) {
				if (isinf(s.v) && (mean > 0) == (s.v > 0))
					continue;
				if (!isinf(s.v) && !isnan(s.v))
					continue;
			} else if (mean_settled(mean, comp, s.v)) {
				count += s.n - k - 1;
				break;
			}
			pq_kahan_add(s.v / count - mean / count, &mean, &comp);
		}
	}
	return result(c, isinf(mean) ? mean : mean + comp);
}

int
pq_fn_count_over_time(struct pq_fcall *c)
{
	return result(c, (double)pq_range_count(range_of(c)));
}

int
pq_fn_last_over_time(struct pq_fcall *c)
{
	int64_t t;
	double v;

	if (!pq_range_last(range_of(c), &t, &v))
		return 0;
	return result(c, v);
}

static int
extreme_over_time(struct pq_fcall *c, bool max)
{
	struct seg_it it = {range_of(c), 0};
	struct seg s;
	double m = 0;
	bool first = true;

	while (seg_next(&it, &s)) {
		if (first)
			m = s.v;
		else if ((max ? s.v > m : s.v < m) || isnan(m))
			m = s.v;
		first = false;
	}
	return result(c, m);
}

int pq_fn_max_over_time(struct pq_fcall *c) { return extreme_over_time(c, true); }
int pq_fn_min_over_time(struct pq_fcall *c) { return extreme_over_time(c, false); }

int
pq_fn_sum_over_time(struct pq_fcall *c)
{
	struct pq_range_it it;
	double sum = 0, comp = 0, v;
	int64_t t;

	pq_range_it_init(&it, range_of(c));
	while (pq_range_it_next(&it, &t, &v))
		pq_kahan_add(v, &sum, &comp);
	return result(c, isinf(sum) ? sum : sum + comp);
}

int
pq_fn_present_over_time(struct pq_fcall *c)
{
	return result(c, 1);
}

int
pq_fn_quantile_over_time(struct pq_fcall *c)
{
	const struct pq_range *rg = range_of(c);
	size_t n = pq_range_count(rg), i = 0;
	struct pq_range_it it;
	double *vals, q;
	int64_t t;

	if ((vals = malloc((n + 1) * sizeof(*vals))) == NULL)
		return pq_ev_nomem(c->ev);
	pq_range_it_init(&it, rg);
	while (i < n && pq_range_it_next(&it, &t, &vals[i]))
		i++;
	q = pq_quantile(arg_scalar(c, 0), vals, i);
	free(vals);
	return result(c, q);
}

static int
variance_over_time(struct pq_fcall *c, bool stddev)
{
	struct pq_range_it it;
	double count = 0, mean = 0, cmean = 0, aux = 0, caux = 0, delta, v;
	int64_t t;

	pq_range_it_init(&it, range_of(c));
	while (pq_range_it_next(&it, &t, &v)) {
		count++;
		delta = v - (mean + cmean);
		pq_kahan_add(delta / count, &mean, &cmean);
		pq_kahan_add(delta * (v - (mean + cmean)), &aux, &caux);
	}
	v = (aux + caux) / count;
	return result(c, stddev ? sqrt(v) : v);
}

int pq_fn_stddev_over_time(struct pq_fcall *c) { return variance_over_time(c, true); }
int pq_fn_stdvar_over_time(struct pq_fcall *c) { return variance_over_time(c, false); }
