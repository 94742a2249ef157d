/* stats.c - the receiver's own metrics and log lines (see stats.h). */
#define _GNU_SOURCE
#include "serve/stats.h"
#include "metrics/expfmt.h"

#include <dirent.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef PROMRUN_VERSION
#define PROMRUN_VERSION "unknown"
#endif

static const char *const endpoint_names[EP_COUNT] = {
	"/api/v1/runs", "/metrics", "/metrics/self", "/prom/{org}/metrics",
	"/health/live", "/health/ready", "other",
};

/* Latency buckets: group commit lands in the milliseconds. */
static const double ingest_bounds[STATS_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5, 10,
};

const char *
stats_endpoint_name(enum stats_endpoint ep)
{
	return (unsigned)ep < EP_COUNT ? endpoint_names[ep] : "other";
}

void
stats_request(struct stats *st, enum stats_endpoint ep, unsigned code,
    int ingest, double seconds)
{
	size_t i, k;

	if ((unsigned)ep >= EP_COUNT)
		ep = EP_OTHER;
	for (i = 0; i < STATS_CODES; i++) {
		if (st->requests[ep][i].code == code ||
		    st->requests[ep][i].code == 0) {
			st->requests[ep][i].code = code;
			st->requests[ep][i].count++;
			break;
		}
	}
	if (!ingest || (ep != EP_RUNS && ep != EP_METRICS))
		return;
	k = ep == EP_RUNS ? 0 : 1;
	for (i = 0; i < STATS_BUCKETS && seconds > ingest_bounds[i]; i++)
		;
	st->ingest_buckets[k][i]++;
	st->ingest_count[k]++;
	st->ingest_sum[k] += seconds;
}

static int
sample(struct buf *b, const char *name, const char *l1, const char *v1,
    const char *l2, const char *v2, double value)
{
	struct expfmt_label l[2] = {{l1, v1}, {l2, v2}};

	return expfmt_write_sample(b, name, l,
	    l1 == NULL ? 0 : l2 == NULL ? 1 : 2, value);
}

static int
version_info(struct buf *b, const char *preset)
{
	struct expfmt_label l[7];
	struct utsname u;
	char os[65];
	size_t i;

	if (uname(&u) != 0)
		snprintf(u.machine, sizeof(u.machine), "unknown");
	snprintf(os, sizeof(os), "%s", uname(&u) == 0 ? u.sysname : "unknown");
	for (i = 0; os[i] != '\0'; i++)
		if (os[i] >= 'A' && os[i] <= 'Z')
			os[i] = (char)(os[i] - 'A' + 'a');
	l[0] = (struct expfmt_label){"architecture", u.machine};
	l[1] = (struct expfmt_label){"jansson", JANSSON_VERSION};
	l[2] = (struct expfmt_label){"libmicrohttpd", MHD_get_version()};
	l[3] = (struct expfmt_label){"name", "promrun-serve"};
	l[4] = (struct expfmt_label){"os", os};
	l[5] = (struct expfmt_label){"preset", preset};
	l[6] = (struct expfmt_label){"version", PROMRUN_VERSION};
	return expfmt_write_header(b, "promrun_serve_version_info", "A metric "
	    "with a constant '1' value labeled by the build's fields.",
	    EXPFMT_GAUGE) || expfmt_write_sample(b,
	    "promrun_serve_version_info", l, 7, 1);
}

static int
requests(struct buf *b, const struct stats *st)
{
	char code[16];
	int ep, rc;
	size_t i;

	rc = expfmt_write_header(b, "promrun_serve_requests_total", "HTTP "
	    "requests answered, by endpoint and status code.", EXPFMT_COUNTER);
	for (ep = 0; ep < EP_COUNT && rc == 0; ep++)
		for (i = 0; i < STATS_CODES && rc == 0 &&
		    st->requests[ep][i].code != 0; i++) {
			snprintf(code, sizeof(code), "%u",
			    st->requests[ep][i].code);
			rc = sample(b, "promrun_serve_requests_total", "code",
			    code, "endpoint", endpoint_names[ep],
			    (double)st->requests[ep][i].count);
		}
	return rc;
}

