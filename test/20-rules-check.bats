#!/usr/bin/env bats
# promrun-rules check: the documented rules of our users pass against their
# presets; typos in metrics and labels are found with their position; the
# lint checks; output formats, summary, exit status, options, manifests.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	EX="$BATS_TEST_DIRNAME/../examples/rules"
	cd "$BATS_TEST_TMPDIR"
}

@test "Chainloop's WorkflowDown rule passes against the chainloop preset" {
	run promrun-rules check --preset chainloop "$EX/chainloop.yml"
	assert_success
	assert_output 'promrun-rules: 1 file, 1 rule, 0 errors, 0 warnings'
}

@test "ATTEST's failure-rate rule passes against the attest preset" {
	run promrun-rules check --preset attest "$EX/attest.yml"
	assert_success
	assert_output 'promrun-rules: 1 file, 1 rule, 0 errors, 0 warnings'
}

@test "failure-rate and last-success rules pass against the native preset" {
	run promrun-rules check -p native "$EX/native.yml"
	assert_success
	assert_output 'promrun-rules: 1 file, 4 rules, 0 errors, 0 warnings'
}

@test "a misspelled metric is reported at its position with the nearest name" {
	sed 's/chainloop_workflow_up\[/chainloop_workflow_upp[/' "$EX/chainloop.yml" >w.yml
	run promrun-rules check -p chainloop w.yml
	assert_success
	assert_line --index 0 'w.yml:8:49: warning: unknown metric "chainloop_workflow_upp": promrun does not emit it (did you mean "chainloop_workflow_up"?) [metric-unknown]'
	assert_line --index 1 'promrun-rules: 1 file, 1 rule, 0 errors, 1 warning'
}

@test "a misspelled label in by () is reported, and so is the \$labels it breaks" {
	sed 's/sum by (org, workflow)/sum by (org, wokflow)/' "$EX/chainloop.yml" >w.yml
	run promrun-rules check -p chainloop w.yml
	assert_success
	assert_line --index 0 'w.yml:8:24: warning: label "wokflow" is not on the input of sum by (did you mean "workflow"? it has: org, workflow, job, instance) [label-unknown]'
	assert_line --index 1 --partial 'w.yml:13:29: warning: annotation "summary": $labels.workflow is never set: the expression'"'"'s result has no label "workflow"'
	assert_line --index 2 --partial 'w.yml:14:37: warning: annotation "description": $labels.workflow is never set'
}

@test "a misspelled metric in ATTEST's rule and a misspelled matcher label" {
	sed 's/attest_pipeline_executions_total{status=/attest_pipeline_execution_total{status=/' \
	    "$EX/attest.yml" >w.yml
	run promrun-rules check -p attest w.yml
	assert_line --index 0 'w.yml:8:16: warning: unknown metric "attest_pipeline_execution_total": promrun does not emit it (did you mean "attest_pipeline_executions_total"?) [metric-unknown]'
	sed 's/{status=/{stauts=/' "$EX/attest.yml" >m.yml
	run promrun-rules check -p attest m.yml
	assert_line --index 0 'm.yml:8:49: warning: label "stauts" is not on metric "attest_pipeline_executions_total" (did you mean "status"? it has: status, job, instance) [label-unknown]'
}

@test "the last-success rule with a misspelled metric, in a literal block" {
	cat >w.yml <<-'EOF'
	groups:
	- name: g
	  rules:
	  - alert: NoSuccess
	    expr: |
	      time() -
	        ci_workflow_last_sucess_timestamp_seconds > 25 * 3600
	    for: 10m
	EOF
	run promrun-rules check -p native w.yml
	assert_line --index 0 'w.yml:7:9: warning: unknown metric "ci_workflow_last_sucess_timestamp_seconds": promrun does not emit it (did you mean "ci_workflow_last_success_timestamp_seconds"?) [metric-unknown]'
}

lint_file() {
	cat >lint.yml <<-'EOF'
	groups:
	- name: lint
	  rules:
	  - alert: RateOfGauge
	    expr: rate(ci_workflow_up[5m]) > 0
	    for: 1m
	  - alert: BareCounter
	    expr: sum(ci_workflow_runs_total{status="failure"}) > 5
	    for: 1m
	  - alert: NoComparison
	    expr: ci_workflow_up
	    for: 1m
	  - alert: NoFor
	    expr: ci_workflow_up == 0
	  - alert: BadOn
	    expr: ci_workflow_up * on (wrkflow) group_left (branch) ci_workflow_in_progress > 0
	    for: 1m
	  - alert: DroppedLabel
	    expr: sum by (workflow) (ci_workflow_up) == 0
	    for: 1m
	    annotations:
	      summary: "{{ $labels.workflow }} in {{ $labels.repo }}"
	EOF
}

