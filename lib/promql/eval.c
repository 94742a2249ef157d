/*
 * eval.c - the PromQL evaluator (see eval.h): an expression is evaluated
 * at one time; a subquery evaluates its expression at each of its steps.
 * The order of checks and the error messages follow Prometheus 2.42's
 * engine.go, so a query fails where Prometheus's fails, with its words.
 */
#define _POSIX_C_SOURCE 200809L
#include "promql/eval.h"
#include "promql/evalint.h"
#include "promql/labels.h"
#include "promql/numfmt.h"
#include "promql/parse.h"
#include "promql/print.h"
#include "promql/rematch.h"
#include "common/hmap.h"
#include "common/mem.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a query keeps per node between executions. */
struct node_cache {
	const struct pq_node *node;
	struct pq_regex **re;		/* selector: per matcher, or NULL */
	struct pq_regex *lr_re;		/* label_replace's regex */
	int lr_rc;			/* its compile error */
	char *lr_msg;
	/* The selector's series, sorted by labels, while the store's
	   generation is unchanged (or, below, no series of its name
	   came). */
	const struct pq_store *st;
	uint64_t gen;
	size_t *idx, nidx;
	struct pq_cursor *cur;		/* a range's place in each series */
	bool have_idx;
	/* The series of its fixed metric name then (name_head: the name's
	   first series, SIZE_MAX: no series had the name): while none of
	   the name comes, the list holds whatever other series come. */
	size_t name_head, name_series;
	uint64_t list;			/* the list's number, new when made */
	/* An aggregation's groups at its last evaluation whose samples all
	   had stable label sets: reused while its samples have the same
	   label sets in the same order (the groups depend on nothing else). */
	const struct pq_lset **m_in;	/* the samples' label sets */
	uint32_t *m_group;		/* each sample's group */
	const struct pq_lset **m_out;	/* each group's label set, kept */
	size_t m_nin, m_nout, m_cap;
	bool m_valid;
	/* An aggregation of a range function of one metric's series, done
	   in one pass (fused_aggregate): each selected series' group and
	   each group's labels (kept), for the selector's series of store
	   f_st (its list f_list). */
	uint32_t *f_group;
	const struct pq_lset **f_labels;
	size_t f_ngroups;
	const struct pq_store *f_st;
	uint64_t f_list;		/* the selector's list they are for */
	bool f_valid;
	/* Its windows' results ahead (pq_engine_opts.ahead_ms), from the
	   series' memos: for a_n times from a_t0, a_step apart, the window
	   of each selected series (time-major, so that each evaluation
	   reads one row), while the selector has the same series (a_list),
	   the store the same horizon and samples of the metric
	   (a_appended). */
	struct pq_window *a_w;
	size_t a_n, a_cap;
	int64_t a_t0, a_step, a_horizon;
	const struct pq_store *a_st;
	uint64_t a_list, a_appended;
	/* The stable label sets of the node's last result that passed the
	   check for duplicates: the same again pass it again. */
	const struct pq_lset **u_ls;
	size_t u_n, u_cap;
	/* A binary operation's matches (which samples pair up, with what
	   result labels), which depend on its operands' label sets alone:
	   kept while the operands hold the same stable label sets in the
	   same order. */
	struct matches *mt;
};

/*
 * The matches of a binary operation between vectors l and r (eval.c's
 * set_operation and vector_binop): for each sample of the side the
 * operation goes through (l, or r when group_right), the sample of the
 * other side it pairs with (SIZE_MAX: none), or whether it is taken (and,
 * or, unless; for or, r's samples follow l's), the result's labels, and
 * the class of samples whose results would clash (the first of them).
 */
struct matches {
	const struct pq_lset **l, **r;	/* the operands' label sets */
	size_t nl, nr;
	size_t *pair;			/* per l, or per l then r for or */
	size_t *clash;
	const struct pq_lset **out;
	size_t cap;
	bool valid;			/* l and r stable, the rest made */
};

static void
matches_free(struct matches *m)
{
	if (m == NULL)
		return;
	free(m->l);
	free(m->r);
	free(m->pair);
	free(m->clash);
	free(m->out);
	free(m);
}

struct pq_query {
	const struct pq_node *root;
	struct node_cache *c;
	size_t n, cap;
	uint64_t lists;			/* series lists made (their numbers) */
	struct hmap by_node;		/* node address -> index in c */
	uint64_t samples;
	/* The label sets the query keeps between evaluations, stable
	   (labels.h), each once: what its operations derive from stable
	   label sets (a name dropped, a group's labels) is the same at the
	   next evaluation, at the same address, so that the operations
	   above can recognize their operands by address. */
	struct pq_arena keep;
	struct hmap kept;		/* label set key -> index in keptv */
	const struct pq_lset **keptv;
	size_t nkept, capkept;
	struct hmap unnamed;		/* stable label set address -> index
					   in keptv of it without __name__ */
	struct buf kkey;
};

struct pq_ev {
	const struct pq_store *st;
	struct pq_query *q;
	struct pq_arena *a;
	struct perr *e;
	int64_t lookback, sq_step;
	uint64_t max_samples, samples;
	int64_t start, end;
	int64_t ahead;			/* pq_engine_opts.ahead_ms */
	int in_subquery;		/* subqueries being evaluated */
	int depth;
	struct pq_lbuilder lb;
	struct buf key, key2;
	struct hmap seen;		/* scratch for duplicate checks */
	/* A subquery's inner values by (subquery node, time): nested
	   subqueries ask for the same steps again and again (their steps are
	   multiples of the step, whatever the outer time), so each level is
	   evaluated once per step it needs, not once per outer step times
	   that - linear in the depth, not exponential, as Prometheus, which
	   evaluates each subquery once over the whole range. */
	struct hmap sq_memo;
	struct pq_value *sq_vals;
	size_t sq_n, sq_cap;
	struct pq_arena sq_arena;	/* the values kept, copied out of the
					   scratch arena, whose memory for
					   making them is released */
};

/* --- helpers shared with fn.c --- */

struct pq_arena *
pq_ev_arena(struct pq_ev *ev)
{
	return ev->a;
}

struct perr *
pq_ev_err(struct pq_ev *ev)
{
	return ev->e;
}

struct pq_lbuilder *
pq_ev_builder(struct pq_ev *ev)
{
	return &ev->lb;
}

struct buf *
pq_ev_keybuf(struct pq_ev *ev)
{
	buf_reset(&ev->key);
	return &ev->key;
}

int
pq_ev_nomem(struct pq_ev *ev)
{
	return perr_set(ev->e, PERR_NOMEM, "out of memory");
}

static int
too_many_samples(struct pq_ev *ev)
{
	return perr_set(ev->e, PERR_LIMIT, "query processing would load too "
	    "many samples into memory in query execution");
}

/* Count n more samples against the query's budget. */
static int
budget(struct pq_ev *ev, uint64_t n)
{
	ev->samples += n;
	return ev->samples > ev->max_samples ? too_many_samples(ev) : 0;
}

/*
 * A hash table for one operation on one vector: sized for n keys up
 * front in the scratch arena (so it never grows and is never freed), the
 * keys the caller's (not copied).  The hot paths of matching, grouping
 * and the duplicate check use it instead of hmap, which copies every key.
 */
struct kslot {
	uint64_t h;
	const char *k;		/* NULL: empty */
	size_t len;
	size_t v;
};

struct ktab {
	struct kslot *s;
	size_t mask;
};

static int
ktab_init(struct pq_ev *ev, struct ktab *t, size_t n)
{
	size_t cap = 2;

	while (cap < 2 * n + 2)
		cap *= 2;
	if ((t->s = pq_arena_alloc(ev->a, cap * sizeof(*t->s))) == NULL)
		return pq_ev_nomem(ev);
	t->mask = cap - 1;
	return 0;
}

/* The slot of key k, or the empty one where it goes (*found tells). */
static struct kslot *
ktab_slot(const struct ktab *t, const char *k, size_t len, bool *found)
{
	uint64_t h = hmap_hash(k, len);
	size_t i = (size_t)h & t->mask;
	struct kslot *s;

	for (;; i = (i + 1) & t->mask) {
		s = &t->s[i];
		if (s->k == NULL) {
			s->h = h;
			*found = false;
			return s;
		}
		if (s->h == h && s->len == len && memcmp(s->k, k, len) == 0) {
			*found = true;
			return s;
		}
	}
}

/* Claim an empty slot returned by ktab_slot for key k. */
static void
ktab_claim(struct kslot *s, const char *k, size_t len, size_t v)
{
	s->k = k;
	s->len = len;
	s->v = v;
}

int
pq_vector_push(struct pq_arena *a, struct pq_vector *v,
    const struct pq_lset *ls, int64_t t, double val)
{
	struct pq_sample *s;

	/* Most vectors were sized up front (pq_ev_reserve): no call to
	   grow them, in the loops that push every sample of every step. */
	if (v->n >= v->cap) {
		if ((s = pq_arena_grow(a, v->v, v->n, &v->cap, sizeof(*s),
		    8)) == NULL)
			return PERR_NOMEM;
		v->v = s;
	}
	v->v[v->n].ls = ls;
	v->v[v->n].t = t;
	v->v[v->n].v = val;
	v->n++;
	return 0;
}

/* Room in v for n more samples, in the arena, in one piece. */
static int
pq_ev_reserve(struct pq_ev *ev, struct pq_vector *v, size_t n)
{
	struct pq_sample *s;

	if (v->cap - v->n >= n)
		return 0;
	if ((s = pq_arena_take(ev->a, (v->n + n) * sizeof(*s))) == NULL)
		return pq_ev_nomem(ev);
	if (v->n > 0)
		memcpy(s, v->v, v->n * sizeof(*s));
	v->v = s;
	v->cap = v->n + n;
	return 0;
}

int
pq_ev_push(struct pq_ev *ev, struct pq_vector *v, const struct pq_lset *ls,
    int64_t t, double val)
{
	if (ls == NULL || pq_vector_push(ev->a, v, ls, t, val) != 0)
		return pq_ev_nomem(ev);
	return 0;
}

static int
mat_push(struct pq_ev *ev, struct pq_matrix *m, const struct pq_lset *ls,
    const struct pq_range *rg)
{
	struct pq_series *s;

	if ((s = pq_arena_grow(ev->a, m->s, m->n, &m->cap, sizeof(*s), 8)) ==
	    NULL)
		return pq_ev_nomem(ev);
	m->s = s;
	m->s[m->n].ls = ls;
	m->s[m->n].rg = *rg;
	m->n++;
	return 0;
}

static bool
is_name(const struct pq_lpair *l)
{
	return l->nlen == 8 && memcmp(l->name, PQ_NAME_LABEL, 8) == 0;
}

/*
 * A stable label set equal to ls (ls itself when it is stable), kept by
 * the query; index, when not NULL, receives its index in keptv (SIZE_MAX
 * for ls itself).  NULL when memory runs out.
 */
static const struct pq_lset *
keep_lset(struct pq_query *q, const struct pq_lset *ls, size_t *index)
{
	const struct pq_lset *c;
	size_t *slot;
	bool found;

	if (index != NULL)
		*index = SIZE_MAX;
	if (ls->stable)
		return ls;
	buf_reset(&q->kkey);
	if (pq_lset_key_all(&q->kkey, ls) != 0 || hmap_upsert(&q->kept,
	    q->kkey.p, q->kkey.len, &slot, &found) != 0)
		return NULL;
	if (!found) {
		*slot = SIZE_MAX;
		if (q->nkept == q->capkept) {
			size_t cap = q->capkept ? q->capkept * 2 : 64;
			const struct pq_lset **v = realloc(q->keptv, cap *
			    sizeof(*v));

			if (v == NULL)
				return NULL;
			q->keptv = v;
			q->capkept = cap;
		}
		if ((c = pq_lset_copy_stable(&q->keep, ls)) == NULL)
			return NULL;
		q->keptv[q->nkept] = c;
		*slot = q->nkept++;
	}
	if (*slot == SIZE_MAX)
		return NULL;	/* a copy that failed before */
	if (index != NULL)
		*index = *slot;
	return q->keptv[*slot];
}

const struct pq_lset *
pq_ev_drop_name(struct pq_ev *ev, const struct pq_lset *ls)
{
	struct pq_query *q = ev->q;
	const struct pq_lset *kept;
	struct pq_lset *c;
	size_t i, *slot;
	bool found;

	if (ls->n == 0 || !is_name(&ls->l[0]))
		return ls;	/* "__name__" sorts before any other name */
	if (ls->n == 1)
		return &pq_lset_empty;
	/* A stable label set's is kept: the same each time. */
	if (ls->stable && hmap_find(&q->unnamed, &ls, sizeof(ls), &i))
		return q->keptv[i];
	/* Dropping the first label: the rest is still sorted. */
	c = pq_arena_alloc(ev->a, sizeof(*c) + (ls->n - 1) * sizeof(c->l[0]));
	if (c == NULL)
		return NULL;
	c->n = ls->n - 1;
	memcpy(c->l, ls->l + 1, c->n * sizeof(c->l[0]));
	if (!ls->stable)
		return c;
	if ((kept = keep_lset(q, c, &i)) == NULL ||
	    hmap_upsert(&q->unnamed, &ls, sizeof(ls), &slot, &found) != 0)
		return NULL;
	*slot = i;
	return kept;
}

/* --- Go's arithmetic --- */

static bool
is_odd_int(double y)
{
	double yi, yf = modf(y, &yi);

	return yf == 0 && fabs(yi) < 9007199254740992.0 &&
	    fmod(yi, 2) != 0;
}

/* math.Pow of Go 1.19, which Prometheus uses; its integer powers are
 * products, not the correctly rounded results of C's pow. */
