/*
 * ingest.h - the bodies runners post, parsed with jansson and turned into
 * validated runs through record_build, the path promrun-record's options
 * take.
 *
 * POST /api/v1/runs: one JSON object, or an array of 1 to
 * SERVE_BATCH_MAX objects, each a run:
 *   workflow          string, required
 *   status            string (success, failure, cancelled, timeout and
 *                     their spellings); required unless exit_code gives it
 *   event             "run" (default), "start" or "finish"
 *   run_id            string or integer; required for start and finish,
 *                     and what makes a retry recognisable
 *   started, finished RFC 3339 string, or Unix seconds (number or string);
 *                     a start's time is "started", the others' "finished"
 *                     (default: now); "started" on a run or finish gives
 *                     the duration
 *   duration_seconds  number >= 0
 *   exit_code         integer 0-255
 *   step              string
 *   labels            object of strings
 * null counts as absent.  Unknown fields, wrong types, duplicate keys and
 * control characters in text are refused.  The whole body is checked
 * before anything is stored: one bad item refuses them all, and the error
 * names its index.
 *
 * POST /metrics (PRPC): {"name": string, "success": bool}, checked with
 * PRPC's own rules and messages, in its order.
 */
#ifndef PROMRUN_INGEST_H
#define PROMRUN_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "journal/journal.h"
#include "journal/run.h"

struct ingest_rules {
	const struct journal_settings *js;	/* the label allow-list */
	const char *org;	/* set as label org on every run; NULL: none */
	double oldest;		/* a run with a run id older than this is
				   refused: its retry could not be told */
	const char *window;	/* the dedupe window as configured, for that
				   message ("24h") */
};

struct ingest_item;

struct ingest {
	struct run *runs;	/* n validated runs, in body order */
	size_t n;
	bool array;		/* the body was an array */
	/* Where the first problem lies (valid after an error): */
	long index;		/* the item, or -1 for the body as a whole */
	const char *field;	/* the JSON field, or NULL */
	/* Storage the runs' strings point into: */
	void *root;
	struct ingest_item *items;
	char *arena;
};

/*
 * ingest_runs: parse and validate body[0..len).  Returns 0 with in->runs
 * filled; PERR_INVALID or PERR_LIMIT with a one-line message ("runs[3]: "
 * in front for arrays) and in->index and in->field set; PERR_NOMEM.  Free
 * with ingest_free in every case.
 */
int ingest_runs(struct ingest *in, const char *body, size_t len,
    const struct ingest_rules *rules, struct perr *e);

void ingest_free(struct ingest *in);

/* PRPC's messages, byte for byte. */
#define PRPC_BAD_REQUEST "The browser (or proxy) sent a request that " \
	"this server could not understand."
#define PRPC_NOT_OBJECT "The input must be a JSON object"
#define PRPC_WRONG_KEYS "The input JSON object must only contain the " \
	"name and success properties"
#define PRPC_NOT_BOOL "The success value must be a boolean"
#define PRPC_NOT_STRING "The name value must be a string"
#define PRPC_NO_AUTH "The Authorization header must be provided in the " \
	"format of \"PRPC <pre-shared key>\""
#define PRPC_WRONG_KEY "The provided pre-shared key is incorrect"

/*
 * ingest_prpc: PRPC's checks on body[0..len), in its order: JSON at all,
 * an object, exactly the keys name and success, success a boolean, name a
 * string.  Returns 0 with *name (malloc'd, valid UTF-8 without NUL) and
 * *success; PERR_INVALID with PRPC's message as e->msg; PERR_NOMEM.
 */
int ingest_prpc(const char *body, size_t len, char **name, bool *success,
    struct perr *e);

#endif
