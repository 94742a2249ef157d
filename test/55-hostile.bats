#!/usr/bin/env bats
# Hostile input: workflow names, steps, label values and HELP texts built to
# inject lines or series, invalid UTF-8, NUL bytes and 1 MiB values.  Each is
# refused with one line (exit 2, nothing stored) or escaped exactly; no
# input ever forges a series.  Checked with python3-prometheus-client's
# parser, promtool and a real Pushgateway.

load 'test_helper/pushgateway'

setup_file() {
	gateway_start "$BATS_FILE_TMPDIR/gw"
}

teardown_file() {
	gateway_stop
}

setup() {
	load 'test_helper/common-setup'
	_common_setup
	NOW=1795428000
	# Each of these must come back exactly, as one label value.
	HOSTILE=(
		$'x\n# TYPE fake counter\nfake 1'
		$'"} 1\nfake 1'
		$'a"b\\c\\\\d\\n'
		$'} 1 # {forged="1"} 2'
		$'carriage\rreturn\ttab'
		$'Jos\u00e9 \U0001F680 \u2028 \u2029 \u0085 end'
		$'# HELP ci_workflow_up forged'
		'ci_workflow_up{workflow="victim"} 1'
	)
}

teardown() {
	stop_background
}

# hostile_journal: one finished run per hostile workflow name, with the
# hostile strings also as a step and a label value.
hostile_journal() {
	local i=0 wf
	printf '[journal]\nlabels = note\n' >"$CONF"
	for wf in "${HOSTILE[@]}"; do
		i=$((i + 1))
		promrun-record -j "$J" -w "$wf" -s failure -d "$i" -l "note=$wf" --time "$((NOW - 100 + i))"
		promrun-record -j "$J" -w "$wf" --step "$wf" -s success -d 1 --time "$((NOW - 50 + i))"
	done
}

@test "hostile names and values render as exactly one series each, in every preset" {
	hostile_journal
	for preset in native chainloop prpc attest; do
		out="$BATS_TEST_TMPDIR/$preset.prom"
		promrun-render -j "$J" --preset "$preset" --now "$NOW" -o "$out"
		run promtool check metrics <"$out"
		if [ "$preset" = prpc ]; then
			# pipeline-run-prometheus-counter puts the workflow in the
			# metric name (sanitized), so promtool's name heuristics
			# ("should not include type 'counter'") may fire: exit 3
			# is lint, exit 1 would be a parse error.
			[ "$status" -eq 0 ] || [ "$status" -eq 3 ]
			refute_output --partial 'error'
		else
			assert_success
			assert_output ''
		fi
		prom_samples "$out" >"$BATS_TEST_TMPDIR/$preset.samples"
		# Every family the parser sees is one the renderer declared: no
		# forged names.
		declared=$(sed -n 's/^# TYPE \([^ ]*\) .*/\1/p' "$out" | sort -u)
		seen=$(cut -f1 "$BATS_TEST_TMPDIR/$preset.samples" |
		    sed -E 's/_(bucket|sum|count)$//' | sort -u)
		extra=$(comm -13 <(echo "$declared") <(echo "$seen"))
		[ -z "$extra" ] || fail "$preset: forged families: $extra"
		# Each hostile workflow name came back exactly, in the workflow
		# label; prpc has none (the name is sanitized into the metric
		# name, checked above against the declared families).
		[ "$preset" = prpc ] && continue
		for wf in "${HOSTILE[@]}"; do
			"$PYTHON3" - "$BATS_TEST_TMPDIR/$preset.samples" "$wf" <<-'PY' ||
			import json, sys
			wf = sys.argv[2]
			hits = [l for l in open(sys.argv[1], encoding="utf-8").read().split("\n")
			        if l and wf in json.loads(l.split("\t")[1]).values()]
			sys.exit(0 if hits else 1)
			PY
			    fail "$preset: $(printf %q "$wf") not found as a label value"
		done
	done
}

