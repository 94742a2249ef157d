/* secret.c - secrets from files and the environment (see secret.h). */
#define _DEFAULT_SOURCE		/* explicit_bzero */
#define _POSIX_C_SOURCE 200809L
#include "push/secret.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
secret_read_file(const char *file, const char *what, char **out,
    struct perr *e)
{
	char tmp[SECRET_MAX + 2];
	size_t len = 0;
	ssize_t n;
	int fd, rc = 0;

	if ((fd = fs_open(file, O_RDONLY | O_CLOEXEC, 0)) < 0) {
		perr_sys(e, errno, "cannot read %s file %s", what, file);
		/* A file the user named cannot be used: their input, exit 2. */
		if (e != NULL)
			e->code = PERR_INVALID;
		return PERR_INVALID;
	}
	while (len < sizeof(tmp) - 1 &&
	    (n = fs_read(fd, tmp + len, sizeof(tmp) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	tmp[len] = '\0';
	if (len > 0 && tmp[len - 1] == '\n')
		tmp[--len] = '\0';
	if (len > 0 && tmp[len - 1] == '\r')
		tmp[--len] = '\0';
	if (len > SECRET_MAX)
		rc = perr_set(e, PERR_INVALID, "%s file %s is longer than %d "
		    "bytes", what, file, SECRET_MAX);
	else if (len == 0)
		rc = perr_set(e, PERR_INVALID, "%s file %s is empty", what,
		    file);
	else if (strlen(tmp) != len || strpbrk(tmp, "\r\n") != NULL)
		rc = perr_set(e, PERR_INVALID, "%s file %s holds more than one "
		    "line: put only the %s in it", what, file, what);
	else if ((*out = strdup(tmp)) == NULL)
		rc = perr_set(e, PERR_NOMEM, "out of memory");
	explicit_bzero(tmp, sizeof(tmp));
	return rc;
}

int
secret_from_env(const char *var, char **out, struct perr *e)
{
	const char *v = getenv(var);

	if (v == NULL || strlen(v) > SECRET_MAX || strpbrk(v, "\r\n") != NULL)
		return perr_set(e, PERR_INVALID, "%s must be one line of at "
		    "most %d bytes", var, SECRET_MAX);
	if ((*out = strdup(v)) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	return 0;
}

bool
secret_env_set(const char *var)
{
	const char *v = getenv(var);

	return v != NULL && v[0] != '\0';
}

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
