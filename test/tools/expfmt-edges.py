#!/usr/bin/python3
"""expfmt-edges: a table of exposition-format edge cases (every spelling of
a float, overflow and underflow edges, hexadecimal, underscores, signs,
points and exponents, timestamps, and blanks wherever a line has them),
each row judged by promrun-push's validator and by the real Pushgateway.

usage: expfmt-edges.py --verdict PATH --gateway URL [--promtool all|ts]
                       [--python-client] [--list]

--verdict   test/tools/expfmt-verdict, built: promrun's verdicts, all rows
            in one process.
--gateway   a running prometheus-pushgateway: every row is PUT to one
            group; 200 (or 202) is accepted, 400 refused.
--promtool  also run `promtool check metrics` on every row (all) or on the
            timestamp rows (ts) and compare it with promrun's parser with
            timestamps allowed (promtool's parser is the gateway's, but it
            takes timestamps).  Exit status 1 means refused.
--python-client  also parse every row with python3-prometheus-client, for
            information only: its parser is more lenient by design.
--list      print every row with all verdicts.

Rows of the category "strict" are refused by promrun on purpose where the
gateway accepts them (a carriage return or a NUL byte in a label value or
a comment, one histogram bucket given twice); they are checked to stay
refused.  The gateway should hold no other group: its consistency check
compares a push with every group it has.  Every other row must get the
same verdict from promrun-push and the gateway (and, with --promtool, from
promrun's parser and promtool).  Prints a summary; exit 1 on any
disagreement, 2 on a usage or setup error."""
import argparse
import decimal
import http.client
import subprocess
import sys
import urllib.parse


def exact_halfway_above_max():
    """The decimal exactly halfway between the largest double and 2^1024:
    it rounds to even, which is 2^1024, so it overflows."""
    decimal.getcontext().prec = 400
    half = (decimal.Decimal(2) - decimal.Decimal(2) ** -53) * \
        decimal.Decimal(2) ** 1023
    return format(half, "f").rstrip("0").rstrip(".")


