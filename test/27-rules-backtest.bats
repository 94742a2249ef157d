#!/usr/bin/env bats
# promrun-rules backtest and eval keep cursors, label sets and matches from
# one evaluation to the next (DESIGN.md, "The evaluator"): their outputs
# must stay byte for byte those of the evaluator that kept nothing, which
# made the golden files (test/rules/backtest/outputs.sh says how).

setup() {
	load 'test_helper/common-setup'
	_common_setup
	TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	cd "$BATS_TEST_TMPDIR" || return 1
}

@test "backtest and eval range outputs are byte-identical to the golden files" {
	run -0 "$TOP/test/rules/backtest/outputs.sh" "$PROMRUN_BUILD" out
	run -0 diff -r "$TOP/test/rules/backtest/golden" out
}
