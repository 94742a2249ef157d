#!/usr/bin/python3
"""prom-samples FILE|- : every sample of an exposition, parsed by
python3-prometheus-client's own text parser, as one canonical line:

    NAME<TAB>{sorted labels as JSON}<TAB>VALUE

VALUE is repr(float(value)), so 1795428000 and 1.795428e+09 compare equal.
Exit 1 with the parser's error when the text does not parse."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    path = sys.argv[1]
    if path == "-":
        text = sys.stdin.buffer.read().decode("utf-8")
    else:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
    try:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                labels = json.dumps(dict(sorted(s.labels.items())),
                                    ensure_ascii=False)
                print("%s\t%s\t%r" % (s.name, labels, float(s.value)))
    except Exception as e:  # the parser raises ValueError and others
        print("prom-samples: %s: %s" % (path, e), file=sys.stderr)
        sys.exit(1)


main()