double
pq_go_pow(double x, double y)
{
	double yi, yf, a1 = 1, x1;
	int ae = 0, xe;

	if (y == 0 || x == 1)
		return 1;
	if (y == 1)
		return x;
	if (isnan(x) || isnan(y))
		return NAN;
	if (x == 0) {
		if (y < 0)
			return signbit(x) && is_odd_int(y) ? -INFINITY : INFINITY;
		return signbit(x) && is_odd_int(y) ? x : 0;
	}
	if (isinf(y)) {
		if (x == -1)
			return 1;
		return (fabs(x) < 1) == (y > 0) ? 0 : INFINITY;
	}
	if (isinf(x)) {
		if (x < 0)
			return pq_go_pow(1 / x, -y);
		return y < 0 ? 0 : INFINITY;
	}
	if (y == 0.5)
		return sqrt(x);
	if (y == -0.5)
		return 1 / sqrt(x);
	yf = modf(fabs(y), &yi);
	if (yf != 0 && x < 0)
		return NAN;
	if (yi >= 9223372036854775808.0) {
		if (x == -1)
			return 1;
		return (fabs(x) < 1) == (y > 0) ? 0 : INFINITY;
	}
	if (yf != 0) {
		if (yf > 0.5) {
			yf--;
			yi++;
		}
		a1 = exp(yf * log(x));
	}
	x1 = frexp(x, &xe);
	for (int64_t i = (int64_t)yi; i != 0; i >>= 1) {
		if (xe < -(1 << 12) || (1 << 12) < xe) {
			ae += xe;
			break;
		}
		if ((i & 1) == 1) {
			a1 *= x1;
			ae += xe;
		}
		x1 *= x1;
		xe *= 2;	/* Go shifts; a negative one is UB in C */
		if (x1 < 0.5) {
			x1 += x1;
			xe--;
		}
	}
	if (y < 0) {
		a1 = 1 / a1;
		ae = -ae;
	}
	return ldexp(a1, ae);
}

double
pq_go_max(double x, double y)
{
	if (isinf(x) && x > 0)
		return x;
	if (isinf(y) && y > 0)
		return y;
	if (isnan(x) || isnan(y))
		return NAN;
	if (x == 0 && x == y)
		return signbit(x) ? y : x;
	return x > y ? x : y;
}

double
pq_go_min(double x, double y)
{
	if (isinf(x) && x < 0)
		return x;
	if (isinf(y) && y < 0)
		return y;
	if (isnan(x) || isnan(y))
		return NAN;
	if (x == 0 && x == y)
		return signbit(x) ? x : y;
	return x < y ? x : y;
}

/* Go's int64(v) on amd64: NaN and values out of range give the minimum. */
int64_t
pq_go_int64(double v)
{
	if (isnan(v) || v >= 9223372036854775808.0 ||
	    v < -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)v;
}

/* --- the query and its caches --- */

static struct node_cache *
cache_of(struct pq_query *q, const struct pq_node *n)
{
	size_t i;

	return hmap_find(&q->by_node, &n, sizeof(n), &i) ? &q->c[i] : NULL;
}

static struct node_cache *
cache_add(struct pq_query *q, const struct pq_node *n)
{
	size_t *slot;
	bool found;

	if (hmap_upsert(&q->by_node, &n, sizeof(n), &slot, &found) != 0)
		return NULL;
	if (found)
		return &q->c[*slot];
	if (mem_grow(&q->c, &q->cap, q->n + 1, sizeof(q->c[0]), 16) != 0)
		return NULL;
	memset(&q->c[q->n], 0, sizeof(q->c[0]));
	q->c[q->n].node = n;
	*slot = q->n;
	return &q->c[q->n++];
}

static const struct pq_node *
unparen(const struct pq_node *n)
{
	while (n != NULL && n->kind == PQ_PAREN)
		n = n->expr;
	return n;
}

