#!/usr/bin/env bats
# promrun-ci: the CI post-step hook, with each CI's real variable names;
# the journal it leaves, --dry-run, status mappings, start times, labels,
# failures that must not fail the job, and the ready-to-paste snippets.

setup() {
	load 'test_helper/common-setup'
	_common_setup
	HOOK="$BATS_TEST_DIRNAME/../scripts/promrun-ci"
	EXAMPLES="$BATS_TEST_DIRNAME/../examples"
	# Whatever CI runs this suite, the hook sees only what a test gives it.
	local v
	for v in $(compgen -e); do
		case $v in
		GITHUB_* | RUNNER_* | GITLAB_* | CI_* | JENKINS_* | BUILD_* | \
		    JOB_* | BRANCH_NAME | GIT_* | NODE_NAME | PROMRUN_CI_*)
			unset "$v" ;;
		esac
	done
}

github_env() {
	export GITHUB_ACTIONS=true GITHUB_WORKFLOW=CI GITHUB_JOB=build \
	    GITHUB_RUN_ID=6123456789 GITHUB_RUN_ATTEMPT=2 \
	    GITHUB_REPOSITORY=octo-org/app GITHUB_REF_NAME=main \
	    RUNNER_NAME='runner 7'
}

gitlab_env() {
	export GITLAB_CI=true CI_JOB_NAME='unit tests' CI_JOB_ID=4242 \
	    CI_JOB_STATUS=success CI_PROJECT_PATH=group/sub/app \
	    CI_COMMIT_REF_NAME=feature/x CI_RUNNER_DESCRIPTION='docker runner'
}

jenkins_env() {
	export JENKINS_URL=https://jenkins.example/ JOB_NAME=app \
	    BUILD_NUMBER=153 BUILD_TAG=jenkins-app-153 NODE_NAME=agent-1 \
	    GIT_URL=https://github.com/org/app.git GIT_BRANCH=origin/main
}

# untimed: the journal's payloads without their time field.
untimed() {
	journal_payloads "$J" | sed 's/ time=[0-9.]* / /'
}

# duration_within LOW HIGH: the one record's duration is in [LOW, HIGH].
duration_within() {
	local d
	d=$(journal_payloads "$J" | sed -n 's/.* duration=\([0-9.]*\).*/\1/p')
	[ -n "$d" ] || { echo "no duration in: $(journal_payloads "$J")"; return 1; }
	awk -v d="$d" -v lo="$1" -v hi="$2" 'BEGIN { exit !(d >= lo && d <= hi) }' ||
		{ echo "duration $d not within [$1, $2]"; return 1; }
}

@test "GitHub Actions: one run with workflow, run id, status and labels; a PR's own branch" {
	github_env
	run "$HOOK" -j "$J" failure
	assert_success
	assert_output ''
	run untimed
	assert_output 'run workflow=CI run_id=6123456789-2 status=failure label.repo=octo-org/app label.branch=main label.runner=runner%207'
	# A pull request: the branch is the PR's own (GITHUB_HEAD_REF).
	export GITHUB_REF_NAME=17/merge GITHUB_HEAD_REF=fix/typo
	run "$HOOK" --dry-run success
	assert_output "promrun-record -w CI -s success --run-id 6123456789-2 -l repo=octo-org/app -l branch=fix/typo -l 'runner=runner 7'"
}

@test "GitLab CI: the status and the start time come from the job; a STATUS argument overrides" {
	gitlab_env
	export CI_JOB_STATUS=failed
	export CI_JOB_STARTED_AT
	CI_JOB_STARTED_AT=$(date -u -d "@$(($(date +%s) - 90))" +%Y-%m-%dT%H:%M:%SZ)
	run "$HOOK" -j "$J"
	assert_success
	run untimed
	assert_output --regexp '^run workflow=unit%20tests run_id=4242 status=failure duration=[0-9.]+ label.repo=group/sub/app label.branch=feature/x label.runner=docker%20runner$'
	duration_within 90 95
	# A STATUS argument overrides CI_JOB_STATUS.
	run "$HOOK" --dry-run canceled
	assert_output --regexp "^promrun-record -w 'unit tests' -s cancelled --run-id 4242 -l repo=group/sub/app -l branch=feature/x -l 'runner=docker runner' --started [0-9TZ:-]+\$"
}

