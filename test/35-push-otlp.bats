#!/usr/bin/env bats
# promrun-push --otlp: no OTLP backend installs offline, so the receiver is
# test/otlp-sink, which decodes every request with OpenTelemetry's own
# generated protobuf code (@opentelemetry/otlp-transformer, the version
# pinned in its package-lock.json, installed with npm ci into the build
# directory) under Debian's nodejs.  What it decoded is compared with what
# test/tools/otlp-expect.py works out from the textfile on its own.

load 'test_helper/pushgateway'

setup_file() {
	SINK="$PROMRUN_BUILD/otlp-sink"
	mkdir -p "$SINK"
	# npm ci only when the pinned versions changed.
	if ! cmp -s "$BATS_TEST_DIRNAME/otlp-sink/package-lock.json" "$SINK/package-lock.json" ||
	    [ ! -d "$SINK/node_modules" ]; then
		cp "$BATS_TEST_DIRNAME/otlp-sink/package.json" \
		    "$BATS_TEST_DIRNAME/otlp-sink/package-lock.json" "$SINK/"
		(cd "$SINK" && npm ci --ignore-scripts --no-audit --no-fund >npm.log 2>&1) || {
			cat "$SINK/npm.log" >&2
			return 1
		}
	fi
	cp "$BATS_TEST_DIRNAME/otlp-sink/sink.js" "$SINK/"
	export SINK
}

setup() {
	_common_setup
	cd "$BATS_TEST_TMPDIR"
	printf '[journal]\npath = %s\n[push]\nstate_dir = %s/state\n' "$J" "$BATS_TEST_TMPDIR" >"$CONF"
	HOST=$(uname -n)
}

teardown() {
	stop_pid "${SINK_PID:-}"
}

# sink_start MODE...: the sink in ./sink; exports SINK_URL.
sink_start() {
	mkdir -p sink
	node "$SINK/sink.js" "$BATS_TEST_TMPDIR/sink" "$@" >sink.log 2>&1 3>&- &
	SINK_PID=$!
	for _ in $(seq 100); do
		[ -s sink/port ] && break
		sleep 0.05
	done
	SINK_URL="http://127.0.0.1:$(cat sink/port)/v1/metrics"
}

expect() {
	"$PYTHON3" "$BATS_TEST_DIRNAME/tools/otlp-expect.py" --host "$HOST" "$@"
}

# first_record_ms: the time of the journal's first record, in ms.
first_record_ms() {
	journal_payloads "$J" | head -n 1 | sed 's/.* time=\([0-9.]*\) .*/\1/' |
	    awk '{ printf "%.0f\n", $1 * 1000 }'
}

@test "every series of promrun's textfile arrives with its value, type, temporality, monotonicity, start time, attributes and buckets; the JSON mapping says the same" {
	promrun-record -j "$J" -w build -s success -d 12
	promrun-record -j "$J" -w build -s failure -d 75
	promrun-record -j "$J" -w 'deploy "prod"' -s timeout -d 3600 -l repo=app
	promrun-render -j "$J" -o t.prom
	sink_start ok
	run promrun-push --otlp "$SINK_URL" -g instance=runner-1 t.prom
	assert_success
	assert_output ''
	expect --start-ms "$(first_record_ms)" t.prom job=promrun instance=runner-1 >want
	grep -q ' histogram ' want && grep -q 'monotonic=true' want
	run sort sink/points-1
	assert_output "$(cat want)"
	grep -q '^Content-Type: application/x-protobuf$' sink/request-1
	run promrun-push --otlp "$SINK_URL" --otlp-json -g instance=runner-1 t.prom
	assert_success
	grep -q '^Content-Type: application/json$' sink/request-2
	run sort sink/points-2
	assert_output "$(cat want)"
}

