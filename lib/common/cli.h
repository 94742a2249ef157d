/*
 * cli.h - what every program does with its command line alike: --help and
 * --version answered and the program ended, and a usage error told in one
 * line that points to --help, with exit status 2.  Each main.c keeps its
 * own options and their checks; the shape of these answers is one, so the
 * programs cannot drift apart in it.
 */
#ifndef PROMRUN_CLI_H
#define PROMRUN_CLI_H

/*
 * cli_answer: for getopt_long's 'h', synopsis, a newline and help on
 * standard output; for 'V', "PROGNAME VERSION"; then exit 0.  For any
 * other opt it returns, having done nothing.
 */
void cli_answer(int opt, const char *progname, const char *synopsis,
    const char *help);

/*
 * cli_usage: "PROGNAME: WHY ARG (see PROGNAME --help)" on standard error,
 * ARG quoted as error messages quote a value (perr_quote) and left out
 * when NULL; then exit 2.
 */
_Noreturn void cli_usage(const char *progname, const char *why,
    const char *arg);

/*
 * cli_bad_option: cli_usage for what getopt_long reported by returning
 * opt, ':' (an option without its argument) or anything else (an unknown
 * option), arg being the word at fault (argv[optind - 1]).
 */
_Noreturn void cli_bad_option(const char *progname, int opt,
    const char *arg);

#endif
