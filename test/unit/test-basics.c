/* Unit tests of the foundation modules: buf, crc32c, text, clock. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "check.h"
#include "common/clock.h"
#include "common/crc32c.h"
#include "common/err.h"
#include "common/latch.h"
#include "common/mem.h"
#include "common/text.h"

static const char *
fmt_double(struct buf *b, double v)
{
	buf_reset(b);
	buf_add_double(b, v);
	return buf_str(b);
}

static const char *
fmt_decimal(struct buf *b, double v)
{
	buf_reset(b);
	CHECK(buf_add_decimal(b, v) == 0);
	return buf_str(b);
}

static void
test_buf(void)
{
	struct buf b = BUF_INIT(8);
	char *taken;

	CHECK_STR(buf_str(&b), "");
	CHECK(buf_adds(&b, "12345678") == 0);
	CHECK(b.len == 8 && strcmp(b.p, "12345678") == 0);
	/* Past the cap the append fails and the buffer is freed. */
	CHECK(buf_addc(&b, '9') == PERR_LIMIT);
	CHECK(b.p == NULL && b.len == 0);
	CHECK(buf_addf(&b, "%d-%s", 42, "x") == 0);
	CHECK_STR(buf_str(&b), "42-x");
	taken = buf_take(&b);
	CHECK_STR(taken, "42-x");
	CHECK(b.p == NULL);
	free(taken);
	buf_free(&b);

	buf_init(&b, 64);
	CHECK_STR(fmt_double(&b, 0), "0");
	CHECK_STR(fmt_double(&b, -0.0), "0");
	CHECK_STR(fmt_double(&b, 42), "42");
	CHECK_STR(fmt_double(&b, -3), "-3");
	CHECK_STR(fmt_double(&b, 0.25), "0.25");
	CHECK_STR(fmt_double(&b, 0.1), "0.1");
	CHECK_STR(fmt_double(&b, 1e-5), "1e-05");
	CHECK_STR(fmt_double(&b, 1763891234.5), "1763891234.5");
	CHECK_STR(fmt_double(&b, 1e300), "1e+300");
	CHECK_STR(fmt_double(&b, 9007199254740993.0 * 4), "3.602879701896397e+16");
	CHECK_STR(fmt_double(&b, INFINITY), "+Inf");
	CHECK_STR(fmt_double(&b, -INFINITY), "-Inf");
	CHECK_STR(fmt_double(&b, NAN), "NaN");
	/* Shortest form must read back exactly. */
	CHECK(strtod(fmt_double(&b, 1.0 / 3), NULL) == 1.0 / 3);
	CHECK(strtod(fmt_double(&b, 123.456e-100), NULL) == 123.456e-100);
	/* Plain decimals: the exponent written out, the same double. */
	CHECK_STR(fmt_decimal(&b, 0.25), "0.25");
	CHECK_STR(fmt_decimal(&b, 42), "42");
	CHECK_STR(fmt_decimal(&b, 1e-5), "0.00001");
	CHECK_STR(fmt_decimal(&b, 8.32e-05), "0.0000832");
	CHECK_STR(fmt_decimal(&b, -1.5e-7), "-0.00000015");
	CHECK_STR(fmt_decimal(&b, 1e20), "100000000000000000000");
	CHECK_STR(fmt_decimal(&b, 3.25e17), "325000000000000000");
	CHECK_STR(fmt_decimal(&b, 9007199254740993.0 * 4),
	    "36028797018963970");
	CHECK(strtod(fmt_decimal(&b, 1.0 / 3 * 1e-9), NULL) == 1.0 / 3 * 1e-9);
	buf_free(&b);
	buf_init(&b, 4096);
	CHECK(strtod(fmt_decimal(&b, 123.456e-100), NULL) == 123.456e-100);
	buf_free(&b);
}

