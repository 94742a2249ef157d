/*
 * numfmt.h - numbers as Go reads and writes them, where Prometheus's
 * output or input depends on it: strconv.FormatFloat (test failures print
 * values with 'E', count_values names a value with 'f', the query API
 * writes 'f'), and strconv.ParseFloat (bucket bounds in "le", exp_samples).
 */
#ifndef PROMRUN_PROMQL_NUMFMT_H
#define PROMRUN_PROMQL_NUMFMT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/*
 * pq_format_float: append v as Go's strconv.FormatFloat(v, fmt, prec, 64):
 * fmt 'e', 'E', 'f', 'g' or 'G'; prec -1 for the fewest digits that read
 * back as v.  NaN, +Inf and -Inf are written so.  Returns buf.h's codes.
 */
int pq_format_float(struct buf *b, double v, char fmt, int prec);

/*
 * pq_parse_float: s[0..len) as Go's strconv.ParseFloat(s, 64): decimal or
 * hexadecimal (with a 'p' exponent) numbers with an optional sign, and
 * "Inf", "Infinity" (signed or not) and "NaN" in any case.  No blanks.
 * Returns false when s is no such number, or overflows (an error in Go);
 * an underflow is 0 or a denormal, as in Go.
 */
bool pq_parse_float(const char *s, size_t len, double *out);

#endif
