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
 * and value.  Returns 0, or an error code that stops the render.
 */
typedef int (*render_sample_fn)(void *ctx, const char *name,
    const struct expfmt_label *labels, size_t nlabels, double value);

/* render_want_fn: whether family name is wanted (false: skipped whole). */
typedef bool (*render_want_fn)(void *ctx, const char *family);

struct render_format {
	const struct schema_preset *preset;
	const char *ns;			/* NULL: the preset's default */
	double now;			/* lost, in_progress, render time */
	size_t max_series;		/* most samples allowed; 0: no limit */
	bool no_self;			/* leave promrun's own families out (the
					   receiver's /metrics in preset prpc is
					   exactly PRPC's text) */
	/* When on_sample is set, every sample goes to it, in the order the
	   text would have them, and no text is made (the sink is called with
	   nothing).  want, when set, skips the families it refuses (those
	   whose names depend on the workflow, prpc's, are always made). */
	render_sample_fn on_sample;
	render_want_fn want;
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
 * sink sees any of it.  *nsamples receives the number of samples (time
 * series).  Returns 0; PERR_FAILED when there are more than f->max_series
 * samples (the sink is not called; e names the label with the most
 * values); PERR_NOMEM; or what the sink returned.
 */
int render_format(const struct agg *a, const struct render_format *f,
    render_sink sink, void *ctx, size_t *nsamples, struct perr *e);

#endif
