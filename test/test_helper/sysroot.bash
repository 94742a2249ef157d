# A real systemd booted as PID 1 on a throwaway root, for tests of what only
# a running systemd does: units started by it, their sandbox, path units,
# timers, sockets.  As root, test/test_helper/sysroot-init runs in fresh
# mount, PID, network, UTS, IPC and cgroup namespaces: it mounts a tmpfs
# holding an overlay of the host's / (so the root is the host's programs,
# with every write kept in memory), fresh /proc, /run and /tmp, a read-only
# /sys, a /dev of harmless devices, brings its own loopback up, pivots into
# the overlay, detaches the old root and executes systemd with a target of
# its own (SYSROOT_TARGET), so none of the installed packages' services
# start unless a test asks.  Commands run inside with nsenter; a server in
# it listens on the namespace's 127.0.0.1, which the host's ports never see.
#
# The host is checked too: sysroot_boot leaves a canary file in the host's
# /tmp (systemd's tmpfiles empties /tmp at boot: booted on the host's file
# system it once did) and sysroot_shutdown fails unless it is still there,
# the host name unchanged, nothing of the namespaces left running or
# mounted, and their cgroup removed.  Every wait is bounded.
#
#   sysroot_unavailable           why this machine cannot boot one (or fail)
#   sysroot_boot DIR [UNIT...]    boot, wanting UNITs too; files put in
#                                 DIR/seed before are copied onto the root,
#                                 SYSROOT_BIND's directories bound read-only
#   sysroot_run CMD...            run CMD inside, as root, clean environment
#   sysroot_sh SCRIPT [ARG...]    sh -c SCRIPT inside
#   sysroot_net CMD...            run a host CMD in the namespace's network
#   sysroot_write FILE [MODE]     standard input becomes FILE inside
#   sysroot_copy SRC DIR          copy a host file or tree into DIR inside
#   sysroot_wait UNIT PROP VALUE [SECONDS]   until systemctl show says so
#   sysroot_until SECONDS CMD...  until CMD succeeds inside
#   sysroot_listening PORT [SECONDS]         until 127.0.0.1:PORT accepts
#   sysroot_shutdown              poweroff, then check what is left

SYSROOT_TARGET=promrun-sysroot.target
# The longest a command inside may take, and a boot may live: a test that
# forgets to shut down never leaves systemd running for long.
SYSROOT_TIMEOUT=${SYSROOT_TIMEOUT:-120}
SYSROOT_LIFETIME=${SYSROOT_LIFETIME:-1800}
SYSROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# sysroot_unavailable: print why a sysroot cannot boot here and succeed,
# or print nothing and fail.  For: reason=$(sysroot_unavailable) && skip "$reason"
sysroot_unavailable() {
	local c
	if [ "$(id -u)" -ne 0 ]; then
		echo "booting systemd in namespaces needs root"
		return 0
	fi
	for c in unshare nsenter pivot_root findmnt ip timeout pgrep tar; do
		command -v "$c" >/dev/null || {
			echo "$c is not installed (util-linux, iproute2, coreutils, procps, tar)"
			return 0
		}
	done
	if [ ! -x /lib/systemd/systemd ]; then
		echo "/lib/systemd/systemd is not installed (Debian package systemd)"
		return 0
	fi
	if ! sysroot_cgroup2 >/dev/null; then
		echo "no cgroup v2 hierarchy is mounted"
		return 0
	fi
	if ! grep -qw overlay /proc/filesystems &&
	    ! modinfo overlay >/dev/null 2>&1; then
		echo "the kernel has no overlay file system"
		return 0
	fi
	if ! unshare --mount --pid --fork --net --uts --ipc --cgroup \
	    --propagation private true 2>/dev/null; then
		echo "cannot create namespaces here (a container without CAP_SYS_ADMIN?)"
		return 0
	fi
	return 1
}

# sysroot_cgroup2: the host's cgroup v2 directory of this process.
sysroot_cgroup2() {
	local base own
	base=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
	own=$(sed -n 's/^0:://p' /proc/self/cgroup)
	[ -n "$base" ] && [ -d "$base$own" ] || return 1
	printf '%s\n' "${base}${own%/}"
}

