#!/usr/bin/env bats
# The README is a map that stays true: every link leads somewhere, every
# longer document is one link away, and the commands it shows are the ones
# the Makefile, the units and the programs actually use and print.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	README=$TOP/README.md
}

# section TITLE: the lines of the README's "## TITLE" section.
section() {
	awk -v t="## $1" '$0 == t { on = 1; next } on && /^## / { exit } on' "$README"
}

# blocks: the contents of the fenced code blocks on stdin, one line each,
# unindented, with "\"-continued lines joined.
blocks() {
	awk '/^ *```/ { inb = !inb; next } inb { sub(/^ +/, ""); print }' |
	    sed -e ':a' -e '/\\$/N; s/\\\n *//; ta'
}

@test "the README is a map: under 450 lines, every longer document and man page one link away" {
	local n doc
	n=$(wc -l <"$README")
	[ "$n" -le 450 ] || fail "README.md has $n lines"
	for doc in DESIGN.md PERFORMANCE.md RELIABILITY.md test/README.md \
	    cmd/promrun-record/promrun-record.1 cmd/promrun-render/promrun-render.1 \
	    cmd/promrun-push/promrun-push.1 cmd/promrun-rules/promrun-rules.1 \
	    cmd/promrun-serve/promrun-serve.1 \
	    scripts/promrun-ci.1 examples/promrun.ini.5; do
		grep -qF "]($doc" "$README" || fail "README.md does not link $doc"
	done
}

# links FILE: "target" for every relative markdown link in FILE.
links() {
	grep -o '](\([^)]*\))' "$1" | sed 's/^](//; s/)$//' |
	    grep -v '^[a-z]*://' | LC_ALL=C sort -u
}

# anchors FILE: GitHub's anchor for every heading of FILE.
anchors() {
	sed -n 's/^#\{1,6\} //p' "$1" | tr 'A-Z' 'a-z' |
	    sed 's/[^a-z0-9 _-]//g; s/ /-/g'
}

@test "every relative link of every document leads to a file, and every anchor to a heading" {
	local md link path anchor dir
	while IFS= read -r md; do
		dir=$(dirname "$md")
		while IFS= read -r link; do
			path=${link%%#*} anchor=
			case $link in *'#'*) anchor=${link#*#} ;; esac
			[ -n "$path" ] || path=$(basename "$md")
			[ -e "$dir/$path" ] || fail "$md: link to missing $path"
			if [ -n "$anchor" ]; then
				anchors "$dir/$path" | grep -qxF "$anchor" ||
				    fail "$md: no heading for #$anchor in $path"
			fi
		done < <(links "$md")
	done < <(find "$TOP" -name '*.md' -not -path '*/build/*' -not -path '*/node_modules/*' -not -path '*/.git/*')
}

@test "the Quick start's commands are Makefile targets" {
	local cmd target
	run --separate-stderr blocks < <(section 'Quick start')
	assert_success
	[ "${#lines[@]}" -ge 2 ] || fail "no commands found in the Quick start"
	for cmd in "${lines[@]}"; do
		cmd=${cmd%%#*}
		set -- $cmd
		[ "$1" = make ] || fail "not a make command: $cmd"
		target=${2:-all}
		grep -q "^$target:" "$TOP/Makefile" || fail "no Makefile target $target"
	done
}

@test "the units Getting started enables exist, and the drop-in path is where make install puts it" {
	local text unit dropin
	text=$(section 'Getting started: from nothing to a firing alert' | blocks)
	for unit in $(printf '%s\n' "$text" | sed -n 's/.*systemctl enable --now //p'); do
		[ -f "$TOP/systemd/$unit" ] || fail "Getting started enables $unit, which systemd/ lacks"
	done
	dropin=$(printf '%s\n' "$text" | sed -n 's/.*ln -s \([^ ]*promrun-record.conf\).*/\1/p')
	[ -n "$dropin" ] || fail "Getting started links no drop-in"
	make -C "$TOP" -s install DESTDIR="$BATS_TEST_TMPDIR/root" >/dev/null
	[ -f "$BATS_TEST_TMPDIR/root$dropin" ] || fail "make install puts no $dropin"
}

@test "promrun-render's example is the render unit's command line" {
	local shown unit
	shown=$(section promrun-render | blocks)
	unit=$(sed -n 's|^ExecStart=/usr/local/bin/||p' "$TOP/systemd/promrun-render.service")
	assert_equal "$shown" "$unit"
}

@test "promrun-record's examples record what they say" {
	local cmd
	export PROMRUN_JOURNAL=$J
	while IFS= read -r cmd; do
		cmd=${cmd//\/usr\/local\/bin\/backup --all/true}
		eval "$cmd" || fail "failed: $cmd"
	done < <(section promrun-record | blocks)
	run --separate-stderr journal-dump "$J"
	assert_success
	assert_line --regexp '^run time=[0-9.]+ workflow=build status=success duration=312 label.repo=promrun label.branch=main$'
	assert_line --regexp '^finish .*workflow=nightly-backup .*status=success .*exit_code=0$'
}

@test "promrun-ci's --dry-run example prints what the README shows" {
	local shown cmd want
	shown=$(section 'promrun-ci: the CI post-step hook' | blocks)
	cmd=$(printf '%s\n' "$shown" | sed -n 's/^\$ //p')
	want=$(printf '%s\n' "$shown" | sed -n '/^\$ /!p')
	run --separate-stderr env PATH="$TOP/scripts:$PATH" sh -c "$cmd"
	assert_success
	assert_output "$want"
}

@test "promrun-rules' example prints what the README shows" {
	local shown cmd want
	shown=$(section promrun-rules | blocks)
	cmd=$(printf '%s\n' "$shown" | sed -n 's/^\$ //p')
	want=$(printf '%s\n' "$shown" | sed -n '/^\$ /!p')
	cd "$BATS_TEST_TMPDIR"
	sed 's/chainloop_workflow_up\[/chainloop_workflow_upp[/' \
	    "$TOP/examples/rules/chainloop.yml" >rules.yml
	# The backtest's history: nightly failed at 03:13:30, recovered at
	# 09:01:30.
	cp "$TOP/examples/alerts.yml" .
	promrun-record -j journal -w nightly -s failure -d 60 \
	    --time 2026-10-12T03:13:30Z
	promrun-record -j journal -w nightly -s success -d 60 \
	    --time 2026-10-12T09:01:30Z
	run -0 --separate-stderr sh -c "$cmd"
	# blocks() strips the indentation of the README's lines.
	assert_equal "$(sed 's/^ *//' <<<"$output")" "$want"
}

@test "promrun-serve's example is answered as the README shows, at the address promrun-serve.socket listens on" {
	local shown cmd want port
	shown=$(section promrun-serve | blocks)
	cmd=$(printf '%s\n' "$shown" | sed -n 's/^\$ //p')
	want=$(printf '%s\n' "$shown" | sed -n '/^\$ /!p')
	[[ $cmd == *"http://$(sed -n 's/^ListenStream=//p' "$TOP/systemd/promrun-serve.socket")/"* ]] ||
	    fail "the example does not post to the socket unit's address"
	port=$(free_port)
	server_start "$BATS_TEST_TMPDIR/serve.log" "$port" promrun-serve -l "127.0.0.1:$port" \
	    -d "$BATS_TEST_TMPDIR/data"
	run --separate-stderr sh -c "${cmd//:9089/:$port}"
	stop_pid "$SERVER_PID"
	assert_success
	assert_output "$want"
}
