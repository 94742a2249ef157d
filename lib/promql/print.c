/* print.c - canonical text of PromQL trees (see print.h). */
#include "promql/print.h"
#include "promql/duration.h"
#include "promql/func.h"
#include "promql/numfmt.h"
#include "promql/quote.h"
#include "common/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRY(x) do { int rc_ = (x); if (rc_ != 0) return rc_; } while (0)

int
pq_print_number(struct buf *b, double v)
{
	/* Go's %v of a float64: 'g' with the shortest digits. */
	return pq_format_float(b, v, 'g', -1);
}

static int
print_labels(struct buf *b, const struct pq_labels *l)
{
	size_t i;

	TRY(buf_addc(b, '('));
	for (i = 0; i < l->n; i++) {
		if (i > 0)
			TRY(buf_adds(b, ", "));
		TRY(buf_add(b, l->v[i].name.p, l->v[i].name.len));
	}
	return buf_addc(b, ')');
}

static const char *const match_ops[] = {"=", "!=", "=~", "!~"};

static int
cmp_strings(const void *a, const void *b)
{
	const struct buf *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(buf_str(x), buf_str(y), n);

	return c != 0 ? c : x->len < y->len ? -1 : x->len > y->len;
}

/* The matchers, except the name's own, sorted as Prometheus sorts them. */
static int
print_matchers(struct buf *b, const struct pq_node *n)
{
	struct buf *s;
	size_t i, k = 0;
	int rc = 0;

	if ((s = calloc(n->nmatchers + 1, sizeof(*s))) == NULL)
		return PERR_NOMEM;
	for (i = 0; i < n->nmatchers && rc == 0; i++) {
		const struct pq_matcher *m = &n->matchers[i];

		if (m->op == PQ_MATCH_EQ && n->name.len > 0 &&
		    pq_str_eq(m->name, "__name__") &&
		    m->value.len == n->name.len &&
		    memcmp(m->value.p, n->name.p, n->name.len) == 0)
			continue;
		buf_init(&s[k], b->max);
		if ((rc = buf_add(&s[k], m->name.p, m->name.len)) == 0 &&
		    (rc = buf_adds(&s[k], match_ops[m->op])) == 0)
			rc = pq_quote(&s[k], m->value.p, m->value.len);
		k++;
	}
	if (rc == 0 && k > 0) {
		qsort(s, k, sizeof(*s), cmp_strings);
		rc = buf_addc(b, '{');
		for (i = 0; i < k && rc == 0; i++) {
			if (i > 0)
				rc = buf_addc(b, ',');
			if (rc == 0)
				rc = buf_add(b, buf_str(&s[i]), s[i].len);
		}
		if (rc == 0)
			rc = buf_addc(b, '}');
	}
	for (i = 0; i < k; i++)
		buf_free(&s[i]);
	free(s);
	return rc;
}

/* " @ 123.456": three decimals as Prometheus, more if three lose the value. */
static int
print_at_time(struct buf *b, int64_t ms)
{
	char tmp[64];
	int prec;
	double v;

	for (prec = 3; prec < 40; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*f", prec, (double)ms / 1000.0);
		v = round(strtod(tmp, NULL) * 1000);
		if (v >= -9223372036854775808.0 && v < 9223372036854775808.0 &&
		    (int64_t)v == ms)
			break;
	}
	return buf_addf(b, " @ %s", tmp);
}

static int
print_modifiers(struct buf *b, const struct pq_node *n)
{
	switch (n->at) {
	case PQ_AT_TIME:
		TRY(print_at_time(b, n->at_ms));
		break;
	case PQ_AT_START:
		TRY(buf_adds(b, " @ start()"));
		break;
	case PQ_AT_END:
		TRY(buf_adds(b, " @ end()"));
		break;
	case PQ_AT_NONE:
		break;
	}
	if (n->offset_ms > 0) {
		TRY(buf_adds(b, " offset "));
		TRY(pq_duration_format(b, n->offset_ms));
	} else if (n->offset_ms < 0) {
		TRY(buf_adds(b, " offset -"));
		TRY(pq_duration_format(b, -n->offset_ms));
	}
	return 0;
}

static int
print_selector(struct buf *b, const struct pq_node *n, bool modifiers)
{
	TRY(buf_add(b, n->name.p, n->name.len));
	TRY(print_matchers(b, n));
	return modifiers ? print_modifiers(b, n) : 0;
}

