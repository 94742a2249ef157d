#!/usr/bin/env bats
# promrun-rules on deep and long input (issue 14, class 1): flat chains of
# any binary operator are taken at any length, as promtool takes them;
# anything that nests - parentheses, unary operators, calls, aggregations,
# right operands, subqueries, template actions, YAML collections - is
# taken to 500 levels (PQ_DEPTH_MAX) and refused past it with the position,
# exit 1, never a crash.  Merges of aliases are bounded; a rule file that
# changes while it is read is an error, exit 1.  Speed per doubling is in
# the rules benchmark, not here.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	GEN="$BATS_TEST_DIRNAME/tools/deep-rules.py"
	cd "$BATS_TEST_TMPDIR"
}

# gen SHAPE N: w.yml of that shape (test/tools/deep-rules.py).
gen() {
	"$GEN" "$@" >w.yml
}

# refused LINE:COL WHAT: the summary, exit 1, and the one error, at LINE:COL.
refused() {
	assert_failure 1
	assert_line --index 0 "w.yml:$1: error: $2"
	assert_line --index 1 --regexp '^promrun-rules: 1 file, [01] rules?, 1 error, 0 warnings$'
	[ "${#lines[@]}" -eq 2 ]
}

clean='promrun-rules: 1 file, 1 rule, 0 errors, 0 warnings'
deep_expr='could not parse expression: expression nests deeper than 500 levels [promql]'
deep_tmpl='annotation "summary": template: template nests deeper than 500 levels [template]'
deep_yaml='YAML nests deeper than 500 levels [yaml]'

@test "the issue's 5,040-term up+up+... checks with -p native, as promtool takes it" {
	printf 'groups:\n- name: g\n  rules:\n  - record: r\n    expr: %s\n' \
	    "$("$GEN" chain:+ 5040 -e | tr -d ' ')" >w.yml
	[ "$(wc -c <w.yml)" -gt 15000 ]
	run promrun-rules check -p native w.yml
	assert_success
	assert_output "$clean"
	run promtool check rules w.yml
	assert_success
}

@test "a chain of 5,040 terms of every binary operator and matching is taken, as promtool takes it" {
	local op
	for op in + - '*' / % atan2 '== bool' '!= bool' '> bool' '< bool' \
	    '>= bool' '<= bool' '>' '<' '>=' '<=' '==' '!=' and or unless \
	    '+ on(job)' '* ignoring(instance) group_left' \
	    '/ on(job) group_right'; do
		gen "chain:$op" 5040
		run promrun-rules check -p native w.yml
		assert_success
		assert_output "$clean"
		run promtool check rules w.yml
		assert_success
	done
}

@test "a chain counts one level: 50 terms each 498 parentheses deep are taken" {
	gen deepchain 50
	run promrun-rules check -p native w.yml
	assert_success
	assert_output "$clean"
}

@test "a long mixed chain prints back in canonical form, and parses again" {
	local e
	e=$("$PYTHON3" -c 'print(" ".join("a%d %s" % (i, "+-*/%^<>" [i % 8]) for i in range(3000)) + " z")')
	run promrun-rules parse "$e"
	assert_success
	[ "${#output}" -gt 20000 ]
	e=$output
	run promrun-rules parse "$e"
	assert_success
	assert_output "$e"
}

