#!/usr/bin/env bats
# The journal: concurrent appends never tear or interleave; damage is
# skipped and counted, never invented; a full disk loses nothing written.

setup() {
	load 'test_helper/common-setup'
	_common_setup
}

teardown() {
	stop_background
}

# record_bytes: a record with a fixed time whose line is exactly $1 bytes.
# Prints the padding value to pass as -l pad=VALUE for workflow $2.
pad_for() {
	local size=$1 wf=$2 probe="$BATS_TEST_TMPDIR/probe.$RANDOM"
	promrun-record -j "$probe" -w "$wf" -s ok --time 1 -l seq=000 -l pad=
	local base
	base=$(wc -c <"$probe")
	rm -f "$probe" "$probe.lock"
	head -c $((size - base)) /dev/zero | tr '\0' x
}

@test "16 recorders x 500 records, sizes up to the bound: 8000 intact, in order" {
	many_runs
	per=$(volume 500)
	printf '[journal]\nfsync = never\n' >"$CONF"
	# Each recorder is an xargs running promrun-record $per times in a row
	# (cheaper than a shell loop); sizes cycle through small, 9000 bytes
	# and exactly the 64 KiB bound.
	for w in $(seq -w 0 15); do
		big=$(pad_for 65536 "w$w")
		mid=$(pad_for 9000 "w$w")
		for n in $(seq -f %03g 0 $((per - 1))); do
			case $((10#$n % 10)) in
			0) pad=$big ;;
			1 | 2 | 3) pad=$mid ;;
			*) pad=$n ;;
			esac
			printf -- '-l\nseq=%s\n-l\npad=%s\n' "$n" "$pad"
		done >"$BATS_TEST_TMPDIR/args.$w"
	done
	for w in $(seq -w 0 15); do
		xargs -d '\n' -n 4 -s 200000 promrun-record -j "$J" -w "w$w" -s ok \
		    --time 1 <"$BATS_TEST_TMPDIR/args.$w" 3>&- &
	done
	rc=0
	wait_jobs || rc=1
	[ "$rc" -eq 0 ]
	run journal_summary "$J"
	assert_output "# records=$((16 * per)) damaged=0 damaged_bytes=0 tail=0 end=$(wc -c <"$J") undecodable=0"
	# The largest records are exactly the bound.
	[ "$(awk 'length($0) + 1 == 65536' "$J" | wc -l)" -eq $((16 * per / 10)) ]
	# Each writer's records appear once each, in the order it wrote them.
	journal_payloads "$J" | awk -v per="$per" '
	    { w = $3; sub(/workflow=/, "", w); s = $5; sub(/label.seq=/, "", s)
	      if (s + 0 != next_seq[w] + 0) { print "writer " w " gave " s " after " next_seq[w] - 1; bad = 1 }
	      next_seq[w] = s + 1 }
	    END { n = 0; for (w in next_seq) { n++; if (next_seq[w] != per) bad = 1 }
	          if (n != 16) bad = 1; exit bad }'
}

@test "concurrent recorders with fsync=always lose nothing either" {
	for w in 1 2 3 4; do
		(
			for n in $(seq 1 50); do
				promrun-record -j "$J" -w "w$w" -s ok -l "seq=$n" || exit 1
			done
		) 3>&- &
	done
	rc=0
	wait_jobs || rc=1
	[ "$rc" -eq 0 ]
	run journal_summary "$J"
	assert_output --partial '# records=200 damaged=0 damaged_bytes=0 tail=0'
}

# A journal of three records and a longer fourth one, as separate files.
make_journal() {
	promrun-record -j "$J" -w first -s success --time 1 -d 1
	promrun-record -j "$J" -w second -s failure --time 2 -e 3
	promrun-record -j "$J" -w third -s ok --time 3 -l "note=José 🚀"
	head_size=$(wc -c <"$J")
	promrun-record -j "$J" -w fourth --start --run-id abc --time 4 -l repo=promrun -l branch=main
	full_size=$(wc -c <"$J")
	journal_payloads "$J" >"$BATS_TEST_TMPDIR/all"
	head -n 3 "$BATS_TEST_TMPDIR/all" >"$BATS_TEST_TMPDIR/first3"
}

