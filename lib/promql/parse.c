/*
 * parse.c - recursive-descent PromQL parser and type checker (see parse.h).
 *
 * Prometheus uses a yacc grammar; this parser accepts the same language by
 * following its precedence table (or < and/unless < comparisons < +,- <
 * *,/,%,atan2 < ^ (right-associative) < offset, @, [ ]) and the way its
 * conflicts resolve: unary minus binds like '*' so "-a ^ b" is -(a ^ b);
 * offset, @ and ranges bind to the nearest operand; keywords such as "sum",
 * "by" or "offset" are metric names where no aggregation or modifier can
 * follow.  Semantic checks run in the order Prometheus runs them, so the
 * first error is the one promtool reports first.
 */
#define _POSIX_C_SOURCE 200809L
#include "promql/parse.h"
#include "promql/duration.h"
#include "promql/fail.h"
#include "promql/func.h"
#include "promql/quote.h"
#include "promql/regex.h"
#include "common/buf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct parser {
	struct pq_lexer lx;
	struct pq_token tok;	/* the lookahead */
	bool have_tok;
	size_t last_end;	/* end of the last token consumed */
	struct pq_arena *arena;
	const char *src;
	int depth;		/* of the node being parsed (ast.h) */
	int deepest;		/* the deepest node parsed so far */
	struct pq_fail f;	/* the first error */
};

/* --- errors --- */

#define fail_at(p, ...) pq_fail_at(&(p)->f, __VA_ARGS__)
#define fail_code(p, code, msg) pq_fail_code(&(p)->f, code, msg)

static void *
nomem(struct parser *p)
{
	return fail_code(p, PERR_NOMEM, "out of memory");
}

/* --- tokens --- */

static struct pq_token
peek(struct parser *p)
{
	if (!p->have_tok) {
		p->tok = pq_lex_next(&p->lx);
		p->have_tok = true;
	}
	return p->tok;
}

static struct pq_token
advance(struct parser *p)
{
	struct pq_token t = peek(p);

	p->have_tok = false;
	p->last_end = t.end;
	return t;
}

/* The token after the lookahead, without consuming either. */
static struct pq_token
peek2(struct parser *p)
{
	struct pq_lexer saved;
	struct pq_token next;

	peek(p);
	saved = p->lx;
	next = pq_lex_next(&p->lx);
	p->lx = saved;
	return next;
}

static int
tok_len(struct pq_token t)
{
	return (int)(t.end - t.start > 60 ? 60 : t.end - t.start);
}

/* "unexpected <what>[ in <context>][, expected <want>]", or the lexer's error. */
static void *
unexpected(struct parser *p, struct pq_token t, const char *context,
    const char *want)
{
	struct buf what = BUF_INIT(PQ_EXPR_MAX * 8);

	if (t.type == PQ_T_ERROR)
		return fail_at(p, p->lx.err_pos, "%s", p->lx.msg);
	if (pq_tok_desc(&what, p->src, t) != 0) {
		buf_free(&what);
		return fail_at(p, t.start, "unexpected token");
	}
	if (context == NULL)
		fail_at(p, t.start, "unexpected %s", buf_str(&what));
	else
		fail_at(p, t.start, "unexpected %s in %s, expected %s",
		    buf_str(&what), context, want);
	buf_free(&what);
	return NULL;
}

static bool
expect(struct parser *p, enum pq_tok type, const char *context,
    const char *want)
{
	struct pq_token t = peek(p);

	if (t.type != type) {
		unexpected(p, t, context, want);
		return false;
	}
	advance(p);
	return true;
}

/* --- nodes --- */

/* The type of a node of kind, when its kind alone decides it. */
static enum pq_type
kind_type(enum pq_kind kind)
{
	switch (kind) {
	case PQ_NUMBER:
		return PQ_TYPE_SCALAR;
	case PQ_STRING:
		return PQ_TYPE_STRING;
	case PQ_VECTOR_SELECTOR:
	case PQ_AGGREGATE:
		return PQ_TYPE_VECTOR;
	case PQ_MATRIX_SELECTOR:
	case PQ_SUBQUERY:
		return PQ_TYPE_MATRIX;
	default:
		return PQ_TYPE_NONE;	/* set when the operands are known */
	}
}

static struct pq_node *
new_node(struct parser *p, enum pq_kind kind, size_t start, size_t end)
{
	struct pq_node *n = pq_arena_alloc(p->arena, sizeof(*n));

	if (n == NULL)
		return nomem(p);
	n->kind = kind;
	n->type = kind_type(kind);
	n->start = start;
	n->end = end;
	return n;
}

static bool
copy_str(struct parser *p, struct pq_str *dst, const char *s, size_t len)
{
	if ((dst->p = pq_arena_strdup(p->arena, s, len)) == NULL) {
		nomem(p);
		return false;
	}
	dst->len = len;
	return true;
}

/* Grow an arena array of elem-sized items holding n to n + 1. */
static void *
grow(struct parser *p, void *old, size_t n, size_t elem)
{
	void *v;

	/* Capacities are powers of two; copy when n reaches one. */
	if (n != 0 && (n & (n - 1)) != 0)
		return old;
	if ((v = pq_arena_alloc(p->arena, elem * (n == 0 ? 1 : 2 * n))) == NULL)
		return nomem(p);
	if (n > 0)
		memcpy(v, old, elem * n);
	return v;
}

