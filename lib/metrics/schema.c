/* schema.c - the presets' metric families as data (see schema.h). */
#define _POSIX_C_SOURCE 200809L
#include "metrics/schema.h"
#include "common/buf.h"
#include "common/text.h"

#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Label lists used by several families. */
#define L_WORKFLOW {"workflow", SRC_WORKFLOW}
#define L_STEP {"step", SRC_STEP}
#define L_STATUS {"status", SRC_STATUS}
#define L_USER {NULL, SRC_USER_ALL}

#define SELF_FAMILIES \
	{"promrun_build_info", EXPFMT_GAUGE, \
	    "promrun's version; the value is always 1.", SV_BUILD_INFO, \
	    SCOPE_SELF, false, true, \
	    {{"preset", SRC_PRESET}, {"version", SRC_VERSION}}}, \
	{"promrun_journal_records_total", EXPFMT_COUNTER, \
	    "Journal records read: intact (ok) and damaged regions skipped " \
	    "(corrupt).", SV_RECORDS, SCOPE_SELF, false, true, \
	    {{"preset", SRC_PRESET}, {"result", SRC_RESULT}}}, \
	{"promrun_render_timestamp_seconds", EXPFMT_GAUGE, \
	    "When this file was rendered, in Unix seconds.", SV_RENDER_TIME, \
	    SCOPE_SELF, false, true, {{"preset", SRC_PRESET}}}

/* The shapes native renders for a scope; what is "workflow" or "step". */
#define NATIVE_FAMILIES(prefix, scope, what, ...) \
	{prefix "_runs_total", EXPFMT_COUNTER, \
	    "Finished " what " runs by outcome; lost runs were started and " \
	    "not finished in time.", SV_RUNS, scope, false, false, \
	    {__VA_ARGS__, L_STATUS, L_USER}}, \
	{prefix "_up", EXPFMT_GAUGE, \
	    "1 if the latest " what " run succeeded, else 0.", SV_UP, scope, \
	    false, false, {__VA_ARGS__, L_USER}}, \
	{prefix "_run_duration_seconds", EXPFMT_HISTOGRAM, \
	    "Durations of finished " what " runs in seconds.", SV_DURATION, \
	    scope, false, false, {__VA_ARGS__, L_STATUS, L_USER}}, \
	{prefix "_last_run_duration_seconds", EXPFMT_GAUGE, \
	    "Duration of the latest finished " what " run in seconds.", \
	    SV_LAST_DURATION, scope, false, false, {__VA_ARGS__, L_USER}}, \
	{prefix "_last_run_timestamp_seconds", EXPFMT_GAUGE, \
	    "End time of the latest finished " what " run, Unix seconds.", \
	    SV_LAST_RUN_TIME, scope, false, false, {__VA_ARGS__, L_USER}}, \
	{prefix "_last_success_timestamp_seconds", EXPFMT_GAUGE, \
	    "End time of the latest successful " what " run, Unix seconds; " \
	    "0 if none of its finished runs succeeded.", \
	    SV_LAST_SUCCESS_TIME, scope, false, false, \
	    {__VA_ARGS__, L_USER}}, \
	{prefix "_last_start_timestamp_seconds", EXPFMT_GAUGE, \
	    "Start time of the latest " what " run, Unix seconds.", \
	    SV_LAST_START_TIME, scope, false, false, {__VA_ARGS__, L_USER}}, \
	{prefix "_in_progress", EXPFMT_GAUGE, \
	    "Runs of the " what " started and neither finished nor lost " \
	    "yet.", \
	    SV_IN_PROGRESS, scope, false, false, {__VA_ARGS__, L_USER}}, \
	{prefix "_late_finishes_total", EXPFMT_COUNTER, \
	    "Finishes of " what " runs that had already been counted as lost, " \
	    "by their real outcome.", SV_LATE_FINISHES, scope, false, false, \
	    {__VA_ARGS__, L_STATUS, L_USER}}

static const struct schema_family native_families[] = {
	NATIVE_FAMILIES("workflow", SCOPE_WORKFLOW, "workflow", L_WORKFLOW),
	NATIVE_FAMILIES("step", SCOPE_STEP, "step", L_WORKFLOW, L_STEP),
	SELF_FAMILIES,
};

/* Chainloop's control plane: its names, labels, HELP texts and buckets. */
static const double chainloop_buckets[] = {
	10, 30, 60, 90, 120, 180, 240, 300, 600, 900, 1200,
};

