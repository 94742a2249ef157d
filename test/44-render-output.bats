#!/usr/bin/env bats
# What a path promrun replaces may be (atomicfile.h's rule): a regular file
# or a new one is replaced by rename; a symbolic link is followed and its
# target replaced where it lies, the link kept; a FIFO or a character device
# is written in place; a dangling link, a directory, a socket or a block
# device is refused.  The same rule for -o, the checkpoint and the journal
# on compaction.  Devices are mknod copies in the test's directory: the
# host's /dev is never touched.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	T=$BATS_TEST_TMPDIR
	NOW=1795428000
	promrun-record -j "$J" -w build -s success -d 12 --time 1795427000
	promrun-record -j "$J" -w build -s failure -d 30 --time 1795427100
	promrun-render -j "$J" --now "$NOW" -o "$T/expected.prom"
}

teardown() {
	stop_background
}

# need_root: mknod and devices need root.
need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for mknod"
}

# same_node PATH TYPE: PATH is still of that type (stat's %F).
same_node() {
	run stat -c %F "$1"
	assert_output "$2"
}

@test "-o a FIFO with a reader: the metrics go through it, the FIFO stays" {
	mkfifo "$T/fifo"
	timeout 20 cat "$T/fifo" >"$T/got" 3>&- &
	reader=$!
	run promrun-render -j "$J" --now "$NOW" -o "$T/fifo"
	assert_success
	wait "$reader"
	cmp "$T/got" "$T/expected.prom"
	same_node "$T/fifo" fifo
	# A FIFO reached through a link, and a second render through it.
	ln -s fifo "$T/to-fifo"
	timeout 20 cat "$T/fifo" >"$T/got2" 3>&- &
	reader=$!
	promrun-render -j "$J" --now "$NOW" -o "$T/to-fifo"
	wait "$reader"
	cmp "$T/got2" "$T/expected.prom"
	same_node "$T/to-fifo" 'symbolic link'
	same_node "$T/fifo" fifo
	[ -z "$(find "$T" -name '*.tmp')" ]
}

@test "-o character devices (copies of /dev/null and /dev/full): written in place, never replaced, mode kept" {
	need_root
	mknod -m 666 "$T/null" c 1 3
	mknod -m 666 "$T/full" c 1 7
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$T/null"
	assert_success
	assert_equal "$stderr" ''
	run stat -c '%F %a %t:%T' "$T/null"
	assert_output 'character special file 666 1:3'
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$T/full"
	assert_failure 1
	assert_equal "$stderr" "promrun-render: cannot write $T/full: No space left on device"
	run stat -c '%F %a %t:%T' "$T/full"
	assert_output 'character special file 666 1:7'
	# Through a relative link, from [render] output too.
	ln -s null "$T/to-null"
	printf '[render]\noutput = %s\nmode = 0600\n' "$T/to-null" >"$CONF"
	promrun-render -j "$J" --now "$NOW"
	same_node "$T/to-null" 'symbolic link'
	run stat -c '%F %a' "$T/null"
	assert_output 'character special file 666'
	[ -z "$(find "$T" -name '*.tmp')" ]
}

@test "-o a copy of /dev/stdout (a link to /proc/self/fd/1): standard output gets the metrics, the link stays" {
	ln -s /proc/self/fd/1 "$T/stdout"
	# Standard output a pipe (run's capture) ...
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$T/stdout"
	assert_success
	assert_equal "$output" "$(cat "$T/expected.prom")"
	same_node "$T/stdout" 'symbolic link'
	# ... a character device (a copy of /dev/null) ...
	if [ "$(id -u)" -eq 0 ]; then
		mknod -m 666 "$T/null" c 1 3
		promrun-render -j "$J" --now "$NOW" -o "$T/stdout" >"$T/null"
		same_node "$T/null" 'character special file'
	fi
	# ... or a regular file, which is then replaced where it lies.
	promrun-render -j "$J" --now "$NOW" -o "$T/stdout" >"$T/file.prom"
	cmp "$T/file.prom" "$T/expected.prom"
	same_node "$T/stdout" 'symbolic link'
	run readlink "$T/stdout"
	assert_output /proc/self/fd/1
}

@test "-o a symbolic link to a file in another directory: the target is replaced there, the link kept" {
	mkdir "$T/links" "$T/files"
	echo old >"$T/files/promrun.prom"
	ln -s ../files/promrun.prom "$T/links/promrun.prom"
	strace_env strace -f -qq -e trace=openat,rename -o "$T/trace" \
	    promrun-render -j "$J" --now "$NOW" -o "$T/links/promrun.prom"
	same_node "$T/links/promrun.prom" 'symbolic link'
	run readlink "$T/links/promrun.prom"
	assert_output ../files/promrun.prom
	cmp "$T/files/promrun.prom" "$T/expected.prom"
	# The temporary file is made in the target's directory, under the
	# target's name, and renamed over the target.
	run grep -o 'openat([^"]*"[^"]*\.tmp"' "$T/trace"
	assert_output --regexp "^openat\\(AT_FDCWD, \"$T/links/\\.\\./files/\\.promrun\\.prom\\.[0-9]+\\.[0-9a-f]{8}\\.tmp\"\$"
	run grep -c '^[0-9]* *rename(' "$T/trace"
	assert_output 1
	grep -q "rename(\"[^\"]*\\.tmp\", \"$T/links/\\.\\./files/promrun\\.prom\") = 0" "$T/trace"
	run stat -c %a "$T/files/promrun.prom"
	assert_output 644
	[ -z "$(find "$T" -name '*.tmp')" ]
}

