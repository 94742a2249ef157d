/*
 * tmpl.h - Go's text/template (Go 1.19, which built Debian's Prometheus
 * 2.42) with Prometheus's template functions, for alerts' labels and
 * annotations: the syntax check promtool applies (tmpl_check) and the
 * expansion the rule evaluator applies (tmpl_compile, tmpl_run).
 *
 * Checked as promtool does: unknown functions, undefined variables,
 * unbalanced actions, {{end}} without a block, bad literals, {{break}}
 * outside {{range}}, and the like, with $labels, $externalLabels,
 * $externalURL and $value defined.
 *
 * Expanded as Prometheus expands: the data .Labels, .ExternalLabels,
 * .ExternalURL and .Value (the caller puts the variables' definitions in
 * front, as Prometheus does), option missingkey=zero, Go's builtins (and,
 * or, not, len, index, print, printf, println, eq, ne, lt, le, gt, ge,
 * html, js, urlquery) and Prometheus's functions (query, first, label,
 * value, strvalue, args, reReplaceAll, safeHtml, match, title, toUpper,
 * toLower, graphLink, tableLink, sortByLabel, humanize, humanize1024,
 * humanizeDuration, humanizePercentage, humanizeTimestamp, toTime,
 * pathPrefix, externalURL, parseDuration, stripPort, stripDomain).
 * printf knows Go's verbs for the values templates hold (%s %v %d %f %e
 * %g %q %x %t, flags, width, precision); slice and call are refused at
 * execution.
 *
 * Depth.  Actions and parentheses may nest PQ_DEPTH_MAX deep
 * (promql/ast.h; Go has no bound): past it, PERR_LIMIT "template nests
 * deeper than 500 levels".  Execution is bounded by the same constant:
 * templates calling templates, and nested pipelines (Go: 100000).
 */
#ifndef PROMRUN_TMPL_H
#define PROMRUN_TMPL_H

#include <stddef.h>

#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "promql/eval.h"
#include "promql/labels.h"
#include "promql/storage.h"

/*
 * A reference to a label of the alert, found while checking: $labels.NAME
 * or .Labels.NAME.  name is not NUL-terminated; off is where the
 * reference starts in the template text.
 */
typedef void (*tmpl_label_fn)(void *ctx, const char *name, size_t len,
    size_t off);

/*
 * tmpl_check: check text[0..len).  Returns 0; or PERR_INVALID with e->msg
 * in Go's words (e.g. "undefined variable \"$foo\"", "function \"foo\"
 * not defined", "unexpected EOF") and *err_off the byte offset of the
 * problem; PERR_NOMEM.  When on_label is not NULL it is called for each
 * label reference, in order, before any error.
 */
int tmpl_check(const char *text, size_t len, tmpl_label_fn on_label,
    void *ctx, size_t *err_off, struct perr *e);

/* What a template expands with. */
struct tmpl_data {
	const char *name;			/* "__alert_NAME", for errors */
	const struct pq_lset *labels;		/* .Labels */
	const struct pq_lset *external_labels;	/* .ExternalLabels */
	const char *external_url;		/* .ExternalURL */
	double value;				/* .Value */
	/* For the query function; store NULL: query fails. */
	const struct pq_store *store;
	const struct pq_engine_opts *opts;
	int64_t t;				/* evaluation time, ms */
};

/*
 * A template parsed once (tmpl_compile) and expanded again and again
 * (tmpl_run): an alert's labels and annotations at every evaluation.
 */
struct tmpl;

/*
 * tmpl_compile: parse text[0..len) (copied) into *out, for expansions
 * under the name given (tmpl_data.name, which the errors name).  Returns
 * 0; PERR_INVALID with e->msg in Prometheus's words ("error parsing
 * template NAME: ..."); PERR_NOMEM.  Free *out with tmpl_free.
 */
int tmpl_compile(const char *text, size_t len, const char *name,
    struct tmpl **out, struct perr *e);

/*
 * tmpl_run: append t's expansion with d to out.  Returns 0; PERR_INVALID
 * with e->msg in Prometheus's words ("error executing template NAME:
 * template: NAME:1:42: executing \"NAME\" at <...>: ..."); PERR_NOMEM.
 */
int tmpl_run(const struct tmpl *t, const struct tmpl_data *d, struct buf *out,
    struct perr *e);

/* tmpl_free: release t (NULL: nothing). */
void tmpl_free(struct tmpl *t);

#endif
