/* secret.c - credentials from files and the environment (see secret.h). */
#define _DEFAULT_SOURCE		/* explicit_bzero */
#define _POSIX_C_SOURCE 200809L
#include "push/secret.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A file the user named cannot be used: their input is wrong, exit 2. */
static int
as_invalid(struct perr *e)
{
	if (e != NULL)
		e->code = PERR_INVALID;
	return PERR_INVALID;
}

/*
 * A directory where a file is wanted (fd open on file, or -1 to stat it):
 * say so, instead of "empty" or a TLS error later.  A FIFO or a device is
 * fine: --password-file <(pass show gw) is one.
 */
static bool
is_directory(int fd, const char *file, const char *what, struct perr *e)
{
	struct stat st;

	if ((fd >= 0 ? fstat(fd, &st) : stat(file, &st)) != 0 ||
	    !S_ISDIR(st.st_mode))
		return false;
	perr_set(e, PERR_INVALID, "%s %s is a directory: give the file itself",
	    what, file);
	return true;
}

int
secret_read_file(const char *file, const char *what, char **out,
    struct perr *e)
{
	char tmp[PUSH_MAX_SECRET + 2], label[32];
	size_t len = 0;
	ssize_t n;
	int fd, rc = 0;

	if ((fd = fs_open(file, O_RDONLY | O_CLOEXEC, 0)) < 0) {
		perr_sys(e, errno, "cannot read %s file %s", what, file);
		return as_invalid(e);
	}
	snprintf(label, sizeof(label), "%s file", what);
	if (is_directory(fd, file, label, e)) {
		close(fd);
		return PERR_INVALID;
	}
	while (len < sizeof(tmp) - 1 &&
	    (n = fs_read(fd, tmp + len, sizeof(tmp) - 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0)
		rc = perr_sys(e, errno, "cannot read %s file %s", what, file);
	close(fd);
	tmp[len] = '\0';
	if (len > 0 && tmp[len - 1] == '\n')
		tmp[--len] = '\0';
	if (len > 0 && tmp[len - 1] == '\r')
		tmp[--len] = '\0';
	if (rc != 0)
		;
	else if (len > PUSH_MAX_SECRET)
		rc = perr_set(e, PERR_INVALID, "%s file %s is longer than %d "
		    "bytes", what, file, PUSH_MAX_SECRET);
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

	if (v == NULL || strlen(v) > PUSH_MAX_SECRET ||
	    strpbrk(v, "\r\n") != NULL)
		return perr_set(e, PERR_INVALID, "%s must be one line of at "
		    "most %d bytes", var, PUSH_MAX_SECRET);
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

int
secret_check_file(const char *file, const char *what, struct perr *e)
{
	if (file == NULL)
		return 0;
	if (is_directory(-1, file, what, e))
		return PERR_INVALID;
	if (access(file, R_OK) == 0)
		return 0;
	perr_sys(e, errno, "cannot read the %s %s", what, file);
	return as_invalid(e);
}

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
