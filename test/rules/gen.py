#!/usr/bin/env python3
"""Generate the differential corpus of rule files (test/rules/corpus/).

Every file is checked by both Debian's promtool 2.42 and promrun-rules
(test/20-rules-differential.bats); the two must agree on accept/reject.
No file carries an expected answer: promtool is the reference.

  corpus/expr/      one recording rule per file, one expression each:
                    every grammar rule, every function of Prometheus 2.42
                    with right and wrong argument counts and types, and the
                    expression error classes (syntax, types, durations,
                    regexes, numbers, strings, modifiers)
  corpus/file/      rule-file structure: fields, groups, names, labels,
                    durations, templates, duplicates, YAML errors
  manifest/         PrometheusRule manifests (NAME.yml), which promtool
                    refuses as a whole, each with its .spec saved as a plain
                    rule file (NAME.plain); the test compares our verdict on
                    the manifest with promtool's on the plain file

Run from the repository root: test/rules/gen.py (it rewrites the corpus).
"""
import json
import os
import shutil

ROOT = os.path.dirname(os.path.abspath(__file__))

# --- functions of Prometheus 2.42: name, argument types, variadic -------
S, V, M, STR = "scalar", "vector", "matrix", "string"
FUNCS = {
    "abs": [V], "absent": [V], "absent_over_time": [M], "acos": [V],
    "acosh": [V], "asin": [V], "asinh": [V], "atan": [V], "atanh": [V],
    "avg_over_time": [M], "ceil": [V], "changes": [M], "clamp": [V, S, S],
    "clamp_max": [V, S], "clamp_min": [V, S], "cos": [V], "cosh": [V],
    "count_over_time": [M], "day_of_month": [V], "day_of_week": [V],
    "day_of_year": [V], "days_in_month": [V], "deg": [V], "delta": [M],
    "deriv": [M], "exp": [V], "floor": [V], "histogram_count": [V],
    "histogram_fraction": [S, S, V], "histogram_quantile": [S, V],
    "histogram_sum": [V], "holt_winters": [M, S, S], "hour": [V],
    "idelta": [M], "increase": [M], "irate": [M],
    "label_join": [V, STR, STR, STR],
    "label_replace": [V, STR, STR, STR, STR], "last_over_time": [M],
    "ln": [V], "log10": [V], "log2": [V], "max_over_time": [M],
    "min_over_time": [M], "minute": [V], "month": [V], "pi": [],
    "predict_linear": [M, S], "present_over_time": [M],
    "quantile_over_time": [S, M], "rad": [V], "rate": [M], "resets": [M],
    "round": [V, S], "scalar": [V], "sgn": [V], "sin": [V], "sinh": [V],
    "sort": [V], "sort_desc": [V], "sqrt": [V], "stddev_over_time": [M],
    "stdvar_over_time": [M], "sum_over_time": [M], "tan": [V], "tanh": [V],
    "time": [], "timestamp": [V], "vector": [S], "year": [V],
}
OPTIONAL_LAST = {"day_of_month", "day_of_week", "day_of_year",
                 "days_in_month", "hour", "minute", "month", "year", "round"}
UNLIMITED = {"label_join"}
# Functions of later Prometheus versions: 2.42 must refuse them.
LATER = ["histogram_stddev", "histogram_stdvar", "mad_over_time",
         "sort_by_label", "sort_by_label_desc", "info", "limitk",
         "double_exponential_smoothing", "ts_of_max_over_time"]

SAMPLE = {S: "1", V: "up", M: "up[5m]", STR: '"a"'}
WRONG = {S: ['"a"', "up", "up[5m]"], V: ["1", '"a"', "up[5m]"],
         M: ["1", '"a"', "up"], STR: ["1", "up", "up[5m]"]}


def function_cases():
    out = []
    for name, args in sorted(FUNCS.items()):
        good = [SAMPLE[t] for t in args]
        out.append("%s(%s)" % (name, ", ".join(good)))
        if name in OPTIONAL_LAST:
            out.append("%s(%s)" % (name, ", ".join(good[:-1])))
            out.append("%s(%s)" % (name, ", ".join(good + [SAMPLE[args[-1]]])))
        elif name in UNLIMITED:
            out.append("%s(%s)" % (name, ", ".join(good + ['"b"', '"c"'])))
            out.append("%s(%s)" % (name, ", ".join(good[:-2])))
        else:
            out.append("%s(%s)" % (name, ", ".join(good + ["1"])))
            if args:
                out.append("%s(%s)" % (name, ", ".join(good[:-1])))
        for i, t in enumerate(args):
            for w in WRONG[t]:
                bad = list(good)
                bad[i] = w
                out.append("%s(%s)" % (name, ", ".join(bad)))
        # Subqueries stand in for range vectors.
        if M in args:
            sub = [("rate(up[5m])[10m:1m]" if t == M else SAMPLE[t]) for t in args]
            out.append("%s(%s)" % (name, ", ".join(sub)))
        out.append("%s(%s,)" % (name, ", ".join(good)) if good else "%s(,)" % name)
        out.append("%s" % name)                 # a metric with that name
        out.append("%s{job=\"x\"}" % name)
        out.append("%s(" % name)
    for name in LATER + ["Rate", "RATE", "foo", "count_values_x"]:
        out.append("%s(up)" % name)
        out.append("%s(up[5m])" % name)
    return out


