#!/usr/bin/env bats
# The whole chain a user runs, with real servers on free 127.0.0.1 ports:
# runs recorded in the journal, rendered by the render unit's command line
# into promrun's textfile, which node_exporter reads through the link make
# install puts in its textfile directory, pushed by the push unit's command
# line to a Pushgateway, scraped every second by a Prometheus server that
# loads examples/prometheus.yml and examples/alerts.yml ("for" shortened to
# 1s); then Prometheus's HTTP API tells what the user would see.  Runs are
# recorded by the wrapper and by scripts/promrun-ci.  The tests
# run in order and share the servers (setup_file).

load 'test_helper/pushgateway'
load 'test_helper/prometheus'
load 'test_helper/systemd'

setup_file() {
	local ex="$BATS_TEST_DIRNAME/../examples" p="$BATS_FILE_TMPDIR/prometheus"
	export PATH="$PROMRUN_BUILD:$PATH"
	units_stage "$BATS_FILE_TMPDIR/units"
	node_exporter_start "$BATS_FILE_TMPDIR/node" "$NODE_TEXTFILE"
	gateway_start "$BATS_FILE_TMPDIR/gateway"
	mkdir -p "$p"
	sed -E 's/^( *for:).*/\1 1s/' "$ex/alerts.yml" >"$p/alerts.yml"
	sed -e 's/^\( *\)scrape_interval: .*/\1scrape_interval: 1s/' \
	    -e 's/^\( *\)evaluation_interval: .*/\1evaluation_interval: 1s/' \
	    -e "s/localhost:9100/127.0.0.1:$NE_PORT/" \
	    -e "s/localhost:9091/127.0.0.1:$GW_PORT/" \
	    "$ex/prometheus.yml" >"$p/prometheus.yml"
	grep -q "127.0.0.1:$NE_PORT" "$p/prometheus.yml"
	grep -q "127.0.0.1:$GW_PORT" "$p/prometheus.yml"
	grep -q 'for: 1s' "$p/alerts.yml"
	prometheus_start "$p"
	printf '[journal]\nlabels = repo, branch, runner\n[push]\nurl = %s\n' \
	    "$GW_URL" >"$BATS_FILE_TMPDIR/promrun.ini"
	export HOST_NAME
	HOST_NAME=$(uname -n)
}

teardown_file() {
	stop_pid "${PROM_PID:-}"
	stop_pid "${NE_PID:-}"
	gateway_stop
}

setup() {
	_common_setup
	export PROMRUN_CONFIG="$BATS_FILE_TMPDIR/promrun.ini"
	J="$STATE/journal"
	cd "$BATS_TEST_TMPDIR" || return 1
}

# render / push: what promrun-render.service and promrun-push.service run.
render() {
	unit_run "$UNITS/promrun-render.service" ExecStart promrun-render.service
}
push() {
	unit_run "$UNITS/promrun-push.service" ExecStart promrun-push.service
}

# is EXPECTED COMMAND...: COMMAND prints exactly EXPECTED.
is() {
	local out
	out=$("${@:2}") || return 1
	[ "$out" = "$1" ] || { printf '%s\n' "$out"; return 1; }
}

# values EXPR LABEL: "LABEL-VALUE VALUE" of each series EXPR returns.
values() {
	local -
	set -o pipefail
	prom_query "$1" | jq -r --arg l "$2" '.metric[$l] + " " + .value' | sort
}

# workflow_up WORKFLOW: "JOB VALUE" of each ci_workflow_up series of it.
workflow_up() {
	values "ci_workflow_up{workflow=\"$1\"}" job
}

# firing ALERT LABELS-JSON...: the JSON lines prom_alerts prints for those
# alerts, all firing.
firing() {
	local name=$1 labels
	shift
	for labels in "$@"; do
		jq -c --arg n "$name" '{state: "firing",
		    labels: ({alertname: $n} + .)}' <<<"$labels"
	done | sort
}

