/* query.c - promrun-rules eval and backtest over a journal's history. */
#include <stdio.h>

#include "cmd.h"

int
verb_eval(const struct options *o)
{
	(void)o;
	usage("eval: not yet");
}

int
verb_backtest(const struct options *o)
{
	(void)o;
	usage("backtest: not yet");
}
