#!/usr/bin/env bats
# Crash at every syscall: promrun-record, promrun-render and compaction are
# killed with SIGKILL as they enter each openat, write, fsync, fdatasync,
# rename, ftruncate, unlink and flock they make (every occurrence), then run
# once more cleanly.  At every point: nothing acknowledged is lost, nothing
# is counted twice, the textfile always parses, no counter is below the
# previous textfile's, and no temporary file is left.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	load 'test_helper/reliability'
	many_runs
	S="$BATS_TEST_TMPDIR/state"
	T="$S/textfiles"
	J="$S/journal"
	OUT="$T/promrun.prom"
	NOW=100000
	printf '[render]\nlost_after = 1h\nkeep_history = 1h\noutput = %s\n' "$OUT" >"$CONF"
	POINTS_LOG="$BATS_TEST_TMPDIR/points"
}

# The journal every scenario starts from: old records compaction folds,
# recent ones it keeps, matched and open runs, two workflows, a step.
base_journal() {
	local i
	mkdir -p "$T"
	for i in $(seq 1 12); do
		promrun-record -j "$J" -w build -l repo=r -s "$([ $((i % 4)) = 0 ] && echo failure || echo success)" \
		    -d "$i" --time "$((1000 * i))"
	done
	promrun-record -j "$J" -w deploy --start --run-id a --time 20000
	promrun-record -j "$J" -w deploy --finish --run-id a -s success --time 20100
	promrun-record -j "$J" -w deploy --start --run-id b --time 30000
	promrun-record -j "$J" -w deploy --step push -s success -d 3 --time 40000
	for i in $(seq 1 6); do
		promrun-record -j "$J" -w build -l repo=r -s success -d 2 --time "$((97000 + i))"
	done
	promrun-record -j "$J" -w deploy --start --run-id c --time 98000
}

render_clean() {
	promrun-render -j "$J" --now "$NOW" "$@"
}

# Restore $S from the snapshot taken by snapshot_state.
snapshot_state() {
	rm -rf "$S.orig"
	cp -a "$S" "$S.orig"
}
restore_state() {
	rm -rf "$S"
	cp -a "$S.orig" "$S"
}

# crash_every_point SETUP CHECK CMD...: for each syscall and each of its
# occurrences in a clean run of CMD after SETUP: SETUP, kill CMD there, CHECK.
crash_every_point() {
	local setup=$1 check=$2 sc n count points=0
	shift 2
	for sc in $CRASH_SYSCALLS; do
		$setup
		count=$(syscall_count "$sc" "$@")
		for n in $(seq 1 "$count"); do
			$setup
			crash_at "$sc" "$n" "$@" || true
			$check || { echo "failed after a crash at $sc #$n of $count"; return 1; }
			points=$((points + 1))
		done
	done
	echo "$points" >>"$POINTS_LOG"
	[ "$points" -gt 0 ]
}

# --- promrun-record ---

record_setup() {
	restore_state
	cp "$OUT" "$BATS_TEST_TMPDIR/previous.prom"
}

record_check() {
	local marker
	# The clean run after the crash: acknowledged, so it must be counted.
	promrun-record -j "$J" -w after -s success --time 99990 || return 1
	render_clean || return 1
	no_counter_decrease "$BATS_TEST_TMPDIR/previous.prom" "$OUT" || return 1
	marker=$(journal_payloads "$J" | grep -c 'workflow=crashy ' || true)
	# The killed record was never acknowledged: it is there whole, or not at all.
	[ "$marker" -le 1 ] || return 1
	cmp "$OUT" "$BATS_TEST_TMPDIR/ref-$marker.prom" || return 1
	journal_summary "$J" | grep -q ' damaged=0 .* tail=0 ' || return 1
	no_temp_files "$S"
}

@test "crash promrun-record at every syscall: the record is whole or absent, nothing else changes" {
	base_journal
	render_clean
	snapshot_state
	# The two possible outcomes, computed on clean copies.
	for marker in 0 1; do
		restore_state
		[ "$marker" = 1 ] && promrun-record -j "$J" -w crashy -s success --time 99980
		promrun-record -j "$J" -w after -s success --time 99990
		render_clean -o "$BATS_TEST_TMPDIR/ref-$marker.prom"
	done
	crash_every_point record_setup record_check \
	    promrun-record -j "$J" -w crashy -s success --time 99980
	echo "# $(cat "$POINTS_LOG") crash points" >&3
}