AGGS = ["sum", "avg", "count", "min", "max", "group", "stddev", "stdvar"]
PARAM_AGGS = {"topk": "3", "bottomk": "3", "quantile": "0.9",
              "count_values": '"value"'}


def aggregation_cases():
    out = []
    for op in AGGS:
        out += ["%s(up)" % op, "%s by (job) (up)" % op,
                "%s without (job) (up)" % op, "%s(up) by (job)" % op,
                "%s(up) without (job, instance)" % op, "%s by () (up)" % op,
                "%s by (job,) (up)" % op, "%s()" % op, "%s(up, up)" % op,
                "%s(1)" % op, '%s("a")' % op, "%s(up[5m])" % op,
                "%s by (job) (up) by (job)" % op, "%s by (job)" % op,
                "%s by job (up)" % op, "%s by (job (up)" % op,
                "%s by (foo:bar) (up)" % op, "%s by (inf) (up)" % op,
                "%s by (1) (up)" % op, "%s by (\"job\") (up)" % op,
                "%s BY (job) (up)" % op, "%s(up) BY (job)" % op.upper(),
                "%s by (sum, by, on, bool, offset, start, end, and, group_left,"
                " atan2, ignoring, without, topk) (up)" % op,
                "%s(rate(up[5m]))" % op, "%s{job=\"x\"}" % op, "%s" % op,
                "%s offset 5m" % op, "%s[5m]" % op,
                "%s without () (up)" % op]
    for op, p in sorted(PARAM_AGGS.items()):
        out += ["%s(%s, up)" % (op, p), "%s by (job) (%s, up)" % (op, p),
                "%s(%s, up) without (job)" % (op, p), "%s(up)" % op,
                "%s(%s, up, up)" % (op, p), "%s()" % op,
                "%s(up, up)" % op, "%s(%s, 1)" % (op, p),
                "%s(%s, up[5m])" % (op, p), "%s(scalar(up), up)" % op]
        for w in ["1", '"x"', "up", "up[5m]"]:
            out.append("%s(%s, up)" % (op, w))
    return out


BINOPS = ["+", "-", "*", "/", "%", "^", "atan2", "==", "!=", ">", "<",
          ">=", "<=", "and", "or", "unless"]
OPERANDS = ["1", "up", '"a"', "up[5m]", "rate(up[5m])[5m:]", "(1)",
            "scalar(up)", "-1"]


def binary_cases():
    out = []
    for op in BINOPS:
        for lhs in OPERANDS:
            for rhs in ["1", "up", '"a"', "up[5m]"]:
                out.append("%s %s %s" % (lhs, op, rhs))
        for mod in ["bool", "on (job)", "ignoring (job)", "on ()",
                    "on (job) group_left", "on (job) group_left (instance)",
                    "ignoring (job) group_right (instance)",
                    "bool on (job)", "bool ignoring (job) group_left ()",
                    "on (job) group_left (job)", "ignoring () group_left",
                    "on job", "group_left", "on (job) bool",
                    "on (job) group_left group_right", "on (job,) group_left (a,)",
                    "ON (job)", "Bool"]:
            out.append("up %s %s up" % (op, mod))
            out.append("1 %s %s up" % (op, mod))
            out.append("1 %s %s 1" % (op, mod))
    out += ["1 + 2 * 3", "1 - 2 - 3", "2 ^ 3 ^ 2", "-2 ^ 2", "-up ^ 2",
            "- -1", "-(1)", "+up", "--up", "-up[5m]", "-\"a\"",
            "up and on () up or up unless up", "up > 1 < 2",
            "1 < bool 2 == bool 1", "up == bool 1 > 0",
            "up + + 1", "up +", "* up", "up * * up", "up atan2 up",
            "1 atan2 2", "up == on (job) group_left up", "(up)", "((up))",
            "(up", "up)", "()", "(up) + (up[5m])",
            "up unless on (job) group_right (x) up",
            "sum(up) + on () group_left count(up)",
            "1 == 1", "1 != bool 1", "up == \"a\"", "1 and 1",
            "vector(1) or 1", "time() > bool time()", "-time()",
            "pi() + time() * 2 ^ -1"]
    return out


