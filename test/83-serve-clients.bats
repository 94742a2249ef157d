#!/usr/bin/env bats
# promrun-serve's clients: promrun-record --server and promrun-ci --server
# against a real promrun-serve, and the plain-curl snippets of examples/
# run as their CI runs them.  A run lands once, with the fields a local
# record would have; bad input is refused before anything is sent; the
# token never shows; retries reuse the run id, so a receiver that is down
# at first, or dies between storing a run and answering, still counts it
# once; waits are bounded.  The HTTP stub plays what a real receiver cannot
# be made to do (never answer, answer 5xx, lose its answer).

setup() {
	load 'test_helper/serve'
	load 'test_helper/pushgateway'	# stub_start: the HTTP stub
	_common_setup
	HOOK="$BATS_TEST_DIRNAME/../scripts/promrun-ci"
	EXAMPLES="$BATS_TEST_DIRNAME/../examples"
	# The client's own configuration: quick retries, unless a test says.
	CLIENT="$BATS_TEST_TMPDIR/client.ini"
	printf '[record]\ntimeout = 5\nretries = 4\n' >"$CLIENT"
	unset PROMRUN_TOKEN
	load 'test_helper/ci-env'
	ci_env_clear
}

teardown() {
	serve_stop
	stop_pid "${STUB_PID:-}"
	stop_background
}

# requests: how many requests the receiver has logged.
requests() {
	grep -c ' /api/v1/runs ' "$SERVE_LOG" || true
}

# orgs_config: serve_orgs_config's organizations acme and umbrella, with
# the labels promrun-ci sets allowed (org, repo, branch, runner).
orgs_config() {
	serve_orgs_config
	sed -i 's/^labels = .*/labels = org, repo, branch, runner/' "$CONF"
}

# serve_on PORT: promrun-serve on a port chosen beforehand (DATA, SERVE_LOG
# as serve_start).
serve_on() {
	SERVE_PORT=$1
	SERVE_URL="http://127.0.0.1:$SERVE_PORT"
	DATA="$BATS_TEST_TMPDIR/data"
	SERVE_LOG="$BATS_TEST_TMPDIR/serve.log"
	server_start "$SERVE_LOG" "$SERVE_PORT" promrun-serve \
	    -l "127.0.0.1:$SERVE_PORT" -d "$DATA"
	SERVE_PID=$SERVER_PID
	export DATA SERVE_PORT SERVE_URL SERVE_PID SERVE_LOG
}

@test "--server: the run lands with the fields a local record has; its retry is a duplicate; a run id is made when none is given" {
	orgs_config
	serve_start
	export PROMRUN_TOKEN
	PROMRUN_TOKEN=$(token acme.write)
	local now
	now=$(($(date +%s) - 60)).0571678
	run --separate-stderr promrun-record -c "$CLIENT" --server "$SERVE_URL" \
	    -w build -s failed -e 3 -d 12.5 --run-id 42 -l repo=app -v --time "$now"
	assert_success
	assert_output ''
	assert_regex "${stderr_lines[0]}" "^promrun-record: POST $SERVE_URL/api/v1/runs: run of build, run id 42, [0-9]+ bytes\$"
	assert_regex "${stderr_lines[1]}" '^promrun-record: attempt 1: HTTP 201 in [0-9.]+ ms$'
	assert_equal "${stderr_lines[2]}" 'promrun-record: answer: {"result":"recorded","recorded":1,"duplicates":0,"runs":[{"index":0,"result":"recorded"}]}'
	[[ $stderr != *"$PROMRUN_TOKEN"* ]]
	# The same run as a local record, the receiver's org label added.
	promrun-record -j "$J" -w build -s failed -e 3 -d 12.5 --run-id 42 -l repo=app --time "$now"
	run journal_lines acme
	assert_output "$(journal_payloads "$J" | sed 's/$/ label.org=acme/')"
	# Sent again (a retry whose answer was lost): a duplicate, exit 0.
	run --separate-stderr promrun-record -c "$CLIENT" --server "$SERVE_URL" \
	    -w build -s failed -e 3 -d 12.5 --run-id 42 -l repo=app -v
	assert_success
	assert_equal "${stderr_lines[2]}" 'promrun-record: answer: {"result":"duplicate","recorded":0,"duplicates":1,"runs":[{"index":0,"result":"duplicate"}]}'
	# No --run-id: one is made, so two runs are two records.
	promrun-record -c "$CLIENT" --server "$SERVE_URL/" -w cron -s ok
	promrun-record -c "$CLIENT" --server "$SERVE_URL" -w cron -s ok
	run journal_lines acme
	assert_equal "${#lines[@]}" 3
	assert_line --index 1 --regexp '^run time=[0-9.]+ workflow=cron run_id=[0-9a-f]{16} status=success label.org=acme$'
	[ "${lines[1]}" != "${lines[2]}" ]
	run curl -fsS -H "Authorization: Bearer $(token acme.read)" "$SERVE_URL/prom/acme/metrics"
	assert_line 'chainloop_workflow_up{org="acme",workflow="cron"} 1'
	# Start and finish, two calls with one run id.
	promrun-record -c "$CLIENT" --server "$SERVE_URL" -w deploy --start --run-id d-1 --time "${now%.*}"
	promrun-record -c "$CLIENT" --server "$SERVE_URL" -w deploy --finish --run-id d-1 -s ok --time "${now%.*}.25"
	run journal_lines acme
	assert_line --index 3 "start time=${now%.*} workflow=deploy run_id=d-1 label.org=acme"
	assert_line --index 4 "finish time=${now%.*}.25 workflow=deploy run_id=d-1 status=success label.org=acme"
}