@test "Jenkins: JOB_NAME, BUILD_NUMBER, repo from GIT_URL, branch; multibranch jobs; detection by BUILD_TAG" {
	jenkins_env
	run "$HOOK" -j "$J" UNSTABLE
	assert_success
	run untimed
	assert_output 'run workflow=app run_id=153 status=failure label.repo=org/app label.branch=main label.runner=agent-1'
	# Multibranch: the branch job is recorded under its parent, and
	# credentials in GIT_URL stay out.
	export JOB_NAME=team/app/feature%2Fx BRANCH_NAME=feature/x \
	    GIT_URL=https://ci-bot:s3cret@git.example/team/app.git
	run "$HOOK" --dry-run SUCCESS
	assert_success
	assert_output 'promrun-record -w team/app -s success --run-id 153 -l repo=team/app -l branch=feature/x -l runner=agent-1'
	export GIT_URL=git@git.example:team/app.git JOB_NAME=team/app/main \
	    BRANCH_NAME=main
	run "$HOOK" --dry-run SUCCESS
	assert_output 'promrun-record -w team/app -s success --run-id 153 -l repo=team/app -l branch=main -l runner=agent-1'
	# Detected from BUILD_TAG when JENKINS_URL is not configured.
	unset JENKINS_URL BRANCH_NAME GIT_URL GIT_BRANCH NODE_NAME
	export BUILD_TAG=jenkins-nightly-7 JOB_NAME=nightly BUILD_NUMBER=7
	run "$HOOK" --dry-run ABORTED
	assert_success
	assert_output 'promrun-record -w nightly -s cancelled --run-id 7'
}

@test "--dry-run prints the command on one line, quoted, and what it prints records the same run" {
	github_env
	export GITHUB_WORKFLOW="it's a \"test\" \$HOME"
	run "$HOOK" --dry-run -l 'note=a b;c' cancelled
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_output "promrun-record -w 'it'\\''s a \"test\" \$HOME' -s cancelled --run-id 6123456789-2 -l repo=octo-org/app -l branch=main -l 'runner=runner 7' -l 'note=a b;c'"
	[ ! -e "$J" ]
	# What --dry-run printed, run by a shell, records what the hook does.
	eval "$output -j \"\$J\""
	"$HOOK" -j "$J" -l 'note=a b;c' cancelled
	run untimed
	assert_equal "${#lines[@]}" 2
	assert_equal "${lines[0]}" "${lines[1]}"
	assert_equal "${lines[0]}" 'run workflow=it'\''s%20a%20"test"%20$HOME run_id=6123456789-2 status=cancelled label.repo=octo-org/app label.branch=main label.runner=runner%207 label.note=a%20b;c'
}

@test "every status each CI reports maps onto promrun's statuses" {
	local ci spelling want
	while read -r ci spelling want; do
		(
			"${ci}_env"
			"$HOOK" -j "$J" -w "$ci $spelling" "$spelling"
		) || return 1
		echo "run workflow=$ci%20$spelling run_id=* status=$want *" >>"$BATS_TEST_TMPDIR/want"
	done <<-'EOF'
		github success success
		github failure failure
		github cancelled cancelled
		gitlab success success
		gitlab failed failure
		gitlab canceled cancelled
		jenkins SUCCESS success
		jenkins UNSTABLE failure
		jenkins FAILURE failure
		jenkins ABORTED cancelled
		jenkins NOT_BUILT cancelled
		gitlab timeout timeout
	EOF
	run untimed
	assert_equal "${#lines[@]}" 12
	local i=0 pattern
	while read -r pattern; do
		# shellcheck disable=SC2053  # a glob on purpose
		[[ ${lines[i]} == $pattern ]] || {
			echo "line $i: ${lines[i]}"
			echo "want:   $pattern"
			return 1
		}
		i=$((i + 1))
	done <"$BATS_TEST_TMPDIR/want"
}

