#!/usr/bin/env bats
# promrun-render's numbers, value by value against a journal computed by
# hand: counts, lost runs, late finishes, in_progress, gauges, histograms,
# presets; and the guarantees around them: counters never go backwards
# through checkpoints, compaction and rebuilds.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	printf '[render]\nlost_after = 1h\n' >"$CONF"
	OUT="$BATS_TEST_TMPDIR/out.prom"
	NOW=100000
}

# The journal the expectations below were computed from.
hand_journal() {
	# build{repo=r}: one run of each outcome; the cancelled one is the newest.
	promrun-record -j "$J" -w build -l repo=r -s success -d 10 --time 1000
	promrun-record -j "$J" -w build -l repo=r -s failure -d 100 --time 2000
	promrun-record -j "$J" -w build -l repo=r -e 124 -d 4000 --time 5000
	promrun-record -j "$J" -w build -l repo=r -s cancelled -d 0.5 --time 6000
	# deploy: starts and finishes (lost_after = 1h).
	promrun-record -j "$J" -w deploy --start --run-id a --time 10000
	promrun-record -j "$J" -w deploy --finish --run-id a -s success --time 10060
	promrun-record -j "$J" -w deploy --start --run-id b --time 20000	# never finishes: lost
	promrun-record -j "$J" -w deploy --start --run-id c --time 30000
	promrun-record -j "$J" -w deploy --finish --run-id c -s failure --time 40000	# 10000 s: late
	promrun-record -j "$J" -w deploy --start --run-id d --time 99000	# in progress at NOW
	promrun-record -j "$J" -w deploy -s success -d 5 --time 50000
	# a step of deploy
	promrun-record -j "$J" -w deploy --step push -s success -d 2 --time 60000
}

v() {
	sample_value "$OUT" "$1"
}

