#!/usr/bin/env bats
# promrun-render: the textfile, its format, its atomic replacement, options,
# settings and bad input.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	OUT="$BATS_TEST_TMPDIR/textfiles/promrun.prom"
	mkdir -p "${OUT%/*}"
	NOW=1795428000
}

seed() {
	promrun-record -j "$J" -w build -s success -d 12 -l repo=promrun --time 1795427000
	promrun-record -j "$J" -w build -s failure -d 30 -l repo=promrun --time 1795427100
	promrun-record -j "$J" -w deploy --step push -s success -d 4 --time 1795427200
}

@test "renders to the configured output, or to stdout without one" {
	seed
	run --separate-stderr promrun-render -j "$J" --now "$NOW"
	assert_success
	assert_line 'ci_workflow_runs_total{workflow="build",status="success",repo="promrun"} 1'
	[ -z "$stderr" ]
	printf '[render]\noutput = %s\n' "$OUT" >"$CONF"
	run promrun-render -j "$J" --now "$NOW"
	assert_success
	assert_output ''
	run sample_value "$OUT" 'ci_workflow_runs_total{workflow="build",status="failure",repo="promrun"}'
	assert_output 1
}

@test "-o overrides the config, -o - writes to stdout" {
	seed
	printf '[render]\noutput = %s\n' "$OUT" >"$CONF"
	run promrun-render -j "$J" --now "$NOW" -o -
	assert_success
	assert_line 'ci_step_runs_total{workflow="deploy",step="push",status="success"} 1'
	[ ! -e "$OUT" ]
	promrun-render -j "$J" --now "$NOW" -o "$BATS_TEST_TMPDIR/other.prom"
	[ -s "$BATS_TEST_TMPDIR/other.prom" ]
	[ ! -e "$OUT" ]
}

@test "the format: one HELP and TYPE per family before its samples, sorted, LF only, final LF, no timestamps" {
	seed
	promrun-render -j "$J" --now "$NOW" -o "$OUT"
	# Every family's HELP, then TYPE, then only its own samples.
	awk '
	    /^# HELP / { if (seen[$3]++) { print "second HELP for " $3; bad = 1 }
	                 fam = $3; state = "help"; names[++n] = $3; next }
	    /^# TYPE / { if ($3 != fam || state != "help") { print "TYPE out of place: " $0; bad = 1 }
	                 state = "type"; next }
	    { name = $1; sub(/\{.*/, "", name)
	      if (state != "type" && state != "samples") { print "sample before TYPE: " $0; bad = 1 }
	      if (name != fam && name != fam "_bucket" && name != fam "_sum" && name != fam "_count") {
	          print "sample " name " inside family " fam; bad = 1 }
	      if (NF != 2) { print "not name value: " $0; bad = 1 }
	      state = "samples" }
	    END { for (i = 2; i <= n; i++) if (names[i - 1] >= names[i]) { print "families not sorted: " names[i - 1] " " names[i]; bad = 1 }
	          exit bad }' "$OUT"
	! grep -q $'\r' "$OUT"
	[ "$(tail -c 1 "$OUT" | od -An -c | tr -d ' ')" = '\n' ]
}

@test "two renders of the same journal are byte-identical, from scratch or from the checkpoint" {
	seed
	promrun-render -j "$J" --now "$NOW" -o "$BATS_TEST_TMPDIR/1.prom"
	promrun-render -j "$J" --now "$NOW" -o "$BATS_TEST_TMPDIR/2.prom"
	promrun-render -j "$J" --now "$NOW" -o "$BATS_TEST_TMPDIR/3.prom" --rebuild
	cmp "$BATS_TEST_TMPDIR/1.prom" "$BATS_TEST_TMPDIR/2.prom"
	cmp "$BATS_TEST_TMPDIR/1.prom" "$BATS_TEST_TMPDIR/3.prom"
}

