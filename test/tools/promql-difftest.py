#!/usr/bin/python3
"""promql-difftest - differential test of promrun-rules' evaluator against
Debian's promtool 2.42: random unit-test files, run by both, compared.

usage: promql-difftest.py -r PROMRUN_RULES [-s SEED] [-n SEEDS] [-g GROUPS]
                          [-e EXPRS] [-d DIR] [-q]

Writes GROUPS test groups (random input series in the expanding notation)
of EXPRS expressions each (random, from a grammar that covers every
function, operator, modifier and aggregation of PromQL), each expecting
nothing, so both tools print what they got (promtool's "got:" values with
full precision).  Then compares, per expression: both fail with an error,
both give no samples, or both give the same samples (labels exactly, values
within a relative tolerance of 1e-9, NaN equal to NaN).  A second file
holds alerting and recording rules with random expressions, checked the
same way through their alerts.

topk and bottomk choose among equal values by series order, and promtool's
test loader creates series in Go's random map order: where an expression
holds them, the samples' values are compared without their labels (counted
as "agree up to ties").  promtool runs three times; an expression whose
result varies between those runs is counted apart, not compared.

Prints one line per disagreement and a summary line
"difftest: N expressions and A alert checks, D disagree, ..."; exit 0 when
all agree, 1 otherwise, 2 on a usage error.  Seeds SEED to SEED+SEEDS-1 are
run; the same seed gives the same files.
"""
import argparse
import math
import os
import random
import re
import subprocess
import sys
import tempfile

import yaml

NAMES = ["a", "b", "c"]
JOBS = ["x", "y"]
INSTS = ["1", "2", "3"]

RANGE_FUNCS = ["rate", "increase", "delta", "irate", "idelta", "deriv",
               "changes", "resets", "avg_over_time", "min_over_time",
               "max_over_time", "sum_over_time", "count_over_time",
               "last_over_time", "present_over_time", "stddev_over_time",
               "stdvar_over_time", "absent_over_time"]
VECTOR_FUNCS = ["abs", "ceil", "floor", "exp", "sqrt", "ln", "log2",
                "log10", "sin", "cos", "tan", "asin", "acos", "atan",
                "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "deg",
                "rad", "sgn", "sort", "sort_desc", "timestamp", "absent",
                "day_of_month", "day_of_week", "day_of_year",
                "days_in_month", "hour", "minute", "month", "year",
                "histogram_count", "histogram_sum"]
AGGS = ["sum", "avg", "min", "max", "count", "group", "stddev", "stdvar"]
ARITH = ["+", "-", "*", "/", "%", "^", "atan2"]
COMP = ["==", "!=", ">", "<", ">=", "<="]
SETOPS = ["and", "or", "unless"]


def values(rng):
    """A random value list in the series notation."""
    kind = rng.randrange(8)
    n = rng.randrange(4, 22)
    if kind == 0:
        return "%d+%dx%d" % (rng.randrange(-5, 10), rng.randrange(0, 5), n)
    if kind == 1:
        return "%d-%dx%d" % (rng.randrange(0, 50), rng.randrange(0, 3), n)
    if kind == 2:  # a counter with a reset
        k = rng.randrange(2, n)
        return "%d+%dx%d %d+%dx%d" % (rng.randrange(0, 5), rng.randrange(1, 9),
                                      k, rng.randrange(0, 3),
                                      rng.randrange(1, 9), n - k)
    if kind == 3:
        return "%s %s" % (rng.choice(["1", "0.5", "-2", "1e3"]),
                          " ".join(rng.choice(["1", "2", "_", "stale", "3",
                                               "0", "-1", "0.25", "7"])
                                   for _ in range(n)))
    if kind == 4:
        return " ".join(rng.choice(["NaN", "Inf", "-Inf", "1", "2", "_", "0"])
                        for _ in range(n))
    if kind == 5:
        return "_x%d %d+1x%d" % (rng.randrange(1, 8), rng.randrange(0, 9), n)
    if kind == 6:
        return "%d+%sx%d" % (rng.randrange(0, 4),
                             rng.choice(["0.1", "0.3", "1.5", "1e-3"]), n)
    return "%dx%d stale %d" % (rng.randrange(0, 9), n, rng.randrange(0, 9))


