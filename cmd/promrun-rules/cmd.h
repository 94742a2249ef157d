/*
 * cmd.h - what promrun-rules' verbs share: the options, and reporting.
 * main.c parses the options and calls the verb; each verb (check.c,
 * test.c, query.c) calls lib/ and prints what it returns.
 */
#ifndef PROMRUN_RULES_CMD_H
#define PROMRUN_RULES_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "rules/lint.h"

struct options {
	const char *preset, *ns, *config;
	const char **metrics, **skip;
	size_t nmetrics, nskip;
	int format, strict, catalog;
	const char *journal;			/* eval, backtest */
	const char *time, *start, *end, *step;	/* eval */
	const char *from, *to, *interval;	/* backtest */
	const char *scrape_interval;
	char **operands;
	int noperands;
};

extern const char *progname;

/* usage: print why (if not NULL) and the synopsis; exit 2. */
void usage(const char *why) __attribute__((noreturn));

/* fail: "promrun-rules: MSG" and exit with e's status. */
void fail(const struct perr *e) __attribute__((noreturn));

/* The catalog of metrics the rules may use, from the options. */
int build_catalog(struct lint_catalog *cat, const struct options *o,
    struct perr *e);

/* The verbs: each returns the exit status. */
int verb_check(const struct options *o);
int verb_parse(const struct options *o);
int verb_test(const struct options *o);
int verb_eval(const struct options *o);
int verb_backtest(const struct options *o);

#endif
