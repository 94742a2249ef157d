/*
 * expfmt.h - the Prometheus text exposition format 0.0.4: a writer that
 * escapes and formats exactly as the format requires, and a strict parser
 * that validates a whole input before anyone acts on it.
 *
 * Writer: label values escape backslash, double quote and newline; HELP
 * escapes backslash and newline only; floats print "+Inf", "-Inf", "NaN",
 * otherwise the shortest form that reads back exactly (buf_add_double); no
 * timestamps; LF line ends.  Callers pass valid names and UTF-8 text.
 *
 * Parser: the input is checked line by line and the first problem is
 * reported as "WHAT:LINE: message", naming the offending text and what is
 * accepted.  Numbers and blanks are read exactly as Prometheus's own text
 * parser (prometheus/common expfmt, which the Pushgateway runs) reads them:
 * a value is Go's strconv.ParseFloat without hexadecimal or '_' (nan in any
 * case but unsigned, [+-]?inf or [+-]?infinity in any case, or a decimal
 * [+-]?(D+[.D*]|.D+)([eE][+-]?D+)?), and a finite spelling past the largest
 * double is out of range while one that underflows is not; "le" and
 * "quantile" values are such floats too; a timestamp is [+-]?D+ within 64
 * bits; a blank after the value announces a timestamp (a line ending in a
 * blank is refused) and nothing may follow the timestamp; the type of a
 * TYPE line is the rest of the line, blanks included; a HELP or TYPE line
 * with only a name sets nothing; blanks after the last newline are no line.
 * Refused besides: syntax errors; invalid metric or label names (and
 * label names starting with "__"); invalid UTF-8; a second HELP or TYPE for
 * a family, a TYPE after its samples; lines of one family not together; a
 * histogram or summary whose sample names collide with another family's;
 * a _bucket without "le", a summary sample without "quantile"; the same
 * label twice in a sample; the same series twice (an empty label value is
 * no label, so x{a=""} and x are one series); carriage returns and NUL
 * bytes anywhere; a missing final newline; and, with EXPFMT_NO_TIMESTAMPS,
 * timestamps.
 */
#ifndef PROMRUN_EXPFMT_H
#define PROMRUN_EXPFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"

#define EXPFMT_MAX_LABELS 64	/* labels in one sample */

enum expfmt_type {
	EXPFMT_UNTYPED = 0,
	EXPFMT_COUNTER,
	EXPFMT_GAUGE,
	EXPFMT_HISTOGRAM,
	EXPFMT_SUMMARY,
};

/* expfmt_type_name: "untyped", "counter", "gauge", "histogram", "summary". */
const char *expfmt_type_name(enum expfmt_type t);

struct expfmt_label {
	const char *name;
	const char *value;
};

/*
 * expfmt_name_cmp: the sign of strcmp(a, b) for names: the names of a
 * sample's labels mostly differ at their first byte, compared here before
 * a call (the parser and remote write sort every sample's labels).
 */
static inline int
expfmt_name_cmp(const char *a, const char *b)
{
	return a[0] != b[0] ? (int)(unsigned char)a[0] -
	    (int)(unsigned char)b[0] : strcmp(a, b);
}

/* --- writer --- */

/*
 * expfmt_write_header: "# HELP name help\n# TYPE name type\n" with help
 * escaped.  buf.h's errors.
 */
int expfmt_write_header(struct buf *b, const char *name, const char *help,
    enum expfmt_type type);

/* expfmt_write_label_value: v escaped for use between double quotes. */
int expfmt_write_label_value(struct buf *b, const char *v);

/*
 * expfmt_write_label_pairs: 'l1="v1",l2="v2"', the labels between a
 * series' braces, escaped, in the order given (nothing for none), for a
 * writer that puts series together from pieces made once.  buf.h's errors.
 */
int expfmt_write_label_pairs(struct buf *b, const struct expfmt_label *labels,
    size_t nlabels);

