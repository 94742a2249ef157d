/* config.c - promrun.ini via inih (see config.h). */
#define _POSIX_C_SOURCE 200809L
#include "config.h"
#include "common/buf.h"
#include "common/clock.h"
#include "push/endpoint.h"
#include "push/push.h"
#include "push/remote.h"
#include "serve/client.h"
#include "journal/run.h"
#include "metrics/schema.h"
#include "common/text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <ini.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A setter checks value and stores it; on error it explains with key and value. */
typedef int (*setter_fn)(struct config *c, const char *value, struct perr *e);

struct key {
	const char *section;
	const char *name;
	setter_fn set;
};

int
config_set_string(char **slot, const char *value, struct perr *e)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	free(*slot);
	*slot = copy;
	return 0;
}

static int
set_journal_path(struct config *c, const char *value, struct perr *e)
{
	if (value[0] == '\0')
		return perr_set(e, PERR_INVALID, "[journal] path is empty: give "
		    "the journal's file name");
	return config_set_string(&c->journal.path, value, e);
}

static int
set_journal_fsync(struct config *c, const char *value, struct perr *e)
{
	char q[PERR_QUOTE_MAX];

	if (strcmp(value, "always") == 0)
		c->journal.fsync = JOURNAL_FSYNC_ALWAYS;
	else if (strcmp(value, "never") == 0)
		c->journal.fsync = JOURNAL_FSYNC_NEVER;
	else
		return perr_set(e, PERR_INVALID, "[journal] fsync = %s: use "
		    "always or never", perr_quote(value, q));
	return 0;
}

static void
free_labels(struct config *c)
{
	size_t i;

	for (i = 0; i < c->journal.nlabels; i++)
		free(c->journal.labels[i]);
	c->journal.nlabels = 0;
}

static int
set_journal_labels(struct config *c, const char *value, struct perr *e)
{
	struct perr why;
	char name[128];
	size_t pos = 0, len;
	int rc;

	free_labels(c);
	while ((len = name_list_next(value, &pos, name, sizeof(name))) > 0) {
		if (len >= sizeof(name))
			return perr_set(e, PERR_INVALID, "[journal] labels: a "
			    "label name is longer than %zu bytes",
			    sizeof(name) - 1);
		if ((rc = run_label_name_check(name, &why)) != 0)
			return perr_set(e, rc, "[journal] labels: %s", why.msg);
		if (c->journal.nlabels == JOURNAL_MAX_LABELS)
			return perr_set(e, PERR_INVALID, "[journal] labels: at "
			    "most %d names", JOURNAL_MAX_LABELS);
		if ((c->journal.labels[c->journal.nlabels] = strdup(name)) ==
		    NULL)
			return perr_set(e, PERR_NOMEM, "out of memory");
		c->journal.nlabels++;
	}
	return 0;
}

static int
set_render_output(struct config *c, const char *value, struct perr *e)
{
	if (value[0] == '\0' || strcmp(value, "-") == 0) {
		free(c->render.output);
		c->render.output = NULL;
		return 0;
	}
	return config_set_string(&c->render.output, value, e);
}

static int
set_render_preset(struct config *c, const char *value, struct perr *e)
{
	if (schema_preset_find(value, e) == NULL)
		return PERR_INVALID;
	return config_set_string(&c->render.preset, value, e);
}

static int
set_render_namespace(struct config *c, const char *value, struct perr *e)
{
	char q[PERR_QUOTE_MAX];

	if (!metric_name_valid(value))
		return perr_set(e, PERR_INVALID, "[render] namespace = %s: use a "
		    "metric-name prefix matching [a-zA-Z_:][a-zA-Z0-9_:]*",
		    perr_quote(value, q));
	return config_set_string(&c->render.namespace, value, e);
}

int
config_parse_buckets(struct config *c, const char *value, struct perr *e)
{
	char item[64], q[PERR_QUOTE_MAX], *end;
	size_t pos = 0, len, n = 0;
	double v;

	while ((len = name_list_next(value, &pos, item, sizeof(item))) > 0) {
		if (strcmp(item, "+Inf") == 0 && value[pos] == '\0')
			break;
		v = strtod(item, &end);
		if (len >= sizeof(item) || *end != '\0' || item[0] == '\0' ||
		    !isfinite(v) || strchr(item, 'x') != NULL)
			return perr_set(e, PERR_INVALID, "bucket %s is not a "
			    "finite number: give increasing bounds such as "
			    "1,5,15,30", perr_quote(item, q));
		if (n > 0 && v <= c->render.buckets[n - 1])
			return perr_set(e, PERR_INVALID, "bucket %s is not above "
			    "the one before it: bounds must increase",
			    perr_quote(item, q));
		if (n == RENDER_MAX_BUCKETS)
			return perr_set(e, PERR_INVALID, "more than %d buckets",
			    RENDER_MAX_BUCKETS);
		c->render.buckets[n++] = v;
	}
	if (n == 0)
		return perr_set(e, PERR_INVALID, "no buckets given: give "
		    "increasing bounds such as 1,5,15,30");
	c->render.nbuckets = n;
	return 0;
}

static int
set_render_buckets(struct config *c, const char *value, struct perr *e)
{
	return config_parse_buckets(c, value, e);
}

static int
set_duration(double *slot, const char *key, const char *value,
    struct perr *e)
{
	return clock_parse_duration(value, key, slot, e);
}

static int
set_render_lost_after(struct config *c, const char *value, struct perr *e)
{
	return set_duration(&c->render.lost_after, "[render] lost_after",
	    value, e);
}

