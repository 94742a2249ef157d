#!/usr/bin/env bats
# promrun-push against a real prometheus-pushgateway: what arrives, PUT,
# POST and DELETE semantics, grouping keys, --dir, -v, help and man page.

load 'test_helper/pushgateway'

setup_file() {
	gateway_start "$BATS_FILE_TMPDIR/gw"
}

setup() {
	push_test_setup t
}

# series_of JOB: the gateway's series of that job (any group), sorted.
series_of() {
	gateway_series | grep -F "job=\"$1\"" || true
}

@test "every series arrives with the grouping labels" {
	cat >m.prom <<-'PROM'
	# HELP t1_runs_total Finished runs.
	# TYPE t1_runs_total counter
	t1_runs_total{status="success"} 3
	t1_runs_total{status="failure"} 1
	# TYPE t1_duration_seconds histogram
	t1_duration_seconds_bucket{le="1"} 1
	t1_duration_seconds_bucket{le="+Inf"} 4
	t1_duration_seconds_sum 7.5
	t1_duration_seconds_count 4
	t1_untyped 42
	PROM
	run promrun-push --job "$JOB" -g instance=ci-1 m.prom
	assert_success
	assert_output ''
	run series_of "$JOB"
	assert_output - <<-EOF
	push_failure_time_seconds{instance="ci-1",job="$JOB"} 0
	push_time_seconds{instance="ci-1",job="$JOB"} $(gateway_value "push_time_seconds{instance=\"ci-1\",job=\"$JOB\"}")
	t1_duration_seconds_bucket{instance="ci-1",job="$JOB",le="+Inf"} 4
	t1_duration_seconds_bucket{instance="ci-1",job="$JOB",le="1"} 1
	t1_duration_seconds_count{instance="ci-1",job="$JOB"} 4
	t1_duration_seconds_sum{instance="ci-1",job="$JOB"} 7.5
	t1_runs_total{instance="ci-1",job="$JOB",status="failure"} 1
	t1_runs_total{instance="ci-1",job="$JOB",status="success"} 3
	t1_untyped{instance="ci-1",job="$JOB"} 42
	EOF
	[ "$(gateway_value "push_time_seconds{instance=\"ci-1\",job=\"$JOB\"}")" != 0 ]
}

@test "job and values with /, spaces, empty, = and non-ASCII round-trip" {
	printf 't2_up 1\n' >m.prom
	run promrun-push --job "$JOB/nightly build" -g 'path=/var/tmp/x y' \
	    -g 'empty=' -g 'eq=a=b' -g 'name=Προμηθεύς' -g 'pct=100%?#' m.prom
	assert_success
	run gateway_series
	assert_line "t2_up{empty=\"\",eq=\"a=b\",instance=\"\",job=\"$JOB/nightly build\",name=\"Προμηθεύς\",path=\"/var/tmp/x y\",pct=\"100%?#\"} 1"
}

@test "PUT replaces the whole group" {
	printf 't3_a 1\nt3_b 2\n' >first.prom
	printf 't3_a 5\n' >second.prom
	promrun-push --job "$JOB" first.prom
	run promrun-push --job "$JOB" second.prom
	assert_success
	run series_of "$JOB"
	assert_line "t3_a{instance=\"\",job=\"$JOB\"} 5"
	refute_line --partial 't3_b'
}

@test "POST (--add) replaces only the families it sends" {
	printf 't4_a 1\nt4_b 2\n' >first.prom
	printf 't4_b 7\nt4_c 3\n' >more.prom
	promrun-push --job "$JOB" first.prom
	run promrun-push --job "$JOB" --add more.prom
	assert_success
	run series_of "$JOB"
	assert_line "t4_a{instance=\"\",job=\"$JOB\"} 1"
	assert_line "t4_b{instance=\"\",job=\"$JOB\"} 7"
	assert_line "t4_c{instance=\"\",job=\"$JOB\"} 3"
}

@test "DELETE removes exactly that group" {
	printf 't5_x 1\n' >m.prom
	promrun-push --job "$JOB" -g shard=1 m.prom
	promrun-push --job "$JOB" -g shard=2 m.prom
	promrun-push --job "$JOB" m.prom
	promrun-push --job "$JOB-other" -g shard=1 m.prom
	run promrun-push --job "$JOB" -g shard=1 --delete
	assert_success
	run series_of "$JOB"
	refute_line --partial 'shard="1"'
	assert_line "t5_x{instance=\"\",job=\"$JOB\",shard=\"2\"} 1"
	assert_line "t5_x{instance=\"\",job=\"$JOB\"} 1"
	run series_of "$JOB-other"
	assert_line "t5_x{instance=\"\",job=\"$JOB-other\",shard=\"1\"} 1"
}

@test "input from standard input with -" {
	printf 't6_from_stdin 6\n' >m.prom
	run promrun-push --job "$JOB" - <m.prom
	assert_success
	run series_of "$JOB"
	assert_line "t6_from_stdin{instance=\"\",job=\"$JOB\"} 6"
}

@test "without FILE the configured [render] output is pushed" {
	printf 't7_rendered 7\n' >rendered.prom
	printf '[render]\noutput = %s\n[push]\nurl = %s\n' \
	    "$BATS_TEST_TMPDIR/rendered.prom" "$GW_URL" >"$CONF"
	run promrun-push --job "$JOB"
	assert_success
	run series_of "$JOB"
	assert_line "t7_rendered{instance=\"\",job=\"$JOB\"} 7"
}

@test "promrun-render -o - | promrun-push - pushes every preset's output" {
	promrun-record -j "$J" -w build -s success -d 3 -l repo=promrun
	for preset in native chainloop prpc attest; do
		run bash -c "set -o pipefail; promrun-render -j '$J' --preset $preset -o - |
		    promrun-push --job '$JOB-$preset' -"
		assert_success
	done
	run series_of "$JOB-native"
	assert_line "ci_workflow_runs_total{instance=\"\",job=\"$JOB-native\",repo=\"promrun\",status=\"success\",workflow=\"build\"} 1"
	run series_of "$JOB-attest"
	assert_line --partial 'attest_pipeline_executions_total{'
}

@test "several files form one group" {
	printf 't8_a 1\n' >a.prom
	printf '# TYPE t8_b gauge\nt8_b 2\n' >b.prom
	run promrun-push --job "$JOB" a.prom b.prom
	assert_success
	run series_of "$JOB"
	assert_line "t8_a{instance=\"\",job=\"$JOB\"} 1"
	assert_line "t8_b{instance=\"\",job=\"$JOB\"} 2"
}

@test "[push] settings apply and options override them" {
	printf 't9_conf 9\n' >m.prom
	cat >"$CONF" <<-EOF
	[push]
	url = $GW_URL
	job = $JOB-conf
	grouping = instance=from-conf, runner=r1
	timeout = 5s
	retries = 0
	gzip = true
	EOF
	run promrun-push m.prom
	assert_success
	run series_of "$JOB-conf"
	assert_line "t9_conf{instance=\"from-conf\",job=\"$JOB-conf\",runner=\"r1\"} 9"
	run promrun-push --job "$JOB" -g instance=from-cli m.prom
	assert_success
	run series_of "$JOB"
	assert_line "t9_conf{instance=\"from-cli\",job=\"$JOB\",runner=\"r1\"} 9"
}

@test "--gzip sends a compressed body the gateway accepts" {
	for i in $(seq 200); do printf 't10_gz{i="%d"} %d\n' "$i" "$i"; done >m.prom
	run --separate-stderr promrun-push -v --gzip --job "$JOB" m.prom
	assert_success
	[[ $stderr =~ ": "([0-9]+)" bytes, "([0-9]+)" gzipped" ]]
	[ "${BASH_REMATCH[2]}" -lt "${BASH_REMATCH[1]}" ]
	run series_of "$JOB"
	assert_line "t10_gz{i=\"137\",instance=\"\",job=\"$JOB\"} 137"
	[ "$(grep -c '^t10_gz' <<<"$output")" -eq 200 ]
}

@test "--dir pushes every *.prom as its own group labelled textfile" {
	mkdir tf tf/sub.prom
	printf 't11_a 1\n' >tf/a.prom
	printf 't11_b 2\n' >tf/b.prom
	printf 't11_hidden 3\n' >tf/.c.prom
	printf 't11_temp 4\n' >tf/d.prom.tmp
	run promrun-push --job "$JOB" -g instance=runner-7 --dir tf
	assert_success
	run series_of "$JOB"
	assert_line "t11_a{instance=\"runner-7\",job=\"$JOB\",textfile=\"a.prom\"} 1"
	assert_line "t11_b{instance=\"runner-7\",job=\"$JOB\",textfile=\"b.prom\"} 2"
	refute_line --partial 't11_hidden'
	refute_line --partial 't11_temp'
	# One group per file: replacing b.prom's group leaves a.prom's alone.
	printf 't11_b 5\n' >tf/b.prom
	rm tf/a.prom
	run promrun-push --job "$JOB" -g instance=runner-7 --dir tf
	assert_success
	run series_of "$JOB"
	assert_line "t11_a{instance=\"runner-7\",job=\"$JOB\",textfile=\"a.prom\"} 1"
	assert_line "t11_b{instance=\"runner-7\",job=\"$JOB\",textfile=\"b.prom\"} 5"
}

@test "--dir validates every file before sending any" {
	mkdir tf
	printf 't12_a 1\n' >tf/a.prom
	printf 't12_b 1\nt12_b 2\n' >tf/b.prom
	run --separate-stderr promrun-push --job "$JOB" --dir tf
	assert_failure 2
	[ "$stderr" = 'promrun-push: tf/b.prom:2: duplicate series t12_b with the same labels as line 1' ]
	run series_of "$JOB"
	assert_output ''
}

@test "--dir --delete removes the groups of the files there" {
	mkdir tf
	printf 't13_a 1\n' >tf/a.prom
	printf 't13_b 1\n' >tf/b.prom
	promrun-push --job "$JOB" --dir tf
	promrun-push --job "$JOB" -g textfile=kept.prom tf/a.prom
	run promrun-push --job "$JOB" --dir tf --delete
	assert_success
	run series_of "$JOB"
	assert_output --partial 'textfile="kept.prom"'
	refute_output --partial 'textfile="a.prom"'
	refute_output --partial 'textfile="b.prom"'
}

@test "a type conflict with another group: exit 1, the gateway's reason, no retry" {
	printf '# TYPE t14_x counter\nt14_x 1\n' >counter.prom
	printf '# TYPE t14_x gauge\nt14_x 1\n' >gauge.prom
	promrun-push --job "$JOB-a" counter.prom
	run --separate-stderr promrun-push -v --retries 3 --job "$JOB-b" gauge.prom
	assert_failure 1
	# The gateway names whichever of the two groups it checks first.
	[[ ${stderr_lines[-1]} =~ ^"promrun-push: gateway refused the push of {job=\"$JOB-b\"} (HTTP 400): pushed metrics are invalid or inconsistent with existing metrics: collected metric \"t14_x\" { label:<name:\"instance\" value:\"\" > label:<name:\"job\" value:\"$JOB-"[ab]"\" > "(counter|gauge)":<value:1 > } is not a "(COUNTER|GAUGE)$ ]]
	[ "${BASH_REMATCH[1]^^}" != "${BASH_REMATCH[2]}" ]
	[ "$(grep -c ': attempt ' <<<"$stderr")" -eq 1 ]
	[[ $stderr != *retry* ]]
}

@test "-v prints the request line and the status" {
	printf 't15_v 1\n' >m.prom
	run --separate-stderr promrun-push -v --job "$JOB" -g 'path=/x' m.prom
	assert_success
	[ "${stderr_lines[0]}" = "promrun-push: PUT $GW_URL/metrics/job@base64/$(printf %s "$JOB" | basenc --base64url)/path@base64/L3g= {job=\"$JOB\",path=\"/x\"}: 8 bytes" ]
	[[ ${stderr_lines[1]} =~ ^"promrun-push: attempt 1: HTTP 200 in "[0-9.]+" ms"$ ]]
	[ "${#stderr_lines[@]}" -eq 2 ]
	run --separate-stderr promrun-push -v --job "$JOB" -g 'path=/x' --delete
	assert_success
	[ "${stderr_lines[0]}" = "promrun-push: DELETE $GW_URL/metrics/job@base64/$(printf %s "$JOB" | basenc --base64url)/path@base64/L3g= {job=\"$JOB\",path=\"/x\"}" ]
	[[ ${stderr_lines[1]} =~ "HTTP 202" ]]
}

# group_state: the test's group as the gateway has it, push times included.
group_state() {
	gateway_series | grep -F "job=\"$JOB\"" || true
}

# empty_refused WHAT ARG...: push ARGs, expect exit 2 with the one-line
# "no samples" message naming WHAT and the group (GROUP, by default the
# test's job alone), and the gateway as it was.
empty_refused() {
	local what=$1 group=${GROUP:-"{job=\"$JOB\"}"} before
	shift
	before=$(group_state)
	run --separate-stderr promrun-push --job "$JOB" "$@"
	assert_failure 2
	[ -z "$output" ]
	[ "$stderr" = "promrun-push: $what: no samples (empty, or comments only): nothing sent, the group $group keeps its series (--allow-empty to push it anyway)" ] || {
		echo "stderr: $stderr"
		return 1
	}
	[ "$(group_state)" = "$before" ]
}

@test "an input without samples is refused and the group keeps its series" {
	printf 't16_x 1\n' >m.prom
	promrun-push --job "$JOB" m.prom
	: >empty.prom
	printf '\n  \n\t\n' >blank.prom
	printf '# HELP t16_x Gone.\n# TYPE t16_x gauge\n# a comment\n' >comments.prom
	empty_refused empty.prom empty.prom
	empty_refused blank.prom blank.prom
	empty_refused comments.prom comments.prom
	empty_refused '(stdin)' - </dev/null
	empty_refused '(stdin)' - <comments.prom
	empty_refused empty.prom --add empty.prom
	# Each of several files is one input: an empty one is refused too.
	printf 't16_y 1\n' >other.prom
	empty_refused empty.prom other.prom empty.prom
	run series_of "$JOB"
	assert_line "t16_x{instance=\"\",job=\"$JOB\"} 1"
}

@test "--allow-empty pushes an input without samples: PUT empties the group" {
	printf 't17_x 1\n' >m.prom
	printf '# TYPE t17_x gauge\n' >comments.prom
	promrun-push --job "$JOB" m.prom
	run promrun-push --job "$JOB" --allow-empty comments.prom
	assert_success
	run series_of "$JOB"
	refute_line --partial 't17_x'
	assert_line --partial "push_time_seconds{instance=\"\",job=\"$JOB\"}"
	promrun-push --job "$JOB" m.prom
	run promrun-push --job "$JOB" --allow-empty - </dev/null
	assert_success
	run series_of "$JOB"
	refute_line --partial 't17_x'
	run --separate-stderr promrun-push --job "$JOB" --allow-empty --delete
	assert_failure 2
	[ "$stderr" = 'promrun-push: --delete sends no metrics: give no FILE or --allow-empty (see promrun-push --help)' ]
}

@test "a failed promrun-render piped into promrun-push leaves the group as it was" {
	for w in build test deploy; do
		promrun-record -w "$w" -s success
	done
	promrun-render -o - | promrun-push --job "$JOB" -
	run series_of "$JOB"
	assert_line --partial 'workflow="deploy"'
	before=$(group_state)
	# The man page's pipe, with the render failing on max_series.
	printf '[render]\nmax_series = 2\n' >>"$CONF"
	run --separate-stderr bash -c "promrun-render -o - | promrun-push --job '$JOB' -"
	assert_failure 2
	[[ ${stderr_lines[0]} == 'promrun-render: series limit reached: '* ]]
	[[ ${stderr_lines[1]} == 'promrun-push: (stdin): no samples '* ]]
	[ "$(group_state)" = "$before" ]
	# With pipefail the pipe fails with the last failure, still push's.
	run bash -c "set -o pipefail; promrun-render -o - | promrun-push --job '$JOB' -"
	assert_failure 2
	[ "$(group_state)" = "$before" ]
	# --allow-empty in the pipe: only pipefail still shows the failure,
	# and the group is gone; the man page says to keep it out of pipes.
	run bash -c "promrun-render -o - | promrun-push --job '$JOB' --allow-empty -"
	assert_success
	run bash -c "set -o pipefail; promrun-render -o - | promrun-push --job '$JOB' --allow-empty -"
	assert_failure 1
	run series_of "$JOB"
	refute_line --partial 'workflow='
}

@test "--dir: a file without samples stops every group; --allow-empty pushes it" {
	mkdir tf
	printf 't18_a 1\n' >tf/a.prom
	printf 't18_b 1\n' >tf/b.prom
	promrun-push --job "$JOB" --dir tf
	before=$(group_state)
	: >tf/b.prom
	GROUP="{job=\"$JOB\",textfile=\"b.prom\"}"
	empty_refused tf/b.prom --dir tf
	printf '# HELP t18_b B.\n' >tf/b.prom
	empty_refused tf/b.prom --dir tf
	[ "$(group_state)" = "$before" ]
	printf 't18_a 2\n' >tf/a.prom
	run promrun-push --job "$JOB" --allow-empty --dir tf
	assert_success
	run series_of "$JOB"
	assert_line "t18_a{instance=\"\",job=\"$JOB\",textfile=\"a.prom\"} 2"
	refute_line --partial 't18_b'
	assert_line --partial "push_time_seconds{instance=\"\",job=\"$JOB\",textfile=\"b.prom\"}"
}

@test "--help prints the synopsis on stdout and exits 0" {
	run --separate-stderr promrun-push --help
	assert_success
	[ -z "$stderr" ]
	assert_line --index 0 'usage: promrun-push [-c CONFIG] [-u URL] [--job JOB] [-g NAME=VALUE]... [--add | --delete]'
	for opt in --url --job --grouping --add --delete --dir --user \
	    --password-file --bearer-token-file --cacert --cert --key --insecure \
	    --timeout --retries --gzip --verbose --config --help --version; do
		assert_output --partial -- "$opt"
	done
}

@test "--version prints the version" {
	run promrun-push --version
	assert_success
	assert_output --regexp '^promrun-push [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "the man page renders, documents every option and matches --help" {
	man_page="$BATS_TEST_DIRNAME/../cmd/promrun-push/promrun-push.1"
	run env MANWIDTH=200 man --warnings -l "$man_page"
	assert_success
	for opt in --url --job --grouping --add --delete --dir --user \
	    --password-file --bearer-token-file --cacert --cert --key --insecure \
	    --timeout --retries --gzip --verbose --config --help --version \
	    PROMRUN_PUSH_PASSWORD PROMRUN_PUSH_TOKEN 'EXIT STATUS' textfile; do
		assert_output --partial -- "$opt"
	done
	# The SYNOPSIS names the same options as the usage line, in order.
	synopsis=$(sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' <<<"$output" | tr -s ' \n' '  ')
	usage=$(promrun-push --help | sed -n '1,/^$/p' | sed 's/^usage: //' | tr -s ' \n' '  ')
	opts() { grep -o -e '--[a-z-]*' -e ' -[a-zA-Z] ' <<<"$1" | tr -d ' ' | tr '\n' ' '; }
	[ "$(opts "$synopsis")" = "$(opts "$usage")" ] || {
		echo "man:   $(opts "$synopsis")"
		echo "usage: $(opts "$usage")"
		return 1
	}
}
