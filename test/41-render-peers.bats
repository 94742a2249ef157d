#!/usr/bin/env bats
# promrun-render against the real peers: promtool's linter, the Python
# client's parser and node_exporter's textfile collector.

setup() {
	load 'test_helper/prometheus'
	_common_setup
	NOW=1795428000
	DIR="$BATS_TEST_TMPDIR/textfiles"
	mkdir -p "$DIR"
	printf '[journal]\nlabels = org, runner, repo, who\n' >"$CONF"
	promrun-record -j "$J" -w build -s success -d 12 -l org=acme -l runner=gha -l repo=promrun --time 1795427000
	promrun-record -j "$J" -w build -s failure -d 30 -l org=acme -l runner=gha -l repo=promrun --time 1795427100
	promrun-record -j "$J" -w "car factory" -s success -d 2 --time 1795427150
	promrun-record -j "$J" -w build --step test -s timeout -d 4000 --time 1795427200
	promrun-record -j "$J" -w deploy --start --run-id 7 --time 1795400000
	promrun-record -j "$J" -w deploy --start --run-id 8 --time 1795427900
	# Names and values built to break a naive writer.
	HOSTILE_WF=$(printf 'nightly "db" \\ backup\nfake_metric 1\n# TYPE x counter')
	HOSTILE_VALUE=$(printf 'a"b\\c\nd} 1\nforged{x="y"} 2 José 🚀')
	cp "$J" "$BATS_TEST_TMPDIR/plain"
	promrun-record -j "$J" -w "$HOSTILE_WF" -s success -d 1 -l "who=$HOSTILE_VALUE" --time 1795427300
}

teardown() {
	stop_background
}

@test "promtool check metrics accepts every preset's output without findings" {
	# prpc turns workflow names into metric names: promtool's lint would
	# judge the hostile name's words, so check it on plain names.
	for preset in native chainloop prpc attest; do
		journal=$J
		[ "$preset" = prpc ] && journal="$BATS_TEST_TMPDIR/plain"
		promrun-render -j "$journal" --now "$NOW" --preset "$preset" -o "$DIR/$preset.prom"
		run promtool check metrics <"$DIR/$preset.prom"
		[ "$status" -eq 0 ] || { echo "$preset: $output"; return 1; }
		[ -z "$output" ] || { echo "$preset: $output"; return 1; }
	done
}

@test "the Python client's parser reads every preset and gets back exactly the recorded label values" {
	for preset in native chainloop prpc attest; do
		promrun-render -j "$J" --now "$NOW" --preset "$preset" -o "$DIR/$preset.prom"
		run prom_samples "$DIR/$preset.prom"
		assert_success
	done
	run prom_samples "$DIR/native.prom"
	# The hostile workflow and label value come back byte for byte.
	want=$("$PYTHON3" -c 'import json, sys; print(json.dumps({"org": "", "repo": "", "runner": "", "status": "success", "who": sys.argv[2], "workflow": sys.argv[1]}, sort_keys=True, ensure_ascii=False))' "$HOSTILE_WF" "$HOSTILE_VALUE")
	assert_line "ci_workflow_runs_total	$want	1.0"
	# Nothing was forged: every sample belongs to a promrun family.
	refute_line --regexp '^fake_metric'
	refute_line --regexp '^forged'
	refute_line --regexp '^x	'
	run grep -c -v -E '^(ci_|promrun_)' <(prom_samples "$DIR/native.prom")
	assert_output 0
}

@test "the series count is what the journal holds, hostile names included" {
	promrun-render -j "$J" --now "$NOW" -o "$DIR/native.prom"
	# 4 workflow series (build, car factory, deploy, hostile) + 1 step.
	run grep -c '^ci_workflow_in_progress{' "$DIR/native.prom"
	assert_output 4
	run grep -c '^ci_step_in_progress{' "$DIR/native.prom"
	assert_output 1
	# Every line is a comment or exactly one sample: name{...} value.
	run grep -c -v -E '^(# (HELP|TYPE) |[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [^ ]+$)' "$DIR/native.prom"
	assert_output 0
}

@test "node_exporter's textfile collector serves every rendered series without a scrape error" {
	for preset in native chainloop prpc attest; do
		promrun-render -j "$J" --now "$NOW" --preset "$preset" -o "$DIR/$preset.prom"
	done
	node_exporter_start "$BATS_TEST_TMPDIR" "$DIR"
	curl -fsS "$NE_URL/metrics" >"$BATS_TEST_TMPDIR/scraped"
	stop_pid "$NE_PID"
	run grep -E '^node_textfile_scrape_error ' "$BATS_TEST_TMPDIR/scraped"
	assert_output 'node_textfile_scrape_error 0'
	prom_samples "$BATS_TEST_TMPDIR/scraped" | sort >"$BATS_TEST_TMPDIR/served"
	# node_exporter logs nothing wrong about our files.
	run grep -c 'level=error' "$BATS_TEST_TMPDIR/node-exporter.log"
	assert_output 0
	for preset in native chainloop prpc attest; do
		prom_samples "$DIR/$preset.prom" | sort >"$BATS_TEST_TMPDIR/rendered"
		[ -s "$BATS_TEST_TMPDIR/rendered" ]
		missing=$(comm -23 "$BATS_TEST_TMPDIR/rendered" "$BATS_TEST_TMPDIR/served")
		[ -z "$missing" ] || { echo "$preset: not served: $missing"; return 1; }
	done
}