def float_spellings():
    special = [
        "Inf", "inf", "INF", "iNf", "+Inf", "-Inf", "+inf", "-inf", "+INF",
        "-INF", "Infinity", "infinity", "INFINITY", "+Infinity",
        "-Infinity", "-infinity", "+iNfInItY", "infinit", "infinityy",
        "infin", "in", "i", "+in", "++Inf", "+-Inf", "-+Inf", "--Inf",
        "Inf1", "1Inf", "Inf.", "NaN", "nan", "NAN", "nAn", "+NaN", "-NaN",
        "+nan", "-nan", "NaN1", "1NaN", "nan()", "nan(1)", "nan(0x1)",
        "NaNa", "NaN.", "na", "n", "snan", "qnan", "\u221e", "+\u221e",
    ]
    hexa = [
        "0x1", "0x1p0", "0x1p-2", "0X1P3", "0x1.8p1", "-0x1p0", "+0x1p0",
        "0x", "0x1e3", "0xAp0", "0x.8p1", "0x1P+3", "0x1_0p0", "1p3", "1P3",
        "0x1p", "0xp1", "0x0", "-0x0", "0x1.", "0xFFFFFFFFFFFFFFFF",
    ]
    underscores = [
        "1_000", "1_0.5", "1e1_0", "_1", "1_", "1__0", "0_1", "1.0_0",
        "+1_0", "1._5", "1_e5",
    ]
    decimals = [
        "0", "-0", "+0", "00", "007", "-007", "+007", "0.0", "-0.0", "1.",
        "-1.", "+1.", ".5", "-.5", "+.5", ".", "-.", "+.", "..5", "1.2.3",
        "1..2", "+1", "++1", "-+1", "+-1", "--1", "1+", "1-", "-", "+",
        "1e", "1e+", "1e-", "e5", "E5", ".e5", "1e5.5", "1ee5", "1e+-5",
        "1e--5", "1.e5", ".1e5", "-.1e-5", "1E5", "1E+05", "1e-05", "1e+5",
        "1e0", "1e-0", "1e+0", "1e00000000000000000000005",
        "123456789012345678901234567890",
        "0.1000000000000000055511151231257827",
        "3.14159265358979323846264338327950288", "1,5", "1;", "1\"",
        "0b1", "0o7", "1e5f", "1f", "1d", "1L", "1u", "true", "false",
        "one", "\u0661", "\uff11", "1\u00a0", "\u00a01", "$1", "1%",
        "12e", "1.5E-3", "-2.5e+10", "9" * 400, "0." + "0" * 400 + "1",
        "1" + "0" * 308, "1" + "0" * 309,
    ]
    edges = [
        "1.7976931348623157e308", "-1.7976931348623157e308",
        "1.7976931348623158e308", "1.7976931348623159e308",
        "-1.7976931348623159e308", "1.79769313486231570814527423731704e308",
        "17976931348623157" + "0" * 292, "17976931348623159" + "0" * 292,
        exact_halfway_above_max(), exact_halfway_above_max()[:-1],
        "1e308", "1e309", "-1e309", "9.9e307", "1e400", "-1e400",
        "1e99999", "1e-99999", "-1e99999", "1e99999999999999999999",
        "1e-400", "-1e-400", "1e-320", "4.9e-324", "-4.9e-324", "5e-324",
        "4.940656458412465441765687928682213723651e-324",
        "2.4703282292062328e-324", "2.4703282292062327e-324",
        "2.2250738585072014e-308", "2.2250738585072011e-308",
        "2.2250738585072012e-308", "0e99999", "0e-99999", "0e999999999999",
        "0.0000000000000000000000000000001e330",
        "1" + "0" * 400 + "e-400", "0." + "0" * 330 + "1e330",
        "0.000000000000000000001e-310",
    ]
    controls = ["1\v", "\v1", "1\f", "\f1", "1\x00", "\x001", "1\r"]
    return special + hexa + underscores + decimals + edges + controls


def timestamps():
    return [
        "0", "-0", "+0", "123", "-123", "+123", "0123", "1.5", "1e3",
        "1700000000000", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809",
        "99999999999999999999", "+", "-", "++1", "+-1", "0x10", "1_000",
        "Inf", "NaN", "1.", ".5", "abc", "1a", "\v1", "1\v", "\f1", "1\x00",
        "1\r", "\u0661",
    ]


