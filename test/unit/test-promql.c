/*
 * test-promql.c - unit tests of the PromQL lexer, parser, printer, regex
 * check, durations, quoting; the template check; rule-file positions and
 * the finding formats.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "check.h"
#include "rules/finding.h"
#include "promql/duration.h"
#include "promql/eval.h"
#include "promql/lex.h"
#include "promql/parse.h"
#include "promql/print.h"
#include "promql/quote.h"
#include "promql/numfmt.h"
#include "promql/regex.h"
#include "promql/rematch.h"
#include "promql/series.h"
#include "promql/storage.h"
#include "rules/rules.h"
#include "rules/tmpl.h"

static char out[4096];

/* The canonical form of e, or "ERR <pos>: <message>". */
static const char *
canon(const char *e)
{
	struct buf b = BUF_INIT(1 << 20);
	struct pq_expr *x;
	struct perr err;
	size_t pos;

	if (pq_parse(e, strlen(e), &x, &pos, &err) != 0) {
		snprintf(out, sizeof(out), "ERR %zu: %s", pos, err.msg);
		return out;
	}
	if (pq_print(&b, x->root) != 0)
		snprintf(out, sizeof(out), "PRINT FAILED");
	else
		snprintf(out, sizeof(out), "%s", buf_str(&b));
	buf_free(&b);
	pq_expr_free(x);
	return out;
}

static void
test_durations(void)
{
	struct buf b = BUF_INIT(64);
	struct perr e;
	int64_t ms;

	CHECK(pq_duration_parse("0", 1, &ms, &e) == 0 && ms == 0);
	CHECK(pq_duration_parse("90s", 3, &ms, &e) == 0 && ms == 90000);
	CHECK(pq_duration_parse("1h30m", 5, &ms, &e) == 0 && ms == 5400000);
	CHECK(pq_duration_parse("1w2d", 4, &ms, &e) == 0 &&
	    ms == 9LL * 86400000);
	CHECK(pq_duration_parse("5ms", 3, &ms, &e) == 0 && ms == 5);
	CHECK(pq_duration_parse("", 0, &ms, &e) == PERR_INVALID);
	CHECK_STR(e.msg, "empty duration string");
	CHECK(pq_duration_parse("5", 1, &ms, &e) == PERR_INVALID);
	CHECK_STR(e.msg, "not a valid duration string: \"5\"");
	CHECK(pq_duration_parse("5M", 2, &ms, &e) == PERR_INVALID);
	CHECK(pq_duration_parse("1.5m", 4, &ms, &e) == PERR_INVALID);
	CHECK(pq_duration_parse("-1m", 3, &ms, &e) == PERR_INVALID);
	CHECK(pq_duration_parse("30m1h", 5, &ms, &e) == PERR_INVALID);
	CHECK(pq_duration_parse("292y", 4, &ms, &e) == 0);
	CHECK(pq_duration_parse("293y", 4, &ms, &e) == PERR_INVALID);
	CHECK_STR(e.msg, "duration out of range");
	pq_duration_format(&b, 5400000);
	CHECK_STR(buf_str(&b), "1h30m");
	buf_reset(&b);
	pq_duration_format(&b, 90LL * 86400000);
	CHECK_STR(buf_str(&b), "90d");
	buf_reset(&b);
	pq_duration_format(&b, 14LL * 86400000);
	CHECK_STR(buf_str(&b), "2w");
	buf_free(&b);
}

static void
test_quoting(void)
{
	struct buf b = BUF_INIT(256);

	CHECK(pq_unquote("'a\\'b'", 6, true, &b) == 0);
	CHECK_STR(buf_str(&b), "a'b");
	buf_reset(&b);
	CHECK(pq_unquote("\"\\x41\\101\\u00e9\"", 16, true, &b) == 0);
	CHECK_STR(buf_str(&b), "AA\xc3\xa9");
	buf_reset(&b);
	CHECK(pq_unquote("\"\\'\"", 4, true, &b) == PERR_INVALID);
	buf_reset(&b);
	CHECK(pq_unquote("\"\\ud800\"", 8, true, &b) == PERR_INVALID);
	buf_reset(&b);
	CHECK(pq_unquote("'ab'", 4, false, &b) == PERR_INVALID);
	buf_reset(&b);
	CHECK(pq_quote(&b, "a\"\\\n\x01\xff\xef\xbf\xbd\xc3\xa9", 11) == 0);
	CHECK_STR(buf_str(&b), "\"a\\\"\\\\\\n\\x01\\xff\\ufffd\xc3\xa9\"");
	buf_free(&b);
}

static int
re(const char *s)
{
	struct perr e;
	bool empty;

	if (pq_regex_check(s, strlen(s), &empty, &e) != 0)
		return -1;
	return empty;
}

