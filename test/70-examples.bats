#!/usr/bin/env bats
# examples/: the alert rules pass promrun-rules --strict against their
# presets and promtool; prometheus.yml and the ScrapeConfig manifests pass
# promtool check config; every PromQL expression of the Grafana dashboard and
# of the alert files parses.  test/72-e2e.bats runs them against a real
# Prometheus.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	EX=$(cd "$BATS_TEST_DIRNAME/../examples" && pwd)
	cd "$BATS_TEST_TMPDIR"
}

@test "alerts.yml passes promrun-rules check --strict against the native preset and the peers' metrics, and promtool" {
	run promrun-rules check --strict --preset native -m "$EX/peer-metrics.prom" "$EX/alerts.yml"
	assert_success
	assert_output 'promrun-rules: 1 file, 9 rules, 0 errors, 0 warnings'
	run promtool check rules "$EX/alerts.yml"
	assert_success
	assert_line --partial 'SUCCESS: 9 rules found'
	# Without the peers' catalog their metrics are unknown to the checker.
	run promrun-rules check --strict --preset native "$EX/alerts.yml"
	assert_failure 1
	assert_line --partial 'unknown metric "node_textfile_mtime_seconds"'
}

@test "the chainloop and attest alerts pass against their presets, and promtool" {
	run promrun-rules check --strict --preset chainloop "$EX/alerts-chainloop.yml"
	assert_success
	assert_output 'promrun-rules: 1 file, 3 rules, 0 errors, 0 warnings'
	run promrun-rules check --strict --preset attest "$EX/alerts-attest.yml"
	assert_success
	assert_output 'promrun-rules: 1 file, 4 rules, 0 errors, 0 warnings'
	run promtool check rules "$EX/alerts-chainloop.yml" "$EX/alerts-attest.yml"
	assert_success
	# Each is written for its own preset.
	run promrun-rules check --strict --preset native "$EX/alerts-chainloop.yml"
	assert_failure 1
}

@test "prometheus.yml passes promtool check config with its rule file" {
	run promtool check config "$EX/prometheus.yml"
	assert_success
	assert_line --partial 'SUCCESS: 9 rules found'
}

@test "the ScrapeConfig manifests, field by field as prometheus.yml, pass promtool check config" {
	"$BATS_TEST_DIRNAME/tools/scrapeconfig.py" "$EX/scrapeconfig.yaml" >scrape.yml
	run promtool check config scrape.yml
	assert_success
	# The Pushgateway's job keeps the pushed job and instance labels.
	run "$PYTHON3" -c 'import sys, yaml
for job in yaml.safe_load(open(sys.argv[1]))["scrape_configs"]:
    print(job["job_name"], job.get("honor_labels", False))' scrape.yml
	assert_output 'promrun-node False
promrun-pushgateway True'
}

@test "every PromQL expression of the dashboard and the alert files parses; the dashboard's pass the native catalog" {
	"$BATS_TEST_DIRNAME/tools/promql-exprs.py" exprs "$EX/grafana-dashboard.json" \
	    "$EX/alerts.yml" "$EX/alerts-chainloop.yml" "$EX/alerts-attest.yml"
	n=0
	for f in exprs/*.promql; do
		run promrun-rules parse "$(cat "$f")"
		assert_success
		n=$((n + 1))
	done
	[ "$n" -eq 27 ]
	"$BATS_TEST_DIRNAME/tools/promql-exprs.py" dash "$EX/grafana-dashboard.json"
	run promrun-rules check --strict --preset native dash/rules.yml
	assert_success
	run promtool check rules dash/rules.yml
	assert_success
}

@test "the dashboard shows status per workflow, success rate, duration quantiles from the histogram and runs lost" {
	run jq -r '.panels[] | .title + ": " + ([.targets[].expr] | join(" ; ") | gsub("\\s+"; " "))' "$EX/grafana-dashboard.json"
	assert_line --regexp '^Status per workflow: max by \(workflow\) \(ci_workflow_up\{'
	assert_line --regexp '^Success rate: sum by \(workflow\) \(increase\(ci_workflow_runs_total\{[^}]*status="success"\}\[[^]]*\]\)\) / sum by \(workflow\) \(increase\(ci_workflow_runs_total'
	assert_line --regexp '^Run duration quantiles: histogram_quantile\(0\.5, sum by \(workflow, le\) \(increase\(ci_workflow_run_duration_seconds_bucket'
	assert_line --regexp '^Runs lost: .*ci_workflow_runs_total\{[^}]*status="lost"'
}
