#!/usr/bin/env bats
# promrun-serve against its peers: PRPC's POST /metrics and GET /metrics
# byte for byte (Flask's own jsonify and werkzeug's messages as the
# reference), Chainloop's /prom/ORG/metrics with its tokens, Prometheus
# scraping it with the scrape config of Chainloop's guide, and scrapes
# equal to promrun-render's output for the same journal.

setup() {
	load 'test_helper/serve'
	load 'test_helper/prometheus'
	_common_setup
}

teardown() {
	serve_stop
	stop_pid "${PROM_PID:-}"
	stop_background
}

# flask_json PYTHON-LITERAL: what Flask's jsonify sends for that value.
flask_json() {
	"$PYTHON3" -c 'import flask, sys
app = flask.Flask("reference")
with app.app_context():
    sys.stdout.buffer.write(flask.jsonify(eval(sys.argv[1])).get_data())' "$1"
}

# prpc_post BODY [CURL-ARG...]: status, content type and body, one per line.
prpc_post() {
	local body=$1
	shift
	curl -sS -X POST --data-binary "$body" -o "$BATS_TEST_TMPDIR/body" \
	    -w '%{http_code}\n%{content_type}\n' "$@" "$SERVE_URL/metrics"
	cat "$BATS_TEST_TMPDIR/body"
}

@test "PRPC: POST /metrics answers as PRPC does, byte for byte: 201 echo, its 400s, its 401s" {
	serve_tokens
	printf '[serve]\npreset = prpc\nprpc_psk_file = %s\n' "$TOKENS/prpc.psk" >"$CONF"
	serve_start
	auth=(-H 'Authorization: PRPC L3tM3!n')
	for payload in '{"name": "car_factory", "success": True}' \
	    '{"name": "car_factory", "success": False}' \
	    '{"success": True, "name": "caf\u00e9 \U0001F680 \"q\" \\ /"}'; do
		body=$("$PYTHON3" -c 'import json, sys; print(json.dumps(eval(sys.argv[1])))' "$payload")
		run prpc_post "$body" "${auth[@]}"
		assert_output "$(printf '201\napplication/json\n'; flask_json "$payload")"
	done
	# PRPC's four 400s, and werkzeug's own for what is not JSON.
	bad=$("$PYTHON3" -c 'import werkzeug.exceptions; print(werkzeug.exceptions.BadRequest.description)')
	check400() {
		run prpc_post "$1" "${auth[@]}"
		assert_output "$(printf '400\napplication/json\n'; flask_json "{\"error\": \"\"\"$2\"\"\"}")"
	}
	check400 '"Does this thing work?"' 'The input must be a JSON object'
	check400 '{"best_actor": "Tom Hanks"}' 'The input JSON object must only contain the name and success properties'
	check400 '{"name": "car_factory", "success": "yes"}' 'The success value must be a boolean'
	check400 '{"name": 3, "success": true}' 'The name value must be a string'
	check400 '{"name": "car_factory",' "$bad"
	check400 '' "$bad"
	# PRPC's two 401s: no header or not "PRPC <key>", and a wrong key.
	for header in '' 'Authorization: Bearer my_token' 'Authorization: PRPC' 'Authorization: prpc L3tM3!n'; do
		run prpc_post '{"name": "car_factory", "success": true}' ${header:+-H "$header"}
		assert_output "$(printf '401\napplication/json\n'; flask_json '{"error": "The Authorization header must be provided in the format of \"PRPC <pre-shared key>\""}')"
	done
	run prpc_post '{"name": "car_factory", "success": true}' -H 'Authorization: PRPC my_token'
	assert_output "$(printf '401\napplication/json\n'; flask_json '{"error": "The provided pre-shared key is incorrect"}')"
	# Only the three good posts were recorded.
	run journal_summary "$DATA/default/journal"
	assert_output --partial 'records=3 '
}

