/*
 * Unit tests of remote write's pure parts: the protobuf writer byte for
 * byte (varints at every length boundary, tags, length-delimited fields,
 * fixed64 and doubles), a Label, Sample, TimeSeries and MetricMetadata
 * against bytes worked out by hand from prompb's types.proto, snappy's
 * round trip, series with the grouping labels sorted and empty values
 * left out, the state's timestamp rule and file names.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <snappy-c.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/buf.h"
#include "push/pb.h"
#include "push/remote.h"
#include "push/series.h"
#include "push/snappyapi.h"
#include "push/state.h"

/* b holds exactly the n bytes of want. */
static int
bytes_are(const struct buf *b, const char *want, size_t n)
{
	return b->len == n && (n == 0 || memcmp(b->p, want, n) == 0);
}

#define BYTES(b, lit) bytes_are((b), (lit), sizeof(lit) - 1)

static void
test_pb(void)
{
	struct buf b = BUF_INIT(1024);

	CHECK(pb_varint(&b, 0) == 0 && BYTES(&b, "\x00"));
	buf_reset(&b);
	CHECK(pb_varint(&b, 127) == 0 && BYTES(&b, "\x7f"));
	buf_reset(&b);
	CHECK(pb_varint(&b, 128) == 0 && BYTES(&b, "\x80\x01"));
	buf_reset(&b);
	/* protobuf's encoding guide: 150 is 96 01. */
	CHECK(pb_varint(&b, 150) == 0 && BYTES(&b, "\x96\x01"));
	buf_reset(&b);
	CHECK(pb_varint(&b, 16383) == 0 && BYTES(&b, "\xff\x7f"));
	buf_reset(&b);
	CHECK(pb_varint(&b, 16384) == 0 && BYTES(&b, "\x80\x80\x01"));
	buf_reset(&b);
	/* -1 as int64: ten bytes, the last 01. */
	CHECK(pb_varint(&b, (uint64_t)-1) == 0 &&
	    BYTES(&b, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"));
	CHECK(pb_varint_size(0) == 1 && pb_varint_size(127) == 1 &&
	    pb_varint_size(128) == 2 && pb_varint_size((uint64_t)-1) == 10);
	buf_reset(&b);
	/* Field 1 varint 150: 08 96 01; field 2 string "testing". */
	CHECK(pb_tag(&b, 1, PB_VARINT) == 0 && pb_varint(&b, 150) == 0 &&
	    pb_len(&b, 2, "testing", 7) == 0 &&
	    BYTES(&b, "\x08\x96\x01\x12\x07testing"));
	buf_reset(&b);
	CHECK(pb_tag(&b, 16, PB_LEN) == 0 && BYTES(&b, "\x82\x01"));
	buf_reset(&b);
	CHECK(pb_len(&b, 3, "", 0) == 0 && BYTES(&b, "\x1a\x00"));
	buf_reset(&b);
	CHECK(pb_fixed64(&b, 2, 0x0102030405060708ull) == 0 &&
	    BYTES(&b, "\x11\x08\x07\x06\x05\x04\x03\x02\x01"));
	buf_reset(&b);
	/* 1.5 is 0x3ff8000000000000. */
	CHECK(pb_double(&b, 1, 1.5) == 0 &&
	    BYTES(&b, "\x09\x00\x00\x00\x00\x00\x00\xf8\x3f"));
	/* A full buffer fails and is left empty. */
	{
		struct buf small = BUF_INIT(3);

		CHECK(pb_len(&small, 1, "abcd", 4) == PERR_LIMIT);
		CHECK(small.len == 0);
	}
	buf_free(&b);
}

static void
test_messages(void)
{
	struct buf req = BUF_INIT(4096), scratch = BUF_INIT(4096);
	struct expfmt_label labels[] = {{"Z", "1"}, {"a", "b"}};
	struct series s = {"up", 0, labels, 2, 1.0, "", 0, 0, 0, NULL};
	struct series_family f = {"up", EXPFMT_GAUGE, "Is it up."};
	struct series_family u = {"x", EXPFMT_UNTYPED, ""};

	/*
	 * TimeSeries { labels: Z=1, __name__=up, a=b (sorted: 'Z' < '_' <
	 * 'a'); samples: { value 1.0, timestamp 1000 } } as WriteRequest's
	 * field 1.
	 */
	CHECK(remote_timeseries(&req, &scratch, &s, 1.0, 1000) == 0);
	CHECK(BYTES(&req, "\x0a\x2e"
	    "\x0a\x06\x0a\x01Z\x12\x01" "1"
	    "\x0a\x0e\x0a\x08__name__\x12\x02up"
	    "\x0a\x06\x0a\x01" "a\x12\x01" "b"
	    "\x12\x0c\x09\x00\x00\x00\x00\x00\x00\xf0\x3f\x10\xe8\x07"));
	buf_reset(&req);
	/* MetricMetadata { type GAUGE = 2; name; help } as field 3. */
	CHECK(remote_metadata(&req, &f) == 0);
	CHECK(BYTES(&req, "\x1a\x11\x08\x02\x12\x02up\x22\x09Is it up."));
	buf_reset(&req);
	/* UNKNOWN and empty help are proto3 defaults: left out. */
	CHECK(remote_metadata(&req, &u) == 0);
	CHECK(BYTES(&req, "\x1a\x03\x12\x01x"));
	buf_free(&req);
	buf_free(&scratch);
}

static void
test_snappy(void)
{
	struct buf in = BUF_INIT(1 << 20), z = BUF_INIT(1 << 21);
	char *out;
	size_t len, i;

	for (i = 0; i < 100000; i++)
		if (buf_addc(&in, (char)("promrun"[i % 7] + (i % 13 == 0))) != 0)
			break;
	CHECK(in.len == 100000);
	CHECK(remote_snappy(in.p, in.len, &z, NULL) == 0);
	CHECK(z.len > 0 && z.len < in.len / 4);
	CHECK(snappy_validate_compressed_buffer(z.p, z.len) == SNAPPY_OK);
	CHECK(snappy_uncompressed_length(z.p, z.len, &len) == SNAPPY_OK &&
	    len == in.len);
	out = malloc(len);
	CHECK(out != NULL && snappy_uncompress(z.p, z.len, out, &len) ==
	    SNAPPY_OK && len == in.len && memcmp(out, in.p, len) == 0);
	free(out);
	/* The empty body: one byte, the length 0. */
	CHECK(remote_snappy("", 0, &z, NULL) == 0 && BYTES(&z, "\x00"));
	buf_free(&in);
	buf_free(&z);
}

/*
 * A block made in 64 KiB pieces (snappy_stream) is the block libsnappy
 * makes of the whole input, byte for byte, at every size around a piece's
 * edges and for input written in odd parts: the requests sent are the
 * library's own.
 */
static void
test_snappy_stream(void)
{
	static const size_t sizes[] = {1, 100, 65535, 65536, 65537, 131072,
	    3 * 65536 + 17};
	struct buf in = BUF_INIT(1 << 20);
	struct snappy_stream st;
	const char *block;
	size_t i, k, n, at, part, len;
	uint64_t x = 88172645463325252ull;
	char *want, *room;
	bool written;

	/* Series-like text, repetitive but not too: what requests hold. */
	for (i = 0, written = true; written && in.len < 3 * 65536 + 17; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		written = buf_addf(&in, "bench_runs_total{repo=\"repo-%u\","
		    "n=\"%u\"} %u.5\n", (unsigned)(x % 50), (unsigned)i,
		    (unsigned)(x % 1000)) == 0;
	}
	CHECK(written);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		n = sizes[k];
		len = snappy_max_compressed_length(n);
		want = malloc(len);
		CHECK(want != NULL && snappy_compress(in.p, n, want, &len) ==
		    SNAPPY_OK);
		CHECK(snappy_stream_begin(&st, n, NULL) == 0);
		/* In parts of 1 to 997 bytes, as series come. */
		for (at = 0, written = true; written && at < n; at += part) {
			part = 1 + (at * 7919) % 997;
			if (part > n - at)
				part = n - at;
			if ((room = snappy_stream_room(&st, part)) == NULL)
				written = false;
			else
				memcpy(room, in.p + at, part);
			written = written && snappy_stream_wrote(&st, part) == 0;
		}
		CHECK(written && snappy_stream_end(&st, &block, &i) == 0);
		CHECK(want != NULL && i == len && memcmp(block, want, len) == 0);
		/* Past max_input: refused. */
		CHECK(snappy_stream_room(&st, 1) == NULL);
		snappy_stream_free(&st);
		free(want);
	}
	buf_free(&in);
}

static void
test_series(void)
{
	static const char text[] = "# TYPE m counter\nm_total{b=\"2\",e=\"\","
	    "a=\"1\"} 3\n";
	struct series_set set;
	struct push_group g;
	struct perr e;
	struct buf keys = BUF_INIT(4096);
	const char *render = "promrun_render_timestamp_seconds 42.25\nx 1\n";
	size_t i;

	push_group_init(&g, "j");
	CHECK(push_group_add(&g, "instance", "h", NULL) == 0);
	series_set_init(&set);
	CHECK(series_set_add(&set, text, sizeof(text) - 1, "t", &g, 100.5,
	    &e) == 0);
	CHECK(set.nseries == 1 && set.nfamilies == 1);
	CHECK_STR(set.series[0].key,
	    "m_total{a=\"1\",b=\"2\",instance=\"h\",job=\"j\"}");
	CHECK(set.series[0].time == 100500);
	/* Each label's lengths kept with it, for the encoder. */
	CHECK(set.series[0].lens != NULL);
	for (i = 0; i < set.series[0].nlabels; i++)
		CHECK(set.series[0].lens[2 * i] ==
		    strlen(set.series[0].labels[i].name) &&
		    set.series[0].lens[2 * i + 1] ==
		    strlen(set.series[0].labels[i].value));
	CHECK(series_find(&set, set.series[0].key, set.series[0].key_len, &i) &&
	    i == 0);
	/* A key read back gives the same labels. */
	CHECK(buf_add(&keys, set.series[0].key, set.series[0].key_len) == 0 &&
	    buf_addc(&keys, '\n') == 0);
	{
		struct series_set back;

		series_set_init(&back);
		CHECK(series_set_parse_keys(&back, keys.p, keys.len, "k", &e) ==
		    0);
		CHECK(back.nseries == 1 && back.series[0].nlabels == 4);
		CHECK_STR(back.series[0].labels[2].name, "instance");
		series_set_free(&back);
	}
	series_set_free(&set);
	/* A key written in the set's memory escapes as the writer does. */
	series_set_init(&set);
	CHECK(series_set_add(&set, "x{a=\"q\\\"t\\\\\\n\"} 1\n", 18, "t",
	    &g, 1, &e) == 0);
	CHECK(set.nseries == 1);
	CHECK_STR(set.series[0].key,
	    "x{a=\"q\\\"t\\\\\\n\",instance=\"h\",job=\"j\"}");
	CHECK(set.series[0].key_len == strlen(set.series[0].key) &&
	    set.series[0].lens[1] == 5);
	series_set_free(&set);
	/* The render time of the text, not now. */
	series_set_init(&set);
	CHECK(series_set_add(&set, render, strlen(render), "t", &g, 100, &e) ==
	    0);
	CHECK(set.series[1].time == 42250);
	series_set_free(&set);
	/* A label the grouping key gives another value. */
	series_set_init(&set);
	CHECK(series_set_add(&set, "x{job=\"k\"} 1\n", 13, "t", &g, 1, &e) ==
	    PERR_INVALID);
	CHECK(strstr(e.msg, "t:1: x would have label job twice") == e.msg);
	series_set_free(&set);
	buf_free(&keys);
}

static void
test_state(void)
{
	struct state_rec prev = {1000, 0, 2.0};
	struct buf name = BUF_INIT(256);

	CHECK(state_next_ts(NULL, 5, 1) == 5);
	CHECK(state_next_ts(&prev, 1001, 3) == 1001);
	CHECK(state_next_ts(&prev, 1000, 2.0) == 1000);
	CHECK(state_next_ts(&prev, 1000, 3.0) == 1001);
	CHECK(state_next_ts(&prev, 10, 2.0) == 1000);
	CHECK(state_next_ts(&prev, 10, NAN) == 1001);
	CHECK(state_file_name(&name, "remote-write",
	    "https://user@mimir.example:9009/api/v1/push", "d") == 0);
	CHECK(strncmp(buf_str(&name), "remote-write-user_mimir.example_9009-",
	    37) == 0);
	CHECK(strcmp(buf_str(&name) + name.len - 6, ".state") == 0);
	buf_free(&name);
}

int
main(void)
{
	test_pb();
	test_messages();
	test_snappy();
	test_snappy_stream();
	test_series();
	test_state();
	return check_done("test-remote");
}
