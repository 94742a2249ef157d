#!/usr/bin/env bats
# make install and make uninstall, staged with DESTDIR: what goes where with
# which mode, an existing configuration is never overwritten, a changed one
# never removed, and uninstall leaves no file of ours.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	D="$BATS_TEST_TMPDIR/dest"
}

# mk TARGET [VAR=VALUE...]: make in the source tree with the suite's build,
# insulated from an outer make's flags.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -j2 -C "$TOP" \
	    BUILD="$PROMRUN_BUILD" SANITIZE="${PROMRUN_SANITIZE:-}" "$@"
}

# files DIR: every file under DIR with its mode, "MODE PATH" sorted.
files() {
	(cd "$1" && find . -type f -printf '%m %P\n' | LC_ALL=C sort -k2)
}

# expected: what install should put under PREFIX=/usr/local, from the tree.
expected() {
	local f
	(
		cd "$TOP"
		for f in cmd/*/main.c; do
			f=${f%/main.c}
			echo "755 usr/local/bin/${f#cmd/}"
		done
		echo "755 usr/local/bin/promrun-ci"
		for f in cmd/*/*.1 scripts/*.1; do echo "644 usr/local/share/man/man1/${f##*/}"; done
		for f in examples/*.5; do echo "644 usr/local/share/man/man5/${f##*/}"; done
		for f in systemd/*.service systemd/*.path systemd/*.timer; do
			[ ! -e "$f" ] || echo "644 usr/local/lib/systemd/system/${f##*/}"
		done
		for f in systemd/*.conf; do
			[ ! -e "$f" ] || echo "644 usr/local/share/promrun/systemd/${f##*/}"
		done
		for f in systemd/sysusers.d/*.conf systemd/tmpfiles.d/*.conf; do
			[ ! -e "$f" ] || echo "644 usr/local/lib/${f#systemd/}"
		done
		find examples -type f ! -name '*.5' -printf '644 usr/local/share/doc/promrun/%p\n'
		echo "644 etc/promrun/promrun.ini"
	) | LC_ALL=C sort -k2
}

@test "DESTDIR install: every file where it belongs with its mode; the installed hook finds the installed recorder" {
	run mk install DESTDIR="$D"
	assert_success
	run files "$D"
	assert_output "$(expected)"
	cmp "$TOP/examples/promrun.ini" "$D/etc/promrun/promrun.ini"
	cmp "$PROMRUN_BUILD/promrun-record" "$D/usr/local/bin/promrun-record"
	cmp "$TOP/scripts/promrun-ci" "$D/usr/local/bin/promrun-ci"
	# With the default BINDIR the units are installed as they are.
	local f
	for f in "$TOP"/systemd/*.service "$TOP"/systemd/*.path "$TOP"/systemd/*.timer; do
		[ ! -e "$f" ] || cmp "$f" "$D/usr/local/lib/systemd/system/${f##*/}"
	done
	GITLAB_CI=true CI_JOB_NAME=build CI_JOB_STATUS=success \
	    PATH=/usr/bin:/bin run "$D/usr/local/bin/promrun-ci" --dry-run --labels ''
	assert_output "$D/usr/local/bin/promrun-record -w build -s success"
	run env MANWIDTH=80 man --warnings -l "$D/usr/local/share/man/man5/promrun.ini.5"
	assert_success
	run mk uninstall DESTDIR="$D"
	assert_success
	run files "$D"
	assert_output ''
	# Our own directories go too; shared ones (bin, man1) may stay.
	[ ! -e "$D/etc/promrun" ]
	[ ! -e "$D/usr/local/share/doc/promrun" ]
	[ ! -e "$D/usr/local/share/promrun" ]
}

@test "an existing configuration is never overwritten nor uninstalled" {
	mkdir -p "$D/etc/promrun"
	printf '[journal]\npath = /srv/journal\n' >"$D/etc/promrun/promrun.ini"
	cp "$D/etc/promrun/promrun.ini" "$BATS_TEST_TMPDIR/mine.ini"
	run mk install DESTDIR="$D"
	assert_success
	assert_output --partial "keeping the existing $D/etc/promrun/promrun.ini"
	cmp "$BATS_TEST_TMPDIR/mine.ini" "$D/etc/promrun/promrun.ini"
	run mk uninstall DESTDIR="$D"
	assert_success
	assert_output --partial "keeping $D/etc/promrun/promrun.ini: it differs from examples/promrun.ini"
	run files "$D"
	assert_output '644 etc/promrun/promrun.ini'
	cmp "$BATS_TEST_TMPDIR/mine.ini" "$D/etc/promrun/promrun.ini"
}

