#!/usr/bin/env bats
# promrun-push: invalid input and usage are refused with exit 2 and one line
# naming the file, the line, the value and what is accepted, and nothing
# reaches the gateway (the group's push_time_seconds and
# push_failure_time_seconds stay as they were).

load 'test_helper/pushgateway'

setup_file() {
	gateway_start "$BATS_FILE_TMPDIR/gw"
}

setup() {
	push_test_setup in
	printf 'seed_metric 1\n' >seed.prom
	promrun-push seed.prom
	before=$(gateway_state)
	[[ $before == *"push_time_seconds"* ]]
}

# gateway_state: the group's series, push times included.
gateway_state() {
	gateway_series | grep -F "job=\"$JOB\""
}

# refused WANT CONTENT [ARG...]: push a file holding CONTENT (a printf
# format) with ARGs and expect exit 2, one line "promrun-push: WANT" on
# stderr, and the gateway as it was.
refused() {
	local want=$1
	# shellcheck disable=SC2059
	printf "$2" >bad.prom
	shift 2
	refused_args "$want" "$@" bad.prom
}

# refused_args WANT ARG...: the same for any arguments.
refused_args() {
	local want=$1
	shift
	run --separate-stderr promrun-push "$@"
	assert_failure 2
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ] || {
		echo "not one line: $stderr"
		return 1
	}
	[ "$stderr" = "promrun-push: $want" ] || {
		echo "stderr: $stderr"
		echo "wanted: promrun-push: $want"
		return 1
	}
	[ "$(gateway_state)" = "$before" ]
}

@test "a sample with a timestamp" {
	refused 'bad.prom:2: sample has a timestamp (1700000000000): timestamps are not accepted here' \
	    'ok 1\nwith_ts 1 1700000000000\n'
}

@test "values and blanks the gateway's parser refuses, named with the line" {
	refused 'bad.prom:2: sample value "1e400" is out of range (finite values are at most 1.7976931348623157e308 in magnitude): use a decimal float (1, -2.5, 1e3), +Inf, -Inf or NaN' \
	    'ok 1\nx 1e400\n'
	refused 'bad.prom:1: sample value "1.7976931348623159e308" is out of range (finite values are at most 1.7976931348623157e308 in magnitude): use a decimal float (1, -2.5, 1e3), +Inf, -Inf or NaN' \
	    'x{a="b"} 1.7976931348623159e308\n'
	refused 'bad.prom:1: sample value "+NaN" is not a number: use a decimal float (1, -2.5, 1e3), +Inf, -Inf or NaN' \
	    'x +NaN\n'
	refused 'bad.prom:1: sample value "0x1p3" is not a number: use a decimal float (1, -2.5, 1e3), +Inf, -Inf or NaN' \
	    'x 0x1p3\n'
	refused 'bad.prom:3: blank after the value "1" at the end of the line: the value ends the line, or one timestamp after it' \
	    'ok 1\n\nx 1 \n'
	refused 'bad.prom:1: blank after the value "2.5" at the end of the line: the value ends the line, or one timestamp after it' \
	    'x{a="b"}\t2.5\t\n'
	refused 'bad.prom:2: label le="1e999" is out of range (finite values are at most 1.7976931348623157e308 in magnitude): use a float such as 0.5, or +Inf' \
	    '# TYPE h histogram\nh_bucket{le="1e999"} 1\nh_sum 1\nh_count 1\n'
	refused 'bad.prom:1: unknown type "gauge " for x: use counter, gauge, histogram, summary or untyped, and nothing after it' \
	    '# TYPE x gauge \nx 1\n'
	# What the gateway takes, promrun-push takes: underflow, any case.
	printf 'a 1e-400\nb 4.9e-324\nc nan\nd -INFINITY\ne .5\nf 1.\n' >ok.prom
	run promrun-push ok.prom
	assert_success
}

@test "a duplicate series" {
	refused 'bad.prom:3: duplicate series x with the same labels as line 1' \
	    'x{a="1",b="2"} 1\nx{a="2"} 1\nx{b="2",a="1"} 3\n'
}