@test "the token: --token-file or PROMRUN_TOKEN; a wrong one is a 401, exit 1, never shown; never on the command line" {
	orgs_config
	serve_start
	printf 'wrong-%s\n' "$(token umbrella.read)" >"$BATS_TEST_TMPDIR/wrong"
	run --separate-stderr promrun-record -c "$CLIENT" --server "$SERVE_URL" \
	    --token-file "$BATS_TEST_TMPDIR/wrong" -w build -s ok -v
	assert_failure 1
	assert_equal "${stderr_lines[-1]}" "promrun-record: $SERVE_URL/api/v1/runs refused the run (HTTP 401): {\"error\":\"missing or invalid bearer token: give Authorization: Bearer <write token>\"}"
	[[ $stderr != *"$(token umbrella.read)"* ]]
	# 401 is final: one attempt.
	assert_equal "$(grep -c 'attempt' <<<"$stderr")" 1
	PROMRUN_TOKEN=$(token umbrella.read) run --separate-stderr \
	    promrun-record -c "$CLIENT" --server "$SERVE_URL" -w build -s ok
	assert_failure 1
	[[ $stderr != *"$(token umbrella.read)"* ]]
	[ ! -e "$DATA/umbrella/journal" ] && [ ! -e "$DATA/acme/journal" ]
	# The right ones, from a file and from the environment.
	promrun-record -c "$CLIENT" --server "$SERVE_URL" --token-file "$TOKENS/umbrella.write" -w build -s ok
	PROMRUN_TOKEN=$(token acme.write) promrun-record -c "$CLIENT" --server "$SERVE_URL" -w build -s ok
	run journal_lines umbrella
	assert_output --partial 'label.org=umbrella'
	run journal_lines acme
	assert_output --partial 'label.org=acme'
	# Token files as push's secret files: named, never shown; exit 2
	# before anything is sent.
	local before
	before=$(requests)
	printf 'line1\nline2\n' >"$BATS_TEST_TMPDIR/two"
	: >"$BATS_TEST_TMPDIR/empty"
	run -2 --separate-stderr promrun-record --server "$SERVE_URL" --token-file "$BATS_TEST_TMPDIR/two" -w b -s ok
	assert_equal "$stderr" "promrun-record: token file $BATS_TEST_TMPDIR/two holds more than one line: put only the token in it"
	run -2 --separate-stderr promrun-record --server "$SERVE_URL" --token-file "$BATS_TEST_TMPDIR/empty" -w b -s ok
	assert_equal "$stderr" "promrun-record: token file $BATS_TEST_TMPDIR/empty is empty"
	run -2 --separate-stderr promrun-record --server "$SERVE_URL" --token-file "$BATS_TEST_TMPDIR/none" -w b -s ok
	assert_equal "$stderr" "promrun-record: cannot read token file $BATS_TEST_TMPDIR/none: No such file or directory"
	PROMRUN_TOKEN=$'a\nb' run -2 --separate-stderr promrun-record --server "$SERVE_URL" -w b -s ok
	assert_equal "$stderr" 'promrun-record: PROMRUN_TOKEN must be one line of at most 4096 bytes'
	# A token on the command line is refused, and not repeated.
	run -2 --separate-stderr promrun-record --server "$SERVE_URL" --token s3cr3t -w b -s ok
	assert_equal "$stderr" 'promrun-record: a token is not accepted on the command line: use --token-file FILE or PROMRUN_TOKEN (see promrun-record --help)'
	run -2 --separate-stderr promrun-record --server "$SERVE_URL" --token=s3cr3t -w b -s ok
	[[ $stderr != *s3cr3t* ]]
	assert_equal "$(requests)" "$before"
}

