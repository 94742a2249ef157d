/*
 * Unit tests of the Pushgateway client's pure parts: base64url, the
 * grouping key and its path, validation of what is pushed, the backoff
 * bounds, which statuses are retried, and the one-line response body.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "check.h"
#include "common/err.h"
#include "push/grouping.h"
#include "push/push.h"

static const char *
b64(struct buf *b, const char *s, size_t len)
{
	buf_reset(b);
	CHECK(base64url_encode(b, s, len) == 0);
	return buf_str(b);
}

static void
test_base64url(void)
{
	struct buf b = BUF_INIT(1024);

	/* RFC 4648 section 10 vectors, padded. */
	CHECK_STR(b64(&b, "", 0), "=");
	CHECK_STR(b64(&b, "f", 1), "Zg==");
	CHECK_STR(b64(&b, "fo", 2), "Zm8=");
	CHECK_STR(b64(&b, "foo", 3), "Zm9v");
	CHECK_STR(b64(&b, "foob", 4), "Zm9vYg==");
	CHECK_STR(b64(&b, "fooba", 5), "Zm9vYmE=");
	CHECK_STR(b64(&b, "foobar", 6), "Zm9vYmFy");
	/* The URL-safe alphabet: 0xfb 0xff is "+/8=" in standard base64. */
	CHECK_STR(b64(&b, "\xfb\xff", 2), "-_8=");
	CHECK_STR(b64(&b, "/var/tmp", 8), "L3Zhci90bXA=");
	CHECK_STR(b64(&b, "\0\0\0", 3), "AAAA");
	/* The Pushgateway README's example, padding aside. */
	CHECK_STR(b64(&b, "Προμηθεύς", strlen("Προμηθεύς")),
	    "zqDPgc6_zrzOt864zrXPjc-C");
	buf_free(&b);
}

static void
test_group(void)
{
	struct push_group g, defaults;
	struct buf b = BUF_INIT(4096);
	struct perr e;
	char arg1[] = "path=/var/tmp", arg2[] = "empty=", arg3[] = "eq=a=b";
	char arg4[] = "novalue", arg5[] = "instance=conf", arg6[] = "x=1";

	push_group_init(&g, "build");
	CHECK(push_group_add_arg(&g, arg1, &e) == 0);
	CHECK(push_group_add_arg(&g, arg2, &e) == 0);
	CHECK(push_group_add_arg(&g, arg3, &e) == 0);
	CHECK_STR(push_group_value(&g, "eq"), "a=b");
	CHECK_STR(push_group_value(&g, "job"), "build");
	CHECK(push_group_value(&g, "nope") == NULL);
	CHECK(push_group_path(&g, &b) == 0);
	CHECK_STR(buf_str(&b), "/metrics/job@base64/YnVpbGQ="
	    "/path@base64/L3Zhci90bXA=/empty@base64/=/eq@base64/YT1i");
	buf_reset(&b);
	CHECK(push_group_describe(&g, &b) == 0);
	CHECK_STR(buf_str(&b), "{job=\"build\",path=\"/var/tmp\",empty=\"\","
	    "eq=\"a=b\"}");

	CHECK(push_group_add_arg(&g, arg4, &e) == PERR_INVALID);
	CHECK_STR(e.msg, "grouping label \"novalue\" has no value: use "
	    "NAME=VALUE (NAME= for an empty value)");
	CHECK(push_group_add(&g, "path", "again", &e) == PERR_INVALID);
	CHECK_STR(e.msg, "grouping label \"path\" given twice");
	CHECK(push_group_add(&g, "job", "x", &e) == PERR_INVALID);
	CHECK(push_group_add(&g, "__x", "x", &e) == PERR_INVALID);
	CHECK(push_group_add(&g, "1x", "x", &e) == PERR_INVALID);
	CHECK(push_group_add(&g, "", "x", &e) == PERR_INVALID);
	CHECK(push_group_add(&g, "a:b", "x", &e) == PERR_INVALID);
	CHECK(push_group_add(&g, "v", "\xc0\x80", &e) == PERR_INVALID);
	CHECK_STR(e.msg, "grouping label \"v\" is not valid UTF-8 (byte 0xc0 "
	    "at offset 0)");
	CHECK(g.nlabels == 3);

	/* Command-line labels win over the configuration's. */
	push_group_init(&defaults, NULL);
	CHECK(push_group_add_arg(&defaults, arg5, &e) == 0);
	CHECK(push_group_add_arg(&defaults, arg6, &e) == 0);
	push_group_init(&g, "j");
	CHECK(push_group_add(&g, "x", "cli", &e) == 0);
	CHECK(push_group_merge(&g, &defaults, &e) == 0);
	CHECK_STR(push_group_value(&g, "x"), "cli");
	CHECK_STR(push_group_value(&g, "instance"), "conf");
	CHECK(g.nlabels == 2);

	push_group_init(&g, "");
	CHECK(push_group_check(&g, &e) == PERR_INVALID);
	push_group_init(&g, NULL);
	CHECK(push_group_check(&g, &e) == PERR_INVALID);
	push_group_init(&g, "a/b c");
	CHECK(push_group_check(&g, &e) == 0);
	buf_free(&b);
}

