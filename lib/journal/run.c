/* run.c - the run record: validation and encoding (see run.h). */
#include "journal/run.h"
#include "common/clock.h"
#include "common/text.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const status_names[RUN_STATUS_COUNT] = {
	"", "success", "failure", "cancelled", "timeout", "lost",
};

static const struct {
	const char *spelling;
	enum run_status status;
} status_spellings[] = {
	{"success", RUN_SUCCESS}, {"succeeded", RUN_SUCCESS},
	{"successful", RUN_SUCCESS}, {"ok", RUN_SUCCESS},
	{"passed", RUN_SUCCESS}, {"pass", RUN_SUCCESS},
	{"failure", RUN_FAILURE}, {"failed", RUN_FAILURE},
	{"fail", RUN_FAILURE}, {"error", RUN_FAILURE},
	{"errored", RUN_FAILURE}, {"unstable", RUN_FAILURE},
	{"cancelled", RUN_CANCELLED}, {"canceled", RUN_CANCELLED},
	{"aborted", RUN_CANCELLED}, {"not_built", RUN_CANCELLED},
	{"timeout", RUN_TIMEOUT}, {"timed_out", RUN_TIMEOUT},
	{"timedout", RUN_TIMEOUT},
};

/* Label names promrun puts on its own series; a user label may not reuse them. */
static const char *const reserved_labels[] = {
	"workflow", "step", "status", "le", "quantile",
};

/*
 * Label names others set on every series of a push or a scrape: the
 * Pushgateway's grouping key (job; instance, which it adds when absent and
 * the shipped push unit sets to the host), Prometheus's target labels (the
 * same two), and promrun-push --dir's grouping label.  A run carrying one
 * would put it, "" where other runs lack it, on every series of its
 * families, and the push of the whole textfile would be refused.
 */