/* --- literals --- */

static bool
all_in(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (strchr(set, s[i]) == NULL || s[i] == '\0')
			return false;
	return true;
}

/* Go's strconv.ParseInt(s, 0, 64) for the forms the lexer produces. */
static bool
parse_int(const char *s, size_t n, double *out)
{
	unsigned long long v = 0, base = 10, d;
	size_t i = 0;

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
		if (n == 2 || !all_in(s + 2, n - 2, "0123456789abcdefABCDEF"))
			return false;
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		i = 1;
		if (!all_in(s + 1, n - 1, "01234567"))
			return false;
	} else if (n == 0 || !all_in(s, n, "0123456789")) {
		return false;
	}
	for (; i < n; i++) {
		d = (unsigned long long)(s[i] <= '9' ? s[i] - '0' :
		    (s[i] | 0x20) - 'a' + 10);
		if (v > (9223372036854775807ULL - d) / base)
			return false;	/* out of int64's range */
		v = v * base + d;
	}
	*out = (double)(long long)v;
	return true;
}

/* Go's ParseInt, then ParseFloat (decimal only: hex floats need 'p'). */
static bool
parse_number(struct parser *p, struct pq_token t, double *out)
{
	const char *s = p->src + t.start;
	size_t n = t.end - t.start;
	char tmp[400], *end;

	if (n == 3 && strncasecmp(s, "inf", 3) == 0) {
		*out = INFINITY;
		return true;
	}
	if (n == 3 && strncasecmp(s, "nan", 3) == 0) {
		*out = NAN;
		return true;
	}
	if (parse_int(s, n, out))
		return true;
	if (n >= sizeof(tmp) || (n >= 2 && s[0] == '0' &&
	    (s[1] == 'x' || s[1] == 'X')))
		goto syntax;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	*out = strtod(tmp, &end);
	if (end != tmp + n || n == 0)
		goto syntax;
	if (isinf(*out)) {
		fail_at(p, t.start, "error parsing number: strconv.ParseFloat: "
		    "parsing \"%.*s\": value out of range", tok_len(t), s);
		return false;
	}
	return true;
syntax:
	fail_at(p, t.start, "error parsing number: strconv.ParseFloat: "
	    "parsing \"%.*s\": invalid syntax", tok_len(t), s);
	return false;
}

static bool
unquote_token(struct parser *p, struct pq_token t, struct pq_str *out)
{
	struct buf b = BUF_INIT(PQ_EXPR_MAX);
	const char *s = p->src + t.start;
	size_t n = t.end - t.start;
	int rc;

	/* Most strings hold no escape: copy what is between the quotes. */
	if (n >= 2 && (s[0] == '`' || memchr(s + 1, '\\', n - 2) == NULL))
		return copy_str(p, out, s + 1, n - 2);
	rc = pq_unquote(p->src + t.start, t.end - t.start, true, &b);
	if (rc == 0)
		rc = buf_add(&b, "", 0);	/* a buffer for "" too */
	if (rc != 0) {
		buf_free(&b);
		if (rc == PERR_NOMEM)
			return nomem(p), false;
		fail_at(p, t.start, "error unquoting string \"%.*s\": invalid "
		    "syntax", tok_len(t), p->src + t.start);
		return false;
	}
	rc = copy_str(p, out, b.p, b.len);
	buf_free(&b);
	return rc;
}

static bool
parse_duration(struct parser *p, struct pq_token t, int64_t *ms)
{
	struct perr e;

	if (pq_duration_parse(p->src + t.start, t.end - t.start, ms, &e) != 0) {
		fail_at(p, t.start, "%s", e.msg);
		return false;
	}
	if (*ms == 0) {
		fail_at(p, t.start, "duration must be greater than 0");
		return false;
	}
	return true;
}

/* --- selectors --- */

static bool
add_matcher(struct parser *p, struct pq_node *vs, size_t pos,
    struct pq_str name, enum pq_match op, struct pq_str value)
{
	struct pq_matcher *m;
	struct perr e;
	bool empty;

	if ((vs->matchers = grow(p, vs->matchers, vs->nmatchers,
	    sizeof(*m))) == NULL)
		return false;
	m = &vs->matchers[vs->nmatchers++];
	m->name = name;
	m->op = op;
	m->value = value;
	m->pos = pos;
	switch (op) {
	case PQ_MATCH_EQ:
		m->matches_empty = value.len == 0;
		break;
	case PQ_MATCH_NEQ:
		m->matches_empty = value.len != 0;
		break;
	case PQ_MATCH_RE:
	case PQ_MATCH_NRE:
		if (pq_regex_check(value.p, value.len, &empty, &e) != 0) {
			fail_at(p, pos, "%s", e.msg);
			return false;
		}
		m->matches_empty = op == PQ_MATCH_RE ? empty : !empty;
		break;
	}
	return true;
}

