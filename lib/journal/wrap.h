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

#include "common/err.h"

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

#endif
