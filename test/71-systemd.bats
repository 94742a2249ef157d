#!/usr/bin/env bats
# systemd/: the units pass systemd's own checks and sandbox scores, their
# command lines work as written, they agree on the paths they share, and
# sysusers.d and tmpfiles.d give each user exactly the access it needs.
# A staged copy (test_helper/systemd) points the units' paths into the test;
# no running systemd is needed.

setup() {
	load 'test_helper/systemd'
	load 'test_helper/common-setup'
	_common_setup
	command -v systemd-analyze >/dev/null ||
	    skip "systemd-analyze is not installed (Debian package systemd)"
	units_stage "$BATS_TEST_TMPDIR/units"
	# systemd-analyze verify looks up Documentation=man: pages.
	mkdir -p "$BATS_TEST_TMPDIR/man/man1"
	ln -s "$BATS_TEST_DIRNAME"/../cmd/*/*.1 "$BATS_TEST_TMPDIR/man/man1/"
	export MANPATH="$BATS_TEST_TMPDIR/man"
	cd "$UNITS"
}

@test "systemd-analyze verify passes on every unit and on a service with the drop-in, without a warning" {
	run systemd-analyze verify ./*.service ./*.socket ./*.path ./*.timer
	assert_success
	assert_output ''
	# The drop-in's ExecStartPre=-... is not checked for a binary ("-"
	# ignores failure), its keys are: a misspelled one is reported.
	cp --remove-destination promrun-record.conf example-job.service.d/
	echo 'SupplementaryGroup=promrun' >>example-job.service.d/promrun-record.conf
	run systemd-analyze verify ./example-job.service
	assert_output --partial "Unknown key 'SupplementaryGroup' in section [Service]"
	cp promrun-record.conf example-job.service.d/
	run systemd-analyze verify ./example-job.service
	assert_success
	assert_output ''
}

teardown() {
	stop_pid "${STUB_PID:-}"
}

# exposure UNIT: the "Overall exposure level" systemd-analyze security gives.
exposure() {
	systemd-analyze security --offline=true "./$1" |
	    sed -n "s/^→ Overall exposure level for $1: \([0-9.]*\) .*/\1/p"
}

@test "systemd-analyze security rates promrun-render, promrun-push, promrun-remote-write and promrun-serve at 2.0 or lower" {
	for unit in promrun-render.service promrun-push.service promrun-remote-write.service \
	    promrun-serve.service; do
		score=$(exposure "$unit")
		echo "$unit: $score"
		[[ $score =~ ^[0-9]+\.[0-9]$ ]]
		awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'
	done
	# The same check sees an unhardened unit.
	printf '[Service]\nExecStart=%s\n' "$(unit_value promrun-render.service ExecStart)" >bare.service
	score=$(exposure bare.service)
	awk -v s="$score" 'BEGIN { exit !(s > 9.0) }'
}

@test "the units agree on the journal, the textfile and the sandbox's writable directories" {
	mapfile -t render < <(unit_command promrun-render.service ExecStart promrun-render.service)
	mapfile -t push < <(unit_command promrun-push.service ExecStart promrun-push.service)
	# promrun-render -j JOURNAL -o TEXTFILE
	assert_equal "${render[*]:1:4}" "-j $STATE/journal -o $TEXTFILE/promrun.prom"
	assert_equal "$(unit_value promrun-render.path PathChanged)" "$STATE/journal"
	assert_equal "$(unit_value promrun-render.service ReadWritePaths)" "$STATE"
	assert_equal "${push[-1]}" "$TEXTFILE/promrun.prom"
	# tmpfiles.d makes the textfile's directory; make install links
	# node_exporter's directory to that very file.
	run grep -c "^d $TEXTFILE " tmpfiles.d/promrun.conf
	assert_output 1
	run sed -n 's/^TEXTFILE *= *//p' "$BATS_TEST_DIRNAME/../Makefile"
	assert_output "${TEXTFILE/#$STATE/$UNIT_STATEDIR}/promrun.prom"
	mapfile -t rw < <(unit_command promrun-remote-write.service ExecStart promrun-remote-write.service)
	assert_equal "${rw[*]:1:2}" "--mode remote-write"
	assert_equal "${rw[-1]}" "$TEXTFILE/promrun.prom"
	assert_equal "$(unit_value promrun-remote-write.timer Unit)" promrun-remote-write.service
	for key in ExecStartPre ExecStopPost; do
		mapfile -t record < <(unit_command promrun-record.conf "$key" x.service)
		assert_equal "${record[*]:1:2}" "-j $STATE/journal"
	done
	assert_equal "$(unit_value promrun-record.conf ReadWritePaths)" "-$STATE"
	assert_equal "$(unit_value promrun-render.timer Unit)" promrun-render.service
	assert_equal "$(unit_value promrun-render.path Unit)" promrun-render.service
	assert_equal "$(unit_value promrun-push.timer Unit)" promrun-push.service
	# Render is the only writer of the textfile; push writes nothing;
	# remote write only its own state directory, which systemd makes.
	run unit_value promrun-push.service ReadWritePaths
	assert_output ''
	run unit_value promrun-remote-write.service ReadWritePaths
	assert_output ''
	assert_equal "$(unit_value promrun-remote-write.service StateDirectory)" promrun-push
	assert_equal "$(unit_value promrun-remote-write.service StateDirectoryMode)" 0700
	assert_equal "$(unit_value promrun-render.service PrivateNetwork)" yes
}

