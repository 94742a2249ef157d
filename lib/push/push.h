/*
 * push.h - a Prometheus Pushgateway client on libcurl: the validation of
 * what is pushed, and requests that are safe to retry and never leak a
 * secret.
 *
 * A push is three steps, each its own call so a program can do them in
 * order and stop at the first problem:
 *
 *   1. the group: job plus grouping labels (grouping.h);
 *   2. the body: files read and validated before anything is sent
 *      (push_load): the exposition-format checks of expfmt.h with
 *      timestamps refused, families the gateway owns refused, labels
 *      that the grouping key would silently overwrite refused, and inputs
 *      without a sample refused unless asked for;
 *   3. the request (push_client_new, push_send): PUT replaces the group,
 *      POST replaces the families pushed, DELETE removes the group.  All
 *      three are idempotent on the gateway, so a request that may or may not
 *      have arrived is simply sent again.
 *
 * Retries: transfer.h's, which promrun-record's client shares: connection
 * errors and HTTP 5xx and 429 (for OTLP 429, 502, 503 and 504) are retried
 * at most `retries` times after a jittered backoff or a longer
 * Retry-After; anything else is final (a 4xx is the gateway's considered
 * answer, a redirect is never followed).
 *
 * Secrets: the password and bearer token come only from a file or the
 * environment (PROMRUN_PUSH_PASSWORD, PROMRUN_PUSH_TOKEN; secret.h), never
 * from the URL.  No message and no log line this module produces contains them, and
 * its copies are cleared before they are freed.
 *
 * Nothing here prints: -v lines go to the log callback of push_options.
 */
#ifndef PROMRUN_PUSH_H
#define PROMRUN_PUSH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "journal/run.h"
#include "metrics/expfmt.h"
#include "push/grouping.h"
#include "push/transfer.h"

#define PUSH_DEFAULT_URL "http://localhost:9091"
#define PUSH_DEFAULT_JOB "promrun"
#define PUSH_MAX_INPUT (64u << 20)	/* bytes of one group's body */
#define PUSH_DIR_LABEL RUN_DIR_LABEL	/* --dir's grouping label, "textfile",
					   a name promrun-record refuses */

enum push_method {
	PUSH_PUT = 0,		/* replace the group (the default) */
	PUSH_POST,		/* replace only the families pushed */
	PUSH_DELETE,		/* remove the group; no body */
};

/* push_method_name: "PUT", "POST" or "DELETE". */
const char *push_method_name(enum push_method m);

/*
 * What the client speaks.  The Pushgateway's URL is a base under which
 * push_send builds the group's path; the others are a full endpoint that
 * push_post sends to as given.
 */
enum push_protocol {
	PUSH_GATEWAY = 0,	/* PUT/POST/DELETE to /metrics/job/...: 200, 202 */
	PUSH_REMOTE_WRITE,	/* snappy protobuf POST: any 2xx; 5xx, 429 retried */
	PUSH_OTLP,		/* protobuf or JSON POST: any 2xx; 429, 502,
				   503, 504 retried */
};

/*
 * push_protocol_parse: "gateway", "remote-write" or "otlp" into *p, else
 * PERR_INVALID naming name.
 */
int push_protocol_parse(const char *name, enum push_protocol *p,
    struct perr *e);

/* --- 2. the body --- */

/*
 * Flags of push_load, push_validate and push_dir_load.  PUSH_ALLOW_EMPTY
 * accepts an input without a single sample: zero bytes, blank lines,
 * comments, HELP and TYPE lines only (the gateway drops families without
 * samples, so all of these empty a group on PUT).  Without it such an input
 * is refused, so that a failed producer upstream of a pipe (promrun-render
 * -o - | promrun-push -) cannot wipe the group.
 */
#define PUSH_ALLOW_EMPTY 1u

/*
 * push_load: read each of the n paths ("-" is standard input) and append
 * them, in order, to body, which the caller initialised (buf_init, max
 * PUSH_MAX_INPUT) and frees.  Each file is validated on its own, with
 * "FILE:LINE: " and the offending text in the message: everything
 * expfmt_parse refuses, timestamps included; families the gateway owns
 * (push_time_seconds, push_failure_time_seconds, go_*, process_*,
 * pushgateway_*); a label the grouping key g also sets, with a different
 * non-empty value (the gateway would overwrite it; an empty value is no
 * label and never conflicts); without PUSH_ALLOW_EMPTY in flags, a file
 * without samples; and, across files, a family given in two files.
 * Several files are then validated together.  Returns 0; PERR_INVALID;
 * PERR_LIMIT past PUSH_MAX_INPUT in all; PERR_IO naming a file that cannot
 * be read; PERR_NOMEM.  After an error body holds part of the input and
 * must not be sent.
 */
