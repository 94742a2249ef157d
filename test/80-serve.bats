#!/usr/bin/env bats
# promrun-serve, the receiver: runs posted over HTTP are recorded once and
# durably, answered with what was recorded; bad input, missing tokens and
# oversized bodies are refused with one line of JSON and nothing stored;
# listen forms, socket activation, SIGHUP, graceful stop, health and the
# request log.  Clients are curl, python3-requests and raw sockets.

setup() {
	load 'test_helper/serve'
	_common_setup
}

teardown() {
	serve_stop
	stop_background
}

# status_of OUTPUT: the status code post printed last.
status_of() {
	printf '%s\n' "$1" | tail -n 1
}

@test "a run is recorded once: 201 with what was recorded, a retry is 200 duplicate, also after a restart" {
	serve_start
	run post /api/v1/runs <<<'{"workflow": "build", "status": "success", "run_id": 42, "duration_seconds": 12.5, "labels": {"repo": "app"}}'
	assert_success
	assert_line --index 0 '{"result":"recorded","recorded":1,"duplicates":0,"runs":[{"index":0,"result":"recorded"}]}'
	assert_line --index 1 201
	run journal_lines default
	assert_output --regexp '^run time=[0-9.]+ workflow=build run_id=42 status=success duration=12.5 label.repo=app$'
	run post /api/v1/runs <<<'{"workflow": "build", "status": "failure", "run_id": "42"}'
	assert_line --index 0 '{"result":"duplicate","recorded":0,"duplicates":1,"runs":[{"index":0,"result":"duplicate"}]}'
	assert_line --index 1 200
	# The index is rebuilt from the journal: a retry after a restart is
	# still known.
	serve_restart
	run post /api/v1/runs <<<'{"workflow": "build", "status": "success", "run_id": 42}'
	assert_line --index 1 200
	# Another event or step of the same run id is another run.
	run post /api/v1/runs <<<'[{"workflow": "build", "step": "test", "status": "success", "run_id": 42}, {"workflow": "build", "status": "success", "run_id": 42}]'
	assert_line --index 0 '{"result":"recorded","recorded":1,"duplicates":1,"runs":[{"index":0,"result":"recorded"},{"index":1,"result":"duplicate"}]}'
	assert_line --index 1 201
	run journal_summary "$DATA/default/journal"
	assert_output --partial 'records=2 '
	# A run without a run id has no identity: each post counts.
	for _ in 1 2; do
		run post /api/v1/runs <<<'{"workflow": "cron", "status": "ok"}'
		assert_line --index 1 201
	done
	run curl -fsS "$SERVE_URL/metrics"
	assert_line 'ci_workflow_runs_total{workflow="build",status="success",repo="app"} 1'
	assert_line 'ci_workflow_runs_total{workflow="cron",status="success",repo=""} 2'
}

@test "group commit: 400 posts from 16 clients at once share their syncs; each is in the journal once" {
	serve_start
	printf '{"workflow": "load", "status": "ok"}' >"$BATS_TEST_TMPDIR/body"
	run ab -q -n 400 -c 16 -p "$BATS_TEST_TMPDIR/body" -T application/json \
	    "$SERVE_URL/api/v1/runs"
	assert_success
	assert_line --regexp '^Complete requests: +400$'
	assert_line --regexp '^Failed requests: +0$'
	refute_line --partial 'Non-2xx'
	run journal_summary "$DATA/default/journal"
	assert_output --partial 'records=400 '
	curl -fsS -o "$BATS_TEST_TMPDIR/self" "$SERVE_URL/metrics/self"
	assert_equal "$(sample_value "$BATS_TEST_TMPDIR/self" promrun_serve_runs_recorded_total)" 400
	# One sync a post would be 400; a round takes every post read while
	# the last sync ran, and every post read in one pass of the loop.
	syncs=$(sample_value "$BATS_TEST_TMPDIR/self" promrun_serve_journal_syncs_total)
	echo "syncs: $syncs"
	[ "$syncs" -ge 1 ] && [ "$syncs" -le 200 ]
}