static int
set_render_keep_history(struct config *c, const char *value, struct perr *e)
{
	return set_duration(&c->render.keep_history, "[render] keep_history",
	    value, e);
}

/* "[push] retries = x" in a config message, "--retries x" for an option. */
static const char *
sep(const char *what)
{
	return what[0] == '[' ? " =" : "";
}

/* A whole number within [min, max], for counts and sizes. */
static int
parse_count(const char *key, const char *value, unsigned long long min,
    unsigned long long max, unsigned long long *out, struct perr *e)
{
	char q[PERR_QUOTE_MAX], *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || errno != 0 || v < min ||
	    v > max || *end != '\0')
		return perr_set(e, PERR_INVALID, "%s%s %s: use a whole number "
		    "from %llu to %llu", key, sep(key), perr_quote(value, q),
		    min, max);
	*out = v;
	return 0;
}

static int
set_render_max_series(struct config *c, const char *value, struct perr *e)
{
	unsigned long long v = 0;
	int rc;

	if ((rc = parse_count("[render] max_series", value, 1, 100000000,
	    &v, e)) != 0)
		return rc;
	c->render.max_series = (size_t)v;
	return 0;
}

static int
set_render_mode(struct config *c, const char *value, struct perr *e)
{
	char q[PERR_QUOTE_MAX], *end;
	unsigned long v;

	v = strtoul(value, &end, 8);
	if (value[0] < '0' || value[0] > '7' || *end != '\0' || v > 0777 ||
	    strlen(value) > 4)
		return perr_set(e, PERR_INVALID, "[render] mode = %s: use an "
		    "octal file mode from 0000 to 0777 such as 0644",
		    perr_quote(value, q));
	c->render.mode = (unsigned)v;
	return 0;
}

/* Bytes with an optional K, M or G (binary multiples; "KiB" spelling too). */
static int
set_render_max_journal_size(struct config *c, const char *value,
    struct perr *e)
{
	static const char *const units[] = {"", "K", "M", "G"};
	char q[PERR_QUOTE_MAX], *end;
	unsigned long long v;
	size_t i;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (value[0] >= '0' && value[0] <= '9' && errno == 0)
		for (i = 0; i < 4; i++) {
			size_t ul = strlen(units[i]);

			if (strncmp(end, units[i], ul) != 0 ||
			    (end[ul] != '\0' && strcmp(end + ul, "iB") != 0) ||
			    (i == 0 && *end != '\0'))
				continue;
			if (v > (1ull << 50) >> (10 * i))
				break;
			c->render.max_journal_size = v << (10 * i);
			return 0;
		}
	return perr_set(e, PERR_INVALID, "[render] max_journal_size = %s: use "
	    "bytes with an optional K, M or G suffix such as 64M (0 never "
	    "compacts automatically)", perr_quote(value, q));
}


/* --- [push] --- */

int
config_parse_timeout(const char *what, const char *value, double *out,
    struct perr *e)
{
	char q[PERR_QUOTE_MAX];
	double v;

	if ((clock_parse_seconds(value, what, &v, NULL) == 0 ||
	    clock_parse_duration(value, what, &v, NULL) == 0) && v > 0 &&
	    v <= PUSH_MAX_TIMEOUT) {
		*out = v;
		return 0;
	}
	return perr_set(e, PERR_INVALID, "%s%s %s: use seconds (10, 2.5) or a "
	    "duration (10s, 500ms, 1m) above 0 and at most 1h", what, sep(what),
	    perr_quote(value, q));
}

int
config_parse_retries(const char *what, const char *value, unsigned *out,
    struct perr *e)
{
	unsigned long long v = 0;
	int rc;

	if ((rc = parse_count(what, value, 0, PUSH_MAX_RETRIES, &v, e)) != 0)
		return rc;
	*out = (unsigned)v;
	return 0;
}

static void
pick(const char **slot, const char *value)
{
	if (*slot == NULL)
		*slot = value;
}

void
config_push_defaults(const struct config *c, struct push_options *o)
{
	pick(&o->url, c->push.url);
	pick(&o->user, c->push.user);
	pick(&o->password_file, c->push.password_file);
	pick(&o->bearer_token_file, c->push.bearer_token_file);
	pick(&o->cacert, c->push.cacert);
	pick(&o->cert, c->push.cert);
	pick(&o->key, c->push.key);
	o->insecure = o->insecure || c->push.insecure;
	o->gzip = o->gzip || c->push.gzip;
	o->timeout = c->push.timeout;
	o->retries = c->push.retries;
}

int
config_endpoint_defaults(struct config *c, struct push_options *p,
    struct endpoint_options *ep, struct perr *e)
{
	const char *key = p->protocol == PUSH_OTLP ? "otlp_url" :
	    "remote_write_url";
	size_t i;

	pick(&p->url, p->protocol == PUSH_OTLP ? c->push.otlp_url :
	    c->push.remote_write_url);
	if (p->url == NULL)
		return perr_set(e, PERR_INVALID, "no %s URL: give --%s URL or "
		    "set [push] %s", p->protocol == PUSH_OTLP ? "OTLP" :
		    "remote-write", p->protocol == PUSH_OTLP ? "otlp" :
		    "remote-write", key);
	pick(&p->tenant, c->push.tenant);
	for (i = 0; ep->nresource == 0 && i < c->push.nresource; i++)
		ep->resource[i] = c->push.resource[i];
	if (ep->nresource == 0)
		ep->nresource = c->push.nresource;
	if (c->push.state_dir == NULL && ep->state_dir == NULL &&
	    (c->push.state_dir = config_default_state_dir(e)) == NULL)
		return e != NULL ? e->code : PERR_INVALID;
	pick(&ep->state_dir, c->push.state_dir);
	ep->protocol = p->protocol;
	ep->url = p->url;
	ep->tenant = p->tenant;
	ep->json = p->json;
	ep->max_request = REMOTE_MAX_REQUEST;
	ep->journal = c->journal.path;
	return 0;
}

