#!/usr/bin/python3
"""scrapeconfig FILE : the Prometheus Operator ScrapeConfig manifests of FILE
(monitoring.coreos.com/v1alpha1, several documents allowed) as the
prometheus.yml they stand for, one scrape job per manifest named after it,
so that promtool can check them.  The fields the Operator renames are
translated one by one; any other field is an error (exit 1), so nothing is
silently dropped."""
import sys

import yaml

FIELDS = {"scrapeInterval": "scrape_interval",
          "scrapeTimeout": "scrape_timeout",
          "metricsPath": "metrics_path",
          "scheme": "scheme",
          "honorLabels": "honor_labels",
          "honorTimestamps": "honor_timestamps",
          "staticConfigs": "static_configs"}


def job(doc):
    if doc.get("apiVersion") != "monitoring.coreos.com/v1alpha1" or \
            doc.get("kind") != "ScrapeConfig":
        sys.exit(f"scrapeconfig: not a ScrapeConfig: {doc.get('kind')}")
    out = {"job_name": doc["metadata"]["name"]}
    for key, value in doc["spec"].items():
        if key not in FIELDS:
            sys.exit(f"scrapeconfig: field {key} is not translated")
        if key == "staticConfigs":
            for c in value:
                if set(c) - {"targets", "labels"}:
                    sys.exit(f"scrapeconfig: staticConfigs field not "
                             f"translated: {sorted(c)}")
        out[FIELDS[key]] = value
    return out


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    yaml.safe_dump({"scrape_configs": [job(d) for d in docs]}, sys.stdout,
                   sort_keys=False)


main()
