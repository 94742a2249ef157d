/*
 * otlp.h - OTLP/HTTP metrics: series as an ExportMetricsServiceRequest.
 */
#ifndef PROMRUN_OTLP_H
#define PROMRUN_OTLP_H

#include "common/err.h"
#include "push/endpoint.h"
#include "push/push.h"
#include "push/series.h"
#include "push/state.h"

/*
 * otlp_push: send set to the OTLP endpoint of c as one request.
 */
int otlp_push(struct push_client *c, const struct endpoint_options *o,
    const struct series_set *set, struct push_state *st,
    struct endpoint_result *res, struct perr *e);

#endif