static int
prepare_selector(struct pq_query *q, const struct pq_node *n, struct perr *e)
{
	struct node_cache *c = cache_add(q, n);
	int rc;

	if (c == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	if (n->nmatchers == 0)
		return 0;
	if ((c->re = calloc(n->nmatchers, sizeof(*c->re))) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n->nmatchers; i++) {
		const struct pq_matcher *m = &n->matchers[i];

		if (m->op != PQ_MATCH_RE && m->op != PQ_MATCH_NRE)
			continue;
		rc = pq_regex_compile(m->value.p, m->value.len, true, &c->re[i],
		    e);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* label_replace's regex, compiled once; an invalid one fails each
 * evaluation, as in Prometheus, not the preparation. */
static int
prepare_label_replace(struct pq_query *q, const struct pq_node *n)
{
	struct node_cache *c = cache_add(q, n);
	const struct pq_node *re;
	struct perr err;
	char msg[PERR_MSG_MAX + 80];

	if (c == NULL)
		return PERR_NOMEM;
	re = unparen(n->args[4]);
	c->lr_rc = pq_regex_compile(re->str.p, re->str.len, true, &c->lr_re,
	    &err);
	if (c->lr_rc == PERR_NOMEM)
		return PERR_NOMEM;
	if (c->lr_rc != 0) {
		snprintf(msg, sizeof(msg), "invalid regular expression in "
		    "label_replace(): %s", re->str.p);
		if ((c->lr_msg = strdup(msg)) == NULL)
			return PERR_NOMEM;
	}
	return 0;
}

static int
prepare(struct pq_query *q, const struct pq_node *n, int depth,
    struct perr *e)
{
	int rc = 0;

	if (n == NULL)
		return 0;
	if (depth > PQ_DEPTH_MAX)
		return perr_set(e, PERR_LIMIT, "expression nests deeper than "
		    "%d levels", PQ_DEPTH_MAX);
	switch (n->kind) {
	case PQ_VECTOR_SELECTOR:
		return prepare_selector(q, n, e);
	case PQ_CALL:
		if (cache_add(q, n) == NULL || (strcmp(n->func->name,
		    "label_replace") == 0 && prepare_label_replace(q, n) != 0))
			return perr_set(e, PERR_NOMEM, "out of memory");
		for (size_t i = 0; i < n->nargs && rc == 0; i++)
			rc = prepare(q, n->args[i], depth + 1, e);
		return rc;
	case PQ_BINARY: {
		/* A chain with a loop (ast.h): only right operands nest. */
		const struct pq_node *b = pq_chain_first(n);

		if ((rc = prepare(q, b, depth + 1, e)) != 0)
			return rc;
		do {
			b = b->up;
			if (cache_add(q, b) == NULL)
				return perr_set(e, PERR_NOMEM, "out of memory");
			rc = prepare(q, b->rhs, depth + 1, e);
		} while (rc == 0 && b != n);
		return rc;
	}
	case PQ_AGGREGATE:
		if (cache_add(q, n) == NULL)
			return perr_set(e, PERR_NOMEM, "out of memory");
		if ((rc = prepare(q, n->param, depth + 1, e)) != 0)
			return rc;
		return prepare(q, n->expr, depth + 1, e);
	case PQ_UNARY:
		if (cache_add(q, n) == NULL)
			return perr_set(e, PERR_NOMEM, "out of memory");
		return prepare(q, n->expr, depth + 1, e);
	default:
		return prepare(q, n->expr, depth + 1, e);
	}
}

int
pq_query_new(const struct pq_node *root, struct pq_query **out,
    struct perr *e)
{
	struct pq_query *q = calloc(1, sizeof(*q));
	int rc;

	*out = NULL;
	if (q == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	q->root = root;
	buf_init(&q->kkey, 1 << 24);
	if ((rc = prepare(q, root, 0, e)) != 0) {
		pq_query_free(q);
		return rc;
	}
	*out = q;
	return 0;
}

void
pq_query_free(struct pq_query *q)
{
	if (q == NULL)
		return;
	for (size_t i = 0; i < q->n; i++) {
		struct node_cache *c = &q->c[i];

		if (c->re != NULL)
			for (size_t k = 0; k < c->node->nmatchers; k++)
				pq_regex_free(c->re[k]);
		free(c->re);
		pq_regex_free(c->lr_re);
		free(c->lr_msg);
		free(c->idx);
		free(c->cur);
		free(c->m_in);
		free(c->m_group);
		free(c->m_out);
		free(c->u_ls);
		matches_free(c->mt);
		free(c->f_group);
		free(c->f_labels);
		free(c->a_w);
	}
	free(q->c);
	hmap_free(&q->by_node);
	pq_arena_free(&q->keep);
	hmap_free(&q->kept);
	hmap_free(&q->unnamed);
	free(q->keptv);
	buf_free(&q->kkey);
	free(q);
}

static void
reach(const struct pq_node *n, int64_t acc, int depth, int64_t *back,
    void (*name)(void *, const char *, size_t), void *ctx, bool *all)
{
	if (n == NULL || depth > PQ_DEPTH_MAX)
		return;
	switch (n->kind) {
	case PQ_VECTOR_SELECTOR:
		if (acc + n->offset_ms > *back)
			*back = acc + n->offset_ms;
		if (n->name.len > 0)
			name(ctx, n->name.p, n->name.len);
		else
			*all = true;
		return;
	case PQ_MATRIX_SELECTOR:
		reach(n->expr, acc + n->range_ms, depth + 1, back, name, ctx,
		    all);
		return;
	case PQ_SUBQUERY:
		reach(n->expr, acc + n->range_ms + n->offset_ms, depth + 1, back,
		    name, ctx, all);
		return;
	case PQ_BINARY: {
		/* A chain with a loop (ast.h): only right operands nest. */
		const struct pq_node *b = pq_chain_first(n);

		reach(b, acc, depth + 1, back, name, ctx, all);
		do {
			b = b->up;
			reach(b->rhs, acc, depth + 1, back, name, ctx, all);
		} while (b != n);
		return;
	}
	case PQ_CALL:
		for (size_t i = 0; i < n->nargs; i++)
			reach(n->args[i], acc, depth + 1, back, name, ctx, all);
		return;
	case PQ_AGGREGATE:
		reach(n->param, acc, depth + 1, back, name, ctx, all);
		reach(n->expr, acc, depth + 1, back, name, ctx, all);
		return;
	default:
		reach(n->expr, acc, depth + 1, back, name, ctx, all);
	}
}

void
pq_node_reach(const struct pq_node *n, int64_t lookback_ms, int64_t *back_ms,
    void (*name)(void *ctx, const char *s, size_t len), void *ctx, bool *all)
{
	int64_t back = 0;

	reach(n, 0, 0, &back, name, ctx, all);
	back += lookback_ms;
	if (back > *back_ms)
		*back_ms = back;
}

/* Whether n (a selector or subquery) reads after its evaluation time. */
static bool
looks_ahead(const struct pq_node *n)
{
	return n->offset_ms < 0 || n->at == PQ_AT_TIME;
}

static bool
future(const struct pq_node *n, int depth)
{
	if (n == NULL)
		return false;
	if (depth > PQ_DEPTH_MAX)
		return true;	/* not looked at: counted in */
	switch (n->kind) {
	case PQ_VECTOR_SELECTOR:
		return looks_ahead(n);
	case PQ_SUBQUERY:
		return looks_ahead(n) || future(n->expr, depth + 1);
	case PQ_BINARY: {
		const struct pq_node *b = pq_chain_first(n);

		if (future(b, depth + 1))
			return true;
		do {
			b = b->up;
			if (future(b->rhs, depth + 1))
				return true;
		} while (b != n);
		return false;
	}
	case PQ_CALL:
		for (size_t i = 0; i < n->nargs; i++)
			if (future(n->args[i], depth + 1))
				return true;
		return false;
	case PQ_AGGREGATE:
		return future(n->param, depth + 1) || future(n->expr, depth + 1);
	default:
		return future(n->expr, depth + 1);
	}
}

bool
pq_node_future(const struct pq_node *n)
{
	return future(n, 0);
}

uint64_t
pq_query_samples(const struct pq_query *q)
{
	return q->samples;
}

/* --- selectors --- */

static bool
matches(const struct pq_matcher *m, const struct pq_regex *re,
    const struct pq_lset *ls)
{
	size_t vlen = 0;
	const char *v = pq_lset_get(ls, m->name.p, m->name.len, &vlen);
	bool eq;

	if (v == NULL)
		v = "";
	switch (m->op) {
	case PQ_MATCH_EQ:
	case PQ_MATCH_NEQ:
		eq = vlen == m->value.len && memcmp(v, m->value.p, vlen) == 0;
		return m->op == PQ_MATCH_EQ ? eq : !eq;
	default:
		eq = pq_regex_match(re, v, vlen);
		return m->op == PQ_MATCH_RE ? eq : !eq;
	}
}

static const struct pq_store *sort_store;

static int
cmp_series(const void *a, const void *b)
{
	const size_t *x = a, *y = b;

	return pq_lset_cmp(sort_store->s[*x].ls, sort_store->s[*y].ls);
}

/* The series selector n matches, sorted by labels (cached per store
 * generation, or, for a fixed metric name, while no series of the name
 * comes: a replay or a test adds series only between evaluations),
 * and a cursor for each (storage.h: the node reads either instants or
 * ranges through them, never both). */
static int
select_series(struct pq_ev *ev, const struct pq_node *n, const size_t **idx,
    size_t *count, struct pq_cursor **cur)
{
	struct node_cache *c = cache_of(ev->q, n);
	const struct pq_store *st = ev->st;
	const char *name = NULL;
	size_t nlen = 0, i, next, cap = 0;
	bool all = true;

	if (c == NULL)
		return perr_set(ev->e, PERR_INVALID, "selector not prepared");
	if (c->have_idx && c->st == st && (c->gen == st->generation ||
	    (c->name_head != SIZE_MAX &&
	    st->s[c->name_head].name_series == c->name_series))) {
		c->gen = st->generation;
		*idx = c->idx;
		*count = c->nidx;
		*cur = c->cur;
		return 0;
	}
	free(c->idx);
	free(c->cur);
	c->idx = NULL;
	c->cur = NULL;
	c->nidx = 0;
	c->have_idx = false;
	for (i = 0; i < n->nmatchers; i++)
		if (n->matchers[i].op == PQ_MATCH_EQ &&
		    pq_str_eq(n->matchers[i].name, PQ_NAME_LABEL)) {
			name = n->matchers[i].value.p;
			nlen = n->matchers[i].value.len;
			all = false;
		}
	next = all ? (st->n > 0 ? 1 : 0) : pq_store_by_name(st, name, nlen);
	c->name_head = all || next == 0 ? SIZE_MAX : next - 1;
	c->name_series = all || next == 0 ? 0 : st->s[next - 1].name_series;
	while (next != 0) {
		i = next - 1;
		next = all ? (i + 1 < st->n ? i + 2 : 0) :
		    st->s[i].next_by_name;
		size_t k;

		for (k = 0; k < n->nmatchers; k++)
			if (!matches(&n->matchers[k], c->re[k], st->s[i].ls))
				break;
		if (k < n->nmatchers)
			continue;
		if (mem_grow(&c->idx, &cap, c->nidx + 1, sizeof(c->idx[0]), 16) !=
		    0)
			return pq_ev_nomem(ev);
		c->idx[c->nidx++] = i;
	}
	sort_store = st;
	if (c->nidx > 1)
		qsort(c->idx, c->nidx, sizeof(c->idx[0]), cmp_series);
	if ((c->cur = calloc(c->nidx + 1, sizeof(*c->cur))) == NULL)
		return pq_ev_nomem(ev);
	c->st = st;
	c->gen = st->generation;
	c->have_idx = true;
	c->list = ++ev->q->lists;
	*idx = c->idx;
	*count = c->nidx;
	*cur = c->cur;
	return 0;
}

/* The time a selector or subquery reads at, for evaluation time t. */
static int64_t
ref_time(const struct pq_ev *ev, const struct pq_node *n, int64_t t)
{
	switch (n->at) {
	case PQ_AT_TIME:
		t = n->at_ms;
		break;
	case PQ_AT_START:
		t = ev->start;
		break;
	case PQ_AT_END:
		t = ev->end;
		break;
	default:
		break;
	}
	return t - n->offset_ms;
}

/* The sample a selector sees at ref, samples past the horizon unseen. */
static bool
instant(const struct pq_ev *ev, const struct pq_stored *s, int64_t ref,
    struct pq_cursor *cur, int64_t *t, double *v)
{
	int64_t h = ev->st->horizon, lookback = ev->lookback;

	if (ref > h) {
		if (ref - h > lookback)
			return false;
		lookback -= ref - h;
		ref = h;
	}
	return pq_stored_instant_at(s, ref, lookback, cur, t, v);
}

static int
eval_vector_selector(struct pq_ev *ev, const struct pq_node *n, int64_t t,
    struct pq_value *out)
{
	const size_t *idx;
	struct pq_cursor *cur;
	size_t count;
	int64_t ref = ref_time(ev, n, t), ts;
	double v;
	int rc;

	out->type = PQ_TYPE_VECTOR;
	if ((rc = select_series(ev, n, &idx, &count, &cur)) != 0)
		return rc;
	if ((rc = pq_ev_reserve(ev, &out->vec, count)) != 0)
		return rc;
	for (size_t i = 0; i < count; i++) {
		const struct pq_stored *s = &ev->st->s[idx[i]];

		if (!instant(ev, s, ref, &cur[i], &ts, &v))
			continue;
		if ((rc = pq_ev_push(ev, &out->vec, s->ls, ts, v)) != 0)
			return rc;
	}
	return budget(ev, out->vec.n);
}

/* The samples of a matrix selector, with its window's bounds. */
static int
eval_matrix_selector(struct pq_ev *ev, const struct pq_node *n, int64_t t,
    struct pq_value *out, int64_t *mint, int64_t *maxt)
{
	const struct pq_node *vs = n->expr;
	const size_t *idx;
	struct pq_cursor *cur;
	size_t count, np;
	struct pq_range rg;
	int rc;

	*maxt = ref_time(ev, vs, t);
	*mint = *maxt - n->range_ms;
	out->type = PQ_TYPE_MATRIX;
	if ((rc = select_series(ev, vs, &idx, &count, &cur)) != 0)
		return rc;
	if (count > 0 && (out->mat.s = pq_arena_take(ev->a, count *
	    sizeof(*out->mat.s))) == NULL)
		return pq_ev_nomem(ev);
	out->mat.cap = count;
	for (size_t i = 0; i < count; i++) {
		const struct pq_stored *s = &ev->st->s[idx[i]];

		pq_stored_range_at(s, *mint, *maxt > ev->st->horizon ?
		    ev->st->horizon : *maxt, &cur[i], &rg);
		if ((np = pq_range_count(&rg)) == 0)
			continue;
		if ((rc = budget(ev, np)) != 0 ||
		    (rc = mat_push(ev, &out->mat, s->ls, &rg)) != 0)
			return rc;
	}
	return 0;
}

/* --- checks --- */

/* A label set's hash, over its bytes and lengths. */
static uint64_t
lset_hash(const struct pq_lset *ls)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < ls->n; i++) {
		const struct pq_lpair *l = &ls->l[i];
		const unsigned char *p;
		size_t k;

		for (p = (const unsigned char *)l->name, k = 0; k < l->nlen; k++)
			h = (h ^ p[k]) * 0x100000001b3ull;
		h = (h ^ 0xff) * 0x100000001b3ull;
		for (p = (const unsigned char *)l->value, k = 0; k < l->vlen; k++)
			h = (h ^ p[k]) * 0x100000001b3ull;
		h = (h ^ 0xfe) * 0x100000001b3ull;
	}
	return h;
}

/* Prometheus's check that a vector holds no label set twice. */
static int
check_unique(struct pq_ev *ev, const struct pq_vector *v)
{
	struct ktab t;
	size_t i, k;
	uint64_t h;

	if (v->n < 2)
		return 0;
	if (v->n <= 8) {
		for (i = 1; i < v->n; i++)
			for (k = 0; k < i; k++)
				if (pq_lset_equal(v->v[i].ls, v->v[k].ls))
					goto dup;
		return 0;
	}
	if (ktab_init(ev, &t, v->n) != 0)
		return PERR_NOMEM;
	for (i = 0; i < v->n; i++) {
		h = lset_hash(v->v[i].ls);
		for (k = (size_t)h & t.mask; t.s[k].k != NULL;
		    k = (k + 1) & t.mask)
			if (t.s[k].h == h && pq_lset_equal(v->v[i].ls,
			    v->v[t.s[k].v].ls))
				goto dup;
		t.s[k].h = h;
		t.s[k].k = "";
		t.s[k].v = i;
	}
	return 0;
dup:
	return perr_set(ev->e, PERR_INVALID, "vector cannot contain metrics "
	    "with the same labelset");
}

static bool
all_stable(const struct pq_vector *v)
{
	for (size_t i = 0; i < v->n; i++)
		if (!v->v[i].ls->stable)
			return false;
	return true;
}

/* check_unique for node n's result v, which needs no check when its
 * label sets are the stable ones that passed it there last time. */
static int
check_unique_at(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_vector *v)
{
	struct node_cache *c;
	const struct pq_lset **ls;
	size_t i;
	int rc;

	if (v->n < 2)
		return 0;
	if ((c = cache_of(ev->q, n)) != NULL && c->u_n == v->n) {
		for (i = 0; i < v->n && c->u_ls[i] == v->v[i].ls; i++)
			;
		if (i == v->n)
			return 0;
	}
	if ((rc = check_unique(ev, v)) != 0 || c == NULL)
		return rc;
	c->u_n = 0;
	for (i = 0; i < v->n; i++)
		if (!v->v[i].ls->stable)
			return 0;
	if (v->n > c->u_cap) {
		if ((ls = realloc(c->u_ls, v->n * sizeof(*ls))) == NULL)
			return pq_ev_nomem(ev);
		c->u_ls = ls;
		c->u_cap = v->n;
	}
	for (i = 0; i < v->n; i++)
		c->u_ls[i] = v->v[i].ls;
	c->u_n = v->n;
	return 0;
}

static int eval_node(struct pq_ev *ev, const struct pq_node *n, int64_t t,
    struct pq_value *out);

/* --- subqueries --- */

struct building {
	const struct pq_lset *ls;
	struct pq_run *runs;
	size_t n, cap;
};

static int
add_point(struct pq_ev *ev, struct building *b, int64_t t, double v)
{
	struct pq_run *r;

	if ((r = pq_arena_grow(ev->a, b->runs, b->n, &b->cap, sizeof(*r), 8)) ==
	    NULL)
		return pq_ev_nomem(ev);
	b->runs = r;
	b->runs[b->n].t = t;
	b->runs[b->n].v = v;
	b->runs[b->n].n = 1;
	b->n++;
	return 0;
}

/* v copied into ev->sq_arena: its samples, label sets and string. */
static int
keep_value(struct pq_ev *ev, struct pq_value *v)
{
	struct pq_sample *s = NULL;

	if (v->type == PQ_TYPE_STRING && v->str.len > 0) {
		const char *p = pq_arena_strdup(&ev->sq_arena, v->str.p,
		    v->str.len);

		if (p == NULL)
			return pq_ev_nomem(ev);
		v->str.p = p;
	}
	if (v->type != PQ_TYPE_VECTOR)
		return 0;
	if (v->vec.n > 0 && (s = pq_arena_alloc(&ev->sq_arena, v->vec.n *
	    sizeof(*s))) == NULL)
		return pq_ev_nomem(ev);
	for (size_t i = 0; i < v->vec.n; i++) {
		s[i] = v->vec.v[i];
		if ((s[i].ls = pq_lset_copy(&ev->sq_arena, s[i].ls)) == NULL)
			return pq_ev_nomem(ev);
	}
	v->vec.v = s;
	v->vec.cap = v->vec.n;
	return 0;
}

/* The value of subquery n's expression at ti, from ev->sq_memo or made
 * (read-only: callers must not change it). */
static int
subquery_inner(struct pq_ev *ev, const struct pq_node *n, int64_t ti,
    struct pq_value *out)
{
	struct { const struct pq_node *n; int64_t t; } key;
	struct pq_arena_mark mark;
	size_t *slot, i;
	bool found;
	int rc;

	memset(&key, 0, sizeof(key));
	key.n = n;
	key.t = ti;
	if (hmap_find(&ev->sq_memo, &key, sizeof(key), &i)) {
		*out = ev->sq_vals[i];
		return 0;
	}
	if (ev->sq_n >= PQ_SUBQUERY_EVALS_MAX)
		return perr_set(ev->e, PERR_LIMIT, "subqueries evaluate more "
		    "than %d steps in one evaluation (make their steps longer "
		    "or their ranges shorter)", PQ_SUBQUERY_EVALS_MAX);
	memset(out, 0, sizeof(*out));
	pq_arena_mark(ev->a, &mark);
	ev->in_subquery++;
	rc = eval_node(ev, n->expr, ti, out);
	ev->in_subquery--;
	if (rc != 0)
		return rc;
	/* Keep the value, not what making it took. */
	if ((rc = keep_value(ev, out)) != 0)
		return rc;
	pq_arena_release(ev->a, &mark);
	/* Grown only now: the evaluation may have added entries. */
	if (mem_grow(&ev->sq_vals, &ev->sq_cap, ev->sq_n + 1,
	    sizeof(ev->sq_vals[0]), 64) != 0)
		return pq_ev_nomem(ev);
	if (hmap_upsert(&ev->sq_memo, &key, sizeof(key), &slot, &found) != 0)
		return pq_ev_nomem(ev);
	ev->sq_vals[ev->sq_n] = *out;
	*slot = ev->sq_n++;
	return 0;
}

static int
eval_subquery(struct pq_ev *ev, const struct pq_node *n, int64_t t,
    struct pq_value *out, int64_t *mint, int64_t *maxt)
{
	struct hmap series = HMAP_INIT;
	struct building *b = NULL;
	size_t nb = 0, capb = 0, *slot;
	int64_t step = n->step_ms != 0 ? n->step_ms : ev->sq_step, first, ti;
	struct pq_value inner;
	struct pq_range rg;
	bool found;
	int rc = 0;

	*maxt = ref_time(ev, n, t);
	*mint = *maxt - n->range_ms;
	out->type = PQ_TYPE_MATRIX;
	/* The first step at or after mint that is a multiple of the step;
	   C's division truncates as Go's does. */
	first = step * (*mint / step);
	if (first < *mint)
		first += step;
	if (first <= *maxt && (*maxt - first) / step >= PQ_SUBQUERY_STEPS_MAX)
		return perr_set(ev->e, PERR_LIMIT, "subquery of %lld steps: at "
		    "most %d are evaluated (make its step longer)",
		    (long long)((*maxt - first) / step + 1),
		    PQ_SUBQUERY_STEPS_MAX);
	for (ti = first; ti <= *maxt && rc == 0; ti += step) {
		if ((rc = subquery_inner(ev, n, ti, &inner)) != 0)
			break;
		for (size_t i = 0; i < inner.vec.n && rc == 0; i++) {
			buf_reset(&ev->key2);
			if (pq_lset_key_all(&ev->key2, inner.vec.v[i].ls) != 0 ||
			    hmap_upsert(&series, ev->key2.p, ev->key2.len, &slot,
			    &found) != 0) {
				rc = pq_ev_nomem(ev);
				break;
			}
			if (!found) {
				if (nb == capb) {
					size_t cap = capb ? capb * 2 : 8;
					struct building *nbp = realloc(b, cap *
					    sizeof(*nbp));

					if (nbp == NULL) {
						rc = pq_ev_nomem(ev);
						break;
					}
					b = nbp;
					capb = cap;
				}
				memset(&b[nb], 0, sizeof(b[0]));
				b[nb].ls = inner.vec.v[i].ls;
				*slot = nb++;
			}
			rc = add_point(ev, &b[*slot], ti, inner.vec.v[i].v);
		}
		if (rc == 0)
			rc = budget(ev, inner.vec.n);
	}
	for (size_t i = 0; i < nb && rc == 0; i++) {
		memset(&rg, 0, sizeof(rg));
		rg.r = b[i].runs;
		rg.nr = b[i].n;
		rg.step = step;
		rg.skip = 0;
		rg.keep = 1;
		rc = mat_push(ev, &out->mat, b[i].ls, &rg);
	}
	free(b);
	hmap_free(&series);
	return rc;
}

/* --- operators --- */

static bool
is_comparison(enum pq_tok op)
{
	return op == PQ_T_EQLC || op == PQ_T_NEQ || op == PQ_T_GTR ||
	    op == PQ_T_LSS || op == PQ_T_GTE || op == PQ_T_LTE;
}

/* Prometheus's shouldDropMetricName: the arithmetic operators but atan2. */
static bool
drops_name(enum pq_tok op)
{
	return op == PQ_T_ADD || op == PQ_T_SUB || op == PQ_T_MUL ||
	    op == PQ_T_DIV || op == PQ_T_POW || op == PQ_T_MOD;
}

/* vectorElemBinop: the value, and whether a comparison keeps it. */
static double
elem_binop(enum pq_tok op, double l, double r, bool *keep)
{
	*keep = true;
	switch (op) {
	case PQ_T_ADD: return l + r;
	case PQ_T_SUB: return l - r;
	case PQ_T_MUL: return l * r;
	case PQ_T_DIV: return l / r;
	case PQ_T_POW: return pq_go_pow(l, r);
	case PQ_T_MOD: return (r == 0 || isinf(l) || isnan(l) || isnan(r)) ?
	    NAN : fmod(l, r);
	case PQ_T_ATAN2: return atan2(l, r);
	case PQ_T_EQLC: *keep = l == r; return l;
	case PQ_T_NEQ: *keep = l != r; return l;
	case PQ_T_GTR: *keep = l > r; return l;
	case PQ_T_LSS: *keep = l < r; return l;
	case PQ_T_GTE: *keep = l >= r; return l;
	case PQ_T_LTE: *keep = l <= r; return l;
	default: *keep = false; return NAN;
	}
}

static int
vector_scalar(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_vector *vec, double s, bool swap, struct pq_value *out)
{
	const struct pq_lset *ls;
	double l, r, v;
	bool keep;
	int rc;

	out->type = PQ_TYPE_VECTOR;
	if ((rc = pq_ev_reserve(ev, &out->vec, vec->n)) != 0)
		return rc;
	for (size_t i = 0; i < vec->n; i++) {
		l = swap ? s : vec->v[i].v;
		r = swap ? vec->v[i].v : s;
		v = elem_binop(n->op, l, r, &keep);
		/* A comparison keeps the vector's value, on either side. */
		if (is_comparison(n->op) && swap)
			v = r;
		if (n->return_bool) {
			v = keep ? 1 : 0;
			keep = true;
		}
		if (!keep)
			continue;
		ls = vec->v[i].ls;
		if (drops_name(n->op) || n->return_bool)
			ls = pq_ev_drop_name(ev, ls);
		if ((rc = pq_ev_push(ev, &out->vec, ls, vec->v[i].t, v)) != 0)
			return rc;
	}
	return check_unique_at(ev, n, &out->vec);
}

static void
names_of(const struct pq_labels *l, struct pq_label_name *out)
{
	for (size_t i = 0; i < l->n; i++) {
		out[i].p = l->v[i].name.p;
		out[i].len = l->v[i].name.len;
	}
}

/* The matching signature of ls under n's on/ignoring. */
static int
signature(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_label_name *names, const struct pq_lset *ls,
    struct buf *b)
{
	buf_reset(b);
	return pq_lset_key(b, ls, n->on, names, n->matching.n) != 0 ?
	    pq_ev_nomem(ev) : 0;
}

/* Signatures of every sample of v, in the arena. */
static int
signatures(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_label_name *names, const struct pq_vector *v,
    struct pq_str **out)
{
	struct pq_str *s = pq_arena_alloc(ev->a, (v->n + 1) * sizeof(*s));

	if (s == NULL)
		return pq_ev_nomem(ev);
	for (size_t i = 0; i < v->n; i++) {
		if (signature(ev, n, names, v->v[i].ls, &ev->key) != 0)
			return PERR_NOMEM;
		s[i].p = pq_arena_strdup(ev->a, ev->key.p, ev->key.len);
		s[i].len = ev->key.len;
		if (s[i].p == NULL)
			return pq_ev_nomem(ev);
	}
	*out = s;
	return 0;
}

/* Whether mt holds the matches of l and r (their stable label sets). */
static bool
matches_hold(const struct matches *mt, const struct pq_vector *l,
    const struct pq_vector *r)
{
	if (mt == NULL || !mt->valid || mt->nl != l->n || mt->nr != r->n)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (mt->l[i] != l->v[i].ls)
			return false;
	for (size_t i = 0; i < r->n; i++)
		if (mt->r[i] != r->v[i].ls)
			return false;
	return true;
}

/*
 * Room for the matches of l and r in node n's cache (made when missing),
 * their label sets noted; NULL (no memo, not an error) when the cache
 * cannot have them.  Not valid until the caller fills and marks it.
 */
static struct matches *
matches_for(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_vector *l, const struct pq_vector *r)
{
	struct node_cache *c = cache_of(ev->q, n);
	struct matches *mt;
	size_t need = l->n + r->n + 1;
	void *p;

	if (c == NULL)
		return NULL;
	if (c->mt == NULL && (c->mt = calloc(1, sizeof(*c->mt))) == NULL)
		return NULL;
	mt = c->mt;
	mt->valid = false;
	if (!all_stable(l) || !all_stable(r))
		return NULL;
	if (need > mt->cap) {
		if ((p = realloc(mt->l, need * sizeof(*mt->l))) == NULL)
			return NULL;
		mt->l = p;
		if ((p = realloc(mt->r, need * sizeof(*mt->r))) == NULL)
			return NULL;
		mt->r = p;
		if ((p = realloc(mt->pair, need * sizeof(*mt->pair))) == NULL)
			return NULL;
		mt->pair = p;
		if ((p = realloc(mt->clash, need * sizeof(*mt->clash))) == NULL)
			return NULL;
		mt->clash = p;
		if ((p = realloc(mt->out, need * sizeof(*mt->out))) == NULL)
			return NULL;
		mt->out = p;
		mt->cap = need;
	}
	for (size_t i = 0; i < l->n; i++)
		mt->l[i] = l->v[i].ls;
	for (size_t i = 0; i < r->n; i++)
		mt->r[i] = r->v[i].ls;
	mt->nl = l->n;
	mt->nr = r->n;
	return mt;
}

/* The samples and, or or unless takes from l (then r, for or): take[]. */
static int
set_matches(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_vector *l, const struct pq_vector *r,
    const struct pq_label_name *names, size_t *take)
{
	struct ktab sigs;
	struct pq_str *ls, *rs;
	struct kslot *slot;
	bool found;
	int rc;

	if ((rc = signatures(ev, n, names, l, &ls)) != 0 ||
	    (rc = signatures(ev, n, names, r, &rs)) != 0 ||
	    (rc = ktab_init(ev, &sigs, l->n + r->n)) != 0)
		return rc;
	/* or: the left side's signatures; and, unless: the right side's. */
	for (size_t i = 0; i < (n->op == PQ_T_LOR ? l->n : r->n); i++) {
		struct pq_str *sg = n->op == PQ_T_LOR ? &ls[i] : &rs[i];

		slot = ktab_slot(&sigs, sg->p, sg->len, &found);
		if (!found)
			ktab_claim(slot, sg->p, sg->len, i);
	}
	for (size_t i = 0; i < l->n; i++) {
		ktab_slot(&sigs, ls[i].p, ls[i].len, &found);
		take[i] = n->op == PQ_T_LOR || (n->op == PQ_T_LAND) == found;
	}
	for (size_t i = 0; n->op == PQ_T_LOR && i < r->n; i++) {
		ktab_slot(&sigs, rs[i].p, rs[i].len, &found);
		take[l->n + i] = !found;
	}
	return 0;
}

static int
set_operation(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_vector *l, const struct pq_vector *r,
    const struct pq_label_name *names, struct pq_value *out)
{
	struct node_cache *c;
	struct matches *mt;
	size_t *take;
	int rc = 0;

	out->type = PQ_TYPE_VECTOR;
	switch (n->op) {
	case PQ_T_LAND:
		if (l->n == 0 || r->n == 0)
			return 0;
		break;
	case PQ_T_LOR:
		if (l->n == 0 || r->n == 0) {
			out->vec = l->n == 0 ? *r : *l;
			return check_unique_at(ev, n, &out->vec);
		}
		break;
	default:	/* unless */
		if (l->n == 0 || r->n == 0) {
			out->vec = *l;
			return check_unique_at(ev, n, &out->vec);
		}
	}
	/* Which samples are taken depends on labels alone: kept. */
	if ((c = cache_of(ev->q, n)) != NULL && matches_hold(c->mt, l, r)) {
		take = c->mt->pair;
	} else {
		mt = matches_for(ev, n, l, r);
		take = mt != NULL ? mt->pair : pq_arena_alloc(ev->a,
		    (l->n + r->n + 1) * sizeof(*take));
		if (take == NULL)
			return pq_ev_nomem(ev);
		if ((rc = set_matches(ev, n, l, r, names, take)) != 0)
			return rc;
		if (mt != NULL)
			mt->valid = true;
	}
	for (size_t i = 0; i < l->n && rc == 0; i++)
		if (take[i])
			rc = pq_ev_push(ev, &out->vec, l->v[i].ls, l->v[i].t,
			    l->v[i].v);
	for (size_t i = 0; n->op == PQ_T_LOR && i < r->n && rc == 0; i++)
		if (take[l->n + i])
			rc = pq_ev_push(ev, &out->vec, r->v[i].ls, r->v[i].t,
			    r->v[i].v);
	return rc != 0 ? rc : check_unique_at(ev, n, &out->vec);
}

static int
duplicate_error(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_label_name *names, const struct pq_lset *a,
    const struct pq_lset *b)
{
	struct buf msg = BUF_INIT(PERR_MSG_MAX * 4);
	const struct pq_lset *m;

	pq_lb_reset(&ev->lb, a);
	if (n->on)
		pq_lb_keep(&ev->lb, names, n->matching.n);
	else {
		for (size_t i = 0; i < n->matching.n; i++)
			pq_lb_del(&ev->lb, names[i].p, names[i].len);
		pq_lb_del(&ev->lb, PQ_NAME_LABEL, 8);
	}
	if ((m = pq_lb_finish(&ev->lb)) == NULL)
		return pq_ev_nomem(ev);
	(void)buf_adds(&msg, "found duplicate series for the match group ");
	(void)pq_lset_format(&msg, m);
	(void)buf_addf(&msg, " on the %s hand-side of the operation: [",
	    n->card == PQ_CARD_ONE_TO_MANY ? "left" : "right");
	(void)pq_lset_format(&msg, a);
	(void)buf_adds(&msg, ", ");
	(void)pq_lset_format(&msg, b);
	(void)buf_adds(&msg, "];many-to-many matching not allowed: matching "
	    "labels must be unique on one side");
	perr_set(ev->e, PERR_INVALID, "%s", buf_str(&msg));
	buf_free(&msg);
	return PERR_INVALID;
}

/* resultMetric: the labels of a matched pair's result. */
static const struct pq_lset *
result_metric(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_label_name *names, const struct pq_label_name *incl,
    const struct pq_lset *l, const struct pq_lset *r)
{
	const char *v;
	size_t vlen;

	pq_lb_reset(&ev->lb, l);
	if (drops_name(n->op))
		pq_lb_del(&ev->lb, PQ_NAME_LABEL, 8);
	if (n->card == PQ_CARD_ONE_TO_ONE) {
		if (n->on)
			pq_lb_keep(&ev->lb, names, n->matching.n);
		else
			for (size_t i = 0; i < n->matching.n; i++)
				pq_lb_del(&ev->lb, names[i].p, names[i].len);
	}
	for (size_t i = 0; i < n->include.n; i++) {
		v = pq_lset_get(r, incl[i].p, incl[i].len, &vlen);
		if (v != NULL && vlen > 0)
			pq_lb_set(&ev->lb, incl[i].p, incl[i].len, v, vlen);
		else
			pq_lb_del(&ev->lb, incl[i].p, incl[i].len);
	}
	return pq_lb_finish(&ev->lb);
}

/*
 * The matches of vector operation n between l (the side it goes through:
 * rhs for group_right) and r: for each sample of l its partner in r
 * (pair, SIZE_MAX: none), their result's labels (res) and the first
 * sample of l whose result would clash with it (clash); labels kept
 * (stable) when keep.  Two samples of r that match the same way are an
 * error.
 */
static int
binop_matches(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_vector *l, const struct pq_vector *r,
    const struct pq_label_name *names, size_t *pair, size_t *clash,
    const struct pq_lset **res, bool keep)
{
	struct pq_label_name *incl;
	struct ktab right, classes;
	struct pq_str *lsig, *rsig, key;
	const struct pq_lset *m;
	struct kslot *slot;
	bool found;
	int rc;

	incl = pq_arena_alloc(ev->a, (n->include.n + 1) * sizeof(*incl));
	if (incl == NULL)
		return pq_ev_nomem(ev);
	names_of(&n->include, incl);
	if ((rc = signatures(ev, n, names, l, &lsig)) != 0 ||
	    (rc = signatures(ev, n, names, r, &rsig)) != 0 ||
	    (rc = ktab_init(ev, &right, r->n)) != 0 ||
	    (rc = ktab_init(ev, &classes, l->n)) != 0)
		return rc;
	/* The right side is the "one" side: a signature twice is an error. */
	for (size_t i = 0; i < r->n; i++) {
		slot = ktab_slot(&right, rsig[i].p, rsig[i].len, &found);
		if (found)
			return duplicate_error(ev, n, names, r->v[i].ls,
			    r->v[slot->v].ls);
		ktab_claim(slot, rsig[i].p, rsig[i].len, i);
	}
	for (size_t i = 0; i < l->n; i++) {
		slot = ktab_slot(&right, lsig[i].p, lsig[i].len, &found);
		if (!found) {
			pair[i] = SIZE_MAX;
			continue;
		}
		pair[i] = slot->v;
		m = result_metric(ev, n, names, incl, l->v[i].ls,
		    r->v[pair[i]].ls);
		if (m != NULL && n->return_bool)
			m = pq_ev_drop_name(ev, m);
		if (m != NULL && keep)
			m = keep_lset(ev->q, m, NULL);
		if ((res[i] = m) == NULL)
			return pq_ev_nomem(ev);
		/* Results clash on the same signature (one-to-one), or on
		   the same signature and labels (group_left/right). */
		key = lsig[i];
		if (n->card != PQ_CARD_ONE_TO_ONE) {
			buf_reset(&ev->key);
			if (buf_add(&ev->key, lsig[i].p, lsig[i].len) != 0 ||
			    pq_lset_key_all(&ev->key, m) != 0 ||
			    (key.p = pq_arena_strdup(ev->a, ev->key.p,
			    ev->key.len)) == NULL)
				return pq_ev_nomem(ev);
			key.len = ev->key.len;
		}
		slot = ktab_slot(&classes, key.p, key.len, &found);
		if (!found)
			ktab_claim(slot, key.p, key.len, i);
		clash[i] = slot->v;
	}
	return 0;
}

static int
vector_binop(struct pq_ev *ev, const struct pq_node *n, int64_t t,
    const struct pq_vector *lhs, const struct pq_vector *rhs,
    const struct pq_label_name *names, struct pq_value *out)
{
	const struct pq_vector *l = lhs, *r = rhs;
	const struct pq_lset **res;
	struct node_cache *c;
	struct matches *mt;
	size_t ri, *pair, *clash;
	double vl, vr, v;
	bool keep, *taken;
	int rc = 0;

	out->type = PQ_TYPE_VECTOR;
	if (lhs->n == 0 || rhs->n == 0)
		return 0;
	if (n->card == PQ_CARD_ONE_TO_MANY) {
		l = rhs;
		r = lhs;
	}
	/* Which samples pair up depends on labels alone: kept. */
	if ((c = cache_of(ev->q, n)) != NULL && matches_hold(c->mt, l, r)) {
		pair = c->mt->pair;
		clash = c->mt->clash;
		res = c->mt->out;
	} else {
		if ((mt = matches_for(ev, n, l, r)) != NULL) {
			pair = mt->pair;
			clash = mt->clash;
			res = mt->out;
		} else {
			pair = pq_arena_take(ev->a, (l->n + 1) * sizeof(*pair));
			clash = pq_arena_take(ev->a, (l->n + 1) *
			    sizeof(*clash));
			res = pq_arena_take(ev->a, (l->n + 1) * sizeof(*res));
			if (pair == NULL || clash == NULL || res == NULL)
				return pq_ev_nomem(ev);
		}
		if ((rc = binop_matches(ev, n, l, r, names, pair, clash, res,
		    mt != NULL)) != 0)
			return rc;
		if (mt != NULL)
			mt->valid = true;
	}
	if ((taken = pq_arena_alloc(ev->a, l->n + 1)) == NULL ||
	    (rc = pq_ev_reserve(ev, &out->vec, l->n)) != 0)
		return pq_ev_nomem(ev);
	for (size_t i = 0; i < l->n; i++) {
		if ((ri = pair[i]) == SIZE_MAX)
			continue;
		vl = l->v[i].v;
		vr = r->v[ri].v;
		if (n->card == PQ_CARD_ONE_TO_MANY) {
			vl = r->v[ri].v;
			vr = l->v[i].v;
		}
		v = elem_binop(n->op, vl, vr, &keep);
		if (n->return_bool)
			v = keep ? 1 : 0;
		else if (!keep)
			continue;
		if (taken[clash[i]])
			return perr_set(ev->e, PERR_INVALID, n->card ==
			    PQ_CARD_ONE_TO_ONE ? "multiple matches for labels: "
			    "many-to-one matching must be explicit "
			    "(group_left/group_right)" : "multiple matches for "
			    "labels: grouping labels must ensure unique "
			    "matches");
		taken[clash[i]] = true;
		if ((rc = pq_ev_push(ev, &out->vec, res[i], t, v)) != 0)
			return rc;
	}
	return check_unique_at(ev, n, &out->vec);
}

static double
scalar_binop(enum pq_tok op, double l, double r)
{
	bool keep;
	double v = elem_binop(op, l, r, &keep);

	return is_comparison(op) ? (keep ? 1 : 0) : v;
}

/* One binary node n applied to its operands' values l and r. */
static int
binary_apply(struct pq_ev *ev, const struct pq_node *n, int64_t t,
    struct pq_value *l, struct pq_value *r, struct pq_value *out)
{
	struct pq_label_name *names;

	memset(out, 0, sizeof(*out));
	if (l->type == PQ_TYPE_SCALAR && r->type == PQ_TYPE_SCALAR) {
		out->type = PQ_TYPE_SCALAR;
		out->scalar = scalar_binop(n->op, l->scalar, r->scalar);
		return 0;
	}
	if (l->type == PQ_TYPE_VECTOR && r->type == PQ_TYPE_SCALAR)
		return vector_scalar(ev, n, &l->vec, r->scalar, false, out);
	if (l->type == PQ_TYPE_SCALAR && r->type == PQ_TYPE_VECTOR)
		return vector_scalar(ev, n, &r->vec, l->scalar, true, out);
	names = pq_arena_alloc(ev->a, (n->matching.n + 1) * sizeof(*names));
	if (names == NULL)
		return pq_ev_nomem(ev);
	names_of(&n->matching, names);
	if (n->op == PQ_T_LAND || n->op == PQ_T_LOR || n->op == PQ_T_LUNLESS)
		return set_operation(ev, n, &l->vec, &r->vec, names, out);
	return vector_binop(ev, n, t, &l->vec, &r->vec, names, out);
}

/*
 * The chain of binary nodes that n ends (ast.h: "a + b - c ..." is as deep
 * as it is long), with a loop: the first operand, then each node's rhs
 * applied to the value so far, left to right as Prometheus evaluates it.
 * Only the right operands are one level deeper.
 */
static int
eval_binary(struct pq_ev *ev, const struct pq_node *n, int64_t t,
    struct pq_value *out)
{
	const struct pq_node *b = pq_chain_first(n);
	struct pq_value acc, r;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = eval_node(ev, b, t, &acc)) != 0)
		return rc;
	for (;;) {
		b = b->up;
		if ((rc = eval_node(ev, b->rhs, t, &r)) != 0 ||
		    (rc = binary_apply(ev, b, t, &acc, &r, out)) != 0)
			return rc;
		if (b == n)
			return 0;
		acc = *out;
	}
}

