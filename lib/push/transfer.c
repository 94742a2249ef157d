/* transfer.c - one HTTP request with retries (see transfer.h). */
#define _POSIX_C_SOURCE 200809L
#include "push/transfer.h"
#include "common/clock.h"
#include "push/secret.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SETOPT(t, opt, val) \
	((t)->api->easy_setopt((t)->curl, (opt), (val)) == CURLE_OK)

double
push_backoff(unsigned attempt, double u)
{
	/* 2^attempt by a shift: promrun-record (--server) links no libm. */
	double d = PUSH_BACKOFF_BASE * (double)(1UL << (attempt > 30 ? 30 :
	    attempt));

	if (d > PUSH_BACKOFF_CAP)
		d = PUSH_BACKOFF_CAP;
	return d / 2 + u * d / 2;
}

bool
push_retryable_http(long status)
{
	return status == 429 || (status >= 500 && status <= 599);
}

/* Errors where the request may not have arrived or been answered. */
static bool
retryable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

int
push_body_line(struct buf *out, const char *body, size_t len,
    size_t max)
{
	size_t start = 0, end = len, i;
	bool cut = false;
	int rc;

	while (start < end && (unsigned char)body[start] <= ' ')
		start++;
	while (end > start && (unsigned char)body[end - 1] <= ' ')
		end--;
	if (end - start > max) {
		end = start + max;
		/* Do not split a UTF-8 sequence: back up to its lead byte. */
		while (end > start && ((unsigned char)body[end] & 0xc0) == 0x80)
			end--;
		cut = true;
	}
	for (i = start; i < end; i++) {
		unsigned char c = (unsigned char)body[i];

		if ((rc = buf_addc(out, c < ' ' || c == 0x7f ? ' ' :
		    (char)c)) != 0)
			return rc;
	}
	return cut ? buf_adds(out, "...") : 0;
}

int
transfer_answer_line(const struct transfer *t, struct buf *out)
{
	size_t before = out->len;
	int rc;

	rc = push_body_line(out, t->response.p != NULL ? t->response.p : "",
	    t->response.len, PUSH_BODY_SHOWN);
	if (rc == 0 && out->len == before)
		rc = buf_adds(out, "(no reason given)");
	return rc;
}

/* A -v line.  Callers pass nothing secret: URLs hold no credentials. */
void
transfer_vnote(struct transfer *t, const char *fmt, va_list ap)
{
	if (t->log == NULL)
		return;
	buf_reset(&t->line);
	if (buf_vaddf(&t->line, fmt, ap) == 0)
		t->log(t->log_ctx, buf_str(&t->line));
}

void
transfer_note(struct transfer *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	transfer_vnote(t, fmt, ap);
	va_end(ap);
}

int
transfer_check(const struct transfer_options *o, unsigned retries,
    struct perr *e)
{
	int rc;

	if (!(o->timeout > 0 && o->timeout <= PUSH_MAX_TIMEOUT))
		return perr_set(e, PERR_INVALID, "timeout %g s is out of range: "
		    "use more than 0 and at most %g s", o->timeout,
		    PUSH_MAX_TIMEOUT);
	if (retries > PUSH_MAX_RETRIES)
		return perr_set(e, PERR_INVALID, "%u retries are too many: use "
		    "0 to %d", retries, PUSH_MAX_RETRIES);
	if (o->key != NULL && o->cert == NULL)
		return perr_set(e, PERR_INVALID, "a client key is given without "
		    "its certificate: add --cert FILE");
	if ((rc = secret_check_file(o->cacert, "CA file", e)) != 0 ||
	    (rc = secret_check_file(o->cert, "client certificate", e)) != 0 ||
	    (rc = secret_check_file(o->key, "client key", e)) != 0)
		return rc;
	return 0;
}

static size_t
on_response(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct buf *b = ctx;
	size_t len = size * nmemb, keep = len;

	/* Keep the start of the body for the message, read all of it. */
	if (keep > b->max - b->len)
		keep = b->max - b->len;
	if (keep > 0)
		(void)buf_add(b, data, keep);
	return len;
}

/* What stays the same for every request of this handle. */
static bool
setup(struct transfer *t, const struct transfer_options *o)
{
	/* ceil without libm (promrun-record links none): timeout is checked
	   to lie in (0, PUSH_MAX_TIMEOUT], so the product fits a long. */
	double want = o->timeout * 1000;
	long ms = (long)want + ((double)(long)want < want);
	bool ok;

	ok = SETOPT(t, CURLOPT_NOSIGNAL, 1L) &&
	    SETOPT(t, CURLOPT_ERRORBUFFER, t->errbuf) &&
	    SETOPT(t, CURLOPT_WRITEFUNCTION, on_response) &&
	    SETOPT(t, CURLOPT_WRITEDATA, &t->response) &&
	    SETOPT(t, CURLOPT_USERAGENT, o->agent) &&
	    SETOPT(t, CURLOPT_FOLLOWLOCATION, 0L) &&
	    SETOPT(t, CURLOPT_PROTOCOLS_STR, "http,https") &&
	    SETOPT(t, CURLOPT_TIMEOUT_MS, ms) &&
	    SETOPT(t, CURLOPT_CONNECTTIMEOUT_MS, ms);
	if (ok && o->cacert != NULL)
		ok = SETOPT(t, CURLOPT_CAINFO, o->cacert);
	if (ok && o->cert != NULL)
		ok = SETOPT(t, CURLOPT_SSLCERT, o->cert);
	if (ok && o->key != NULL)
		ok = SETOPT(t, CURLOPT_SSLKEY, o->key);
	if (ok && o->insecure)
		ok = SETOPT(t, CURLOPT_SSL_VERIFYPEER, 0L) &&
		    SETOPT(t, CURLOPT_SSL_VERIFYHOST, 0L);
	return ok;
}