@test "no CI, no status where the CI needs one, or a status the CI does not use: one line, exit 2" {
	run --separate-stderr "$HOOK" -j "$J" success
	assert_failure 2
	assert_equal "$stderr" 'promrun-ci: no CI detected: looked for GITHUB_ACTIONS=true (GitHub Actions), GITLAB_CI=true (GitLab CI), JENKINS_URL or BUILD_TAG=jenkins-* (Jenkins)'
	assert_output ''
	[ ! -e "$J" ]
	# Set but not "true" is not GitHub or GitLab either.
	GITHUB_ACTIONS=false GITLAB_CI=1 run -2 "$HOOK" success
	# GitHub and Jenkins need the status as an argument.
	github_env
	run --separate-stderr "$HOOK" -j "$J"
	assert_failure 2
	assert_equal "$stderr" 'promrun-ci: no status: pass the job'\''s status, promrun-ci "${{ job.status }}" (success, failure or cancelled)'
	unset GITHUB_ACTIONS
	jenkins_env
	run --separate-stderr "$HOOK" -j "$J"
	assert_failure 2
	assert_equal "$stderr" 'promrun-ci: no status: pass the build'\''s result, promrun-ci "${currentBuild.currentResult}" (SUCCESS, UNSTABLE, FAILURE, ABORTED or NOT_BUILT)'
	unset JENKINS_URL BUILD_TAG
	# A status the CI does not use: the value and the CI's own spellings.
	github_env
	run --separate-stderr "$HOOK" -j "$J" failed
	assert_failure 2
	assert_equal "$stderr" 'promrun-ci: unknown GitHub Actions status "failed" (from the STATUS argument): use success, failure or cancelled (${{ job.status }})'
	unset GITHUB_ACTIONS
	jenkins_env
	run --separate-stderr "$HOOK" -j "$J" Success
	assert_failure 2
	assert_equal "$stderr" 'promrun-ci: unknown Jenkins status "Success" (from the STATUS argument): use SUCCESS, UNSTABLE, FAILURE, ABORTED or NOT_BUILT (currentBuild.currentResult)'
	unset JENKINS_URL BUILD_TAG
	gitlab_env
	export CI_JOB_STATUS=running
	run --separate-stderr "$HOOK" -j "$J"
	assert_failure 2
	assert_equal "$stderr" 'promrun-ci: unknown GitLab CI status "running" (from CI_JOB_STATUS): use success, failed or canceled; CI_JOB_STATUS is only final in after_script'
	[ ! -e "$J" ]
}

@test "start times: PROMRUN_CI_STARTED, --started, --started-ms give the duration" {
	github_env
	PROMRUN_CI_STARTED=$(($(date +%s) - 42)) run "$HOOK" -j "$J" success
	assert_success
	duration_within 42 47
	rm -f "$J"
	unset GITHUB_ACTIONS
	jenkins_env
	local ms=$(($(date +%s) * 1000 - 30500))
	run "$HOOK" -j "$J" --started-ms "$ms" SUCCESS
	assert_success
	duration_within 30.5 35.5
	# Milliseconds become seconds with the exact fraction.
	run "$HOOK" --dry-run --started-ms 1700000000007 SUCCESS
	assert_output --regexp ' --started 1700000000\.007$'
	run "$HOOK" --dry-run --started-ms 999 SUCCESS
	assert_output --regexp ' --started 0\.999$'
	run "$HOOK" --dry-run --started-ms 0000123 SUCCESS
	assert_output --regexp ' --started 0\.123$'
	run "$HOOK" --dry-run --started 2023-11-23T10:00:00+01:00 SUCCESS
	assert_output --regexp ' --started 2023-11-23T10:00:00\+01:00$'
	# Without a start time, no duration.
	rm -f "$J"
	run "$HOOK" -j "$J" SUCCESS
	run untimed
	refute_output --partial duration=
}

@test "labels: --labels picks them, -l adds or replaces, empty variables are left out" {
	github_env
	run "$HOOK" --dry-run --labels repo success
	assert_output 'promrun-record -w CI -s success --run-id 6123456789-2 -l repo=octo-org/app'
	run "$HOOK" --dry-run --labels '' success
	assert_output 'promrun-record -w CI -s success --run-id 6123456789-2'
	run "$HOOK" --dry-run --labels=branch,runner -l branch=release -l team=core success
	assert_output "promrun-record -w CI -s success --run-id 6123456789-2 -l 'runner=runner 7' -l branch=release -l team=core"
	export RUNNER_NAME='' GITHUB_REPOSITORY=''
	run "$HOOK" --dry-run success
	assert_output 'promrun-record -w CI -s success --run-id 6123456789-2 -l branch=main'
}