static enum pq_match
match_op(enum pq_tok t)
{
	switch (t) {
	case PQ_T_NEQ:
		return PQ_MATCH_NEQ;
	case PQ_T_EQL_REGEX:
		return PQ_MATCH_RE;
	case PQ_T_NEQ_REGEX:
		return PQ_MATCH_NRE;
	default:
		return PQ_MATCH_EQ;
	}
}

/* One "name op value" inside braces. */
static bool
parse_matcher(struct parser *p, struct pq_node *vs)
{
	struct pq_token name, op, value;
	struct pq_str n, v;

	name = peek(p);
	if (name.type != PQ_T_IDENT)
		return unexpected(p, name, "label matching",
		    "identifier or \"}\""), false;
	advance(p);
	op = peek(p);
	if (op.type != PQ_T_EQL && op.type != PQ_T_NEQ &&
	    op.type != PQ_T_EQL_REGEX && op.type != PQ_T_NEQ_REGEX)
		return unexpected(p, op, "label matching",
		    "label matching operator"), false;
	advance(p);
	value = peek(p);
	if (value.type != PQ_T_STRING)
		return unexpected(p, value, "label matching", "string"), false;
	advance(p);
	if (!copy_str(p, &n, p->src + name.start, name.end - name.start) ||
	    !unquote_token(p, value, &v))
		return false;
	return add_matcher(p, vs, name.start, n, match_op(op.type), v);
}

/* "{ ... }" at the lookahead, into vs. */
static bool
parse_matchers(struct parser *p, struct pq_node *vs)
{
	struct pq_token t;

	advance(p);		/* '{' */
	for (;;) {
		t = peek(p);
		if (t.type == PQ_T_RBRACE)
			break;
		if (!parse_matcher(p, vs))
			return false;
		t = peek(p);
		if (t.type == PQ_T_COMMA) {
			advance(p);
			continue;
		}
		if (t.type != PQ_T_RBRACE)
			return unexpected(p, t, "label matching",
			    "\",\" or \"}\""), false;
	}
	vs->end = advance(p).end;
	return true;
}

/* A selector whose metric name token (or '{') is the lookahead. */
static struct pq_node *
parse_vector_selector(struct parser *p, bool named)
{
	struct pq_token t = peek(p);
	struct pq_node *vs;
	struct pq_str name = {"", 0}, mname, value;

	if ((vs = new_node(p, PQ_VECTOR_SELECTOR, t.start, t.end)) == NULL)
		return NULL;
	if (named) {
		advance(p);
		if (!copy_str(p, &name, p->src + t.start, t.end - t.start))
			return NULL;
	}
	vs->name = name;
	if (peek(p).type == PQ_T_LBRACE && !parse_matchers(p, vs))
		return NULL;
	if (named) {
		mname.p = "__name__";
		mname.len = 8;
		value = name;
		if (!add_matcher(p, vs, t.start, mname, PQ_MATCH_EQ, value))
			return NULL;
	}
	return vs;
}

/* --- label lists --- */

/*
 * Tokens that may name a label in by/without/on/ignoring/group_x: every
 * word but "without" (Prometheus 2.42's maybe_label lacks it) and the
 * numbers inf and nan.
 */
static bool
label_token(enum pq_tok t)
{
	return t == PQ_T_IDENT || pq_tok_is_aggregator(t) ||
	    (pq_tok_is_keyword(t) && t != PQ_T_WITHOUT) || t == PQ_T_LAND ||
	    t == PQ_T_LOR || t == PQ_T_LUNLESS || t == PQ_T_ATAN2;
}

static bool
parse_labels(struct parser *p, struct pq_labels *out)
{
	struct pq_token t;
	struct pq_label *l;

	if (!expect(p, PQ_T_LPAREN, "grouping opts", "\"(\""))
		return false;
	for (;;) {
		t = peek(p);
		if (t.type == PQ_T_RPAREN)
			break;
		if (!label_token(t.type))
			return unexpected(p, t, "grouping opts", "label"), false;
		advance(p);
		if ((out->v = grow(p, out->v, out->n, sizeof(*l))) == NULL)
			return false;
		l = &out->v[out->n++];
		l->pos = t.start;
		if (!copy_str(p, &l->name, p->src + t.start, t.end - t.start))
			return false;
		t = peek(p);
		if (t.type == PQ_T_COMMA) {
			advance(p);
			continue;
		}
		if (t.type != PQ_T_RPAREN)
			return unexpected(p, t, "grouping opts",
			    "\",\" or \")\""), false;
	}
	advance(p);
	return true;
}

/* --- expressions --- */

static struct pq_node *parse_expr(struct parser *p, int min_prec);

/* "( args )" of a call or aggregation; *end is the ')' end. */
static bool
parse_args(struct parser *p, struct pq_node ***args, size_t *nargs,
    size_t *end)
{
	struct pq_node *a;
	struct pq_token t;

	if (!expect(p, PQ_T_LPAREN, "function call", "\"(\""))
		return false;
	if (peek(p).type != PQ_T_RPAREN) {
		for (;;) {
			if ((a = parse_expr(p, 1)) == NULL)
				return false;
			if ((*args = grow(p, *args, *nargs, sizeof(a))) == NULL)
				return false;
			(*args)[(*nargs)++] = a;
			t = peek(p);
			if (t.type != PQ_T_COMMA)
				break;
			advance(p);
			if (peek(p).type == PQ_T_RPAREN)
				return fail_at(p, t.start, "trailing commas not "
				    "allowed in function call args"), false;
		}
	}
	t = peek(p);
	if (t.type != PQ_T_RPAREN)
		return unexpected(p, t, "function call", "\",\" or \")\""),
		    false;
	*end = advance(p).end;
	return true;
}

