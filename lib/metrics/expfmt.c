/* expfmt.c - exposition format 0.0.4 writer and validating parser (see expfmt.h). */
#define _POSIX_C_SOURCE 200809L
#include "metrics/expfmt.h"
#include "common/hmap.h"
#include "common/text.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const type_names[] = {
	"untyped", "counter", "gauge", "histogram", "summary",
};

const char *
expfmt_type_name(enum expfmt_type t)
{
	if ((unsigned)t >= sizeof(type_names) / sizeof(type_names[0]))
		return "untyped";
	return type_names[t];
}

/* --- writer --- */

/* Append s with the bytes in special escaped as \\, \" or \n. */
static int
add_escaped(struct buf *b, const char *s, const char *special)
{
	const char *run;
	int rc;

	for (;;) {
		run = s;
		s += strcspn(s, special);
		if (s > run && (rc = buf_add(b, run, (size_t)(s - run))) != 0)
			return rc;
		if (*s == '\0')
			return 0;
		if ((rc = buf_add(b, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" :
		    "\\\\", 2)) != 0)
			return rc;
		s++;
	}
}

int
expfmt_write_label_value(struct buf *b, const char *v)
{
	return add_escaped(b, v, "\\\"\n");
}

int
expfmt_write_header(struct buf *b, const char *name, const char *help,
    enum expfmt_type type)
{
	int rc;

	if ((rc = buf_adds(b, "# HELP ")) != 0 ||
	    (rc = buf_adds(b, name)) != 0 || (rc = buf_addc(b, ' ')) != 0 ||
	    (rc = add_escaped(b, help, "\\\n")) != 0 ||
	    (rc = buf_adds(b, "\n# TYPE ")) != 0 ||
	    (rc = buf_adds(b, name)) != 0 || (rc = buf_addc(b, ' ')) != 0 ||
	    (rc = buf_adds(b, expfmt_type_name(type))) != 0)
		return rc;
	return buf_addc(b, '\n');
}

int
expfmt_write_label_pairs(struct buf *b, const struct expfmt_label *labels,
    size_t nlabels)
{
	size_t i;
	int rc;

	for (i = 0; i < nlabels; i++) {
		if ((i > 0 && (rc = buf_addc(b, ',')) != 0) ||
		    (rc = buf_adds(b, labels[i].name)) != 0 ||
		    (rc = buf_add(b, "=\"", 2)) != 0 ||
		    (rc = expfmt_write_label_value(b, labels[i].value)) != 0 ||
		    (rc = buf_addc(b, '"')) != 0)
			return rc;
	}
	return 0;
}

/* The series part, one append per piece: exact at the buffer's cap. */
static int
write_series_pieces(struct buf *b, const char *name,
    const struct expfmt_label *labels, size_t nlabels)
{
	int rc;

	if ((rc = buf_adds(b, name)) != 0 || nlabels == 0)
		return rc;
	if ((rc = buf_addc(b, '{')) != 0 ||
	    (rc = expfmt_write_label_pairs(b, labels, nlabels)) != 0)
		return rc;
	return buf_addc(b, '}');
}

/* s[0..len), its bytes escaped for a label value, at p; the end. */
static char *
put_label_value(char *p, const char *s, size_t len)
{
	size_t run;
	char c;

	/* Most values have nothing to escape: one scan, one copy. */
	while ((run = strcspn(s, "\\\"\n")) < len) {
		memcpy(p, s, run);
		p += run;
		c = s[run];
		*p++ = '\\';
		*p++ = c == '\n' ? 'n' : c;
		s += run + 1;
		len -= run + 1;
	}
	memcpy(p, s, len);
	return p + len;
}

#define LENGTHS_KEPT 16		/* labels whose lengths are kept for the write */

size_t
expfmt_series_room(size_t name_len, const size_t *lens, size_t nlabels,
    bool escape)
{
	size_t room = name_len + 2, i;

	/* The longest it can be: every value byte escaped, if any may be. */
	for (i = 0; i < nlabels; i++)
		room += lens[2 * i] + (escape ? 2 : 1) * lens[2 * i + 1] + 4;
	return room;
}

char *
expfmt_put_series_lens(char *p, const char *name, size_t name_len,
    const struct expfmt_label *labels, const size_t *lens, size_t nlabels,
    bool escape)
{
	size_t i;

	memcpy(p, name, name_len);
	p += name_len;
	for (i = 0; i < nlabels; i++) {
		*p++ = i == 0 ? '{' : ',';
		memcpy(p, labels[i].name, lens[2 * i]);
		p += lens[2 * i];
		*p++ = '=';
		*p++ = '"';
		if (escape) {
			p = put_label_value(p, labels[i].value, lens[2 * i + 1]);
		} else {
			memcpy(p, labels[i].value, lens[2 * i + 1]);
			p += lens[2 * i + 1];
		}
		*p++ = '"';
	}
	if (nlabels > 0)
		*p++ = '}';
	return p;
}

