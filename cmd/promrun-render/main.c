/*
 * promrun-render - fold the promrun journal into metrics and write the .prom
 * textfile node_exporter's textfile collector reads.
 *
 * Outline: parse the options, load the configuration, then either verify
 * the journal or render (checkpoint, fold, compact, format, atomic write).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "config.h"
#include "common/cli.h"
#include "common/err.h"
#include "metrics/textfile.h"

static const char *progname = "promrun-render";

static const char synopsis[] =
    "usage: promrun-render [-c CONFIG] [-j JOURNAL] [-o FILE.prom | -o -] "
    "[--preset NAME]\n"
    "                      [--namespace NS] [--now T] [--compact] "
    "[--rebuild] [-v]\n"
    "       promrun-render [-c CONFIG] [-j JOURNAL] --verify\n";

static const char help_text[] =
    "Fold the journal into Prometheus metrics and write them atomically.\n"
    "\n"
    "  -o, --output FILE     the textfile (- for standard output); default\n"
    "                        [render] output, else standard output\n"
    "      --preset NAME     native, chainloop, prpc or attest\n"
    "      --namespace NS    metric name prefix (native: ci, attest: attest)\n"
    "      --now T           render as of time T (Unix seconds or RFC 3339)\n"
    "      --compact         fold records older than keep_history now\n"
    "      --rebuild         ignore the checkpoint and read the whole journal\n"
    "      --verify          report the journal's health, write nothing\n"
    "  -j, --journal PATH    journal file (default from the config)\n"
    "  -c, --config FILE     configuration file\n"
    "  -v, --verbose         say what was done\n"
    "  -h, --help            show this help\n"
    "  -V, --version         show the version\n"
    "\n"
    "Exit status: 0 done (--verify: healthy), 1 failure (--verify: damage\n"
    "found), 2 invalid usage or settings.  See promrun-render(1).\n";

enum { OPT_PRESET = 256, OPT_NAMESPACE, OPT_NOW, OPT_COMPACT, OPT_REBUILD,
    OPT_VERIFY };

static const struct option longopts[] = {
	{"config", required_argument, NULL, 'c'},
	{"journal", required_argument, NULL, 'j'},
	{"output", required_argument, NULL, 'o'},
	{"preset", required_argument, NULL, OPT_PRESET},
	{"namespace", required_argument, NULL, OPT_NAMESPACE},
	{"now", required_argument, NULL, OPT_NOW},
	{"compact", no_argument, NULL, OPT_COMPACT},
	{"rebuild", no_argument, NULL, OPT_REBUILD},
	{"verify", no_argument, NULL, OPT_VERIFY},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

struct options {
	const char *config;
	const char *journal;
	const char *now;
	bool verify;
	bool verbose;
	struct textfile_job job;
};

static void
parse_options(int argc, char **argv, struct options *o)
{
	int opt;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:j:o:vhV", longopts,
	    NULL)) != -1) {
		switch (opt) {
		case 'c': o->config = optarg; break;
		case 'j': o->journal = optarg; break;
		case 'o': o->job.output = optarg; break;
		case OPT_PRESET: o->job.preset = optarg; break;
		case OPT_NAMESPACE: o->job.ns = optarg; break;
		case OPT_NOW: o->now = optarg; break;
		case OPT_COMPACT: o->job.compact = true; break;
		case OPT_REBUILD: o->job.rebuild = true; break;
		case OPT_VERIFY: o->verify = true; break;
		case 'v': o->verbose = true; break;
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
	if (o->verify && (o->job.output || o->job.compact || o->job.rebuild))
		cli_usage(progname, "--verify writes nothing and takes no",
		    "-o/--compact/--rebuild");
}

static int
fail(const struct perr *e)
{
	fprintf(stderr, "%s: %s\n", progname, e->msg);
	return perr_exit_status(e->code);
}

static int
verify(const char *journal)
{
	static struct textfile_verify_report rep;
	struct perr e;
	size_t i;

	if (textfile_verify(journal, &rep, &e) != 0)
		return fail(&e);
	printf("journal %s: %" PRIu64 " bytes, %" PRIu64 " records read, %"
	    PRIu64 " not valid, %" PRIu64 " damaged regions (%" PRIu64
	    " bytes), %" PRIu64 " bytes of incomplete tail\n", journal,
	    rep.size, rep.records, rep.undecodable, rep.damaged,
	    rep.damaged_bytes, rep.tail);
	for (i = 0; i < rep.nlisted; i++)
		printf("%s at offset %" PRIu64 ", %" PRIu64 " bytes%s%s\n",
		    rep.listed[i].undecodable ? "invalid record" : "damaged",
		    rep.listed[i].offset, rep.listed[i].length,
		    rep.listed[i].undecodable ? ": " : "", rep.listed[i].why);
	return rep.undecodable + rep.damaged + (rep.tail > 0) == 0 ? 0 : 1;
}

static void
report(const struct textfile_report *rep)
{
	fprintf(stderr, "%s: wrote %s: %zu series; %" PRIu64 " new records%s; "
	    "%" PRIu64 " damaged regions", progname, rep->written,
	    rep->samples, rep->records_read, rep->from_checkpoint ?
	    " after the checkpoint" : " (whole journal)", rep->damaged);
	if (rep->compacted)
		fprintf(stderr, "; journal compacted from %" PRIu64 " to %"
		    PRIu64 " bytes", rep->journal_before, rep->journal_after);
	fputc('\n', stderr);
}

int
main(int argc, char **argv)
{
	struct textfile_report rep;
	struct options o;
	struct config c;
	struct perr e;
	int rc;

	parse_options(argc, argv, &o);
	if ((rc = config_load(&c, o.config, &e)) != 0 ||
	    (o.journal != NULL &&
	    (rc = config_set_journal_path(&c, o.journal, &e)) != 0)) {
		config_free(&c);
		return fail(&e);
	}
	o.job.journal = &c.journal;
	o.job.render = &c.render;
	o.job.now = clock_now();
	if (o.verify) {
		rc = verify(c.journal.path);
	} else if (o.now != NULL &&
	    clock_parse_time(o.now, "--now", &o.job.now, &e) != 0) {
		rc = fail(&e);
	} else if (textfile_render(&o.job, &rep, &e) != 0) {
		rc = fail(&e);
	} else {
		if (rep.warning[0] != '\0')
			fprintf(stderr, "%s: warning: %s\n", progname,
			    rep.warning);
		if (rep.foreign > 0)
			fprintf(stderr, "%s: warning: %" PRIu64 " records carry "
			    "a job, instance or textfile label, which the "
			    "Pushgateway or Prometheus set: dropped from the "
			    "metrics (promrun-record refuses them now)\n",
			    progname, rep.foreign);
		if (o.verbose)
			report(&rep);
		rc = 0;
	}
	config_free(&c);
	return rc;
}
