/*
 * regex.h - Go's regular expression syntax (RE2, regexp/syntax with Perl
 * flags, as in Go 1.19 which built Debian's Prometheus 2.42), checked
 * without compiling a matcher.
 *
 * Prometheus compiles a label matcher's regex anchored, "^(?:RE)$", and
 * a selector must hold a matcher that does not match the empty string.
 * pq_regex_check tells both: whether RE is valid, and whether the anchored
 * form matches "".
 */
#ifndef PROMRUN_PROMQL_REGEX_H
#define PROMRUN_PROMQL_REGEX_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/*
 * pq_regex_check: re[0..len) in Go's syntax.  Returns 0 and sets
 * *matches_empty; or PERR_INVALID with e in Go's words, e.g. "error parsing
 * regexp: missing closing ): `(a`".  Limits as Go's: repetition counts up
 * to 1000 (nested ones multiplied), nesting up to 1000 deep.
 */
int pq_regex_check(const char *re, size_t len, bool *matches_empty,
    struct perr *e);

#endif