static int
validate(const char *text, const struct push_group *g, struct perr *e)
{
	return push_validate(text, strlen(text), "in.prom", g, 0, e);
}

static void
test_validate(void)
{
	struct push_group g;
	struct perr e;
	const char *ok = "# TYPE a counter\na{x=\"1\"} 1\n";

	push_group_init(&g, "j");
	CHECK(push_group_add(&g, "instance", "i1", &e) == 0);
	CHECK(validate(ok, &g, &e) == 0);
	/* No sample: refused, unless PUSH_ALLOW_EMPTY says it is meant. */
	CHECK(validate("", &g, &e) == PERR_INVALID);
	CHECK_STR(e.msg, "in.prom: no samples (empty, or comments only): "
	    "nothing sent, the group {job=\"j\",instance=\"i1\"} keeps its "
	    "series (--allow-empty to push it anyway)");
	CHECK(validate("\n \n# HELP a x\n# TYPE a gauge\n# c\n", &g, &e) ==
	    PERR_INVALID);
	CHECK(push_validate("", 0, "in.prom", &g, PUSH_ALLOW_EMPTY, &e) == 0);
	CHECK(push_validate("# TYPE a gauge\n", 15, "in.prom", &g,
	    PUSH_ALLOW_EMPTY, &e) == 0);
	CHECK(validate("x 1 17\n", &g, &e) == PERR_INVALID);
	CHECK_STR(e.msg, "in.prom:1: sample has a timestamp (17): timestamps "
	    "are not accepted here");
	CHECK(validate("a 1\n\n# TYPE pushgateway_x gauge\n", &g, &e) ==
	    PERR_INVALID);
	CHECK(strncmp(e.msg, "in.prom:3: family pushgateway_x belongs to the "
	    "Pushgateway", 47) == 0);
	CHECK(validate("push_time_seconds 1\n", &g, &e) == PERR_INVALID);
	CHECK(validate("push_failure_time_seconds 1\n", &g, &e) ==
	    PERR_INVALID);
	CHECK(validate("go_gc_duration_seconds 1\n", &g, &e) == PERR_INVALID);
	CHECK(validate("process_open_fds 1\n", &g, &e) == PERR_INVALID);
	/* Only the exact names and prefixes. */
	CHECK(validate("push_time_seconds_total 1\ngopher 1\nprocessor 1\n"
	    "pushgateway 1\n", &g, &e) == 0);
	/* Grouping labels: the same value is harmless, another is refused. */
	CHECK(validate("a{instance=\"i1\",job=\"j\"} 1\n", &g, &e) == 0);
	CHECK(validate("a{instance=\"i2\"} 1\n", &g, &e) == PERR_INVALID);
	CHECK_STR(e.msg, "in.prom:1: a has instance=\"i2\" but the grouping key "
	    "says instance=\"i1\", and the gateway would overwrite it: drop the "
	    "label or push to that group");
	/* An empty value is no label: it never conflicts with the key. */
	CHECK(validate("a{instance=\"\",job=\"\",x=\"1\"} 1\n", &g, &e) == 0);
	/* An empty grouping value still overwrites a non-empty label. */
	CHECK(push_group_add(&g, "runner", "", &e) == 0);
	CHECK(validate("a{runner=\"r1\"} 1\n", &g, &e) == PERR_INVALID);
	CHECK(validate("a{runner=\"\"} 1\n", &g, &e) == 0);
	CHECK(validate("x 1", &g, &e) == PERR_INVALID);
}

