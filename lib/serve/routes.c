/* routes.c - the dispatcher and one function per route (see http.h). */
#define _GNU_SOURCE
#include "serve/http.h"
#include "common/clock.h"
#include "journal/record.h"
#include "metrics/render.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TEXT_PLAIN "text/plain; charset=utf-8"
#define EXPOSITION "text/plain; version=0.0.4; charset=utf-8"
#define JSON_TYPE "application/json"

/* --- answers --- */

/* Queue code with body (taken: the buffer is left empty) as type. */
static enum MHD_Result
answer(struct request *r, unsigned code, const char *type, struct buf *body)
{
	struct MHD_Response *resp;
	size_t len = body != NULL ? body->len : 0;
	char *p = body != NULL ? buf_take(body) : NULL;
	enum MHD_Result ok;

	resp = p != NULL ? MHD_create_response_from_buffer(len, p,
	    MHD_RESPMEM_MUST_FREE) : MHD_create_response_from_buffer(0, "",
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		free(p);
		return MHD_NO;
	}
	if (type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_UNAUTHORIZED && !r->prpc)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer realm=\"promrun\"");
	if (code == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    r->endpoint == EP_RUNS ? "POST" : r->endpoint == EP_METRICS ?
		    "GET, HEAD, POST" : "GET, HEAD");
	ok = MHD_queue_response(r->conn, code, resp);
	MHD_destroy_response(resp);
	r->code = code;
	r->state = REQ_ANSWERED;
	return ok;
}

/* {"error": msg} as Flask's jsonify writes it, and our own errors too. */
static int
error_body(struct buf *out, const char *msg, const char *field, long index)
{
	if (buf_adds(out, "{\"error\":") || wire_json_string(out, msg))
		return PERR_NOMEM;
	if (field != NULL && (buf_adds(out, ",\"field\":") ||
	    wire_json_string(out, field)))
		return PERR_NOMEM;
	if (index >= 0 && buf_addf(out, ",\"index\":%ld", index))
		return PERR_NOMEM;
	return buf_adds(out, "}\n");
}

static enum MHD_Result
json_error(struct request *r, unsigned code, const char *msg,
    const char *field, long index)
{
	struct buf b = BUF_INIT(SERVE_BODY_MAX);

	if (error_body(&b, msg, field, index) != 0)
		return MHD_NO;
	return answer(r, code, JSON_TYPE, &b);
}

static enum MHD_Result
text(struct request *r, unsigned code, const char *msg)
{
	struct buf b = BUF_INIT(4096);

	if (buf_adds(&b, msg) || buf_addc(&b, '\n'))
		return MHD_NO;
	return answer(r, code, TEXT_PLAIN, &b);
}

/* --- authentication --- */

/* The credentials after "SCHEME " in the Authorization header, or NULL. */
static const char *
credentials(struct request *r, const char *scheme, size_t *len)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	size_t n = strlen(scheme);

	if (h == NULL || strncasecmp(h, scheme, n) != 0 || h[n] != ' ')
		return NULL;
	h += n + 1;
	*len = strlen(h);
	return h;
}

static bool
has_authorization(struct request *r)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION) != NULL;
}

/*
 * The organization whose write (or read) token was given.  Every token is
 * compared, whichever matches, so the time taken tells nothing.
 */
static struct org *
token_org(struct request *r, bool write)
{
	struct serve *s = r->s;
	struct org *found = NULL;
	const char *given;
	size_t len, i;

	if ((given = credentials(r, "Bearer", &len)) == NULL)
		return NULL;
	for (i = 0; i < s->norgs; i++)
		if (token_matches(write ? &s->orgs[i].write : &s->orgs[i].read,
		    given, len) && found == NULL)
			found = &s->orgs[i];
	return found;
}

/* GET /metrics and /metrics/self: open unless [serve] read_token_file. */
static bool
may_read_default(struct request *r)
{
	struct org *o = token_org(r, false);

	return r->s->orgs[0].read.value == NULL || o == &r->s->orgs[0];
}

/* --- rendering --- */

