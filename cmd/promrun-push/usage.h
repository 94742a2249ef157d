/*
 * usage.h - promrun-push's usage line, help text and option table: data
 * that main.c's outline reads, kept apart so the outline stays short.
 */
#ifndef PROMRUN_PUSH_USAGE_H
#define PROMRUN_PUSH_USAGE_H

#include <getopt.h>
#include <stddef.h>

static const char synopsis[] =
    "usage: promrun-push [-c CONFIG] [-u URL] [--job JOB] [-g NAME=VALUE]... "
    "[--add | --delete]\n"
    "                    [--remote-write URL | --otlp URL | --mode MODE] "
    "[--tenant ID]\n"
    "                    [--state-dir DIR] [--otlp-json] "
    "[--otlp-resource KEY=VALUE]...\n"
    "                    [--user NAME] [--password-file FILE] "
    "[--bearer-token-file FILE]\n"
    "                    [--cacert FILE] [--cert FILE] [--key FILE] "
    "[--insecure]\n"
    "                    [--timeout T] [--retries N] [--gzip] [-v]\n"
    "                    [--allow-empty] [--dir DIR | FILE... | -]\n";

static const char help_text[] =
    "Validate exposition-format metrics, then send them to a Prometheus\n"
    "Pushgateway as one group (default input: the config's [render] output),\n"
    "or as samples to a remote-write or OTLP/HTTP endpoint.\n"
    "\n"
    "  -u, --url URL             the gateway (default http://localhost:9091)\n"
    "      --job JOB             the group's job (default promrun)\n"
    "  -g, --grouping NAME=VALUE a grouping label (repeatable)\n"
    "      --add                 POST: replace only the families sent\n"
    "      --delete              DELETE the group; no input is read\n"
    "      --dir DIR             push every *.prom in DIR as its own group,\n"
    "                            with the label textfile=\"NAME.prom\"\n"
    "      --remote-write URL    Prometheus remote write 1.0 to URL instead\n"
    "      --otlp URL            OTLP/HTTP to URL (.../v1/metrics) instead\n"
    "      --mode MODE           gateway, remote-write or otlp, to the URL\n"
    "                            the config's [push] section gives\n"
    "      --tenant ID           send X-Scope-OrgID: ID (Mimir, Cortex)\n"
    "      --state-dir DIR       what was last sent to each endpoint\n"
    "      --otlp-json           OTLP as JSON instead of protobuf\n"
    "      --otlp-resource KEY=VALUE  an OTLP resource attribute\n"
    "      --user NAME           basic auth; the password comes from\n"
    "      --password-file FILE    FILE or $PROMRUN_PUSH_PASSWORD\n"
    "      --bearer-token-file FILE  or $PROMRUN_PUSH_TOKEN\n"
    "      --cacert FILE         CA bundle to verify the server\n"
    "      --cert FILE, --key FILE   client certificate and key\n"
    "      --insecure            do not verify the server's certificate\n"
    "      --timeout T           per attempt: seconds or 10s, 1m (default 10)\n"
    "      --retries N           on connection errors, 5xx, 429 (default 3)\n"
    "      --gzip                compress the body (not for remote write)\n"
    "      --allow-empty         send even an input without samples\n"
    "  -v, --verbose             print each request and status (no secrets)\n"
    "  -c, --config FILE         configuration file\n"
    "  -h, --help                show this help\n"
    "  -V, --version             show the version\n"
    "\n"
    "Exit status: 0 sent (gateway: HTTP 200, 202 for --delete; endpoints:\n"
    "any 2xx), 1 the server could not be reached or refused, 2 usage or\n"
    "invalid input.  See promrun-push(1).\n";

enum {
	OPT_JOB = 256, OPT_ADD, OPT_DELETE, OPT_DIR, OPT_USER, OPT_PASSWORD_FILE,
	OPT_TOKEN_FILE, OPT_CACERT, OPT_CERT, OPT_KEY, OPT_INSECURE,
	OPT_TIMEOUT, OPT_RETRIES, OPT_GZIP, OPT_SECRET_ARG, OPT_REMOTE_WRITE,
	OPT_OTLP, OPT_MODE, OPT_TENANT, OPT_STATE_DIR, OPT_OTLP_JSON,
	OPT_OTLP_RESOURCE, OPT_ALLOW_EMPTY,
};

static const struct option longopts[] = {
	{"config", required_argument, NULL, 'c'},
	{"url", required_argument, NULL, 'u'},
	{"job", required_argument, NULL, OPT_JOB},
	{"grouping", required_argument, NULL, 'g'},
	{"add", no_argument, NULL, OPT_ADD},
	{"delete", no_argument, NULL, OPT_DELETE},
	{"dir", required_argument, NULL, OPT_DIR},
	{"remote-write", required_argument, NULL, OPT_REMOTE_WRITE},
	{"otlp", required_argument, NULL, OPT_OTLP},
	{"allow-empty", no_argument, NULL, OPT_ALLOW_EMPTY},
	{"mode", required_argument, NULL, OPT_MODE},
	{"tenant", required_argument, NULL, OPT_TENANT},
	{"state-dir", required_argument, NULL, OPT_STATE_DIR},
	{"otlp-json", no_argument, NULL, OPT_OTLP_JSON},
	{"otlp-resource", required_argument, NULL, OPT_OTLP_RESOURCE},
	{"user", required_argument, NULL, OPT_USER},
	{"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
	{"bearer-token-file", required_argument, NULL, OPT_TOKEN_FILE},
	{"cacert", required_argument, NULL, OPT_CACERT},
	{"cert", required_argument, NULL, OPT_CERT},
	{"key", required_argument, NULL, OPT_KEY},
	{"insecure", no_argument, NULL, OPT_INSECURE},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"gzip", no_argument, NULL, OPT_GZIP},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	/* Caught so that a secret typed on the command line is never echoed. */
	{"password", required_argument, NULL, OPT_SECRET_ARG},
	{"bearer-token", required_argument, NULL, OPT_SECRET_ARG},
	{NULL, 0, NULL, 0},
};

#endif
