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

/*
 * One text (the n inputs together) read, validated and, when set is not
 * NULL, turned into series in the same parse.  A problem with the series
 * is not returned but held (its code in *held, its message in later) for
 * when every input has been validated: validation speaks first.
 */
static int
load_text(const struct endpoint_options *o, char *const *paths, size_t n,
    const char *what, const struct push_group *g, double now,
    struct series_set *set, int *held, struct perr *later, struct perr *e)
{
	struct buf body = BUF_INIT(PUSH_MAX_INPUT);
	struct expfmt_handler h;
	struct series_adder a;
	int rc;

	if (set == NULL) {
		rc = push_load_for(o->protocol, paths, n, g, o->flags, &body, e);
		buf_free(&body);
		return rc;
	}
	if ((rc = series_adder_begin(&a, set, what, g, now, e)) != 0)
		return rc;
	h = series_adder_handler(&a);
	rc = push_load_with(o->protocol, paths, n, g, o->flags, &h, &body, e);
	/* The series point into the parsed body: the set keeps it. */
	*held = series_adder_end(&a, buf_take(&body), later);
	return rc;
}

/* Read, validate and turn into series every input. */
static int
load(const struct endpoint_options *o, char *const *paths, size_t n,
    const char *dir, const struct push_group *g, double now,
    struct series_set *set, struct perr *e)
{
	struct push_textfile *t = NULL;
	size_t count = 0, i;
	struct perr later;
	int rc, held = 0;

	if (dir == NULL) {
		rc = load_text(o, paths, n, n == 1 && strcmp(paths[0], "-") !=
		    0 ? paths[0] : "the input", g, now, set, &held, &later, e);
	} else {
		rc = push_dir_load_for(o->protocol, dir, g, false, o->flags, &t,
		    &count, e);
		for (i = 0; rc == 0 && i < count; i++)
			rc = load_text(o, &t[i].path, 1, t[i].path, &t[i].group,
			    now, held == 0 ? set : NULL, &held, &later, e);
		push_dir_free(t, count);
	}
	if (rc == 0 && held != 0 && e != NULL)
		*e = later;
	return rc != 0 ? rc : held;
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
	struct state_ahead *ahead = NULL;
	double now = clock_now();
	bool named;
	int rc;

	memset(res, 0, sizeof(*res));
	series_set_init(&set);
	memset(&st, 0, sizeof(st));
	st.lock_fd = -1;
	/* The state is read by a thread while the inputs are. */
	named = destination(o, protocol, &dest) == 0 &&
	    state_file_name(&name, protocol, o->url, buf_str(&dest)) == 0;
	if (named)
		ahead = state_read_ahead(o->state_dir, buf_str(&name),
		    buf_str(&dest));
	/* Only now, the thread started: libcurl is loaded meanwhile. */
	push_client_go(c);
	/*
	 * The client is made while the inputs are read (push_client_begin),
	 * and its problems are reported before any other (push_client_end,
	 * here and below).  A destination pushed to before, whose state was
	 * read ahead, is locked and its requests built while libcurl may
	 * still load: the first request waits for it (push_post).  Locking
	 * creates nothing there; for a new destination the client is waited
	 * for first, so a push that cannot be made leaves no state directory.
	 */
	rc = load(o, paths, n, dir, g, now, &set, e);
	if (rc != 0 || !state_ahead_found(ahead))
		rc = push_client_end(c, rc, e);
	if (rc != 0)
		goto out;
	if (!named) {
		rc = perr_set(e, PERR_INVALID, "endpoint URL too long");
		goto out;
	}
	rc = state_open_ahead(&st, o->state_dir, buf_str(&name), buf_str(&dest),
	    ahead, e);
	if (rc != 0)
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
	rc = push_client_end(c, rc, e);
	state_ahead_free(ahead);
	state_close(&st);
	series_set_free(&set);
	buf_free(&dest);
	buf_free(&name);
	return rc;
}
