/*
 * otlp.h - OTLP/HTTP metrics: series as one ExportMetricsServiceRequest
 * (OpenTelemetry's metrics.proto, common.proto, resource.proto and
 * metrics_service.proto, v1), in protobuf or in OTLP's JSON mapping.
 *
 * The mapping of Prometheus's families:
 *   counter    Sum, cumulative (AGGREGATION_TEMPORALITY_CUMULATIVE = 2),
 *              monotonic; its start time is kept in the destination's
 *              state (state.h): the time the count began, which is, the
 *              first time a series is seen, the journal's first record
 *              for promrun's own textfile (promrun_build_info in the
 *              input), else the input's process_start_time_seconds, else
 *              the time of that first observation; and after a reset (a
 *              value below the last one sent) the millisecond after the
 *              last sample sent;
 *   gauge, untyped  Gauge;
 *   histogram  Histogram, cumulative, explicit bounds: the finite "le"
 *              values, bucket_counts the per-bucket counts (the cumulative
 *              _bucket values' differences, the +Inf bucket the last, so
 *              there is one more count than bounds), count and sum from
 *              _count and _sum; the start time as for counters, kept for
 *              its _count series;
 *   summary    Summary, quantile_values from the "quantile" series.
 * Labels become the data points' attributes (le and quantile excepted);
 * the resource has service.name=promrun, host.name (gethostname), and the
 * KEY=VALUE pairs given, which may replace those two; the scope is
 * promrun, with the version.  Times are nanoseconds since the epoch.
 *
 * Each message is written by one function, fields in number order; the
 * JSON mapping is built with jansson from the same data points (64-bit
 * integers as strings, enums as numbers, NaN and infinities as strings,
 * as protobuf's JSON mapping has them).
 */
#ifndef PROMRUN_OTLP_H
#define PROMRUN_OTLP_H

#include "common/buf.h"
#include "common/err.h"
#include "push/endpoint.h"
#include "push/push.h"
#include "push/series.h"
#include "push/state.h"

/*
 * otlp_encode: the request for set into out (protobuf, or JSON when
 * o->json), with each series' start time from starts[i] (milliseconds,
 * one per series of set; only a Sum's, Histogram's and Summary's are
 * used).  Returns 0, PERR_INVALID for a histogram or summary whose
 * series do not fit together (a bucket without le, bounds not
 * increasing), PERR_LIMIT, PERR_NOMEM.
 */
int otlp_encode(const struct endpoint_options *o, const struct series_set *set,
    const long long *starts, struct buf *out, struct perr *e);

/*
 * otlp_push: encode set (start times from st, as described above), send
 * it to the endpoint of c in one request, read a partial success from the
 * answer, and commit st when the request was accepted.  Returns 0;
 * PERR_FAILED when the receiver refused, or accepted only part of the
 * points (the message gives how many it rejected and why: not retried,
 * as the specification says); push_post's other errors; state_commit's.
 */
int otlp_push(struct push_client *c, const struct endpoint_options *o,
    const struct series_set *set, struct push_state *st,
    struct endpoint_result *res, struct perr *e);

/*
 * otlp_partial: read ExportMetricsServiceResponse's partial_success from
 * an answer (protobuf, or JSON when json) into *rejected and msg (at most
 * size bytes); 0 and "" when there is none or the answer does not parse.
 */
void otlp_partial(const char *body, size_t len, bool json,
    long long *rejected, char *msg, size_t size);

#endif
