/* check.c - promrun-rules check and parse: findings and canonical forms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "common/buf.h"
#include "config.h"
#include "promql/parse.h"
#include "promql/print.h"
#include "rules/finding.h"
#include "rules/rules.h"

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

int
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

int
verb_check(const struct options *o)
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
		lint_catalog_free(&cat);
		fail(&e);
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

int
verb_parse(const struct options *o)
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
