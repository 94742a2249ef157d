/*
 * shapes.h - deep and long inputs from a few fuzz bytes, for the targets
 * that read PromQL, templates and YAML (fuzz-promql, fuzz-rules).
 *
 * libFuzzer's inputs are short (FUZZ_MAXLEN) and grow a level at a time,
 * so plain text never reaches 500 levels of nesting or a chain of 5,000
 * terms.  An input that starts with SHAPE_MARK is a recipe instead:
 *
 *   MARK KIND LAYERS (SHAPE ARG COUNT){LAYERS} ATOM...
 *
 * KIND picks the language (expression, template, YAML); each layer wraps
 * what the layers before it made (ATOM at first) in one shape, COUNT times
 * or COUNT terms long: chains of every binary operator, unary chains,
 * parentheses, function calls, aggregations, subqueries, right-nested
 * operands; nested if/range/with/block actions, parentheses, else-if and
 * pipeline chains; nested YAML sequences and mappings, flow and block, and
 * merges of aliases.  COUNT bytes from 200 up are sizes around the depth
 * bound (500) and long chains, so the boundaries are hit often.
 *
 * Text-only header: each target includes it once.
 */
#ifndef PROMRUN_FUZZ_SHAPES_H
#define PROMRUN_FUZZ_SHAPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"

#define SHAPE_MARK 0x01
#define SHAPE_TEXT_MAX (2 * 1024 * 1024)	/* past PQ_EXPR_MAX */
#define SHAPE_LAYERS_MAX 4

enum shape_kind { SHAPE_EXPR, SHAPE_TEMPLATE, SHAPE_YAML, SHAPE_KINDS };

static const size_t shape_sizes[] = {
	249, 250, 498, 499, 500, 501, 502, 999, 1000, 1001, 2048, 4096,
	5040, 8192, 16384,
};

static size_t
shape_count(uint8_t c)
{
	if (c < 200)
		return c;
	return shape_sizes[(c - 200) % (sizeof(shape_sizes) /
	    sizeof(shape_sizes[0]))];
}

static int
shape_repeat(struct buf *b, const char *s, size_t n)
{
	int rc = 0;

	while (rc == 0 && n-- > 0)
		rc = buf_adds(b, s);
	return rc;
}

static const char *const shape_ops[] = {
	"+", "-", "*", "/", "%", "^", "atan2", "== bool", "!= bool",
	"> bool", "< bool", ">= bool", "<= bool", ">", "<", "==", "and", "or",
	"unless", "+ on(job)", "* ignoring(a) group_left(b)", "/ on() group_right",
};

static const char *const shape_calls[] = {
	"abs(", "ceil(", "-(", "sum(", "max by (job) (", "topk(1, ",
	"quantile(0.5, ", "count_values(\"v\", ", "sum without (a) (",
	"label_replace(", "histogram_quantile(0.9, ", "absent(",
};

/* One layer of an expression: inner (the text so far) wrapped into out. */
static int
shape_expr(struct buf *out, const struct buf *inner, uint8_t shape,
    uint8_t arg, size_t n)
{
	const char *x = buf_str(inner);
	const char *op = shape_ops[arg % (sizeof(shape_ops) /
	    sizeof(shape_ops[0]))];
	const char *fn = shape_calls[arg % (sizeof(shape_calls) /
	    sizeof(shape_calls[0]))];
	size_t i;
	int rc = 0;

	switch (shape % 7) {
	case 0:		/* a flat chain: x op x op x ... */
		for (i = 0; rc == 0 && i < (n ? n : 1); i++)
			if ((i == 0 || (rc = buf_addf(out, " %s ", op)) == 0))
				rc = buf_adds(out, x);
		return rc;
	case 1:		/* unary chain */
		if ((rc = shape_repeat(out, arg & 1 ? "- " : "-", n)) != 0)
			return rc;
		return buf_adds(out, x);
	case 2:		/* parentheses */
		if ((rc = shape_repeat(out, "(", n)) != 0 ||
		    (rc = buf_adds(out, x)) != 0)
			return rc;
		return shape_repeat(out, ")", n);
	case 3:		/* calls and aggregations */
		if ((rc = shape_repeat(out, fn, n)) != 0 ||
		    (rc = buf_adds(out, x)) != 0)
			return rc;
		return shape_repeat(out, strcmp(fn, "label_replace(") == 0 ?
		    ", \"a\", \"$1\", \"b\", \"(.*)\")" : ")", n);
	case 4:		/* subqueries in calls */
		if ((rc = shape_repeat(out, "max_over_time((", n)) != 0 ||
		    (rc = buf_adds(out, x)) != 0)
			return rc;
		return shape_repeat(out, ")[5m:1m])", n);
	case 5:		/* right-nested: x op (x op (x ...)) */
		for (i = 0; rc == 0 && i < n; i++)
			rc = buf_addf(out, "%s %s (", x, op);
		if (rc == 0)
			rc = buf_adds(out, x);
		return rc == 0 ? shape_repeat(out, ")", n) : rc;
	default:	/* postfix subqueries and ranges */
		if ((rc = buf_adds(out, x)) != 0)
			return rc;
		return shape_repeat(out, arg & 1 ? "[1m:]" : "[1m]", n);
	}
}