int push_load(char *const *paths, size_t n, const struct push_group *g,
    unsigned flags, struct buf *body, struct perr *e);

/*
 * push_load_for: push_load for protocol p: the families the gateway owns
 * are refused only for PUSH_GATEWAY.
 */
int push_load_for(enum push_protocol p, char *const *paths, size_t n,
    const struct push_group *g, unsigned flags, struct buf *body,
    struct perr *e);

/*
 * push_load_with: push_load_for, and one parse that both checks the text
 * and hands it to also: the last parse (of the one input, or of the
 * inputs combined when n > 1) calls also's family and sample callbacks
 * for each family and sample that passed the checks, as expfmt_parse
 * does.  That parse is done in place: body then holds the parsed text
 * (tokens NUL-terminated and unescaped where they lie, expfmt.h), which
 * the pointers passed to also point into; it is no longer the input and
 * must not be sent.  A non-zero return of also stops the load and is
 * returned.  also may be NULL: push_load_for.
 */
int push_load_with(enum push_protocol p, char *const *paths, size_t n,
    const struct push_group *g, unsigned flags,
    const struct expfmt_handler *also, struct buf *body, struct perr *e);

/*
 * push_validate: the checks of push_load on len bytes of text, named what
 * in messages.  text is not modified.
 */
int push_validate(const char *text, size_t len, const char *what,
    const struct push_group *g, unsigned flags, struct perr *e);

/* One textfile of a --dir directory, ready to send. */
struct push_textfile {
	char *path;			/* "dir/name" */
	struct push_group group;	/* the caller's, plus textfile="name" */
	struct buf body;		/* validated content; empty for DELETE */
};

/*
 * push_dir_load: the regular files in dir whose names end in ".prom" and do
 * not start with '.', sorted by name (byte order), each with its group (g
 * plus PUSH_DIR_LABEL set to the file's name) and, when with_bodies, its
 * content read and validated as push_load does with flags (each file is
 * one input: without PUSH_ALLOW_EMPTY, one without samples is refused).
 * Every file is done before this returns, so nothing need be sent when one
 * is invalid.  *out is a malloc'd array of *n, freed with push_dir_free,
 * also after an error.  Errors: a directory that cannot be read, or a
 * *.prom entry in it that cannot be examined, is PERR_IO with the system's
 * reason; a readable directory without such files PERR_INVALID;
 * push_group_add's (a -g with the same label name) and push_load's.
 */
int push_dir_load(const char *dir, const struct push_group *g,
    bool with_bodies, unsigned flags, struct push_textfile **out, size_t *n,
    struct perr *e);

/* push_dir_load_for: push_dir_load, validating as push_load_for does. */
int push_dir_load_for(enum push_protocol p, const char *dir,
    const struct push_group *g, bool with_bodies, unsigned flags,
    struct push_textfile **out, size_t *n, struct perr *e);

/* push_dir_free: release what push_dir_load returned. */
void push_dir_free(struct push_textfile *t, size_t n);

/* --- 3. the request --- */

/* A line for -v: the request line, the status, a retry.  Never a secret. */
typedef transfer_log_fn push_log_fn;


struct push_options {
	const char *url;	/* the gateway's base URL; NULL: PUSH_DEFAULT_URL */
	enum push_method method;
	const char *user;	/* basic auth user name, or NULL */
	const char *password_file;	/* NULL: PROMRUN_PUSH_PASSWORD */
	const char *bearer_token_file;	/* NULL: PROMRUN_PUSH_TOKEN, if set */
	const char *cacert;	/* CA bundle to verify the gateway, or NULL */
	const char *cert;	/* client certificate (PEM), or NULL */
	const char *key;	/* its private key (PEM), or NULL */
	bool insecure;		/* do not verify the gateway's certificate */
	double timeout;		/* seconds per attempt, (0, PUSH_MAX_TIMEOUT] */
	unsigned retries;	/* attempts after the first, <= PUSH_MAX_RETRIES */
	bool gzip;		/* send the body gzip-compressed */
	push_log_fn log;	/* NULL: no -v lines */
	void *log_ctx;
	enum push_protocol protocol;	/* default PUSH_GATEWAY */
	const char *tenant;	/* X-Scope-OrgID (Mimir, Cortex), or NULL */
	bool json;		/* OTLP: application/json, not protobuf */
};

