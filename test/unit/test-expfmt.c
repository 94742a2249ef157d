/* Unit tests of the exposition format writer and validating parser. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "check.h"
#include "metrics/expfmt.h"

static void
test_writer(void)
{
	struct buf b = BUF_INIT(1 << 16);
	struct expfmt_label l[2] = {
		{"workflow", "a \"quoted\" \\ back\nslash"},
		{"who", "Jos\xc3\xa9"},
	};

	CHECK(expfmt_write_header(&b, "ci_runs_total",
	    "Runs with \"quotes\", a \\ and a\nnewline.", EXPFMT_COUNTER) == 0);
	CHECK(expfmt_write_sample(&b, "ci_runs_total", l, 2, 3) == 0);
	CHECK(expfmt_write_sample(&b, "x", NULL, 0, INFINITY) == 0);
	CHECK(expfmt_write_sample(&b, "x", NULL, 0, -INFINITY) == 0);
	CHECK(expfmt_write_sample(&b, "x", NULL, 0, NAN) == 0);
	CHECK(expfmt_write_sample(&b, "x", NULL, 0, 0.1) == 0);
	CHECK_STR(buf_str(&b),
	    "# HELP ci_runs_total Runs with \"quotes\", a \\\\ and a\\nnewline.\n"
	    "# TYPE ci_runs_total counter\n"
	    "ci_runs_total{workflow=\"a \\\"quoted\\\" \\\\ back\\nslash\","
	    "who=\"Jos\xc3\xa9\"} 3\n"
	    "x +Inf\nx -Inf\nx NaN\nx 0.1\n");
	buf_free(&b);
}

struct seen {
	int families, samples;
	char last_value[64];
	double value;
	int has_ts;
};

static int
on_family(void *ctx, const struct expfmt_family *f)
{
	(void)f;
	((struct seen *)ctx)->families++;
	return 0;
}

static int
on_sample(void *ctx, const struct expfmt_sample *s)
{
	struct seen *seen = ctx;

	seen->samples++;
	seen->value = s->value;
	seen->has_ts = s->has_timestamp;
	if (s->nlabels > 0)
		snprintf(seen->last_value, sizeof(seen->last_value), "%s",
		    s->labels[s->nlabels - 1].value);
	return 0;
}

/* Parse a copy of text; return the code and keep the message in msg. */
static int
parse(const char *text, unsigned flags, struct seen *seen, char *msg)
{
	struct expfmt_handler h = {on_family, on_sample, seen};
	size_t len = strlen(text);
	char *copy = malloc(len + 1);
	struct perr e;
	int rc;

	memcpy(copy, text, len + 1);
	memset(seen, 0, sizeof(*seen));
	perr_clear(&e);
	rc = expfmt_parse(copy, len, "in.prom", flags, &h, NULL, &e);
	strcpy(msg, e.msg);
	free(copy);
	return rc;
}

static int
accepts(const char *text)
{
	struct seen s;
	char msg[PERR_MSG_MAX];

	if (parse(text, EXPFMT_NO_TIMESTAMPS, &s, msg) != 0) {
		fprintf(stderr, "refused: %s\n", msg);
		return 0;
	}
	return 1;
}

/* Refused, with the expected text in the message. */
static int
refuses(const char *text, const char *want)
{
	struct seen s;
	char msg[PERR_MSG_MAX];

	if (parse(text, EXPFMT_NO_TIMESTAMPS, &s, msg) != PERR_INVALID)
		return 0;
	if (strstr(msg, want) == NULL) {
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", msg, want);
		return 0;
	}
	return 1;
}

static void
test_parser_accepts(void)
{
	struct seen s;
	char msg[PERR_MSG_MAX];

	CHECK(accepts(""));
	CHECK(accepts("\n\n"));
	CHECK(accepts("# just a comment\nx 1\n"));
	CHECK(accepts("# HELP x help \\\\ and \\n\n# TYPE x counter\nx 1\n"));
	CHECK(accepts("  x{a=\"1\" , b = \"2\",} 1e3\n"));
	CHECK(accepts("x\t1\n  \t"));	/* blanks after the last LF */
	CHECK(accepts("x +Inf\ny -Inf\nz NaN\n"));
	CHECK(accepts("# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
	    "h_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"));
	CHECK(accepts("# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 3\n"
	    "s_count 2\n"));
	CHECK(accepts("# TYPE g gauge\ng{x=\"1\"} 1\ng{x=\"2\"} 2\n"));
	CHECK(accepts("x_count 1\n"));	/* untyped, its own family */
	CHECK(accepts("# HELP x\nx 1\n"));	/* empty help */
	/* A HELP or TYPE line with only a name sets nothing (Go's parser). */
	CHECK(accepts("# TYPE x \n# TYPE x gauge\nx 1\n"));
	CHECK(accepts("# HELP x\t\n# HELP x text\nx 1\n"));

	CHECK(parse("a{v=\"q\\\"b\\\\s\\nn\"} 2\n", 0, &s, msg) == 0);
	CHECK(strcmp(s.last_value, "q\"b\\s\nn") == 0);
	CHECK(s.families == 1 && s.samples == 1 && s.value == 2);
	CHECK(parse("a 1 1700000000000\n", 0, &s, msg) == 0);
	CHECK(s.has_ts == 1);
}