@test "each lint check finds its case and names itself" {
	lint_file
	printf '[journal]\nlabels = org, repo\n' >promrun.ini
	run promrun-rules check -c promrun.ini lint.yml
	assert_success
	assert_line --index 0 --regexp '^lint.yml:5:11: warning: rate\(\) of gauge "ci_workflow_up": .* \[rate-non-counter\]$'
	assert_line --index 1 --regexp '^lint.yml:8:15: warning: counter "ci_workflow_runs_total" compared as it is: .* \[counter-without-rate\]$'
	assert_line --index 2 --regexp '^lint.yml:11:11: warning: alert "NoComparison" compares nothing: .* \[alert-no-comparison\]$'
	assert_line --index 3 --regexp '^lint.yml:13:12: warning: alert "NoFor" has no .for.: .* \[alert-no-for\]$'
	assert_line --index 4 'lint.yml:16:32: warning: label "wrkflow" is not on either side of on() (did you mean "workflow"? it has: workflow, org, repo, job, instance) [label-unknown]'
	assert_line --index 5 'lint.yml:16:53: warning: label "branch" is not on the right side of group_left (it has: workflow, org, repo, job, instance) [label-unknown]'
	assert_line --index 6 --regexp '^lint.yml:22:46: warning: annotation "summary": \$labels.repo is never set: .* \[template-label\]$'
	assert_line --index 7 'promrun-rules: 1 file, 6 rules, 0 errors, 7 warnings'
}

@test "without an allow-list a user label is accepted, a typo of a fixed one is not" {
	lint_file
	run promrun-rules check -c /dev/null lint.yml
	assert_line --partial 'label "wrkflow" is not on either side of on() (did you mean "workflow"? it has: workflow, job, instance, user labels)'
	refute_line --partial 'label "branch"'
}

@test "--strict turns warnings into errors and the exit status into 1" {
	lint_file
	run promrun-rules check -p native --strict lint.yml
	assert_failure 1
	assert_line --regexp '^lint.yml:13:12: error: alert "NoFor" .*\[alert-no-for\]$'
	assert_line --regexp '^promrun-rules: 1 file, 6 rules, [0-9]+ errors, 0 warnings$'
}

@test "--skip silences one check's warnings; an unknown check is a usage error" {
	lint_file
	run promrun-rules check -p native -x alert-no-for --skip rate-non-counter lint.yml
	assert_success
	refute_output --partial '[alert-no-for]'
	refute_output --partial '[rate-non-counter]'
	assert_output --partial '[alert-no-comparison]'
	assert_line --regexp '^promrun-rules: 1 file, 6 rules, 0 errors, [0-9]+ warnings$'
	run --separate-stderr promrun-rules check -x promql lint.yml
	assert_failure 2
	assert_equal "${stderr_lines[0]}" 'promrun-rules: unknown check "promql": use metric-unknown, label-unknown, template-label, rate-non-counter, counter-without-rate, alert-no-comparison, alert-no-for, duplicate-rule'
}

@test "an error gives exit status 1 and a promtool-like message at the expression's position" {
	printf 'groups:\n- name: g\n  rules:\n  - record: job:up\n    expr: sum(rate(up[5m]) by (job)\n' >e.yml
	run promrun-rules check -c /dev/null e.yml
	assert_failure 1
	assert_line --index 0 'e.yml:5:28: error: could not parse expression: unexpected <by> in function call, expected "," or ")" [promql]'
	assert_line --index 1 'promrun-rules: 1 file, 1 rule, 1 error, 0 warnings'
}

