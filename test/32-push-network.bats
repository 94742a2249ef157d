#!/usr/bin/env bats
# promrun-push when the network or the gateway misbehaves: bounded retries
# with backoff, timeouts that hold, which statuses are retried, redirects.
# A real gateway cannot be made to hang, answer 503 or redirect, so those
# cases use test_helper/http-stub.py; a refusal from the real gateway is in
# 30-push.bats.

load 'test_helper/pushgateway'

setup() {
	_common_setup
	cd "$BATS_TEST_TMPDIR"
	printf 'net_metric 1\n' >m.prom
	STUB_DIR="$BATS_TEST_TMPDIR/stub"
}

teardown() {
	stub_stop
}

# timed CMD...: run CMD through `run --separate-stderr` and set $elapsed to
# its wall time in seconds (a decimal).
timed() {
	local t0 t1
	t0=$(date +%s.%N)
	run --separate-stderr "$@"
	t1=$(date +%s.%N)
	elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

# between LOW HIGH: LOW <= $elapsed <= HIGH.
between() {
	awk -v e="$elapsed" -v lo="$1" -v hi="$2" \
	    'BEGIN { exit !(e >= lo && e <= hi) }' || {
		echo "elapsed $elapsed s, wanted $1 to $2"
		return 1
	}
}

attempts() {
	grep -c ': attempt [0-9]*: ' <<<"$stderr"
}

@test "nothing listening: bounded retries with backoff, then exit 1" {
	port=$(free_port)
	timed promrun-push -v -u "http://127.0.0.1:$port" --timeout 1 --retries 3 m.prom
	assert_failure 1
	[ "$(attempts)" -eq 4 ]
	[[ ${stderr_lines[-1]} =~ ^"promrun-push: cannot push {job=\"promrun\"} to http://127.0.0.1:$port (4 attempts): Failed to connect to 127.0.0.1 port $port after "[0-9]+" ms: Couldn't connect to server"$ ]]
	# Waits of 0.25-0.5, 0.5-1 and 1-2 s: at least 1.75 s in all, and
	# within timeout x (retries + 1) plus the longest backoff.
	between 1.75 7.5
	# Each wait is within its bounds.
	waits=$(grep -o 'retry [0-9] of 3 in [0-9.]*' <<<"$stderr" | awk '{print $NF}')
	[ "$(echo "$waits" | wc -l)" -eq 3 ]
	paste -d' ' <(echo "$waits") <(printf '0.25 0.5\n0.5 1\n1 2\n') |
	    awk '{ if ($1 < $2 || $1 > $3) exit 1 }'
}

@test "--retries 0: one attempt only" {
	port=$(free_port)
	timed promrun-push -v -u "http://127.0.0.1:$port" --retries 0 m.prom
	assert_failure 1
	[ "$(attempts)" -eq 1 ]
	between 0 1
}

@test "a gateway that accepts and never answers: the timeout holds" {
	stub_start "$STUB_DIR" hang
	timed promrun-push -v -u "$STUB_URL" --timeout 1 --retries 0 m.prom
	assert_failure 1
	between 0.9 2
	[[ ${stderr_lines[-1]} =~ ^"promrun-push: cannot push {job=\"promrun\"} to $STUB_URL: Operation timed out after "[0-9]+" milliseconds with 0 bytes received"$ ]]
	timed promrun-push -u "$STUB_URL" --timeout 0.5 --retries 2 m.prom
	assert_failure 1
	[[ ${stderr_lines[-1]} == *"(3 attempts): Operation timed out after"* ]]
	# 3 x 0.5 s plus waits of at most 0.5 and 1 s.
	between 1.5 4.5
	[ "$(stub_requests "$STUB_DIR")" -eq 4 ]
}

@test "5xx is retried until the gateway recovers" {
	stub_start "$STUB_DIR" status 503 502 200
	run --separate-stderr promrun-push -v -u "$STUB_URL" --retries 3 m.prom
	assert_success
	[ "$(stub_requests "$STUB_DIR")" -eq 3 ]
	[ "$(attempts)" -eq 3 ]
	# The same request each time: method, path and body.
	[ "$(grep -c '^REQUEST PUT /metrics/job@base64/cHJvbXJ1bg== HTTP/1.1$' "$STUB_DIR/requests")" -eq 3 ]
	[ "$(grep -c '^BODY 13$' "$STUB_DIR/requests")" -eq 3 ]
}

@test "5xx that persists: retries bounded, exit 1 with status and body" {
	stub_start "$STUB_DIR" status 500
	run --separate-stderr promrun-push -u "$STUB_URL" --retries 2 m.prom
	assert_failure 1
	[ "$stderr" = 'promrun-push: gateway refused the push of {job="promrun"} (HTTP 500, 3 attempts): stub answer 500' ]
	[ "$(stub_requests "$STUB_DIR")" -eq 3 ]
}

@test "429 is retried, after Retry-After when that is longer" {
	stub_start "$STUB_DIR" status 429+2 200
	timed promrun-push -v -u "$STUB_URL" m.prom
	assert_success
	[ "$(stub_requests "$STUB_DIR")" -eq 2 ]
	assert_equal "$(grep -o 'retry 1 of 3 in [0-9.]* s' <<<"$stderr")" 'retry 1 of 3 in 2.00 s'
	between 2 4
}

@test "4xx is not retried and its body is shown" {
	for code in 400 401 403 404 409; do
		stub_start "$STUB_DIR" status "$code" 200
		run --separate-stderr promrun-push -u "$STUB_URL" --retries 3 m.prom
		assert_failure 1
		[ "$stderr" = "promrun-push: gateway refused the push of {job=\"promrun\"} (HTTP $code): stub answer $code" ]
		[ "$(stub_requests "$STUB_DIR")" -eq 1 ]
		stub_stop
	done
}

@test "redirects are not followed" {
	for method in "" --add --delete; do
		stub_start "$STUB_DIR" status 307 200
		args=(-u "$STUB_URL" --retries 3)
		[ -z "$method" ] || args+=("$method")
		[ "$method" = --delete ] || args+=(m.prom)
		run --separate-stderr promrun-push "${args[@]}"
		assert_failure 1
		[[ $stderr == "promrun-push: gateway answered the "*" of {job=\"promrun\"} with a redirect (HTTP 307) to $STUB_URL/elsewhere: redirects are not followed; give the final URL with --url" ]]
		[ "$(stub_requests "$STUB_DIR")" -eq 1 ]
		stub_stop
	done
}

@test "an answer other than 200 or 202 is not success" {
	stub_start "$STUB_DIR" status 204
	run --separate-stderr promrun-push -u "$STUB_URL" m.prom
	assert_failure 1
	[ "$stderr" = 'promrun-push: gateway refused the push of {job="promrun"} (HTTP 204): (no reason given)' ]
}

@test "POST, DELETE and the headers sent" {
	stub_start "$STUB_DIR" status 200 202
	run promrun-push -u "$STUB_URL/prefix/" --job j --add m.prom
	assert_success
	run promrun-push -u "$STUB_URL/prefix" --job j --delete
	assert_success
	run cat "$STUB_DIR/requests"
	assert_line --index 0 'REQUEST POST /prefix/metrics/job@base64/ag== HTTP/1.1'
	assert_line 'Content-Type: text/plain; version=0.0.4; charset=utf-8'
	assert_line 'User-Agent: promrun-push/0.1.0'
	assert_line 'REQUEST DELETE /prefix/metrics/job@base64/ag== HTTP/1.1'
	assert_line 'BODY 0'
	refute_line --partial 'Expect:'
	refute_line --partial 'Authorization'
}
