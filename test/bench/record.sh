#!/bin/sh
# Benchmark: record one run with promrun-record against what users do today.
#
#   floor    spawning /bin/true
#   sqlite3  sqlite3 DB "INSERT ..." (pipeline-run-prometheus-counter's storage)
#   python   a prometheus_client script: inc a counter, write_to_textfile
#
# Prints medians (hyperfine, -N: no shell in between), ratios, and peak RSS
# (GNU time).  Goals: fsync=never within 2x of /bin/true, >= 10x faster than
# the Python script, faster than sqlite3, peak RSS under 2 MiB.
set -eu

: "${PROMRUN_BUILD:?run through make bench}"
REC="$PROMRUN_BUILD/promrun-record"
PY=/usr/bin/python3
RUNS=${BENCH_RUNS:-300}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM

printf '[journal]\nfsync = never\n' >"$dir/never.ini"
printf '[journal]\nfsync = always\n' >"$dir/always.ini"
sqlite3 "$dir/prpc.db" 'CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT, success INTEGER);'
cat >"$dir/record.py" <<'PY'
import sys
from prometheus_client import CollectorRegistry, Counter, write_to_textfile
registry = CollectorRegistry()
runs = Counter("ci_workflow_runs", "Finished runs.", ["workflow", "status"], registry=registry)
runs.labels(workflow="build", status="success").inc()
write_to_textfile(sys.argv[1], registry)
PY

hyperfine -N --style basic --warmup 20 --runs "$RUNS" --export-json "$dir/times.json" \
    -n floor '/bin/true' \
    -n never "$REC -c $dir/never.ini -j $dir/never.journal -w build -s success -d 1.5 -l repo=promrun" \
    -n always "$REC -c $dir/always.ini -j $dir/always.journal -w build -s success -d 1.5 -l repo=promrun" \
    -n sqlite3 "sqlite3 $dir/prpc.db \"INSERT INTO runs (name, success) VALUES ('build', 1)\"" \
    -n python "$PY $dir/record.py $dir/python.prom" >"$dir/hyperfine.log" 2>&1 || {
	cat "$dir/hyperfine.log" >&2
	exit 1
}

rss() { # peak RSS in KiB of one run of the command
	/usr/bin/time -f %M -o "$dir/rss" "$@" >/dev/null 2>&1
	cat "$dir/rss"
}
rss_never=$(rss "$REC" -c "$dir/never.ini" -j "$dir/never.journal" -w build -s success -d 1.5 -l repo=promrun)
rss_always=$(rss "$REC" -c "$dir/always.ini" -j "$dir/always.journal" -w build -s success -d 1.5 -l repo=promrun)
rss_wrap=$(rss "$REC" -c "$dir/never.ini" -j "$dir/never.journal" -w build -- /bin/true)
rss_true=$(rss /bin/true)
rss_sqlite=$(rss sqlite3 "$dir/prpc.db" "INSERT INTO runs (name, success) VALUES ('build', 1)")
rss_python=$(rss "$PY" "$dir/record.py" "$dir/python.prom")

"$PY" - "$dir/times.json" "$rss_true" "$rss_never" "$rss_always" "$rss_wrap" "$rss_sqlite" "$rss_python" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in res.items()}
rss = dict(zip(["floor", "never", "always", "wrapper", "sqlite3", "python"], map(int, sys.argv[2:])))
print("promrun-record: record one run (median of %d runs each, same machine, same run)" % len(res["floor"]["times"]))
print("%-34s %10s %10s" % ("command", "median ms", "peak RSS"))
names = {"floor": "/bin/true (floor)", "never": "promrun-record fsync=never",
         "always": "promrun-record fsync=always", "sqlite3": "sqlite3 INSERT (prpc storage)",
         "python": "python3 prometheus_client"}
for k in ["floor", "never", "always", "sqlite3", "python"]:
    print("%-34s %10.3f %8d KiB" % (names[k], med[k], rss[k]))
print("%-34s %10s %8d KiB" % ("promrun-record -- /bin/true", "", rss["wrapper"]))
print()
checks = [
    ("fsync=never vs /bin/true", med["never"] / med["floor"], "<= 2.0", med["never"] / med["floor"] <= 2.0),
    ("python3 script vs fsync=never", med["python"] / med["never"], ">= 10", med["python"] / med["never"] >= 10),
    ("sqlite3 vs fsync=never", med["sqlite3"] / med["never"], "> 1", med["sqlite3"] / med["never"] > 1),
    ("sqlite3 vs fsync=always", med["sqlite3"] / med["always"], "(info)", True),
]
for name, ratio, goal, ok in checks:
    print("%-34s %8.2fx  goal %-7s %s" % (name, ratio, goal, "met" if ok else "MISSED"))
peak = max(rss["never"], rss["always"], rss["wrapper"])
print("%-34s %8d KiB goal < 2048 KiB %s" % ("peak RSS of promrun-record", peak, "met" if peak < 2048 else "MISSED"))
PY