/* One layer of a template. */
static int
shape_template(struct buf *out, const struct buf *inner, uint8_t shape,
    uint8_t arg, size_t n)
{
	const char *t = buf_str(inner);
	size_t i;
	int rc = 0;

	switch (shape % 6) {
	case 0:		/* nested if, range or with */
		if ((rc = shape_repeat(out, arg % 3 == 0 ? "{{if 1}}" :
		    arg % 3 == 1 ? "{{range $i, $x := .}}" : "{{with .}}",
		    n)) != 0 || (rc = buf_adds(out, t)) != 0)
			return rc;
		return shape_repeat(out, arg & 4 ? "{{else}}{{end}}" :
		    "{{end}}", n);
	case 1:		/* parentheses in a pipeline */
		if ((rc = buf_adds(out, "{{print ")) != 0 ||
		    (rc = shape_repeat(out, "(", n)) != 0 ||
		    (rc = buf_adds(out, arg & 1 ? "$labels.job" : "1")) != 0 ||
		    (rc = shape_repeat(out, ")", n)) != 0)
			return rc;
		return buf_addf(out, "}}%s", t);
	case 2:		/* an else-if chain */
		if ((rc = buf_adds(out, "{{if 1}}")) != 0)
			return rc;
		for (i = 0; rc == 0 && i < n; i++)
			rc = buf_addf(out, "{{else if %d}}%s", (int)(i & 1), t);
		return rc == 0 ? buf_adds(out, "{{end}}") : rc;
	case 3:		/* nested blocks, each its own name */
		for (i = 0; rc == 0 && i < n; i++)
			rc = buf_addf(out, "{{block \"b%zu\" .}}", i);
		if (rc == 0)
			rc = buf_adds(out, t);
		return rc == 0 ? shape_repeat(out, "{{end}}", n) : rc;
	case 4:		/* a long pipeline */
		if ((rc = buf_adds(out, "{{1")) != 0 ||
		    (rc = shape_repeat(out, " | print", n)) != 0)
			return rc;
		return buf_addf(out, "}}%s", t);
	default:	/* many actions side by side */
		for (i = 0; rc == 0 && i < (n ? n : 1); i++)
			rc = buf_adds(out, t);
		return rc;
	}
}

/* One layer of YAML (a flow or block node standing for inner). */
static int
shape_yaml(struct buf *out, const struct buf *inner, uint8_t shape,
    uint8_t arg, size_t n)
{
	const char *y = buf_str(inner);
	size_t i;
	int rc = 0;

	(void)arg;
	switch (shape % 5) {
	case 0:		/* flow sequences */
		if ((rc = shape_repeat(out, "[", n)) != 0 ||
		    (rc = buf_adds(out, y)) != 0)
			return rc;
		return shape_repeat(out, "]", n);
	case 1:		/* flow mappings */
		if ((rc = shape_repeat(out, "{a: ", n)) != 0 ||
		    (rc = buf_adds(out, y)) != 0)
			return rc;
		return shape_repeat(out, "}", n);
	case 2:		/* block sequences, one more indent a level (from 6:
			   deeper than a rule's labels) */
		n %= 1200;	/* the text grows with the square of n */
		for (i = 0; rc == 0 && i < n; i++)
			rc = buf_addf(out, "\n%*s-", (int)(6 + i), "");
		return rc == 0 ? buf_addf(out, " %s", y) : rc;
	case 3:		/* block mappings */
		n %= 1200;
		for (i = 0; rc == 0 && i < n; i++)
			rc = buf_addf(out, "\n%*sa:", (int)(6 + i), "");
		return rc == 0 ? buf_addf(out, " %s", y) : rc;
	default:	/* merges of aliases of aliases, 8 wide */
		n %= 24;	/* past 16, merges nest too deeply */
		if ((rc = buf_addf(out, "{m0: &m0 {a: %s}", y)) != 0)
			return rc;
		for (i = 1; rc == 0 && i <= n; i++)
			rc = buf_addf(out, ", m%zu: &m%zu {<<: [*m%zu, *m%zu, "
			    "*m%zu, *m%zu, *m%zu, *m%zu, *m%zu, *m%zu]}", i, i,
			    i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
			    i - 1);
		return rc == 0 ? buf_addf(out, ", <<: *m%zu}", n) : rc;
	}
}

/*
 * shape_build: when data is a recipe, the text it stands for into *out
 * (initialised here, SHAPE_TEXT_MAX at most; free with buf_free) and its
 * kind into *kind.  False for plain text, or a recipe too large to build.
 */
static bool
shape_build(const uint8_t *data, size_t size, enum shape_kind *kind,
    struct buf *out)
{
	struct buf cur = BUF_INIT(SHAPE_TEXT_MAX);
	const uint8_t *layer;
	size_t nlayers, i, atom;
	int rc = 0;

	buf_init(out, SHAPE_TEXT_MAX);
	if (size < 3 || data[0] != SHAPE_MARK)
		return false;
	*kind = (enum shape_kind)(data[1] % SHAPE_KINDS);
	nlayers = data[2] % SHAPE_LAYERS_MAX + 1;
	if (size < 3 + 3 * nlayers)
		return false;
	atom = 3 + 3 * nlayers;
	if (size > atom)
		rc = buf_add(&cur, data + atom, size - atom);
	else
		rc = buf_adds(&cur, *kind == SHAPE_EXPR ? "up" :
		    *kind == SHAPE_TEMPLATE ? "{{ $labels.job }}" : "x");
	for (i = 0; rc == 0 && i < nlayers; i++) {
		layer = data + 3 + 3 * i;
		buf_reset(out);
		rc = (*kind == SHAPE_EXPR ? shape_expr : *kind ==
		    SHAPE_TEMPLATE ? shape_template : shape_yaml)(out, &cur,
		    layer[0], layer[1], shape_count(layer[2]));
		if (rc == 0) {
			buf_reset(&cur);
			rc = buf_add(&cur, buf_str(out), out->len);
		}
	}
	buf_free(out);
	if (rc != 0) {
		buf_free(&cur);
		return false;
	}
	*out = cur;
	return true;
}

#endif
