/*
 * err.h - error codes and error detail shared by every lib/ module.
 *
 * The library never prints and never exits (STYLE.md, "What we take" 1).
 * A function that can fail returns 0 on success or one of the codes below,
 * and, when the caller passed a struct perr, fills it with one line that
 * names what failed, the offending value and what is accepted.  The program
 * in cmd/ prints that line after its own name and chooses the exit status
 * with perr_exit_status().
 */
#ifndef PROMRUN_ERR_H
#define PROMRUN_ERR_H

#include <stddef.h>

/* Fixed values: they may be stored or compared, never renumber them. */
enum perr_code {
	PERR_OK = 0,
	PERR_INVALID = 1,	/* bad input or usage: exit status 2 */
	PERR_IO = 2,		/* a system call failed: exit status 1 */
	PERR_NOMEM = 3,		/* out of memory: exit status 1 */
	PERR_LIMIT = 4,		/* a size or count bound was reached: exit 2 */
	PERR_CORRUPT = 5,	/* stored data is damaged: exit status 1 */
	PERR_FAILED = 6,	/* the work was done and found problems: exit 1 */
};

#define PERR_MSG_MAX 512

struct perr {
	enum perr_code code;
	int sys_errno;			/* errno behind PERR_IO, else 0 */
	char msg[PERR_MSG_MAX];		/* one line, no trailing newline */
};

/*
 * perr_set: record an error and return its code, so callers can write
 * "return perr_set(e, PERR_INVALID, "...", ...);".  e may be NULL, in which
 * case only the code is returned.  The message is truncated to fit.
 */
int perr_set(struct perr *e, enum perr_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * perr_sys: like perr_set with PERR_IO, appending ": <strerror(errnum)>"
 * and keeping errnum in e->sys_errno.
 */
int perr_sys(struct perr *e, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define PERR_QUOTE_MAX 100

/*
 * perr_quote: s in double quotes for an error message, with quotes,
 * backslashes and control bytes escaped C-style (\n, \x01) and anything past
 * about 80 bytes replaced by "...", so an offending value can neither break
 * the one-line error nor flood it.  Returns out.
 */
const char *perr_quote(const char *s, char out[PERR_QUOTE_MAX]);

/*
 * perr_option: the usage error getopt reported by returning opt: ':' is
 * "missing argument for option ARG", anything else "unknown option ARG",
 * ARG quoted.  Returns PERR_INVALID.
 */
int perr_option(struct perr *e, int opt, const char *arg);

/* perr_clear: reset e to "no error". */
void perr_clear(struct perr *e);

/* perr_name: a short fixed text for a code ("invalid input", ...). */
const char *perr_name(enum perr_code code);

/* perr_exit_status: 2 for PERR_INVALID and PERR_LIMIT, 1 for other errors, 0 for PERR_OK. */
int perr_exit_status(enum perr_code code);

#endif