static int
parse_bool(const char *key, const char *value, bool *out, struct perr *e)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	char q[PERR_QUOTE_MAX];
	size_t i;

	for (i = 0; i < NELEM(yes); i++) {
		if (strcmp(value, yes[i]) == 0 || strcmp(value, no[i]) == 0) {
			*out = strcmp(value, yes[i]) == 0;
			return 0;
		}
	}
	return perr_set(e, PERR_INVALID, "%s = %s: use true or false", key,
	    perr_quote(value, q));
}

/* A non-empty string setting; empty would silently mean "none". */
static int
set_nonempty(char **slot, const char *key, const char *value, struct perr *e)
{
	if (value[0] == '\0')
		return perr_set(e, PERR_INVALID, "%s is empty: leave it out for "
		    "the default", key);
	return config_set_string(slot, value, e);
}

static int
set_render_checkpoint(struct config *c, const char *value, struct perr *e)
{
	return set_nonempty(&c->render.checkpoint, "[render] checkpoint", value,
	    e);
}

static int
set_push_url(struct config *c, const char *value, struct perr *e)
{
	return set_nonempty(&c->push.url, "[push] url", value, e);
}

static int
set_push_job(struct config *c, const char *value, struct perr *e)
{
	return set_nonempty(&c->push.job, "[push] job", value, e);
}

static void
free_grouping(struct config *c)
{
	size_t i;

	for (i = 0; i < c->push.grouping.nlabels; i++)
		free(c->push.grouping_items[i]);
	push_group_init(&c->push.grouping, NULL);
}

/* "instance=ci-1, runner=docker": NAME=VALUE items split like labels. */
static int
set_push_grouping(struct config *c, const char *value, struct perr *e)
{
	char item[1024], *copy;
	size_t pos = 0, len, n;
	int rc;

	free_grouping(c);
	while ((len = name_list_next(value, &pos, item, sizeof(item))) > 0) {
		if (len >= sizeof(item))
			return perr_set(e, PERR_INVALID, "[push] grouping: an "
			    "item is longer than %zu bytes", sizeof(item) - 1);
		n = c->push.grouping.nlabels;
		if (n == PUSH_MAX_GROUPING)
			return perr_set(e, PERR_INVALID, "[push] grouping: at "
			    "most %d labels", PUSH_MAX_GROUPING);
		if ((copy = strdup(item)) == NULL)
			return perr_set(e, PERR_NOMEM, "out of memory");
		if ((rc = push_group_add_arg(&c->push.grouping, copy, e)) != 0) {
			free(copy);
			return rc;
		}
		c->push.grouping_items[n] = copy;
	}
	return 0;
}

static int
set_push_remote_write_url(struct config *c, const char *value, struct perr *e)
{
	return set_nonempty(&c->push.remote_write_url, "[push] remote_write_url",
	    value, e);
}

static int
set_push_otlp_url(struct config *c, const char *value, struct perr *e)
{
	return set_nonempty(&c->push.otlp_url, "[push] otlp_url", value, e);
}

static int
set_push_tenant(struct config *c, const char *value, struct perr *e)
{
	char q[PERR_QUOTE_MAX];

	if (push_tenant_check(value, NULL) != 0)
		return perr_set(e, PERR_INVALID, "[push] tenant = %s: use 1 to "
		    "%d of A-Z a-z 0-9 ! - _ . * ' ( ), not . or ..",
		    perr_quote(value, q), PUSH_MAX_TENANT);
	return config_set_string(&c->push.tenant, value, e);
}

static int
set_push_state_dir(struct config *c, const char *value, struct perr *e)
{
	return set_nonempty(&c->push.state_dir, "[push] state_dir", value, e);
}

static void
free_resource(struct config *c)
{
	size_t i;

	for (i = 0; i < c->push.nresource; i++)
		free(c->push.resource[i]);
	c->push.nresource = 0;
}

/* "deployment.environment=prod, team=ci": KEY=VALUE items. */
static int
set_push_otlp_resource(struct config *c, const char *value, struct perr *e)
{
	char item[1024], q[PERR_QUOTE_MAX];
	size_t pos = 0, len;

	free_resource(c);
	while ((len = name_list_next(value, &pos, item, sizeof(item))) > 0) {
		if (len >= sizeof(item) || strchr(item, '=') == NULL ||
		    item[0] == '=')
			return perr_set(e, PERR_INVALID, "[push] otlp_resource: "
			    "%s: use KEY=VALUE items", perr_quote(item, q));
		if (c->push.nresource == CONFIG_MAX_RESOURCE)
			return perr_set(e, PERR_INVALID, "[push] otlp_resource: "
			    "at most %d attributes", CONFIG_MAX_RESOURCE);
		if ((c->push.resource[c->push.nresource] = strdup(item)) ==
		    NULL)
			return perr_set(e, PERR_NOMEM, "out of memory");
		c->push.nresource++;
	}
	return 0;
}

static int
set_push_user(struct config *c, const char *value, struct perr *e)
{
	return set_nonempty(&c->push.user, "[push] user", value, e);
}

static int
set_push_password_file(struct config *c, const char *value, struct perr *e)
{
	return set_nonempty(&c->push.password_file, "[push] password_file",
	    value, e);
}