int
expfmt_write_series_lens(struct buf *b, const char *name, size_t name_len,
    const struct expfmt_label *labels, const size_t *lens, size_t nlabels,
    bool escape)
{
	size_t room;
	char *p;
	int rc;

	/*
	 * Room for the longest it can be, then each byte in its place: a
	 * render or a push writes one per sample.  Near the buffer's cap,
	 * the exact way, a piece at a time.
	 */
	room = expfmt_series_room(name_len, lens, nlabels, escape);
	if (room > b->max - b->len)
		return write_series_pieces(b, name, labels, nlabels);
	if ((rc = buf_extend(b, room, &p)) != 0)
		return rc;
	p = expfmt_put_series_lens(p, name, name_len, labels, lens, nlabels,
	    escape);
	buf_truncate(b, (size_t)(p - b->p));
	return 0;
}

int
expfmt_write_series(struct buf *b, const char *name,
    const struct expfmt_label *labels, size_t nlabels)
{
	size_t lens[2 * LENGTHS_KEPT], i;

	if (nlabels > LENGTHS_KEPT)
		return write_series_pieces(b, name, labels, nlabels);
	for (i = 0; i < nlabels; i++) {
		lens[2 * i] = strlen(labels[i].name);
		lens[2 * i + 1] = strlen(labels[i].value);
	}
	return expfmt_write_series_lens(b, name, strlen(name), labels, lens,
	    nlabels, true);
}

int
expfmt_write_sample(struct buf *b, const char *name,
    const struct expfmt_label *labels, size_t nlabels, double value)
{
	int rc;

	if ((rc = expfmt_write_series(b, name, labels, nlabels)) != 0)
		return rc;
	if ((rc = buf_addc(b, ' ')) != 0 || (rc = buf_add_double(b, value)) != 0)
		return rc;
	return buf_addc(b, '\n');
}

/* --- parser --- */

struct fam {
	struct expfmt_family pub;
	bool has_type;
	bool has_help;
	bool has_samples;
};

struct parser {
	const char *what;
	unsigned flags;
	const struct expfmt_handler *h;
	struct perr *e;
	unsigned line;
	struct fam **fams;
	size_t nfams, capfams;
	struct fam *cur;		/* the family whose lines we are in */
	struct hmap names;		/* family name -> index in fams */
	struct hmap series;		/* series key -> line first seen */
	size_t lines;			/* newlines in the text */
	struct buf key;			/* scratch: the series key */
	struct expfmt_label labels[EXPFMT_MAX_LABELS];
	size_t lens[2 * EXPFMT_MAX_LABELS];	/* of each name and value */
	uint64_t key_hash;		/* of key, built by build_key */
	bool key_empty;			/* a label with an empty value left out */
	bool escaped;			/* a label value of the sample had an
					   escape */
	const char *first_cr;		/* the text's first CR, or its end */
};