@test "bad input is refused as a local record is, exit 2, before anything is sent; bad server URLs too" {
	serve_start
	refused() {
		local want=$1
		shift
		run -2 --separate-stderr promrun-record -c "$CLIENT" "$@"
		assert_equal "$stderr" "promrun-record: $want"
	}
	refused 'unknown status "bogus": use success, failure, cancelled or timeout (also accepted: failed, error, canceled, aborted, timed_out, ...)' \
	    --server "$SERVE_URL" -w build -s bogus
	# Local records may hold control characters; the receiver takes none,
	# so the client refuses them too.
	promrun-record -j "$J" -w build -s ok -l "note=a$(printf '\t')b"
	run -2 --separate-stderr promrun-record -c "$CLIENT" --server "$SERVE_URL" -w build -s ok -l "note=a$(printf '\t')b"
	assert_regex "$stderr" '^promrun-record: .*control character'
	refused '--finish needs --run-id ID to match the start with the finish' --server "$SERVE_URL" -w build --finish -s ok
	refused 'invalid server URL "ftp://h:21": use http://HOST:PORT or https://HOST:PORT' \
	    --server ftp://h:21 -w build -s ok
	refused 'the server URL holds credentials, which would show in ps and in messages: give the token with --token-file FILE or PROMRUN_TOKEN' \
	    --server "http://u:s3cr3t@127.0.0.1:$SERVE_PORT" -w build -s ok
	refused "server URL \"$SERVE_URL/?x=1\" has a query or fragment: give only http(s)://HOST:PORT[/PATH]" \
	    --server "$SERVE_URL/?x=1" -w build -s ok
	refused "server URL \"$SERVE_URL/api/v1/runs\" names the endpoint: give the receiver's base URL, such as http://HOST:PORT" \
	    --server "$SERVE_URL/api/v1/runs" -w build -s ok
	refused '-j and --server exclude each other: a run is appended to a journal or posted to a server (see promrun-record --help)' \
	    --server "$SERVE_URL" -j "$J" -w build -s ok
	printf '[record]\ntimeout = 0\n' >"$BATS_TEST_TMPDIR/bad.ini"
	refused "$BATS_TEST_TMPDIR/bad.ini:2: [record] timeout = \"0\": use seconds (10, 2.5) or a duration (10s, 500ms, 1m) above 0 and at most 1h" \
	    -c "$BATS_TEST_TMPDIR/bad.ini" --server "$SERVE_URL" -w build -s ok
	assert_equal "$(requests)" 0
	[ ! -e "$DATA/default/journal" ]
}

@test "a run the receiver refuses (its own label allow-list): exit 2, its one-line JSON error shown, nothing stored" {
	printf '[journal]\nlabels = repo\n' >"$CONF"
	serve_start
	: >"$CLIENT"
	run --separate-stderr promrun-record -c "$CLIENT" --server "$SERVE_URL" -w build -s ok -l team=core
	assert_failure 2
	assert_equal "$stderr" "promrun-record: $SERVE_URL/api/v1/runs refused the run (HTTP 400): {\"error\":\"label \\\"team\\\" is not in the configured allow-list ([journal] labels): use one of repo\",\"field\":\"labels\"}"
	[ ! -e "$DATA/default/journal" ] || [ ! -s "$DATA/default/journal" ]
}

@test "[record] server in the configuration: runs go there; -j sends them to a journal instead" {
	serve_start
	printf '[record]\nserver = %s\n' "$SERVE_URL" >"$CLIENT"
	promrun-record -c "$CLIENT" -w build -s ok --run-id 1
	run journal_lines default
	assert_output --regexp '^run time=[0-9.]+ workflow=build run_id=1 status=success$'
	promrun-record -c "$CLIENT" -j "$J" -w build -s ok --run-id 2
	run journal_payloads "$J"
	assert_output --regexp 'run_id=2 '
	run journal_lines default
	assert_equal "${#lines[@]}" 1
}

