/* cli.c - the answers every program gives alike (see cli.h). */
#include "common/cli.h"
#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef PROMRUN_VERSION
#define PROMRUN_VERSION "unknown"
#endif

void
cli_answer(int opt, const char *progname, const char *synopsis,
    const char *help)
{
	if (opt == 'h')
		printf("%s\n%s", synopsis, help);
	else if (opt == 'V')
		printf("%s %s\n", progname, PROMRUN_VERSION);
	else
		return;
	exit(0);
}

void
cli_usage(const char *progname, const char *why, const char *arg)
{
	char q[PERR_QUOTE_MAX];

	if (arg != NULL)
		fprintf(stderr, "%s: %s %s (see %s --help)\n", progname, why,
		    perr_quote(arg, q), progname);
	else
		fprintf(stderr, "%s: %s (see %s --help)\n", progname, why,
		    progname);
	exit(2);
}

void
cli_bad_option(const char *progname, int opt, const char *arg)
{
	struct perr e;

	(void)perr_option(&e, opt, arg);
	cli_usage(progname, e.msg, NULL);
}
