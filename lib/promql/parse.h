/*
 * parse.h - parse and type-check a PromQL expression like Prometheus 2.42's
 * parser.ParseExpr, which is what promtool applies to every rule's expr.
 *
 * Accepted: everything Prometheus 2.42 accepts, and nothing else (the
 * differential tests in test/rules/ hold us to that), with two limits of
 * our own: PQ_EXPR_MAX bytes of text and PQ_DEPTH_MAX levels of nesting
 * (ast.h: a flat chain "a + b + c ..." counts one level, whatever its
 * length; each parenthesis, function call, aggregation, unary operator,
 * subquery and right operand of a binary operator one more).
 * The checks are Prometheus's: syntax, unknown functions, argument counts
 * and types, durations (> 0), regexes (Go syntax), number ranges, @ and
 * offset placement, "bool" and set-operator rules, vector matching, and a
 * selector that must not match everything.  The top-level expression may
 * have any type, as in rule files.
 */
#ifndef PROMRUN_PROMQL_PARSE_H
#define PROMRUN_PROMQL_PARSE_H

#include <stddef.h>

#include "common/err.h"
#include "promql/ast.h"

#define PQ_EXPR_MAX (1024 * 1024)

/*
 * pq_parse: parse src[0..len) (need not be NUL-terminated).  On success
 * returns 0 and *out, which the caller frees with pq_expr_free.  On error
 * returns PERR_INVALID with *out NULL, e->msg in Prometheus's words
 * ("unexpected end of input", "expected type range vector in call to
 * function \"rate\", got instant vector") and *err_pos the byte offset in
 * src where the problem is; PERR_LIMIT past the limits above (the text's
 * length at 0, the depth at the token that goes deeper, "expression nests
 * deeper than 500 levels"); PERR_NOMEM.
 */
int pq_parse(const char *src, size_t len, struct pq_expr **out,
    size_t *err_pos, struct perr *e);

/*
 * pq_parse_into: the same, with the tree allocated in the caller's arena
 * (freed with it; after an error the arena may hold unreachable pieces).
 * Sets *root on success.  For callers that keep many trees.
 */
int pq_parse_into(struct pq_arena *a, const char *src, size_t len,
    struct pq_node **root, size_t *err_pos, struct perr *e);

/*
 * pq_line_col: the line and column (1-based; columns count bytes, as
 * Prometheus's messages do) of byte offset off in the NUL-terminated src.
 */
void pq_line_col(const char *src, size_t off, unsigned *line, unsigned *col);

#endif
