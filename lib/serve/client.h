/*
 * client.h - promrun-serve's client: a run posted to a receiver's
 * POST /api/v1/runs (wire.h's JSON) instead of appended to the local
 * journal, for promrun-record --server and so promrun-ci --server.
 *
 * It sits in lib/serve because it speaks the receiver's wire format
 * (wire.h, which the receiver's answers use too); the sending itself is
 * the push stage's: transfer.h's retries and backoff, secret.h's token
 * files, and libcurl loaded with dlopen on the first post (curlapi.h), so
 * a program that links this module starts as fast without --server as if
 * it did not.
 *
 * Retries are safe because a run carries a run id: the receiver counts
 * (org, workflow, step, run id, event) once, and answers a repeat 200
 * "duplicate".  The caller makes sure every posted run has one.
 *
 * The token: from token_file, else the environment variable
 * CLIENT_TOKEN_ENV; none when neither is given (a receiver without
 * [org] sections takes runs without one).  It is sent as
 * "Authorization: Bearer", never on a command line, never in a message or
 * a -v line, and cleared before it is freed.
 */
#ifndef PROMRUN_CLIENT_H
#define PROMRUN_CLIENT_H

#include <stdbool.h>

#include "common/err.h"
#include "journal/journal.h"
#include "journal/record.h"
#include "journal/run.h"
#include "push/transfer.h"

#define CLIENT_TOKEN_ENV "PROMRUN_TOKEN"

struct client_options {
	const char *server;	/* the receiver's base URL: http(s)://HOST:PORT[/PATH] */
	const char *token_file;	/* NULL: $PROMRUN_TOKEN, if set */
	double timeout;		/* seconds per attempt, (0, PUSH_MAX_TIMEOUT] */
	unsigned retries;	/* attempts after the first, <= PUSH_MAX_RETRIES */
	transfer_log_fn log;	/* NULL: no -v lines */
	void *log_ctx;
};

/* client_options_init: no server, no token file, 10 s, 3 retries. */
void client_options_init(struct client_options *o);

struct client;

/*
 * client_new: check o, load libcurl and prepare a client.  Nothing is
 * sent.  Refused with PERR_INVALID: a timeout or retry count out of range;
 * a server URL that is not http(s), holds credentials, a query or a
 * fragment, or already names WIRE_RUNS_PATH; a token file that cannot be
 * read, is empty or holds more than one line (named, never shown); a
 * $PROMRUN_TOKEN of more than one line.  PERR_IO when libcurl cannot be
 * loaded or started; PERR_NOMEM.  On success *out is the client, freed
 * with client_free.
 */
int client_new(struct client **out, const struct client_options *o,
    struct perr *e);

/*
 * client_post: post r (valid, with a run id so a retry is recognised) to
 * the receiver, retrying up to retries times (the options' count, or
 * fewer) as transfer.h says.  Returns 0 when the receiver answered 201
 * (recorded; *duplicate false) or 200 (already recorded; *duplicate
 * true; duplicate may be NULL).  Otherwise, with the receiver's one-line answer in the message:
 * PERR_INVALID when it refused the run as invalid (400, 413, 422: exit 2,
 * as a local refusal would be); PERR_FAILED for any other answer (401 or
 * 403: the token; 404: the URL; 5xx after the retries; a redirect, not
 * followed); PERR_IO when no answer came (the URL, the attempts and
 * libcurl's reason); PERR_NOMEM.
 */
int client_post(struct client *c, const struct run *r, unsigned retries,
    bool *duplicate, struct perr *e);

/* client_retries: the options' retry count. */
unsigned client_retries(const struct client *c);

/* client_free: release c (NULL is fine) and clear its token. */
void client_free(struct client *c);

/*
 * client_sink: where promrun-record sends a run: the journal, or the
 * receiver when options.server is set (the client is made on the first
 * post, so libcurl is loaded only then).
 */
struct client_sink {
	const struct journal_settings *journal;
	struct client_options options;	/* options.server NULL: the journal */
	struct client *client;
};

/*
 * client_sink_prepare: before record_build, for a receiver: a is checked
 * as the receiver checks it (plain_text: no control characters), and a
 * run event without a run id gets a new one (written into run_id, which
 * must outlive the run), so a retry of it is counted once.
 */
void client_sink_prepare(const struct client_sink *s, struct record_args *a,
    char run_id[RECORD_RUN_ID_LEN + 1]);

/*
 * client_sink_send: record_append r, or client_post it with at most
 * retries retries (UINT_MAX: the options' count).  Their errors, and
 * client_new's on the first post.
 */
int client_sink_send(struct client_sink *s, const struct run *r,
    unsigned retries, struct perr *e);

/* client_sink_free: release the client, if one was made. */
void client_sink_free(struct client_sink *s);

#endif