@test "PREFIX, SYSCONFDIR, UNITDIR, DROPINDIR honoured; units, drop-ins, sysusers.d and tmpfiles.d files installed and uninstalled; an edited config stays" {
	mkdir "$BATS_TEST_TMPDIR/units"
	local u="$BATS_TEST_TMPDIR/units"
	printf '[Service]\nType=oneshot\nExecStart=/usr/local/bin/promrun-render -v\n' >"$u/x-test.service"
	printf '[Timer]\nOnCalendar=daily\n' >"$u/x-test.timer"
	printf '[Service]\nExecStopPost=-/usr/local/bin/promrun-record --systemd --finish -w %%n\n' >"$u/x-test.conf"
	mkdir "$u/sysusers.d" "$u/tmpfiles.d"
	printf 'u x-test - "x" /var/lib/x-test\n' >"$u/sysusers.d/x-test.conf"
	printf 'd /var/lib/x-test 0750 x-test x-test -\n' >"$u/tmpfiles.d/x-test.conf"
	# Another SYSCONFDIR is compiled in, so this install builds apart from
	# the suite's build, which the other tests go on using.
	local vars=(BUILD="$BATS_TEST_TMPDIR/build" DESTDIR="$D" PREFIX=/usr
	    SYSCONFDIR=/etc/opt
	    UNITDIR=/lib/systemd/system DROPINDIR=/usr/share/x-dropins
	    UNITS="$u/x-test.service $u/x-test.timer" DROPINS="$u/x-test.conf"
	    SYSUSERS="$u/sysusers.d/x-test.conf" TMPFILES="$u/tmpfiles.d/x-test.conf")
	run mk install "${vars[@]}"
	assert_success
	run files "$D"
	assert_line '644 lib/systemd/system/x-test.service'
	assert_line '644 lib/systemd/system/x-test.timer'
	assert_line '644 usr/share/x-dropins/x-test.conf'
	assert_line '644 usr/lib/sysusers.d/x-test.conf'
	assert_line '644 usr/lib/tmpfiles.d/x-test.conf'
	assert_line '755 usr/bin/promrun-ci'
	assert_line '644 usr/share/man/man5/promrun.ini.5'
	assert_line '644 etc/opt/promrun/promrun.ini'
	refute_output --partial 'usr/local'
	# The units name the programs where they were installed.
	run grep -h -o '/[a-z/]*/promrun-[a-z]*' "$D/lib/systemd/system/x-test.service" \
	    "$D/usr/share/x-dropins/x-test.conf"
	assert_output "$(printf '/usr/bin/promrun-render\n/usr/bin/promrun-record')"
	[ -x "$D/usr/bin/promrun-render" ]
	# The programs look for the configuration where it was installed.
	local prog
	for prog in record render push rules; do
		grep -q -a /etc/opt/promrun/promrun.ini "$D/usr/bin/promrun-$prog"
		run -1 grep -q -a /etc/promrun/promrun.ini "$D/usr/bin/promrun-$prog"
	done
	# The shipped configuration, edited after installation, stays; the rest
	# goes.
	echo 'labels = repo' >>"$D/etc/opt/promrun/promrun.ini"
	run mk uninstall "${vars[@]}"
	assert_success
	assert_output "keeping $D/etc/opt/promrun/promrun.ini: it differs from examples/promrun.ini"
	run files "$D"
	assert_output '644 etc/opt/promrun/promrun.ini'
}

@test "node_exporter's textfile directory gets a link to promrun's textfile when it exists; uninstall removes only that link" {
	local node="$D/var/lib/prometheus/node-exporter"
	local target=/var/lib/promrun/textfile/promrun.prom
	run mk install DESTDIR="$D"
	assert_success
	assert_line "no link to $target: no $node (node_exporter's textfile directory: TEXTFILEDIR)"
	[ ! -e "$node" ]
	run mk uninstall DESTDIR="$D"
	mkdir -p "$node"
	chmod 755 "$node"
	run mk install DESTDIR="$D"
	assert_success
	assert_line "ln -s $target $node/promrun.prom"
	assert_equal "$(readlink "$node/promrun.prom")" "$target"
	# The directory itself is left as it was; installing again is quiet
	# about the link.
	run stat -c %a "$node"
	assert_output 755
	run mk install DESTDIR="$D"
	assert_success
	refute_output --partial "$node"
	run mk uninstall DESTDIR="$D"
	assert_success
	assert_line "rm -f $node/promrun.prom"
	[ ! -e "$node/promrun.prom" ] && [ ! -L "$node/promrun.prom" ]
	[ -d "$node" ]
	# Anything else there under that name is not ours: kept both ways.
	ln -s /elsewhere/promrun.prom "$node/promrun.prom"
	run mk install DESTDIR="$D"
	assert_success
	assert_line "keeping $node/promrun.prom: not a link to $target (an earlier promrun-render's textfile? remove it and install again)"
	run mk uninstall DESTDIR="$D"
	assert_success
	assert_equal "$(readlink "$node/promrun.prom")" /elsewhere/promrun.prom
	rm "$node/promrun.prom"
	echo 'x 1' >"$node/promrun.prom"
	run mk install DESTDIR="$D"
	assert_line --partial "keeping $node/promrun.prom: not a link"
	run mk uninstall DESTDIR="$D"
	assert_equal "$(cat "$node/promrun.prom")" 'x 1'
	# TEXTFILEDIR names another directory.
	mkdir -p "$D/srv/textfiles"
	run mk install DESTDIR="$D" TEXTFILEDIR=/srv/textfiles
	assert_success
	assert_equal "$(readlink "$D/srv/textfiles/promrun.prom")" "$target"
	run mk uninstall DESTDIR="$D" TEXTFILEDIR=/srv/textfiles
	[ ! -L "$D/srv/textfiles/promrun.prom" ]
}

@test "make bench, on a clean build directory, builds every program and test tool the benchmarks run" {
	local b="$BATS_TEST_TMPDIR/clean" name used=0
	run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -n -C "$TOP" \
	    BUILD="$b" bench
	assert_success
	for name in promrun-record promrun-render promrun-push promrun-rules; do
		assert_output --partial "-o $b/$name "
	done
	for name in "$TOP"/test/tools/*.c; do
		name=$(basename "$name" .c)
		grep -qw -- "$name" "$TOP"/test/bench/*.sh || continue
		used=$((used + 1))
		assert_output --partial "-o $b/test/$name "
	done
	[ "$used" -gt 0 ] || fail "no test tool found in test/bench/*.sh"
}