static int
set_push_bearer_token_file(struct config *c, const char *value,
    struct perr *e)
{
	return set_nonempty(&c->push.bearer_token_file,
	    "[push] bearer_token_file", value, e);
}

static int
set_push_cacert(struct config *c, const char *value, struct perr *e)
{
	return set_nonempty(&c->push.cacert, "[push] cacert", value, e);
}

static int
set_push_cert(struct config *c, const char *value, struct perr *e)
{
	return set_nonempty(&c->push.cert, "[push] cert", value, e);
}

static int
set_push_key(struct config *c, const char *value, struct perr *e)
{
	return set_nonempty(&c->push.key, "[push] key", value, e);
}

static int
set_push_insecure(struct config *c, const char *value, struct perr *e)
{
	return parse_bool("[push] insecure", value, &c->push.insecure, e);
}

static int
set_push_gzip(struct config *c, const char *value, struct perr *e)
{
	return parse_bool("[push] gzip", value, &c->push.gzip, e);
}

static int
set_push_timeout(struct config *c, const char *value, struct perr *e)
{
	return config_parse_timeout("[push] timeout", value, &c->push.timeout,
	    e);
}

static int
set_push_retries(struct config *c, const char *value, struct perr *e)
{
	return config_parse_retries("[push] retries", value, &c->push.retries,
	    e);
}

/* --- [record] --- */

static int
set_record_server(struct config *c, const char *value, struct perr *e)
{
	return set_nonempty(&c->record.server, "[record] server", value, e);
}

static int
set_record_token_file(struct config *c, const char *value, struct perr *e)
{
	return set_nonempty(&c->record.token_file, "[record] token_file",
	    value, e);
}

static int
set_record_timeout(struct config *c, const char *value, struct perr *e)
{
	return config_parse_timeout("[record] timeout", value,
	    &c->record.timeout, e);
}

static int
set_record_retries(struct config *c, const char *value, struct perr *e)
{
	return config_parse_retries("[record] retries", value,
	    &c->record.retries, e);
}

void
config_client_options(const struct config *c, struct client_options *o,
    bool journal_given)
{
	pick(&o->server, c->record.server);
	pick(&o->token_file, c->record.token_file);
	o->timeout = c->record.timeout;
	o->retries = c->record.retries;
	if (journal_given)
		o->server = NULL;
}

/* --- [serve] and [org NAME] --- */

static void
free_listen(struct config *c)
{
	size_t i;

	for (i = 0; i < c->serve.nlisten; i++)
		free(c->serve.listen[i]);
	c->serve.nlisten = 0;
}

int
config_add_listen(struct config *c, const char *addr, bool first,
    struct perr *e)
{
	if (first)
		free_listen(c);
	if (c->serve.nlisten == SERVE_MAX_LISTEN)
		return perr_set(e, PERR_INVALID, "more than %d listen addresses",
		    SERVE_MAX_LISTEN);
	if ((c->serve.listen[c->serve.nlisten] = strdup(addr)) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	c->serve.nlisten++;
	return 0;
}

/* "127.0.0.1:9089, [::1]:9089": addresses separated by commas or blanks. */
static int
set_serve_listen(struct config *c, const char *value, struct perr *e)
{
	char item[512];
	size_t pos = 0, len;
	bool first = true;
	int rc;

	free_listen(c);
	while ((len = name_list_next(value, &pos, item, sizeof(item))) > 0) {
		if (len >= sizeof(item))
			return perr_set(e, PERR_INVALID, "[serve] listen: an "
			    "address is longer than %zu bytes", sizeof(item) - 1);
		if ((rc = config_add_listen(c, item, first, e)) != 0)
			return rc;
		first = false;
	}
	return 0;
}

static int
set_serve_data_dir(struct config *c, const char *value, struct perr *e)
{
	return set_nonempty(&c->serve.data_dir, "[serve] data_dir", value, e);
}

static int
set_serve_preset(struct config *c, const char *value, struct perr *e)
{
	if (schema_preset_find(value, e) == NULL)
		return PERR_INVALID;
	return config_set_string(&c->serve.preset, value, e);
}

static int
set_serve_prpc_psk_file(struct config *c, const char *value, struct perr *e)
{
	return set_nonempty(&c->serve.prpc_psk_file, "[serve] prpc_psk_file",
	    value, e);
}

static int
set_serve_write_token_file(struct config *c, const char *value,
    struct perr *e)
{
	return set_nonempty(&c->serve.write_token_file,
	    "[serve] write_token_file", value, e);
}

static int
set_serve_read_token_file(struct config *c, const char *value,
    struct perr *e)
{
	return set_nonempty(&c->serve.read_token_file,
	    "[serve] read_token_file", value, e);
}

static int
set_serve_dedupe_window(struct config *c, const char *value, struct perr *e)
{
	char q[PERR_QUOTE_MAX];
	int rc;

	if ((rc = set_duration(&c->serve.dedupe_window, "[serve] dedupe_window",
	    value, e)) != 0)
		return rc;
	if (c->serve.dedupe_window <= 0)
		return perr_set(e, PERR_INVALID, "[serve] dedupe_window = %s: "
		    "use a duration above 0 such as 24h", perr_quote(value, q));
	return 0;
}

static int
set_serve_log_format(struct config *c, const char *value, struct perr *e)
{
	char q[PERR_QUOTE_MAX];

	if (strcmp(value, "text") == 0)
		c->serve.log_format = SERVE_LOG_TEXT;
	else if (strcmp(value, "json") == 0)
		c->serve.log_format = SERVE_LOG_JSON;
	else
		return perr_set(e, PERR_INVALID, "[serve] log_format = %s: use "
		    "text or json", perr_quote(value, q));
	return 0;
}

static int
set_serve_count(unsigned *slot, const char *key, const char *value,
    struct perr *e)
{
	unsigned long long v = 0;
	int rc;