@test "credentials anywhere in GIT_URL reach neither the journal, the textfile, the output nor --dry-run; the repo is the URL's path" {
	jenkins_env
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	mkdir "$TMPDIR"
	local url want n=0
	# Every secret holds SECRET; the repo, or "-" for none (two readings).
	while read -r url want; do
		export GIT_URL=$url
		run --separate-stderr "$HOOK" -j "$J" -w "case $n" SUCCESS
		assert_success
		assert_output ''
		run --separate-stderr "$HOOK" --dry-run -w "case $n" SUCCESS
		assert_success
		if [ "$want" = - ]; then
			refute_output --partial ' -l repo='
			assert_equal "$stderr" "promrun-ci: warning: GIT_URL is not a git URL with one path (scheme://host/path, host:path or a path), so the run has no repo label; give -l repo=NAME"
		else
			assert_output --partial " -l repo=$want -l branch="
			assert_equal "$stderr" ''
		fi
		[[ "$output$stderr" != *SECRET* ]] || { echo "$url: $output $stderr"; return 1; }
		n=$((n + 1))
	done <<-'EOF'
		https://SECRETuser@git.example/org/app.git org/app
		https://ci:SECRET1/SECRET2@git.example/org/app.git org/app
		https://ci:12/SECRET@git.example/org/app.git org/app
		https://ci:SECRET1@SECRET2@git.example/org/app.git org/app
		https://ci:SECRET1:SECRET2@git.example/org/app.git org/app
		https://ci:SECRET1#SECRET2@git.example/org/app.git org/app
		https://ci:SECRET1?SECRET2@git.example/org/app.git org/app
		https://ci:SECRET1%2F%40%3A%23%3FSECRET2@git.example/org/app.git org/app
		https://git.example/org/app.git?private_token=SECRET org/app
		https://git.example/org/app.git#SECRET org/app
		https://git.example:8443/org/app.git?private_token=SECRET&mail=a@b.c org/app
		https://ci:SECRET@git.example:8443/org/app.git/ org/app
		http://ci:SECRET@10.0.0.1:8080/group/sub/app/ group/sub/app
		ssh://SECRET@git.example:22/org/app.git org/app
		ssh://git:SECRET@[2001:db8::1]:22/org/app.git org/app
		git://git.example/group/sub/app.git#SECRET group/sub/app
		SECRET@git.example:org/app.git org/app
		git@git.example:group/sub/app.git/ group/sub/app
		file:///srv/git/app.git srv/git/app
		https://ci:SECRET1@evil/SECRET2?@git.example/org/app -
		https://git.example/org/app.git#SECRET1/x@SECRET2/y -
		ci:SECRET@git.example/org/app -
		https://git.example -
	EOF
	# What the journal holds, and what the render makes of it.
	run untimed
	assert_equal "${#lines[@]}" "$n"
	assert_line --index 0 'run workflow=case%200 run_id=153 status=success label.repo=org/app label.branch=main label.runner=agent-1'
	assert_line --index 12 'run workflow=case%2012 run_id=153 status=success label.repo=group/sub/app label.branch=main label.runner=agent-1'
	assert_line --index 19 'run workflow=case%2019 run_id=153 status=success label.branch=main label.runner=agent-1'
	promrun-render -j "$J" -o "$BATS_TEST_TMPDIR/out.prom"
	run grep -c 'SECRET' "$J" "$BATS_TEST_TMPDIR/out.prom"
	assert_output "$J:0
$BATS_TEST_TMPDIR/out.prom:0"
	# --dry-run's scratch journals are gone.
	[ -z "$(ls -A "$TMPDIR")" ]
	# An explicit repo label silences the warning.
	export GIT_URL=https://git.example
	run --separate-stderr "$HOOK" --dry-run -l repo=mine SUCCESS
	assert_equal "$stderr" ''
}

