# A real node_exporter (textfile collector only) and a real Prometheus
# server, on free 127.0.0.1 ports, and questions to Prometheus's HTTP API.
# Servers are started in the background with fd 3 closed and stopped by
# pid (stop_pid); their data and logs go in the directory they are given.

# shellcheck source=common-setup.bash
source "$BATS_TEST_DIRNAME/test_helper/common-setup.bash"

# node_exporter_start DIR TEXTFILE_DIR: node_exporter with only the textfile
# collector, reading TEXTFILE_DIR, its log in DIR.  Exports NE_PORT,
# NE_PID and NE_URL.
node_exporter_start() {
	local dir=$1 rc=0
	mkdir -p "$dir"
	NE_PORT=$(free_port)
	NE_URL="http://127.0.0.1:$NE_PORT"
	server_start "$dir/node-exporter.log" "$NE_PORT" \
	    prometheus-node-exporter --web.listen-address="127.0.0.1:$NE_PORT" \
	    --collector.disable-defaults --collector.textfile \
	    --collector.textfile.directory="$2" || rc=$?
	NE_PID=$SERVER_PID
	export NE_PORT NE_PID NE_URL
	return $rc
}

# prometheus_start DIR [ARG...]: a Prometheus server for DIR/prometheus.yml
# (which the caller writes, with its rule files beside it), its TSDB in
# DIR/data, ARGs added to its command line; waits (at most 30 s) until it
# is ready.  Exports PROM_PORT, PROM_PID and PROM_URL.
prometheus_start() {
	local dir=$1 rc=0
	shift
	PROM_PORT=$(free_port)
	PROM_URL="http://127.0.0.1:$PROM_PORT"
	server_start "$dir/prometheus.log" "$PROM_PORT" prometheus \
	    --config.file="$dir/prometheus.yml" \
	    --storage.tsdb.path="$dir/data" \
	    --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn "$@" ||
	    rc=$?
	PROM_PID=$SERVER_PID
	export PROM_PORT PROM_PID PROM_URL
	[ "$rc" -eq 0 ] && wait_for_http "$PROM_URL/-/ready" 30
}

# prom_query EXPR: the result of an instant query, as compact JSON lines
# {"metric": {...}, "value": "V"} sorted; fails unless Prometheus answers
# "success".
prom_query() {
	local -
	set -o pipefail
	curl -fsS -G "$PROM_URL/api/v1/query" --data-urlencode "query=$1" |
	    jq -c 'if .status == "success" then .data.result[] |
	        {metric: .metric, value: .value[1]} else error end' | sort
}

# prom_alerts NAME [JQ]: the active alerts called NAME, each as JQ makes
# it (default: compact JSON {"state": ..., "labels": {...}}), sorted.
prom_alerts() {
	local - shape='{state: .state, labels: .labels}'
	set -o pipefail
	curl -fsS "$PROM_URL/api/v1/alerts" |
	    jq -c -r --arg name "$1" '.data.alerts[] |
	        select(.labels.alertname == $name) | '"${2:-$shape}" | sort
}

# eventually SECONDS COMMAND [ARG...]: run COMMAND every 0.2 s until it
# succeeds, at most SECONDS; then fail showing its last output.
eventually() {
	local limit=$(($1 * 5)) i out
	shift
	for ((i = 0; i < limit; i++)); do
		out=$("$@" 2>&1) && return 0
		sleep 0.2
	done
	printf 'not true within %s s: %s\nlast output: %s\n' "$((limit / 5))" \
	    "$*" "$out" >&2
	return 1
}