@test "a type conflict within the input" {
	refused 'bad.prom:3: second TYPE line for x' \
	    '# TYPE x counter\nx 1\n# TYPE x gauge\n'
	refused 'bad.prom:3: lines of family x must be together: it was already given at line 1' \
	    'x 1\ny 1\nx{a="b"} 2\nx{a="c"} 2\n'
}

@test "a missing final newline" {
	refused 'bad.prom:2: missing newline at the end of the input: the last line must end with LF' \
	    'x 1\ny 2'
}

@test "invalid metric and label names, invalid UTF-8" {
	refused 'bad.prom:1: invalid metric name at "1x 1": names match [a-zA-Z_:][a-zA-Z0-9_:]* and are followed by labels or a value' \
	    '1x 1\n'
	refused 'bad.prom:1: label name "__bad" is reserved: names starting with __ are Prometheus'"'"'s' \
	    'x{__bad="1"} 1\n'
	refused 'bad.prom:1: label value is not valid UTF-8 (byte 0xff at offset 0)' \
	    'x{a="\xff"} 1\n'
}

@test "families the gateway owns" {
	refused 'bad.prom:2: family push_time_seconds belongs to the Pushgateway, which exposes push_time_seconds, push_failure_time_seconds, go_*, process_* and pushgateway_* itself: rename it' \
	    'ok 1\npush_time_seconds 5\n'
	refused 'bad.prom:1: family push_failure_time_seconds belongs to the Pushgateway, which exposes push_time_seconds, push_failure_time_seconds, go_*, process_* and pushgateway_* itself: rename it' \
	    '# TYPE push_failure_time_seconds gauge\npush_failure_time_seconds 5\n'
	refused 'bad.prom:3: family go_goroutines belongs to the Pushgateway, which exposes push_time_seconds, push_failure_time_seconds, go_*, process_* and pushgateway_* itself: rename it' \
	    'a 1\nb 1\ngo_goroutines 5\n'
	refused 'bad.prom:1: family process_cpu_seconds_total belongs to the Pushgateway, which exposes push_time_seconds, push_failure_time_seconds, go_*, process_* and pushgateway_* itself: rename it' \
	    'process_cpu_seconds_total 5\n'
	refused 'bad.prom:1: family pushgateway_build_info belongs to the Pushgateway, which exposes push_time_seconds, push_failure_time_seconds, go_*, process_* and pushgateway_* itself: rename it' \
	    '# HELP pushgateway_build_info x\npushgateway_build_info 1\n'
}

@test "a family named like the gateway's but not one of them is fine" {
	printf 'pushes_total 1\ngoroutines 2\nprocessed 3\n' >ok.prom
	run promrun-push ok.prom
	assert_success
	run gateway_state
	assert_line "processed{instance=\"\",job=\"$JOB\"} 3"
}

@test "a label the grouping key would overwrite" {
	refused "bad.prom:2: x has job=\"other\" but the grouping key says job=\"$JOB\", and the gateway would overwrite it: drop the label or push to that group" \
	    'x 1\nx{job="other"} 1\n'
	refused 'bad.prom:1: y has instance="a" but the grouping key says instance="b", and the gateway would overwrite it: drop the label or push to that group' \
	    'y{instance="a"} 1\n' -g instance=b
	# The same value is what the gateway would set anyway: accepted.
	printf 'z{instance="b",job="%s"} 1\n' "$JOB" >same.prom
	run promrun-push -g instance=b same.prom
	assert_success
}

@test "the same family in two files, and a clash only the two together show" {
	printf 'x 1\n' >a.prom
	printf 'y 1\nx{a="b"} 2\n' >b.prom
	refused_args 'b.prom:2: family x is also in a.prom: give each family in one input only' \
	    a.prom b.prom
	printf '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n' >h.prom
	printf 'h_sum 1\n' >s.prom
	run --separate-stderr promrun-push h.prom s.prom
	assert_failure 2
	[[ $stderr == 'promrun-push: the inputs combined:5: '*'h_sum'* ]]
	[ "$(gateway_state)" = "$before" ]
}