static void
test_crc32c(void)
{
	const char *s = "123456789";
	char big[1000];
	uint32_t whole, parts;
	size_t i;

	CHECK(crc32c(0, s, 9) == 0xe3069283u);
	CHECK(crc32c(0, "", 0) == 0);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 3);
	whole = crc32c(0, big, sizeof(big));
	parts = crc32c(crc32c(crc32c(0, big, 3), big + 3, 500), big + 503,
	    sizeof(big) - 503);
	CHECK(whole == parts);
	big[500] ^= 1;
	CHECK(crc32c(0, big, sizeof(big)) != whole);
	/* The table code, byte by byte, agrees with whatever crc32c used. */
	{
		uint32_t c = 0xffffffffu;
		int k;

		for (i = 0; i < sizeof(big); i++) {
			c ^= (unsigned char)big[i];
			for (k = 0; k < 8; k++)
				c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		}
		CHECK(~c == crc32c(0, big, sizeof(big)));
		CHECK(~c == crc32c_tables(0, big, sizeof(big)));
		for (i = 0; i < 20; i++)	/* every tail length */
			CHECK(crc32c(0, big + i, 100 + i) ==
			    crc32c_tables(0, big + i, 100 + i));
	}
}

static void
test_utf8(void)
{
	size_t at = 99;

	CHECK(utf8_valid("plain", 5, NULL));
	CHECK(utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, NULL));
	CHECK(!utf8_valid("\xc0\x80", 2, &at) && at == 0);	/* overlong NUL */
	CHECK(!utf8_valid("a\xe0\x80\xaf", 4, &at) && at == 1); /* overlong */
	CHECK(!utf8_valid("\xed\xa0\x80", 3, NULL));		/* surrogate */
	CHECK(!utf8_valid("\xf4\x90\x80\x80", 4, NULL));	/* > U+10FFFF */
	CHECK(!utf8_valid("ab\xe2\x82", 4, &at) && at == 2);	/* truncated */
	CHECK(!utf8_valid("\x80", 1, NULL));			/* lone continuation */
	CHECK(!utf8_valid("\xff", 1, NULL));
	CHECK(utf8_valid("\xf4\x8f\xbf\xbf", 4, NULL));	/* U+10FFFF */
	/* Past the eight ASCII bytes at a time: where the bad byte is. */
	CHECK(utf8_valid("workflow-0123456789 caf\xc3\xa9 ok", 28, NULL));
	CHECK(!utf8_valid("0123456789abcdef\xff", 17, &at) && at == 16);
	CHECK(!utf8_valid("01234567\x80", 9, &at) && at == 8);
	CHECK(!utf8_valid("0123456789\xe2\x82", 12, &at) && at == 10);
	CHECK(!utf8_valid("0123456\xc3\xa9\xc0\x80xyz", 14, &at) &&
	    at == 9);
}

static void
test_names(void)
{
	char item[8];
	size_t pos = 0;

	CHECK(label_name_valid("repo"));
	CHECK(label_name_valid("_a1"));
	CHECK(!label_name_valid(""));
	CHECK(!label_name_valid("1a"));
	CHECK(!label_name_valid("a-b"));
	CHECK(!label_name_valid("a:b"));
	CHECK(metric_name_valid("ci:rate5m"));
	CHECK(!metric_name_valid("9x"));
	CHECK(name_list_next("org, repo  branch,", &pos, item, sizeof(item)) == 3);
	CHECK_STR(item, "org");
	CHECK(name_list_next("org, repo  branch,", &pos, item, sizeof(item)) == 4);
	CHECK_STR(item, "repo");
	CHECK(name_list_next("org, repo  branch,", &pos, item, sizeof(item)) == 6);
	CHECK_STR(item, "branch");
	CHECK(name_list_next("org, repo  branch,", &pos, item, sizeof(item)) == 0);
}

static double
parse_time(const char *s)
{
	double t = -1;

	if (clock_parse_time(s, "t", &t, NULL) != 0)
		return -1;
	return t;
}

static double
parse_seconds(const char *s)
{
	double t = -1;

	if (clock_parse_seconds(s, "d", &t, NULL) != 0)
		return -1;
	return t;
}

