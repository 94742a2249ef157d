#!/usr/bin/env bats
# I/O errors: ENOSPC, EIO, EDQUOT and EINTR on the writes, syncs and renames
# of recording and rendering.  A failure is one line naming the path and
# the system's reason, exit 1; acknowledged records stay intact; the
# previous textfile is untouched; the next clean run converges exactly.
# EINTR is not a failure: the call is made again.  An fsync failure is never
# taken for success.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	load 'test_helper/reliability'
	T="$BATS_TEST_TMPDIR/textfiles"
	OUT="$T/promrun.prom"
	mkdir -p "$T"
	NOW=100000
	printf '[render]\noutput = %s\n' "$OUT" >"$CONF"
	for i in 1 2 3; do
		promrun-record -j "$J" -w build -s success -d "$i" --time "$((1000 * i))"
	done
	promrun-render -j "$J" --now "$NOW"
	cp "$J" "$BATS_TEST_TMPDIR/journal.before"
	cp "$OUT" "$BATS_TEST_TMPDIR/textfile.before"
}

strerror() {
	"$PYTHON3" -c 'import errno, os, sys; print(os.strerror(getattr(errno, sys.argv[1])))' "$1"
}

@test "recording: ENOSPC, EIO and EDQUOT on the journal's write or sync: exit 1, one line, nothing acknowledged lost" {
	for err in ENOSPC EIO EDQUOT; do
		for sc in write fdatasync; do
			cp "$BATS_TEST_TMPDIR/journal.before" "$J"
			n=$(nth_call "$sc" "<$J>" promrun-record -j "$J" -w w -s success --time 5000)
			cp "$BATS_TEST_TMPDIR/journal.before" "$J"
			run --separate-stderr fail_at "$sc" "$n" "$err" promrun-record -j "$J" -w w -s success --time 5000
			[ "$status" -eq 1 ] || { echo "$err on $sc: status $status"; return 1; }
			want="promrun-record: cannot $([ "$sc" = write ] && echo 'append to' || echo sync) journal $J: $(strerror "$err")"
			[ "$stderr" = "$want" ] || { echo "$err on $sc: $stderr"; return 1; }
			# the acknowledged records are all there, unchanged
			head -c "$(wc -c <"$BATS_TEST_TMPDIR/journal.before")" "$J" | cmp - "$BATS_TEST_TMPDIR/journal.before"
			# and the next clean run converges
			promrun-record -j "$J" -w w -s success --time 6000
			run journal_summary "$J"
			assert_output --partial 'damaged=0'
		done
	done
}

@test "recording: EINTR on write or sync is retried, the record lands exactly once" {
	for sc in write fdatasync; do
		cp "$BATS_TEST_TMPDIR/journal.before" "$J"
		n=$(nth_call "$sc" "<$J>" promrun-record -j "$J" -w w -s success --time 5000)
		cp "$BATS_TEST_TMPDIR/journal.before" "$J"
		run fail_at "$sc" "$n" EINTR promrun-record -j "$J" -w w -s success --time 5000
		assert_success
		run journal_payloads "$J"
		[ "$(printf '%s\n' "$output" | grep -c 'time=5000 ')" -eq 1 ]
	done
}

