#!/usr/bin/env bats
# promrun-rules against Debian's promtool 2.42 over the generated corpus
# (test/rules/gen.py), the PrometheusRule manifests, and the round trip
# parse(print(e)) == e over every expression of the corpus and the fuzz
# target's saved inputs.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	R="$BATS_TEST_DIRNAME/rules"
	V="$R/verdicts.sh"
}

# agree PROMTOOL_VERDICTS OUR_VERDICTS: print every disagreement, then the counts.
agree() {
	"$PYTHON3" - "$1" "$2" <<'PY'
import sys
theirs = dict(l.split(" ", 1)[::-1] for l in open(sys.argv[1]).read().split("\n") if l)
ours = dict(l.split(" ", 1)[::-1] for l in open(sys.argv[2]).read().split("\n") if l)
bad = [f for f in theirs if ours.get(f) != theirs[f]]
for f in bad:
    print("disagree: %s: promtool %s, promrun-rules %s" % (f, theirs[f], ours.get(f)))
acc = sum(1 for v in theirs.values() if v == "accept")
print("%d files, %d accepted, %d rejected, %d disagreements"
      % (len(theirs), acc, len(theirs) - acc, len(bad)))
PY
}

# differential PART FILES ACCEPTED REJECTED: both tools over corpus/PART agree
# on every file, and the part holds at least so many files of each verdict.
differential() {
	"$V" promtool "$R"/corpus/"$1"/*.yml >"$BATS_TEST_TMPDIR/theirs"
	"$V" promrun-rules "$R"/corpus/"$1"/*.yml >"$BATS_TEST_TMPDIR/ours"
	run agree "$BATS_TEST_TMPDIR/theirs" "$BATS_TEST_TMPDIR/ours"
	assert_success
	assert_output --regexp ', 0 disagreements$'
	# Both verdicts in numbers, or agreement would mean little.
	[[ "$output" =~ ([0-9]+)\ files,\ ([0-9]+)\ accepted,\ ([0-9]+)\ rejected ]]
	(( BASH_REMATCH[1] >= $2 && BASH_REMATCH[2] >= $3 && BASH_REMATCH[3] >= $4 ))
}

@test "promtool and promrun-rules agree on every expression of the corpus" {
	differential expr 3000 900 1500
}

@test "promtool and promrun-rules agree on every rule-file case of the corpus" {
	differential file 450 150 150
}

@test "promtool refuses every PrometheusRule manifest as a whole" {
	run "$V" promtool "$R"/manifest/*.yml
	assert_success
	refute_output --partial 'accept'
	assert_line --index 0 --regexp '^reject '
}

@test "a manifest gets the verdict promtool gives its .spec as a rule file" {
	for m in "$R"/manifest/*.yml; do
		plain=${m%.yml}.plain
		theirs=$("$V" promtool "$plain" | cut -d' ' -f1)
		ours=$("$V" promrun-rules "$m" | cut -d' ' -f1)
		echo "$(basename "$m"): promtool on .spec $theirs, promrun-rules $ours"
		[ "$theirs" = "$ours" ]
	done
}

@test "parse(print(e)) == e for every expression of the corpus that parses" {
	run fuzz-replay "$BATS_TEST_DIRNAME"/fuzz/corpus/promql/seed-*
	assert_success
	[[ "$output" =~ ^([0-9]+)\ inputs,\ ([0-9]+)\ parsed ]]
	(( BASH_REMATCH[1] >= 3000 && BASH_REMATCH[2] >= 900 ))
}

@test "the fuzz target's whole saved corpus replays without a finding" {
	run fuzz-replay "$BATS_TEST_DIRNAME"/fuzz/corpus/promql/*
	assert_success
	assert_output --regexp '^[0-9]+ inputs, [0-9]+ parsed and printed back to the same tree$'
}
