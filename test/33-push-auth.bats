#!/usr/bin/env bats
# promrun-push with TLS and basic auth against a real prometheus-pushgateway
# configured by --web.config.file (bcrypt hash from htpasswd -B, a CA and
# server certificate made here with openssl); bearer tokens against the
# stub (the gateway itself knows only basic auth); and secrets that never
# show in ps output or on stderr.

PASSWORD='pw-Zq81-correct-horse'
TOKEN='tok-Vx92-battery-staple'

# make_pki DIR: a CA, a server certificate for IP 127.0.0.1 signed by it,
# and a client certificate signed by it.
make_pki() {
	local d=$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
	    -subj /CN=promrun-test-ca 2>/dev/null
	for who in server client; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		    -nodes -keyout "$d/$who.key" -out "$d/$who.csr" \
		    -subj "/CN=promrun-test-$who" 2>/dev/null
	done
	printf 'subjectAltName=IP:127.0.0.1\n' >"$d/server.ext"
	printf 'extendedKeyUsage=clientAuth\n' >"$d/client.ext"
	for who in server client; do
		openssl x509 -req -in "$d/$who.csr" -CA "$d/ca.crt" \
		    -CAkey "$d/ca.key" -CAcreateserial -days 2 \
		    -extfile "$d/$who.ext" -out "$d/$who.crt" 2>/dev/null
	done
}

load 'test_helper/pushgateway'

setup_file() {
	local d="$BATS_FILE_TMPDIR/pki"
	mkdir -p "$d"
	make_pki "$d"
	hash=$(printf '%s\n' "$PASSWORD" | htpasswd -niB ci | cut -d: -f2-)
	cat >"$d/web.yml" <<-EOF
	tls_server_config:
	  cert_file: $d/server.crt
	  key_file: $d/server.key
	basic_auth_users:
	  ci: '$hash'
	EOF
	gateway_start "$BATS_FILE_TMPDIR/gw" --web.config.file="$d/web.yml"
}

setup() {
	push_test_setup auth
	unset PROMRUN_PUSH_PASSWORD PROMRUN_PUSH_TOKEN
	PKI="$BATS_FILE_TMPDIR/pki"
	printf '%s\n' "$PASSWORD" >password
	printf 'wrong-%s\n' "$PASSWORD" >wrong
	printf '%s\n' "$TOKEN" >token
	chmod 600 password wrong token
	printf 'auth_metric 1\n' >m.prom
	STUB_DIR="$BATS_TEST_TMPDIR/stub"
}

teardown() {
	stub_stop
	stop_pid "${MTLS_PID:-}"
}

# no_secret_in TEXT: neither the password nor the token is in TEXT.
no_secret_in() {
	[[ $1 != *"$PASSWORD"* && $1 != *"$TOKEN"* ]] || {
		echo "a secret leaked: $1"
		return 1
	}
}

authed_series() {
	gateway_series --cacert "$PKI/ca.crt" -u "ci:$PASSWORD"
}

@test "TLS and basic auth: the right password from a file passes" {
	run --separate-stderr promrun-push -v --cacert "$PKI/ca.crt" --user ci \
	    --password-file password m.prom
	assert_success
	no_secret_in "$stderr"
	run authed_series
	assert_line "auth_metric{instance=\"\",job=\"$JOB\"} 1"
}

@test "the password from PROMRUN_PUSH_PASSWORD passes; [push] settings too" {
	PROMRUN_PUSH_PASSWORD=$PASSWORD run --separate-stderr promrun-push -v \
	    --cacert "$PKI/ca.crt" --user ci m.prom
	assert_success
	no_secret_in "$stderr"
	cat >>"$CONF" <<-EOF
	user = ci
	password_file = $BATS_TEST_TMPDIR/password
	cacert = $PKI/ca.crt
	EOF
	run promrun-push --job "$JOB-conf" m.prom
	assert_success
	run authed_series
	assert_line "auth_metric{instance=\"\",job=\"$JOB-conf\"} 1"
}

@test "a wrong password: exit 1 with HTTP 401, not retried, not shown" {
	run --separate-stderr promrun-push -v --retries 3 --cacert "$PKI/ca.crt" \
	    --user ci --password-file wrong m.prom
	assert_failure 1
	[ "${stderr_lines[-1]}" = "promrun-push: gateway refused the push of {job=\"$JOB\"} (HTTP 401): Unauthorized" ]
	[ "$(grep -c ': attempt ' <<<"$stderr")" -eq 1 ]
	no_secret_in "$stderr"
	[[ $stderr != *"wrong-"* ]]
	run authed_series
	refute_output --partial "job=\"$JOB\""
}

@test "no credentials: exit 1 with HTTP 401" {
	run --separate-stderr promrun-push --cacert "$PKI/ca.crt" m.prom
	assert_failure 1
	[ "$stderr" = "promrun-push: gateway refused the push of {job=\"$JOB\"} (HTTP 401): Unauthorized" ]
}