/* The counters kept per organization, summed for the own metrics. */
static void
refresh_stats(struct serve *s)
{
	size_t i;

	s->stats.journal_bytes = 0;
	for (i = 0; i < s->norgs; i++)
		s->stats.journal_bytes += s->orgs[i].journal_bytes;
}

static int
render_into(void *ctx, const char *p, size_t len)
{
	return buf_add(ctx, p, len) != 0 ? PERR_NOMEM : 0;
}

/* Where the render time's value lies in text (the one line that has it). */
static void
find_render_time(const struct buf *text, size_t *at, size_t *len)
{
	static const char key[] = "\npromrun_render_timestamp_seconds{";
	const char *p = text->len > 0 ? memmem(text->p, text->len, key,
	    sizeof(key) - 1) : NULL, *v, *nl;

	*at = *len = 0;
	if (p == NULL || (v = memchr(p + 1, ' ', (size_t)(text->p +
	    text->len - p - 1))) == NULL || (nl = memchr(v, '\n',
	    (size_t)(text->p + text->len - v))) == NULL)
		return;
	*at = (size_t)(v + 1 - text->p);
	*len = (size_t)(nl - v - 1);
}

/*
 * Render o's aggregate at now into the cache, unless the last render still
 * holds: nothing folded since, no open run lost since.  The render time is
 * the one value that differs, and is made anew below.
 */
static int
render_cached(struct request *r, struct org *o, double now, struct perr *e)
{
	struct render_format f;
	size_t samples;
	int rc;

	if (o->cache.valid && o->cache.version == o->version &&
	    now <= o->cache.until)
		return 0;
	memset(&f, 0, sizeof(f));
	f.preset = o->preset;
	f.ns = o->ns;
	f.now = now;
	f.max_series = r->s->cfg->render->max_series;
	f.no_self = strcmp(o->preset->name, "prpc") == 0 && !o->named;
	f.scratch = &o->cache.scratch;
	o->cache.valid = false;
	buf_reset(&o->cache.text);	/* its memory is kept for the next */
	if ((rc = render_format(o->agg, &f, render_into, &o->cache.text,
	    &samples, e)) != 0)
		return rc;
	find_render_time(&o->cache.text, &o->cache.time_at,
	    &o->cache.time_len);
	o->cache.version = o->version;
	o->cache.until = agg_next_lost(o->agg, now);
	o->cache.valid = true;
	return 0;
}

static enum MHD_Result
scrape(struct request *r, struct org *o, bool self, const char *type)
{
	struct buf b = BUF_INIT((size_t)1 << 31);
	const struct buf *t = &o->cache.text;
	double now = clock_now();
	struct perr e;
	int rc;

	perr_clear(&e);
	rc = render_cached(r, o, now, &e);
	if (rc == 0 && o->cache.time_len > 0)
		rc = buf_add(&b, t->p, o->cache.time_at) ||
		    buf_add_double(&b, now) ||
		    buf_add(&b, t->p + o->cache.time_at + o->cache.time_len,
		    t->len - o->cache.time_at - o->cache.time_len) ?
		    PERR_NOMEM : 0;
	else if (rc == 0 && t->len > 0)
		rc = buf_add(&b, t->p, t->len) ? PERR_NOMEM : 0;
	if (rc == 0 && self && strcmp(o->preset->name, "prpc") != 0) {
		refresh_stats(r->s);
		rc = stats_write(&r->s->stats, r->s->preset->name, &b);
	}
	if (rc != 0) {
		buf_free(&b);
		return text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, rc == PERR_NOMEM ?
		    "out of memory while rendering" : e.msg);
	}
	return answer(r, MHD_HTTP_OK, type, &b);
}

/* --- GET routes --- */

static enum MHD_Result
metrics_get(struct request *r)
{
	struct org *o = &r->s->orgs[0];
	bool prpc = strcmp(o->preset->name, "prpc") == 0;

	if (!may_read_default(r))
		return json_error(r, MHD_HTTP_UNAUTHORIZED, "missing or invalid "
		    "bearer token: give Authorization: Bearer <read token>",
		    NULL, -1);
	r->org = o;
	return scrape(r, o, true, prpc ? TEXT_PLAIN : EXPOSITION);
}

