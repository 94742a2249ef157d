/*
 * promrun-push - send exposition-format metrics to a Prometheus
 * Pushgateway, a remote-write endpoint or an OTLP/HTTP endpoint.
 *
 * Outline: parse the options, load the configuration, build the grouping
 * key, read and validate every input, and only then send: one group for the
 * inputs, or with --dir one group per *.prom file; to an endpoint, the
 * series of every input (lib/push/endpoint.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "common/cli.h"
#include "common/err.h"
#include "common/mem.h"
#include "push/endpoint.h"
#include "push/push.h"
#include "push/remote.h"
#include "usage.h"

static const char *progname = "promrun-push";

struct options {
	const char *config, *url, *job, *dir, *timeout, *retries, *mode;
	const char *endpoint;		/* --remote-write or --otlp URL */
	struct push_options push;	/* strings from argv; merged later */
	struct endpoint_options ep;
	bool add, del, insecure, gzip, verbose;
	char **grouping;		/* -g arguments */
	size_t ngrouping;
	char **inputs;
	size_t ninputs;
};

static void
usage(const char *why)
{
	cli_usage(progname, why, NULL);
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

/* --remote-write URL, --otlp URL, --mode MODE: one of them at most. */
static void
set_mode(struct options *o, const char *mode, const char *url)
{
	if (o->mode != NULL && (strcmp(o->mode, mode) != 0 || url != NULL))
		usage("give one of --remote-write, --otlp and --mode");
	o->mode = mode;
	o->endpoint = url;
}

static void
parse_option(int opt, struct options *o)
{
	switch (opt) {
	case 'c': o->config = optarg; break;
	case 'u': o->url = optarg; break;
	case 'g': o->grouping[o->ngrouping++] = optarg; break;
	case 'v': o->verbose = true; break;
	case OPT_JOB: o->job = optarg; break;
	case OPT_ADD: o->add = true; break;
	case OPT_DELETE: o->del = true; break;
	case OPT_DIR: o->dir = optarg; break;
	case OPT_REMOTE_WRITE: set_mode(o, "remote-write", optarg); break;
	case OPT_OTLP: set_mode(o, "otlp", optarg); break;
	case OPT_MODE: set_mode(o, optarg, NULL); break;
	case OPT_TENANT: o->push.tenant = optarg; break;
	case OPT_STATE_DIR: o->ep.state_dir = optarg; break;
	case OPT_OTLP_JSON: o->ep.json = true; break;
	case OPT_OTLP_RESOURCE:
		if (o->ep.nresource == ENDPOINT_MAX_RESOURCE)
			usage("too many --otlp-resource");
		o->ep.resource[o->ep.nresource++] = optarg;
		break;
	case OPT_USER: o->push.user = optarg; break;
	case OPT_PASSWORD_FILE: o->push.password_file = optarg; break;
	case OPT_TOKEN_FILE: o->push.bearer_token_file = optarg; break;
	case OPT_CACERT: o->push.cacert = optarg; break;
	case OPT_CERT: o->push.cert = optarg; break;
	case OPT_KEY: o->push.key = optarg; break;
	case OPT_INSECURE: o->insecure = true; break;
	case OPT_TIMEOUT: o->timeout = optarg; break;
	case OPT_RETRIES: o->retries = optarg; break;
	case OPT_GZIP: o->gzip = true; break;
	case OPT_ALLOW_EMPTY: o->ep.flags |= PUSH_ALLOW_EMPTY; break;
	case OPT_SECRET_ARG:
		usage("secrets are not accepted on the command line: use "
		    "--password-file, --bearer-token-file, PROMRUN_PUSH_PASSWORD "
		    "or PROMRUN_PUSH_TOKEN");
		break;
	case 'h':
	case 'V':
		cli_answer(opt, progname, synopsis, help_text);
		break;
	}
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
		if (opt == ':')
			bad_option("missing argument for", argv[optind - 1]);
		else if (opt == '?')
			bad_option("unknown option", argv[optind - 1]);
		parse_option(opt, o);
	}
	o->inputs = argv + optind;
	o->ninputs = (size_t)(argc - optind);
	if (o->add && o->del)
		usage("--add and --delete exclude each other");
	if (o->dir != NULL && o->ninputs > 0)
		usage("--dir and FILE arguments exclude each other");
	if (o->del && (o->ninputs > 0 || o->ep.flags & PUSH_ALLOW_EMPTY))
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

/* The protocol and its endpoint: the option's URL, else the config's. */
static int
merge_endpoint(struct options *o, struct config *c, struct perr *e)
{
	int rc;

	if ((rc = push_protocol_parse(o->mode != NULL ? o->mode : "gateway",
	    &o->push.protocol, e)) != 0)
		return rc;
	if (o->push.protocol != PUSH_GATEWAY && (o->url != NULL || o->add ||
	    o->del))
		return perr_set(e, PERR_INVALID, "--url, --add and --delete are "
		    "for the Pushgateway, not for --%s", o->mode);
	if (o->push.protocol != PUSH_OTLP && (o->ep.json ||
	    o->ep.nresource > 0))
		return perr_set(e, PERR_INVALID, "--otlp-json and "
		    "--otlp-resource need --otlp");
	o->push.url = o->endpoint;
	o->push.json = o->ep.json;
	return o->push.protocol == PUSH_GATEWAY ? 0 :
	    config_endpoint_defaults(c, &o->push, &o->ep, e);
}

/* The command line over the config over the defaults. */
static int
merge(struct options *o, struct config *c, struct push_group *g,
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
	    (rc = push_group_check(g, e)) != 0 ||
	    (rc = merge_endpoint(o, c, e)) != 0)
		return rc;
	if (p->protocol == PUSH_GATEWAY)
		p->url = o->url;
	p->method = o->del ? PUSH_DELETE : o->add ? PUSH_POST : PUSH_PUT;
	p->insecure = o->insecure;
	p->gzip = o->gzip;
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

/* The inputs: the arguments, else the config's [render] output. */
static int
pick_inputs(struct options *o, const struct config *c, char **deflt,
    struct perr *e)
{
	if (o->push.method == PUSH_DELETE || o->ninputs > 0 || o->dir != NULL)
		return 0;
	if (c->render.output == NULL)
		return perr_set(e, PERR_INVALID, "no input: give FILE or - "
		    "(standard input), or set [render] output");
	deflt[0] = c->render.output;
	o->inputs = deflt;
	o->ninputs = 1;
	return 0;
}

/* The inputs as one group: all read and validated, then one request. */
static int
push_inputs(struct push_client *cl, struct options *o,
    const struct push_group *g, struct perr *e)
{
	struct buf body = BUF_INIT(PUSH_MAX_INPUT);
	int rc;

	rc = push_load(o->inputs, o->ninputs, g, o->ep.flags, &body, e);
	if ((rc = push_client_end(cl, rc, e)) == 0)
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

	rc = push_client_end(cl, push_dir_load(o->dir, g, o->push.method !=
	    PUSH_DELETE, o->ep.flags, &t, &n, e), e);
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
	char *deflt[1];
	int rc;

	mem_short_lived();
	parse_options(argc, argv, &o);
	if ((rc = config_load(&c, o.config, &e)) == 0 &&
	    (rc = merge(&o, &c, &g, &e)) == 0 &&
	    (rc = pick_inputs(&o, &c, deflt, &e)) == 0 &&
	    (rc = push_client_begin(&cl, &o.push, &e)) == 0)
		rc = o.push.protocol != PUSH_GATEWAY ? endpoint_push(cl, &o.ep,
		    o.inputs, o.ninputs, o.dir, &g, &e) : o.dir != NULL ?
		    push_dir(cl, &o, &g, &e) : push_inputs(cl, &o, &g, &e);
	push_client_free(cl);
	config_free(&c);
	free(o.grouping);
	return rc == 0 ? 0 : fail(&e);
}