/* push_options_init: the defaults (PUT, 10 s, 3 retries, no auth). */
void push_options_init(struct push_options *o);

struct push_client;

/*
 * push_client_new: check o and prepare a client.  Refused with
 * PERR_INVALID: a URL that is not http:// or https://, that carries user
 * credentials, a query or a fragment, or that already names /metrics/...;
 * --user without a password; a password without --user; both basic auth
 * and a bearer token; a secret file that cannot be opened, is a directory,
 * is empty, or has more than one line (the message names the file, never
 * its content; a FIFO such as <(cmd) is fine); --key without --cert; a CA,
 * certificate or key file that cannot be read or is a directory; a timeout or retry count out of range; a tenant outside
 * [A-Za-z0-9!_.*'()-], longer than PUSH_MAX_TENANT, "." or "..";
 * --gzip for remote write (always snappy); a URL with a fragment.  For the
 * Pushgateway also a URL with a query or one under /metrics/.  PERR_IO when a
 * secret file fails while being read or libcurl cannot start; PERR_NOMEM.  On success *out is the client, to be
 * freed with push_client_free.
 */
int push_client_new(struct push_client **out, const struct push_options *o,
    struct perr *e);

/*
 * push_client_new in two halves, so that the caller can read its input
 * while the client is made: push_client_begin checks o's values (timeout,
 * retries, method, tenant, --gzip, the TLS files) and returns their
 * errors at once; the rest (libcurl loaded, and libsnappy for remote
 * write and OTLP, with dlopen; the handle set up; the URL and the credentials
 * checked) is done by a thread, or before it returns where none can be
 * started.  push_client_end waits for that, and returns its error (in e)
 * when it failed, else rc: the outcome of the caller's work meanwhile,
 * whose message e holds already.  So a problem with the client is the one
 * reported, as when the client was made first.  Call push_client_end
 * before anything that reads c's fields; push_send, push_post and
 * push_log call it themselves, and push_client_free waits for the thread.
 * On success of push_client_begin, *out is to be freed with
 * push_client_free (also when push_client_end fails).
 */
int push_client_begin(struct push_client **out, const struct push_options *o,
    struct perr *e);
int push_client_end(struct push_client *c, int rc, struct perr *e);

/*
 * push_client_go: for remote write and OTLP, the thread push_client_begin
 * started waits for this (or push_client_end) before it loads anything:
 * while dlopen loads, glibc lets no other thread start, and the endpoint
 * starts its own first (the state read ahead).  For the Pushgateway it
 * starts at once.  Safe to call more than once, and on any client.
 */
void push_client_go(struct push_client *c);

/*
 * push_send: send body[0..len) (ignored for DELETE) to group g, retrying as
 * described above; one connection is reused across calls.  Returns 0 when
 * the gateway answered 200 or 202; PERR_IO when it could not be reached
 * (the message names the URL, the attempts and libcurl's reason);
 * PERR_FAILED when it refused: HTTP status and the start of its body, on
 * one line, or a redirect that was not followed; PERR_NOMEM.
 */
int push_send(struct push_client *c, const struct push_group *g,
    const char *body, size_t len, struct perr *e);

/*
 * push_post: POST body[0..len) to the endpoint of a remote-write or OTLP
 * client, with its protocol's headers, retrying as push_send does but only
 * on the protocol's retryable statuses.  what names the request in
 * messages ("request 1 of 2 (5000 series)").  Returns 0 on any 2xx (the
 * answer's body is then push_response's); PERR_IO when unreachable;
 * PERR_FAILED when refused, with the status and the start of the body.
 */
int push_post(struct push_client *c, const char *what, const char *body,
    size_t len, struct perr *e);

/*
 * push_response: the body of the last answer (at most 64 KiB of it), and
 * its length in *len.  Valid until the next request.
 */
const char *push_response(const struct push_client *c, size_t *len);

/* push_log: a -v line through o.log, when set.  Never pass a secret. */
void push_log(struct push_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* push_client_free: release c (NULL is fine) and clear its secrets. */
void push_client_free(struct push_client *c);

/* --- exposed for tests --- */

/*
 * push_retryable_status: the statuses worth asking again: 429 and 5xx,
 * and for OTLP only 429, 502, 503 and 504 (its specification's list).
 */
bool push_retryable_status(enum push_protocol p, long status);

#endif