def series(rng):
    out = []
    for name in NAMES:
        for _ in range(rng.randrange(1, 4)):
            labels = ['job="%s"' % rng.choice(JOBS),
                      'inst="%s"' % rng.choice(INSTS)]
            if rng.random() < 0.2:
                labels.append('le="%s"' % rng.choice(["0.1", "1", "+Inf", "5"]))
            out.append({"series": "%s{%s}" % (name, ",".join(labels)),
                        "values": values(rng)})
    # Histogram buckets for histogram_quantile.
    for le, v in (("0.5", "1+1x20"), ("1", "2+2x20"), ("+Inf", "3+3x20")):
        out.append({"series": 'h_bucket{job="x",le="%s"}' % le, "values": v})
    return out


class Gen:
    def __init__(self, rng):
        self.rng = rng

    def dur(self):
        return self.rng.choice(["1m", "2m", "3m", "5m", "10m", "90s", "4m30s"])

    def modifiers(self):
        r = self.rng.random()
        if r < 0.12:
            return " offset %s" % self.rng.choice(["1m", "2m", "-1m", "5m"])
        if r < 0.2:
            return " @ %d" % self.rng.choice([0, 60, 120, 300, 600])
        if r < 0.24:
            return " @ %s()" % self.rng.choice(["start", "end"])
        return ""

    def selector(self):
        rng = self.rng
        name = rng.choice(NAMES + ["a", "b"])
        ms = []
        if rng.random() < 0.5:
            lab = rng.choice(["job", "inst"])
            op = rng.choice(["=", "!=", "=~", "!~"])
            val = rng.choice(JOBS + INSTS) if op in ("=", "!=") else \
                rng.choice(["x|y", "1|2", ".*", "x.*", "[12]", "y?"])
            ms.append('%s%s"%s"' % (lab, op, val))
        if rng.random() < 0.05:
            return '{__name__=~"a|b"%s}' % ("," + ms[0] if ms else "")
        return name + ("{%s}" % ",".join(ms) if ms else "")

    def scalar(self, d):
        rng = self.rng
        r = rng.random()
        if d <= 0 or r < 0.4:
            return rng.choice(["1", "2", "0", "-1", "0.5", "3", "NaN", "Inf",
                               "-Inf", "100"])
        if r < 0.55:
            return "scalar(%s)" % self.vector(d - 1)
        if r < 0.65:
            return rng.choice(["time()", "pi()"])
        if r < 0.8:
            return "%s %s %s" % (self.scalar(d - 1), rng.choice(ARITH),
                                 self.scalar(d - 1))
        if r < 0.9:
            return "%s %s bool %s" % (self.scalar(d - 1), rng.choice(COMP),
                                      self.scalar(d - 1))
        return "(%s)" % self.scalar(d - 1)

    def matrix(self, d):
        if d > 0 and self.rng.random() < 0.2:
            step = self.rng.choice(["", "1m", "30s", "2m"])
            return "(%s)[%s:%s]%s" % (self.vector(d - 1), self.dur(), step,
                                       self.modifiers())
        return "%s[%s]%s" % (self.selector(), self.dur(), self.modifiers())

    def matching(self):
        rng = self.rng
        r = rng.random()
        if r < 0.5:
            return ""
        kw = rng.choice(["on", "ignoring"])
        labels = rng.choice(["", "job", "inst", "job, inst"])
        s = " %s(%s)" % (kw, labels)
        if rng.random() < 0.3:
            s += " %s(%s)" % (rng.choice(["group_left", "group_right"]),
                              rng.choice(["", "job", "inst"]))
        return s

    def vector(self, d):
        rng = self.rng
        r = rng.random()
        if d <= 0 or r < 0.2:
            return self.selector() + self.modifiers()
        if r < 0.35:
            f = rng.choice(RANGE_FUNCS)
            return "%s(%s)" % (f, self.matrix(d - 1))
        if r < 0.45:
            f = rng.choice(VECTOR_FUNCS)
            return "%s(%s)" % (f, self.vector(d - 1))
        if r < 0.52:
            c = rng.randrange(9)
            v = self.vector(d - 1)
            if c == 0:
                return "clamp(%s, %s, %s)" % (v, self.scalar(0), self.scalar(0))
            if c == 1:
                return "clamp_min(%s, %s)" % (v, self.scalar(0))
            if c == 2:
                return "clamp_max(%s, %s)" % (v, self.scalar(0))
            if c == 3:
                return "round(%s, %s)" % (v, rng.choice(["1", "0.5", "3"]))
            if c == 4:
                return 'label_replace(%s, "%s", "%s", "%s", "%s")' % (
                    v, rng.choice(["dst", "job", "__name__"]),
                    rng.choice(["$1", "z$1", "${1}x", "$2", ""]),
                    rng.choice(["job", "inst", "__name__"]),
                    rng.choice(["(.*)", "(x)", "([a-z])(.*)", "y"]))
            if c == 5:
                return 'label_join(%s, "j", "%s", "job", "inst")' % (
                    v, rng.choice(["-", "", ","]))
            if c == 6:
                return "predict_linear(%s, %s)" % (self.matrix(d - 1),
                                                   rng.choice(["60", "0", "-30"]))
            if c == 7:
                return "holt_winters(%s, %s, %s)" % (
                    self.matrix(d - 1), rng.choice(["0.5", "0.1", "0.9"]),
                    rng.choice(["0.5", "0.3", "0.8"]))
            return "quantile_over_time(%s, %s)" % (
                rng.choice(["0.5", "0.9", "0", "1", "-1", "2"]),
                self.matrix(d - 1))
        if r < 0.55:
            return "histogram_quantile(%s, %s)" % (
                rng.choice(["0.5", "0.9", "0", "1", "2", "NaN"]),
                rng.choice(["h_bucket", "rate(h_bucket[5m])",
                            "sum by (le) (h_bucket)"]))
        if r < 0.58:
            return "vector(%s)" % self.scalar(d - 1)
        if r < 0.72:
            agg = rng.choice(AGGS + ["topk", "bottomk", "quantile",
                                     "count_values"])
            grouping = rng.choice(["", " by (job)", " without (inst)",
                                   " by ()", " by (job, inst)"])
            if agg in ("topk", "bottomk"):
                param = rng.choice(["1", "2", "0", "5"]) + ", "
            elif agg == "quantile":
                param = rng.choice(["0.5", "0.9", "0", "1"]) + ", "
            elif agg == "count_values":
                param = '"v", '
            else:
                param = ""
            return "%s%s(%s%s)" % (agg, grouping, param, self.vector(d - 1))
        if r < 0.82:
            op = rng.choice(ARITH)
            if rng.random() < 0.5:
                return "%s %s %s" % (self.vector(d - 1), op, self.scalar(d - 1))
            return "%s %s%s %s" % (self.vector(d - 1), op, self.matching(),
                                   self.vector(d - 1))
        if r < 0.9:
            op = rng.choice(COMP)
            b = " bool" if rng.random() < 0.4 else ""
            if rng.random() < 0.5:
                return "%s %s%s %s" % (self.scalar(d - 1), op, b,
                                       self.vector(d - 1))
            return "%s %s%s%s %s" % (self.vector(d - 1), op, b,
                                     self.matching(), self.vector(d - 1))
        if r < 0.96:
            m = rng.choice(["", " on(job)", " ignoring(inst)", " on()"])
            return "%s %s%s %s" % (self.vector(d - 1), rng.choice(SETOPS), m,
                                   self.vector(d - 1))
        if r < 0.98:
            return "-%s" % self.vector(d - 1)
        return "(%s)" % self.vector(d - 1)

    def expr(self):
        r = self.rng.random()
        d = self.rng.randrange(1, 4)
        if r < 0.1:
            return self.scalar(d)
        return self.vector(d)


