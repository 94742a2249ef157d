/*
 * Unit tests of the receiver's small parts: listen forms, token comparison,
 * the dedupe index and its expiry, JSON strings as Python writes them, the
 * series limit's dry run.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/buf.h"
#include "journal/run.h"
#include "metrics/aggregate.h"
#include "serve/dedupe.h"
#include "serve/ingest.h"
#include "serve/listen.h"
#include "serve/token.h"
#include "serve/wire.h"

static const char *
split(const char *spec, char *host, char *port)
{
	if (listen_split(spec, host, 256, port, 64, NULL) != 0)
		return "refused";
	return "ok";
}

static void
test_listen(void)
{
	char host[256], port[64];

	CHECK_STR(split(":9089", host, port), "ok");
	CHECK_STR(host, "");
	CHECK_STR(port, "9089");
	CHECK_STR(split("localhost:http", host, port), "ok");
	CHECK_STR(host, "localhost");
	CHECK_STR(port, "http");
	CHECK_STR(split("[2001:db8::1]:http", host, port), "ok");
	CHECK_STR(host, "2001:db8::1");
	CHECK_STR(split("[::1]", host, port), "ok");
	CHECK_STR(port, LISTEN_DEFAULT_PORT);
	CHECK_STR(split("example.org", host, port), "ok");
	CHECK_STR(port, LISTEN_DEFAULT_PORT);
	CHECK_STR(split("::1:80", host, port), "refused");	/* brackets */
	CHECK_STR(split(":", host, port), "refused");
	CHECK_STR(split("host:", host, port), "refused");
	CHECK_STR(split("[]:80", host, port), "refused");
	CHECK_STR(split("[::1]x:80", host, port), "refused");
	CHECK_STR(split("", host, port), "refused");
}

static void
test_tokens(void)
{
	struct token t = {NULL, 0}, u = {NULL, 0};

	CHECK(!token_matches(&t, "x", 1));	/* no token: nothing matches */
	t.value = strdup("s3cret-token");
	t.len = strlen(t.value);
	CHECK(token_matches(&t, "s3cret-token", 12));
	CHECK(!token_matches(&t, "s3cret-toke", 11));
	CHECK(!token_matches(&t, "s3cret-tokenx", 13));
	CHECK(!token_matches(&t, "S3cret-token", 12));
	CHECK(!token_matches(&t, "", 0));
	u.value = strdup("s3cret-token");
	u.len = 12;
	CHECK(token_same(&t, &u));
	token_free(&u);
	CHECK(!token_same(&t, &u));
	token_free(&t);
	CHECK(t.value == NULL && t.len == 0);
}

static void
key_of(struct buf *key, const char *workflow, const char *run_id,
    enum run_event ev)
{
	struct run r;

	run_init(&r, ev);
	r.workflow = workflow;
	r.run_id = run_id;
	CHECK(dedupe_key(&r, key) == (run_id != NULL ? 0 : 1));
}

static void
test_dedupe(void)
{
	struct dedupe d = DEDUPE_INIT;
	struct buf k = BUF_INIT(1024);
	uint64_t seq = 0;
	char id[32];
	int i;

	key_of(&k, "build", NULL, RUN_EVENT_RUN);	/* no identity */
	key_of(&k, "build", "42", RUN_EVENT_RUN);
	CHECK(dedupe_lookup(&d, &k, 0, &seq) == DEDUPE_NEW);
	CHECK(dedupe_add(&d, &k, 100, 7) == 0);
	CHECK(dedupe_lookup(&d, &k, 0, &seq) == DEDUPE_PENDING && seq == 7);
	dedupe_settle(&d, &k, true);
	CHECK(dedupe_lookup(&d, &k, 0, &seq) == DEDUPE_STORED);
	/* Outside the window it is new again. */
	CHECK(dedupe_lookup(&d, &k, 101, &seq) == DEDUPE_NEW);
	/* Another event of the same run id is another identity. */
	key_of(&k, "build", "42", RUN_EVENT_START);
	CHECK(dedupe_lookup(&d, &k, 0, &seq) == DEDUPE_NEW);
	/* A failed batch drops its entries. */
	CHECK(dedupe_add(&d, &k, 100, 8) == 0);
	dedupe_settle(&d, &k, false);
	CHECK(dedupe_lookup(&d, &k, 0, &seq) == DEDUPE_NEW);
	/* Expiry rebuilds once a quarter is dead, keeping the live ones. */
	for (i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "r%d", i);
		key_of(&k, "w", id, RUN_EVENT_RUN);
		CHECK(dedupe_add(&d, &k, i, 0) == 0);
	}
	CHECK(dedupe_expire(&d, 900) == 0);
	CHECK(dedupe_count(&d) == 100);
	key_of(&k, "w", "r950", RUN_EVENT_RUN);
	CHECK(dedupe_lookup(&d, &k, 900, &seq) == DEDUPE_STORED);
	key_of(&k, "w", "r10", RUN_EVENT_RUN);
	CHECK(dedupe_lookup(&d, &k, 0, &seq) == DEDUPE_NEW);
	buf_free(&k);
	dedupe_free(&d);
}

static const char *
json_of(const char *s)
{
	static struct buf b = BUF_INIT(1024);

	buf_reset(&b);
	return wire_json_string(&b, s) == 0 ? buf_str(&b) : "error";
}

static void
test_json_strings(void)
{
	/* Python's json.dumps, ensure_ascii (what Flask's jsonify sends). */
	CHECK_STR(json_of("car_factory"), "\"car_factory\"");
	CHECK_STR(json_of("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
	CHECK_STR(json_of("\b\f\n\r\t\x01\x7f"),
	    "\"\\b\\f\\n\\r\\t\\u0001\\u007f\"");
	CHECK_STR(json_of("caf\xc3\xa9"), "\"caf\\u00e9\"");
	CHECK_STR(json_of("\xe2\x80\xa8"), "\"\\u2028\"");
	CHECK_STR(json_of("\xf0\x9f\x9a\x80"), "\"\\ud83d\\ude80\"");
}

static void
test_admit(void)
{
	static const double buckets[] = {1};
	struct agg_config cfg = {buckets, 1, NULL, 0, 3600, 2};
	char p1[] = "run time=1 workflow=a status=success";
	const struct run *runs[3];
	struct run r[3];
	struct agg *a;
	size_t added = 0, bad = 99;

	CHECK(agg_new(&a, &cfg, NULL) == 0);
	CHECK(agg_fold(a, p1, strlen(p1), NULL) == 0);
	run_init(&r[0], RUN_EVENT_RUN);
	r[0].workflow = "a";
	r[0].status = RUN_SUCCESS;
	r[1] = r[0];
	r[1].workflow = "b";
	r[2] = r[0];
	r[2].workflow = "c";
	runs[0] = &r[0];
	runs[1] = &r[1];
	runs[2] = &r[2];
	/* a exists; b is one new series: within max_series 2. */
	CHECK(agg_admit(a, runs, 2, 0, &added, &bad, NULL) == 0 && added == 1);
	/* ... unless a new series is already promised to a batch. */
	CHECK(agg_admit(a, runs, 2, 1, &added, &bad, NULL) == PERR_FAILED &&
	    bad == 1);
	CHECK(agg_admit(a, runs, 3, 0, &added, &bad, NULL) == PERR_FAILED &&
	    bad == 2);
	/* Nothing was folded by the dry runs. */
	CHECK(agg_nseries(a) == 1);
	agg_free(a);
}

int
main(void)
{
	test_listen();
	test_tokens();
	test_dedupe();
	test_json_strings();
	test_admit();
	return check_done("test-serve");
}