def selector_cases():
    out = ['up', 'up{}', 'up{job="a"}', "up{job='a'}", 'up{job=`a`}',
           'up{job!="a"}', 'up{job=~"a.*"}', 'up{job!~"a.*"}',
           'up{job="a",}', 'up{,}', 'up{job="a" instance="b"}',
           'up{job="a",instance="b"}', 'up{job}', 'up{job=}', 'up{="a"}',
           'up{job==\"a\"}', 'up{job=~"a"', 'up{job="a"}}', 'up{{job="a"}}',
           '{job="a"}', '{job=""}', '{job!=""}', '{job=~".*"}',
           '{job=~".+"}', '{job!~".*"}', '{job!~".+"}', '{job!~""}',
           '{job=~""}', '{job=~"a|"}', '{job=~"a?"}', '{job=~"(a)*"}',
           '{job=~"a{0}"}', '{job=~"a{0,2}"}', '{job=~"a{1,2}"}',
           '{job=~"^$"}', '{job=~"\\\\b"}', '{job=~"\\\\B"}',
           '{job=~"()"}', '{job=~"(?i)"}', '{job=~"(?i)a"}',
           '{__name__="up"}', '{__name__=~"up|down"}', '{__name__=~".*"}',
           'up{__name__="up"}', 'up{__name__=~"x"}', '{}', 'up{job="a"}[5m]',
           '{job="a"}[5m]', 'foo:bar', 'foo:bar{a="b"}', ':foo', 'foo:',
           'a:b:c', '_up', 'up_', 'UP', '1up', 'up{1="a"}', 'up{a-b="a"}',
           'up{a:b="a"}', 'up{job="\\xff"}', 'up{job="\\u00e9"}',
           'up{job="é"}', 'up{job="\\x"}', 'up{job="\\q"}', 'up{job="\\"}',
           'up{job="a\\nb"}', "up{job='\\''}", "up{job='\\\"'}",
           'up{job="\\\'"}', 'up{job="\\0"}', 'up{job="\\000"}',
           'up{job="\\400"}', 'up{job="\\ud800"}', 'up{job="\\U00110000"}',
           'up{job="\\U0001F600"}', 'up{job=`a\\nb`}', 'up{job="a', "up{job='a",
           'up{job=`a', 'up{job="a"} # comment', 'up # comment\n+ 1',
           '# only a comment', 'up{job="a" # c\n}', 'up{job=~"a)(b"}',
           'up{job=~"(a"}', 'up{job=~"a)"}', 'up{job=~"a**"}', 'up{job=~"a*?"}',
           'up{job=~"a*??"}', 'up{job=~"a+*"}', 'up{job=~"*a"}',
           'up{job=~"a|*"}', 'up{job=~"(*)"}', 'up{job=~"^*"}',
           'up{job=~"$+"}', 'up{job=~"\\\\b*"}', 'up{job=~"(?i)*"}',
           'up{job=~"a(?i)*"}', 'up{job=~"a{2}{3}"}', 'up{job=~"a{2}*"}',
           'up{job=~"a{1001}"}', 'up{job=~"a{1000}"}', 'up{job=~"a{2,1}"}',
           'up{job=~"a{,2}"}', 'up{job=~"a{01}"}', 'up{job=~"a{1,}"}',
           'up{job=~"a{"}', 'up{job=~"a{1"}', 'up{job=~"{"}', 'up{job=~"}"}',
           'up{job=~"(a{100}){100}"}', 'up{job=~"(a{10}){100}"}',
           'up{job=~"((a{10}){10}){10}"}', 'up{job=~"((a{10}){10}){11}"}',
           'up{job=~"(a{0}){1001}"}', 'up{job=~"[a-z]"}', 'up{job=~"[z-a]"}',
           'up{job=~"[]a]"}', 'up{job=~"[^]a]"}', 'up{job=~"[]"}',
           'up{job=~"[a"}', 'up{job=~"[a-]"}', 'up{job=~"[-a]"}',
           'up{job=~"[a-\\\\d]"}', 'up{job=~"[\\\\d-z]"}',
           'up{job=~"[[:alpha:]]"}', 'up{job=~"[[:^alpha:]]"}',
           'up{job=~"[[:foo:]]"}', 'up{job=~"[[:alpha:]"}',
           'up{job=~"[[:word:][:xdigit:]]"}', 'up{job=~"\\\\d\\\\D\\\\s\\\\S\\\\w\\\\W"}',
           'up{job=~"\\\\pL"}', 'up{job=~"\\\\p{Greek}"}', 'up{job=~"\\\\p{^Greek}"}',
           'up{job=~"\\\\PL"}', 'up{job=~"\\\\p{Foo}"}', 'up{job=~"\\\\p{Greek"}',
           'up{job=~"\\\\p"}', 'up{job=~"\\\\pX"}', 'up{job=~"\\\\p{Any}"}',
           'up{job=~"\\\\p{Han}"}', 'up{job=~"\\\\p{Toto}"}', 'up{job=~"[\\\\p{Lu}]"}',
           'up{job=~"\\\\8"}', 'up{job=~"\\\\1"}', 'up{job=~"\\\\12"}',
           'up{job=~"\\\\0"}', 'up{job=~"\\\\x41"}', 'up{job=~"\\\\x4"}',
           'up{job=~"\\\\x{41}"}', 'up{job=~"\\\\x{}"}', 'up{job=~"\\\\x{110000}"}',
           'up{job=~"\\\\x{zz}"}', 'up{job=~"\\\\Qa.b\\\\E"}', 'up{job=~"\\\\Qa.b"}',
           'up{job=~"\\\\Q\\\\E*"}', 'up{job=~"\\\\A\\\\z"}', 'up{job=~"\\\\Z"}',
           'up{job=~"\\\\C"}', 'up{job=~"\\\\e"}', 'up{job=~"\\\\_"}',
           'up{job=~"\\\\-"}', 'up{job=~"\\\\é"}', 'up{job=~"\\\\"}',
           'up{job=~"\\\\a\\\\f\\\\t\\\\n\\\\r\\\\v"}', 'up{job=~"\\\\b"}',
           'up{job=~"(?P<name>a)"}', 'up{job=~"(?P<n>a)(?P<n>b)"}',
           'up{job=~"(?P<>a)"}', 'up{job=~"(?P<a-b>a)"}', 'up{job=~"(?P<name"}',
           'up{job=~"(?P=name)"}', 'up{job=~"(?<name>a)"}', 'up{job=~"(?:a)"}',
           'up{job=~"(?i:a)"}', 'up{job=~"(?ims-U:a)"}', 'up{job=~"(?-i)"}',
           'up{job=~"(?-)"}', 'up{job=~"(?i-)"}', 'up{job=~"(?--i)"}',
           'up{job=~"(?x)"}', 'up{job=~"(?=a)"}', 'up{job=~"(?!a)"}',
           'up{job=~"(?<=a)"}', 'up{job=~"(?"}', 'up{job=~"(?i"}',
           'up{job=~"a|b|c"}', 'up{job=~"|"}', 'up{job!~"a|"}', 'up{job=~".?"}',
           'up{job=~"\\xff"}', 'up{job=~"[\\\\x{10FFFF}]"}']
    return out