@test "the receiver's socket and service agree: the default address, the data directory the sandbox lets it write, reload by SIGHUP" {
	assert_equal "$(unit_value promrun-serve.socket ListenStream)" 127.0.0.1:9089
	run promrun-serve --help
	assert_output --partial 'default 127.0.0.1:9089'
	mapfile -t serve < <(unit_command promrun-serve.service ExecStart promrun-serve.service)
	assert_equal "${serve[*]:1}" "-d $STATE/serve"
	assert_equal "$(unit_value promrun-serve.service ReadWritePaths)" "$STATE/serve"
	assert_equal "$(unit_value promrun-serve.service Requires)" promrun-serve.socket
	assert_equal "$(unit_value promrun-serve.service ExecReload)" '/bin/kill -HUP $MAINPID'
	# The socket is passed in: the service has no network of its own.
	assert_equal "$(unit_value promrun-serve.service PrivateNetwork)" yes
	run grep -cE "^d $STATE/serve +0750 promrun promrun -\$" "$UNITS/tmpfiles.d/promrun.conf"
	assert_output 1
}

@test "the receiver's command line, run by hand with the socket passed as systemd passes it, records a post" {
	command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate is not installed"
	mapfile -t serve < <(unit_command promrun-serve.service ExecStart promrun-serve.service)
	port=$(free_port)
	systemd-socket-activate -l "127.0.0.1:$port" "${serve[@]}" >"$BATS_TEST_TMPDIR/serve.log" 2>&1 3>&- &
	pid=$!
	wait_listening "$port" "$pid"
	run curl -sS -X POST -H 'Content-Type: application/json' -d '{"workflow": "w", "status": "ok"}' \
	    -w '%{http_code}' -o /dev/null "http://127.0.0.1:$port/api/v1/runs"
	assert_output 201
	kill "$pid"
	wait "$pid" || true
	run journal_payloads "$STATE/serve/default/journal"
	assert_output --regexp '^run time=[0-9.]+ workflow=w status=success$'
}

@test "the render unit's command line, run by hand, renders the journal into the textfile" {
	printf '[journal]\nlabels = repo\n' >"$CONF"
	promrun-record -j "$STATE/journal" -w build -s failure -d 30 -l repo=promrun
	run unit_run promrun-render.service ExecStart promrun-render.service
	assert_success
	assert_output ''
	run sample_value "$TEXTFILE/promrun.prom" 'ci_workflow_runs_total{workflow="build",status="failure",repo="promrun"}'
	assert_output 1
	run stat -c %a "$TEXTFILE/promrun.prom"
	assert_output 644
	[ -f "$STATE/journal.checkpoint" ]
}

@test "the remote-write unit's command line, run by hand, sends the textfile and keeps its state where systemd's StateDirectory= points" {
	load 'test_helper/pushgateway'
	printf '[journal]\nlabels = repo\n' >"$CONF"
	promrun-record -j "$STATE/journal" -w build -s success -d 3
	unit_run promrun-render.service ExecStart promrun-render.service
	stub_start "$BATS_TEST_TMPDIR/stub" status 204
	printf '[push]\nremote_write_url = %s/api/v1/write\n' "$STUB_URL" >"$CONF"
	# systemd sets STATE_DIRECTORY for a unit with StateDirectory=.
	mkdir -m 700 "$BATS_TEST_TMPDIR/promrun-push"
	STATE_DIRECTORY="$BATS_TEST_TMPDIR/promrun-push" run unit_run promrun-remote-write.service ExecStart promrun-remote-write.service
	stub_stop
	assert_success
	assert_output ''
	[ "$(stub_requests "$BATS_TEST_TMPDIR/stub")" -eq 1 ]
	state-dump "$BATS_TEST_TMPDIR"/promrun-push/remote-write-127.0.0.1_*.state >"$BATS_TEST_TMPDIR/dump"
	run grep -c "instance=\"$(uname -n)\",job=\"promrun\"" "$BATS_TEST_TMPDIR/dump"
	assert_output "$(grep -vc '^#' "$TEXTFILE/promrun.prom")"
}

