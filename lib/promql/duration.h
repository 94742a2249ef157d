/*
 * duration.h - Prometheus durations (model.ParseDuration and
 * model.Duration.String of prometheus/common, as in Prometheus 2.42).
 *
 * Syntax: "0", or units in this order, each at most once, each an integer:
 * y (365d), w, d, h, m, s, ms: "90s", "1h30m", "1w2d".  Refused: "", "5",
 * "5M", "1.5m", "-1m", "30m1h", and anything over about 292 years (the
 * range of Go's time.Duration in nanoseconds).
 */
#ifndef PROMRUN_PROMQL_DURATION_H
#define PROMRUN_PROMQL_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

/*
 * pq_duration_parse: s[0..len) in milliseconds into *ms.  Returns 0, or
 * PERR_INVALID with e saying why in Prometheus's words ("empty duration
 * string", "not a valid duration string: \"5\"", "duration out of range").
 */
int pq_duration_parse(const char *s, size_t len, int64_t *ms, struct perr *e);

/*
 * pq_duration_format: append ms >= 0 in canonical form ("0s", "1h30m",
 * "90d"; years and weeks only when they divide exactly).  Returns 0 or the
 * buffer's error.
 */
int pq_duration_format(struct buf *b, int64_t ms);

#endif
