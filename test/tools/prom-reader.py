#!/usr/bin/python3
"""prom-reader FILE STOPFILE : read and parse FILE in a loop, as a scraper
would, until STOPFILE exists.  Every read must be a whole exposition: it
ends with a newline and python3-prometheus-client's parser accepts it.
Counters (and histogram buckets, sums and counts) must never decrease from
one read to the next.  Prints "reads=N partial=N unparsable=N decreases=N"
and exits 0 only when the last three are 0 and N > 0."""
import os
import sys
import time

from prometheus_client.parser import text_string_to_metric_families


def counters(text):
    out = {}
    for family in text_string_to_metric_families(text):
        if family.type not in ("counter", "histogram"):
            continue
        for s in family.samples:
            labels = tuple(sorted((k, v) for k, v in s.labels.items() if v != ""))
            out[(s.name, labels)] = s.value
    return out


def main():
    path, stop = sys.argv[1], sys.argv[2]
    reads = partial = unparsable = decreases = 0
    last = {}
    while not os.path.exists(stop):
        try:
            with open(path, encoding="utf-8", newline="") as f:
                text = f.read()
        except FileNotFoundError:
            time.sleep(0.001)
            continue
        reads += 1
        if not text.endswith("\n"):
            partial += 1
            continue
        try:
            now = counters(text)
        except Exception:
            unparsable += 1
            continue
        for key, value in now.items():
            if key in last and value < last[key]:
                decreases += 1
        last = now
        time.sleep(0.002)
    print("reads=%d partial=%d unparsable=%d decreases=%d"
          % (reads, partial, unparsable, decreases))
    sys.exit(0 if reads > 0 and partial + unparsable + decreases == 0 else 1)


main()
