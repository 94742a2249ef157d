#!/usr/bin/env bats
# The evaluator against Debian's promtool 2.42: random unit-test files
# (test/tools/promql-difftest.py: series in the expanding notation, every
# function, operator, modifier and aggregation), run by both; every
# expression must give the same verdict and the same values (relative
# tolerance 1e-9), every alert check the same alerts.  A fixed set of seeds
# here; run the tool with more seeds for a larger run (PERFORMANCE.md and
# DESIGN.md give the figures of the last one).

setup() {
	load 'test_helper/common-setup'
	_common_setup
	TOOL="$BATS_TEST_DIRNAME/tools/promql-difftest.py"
}

@test "9,000 random expressions and 900 alert checks agree with promtool" {
	run -0 "$PYTHON3" "$TOOL" -r "$PROMRUN_BUILD/promrun-rules" -s 1 -n 30 \
	    -g 10 -e 30 -d "$BATS_TEST_TMPDIR"
	assert_output --regexp '^difftest: 9000 expressions and [0-9]+ alert checks, 0 disagree, '
	# The checks must have run: alert checks and errors among them.
	[[ $output =~ and\ ([0-9]+)\ alert\ checks.*\ ([0-9]+)\ both\ errors ]]
	(( BASH_REMATCH[1] >= 600 && BASH_REMATCH[2] >= 50 ))
}

@test "the comparison can fail: a wrong evaluator disagrees" {
	# A stand-in for promrun-rules that answers every test with nothing.
	printf '#!/bin/sh\nexit 0\n' >"$BATS_TEST_TMPDIR/silent"
	chmod +x "$BATS_TEST_TMPDIR/silent"
	run -1 "$PYTHON3" "$TOOL" -r "$BATS_TEST_TMPDIR/silent" -s 1 -g 2 -e 10 \
	    -q -d "$BATS_TEST_TMPDIR"
	assert_output --regexp '^difftest: 20 expressions and [0-9]+ alert checks, [1-9][0-9]* disagree'
}