@test "the drop-in's commands record each run of the service with its outcome from systemd" {
	export INVOCATION_ID=4a1f0c9e2b7d4e55a0d1c3b5e7f90a12
	run unit_run promrun-record.conf ExecStartPre example-job.service
	assert_success
	export SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=3
	run unit_run promrun-record.conf ExecStopPost example-job.service
	assert_success
	run journal_payloads "$STATE/journal"
	assert_line --index 0 --regexp "^start time=[0-9.]+ workflow=example-job run_id=$INVOCATION_ID\$"
	assert_line --index 1 --regexp "^finish time=[0-9.]+ workflow=example-job run_id=$INVOCATION_ID status=failure exit_code=3\$"
	unit_run promrun-render.service ExecStart promrun-render.service
	run sample_value "$TEXTFILE/promrun.prom" 'ci_workflow_runs_total{workflow="example-job",status="failure"}'
	assert_output 1
	run sample_value "$TEXTFILE/promrun.prom" 'ci_workflow_in_progress{workflow="example-job"}'
	assert_output 0
}

# as UID GIDS COMMAND...: run COMMAND as user UID with groups GIDS (the
# first the primary group; "" for none besides its own).
as() {
	local uid=$1 groups=$2
	shift 2
	if [ -n "$groups" ]; then
		setpriv --reuid="$uid" --regid="${groups%%,*}" --groups="$groups" "$@"
	else
		setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
	fi
}

@test "sysusers.d and tmpfiles.d: services in group promrun append, the promrun user renders, node_exporter's reads through the link, nobody else writes" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to create users in a root directory and switch to them"
	R=$BATS_TEST_TMPDIR/root
	mkdir -p "$R/etc"
	run systemd-sysusers --root="$R" "$UNITS/sysusers.d/promrun.conf"
	assert_success
	uid=$(awk -F: '$1 == "promrun" { print $3 }' "$R/etc/passwd")
	gid=$(awk -F: '$1 == "promrun" { print $3 }' "$R/etc/group")
	[ -n "$uid" ] && [ -n "$gid" ]
	run systemd-tmpfiles --create --root="$R" "$UNITS/tmpfiles.d/promrun.conf"
	assert_success
	assert_output ''
	run stat -c '%a %u %g' "$R$STATE" "$R$STATE/journal" "$R$STATE/journal.lock" \
	    "$R$TEXTFILE"
	assert_output "2771 $uid $gid
660 $uid $gid
660 $uid $gid
755 $uid $gid"
	# The users below must reach the root through the test's directories.
	chmod o+x "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR" \
	    "$UNITS"
	export PROMRUN_CONFIG=/dev/null
	# A service running as any user, with the drop-in's
	# SupplementaryGroups=promrun, appends; without the group it cannot.
	as 4242 "4242,$gid" promrun-record -j "$R$STATE/journal" -w job -s success --time 2020-01-01T00:00:00Z
	run --separate-stderr as 4242 "" promrun-record -j "$R$STATE/journal" -w job -s failure
	assert_failure 1
	assert_equal "$stderr" "promrun-record: cannot open lock file $R$STATE/journal.lock: Permission denied"
	# The promrun user renders into its textfile directory; a member of its
	# group may not write there.
	run as "$uid" "$gid" promrun-render -j "$R$STATE/journal" -o "$R$TEXTFILE/promrun.prom"
	assert_success
	run sample_value "$R$TEXTFILE/promrun.prom" 'ci_workflow_runs_total{workflow="job",status="success"}'
	assert_output 1
	run as 4242 "4242,$gid" promrun-render -j "$R$STATE/journal" -o "$R$TEXTFILE/other.prom"
	assert_failure 1
	# node_exporter's user, in neither group, reads the textfile through
	# the link in its own directory (root's, 0755: make install adds only
	# the link), and can neither list promrun's directory nor read the
	# journal.
	mkdir -p "$R$NODE_TEXTFILE"
	chmod 755 "$R$NODE_TEXTFILE"
	ln -s "$R$TEXTFILE/promrun.prom" "$R$NODE_TEXTFILE/"
	run as 4343 "" cat "$R$NODE_TEXTFILE/promrun.prom"
	assert_success
	assert_output "$(cat "$R$TEXTFILE/promrun.prom")"
	run as 4343 "" ls "$R$STATE"
	assert_failure
	run as 4343 "" cat "$R$STATE/journal"
	assert_failure
	# Files the promrun user creates in the journal's directory keep the
	# group, so the services can still append after compaction.
	inode=$(stat -c %i "$R$STATE/journal")
	as "$uid" "$gid" promrun-render -j "$R$STATE/journal" -o - --compact >/dev/null
	run stat -c '%a %g' "$R$STATE/journal"
	assert_output "660 $gid"
	[ "$(stat -c %i "$R$STATE/journal")" != "$inode" ]
	as 4242 "4242,$gid" promrun-record -j "$R$STATE/journal" -w job -s success
}
