#!/usr/bin/python3
"""eval-cases.py - write the evaluation cases of test/rules/eval/ as
promtool unit-test files, their expected values taken from Debian's
promtool 2.42 (the oracle).

usage: eval-cases.py DIR

Each topic below is one file: input series and expressions.  For each
expression promtool is asked what it gets (a test expecting nothing
fails and prints it), and the file is written with those samples as
exp_samples, so both promtool and promrun-rules must pass it.  Expressions
that fail in promtool (an error) are written to a second file of the topic
whose tests expect that failure, checked by 23-rules-test.bats.  Run again
only when a case is added; the files are committed.
"""
import os
import re
import subprocess
import sys
import tempfile

import yaml

COUNTERS = [
    ('http_requests{job="api", instance="a"}', '0+10x20'),
    ('http_requests{job="api", instance="b"}', '0+10x5 0+10x14'),
    ('http_requests{job="web", instance="a"}', '100+5x20'),
    ('http_requests{job="web", instance="c"}', '_x5 50+1x14'),
]
GAUGES = [
    ('temp{room="a"}', '10 12 11 15 14 13 18 20 19 17 16'),
    ('temp{room="b"}', '-1 -2 0 1 NaN 3 4 Inf 5 6 7'),
    ('temp{room="c"}', '5x10'),
]
STALE = [
    ('s{k="1"}', '1 2 stale 4 _ _ _ _ _ _ 9'),
    ('s{k="2"}', '1 _x7 2'),
]
HIST = [
    ('req_bucket{le="0.1", job="api"}', '0+1x10'),
    ('req_bucket{le="0.5", job="api"}', '0+5x10'),
    ('req_bucket{le="1", job="api"}', '0+8x10'),
    ('req_bucket{le="+Inf", job="api"}', '0+10x10'),
    ('req_bucket{le="1", job="web"}', '0+1x10'),
    ('req_bucket{le="+Inf", job="web"}', '0+1x10'),
]

