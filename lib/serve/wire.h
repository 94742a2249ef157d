/*
 * wire.h - what travels between promrun-serve and its clients, written
 * without a JSON library: a JSON string as the receiver sends it, and a
 * run as the object POST /api/v1/runs takes (ingest.h reads it back).
 *
 * promrun-record links this module but neither jansson nor libmicrohttpd:
 * writing JSON is a few escapes, reading it is jansson's job, on the
 * receiver's side only.  The receiver's answers and the client's runs are
 * written here, so both sides agree on one encoding; the unit tests read
 * every run wire_run_json writes back through ingest_runs.
 */
#ifndef PROMRUN_WIRE_H
#define PROMRUN_WIRE_H

#include "common/buf.h"
#include "journal/run.h"

#define WIRE_RUNS_PATH "/api/v1/runs"	/* where runs are posted */

/*
 * wire_json_string: s as Python's json.dumps writes a string (what
 * Flask's jsonify sends, so PRPC's answers match byte for byte): quoted,
 * '"' and '\' escaped, \b \f \n \r \t, every other byte outside
 * space..'~' as \uXXXX in lowercase hex (surrogate pairs above U+FFFF).
 * s must be valid UTF-8.  buf.h's errors.
 */
int wire_json_string(struct buf *out, const char *s);

/*
 * wire_run_json: append r as one JSON object of the fields ingest.h
 * lists: workflow, event, step, run_id, status, the time as "started" for
 * a start and "finished" otherwise (Unix seconds, as many digits as make
 * the same double), duration_seconds, exit_code and labels, each only
 * when r has it.  r must be valid (run_validate).  buf.h's errors.
 */
int wire_run_json(const struct run *r, struct buf *out);

#endif