def modifier_cases():
    out = []
    for d in ["5m", "1h30m", "90s", "1w2d", "1y", "1y2w3d4h5m6s7ms", "5ms",
              "0s", "0", "5", "5M", "1.5m", "-1m", "30m1h", "1d1y", "5h5h",
              "1hs", "m", "5x", "5mx", "300y", "292y", "10000000000000000000s",
              "9223372036s", "2562047h", "2562048h", "1e3s", "0x5m", "05m"]:
        out += ["up[%s]" % d, "up offset %s" % d, "up[5m:%s]" % d,
                "up[%s:]" % d, "rate(up[%s])" % d]
    out += ["up[ 5m ]", "up[5m : 1m]", "up [5m]", "up[5m][5m]", "up[5m:][5m]",
            "up[5m:1m][5m:1m]", "rate(up[5m])[5m:]", "rate(up[5m])[5m:1m]",
            "sum(up)[5m:]", "(up)[5m]", "(up)[5m:]", "1[5m:]", "\"a\"[5m:]",
            "up[5m:1m:1m]", "up[5m x]", "up[5m:x]", "up[5m::]", "up[[5m]]",
            "up]", "up[5m", "up[]", "up[:]", "up[5m:1m] offset 1m",
            "up offset 5m[5m]", "up @ 5 [5m]", "up[5m] offset 5m",
            "up[5m] @ 5", "up[5m] @ 5 offset 5m", "up[5m] offset 5m @ 5",
            "up offset 5m offset 5m", "up offset -5m", "up offset - 5m",
            "up offset +5m", "up offset", "up offset 5", "offset 5m",
            "up offset 5m @ 5", "up @ 5 offset 5m", "up @ 5 @ 5",
            "up @ start() @ end()", "up @ start()", "up @ end()",
            "up @ start", "up @ start(1)", "up @ foo()", "up @ -5",
            "up @ +5", "up @ - 5", "up @ --5", "up @ 1.5", "up @ 1e3",
            "up @ 0x10", "up @ Inf", "up @ -Inf", "up @ NaN", "up @ 1e30",
            "up @ 9223372036854775807", "up @ 9223372036854774", "up @",
            "up @ \"1\"", "up @ up", "sum(up) @ 5", "sum(up @ 5)",
            "rate(up[5m] @ 5)", "rate(up[5m]) @ 5", "(up) @ 5",
            "(up) offset 5m", "1 offset 5m", "1 @ 5", "-up offset 5m",
            "up[5m:] @ end() offset -1m", "up @ end() [5m:]",
            "up[5m:1m] @ 5 @ 6", "up[5m] offset 5m [5m:]", "up offset 5m @ 5 offset 1m",
            "rate((up[5m]))", "rate(((up[5m])))", "rate((up)[5m:])",
            "up[1h] offset 1d", "up[5m:]offset 1m", "up[5m]offset 1m",
            "up OFFSET 5m", "up Offset 5m"]
    return out


def literal_cases():
    return ["1", "1.5", ".5", "5.", "1e3", "1E3", "1e-3", "1e+3", "1e",
            "1e+", "0x1f", "0X1F", "0x", "0x1.8", "0xg", "010", "08", "0",
            "00", "007", "1_000", "1.2.3", "1..2", "Inf", "inf", "+Inf",
            "-Inf", "NaN", "nan", "-NaN", "INF", "Infinity", "1e999",
            "-1e999", "1e-999", "0x7fffffffffffffff", "0x8000000000000000",
            "0xffffffffffffffffffff", "99999999999999999999",
            "9223372036854775807", "9223372036854775808", "1e308", "1.8e308",
            "4.9e-324", "-0", "0.0", "5m", "1h", '"a"', "'a'", "`a`", '"a',
            "'a", "`a", '"a\\tb"', '"\\a\\b\\f\\n\\r\\t\\v\\\\"', '"\\x41"',
            '"\\101"', '"\\u0041"', '"\\U00000041"', '"\\e"', '"a\nb"',
            "`a\nb`", "'\\''", "'\"'", '"\'"', '"\\\'"', "'\\\"'", '"�"',
            "`�`", '"\\ufffd"', "\"a\" \"b\"", "1 2", "up up", "", " ",
            "\t", "\n", "#", "# c", "up\n", "\nup\n", "up;", "up,", ",",
            "~", "!", "!up", "up != 1", "up !~ 1", "up =~ 1", "up = 1",
            "up == 1", "$", "up$", "{", "}", "up}", "@", "[", "]", "up\\",
            "é", "upé", "up{é=\"a\"}", "\x01"]