TOPICS = {
    "rates": (COUNTERS, "1m", [
        ("rate(http_requests[5m])", "10m"),
        ("rate(http_requests[5m])", "5m"),
        ("increase(http_requests[5m])", "10m"),
        ("increase(http_requests[1m30s])", "7m"),
        ("increase(http_requests[10m])", "3m"),
        ("delta(http_requests[5m])", "10m"),
        ("irate(http_requests[5m])", "10m"),
        ("idelta(http_requests[5m])", "10m"),
        ("resets(http_requests[20m])", "20m"),
        ("changes(http_requests[20m])", "20m"),
        ("rate(http_requests[5m] offset 5m)", "10m"),
        ("rate(http_requests[5m] @ 300)", "20m"),
        ("increase(http_requests[5m:1m])", "10m"),
        ("rate(http_requests[1m])", "20m"),
        ("deriv(http_requests[5m])", "10m"),
        ("predict_linear(http_requests[5m], 60)", "10m"),
        ("rate(http_requests{instance=\"b\"}[4m])", "7m"),
    ]),
    "over-time": (GAUGES, "1m", [
        ("avg_over_time(temp[5m])", "10m"),
        ("min_over_time(temp[5m])", "10m"),
        ("max_over_time(temp[5m])", "10m"),
        ("sum_over_time(temp[5m])", "10m"),
        ("count_over_time(temp[5m])", "10m"),
        ("last_over_time(temp[5m])", "10m"),
        ("present_over_time(temp[5m])", "10m"),
        ("absent_over_time(temp[5m])", "10m"),
        ("absent_over_time(nothing{a=\"b\"}[5m])", "10m"),
        ("quantile_over_time(0.5, temp[10m])", "10m"),
        ("quantile_over_time(0.9, temp[10m])", "10m"),
        ("stddev_over_time(temp[10m])", "10m"),
        ("stdvar_over_time(temp[10m])", "10m"),
        ("holt_winters(temp[10m], 0.5, 0.5)", "10m"),
        ("max_over_time(temp[3m:30s])", "10m"),
        ("avg_over_time(temp[10m] offset 2m)", "10m"),
    ]),
    "math": (GAUGES, "1m", [
        ("abs(temp)", "1m"), ("ceil(temp / 3)", "3m"), ("floor(temp / 3)", "3m"),
        ("round(temp / 3)", "3m"), ("round(temp, 5)", "3m"),
        # Go computes these with its own code, which may differ from the C
        # library's in the last bit: rounded to 1e-9 (the differential
        # test compares them with a relative tolerance instead).
        ("round(exp(temp / 10), 1e-9)", "3m"), ("sqrt(temp)", "3m"),
        ("round(ln(temp), 1e-9)", "3m"), ("round(log2(temp), 1e-9)", "3m"),
        ("round(log10(temp), 1e-9)", "3m"), ("sgn(temp)", "1m"),
        ("round(sin(temp), 1e-9)", "3m"), ("round(cos(temp), 1e-9)", "3m"),
        ("round(tan(temp), 1e-9)", "3m"),
        ("round(asin(temp / 100), 1e-9)", "3m"),
        ("round(acos(temp / 100), 1e-9)", "3m"),
        ("round(atan(temp), 1e-9)", "3m"),
        ("round(sinh(temp / 10), 1e-9)", "3m"),
        ("round(cosh(temp / 10), 1e-9)", "3m"),
        ("round(tanh(temp), 1e-9)", "3m"),
        ("round(asinh(temp), 1e-9)", "3m"),
        ("round(acosh(temp), 1e-9)", "3m"),
        ("round(atanh(temp / 100), 1e-9)", "3m"), ("deg(temp)", "3m"),
        ("rad(temp)", "3m"),
        ("clamp(temp, 0, 12)", "3m"), ("clamp_min(temp, 12)", "3m"),
        ("clamp_max(temp, 12)", "3m"), ("clamp(temp, 5, 1)", "3m"),
        ("temp ^ 2", "3m"), ("2 ^ temp", "3m"), ("temp % 4", "3m"),
        ("temp ^ 0.5", "3m"), ("round(temp ^ 1.5, 1e-9)", "3m"),
        ("round(temp atan2 2, 1e-9)", "3m"), ("-temp", "3m"), ("pi()", "0m"),
        ("temp / 0", "3m"), ("0 / 0", "0m"), ("scalar(temp)", "3m"),
        ("scalar(temp{room=\"a\"}) * 2", "3m"), ("vector(7)", "0m"),
        ("time()", "5m"), ("timestamp(temp)", "5m"),
        ("timestamp(temp offset 2m)", "5m"),
    ]),
    "dates": ([('t{x="1"}', '0 1700000000 86400 951782400 1e10')], "1m", [
        ("year(t)", "4m"), ("month(t)", "4m"), ("day_of_month(t)", "4m"),
        ("day_of_week(t)", "4m"), ("day_of_year(t)", "4m"),
        ("days_in_month(t)", "4m"), ("hour(t)", "4m"), ("minute(t)", "4m"),
        ("year(t)", "2m"), ("days_in_month(t)", "3m"), ("hour()", "4m"),
        ("minute()", "3m"), ("year()", "0m"),
    ]),
    "operators": (COUNTERS + GAUGES, "1m", [
        ("http_requests + 1", "5m"),
        ("http_requests > 50", "5m"), ("http_requests > bool 50", "5m"),
        ("50 < http_requests", "5m"), ("50 < bool http_requests", "5m"),
        ("http_requests == http_requests", "5m"),
        ("http_requests - on(instance) group_left temp", "5m"),
        ("sum by (job) (http_requests) / on(job) group_right sum by (job, instance) (http_requests)", "5m"),
        ("http_requests and on(instance) http_requests{job=\"api\"}", "5m"),
        ("http_requests or temp", "5m"),
        ("http_requests unless on(job) http_requests{instance=\"c\"}", "10m"),
        ("http_requests / ignoring(instance) group_left sum without(instance) (http_requests)", "5m"),
        ("http_requests{job=\"api\"} + on(instance) http_requests{job=\"web\"}", "10m"),
        ("http_requests + on(job) http_requests", "5m"),
        ("sum(http_requests) + on() group_left http_requests", "5m"),
        ("1 + 2 * 3 ^ 2 % 5", "0m"), ("2 > bool 1", "0m"),
        ("http_requests == bool on(job, instance) http_requests * 2", "5m"),
        ("http_requests != 0", "1m"),
    ]),
    "aggregation": (COUNTERS + GAUGES, "1m", [
        ("sum(http_requests)", "5m"), ("sum by (job) (http_requests)", "5m"),
        ("sum without (instance) (http_requests)", "5m"),
        ("avg by (job) (http_requests)", "5m"), ("min(temp)", "5m"),
        ("max(temp)", "5m"), ("count(http_requests)", "10m"),
        ("group by (job) (http_requests)", "5m"),
        ("stddev(http_requests)", "5m"), ("stdvar by (job) (http_requests)", "5m"),
        ("topk(2, temp)", "5m"), ("bottomk(1, temp)", "5m"),
        ("topk by (room) (1, temp)", "5m"),
        ("quantile(0.5, http_requests)", "5m"),
        ("quantile by (job) (0.9, http_requests)", "5m"),
        ("count_values(\"value\", temp)", "3m"),
        ("count_values without (room) (\"v\", temp)", "3m"),
        ("sum(temp)", "4m"), ("avg(temp)", "7m"), ("max(temp)", "7m"),
        ("sum by (__name__) (http_requests)", "5m"),
        ("topk(0, http_requests)", "5m"), ("quantile(2, temp)", "5m"),
    ]),
    "labels": (COUNTERS, "1m", [
        ("label_replace(http_requests, \"dst\", \"$1-x\", \"instance\", \"(.*)\")", "5m"),
        ("label_replace(http_requests, \"job\", \"\", \"job\", \"api\")", "5m"),
        ("label_replace(http_requests, \"i\", \"${1}y\", \"instance\", \"([ab])\")", "5m"),
        ("label_replace(http_requests, \"i\", \"$name\", \"job\", \"(?P<name>w.b)\")", "5m"),
        ("label_join(http_requests, \"both\", \"/\", \"job\", \"instance\")", "5m"),
        ("label_join(http_requests, \"job\", \"\", \"nothere\")", "5m"),
        ("absent(http_requests)", "5m"),
        ("absent(nothing{job=\"x\", a=~\"b\"})", "5m"),
        ("absent(nothing{job=\"x\", job=\"y\"})", "5m"),
        ("http_requests{instance=~\"a|b\"}", "5m"),
        ("http_requests{instance!~\"a\"}", "5m"),
        ("http_requests{job!=\"api\"}", "5m"),
        ("{__name__=~\"http_req.*\", instance=\"a\"}", "5m"),
        ("http_requests{instance=~\"(?i)A\"}", "5m"),
        ("http_requests{instance=~\"\\\\w\"}", "5m"),
        ("sort(http_requests)", "5m"), ("sort_desc(http_requests)", "5m"),
    ]),
    "staleness": (STALE, "1m", [
        ("s", "1m"), ("s", "2m"), ("s", "3m"), ("s", "4m"), ("s", "8m"),
        ("s", "9m"), ("s", "10m"), ("count_over_time(s[3m])", "3m"),
        ("s offset 1m", "4m"), ("s @ 60", "10m"), ("last_over_time(s[10m])", "9m"),
        ("s[5m:1m]", "3m"),
    ]),
    "histograms": (HIST, "1m", [
        ("histogram_quantile(0.5, req_bucket)", "5m"),
        ("histogram_quantile(0.9, rate(req_bucket[5m]))", "10m"),
        ("histogram_quantile(0.99, sum by (le) (rate(req_bucket[5m])))", "10m"),
        ("histogram_quantile(0, req_bucket)", "5m"),
        ("histogram_quantile(1, req_bucket)", "5m"),
        ("histogram_quantile(2, req_bucket)", "5m"),
        ("histogram_quantile(0.5, req_bucket{le!=\"+Inf\"})", "5m"),
        ("histogram_count(req_bucket)", "5m"), ("histogram_sum(req_bucket)", "5m"),
        ("histogram_fraction(0, 1, req_bucket)", "5m"),
    ]),
    "subqueries": (COUNTERS + GAUGES, "1m", [
        ("max_over_time(rate(http_requests[2m])[6m:1m])", "10m"),
        ("avg_over_time(temp[4m:])", "10m"),
        ("sum_over_time(temp[5m:2m])", "10m"),
        ("min_over_time(sum(http_requests)[10m:3m] offset 1m)", "15m"),
        ("max_over_time(temp[5m:1m] @ 300)", "10m"),
        ("count_over_time(temp[3m:30s])", "7m"),
        ("max_over_time(max_over_time(temp[2m:1m])[4m:1m])", "10m"),
        ("rate(http_requests[5m:30s])", "10m"),
    ]),
}