static int fail(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Report a problem on the current line. */
static int
fail(struct parser *p, const char *fmt, ...)
{
	char msg[PERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return perr_set(p->e, PERR_INVALID, "%s:%u: %s", p->what, p->line,
	    msg);
}

static int
nomem(struct parser *p)
{
	return perr_set(p->e, PERR_NOMEM, "%s: out of memory", p->what);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char *
skip_blanks(char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

/*
 * The characters of names, by class: 1 starts a name (a letter or '_'),
 * 2 is ':' (in metric names only), 4 a digit (not first).  A table: a
 * name's every byte is looked at, the parser's busiest loop.
 */
enum { NAME_START = 1, NAME_COLON = 2, NAME_DIGIT = 4 };
static const unsigned char name_class[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2, 0, 0, 0, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
};

static bool
is_name_start(char c, bool metric)
{
	return name_class[(unsigned char)c] & (metric ? NAME_START |
	    NAME_COLON : NAME_START);
}

static bool
is_name_char(char c, bool metric)
{
	return name_class[(unsigned char)c] & (metric ? NAME_START |
	    NAME_COLON | NAME_DIGIT : NAME_START | NAME_DIGIT);
}

/* The end of the name starting at s (s itself when there is none). */
static char *
scan_name(char *s, bool metric)
{
	if (!is_name_start(*s, metric))
		return s;
	for (s++; is_name_char(*s, metric); s++)
		;
	return s;
}

/* The end of the token at s: up to a blank or the end of the line. */
static char *
scan_token(char *s)
{
	while (*s != '\0' && !is_blank(*s))
		s++;
	return s;
}

/* How a number token reads: the outcomes Prometheus's text parser has. */
enum number {
	NUMBER_OK,
	NUMBER_SYNTAX,		/* not a number it takes */
	NUMBER_RANGE,		/* well-formed, but past what 64 bits hold */
};

static size_t
scan_digits(const char *s)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/*
 * A float as Prometheus's text parser reads one: Go's strconv.ParseFloat,
 * less the hexadecimal forms and underscores the parser refuses ('p', 'P'
 * and '_').  That is nan in any case (no sign), [+-]?(inf|infinity) in any
 * case, or [+-]?(D+[.D*]|.D+)([eE][+-]?D+)? in ASCII digits: no blanks, no
 * "nan(...)", no hexadecimal, which strtod would take.  A finite spelling
 * that rounds past the largest double is out of range, as in Go; one that
 * underflows to a denormal or to zero is not.
 */
/*
 * The value of a decimal that parse_float has read, without strtod when
 * Clinger's fast path gives the same double: at most 19 digits making an
 * integer m <= 2^53, and a power of ten 10^k with |k| <= 22 (both exact
 * as doubles), so m * 10^k or m / 10^-k is one correctly rounded
 * operation, which is what strtod returns.  Where double arithmetic is
 * done in wider registers (x87), always false.  False otherwise, for
 * strtod to do.
 */
static bool
fast_decimal(const char *s, double *out)
{
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6,
	    1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
	    1e18, 1e19, 1e20, 1e21, 1e22};
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
	const char *p = s + (*s == '+' || *s == '-');
	uint64_t m = 0;
	int digits = 0, k = 0, e = 0, esign = 1;
	double v;

	for (; *p >= '0' && *p <= '9'; p++, digits++)
		m = m * 10 + (uint64_t)(*p - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, digits++, k--)
			m = m * 10 + (uint64_t)(*p - '0');
	if (digits > 19 || m > (1ull << 53))
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			esign = *p++ == '-' ? -1 : 1;
		for (digits = 0; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 4)
				e = e * 10 + (*p - '0');
		if (digits > 3)
			return false;
		k += esign * e;
	}
	if (k < -22 || k > 22)
		return false;
	v = (double)m;
	v = k < 0 ? v / pow10[-k] : v * pow10[k];
	*out = *s == '-' ? -v : v;
	return true;
#else
	(void)pow10;
	(void)s;
	(void)out;
	return false;
#endif
}

static enum number
parse_float(const char *s, double *out)
{
	const char *p = s + (*s == '+' || *s == '-');
	size_t whole, frac = 0, exp;

	/* Only a word can spell NaN or infinity (most values are digits). */
	if (!(*p >= '0' && *p <= '9') && *p != '.' &&
	    strcasecmp(s, "nan") == 0) {
		*out = NAN;
		return NUMBER_OK;
	}
	if (!(*p >= '0' && *p <= '9') && *p != '.' &&
	    (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0)) {
		*out = *s == '-' ? -INFINITY : INFINITY;
		return NUMBER_OK;
	}
	whole = scan_digits(p);
	p += whole;
	if (*p == '.') {
		frac = scan_digits(++p);
		p += frac;
	}
	if (whole + frac == 0)
		return NUMBER_SYNTAX;
	if (*p == 'e' || *p == 'E') {
		p += 1 + (p[1] == '+' || p[1] == '-');
		if ((exp = scan_digits(p)) == 0)
			return NUMBER_SYNTAX;
		p += exp;
	}
	if (*p != '\0')
		return NUMBER_SYNTAX;
	/* The grammar is strtod's decimal one too: only the value is left. */
	if (fast_decimal(s, out))
		return NUMBER_OK;
	*out = strtod(s, NULL);
	return isinf(*out) ? NUMBER_RANGE : NUMBER_OK;
}

/* A timestamp as Go's strconv.ParseInt(s, 10, 64): [+-]?D+ within 64 bits. */
static enum number
parse_int64(const char *s, long long *out)
{
	const char *p = s + (*s == '+' || *s == '-');
	size_t n = scan_digits(p);

	if (n == 0 || p[n] != '\0')
		return NUMBER_SYNTAX;
	errno = 0;
	*out = strtoll(s, NULL, 10);
	return errno == ERANGE ? NUMBER_RANGE : NUMBER_OK;
}

static int
check_utf8(struct parser *p, const char *what, const char *s)
{
	size_t bad;

	if (!utf8_valid(s, strlen(s), &bad))
		return fail(p, "%s is not valid UTF-8 (byte 0x%02x at offset %zu)",
		    what, (unsigned char)s[bad], bad);
	return 0;
}

/* --- families --- */

static struct fam *
family_named(struct parser *p, const char *name)
{
	size_t i;

	if (!hmap_find(&p->names, name, strlen(name), &i))
		return NULL;
	return p->fams[i];
}

static struct fam *
family_with_suffix(struct parser *p, const char *name, const char *suffix)
{
	size_t len = strlen(name), slen = strlen(suffix), i;

	if (len <= slen || strcmp(name + len - slen, suffix) != 0)
		return NULL;
	if (!hmap_find(&p->names, name, len - slen, &i))
		return NULL;
	return p->fams[i];
}

/*
 * The family a sample or declaration named name belongs to: the family of
 * that name, or a histogram/summary whose _bucket/_sum/_count it is.
 */
static struct fam *
owner_of(struct parser *p, const char *name)
{
	struct fam *f;

	/* Most lines continue the family of the line before. */
	if (p->cur != NULL && strcmp(p->cur->pub.name, name) == 0)
		return p->cur;
	if ((f = family_named(p, name)) != NULL)
		return f;
	if ((f = family_with_suffix(p, name, "_bucket")) != NULL &&
	    f->pub.type == EXPFMT_HISTOGRAM)
		return f;
	if (((f = family_with_suffix(p, name, "_sum")) != NULL ||
	    (f = family_with_suffix(p, name, "_count")) != NULL) &&
	    (f->pub.type == EXPFMT_HISTOGRAM || f->pub.type == EXPFMT_SUMMARY))
		return f;
	return NULL;
}

static int
new_family(struct parser *p, const char *name, struct fam **out)
{
	struct fam *f, **grown;
	size_t *slot, len;
	bool found;

	if (p->nfams == p->capfams) {
		p->capfams = p->capfams ? p->capfams * 2 : 16;
		grown = realloc(p->fams, p->capfams * sizeof(*grown));
		if (grown == NULL)
			return nomem(p);
		p->fams = grown;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return nomem(p);
	len = strlen(name);
	if (hmap_upsert_hashed(&p->names, hmap_hash(name, len), name, len,
	    &slot, &found, &f->pub.name) != 0) {
		free(f);
		return nomem(p);
	}
	*slot = p->nfams;
	f->pub.line = p->line;
	p->fams[p->nfams++] = f;
	p->cur = f;
	*out = f;
	if (p->h != NULL && p->h->family != NULL)
		return p->h->family(p->h->ctx, &f->pub);
	return 0;
}

/* A family's lines must be together: f may only continue the current one. */
static int
check_together(struct parser *p, struct fam *f)
{
	if (f == p->cur)
		return 0;
	return fail(p, "lines of family %s must be together: it was already "
	    "given at line %u", f->pub.name, f->pub.line);
}

/* Find or start the family a HELP or TYPE line names. */
static int
declared_family(struct parser *p, const char *name, struct fam **out)
{
	struct fam *f = owner_of(p, name);

	if (f != NULL && strcmp(f->pub.name, name) != 0)
		return fail(p, "%s belongs to %s %s (line %u): a family cannot "
		    "reuse its sample names", name, expfmt_type_name(f->pub.type),
		    f->pub.name, f->pub.line);
	if (f == NULL)
		return new_family(p, name, out);
	*out = f;
	return check_together(p, f);
}

/* A histogram or summary owns name_sum, name_count (and name_bucket). */
static int
check_suffix_free(struct parser *p, const struct fam *f,
    enum expfmt_type type)
{
	static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
	char name[1024];
	size_t i;
	struct fam *other;

	for (i = type == EXPFMT_HISTOGRAM ? 0 : 1; i < 3; i++) {
		if ((size_t)snprintf(name, sizeof(name), "%s%s", f->pub.name,
		    suffixes[i]) >= sizeof(name))
			continue;
		if ((other = family_named(p, name)) != NULL)
			return fail(p, "type conflict: %s %s would own %s, which "
			    "is a family of its own (line %u)",
			    expfmt_type_name(type), f->pub.name, name,
			    other->pub.line);
	}
	return 0;
}

static int
unescape_help(struct parser *p, char *s)
{
	char *w = s;

	for (; *s != '\0'; s++) {
		if (*s != '\\') {
			*w++ = *s;
			continue;
		}
		if (s[1] == '\\')
			*w++ = '\\';
		else if (s[1] == 'n')
			*w++ = '\n';
		else
			return fail(p, "invalid escape sequence \"\\%c\" in HELP: "
			    "only \\\\ and \\n are accepted", s[1] ? s[1] : ' ');
		s++;
	}
	*w = '\0';
	return 0;
}

static int
parse_help(struct parser *p, struct fam *f, char *rest)
{
	int rc;

	if (f->has_help)
		return fail(p, "second HELP line for %s", f->pub.name);
	if ((rc = unescape_help(p, rest)) != 0 ||
	    (rc = check_utf8(p, "HELP text", rest)) != 0)
		return rc;
	f->has_help = true;
	f->pub.help = rest;
	return 0;
}

static bool
type_from_word(const char *w, enum expfmt_type *t)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (strcasecmp(w, type_names[i]) == 0) {
			*t = (enum expfmt_type)i;
			return true;
		}
	}
	return false;
}

static int
parse_type(struct parser *p, struct fam *f, char *rest)
{
	char q[PERR_QUOTE_MAX];
	enum expfmt_type t;
	int rc;

	if (f->has_type)
		return fail(p, "second TYPE line for %s", f->pub.name);
	if (f->has_samples)
		return fail(p, "TYPE line for %s after its samples: it must "
		    "come first", f->pub.name);
	/* The rest of the line is the type, blanks included, as in Go's. */
	if (!type_from_word(rest, &t))
		return fail(p, "unknown type %s for %s: use counter, gauge, "
		    "histogram, summary or untyped, and nothing after it",
		    perr_quote(rest, q), f->pub.name);
	if ((t == EXPFMT_HISTOGRAM || t == EXPFMT_SUMMARY) &&
	    (rc = check_suffix_free(p, f, t)) != 0)
		return rc;
	f->has_type = true;
	f->pub.type = t;
	return 0;
}

/* "# HELP name text", "# TYPE name type", or a comment to ignore. */
static int
parse_comment(struct parser *p, char *s)
{
	char *kw = skip_blanks(s + 1), *kw_end = scan_token(kw);
	char *name, *name_end, q[PERR_QUOTE_MAX];
	bool help;
	struct fam *f;
	int rc;

	if ((size_t)(kw_end - kw) != 4 ||
	    (strncmp(kw, "HELP", 4) != 0 && strncmp(kw, "TYPE", 4) != 0))
		return 0;
	help = kw[0] == 'H';
	name = skip_blanks(kw_end);
	/* "# HELP" or "# TYPE" alone is a comment, as in Go's parser. */
	if (*name == '\0')
		return 0;
	name_end = scan_name(name, true);
	if (name_end == name || (*name_end != '\0' && !is_blank(*name_end)))
		return fail(p, "invalid metric name %s in %s line: names match "
		    "[a-zA-Z_:][a-zA-Z0-9_:]*", perr_quote(name, q),
		    help ? "HELP" : "TYPE");
	if (*name_end != '\0')
		*name_end++ = '\0';
	if ((rc = declared_family(p, name, &f)) != 0)
		return rc;
	name_end = skip_blanks(name_end);
	/* A HELP or TYPE line with only the name sets nothing, as in Go's. */
	if (*name_end == '\0')
		return 0;
	if (help)
		return parse_help(p, f, name_end);
	return parse_type(p, f, name_end);
}

/* --- samples --- */

/* name (len bytes) against the n labels before it: lengths first. */
static int
check_label_name(struct parser *p, const char *name, size_t len, size_t n)
{
	char q[PERR_QUOTE_MAX];
	size_t i;

	if (name[0] == '_' && name[1] == '_')
		return fail(p, "label name %s is reserved: names starting with "
		    "__ are Prometheus's", perr_quote(name, q));
	for (i = 0; i < n; i++)
		if (p->lens[2 * i] == len &&
		    memcmp(p->labels[i].name, name, len) == 0)
			return fail(p, "label %s given twice in one sample", name);
	return 0;
}

/*
 * The bytes of a label value: 0 ends a run of plain ones (NUL, '"', '\\'),
 * 0x80 is one of a multi-byte character (a UTF-8 check needed), 1 any
 * other.  A table: every byte of every value is looked at.
 */
static const unsigned char value_byte[256] = {
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
};

/*
 * Read "value" (after the opening quote) in place, its length in *len; *s
 * ends past the quote.  An escape is noted in p->escaped.
 */
static int
read_label_value(struct parser *p, char **s, const char **value,
    size_t *len)
{
	char *r = *s, *w = *s, *run;
	unsigned char high = 0;

	*value = w;
	for (;;) {
		/* Plain bytes stay put until an escape has shortened the value. */
		for (run = r; value_byte[(unsigned char)*r] != 0; r++)
			high |= value_byte[(unsigned char)*r];
		if (w != run)
			memmove(w, run, (size_t)(r - run));
		w += r - run;
		if (*r == '"')
			break;
		if (*r == '\0')
			return fail(p, "label value has no closing quote");
		p->escaped = true;
		r++;
		if (*r == '"' || *r == '\\')
			*w++ = *r;
		else if (*r == 'n')
			*w++ = '\n';
		else
			return fail(p, "invalid escape sequence \"\\%c\" in a label "
			    "value: only \\\\, \\\" and \\n are accepted",
			    *r ? *r : ' ');
		r++;
	}
	*w = '\0';
	*len = (size_t)(w - *value);
	*s = r + 1;
	/* ASCII (most values) is UTF-8: only other bytes need the check. */
	return high & 0x80 ? check_utf8(p, "label value", *value) : 0;
}

/* Parse "{name="value",...}" at *s; *s ends past the brace. */
static int
parse_labels(struct parser *p, char **s, size_t *n)
{
	char *c = *s + 1, *name, *name_end, q[PERR_QUOTE_MAX];
	int rc;

	*n = 0;
	for (;;) {
		c = skip_blanks(c);
		if (*c == '}')
			break;
		name = c;
		name_end = scan_name(c, false);
		if (name_end == name)
			return fail(p, "invalid label name at %s: names match "
			    "[a-zA-Z_][a-zA-Z0-9_]*", perr_quote(name, q));
		c = skip_blanks(name_end);
		if (*c != '=')
			return fail(p, "expected '=' after label name");
		*name_end = '\0';
		c = skip_blanks(c + 1);
		if (*c != '"')
			return fail(p, "expected '\"' to start the value of label %s",
			    name);
		if ((rc = check_label_name(p, name, (size_t)(name_end - name),
		    *n)) != 0)
			return rc;
		if (*n == EXPFMT_MAX_LABELS)
			return fail(p, "more than %d labels in one sample",
			    EXPFMT_MAX_LABELS);
		c++;
		p->labels[*n].name = name;
		if ((rc = read_label_value(p, &c, &p->labels[*n].value,
		    &p->lens[2 * *n + 1])) != 0)
			return rc;
		p->lens[2 * *n] = (size_t)(name_end - name);
		(*n)++;
		c = skip_blanks(c);
		if (*c == ',') {
			c++;
			continue;
		}
		if (*c != '}')
			return fail(p, "expected ',' or '}' after the value of "
			    "label %s", name);
		break;
	}
	*s = c + 1;
	return 0;
}

static const char *
label_value(const struct expfmt_label *l, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return l[i].value;
	return NULL;
}

/* What a number that does not read is, for messages. */
static const char *
number_problem(enum number n)
{
	return n == NUMBER_RANGE ? "is out of range (finite values are at "
	    "most 1.7976931348623157e308 in magnitude)" : "is not a number";
}

/*
 * In a histogram every "le" label, in a summary every "quantile" label, is
 * a float, as Prometheus's parser reads them; _bucket needs its le, a
 * summary's own samples their quantile.
 */
static int
check_special_label(struct parser *p, const struct fam *f, const char *name,
    size_t n)
{
	bool histogram = f->pub.type == EXPFMT_HISTOGRAM;
	const char *label, *v;
	char q[PERR_QUOTE_MAX];
	enum number num;
	double d;

	if (!histogram && f->pub.type != EXPFMT_SUMMARY)
		return 0;
	if (histogram && strcmp(name, f->pub.name) == 0)
		return fail(p, "histogram %s cannot have a sample named %s: use "
		    "%s_bucket, %s_sum and %s_count", name, name, name, name,
		    name);
	label = histogram ? "le" : "quantile";
	if ((v = label_value(p->labels, n, label)) == NULL) {
		if (histogram ? strcmp(name + strlen(f->pub.name), "_bucket") ==
		    0 : strcmp(name, f->pub.name) == 0)
			return fail(p, "%s needs a \"%s\" label", name, label);
		return 0;
	}
	if ((num = parse_float(v, &d)) != NUMBER_OK)
		return fail(p, "label %s=%s %s: use a float such as 0.5, or "
		    "+Inf", label, perr_quote(v, q), number_problem(num));
	return 0;
}

/* Insertion sort of label indexes by name: samples have few labels. */
static void
sort_labels(const struct expfmt_label *l, size_t n, size_t *order)
{
	size_t i, j, t;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && expfmt_name_cmp(l[order[j - 1]].name,
		    l[order[j]].name) > 0; j--) {
			t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
}

/*
 * A sample's identity for the duplicate check: its name, then its labels
 * with non-empty values sorted by name, each NUL-terminated, in p->key;
 * its hash in p->key_hash.  PERR_NOMEM past the key's limit.
 */
static int
build_key(struct parser *p, const char *name, size_t n)
{
	size_t order[EXPFMT_MAX_LABELS], i, j, len;
	char *w;

	sort_labels(p->labels, n, order);
	p->key_empty = false;
	/* Its length first (parse_labels kept each), then one append. */
	len = strlen(name) + 1;
	for (i = 0; i < n; i++)
		if (p->labels[order[i]].value[0] != '\0')
			len += p->lens[2 * order[i]] + p->lens[2 * order[i] + 1] +
			    2;
	buf_reset(&p->key);
	if (buf_extend(&p->key, len, &w) != 0)
		return PERR_NOMEM;
	len = strlen(name) + 1;
	memcpy(w, name, len);
	w += len;
	for (i = 0; i < n; i++) {
		j = order[i];
		/* An empty value is no label: x{a=""} and x are one series. */
		if (p->labels[j].value[0] == '\0') {
			p->key_empty = true;
			continue;
		}
		memcpy(w, p->labels[j].name, p->lens[2 * j] + 1);
		w += p->lens[2 * j] + 1;
		memcpy(w, p->labels[j].value, p->lens[2 * j + 1] + 1);
		w += p->lens[2 * j + 1] + 1;
	}
	/* Its slot on the way from memory while the sample is read on. */
	p->key_hash = hmap_hash(p->key.p, p->key.len);
	hmap_prefetch(&p->series, p->key_hash);
	return 0;
}

/*
 * The same name and label set twice is one series given twice.  The map
 * keeps each series' line, doubled, plus one when it had a label with an
 * empty value, so the message can say why two lines that differ are one.
 * built: build_key's return, for the key of this sample.
 */
static int
check_duplicate(struct parser *p, const char *name, int built)
{
	const char *stored;
	size_t *slot;
	bool found;

	if (built != 0 || hmap_upsert_hashed(&p->series, p->key_hash, p->key.p,
	    p->key.len, &slot, &found, &stored) != 0)
		return nomem(p);
	if (found)
		return fail(p, "duplicate series %s with the same labels as line "
		    "%zu%s", name, *slot / 2, p->key_empty || *slot % 2 ?
		    " once labels with empty values are left out (Prometheus "
		    "reads them as absent)" : "");
	*slot = p->line * 2 + p->key_empty;
	return 0;
}

/* The family of a sample: its owner, or a new untyped family. */
static int
sample_family(struct parser *p, const char *name, struct fam **out)
{
	struct fam *f = owner_of(p, name);

	if (f == NULL)
		return new_family(p, name, out);
	*out = f;
	return check_together(p, f);
}

/*
 * "VALUE" or "VALUE TIMESTAMP" ending the line, as Prometheus's parser
 * reads them: a blank after the value announces a timestamp, so a line
 * that ends in a blank is refused, and nothing, not even a blank, may
 * follow the timestamp.
 */
static int
parse_value_and_time(struct parser *p, char *c, struct expfmt_sample *smp)
{
	char *tok_end, q[PERR_QUOTE_MAX], qv[PERR_QUOTE_MAX];
	enum number num;
	bool more;
	char rest;

	c = skip_blanks(c);
	tok_end = scan_token(c);
	if ((more = *tok_end != '\0'))
		*tok_end++ = '\0';
	if ((num = parse_float(c, &smp->value)) != NUMBER_OK)
		return fail(p, "sample value %s %s: use a decimal float (1, "
		    "-2.5, 1e3), +Inf, -Inf or NaN", perr_quote(c, q),
		    number_problem(num));
	if (!more)
		return 0;
	perr_quote(c, qv);
	c = skip_blanks(tok_end);
	if (*c == '\0')
		return fail(p, "blank after the value %s at the end of the line: "
		    "the value ends the line, or one timestamp after it", qv);
	tok_end = scan_token(c);
	rest = *tok_end;
	*tok_end = '\0';
	if ((num = parse_int64(c, &smp->timestamp)) != NUMBER_OK)
		return fail(p, "timestamp %s %s: a timestamp is an integer "
		    "number of milliseconds", perr_quote(c, q),
		    num == NUMBER_RANGE ? "is out of range" :
		    "is not an integer");
	if (rest != '\0') {
		perr_quote(c, q);
		*tok_end = rest;
		return fail(p, "unexpected text after the timestamp %s: %s: the "
		    "timestamp ends the line", q, perr_quote(tok_end, qv));
	}
	if (p->flags & EXPFMT_NO_TIMESTAMPS)
		return fail(p, "sample has a timestamp (%s): timestamps are not "
		    "accepted here", c);
	smp->has_timestamp = true;
	return 0;
}

static int
parse_sample(struct parser *p, char *s)
{
	struct expfmt_sample smp;
	char *name_end, *c, q[PERR_QUOTE_MAX];
	size_t n = 0;
	struct fam *f;
	int rc, built;

	name_end = scan_name(s, true);
	if (name_end != s && *name_end == '\0')
		return fail(p, "sample %s has no value", s);
	if (name_end == s || (*name_end != '{' && !is_blank(*name_end)))
		return fail(p, "invalid metric name at %s: names match "
		    "[a-zA-Z_:][a-zA-Z0-9_:]* and are followed by labels or "
		    "a value", perr_quote(s, q));
	c = skip_blanks(name_end);
	p->escaped = false;
	if (*c == '{' && (rc = parse_labels(p, &c, &n)) != 0)
		return rc;
	*name_end = '\0';
	memset(&smp, 0, sizeof(smp));
	/* The key first, its problem (too long) reported in its turn. */
	built = build_key(p, s, n);
	if ((rc = parse_value_and_time(p, c, &smp)) != 0 ||
	    (rc = sample_family(p, s, &f)) != 0 ||
	    (rc = check_special_label(p, f, s, n)) != 0 ||
	    (rc = check_duplicate(p, s, built)) != 0)
		return rc;
	f->has_samples = true;
	smp.name = s;
	smp.name_len = (size_t)(name_end - s);
	smp.family = &f->pub;
	smp.labels = p->labels;
	smp.lens = p->lens;
	smp.escaped = p->escaped;
	smp.nlabels = n;
	smp.line = p->line;
	smp.lines = p->lines;
	if (p->h != NULL && p->h->sample != NULL)
		return p->h->sample(p->h->ctx, &smp);
	return 0;
}

/* The line s, ending (NUL-terminated) at end. */
static int
parse_line(struct parser *p, char *s, const char *end)
{
	/* Every line before had none: a CR before its end is in this one. */
	if (p->first_cr < end)
		return fail(p, "carriage return in line: lines end with LF only");
	s = skip_blanks(s);
	if (*s == '\0')
		return 0;
	if (*s == '#')
		return parse_comment(p, s);
	return parse_sample(p, s);
}

static void
parser_free(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->nfams; i++)
		free(p->fams[i]);
	free(p->fams);
	hmap_free(&p->names);
	hmap_free(&p->series);
	buf_free(&p->key);
}

