/*
 * fuzz-eval - libFuzzer target: the PromQL evaluator over expressions that
 * parse (lib/promql/eval.h).
 *
 * The input is an expression; one that parses is evaluated over a small
 * fixed store (counters, gauges, NaN, ±Inf, a staleness marker, gaps) at a
 * few times, as an instant and as a range query.  It must return a result
 * or an error with a message, never crash, hang or leak; a vector result
 * never holds a label set twice; evaluated at each step with windows
 * worked out ahead (pq_engine_opts.ahead_ms), the results are the same,
 * bit for bit (shapes aside).  An input that starts with SHAPE_MARK
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

/* Whether two results of one evaluation are the same, bit for bit. */
static bool
same_value(const struct pq_value *a, const struct pq_value *b)
{
	if (a->type != b->type)
		return false;
	if (a->type == PQ_TYPE_SCALAR)
		return pq_same_value(a->scalar, b->scalar);
	if (a->type != PQ_TYPE_VECTOR)
		return true;
	if (a->vec.n != b->vec.n)
		return false;
	for (size_t i = 0; i < a->vec.n; i++)
		if (!pq_lset_equal(a->vec.v[i].ls, b->vec.v[i].ls) ||
		    a->vec.v[i].t != b->vec.v[i].t ||
		    !pq_same_value(a->vec.v[i].v, b->vec.v[i].v))
			return false;
	return true;
}

/* Evaluated minute after minute with windows worked out ahead, and
 * without, each over a store of its own (the memos in a store are shared):
 * the same results. */
static void
check_ahead(const struct pq_node *root)
{
	struct pq_engine_opts plain = {0, 60000, 200000, 0}, ahead = plain;
	struct pq_arena a = {NULL, 0}, sa = {NULL, 0}, sb = {NULL, 0};
	struct pq_store sta, stb;
	struct pq_query *qa = NULL, *qb = NULL;
	struct pq_value va, vb;
	struct perr ea, eb;
	int ra, rb;

	ahead.ahead_ms = 60000;
	pq_store_init(&sta);
	pq_store_init(&stb);
	load(&sta, &a);
	load(&stb, &a);
	if (pq_query_new(root, &qa, &ea) != 0 ||
	    pq_query_new(root, &qb, &eb) != 0)
		goto out;
	for (int64_t t = 0; t <= 40 * 60000; t += 60000) {
		perr_clear(&ea);
		perr_clear(&eb);
		ra = pq_query_exec(qa, &sta, &plain, t, t, t, &sa, &va, &ea);
		rb = pq_query_exec(qb, &stb, &ahead, t, t, t, &sb, &vb, &eb);
		check(ra == rb && strcmp(ea.msg, eb.msg) == 0);
		check(ra != 0 || same_value(&va, &vb));
		pq_arena_reset(&sa);
		pq_arena_reset(&sb);
	}
out:
	if (qa != NULL)
		pq_query_free(qa);
	if (qb != NULL)
		pq_query_free(qb);
	pq_arena_free(&a);
	pq_arena_free(&sa);
	pq_arena_free(&sb);
	pq_store_free(&sta);
	pq_store_free(&stb);
}

static int
check_text(const uint8_t *data, size_t size, bool ahead)
{
	static const int64_t times[] = {0, 60000, 300000, 1260000, -60000};
	struct pq_engine_opts opts = {0, 60000, 200000, 0};
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
		if (ahead)
			check_ahead(x->root);
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
		return check_text(data, size, true);
	/* Shapes test depth and length: once is enough for them. */
	if (kind == SHAPE_EXPR)
		check_text((const uint8_t *)buf_str(&text), text.len, false);
	buf_free(&text);
	return 0;
}
