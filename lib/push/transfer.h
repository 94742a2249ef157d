/*
 * transfer.h - one HTTP request, sent again until it is answered: the
 * retry policy every client of promrun shares (promrun-push's requests to
 * the Pushgateway, promrun-record's posts to promrun-serve), on libcurl
 * through a curlapi table (linked or loaded, see curlapi.h).
 *
 * Retries: connection errors (refused, unreachable, reset, timed out, no
 * answer) and the statuses the caller's rule names (429 and 5xx for most:
 * push_retryable_http) are retried, after an exponential backoff with
 * jitter (push_backoff), or after the answer's Retry-After when that is
 * longer (up to PUSH_BACKOFF_CAP).  Anything else is final: a 2xx or 4xx
 * is the server's considered answer, a TLS verification failure is a
 * configuration error, a redirect is never followed.  Only requests that
 * are safe to repeat go through here: a Pushgateway PUT, POST or DELETE,
 * a remote-write or OTLP batch, a run with a run id (the receiver counts
 * it once).
 *
 * Nothing here prints: -v lines go to the log callback.  No line this
 * module produces holds a secret: the callers set credentials on the
 * handle themselves, and URLs with credentials are refused.
 */
#ifndef PROMRUN_TRANSFER_H
#define PROMRUN_TRANSFER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "push/curlapi.h"

#define PUSH_DEFAULT_TIMEOUT 10.0	/* seconds per attempt */
#define PUSH_DEFAULT_RETRIES 3
#define PUSH_MAX_TIMEOUT 3600.0
#define PUSH_MAX_RETRIES 10
#define PUSH_BACKOFF_BASE 0.5	/* seconds: the first retry waits 0.25-0.5 s */
#define PUSH_BACKOFF_CAP 8.0	/* seconds: no wait is longer */
#define PUSH_RESPONSE_MAX (64u << 10)	/* bytes of an answer kept */
#define PUSH_BODY_SHOWN 300	/* bytes of a refusal's body in a message */

/* A line for -v: the request, each attempt's outcome, a retry. */
typedef void (*transfer_log_fn)(void *ctx, const char *line);

/* Which HTTP statuses are worth asking again. */
typedef bool (*transfer_retryable_fn)(long status);

struct transfer_options {
	const char *agent;	/* User-Agent, "promrun-push/0.1.0" */
	double timeout;		/* seconds per attempt, connecting included,
				   (0, PUSH_MAX_TIMEOUT] */
	const char *cacert;	/* CA bundle to verify the server, or NULL */
	const char *cert;	/* client certificate (PEM), or NULL */
	const char *key;	/* its private key (PEM), or NULL */
	bool insecure;		/* do not verify the server's certificate */
	transfer_log_fn log;	/* NULL: no -v lines */
	void *log_ctx;
};

struct transfer {
	const struct curlapi *api;
	CURL *curl;		/* the handle; callers set the request on it */
	struct curl_slist *headers;	/* transfer_add_header's, for requests
				   with a body */
	struct buf response;	/* the start of the last answer's body */
	char errbuf[CURL_ERROR_SIZE];
	uint64_t rng;		/* the jitter's state */
	bool started;		/* libcurl's global init was done */
	transfer_log_fn log;
	void *log_ctx;
	struct buf line;
};

/* How a request ended, after its last attempt. */
struct transfer_result {
	CURLcode cc;		/* CURLE_OK when an answer came */
	long status;		/* its HTTP status; 0 without one */
	unsigned attempts;
};

/*
 * transfer_check: o's values, before anything is set up: a timeout in
 * range, a key only with its certificate, CA, certificate and key files
 * readable and not directories (secret_check_file); retries at most
 * PUSH_MAX_RETRIES.  Returns 0 or PERR_INVALID naming the value.
 */
int transfer_check(const struct transfer_options *o, unsigned retries,
    struct perr *e);

/*
 * transfer_open: start libcurl through api and make a handle with what
 * every request shares: o's timeout (per attempt and for connecting), TLS
 * files, agent, no redirects, http and https only, no signals.  Returns 0;
 * PERR_IO when libcurl cannot start.  Call transfer_close in every case.
 */
int transfer_open(struct transfer *t, const struct curlapi *api,
    const struct transfer_options *o, struct perr *e);

/*
 * transfer_add_header: add "Name: value" to t->headers, which the caller
 * sets on the requests that carry a body (CURLOPT_HTTPHEADER).  Returns
 * false when out of memory.
 */
bool transfer_add_header(struct transfer *t, const char *h);

/* transfer_close: release t's handle (t may be zeroed or half open). */
void transfer_close(struct transfer *t);

/* What a URL may be, and how messages name it. */
struct transfer_url {
	const char *peer;	/* "gateway": messages say "gateway URL" */
	const char *path;	/* the usual path, shown in the example
				   ("/api/v1/write"), or "" */
	const char *hint;	/* what to use instead of credentials in it */
	bool query;		/* a query is allowed */
};

/*
 * transfer_url_check: check url and copy it, normalized, to *base
 * (malloc'd).  Refused with PERR_INVALID: not http:// or https://; user
 * credentials in it (they would show in ps and in messages: the message
 * gives how's hint instead, and never repeats such a URL); a fragment, or
 * a query unless how allows one.  PERR_NOMEM.
 */
int transfer_url_check(struct transfer *t, const char *url,
    const struct transfer_url *how, char **base, struct perr *e);

/*
 * transfer_perform: send the request set on t->curl, and again after a
 * backoff while the outcome is worth retrying (no answer, or a status
 * retryable says so), at most retries more times (<= PUSH_MAX_RETRIES).
 * Each attempt is a -v line.  t->response holds the start of the last
 * answer's body.
 */
void transfer_perform(struct transfer *t, unsigned retries,
    transfer_retryable_fn retryable, struct transfer_result *r);

/* transfer_reason: libcurl's reason for a result without an answer. */
const char *transfer_reason(const struct transfer *t,
    const struct transfer_result *r);

/*
 * transfer_answer_line: the last answer's body as push_body_line writes
 * it (PUSH_BODY_SHOWN bytes at most), or "(no reason given)", appended to
 * out.  buf.h's errors.
 */
int transfer_answer_line(const struct transfer *t, struct buf *out);

/* transfer_note: a -v line through the log callback, when set. */
void transfer_note(struct transfer *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void transfer_vnote(struct transfer *t, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* --- exposed for tests --- */

/*
 * push_backoff: seconds to wait before retry number attempt (0 for the
 * first retry): d = min(PUSH_BACKOFF_CAP, PUSH_BACKOFF_BASE * 2^attempt),
 * then d/2 + u*d/2 for a uniform draw u in [0, 1) ("equal jitter": retries
 * from many runners spread out, yet each still waits at least half).
 */
double push_backoff(unsigned attempt, double u);

/*
 * push_retryable_http: HTTP 429 and 5xx, the statuses worth asking again
 * of the Pushgateway, a remote-write receiver and promrun-serve.
 */
bool push_retryable_http(long status);

/*
 * push_body_line: append at most max bytes of a response body to out as
 * one line: control bytes (newlines included) become spaces, surrounding
 * blanks are trimmed, and "..." marks a cut, made on a UTF-8 character
 * boundary.  buf.h's errors.
 */
int push_body_line(struct buf *out, const char *body, size_t len,
    size_t max);

#endif
