#!/usr/bin/env bats
# Scale-out: several promrun-serve receivers, each with its own journal,
# behind whatever spreads the runs among them; a real Prometheus scrapes
# them all, and PromQL puts them together: counters and histograms are
# summed, "last" gauges take the latest.

setup() {
	load 'test_helper/serve'
	load 'test_helper/prometheus'
	_common_setup
	printf '[journal]\nlabels = repo\n' >"$CONF"
}

teardown() {
	serve_stop
	stop_pid "${SECOND_PID:-}"
	stop_pid "${PROM_PID:-}"
	stop_background
}

# value EXPR: the one value Prometheus answers EXPR with.
value() {
	local out
	out=$(prom_query "$1") || return 1
	[ "$(wc -l <<<"$out")" -eq 1 ] || return 1
	jq -r .value <<<"$out"
}

# equals EXPR WANT: Prometheus answers EXPR with the one value WANT.
equals() {
	[ "$(value "$1")" = "$2" ]
}

@test "two receivers: the runs spread over them are counted once each, and sum() over both is the number sent" {
	serve_start
	DATA2="$BATS_TEST_TMPDIR/data2"
	SECOND_PORT=$(free_port)
	server_start "$BATS_TEST_TMPDIR/serve2.log" "$SECOND_PORT" promrun-serve \
	    -l "127.0.0.1:$SECOND_PORT" -d "$DATA2"
	SECOND_PID=$SERVER_PID
	local urls=("$SERVE_URL" "http://127.0.0.1:$SECOND_PORT") i status
	# 24 runs, every other one to each receiver; a third of them failures;
	# every fourth sent twice to its receiver (a retry), which counts once.
	for i in $(seq 24); do
		status=success
		[ $((i % 3)) -ne 0 ] || status=failure
		promrun-record --server "${urls[i % 2]}" -w build -s "$status" -d "$i" \
		    --run-id "r$i" -l repo=app
		[ $((i % 4)) -ne 0 ] || promrun-record --server "${urls[i % 2]}" \
		    -w build -s "$status" -d "$i" --run-id "r$i" -l repo=app
	done
	# The last run, a failure, on the first receiver; the second's last
	# was a success.
	promrun-record --server "${urls[0]}" -w build -s failure -d 1 --run-id r25 -l repo=app
	run journal_summary "$DATA/default/journal"
	assert_output --partial 'records=13 '
	run journal_summary "$DATA2/default/journal"
	assert_output --partial 'records=12 '
	mkdir -p "$BATS_TEST_TMPDIR/prom"
	cat >"$BATS_TEST_TMPDIR/prom/prometheus.yml" <<-YML
	global:
	  scrape_interval: 1s
	scrape_configs:
	  - job_name: promrun
	    static_configs:
	      - targets: ['127.0.0.1:$SERVE_PORT', '127.0.0.1:$SECOND_PORT']
	YML
	prometheus_start "$BATS_TEST_TMPDIR/prom"
	eventually 30 equals 'count(up{job="promrun"} == 1)' 2
	eventually 30 equals 'sum(ci_workflow_runs_total)' 25
	# Each receiver holds its share; statuses and histograms add up.
	run prom_query 'sum by (instance) (ci_workflow_runs_total)'
	assert_equal "${#lines[@]}" 2
	assert_line '{"metric":{"instance":"127.0.0.1:'"$SERVE_PORT"'"},"value":"13"}'
	assert_line '{"metric":{"instance":"127.0.0.1:'"$SECOND_PORT"'"},"value":"12"}'
	run value 'sum(ci_workflow_runs_total{status="failure"})'
	assert_output 9
	run value 'sum(ci_workflow_run_duration_seconds_count)'
	assert_output 25
	run value 'sum(ci_workflow_run_duration_seconds_sum)'
	assert_output 301
	run value 'sum(ci_workflow_run_duration_seconds_bucket{le="5"})'
	assert_output 6
	# "up" over both: did the latest success come no earlier than the
	# latest run?  The last run failed (on the first receiver), although
	# the second's own up is 1.
	local up='max by (workflow) (ci_workflow_last_success_timestamp_seconds) >= bool max by (workflow) (ci_workflow_last_run_timestamp_seconds)'
	run value "$up"
	assert_output 0
	run prom_query 'ci_workflow_up'
	assert_output --partial '"instance":"127.0.0.1:'"$SECOND_PORT"'","job":"promrun","repo":"app","workflow":"build"},"value":"1"}'
	# A success on the second receiver is now the latest run.
	promrun-record --server "${urls[1]}" -w build -s success -d 1 --run-id r26 -l repo=app
	eventually 30 equals "$up" 1
	eventually 30 equals 'sum(ci_workflow_runs_total)' 26
}
