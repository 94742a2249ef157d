/*
 * secret.h - passwords and tokens from a file or the environment, never
 * from the command line: one line each, never repeated in a message,
 * cleared before the memory holding them is freed.
 *
 * promrun-push's password and bearer token and promrun-record's token for
 * promrun-serve are read here, so a secret file means the same everywhere.
 */
#ifndef PROMRUN_SECRET_H
#define PROMRUN_SECRET_H

#include <stdbool.h>

#include "common/err.h"

#define SECRET_MAX 4096		/* bytes of a password or token */

/*
 * secret_read_file: the one line of file (a final "\n" or "\r\n" is not
 * part of it) into *out, malloc'd, to be released with secret_free.  Read
 * into a fixed array, not a growing buffer, which would leave copies in
 * freed memory.  what names the secret in messages ("password", "token").
 * Returns 0; PERR_INVALID for a file that cannot be read, is empty, holds
 * more than one line or more than SECRET_MAX bytes (the message names the
 * file, never its content); PERR_NOMEM.
 */
int secret_read_file(const char *file, const char *what, char **out,
    struct perr *e);

/*
 * secret_from_env: the value of the environment variable var (which must
 * be set) into *out, with the rules of a file: one line, at most
 * SECRET_MAX bytes.  Returns 0, PERR_INVALID naming var, or PERR_NOMEM.
 */
int secret_from_env(const char *var, char **out, struct perr *e);

/* secret_env_set: var is set and not empty. */
bool secret_env_set(const char *var);

/* secret_free: clear and free s (NULL is fine). */
void secret_free(char *s);

#endif