@test "the local path never loads libcurl: promrun-record links none (nor libm), and opens it only with --server" {
	command -v strace >/dev/null || skip "strace not installed"
	run ldd "$PROMRUN_BUILD/promrun-record"
	refute_output --partial libcurl
	# Nor libm (400 KiB of the 2 MiB RSS budget); ASan's runtime brings it.
	[ "${PROMRUN_SANITIZE:-}" = 1 ] || refute_output --partial libm.so
	serve_start
	strace_env strace -f -qq -e trace=openat -o "$BATS_TEST_TMPDIR/local" \
	    promrun-record -j "$J" -w build -s ok
	run grep -c 'libcurl' "$BATS_TEST_TMPDIR/local"
	assert_output 0
	strace_env strace -f -qq -e trace=openat -o "$BATS_TEST_TMPDIR/server" \
	    promrun-record -c "$CLIENT" --server "$SERVE_URL" -w build -s ok
	run grep 'libcurl.so.4' "$BATS_TEST_TMPDIR/server"
	assert_success
	run journal_lines default
	assert_equal "${#lines[@]}" 1
}

@test "wrapper mode: start and finish posted with one run id and the command's status; an unreachable receiver warns and holds nothing back" {
	serve_start
	run --separate-stderr promrun-record -c "$CLIENT" --server "$SERVE_URL" -w nightly -l repo=db -- sh -c 'echo out; exit 3'
	assert_failure 3
	assert_output out
	assert_equal "$stderr" ''
	run journal_lines default
	assert_line --index 0 --regexp '^start time=[0-9.]+ workflow=nightly run_id=([0-9a-f]{16}) label.repo=db$'
	local id=${lines[0]#*run_id=}
	id=${id%% *}
	assert_line --index 1 --regexp "^finish time=[0-9.]+ workflow=nightly run_id=$id status=failure duration=[0-9.]+ exit_code=3 label.repo=db\$"
	run curl -fsS "$SERVE_URL/metrics"
	assert_line 'ci_workflow_runs_total{workflow="nightly",status="failure",repo="db"} 1'
	assert_line 'ci_workflow_in_progress{workflow="nightly",repo="db"} 0'
	# Nobody listening: the command runs and keeps its status.  The start
	# is tried once (no retries: the command does not wait for it); the
	# finish gets the retries.
	printf '[record]\ntimeout = 2\nretries = 1\n' >"$CLIENT"
	local port
	port=$(free_port)
	run --separate-stderr promrun-record -c "$CLIENT" --server "http://127.0.0.1:$port" -v -w nightly -- sh -c 'exit 4'
	assert_failure 4
	assert_equal "$(grep -c 'warning: start not recorded: cannot post the run to' <<<"$stderr")" 1
	assert_equal "$(grep -c 'warning: finish not recorded: cannot post the run to .* (2 attempts)' <<<"$stderr")" 1
	assert_equal "$(grep -c 'attempt 1:' <<<"$stderr")" 2
	assert_equal "$(grep -c 'retry 1 of 1' <<<"$stderr")" 1
	# A command that cannot start is recorded as such.
	run -127 --separate-stderr promrun-record -c "$CLIENT" --server "$SERVE_URL" -w nightly -- /nonexistent/cmd
	assert_equal "$stderr" 'promrun-record: cannot run /nonexistent/cmd: No such file or directory'
	run journal_lines default
	assert_line --index 3 --regexp 'status=failure duration=[0-9.e-]+ exit_code=127$'
}

@test "faults: a receiver down at first and up during the retries gets the run once" {
	local port
	port=$(free_port)
	printf '[record]\ntimeout = 5\nretries = 6\n' >"$CLIENT"
	promrun-record -c "$CLIENT" --server "http://127.0.0.1:$port" -v -w build -s ok --run-id 7 \
	    2>"$BATS_TEST_TMPDIR/client.err" 3>&- &
	local client=$!
	sleep 0.5
	serve_on "$port"
	wait "$client"
	run cat "$BATS_TEST_TMPDIR/client.err"
	assert_line --index 1 --regexp '^promrun-record: attempt 1: (Failed to connect|Could not connect|Couldn.t connect).*'
	assert_line --regexp '^promrun-record: retry 1 of 6 in [0-9.]+ s$'
	assert_line --regexp '^promrun-record: attempt [2-7]: HTTP 201 in [0-9.]+ ms$'
	run journal_lines default
	assert_output --regexp '^run time=[0-9.]+ workflow=build run_id=7 status=success$'
}

@test "faults: a receiver killed after it stored the run, before the client got the answer: the retry is a duplicate, counted once" {
	serve_start
	# The proxy passes the post on, and drops the receiver's answer.
	stub_start "$BATS_TEST_TMPDIR/lossy" lossy "$SERVE_PORT" 1
	printf '[record]\ntimeout = 5\nretries = 8\n' >"$CLIENT"
	promrun-record -c "$CLIENT" --server "$STUB_URL" -v -w build -s ok --run-id 9 \
	    2>"$BATS_TEST_TMPDIR/client.err" 3>&- &
	local client=$!
	for _ in $(seq 100); do
		grep -q dropped "$BATS_TEST_TMPDIR/lossy/lossy" 2>/dev/null && break
		sleep 0.05
	done
	# Stored, answer lost: now the receiver dies, and comes back.
	run journal_lines default
	assert_output --regexp 'run_id=9 '
	kill -KILL "$SERVE_PID"
	wait "$SERVE_PID" || true	# 137, as meant: not serve_stop's business
	SERVE_PID=
	serve_restart
	wait "$client"
	run cat "$BATS_TEST_TMPDIR/client.err"
	assert_line --regexp '^promrun-record: attempt 1: .*(reset|Empty reply|Recv failure).*'
	assert_line 'promrun-record: answer: {"result":"duplicate","recorded":0,"duplicates":1,"runs":[{"index":0,"result":"duplicate"}]}'
	run journal_lines default
	assert_equal "${#lines[@]}" 1
	run curl -fsS "$SERVE_URL/metrics"
	assert_line 'ci_workflow_runs_total{workflow="build",status="success"} 1'
}

@test "faults: 5xx and 429 are retried with the same body, 4xx and redirects are final; a receiver that never answers costs attempts x timeout plus backoff" {
	printf '[record]\ntimeout = 5\nretries = 3\n' >"$CLIENT"
	stub_start "$BATS_TEST_TMPDIR/s1" status 503 429+1 500 201
	PROMRUN_TOKEN=t0ken run --separate-stderr promrun-record -c "$CLIENT" --server "$STUB_URL" -w build -s ok --run-id 5
	assert_success
	run grep -c '^REQUEST POST /api/v1/runs HTTP/1.1$' "$BATS_TEST_TMPDIR/s1/requests"
	assert_output 4
	# Every attempt: the same body (the run id in it), JSON, the token.
	run sort -u <(grep '^BODY ' "$BATS_TEST_TMPDIR/s1/requests")
	assert_equal "${#lines[@]}" 1
	run grep -c -e '^Authorization: Bearer t0ken$' "$BATS_TEST_TMPDIR/s1/requests"
	assert_output 4
	run grep -c -e '^Content-Type: application/json$' "$BATS_TEST_TMPDIR/s1/requests"
	assert_output 4
	stop_pid "$STUB_PID"
	stub_start "$BATS_TEST_TMPDIR/s2" status 404
	run -1 --separate-stderr promrun-record -c "$CLIENT" --server "$STUB_URL" -w build -s ok
	assert_equal "$stderr" "promrun-record: $STUB_URL/api/v1/runs refused the run (HTTP 404): stub answer 404"
	stop_pid "$STUB_PID"
	stub_start "$BATS_TEST_TMPDIR/s3" status 503
	printf '[record]\ntimeout = 5\nretries = 1\n' >"$CLIENT"
	run -1 --separate-stderr promrun-record -c "$CLIENT" --server "$STUB_URL" -w build -s ok
	assert_equal "$stderr" "promrun-record: $STUB_URL/api/v1/runs refused the run (HTTP 503, 2 attempts): stub answer 503"
	stop_pid "$STUB_PID"
	stub_start "$BATS_TEST_TMPDIR/s4" status 307
	run -1 --separate-stderr promrun-record -c "$CLIENT" --server "$STUB_URL" -w build -s ok
	assert_equal "$stderr" "promrun-record: $STUB_URL/api/v1/runs answered with a redirect (HTTP 307), which is not followed: give the receiver's own URL"
	stop_pid "$STUB_PID"
	# Never answered: 3 attempts of 0.5 s and two waits of 0.25-0.5 and
	# 0.5-1 s: between 2.25 and 3 s, and a message naming them.
	stub_start "$BATS_TEST_TMPDIR/s5" hang
	printf '[record]\ntimeout = 500ms\nretries = 2\n' >"$CLIENT"
	local t0 t1
	t0=$(date +%s.%N)
	run -1 --separate-stderr promrun-record -c "$CLIENT" --server "$STUB_URL" -w build -s ok
	t1=$(date +%s.%N)
	assert_regex "$stderr" "^promrun-record: cannot post the run to $STUB_URL/api/v1/runs \\(3 attempts\\): Operation timed out after 5[0-9][0-9] milliseconds"
	awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 2.2 && b - a < 8) }' ||
		fail "took $t0 to $t1, not 2.25 to 3 s (+ slack)"
	run grep -c '^REQUEST ' "$BATS_TEST_TMPDIR/s5/requests"
	assert_output 3
}