@test "the native runs counter holds one series per name and status, the names intact" {
	hostile_journal
	promrun-render -j "$J" --now "$NOW" -o "$BATS_TEST_TMPDIR/out.prom"
	prom_samples "$BATS_TEST_TMPDIR/out.prom" >"$BATS_TEST_TMPDIR/samples"
	n=${#HOSTILE[@]}
	# 5 statuses for each workflow, each its own series.
	[ "$(grep -c '^ci_workflow_runs_total	' "$BATS_TEST_TMPDIR/samples")" -eq $((5 * n)) ]
	# And the failure of each is counted once, under its own name.
	for wf in "${HOSTILE[@]}"; do
		"$PYTHON3" - "$BATS_TEST_TMPDIR/samples" "$wf" <<-'PY' ||
		import json, sys
		want = {"workflow": sys.argv[2], "status": "failure", "note": sys.argv[2]}
		for l in open(sys.argv[1], encoding="utf-8").read().split("\n"):
		    if not l:
		        continue
		    name, labels, value = l.split("\t")
		    if name == "ci_workflow_runs_total" and json.loads(labels) == want:
		        sys.exit(0 if float(value) == 1.0 else 1)
		sys.exit(1)
		PY
		    fail "$(printf %q "$wf"): failure count is not 1"
	done
}

@test "invalid UTF-8 and oversize values on the command line: exit 2, one line, nothing stored" {
	promrun-record -j "$J" -w keep -s success
	before=$(cksum <"$J")
	big=$(head -c 100000 /dev/zero | tr '\0' v)
	printf '[journal]\nlabels = note\n' >"$CONF"
	for args in "-w $'\xff'" "-w $'a\xc3('" "-w x --step $'\xed\xa0\x80'" \
	    "-w x -l note=$'\xc0\xaf'" "-w x --run-id $'\xf8\x88\x80\x80\x80'" \
	    "-w $big" "-w x -l note=$big"; do
		eval "run promrun-record -j \"\$J\" -s success $args"
		assert_failure 2
		[ "${#lines[@]}" -eq 1 ] || fail "more than one line for $args"
		[ "${#output}" -lt 400 ] || fail "the error repeats the whole value"
		[ "$(cksum <"$J")" = "$before" ]
	done
}

@test "records no recorder writes (NUL bytes, invalid UTF-8, forged fields, 1 MiB) are skipped, counted, and nothing around them is lost" {
	promrun-record -j "$J" -w good -s success -d 1 --time "$((NOW - 10))"
	frame() { printf '%b' "$1" | journal-frame >>"$J"; }
	frame 'run time=1 workflow=a\0000b status=success'
	frame 'run time=1 workflow=a%%00b status=success'
	frame 'run time=1 workflow=\0377 status=success'
	frame 'run time=1 workflow=%%FF status=success'
	frame 'run time=1 workflow=x status=success label.__name__=evil'
	frame 'run time=1 workflow=x status=success label.le=1'
	frame 'run time=1 workflow=x workflow=y status=success'
	head -c 1048576 /dev/zero | tr '\0' a |
	    sed 's/^/run time=1 status=success workflow=/' | journal-frame >>"$J"
	promrun-record -j "$J" -w good -s failure -d 1 --time "$((NOW - 5))"
	run promrun-render -j "$J" --verify
	assert_failure 1
	assert_output --partial '9 records read, 7 not valid, 1 damaged regions'
	assert_output --partial 'record contains a NUL byte'
	assert_output --partial 'not valid UTF-8'
	promrun-render -j "$J" --now "$NOW" -o "$BATS_TEST_TMPDIR/out.prom"
	prom_samples "$BATS_TEST_TMPDIR/out.prom" >"$BATS_TEST_TMPDIR/samples"
	# Only "good" is a workflow; its two runs are both there.
	[ "$(grep -c '"workflow": "good"' "$BATS_TEST_TMPDIR/samples")" -gt 0 ]
	run grep -v -e '"workflow": "good"' -e '^promrun_' "$BATS_TEST_TMPDIR/samples"
	assert_failure
	assert_equal "$(sample_value "$BATS_TEST_TMPDIR/out.prom" 'promrun_journal_records_total{preset="native",result="corrupt"}')" 8
	assert_equal "$(sample_value "$BATS_TEST_TMPDIR/out.prom" 'ci_workflow_runs_total{workflow="good",status="failure"}')" 1
	assert_equal "$(sample_value "$BATS_TEST_TMPDIR/out.prom" 'ci_workflow_runs_total{workflow="good",status="success"}')" 1
}

@test "HELP texts and label values in a pushed file arrive exactly, never as new lines" {
	push_test_setup hostile
	cat >h.prom <<-'PROM'
	# HELP h_total Escaped: \n# TYPE fake counter\nfake 1 and a backslash \\ end
	# TYPE h_total counter
	h_total{v="\"} 1\nfake 1",w="a\\b\\n"} 1
	h_total{v="José 🚀 \\u00e9"} 2
	PROM
	promrun-push -u "$GW_URL" --job hostile h.prom
	curl -fsS "$GW_URL/metrics" >gw.prom
	grep -v '^# ' gw.prom | grep -q '^fake' && fail "a forged series reached the gateway"
	# The gateway serves the same HELP text and label values we sent.
	grep -F '# HELP h_total Escaped: \n# TYPE fake counter\nfake 1 and a backslash \\ end' gw.prom
	prom_samples h.prom | grep '^h_total' | sort >sent
	prom_samples gw.prom | grep '^h_total' | sed 's/"instance": "", //; s/"job": "hostile", //; s/, "job": "hostile"//' | sort >got
	diff sent got
}

@test "a pushed file with invalid UTF-8, a NUL byte or a raw line break in a value: exit 2 with the line, nothing sent" {
	push_test_setup hostile2
	printf '# TYPE g gauge\ng 1\n' >ok.prom
	promrun-push -u "$GW_URL" --job hostile2 ok.prom
	before=$(gateway_value 'push_time_seconds{instance="",job="hostile2"}')
	printf '# HELP g bad \xff text\n# TYPE g gauge\ng 1\n' >utf8.prom
	printf '# TYPE g gauge\ng{v="a\0b"} 1\n' >nul.prom
	printf '# TYPE g gauge\ng{v="a\nfake 1"} 1\n' >break.prom
	for f in utf8.prom nul.prom break.prom; do
		run promrun-push -u "$GW_URL" --job hostile2 "$f"
		assert_failure 2
		[ "${#lines[@]}" -eq 1 ]
		assert_output --regexp "$f:[0-9]+"
	done
	assert_equal "$(gateway_value 'push_time_seconds{instance="",job="hostile2"}')" "$before"
}
