#!/bin/sh
# Benchmark: the evaluator.
# 1. promrun-rules test against promtool test rules (Debian's Prometheus
#    2.42) on one suite: promrun's own unit tests (the shipped alerts' and
#    the evaluation cases of test/rules/eval/), repeated until promtool
#    needs several seconds.  Goals: at least 10x faster, peak RSS at most a
#    quarter of promtool's.
# 2. promrun-rules backtest of the shipped alerts (examples/alerts.yml)
#    over a month-long journal of 1,000,000 records (test/tools/journal-gen:
#    20 workflows x 2 branches).  Goal: under 2 s.  On two CPUs the replay
#    runs beside the rules: user CPU (printed too) exceeds the wall time.
#
# Prints medians (hyperfine -N, same run), ratios and peak RSS (GNU time).
set -eu

: "${PROMRUN_BUILD:?run through make bench}"
RULES="$PROMRUN_BUILD/promrun-rules"
GEN="$PROMRUN_BUILD/test/journal-gen"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
REPEAT=${BENCH_REPEAT:-2}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM

cp "$TOP"/examples/alerts*.yml "$dir"/
"$PY" - "$TOP" "$dir/suite.yml" "$REPEAT" <<'PY'
import glob, sys, yaml
top, out, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
tests = []
for f in sorted(glob.glob(top + "/test/rules/eval/*.yml")):
    if not f.endswith("errors.yml"):
        tests += yaml.safe_load(open(f))["tests"]
for f in ("alerts", "alerts-chainloop", "alerts-attest"):
    tests += yaml.safe_load(open("%s/examples/tests/%s.test.yml" % (top, f)))["tests"]
yaml.safe_dump({"rule_files": ["alerts.yml", "alerts-chainloop.yml",
                               "alerts-attest.yml"], "tests": tests * repeat},
               open(out, "w"), width=1000)
PY

# Both must pass the suite, or the race means nothing.
promtool test rules "$dir/suite.yml" >/dev/null
"$RULES" test "$dir/suite.yml" >/dev/null

hyperfine -N --style basic --warmup 1 --runs 3 --export-json "$dir/test.json" \
    -n promrun-rules "$RULES test $dir/suite.yml" \
    -n promtool "promtool test rules $dir/suite.yml" >"$dir/hyperfine.log" 2>&1 || {
	cat "$dir/hyperfine.log" >&2
	exit 1
}

rss() { # peak RSS in KiB of one run of the command
	/usr/bin/time -f %M -o "$dir/rss" "$@" >/dev/null 2>&1
	cat "$dir/rss"
}
rss_ours=$(rss "$RULES" test "$dir/suite.yml")
rss_theirs=$(rss promtool test rules "$dir/suite.yml")

# The journal: a month (30 days) of 1,000,000 records.  journal-gen writes
# start/finish pairs at one time step, so 1.2 x 2.16 s per step spreads
# them over the month.
"$GEN" -n 1000000 -w 20 -b 2 -s 1 -t 1700000000 -i 3.11 >"$dir/journal"
last=$(tail -c 300 "$dir/journal" | sed -n 's/.* time=\([0-9]*\).*/\1/p' | tail -1)
hyperfine -N --style basic --warmup 1 --runs 5 --export-json "$dir/bt.json" \
    -n backtest "$RULES backtest -j $dir/journal --from 1700000000 --to $last $TOP/examples/alerts.yml" \
    >"$dir/hyperfine.log" 2>&1 || {
	cat "$dir/hyperfine.log" >&2
	exit 1
}
rss_bt=$(rss "$RULES" backtest -j "$dir/journal" --from 1700000000 --to "$last" \
    "$TOP/examples/alerts.yml")
alerts=$("$RULES" backtest -j "$dir/journal" --from 1700000000 --to "$last" \
    "$TOP/examples/alerts.yml" | grep -c '^alert ')

"$PY" - "$dir/test.json" "$rss_ours" "$rss_theirs" "$(grep -c '^- ' "$dir/suite.yml" || true)" \
    "$dir/bt.json" "$rss_bt" "$(( (last - 1700000000) / 86400 ))" "$alerts" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in res.items()}
ours, theirs = int(sys.argv[2]), int(sys.argv[3])
print("promrun-rules test: promrun's unit tests and evaluation cases, repeated;"
      " median of 3 runs each, same machine, same run")
print("%-34s %10s %10s" % ("command", "median ms", "peak RSS"))
print("%-34s %10.1f %8d KiB" % ("promrun-rules test", med["promrun-rules"], ours))
print("%-34s %10.1f %8d KiB" % ("promtool test rules", med["promtool"], theirs))
ratio = med["promtool"] / med["promrun-rules"]
print()
print("%-34s %8.2fx  goal >= 10   %s" % ("promtool vs promrun-rules", ratio,
      "met" if ratio >= 10 else "MISSED"))
print("%-34s %8.2fx  goal >= 4    %s" % ("peak RSS promtool / ours",
      theirs / ours, "met" if theirs >= 4 * ours else "MISSED"))
bt = json.load(open(sys.argv[5]))["results"][0]
m = bt["median"]
print()
print("promrun-rules backtest of examples/alerts.yml over %s days, 1,000,000 "
      "records (%s alert intervals): median %.2f s of 5 (user CPU %.2f s "
      "mean), peak RSS %s KiB"
      % (sys.argv[7], sys.argv[8], m, bt["user"], sys.argv[6]))
print("%-34s %8.2f s   goal < 2 s   %s" % ("backtest", m, "met" if m < 2 else "MISSED"))
PY