@test "rule-file errors: fields, durations, names, templates, duplicates" {
	cat >e.yml <<-'EOF'
	groups:
	- name: g
	  interval: 1.5m
	  rules:
	  - record: job up
	    expr: up
	    for: 5m
	  - alert: A
	    expr: up == 0
	    for: 5
	    labels:
	      __name__: x
	    annotations:
	      s: "{{ $value | humanise }}"
	  - alert: A
	    expr: up == 0
	    severity: page
	- name: g
	EOF
	run promrun-rules check -c /dev/null e.yml
	assert_failure 1
	assert_line --index 0 --regexp '^e.yml:3:13: error: interval: not a valid duration string: "1.5m" .*\[yaml\]$'
	assert_line --index 1 --regexp '^e.yml:10:10: error: for: not a valid duration string: "5" .*\[yaml\]$'
	assert_line --index 2 'e.yml:17:5: error: unknown field "severity" in rule (accepted: record, alert, expr, for, keep_firing_for, labels, annotations) [yaml]'
	# With the structure wrong, promtool stops there; so do we.
	assert_line --index 3 'promrun-rules: 1 file, 3 rules, 3 errors, 0 warnings'
	sed -i -e '3d' -e 's/for: 5$/for: 5m/' -e 's/severity: page/labels: {__name__: x}/' e.yml
	run promrun-rules check -c /dev/null e.yml
	assert_failure 1
	assert_line --index 0 'e.yml:4:13: error: invalid field '"'"'for'"'"' in recording rule [rule]'
	assert_line --index 1 --regexp '^e.yml:4:13: error: invalid recording rule name: "job up" .*\[rule\]$'
	assert_line --index 2 --regexp '^e.yml:11:7: error: invalid label name: "__name__" .*\[rule\]$'
	assert_line --index 3 'e.yml:13:23: error: annotation "s": template: function "humanise" not defined [template]'
	assert_line --index 4 'e.yml:14:12: warning: duplicate rule: alert "A" has the same name and labels as the rule at line 7 [duplicate-rule]'
	assert_line --index 5 --regexp '^e.yml:14:12: warning: alert "A" has no .for.: .*\[alert-no-for\]$'
	assert_line --index 6 --regexp '^e.yml:16:14: error: invalid label name: "__name__" .*\[rule\]$'
	assert_line --index 7 'e.yml:17:9: error: group name "g" is repeated in the same file (first at line 2) [group]'
}

@test "--format json writes one object per finding" {
	lint_file
	run --separate-stderr promrun-rules check -p native -f json lint.yml
	assert_success
	assert_line --index 0 '{"file":"lint.yml","line":5,"column":11,"level":"warning","check":"rate-non-counter","message":"rate() of gauge \"ci_workflow_up\": rate, irate and increase need a counter; use deriv(), delta() or changes() for gauges"}'
	run "$PYTHON3" -c 'import json, sys; [json.loads(l) for l in sys.stdin]; print("ok")' <<<"$output"
	assert_output ok
	[ "$stderr" = 'promrun-rules: 1 file, 6 rules, 0 errors, 6 warnings' ]
}

@test "--format github writes workflow commands" {
	lint_file
	run --separate-stderr promrun-rules check -p native --format github lint.yml
	assert_success
	assert_line --index 0 '::warning file=lint.yml,line=5,col=11,title=rate-non-counter::rate() of gauge "ci_workflow_up": rate, irate and increase need a counter; use deriv(), delta() or changes() for gauges [rate-non-counter]'
}

@test "a PrometheusRule manifest is checked through its spec" {
	cat >m.yaml <<-'EOF'
	apiVersion: monitoring.coreos.com/v1
	kind: PrometheusRule
	metadata:
	  name: chainloop
	spec:
	  groups:
	  - name: WorkflowDownAlerts
	    rules:
	    - alert: WorkflowDown
	      expr: sum by (org, workflow) (avg_over_time(chainloop_workflow_upp[30m])) == 0
	      for: 30m
	EOF
	run promrun-rules check -p chainloop m.yaml
	assert_success
	assert_line --index 0 --partial 'm.yaml:10:51: warning: unknown metric "chainloop_workflow_upp"'
	sed -i 's/for: 30m/for: 30/' m.yaml
	run promrun-rules check -p chainloop m.yaml
	assert_failure 1
	assert_line --partial 'm.yaml:11:12: error: for: not a valid duration string: "30"'
}

@test "a .prom textfile is a catalog; recording rules define metrics" {
	cat >m.prom <<-'EOF'
	# TYPE backup_last_success_timestamp_seconds gauge
	backup_last_success_timestamp_seconds{job="nightly"} 1.7e9
	# TYPE backup_runs_total counter
	backup_runs_total{job="nightly",status="ok"} 3
	EOF
	cat >r.yml <<-'EOF'
	groups:
	- name: g
	  rules:
	  - record: job:backup_runs:rate1h
	    expr: sum by (job) (rate(backup_runs_total[1h]))
	  - alert: BackupStale
	    expr: time() - backup_last_success_timestamp_seconds{jb="nightly"} > 86400 and job:backup_runs:rate1h == 0
	    for: 1h
	EOF
	run promrun-rules check -m m.prom r.yml
	assert_success
	assert_line --index 0 'r.yml:7:58: warning: label "jb" is not on metric "backup_last_success_timestamp_seconds" (did you mean "job"? it has: job, instance) [label-unknown]'
	assert_line --index 1 'promrun-rules: 1 file, 2 rules, 0 errors, 1 warning'
}