static enum MHD_Result
self_get(struct request *r)
{
	struct buf b = BUF_INIT((size_t)1 << 24);

	if (!may_read_default(r))
		return json_error(r, MHD_HTTP_UNAUTHORIZED, "missing or invalid "
		    "bearer token: give Authorization: Bearer <read token>",
		    NULL, -1);
	refresh_stats(r->s);
	if (stats_write(&r->s->stats, r->s->preset->name, &b) != 0)
		return MHD_NO;
	return answer(r, MHD_HTTP_OK, EXPOSITION, &b);
}

/* "/prom/NAME/metrics" -> NAME (in name, size bytes), or false. */
static bool
prom_org(const char *url, char *name, size_t size)
{
	const char *p = url + strlen("/prom/"), *slash = strchr(p, '/');

	if (slash == NULL || slash == p || strcmp(slash, "/metrics") != 0 ||
	    (size_t)(slash - p) >= size)
		return false;
	memcpy(name, p, (size_t)(slash - p));
	name[slash - p] = '\0';
	return true;
}

static enum MHD_Result
prom_get(struct request *r, const char *url)
{
	char name[SERVE_ORG_NAME_MAX + 2];
	struct org *o = token_org(r, false);
	bool named = prom_org(url, name, sizeof(name));

	/* Neither answer depends on whether NAME exists. */
	if (o == NULL)
		return json_error(r, MHD_HTTP_UNAUTHORIZED, "missing or invalid "
		    "bearer token: give Authorization: Bearer <read token of "
		    "the organization>", NULL, -1);
	if (!named || !o->named || strcmp(o->name, name) != 0)
		return json_error(r, MHD_HTTP_FORBIDDEN, "this token does not "
		    "read this organization", NULL, -1);
	r->org = o;
	return scrape(r, o, false, EXPOSITION);
}

static enum MHD_Result
live_get(struct request *r)
{
	return text(r, MHD_HTTP_OK, "ok");
}

static enum MHD_Result
ready_get(struct request *r)
{
	struct serve *s = r->s;
	char why[PERR_MSG_MAX + 64];
	size_t i;

	if (s->stopping)
		return text(r, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready: "
		    "shutting down");
	for (i = 0; i < s->norgs; i++) {
		if (org_check_health(&s->orgs[i]))
			continue;
		/* No path or name: the answer may go to anyone. */
		snprintf(why, sizeof(why), "not ready: a journal cannot be "
		    "written (%s)", strerror(s->orgs[i].failure_errno));
		return text(r, MHD_HTTP_SERVICE_UNAVAILABLE, why);
	}
	return text(r, MHD_HTTP_OK, "ready");
}

/* --- POST: planning a batch --- */

/* What a post's runs need: which are new, which the journal has. */
struct plan {
	unsigned char *duplicate;	/* per run */
	const struct run **fresh;	/* the new runs, in order */
	size_t *fresh_at;		/* their indexes among all runs */
	size_t nfresh, nduplicates;
};

static void
plan_free(struct plan *p)
{
	free(p->duplicate);
	free(p->fresh);
	free(p->fresh_at);
}

static int
add_dep(struct request *r, uint64_t seq)
{
	uint64_t *grown;
	size_t i;

	for (i = 0; i < r->ndeps; i++)
		if (r->deps[i] == seq)
			return 0;
	if ((grown = realloc(r->deps, (r->ndeps + 1) * sizeof(*grown))) == NULL)
		return PERR_NOMEM;
	r->deps = grown;
	r->deps[r->ndeps++] = seq;
	if (seq > r->wait_seq)
		r->wait_seq = seq;
	return 0;
}

/* Remember a new run's identity (length, time, bytes) for settling. */
static int
keep_key(struct request *r, const struct buf *key, double time)
{
	size_t len = key->len;

	return buf_add(&r->keys, &len, sizeof(len)) ||
	    buf_add(&r->keys, &time, sizeof(time)) ||
	    buf_add(&r->keys, key->p, key->len) ? PERR_NOMEM : 0;
}