@test "PRPC: with preset prpc, GET /metrics is exactly PRPC's text for the same runs" {
	printf '[serve]\npreset = prpc\n' >"$CONF"
	serve_start
	for run in 'car_factory true' 'car_factory false' 'truck_factory true' 'truck_factory true'; do
		set -- $run
		curl -fsS -o /dev/null -X POST -d "{\"name\": \"$1\", \"success\": $2}" "$SERVE_URL/metrics"
	done
	curl -fsS -D "$BATS_TEST_TMPDIR/headers" -o "$BATS_TEST_TMPDIR/metrics" "$SERVE_URL/metrics"
	cat >"$BATS_TEST_TMPDIR/prpc" <<-'TEXT'
	# HELP car_factory_pipeline_run_total The total number of car_factory pipeline runs.
	# TYPE car_factory_pipeline_run_total counter
	car_factory_pipeline_run_total{status="success"} 1
	car_factory_pipeline_run_total{status="failure"} 1
	# HELP truck_factory_pipeline_run_total The total number of truck_factory pipeline runs.
	# TYPE truck_factory_pipeline_run_total counter
	truck_factory_pipeline_run_total{status="success"} 2
	truck_factory_pipeline_run_total{status="failure"} 0
	TEXT
	run cmp "$BATS_TEST_TMPDIR/prpc" "$BATS_TEST_TMPDIR/metrics"
	assert_success
	run grep -i '^content-type:' "$BATS_TEST_TMPDIR/headers"
	assert_output $'Content-Type: text/plain; charset=utf-8\r'
	# The receiver's own metrics are at /metrics/self.
	run curl -fsS "$SERVE_URL/metrics/self"
	assert_line 'promrun_serve_runs_recorded_total 4'
	# promrun-render's prpc preset shows the counters in the same order.
	printf '[render]\npreset = prpc\n' >"$CONF"
	promrun-render -j "$DATA/default/journal" -o "$BATS_TEST_TMPDIR/rendered"
	run grep -v -e '^promrun_' -e '^# [A-Z]* promrun_' "$BATS_TEST_TMPDIR/rendered"
	assert_output "$(cat "$BATS_TEST_TMPDIR/prpc")"
}

@test "Chainloop: /prom/ORG/metrics needs ORG's read token: 401 missing or wrong, 403 another org's, whether or not ORG exists" {
	serve_orgs_config
	serve_start
	post /api/v1/runs -H "Authorization: Bearer $(token acme.write)" <<<'{"workflow": "release", "status": "ok", "labels": {"runner": "gha"}}'
	post /api/v1/runs -H "Authorization: Bearer $(token umbrella.write)" <<<'{"workflow": "deploy", "status": "failed"}'
	get() {
		curl -sS -w '%{http_code}' ${2:+-H "Authorization: Bearer $2"} "$SERVE_URL$1"
	}
	unauthorized='{"error":"missing or invalid bearer token: give Authorization: Bearer <read token of the organization>"}'
	forbidden='{"error":"this token does not read this organization"}'
	for org in acme nosuch; do
		run get "/prom/$org/metrics"
		assert_output "$unauthorized"$'\n401'
		run get "/prom/$org/metrics" wrong-token
		assert_output "$unauthorized"$'\n401'
		# A write token does not read.
		run get "/prom/$org/metrics" "$(token acme.write)"
		assert_output "$unauthorized"$'\n401'
		run get "/prom/$org/metrics" "$(token umbrella.read)"
		assert_output "$forbidden"$'\n403'
	done
	# A read token does not write.
	run post /api/v1/runs -H "Authorization: Bearer $(token acme.read)" <<<'{"workflow": "x", "status": "ok"}'
	assert_line --index 1 401
	# The right token: only that organization's runs, in the chainloop preset.
	run get /prom/acme/metrics "$(token acme.read)"
	assert_line 'chainloop_workflow_up{org="acme",workflow="release"} 1'
	refute_output --partial deploy
	assert_line --index -1 200
	run get /prom/umbrella/metrics "$(token umbrella.read)"
	assert_line 'chainloop_workflow_up{org="umbrella",workflow="deploy"} 0'
	refute_output --partial release
}

# series_count EXPR N: Prometheus answers EXPR with N series.
series_count() {
	[ "$(prom_query "$1" | wc -l)" -eq "$2" ]
}