static int
ingest_histogram(struct buf *b, const struct stats *st)
{
	static const char name[] = "promrun_serve_ingest_duration_seconds";
	struct buf le = BUF_INIT(64);
	uint64_t cum;
	size_t k, i;
	int rc;

	rc = expfmt_write_header(b, name, "Time from a post's arrival to its "
	    "answer (the runs durable), in seconds.", EXPFMT_HISTOGRAM);
	for (k = 0; k < 2 && rc == 0; k++) {
		const char *ep = endpoint_names[k == 0 ? EP_RUNS : EP_METRICS];

		cum = 0;
		for (i = 0; i <= STATS_BUCKETS && rc == 0; i++) {
			cum += st->ingest_buckets[k][i];
			buf_reset(&le);
			rc = i < STATS_BUCKETS ?
			    buf_add_double(&le, ingest_bounds[i]) :
			    buf_adds(&le, "+Inf");
			if (rc == 0)
				rc = sample(b, "promrun_serve_ingest_duration_"
				    "seconds_bucket", "endpoint", ep, "le",
				    buf_str(&le), (double)cum);
		}
		if (rc == 0)
			rc = sample(b, "promrun_serve_ingest_duration_seconds_"
			    "sum", "endpoint", ep, NULL, NULL,
			    st->ingest_sum[k]);
		if (rc == 0)
			rc = sample(b, "promrun_serve_ingest_duration_seconds_"
			    "count", "endpoint", ep, NULL, NULL,
			    (double)st->ingest_count[k]);
	}
	buf_free(&le);
	return rc;
}

static int
one(struct buf *b, const char *name, const char *help,
    enum expfmt_type type, double value)
{
	return expfmt_write_header(b, name, help, type) ||
	    sample(b, name, NULL, NULL, NULL, NULL, value);
}

/* CPU time, memory and start time from /proc/self/stat. */
static void
proc_stat(double *cpu, double *vsize, double *rss, double *start)
{
	char line[1024], *p;
	unsigned long utime, stime, vsz;
	unsigned long long starttime;
	long rsspages, ticks = sysconf(_SC_CLK_TCK);
	double boot = 0;
	FILE *fp;

	*cpu = *vsize = *rss = *start = 0;
	if ((fp = fopen("/proc/stat", "re")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL)
			if (sscanf(line, "btime %lf", &boot) == 1)
				break;
		fclose(fp);
	}
	if ((fp = fopen("/proc/self/stat", "re")) == NULL)
		return;
	p = fgets(line, sizeof(line), fp);
	fclose(fp);
	/* The command name may hold spaces: fields start after ')'. */
	if (p == NULL || (p = strrchr(line, ')')) == NULL)
		return;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu "
	    "%lu %*d %*d %*d %*d %*d %*d %llu %lu %ld", &utime, &stime,
	    &starttime, &vsz, &rsspages) != 5 || ticks <= 0)
		return;
	*cpu = (double)(utime + stime) / (double)ticks;
	*vsize = (double)vsz;
	*rss = (double)rsspages * (double)sysconf(_SC_PAGESIZE);
	*start = boot + (double)starttime / (double)ticks;
}

static double
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	double n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

static int
process(struct buf *b)
{
	double cpu, vsize, rss, start;
	struct rlimit rl;

	proc_stat(&cpu, &vsize, &rss, &start);
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		rl.rlim_cur = 0;
	return one(b, "process_cpu_seconds_total", "Total user and system "
	    "CPU time spent in seconds.", EXPFMT_COUNTER, cpu) ||
	    one(b, "process_max_fds", "Maximum number of open file "
	    "descriptors.", EXPFMT_GAUGE, (double)rl.rlim_cur) ||
	    one(b, "process_open_fds", "Number of open file descriptors.",
	    EXPFMT_GAUGE, open_fds()) ||
	    one(b, "process_resident_memory_bytes", "Resident memory size in "
	    "bytes.", EXPFMT_GAUGE, rss) ||
	    one(b, "process_start_time_seconds", "Start time of the process "
	    "since unix epoch in seconds.", EXPFMT_GAUGE, start) ||
	    one(b, "process_virtual_memory_bytes", "Virtual memory size in "
	    "bytes.", EXPFMT_GAUGE, vsize);
}

