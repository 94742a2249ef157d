#!/usr/bin/env bats
# promrun-push --remote-write: against a real Prometheus 2.42 started with
# --web.enable-remote-write-receiver and no scrape at all (every series in it
# came from promrun-push), a real VictoriaMetrics, and the HTTP stub for the
# faults neither can be made to produce.  What arrives is compared series by
# series, labels and value, with the textfile as python3-prometheus-client
# reads it (test/tools/prom-series.py).

load 'test_helper/pushgateway'
load 'test_helper/prometheus'

setup_file() {
	local dir=$BATS_FILE_TMPDIR/prometheus
	mkdir -p "$dir"
	printf 'global:\n  scrape_interval: 1m\nscrape_configs: []\n' >"$dir/prometheus.yml"
	prometheus_start "$dir" --web.enable-remote-write-receiver
}

teardown_file() {
	stop_pid "${PROM_PID:-}"
}

setup() {
	_common_setup
	cd "$BATS_TEST_TMPDIR"
	RW="$PROM_URL/api/v1/write"
	STUB_DIR="$BATS_TEST_TMPDIR/stub"
	# Each test its own job, so their series never meet in Prometheus.
	JOB="t$BATS_SUITE_TEST_NUMBER"
	printf '[push]\njob = %s\nstate_dir = %s/state\n' "$JOB" "$BATS_TEST_TMPDIR" >"$CONF"
}

teardown() {
	stub_stop
	stop_pid "${VM_PID:-}"
}

# render: promrun-render's textfile t.prom from the journal.
render() {
	promrun-render -j "$J" -o t.prom
}

# render_time FILE: the file's promrun_render_timestamp_seconds.
render_time() {
	sed -n 's/^promrun_render_timestamp_seconds{[^}]*} //p' "$1"
}

# held TIME: every series of the test's job in Prometheus at TIME, as
# prom-series lines.
held() {
	curl -fsS -G "$PROM_URL/api/v1/query" --data-urlencode "query={job=\"$JOB\"}" \
	    --data-urlencode "time=$1" >answer.json &&
	    "$BATS_TEST_DIRNAME/tools/prom-series.py" query answer.json
}

@test "every series of a textfile arrives in Prometheus with its labels and value, at the render time" {
	promrun-record -j "$J" -w build -s success -d 12
	promrun-record -j "$J" -w build -s failure -d 75
	promrun-record -j "$J" -w 'deploy "prod"' -s success -d 0.25
	render
	run promrun-push --remote-write "$RW" -g instance=runner-1 t.prom
	assert_success
	assert_output ''
	"$BATS_TEST_DIRNAME/tools/prom-series.py" text t.prom job="$JOB" instance=runner-1 >want
	# Every family is there: histograms, counters, gauges, promrun's own.
	[ "$(wc -l <want)" -ge 40 ]
	grep -q '^ci_workflow_run_duration_seconds_bucket' want
	run held "$(render_time t.prom)"
	assert_success
	assert_output "$(cat want)"
	# (Prometheus keeps no metadata that comes by remote write; the
	# MetricMetadata sent are checked byte by byte below.)
}

@test "a second push after new runs advances the counters, and the first push's values stay at their time" {
	promrun-record -j "$J" -w build -s success -d 12
	render
	promrun-push --remote-write "$RW" t.prom
	t1=$(render_time t.prom)
	sleep 1.1
	promrun-record -j "$J" -w build -s success -d 13
	promrun-record -j "$J" -w build -s failure -d 14
	render
	promrun-push --remote-write "$RW" t.prom
	t2=$(render_time t.prom)
	q="ci_workflow_runs_total{job=\"$JOB\",workflow=\"build\",status=~\"success|failure\"}"
	run prom_query_at "$q" "$t2"
	assert_output '{"metric":{"__name__":"ci_workflow_runs_total","job":"'"$JOB"'","status":"failure","workflow":"build"},"value":"1"}
{"metric":{"__name__":"ci_workflow_runs_total","job":"'"$JOB"'","status":"success","workflow":"build"},"value":"2"}'
	run prom_query_at "$q" "$t1"
	assert_output '{"metric":{"__name__":"ci_workflow_runs_total","job":"'"$JOB"'","status":"failure","workflow":"build"},"value":"0"}
{"metric":{"__name__":"ci_workflow_runs_total","job":"'"$JOB"'","status":"success","workflow":"build"},"value":"1"}'
}

