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

@test "backtest: the same report with the replay beside the rules as before them" {
	"$PROMRUN_BUILD/test/journal-gen" -n 2000 -w 3 -b 2 -s 1 -i 15 >j1
	"$PROMRUN_BUILD/test/journal-gen" -n 1500 -w 2 -b 2 -s 9 -i 30 >j2
	for j in j1 j2; do
		for rules in "$TOP/examples/alerts.yml" \
		    "$TOP/test/rules/backtest/values.yml"; do
			"$PROMRUN_BUILD/promrun-rules" backtest -c /dev/null \
			    -j "$j" --from 1700000000 --to 1700040000 "$rules" \
			    >beside.txt
			# ahead.yml reads after its evaluation time: the
			# replay runs first.
			"$PROMRUN_BUILD/promrun-rules" backtest -c /dev/null \
			    -j "$j" --from 1700000000 --to 1700040000 "$rules" \
			    "$TOP/test/rules/backtest/ahead.yml" >before.txt
			run -0 diff beside.txt before.txt
			run -0 grep -c '^alert ' beside.txt
			(( output > 0 ))
		done
	done
}
