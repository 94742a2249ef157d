#!/usr/bin/env bats
# Every fuzz target's saved corpus (test/fuzz/corpus/NAME: seeds and what
# "make fuzz" found worth keeping) replayed through the target itself, built
# with the normal compiler: under gcc in "make check", under ASan and UBSan
# with SANITIZE=1.  A broken property aborts inside the target.  The PromQL
# corpus is replayed by 22-rules-differential.

setup() {
	load 'test_helper/common-setup'
	_common_setup
}

# replay NAME MIN: the corpus holds at least MIN inputs and all replay.
replay() {
	local corpus="$BATS_TEST_DIRNAME/fuzz/corpus/$1" n
	n=$(find "$corpus" -type f | wc -l)
	(( n >= $2 )) || fail "corpus $1 holds $n inputs, expected at least $2"
	run "fuzz-replay-$1" "$corpus"/*
	assert_success
	assert_output "$n inputs replayed"
}

@test "the journal decoder's corpus replays: every record found, round trip exact" {
	replay journal 300
}

@test "the checkpoint decoder's corpus replays: loaded or refused, never trusted when damaged" {
	replay checkpoint 200
}

@test "the exposition parser's corpus replays: accepted input prints back the same" {
	replay expfmt 400
}

@test "the INI handling's corpus replays: loaded values are always acceptable" {
	replay config 400
}

@test "the rule checker's corpus replays: deep and long shapes, findings one line each" {
	replay rules 150
}

@test "the receiver's request handler corpus replays: raw requests answered, never a 5xx of ours, the server alive after each" {
	replay serve 100
}

@test "the unit-test runner's corpus replays: every file runs to a verdict" {
	replay utest 100
}

@test "the evaluator's corpus replays: every expression evaluates or fails cleanly" {
	replay eval 300
}

@test "an input the driver cannot read is an error, not a silent pass" {
	run fuzz-replay-journal "$BATS_TEST_DIRNAME"/fuzz/corpus/journal/* /nonexistent/input
	assert_failure 2
	assert_output --partial '/nonexistent/input'
}
