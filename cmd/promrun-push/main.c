/*
 * promrun-push - send exposition-format metrics to a Prometheus Pushgateway.
 *
 * Outline: parse the options, load the configuration, build the grouping
 * key, read and validate every input, and only then send: one group for the
 * inputs, or with --dir one group per *.prom file.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "common/err.h"
#include "push/push.h"

static const char *progname = "promrun-push";

static const char synopsis[] =
    "usage: promrun-push [-c CONFIG] [-u URL] [--job JOB] [-g NAME=VALUE]... "
    "[--add | --delete]\n"
    "                    [--user NAME] [--password-file FILE] "
    "[--bearer-token-file FILE]\n"
    "                    [--cacert FILE] [--cert FILE] [--key FILE] "
    "[--insecure]\n"
    "                    [--timeout T] [--retries N] [--gzip] [-v]\n"
    "                    [--allow-empty] [--dir DIR | FILE... | -]\n";

static const char help_text[] =
    "Validate exposition-format metrics, then send them to a Prometheus\n"
    "Pushgateway as one group (default input: the config's [render] output).\n"
    "\n"
    "  -u, --url URL             the gateway (default http://localhost:9091)\n"
    "      --job JOB             the group's job (default promrun)\n"
    "  -g, --grouping NAME=VALUE a grouping label (repeatable)\n"
    "      --add                 POST: replace only the families sent\n"
    "      --delete              DELETE the group; no input is read\n"
    "      --dir DIR             push every *.prom in DIR as its own group,\n"
    "                            with the label textfile=\"NAME.prom\"\n"
    "      --user NAME           basic auth; the password comes from\n"
    "      --password-file FILE    FILE or $PROMRUN_PUSH_PASSWORD\n"
    "      --bearer-token-file FILE  or $PROMRUN_PUSH_TOKEN\n"
    "      --cacert FILE         CA bundle to verify the gateway\n"
    "      --cert FILE, --key FILE   client certificate and key\n"
    "      --insecure            do not verify the gateway's certificate\n"
    "      --timeout T           per attempt: seconds or 10s, 1m (default 10)\n"
    "      --retries N           on connection errors, 5xx, 429 (default 3)\n"
    "      --gzip                compress the body\n"
    "      --allow-empty         push even an input without samples\n"
    "  -v, --verbose             print each request and status (no secrets)\n"
    "  -c, --config FILE         configuration file\n"
    "  -h, --help                show this help\n"
    "  -V, --version             show the version\n"
    "\n"
    "Exit status: 0 pushed (HTTP 200, 202 for --delete), 1 the gateway could\n"
    "not be reached or refused, 2 usage or invalid input.  See\n"
    "promrun-push(1).\n";

enum {
	OPT_JOB = 256, OPT_ADD, OPT_DELETE, OPT_DIR, OPT_USER, OPT_PASSWORD_FILE,
	OPT_TOKEN_FILE, OPT_CACERT, OPT_CERT, OPT_KEY, OPT_INSECURE,
	OPT_TIMEOUT, OPT_RETRIES, OPT_GZIP, OPT_ALLOW_EMPTY, OPT_SECRET_ARG,
};

static const struct option longopts[] = {
	{"config", required_argument, NULL, 'c'},
	{"url", required_argument, NULL, 'u'},
	{"job", required_argument, NULL, OPT_JOB},
	{"grouping", required_argument, NULL, 'g'},
	{"add", no_argument, NULL, OPT_ADD},
	{"delete", no_argument, NULL, OPT_DELETE},
	{"dir", required_argument, NULL, OPT_DIR},
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
	{"allow-empty", no_argument, NULL, OPT_ALLOW_EMPTY},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	/* Caught so that a secret typed on the command line is never echoed. */
	{"password", required_argument, NULL, OPT_SECRET_ARG},
	{"bearer-token", required_argument, NULL, OPT_SECRET_ARG},
	{NULL, 0, NULL, 0},
};

struct options {
	const char *config, *job, *dir, *timeout, *retries;
	struct push_options push;	/* strings from argv; merged later */
	bool add, del, verbose, allow_empty;
	char **grouping;		/* -g arguments */
	size_t ngrouping;
	char **inputs;
	size_t ninputs;
};

static void
usage(const char *why)
{
	fprintf(stderr, "%s: %s (see %s --help)\n", progname, why, progname);
	exit(2);
}

/* Only up to '=' of "--opt=VALUE" is shown: VALUE may be a secret. */
static void
bad_option(const char *what, const char *arg)
{
	char name[64], q[PERR_QUOTE_MAX], msg[PERR_QUOTE_MAX + 64];

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(arg, "="), arg);
	snprintf(msg, sizeof(msg), "%s %s", what, perr_quote(name, q));
	usage(msg);
}