@test "Prometheus scrapes /prom/ORG/metrics with the scrape config of Chainloop's guide, bearer token included" {
	serve_orgs_config
	serve_start
	post /api/v1/runs -H "Authorization: Bearer $(token acme.write)" <<<'[{"workflow": "backend-release", "status": "ok", "duration_seconds": 42}, {"workflow": "platform-deploy", "status": "failed", "duration_seconds": 7}]'
	mkdir -p "$BATS_TEST_TMPDIR/prom"
	cat >"$BATS_TEST_TMPDIR/prom/prometheus.yml" <<-YML
	global:
	  scrape_interval: 1s
	scrape_configs:
	  - job_name: chainloop-metrics
	    metrics_path: /prom/acme/metrics
	    scheme: http
	    bearer_token: $(token acme.read)
	    static_configs:
	      - targets:
	          - 127.0.0.1:$SERVE_PORT
	  - job_name: wrong-token
	    metrics_path: /prom/acme/metrics
	    bearer_token: $(token umbrella.read)
	    static_configs:
	      - targets:
	          - 127.0.0.1:$SERVE_PORT
	YML
	prometheus_start "$BATS_TEST_TMPDIR/prom"
	eventually 30 series_count 'chainloop_workflow_up' 2
	run prom_query 'chainloop_workflow_up'
	assert_line '{"metric":{"__name__":"chainloop_workflow_up","instance":"127.0.0.1:'"$SERVE_PORT"'","job":"chainloop-metrics","org":"acme","workflow":"backend-release"},"value":"1"}'
	assert_line '{"metric":{"__name__":"chainloop_workflow_up","instance":"127.0.0.1:'"$SERVE_PORT"'","job":"chainloop-metrics","org":"acme","workflow":"platform-deploy"},"value":"0"}'
	run prom_query 'chainloop_workflow_run_duration_seconds_count{status="error"}'
	assert_output --partial '"workflow":"platform-deploy"},"value":"1"}'
	# Another organization's token: the scrape fails (403), up is 0.
	eventually 30 series_count 'up{job="wrong-token"} == 0' 1
	run prom_query 'up{job="chainloop-metrics"}'
	assert_output --partial '"value":"1"}'
}

# without_render_time FILE: the exposition without the render timestamp.
without_render_time() {
	grep -v '^promrun_render_timestamp_seconds' "$1"
}

@test "a scrape equals promrun-render's output for the same journal (but the render time), before and after a restart" {
	serve_orgs_config
	printf '[render]\nlost_after = 1h\n' >>"$CONF"
	now=$(date +%s)
	serve_start
	post /api/v1/runs -H "Authorization: Bearer $(token acme.write)" <<-JSON
	[{"workflow": "release", "status": "ok", "duration_seconds": 42, "labels": {"runner": "gha"}, "run_id": "r1"},
	 {"workflow": "release", "status": "timeout", "started": $((now - 700)), "labels": {"runner": "gha"}, "run_id": "r2"},
	 {"workflow": "release", "event": "start", "run_id": "r3", "started": $((now - 7200))},
	 {"workflow": "nightly", "event": "start", "run_id": "n1", "started": $((now - 60))},
	 {"workflow": "nightly", "step": "build", "status": "cancelled", "duration_seconds": 3},
	 {"workflow": "deploy", "event": "start", "run_id": "d1", "started": $((now - 300))},
	 {"workflow": "deploy", "event": "finish", "run_id": "d1", "status": "ok"}]
	JSON
	post /api/v1/runs <<<'[{"workflow": "car factory", "status": "ok", "labels": {"repo": "app"}}, {"workflow": "car factory", "status": "failed", "duration_seconds": 5000}]' ||
	    true
	post /api/v1/runs -H "Authorization: Bearer $(token acme.write)" <<<'{"workflow": "cron", "status": "ok"}'
	compare() {
		curl -fsS -H "Authorization: Bearer $(token acme.read)" -o "$BATS_TEST_TMPDIR/acme.scrape" "$SERVE_URL/prom/acme/metrics"
		promrun-render -j "$DATA/acme/journal" --preset chainloop -o "$BATS_TEST_TMPDIR/acme.render"
		diff <(without_render_time "$BATS_TEST_TMPDIR/acme.scrape") <(without_render_time "$BATS_TEST_TMPDIR/acme.render")
		# The default organization: /metrics without the receiver's own.
		curl -fsS -o "$BATS_TEST_TMPDIR/default.scrape" "$SERVE_URL/metrics"
		sed -i '/^# HELP process_cpu_seconds_total/,$d' "$BATS_TEST_TMPDIR/default.scrape"
		promrun-render -j "$DATA/default/journal" -o "$BATS_TEST_TMPDIR/default.render"
		diff <(without_render_time "$BATS_TEST_TMPDIR/default.scrape") <(without_render_time "$BATS_TEST_TMPDIR/default.render")
	}
	run compare
	assert_success
	# Again, unchanged: the render kept from the last scrape, its render
	# time made anew, is still exactly the renderer's.
	run compare
	assert_success
	# Lost, in progress and late: the same rules as the renderer's.
	assert_equal "$(sample_value "$BATS_TEST_TMPDIR/acme.scrape" 'chainloop_workflow_up{org="acme",workflow="release"}')" 0
	serve_restart
	run compare
	assert_success
	assert_equal "$(grep -c . "$BATS_TEST_TMPDIR/acme.scrape")" "$(grep -c . "$BATS_TEST_TMPDIR/acme.render")"
}