static void
test_clock(void)
{
	struct perr e;

	CHECK(parse_time("0") == 0);
	CHECK(parse_time("1763891234.25") == 1763891234.25);
	CHECK(parse_time("1970-01-01T00:00:00Z") == 0);
	CHECK(parse_time("2026-11-23T10:00:00Z") == 1795428000);
	CHECK(parse_time("2026-11-23t10:00:00z") == 1795428000);
	CHECK(parse_time("2026-11-23 11:00:00+01:00") == 1795428000);
	CHECK(parse_time("2026-11-23T04:30:00.5-05:30") == 1795428000.5);
	CHECK(parse_time("2024-02-29T00:00:00Z") == 1709164800);
	CHECK(parse_time("2023-02-29T00:00:00Z") < 0);
	CHECK(parse_time("2026-13-01T00:00:00Z") < 0);
	CHECK(parse_time("2026-11-23T24:00:00Z") < 0);
	CHECK(parse_time("2026-11-23T10:00:00") < 0);	/* no zone */
	CHECK(parse_time("2026-11-23T10:00:00.Z") < 0);
	CHECK(parse_time("1969-12-31T23:59:59Z") < 0);
	CHECK(parse_time("-5") < 0);
	CHECK(parse_time("nan") < 0);
	CHECK(parse_time("inf") < 0);
	CHECK(parse_time("0x10") < 0);
	CHECK(parse_time(" 5") < 0);
	CHECK(parse_time("1e9") < 0);
	CHECK(parse_time("") < 0);
	CHECK(parse_time("99999999999999") < 0);		/* after 9999 */
	CHECK(clock_parse_time("soon", "--time", &(double){0}, &e) ==
	    PERR_INVALID);
	CHECK(strstr(e.msg, "--time \"soon\"") != NULL);

	CHECK(parse_seconds("12") == 12);
	CHECK(parse_seconds("0.25") == 0.25);
	CHECK(parse_seconds(".5") == 0.5);
	CHECK(parse_seconds("-1") < 0);
	CHECK(parse_seconds("+1") < 0);
	CHECK(parse_seconds("1e3") < 0);
	CHECK(parse_seconds("NaN") < 0);
	CHECK(parse_seconds(".") < 0);
	CHECK(parse_seconds("") < 0);
	CHECK(parse_seconds("1s") < 0);
}

static double
parse_duration(const char *s)
{
	double t = -1;

	if (clock_parse_duration(s, "d", &t, NULL) != 0)
		return -1;
	return t;
}

static void
test_durations(void)
{
	CHECK(parse_duration("0") == 0);
	CHECK(parse_duration("90s") == 90);
	CHECK(parse_duration("1h30m") == 5400);
	CHECK(parse_duration("1w2d") == 9 * 86400);
	CHECK(parse_duration("24h") == 86400);
	CHECK(parse_duration("1y") == 365 * 86400);
	CHECK(parse_duration("250ms") == 0.25);
	CHECK(parse_duration("1m500ms") == 60.5);
	CHECK(parse_duration("5") < 0);
	CHECK(parse_duration("5M") < 0);
	CHECK(parse_duration("1.5m") < 0);
	CHECK(parse_duration("-1m") < 0);
	CHECK(parse_duration("30m1h") < 0);	/* units out of order */
	CHECK(parse_duration("1h1h") < 0);	/* a unit twice */
	CHECK(parse_duration("") < 0);
	CHECK(parse_duration("h") < 0);
	CHECK(parse_duration("1x") < 0);
}

