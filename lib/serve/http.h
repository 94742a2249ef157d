/*
 * http.h - the receiver's request handling, inside lib/serve: the
 * dispatcher and one function per route (routes.c), on top of the state
 * server.c keeps.  Not for use outside lib/serve.
 *
 * Routes (method mismatches are 405 with Allow, unknown paths 404):
 *   POST /api/v1/runs          runs, Bearer write token
 *   POST /metrics              PRPC's post ([serve] prpc_psk_file)
 *   GET  /metrics              the default org ([serve] preset) and the
 *                              receiver's own metrics; exactly PRPC's text
 *                              in preset prpc
 *   GET  /metrics/self         the receiver's own metrics only
 *   GET  /prom/ORG/metrics     ORG in the chainloop preset, Bearer read
 *                              token of ORG (401 missing or wrong, 403
 *                              another org's: neither tells whether ORG
 *                              exists)
 *   GET  /health/live, /health/ready
 * HEAD is answered wherever GET is.
 */
#ifndef PROMRUN_HTTP_H
#define PROMRUN_HTTP_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "serve/commit.h"
#include "serve/ingest.h"
#include "serve/wire.h"
#include "serve/listen.h"
#include "serve/org.h"
#include "serve/serve.h"
#include "serve/stats.h"

enum request_state {
	REQ_NEW,		/* headers read, nothing decided */
	REQ_GET,		/* a GET: answered on the next call, once
				   the request is whole (answering the first
				   call makes libmicrohttpd close the
				   connection) */
	REQ_BODY,		/* taking the body */
	REQ_WAITING,		/* suspended until batches are written */
	REQ_ANSWER,		/* resumed with an answer prepared */
	REQ_ANSWERED,		/* a response is queued */
};

struct request {
	struct serve *s;
	struct MHD_Connection *conn;
	enum stats_endpoint endpoint;
	const char *method;
	enum request_state state;
	bool ingest;			/* a POST to an ingest endpoint */
	bool too_big;			/* a body without a length passed the
					   limit: the rest is read and dropped
					   (libmicrohttpd answers only once the
					   upload is over) */
	double began;			/* monotonic */
	struct buf body;
	struct org *org;		/* once authenticated */
	unsigned code;			/* the status answered */
	long runs;			/* runs recorded, for the log; -1 */
	/* Waiting for the writer: */
	struct request *next_waiting;
	struct commit_batch *batch;	/* our own, while on its way */
	uint64_t wait_seq;		/* answer once this batch is done */
	uint64_t *deps;			/* batches holding our duplicates */
	size_t ndeps;
	bool failed;			/* a batch we wait for failed */
	char failure[PERR_MSG_MAX];
	size_t added_series;
	struct buf keys;		/* identities of our new runs: length
					   (size_t) then bytes, each */
	/* The answer prepared for when the batches are done: */
	unsigned answer_code;
	struct buf answer;
	const char *answer_type;
	bool prpc;
};

struct serve {
	const struct serve_config *cfg;
	struct org *orgs;		/* orgs[0] is the default */
	size_t norgs;
	bool open_writes;		/* posts need no token */
	const struct schema_preset *preset;	/* the default org's */
	struct token prpc_psk;
	int fds[LISTEN_MAX_SOCKETS];
	size_t nfds;
	struct MHD_Daemon *daemons[LISTEN_MAX_SOCKETS];
	size_t ndaemons;
	struct commit *commit;
	uint64_t done_seq;		/* every batch up to it is handed back */
	struct request *waiting;
	struct stats stats;
	bool stopping;
	int sigfd;
};

/* The access handler MHD calls (routes.c). */
enum MHD_Result http_dispatch(void *cls, struct MHD_Connection *conn,
    const char *url, const char *method, const char *version,
    const char *upload_data, size_t *upload_data_size, void **con_cls);

/* A finished batch: fold it, settle its keys, answer whoever waited. */
void http_batch_done(struct serve *s, struct commit_batch *b);

/* serve_log for a non-request event. */
void http_log(struct serve *s, const char *level, const char *org,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The request is over (MHD's notify-completed): count and log it. */
void http_completed(struct serve *s, struct request *r);

#endif
