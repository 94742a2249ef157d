# Common setup for every bats suite: load bats-support and bats-assert, put
# the freshly built programs first on PATH, and pin HOME, the config and the
# journal inside the test's private directory so no test touches the host.
#
# Provides: $J (a journal path), $CONF (an empty config file), and helpers.

_common_setup() {
	bats_require_minimum_version 1.5.0
	load '/usr/lib/bats/bats-support/load'
	load '/usr/lib/bats/bats-assert/load'
	: "${PROMRUN_BUILD:?run the tests through make check}"
	PATH="$PROMRUN_BUILD:$PROMRUN_BUILD/test:$PATH"
	export HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$HOME"
	unset XDG_STATE_HOME PROMRUN_JOURNAL
	CONF="$BATS_TEST_TMPDIR/promrun.ini"
	: >"$CONF"
	export PROMRUN_CONFIG="$CONF"
	# shellcheck disable=SC2034  # $J is for the suites that load this
	J="$BATS_TEST_TMPDIR/journal"
	# LeakSanitizer cannot run under ptrace (strace); ASan itself still does.
	export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
	# The jobs running before the test: bats' timeout watchdog.
	BATS_JOBS_BEFORE=" $(jobs -p | tr '\n' ' ')"
}

# wait_jobs: wait for every job the test started in the background (not
# bats' own timeout watchdog, which is a job of this shell too); fails if
# any of them failed.
wait_jobs() {
	local pid rc=0
	for pid in $(jobs -p); do
		[ "$pid" = "${BATS_killer_pid:-}" ] && continue
		wait "$pid" || rc=1
	done
	return "$rc"
}

# stop_background: for teardown.  End every job the test started in the
# background, and raise the "stop" flag the looping ones watch, so a failed
# assertion never leaves a recorder or a reader running through the rest of
# the suite (or keeps CI waiting after it).
stop_background() {
	local pid
	: >"$BATS_TEST_TMPDIR/stop"
	for pid in $(jobs -p); do
		# bats' own timeout watchdog is a job of this shell too; after a
		# failed test BATS_killer_pid is gone, hence the list from setup.
		[ "$pid" = "${BATS_killer_pid:-}" ] && continue
		case ${BATS_JOBS_BEFORE:-} in *" $pid "*) continue ;; esac
		pkill -KILL -P "$pid" 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	return 0
}

# volume N: how many iterations a test that starts thousands of processes
# runs: N, or a fifth of N under SANITIZE=1.  The sanitized pass looks for
# memory errors on the same code paths, and every sanitized process start
# costs ~20 ms more; the full volumes run in the plain pass.
volume() {
	if [ "${PROMRUN_SANITIZE:-}" = 1 ]; then
		echo $(($1 / 5))
	else
		echo "$1"
	fi
}

# Debian's python3 modules belong to /usr/bin/python3.
PYTHON3=/usr/bin/python3

# journal_summary FILE: the "# records=..." line journal-dump prints.
journal_summary() {
	journal-dump "$1" | tail -n 1
}

# journal_payloads FILE: the intact records' payloads, one per line.
journal_payloads() {
	journal-dump "$1" | sed '/^# /d'
}

# strace_env CMD...: run CMD with ASan options that work under strace.
strace_env() {
	ASAN_OPTIONS="abort_on_error=1:detect_leaks=0" "$@"
}

# many_runs: for tests that start the same program thousands of times.
# LeakSanitizer's exit-time scan costs ~20 ms per process here; leaks on the
# same code paths are caught by the single-run tests, which keep it on.
many_runs() {
	export ASAN_OPTIONS="abort_on_error=1:detect_leaks=0"
}

# prom_samples FILE: the canonical sample lines of an exposition, parsed by
# python3-prometheus-client (see test/tools/prom-samples.py).
prom_samples() {
	"$BATS_TEST_DIRNAME/tools/prom-samples.py" "$1"
}

# sample_value FILE 'name{labels}': the value on the line for that series as
# promrun writes it (labels in promrun's order); fails when absent.
sample_value() {
	local line
	line=$(grep -F -- "$2 " "$1" | grep -v '^#') || {
		echo "no series $2 in $1" >&2
		return 1
	}
	[ "$(printf '%s\n' "$line" | wc -l)" -eq 1 ] || {
		echo "series $2 appears more than once" >&2
		return 1
	}
	printf '%s\n' "${line##* }"
}

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
	"$PYTHON3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_listening PORT PID: wait (at most 10 s) until something accepts
# connections on PORT, failing early if PID died.
wait_listening() {
	local port=$1 pid=$2
	for _ in $(seq 100); do
		if "$PYTHON3" -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
		    "$port" 2>/dev/null; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "server pid $pid did not listen on port $port" >&2
	return 1
}

# server_start LOG PORT COMMAND [ARG...]: start a server in the background,
# its output in LOG and fd 3 closed (bats waits for fd 3), and wait until it
# listens on PORT of 127.0.0.1.  Sets SERVER_PID, even when it fails (then
# LOG goes to stderr).
server_start() {
	local log=$1 port=$2
	shift 2
	"$@" >"$log" 2>&1 3>&- &
	SERVER_PID=$!
	wait_listening "$port" "$SERVER_PID" || {
		cat "$log" >&2
		return 1
	}
}

# stop_pid PID: TERM it and wait (at most 5 s) until it is gone.
stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# wait_for_http URL [SECONDS]: until URL answers, at most SECONDS (default 10).
wait_for_http() {
	local i
	# shellcheck disable=SC2034  # only counts the tries
	for i in $(seq $((${2:-10} * 20))); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nothing answered at $1" >&2
	return 1
}