@test "the last record cut at every byte offset: the rest is read, the torn piece is a tail" {
	many_runs
	make_journal
	last=$((full_size - head_size))
	for k in $(seq 0 "$last"); do
		head -c $((head_size + k)) "$J" >"$BATS_TEST_TMPDIR/cut"
		summary=$(journal_summary "$BATS_TEST_TMPDIR/cut")
		if [ "$k" -eq "$last" ]; then
			want="# records=4 damaged=0 damaged_bytes=0 tail=0 end=$full_size undecodable=0"
		else
			want="# records=3 damaged=0 damaged_bytes=0 tail=$k end=$head_size undecodable=0"
		fi
		[ "$summary" = "$want" ] || { echo "cut at $k: $summary"; return 1; }
		journal_payloads "$BATS_TEST_TMPDIR/cut" | head -n 3 | cmp - "$BATS_TEST_TMPDIR/first3"
	done
}

@test "a record appended after a torn one is read; the torn piece is counted once" {
	many_runs
	make_journal
	last=$((full_size - head_size))
	for k in $(seq 0 "$last"); do
		head -c $((head_size + k)) "$J" >"$BATS_TEST_TMPDIR/cut"
		promrun-record -j "$BATS_TEST_TMPDIR/cut" -w after -s ok --time 9
		summary=$(journal_summary "$BATS_TEST_TMPDIR/cut")
		if [ "$k" -eq "$last" ]; then
			want="# records=5 damaged=0 damaged_bytes=0"
		elif [ "$k" -eq 0 ]; then
			want="# records=4 damaged=0 damaged_bytes=0"
		else
			want="# records=4 damaged=1 damaged_bytes=$k"
		fi
		[[ $summary == "$want "* ]] || { echo "cut at $k: $summary"; return 1; }
		[ "$(journal_payloads "$BATS_TEST_TMPDIR/cut" | tail -n 1)" = 'run time=9 workflow=after status=success' ]
	done
}

@test "a 64 KiB record cut at sampled offsets" {
	pad=$(pad_for 65536 big)
	promrun-record -j "$J" -w small -s ok --time 1
	head_size=$(wc -c <"$J")
	promrun-record -j "$J" -w big -s ok --time 1 -l seq=000 -l "pad=$pad"
	for k in 1 2 3 4 12 13 14 997 4096 32768 65534 65535; do
		head -c $((head_size + k)) "$J" >"$BATS_TEST_TMPDIR/cut"
		run journal_summary "$BATS_TEST_TMPDIR/cut"
		assert_output "# records=1 damaged=0 damaged_bytes=0 tail=$k end=$head_size undecodable=0"
	done
	run journal_summary "$J"
	assert_output --partial '# records=2 damaged=0'
}