static int
eval_unary(struct pq_ev *ev, const struct pq_node *n, int64_t t,
    struct pq_value *out)
{
	int rc = eval_node(ev, n->expr, t, out);

	if (rc != 0 || n->op != PQ_T_SUB)
		return rc;
	if (out->type == PQ_TYPE_SCALAR) {
		out->scalar = -out->scalar;
		return 0;
	}
	for (size_t i = 0; i < out->vec.n; i++) {
		out->vec.v[i].v = -out->vec.v[i].v;
		out->vec.v[i].ls = pq_ev_drop_name(ev, out->vec.v[i].ls);
		if (out->vec.v[i].ls == NULL)
			return pq_ev_nomem(ev);
	}
	return check_unique_at(ev, n, &out->vec);
}

/* --- aggregation --- */

struct group {
	const struct pq_lset *ls;
	double value, mean;
	size_t count;
	struct pq_sample *heap;		/* topk, bottomk */
	size_t nheap, capheap;
	double *values;			/* quantile */
	size_t nvalues, capvalues;
};

/* Room for one more element in an arena array of n (capacity *cap). */
static void *
room(struct pq_ev *ev, void *p, size_t n, size_t *cap, size_t size)
{
	return pq_arena_grow(ev->a, p, n, cap, size, 4);
}

