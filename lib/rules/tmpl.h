/*
 * tmpl.h - the syntax check Prometheus applies to an alert's label and
 * annotation values: Go's text/template parser (Go 1.19, which built
 * Debian's Prometheus 2.42) with Prometheus's template functions, and the
 * variables $labels, $externalLabels, $externalURL and $value defined.
 *
 * Only parsing is checked, as promtool does: unknown functions, undefined
 * variables, unbalanced actions, {{end}} without a block, bad literals,
 * {{break}} outside {{range}}, and the like.  Nothing is executed.  Actions
 * and parentheses may nest PQ_DEPTH_MAX deep (promql/ast.h; Go has no
 * bound): past it, PERR_LIMIT "template nests deeper than 500 levels".
 */
#ifndef PROMRUN_TMPL_H
#define PROMRUN_TMPL_H

#include <stddef.h>

#include "common/err.h"

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

#endif
