/*
 * finding.h - problems found in a rule file: where, how bad, which check,
 * and what; and their three output formats.
 *
 * lib/ never prints: rules.c and lint.c append findings to a list, and the
 * program sorts and writes them with finding_format.
 */
#ifndef PROMRUN_FINDING_H
#define PROMRUN_FINDING_H

#include <stddef.h>

#include "common/buf.h"

enum finding_level { FINDING_ERROR, FINDING_WARNING };

struct finding {
	unsigned line, col;		/* 1-based; 0:0 for the whole file */
	enum finding_level level;
	const char *check;		/* static: "promql", "metric-unknown", ... */
	char *msg;			/* owned; one line */
	size_t seq;			/* order of addition */
};

struct findings {
	struct finding *v;
	size_t n, cap;
	size_t errors, warnings;
};

#define FINDING_MSG_MAX 1024	/* longer messages are cut */

/*
 * findings_add: append one finding; the message is printf-style, cut at
 * FINDING_MSG_MAX bytes, and control characters in it become spaces so it
 * stays one line.  Returns 0 or PERR_NOMEM.
 */
int findings_add(struct findings *f, unsigned line, unsigned col,
    enum finding_level level, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/*
 * findings_append: move every finding of from to the end of to, as if
 * added after to's; from is empty after.  Returns 0, or PERR_NOMEM with
 * both unchanged.
 */
int findings_append(struct findings *to, struct findings *from);

/* findings_sort: order by line, then column, keeping the order of equals. */
void findings_sort(struct findings *f);

/* findings_promote: make every warning an error (--strict). */
void findings_promote(struct findings *f);

/*
 * findings_skip: drop the warnings of check (--skip); errors stay.
 * Returns how many were dropped.
 */
size_t findings_skip(struct findings *f, const char *check);

/* findings_free: release the list; it is empty and reusable after. */
void findings_free(struct findings *f);

enum finding_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_GITHUB };

/*
 * finding_format: append one finding of file as one line (no newline):
 *   text    FILE:LINE:COL: error|warning: MESSAGE [CHECK]
 *   json    {"file":...,"line":N,"column":N,"level":...,"check":...,"message":...}
 *   github  ::error file=FILE,line=N,col=N,title=CHECK::MESSAGE
 * Returns 0 or the buffer's error.
 */
int finding_format(struct buf *b, const char *file, const struct finding *f,
    enum finding_format format);

/* finding_format_parse: "text", "json" or "github"; -1 for anything else. */
int finding_format_parse(const char *s);

#endif