/* vectorByValueHeap's Less (topk): NaN first, then ascending. */
static bool
heap_less(const struct pq_sample *a, const struct pq_sample *b, bool reverse)
{
	if (isnan(a->v))
		return true;
	return reverse ? a->v > b->v : a->v < b->v;
}

static void
heap_swap(struct pq_sample *h, size_t i, size_t j)
{
	struct pq_sample t = h[i];

	h[i] = h[j];
	h[j] = t;
}

/* Go's container/heap up and down. */
static void
heap_up(struct pq_sample *h, size_t j, bool reverse)
{
	while (j > 0) {
		size_t i = (j - 1) / 2;

		if (!heap_less(&h[j], &h[i], reverse))
			break;
		heap_swap(h, i, j);
		j = i;
	}
}

static void
heap_down(struct pq_sample *h, size_t i, size_t n, bool reverse)
{
	for (;;) {
		size_t j1 = 2 * i + 1, j;

		if (j1 >= n)
			break;
		j = j1;
		if (j1 + 1 < n && heap_less(&h[j1 + 1], &h[j1], reverse))
			j = j1 + 1;
		if (!heap_less(&h[j], &h[i], reverse))
			break;
		heap_swap(h, i, j);
		i = j;
	}
}

/* topk/bottomk: add s to a group's heap of at most k. */
static int
heap_offer(struct pq_ev *ev, struct group *g, const struct pq_sample *s,
    int64_t k, bool reverse)
{
	struct pq_sample *h = g->heap;
	bool better = reverse ? h[0].v > s->v : h[0].v < s->v;

	if ((int64_t)g->nheap < k || better || isnan(h[0].v)) {
		if ((int64_t)g->nheap == k) {
			if (k == 1) {
				h[0] = *s;
				return 0;
			}
			heap_swap(h, 0, g->nheap - 1);
			heap_down(h, 0, g->nheap - 1, reverse);
			g->nheap--;
		}
		g->heap = h = room(ev, g->heap, g->nheap, &g->capheap,
		    sizeof(*h));
		if (h == NULL)
			return pq_ev_nomem(ev);
		h[g->nheap++] = *s;
		heap_up(h, g->nheap - 1, reverse);
	}
	return 0;
}

/* The heap in the order Prometheus outputs it: sort.Reverse of its Less,
 * by insertion sort, which is what Go's sort does for so few elements. */
static void
heap_output_order(struct pq_sample *h, size_t n, bool reverse)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && heap_less(&h[j - 1], &h[j],
		    reverse); j--)
			heap_swap(h, j, j - 1);
}

/* The grouping key of ls; also builds the group's labels when asked. */
static int
group_key(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_label_name *names, size_t nn, const struct pq_lset *ls,
    struct buf *b)
{
	buf_reset(b);
	if (n->without)
		return pq_lset_key(b, ls, false, names, nn) != 0 ?
		    pq_ev_nomem(ev) : 0;
	if (nn == 0)
		return buf_addc(b, '\0') != 0 ? pq_ev_nomem(ev) : 0;
	return pq_lset_key(b, ls, true, names, nn) != 0 ? pq_ev_nomem(ev) : 0;
}

static const struct pq_lset *
group_labels(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_label_name *names, size_t nn, const struct pq_lset *ls)
{
	pq_lb_reset(&ev->lb, ls);
	if (n->without) {
		for (size_t i = 0; i < nn; i++)
			pq_lb_del(&ev->lb, names[i].p, names[i].len);
		pq_lb_del(&ev->lb, PQ_NAME_LABEL, 8);
	} else {
		pq_lb_keep(&ev->lb, names, nn);
	}
	return pq_lb_finish(&ev->lb);
}

static int
aggregate_into(struct pq_ev *ev, enum pq_tok op, struct group *g,
    const struct pq_sample *s, int64_t k)
{
	double delta;

	switch (op) {
	case PQ_T_SUM:
		g->value += s->v;
		break;
	case PQ_T_AVG:
		g->count++;
		if (isinf(g->mean)) {
			if (isinf(s->v) && (g->mean > 0) == (s->v > 0))
				break;
			if (!isinf(s->v) && !isnan(s->v))
				break;
		}
		g->mean += s->v / (double)g->count - g->mean / (double)g->count;
		break;
	case PQ_T_MAX:
		if (g->value < s->v || isnan(g->value))
			g->value = s->v;
		break;
	case PQ_T_MIN:
		if (g->value > s->v || isnan(g->value))
			g->value = s->v;
		break;
	case PQ_T_COUNT:
	case PQ_T_COUNT_VALUES:
		g->count++;
		break;
	case PQ_T_STDVAR:
	case PQ_T_STDDEV:
		g->count++;
		delta = s->v - g->mean;
		g->mean += delta / (double)g->count;
		g->value += delta * (s->v - g->mean);
		break;
	case PQ_T_TOPK:
		return heap_offer(ev, g, s, k, false);
	case PQ_T_BOTTOMK:
		return heap_offer(ev, g, s, k, true);
	case PQ_T_QUANTILE:
		g->values = room(ev, g->values, g->nvalues, &g->capvalues,
		    sizeof(double));
		if (g->values == NULL)
			return pq_ev_nomem(ev);
		g->values[g->nvalues++] = s->v;
		break;
	default:	/* group */
		break;
	}
	return 0;
}

/* count_values: a copy of s labelled with its value. */
static int
count_values_sample(struct pq_ev *ev, const struct pq_str *label,
    struct pq_sample *s)
{
	struct buf v = BUF_INIT(1024);	/* 'f' of any double fits */
	const struct pq_lset *ls;
	int rc;

	if ((rc = pq_format_float(&v, s->v, 'f', -1)) != 0) {
		buf_free(&v);
		return pq_ev_nomem(ev);
	}
	pq_lb_reset(&ev->lb, s->ls);
	pq_lb_set_copy(&ev->lb, label->p, label->len, v.p, v.len);
	buf_free(&v);
	if ((ls = pq_lb_finish(&ev->lb)) == NULL)
		return pq_ev_nomem(ev);
	s->ls = ls;
	return 0;
}

/* A new group's start from its first sample. */
static int
group_init(struct pq_ev *ev, enum pq_tok op, struct group *g,
    const struct pq_sample *s)
{
	g->value = s->v;
	g->mean = s->v;
	g->count = 1;
	switch (op) {
	case PQ_T_STDVAR:
	case PQ_T_STDDEV:
		g->value = 0;
		break;
	case PQ_T_GROUP:
		g->value = 1;
		break;
	case PQ_T_TOPK:
	case PQ_T_BOTTOMK:
		g->heap = room(ev, NULL, 0, &g->capheap, sizeof(*g->heap));
		if (g->heap == NULL)
			return pq_ev_nomem(ev);
		g->heap[0] = *s;
		g->nheap = 1;
		break;
	case PQ_T_QUANTILE:
		g->values = room(ev, NULL, 0, &g->capvalues, sizeof(double));
		if (g->values == NULL)
			return pq_ev_nomem(ev);
		g->values[0] = s->v;
		g->nvalues = 1;
		break;
	default:
		break;
	}
	return 0;
}

/* Aggregations whose groups depend on their samples' label sets alone. */
static bool
keeps_groups(enum pq_tok op)
{
	switch (op) {
	case PQ_T_SUM:
	case PQ_T_AVG:
	case PQ_T_MAX:
	case PQ_T_MIN:
	case PQ_T_COUNT:
	case PQ_T_GROUP:
	case PQ_T_STDDEV:
	case PQ_T_STDVAR:
		return true;
	default:
		return false;
	}
}


/* Whether v's samples have the label sets the memo was made for. */
static bool
memo_holds(const struct node_cache *c, const struct pq_vector *v)
{
	if (!c->m_valid || c->m_nin != v->n)
		return false;
	for (size_t i = 0; i < v->n; i++)
		if (c->m_in[i] != v->v[i].ls)
			return false;
	return true;
}

