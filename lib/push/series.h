/*
 * series.h - validated exposition text as the time series a remote-write
 * or OTLP request carries: every sample one series, its labels those of
 * the sample plus the grouping key's (job and -g labels, as the Pushgateway
 * would add them), sorted by name, with empty values left out (Prometheus
 * reads an empty value as no label, and remote write forbids sending one).
 *
 * The series are built from the samples of a parse (expfmt.h): the one
 * that validates the input (push_load_with and a series_adder), or one of
 * their own (series_set_add, for text validated already).  They check what
 * only shows once the grouping labels are added and the empty ones
 * dropped, as the remote-write spec asks of a sender: names valid
 * ([a-zA-Z_:][a-zA-Z0-9_:]* for metrics, [a-zA-Z_][a-zA-Z0-9_]* for
 * labels, never empty), no name twice in a series, no series twice.
 * Refused with PERR_INVALID and "WHAT:LINE: ".
 *
 * Names and label values point into the parsed text, which the set keeps;
 * nothing is copied per series but its key (into the set's map, or its
 * arena while the map need not hold it: see series_find).
 */
#ifndef PROMRUN_SERIES_H
#define PROMRUN_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/hmap.h"
#include "metrics/expfmt.h"
#include "push/grouping.h"

#define SERIES_MAX_LABELS (EXPFMT_MAX_LABELS + PUSH_MAX_GROUPING + 1)
#define SERIES_RENDER_METRIC "promrun_render_timestamp_seconds"
#define SERIES_START_METRIC "process_start_time_seconds"

struct series_family {
	const char *name;
	enum expfmt_type type;
	const char *help;	/* "" without a HELP line */
};

struct series {
	const char *name;	/* the sample's name (x, x_bucket, x_sum...) */
	size_t family;		/* index into the set's families */
	const struct expfmt_label *labels;	/* sorted by name */
	size_t nlabels;
	double value;
	const char *key;	/* name{l="v",...}: the series' identity */
	size_t key_len;
	unsigned line;		/* where the sample is, for messages */
	long long time;		/* ms: its input's render time, else now */
	const uint32_t *lens;	/* strlen of labels[i].name at 2i, of its
				   value at 2i + 1; NULL: not measured (a
				   series made by hand) */
};

struct series_chunk;
struct series_text;

struct series_set {
	struct series_family *families;
	size_t nfamilies;
	struct series *series;
	size_t nseries;
	double start_time;	/* SERIES_START_METRIC's value, or NaN */
	struct series_chunk *chunks;	/* strings and label arrays */
	struct series_text *texts;	/* the parsed texts, kept */
	size_t cap_families, cap_series;
	struct hmap keys;		/* key -> index, for series[0..keyed) */
	size_t keyed;
	struct hmap family_index;	/* family name -> index */
};

/* series_set_init: an empty set. */
void series_set_init(struct series_set *s);

/*
 * series_set_add: add the series of text[0..len) (not modified), named what
 * in messages, with the labels of g (job included) added to each, and
 * their time: the value of SERIES_RENDER_METRIC in this text when it has
 * one (when it was rendered), else now (seconds).  A set may take several
 * texts (the files of one push).  Returns 0, PERR_INVALID, PERR_NOMEM.
 */
int series_set_add(struct series_set *s, const char *text, size_t len,
    const char *what, const struct push_group *g, double now,
    struct perr *e);

/*
 * series_set_parse_keys: add the series whose keys (as series.key, without
 * value) are given, one per line in keys[0..len), each with value 0: the
 * way back from a key stored in a state file to its labels.  Keys of one
 * name must be together.  Returns 0, PERR_CORRUPT naming what, PERR_NOMEM.
 */
int series_set_parse_keys(struct series_set *s, const char *keys, size_t len,
    const char *what, struct perr *e);

/*
 * series_find: the index of the series with key[0..len), or false (also
 * when out of memory: the keys of a set's first text go into its map only
 * when a lookup or a later text needs them).
 */
bool series_find(struct series_set *s, const char *key, size_t len,
    size_t *index);

/*
 * Series from a parse the caller runs: series_adder_begin; expfmt_parse
 * with series_adder_handler(a) (or calling its sample function from a
 * handler of the caller's); then series_adder_end, once.  A problem of the
 * adder's own does not stop the parse: the adder keeps the first one, adds
 * nothing more, and gives it from series_adder_end, so the parse's own
 * problems (those of validation) come first, as when the text was
 * validated before its series were built.
 */
struct series_adder {
	struct series_set *s;
	const char *what;	/* the text's name, in messages */
	double now, render_time;
	struct expfmt_label group[PUSH_MAX_GROUPING + 1];	/* job first */
	size_t group_lens[2 * (PUSH_MAX_GROUPING + 1)];	/* their strlens */
	size_t ngroup;
	bool group_escape;	/* a group value has a byte a key escapes */
	size_t first;		/* the text's first series */
	bool check_names;	/* a group name the parser did not vouch for */
	bool sized;		/* the set's room made for the text */
	bool unkeyed;		/* keys kept out of the set's map so far */
	bool merged;		/* a sample had a label of the group's */
	const struct expfmt_family *last_family;	/* and its index: */
	size_t last_index;	/* samples of a family come together */
	struct buf key;
	int rc;			/* the first problem, in err */
	struct perr err;
};

/*
 * series_adder_begin: start adding to s the series of a text named what,
 * with the labels of g (NULL: none; the set copies them) and the time
 * series_set_add gives.  Returns 0 or PERR_NOMEM (in e).
 */
int series_adder_begin(struct series_adder *a, struct series_set *s,
    const char *what, const struct push_group *g, double now,
    struct perr *e);

/* series_adder_handler: callbacks for expfmt_parse that add to a. */
struct expfmt_handler series_adder_handler(struct series_adder *a);

/*
 * series_adder_end: finish: each series of the text gets its time, and the
 * set takes text (malloc'd, the parsed text its series point into; NULL
 * when they point into memory the set owns already), which it frees with
 * itself, also when this fails.  Called after a failed parse too (the
 * set is then of no use).  Returns 0 or the adder's first problem
 * (PERR_INVALID, PERR_LIMIT, PERR_NOMEM) in e.
 */
int series_adder_end(struct series_adder *a, char *text, struct perr *e);

/* series_set_free: release everything; the set is empty after. */
void series_set_free(struct series_set *s);

#endif
