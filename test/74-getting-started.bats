#!/usr/bin/env bats
# The README's "Getting started", steps 1 to 7, as written, on a stock
# Debian 12 under a real systemd (test_helper/sysroot): Debian's
# prometheus, prometheus-node-exporter and prometheus-pushgateway installed
# and running as shipped (their own units, default ports and directories,
# in the root's own network namespace).  The commands are the README's: each
# code block is marked with an HTML comment <!-- getting-started ID --> and
# read from there, so the README and this test cannot drift apart.  A
# command that fails fails the test.  Root runs the sudo steps from the
# source tree; the runner user, in group promrun since step 3, records
# in step 7.  The tests run in order on one boot.

# The marked blocks, in the README's order: every one is run below.
BLOCKS='1
2
3 uncomment /etc/promrun/promrun.ini
3 group
4
5
6
7
7 resolve'

setup_file() {
	load 'test_helper/sysroot'
	local reason seed
	reason=$(sysroot_unavailable) && skip "$reason"
	command -v sudo >/dev/null || skip "sudo is not installed (scripts/install-deps installs it)"
	export TOP SAN=''
	TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	grep -q fsanitize "$PROMRUN_BUILD/flags" && SAN=1
	seed=$BATS_FILE_TMPDIR/sysroot/seed
	sysroot_sanitizer_env "$BATS_FILE_TMPDIR/sysroot" "$SAN"
	# "make" and "sudo make install" use the suite's build: make reads
	# BUILD and SANITIZE from the environment, and sudo keeps them.
	mkdir -p "$seed/etc/sudoers.d"
	echo 'Defaults env_keep += "BUILD SANITIZE"' >"$seed/etc/sudoers.d/promrun-test"
	chmod 440 "$seed/etc/sudoers.d/promrun-test"
	SYSROOT_BIND="$TOP $PROMRUN_BUILD" sysroot_boot "$BATS_FILE_TMPDIR/sysroot" \
	    prometheus.service prometheus-node-exporter.service \
	    prometheus-pushgateway.service
	sysroot_wait prometheus-node-exporter.service ActiveState active
	sysroot_wait prometheus-pushgateway.service ActiveState active
	sysroot_wait prometheus.service ActiveState active
	sysroot_listening 9100 30
	sysroot_listening 9091 30
	sysroot_listening 9090 30
	# What the README takes for granted: a service of the user's
	# (backup.service, step 4) and a user who records (runner, step 3).
	printf '[Service]\nType=oneshot\nExecStart=/bin/true\n' |
	    sysroot_write /etc/systemd/system/backup.service
	sysroot_run useradd --no-create-home --shell /usr/sbin/nologin runner
}

teardown_file() {
	load 'test_helper/sysroot'
	sysroot_shutdown
}

setup() {
	load 'test_helper/common-setup'
	_common_setup
	load 'test_helper/prometheus'
	load 'test_helper/sysroot'
	PROM_URL=http://127.0.0.1:9090
}

# curl: the host's curl in the root's network, for prometheus.bash's
# prom_query and prom_alerts.
curl() {
	sysroot_net curl "$@"
}

# readme_block ID: the code block after <!-- getting-started ID --> in the
# README, its indentation removed; fails unless a fenced block follows.
readme_block() {
	awk -v id="$1" '
	!found && /^[[:space:]]*<!-- getting-started .* -->[[:space:]]*$/ {
		m = $0
		sub(/^[[:space:]]*<!-- getting-started /, "", m)
		sub(/ -->[[:space:]]*$/, "", m)
		if (m == id) found = 1
		next
	}
	found == 1 && /^[[:space:]]*$/ { next }
	found == 1 && /^[[:space:]]*```/ {
		match($0, /^[[:space:]]*/)
		indent = RLENGTH
		found = 2
		next
	}
	found == 1 { exit }
	found == 2 && /^[[:space:]]*```[[:space:]]*$/ { done = 1; exit }
	found == 2 { print substr($0, indent + 1) }
	END { exit !done }' "$TOP/README.md"
}

# step ID [USER]: run the README's block ID with sh -e inside the root: as
# root from the source tree, or as USER (with the groups USER has now).
step() {
	local block
	block=$(readme_block "$1") || {
		echo "README.md has no code block marked <!-- getting-started $1 -->" >&2
		return 1
	}
	printf '$ %s\n' "$block" >&2
	if [ -n "${2:-}" ]; then
		sysroot_run runuser -u "$2" -- /bin/sh -ec "$block"
	else
		# shellcheck disable=SC2016  # $1 is the inner shell's
		sysroot_run env BUILD="$PROMRUN_BUILD" SANITIZE="$SAN" \
		    /bin/sh -ec 'cd "$1" && shift && eval "$*"' sh "$TOP" "$block"
	fi
}

# series_values EXPR: "WORKFLOW VALUE" of each series of EXPR.
series_values() {
	local -
	set -o pipefail
	prom_query "$1" | jq -r '.metric.workflow + " " + .value'
}

# rule_names NAME: NAME if Prometheus has a rule of that name loaded.
rule_names() {
	local -
	set -o pipefail
	curl -fsS "$PROM_URL/api/v1/rules" |
	    jq -r --arg n "$1" '.data.groups[].rules[] | select(.name == $n) | .name'
}

# up JOB: the value of up{job="JOB"}.
up() {
	local -
	set -o pipefail
	prom_query "up{job=\"$1\"}" | jq -r .value
}

