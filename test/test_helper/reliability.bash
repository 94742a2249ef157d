# Helpers for the reliability suites: state snapshots, syscall counting and
# crash injection with strace, and the checks every crash point must pass.
#
# PROMRUN_LONG=1 (make check-long) runs the long variants.

long_run() {
	[ "${PROMRUN_LONG:-0}" = 1 ]
}

# syscall_count SYSCALL CMD...: how often CMD makes SYSCALL (children too).
syscall_count() {
	local sc=$1 log="$BATS_TEST_TMPDIR/count.$RANDOM"
	shift
	strace_env strace -f -qq -e trace="$sc" -o "$log" "$@" >/dev/null 2>&1 || true
	grep -c "^[0-9]* *$sc(\|^$sc(" "$log" || true
	rm -f "$log"
}

# crash_at SYSCALL N CMD...: run CMD, killed by SIGKILL as it enters its
# N-th SYSCALL.  Prints nothing; returns CMD's status (137 when killed).
crash_at() {
	local sc=$1 n=$2
	shift 2
	strace_env strace -f -qq -o /dev/null \
	    -e inject="$sc:signal=SIGKILL:when=$n" "$@" >/dev/null 2>&1
}

# no_temp_files DIR...: nothing a crashed writer could have left behind.
no_temp_files() {
	local left
	left=$(find "$@" -name '*.tmp' 2>/dev/null)
	[ -z "$left" ] || { echo "left behind: $left"; return 1; }
}

# total_runs FILE: the sum of every ci_workflow_runs_total sample.
total_runs() {
	awk '/^ci_workflow_runs_total/ { s += $2 } END { print s + 0 }' "$1"
}

# no_counter_decrease OLD NEW: parses, and no counter went down or vanished.
no_counter_decrease() {
	"$BATS_TEST_DIRNAME/tools/prom-compare.py" "$1" "$2"
}

# The syscalls every crash suite kills at.
# shellcheck disable=SC2034  # used by the suites that load this
CRASH_SYSCALLS="openat write fsync fdatasync rename ftruncate unlink flock"

# nth_call SYSCALL REGEX CMD...: which occurrence of SYSCALL in a clean run
# of CMD is the first whose strace line (file descriptors shown as paths)
# matches REGEX; fails when none does.
nth_call() {
	local sc=$1 re=$2 log="$BATS_TEST_TMPDIR/nth.$RANDOM" n
	shift 2
	strace_env strace -f -qq -y -e trace="$sc" -o "$log" "$@" >/dev/null 2>&1 || true
	n=$(grep -E "(^|[0-9] +)$sc\(" "$log" | grep -n -E -- "$re" | head -n 1 | cut -d: -f1)
	rm -f "$log"
	[ -n "$n" ] || { echo "no $sc matching $re" >&2; return 1; }
	echo "$n"
}

# fail_at SYSCALL N ERRNO CMD...: run CMD with its N-th SYSCALL failing
# with ERRNO.  Output and status as CMD's.
fail_at() {
	local sc=$1 n=$2 err=$3
	shift 3
	strace_env strace -f -qq -o /dev/null \
	    -e inject="$sc:error=$err:when=$n" "$@"
}