/* Sort the runs into new ones and duplicates (stored or on their way). */
static int
plan_runs(struct request *r, const struct run *runs, size_t n,
    struct plan *p)
{
	struct org *o = r->org;
	struct hmap seen = HMAP_INIT;
	struct buf key = BUF_INIT(1 << 20);
	double since = clock_now() - r->s->cfg->serve->dedupe_window;
	uint64_t seq;
	size_t i, *slot;
	bool found;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	p->duplicate = calloc(n, 1);
	p->fresh = calloc(n, sizeof(*p->fresh));
	p->fresh_at = calloc(n, sizeof(*p->fresh_at));
	if (p->duplicate == NULL || p->fresh == NULL || p->fresh_at == NULL)
		return PERR_NOMEM;
	for (i = 0; i < n && rc == 0; i++) {
		rc = dedupe_key(&runs[i], &key);
		if (rc == 1) {		/* no run id: always new */
			rc = 0;
		} else if (rc != 0) {
			break;
		} else if (hmap_find(&seen, key.p, key.len, NULL)) {
			p->duplicate[i] = 1;
		} else {
			switch (dedupe_lookup(&o->dedupe, &key, since, &seq)) {
			case DEDUPE_PENDING:
				rc = add_dep(r, seq);
				/* FALLTHROUGH */
			case DEDUPE_STORED:
				p->duplicate[i] = 1;
				break;
			default:
				rc = hmap_upsert(&seen, key.p, key.len, &slot,
				    &found) || keep_key(r, &key, runs[i].time);
			}
		}
		if (rc == 0 && p->duplicate[i])
			p->nduplicates++;
		else if (rc == 0) {
			p->fresh_at[p->nfresh] = i;
			p->fresh[p->nfresh++] = &runs[i];
		}
	}
	hmap_free(&seen);
	buf_free(&key);
	return rc != 0 ? PERR_NOMEM : 0;
}

/* The new runs, framed into a batch.  e names the run that is too big. */
static int
frame_runs(const struct plan *p, struct buf *frames, size_t *bad,
    struct perr *e)
{
	struct buf payload = BUF_INIT(JOURNAL_PAYLOAD_MAX);
	size_t i;
	int rc = 0;

	for (i = 0; i < p->nfresh && rc == 0; i++) {
		buf_reset(&payload);
		rc = run_encode(p->fresh[i], &payload);
		if (rc == PERR_LIMIT)
			rc = perr_set(e, PERR_LIMIT, "the run is larger than a "
			    "journal record may be (%d bytes): shorten the "
			    "labels or names", JOURNAL_RECORD_MAX);
		else if (rc == 0)
			rc = journal_frame(payload.p, payload.len, frames, e);
		*bad = p->fresh_at[i];
	}
	buf_free(&payload);
	return rc;
}

/* The 2xx answer: what was recorded and what was already there. */
static int
runs_answer(struct request *r, const struct plan *p, size_t n)
{
	struct buf *b = &r->answer;
	size_t i;

	r->answer_code = p->nfresh > 0 ? MHD_HTTP_CREATED : MHD_HTTP_OK;
	r->answer_type = JSON_TYPE;
	r->runs = (long)p->nfresh;
	if (buf_addf(b, "{\"result\":\"%s\",\"recorded\":%zu,\"duplicates\":"
	    "%zu,\"runs\":[", p->nfresh > 0 ? "recorded" : "duplicate",
	    p->nfresh, p->nduplicates))
		return PERR_NOMEM;
	for (i = 0; i < n; i++)
		if (buf_addf(b, "%s{\"index\":%zu,\"result\":\"%s\"}",
		    i > 0 ? "," : "", i, p->duplicate[i] ? "duplicate" :
		    "recorded"))
			return PERR_NOMEM;
	return buf_adds(b, "]}\n");
}

