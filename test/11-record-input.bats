#!/usr/bin/env bats
# promrun-record: bad input is refused with one line and exit 2, and the
# journal is left exactly as it was; configuration and its defaults.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	promrun-record -j "$J" -w seed -s success --time 1
	cp "$J" "$BATS_TEST_TMPDIR/before"
}

# refused EXPECTED-MESSAGE-PART ARGS...: exit 2, one line naming the value,
# journal byte-for-byte unchanged.
refused() {
	local want=$1
	shift
	run --separate-stderr promrun-record -j "$J" "$@"
	assert_failure 2
	[ -z "$output" ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || {
		echo "not one line: $stderr"
		return 1
	}
	[[ $stderr == "promrun-record: "*"$want"* ]] || {
		echo "stderr: $stderr"
		echo "wanted: $want"
		return 1
	}
	cmp "$J" "$BATS_TEST_TMPDIR/before"
}

@test "unknown status" {
	refused '"done": use success, failure, cancelled or timeout' -w w -s done
}

@test "status lost is derived, not recorded" {
	refused '"lost" cannot be recorded' -w w -s lost
}

@test "label names outside [a-zA-Z_][a-zA-Z0-9_]*" {
	refused 'invalid label name "9lives"' -w w -s ok -l 9lives=x
	refused 'invalid label name "a-b"' -w w -s ok -l a-b=x
	refused 'invalid label name ""' -w w -s ok -l =x
}

@test "label names starting with __ or used by promrun" {
	refused 'invalid label name "__name__"' -w w -s ok -l __name__=x
	refused 'label name "status" is used by promrun' -w w -s ok -l status=x
	refused 'label name "le" is used by promrun' -w w -s ok -l le=1
}

@test "labels the Pushgateway, Prometheus or promrun-push --dir set: job, instance, textfile" {
	for name in job instance textfile; do
		refused "label name \"$name\" is set by the Pushgateway or Prometheus on every series (job, instance) or by promrun-push --dir (textfile): choose another name" \
		    -w w -s ok -l "$name=nightly"
		refused "label name \"$name\" is set by" -w w -s ok -l repo=a -l "$name="
		refused "label name \"$name\" is set by" -w w --start --run-id r -l "$name=x"
		# The wrapper warns and runs the command, recording nothing.
		run --separate-stderr promrun-record -j "$J" -w w -l "$name=x" -- sh -c 'exit 3'
		assert_failure 3
		[[ $stderr == *"label name \"$name\" is set by"* ]]
		cmp "$J" "$BATS_TEST_TMPDIR/before"
	done
	# Names that merely look alike are the user's.
	run promrun-record -j "$J" -w w -s ok -l jobs=1 -l exported_job=2 -l instance_type=3
	assert_success
}

@test "an allow-list naming job or instance is a configuration error" {
	printf '[journal]\nlabels = repo, instance\n' >"$CONF"
	refused "$CONF:2: [journal] labels: label name \"instance\" is set by the Pushgateway" \
	    -w w -s ok -l repo=x
}

@test "a label without = and a label given twice" {
	refused 'label "repo" has no value: use NAME=VALUE' -w w -s ok -l repo
	refused 'label "a" given twice' -w w -s ok -l a=1 -l a=2
}

@test "a label outside the configured allow-list" {
	printf '[journal]\nlabels = org, repo branch\n' >"$CONF"
	run promrun-record -j "$J" -w w -s ok -l repo=x -l branch=main
	assert_success
	cp "$J" "$BATS_TEST_TMPDIR/before"
	refused 'label "runner" is not in the configured allow-list ([journal] labels): use one of org, repo, branch' \
	    -w w -s ok -l repo=x -l runner=r1
}

@test "invalid UTF-8 in the workflow, a step, a run id or a label value" {
	refused 'workflow name is not valid UTF-8 (byte 0xff at offset 3)' \
	    -w "$(printf 'abc\xff')" -s ok
	refused 'step is not valid UTF-8' -w w --step "$(printf '\xc0\x80')" -s ok
	refused 'run id is not valid UTF-8' -w w --run-id "$(printf '\xed\xa0\x80')" -s ok
	refused 'repo is not valid UTF-8' -w w -s ok -l "repo=$(printf 'x\xe2\x82')"
}

@test "empty workflow, step or run id" {
	refused 'workflow name is empty' -w '' -s ok
	refused 'no workflow: give -w NAME' -s ok
	refused 'step is empty' -w w --step '' -s ok
	refused 'run id is empty' -w w --run-id '' -s ok
}

@test "negative, NaN or unparsable durations" {
	refused 'duration "-1" is not a number of seconds' -w w -s ok -d -1
	refused 'duration "NaN" is not a number' -w w -s ok -d NaN
	refused 'duration "inf" is not a number' -w w -s ok -d inf
	refused 'duration "1e3" is not a number' -w w -s ok -d 1e3
	refused 'duration "10s" is not a number' -w w -s ok -d 10s
}

@test "negative, NaN or unparsable times" {
	refused '--time "-1" is not a time' -w w -s ok --time -1
	refused '--time "nan" is not a time' -w w -s ok --time nan
	refused '--time "yesterday" is not a time' -w w -s ok --time yesterday
	refused '--time "2026-02-30T00:00:00Z" is not a time' -w w -s ok --time 2026-02-30T00:00:00Z
	refused '--time "2026-11-23T10:00:00" is not a time' -w w -s ok --time 2026-11-23T10:00:00
	refused '--time "1969-12-31T23:59:59Z" is out of range' -w w -s ok --time 1969-12-31T23:59:59Z
}

@test "exit codes outside 0..255" {
	refused 'exit code "256" is not valid' -w w -e 256
	refused 'exit code "-1" is not valid' -w w -e -1
	refused 'exit code "x" is not valid' -w w -e x
}

@test "missing outcome, run id, or contradictory options" {
	refused 'no outcome: give -s STATUS or -e EXIT_CODE' -w w
	refused '--start needs --run-id' -w w --start
	refused '--finish needs --run-id' -w w --finish -s ok
	refused '--start takes no -s, -e, -d or --started' -w w --start --run-id 1 -s ok
	refused '--start and --finish exclude each other' -w w --start --finish --run-id 1
}

@test "unknown options and missing arguments" {
	refused 'unknown option "--bogus"' -w w -s ok --bogus
	refused 'missing argument for option "-w"' -w
}

@test "a record larger than the 64 KiB bound" {
	big=$(head -c 70000 /dev/zero | tr '\0' x)
	refused 'record is larger than the limit of 65536 bytes' -w w -s ok -l "big=$big"
}

@test "the largest record that fits is accepted, one byte more is not" {
	# Measure the record without the padding label's value, then fill up.
	promrun-record -j "$BATS_TEST_TMPDIR/probe" -w w -s ok --time 1 -l pad=
	base=$(wc -c <"$BATS_TEST_TMPDIR/probe")
	pad=$(head -c $((65536 - base)) /dev/zero | tr '\0' x)
	run promrun-record -j "$J" -w w -s ok --time 1 -l "pad=$pad"
	assert_success
	[ "$(tail -n 1 "$J" | wc -c)" -eq 65536 ]
	cp "$J" "$BATS_TEST_TMPDIR/before"
	refused 'larger than the limit' -w w -s ok --time 1 -l "pad=${pad}x"
}

@test "a config file with a syntax error names the file and line" {
	printf '[journal]\n# comment\nthis line has no equals\n' >"$CONF"
	refused "$CONF:3: syntax error" -w w -s ok
}

@test "an unknown key or section names the file and line" {
	printf '[journal]\nfsync = always\npaht = /tmp/x\n' >"$CONF"
	refused "$CONF:3: unknown key \"paht\" in [journal]" -w w -s ok
	printf '\n[jornal]\npath = /tmp/x\n' >"$CONF"
	refused "$CONF:2: unknown section [\"jornal\"]: known are [journal], [render], [push], [record], [serve] and [org NAME]" -w w -s ok
	# refused at its header, even with no key under it
	printf '[journal]\nfsync = always\n[jornal]\n' >"$CONF"
	refused "$CONF:3: unknown section [\"jornal\"]" -w w -s ok
	printf '[record]\ntimeout = 5\n[record]\n' >"$CONF"
	refused "$CONF:3: [record] appears again (first on line 1)" -w w -s ok
}

@test "a bad value in the config names the file, line, value and what is accepted" {
	printf '[journal]\nfsync = sometimes\n' >"$CONF"
	refused "$CONF:2: [journal] fsync = \"sometimes\": use always or never" -w w -s ok
	printf '[journal]\nlabels = org, bad-name\n' >"$CONF"
	refused "$CONF:2: [journal] labels: invalid label name \"bad-name\"" -w w -s ok
}

@test "a config line longer than inih can hold is refused, not split" {
	printf '[journal]\nlabels = %s\n' "$(printf 'l%03d,' $(seq 1 60))" >"$CONF"
	refused "$CONF:2: line too long" -w w -s ok
}

@test "a missing or unreadable config file, with the reason" {
	refused "config file $BATS_TEST_TMPDIR/nope.ini does not exist" \
	    -c "$BATS_TEST_TMPDIR/nope.ini" -w w -s ok
	PROMRUN_CONFIG="$BATS_TEST_TMPDIR/nope.ini" refused 'does not exist' -w w -s ok
	refused "cannot read config file $BATS_TEST_TMPDIR" -c "$BATS_TEST_TMPDIR" -w w -s ok
}

# config_refused WANT FORMAT [ARG...]: the config printf FORMAT ARG...
# makes is refused as refused() says.
config_refused() {
	local want=$1
	shift
	# shellcheck disable=SC2059  # the format is the config's text
	printf "$@" >"$CONF"
	refused "$want" -w w -s ok
}

@test "an empty checkpoint is refused like an empty path, and no ./.lock appears" {
	mkdir "$BATS_TEST_TMPDIR/cwd"
	cd "$BATS_TEST_TMPDIR/cwd"
	config_refused "$CONF:2: [render] checkpoint is empty: leave it out for the default" '[render]\ncheckpoint =\n'
	config_refused "$CONF:2: [render] checkpoint is empty" '[render]\ncheckpoint =   \n'
	run --separate-stderr promrun-render -j "$J" -o "$BATS_TEST_TMPDIR/out.prom"
	assert_failure 2
	assert_equal "$stderr" "promrun-render: $CONF:2: [render] checkpoint is empty: leave it out for the default"
	[ -z "$(ls -A)" ]
	[ ! -e "$BATS_TEST_TMPDIR/out.prom" ]
	config_refused "$CONF:2: [journal] path is empty" '[journal]\npath =\n'
}

@test "a NUL byte in the config is refused with its line: a value is never cut short" {
	# The example: the value would end at the NUL, the journal be another.
	config_refused "$CONF:2: a NUL byte in the line (a value would end there): the file must be text" '[journal]\npath = %s\0.evil\n' "$J.short"
	[ ! -e "$J.short" ] && [ ! -e "$J.short.lock" ]
	run --separate-stderr promrun-render -j "$J" -o -
	assert_failure 2
	assert_equal "$stderr" "promrun-render: $CONF:2: a NUL byte in the line (a value would end there): the file must be text"
	# Anywhere on a line: its start, a key, a header, a comment, the end of
	# the file without a newline, past an overlong line's cut.
	config_refused "$CONF:3: a NUL byte" '[journal]\nfsync = always\n\0labels = a\n'
	config_refused "$CONF:2: a NUL byte" '[journal]\nfs\0ync = always\n'
	config_refused "$CONF:1: a NUL byte" '[jour\0nal]\nfsync = always\n'
	config_refused "$CONF:2: a NUL byte" '[journal]\n# a comment\0\nfsync = always\n'
	config_refused "$CONF:2: a NUL byte" '[journal]\nfsync = always\0'
	config_refused "$CONF:2: a NUL byte" '[journal]\nlabels = %s\0x\n' "$(printf 'l%03d,' $(seq 1 60))"
	# The earliest problem is the one reported.
	config_refused "$CONF:2: [journal] fsync = \"sometimes\"" '[journal]\nfsync = sometimes\n\0\n'
}

@test "a key set twice is refused with both lines: the last one never silently wins" {
	config_refused "$CONF:4: [journal] fsync is set again (first on line 2): set each key once" '[journal]\nfsync = always\nlabels = a\nfsync = never\n'
	# The same value twice, other spellings of the separator and spacing.
	config_refused "$CONF:3: [render] mode is set again (first on line 2)" '[render]\nmode = 0600\nmode = 0600\n'
	config_refused "$CONF:5: [push] url is set again (first on line 2)" '[push]\nurl=http://a\n\n; comment\nurl : http://b\n'
	# The example of the issue: two journal paths, the second would win.
	config_refused "$CONF:3: [journal] path is set again (first on line 2)" '[journal]\npath = %s\npath = %s\n' "$J" "$J.other"
	[ ! -e "$J.other" ]
	# Keys of the same name in different sections are different keys.
	printf '[journal]\npath = %s\n[render]\noutput = -\n[push]\njob = j\n' "$J" >"$CONF"
	promrun-record -w w -s ok --time 2
}

@test "a section given twice is refused with both lines, even with no key in it" {
	config_refused "$CONF:5: [journal] appears again (first on line 1): put each section's settings under one header" '[journal]\nfsync = always\n[render]\nmode = 0600\n[journal]\nlabels = a\n'
	config_refused "$CONF:3: [render] appears again (first on line 1)" '[render]\n[push]\n[render]\n'
	# A header with a comment after it is the same header.
	config_refused "$CONF:3: [push] appears again (first on line 1)" '[push] ; gateway\njob = j\n[push]\n'
	# A BOM, blank lines and comments are no sections.
	printf '\357\273\277[journal]\n\n  \n# [journal]\n; [journal]\nfsync = always\n[render]\n' >"$CONF"
	promrun-record -w w -s ok --time 2
}

@test "an indented line after a setting, which INI takes as more of its value, is refused" {
	config_refused "$CONF:3: an indented line continues [journal] labels from line 2: write each setting on one line, not indented" '[journal]\nlabels = org,\n  repo\n'
	# An indented key after a key would become the first key's value.
	config_refused "$CONF:3: an indented line continues [journal] path from line 2" '[journal]\npath = %s\n\tfsync = never\n' "$J.other"
	[ ! -e "$J.other" ]
	# Indented right after a header, it is a key like any other; indented
	# comments and blank lines continue nothing.
	printf '[journal]\n  fsync = always\n  # note\n\t\n[render]\n\tmode = 0600\n' >"$CONF"
	promrun-record -w w -s ok --time 2
}
