/* record.c - build and append a run from promrun-record's arguments. */
#define _GNU_SOURCE
#include "journal/record.h"
#include "common/buf.h"
#include "common/clock.h"
#include "journal/journal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

const struct record_names record_option_names = {
	"-w NAME", "-s STATUS or -e EXIT_CODE", "--run-id ID", "--start",
	"--finish", "-s, -e, -d or --started",
	"give -d or --started, not both", "--time", "--started", "duration",
};

/* Note which input failed; returns rc so callers can "return refused(...)". */
static int
refused(struct record_args *a, const char *input, int rc)
{
	a->failed = input;
	return rc;
}

static int
parse_exit_code(const char *s, int *out, struct perr *e)
{
	char q[PERR_QUOTE_MAX];
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    v < 0 || v > 255)
		return perr_set(e, PERR_INVALID, "exit code %s is not valid: use "
		    "a whole number from 0 to 255", perr_quote(s, q));
	*out = (int)v;
	return 0;
}

/* An explicit -s wins over the status -e implies; the exit code is kept. */
static int
set_status(struct run *r, struct record_args *a, struct perr *e)
{
	int rc;

	if (a->exit_code != NULL) {
		if ((rc = parse_exit_code(a->exit_code, &r->exit_code, e)) != 0)
			return refused(a, "exit_code", rc);
		r->status = run_status_from_exit(r->exit_code);
	}
	if (a->status != NULL &&
	    (rc = run_status_parse(a->status, &r->status, e)) != 0)
		return refused(a, "status", rc);
	return 0;
}

/* The CI gives when the job started: the duration is the difference. */
static int
set_started(struct run *r, struct record_args *a,
    const struct record_names *n, struct perr *e)
{
	char q[PERR_QUOTE_MAX];
	double started;
	int rc;

	if (a->duration != NULL)
		return refused(a, "started", perr_set(e, PERR_INVALID, "%s",
		    n->both_durations));
	if ((rc = clock_parse_time(a->started, n->started, &started, e)) != 0)
		return refused(a, "started", rc);
	if (started > r->time)
		return refused(a, "started", perr_set(e, PERR_INVALID, "%s %s "
		    "is after the end of the run: the start must come first",
		    n->started, perr_quote(a->started, q)));
	r->has_duration = true;
	r->duration = r->time - started;
	return 0;
}

static int
set_times(struct run *r, struct record_args *a, const struct record_names *n,
    struct perr *e)
{
	int rc;

	r->time = clock_now();
	if (a->time != NULL &&
	    (rc = clock_parse_time(a->time, n->time, &r->time, e)) != 0)
		return refused(a, "time", rc);
	if (a->duration != NULL) {
		if ((rc = clock_parse_seconds(a->duration, n->duration,
		    &r->duration, e)) != 0)
			return refused(a, "duration", rc);
		r->has_duration = true;
	}
	if (a->started != NULL)
		return set_started(r, a, n, e);
	return 0;
}

/* What the event requires and forbids, before any value is parsed. */
static int
check_shape(struct record_args *a, const struct record_names *n,
    struct perr *e)
{
	if (a->workflow == NULL)
		return refused(a, "workflow", perr_set(e, PERR_INVALID,
		    "no workflow: give %s", n->workflow));
	if (a->event == RUN_EVENT_START &&
	    (a->status != NULL || a->exit_code != NULL || a->duration != NULL ||
	    a->started != NULL))
		return refused(a, "event", perr_set(e, PERR_INVALID, "%s takes "
		    "no %s: give them with %s", n->start, n->start_extras,
		    n->finish));
	if (a->event != RUN_EVENT_START && a->status == NULL &&
	    a->exit_code == NULL)
		return refused(a, "status", perr_set(e, PERR_INVALID, "no "
		    "outcome: give %s", n->outcome));
	if (a->event != RUN_EVENT_RUN && a->run_id == NULL)
		return refused(a, "run_id", perr_set(e, PERR_INVALID, "%s needs "
		    "%s to match the start with the finish",
		    a->event == RUN_EVENT_START ? n->start : n->finish,
		    n->run_id));
	return 0;
}

/* The first control character in s, or NULL. */
static const char *
control_char(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return s;
	return NULL;
}

static int
check_plain(struct record_args *a, const char *input, const char *what,
    const char *s, struct perr *e)
{
	const char *c;

	if (s == NULL || (c = control_char(s)) == NULL)
		return 0;
	return refused(a, input, perr_set(e, PERR_INVALID, "%s contains a "
	    "control character (byte 0x%02x at offset %zu): printable text "
	    "only", what, (unsigned char)*c, (size_t)(c - s)));
}