/* Room in c's memo for n samples and as many groups. */
static int
memo_room(struct node_cache *c, size_t n)
{
	const struct pq_lset **in, **out;
	uint32_t *group;

	c->m_valid = false;
	if (n + 1 <= c->m_cap)
		return 0;
	if ((in = realloc(c->m_in, (n + 1) * sizeof(*in))) == NULL)
		return PERR_NOMEM;
	c->m_in = in;
	if ((group = realloc(c->m_group, (n + 1) * sizeof(*group))) == NULL)
		return PERR_NOMEM;
	c->m_group = group;
	if ((out = realloc(c->m_out, (n + 1) * sizeof(*out))) == NULL)
		return PERR_NOMEM;
	c->m_out = out;
	c->m_cap = n + 1;
	return 0;
}

/*
 * The group of each sample of in into g (first appearance first, each
 * group's labels set), by grouping key; recorded in c when given.
 */
static int
make_groups(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_label_name *names, size_t nn, const struct pq_value *in,
    const struct pq_value *param, int64_t k, struct group *g, size_t *ngp,
    struct node_cache *c)
{
	struct ktab index;
	struct kslot *slot;
	size_t ng = 0;
	bool found;
	int rc;

	if ((rc = ktab_init(ev, &index, in->vec.n)) != 0)
		return rc;
	if (c != NULL && memo_room(c, in->vec.n) != 0)
		return pq_ev_nomem(ev);
	for (size_t i = 0; i < in->vec.n; i++) {
		struct pq_sample s = in->vec.v[i];

		if (n->op == PQ_T_COUNT_VALUES &&
		    (rc = count_values_sample(ev, &param->str, &s)) != 0)
			return rc;
		if ((rc = group_key(ev, n, names, nn, s.ls, &ev->key)) != 0)
			return rc;
		slot = ktab_slot(&index, ev->key.p, ev->key.len, &found);
		if (found) {
			if (c != NULL)
				c->m_group[i] = (uint32_t)slot->v;
			if ((rc = aggregate_into(ev, n->op, &g[slot->v], &s,
			    k)) != 0)
				return rc;
			continue;
		}
		const char *key = pq_arena_strdup(ev->a, ev->key.p, ev->key.len);

		if (key == NULL)
			return pq_ev_nomem(ev);
		ktab_claim(slot, key, ev->key.len, ng);
		if (c != NULL)
			c->m_group[i] = (uint32_t)ng;
		if ((g[ng].ls = n->without || nn > 0 ? group_labels(ev, n, names,
		    nn, s.ls) : &pq_lset_empty) == NULL)
			return pq_ev_nomem(ev);
		if ((rc = group_init(ev, n->op, &g[ng++], &s)) != 0)
			return rc;
	}
	*ngp = ng;
	if (c == NULL)
		return 0;
	/* Kept, the groups' labels are the same next time. */
	for (size_t i = 0; i < ng; i++)
		if ((g[i].ls = c->m_out[i] = keep_lset(ev->q, g[i].ls,
		    NULL)) == NULL)
			return pq_ev_nomem(ev);
	for (size_t i = 0; i < in->vec.n; i++)
		c->m_in[i] = in->vec.v[i].ls;
	c->m_nin = in->vec.n;
	c->m_nout = ng;
	c->m_valid = true;
	return 0;
}

/* The groups as the memo has them: no keys made, no labels built. */
static int
memo_groups(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_value *in, int64_t k, struct group *g, size_t *ngp,
    const struct node_cache *c)
{
	size_t ng = 0, gi;
	int rc;

	for (size_t i = 0; i < in->vec.n; i++) {
		gi = c->m_group[i];
		if (gi < ng) {
			rc = aggregate_into(ev, n->op, &g[gi], &in->vec.v[i], k);
		} else {
			g[ng].ls = c->m_out[gi];
			rc = group_init(ev, n->op, &g[ng++], &in->vec.v[i]);
		}
		if (rc != 0)
			return rc;
	}
	*ngp = ng;
	return 0;
}

static int groups_out(struct pq_ev *ev, const struct pq_node *n,
    struct group *g, size_t ng, double q, int64_t t, struct pq_value *out);
static const struct pq_node *fusable(const struct pq_node *n);
static int fused_aggregate(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_node *call, int64_t t, struct pq_value *out);

static int
eval_aggregate(struct pq_ev *ev, const struct pq_node *n, int64_t t,
    struct pq_value *out)
{
	struct pq_value param, in;
	struct pq_label_name *names;
	struct node_cache *c = cache_of(ev->q, n);
	struct group *g = NULL;
	size_t ng = 0, nn = n->grouping.n;
	int64_t k = 0;
	double q = 0;
	bool memo;
	int rc = 0;

	memset(&param, 0, sizeof(param));
	memset(&in, 0, sizeof(in));
	out->type = PQ_TYPE_VECTOR;
	if (c != NULL && fusable(n) != NULL)
		return fused_aggregate(ev, n, fusable(n), t, out);
	if (n->param != NULL && (rc = eval_node(ev, n->param, t, &param)) != 0)
		return rc;
	if ((rc = eval_node(ev, n->expr, t, &in)) != 0)
		return rc;
	names = pq_arena_alloc(ev->a, (nn + 2) * sizeof(*names));
	if (names == NULL)
		return pq_ev_nomem(ev);
	names_of(&n->grouping, names);
	if (n->op == PQ_T_TOPK || n->op == PQ_T_BOTTOMK) {
		/* Go's convertibleToInt64; 2^63 itself passes, and converts
		   to the minimum (so nothing is returned). */
		if (!(param.scalar <= 9223372036854775807.0 &&
		    param.scalar >= -9223372036854775808.0)) {
			struct buf m = BUF_INIT(64);

			(void)pq_print_number(&m, param.scalar);
			perr_set(ev->e, PERR_INVALID, "Scalar value %s overflows "
			    "int64", buf_str(&m));
			buf_free(&m);
			return PERR_INVALID;
		}
		k = pq_go_int64(param.scalar);
		if (k < 1)
			return 0;
	}
	if (n->op == PQ_T_QUANTILE)
		q = param.scalar;
	if (n->op == PQ_T_COUNT_VALUES) {
		if (!pq_label_name_valid(param.str.p, param.str.len))
			return perr_set(ev->e, PERR_INVALID, "invalid label name "
			    "\"%s\"", param.str.p);
		if (!n->without) {
			names[nn].p = param.str.p;
			names[nn].len = param.str.len;
			nn++;
		}
	}
	memo = c != NULL && keeps_groups(n->op) && memo_holds(c, &in.vec);
	/* As many groups as samples at most (as many as kept, with the
	   memo): in the arena, which holds them as long as the evaluation. */
	if ((g = pq_arena_alloc(ev->a, ((memo ? c->m_nout : in.vec.n) + 1) *
	    sizeof(*g))) == NULL)
		return pq_ev_nomem(ev);
	if (memo)
		rc = memo_groups(ev, n, &in, k, g, &ng, c);
	else
		rc = make_groups(ev, n, names, nn, &in, &param, k, g, &ng,
		    c != NULL && keeps_groups(n->op) && all_stable(&in.vec) ?
		    c : NULL);
	if (rc != 0)
		return rc;
	return groups_out(ev, n, g, ng, q, t, out);
}

/* The aggregation's result: one sample per group, in their order. */
static int
groups_out(struct pq_ev *ev, const struct pq_node *n, struct group *g,
    size_t ng, double q, int64_t t, struct pq_value *out)
{
	int rc;

	if ((rc = pq_ev_reserve(ev, &out->vec, ng)) != 0)
		return rc;
	for (size_t i = 0; i < ng && rc == 0; i++) {
		double v = g[i].value;

		switch (n->op) {
		case PQ_T_AVG:
			v = g[i].mean;
			break;
		case PQ_T_COUNT:
		case PQ_T_COUNT_VALUES:
			v = (double)g[i].count;
			break;
		case PQ_T_STDVAR:
			v = g[i].value / (double)g[i].count;
			break;
		case PQ_T_STDDEV:
			v = sqrt(g[i].value / (double)g[i].count);
			break;
		case PQ_T_TOPK:
		case PQ_T_BOTTOMK:
			heap_output_order(g[i].heap, g[i].nheap,
			    n->op == PQ_T_BOTTOMK);
			for (size_t j = 0; j < g[i].nheap && rc == 0; j++)
				rc = pq_ev_push(ev, &out->vec, g[i].heap[j].ls,
				    t, g[i].heap[j].v);
			continue;
		case PQ_T_QUANTILE:
			v = pq_quantile(q, g[i].values, g[i].nvalues);
			break;
		default:
			break;
		}
		rc = pq_ev_push(ev, &out->vec, g[i].ls, t, v);
	}
	return rc;
}

/*
 * The range function call an aggregation n adds up, when it can be done in
 * one pass over the selected series (fused_aggregate): an aggregation
 * whose groups depend on labels alone, of a function of one range of one
 * metric's series that cannot fail (absent_over_time aside).  NULL else.
 */
static bool fixed_name(const struct pq_node *n);

static const struct pq_node *
fusable(const struct pq_node *n)
{
	const struct pq_node *call = unparen(n->expr), *arg;

	if (!keeps_groups(n->op) || call->kind != PQ_CALL ||
	    call->func->nargs != 1 || call->func->variadic != 0 ||
	    call->func->args[0] != PQ_TYPE_MATRIX ||
	    strcmp(call->func->name, "absent_over_time") == 0)
		return NULL;
	arg = unparen(call->args[0]);
	if (arg->kind != PQ_MATRIX_SELECTOR || !fixed_name(arg->expr))
		return NULL;
	return call;
}

/* Each of the selected series' group, kept in c for this generation. */
static int
fused_groups(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_node *call, struct node_cache *c, const size_t *idx,
    size_t count, uint64_t list)
{
	bool keep_name = strcmp(call->func->name, "last_over_time") == 0;
	struct pq_label_name *names;
	const struct pq_lset *ls;
	struct ktab index;
	struct kslot *slot;
	size_t nn = n->grouping.n, ng = 0;
	bool found;
	void *p;
	int rc;

	c->f_valid = false;
	if ((p = realloc(c->f_group, (count + 1) * sizeof(*c->f_group))) ==
	    NULL)
		return pq_ev_nomem(ev);
	c->f_group = p;
	if ((p = realloc(c->f_labels, (count + 1) * sizeof(*c->f_labels))) ==
	    NULL)
		return pq_ev_nomem(ev);
	c->f_labels = p;
	if ((names = pq_arena_alloc(ev->a, (nn + 1) * sizeof(*names))) ==
	    NULL || (rc = ktab_init(ev, &index, count)) != 0)
		return pq_ev_nomem(ev);
	names_of(&n->grouping, names);
	for (size_t i = 0; i < count; i++) {
		ls = ev->st->s[idx[i]].ls;
		if (!keep_name && (ls = pq_ev_drop_name(ev, ls)) == NULL)
			return pq_ev_nomem(ev);
		if ((rc = group_key(ev, n, names, nn, ls, &ev->key)) != 0)
			return rc;
		slot = ktab_slot(&index, ev->key.p, ev->key.len, &found);
		if (!found) {
			const char *key = pq_arena_strdup(ev->a, ev->key.p,
			    ev->key.len);

			if (key == NULL)
				return pq_ev_nomem(ev);
			ktab_claim(slot, key, ev->key.len, ng);
			ls = n->without || nn > 0 ? group_labels(ev, n, names,
			    nn, ls) : &pq_lset_empty;
			if (ls == NULL || (c->f_labels[ng++] = keep_lset(ev->q,
			    ls, NULL)) == NULL)
				return pq_ev_nomem(ev);
		}
		c->f_group[i] = (uint32_t)slot->v;
	}
	c->f_ngroups = ng;
	c->f_st = ev->st;
	c->f_list = list;
	c->f_valid = true;
	return 0;
}

/*
 * The last evaluation time whose window s's memo holds as it would be made
 * now: every one while the series has had no sample since; else those
 * whose windows end (or are cut by the horizon) at or before what was its
 * latest sample then, as later samples cannot enter them.
 */
static int64_t
memo_holds_until(const struct pq_range_memo *m, const struct pq_stored *s)
{
	if (s->last_t == m->last_t || m->horizon <= m->last_t ||
	    (m->hi < 0 && m->last_t > INT64_MAX + m->hi))
		return INT64_MAX;
	return m->last_t - m->hi;
}

/* s's memo's window for call at fc's time and window, as the memo's
 * index, or -1; *avail receives how many it holds from that one on. */
static long
memo_index(const struct pq_ev *ev, const struct pq_node *call,
    const struct pq_fcall *fc, const struct pq_stored *s, size_t *avail)
{
	const struct pq_range_memo *m = &s->memo;
	int64_t d = fc->t - m->t0, until, k;

	if (m->n == 0 || m->fn != call->func || m->lo != fc->mint - fc->t ||
	    m->hi != fc->maxt - fc->t || m->horizon != ev->st->horizon ||
	    d < 0 || d % m->step != 0 || (k = d / m->step) >= (int64_t)m->n)
		return -1;
	until = memo_holds_until(m, s);
	if (fc->t > until)
		return -1;
	*avail = m->n - (size_t)k;
	if (until != INT64_MAX && (until - fc->t) / m->step + 1 <
	    (int64_t)*avail)
		*avail = (size_t)((until - fc->t) / m->step + 1);
	return (long)k;
}

/*
 * Work out the function of call over series s's windows at fc's time and
 * the n - 1 times after it, step apart, into s->memo (series receives
 * each range): the windows move forward through s's samples with the
 * memo's cursor, each read up to its end or the store's horizon, each
 * computed as the evaluation at its time would.  fc is as it was after.
 */
static int
memo_make(struct pq_ev *ev, const struct pq_node *call, struct pq_fcall *fc,
    struct pq_series *series, struct pq_stored *s, size_t n, int64_t step)
{
	struct pq_range_memo *m = &s->memo;
	int64_t t = fc->t, lo = fc->mint - t, hi = fc->maxt - t, end,
	    h = ev->st->horizon;
	struct pq_window *w;
	int rc = 0;

