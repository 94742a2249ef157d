#!/usr/bin/env bats
# The units as a real systemd runs them: systemd booted as PID 1 on a
# throwaway root (test_helper/sysroot), promrun installed into it with
# make install, its user and directories made by systemd-sysusers and
# systemd-tmpfiles from the installed files.  The path unit and the timer
# start the render; services with the drop-in record their runs with the
# outcome systemd gives them; the render service's sandbox holds.  One boot
# for the file; the tests run in order.

TEXTFILE=/var/lib/promrun/textfile/promrun.prom

setup_file() {
	load 'test_helper/sysroot'
	local reason san=''
	reason=$(sysroot_unavailable) && skip "$reason"
	export TOP
	TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	grep -q fsanitize "$PROMRUN_BUILD/flags" && san=1
	sysroot_sanitizer_env "$BATS_FILE_TMPDIR/sysroot" "$san"
	SYSROOT_BIND="$TOP $PROMRUN_BUILD" sysroot_boot "$BATS_FILE_TMPDIR/sysroot"
	# The real install, with the suite's build (nothing is compiled: the
	# tree is read-only in the root).
	sysroot_run make -s -C "$TOP" install BUILD="$PROMRUN_BUILD" \
	    SANITIZE="$san" >"$BATS_FILE_TMPDIR/install.log"
	sysroot_run systemd-sysusers promrun.conf
	sysroot_run systemd-tmpfiles --create promrun.conf
	# Services of a user's: one that succeeds, one that exits 3, one that
	# outlives its start timeout; each runs as a dynamic user (so only the
	# drop-in's group lets it append) and gets the drop-in as the README
	# says.
	local job
	for job in 'ok /bin/true' 'fail /bin/sh -c "exit 3"' \
	    'slow /bin/sleep 30'; do
		printf '[Service]\nType=oneshot\nDynamicUser=yes\nTimeoutStartSec=1\nExecStart=%s\n' \
		    "${job#* }" | sysroot_write "/etc/systemd/system/job-${job%% *}.service"
		sysroot_sh 'mkdir -p "$1" && ln -s /usr/local/share/promrun/systemd/promrun-record.conf "$1/"' \
		    "/etc/systemd/system/job-${job%% *}.service.d"
	done
	sysroot_run systemctl daemon-reload
}

teardown_file() {
	load 'test_helper/sysroot'
	sysroot_shutdown
}

setup() {
	load 'test_helper/common-setup'
	_common_setup
	load 'test_helper/sysroot'
}

# textfile_value 'name{labels}': that series' value in the textfile.
textfile_value() {
	sysroot_run cat "$TEXTFILE" >"$BATS_TEST_TMPDIR/promrun.prom" &&
	    sample_value "$BATS_TEST_TMPDIR/promrun.prom" "$1"
}

# payloads: the journal's records, one per line.
payloads() {
	sysroot_run "$PROMRUN_BUILD/test/journal-dump" /var/lib/promrun/journal |
	    sed '/^# /d'
}

# modes PATH...: "MODE USER GROUP PATH" of each, inside.
modes() {
	sysroot_run stat -c '%a %U %G %n' "$@"
}

@test "make install, systemd-sysusers and systemd-tmpfiles: the user, the directories and the link, and node_exporter's directory left as it was" {
	# The suite's programs are the installed ones.
	sysroot_run cmp "$PROMRUN_BUILD/promrun-render" /usr/local/bin/promrun-render
	run sysroot_run id promrun
	assert_success
	assert_output --regexp '^uid=[0-9]+\(promrun\) gid=[0-9]+\(promrun\) groups=[0-9]+\(promrun\)$'
	run modes /var/lib/promrun /var/lib/promrun/journal \
	    /var/lib/promrun/journal.lock /var/lib/promrun/textfile
	assert_output '2771 promrun promrun /var/lib/promrun
660 promrun promrun /var/lib/promrun/journal
660 promrun promrun /var/lib/promrun/journal.lock
755 promrun promrun /var/lib/promrun/textfile'
	run sysroot_run readlink /var/lib/prometheus/node-exporter/promrun.prom
	assert_output "$TEXTFILE"
	# Debian's package made the directory root's, 0755, without an ACL;
	# it still is.
	run modes /var/lib/prometheus/node-exporter
	assert_output "$(stat -c '%a %U %G %n' /var/lib/prometheus/node-exporter)"
	run sysroot_run /usr/bin/python3 -c 'import os, sys; print(os.listxattr(sys.argv[1]))' \
	    /var/lib/prometheus/node-exporter
	assert_output '[]'
}