@test "a certificate from an unknown CA is refused, not retried" {
	run --separate-stderr promrun-push -v --retries 3 --user ci \
	    --password-file password m.prom
	assert_failure 1
	[[ ${stderr_lines[-1]} == "promrun-push: cannot push {job=\"$JOB\"} to $GW_URL: SSL certificate problem: "* ]]
	[ "$(grep -c ': attempt ' <<<"$stderr")" -eq 1 ]
	no_secret_in "$stderr"
}

@test "the host name is verified" {
	run --separate-stderr promrun-push --cacert "$PKI/ca.crt" --user ci \
	    --password-file password -u "https://localhost:$GW_PORT" m.prom
	assert_failure 1
	[[ $stderr == "promrun-push: cannot push {job=\"$JOB\"} to https://localhost:$GW_PORT: "* ]]
	[[ $stderr == *"localhost"* ]]
}

@test "--insecure skips verification only when asked" {
	run promrun-push --insecure --user ci --password-file password m.prom
	assert_success
	run authed_series
	assert_line "auth_metric{instance=\"\",job=\"$JOB\"} 1"
}

@test "a client certificate for a gateway that requires one" {
	cat >"$BATS_TEST_TMPDIR/mtls.yml" <<-EOF
	tls_server_config:
	  cert_file: $PKI/server.crt
	  key_file: $PKI/server.key
	  client_auth_type: RequireAndVerifyClientCert
	  client_ca_file: $PKI/ca.crt
	EOF
	saved_url=$GW_URL saved_pid=$GW_PID
	gateway_start "$BATS_TEST_TMPDIR/mtls" --web.config.file="$BATS_TEST_TMPDIR/mtls.yml"
	MTLS_PID=$GW_PID mtls_url=$GW_URL
	GW_URL=$saved_url GW_PID=$saved_pid
	run --separate-stderr promrun-push -u "$mtls_url" --cacert "$PKI/ca.crt" --retries 0 m.prom
	assert_failure 1
	run promrun-push -u "$mtls_url" --cacert "$PKI/ca.crt" --cert "$PKI/client.crt" \
	    --key "$PKI/client.key" m.prom
	assert_success
	run curl -sS --cacert "$PKI/ca.crt" --cert "$PKI/client.crt" \
	    --key "$PKI/client.key" "$mtls_url/metrics"
	assert_line "auth_metric{instance=\"\",job=\"$JOB\"} 1"
}

@test "a bearer token is sent as Authorization: Bearer, from a file or the environment" {
	stub_start "$STUB_DIR" status 200
	run --separate-stderr promrun-push -v -u "$STUB_URL" --bearer-token-file token m.prom
	assert_success
	no_secret_in "$stderr"
	PROMRUN_PUSH_TOKEN=$TOKEN run --separate-stderr promrun-push -v -u "$STUB_URL" m.prom
	assert_success
	no_secret_in "$stderr"
	[ "$(grep -c "^Authorization: Bearer $TOKEN\$" "$STUB_DIR/requests")" -eq 2 ]
}

@test "the password and the token never appear in ps output" {
	stub_start "$STUB_DIR" hang
	for how in file env token; do
		rm -f "$STUB_DIR/requests"
		case $how in
		file) promrun-push -v -u "$STUB_URL" --user ci --password-file password \
		    --timeout 5 --retries 0 m.prom 2>"$how.err" 3>&- & ;;
		env) PROMRUN_PUSH_PASSWORD=$PASSWORD promrun-push -v -u "$STUB_URL" \
		    --user ci --timeout 5 --retries 0 m.prom 2>"$how.err" 3>&- & ;;
		token) PROMRUN_PUSH_TOKEN=$TOKEN promrun-push -v -u "$STUB_URL" \
		    --timeout 5 --retries 0 m.prom 2>"$how.err" 3>&- & ;;
		esac
		pid=$!
		# Wait until the request is at the stub: the program is mid-push.
		for i in $(seq 100); do
			[ -s "$STUB_DIR/requests" ] && break
			sleep 0.05
		done
		[ -s "$STUB_DIR/requests" ]
		ps_out=$(ps -ww -eo pid,args)
		kill "$pid"
		wait "$pid" || true
		grep -q "^ *$pid .*promrun-push" <<<"$ps_out"
		no_secret_in "$ps_out"
		no_secret_in "$(cat "$how.err")"
		grep -q '^promrun-push: PUT ' "$how.err"
	done
	# The stub did get the credentials: they travel only in the request.
	grep -q "^Authorization: Bearer $TOKEN\$" "$STUB_DIR/requests"
}

