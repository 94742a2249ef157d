/*
 * promrun-record - append a CI, cron or systemd run to the promrun journal,
 * or post it to promrun-serve (--server).
 *
 * Outline: parse the options, load the configuration, then either record
 * one event (run, start or finish) or wrap a command: record its start, run
 * it, record its finish, exit with its status.  The server path loads
 * libcurl only when it is taken (serve/client.h).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "common/cli.h"
#include "common/err.h"
#include "journal/record.h"
#include "journal/wrap.h"
#include "serve/client.h"

static const char *progname = "promrun-record";

static const char synopsis[] =
    "usage: promrun-record [-c CONFIG] [-j JOURNAL] -w WORKFLOW "
    "(-s STATUS | -e CODE)\n"
    "                      [-d SECONDS | --started T] [--time T] [options]\n"
    "       promrun-record [-c CONFIG] [-j JOURNAL] -w WORKFLOW --start "
    "--run-id ID [options]\n"
    "       promrun-record [-c CONFIG] [-j JOURNAL] -w WORKFLOW --finish "
    "--run-id ID\n"
    "                      (-s STATUS | -e CODE) [-d SECONDS] [options]\n"
    "       promrun-record [-c CONFIG] [-j JOURNAL] -w WORKFLOW --systemd "
    "(--start | --finish)\n"
    "       promrun-record [-c CONFIG] [-j JOURNAL] -w WORKFLOW [options] "
    "-- COMMAND [ARG...]\n"
    "options: [-l NAME=VALUE]... [--step STEP] [--run-id ID]\n"
    "         [--server URL [--token-file FILE] [-v]] (not with -j)\n";

static const char help_text[] =
    "Append a finished run, or the start or finish of one, to the promrun\n"
    "journal; or run COMMAND and record it.\n"
    "\n"
    "  -w, --workflow NAME     workflow (pipeline, job, timer) name\n"
    "  -s, --status STATUS     success, failure, cancelled or timeout\n"
    "  -e, --exit-code N       outcome from an exit status: 0 success, 124\n"
    "                          timeout, 130/143 cancelled, else failure\n"
    "  -d, --duration SECONDS  how long the run took\n"
    "      --started T         when it started (instead of -d)\n"
    "  -l, --label NAME=VALUE  a user label (repeatable)\n"
    "      --step STEP         the run is a step inside WORKFLOW\n"
    "      --run-id ID         matches a --start with its --finish\n"
    "      --time T            end time (start time with --start): Unix\n"
    "                          seconds or RFC 3339; default now\n"
    "      --start, --finish   record one end of a run\n"
    "      --systemd           run id from $INVOCATION_ID; with --finish,\n"
    "                          the outcome from $SERVICE_RESULT, $EXIT_CODE\n"
    "                          and $EXIT_STATUS (ExecStopPost=)\n"
    "  -j, --journal PATH      journal file (default from the config)\n"
    "      --server URL        post to promrun-serve there instead, with the\n"
    "      --token-file FILE   write token in FILE (or $PROMRUN_TOKEN)\n"
    "  -v, --verbose           show each attempt on standard error\n"
    "  -c, --config FILE       configuration file\n"
    "  -h, --help              show this help\n"
    "  -V, --version           show the version\n"
    "\n"
    "Exit status: 0 recorded, 1 the journal could not be written or the server\n"
    "not reached, 2 invalid input; with COMMAND, the command's status.  See\n"
    "promrun-record(1).\n";

enum { OPT_STEP = 256, OPT_RUN_ID, OPT_TIME, OPT_START, OPT_FINISH,
    OPT_SYSTEMD, OPT_STARTED, OPT_SERVER, OPT_TOKEN_FILE, OPT_TOKEN };

static const struct option longopts[] = {
	{"config", required_argument, NULL, 'c'},
	{"journal", required_argument, NULL, 'j'},
	{"workflow", required_argument, NULL, 'w'},
	{"status", required_argument, NULL, 's'},
	{"exit-code", required_argument, NULL, 'e'},
	{"duration", required_argument, NULL, 'd'},
	{"label", required_argument, NULL, 'l'},
	{"step", required_argument, NULL, OPT_STEP},
	{"run-id", required_argument, NULL, OPT_RUN_ID},
	{"time", required_argument, NULL, OPT_TIME},
	{"start", no_argument, NULL, OPT_START},
	{"finish", no_argument, NULL, OPT_FINISH},
	{"systemd", no_argument, NULL, OPT_SYSTEMD},
	{"started", required_argument, NULL, OPT_STARTED},
	{"server", required_argument, NULL, OPT_SERVER},
	{"token-file", required_argument, NULL, OPT_TOKEN_FILE},
	{"verbose", no_argument, NULL, 'v'},
	{"token", required_argument, NULL, OPT_TOKEN},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

struct options {
	const char *config;
	const char *journal;
	struct client_options client;	/* server and token file as typed */
	struct record_args args;
	char **command;		/* NULL unless wrapping a command */
	bool systemd;		/* --systemd: run id and outcome from systemd */
	const char *mistake;	/* first usage error, or NULL */
	struct perr bad_option;
};

static void
note_mistake(struct options *o, const char *what)
{
	if (o->mistake == NULL)
		o->mistake = what;
}

static void
set_event(struct options *o, enum run_event ev)
{
	if (o->args.event != RUN_EVENT_RUN && o->args.event != ev)
		note_mistake(o, "--start and --finish exclude each other");
	o->args.event = ev;
}

/* A -v line of the server path; it never holds the token. */
static void
verbose_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s: %s\n", progname, line);
}