@test "crash promrun-record on a journal that does not exist yet" {
	mkdir -p "$T"
	render_clean
	snapshot_state
	for marker in 0 1; do
		restore_state
		[ "$marker" = 1 ] && promrun-record -j "$J" -w crashy -s success --time 99980
		promrun-record -j "$J" -w after -s success --time 99990
		render_clean -o "$BATS_TEST_TMPDIR/ref-$marker.prom"
	done
	crash_every_point record_setup record_check \
	    promrun-record -j "$J" -w crashy -s success --time 99980
	echo "# $(cat "$POINTS_LOG") crash points" >&3
}

# --- promrun-render ---

render_check() {
	# What a scraper would read right after the crash.
	no_counter_decrease "$BATS_TEST_TMPDIR/previous.prom" "$OUT" || return 1
	render_clean || return 1
	cmp "$OUT" "$BATS_TEST_TMPDIR/ref.prom" || return 1
	no_counter_decrease "$BATS_TEST_TMPDIR/previous.prom" "$OUT" || return 1
	no_temp_files "$S"
}

scratch_setup() {
	restore_state
	cp "$OUT" "$BATS_TEST_TMPDIR/previous.prom"
}

@test "crash promrun-render at every syscall, reading the journal from scratch" {
	base_journal
	# The previous textfile saw fewer records than the journal now has.
	head -n 10 "$J" >"$S/short"
	promrun-render -j "$S/short" --now "$NOW" -o "$OUT"
	rm -f "$S/short" "$S/short.checkpoint" "$S/short.checkpoint.lock"
	snapshot_state
	render_clean -o "$BATS_TEST_TMPDIR/ref.prom"
	crash_every_point scratch_setup render_check promrun-render -j "$J" --now "$NOW"
	echo "# $(cat "$POINTS_LOG") crash points" >&3
}

incremental_setup() {
	restore_state
	# A checkpoint that fits the restored journal, then records after it,
	# enough for the checkpoint to be rewritten.
	render_clean
	cp "$OUT" "$BATS_TEST_TMPDIR/previous.prom"
	cat "$S.more" >>"$J"
}

@test "crash promrun-render at every syscall, from the checkpoint with 1,200 new records" {
	base_journal
	render_clean
	snapshot_state
	journal-gen -n 1200 -w 3 -b 2 -t 98500 >"$S.more"
	restore_state
	cat "$S.more" >>"$J"
	render_clean --rebuild -o "$BATS_TEST_TMPDIR/ref.prom"
	crash_every_point incremental_setup render_check promrun-render -j "$J" --now "$NOW"
	echo "# $(cat "$POINTS_LOG") crash points" >&3
}

# --- compaction ---

compact_check() {
	# The journal is the old one or the compacted one, whole either way.
	journal_summary "$J" | grep -q ' damaged=0 .* tail=0 .*undecodable=0$' || return 1
	no_counter_decrease "$BATS_TEST_TMPDIR/previous.prom" "$OUT" || return 1
	render_clean || return 1
	cmp "$OUT" "$BATS_TEST_TMPDIR/ref.prom" || return 1
	# From scratch too: the journal alone gives the same numbers.
	render_clean --rebuild -o "$BATS_TEST_TMPDIR/rebuilt.prom" || return 1
	cmp "$BATS_TEST_TMPDIR/rebuilt.prom" "$BATS_TEST_TMPDIR/ref.prom" || return 1
	no_temp_files "$S"
}

compact_setup() {
	restore_state
	render_clean
	cp "$OUT" "$BATS_TEST_TMPDIR/previous.prom"
}

@test "crash a compaction at every syscall: the journal is old or new, never lost" {
	base_journal
	snapshot_state
	render_clean -o "$BATS_TEST_TMPDIR/ref.prom"
	# The compaction does fold records: the journal shrinks.
	compact_setup
	before=$(wc -c <"$J")
	render_clean --compact
	[ "$(wc -c <"$J")" -lt "$before" ]
	cmp "$OUT" "$BATS_TEST_TMPDIR/ref.prom"
	crash_every_point compact_setup compact_check promrun-render -j "$J" --now "$NOW" --compact
	echo "# $(cat "$POINTS_LOG") crash points" >&3
}