int
stats_write(const struct stats *st, const char *preset, struct buf *out)
{
	if (process(out) != 0 || ingest_histogram(out, st) != 0 ||
	    one(out, "promrun_serve_journal_bytes", "Bytes in the "
	    "organizations' journals.", EXPFMT_GAUGE,
	    (double)st->journal_bytes) != 0 ||
	    one(out, "promrun_serve_journal_syncs_total", "Syncs of the "
	    "journals to stable storage, one per round of group commit.",
	    EXPFMT_COUNTER, (double)st->syncs) != 0 ||
	    one(out, "promrun_serve_journal_write_errors_total", "Batches of "
	    "runs that could not be written (answered 503).", EXPFMT_COUNTER,
	    (double)st->write_errors) != 0 ||
	    requests(out, st) != 0 ||
	    one(out, "promrun_serve_runs_duplicate_total", "Posted runs "
	    "already recorded, answered and not counted again.",
	    EXPFMT_COUNTER, (double)st->duplicates) != 0 ||
	    one(out, "promrun_serve_runs_recorded_total", "Runs written to the "
	    "journals.", EXPFMT_COUNTER, (double)st->recorded) != 0 ||
	    version_info(out, preset) != 0)
		return PERR_NOMEM;
	return 0;
}

static void
timestamp(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char date[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%.24s.%03dZ", date,
	    (int)(ts.tv_nsec / 1000000 % 1000));
}

static int
log_json(struct buf *out, const char *when, const struct stats_log *l)
{
	json_t *o = json_object(), *f = json_object();
	char *text;
	int rc = PERR_NOMEM;

	if (o == NULL || f == NULL)
		goto out;
	if (l->method != NULL) {
		json_object_set_new(f, "org", l->org != NULL ?
		    json_string(l->org) : json_null());
		json_object_set_new(f, "method", json_string(l->method));
		json_object_set_new(f, "endpoint",
		    json_string(stats_endpoint_name(l->endpoint)));
		json_object_set_new(f, "code", json_integer(l->code));
		json_object_set_new(f, "duration_ms",
		    json_real((double)(long long)(l->duration_ms * 1000) /
		    1000));
		if (l->runs >= 0)
			json_object_set_new(f, "runs", json_integer(l->runs));
	} else if (l->org != NULL) {
		json_object_set_new(f, "org", json_string(l->org));
	}
	json_object_set_new(o, "timestamp", json_string(when));
	json_object_set_new(o, "level", json_string(l->level));
	json_object_set_new(o, "target", json_string(l->target));
	json_object_set_new(o, "message", json_string(l->message));
	json_object_set(o, "fields", f);
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text != NULL) {
		rc = buf_adds(out, text);
		free(text);
	}
out:
	json_decref(o);
	json_decref(f);
	return rc;
}

int
stats_log_line(struct buf *out, int json, const struct stats_log *l)
{
	char when[40];

	timestamp(when, sizeof(when));
	if (json)
		return log_json(out, when, l);
	if (buf_addf(out, "%s %s %s: %s", when, l->level, l->target,
	    l->message))
		return PERR_NOMEM;
	if (l->method != NULL && buf_addf(out, " org=%s method=%s endpoint=%s "
	    "code=%u duration_ms=%.3f", l->org != NULL ? l->org : "-",
	    l->method, stats_endpoint_name(l->endpoint), l->code,
	    l->duration_ms))
		return PERR_NOMEM;
	if (l->method == NULL && l->org != NULL &&
	    buf_addf(out, " org=%s", l->org))
		return PERR_NOMEM;
	if (l->runs >= 0 && buf_addf(out, " runs=%ld", l->runs))
		return PERR_NOMEM;
	return 0;
}
