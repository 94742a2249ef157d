#!/usr/bin/env bats
# promrun-rules test: promtool's rule unit tests, with promtool's verdicts,
# output and exit status.  Debian's promtool 2.42 runs every file here too,
# as the oracle: both must print the same, byte for byte, on the same
# streams.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	cd "$BATS_TEST_TMPDIR" || return 1
}

# both FILE...: run promtool and promrun-rules on the files; they must exit
# alike and print the same on stdout and on stderr.  Leaves promtool's
# status in $status_both and its streams in theirs.out and theirs.err.
both() {
	local rc_theirs rc_ours
	promtool test rules "$@" >theirs.out 2>theirs.err && rc_theirs=0 || rc_theirs=$?
	promrun-rules test "$@" >ours.out 2>ours.err && rc_ours=0 || rc_ours=$?
	diff -u theirs.out ours.out || fail "stdout differs from promtool's"
	diff -u theirs.err ours.err || fail "stderr differs from promtool's"
	[ "$rc_theirs" = "$rc_ours" ] || fail "exit $rc_ours, promtool $rc_theirs"
	status_both=$rc_ours
}

@test "every shipped alert has a unit test that fires it and one that keeps it quiet" {
	run "$PYTHON3" - "$TOP/examples" <<'PY'
import glob, os, sys, yaml
ex = sys.argv[1]
alerts = set()
for f in glob.glob(ex + "/alerts*.yml") + glob.glob(ex + "/rules/*.yml"):
    for g in yaml.safe_load(open(f))["groups"]:
        alerts |= {r["alert"] for r in g["rules"] if "alert" in r}
fires, quiet = set(), set()
for f in glob.glob(ex + "/tests/*.yml"):
    for t in yaml.safe_load(open(f))["tests"]:
        for a in t.get("alert_rule_test", []):
            (fires if a.get("exp_alerts") else quiet).add(a["alertname"])
missing = sorted(a for a in alerts if a not in fires or a not in quiet)
print("%d alerts; without both tests: %s" % (len(alerts), missing or "none"))
sys.exit(1 if missing else 0)
PY
	assert_success
	assert_output --regexp '^1[0-9] alerts; without both tests: none$'
}

@test "the shipped unit tests pass under promtool and promrun-rules alike" {
	for f in "$TOP"/examples/tests/*.yml; do
		both "$f"
		[ "$status_both" = 0 ] || fail "$f: exit $status_both"
		grep -qx '  SUCCESS' ours.out
	done
}

@test "the evaluation cases (expected values from promtool 2.42) pass in both" {
	local f n=0
	for f in "$TOP"/test/rules/eval/*.yml; do
		[ "${f##*/}" = errors.yml ] && continue
		both "$f"
		[ "$status_both" = 0 ] || fail "$f: exit $status_both"
		n=$((n + $(grep -c '^  - expr:\|^    - expr:' "$f")))
	done
	(( n >= 150 )) || fail "only $n cases"
}

@test "the error cases fail in both, with the same messages" {
	local norm='s/operation: \[.*\];/operation: [the two series];/'
	# promtool creates a test's series in Go's random map order, which
	# decides the order of the two series a duplicate-series error names.
	promtool test rules "$TOP/test/rules/eval/errors.yml" 2>&1 |
	    sed "$norm" >theirs.txt || true
	run -1 promrun-rules test "$TOP/test/rules/eval/errors.yml"
	promrun-rules test "$TOP/test/rules/eval/errors.yml" 2>&1 |
	    sed "$norm" >ours.txt || true
	diff -u theirs.txt ours.txt
	run grep -c ', err: ' ours.txt
	assert_output 11
}

@test "failures print what promtool prints: alerts, samples, errors, names" {
	cat >r.yml <<'YML'
groups:
- name: g
  rules:
  - record: job:x:sum
    expr: sum by (job) (x)
  - alert: High
    expr: job:x:sum > 1
    for: 1m
    labels:
      sev: page
    annotations:
      summary: '{{ $labels.job }} is {{ humanize $value }} ({{ printf "%.2f" $value }})'
      pct: '{{ humanizePercentage 0.1234 }} {{ humanizeDuration 3723 }} {{ humanize1024 2048 }}'
      q: '{{ with query "sum(x)" }}{{ . | first | value }}{{ end }} {{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}'
YML
	cat >t.yml <<'YML'
rule_files: [r.yml, nothing-*.yml]
evaluation_interval: 1m
tests:
- name: first
  interval: 1m
  input_series:
  - series: 'x{job="a", i="1"}'
    values: '1+1x10'
  - series: 'x{job="b", i="1"}'
    values: '0 0 0 5 _ stale 1x4'
  alert_rule_test:
  - eval_time: 5m
    alertname: High
    exp_alerts:
    - exp_labels: {job: a, sev: page}
  - eval_time: 5m
    alertname: Nothing
  promql_expr_test:
  - expr: job:x:sum
    eval_time: 4m
    exp_samples:
    - labels: 'job:x:sum{job="a"}'
      value: 5
  - expr: x +
    eval_time: 1m
  - expr: rate(x[5m])
    eval_time: 7m
    exp_samples:
    - labels: '{job="a", i="1"}'
      value: 0.25
  - expr: 'x{job="b"}'
    eval_time: 5m
- interval: 1m
  input_series:
  - series: 'x{job="a"}'
    values: '1'
  alert_rule_test:
  - eval_time: 0m
    exp_alerts: []
YML
	both t.yml
	[ "$status_both" = 1 ]
	grep -q 'WARNING: no file match pattern nothing-\*.yml' ours.err
	grep -q 'name: first,' ours.err
	grep -q 'Annotations:{pct="12.34% 1h 2m 3s 2ki", q="6 __name__=job:x:sum;job=a;", summary="a is 6 (6.00)"}' ours.err
	grep -q "misses required attribute alertname" ours.err
}