static struct pq_node *
parse_call(struct parser *p)
{
	struct pq_token name = advance(p);
	struct pq_node *n;

	if ((n = new_node(p, PQ_CALL, name.start, name.end)) == NULL)
		return NULL;
	/* Prometheus's grammar looks the name up once the call is read:
	   errors in its arguments come first. */
	if (!parse_args(p, &n->args, &n->nargs, &n->end))
		return NULL;
	n->func = pq_func_lookup(p->src + name.start, name.end - name.start);
	if (n->func == NULL)
		return fail_at(p, name.start, "unknown function with name "
		    "\"%.*s\"", tok_len(name), p->src + name.start);
	n->type = n->func->ret;
	return n;
}

static bool
aggregator_has_param(enum pq_tok op)
{
	return op == PQ_T_TOPK || op == PQ_T_BOTTOMK ||
	    op == PQ_T_COUNT_VALUES || op == PQ_T_QUANTILE;
}

static bool
parse_grouping(struct parser *p, struct pq_node *n)
{
	n->without = advance(p).type == PQ_T_WITHOUT;
	return parse_labels(p, &n->grouping);
}

static struct pq_node *
parse_aggregate(struct parser *p)
{
	struct pq_token op = advance(p);
	struct pq_node *n, **args = NULL;
	size_t nargs = 0, want;
	bool grouped = false;

	if ((n = new_node(p, PQ_AGGREGATE, op.start, op.end)) == NULL)
		return NULL;
	n->op = op.type;
	n->op_pos = op.start;
	if (peek(p).type == PQ_T_BY || peek(p).type == PQ_T_WITHOUT) {
		if (!parse_grouping(p, n))
			return NULL;
		grouped = true;
	}
	if (peek(p).type != PQ_T_LPAREN)
		return unexpected(p, peek(p), "aggregation", "\"(\"");
	if (!parse_args(p, &args, &nargs, &n->end))
		return NULL;
	if (!grouped && (peek(p).type == PQ_T_BY ||
	    peek(p).type == PQ_T_WITHOUT)) {
		if (!parse_grouping(p, n))
			return NULL;
		n->end = p->last_end;
	}
	if (nargs == 0)
		return fail_at(p, n->start, "no arguments for aggregate "
		    "expression provided");
	want = aggregator_has_param(n->op) ? 2 : 1;
	if (nargs != want)
		return fail_at(p, n->start, "wrong number of arguments for "
		    "aggregate expression provided, expected %zu, got %zu",
		    want, nargs);
	n->param = want == 2 ? args[0] : NULL;
	n->expr = args[want - 1];
	return n;
}

/* Keywords that Prometheus takes as a metric name at an operand's place. */
static bool
metric_keyword(enum pq_tok t)
{
	return t == PQ_T_BY || t == PQ_T_WITHOUT || t == PQ_T_LAND ||
	    t == PQ_T_LOR || t == PQ_T_LUNLESS || t == PQ_T_OFFSET ||
	    t == PQ_T_START || t == PQ_T_END;
}

static struct pq_node *
parse_paren(struct parser *p)
{
	struct pq_token open = advance(p);
	struct pq_node *n, *inner;
	struct pq_token t;

	if ((inner = parse_expr(p, 1)) == NULL)
		return NULL;
	t = peek(p);
	if (t.type != PQ_T_RPAREN)
		return unexpected(p, t, "paren expression", "\")\"");
	advance(p);
	if ((n = new_node(p, PQ_PAREN, open.start, t.end)) == NULL)
		return NULL;
	n->expr = inner;
	n->type = inner->type;
	return n;
}

static struct pq_node *
parse_primary(struct parser *p)
{
	struct pq_token t = peek(p), next;
	struct pq_node *n;

	switch (t.type) {
	case PQ_T_NUMBER:
		advance(p);
		if ((n = new_node(p, PQ_NUMBER, t.start, t.end)) == NULL ||
		    !parse_number(p, t, &n->num))
			return NULL;
		return n;
	case PQ_T_STRING:
		advance(p);
		if ((n = new_node(p, PQ_STRING, t.start, t.end)) == NULL ||
		    !unquote_token(p, t, &n->str))
			return NULL;
		return n;
	case PQ_T_LPAREN:
		return parse_paren(p);
	case PQ_T_LBRACE:
		return parse_vector_selector(p, false);
	case PQ_T_IDENT:
		if (peek2(p).type == PQ_T_LPAREN)
			return parse_call(p);
		return parse_vector_selector(p, true);
	case PQ_T_METRIC_IDENT:
		return parse_vector_selector(p, true);
	default:
		break;
	}
	if (pq_tok_is_aggregator(t.type)) {
		next = peek2(p);
		if (next.type == PQ_T_LPAREN || next.type == PQ_T_BY ||
		    next.type == PQ_T_WITHOUT)
			return parse_aggregate(p);
		return parse_vector_selector(p, true);
	}
	if (metric_keyword(t.type))
		return parse_vector_selector(p, true);
	return unexpected(p, t, NULL, NULL);
}

