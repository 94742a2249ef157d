/*
 * aggregate.h - fold journal records into per-series state.
 *
 * A series is one workflow (or one step of a workflow) with one set of user
 * labels.  Folding is deterministic: the state after a sequence of records
 * depends only on the records and their order, never on when folding
 * happened, so a render from a checkpoint and a render from scratch agree.
 *
 * Rules (DESIGN.md's "How runs are counted" says the same for users):
 * - run and finish events count one run each under their status; the
 *   duration histogram observes their duration (a finish without one gets
 *   finish time - start time from its matching start).
 * - start events open a run, matched by (workflow, step, run id).  A start
 *   whose key is already open replaces the older one.
 * - A run is lost when it is not finished within lost_after of its start.
 *   At render time (agg_live_at) an open start older than that counts once
 *   as lost and leaves in_progress.  A finish arriving later than lost_after
 *   after its start folds as: lost +1 at start + lost_after, then the real
 *   outcome as a "late finish": late[status] +1, histogram, and the last-run
 *   gauges, but not runs[status], so runs_total counts every run exactly
 *   once and never goes backwards.
 * - Gauges (latest outcome, run, duration, success, start) take the value
 *   with the newest time; on equal times the later record wins.
 * - Labels outside a configured allow-list are dropped, and so are the
 *   foreign ones (job, instance, textfile: run_label_foreign), which
 *   records written before promrun-record refused them may carry; a finish
 *   without labels belongs to the series of its start.
 *
 * Serialization: agg_write_state emits the whole state as journal payloads
 * ("meta", one "snapshot" per series, the open runs as "start" records in
 * their order); folding those payloads into an empty aggregate gives the
 * same state.  Checkpoints and compaction both use it.
 */
#ifndef PROMRUN_AGGREGATE_H
#define PROMRUN_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "journal/run.h"

struct agg_config {
	const double *buckets;	/* upper bounds, strictly increasing, finite;
				   +Inf is implicit */
	size_t nbuckets;
	char *const *labels;	/* allow-list; nlabels 0 keeps every label */
	size_t nlabels;
	double lost_after;	/* seconds */
	size_t max_series;	/* most series allowed; 0: no limit */
};

struct agg_hist {
	uint64_t count;
	double sum;
	uint64_t *buckets;	/* nbuckets + 1 counts, not cumulative, the
				   last one above every bound; NULL while
				   count is 0 */
};

struct agg_series {
	const char *workflow;
	const char *step;		/* NULL: the workflow itself */
	const struct run_label *labels;	/* sorted by name */
	size_t nlabels;
	uint64_t runs[RUN_STATUS_COUNT];
	uint64_t late[RUN_STATUS_COUNT];
	struct agg_hist hist[RUN_STATUS_COUNT];
	bool has_outcome;		/* latest outcome, lost included */
	double outcome_time;
	enum run_status outcome;
	bool has_run;			/* latest finished run */
	double run_time;
	bool has_duration;		/* latest finished run with a duration */
	double duration_time;
	double duration;
	bool has_success;
	double success_time;
	bool has_start;
	double start_time;
};

struct agg;

/*
 * agg_new: an empty aggregate.  cfg's arrays are copied.  Returns 0, or
 * PERR_NOMEM.
 */
int agg_new(struct agg **out, const struct agg_config *cfg, struct perr *e);

void agg_free(struct agg *a);

/*
 * agg_fold: fold one journal payload (as journal_scan hands it: payload
 * [0..len] writable, modified in place).  Accepts run, start, finish,
 * snapshot and meta records.  Returns 0; PERR_CORRUPT for a payload that is
 * not a valid record (counted as a corrupt record, state unchanged);
 * PERR_FAILED when a new series would pass max_series (state unchanged, e
 * names the label with the most distinct values); PERR_NOMEM.
 */
int agg_fold(struct agg *a, char *payload, size_t len, struct perr *e);

