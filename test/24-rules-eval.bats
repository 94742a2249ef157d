#!/usr/bin/env bats
# promrun-rules eval and backtest: PromQL and rules over the series a
# journal implies, as Prometheus would have scraped promrun-render's output
# every minute.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	cd "$BATS_TEST_TMPDIR" || return 1
	# A multiple of a minute, so scrapes fall on round times.
	T0=1699999980
}

rec() {
	promrun-record -j "$J" "$@" >/dev/null
}

@test "eval gives the values promrun-render renders, as of the last scrape" {
	rec -w build -s success -d 30 --time $((T0 + 10))
	rec -w build -s failure -d 40 --time $((T0 + 70))
	rec -w deploy -s success -d 5 --time $((T0 + 130))
	promrun-render -j "$J" -o out.prom --now $((T0 + 180))
	run -0 promrun-rules eval -j "$J" --time $((T0 + 200)) \
	    'ci_workflow_runs_total{status=~"success|failure"}'
	assert_line '{__name__="ci_workflow_runs_total", instance="localhost:9100", job="node", status="failure", workflow="build"} => 1 @[1700000180.000]'
	assert_line '{__name__="ci_workflow_runs_total", instance="localhost:9100", job="node", status="success", workflow="build"} => 1 @[1700000180.000]'
	assert_line '{__name__="ci_workflow_runs_total", instance="localhost:9100", job="node", status="success", workflow="deploy"} => 1 @[1700000180.000]'
	assert_equal "${#lines[@]}" 4
	grep -q 'ci_workflow_runs_total{workflow="deploy",status="success"} 1' out.prom
	# The failure at T0 + 70 s counts from the scrape at T0 + 120 s on;
	# deploy has no series before its first run.
	run -0 promrun-rules eval -j "$J" --time $((T0 + 100)) \
	    'sum(ci_workflow_runs_total{workflow="build", status="failure"})'
	assert_output '{} => 0 @[1700000080.000]'
	run -0 promrun-rules eval -j "$J" --time $((T0 + 100)) \
	    'ci_workflow_runs_total{workflow="deploy"}'
	assert_output ''
}

@test "eval: scalars, range queries and the query API's JSON" {
	rec -w build -s success -d 30 --time $((T0 + 10))
	rec -w build -s success -d 30 --time $((T0 + 70))
	run -0 promrun-rules eval -j "$J" --time $((T0 + 120)) '1 + 2'
	assert_output 'scalar: 3 @[1700000100.000]'
	run -0 promrun-rules eval -j "$J" --start $((T0 + 60)) --end $((T0 + 180)) \
	    --step 1m 'sum(ci_workflow_runs_total{status="success"})'
	assert_output $'{} =>\n1 @[1700000040.000]\n2 @[1700000100.000]\n2 @[1700000160.000]'
	run -0 promrun-rules eval -j "$J" -f json --time $((T0 + 120)) \
	    'ci_workflow_up'
	run jq -r '.status, .data.resultType, .data.result[0].metric.workflow, .data.result[0].value[1]' <<<"$output"
	assert_output $'success\nvector\nbuild\n1'
}

@test "backtest: when an alert went pending, firing and resolved" {
	rec -w build -s success -d 30 --time $((T0 + 10))
	rec -w build -s failure -d 30 --time $((T0 + 3610))
	rec -w build -s success -d 30 --time $((T0 + 10810))
	run -0 promrun-rules backtest -j "$J" --from $T0 --to $((T0 + 14400)) \
	    "$TOP/examples/rules/native.yml"
	assert_line 'alert {alertname="WorkflowDown", instance="localhost:9100", job="node", workflow="build"}'
	# The failure at T0 + 1h 10s is scraped at T0 + 1h 1m (23:14), fires
	# 30 minutes later; the success at T0 + 3h 10s ends it at T0 + 3h 1m.
	assert_line '  pending   2023-11-14T23:14:00Z'
	assert_line '  firing    2023-11-14T23:44:00Z'
	assert_line '  resolved  2023-11-15T01:14:00Z (firing 1h30m)'
	assert_line '  summary: The latest run of build failed'
	assert_line '  WorkflowDown: fired 1 time, firing for 1h30m; workflows: build'
	run -0 promrun-rules backtest -j "$J" --from $T0 --to $((T0 + 14400)) \
	    -f json "$TOP/examples/rules/native.yml"
	run jq -r '.alerts[1].alertname, .alerts[1].firing_at, .alerts[1].resolved_at, .totals[1].firing_seconds' <<<"$output"
	assert_output $'WorkflowDown\n2023-11-14T23:44:00Z\n2023-11-15T01:14:00Z\n5400'
}

@test "backtest: an alert still firing at the end is reported open" {
	rec -w nightly -s failure -d 30 --time $((T0 + 10))
	run -0 promrun-rules backtest -j "$J" --from $T0 --to $((T0 + 3600)) \
	    "$TOP/examples/rules/native.yml"
	assert_line '  firing    2023-11-14T22:44:00Z'
	assert_line '  still active at the end, 2023-11-14T23:13:00Z (firing 29m)'
}

@test "eval and backtest: usage errors and bad values exit 2, rule errors 1" {
	run -2 promrun-rules eval -j "$J"
	run -2 promrun-rules eval -j "$J" --time soon up
	assert_output --partial 'promrun-rules: --time'
	run -2 promrun-rules eval -j "$J" --start 0 up
	run -2 promrun-rules eval -j "$J" --time 100 'sum('
	run -2 promrun-rules backtest -j "$J" --from 0 "$TOP/examples/rules/native.yml"
	assert_output --partial 'backtest needs --from and --to'
	printf 'groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum(\n' >bad.yml
	run -1 promrun-rules backtest -j "$J" --from 0 --to 60 bad.yml
	assert_line --index 0 --partial 'bad.yml:5:15: error:'
	# A journal not written yet holds no runs: an empty answer.
	run -0 promrun-rules eval -j "$BATS_TEST_TMPDIR/none" --time 1000 ci_workflow_up
	assert_output ''
}