@test "an input that cannot be read: exit 1, nothing sent" {
	run --separate-stderr promrun-push missing.prom
	assert_failure 1
	[ "$stderr" = 'promrun-push: cannot read missing.prom: No such file or directory' ]
	[ "$(gateway_state)" = "$before" ]
}

# as_user CMD...: run CMD as an unprivileged user, so permissions apply
# (root reads any directory): under root, user 4242 through setpriv, the
# test's directories opened to it; otherwise the current user.
as_user() {
	if [ "$(id -u)" -eq 0 ]; then
		chmod o+x "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" \
		    "$BATS_TEST_TMPDIR" "$HOME"
		setpriv --reuid=4242 --regid=4242 --clear-groups "$@"
	else
		"$@"
	fi
}

# dir_unreadable WANT ARG...: promrun-push ARGs as as_user: exit 1, one
# line "promrun-push: WANT", nothing sent.
dir_unreadable() {
	local want=$1
	shift
	run --separate-stderr as_user promrun-push "$@"
	assert_failure 1
	[ "$stderr" = "promrun-push: $want" ] || {
		echo "stderr: $stderr"
		return 1
	}
	[ "$(gateway_state)" = "$before" ]
}

@test "--dir that cannot be read: exit 1 with the system's reason, nothing sent" {
	dir_unreadable "cannot read directory $PWD/missing: No such file or directory" \
	    --dir "$PWD/missing"
	dir_unreadable "cannot read directory $PWD/seed.prom: Not a directory" \
	    --dir "$PWD/seed.prom"
	mkdir locked listed
	printf 'x 1\n' >locked/a.prom
	printf 'x 1\n' >listed/a.prom
	chmod 000 locked
	dir_unreadable "cannot read directory $PWD/locked: Permission denied" \
	    --dir "$PWD/locked"
	# Listed but not searchable: the names show, the files cannot be
	# examined; never "no *.prom files".
	chmod 644 listed
	dir_unreadable "cannot read $PWD/listed/a.prom: Permission denied" \
	    --dir "$PWD/listed"
	dir_unreadable "cannot read $PWD/listed/a.prom: Permission denied" \
	    --dir "$PWD/listed" --delete
	# A file in it that cannot be read: the same.
	chmod 755 listed
	chmod 600 listed/a.prom
	dir_unreadable "cannot read $PWD/listed/a.prom: Permission denied" \
	    --dir "$PWD/listed"
	# A readable directory without *.prom files is invalid input.
	mkdir none
	refused_args "no *.prom files in none" --dir none
}

@test "no input at all" {
	refused_args 'no input: give FILE or - (standard input), or set [render] output'
}

@test "grouping label names" {
	refused_args 'invalid grouping label name "9x": names match [a-zA-Z_][a-zA-Z0-9_]* and do not start with __' \
	    -g 9x=1 seed.prom
	refused_args 'invalid grouping label name "__x": names match [a-zA-Z_][a-zA-Z0-9_]* and do not start with __' \
	    -g __x=1 seed.prom
	refused_args 'invalid grouping label name "a-b": names match [a-zA-Z_][a-zA-Z0-9_]* and do not start with __' \
	    -g a-b=1 seed.prom
	refused_args 'grouping label "job": give the job with --job (or [push] job)' \
	    -g job=x seed.prom
	refused_args 'grouping label "a" given twice' -g a=1 -g a=2 seed.prom
	refused_args 'grouping label "a" has no value: use NAME=VALUE (NAME= for an empty value)' \
	    -g a seed.prom
	refused_args 'grouping label "a" is not valid UTF-8 (byte 0xff at offset 1)' \
	    -g "a=x$(printf '\xff')" seed.prom
}

@test "an empty job" {
	refused_args 'the job is empty: give a job name with --job (or [push] job)' \
	    --job '' seed.prom
}

