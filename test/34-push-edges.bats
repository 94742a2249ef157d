#!/usr/bin/env bats
# promrun-push validates numbers, timestamps and blanks exactly as the
# Pushgateway's parser (Prometheus's text parser) reads them: a table of
# edge cases (test/tools/expfmt-edges.py) goes through promrun-push's
# validator (test/tools/expfmt-verdict) and is PUT to a real
# prometheus-pushgateway, row by row, and both must give the same verdict;
# the timestamp rows are also set beside promtool check metrics.

load 'test_helper/pushgateway'

setup_file() {
	gateway_start "$BATS_FILE_TMPDIR/gw"
}

setup() {
	push_test_setup edges
}

@test "promrun-push and the Pushgateway give the same verdict on every row of the edge-case table" {
	run "$PYTHON3" "$BATS_TEST_DIRNAME/tools/expfmt-edges.py" \
	    --verdict "$PROMRUN_BUILD/test/expfmt-verdict" --gateway "$GW_URL" \
	    --promtool ts
	assert_success
	# Hundreds of rows, all compared; the summary names the count twice.
	[[ ${lines[0]} =~ ^"expfmt-edges: "([0-9]+)" rows; promrun-push and the Pushgateway agree on "([0-9]+)" of "([0-9]+)"; "([0-9]+)" strict rows" ]]
	[ "${BASH_REMATCH[1]}" -ge 900 ]
	[ "${BASH_REMATCH[2]}" -eq "${BASH_REMATCH[3]}" ]
	[ $((BASH_REMATCH[3] + BASH_REMATCH[4])) -eq "${BASH_REMATCH[1]}" ]
	[[ ${lines[1]} =~ "promtool check metrics agree on "([0-9]+)" of "([0-9]+)" rows" ]]
	[ "${BASH_REMATCH[1]}" -eq "${BASH_REMATCH[2]}" ]
	[ "${BASH_REMATCH[2]}" -ge 40 ]
}

@test "the table can fail: a validator that accepts everything disagrees with the gateway" {
	# A stand-in that accepts every row, in expfmt-verdict's format.
	cat >accept-all <<-'SH'
	#!/bin/sh
	"$PROMRUN_BUILD/test/expfmt-verdict" | sed 's/^[0-9]* [0-9]* .*/0 0 -/'
	SH
	chmod +x accept-all
	run "$PYTHON3" "$BATS_TEST_DIRNAME/tools/expfmt-edges.py" \
	    --verdict "$PWD/accept-all" --gateway "$GW_URL"
	assert_failure 1
	assert_line --partial "DISAGREE value    'x 1e400\\n'"
	assert_line --partial "DISAGREE value    'x +NaN\\n'"
	assert_line --partial "DISAGREE blank    'x 1 \\n'"
}