/* Hand the batch to the writer and wait (or answer now: nothing to wait for). */
static enum MHD_Result
submit(struct request *r, struct commit_batch *b, size_t added)
{
	struct serve *s = r->s;
	struct org *o = r->org;
	/* A buffer never grown has p NULL: no pointer arithmetic on it. */
	const char *k = r->keys.p, *end = k != NULL ? k + r->keys.len : k;
	struct buf key = BUF_INIT(1 << 20);
	size_t len;
	double time;
	uint64_t seq;

	if (b != NULL) {
		b->journal = &o->cj;
		b->owner = r;
		seq = commit_submit(s->commit, b);
		r->batch = b;
		r->added_series = added;
		o->pending_series += added;
		if (seq > r->wait_seq)
			r->wait_seq = seq;
		for (; k < end; k += sizeof(len) + sizeof(time) + len) {
			memcpy(&len, k, sizeof(len));
			memcpy(&time, k + sizeof(len), sizeof(time));
			buf_reset(&key);
			if (buf_add(&key, k + sizeof(len) + sizeof(time), len) ||
			    dedupe_add(&o->dedupe, &key, time, seq))
				break;
		}
	}
	buf_free(&key);
	if (r->wait_seq == 0 || r->wait_seq <= s->done_seq)
		return answer(r, r->answer_code, r->answer_type, &r->answer);
	r->state = REQ_WAITING;
	r->next_waiting = s->waiting;
	s->waiting = r;
	MHD_suspend_connection(r->conn);
	return MHD_YES;
}

/* Check, frame and submit the new runs of a post. */
static enum MHD_Result
store(struct request *r, bool array, struct plan *p)
{
	struct commit_batch *b = NULL;
	struct perr e;
	size_t added = 0, bad = 0;
	int rc;

	perr_clear(&e);
	if (p->nfresh > 0) {
		rc = agg_admit(r->org->agg, p->fresh, p->nfresh,
		    r->org->pending_series, &added, &bad, &e);
		if (rc == 0 && (b = calloc(1, sizeof(*b))) == NULL)
			rc = perr_set(&e, PERR_NOMEM, "out of memory");
		if (rc == 0) {
			buf_init(&b->frames, (size_t)SERVE_BATCH_MAX *
			    JOURNAL_RECORD_MAX);
			rc = frame_runs(p, &b->frames, &bad, &e);
		}
		if (rc != 0) {
			if (b != NULL)
				buf_free(&b->frames);
			free(b);
			r->keys.len = 0;
			if (rc == PERR_NOMEM)
				return MHD_NO;
			bad = rc == PERR_FAILED ? p->fresh_at[bad] : bad;
			return json_error(r, MHD_HTTP_BAD_REQUEST, e.msg,
			    rc == PERR_FAILED ? "labels" : NULL,
			    array ? (long)bad : -1);
		}
	}
	r->s->stats.duplicates += p->nduplicates;
	return submit(r, b, added);
}

static enum MHD_Result
runs_post(struct request *r)
{
	const struct serve_settings *ss = r->s->cfg->serve;
	struct ingest_rules rules;
	struct ingest in;
	struct plan p;
	struct perr e;
	char window[64];
	enum MHD_Result ok;
	int rc;

	snprintf(window, sizeof(window), "%gs", ss->dedupe_window);
	rules.js = &r->org->js;
	rules.org = r->org->named ? r->org->name : NULL;
	rules.oldest = clock_now() - ss->dedupe_window;
	rules.window = window;
	perr_clear(&e);
	rc = ingest_runs(&in, r->body.p != NULL ? r->body.p : "", r->body.len,
	    &rules, &e);
	if (rc == PERR_NOMEM) {
		ingest_free(&in);
		return MHD_NO;
	}
	if (rc != 0) {
		ok = json_error(r, MHD_HTTP_BAD_REQUEST, e.msg, in.field,
		    in.index);
		ingest_free(&in);
		return ok;
	}
	if (plan_runs(r, in.runs, in.n, &p) != 0 ||
	    runs_answer(r, &p, in.n) != 0)
		ok = MHD_NO;
	else
		ok = store(r, in.array, &p);
	plan_free(&p);
	ingest_free(&in);
	return ok;
}

