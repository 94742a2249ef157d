#!/usr/bin/env bats
# promrun-record --systemd: what a unit's ExecStartPre= and ExecStopPost=
# commands get from systemd decides the run id and the outcome.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	unset INVOCATION_ID SERVICE_RESULT EXIT_CODE EXIT_STATUS
}

# finish_with RESULT CODE STATUS: the finish record --systemd writes.
finish_with() {
	rm -f "$J"
	env INVOCATION_ID=0123abcd SERVICE_RESULT="$1" EXIT_CODE="$2" EXIT_STATUS="$3" \
	    promrun-record -j "$J" -w backup.service --systemd --finish --time 100
	journal_payloads "$J"
}

@test "the start takes its run id from INVOCATION_ID" {
	INVOCATION_ID=0123abcd promrun-record -j "$J" -w backup.service --systemd --start --time 10
	run journal_payloads "$J"
	assert_output 'start time=10 workflow=backup.service run_id=0123abcd'
}

@test "SERVICE_RESULT, EXIT_CODE and EXIT_STATUS map onto status and exit code" {
	run finish_with success exited 0
	assert_output 'finish time=100 workflow=backup.service run_id=0123abcd status=success exit_code=0'
	run finish_with success killed TERM
	assert_output 'finish time=100 workflow=backup.service run_id=0123abcd status=cancelled exit_code=143'
	run finish_with exit-code exited 3
	assert_output 'finish time=100 workflow=backup.service run_id=0123abcd status=failure exit_code=3'
	run finish_with exit-code exited 124
	assert_output 'finish time=100 workflow=backup.service run_id=0123abcd status=timeout exit_code=124'
	run finish_with signal killed KILL
	assert_output 'finish time=100 workflow=backup.service run_id=0123abcd status=failure exit_code=137'
	run finish_with signal killed INT
	assert_output 'finish time=100 workflow=backup.service run_id=0123abcd status=cancelled exit_code=130'
	run finish_with core-dump dumped SEGV
	assert_output 'finish time=100 workflow=backup.service run_id=0123abcd status=failure exit_code=139'
	run finish_with timeout killed TERM
	assert_output 'finish time=100 workflow=backup.service run_id=0123abcd status=timeout exit_code=143'
	run finish_with oom-kill killed KILL
	assert_output 'finish time=100 workflow=backup.service run_id=0123abcd status=failure exit_code=137'
	run finish_with start-limit-hit '' ''
	assert_output 'finish time=100 workflow=backup.service run_id=0123abcd status=failure'
}

@test "a start and its finish render as one run with its duration" {
	INVOCATION_ID=feed promrun-record -j "$J" -w backup.service --systemd --start --time 1000
	env INVOCATION_ID=feed SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=2 \
	    promrun-record -j "$J" -w backup.service --systemd --finish --time 1042
	run promrun-render -j "$J" --now 2000
	assert_line 'ci_workflow_runs_total{workflow="backup.service",status="failure"} 1'
	assert_line 'ci_workflow_last_run_duration_seconds{workflow="backup.service"} 42'
	assert_line 'ci_workflow_in_progress{workflow="backup.service"} 0'
}

@test "explicit -s or --run-id win over systemd's variables" {
	env INVOCATION_ID=x SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=1 \
	    promrun-record -j "$J" -w u --systemd --finish --run-id mine -s success --time 5
	run journal_payloads "$J"
	assert_output 'finish time=5 workflow=u run_id=mine status=success'
}

@test "missing or unreadable variables: exit 2 naming them, nothing written" {
	run --separate-stderr promrun-record -j "$J" -w u --systemd --start
	assert_failure 2
	[ "$stderr" = 'promrun-record: --systemd needs $INVOCATION_ID (systemd sets it for every unit) or --run-id' ]
	run --separate-stderr env INVOCATION_ID=x promrun-record -j "$J" -w u --systemd --finish
	assert_failure 2
	[[ $stderr == 'promrun-record: --systemd --finish needs $SERVICE_RESULT'* ]]
	run --separate-stderr env INVOCATION_ID=x SERVICE_RESULT=signal EXIT_CODE=killed EXIT_STATUS=BOGUS \
	    promrun-record -j "$J" -w u --systemd --finish
	assert_failure 2
	[ "$stderr" = 'promrun-record: $EXIT_STATUS "BOGUS" is neither an exit status nor a signal name' ]
	[ ! -e "$J" ]
}
