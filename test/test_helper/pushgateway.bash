# A real prometheus-pushgateway for the push suites, and a tiny HTTP stub
# for what the real gateway cannot be made to do (never answer, answer 503,
# redirect, record the headers it got).
#
# A suite loads it at its top ("load 'test_helper/pushgateway'"): it brings
# common-setup and a teardown_file that stops the gateway a suite's
# setup_file started with gateway_start.
# Every server listens on 127.0.0.1 on a port the kernel picked free, is
# started in the background with fd 3 closed (bats waits for fd 3), and is
# stopped by its pid.

# shellcheck source=common-setup.bash
source "$BATS_TEST_DIRNAME/test_helper/common-setup.bash"

PUSHGATEWAY=${PUSHGATEWAY:-/usr/bin/prometheus-pushgateway}

# gateway_start DIR [FLAG...]: start the gateway with its own persistence
# file and log in DIR.  Exports GW_PORT, GW_PID and GW_URL (https:// when a
# FLAG is --web.config.file=..., which the TLS suite uses).
gateway_start() {
	local dir=$1 scheme=http rc=0
	shift
	case " $* " in *" --web.config.file="*) scheme=https ;; esac
	mkdir -p "$dir"
	GW_PORT=$(free_port)
	GW_URL="$scheme://127.0.0.1:$GW_PORT"
	server_start "$dir/gateway.log" "$GW_PORT" "$PUSHGATEWAY" \
	    --web.listen-address="127.0.0.1:$GW_PORT" \
	    --persistence.file="$dir/gateway.persist" --log.level=warn "$@" ||
	    rc=$?
	GW_PID=$SERVER_PID
	export GW_PORT GW_PID GW_URL
	return $rc
}

gateway_stop() {
	stop_pid "${GW_PID:-}"
}

# gateway_series [CURL-ARG...]: the gateway's /metrics without comments and
# without its own go_*, process_* and pushgateway_* families, sorted.
gateway_series() {
	curl -sS --fail "$@" "$GW_URL/metrics" | grep -v -e '^#' -e '^go_' \
	    -e '^process_' -e '^pushgateway_' | LC_ALL=C sort
}

# gateway_value SERIES [CURL-ARG...]: the value of one series exactly as
# written, e.g. 'push_time_seconds{instance="",job="j"}'; empty if absent.
gateway_value() {
	local series=$1
	shift
	gateway_series "$@" | awk -v s="$series" \
	    'substr($0, 1, length(s) + 1) == s " " { print $2 }'
}

# stub_start DIR MODE [ARG...]: the HTTP stub (test_helper/http-stub.py) in
# DIR; it logs each request to DIR/requests.  Exports STUB_PORT, STUB_PID
# and STUB_URL.
stub_start() {
	local dir=$1
	shift
	mkdir -p "$dir"
	rm -f "$dir/port" "$dir/requests"
	"$PYTHON3" "$BATS_TEST_DIRNAME/test_helper/http-stub.py" "$dir" "$@" \
	    >"$dir/stub.log" 2>&1 3>&- &
	STUB_PID=$!

	for _ in $(seq 100); do
		[ -s "$dir/port" ] && break
		sleep 0.05
	done
	STUB_PORT=$(cat "$dir/port")
	STUB_URL="http://127.0.0.1:$STUB_PORT"
	export STUB_PORT STUB_PID STUB_URL
	wait_listening "$STUB_PORT" "$STUB_PID"
}

stub_stop() {
	stop_pid "${STUB_PID:-}"
}

# stub_requests DIR: how many requests the stub received.
stub_requests() {
	if [ -f "$1/requests" ]; then
		grep -c '^REQUEST ' "$1/requests"
	else
		echo 0
	fi
}

# Stops the suite's gateway, if its setup_file started one.
teardown_file() {
	gateway_stop
}

# push_test_setup PREFIX: the common setup of a test against the shared
# gateway: its own job, PREFIX plus the test's number (the gateway is shared
# by the file), that job and the gateway's URL in the config, and the test's
# directory as the working directory.
push_test_setup() {
	_common_setup
	JOB="$1$BATS_TEST_NUMBER"
	printf '[push]\nurl = %s\njob = %s\n' "$GW_URL" "$JOB" >"$CONF"
	cd "$BATS_TEST_TMPDIR" || return 1
}