	m->n = 0;
	if (mem_grow(&m->w, &m->cap, n, sizeof(m->w[0]), n) != 0)
		return pq_ev_nomem(ev);
	series->ls = s->ls;
	for (size_t k = 0; k < n && rc == 0; k++) {
		w = &m->w[k];
		fc->t = t + (int64_t)k * step;
		fc->mint = fc->t + lo;
		fc->maxt = fc->t + hi;
		end = fc->maxt > h ? h : fc->maxt;
		pq_stored_range_at(s, fc->mint, end, &m->cur, &series->rg);
		w->samples = pq_range_count(&series->rg);
		w->has = false;
		if (w->samples == 0)
			continue;
		fc->has_result = false;
		rc = call->func->impl(fc);
		w->has = fc->has_result;
		w->v = fc->result;
	}
	fc->t = t;
	fc->mint = t + lo;
	fc->maxt = t + hi;
	if (rc != 0)
		return rc;
	m->fn = call->func;
	m->lo = lo;
	m->hi = hi;
	m->horizon = h;
	m->last_t = s->last_t;
	m->t0 = t;
	m->step = step;
	m->n = n;
	return 0;
}

/*
 * How many of n windows from fc's time on, step apart, to make at once:
 * those that end at or before series s's latest sample (no sample to
 * come can change them), at least one.  The windows of a series that
 * grows at every step (a recorded one) would be made again with each
 * sample.
 */
static size_t
windows_reached(const struct pq_stored *s, const struct pq_fcall *fc,
    size_t n, int64_t step)
{
	int64_t hi = fc->maxt - fc->t, until;

	if (n <= 1 || (hi < 0 && s->last_t > INT64_MAX + hi))
		return n;
	if (hi > 0 && s->last_t < INT64_MIN + hi)
		return 1;
	until = s->last_t - hi;
	if (until < fc->t)
		return 1;
	if ((until - fc->t) / step + 1 < (int64_t)n)
		return (size_t)((until - fc->t) / step + 1);
	return n;
}

/*
 * The function of call over series s's window at fc's time, from s's
 * memo, made first (n windows, step apart) unless it holds it at a step
 * of step.  *avail receives the windows it holds from that one on.
 */
static int
memo_window(struct pq_ev *ev, const struct pq_node *call,
    struct pq_fcall *fc, struct pq_series *series, struct pq_stored *s,
    size_t n, int64_t step, const struct pq_window **out, size_t *avail)
{
	long k = memo_index(ev, call, fc, s, avail);
	int rc;

	if (k < 0 || (n > 1 && s->memo.step != step)) {
		if ((rc = memo_make(ev, call, fc, series, s,
		    windows_reached(s, fc, n, step), step)) != 0)
			return rc;
		k = 0;
		*avail = s->memo.n;
	}
	*out = &s->memo.w[k];
	return 0;
}

/* The row of c's windows ahead for time t, or NULL when c holds none. */
static const struct pq_window *
ahead_row(const struct pq_ev *ev, const struct node_cache *c, size_t count,
    int64_t t, uint64_t appended)
{
	int64_t d = t - c->a_t0;

	if (c->a_n == 0 || c->a_st != ev->st || c->a_list != c->f_list ||
	    c->a_horizon != ev->st->horizon || c->a_appended != appended ||
	    d < 0 || d % c->a_step != 0 || d / c->a_step >= (int64_t)c->a_n)
		return NULL;
	return &c->a_w[(size_t)(d / c->a_step) * count];
}

/*
 * Fill c's windows ahead from fc's time on, step apart, for the selected
 * series idx[0..count): each series' memo holds them (made when not), as
 * many times as every memo holds, copied row by row.
 */
static int
ahead_fill(struct pq_ev *ev, const struct pq_node *call, struct pq_fcall *fc,
    struct pq_series *series, struct node_cache *c, const size_t *idx,
    size_t count, int64_t step, uint64_t appended)
{
	const struct pq_window **from;
	size_t n = PQ_AHEAD_WINDOWS, avail;
	int rc;

	c->a_n = 0;
	if ((from = pq_arena_alloc(ev->a, (count + 1) * sizeof(*from))) ==
	    NULL)
		return pq_ev_nomem(ev);
	for (size_t i = 0; i < count; i++) {
		if ((rc = memo_window(ev, call, fc, series, &ev->st->s[idx[i]],
		    PQ_AHEAD_WINDOWS, step, &from[i], &avail)) != 0)
			return rc;
		if (avail < n)
			n = avail;
	}
	if (mem_grow(&c->a_w, &c->a_cap, n * count, sizeof(c->a_w[0]),
	    n * count) != 0)
		return pq_ev_nomem(ev);
	/* Each series' memo holds its windows (untouched by the others'
	   making theirs): copied a row at a time, the rows written in
	   order. */
	for (size_t j = 0; j < n; j++)
		for (size_t i = 0; i < count; i++)
			c->a_w[j * count + i] = from[i][j];
	c->a_n = n;
	c->a_t0 = fc->t;
	c->a_step = step;
	c->a_horizon = ev->st->horizon;
	c->a_st = ev->st;
	c->a_list = c->f_list;
	c->a_appended = appended;
	return 0;
}

/*
 * aggregation(function(metric{...}[range])) in one pass: each selected
 * series' window (its cursor), the function, and its group, without the
 * range vector and the vector between.  The same samples counted, the
 * same function results (made in the same order, or kept from a selector
 * of the same series and window), the groups in the same order of first
 * appearance: the same result as the three steps.
 */
static int
fused_aggregate(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_node *call, int64_t t, struct pq_value *out)
{
	const struct pq_node *sel = unparen(call->args[0]), *vs = sel->expr;
	struct node_cache *c = cache_of(ev->q, n);
	struct pq_fcall *fc;
	struct pq_series series;
	struct pq_sample smp;
	struct pq_cursor *cur;
	struct group *g;
	const size_t *idx;
	const struct pq_window *row = NULL;
	size_t count, ng = 0, *pos;
	int64_t maxt, mint, ahead;
	uint64_t appended, list;
	int rc;

	maxt = ref_time(ev, vs, t);
	mint = maxt - sel->range_ms;
	if ((rc = select_series(ev, vs, &idx, &count, &cur)) != 0)
		return rc;
	list = cache_of(ev->q, vs)->list;
	if ((!c->f_valid || c->f_st != ev->st || c->f_list != list) &&
	    (rc = fused_groups(ev, n, call, c, idx, count, list)) != 0)
		return rc;
	fc = pq_arena_alloc(ev->a, sizeof(*fc));
	g = pq_arena_alloc(ev->a, (c->f_ngroups + 1) * sizeof(*g));
	pos = pq_arena_take(ev->a, (c->f_ngroups + 1) * sizeof(*pos));
	if (fc == NULL || g == NULL || pos == NULL)
		return pq_ev_nomem(ev);
	memset(pos, 0xff, (c->f_ngroups + 1) * sizeof(*pos));
	fc->ev = ev;
	fc->node = call;
	fc->t = t;
	fc->nargs = call->nargs;
	fc->mint = mint;
	fc->maxt = maxt;
	fc->series = &series;
	series.ls = NULL;
	/* Ahead only at the caller's steps: a subquery's times, or an @
	   time, are not those. */
	ahead = ev->in_subquery == 0 && vs->at == PQ_AT_NONE && count > 0 ?
	    ev->ahead : 0;
	if (ahead > 0) {
		appended = pq_store_name_samples(ev->st, idx[0]);
		if ((row = ahead_row(ev, c, count, t, appended)) == NULL) {
			if ((rc = ahead_fill(ev, call, fc, &series, c, idx,
			    count, ahead, appended)) != 0)
				return rc;
			row = c->a_w;
		}
	}
	/* The groups kept (keeps_groups) read values only: no sample's
	   labels, so the series themselves are not visited with a row. */
	smp.ls = NULL;
	smp.t = t;
	for (size_t i = 0; i < count; i++) {
		size_t gi = c->f_group[i], avail;
		const struct pq_window *w = row != NULL ? &row[i] : NULL;

		if (w == NULL && (rc = memo_window(ev, call, fc, &series,
		    &ev->st->s[idx[i]], 1, 1, &w, &avail)) != 0)
			return rc;
		if (w->samples > 0 && (rc = budget(ev, w->samples)) != 0)
			return rc;
		if (!w->has)
			continue;
		smp.v = w->v;
		if (pos[gi] != SIZE_MAX && n->op == PQ_T_SUM) {
			/* aggregate_into's sum, without the call: the
			   aggregation rules use most. */
			g[pos[gi]].value += w->v;
		} else if (pos[gi] != SIZE_MAX) {
			rc = aggregate_into(ev, n->op, &g[pos[gi]], &smp, 0);
		} else {
			pos[gi] = ng;
			g[ng].ls = c->f_labels[gi];
			rc = group_init(ev, n->op, &g[ng++], &smp);
		}
		if (rc != 0)
			return rc;
	}
	return groups_out(ev, n, g, ng, 0, t, out);
}

/* --- function calls --- */

/* Whether the builder holds a label called name. */
static bool
builder_has(const struct pq_lbuilder *lb, const struct pq_str *name)
{
	for (size_t i = 0; i < lb->n; i++)
		if (lb->v[i].nlen == name->len &&
		    memcmp(lb->v[i].name, name->p, name->len) == 0)
			return true;
	return false;
}

/*
 * absent() and absent_over_time()'s labels, as Prometheus's
 * createLabelsForAbsentFunction: each label's first equality matcher,
 * unless another matcher names the label too.
 */
static const struct pq_lset *
absent_labels(struct pq_ev *ev, const struct pq_node *arg)
{
	const struct pq_node *vs = arg;
	struct pq_lbuilder *lb = &ev->lb;
	const struct pq_matcher *m;
	size_t i;

	if (vs->kind == PQ_MATRIX_SELECTOR)
		vs = vs->expr;
	if (vs->kind != PQ_VECTOR_SELECTOR)
		return &pq_lset_empty;
	bool *drop = pq_arena_alloc(ev->a, vs->nmatchers + 1);

	if (drop == NULL)
		return NULL;
	pq_lb_reset(lb, NULL);
	for (i = 0; i < vs->nmatchers; i++) {
		m = &vs->matchers[i];
		if (pq_str_eq(m->name, PQ_NAME_LABEL))
			continue;
		if (m->op == PQ_MATCH_EQ && !builder_has(lb, &m->name))
			pq_lb_set(lb, m->name.p, m->name.len, m->value.p,
			    m->value.len);
		else
			drop[i] = true;
	}
	for (i = 0; i < vs->nmatchers; i++)
		if (drop[i])
			pq_lb_del(lb, vs->matchers[i].name.p,
			    vs->matchers[i].name.len);
	return pq_lb_finish(lb);
}

/* Whether selector n matches one metric name only (__name__="x"). */
static bool
fixed_name(const struct pq_node *n)
{
	for (size_t i = 0; i < n->nmatchers; i++)
		if (n->matchers[i].op == PQ_MATCH_EQ &&
		    pq_str_eq(n->matchers[i].name, PQ_NAME_LABEL))
			return true;
	return false;
}

/*
 * A range function's result labels, one per series of m (its names
 * dropped), as the call's memo has them: made and kept when m's label
 * sets are stable and new, reused while they stay.  NULL when they are
 * not stable (or memory ran out: the caller drops names itself).
 */
static const struct pq_lset *const *
result_labels(struct pq_ev *ev, const struct pq_node *n,
    const struct pq_matrix *m)
{
	struct node_cache *c = cache_of(ev->q, n);
	size_t i;

	if (c == NULL)
		return NULL;
	if (c->m_valid && c->m_nin == m->n) {
		for (i = 0; i < m->n && c->m_in[i] == m->s[i].ls; i++)
			;
		if (i == m->n)
			return c->m_out;
	}
	for (i = 0; i < m->n; i++)
		if (!m->s[i].ls->stable)
			return NULL;
	if (memo_room(c, m->n) != 0)
		return NULL;
	for (i = 0; i < m->n; i++) {
		c->m_in[i] = m->s[i].ls;
		/* Stable in, stable out (pq_ev_drop_name keeps it). */
		if ((c->m_out[i] = pq_ev_drop_name(ev, m->s[i].ls)) == NULL)
			return NULL;
	}
	c->m_nin = c->m_nout = m->n;
	c->m_valid = true;
	return c->m_out;
}

static int
call_range(struct pq_ev *ev, struct pq_fcall *c, size_t mi, int64_t t,
    struct pq_value *out)
{
	const struct pq_node *n = c->node, *arg = unparen(n->args[mi]);
	bool keep_name = strcmp(n->func->name, "last_over_time") == 0;
	bool absent = strcmp(n->func->name, "absent_over_time") == 0;
	const struct pq_lset *const *labels = NULL;
	struct pq_value m;
	int rc;

	memset(&m, 0, sizeof(m));
	if (arg->kind == PQ_MATRIX_SELECTOR)
		rc = eval_matrix_selector(ev, arg, t, &m, &c->mint, &c->maxt);
	else
		rc = eval_subquery(ev, arg, t, &m, &c->mint, &c->maxt);
	if (rc != 0)
		return rc;
	out->type = PQ_TYPE_VECTOR;
	if (absent) {
		if (m.mat.n > 0)
			return 0;
		return pq_ev_push(ev, &out->vec, absent_labels(ev, arg), t, 1);
	}
	if (!keep_name)
		labels = result_labels(ev, n, &m.mat);
	if ((rc = pq_ev_reserve(ev, &out->vec, m.mat.n)) != 0)
		return rc;
	for (size_t i = 0; i < m.mat.n; i++) {
		c->series = &m.mat.s[i];
		c->has_result = false;
		if ((rc = n->func->impl(c)) != 0)
			return rc;
		if (!c->has_result)
			continue;
		rc = pq_ev_push(ev, &out->vec, keep_name ? c->series->ls :
		    labels != NULL ? labels[i] : pq_ev_drop_name(ev,
		    c->series->ls), t, c->result);
		if (rc != 0)
			return rc;
	}
	/* Stored series of one metric name stay distinct without it. */
	if (arg->kind == PQ_MATRIX_SELECTOR && fixed_name(arg->expr))
		return 0;
	return check_unique_at(ev, n, &out->vec);
}

static int
eval_call(struct pq_ev *ev, const struct pq_node *n, int64_t t,
    struct pq_value *out)
{
	struct pq_fcall *c = pq_arena_alloc(ev->a, sizeof(*c));
	struct node_cache *nc;
	size_t mi = SIZE_MAX;
	int rc;

