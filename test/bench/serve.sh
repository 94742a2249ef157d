#!/bin/sh
# Benchmark: promrun-serve, the receiver, against the peers a user would run
# instead.  All ratios come from this one run.
#
#   ingest   20,000 PRPC posts ({"name": ..., "success": true}) with ab at
#            concurrency 16, a new connection each (as CI jobs post),
#            promrun-serve with fsync = always (group commit), against
#            prometheus-pushgateway taking the same number of small POSTs
#            (not durable), and against PRPC's design: a Flask app doing one
#            SQLite UPSERT per run, under gunicorn with 2 workers (PRPC's
#            own code is not packaged and the network is closed, so this is
#            a stand-in written here; SQLite commits with its default
#            synchronous=FULL, durable as we are).  Afterwards promrun-serve
#            must count exactly 20,000 runs.
#   scrape   GET /metrics of about 10,000 series (ab, concurrency 4), against
#            the Pushgateway serving the same text; then one at a time, each
#            after a post, so the receiver renders anew every time.
#   memory   peak RSS (VmHWM) after 100,000 and after 1,000,000 runs of the
#            same series, posted in arrays of 1,000.
# Goals: ingest >= 5x the Pushgateway's rate and >= 15x PRPC's; p99 >= 2x
# lower than the Pushgateway's; scrape >= 5x faster, rendered anew too; RSS
# ratio < 1.2.
set -eu

