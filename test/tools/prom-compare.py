#!/usr/bin/python3
"""prom-compare OLD NEW : both files must parse with python3-prometheus-client's
parser, and no counter (or histogram bucket, sum or count) of OLD may be
missing from NEW or lower there (labels with empty values are no labels, as in
Prometheus).  Prints each problem; exit 0 when none.
An OLD that does not exist compares as empty."""
import os
import sys

from prometheus_client.parser import text_string_to_metric_families


def counters(path):
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    if text and not text.endswith("\n"):
        raise ValueError("%s: no final newline" % path)
    out = {}
    for family in text_string_to_metric_families(text):
        if family.type not in ("counter", "histogram"):
            continue
        for s in family.samples:
            # An empty label value is no label at all, as in Prometheus.
            labels = tuple(sorted((k, v) for k, v in s.labels.items() if v != ""))
            out[(s.name, labels)] = s.value
    return out


def main():
    try:
        old, new = counters(sys.argv[1]), counters(sys.argv[2])
    except Exception as e:
        print("prom-compare: does not parse: %s" % e)
        sys.exit(1)
    bad = 0
    for key, value in old.items():
        if key not in new:
            print("prom-compare: %s%s disappeared" % key)
            bad = 1
        elif new[key] < value:
            print("prom-compare: %s%s went from %r to %r" % (key[0], key[1], value, new[key]))
            bad = 1
    sys.exit(bad)


main()
