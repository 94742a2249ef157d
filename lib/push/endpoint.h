/*
 * endpoint.h - a push to a remote-write or OTLP endpoint, whole: the
 * inputs read and validated (push_load_for, push_dir_load_for), turned
 * into series (series.h), the destination's state taken (state.h), the
 * requests sent (remote.h, otlp.h), and the state committed only when
 * every request was accepted.
 */
#ifndef PROMRUN_ENDPOINT_H
#define PROMRUN_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "push/grouping.h"
#include "push/push.h"

#define ENDPOINT_MAX_RESOURCE 32	/* --otlp-resource attributes */

struct endpoint_options {
	enum push_protocol protocol;	/* PUSH_REMOTE_WRITE or PUSH_OTLP */
	const char *url;	/* the endpoint, as the client has it */
	const char *tenant;	/* or NULL; part of the destination */
	const char *state_dir;	/* where the destination's state is kept */
	size_t max_request;	/* remote write: bytes per request */
	bool json;		/* OTLP: the JSON mapping */
	/* OTLP resource attributes "KEY=VALUE", after service.name and
	 * host.name (which they may override). */
	const char *resource[ENDPOINT_MAX_RESOURCE];
	size_t nresource;
	const char *journal;	/* OTLP start times: promrun's journal, or NULL */
	unsigned flags;		/* push_load's (PUSH_ALLOW_EMPTY) */
};

/* What was sent, for the -v line. */
struct endpoint_result {
	size_t series, stale, requests, bytes, compressed;
};

/*
 * endpoint_push: push the n inputs (paths; "-" is standard input) or, when
 * dir is not NULL, every textfile of dir with its textfile label, as one
 * set of series labelled with g, to the endpoint of client c, which may
 * still be being made (push_client_begin): its problems are reported
 * before any other.  Meanwhile the inputs are read, and for a destination
 * pushed to before (its state file read back) the state is locked and
 * the requests built; for a new destination the client is waited for
 * first, so that nothing is created when it cannot be made.  Everything
 * is read and validated before the first request; with -v (the client's
 * log) a line says what was sent.  Returns 0; the errors
 * of the steps above (PERR_INVALID for bad input, PERR_IO and PERR_FAILED
 * for the network, PERR_CORRUPT for a damaged state file).
 */
int endpoint_push(struct push_client *c, const struct endpoint_options *o,
    char *const *paths, size_t n, const char *dir, const struct push_group *g,
    struct perr *e);

#endif
