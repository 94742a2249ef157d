/*
 * rematch.h - regular expressions as Go's regexp matches them (RE2
 * syntax and semantics), for label matchers, label_replace and the
 * templates' match and reReplaceAll.
 *
 * Go's syntax is checked and translated by regex.c; PCRE2 (Debian's
 * libpcre2-8) matches.  Both are leftmost-first, so captures agree, and
 * the translation covers where PCRE2's syntax means something else.
 * RE2 guarantees linear time; PCRE2 backtracks, so a match that passes
 * PCRE2's match limit is answered again by PCRE2's DFA matcher, which
 * does not backtrack (yes or no only): a matcher never hangs and never
 * fails.  A match that needs captures (label_replace, reReplaceAll) and
 * passes the limit fails with PERR_LIMIT instead.
 *
 * Differences left: invalid UTF-8 in a subject matches no character
 * where Go sees U+FFFD; case folding under (?i) follows PCRE2's Unicode
 * tables, not Go's (they agree but for a few rare characters).
 */
#ifndef PROMRUN_PROMQL_REMATCH_H
#define PROMRUN_PROMQL_REMATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

struct pq_regex;

/*
 * pq_regex_compile: compile Go regexp re[0..len); anchored makes it
 * Prometheus's "^(?:re)$".  Returns 0 and *out (free with
 * pq_regex_free); PERR_INVALID in Go's words ("error parsing regexp:
 * ..."); PERR_NOMEM.
 */
int pq_regex_compile(const char *re, size_t len, bool anchored,
    struct pq_regex **out, struct perr *e);

void pq_regex_free(struct pq_regex *r);

/* pq_regex_match: whether r matches s[0..len) (anywhere, unless anchored). */
bool pq_regex_match(const struct pq_regex *r, const char *s, size_t len);

/*
 * pq_regex_expand: for anchored r matching s, append Go's
 * regexp.ExpandString(template) to out ($1, ${1}, $name, ${name}, $$).
 * *matched tells whether r matched (out unchanged when not).  Returns 0;
 * PERR_LIMIT when the match is too costly; buf.h's codes.
 */
int pq_regex_expand(const struct pq_regex *r, const char *s, size_t len,
    const char *tmpl, size_t tlen, struct buf *out, bool *matched,
    struct perr *e);

/*
 * pq_regex_replace_all: append Go's re.ReplaceAllString(s, repl) to out:
 * every non-overlapping match replaced by repl expanded as above.
 * Returns 0, PERR_LIMIT or buf.h's codes.
 */
int pq_regex_replace_all(const struct pq_regex *r, const char *s, size_t len,
    const char *repl, size_t rlen, struct buf *out, struct perr *e);

#endif