@test "a link in a directory the renderer may not write, to a file in one it may: rendered" {
	need_root
	mkdir "$T/links" "$T/files"
	ln -s "$T/files/promrun.prom" "$T/links/promrun.prom"
	: >"$T/files/promrun.prom"
	chown nobody "$T/files" "$T/files/promrun.prom"
	chmod o+x "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$T" "$T/links"
	chmod o+r "$J"
	printf '[render]\ncheckpoint = %s/files/checkpoint\n' "$T" >"$CONF"
	chmod o+r "$CONF"
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    promrun-render -j "$J" --now "$NOW" -o "$T/links/promrun.prom"
	assert_success
	assert_equal "$stderr" ''
	same_node "$T/links/promrun.prom" 'symbolic link'
	cmp "$T/files/promrun.prom" "$T/expected.prom"
	# Writing the link's own name is what it may not do.
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    promrun-render -j "$J" --now "$NOW" -o "$T/links/other.prom"
	assert_failure 1
	assert_equal "$(printf '%s' "$stderr" | sed -E 's/\.[0-9]+\.[0-9a-f]{8}\.tmp:/.PID.RANDOM.tmp:/')" \
	    "promrun-render: cannot create $T/links/.other.prom.PID.RANDOM.tmp: Permission denied"
}

@test "chains of links, relative and absolute, lead to the file that is replaced" {
	mkdir -p "$T/a/b" "$T/c"
	echo old >"$T/c/real.prom"
	ln -s ../../c/real.prom "$T/a/b/one"	# relative, up two directories
	ln -s b/one "$T/a/two"			# relative, down one
	ln -s "$T/a/two" "$T/three"		# absolute
	ln -s ./three "$T/four"			# relative, same directory
	inode=$(stat -c %i "$T/c/real.prom")
	promrun-render -j "$J" --now "$NOW" -o "$T/four"
	cmp "$T/c/real.prom" "$T/expected.prom"
	[ "$(stat -c %i "$T/c/real.prom")" != "$inode" ]
	for l in a/b/one a/two three four; do
		same_node "$T/$l" 'symbolic link'
	done
	# A link through a linked directory: the file in the real directory.
	ln -s c "$T/dirlink"
	ln -s dirlink/real.prom "$T/five"
	promrun-record -j "$J" -w build -s success -d 1 --time 1795427200
	promrun-render -j "$J" --now "$NOW" -o "$T/five"
	run sample_value "$T/c/real.prom" 'ci_workflow_runs_total{workflow="build",status="success"}'
	assert_output 2
	same_node "$T/dirlink" 'symbolic link'
	same_node "$T/five" 'symbolic link'
	[ -z "$(find "$T" -name '*.tmp')" ]
}

@test "a dangling link is refused with exit 2, and nothing is created at either end" {
	ln -s nowhere/promrun.prom "$T/dangling"
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$T/dangling"
	assert_failure 2
	assert_equal "$stderr" "promrun-render: cannot write $T/dangling: it is a symbolic link to $T/nowhere/promrun.prom, which does not exist (create it first, or give its name)"
	mkdir "$T/nowhere"
	ln -s "$T/nowhere/x.prom" "$T/dangling2"
	ln -s dangling2 "$T/dangling3"
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$T/dangling3"
	assert_failure 2
	assert_equal "$stderr" "promrun-render: cannot write $T/dangling3: it is a symbolic link to $T/nowhere/x.prom, which does not exist (create it first, or give its name)"
	[ -z "$(ls -A "$T/nowhere")" ]
	same_node "$T/dangling3" 'symbolic link'
	# A loop is the kernel's ELOOP.
	ln -s loop2 "$T/loop1"
	ln -s loop1 "$T/loop2"
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$T/loop1"
	assert_failure 1
	assert_equal "$stderr" "promrun-render: cannot write $T/loop1: Too many levels of symbolic links"
}