# prom_query_at EXPR TIME: prom_query at TIME.
prom_query_at() {
	curl -fsS -G "$PROM_URL/api/v1/query" --data-urlencode "query=$1" \
	    --data-urlencode "time=$2" |
	    jq -c '.data.result[] | {metric: .metric, value: .value[1]}' | sort
}

@test "a series removed from the textfile disappears at once: a staleness marker, not five minutes of its last value" {
	printf 'kept 1\ngone{a="x"} 2\n' >m.prom
	promrun-push --remote-write "$RW" m.prom
	t1=$(date +%s.%N)
	sleep 1.1
	printf 'kept 3\n' >m.prom
	run promrun-push -v --remote-write "$RW" m.prom
	assert_success
	assert_output --partial 'sent 2 series (1 staleness markers) in 1 requests'
	t2=$(date +%s.%N)
	run prom_query_at "{job=\"$JOB\"}" "$t2"
	assert_output '{"metric":{"__name__":"kept","job":"'"$JOB"'"},"value":"3"}'
	# Before the second push it was there; without the marker it would
	# be for five more minutes.
	run prom_query_at "gone{job=\"$JOB\"}" "$t1"
	assert_output --partial '"value":"2"'
	run prom_query_at "count_over_time(gone{job=\"$JOB\"}[10m])" "$t2"
	assert_output --partial '"value":"1"'
	# The state forgot it: a third push sends no second marker.
	state-dump state/remote-write-*.state >dump
	run grep -c gone dump
	assert_output 0
	run promrun-push -v --remote-write "$RW" m.prom
	assert_output --partial 'sent 1 series (0 staleness markers)'
}

@test "timestamps never go backwards: an older render is sent after the last sample, a resend at the same time is harmless" {
	now=$(date +%s)
	printf 'promrun_render_timestamp_seconds %s\nx 1\n' "$now" >a.prom
	printf 'promrun_render_timestamp_seconds %s\nx 2\n' "$((now - 600))" >old.prom
	promrun-push --remote-write "$RW" a.prom
	run promrun-push --remote-write "$RW" a.prom
	assert_success
	run promrun-push --remote-write "$RW" old.prom
	assert_success
	# x=2 went one millisecond after x=1, instead of 10 minutes before it.
	state-dump state/remote-write-*.state >dump
	run awk '$4 ~ /^x\{/ { print $1, $3 }' dump
	assert_output "$((now * 1000 + 1)) 4000000000000000"
	run prom_query_at "x{job=\"$JOB\"}" "$now.001"
	assert_output --partial '"value":"2"'
}

@test "a sample Prometheus refuses as out of order or too old: its reason, exit 1, one attempt, state untouched" {
	now=$(date +%s)
	printf 'promrun_render_timestamp_seconds %s\nx 1\n' "$now" >a.prom
	promrun-push --remote-write "$RW" a.prom
	# Another sender (another state) is behind: out of order.
	printf 'promrun_render_timestamp_seconds %s\nx 2\n' "$((now - 60))" >b.prom
	run --separate-stderr promrun-push -v --remote-write "$RW" --state-dir other b.prom
	assert_failure 1
	[ "$(grep -c ': attempt [0-9]*: ' <<<"$stderr")" -eq 1 ]
	assert_equal "${stderr_lines[-1]}" "promrun-push: remote-write receiver refused the push of 2 series (request 1) (HTTP 400): out of order sample"
	[ ! -e other/remote-write-*.state ] || [ "$(wc -l <other/remote-write-*.state)" -eq 0 ]
	# Three hours old, older than the head block: out of bounds.
	printf 'promrun_render_timestamp_seconds %s\nnew_series 2\n' "$((now - 10800))" >c.prom
	run --separate-stderr promrun-push --remote-write "$RW" --state-dir third c.prom
	assert_failure 1
	assert_equal "$stderr" "promrun-push: remote-write receiver refused the push of 2 series (request 1) (HTTP 400): out of bounds"
}

