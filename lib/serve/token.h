/*
 * token.h - secrets read from files (write and read tokens, PRPC's
 * pre-shared key), compared in constant time, never printed.
 *
 * A token file holds the token on its first line; one trailing "\n" or
 * "\r\n" is removed.  The token is 1 to TOKEN_MAX bytes of visible ASCII
 * (0x21-0x7e), as an HTTP header carries it.  Messages name the file,
 * never its contents.
 */
#ifndef PROMRUN_TOKEN_H
#define PROMRUN_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define TOKEN_MAX 4096

struct token {
	char *value;		/* NULL: no token configured */
	size_t len;
};

/*
 * token_load: read the token in the file at path into t (replacing what it
 * held only on success).  what names the setting in messages
 * ("[org acme] write_token_file").  Returns 0; PERR_INVALID for a file
 * that cannot be read, is empty, too long or holds other bytes; PERR_NOMEM.
 */
int token_load(const char *path, const char *what, struct token *t,
    struct perr *e);

/*
 * token_matches: given[0..len) is t's token.  The time taken depends on
 * the token's length only, not on how much of given matches.  False when t
 * holds no token.
 */
bool token_matches(const struct token *t, const char *given, size_t len);

/* token_same: a and b hold the same token (for configuration checks). */
bool token_same(const struct token *a, const struct token *b);

/* token_free: forget the token, wiping its memory first. */
void token_free(struct token *t);

#endif