@test "garbage, zero bytes and bad checksums between records: every intact record read, nothing invented" {
	make_journal
	j2="$BATS_TEST_TMPDIR/damaged"
	sed -n 1p "$J" >"$j2"
	printf 'hello world\nsecond garbage line\n' >>"$j2"	# region 1
	sed -n 2p "$J" >>"$j2"
	head -c 4096 /dev/zero >>"$j2"				# region 2: zeros glued to the next record
	sed -n 3p "$J" >>"$j2"
	head -c 3000 /dev/urandom >>"$j2"			# region 3: random bytes, maybe newlines
	printf '\n' >>"$j2"
	printf 'pr1 00000000 run time=1 workflow=forged status=success\n' >>"$j2"	# still region 3
	sed -n 4p "$J" >>"$j2"
	sed -n 1p "$J" | sed 's/workflow=first/workflow=fir5t/' >>"$j2"	# region 4: bit flip
	head -c 100000 /dev/zero | tr '\0' 'z' >>"$j2"		# still region 4: overlong, no newline
	sed -n 2p "$J" >>"$j2"
	run journal-dump -d "$j2"
	assert_line --index 0 "$(sed -n 1p "$BATS_TEST_TMPDIR/all")"
	assert_line --index 1 '# damage offset='"$(sed -n 1p "$J" | wc -c)"' length=32'
	assert_line --index 2 "$(sed -n 2p "$BATS_TEST_TMPDIR/all")"
	assert_line --index 3 --regexp '^# damage offset=[0-9]+ length=4096$'
	assert_line --index 4 "$(sed -n 3p "$BATS_TEST_TMPDIR/all")"
	assert_line --index 5 --regexp '^# damage offset=[0-9]+ length=[0-9]+$'
	assert_line --index 6 "$(sed -n 4p "$BATS_TEST_TMPDIR/all")"
	assert_line --index 7 --regexp '^# damage offset=[0-9]+ length=100[0-9]{3}$'
	assert_line --index 8 "$(sed -n 2p "$BATS_TEST_TMPDIR/all")"
	assert_line --index 9 --regexp '^# records=5 damaged=4 damaged_bytes=[0-9]+ tail=0 end=[0-9]+ undecodable=0$'
	refute_output --partial forged
	refute_output --partial fir5t
}

@test "a damaged journal still takes new records" {
	make_journal
	printf 'garbage' >>"$J"
	promrun-record -j "$J" -w new -s ok --time 5
	run journal_summary "$J"
	assert_output --partial '# records=5 damaged=1 damaged_bytes=7 tail=0'
}

@test "ENOSPC injected on write: exit 1 naming the path and reason, journal unchanged" {
	command -v strace >/dev/null || skip "strace not installed"
	make_journal
	cp "$J" "$BATS_TEST_TMPDIR/before"
	run --separate-stderr strace_env strace -f -qq -o /dev/null \
	    -e inject=write:error=ENOSPC -P "$J" \
	    promrun-record -j "$J" -w w -s ok
	assert_failure 1
	[ "$stderr" = "promrun-record: cannot append to journal $J: No space left on device" ]
	cmp "$J" "$BATS_TEST_TMPDIR/before"
}

@test "EIO injected on fdatasync is an error, never success" {
	command -v strace >/dev/null || skip "strace not installed"
	make_journal
	run --separate-stderr strace_env strace -f -qq -o /dev/null \
	    -e inject=fdatasync:error=EIO -P "$J" \
	    promrun-record -j "$J" -w w -s ok
	assert_failure 1
	[ "$stderr" = "promrun-record: cannot sync journal $J: Input/output error" ]
}

@test "a real full file system (tiny tmpfs): exit 1, earlier records intact, recovery after" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a tmpfs"
	mnt="$BATS_TEST_TMPDIR/mnt"
	mkdir -p "$mnt"
	mount -t tmpfs -o size=64k tmpfs "$mnt" || skip "cannot mount tmpfs here"
	j="$mnt/journal"
	for n in 1 2 3; do promrun-record -j "$j" -w w -s ok --time "$n"; done
	dd if=/dev/zero of="$mnt/fill" bs=4k 2>/dev/null || true
	big=$(head -c 12000 /dev/zero | tr '\0' x)
	run --separate-stderr promrun-record -j "$j" -w w -s ok --time 4 -l "big=$big"
	status_full=$status
	stderr_full=$stderr
	summary_full=$(journal_summary "$j")
	rm -f "$mnt/fill"
	promrun-record -j "$j" -w w -s ok --time 5
	summary_after=$(journal_summary "$j")
	payloads=$(journal_payloads "$j" | sed 's/.*time=\([0-9]*\).*/\1/' | tr '\n' ' ')
	umount "$mnt"
	[ "$status_full" -eq 1 ]
	[[ $stderr_full == "promrun-record: cannot append to journal $j: "*"No space left on device" ]]
	[[ $summary_full == "# records=3 "* ]]
	[[ $summary_after == "# records=4 "* ]]
	[ "$payloads" = "1 2 3 5 " ]
}
