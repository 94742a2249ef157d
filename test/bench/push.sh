#!/bin/sh
# Benchmark: push a 10,000-series file to a local prometheus-pushgateway.
#
#   curl     curl --data-binary @FILE -X PUT (no validation: the floor)
#   python   python3-prometheus-client: parse the file, push_to_gateway,
#            interpreter start included (what a script would do today)
#
# All three replace the same group on the same gateway, started here on a
# free loopback port with its own persistence file.  Prints medians
# (hyperfine, -N: no shell in between) and ratios from the same run.
# Goals: promrun-push within 1.2x of curl, at least 5x faster than python.
set -eu

: "${PROMRUN_BUILD:?run through make bench}"
PUSH="$PROMRUN_BUILD/promrun-push"
PY=/usr/bin/python3
. "$(dirname "$0")/lib/bench.sh"
RUNS=${BENCH_RUNS:-40}
SERIES=10000
dir=$(mktemp -d)
gw_pid=""
cleanup() {
	[ -z "$gw_pid" ] || stop_peers "$gw_pid"
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# 10,000 series in 5 families, as a CI textfile might hold.
bench_series "$dir/series.prom" "$SERIES"

port=$(free_port)
url="http://127.0.0.1:$port"
/usr/bin/prometheus-pushgateway --web.listen-address="127.0.0.1:$port" \
    --persistence.file="$dir/gateway.persist" --log.level=warn \
    >"$dir/gateway.log" 2>&1 &
gw_pid=$!
wait_up "$url/-/ready" "$dir/gateway.log"

cat >"$dir/push.py" <<'PY'
import sys
from prometheus_client import CollectorRegistry, push_to_gateway
from prometheus_client.parser import text_string_to_metric_families

class FileCollector:
    def __init__(self, families):
        self.families = families
    def collect(self):
        return self.families

with open(sys.argv[2]) as f:
    families = list(text_string_to_metric_families(f.read()))
registry = CollectorRegistry()
registry.register(FileCollector(families))
push_to_gateway(sys.argv[1], job="bench", registry=registry)
PY
: >"$dir/empty.ini"

# Each must succeed once before timing, so no one times an error path.
"$PUSH" -c "$dir/empty.ini" -u "$url" --job bench "$dir/series.prom"
curl -sS --fail -o /dev/null --data-binary "@$dir/series.prom" -X PUT "$url/metrics/job/bench"
"$PY" "$dir/push.py" "$url" "$dir/series.prom"

hyperfine -N --style basic --warmup 3 --runs "$RUNS" --export-json "$dir/times.json" \
    -n promrun-push "$PUSH -c $dir/empty.ini -u $url --job bench $dir/series.prom" \
    -n curl "curl -sS --fail -o /dev/null --data-binary @$dir/series.prom -X PUT $url/metrics/job/bench" \
    -n python "$PY $dir/push.py $url $dir/series.prom" >"$dir/hyperfine.log" 2>&1 || {
	cat "$dir/hyperfine.log" >&2
	exit 1
}

"$PY" - "$dir/times.json" "$(wc -c <"$dir/series.prom")" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in res.items()}
print("promrun-push: push a 10,000-series file (%d bytes) to a local pushgateway"
      % int(sys.argv[2]))
print("(median of %d runs each, same machine, same gateway, same run)" % len(res["curl"]["times"]))
print("%-44s %10s" % ("command", "median ms"))
names = {"promrun-push": "promrun-push FILE (validates, then PUT)",
         "curl": "curl --data-binary @FILE -X PUT",
         "python": "python3 prometheus_client push_to_gateway"}
for k in ["promrun-push", "curl", "python"]:
    print("%-44s %10.3f" % (names[k], med[k]))
print()
checks = [
    ("promrun-push vs curl", med["promrun-push"] / med["curl"], "<= 1.2",
     med["promrun-push"] / med["curl"] <= 1.2),
    ("python vs promrun-push", med["python"] / med["promrun-push"], ">= 5",
     med["python"] / med["promrun-push"] >= 5),
]
for name, ratio, goal, ok in checks:
    print("%-44s %8.2fx  goal %-7s %s" % (name, ratio, goal, "met" if ok else "MISSED"))
PY
