/* Unit tests of the run record: statuses, labels, encode/decode round trip. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "check.h"
#include "journal/run.h"

#define ALLOW_NAMES 64	/* allow-list names in the bounded message */

static enum run_status
status_of(const char *s)
{
	enum run_status st = RUN_STATUS_NONE;

	if (run_status_parse(s, &st, NULL) != 0)
		return RUN_STATUS_NONE;
	return st;
}

static void
test_statuses(void)
{
	struct perr e;
	enum run_status st;

	CHECK(status_of("success") == RUN_SUCCESS);
	CHECK(status_of("SUCCESS") == RUN_SUCCESS);	/* Jenkins */
	CHECK(status_of("failed") == RUN_FAILURE);	/* GitLab */
	CHECK(status_of("error") == RUN_FAILURE);
	CHECK(status_of("UNSTABLE") == RUN_FAILURE);
	CHECK(status_of("canceled") == RUN_CANCELLED);
	CHECK(status_of("ABORTED") == RUN_CANCELLED);
	CHECK(status_of("timed_out") == RUN_TIMEOUT);
	CHECK(status_of("done") == RUN_STATUS_NONE);
	CHECK(status_of("") == RUN_STATUS_NONE);
	CHECK(run_status_parse("lost", &st, &e) == PERR_INVALID);
	CHECK(strstr(e.msg, "derives") != NULL);
	CHECK(run_status_parse("done", &st, &e) == PERR_INVALID);
	CHECK(strstr(e.msg, "\"done\"") != NULL);
	CHECK(strstr(e.msg, "success, failure, cancelled or timeout") != NULL);

	CHECK(run_status_from_exit(0) == RUN_SUCCESS);
	CHECK(run_status_from_exit(1) == RUN_FAILURE);
	CHECK(run_status_from_exit(124) == RUN_TIMEOUT);
	CHECK(run_status_from_exit(130) == RUN_CANCELLED);
	CHECK(run_status_from_exit(143) == RUN_CANCELLED);
	CHECK(run_status_from_exit(137) == RUN_FAILURE);
}

static void
test_labels(void)
{
	struct run r;
	char arg1[] = "repo=promrun", arg2[] = "empty=", arg3[] = "noequals";
	char arg4[] = "repo=again";
	struct perr e;
	int i;

	run_init(&r, RUN_EVENT_RUN);
	CHECK(run_add_label_arg(&r, arg1, &e) == 0);
	CHECK(r.nlabels == 1);
	CHECK_STR(r.labels[0].name, "repo");
	CHECK_STR(r.labels[0].value, "promrun");
	CHECK(run_add_label_arg(&r, arg2, &e) == 0);
	CHECK_STR(r.labels[1].value, "");
	CHECK(run_add_label_arg(&r, arg3, &e) == PERR_INVALID);
	CHECK(run_add_label_arg(&r, arg4, &e) == PERR_INVALID);
	CHECK(strstr(e.msg, "twice") != NULL);
	CHECK(run_add_label(&r, "__name__", "x", &e) == PERR_INVALID);
	CHECK(run_add_label(&r, "le", "x", &e) == PERR_INVALID);
	CHECK(run_add_label(&r, "workflow", "x", &e) == PERR_INVALID);
	CHECK(run_add_label(&r, "a-b", "x", &e) == PERR_INVALID);
	CHECK(run_add_label(&r, "", "x", &e) == PERR_INVALID);
	/* Names the gateway, Prometheus or promrun-push --dir set. */
	CHECK(run_add_label(&r, "job", "nightly", &e) == PERR_INVALID);
	CHECK(strstr(e.msg, "label name \"job\" is set by the Pushgateway") ==
	    e.msg);
	CHECK(run_add_label(&r, "instance", "", &e) == PERR_INVALID);
	CHECK(run_add_label(&r, "textfile", "a.prom", &e) == PERR_INVALID);
	CHECK(run_label_foreign("job") && run_label_foreign("instance") &&
	    run_label_foreign("textfile"));
	CHECK(!run_label_foreign("jobs") && !run_label_foreign("instance_") &&
	    !run_label_foreign("exported_job") && !run_label_foreign("j"));
	CHECK(run_add_label(&r, "exported_job", "x", &e) == 0);
	CHECK(run_add_label(&r, "jobname", "x", &e) == 0);
	run_init(&r, RUN_EVENT_RUN);
	for (i = 0; i < RUN_MAX_LABELS; i++) {
		static char names[RUN_MAX_LABELS][8];

		names[i][0] = 'l';
		names[i][1] = (char)('a' + i / 26);
		names[i][2] = (char)('a' + i % 26);
		CHECK(run_add_label(&r, names[i], "v", &e) == 0);
	}
	CHECK(run_add_label(&r, "onemore", "v", &e) == PERR_LIMIT);
}

