/* endpoint.c - a push to a remote-write or OTLP endpoint (see endpoint.h). */
#include "push/endpoint.h"
#include "common/clock.h"
#include "push/otlp.h"
#include "push/remote.h"
#include "push/series.h"
#include "push/state.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Read, validate and turn into series every input. */
static int
load(const struct endpoint_options *o, char *const *paths, size_t n,
    const char *dir, const struct push_group *g, double now,
    struct series_set *set, struct perr *e)
{
	struct buf body = BUF_INIT(PUSH_MAX_INPUT);
	struct push_textfile *t = NULL;
	size_t count = 0, i;
	int rc;

	if (dir == NULL) {
		if ((rc = push_load_for(o->protocol, paths, n, g, o->flags, &body,
		    e)) ==
		    0)
			rc = series_set_add(set, body.p != NULL ? body.p : "",
			    body.len, n == 1 && strcmp(paths[0], "-") != 0 ?
			    paths[0] : "the input", g, now, e);
		buf_free(&body);
		return rc;
	}
	rc = push_dir_load_for(o->protocol, dir, g, true, o->flags, &t, &count,
	    e);
	for (i = 0; rc == 0 && i < count; i++)
		rc = series_set_add(set, t[i].body.p != NULL ? t[i].body.p : "",
		    t[i].body.len, t[i].path, &t[i].group, now, e);
	push_dir_free(t, count);
	return rc;
}

/* "remote-write URL" or "otlp URL", with " tenant=ID" when there is one. */
static int
destination(const struct endpoint_options *o, const char *protocol,
    struct buf *out)
{
	if (buf_addf(out, "%s %s", protocol, o->url) != 0)
		return PERR_LIMIT;
	if (o->tenant != NULL && buf_addf(out, " tenant=%s", o->tenant) != 0)
		return PERR_LIMIT;
	return 0;
}

/* The newest time of the set's series (its render), else now. */
static long long
set_time(const struct series_set *set, double now)
{
	long long t = llround(now * 1000);
	size_t i;

	if (set->nseries > 0)
		t = set->series[0].time;
	for (i = 1; i < set->nseries; i++)
		if (set->series[i].time > t)
			t = set->series[i].time;
	return t;
}

int
endpoint_push(struct push_client *c, const struct endpoint_options *o,
    char *const *paths, size_t n, const char *dir, const struct push_group *g,
    struct perr *e)
{
	struct endpoint_result r, *res = &r;
	const char *protocol = o->protocol == PUSH_OTLP ? "otlp" :
	    "remote-write";
	struct buf dest = BUF_INIT(8192), name = BUF_INIT(1024);
	struct remote_result rr = {0, 0, 0, 0, 0};
	struct series_set set;
	struct push_state st;
	double now = clock_now();
	int rc;

	memset(res, 0, sizeof(*res));
	series_set_init(&set);
	memset(&st, 0, sizeof(st));
	st.lock_fd = -1;
	if ((rc = load(o, paths, n, dir, g, now, &set, e)) != 0)
		goto out;
	if (destination(o, protocol, &dest) != 0 ||
	    state_file_name(&name, protocol, o->url, buf_str(&dest)) != 0) {
		rc = perr_set(e, PERR_INVALID, "endpoint URL too long");
		goto out;
	}
	if ((rc = state_open(&st, o->state_dir, buf_str(&name),
	    buf_str(&dest), e)) != 0)
		goto out;
	if (o->protocol == PUSH_OTLP) {
		rc = otlp_push(c, o, &set, &st, res, e);
	} else {
		rc = remote_push(c, &set, &st, set_time(&set, now),
		    o->max_request, &rr, e);
		res->series = rr.series;
		res->stale = rr.stale;
		res->requests = rr.requests;
		res->bytes = rr.bytes;
		res->compressed = rr.compressed;
	}
	if (rc == 0)
		push_log(c, "sent %zu series (%zu staleness markers) in %zu "
		    "requests: %zu bytes, %zu compressed", r.series, r.stale,
		    r.requests, r.bytes, r.compressed);
out:
	state_close(&st);
	series_set_free(&set);
	buf_free(&dest);
	buf_free(&name);
	return rc;
}