def expression_cases():
    cases = (function_cases() + aggregation_cases() + binary_cases() +
             selector_cases() + modifier_cases() + literal_cases())
    cases += [
        # From the documentation of our users.
        "sum by (org, workflow) (avg_over_time(chainloop_workflow_up[30m])) == 0",
        'rate(attest_pipeline_executions_total{status="failure"}[5m]) > 0.1',
        "rate(attest_cache_hits_total[5m]) / (rate(attest_cache_hits_total[5m])"
        " + rate(attest_cache_misses_total[5m])) < 0.5",
        "time() - ci_workflow_last_success_timestamp_seconds > 25 * 3600",
        'sum by (workflow) (increase(ci_workflow_runs_total{status="failure"}[1h]))'
        " / sum by (workflow) (increase(ci_workflow_runs_total[1h])) > 0.2",
        'histogram_quantile(0.95, sum by (le, workflow) '
        '(rate(ci_workflow_run_duration_seconds_bucket[1h])))',
        'label_replace(up, "dst", "$1", "job", "(.*)")',
        'label_replace(up, "dst", "$1", "job", "(.*")',
        'label_replace(up, "1dst", "$1", "job", "(.*)")',
        'label_join(up, "dst", ",", "a", "b")',
        'count_values("v", up) > 1', 'absent(nonexistent{job="x"})',
        'sort_desc(topk(5, sum by (job) (rate(up[5m]))))',
        'max_over_time(deriv(rate(up[1m])[5m:1m])[10m:])',
        'predict_linear(up[1h], 3600) < 0', 'holt_winters(up[1h], 0.5, 0.5)',
        'quantile_over_time(0.5, up[5m])', 'clamp(up, 0, 1)',
        "round(up, 0.5)", "vector(time()) - 1",
        'sum(rate(a[5m])) by (job) / ignoring(x) group_left sum(rate(b[5m])) by (job)',
    ]
    # Deterministic nesting and long expressions.
    cases.append("(" * 50 + "up" + ")" * 50)
    cases.append(" + ".join(["up"] * 200))
    cases.append("sum(" * 30 + "up" + ")" * 30)
    cases.append("-" * 40 + "1")
    seen = set()
    out = []
    for c in cases:
        if c not in seen:
            seen.add(c)
            out.append(c)
    return out


def yaml_str(s):
    # JSON strings are YAML double-quoted scalars.
    return json.dumps(s, ensure_ascii=False)


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def expr_file(expr):
    return ("groups:\n- name: g\n  rules:\n  - record: r\n    expr: %s\n"
            % yaml_str(expr))


def alert(extra="", expr="up == 0", name="A"):
    return ("groups:\n- name: g\n  rules:\n  - alert: %s\n    expr: %s\n%s"
            % (name, yaml_str(expr), extra))


TEMPLATES = [
    "{{ $labels.x }}", "{{ $value }}", "{{ $externalLabels.a }}",
    "{{ $externalURL }}", "{{ $foo }}", "{{ .Labels.x }}", "{{", "{{ }}",
    "{{end}}", "{{if 1}}a", "{{if 1}}a{{else}}b{{end}}",
    "{{if 1}}{{else if 2}}{{end}}", "{{range $i, $e := .}}{{$i}}{{end}}",
    "{{range .}}{{break}}{{continue}}{{end}}", "{{break}}", "{{continue}}",
    "{{with .}}{{else with .}}{{end}}", "{{with .}}{{else}}{{end}}",
    "{{range .}}{{else if 1}}{{end}}",
    '{{define "x"}}{{$labels}}{{end}}', '{{define "x"}}a{{end}}{{template "x" .}}',
    '{{define "x"}}a{{end}}{{define "x"}}b{{end}}',
    '{{define "x"}}a{{end}}{{define "x"}} {{end}}', '{{define x}}{{end}}',
    '{{if 1}}{{define "x"}}{{end}}{{end}}', "{{/* c */}}", "{{/* c */ }}",
    "{{- /* c */ -}}", "{{/* c", "{{ 1 | printf \"%d\" }}", '{{ "a" | 1 }}',
    "{{ $x := 1 }}{{ $x }}", "{{ $x = 1 }}", "{{ .a.b.c }}",
    "{{ $labels.foo-bar }}", "{{ 1e }}", "{{ 0x1p3 }}", "{{ 1_000 }}",
    "{{ 1__0 }}", "{{ 08 }}", "{{ 0b101 }}", "{{ 0o17 }}", "{{ 1.5e3 }}",
    "{{ 99999999999999999999 }}", "{{ -99999999999999999999 }}", "{{ 1e400 }}",
    "{{ 'a' }}", "{{ 'ab' }}", "{{ '\\n' }}", '{{ "\\q" }}', "{{ (1) }}",
    "{{ (1).x }}", '{{ "a".x }}', "{{ nil }}", "{{ true }}", "{{ foo }}",
    "{{ .X | len }}", "{{ humanize $value }}", '{{ template "x" }}',
    '{{ block "b" . }}x{{ end }}', '{{ block "b" }}x{{ end }}', "{{ $ }}",
    "{{ $.x }}", "{{ 3+4i }}", "{{ -3 }}", "{{ . x }}", "{{ ( }}", "{{ ) }}",
    '{{ printf "%s" ("a") }}', "{{ if }}{{ end }}",
    "{{ range $a, $b, $c := . }}{{end}}", "{{ $a, $b := . }}",
    '{{"a"}}{{"b"', "{{ `raw` }}", '{{ "unterminated }}', "plain {{{ x }}",
    "{{- $labels.a -}}", "{{$labels.a-}}", "{{ $labels.a}}}}", "}}",
    "{{ humanizeDuration $value }} {{ humanizePercentage 0.5 }}",
    '{{ reReplaceAll "a" "b" $labels.x }}', "{{ toUpper .Value }}",
    "{{ query \"up\" | first | value }}", '{{ parseDuration "1m" }}',
    "{{ stripPort $externalURL }}", "{{ safeUrl 1 }}", "{{ now }}",
    "{{ and 1 2 | not }}", "{{ index $labels \"x\" }}", "{{ slice \"abc\" 1 }}",
    "{{ $labels.x | printf \"%q\" }}", "{{ .Labels.x.y }}", "{{ $labels. }}",
    "{{ $labels.x. }}", "{{ .. }}", "{{ $$ }}", "{{ $x }}{{ $x := 1 }}",
    "{{ if $x := 1 }}{{ $x }}{{ end }}{{ $x }}", "{{ with $x := 1 }}{{ end }}",
    "{{ range $i := . }}{{ $i }}{{ end }}", "{{ 1 }} {{ 2",
    "{{ printf \"%d\" 1 2 3 }}", "{{ \"a\" \"b\" }}", "{{ | }}",
    "{{ 1 | }}", "{{ := }}", "{{ $x := }}", "{{ $x: = 1 }}",
    "{{ % }}", "{{ # }}", "{{\t$labels.x\n}}", "{{\n}}", "{{ \x01 }}",
    "{{ é }}", "{{ $é := 1 }}{{ $é }}", "text only", "", "{{- -}}",
    "{{ -}}", "{{- }}", "{{ 1 -}}", "{{-1}}", "{{ -1 }}",
]


