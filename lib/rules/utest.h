/*
 * utest.h - rule unit tests in promtool 2.42's format ("promtool test
 * rules"), run the way promtool runs them, with the same verdicts and
 * failure texts.
 *
 * A test file (YAML) names rule_files (globs, relative to the test file;
 * a pattern that matches nothing is a warning), an evaluation_interval
 * (default 1m), a group_eval_order and tests.  Each test group has an
 * interval (its series' spacing; none given: 0, every value at time 0,
 * the first one kept, as promtool does), input_series in the series
 * notation (promql/series.h), external_labels, external_url, a name,
 * alert_rule_test (eval_time, alertname, exp_alerts with exp_labels and
 * exp_annotations) and promql_expr_test (expr, eval_time, exp_samples
 * with labels and value).
 *
 * As promtool: the rule groups are evaluated at 0, evaluation_interval,
 * ... up to the largest eval_time, every group at every step whatever its
 * own interval, in group_eval_order (the others after, in file order); a
 * series' samples become visible at the step that reaches their time;
 * the first step at which a rule fails ends the test group; alerts are
 * compared (firing only, sorted by labels then annotations) at the step
 * at or just before their eval_time; expressions are queried after the
 * last step.  Values compare exactly (NaN never equals NaN, as in Go's
 * reflect.DeepEqual).  The rule files are loaded and validated as
 * `promrun-rules check` does; an error in them fails every test group.
 */
#ifndef PROMRUN_UTEST_H
#define PROMRUN_UTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "rules/finding.h"
#include "rules/lint.h"

/* One failure, as promtool prints it, and where it is in which file. */
struct utest_failure {
	char *text;		/* promtool's text (may span lines) */
	char *file;		/* the test file, or the rule file */
	unsigned line, col;	/* 0:0 for the whole file */
	const char *check;	/* "test-yaml", "alert-test", "expr-test",
				   "rule-eval", "rules", ... */
};

struct utest_report {
	char **warnings;	/* "no file match pattern X" lines, printed
				   before the verdict */
	size_t nwarnings;
	struct utest_failure *fail;
	size_t nfail, capfail;
	struct findings *rule_findings;	/* per rule file, check's findings */
	char **rule_files;
	size_t nrule_files;
};

struct utest_opts {
	struct lint_catalog *catalog;	/* NULL: no lints; the rule files'
					   recorded metrics are added */
};

/*
 * utest_run: run the test file path into rep (zeroed by the caller, freed
 * with utest_report_free).  Returns 0 when the file ran, whatever its
 * verdict (rep->nfail > 0 is a failure); PERR_NOMEM.  A file that cannot
 * be read or parsed is a failure in rep, as in promtool.
 */
int utest_run(const char *path, const struct utest_opts *o,
    struct utest_report *rep, struct perr *e);

void utest_report_free(struct utest_report *rep);

/* Where a line of the report goes. */
enum utest_stream { UTEST_STDOUT, UTEST_STDERR };

typedef int (*utest_emit_fn)(void *ctx, enum utest_stream s,
    const char *text, size_t len);

/*
 * utest_report_write: the report of test file path, as promtool prints it
 * (format FORMAT_TEXT): "Unit Testing:  FILE" on stdout, the warnings,
 * then "  SUCCESS", or "  FAILED:" and each failure on stderr, each
 * followed by an empty line on stdout; the rule files' findings first, as
 * check prints them.  FORMAT_JSON and FORMAT_GITHUB give one line per
 * failure and finding, as check's formats (finding.h).  Stops at emit's
 * first non-zero return and returns it; or buf.h's codes.
 */
int utest_report_write(const struct utest_report *rep, const char *path,
    enum finding_format format, utest_emit_fn emit, void *ctx);

#endif
