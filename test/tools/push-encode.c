/*
 * push-encode: what promrun-push would send, written to standard output
 * instead, for the byte-level tests (protoc --decode_raw, the OTLP sink)
 * and the encoding benchmark.
 *
 *   push-encode rw FILE TIME_MS       WriteRequest protobuf, uncompressed
 *   push-encode rw-snappy FILE TIME_MS  the same, snappy-compressed
 *   push-encode snappy-d              standard input uncompressed (snappy)
 *   push-encode bench FILE N          encode and compress FILE's series N
 *                                     times; print the median in ms
 *
 * FILE's series get job="promrun" as promrun-push gives them.
 */
#define _POSIX_C_SOURCE 200809L
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "push/grouping.h"
#include "push/push.h"
#include "push/remote.h"
#include "push/series.h"

static int
die(const char *what)
{
	fprintf(stderr, "push-encode: %s\n", what);
	return 2;
}

static int
load(const char *path, struct series_set *set, struct perr *e)
{
	struct push_group g;
	struct buf body = BUF_INIT(PUSH_MAX_INPUT);
	char *paths[1] = {(char *)path};
	int rc;

	push_group_init(&g, "promrun");
	series_set_init(set);
	if ((rc = push_load_for(PUSH_REMOTE_WRITE, paths, 1, &g, 0, &body, e)) ==
	    0)
		rc = series_set_add(set, body.p != NULL ? body.p : "", body.len,
		    path, &g, 0, e);
	buf_free(&body);
	return rc;
}

/* The WriteRequest of one push: metadata, then every series at t. */
static int
encode(const struct series_set *set, long long t, struct buf *req,
    struct buf *scratch)
{
	size_t i;
	int rc = 0;

	buf_reset(req);
	for (i = 0; rc == 0 && i < set->nseries; i++)
		rc = remote_timeseries(req, scratch, &set->series[i],
		    set->series[i].value, t);
	for (i = 0; rc == 0 && i < set->nfamilies; i++)
		rc = remote_metadata(req, &set->families[i]);
	return rc;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
bench(const struct series_set *set, int n)
{
	struct buf req = BUF_INIT(1u << 30), scratch = BUF_INIT(1u << 20);
	struct buf z = BUF_INIT(1u << 30);
	double *ms = calloc((size_t)n, sizeof(double)), t0;
	int i;

	for (i = 0; ms != NULL && i < n; i++) {
		t0 = clock_monotonic();
		if (encode(set, 1700000000000LL, &req, &scratch) != 0 ||
		    remote_snappy(req.p, req.len, &z, NULL) != 0)
			return die("encoding failed");
		ms[i] = (clock_monotonic() - t0) * 1000;
	}
	qsort(ms, (size_t)n, sizeof(double), cmp_double);
	printf("%zu series, %zu bytes, %zu compressed: median %.3f ms, "
	    "min %.3f ms\n", set->nseries, req.len, z.len, ms[n / 2], ms[0]);
	free(ms);
	buf_free(&req);
	buf_free(&scratch);
	buf_free(&z);
	return 0;
}

static int
unsnappy(void)
{
	struct buf in = BUF_INIT(1u << 30);
	char chunk[65536], *out;
	size_t len;
	ssize_t n;

	while ((n = read(0, chunk, sizeof(chunk))) > 0)
		if (buf_add(&in, chunk, (size_t)n) != 0)
			return die("input too large");
	if (snappy_uncompressed_length(in.p, in.len, &len) != SNAPPY_OK ||
	    (out = malloc(len + 1)) == NULL ||
	    snappy_uncompress(in.p, in.len, out, &len) != SNAPPY_OK)
		return die("not a snappy block");
	fwrite(out, 1, len, stdout);
	free(out);
	buf_free(&in);
	return 0;
}

int
main(int argc, char **argv)
{
	struct buf req = BUF_INIT(1u << 30), scratch = BUF_INIT(1u << 20);
	struct buf z = BUF_INIT(1u << 30);
	struct series_set set;
	struct perr e;
	int rc;

	if (argc == 2 && strcmp(argv[1], "snappy-d") == 0)
		return unsnappy();
	if (argc != 4)
		return die("usage: push-encode rw|rw-snappy|bench FILE TIME_MS|N");
	if (load(argv[2], &set, &e) != 0)
		return die(e.msg);
	if (strcmp(argv[1], "bench") == 0)
		rc = bench(&set, atoi(argv[3]));
	else if ((rc = encode(&set, atoll(argv[3]), &req, &scratch)) != 0)
		rc = die("encoding failed");
	else if (strcmp(argv[1], "rw") == 0)
		fwrite(req.p, 1, req.len, stdout);
	else if (remote_snappy(req.p, req.len, &z, &e) == 0)
		fwrite(z.p, 1, z.len, stdout);
	else
		rc = die(e.msg);
	series_set_free(&set);
	buf_free(&req);
	buf_free(&scratch);
	buf_free(&z);
	return rc;
}