@test "rendering: ENOSPC, EIO and EDQUOT on the textfile's write, fsync or rename: exit 1, old textfile untouched" {
	promrun-record -j "$J" -w build -s failure -d 9 --time 4000
	for err in ENOSPC EIO EDQUOT; do
		for sc in write fsync rename; do
			n=$(nth_call "$sc" '\.promrun\.prom\.[0-9]+\.[0-9a-f]+\.tmp' promrun-render -j "$J" --now "$NOW" --rebuild)
			cp "$BATS_TEST_TMPDIR/textfile.before" "$OUT"
			run --separate-stderr fail_at "$sc" "$n" "$err" promrun-render -j "$J" --now "$NOW" --rebuild
			[ "$status" -eq 1 ] || { echo "$err on $sc: status $status"; return 1; }
			[[ $stderr == "promrun-render: cannot "*"$T/.promrun.prom."*": $(strerror "$err")" ]] ||
			    { echo "$err on $sc: $stderr"; return 1; }
			[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
			cmp "$OUT" "$BATS_TEST_TMPDIR/textfile.before"
			no_temp_files "$T"
			# the next clean render converges
			promrun-render -j "$J" --now "$NOW"
			[ "$(sample_value "$OUT" 'ci_workflow_runs_total{workflow="build",status="failure"}')" = 1 ]
		done
	done
}

@test "rendering: an fsync failure of the directory is not success either" {
	promrun-record -j "$J" -w build -s failure -d 9 --time 4000
	n=$(nth_call fsync "<$T>" promrun-render -j "$J" --now "$NOW" --rebuild)
	run --separate-stderr fail_at fsync "$n" EIO promrun-render -j "$J" --now "$NOW" --rebuild
	assert_failure 1
	[ "$stderr" = "promrun-render: cannot fsync directory $T: $(strerror EIO)" ]
}

@test "rendering: EINTR on write, fsync or rename is retried" {
	for sc in write fsync rename; do
		n=$(nth_call "$sc" '\.promrun\.prom\.[0-9]+\.[0-9a-f]+\.tmp' promrun-render -j "$J" --now "$NOW" --rebuild)
		run fail_at "$sc" "$n" EINTR promrun-render -j "$J" --now "$NOW" --rebuild
		assert_success
		cmp "$OUT" "$BATS_TEST_TMPDIR/textfile.before"
	done
}

@test "rendering: a checkpoint that cannot be written is a warning, the textfile is still right" {
	promrun-record -j "$J" -w build -s failure -d 9 --time 4000
	n=$(nth_call rename '\.checkpoint' promrun-render -j "$J" --now "$NOW" --rebuild)
	run --separate-stderr fail_at rename "$n" ENOSPC promrun-render -j "$J" --now "$NOW" --rebuild
	assert_success
	[[ $stderr == "promrun-render: warning: checkpoint not saved, the next render reads the journal again: cannot rename "*": $(strerror ENOSPC)" ]]
	[ "$(sample_value "$OUT" 'ci_workflow_runs_total{workflow="build",status="failure"}')" = 1 ]
	no_temp_files "$BATS_TEST_TMPDIR"
}

@test "rendering on a real full file system (tiny tmpfs): exit 1, old textfile kept, converges after" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a tmpfs"
	mnt="$BATS_TEST_TMPDIR/mnt"
	mkdir -p "$mnt"
	mount -t tmpfs -o size=256k tmpfs "$mnt" || skip "cannot mount tmpfs here"
	out="$mnt/promrun.prom"
	promrun-render -j "$J" --now "$NOW" -o "$out"
	cp "$out" "$BATS_TEST_TMPDIR/small.prom"
	for i in $(seq 1 40); do
		promrun-record -j "$J" -w "w$i" -s success -d 1 --time 4000
	done
	dd if=/dev/zero of="$mnt/fill" bs=4k 2>/dev/null || true
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$out"
	status_full=$status
	stderr_full=$stderr
	cmp_full=0
	cmp "$out" "$BATS_TEST_TMPDIR/small.prom" || cmp_full=1
	left=$(find "$mnt" -name '*.tmp')
	rm -f "$mnt/fill"
	promrun-render -j "$J" --now "$NOW" -o "$out"
	runs=$(grep -c '^ci_workflow_up{' "$out")
	umount "$mnt"
	[ "$status_full" -eq 1 ]
	[[ $stderr_full == "promrun-render: cannot write $mnt/.promrun.prom."*": No space left on device" ]]
	[ "$cmp_full" -eq 0 ]
	[ -z "$left" ]
	[ "$runs" -eq 41 ]
}
