/* finding.c - rule-file findings and their formats (see finding.h). */
#include "rules/finding.h"
#include "common/err.h"
#include "common/mem.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Room in f for more findings; 0 or PERR_NOMEM (f unchanged). */
static int
make_room(struct findings *f, size_t more)
{
	if (more > SIZE_MAX - f->n ||
	    mem_grow(&f->v, &f->cap, f->n + more, sizeof(f->v[0]), 16) != 0)
		return PERR_NOMEM;
	return 0;
}

int
findings_add(struct findings *f, unsigned line, unsigned col,
    enum finding_level level, const char *check, const char *fmt, ...)
{
	struct buf b = BUF_INIT(FINDING_MSG_MAX);
	struct finding *v;
	va_list ap;
	size_t i;
	int rc;

	va_start(ap, fmt);
	rc = buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (rc == PERR_LIMIT) {
		/* Too long: keep the start. */
		char cut[FINDING_MSG_MAX];

		va_start(ap, fmt);
		vsnprintf(cut, sizeof(cut), fmt, ap);
		va_end(ap);
		rc = buf_adds(&b, cut);
	}
	if (rc != 0)
		return rc;
	for (i = 0; i < b.len; i++)
		if ((unsigned char)b.p[i] < 0x20 || b.p[i] == 0x7f)
			b.p[i] = ' ';
	if (make_room(f, 1) != 0) {
		buf_free(&b);
		return PERR_NOMEM;
	}
	if (b.p == NULL && buf_add(&b, "", 0) != 0)
		return PERR_NOMEM;
	v = &f->v[f->n++];
	v->line = line;
	v->col = col;
	v->level = level;
	v->check = check;
	v->seq = f->n - 1;
	v->msg = buf_take(&b);
	if (level == FINDING_ERROR)
		f->errors++;
	else
		f->warnings++;
	return 0;
}

int
findings_append(struct findings *to, struct findings *from)
{
	size_t i;

	if (make_room(to, from->n) != 0)
		return PERR_NOMEM;
	for (i = 0; i < from->n; i++) {
		to->v[to->n] = from->v[i];
		to->v[to->n].seq = to->n;
		to->n++;
	}
	to->errors += from->errors;
	to->warnings += from->warnings;
	free(from->v);
	memset(from, 0, sizeof(*from));
	return 0;
}

static int
by_position(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	/* qsort is not stable: fall back on the order of addition. */
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void
findings_sort(struct findings *f)
{
	if (f->n > 1)
		qsort(f->v, f->n, sizeof(*f->v), by_position);
}

void
findings_promote(struct findings *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		f->v[i].level = FINDING_ERROR;
	f->errors += f->warnings;
	f->warnings = 0;
}

size_t
findings_skip(struct findings *f, const char *check)
{
	size_t i, kept = 0, dropped;

	for (i = 0; i < f->n; i++) {
		if (f->v[i].level == FINDING_WARNING &&
		    strcmp(f->v[i].check, check) == 0) {
			free(f->v[i].msg);
			continue;
		}
		f->v[kept++] = f->v[i];
	}
	dropped = f->n - kept;
	f->n = kept;
	f->warnings -= dropped;
	return dropped;
}

void
findings_free(struct findings *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->v[i].msg);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

/* GitHub workflow commands: %, CR and LF escaped; properties also : and ,. */
static int
github_escape(struct buf *b, const char *s, bool property)
{
	int rc = 0;

	for (; rc == 0 && *s != '\0'; s++) {
		if (*s == '%')
			rc = buf_adds(b, "%25");
		else if (*s == '\r')
			rc = buf_adds(b, "%0D");
		else if (*s == '\n')
			rc = buf_adds(b, "%0A");
		else if (property && *s == ':')
			rc = buf_adds(b, "%3A");
		else if (property && *s == ',')
			rc = buf_adds(b, "%2C");
		else
			rc = buf_addc(b, *s);
	}
	return rc;
}

int
finding_format(struct buf *b, const char *file, const struct finding *f,
    enum finding_format format)
{
	const char *level = f->level == FINDING_ERROR ? "error" : "warning";
	int rc;

	switch (format) {
	case FORMAT_JSON:
		if ((rc = buf_adds(b, "{\"file\":")) != 0 ||
		    (rc = buf_add_json(b, file, strlen(file))) != 0 ||
		    (rc = buf_addf(b, ",\"line\":%u,\"column\":%u,\"level\":"
		    "\"%s\",\"check\":", f->line, f->col, level)) != 0 ||
		    (rc = buf_add_json(b, f->check, strlen(f->check))) != 0 ||
		    (rc = buf_adds(b, ",\"message\":")) != 0 ||
		    (rc = buf_add_json(b, f->msg, strlen(f->msg))) != 0)
			return rc;
		return buf_addc(b, '}');
	case FORMAT_GITHUB:
		if ((rc = buf_addf(b, "::%s file=", level)) != 0 ||
		    (rc = github_escape(b, file, true)) != 0 ||
		    (rc = buf_addf(b, ",line=%u,col=%u,title=", f->line,
		    f->col)) != 0 ||
		    (rc = github_escape(b, f->check, true)) != 0 ||
		    (rc = buf_adds(b, "::")) != 0 ||
		    (rc = github_escape(b, f->msg, false)) != 0)
			return rc;
		return buf_addf(b, " [%s]", f->check);
	case FORMAT_TEXT:
		break;
	}
	return buf_addf(b, "%s:%u:%u: %s: %s [%s]", file, f->line, f->col,
	    level, f->msg, f->check);
}

int
finding_format_parse(const char *s)
{
	if (strcmp(s, "text") == 0)
		return FORMAT_TEXT;
	if (strcmp(s, "json") == 0)
		return FORMAT_JSON;
	if (strcmp(s, "github") == 0)
		return FORMAT_GITHUB;
	return -1;
}