static void
test_parser_refuses(void)
{
	CHECK(refuses("x 1", "in.prom:1: missing newline"));
	CHECK(refuses("x 1\r\n", "carriage return"));
	CHECK(refuses("x 1 1700000000000\n", "timestamps are not accepted"));
	CHECK(refuses("x 1 abc\n", "timestamp \"abc\""));
	CHECK(refuses("x 1 2 3\n", "unexpected text after the timestamp "
	    "\"2\": \" 3\""));
	CHECK(refuses("x one\n", "sample value \"one\" is not a number"));
	CHECK(refuses("x\n", "sample x has no value"));
	CHECK(refuses("x \n", "is not a number"));
	CHECK(refuses("9x 1\n", "invalid metric name"));
	CHECK(refuses("x-y 1\n", "invalid metric name"));
	CHECK(refuses("x{9a=\"1\"} 1\n", "invalid label name"));
	CHECK(refuses("x{__name__=\"y\"} 1\n", "reserved"));
	CHECK(refuses("x{a=\"1\",a=\"2\"} 1\n", "label a given twice"));
	CHECK(refuses("x{a=1} 1\n", "expected '\"'"));
	CHECK(refuses("x{a=\"1\" b=\"2\"} 1\n", "expected ',' or '}'"));
	CHECK(refuses("x{a=\"1} 1\n", "no closing quote"));
	CHECK(refuses("x{a=\"\\t\"} 1\n", "invalid escape"));
	CHECK(refuses("x{a=\"\xff\"} 1\n", "not valid UTF-8"));
	CHECK(refuses("# HELP x a\\tb\nx 1\n", "invalid escape"));
	CHECK(refuses("# HELP x one\n# HELP x two\nx 1\n", "second HELP"));
	CHECK(refuses("# TYPE x gauge\n# TYPE x gauge\nx 1\n", "second TYPE"));
	CHECK(refuses("x 1\n# TYPE x gauge\n", "after its samples"));
	CHECK(refuses("# TYPE x widget\nx 1\n", "unknown type \"widget\""));
	CHECK(refuses("x 1\ny 1\nx{a=\"1\"} 1\n",
	    "in.prom:3: lines of family x must be together"));
	CHECK(refuses("x 1\nx 2\n", "in.prom:2: duplicate series x"));
	CHECK(refuses("x{a=\"1\",b=\"2\"} 1\nx{b=\"2\",a=\"1\"} 1\n",
	    "duplicate series"));
	CHECK(refuses("# TYPE h histogram\nh_bucket 1\n", "needs a \"le\" label"));
	CHECK(refuses("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n",
	    "not a number"));
	CHECK(refuses("# TYPE h histogram\nh 1\n", "cannot have a sample named"));
	CHECK(refuses("# TYPE s summary\ns 1\n", "needs a \"quantile\" label"));
	CHECK(refuses("h_count 1\n# TYPE h histogram\n", "type conflict"));
	CHECK(refuses("# TYPE h histogram\nh_count 1\n# TYPE h_count gauge\n",
	    "belongs to histogram h"));
}