# --- promrun-ci --server ---

@test "promrun-ci --server: the job lands in the receiver; --token-file and PROMRUN_TOKEN reach promrun-record, never its command line" {
	orgs_config
	serve_start
	github_env
	run "$HOOK" --dry-run --server "$SERVE_URL" --token-file "$TOKENS/acme.write" failure
	assert_output "promrun-record -w CI -s failure --run-id 6123456789-2 -l repo=octo-org/app -l branch=main -l 'runner=runner 7' --server $SERVE_URL --token-file $TOKENS/acme.write"
	PROMRUN_CI_STARTED=$(($(date +%s) - 30)) run --separate-stderr "$HOOK" -c "$CLIENT" --server "$SERVE_URL" --token-file "$TOKENS/acme.write" failure
	assert_success
	assert_equal "$stderr" ''
	run journal_lines acme
	assert_output --regexp '^run time=[0-9.]+ workflow=CI run_id=6123456789-2 status=failure duration=3[0-9.]+ label.repo=octo-org/app label.branch=main label.runner=runner%207 label.org=acme$'
	# The job re-run by hand: the same run id, counted once.
	PROMRUN_TOKEN=$(token acme.write) run "$HOOK" -c "$CLIENT" --server "$SERVE_URL" failure
	assert_success
	run journal_lines acme
	assert_equal "${#lines[@]}" 1
	# No process shows the token on its command line while promrun-record
	# waits for a receiver that never answers; it has it in its
	# environment when PROMRUN_TOKEN gives it, not with --token-file.
	stub_start "$BATS_TEST_TMPDIR/hang" hang
	printf '[record]\ntimeout = 10\nretries = 0\n' >"$CLIENT"
	local tok pid
	tok=$(token acme.write)
	unset GITHUB_ACTIONS
	gitlab_env
	PROMRUN_TOKEN=$tok "$HOOK" -c "$CLIENT" --server "$STUB_URL" 3>&- &
	local ci=$!
	for _ in $(seq 100); do
		[ -s "$BATS_TEST_TMPDIR/hang/requests" ] && break
		sleep 0.05
	done
	pid=$(pgrep -n -f "promrun-record -c $CLIENT .* --server $STUB_URL\$")
	[ -n "$pid" ]
	[ -z "$(grep -s -l -F -- "$tok" /proc/[0-9]*/cmdline)" ]
	tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "PROMRUN_TOKEN=$tok"
	kill "$pid"
	wait "$ci"
	"$HOOK" -c "$CLIENT" --server "$STUB_URL" --token-file "$TOKENS/acme.write" 3>&- &
	ci=$!
	for _ in $(seq 100); do
		[ "$(grep -c '^REQUEST' "$BATS_TEST_TMPDIR/hang/requests")" -ge 2 ] && break
		sleep 0.05
	done
	pid=$(pgrep -n -f "promrun-record -c $CLIENT .* --server $STUB_URL --token-file")
	[ -n "$pid" ]
	[ -z "$(grep -s -l -F -- "$tok" /proc/[0-9]*/cmdline "/proc/$pid/environ")" ]
	kill "$pid"
	wait "$ci"
	grep -q "^Authorization: Bearer $tok\$" "$BATS_TEST_TMPDIR/hang/requests"
}