@test "a scrape reads no journal: the aggregate is in memory (strace)" {
	command -v strace >/dev/null || skip "strace is not installed"
	serve_start
	post /api/v1/runs <<<'{"workflow": "w", "status": "ok"}'
	strace -f -e trace=openat,read,pread64 -o "$BATS_TEST_TMPDIR/trace" -p "$SERVE_PID" 3>&- &
	tracer=$!
	sleep 1
	run curl -fsS "$SERVE_URL/metrics"
	assert_line 'ci_workflow_runs_total{workflow="w",status="success"} 1'
	sleep 0.3
	kill "$tracer"
	wait "$tracer" || true
	# The scrape was traced (it read /proc for the process metrics) ...
	grep -q '/proc/self/stat' "$BATS_TEST_TMPDIR/trace"
	# ... and opened no journal.
	run grep -c 'journal' "$BATS_TEST_TMPDIR/trace"
	assert_output 0
}

@test "the receiver's own metrics: valid for promtool and the Python client, and what they count" {
	serve_start
	post /api/v1/runs <<<'[{"workflow": "a", "status": "ok", "run_id": "1"}, {"workflow": "a", "status": "ok", "run_id": "1"}]'
	post /api/v1/runs <<<'{"workflow": "a", "status": "ok", "run_id": "1"}'
	post /api/v1/runs <<<'{"workflow": "a", "status": "bogus"}' || true
	curl -sS -o /dev/null "$SERVE_URL/nope"
	curl -fsS -o "$BATS_TEST_TMPDIR/self" "$SERVE_URL/metrics/self"
	run promtool check metrics <"$BATS_TEST_TMPDIR/self"
	assert_success
	prom_samples "$BATS_TEST_TMPDIR/self" >/dev/null
	curl -fsS -o "$BATS_TEST_TMPDIR/all" "$SERVE_URL/metrics"
	run promtool check metrics <"$BATS_TEST_TMPDIR/all"
	assert_success
	v() { sample_value "$BATS_TEST_TMPDIR/self" "$1"; }
	assert_equal "$(v promrun_serve_runs_recorded_total)" 1
	assert_equal "$(v promrun_serve_runs_duplicate_total)" 2
	# Two posts stored nothing new: one sync, for the one that did.
	assert_equal "$(v promrun_serve_journal_syncs_total)" 1
	assert_equal "$(v 'promrun_serve_requests_total{code="201",endpoint="/api/v1/runs"}')" 1
	assert_equal "$(v 'promrun_serve_requests_total{code="200",endpoint="/api/v1/runs"}')" 1
	assert_equal "$(v 'promrun_serve_requests_total{code="400",endpoint="/api/v1/runs"}')" 1
	assert_equal "$(v 'promrun_serve_requests_total{code="404",endpoint="other"}')" 1
	assert_equal "$(v 'promrun_serve_ingest_duration_seconds_count{endpoint="/api/v1/runs"}')" 3
	assert_equal "$(v promrun_serve_journal_bytes)" "$(stat -c %s "$DATA/default/journal")"
	run grep '^promrun_serve_version_info{' "$BATS_TEST_TMPDIR/self"
	assert_output --regexp '^promrun_serve_version_info\{architecture="[^"]+",jansson="[0-9.]+",libmicrohttpd="[0-9.]+",name="promrun-serve",os="linux",preset="native",version="[^"]+"\} 1$'
	[ "$(v process_open_fds)" -gt 3 ]
	[ "$(v process_resident_memory_bytes)" -gt 100000 ]
	awk -v t="$(v process_start_time_seconds)" -v now="$(date +%s)" 'BEGIN { exit !(t > now - 600 && t <= now + 1) }'
}

