/*
 * promrun-rules - check Prometheus rule files offline: the YAML and PromQL
 * as strictly as promtool, and the metrics against what promrun emits.
 *
 * Outline: parse the options, build the catalog, load every rule file,
 * validate and lint them, print the findings and a summary, exit 0 (clean),
 * 1 (errors) or 2 (usage, or an unreadable file).  "parse" prints an
 * expression's canonical form.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "config.h"
#include "rules/finding.h"
#include "rules/lint.h"
#include "promql/parse.h"
#include "promql/print.h"
#include "rules/rules.h"

#ifndef PROMRUN_VERSION
#define PROMRUN_VERSION "unknown"
#endif

static const char *progname = "promrun-rules";

static const char synopsis[] =
    "usage: promrun-rules check [-c CONFIG] [-p PRESET] [-n NAMESPACE] "
    "[-m FILE.prom]...\n"
    "                           [-f text|json|github] [-x CHECK]... "
    "[--strict] RULEFILE...\n"
    "       promrun-rules parse EXPR\n";

static const char help_text[] =
    "Check Prometheus alerting and recording rule files (or PrometheusRule\n"
    "manifests) as promtool does, and their metrics and labels against what\n"
    "promrun emits.  parse prints an expression in canonical form.\n\n"
    "  -p, --preset NAME       catalog: native, chainloop, prpc or attest\n"
    "  -n, --namespace NS      the preset's namespace (native: ci)\n"
    "  -m, --metrics FILE      add the metrics of a .prom textfile\n"
    "  -c, --config FILE       configuration (its preset is the default)\n"
    "  -f, --format FORMAT     text (default), json or github\n"
    "  -x, --skip CHECK        drop the warnings of CHECK (repeatable)\n"
    "      --strict            warnings count as errors\n"
    "  -h, --help / -V, --version\n\n"
    "Exit status: 0 no errors, 1 errors, 2 usage or unreadable file.\n";

enum { OPT_STRICT = 256 };

static const struct option longopts[] = {
	{"preset", required_argument, NULL, 'p'},
	{"namespace", required_argument, NULL, 'n'},
	{"metrics", required_argument, NULL, 'm'},
	{"config", required_argument, NULL, 'c'},
	{"format", required_argument, NULL, 'f'},
	{"skip", required_argument, NULL, 'x'},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

struct options {
	const char *preset, *ns, *config;
	const char **metrics, **skip;
	size_t nmetrics, nskip;
	int format, strict;
	char **operands;
	int noperands;
};

static void
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "%s: %s\n", progname, why);
	fputs(synopsis, stderr);
	exit(2);
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
	while ((opt = getopt_long(argc, argv, "+:p:n:m:c:f:x:hV", longopts,
	    NULL)) != -1) {
		switch (opt) {
		case 'p': o->preset = optarg; break;
		case 'n': o->ns = optarg; break;
		case 'm': o->metrics[o->nmetrics++] = optarg; break;
		case 'c': o->config = optarg; break;
		case OPT_STRICT: o->strict = 1; break;
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
			printf("%s\n%s", synopsis, help_text);
			exit(0);
		case 'V':
			printf("%s %s\n", progname, PROMRUN_VERSION);
			exit(0);
		default:
			perr_option(&bad, opt, argv[optind - 1]);
			usage(bad.msg);
		}
	}
	o->operands = argv + optind;
	o->noperands = argc - optind;
}

static void
print_findings(const char *file, struct findings *f, const struct options *o)
{
	struct buf b = BUF_INIT(64 * 1024);
	size_t i;

	for (i = 0; i < o->nskip; i++)
		findings_skip(f, o->skip[i]);
	if (o->strict)
		findings_promote(f);
	findings_sort(f);
	for (i = 0; i < f->n; i++) {
		buf_reset(&b);
		if (finding_format(&b, file, &f->v[i], o->format) == 0)
			printf("%s\n", buf_str(&b));
	}
	buf_free(&b);
}

/* The catalog of metrics the rules may use (lint.h), from the options and
 * the configuration. */
static int
build_catalog(struct lint_catalog *cat, const struct options *o,
    struct perr *e)
{
	struct config c;
	struct lint_configured cf;
	int rc;