@test "--dry-run prints what the real run runs: a start after the end is dropped there too, and the command it prints records the same run" {
	gitlab_env
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	mkdir "$TMPDIR"
	warning="promrun-ci: warning: the start time 2099-01-01T00:00:00Z is after the end of the run (is this clock behind the CI server's?); recording the run without a duration"
	export CI_JOB_STARTED_AT=2099-01-01T00:00:00Z
	run --separate-stderr "$HOOK" --dry-run
	assert_success
	assert_output "promrun-record -w 'unit tests' -s success --run-id 4242 -l repo=group/sub/app -l branch=feature/x -l 'runner=docker runner'"
	assert_equal "$stderr" "$warning"
	[ ! -e "$J" ]
	[ -z "$(ls -A "$TMPDIR")" ]
	# The printed command, run, records what the hook records.
	eval "$output -j \"\$J\""
	run --separate-stderr "$HOOK" -j "$J"
	assert_success
	assert_equal "$stderr" "$warning"
	run untimed
	assert_equal "${#lines[@]}" 2
	assert_equal "${lines[0]}" "${lines[1]}"
	refute_output --partial duration=
	# A start before the end is kept, and gives the duration.
	rm "$J"
	CI_JOB_STARTED_AT=$(date -u -d "@$(($(date +%s) - 60))" +%Y-%m-%dT%H:%M:%SZ)
	run --separate-stderr "$HOOK" --dry-run
	assert_equal "$output" "promrun-record -w 'unit tests' -s success --run-id 4242 -l repo=group/sub/app -l branch=feature/x -l 'runner=docker runner' --started $CI_JOB_STARTED_AT"
	assert_equal "$stderr" ''
	eval "$output -j \"\$J\""
	duration_within 60 65
	# Through -c and -j: the configuration is the real one, the journal
	# named never written by a dry run.
	printf '[journal]\nlabels = repo, branch\n' >"$CONF"
	run --separate-stderr "$HOOK" --dry-run -j "$BATS_TEST_TMPDIR/never"
	assert_success
	assert_output --regexp "^promrun-record -j $BATS_TEST_TMPDIR/never -w 'unit tests' .* --started "
	assert_equal "${stderr_lines[0]}" 'promrun-record: label "runner" is not in the configured allow-list ([journal] labels): use one of repo, branch'
	assert_equal "${stderr_lines[1]}" 'promrun-ci: warning: the run would not be recorded: promrun-record would exit with 2'
	[ ! -e "$BATS_TEST_TMPDIR/never" ]
	[ -z "$(ls -A "$TMPDIR")" ]
}

@test "-l job=... or instance=...: promrun-record's refusal is a warning, --strict exits 2" {
	github_env
	for name in job instance; do
		run --separate-stderr "$HOOK" -j "$J" -l "$name=nightly" success
		assert_success
		assert_equal "${stderr_lines[0]}" "promrun-record: label name \"$name\" is set by the Pushgateway or Prometheus on every series (job, instance) or by promrun-push --dir (textfile): choose another name"
		[ ! -e "$J" ]
		run -2 "$HOOK" -j "$J" --strict -l "$name=nightly" success
		[ ! -e "$J" ]
	done
}

@test "promrun-record's refusals (allow-list, start after end) are warnings, exit 0; --strict exits 2" {
	github_env
	printf '[journal]\nlabels = repo, branch\n' >"$CONF"
	run --separate-stderr "$HOOK" -j "$J" success
	assert_success
	assert_equal "${stderr_lines[0]}" 'promrun-record: label "runner" is not in the configured allow-list ([journal] labels): use one of repo, branch'
	[ ! -e "$J" ]
	run -2 "$HOOK" -j "$J" --strict success
	run "$HOOK" -j "$J" --labels repo,branch success
	assert_success
	run untimed
	assert_output 'run workflow=CI run_id=6123456789-2 status=success label.repo=octo-org/app label.branch=main'
	# A start time after the end (a runner clock behind GitLab's): the
	# outcome is recorded without a duration.
	rm -f "$J" "$CONF"
	: >"$CONF"
	unset GITHUB_ACTIONS
	gitlab_env
	export CI_JOB_STARTED_AT=2099-01-01T00:00:00Z
	run --separate-stderr "$HOOK" -j "$J"
	assert_success
	assert_equal "${#stderr_lines[@]}" 1
	assert_equal "${stderr_lines[0]}" "promrun-ci: warning: the start time 2099-01-01T00:00:00Z is after the end of the run (is this clock behind the CI server's?); recording the run without a duration"
	run untimed
	assert_output 'run workflow=unit%20tests run_id=4242 status=success label.repo=group/sub/app label.branch=feature/x label.runner=docker%20runner'
	run journal_payloads "$J"
	refute_output --partial 'duration='
	# Another refusal is still reported once, and the run is not recorded.
	rm -f "$J"
	unset CI_JOB_STARTED_AT
	run --separate-stderr "$HOOK" -j "$J" -l 'bad name=x'
	assert_success
	assert_equal "${#stderr_lines[@]}" 2
	assert_regex "${stderr_lines[0]}" '^promrun-record: .*bad name'
	assert_equal "${stderr_lines[1]}" 'promrun-ci: warning: the run was not recorded: promrun-record exited with 2; the job goes on (--strict fails it)'
	[ ! -e "$J" ]
	run -2 "$HOOK" -j "$J" --strict -l 'bad name=x'
}

