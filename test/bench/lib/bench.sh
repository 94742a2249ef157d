# shellcheck shell=sh
# Sourced by the benchmarks that start a peer and push to it: one free
# port, one wait, one series file, so every bench measures the same input.
# Needs PY (the Python with Debian's python3 packages).

# free_port: a free TCP port on 127.0.0.1.
free_port() {
	"$PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# stop_peers PID...: stop the servers a bench started, and wait until they
# have exited, so that none still writes in the bench's directory while it
# is removed (a Pushgateway writes its persistence file as it stops, and
# "rm -rf" then fails on a directory that is not empty).
stop_peers() {
	for _p in "$@"; do kill "$_p" 2>/dev/null || true; done
	for _p in "$@"; do wait "$_p" 2>/dev/null || true; done
}

# wait_up URL [LOG]: until URL answers (at most 20 s); else LOG is shown.
wait_up() {
	_i=0
	until curl -s -o /dev/null "$1"; do
		_i=$((_i + 1))
		if [ "$_i" -ge 200 ]; then
			echo "nothing answers at $1" >&2
			[ -z "${2:-}" ] || cat "$2" >&2
			exit 1
		fi
		sleep 0.1
	done
}

# bench_series FILE N [now]: N series in 5 families, as a CI textfile might
# hold; with "now", promrun_render_timestamp_seconds too (the N+1st), as a
# render writes it.
bench_series() {
	"$PY" - "$1" "$2" "${3:-}" <<'PY'
import sys, time
path, n, now = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "now"
per = n // 5
with open(path, "w") as f:
    for fam, kind in (("bench_runs_total", "counter"), ("bench_up", "gauge"),
                      ("bench_last_run_duration_seconds", "gauge"),
                      ("bench_last_run_timestamp_seconds", "gauge"),
                      ("bench_in_progress", "gauge")):
        f.write("# HELP %s Benchmark family.\n# TYPE %s %s\n" % (fam, fam, kind))
        for i in range(per):
            f.write('%s{workflow="workflow-%d",repo="repo-%d",status="success"} %d.5\n'
                    % (fam, i, i % 50, i))
    if now:
        f.write("promrun_render_timestamp_seconds %.3f\n" % time.time())
PY
}