	memset(&c, 0, sizeof(c));
	if ((rc = config_load(&c, o->config, e)) == 0) {
		cf.found = c.file != NULL;
		cf.preset = c.render.preset;
		cf.ns = c.render.namespace;
		cf.labels = c.journal.labels;
		cf.nlabels = c.journal.nlabels;
		rc = lint_catalog_build(cat, o->preset, o->ns, &cf, o->metrics,
		    o->nmetrics, e);
	}
	config_free(&c);
	return rc;
}

static int
check(const struct options *o)
{
	struct lint_catalog cat;
	struct rule_file *rf;
	struct findings *f;
	struct perr e;
	size_t nrules = 0, errors = 0, warnings = 0;
	int i, status = 0;

	if (o->noperands == 0)
		usage("check needs at least one rule file");
	memset(&cat, 0, sizeof(cat));
	if (build_catalog(&cat, o, &e) != 0) {
		fprintf(stderr, "%s: %s\n", progname, e.msg);
		lint_catalog_free(&cat);
		return perr_exit_status(e.code);
	}
	rf = calloc((size_t)o->noperands, sizeof(*rf));
	f = calloc((size_t)o->noperands, sizeof(*f));
	if (rf == NULL || f == NULL)
		usage("out of memory");
	/* Load all first: one file's recording rules feed another's alerts. */
	for (i = 0; i < o->noperands; i++) {
		if (rules_load(o->operands[i], &rf[i], &f[i], &e) != 0) {
			/* Unreadable: 2; changed while read, no memory: 1. */
			fprintf(stderr, "%s: %s\n", progname, e.msg);
			if (perr_exit_status(e.code) > status)
				status = perr_exit_status(e.code);
		} else if (lint_catalog_add_recorded(&cat, &rf[i]) != 0) {
			status = 2;
		}
	}
	for (i = 0; i < o->noperands; i++) {
		if (rf[i].structure_ok && lint_rules(&cat, &rf[i], &f[i]) != 0)
			fprintf(stderr, "%s: out of memory\n", progname);
		print_findings(o->operands[i], &f[i], o);
		nrules += rf[i].nrules;
		errors += f[i].errors;
		warnings += f[i].warnings;
		rules_free(&rf[i]);
		findings_free(&f[i]);
	}
	fprintf(o->format == FORMAT_TEXT ? stdout : stderr, "%s: %d file%s, "
	    "%zu rule%s, %zu error%s, %zu warning%s\n", progname, i,
	    i == 1 ? "" : "s", nrules, nrules == 1 ? "" : "s", errors,
	    errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
	free(rf);
	free(f);
	lint_catalog_free(&cat);
	if (status == 0 && errors > 0)
		status = 1;
	return status;
}

static int
parse(const struct options *o)
{
	struct buf b = BUF_INIT(4 * PQ_EXPR_MAX);
	struct pq_expr *x;
	struct perr e;
	unsigned line, col;
	size_t pos;
	int rc;

	if (o->noperands != 1)
		usage("parse needs exactly one expression");
	rc = pq_parse(o->operands[0], strlen(o->operands[0]), &x, &pos, &e);
	if (rc != 0) {
		pq_line_col(o->operands[0], pos, &line, &col);
		fprintf(stderr, "%s: %u:%u: %s\n", progname, line, col, e.msg);
		/* Too long or too deep is invalid too: a rule problem. */
		return rc == PERR_INVALID || rc == PERR_LIMIT ? 1 :
		    perr_exit_status(rc);
	}
	rc = pq_print(&b, x->root);
	pq_expr_free(x);
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", progname, perr_name(rc));
		return 1;
	}
	printf("%s\n", buf_str(&b));
	buf_free(&b);
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o;
	const char *verb;
	int status;

	if (argc < 2)
		usage("missing command: check or parse");
	verb = argv[1];
	if (strcmp(verb, "check") != 0 && strcmp(verb, "parse") != 0) {
		if (verb[0] == '-')	/* --help, --version, or a mistake */
			parse_options(argc, argv, &o);
		bad_value("command", verb, "check or parse");
	}
	if (strcmp(verb, "parse") == 0 && argc == 3) {
		/* An expression may start with '-': no options here. */
		memset(&o, 0, sizeof(o));
		o.operands = argv + 2;
		o.noperands = 1;
	} else {
		parse_options(argc - 1, argv + 1, &o);
	}
	status = strcmp(verb, "check") == 0 ? check(&o) : parse(&o);
	free(o.metrics);
	free(o.skip);
	return status;
}
