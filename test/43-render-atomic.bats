#!/usr/bin/env bats
# A scraper never sees a half-written textfile, and counters never go down,
# while renders replace the file over and over and recorders keep appending.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	OUT="$BATS_TEST_TMPDIR/textfiles/promrun.prom"
	mkdir -p "${OUT%/*}"
}

teardown() {
	stop_background
}

@test "a reader parsing the file in a loop during 1,000 renders never sees a partial or unparsable file" {
	many_runs
	for i in $(seq 1 50); do
		promrun-record -j "$J" -w "w$((i % 5))" -s success -d "$i" -l "k=$((i % 7))" --time "$i"
	done
	promrun-render -j "$J" -o "$OUT"
	"$BATS_TEST_DIRNAME/tools/prom-reader.py" "$OUT" "$BATS_TEST_TMPDIR/stop" \
	    >"$BATS_TEST_TMPDIR/reader.out" 2>&1 3>&- &
	reader=$!
	(
		for i in $(seq 1 200); do
			promrun-record -j "$J" -w "w$((i % 5))" -s failure -d 1 -l "k=$((i % 7))" --time "$((1000 + i))"
			sleep 0.01
		done
	) 3>&- &
	recorder=$!
	for i in $(seq 1 "$(volume 1000)"); do
		promrun-render -j "$J" -o "$OUT" || { echo "render $i failed"; touch "$BATS_TEST_TMPDIR/stop"; return 1; }
	done
	wait "$recorder"
	# the renders may all have finished before the last record landed
	promrun-render -j "$J" -o "$OUT"
	touch "$BATS_TEST_TMPDIR/stop"
	rc=0
	wait "$reader" || rc=$?
	cat "$BATS_TEST_TMPDIR/reader.out"
	[ "$rc" -eq 0 ]
	grep -qE '^reads=[0-9]+ partial=0 unparsable=0 decreases=0$' "$BATS_TEST_TMPDIR/reader.out"
	# no temporary files are left behind
	[ -z "$(find "${OUT%/*}" -name '*.tmp')" ]
	# and the final file counts every run
	total=$(grep '^ci_workflow_runs_total' "$OUT" | awk '{ s += $2 } END { print s }')
	[ "$total" -eq 250 ]
}