	if ((rc = parse_count(key, value, 1, 100000, &v, e)) != 0)
		return rc;
	*slot = (unsigned)v;
	return 0;
}

static int
set_serve_max_connections(struct config *c, const char *value,
    struct perr *e)
{
	return set_serve_count(&c->serve.max_connections,
	    "[serve] max_connections", value, e);
}

static int
set_serve_max_connections_per_ip(struct config *c, const char *value,
    struct perr *e)
{
	return set_serve_count(&c->serve.max_connections_per_ip,
	    "[serve] max_connections_per_ip", value, e);
}

static int
set_serve_connection_timeout(struct config *c, const char *value,
    struct perr *e)
{
	char q[PERR_QUOTE_MAX];
	double v;

	if (clock_parse_duration(value, "[serve] connection_timeout", &v,
	    NULL) != 0 || v < 1 || v > 3600 || v != floor(v))
		return perr_set(e, PERR_INVALID, "[serve] connection_timeout = "
		    "%s: use whole seconds from 1s to 1h such as 10s",
		    perr_quote(value, q));
	c->serve.connection_timeout = (unsigned)v;
	return 0;
}

static int
set_org_write_token_file(struct config *c, const char *value,
    struct perr *e)
{
	struct serve_org_settings *o = &c->serve.orgs[c->current_org];