static const struct schema_family chainloop_families[] = {
	{"chainloop_workflow_up", EXPFMT_GAUGE,
	    "Indicate if the last run was successful.", SV_UP, SCOPE_WORKFLOW,
	    false, false, {{"org", SRC_USER}, L_WORKFLOW}},
	{"chainloop_workflow_run_duration_seconds", EXPFMT_HISTOGRAM,
	    "Duration of a workflow runs in seconds.", SV_DURATION,
	    SCOPE_WORKFLOW, false, false,
	    {{"org", SRC_USER}, L_WORKFLOW, L_STATUS, {"runner", SRC_USER}}},
	SELF_FAMILIES,
};

/* pipeline-run-prometheus-counter: one counter family per pipeline. */
static const struct schema_family prpc_families[] = {
	{"_pipeline_run_total", EXPFMT_COUNTER,
	    "The total number of %s pipeline runs.", SV_RUNS, SCOPE_WORKFLOW,
	    true, false, {L_STATUS}},
	SELF_FAMILIES,
};

/* ATTEST's documented core pipeline metrics. */
static const struct schema_family attest_families[] = {
	{"pipeline_executions_total", EXPFMT_COUNTER,
	    "Total pipeline executions by status.", SV_RUNS, SCOPE_WORKFLOW,
	    false, false, {L_STATUS}},
	{"pipeline_duration_seconds", EXPFMT_HISTOGRAM,
	    "Pipeline execution duration in seconds.", SV_DURATION,
	    SCOPE_WORKFLOW, false, false, {{"pipeline", SRC_WORKFLOW}}},
	{"step_duration_seconds", EXPFMT_HISTOGRAM,
	    "Pipeline step duration in seconds.", SV_DURATION, SCOPE_STEP,
	    false, false, {L_STEP, L_STATUS}},
	SELF_FAMILIES,
};

_Static_assert(NELEM(native_families) <= SCHEMA_MAX_FAMILIES &&
    NELEM(chainloop_families) <= SCHEMA_MAX_FAMILIES &&
    NELEM(prpc_families) <= SCHEMA_MAX_FAMILIES &&
    NELEM(attest_families) <= SCHEMA_MAX_FAMILIES,
    "a preset with more than SCHEMA_MAX_FAMILIES families");

const struct schema_preset schema_presets[] = {
	{"native", "ci",
	    {NULL, "success", "failure", "cancelled", "timeout", "lost"},
	    NULL, 0, native_families, NELEM(native_families), {NULL}},
	{"chainloop", NULL,
	    {NULL, "success", "error", "canceled", "error", "expired"},
	    chainloop_buckets, NELEM(chainloop_buckets), chainloop_families,
	    NELEM(chainloop_families), {NULL}},
	{"prpc", NULL,
	    {NULL, "success", "failure", "failure", "failure", "failure"},
	    NULL, 0, prpc_families, NELEM(prpc_families),
	    {"success", "failure", NULL}},
	{"attest", "attest",
	    {NULL, "success", "failure", "failure", "failure", "failure"},
	    NULL, 0, attest_families, NELEM(attest_families), {NULL}},
};

const size_t schema_npresets = NELEM(schema_presets);

const struct schema_preset *
schema_preset_find(const char *name, struct perr *e)
{
	char q[PERR_QUOTE_MAX];
	size_t i;

	for (i = 0; i < schema_npresets; i++)
		if (strcmp(schema_presets[i].name, name) == 0)
			return &schema_presets[i];
	perr_set(e, PERR_INVALID, "unknown preset %s: use native, chainloop, "
	    "prpc or attest", perr_quote(name, q));
	return NULL;
}

int
schema_check_namespace(const struct schema_preset *p, const char *ns,
    struct perr *e)
{
	char q[PERR_QUOTE_MAX];

	if (ns == NULL)
		return 0;
	if (p->default_namespace == NULL)
		return perr_set(e, PERR_INVALID, "preset %s has fixed metric "
		    "names and takes no namespace (given %s)", p->name,
		    perr_quote(ns, q));
	if (!metric_name_valid(ns))
		return perr_set(e, PERR_INVALID, "invalid namespace %s: use a "
		    "metric-name prefix matching [a-zA-Z_:][a-zA-Z0-9_:]*",
		    perr_quote(ns, q));
	return 0;
}