/* Binary node n's operator and modifiers, between spaces. */
static int
print_operator(struct buf *b, const struct pq_node *n)
{
	TRY(buf_addf(b, " %s", pq_tok_text(n->op)));
	if (n->return_bool)
		TRY(buf_adds(b, " bool"));
	if (n->has_matching && (n->matching.n > 0 || n->on ||
	    n->card == PQ_CARD_MANY_TO_ONE || n->card == PQ_CARD_ONE_TO_MANY)) {
		TRY(buf_adds(b, n->on ? " on " : " ignoring "));
		TRY(print_labels(b, &n->matching));
		if (n->card == PQ_CARD_MANY_TO_ONE ||
		    n->card == PQ_CARD_ONE_TO_MANY) {
			TRY(buf_adds(b, n->card == PQ_CARD_MANY_TO_ONE ?
			    " group_left " : " group_right "));
			TRY(print_labels(b, &n->include));
		}
	}
	return buf_addc(b, ' ');
}

/*
 * The chain of binary nodes that n ends (ast.h): its first operand, then
 * each node's operator and rhs, with a loop.
 */
static int
print_chain(struct buf *b, const struct pq_node *n)
{
	const struct pq_node *first = pq_chain_first(n), *x;

	/*
	 * "+Inf ^ 2" reads back as +(Inf ^ 2): '+' binds looser than '^'.
	 * Prometheus prints it so; we write "Inf ^ 2", the same tree.
	 */
	if (first->up->op == PQ_T_POW && first->kind == PQ_NUMBER &&
	    isinf(first->num) && first->num > 0)
		TRY(buf_adds(b, "Inf"));
	else
		TRY(pq_print(b, first));
	x = first;
	do {
		x = x->up;
		TRY(print_operator(b, x));
		TRY(pq_print(b, x->rhs));
	} while (x != n);
	return 0;
}

static int
print_aggregate(struct buf *b, const struct pq_node *n)
{
	TRY(buf_adds(b, pq_tok_text(n->op)));
	if (n->without || n->grouping.n > 0) {
		TRY(buf_adds(b, n->without ? " without " : " by "));
		TRY(print_labels(b, &n->grouping));
		TRY(buf_addc(b, ' '));
	}
	TRY(buf_addc(b, '('));
	if (n->param != NULL) {
		TRY(pq_print(b, n->param));
		TRY(buf_adds(b, ", "));
	}
	TRY(pq_print(b, n->expr));
	return buf_addc(b, ')');
}

int
pq_print(struct buf *b, const struct pq_node *n)
{
	size_t i;

	switch (n->kind) {
	case PQ_NUMBER:
		return pq_print_number(b, n->num);
	case PQ_STRING:
		return pq_quote(b, n->str.p, n->str.len);
	case PQ_VECTOR_SELECTOR:
		return print_selector(b, n, true);
	case PQ_MATRIX_SELECTOR:
		TRY(print_selector(b, n->expr, false));
		TRY(buf_addc(b, '['));
		TRY(pq_duration_format(b, n->range_ms));
		TRY(buf_addc(b, ']'));
		return print_modifiers(b, n->expr);
	case PQ_SUBQUERY:
		TRY(pq_print(b, n->expr));
		TRY(buf_addc(b, '['));
		TRY(pq_duration_format(b, n->range_ms));
		TRY(buf_addc(b, ':'));
		if (n->step_ms != 0)
			TRY(pq_duration_format(b, n->step_ms));
		TRY(buf_addc(b, ']'));
		return print_modifiers(b, n);
	case PQ_PAREN:
		TRY(buf_addc(b, '('));
		TRY(pq_print(b, n->expr));
		return buf_addc(b, ')');
	case PQ_UNARY:
		TRY(buf_adds(b, pq_tok_text(n->op)));
		return pq_print(b, n->expr);
	case PQ_BINARY:
		return print_chain(b, n);
	case PQ_CALL:
		TRY(buf_addf(b, "%s(", n->func->name));
		for (i = 0; i < n->nargs; i++) {
			if (i > 0)
				TRY(buf_adds(b, ", "));
			TRY(pq_print(b, n->args[i]));
		}
		return buf_addc(b, ')');
	case PQ_AGGREGATE:
		return print_aggregate(b, n);
	}
	return PERR_INVALID;
}
