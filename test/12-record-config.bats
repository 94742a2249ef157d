#!/usr/bin/env bats
# promrun-record: where the journal goes, and what the config can say.

setup() {
	load 'test_helper/common-setup'
	_common_setup
}

@test "with no config file the journal defaults to XDG_STATE_HOME" {
	export XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
	run promrun-record -c /dev/null -w w -s ok
	assert_success
	run journal_summary "$XDG_STATE_HOME/promrun/journal"
	assert_output --partial 'records=1 damaged=0'
}

@test "without XDG_STATE_HOME the journal is under ~/.local/state" {
	unset PROMRUN_CONFIG
	# No -c, no PROMRUN_CONFIG: /etc/promrun/promrun.ini may be absent.
	[ -e /etc/promrun/promrun.ini ] && skip "host has /etc/promrun/promrun.ini"
	run promrun-record -w w -s ok
	assert_success
	run journal_summary "$HOME/.local/state/promrun/journal"
	assert_output --partial 'records=1 damaged=0'
}

@test "a relative XDG_STATE_HOME is ignored as the spec says" {
	export XDG_STATE_HOME=relative/state
	cd "$BATS_TEST_TMPDIR"
	promrun-record -w w -s ok
	[ ! -e relative ]
	[ -s "$HOME/.local/state/promrun/journal" ]
}

@test "[journal] path sets the journal, PROMRUN_JOURNAL and -j override it" {
	printf '[journal]\npath = %s\n' "$BATS_TEST_TMPDIR/from-config" >"$CONF"
	promrun-record -w w -s ok
	PROMRUN_JOURNAL="$BATS_TEST_TMPDIR/from-env" promrun-record -w w -s ok
	PROMRUN_JOURNAL="$BATS_TEST_TMPDIR/from-env" promrun-record -j "$BATS_TEST_TMPDIR/from-opt" -w w -s ok
	for f in from-config from-env from-opt; do
		run journal_summary "$BATS_TEST_TMPDIR/$f"
		assert_output --partial 'records=1 damaged=0'
	done
}

@test "-c takes precedence over PROMRUN_CONFIG" {
	printf '[journal]\npath = %s\n' "$BATS_TEST_TMPDIR/one" >"$CONF"
	printf '[journal]\npath = %s\n' "$BATS_TEST_TMPDIR/two" >"$BATS_TEST_TMPDIR/other.ini"
	promrun-record -c "$BATS_TEST_TMPDIR/other.ini" -w w -s ok
	[ ! -e "$BATS_TEST_TMPDIR/one" ]
	[ -s "$BATS_TEST_TMPDIR/two" ]
}

@test "comments, blank lines and inline comments are fine" {
	cat >"$CONF" <<-EOF
	; promrun configuration
	# the journal
	[journal]

	path = $BATS_TEST_TMPDIR/j2 ; where runs go
	fsync = never
	labels = repo,branch
	EOF
	run promrun-record -w w -s ok -l repo=r
	assert_success
	[ -s "$BATS_TEST_TMPDIR/j2" ]
}

@test "missing journal directories are created" {
	run promrun-record -j "$BATS_TEST_TMPDIR/a/b/c/journal" -w w -s ok
	assert_success
	[ -s "$BATS_TEST_TMPDIR/a/b/c/journal" ]
	[ -e "$BATS_TEST_TMPDIR/a/b/c/journal.lock" ]
}

@test "the journal file honours the umask" {
	(umask 027 && promrun-record -j "$J" -w w -s ok)
	run stat -c %a "$J"
	assert_output 640
}

# as_nobody COMMAND...: run COMMAND as nobody, who can reach the test's
# directory but owns nothing in it.
as_nobody() {
	chmod o+x "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR"
	chmod o+r "$CONF"
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

@test "a journal directory the recorder may not write: the reason is EACCES, not the read-only retry's" {
	D=$BATS_TEST_TMPDIR/ro
	mkdir "$D"
	# strace's fault injection on the lock file's first open, as any user:
	# the read-only retry then finds no lock file.
	run --separate-stderr strace_env strace -f -qq -o /dev/null -P "$D/journal.lock" \
	    -e inject=openat:error=EACCES:when=1 promrun-record -j "$D/journal" -w w -s ok
	assert_failure 1
	assert_equal "$stderr" "promrun-record: cannot open lock file $D/journal.lock: Permission denied"
	# Another error is reported as it is, with no retry.
	run --separate-stderr strace_env strace -f -qq -o /dev/null -P "$D/journal.lock" \
	    -e inject=openat:error=EROFS:when=1 promrun-record -j "$D/journal" -w w -s ok
	assert_failure 1
	assert_equal "$stderr" "promrun-record: cannot open lock file $D/journal.lock: Read-only file system"
	[ -z "$(ls -A "$D")" ]
	[ "$(id -u)" -eq 0 ] || skip "needs root to switch to nobody"
	# For real, as nobody: a directory of root's, no lock file yet.
	run --separate-stderr as_nobody promrun-record -j "$D/journal" -w w -s ok
	assert_failure 1
	assert_equal "$stderr" "promrun-record: cannot open lock file $D/journal.lock: Permission denied"
	# A lock file nobody may neither write nor read.
	: >"$D/journal.lock"
	chmod 600 "$D/journal.lock"
	run --separate-stderr as_nobody promrun-record -j "$D/journal" -w w -s ok
	assert_failure 1
	assert_equal "$stderr" "promrun-record: cannot open lock file $D/journal.lock: Permission denied"
	# A lock file it may only read is enough to lock; the journal is what
	# it may not write, and says so.
	chmod 644 "$D/journal.lock"
	run --separate-stderr as_nobody promrun-record -j "$D/journal" -w w -s ok
	assert_failure 1
	assert_equal "$stderr" "promrun-record: cannot open journal $D/journal: Permission denied"
	# In a directory it may not create, the parent's reason.
	run --separate-stderr as_nobody promrun-record -j "$D/sub/journal" -w w -s ok
	assert_failure 1
	assert_equal "$stderr" "promrun-record: cannot create directory $D/sub: Permission denied"
}

@test "a config file that fails to read gives the system's reason" {
	printf '[journal]\nfsync = never\n' >"$CONF"
	run --separate-stderr strace_env strace -f -qq -o /dev/null -P "$CONF" \
	    -e inject=read:error=EIO:when=1 promrun-record -j "$J" -w w -s ok
	assert_failure 2
	assert_equal "$stderr" "promrun-record: cannot read config file $CONF: Input/output error"
	[ ! -e "$J" ]
}