ERRORS = {
    "errors": (COUNTERS + GAUGES + [('dup_a{x="1"}', '1x10'),
                                     ('dup_b{x="1"}', '2x10')], "1m", [
        ("http_requests + on(job) http_requests", "5m"),
        ("label_replace(http_requests, \"1x\", \"\", \"job\", \".*\")", "5m"),
        ("label_replace(http_requests, \"a\", \"\", \"job\", \"(\")", "5m"),
        ("holt_winters(temp[5m], 2, 0.5)", "5m"),
        ("abs({__name__=~\"dup_.*\"})", "5m"),
        ("rate({__name__=~\"dup_.*\"}[5m])", "5m"),
        ("dup_a + on() dup_b", "5m") ,
        ("{__name__=~\"dup_.*\"} + on(x) group_left dup_a", "5m"),
        ("http_requests{job=\"api\"} + ignoring(instance) http_requests{job=\"api\"}", "5m"),
        ("count_values(\"1a\", temp)", "5m"),
        ("topk(NaN, temp)", "5m"),
        ("temp[5m]", "5m"),
    ]),
}

EXPR_RE = re.compile(r'^    expr: "(.*) # (\d+)", time: ([^,]*),(.*)$')
SAMPLE_RE = re.compile(r'(\{[^{}]*\}) (\S+?)(?:, |$)')