@test "option combinations" {
	refused_args '--add and --delete exclude each other (see promrun-push --help)' \
	    --add --delete
	refused_args '--delete sends no metrics: give no FILE or --allow-empty (see promrun-push --help)' \
	    --delete seed.prom
	refused_args '--dir and FILE arguments exclude each other (see promrun-push --help)' \
	    --dir . seed.prom
	refused_args 'unknown option "--frobnicate" (see promrun-push --help)' \
	    --frobnicate seed.prom
	refused_args 'missing argument for "--timeout" (see promrun-push --help)' \
	    seed.prom --timeout
}

@test "gateway URLs" {
	refused_args 'invalid gateway URL "ftp://h:21": use http://HOST:PORT or https://HOST:PORT' \
	    -u ftp://h:21 seed.prom
	refused_args 'invalid gateway URL "not a url": use http://HOST:PORT or https://HOST:PORT' \
	    -u 'not a url' seed.prom
	refused_args "gateway URL \"$GW_URL/metrics/job/x\" names a path under /metrics: give the gateway's base URL and the group with --job and -g" \
	    -u "$GW_URL/metrics/job/x" seed.prom
	refused_args "gateway URL \"$GW_URL/?x=1\" has a query or fragment: give only http(s)://HOST:PORT[/PATH]" \
	    -u "$GW_URL/?x=1" seed.prom
}

@test "credentials in the URL are refused without repeating them" {
	refused_args 'the gateway URL holds credentials, which would show in ps and in messages: use --user with --password-file or PROMRUN_PUSH_PASSWORD' \
	    -u "http://ci:s3cr3t-in-url@127.0.0.1:$GW_PORT" seed.prom
	refused_args 'the gateway URL holds credentials, which would show in ps and in messages: use --user with --password-file or PROMRUN_PUSH_PASSWORD' \
	    -u "http://s3cr3t-in-url@127.0.0.1:$GW_PORT" seed.prom
}

@test "timeouts and retries out of range" {
	refused_args '--timeout "0": use seconds (10, 2.5) or a duration (10s, 500ms, 1m) above 0 and at most 1h' \
	    --timeout 0 seed.prom
	refused_args '--timeout "2h": use seconds (10, 2.5) or a duration (10s, 500ms, 1m) above 0 and at most 1h' \
	    --timeout 2h seed.prom
	refused_args '--timeout "soon": use seconds (10, 2.5) or a duration (10s, 500ms, 1m) above 0 and at most 1h' \
	    --timeout soon seed.prom
	refused_args '--retries "11": use a whole number from 0 to 10' \
	    --retries 11 seed.prom
	refused_args '--retries "-1": use a whole number from 0 to 10' \
	    --retries -1 seed.prom
}

@test "[push] errors name the config file and line" {
	printf '[push]\nurl = %s\nretries = many\n' "$GW_URL" >"$CONF"
	refused_args "$CONF:3: [push] retries = \"many\": use a whole number from 0 to 10" seed.prom
	printf '[push]\ngrouping = ok=1, 9bad=2\n' >"$CONF"
	refused_args "$CONF:2: invalid grouping label name \"9bad\": names match [a-zA-Z_][a-zA-Z0-9_]* and do not start with __" seed.prom
	printf '[push]\ngzip = maybe\n' >"$CONF"
	refused_args "$CONF:2: [push] gzip = \"maybe\": use true or false" seed.prom
	printf '[push]\npassword = hunter2\n' >"$CONF"
	refused_args "$CONF:2: unknown key \"password\" in [push]" seed.prom
	printf '[push]\ntimeout = 0s\n' >"$CONF"
	refused_args "$CONF:2: [push] timeout = \"0s\": use seconds (10, 2.5) or a duration (10s, 500ms, 1m) above 0 and at most 1h" seed.prom
}

@test "a file larger than 64 MiB is refused before sending" {
	head -c $((64 * 1024 * 1024 + 1)) /dev/zero | tr '\0' '\n' >big.prom
	refused_args 'big.prom makes the input larger than 64 MiB: push at most that much at once' big.prom
}
