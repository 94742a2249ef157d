/*
 * grouping.h - the Pushgateway grouping key: a job and grouping labels,
 * their checks, and the URL path they become.
 *
 * Every value, the job's included, is sent in RFC 4648 base64 with the URL
 * and filename safe alphabet (section 5) and marked "@base64", so '/',
 * spaces, '%', '?', empty and non-ASCII values all reach the gateway as
 * they are: /metrics/job@base64/<job>{/<name>@base64/<value>}.  Padding is
 * always written, so the empty value is "=" as the gateway requires, and an
 * encoded value is always exactly one non-empty path segment.
 *
 * This module needs no libcurl, so the configuration can check a grouping
 * key without linking the HTTP client.
 */
#ifndef PROMRUN_GROUPING_H
#define PROMRUN_GROUPING_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

#define PUSH_MAX_GROUPING 32	/* grouping labels besides job */

struct push_label {
	const char *name;
	const char *value;
};

/*
 * The grouping key.  Strings are borrowed (argv, the config, a file name)
 * and must outlive the group.
 */
struct push_group {
	const char *job;
	struct push_label labels[PUSH_MAX_GROUPING];
	size_t nlabels;
};

/* push_group_init: a group of job (NULL until set) with no other labels. */
void push_group_init(struct push_group *g, const char *job);

/*
 * push_group_add: add the grouping label name=value.  Refused with
 * PERR_INVALID: a name outside [a-zA-Z_][a-zA-Z0-9_]*, starting with "__",
 * or "job" (the job is given on its own); a name given twice; a value that
 * is not valid UTF-8.  PERR_LIMIT past PUSH_MAX_GROUPING.  Any other value,
 * the empty one included, is accepted.
 */
int push_group_add(struct push_group *g, const char *name, const char *value,
    struct perr *e);

/*
 * push_group_add_arg: parse "NAME=VALUE" (the -g argument; the value may be
 * empty and may contain '=') and add it as push_group_add does.  The first
 * '=' in arg is replaced by a NUL, and name and value point into arg.  A
 * missing '=' is PERR_INVALID.
 */
int push_group_add_arg(struct push_group *g, char *arg, struct perr *e);

/* push_group_value: the value of label name ("job" too), or NULL. */
const char *push_group_value(const struct push_group *g, const char *name);

/*
 * push_group_merge: add each label of defaults whose name g does not have
 * yet (command-line labels override the configuration's).  push_group_add's
 * errors.
 */
int push_group_merge(struct push_group *g, const struct push_group *defaults,
    struct perr *e);

/*
 * push_group_check: the job is set, non-empty and valid UTF-8.  Returns 0
 * or PERR_INVALID naming the problem.
 */
int push_group_check(const struct push_group *g, struct perr *e);

/*
 * push_group_path: append "/metrics/job@base64/J{/NAME@base64/V}" to out.
 * buf.h's errors.
 */
int push_group_path(const struct push_group *g, struct buf *out);

/*
 * push_group_describe: append the group as a readable label set,
 * {job="build",path="/var/tmp"}, values escaped as in the exposition
 * format.  buf.h's errors.
 */
int push_group_describe(const struct push_group *g, struct buf *out);

#define PUSH_MAX_TENANT 150	/* bytes of a tenant ID (Mimir's limit) */

/*
 * push_tenant_check: 0 when tenant is a valid X-Scope-OrgID (the tenant of
 * Mimir and Cortex): 1 to PUSH_MAX_TENANT of [A-Za-z0-9!_.*'()-], not "."
 * or "..", so it is safe as a header; else PERR_INVALID naming it.
 */
int push_tenant_check(const char *tenant, struct perr *e);

/*
 * base64url_encode: append the encoding of len bytes at data to b: 4
 * characters per 3 bytes, the last group padded with '='; "=" alone for
 * len 0.  buf.h's errors.
 */
int base64url_encode(struct buf *b, const void *data, size_t len);

#endif
