#!/usr/bin/env bats
# The layout the README's "Layout" section describes: lib/ grouped by stage,
# includes pointing down only, and nothing in the repository pointing
# outside it.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
}

# stage_rank FOLDER: the folder's place in the stack, lowest first; folders
# of one rank are siblings that may not include each other.  "." is lib/
# itself (config), above every stage.  Unknown folders print nothing, so a
# new folder must be placed here (and in the README) before it can build.
stage_rank() {
	case $1 in
	common) echo 0 ;;
	promql) echo 1 ;;
	journal) echo 2 ;;
	metrics) echo 3 ;;
	push | rules) echo 4 ;;
	serve) echo 5 ;;
	.) echo 9 ;;
	esac
}

# include_violations: "file: includes header" for every include of a lib/
# file that points up or sideways.
include_violations() {
	local f from to hdr rf rt
	cd "$TOP/lib" || return 1
	while IFS= read -r f; do
		from=$(dirname "$f")
		from=${from#./}
		rf=$(stage_rank "$from")
		if [ -z "$rf" ]; then
			echo "$f: lib/$from is not a known stage"
			continue
		fi
		while IFS= read -r hdr; do
			case $hdr in */*) to=${hdr%%/*} ;; *) to=. ;; esac
			rt=$(stage_rank "$to")
			[ "$to" = "$from" ] && continue
			if [ -z "$rt" ] || [ "$rt" -ge "$rf" ]; then
				echo "$f: includes $hdr"
			fi
		done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
	done < <(find . -name '*.[ch]' | LC_ALL=C sort)
}

@test "lib/: every include points to the same folder or a lower stage" {
	run include_violations
	assert_success
	assert_output ''
}

@test "the check finds an include that points up" {
	mkdir -p "$BATS_TEST_TMPDIR/lib/common" "$BATS_TEST_TMPDIR/lib/journal"
	printf '#include "journal/run.h"\n' >"$BATS_TEST_TMPDIR/lib/common/x.c"
	printf '#include "common/buf.h"\n' >"$BATS_TEST_TMPDIR/lib/journal/y.c"
	printf '#include "rules/lint.h"\n' >"$BATS_TEST_TMPDIR/lib/journal/z.c"
	TOP=$BATS_TEST_TMPDIR
	run include_violations
	assert_success
	assert_output - <<-'EOF'
	./common/x.c: includes journal/run.h
	./journal/z.c: includes rules/lint.h
	EOF
}

@test "only what sits above the stages is a source file directly in lib/" {
	run find "$TOP/lib" -maxdepth 1 -name '*.c' -printf '%f\n'
	assert_success
	assert_output 'config.c'
}

@test "every lib/ folder is named, one line each, in the README's Layout section" {
	local d
	for d in "$TOP"/lib/*/; do
		d=${d%/}
		grep -q "^  *lib/${d##*/}/ " "$TOP/README.md" ||
		    fail "README.md's Layout does not describe lib/${d##*/}/"
	done
}

@test "nothing in the repository points outside it" {
	run git -C "$TOP" grep -n -e '\.\./shared' -- .
	assert_failure 1
	assert_output ''
}