@test "parentheses, unary minus, calls, aggregations: 499 deep taken, 500 refused at the operand" {
	local s col
	for s in paren:512 unary:512 call:2012 agg:2012 aggby:7012; do
		col=${s#*:}
		gen "${s%:*}" 499
		run promrun-rules check -p native w.yml
		assert_success
		assert_output "$clean"
		gen "${s%:*}" 500
		run promrun-rules check -p native w.yml
		refused "5:$col" "$deep_expr"
	done
}

@test "right operands and subqueries count a level each: 249 taken, 250 refused" {
	gen rnest 249
	run promrun-rules check -p native w.yml
	assert_success
	gen rnest 250
	run promrun-rules check -p native w.yml
	refused 5:1512 "$deep_expr"
	gen subquery 249
	run promrun-rules check -p native w.yml
	assert_success
	gen subquery 250
	run promrun-rules check -p native w.yml
	refused 5:5008 "$deep_expr"
}

@test "^ is right-associative, so a chain of it nests: 500 terms taken, 501 refused" {
	gen 'chain:^' 500
	run promrun-rules check w.yml
	assert_success
	gen 'chain:^' 501
	run promrun-rules check w.yml
	refused 5:2512 "$deep_expr"
}

@test "the bound is ours: promtool takes 500 parentheses and 501 template actions" {
	gen paren 500
	run promtool check rules w.yml
	assert_success
	gen tmpl:if 501
	run promtool check rules w.yml
	assert_success
}

@test "parse: too deep exits 1 with line:col, as any invalid expression; usage still 2" {
	run promrun-rules parse "$("$GEN" paren 500 -e)"
	assert_failure 1
	assert_output 'promrun-rules: 1:501: expression nests deeper than 500 levels'
	run promrun-rules parse "$("$GEN" paren 499 -e)"
	assert_success
	run promrun-rules parse "$("$GEN" 'chain:^' 600 -e)"
	assert_failure 1
	assert_output 'promrun-rules: 1:2501: expression nests deeper than 500 levels'
	run promrun-rules parse
	assert_failure 2
}

@test "template actions and parentheses: 500 deep taken, 501 refused where the level opens" {
	local s col
	for s in if:4019 range:5519 with:5019 paren:525 block:8915; do
		col=${s#*:}
		gen "tmpl:${s%:*}" 500
		run promrun-rules check w.yml
		assert_success
		assert_output "$clean"
		gen "tmpl:${s%:*}" 501
		run promrun-rules check w.yml
		refused "8:$col" "$deep_tmpl"
	done
}

@test "else-if and pipeline chains are flat: 5,000 long are taken, as promtool takes them" {
	local s
	for s in elseif pipe; do
		gen "tmpl:$s" 5000
		run promrun-rules check w.yml
		assert_success
		assert_output "$clean"
		run promtool check rules w.yml
		assert_success
	done
}

@test "YAML sequences and mappings, flow and block: 500 levels read, 501 refused" {
	local c
	while IFS='|' read -r shape n pos msg; do
		gen "yaml:$shape" "$n"
		run promrun-rules check w.yml
		refused "$pos" "${msg:-$deep_yaml}"
		c=$((${c:-0} + 1))
	done <<-'EOF'
	seq|499|1:10|a group must be a mapping (name, interval, limit, rules), not a list [yaml]
	seq|500|1:508|
	map|499|1:9|groups must be a list, not a mapping [yaml]
	map|500|1:2005|
	blockseq|500|501:500|
	blockmap|500|501:501|
	EOF
	[ "$c" -eq 6 ]
}

@test "the issue's groups: [[[...]]] 100,000 deep is refused at level 501, as promtool refuses it" {
	gen yaml:seq 100000
	run promrun-rules check w.yml
	refused 1:508 "$deep_yaml"
	run promtool check rules w.yml
	assert_failure
	assert_output --partial 'exceeded max depth of 10000'
}

@test "merges of aliases of aliases are refused, as promtool refuses them" {
	gen yaml:merge 10
	run promrun-rules check w.yml
	assert_failure 1
	assert_line --index 0 --regexp '^w\.yml:7:11: error: document contains excessive aliasing \(map merges read more than [0-9]+ pairs\) \[yaml\]$'
	run promtool check rules w.yml
	assert_failure
	assert_output --partial 'document contains excessive aliasing'
}

@test "a mapping of 20,000 keys: the repeated one is found with its first line" {
	gen yaml:labels 20000
	run promrun-rules check w.yml
	refused 20007:7 'mapping key "l0" already defined at line 7 [yaml]'
}

# The deepest input of each kind, for the stack tests.
deepest() {
	"$GEN" call 499 >call.yml
	"$GEN" aggby 499 >aggby.yml
	"$GEN" 'chain:^' 500 >pow.yml
	"$GEN" rnest 249 >rnest.yml
	"$GEN" subquery 249 >subquery.yml
	"$GEN" tmpl:paren 500 >tparen.yml
	"$GEN" tmpl:block 500 >tblock.yml
}

@test "the deepest input taken checks in a 1 MiB stack, an eighth of the default (ASan too)" {
	deepest
	run bash -c 'ulimit -s 1024 && promrun-rules check -p native call.yml aggby.yml pow.yml rnest.yml subquery.yml tparen.yml tblock.yml'
	assert_success
	assert_output 'promrun-rules: 7 files, 7 rules, 0 errors, 0 warnings'
	run bash -c 'ulimit -s 1024 && promrun-rules parse "$("$0" call 499 -e)"' "$GEN"
	assert_success
}

# truncated SIZE: w.yml of about SIZE bytes, checked while the shim
# truncates it after the checker's first read.
truncated() {
	"$GEN" chain:+ "$1" >w.yml
	run env ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" \
	    LD_PRELOAD="$PROMRUN_BUILD/test/truncate-on-read.so" \
	    TRUNCATE_ON_READ=w.yml promrun-rules check w.yml
}

@test "a rule file truncated while it is read is an error, exit 1, not SIGBUS" {
	truncated 40000
	assert_failure 1
	assert_line --index 0 'promrun-rules: "w.yml" changed while it was read (200051 bytes, 65536 read): check it again once it is written'
	[ ! -s w.yml ]
	truncated 1000
	assert_failure 1
	assert_line --index 0 'promrun-rules: "w.yml" changed while it was read (5051 bytes, 5051 read): check it again once it is written'
	[ ! -s w.yml ]
}

@test "a repeated rules: key is an error, and the last list is read (fuzz-rules found an overflow)" {
	printf 'groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n  - record: b\n    expr: up\n  rules:\n  - record: c\n    expr: up\n' >w.yml
	run promrun-rules check w.yml
	assert_failure 1
	assert_output - <<-'EOF'
	w.yml:8:3: error: mapping key "rules" already defined at line 3 [yaml]
	promrun-rules: 1 file, 1 rule, 1 error, 0 warnings
	EOF
}

@test "with many variables (indexed past 32) scopes hold as promtool holds them" {
	local pre t theirs ours n=0
	pre=$("$PYTHON3" -c 'print("".join("{{$p%d := 1}}" % i for i in range(40)))')
	for t in '{{if $x := 1}}{{$x}}{{end}}{{$x}}' \
	    '{{if $x := 1}}{{else if $y := 2}}{{$x}}{{$y}}{{end}}{{$p3}}' \
	    '{{define "a"}}{{$p1}}{{end}}' '{{block "a" .}}{{$}}{{end}}{{$p39}}' \
	    '{{$p1 := 2}}{{with $q := 1}}{{$p1}}{{$q}}{{end}}{{$q}}' \
	    '{{range $i, $e := .}}{{$i}}{{end}}{{$e}}'; do
		printf "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 1m\n    annotations:\n      summary: '%s'\n" "$pre$t" >w.yml
		theirs=0 ours=0
		promtool check rules w.yml >/dev/null 2>&1 || theirs=$?
		promrun-rules check w.yml >/dev/null 2>&1 || ours=$?
		[ "$theirs" -eq "$ours" ] || fail "promtool $theirs, promrun-rules $ours: $t"
		n=$((n + ours))
	done
	[ "$n" -eq 4 ]	# both verdicts met: four refused, two taken
}
