/*
 * promrun-record - append a CI, cron or systemd run to the promrun journal.
 *
 * Outline: parse the options, load the configuration, then either record
 * one event (run, start or finish) or wrap a command: record its start, run
 * it, record its finish, exit with its status.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "config.h"
#include "common/err.h"
#include "journal/record.h"
#include "journal/wrap.h"

#ifndef PROMRUN_VERSION
#define PROMRUN_VERSION "unknown"
#endif

static const char *progname = "promrun-record";

static const char synopsis[] =
    "usage: promrun-record [-c CONFIG] [-j JOURNAL] -w WORKFLOW "
    "(-s STATUS | -e CODE)\n"
    "                      [-d SECONDS | --started T] [-l NAME=VALUE]... "
    "[--step STEP]\n"
    "                      [--run-id ID] [--time T]\n"
    "       promrun-record [-c CONFIG] [-j JOURNAL] -w WORKFLOW --start "
    "--run-id ID [options]\n"
    "       promrun-record [-c CONFIG] [-j JOURNAL] -w WORKFLOW --finish "
    "--run-id ID\n"
    "                      (-s STATUS | -e CODE) [-d SECONDS] [options]\n"
    "       promrun-record [-c CONFIG] [-j JOURNAL] -w WORKFLOW --systemd "
    "(--start | --finish) [options]\n"
    "       promrun-record [-c CONFIG] [-j JOURNAL] -w WORKFLOW "
    "[-l NAME=VALUE]... [--step STEP]\n"
    "                      [--run-id ID] -- COMMAND [ARG...]\n";

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
    "  -c, --config FILE       configuration file\n"
    "  -h, --help              show this help\n"
    "  -V, --version           show the version\n"
    "\n"
    "Exit status: 0 recorded, 1 the journal could not be written, 2 invalid\n"
    "input; with COMMAND, the command's status.  See promrun-record(1).\n";

enum { OPT_STEP = 256, OPT_RUN_ID, OPT_TIME, OPT_START, OPT_FINISH,
    OPT_SYSTEMD, OPT_STARTED };

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
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

struct options {
	const char *config;
	const char *journal;
	struct record_args args;
	char **command;		/* NULL unless wrapping a command */
	bool systemd;		/* --systemd: run id and outcome from systemd */
	const char *mistake;	/* first usage error, or NULL */
	char bad_option[PERR_QUOTE_MAX + 40];
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

/* getopt returned ':' (missing argument) or '?' (unknown option). */
static void
bad_option(struct options *o, char **argv, int opt)
{
	char q[PERR_QUOTE_MAX];

	perr_quote(argv[optind - 1], q);
	snprintf(o->bad_option, sizeof(o->bad_option), "%s %s",
	    opt == ':' ? "missing argument for option" : "unknown option", q);
	note_mistake(o, o->bad_option);
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
	while ((opt = getopt_long(argc, argv, "+:c:j:w:s:e:d:l:hV", longopts,
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
		case 'h':
			fputs(synopsis, stdout);
			fputs("\n", stdout);
			fputs(help_text, stdout);
			exit(0);
		case 'V':
			printf("%s %s\n", progname, PROMRUN_VERSION);
			exit(0);
		default:
			bad_option(o, argv, opt);
		}
	}
	if (optind < argc)
		o->command = argv + optind;
}

/* A one-line error and the exit status that goes with its code. */
static int
fail(const struct perr *e)
{
	fprintf(stderr, "%s: %s\n", progname, e->msg);
	return perr_exit_status(e->code);
}

static int
load_config(const struct options *o, struct config *c, struct perr *e)
{
	int rc;

	if ((rc = config_load(c, o->config, e)) != 0)
		return rc;
	if (o->journal != NULL)
		return config_set_journal_path(c, o->journal, e);
	return 0;
}

static int
record_once(struct options *o)
{
	struct record_systemd sd;
	struct config c;
	struct perr e;
	struct run r;
	int rc;

	if (o->mistake != NULL) {
		fprintf(stderr, "%s: %s (see %s --help)\n", progname,
		    o->mistake, progname);
		return 2;
	}
	if ((rc = load_config(o, &c, &e)) == 0 &&
	    (!o->systemd || (rc = record_use_systemd(&o->args, &sd, &e)) == 0) &&
	    (rc = record_build(&r, &o->args, &c.journal, &e)) == 0)
		rc = record_append(&r, &c.journal, &e);
	config_free(&c);
	return rc == 0 ? 0 : fail(&e);
}

static void
warn_not_recorded(const char *what, const char *why)
{
	fprintf(stderr, "%s: warning: %s not recorded: %s\n", progname, what,
	    why);
}

/*
 * Prepare the start of a wrapped run; on any problem warn and return
 * non-zero: the command runs unrecorded.
 */
static int
prepare_start(struct options *o, struct config *c, struct run *start,
    char run_id[RECORD_RUN_ID_LEN + 1])
{
	struct perr e;

	if (o->mistake == NULL && (o->args.status != NULL ||
	    o->args.exit_code != NULL || o->args.duration != NULL ||
	    o->args.time != NULL || o->args.event != RUN_EVENT_RUN ||
	    o->systemd || o->args.started != NULL))
		note_mistake(o, "-s, -e, -d, --started, --time, --start, "
		    "--finish and --systemd do not go with a COMMAND");
	if (o->mistake != NULL) {
		warn_not_recorded("run", o->mistake);
		return -1;
	}
	if (load_config(o, c, &e) != 0) {
		warn_not_recorded("run", e.msg);
		return -1;
	}
	if (o->args.run_id == NULL) {
		record_new_run_id(run_id);
		o->args.run_id = run_id;
	}
	o->args.event = RUN_EVENT_START;
	if (record_build(start, &o->args, &c->journal, &e) != 0) {
		warn_not_recorded("start", e.msg);
		return -1;
	}
	return 0;
}

/*
 * Wrapper mode: whatever goes wrong with recording, COMMAND runs and its
 * status is returned.  Monitoring must never break the job it watches.
 * The finish is attempted even when the start could not be written: it
 * carries the duration and exit code, and a full disk may have room again.
 */
static int
record_wrapped(struct options *o)
{
	char run_id[RECORD_RUN_ID_LEN + 1];
	struct wrap_result res;
	struct run start, finish;
	struct config c;
	struct perr e;
	int recording;

	memset(&c, 0, sizeof(c));
	recording = prepare_start(o, &c, &start, run_id) == 0;
	if (recording && record_append(&start, &c.journal, &e) != 0)
		warn_not_recorded("start", e.msg);
	if (wrap_run(o->command, &res, &e) != 0)
		fprintf(stderr, "%s: %s\n", progname, e.msg);
	else if (res.spawn_errno != 0)
		fprintf(stderr, "%s: cannot run %s: %s\n", progname,
		    o->command[0], strerror(res.spawn_errno));
	if (recording) {
		record_finish_of(&finish, &start, res.status, res.duration,
		    clock_now());
		if (record_append(&finish, &c.journal, &e) != 0)
			warn_not_recorded("finish", e.msg);
	}
	config_free(&c);
	return res.status;
}

int
main(int argc, char **argv)
{
	struct options o;
	int status;

	parse_options(argc, argv, &o);
	status = o.command != NULL ? record_wrapped(&o) : record_once(&o);
	free(o.args.labels);
	return status;
}
