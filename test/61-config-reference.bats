#!/usr/bin/env bats
# examples/promrun.ini, the configuration reference, and promrun.ini(5) are
# in step with each other and with the keys lib/config.c accepts; the
# programs accept the file as shipped and with every option uncommented.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	TOP="$BATS_TEST_DIRNAME/.."
	INI="$TOP/examples/promrun.ini"
	MAN5="$TOP/examples/promrun.ini.5"
}

# The keys as "section.key" lines, sorted: what the parser's table accepts,
# what promrun.ini sets (a "#key = value" line), what the man page
# documents (".It Cm key" under ".Ss [section]").
parser_keys() {
	sed -n 's/^[[:space:]]*{"\([a-z]*\)", "\([a-z_]*\)", set_[a-z_]*},$/\1.\2/p' \
	    "$TOP/lib/config.c" | LC_ALL=C sort
}
ini_keys() {
	awk '/^\[[a-z]+\]$/ { s = substr($0, 2, length($0) - 2) }
	    /^#[a-z_]+ = / { sub(/^#/, ""); print s "." $1 }' "$INI" | LC_ALL=C sort
}
man_keys() {
	awk '/^\.S[hs] / { s = "" }
	    /^\.Ss \[[a-z]+\]$/ { s = substr($2, 2, length($2) - 2) }
	    s != "" && /^\.It Cm [a-z_]+/ { print s "." $3 }' "$MAN5" | LC_ALL=C sort
}

# uncommented FILE: promrun.ini with every option set, paths moved into the
# test's directory.
uncommented() {
	sed -e 's/^#\([a-z_]* = \)/\1/' \
	    -e "s|= /var/lib/|= $BATS_TEST_TMPDIR/var/lib/|" \
	    -e "s|= /etc/promrun/|= $BATS_TEST_TMPDIR/etc/|" "$INI" >"$1"
}

@test "the parser's keys, promrun.ini's (once each) and promrun.ini(5)'s are the same; the man page renders cleanly" {
	run parser_keys
	assert_success
	local parser=$output
	# The table is what the parser goes by: a key in it is accepted, one
	# that is not is refused with the file and line.
	[ "$(wc -l <<<"$parser")" -ge 20 ]
	run ini_keys
	assert_equal "$output" "$parser"
	run uniq -d <<<"$output"
	assert_output ''
	printf '[render]\nmode = 0600\n' >"$CONF"
	promrun-record -j "$J" -w w -s ok
	printf '[render]\nmodes = 0600\n' >"$CONF"
	run -2 promrun-record -j "$J" -w w -s ok
	assert_output "promrun-record: $CONF:2: unknown key \"modes\" in [render]"
	# promrun.ini(5) documents the same keys, section by section, and
	# renders cleanly.
	run man_keys
	assert_equal "$output" "$parser"
	run --separate-stderr env MANWIDTH=100 man --warnings -l "$MAN5"
	assert_success
	assert_equal "$stderr" ''
	for section in journal render push; do
		assert_output --partial "[$section]"
	done
}

@test "as shipped, promrun.ini changes nothing: every program accepts it and renders as with no file" {
	promrun-record -c "$INI" -j "$J" -w build -s failure -d 3 -l repo=app --time 100
	cp "$J" "$BATS_TEST_TMPDIR/j2"
	run promrun-render -c "$INI" -j "$J" -o "$BATS_TEST_TMPDIR/shipped.prom" --now 200
	assert_success
	PROMRUN_CONFIG=/dev/null run promrun-render -j "$BATS_TEST_TMPDIR/j2" \
	    -o "$BATS_TEST_TMPDIR/none.prom" --now 200
	assert_success
	run diff "$BATS_TEST_TMPDIR/none.prom" "$BATS_TEST_TMPDIR/shipped.prom"
	assert_success
	printf 'groups:\n- name: g\n  rules:\n  - alert: Failing\n    expr: ci_workflow_up{repo="x"} == 0\n    for: 5m\n' \
	    >"$BATS_TEST_TMPDIR/rules.yml"
	run promrun-rules check -c "$INI" "$BATS_TEST_TMPDIR/rules.yml"
	assert_success
}

