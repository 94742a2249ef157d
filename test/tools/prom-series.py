#!/usr/bin/python3
"""prom-series MODE FILE [NAME=VALUE...] : the series of FILE as canonical
lines, sorted, to compare what was sent with what a receiver holds:

    NAME<TAB>{sorted labels as JSON}<TAB>VALUE

  text   FILE is an exposition, read by python3-prometheus-client's parser;
         labels with empty values are left out (Prometheus reads them as
         absent) and each NAME=VALUE is added, as promrun-push adds job and
         the grouping labels
  query  FILE is the JSON answer of Prometheus's /api/v1/query
  export FILE is VictoriaMetrics' /api/v1/export (a JSON object per line);
         the value is the series' last one

VALUE is repr(float(value)).  Exit 1 when FILE does not parse."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def line(name, labels, value):
    labels = {k: v for k, v in labels.items() if k != "__name__"}
    return "%s\t%s\t%r" % (name, json.dumps(dict(sorted(labels.items())),
                                            ensure_ascii=False), float(value))


def text(path, extra):
    with open(path, encoding="utf-8", newline="") as f:
        families = text_string_to_metric_families(f.read())
    for family in families:
        for s in family.samples:
            labels = {k: v for k, v in s.labels.items() if v != ""}
            labels.update(extra)
            yield line(s.name, labels, s.value)


def query(path):
    with open(path, encoding="utf-8") as f:
        answer = json.load(f)
    if answer.get("status") != "success":
        raise ValueError("query failed: %r" % answer)
    for r in answer["data"]["result"]:
        yield line(r["metric"]["__name__"], r["metric"], r["value"][1])


def export(path):
    with open(path, encoding="utf-8") as f:
        for raw in f:
            if raw.strip():
                r = json.loads(raw)
                yield line(r["metric"]["__name__"], r["metric"],
                           r["values"][-1])


def main():
    mode, path = sys.argv[1], sys.argv[2]
    extra = dict(a.split("=", 1) for a in sys.argv[3:])
    try:
        got = {"text": lambda: text(path, extra), "query": lambda: query(path),
               "export": lambda: export(path)}[mode]()
        for out in sorted(got):
            print(out)
    except (ValueError, KeyError, OSError) as e:
        print("prom-series: %s: %s" % (path, e), file=sys.stderr)
        sys.exit(1)


main()
