#!/usr/bin/env bats
# promrun-rules parse: canonical form, errors with line and column.

setup() {
	load 'test_helper/common-setup'
	_common_setup
}

@test "parse prints Prometheus's canonical form" {
	run promrun-rules parse 'sum(rate(x[90s])) by (job)'
	assert_success
	assert_output 'sum by (job) (rate(x[1m30s]))'
	run promrun-rules parse 'x{b="2",a=~"1"}  offset 1w @ 1.5'
	assert_output 'x{a=~"1",b="2"} @ 1.500 offset 1w'
	run promrun-rules parse 'a+on(x)group_left(y)b^-1^2'
	assert_output 'a + on (x) group_left (y) b ^ -1 ^ 2'
	run promrun-rules parse '1000000 + 0x10 + 010 + .5e-5 + -Inf'
	assert_output '1e+06 + 16 + 8 + 5e-06 + -Inf'
	run promrun-rules parse "topk(3, rate(x[5m:] @ end())) > bool 0.5"
	assert_output 'topk(3, rate(x[5m:] @ end())) > bool 0.5'
	run promrun-rules parse $'\'a\\tb\' # comment'
	assert_output '"a\tb"'
}

@test "the canonical form parses back to itself" {
	for e in 'sum by (job) (rate(x[1m30s]))' 'x{a=~"1",b="2"} @ 1.500 offset 1w' \
	    'a + on (x) group_left (y) b ^ -1 ^ 2' '-(1) - -1 - --x' \
	    'label_replace(up, "d", "$1", "s", "(.*)")' 'count_values("v", up)'; do
		run promrun-rules parse "$e"
		assert_success
		assert_output "$e"
	done
}

@test "an invalid expression exits 1 with line:column and Prometheus's message" {
	run --separate-stderr promrun-rules parse 'rate(x)'
	assert_failure 1
	[ "$stderr" = 'promrun-rules: 1:6: expected type range vector in call to function "rate", got instant vector' ]
	run --separate-stderr promrun-rules parse $'sum(\n  x[5m]\n) by (j'
	assert_failure 1
	[ "$stderr" = 'promrun-rules: 3:8: unclosed left parenthesis' ]
	run --separate-stderr promrun-rules parse 'x{a=~"(b"}'
	assert_failure 1
	[ "$stderr" = 'promrun-rules: 1:3: error parsing regexp: missing closing ): `^(?:(b)$`' ]
	run --separate-stderr promrun-rules parse '1 > 2'
	[ "$stderr" = 'promrun-rules: 1:3: comparisons between scalars must use BOOL modifier' ]
}

@test "parse takes exactly one expression" {
	run --separate-stderr promrun-rules parse
	assert_failure 2
	assert_equal "${stderr_lines[0]}" 'promrun-rules: parse needs exactly one expression'
	run --separate-stderr promrun-rules parse a b
	assert_failure 2
	run promrun-rules parse -- '-x'
	assert_success
	assert_output -- '-x'
}
