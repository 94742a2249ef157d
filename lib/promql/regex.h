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

#include "common/buf.h"
#include "common/err.h"

/*
 * pq_regex_check: re[0..len) in Go's syntax.  Returns 0 and sets
 * *matches_empty; or PERR_INVALID with e in Go's words, e.g. "error parsing
 * regexp: missing closing ): `(a`".  Limits as Go's: repetition counts up
 * to 1000 (nested ones multiplied), nesting up to 1000 deep.
 */
int pq_regex_check(const char *re, size_t len, bool *matches_empty,
    struct perr *e);

/*
 * pq_regex_translate: check re[0..len) as pq_regex_check does and append
 * to out a PCRE2 pattern that matches exactly what Go's does, given
 * PCRE2_UTF, PCRE2_DOLLAR_ENDONLY, PCRE2_ALT_CIRCUMFLEX and LF newlines
 * (rematch.c compiles it so): every literal becomes \x{HEX}, Go's \s
 * (which, unlike PCRE2's, leaves out \v) is spelled out, and a class
 * holding \S is rewritten.  Capture groups keep their numbers; their
 * names (Go allows some PCRE2 does not) go to names (NULL: dropped), one
 * NUL-terminated name per group in order, "" for an unnamed one.
 * Returns 0; PERR_INVALID as pq_regex_check; buf.h's codes.
 */
int pq_regex_translate(const char *re, size_t len, struct buf *out,
    struct buf *names, struct perr *e);

#endif
