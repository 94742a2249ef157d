/*
 * run.h - the run record: one event in the life of a CI run, cron job or
 * systemd service run, its validation, and its text encoding (the payload of
 * a journal record).
 *
 * A struct run borrows its strings: they point into argv, into a decoded
 * journal buffer, or wherever the caller keeps them, and must outlive it.
 * Nothing here allocates.
 *
 * Encoded payload, one line, fields separated by single spaces:
 *
 *   EVENT time=T workflow=W [step=S] [run_id=R] [status=X] [duration=D]
 *         [exit_code=N] [label.NAME=VALUE]...
 *
 * EVENT is run, start or finish.  Values escape every byte below 0x21, 0x7f
 * and '%' as %XX, so a record never contains a space, newline or NUL inside
 * a value and stays one greppable line; UTF-8 text is kept as is.
 */
#ifndef PROMRUN_RUN_H
#define PROMRUN_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

#define RUN_MAX_LABELS 64
#define RUN_DIR_LABEL "textfile"	/* promrun-push --dir's grouping label */
#define RUN_ALLOWED_SHOWN 300	/* bytes of allow-list names in a message */

enum run_event {
	RUN_EVENT_RUN,		/* a finished run in one record (post-step hook) */
	RUN_EVENT_START,	/* a run began; its finish comes with the same run_id */
	RUN_EVENT_FINISH,	/* a run ended */
};

enum run_status {
	RUN_STATUS_NONE = 0,	/* not given (start events) */
	RUN_SUCCESS,
	RUN_FAILURE,
	RUN_CANCELLED,
	RUN_TIMEOUT,
	RUN_LOST,		/* derived by the renderer, never recorded */
};
#define RUN_STATUS_COUNT 6

struct run_label {
	const char *name;
	const char *value;
};

struct run {
	enum run_event event;
	double time;		/* Unix seconds: start time for start, end time otherwise */
	const char *workflow;	/* non-empty */
	const char *step;	/* NULL when the run is a whole workflow */
	const char *run_id;	/* NULL when not given; required for start and finish */
	enum run_status status;	/* NONE only for start */
	bool has_duration;
	double duration;	/* seconds, >= 0, when has_duration */
	int exit_code;		/* 0..255, or -1 when not given */
	size_t nlabels;
	struct run_label labels[RUN_MAX_LABELS];
};

/* run_init: an empty run of the given event with no optional fields. */
void run_init(struct run *r, enum run_event event);

/*
 * run_status_parse: map s (case-insensitive) to a status.  Accepted:
 * success, failure, cancelled, timeout and their common spellings
 * (succeeded, ok, passed; failed, error, unstable; canceled, aborted,
 * not_built; timed_out, timedout).  "lost" is refused: the renderer derives
 * it.  Returns 0, or PERR_INVALID naming s and the accepted values.
 */
int run_status_parse(const char *s, enum run_status *out, struct perr *e);

/* run_status_name: "success", "failure", ... ; "" for RUN_STATUS_NONE. */
const char *run_status_name(enum run_status s);

/*
 * run_status_from_exit: the outcome an exit status means: 0 success,
 * 124 timeout (timeout(1)), 130 and 143 cancelled (SIGINT, SIGTERM),
 * anything else failure.
 */
enum run_status run_status_from_exit(int code);

/* run_event_name: "run", "start" or "finish". */
const char *run_event_name(enum run_event ev);

/*
 * run_label_foreign: name is one that the Pushgateway and Prometheus set on
 * every series they store (job, instance) or promrun-push --dir sets as its
 * grouping label (RUN_DIR_LABEL).  A user label of that name would reach
 * every series of its families and conflict with every push's grouping
 * key, so it is refused when recorded, and dropped by the renderer from
 * records written before it was.
 */
bool run_label_foreign(const char *name);

/*
 * run_label_name_check: name is usable for a user label: it matches
 * [a-zA-Z_][a-zA-Z0-9_]*, does not start with "__", is none of the names
 * promrun uses itself (workflow, step, status, le, quantile) and is not
 * foreign (run_label_foreign).  Returns 0 or PERR_INVALID naming it.
 */
int run_label_name_check(const char *name, struct perr *e);

/*
 * run_add_label: append a user label.  Refused with PERR_INVALID: a name
 * run_label_name_check refuses, a name given twice, invalid UTF-8 in the
 * value; PERR_LIMIT past RUN_MAX_LABELS.  (run_decode accepts foreign
 * names, which older records may hold.)
 */
int run_add_label(struct run *r, const char *name, const char *value,
    struct perr *e);

/*
 * run_add_label_arg: parse "NAME=VALUE" (the -l argument) and add it as
 * run_add_label does.  The first '=' in arg is replaced by a NUL and the
 * label's name and value point into arg.  A missing '=' is PERR_INVALID.
 */
int run_add_label_arg(struct run *r, char *arg, struct perr *e);

/*
 * run_check_allowed: when allow_count > 0, every label name must be in
 * allow[]; PERR_INVALID names the first one that is not and the names
 * allowed, as many as fit in RUN_ALLOWED_SHOWN bytes and how many more.
 */
int run_check_allowed(const struct run *r, char *const *allow,
    size_t allow_count, struct perr *e);

/*
 * run_validate: the record is complete and consistent: workflow non-empty,
 * step and run_id non-empty when given, every string valid UTF-8 without
 * NUL, time within clock.h's range, duration finite and >= 0, exit code
 * 0..255, status present except on start, run_id present on start and
 * finish, no duration or status on start.  PERR_INVALID names the field.
 */
int run_validate(const struct run *r, struct perr *e);

/*
 * run_add_escaped: append s as record values are written: every byte below
 * 0x21, 0x7f and '%' as %XX.  Other record types (snapshots, checkpoints)
 * use the same escaping.  buf.h's errors.
 */
int run_add_escaped(struct buf *out, const char *s);

/*
 * run_split_type: NUL-terminate the record type word at the start of a
 * NUL-terminated payload; returns where the fields start (the cursor for
 * run_field_next), or NULL when there are none.
 */
char *run_split_type(char *payload);

/*
 * run_field_next: split the next "key=value" field off a payload in place.
 * *cursor is where the field starts, or NULL when none is left; it moves to
 * the next one.  *key and *value point into the payload, the value
 * unescaped.  Returns 1 for a field, 0 at the end, -1 for a malformed field
 * (no '=', an empty token, a bad %XX escape or an escaped NUL).
 */
int run_field_next(char **cursor, char **key, char **value);

/* run_encode: append r's payload (no newline) to out.  buf.h's errors. */
int run_encode(const struct run *r, struct buf *out);

/*
 * run_decode: parse a payload in place: payload[0..len] is modified (values
 * are unescaped and NUL-terminated where they lie, payload[len] becomes the
 * final NUL, so it must be writable) and r's strings point into it.  The result is validated as by run_validate.  Returns 0, or
 * PERR_CORRUPT for text that is not a valid record.
 */
int run_decode(char *payload, size_t len, struct run *r, struct perr *e);

#endif