def oracle(series, interval, cases):
    tests = [{"interval": interval,
              "input_series": [{"series": s, "values": v} for s, v in series],
              "promql_expr_test": [{"expr": "%s # %d" % (e, i), "eval_time": t,
                                    "exp_samples": [{"labels": '{never="x"}',
                                                     "value": 0}]}
                                   for i, (e, t) in enumerate(cases)]}]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump({"tests": tests}, f, width=1000)
        path = f.name
    r = subprocess.run(["promtool", "test", "rules", path], capture_output=True,
                       text=True)
    os.unlink(path)
    got = {}
    lines = r.stderr.splitlines()
    for i, line in enumerate(lines):
        m = EXPR_RE.match(line)
        if not m:
            continue
        n = int(m.group(2))
        if m.group(4).startswith(" err: "):
            got[n] = ("err", m.group(4)[6:])
        else:
            got[n] = ("got", lines[i + 2].strip()[5:])
    return got


def number(s):
    return float(s)


def write(path, series, interval, cases, got, want_errors):
    exprs = []
    for i, (e, t) in enumerate(cases):
        kind, text = got.get(i, ("got", "nil"))
        if (kind == "err") != want_errors:
            print("%s: %s at %s: promtool says %s: %s" % (path, e, t, kind,
                  text), file=sys.stderr)
            continue
        samples = [] if kind == "err" or text == "nil" else [
            {"labels": m.group(1), "value": number(m.group(2))}
            for m in SAMPLE_RE.finditer(text)]
        if any(s["value"] != s["value"] for s in samples):
            print("%s: %s: NaN never equals NaN in a test, left out"
                  % (path, e), file=sys.stderr)
            continue
        exprs.append({"expr": e, "eval_time": t, "exp_samples": samples})
    doc = {"tests": [{"interval": interval,
                      "input_series": [{"series": s, "values": v}
                                       for s, v in series],
                      "promql_expr_test": exprs}]}
    with open(path, "w") as f:
        f.write("# Written by test/rules/eval-cases.py: expected values are "
                "promtool 2.42's.\n")
        f.write("# Both promtool and promrun-rules must pass this file%s.\n" %
                (" (each case fails with an error in both)" if want_errors
                 else ""))
        yaml.safe_dump(doc, f, width=1000, sort_keys=False)


def main():
    d = sys.argv[1]
    for name, (series, interval, cases) in list(TOPICS.items()) + \
            list(ERRORS.items()):
        got = oracle(series, interval, cases)
        write(os.path.join(d, name + ".yml"), series, interval, cases, got,
              name in ERRORS)


if __name__ == "__main__":
    main()
