/* client.c - runs posted to promrun-serve (see client.h). */
#define _POSIX_C_SOURCE 200809L
#include "serve/client.h"
#include "serve/wire.h"
#include "push/curlapi.h"
#include "push/secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX (64u << 10)	/* the receiver's limit on a body */

struct client {
	struct transfer t;
	char *url;		/* base URL + WIRE_RUNS_PATH */
	char *token;		/* NULL: none; cleared before free */
	unsigned retries;
	struct buf body;
};

#define SETOPT(c, opt, val) \
	((c)->t.api->easy_setopt((c)->t.curl, (opt), (val)) == CURLE_OK)

void
client_options_init(struct client_options *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout = PUSH_DEFAULT_TIMEOUT;
	o->retries = PUSH_DEFAULT_RETRIES;
}

unsigned
client_retries(const struct client *c)
{
	return c->retries;
}

/* The endpoint: the base URL, which must not name it already. */
static int
runs_url(struct client *c, const char *server, struct perr *e)
{
	static const struct transfer_url how = {"server", "", "give the token "
	    "with --token-file FILE or " CLIENT_TOKEN_ENV, false};
	struct buf url = BUF_INIT(64 << 10);
	char q[PERR_QUOTE_MAX], *base = NULL;
	size_t len, plen = strlen(WIRE_RUNS_PATH);
	int rc;

	if ((rc = transfer_url_check(&c->t, server, &how, &base, e)) != 0)
		return rc;
	len = strlen(base);
	while (len > 0 && base[len - 1] == '/')
		base[--len] = '\0';
	if (len >= plen && strcmp(base + len - plen, WIRE_RUNS_PATH) == 0)
		rc = perr_set(e, PERR_INVALID, "server URL %s names the "
		    "endpoint: give the receiver's base URL, such as "
		    "http://HOST:PORT", perr_quote(server, q));
	else if (buf_adds(&url, base) != 0 ||
	    buf_adds(&url, WIRE_RUNS_PATH) != 0 ||
	    (c->url = buf_take(&url)) == NULL)
		rc = perr_set(e, PERR_NOMEM, "out of memory");
	buf_free(&url);
	free(base);
	return rc;
}

static int
load_token(struct client *c, const struct client_options *o,
    struct perr *e)
{
	if (o->token_file != NULL)
		return secret_read_file(o->token_file, "token", &c->token, e);
	if (secret_env_set(CLIENT_TOKEN_ENV))
		return secret_from_env(CLIENT_TOKEN_ENV, &c->token, e);
	return 0;
}

/* The request is the same for every post but its body. */
static bool
setup_request(struct client *c)
{
	bool ok = transfer_add_header(&c->t,
	    "Content-Type: application/json") &&
	    transfer_add_header(&c->t, "Expect:") &&
	    SETOPT(c, CURLOPT_URL, c->url) &&
	    SETOPT(c, CURLOPT_HTTPHEADER, c->t.headers) &&
	    SETOPT(c, CURLOPT_POST, 1L);

	if (ok && c->token != NULL)
		ok = SETOPT(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER) &&
		    SETOPT(c, CURLOPT_XOAUTH2_BEARER, c->token);
	return ok;
}

int
client_new(struct client **out, const struct client_options *o,
    struct perr *e)
{
	struct transfer_options to = {"promrun-record/" PROMRUN_VERSION,
	    o->timeout, NULL, NULL, NULL, false, o->log, o->log_ctx};
	const struct curlapi *api;
	struct client *c;
	int rc;