static void
test_regex(void)
{
	CHECK(re(".*") == 1);
	CHECK(re(".+") == 0);
	CHECK(re("a|") == 1);
	CHECK(re("a{0,2}") == 1);
	CHECK(re("\\b") == 0);
	CHECK(re("\\B^$") == 1);
	CHECK(re("(?i)a*") == 1);
	CHECK(re("[[:alpha:]]+") == 0);
	CHECK(re("\\p{Greek}\\PL") == 0);
	CHECK(re("a**") == -1);
	CHECK(re("*a") == -1);
	CHECK(re("a)(b") == -1);	/* alone invalid, though anchored not */
	CHECK(re("a\\Q") == -1);	/* \Q swallows the anchor's ")$" */
	CHECK(re("(a{10}){100}") == 0);
	CHECK(re("(a{10}){101}") == -1);
	CHECK(re("a{1001}") == -1);
	CHECK(re("a{,2}") == 0);	/* a literal '{' */
	CHECK(re("[z-a]") == -1);
	CHECK(re("\\8") == -1);
	CHECK(re("\\p{Toto}") == -1);	/* Unicode 14: not in Go 1.19 */
	CHECK(re("(?P<n>a)(?P<n>b)") == 0);
	CHECK(re("(?=a)") == -1);
}

static void
test_numbers(void)
{
	struct buf b = BUF_INIT(64);
	static const struct {
		double v;
		const char *s;
	} cases[] = {
		{1, "1"}, {-0.0, "-0"}, {0.5, "0.5"}, {1e6, "1e+06"},
		{123456, "123456"}, {1e-5, "1e-05"}, {0.0001, "0.0001"},
		{1.5e300, "1.5e+300"}, {-2.25, "-2.25"}, {INFINITY, "+Inf"},
		{-INFINITY, "-Inf"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		pq_print_number(&b, cases[i].v);
		CHECK_STR(buf_str(&b), cases[i].s);
	}
	buf_reset(&b);
	pq_print_number(&b, NAN);
	CHECK_STR(buf_str(&b), "NaN");
	buf_free(&b);
}

static void
test_lexer(void)
{
	static const enum pq_tok want[] = {
		PQ_T_SUM, PQ_T_BY, PQ_T_LPAREN, PQ_T_IDENT, PQ_T_RPAREN,
		PQ_T_LPAREN, PQ_T_METRIC_IDENT, PQ_T_LBRACE, PQ_T_IDENT,
		PQ_T_EQL_REGEX, PQ_T_STRING, PQ_T_RBRACE, PQ_T_LBRACKET,
		PQ_T_DURATION, PQ_T_COLON, PQ_T_RBRACKET, PQ_T_RPAREN, PQ_T_GTE,
		PQ_T_NUMBER, PQ_T_LAND, PQ_T_NUMBER, PQ_T_EOF,
	};
	const char *src = "SUM By (a) (x:y{b=~'c'}[5m x]) >= 0x1F and Inf # c";
	struct pq_lexer l;
	size_t i;

	pq_lex_init(&l, src, strlen(src));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK(pq_lex_next(&l).type == want[i]);
	pq_lex_init(&l, "(a", 2);
	pq_lex_next(&l);
	pq_lex_next(&l);
	CHECK(pq_lex_next(&l).type == PQ_T_ERROR);
	CHECK_STR(l.msg, "unclosed left parenthesis");
}

static void
test_parser(void)
{
	CHECK_STR(canon("sum(rate(x[90s])) by (job)"),
	    "sum by (job) (rate(x[1m30s]))");
	CHECK_STR(canon("-1 ^ 2"), "-1 ^ 2");	/* -(1 ^ 2) */
	CHECK_STR(canon("2 ^ 3 ^ 2 - 1 - 1"), "2 ^ 3 ^ 2 - 1 - 1");
	CHECK_STR(canon("a or b and c unless d"), "a or b and c unless d");
	CHECK_STR(canon("x @ 0.0005"), "x @ 0.001");
	CHECK_STR(canon("x + ignoring () group_left y"),
	    "x + ignoring () group_left () y");
	CHECK_STR(canon("rate(x)"), "ERR 5: expected type range vector in "
	    "call to function \"rate\", got instant vector");
	CHECK_STR(canon("foo{a=~\".*\"}"), "foo{a=~\".*\"}");
	CHECK_STR(canon("{a=~\".*\"}"), "ERR 0: vector selector must contain "
	    "at least one non-empty matcher");
	CHECK_STR(canon("x offset 5m offset 1m"),
	    "ERR 0: offset may not be set multiple times");
	CHECK_STR(canon(""), "ERR 0: no expression found in input");
	CHECK_STR(canon("sum by (without) (x)"),
	    "ERR 8: unexpected <without> in grouping opts, expected label");
	CHECK_STR(canon("foo(x)"), "ERR 0: unknown function with name \"foo\"");
	CHECK_STR(canon("1 and 1"), "ERR 0: set operator \"and\" not allowed "
	    "in binary scalar expression");
}

static void
test_equal(void)
{
	struct pq_expr *a, *b;
	struct perr e;
	size_t pos;
	const char *s1 = "x{b=\"1\",a=\"2\"}", *s2 = "x{a=\"2\",b=\"1\"}";
	const char *s3 = "x{a=\"2\",b=\"2\"}";

	CHECK(pq_parse(s1, strlen(s1), &a, &pos, &e) == 0);
	CHECK(pq_parse(s2, strlen(s2), &b, &pos, &e) == 0);
	CHECK(pq_node_equal(a->root, b->root));
	pq_expr_free(b);
	CHECK(pq_parse(s3, strlen(s3), &b, &pos, &e) == 0);
	CHECK(!pq_node_equal(a->root, b->root));
	pq_expr_free(a);
	pq_expr_free(b);
}

static size_t nrefs;
static char refs[256];

static void
on_ref(void *ctx, const char *name, size_t len, size_t off)
{
	(void)ctx;
	nrefs++;
	snprintf(refs + strlen(refs), sizeof(refs) - strlen(refs), "%.*s@%zu ",
	    (int)len, name, off);
}

static void
test_templates(void)
{
	const char *t = "{{ $labels.org }}/{{ .Labels.workflow }} {{ $value }}";
	struct perr e;
	size_t off;

	CHECK(tmpl_check(t, strlen(t), on_ref, NULL, &off, &e) == 0);
	CHECK(nrefs == 2);
	CHECK_STR(refs, "org@3 workflow@21 ");
	CHECK(tmpl_check("{{ $x }}", 8, NULL, NULL, &off, &e) == PERR_INVALID);
	CHECK_STR(e.msg, "undefined variable \"$x\"");
	CHECK(off == 3);
	CHECK(tmpl_check("{{if 1}}", 8, NULL, NULL, &off, &e) == PERR_INVALID);
	CHECK_STR(e.msg, "unexpected EOF");
}

static void
test_rules_positions(void)
{
	const char *y = "groups:\n- name: g\n  rules:\n  - alert: A\n"
	    "    expr: |\n      sum(\n        x[5m])\n    for: 5m\n";
	struct rule_file rf;
	struct findings f;
	struct perr e;
	struct buf b = BUF_INIT(1024);

	memset(&f, 0, sizeof(f));
	CHECK(rules_load_text(y, strlen(y), &rf, &f, &e) == 0);
	CHECK(rf.structure_ok && f.n == 0);
	CHECK(rules_validate(&rf, &f, NULL, NULL) == 0);
	CHECK(rf.nrules == 1 && f.errors == 1);
	CHECK(f.n == 1 && f.v[0].line == 7 && f.v[0].col == 9);
	CHECK(finding_format(&b, "r.yml", &f.v[0], FORMAT_TEXT) == 0);
	CHECK_STR(buf_str(&b), "r.yml:7:9: error: could not parse expression: "
	    "expected type instant vector in aggregation expression, got range "
	    "vector [promql]");
	buf_reset(&b);
	CHECK(finding_format(&b, "a,b:c%", &f.v[0], FORMAT_GITHUB) == 0);
	CHECK(strncmp(buf_str(&b), "::error file=a%2Cb%3Ac%25,line=7,col=9,"
	    "title=promql::", 46) == 0);
	buf_free(&b);
	rules_free(&rf);
	findings_free(&f);
}


/* strconv.FormatFloat as Go writes it. */
static void
test_go_floats(void)
{
	static const struct {
		double v;
		char fmt;
		int prec;
		const char *want;
	} cases[] = {
		{4, 'E', -1, "4E+00"}, {0.1, 'E', -1, "1E-01"},
		{1.0 / 3, 'E', -1, "3.333333333333333E-01"},
		{-2.5e-7, 'E', -1, "-2.5E-07"}, {1e21, 'f', -1,
		"1000000000000000000000"}, {1e-7, 'f', -1, "0.0000001"},
		{123.456, 'f', -1, "123.456"}, {0, 'f', -1, "0"},
		{1e6, 'g', -1, "1e+06"}, {123456, 'g', -1, "123456"},
		{0.25, 'f', 6, "0.250000"}, {NAN, 'E', -1, "NaN"},
		{INFINITY, 'f', -1, "+Inf"}, {-INFINITY, 'E', -1, "-Inf"},
	};
	struct buf b = BUF_INIT(1024);
	double v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		CHECK(pq_format_float(&b, cases[i].v, cases[i].fmt,
		    cases[i].prec) == 0);
		CHECK_STR(buf_str(&b), cases[i].want);
	}
	buf_free(&b);
	CHECK(pq_parse_float("+Inf", 4, &v) && isinf(v) && v > 0);
	CHECK(pq_parse_float("-infinity", 9, &v) && isinf(v) && v < 0);
	CHECK(pq_parse_float("NaN", 3, &v) && isnan(v));
	CHECK(pq_parse_float("0x1p-2", 6, &v) && v == 0.25);
	CHECK(pq_parse_float("1e3", 3, &v) && v == 1000);
	CHECK(!pq_parse_float("0x10", 4, &v));	/* a hex float needs 'p' */
	CHECK(!pq_parse_float(" 1", 2, &v));
	CHECK(!pq_parse_float("-nan", 4, &v));
	CHECK(!pq_parse_float("1e999", 5, &v));	/* overflow: Go's error */
	CHECK(!pq_parse_float("", 0, &v));
}