static void
test_parse_double(void)
{
	static const char *const cases[] = {"0", "1", "1700000000",
	    "1795428135.050319", "0.1", "0.30000000000000004", ".5", "5.",
	    "123456789012345", "1234567890123456", "0.000000000000001",
	    "1e-05", "3.602879701896397e+16", "-2.5", "+Inf", "NaN",
	    "999999999999999.9", "1700000006.2199998", "1795428135.0503190",
	    "9999999999999999999", "0.1234567890123456789",
	    /* halfway between two doubles, and just off it */
	    "9007199254740993", "9007199254740993.0", "900719925474099.30",
	    "9007199254740993.1", "18014398509481986", "0.90071992547409935",
	    "99999999999999999999"};
	unsigned long long x = 88172645463325252ull, y;
	size_t i, j, k, n, point;
	double fast, slow;
	char *e1, *e2, text[32];

	/* Whatever the path, the result is strtod's, bit for bit. */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(text_parse_double(cases[i], &e1, &fast));
		slow = strtod(cases[i], &e2);
		CHECK(e1 == e2);
		CHECK(memcmp(&fast, &slow, sizeof(fast)) == 0 ||
		    (fast != fast && slow != slow));
	}
	/* Decimals of 16 to 19 digits, the point anywhere (xorshift). */
	for (i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = 16 + x % 4;
		point = (x >> 8) % (n + 1);
		for (k = 0, j = 0, y = x; k < n; k++, y /= 10) {
			if (k == point)
				text[j++] = '.';
			text[j++] = (char)('0' + y % 10);
		}
		if (point == n)
			text[j++] = '.';
		text[j] = '\0';
		CHECK(text_parse_double(text, &e1, &fast));
		slow = strtod(text, &e2);
		CHECK(e1 == e2 && memcmp(&fast, &slow, sizeof(fast)) == 0);
	}
	CHECK(!text_parse_double("x", &e1, &fast));
	CHECK(text_parse_double("12,34", &e1, &fast) && *e1 == ',' &&
	    fast == 12);
}

static void
test_quote(void)
{
	char q[PERR_QUOTE_MAX], big[300];

	CHECK_STR(perr_quote("a\"b\\c\nd\x01", q), "\"a\\\"b\\\\c\\nd\\x01\"");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	perr_quote(big, q);
	CHECK(strlen(q) < PERR_QUOTE_MAX);
	CHECK(strstr(q, "...\"") != NULL);
}

/* mem_grow: first room, doubling to fit, nothing when it fits, overflow
   refused with the array as it was. */
static void
test_grow(void)
{
	int *v = NULL;
	size_t cap = 0;

	CHECK(mem_grow(&v, &cap, 1, sizeof(*v), 16) == 0 && v != NULL &&
	    cap == 16);
	v[15] = 7;
	CHECK(mem_grow(&v, &cap, 16, sizeof(*v), 16) == 0 && cap == 16);
	CHECK(mem_grow(&v, &cap, 17, sizeof(*v), 16) == 0 && cap == 32 &&
	    v[15] == 7);
	CHECK(mem_grow(&v, &cap, 100, sizeof(*v), 16) == 0 && cap == 128 &&
	    v[15] == 7);
	CHECK(mem_grow(&v, &cap, SIZE_MAX / 2, sizeof(*v), 16) == -1 &&
	    cap == 128 && v[15] == 7);
	CHECK(mem_grow(&v, &cap, SIZE_MAX, 1, 16) == -1 && cap == 128);
	free(v);
}

/* latch: a waiter returns only once it is open, and sees what was
   written before; one made open does not wait. */
struct latch_case {
	struct latch go, back;
	int seen, value;
};

static int
latch_waiter(void *arg)
{
	struct latch_case *k = arg;

	latch_wait(&k->go);
	k->seen = k->value;
	latch_open(&k->back);
	return 0;
}

static void
test_latch(void)
{
	struct latch_case k = {.seen = -1, .value = 0};
	thrd_t t;

	CHECK(latch_init(&k.go, false) == 0 && latch_init(&k.back, false) == 0);
	CHECK(thrd_create(&t, latch_waiter, &k) == thrd_success);
	k.value = 42;
	latch_open(&k.go);
	latch_open(&k.go);
	latch_wait(&k.back);
	CHECK(k.seen == 42);
	thrd_join(t, NULL);
	latch_destroy(&k.go);
	latch_destroy(&k.back);
	CHECK(latch_init(&k.go, true) == 0);
	latch_wait(&k.go);
	latch_destroy(&k.go);
}

int
main(void)
{
	test_buf();
	test_grow();
	test_latch();
	test_crc32c();
	test_utf8();
	test_names();
	test_clock();
	test_durations();
	test_parse_double();
	test_quote();
	return check_done("test-basics");
}