def file_cases():
    c = {}
    c["empty"] = ""
    c["null-doc"] = "~\n"
    c["scalar-doc"] = "foo\n"
    c["list-doc"] = "- a\n"
    c["groups-null"] = "groups: ~\n"
    c["groups-empty"] = "groups: []\n"
    c["groups-map"] = "groups: {name: g}\n"
    c["groups-scalar"] = "groups: g\n"
    c["group-null-item"] = "groups:\n- ~\n"
    c["group-empty-map"] = "groups:\n- {}\n"
    c["group-scalar"] = "groups:\n- g\n"
    c["group-no-name"] = "groups:\n- rules: []\n"
    c["group-name-null"] = "groups:\n- name: ~\n  rules: []\n"
    c["group-name-empty"] = "groups:\n- name: \"\"\n  rules: []\n"
    c["group-name-number"] = "groups:\n- name: 5\n  rules: []\n"
    c["group-name-list"] = "groups:\n- name: [g]\n  rules: []\n"
    c["group-repeated"] = "groups:\n- name: g\n- name: g\n"
    c["group-repeated-3"] = "groups:\n- name: g\n- name: h\n- name: g\n"
    # Names are compared whole, NULs included, as Go compares strings.
    c["group-names-differ-after-nul"] = \
        "groups:\n- name: \"a\\0b\"\n- name: \"a\\0c\"\n"
    c["group-repeated-with-nul"] = \
        "groups:\n- name: \"a\\0b\"\n- name: \"a\\0b\"\n"
    c["group-unknown-field"] = "groups:\n- name: g\n  rule: []\n"
    c["top-unknown-field"] = "group:\n- name: g\n"
    c["top-extra-field"] = "groups: []\nextra: 1\n"
    c["top-repeated-key"] = "groups: []\ngroups: []\n"
    c["rules-null"] = "groups:\n- name: g\n  rules: ~\n"
    c["rules-map"] = "groups:\n- name: g\n  rules: {record: r}\n"
    c["rule-null-item"] = "groups:\n- name: g\n  rules:\n  - ~\n"
    c["rule-scalar"] = "groups:\n- name: g\n  rules:\n  - r\n"
    c["rule-empty-map"] = "groups:\n- name: g\n  rules:\n  - {}\n"
    for d in ["0", "0s", "90s", "1h30m", "1w2d", "1y", "5", "5M", "1.5m",
              "-1m", "30m1h", "\"\"", "~", "300y", "292y", "5ms", "1d1h1m1s1ms",
              "[5m]", "{a: 1}", "5m ", "' 5m'", "5 m", "1h1h"]:
        c["interval-" + d] = "groups:\n- name: g\n  interval: %s\n  rules: []\n" % d
        c["for-" + d] = alert("    for: %s\n" % d)
        c["keep-firing-for-" + d] = alert("    keep_firing_for: %s\n" % d)
        c["record-for-" + d] = ("groups:\n- name: g\n  rules:\n  - record: r\n"
                                "    expr: up\n    for: %s\n" % d)
    for lim in ["0", "5", "-1", "1.0", "1.5", "\"1\"", "~", "x", "0x10", "true",
                "1e3", "[1]", "08", "99999999999999999999"]:
        c["limit-" + lim] = "groups:\n- name: g\n  limit: %s\n  rules: []\n" % lim
    rule = "groups:\n- name: g\n  rules:\n  - "
    c["record-and-alert"] = rule + "record: r\n    alert: a\n    expr: up\n"
    c["neither"] = rule + "expr: up\n"
    c["no-expr-record"] = rule + "record: r\n"
    c["no-expr-alert"] = rule + "alert: a\n"
    c["expr-empty"] = rule + "record: r\n    expr: \"\"\n"
    c["expr-null"] = rule + "record: r\n    expr: ~\n"
    c["expr-map"] = rule + "record: r\n    expr: {a: b}\n"
    c["expr-list"] = rule + "record: r\n    expr: [up]\n"
    c["expr-number"] = rule + "record: r\n    expr: 5\n"
    c["expr-bool"] = rule + "record: r\n    expr: true\n"
    c["expr-block"] = rule + "record: r\n    expr: |\n      sum by (job) (\n        rate(up[5m])\n      )\n"
    c["expr-block-bad"] = rule + "record: r\n    expr: |\n      sum by (job) (\n        rate(up[5m]\n      )\n"
    c["expr-folded"] = rule + "record: r\n    expr: >\n      sum(\n      up)\n"
    c["expr-multiline-plain"] = rule + "record: r\n    expr: sum(\n      up)\n"
    c["expr-single-quoted"] = rule + "record: r\n    expr: 'up{job=\"a\"}'\n"
    c["expr-spaces-only"] = rule + "record: r\n    expr: \"   \"\n"
    c["record-null"] = rule + "record: ~\n    expr: up\n"
    c["record-empty"] = rule + "record: \"\"\n    expr: up\n"
    c["record-list"] = rule + "record: [r]\n    expr: up\n"
    c["alert-null"] = rule + "alert: null\n    expr: up\n"
    c["alert-list"] = rule + "alert: [a]\n    expr: up\n"
    for name in ["job:up:sum", "r", "_r", ":r", "1r", "r-1", "r.1", "r r",
                 "é", "R", "r:"]:
        c["record-name-" + name] = rule + "record: %s\n    expr: up\n" % yaml_str(name)
        c["alert-name-" + name] = rule + "alert: %s\n    expr: up\n" % yaml_str(name)
    c["record-annotations"] = rule + "record: r\n    expr: up\n    annotations:\n      a: b\n"
    c["record-annotations-empty"] = rule + "record: r\n    expr: up\n    annotations: {}\n"
    c["record-labels"] = rule + "record: r\n    expr: up\n    labels:\n      a: b\n"
    c["record-label-template"] = rule + "record: r\n    expr: up\n    labels:\n      a: \"{{ $foo }}\"\n"
    c["rule-unknown-field"] = rule + "record: r\n    expr: up\n    severity: x\n"
    c["rule-repeated-key"] = rule + "alert: a\n    alert: b\n    expr: up\n"
    for lname in ["a", "_a", "a1", "1a", "a-b", "a.b", "__name__", "__a",
                  "é", "A", "a b", ""]:
        key = yaml_str(lname)
        c["label-name-" + (lname or "empty")] = alert("    labels:\n      %s: x\n" % key)
        c["annotation-name-" + (lname or "empty")] = alert("    annotations:\n      %s: x\n" % key)
    c["labels-null"] = alert("    labels: ~\n")
    c["labels-list"] = alert("    labels: [a]\n")
    c["labels-scalar"] = alert("    labels: a\n")
    c["label-value-list"] = alert("    labels:\n      a: [1]\n")
    c["label-value-map"] = alert("    labels:\n      a: {b: c}\n")
    c["label-value-null"] = alert("    labels:\n      a: ~\n")
    c["label-value-number"] = alert("    labels:\n      a: 5\n")
    c["label-repeated"] = alert("    labels:\n      a: x\n      a: y\n")
    c["label-key-number"] = alert("    labels:\n      5: x\n")
    c["annotations-list"] = alert("    annotations: [a]\n")
    for i, t in enumerate(TEMPLATES):
        c["template-label-%03d" % i] = alert("    labels:\n      t: %s\n" % yaml_str(t))
        c["template-annotation-%03d" % i] = alert("    annotations:\n      t: %s\n" % yaml_str(t))
    c["duplicate-records"] = ("groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n"
                              "  - record: r\n    expr: up\n")
    c["duplicate-across-groups"] = ("groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n"
                                    "- name: h\n  rules:\n  - alert: a\n    expr: up\n")
    c["duplicate-other-labels"] = ("groups:\n- name: g\n  rules:\n  - alert: a\n    expr: up\n"
                                   "    labels: {s: x}\n  - alert: a\n    expr: up\n    labels: {s: y}\n")
    c["anchors"] = ("groups:\n- name: g\n  rules:\n  - &r {record: r, expr: up}\n  - *r\n")
    c["merge-key"] = ("groups:\n- name: g\n  rules:\n  - <<: {record: r}\n    expr: up\n")
    c["merge-key-list"] = ("groups:\n- name: g\n  rules:\n  - <<: [{record: r}, {expr: up}]\n")
    c["merge-key-override"] = ("groups:\n- name: g\n  rules:\n  - <<: {record: 1r}\n    record: r\n    expr: up\n")
    c["merge-key-unknown"] = ("groups:\n- name: g\n  rules:\n  - <<: {foo: r}\n    record: r\n    expr: up\n")
    c["two-documents"] = ("groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n---\nfoo: bar\n")
    c["two-documents-bad-second"] = ("groups: []\n---\ngroups:\n- name: g\n  rules:\n  - record: 1\n    expr: up\n")
    c["doc-start"] = "---\ngroups: []\n"
    c["yaml-tab-indent"] = "groups:\n\t- name: g\n"
    c["yaml-bad-indent"] = "groups:\n- name: g\n   rules: []\n"
    c["yaml-unclosed-quote"] = "groups:\n- name: \"g\n"
    c["yaml-unclosed-flow"] = "groups: [\n"
    c["yaml-colon-in-plain"] = "groups:\n- name: a: b\n"
    c["yaml-bad-escape"] = "groups:\n- name: \"\\q\"\n"
    c["yaml-surrogate-escape"] = "groups:\n- name: \"\\ud800\"\n"
    c["yaml-undefined-alias"] = "groups: *x\n"
    c["yaml-comment-only"] = "# nothing\n"
    c["yaml-directive"] = "%YAML 1.2\n---\ngroups: []\n"
    c["yaml-bom"] = "\ufeffgroups: []\n"
    c["yaml-crlf"] = "groups:\r\n- name: g\r\n  rules: []\r\n"
    c["yaml-key-list"] = "? [a]\n: b\n"
    c["yaml-tagged-str"] = "groups:\n- name: !!str 5\n  rules: []\n"
    c["many-rules"] = "groups:\n- name: g\n  rules:\n" + "".join(
        "  - record: r%d\n    expr: sum by (job) (rate(up{i=\"%d\"}[5m]))\n" % (i, i)
        for i in range(200))
    c["docs-chainloop"] = open(os.path.join(ROOT, "..", "..", "examples",
                                            "rules", "chainloop.yml")).read()
    c["docs-attest"] = open(os.path.join(ROOT, "..", "..", "examples",
                                         "rules", "attest.yml")).read()
    c["docs-native"] = open(os.path.join(ROOT, "..", "..", "examples",
                                         "rules", "native.yml")).read()
    return c


