#!/bin/sh
# Benchmark: promrun-rules check against promtool check rules (Debian's
# Prometheus 2.42) on one generated file of 5,000 rules: recording rules and
# alerts with labels, templated annotations and "for", over promrun's own
# metrics, so promrun-rules runs its catalog checks too.
#
# Prints medians (hyperfine, -N: no shell in between, same run), the ratio,
# and peak RSS (GNU time).  Goals: at least 10x faster, lower peak RSS.
set -eu

: "${PROMRUN_BUILD:?run through make bench}"
RULES="$PROMRUN_BUILD/promrun-rules"
PY=/usr/bin/python3
RUNS=${BENCH_RUNS:-20}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM

"$PY" - "$dir/rules.yml" <<'PY'
import sys
out = ["groups:"]
n = 0
g = 0
while n < 5000:
    out.append("- name: group-%d" % g)
    out.append("  interval: 1m")
    out.append("  rules:")
    for i in range(50):
        w = "wf%d" % n
        if n % 2 == 0:
            out.append("  - record: workflow:ci_workflow_failure_ratio:rate1h_%d" % n)
            out.append("    expr: |")
            out.append("      sum by (workflow) (increase(ci_workflow_runs_total{status=\"failure\",workflow=\"%s\"}[1h]))" % w)
            out.append("        /")
            out.append("      sum by (workflow) (increase(ci_workflow_runs_total{workflow=~\"%s|other\"}[1h]))" % w)
        else:
            out.append("  - alert: WorkflowNoRecentSuccess%d" % n)
            out.append("    expr: time() - max by (workflow) (ci_workflow_last_success_timestamp_seconds{workflow=\"%s\"}) > 25 * 3600" % w)
            out.append("    for: 10m")
            out.append("    labels:")
            out.append("      severity: critical")
            out.append("    annotations:")
            out.append("      summary: \"Workflow {{ $labels.workflow }} has not succeeded for {{ humanizeDuration $value }}\"")
        n += 1
    g += 1
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY

# Both must accept the file, or the race means nothing.
promtool check rules "$dir/rules.yml" >/dev/null
"$RULES" check -p native "$dir/rules.yml" >/dev/null

hyperfine -N --style basic --warmup 2 --runs "$RUNS" --export-json "$dir/times.json" \
    -n promrun-rules "$RULES check -p native $dir/rules.yml" \
    -n promtool "promtool check rules $dir/rules.yml" >"$dir/hyperfine.log" 2>&1 || {
	cat "$dir/hyperfine.log" >&2
	exit 1
}

rss() { # peak RSS in KiB of one run of the command
	/usr/bin/time -f %M -o "$dir/rss" "$@" >/dev/null 2>&1
	cat "$dir/rss"
}
rss_ours=$(rss "$RULES" check -p native "$dir/rules.yml")
rss_theirs=$(rss promtool check rules "$dir/rules.yml")

"$PY" - "$dir/times.json" "$rss_ours" "$rss_theirs" "$(wc -c <"$dir/rules.yml")" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in res.items()}
ours, theirs = int(sys.argv[2]), int(sys.argv[3])
print("promrun-rules: check 5,000 rules (%d bytes), median of %d runs each, same machine, same run"
      % (int(sys.argv[4]), len(res["promtool"]["times"])))
print("%-34s %10s %10s" % ("command", "median ms", "peak RSS"))
print("%-34s %10.1f %8d KiB" % ("promrun-rules check -p native", med["promrun-rules"], ours))
print("%-34s %10.1f %8d KiB" % ("promtool check rules", med["promtool"], theirs))
ratio = med["promtool"] / med["promrun-rules"]
print()
print("%-34s %8.2fx  goal >= 10  %s" % ("promtool vs promrun-rules", ratio, "met" if ratio >= 10 else "MISSED"))
print("%-34s %8.2fx  goal > 1    %s" % ("peak RSS promtool / ours", theirs / ours, "met" if ours < theirs else "MISSED"))
PY