static void
test_backoff(void)
{
	unsigned a;

	CHECK(push_backoff(0, 0.0) == 0.25);
	CHECK(push_backoff(0, 0.999999) < 0.5);
	CHECK(push_backoff(1, 0.0) == 0.5);
	CHECK(push_backoff(2, 0.5) == 1.5);
	for (a = 0; a < 100; a++) {
		double lo = push_backoff(a, 0.0), hi = push_backoff(a, 0.999);

		CHECK(lo >= PUSH_BACKOFF_BASE / 2);
		CHECK(hi <= PUSH_BACKOFF_CAP);
		CHECK(lo <= hi);
		if (a > 0)
			CHECK(lo >= push_backoff(a - 1, 0.0));
	}
	CHECK(push_backoff(40, 0.0) == PUSH_BACKOFF_CAP / 2);
}

static void
test_statuses(void)
{
	CHECK(push_retryable_status(PUSH_GATEWAY, 429));
	CHECK(push_retryable_status(PUSH_GATEWAY, 500));
	CHECK(push_retryable_status(PUSH_GATEWAY, 503));
	CHECK(push_retryable_status(PUSH_GATEWAY, 599));
	CHECK(!push_retryable_status(PUSH_GATEWAY, 400));
	CHECK(!push_retryable_status(PUSH_GATEWAY, 401));
	CHECK(!push_retryable_status(PUSH_GATEWAY, 404));
	CHECK(!push_retryable_status(PUSH_GATEWAY, 307));
	CHECK(!push_retryable_status(PUSH_GATEWAY, 200));
	CHECK(!push_retryable_status(PUSH_GATEWAY, 600));
	CHECK_STR(push_method_name(PUSH_PUT), "PUT");
	CHECK_STR(push_method_name(PUSH_POST), "POST");
	CHECK_STR(push_method_name(PUSH_DELETE), "DELETE");
}

static const char *
body_line(struct buf *b, const char *s, size_t max)
{
	buf_reset(b);
	CHECK(push_body_line(b, s, strlen(s), max) == 0);
	return buf_str(b);
}

static void
test_body_line(void)
{
	struct buf b = BUF_INIT(1024);

	CHECK_STR(body_line(&b, "  bad thing\n", 100), "bad thing");
	CHECK_STR(body_line(&b, "two\nlines\r\n\ttab\x1b", 100),
	    "two lines   tab");
	CHECK_STR(body_line(&b, "", 100), "");
	CHECK_STR(body_line(&b, "abcdef", 3), "abc...");
	/* A cut never splits a UTF-8 character: "é" is 2 bytes. */
	CHECK_STR(body_line(&b, "aé", 2), "a...");
	CHECK_STR(body_line(&b, "aéb", 3), "aé...");
	buf_free(&b);
}

static void
test_options(void)
{
	struct push_options o;
	struct push_client *c = NULL;
	struct perr e;

	push_options_init(&o);
	CHECK(o.method == PUSH_PUT && o.retries == 3 && o.timeout == 10.0);
	o.url = "http://127.0.0.1:9/base/";
	CHECK(push_client_new(&c, &o, &e) == 0);
	push_client_free(c);
	o.timeout = 0;
	CHECK(push_client_new(&c, &o, &e) == PERR_INVALID && c == NULL);
	o.timeout = 1;
	o.retries = 11;
	CHECK(push_client_new(&c, &o, &e) == PERR_INVALID);
	o.retries = 0;
	o.url = "http://user:hunter2@127.0.0.1:9";
	CHECK(push_client_new(&c, &o, &e) == PERR_INVALID);
	CHECK(strstr(e.msg, "hunter2") == NULL);
	o.url = "http://user:hunter2@[bad";
	CHECK(push_client_new(&c, &o, &e) == PERR_INVALID);
	CHECK(strstr(e.msg, "hunter2") == NULL);
	o.url = "gopher://h";
	CHECK(push_client_new(&c, &o, &e) == PERR_INVALID);
	push_client_free(NULL);
}

int
main(void)
{
	unsetenv("PROMRUN_PUSH_PASSWORD");
	unsetenv("PROMRUN_PUSH_TOKEN");
	test_base64url();
	test_group();
	test_validate();
	test_backoff();
	test_statuses();
	test_body_line();
	test_options();
	return check_done("test-push");
}