def manifest_cases():
    head = ("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\n"
            "metadata:\n  name: promrun\n  labels:\n    release: prometheus\n"
            "spec:\n")
    specs = {
        "valid": "  groups:\n  - name: g\n    rules:\n    - alert: A\n"
                 "      expr: up == 0\n      for: 5m\n",
        "bad-expr": "  groups:\n  - name: g\n    rules:\n    - record: r\n"
                    "      expr: sum(up\n",
        "bad-duration": "  groups:\n  - name: g\n    rules:\n    - alert: A\n"
                        "      expr: up == 0\n      for: 5\n",
        "unknown-field": "  groups:\n  - name: g\n    rules:\n    - alert: A\n"
                         "      expr: up == 0\n      severity: x\n",
        "empty-group-name": "  groups:\n  - name: \"\"\n    rules: []\n",
        "template": "  groups:\n  - name: g\n    rules:\n    - alert: A\n"
                    "      expr: up == 0\n      annotations:\n"
                    "        s: \"{{ $labels.job \"\n",
        "record-for": "  groups:\n  - name: g\n    rules:\n    - record: r\n"
                      "      expr: up\n      for: 5m\n",
        "groups-null": "  groups: ~\n",
    }
    out = {}
    for name, spec in specs.items():
        out[name] = (head + spec, dedent(spec))
    # Several manifests in one file, and another kind in between; the
    # plain file holds the groups of both manifests.
    out["multi"] = (head + specs["valid"] + "---\napiVersion: v1\n"
                    "kind: ConfigMap\ndata:\n  a: b\n---\n" + head +
                    specs["bad-expr"].replace("name: g", "name: h"),
                    dedent(specs["valid"]) + dedent(specs["bad-expr"])
                    .replace("groups:\n", "", 1).replace("name: g", "name: h"))
    return out