RULES = """groups:
- name: difftest
  rules:
%s
"""


def write_files(d, seed, ngroups, nexprs):
    rng = random.Random(seed)
    gen = Gen(rng)
    tests = []
    ident = 0
    for g in range(ngroups):
        exprs = []
        for _ in range(nexprs):
            ident += 1
            t = rng.choice(["0m", "1m", "3m", "5m", "7m", "10m", "12m30s",
                            "15m", "20m", "25m"])
            exprs.append({"expr": "%s # %d" % (gen.expr(), ident),
                          "eval_time": t,
                          "exp_samples": [{"labels": '{never="seen"}',
                                           "value": 0}]})
        tests.append({"interval": rng.choice(["1m", "1m", "30s", "2m"]),
                      "input_series": series(rng),
                      "promql_expr_test": exprs})
    path = os.path.join(d, "exprs.yml")
    with open(path, "w") as f:
        yaml.safe_dump({"evaluation_interval": "1m", "tests": tests}, f,
                       width=1000)
    # Rules: recording and alerting rules over random expressions, their
    # alerts checked at a few times.
    rules = []
    for i in range(max(4, ngroups)):
        e = gen.vector(2).replace("'", "")
        if i % 2:
            rules.append("  - record: rec_%d\n    expr: '%s'" % (i, e))
        else:
            rules.append(("  - alert: A%d\n    expr: '%s'\n    for: %s\n"
                          "    labels:\n      v: '{{ printf \"%%.6g\" $value }}'\n"
                          "    annotations:\n      s: '{{ $labels.job }} "
                          "{{ humanize $value }}'") %
                         (i, e, rng.choice(["0s", "1m", "2m", "5m"])))
    with open(os.path.join(d, "rules.yml"), "w") as f:
        f.write(RULES % "\n".join(rules))
    atests = []
    for g in range(max(2, ngroups // 4)):
        cases = []
        for i in range(0, max(4, ngroups), 2):
            for t in ("2m", "5m", "9m"):
                cases.append({"eval_time": t, "alertname": "A%d" % i,
                              "exp_alerts": [{"exp_labels": {"never": "seen"}}]})
        atests.append({"name": "g%d" % g, "interval": "1m",
                       "input_series": series(rng), "alert_rule_test": cases})
    with open(os.path.join(d, "alerts.yml"), "w") as f:
        yaml.safe_dump({"rule_files": ["rules.yml"], "tests": atests}, f,
                       width=1000)
    return [path, os.path.join(d, "alerts.yml")], ident


EXPR_RE = re.compile(r'^    expr: "(.*?) # (\d+)", time: ([^,]*),(.*)$')
ALERT_RE = re.compile(r'^    alertname: (\S+), time: ([^,]*), $')


def parse(text):
    """promtool's failure text -> {key: ('err', msg) | ('got', [...])}."""
    out = {}
    lines = text.splitlines()
    i = 0
    group = None
    while i < len(lines):
        line = lines[i]
        m = EXPR_RE.match(line)
        if m:
            key = "expr %s" % m.group(2)
            rest = m.group(4)
            if rest.startswith(" err: "):
                out[key] = ("err", rest[6:], m.group(1))
            else:
                got = lines[i + 2].strip()
                assert got.startswith("got: "), got
                out[key] = ("got", got[5:], m.group(1))
                i += 2
            i += 1
            continue
        if line.startswith("    name: "):
            group = line[10:].rstrip(",")
            i += 1
            continue
        m = ALERT_RE.match(line)
        if m:
            # exp:... then got:[...] up to the closing "]".
            j = i + 1
            while not lines[j].strip().startswith("got:"):
                j += 1
            got = [lines[j].strip()[4:]]
            if got[0] != "[]":
                j += 1
                while lines[j].strip() != "]":
                    got.append(lines[j].strip())
                    j += 1
                got.append("]")
            out["alert %s %s %s" % (group, m.group(1), m.group(2))] = \
                ("got", "\n".join(got), m.group(1))
            i = j + 1
            continue
        if line.startswith("    rule: "):
            # The message may name series in promtool's random order: the
            # rule and the time are the key.
            out["rule %s" % line.split(", err: ")[0]] = ("err", line, line)
        i += 1
    return out


SAMPLE_RE = re.compile(r'(\{[^{}]*\}) (\S+?)(?:, |$)')


def samples(s):
    if s == "nil":
        return []
    return [(m.group(1), float(m.group(2))) for m in SAMPLE_RE.finditer(s)]


def close(a, b):
    if math.isnan(a) and math.isnan(b):
        return True
    if a == b:
        return True
    if math.isinf(a) or math.isinf(b) or math.isnan(a) or math.isnan(b):
        return False
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def same(a, b, ties=False):
    if a[0] == "unstable" or b[0] == "unstable":
        return False
    if a[0] != b[0]:
        return False
    if a[0] == "err":
        return True
    if a[1].startswith("[") or b[1].startswith("["):
        return a[1] == b[1]
    sa, sb = samples(a[1]), samples(b[1])
    if len(sa) != len(sb):
        return False
    if ties:
        key = lambda v: (v != v, v)
        va, vb = sorted((x[1] for x in sa), key=key), \
            sorted((y[1] for y in sb), key=key)
        return all(close(x, y) for x, y in zip(va, vb))
    return all(x[0] == y[0] and close(x[1], y[1]) for x, y in zip(sa, sb))


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.stderr


def check(a, seed):
    d = os.path.join(a.dir, "seed-%d" % seed) if a.dir else \
        tempfile.mkdtemp(prefix="difftest.")
    os.makedirs(d, exist_ok=True)
    files, n = write_files(d, seed, a.groups, a.exprs)
    theirs = parse(run(["promtool", "test", "rules"] + files))
    again = parse(run(["promtool", "test", "rules"] + files))
    third = parse(run(["promtool", "test", "rules"] + files))
    for k, v in third.items():
        if k in again and not same(v, again[k]):
            again[k] = ("unstable", "", "")
    ours = parse(run([a.rules, "test"] + files))
    c = {"exprs": n, "alerts": 0, "disagree": 0, "unstable": 0, "ties": 0,
         "errors": 0}
    for k in sorted(set(theirs) | set(ours) | set(again)):
        t, t2, o = theirs.get(k), again.get(k), ours.get(k)
        c["alerts"] += k.startswith("alert ")
        if (t is None) != (t2 is None) or (t and not same(t, t2)):
            c["unstable"] += 1
            continue
        if t is None and o is None:
            continue
        if t is not None and o is not None and same(t, o):
            c["errors"] += t[0] == "err"
            continue
        what = (t or o)[2]
        if t is not None and o is not None and \
                re.search(r"\b(topk|bottomk)\b", what) and same(t, o, True):
            c["ties"] += 1
            continue
        c["disagree"] += 1
        if not a.quiet:
            print("DISAGREE seed %d %s: %s\n  promtool:      %s\n"
                  "  promrun-rules: %s" % (seed, k, what,
                  t[:2] if t else "pass", o[:2] if o else "pass"))
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-r", "--rules", required=True)
    ap.add_argument("-s", "--seed", type=int, default=1)
    ap.add_argument("-n", "--seeds", type=int, default=1)
    ap.add_argument("-g", "--groups", type=int, default=10)
    ap.add_argument("-e", "--exprs", type=int, default=20)
    ap.add_argument("-d", "--dir")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args()
    tot = {}
    for seed in range(a.seed, a.seed + a.seeds):
        for k, v in check(a, seed).items():
            tot[k] = tot.get(k, 0) + v
    print("difftest: %(exprs)d expressions and %(alerts)d alert checks, "
          "%(disagree)d disagree, %(ties)d agree up to ties in topk/bottomk, "
          "%(unstable)d vary between promtool runs, %(errors)d both errors"
          % tot)
    return 0 if tot["disagree"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