int
transfer_open(struct transfer *t, const struct curlapi *api,
    const struct transfer_options *o, struct perr *e)
{
	memset(t, 0, sizeof(*t));
	t->api = api;
	t->log = o->log;
	t->log_ctx = o->log_ctx;
	buf_init(&t->response, PUSH_RESPONSE_MAX);
	buf_init(&t->line, 64 << 10);
	t->rng = (uint64_t)(clock_monotonic() * 1e9) ^
	    ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
	if (api->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return perr_set(e, PERR_IO, "cannot start libcurl");
	t->started = true;
	if ((t->curl = api->easy_init()) == NULL || !setup(t, o))
		return perr_set(e, PERR_IO, "cannot set up libcurl");
	return 0;
}

bool
transfer_add_header(struct transfer *t, const char *h)
{
	struct curl_slist *grown = t->api->slist_append(t->headers, h);

	if (grown == NULL)
		return false;
	t->headers = grown;
	return true;
}

void
transfer_close(struct transfer *t)
{
	if (t->api == NULL)
		return;
	if (t->headers != NULL)
		t->api->slist_free_all(t->headers);
	if (t->curl != NULL)
		t->api->easy_cleanup(t->curl);
	if (t->started)
		t->api->global_cleanup();
	buf_free(&t->response);
	buf_free(&t->line);
	memset(t, 0, sizeof(*t));
}

int
transfer_url_check(struct transfer *t, const char *url,
    const struct transfer_url *how, char **base, struct perr *e)
{
	const struct curlapi *api = t->api;
	char q[PERR_QUOTE_MAX], *scheme = NULL, *part = NULL, *norm = NULL;
	CURLU *u = api->url();
	int rc = 0;

	*base = NULL;
	if (u == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	if (api->url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    api->url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		rc = strchr(url, '@') != NULL ? perr_set(e, PERR_INVALID,
		    "invalid %s URL: use http://HOST:PORT%s or "
		    "https://HOST:PORT%s", how->peer, how->path, how->path) :
		    perr_set(e, PERR_INVALID, "invalid %s URL %s: use "
		    "http://HOST:PORT%s or https://HOST:PORT%s", how->peer,
		    perr_quote(url, q), how->path, how->path);
	} else if (api->url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    api->url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
		rc = perr_set(e, PERR_INVALID, "the %s URL holds credentials, "
		    "which would show in ps and in messages: %s", how->peer,
		    how->hint);
	} else if (api->url_get(u, CURLUPART_FRAGMENT, &part, 0) ==
	    CURLUE_OK || (!how->query && api->url_get(u, CURLUPART_QUERY,
	    &part, 0) == CURLUE_OK)) {
		rc = perr_set(e, PERR_INVALID, "%s URL %s has a %s: give only "
		    "http(s)://HOST:PORT[/PATH]", how->peer, perr_quote(url, q),
		    how->query ? "fragment" : "query or fragment");
	} else if (api->url_get(u, CURLUPART_URL, &norm, 0) != CURLUE_OK ||
	    (*base = strdup(norm)) == NULL) {
		rc = perr_set(e, PERR_NOMEM, "out of memory");
	}
	api->free(part);
	api->free(scheme);
	api->free(norm);
	api->url_cleanup(u);
	return rc;
}

/* A uniform draw in [0, 1) for the jitter (xorshift64*). */
static double
draw(struct transfer *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return (double)((t->rng * 0x2545f4914f6cdd1dull) >> 11) /
	    9007199254740992.0;
}

static void
pause_for(double seconds)
{
	struct timespec ts;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

const char *
transfer_reason(const struct transfer *t, const struct transfer_result *r)
{
	return t->errbuf[0] != '\0' ? t->errbuf :
	    t->api->easy_strerror(r->cc);
}

static void
attempt(struct transfer *t, struct transfer_result *r)
{
	double t0 = clock_monotonic(), ms;

	buf_reset(&t->response);
	t->errbuf[0] = '\0';
	r->status = 0;
	r->attempts++;
	r->cc = t->api->easy_perform(t->curl);
	if (r->cc == CURLE_OK)
		t->api->easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE,
		    &r->status);
	ms = (clock_monotonic() - t0) * 1000;
	if (r->cc == CURLE_OK)
		transfer_note(t, "attempt %u: HTTP %ld in %.1f ms", r->attempts,
		    r->status, ms);
	else
		transfer_note(t, "attempt %u: %s (%.1f ms)", r->attempts,
		    transfer_reason(t, r), ms);
}

/* The wait before the next attempt: backoff, or a longer Retry-After. */
static double
next_wait(struct transfer *t, unsigned retry)
{
	double wait = push_backoff(retry, draw(t));
	curl_off_t after = 0;

	if (t->api->easy_getinfo(t->curl, CURLINFO_RETRY_AFTER, &after) ==
	    CURLE_OK && (double)after > wait)
		wait = (double)after < PUSH_BACKOFF_CAP ? (double)after :
		    PUSH_BACKOFF_CAP;
	return wait;
}

void
transfer_perform(struct transfer *t, unsigned retries,
    transfer_retryable_fn retryable, struct transfer_result *r)
{
	double wait;

	memset(r, 0, sizeof(*r));
	for (;;) {
		attempt(t, r);
		if (!(r->cc != CURLE_OK ? retryable_curl(r->cc) :
		    retryable(r->status)) || r->attempts > retries)
			return;
		wait = next_wait(t, r->attempts - 1);
		transfer_note(t, "retry %u of %u in %.2f s", r->attempts,
		    retries, wait);
		pause_for(wait);
	}
}