@test "-c, -j, -w and --step reach promrun-record" {
	gitlab_env
	printf '[journal]\npath = %s\n' "$BATS_TEST_TMPDIR/other" >"$BATS_TEST_TMPDIR/c.ini"
	export PROMRUN_CONFIG=/nonexistent
	run "$HOOK" -c "$BATS_TEST_TMPDIR/c.ini"
	assert_success
	run journal_payloads "$BATS_TEST_TMPDIR/other"
	assert_output --partial 'workflow=unit%20tests'
	run --separate-stderr "$HOOK" --dry-run -c "a b.ini" -j /var/lib/promrun/journal
	assert_output "promrun-record -c 'a b.ini' -j /var/lib/promrun/journal -w 'unit tests' -s success --run-id 4242 -l repo=group/sub/app -l branch=feature/x -l 'runner=docker runner'"
	# A dry run is checked with the real configuration: there is none.
	assert_equal "$stderr" "promrun-record: config file a b.ini does not exist
promrun-ci: warning: the run would not be recorded: promrun-record would exit with 2"
	unset GITLAB_CI
	export PROMRUN_CONFIG="$CONF"
	github_env
	run "$HOOK" -j "$J" -w "$GITHUB_WORKFLOW/$GITHUB_JOB" --step lint --labels '' failure
	assert_success
	run untimed
	assert_output 'run workflow=CI/build step=lint run_id=6123456789-2 status=failure'
}

@test "monitoring never fails the job: no journal, no promrun-record warn and exit 0; --strict fails; promrun-record beside the hook" {
	gitlab_env
	mkdir "$J"
	run --separate-stderr "$HOOK" -j "$J"
	assert_success
	assert_equal "${stderr_lines[0]}" "promrun-record: cannot open journal $J: Is a directory"
	assert_equal "${stderr_lines[1]}" 'promrun-ci: warning: the run was not recorded: promrun-record exited with 1; the job goes on (--strict fails it)'
	run --separate-stderr "$HOOK" -j "$J" --strict
	assert_failure 1
	assert_equal "${stderr_lines[1]}" 'promrun-ci: the run was not recorded: promrun-record exited with 1'
	# promrun-record not installed.
	rmdir "$J"
	PATH=/usr/bin:/bin run --separate-stderr "$HOOK" -j "$J"
	assert_success
	assert_equal "$stderr" 'promrun-ci: warning: the run was not recorded: promrun-record was not found (PATH=/usr/bin:/bin); the job goes on (--strict fails it)'
	PATH=/usr/bin:/bin run -127 "$HOOK" -j "$J" --strict
	# promrun-record beside the hook is preferred to PATH.
	mkdir "$BATS_TEST_TMPDIR/bin"
	cp "$HOOK" "$BATS_TEST_TMPDIR/bin/promrun-ci"
	ln -s "$PROMRUN_BUILD/promrun-record" "$BATS_TEST_TMPDIR/bin/promrun-record"
	PATH=/usr/bin:/bin run "$BATS_TEST_TMPDIR/bin/promrun-ci" --dry-run --labels ''
	assert_output "$BATS_TEST_TMPDIR/bin/promrun-record -w 'unit tests' -s success --run-id 4242"
	PATH=/usr/bin:/bin run "$BATS_TEST_TMPDIR/bin/promrun-ci" -j "$J"
	assert_success
	run untimed
	assert_output --partial 'run workflow=unit%20tests run_id=4242 status=success'
}

