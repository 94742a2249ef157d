/*
 * series.h - validated exposition text as the time series a remote-write
 * or OTLP request carries: every sample one series, its labels those of
 * the sample plus the grouping key's (job and -g labels, as the Pushgateway
 * would add them), sorted by name, with empty values left out (Prometheus
 * reads an empty value as no label, and remote write forbids sending one).
 *
 * The text must have passed push_load or push_validate already; this
 * parses it again (expfmt.h) and checks what only shows once the grouping
 * labels are added and the empty ones dropped, as the remote-write spec
 * asks of a sender: names valid ([a-zA-Z_:][a-zA-Z0-9_:]* for metrics,
 * [a-zA-Z_][a-zA-Z0-9_]* for labels, never empty), no name twice in a
 * series, no series twice.  Refused with PERR_INVALID and "WHAT:LINE: ".
 */
#ifndef PROMRUN_SERIES_H
#define PROMRUN_SERIES_H

#include <stdbool.h>
#include <stddef.h>

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
};

struct series_chunk;

struct series_set {
	struct series_family *families;
	size_t nfamilies;
	struct series *series;
	size_t nseries;
	double start_time;	/* SERIES_START_METRIC's value, or NaN */
	struct series_chunk *chunks;	/* strings and label arrays */
	size_t cap_families, cap_series;
	struct hmap keys;		/* key -> index into series */
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

/* series_find: the index of the series with key[0..len), or false. */
bool series_find(const struct series_set *s, const char *key, size_t len,
    size_t *index);

/* series_set_free: release everything; the set is empty after. */
void series_set_free(struct series_set *s);

/*
 * series_write_key: append name{l1="v1",...} (values escaped as in the
 * exposition format; no braces without labels) to b.  buf.h's errors.
 */
int series_write_key(struct buf *b, const char *name,
    const struct expfmt_label *labels, size_t n);

#endif
