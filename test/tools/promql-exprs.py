#!/usr/bin/python3
"""promql-exprs OUTDIR FILE... : every PromQL expression of Grafana dashboards
(*.json: every "expr" of every target, at any depth) and of rule files (the
"expr" of every rule), written to OUTDIR as one file per expression,
NAME-N.promql (NAME the input's base name, N from 1 in file order), and
OUTDIR/rules.yml, one recording rule per expression, for rule checkers.

Grafana's variables are filled in as Grafana would before sending a query:
$__rate_interval, $__interval and $__range become durations, $window one of
its values, and any other $var or ${var} (the dashboard's own, all used in
=~ matchers) the regex ".*" that "All" sends.
Exit 1 when a file holds no expression."""
import json
import os
import re
import sys

import yaml

DURATIONS = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h",
             "window": "1d"}


def grafana(value):
    def fill(m):
        return DURATIONS.get(m.group(1) or m.group(2), ".*")
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", fill, value)


def json_exprs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield grafana(value)
            else:
                yield from json_exprs(value)
    elif isinstance(node, list):
        for value in node:
            yield from json_exprs(value)


def rule_exprs(doc):
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            yield rule["expr"]


def main():
    out, files = sys.argv[1], sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    rules = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            if path.endswith(".json"):
                exprs = list(json_exprs(json.load(f)))
            else:
                exprs = list(rule_exprs(yaml.safe_load(f)))
        if not exprs:
            sys.exit(f"promql-exprs: no expression in {path}")
        name = os.path.splitext(os.path.basename(path))[0]
        for n, expr in enumerate(exprs, 1):
            with open(os.path.join(out, f"{name}-{n}.promql"), "w",
                      encoding="utf-8") as f:
                f.write(expr)
            rules.append({"record": re.sub(r"[^\w:]", "_", f"{name}:expr_{n}"),
                          "expr": expr})
    with open(os.path.join(out, "rules.yml"), "w", encoding="utf-8") as f:
        yaml.safe_dump({"groups": [{"name": "extracted", "rules": rules}]},
                       f, sort_keys=False, width=1000)


main()