@test "arbitrary input: a counter starts at process_start_time_seconds, else at its first push; a reset starts it after the last push; summaries and untyped map too" {
	now=$(date +%s)
	cat >a.prom <<-EOF
	# TYPE jobs_total counter
	jobs_total{kind="x"} 5
	# TYPE lat summary
	lat{quantile="0.5"} 0.25
	lat{quantile="0.99"} 1.5
	lat_sum 10
	lat_count 7
	plain 3
	promrun_render_timestamp_seconds $now
	EOF
	sink_start ok
	promrun-push --otlp "$SINK_URL" a.prom
	run sort sink/points-1
	assert_output "$(expect a.prom job=promrun)"
	# The start is kept while the count grows...
	sed -e "s/ 5\$/ 9/" -e "s/^promrun_render_timestamp_seconds .*/promrun_render_timestamp_seconds $((now + 60))/" a.prom >b.prom
	promrun-push --otlp "$SINK_URL" b.prom
	run sort sink/points-2
	assert_output "$(expect --start-ms "$((now * 1000))" b.prom job=promrun)"
	# ...and after a reset it is the millisecond after the last push.
	sed -e "s/ 5\$/ 1/" -e "s/^promrun_render_timestamp_seconds .*/promrun_render_timestamp_seconds $((now + 120))/" a.prom >c.prom
	promrun-push --otlp "$SINK_URL" c.prom
	run grep '^point jobs_total ' sink/points-3
	assert_output --partial "start=$(((now + 60) * 1000 + 1))000000 "
	# process_start_time_seconds, when the input has it, on a new series.
	printf 'process_start_time_seconds %s\n# TYPE new_total counter\nnew_total 1\npromrun_render_timestamp_seconds %s\n' "$((now - 3600))" "$now" >d.prom
	promrun-push --otlp "$SINK_URL" --state-dir other d.prom
	run grep '^point new_total ' sink/points-4
	assert_output --partial "start=$(((now - 3600) * 1000))000000 "
}

@test "resource attributes: service.name, host.name, --otlp-resource and [push] otlp_resource; the tenant header" {
	printf 'm 1\n' >m.prom
	sink_start ok
	run promrun-push --otlp "$SINK_URL" --otlp-resource deployment.environment=prod \
	    --otlp-resource service.name=ci --tenant team-a m.prom
	assert_success
	run grep '^resource ' sink/points-1
	assert_output "resource service.name=ci
resource host.name=$HOST
resource deployment.environment=prod"
	grep -q '^X-Scope-OrgID: team-a$' sink/request-1
	printf '[push]\notlp_url = %s\notlp_resource = team=ci, zone=eu\nstate_dir = %s/state\n' "$SINK_URL" "$BATS_TEST_TMPDIR" >"$CONF"
	run promrun-push --mode otlp m.prom
	assert_success
	run grep '^resource ' sink/points-2
	assert_output "resource service.name=promrun
resource host.name=$HOST
resource team=ci
resource zone=eu"
	run promrun-push --otlp "$SINK_URL" --otlp-resource novalue m.prom
	assert_failure 2
	assert_output 'promrun-push: --otlp-resource novalue: use KEY=VALUE'
}

@test "only 429, 502, 503 and 504 are retried; a 500 or 400 is final; a partial success is reported, exit 1, not retried" {
	printf 'm 1\nn 2\n' >m.prom
	sink_start 503 429 ok
	run --separate-stderr promrun-push -v --otlp "$SINK_URL" m.prom
	assert_success
	[ -e sink/request-3 ] && [ ! -e sink/request-4 ]
	stop_pid "$SINK_PID"
	rm -rf sink
	sink_start 500
	run --separate-stderr promrun-push --otlp "$SINK_URL" m.prom
	assert_failure 1
	assert_equal "$stderr" "promrun-push: OTLP receiver refused the push of 2 series (HTTP 500): sink 500"
	[ ! -e sink/request-2 ]
	stop_pid "$SINK_PID"
	rm -rf sink state
	sink_start 'partial:1:m is too old'
	run --separate-stderr promrun-push --otlp "$SINK_URL" m.prom
	assert_failure 1
	assert_equal "$stderr" "promrun-push: OTLP receiver accepted the push only in part: 1 data points rejected: m is too old (not retried)"
	[ ! -e sink/request-2 ]
	# What was accepted is in: the state moved on.
	compgen -G 'state/otlp-*.state'
	run promrun-push --otlp "$SINK_URL" --otlp-json m.prom
	assert_failure 1
	assert_output --partial '1 data points rejected: m is too old'
}
