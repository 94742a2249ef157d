#!/usr/bin/python3
"""prom-spec FILE: the families of an exposition as JSON (name, type, help,
label names, and each series' label values and value, or buckets and sum
for histograms), for the benchmark to hand to python3-prometheus-client."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    with open(sys.argv[1], encoding="utf-8", newline="") as f:
        families = text_string_to_metric_families(f.read())
    out = []
    for fam in families:
        name = fam.name + ("_total" if fam.type == "counter" else "")
        series = {}
        labels = []
        for s in fam.samples:
            base = {k: v for k, v in s.labels.items() if k != "le"}
            labels = sorted(base)
            key = tuple(base[k] for k in labels)
            entry = series.setdefault(key, {"values": list(key), "buckets": [],
                                            "sum": 0, "value": 0})
            if s.name.endswith("_bucket"):
                le = s.labels["le"]
                entry["buckets"].append([le, s.value])
            elif s.name.endswith("_sum") and fam.type == "histogram":
                entry["sum"] = s.value
            elif s.name.endswith("_count") and fam.type == "histogram":
                pass
            else:
                entry["value"] = s.value
        out.append({"name": name, "type": fam.type, "help": fam.documentation,
                    "labels": labels, "samples": list(series.values())})
    json.dump(out, sys.stdout)


main()
