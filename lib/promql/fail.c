/* fail.c - the first error of a parse (see fail.h). */
#include "promql/fail.h"
#include "promql/ast.h"

#include <stdarg.h>
#include <stdio.h>

void *
pq_fail_vat(struct pq_fail *f, size_t pos, const char *fmt, va_list ap)
{
	if (f->failed)
		return NULL;
	f->failed = true;
	f->code = PERR_INVALID;
	f->pos = pos;
	if (f->e != NULL) {
		f->e->code = PERR_INVALID;
		f->e->sys_errno = 0;
		vsnprintf(f->e->msg, sizeof(f->e->msg), fmt, ap);
	}
	return NULL;
}

void *
pq_fail_at(struct pq_fail *f, size_t pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pq_fail_vat(f, pos, fmt, ap);
	va_end(ap);
	return NULL;
}

void *
pq_fail_code(struct pq_fail *f, int code, const char *msg)
{
	if (!f->failed) {
		f->failed = true;
		f->code = code;
		f->pos = 0;
		perr_set(f->e, code, "%s", msg);
	}
	return NULL;
}

void *
pq_fail_depth(struct pq_fail *f, size_t pos, const char *what)
{
	if (!f->failed) {
		pq_fail_at(f, pos, "%s nests deeper than %d levels", what,
		    PQ_DEPTH_MAX);
		f->code = PERR_LIMIT;
		if (f->e != NULL)
			f->e->code = PERR_LIMIT;
	}
	return NULL;
}