/* Parse argv into o.  Mistakes are noted, not fatal: wrapper mode must still run. */
static void
parse_options(int argc, char **argv, struct options *o)
{
	int opt;

	memset(o, 0, sizeof(*o));
	o->args.event = RUN_EVENT_RUN;
	o->args.labels = calloc((size_t)argc, sizeof(char *));
	if (o->args.labels == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		exit(1);
	}
	opterr = 0;
	/* "+": stop at the first non-option, which starts COMMAND; ":": tell
	 * a missing argument from an unknown option. */
	while ((opt = getopt_long(argc, argv, "+:c:j:w:s:e:d:l:vhV", longopts,
	    NULL)) != -1) {
		switch (opt) {
		case 'c': o->config = optarg; break;
		case 'j': o->journal = optarg; break;
		case 'w': o->args.workflow = optarg; break;
		case 's': o->args.status = optarg; break;
		case 'e': o->args.exit_code = optarg; break;
		case 'd': o->args.duration = optarg; break;
		case 'l': o->args.labels[o->args.nlabels++] = optarg; break;
		case OPT_STEP: o->args.step = optarg; break;
		case OPT_RUN_ID: o->args.run_id = optarg; break;
		case OPT_TIME: o->args.time = optarg; break;
		case OPT_START: set_event(o, RUN_EVENT_START); break;
		case OPT_FINISH: set_event(o, RUN_EVENT_FINISH); break;
		case OPT_SYSTEMD: o->systemd = true; break;
		case OPT_STARTED: o->args.started = optarg; break;
		case OPT_SERVER: o->client.server = optarg; break;
		case OPT_TOKEN_FILE: o->client.token_file = optarg; break;
		case 'v': o->client.log = verbose_line; break;
		case OPT_TOKEN:
			note_mistake(o, "a token is not accepted on the command "
			    "line: use --token-file FILE or PROMRUN_TOKEN");
			break;
		case 'h':
		case 'V':
			cli_answer(opt, progname, synopsis, help_text);
			break;
		default:
			perr_option(&o->bad_option, opt, argv[optind - 1]);
			note_mistake(o, o->bad_option.msg);
		}
	}
	if (optind < argc)
		o->command = argv + optind;
	if (o->journal != NULL && o->client.server != NULL)
		note_mistake(o, "-j and --server exclude each other: a run is "
		    "appended to a journal or posted to a server");
}

/* The configuration, and where runs go: the journal or --server's receiver. */
static int
load_config(const struct options *o, struct config *c,
    struct client_sink *sink, struct perr *e)
{
	int rc;

	if ((rc = config_load(c, o->config, e)) != 0)
		return rc;
	sink->journal = &c->journal;
	sink->options = o->client;
	config_client_options(c, &sink->options, o->journal != NULL);
	return o->journal != NULL ? config_set_journal_path(c, o->journal, e) :
	    0;
}

/*
 * Everything before the run is sent: the options, the configuration and
 * the run (with a COMMAND, its start).  On a problem e says it, and *what
 * names what is not recorded: "run" (nothing can be) or "start".
 */
static int
prepare(struct options *o, struct config *c, struct client_sink *sink,
    struct run *r, char run_id[RECORD_RUN_ID_LEN + 1], const char **what,
    struct perr *e)
{
	struct record_systemd sd;
	int rc;

	*what = "run";
	if (o->command != NULL && o->mistake == NULL)
		note_mistake(o, record_command_conflict(&o->args, o->systemd));
	if (o->mistake != NULL)
		return o->command != NULL ? perr_set(e, PERR_INVALID, "%s",
		    o->mistake) : perr_set(e, PERR_INVALID, "%s (see %s --help)",
		    o->mistake, progname);
	if ((rc = load_config(o, c, sink, e)) != 0 ||
	    (o->systemd && (rc = record_use_systemd(&o->args, &sd, e)) != 0))
		return rc;
	*what = "start";
	client_sink_prepare(sink, &o->args, run_id);
	if (o->command != NULL)
		return record_build_start(r, &o->args, run_id, &c->journal, e);
	return record_build(r, &o->args, &c->journal, e);
}

/* A wrapped run's start gets no retries: the command must not wait. */
static int
send_run(void *sink, const struct run *r, bool finish, struct perr *e)
{
	return client_sink_send(sink, r, finish ? UINT_MAX : 0, e);
}

static void
warn_not_recorded(void *ctx, const char *what, const char *why)
{
	(void)ctx;
	fprintf(stderr, "%s: warning: %s not recorded: %s\n", progname, what,
	    why);
}

/*
 * One event, or wrapper mode: whatever goes wrong with recording, COMMAND
 * runs and its status is returned.  Monitoring must never break the job
 * it watches.
 */
static int
record(struct options *o)
{
	char run_id[RECORD_RUN_ID_LEN + 1];
	struct client_sink sink = {0};
	struct wrap_result res;
	struct config c = {0};
	const char *what;
	struct perr e;
	struct run r;
	int rc;

	rc = prepare(o, &c, &sink, &r, run_id, &what, &e);
	if (o->command == NULL) {
		if (rc == 0)
			rc = client_sink_send(&sink, &r, UINT_MAX, &e);
		if (rc != 0)
			fprintf(stderr, "%s: %s\n", progname, e.msg);
		res.status = perr_exit_status(rc);
	} else {
		if (rc != 0)
			warn_not_recorded(NULL, what, e.msg);
		if (wrap_recorded(o->command, rc == 0 ? &r : NULL, send_run,
		    warn_not_recorded, &sink, &res, &e) != 0)
			fprintf(stderr, "%s: %s\n", progname, e.msg);
	}
	client_sink_free(&sink);
	config_free(&c);
	free(o->args.labels);
	return res.status;
}

int
main(int argc, char **argv)
{
	struct options o;

	parse_options(argc, argv, &o);
	return record(&o);
}