@test "a secret on the command line is refused and not echoed" {
	run --separate-stderr promrun-push --password "$PASSWORD" m.prom
	assert_failure 2
	no_secret_in "$stderr"
	run --separate-stderr promrun-push "--password=$PASSWORD" m.prom
	assert_failure 2
	no_secret_in "$stderr"
	run --separate-stderr promrun-push "--bearer-token=$TOKEN" m.prom
	assert_failure 2
	no_secret_in "$stderr"
	run --separate-stderr promrun-push "--passwor=$PASSWORD" m.prom
	assert_failure 2
	no_secret_in "$stderr"
	[ "$stderr" = 'promrun-push: unknown option "--passwor" (see promrun-push --help)' ]
}

@test "secret files: missing, empty, several lines; named, never shown" {
	printf '' >empty
	printf '%s\nsecond-line\n' "$PASSWORD" >two
	run --separate-stderr promrun-push --user ci --password-file missing m.prom
	assert_failure 2
	[ "$stderr" = 'promrun-push: cannot read password file missing: No such file or directory' ]
	run --separate-stderr promrun-push --user ci --password-file empty m.prom
	assert_failure 2
	[ "$stderr" = 'promrun-push: password file empty is empty' ]
	run --separate-stderr promrun-push --user ci --password-file two m.prom
	assert_failure 2
	[ "$stderr" = 'promrun-push: password file two holds more than one line: put only the password in it' ]
	printf '%s\nx\n' "$TOKEN" >two
	run --separate-stderr promrun-push --bearer-token-file two m.prom
	assert_failure 2
	[ "$stderr" = 'promrun-push: token file two holds more than one line: put only the token in it' ]
	printf '%s\r\n' "$PASSWORD" >crlf
	run promrun-push --cacert "$PKI/ca.crt" --user ci --password-file crlf m.prom
	assert_success
}

@test "a directory given for a secret, CA, certificate or key file is named as one" {
	mkdir dir
	run --separate-stderr promrun-push --user ci --password-file dir m.prom
	assert_failure 2
	[ "$stderr" = 'promrun-push: password file dir is a directory: give the file itself' ]
	run --separate-stderr promrun-push --bearer-token-file dir m.prom
	assert_failure 2
	[ "$stderr" = 'promrun-push: token file dir is a directory: give the file itself' ]
	run --separate-stderr promrun-push --cacert dir m.prom
	assert_failure 2
	[ "$stderr" = 'promrun-push: CA file dir is a directory: give the file itself' ]
	run --separate-stderr promrun-push --cert dir m.prom
	assert_failure 2
	[ "$stderr" = 'promrun-push: client certificate dir is a directory: give the file itself' ]
	run --separate-stderr promrun-push --cert "$PKI/client.crt" --key "$PWD/dir/" m.prom
	assert_failure 2
	[ "$stderr" = "promrun-push: client key $PWD/dir/ is a directory: give the file itself" ]
	printf '[push]\nurl = %s\nuser = ci\npassword_file = %s\n' "$GW_URL" "$PWD/dir" >"$CONF"
	run --separate-stderr promrun-push m.prom
	assert_failure 2
	[ "$stderr" = "promrun-push: password file $PWD/dir is a directory: give the file itself" ]
	# A pipe is a file: --password-file <(...) works.
	run promrun-push --cacert "$PKI/ca.crt" --user ci --password-file <(printf '%s\n' "$PASSWORD") m.prom
	assert_success
}

@test "auth combinations that cannot be meant" {
	run --separate-stderr promrun-push --user ci m.prom
	assert_failure 2
	[ "$stderr" = 'promrun-push: --user ci needs a password: give --password-file FILE or set PROMRUN_PUSH_PASSWORD' ]
	run --separate-stderr promrun-push --password-file password m.prom
	assert_failure 2
	[ "$stderr" = 'promrun-push: a password file is given but no user: add --user NAME' ]
	PROMRUN_PUSH_PASSWORD=$PASSWORD run --separate-stderr promrun-push m.prom
	assert_failure 2
	[ "$stderr" = 'promrun-push: PROMRUN_PUSH_PASSWORD is set but no user: add --user NAME' ]
	PROMRUN_PUSH_TOKEN=$TOKEN run --separate-stderr promrun-push --user ci --password-file password m.prom
	assert_failure 2
	[ "$stderr" = 'promrun-push: both basic auth (--user) and a bearer token (--bearer-token-file or PROMRUN_PUSH_TOKEN) are given: use one' ]
	run --separate-stderr promrun-push --key "$PKI/client.key" m.prom
	assert_failure 2
	[ "$stderr" = 'promrun-push: a client key is given without its certificate: add --cert FILE' ]
	run --separate-stderr promrun-push --cacert nowhere.pem m.prom
	assert_failure 2
	[ "$stderr" = 'promrun-push: cannot read the CA file nowhere.pem: No such file or directory' ]
}
