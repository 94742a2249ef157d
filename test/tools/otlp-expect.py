#!/usr/bin/python3
"""otlp-expect FILE [--start-ms MS] [--host H] [KEY=VALUE...] : what an
OTLP receiver should get for the exposition FILE, in the canonical lines
test/otlp-sink/sink.js writes, sorted; worked out here from the text as
python3-prometheus-client reads it, independently of promrun's C code.

The time of every point is FILE's promrun_render_timestamp_seconds; the
start of Sums, Histograms and Summaries --start-ms (default: the time).
KEY=VALUE pairs are the labels promrun-push adds (job, grouping labels),
--resource K=V more resource attributes."""
import argparse
import json
import math

from prometheus_client.parser import text_string_to_metric_families


def js(v):
    """A number as JavaScript's String(number) writes it."""
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    return repr(v)


def attrs(labels, drop, extra):
    a = {k: v for k, v in labels.items() if v != "" and k != drop}
    a.update(extra)
    return json.dumps(dict(sorted(a.items())), separators=(",", ":"),
                      ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--start-ms", type=int)
    ap.add_argument("--host", required=True)
    ap.add_argument("--resource", action="append", default=[])
    ap.add_argument("labels", nargs="*")
    a = ap.parse_intermixed_args()
    extra = dict(kv.split("=", 1) for kv in a.labels)
    with open(a.file, encoding="utf-8") as f:
        families = list(text_string_to_metric_families(f.read()))
    t_ms = None
    for fam in families:
        for s in fam.samples:
            if s.name == "promrun_render_timestamp_seconds":
                t_ms = round(s.value * 1000)
    time = "%d" % (t_ms * 1000000)
    start = "%d" % ((a.start_ms if a.start_ms is not None else t_ms) * 1000000)
    resource = {"service.name": "promrun", "host.name": a.host}
    resource.update(dict(kv.split("=", 1) for kv in a.resource))
    out = ["resource %s=%s" % kv for kv in resource.items()]
    out.append("scope promrun 0.1.0")
    for fam in families:
        desc = json.dumps(fam.documentation, ensure_ascii=False)
        if fam.type in ("gauge", "unknown", "untyped", "counter"):
            kind = "sum" if fam.type == "counter" else "gauge"
            names = sorted({s.name for s in fam.samples if not s.name.endswith("_created")})
            for name in names:
                out.append("%s %s %s" % (name, kind, desc))
            for s in fam.samples:
                if s.name.endswith("_created"):
                    continue
                f = ["time=" + time, "value=" + js(s.value)]
                if kind == "sum":
                    f += ["temporality=2", "monotonic=true", "start=" + start]
                out.append("point %s %s %s" % (s.name, attrs(s.labels, None, extra),
                                               " ".join(sorted(f))))
        elif fam.type in ("histogram", "summary"):
            out.append("%s %s %s" % (fam.name, fam.type, desc))
            drop = "le" if fam.type == "histogram" else "quantile"
            points = {}
            for s in fam.samples:
                key = attrs(s.labels, drop, extra)
                p = points.setdefault(key, {"parts": []})
                if s.name == fam.name + "_sum":
                    p["sum"] = s.value
                elif s.name == fam.name + "_count":
                    p["count"] = s.value
                elif s.name in (fam.name + "_bucket", fam.name):
                    p["parts"].append((float(s.labels[drop]), s.value))
            for key, p in points.items():
                f = ["time=" + time, "start=" + start, "count=%d" % p["count"],
                     "sum=" + js(p["sum"])]
                if fam.type == "histogram":
                    parts = sorted(p["parts"])
                    bounds = [b for b, _ in parts if not math.isinf(b)]
                    cum = [c for _, c in parts]
                    if not parts or not math.isinf(parts[-1][0]):
                        cum.append(p["count"])
                    counts = [cum[0]] + [cum[i] - cum[i - 1] for i in range(1, len(cum))]
                    f += ["temporality=2", "bounds=" + ",".join(js(b) for b in bounds),
                          "buckets=" + ",".join("%d" % c for c in counts)]
                else:
                    f.append("quantiles=" + ",".join("%s:%s" % (js(q), js(v))
                                                     for q, v in p["parts"]))
                out.append("point %s %s %s" % (fam.name, key, " ".join(sorted(f))))
    for line in sorted(out):
        print(line)


main()
