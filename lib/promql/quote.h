/*
 * quote.h - Go's string quoting rules, which PromQL strings and Go
 * templates both follow.
 */
#ifndef PROMRUN_PROMQL_QUOTE_H
#define PROMRUN_PROMQL_QUOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* pq_hexval: the value of hex digit c (0-15), or -1. */
int pq_hexval(int c);

/*
 * pq_unquote: append the value of the quoted literal s[0..len) to out.
 * s starts and ends with the same quote: '"' or '\'' (escapes as in Go:
 * \a \b \f \n \r \t \v \\, the quote itself, \ooo octal up to 255, \xhh,
 * \uhhhh, \Uhhhhhhhh, no surrogates) or '`' (raw, no escapes, no '`').
 * Single quotes hold a string of any length, as in PromQL, when
 * multi_single is true; otherwise exactly one character (Go's rune literal).
 * Returns 0; PERR_INVALID for bad syntax (out is then unchanged in
 * meaning but may hold part of the value); PERR_NOMEM / PERR_LIMIT from
 * the buffer.
 */
int pq_unquote(const char *s, size_t len, bool multi_single, struct buf *out);

/*
 * pq_quote: append s[0..len) as a double-quoted literal that pq_unquote
 * reads back as the same bytes: '"' and '\\' escaped, \a \b \f \n \r \t \v,
 * other control characters and invalid UTF-8 bytes as \xhh, and U+FFFD
 * (which Prometheus's lexer refuses literally) as \ufffd.
 * Returns 0 or the buffer's error.
 */
int pq_quote(struct buf *b, const char *s, size_t len);

/*
 * pq_quote_go: append s[0..len) as Go's strconv.Quote writes it, which is
 * how Prometheus prints label values in messages: like pq_quote, but U+FFFD
 * as itself and the non-printable runes above ASCII (controls, spaces other
 * than U+0020, format and private-use characters) as \uXXXX or \UXXXXXXXX.
 * Returns 0 or the buffer's error.
 */
int pq_quote_go(struct buf *b, const char *s, size_t len);

#endif