@test "a push refused with 400 leaves the journal, the textfile and the state as they were" {
	promrun-record -j "$J" -w build -s success -d 1
	render
	promrun-push --remote-write "$RW" t.prom
	sleep 1.1
	promrun-record -j "$J" -w build -s success -d 2
	render
	# Another sender got further ahead than this textfile's render time.
	sed "s/^\(promrun_render_timestamp_seconds{[^}]*}\) .*/\1 $(($(date +%s) + 100))/" t.prom >ahead.prom
	promrun-push --remote-write "$RW" --state-dir other ahead.prom
	cp "$J" j.before; cp t.prom t.before; cp state/remote-write-*.state state.before
	run --separate-stderr promrun-push --remote-write "$RW" t.prom
	assert_failure 1
	assert_equal "$stderr" "promrun-push: remote-write receiver refused the push of $(grep -vc '^#' t.prom) series (request 1) (HTTP 400): out of order sample"
	cmp "$J" j.before
	cmp t.prom t.before
	cmp state/remote-write-*.state state.before
}

@test "labels are sorted and validated before anything is sent: a label the grouping key also sets, empty values, a name remote write refuses" {
	stub_start "$STUB_DIR" status 204
	printf 'm{job="other"} 1\n' >clash.prom
	run promrun-push --remote-write "$STUB_URL" clash.prom
	assert_failure 2
	assert_output "promrun-push: clash.prom:1: m would have label job twice, \"other\" from the sample and \"$JOB\" from the grouping key: a series has each label once; drop the label or change -g/--job"
	printf 'm{a=""} 1\nm 2\n' >dup.prom
	run promrun-push --remote-write "$STUB_URL" dup.prom
	assert_failure 2
	assert_output "promrun-push: dup.prom:2: duplicate series m with the same labels as line 1 once labels with empty values are left out (Prometheus reads them as absent)"
	[ "$(stub_requests "$STUB_DIR")" -eq 0 ]
	# Sorted, __name__ among them ("Z" < "__name__" < "a"), empty ones left out.
	printf 'm{z="1",Z="2",a="3",e=""} 1\n' >order.prom
	run promrun-push --remote-write "$STUB_URL" -g instance=i order.prom
	assert_success
	push-encode snappy-d <"$STUB_DIR/body-1" | protoc --decode_raw >decoded
	run grep -A1 -E '^    1: "' decoded
	assert_output --partial 'Z'
	run sed -n 's/^    1: "\(.*\)"$/\1/p' decoded
	assert_output 'Z
__name__
a
instance
job
z'
}

@test "the request carries remote write 1.0's headers, the tenant and the user agent; what it holds decodes to the series" {
	stub_start "$STUB_DIR" status 204
	printf '# HELP m A gauge.\n# TYPE m gauge\nm{a="1"} 2.5\n' >m.prom
	run promrun-push --remote-write "$STUB_URL/api/v1/write" --tenant team-a m.prom
	assert_success
	run cat "$STUB_DIR/requests"
	assert_line 'REQUEST POST /api/v1/write HTTP/1.1'
	assert_line 'Content-Encoding: snappy'
	assert_line 'Content-Type: application/x-protobuf'
	assert_line 'X-Prometheus-Remote-Write-Version: 0.1.0'
	assert_line 'X-Scope-OrgID: team-a'
	assert_line 'User-Agent: promrun-push/0.1.0'
	refute_line --partial 'Expect:'
	state-dump state/remote-write-*-*.state >dump
	t=$(awk '$4 ~ /^m\{/ { print $1 }' dump)
	run sh -c "push-encode snappy-d <'$STUB_DIR/body-1' | protoc --decode_raw"
	assert_success
	assert_output "1 {
  1 {
    1: \"__name__\"
    2: \"m\"
  }
  1 {
    1: \"a\"
    2: \"1\"
  }
  1 {
    1: \"job\"
    2: \"$JOB\"
  }
  2 {
    1: 0x4004000000000000
    2: $t
  }
}
3 {
  1: 2
  2: \"m\"
  4: \"A gauge.\"
}"
	# The tenant is part of the destination: its own state file.
	run promrun-push --remote-write "$STUB_URL/api/v1/write" --tenant team-b m.prom
	[ "$(ls state | grep -c '\.state$')" -eq 2 ]
	run promrun-push --remote-write "$STUB_URL" --tenant 'a b' m.prom
	assert_failure 2
	assert_output "promrun-push: invalid tenant \"a b\": use 1 to 150 of A-Z a-z 0-9 ! - _ . * ' ( ), not . or .."
}