# is EXPECTED COMMAND...: COMMAND prints exactly EXPECTED.
is() {
	local out
	out=$("${@:2}") || return 1
	[ "$out" = "$1" ] || { printf '%s\n' "$out"; return 1; }
}

@test "the README marks steps 1 to 7's code blocks, each once, and this test runs every one" {
	run sed -n 's/^[[:space:]]*<!-- getting-started \(.*\) -->[[:space:]]*$/\1/p' "$TOP/README.md"
	assert_output "$BLOCKS"
	local id
	while read -r id; do
		readme_block "$id" >/dev/null
	done <<<"$BLOCKS"
}

@test "step 1: make && sudo make install, linking node_exporter's textfile directory" {
	run step 1
	assert_success
	assert_line 'ln -s /var/lib/promrun/textfile/promrun.prom /var/lib/prometheus/node-exporter/promrun.prom'
	# The suite's build is what got installed.
	sysroot_run cmp "$PROMRUN_BUILD/promrun-render" /usr/local/bin/promrun-render
}

@test "step 2: systemd-sysusers and systemd-tmpfiles print nothing but the user's creation" {
	run --separate-stderr step 2
	assert_success
	assert_output ''
	# stderr: the block, then systemd-sysusers's two lines.
	run grep -v '^\$ ' <<<"$stderr"
	assert_output --regexp "^Creating group 'promrun' with GID [0-9]+\.
Creating user 'promrun' \(promrun runs as metrics\) with UID [0-9]+ and GID [0-9]+\.\$"
	run sysroot_run stat -c '%a %U %G %n' /var/lib/promrun /var/lib/promrun/textfile
	assert_output '2771 promrun promrun /var/lib/promrun
755 promrun promrun /var/lib/promrun/textfile'
}

@test "step 3: the configuration's journal and labels uncommented; runner joins the group" {
	local ini=/etc/promrun/promrun.ini
	sysroot_run cat "$ini" >"$BATS_TEST_TMPDIR/promrun.ini"
	readme_block "3 uncomment $ini" >"$BATS_TEST_TMPDIR/settings"
	# Uncomment, section by section, the "#key = ..." line of each setting
	# and give it the README's value: there must be exactly one such line.
	awk 'FNR == NR {
		if ($0 ~ /^\[/) section = $0
		else if (split($0, kv, " = ") == 2) want[section, kv[1]] = $0
		next
	}
	/^\[/ { section = $0 }
	{
		if (split(substr($0, 2), kv, " = ") == 2 && substr($0, 1, 1) == "#" &&
		    (section, kv[1]) in want) {
			print want[section, kv[1]]
			done[section, kv[1]]++
			next
		}
		print
	}
	END {
		for (k in want)
			if (done[k] != 1) {
				split(k, p, SUBSEP)
				printf "%s %s: %d commented lines\n", p[1], p[2], done[k] > "/dev/stderr"
				bad = 1
			}
		exit bad
	}' "$BATS_TEST_TMPDIR/settings" "$BATS_TEST_TMPDIR/promrun.ini" \
	    >"$BATS_TEST_TMPDIR/edited.ini"
	run diff "$BATS_TEST_TMPDIR/promrun.ini" "$BATS_TEST_TMPDIR/edited.ini"
	assert_line '> path = /var/lib/promrun/journal'
	assert_line '> labels = repo, branch, runner'
	sysroot_write "$ini" <"$BATS_TEST_TMPDIR/edited.ini"
	run step '3 group'
	assert_success
	run sysroot_run id -nG runner
	assert_output 'runner promrun'
}

@test "step 4: backup.service gets the drop-in" {
	run step 4
	assert_success
	run sysroot_run readlink /etc/systemd/system/backup.service.d/promrun-record.conf
	assert_output /usr/local/share/promrun/systemd/promrun-record.conf
}

@test "step 5: the path unit and the timer; a run of backup.service reaches node_exporter through the link" {
	run step 5
	assert_success
	run sysroot_run systemctl is-active promrun-render.path promrun-render.timer
	assert_output 'active
active'
	sysroot_run systemctl start backup.service
	sysroot_until 20 grep -q 'ci_workflow_runs_total{workflow="backup",status="success"} 1' \
	    /var/lib/promrun/textfile/promrun.prom
	run sysroot_net curl -fsS http://127.0.0.1:9100/metrics
	assert_success
	assert_line 'ci_workflow_runs_total{status="success",workflow="backup"} 1'
	assert_line 'node_textfile_scrape_error 0'
	assert_line --regexp '^node_textfile_mtime_seconds\{file="/var/lib/prometheus/node-exporter/promrun.prom"\} '
}

@test "step 6: Prometheus loads examples/prometheus.yml and alerts.yml and scrapes node_exporter" {
	run step 6
	assert_success
	assert_output --partial 'SUCCESS'
	eventually 30 is WorkflowDown rule_names WorkflowDown
	eventually 60 is '1' up node
}

@test "step 7: a failed run of the runner's makes ci_workflow_up 0 and WorkflowDown pending; a success resolves it" {
	run step 7 runner
	assert_failure 1
	eventually 90 is 'smoke-test 0' series_values 'ci_workflow_up{workflow="smoke-test"}'
	eventually 60 is '{"state":"pending","labels":{"alertname":"WorkflowDown","severity":"critical","workflow":"smoke-test"}}' \
	    prom_alerts WorkflowDown
	run step '7 resolve' runner
	assert_success
	eventually 90 is 'smoke-test 1' series_values 'ci_workflow_up{workflow="smoke-test"}'
	eventually 60 is '' prom_alerts WorkflowDown
}