static void
parse_options(int argc, char **argv, struct options *o)
{
	int opt;

	memset(o, 0, sizeof(*o));
	push_options_init(&o->push);
	if ((o->grouping = calloc((size_t)argc, sizeof(char *))) == NULL)
		usage("out of memory");
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:u:g:vhV", longopts,
	    NULL)) != -1) {
		switch (opt) {
		case 'c': o->config = optarg; break;
		case 'u': o->push.url = optarg; break;
		case 'g': o->grouping[o->ngrouping++] = optarg; break;
		case 'v': o->verbose = true; break;
		case OPT_JOB: o->job = optarg; break;
		case OPT_ADD: o->add = true; break;
		case OPT_DELETE: o->del = true; break;
		case OPT_DIR: o->dir = optarg; break;
		case OPT_USER: o->push.user = optarg; break;
		case OPT_PASSWORD_FILE: o->push.password_file = optarg; break;
		case OPT_TOKEN_FILE: o->push.bearer_token_file = optarg; break;
		case OPT_CACERT: o->push.cacert = optarg; break;
		case OPT_CERT: o->push.cert = optarg; break;
		case OPT_KEY: o->push.key = optarg; break;
		case OPT_INSECURE: o->push.insecure = true; break;
		case OPT_TIMEOUT: o->timeout = optarg; break;
		case OPT_RETRIES: o->retries = optarg; break;
		case OPT_GZIP: o->push.gzip = true; break;
		case OPT_ALLOW_EMPTY: o->allow_empty = true; break;
		case OPT_SECRET_ARG:
			usage("secrets are not accepted on the command line: "
			    "use --password-file, --bearer-token-file, "
			    "PROMRUN_PUSH_PASSWORD or PROMRUN_PUSH_TOKEN");
			break;
		case 'h':
			printf("%s\n%s", synopsis, help_text);
			exit(0);
		case 'V':
			printf("%s %s\n", progname, PROMRUN_VERSION);
			exit(0);
		case ':':
			bad_option("missing argument for", argv[optind - 1]);
			break;
		default:
			bad_option("unknown option", argv[optind - 1]);
		}
	}
	o->inputs = argv + optind;
	o->ninputs = (size_t)(argc - optind);
	if (o->add && o->del)
		usage("--add and --delete exclude each other");
	if (o->dir != NULL && o->ninputs > 0)
		usage("--dir and FILE arguments exclude each other");
	if (o->del && (o->ninputs > 0 || o->allow_empty))
		usage("--delete sends no metrics: give no FILE or --allow-empty");
}

static int
fail(const struct perr *e)
{
	fprintf(stderr, "%s: %s\n", progname, e->msg);
	return perr_exit_status(e->code);
}

static void
log_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s: %s\n", progname, line);
}

/* The command line over the config over the defaults. */
static int
merge(struct options *o, const struct config *c, struct push_group *g,
    struct perr *e)
{
	struct push_options *p = &o->push;
	size_t i;
	int rc;

	push_group_init(g, o->job != NULL ? o->job : c->push.job != NULL ?
	    c->push.job : PUSH_DEFAULT_JOB);
	for (i = 0; i < o->ngrouping; i++)
		if ((rc = push_group_add_arg(g, o->grouping[i], e)) != 0)
			return rc;
	if ((rc = push_group_merge(g, &c->push.grouping, e)) != 0 ||
	    (rc = push_group_check(g, e)) != 0)
		return rc;
	p->method = o->del ? PUSH_DELETE : o->add ? PUSH_POST : PUSH_PUT;
	config_push_defaults(c, p);
	if (o->verbose)
		p->log = log_line;
	if (o->timeout != NULL &&
	    (rc = config_parse_timeout("--timeout", o->timeout, &p->timeout,
	    e)) != 0)
		return rc;
	if (o->retries != NULL)
		return config_parse_retries("--retries", o->retries,
		    &p->retries, e);
	return 0;
}

/* The inputs as one group: all read and validated, then one request. */
static int
push_inputs(struct push_client *cl, struct options *o, const struct config *c,
    const struct push_group *g, struct perr *e)
{
	struct buf body = BUF_INIT(PUSH_MAX_INPUT);
	char *deflt[1];
	int rc;

	if (o->push.method != PUSH_DELETE && o->ninputs == 0) {
		if (c->render.output == NULL)
			return perr_set(e, PERR_INVALID, "no input: give FILE or "
			    "- (standard input), or set [render] output");
		deflt[0] = c->render.output;
		o->inputs = deflt;
		o->ninputs = 1;
	}
	if ((rc = push_load(o->inputs, o->ninputs, g, o->allow_empty ?
	    PUSH_ALLOW_EMPTY : 0, &body, e)) == 0)
		rc = push_send(cl, g, body.p, body.len, e);
	buf_free(&body);
	return rc;
}

/* --dir: a refused group does not stop the others; an unreachable gateway does. */
static int
push_dir(struct push_client *cl, const struct options *o,
    const struct push_group *g, struct perr *e)
{
	struct push_textfile *t = NULL;
	size_t n = 0, i, refused = 0;
	int rc;

	rc = push_dir_load(o->dir, g, o->push.method != PUSH_DELETE,
	    o->allow_empty ? PUSH_ALLOW_EMPTY : 0, &t, &n, e);
	for (i = 0; rc == 0 && i < n; i++) {
		if ((rc = push_send(cl, &t[i].group, t[i].body.p, t[i].body.len,
		    e)) != PERR_FAILED)
			continue;
		fail(e);
		refused++;
		rc = 0;
	}
	if (rc == 0 && refused > 0)
		rc = perr_set(e, PERR_FAILED, "the gateway refused %zu of %zu "
		    "groups", refused, n);
	push_dir_free(t, n);
	return rc;
}

int
main(int argc, char **argv)
{
	struct push_client *cl = NULL;
	struct options o;
	struct push_group g;
	struct config c;
	struct perr e;
	int rc;

	parse_options(argc, argv, &o);
	if ((rc = config_load(&c, o.config, &e)) == 0 &&
	    (rc = merge(&o, &c, &g, &e)) == 0 &&
	    (rc = push_client_new(&cl, &o.push, &e)) == 0)
		rc = o.dir != NULL ? push_dir(cl, &o, &g, &e) :
		    push_inputs(cl, &o, &c, &g, &e);
	push_client_free(cl);
	config_free(&c);
	free(o.grouping);
	return rc == 0 ? 0 : fail(&e);
}
