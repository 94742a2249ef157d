/*
 * dtoa.h - the shortest decimal digits that read back as a double, and the
 * two ways of writing them out: the one piece of code behind every number
 * promrun writes in its shortest form (buf_add_double and buf_add_decimal
 * in the exposition text, the journal and the checkpoint; Go's
 * strconv.FormatFloat(v, fmt, -1, 64) in promql/numfmt.h).
 *
 * The digits come from Ryu (Ulf Adams, "Ryu: fast float-to-string
 * conversion", PLDI 2018): the binary significand is scaled by a power of
 * ten with one 64 x 128-bit multiplication by a 125-bit power of five
 * taken from a table (test/tools/dtoa-tables.py prints it), and the
 * shortest digits are picked inside the interval of decimals that round to
 * the double, without printf, strtod or big numbers.  Of several shortest
 * candidates the one nearest to v is taken, ties to an even last digit, as
 * printf rounds.  test/unit/test-dtoa.c checks it against printf and
 * strtod.
 */
#ifndef PROMRUN_DTOA_H
#define PROMRUN_DTOA_H

#include <stdbool.h>
#include <stddef.h>

#define DTOA_DIGITS_MAX 17	/* significant digits a double can need */
#define DTOA_FORM_MAX 330	/* bytes of the longest form, NUL included:
				   the smallest denormal written out */

struct dtoa {
	char digits[DTOA_DIGITS_MAX + 1];	/* '0'-'9', NUL-terminated: no
						   sign, no point, no trailing
						   zero ("0" for zero) */
	int ndigits;				/* 1 .. DTOA_DIGITS_MAX */
	int exp;				/* the power of ten of the
						   first digit: v is
						   d[0].d[1]... x 10^exp */
	bool negative;				/* the sign bit (-0 too) */
};

/*
 * dtoa_shortest: the fewest significant digits that read back as finite v
 * (strtod of them gives v again), into *d.  v must not be NaN or infinite
 * (the caller writes those as its format wants).
 */
void dtoa_shortest(double v, struct dtoa *d);

/*
 * dtoa_exponent_form: d as "[-]d[.ddd]e+XX" into out (DTOA_FORM_MAX bytes),
 * the exponent with the letter e ('e' or 'E'), a sign and at least two
 * digits, as printf's %e writes it.  Returns the length (NUL written too).
 */
size_t dtoa_exponent_form(const struct dtoa *d, char e, char *out);

/*
 * dtoa_plain_form: d as a plain decimal without exponent, "[-]ddd[.ddd]"
 * ("0.00001", "100000000000000000000"), into out (DTOA_FORM_MAX bytes).
 * Returns the length (NUL written too).
 */
size_t dtoa_plain_form(const struct dtoa *d, char *out);

#endif
