/*
 * Unit tests of lib/common/dtoa: the shortest digits of a double, against
 * printf and strtod.
 *
 * Each value's digits are compared with what printf's correctly rounded
 * "%.*e" at 15, 16 and 17 significant digits gives when strtod reads it
 * back as the value (the search buf_add_double used to make).  Where the
 * two differ, an exact check decides: the value's full decimal expansion
 * (glibc's printf writes it exactly) gives, at each length, the two
 * candidates around it; the answer must be the first length at which one
 * reads back, and the nearer of two (ties to even).  The search at 15..17
 * digits is not always the shortest (denormals; at a power of two the
 * nearest 16 digits may fall below the interval while a farther candidate
 * lies inside it), so those differences are counted, checked exactly, and
 * expected to be rare.
 *
 * DTOA_CHECK_COUNT sets how many random values of each kind (default
 * 300,000: every kind of value, a few seconds; give 10000000 for a long
 * run), DTOA_CHECK_SEED the seed.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/buf.h"
#include "common/dtoa.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t
rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

static double
from_bits(uint64_t bits)
{
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* digits (no point) and exponent of the first, as "d.ddde+X", read back. */
static double
read_back(const char *digits, int nd, int exp)
{
	char s[64];

	snprintf(s, sizeof(s), "%c.%.*se%d", digits[0], nd - 1, digits + 1,
	    exp);
	return strtod(s, NULL);
}

/* "%.*e"'s digits and exponent, trailing zeros dropped. */
static int
printf_digits(double v, int prec, char *digits, int *exp)
{
	char s[64], *p;
	int nd = 0;

	snprintf(s, sizeof(s), "%.*e", prec - 1, fabs(v));
	for (p = s; *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	*exp = atoi(p + 1);
	return nd;
}

/* The search at 15, 16, 17 digits (buf_add_double's before dtoa). */
static int
printf_shortest(double v, char *digits, int *exp)
{
	int prec, nd = 0;

	for (prec = 15; prec <= 17; prec++) {
		nd = printf_digits(v, prec, digits, exp);
		if (read_back(digits, nd, *exp) == fabs(v))
			break;
	}
	return nd;
}

/* Add one to the last of n digits; returns 1 when it carried out (999 -> 1000). */
static int
increment(char *d, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		if (d[i] != '9') {
			d[i]++;
			return 0;
		}
		d[i] = '0';
	}
	memmove(d + 1, d, (size_t)n);
	d[0] = '1';
	return 1;
}

/*
 * The exact answer: the first length at which a candidate next to v reads
 * back; of two, the nearer, ties to an even last digit.  Returns the
 * number of digits (trailing zeros dropped) into digits and *exp.
 */
static int
exact_shortest(double v, char *digits, int *exp)
{
	static char full[1200];
	char all[800], lo[24], hi[24];
	int nall = 0, e, len, i, hexp, cmp;
	char *p;
	bool lo_ok, hi_ok, pick_hi;

	v = fabs(v);
	/* 766 significant digits hold any double exactly. */
	snprintf(full, sizeof(full), "%.780e", v);
	for (p = full; *p != 'e'; p++)
		if (*p != '.')
			all[nall++] = *p;
	e = atoi(p + 1);
	for (len = 1; len <= 17; len++) {
		memcpy(lo, all, (size_t)len);
		memcpy(hi, all, (size_t)len);
		hexp = e + increment(hi, len);
		lo_ok = read_back(lo, len, e) == v;
		hi_ok = read_back(hi, len, hexp) == v;
		if (!lo_ok && !hi_ok)
			continue;
		if (lo_ok && hi_ok) {
			/* The rest against one half: "5000...". */
			cmp = all[len] - '5';
			for (i = len + 1; cmp == 0 && i < nall; i++)
				cmp = all[i] != '0';
			pick_hi = cmp > 0 || (cmp == 0 &&
			    (lo[len - 1] - '0') % 2 == 1);
		} else {
			pick_hi = hi_ok;
		}
		memcpy(digits, pick_hi ? hi : lo, (size_t)len);
		*exp = pick_hi ? hexp : e;
		while (len > 1 && digits[len - 1] == '0')
			len--;
		digits[len] = '\0';
		return len;
	}
	return 0;
}

static long checked, differ_from_printf, wrong;

static void
check_value(double v)
{
	struct dtoa d;
	char want[24];
	int nd, exp;

	if (isnan(v) || isinf(v))
		return;
	checked++;
	dtoa_shortest(v, &d);
	if (v == 0) {
		CHECK(d.ndigits == 1 && strcmp(d.digits, "0") == 0 &&
		    d.exp == 0 && d.negative == (signbit(v) != 0));
		return;
	}
	nd = printf_shortest(v, want, &exp);
	if (d.ndigits == nd && d.exp == exp && strcmp(d.digits, want) == 0 &&
	    d.negative == (v < 0))
		return;
	differ_from_printf++;
	nd = exact_shortest(v, want, &exp);
	if (d.ndigits == nd && d.exp == exp && strcmp(d.digits, want) == 0 &&
	    d.negative == (v < 0))
		return;
	if (++wrong <= 10)
		fprintf(stderr, "dtoa %a (%.17g): got %s e%d, want %s e%d\n",
		    v, v, d.digits, d.exp, want, exp);
}