: "${PROMRUN_BUILD:?run through make bench}"
SERVE="$PROMRUN_BUILD/promrun-serve"
PY=/usr/bin/python3
. "$(dirname "$0")/lib/bench.sh"
N=${BENCH_POSTS:-20000}
C=16
dir=$(mktemp -d "${TMPDIR:-/tmp}/serve-bench.XXXXXX")
pids=""
cleanup() {
	# shellcheck disable=SC2086 # one PID a word
	stop_peers $pids
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# start_serve NAME [ARG...]: promrun-serve with data in $dir/NAME; sets
# SERVE_URL and SERVE_PID.
start_serve() {
	name=$1
	shift
	port=$(free_port)
	"$SERVE" -c "$dir/empty.ini" -l "127.0.0.1:$port" -d "$dir/$name" "$@" \
	    >"$dir/$name.log" 2>&1 &
	SERVE_PID=$!
	pids="$pids $SERVE_PID"
	SERVE_URL="http://127.0.0.1:$port"
	wait_up "$SERVE_URL/health/live"
}

# ab_run URL BODY TYPE: ab's report; fails unless every request was 2xx.
ab_run() {
	out=$(ab -q -n "$N" -c "$C" -p "$2" -T "$3" "$1" 2>&1) || {
		printf '%s\n' "$out" >&2
		exit 1
	}
	if ! printf '%s\n' "$out" | grep -q '^Failed requests: *0$' ||
	    printf '%s\n' "$out" | grep -q '^Non-2xx responses'; then
		printf '%s\n' "$out" >&2
		echo "ab: requests failed against $1" >&2
		exit 1
	fi
	printf '%s\n' "$out"
}

rate() { sed -n 's/^Requests per second: *\([0-9.]*\) .*/\1/p'; }
p99() { sed -n 's/^ *99% *\([0-9]*\).*/\1/p'; }

: >"$dir/empty.ini"
printf '{"name": "bench", "success": true}' >"$dir/prpc.json"
printf 'bench_runs_total 1\n' >"$dir/gateway.txt"

# --- ingest ---
# The machine is shared: three rounds, the receiver (a fresh one each time,
# which must count exactly N runs) and the gateway taking turns; medians.
gw_port=$(free_port)
/usr/bin/prometheus-pushgateway --web.listen-address="127.0.0.1:$gw_port" \
    --persistence.file="$dir/gateway.persist" --log.level=warn \
    >"$dir/gateway.log" 2>&1 &
pids="$pids $!"
GW="http://127.0.0.1:$gw_port"
wait_up "$GW/-/ready"
: >"$dir/serve.rounds"
: >"$dir/gateway.rounds"
for round in 1 2 3; do
	start_serve "ingest$round"
	out=$(ab_run "$SERVE_URL/metrics" "$dir/prpc.json" application/json)
	counted=$(curl -fsS "$SERVE_URL/metrics" |
	    sed -n 's/^ci_workflow_runs_total{workflow="bench",status="success"} //p')
	[ "$counted" = "$N" ] || { echo "promrun-serve counted $counted runs, not $N" >&2; exit 1; }
	kill "$SERVE_PID"
	printf '%s %s\n' "$(printf '%s\n' "$out" | rate)" "$(printf '%s\n' "$out" | p99)" >>"$dir/serve.rounds"
	out=$(ab_run "$GW/metrics/job/bench/instance/runner" "$dir/gateway.txt" text/plain)
	printf '%s %s\n' "$(printf '%s\n' "$out" | rate)" "$(printf '%s\n' "$out" | p99)" >>"$dir/gateway.rounds"
done
median() { sort -n | sed -n 2p; }
s_rate=$(cut -d' ' -f1 "$dir/serve.rounds" | median)
s_p99=$(cut -d' ' -f2 "$dir/serve.rounds" | median)
g_rate=$(cut -d' ' -f1 "$dir/gateway.rounds" | median)
g_p99=$(cut -d' ' -f2 "$dir/gateway.rounds" | median)

cat >"$dir/prpc_like.py" <<'PY'
# A stand-in for pipeline-run-prometheus-counter: Flask, one SQLite UPSERT
# per POST /metrics, committed before the answer.
import os, sqlite3
import flask

app = flask.Flask(__name__)
DB = os.environ["BENCH_DB"]

def db():
    if "db" not in flask.g:
        flask.g.db = sqlite3.connect(DB)
    return flask.g.db

with sqlite3.connect(DB) as c:
    c.execute("CREATE TABLE IF NOT EXISTS runs (name TEXT PRIMARY KEY, "
              "success INTEGER NOT NULL, failure INTEGER NOT NULL)")

@app.route("/metrics", methods=["POST"])
def add():
    p = flask.request.get_json(force=True)
    ok = 1 if p["success"] else 0
    c = db()
    c.execute("INSERT INTO runs VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
              "success = success + ?, failure = failure + ?",
              (p["name"], ok, 1 - ok, ok, 1 - ok))
    c.commit()
    return flask.jsonify(p), 201
PY
pr_port=$(free_port)
(cd "$dir" && BENCH_DB="$dir/prpc.db" exec /usr/bin/gunicorn -w 2 \
    -b "127.0.0.1:$pr_port" --log-level warning prpc_like:app) \
    >"$dir/gunicorn.log" 2>&1 &
pids="$pids $!"
wait_up "http://127.0.0.1:$pr_port/"
pr_out=$(ab_run "http://127.0.0.1:$pr_port/metrics" "$dir/prpc.json" application/json)
p_rate=$(printf '%s\n' "$pr_out" | rate)
p_p99=$(printf '%s\n' "$pr_out" | p99)
pr_counted=$(sqlite3 "$dir/prpc.db" 'SELECT success FROM runs WHERE name = "bench"')

# --- scrape: about 10,000 series ---
printf '[render]\nmax_series = 100000\n' >"$dir/scrape.ini"
port=$(free_port)
"$SERVE" -c "$dir/scrape.ini" -l "127.0.0.1:$port" -d "$dir/scrape" \
    >"$dir/scrape.log" 2>&1 &
pids="$pids $!"
SC="http://127.0.0.1:$port"
wait_up "$SC/health/live"
"$PY" - "$SC" <<'PY'
import json, sys, urllib.request
# Runs without durations: 9 series each (5 statuses, up, last run, last
# success, in progress); 1,110 of them give 9,990 series.
runs = [{"workflow": "wf-%d" % (i % 370), "status": "ok", "labels": {"repo": "r%d" % (i // 370)}}
        for i in range(1110)]
for k in range(0, len(runs), 500):
    req = urllib.request.Request(sys.argv[1] + "/api/v1/runs",
                                 json.dumps(runs[k:k + 500], separators=(",", ":")).encode(),
                                 {"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
PY
curl -fsS "$SC/metrics" | sed '/^# HELP process_cpu_seconds_total/,$d' >"$dir/scrape.prom"
series=$(grep -vc '^#' "$dir/scrape.prom")
curl -fsS -X PUT --data-binary "@$dir/scrape.prom" "$GW/metrics/job/scrape" >/dev/null
sc_out=$(ab -q -n 400 -c 4 "$SC/metrics" 2>&1)
gws_out=$(ab -q -n 400 -c 4 "$GW/metrics" 2>&1)
sc_rate=$(printf '%s\n' "$sc_out" | rate)
gws_rate=$(printf '%s\n' "$gws_out" | rate)
# The same, each scrape after a post (the receiver renders anew), one at a
# time; medians of 40.
"$PY" - "$SC" "$GW" >"$dir/cold" <<'PY'
import json, sys, time, urllib.request
sc, gw = sys.argv[1], sys.argv[2]
def timed(url):
    t = time.monotonic()
    urllib.request.urlopen(url).read()
    return time.monotonic() - t
ours, theirs = [], []
for i in range(40):
    req = urllib.request.Request(sc + "/api/v1/runs",
                                 json.dumps({"workflow": "wf-1", "status": "ok", "labels": {"repo": "r0"}}).encode(),
                                 {"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
    ours.append(timed(sc + "/metrics"))
    theirs.append(timed(gw + "/metrics"))
ours.sort()
theirs.sort()
print("%.1f %.1f" % (1 / ours[20], 1 / theirs[20]))
PY
cold_rate=$(cut -d' ' -f1 "$dir/cold")
cold_gw=$(cut -d' ' -f2 "$dir/cold")

# --- memory: the same series, 100,000 then 1,000,000 runs ---
start_serve memory
"$PY" - "$SERVE_URL" "$SERVE_PID" >"$dir/memory.out" <<'PY'
import json, sys, urllib.request
url, pid = sys.argv[1], sys.argv[2]
# Compact, so 1,000 runs fit in a 64 KiB body.
body = json.dumps([{"workflow": "mem-%d" % (i % 10), "status": "ok", "duration_seconds": i % 600}
                   for i in range(1000)], separators=(",", ":")).encode()
def hwm():
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
for n in range(1, 1001):
    req = urllib.request.Request(url + "/api/v1/runs", body, {"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
    if n == 100:
        print(hwm())
print(hwm())
PY
hwm_100k=$(sed -n 1p "$dir/memory.out")
hwm_1m=$(sed -n 2p "$dir/memory.out")
mem_counted=$(curl -fsS "$SERVE_URL/metrics" |
    awk '/^ci_workflow_runs_total\{.*status="success"/ { n += $2 } END { print n }')

printf 'promrun-serve benchmark (%s posts, concurrency %s; ab, one connection each; medians of 3 rounds)\n' "$N" "$C"
printf '  ingest  promrun-serve, fsync always   %8.0f posts/s  p99 %4s ms  (%s runs counted)\n' "$s_rate" "$s_p99" "$counted"
printf '          prometheus-pushgateway POST   %8.0f posts/s  p99 %4s ms  (not durable)\n' "$g_rate" "$g_p99"
printf '          Flask+SQLite UPSERT, gunicorn %8.0f posts/s  p99 %4s ms  (%s runs counted)\n' "$p_rate" "$p_p99" "$pr_counted"
printf '  scrape  promrun-serve                 %8.0f scrapes/s (%s series; nothing posted in between)\n' "$sc_rate" "$series"
printf '          prometheus-pushgateway        %8.0f scrapes/s (the same series)\n' "$gws_rate"
printf '          promrun-serve, a post before each %4.0f scrapes/s, the gateway %.0f (one at a time)\n' "$cold_rate" "$cold_gw"
printf '  memory  peak RSS after 100k runs %s KiB, after 1M runs %s KiB (%s runs counted)\n' "$hwm_100k" "$hwm_1m" "$mem_counted"
awk -v s="$s_rate" -v g="$g_rate" -v p="$p_rate" -v sp="$s_p99" -v gp="$g_p99" \
    -v sc="$sc_rate" -v gs="$gws_rate" -v a="$hwm_100k" -v b="$hwm_1m" \
    -v cs="$cold_rate" -v cg="$cold_gw" 'BEGIN {
	printf "  ratios  ingest %.2fx the Pushgateway (goal >= 5), %.2fx Flask+SQLite (goal >= 15)\n", s / g, s / p
	printf "          p99 %.2fx lower than the Pushgateway (goal >= 2)\n", (sp > 0 ? gp / sp : gp / 0.5)
	printf "          scrape %.2fx the Pushgateway (goal >= 5); rendered anew each time %.2fx (goal >= 5)\n", sc / gs, cs / cg
	printf "          peak RSS 1M / 100k runs %.3f (goal < 1.2)\n", b / a
}'