/* The receiver's rule: text from the network is printable. */
static int
check_plain_text(const struct run *r, struct record_args *a, struct perr *e)
{
	char what[128];
	size_t i;
	int rc;

	if ((rc = check_plain(a, "workflow", "the workflow name", r->workflow,
	    e)) != 0 || (rc = check_plain(a, "step", "the step", r->step,
	    e)) != 0 || (rc = check_plain(a, "run_id", "the run id", r->run_id,
	    e)) != 0)
		return rc;
	for (i = 0; i < r->nlabels; i++) {
		snprintf(what, sizeof(what), "label \"%.100s\"",
		    r->labels[i].name);
		if ((rc = check_plain(a, "labels", what, r->labels[i].value,
		    e)) != 0)
			return rc;
	}
	return 0;
}

int
record_build(struct run *r, struct record_args *a,
    const struct journal_settings *j, struct perr *e)
{
	const struct record_names *n = a->names != NULL ? a->names :
	    &record_option_names;
	size_t i;
	int rc;

	a->failed = NULL;
	run_init(r, a->event);
	r->workflow = a->workflow;
	r->step = a->step;
	r->run_id = a->run_id;
	if ((rc = check_shape(a, n, e)) != 0 ||
	    (rc = set_status(r, a, e)) != 0 || (rc = set_times(r, a, n, e)) != 0)
		return rc;
	for (i = 0; i < a->nlabels; i++)
		if ((rc = run_add_label_arg(r, a->labels[i], e)) != 0)
			return refused(a, "labels", rc);
	if ((rc = run_check_allowed(r, j->labels, j->nlabels, e)) != 0)
		return refused(a, "labels", rc);
	if (a->plain_text && (rc = check_plain_text(r, a, e)) != 0)
		return rc;
	return run_validate(r, e);
}

int
record_append(const struct run *r, const struct journal_settings *j,
    struct perr *e)
{
	struct buf payload = BUF_INIT(JOURNAL_PAYLOAD_MAX);
	int rc;

	rc = run_encode(r, &payload);
	if (rc == PERR_LIMIT)
		return perr_set(e, PERR_LIMIT, "record is larger than the limit "
		    "of %d bytes: shorten the labels or names",
		    JOURNAL_RECORD_MAX);
	if (rc != 0)
		return perr_set(e, rc, "cannot encode the record: %s",
		    perr_name(rc));
	rc = journal_append(j->path, buf_str(&payload), payload.len,
	    j->fsync, e);
	buf_free(&payload);
	return rc;
}

/* A signal's number from its name as systemd writes it ("TERM"), or 0. */
static int
signal_number(const char *name)
{
	const char *abbrev;
	int sig;

	for (sig = 1; sig < 65; sig++) {
		abbrev = sigabbrev_np(sig);
		if (abbrev != NULL && strcmp(abbrev, name) == 0)
			return sig;
	}
	return 0;
}

/* Set the exit code from EXIT_STATUS: a number, or a signal name. */
static int
systemd_exit_code(struct record_args *a, struct record_systemd *store,
    const char *exit_status, struct perr *e)
{
	char q[PERR_QUOTE_MAX], *end;
	long v;
	int sig;

	if (exit_status == NULL || exit_status[0] == '\0')
		return 0;
	v = strtol(exit_status, &end, 10);
	if (*end == '\0' && v >= 0 && v <= 255) {
		snprintf(store->exit_code, sizeof(store->exit_code), "%ld", v);
	} else if ((sig = signal_number(exit_status)) != 0) {
		snprintf(store->exit_code, sizeof(store->exit_code), "%d",
		    128 + sig);
	} else {
		return perr_set(e, PERR_INVALID, "$EXIT_STATUS %s is neither an "
		    "exit status nor a signal name", perr_quote(exit_status, q));
	}
	a->exit_code = store->exit_code;
	return 0;
}

static bool
is_stop_signal(const char *name)
{
	return name != NULL && (strcmp(name, "TERM") == 0 ||
	    strcmp(name, "INT") == 0 || strcmp(name, "HUP") == 0);
}

