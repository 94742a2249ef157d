/* ingest.c - posted JSON into validated runs (see ingest.h). */
#define _POSIX_C_SOURCE 200809L
#include "serve/ingest.h"
#include "serve/serve.h"
#include "common/text.h"
#include "journal/record.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS "workflow, status, event, run_id, started, finished, " \
	"duration_seconds, exit_code, step, labels"

/* Numbers turned into the text record_build parses, per item. */
struct ingest_item {
	char run_id[32];
	char exit_code[32];
	char duration[40];
	char started[40];
	char finished[40];
	char *labels[RUN_MAX_LABELS + 1];
};

/* The names messages use for the receiver's fields. */
static const struct record_names names_finish = {
	"\"workflow\"", "\"status\" or \"exit_code\"", "\"run_id\"",
	"event \"start\"", "event \"finish\"",
	"\"status\", \"exit_code\", \"duration_seconds\" or \"finished\"",
	"give \"duration_seconds\" or \"started\", not both", "finished",
	"started", "duration_seconds",
};

static const struct record_names names_start = {
	"\"workflow\"", "\"status\" or \"exit_code\"", "\"run_id\"",
	"event \"start\"", "event \"finish\"",
	"\"status\", \"exit_code\", \"duration_seconds\" or \"finished\"",
	"give \"duration_seconds\" or \"started\", not both", "started",
	"finished", "duration_seconds",
};

struct item_ctx {
	struct ingest *in;
	struct ingest_item *store;
	struct record_args a;
	char **arena;		/* where the next label string goes */
	const char *field;
	struct perr *e;
};

static int
bad_type(struct item_ctx *c, const char *field, const char *want)
{
	c->field = field;
	return perr_set(c->e, PERR_INVALID, "field \"%s\" has the wrong type: "
	    "give %s", field, want);
}

