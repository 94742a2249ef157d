#!/bin/sh
# Benchmark: promrun-render on a 1,000,000-record journal with about 10,000
# series (60 workflows x 4 branches, success and failure, ~41 series each).
#
#   full         read the whole journal, fold it, write the textfile
#   incremental  one record appended, render from the checkpoint
#   python       python3-prometheus-client writing the same textfile
#                (registry + write_to_textfile, interpreter start included),
#                handed the final values: it does not read the journal
#
# Goals: full render under 1 s; peak RSS that grows with series, not
# records (100k vs 1M records, same series: ratio under 1.2); incremental
# under 5% of full; at least 10x faster than the Python client.
set -eu

: "${PROMRUN_BUILD:?run through make bench}"
PATH="$PROMRUN_BUILD:$PROMRUN_BUILD/test:$PATH"
PY=/usr/bin/python3
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
NOW=1701100000

printf '[render]\nmax_journal_size = 0\n' >"$dir/render.ini"
journal-gen -n 1000000 -w 60 -b 4 -s 1 >"$dir/j1m"
journal-gen -n 100000 -w 60 -b 4 -s 1 >"$dir/j100k"

render() { # JOURNAL [OPTIONS...]
	j=$1
	shift
	promrun-render -c "$dir/render.ini" -j "$j" --now "$NOW" -o "$dir/out.prom" "$@"
}

render "$dir/j1m" --rebuild
series=$(grep -vc '^#' "$dir/out.prom")
records=$(wc -l <"$dir/j1m")
bytes=$(wc -c <"$dir/j1m")

hyperfine -N --style basic --warmup 1 --runs 7 --export-json "$dir/full.json" \
    "promrun-render -c $dir/render.ini -j $dir/j1m --now $NOW -o $dir/out.prom --rebuild" \
    >"$dir/full.log" 2>&1 || { cat "$dir/full.log" >&2; exit 1; }
render "$dir/j1m"	# a fresh checkpoint
hyperfine -N --style basic --warmup 3 --runs 30 --export-json "$dir/inc.json" \
    --prepare "promrun-record -c $dir/render.ini -j $dir/j1m -w workflow-001 -s success -d 1 -l branch=branch-01 -l repo=promrun --time $NOW" \
    "promrun-render -c $dir/render.ini -j $dir/j1m --now $NOW -o $dir/out.prom" \
    >"$dir/inc.log" 2>&1 || { cat "$dir/inc.log" >&2; exit 1; }

# The Python side is handed the final values of the same textfile.
"$TOOLS/prom-spec.py" "$dir/out.prom" >"$dir/spec.json"
cat >"$dir/write.py" <<'PY'
import json, sys
from prometheus_client import CollectorRegistry, write_to_textfile
from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                    HistogramMetricFamily)

class Spec:
    def __init__(self, spec):
        self.spec = spec
    def collect(self):
        for f in self.spec:
            kind = {"counter": CounterMetricFamily, "gauge": GaugeMetricFamily,
                    "histogram": HistogramMetricFamily}[f["type"]]
            name = f["name"][:-6] if f["type"] == "counter" and f["name"].endswith("_total") else f["name"]
            m = kind(name, f["help"], labels=f["labels"])
            for s in f["samples"]:
                if f["type"] == "histogram":
                    m.add_metric(s["values"], buckets=s["buckets"], sum_value=s["sum"])
                else:
                    m.add_metric(s["values"], s["value"])
            yield m

registry = CollectorRegistry()
registry.register(Spec(json.load(open(sys.argv[1]))))
write_to_textfile(sys.argv[2], registry)
PY
hyperfine -N --style basic --warmup 1 --runs 7 --export-json "$dir/py.json" \
    "$PY $dir/write.py $dir/spec.json $dir/py.prom" \
    >"$dir/py.log" 2>&1 || { cat "$dir/py.log" >&2; exit 1; }
py_series=$(grep -vc '^#' "$dir/py.prom")

rss() { # peak RSS in KiB of a full render of JOURNAL
	/usr/bin/time -f %M -o "$dir/rss" promrun-render -c "$dir/render.ini" \
	    -j "$1" --now "$NOW" -o "$dir/out.prom" --rebuild
	cat "$dir/rss"
}
rss_1m=$(rss "$dir/j1m")
rss_100k=$(rss "$dir/j100k")

"$PY" - "$dir" "$series" "$records" "$bytes" "$rss_1m" "$rss_100k" "$py_series" <<'PY'
import json, sys
d, series, records, size, rss_1m, rss_100k, py_series = sys.argv[1:]
med = lambda f: json.load(open(d + "/" + f))["results"][0]["median"] * 1000
full, inc, py = med("full.json"), med("inc.json"), med("py.json")
print("promrun-render: %s records (%.0f MiB), %s series in the textfile (the Python client wrote %s)"
      % (records, int(size) / 2**20, series, py_series))
print("%-46s %10s" % ("", "median ms"))
print("%-46s %10.1f" % ("full render (whole journal, --rebuild)", full))
print("%-46s %10.1f" % ("incremental render (one new record)", inc))
print("%-46s %10.1f" % ("python3-prometheus-client, same textfile", py))
print()
rows = [
    ("full render", "%.0f ms" % full, "< 1000 ms", full < 1000),
    ("incremental / full", "%.1f%%" % (100 * inc / full), "< 5%", inc / full < 0.05),
    ("python / incremental", "%.1fx" % (py / inc), ">= 10x", py / inc >= 10),
    ("python / full", "%.1fx" % (py / full), "(info)", True),
    ("peak RSS, 1M records", "%s KiB" % rss_1m, "(info)", True),
    ("peak RSS, 1M / 100k records", "%.2f" % (int(rss_1m) / int(rss_100k)), "< 1.2", int(rss_1m) / int(rss_100k) < 1.2),
]
for name, value, goal, ok in rows:
    print("%-30s %14s  goal %-9s %s" % (name, value, goal, "met" if ok else "MISSED"))
PY