	if (c == NULL)
		return pq_ev_nomem(ev);
	c->ev = ev;
	c->node = n;
	c->t = t;
	c->nargs = n->nargs;
	c->out = &out->vec;
	out->type = n->func->ret;
	if (strcmp(n->func->name, "label_replace") == 0) {
		nc = cache_of(ev->q, n);
		if (nc == NULL || nc->lr_rc != 0)
			return perr_set(ev->e, PERR_INVALID, "%s", nc != NULL &&
			    nc->lr_msg != NULL ? nc->lr_msg : "label_replace");
		c->cache = nc->lr_re;
	}
	/* Scalar and string arguments first, in order, then the rest. */
	for (size_t i = 0; i < n->nargs; i++) {
		enum pq_type ty = pq_node_type(n->args[i]);

		if (ty == PQ_TYPE_MATRIX) {
			mi = i;
			continue;
		}
		if ((rc = eval_node(ev, n->args[i], t, &c->args[i])) != 0)
			return rc;
	}
	if (mi != SIZE_MAX)
		return call_range(ev, c, mi, t, out);
	if ((rc = n->func->impl(c)) != 0)
		return rc;
	if (n->func->ret == PQ_TYPE_SCALAR) {
		out->scalar = out->vec.n > 0 ? out->vec.v[0].v : NAN;
		memset(&out->vec, 0, sizeof(out->vec));
		return 0;
	}
	/* absent's labels come from its argument as written: inside
	   parentheses there are none, as in Prometheus. */
	if (strcmp(n->func->name, "absent") == 0 && out->vec.n == 1 &&
	    (out->vec.v[0].ls = absent_labels(ev, n->args[0])) == NULL)
		return pq_ev_nomem(ev);
	return check_unique_at(ev, n, &out->vec);
}

/* --- dispatch --- */

static int
eval_node(struct pq_ev *ev, const struct pq_node *n, int64_t t,
    struct pq_value *out)
{
	int64_t mint, maxt;
	int rc;

	memset(out, 0, sizeof(*out));
	if (++ev->depth > PQ_DEPTH_MAX + 8) {
		ev->depth--;
		return perr_set(ev->e, PERR_LIMIT, "expression nests deeper "
		    "than %d levels", PQ_DEPTH_MAX);
	}
	switch (n->kind) {
	case PQ_NUMBER:
		out->type = PQ_TYPE_SCALAR;
		out->scalar = n->num;
		rc = 0;
		break;
	case PQ_STRING:
		out->type = PQ_TYPE_STRING;
		out->str = n->str;
		rc = 0;
		break;
	case PQ_VECTOR_SELECTOR:
		rc = eval_vector_selector(ev, n, t, out);
		break;
	case PQ_MATRIX_SELECTOR:
		rc = eval_matrix_selector(ev, n, t, out, &mint, &maxt);
		break;
	case PQ_SUBQUERY:
		rc = eval_subquery(ev, n, t, out, &mint, &maxt);
		break;
	case PQ_PAREN:
		rc = eval_node(ev, n->expr, t, out);
		break;
	case PQ_UNARY:
		rc = eval_unary(ev, n, t, out);
		break;
	case PQ_BINARY:
		rc = eval_binary(ev, n, t, out);
		break;
	case PQ_AGGREGATE:
		rc = eval_aggregate(ev, n, t, out);
		break;
	case PQ_CALL:
		rc = eval_call(ev, n, t, out);
		break;
	default:
		rc = perr_set(ev->e, PERR_INVALID, "unknown expression");
	}
	ev->depth--;
	return rc;
}

int
pq_query_exec(struct pq_query *q, const struct pq_store *st,
    const struct pq_engine_opts *opts, int64_t t, int64_t start, int64_t end,
    struct pq_arena *scratch, struct pq_value *out, struct perr *e)
{
	struct pq_ev ev;
	int rc;

	memset(&ev, 0, sizeof(ev));
	ev.st = st;
	ev.q = q;
	ev.a = scratch;
	ev.e = e;
	ev.lookback = opts != NULL && opts->lookback_ms > 0 ?
	    opts->lookback_ms : PQ_LOOKBACK_DEFAULT_MS;
	ev.sq_step = opts != NULL && opts->subquery_step_ms > 0 ?
	    opts->subquery_step_ms : 60000;
	ev.max_samples = opts != NULL && opts->max_samples > 0 ?
	    opts->max_samples : PQ_MAX_SAMPLES_DEFAULT;
	ev.start = start;
	ev.end = end;
	ev.ahead = opts != NULL && opts->ahead_ms > 0 ? opts->ahead_ms : 0;
	pq_lb_init(&ev.lb, scratch);
	buf_init(&ev.key, 1 << 24);
	buf_init(&ev.key2, 1 << 24);
	rc = eval_node(&ev, q->root, t, out);
	q->samples = ev.samples;
	pq_lb_free(&ev.lb);
	buf_free(&ev.key);
	buf_free(&ev.key2);
	hmap_free(&ev.seen);
	hmap_free(&ev.sq_memo);
	free(ev.sq_vals);
	/* The result may hold kept values: they go with it. */
	pq_arena_move(scratch, &ev.sq_arena);
	return rc;
}

/* --- results --- */

static int
cmp_samples(const void *a, const void *b)
{
	const struct pq_sample *x = a, *y = b;

	return pq_lset_cmp(x->ls, y->ls);
}

void
pq_vector_sort(struct pq_vector *v)
{
	if (v->n > 1)
		qsort(v->v, v->n, sizeof(v->v[0]), cmp_samples);
}

void
pq_series_points(const struct pq_series *s, int64_t *t, double *v)
{
	struct pq_range_it it;
	size_t i = 0;

	pq_range_it_init(&it, &s->rg);
	while (pq_range_it_next(&it, &t[i], &v[i]))
		i++;
}

/* --- range queries and output --- */

static int
cmp_series_ls(const void *a, const void *b)
{
	return pq_lset_cmp(((const struct pq_series *)a)->ls,
	    ((const struct pq_series *)b)->ls);
}

int
pq_query_range(struct pq_query *q, const struct pq_store *st,
    const struct pq_engine_opts *opts, int64_t start, int64_t end,
    int64_t step, struct pq_arena *scratch, struct pq_value *out,
    struct perr *e)
{
	struct hmap index = HMAP_INIT;
	struct building *b = NULL;
	struct buf key = BUF_INIT(1 << 24);
	struct pq_engine_opts o;
	struct pq_value v;
	struct pq_ev ev;
	size_t nb = 0, capb = 0, *slot;
	bool found;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->type = PQ_TYPE_MATRIX;
	if (step <= 0 || end < start)
		return perr_set(e, PERR_INVALID, "the range query's end is "
		    "before its start, or its step is not positive");
	if ((end - start) / step >= PQ_SUBQUERY_STEPS_MAX)
		return perr_set(e, PERR_LIMIT, "range query of %lld steps: at "
		    "most %d (make the step longer)", (long long)((end - start) /
		    step + 1), PQ_SUBQUERY_STEPS_MAX);
	memset(&ev, 0, sizeof(ev));
	ev.a = scratch;
	ev.e = e;
	/* Evaluated at every step: windows may be worked out ahead. */
	memset(&o, 0, sizeof(o));
	if (opts != NULL)
		o = *opts;
	o.ahead_ms = step;
	for (int64_t t = start; t <= end && rc == 0; t += step) {
		if ((rc = pq_query_exec(q, st, &o, t, start, end, scratch, &v,
		    e)) != 0)
			break;
		if (v.type == PQ_TYPE_SCALAR) {
			memset(&v.vec, 0, sizeof(v.vec));
			if (pq_vector_push(scratch, &v.vec, &pq_lset_empty, t,
			    v.scalar) != 0)
				rc = perr_set(e, PERR_NOMEM, "out of memory");
		} else if (v.type != PQ_TYPE_VECTOR) {
			rc = perr_set(e, PERR_INVALID, "invalid expression type "
			    "\"%s\" for range query, must be Scalar or instant "
			    "Vector", pq_type_name(v.type));
		}
		for (size_t i = 0; i < v.vec.n && rc == 0; i++) {
			buf_reset(&key);
			if (pq_lset_key_all(&key, v.vec.v[i].ls) != 0 ||
			    hmap_upsert(&index, key.p, key.len, &slot,
			    &found) != 0) {
				rc = perr_set(e, PERR_NOMEM, "out of memory");
				break;
			}
			if (!found) {
				if (nb == capb) {
					size_t cap = capb ? capb * 2 : 16;
					struct building *n = realloc(b, cap *
					    sizeof(*n));

					if (n == NULL) {
						rc = perr_set(e, PERR_NOMEM,
						    "out of memory");
						break;
					}
					b = n;
					capb = cap;
				}
				memset(&b[nb], 0, sizeof(b[0]));
				b[nb].ls = v.vec.v[i].ls;
				*slot = nb++;
			}
			rc = add_point(&ev, &b[*slot], t, v.vec.v[i].v);
		}
	}
	for (size_t i = 0; i < nb && rc == 0; i++) {
		struct pq_range rg = {b[i].runs, b[i].n, step, 0, 1, false, false,
		    0};

		rc = mat_push(&ev, &out->mat, b[i].ls, &rg);
	}
	if (rc == 0 && out->mat.n > 1)
		qsort(out->mat.s, out->mat.n, sizeof(out->mat.s[0]),
		    cmp_series_ls);
	free(b);
	hmap_free(&index);
	buf_free(&key);
	return rc;
}

/* A time in seconds as Prometheus writes it: "1700000000.123". */
static int
write_time(struct buf *b, int64_t ms, bool json)
{
	int64_t s = ms / 1000, f = ms % 1000;

	if (f < 0) {
		f += 1000;
		s--;
	}
	if (json && f == 0)
		return buf_addf(b, "%lld", (long long)s);
	if (json) {
		char frac[8];
		size_t n;

		snprintf(frac, sizeof(frac), "%03lld", (long long)f);
		for (n = 3; n > 0 && frac[n - 1] == '0'; n--)
			frac[n - 1] = '\0';
		return buf_addf(b, "%lld.%s", (long long)s, frac);
	}
	return buf_addf(b, "%lld.%03lld", (long long)s, (long long)f);
}

static int
write_json_metric(struct buf *b, const struct pq_lset *ls)
{
	int rc = buf_adds(b, "{\"metric\":");

	if (rc == 0)
		rc = pq_lset_json(b, ls);
	return rc;
}

/* [t, "v"] of the query API. */
static int
write_json_point(struct buf *b, int64_t t, double v)
{
	int rc = buf_addc(b, '[');

	if (rc == 0)
		rc = write_time(b, t, true);
	if (rc == 0)
		rc = buf_adds(b, ",\"");
	if (rc == 0)
		rc = pq_format_float(b, v, 'f', -1);
	return rc != 0 ? rc : buf_adds(b, "\"]");
}

static int
write_text_point(struct buf *b, int64_t t, double v)
{
	int rc = pq_format_float(b, v, 'f', -1);

	if (rc == 0)
		rc = buf_adds(b, " @[");
	if (rc == 0)
		rc = write_time(b, t, false);
	return rc != 0 ? rc : buf_adds(b, "]\n");
}

int
pq_value_write(struct buf *b, const struct pq_value *v, int64_t t, bool json)
{
	int rc = 0;

	switch (v->type) {
	case PQ_TYPE_SCALAR:
		if (json) {
			rc = buf_adds(b, "{\"resultType\":\"scalar\",\"result\":");
			if (rc == 0)
				rc = write_json_point(b, t, v->scalar);
			return rc != 0 ? rc : buf_adds(b, "}");
		}
		rc = buf_adds(b, "scalar: ");
		return rc != 0 ? rc : write_text_point(b, t, v->scalar);
	case PQ_TYPE_STRING:
		if (json) {
			rc = buf_adds(b, "{\"resultType\":\"string\",\"result\":[");
			if (rc == 0)
				rc = write_time(b, t, true);
			if (rc == 0)
				rc = buf_addc(b, ',');
			if (rc == 0)
				rc = buf_add_json(b, v->str.p, v->str.len);
			return rc != 0 ? rc : buf_adds(b, "]}");
		}
		rc = buf_add(b, v->str.p, v->str.len);
		return rc != 0 ? rc : buf_addc(b, '\n');
	case PQ_TYPE_VECTOR:
		if (json)
			rc = buf_adds(b, "{\"resultType\":\"vector\",\"result\":[");
		for (size_t i = 0; i < v->vec.n && rc == 0; i++) {
			if (json) {
				if (i > 0)
					rc = buf_addc(b, ',');
				if (rc == 0)
					rc = write_json_metric(b, v->vec.v[i].ls);
				if (rc == 0)
					rc = buf_adds(b, ",\"value\":");
				if (rc == 0)
					rc = write_json_point(b, t, v->vec.v[i].v);
				if (rc == 0)
					rc = buf_addc(b, '}');
				continue;
			}
			rc = pq_lset_format(b, v->vec.v[i].ls);
			if (rc == 0)
				rc = buf_adds(b, " => ");
			if (rc == 0)
				rc = write_text_point(b, t, v->vec.v[i].v);
		}
		return rc != 0 || !json ? rc : buf_adds(b, "]}");
	default:
		if (json)
			rc = buf_adds(b, "{\"resultType\":\"matrix\",\"result\":[");
		for (size_t i = 0; i < v->mat.n && rc == 0; i++) {
			const struct pq_series *s = &v->mat.s[i];
			struct pq_range_it it;
			int64_t pt;
			double pv;
			bool first = true;

			if (json) {
				if (i > 0)
					rc = buf_addc(b, ',');
				if (rc == 0)
					rc = write_json_metric(b, s->ls);
				if (rc == 0)
					rc = buf_adds(b, ",\"values\":[");
			} else {
				rc = pq_lset_format(b, s->ls);
				if (rc == 0)
					rc = buf_adds(b, " =>\n");
			}
			pq_range_it_init(&it, &s->rg);
			while (rc == 0 && pq_range_it_next(&it, &pt, &pv)) {
				if (json) {
					if (!first)
						rc = buf_addc(b, ',');
					if (rc == 0)
						rc = write_json_point(b, pt, pv);
				} else {
					rc = write_text_point(b, pt, pv);
				}
				first = false;
			}
			if (rc == 0 && json)
				rc = buf_adds(b, "]}");
		}
		return rc != 0 || !json ? rc : buf_adds(b, "]}");
	}
}
