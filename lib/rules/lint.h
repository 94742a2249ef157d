/*
 * lint.h - checks of rules against what promrun emits: a catalog of metric
 * names with their types and label names, filled from a preset
 * (lib/schema) and/or from exposition-format textfiles (lib/expfmt).
 *
 * Checks (all warnings; each finding names its check):
 *   metric-unknown        a selector's metric is not in the catalog (the
 *                         nearest known name is suggested)
 *   label-unknown         a label in a matcher, by, without, on, ignoring
 *                         or group_left/right that the metric(s) lack
 *   template-label        $labels.x (or .Labels.x) in an alert's labels or
 *                         annotations that the expression's result cannot
 *                         carry (dropped by aggregation, or never there)
 *   rate-non-counter      rate, irate or increase over a metric that is
 *                         not a counter
 *   counter-without-rate  a counter compared as it is, without rate or
 *                         increase (its value only grows)
 *   alert-no-comparison   an alert expression that filters nothing, so it
 *                         fires for every series it returns
 *   alert-no-for          an alert without "for"
 * The last two need no catalog; the others run only with one.  Prometheus's
 * own per-target series (up, scrape_*) and the metrics recorded by the
 * rules being checked are always known, with any labels, and every metric
 * may carry the target labels job and instance, which Prometheus attaches
 * to every series it scrapes.
 */
#ifndef PROMRUN_LINT_H
#define PROMRUN_LINT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "metrics/expfmt.h"
#include "rules/finding.h"
#include "common/hmap.h"
#include "rules/rules.h"
#include "metrics/schema.h"

#define LINT_MAX_LABELS 32	/* label names kept per metric */

struct lint_metric {
	char *name;		/* owned; "*suffix" is a pattern (prpc) */
	enum expfmt_type type;	/* of the family */
	bool counter;		/* a counter, or a histogram/summary's
				   _bucket, _sum or _count */
	bool any_labels;	/* label names unknown: accept any */
	bool user_labels;	/* labels has the fixed labels; any user
				   label may come too (no allow-list is
				   configured), except names that look like
				   a typo of a fixed one */
	char **labels;		/* owned, with room for LINT_MAX_LABELS;
				   NULL until the first */
	size_t nlabels;
};

struct lint_catalog {
	struct lint_metric *v;
	size_t n, cap;
	struct hmap index;	/* exact name -> position in v */
	bool patterns;		/* some names are "*suffix" patterns */
	bool checks;		/* a preset or textfile was added: run the
				   catalog checks */
};

/*
 * lint_catalog_add_preset: the metrics preset p emits under namespace ns
 * (NULL: its default) with the configured user labels (nuser 0: user
 * labels are not restricted, so families carrying them accept any label).
 * Returns 0 or PERR_NOMEM.
 */
int lint_catalog_add_preset(struct lint_catalog *c,
    const struct schema_preset *p, const char *ns, char *const *user,
    size_t nuser, struct perr *e);

/*
 * lint_catalog_add_textfile: the families and label names found in an
 * exposition-format file (a .prom textfile, a /metrics page saved).
 * Returns 0; PERR_INVALID when it cannot be read or parsed (e names the
 * file and line); PERR_NOMEM.
 */
int lint_catalog_add_textfile(struct lint_catalog *c, const char *path,
    struct perr *e);

/*
 * lint_catalog_add_recorded: the names rf's recording rules define, with
 * any labels.  Returns 0 or PERR_NOMEM.
 */
int lint_catalog_add_recorded(struct lint_catalog *c,
    const struct rule_file *rf);

/*
 * What the configuration says about the metrics promrun emits (the program
 * fills it from config.h's [render] and [journal] settings).
 */
struct lint_configured {
	bool found;		/* a configuration file was read */
	const char *preset;	/* [render] preset, or NULL */
	const char *ns;		/* [render] namespace, or NULL */
	char *const *labels;	/* [journal] labels (the allow-list) */
	size_t nlabels;
};

/*
 * lint_catalog_build: the catalog promrun-rules checks against: the preset
 * named (NULL: none) under namespace ns; the exposition files metrics[0..n);
 * and, when neither is given and a configuration was found, its preset
 * (default native) and namespace, with its labels as user labels.  ns NULL
 * takes the configuration's namespace when its preset is the one named.
 * The configured labels are the user labels of any preset.  With nothing
 * found the catalog stays empty and only catalog-free checks run.
 * Returns 0; PERR_INVALID naming a bad preset, namespace or file;
 * PERR_NOMEM.  Free with lint_catalog_free in every case.
 */
int lint_catalog_build(struct lint_catalog *c, const char *preset,
    const char *ns, const struct lint_configured *cf,
    const char *const *metrics, size_t n, struct perr *e);

/*
 * lint_check_known: name is one of the warnings' checks above or
 * "duplicate-rule" (rules.h), which --skip may silence.
 */
bool lint_check_known(const char *name);

/* lint_check_names: those names as one line, for messages. */
extern const char lint_check_names[];

/* lint_catalog_free: release the catalog; it is empty after. */
void lint_catalog_free(struct lint_catalog *c);

/*
 * lint_rules: validate rf (rules_validate: promtool's findings) and run
 * the checks above over every rule whose expression parses, with the same
 * trees, appending to f promtool's findings, then the warnings.  Returns 0
 * or PERR_NOMEM.
 */
int lint_rules(const struct lint_catalog *c, struct rule_file *rf,
    struct findings *f);

#endif
