#!/usr/bin/python3
"""prom-series [-dN] MODE FILE [NAME=VALUE...] : the series of FILE as
canonical lines, sorted, to compare what was sent with what a receiver
holds:

    NAME<TAB>{sorted labels as JSON}<TAB>VALUE

  text   FILE is an exposition, read by python3-prometheus-client's parser;
         labels with empty values are left out (Prometheus reads them as
         absent) and each NAME=VALUE is added, as promrun-push adds job and
         the grouping labels
  query  FILE is the JSON answer of Prometheus's /api/v1/query
  export FILE is VictoriaMetrics' /api/v1/export (a JSON object per line);
         the value is the series' last one

VALUE is repr(float(value)), or with -dN the value rounded to N significant
digits (VictoriaMetrics keeps 12).  Exit 1 when FILE does not parse."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


DIGITS = None


def line(name, labels, value):
    labels = {k: v for k, v in labels.items() if k != "__name__"}
    value = float(value)
    shown = repr(value) if DIGITS is None else "%.*g" % (DIGITS, value)
    return "%s\t%s\t%s" % (name, json.dumps(dict(sorted(labels.items())),
                                            ensure_ascii=False), shown)


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
    global DIGITS
    args = sys.argv[1:]
    if args[0].startswith("-d"):
        DIGITS = int(args.pop(0)[2:])
    mode, path = args[0], args[1]
    extra = dict(a.split("=", 1) for a in args[2:])
    try:
        got = {"text": lambda: text(path, extra), "query": lambda: query(path),
               "export": lambda: export(path)}[mode]()
        for out in sorted(got):
            print(out)
    except (ValueError, KeyError, OSError) as e:
        print("prom-series: %s: %s" % (path, e), file=sys.stderr)
        sys.exit(1)


main()