int
schema_sanitize_name(const char *s, struct buf *out)
{
	int rc;

	if (*s >= '0' && *s <= '9' && (rc = buf_addc(out, '_')) != 0)
		return rc;
	for (; *s != '\0'; s++) {
		char c = *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == ':';

		if ((rc = buf_addc(out, ok ? c : '_')) != 0)
			return rc;
	}
	return 0;
}

int
schema_family_name(const struct schema_preset *p, const char *ns,
    const struct schema_family *f, const char *workflow, struct buf *out)
{
	int rc;

	if (f->per_workflow_name) {
		rc = workflow != NULL ? schema_sanitize_name(workflow, out) :
		    buf_addc(out, '*');
		return rc != 0 ? rc : buf_adds(out, f->name);
	}
	if (f->self || p->default_namespace == NULL)
		return buf_adds(out, f->name);
	if ((rc = buf_adds(out, ns != NULL ? ns : p->default_namespace)) != 0 ||
	    (rc = buf_addc(out, '_')) != 0)
		return rc;
	return buf_adds(out, f->name);
}

/* --- the catalog --- */

static void
add_label(struct schema_metric *m, const char *name)
{
	if (m->nlabels < NELEM(m->labels))
		m->labels[m->nlabels++] = name;
}

static void
fill_labels(const struct schema_preset *p, const struct schema_family *f,
    char *const *user, size_t nuser, struct schema_metric *m)
{
	size_t i, k;

	for (i = 0; i < SCHEMA_MAX_LABELS && f->labels[i].source != SRC_END;
	    i++) {
		if (f->labels[i].source != SRC_USER_ALL) {
			add_label(m, f->labels[i].name);
			continue;
		}
		for (k = 0; k < nuser; k++)
			add_label(m, user[k]);
	}
	if (f->value != SV_RUNS && f->value != SV_DURATION &&
	    f->value != SV_LATE_FINISHES)
		return;
	for (i = 1; i < RUN_STATUS_COUNT; i++) {
		const char *v = p->status_names[i];
		bool dup = false;

		for (k = 0; k < m->nstatus_values; k++)
			dup = dup || strcmp(m->status_values[k], v) == 0;
		if (v != NULL && !dup)
			m->status_values[m->nstatus_values++] = v;
	}
}

static int
add_metric(struct schema_catalog *cat, const struct schema_preset *p,
    const struct schema_family *f, const char *base, const char *suffix,
    char *const *user, size_t nuser)
{
	struct buf name = BUF_INIT(4096);
	struct schema_metric *m;

	if (buf_adds(&name, base) != 0 || buf_adds(&name, suffix) != 0)
		return PERR_NOMEM;
	m = &cat->metrics[cat->count++];
	memset(m, 0, sizeof(*m));
	m->name = buf_take(&name);
	if ((m->family = strdup(base)) == NULL)
		return PERR_NOMEM;
	m->type = f->type;
	m->help = f->help;
	fill_labels(p, f, user, nuser, m);
	if (strcmp(suffix, "_bucket") == 0)
		add_label(m, "le");
	return 0;
}

int
schema_catalog_build(const struct schema_preset *p, const char *ns,
    char *const *user_labels, size_t nuser, struct schema_catalog *cat,
    struct perr *e)
{
	static const char *const hist[] = {"_bucket", "_sum", "_count"};
	struct buf base = BUF_INIT(4096);
	size_t i, k, n;
	int rc = 0;

	memset(cat, 0, sizeof(*cat));
	cat->metrics = calloc(p->nfamilies * 3, sizeof(*cat->metrics));
	if (cat->metrics == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	for (i = 0; i < p->nfamilies && rc == 0; i++) {
		const struct schema_family *f = &p->families[i];

		buf_reset(&base);
		if (schema_family_name(p, ns, f, NULL, &base) != 0) {
			rc = PERR_NOMEM;
			break;
		}
		n = f->type == EXPFMT_HISTOGRAM ? 3 : 1;
		for (k = 0; k < n && rc == 0; k++) {
			rc = add_metric(cat, p, f, buf_str(&base),
			    n == 3 ? hist[k] : "", user_labels, nuser);
		}
	}
	buf_free(&base);
	if (rc != 0) {
		schema_catalog_free(cat);
		return perr_set(e, PERR_NOMEM, "out of memory");
	}
	return 0;
}

void
schema_catalog_free(struct schema_catalog *cat)
{
	size_t i;

	for (i = 0; i < cat->count; i++) {
		free(cat->metrics[i].name);
		free(cat->metrics[i].family);
	}
	free(cat->metrics);
	cat->metrics = NULL;
	cat->count = 0;
}