/* The forms against printf for the same digits. */
static void
check_forms(double v)
{
	struct dtoa d;
	char got[DTOA_FORM_MAX], want[DTOA_FORM_MAX];
	int decimals;

	dtoa_shortest(v, &d);
	dtoa_exponent_form(&d, 'e', got);
	snprintf(want, sizeof(want), "%.*e", d.ndigits - 1, v);
	CHECK_STR(got, want);
	dtoa_plain_form(&d, got);
	decimals = d.ndigits - 1 - d.exp;
	if (decimals >= 0)	/* "%.0f" and up round as the digits did */
		snprintf(want, sizeof(want), "%.*f", decimals, v);
	else			/* the digits, then zeros ("%f": every digit) */
		snprintf(want, sizeof(want), "%s%s%0*d", v < 0 ? "-" : "",
		    d.digits, -decimals, 0);
	CHECK_STR(got, want);
	CHECK(strtod(got, NULL) == v);
}

static void
test_edges(void)
{
	static const double cases[] = {
		0.0, -0.0, 1, -1, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 1e-5, 1e21,
		1e22, 1e23, 5e-324, 1e-323, 2.2250738585072009e-308,
		2.2250738585072014e-308, DBL_MAX, -DBL_MAX, DBL_EPSILON,
		9007199254740991.0, 9007199254740992.0, 9007199254740993.0 * 4,
		1763891234.5, 1764766123.456789, 123456789012345678.0,
		4.35, 0.3e-300, 1.5e300, 9.5367431640625e-07,
		2.98023223876953125e-8, 1.7976931348623157e308 / 3,
	};
	size_t i;
	int e;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_value(cases[i]);
		if (isfinite(cases[i]) && fabs(cases[i]) >= 1e-300)
			check_forms(cases[i]);
	}
	/* Every power of two and its neighbours: the lopsided intervals. */
	for (e = -1074; e <= 1023; e++) {
		double p = ldexp(1, e);

		check_value(p);
		check_value(nextafter(p, 0));
		check_value(nextafter(p, INFINITY));
	}
	/* Every power of ten a double reaches, and its neighbours. */
	for (e = -323; e <= 308; e++) {
		char s[16];
		double p;

		snprintf(s, sizeof(s), "1e%d", e);
		p = strtod(s, NULL);
		check_value(p);
		check_value(nextafter(p, 0));
		check_value(nextafter(p, INFINITY));
	}
}

static void
test_random(long count)
{
	long i;
	double v;
	char s[40];

	for (i = 0; i < count; i++) {
		/* Any bit pattern: every exponent, denormals. */
		check_value(from_bits(rng()));
		/* Times as the journal holds them: microseconds. */
		v = 1.5e9 + (double)(rng() % 500000000) +
		    (double)(rng() % 1000000) / 1e6;
		check_value(v);
		/* Short decimals, the shortest forms a person writes. */
		snprintf(s, sizeof(s), "%llue%d", (unsigned long long)(rng() %
		    100000000), (int)(rng() % 80) - 40);
		check_value(strtod(s, NULL));
		/* Durations and sums: small fractions. */
		v = (double)(rng() % 100000000) / 1000.0;
		check_value(v);
		if (i % 16 == 0)
			check_forms(v);
	}
}

/* buf_add_double's forms: "%g" rules at precision max(15, digits). */
static void
test_buf_add_double(long count)
{
	struct buf b = BUF_INIT(DTOA_FORM_MAX);
	char want[40];
	long i;
	int prec;
	double v;

	for (i = 0; i < count; i++) {
		v = i % 2 == 0 ? from_bits(rng()) :
		    (double)(rng() % 100000000) / 1000.0;
		if (!isfinite(v) || fabs(v) < DBL_MIN ||
		    (v == floor(v) && fabs(v) < 9007199254740992.0))
			continue;
		for (prec = 15; prec <= 17; prec++) {
			snprintf(want, sizeof(want), "%.*g", prec, v);
			if (strtod(want, NULL) == v)
				break;
		}
		buf_reset(&b);
		CHECK(buf_add_double(&b, v) == 0);
		CHECK(strtod(buf_str(&b), NULL) == v);
		/* The same text, except where the old search was not the
		   shortest: then shorter. */
		if (strcmp(buf_str(&b), want) != 0 &&
		    !(b.len < strlen(want) && ++differ_from_printf))
			CHECK_STR(buf_str(&b), want);
	}
	buf_free(&b);
}

int
main(void)
{
	const char *n = getenv("DTOA_CHECK_COUNT"), *seed =
	    getenv("DTOA_CHECK_SEED");
	long count = n != NULL ? atol(n) : 300000;

	if (seed != NULL)
		rng_state = strtoull(seed, NULL, 0) | 1;
	test_edges();
	test_random(count);
	test_buf_add_double(count / 4);
	CHECK(wrong == 0);
	/* Rare: only where 15..17 digits of printf were not the shortest. */
	CHECK(differ_from_printf * 1000 < checked);
	printf("test-dtoa: %ld values, %ld where printf's 15..17 digits were "
	    "not the shortest, %ld wrong\n", checked, differ_from_printf,
	    wrong);
	return check_done("test-dtoa");
}