/* --- modifiers: [range], [range:step], offset, @ --- */

static struct pq_node *
range_or_subquery(struct parser *p, struct pq_node *e)
{
	struct pq_token open = advance(p), t;
	struct pq_node *n;
	int64_t range, step = 0;

	t = peek(p);
	if (t.type != PQ_T_DURATION)
		return unexpected(p, t, "subquery selector", "duration");
	advance(p);
	if (!parse_duration(p, t, &range))
		return NULL;
	t = advance(p);
	if (t.type == PQ_T_RBRACKET) {
		const char *msg = NULL;

		if (e->kind != PQ_VECTOR_SELECTOR)
			msg = "ranges only allowed for vector selectors";
		else if (e->offset_ms != 0)
			msg = "no offset modifiers allowed before range";
		else if (e->at != PQ_AT_NONE)
			msg = "no @ modifiers allowed before range";
		if (msg != NULL)
			return fail_at(p, open.start, "%s", msg);
		if ((n = new_node(p, PQ_MATRIX_SELECTOR, e->start, t.end))
		    == NULL)
			return NULL;
		n->expr = e;
		n->range_ms = range;
		return n;
	}
	if (t.type != PQ_T_COLON)
		return unexpected(p, t, "subquery or range", "\":\" or \"]\"");
	t = advance(p);
	if (t.type == PQ_T_DURATION) {
		if (!parse_duration(p, t, &step))
			return NULL;
		t = advance(p);
		if (t.type != PQ_T_RBRACKET)
			return unexpected(p, t, "subquery selector", "\"]\"");
	} else if (t.type != PQ_T_RBRACKET) {
		return unexpected(p, t, "subquery selector",
		    "duration or \"]\"");
	}
	if ((n = new_node(p, PQ_SUBQUERY, e->start, t.end)) == NULL)
		return NULL;
	n->expr = e;
	n->range_ms = range;
	n->step_ms = step;
	return n;
}

/* The node that carries offset and @ for e, or NULL with the error set. */
static struct pq_node *
modifier_target(struct parser *p, struct pq_node *e, const char *what)
{
	switch (e->kind) {
	case PQ_VECTOR_SELECTOR:
	case PQ_SUBQUERY:
		return e;
	case PQ_MATRIX_SELECTOR:
		return e->expr;
	default:
		return fail_at(p, e->start, "%s must be preceded by an instant "
		    "vector selector or range vector selector or a subquery",
		    what);
	}
}

static struct pq_node *
parse_offset(struct parser *p, struct pq_node *e)
{
	struct pq_node *target;
	struct pq_token t;
	bool negative = false;
	int64_t ms;

	advance(p);
	t = peek(p);
	if (t.type == PQ_T_SUB) {
		negative = true;
		advance(p);
		t = peek(p);
	}
	if (t.type != PQ_T_DURATION)
		return unexpected(p, t, "offset", "duration");
	advance(p);
	if (!parse_duration(p, t, &ms))
		return NULL;
	if ((target = modifier_target(p, e, "offset modifier")) == NULL)
		return NULL;
	if (target->offset_ms != 0)
		return fail_at(p, e->start, "offset may not be set multiple "
		    "times");
	target->offset_ms = negative ? -ms : ms;
	e->end = t.end;
	return e;
}

/* Go's int64(math.Round(ts * 1000)) on amd64: out of range gives MinInt64. */
static int64_t
seconds_to_ms(double ts)
{
	double v = round(ts * 1000);

	if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0))
		return INT64_MIN;
	return (int64_t)v;
}

static struct pq_node *
parse_at(struct parser *p, struct pq_node *e)
{
	struct pq_node *target;
	struct pq_token t;
	enum pq_at at = PQ_AT_TIME;
	double ts = 0;
	int sign = 1;

	advance(p);
	t = peek(p);
	if (t.type == PQ_T_START || t.type == PQ_T_END) {
		advance(p);
		at = t.type == PQ_T_START ? PQ_AT_START : PQ_AT_END;
		if (!expect(p, PQ_T_LPAREN, "@", "\"(\""))
			return NULL;
		t = peek(p);
		if (!expect(p, PQ_T_RPAREN, "@", "\")\""))
			return NULL;
	} else {
		if (t.type == PQ_T_ADD || t.type == PQ_T_SUB) {
			sign = t.type == PQ_T_SUB ? -1 : 1;
			advance(p);
			t = peek(p);
		}
		if (t.type != PQ_T_NUMBER)
			return unexpected(p, t, "@", "timestamp");
		advance(p);
		if (!parse_number(p, t, &ts))
			return NULL;
		ts *= sign;
		if (isinf(ts) || isnan(ts) || ts >= 9223372036854775807.0 ||
		    ts <= -9223372036854775808.0)
			return fail_at(p, e->start, "timestamp out of bounds for "
			    "@ modifier: %f", ts);
	}
	if ((target = modifier_target(p, e, "@ modifier")) == NULL)
		return NULL;
	if (target->at != PQ_AT_NONE)
		return fail_at(p, e->start, "@ <timestamp> may not be set "
		    "multiple times");
	target->at = at;
	if (at == PQ_AT_TIME)
		target->at_ms = seconds_to_ms(ts);
	e->end = t.end;
	return e;
}

