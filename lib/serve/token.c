/* token.c - secrets from files, compared in constant time (see token.h). */
#define _POSIX_C_SOURCE 200809L
#include "serve/token.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Overwrite n bytes in a way the compiler may not drop. */
static void
wipe(char *p, size_t n)
{
	volatile char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

static int
check_bytes(const char *p, size_t len, const char *what, const char *path,
    struct perr *e)
{
	size_t i;

	if (len == 0)
		return perr_set(e, PERR_INVALID, "%s %s holds no token: put the "
		    "token on its first line", what, path);
	if (len > TOKEN_MAX)
		return perr_set(e, PERR_INVALID, "%s %s: the token is longer "
		    "than %d bytes", what, path, TOKEN_MAX);
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e)
			return perr_set(e, PERR_INVALID, "%s %s: the token "
			    "holds a byte that is not visible ASCII at offset "
			    "%zu: use letters, digits and punctuation", what,
			    path, i);
	return 0;
}

int
token_load(const char *path, const char *what, struct token *t,
    struct perr *e)
{
	char raw[TOKEN_MAX + 3], *copy;
	ssize_t n;
	size_t len;
	int fd, rc;

	if ((fd = fs_open(path, O_RDONLY | O_CLOEXEC, 0)) < 0) {
		rc = perr_sys(e, errno, "%s %s cannot be read", what, path);
		if (e != NULL)
			e->code = PERR_INVALID;
		return PERR_INVALID;
	}
	n = fs_read(fd, raw, sizeof(raw));
	close(fd);
	if (n < 0)
		return perr_set(e, PERR_INVALID, "%s %s cannot be read", what,
		    path);
	len = (size_t)n;
	if (memchr(raw, '\n', len) != NULL)
		len = (size_t)((char *)memchr(raw, '\n', len) - raw);
	if (len > 0 && raw[len - 1] == '\r')
		len--;
	if ((rc = check_bytes(raw, len, what, path, e)) != 0) {
		wipe(raw, sizeof(raw));
		return rc;
	}
	if ((copy = malloc(len + 1)) == NULL) {
		wipe(raw, sizeof(raw));
		return perr_set(e, PERR_NOMEM, "out of memory");
	}
	memcpy(copy, raw, len);
	copy[len] = '\0';
	wipe(raw, sizeof(raw));
	token_free(t);
	t->value = copy;
	t->len = len;
	return 0;
}

bool
token_matches(const struct token *t, const char *given, size_t len)
{
	unsigned char diff;
	size_t i;

	if (t->value == NULL)
		return false;
	diff = t->len != len;
	for (i = 0; i < t->len; i++)
		diff |= (unsigned char)(t->value[i] ^ (i < len ? given[i] : 0));
	return diff == 0;
}

bool
token_same(const struct token *a, const struct token *b)
{
	return a->value != NULL && b->value != NULL &&
	    token_matches(a, b->value, b->len);
}

void
token_free(struct token *t)
{
	if (t->value != NULL) {
		wipe(t->value, t->len);
		free(t->value);
	}
	t->value = NULL;
	t->len = 0;
}