@test "failed runs reach Prometheus through node_exporter and the Pushgateway, and WorkflowDown fires for each" {
	# A cron-style job through the wrapper, and a GitHub Actions job
	# through the CI hook, with the variables GitHub sets.
	run promrun-record -j "$J" -w nightly-backup -- false
	assert_failure 1
	run env -u GITHUB_HEAD_REF GITHUB_ACTIONS=true GITHUB_WORKFLOW=build \
	    GITHUB_RUN_ID=1001 GITHUB_RUN_ATTEMPT=1 GITHUB_REPOSITORY=acme/app \
	    GITHUB_REF_NAME=main RUNNER_NAME=gha \
	    PROMRUN_CI_STARTED=$(($(date +%s) - 42)) \
	    "$BATS_TEST_DIRNAME/../scripts/promrun-ci" --strict -j "$J" failure
	assert_success
	render
	push
	eventually 30 is 'node 0
promrun 0' workflow_up nightly-backup
	run prom_query 'ci_workflow_runs_total{workflow="build",status="failure",job="node"}'
	assert_output --partial '"branch":"main","instance":"127.0.0.1:'"$NE_PORT"'","job":"node","repo":"acme/app","runner":"gha"'
	assert_output --partial '"value":"1"'
	run values 'ci_workflow_last_run_duration_seconds{workflow="build",job="node"} >= 42' workflow
	assert_output --regexp '^build 4[23](\.[0-9]+)?$'
	eventually 30 is "$(firing WorkflowDown \
	    '{"severity": "critical", "workflow": "build"}' \
	    '{"severity": "critical", "workflow": "nightly-backup"}')" \
	    prom_alerts WorkflowDown
}

@test "a success resolves the workflow's alert; the other workflow's keeps firing" {
	run promrun-record -j "$J" -w nightly-backup -- true
	assert_success
	render
	push
	eventually 30 is 'node 1
promrun 1' workflow_up nightly-backup
	eventually 30 is "$(firing WorkflowDown \
	    '{"severity": "critical", "workflow": "build"}')" \
	    prom_alerts WorkflowDown
}

# summaries ALERT: "WORKFLOW: SUMMARY" of each active ALERT, sorted.
summaries() {
	prom_alerts "$1" '.labels.workflow + ": " + .annotations.summary'
}

@test "a workflow whose runs all failed fires WorkflowNoRecentSuccess, saying it never succeeded; one that succeeded does not" {
	eventually 30 is 'node 0
promrun 0' values 'ci_workflow_last_success_timestamp_seconds{workflow="build"}' job
	eventually 30 is 'build: Workflow build has never succeeded' \
	    summaries WorkflowNoRecentSuccess
}

@test "a textfile node_exporter sees unchanged for 10 minutes fires PromrunTextfileStale; the next render resolves it" {
	touch -d '-10 minutes' "$TEXTFILE/promrun.prom"
	eventually 30 is "$(firing PromrunTextfileStale "$(jq -nc \
	    --arg f "$NODE_TEXTFILE/promrun.prom" --arg i "127.0.0.1:$NE_PORT" \
	    '{file: $f, instance: $i, job: "node", severity: "warning"}')")" \
	    prom_alerts PromrunTextfileStale
	render
	eventually 30 is '' prom_alerts PromrunTextfileStale
}

@test "a push the gateway refuses fires PromrunPushFailing; the next accepted push resolves it" {
	# Another group holds ci_step_runs_total as a gauge: the gateway refuses
	# our counter of that name once a step run is rendered.
	printf '# TYPE ci_step_runs_total gauge\nci_step_runs_total{workflow="x"} 1\n' >conflict.prom
	promrun-push --job conflict conflict.prom
	promrun-record -j "$J" -w deploy --step test -s success -d 3
	render
	run --separate-stderr push
	assert_failure 1
	[[ $stderr == 'promrun-push: gateway refused the push of {job="promrun",instance="'"$HOST_NAME"'"} (HTTP 400): pushed metrics are invalid or inconsistent with existing metrics: '* ]]
	eventually 30 is "$(firing PromrunPushFailing "$(jq -nc --arg i "$HOST_NAME" \
	    '{instance: $i, job: "promrun", severity: "warning"}')")" \
	    prom_alerts PromrunPushFailing
	promrun-push --delete --job conflict
	push
	eventually 30 is '' prom_alerts PromrunPushFailing
}