@test "promrun-ci --server never fails the job: receiver down, 401 or 400 are warnings and exit 0; --strict exits with promrun-record's status" {
	orgs_config
	serve_start
	gitlab_env
	printf '[record]\ntimeout = 2\nretries = 0\n' >"$CLIENT"
	run --separate-stderr "$HOOK" -c "$CLIENT" --server "http://127.0.0.1:$(free_port)"
	assert_success
	assert_regex "${stderr_lines[0]}" '^promrun-record: cannot post the run to http://127.0.0.1:[0-9]+/api/v1/runs: '
	assert_equal "${stderr_lines[1]}" 'promrun-ci: warning: the run was not recorded: promrun-record exited with 1; the job goes on (--strict fails it)'
	run -1 "$HOOK" -c "$CLIENT" --server "http://127.0.0.1:$(free_port)" --strict
	PROMRUN_TOKEN=nope run --separate-stderr "$HOOK" -c "$CLIENT" --server "$SERVE_URL"
	assert_success
	assert_regex "${stderr_lines[0]}" 'refused the run \(HTTP 401\)'
	[[ $stderr != *nope* ]]
	PROMRUN_TOKEN=nope run -1 "$HOOK" -c "$CLIENT" --server "$SERVE_URL" --strict
	# The receiver refuses a label its allow-list lacks: 400, exit 2.
	PROMRUN_TOKEN=$(token acme.write) run --separate-stderr "$HOOK" -c "$CLIENT" --server "$SERVE_URL" -l team=core
	assert_success
	assert_regex "${stderr_lines[0]}" 'refused the run \(HTTP 400\): \{"error":"label \\"team\\" is not in the configured allow-list'
	PROMRUN_TOKEN=$(token acme.write) run -2 "$HOOK" -c "$CLIENT" --server "$SERVE_URL" -l team=core --strict
	# A start after the end (this clock behind GitLab's): still recorded,
	# without a duration, as with a journal.
	export CI_JOB_STARTED_AT=2099-01-01T00:00:00Z
	PROMRUN_TOKEN=$(token acme.write) run --separate-stderr "$HOOK" -c "$CLIENT" --server "$SERVE_URL"
	assert_success
	assert_regex "$stderr" 'recording the run without a duration$'
	run journal_lines acme
	assert_output --regexp '^run time=[0-9.]+ workflow=unit%20tests run_id=4242 status=success label.repo=group/sub/app label.branch=feature/x label.runner=docker%20runner label.org=acme$'
	# Usage errors stay usage errors.
	run -2 --separate-stderr "$HOOK" -j "$J" --server "$SERVE_URL"
	assert_equal "$stderr" 'promrun-ci: give -j JOURNAL or --server URL, not both'
	run -2 --separate-stderr "$HOOK" --server "$SERVE_URL" --token s3cr3t
	assert_equal "$stderr" 'promrun-ci: a token is not accepted on the command line: use --token-file FILE or PROMRUN_TOKEN'
}