@test "a rule that fails to evaluate stops its test group, as in promtool" {
	cat >r.yml <<'YML'
groups:
- name: g
  rules:
  - record: bad
    expr: x + on() x
YML
	cat >t.yml <<'YML'
rule_files: [r.yml]
tests:
- interval: 1m
  input_series:
  - series: 'x{a="1"}'
    values: '1x5'
  - series: 'x{a="2"}'
    values: '_ _ 1x5'
  promql_expr_test:
  - expr: bad
    eval_time: 4m
YML
	both t.yml
	[ "$status_both" = 1 ]
	grep -q '^    rule: bad, time: 2m0s, err: found duplicate series' ours.err
}

@test "series the storage refuses fail every evaluation from their first sample, as in promtool" {
	cat >r.yml <<'YML'
groups:
  - name: g
    rules:
      - record: up2
        expr: up * 2
      - alert: Up
        expr: up > 0
YML
	cat >t.yml <<'YML'
rule_files: [r.yml]
tests:
  - interval: 1m
    input_series:
      - series: up
        values: '1 2 3 4 5 6'
      - series: '{}'
        values: '_ _ 1 2'
    alert_rule_test:
      - eval_time: 1m
        alertname: Up
        exp_alerts:
          - exp_labels: {__name__: up, alertname: Up}
      - eval_time: 4m
        alertname: Up
        exp_alerts:
          - exp_labels: {alertname: Up}
    promql_expr_test:
      - expr: up
        eval_time: 5m
        exp_samples:
          - labels: up
            value: 6
      - expr: up2
        eval_time: 3m
        exp_samples:
          - labels: up2
            value: 6
  - interval: 1m
    input_series:
      - series: '{a="1",a="2"}'
        values: '1'
      - series: '{a=""}'
        values: '_ _'
YML
	both t.yml
	[ "$status_both" = 1 ]
	[ "$(grep -c '^empty labelset: invalid sample$' ours.err)" = 4 ]
	grep -qx 'label name "a" is not unique: invalid sample' ours.err
}

@test "label sets and series as the grammar reads them: empty, twice named, bad tokens" {
	local ser lab ex
	for ser in "''" "'\"x\"'" "'+'" "'('" "'5m'" "'12345678901234'" \
	    "'{a=\"1\",a=\"\"}'" "'up{a=\"1\",a=\"2\"}'" "'up{a=\"1\",a=\"\"}'" \
	    "'up{__name__=\"x\"}'" "'{__name__=\"x\",b=\"\"}'"; do
		printf 'tests:\n  - interval: 1m\n    input_series:\n      - series: %s\n        values: "1 2 3"\n    promql_expr_test:\n      - expr: count({__name__=~".*"} or {a=~".+"})\n        eval_time: 1m\n        exp_samples:\n          - value: 7\n' "$ser" >s.yml
		both s.yml
	done
	for lab in "''" "'  '" "'1'" "'\"x\"'" "'{a=\"\"}'" "'up{a=\"\"}'" \
	    "'{b=\"1\",a=\"2\",b=\"0\"}'" "'up{b=\"1\",a=\"2\",b=\"0\"}'" \
	    "'up{b=\"1\",a=\"2\",b=\"\"}'" "'\"abcdefghijkl\"'"; do
		printf 'tests:\n  - interval: 1m\n    input_series:\n      - series: up\n        values: "1 2 3"\n    promql_expr_test:\n      - expr: up\n        eval_time: 1m\n        exp_samples:\n          - labels: %s\n            value: 2\n' "$lab" >l.yml
		both l.yml
	done
	for ex in 'up 123456789012345' 'up "abcdefghijklmnop"' 'up "x"' 'up 5m' 'up by' \
	    'up (' 'foo(1' 'foo(bar(1))' 'foo(1) +'; do
		printf 'tests:\n  - interval: 1m\n    promql_expr_test:\n      - expr: %s\n        eval_time: 1m\n' "'$ex'" >p.yml
		both p.yml
	done
}

