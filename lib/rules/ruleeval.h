/*
 * ruleeval.h - evaluate rule groups as Prometheus 2.42's rule manager
 * does (rules/manager.go, alerting.go, recording.go), over a series store.
 *
 * A group's rules run in order at one time t, each an instant query at t:
 * - a recording rule's samples get the rule's name and labels and are
 *   written to the store at t ("vector contains metrics with the same
 *   labelset after applying rule labels" is an error), so later rules and
 *   later evaluations see them;
 * - an alerting rule's samples become alerts, identified by their labels
 *   after the rule's labels (expanded through tmpl.h, with the sample's
 *   labels and value, the external labels and URL) and alertname are
 *   applied: pending when new, firing once held for `for`, resolved when
 *   gone (or, with keep_firing_for, that long after); their annotations
 *   are expanded at each evaluation.  The ALERTS and ALERTS_FOR_STATE
 *   series are written to the store as Prometheus writes them once its
 *   alert state is restored (at every evaluation; promtool marks every
 *   rule restored, and a running server restores after its first).
 * Series a rule wrote at its previous evaluation and not at this one get
 * a staleness marker at t.  A group's limit bounds a rule's series or
 * alerts ("exceeded limit of N with M series").  A rule that fails keeps
 * its error (re_rule.error) until its next evaluation; the group goes on.
 *
 * Template errors do not fail a rule: the value becomes
 * "<error expanding template: ...>", as in Prometheus.
 */
#ifndef PROMRUN_RULEEVAL_H
#define PROMRUN_RULEEVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hmap.h"
#include "promql/eval.h"
#include "promql/labels.h"
#include "promql/storage.h"
#include "rules/rules.h"
#include "rules/tmpl.h"

enum alert_state { ALERT_INACTIVE, ALERT_PENDING, ALERT_FIRING };

/* alert_state_name: "inactive", "pending", "firing". */
const char *alert_state_name(enum alert_state s);

struct re_alert {
	struct pq_arena arena;		/* its label sets */
	const struct pq_lset *labels;	/* alertname included */
	const struct pq_lset *annotations; /* may hold empty values */
	enum alert_state state;
	int64_t active_at, fired_at, resolved_at;	/* ms */
	int64_t keep_firing_since;	/* INT64_MIN: not keeping */
	bool resolved;			/* resolved_at is set */
	double value;
	char *key;			/* its labels' identity, for lookups */
	size_t keylen;
	/* Its ALERTS series' labels (per state) and ALERTS_FOR_STATE's,
	   made once, stable while the alert lives (in its arena). */
	const struct pq_lset *series_ls[3], *for_state_ls;
};

struct re_rule {
	const struct rule *r;
	struct pq_expr *x;
	struct pq_query *q;
	struct re_alert **alerts;	/* active, pending, and resolved for
					   15 minutes (as Prometheus keeps them) */
	size_t nalerts, capalerts;
	struct hmap written;		/* series written at the last
					   evaluation: key -> store index */
	char *error;			/* the last evaluation's, or NULL */
	uint64_t evaluations;
	/* What the last evaluation wrote, when its label sets were stable
	   (labels.h): written again in one step while the next writes the
	   same label sets in the same order (none vanished, no lookups). */
	const struct pq_lset **w_ls;
	size_t *w_idx, w_n, w_cap;
	bool w_valid;
	/* A recording rule's labelled samples for stable input label sets,
	   reused while its result has the same label sets in order. */
	struct pq_arena rec_arena;
	const struct pq_lset **rec_in, **rec_out;
	size_t rec_n, rec_cap;
	bool rec_valid;
	/* An alerting rule's label and annotation templates, each parsed
	   at its first expansion (tmpl.h), NULL until then. */
	struct tmpl **label_tmpl, **annotation_tmpl;
};

struct re_group {
	const struct rule_group *g;
	const char *file;
	struct re_rule *rules;
	size_t nrules;
};

/* Called when an alert changes state (backtest records the intervals). */
typedef void (*re_transition_fn)(void *ctx, const struct re_group *g,
    const struct re_rule *r, const struct re_alert *a, enum alert_state from,
    int64_t t);

struct re_engine {
	struct pq_store *st;
	struct pq_engine_opts opts;
	const struct pq_lset *external_labels;	/* NULL: none */
	const char *external_url;		/* NULL: "" */
	struct re_group *groups;
	size_t ngroups, capgroups;
	struct pq_arena scratch;		/* one rule's evaluation */
	re_transition_fn on_transition;		/* NULL: none */
	void *ctx;
};

/* re_engine_init: an engine over st (not owned), with no groups. */
void re_engine_init(struct re_engine *en, struct pq_store *st);

/*
 * re_engine_add: add the groups of rf (validated by rules_validate, with
 * no errors; must outlive the engine), parsing every expression.
 * Returns 0; PERR_INVALID when an expression does not parse (e names the
 * rule); PERR_NOMEM.
 */
int re_engine_add(struct re_engine *en, const struct rule_file *rf,
    const char *file, struct perr *e);

/*
 * re_group_eval: evaluate group gi at t (milliseconds).  Rule failures are
 * kept in each rule's error; the return is 0, or PERR_NOMEM / PERR_LIMIT
 * (the store is full), which stop the work.
 */
int re_group_eval(struct re_engine *en, size_t gi, int64_t t, struct perr *e);

/* re_engine_free: release the engine (not the store or the rule files). */
void re_engine_free(struct re_engine *en);

#endif