/*
 * agg_fold_run: fold a run already decoded from a journal payload (a
 * reader that needs the run itself too, such as the receiver rebuilding its
 * index); the same as agg_fold on the payload.  Returns as agg_fold.
 */
int agg_fold_run(struct agg *a, const struct run *r, struct perr *e);

/*
 * agg_admit: would folding runs[0..n) (validated runs, in order) stay
 * within max_series, when pending new series are already promised to runs
 * not folded yet?  The dry run of agg_fold's series limit, for a writer
 * that must refuse a run before storing it.  A finish without labels joins
 * the series of its start (open, or earlier among runs).  *added receives
 * how many distinct new series the runs make.  Returns 0; PERR_FAILED
 * worded as agg_fold words it, with *bad the index of the first run past
 * the limit; PERR_NOMEM.  The state is unchanged.
 */
int agg_admit(struct agg *a, const struct run *const *runs, size_t n,
    size_t pending, size_t *added, size_t *bad, struct perr *e);

/* agg_add_damage: count damaged journal regions the scanner skipped. */
void agg_add_damage(struct agg *a, uint64_t regions);

/* Records folded: user records (run, start, finish) and corrupt ones. */
uint64_t agg_records_ok(const struct agg *a);
uint64_t agg_records_corrupt(const struct agg *a);

/*
 * agg_records_foreign: user records folded by this aggregate (not counted
 * in the state it writes or loads) that carried a foreign label, dropped.
 */
uint64_t agg_records_foreign(const struct agg *a);

/* The series, in the order they appeared; index < agg_nseries. */
size_t agg_nseries(const struct agg *a);
const struct agg_series *agg_series_at(const struct agg *a, size_t index);

/*
 * agg_busiest_label: the label (workflow, step or a user label) with the
 * most distinct values over all series, copied into name (size bytes), and
 * how many values it has, to name the label that exploded when a series
 * limit is hit.  "workflow" for an empty aggregate.
 */
void agg_busiest_label(const struct agg *a, char *name, size_t size,
    size_t *distinct);

/*
 * agg_changed: the series whose state (struct agg_series) folds changed
 * since the last agg_changed_clear (or since the aggregate was made), each
 * once, in (*changed)[0..*n), valid until the next fold.  What the open
 * runs mean at a time (agg_live_at) is not part of it.  For a caller that
 * renders again only what changed (promrun-rules replays a journal a
 * scrape at a time).
 */
void agg_changed(const struct agg *a, const size_t **changed, size_t *n);
void agg_changed_clear(struct agg *a);

/* The bucket bounds in use (nbuckets of them, +Inf not included). */
const double *agg_buckets(const struct agg *a, size_t *nbuckets);

/* What the open runs mean at a given time, per series. */
struct agg_live {
	uint64_t lost;		/* open runs past lost_after */
	uint64_t in_progress;	/* open runs within it */
	bool has_lost;
	double lost_deadline;	/* latest start + lost_after among the lost */
};

/*
 * agg_live_at: fill live[0..agg_nseries) for time now.  Returns 0.
 */

/*
 * agg_next_lost: the earliest time at or after now past which an open run
 * counts as lost (its start plus lost_after), or INFINITY.  What agg_live_at
 * gives stays the same from now until then, so a render made now holds
 * until then, while nothing is folded.
 */
double agg_next_lost(const struct agg *a, double now);
int agg_live_at(const struct agg *a, double now, struct agg_live *live);

/*
 * agg_write_state: emit the state as payloads (no framing, no newline),
 * each by calling emit; stops at emit's first non-zero return and returns
 * it.  Returns 0, or PERR_NOMEM.
 */
int agg_write_state(const struct agg *a,
    int (*emit)(void *ctx, const char *payload, size_t len), void *ctx,
    struct perr *e);

/*
 * agg_config_fingerprint: the settings that change folded state (buckets,
 * allow-list, lost_after) as one line, for a checkpoint to compare.
 */
int agg_config_fingerprint(const struct agg_config *cfg, struct buf *out);

#endif