	*out = NULL;
	if ((rc = transfer_check(&to, o->retries, e)) != 0)
		return rc;
	if ((rc = curlapi_load(&api, e)) != 0)
		return rc;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	c->retries = o->retries;
	buf_init(&c->body, BODY_MAX);
	if ((rc = transfer_open(&c->t, api, &to, e)) != 0 ||
	    (rc = runs_url(c, o->server, e)) != 0 ||
	    (rc = load_token(c, o, e)) != 0)
		goto fail;
	if (!setup_request(c)) {
		rc = perr_set(e, PERR_IO, "cannot set up libcurl");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	client_free(c);
	return rc;
}

void
client_free(struct client *c)
{
	if (c == NULL)
		return;
	transfer_close(&c->t);
	secret_free(c->token);
	free(c->url);
	buf_free(&c->body);
	free(c);
}

/* The one-line error for a post that was not accepted. */
static int
refused(struct client *c, const struct transfer_result *r, struct perr *e)
{
	struct buf line = BUF_INIT(PUSH_BODY_SHOWN + 32);
	char tries[48] = "";
	int code;

	if (r->cc != CURLE_OK) {
		if (r->attempts > 1)
			snprintf(tries, sizeof(tries), " (%u attempts)",
			    r->attempts);
		return perr_set(e, PERR_IO, "cannot post the run to %s%s: %s",
		    c->url, tries, transfer_reason(&c->t, r));
	}
	if (r->attempts > 1)
		snprintf(tries, sizeof(tries), ", %u attempts", r->attempts);
	if (r->status >= 300 && r->status <= 399)
		return perr_set(e, PERR_FAILED, "%s answered with a redirect "
		    "(HTTP %ld), which is not followed: give the receiver's "
		    "own URL", c->url, r->status);
	code = r->status == 400 || r->status == 413 || r->status == 422 ?
	    PERR_INVALID : PERR_FAILED;
	(void)transfer_answer_line(&c->t, &line);
	perr_set(e, code, "%s refused the run (HTTP %ld%s): %s", c->url,
	    r->status, tries, line.len > 0 ? buf_str(&line) :
	    "(no reason given)");
	buf_free(&line);
	return code;
}

int
client_post(struct client *c, const struct run *r, unsigned retries,
    bool *duplicate, struct perr *e)
{
	struct transfer_result res;
	struct buf line = BUF_INIT(PUSH_BODY_SHOWN + 32);

	buf_reset(&c->body);
	if (wire_run_json(r, &c->body) != 0)
		return perr_set(e, PERR_LIMIT, "the run is larger than the "
		    "receiver takes (%u KiB)", BODY_MAX >> 10);
	if (!SETOPT(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body.len) ||
	    !SETOPT(c, CURLOPT_POSTFIELDS, c->body.p))
		return perr_set(e, PERR_IO, "cannot set up the request");
	transfer_note(&c->t, "POST %s: %s of %s, run id %s, %zu bytes",
	    c->url, run_event_name(r->event), r->workflow, r->run_id != NULL ?
	    r->run_id : "(none)", c->body.len);
	transfer_perform(&c->t, retries < c->retries ? retries : c->retries,
	    push_retryable_http, &res);
	if (res.cc == CURLE_OK && (res.status == 200 || res.status == 201)) {
		if (duplicate != NULL)
			*duplicate = res.status == 200;
		if (transfer_answer_line(&c->t, &line) == 0)
			transfer_note(&c->t, "answer: %s", buf_str(&line));
		buf_free(&line);
		return 0;
	}
	return refused(c, &res, e);
}

void
client_sink_prepare(const struct client_sink *s, struct record_args *a,
    char run_id[RECORD_RUN_ID_LEN + 1])
{
	if (s->options.server == NULL)
		return;
	a->plain_text = true;
	if (a->run_id == NULL && a->event == RUN_EVENT_RUN) {
		record_new_run_id(run_id);
		a->run_id = run_id;
	}
}

int
client_sink_send(struct client_sink *s, const struct run *r,
    unsigned retries, struct perr *e)
{
	int rc;

	if (s->options.server == NULL)
		return record_append(r, s->journal, e);
	if (s->client == NULL &&
	    (rc = client_new(&s->client, &s->options, e)) != 0)
		return rc;
	return client_post(s->client, r, retries, NULL, e);
}

void
client_sink_free(struct client_sink *s)
{
	client_free(s->client);
	s->client = NULL;
}
