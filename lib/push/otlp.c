/* otlp.c - OTLP/HTTP metrics (see otlp.h). */
#include "push/otlp.h"

int
otlp_push(struct push_client *c, const struct endpoint_options *o,
    const struct series_set *set, struct push_state *st,
    struct endpoint_result *res, struct perr *e)
{
	(void)c; (void)o; (void)set; (void)st; (void)res;
	return perr_set(e, PERR_INVALID, "OTLP is not implemented yet");
}