@test "with every option uncommented, the programs accept promrun.ini and follow it" {
	local full="$BATS_TEST_TMPDIR/full.ini"
	uncommented "$full"
	# Every option line became a setting, and there is nothing else.
	run grep -c '^[a-z_]* = ' "$full"
	assert_output "$(ini_keys | wc -l)"
	mkdir -p "$BATS_TEST_TMPDIR/var/lib/promrun/textfile"
	run promrun-record -c "$full" -w build -s success -d 2 -l repo=app -l runner=r1
	assert_success
	# [journal] labels is an allow-list now.
	run -2 promrun-record -c "$full" -w build -s success -l team=x
	# [journal] path and [render] output, checkpoint and mode are followed.
	run promrun-render -c "$full"
	assert_success
	local prom="$BATS_TEST_TMPDIR/var/lib/promrun/textfile/promrun.prom"
	run stat -c %a "$prom"
	assert_output "$(sed -n 's/^#mode = 0*//p' "$INI")"
	run sample_value "$prom" 'ci_workflow_runs_total{workflow="build",status="success",repo="app",runner="r1"}'
	assert_output 1
	[ -s "$BATS_TEST_TMPDIR/var/lib/promrun/journal.checkpoint" ]
	# promrun-rules takes its catalog from the same file: a label outside
	# the allow-list is reported.
	printf 'groups:\n- name: g\n  rules:\n  - alert: Failing\n    expr: ci_workflow_up{team="x"} == 0\n    for: 5m\n' \
	    >"$BATS_TEST_TMPDIR/rules.yml"
	run promrun-rules check --strict -c "$full" "$BATS_TEST_TMPDIR/rules.yml"
	assert_failure 1
	assert_output --partial '[label-unknown]'
}

# file_keys: the keys promrun.ini(5) documents as taking a file name
# (".It Cm key No = Ar file"), as "section.key" lines.
file_keys() {
	awk '/^\.S[hs] / { s = "" }
	    /^\.Ss \[[a-z]+\]$/ { s = substr($2, 2, length($2) - 2) }
	    s != "" && /^\.It Cm [a-z_]+ No = Ar file$/ { print s "." $3 }' "$MAN5"
}

@test "every key that takes a file name refuses an empty one, as the man page says; an empty output is standard output" {
	run file_keys
	assert_success
	# path, output, checkpoint and the five [push] files at least.
	[ "${#lines[@]}" -ge 8 ]
	local key n=0
	for key in "${lines[@]}"; do
		[ "$key" != render.output ] || continue
		printf '[%s]\n%s =\n' "${key%%.*}" "${key#*.}" >"$CONF"
		run --separate-stderr promrun-record -j "$J" -w w -s ok
		assert_failure 2
		assert_equal "$stderr" "promrun-record: $CONF:2: [${key%%.*}] ${key#*.} is empty${stderr#*"${key#*.} is empty"}"
		[[ $stderr == *" is empty: "* ]]
		n=$((n + 1))
	done
	[ "$n" -ge 7 ]
	[ ! -e "$J" ]
	printf '[render]\noutput =\n' >"$CONF"
	run --separate-stderr promrun-render -j "$J" --now 100
	assert_success
	assert_line --partial 'promrun_render_timestamp_seconds{preset="native"} 100'
	grep -q 'empty, or' "$MAN5"
}

@test "every section and key of the reference given twice is refused with the first line; the reference has no indented setting and no NUL" {
	local full="$BATS_TEST_TMPDIR/full.ini"
	uncommented "$full"
	# Every section and key of the reference, given twice, is refused with
	# the line of its first.
	cat "$full" "$full" >"$BATS_TEST_TMPDIR/twice.ini"
	first=$(grep -n '^\[journal\]$' "$full" | cut -d: -f1)
	again=$(($(wc -l <"$full") + first))
	run --separate-stderr promrun-record -c "$BATS_TEST_TMPDIR/twice.ini" -w w -s ok
	assert_failure 2
	assert_equal "$stderr" "promrun-record: $BATS_TEST_TMPDIR/twice.ini:$again: [journal] appears again (first on line $first): put each section's settings under one header"
	# Each key set twice, in place.
	while IFS=: read -r line text; do
		sed "${line}p" "$full" >"$BATS_TEST_TMPDIR/dup.ini"
		run --separate-stderr promrun-record -c "$BATS_TEST_TMPDIR/dup.ini" -w w -s ok
		assert_failure 2
		[[ $stderr == "promrun-record: $BATS_TEST_TMPDIR/dup.ini:$((line + 1)): ["*"] ${text%% *} is set again (first on line $line): set each key once" ]] ||
		    { echo "$text: $stderr"; return 1; }
	done < <(grep -n '^[a-z_]* = ' "$full")
	# The shipped file itself is none of that.
	run promrun-record -c "$INI" -j "$J" -w w -s ok
	assert_success
	! grep -q '^[[:space:]]\+[a-z_]* *=' "$INI"
	! grep -qP '\x00' "$INI"
}
