/*
 * fuzz-promql.c - libFuzzer target for the PromQL lexer and parser.
 *
 * Property: whatever the input, parsing neither crashes nor leaks, and an
 * expression that parses prints to text that parses back to the same tree
 * (pq_node_equal), whose printed form is the same text again.  A broken
 * property aborts, which libFuzzer reports with the input.
 *
 * An input that starts with SHAPE_MARK (shapes.h) stands for a deep or
 * long expression - a chain of 5,000 terms, 501 parentheses - which the
 * same property holds for (refused past PQ_DEPTH_MAX, never crashing).
 *
 * Built with clang -fsanitize=fuzzer by "make fuzz"; test/fuzz/replay.c
 * feeds the saved corpus to the same function under gcc in "make check".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "promql/parse.h"
#include "promql/print.h"
#include "shapes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
broken(const char *what, const char *a, const char *b)
{
	fprintf(stderr, "round trip broken: %s\n  first:  %s\n  second: %s\n",
	    what, a, b != NULL ? b : "");
	abort();
}

static int
check_text(const uint8_t *data, size_t size)
{
	struct buf once = BUF_INIT(16 * PQ_EXPR_MAX);
	struct buf twice = BUF_INIT(16 * PQ_EXPR_MAX);
	struct pq_expr *x, *y;
	struct perr e;
	size_t pos;

	if (pq_parse((const char *)data, size, &x, &pos, &e) != 0) {
		if (pos > size)
			broken("error position past the end", e.msg, NULL);
		return 0;
	}
	if (pq_print(&once, x->root) != 0)
		broken("cannot print", "", NULL);
	if (pq_parse(once.p, once.len, &y, &pos, &e) != 0)
		broken(e.msg, buf_str(&once), NULL);
	if (!pq_node_equal(x->root, y->root))
		broken("different tree", buf_str(&once), NULL);
	if (pq_print(&twice, y->root) != 0 || twice.len != once.len ||
	    memcmp(once.p, twice.p, once.len) != 0)
		broken("different text", buf_str(&once), buf_str(&twice));
	pq_expr_free(x);
	pq_expr_free(y);
	buf_free(&once);
	buf_free(&twice);
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