@test "a directory, a socket, a block device, a name ending in /, an empty name are refused with exit 2 and left alone" {
	mkdir "$T/dir"
	"$PYTHON3" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/sock"
	accepted='(give a regular file, a new one or a symbolic link to one, a FIFO or a character device)'
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$T/dir"
	assert_failure 2
	assert_equal "$stderr" "promrun-render: cannot write $T/dir: it is a directory $accepted"
	ln -s dir "$T/to-dir"
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$T/to-dir"
	assert_failure 2
	assert_equal "$stderr" "promrun-render: cannot write $T/to-dir: it is a directory $accepted"
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$T/sock"
	assert_failure 2
	assert_equal "$stderr" "promrun-render: cannot write $T/sock: it is a socket $accepted"
	same_node "$T/sock" socket
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$T/new/"
	assert_failure 2
	assert_equal "$stderr" "promrun-render: cannot write $T/new/: it names a directory (give a file name)"
	[ ! -e "$T/new" ]
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o ''
	assert_failure 2
	assert_equal "$stderr" 'promrun-render: cannot write "": the file name is empty'
	[ -z "$(ls -A "$T/dir")" ]
	if [ "$(id -u)" -eq 0 ]; then
		# Major 240 is for local use: no driver behind it here.
		mknod "$T/blk" b 240 0
		run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$T/blk"
		assert_failure 2
		assert_equal "$stderr" "promrun-render: cannot write $T/blk: it is a block device $accepted"
		same_node "$T/blk" 'block special file'
	fi
}

@test "the checkpoint follows the same rule: through a link it is replaced where it lies; a device is refused, not replaced" {
	mkdir "$T/state"
	: >"$T/state/cp"
	ln -s state/cp "$T/cp-link"
	printf '[render]\ncheckpoint = %s\n' "$T/cp-link" >"$CONF"
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$T/out.prom"
	assert_success
	assert_equal "$stderr" ''
	same_node "$T/cp-link" 'symbolic link'
	head -c 4 "$T/state/cp" | grep -qx 'pr1 '
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o - -v
	assert_success
	[[ $stderr == *"after the checkpoint"* ]]
	[ -z "$(find "$T" -name '*.tmp')" ]
	need_root
	mknod -m 666 "$T/null" c 1 3
	printf '[render]\ncheckpoint = %s\n' "$T/null" >"$CONF"
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$T/out.prom"
	assert_success
	assert_equal "$stderr" "promrun-render: warning: checkpoint not saved, the next render reads the journal again: cannot write $T/null: it is a character device (give a regular file, a new one or a symbolic link to one)"
	run stat -c '%F %a' "$T/null"
	assert_output 'character special file 666'
	cmp "$T/out.prom" "$T/expected.prom"
}

@test "compaction of a journal reached through a link compacts the file where it lies; every name shares one lock" {
	mkdir "$T/real"
	J=$T/linked-journal
	ln -s real/journal "$J"
	: >"$T/real/journal"
	for i in $(seq 1 20); do
		promrun-record -j "$J" -w build -s success -d "$i" --time "$((1790000000 + i))"
	done
	size=$(stat -c %s "$T/real/journal")
	run --separate-stderr promrun-render -j "$J" --now "$NOW" --compact -o "$T/out.prom" -v
	assert_success
	[[ $stderr == *"journal compacted from $size to "* ]]
	same_node "$J" 'symbolic link'
	[ "$(stat -c %s "$T/real/journal")" -lt "$size" ]
	# The lock beside the journal itself, none beside the link.
	[ -e "$T/real/journal.lock" ]
	[ ! -e "$J.lock" ]
	promrun-record -j "$T/real/journal" -w build -s success -d 1 --time 1795427300
	promrun-record -j "$J" -w build -s success -d 1 --time 1795427400
	[ ! -e "$J.lock" ]
	# A compaction killed halfway left its temporary file beside the
	# journal itself (before atomicfile.h, "<journal>.compact.tmp" beside
	# the name given): the next render removes it while no recorder holds
	# the lock.
	: >"$T/real/.journal.4242.deadbeef.tmp"
	: >"$J.compact.tmp"
	promrun-render -j "$J" --now "$NOW" -o "$T/out.prom"
	[ ! -e "$T/real/.journal.4242.deadbeef.tmp" ]
	[ ! -e "$J.compact.tmp" ]
	run sample_value "$T/out.prom" 'ci_workflow_runs_total{workflow="build",status="success"}'
	assert_output 22
	[ -z "$(find "$T" -name '*.tmp')" ]
}

@test "leftovers of a crashed render are removed beside the file a link leads to, and only the exact temp names" {
	mkdir "$T/files"
	echo old >"$T/files/promrun.prom"
	ln -s files/promrun.prom "$T/link.prom"
	: >"$T/files/.promrun.prom.4242.deadbeef.tmp"
	: >"$T/files/.promrun.prom.checkpoint.1.00000000.tmp"
	: >"$T/files/.promrun.prom.12.0000000.tmp"
	: >"$T/.link.prom.4242.deadbeef.tmp"
	promrun-render -j "$J" --now "$NOW" -o "$T/link.prom"
	[ ! -e "$T/files/.promrun.prom.4242.deadbeef.tmp" ]
	# Not what this writer makes: another file's, a short random part,
	# and names beside the link, which no writer of this file makes.
	[ -e "$T/files/.promrun.prom.checkpoint.1.00000000.tmp" ]
	[ -e "$T/files/.promrun.prom.12.0000000.tmp" ]
	[ -e "$T/.link.prom.4242.deadbeef.tmp" ]
}