@test "fields: events matched by run id, RFC 3339 or Unix times, started gives the duration, exit codes" {
	serve_start
	run post /api/v1/runs <<-'JSON'
	[{"workflow": "deploy", "event": "start", "run_id": "d-1", "started": "2030-01-01T10:00:00Z"},
	 {"workflow": "deploy", "event": "finish", "run_id": "d-1", "finished": 1893492060, "exit_code": 124},
	 {"workflow": "lint", "started": "1893488000", "finished": "2030-01-01T10:00:00+01:00", "status": "canceled", "step": "eslint"},
	 {"workflow": "lint", "finished": 1893488400.25, "duration_seconds": 3, "exit_code": 0, "step": null}]
	JSON
	assert_line --index 1 201
	run journal_lines default
	assert_line --index 0 'start time=1893492000 workflow=deploy run_id=d-1'
	assert_line --index 1 'finish time=1893492060 workflow=deploy run_id=d-1 status=timeout exit_code=124'
	assert_line --index 2 'run time=1893488400 workflow=lint step=eslint status=cancelled duration=400'
	assert_line --index 3 'run time=1893488400.25 workflow=lint status=success duration=3 exit_code=0'
	run curl -fsS "$SERVE_URL/metrics"
	assert_line 'ci_workflow_runs_total{workflow="deploy",status="timeout"} 1'
	assert_line 'ci_workflow_in_progress{workflow="deploy"} 0'
}

# refused CASE JSON FIELD MESSAGE-PART: 400, one line of JSON naming the
# field (or none: "-") and the message, nothing recorded.
refused() {
	local body=$2 field=$3 want=$4 out
	out=$(post /api/v1/runs <<<"$body")
	[ "$(status_of "$out")" = 400 ] || fail "$1: not 400: $out"
	out=$(printf '%s\n' "$out" | sed '$d')
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "$1: not one line: $out"
	[ "$(jq -r '.field // "-"' <<<"$out")" = "$field" ] ||
	    fail "$1: field is not $field: $out"
	[[ "$(jq -r .error <<<"$out")" == *"$want"* ]] ||
	    fail "$1: error does not say $want: $out"
	[ ! -e "$DATA/default/journal" ] || [ ! -s "$DATA/default/journal" ] ||
	    fail "$1: something was recorded"
}

