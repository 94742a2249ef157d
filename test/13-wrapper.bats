#!/usr/bin/env bats
# promrun-record -- COMMAND: the command runs untouched, its status comes
# back, its start and finish are recorded, and recording never breaks it.

setup() {
	load 'test_helper/common-setup'
	_common_setup
}

teardown() {
	stop_background
}

# wait_for FILE: up to 5 s for FILE to appear.
wait_for() {
	local i
	for i in $(seq 100); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

@test "the command's exit status passes through and is recorded" {
	run promrun-record -j "$J" -w cron -- sh -c 'exit 7'
	assert_failure 7
	run journal_payloads "$J"
	assert_line --index 0 --regexp '^start time=[0-9.]+ workflow=cron run_id=[0-9a-f]{16}$'
	assert_line --index 1 --regexp '^finish time=[0-9.]+ workflow=cron run_id=[0-9a-f]{16} status=failure duration=[0-9.]+ exit_code=7$'
	# The start and the finish carry the same run id.
	ids=$(journal_payloads "$J" | sed 's/.*run_id=\([0-9a-f]*\).*/\1/' | sort -u | wc -l)
	[ "$ids" -eq 1 ]
}

@test "success is recorded with the given run id, step and labels" {
	run promrun-record -j "$J" -w nightly --step dump --run-id r1 -l host=db1 -- true
	assert_success
	run journal_payloads "$J"
	assert_line --index 0 --regexp '^start time=[0-9.]+ workflow=nightly step=dump run_id=r1 label.host=db1$'
	assert_line --index 1 --regexp '^finish time=[0-9.]+ workflow=nightly step=dump run_id=r1 status=success duration=[0-9.]+ exit_code=0 label.host=db1$'
}

@test "without -- the first non-option starts the command" {
	run promrun-record -j "$J" -w w sh -c 'echo "$0 $1"' a b
	assert_success
	assert_output 'a b'
}

@test "stdin, stdout and stderr reach the command untouched" {
	run --separate-stderr bash -c 'printf "one\ntwo\n" | promrun-record -j "$1" -w w -- sh -c "cat; echo err >&2"' _ "$J"
	assert_success
	assert_output "$(printf 'one\ntwo')"
	[ "$stderr" = err ]
}

@test "the command does not inherit the journal or its lock" {
	run promrun-record -j "$J" -w w -- sh -c 'for f in /proc/$$/fd/*; do readlink "$f"; done' 3>&-
	assert_success
	refute_output --partial "$J"
}

@test "the duration is measured" {
	promrun-record -j "$J" -w w -- sleep 0.3
	d=$(journal_payloads "$J" | sed -n 's/.*duration=\([0-9.]*\).*/\1/p')
	awk -v d="$d" 'BEGIN { exit !(d >= 0.3 && d < 5) }'
}

@test "SIGTERM sent to the wrapper is forwarded to the command" {
	flag="$BATS_TEST_TMPDIR/flag"
	promrun-record -j "$J" -w w -- sh -c '
	    trap "echo TERM >\"$0\"; exit 42" TERM
	    : >"$0.ready"
	    while :; do sleep 0.05; done' "$flag" 3>&- &
	pid=$!
	wait_for "$flag.ready"
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 42 ]
	[ "$(cat "$flag")" = TERM ]
	run journal_payloads "$J"
	assert_line --index 1 --partial 'status=failure'
	assert_line --index 1 --partial 'exit_code=42'
}

@test "SIGINT and SIGHUP are forwarded too" {
	for sig in INT HUP; do
		flag="$BATS_TEST_TMPDIR/flag-$sig"
		# A background job starts with SIGINT ignored; give it the default.
		env --default-signal=INT promrun-record -j "$J" -w w -- sh -c '
		    trap "echo $1 >\"$0\"; exit 3" "$1"
		    : >"$0.ready"
		    while :; do sleep 0.05; done' "$flag" "$sig" 3>&- &
		pid=$!
		wait_for "$flag.ready"
		kill -"$sig" "$pid"
		rc=0
		wait "$pid" || rc=$?
		[ "$rc" -eq 3 ]
		[ "$(cat "$flag")" = "$sig" ]
	done
}

@test "a command killed by a signal gives 128+N and is recorded" {
	run promrun-record -j "$J" -w w -- sh -c 'kill -KILL $$'
	assert_failure 137
	run promrun-record -j "$J" -w w -- sh -c 'kill -TERM $$'
	assert_failure 143
	run journal_payloads "$J"
	assert_line --index 1 --partial 'status=failure'
	assert_line --index 1 --partial 'exit_code=137'
	assert_line --index 3 --partial 'status=cancelled'
	assert_line --index 3 --partial 'exit_code=143'
}

@test "a wrapped timeout(1) is recorded as timeout" {
	run promrun-record -j "$J" -w w -- timeout 0.1 sleep 5
	assert_failure 124
	run journal_payloads "$J"
	assert_line --index 1 --partial 'status=timeout'
}

@test "a command that does not exist: 127, one line, recorded as failure" {
	run -127 --separate-stderr promrun-record -j "$J" -w w -- /nonexistent/cmd
	[ "$stderr" = 'promrun-record: cannot run /nonexistent/cmd: No such file or directory' ]
	run journal_payloads "$J"
	assert_line --index 1 --partial 'exit_code=127'
}

@test "a command that cannot be executed: 126" {
	printf 'not a program\n' >"$BATS_TEST_TMPDIR/data"
	chmod 644 "$BATS_TEST_TMPDIR/data"
	run -126 promrun-record -j "$J" -w w -- "$BATS_TEST_TMPDIR/data"
}

@test "an unwritable journal still runs the command and returns its status" {
	: >"$BATS_TEST_TMPDIR/file"
	run --separate-stderr promrun-record -j "$BATS_TEST_TMPDIR/file/journal" -w w -- sh -c 'echo ran; exit 5'
	assert_failure 5
	assert_output ran
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 2
	assert_equal "$(printf '%s\n' "$stderr" | sed -n 1p)" \
	    "promrun-record: warning: start not recorded: cannot open lock file $BATS_TEST_TMPDIR/file/journal.lock: Not a directory"
	[[ $(printf '%s\n' "$stderr" | sed -n 2p) == "promrun-record: warning: finish not recorded: "* ]]
}

@test "bad recording options still run the command, with one warning" {
	run --separate-stderr promrun-record -j "$J" -w w -l bad-name=1 -- sh -c 'echo ran; exit 4'
	assert_failure 4
	assert_output ran
	[ "$stderr" = 'promrun-record: warning: start not recorded: invalid label name "bad-name": names match [a-zA-Z_][a-zA-Z0-9_]*' ]
	[ ! -e "$J" ]
}

@test "options that do not go with a command still run it" {
	run --separate-stderr promrun-record -j "$J" -w w -s ok -- true
	assert_success
	[[ $stderr == *'warning: run not recorded: -s, -e, -d, --started, --time, --start, --finish and --systemd do not go with a COMMAND' ]]
	[ ! -e "$J" ]
}

@test "a broken config still runs the command" {
	printf 'garbage\n' >"$CONF"
	run --separate-stderr promrun-record -w w -- sh -c 'exit 0'
	assert_success
	[[ $stderr == "promrun-record: warning: run not recorded: $CONF:1: syntax error"* ]]
}
