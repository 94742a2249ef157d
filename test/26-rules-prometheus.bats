#!/usr/bin/env bats
# backtest against a real Prometheus: a history played in real time (runs
# recorded, the textfile rendered every second, node_exporter serving it,
# Prometheus scraping and evaluating the rule every second) must give the
# alert intervals backtest computes from the journal alone, to the scrape
# interval.

setup() {
	load 'test_helper/common-setup'
	load 'test_helper/prometheus'
	_common_setup
	cd "$BATS_TEST_TMPDIR" || return 1
}

teardown() {
	stop_pid "${PROM_PID:-}"
	stop_pid "${NE_PID:-}"
	stop_background
}

# at T: sleep until the wall clock reaches Unix second T.
at() {
	local now
	now=$(date +%s.%N)
	sleep "$(awk -v t="$1" -v n="$now" 'BEGIN { d = t - n; print (d > 0 ? d : 0) }')"
}

@test "backtest's alert intervals are those of a real Prometheus, to the scrape interval" {
	local t0 i t first last bt fa ra
	mkdir textfiles
	cat >rules.yml <<'YML'
groups:
- name: workflows
  interval: 1s
  rules:
  - alert: WorkflowDown
    expr: sum by (workflow) (ci_workflow_up) == 0
    for: 4s
YML
	node_exporter_start "$BATS_TEST_TMPDIR/ne" "$BATS_TEST_TMPDIR/textfiles"
	cat >prometheus.yml <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
- job_name: node
  static_configs:
  - targets: ['127.0.0.1:$NE_PORT']
YML
	prometheus_start "$BATS_TEST_TMPDIR"
	t0=$(( $(date +%s) + 2 ))
	# The history: build succeeds, fails at +3 s (down for 11 s), succeeds
	# again at +14 s.  The textfile is rendered every second, as the path
	# unit would render it after each record.
	for ((i = 0; i <= 22; i++)); do
		at $((t0 + i))
		t=$(date +%s.%N)
		case $i in
		0) promrun-record -j "$J" -w build -s success -d 1 --time "$t" ;;
		3) promrun-record -j "$J" -w build -s failure -d 1 --time "$t" ;;
		14) promrun-record -j "$J" -w build -s success -d 1 --time "$t" ;;
		esac
		promrun-render -j "$J" -o textfiles/promrun.prom --now "$t"
	done
	sleep 2
	# Prometheus's firing interval: the first and last ALERTS sample.
	run -0 curl -fsS -G "$PROM_URL/api/v1/query_range" \
	    --data-urlencode 'query=ALERTS{alertname="WorkflowDown",alertstate="firing"}' \
	    --data-urlencode "start=$t0" --data-urlencode "end=$((t0 + 24))" \
	    --data-urlencode step=1
	first=$(jq -r '.data.result[0].values[0][0]' <<<"$output")
	last=$(jq -r '.data.result[0].values[-1][0]' <<<"$output")
	[ "$first" != null ] || fail "Prometheus never fired: $output"
	run -0 promrun-rules backtest -j "$J" --from "$t0" --to $((t0 + 24)) \
	    --scrape-interval 1s --interval 1s -f json rules.yml
	bt=$output
	fa=$(date -d "$(jq -r '.alerts[0].firing_at' <<<"$bt")" +%s)
	ra=$(date -d "$(jq -r '.alerts[0].resolved_at' <<<"$bt")" +%s)
	# Fired 4 s after the failure was first scraped, resolved once the
	# success was: both within a second or two of Prometheus's.
	(( fa - t0 >= 7 && fa - t0 <= 9 )) || fail "backtest fired at +$((fa - t0)) s"
	(( ${first%.*} - fa >= -2 && ${first%.*} - fa <= 2 )) ||
	    fail "Prometheus fired at $first, backtest at $fa"
	(( ${last%.*} + 1 - ra >= -2 && ${last%.*} + 1 - ra <= 2 )) ||
	    fail "Prometheus resolved after $last, backtest at $ra"
}
