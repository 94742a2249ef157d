#!/usr/bin/env bats
# Every shell script in the repository passes shellcheck; promrun-ci as
# POSIX sh.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
}

# shell_scripts: every file of the repository (bats suites aside) that is a
# shell script by its first line or its .sh/.bash name, sorted.  One awk
# reads the first line of each file: the tree holds thousands of corpus files.
shell_scripts() {
	(
		cd "$TOP"
		find . \( -name .git -o -path ./build \) -prune -o -type f \
		    ! -name '*.bats' -print0 |
		    xargs -0 awk 'FNR == 1 {
			if ($0 ~ /^#!(\/usr\/bin\/env )?(\/bin\/|\/usr\/bin\/)?(sh|bash|dash)( |$)/ ||
			    FILENAME ~ /\.(sh|bash)$/)
				print substr(FILENAME, 3)
			nextfile
		    }' | LC_ALL=C sort
	)
}

@test "every shell script passes shellcheck, and none escapes the check" {
	command -v shellcheck >/dev/null || fail "shellcheck is not installed (scripts/install-deps installs it)"
	grep -q -w shellcheck "$TOP/scripts/install-deps"
	run shell_scripts
	assert_success
	local scripts=$output
	# Every executable file in scripts/ is a shell script that is checked.
	local f
	for f in "$TOP"/scripts/*; do
		[ -x "$f" ] || continue
		grep -qxF "scripts/${f##*/}" <<<"$scripts" ||
			fail "scripts/${f##*/} is executable but not recognised as a shell script"
	done
	grep -qxF scripts/promrun-ci <<<"$scripts"
	# promrun-ci is checked as POSIX sh (and runs as /bin/sh, dash on
	# Debian, in 60-ci-hook).
	assert_equal "$(head -n 1 "$TOP/scripts/promrun-ci")" '#!/bin/sh'
	grep -qxF test/test_helper/common-setup.bash <<<"$scripts"
	cd "$TOP"
	# shellcheck disable=SC2086  # one argument per script
	run shellcheck -x -P SCRIPTDIR $scripts
	assert_success
	assert_output ''
}