static enum MHD_Result
prpc_post(struct request *r)
{
	struct record_args a;
	struct plan p;
	struct run run;
	struct perr e;
	char *name = NULL;
	bool success;
	enum MHD_Result ok;
	int rc;

	perr_clear(&e);
	rc = ingest_prpc(r->body.p != NULL ? r->body.p : "", r->body.len,
	    &name, &success, &e);
	if (rc == 0) {
		memset(&a, 0, sizeof(a));
		a.event = RUN_EVENT_RUN;
		a.workflow = name;
		a.status = success ? "success" : "failure";
		a.plain_text = true;
		rc = record_build(&run, &a, &r->org->js, &e);
	}
	if (rc == PERR_NOMEM) {
		free(name);
		return MHD_NO;
	}
	if (rc != 0) {
		free(name);
		return json_error(r, MHD_HTTP_BAD_REQUEST, e.msg, NULL, -1);
	}
	/* Flask's jsonify of the payload: keys sorted, compact. */
	r->answer_code = MHD_HTTP_CREATED;
	r->answer_type = JSON_TYPE;
	r->runs = 1;
	memset(&p, 0, sizeof(p));
	p.duplicate = calloc(1, 1);
	p.fresh = calloc(1, sizeof(*p.fresh));
	p.fresh_at = calloc(1, sizeof(*p.fresh_at));
	if (p.duplicate == NULL || p.fresh == NULL || p.fresh_at == NULL ||
	    buf_adds(&r->answer, "{\"name\":") ||
	    wire_json_string(&r->answer, name) ||
	    buf_addf(&r->answer, ",\"success\":%s}\n", success ? "true" :
	    "false")) {
		ok = MHD_NO;
	} else {
		p.fresh[0] = &run;
		p.nfresh = 1;
		ok = store(r, false, &p);
	}
	plan_free(&p);
	free(name);
	return ok;
}

/* --- POST: before the body --- */

