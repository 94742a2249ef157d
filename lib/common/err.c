/* err.c - error codes and their one-line messages (see err.h). */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vformat(struct perr *e, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
vformat(struct perr *e, const char *fmt, va_list ap)
{
	int n;

	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	if (n < 0)
		e->msg[0] = '\0';
}

int
perr_set(struct perr *e, enum perr_code code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	e->sys_errno = 0;
	va_start(ap, fmt);
	vformat(e, fmt, ap);
	va_end(ap);
	return code;
}

int
perr_sys(struct perr *e, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (e == NULL)
		return PERR_IO;
	e->code = PERR_IO;
	va_start(ap, fmt);
	vformat(e, fmt, ap);
	va_end(ap);
	e->sys_errno = errnum;
	len = strlen(e->msg);
	snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", strerror(errnum));
	return PERR_IO;
}

const char *
perr_quote(const char *s, char out[PERR_QUOTE_MAX])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	unsigned char c;

	out[n++] = '"';
	for (; *s != '\0'; s++) {
		if (n > PERR_QUOTE_MAX - 10) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 0xf];
		} else {
			out[n++] = (char)c;
		}
	}
	out[n++] = '"';
	out[n] = '\0';
	return out;
}

int
perr_option(struct perr *e, int opt, const char *arg)
{
	char q[PERR_QUOTE_MAX];

	return perr_set(e, PERR_INVALID, "%s %s", opt == ':' ?
	    "missing argument for option" : "unknown option",
	    perr_quote(arg, q));
}

void
perr_clear(struct perr *e)
{
	if (e == NULL)
		return;
	e->code = PERR_OK;
	e->sys_errno = 0;
	e->msg[0] = '\0';
}

const char *
perr_name(enum perr_code code)
{
	switch (code) {
	case PERR_OK:
		return "no error";
	case PERR_INVALID:
		return "invalid input";
	case PERR_IO:
		return "input/output error";
	case PERR_NOMEM:
		return "out of memory";
	case PERR_LIMIT:
		return "limit exceeded";
	case PERR_CORRUPT:
		return "damaged data";
	case PERR_FAILED:
		return "problems found";
	}
	return "unknown error";
}

int
perr_exit_status(enum perr_code code)
{
	switch (code) {
	case PERR_OK:
		return 0;
	case PERR_INVALID:
	case PERR_LIMIT:
		return 2;
	default:
		return 1;
	}
}