@test "a journal past max_journal_size is compacted as promrun-render compacts it; the scrape stays the same, byte for byte" {
	printf '[render]\nmax_journal_size = 4K\nkeep_history = 1h\n[serve]\ndedupe_window = 1h\n' >"$CONF"
	old=$(($(date +%s) - 7200))
	serve_start
	for i in $(seq 40); do
		post /api/v1/runs <<<"{\"workflow\": \"nightly-$((i % 4))\", \"status\": \"ok\", \"finished\": $((old + i)), \"duration_seconds\": $i}" >/dev/null
	done
	# The next batches push it past 4 KiB: the writer compacts.
	for i in $(seq 60); do
		post /api/v1/runs <<<"{\"workflow\": \"recent\", \"status\": \"ok\", \"run_id\": \"$i\"}" >/dev/null
	done
	grep -q "INFO promrun_serve: journal $DATA/default/journal compacted from [0-9]* to [0-9]* bytes" "$SERVE_LOG"
	run journal_lines default
	assert_line --regexp '^snapshot workflow=nightly-1 runs=10,0,0,0,0 '
	refute_output --regexp 'workflow=nightly-[0-9] status='
	curl -fsS -o "$BATS_TEST_TMPDIR/after" "$SERVE_URL/metrics"
	sed -i '/^# HELP process_cpu_seconds_total/,$d' "$BATS_TEST_TMPDIR/after"
	promrun-render -j "$DATA/default/journal" -o "$BATS_TEST_TMPDIR/rendered"
	run diff <(without_render_time "$BATS_TEST_TMPDIR/after") <(without_render_time "$BATS_TEST_TMPDIR/rendered")
	assert_success
	assert_equal "$(sample_value "$BATS_TEST_TMPDIR/after" 'ci_workflow_runs_total{workflow="nightly-1",status="success"}')" 10
	# The run ids of the window survive compaction: a retry is still known.
	serve_restart
	run post /api/v1/runs <<<'{"workflow": "recent", "status": "ok", "run_id": "7"}'
	assert_line --index 1 200
}

@test "a scrape kept from the last one is made anew when an open run becomes lost, with nothing posted in between" {
	printf '[render]\nlost_after = 2s\n' >"$CONF"
	serve_start
	post /api/v1/runs <<<'{"workflow": "slow", "event": "start", "run_id": "s1"}' >/dev/null
	curl -fsS -o "$BATS_TEST_TMPDIR/a" "$SERVE_URL/metrics"
	assert_equal "$(sample_value "$BATS_TEST_TMPDIR/a" 'ci_workflow_in_progress{workflow="slow"}')" 1
	curl -fsS -o "$BATS_TEST_TMPDIR/b" "$SERVE_URL/metrics"
	assert_equal "$(sample_value "$BATS_TEST_TMPDIR/b" 'ci_workflow_in_progress{workflow="slow"}')" 1
	sleep 2.5
	curl -fsS -o "$BATS_TEST_TMPDIR/c" "$SERVE_URL/metrics"
	assert_equal "$(sample_value "$BATS_TEST_TMPDIR/c" 'ci_workflow_in_progress{workflow="slow"}')" 0
	assert_equal "$(sample_value "$BATS_TEST_TMPDIR/c" 'ci_workflow_runs_total{workflow="slow",status="lost"}')" 1
	# The render time moves on with every scrape.
	t1=$(sample_value "$BATS_TEST_TMPDIR/a" 'promrun_render_timestamp_seconds{preset="native"}')
	t2=$(sample_value "$BATS_TEST_TMPDIR/b" 'promrun_render_timestamp_seconds{preset="native"}')
	awk -v a="$t1" -v b="$t2" 'BEGIN { exit !(b > a) }'
}