/*
 * The modifiers after e.  A range or subquery puts e, and all below it,
 * one level deeper: p->deepest is the deepest level of e (parse_unary
 * measures it), and outer the deepest one reached before e.
 */
static struct pq_node *
parse_postfix(struct parser *p, struct pq_node *e, int outer)
{
	while (e != NULL) {
		switch (peek(p).type) {
		case PQ_T_LBRACKET:
			if (++p->deepest > PQ_DEPTH_MAX)
				return pq_fail_depth(&p->f, peek(p).start,
				    "expression");
			e = range_or_subquery(p, e);
			break;
		case PQ_T_OFFSET:
			e = parse_offset(p, e);
			break;
		case PQ_T_AT:
			e = parse_at(p, e);
			break;
		default:
			if (p->deepest < outer)
				p->deepest = outer;
			return e;
		}
	}
	return NULL;
}

static int
precedence(enum pq_tok t)
{
	switch (t) {
	case PQ_T_LOR:
		return 1;
	case PQ_T_LAND: case PQ_T_LUNLESS:
		return 2;
	case PQ_T_EQLC: case PQ_T_NEQ: case PQ_T_LSS: case PQ_T_LTE:
	case PQ_T_GTR: case PQ_T_GTE:
		return 3;
	case PQ_T_ADD: case PQ_T_SUB:
		return 4;
	case PQ_T_MUL: case PQ_T_DIV: case PQ_T_MOD: case PQ_T_ATAN2:
		return 5;
	case PQ_T_POW:
		return 6;
	default:
		return 0;
	}
}

#define PREC_MUL 5
#define PREC_POW 6

static struct pq_node *
parse_unary(struct parser *p)
{
	struct pq_token op = peek(p);
	struct pq_node *operand, *n;
	int outer = p->deepest;

	if (op.type != PQ_T_ADD && op.type != PQ_T_SUB) {
		/* Measure how deep the operand goes, for ranges and subqueries. */
		p->deepest = p->depth;
		return parse_postfix(p, parse_primary(p), outer);
	}
	advance(p);
	/* Unary binds like '*': only '^' (and the modifiers) bind tighter. */
	if ((operand = parse_expr(p, PREC_POW)) == NULL)
		return NULL;
	if (operand->kind == PQ_NUMBER) {
		/* Prometheus folds the sign into a number literal. */
		if (op.type == PQ_T_SUB)
			operand->num = -operand->num;
		operand->start = op.start;
		return operand;
	}
	if ((n = new_node(p, PQ_UNARY, op.start, operand->end)) == NULL)
		return NULL;
	n->op = op.type;
	n->op_pos = op.start;
	n->expr = operand;
	n->type = operand->type;
	return n;
}

/* bool, on/ignoring (labels), group_left/group_right [(labels)]. */
static bool
parse_bin_modifiers(struct parser *p, struct pq_node *n)
{
	enum pq_tok t = peek(p).type;

	n->has_matching = true;
	n->card = PQ_CARD_ONE_TO_ONE;
	if (t == PQ_T_BOOL) {
		advance(p);
		n->return_bool = true;
		t = peek(p).type;
	}
	if (t != PQ_T_ON && t != PQ_T_IGNORING)
		return true;
	advance(p);
	n->on = t == PQ_T_ON;
	if (!parse_labels(p, &n->matching))
		return false;
	t = peek(p).type;
	if (t != PQ_T_GROUP_LEFT && t != PQ_T_GROUP_RIGHT)
		return true;
	advance(p);
	n->card = t == PQ_T_GROUP_LEFT ? PQ_CARD_MANY_TO_ONE :
	    PQ_CARD_ONE_TO_MANY;
	if (peek(p).type == PQ_T_LPAREN)
		return parse_labels(p, &n->include);
	return true;
}

static struct pq_node *
parse_expr(struct parser *p, int min_prec)
{
	struct pq_node *lhs, *n;
	struct pq_token op;
	int prec;

	/* Every node of this chain is as deep as its first (ast.h). */
	if (++p->depth > PQ_DEPTH_MAX)
		return pq_fail_depth(&p->f, peek(p).start, "expression");
	if (p->deepest < p->depth)
		p->deepest = p->depth;
	if ((lhs = parse_unary(p)) == NULL)
		return NULL;
	for (;;) {
		op = peek(p);
		prec = precedence(op.type);
		if (prec == 0 || prec < min_prec)
			break;
		advance(p);
		if ((n = new_node(p, PQ_BINARY, lhs->start, lhs->end)) == NULL)
			return NULL;
		n->op = op.type;
		n->op_pos = op.start;
		n->lhs = lhs;
		if (!parse_bin_modifiers(p, n))
			return NULL;
		/* '^' is right-associative, the others left. */
		n->rhs = parse_expr(p, op.type == PQ_T_POW ? prec : prec + 1);
		if (n->rhs == NULL)
			return NULL;
		n->end = n->rhs->end;
		n->type = lhs->type == PQ_TYPE_SCALAR &&
		    n->rhs->type == PQ_TYPE_SCALAR ? PQ_TYPE_SCALAR :
		    PQ_TYPE_VECTOR;
		lhs->up = n;
		lhs = n;
	}
	p->depth--;
	return lhs;
}