/* A JSON number as the decimal text record_build parses (no exponent). */
static int
number_text(const json_t *v, char *out, size_t size)
{
	struct buf b = BUF_INIT(64);
	int rc;

	if (json_is_integer(v))
		rc = buf_addf(&b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		rc = buf_add_decimal(&b, json_real_value(v));
	if (rc == 0 && b.len < size)
		memcpy(out, buf_str(&b), b.len + 1);
	else
		rc = PERR_LIMIT;
	buf_free(&b);
	return rc;
}

/* A time: RFC 3339 or Unix seconds, as a string or a number. */
static int
time_field(struct item_ctx *c, const char *field, const json_t *v,
    char *store, size_t size, const char **out)
{
	if (json_is_string(v)) {
		*out = json_string_value(v);
		return 0;
	}
	if (!json_is_number(v) || number_text(v, store, size) != 0)
		return bad_type(c, field, "an RFC 3339 time as a string, or "
		    "Unix seconds");
	*out = store;
	return 0;
}

static int
string_field(struct item_ctx *c, const char *field, const json_t *v,
    const char **out)
{
	if (!json_is_string(v))
		return bad_type(c, field, "a string");
	*out = json_string_value(v);
	return 0;
}

static int
labels_field(struct item_ctx *c, const json_t *v)
{
	const char *name;
	json_t *value;
	size_t n = 0, nl, vl;
	int rc;

	if (!json_is_object(v))
		return bad_type(c, "labels", "an object of strings such as "
		    "{\"repo\": \"app\"}");
	json_object_foreach((json_t *)v, name, value) {
		c->field = "labels";
		if (!json_is_string(value))
			return perr_set(c->e, PERR_INVALID, "label \"%.100s\" "
			    "has the wrong type: label values are strings",
			    name);
		/* The name must be one before "NAME=VALUE" is split at '='. */
		if ((rc = run_label_name_check(name, c->e)) != 0)
			return rc;
		if (n == RUN_MAX_LABELS)
			return perr_set(c->e, PERR_LIMIT, "too many labels: at "
			    "most %d per run", RUN_MAX_LABELS);
		nl = strlen(name);
		vl = json_string_length(value);
		c->store->labels[n++] = *c->arena;
		memcpy(*c->arena, name, nl);
		(*c->arena)[nl] = '=';
		memcpy(*c->arena + nl + 1, json_string_value(value), vl + 1);
		*c->arena += nl + vl + 2;
	}
	c->a.labels = c->store->labels;
	c->a.nlabels = n;
	return 0;
}

static int
event_field(struct item_ctx *c, const json_t *v)
{
	const char *s = NULL;
	char q[PERR_QUOTE_MAX];

	if (string_field(c, "event", v, &s) != 0)
		return PERR_INVALID;
	if (strcmp(s, "run") == 0)
		c->a.event = RUN_EVENT_RUN;
	else if (strcmp(s, "start") == 0)
		c->a.event = RUN_EVENT_START;
	else if (strcmp(s, "finish") == 0)
		c->a.event = RUN_EVENT_FINISH;
	else {
		c->field = "event";
		return perr_set(c->e, PERR_INVALID, "event %s is not known: "
		    "use run, start or finish", perr_quote(s, q));
	}
	return 0;
}

/* One field into record_args; started and finished wait for the event. */
static int
take_field(struct item_ctx *c, const char *k, const json_t *v,
    const json_t **started, const json_t **finished)
{
	struct ingest_item *st = c->store;
	char q[PERR_QUOTE_MAX];

	if (json_is_null(v))
		return 0;
	if (strcmp(k, "workflow") == 0)
		return string_field(c, k, v, &c->a.workflow);
	if (strcmp(k, "status") == 0)
		return string_field(c, k, v, &c->a.status);
	if (strcmp(k, "step") == 0)
		return string_field(c, k, v, &c->a.step);
	if (strcmp(k, "event") == 0)
		return event_field(c, v);
	if (strcmp(k, "labels") == 0)
		return labels_field(c, v);
	if (strcmp(k, "started") == 0 || strcmp(k, "finished") == 0) {
		*(k[0] == 's' ? started : finished) = v;
		return 0;
	}
	if (strcmp(k, "run_id") == 0) {
		if (json_is_string(v))
			return string_field(c, k, v, &c->a.run_id);
		if (!json_is_integer(v) ||
		    number_text(v, st->run_id, sizeof(st->run_id)) != 0)
			return bad_type(c, k, "a string or an integer");
		c->a.run_id = st->run_id;
		return 0;
	}
	if (strcmp(k, "exit_code") == 0) {
		if (!json_is_integer(v) ||
		    number_text(v, st->exit_code, sizeof(st->exit_code)) != 0)
			return bad_type(c, k, "a whole number from 0 to 255");
		c->a.exit_code = st->exit_code;
		return 0;
	}
	if (strcmp(k, "duration_seconds") == 0) {
		if (!json_is_number(v) ||
		    number_text(v, st->duration, sizeof(st->duration)) != 0)
			return bad_type(c, k, "a number of seconds >= 0");
		c->a.duration = st->duration;
		return 0;
	}
	c->field = NULL;
	return perr_set(c->e, PERR_INVALID, "unknown field %s: accepted are "
	    FIELDS, perr_quote(k, q));
}

/* started/finished as record_build's --time and --started. */
static int
take_times(struct item_ctx *c, const json_t *started, const json_t *finished)
{
	struct ingest_item *st = c->store;
	const char *s = NULL, *f = NULL;

	if (started != NULL && time_field(c, "started", started, st->started,
	    sizeof(st->started), &s) != 0)
		return PERR_INVALID;
	if (finished != NULL && time_field(c, "finished", finished,
	    st->finished, sizeof(st->finished), &f) != 0)
		return PERR_INVALID;
	if (c->a.event == RUN_EVENT_START) {
		c->a.time = s;
		c->a.started = f;	/* refused by record_build, naming it */
	} else {
		c->a.time = f;
		c->a.started = s;
	}
	c->a.names = c->a.event == RUN_EVENT_START ? &names_start :
	    &names_finish;
	return 0;
}

/* Which JSON field record_build's input name stands for. */
static const char *
json_field(const char *failed, enum run_event ev)
{
	if (failed == NULL)
		return NULL;
	if (strcmp(failed, "duration") == 0)
		return "duration_seconds";
	if (strcmp(failed, "time") == 0)
		return ev == RUN_EVENT_START ? "started" : "finished";
	if (strcmp(failed, "started") == 0)
		return ev == RUN_EVENT_START ? "finished" : "started";
	return failed;
}

/* The org label: set from the token's organization, never contradicted. */
static int
org_label(struct item_ctx *c, const struct ingest_rules *rules)
{
	size_t i, len = strlen(rules->org);
	char q[PERR_QUOTE_MAX];

	for (i = 0; i < c->a.nlabels; i++) {
		if (strncmp(c->a.labels[i], "org=", 4) != 0)
			continue;
		if (strcmp(c->a.labels[i] + 4, rules->org) == 0)
			return 0;
		c->field = "labels";
		return perr_set(c->e, PERR_INVALID, "label \"org\" is %s, but "
		    "this token's runs belong to organization \"%s\": leave "
		    "the label out", perr_quote(c->a.labels[i] + 4, q),
		    rules->org);
	}
	if (c->a.nlabels == RUN_MAX_LABELS) {
		c->field = "labels";
		return perr_set(c->e, PERR_LIMIT, "too many labels: at most %d "
		    "per run, org included", RUN_MAX_LABELS - 1);
	}
	c->store->labels[c->a.nlabels] = *c->arena;
	memcpy(*c->arena, "org=", 4);
	memcpy(*c->arena + 4, rules->org, len + 1);
	*c->arena += len + 5;
	c->a.labels = c->store->labels;
	c->a.nlabels++;
	return 0;
}

static int
one_item(struct item_ctx *c, const json_t *obj, struct run *r,
    const struct ingest_rules *rules)
{
	const json_t *started = NULL, *finished = NULL;
	const char *k;
	json_t *v;
	int rc;

	if (!json_is_object(obj))
		return perr_set(c->e, PERR_INVALID, "a run must be a JSON "
		    "object with the fields " FIELDS);
	memset(&c->a, 0, sizeof(c->a));
	c->a.event = RUN_EVENT_RUN;
	c->a.plain_text = true;
	json_object_foreach((json_t *)obj, k, v)
		if ((rc = take_field(c, k, v, &started, &finished)) != 0)
			return rc;
	if ((rc = take_times(c, started, finished)) != 0)
		return rc;
	if (rules->org != NULL && (rc = org_label(c, rules)) != 0)
		return rc;
	if ((rc = record_build(r, &c->a, rules->js, c->e)) != 0) {
		c->field = json_field(c->a.failed, c->a.event);
		return rc;
	}
	if (r->run_id != NULL && r->time < rules->oldest) {
		c->field = json_field("time", r->event);
		return perr_set(c->e, PERR_INVALID, "the run is older than the "
		    "dedupe window (%s): a retry of it could not be recognised; "
		    "give a recent \"%s\" or record it with promrun-record",
		    rules->window, c->field);
	}
	return 0;
}

static int
malformed(struct ingest *in, const json_error_t *je, struct perr *e)
{
	in->index = -1;
	return perr_set(e, PERR_INVALID, "malformed JSON at line %d, column "
	    "%d: %.200s: give a JSON object or an array of objects",
	    je->line, je->column, je->text);
}

int
ingest_runs(struct ingest *in, const char *body, size_t len,
    const struct ingest_rules *rules, struct perr *e)
{
	json_error_t je;
	json_t *root;
	struct item_ctx c;
	struct perr inner;
	char *arena;
	size_t i;
	int rc = 0;

	memset(in, 0, sizeof(*in));
	in->index = -1;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &je);
	if (root == NULL)
		return malformed(in, &je, e);
	in->root = root;
	in->array = json_is_array(root);
	in->n = in->array ? json_array_size(root) : 1;
	if (!in->array && !json_is_object(root))
		return perr_set(e, PERR_INVALID, "the body must be a JSON object "
		    "(one run) or an array of at most %d runs", SERVE_BATCH_MAX);
	if (in->n == 0)
		return perr_set(e, PERR_INVALID, "no runs: the array is empty");
	if (in->n > SERVE_BATCH_MAX)
		return perr_set(e, PERR_LIMIT, "too many runs: %zu in one "
		    "request, at most %d", in->n, SERVE_BATCH_MAX);
	/* Label strings are shorter than their JSON; the org label aside. */
	in->runs = calloc(in->n, sizeof(*in->runs));
	in->items = calloc(in->n, sizeof(*in->items));
	in->arena = malloc(len + in->n * (SERVE_ORG_NAME_MAX + 8) + 1);
	if (in->runs == NULL || in->items == NULL || in->arena == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	arena = in->arena;
	memset(&c, 0, sizeof(c));
	c.in = in;
	c.arena = &arena;
	c.e = &inner;
	for (i = 0; i < in->n && rc == 0; i++) {
		perr_clear(&inner);
		c.store = &in->items[i];
		c.field = NULL;
		rc = one_item(&c, in->array ? json_array_get(root, i) : root,
		    &in->runs[i], rules);
		if (rc == 0)
			continue;
		in->field = c.field;
		if (!in->array)
			return perr_set(e, rc, "%s", inner.msg);
		in->index = (long)i;
		return perr_set(e, rc, "runs[%zu]: %s", i, inner.msg);
	}
	return rc;
}

void
ingest_free(struct ingest *in)
{
	if (in->root != NULL)
		json_decref(in->root);
	free(in->runs);
	free(in->items);
	free(in->arena);
	memset(in, 0, sizeof(*in));
}

int
ingest_prpc(const char *body, size_t len, char **name, bool *success,
    struct perr *e)
{
	json_error_t je;
	json_t *root, *n, *s;
	int rc = 0;

	*name = NULL;
	root = json_loadb(body, len, JSON_DECODE_ANY, &je);
	if (root == NULL)
		return perr_set(e, PERR_INVALID, PRPC_BAD_REQUEST);
	n = json_object_get(root, "name");
	s = json_object_get(root, "success");
	if (!json_is_object(root))
		rc = perr_set(e, PERR_INVALID, PRPC_NOT_OBJECT);
	else if (json_object_size(root) != 2 || n == NULL || s == NULL)
		rc = perr_set(e, PERR_INVALID, PRPC_WRONG_KEYS);
	else if (!json_is_boolean(s))
		rc = perr_set(e, PERR_INVALID, PRPC_NOT_BOOL);
	else if (!json_is_string(n))
		rc = perr_set(e, PERR_INVALID, PRPC_NOT_STRING);
	else if ((*name = strdup(json_string_value(n))) == NULL)
		rc = perr_set(e, PERR_NOMEM, "out of memory");
	else
		*success = json_is_true(s);
	json_decref(root);
	return rc;
}