# --- the plain-curl snippets, run as their CI runs them ---

# github_curl_steps: the first and last steps' scripts of
# examples/github-actions-curl.yml in $STEPS.first and $STEPS.last, after
# checking the last step's condition and env.
github_curl_steps() {
	STEPS="$BATS_TEST_TMPDIR/steps"
	"$PYTHON3" - "$EXAMPLES/github-actions-curl.yml" "$STEPS" <<-'EOF'
		import sys, yaml
		wf = yaml.safe_load(open(sys.argv[1]))
		steps = next(iter(wf["jobs"].values()))["steps"]
		first, last = steps[0], steps[-1]
		assert last["if"] == "always()", last
		env = dict(last["env"])
		assert env.pop("JOB_STATUS") == "${{ job.status }}", last
		assert env.pop("PROMRUN_TOKEN") == "${{ secrets.PROMRUN_TOKEN }}", last
		assert env.pop("PROMRUN_URL").startswith("https://"), last
		assert env == {}, env
		open(sys.argv[2] + ".first", "w").write(first["run"])
		open(sys.argv[2] + ".last", "w").write(last["run"])
	EOF
}

@test "examples/github-actions-curl.yml: its steps, run as GitHub would, post the job once, with its duration; run twice, counted once" {
	orgs_config
	serve_start
	github_curl_steps
	# GitHub runs a step with bash -e: it passes shellcheck as bash.
	shellcheck -s bash "$STEPS.first" "$STEPS.last"
	github_env
	export GITHUB_ENV="$BATS_TEST_TMPDIR/github_env"
	: >"$GITHUB_ENV"
	bash -e "$STEPS.first"
	run cat "$GITHUB_ENV"
	assert_output --regexp '^PROMRUN_CI_STARTED=[0-9]+$'
	export "${output?}"
	export PROMRUN_CI_STARTED=$((PROMRUN_CI_STARTED - 5))
	# GitHub puts the env of the step in its environment, the secret too.
	export JOB_STATUS=failure PROMRUN_URL=$SERVE_URL PROMRUN_TOKEN
	PROMRUN_TOKEN=$(token acme.write)
	GITHUB_WORKFLOW='it'\''s "CI" \o/' run bash -e "$STEPS.last"
	assert_success
	assert_output ''
	run journal_lines acme
	assert_output --regexp '^run time=[0-9.]+ workflow=it'\''s%20"CI"%20\\o/' 
	assert_output --regexp '/build run_id=6123456789-2 status=failure duration=[5-9]+ label.repo=octo-org/app label.branch=main label.runner=runner%207 label.org=acme$'
	# The step run again: the receiver answers "duplicate".
	GITHUB_WORKFLOW='it'\''s "CI" \o/' run bash -e "$STEPS.last"
	assert_success
	assert_output ''
	run journal_lines acme
	assert_equal "${#lines[@]}" 1
	# A wrong token: a warning in GitHub's syntax, the job goes on.
	PROMRUN_TOKEN=nope run bash -e "$STEPS.last"
	assert_success
	assert_output '::warning::promrun: the run was not recorded: HTTP 401: {"error":"missing or invalid bearer token: give Authorization: Bearer <write token>"}'
	# No start time saved (the first step missing): sent without it.
	unset PROMRUN_CI_STARTED
	GITHUB_RUN_ATTEMPT=3 run bash -e "$STEPS.last"
	assert_success
	assert_output ''
	run journal_lines acme
	assert_line --index 1 --regexp 'run_id=6123456789-3 status=failure label.repo='
}

