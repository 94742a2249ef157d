#!/bin/sh
# Benchmark: promrun-rules check against promtool check rules (Debian's
# Prometheus 2.42) on one generated file of 5,000 rules: recording rules and
# alerts with labels, templated annotations and "for", over promrun's own
# metrics, so promrun-rules runs its catalog checks too.
#
# Prints medians (hyperfine, -N: no shell in between, same run), the ratio,
# and peak RSS (GNU time).  Goals: at least 10x faster, lower peak RSS.
# Then linearity on long input (issue 14): the time of a chain up + up + ...,
# an {{else if}} chain, many {{define}}s, many template variables and a
# mapping of many labels, per doubling of their length (goal: about 2x,
# linear; it was 7-9x for chains, about 4x for the others).
set -eu

: "${PROMRUN_BUILD:?run through make bench}"
RULES="$PROMRUN_BUILD/promrun-rules"
PY=/usr/bin/python3
RUNS=${BENCH_RUNS:-20}
GEN="$(dirname "$0")/../tools/deep-rules.py"
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

# Linearity: three sizes of each long shape, each size twice the last.
set --
for shape in chain:+ tmpl:elseif tmpl:define tmpl:vars yaml:labels; do
	for n in 20000 40000 80000; do
		f="$dir/$(echo "$shape" | tr -c 'a-z0-9\n' _)-$n.yml"
		"$PY" "$GEN" "$shape" "$n" >"$f"
		set -- "$@" -n "$shape $n" "$RULES check -p native $f"
	done
done
hyperfine -N --style basic -i --warmup 1 --runs 5 --export-json "$dir/long.json" \
    "$@" >"$dir/hyperfine-long.log" 2>&1 || {
	cat "$dir/hyperfine-long.log" >&2
	exit 1
}
"$PY" - "$dir/long.json" <<'PY'
import json, sys
med = {r["command"]: r["median"] * 1000 for r in json.load(open(sys.argv[1]))["results"]}
print()
print("long input: median ms at 20,000 / 40,000 / 80,000 terms, time per doubling")
for shape in ("chain:+", "tmpl:elseif", "tmpl:define", "tmpl:vars", "yaml:labels"):
    t = [med["%s %d" % (shape, n)] for n in (20000, 40000, 80000)]
    r = [t[1] / t[0], t[2] / t[1]]
    print("%-34s %6.1f %6.1f %6.1f   %4.2fx %4.2fx  goal ~2  %s"
          % (shape, t[0], t[1], t[2], r[0], r[1],
             "met" if max(r) < 3 else "MISSED"))
PY
