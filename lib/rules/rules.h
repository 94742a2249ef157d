/*
 * rules.h - Prometheus rule files, read with libyaml and validated the way
 * promtool 2.42 validates them (its rulefmt package), with positions kept
 * for every problem.
 *
 * Accepted input: a rule file ("groups:" at the top), or a Kubernetes
 * PrometheusRule manifest (kind: PrometheusRule), whose .spec holds the
 * groups; a manifest may be followed by more documents ("---"), and every
 * PrometheusRule among them is read.  In a plain rule file only the first
 * document counts, as in promtool.
 *
 * Problems are findings (finding.h), errors unless noted:
 *   yaml       syntax; unknown fields; repeated keys; a value of the wrong
 *              kind (a list where a string goes); bad durations and limits
 *   group      empty or repeated group name
 *   rule       record and alert both or neither; no expr; a recording rule
 *              with for, keep_firing_for or annotations, or a name that is
 *              no metric name; bad label names (__name__ too) and values;
 *              bad annotation names
 *   promql     the expression does not parse or type-check (parse.h)
 *   template   an alert's label or annotation value is no valid template
 *   duplicate-rule  (warning) two rules with the same name and labels
 * rules_load finds the yaml problems, rules_validate the others.  When the
 * YAML structure is wrong (yaml findings), the rules are not validated
 * further, as in promtool.
 */
#ifndef PROMRUN_RULES_H
#define PROMRUN_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "rules/finding.h"
#include "promql/ast.h"

#define RULES_FILE_MAX (64 * 1024 * 1024)	/* bytes in one file */

/*
 * A string from the file and where it is.  Offsets in s map to file
 * positions exactly when the scalar is on one line without escapes, or a
 * literal block ("|"); otherwise every offset maps to the scalar's start.
 */
struct rule_text {
	const char *s;		/* NUL-terminated; "" when absent */
	size_t len;
	unsigned line, col;	/* where the YAML node starts, 1-based */
	bool exact;		/* offsets map exactly (see above) */
	unsigned line0, col0;	/* the position of s[0] when exact */
};

/* A $labels.NAME (or .Labels.NAME) in an alert's template. */
struct rule_ref {
	const char *name;	/* NUL-terminated */
	size_t off;		/* in the template text */
};

struct rule_pair {
	struct rule_text name, value;
	struct rule_ref *refs;	/* alerts only: the label references */
	size_t nrefs;
};

struct rule {
	bool alerting;
	struct rule_text name;		/* the alert or record name */
	struct rule_text expr;
	bool has_for;
	int64_t for_ms, keep_firing_for_ms;
	struct rule_pair *labels;
	size_t nlabels;
	struct rule_pair *annotations;
	size_t nannotations;
	unsigned line, col;		/* the rule's mapping */
};

struct rule_group {
	struct rule_text name;
	int64_t interval_ms;
	int64_t limit;			/* 0: none */
	struct rule *rules;
	size_t nrules;
};

struct rule_file {
	struct pq_arena arena;		/* every string below, and the YAML
					   trees they were read from */
	bool manifest;			/* a PrometheusRule manifest */
	bool structure_ok;		/* no yaml findings: rules_validate
					   checks the rules */
	struct rule_group *groups;
	size_t ngroups;
	size_t nrules;
};

/*
 * rules_load: read path, appending the yaml findings to f (structure_ok
 * tells whether there were none); rules_validate checks the rules.
 * Returns 0 when the file was read, whatever it holds; PERR_INVALID when
 * it cannot be opened or read (e says which file and why) or is larger
 * than RULES_FILE_MAX; PERR_IO when it changed while it was read (its
 * size or times differ after from before); PERR_NOMEM.  Free rf with
 * rules_free in every case.
 */
int rules_load(const char *path, struct rule_file *rf, struct findings *f,
    struct perr *e);

/*
 * rules_load_text: the same for text[0..len) already in memory (the
 * fuzz target and tests); text need not be NUL-terminated.
 */
int rules_load_text(const char *text, size_t len, struct rule_file *rf,
    struct findings *f, struct perr *e);

/*
 * A rule whose expression parses and type-checks, and its tree, valid
 * during the call only (trees are not kept).  Returns 0, or an error code
 * that stops rules_validate.
 */
typedef int rules_tree_fn(void *ctx, const struct rule *r,
    const struct pq_node *root);

/*
 * rules_validate: the rest of promtool's checks (rulefmt's Validate and
 * its duplicate-rule lint) over rf, read with structure_ok (else nothing
 * is done), appending the group, rule, promql, template and duplicate-rule
 * findings to f.  fn (NULL: none) is called with each rule whose
 * expression parses, after that rule's checks, so one parse serves both.
 * Returns 0, PERR_NOMEM, or fn's error (fn is not called again).
 */
int rules_validate(struct rule_file *rf, struct findings *f,
    rules_tree_fn *fn, void *ctx);

/*
 * rules_read_file: the whole of path into out (initialised here, at most
 * max bytes, NUL-terminated; free with buf_free).  Returns 0;
 * PERR_INVALID naming the file and the system's reason, or saying it is
 * too large; PERR_IO when it changed while it was read; PERR_NOMEM.
 */
int rules_read_file(const char *path, size_t max, struct buf *out,
    struct perr *e);

/* rules_free: release what rules_load filled in; rf is empty after. */
void rules_free(struct rule_file *rf);

/* rule_text_pos: the file position of byte offset off of t's value. */
void rule_text_pos(const struct rule_text *t, size_t off, unsigned *line,
    unsigned *col);

/*
 * Positions of many offsets of one text: rule_text_pos scans the text up
 * to the offset, so a finding at each of n selectors of one long
 * expression took time growing with n squared.  rule_pos_at keeps the
 * position of every RULE_POS_STEP-th byte as it goes, and scans at most
 * that much from there.  rule_pos_init (t must outlive p), then
 * rule_pos_at any number of times, then rule_pos_free.  Without memory
 * for its marks it falls back on rule_text_pos: the same answers.
 */
#define RULE_POS_STEP 256

struct rule_mark {
	unsigned line, col;
};

struct rule_pos {
	const struct rule_text *t;
	struct rule_mark *marks;	/* of offsets 0, STEP, 2 STEP... */
	size_t nmarks, cap;
};

void rule_pos_init(struct rule_pos *p, const struct rule_text *t);
void rule_pos_at(struct rule_pos *p, size_t off, unsigned *line,
    unsigned *col);
void rule_pos_free(struct rule_pos *p);

#endif
