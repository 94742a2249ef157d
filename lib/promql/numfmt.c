/* numfmt.c - Go's float formatting and parsing (see numfmt.h). */
#include "promql/numfmt.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The shortest decimal digits of finite v != 0 that read back as v: the
 * digits (no point, no sign) in d, their count, and the decimal exponent
 * of the first digit (v = d[0].d[1].. x 10^exp).
 */
static int
shortest(double v, char d[24], int *exp)
{
	char e[40], *p;
	int prec, nd = 0;

	for (prec = 0; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec, v);
		if (strtod(e, NULL) == v)
			break;
	}
	for (p = e; *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			d[nd++] = *p;
	while (nd > 1 && d[nd - 1] == '0')
		nd--;
	d[nd] = '\0';
	*exp = atoi(p + 1);
	return nd;
}

static int
add_exp_form(struct buf *b, const char *d, int nd, int exp, char e)
{
	int rc;

	if ((rc = buf_addc(b, d[0])) != 0)
		return rc;
	if (nd > 1 && ((rc = buf_addc(b, '.')) != 0 ||
	    (rc = buf_add(b, d + 1, (size_t)nd - 1)) != 0))
		return rc;
	return buf_addf(b, "%c%c%02d", e, exp < 0 ? '-' : '+', abs(exp));
}

static int
add_fixed_form(struct buf *b, const char *d, int nd, int exp)
{
	int rc = 0, i;

	if (exp < 0) {
		if ((rc = buf_adds(b, "0.")) != 0)
			return rc;
		for (i = -1; i > exp && rc == 0; i--)
			rc = buf_addc(b, '0');
		return rc != 0 ? rc : buf_add(b, d, (size_t)nd);
	}
	for (i = 0; i <= exp && rc == 0; i++)
		rc = buf_addc(b, i < nd ? d[i] : '0');
	if (rc == 0 && nd > exp + 1 && (rc = buf_addc(b, '.')) == 0)
		rc = buf_add(b, d + exp + 1, (size_t)(nd - exp - 1));
	return rc;
}

int
pq_format_float(struct buf *b, double v, char fmt, int prec)
{
	char d[24], tmp[512];
	int nd, exp, rc;

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
	if (signbit(v) && (rc = buf_addc(b, '-')) != 0)
		return rc;
	if (v == 0) {
		d[0] = '0';
		nd = 1;
		exp = 0;
	} else {
		nd = shortest(fabs(v), d, &exp);
	}
	switch (fmt) {
	case 'e':
	case 'E':
		return add_exp_form(b, d, nd, exp, fmt);
	case 'f':
		return add_fixed_form(b, d, nd, exp);
	default:
		/* 'g' with the shortest digits switches at 1e-4 and 1e+06. */
		if (exp < -4 || exp >= 6)
			return add_exp_form(b, d, nd, exp, fmt == 'G' ? 'E' : 'e');
		return add_fixed_form(b, d, nd, exp);
	}
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