@test "YAML errors are worded as promtool's YAML library words them" {
	local i=0 doc
	for doc in 'tests: [' 'a: b: c' 'tests:\n\t- x' '"abc' \
	    'tests:\n  - a\n - b\n' '- a\nb: c' 'x: [1, 2\ny: 3' \
	    'a: 1\na: &x\nb: *y' 'tests:\n  - interval: 1m\n    promql_expr_test:\n      - expr: '"'"'up '"'"'a'"'"''"'"'\n'; do
		i=$((i + 1))
		printf -- "$doc" >y$i.yml
		both y$i.yml
		[ "$status_both" = 1 ]
	done
}

@test "a chain of 5,040 operators evaluates as in promtool, without recursion" {
	"$PYTHON3" - <<'PY'
n = 5040
plus = "+".join(["up"] * n)
minus = " - ".join(["up"] * n)
open("t.yml", "w").write(f"""tests:
  - interval: 1m
    input_series:
      - series: 'up{{job="a"}}'
        values: '1 2 3'
    promql_expr_test:
      - expr: '{plus}'
        eval_time: 2m
        exp_samples:
          - labels: '{{job="a"}}'
            value: {3 * n}
      - expr: 'sum({minus}) * on() group_left vector(1)'
        eval_time: 2m
        exp_samples:
          - value: {3 - 3 * (n - 1)}
""")
PY
	both t.yml
	[ "$status_both" = 0 ]
	# Within a 1 MiB stack, as the checker.
	run bash -c 'ulimit -s 1024 && promrun-rules test t.yml'
	assert_success
}

@test "keep_firing_for, group_eval_order and external labels and URL as promtool" {
	cat >r.yml <<'YML'
groups:
- name: second
  rules:
  - alert: Uses
    expr: rec > 0
    keep_firing_for: 3m
    annotations:
      where: '{{ $externalLabels.site }} {{ $externalURL }}'
- name: first
  rules:
  - record: rec
    expr: x
YML
	cat >t.yml <<'YML'
rule_files: [r.yml]
group_eval_order: [first, second]
tests:
- interval: 1m
  external_labels: {site: lab}
  external_url: http://prom.example:9090/p
  input_series:
  - series: 'x'
    values: '1 1 0 0 0 0 0 0'
  alert_rule_test:
  - eval_time: 1m
    alertname: Uses
    exp_alerts:
    - exp_annotations: {where: lab http://prom.example:9090/p}
  - eval_time: 4m
    alertname: Uses
    exp_alerts:
    - exp_annotations: {where: lab http://prom.example:9090/p}
  - eval_time: 5m
    alertname: Uses
YML
	both t.yml
	[ "$status_both" = 0 ]
}

@test "--format json and github give one line per failure, at the test's line" {
	cat >t.yml <<'YML'
tests:
- interval: 1m
  input_series:
  - series: 'x'
    values: '1 2'
  promql_expr_test:
  - expr: x
    eval_time: 1m
YML
	run -1 promrun-rules test -f json t.yml
	assert_line --index 0 --regexp '^\{"file":"t.yml","line":7,"column":5,"level":"error","check":"expr-test","message":"    expr: \\"x\\", time: 1m, exp: nil got: \{__name__=\\"x\\"\} 2E\+00"\}$'
	run -1 promrun-rules test -f github t.yml
	assert_line --index 0 --regexp '^::error file=t.yml,line=7,col=5,title=expr-test::'
}

@test "the rule files go through check: errors fail the tests, --catalog adds the lints" {
	cat >r.yml <<'YML'
groups:
- name: g
  rules:
  - alert: A
    expr: ci_workflow_upp == 0
YML
	cat >t.yml <<'YML'
rule_files: [r.yml]
tests:
- interval: 1m
  input_series: []
YML
	run -0 promrun-rules test t.yml
	run -0 promrun-rules test --catalog -p native t.yml
	assert_line --partial "r.yml:5:11: warning: unknown metric \"ci_workflow_upp\""
	run -1 promrun-rules test --catalog --strict -p native t.yml
	printf 'groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum(\n' >r.yml
	run -1 promrun-rules test t.yml
	assert_line --partial 'r.yml:5:15: error: could not parse expression: unclosed left parenthesis [promql]'
}

@test "exit status: 0 passed, 1 failed or unreadable, 2 usage" {
	printf 'tests: []\n' >ok.yml
	run -0 promrun-rules test ok.yml
	assert_output $'Unit Testing:  ok.yml\n  SUCCESS'
	run -1 promrun-rules test missing.yml
	assert_output "promrun-rules: path 'missing.yml' does not exist"
	run -2 promrun-rules test
	assert_line --index 0 'promrun-rules: test needs at least one test file'
	run -2 promrun-rules test --bogus ok.yml
	printf 'tests:\n- interval: 1m\n  inputs: []\n' >bad.yml
	run -1 promrun-rules test bad.yml
	assert_output --partial 'field inputs not found in type main.testGroup'
}
