/*
 * remote.h - Prometheus remote write 1.0: series as protobuf WriteRequests
 * (prompb's types.proto and remote.proto), compressed with snappy's block
 * format, sent with the specification's headers (push.h's client), with
 * the destination's state (state.h) keeping timestamps monotonic and
 * marking vanished series stale.
 *
 * The messages, each written by one function, fields in number order:
 *
 *   WriteRequest   { repeated TimeSeries timeseries = 1;
 *                    repeated MetricMetadata metadata = 3; }
 *   TimeSeries     { repeated Label labels = 1; repeated Sample samples = 2; }
 *   Label          { string name = 1; string value = 2; }
 *   Sample         { double value = 1; int64 timestamp = 2; }
 *   MetricMetadata { MetricType type = 1; string metric_family_name = 2;
 *                    string help = 4; }
 *
 * A series' labels are its own plus __name__, sorted by name (byte order)
 * as the specification requires; fields with proto3's default value (type
 * UNKNOWN, empty help) are left out, as protobuf's own encoders do.
 */
#ifndef PROMRUN_REMOTE_H
#define PROMRUN_REMOTE_H

#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "push/push.h"
#include "push/series.h"
#include "push/state.h"

/*
 * Bytes of one WriteRequest before compression: larger pushes are split.
 * Well under every receiver's limit (Mimir's and Cortex's 100 MiB,
 * VictoriaMetrics' 32 MiB), and 10,000 typical series still go in one.
 */
#define REMOTE_MAX_REQUEST (4u << 20)

/*
 * remote_timeseries: append TimeSeries (field 1 of WriteRequest) of s with
 * one sample (v, ts) to req.  The sizes are worked out first and every
 * byte written in its place: scratch is not used (NULL is fine).  buf.h's
 * errors.
 */
int remote_timeseries(struct buf *req, struct buf *scratch,
    const struct series *s, double v, long long ts);

/* remote_metadata: append MetricMetadata (field 3) of family f. */
int remote_metadata(struct buf *req, const struct series_family *f);

/*
 * remote_snappy: compress in[0..len) into out as one snappy block (the
 * format remote write requires, not the framed one), with libsnappy
 * loaded on the first call (snappyapi.h).  out is cleared first.  Returns
 * 0, PERR_LIMIT, PERR_NOMEM, or snappyapi_load's PERR_IO.
 */
int remote_snappy(const char *in, size_t len, struct buf *out,
    struct perr *e);

/* What a push sent. */
struct remote_result {
	size_t series;		/* samples sent */
	size_t stale;		/* staleness markers among them */
	size_t requests;
	size_t bytes;		/* protobuf, before compression */
	size_t compressed;
};

/*
 * remote_push: send set's series, each with one sample at its time or,
 * for a series st last saw later, at the time state_next_ts gives, and a
 * staleness marker for each series of st that set lacks, at t
 * (milliseconds: now) or one millisecond after its last sample; in requests of at most max_request
 * bytes (REMOTE_MAX_REQUEST; one series is never split), the families'
 * metadata at the end of the first.  When every request was accepted, st is
 * committed (state_commit); otherwise it is left as it was.  set is freed
 * (series_set_free) by the time it returns, while the last request is out
 * where it can be.  Returns 0, push_post's errors, or state_commit's.  res
 * may be NULL.
 */
int remote_push(struct push_client *c, struct series_set *set,
    struct push_state *st, long long t, size_t max_request,
    struct remote_result *res, struct perr *e);

#endif
