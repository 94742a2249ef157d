/*
 * wrap.h - run a command as a child and report how it ended, for
 * promrun-record's wrapper mode.
 *
 * The child inherits stdin, stdout, stderr and the environment untouched.
 * While it runs, SIGINT, SIGTERM and SIGHUP sent to the wrapper are
 * forwarded to it; signals the kernel sends to the whole foreground process
 * group (Ctrl-C, terminal hang-up) already reach the child and are not sent
 * twice.  The duration is measured on the monotonic clock.
 */
#ifndef PROMRUN_WRAP_H
#define PROMRUN_WRAP_H

#include <stdbool.h>

#include "common/err.h"
#include "journal/run.h"

struct wrap_result {
	int status;		/* what the wrapper should exit with: the
				   child's exit code, 128+N if killed by
				   signal N, 127/126 if it could not start */
	int term_signal;	/* the signal that killed the child, or 0 */
	int spawn_errno;	/* why the command could not start, or 0 */
	double started;		/* wall-clock start, Unix seconds */
	double duration;	/* seconds from spawn to exit, monotonic */
};

/*
 * wrap_run: run argv[0] (searched in PATH) with argv and wait for it.
 * Fills *res and returns 0 once the child has ended, also when it could not
 * be started (res->spawn_errno, status 127 for a command not found, 126
 * otherwise).  Returns PERR_IO with e set only if waiting failed.
 *
 * Once the child has been started, SIGINT, SIGTERM and SIGHUP stay caught
 * after wrap_run returns (and do nothing), so a late signal cannot kill the
 * wrapper before it has recorded how the child ended; the caller is expected
 * to exit soon after.
 */
int wrap_run(char *const argv[], struct wrap_result *res, struct perr *e);

/*
 * How wrap_recorded records a wrapped run's two ends (appended to the
 * journal, or posted to a receiver): returns 0, or an error in e.
 */
typedef int (*wrap_send_fn)(void *ctx, const struct run *r, bool finish,
    struct perr *e);

/* A problem that did not stop the command: what was not recorded, why. */
typedef void (*wrap_warn_fn)(void *ctx, const char *what, const char *why);

/*
 * wrap_recorded: wrapper mode.  Send start (NULL: the run is not
 * recorded), run argv as wrap_run does, then send the finish
 * (record_finish_of: the start's fields, the command's status and
 * duration, ended now).  The finish is sent even when the start could not
 * be: it carries the duration and exit code, and a full disk may have room
 * again.  A send that fails is reported through warn ("start" or
 * "finish") and changes nothing else: monitoring never stops the command
 * it watches, nor changes its status.  Returns 0, or PERR_IO when the
 * command could not be started ("cannot run CMD: reason") or waited for;
 * res is filled in either case.
 */
int wrap_recorded(char *const argv[], const struct run *start,
    wrap_send_fn send, wrap_warn_fn warn, void *ctx,
    struct wrap_result *res, struct perr *e);

#endif