@test "every refusal is a 400 with one line of JSON naming the field and what is accepted; nothing is recorded" {
	printf '[journal]\nlabels = repo\n[render]\nmax_series = 2\n' >"$CONF"
	serve_start
	refused "malformed JSON" '{"workflow": "build",' - 'malformed JSON at line '
	refused "not an object" '"build"' - 'a JSON object (one run) or an array'
	refused "empty array" '[]' - 'no runs'
	refused "workflow not a string" '{"workflow": 7, "status": "ok"}' workflow 'give a string'
	refused "exit code a string" '{"workflow": "w", "exit_code": "3"}' exit_code 'whole number from 0 to 255'
	refused "exit code out of range" '{"workflow": "w", "exit_code": 300}' exit_code 'from 0 to 255'
	refused "labels an array" '{"workflow": "w", "status": "ok", "labels": ["repo"]}' labels 'an object of strings'
	refused "label value a number" '{"workflow": "w", "status": "ok", "labels": {"repo": 1}}' labels 'label values are strings'
	refused "unknown status" '{"workflow": "w", "status": "done"}' status 'use success, failure, cancelled or timeout'
	refused "lost" '{"workflow": "w", "status": "lost"}' status 'cannot be recorded'
	refused "no outcome" '{"workflow": "w"}' status 'give "status" or "exit_code"'
	refused "no workflow" '{"status": "ok"}' workflow 'give "workflow"'
	refused "empty workflow" '{"workflow": "", "status": "ok"}' - 'workflow name is empty'
	refused "control character in a label" '{"workflow": "w", "status": "ok", "labels": {"repo": "a\u0007b"}}' labels 'label "repo" contains a control character'
	refused "newline in the workflow" '{"workflow": "w\nx", "status": "ok"}' workflow 'control character'
	refused "label not allowed" '{"workflow": "w", "status": "ok", "labels": {"team": "x"}}' labels 'label "team" is not in the configured allow-list'
	refused "label name invalid" '{"workflow": "w", "status": "ok", "labels": {"re-po": "x"}}' labels 'invalid label name "re-po"'
	refused "unknown field" '{"workflow": "w", "status": "ok", "colour": "red"}' - 'unknown field "colour": accepted are workflow, status'
	refused "duplicate key" '{"workflow": "w", "workflow": "v", "status": "ok"}' - 'duplicate object key'
	refused "bad event" '{"workflow": "w", "event": "stop", "run_id": "1"}' event 'use run, start or finish'
	refused "start with a status" '{"workflow": "w", "event": "start", "run_id": "1", "status": "ok"}' event 'event "start" takes no "status"'
	refused "finish without run id" '{"workflow": "w", "event": "finish", "status": "ok"}' run_id 'event "finish" needs "run_id"'
	refused "bad time" '{"workflow": "w", "status": "ok", "finished": "yesterday"}' finished 'finished "yesterday"'
	refused "start after the end" '{"workflow": "w", "status": "ok", "started": 2000, "finished": 1000}' started 'is after the end of the run'
	refused "both durations" '{"workflow": "w", "status": "ok", "started": 1000, "duration_seconds": 3}' started 'give "duration_seconds" or "started", not both'
	refused "negative duration" '{"workflow": "w", "status": "ok", "duration_seconds": -1}' duration_seconds 'duration_seconds'
	refused "older than the window" '{"workflow": "w", "status": "ok", "run_id": "7", "finished": 1000}' finished 'older than the dedupe window'
	# An array: the index of the first bad item, the others not stored.
	out=$(post /api/v1/runs <<<'[{"workflow": "a", "status": "ok"}, {"workflow": "b", "status": "ok"}, {"workflow": "c", "status": "nope"}]')
	assert_equal "$(status_of "$out")" 400
	assert_equal "$(sed '$d' <<<"$out" | jq -c '{index, field}')" '{"index":2,"field":"status"}'
	[[ "$(sed '$d' <<<"$out" | jq -r .error)" == 'runs[2]: unknown status "nope"'* ]]
	# More than 1,000 runs.
	big=$("$PYTHON3" -c 'import json; print(json.dumps([{"workflow": "w", "status": "ok"}] * 1001))')
	refused "1001 runs" "$big" - 'too many runs: 1001 in one request, at most 1000'
	[ ! -s "$DATA/default/journal" ]
	# More series than max_series: the label with the most values named.
	run post /api/v1/runs <<<'[{"workflow": "w", "status": "ok", "labels": {"repo": "a"}}, {"workflow": "w", "status": "ok", "labels": {"repo": "b"}}]'
	assert_line --index 1 201
	cp "$DATA/default/journal" "$BATS_TEST_TMPDIR/before"
	out=$(post /api/v1/runs <<<'[{"workflow": "w", "status": "ok", "labels": {"repo": "a"}}, {"workflow": "w", "status": "ok", "labels": {"repo": "c"}}]')
	assert_equal "$(status_of "$out")" 400
	assert_equal "$(sed '$d' <<<"$out" | jq -c '{index, field}')" '{"index":1,"field":"labels"}'
	[[ "$(sed '$d' <<<"$out" | jq -r .error)" == *'series limit reached'*'label "repo" has the most distinct values'* ]]
	cmp "$DATA/default/journal" "$BATS_TEST_TMPDIR/before"
}