@test "500 and 429 with Retry-After are retried on the backoff's schedule, then 204 is success; the retries are capped" {
	stub_start "$STUB_DIR" status 500 429+1 204
	printf 'm 1\n' >m.prom
	run --separate-stderr promrun-push -v --remote-write "$STUB_URL" m.prom
	assert_success
	[ "$(stub_requests "$STUB_DIR")" -eq 3 ]
	# The first wait within equal jitter's 0.25-0.5 s, the second the
	# answer's Retry-After of 1 s, longer than the backoff's 0.5-1 s.
	waits=$(grep -o 'retry [0-9] of 3 in [0-9.]*' <<<"$stderr" | awk '{print $NF}')
	paste -d' ' <(echo "$waits") <(printf '0.25 0.5\n1 1\n') |
	    awk '{ if ($1 < $2 || $1 > $3) exit 1 }'
	awk '/^AT / { print $2 }' "$STUB_DIR/requests" >at
	awk 'NR > 1 { d = $1 - prev; if (NR == 3 && (d < 1 || d > 1.5)) exit 1 } { prev = $1 }' at
	# Retried at most --retries times.
	stub_stop
	stub_start "$STUB_DIR" status 503
	run --separate-stderr promrun-push --remote-write "$STUB_URL" --retries 2 m.prom
	assert_failure 1
	[ "$(stub_requests "$STUB_DIR")" -eq 3 ]
	assert_equal "$stderr" "promrun-push: remote-write receiver refused the push of 1 series (request 1) (HTTP 503, 3 attempts): stub answer 503"
}

@test "a 400 is final: its body shown, exit 1, one attempt, no state written" {
	stub_start "$STUB_DIR" status 400
	printf 'm 1\n' >m.prom
	run --separate-stderr promrun-push --remote-write "$STUB_URL" m.prom
	assert_failure 1
	[ "$(stub_requests "$STUB_DIR")" -eq 1 ]
	assert_equal "$stderr" "promrun-push: remote-write receiver refused the push of 1 series (request 1) (HTTP 400): stub answer 400"
	run compgen -G 'state/*.state'
	assert_failure
}

@test "a client that cannot be made is reported first and changes nothing: no state directory for a new destination, the state as it was for a known one" {
	stub_start "$STUB_DIR" status 204
	printf 'm 1\n' >m.prom
	printf 'm{ 1\n' >bad.prom
	run --separate-stderr promrun-push --remote-write "$STUB_URL" --state-dir new \
	    --user u --password-file missing m.prom
	assert_failure 2
	assert_equal "$stderr" "promrun-push: cannot read password file missing: No such file or directory"
	[ ! -e new ]
	# Known: its state is read, locked and matched while libcurl loads.
	promrun-push --remote-write "$STUB_URL" --state-dir st m.prom
	cp st/remote-write-*.state state.before
	printf 'm 2\n' >m.prom
	for input in m.prom bad.prom; do
		run --separate-stderr promrun-push --remote-write "$STUB_URL" --state-dir st \
		    --user u --password-file missing "$input"
		assert_failure 2
		assert_equal "$stderr" "promrun-push: cannot read password file missing: No such file or directory"
	done
	cmp st/remote-write-*.state state.before
	run compgen -G 'st/.*.tmp'
	assert_failure
	[ "$(stub_requests "$STUB_DIR")" -eq 1 ]
}

@test "the state replaced keeps a second name until the next push, which removes it; a refused push leaves the state alone and no second name" {
	stub_start "$STUB_DIR" status 204 204 204 400
	for v in 1 2 3; do
		printf 'm %s\n' "$v" >m.prom
		promrun-push --remote-write "$STUB_URL" --state-dir st m.prom
		cp st/remote-write-*.state "state.$v"
	done
	# Only the last one before: the one before that is gone.
	run compgen -G 'st/.*.prev'
	assert_success
	assert_output "$(printf 'st/.%s.prev' "$(basename st/remote-write-*.state)")"
	cmp st/.remote-write-*.state.prev state.2
	cmp st/remote-write-*.state state.3
	printf 'm 4\n' >m.prom
	run --separate-stderr promrun-push --remote-write "$STUB_URL" --state-dir st m.prom
	assert_failure 1
	cmp st/remote-write-*.state state.3
	run compgen -G 'st/.*'
	assert_failure
}

