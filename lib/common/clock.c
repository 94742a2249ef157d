/* clock.c - clocks and time parsing (see clock.h). */
#define _POSIX_C_SOURCE 200809L
#include "common/clock.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
clock_now(void)
{
	return read_clock(CLOCK_REALTIME);
}

double
clock_monotonic(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A plain decimal: digits, optionally '.', optionally more digits; at least one digit. */
static bool
is_plain_decimal(const char *s)
{
	size_t digits = 0;

	for (; is_digit(*s); s++)
		digits++;
	if (*s == '.')
		for (s++; is_digit(*s); s++)
			digits++;
	return *s == '\0' && digits > 0;
}

int
clock_parse_seconds(const char *s, const char *what, double *out,
    struct perr *e)
{
	char q[PERR_QUOTE_MAX];

	if (!is_plain_decimal(s))
		return perr_set(e, PERR_INVALID,
		    "%s %s is not a number of seconds: use a non-negative "
		    "decimal such as 12 or 0.25", what, perr_quote(s, q));
	*out = strtod(s, NULL);
	return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static bool
is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
days_in_month(unsigned y, unsigned m)
{
	static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Read exactly n digits at *p into *v; advance *p. */
static bool
take_digits(const char **p, int n, unsigned *v)
{
	*v = 0;
	while (n-- > 0) {
		if (!is_digit(**p))
			return false;
		*v = *v * 10 + (unsigned)(**p - '0');
		(*p)++;
	}
	return true;
}

static bool
take_char(const char **p, const char *accepted)
{
	if (**p == '\0' || strchr(accepted, **p) == NULL)
		return false;
	(*p)++;
	return true;
}

/* RFC 3339 section 5.6 date-time; 'T' may be 't' or a space (its note). */
static bool
parse_rfc3339(const char *s, double *out)
{
	const char *p = s, *frac;
	unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
	double t, fraction = 0;
	int sign = 0;

	if (!take_digits(&p, 4, &y) || !take_char(&p, "-") ||
	    !take_digits(&p, 2, &mo) || !take_char(&p, "-") ||
	    !take_digits(&p, 2, &d) || !take_char(&p, "Tt ") ||
	    !take_digits(&p, 2, &h) || !take_char(&p, ":") ||
	    !take_digits(&p, 2, &mi) || !take_char(&p, ":") ||
	    !take_digits(&p, 2, &sec))
		return false;
	if (*p == '.') {
		frac = p;
		for (p++; is_digit(*p); p++)
			;
		if (p == frac + 1)
			return false;
		fraction = strtod(frac, NULL);
	}
	if (take_char(&p, "Zz")) {
		sign = 0;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (!take_digits(&p, 2, &oh) || !take_char(&p, ":") ||
		    !take_digits(&p, 2, &om) || oh > 23 || om > 59)
			return false;
	} else {
		return false;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
		return false;
	t = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 +
	    mi * 60.0 + sec + fraction;
	t -= sign * (oh * 3600.0 + om * 60.0);
	*out = t;
	return true;
}

int
clock_parse_time(const char *s, const char *what, double *out,
    struct perr *e)
{
	char q[PERR_QUOTE_MAX];
	double t;

	if (is_plain_decimal(s))
		t = strtod(s, NULL);
	else if (!parse_rfc3339(s, &t))
		return perr_set(e, PERR_INVALID,
		    "%s %s is not a time: use Unix seconds (1763891234.5) "
		    "or RFC 3339 (2026-11-23T10:00:00Z)", what, perr_quote(s, q));
	if (t < 0 || t > CLOCK_TIME_MAX)
		return perr_set(e, PERR_INVALID,
		    "%s %s is out of range: accepted are times from "
		    "1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z", what,
		    perr_quote(s, q));
	*out = t;
	return 0;
}

/* Units in the order a duration must give them. */
static const struct {
	const char *suffix;
	double seconds;
} duration_units[] = {
	{"y", 365 * 86400.0}, {"w", 7 * 86400.0}, {"d", 86400.0},
	{"h", 3600.0}, {"m", 60.0}, {"s", 1.0}, {"ms", 0.001},
};

#define NUNITS (sizeof(duration_units) / sizeof(duration_units[0]))

/* The unit at p ("ms" before "m"), or NUNITS. */
static size_t
duration_unit(const char *p, size_t *len)
{
	size_t i;

	if (p[0] == 'm' && p[1] == 's') {
		*len = 2;
		return NUNITS - 1;
	}
	for (i = 0; i < NUNITS - 1; i++) {
		if (p[0] == duration_units[i].suffix[0]) {
			*len = 1;
			return i;
		}
	}
	return NUNITS;
}

int
clock_parse_duration(const char *s, const char *what, double *out,
    struct perr *e)
{
	char q[PERR_QUOTE_MAX];
	const char *p = s;
	size_t next = 0, unit, len;
	double total = 0, n;

	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	while (*p != '\0') {
		if (!is_digit(*p))
			goto bad;
		for (n = 0; is_digit(*p); p++)
			n = n * 10 + (*p - '0');
		unit = duration_unit(p, &len);
		if (unit == NUNITS || unit < next)
			goto bad;
		total += n * duration_units[unit].seconds;
		next = unit + 1;
		p += len;
	}
	if (p == s || total > CLOCK_TIME_MAX)
		goto bad;
	*out = total;
	return 0;
bad:
	return perr_set(e, PERR_INVALID, "%s %s is not a duration: use a "
	    "number and a unit (ms, s, m, h, d, w, y) such as 90s, 1h30m or "
	    "24h", what, perr_quote(s, q));
}
