/*
 * record.h - what promrun-record does, apart from parsing its options:
 * turn the textual arguments into a validated run and append it.
 */
#ifndef PROMRUN_RECORD_H
#define PROMRUN_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "journal/journal.h"
#include "journal/run.h"

#define RECORD_RUN_ID_LEN 16	/* hex digits in a generated run id */

/*
 * How messages name the inputs: promrun-record's options, or a front end's
 * own fields (the receiver's JSON).  Each is a phrase put into a message.
 */
struct record_names {
	const char *workflow;		/* "-w NAME" */
	const char *outcome;		/* "-s STATUS or -e EXIT_CODE" */
	const char *run_id;		/* "--run-id ID" */
	const char *start;		/* "--start" */
	const char *finish;		/* "--finish" */
	const char *start_extras;	/* "-s, -e, -d or --started" */
	const char *both_durations;	/* "give -d or --started, not both" */
	const char *time;		/* "--time" */
	const char *started;		/* "--started" */
	const char *duration;		/* "duration" */
};

/* promrun-record's options, the names used when record_args.names is NULL. */
extern const struct record_names record_option_names;

/* The options as typed; NULL when not given. */
struct record_args {
	enum run_event event;
	const char *workflow;
	const char *step;
	const char *run_id;
	const char *status;	/* -s */
	const char *exit_code;	/* -e */
	const char *duration;	/* -d */
	const char *time;	/* --time; default: now */
	const char *started;	/* --started: duration = time - started */
	char **labels;		/* "NAME=VALUE" each; the '=' becomes a NUL */
	size_t nlabels;
	const struct record_names *names; /* NULL: record_option_names */
	bool plain_text;	/* refuse control characters (U+0000-U+001F,
				   U+007F) in the workflow, step, run id and
				   label values: the receiver's rule for text
				   that comes over the network */
	const char *failed;	/* set by record_build on an error: which
				   input was refused ("workflow", "event",
				   "status", "exit_code", "duration", "time",
				   "started", "run_id", "step", "labels"), or
				   NULL when the run as a whole was */
};

/*
 * record_build: check the arguments and fill r (whose strings then point
 * into a).  --started T gives the duration as the end time minus T (not
 * with -d; an end before T is refused).  Status comes from -s or is
 * derived from -e (run.h's mapping,
 * keeping the exit code); with both, -s decides the status and the exit
 * code is kept (systemd's "timeout" with EXIT_STATUS=TERM, say).  Labels must pass
 * j's allow-list.  Returns 0, or PERR_INVALID/PERR_LIMIT naming the
 * offending option (a->names) and value, with a->failed set; nothing is
 * written.  promrun-record and the receiver both build runs here, so a run
 * is refused for the same reasons whichever way it comes.
 */
int record_build(struct run *r, struct record_args *a,
    const struct journal_settings *j, struct perr *e);

/*
 * record_append: encode r and append it to j's journal with j's fsync
 * policy.  Returns 0, PERR_LIMIT for a record over the journal's bound,
 * PERR_IO naming the journal and the reason.
 */
int record_append(const struct run *r, const struct journal_settings *j,
    struct perr *e);

/* Storage for what record_use_systemd derives. */
struct record_systemd {
	char exit_code[8];
};

/*
 * record_use_systemd: take what systemd gives a unit's ExecStartPre= and
 * ExecStopPost= commands.  The run id comes from $INVOCATION_ID unless
 * --run-id was given.  For a finish without -s or -e, the outcome comes
 * from $SERVICE_RESULT, $EXIT_CODE and $EXIT_STATUS:
 *   success      success (cancelled when the main process was killed by
 *                systemd's stop: EXIT_CODE=killed)
 *   exit-code    from the exit status, as -e: 0 success, 124 timeout,
 *                130/143 cancelled, else failure
 *   signal, core-dump   exit code 128+signal; INT, TERM and HUP are
 *                cancelled, other signals failure
 *   timeout      timeout
 *   anything else (watchdog, oom-kill, resources, start-limit-hit, ...)
 *                failure
 * The exit code is kept when $EXIT_STATUS gives one.  Returns 0, or
 * PERR_INVALID naming the variable that is missing or not understood.
 */
int record_use_systemd(struct record_args *a, struct record_systemd *store,
    struct perr *e);

/*
 * record_finish_of: the finish event of a wrapped run whose start is start:
 * the same workflow, step, run id and labels, ended at end_time after
 * duration seconds with exit status status (0..255), the status derived as
 * for -e.  finish's strings point where start's do.
 */
void record_finish_of(struct run *finish, const struct run *start,
    int status, double duration, double end_time);

/*
 * record_command_conflict: what may not be given with a COMMAND (wrapper
 * mode), whose end gives it: --start, --finish, -s, -e, -d, --started,
 * --time, and systemd (--systemd).  A message naming them when one was,
 * else NULL.
 */
const char *record_command_conflict(const struct record_args *a,
    bool systemd);

/*
 * record_build_start: the start of a wrapped command's run: the run id is
 * a's, or a new one (written into run_id, which must outlive start); then
 * as record_build, with the event START.
 */
int record_build_start(struct run *start, struct record_args *a,
    char run_id[RECORD_RUN_ID_LEN + 1],
    const struct journal_settings *j, struct perr *e);

/*
 * record_new_run_id: a random run id of RECORD_RUN_ID_LEN hex digits (for
 * wrapper mode without --run-id) into out.
 */
void record_new_run_id(char out[RECORD_RUN_ID_LEN + 1]);

#endif