@test "usage errors: one line naming the value, exit 2, nothing recorded" {
	github_env
	refused() {
		local want=$1
		shift
		run --separate-stderr "$HOOK" -j "$J" "$@"
		assert_failure 2
		assert_equal "$stderr" "promrun-ci: $want"
		assert_output ''
	}
	refused 'unknown option "--bogus" (see promrun-ci --help)' --bogus success
	refused 'missing argument for option "-w" (see promrun-ci --help)' success -w
	refused 'too many arguments at "failure": give one STATUS' success failure
	refused 'the STATUS argument is empty: give the job'\''s status' ''
	refused '--labels: unknown label "org": use repo, branch and runner' --labels repo,org success
	refused 'label "team" has no value: use NAME=VALUE' -l team success
	refused '--started-ms "12s" is not valid: use milliseconds since the epoch, such as 1795428000123' --started-ms 12s success
	refused 'give --started or --started-ms, not both' --started 1 --started-ms 1 success
	unset GITHUB_WORKFLOW
	refused 'GITHUB_WORKFLOW is not set, so the GitHub Actions workflow has no name: give -w NAME' success
	[ ! -e "$J" ]
}

@test "--help, --version (promrun's), and the man page matches the usage" {
	run "$HOOK" --help
	assert_success
	assert_line --index 0 --regexp '^usage: promrun-ci '
	assert_output --partial 'Exit status:'
	run "$HOOK" --version
	assert_success
	assert_output "promrun-ci $(promrun-record --version | sed 's/^promrun-record //')"
	man_page="$BATS_TEST_DIRNAME/../scripts/promrun-ci.1"
	run env MANWIDTH=200 man --warnings -l "$man_page"
	assert_success
	for word in GITHUB_ACTIONS GITHUB_WORKFLOW GITHUB_RUN_ID GITHUB_RUN_ATTEMPT \
	    GITHUB_REPOSITORY GITHUB_HEAD_REF GITHUB_REF_NAME RUNNER_NAME \
	    GITLAB_CI CI_JOB_NAME CI_JOB_ID CI_JOB_STATUS CI_PROJECT_PATH \
	    CI_COMMIT_REF_NAME CI_RUNNER_DESCRIPTION CI_JOB_STARTED_AT \
	    JENKINS_URL BUILD_TAG JOB_NAME BUILD_NUMBER BRANCH_NAME GIT_URL \
	    GIT_BRANCH NODE_NAME PROMRUN_CI_STARTED 'EXIT STATUS'; do
		assert_output --partial -- "$word"
	done
	local synopsis usage
	synopsis=$(sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' <<<"$output" | tr -s ' \n' '  ')
	usage=$("$HOOK" --help | sed -n '1,/^$/p' | sed 's/^usage: //' | tr -s ' \n' '  ')
	opts() { grep -o -e '--[a-z-]*' -e ' -[a-zA-Z] ' <<<"$1" | tr -d ' ' | tr '\n' ' '; }
	[ "$(opts "$synopsis")" = "$(opts "$usage")" ] || {
		echo "man:   $(opts "$synopsis")"
		echo "usage: $(opts "$usage")"
		return 1
	}
	# Every option in --help is in the man page.
	for opt in $(grep -o -e '--[a-z-]*' <<<"$("$HOOK" --help)" | sort -u); do
		assert_output --partial -- "$opt"
	done
}

# --- the snippets in examples/, run as the CI would run them ---
# (make install puts promrun-ci on PATH beside promrun-record)

@test "examples/github-actions.yml: its first and last steps, run as GitHub would, record the job with its duration" {
	local steps="$BATS_TEST_TMPDIR/steps"
	"$PYTHON3" - "$EXAMPLES/github-actions.yml" "$steps" <<-'EOF'
		import sys, yaml
		wf = yaml.safe_load(open(sys.argv[1]))
		steps = next(iter(wf["jobs"].values()))["steps"]
		first, last = steps[0], steps[-1]
		assert last["if"] == "always()", last
		assert last["env"] == {"JOB_STATUS": "${{ job.status }}"}, last
		open(sys.argv[2] + ".first", "w").write(first["run"])
		open(sys.argv[2] + ".last", "w").write(last["run"])
	EOF
	github_env
	export GITHUB_ENV="$BATS_TEST_TMPDIR/github_env" PROMRUN_JOURNAL="$J"
	: >"$GITHUB_ENV"
	bash -e "$steps.first"
	# GitHub sets what the step wrote in GITHUB_ENV for the later steps.
	run cat "$GITHUB_ENV"
	assert_output --regexp '^PROMRUN_CI_STARTED=[0-9]+$'
	export "${output?}"
	export PROMRUN_CI_STARTED=$((PROMRUN_CI_STARTED - 5))
	JOB_STATUS=failure PATH="$BATS_TEST_DIRNAME/../scripts:$PATH" run bash -e "$steps.last"
	assert_success
	run untimed
	assert_output --regexp '^run workflow=CI run_id=6123456789-2 status=failure duration=[0-9.]+ label.repo=octo-org/app label.branch=main label.runner=runner%207$'
	duration_within 5 10
}

@test "examples/gitlab-ci.yml: its after_script, run as GitLab would, records the job" {
	local script="$BATS_TEST_TMPDIR/after_script"
	"$PYTHON3" - "$EXAMPLES/gitlab-ci.yml" "$script" <<-'EOF'
		import sys, yaml
		ci = yaml.safe_load(open(sys.argv[1]))
		open(sys.argv[2], "w").write("\n".join(ci["default"]["after_script"]) + "\n")
	EOF
	gitlab_env
	export PROMRUN_JOURNAL="$J" CI_JOB_STATUS=canceled CI_JOB_STARTED_AT
	CI_JOB_STARTED_AT=$(date -u -d "@$(($(date +%s) - 20))" +%Y-%m-%dT%H:%M:%SZ)
	PATH="$BATS_TEST_DIRNAME/../scripts:$PATH" run sh -e "$script"
	assert_success
	run untimed
	assert_output --regexp '^run workflow=unit%20tests run_id=4242 status=cancelled duration=[0-9.]+ label.repo=group/sub/app label.branch=feature/x label.runner=docker%20runner$'
	duration_within 20 25
}

@test "examples/Jenkinsfile: its post { always } sh step, with Groovy's interpolation done, records the build" {
	local line
	line=$(sed -n '/post {/,/^}/{/always {/,/}/s/^ *sh "\(.*\)"$/\1/p}' "$EXAMPLES/Jenkinsfile")
	[ -n "$line" ] || { echo "no sh step in post { always }"; return 1; }
	local start_ms=$(($(date +%s) * 1000 - 12000))
	line=${line//'${currentBuild.startTimeInMillis}'/$start_ms}
	line=${line//'${currentBuild.currentResult}'/ABORTED}
	[[ $line != *'${'* ]] || { echo "left uninterpolated: $line"; return 1; }
	jenkins_env
	PROMRUN_JOURNAL="$J" PATH="$BATS_TEST_DIRNAME/../scripts:$PATH" run sh -ec "$line"
	assert_success
	run untimed
	assert_output --regexp '^run workflow=app run_id=153 status=cancelled duration=[0-9.]+ label.repo=org/app label.branch=main label.runner=agent-1$'
	duration_within 12 17
}

@test "examples/crontab: its job line, run as cron would, records start and finish and keeps the command's status" {
	local path line cmd
	path=$(sed -n 's/^PATH=//p' "$EXAMPLES/crontab")
	line=$(grep -v -e '^#' -e '^[A-Z_]*=' -e '^$' "$EXAMPLES/crontab")
	assert_equal "$(wc -l <<<"$line")" 1
	# Five time fields, then the command (no % in it: cron would cut there).
	[[ $line =~ ^([^ ]+ ){5}(.*)$ ]]
	cmd=${BASH_REMATCH[2]}
	[[ $cmd != *%* ]]
	PROMRUN_JOURNAL="$J" PATH="$PROMRUN_BUILD:$path" run -127 sh -c "$cmd"
	run journal_payloads "$J"
	assert_line --index 0 --regexp '^start time=[0-9.]+ workflow=nightly-backup run_id=[0-9a-f]+ label.runner=db1$'
	assert_line --index 1 --regexp '^finish time=[0-9.]+ workflow=nightly-backup run_id=[0-9a-f]+ status=failure duration=[0-9.e-]+ exit_code=127 label.runner=db1$'
}
