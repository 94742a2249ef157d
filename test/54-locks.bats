#!/usr/bin/env bats
# Locks: a holder killed with SIGKILL never blocks the next process, and
# compactions swapping the journal while recorders append lose nothing.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	load 'test_helper/reliability'
	printf '[journal]\nfsync = never\n[render]\nkeep_history = 1h\n' >"$CONF"
	promrun-record -j "$J" -w w -s success --time 1
}

teardown() {
	stop_background
}

ms_now() {
	date +%s%3N
}

# When the waiter's blocking flock(2) returned: its longest flock call in
# strace's log, start time plus duration.
flock_returned_at() {
	awk '/ flock\(/ && !/unfinished/ {
	        d = $NF; gsub(/[<>]/, "", d)
	        if (d + 0 >= best) { best = d + 0; end = $2 + d } }
	     END { if (best > 0) printf "%.6f\n", end }' "$1"
}

@test "a process waiting on a lock whose holder is killed gets it within 100 ms" {
	for lock in "$J.lock" "$J.checkpoint.lock"; do
		# flock -o: the lock belongs to flock alone, not to sleep.
		# The sleeper writes its pid: killing flock leaves it orphaned.
		flock -o -x "$lock" sh -c 'echo $$ >"$0"; exec sleep 600' \
		    "$BATS_TEST_TMPDIR/sleeper.pid" 3>&- &
		holder=$!
		for i in $(seq 100); do
			flock -n -x "$lock" true 2>/dev/null || break
			sleep 0.01
		done
		trace="$BATS_TEST_TMPDIR/flock.trace"
		if [ "$lock" = "$J.lock" ]; then
			strace_env strace -f -qq -ttt -T -e trace=flock -o "$trace" \
			    promrun-record -j "$J" -w w -s success --time 2 3>&- &
		else
			strace_env strace -f -qq -ttt -T -e trace=flock -o "$trace" \
			    promrun-render -j "$J" -o "$BATS_TEST_TMPDIR/out.prom" 3>&- &
		fi
		waiter=$!
		sleep 0.3
		kill -0 "$waiter"	# still waiting for the lock
		killed_at=$(date +%s.%N)
		kill -9 "$holder"
		wait "$waiter"
		got=$(flock_returned_at "$trace")
		[ -n "$got" ]
		latency=$(awk -v a="$killed_at" -v b="$got" 'BEGIN { printf "%d", (b - a) * 1000 }')
		echo "# ${lock##*/}: acquired $latency ms after the holder was killed" >&3
		[ "$latency" -le 100 ]
		kill "$(cat "$BATS_TEST_TMPDIR/sleeper.pid")" || true
	done
	run journal_summary "$J"
	assert_output --partial 'records=2 damaged=0'
}

@test "after a killed holder the next recorder and render do not wait at all" {
	flock -o -x "$J.lock" sh -c 'echo $$ >"$0"; exec sleep 600' \
	    "$BATS_TEST_TMPDIR/sleeper.pid" 3>&- &
	holder=$!
	sleep 0.2
	kill -9 "$holder"
	wait "$holder" || true
	t0=$(ms_now)
	promrun-record -j "$J" -w w -s success --time 3
	promrun-render -j "$J" -o "$BATS_TEST_TMPDIR/out.prom"
	t1=$(ms_now)
	echo "# record and render took $((t1 - t0)) ms" >&3
	[ $((t1 - t0)) -le 1000 ]
	kill "$(cat "$BATS_TEST_TMPDIR/sleeper.pid")" || true
}

@test "compactions while two recorders append lose nothing" {
	many_runs
	compactions=50
	long_run && compactions=1000
	for r in 1 2; do
		(
			n=0
			while [ ! -e "$BATS_TEST_TMPDIR/stop" ]; do
				n=$((n + 1))
				promrun-record -j "$J" -w "rec$r" -s success --time "$((100 + n))" &&
				    echo "$n" >"$BATS_TEST_TMPDIR/acked.$r"
			done
		) 3>&- &
	done
	for i in $(seq 1 "$compactions"); do
		promrun-render -j "$J" --now 1000000000 --compact -o "$BATS_TEST_TMPDIR/out.prom"
	done
	touch "$BATS_TEST_TMPDIR/stop"
	# The loops end on the stop flag; their status does not matter.
	wait_jobs || true
	acked=$(( $(cat "$BATS_TEST_TMPDIR/acked.1") + $(cat "$BATS_TEST_TMPDIR/acked.2") + 1 ))
	promrun-render -j "$J" --now 1000000000 -o "$BATS_TEST_TMPDIR/final.prom" --rebuild
	total=$(total_runs "$BATS_TEST_TMPDIR/final.prom")
	echo "# $compactions compactions, $acked records acknowledged, $total counted" >&3
	[ "$total" -eq "$acked" ]
	run journal_summary "$J"
	assert_output --partial 'damaged=0'
	assert_output --partial 'undecodable=0'
	# the compactions did fold: far fewer records than runs remain
	[ "$(wc -l <"$J")" -lt "$acked" ]
}
