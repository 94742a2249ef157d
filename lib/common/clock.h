/*
 * clock.h - reading the clocks and parsing the times and durations users
 * type.  Times are Unix seconds as a double (sub-millisecond precision for
 * the next few centuries is all a run record needs).
 */
#ifndef PROMRUN_CLOCK_H
#define PROMRUN_CLOCK_H

#include "common/err.h"

/* The latest time accepted anywhere: 9999-12-31T23:59:59Z. */
#define CLOCK_TIME_MAX 253402300799.0

/* clock_now: the wall clock (CLOCK_REALTIME) in Unix seconds. */
double clock_now(void);

/* clock_monotonic: CLOCK_MONOTONIC in seconds, for measuring durations. */
double clock_monotonic(void);

/*
 * clock_parse_time: parse s as Unix seconds with an optional fraction
 * ("1763891234", "1763891234.25") or as an RFC 3339 date-time
 * ("2026-11-23T10:00:00Z", "2026-11-23 11:00:00.5+01:00").  Times before
 * 1970 or after CLOCK_TIME_MAX are refused.  what names the value in the
 * error ("--time").  Returns 0 and sets *out, or PERR_INVALID.
 */
int clock_parse_time(const char *s, const char *what, double *out,
    struct perr *e);

/*
 * clock_parse_seconds: parse s as a non-negative decimal number of seconds
 * ("12", "0.25", ".5").  Signs, exponents, hex, "inf" and "nan" are refused.
 * Returns 0 and sets *out, or PERR_INVALID naming what and s.
 */
int clock_parse_seconds(const char *s, const char *what, double *out,
    struct perr *e);

/*
 * clock_parse_duration: parse s as a Prometheus duration: "0", or units in
 * decreasing order, each at most once: y (365d), w, d, h, m, s, ms, as in
 * "90s", "1h30m", "1w2d", "24h".  Refused: a missing unit ("5"), unknown
 * or upper-case units ("5M"), fractions ("1.5m"), signs ("-1m"), and
 * anything above CLOCK_TIME_MAX seconds.  Returns 0 and sets *out in
 * seconds, or PERR_INVALID naming what and s.
 */
int clock_parse_duration(const char *s, const char *what, double *out,
    struct perr *e);

#endif
