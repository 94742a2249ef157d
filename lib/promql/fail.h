/*
 * fail.h - the first error of a parse, kept with its position.
 *
 * The PromQL parser and the template checker stop at their first problem
 * and report it with the offset where it is; later calls are ignored, so
 * callers can report and unwind without checking who reported first.
 */
#ifndef PROMRUN_PROMQL_FAIL_H
#define PROMRUN_PROMQL_FAIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

struct pq_fail {
	bool failed;
	int code;		/* PERR_INVALID, or another code of err.h */
	size_t pos;		/* byte offset of the problem */
	struct perr *e;		/* where the message goes; may be NULL */
};

/*
 * pq_fail_at: record a PERR_INVALID at pos with a printf-style message,
 * unless an error was recorded already.  Returns NULL, so a parser can
 * "return pq_fail_at(...)" from a function returning a pointer.
 */
void *pq_fail_at(struct pq_fail *f, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* pq_fail_vat: pq_fail_at with a va_list. */
void *pq_fail_vat(struct pq_fail *f, size_t pos, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* pq_fail_code: record code (PERR_NOMEM, PERR_LIMIT) with msg; returns NULL. */
void *pq_fail_code(struct pq_fail *f, int code, const char *msg);

/*
 * pq_fail_depth: record PERR_LIMIT at pos, "WHAT nests deeper than 500
 * levels" (PQ_DEPTH_MAX, ast.h); returns NULL.
 */
void *pq_fail_depth(struct pq_fail *f, size_t pos, const char *what);

#endif
