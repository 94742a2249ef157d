#!/bin/sh
# outputs.sh BUILD DIR - write into DIR what the golden files of
# test/27-rules-backtest.bats hold: promrun-rules backtest of the shipped
# alerts and of values.yml, and eval range queries (exprs), over journals
# that test/tools/journal-gen makes from fixed seeds (one with lost and
# late runs, lost.conf).  The golden files were made by the evaluator
# before it kept anything from one evaluation to the next:
#   test/rules/backtest/outputs.sh build/default test/rules/backtest/golden
set -eu
B=$1
OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../../.." && pwd)
mkdir -p "$OUT"
"$B/test/journal-gen" -n 2000 -w 3 -b 2 -s 1 -i 15 >"$OUT/j1.journal"
"$B/test/journal-gen" -n 1500 -w 2 -b 2 -s 9 -i 30 >"$OUT/j2.journal"
for j in j1 j2; do
	conf=/dev/null
	[ "$j" = j2 ] && conf=$HERE/lost.conf
	for rules in "$TOP/examples/alerts.yml" "$HERE/values.yml"; do
		name=$j-$(basename "$rules" .yml)
		"$B/promrun-rules" backtest -c "$conf" -j "$OUT/$j.journal" \
		    --from 1700000000 --to 1700040000 "$rules" >"$OUT/$name.txt"
	done
done
"$B/promrun-rules" backtest -c "$HERE/lost.conf" -j "$OUT/j2.journal" -f json \
    --from 1700003000 --to 1700018000 --interval 3m "$HERE/values.yml" \
    >"$OUT/j2-values-3m.json"
grep -v '^#' "$HERE/exprs" | while read -r step expr; do
	echo "$step $expr"
	"$B/promrun-rules" eval -c "$HERE/lost.conf" -j "$OUT/j2.journal" \
	    --start 1700000000 --end 1700040000 --step "$step" "$expr"
done >"$OUT/j2-eval.txt"
rm -f "$OUT/j1.journal" "$OUT/j2.journal"
