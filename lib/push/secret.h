/*
 * secret.h - credentials from files or the environment, never from the
 * command line: passwords and tokens are one line each, never repeated in
 * a message, cleared before the memory holding them is freed; TLS files
 * are checked before a request needs them.
 *
 * promrun-push's password, bearer token and TLS files and promrun-record's
 * token for promrun-serve are read here, so a secret file means the same
 * everywhere.
 */
#ifndef PROMRUN_SECRET_H
#define PROMRUN_SECRET_H

#include <stdbool.h>

#include "common/err.h"

#define PUSH_MAX_SECRET 4096	/* bytes of a password or token */

/*
 * secret_read_file: the one line of file (a final "\n" or "\r\n" is not
 * part of it) into *out, malloc'd, to be released with secret_free.  Read
 * into a fixed array, not a growing buffer, which would leave copies in
 * freed memory.  what names the secret in messages ("password", "token").
 * Returns 0; PERR_INVALID for a file that cannot be opened, is a
 * directory, is empty, holds more than one line or more than
 * PUSH_MAX_SECRET bytes (the message names the file, never its content; a
 * FIFO such as <(pass show gw) is fine); PERR_IO when reading it fails;
 * PERR_NOMEM.
 */
int secret_read_file(const char *file, const char *what, char **out,
    struct perr *e);

/*
 * secret_from_env: the value of the environment variable var (which must
 * be set) into *out, with the rules of a file: one line, at most
 * PUSH_MAX_SECRET bytes.  Returns 0, PERR_INVALID naming var, or
 * PERR_NOMEM.
 */
int secret_from_env(const char *var, char **out, struct perr *e);

/* secret_env_set: var is set and not empty. */
bool secret_env_set(const char *var);

/*
 * secret_check_file: file (a CA, certificate or key file, named what in
 * messages; NULL is fine) can be read and is not a directory.  Returns 0
 * or PERR_INVALID with the system's reason.
 */
int secret_check_file(const char *file, const char *what, struct perr *e);

/* secret_free: clear and free s (NULL is fine). */
void secret_free(char *s);

#endif
