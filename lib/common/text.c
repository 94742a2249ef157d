/* text.c - UTF-8 and Prometheus name checks (see text.h). */
#include "common/text.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool
utf8_valid(const char *s, size_t len, size_t *bad_at)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, k;
	unsigned cp, min;

	while (i < len) {
		/* ASCII, the usual text, eight bytes at a time. */
		if (len - i >= 8) {
			uint64_t w;

			memcpy(&w, p + i, sizeof(w));
			if ((w & UINT64_C(0x8080808080808080)) == 0) {
				i += 8;
				continue;
			}
		}
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			n = 1;
			cp = p[i] & 0x1f;
			min = 0x80;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			n = 2;
			cp = p[i] & 0x0f;
			min = 0x800;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			n = 3;
			cp = p[i] & 0x07;
			min = 0x10000;
		} else {
			goto bad;
		}
		if (len - i <= n)
			goto bad;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += n + 1;
	}
	return true;
bad:
	if (bad_at != NULL)
		*bad_at = i;
	return false;
}

static bool
is_alpha_(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

bool
label_name_valid(const char *s)
{
	if (!is_alpha_((unsigned char)*s))
		return false;
	for (s++; *s != '\0'; s++)
		if (!is_alpha_((unsigned char)*s) && !is_digit((unsigned char)*s))
			return false;
	return true;
}

bool
metric_name_valid(const char *s)
{
	if (!is_alpha_((unsigned char)*s) && *s != ':')
		return false;
	for (s++; *s != '\0'; s++)
		if (!is_alpha_((unsigned char)*s) &&
		    !is_digit((unsigned char)*s) && *s != ':')
			return false;
	return true;
}

static bool
is_separator(char c)
{
	return c == ',' || c == ' ' || c == '\t';
}

size_t
name_list_next(const char *list, size_t *pos, char *item, size_t size)
{
	size_t start, len;

	while (list[*pos] != '\0' && is_separator(list[*pos]))
		(*pos)++;
	start = *pos;
	while (list[*pos] != '\0' && !is_separator(list[*pos]))
		(*pos)++;
	len = *pos - start;
	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(item, list + start, n);
		item[n] = '\0';
	}
	return len;
}

#if LDBL_MANT_DIG >= 64
/* Whether long double holds 64 bits here: not when an emulator (valgrind)
 * computes it as a double.  Worked out once. */
static bool
wide_long_double(void)
{
	static int wide = -1;
	/* volatile: made at run time, as the compiler cannot know. */
	volatile unsigned long long odd = (1ull << 53) + 1;
	volatile long double a, b;

	if (wide < 0) {
		a = (long double)odd;
		b = (long double)(odd - 1);
		wide = a != b;
	}
	return wide > 0;
}

/*
 * The double next to d > 0 (finite), above it or below: its bits plus or
 * minus one.  Not nextafter(): promrun-record, which parses times, links
 * no libm (see DESIGN.md, Decisions).
 */
static double
next_positive(double d, bool up)
{
	uint64_t bits;

	memcpy(&bits, &d, sizeof(bits));
	bits = up ? bits + 1 : bits - 1;
	memcpy(&d, &bits, sizeof(d));
	return d;
}

/*
 * m / 10^f, rounded as strtod rounds, for m < 10^19 (f <= 19): both are
 * exact in a long double of 64 bits or more, so the quotient is rounded
 * once there, and rounding that to a double again gives the correctly
 * rounded result unless it fell exactly halfway between two doubles
 * (a midpoint holds 54 bits: a long double holds it exactly, so every
 * other quotient lies on the same side of each midpoint as the true
 * value).  False: halfway, or no such long double; leave it to strtod.
 */
static bool
wide_quotient(unsigned long long m, int f, double *out)
{
	static const long double pow10[] = {1e0L, 1e1L, 1e2L, 1e3L, 1e4L,
	    1e5L, 1e6L, 1e7L, 1e8L, 1e9L, 1e10L, 1e11L, 1e12L, 1e13L, 1e14L,
	    1e15L, 1e16L, 1e17L, 1e18L, 1e19L};
	long double q, mid;
	double d, next;

	if (!wide_long_double())
		return false;
	q = (long double)m / pow10[f];
	d = (double)q;
	if ((long double)d != q) {
		next = next_positive(d, (long double)d < q);
		mid = ((long double)d + (long double)next) / 2;
		if (mid == q)
			return false;
	}
	*out = d;
	return true;
}
#endif

bool
text_parse_double(const char *s, char **end, double *out)
{
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
	const char *p = s;
	unsigned long long m = 0;
	int digits = 0, frac = -1;

	for (;; p++) {
		if (*p == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (*p < '0' || *p > '9')
			break;
		if (++digits > 19)
			goto slow;
		m = m * 10 + (unsigned long long)(*p - '0');
		if (frac >= 0)
			frac++;
	}
	/* An exponent, a sign, "inf" or "nan": leave them to strtod. */
	if (digits == 0 || *p == 'e' || *p == 'E')
		goto slow;
	if (digits <= 15) {
		*out = (double)m / pow10[frac > 0 ? frac : 0];
		*end = (char *)p;
		return true;
	}
#if LDBL_MANT_DIG >= 64
	if (wide_quotient(m, frac > 0 ? frac : 0, out)) {
		*end = (char *)p;
		return true;
	}
#endif
slow:
	*out = strtod(s, end);
	return *end != s;
}

size_t
text_count_lines(const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	size_t n = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}
