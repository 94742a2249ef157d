#!/usr/bin/python3
"""deep-rules.py SHAPE N [-e]: a rule file (or with -e the expression alone)
whose expression, template or YAML has the shape SHAPE, N levels deep or N
terms long.  For 23-rules-deep and the rules benchmark.

Expression shapes (in record "r", line 5, expression from column 12):
  chain:OP    up OP up OP ... (N terms), OP any binary operator and its
              modifiers ("> bool", "+ on(job)")
  unary       -...-up (N minus signs)
  paren       (...(up)...)
  call        abs(...abs(up)...)
  agg         sum(...sum(up)...)
  aggby       sum by (job) (... ci_workflow_runs_total ...)
  rnest       up + (up + (... up ...)), N parentheses
  subquery    max_over_time(...max_over_time(up[1m:])...[1m:])
  deepchain   N terms, each 498 parentheses deep: (((up))) + (((up))) ...
Template shapes (alert "A", annotation summary on line 8 from column 16):
  tmpl:if tmpl:range tmpl:with   N nested actions
  tmpl:paren  {{print ((...1...))}}
  tmpl:block  N nested blocks, each its own name
  tmpl:elseif {{if 1}} and N {{else if 1}}
  tmpl:pipe   {{1 | print | print ...}}
  tmpl:define N defines side by side, each its own name
  tmpl:vars   N variables declared, then the first used N times
YAML shapes (from line 1 column 9):
  yaml:seq yaml:map        groups: [[[...]]], groups: {a: {a: ...}}
  yaml:blockseq yaml:blockmap   the same in block style, one indent a level
  yaml:merge  labels merging aliases of aliases, 8 wide, N levels
  yaml:labels a rule with N labels, l0 repeated at the end
"""
import sys


def expr(shape, n):
    if shape.startswith("chain:"):
        return (" %s " % shape[6:]).join(["up"] * n)
    if shape == "unary":
        return "-" * n + "up"
    if shape == "paren":
        return "(" * n + "up" + ")" * n
    if shape == "call":
        return "abs(" * n + "up" + ")" * n
    if shape == "agg":
        return "sum(" * n + "up" + ")" * n
    if shape == "aggby":
        return "sum by (job) (" * n + "ci_workflow_runs_total" + ")" * n
    if shape == "rnest":
        return "up + (" * n + "up" + ")" * n
    if shape == "subquery":
        return "max_over_time(" * n + "up" + "[1m:])" * n
    if shape == "deepchain":
        return " + ".join(["(" * 498 + "up" + ")" * 498] * n)
    raise SystemExit("deep-rules.py: unknown shape " + shape)


def template(kind, n):
    if kind in ("if", "range", "with"):
        return ("{{%s .}}" % kind) * n + "{{end}}" * n
    if kind == "paren":
        return "{{print " + "(" * n + "1" + ")" * n + "}}"
    if kind == "block":
        return "".join('{{block "b%d" .}}' % i for i in range(n)) + \
            "{{end}}" * n
    if kind == "elseif":
        return "{{if 1}}" + "{{else if 1}}x" * n + "{{end}}"
    if kind == "pipe":
        return "{{1" + " | print" * n + "}}"
    if kind == "define":
        return "".join('{{define "d%d"}}x{{end}}' % i for i in range(n))
    if kind == "vars":
        return "".join("{{$v%d := 1}}" % i for i in range(n)) + "{{$v0}}" * n
    raise SystemExit("deep-rules.py: unknown template shape " + kind)


def yaml(kind, n):
    if kind == "seq":
        return "groups: " + "[" * n + "]" * n + "\n"
    if kind == "map":
        return "groups: " + "{a: " * n + "b" + "}" * n + "\n"
    if kind == "blockseq":
        return "groups:" + "".join("\n%s-" % (" " * i) for i in range(n)) + \
            " x\n"
    if kind == "blockmap":
        return "groups:" + "".join("\n%sa:" % (" " * (i + 1))
                                   for i in range(n)) + " x\n"
    if kind == "merge":
        out = ["groups:", "- name: g", "  rules:", "  - record: r",
               "    expr: up", "    labels:", "      m0: &m0 {a: b}"]
        for i in range(1, n + 1):
            out.append("      m%d: &m%d {<<: [%s]}" % (
                i, i, ", ".join(["*m%d" % (i - 1)] * 8)))
        out.append("      <<: *m%d" % n)
        return "\n".join(out) + "\n"
    if kind == "labels":
        out = ["groups:", "- name: g", "  rules:", "  - record: r",
               "    expr: up", "    labels:"]
        out += ["      l%d: v" % i for i in range(n)]
        out.append("      l0: again")
        return "\n".join(out) + "\n"
    raise SystemExit("deep-rules.py: unknown YAML shape " + kind)


def main():
    shape, n = sys.argv[1], int(sys.argv[2])
    if shape.startswith("tmpl:"):
        sys.stdout.write(
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n"
            "    for: 1m\n    annotations:\n      summary: '%s'\n"
            % template(shape[5:], n))
    elif shape.startswith("yaml:"):
        sys.stdout.write(yaml(shape[5:], n))
    elif len(sys.argv) > 3 and sys.argv[3] == "-e":
        print(expr(shape, n))
    else:
        sys.stdout.write("groups:\n- name: g\n  rules:\n  - record: r\n"
                         "    expr: '%s'\n" % expr(shape, n))


main()