/* --- the type checker (Prometheus's checkAST) --- */

static enum pq_type check(struct parser *p, struct pq_node *n);

/* fname, when not NULL, makes the context "call to function \"fname\"". */
static bool
expect_type(struct parser *p, struct pq_node *n, enum pq_type want,
    const char *context, const char *fname)
{
	enum pq_type t = check(p, n);

	if (p->f.failed)
		return false;
	if (t != want) {
		if (fname != NULL)
			fail_at(p, n->start, "expected type %s in call to "
			    "function \"%s\", got %s", pq_type_name(want), fname,
			    pq_type_name(t));
		else
			fail_at(p, n->start, "expected type %s in %s, got %s",
			    pq_type_name(want), context, pq_type_name(t));
		return false;
	}
	return true;
}

static bool
is_comparison(enum pq_tok op)
{
	return op >= PQ_T_EQLC && op <= PQ_T_GTE;
}

static bool
is_set_op(enum pq_tok op)
{
	return op == PQ_T_LAND || op == PQ_T_LOR || op == PQ_T_LUNLESS;
}

/* The checks of binary node n itself, its operands being of types lt, rt. */
static void
check_binary(struct parser *p, struct pq_node *n, enum pq_type lt,
    enum pq_type rt)
{
	size_t i, j;

	if (n->return_bool && !is_comparison(n->op)) {
		fail_at(p, n->op_pos, "bool modifier can only be used on "
		    "comparison operators");
		return;
	}
	if (is_comparison(n->op) && !n->return_bool &&
	    lt == PQ_TYPE_SCALAR && rt == PQ_TYPE_SCALAR) {
		fail_at(p, n->op_pos, "comparisons between scalars must use "
		    "BOOL modifier");
		return;
	}
	if (is_set_op(n->op) && n->card == PQ_CARD_ONE_TO_ONE)
		n->card = PQ_CARD_MANY_TO_MANY;
	for (i = 0; n->on && i < n->matching.n; i++)
		for (j = 0; j < n->include.n; j++)
			if (pq_str_eq(n->matching.v[i].name,
			    n->include.v[j].name.p)) {
				fail_at(p, n->op_pos, "label \"%s\" must not "
				    "occur in ON and GROUP clause at once",
				    n->include.v[j].name.p);
				return;
			}
	if (lt != PQ_TYPE_SCALAR && lt != PQ_TYPE_VECTOR) {
		fail_at(p, n->lhs->start, "binary expression must contain only "
		    "scalar and instant vector types");
		return;
	}
	if (rt != PQ_TYPE_SCALAR && rt != PQ_TYPE_VECTOR) {
		fail_at(p, n->rhs->start, "binary expression must contain only "
		    "scalar and instant vector types");
		return;
	}
	if (lt != PQ_TYPE_VECTOR || rt != PQ_TYPE_VECTOR) {
		if (n->matching.n > 0) {
			fail_at(p, n->start, "vector matching only allowed "
			    "between instant vectors");
			return;
		}
		n->has_matching = false;
		n->on = false;
		n->card = PQ_CARD_ONE_TO_ONE;
		n->include.n = 0;
	} else if (is_set_op(n->op) && (n->card == PQ_CARD_ONE_TO_MANY ||
	    n->card == PQ_CARD_MANY_TO_ONE)) {
		fail_at(p, n->start, "no grouping allowed for \"%s\" operation",
		    pq_tok_text(n->op));
		return;
	}
	if ((lt == PQ_TYPE_SCALAR || rt == PQ_TYPE_SCALAR) && is_set_op(n->op))
		fail_at(p, n->start, "set operator \"%s\" not allowed in binary "
		    "scalar expression", pq_tok_text(n->op));
}

/*
 * The chain of binary nodes that n ends (ast.h), in the order of
 * Prometheus's checkAST (a node's lhs, its rhs, then the node), with a
 * loop: a chain may be as long as the text.
 */
static void
check_chain(struct parser *p, struct pq_node *n)
{
	struct pq_node *b = n;

	while (b->kind == PQ_BINARY)
		b = b->lhs;
	check(p, b);
	while (b != n && !p->f.failed) {
		b = b->up;
		check(p, b->rhs);
		if (!p->f.failed)
			check_binary(p, b, b->lhs->type, b->rhs->type);
	}
}

