/*
 * Unit tests of the wire format between promrun-serve and its clients:
 * runs as promrun-record --server posts them, each read back by the
 * receiver's own parser (ingest_runs) into the very run that was written.
 * (test-serve checks the JSON strings, which the receiver writes too.)
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/buf.h"
#include "common/err.h"
#include "journal/journal.h"
#include "journal/record.h"
#include "journal/run.h"
#include "serve/ingest.h"
#include "serve/wire.h"

/* Build a run from promrun-record's options, as the client does. */
static void
build(struct run *r, struct record_args *a, const struct journal_settings *j)
{
	struct perr e;
	int rc;

	a->plain_text = true;
	if ((rc = record_build(r, a, j, &e)) != 0)
		fprintf(stderr, "record_build: %s\n", e.msg);
	CHECK(rc == 0);
}

static bool
same_string(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Encode r, parse it with the receiver's ingest, compare every field. */
static void
round_trip(const struct run *r, const struct journal_settings *j)
{
	struct ingest_rules rules = {j, NULL, 0, "24h"};
	struct buf body = BUF_INIT(1 << 16);
	struct ingest in;
	struct perr e;
	const struct run *got;
	size_t i;

	CHECK(wire_run_json(r, &body) == 0);
	if (ingest_runs(&in, body.p, body.len, &rules, &e) != 0) {
		fprintf(stderr, "ingest refused %s: %s\n", buf_str(&body),
		    e.msg);
		CHECK(!"the receiver takes what the client writes");
		ingest_free(&in);
		buf_free(&body);
		return;
	}
	CHECK(in.n == 1 && !in.array);
	got = &in.runs[0];
	CHECK(got->event == r->event);
	CHECK(got->time == r->time);
	CHECK(same_string(got->workflow, r->workflow));
	CHECK(same_string(got->step, r->step));
	CHECK(same_string(got->run_id, r->run_id));
	CHECK(got->status == r->status);
	CHECK(got->has_duration == r->has_duration);
	CHECK(!r->has_duration || got->duration == r->duration);
	CHECK(got->exit_code == r->exit_code);
	CHECK(got->nlabels == r->nlabels);
	for (i = 0; i < r->nlabels && i < got->nlabels; i++) {
		CHECK_STR(got->labels[i].name, r->labels[i].name);
		CHECK_STR(got->labels[i].value, r->labels[i].value);
	}
	ingest_free(&in);
	buf_free(&body);
}

static void
test_round_trips(void)
{
	struct journal_settings j = {0};
	struct record_args a;
	struct run r;
	char l1[] = "repo=octo-org/app", l2[] = "branch=feat/\"x\"\\y",
	    l3[] = "runner=caf\xc3\xa9 \xf0\x9f\x9a\x80", l4[] = "empty=";
	char *labels[] = {l1, l2, l3, l4};
	/* 0.00001 and 0.0000083 are written 1e-05 and 8.3e-06 by %g. */
	static const char *const durations[] = {"0", "0.1", "0.00001",
	    "0.0000083", "12.5", "3600", "86400.000001", "123456789.123"};
	static const char *const times[] = {"1795429135.0571678",
	    "2026-11-23T10:00:00Z", "1795429135", "1795429135.999999"};
	size_t i, k;

	/* A finished run with every field, in several durations and times. */
	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		for (k = 0; k < sizeof(times) / sizeof(times[0]); k++) {
			memset(&a, 0, sizeof(a));
			a.event = RUN_EVENT_RUN;
			a.workflow = "it's a \"test\" $HOME";
			a.step = "lint \xe2\x82\xac";
			a.run_id = "6123456789-2";
			a.status = "failed";
			a.exit_code = "3";
			a.duration = durations[i];
			a.time = times[k];
			a.labels = labels;
			a.nlabels = 4;
			l1[4] = l2[6] = l3[6] = l4[5] = '=';	/* split again */
			build(&r, &a, &j);
			round_trip(&r, &j);
		}
	}
	/* A start: the time is "started", no status. */
	memset(&a, 0, sizeof(a));
	a.event = RUN_EVENT_START;
	a.workflow = "deploy";
	a.run_id = "f6be17ad24426d98";
	a.time = "1795429135.0598838";
	build(&r, &a, &j);
	round_trip(&r, &j);
	/* Its finish, as wrapper mode makes it: exit code, duration. */
	record_finish_of(&r, &r, 124, 41.25, 1795429176.3098838);
	round_trip(&r, &j);
	/* A run without a run id, duration or labels; status from -e. */
	memset(&a, 0, sizeof(a));
	a.event = RUN_EVENT_RUN;
	a.workflow = "cron";
	a.exit_code = "143";
	build(&r, &a, &j);
	round_trip(&r, &j);
}

/*
 * record_finish_of rounds the duration to microseconds without libm: the
 * same as round(d * 1e6) / 1e6 on halves, near-halves, negatives, huge
 * values and random bit patterns.
 */
static void
test_duration_rounding(void)
{
	static const double edges[] = { 0, -0.0, 0.5e-6, 1.5e-6, 2.5e-6,
	    -0.5e-6, -2.5e-6, 0.49999999999999994e-6, 41.2500005,
	    1.0000005, 4503599627.3704955, 4503599627.3704965, 1e300, -1e300,
	    1e-320, 86400.0000004999, 0x1p52 / 1e6, 0x1p53 / 1e6 };
	struct run r, f;
	unsigned long long x = 88172645463325252ULL;
	size_t i, bad = 0;
	double d;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < sizeof(edges) / sizeof(edges[0]) + 200000; i++) {
		if (i < sizeof(edges) / sizeof(edges[0])) {
			d = edges[i];
		} else {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* Durations from a microsecond to a year, and halves. */
			d = (double)(x % 31536000000000ULL) / 1e6 +
			    (i % 2 ? 0.5e-6 : (double)(x >> 40) / 1e12);
		}
		record_finish_of(&f, &r, 0, d, 0);
		if (memcmp(&f.duration, &(double){ round(d * 1e6) / 1e6 },
		    sizeof(double)) != 0 && ++bad < 5)
			fprintf(stderr, "duration %.17g: got %.17g\n", d,
			    f.duration);
	}
	CHECK(bad == 0);
}

int
main(void)
{
	test_round_trips();
	test_duration_rounding();
	return check_done("test-wire");
}