@test "401 without a valid token, 413 before the body is read, 415 without JSON, 404 and 405 with Allow" {
	serve_orgs_config
	serve_start
	# No token, a wrong one, a read token, another scheme: 401, nothing stored.
	for auth in "" "Bearer nope" "Bearer $(token acme.read)" "Basic $(token acme.write)"; do
		run curl -sS -i -X POST -H 'Content-Type: application/json' \
		    ${auth:+-H "Authorization: $auth"} -d '{"workflow": "w", "status": "ok"}' "$SERVE_URL/api/v1/runs"
		assert_line --regexp '^HTTP/1.1 401 '
		assert_line --regexp '^WWW-Authenticate: Bearer realm="promrun"'
		assert_line '{"error":"missing or invalid bearer token: give Authorization: Bearer <write token>"}'
	done
	[ ! -e "$DATA/acme/journal" ] && [ ! -e "$DATA/default/journal" ]
	# The answer to an oversized body comes before the body is sent: the
	# client sends the headers only and reads 413.
	run "$PYTHON3" - "$SERVE_PORT" "$(token acme.write)" <<-'PY'
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
	s.sendall(("POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	           "Authorization: Bearer %s\r\nContent-Length: 70000\r\n\r\n" % sys.argv[2]).encode())
	print(s.recv(4096).decode().split("\r\n")[0])
	PY
	assert_output 'HTTP/1.1 413 Content Too Large'
	# A chunked body without a length is cut off when it passes the limit.
	head -c 70000 /dev/zero | tr '\0' ' ' >"$BATS_TEST_TMPDIR/big"
	run curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Transfer-Encoding: chunked' \
	    -H 'Content-Type: application/json' -H "Authorization: Bearer $(token acme.write)" \
	    --data-binary @"$BATS_TEST_TMPDIR/big" "$SERVE_URL/api/v1/runs"
	assert_output 413
	run curl -sS -w '\n%{http_code}' -X POST -H "Authorization: Bearer $(token acme.write)" \
	    -d '{"workflow": "w", "status": "ok"}' "$SERVE_URL/api/v1/runs"
	assert_output $'{"error":"the body must be JSON: send Content-Type: application/json"}\n\n415'
	run curl -sS -w '\n%{http_code}' "$SERVE_URL/api/v2/runs"
	assert_line --index 1 404
	run curl -sS -i -X GET "$SERVE_URL/api/v1/runs"
	assert_line --regexp '^HTTP/1.1 405 '
	assert_line --regexp '^Allow: POST'
	run curl -sS -i -X DELETE "$SERVE_URL/health/ready"
	assert_line --regexp '^Allow: GET, HEAD'
	[ ! -e "$DATA/acme/journal" ]
	# And with the token, it is recorded, with the organization's label.
	run post /api/v1/runs -H "Authorization: Bearer $(token acme.write)" <<<'{"workflow": "w", "status": "ok"}'
	assert_line --index 1 201
	run journal_lines acme
	assert_output --regexp '^run time=[0-9.]+ workflow=w status=success label.org=acme$'
	run post /api/v1/runs -H "Authorization: Bearer $(token acme.write)" <<<'{"workflow": "w", "status": "ok", "labels": {"org": "umbrella"}}'
	assert_line --index 1 400
	assert_line --index 0 --partial "this token's runs belong to organization \\\"acme\\\""
}

@test "listen forms: :PORT, HOST:PORT, [IPV6]:PORT, a service name; bad forms exit 2" {
	port=$(free_port)
	server_start "$BATS_TEST_TMPDIR/a.log" "$port" promrun-serve -l ":$port" -d "$BATS_TEST_TMPDIR/data"
	curl -fsS -o /dev/null "http://127.0.0.1:$port/health/live"
	grep -q "listening on 0.0.0.0:$port" "$BATS_TEST_TMPDIR/a.log"
	stop_pid "$SERVER_PID"
	if "$PYTHON3" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
		port=$(free_port)
		promrun-serve -l "[::1]:$port" -l "127.0.0.1:$port" -d "$BATS_TEST_TMPDIR/data" \
		    >"$BATS_TEST_TMPDIR/b.log" 2>&1 3>&- &
		pid=$!
		wait_listening "$port" "$pid"
		curl -fsS -o /dev/null "http://[::1]:$port/health/live"
		grep -q "listening on \[::1\]:$port" "$BATS_TEST_TMPDIR/b.log"
		stop_pid "$pid"
	fi
	# A service name from /etc/services (binkp is 24554).
	if "$PYTHON3" -c 'import socket; socket.socket().bind(("127.0.0.1", 24554))' 2>/dev/null; then
		server_start "$BATS_TEST_TMPDIR/c.log" 24554 promrun-serve -l 127.0.0.1:binkp -d "$BATS_TEST_TMPDIR/data"
		curl -fsS -o /dev/null http://127.0.0.1:24554/health/live
		stop_pid "$SERVER_PID"
	fi
	run -2 promrun-serve -l '::1:80'
	assert_output 'promrun-serve: listen address "::1:80" is not valid: use :PORT, HOST:PORT, [IPV6]:PORT or HOST (PORT a number or a service name)'
	run -2 promrun-serve -l '127.0.0.1:nosuchservice'
	assert_output --partial 'promrun-serve: listen address "127.0.0.1:nosuchservice" does not resolve'
	run -2 promrun-serve -l ':'
	assert_output --partial 'is not valid'
	# In use: exit 1, the address named.
	server_start "$BATS_TEST_TMPDIR/d.log" "$port" promrun-serve -l "127.0.0.1:$port" -d "$BATS_TEST_TMPDIR/data"
	run -1 promrun-serve -l "127.0.0.1:$port" -d "$BATS_TEST_TMPDIR/data2"
	assert_output "promrun-serve: cannot listen on 127.0.0.1:$port (127.0.0.1): Address already in use"
	stop_pid "$SERVER_PID"
}

@test "socket activation: the sockets in LISTEN_FDS are served (systemd-socket-activate)" {
	command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate is not installed"
	port=$(free_port)
	systemd-socket-activate -l "127.0.0.1:$port" promrun-serve -d "$BATS_TEST_TMPDIR/data" \
	    >"$BATS_TEST_TMPDIR/act.log" 2>&1 3>&- &
	pid=$!
	wait_listening "$port" "$pid"
	# systemd-socket-activate starts the server on the first connection.
	run curl -sS -X POST -H 'Content-Type: application/json' -d '{"workflow": "w", "status": "ok"}' \
	    -w '\n%{http_code}' "http://127.0.0.1:$port/api/v1/runs"
	assert_line --index 1 201
	grep -q "listening on 127.0.0.1:$port" "$BATS_TEST_TMPDIR/act.log"
	# It did not open the default address of its own.
	run grep -c 'listening on' "$BATS_TEST_TMPDIR/act.log"
	assert_output 1
	stop_pid "$pid"
}

@test "configuration: token files are checked, never shown; organizations are named and need a write token" {
	serve_tokens
	bad() {
		run -2 promrun-serve -l 127.0.0.1:0 -d "$BATS_TEST_TMPDIR/data"
		assert_output "promrun-serve: $1"
		refute_output --partial "$(token acme.write)"
	}
	printf '[org acme]\nread_token_file = %s\n' "$TOKENS/acme.read" >"$CONF"
	bad '[org acme] has no write_token_file: its runners need a token'
	printf '[org acme]\nwrite_token_file = %s/nope\n' "$TOKENS" >"$CONF"
	bad "[org acme] write_token_file $TOKENS/nope cannot be read: No such file or directory"
	printf '[org acme]\nwrite_token_file = %s\nread_token_file = %s\n' "$TOKENS/acme.write" "$TOKENS/acme.write" >"$CONF"
	bad 'two token files hold the same token (acme and acme): every write token, read token and the PRPC key must differ'
	printf '[org default]\nwrite_token_file = %s\n' "$TOKENS/acme.write" >"$CONF"
	bad '[org "default"]: an organization'"'"'s name is 1 to 64 of a-z A-Z 0-9 _ . - (not starting with . or -) and not "default"'
	printf '[org ../x]\nwrite_token_file = %s\n' "$TOKENS/acme.write" >"$CONF"
	run -2 promrun-serve -l 127.0.0.1:0 -d "$BATS_TEST_TMPDIR/data"
	printf '[journal]\nlabels = repo\n[org acme]\nwrite_token_file = %s\n' "$TOKENS/acme.write" >"$CONF"
	bad '[journal] labels must include org: runs of an [org] section carry the label org'
	printf 'secret with spaces\n' >"$TOKENS/bad"
	printf '[org acme]\nwrite_token_file = %s\n' "$TOKENS/bad" >"$CONF"
	bad "[org acme] write_token_file $TOKENS/bad: the token holds a byte that is not visible ASCII at offset 6: use letters, digits and punctuation"
	printf '[serve]\ndedupe_window = 0s\n' >"$CONF"
	run -2 promrun-serve -l 127.0.0.1:0
	assert_output --partial '[serve] dedupe_window = "0s": use a duration above 0'
	printf '[serve]\ndedupe_window = 60d\n' >"$CONF"
	run -2 promrun-serve -l 127.0.0.1:0 -d "$BATS_TEST_TMPDIR/data"
	assert_output 'promrun-serve: [serve] dedupe_window is longer than [render] keep_history: compaction would forget run ids a retry still needs'
	run -2 promrun-serve --log-format yaml
	run -2 promrun-serve extra
}

@test "SIGHUP reads the token files again without dropping connections" {
	serve_orgs_config
	serve_start
	run "$PYTHON3" - "$SERVE_PORT" "$TOKENS" "$SERVE_PID" <<-'PY'
	import http.client, json, os, signal, sys, time
	port, tokens, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
	old = open(os.path.join(tokens, "acme.write")).read().strip()
	c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
	def post(token, run_id):
	    c.request("POST", "/api/v1/runs", json.dumps({"workflow": "w", "status": "ok", "run_id": run_id}),
	              {"Content-Type": "application/json", "Authorization": "Bearer " + token})
	    r = c.getresponse()
	    r.read()
	    return r.status, c.sock.getsockname() if c.sock else None
	code, before = post(old, "1")
	print("old token", code)
	with open(os.path.join(tokens, "acme.write"), "w") as f:
	    f.write("acme-rotated-token\n")
	os.kill(pid, signal.SIGHUP)
	time.sleep(0.5)
	code, after = post("acme-rotated-token", "2")
	print("new token", code)
	print("same connection", before is not None and before == after)
	code, _ = post(old, "3")
	print("old token after reload", code)
	PY
	assert_success
	assert_output - <<-'OUT'
	old token 201
	new token 201
	same connection True
	old token after reload 401
	OUT
	grep -q 'INFO promrun_serve: tokens reloaded' "$SERVE_LOG"
	# A token file that cannot be read keeps the old token, and says so.
	rm "$TOKENS/acme.write"
	kill -HUP "$SERVE_PID"
	sleep 0.3
	grep -q "ERROR promrun_serve: tokens not reloaded, the old ones stay: \[org acme\] write_token_file $TOKENS/acme.write cannot be read" "$SERVE_LOG"
	run post /api/v1/runs -H 'Authorization: Bearer acme-rotated-token' <<<'{"workflow": "w", "status": "ok"}'
	assert_line --index 1 201
	! grep -q -e acme-rotated-token -e "$(token acme.read)" "$SERVE_LOG"
}

@test "SIGTERM: ready says 503 shutting down, what was taken is finished and answered, then exit 0" {
	serve_start
	run post /api/v1/runs <<<'{"workflow": "first", "status": "ok"}'
	assert_line --index 1 201
	# Hold the journal's lock: the next batch waits for it.
	flock -x "$DATA/default/journal.lock" sleep 3 3>&- &
	sleep 0.3
	run "$PYTHON3" - "$SERVE_PORT" "$SERVE_PID" <<-'PY'
	import http.client, json, os, signal, sys, threading, time
	port, pid = int(sys.argv[1]), int(sys.argv[2])
	result = {}
	def writer():
	    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
	    c.request("POST", "/api/v1/runs", json.dumps({"workflow": "late", "status": "ok"}),
	              {"Content-Type": "application/json"})
	    result["post"] = c.getresponse().status
	health = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
	health.request("GET", "/health/ready")
	r = health.getresponse()
	print("ready before", r.status, r.read().decode().strip())
	t = threading.Thread(target=writer)
	t.start()
	time.sleep(0.5)
	os.kill(pid, signal.SIGTERM)
	time.sleep(0.3)
	health.request("GET", "/health/ready")
	r = health.getresponse()
	print("ready while stopping", r.status, r.read().decode().strip())
	t.join()
	print("post", result["post"])
	PY
	assert_success
	assert_output - <<-'OUT'
	ready before 200 ready
	ready while stopping 503 not ready: shutting down
	post 201
	OUT
	wait "$SERVE_PID"
	run journal_lines default
	assert_line --index 1 --regexp '^run time=[0-9.]+ workflow=late status=success$'
	SERVE_PID=
}

@test "the log: one line per request, text or JSON with ATTEST's fields; never a token or a body" {
	serve_orgs_config
	serve_start --log-format json
	post /api/v1/runs -H "Authorization: Bearer $(token acme.write)" <<<'{"workflow": "secret-body-marker", "status": "ok"}'
	post /api/v1/runs -H "Authorization: Bearer $(token acme.write)" <<<'{"workflow": "secret-body-marker", "status": "nope"}'
	curl -sS -o /dev/null -H "Authorization: Bearer $(token acme.read)" "$SERVE_URL/prom/acme/metrics"
	curl -sS -o /dev/null -H "Authorization: Bearer wrong-token-marker" "$SERVE_URL/prom/acme/metrics"
	serve_stop
	# Every line is one JSON object with ATTEST's fields.
	run jq -c 'select(.fields.endpoint != null) | [.level, .target, .message, .fields.org, .fields.endpoint, .fields.code, (.fields.duration_ms | type), .fields.runs]' "$SERVE_LOG"
	assert_success
	assert_output - <<-'OUT'
	["INFO","promrun_serve::http","POST /api/v1/runs 201","acme","/api/v1/runs",201,"number",1]
	["INFO","promrun_serve::http","POST /api/v1/runs 400","acme","/api/v1/runs",400,"number",0]
	["INFO","promrun_serve::http","GET /prom/{org}/metrics 200","acme","/prom/{org}/metrics",200,"number",null]
	["INFO","promrun_serve::http","GET /prom/{org}/metrics 401",null,"/prom/{org}/metrics",401,"number",null]
	OUT
	run jq -r '.timestamp' "$SERVE_LOG"
	refute_output --regexp '^[^2]'
	assert_line --regexp '^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-9:]{8}\.[0-9]{3}Z$'
	run grep -c -e secret-body-marker -e wrong-token-marker -e "$(token acme.write)" -e "$(token acme.read)" "$SERVE_LOG"
	assert_output 0
	# Text: the same fields as key=value.
	: >"$SERVE_LOG"
	serve_start
	post /api/v1/runs -H "Authorization: Bearer $(token umbrella.write)" <<<'[{"workflow": "a", "status": "ok"}, {"workflow": "b", "status": "ok"}]'
	serve_stop
	run grep 'promrun_serve::http' "$SERVE_LOG"
	assert_output --regexp '^20[0-9-]+T[0-9:.]+Z INFO promrun_serve::http: POST /api/v1/runs 201 org=umbrella method=POST endpoint=/api/v1/runs code=201 duration_ms=[0-9.]+ runs=2$'
}

@test "--help, --version and the man page" {
	run promrun-serve --help
	assert_success
	assert_line --index 0 'usage: promrun-serve [-c CONFIG] [-l ADDRESS]... [-d DATA_DIR] [--log-format text|json]'
	assert_output --partial 'default 127.0.0.1:9089'
	run promrun-serve -V
	assert_output --regexp '^promrun-serve [0-9]'
	run --separate-stderr env MANWIDTH=80 man --warnings -l "$BATS_TEST_DIRNAME/../cmd/promrun-serve/promrun-serve.1"
	assert_success
	assert_equal "$stderr" ''
	assert_output --partial 'POST /api/v1/runs'
}