/*
 * expfmt_write_series: "name{l1="v1",...}", a sample line without its
 * value: the series' identity.  The braces are left out when nlabels is 0.
 * Labels are written in the order given.  buf.h's errors.
 */
int expfmt_write_series(struct buf *b, const char *name,
    const struct expfmt_label *labels, size_t nlabels);

/*
 * expfmt_write_series_lens: the same, the lengths known (lens[2i] and
 * lens[2i + 1] the strlen of labels[i]'s name and value, name_len of
 * name), and when escape is false, no value holding a character to
 * escape (a parsed sample's lens and escaped): the same bytes.
 */
int expfmt_write_series_lens(struct buf *b, const char *name,
    size_t name_len, const struct expfmt_label *labels, const size_t *lens,
    size_t nlabels, bool escape);

/*
 * expfmt_series_room: the most bytes expfmt_put_series_lens can write for
 * these lengths (as expfmt_write_series_lens takes them), no NUL.
 */
size_t expfmt_series_room(size_t name_len, const size_t *lens,
    size_t nlabels, bool escape);

/*
 * expfmt_put_series_lens: expfmt_write_series_lens's bytes at p, which
 * has expfmt_series_room's bytes free, for a caller that keeps the series
 * in memory of its own; no NUL.  Returns the end of what it wrote.
 */
char *expfmt_put_series_lens(char *p, const char *name, size_t name_len,
    const struct expfmt_label *labels, const size_t *lens, size_t nlabels,
    bool escape);

/*
 * expfmt_write_sample: "name{l1="v1",...} value\n" (expfmt_write_series,
 * a blank, the value, a newline).
 */
int expfmt_write_sample(struct buf *b, const char *name,
    const struct expfmt_label *labels, size_t nlabels, double value);

/* --- parser --- */

struct expfmt_family {
	const char *name;
	enum expfmt_type type;	/* EXPFMT_UNTYPED without a TYPE line */
	const char *help;	/* NULL without a HELP line */
	unsigned line;		/* where the family first appears */
};

struct expfmt_sample {
	const char *name;	/* as written: "x", "x_bucket", "x_count", ... */
	size_t name_len;	/* its strlen */
	const struct expfmt_family *family;
	const struct expfmt_label *labels;	/* as written, le/quantile included */
	const size_t *lens;	/* strlen of labels[i].name at 2i, of its
				   value at 2i + 1 */
	bool escaped;		/* a label value was written with an escape:
				   without one, none holds a character
				   expfmt_write_series would escape */
	size_t nlabels;
	double value;
	bool has_timestamp;
	long long timestamp;	/* milliseconds, when has_timestamp */
	unsigned line;
	size_t lines;		/* of the whole text, so at most as many
				   samples: for tables sized once */
};

/*
 * Callbacks, each optional (NULL).  family() is called when a family's
 * first line is read (its type and help may still be filled in by later
 * HELP/TYPE lines before its first sample); sample() for each sample.  A
 * non-zero return stops the parse and is returned.  Pointers are valid until
 * expfmt_parse returns.
 */
struct expfmt_handler {
	int (*family)(void *ctx, const struct expfmt_family *f);
	int (*sample)(void *ctx, const struct expfmt_sample *s);
	void *ctx;
};

#define EXPFMT_NO_TIMESTAMPS 1u	/* refuse samples that carry a timestamp */

struct expfmt_stats {
	size_t families;
	size_t samples;
	unsigned lines;
};

/*
 * expfmt_parse: parse and validate text[0..len).  The text is modified in
 * place (tokens are NUL-terminated and unescaped where they lie), so pass a
 * copy if the original is still needed; text[len] need not be writable.
 * what names the input in messages (a file name, "-" for stdin).  h may be
 * NULL to only validate; st may be NULL.  Returns 0; PERR_INVALID with
 * "WHAT:LINE: ..." for the first problem; PERR_NOMEM; or a callback's value.
 */
int expfmt_parse(char *text, size_t len, const char *what, unsigned flags,
    const struct expfmt_handler *h, struct expfmt_stats *st, struct perr *e);

#endif