static bool
is_json(const char *type)
{
	size_t n = strlen("application/json");

	return type != NULL && strncasecmp(type, "application/json", n) == 0 &&
	    (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

static enum MHD_Result
too_large(struct request *r)
{
	return json_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger "
	    "than 65536 bytes: send fewer runs per request", NULL, -1);
}

/* PRPC's check of "Authorization: PRPC <psk>", in its words. */
static bool
prpc_allowed(struct request *r)
{
	const struct token *psk = &r->s->prpc_psk;
	const char *h, *given;
	size_t len;

	if (psk->value == NULL)
		return true;
	h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	/* re.match(r"PRPC .+", h): "PRPC ", then a character not a newline. */
	if (h == NULL || h[0] == '\0' || strncmp(h, "PRPC ", 5) != 0 ||
	    h[5] == '\0' || h[5] == '\n') {
		json_error(r, MHD_HTTP_UNAUTHORIZED, PRPC_NO_AUTH, NULL, -1);
		return false;
	}
	given = strchr(h, ' ') + 1;
	len = strlen(given);
	if (!token_matches(psk, given, len)) {
		json_error(r, MHD_HTTP_UNAUTHORIZED, PRPC_WRONG_KEY, NULL, -1);
		return false;
	}
	return true;
}

static enum MHD_Result
post_begin(struct request *r)
{
	struct serve *s = r->s;
	const char *length = MHD_lookup_connection_value(r->conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long n;

	r->ingest = true;
	r->runs = 0;
	if (r->endpoint == EP_METRICS) {
		r->prpc = true;
		if (!prpc_allowed(r))
			return r->code != 0 ? MHD_YES : MHD_NO;
		r->org = &s->orgs[0];
	} else {
		r->org = token_org(r, true);
		if (r->org == NULL && s->open_writes && !has_authorization(r))
			r->org = &s->orgs[0];
		if (r->org == NULL)
			return json_error(r, MHD_HTTP_UNAUTHORIZED, "missing or "
			    "invalid bearer token: give Authorization: Bearer "
			    "<write token>", NULL, -1);
	}
	if (length != NULL && ((n = strtoull(length, &end, 10)) >
	    SERVE_BODY_MAX || *end != '\0'))
		return too_large(r);
	if (!r->prpc && !is_json(MHD_lookup_connection_value(r->conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
		return json_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "the body "
		    "must be JSON: send Content-Type: application/json", NULL,
		    -1);
	r->state = REQ_BODY;
	return MHD_YES;
}

static enum MHD_Result
take_body(struct request *r, const char *data, size_t *size)
{
	size_t n = *size;

	*size = 0;
	if (r->too_big || r->body.len + n > SERVE_BODY_MAX) {
		r->too_big = true;
		buf_free(&r->body);
		return MHD_YES;
	}
	return buf_add(&r->body, data, n) == 0 ? MHD_YES : MHD_NO;
}

/* --- the dispatcher --- */

static enum stats_endpoint
route_of(const char *url)
{
	static const struct {
		const char *path;
		enum stats_endpoint ep;
	} fixed[] = {
		{"/api/v1/runs", EP_RUNS}, {"/metrics", EP_METRICS},
		{"/metrics/self", EP_SELF}, {"/health/live", EP_LIVE},
		{"/health/ready", EP_READY},
	};
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(url, fixed[i].path) == 0)
			return fixed[i].ep;
	if (strncmp(url, "/prom/", 6) == 0)
		return EP_PROM;
	return EP_OTHER;
}

static enum MHD_Result
get_route(struct request *r, const char *url)
{
	switch (r->endpoint) {
	case EP_METRICS: return metrics_get(r);
	case EP_SELF: return self_get(r);
	case EP_PROM: return prom_get(r, url);
	case EP_LIVE: return live_get(r);
	case EP_READY: return ready_get(r);
	default: return MHD_NO;
	}
}

static enum MHD_Result
first_call(struct request *r, const char *url, const char *method)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0;

	r->endpoint = route_of(url);
	if (r->endpoint == EP_OTHER)
		return json_error(r, MHD_HTTP_NOT_FOUND, "not found: the "
		    "endpoints are /api/v1/runs, /metrics, /metrics/self, "
		    "/prom/ORG/metrics, /health/live and /health/ready", NULL,
		    -1);
	if (post && (r->endpoint == EP_RUNS || r->endpoint == EP_METRICS))
		return post_begin(r);
	if (get && r->endpoint != EP_RUNS) {
		r->state = REQ_GET;
		return MHD_YES;
	}
	return json_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed "
	    "here: see the Allow header", NULL, -1);
}

static struct request *
request_new(struct serve *s, struct MHD_Connection *conn, const char *method)
{
	struct request *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->s = s;
	r->conn = conn;
	r->began = clock_monotonic();
	r->runs = -1;
	r->endpoint = EP_OTHER;
	r->method = strcmp(method, "POST") == 0 ? "POST" :
	    strcmp(method, "GET") == 0 ? "GET" : strcmp(method, "HEAD") == 0 ?
	    "HEAD" : "other";
	buf_init(&r->body, SERVE_BODY_MAX);
	buf_init(&r->answer, (size_t)1 << 24);
	buf_init(&r->keys, (size_t)1 << 26);
	return r;
}

enum MHD_Result
http_dispatch(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct request *r = *con_cls;

	(void)version;
	if (r == NULL) {
		if ((r = request_new(cls, conn, method)) == NULL)
			return MHD_NO;
		*con_cls = r;
		return first_call(r, url, method);
	}
	switch (r->state) {
	case REQ_BODY:
		if (*upload_data_size > 0)
			return take_body(r, upload_data, upload_data_size);
		if (r->too_big)
			return too_large(r);
		return r->endpoint == EP_RUNS ? runs_post(r) : prpc_post(r);
	case REQ_GET:
		if (*upload_data_size > 0) {
			*upload_data_size = 0;
			return MHD_YES;
		}
		return get_route(r, url);
	case REQ_ANSWER:
		return answer(r, r->answer_code, r->answer_type, &r->answer);
	default:
		/* A body after the answer was queued: not read, dropped. */
		*upload_data_size = 0;
		return MHD_YES;
	}
}
