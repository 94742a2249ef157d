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
