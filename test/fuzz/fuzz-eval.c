/*
 * fuzz-eval - libFuzzer target: the PromQL evaluator over expressions that
 * parse (lib/promql/eval.h).
 *
 * The input is an expression; one that parses is evaluated over a small
 * fixed store (counters, gauges, NaN, ±Inf, a staleness marker, gaps) at a
 * few times, as an instant and as a range query.  It must return a result
 * or an error with a message, never crash, hang or leak; a vector result
 * never holds a label set twice.  An input that starts with SHAPE_MARK
 * (shapes.h) stands for a deep or long expression: chains of every
 * operator thousands of terms long, nesting at the depth bound.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "promql/eval.h"
#include "promql/parse.h"
#include "promql/series.h"
#include "shapes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const series[] = {
	"a{job=\"x\", inst=\"1\"} 0+1x30",
	"a{job=\"y\", inst=\"2\"} 5 _ 3 stale 1 2 3 NaN Inf -Inf 1x20",
	"b{job=\"x\", inst=\"1\"} 1 2 3 0 1 2 _x3 10+5x15",
	"b{job=\"x\", inst=\"3\", le=\"0.5\"} 0+1x30",
	"b{job=\"x\", inst=\"3\", le=\"+Inf\"} 0+3x30",
	"c 1e300 -1e300 0 -0 1e-300 3.5x25",
};

static void
check(int ok)
{
	if (!ok)
		abort();
}

static void
load(struct pq_store *st, struct pq_arena *a)
{
	for (size_t i = 0; i < sizeof(series) / sizeof(series[0]); i++) {
		const struct pq_lset *ls;
		struct pq_seq_item *it;
		size_t n, pos, idx;
		struct perr e;
		int64_t k = 0;

		check(pq_parse_series(series[i], strlen(series[i]), a, &ls, &it,
		    &n, &pos, &e) == 0);
		check(pq_store_series(st, ls, &idx, &e) == 0);
		for (size_t j = 0; j < n; j++) {
			double v = it[j].start;

			for (uint64_t c = 0; c < it[j].count; c++, k++) {
				if (!it[j].omitted)
					(void)pq_store_append(st, idx, k * 60000,
					    it[j].stale ? pq_stale_nan() : v, &e);
				v += it[j].delta;
			}
		}
	}
}

static int
check_text(const uint8_t *data, size_t size)
{
	static const int64_t times[] = {0, 60000, 300000, 1260000, -60000};
	struct pq_engine_opts opts = {0, 60000, 200000};
	struct pq_arena a = {NULL, 0}, scratch = {NULL, 0};
	struct pq_store st;
	struct pq_expr *x;
	struct pq_query *q;
	struct pq_value v;
	struct perr e;
	size_t pos;
	int rc;

	if (pq_parse((const char *)data, size, &x, &pos, &e) != 0)
		return 0;
	pq_store_init(&st);
	load(&st, &a);
	if (pq_query_new(x->root, &q, &e) == 0) {
		for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
			perr_clear(&e);
			rc = pq_query_exec(q, &st, &opts, times[i], times[i],
			    times[i], &scratch, &v, &e);
			check(rc == 0 || e.msg[0] != '\0');
			if (rc == 0 && v.type == PQ_TYPE_VECTOR)
				for (size_t k = 1; k < v.vec.n; k++)
					for (size_t j = 0; j < k && j < 64; j++)
						check(!pq_lset_equal(v.vec.v[k].ls,
						    v.vec.v[j].ls));
			pq_arena_reset(&scratch);
		}
		perr_clear(&e);
		rc = pq_query_range(q, &st, &opts, 0, 600000, 120000, &scratch,
		    &v, &e);
		check(rc == 0 || e.msg[0] != '\0');
		pq_query_free(q);
	}
	pq_arena_free(&scratch);
	pq_arena_free(&a);
	pq_store_free(&st);
	pq_expr_free(x);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum shape_kind kind;
	struct buf text;

	if (!shape_build(data, size, &kind, &text))
		return check_text(data, size);
	if (kind == SHAPE_EXPR)
		check_text((const uint8_t *)buf_str(&text), text.len);
	buf_free(&text);
	return 0;
}
