# promrun-serve for the receiver's suites: started on a free port of
# 127.0.0.1 with its data in the test's directory, stopped by pid.
#
# Provides serve_start, serve_stop, post (curl with the body from stdin),
# and tokens in files: $TOKENS/acme.write, acme.read, umbrella.write,
# umbrella.read, default.write, default.read, prpc.psk.

# shellcheck source=common-setup.bash
source "$BATS_TEST_DIRNAME/test_helper/common-setup.bash"

# serve_tokens: write the token files under $BATS_TEST_TMPDIR/tokens.
serve_tokens() {
	TOKENS="$BATS_TEST_TMPDIR/tokens"
	mkdir -p "$TOKENS"
	local t
	for t in acme.write acme.read umbrella.write umbrella.read \
	    default.write default.read; do
		printf '%s-%s\n' "${t/./-}" "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$TOKENS/$t"
	done
	printf 'L3tM3!n\n' >"$TOKENS/prpc.psk"
	export TOKENS
}

# token NAME: the token in $TOKENS/NAME.
token() {
	head -n 1 "$TOKENS/$1"
}

# serve_orgs_config: $CONF with [org acme] and [org umbrella], labels
# org, repo and runner allowed.
serve_orgs_config() {
	serve_tokens
	cat >"$CONF" <<-CONF
	[journal]
	labels = org, repo, runner
	[org acme]
	write_token_file = $TOKENS/acme.write
	read_token_file = $TOKENS/acme.read
	[org umbrella]
	write_token_file = $TOKENS/umbrella.write
	read_token_file = $TOKENS/umbrella.read
	CONF
}

# serve_start [ARG...]: promrun-serve on a free port with data in
# $BATS_TEST_TMPDIR/data (DATA), its log in $BATS_TEST_TMPDIR/serve.log.
# Exports SERVE_PORT, SERVE_PID, SERVE_URL.
serve_start() {
	DATA="${DATA:-$BATS_TEST_TMPDIR/data}"
	SERVE_PORT=$(free_port)
	SERVE_URL="http://127.0.0.1:$SERVE_PORT"
	SERVE_LOG="$BATS_TEST_TMPDIR/serve.log"
	local rc=0
	server_start "$SERVE_LOG" "$SERVE_PORT" promrun-serve \
	    -l "127.0.0.1:$SERVE_PORT" -d "$DATA" "$@" || rc=$?
	SERVE_PID=$SERVER_PID
	export DATA SERVE_PORT SERVE_URL SERVE_PID SERVE_LOG
	return $rc
}

# serve_restart [ARG...]: stop and start again on the same port and data.
serve_restart() {
	local rc=0
	serve_stop || return 1
	server_start "$SERVE_LOG.2" "$SERVE_PORT" promrun-serve \
	    -l "127.0.0.1:$SERVE_PORT" -d "$DATA" "$@" || rc=$?
	SERVE_PID=$SERVER_PID
	cat "$SERVE_LOG.2" >>"$SERVE_LOG"
	return $rc
}

# serve_stop: SIGTERM, and wait until it is gone (the port and the journal
# are free then).  Fails, showing the log's end, unless it exited 0: a
# sanitizer's report (a leak, say) makes the exit status non-zero.
serve_stop() {
	local pid=${SERVE_PID:-} rc=0
	[ -n "$pid" ] || return 0
	SERVE_PID=
	stop_pid "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	wait "$pid" 2>/dev/null || rc=$?
	# 127: not our child (started elsewhere); nothing to tell.
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 127 ]; then
		echo "promrun-serve exited $rc:" >&2
		tail -n 30 "$SERVE_LOG" >&2
		return 1
	fi
}

# post PATH [CURL-ARG...]: POST the JSON on stdin; prints the body and,
# on a last line, the status code.
post() {
	local path=$1
	shift
	curl -sS -X POST -H 'Content-Type: application/json' \
	    --data-binary @- -w '\n%{http_code}\n' "$@" "$SERVE_URL$path"
}

# journal_lines ORG: the payloads of ORG's journal.
journal_lines() {
	journal_payloads "$DATA/$1/journal"
}