def rows():
    out = []
    for v in float_spellings():
        out.append(("value", "x %s\n" % v))
        out.append(("value", "x{a=\"b\"} %s\n" % v))
        out.append(("le", "# TYPE h histogram\nh_bucket{le=\"%s\"} 1\n"
                    "h_sum 1\nh_count 1\n" % v))
        out.append(("quantile", "# TYPE s summary\ns{quantile=\"%s\"} 1\n"
                    "s_sum 1\ns_count 1\n" % v))
    for t in timestamps():
        out.append(("ts", "x 1 %s\n" % t))
    out += [("ts", body) for body in (
        "x 1 1 \n", "x 1 1\t\n", "x 1  1\n", "x 1\t1\n", "x 1 1 2\n",
        "x 1 1 x\n", "x 1 \t 1\n")]
    blanks = [
        "x 1\n", "x  1\n", "x\t1\n", "x \t 1\n", " x 1\n", "\tx 1\n",
        "  \t x 1\n", "x 1 \n", "x 1\t\n", "x 1  \n", "x 1 \t\n",
        "x{a=\"b\"} 1\n", "x{a=\"b\"}  1\n", "x{a=\"b\"}\t1\n",
        "x{a=\"b\"}1\n", "x {a=\"b\"} 1\n", "x\t{a=\"b\"} 1\n",
        "x{ a=\"b\" } 1\n", "x{a = \"b\"} 1\n", "x{a=\t\"b\"} 1\n",
        "x{a=\"b\" ,c=\"d\"} 1\n", "x{a=\"b\",} 1\n", "x{a=\"b\", } 1\n",
        "x{a=\"b\" , } 1\n", "x{,} 1\n", "x{} 1\n", "x{}1\n", "x{ } 1\n",
        "x{a=\"b\"} 1 \n", "x{a=\"b\"}\n", "x{a=\"b\"} \n", "x\n", "x \n",
        "x\t\n", "x 1\n\n", "\nx 1\n", " \nx 1\n", "\t\nx 1\n",
        "x 1\n ", "x 1\n\t", "x 1\n \n", "x 1\n  \t ", "x 1", "x 1 ",
        "x 1\t", " ", "\n", "\t\n \n", "x 1\n y 2\n", "x 1\r\n",
        "x 1\v\n", "x 1\f\n", "x\v1\n", "x\f1\n", "x\u00a01\n",
        "x 1\n\r\n", "x{a=\"b\"}\v1\n",
    ]
    out += [("blank", b) for b in blanks]
    comments = [
        "# TYPE x counter\nx 1\n", "# TYPE x counter \nx 1\n",
        "# TYPE x counter\t\nx 1\n", "# TYPE x  counter\nx 1\n",
        "# TYPE x\tcounter\nx 1\n", "#  TYPE x counter\nx 1\n",
        "#\tTYPE x counter\nx 1\n", "#TYPE x counter\nx 1\n",
        "  # TYPE x counter\nx 1\n", "\t# TYPE x counter\nx 1\n",
        "# TYPE x COUNTER\nx 1\n", "# TYPE x Counter\nx 1\n",
        "# TYPE x\nx 1\n", "# TYPE x \nx 1\n", "# TYPE x\t\nx 1\n",
        "# TYPE x \n# TYPE x gauge\nx 1\n", "# TYPE x counter gauge\nx 1\n",
        "# TYPE x count\nx 1\n", "# TYPE x\x0bcounter\nx 1\n",
        "# TYPE\nx 1\n", "# TYPE \nx 1\n", "# TYPE  \t \nx 1\n",
        "# HELP\nx 1\n", "# HELP \nx 1\n", "# HELP x\nx 1\n",
        "# HELP x \nx 1\n", "# HELP x\t\nx 1\n",
        "# HELP x some  help \nx 1\n", "# HELP x\tHelp\t\nx 1\n",
        "# HELP x a\\\\b\nx 1\n", "# HELP x a\\nb\nx 1\n",
        "# HELP x a\\tb\nx 1\n", "# HELP x \n# HELP x again\nx 1\n",
        "# HELP x one\n# HELP x two\nx 1\n", "#\nx 1\n", "# \nx 1\n",
        "#x 1\n", "# just a comment  \nx 1\n", "# TYPE x{ counter\nx 1\n",
        "# TYPE 9x counter\nx 1\n", "# HELP x\x0bhelp\nx 1\n",
        "# TYPE x counter\n# TYPE x gauge\nx 1\n",
        "# TYPE x gauge\nx 1 \n", "x 1\n# TYPE x gauge\n",
        "# comment", "# comment\n", "x 1\n# comment",
    ]
    out += [("comment", c) for c in comments]
    strict = [
        "x{a=\"b\rc\"} 1\n", "x{a=\"b\x00c\"} 1\n", "# a\rcomment\nx 1\n",
        "# HELP x a\x00b\nx 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"1\"} 2\n"
        "h_sum 1\nh_count 1\n",
    ]
    out += [("strict", s) for s in strict]
    return [(c, b.encode("utf-8")) for c, b in out]


