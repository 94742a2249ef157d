/* buf.c - the capped growable buffer (see buf.h). */
#include "common/buf.h"
#include "common/dtoa.h"
#include "common/err.h"
#include "common/mem.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

static int
fail(struct buf *b, int code)
{
	buf_free(b);
	return code;
}

/* Make room for extra more bytes plus the NUL. */
static int
reserve(struct buf *b, size_t extra)
{
	size_t need, cap, fill;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return fail(b, PERR_LIMIT);
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->p, cap);
	if (p == NULL)
		return fail(b, PERR_NOMEM);
	/*
	 * The new memory is about to be written: map it in one go.  Appends
	 * that doubled the buffer will fill what they doubled it to; one
	 * large append (a file read whole) only what it asked for.
	 */
	fill = need > 2 * b->cap ? need : cap;
	mem_prefault(p + b->cap, (fill < cap ? fill : cap) - b->cap);
	b->p = p;
	b->cap = cap;
	return 0;
}

int
buf_reserve(struct buf *b, size_t extra)
{
	return reserve(b, extra);
}

int
buf_add(struct buf *b, const void *data, size_t len)
{
	int rc;

	/* Fast path: it fits in what is allocated (cap <= max + 1 always). */
	if (len < b->cap - b->len && b->p != NULL) {
		memcpy(b->p + b->len, data, len);
		b->len += len;
		b->p[b->len] = '\0';
		return 0;
	}
	if ((rc = reserve(b, len)) != 0)
		return rc;
	if (len > 0)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

int
buf_extend(struct buf *b, size_t len, char **space)
{
	int rc;

	if ((rc = reserve(b, len)) != 0)
		return rc;
	*space = b->p + b->len;
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addc(struct buf *b, char c)
{
	if (b->p != NULL && b->len + 1 < b->cap) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
		return 0;
	}
	return buf_add(b, &c, 1);
}

int
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list again;
	int n, rc;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, again);
	va_end(again);
	if (n < 0)
		return fail(b, PERR_INVALID);
	if ((rc = reserve(b, (size_t)n)) != 0)
		return rc;
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

static int
add_unsigned(struct buf *b, unsigned long long u, bool negative)
{
	char tmp[24], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (negative)
		*--p = '-';
	return buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

int
buf_add_u64(struct buf *b, unsigned long long v)
{
	return add_unsigned(b, v, false);
}

/* Integers without snprintf: counters and buckets are most of a textfile. */
static int
add_integer(struct buf *b, double v)
{
	return add_unsigned(b, (unsigned long long)fabs(v), v < 0);
}

/* v is an integer that add_integer writes exactly. */
static bool
small_integer(double v)
{
	return v == floor(v) && fabs(v) < 9007199254740992.0;
}

int
buf_add_double(struct buf *b, double v)
{
	char tmp[DTOA_FORM_MAX];
	struct dtoa d;

	if (isnan(v))
		return buf_adds(b, "NaN");
	if (isinf(v))
		return buf_adds(b, v > 0 ? "+Inf" : "-Inf");
	/* Integers are the common case (counters, buckets): no exponent. */
	if (small_integer(v))
		return add_integer(b, v == 0 ? 0 : v);
	/*
	 * The shortest digits, written as "%.Pg" would write them, P being
	 * 15 or, when more digits are needed, their number (the form this
	 * function has always had: it used to try "%.15g", "%.16g" and
	 * "%.17g" until strtod read one back).
	 */
	dtoa_shortest(v, &d);
	if (d.exp < -4 || d.exp >= (d.ndigits > 15 ? d.ndigits : 15))
		return buf_add(b, tmp, dtoa_exponent_form(&d, 'e', tmp));
	return buf_add(b, tmp, dtoa_plain_form(&d, tmp));
}

int
buf_add_decimal(struct buf *b, double v)
{
	char tmp[DTOA_FORM_MAX];
	struct dtoa d;

	if (!isfinite(v) || small_integer(v))
		return buf_add_double(b, v);
	dtoa_shortest(v, &d);
	return buf_add(b, tmp, dtoa_plain_form(&d, tmp));
}

const char *
buf_str(const struct buf *b)
{
	return b->p != NULL ? b->p : "";
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

void
buf_truncate(struct buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->p[len] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

char *
buf_take(struct buf *b)
{
	char *p = b->p;

	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

int
buf_add_json(struct buf *b, const char *s, size_t len)
{
	int rc = buf_addc(b, '"');

	for (size_t i = 0; i < len && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			rc = buf_addf(b, "\\%c", c);
		else if (c < 0x20)
			rc = buf_addf(b, "\\u%04x", c);
		else
			rc = buf_addc(b, (char)c);
	}
	return rc != 0 ? rc : buf_addc(b, '"');
}
