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
	J="$BATS_TEST_TMPDIR/journal"
	# LeakSanitizer cannot run under ptrace (strace); ASan itself still does.
	export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
	export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
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