	return set_nonempty(&o->write_token_file, "write_token_file", value, e);
}

static int
set_org_read_token_file(struct config *c, const char *value, struct perr *e)
{
	struct serve_org_settings *o = &c->serve.orgs[c->current_org];

	return set_nonempty(&o->read_token_file, "read_token_file", value, e);
}

/* The [org NAME] section being read: found, or added. */
static int
enter_org(struct config *c, const char *name, struct perr *e)
{
	size_t i;

	while (*name == ' ' || *name == '\t')
		name++;
	if (*name == '\0')
		return perr_set(e, PERR_INVALID, "[org] needs a name: write "
		    "[org NAME]");
	for (i = 0; i < c->serve.norgs; i++)
		if (strcmp(c->serve.orgs[i].name, name) == 0) {
			c->current_org = i;
			return 0;
		}
	if (c->serve.norgs == SERVE_MAX_ORGS)
		return perr_set(e, PERR_INVALID, "more than %d [org] sections",
		    SERVE_MAX_ORGS);
	if ((c->serve.orgs[i].name = strdup(name)) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	c->current_org = c->serve.norgs++;
	return 0;
}

static const struct key keys[] = {
	{"journal", "path", set_journal_path},
	{"journal", "fsync", set_journal_fsync},
	{"journal", "labels", set_journal_labels},
	{"render", "output", set_render_output},
	{"render", "preset", set_render_preset},
	{"render", "namespace", set_render_namespace},
	{"render", "buckets", set_render_buckets},
	{"render", "lost_after", set_render_lost_after},
	{"render", "max_series", set_render_max_series},
	{"render", "mode", set_render_mode},
	{"render", "keep_history", set_render_keep_history},
	{"render", "max_journal_size", set_render_max_journal_size},
	{"render", "checkpoint", set_render_checkpoint},
	{"push", "url", set_push_url},
	{"push", "job", set_push_job},
	{"push", "grouping", set_push_grouping},
	{"push", "user", set_push_user},
	{"push", "password_file", set_push_password_file},
	{"push", "bearer_token_file", set_push_bearer_token_file},
	{"push", "cacert", set_push_cacert},
	{"push", "cert", set_push_cert},
	{"push", "key", set_push_key},
	{"push", "insecure", set_push_insecure},
	{"push", "gzip", set_push_gzip},
	{"push", "timeout", set_push_timeout},
	{"push", "retries", set_push_retries},
	{"push", "remote_write_url", set_push_remote_write_url},
	{"push", "otlp_url", set_push_otlp_url},
	{"push", "otlp_resource", set_push_otlp_resource},
	{"push", "tenant", set_push_tenant},
	{"push", "state_dir", set_push_state_dir},
	{"record", "server", set_record_server},
	{"record", "token_file", set_record_token_file},
	{"record", "timeout", set_record_timeout},
	{"record", "retries", set_record_retries},
	{"serve", "listen", set_serve_listen},
	{"serve", "data_dir", set_serve_data_dir},
	{"serve", "preset", set_serve_preset},
	{"serve", "prpc_psk_file", set_serve_prpc_psk_file},
	{"serve", "write_token_file", set_serve_write_token_file},
	{"serve", "read_token_file", set_serve_read_token_file},
	{"serve", "dedupe_window", set_serve_dedupe_window},
	{"serve", "log_format", set_serve_log_format},
	{"serve", "max_connections", set_serve_max_connections},
	{"serve", "max_connections_per_ip", set_serve_max_connections_per_ip},
	{"serve", "connection_timeout", set_serve_connection_timeout},
	{"org", "write_token_file", set_org_write_token_file},
	{"org", "read_token_file", set_org_read_token_file},
};

/* --- reading the file --- */

/* The sections keys[] names, each of which may appear once. */
static const char *const sections[] = {"journal", "render", "push", "record",
    "serve"};
/* What the messages list as known, sections[] and [org NAME]. */
#define KNOWN_SECTIONS "[journal], [render], [push], [record], [serve] and " \
    "[org NAME]"

#define ORG_KEYS 2	/* the "org" keys of keys[], the last ones */

struct loader {
	struct config *c;
	FILE *fp;
	unsigned line;		/* physical lines read so far */
	int read_errno;		/* why reading the file failed, or 0 */
	bool after_key;		/* a setting since the last header: inih
				   takes an indented line as its continuation */
	bool continuation;	/* the line just read is one */
	size_t last_key;	/* keys[] index of the last setting */
	unsigned key_line[NELEM(keys)];	/* where each key was set, or 0 */
	unsigned section_line[NELEM(sections)]; /* each header's line, or 0 */
	/* [org NAME] sections: each header once, each key once per org. */
	char org_name[SERVE_MAX_ORGS][SERVE_ORG_NAME_MAX + 2];
	unsigned org_line[SERVE_MAX_ORGS];
	size_t norg_headers;
	unsigned org_key_line[SERVE_MAX_ORGS][ORG_KEYS];
	unsigned error_line;	/* the earliest problem's line, or 0 */
	struct perr first;	/* and the problem */
};

/*
 * Keep the problem at line when it is the earliest so far: the lines are
 * read in order, so of two on one line the one seen first is kept.
 */
static int note(struct loader *l, unsigned line, enum perr_code code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
note(struct loader *l, unsigned line, enum perr_code code, const char *fmt,
    ...)
{
	va_list ap;

	if (l->error_line != 0 && l->error_line <= line)
		return 0;
	l->error_line = line;
	va_start(ap, fmt);
	perr_clear(&l->first);
	l->first.code = code;
	vsnprintf(l->first.msg, sizeof(l->first.msg), fmt, ap);
	va_end(ap);
	return 0;
}

/*
 * A "[name]" header, as inih reads one (after the BOM on line 1, blanks
 * skipped, up to the first "]" not after an inline comment), and which of
 * sections[] it names: NELEM(sections) for another name or no header.
 */
static size_t
header_section(const char *text, bool *is_header)
{
	const char *end;
	bool was_space = false;
	size_t i;

	*is_header = false;
	while (isspace((unsigned char)*text))
		text++;
	if (*text != '[')
		return NELEM(sections);
	for (end = text + 1; *end != '\0' && *end != ']' &&
	    !(was_space && *end == ';'); end++)
		was_space = isspace((unsigned char)*end);
	if (*end != ']')
		return NELEM(sections);
	*is_header = true;
	for (i = 0; i < NELEM(sections); i++)
		if ((size_t)(end - text - 1) == strlen(sections[i]) &&
		    strncmp(text + 1, sections[i], strlen(sections[i])) == 0)
			break;
	return i;
}

/*
 * A header that names none of sections[]: an "[org NAME]" header, each
 * organization's at most once, or an unknown section, refused at its
 * header (so that one without keys is not silently ignored).
 */
static void
other_header(struct loader *l, const char *text)
{
	char name[SERVE_ORG_NAME_MAX + 2], q[PERR_QUOTE_MAX];
	const char *p, *end;
	size_t i, n;

	while (isspace((unsigned char)*text))
		text++;
	if (strncmp(text, "[org", 4) != 0 ||
	    !isspace((unsigned char)text[4])) {
		end = strchr(text, ']');
		n = (size_t)(end - text - 1) < sizeof(name) - 1 ?
		    (size_t)(end - text - 1) : sizeof(name) - 1;
		memcpy(name, text + 1, n);
		name[n] = '\0';
		note(l, l->line, PERR_INVALID, "unknown section [%s]: known are "
		    KNOWN_SECTIONS, perr_quote(name, q));
		return;
	}
	for (p = text + 4; isspace((unsigned char)*p); p++)
		;
	if ((end = strchr(p, ']')) == NULL)
		return;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	n = (size_t)(end - p) < sizeof(name) - 1 ? (size_t)(end - p) :
	    sizeof(name) - 1;
	memcpy(name, p, n);
	name[n] = '\0';
	for (i = 0; i < l->norg_headers; i++)
		if (strcmp(l->org_name[i], name) == 0) {
			note(l, l->line, PERR_INVALID, "[org %s] appears again "
			    "(first on line %u): put each section's settings "
			    "under one header", name, l->org_line[i]);
			return;
		}
	if (l->norg_headers < SERVE_MAX_ORGS) {
		memcpy(l->org_name[l->norg_headers], name, n + 1);
		l->org_line[l->norg_headers++] = l->line;
	}
}

/*
 * What inih will make of the line just read: an indented line after a
 * setting continues that setting's value; a header starts a section, which
 * may not have appeared before.
 */
static void
classify(struct loader *l, const char *line)
{
	const char *text = line;
	bool is_header;
	size_t i;

	if (l->line == 1 && strncmp(text, "\xEF\xBB\xBF", 3) == 0)
		text += 3;
	l->continuation = false;
	if (isspace((unsigned char)text[0])) {
		while (isspace((unsigned char)*text))
			text++;
		if (l->after_key && *text != '\0' && *text != ';' &&
		    *text != '#') {
			l->continuation = true;
			return;
		}
	}
	i = header_section(text, &is_header);
	if (!is_header)
		return;
	l->after_key = false;
	if (i == NELEM(sections)) {
		other_header(l, text);
		return;
	}
	if (l->section_line[i] != 0)
		note(l, l->line, PERR_INVALID, "[%s] appears again (first on "
		    "line %u): put each section's settings under one header",
		    sections[i], l->section_line[i]);
	else
		l->section_line[i] = l->line;
}

/*
 * inih reads through this, byte by byte rather than with fgets, which would
 * hide a NUL byte: a NUL would end the value there, so a line holding one
 * is refused.  It also counts lines (the distro build fixes
 * INI_HANDLER_LINENO off), spots lines longer than inih's fixed buffer,
 * which it would otherwise split into two lines, and classifies each line.
 */
static char *
read_line(char *str, int num, void *stream)
{
	struct loader *l = stream;
	bool nul = false, cut = false;
	int ch = 0, n = 0;

	while (n < num - 1 && (ch = getc(l->fp)) != EOF) {
		nul = nul || ch == '\0';
		str[n++] = (char)ch;
		if (ch == '\n')
			break;
	}
	if (ch == EOF && ferror(l->fp)) {
		l->read_errno = errno != 0 ? errno : EIO;
		return NULL;
	}
	if (n == 0)
		return NULL;
	str[n] = '\0';
	l->line++;
	/* The buffer filled before the newline: is there more of the line? */
	if (n == num - 1 && str[n - 1] != '\n' && (ch = getc(l->fp)) != EOF &&
	    ch != '\n') {
		cut = true;
		while ((ch = getc(l->fp)) != EOF && ch != '\n')
			nul = nul || ch == '\0';
	}
	if (nul)
		note(l, l->line, PERR_INVALID, "a NUL byte in the line (a value "
		    "would end there): the file must be text");
	if (cut)
		note(l, l->line, PERR_INVALID, "line too long: at most %d "
		    "characters", INI_MAX_LINE - 2);
	classify(l, str);
	return str;
}

/* Apply keys[i] = value, unless it was set already or this continues it. */
static int
set_key(struct loader *l, size_t i, const char *value)
{
	struct perr e;

	if (l->continuation)
		return note(l, l->line, PERR_INVALID, "an indented line "
		    "continues [%s] %s from line %u: write each setting on one "
		    "line, not indented", keys[l->last_key].section,
		    keys[l->last_key].name, l->key_line[l->last_key]);
	l->last_key = i;
	if (i >= NELEM(keys) - ORG_KEYS) {
		unsigned *at = &l->org_key_line[l->c->current_org]
		    [i - (NELEM(keys) - ORG_KEYS)];

		if (*at != 0)
			return note(l, l->line, PERR_INVALID, "[org %s] %s is "
			    "set again (first on line %u): set each key once",
			    l->c->serve.orgs[l->c->current_org].name,
			    keys[i].name, *at);
		*at = l->key_line[i] = l->line;
	} else if (l->key_line[i] != 0) {
		return note(l, l->line, PERR_INVALID, "[%s] %s is set again "
		    "(first on line %u): set each key once", keys[i].section,
		    keys[i].name, l->key_line[i]);
	}
	l->key_line[i] = l->line;
	perr_clear(&e);
	if (keys[i].set(l->c, value, &e) != 0)
		return note(l, l->line, e.code, "%s", e.msg);
	return 1;
}

static int
handle(void *user, const char *section, const char *name, const char *value)
{
	struct loader *l = user;
	char qs[PERR_QUOTE_MAX], qn[PERR_QUOTE_MAX];
	struct perr e;
	size_t i;
	bool section_known = false;

	l->after_key = true;
	/* [org NAME]: the keys of "org", for the organization named. */
	if (strncmp(section, "org", 3) == 0 &&
	    (section[3] == '\0' || section[3] == ' ')) {
		perr_clear(&e);
		if (enter_org(l->c, section + 3, &e) != 0)
			return note(l, l->line, e.code, "%s", e.msg);
		section = "org";
	}
	for (i = 0; i < NELEM(keys); i++) {
		if (strcmp(section, keys[i].section) != 0)
			continue;
		section_known = true;
		if (strcmp(name, keys[i].name) == 0)
			return set_key(l, i, value);
	}
	if (section[0] == '\0')
		return note(l, l->line, PERR_INVALID, "setting %s outside any "
		    "section: put it under a section such as [journal]",
		    perr_quote(name, qn));
	if (!section_known)
		return note(l, l->line, PERR_INVALID, "unknown section [%s]: "
		    "known are " KNOWN_SECTIONS, perr_quote(section, qs));
	return note(l, l->line, PERR_INVALID, "unknown key %s in [%s]",
	    perr_quote(name, qn), section);
}

/* Turn inih's result and our problems into one error with file and line. */
static int
report(struct loader *l, const char *file, int result, struct perr *e)
{
	unsigned syntax_line = result > 0 ? (unsigned)result : 0;

	if (result == -2)
		return perr_set(e, PERR_NOMEM, "out of memory reading %s", file);
	if (l->error_line != 0 &&
	    (syntax_line == 0 || l->error_line <= syntax_line))
		return perr_set(e, l->first.code, "%s:%u: %s", file,
		    l->error_line, l->first.msg);
	if (syntax_line != 0)
		return perr_set(e, PERR_INVALID, "%s:%u: syntax error: expected "
		    "[section], name = value or a comment", file, syntax_line);
	return 0;
}

/*
 * A config that cannot be read is the user's configuration error, like a
 * syntax error: exit status 2, with the system's reason.
 */
static int
unreadable(struct perr *e, int errnum, const char *file)
{
	perr_sys(e, errnum, "cannot read config file %s", file);
	if (e != NULL)
		e->code = PERR_INVALID;
	return PERR_INVALID;
}

static int
load_file(struct config *c, const char *file, bool must_exist,
    struct perr *e)
{
	struct loader l;
	int result;

	memset(&l, 0, sizeof(l));
	l.c = c;
	l.fp = fopen(file, "re");
	if (l.fp == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		if (errno == ENOENT)
			return perr_set(e, PERR_INVALID, "config file %s does "
			    "not exist", file);
		return unreadable(e, errno, file);
	}
	if (config_set_string(&c->file, file, e) != 0) {
		fclose(l.fp);
		return PERR_NOMEM;
	}
	result = ini_parse_stream(read_line, &l, handle, &l);
	fclose(l.fp);
	if (l.read_errno != 0)
		return unreadable(e, l.read_errno, file);
	return report(&l, file, result, e);
}

/* $XDG_STATE_HOME/promrun/LEAF, else ~/.local/state/promrun/LEAF. */
static char *
user_state_path(const char *leaf, const char *what, const char *instead,
    struct perr *e)
{
	struct buf b = BUF_INIT(4096);
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	struct passwd *pw;
	int rc;

	if (state != NULL && state[0] == '/') {
		rc = buf_addf(&b, "%s/promrun/%s", state, leaf);
	} else {
		if (home == NULL || home[0] == '\0') {
			pw = getpwuid(getuid());
			home = pw != NULL ? pw->pw_dir : NULL;
		}
		if (home == NULL) {
			perr_set(e, PERR_INVALID, "no %s: HOME is not set; set "
			    "%s", what, instead);
			return NULL;
		}
		rc = buf_addf(&b, "%s/.local/state/promrun/%s", home, leaf);
	}
	if (rc != 0) {
		perr_set(e, PERR_INVALID, "%s too long", what);
		return NULL;
	}
	return buf_take(&b);
}

char *
config_default_journal_path(struct perr *e)
{
	return user_state_path("journal", "journal path",
	    "[journal] path or PROMRUN_JOURNAL", e);
}

char *
config_default_state_dir(struct perr *e)
{
	const char *systemd = getenv("STATE_DIRECTORY");
	struct buf b = BUF_INIT(4096);

	/* systemd's StateDirectory=: the first of its colon-separated list. */
	if (systemd != NULL && systemd[0] == '/') {
		if (buf_add(&b, systemd, strcspn(systemd, ":")) != 0) {
			perr_set(e, PERR_INVALID, "STATE_DIRECTORY too long");
			return NULL;
		}
		return buf_take(&b);
	}
	return user_state_path("push", "state directory",
	    "[push] state_dir or --state-dir", e);
}

int
config_set_journal_path(struct config *c, const char *path, struct perr *e)
{
	return set_journal_path(c, path, e);
}

static int
apply_environment(struct config *c, struct perr *e)
{
	const char *journal = getenv("PROMRUN_JOURNAL");

	if (journal != NULL && journal[0] != '\0')
		return config_set_string(&c->journal.path, journal, e);
	return 0;
}

static void
set_defaults(struct config *c)
{
	static const double buckets[] = {1, 5, 15, 30, 60, 120, 300, 600, 1200,
	    1800, 3600, 7200};

	c->journal.fsync = JOURNAL_FSYNC_ALWAYS;
	memcpy(c->render.buckets, buckets, sizeof(buckets));
	c->render.nbuckets = sizeof(buckets) / sizeof(buckets[0]);
	c->render.lost_after = 86400;
	c->render.max_series = 10000;
	c->render.mode = 0644;
	c->render.keep_history = 30 * 86400;
	c->render.max_journal_size = 64ull << 20;
	c->push.timeout = PUSH_DEFAULT_TIMEOUT;
	c->push.retries = PUSH_DEFAULT_RETRIES;
	c->record.timeout = PUSH_DEFAULT_TIMEOUT;
	c->record.retries = PUSH_DEFAULT_RETRIES;
	serve_settings_defaults(&c->serve);
}

int
config_load(struct config *c, const char *explicit, struct perr *e)
{
	const char *env = getenv("PROMRUN_CONFIG");
	int rc;

	memset(c, 0, sizeof(*c));
	set_defaults(c);
	if (explicit != NULL)
		rc = load_file(c, explicit, true, e);
	else if (env != NULL && env[0] != '\0')
		rc = load_file(c, env, true, e);
	else
		rc = load_file(c, CONFIG_DEFAULT_PATH, false, e);
	if (rc == 0)
		rc = apply_environment(c, e);
	if (rc == 0 && c->journal.path == NULL &&
	    (c->journal.path = config_default_journal_path(e)) == NULL)
		rc = e != NULL ? e->code : PERR_INVALID;
	return rc;
}

void
config_free(struct config *c)
{
	size_t i;

	free(c->file);
	free(c->journal.path);
	free_labels(c);
	free(c->render.output);
	free(c->render.preset);
	free(c->render.namespace);
	free(c->render.checkpoint);
	free(c->push.url);
	free(c->push.job);
	free(c->push.remote_write_url);
	free(c->push.otlp_url);
	free(c->push.tenant);
	free(c->push.state_dir);
	free_resource(c);
	free_grouping(c);
	free(c->push.user);
	free(c->push.password_file);
	free(c->push.bearer_token_file);
	free(c->push.cacert);
	free(c->push.cert);
	free(c->push.key);
	free(c->record.server);
	free(c->record.token_file);
	free_listen(c);
	free(c->serve.data_dir);
	free(c->serve.preset);
	free(c->serve.prpc_psk_file);
	free(c->serve.write_token_file);
	free(c->serve.read_token_file);
	for (i = 0; i < c->serve.norgs; i++) {
		free(c->serve.orgs[i].name);
		free(c->serve.orgs[i].write_token_file);
		free(c->serve.orgs[i].read_token_file);
	}
	memset(c, 0, sizeof(*c));
}