@test "a large push is split into requests of at most 4 MiB, each a whole WriteRequest" {
	stub_start "$STUB_DIR" status 204
	"$PYTHON3" -c 'import sys
for i in range(60000):
    sys.stdout.write("big_series_with_a_long_name{workflow=\"workflow-%d\",repo=\"repository-number-%d\"} %d\n" % (i, i % 97, i))' >big.prom
	run promrun-push -v --remote-write "$STUB_URL" big.prom
	assert_success
	n=$(stub_requests "$STUB_DIR")
	[ "$n" -ge 2 ]
	total=0
	for i in $(seq "$n"); do
		push-encode snappy-d <"$STUB_DIR/body-$i" >raw
		size=$(stat -c %s raw)
		[ "$size" -le $((4 << 20)) ]
		count=$(protoc --decode_raw <raw | grep -c '^1 {')
		total=$((total + count))
	done
	[ "$total" -eq 60000 ]
}

# vm_export N: VictoriaMetrics' export of the test's job into export.json;
# fails until it holds N series.
vm_export() {
	curl -fsS -G "http://127.0.0.1:$VM_PORT/api/v1/export" \
	    --data-urlencode "match[]={job=\"$JOB\"}" >export.json &&
	    [ "$(grep -c . export.json)" -eq "$1" ]
}

@test "VictoriaMetrics gets the same push and holds the same series and values (its export API)" {
	VM_PORT=$(free_port)
	server_start vm.log "$VM_PORT" victoria-metrics \
	    -httpListenAddr="127.0.0.1:$VM_PORT" -storageDataPath="$BATS_TEST_TMPDIR/vm" \
	    -loggerLevel=ERROR
	VM_PID=$SERVER_PID
	promrun-record -j "$J" -w build -s success -d 12
	promrun-record -j "$J" -w 'deploy "prod"' -s timeout -d 3600
	render
	run promrun-push --remote-write "http://127.0.0.1:$VM_PORT/api/v1/write" -g instance=runner-1 t.prom
	assert_success
	# VictoriaMetrics keeps 12 significant digits of a value.
	"$BATS_TEST_DIRNAME/tools/prom-series.py" -d12 text t.prom job="$JOB" instance=runner-1 >want
	# New series become searchable within a second or so.
	curl -fsS "http://127.0.0.1:$VM_PORT/internal/force_flush"
	eventually 10 vm_export "$(wc -l <want)"
	run "$BATS_TEST_DIRNAME/tools/prom-series.py" -d12 export export.json
	assert_success
	assert_output "$(cat want)"
	# At the render time, to the millisecond.
	run jq -rs 'map(.timestamps[-1]) | unique[]' export.json
	assert_output "$(awk '{ printf "%.0f\n", $1 * 1000 }' <<<"$(render_time t.prom)")"
}

@test "an input without samples is refused for endpoints too (a failed render in a pipe must not mark every series stale); --allow-empty sends it" {
	stub_start "$STUB_DIR" status 204
	printf 'm 1\n' >one.prom
	promrun-push --remote-write "$STUB_URL" --state-dir st one.prom
	cp st/remote-write-*.state state.before
	printf '# HELP m x\n# TYPE m gauge\n' >empty.prom
	run --separate-stderr promrun-push --remote-write "$STUB_URL" --state-dir st empty.prom
	assert_failure 2
	assert_equal "$stderr" "promrun-push: empty.prom: no samples (empty, or comments only): nothing sent, the group {job=\"$JOB\"} keeps its series (--allow-empty to push it anyway)"
	run --separate-stderr promrun-push --otlp "$STUB_URL/v1/metrics" --state-dir st - <empty.prom
	assert_failure 2
	[ "$(stub_requests "$STUB_DIR")" -eq 1 ]
	cmp st/remote-write-*.state state.before
	# meant: the series goes stale at once
	run promrun-push -v --remote-write "$STUB_URL" --state-dir st --allow-empty empty.prom
	assert_success
	assert_output --partial 'sent 1 series (1 staleness markers) in 1 requests'
	[ "$(stub_requests "$STUB_DIR")" -eq 2 ]
}