# sysroot_masks DIR: mask, in DIR (the root's /etc/systemd/system), every
# unit the host's sysinit, sockets, timers and paths targets want, except
# the journal's: kernel settings, modules, binfmt, swap, clocks, disks,
# random seeds and the packages' timers stay the host's business.  Units
# started in the root still pull sysinit.target; it then starts nothing.
sysroot_masks() {
	local w u
	for w in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
		for u in "$w"/sysinit.target.wants/* "$w"/sockets.target.wants/* \
		    "$w"/timers.target.wants/* "$w"/paths.target.wants/*; do
			[ -e "$u" ] || [ -L "$u" ] || continue
			case ${u##*/} in
			systemd-journald.service | systemd-journald*.socket) ;;
			*) ln -sfn /dev/null "$1/${u##*/}" ;;
			esac
		done
	done
}

# sysroot_boot DIR [UNIT...]: boot systemd on a throwaway root, its state in
# DIR (a fresh directory on the host: console.log, init.log, the
# namespaces' mount point), wanting UNITs at boot besides the journal; wait
# (at most 60 s) until it reports "running".  Files placed in DIR/seed
# before are copied onto the root before systemd starts; the directories
# named in SYSROOT_BIND (blank-separated) are bound read-only at their
# place (the source tree and the build: the tests use the built programs,
# and the host's tree stays as it is).  Exports SYSROOT_PID (systemd's PID
# on the host), SYSROOT_DIR.
sysroot_boot() {
	local dir=$1 init unit state i b
	local -a binds=()
	shift
	for b in ${SYSROOT_BIND:-}; do
		binds+=("$(realpath -e "$b")") || return 1
	done
	init="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sysroot-init"
	SYSROOT_DIR=$dir SYSROOT_PID=
	export SYSROOT_DIR SYSROOT_PID
	mkdir -p "$dir/stage" "$dir/seed/etc/systemd/system"
	: >"$dir/console.log"
	unit=$dir/seed/etc/systemd/system/$SYSROOT_TARGET
	{
		printf '[Unit]\nDescription=promrun test root\n'
		printf 'Wants=systemd-journald.service %s\n' "$*"
	} >"$unit"
	sysroot_masks "$dir/seed/etc/systemd/system"

	# The host's state to check after shutdown.
	SYSROOT_CANARY=$(mktemp /tmp/promrun-sysroot-canary.XXXXXX)
	echo "$SYSROOT_CANARY" >"$SYSROOT_CANARY"
	SYSROOT_HOSTNAME=$(uname -n)
	SYSROOT_CGROUP=$(mktemp -d "$(sysroot_cgroup2)/promrun-sysroot.XXXXXX") ||
	    return 1
	export SYSROOT_CANARY SYSROOT_HOSTNAME SYSROOT_CGROUP

	# timeout bounds the boot's life; --kill-child ends systemd, and so
	# the PID namespace, when unshare ends.  fd 3 is bats'.
	timeout -s KILL "$SYSROOT_LIFETIME" unshare --mount --pid --fork \
	    --net --uts --ipc --propagation private --kill-child=SIGKILL \
	    "$init" "$dir/stage" "$dir/console.log" "$dir/seed" \
	    "$SYSROOT_CGROUP" "$SYSROOT_TARGET" "${binds[@]}" \
	    >"$dir/init.log" 2>&1 3>&- &
	SYSROOT_JOB=$!
	export SYSROOT_JOB
	# systemd: PID 1 of the new namespace, the child of unshare, the
	# child of timeout.
	for ((i = 0; i < 100; i++)); do
		SYSROOT_PID=$(sysroot_find_init) && break
		kill -0 "$SYSROOT_JOB" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$SYSROOT_PID" ]; then
		echo "sysroot: systemd did not start" >&2
		cat "$dir/init.log" >&2
		sysroot_shutdown
		return 1
	fi
	export SYSROOT_PID
	for ((i = 0; i < 300; i++)); do
		state=$(sysroot_run systemctl is-system-running 2>/dev/null) || true
		case $state in
		running) return 0 ;;
		degraded | maintenance | stopping | offline) break ;;
		esac
		sleep 0.2
	done
	echo "sysroot: systemd is \"$state\" after boot, not running" >&2
	sysroot_run systemctl --no-pager --failed >&2
	cat "$dir/init.log" "$dir/console.log" >&2
	sysroot_shutdown
	return 1
}