/* The status SERVICE_RESULT means, or NULL to derive it from the exit code. */
static const char *
systemd_status(const char *result, const char *code, const char *status)
{
	bool killed = code != NULL && (strcmp(code, "killed") == 0 ||
	    strcmp(code, "dumped") == 0);

	if (strcmp(result, "success") == 0)
		return killed ? "cancelled" : "success";
	if (strcmp(result, "exit-code") == 0)
		return NULL;
	if (strcmp(result, "signal") == 0 || strcmp(result, "core-dump") == 0)
		return is_stop_signal(status) ? "cancelled" : "failure";
	if (strcmp(result, "timeout") == 0)
		return "timeout";
	return "failure";
}

int
record_use_systemd(struct record_args *a, struct record_systemd *store,
    struct perr *e)
{
	const char *id = getenv("INVOCATION_ID");
	const char *result = getenv("SERVICE_RESULT");
	const char *code = getenv("EXIT_CODE");
	const char *status = getenv("EXIT_STATUS");
	int rc;

	if (a->run_id == NULL && (id == NULL || id[0] == '\0'))
		return perr_set(e, PERR_INVALID, "--systemd needs $INVOCATION_ID "
		    "(systemd sets it for every unit) or --run-id");
	if (a->run_id == NULL)
		a->run_id = id;
	if (a->event != RUN_EVENT_FINISH || a->status != NULL ||
	    a->exit_code != NULL)
		return 0;
	if (result == NULL || result[0] == '\0')
		return perr_set(e, PERR_INVALID, "--systemd --finish needs "
		    "$SERVICE_RESULT, which systemd sets for ExecStopPost= "
		    "commands (or give -s or -e)");
	if ((rc = systemd_exit_code(a, store, status, e)) != 0)
		return rc;
	a->status = systemd_status(result, code, status);
	if (a->status == NULL && a->exit_code == NULL)
		return perr_set(e, PERR_INVALID, "$SERVICE_RESULT=exit-code but "
		    "$EXIT_STATUS gives no exit status");
	return 0;
}

/*
 * round(d * 1e6) / 1e6, without libm: loading libm costs promrun-record
 * about 400 KiB of its 2 MiB peak RSS budget, for this one call.  Below
 * 2^52 the fraction y - trunc(y) is exact, so halves go away from zero as
 * round() takes them; above it y is already whole.
 */
static double
round_to_micros(double d)
{
	double y = d * 1e6;
	long long whole;

	if (!(y < 0x1p52 && y > -0x1p52))
		return y / 1e6;
	whole = (long long)y;
	if (y - (double)whole >= 0.5)
		whole++;
	else if (y - (double)whole <= -0.5)
		whole--;
	/* round() keeps the sign of a zero: -0.4 gives -0. */
	return whole == 0 ? 0.0 * y : (double)whole / 1e6;
}

void
record_finish_of(struct run *finish, const struct run *start, int status,
    double duration, double end_time)
{
	*finish = *start;
	finish->event = RUN_EVENT_FINISH;
	finish->time = end_time;
	finish->exit_code = status;
	finish->status = run_status_from_exit(status);
	finish->has_duration = true;
	/* Microseconds are plenty and keep the record short. */
	finish->duration = round_to_micros(duration);
}

const char *
record_command_conflict(const struct record_args *a, bool systemd)
{
	if (a->status != NULL || a->exit_code != NULL || a->duration != NULL ||
	    a->time != NULL || a->event != RUN_EVENT_RUN || systemd ||
	    a->started != NULL)
		return "-s, -e, -d, --started, --time, --start, --finish and "
		    "--systemd do not go with a COMMAND";
	return NULL;
}

int
record_build_start(struct run *start, struct record_args *a,
    char run_id[RECORD_RUN_ID_LEN + 1], const struct journal_settings *j,
    struct perr *e)
{
	if (a->run_id == NULL) {
		record_new_run_id(run_id);
		a->run_id = run_id;
	}
	a->event = RUN_EVENT_START;
	return record_build(start, a, j, e);
}

void
record_new_run_id(char out[RECORD_RUN_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char bytes[RECORD_RUN_ID_LEN / 2];
	struct timespec ts;
	size_t i;

	if (getrandom(bytes, sizeof(bytes), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(bytes)) {
		/* No entropy yet (early boot): time and pid are unique enough. */
		clock_gettime(CLOCK_REALTIME, &ts);
		for (i = 0; i < sizeof(bytes); i++)
			bytes[i] = (unsigned char)(((unsigned long)ts.tv_nsec ^
			    ((unsigned long)ts.tv_sec << 7) ^
			    ((unsigned long)getpid() << 13)) >> (i * 4));
	}
	for (i = 0; i < sizeof(bytes); i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 0xf];
	}
	out[RECORD_RUN_ID_LEN] = '\0';
}
