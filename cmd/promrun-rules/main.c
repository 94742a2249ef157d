/*
 * promrun-rules - Prometheus rules offline: check them as strictly as
 * promtool and against the metrics promrun emits, run their unit tests as
 * promtool does, and evaluate PromQL and rules over a journal's history.
 *
 * Outline: parse the verb and its options, call the verb (check.c,
 * test.c, query.c), exit with its status: 0 clean, 1 problems or failed
 * tests, 2 usage or invalid input.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "common/cli.h"
#include "common/err.h"
#include "rules/finding.h"
#include "rules/lint.h"

const char *progname = "promrun-rules";

static const char synopsis[] =
    "usage: promrun-rules check [-c CONFIG] [-p PRESET] [-n NAMESPACE] "
    "[-m FILE.prom]...\n"
    "                           [-f text|json|github] [-x CHECK]... "
    "[--strict] RULEFILE...\n"
    "       promrun-rules test [--catalog [-c CONFIG] [-p PRESET] [-n NS] "
    "[-m FILE]...]\n"
    "                          [-f text|json|github] TESTFILE...\n"
    "       promrun-rules eval -j JOURNAL [-c CONFIG] [-p PRESET] [-n NS] "
    "[-f text|json]\n"
    "                          [--time T | --start T --end T --step S] EXPR\n"
    "       promrun-rules backtest -j JOURNAL --from T --to T "
    "[--interval D] [-c CONFIG]\n"
    "                          [-p PRESET] [-n NS] [-f text|json] "
    "RULEFILE...\n"
    "       promrun-rules parse EXPR\n";

static const char help_text[] =
    "check: rule files (or PrometheusRule manifests) as promtool checks them,\n"
    "and their metrics and labels against what promrun emits.  test: rule\n"
    "unit tests in promtool's format.  eval: a PromQL expression over the\n"
    "series a journal implies; backtest: rule files over that history, with\n"
    "every alert's pending, firing and resolved times.  parse: an expression\n"
    "in canonical form.\n\n"
    "  -p, --preset NAME       native, chainloop, prpc or attest\n"
    "  -n, --namespace NS      the preset's namespace (native: ci)\n"
    "  -m, --metrics FILE      add the metrics of a .prom textfile\n"
    "  -c, --config FILE       configuration (its preset is the default)\n"
    "  -f, --format FORMAT     text (default), json or github\n"
    "  -x, --skip CHECK        drop the warnings of CHECK (repeatable)\n"
    "      --strict            warnings count as errors\n"
    "      --catalog           test: lint the rule files against the catalog\n"
    "  -j, --journal FILE      eval, backtest: the journal to replay\n"
    "      --scrape-interval D how often Prometheus would have scraped (1m)\n"
    "      --time T            eval at T (default: the journal's last record)\n"
    "      --start T --end T --step S   eval as a range query\n"
    "      --from T --to T     backtest: the stretch of history\n"
    "      --interval D        backtest: groups without their own (1m)\n"
    "  -h, --help / -V, --version\n\n"
    "Times are Unix seconds or RFC 3339; durations as in Prometheus (90s,\n"
    "5m, 1h).  Exit status: 0 clean, 1 problems found or tests failed, 2\n"
    "usage or invalid input.\n";

enum {
	OPT_STRICT = 256, OPT_CATALOG, OPT_TIME, OPT_START, OPT_END, OPT_STEP,
	OPT_FROM, OPT_TO, OPT_INTERVAL, OPT_SCRAPE,
};

static const struct option longopts[] = {
	{"preset", required_argument, NULL, 'p'},
	{"namespace", required_argument, NULL, 'n'},
	{"metrics", required_argument, NULL, 'm'},
	{"config", required_argument, NULL, 'c'},
	{"format", required_argument, NULL, 'f'},
	{"skip", required_argument, NULL, 'x'},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"catalog", no_argument, NULL, OPT_CATALOG},
	{"journal", required_argument, NULL, 'j'},
	{"time", required_argument, NULL, OPT_TIME},
	{"start", required_argument, NULL, OPT_START},
	{"end", required_argument, NULL, OPT_END},
	{"step", required_argument, NULL, OPT_STEP},
	{"from", required_argument, NULL, OPT_FROM},
	{"to", required_argument, NULL, OPT_TO},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"scrape-interval", required_argument, NULL, OPT_SCRAPE},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static const struct {
	const char *name;
	int (*run)(const struct options *o);
} verbs[] = {
	{"check", verb_check}, {"test", verb_test}, {"eval", verb_eval},
	{"backtest", verb_backtest}, {"parse", verb_parse},
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

void
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "%s: %s\n", progname, why);
	fputs(synopsis, stderr);
	exit(2);
}

void
fail(const struct perr *e)
{
	fprintf(stderr, "%s: %s\n", progname, e->msg);
	exit(perr_exit_status(e->code));
}

static void
bad_value(const char *what, const char *value, const char *accepted)
{
	char q[PERR_QUOTE_MAX], msg[PERR_QUOTE_MAX + 512];

	snprintf(msg, sizeof(msg), "unknown %s %s: use %s", what,
	    perr_quote(value, q), accepted);
	usage(msg);
}

static void
parse_options(int argc, char **argv, struct options *o)
{
	struct perr bad;
	int opt;

	memset(o, 0, sizeof(*o));
	o->metrics = calloc((size_t)argc, sizeof(char *));
	if (o->metrics == NULL || (o->skip = calloc((size_t)argc,
	    sizeof(char *))) == NULL)
		usage("out of memory");
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:p:n:m:c:f:x:j:hV", longopts,
	    NULL)) != -1) {
		switch (opt) {
		case 'p': o->preset = optarg; break;
		case 'n': o->ns = optarg; break;
		case 'm': o->metrics[o->nmetrics++] = optarg; break;
		case 'c': o->config = optarg; break;
		case 'j': o->journal = optarg; break;
		case OPT_STRICT: o->strict = 1; break;
		case OPT_CATALOG: o->catalog = 1; break;
		case OPT_TIME: o->time = optarg; break;
		case OPT_START: o->start = optarg; break;
		case OPT_END: o->end = optarg; break;
		case OPT_STEP: o->step = optarg; break;
		case OPT_FROM: o->from = optarg; break;
		case OPT_TO: o->to = optarg; break;
		case OPT_INTERVAL: o->interval = optarg; break;
		case OPT_SCRAPE: o->scrape_interval = optarg; break;
		case 'x':
			if (!lint_check_known(optarg))
				bad_value("check", optarg, lint_check_names);
			o->skip[o->nskip++] = optarg;
			break;
		case 'f':
			if ((o->format = finding_format_parse(optarg)) < 0)
				bad_value("format", optarg, "text, json or github");
			break;
		case 'h':
		case 'V':
			cli_answer(opt, progname, synopsis, help_text);
			break;
		default:
			perr_option(&bad, opt, argv[optind - 1]);
			usage(bad.msg);
		}
	}
	o->operands = argv + optind;
	o->noperands = argc - optind;
}

int
main(int argc, char **argv)
{
	struct options o;
	size_t v;
	int status;

	if (argc < 2)
		usage("missing command: check, test, eval, backtest or parse");
	for (v = 0; v < NVERBS && strcmp(argv[1], verbs[v].name) != 0; v++)
		;
	if (v == NVERBS) {
		if (argv[1][0] == '-')	/* --help, --version, or a mistake */
			parse_options(argc, argv, &o);
		bad_value("command", argv[1], "check, test, eval, backtest or "
		    "parse");
	}
	if (strcmp(argv[1], "parse") == 0 && argc == 3) {
		/* An expression may start with '-': no options here. */
		memset(&o, 0, sizeof(o));
		o.operands = argv + 2;
		o.noperands = 1;
	} else {
		parse_options(argc - 1, argv + 1, &o);
	}
	status = verbs[v].run(&o);
	free(o.metrics);
	free(o.skip);
	return status;
}
