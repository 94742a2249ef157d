/*
 * buf.h - the one growable string buffer every module builds text with.
 *
 * Modelled on curl's dynbuf: a buffer has a size cap fixed at init, appends
 * past the cap fail, and a failed append frees the buffer so no half-built
 * text survives an error.  The contents are always NUL-terminated (the NUL is
 * not counted in len), so b->p can be used as a C string when it holds no
 * embedded NUL.  A buffer that has never grown has p == NULL and len == 0;
 * buf_str() returns "" for it.
 */
#ifndef PROMRUN_BUF_H
#define PROMRUN_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *p;	/* contents, NUL-terminated; NULL until first growth */
	size_t len;	/* bytes used, not counting the NUL */
	size_t cap;	/* bytes allocated */
	size_t max;	/* largest len allowed */
};

#define BUF_INIT(maxlen) { NULL, 0, 0, (maxlen) }

/* buf_init: an empty buffer that may hold at most max bytes (max >= 1). */
void buf_init(struct buf *b, size_t max);

/*
 * Appends.  Each returns 0 on success; PERR_LIMIT when the result would
 * exceed b->max, PERR_NOMEM when memory runs out.  On failure the buffer is
 * freed (as by buf_free) and stays usable as an empty buffer.
 */
int buf_add(struct buf *b, const void *data, size_t len);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * buf_extend: make the buffer len bytes longer and point *space at them,
 * for a producer that writes in place (a compressor given the bound of
 * its output); their contents are unspecified until written, and
 * buf_truncate gives back what was not used.  The appends' errors.
 */
int buf_extend(struct buf *b, size_t len, char **space);

/*
 * buf_add_double: v in the shortest decimal form that reads back as the same
 * double (common/dtoa.h): integral values below 2^53 without exponent or
 * point ("42"), others as "%.Pg" writes the shortest digits, P being 15 or
 * their number when more ("0.25", "1e-05", "1763891234.5",
 * "3.602879701896397e+16"), and the exposition format's "+Inf", "-Inf"
 * and "NaN".  No printf, no strtod.
 */
int buf_add_double(struct buf *b, double v);

/*
 * buf_add_decimal: finite v as buf_add_double writes it, with the exponent
 * written out ("1e-05" becomes "0.00001", "1e+20" "100000000000000000000"):
 * the same double, for a parser of plain decimals (clock_parse_seconds).
 */
int buf_add_decimal(struct buf *b, double v);

/* buf_add_u64: v in decimal, without printf. */
int buf_add_u64(struct buf *b, unsigned long long v);

/*
 * buf_reserve: room for extra more bytes at once, so that appending them
 * allocates nothing more (a reader that knows a file's size grows its
 * buffer once, not by doubling).  Returns as the appends do, and like them
 * frees the buffer on failure.
 */
int buf_reserve(struct buf *b, size_t extra);

/* buf_add_json: s[0..len) as a JSON string, in quotes, with quotes,
 * backslashes and control characters escaped (other bytes as they are). */
int buf_add_json(struct buf *b, const char *s, size_t len);

/* buf_str: the contents as a C string; "" for a buffer never grown. */
const char *buf_str(const struct buf *b);

/* buf_reset: make the buffer empty but keep its memory for reuse. */
void buf_reset(struct buf *b);

/* buf_truncate: keep the first len bytes (len <= b->len) and the memory. */
void buf_truncate(struct buf *b, size_t len);

/* buf_free: release the memory; the buffer is empty and reusable after. */
void buf_free(struct buf *b);

/*
 * buf_take: hand the contents to the caller, who frees them with free();
 * NULL for a buffer never grown.  The buffer is left empty.
 */
char *buf_take(struct buf *b);

#endif