@test "the peers' metrics and labels in examples/peer-metrics.prom are those Prometheus holds" {
	prom_samples "$BATS_TEST_DIRNAME/../examples/peer-metrics.prom" >catalog
	[ -s catalog ]
	while IFS=$'\t' read -r name labels _; do
		want=$(jq -r 'keys[]' <<<"$labels" | sort)
		have=$(curl -fsS -G "$PROM_URL/api/v1/series" --data-urlencode "match[]=$name" |
		    jq -r '[.data[] | keys[]] | unique[] | select(. != "__name__")')
		[ -n "$have" ] || { echo "Prometheus has no $name"; return 1; }
		missing=$(comm -23 <(echo "$want") <(echo "$have"))
		[ -z "$missing" ] || { echo "$name lacks $missing"; return 1; }
	done <catalog
}

@test "Prometheus accepts every dashboard and alert expression, and the status panel shows each workflow" {
	ex="$BATS_TEST_DIRNAME/../examples"
	"$BATS_TEST_DIRNAME/tools/promql-exprs.py" exprs "$ex/grafana-dashboard.json" \
	    "$ex/alerts.yml"
	for f in exprs/*.promql; do
		prom_query "$(cat "$f")" >/dev/null || { echo "refused: $f"; return 1; }
	done
	run values "$(cat exprs/grafana-dashboard-1.promql)" workflow
	assert_output 'build 0
nightly-backup 1'
}

@test "a journal written before job and instance were refused renders and pushes under the push unit's -g instance=%H" {
	# Records an older promrun-record wrote for -l job=... -l instance=...
	# (written as it framed them), on a host without a label allow-list.
	now=$(date +%s)
	for payload in \
	    "run time=$now workflow=old-labels status=success label.job=nightly label.repo=a" \
	    "run time=$now workflow=old-labels status=failure label.instance=ci-7" \
	    "run time=$now workflow=old-labels status=success label.job="; do
		printf '%s' "$payload" | journal-frame >>"$J"
	done
	printf '[push]\nurl = %s\n' "$GW_URL" >own.ini
	export PROMRUN_CONFIG="$PWD/own.ini"
	run --separate-stderr render
	assert_success
	assert_equal "$stderr" 'promrun-render: warning: 3 records carry a job, instance or textfile label, which the Pushgateway or Prometheus set: dropped from the metrics (promrun-record refuses them now)'
	run grep -E '[{,](job|instance)=' "$TEXTFILE/promrun.prom"
	assert_failure 1
	run --separate-stderr push
	assert_success
	run gateway_series
	assert_line "ci_workflow_runs_total{branch=\"\",instance=\"$HOST_NAME\",job=\"promrun\",repo=\"a\",runner=\"\",status=\"success\",workflow=\"old-labels\"} 1"
	assert_line "ci_workflow_runs_total{branch=\"\",instance=\"$HOST_NAME\",job=\"promrun\",repo=\"\",runner=\"\",status=\"success\",workflow=\"old-labels\"} 1"
	assert_line "ci_workflow_runs_total{branch=\"\",instance=\"$HOST_NAME\",job=\"promrun\",repo=\"\",runner=\"\",status=\"failure\",workflow=\"old-labels\"} 1"
	refute_output --partial '"nightly"'
	refute_output --partial '"ci-7"'
	# A textfile an older promrun-render wrote (job="" and instance="" on
	# every series) is pushed too: an empty value is no label.
	sed 's/{workflow=/{job="",instance="",workflow=/' "$TEXTFILE/promrun.prom" >old.prom
	grep -q '{job="",instance="",workflow="old-labels"' old.prom
	run promrun-push -g "instance=$HOST_NAME" old.prom
	assert_success
}