def verdicts(tool, table):
    data = b"".join(b"%d\n%s" % (len(body), body) for _, body in table)
    res = subprocess.run([tool], input=data, capture_output=True, check=False)
    if res.returncode != 0:
        sys.exit("expfmt-edges: %s failed: %s" % (tool, res.stderr.decode()))
    lines = res.stdout.decode("utf-8", "replace").split("\n")[:-1]
    if len(lines) != len(table):
        sys.exit("expfmt-edges: %d verdicts for %d rows" %
                 (len(lines), len(table)))
    out = []
    for line in lines:
        push, generic, msg = line.split(" ", 2)
        out.append((push == "0", generic == "0", msg))
    return out


class Gateway:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def accepts(self, body):
        for _ in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(
                        self.host, self.port, timeout=10)
                self.conn.request("PUT", "/metrics/job/expfmt-edges", body, {
                    "Content-Type":
                        "text/plain; version=0.0.4; charset=utf-8"})
                resp = self.conn.getresponse()
                text = resp.read().decode("utf-8", "replace").strip()
                if resp.status in (200, 202):
                    return True, ""
                if resp.status == 400:
                    return False, text
                sys.exit("expfmt-edges: gateway answered %d: %s" %
                         (resp.status, text))
            except (OSError, http.client.HTTPException):
                self.conn = None
        sys.exit("expfmt-edges: the gateway cannot be reached")


def promtool_accepts(body):
    res = subprocess.run(["promtool", "check", "metrics"], input=body,
                         capture_output=True, check=False)
    return res.returncode != 1


def python_client_accepts(body):
    from prometheus_client.parser import text_string_to_metric_families
    try:
        for family in text_string_to_metric_families(
                body.decode("utf-8", "strict")):
            list(family.samples)
        return True
    except Exception:  # the parser raises ValueError and others
        return False


def word(ok):
    return "accept" if ok else "refuse"


def main():
    ap = argparse.ArgumentParser(add_help=True)
    ap.add_argument("--verdict", required=True)
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--promtool", choices=("all", "ts"))
    ap.add_argument("--python-client", action="store_true")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()

    table = rows()
    ours = verdicts(args.verdict, table)
    gw = Gateway(args.gateway)
    bad, agree, strict = [], 0, 0
    pt_rows = pt_agree = py_agree = 0
    for (cat, body), (push, generic, msg) in zip(table, ours):
        gw_ok, gw_msg = gw.accepts(body)
        row = "%-8s %-50r promrun-push %s, gateway %s" % (
            cat, body.decode("utf-8", "replace")[:50], word(push), word(gw_ok))
        if cat == "strict":
            strict += 1
            if push or not gw_ok:
                bad.append(row + " (expected: promrun refuses, gateway "
                           "accepts)")
        elif push == gw_ok:
            agree += 1
        else:
            bad.append(row + ("; promrun: " + msg if not push else
                              "; gateway: " + gw_msg))
        if args.promtool == "all" or (args.promtool == "ts" and cat == "ts"):
            pt = promtool_accepts(body)
            pt_rows += 1
            if pt == generic:
                pt_agree += 1
            elif cat != "strict":
                bad.append(row + "; promtool %s, promrun's parser (with "
                           "timestamps) %s" % (word(pt), word(generic)))
            row += ", promtool %s" % word(pt)
        if args.python_client:
            py = python_client_accepts(body)
            py_agree += py == push
            row += ", python client %s" % word(py)
        if args.list:
            print(row)
    compared = len(table) - strict
    print("expfmt-edges: %d rows; promrun-push and the Pushgateway agree on "
          "%d of %d; %d strict rows refused by promrun only, as designed" %
          (len(table), agree, compared, strict))
    if args.promtool:
        print("expfmt-edges: promrun's parser and promtool check metrics "
              "agree on %d of %d rows" % (pt_agree, pt_rows))
    if args.python_client:
        print("expfmt-edges: python3-prometheus-client's parser agrees with "
              "promrun-push on %d of %d rows (for information)" %
              (py_agree, len(table)))
    for b in bad:
        print("DISAGREE " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