@test "promrun-render.path renders when the journal changes; the files render makes have the promised owners and modes" {
	sysroot_run systemctl enable --now promrun-render.path
	run sysroot_run systemctl show -P ActiveState promrun-render.path
	assert_output active
	sysroot_run promrun-record -j /var/lib/promrun/journal -w path-test -s success
	sysroot_until 20 grep -q 'workflow="path-test"' "$TEXTFILE"
	run textfile_value 'ci_workflow_runs_total{workflow="path-test",status="success"}'
	assert_output 1
	sysroot_wait promrun-render.service ActiveState inactive
	run sysroot_run systemctl show -P Result promrun-render.service
	assert_output success
	# The textfile and the checkpoint are the promrun user's, group
	# promrun (the directory's set-group-ID bit); the textfile has
	# [render] mode's default, the journal and its lock keep theirs.
	run modes "$TEXTFILE" /var/lib/promrun/journal.checkpoint \
	    /var/lib/promrun/journal /var/lib/promrun/journal.lock
	assert_output "644 promrun promrun $TEXTFILE
644 promrun promrun /var/lib/promrun/journal.checkpoint
660 promrun promrun /var/lib/promrun/journal
660 promrun promrun /var/lib/promrun/journal.lock"
	run sysroot_sh 'ls -A /var/lib/promrun/textfile'
	assert_output promrun.prom
}

@test "promrun-render.timer fires every minute as shipped, and starts the render" {
	run sysroot_run systemctl show -P TimersCalendar promrun-render.timer
	assert_output --regexp '^\{ OnCalendar=\*-\*-\* \*:\*:00 ; next_elapse=.* \}$'
	# A minute is too long to wait: a drop-in makes it every 2 seconds.
	printf '[Timer]\nOnCalendar=\nOnCalendar=*:*:0/2\nAccuracySec=1ms\n' |
	    sysroot_write /etc/systemd/system/promrun-render.timer.d/test.conf
	sysroot_run systemctl daemon-reload
	local before
	before=$(sysroot_run systemctl show -P InvocationID promrun-render.service)
	sysroot_run systemctl start promrun-render.timer
	sysroot_until 10 sh -c '[ "$(systemctl show -P LastTriggerUSecMonotonic promrun-render.timer)" != 0 ]'
	sysroot_until 10 sh -c '[ "$(systemctl show -P InvocationID promrun-render.service)" != "$1" ]' \
	    sh "$before"
	sysroot_run systemctl stop promrun-render.timer
	sysroot_run rm -r /etc/systemd/system/promrun-render.timer.d
	sysroot_run systemctl daemon-reload
	sysroot_wait promrun-render.service ActiveState inactive
	run sysroot_run systemctl show -P Result promrun-render.service
	assert_output success
}

# ran JOB RESULT: start job-JOB.service, and wait until its run is over
# (ExecStopPost= done) with systemd's RESULT.
ran() {
	sysroot_run systemctl start "job-$1.service" || true
	sysroot_wait "job-$1.service" Result "$2"
	sysroot_until 10 sh -c '[ "$(systemctl show -P ActiveState "$1")" != activating ] &&
	    [ "$(systemctl show -P ActiveState "$1")" != deactivating ]' sh "job-$1.service"
}

# invocation UNIT: the one invocation ID systemd's journal has for UNIT.
invocation() {
	local ids
	ids=$(sysroot_run journalctl --no-pager -o verbose -u "$1" |
	    sed -n 's/^ *INVOCATION_ID=//p' | sort -u)
	[ -n "$ids" ] && [ "$(wc -l <<<"$ids")" -eq 1 ] || {
		echo "$1: invocations: $ids" >&2
		return 1
	}
	echo "$ids"
}