int
expfmt_parse(char *text, size_t len, const char *what, unsigned flags,
    const struct expfmt_handler *h, struct expfmt_stats *st, struct perr *e)
{
	struct parser p;
	char *s = text, *end = text + len, *nl;
	const char *first_nul;
	size_t samples = 0;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	p.what = what;
	p.flags = flags;
	p.h = h;
	p.e = e;
	buf_init(&p.key, 1 << 20);
	/* A table for a series per line at once, not grown 64, 128, ... */
	p.lines = text_count_lines(text, len);
	(void)hmap_reserve(&p.series, p.lines);
	/*
	 * The first NUL and CR of the text, looked for once, not on each
	 * line: the lines before the one holding either have neither, and
	 * the parse stops at that one.  Found before any byte is written.
	 */
	if ((first_nul = memchr(text, '\0', len)) == NULL)
		first_nul = end;
	if ((p.first_cr = memchr(text, '\r', len)) == NULL)
		p.first_cr = end;
	while (s < end) {
		p.line++;
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL) {
			/* Blanks after the last LF are no line, as in Go's. */
			while (s < end && is_blank(*s))
				s++;
			if (s < end)
				rc = fail(&p, "missing newline at the end of the "
				    "input: the last line must end with LF");
			break;
		}
		*nl = '\0';
		if (first_nul < nl) {
			rc = fail(&p, "NUL byte in line");
			break;
		}
		if ((rc = parse_line(&p, s, nl)) != 0)
			break;
		s = nl + 1;
	}
	samples = p.series.count;
	if (st != NULL) {
		st->families = p.nfams;
		st->samples = samples;
		st->lines = p.line;
	}
	parser_free(&p);
	return rc;
}