static bool
re_match(const char *re, bool anchored, const char *s)
{
	struct pq_regex *r;
	struct perr e;
	bool m;

	if (pq_regex_compile(re, strlen(re), anchored, &r, &e) != 0)
		return false;
	m = pq_regex_match(r, s, strlen(s));
	pq_regex_free(r);
	return m;
}

/* Go's regexps matched by PCRE2 through the translation. */
static void
test_regex_match(void)
{
	struct pq_regex *r;
	struct buf b = BUF_INIT(1024);
	struct perr e;
	bool matched;

	CHECK(re_match("a.*", true, "abc") && !re_match("a.*", true, "xabc"));
	CHECK(re_match("a|ab", true, "ab"));	/* anchored: the whole text */
	CHECK(!re_match("foo$", true, "foo\n"));	/* $ is the end only */
	CHECK(re_match("(?m)^$", false, "a\n"));	/* ^ after a last newline */
	CHECK(re_match("\\s", true, " ") && !re_match("\\s", true, "\v"));
	CHECK(re_match("[\\S]", true, "\v") && !re_match("[^\\S]", true, "\v"));
	CHECK(re_match("\\v", true, "\v"));	/* Go: the character */
	CHECK(re_match("\\t\\n", true, "\t\n") && !re_match("\\n", true, "n"));
	CHECK(re_match("(?i)ÄB", true, "äb"));
	CHECK(re_match("\\pL+", true, "héllo"));
	CHECK(re_match("x{2,}", true, "xxx") && re_match("x{,2}", true, "x{,2}"));
	CHECK(re_match("\\Q.*\\E", true, ".*") && !re_match("\\Q.*\\E", true, "ab"));
	CHECK(re_match("[a-]", true, "-"));
	CHECK(re_match("\\101", true, "A"));	/* octal */
	CHECK(pq_regex_compile("(a", 2, true, &r, &e) == PERR_INVALID);
	CHECK(strstr(e.msg, "missing closing )") != NULL);
	/* Catastrophic backtracking is answered by the DFA matcher. */
	CHECK(!re_match("(a*)*b", true, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	/* Go's Expand: $1, ${1}, a name, $$, an empty name. */
	CHECK(pq_regex_compile("(?P<first>[a-z])([0-9]+)", 24, true, &r, &e) == 0);
	CHECK(pq_regex_expand(r, "x42", 3, "$2-${1}-$first-$$-$x-$", 22, &b,
	    &matched, &e) == 0 && matched);
	CHECK_STR(buf_str(&b), "42-x-x-$--$");
	buf_reset(&b);
	CHECK(pq_regex_expand(r, "42", 2, "$1", 2, &b, &matched, &e) == 0 &&
	    !matched);
	pq_regex_free(r);
	/* ReplaceAllString, with Go's rule for empty matches. */
	CHECK(pq_regex_compile("a*", 2, false, &r, &e) == 0);
	buf_reset(&b);
	CHECK(pq_regex_replace_all(r, "baaac", 5, "-", 1, &b, &e) == 0);
	CHECK_STR(buf_str(&b), "-b-c-");
	pq_regex_free(r);
	buf_free(&b);
}

/* The series notation of promtool's input_series. */
static void
test_series_notation(void)
{
	struct pq_arena a = {NULL, 0};
	const struct pq_lset *ls;
	struct pq_seq_item *it;
	struct buf b = BUF_INIT(1024);
	size_t n, pos;
	struct perr e;
	const char *s = "x{a=\"1\", b=\"\"} 1+2x3 _x2 stale -1-1x1 010 Inf";

	CHECK(pq_parse_series(s, strlen(s), &a, &ls, &it, &n, &pos, &e) == 0);
	CHECK(pq_lset_format(&b, ls) == 0);
	CHECK_STR(buf_str(&b), "{__name__=\"x\", a=\"1\"}");
	CHECK(n == 6);
	CHECK(it[0].start == 1 && it[0].delta == 2 && it[0].count == 4);
	CHECK(it[1].omitted && it[1].count == 2);
	CHECK(it[2].stale && it[2].count == 1);
	CHECK(it[3].start == -1 && it[3].delta == -1 && it[3].count == 2);
	CHECK(it[4].start == 8);	/* Go's ParseInt: octal */
	CHECK(isinf(it[5].start));
	s = "x 1 2x";
	CHECK(pq_parse_series(s, strlen(s), &a, &ls, &it, &n, &pos, &e) ==
	    PERR_INVALID);
	s = "x 1x99999999999";
	CHECK(pq_parse_series(s, strlen(s), &a, &ls, &it, &n, &pos, &e) ==
	    PERR_LIMIT);
	s = "{a=\"\"}";
	buf_reset(&b);
	CHECK(pq_parse_metric(s, strlen(s), &a, &ls, &pos, &e) == 0);
	CHECK(pq_lset_format(&b, ls) == 0);
	CHECK_STR(buf_str(&b), "{a=\"\"}");	/* ParseMetric keeps "" */
	buf_free(&b);
	pq_arena_free(&a);
}

/* The run-length store: runs, lookback, staleness, ranges. */
static void
test_store(void)
{
	struct pq_store st;
	struct pq_arena a = {NULL, 0};
	struct pq_lbuilder lb;
	struct pq_range rg;
	struct pq_range_it ri;
	struct perr e;
	size_t idx;
	int64_t t;
	double v;

	pq_store_init(&st);
	pq_lb_init(&lb, &a);
	pq_lb_set(&lb, "__name__", 8, "x", 1);
	CHECK(pq_store_series(&st, pq_lb_finish(&lb), &idx, &e) == 0);
	for (int k = 0; k < 10; k++)
		CHECK(pq_store_append(&st, idx, k * 60000, 5, &e) == 0);
	CHECK(st.s[idx].nruns == 1 && st.s[idx].runs[0].n == 10);
	CHECK(pq_store_append(&st, idx, 540000, 6, &e) == PERR_INVALID);
	CHECK(strcmp(e.msg, "duplicate sample for timestamp") == 0);
	CHECK(pq_store_append(&st, idx, 480000, 6, &e) == PERR_INVALID);
	CHECK(pq_store_append(&st, idx, 600000, pq_stale_nan(), &e) == 0);
	CHECK(pq_store_append(&st, idx, 900000, 7, &e) == 0);
	CHECK(pq_stored_instant(&st.s[idx], 330000, 300000, &t, &v) &&
	    t == 300000 && v == 5);
	CHECK(pq_stored_instant(&st.s[idx], 840000, 300000, &t, &v) == false);
	CHECK(pq_stored_instant(&st.s[idx], 620000, 300000, &t, &v) == false);
	CHECK(pq_stored_instant(&st.s[idx], 1200000, 300000, &t, &v) &&
	    t == 900000 && v == 7);
	CHECK(pq_stored_instant(&st.s[idx], 1200001, 300000, &t, &v) == false);
	pq_stored_range(&st.s[idx], 120000, 900000, &rg);
	CHECK(pq_range_count(&rg) == 9);	/* 2m..9m, the marker left out, 15m */
	CHECK(pq_range_first(&rg, &t, &v) && t == 120000);
	CHECK(pq_range_last(&rg, &t, &v) && t == 900000 && v == 7);
	pq_range_it_init(&ri, &rg);
	for (int k = 0; pq_range_it_next(&ri, &t, &v); k++)
		CHECK(t == (k < 8 ? 120000 + k * 60000 : 900000));
	pq_lb_free(&lb);
	pq_arena_free(&a);
	pq_store_free(&st);
}


/* Whether a range's values rise run to run (no fall, marker or NaN), by
 * walking it, and its samples: what a summary must say. */
static bool
walk_rising(const struct pq_range *rg, size_t *count)
{
	struct pq_range plain = *rg;
	bool first = true, rising = true;
	double prev = 0;

	plain.summarized = false;
	*count = pq_range_count(&plain);
	for (size_t i = 0; i < rg->nr; i++) {
		uint32_t from = i == 0 ? rg->skip : 0;
		uint32_t to = i + 1 == rg->nr ? rg->keep : rg->r[i].n;

		if (isnan(rg->r[i].v) || (!first && !(prev <= rg->r[i].v)))
			rising = false;
		if (to > from || i > 0)
			first = false;
		prev = rg->r[i].v;
	}
	return rising && *count > 0;
}

/* Cursors find what a search finds, windows moving forward and back while
 * the series grows, with the same counts; a summary's rising is right. */
static void
test_cursors(void)
{
	struct pq_store st;
	struct pq_arena a = {NULL, 0};
	struct pq_lbuilder lb;
	struct pq_range want, got;
	struct pq_cursor rc, ic;
	struct perr e;
	size_t idx, count, bad = 0, rising = 0;
	int64_t t = 0, at = 0, range, wt = 0, gt = 0;
	double v = 1, wv = 0, gv = 0;

	for (int trial = 0; trial < 40; trial++) {
		pq_store_init(&st);
		pq_lb_init(&lb, &a);
		pq_lb_set(&lb, "__name__", 8, "x", 1);
		CHECK(pq_store_series(&st, pq_lb_finish(&lb), &idx, &e) == 0);
		memset(&rc, 0, sizeof(rc));
		memset(&ic, 0, sizeof(ic));
		t = at = 0;
		range = (int64_t)(1 + check_rnd(20)) * 60000 + (int64_t)check_rnd(3) * 7000;
		for (int k = 0; k < 600; k++) {
			/* A sample: mostly the same or one more, sometimes a
			   reset, a NaN, a marker, or a gap. */
			switch (check_rnd(12)) {
			case 0: v = 0; break;
			case 1: v = NAN; break;
			case 2: v = pq_stale_nan(); break;
			case 3: case 4: v = isnan(v) ? 1 : v + 1; break;
			default: if (isnan(v)) v = 2; break;
			}
			t += 60000 * (int64_t)(check_rnd(10) == 0 ? 3 : 1);
			(void)pq_store_append(&st, idx, t, v, &e);
			/* A window or two ending around now, or back. */
			for (int w = 0; w < 2; w++) {
				at = check_rnd(15) == 0 ? (int64_t)check_rnd((uint64_t)t + 1) :
				    at + (int64_t)check_rnd(3) * 30000 + (check_rnd(6) == 0 ?
				    (int64_t)check_rnd(6) * 60000 : 0);
				pq_stored_range(&st.s[idx], at - range, at, &want);
				pq_stored_range_at(&st.s[idx], at - range, at, &rc,
				    &got);
				if (got.nr != want.nr || (want.nr > 0 &&
				    (got.r != want.r || got.skip != want.skip ||
				    got.keep != want.keep)) || !got.summarized)
					bad++;
				if (walk_rising(&got, &count) != got.rising ||
				    count != got.count)
					bad++;
				rising += got.rising;
				if (pq_stored_instant(&st.s[idx], at, 300000, &wt,
				    &wv) != pq_stored_instant_at(&st.s[idx], at,
				    300000, &ic, &gt, &gv) || wt != gt ||
				    !pq_same_value(wv, gv))
					bad++;
			}
		}
		pq_lb_free(&lb);
		pq_store_free(&st);
	}
	CHECK(bad == 0);
	CHECK(rising > 1000);	/* the fast path was taken, and checked */
	pq_arena_free(&a);
}

/* A value for a random series: mostly the same or one more, sometimes a
 * reset, a NaN, a marker; the first of a run of values, or its step. */
static double
next_value(double v)
{
	switch (check_rnd(12)) {
	case 0: return 0;
	case 1: return NAN;
	case 2: return pq_stale_nan();
	case 3: case 4: return isnan(v) ? 1 : v + 1.5;
	default: return isnan(v) ? 2 : v;
	}
}

/* n samples of v at t, step apart, into both stores: one at a time in a,
 * at once in b. */
static void
append_both(struct pq_store *a, struct pq_store *b, size_t idx, int64_t t,
    int64_t step, uint64_t n, double v)
{
	struct perr e;
	int ra = 0, rb;

	for (uint64_t k = 0; k < n && ra == 0; k++)
		ra = pq_store_append(a, idx, t + (int64_t)k * step, v, &e);
	rb = pq_store_append_n(b, idx, t, step, n, v, &e);
	CHECK(ra == rb);
}

/* Whether two stores hold the same runs, bit for bit. */
static bool
same_runs(const struct pq_store *a, const struct pq_store *b)
{
	if (a->n != b->n || a->samples != b->samples)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct pq_stored *x = &a->s[i], *y = &b->s[i];

		if (x->nruns != y->nruns || x->step != y->step ||
		    x->last_t != y->last_t ||
		    pq_store_name_samples(a, i) != pq_store_name_samples(b, i))
			return false;
		for (size_t k = 0; k < x->nruns; k++)
			if (x->runs[k].t != y->runs[k].t || x->runs[k].n !=
			    y->runs[k].n || !pq_same_value(x->runs[k].v,
			    y->runs[k].v))
				return false;
	}
	return true;
}

static void
add_series(struct pq_store *st, struct pq_arena *a, const char *name,
    const char *job, size_t *idx)
{
	struct pq_lbuilder lb;
	struct perr e;

	pq_lb_init(&lb, a);
	pq_lb_set(&lb, "__name__", 8, name, strlen(name));
	pq_lb_set(&lb, "job", 3, job, strlen(job));
	CHECK(pq_store_series(st, pq_lb_finish(&lb), idx, &e) == 0);
	pq_lb_free(&lb);
}

/* Stretches of one value stored at once make the runs that appending
 * them one by one makes: matching and other steps, new series, NaN,
 * markers, refused samples. */
static void
test_append_n(void)
{
	struct pq_store a, b;
	struct pq_arena ar = {NULL, 0};
	size_t idx[3];
	int64_t t[3] = {0, 0, 0};
	double v[3] = {1, 1, 1};
	size_t bad = 0;

	pq_store_init(&a);
	pq_store_init(&b);
	for (int i = 0; i < 3; i++) {
		add_series(&a, &ar, i < 2 ? "x" : "y", i == 1 ? "b" : "a",
		    &idx[i]);
		add_series(&b, &ar, i < 2 ? "x" : "y", i == 1 ? "b" : "a",
		    &idx[i]);
	}
	for (int k = 0; k < 3000; k++) {
		size_t i = check_rnd(3);
		int64_t step = check_rnd(8) == 0 ? 30000 : 60000;
		uint64_t n = check_rnd(6);

		v[i] = next_value(v[i]);
		/* Sometimes the same time again, or before: refused. */
		t[i] += check_rnd(20) == 0 ? -60000 * (int64_t)check_rnd(2) :
		    60000 * (int64_t)(1 + check_rnd(3));
		append_both(&a, &b, idx[i], t[i], step, n, v[i]);
		if (n > 0 && t[i] + (int64_t)(n - 1) * step > t[i])
			t[i] += (int64_t)(n - 1) * step;
		bad += !same_runs(&a, &b);
	}
	CHECK(bad == 0);
	CHECK(pq_store_name_samples(&a, idx[0]) ==
	    pq_store_name_samples(&a, idx[1]));
	CHECK(pq_store_name_samples(&a, idx[0]) +
	    pq_store_name_samples(&a, idx[2]) == a.samples);
	pq_store_free(&a);
	pq_store_free(&b);
	pq_arena_free(&ar);
}

/* Whether two results are the same, bit for bit. */
static bool
same_result(const struct pq_value *x, const struct pq_value *y)
{
	if (x->type != y->type || x->vec.n != y->vec.n)
		return false;
	for (size_t i = 0; i < x->vec.n; i++)
		if (!pq_lset_equal(x->vec.v[i].ls, y->vec.v[i].ls) ||
		    !pq_same_value(x->vec.v[i].v, y->vec.v[i].v))
			return false;
	return true;
}

/* The results of exprs[0..n) evaluated minute after minute, over store a
 * at each minute alone, over store b with windows worked out ahead, the
 * series growing and changing between (test_ahead); false on a
 * difference. */
static bool
ahead_same(const char *const *exprs, size_t n, size_t *results)
{
	struct pq_engine_opts plain, ahead;
	struct pq_store a, b;
	struct pq_arena ar = {NULL, 0}, sa = {NULL, 0}, sb = {NULL, 0};
	struct pq_expr *x[4];
	struct pq_query *qa[4], *qb[4];
	struct pq_value va, vb;
	struct perr e, ea, eb;
	size_t idx[3], pos, nseries = 2, bad = 0;
	double v[3] = {1, 1, 1};
	int ra, rb;

	memset(&plain, 0, sizeof(plain));
	ahead = plain;
	ahead.ahead_ms = 60000;
	pq_store_init(&a);
	pq_store_init(&b);
	for (size_t i = 0; i < 2; i++) {
		add_series(&a, &ar, "x", i == 0 ? "a" : "b", &idx[i]);
		add_series(&b, &ar, "x", i == 0 ? "a" : "b", &idx[i]);
	}
	for (size_t k = 0; k < n; k++) {
		CHECK(pq_parse(exprs[k], strlen(exprs[k]), &x[k], &pos, &e) ==
		    0);
		CHECK(pq_query_new(x[k]->root, &qa[k], &e) == 0);
		CHECK(pq_query_new(x[k]->root, &qb[k], &e) == 0);
	}
	/* Two series known to 300m before the evaluations start (a journal
	   replayed), gaps and all. */
	for (int64_t t = 0; t < 300 * 60000; t += 60000)
		for (size_t i = 0; i < 2; i++) {
			v[i] = next_value(v[i]);
			if (check_rnd(10) != 0)
				append_both(&a, &b, idx[i], t, 60000, 1, v[i]);
		}
	for (int64_t t = 0; t < 400 * 60000; t += 60000) {
		/* A third series comes, and gets a sample now and then
		   (the metric's samples change: windows made ahead of the
		   others are taken from their memos); from 300m on, all
		   grow minute by minute. */
		if (t == 120 * 60000) {
			add_series(&a, &ar, "x", "c", &idx[2]);
			add_series(&b, &ar, "x", "c", &idx[2]);
			nseries = 3;
		}
		for (size_t i = t < 300 * 60000 ? 2 : 0; i < nseries; i++) {
			if (i == 2 && t < 300 * 60000)
				continue;
			v[i] = next_value(v[i]);
			append_both(&a, &b, idx[i], t, 60000, 1, v[i]);
		}
		/* A stretch where later samples are not read yet. */
		a.horizon = b.horizon = t >= 200 * 60000 && t < 230 * 60000 ?
		    t - 120000 : INT64_MAX;
		for (int pass = 0; pass < 2; pass++) {
			for (size_t k = 0; k < n; k++) {
				ra = pq_query_exec(qa[k], &a, &plain, t, t, t,
				    &sa, &va, &ea);
				rb = pq_query_exec(qb[k], &b, &ahead, t, t, t,
				    &sb, &vb, &eb);
				if (ra != 0 || rb != 0 ||
				    !same_result(&va, &vb))
					bad++;
				*results += va.vec.n;
				pq_arena_reset(&sa);
				pq_arena_reset(&sb);
			}
			/* The third series' sample now and then comes
			   between two evaluations at its time, as a
			   recording rule's does. */
			if (pass > 0 || nseries < 3 || t >= 300 * 60000 ||
			    check_rnd(3) != 0)
				break;
			v[2] = next_value(v[2]);
			append_both(&a, &b, idx[2], t, 60000, 1, v[2]);
		}
	}
	for (size_t k = 0; k < n; k++) {
		pq_query_free(qa[k]);
		pq_query_free(qb[k]);
		pq_expr_free(x[k]);
	}
	pq_store_free(&a);
	pq_store_free(&b);
	pq_arena_free(&ar);
	pq_arena_free(&sa);
	pq_arena_free(&sb);
	return bad == 0;
}

/* Whether expression src reads after its evaluation time. */
static bool
future(const char *src)
{
	struct pq_expr *x = NULL;
	struct perr e;
	size_t pos;
	bool f;

	CHECK(pq_parse(src, strlen(src), &x, &pos, &e) == 0);
	if (x == NULL)
		return false;
	f = pq_node_future(x->root);
	pq_expr_free(x);
	return f;
}

/* What reads ahead of the evaluation time: a negative offset or an @
 * time, anywhere. */
static void
test_future(void)
{
	CHECK(!future("sum by (job) (rate(x[5m] offset 1m))"));
	CHECK(!future("x @ start() + y @ end()"));
	CHECK(!future("max_over_time(sum(x)[30m:1m] offset 5m)"));
	CHECK(future("x offset -1m"));
	CHECK(future("a + b + sum(x @ 1700000000)"));
	CHECK(future("rate(x[5m] @ 100)"));
	CHECK(future("max_over_time(x[10m:1m] offset -2m)"));
	CHECK(future("max_over_time((y > x offset -10s)[10m:1m])"));
	CHECK(future("label_replace(x @ 1e9, \"a\", \"b\", \"c\", \"d\")"));
}

/* The value of expr over st at t, with opts; NAN when none. */
static double
value_at(struct pq_query *q, const struct pq_store *st,
    const struct pq_engine_opts *opts, int64_t t)
{
	struct pq_arena sa = {NULL, 0};
	struct pq_value v;
	struct perr e;
	double x = NAN;

	if (pq_query_exec(q, st, opts, t, t, t, &sa, &v, &e) == 0 &&
	    v.vec.n == 1)
		x = v.vec.v[0].v;
	pq_arena_free(&sa);
	return x;
}

/* A window made while the series' samples ended inside it is made again
 * once a sample comes into it, even at the same time (a recording rule's
 * sample between two rules). */
static void
test_memo_append(void)
{
	static const char expr[] = "sum(count_over_time(x[5m]))";
	struct pq_engine_opts ahead;
	struct pq_store st;
	struct pq_arena ar = {NULL, 0};
	struct pq_expr *x;
	struct pq_query *q;
	struct perr e;
	size_t idx, pos;

	memset(&ahead, 0, sizeof(ahead));
	ahead.ahead_ms = 60000;
	pq_store_init(&st);
	add_series(&st, &ar, "x", "a", &idx);
	for (int64_t t = 0; t <= 10 * 60000; t += 60000)
		CHECK(pq_store_append(&st, idx, t, 1, &e) == 0);
	CHECK(pq_parse(expr, strlen(expr), &x, &pos, &e) == 0);
	CHECK(pq_query_new(x->root, &q, &e) == 0);
	CHECK(value_at(q, &st, &ahead, 9 * 60000) == 6);
	CHECK(value_at(q, &st, &ahead, 11 * 60000) == 5);
	CHECK(pq_store_append(&st, idx, 11 * 60000, 1, &e) == 0);
	CHECK(value_at(q, &st, &ahead, 11 * 60000) == 6);
	CHECK(value_at(q, &st, &ahead, 12 * 60000) == 5);
	pq_query_free(q);
	pq_expr_free(x);
	pq_store_free(&st);
	pq_arena_free(&ar);
}

/* A selector's series: kept while series of other names come, made
 * again when one of its name comes. */
static void
test_lists(void)
{
	static const char *const exprs[] = {"count(x)", "count({job=\"b\"})",
	    "sum(count_over_time(x[5m]))"};
	struct pq_engine_opts ahead;
	struct pq_store st;
	struct pq_arena ar = {NULL, 0};
	struct pq_expr *x[3];
	struct pq_query *q[3];
	struct perr e;
	size_t idx, pos;

	memset(&ahead, 0, sizeof(ahead));
	ahead.ahead_ms = 60000;
	pq_store_init(&st);
	for (size_t k = 0; k < 3; k++) {
		CHECK(pq_parse(exprs[k], strlen(exprs[k]), &x[k], &pos, &e) ==
		    0);
		CHECK(pq_query_new(x[k]->root, &q[k], &e) == 0);
	}
	add_series(&st, &ar, "x", "a", &idx);
	CHECK(pq_store_append(&st, idx, 0, 1, &e) == 0);
	CHECK(value_at(q[0], &st, &ahead, 0) == 1);
	CHECK(isnan(value_at(q[1], &st, &ahead, 0)));
	CHECK(value_at(q[2], &st, &ahead, 0) == 1);
	add_series(&st, &ar, "y", "b", &idx);
	CHECK(pq_store_append(&st, idx, 0, 1, &e) == 0);
	CHECK(value_at(q[0], &st, &ahead, 0) == 1);
	CHECK(value_at(q[1], &st, &ahead, 0) == 1);
	CHECK(value_at(q[2], &st, &ahead, 0) == 1);
	add_series(&st, &ar, "x", "b", &idx);
	CHECK(pq_store_append(&st, idx, 0, 1, &e) == 0);
	CHECK(value_at(q[0], &st, &ahead, 0) == 2);
	CHECK(value_at(q[1], &st, &ahead, 0) == 2);
	CHECK(value_at(q[2], &st, &ahead, 0) == 2);
	for (size_t k = 0; k < 3; k++) {
		pq_query_free(q[k]);
		pq_expr_free(x[k]);
	}
	pq_store_free(&st);
	pq_arena_free(&ar);
}

/*
 * Aggregations of range functions evaluated minute after minute with the
 * windows of the next minutes worked out ahead give what evaluating each
 * minute alone gives, bit for bit, while the series grow between the
 * evaluations, a series comes, and the horizon cuts the windows; alone,
 * sharing their windows (the same function and range), and not.
 */
static void
test_ahead(void)
{
	static const char *const groups[][4] = {
		{"sum by (job) (increase(x[10m]))", "max(increase(x[10m]))",
		    "min by (job) (changes(x[15m]))"},
		{"sum(rate(x[5m] offset 3m))", "sum(rate(x[5m] offset 3m))"},
		{"avg by (job) (avg_over_time(x[30m]))"},
		{"max(sum_over_time(x[7m]))", "count(count_over_time(x[90s]))"},
		{"stddev(delta(x[20m]))", "sum(resets(x[45m]))"},
	};
	size_t results = 0;

	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		size_t n = 0;

		while (n < 4 && groups[g][n] != NULL)
			n++;
		CHECK(ahead_same(groups[g], n, &results));
	}
	CHECK(results > 3000);
}

int
main(void)
{
	test_durations();
	test_quoting();
	test_regex();
	test_numbers();
	test_lexer();
	test_parser();
	test_equal();
	test_templates();
	test_rules_positions();
	test_go_floats();
	test_regex_match();
	test_series_notation();
	test_store();
	test_cursors();
	test_append_n();
	test_ahead();
	test_memo_append();
	test_future();
	test_lists();
	return check_done("test-promql");
}