@test "services with the drop-in record success, failure and timeout as systemd reports them" {
	ran ok success
	ran fail exit-code
	ran slow timeout
	# What systemd reports: each run's invocation (in its journal: a
	# finished dynamic-user unit is unloaded), the fail job's status, and
	# a slow job killed by SIGTERM.
	local ok fail slow
	ok=$(invocation job-ok.service)
	fail=$(invocation job-fail.service)
	slow=$(invocation job-slow.service)
	run sysroot_run systemctl show -P ExecMainStatus job-fail.service
	assert_output 3
	run sysroot_run systemctl show -P ExecMainStatus job-slow.service
	assert_output 15
	run payloads
	assert_success
	assert_line --regexp "^start time=[0-9.]+ workflow=job-ok run_id=$ok\$"
	assert_line --regexp "^finish time=[0-9.]+ workflow=job-ok run_id=$ok status=success exit_code=0\$"
	assert_line --regexp "^start time=[0-9.]+ workflow=job-fail run_id=$fail\$"
	assert_line --regexp "^finish time=[0-9.]+ workflow=job-fail run_id=$fail status=failure exit_code=3\$"
	assert_line --regexp "^start time=[0-9.]+ workflow=job-slow run_id=$slow\$"
	assert_line --regexp "^finish time=[0-9.]+ workflow=job-slow run_id=$slow status=timeout exit_code=143\$"
	# The path unit renders each run.
	sysroot_until 20 grep -q 'workflow="job-slow",status="timeout"} 1' "$TEXTFILE"
	local job status
	for job in ok:success fail:failure slow:timeout; do
		status=${job#*:} job=${job%:*}
		run textfile_value "ci_workflow_runs_total{workflow=\"job-$job\",status=\"$status\"}"
		assert_output 1
		run textfile_value "ci_workflow_in_progress{workflow=\"job-$job\"}"
		assert_output 0
	done
	run textfile_value 'ci_workflow_up{workflow="job-ok"}'
	assert_output 1
	run textfile_value 'ci_workflow_up{workflow="job-fail"}'
	assert_output 0
	# The slow job's start and finish were matched: it ran for its
	# 1 s timeout and a little more.
	run textfile_value 'ci_workflow_last_run_duration_seconds{workflow="job-slow"}'
	assert_success
	awk -v d="$output" 'BEGIN { exit !(d >= 1 && d < 10) }'
}

@test "the render service runs as promrun and may write nothing outside ReadWritePaths=" {
	# A directory the promrun user owns, outside the sandbox's writable
	# paths: only the sandbox keeps it out.
	sysroot_sh 'install -d -o promrun -g promrun -m 0755 /var/lib/promrun-elsewhere'
	sysroot_write /etc/promrun-test/probe <<'EOF'
#!/bin/sh
# probe OUT: who runs this, and where it may create a file.
{
	echo "user $(id -un) group $(id -gn) groups $(id -Gn)"
	for d in /var/lib/promrun /var/lib/promrun/textfile \
	    /var/lib/promrun-elsewhere /var/lib/prometheus/node-exporter \
	    /etc/promrun /usr/local/bin; do
		if err=$(touch "$d/probe" 2>&1); then
			echo "$d: written"
			rm -f "$d/probe"
		else
			echo "$d: ${err##*: }"
		fi
	done
} >"$1"
EOF
	printf '[Service]\nExecStart=\nExecStart=/bin/sh /etc/promrun-test/probe /var/lib/promrun/probe.out\n' |
	    sysroot_write /etc/systemd/system/promrun-render.service.d/probe.conf
	sysroot_run systemctl daemon-reload
	run sysroot_run systemctl start promrun-render.service
	sysroot_run rm -r /etc/systemd/system/promrun-render.service.d
	sysroot_run systemctl daemon-reload
	assert_success
	run sysroot_run cat /var/lib/promrun/probe.out
	assert_output 'user promrun group promrun groups promrun
/var/lib/promrun: written
/var/lib/promrun/textfile: written
/var/lib/promrun-elsewhere: Read-only file system
/var/lib/prometheus/node-exporter: Read-only file system
/etc/promrun: Read-only file system
/usr/local/bin: Read-only file system'
	# The same probe as the same user outside the sandbox writes its own
	# directory: the refusal above is the sandbox's.
	run sysroot_run setpriv --reuid=promrun --regid=promrun --init-groups \
	    /bin/sh /etc/promrun-test/probe /var/lib/promrun/probe.out
	assert_success
	run sysroot_run grep elsewhere /var/lib/promrun/probe.out
	assert_output '/var/lib/promrun-elsewhere: written'
}
