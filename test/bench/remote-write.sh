#!/bin/sh
# Benchmark: remote-write a 10,000-series file to a local Prometheus 2.42
# (--web.enable-remote-write-receiver, nothing scraped).
#
#   promrun-push  --remote-write: read, validate, encode, compress, send,
#                 commit its state (a fresh state directory per run is not
#                 needed: a resend at the same timestamp is a duplicate the
#                 receiver accepts)
#   curl          POST of the same WriteRequest, encoded and compressed
#                 beforehand (test/tools/push-encode), with the same headers:
#                 the floor, the network and Prometheus's own work
#
# and, without the network, encoding and compressing the 10,000 series
# (push-encode bench: the median of 200 rounds, parsing excluded).
# The two commands are run in turns, round by round (lib/interleave.py:
# run all of one before the other, as hyperfine does, and a change of load
# between the halves moves the ratio either way).  Prints medians and
# ratios from the same run.
# Goals: promrun-push within 1.2x of curl; encoding under 5 ms.
set -eu

: "${PROMRUN_BUILD:?run through make bench}"
PUSH="$PROMRUN_BUILD/promrun-push"
ENCODE="$PROMRUN_BUILD/test/push-encode"
PY=/usr/bin/python3
. "$(dirname "$0")/lib/bench.sh"
RUNS=${BENCH_RUNS:-40}
SERIES=10000
dir=$(mktemp -d)
prom_pid=""
cleanup() {
	[ -z "$prom_pid" ] || stop_peers "$prom_pid"
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# 10,000 series in 5 families, as a CI textfile might hold, rendered now.
bench_series "$dir/series.prom" "$SERIES" now
# One series fewer than promised would change the numbers: the render
# timestamp is the 10,001st.
port=$(free_port)
url="http://127.0.0.1:$port/api/v1/write"
printf 'global:\n  scrape_interval: 1m\nscrape_configs: []\n' >"$dir/prometheus.yml"
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver \
    --log.level=warn >"$dir/prometheus.log" 2>&1 &
prom_pid=$!
wait_up "http://127.0.0.1:$port/-/ready" "$dir/prometheus.log"

: >"$dir/empty.ini"
t_ms=$("$PY" -c 'import sys; print(round(float(open(sys.argv[1]).read().split()[-1]) * 1000))' "$dir/series.prom")
"$ENCODE" rw-snappy "$dir/series.prom" "$t_ms" >"$dir/body.snappy"
# Each must succeed once before timing, so no one times an error path.
"$PUSH" -c "$dir/empty.ini" --job promrun --state-dir "$dir/state" \
    --remote-write "$url" "$dir/series.prom"
curl -sS --fail -o /dev/null --data-binary "@$dir/body.snappy" \
    -H 'Content-Type: application/x-protobuf' -H 'Content-Encoding: snappy' \
    -H 'X-Prometheus-Remote-Write-Version: 0.1.0' -H 'Expect:' "$url"

"$PY" "$(dirname "$0")/lib/interleave.py" "$RUNS" 3 "$dir/times.json" \
    "promrun-push=$PUSH -c $dir/empty.ini --state-dir $dir/state --remote-write $url $dir/series.prom" \
    "curl=curl -sS --fail -o /dev/null --data-binary @$dir/body.snappy -H Content-Type:application/x-protobuf -H Content-Encoding:snappy -H X-Prometheus-Remote-Write-Version:0.1.0 -H Expect: $url"
"$ENCODE" bench "$dir/series.prom" 200 >"$dir/encode.txt"

"$PY" - "$dir/times.json" "$(wc -c <"$dir/body.snappy")" "$dir/encode.txt" <<'PY'
import json, re, statistics, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in res.items()}
enc = open(sys.argv[3]).read().strip()
enc_ms = float(re.search(r"median ([0-9.]+) ms", enc).group(1))
print("promrun-push --remote-write: 10,001 series (%s compressed bytes) to a "
      "local Prometheus" % sys.argv[2])
print("(median of %d runs each, in turns, same machine, same receiver, "
      "same run)" % len(res["curl"]["times"]))
print("%-48s %10s" % ("command", "median ms"))
print("%-48s %10.3f" % ("promrun-push --remote-write FILE", med["promrun-push"]))
print("%-48s %10.3f" % ("curl POST of the same encoded body", med["curl"]))
print("%-48s %10.3f" % ("encode + snappy, in process (push-encode bench)", enc_ms))
print("  " + enc)
print()
ratio = med["promrun-push"] / med["curl"]
paired = statistics.median(p / c for p, c in zip(res["promrun-push"]["times"],
                                                res["curl"]["times"]))
print("%-48s %8.2fx  goal %-7s %s" % ("promrun-push vs curl", ratio, "<= 1.2",
      "met" if ratio <= 1.2 else "MISSED"))
print("%-48s %8.2fx" % ("  (the median of each round's own ratio)", paired))
print("%-48s %8.3f ms goal %-7s %s" % ("encoding 10,000 series", enc_ms, "< 5 ms",
      "met" if enc_ms < 5 else "MISSED"))
PY
