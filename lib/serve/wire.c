/* wire.c - JSON for the receiver and its clients (see wire.h). */
#include "serve/wire.h"

#include <stdbool.h>
#include <stddef.h>

/* The next code point of valid UTF-8 at *s, advancing *s. */
static unsigned long
next_code_point(const unsigned char **s)
{
	const unsigned char *p = *s;
	unsigned long cp;
	int extra, i;

	if (p[0] < 0x80) {
		*s = p + 1;
		return p[0];
	}
	extra = p[0] >= 0xf0 ? 3 : p[0] >= 0xe0 ? 2 : 1;
	cp = p[0] & (0x3f >> extra);
	for (i = 1; i <= extra; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	*s = p + extra + 1;
	return cp;
}

int
wire_json_string(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	int rc = buf_addc(out, '"');

	while (rc == 0 && *p != '\0') {
		cp = next_code_point(&p);
		switch (cp) {
		case '"': rc = buf_adds(out, "\\\""); break;
		case '\\': rc = buf_adds(out, "\\\\"); break;
		case '\b': rc = buf_adds(out, "\\b"); break;
		case '\f': rc = buf_adds(out, "\\f"); break;
		case '\n': rc = buf_adds(out, "\\n"); break;
		case '\r': rc = buf_adds(out, "\\r"); break;
		case '\t': rc = buf_adds(out, "\\t"); break;
		default:
			if (cp >= 0x20 && cp <= 0x7e)
				rc = buf_addc(out, (char)cp);
			else if (cp < 0x10000)
				rc = buf_addf(out, "\\u%04lx", cp);
			else
				rc = buf_addf(out, "\\u%04lx\\u%04lx",
				    0xd800 + ((cp - 0x10000) >> 10),
				    0xdc00 + ((cp - 0x10000) & 0x3ff));
		}
	}
	return rc != 0 ? rc : buf_addc(out, '"');
}

static int
key(struct buf *out, bool *first, const char *name)
{
	int rc;

	if ((rc = buf_adds(out, *first ? "\"" : ",\"")) != 0 ||
	    (rc = buf_adds(out, name)) != 0)
		return rc;
	*first = false;
	return buf_adds(out, "\":");
}

static int
string_field(struct buf *out, bool *first, const char *name,
    const char *value)
{
	int rc;

	if (value == NULL)
		return 0;
	if ((rc = key(out, first, name)) != 0)
		return rc;
	return wire_json_string(out, value);
}

static int
labels(struct buf *out, bool *first, const struct run *r)
{
	size_t i;
	int rc;

	if (r->nlabels == 0)
		return 0;
	if ((rc = key(out, first, "labels")) != 0 ||
	    (rc = buf_addc(out, '{')) != 0)
		return rc;
	for (i = 0; i < r->nlabels; i++)
		if ((i > 0 && (rc = buf_addc(out, ',')) != 0) ||
		    (rc = wire_json_string(out, r->labels[i].name)) != 0 ||
		    (rc = buf_addc(out, ':')) != 0 ||
		    (rc = wire_json_string(out, r->labels[i].value)) != 0)
			return rc;
	return buf_addc(out, '}');
}

int
wire_run_json(const struct run *r, struct buf *out)
{
	bool first = true;
	int rc;

	if ((rc = buf_addc(out, '{')) != 0 ||
	    (rc = string_field(out, &first, "workflow", r->workflow)) != 0 ||
	    (rc = string_field(out, &first, "event",
	    run_event_name(r->event))) != 0 ||
	    (rc = string_field(out, &first, "step", r->step)) != 0 ||
	    (rc = string_field(out, &first, "run_id", r->run_id)) != 0 ||
	    (rc = string_field(out, &first, "status",
	    r->status != RUN_STATUS_NONE ? run_status_name(r->status) :
	    NULL)) != 0 ||
	    (rc = key(out, &first, r->event == RUN_EVENT_START ? "started" :
	    "finished")) != 0 ||
	    (rc = buf_add_double(out, r->time)) != 0)
		return rc;
	if (r->has_duration && ((rc = key(out, &first,
	    "duration_seconds")) != 0 ||
	    (rc = buf_add_double(out, r->duration)) != 0))
		return rc;
	if (r->exit_code >= 0 && ((rc = key(out, &first, "exit_code")) != 0 ||
	    (rc = buf_addf(out, "%d", r->exit_code)) != 0))
		return rc;
	if ((rc = labels(out, &first, r)) != 0)
		return rc;
	return buf_addc(out, '}');
}
