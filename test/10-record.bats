#!/usr/bin/env bats
# promrun-record: recording runs, starts and finishes; options; help.

setup() {
	load 'test_helper/common-setup'
	_common_setup
}

@test "a finished run is appended as one readable, checksummed line" {
	run promrun-record -j "$J" -w build -s success -d 12.5 -l repo=promrun \
	    --time 1763891234.5
	assert_success
	assert_output ''
	run cat "$J"
	assert_output --regexp '^pr1 [0-9a-f]{8} run time=1763891234.5 workflow=build status=success duration=12.5 label.repo=promrun$'
	run journal_summary "$J"
	assert_output "# records=1 damaged=0 damaged_bytes=0 tail=0 end=$(wc -c <"$J") undecodable=0"
}

@test "-e maps exit codes to statuses and keeps the code" {
	for code in 0 1 124 130 143 137; do
		promrun-record -j "$J" -w job -e "$code" --time 100
	done
	run journal_payloads "$J"
	assert_line --index 0 'run time=100 workflow=job status=success exit_code=0'
	assert_line --index 1 'run time=100 workflow=job status=failure exit_code=1'
	assert_line --index 2 'run time=100 workflow=job status=timeout exit_code=124'
	assert_line --index 3 'run time=100 workflow=job status=cancelled exit_code=130'
	assert_line --index 4 'run time=100 workflow=job status=cancelled exit_code=143'
	assert_line --index 5 'run time=100 workflow=job status=failure exit_code=137'
}

@test "an explicit -s wins over the status -e implies" {
	promrun-record -j "$J" -w svc -s timeout -e 143 --time 5
	run journal_payloads "$J"
	assert_output 'run time=5 workflow=svc status=timeout exit_code=143'
}

@test "common status spellings map onto the five statuses" {
	for s in failed ERROR canceled ABORTED UNSTABLE passed timed_out; do
		promrun-record -j "$J" -w w -s "$s" --time 1
	done
	run journal_payloads "$J"
	assert_output "$(printf 'run time=1 workflow=w status=%s\n' failure failure cancelled cancelled failure success timeout)"
}

@test "--start and --finish record both ends matched by run id" {
	promrun-record -j "$J" -w deploy --start --run-id 42 --step push \
	    --time 2026-11-23T10:00:00Z -l env=prod
	promrun-record -j "$J" -w deploy --finish --run-id 42 --step push \
	    -s success --time 2026-11-23T10:01:30Z -l env=prod
	run journal_payloads "$J"
	assert_line --index 0 'start time=1795428000 workflow=deploy step=push run_id=42 label.env=prod'
	assert_line --index 1 'finish time=1795428090 workflow=deploy step=push run_id=42 status=success label.env=prod'
}

@test "the time defaults to now" {
	before=$(date +%s)
	promrun-record -j "$J" -w w -s ok
	after=$(date +%s)
	t=$(journal_payloads "$J" | sed 's/.*time=\([0-9]*\).*/\1/')
	[ "$t" -ge "$before" ] && [ "$t" -le "$after" ]
}

@test "times accept fractional Unix seconds and RFC 3339 with offsets" {
	promrun-record -j "$J" -w w -s ok --time 1763891234.125
	promrun-record -j "$J" -w w -s ok --time '2026-11-23 04:30:00.5-05:30'
	promrun-record -j "$J" -w w -s ok --time 2024-02-29t00:00:00z
	run journal_payloads "$J"
	assert_line --index 0 --partial 'time=1763891234.125 '
	assert_line --index 1 --partial 'time=1795428000.5 '
	assert_line --index 2 --partial 'time=1709164800 '
}

@test "names and values with spaces, newlines, quotes and Unicode survive escaped" {
	promrun-record -j "$J" -w "$(printf 'nightly "db"\nbackup')" -s ok \
	    --time 1 -l 'who=José 🚀 100%' -l empty=
	run cat "$J"
	assert_output --partial 'workflow=nightly%20"db"%0Abackup status=success label.who=José%20🚀%20100%25 label.empty='
	[ "$(wc -l <"$J")" -eq 1 ]
	run journal_summary "$J"
	assert_output --partial 'records=1 damaged=0'
	assert_output --partial 'undecodable=0'
}

@test "--help prints the synopsis on stdout and exits 0" {
	run --separate-stderr promrun-record --help
	assert_success
	assert_line --index 0 --partial 'usage: promrun-record [-c CONFIG] [-j JOURNAL] -w WORKFLOW'
	assert_output --partial '--exit-code N'
	[ -z "$stderr" ]
}

@test "--version prints the version" {
	run promrun-record --version
	assert_success
	assert_output --regexp '^promrun-record [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "the man page renders and documents every option" {
	man_page="$BATS_TEST_DIRNAME/../cmd/promrun-record/promrun-record.1"
	run env MANWIDTH=100 man --warnings -l "$man_page"
	assert_success
	for opt in --workflow --status --exit-code --duration --label --step \
	    --run-id --time --start --finish --journal --config --help --version; do
		assert_output --partial -- "$opt"
	done
	assert_output --partial 'EXIT STATUS'
}

@test "the fsync policy: always syncs each record, never does not" {
	command -v strace >/dev/null || skip "strace not installed"
	run strace_env strace -f -qq -e trace=fdatasync,fsync -o "$BATS_TEST_TMPDIR/trace" \
	    promrun-record -j "$J" -w w -s ok
	assert_success
	# A new journal: the record and its directory entry.
	run grep -c 'fdatasync\|fsync' "$BATS_TEST_TMPDIR/trace"
	assert_output 2
	strace_env strace -f -qq -e trace=fdatasync,fsync -o "$BATS_TEST_TMPDIR/trace" \
	    promrun-record -j "$J" -w w -s ok
	run grep -c 'fdatasync' "$BATS_TEST_TMPDIR/trace"
	assert_output 1
	printf '[journal]\nfsync = never\n' >"$CONF"
	strace_env strace -f -qq -e trace=fdatasync,fsync -o "$BATS_TEST_TMPDIR/trace" \
	    promrun-record -j "$J" -w w -s ok
	run grep -c 'sync' "$BATS_TEST_TMPDIR/trace"
	assert_output 0
	run journal_summary "$J"
	assert_output --partial 'records=3 damaged=0'
}

@test "--started gives the duration from the CI's start time" {
	promrun-record -j "$J" -w w -s ok --time 2026-11-23T10:01:30Z --started 2026-11-23T10:00:00Z
	run journal_payloads "$J"
	assert_output 'run time=1795428090 workflow=w status=success duration=90'
	run --separate-stderr promrun-record -j "$J" -w w -s ok --time 100 --started 200
	assert_failure 2
	[ "$stderr" = 'promrun-record: --started "200" is after the end of the run: the start must come first' ]
	run --separate-stderr promrun-record -j "$J" -w w -s ok -d 5 --started 1
	assert_failure 2
	[ "$stderr" = 'promrun-record: give -d or --started, not both' ]
}