/* The allow-list error lists the names, bounded. */
static void
test_allow_list(void)
{
	static char names[ALLOW_NAMES][40];
	char *allow[ALLOW_NAMES];
	struct run r;
	struct perr e;
	size_t i;

	run_init(&r, RUN_EVENT_RUN);
	CHECK(run_add_label(&r, "runner", "r1", &e) == 0);
	for (i = 0; i < ALLOW_NAMES; i++) {
		snprintf(names[i], sizeof(names[i]), "label_%02zu_%s", i,
		    "with_a_rather_long_name");
		allow[i] = names[i];
	}
	allow[0] = "repo";
	allow[1] = "branch";
	CHECK(run_check_allowed(&r, allow, 2, &e) == PERR_INVALID);
	CHECK_STR(e.msg, "label \"runner\" is not in the configured "
	    "allow-list ([journal] labels): use one of repo, branch");
	CHECK(run_check_allowed(&r, allow, 0, &e) == 0);
	CHECK(run_check_allowed(&r, allow, ALLOW_NAMES, &e) ==
	    PERR_INVALID);
	CHECK(strstr(e.msg, "use one of repo, branch, label_02_") != NULL);
	CHECK(strstr(e.msg, " more") != NULL);
	CHECK(strlen(strstr(e.msg, "use one of ")) < RUN_ALLOWED_SHOWN + 12);
}

static void
hostile_run(struct run *r)
{
	run_init(r, RUN_EVENT_RUN);
	r->time = 1763891234.5;
	r->workflow = "build \"all\" 100% pr1 \\n";
	r->step = "line1\nline2\ttab\r";
	r->status = RUN_TIMEOUT;
	r->has_duration = true;
	r->duration = 0.1;
	r->exit_code = 124;
	run_add_label(r, "repo", "caf\xc3\xa9 \xf0\x9f\x98\x80=x", NULL);
	run_add_label(r, "empty", "", NULL);
	run_add_label(r, "spaces", "  a  b  ", NULL);
}

static void
test_round_trip(void)
{
	struct buf b = BUF_INIT(1 << 16);
	struct run in, out;
	char *copy;
	size_t i;

	hostile_run(&in);
	CHECK(run_validate(&in, NULL) == 0);
	CHECK(run_encode(&in, &b) == 0);
	/* One line, no raw space inside values, no control bytes. */
	CHECK(strchr(buf_str(&b), '\n') == NULL);
	CHECK(strstr(buf_str(&b), "workflow=build%20\"all\"%20100%25%20pr1%20\\n ")
	    != NULL);
	copy = malloc(b.len + 1);
	memcpy(copy, b.p, b.len + 1);
	CHECK(run_decode(copy, b.len, &out, NULL) == 0);
	CHECK(out.event == RUN_EVENT_RUN);
	CHECK(out.time == in.time);
	CHECK_STR(out.workflow, in.workflow);
	CHECK_STR(out.step, in.step);
	CHECK(out.run_id == NULL);
	CHECK(out.status == RUN_TIMEOUT);
	CHECK(out.has_duration && out.duration == 0.1);
	CHECK(out.exit_code == 124);
	CHECK(out.nlabels == in.nlabels);
	for (i = 0; i < in.nlabels && i < out.nlabels; i++) {
		CHECK_STR(out.labels[i].name, in.labels[i].name);
		CHECK_STR(out.labels[i].value, in.labels[i].value);
	}
	free(copy);
	buf_free(&b);
}

static int
decodes(const char *payload)
{
	char *copy = strdup(payload);
	struct run r;
	int rc;

	rc = run_decode(copy, strlen(copy), &r, NULL);
	free(copy);
	return rc == 0;
}

static void
test_decode_refusals(void)
{
	CHECK(decodes("run time=1 workflow=w status=success"));
	CHECK(decodes("start time=1 workflow=w run_id=r"));
	CHECK(decodes("finish time=1 workflow=w run_id=r status=failure"));
	CHECK(!decodes("run time=1 workflow=w"));		/* no status */
	CHECK(!decodes("start time=1 workflow=w"));		/* no run id */
	CHECK(!decodes("finish time=1 workflow=w status=success")); /* no run id */
	CHECK(!decodes("start time=1 workflow=w run_id=r status=success"));
	CHECK(!decodes("run workflow=w status=success"));	/* no time */
	CHECK(!decodes("run time=1 workflow= status=success"));
	CHECK(!decodes("run time=1 workflow=w status=lost"));
	CHECK(!decodes("run time=1 workflow=w status=ok"));	/* spellings are input only */
	CHECK(!decodes("run time=1 time=2 workflow=w status=success"));
	CHECK(!decodes("run time=1 workflow=w status=success extra=1"));
	CHECK(!decodes("run time=1 workflow=w status=success label.a=1 label.a=2"));
	CHECK(!decodes("run time=1 workflow=w status=success label.__a=1"));
	/* Written before they were refused: read, for the renderer to drop. */
	CHECK(decodes("run time=1 workflow=w status=success label.job=n "
	    "label.instance= label.textfile=a.prom"));
	CHECK(!decodes("run time=1 workflow=w status=success label.status=x"));
	CHECK(!decodes("run time=1 workflow=w%zz status=success"));
	CHECK(!decodes("run time=1 workflow=w%00 status=success"));
	CHECK(!decodes("run time=1 workflow=%FF status=success"));
	CHECK(!decodes("run time=-1 workflow=w status=success"));
	CHECK(!decodes("run time=nan workflow=w status=success"));
	CHECK(!decodes("run time=1 workflow=w status=success duration=-2"));
	CHECK(!decodes("run time=1 workflow=w status=success exit_code=256"));
	CHECK(!decodes("run time=1 workflow=w status=success exit_code=1.5"));
	CHECK(!decodes("run  time=1 workflow=w status=success"));
	CHECK(!decodes("snapshot time=1"));
	CHECK(!decodes(""));
}

int
main(void)
{
	test_statuses();
	test_labels();
	test_allow_list();
	test_round_trip();
	test_decode_refusals();
	return check_done("test-run");
}