@test "build: one run of each outcome, gauges from the newest, histogram buckets" {
	hand_journal
	promrun-render -j "$J" --now "$NOW" -o "$OUT"
	w='workflow="build"'
	for st in success failure timeout cancelled; do
		[ "$(v "ci_workflow_runs_total{$w,status=\"$st\",repo=\"r\"}")" = 1 ]
	done
	[ "$(v "ci_workflow_runs_total{$w,status=\"lost\",repo=\"r\"}")" = 0 ]
	[ "$(v "ci_workflow_up{$w,repo=\"r\"}")" = 0 ]
	[ "$(v "ci_workflow_last_run_timestamp_seconds{$w,repo=\"r\"}")" = 6000 ]
	[ "$(v "ci_workflow_last_run_duration_seconds{$w,repo=\"r\"}")" = 0.5 ]
	[ "$(v "ci_workflow_last_success_timestamp_seconds{$w,repo=\"r\"}")" = 1000 ]
	# latest start: max(time - duration) = 6000 - 0.5
	[ "$(v "ci_workflow_last_start_timestamp_seconds{$w,repo=\"r\"}")" = 5999.5 ]
	[ "$(v "ci_workflow_in_progress{$w,repo=\"r\"}")" = 0 ]
	# success 10 s: first bucket holding it is le=15
	h='ci_workflow_run_duration_seconds'
	[ "$(v "${h}_bucket{$w,status=\"success\",repo=\"r\",le=\"5\"}")" = 0 ]
	[ "$(v "${h}_bucket{$w,status=\"success\",repo=\"r\",le=\"15\"}")" = 1 ]
	[ "$(v "${h}_bucket{$w,status=\"success\",repo=\"r\",le=\"+Inf\"}")" = 1 ]
	[ "$(v "${h}_sum{$w,status=\"success\",repo=\"r\"}")" = 10 ]
	# failure 100 s: le=120; timeout 4000 s: le=7200; cancelled 0.5 s: le=1
	[ "$(v "${h}_bucket{$w,status=\"failure\",repo=\"r\",le=\"60\"}")" = 0 ]
	[ "$(v "${h}_bucket{$w,status=\"failure\",repo=\"r\",le=\"120\"}")" = 1 ]
	[ "$(v "${h}_bucket{$w,status=\"timeout\",repo=\"r\",le=\"3600\"}")" = 0 ]
	[ "$(v "${h}_bucket{$w,status=\"timeout\",repo=\"r\",le=\"7200\"}")" = 1 ]
	[ "$(v "${h}_bucket{$w,status=\"cancelled\",repo=\"r\",le=\"1\"}")" = 1 ]
	[ "$(v "${h}_count{$w,status=\"cancelled\",repo=\"r\"}")" = 1 ]
	# +Inf always equals _count
	awk '/_bucket\{.*le="\+Inf"\}/ { k = $1; sub(/_bucket/, "_count", k); sub(/,le="\+Inf"/, "", k); inf[k] = $2 }
	     /_count[{ ]/ { c[$1] = $2 }
	     END { for (k in inf) if (inf[k] != c[k]) { print k; bad = 1 } exit bad }' "$OUT"
}

@test "deploy: matched runs, a lost run, a late finish, a run in progress" {
	hand_journal
	promrun-render -j "$J" --now "$NOW" -o "$OUT"
	w='workflow="deploy"'
	# a (finished on time) and the complete run at 50000
	[ "$(v "ci_workflow_runs_total{$w,status=\"success\",repo=\"\"}")" = 2 ]
	# c finished 10000 s after its start: counted once as lost, not as failure
	[ "$(v "ci_workflow_runs_total{$w,status=\"failure\",repo=\"\"}")" = 0 ]
	# b (never finished) and c
	[ "$(v "ci_workflow_runs_total{$w,status=\"lost\",repo=\"\"}")" = 2 ]
	# c's real outcome
	[ "$(v "ci_workflow_late_finishes_total{$w,status=\"failure\",repo=\"\"}")" = 1 ]
	[ "$(v "ci_workflow_in_progress{$w,repo=\"\"}")" = 1 ]
	# the newest outcome is the success at 50000
	[ "$(v "ci_workflow_up{$w,repo=\"\"}")" = 1 ]
	[ "$(v "ci_workflow_last_run_timestamp_seconds{$w,repo=\"\"}")" = 50000 ]
	[ "$(v "ci_workflow_last_run_duration_seconds{$w,repo=\"\"}")" = 5 ]
	[ "$(v "ci_workflow_last_success_timestamp_seconds{$w,repo=\"\"}")" = 50000 ]
	[ "$(v "ci_workflow_last_start_timestamp_seconds{$w,repo=\"\"}")" = 99000 ]
	h='ci_workflow_run_duration_seconds'
	# a lasted 60 s (finish - start), the complete run 5 s
	[ "$(v "${h}_bucket{$w,status=\"success\",repo=\"\",le=\"5\"}")" = 1 ]
	[ "$(v "${h}_bucket{$w,status=\"success\",repo=\"\",le=\"30\"}")" = 1 ]
	[ "$(v "${h}_bucket{$w,status=\"success\",repo=\"\",le=\"60\"}")" = 2 ]
	[ "$(v "${h}_sum{$w,status=\"success\",repo=\"\"}")" = 65 ]
	# c's 10000 s are in the histogram under its real outcome
	[ "$(v "${h}_bucket{$w,status=\"failure\",repo=\"\",le=\"7200\"}")" = 0 ]
	[ "$(v "${h}_bucket{$w,status=\"failure\",repo=\"\",le=\"+Inf\"}")" = 1 ]
	# the step
	[ "$(v 'ci_step_runs_total{workflow="deploy",step="push",status="success"}')" = 1 ]
	[ "$(v 'ci_step_up{workflow="deploy",step="push"}')" = 1 ]
}

@test "last_success is 0 once runs have ended and none succeeded, for workflows and steps; absent before any run ends" {
	printf '[render]\nlost_after = 1h\n' >"$CONF"
	promrun-record -j "$J" -w flaky -s failure -d 5 --time 1000
	promrun-record -j "$J" -w flaky --step lint -e 124 -d 5 --time 1000
	promrun-record -j "$J" -w dies --start --run-id d --time 1000
	promrun-record -j "$J" -w fresh --start --run-id f --time 4000
	promrun-render -j "$J" --now 4700 -o "$OUT"
	[ "$(v 'ci_workflow_last_success_timestamp_seconds{workflow="flaky"}')" = 0 ]
	[ "$(v 'ci_step_last_success_timestamp_seconds{workflow="flaky",step="lint"}')" = 0 ]
	# a run lost is a run ended without success
	[ "$(v 'ci_workflow_runs_total{workflow="dies",status="lost"}')" = 1 ]
	[ "$(v 'ci_workflow_last_success_timestamp_seconds{workflow="dies"}')" = 0 ]
	# a first run still going: no outcome yet, so neither up nor last_success
	[ "$(v 'ci_workflow_in_progress{workflow="fresh"}')" = 1 ]
	run ! grep -E '^ci_workflow_(up|last_success_timestamp_seconds)\{workflow="fresh"' "$OUT"
	# the first success replaces the 0
	promrun-record -j "$J" -w flaky -s success -d 5 --time 5000
	promrun-render -j "$J" --now 5100 -o "$OUT"
	[ "$(v 'ci_workflow_last_success_timestamp_seconds{workflow="flaky"}')" = 5000 ]
	grep -qx '# HELP ci_workflow_last_success_timestamp_seconds End time of the latest successful workflow run, Unix seconds; 0 if none of its finished runs succeeded.' "$OUT"
}

@test "lost and in_progress move with time, and lost runs make up 0" {
	promrun-record -j "$J" -w nightly -s success -d 60 --time 1000
	promrun-record -j "$J" -w nightly --start --run-id x --time 2000
	promrun-render -j "$J" --now 2100 -o "$OUT"
	[ "$(v 'ci_workflow_in_progress{workflow="nightly"}')" = 1 ]
	[ "$(v 'ci_workflow_runs_total{workflow="nightly",status="lost"}')" = 0 ]
	[ "$(v 'ci_workflow_up{workflow="nightly"}')" = 1 ]
	# an hour and a second after its start, x is lost
	promrun-render -j "$J" --now 5601 -o "$OUT"
	[ "$(v 'ci_workflow_in_progress{workflow="nightly"}')" = 0 ]
	[ "$(v 'ci_workflow_runs_total{workflow="nightly",status="lost"}')" = 1 ]
	[ "$(v 'ci_workflow_up{workflow="nightly"}')" = 0 ]
	# its finish arrives late: lost stays 1, success does not move
	promrun-record -j "$J" -w nightly --finish --run-id x -s success --time 9000
	promrun-render -j "$J" --now 9100 -o "$OUT"
	[ "$(v 'ci_workflow_runs_total{workflow="nightly",status="lost"}')" = 1 ]
	[ "$(v 'ci_workflow_runs_total{workflow="nightly",status="success"}')" = 1 ]
	[ "$(v 'ci_workflow_late_finishes_total{workflow="nightly",status="success"}')" = 1 ]
	[ "$(v 'ci_workflow_up{workflow="nightly"}')" = 1 ]
	[ "$(v 'ci_workflow_last_success_timestamp_seconds{workflow="nightly"}')" = 9000 ]
}

@test "the presets show the same journal in their own names, labels and statuses" {
	printf '[journal]\nlabels = org, runner, repo\n[render]\nlost_after = 1h\n' >"$CONF"
	promrun-record -j "$J" -w rel -l org=acme -l runner=gha -s success -d 20 --time 1000
	promrun-record -j "$J" -w rel -l org=acme -l runner=gha -s failure -d 40 --time 2000
	promrun-record -j "$J" -w rel -l org=acme -l runner=gha -e 124 -d 700 --time 3000
	promrun-record -j "$J" -w rel -l org=acme -l runner=gha -s cancelled -d 1 --time 3500
	promrun-record -j "$J" -w rel -l org=acme -l runner=gha --start --run-id z --time 4000
	promrun-record -j "$J" -w "car factory" -s success -d 3 --time 4000
	promrun-record -j "$J" -w rel --step test -s success -d 9 --time 4100
	# chainloop: up{org,workflow}; histogram with Chainloop's buckets and statuses
	promrun-render -j "$J" --now 9000 --preset chainloop -o "$OUT"
	[ "$(v 'chainloop_workflow_up{org="acme",workflow="rel"}')" = 0 ]
	h='chainloop_workflow_run_duration_seconds'
	[ "$(v "${h}_count{org=\"acme\",workflow=\"rel\",status=\"success\",runner=\"gha\"}")" = 1 ]
	# failure and timeout are both Chainloop's "error"
	[ "$(v "${h}_count{org=\"acme\",workflow=\"rel\",status=\"error\",runner=\"gha\"}")" = 2 ]
	[ "$(v "${h}_bucket{org=\"acme\",workflow=\"rel\",status=\"error\",runner=\"gha\",le=\"600\"}")" = 1 ]
	[ "$(v "${h}_bucket{org=\"acme\",workflow=\"rel\",status=\"error\",runner=\"gha\",le=\"900\"}")" = 2 ]
	[ "$(v "${h}_count{org=\"acme\",workflow=\"rel\",status=\"canceled\",runner=\"gha\"}")" = 1 ]
	run grep -c '_bucket{org="acme",workflow="rel",status="success",runner="gha",le=' "$OUT"
	assert_output 12	# 11 Chainloop buckets and +Inf
	run grep -F '# HELP chainloop_workflow_up ' "$OUT"
	assert_output '# HELP chainloop_workflow_up Indicate if the last run was successful.'
	# prpc: one counter family per pipeline, success or failure
	promrun-render -j "$J" --now 9000 --preset prpc -o "$OUT"
	[ "$(v 'rel_pipeline_run_total{status="success"}')" = 1 ]
	# failure, timeout, cancelled and the lost start z
	[ "$(v 'rel_pipeline_run_total{status="failure"}')" = 4 ]
	[ "$(v 'car_factory_pipeline_run_total{status="success"}')" = 1 ]
	run grep -F '# HELP car_factory_pipeline_run_total' "$OUT"
	assert_output '# HELP car_factory_pipeline_run_total The total number of car_factory pipeline runs.'
	# attest: executions over all pipelines; durations per pipeline and per step
	promrun-render -j "$J" --now 9000 --preset attest -o "$OUT"
	[ "$(v 'attest_pipeline_executions_total{status="success"}')" = 2 ]
	[ "$(v 'attest_pipeline_executions_total{status="failure"}')" = 4 ]
	[ "$(v 'attest_pipeline_duration_seconds_count{pipeline="rel"}')" = 4 ]
	[ "$(v 'attest_pipeline_duration_seconds_sum{pipeline="rel"}')" = 761 ]
	[ "$(v 'attest_step_duration_seconds_count{step="test",status="success"}')" = 1 ]
	# the namespace applies to native and attest
	promrun-render -j "$J" --now 9000 --preset attest --namespace ci_attest -o "$OUT"
	[ "$(v 'ci_attest_pipeline_executions_total{status="success"}')" = 2 ]
	promrun-render -j "$J" --now 9000 --namespace jobs -o "$OUT"
	[ "$(v 'jobs_workflow_runs_total{workflow="car factory",status="success",org="",runner=""}')" = 1 ]
}

@test "user labels follow the allow-list; labels recorded before it are dropped" {
	promrun-record -j "$J" -w w -l repo=a -l branch=x -s success --time 1
	promrun-record -j "$J" -w w -l repo=a -l branch=y -s success --time 2
	promrun-render -j "$J" --now 10 -o "$OUT"
	[ "$(v 'ci_workflow_runs_total{workflow="w",status="success",branch="x",repo="a"}')" = 1 ]
	printf '[journal]\nlabels = repo\n' >"$CONF"
	promrun-render -j "$J" --now 10 -o "$OUT"
	[ "$(v 'ci_workflow_runs_total{workflow="w",status="success",repo="a"}')" = 2 ]
	! grep -q branch "$OUT"
}

@test "job, instance and textfile labels of records written before they were refused are dropped, with a warning" {
	# What an older promrun-record wrote for -l job=... and -l instance=...
	for payload in \
	    'run time=100 workflow=w status=success label.job=nightly label.repo=a' \
	    'run time=200 workflow=w status=failure label.instance=ci-7 label.repo=a' \
	    'start time=300 workflow=w run_id=r1 label.job= label.textfile=x.prom' \
	    'finish time=400 workflow=w run_id=r1 status=success'; do
		printf '%s' "$payload" | journal-frame >>"$J"
	done
	promrun-record -j "$J" -w w -l repo=a -s success --time 500
	run --separate-stderr promrun-render -j "$J" --now 1000 -o "$OUT"
	assert_success
	assert_equal "$stderr" 'promrun-render: warning: 3 records carry a job, instance or textfile label, which the Pushgateway or Prometheus set: dropped from the metrics (promrun-record refuses them now)'
	# The runs count, in the series they would have had without the label.
	[ "$(v 'ci_workflow_runs_total{workflow="w",status="success",repo="a"}')" = 2 ]
	[ "$(v 'ci_workflow_runs_total{workflow="w",status="failure",repo="a"}')" = 1 ]
	[ "$(v 'ci_workflow_runs_total{workflow="w",status="success",repo=""}')" = 1 ]
	run grep -E '[{,](job|instance|textfile)=' "$OUT"
	assert_failure 1
	# Read once: the next render starts from the checkpoint, silently; a
	# rebuild reads them again and says so again.
	run --separate-stderr promrun-render -j "$J" --now 1000 -o "$OUT"
	assert_equal "$stderr" ''
	run --separate-stderr promrun-render -j "$J" --now 1000 -o "$OUT" --rebuild
	[[ $stderr == 'promrun-render: warning: 3 records carry '* ]]
	# Compaction folds them into state without the labels: gone for good.
	printf '[render]\nlost_after = 1h\nkeep_history = 1m\n' >"$CONF"
	promrun-render -j "$J" --now 1000 -o "$OUT" --compact
	run --separate-stderr promrun-render -j "$J" --now 1000 -o "$OUT" --rebuild
	assert_equal "$stderr" ''
	[ "$(v 'ci_workflow_runs_total{workflow="w",status="success",repo="a"}')" = 2 ]
	run grep -c -E 'job|instance|textfile' "$J"
	assert_output 0
}

# Every counter sample of a textfile: "series value", sorted.
counters() {
	awk '/^# TYPE / { type[$3] = $4; next }
	     { n = $1; sub(/\{.*/, "", n); f = n; sub(/_(bucket|sum|count)$/, "", f)
	       if (type[n] == "counter" || type[f] == "histogram") print $1, $2 }' "$1" | sort
}

@test "counters never go backwards: render, compact, delete the textfile and checkpoint, render again" {
	hand_journal
	for i in $(seq 1 20); do
		promrun-record -j "$J" -w build -l repo=r -s success -d "$i" --time $((60000 + i))
	done
	printf '[render]\nlost_after = 1h\nkeep_history = 1h\n' >"$CONF"
	promrun-render -j "$J" --now "$NOW" -o "$OUT"
	counters "$OUT" >"$BATS_TEST_TMPDIR/before"
	size_before=$(wc -c <"$J")
	promrun-render -j "$J" --now "$NOW" -o "$OUT" --compact
	[ "$(wc -c <"$J")" -lt "$size_before" ]
	counters "$OUT" >"$BATS_TEST_TMPDIR/compacted"
	rm "$OUT" "$J.checkpoint"
	promrun-render -j "$J" --now "$NOW" -o "$OUT"
	counters "$OUT" >"$BATS_TEST_TMPDIR/rebuilt"
	diff "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/compacted"
	diff "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/rebuilt"
	# and they are the exact number of runs recorded
	[ "$(v 'ci_workflow_runs_total{workflow="build",status="success",repo="r"}')" = 21 ]
	[ "$(v 'promrun_journal_records_total{preset="native",result="ok"}')" = 32 ]
}

@test "compaction changes nothing in the output, keeps recent records as they were, and the open runs" {
	hand_journal
	printf '[render]\nlost_after = 1h\nkeep_history = 10h\n' >"$CONF"
	promrun-render -j "$J" --now "$NOW" -o "$BATS_TEST_TMPDIR/before.prom"
	# records from 64000 on (NOW - 10h) are kept byte for byte
	recent=$(grep -n 'time=99000 ' "$J" | cut -d: -f1)
	tail -n +"$recent" "$J" >"$BATS_TEST_TMPDIR/recent"
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$BATS_TEST_TMPDIR/after.prom" --compact -v
	assert_success
	[[ $stderr == *"journal compacted from "* ]]
	cmp "$BATS_TEST_TMPDIR/before.prom" "$BATS_TEST_TMPDIR/after.prom"
	tail -n "$(wc -l <"$BATS_TEST_TMPDIR/recent")" "$J" | cmp - "$BATS_TEST_TMPDIR/recent"
	run journal_summary "$J"
	assert_output --partial 'damaged=0'
	assert_output --partial 'undecodable=0'
	# b, still open (lost at NOW), is carried as an open run
	grep -q '^pr1 [0-9a-f]* open time=20000 workflow=deploy run_id=b$' "$J"
	# from scratch on the compacted journal: the same output
	promrun-render -j "$J" --now "$NOW" -o "$BATS_TEST_TMPDIR/rebuilt.prom" --rebuild
	cmp "$BATS_TEST_TMPDIR/before.prom" "$BATS_TEST_TMPDIR/rebuilt.prom"
	# a finish for a carried open run still matches it
	promrun-record -j "$J" -w deploy --finish --run-id d -s success --time 99500
	promrun-render -j "$J" --now "$NOW" -o "$OUT"
	[ "$(v 'ci_workflow_in_progress{workflow="deploy",repo=""}')" = 0 ]
	[ "$(v 'ci_workflow_runs_total{workflow="deploy",status="success",repo=""}')" = 3 ]
}

@test "compaction happens by itself past max_journal_size and waits for nobody's data" {
	printf '[render]\nkeep_history = 1h\nmax_journal_size = 2K\n' >"$CONF"
	for i in $(seq 1 40); do
		promrun-record -j "$J" -w w -s success -d 1 --time "$i"
	done
	[ "$(wc -c <"$J")" -gt 2048 ]
	run --separate-stderr promrun-render -j "$J" --now 100000 -o "$OUT" -v
	assert_success
	[[ $stderr == *"journal compacted from "* ]]
	[ "$(wc -c <"$J")" -lt 2048 ]
	[ "$(v 'ci_workflow_runs_total{workflow="w",status="success"}')" = 40 ]
}

@test "an incremental render equals a full one after every append" {
	for i in $(seq 1 30); do
		case $((i % 4)) in
		0) promrun-record -j "$J" -w w -s success -d "$i" -l "k=$((i % 3))" --time "$((i * 100))" ;;
		1) promrun-record -j "$J" -w w --start --run-id "r$i" --time "$((i * 100))" ;;
		2) promrun-record -j "$J" -w w --finish --run-id "r$((i - 1))" -e 1 --time "$((i * 100 + 50))" ;;
		3) printf 'junk\n' >>"$J" ;;
		esac
		promrun-render -j "$J" --now 5000 -o "$BATS_TEST_TMPDIR/inc.prom"
		promrun-render -j "$J" --now 5000 -o "$BATS_TEST_TMPDIR/full.prom" --rebuild
		cmp "$BATS_TEST_TMPDIR/inc.prom" "$BATS_TEST_TMPDIR/full.prom" || { echo "differ after $i"; return 1; }
	done
	[ "$(sample_value "$BATS_TEST_TMPDIR/full.prom" 'promrun_journal_records_total{preset="native",result="corrupt"}')" = 7 ]
}

@test "a damaged or foreign checkpoint is ignored and rebuilt, with the same result" {
	hand_journal
	promrun-render -j "$J" --now "$NOW" -o "$BATS_TEST_TMPDIR/good.prom"
	cp "$J.checkpoint" "$BATS_TEST_TMPDIR/checkpoint"
	# flip a byte in a state record
	sed -i '3s/runs=1/runs=9/' "$J.checkpoint"
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$OUT" -v
	[[ $stderr == *"(whole journal)"* ]]
	cmp "$OUT" "$BATS_TEST_TMPDIR/good.prom"
	# cut short
	head -c 200 "$BATS_TEST_TMPDIR/checkpoint" >"$J.checkpoint"
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$OUT" -v
	[[ $stderr == *"(whole journal)"* ]]
	cmp "$OUT" "$BATS_TEST_TMPDIR/good.prom"
	# a journal replaced by another one: the checkpoint does not fit it
	mv "$J" "$BATS_TEST_TMPDIR/old-journal"
	promrun-record -j "$J" -w other -s success --time 5
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$OUT" -v
	[[ $stderr == *"(whole journal)"* ]]
	! grep -q 'workflow="build"' "$OUT"
	# other settings (buckets) make it unusable too
	cp "$BATS_TEST_TMPDIR/old-journal" "$J"
	promrun-render -j "$J" --now "$NOW" -o "$OUT"
	printf '[render]\nlost_after = 1h\nbuckets = 1,10\n' >"$CONF"
	run --separate-stderr promrun-render -j "$J" --now "$NOW" -o "$OUT" -v
	[[ $stderr == *"(whole journal)"* ]]
	run grep -c 'ci_workflow_run_duration_seconds_bucket{workflow="build",status="success",repo="r",le=' "$OUT"
	assert_output 3
}

@test "the checkpoint never points past an incomplete last record" {
	promrun-record -j "$J" -w w -s success --time 1
	printf 'pr1 0000' >>"$J"	# a record being written
	promrun-render -j "$J" --now 10 -o "$OUT"
	offset=$(sed -n 's/.* offset=\([0-9]*\) .*/\1/p' "$J.checkpoint")
	[ "$offset" -eq "$(sed -n 1p "$J" | wc -c)" ]
}
