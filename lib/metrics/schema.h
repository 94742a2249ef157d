/*
 * schema.h - the metric families each preset renders, as data.
 *
 * One table per preset says, for every family: its name, type, HELP text,
 * which value of the aggregate it shows, whether it is fed by whole
 * workflows or by steps, and its labels and where each label's value comes
 * from.  The renderer walks these tables; promrun-rules builds its catalog
 * of known metrics from them (schema_catalog), so the rule checker knows
 * exactly what the renderer emits.
 *
 * Presets:
 *   native     ci_workflow_* and ci_step_* (namespace configurable, default
 *              "ci"), every status, user labels;
 *   chainloop  chainloop_workflow_up{org,workflow} and the histogram
 *              chainloop_workflow_run_duration_seconds{org,workflow,status,
 *              runner} with Chainloop's own buckets and statuses (success,
 *              error, canceled, expired);
 *   prpc       <workflow>_pipeline_run_total{status} as
 *              pipeline-run-prometheus-counter (success, failure);
 *   attest     attest_pipeline_executions_total{status},
 *              attest_pipeline_duration_seconds{pipeline},
 *              attest_step_duration_seconds{step,status} (namespace
 *              configurable, default "attest"; success, failure).
 * Every preset also carries promrun's own metrics (promrun_*), labelled
 * with preset="<name>" so several textfiles of one journal can sit in one
 * textfile directory without colliding.
 */
#ifndef PROMRUN_SCHEMA_H
#define PROMRUN_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "metrics/expfmt.h"
#include "journal/run.h"

#define SCHEMA_MAX_LABELS 8	/* label slots of a family (user labels expand one) */
#define SCHEMA_MAX_FAMILIES 64	/* families of a preset, at most */

/* The aggregate value a family shows. */
enum schema_value {
	SV_RUNS,		/* finished runs (counter) */
	SV_UP,			/* 1 if the latest outcome was a success */
	SV_DURATION,		/* histogram of durations */
	SV_LAST_DURATION,	/* duration of the latest finished run */
	SV_LAST_RUN_TIME,	/* end time of the latest finished run */
	SV_LAST_SUCCESS_TIME,	/* end time of the latest success */
	SV_LAST_START_TIME,	/* start time of the latest run */
	SV_IN_PROGRESS,		/* started, neither finished nor lost */
	SV_LATE_FINISHES,	/* finishes of runs already counted lost */
	SV_BUILD_INFO,		/* promrun_build_info: 1 */
	SV_RECORDS,		/* journal records read, by result */
	SV_RENDER_TIME,		/* when the file was rendered */
};

/* Which runs feed a family. */
enum schema_scope {
	SCOPE_WORKFLOW,		/* runs without a step */
	SCOPE_STEP,		/* runs of a step */
	SCOPE_SELF,		/* promrun itself */
};

/* Where a label's value comes from. */
enum schema_source {
	SRC_END = 0,		/* ends a family's label list */
	SRC_WORKFLOW,		/* the workflow name */
	SRC_STEP,		/* the step name */
	SRC_STATUS,		/* the status, in the preset's vocabulary */
	SRC_USER,		/* the user label of the same name ("" if absent) */
	SRC_USER_ALL,		/* every user label any series of the family
				   has, sorted by name ("" where absent), so
				   all series of a family have the same label
				   names, as node_exporter requires */
	SRC_VERSION,		/* promrun's version */
	SRC_RESULT,		/* ok or corrupt */
	SRC_PRESET,		/* the preset's name */
};

struct schema_label {
	const char *name;	/* NULL for SRC_USER_ALL */
	enum schema_source source;
};

struct schema_family {
	const char *name;	/* after the namespace and "_" when the
				   preset has one; "" prefix-free otherwise */
	enum expfmt_type type;
	const char *help;
	enum schema_value value;
	enum schema_scope scope;
	bool per_workflow_name;	/* prpc: the name is "<workflow><name>" and
				   "%s" in help stands for the workflow */
	bool self;		/* promrun_*: never namespaced */
	struct schema_label labels[SCHEMA_MAX_LABELS];	/* until SRC_END */
};

struct schema_preset {
	const char *name;
	const char *default_namespace;	/* NULL: names are fixed */
	/* Output value of each status (index enum run_status); NULL: the
	 * status is not shown by this preset's status label. */
	const char *status_names[RUN_STATUS_COUNT];
	const double *buckets;		/* NULL: the configured buckets */
	size_t nbuckets;
	const struct schema_family *families;
	size_t nfamilies;
	/* The status values in the order samples show them, NULL-ended;
	 * empty: sorted by name. */
	const char *status_order[RUN_STATUS_COUNT];
};

/* The presets, and how many. */
extern const struct schema_preset schema_presets[];
extern const size_t schema_npresets;

/*
 * schema_preset_find: the preset called name, or NULL; e names the value
 * and the accepted names (native, chainloop, prpc, attest).
 */
const struct schema_preset *schema_preset_find(const char *name,
    struct perr *e);

/*
 * schema_check_namespace: ns is valid for preset p: a metric-name prefix
 * ([a-zA-Z_:][a-zA-Z0-9_:]*), and only for presets that take one.  NULL is
 * always valid (the preset's default).  PERR_INVALID names the value.
 */
int schema_check_namespace(const struct schema_preset *p, const char *ns,
    struct perr *e);

/*
 * schema_family_name: the full name of family f under preset p, namespace
 * ns (NULL: the preset's default) and, for per_workflow_name families, the
 * given workflow (sanitized into a metric name; NULL gives the pattern
 * "*<name>").  Appends to out; buf.h's errors.
 */
int schema_family_name(const struct schema_preset *p, const char *ns,
    const struct schema_family *f, const char *workflow, struct buf *out);

/*
 * schema_sanitize_name: s turned into a valid metric-name part: every byte
 * outside [a-zA-Z0-9_:] becomes '_', and a leading digit gets a '_' before
 * it.  Appends to out.
 */
int schema_sanitize_name(const char *s, struct buf *out);

/* One metric name a preset emits, for promrun-rules' catalog. */
struct schema_metric {
	char *name;		/* full name, owned; "*" starts a pattern (prpc) */
	enum expfmt_type type;	/* of the family: counter for x_total,
				   histogram for x_bucket/x_sum/x_count */
	char *family;		/* the family's full name, owned */
	const char *help;
	const char *labels[SCHEMA_MAX_LABELS + 16];	/* le for _bucket */
	size_t nlabels;
	const char *status_values[RUN_STATUS_COUNT];	/* values of "status" */
	size_t nstatus_values;
};

struct schema_catalog {
	struct schema_metric *metrics;
	size_t count;
};

/*
 * schema_catalog_build: every metric name preset p emits (histograms
 * expanded to _bucket, _sum and _count) with its type and label names,
 * under namespace ns (NULL: default) and the configured user labels (label
 * names point to user_labels' strings, which must outlive the catalog).
 * Returns 0 or PERR_NOMEM; free with schema_catalog_free.
 */
int schema_catalog_build(const struct schema_preset *p, const char *ns,
    char *const *user_labels, size_t nuser, struct schema_catalog *cat,
    struct perr *e);

void schema_catalog_free(struct schema_catalog *cat);

#endif