def dedent(spec):
    return "".join(line[2:] + "\n" for line in spec.splitlines())


def main():
    seeds = os.path.join(ROOT, "..", "fuzz", "corpus", "promql")
    os.makedirs(seeds, exist_ok=True)
    for i, e in enumerate(expression_cases()):
        # The fuzz target's seeds: every expression, raw.
        with open(os.path.join(seeds, "seed-%04d" % i), "wb") as f:
            f.write(e.encode("utf-8"))
    corpus = os.path.join(ROOT, "corpus")
    manifest = os.path.join(ROOT, "manifest")
    for d in (corpus, manifest):
        if os.path.isdir(d):
            shutil.rmtree(d)
    os.makedirs(os.path.join(corpus, "expr"))
    os.makedirs(os.path.join(corpus, "file"))
    os.makedirs(manifest)
    for i, e in enumerate(expression_cases()):
        write(os.path.join(corpus, "expr", "%04d.yml" % i), expr_file(e))
    for name, text in sorted(file_cases().items()):
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
        write(os.path.join(corpus, "file", safe + ".yml"), text)
    for name, (text, plain) in sorted(manifest_cases().items()):
        write(os.path.join(manifest, name + ".yml"), text)
        write(os.path.join(manifest, name + ".plain"), plain)


if __name__ == "__main__":
    main()