# sysroot_find_init: the host PID of the boot's PID 1, once it runs systemd.
sysroot_find_init() {
	local unshare pid
	unshare=$(pgrep -P "$SYSROOT_JOB" -x unshare) || return 1
	for pid in $(pgrep -P "$unshare"); do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd ] || continue
		grep -q '^NSpid:.*[[:space:]]1$' "/proc/$pid/status" || continue
		echo "$pid"
		return 0
	done
	return 1
}

# sysroot_sanitizer_env DIR SANITIZE: before sysroot_boot DIR, when
# SANITIZE is 1 (programs built with ASan and UBSan), give every service
# the sanitizers' options as the suites use them, leak detection off: a
# sandboxed service may not ptrace, which LeakSanitizer needs (as under
# strace); the other suites look for leaks on the same code paths.
sysroot_sanitizer_env() {
	[ "$2" = 1 ] || return 0
	mkdir -p "$1/seed/etc/systemd/system.conf.d"
	printf '[Manager]\nDefaultEnvironment=ASAN_OPTIONS=abort_on_error=1:detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1\n' \
	    >"$1/seed/etc/systemd/system.conf.d/promrun-sanitizers.conf"
}

# sysroot_run CMD...: run CMD inside the root, as root, in its namespaces
# and root directory, from /, with a clean environment (PATH, HOME=/root,
# LANG=C.UTF-8; add variables with env).  Standard input passes through.
# Fails after SYSROOT_TIMEOUT seconds.
sysroot_run() {
	[ -n "${SYSROOT_PID:-}" ] || { echo "sysroot: not booted" >&2; return 1; }
	timeout -k 5 "$SYSROOT_TIMEOUT" nsenter -t "$SYSROOT_PID" -m -u -i -n \
	    -p -C -r -w -- env -i PATH="$SYSROOT_PATH" HOME=/root LANG=C.UTF-8 \
	    "$@"
}

# sysroot_sh SCRIPT [ARG...]: run the shell SCRIPT inside ($1... are ARGs).
sysroot_sh() {
	local script=$1
	shift
	sysroot_run /bin/sh -c "$script" sh "$@"
}

# sysroot_net CMD...: run CMD, a host command with the host's files, in the
# root's network namespace only: how the host talks to a server inside.
sysroot_net() {
	timeout -k 5 "$SYSROOT_TIMEOUT" nsenter -t "$SYSROOT_PID" -n -- "$@"
}

# sysroot_write FILE [MODE]: write standard input to FILE inside (its
# directory created), mode MODE (default 644), owned by root.
sysroot_write() {
	# shellcheck disable=SC2016  # expanded by the shell inside
	sysroot_sh 'mkdir -p "$(dirname "$1")" && cat >"$1" && chmod "$2" "$1"' \
	    "$1" "${2:-644}"
}

# sysroot_copy SRC DIR: copy the host's file or tree SRC into DIR inside
# (created), keeping modes.
sysroot_copy() {
	local src=$1 -
	set -o pipefail
	# shellcheck disable=SC2016  # expanded by the shell inside
	tar -C "$(dirname "$src")" -cf - "$(basename "$src")" |
	    sysroot_sh 'mkdir -p "$1" && tar -C "$1" -xf -' "$2"
}

# sysroot_wait UNIT PROPERTY VALUE [SECONDS]: until systemctl show gives
# UNIT's PROPERTY as VALUE (at most SECONDS, default 30); else fail showing
# the last value and the unit's status.
sysroot_wait() {
	local unit=$1 prop=$2 want=$3 limit=$((${4:-30} * 5)) i have
	for ((i = 0; i < limit; i++)); do
		have=$(sysroot_run systemctl show -P "$prop" "$unit") &&
		    [ "$have" = "$want" ] && return 0
		sleep 0.2
	done
	echo "sysroot: $unit $prop is \"$have\", not \"$want\", after ${4:-30} s" >&2
	sysroot_run systemctl --no-pager status "$unit" >&2
	return 1
}