static const char *const foreign_labels[] = {
	"job", "instance", RUN_DIR_LABEL,
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

void
run_init(struct run *r, enum run_event event)
{
	memset(r, 0, sizeof(*r));
	r->event = event;
	r->exit_code = -1;
}

int
run_status_parse(const char *s, enum run_status *out, struct perr *e)
{
	size_t i;

	for (i = 0; i < NELEM(status_spellings); i++) {
		if (strcasecmp(s, status_spellings[i].spelling) == 0) {
			*out = status_spellings[i].status;
			return 0;
		}
	}
	char q[PERR_QUOTE_MAX];

	if (strcasecmp(s, "lost") == 0)
		return perr_set(e, PERR_INVALID, "status \"lost\" cannot be "
		    "recorded, promrun-render derives it: use success, failure, "
		    "cancelled or timeout");
	return perr_set(e, PERR_INVALID, "unknown status %s: use success, "
	    "failure, cancelled or timeout (also accepted: failed, error, "
	    "canceled, aborted, timed_out, ...)", perr_quote(s, q));
}

const char *
run_status_name(enum run_status s)
{
	if ((unsigned)s >= RUN_STATUS_COUNT)
		return "";
	return status_names[s];
}

enum run_status
run_status_from_exit(int code)
{
	switch (code) {
	case 0:
		return RUN_SUCCESS;
	case 124:
		return RUN_TIMEOUT;
	case 130:
	case 143:
		return RUN_CANCELLED;
	default:
		return RUN_FAILURE;
	}
}

const char *
run_event_name(enum run_event ev)
{
	switch (ev) {
	case RUN_EVENT_START:
		return "start";
	case RUN_EVENT_FINISH:
		return "finish";
	default:
		return "run";
	}
}

/*
 * name is one of the n in list.  Checked for every label read or folded:
 * firsts, the first bytes of the list's names, rules most names out.
 */
static bool
named_in(const char *name, const char *firsts, const char *const *list,
    size_t n)
{
	const char *f;
	size_t i;

	/* (An inline look at a few bytes, not a call.) */
	for (f = firsts; *f != '\0' && *f != name[0]; f++)
		;
	if (*f == '\0')
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

static bool
is_reserved(const char *name)
{
	return named_in(name, "wslq", reserved_labels, NELEM(reserved_labels));
}

/* A string field: valid UTF-8 (strlen stops at NUL, so none inside). */
static int
check_text(const char *what, const char *s, struct perr *e)
{
	size_t bad;

	if (!utf8_valid(s, strlen(s), &bad))
		return perr_set(e, PERR_INVALID, "%s is not valid UTF-8 (byte "
		    "0x%02x at offset %zu): values must be UTF-8 text", what,
		    (unsigned char)s[bad], bad);
	return 0;
}

bool
run_label_foreign(const char *name)
{
	return named_in(name, "jit", foreign_labels, NELEM(foreign_labels));
}

/*
 * The checks a label name passes when it is read back: everything but the
 * foreign names, which records written before they were refused may carry
 * (the renderer drops them).
 */
static int
label_name_readable(const char *name, struct perr *e)
{
	char q[PERR_QUOTE_MAX];

	if (!label_name_valid(name))
		return perr_set(e, PERR_INVALID, "invalid label name %s: "
		    "names match [a-zA-Z_][a-zA-Z0-9_]*", perr_quote(name, q));
	if (strncmp(name, "__", 2) == 0)
		return perr_set(e, PERR_INVALID, "invalid label name %s: "
		    "names starting with __ are reserved for Prometheus",
		    perr_quote(name, q));
	if (is_reserved(name))
		return perr_set(e, PERR_INVALID, "label name %s is used by "
		    "promrun itself (workflow, step, status, le, quantile): "
		    "choose another name", perr_quote(name, q));
	return 0;
}

int
run_label_name_check(const char *name, struct perr *e)
{
	char q[PERR_QUOTE_MAX];
	int rc;

	if ((rc = label_name_readable(name, e)) != 0)
		return rc;
	if (run_label_foreign(name))
		return perr_set(e, PERR_INVALID, "label name %s is set by the "
		    "Pushgateway or Prometheus on every series (job, instance) "
		    "or by promrun-push --dir (%s): choose another name",
		    perr_quote(name, q), RUN_DIR_LABEL);
	return 0;
}

/* Append a label; recording refuses foreign names, reading keeps them. */
static int
add_label(struct run *r, const char *name, const char *value,
    bool recording, struct perr *e)
{
	size_t i;
	int rc;

	if ((rc = recording ? run_label_name_check(name, e) :
	    label_name_readable(name, e)) != 0)
		return rc;
	for (i = 0; i < r->nlabels; i++)
		if (strcmp(r->labels[i].name, name) == 0)
			return perr_set(e, PERR_INVALID, "label \"%s\" given "
			    "twice: each label name may appear once", name);
	if (r->nlabels == RUN_MAX_LABELS)
		return perr_set(e, PERR_LIMIT, "too many labels at \"%s\": at "
		    "most %d per run", name, RUN_MAX_LABELS);
	r->labels[r->nlabels].name = name;
	r->labels[r->nlabels].value = value;
	r->nlabels++;
	return 0;
}

int
run_add_label(struct run *r, const char *name, const char *value,
    struct perr *e)
{
	return add_label(r, name, value, true, e);
}

int
run_add_label_arg(struct run *r, char *arg, struct perr *e)
{
	char *eq = strchr(arg, '=');
	char q[PERR_QUOTE_MAX];

	if (eq == NULL)
		return perr_set(e, PERR_INVALID, "label %s has no value: "
		    "use NAME=VALUE", perr_quote(arg, q));
	*eq = '\0';
	return run_add_label(r, arg, eq + 1, e);
}

/* "a, b, c": as many names as fit in RUN_ALLOWED_SHOWN, then "and N more". */
static void
list_names(struct buf *out, char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		/* Room for this name, its comma and " and NN more". */
		if (out->len + strlen(names[i]) + 2 + 16 > out->max)
			break;
		if ((i > 0 && buf_adds(out, ", ") != 0) ||
		    buf_adds(out, names[i]) != 0)
			return;
	}
	if (i < n)
		(void)buf_addf(out, " and %zu more", n - i);
}

int
run_check_allowed(const struct run *r, char *const *allow,
    size_t allow_count, struct perr *e)
{
	struct buf names = BUF_INIT(RUN_ALLOWED_SHOWN);
	size_t i, k;
	int rc;

	if (allow_count == 0)
		return 0;
	for (i = 0; i < r->nlabels; i++) {
		for (k = 0; k < allow_count; k++)
			if (strcmp(r->labels[i].name, allow[k]) == 0)
				break;
		if (k < allow_count)
			continue;
		list_names(&names, allow, allow_count);
		rc = perr_set(e, PERR_INVALID, "label \"%s\" is not in the "
		    "configured allow-list ([journal] labels): use one of %s",
		    r->labels[i].name, buf_str(&names));
		buf_free(&names);
		return rc;
	}
	return 0;
}

static int
check_optional_name(const char *what, const char *s, struct perr *e)
{
	if (s == NULL)
		return 0;
	if (*s == '\0')
		return perr_set(e, PERR_INVALID, "%s is empty: give a non-empty "
		    "name or leave it out", what);
	return check_text(what, s, e);
}

static int
check_fields_for_event(const struct run *r, struct perr *e)
{
	const char *ev = run_event_name(r->event);

	if (r->event != RUN_EVENT_RUN && r->run_id == NULL)
		return perr_set(e, PERR_INVALID, "a %s event needs a run id",
		    ev);
	if (r->event == RUN_EVENT_START) {
		if (r->status != RUN_STATUS_NONE || r->has_duration ||
		    r->exit_code >= 0)
			return perr_set(e, PERR_INVALID, "a start event takes no "
			    "status, duration or exit code");
		return 0;
	}
	if (r->status == RUN_STATUS_NONE || r->status == RUN_LOST)
		return perr_set(e, PERR_INVALID, "a %s event needs a status: "
		    "success, failure, cancelled or timeout", ev);
	return 0;
}

int
run_validate(const struct run *r, struct perr *e)
{
	size_t i;
	int rc;

	if (r->workflow == NULL || r->workflow[0] == '\0')
		return perr_set(e, PERR_INVALID, "workflow name is empty: every "
		    "run needs a non-empty workflow name");
	if ((rc = check_text("workflow name", r->workflow, e)) != 0 ||
	    (rc = check_optional_name("step", r->step, e)) != 0 ||
	    (rc = check_optional_name("run id", r->run_id, e)) != 0)
		return rc;
	if (!(r->time >= 0 && r->time <= CLOCK_TIME_MAX))
		return perr_set(e, PERR_INVALID, "time out of range: accepted are "
		    "times from 1970 to 9999");
	if (r->has_duration && !(r->duration >= 0 && isfinite(r->duration)))
		return perr_set(e, PERR_INVALID, "duration must be a finite "
		    "number of seconds >= 0");
	if (r->exit_code < -1 || r->exit_code > 255)
		return perr_set(e, PERR_INVALID, "exit code %d out of range: "
		    "accepted are 0 to 255", r->exit_code);
	for (i = 0; i < r->nlabels; i++)
		if ((rc = check_text(r->labels[i].name, r->labels[i].value,
		    e)) != 0)
			return rc;
	return check_fields_for_event(r, e);
}

/* Bytes that must not appear raw in a value: separators, controls, '%'. */
static bool
needs_escape(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || c == '%';
}

int
run_add_escaped(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *run;
	char esc[3];
	int rc;

	while (*s != '\0') {
		for (run = s; *s != '\0' && !needs_escape((unsigned char)*s); s++)
			;
		if (s > run && (rc = buf_add(out, run, (size_t)(s - run))) != 0)
			return rc;
		if (*s == '\0')
			break;
		esc[0] = '%';
		esc[1] = hex[(unsigned char)*s >> 4];
		esc[2] = hex[(unsigned char)*s & 0xf];
		if ((rc = buf_add(out, esc, 3)) != 0)
			return rc;
		s++;
	}
	return 0;
}

static int
add_field(struct buf *out, const char *prefix, const char *key,
    const char *value)
{
	int rc;

	if ((rc = buf_addc(out, ' ')) != 0 || (rc = buf_adds(out, prefix)) != 0 ||
	    (rc = buf_adds(out, key)) != 0 || (rc = buf_addc(out, '=')) != 0)
		return rc;
	return run_add_escaped(out, value);
}

static int
add_number(struct buf *out, const char *key, double v)
{
	int rc;

	if ((rc = buf_addc(out, ' ')) != 0 || (rc = buf_adds(out, key)) != 0 ||
	    (rc = buf_addc(out, '=')) != 0)
		return rc;
	return buf_add_double(out, v);
}

int
run_encode(const struct run *r, struct buf *out)
{
	size_t i;
	int rc = 0;

	if ((rc = buf_adds(out, run_event_name(r->event))) != 0 ||
	    (rc = add_number(out, "time", r->time)) != 0 ||
	    (rc = add_field(out, "", "workflow", r->workflow)) != 0)
		return rc;
	if (r->step != NULL && (rc = add_field(out, "", "step", r->step)) != 0)
		return rc;
	if (r->run_id != NULL &&
	    (rc = add_field(out, "", "run_id", r->run_id)) != 0)
		return rc;
	if (r->status != RUN_STATUS_NONE &&
	    (rc = add_field(out, "", "status", run_status_name(r->status))) != 0)
		return rc;
	if (r->has_duration && (rc = add_number(out, "duration", r->duration)) != 0)
		return rc;
	if (r->exit_code >= 0 &&
	    (rc = add_number(out, "exit_code", r->exit_code)) != 0)
		return rc;
	for (i = 0; i < r->nlabels; i++)
		if ((rc = add_field(out, "label.", r->labels[i].name,
		    r->labels[i].value)) != 0)
			return rc;
	return 0;
}

/* --- decoding --- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Unescape s in place; false on a malformed %XX or an escaped NUL. */
static bool
unescape(char *s)
{
	char *w;
	int hi, lo;

	/* Most values have no escapes: nothing to move. */
	if ((s = strchr(s, '%')) == NULL)
		return true;
	for (w = s; *s != '\0'; s++) {
		if (*s != '%') {
			*w++ = *s;
			continue;
		}
		if ((hi = hexval(s[1])) < 0 || (lo = hexval(s[2])) < 0 ||
		    (hi == 0 && lo == 0))
			return false;
		*w++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*w = '\0';
	return true;
}

static bool
decode_double(const char *s, double *out)
{
	char *end;

	if (*s == '\0' || !text_parse_double(s, &end, out))
		return false;
	return *end == '\0' && isfinite(*out);
}

static bool
decode_event(const char *s, enum run_event *ev)
{
	if (strcmp(s, "run") == 0)
		*ev = RUN_EVENT_RUN;
	else if (strcmp(s, "start") == 0)
		*ev = RUN_EVENT_START;
	else if (strcmp(s, "finish") == 0)
		*ev = RUN_EVENT_FINISH;
	else
		return false;
	return true;
}

static bool
decode_status(const char *s, enum run_status *st)
{
	int i;

	for (i = 1; i < RUN_STATUS_COUNT; i++) {
		if (strcmp(s, status_names[i]) == 0) {
			*st = (enum run_status)i;
			return true;
		}
	}
	return false;
}

/* Fields seen so far, so a duplicated key is caught. */
enum { SEEN_TIME = 1, SEEN_WORKFLOW = 2, SEEN_STEP = 4, SEEN_RUN_ID = 8,
    SEEN_STATUS = 16, SEEN_DURATION = 32, SEEN_EXIT = 64 };

static bool
once(unsigned *seen, unsigned bit)
{
	if (*seen & bit)
		return false;
	*seen |= bit;
	return true;
}

/* Whether key, of n bytes, is name (len bytes), or starts with it
 * (prefix): memcmp on known lengths, no strcmp call per field. */
static bool
is_key(const char *key, size_t n, const char *name, size_t len, bool prefix)
{
	return (prefix ? n >= len : n == len) && memcmp(key, name, len) == 0;
}

static bool
decode_field(struct run *r, char *key, char *value, unsigned *seen,
    struct perr *e)
{
	/* run_field_next's key ends where the value starts. */
	size_t n = (size_t)(value - key - 1);
	double v;

	/* The first byte picks the field: this runs once per field read. */
	switch (key[0]) {
	case 'l':
		if (is_key(key, n, "label.", 6, true))
			return add_label(r, key + 6, value, false, e) == 0;
		return false;
	case 't':
		return is_key(key, n, "time", 4, false) &&
		    once(seen, SEEN_TIME) && decode_double(value, &r->time);
	case 'w':
		return is_key(key, n, "workflow", 8, false) &&
		    once(seen, SEEN_WORKFLOW) && (r->workflow = value, true);
	case 's':
		if (is_key(key, n, "status", 6, false))
			return once(seen, SEEN_STATUS) &&
			    decode_status(value, &r->status);
		return is_key(key, n, "step", 4, false) &&
		    once(seen, SEEN_STEP) && (r->step = value, true);
	case 'r':
		return is_key(key, n, "run_id", 6, false) &&
		    once(seen, SEEN_RUN_ID) && (r->run_id = value, true);
	case 'd':
		return is_key(key, n, "duration", 8, false) &&
		    once(seen, SEEN_DURATION) &&
		    decode_double(value, &r->duration) &&
		    (r->has_duration = true);
	case 'e':
		if (!is_key(key, n, "exit_code", 9, false) ||
		    !once(seen, SEEN_EXIT) || !decode_double(value, &v) ||
		    v != floor(v) || v < 0 || v > 255)
			return false;
		r->exit_code = (int)v;
		return true;
	default:
		return false;
	}
}

/*
 * run_field_next with the payload's end known (its NUL): the field's end,
 * its '=' and an escape in its value found by memchr, a few words at a
 * time, in the loop that reads every field of every record.
 */
static int
field_next(char **cursor, char *end, char **key, char **value)
{
	char *p = *cursor, *fe, *eq;

	if (p == NULL)
		return 0;
	if ((fe = memchr(p, ' ', (size_t)(end - p))) == NULL)
		fe = end;
	eq = memchr(p, '=', (size_t)(fe - p));
	*cursor = fe < end ? fe + 1 : NULL;
	*fe = '\0';
	if (eq == NULL || eq == p)
		return -1;
	*eq = '\0';
	*key = p;
	*value = eq + 1;
	/* Most values have no escapes: nothing to look at again. */
	if (memchr(eq + 1, '%', (size_t)(fe - eq - 1)) == NULL)
		return 1;
	return unescape(eq + 1) ? 1 : -1;
}

int
run_field_next(char **cursor, char **key, char **value)
{
	return field_next(cursor, *cursor != NULL ? *cursor + strlen(*cursor) :
	    NULL, key, value);
}

char *
run_split_type(char *payload)
{
	char *sp = strchr(payload, ' ');

	if (sp == NULL)
		return NULL;
	*sp = '\0';
	return sp + 1;
}

int
run_decode(char *payload, size_t len, struct run *r, struct perr *e)
{
	char *cursor, *key, *value;
	enum run_event ev;
	unsigned seen = 0;
	struct perr why;
	int got;

	if (memchr(payload, '\0', len) != NULL)
		return perr_set(e, PERR_CORRUPT, "record contains a NUL byte");
	payload[len] = '\0';
	cursor = run_split_type(payload);
	if (!decode_event(payload, &ev))
		return perr_set(e, PERR_CORRUPT, "unknown record type \"%.40s\"",
		    payload);
	run_init(r, ev);
	while ((got = field_next(&cursor, payload + len, &key, &value)) > 0)
		if (!decode_field(r, key, value, &seen, e))
			return perr_set(e, PERR_CORRUPT, "bad field \"%.40s\" in "
			    "record", key);
	if (got < 0)
		return perr_set(e, PERR_CORRUPT, "malformed field in record");
	if (!(seen & SEEN_TIME))
		return perr_set(e, PERR_CORRUPT, "record has no time");
	if (run_validate(r, &why) != 0)
		return perr_set(e, PERR_CORRUPT, "record does not validate: %s",
		    why.msg);
	return 0;
}