@test "job and instance, attached by Prometheus when it scrapes, are on every metric until aggregated away" {
	printf '[journal]\nlabels = org\n' >promrun.ini
	cat >r.yml <<-'EOF'
	groups:
	- name: g
	  rules:
	  - alert: A
	    expr: ci_workflow_up{instance=~"runner-.*"} == 0
	    for: 5m
	    annotations:
	      summary: "{{ $labels.job }} {{ $labels.instance }}"
	  - alert: B
	    expr: sum by (workflow) (ci_workflow_up) == 0
	    for: 5m
	    annotations:
	      summary: "{{ $labels.instance }}"
	EOF
	run promrun-rules check -c promrun.ini r.yml
	assert_success
	assert_line --index 0 'r.yml:13:20: warning: annotation "summary": $labels.instance is never set: the expression'"'"'s result has no label "instance" (it has: workflow) [template-label]'
	assert_line --index 1 'promrun-rules: 1 file, 2 rules, 0 errors, 1 warning'
}

@test "the configuration's preset and namespace are the default catalog" {
	printf '[render]\npreset = native\nnamespace = cron\n' >promrun.ini
	printf 'groups:\n- name: g\n  rules:\n  - alert: A\n    expr: cron_workflow_up == 0\n    for: 5m\n  - alert: B\n    expr: ci_workflow_up == 0\n    for: 5m\n' >r.yml
	run promrun-rules check -c promrun.ini r.yml
	assert_success
	assert_line --index 0 'r.yml:8:11: warning: unknown metric "ci_workflow_up": promrun does not emit it (did you mean "cron_workflow_up"?) [metric-unknown]'
}

@test "several files: one summary, and the worst status" {
	printf 'groups: []\n' >ok.yml
	printf 'groups:\n- name: ""\n' >bad.yml
	run promrun-rules check -c /dev/null ok.yml bad.yml ok.yml
	assert_failure 1
	assert_line --index 0 'bad.yml:2:9: error: group name must not be empty [group]'
	assert_line --index 1 'promrun-rules: 3 files, 0 rules, 1 error, 0 warnings'
}

@test "an unreadable or missing file exits 2 naming it, and the others are still checked" {
	printf 'groups: []\n' >ok.yml
	run --separate-stderr promrun-rules check -c /dev/null missing.yml ok.yml
	assert_failure 2
	[ "$stderr" = 'promrun-rules: cannot open "missing.yml": No such file or directory' ]
	assert_output 'promrun-rules: 2 files, 0 rules, 0 errors, 0 warnings'
	mkdir dir.yml
	run --separate-stderr promrun-rules check -c /dev/null dir.yml
	assert_failure 2
	[ "$stderr" = 'promrun-rules: cannot read "dir.yml": Is a directory' ]
}

@test "usage errors exit 2 with one line naming the value" {
	run --separate-stderr promrun-rules check --bogus r.yml
	assert_failure 2
	assert_equal "${stderr_lines[0]}" 'promrun-rules: unknown option "--bogus"'
	run --separate-stderr promrun-rules check -f xml r.yml
	assert_failure 2
	assert_equal "${stderr_lines[0]}" 'promrun-rules: unknown format "xml": use text, json or github'
	run --separate-stderr promrun-rules check -p jenkins r.yml
	assert_failure 2
	assert_equal "${stderr_lines[0]}" 'promrun-rules: unknown preset "jenkins": use native, chainloop, prpc or attest'
	run --separate-stderr promrun-rules lint r.yml
	assert_failure 2
	assert_equal "${stderr_lines[0]}" 'promrun-rules: unknown command "lint": use check, test, eval, backtest or parse'
	run --separate-stderr promrun-rules check
	assert_failure 2
	assert_equal "${stderr_lines[0]}" 'promrun-rules: check needs at least one rule file'
	run --separate-stderr promrun-rules check -m missing.prom r.yml
	assert_failure 2
	assert_equal "${stderr_lines[0]}" 'promrun-rules: cannot open "missing.prom": No such file or directory'
}

@test "--help matches the man page's SYNOPSIS, --version names the program" {
	run promrun-rules --help
	assert_success
	assert_line --index 0 --partial 'usage: promrun-rules check [-c CONFIG] [-p PRESET] [-n NAMESPACE] [-m FILE.prom]...'
	run promrun-rules --version
	assert_success
	assert_output --regexp '^promrun-rules [0-9]+\.[0-9]+\.[0-9]+$'
	run man -l "$BATS_TEST_DIRNAME/../cmd/promrun-rules/promrun-rules.1"
	assert_success
	assert_output --partial 'promrun-rules check [-c CONFIG] [-p PRESET] [-n NAMESPACE]'
	assert_output --partial 'EXIT STATUS'
}