@test "the textfile gets mode 0644 whatever the umask, or the configured mode" {
	seed
	(umask 077 && promrun-render -j "$J" --now "$NOW" -o "$OUT")
	run stat -c %a "$OUT"
	assert_output 644
	printf '[render]\nmode = 0640\n' >"$CONF"
	promrun-render -j "$J" --now "$NOW" -o "$OUT"
	run stat -c %a "$OUT"
	assert_output 640
}

@test "leftovers of a crashed render are removed; they never end in .prom" {
	seed
	dir=${OUT%/*}
	: >"$dir/.promrun.prom.4242.deadbeef.tmp"
	: >"$dir/.promrun.prom.1.00000000.tmp"
	: >"$dir/.other.prom.1.00000000.tmp"
	promrun-render -j "$J" --now "$NOW" -o "$OUT"
	[ ! -e "$dir/.promrun.prom.4242.deadbeef.tmp" ]
	[ ! -e "$dir/.promrun.prom.1.00000000.tmp" ]
	# Another file's leftovers are not ours to remove.
	[ -e "$dir/.other.prom.1.00000000.tmp" ]
	# What the writer creates (seen by strace) ends in .tmp, not .prom.
	strace_env strace -f -qq -e trace=openat -o "$BATS_TEST_TMPDIR/trace" \
	    promrun-render -j "$J" --now "$NOW" -o "$OUT"
	run grep -o '"[^"]*\.promrun\.prom[^"]*"' "$BATS_TEST_TMPDIR/trace"
	assert_output --regexp '^"[^"]*/\.promrun\.prom\.[0-9]+\.[0-9a-f]{8}\.tmp"$'
}

@test "a failed render leaves the previous textfile untouched" {
	seed
	promrun-render -j "$J" --now "$NOW" -o "$OUT"
	cp "$OUT" "$BATS_TEST_TMPDIR/before"
	chmod 555 "${OUT%/*}"
	promrun-record -j "$J" -w build -s success -d 1 -l repo=promrun --time 1795427500
	if [ "$(id -u)" -eq 0 ]; then
		# root writes anyway: make the write itself fail instead.
		run --separate-stderr strace_env strace -f -qq -o /dev/null \
		    -e inject=rename:error=EIO promrun-render -j "$J" --now "$NOW" -o "$OUT"
	else
		run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$OUT"
	fi
	chmod 755 "${OUT%/*}"
	assert_failure 1
	[[ $stderr == "promrun-render: cannot "*"$OUT"* ]]
	cmp "$OUT" "$BATS_TEST_TMPDIR/before"
	[ -z "$(find "${OUT%/*}" -name '*.tmp')" ]
}

@test "max_series stops a runaway label, names it, and keeps the previous file" {
	printf '[render]\nmax_series = 300\n' >"$CONF"
	for i in $(seq 1 3); do
		promrun-record -j "$J" -w build -s success -d 1 -l "branch=b$i" --time 1795427000
	done
	promrun-render -j "$J" --now "$NOW" -o "$OUT"
	cp "$OUT" "$BATS_TEST_TMPDIR/before"
	for i in $(seq 4 40); do
		promrun-record -j "$J" -w build -s success -d 1 -l "branch=b$i" --time 1795427000
	done
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$OUT"
	assert_failure 1
	[[ $stderr == 'promrun-render: series limit reached: '*'more than max_series 300; label "branch" has the most distinct values (40)'* ]]
	cmp "$OUT" "$BATS_TEST_TMPDIR/before"
}

@test "bad [render] settings: exit 2 with the file, line, value and what is accepted" {
	seed
	bad() {
		printf '[render]\n%s\n' "$1" >"$CONF"
		run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$OUT"
		assert_failure 2
		[[ $stderr == "promrun-render: $CONF:2: $2"* ]] || { echo "$stderr"; return 1; }
		[ ! -e "$OUT" ]
	}
	bad 'preset = prometheus' 'unknown preset "prometheus": use native, chainloop, prpc or attest'
	bad 'namespace = 1ci' '[render] namespace = "1ci": use a metric-name prefix'
	bad 'buckets = 5,1' 'bucket "1" is not above the one before it'
	bad 'buckets = 1,x' 'bucket "x" is not a finite number'
	bad 'lost_after = 1.5h' '[render] lost_after "1.5h" is not a duration'
	bad 'keep_history = 30' '[render] keep_history "30" is not a duration'
	bad 'max_series = 0' '[render] max_series = "0": use a whole number from 1'
	bad 'mode = 0999' '[render] mode = "0999": use an octal file mode'
	bad 'max_journal_size = 10X' '[render] max_journal_size = "10X": use bytes'
	bad 'outptu = x' 'unknown key "outptu" in [render]'
}

@test "bad options: exit 2 with one line naming the value" {
	run --separate-stderr promrun-render -j "$J" --preset nope
	assert_failure 2
	[ "$stderr" = 'promrun-render: unknown preset "nope": use native, chainloop, prpc or attest' ]
	run --separate-stderr promrun-render -j "$J" --preset chainloop --namespace x
	assert_failure 2
	[[ $stderr == 'promrun-render: preset chainloop has fixed metric names and takes no namespace'* ]]
	run --separate-stderr promrun-render -j "$J" --now yesterday
	assert_failure 2
	[[ $stderr == 'promrun-render: --now "yesterday" is not a time'* ]]
	run --separate-stderr promrun-render -j "$J" --bogus
	assert_failure 2
	[[ $stderr == 'promrun-render: unknown option "--bogus"'* ]]
	run --separate-stderr promrun-render -j "$J" extra
	assert_failure 2
	[[ $stderr == 'promrun-render: unexpected argument "extra"'* ]]
}

@test "a journal that does not exist yet renders promrun's own metrics" {
	run promrun-render -j "$BATS_TEST_TMPDIR/none" --now "$NOW"
	assert_success
	assert_line 'promrun_journal_records_total{preset="native",result="ok"} 0'
	assert_line "promrun_render_timestamp_seconds{preset=\"native\"} $NOW"
	refute_output --partial ci_workflow
}

@test "--verify reports a healthy journal and exits 0" {
	seed
	run promrun-render -j "$J" --verify
	assert_success
	assert_output "journal $J: $(wc -c <"$J") bytes, 3 records read, 0 not valid, 0 damaged regions (0 bytes), 0 bytes of incomplete tail"
}

@test "--verify lists damage and invalid records with their offsets, exits 1, writes nothing" {
	seed
	first=$(sed -n 1p "$J" | wc -c)
	{ sed -n 1p "$J"; printf 'garbage\n'; sed -n '2,$p' "$J"; printf 'pr1 %08x run time=1\n' 0; printf 'torn'; } >"$BATS_TEST_TMPDIR/j2"
	cp "$BATS_TEST_TMPDIR/j2" "$BATS_TEST_TMPDIR/j2.before"
	run promrun-render -j "$BATS_TEST_TMPDIR/j2" --verify
	assert_failure 1
	assert_line --index 0 --partial '3 records read, 0 not valid, 1 damaged regions (8 bytes)'
	assert_line --index 1 "damaged at offset $first, 8 bytes"
	cmp "$BATS_TEST_TMPDIR/j2" "$BATS_TEST_TMPDIR/j2.before"
	[ ! -e "$BATS_TEST_TMPDIR/j2.checkpoint" ]
}

@test "--verify names a record that is intact but not valid" {
	printf 'pr1 %08x run time=1 workflow= status=success\n' 0 >"$J"
	# Fix the checksum so only the contents are wrong.
	payload='run time=1 workflow= status=success'
	crc=$("$PYTHON3" -c 'import sys
def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff
print("%08x" % crc32c(sys.argv[1].encode()))' "$payload")
	printf 'pr1 %s %s\n' "$crc" "$payload" >"$J"
	run promrun-render -j "$J" --verify
	assert_failure 1
	assert_line --index 0 --partial '1 records read, 1 not valid'
	assert_line --index 1 --partial 'invalid record at offset 0'
	assert_line --index 1 --partial 'workflow name is empty'
}

@test "--help, --version and the man page" {
	run --separate-stderr promrun-render --help
	assert_success
	assert_line --index 0 --partial 'usage: promrun-render [-c CONFIG] [-j JOURNAL] [-o FILE.prom | -o -]'
	run promrun-render --version
	assert_output --regexp '^promrun-render [0-9]+\.[0-9]+\.[0-9]+$'
	run env MANWIDTH=100 man --warnings -l "$BATS_TEST_DIRNAME/../cmd/promrun-render/promrun-render.1"
	assert_success
	for opt in --output --preset --namespace --now --compact --rebuild --verify \
	    --journal --config --verbose lost_after max_series keep_history \
	    max_journal_size buckets 'EXIT STATUS'; do
		assert_output --partial -- "$opt"
	done
}

@test "-v says what was written" {
	seed
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$OUT" -v
	assert_success
	[[ $stderr == "promrun-render: wrote $OUT: "*" series; 3 new records (whole journal); 0 damaged regions" ]]
	promrun-record -j "$J" -w build -s success -d 1 -l repo=promrun --time 1795427500
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$OUT" -v
	[[ $stderr == *"; 1 new records after the checkpoint; "* ]]
}

@test "as a user who may not write where it must: each message gives the real reason" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to switch to nobody"
	seed
	D=$BATS_TEST_TMPDIR/ro
	mkdir "$D"
	cp "$J" "$D/journal"
	chmod o+x "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR"
	chmod o+r "$CONF"
	nobody() {
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
	}
	# The checkpoint's directory: its lock cannot be made.
	run --separate-stderr nobody promrun-render -j "$D/journal" --now "$NOW" -o -
	assert_failure 1
	assert_equal "$stderr" "promrun-render: cannot open lock file $D/journal.checkpoint.lock: Permission denied"
	# The checkpoint elsewhere: compaction cannot make the journal's lock
	# (a warning: the metrics are still written).
	mkdir "$BATS_TEST_TMPDIR/state"
	chown nobody "$BATS_TEST_TMPDIR/state"
	printf '[render]\ncheckpoint = %s/state/cp\nmax_journal_size = 1\n' "$BATS_TEST_TMPDIR" >"$CONF"
	run --separate-stderr nobody promrun-render -j "$D/journal" --now "$NOW" -o -
	assert_success
	assert_equal "$stderr" "promrun-render: warning: journal not compacted: cannot open lock file $D/journal.lock: Permission denied"
	# With the lock there, the compacted journal's temporary file cannot be
	# made beside the journal.
	: >"$D/journal.lock"
	run --separate-stderr nobody promrun-render -j "$D/journal" --now "$((NOW + 100 * 86400))" -o - --compact
	assert_failure 1
	assert_equal "$(printf '%s' "$stderr" | sed -E 's/\.[0-9]+\.[0-9a-f]{8}\.tmp:/.PID.RANDOM.tmp:/')" \
	    "promrun-render: cannot create $D/.journal.PID.RANDOM.tmp: Permission denied"
	# The textfile's directory.
	run --separate-stderr nobody promrun-render -j "$D/journal" --now "$NOW" -o "$D/x.prom"
	assert_failure 1
	assert_equal "$(printf '%s' "$stderr" | sed -E 's/\.[0-9]+\.[0-9a-f]{8}\.tmp:/.PID.RANDOM.tmp:/')" \
	    "promrun-render: cannot create $D/.x.prom.PID.RANDOM.tmp: Permission denied"
	cmp "$D/journal" "$J"
}
