/*
 * stats.h - the receiver's own metrics and its log lines.
 *
 * Metrics (GET /metrics beside the default organization, and alone at
 * GET /metrics/self):
 *   promrun_serve_version_info{name,version,os,architecture,libmicrohttpd,
 *       jansson}                      1, as AlloyCI's version_info
 *   promrun_serve_requests_total{endpoint,code}
 *   promrun_serve_ingest_duration_seconds{endpoint}   histogram, from the
 *       request's arrival to its answer, for the two POST endpoints
 *   promrun_serve_runs_recorded_total, promrun_serve_runs_duplicate_total
 *   promrun_serve_journal_bytes       the journals' sizes, summed
 *   promrun_serve_journal_syncs_total  syncs to stable storage: one per
 *       journal per round of group commit, however many posts it carried
 *   promrun_serve_journal_write_errors_total
 *   process_cpu_seconds_total, process_resident_memory_bytes,
 *   process_virtual_memory_bytes, process_open_fds, process_max_fds,
 *   process_start_time_seconds        as Prometheus' client libraries
 * None carries an organization's name: GET /metrics may be open, and
 * /prom/ORG/metrics must not tell which organizations exist.  Endpoints are
 * the route templates ("/prom/{org}/metrics"), never the path as sent.
 *
 * Log lines: text
 *   TIME LEVEL TARGET: MESSAGE key=value ...
 * or JSON with ATTEST's fields
 *   {"timestamp":..., "level":..., "target":..., "message":...,
 *    "fields":{...}}
 */
#ifndef PROMRUN_STATS_H
#define PROMRUN_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum stats_endpoint {
	EP_RUNS,		/* /api/v1/runs */
	EP_METRICS,		/* /metrics */
	EP_SELF,		/* /metrics/self */
	EP_PROM,		/* /prom/{org}/metrics */
	EP_LIVE,		/* /health/live */
	EP_READY,		/* /health/ready */
	EP_OTHER,		/* anything else */
	EP_COUNT
};

#define STATS_CODES 24		/* distinct status codes counted per endpoint */
#define STATS_BUCKETS 14

struct stats {
	struct {
		unsigned code;
		uint64_t count;
	} requests[EP_COUNT][STATS_CODES];
	uint64_t ingest_buckets[2][STATS_BUCKETS + 1];	/* runs, metrics */
	uint64_t ingest_count[2];
	double ingest_sum[2];
	uint64_t recorded, duplicates, write_errors, syncs;
	unsigned long long journal_bytes;
	double start_time;		/* when the process started */
};

/* stats_endpoint_name: the route template of an endpoint. */
const char *stats_endpoint_name(enum stats_endpoint ep);

/*
 * stats_request: count an answered request; a POST to an ingest endpoint
 * (EP_RUNS, EP_METRICS) also goes into the latency histogram.
 */
void stats_request(struct stats *st, enum stats_endpoint ep, unsigned code,
    int ingest, double seconds);

/*
 * stats_write: the metrics above as exposition text, appended to out.
 * buf.h's errors.
 */
int stats_write(const struct stats *st, const char *preset, struct buf *out);

/* What goes into a log line besides its message. */
struct stats_log {
	const char *level;	/* "INFO", "WARN", "ERROR" */
	const char *target;	/* "promrun_serve::http" */
	const char *message;
	const char *org;	/* or NULL */
	const char *method;	/* or NULL: not a request */
	int endpoint;		/* enum stats_endpoint, or -1 */
	unsigned code;
	double duration_ms;
	long runs;		/* -1: not told */
};

/*
 * stats_log_line: one log line (no newline) in text or JSON (json != 0),
 * with the wall-clock time.  buf.h's errors.
 */
int stats_log_line(struct buf *out, int json, const struct stats_log *l);

#endif