static void
check_call(struct parser *p, struct pq_node *n)
{
	const struct pq_func *f = n->func;
	size_t na = (size_t)f->nargs, i, k;

	if (f->variadic == 0) {
		if (na != n->nargs) {
			fail_at(p, n->start, "expected %zu argument(s) in call "
			    "to \"%s\", got %zu", na, f->name, n->nargs);
			return;
		}
	} else if (na - 1 > n->nargs) {
		fail_at(p, n->start, "expected at least %zu argument(s) in "
		    "call to \"%s\", got %zu", na - 1, f->name, n->nargs);
		return;
	} else if (f->variadic > 0 && na - 1 + (size_t)f->variadic <
	    n->nargs) {
		fail_at(p, n->start, "expected at most %zu argument(s) in "
		    "call to \"%s\", got %zu", na - 1 + (size_t)f->variadic,
		    f->name, n->nargs);
		return;
	}
	for (i = 0; i < n->nargs; i++) {
		k = i < na ? i : na - 1;
		if (!expect_type(p, n->args[i], f->args[k], NULL, f->name))
			return;
	}
}

static void
check_selector(struct parser *p, struct pq_node *n)
{
	size_t i;

	if (n->name.len > 0) {
		for (i = 0; i + 1 < n->nmatchers; i++)
			if (pq_str_eq(n->matchers[i].name, "__name__")) {
				fail_at(p, n->start, "metric name must not be "
				    "set twice: \"%s\" or \"%s\"", n->name.p,
				    n->matchers[i].value.p);
				return;
			}
		return;
	}
	for (i = 0; i < n->nmatchers; i++)
		if (!n->matchers[i].matches_empty)
			return;
	fail_at(p, n->start, "vector selector must contain at least one "
	    "non-empty matcher");
}

/* ValueType's own String(), which this one message uses. */
static const char *
value_type_string(enum pq_type t)
{
	switch (t) {
	case PQ_TYPE_SCALAR: return "scalar";
	case PQ_TYPE_VECTOR: return "vector";
	case PQ_TYPE_MATRIX: return "matrix";
	case PQ_TYPE_STRING: return "string";
	default: return "none";
	}
}

static enum pq_type
check(struct parser *p, struct pq_node *n)
{
	enum pq_type t = pq_node_type(n);

	if (p->f.failed)
		return t;
	switch (n->kind) {
	case PQ_AGGREGATE:
		if (!expect_type(p, n->expr, PQ_TYPE_VECTOR,
		    "aggregation expression", NULL))
			break;
		if (n->op == PQ_T_TOPK || n->op == PQ_T_BOTTOMK ||
		    n->op == PQ_T_QUANTILE)
			expect_type(p, n->param, PQ_TYPE_SCALAR,
			    "aggregation parameter", NULL);
		else if (n->op == PQ_T_COUNT_VALUES)
			expect_type(p, n->param, PQ_TYPE_STRING,
			    "aggregation parameter", NULL);
		break;
	case PQ_BINARY:
		check_chain(p, n);
		break;
	case PQ_CALL:
		check_call(p, n);
		break;
	case PQ_PAREN:
	case PQ_MATRIX_SELECTOR:
		check(p, n->expr);
		break;
	case PQ_UNARY: {
		enum pq_type u = check(p, n->expr);

		if (!p->f.failed && u != PQ_TYPE_SCALAR && u != PQ_TYPE_VECTOR)
			fail_at(p, n->start, "unary expression only allowed on "
			    "expressions of type scalar or instant vector, got "
			    "\"%s\"", pq_type_name(u));
		break;
	}
	case PQ_SUBQUERY: {
		enum pq_type s = check(p, n->expr);

		if (!p->f.failed && s != PQ_TYPE_VECTOR)
			fail_at(p, n->start, "subquery is only allowed on instant "
			    "vector, got %s instead", value_type_string(s));
		break;
	}
	case PQ_VECTOR_SELECTOR:
		check_selector(p, n);
		break;
	case PQ_NUMBER:
	case PQ_STRING:
		break;
	}
	return t;
}

int
pq_parse_into(struct pq_arena *a, const char *src, size_t len,
    struct pq_node **root, size_t *err_pos, struct perr *e)
{
	struct parser p;
	struct pq_token t;

	*root = NULL;
	*err_pos = 0;
	if (len > PQ_EXPR_MAX)
		return perr_set(e, PERR_LIMIT, "expression longer than %d bytes",
		    PQ_EXPR_MAX);
	memset(&p, 0, sizeof(p));
	pq_lex_init(&p.lx, src, len);
	p.arena = a;
	p.src = src;
	p.f.e = e;
	if (peek(&p).type == PQ_T_EOF)
		fail_at(&p, 0, "no expression found in input");
	else if ((*root = parse_expr(&p, 1)) != NULL) {
		t = peek(&p);
		if (t.type != PQ_T_EOF)
			unexpected(&p, t, NULL, NULL);
		else
			check(&p, *root);
	}
	if (p.f.failed) {
		*root = NULL;
		*err_pos = p.f.pos;
		return p.f.code;
	}
	return 0;
}

int
pq_parse(const char *src, size_t len, struct pq_expr **out, size_t *err_pos,
    struct perr *e)
{
	struct pq_expr *x;
	int rc;

	*out = NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	if ((rc = pq_parse_into(&x->arena, src, len, &x->root, err_pos, e))
	    != 0) {
		pq_expr_free(x);
		return rc;
	}
	*out = x;
	return 0;
}

void
pq_line_col(const char *src, size_t off, unsigned *line, unsigned *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && src[i] != '\0'; i++) {
		if (src[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}
