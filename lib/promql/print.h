/*
 * print.h - the canonical text of a PromQL expression, as Prometheus 2.42's
 * String() methods write it: single spaces around binary operators,
 * "sum by (a) (x)", a selector's matchers sorted, durations normalised
 * ("90s" -> "1m30s"), numbers in Go's shortest form ("1e+06"), strings
 * double-quoted.  Parentheses are kept where they were written.
 *
 * Three departures, so that parsing the output always gives the same tree
 * back (pq_node_equal): group_left/group_right is kept after an empty
 * "ignoring ()"; an @ timestamp is written with more than three decimals
 * when three would not read back as the same millisecond; and +Inf before
 * '^' is written "Inf" ("+Inf ^ 2" would read as +(Inf ^ 2)).
 */
#ifndef PROMRUN_PROMQL_PRINT_H
#define PROMRUN_PROMQL_PRINT_H

#include "common/buf.h"
#include "promql/ast.h"

/* pq_print: append the canonical text of n to b.  Returns 0 or the buffer's error. */
int pq_print(struct buf *b, const struct pq_node *n);

/* pq_print_number: append v as Go's fmt %v writes a float64. */
int pq_print_number(struct buf *b, double v);

#endif
