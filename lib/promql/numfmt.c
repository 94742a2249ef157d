/* numfmt.c - Go's float formatting and parsing (see numfmt.h). */
#include "promql/numfmt.h"
#include "common/dtoa.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
pq_format_float(struct buf *b, double v, char fmt, int prec)
{
	char tmp[DTOA_FORM_MAX > 512 ? DTOA_FORM_MAX : 512];
	struct dtoa d;
	size_t n;

	if (isnan(v))
		return buf_adds(b, "NaN");
	if (isinf(v))
		return buf_adds(b, v > 0 ? "+Inf" : "-Inf");
	if (prec >= 0) {
		/* C's conversions round the exact value half to even, as Go
		   does; their %g is Go's for finite values. */
		if (prec > 400)
			prec = 400;
		switch (fmt) {
		case 'e': snprintf(tmp, sizeof(tmp), "%.*e", prec, v); break;
		case 'E': snprintf(tmp, sizeof(tmp), "%.*E", prec, v); break;
		case 'f': snprintf(tmp, sizeof(tmp), "%.*f", prec, v); break;
		case 'G': snprintf(tmp, sizeof(tmp), "%.*G", prec, v); break;
		default: snprintf(tmp, sizeof(tmp), "%.*g", prec, v); break;
		}
		return buf_adds(b, tmp);
	}
	dtoa_shortest(v, &d);
	switch (fmt) {
	case 'e':
	case 'E':
		n = dtoa_exponent_form(&d, fmt, tmp);
		break;
	case 'f':
		n = dtoa_plain_form(&d, tmp);
		break;
	default:
		/* 'g' with the shortest digits switches at 1e-4 and 1e+06. */
		n = d.exp < -4 || d.exp >= 6 ? dtoa_exponent_form(&d,
		    fmt == 'G' ? 'E' : 'e', tmp) : dtoa_plain_form(&d, tmp);
		break;
	}
	return buf_add(b, tmp, n);
}

static bool
prefix_fold(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)s[i]) != word[i])
			return false;
	return true;
}

/* Digits of the given base, at least one, with at most one point. */
static size_t
mantissa(const char *s, size_t len, bool hex, size_t *ndigits)
{
	size_t i = 0;
	bool point = false;

	*ndigits = 0;
	for (; i < len; i++) {
		if (s[i] == '.' && !point) {
			point = true;
		} else if (hex ? isxdigit((unsigned char)s[i]) :
		    isdigit((unsigned char)s[i])) {
			(*ndigits)++;
		} else {
			break;
		}
	}
	return i;
}

bool
pq_parse_float(const char *s, size_t len, double *out)
{
	char tmp[256], *end;
	size_t i = 0, nd, k;
	bool neg = false, hex;

	if (len == 0 || len >= sizeof(tmp))
		return false;
	if (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-';
		i = 1;
	}
	if (prefix_fold(s + i, len - i, "inf") ||
	    prefix_fold(s + i, len - i, "infinity")) {
		*out = neg ? -INFINITY : INFINITY;
		return true;
	}
	if (i == 0 && prefix_fold(s, len, "nan")) {
		*out = NAN;
		return true;
	}
	hex = len - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X');
	k = i + (hex ? 2 : 0);
	k += mantissa(s + k, len - k, hex, &nd);
	if (nd == 0)
		return false;
	if (k < len && (hex ? (s[k] == 'p' || s[k] == 'P') :
	    (s[k] == 'e' || s[k] == 'E'))) {
		k++;
		if (k < len && (s[k] == '+' || s[k] == '-'))
			k++;
		if (k >= len || !isdigit((unsigned char)s[k]))
			return false;
		while (k < len && isdigit((unsigned char)s[k]))
			k++;
	} else if (hex) {
		return false;	/* Go: a hex mantissa needs a 'p' exponent */
	}
	if (k != len)
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	*out = strtod(tmp, &end);
	if (errno == ERANGE && isinf(*out))
		return false;	/* Go: overflow is an error, underflow not */
	return end == tmp + len;
}
