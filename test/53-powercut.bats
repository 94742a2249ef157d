#!/usr/bin/env bats
# Power-cut stand-in (root only): recorders append with fsync=always and a
# render loop writes the textfile on an ext4 loop image; at a random moment
# the file system is shut down as if the power went (xfs_io's shutdown
# ioctl, no flush), then mounted again.  Every acknowledged record must be
# there, and the textfile must be the whole old or the whole new version.
# The same run with a build whose fsync is disabled loses records: the test
# can tell.

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	command -v xfs_io >/dev/null && command -v mkfs.ext4 >/dev/null || return 0
	# The build without fsync, for the last test only.
	ROOT="$BATS_TEST_DIRNAME/.."
	make -s -C "$ROOT" BUILD="$BATS_FILE_TMPDIR/unsafe" \
	    CPPFLAGS=-DPROMRUN_UNSAFE_NO_FSYNC "$BATS_FILE_TMPDIR/unsafe/promrun-record" >&2
}

setup() {
	load 'test_helper/common-setup'
	_common_setup
	load 'test_helper/reliability'
	many_runs
	[ "$(id -u)" -eq 0 ] || skip "the power-cut test needs root (loop mount, shutdown ioctl)"
	command -v xfs_io >/dev/null || skip "xfs_io (xfsprogs) not installed"
	IMG="$BATS_TEST_TMPDIR/fs.img"
	MNT="$BATS_TEST_TMPDIR/mnt"
	mkdir -p "$MNT"
	truncate -s 64M "$IMG"
	mkfs.ext4 -q "$IMG"
	mount -o loop "$IMG" "$MNT" || skip "cannot loop-mount here"
	printf '[journal]\nfsync = always\n' >"$CONF"
}

teardown() {
	stop_background
	mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
	return 0
}

# power_cut RECORDER: append with two recorders and render in a loop for a
# random 1 to 3 s, cut the power, remount.  Sets LOST to the number of
# acknowledged records missing afterwards.
power_cut() {
	local rec=$1 r seed
	seed=${PROMRUN_SOAK_SEED:-$(( $(date +%s) % 32768 ))}
	RANDOM=$seed
	echo "# seed $seed" >&3
	for r in 1 2; do
		(
			n=0
			while [ ! -e "$BATS_TEST_TMPDIR/stop" ]; do
				n=$((n + 1))
				"$rec" -j "$MNT/journal" -w "rec$r" -s success --time "$n" -l "seq=$n" 2>/dev/null &&
				    echo "$n" >"$BATS_TEST_TMPDIR/acked.$r"
			done
		) 3>&- &
	done
	(
		while [ ! -e "$BATS_TEST_TMPDIR/stop" ]; do
			promrun-render -j "$MNT/journal" -o "$MNT/promrun.prom" 2>/dev/null
		done
	) 3>&- &
	sleep "$((RANDOM % 3 + 1)).$((RANDOM % 10))"
	# What was acknowledged before the cut.  Unlike a real power cut, the
	# shutdown ioctl leaves the recorders running, and an fdatasync that
	# was waiting on the journal commit the shutdown aborts has been seen
	# to return 0 for a record that was then missing (once, in a CI run:
	# 43 acknowledged, 42 present; jbd2 finds no transaction left to wait
	# for, we believe).  A process cannot see an acknowledgement after a
	# real cut, so only those from before it count.
	for r in 1 2; do
		cat "$BATS_TEST_TMPDIR/acked.$r" 2>/dev/null >"$BATS_TEST_TMPDIR/cut.$r" || :
	done
	xfs_io -x -c shutdown "$MNT"
	touch "$BATS_TEST_TMPDIR/stop"
	# The loops end on the stop flag; their status does not matter.
	wait_jobs || true
	umount "$MNT"
	mount -o loop "$IMG" "$MNT"
	LOST=0
	for r in 1 2; do
		acked=$(cat "$BATS_TEST_TMPDIR/cut.$r" 2>/dev/null)
		acked=${acked:-0}
		present=$(journal_payloads "$MNT/journal" | grep -c "workflow=rec$r " || true)
		# records are appended in order: the first $acked must all be there
		for n in $(seq 1 "$acked"); do
			journal_payloads "$MNT/journal" | grep -q " workflow=rec$r .*label.seq=$n\$" || LOST=$((LOST + 1))
		done
		echo "# recorder $r: $acked acknowledged, $present present" >&3
	done
}

@test "after a power cut every acknowledged record is there and the textfile is whole" {
	power_cut promrun-record
	[ "$LOST" -eq 0 ]
	if [ -e "$MNT/promrun.prom" ]; then
		run prom_samples "$MNT/promrun.prom"
		assert_success
		[ "$(tail -c 1 "$MNT/promrun.prom" | od -An -c | tr -d ' ')" = '\n' ]
	fi
	run journal_summary "$MNT/journal"
	assert_output --partial 'undecodable=0'
}

@test "a build with fsync disabled loses acknowledged records in the same test" {
	power_cut "$BATS_FILE_TMPDIR/unsafe/promrun-record"
	echo "# $LOST acknowledged records lost without fsync" >&3
	[ "$LOST" -gt 0 ]
}