/* Numbers and blanks exactly as Prometheus's text parser (Go) reads them. */
static void
test_numbers(void)
{
	static const char *const good[] = {
		"0", "-0", "+0", "007", "1.", ".5", "-.5", "+1", "1e5", "1E+05",
		"1e-5", "1.5e3", "NaN", "nan", "NAN", "Inf", "+inf", "-Inf",
		"infinity", "-INFINITY", "1.7976931348623157e308", "1e-400",
		"4.9e-324", "2.4703282292062327e-324", "0e999999999999",
		"1.797693134862315807937289714053e308",
	};
	static const char *const bad[] = {
		"", ".", "+", "-.", "e5", "1e", "1e+", "1e5.5", "1..2", "++1",
		"+NaN", "-nan", "nan(1)", "infin", "0x10", "0x1p3", "1_000",
		"1,5", "\v1", "1\f", "0b1", "1f",
	};
	static const char *const range[] = {
		"1e400", "-1e400", "1.7976931348623159e308",
		"1.797693134862315807937289714054e308", "1e99999999999999999999",
	};
	char text[128], want[128];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "x %s\n", good[i]);
		CHECK(accepts(text));
		snprintf(text, sizeof(text), "# TYPE h histogram\n"
		    "h_bucket{le=\"%s\"} 1\n", good[i]);
		CHECK(accepts(text));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "x %s\n", bad[i]);
		CHECK(refuses(text, "is not a number"));
		snprintf(text, sizeof(text), "# TYPE s summary\n"
		    "s_sum{quantile=\"%s\"} 1\n", bad[i]);
		CHECK(refuses(text, "label quantile="));
	}
	for (i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		snprintf(text, sizeof(text), "x %s\n", range[i]);
		snprintf(want, sizeof(want), "in.prom:1: sample value \"%s\" is "
		    "out of range", range[i]);
		CHECK(refuses(text, want));
	}
	/* A blank after the value announces a timestamp. */
	CHECK(refuses("x 1 \n", "in.prom:1: blank after the value \"1\""));
	CHECK(refuses("x 1\t\n", "blank after the value"));
	CHECK(refuses("x 1 5 \n", "unexpected text after the timestamp "
	    "\"5\": \" \""));
	CHECK(refuses("# TYPE x counter \nx 1\n", "unknown type \"counter \""));
	CHECK(refuses("x 1\n x", "missing newline"));
}

/* Timestamps as Go's strconv.ParseInt(s, 10, 64) reads them. */
static void
test_timestamps(void)
{
	struct seen s;
	char msg[PERR_MSG_MAX];

	CHECK(parse("x 1 +5\ny 1 -0\nz 1 -9223372036854775808\n", 0, &s,
	    msg) == 0 && s.has_ts == 1);
	CHECK(parse("x 1 9223372036854775808\n", 0, &s, msg) == PERR_INVALID &&
	    strstr(msg, "\"9223372036854775808\" is out of range") != NULL);
	CHECK(parse("x 1 1.5\n", 0, &s, msg) == PERR_INVALID &&
	    strstr(msg, "\"1.5\" is not an integer") != NULL);
	CHECK(parse("x 1 \v5\n", 0, &s, msg) == PERR_INVALID);
	CHECK(parse("x 1 1_0\n", 0, &s, msg) == PERR_INVALID);
	CHECK(parse("x 1 +\n", 0, &s, msg) == PERR_INVALID);
}

/* An empty label value is no label, in duplicates as in Prometheus. */
static void
test_empty_label_value(void)
{
	CHECK(refuses("x{a=\"\"} 1\nx 2\n", "in.prom:2: duplicate series x"));
	CHECK(refuses("x{a=\"1\",b=\"\"} 1\nx{a=\"1\"} 2\n",
	    "duplicate series"));
	CHECK(accepts("x{a=\"\"} 1\nx{a=\"1\"} 2\n"));
}

static void
test_nul_byte(void)
{
	char text[] = "x 1\ny\0 1\n";
	struct perr e;

	CHECK(expfmt_parse(text, sizeof(text) - 1, "in.prom", 0, NULL, NULL,
	    &e) == PERR_INVALID);
	CHECK(strstr(e.msg, "in.prom:2: NUL byte") != NULL);
}

/* The first NUL or CR of a text is found once: each at its own line. */
static void
test_nul_and_cr_lines(void)
{
#define TEXT(s) s, sizeof(s) - 1
	static const struct {
		const char *text;
		size_t len;
		const char *want;
	} cases[] = {
		{TEXT("x 1\ny 2\r\nz\0 3\n"), "in:2: carriage return"},
		{TEXT("x 1\nz\0 3\ny 2\r\n"), "in:2: NUL byte"},
		/* After the last LF, a CR is an unfinished line, not a CR. */
		{TEXT("x 1\n\r"), "in:2: missing newline"},
		{TEXT("# HELP x a\nx 1\ny 2\r\n"), "in:3: carriage return"},
	};
#undef TEXT
	char text[64];
	struct perr e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* A copy, its NUL too: the parse writes into its text. */
		memcpy(text, cases[i].text, cases[i].len + 1);
		CHECK(expfmt_parse(text, cases[i].len, "in", 0, NULL, NULL,
		    &e) == PERR_INVALID);
		CHECK(strstr(e.msg, cases[i].want) != NULL);
	}
}

int
main(void)
{
	test_writer();
	test_nul_and_cr_lines();
	test_parser_accepts();
	test_parser_refuses();
	test_numbers();
	test_timestamps();
	test_empty_label_value();
	test_nul_byte();
	return check_done("test-expfmt");
}
