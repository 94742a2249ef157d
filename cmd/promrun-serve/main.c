/*
 * promrun-serve - receive runs over HTTP from runners that keep no
 * journal, store them durably in per-organization journals, and serve
 * their metrics.
 *
 * Outline: parse the options, load the configuration, let lib/serve open
 * the journals and the sockets, run until told to stop.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "common/cli.h"
#include "common/err.h"
#include "serve/serve.h"

static const char *progname = "promrun-serve";

static const char synopsis[] =
    "usage: promrun-serve [-c CONFIG] [-l ADDRESS]... [-d DATA_DIR] "
    "[--log-format text|json]\n";

static const char help_text[] =
    "Receive CI runs over HTTP, store them in per-organization journals and\n"
    "serve their metrics (POST /api/v1/runs, PRPC's POST /metrics, GET\n"
    "/metrics, GET /prom/ORG/metrics, /health/live, /health/ready).\n"
    "\n"
    "  -l, --listen ADDRESS    :PORT, HOST:PORT, [IPV6]:PORT or HOST\n"
    "                          (repeatable; default 127.0.0.1:9089; the\n"
    "                          sockets of socket activation come first)\n"
    "  -d, --data-dir DIR      where the journals are (DIR/ORG/journal)\n"
    "      --log-format FORMAT text or json\n"
    "  -c, --config FILE       configuration file\n"
    "  -h, --help              show this help\n"
    "  -V, --version           show the version\n"
    "\n"
    "SIGHUP reads the token files again; SIGTERM stops after finishing what\n"
    "was taken.  Exit status: 0 stopped, 1 failure, 2 invalid usage or\n"
    "settings.  See promrun-serve(1).\n";

enum { OPT_LOG_FORMAT = 256 };

static const struct option longopts[] = {
	{"config", required_argument, NULL, 'c'},
	{"listen", required_argument, NULL, 'l'},
	{"data-dir", required_argument, NULL, 'd'},
	{"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

struct options {
	const char *config;
	char **listen;
	size_t nlisten;
	const char *data_dir;
	const char *log_format;
};

static void
parse_options(int argc, char **argv, struct options *o)
{
	int opt;

	memset(o, 0, sizeof(*o));
	if ((o->listen = calloc((size_t)argc, sizeof(char *))) == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		exit(1);
	}
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:l:d:hV", longopts,
	    NULL)) != -1) {
		switch (opt) {
		case 'c': o->config = optarg; break;
		case 'l': o->listen[o->nlisten++] = optarg; break;
		case 'd': o->data_dir = optarg; break;
		case OPT_LOG_FORMAT: o->log_format = optarg; break;
		case 'h':
		case 'V':
			cli_answer(opt, progname, synopsis, help_text);
			break;
		default:
			cli_bad_option(progname, opt, argv[optind - 1]);
		}
	}
	if (optind < argc)
		cli_usage(progname, "unexpected argument", argv[optind]);
	if (o->log_format != NULL && strcmp(o->log_format, "text") != 0 &&
	    strcmp(o->log_format, "json") != 0)
		cli_usage(progname, "--log-format takes text or json, not",
		    o->log_format);
}

/* The options override the file. */
static int
apply_options(const struct options *o, struct config *c, struct perr *e)
{
	size_t i;
	int rc;

	for (i = 0; i < o->nlisten; i++)
		if ((rc = config_add_listen(c, o->listen[i], i == 0, e)) != 0)
			return rc;
	if (o->data_dir != NULL &&
	    (rc = config_set_string(&c->serve.data_dir, o->data_dir, e)) != 0)
		return rc;
	if (o->log_format != NULL)
		c->serve.log_format = strcmp(o->log_format, "json") == 0 ?
		    SERVE_LOG_JSON : SERVE_LOG_TEXT;
	return 0;
}

/*
 * One line per call; stderr goes to the journal under systemd.  It is
 * buffered and flushed after each turn of the event loop: one write for
 * the requests of a turn, not one each.
 */
static void
log_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s\n", line);
}

static void
log_flush(void *ctx)
{
	(void)ctx;
	fflush(stderr);
}

static int
fail(const struct perr *e)
{
	fprintf(stderr, "%s: %s\n", progname, e->msg);
	return perr_exit_status(e->code);
}

int
main(int argc, char **argv)
{
	struct serve_config sc;
	struct serve *s = NULL;
	struct options o;
	struct config c;
	struct perr e;
	int rc;

	parse_options(argc, argv, &o);
	perr_clear(&e);
	if ((rc = config_load(&c, o.config, &e)) == 0 &&
	    (rc = apply_options(&o, &c, &e)) == 0) {
		sc.serve = &c.serve;
		sc.journal = &c.journal;
		sc.render = &c.render;
		sc.log = log_line;
		sc.flush = log_flush;
		sc.log_ctx = NULL;
		setvbuf(stderr, NULL, _IOFBF, 1 << 16);
		if ((rc = serve_new(&s, &sc, &e)) == 0)
			rc = serve_run(s, &e);
	}
	serve_free(s);
	config_free(&c);
	free(o.listen);
	return rc == 0 ? 0 : fail(&e);
}