# sysroot_until SECONDS CMD...: run CMD inside every 0.2 s until it
# succeeds, at most SECONDS; else fail showing its last output.
sysroot_until() {
	local limit=$(($1 * 5)) i out
	shift
	for ((i = 0; i < limit; i++)); do
		out=$(sysroot_run "$@" 2>&1) && return 0
		sleep 0.2
	done
	printf 'sysroot: not true within %s s: %s\nlast output: %s\n' \
	    "$((limit / 5))" "$*" "$out" >&2
	return 1
}

# sysroot_listening PORT [SECONDS]: until something accepts connections on
# the namespace's 127.0.0.1:PORT (at most SECONDS, default 10).
sysroot_listening() {
	local limit=$((${2:-10} * 10)) i
	for ((i = 0; i < limit; i++)); do
		# shellcheck disable=SC2016  # expanded by that bash
		sysroot_net bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' sh "$1" \
		    2>/dev/null && return 0
		sleep 0.1
	done
	echo "sysroot: nothing listens on 127.0.0.1:$1 inside" >&2
	return 1
}

# sysroot_shutdown: power the root off (systemctl poweroff inside), wait
# (at most 30 s) for its PID 1 to end, else kill it; then fail if anything
# is left: a process in its namespaces, a mount on the host, a process in
# its cgroup (removed), or if the host's canary file or name changed.
# Nothing booted (a skipped suite's teardown), nothing to do.
sysroot_shutdown() {
	local pid=${SYSROOT_PID:-} mntns="" i rc=0 p
	if [ -n "$pid" ]; then
		mntns=$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)
		sysroot_run systemctl poweroff --no-block >/dev/null 2>&1
		for ((i = 0; i < 150; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "sysroot: systemd (PID $pid) did not power off in 30 s; killed" >&2
			kill -KILL "$pid" 2>/dev/null
			rc=1
		fi
	fi
	if [ -n "${SYSROOT_JOB:-}" ]; then
		for ((i = 0; i < 50; i++)); do
			kill -0 "$SYSROOT_JOB" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$SYSROOT_JOB" 2>/dev/null
		wait "$SYSROOT_JOB" 2>/dev/null
	fi
	SYSROOT_PID='' SYSROOT_JOB=''
	if [ -n "$mntns" ]; then
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$mntns" ] || continue
			echo "sysroot: ${p#/proc/} is still in the root's namespace" >&2
			rc=1
		done
	fi
	if [ -n "${SYSROOT_DIR:-}" ] &&
	    grep -qF " $SYSROOT_DIR/" /proc/self/mountinfo; then
		echo "sysroot: something is mounted under $SYSROOT_DIR on the host" >&2
		rc=1
	fi
	if [ -n "${SYSROOT_CGROUP:-}" ] && [ -d "$SYSROOT_CGROUP" ]; then
		if [ -n "$(find "$SYSROOT_CGROUP" -name cgroup.procs -exec cat {} +)" ]; then
			echo "sysroot: processes left in $SYSROOT_CGROUP" >&2
			rc=1
		fi
		find "$SYSROOT_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null ||
		    rc=1
	fi
	if [ -n "${SYSROOT_CANARY:-}" ]; then
		if [ "$(cat "$SYSROOT_CANARY" 2>/dev/null)" != "$SYSROOT_CANARY" ]; then
			echo "sysroot: the host's $SYSROOT_CANARY is gone or changed" >&2
			rc=1
		fi
		rm -f "$SYSROOT_CANARY"
	fi
	if [ -n "${SYSROOT_HOSTNAME:-}" ] && [ "$(uname -n)" != "$SYSROOT_HOSTNAME" ]; then
		echo "sysroot: the host's name changed to $(uname -n)" >&2
		rc=1
	fi
	return "$rc"
}
