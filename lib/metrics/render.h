/*
 * render.h - format an aggregate through a preset's schema as exposition
 * text: the projection from per-series state to the families a preset
 * shows.
 *
 * Each family groups the series of its scope by its own labels (a preset
 * that shows fewer labels than the series have merges them): counters and
 * histograms add up, in_progress adds up, the "last" gauges take the newest
 * value, and up follows the newest outcome.  Statuses map onto the preset's
 * vocabulary (chainloop's error, canceled, expired; success/failure for
 * prpc and attest), merging those that map to the same value.  Counters
 * show every status value from the start (zero included), so rate() sees
 * the first failure; histograms show only statuses with observations.
 * Status values are written in the preset's status_order when it has one
 * (prpc: success, then failure, as PRPC does), else sorted.
 * All series of a family carry the same label names, "" where a series has
 * no value: node_exporter refuses a family whose series differ, and
 * Prometheus reads "" as no label.
 */
#ifndef PROMRUN_RENDER_H
#define PROMRUN_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics/aggregate.h"
#include "common/buf.h"
#include "common/err.h"
#include "metrics/schema.h"

/* --- formatting --- */

/*
 * render_sample_fn: one sample, for callers that want the samples rather
 * than text (promrun-rules replays a journal as scrapes): the family's
 * full name, the sample's name (with _bucket, _sum, _count), its labels
 * and value, and the row it belongs to: series, the aggregate index of the
 * row's first series, and nseries, how many series the row adds up
 * (SIZE_MAX and 0 for promrun's own families).  Returns 0, or an error
 * code that stops the render.
 */
typedef int (*render_sample_fn)(void *ctx, const char *name,
    const struct expfmt_label *labels, size_t nlabels, double value,
    size_t series, size_t nseries);

/* render_want_fn: whether family name is wanted (false: skipped whole). */
typedef bool (*render_want_fn)(void *ctx, const char *family);

/* render_want_series_fn: whether the series at index is rendered. */
typedef bool (*render_want_series_fn)(void *ctx, size_t index);

/* The preset's status values in the order samples show them, and each
 * status's index among them (-1: not shown): render_format.statuses. */
struct render_statuses {
	const struct schema_preset *preset;	/* NULL: none made yet */
	const char *values[RUN_STATUS_COUNT];
	size_t n;
	int value_of[RUN_STATUS_COUNT];
};

struct render_format {
	const struct schema_preset *preset;
	const char *ns;			/* NULL: the preset's default */
	double now;			/* lost, in_progress, render time */
	size_t max_series;		/* most samples allowed; 0: no limit */
	bool no_self;			/* leave promrun's own families out (the
					   receiver's /metrics in preset prpc is
					   exactly PRPC's text) */
	/* When on_sample is set, every sample goes to it, in the order the
	   text would have them, and no text is made (the sink, which may
	   then be NULL, is called with nothing).  want, when set, skips the
	   families it refuses (those whose names depend on the workflow,
	   prpc's, are always made). */
	render_sample_fn on_sample;
	render_want_fn want;
	/* want_memo, when set, keeps want's answers between renders: one
	   entry per family of the preset, zeroed before the first render
	   (0: not asked yet, 1: wanted, -1: not), so that a caller that
	   renders again and again asks once per family. */
	signed char *want_memo;
	/* statuses, when set, keeps what renders work out from the
	   preset's statuses (below), zeroed before the first render and
	   left to them, for a caller that renders again and again. */
	struct render_statuses *statuses;
	/* unsorted, with on_sample: a family's rows come in the order of
	   their first series instead of sorted by their labels (prpc's
	   families named per workflow are sorted still), for a caller that
	   takes samples by the row they belong to, not by their order. */
	bool unsorted;
	/* want_series, when set, leaves out the series it refuses: rows are
	   made of the wanted series alone (a caller that renders part of the
	   series must want every series of the rows it wants), and the
	   series limit is not checked.  promrun's own families are made
	   whatever it says.  For a caller that renders again only what
	   changed (promrun-rules' replay). */
	render_want_series_fn want_series;
	/* singletons, with want_series: the caller vouches that no two of
	   the series it wants share a row (a whole render before set no
	   *merged, and no series came since), so each makes its own row,
	   not looked up by its labels. */
	bool singletons;
	/* merged, when set, is set to true when a row of a family made adds
	   up several series (left alone otherwise), samples or not. */
	bool *merged;
	/* What the open runs mean at now, agg_live_at's for the aggregate
	   (NULL: worked out), for a caller that has it already. */
	const struct agg_live *live;
	void *ctx;
	/* NULL, or a buffer the text is made in before the sink gets it
	   (its cap limits the text, as 2 GiB does without it): emptied
	   first, its memory kept for the caller's next render, so a server
	   rendering again and again does not map fresh pages each time.
	   Its contents after the call are unspecified. */
	struct buf *scratch;
};

/*
 * render_sink: receives the text in order, in a few large pieces.  Returns
 * 0, or a nonzero error code (having reported it itself) to stop.
 */
typedef int (*render_sink)(void *ctx, const char *text, size_t len);

/*
 * render_format: the exposition text of aggregate a under f, handed to
 * sink(ctx, ...): families sorted by name, each with one HELP and TYPE,
 * series sorted by their labels.  The text is made in full before the
 * sink sees any of it; a NULL sink is handed nothing (for a caller that
 * takes the samples from f->on_sample).  *nsamples receives the number
 * of samples (time series).  Returns 0; PERR_FAILED when there are more than f->max_series
 * samples (the sink is not called; e names the label with the most
 * values); PERR_NOMEM; or what the sink returned.
 */
int render_format(const struct agg *a, const struct render_format *f,
    render_sink sink, void *ctx, size_t *nsamples, struct perr *e);

/*
 * render_series_values: the values of the samples that render_format(a,
 * f, ...) would hand to on_sample for the rows of the aggregate's series
 * series[0..nseries), each row made of its series alone (a partial render,
 * f->singletons: no other series shares its labels), promrun's own
 * families left out: series by series, each in the order on_sample would
 * get them.  values[0..cap) receives them (those past cap are counted,
 * not written), counts[i] how many series[i] has, *n all of them.  f's
 * preset, ns, want, want_memo and now are used, and f->live, which is
 * required; nothing else.  For a caller that renders again and again
 * only the series that changed, and maps each value to a series of its
 * own by its place: no labels are made.  Returns 0 or PERR_NOMEM.
 */
int render_series_values(const struct agg *a, const struct render_format *f,
    const size_t *series, size_t nseries, double *values, size_t cap,
    size_t *counts, size_t *n, struct perr *e);

#endif