# gitlab_after_script: the after_script of examples/gitlab-ci-curl.yml in
# $SCRIPT, and its PROMRUN_URL variable checked.
gitlab_after_script() {
	SCRIPT="$BATS_TEST_TMPDIR/after_script"
	"$PYTHON3" - "$EXAMPLES/gitlab-ci-curl.yml" "$SCRIPT" <<-'EOF'
		import sys, yaml
		ci = yaml.safe_load(open(sys.argv[1]))
		assert ci["variables"]["PROMRUN_URL"].startswith("https://"), ci
		open(sys.argv[2], "w").write("\n".join(ci["default"]["after_script"]) + "\n")
	EOF
}

@test "examples/gitlab-ci-curl.yml: its after_script, run as GitLab would, posts the job once; a clock behind, a receiver down at first, a lost answer" {
	orgs_config
	serve_start
	gitlab_after_script
	# Images may have only a POSIX sh: it passes shellcheck as sh.
	shellcheck -s sh "$SCRIPT"
	gitlab_env
	export PROMRUN_URL=$SERVE_URL PROMRUN_TOKEN CI_JOB_STATUS=failed CI_JOB_STARTED_AT
	PROMRUN_TOKEN=$(token umbrella.write)
	CI_JOB_STARTED_AT=$(date -u -d "@$(($(date +%s) - 20))" +%Y-%m-%dT%H:%M:%SZ)
	run sh -e "$SCRIPT"
	assert_success
	assert_output ''
	run journal_lines umbrella
	assert_output --regexp '^run time=[0-9.]+ workflow=unit%20tests run_id=4242 status=failure duration=2[0-9.]+ label.repo=group/sub/app label.branch=feature/x label.runner=docker%20runner label.org=umbrella$'
	run sh -e "$SCRIPT"
	assert_success
	run journal_lines umbrella
	assert_equal "${#lines[@]}" 1
	# GitLab's clock ahead of the receiver's: refused with the start,
	# recorded without it.
	CI_JOB_ID=4243 CI_JOB_STARTED_AT=2099-01-01T00:00:00Z run sh -e "$SCRIPT"
	assert_success
	assert_output ''
	run journal_lines umbrella
	assert_line --index 1 --regexp '^run time=[0-9.]+ workflow=unit%20tests run_id=4243 status=failure label.repo='
	# The receiver down when the job ends, up a moment later: curl's
	# retries land the run.
	local port
	port=$(free_port)
	PROMRUN_URL="http://127.0.0.1:$port" CI_JOB_ID=4244 sh -e "$SCRIPT" \
	    >"$BATS_TEST_TMPDIR/script.out" 2>&1 3>&- &
	local job=$!
	sleep 0.3
	serve_stop
	serve_on "$port"
	wait "$job"
	run cat "$BATS_TEST_TMPDIR/script.out"
	refute_output --partial 'warning'
	run journal_lines umbrella
	assert_line --index 2 --regexp 'run_id=4244 status=failure duration='
	# The answer lost on the way back: curl sends it again, the receiver
	# says duplicate, the run counts once.
	stub_start "$BATS_TEST_TMPDIR/lossy" lossy "$SERVE_PORT" 1
	PROMRUN_URL=$STUB_URL CI_JOB_ID=4245 run sh -e "$SCRIPT"
	assert_success
	refute_output --partial warning
	run cat "$BATS_TEST_TMPDIR/lossy/lossy"
	assert_output $'dropped\nanswered 200'
	run journal_lines umbrella
	assert_equal "${#lines[@]}" 4
	assert_line --index 3 --regexp 'run_id=4245 '
}
