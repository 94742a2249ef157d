#!/usr/bin/env bats
# Kill -9 soak: renders and compactions killed at random moments while two
# recorders append and a reader parses the textfile in a loop.  No partial
# read, no counter decrease, exact totals at the end.  The seed is printed
# so a failure can be replayed (PROMRUN_SOAK_SEED=N).  make check kills 200
# times, make check-long 10,000.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	load 'test_helper/reliability'
	many_runs
	T="$BATS_TEST_TMPDIR/textfiles"
	OUT="$T/promrun.prom"
	mkdir -p "$T"
	printf '[journal]\nfsync = never\n[render]\nkeep_history = 1h\noutput = %s\n' "$OUT" >"$CONF"
}

teardown() {
	stop_background
}

@test "SIGKILL at random moments in render and compaction: nothing partial, nothing lost, nothing counted twice" {
	kills=200
	long_run && kills=10000
	seed=${PROMRUN_SOAK_SEED:-$(( $(date +%s) % 32768 ))}
	echo "# seed $seed, $kills kills" >&3
	RANDOM=$seed
	promrun-record -j "$J" -w seed -s success --time 1
	promrun-render -j "$J" --now 1000000000
	"$BATS_TEST_DIRNAME/tools/prom-reader.py" "$OUT" "$BATS_TEST_TMPDIR/stop" \
	    >"$BATS_TEST_TMPDIR/reader.out" 2>&1 3>&- &
	reader=$!
	for r in 1 2; do
		(
			n=0
			while [ ! -e "$BATS_TEST_TMPDIR/stop" ]; do
				n=$((n + 1))
				promrun-record -j "$J" -w "rec$r" -s "$([ $((n % 5)) = 0 ] && echo failure || echo success)" \
				    -d 1 --time "$((100 + n))" && echo "$n" >"$BATS_TEST_TMPDIR/acked.$r"
			done
		) 3>&- &
	done
	killed=0
	for i in $(seq 1 "$kills"); do
		compact=
		[ $((RANDOM % 3)) -eq 0 ] && compact=--compact
		# timeout(1) sends SIGKILL after a random 0 to 12 ms: renders
		# here take a few ms, so most die somewhere inside.
		st=0
		timeout -s KILL "$(printf '0.%04d' $((RANDOM % 120)))" \
		    promrun-render -j "$J" --now 1000000000 $compact 3>&- || st=$?
		case $st in
		0) ;;
		124 | 137) killed=$((killed + 1)) ;;
		*) echo "render exited $st"; touch "$BATS_TEST_TMPDIR/stop"; return 1 ;;
		esac
	done
	touch "$BATS_TEST_TMPDIR/stop"
	rc=0
	wait "$reader" || rc=$?
	# The loops end on the stop flag; their status does not matter.
	wait_jobs || true
	cat "$BATS_TEST_TMPDIR/reader.out"
	[ "$rc" -eq 0 ]
	grep -qE '^reads=[0-9]+ partial=0 unparsable=0 decreases=0$' "$BATS_TEST_TMPDIR/reader.out"
	acked=$(( $(cat "$BATS_TEST_TMPDIR/acked.1") + $(cat "$BATS_TEST_TMPDIR/acked.2") + 1 ))
	cp "$OUT" "$BATS_TEST_TMPDIR/last.prom"
	promrun-render -j "$J" --now 1000000000
	no_counter_decrease "$BATS_TEST_TMPDIR/last.prom" "$OUT"
	total=$(total_runs "$OUT")
	promrun-render -j "$J" --now 1000000000 --rebuild -o "$BATS_TEST_TMPDIR/rebuilt.prom"
	echo "# $killed renders killed mid-run; $acked records acknowledged; $total counted" >&3
	[ "$total" -eq "$acked" ]
	[ "$(total_runs "$BATS_TEST_TMPDIR/rebuilt.prom")" -eq "$acked" ]
	run journal_summary "$J"
	assert_output --partial 'damaged=0'
	assert_output --partial 'undecodable=0'
	no_temp_files "$T" "$BATS_TEST_TMPDIR"
}
