/* push.c - the Pushgateway client (see push.h). */
#define _POSIX_C_SOURCE 200809L
#define ZLIB_CONST
#include "push/push.h"
#include "push/curlapi.h"
#include "push/secret.h"
#include "push/snappyapi.h"
#include "push/transfer.h"
#include "metrics/expfmt.h"
#include "common/fsutil.h"
#include "common/hmap.h"
#include "common/latch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define STDIN_NAME "(stdin)"

static const char *const method_names[] = {"PUT", "POST", "DELETE"};

const char *
push_method_name(enum push_method m)
{
	return (unsigned)m < 3 ? method_names[m] : "PUT";
}

int
push_protocol_parse(const char *name, enum push_protocol *p, struct perr *e)
{
	static const char *const names[] = {"gateway", "remote-write", "otlp"};
	char q[PERR_QUOTE_MAX];
	size_t i;

	for (i = 0; i < 3; i++)
		if (strcmp(name, names[i]) == 0) {
			*p = (enum push_protocol)i;
			return 0;
		}
	return perr_set(e, PERR_INVALID, "--mode %s: use gateway, remote-write "
	    "or otlp", perr_quote(name, q));
}

/* --- 2. the body --- */

struct check {
	const struct push_group *g;
	unsigned flags;
	const char *what;
	struct perr *e;
	struct hmap *families;	/* family -> input index, across inputs */
	size_t input;
	char *const *names;	/* the inputs' names, for messages */
	bool gateway;		/* refuse the families the gateway owns */
	const struct expfmt_handler *also;	/* after the checks, or NULL */
};

/* The families the gateway exposes itself and overrides in every group. */
static bool
gateway_owned(const char *name)
{
	static const char *const prefixes[] = {"go_", "process_",
	    "pushgateway_"};
	size_t i;

	if (strcmp(name, "push_time_seconds") == 0 ||
	    strcmp(name, "push_failure_time_seconds") == 0)
		return true;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static const char *
display_name(const char *path)
{
	return strcmp(path, "-") == 0 ? STDIN_NAME : path;
}

static int
on_family(void *ctx, const struct expfmt_family *f)
{
	struct check *k = ctx;
	size_t *slot;
	bool found;

	if (k->gateway && gateway_owned(f->name))
		return perr_set(k->e, PERR_INVALID, "%s:%u: family %s belongs "
		    "to the Pushgateway, which exposes push_time_seconds, "
		    "push_failure_time_seconds, go_*, process_* and "
		    "pushgateway_* itself: rename it", k->what, f->line,
		    f->name);
	if (k->families != NULL) {
		if (hmap_upsert(k->families, f->name, strlen(f->name), &slot,
		    &found) != 0)
			return perr_set(k->e, PERR_NOMEM, "out of memory");
		if (!found)
			*slot = k->input;
		else if (*slot != k->input)
			return perr_set(k->e, PERR_INVALID, "%s:%u: family %s is "
			    "also in %s: give each family in one input only",
			    k->what, f->line, f->name,
			    display_name(k->names[*slot]));
	}
	return k->also != NULL && k->also->family != NULL ?
	    k->also->family(k->also->ctx, f) : 0;
}

/* A label the grouping key sets too would be overwritten by the gateway. */
static int
on_sample(void *ctx, const struct expfmt_sample *s)
{
	char qv[PERR_QUOTE_MAX], qg[PERR_QUOTE_MAX];
	struct check *k = ctx;
	const char *group_value;
	size_t i;

	/* For an endpoint series.c refuses the clash, in its own words. */
	for (i = 0; k->gateway && i < s->nlabels; i++) {
		/* An empty value is no label: there is nothing to overwrite. */
		if (s->labels[i].value[0] == '\0')
			continue;
		group_value = push_group_value(k->g, s->labels[i].name);
		if (group_value == NULL ||
		    strcmp(group_value, s->labels[i].value) == 0)
			continue;
		return perr_set(k->e, PERR_INVALID, "%s:%u: %s has %s=%s but "
		    "the grouping key says %s=%s, and the gateway would "
		    "overwrite it: drop the label or push to that group",
		    k->what, s->line, s->name, s->labels[i].name,
		    perr_quote(s->labels[i].value, qv), s->labels[i].name,
		    perr_quote(group_value, qg));
	}
	return k->also != NULL && k->also->sample != NULL ?
	    k->also->sample(k->also->ctx, s) : 0;
}

/*
 * An input without a sample would empty the group (a PUT), or only renew
 * its push time (a POST): what a failed promrun-render before a pipe
 * leaves.  HELP and TYPE lines alone are no better: the gateway drops
 * families without samples.
 */
static int
refuse_empty(const struct check *k)
{
	struct buf group = BUF_INIT(PERR_MSG_MAX);
	int rc;

	(void)push_group_describe(k->g, &group);
	rc = perr_set(k->e, PERR_INVALID, "%s: no samples (empty, or comments "
	    "only): nothing sent, the group %.200s keeps its series "
	    "(--allow-empty to push it anyway)", k->what, buf_str(&group));
	buf_free(&group);
	return rc;
}

/* Parse and check text[0..len) where it lies (it is written into). */
static int
check_in_place(char *text, size_t len, struct check *k)
{
	const struct expfmt_handler h = {on_family, on_sample, k};
	struct expfmt_stats st;
	char empty[1] = "";
	int rc;

	rc = expfmt_parse(len > 0 ? text : empty, len, k->what,
	    EXPFMT_NO_TIMESTAMPS, &h, &st, k->e);
	if (rc == 0 && st.samples == 0 && !(k->flags & PUSH_ALLOW_EMPTY))
		return refuse_empty(k);
	return rc;
}

/* Check a copy: the text is a body to send as it is. */
static int
check_text(const char *text, size_t len, struct check *k)
{
	struct buf copy = BUF_INIT(PUSH_MAX_INPUT);
	int rc;

	if (len > 0 && (rc = buf_add(&copy, text, len)) != 0)
		return perr_set(k->e, rc, rc == PERR_LIMIT ? "%s is larger "
		    "than %u MiB" : "out of memory", k->what,
		    PUSH_MAX_INPUT >> 20);
	rc = check_in_place(copy.p, len, k);
	buf_free(&copy);
	return rc;
}

/* The last check of a load: in place when also is to see it. */
static int
check_last(char *text, size_t len, struct check *k,
    const struct expfmt_handler *also)
{
	if (also == NULL)
		return check_text(text, len, k);
	k->also = also;
	return check_in_place(text, len, k);
}

int
push_validate(const char *text, size_t len, const char *what,
    const struct push_group *g, unsigned flags, struct perr *e)
{
	struct check k = {g, flags, what, e, NULL, 0, NULL, true, NULL};

	return check_text(text, len, &k);
}

/* Append the whole of path ("-": standard input) to out. */
static int
read_input(const char *path, struct buf *out, struct perr *e)
{
	int fd, rc;

	fd = strcmp(path, "-") == 0 ? STDIN_FILENO :
	    fs_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return perr_sys(e, errno, "cannot read %s", path);
	if ((rc = fs_read_all(fd, out)) == PERR_IO)
		perr_sys(e, errno, "cannot read %s", display_name(path));
	else if (rc != 0)
		perr_set(e, rc, rc == PERR_LIMIT ? "%s makes the input larger "
		    "than %u MiB: push at most that much at once" : "out of "
		    "memory reading %s", display_name(path), PUSH_MAX_INPUT >> 20);
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

int
push_load(char *const *paths, size_t n, const struct push_group *g,
    unsigned flags, struct buf *body, struct perr *e)
{
	return push_load_for(PUSH_GATEWAY, paths, n, g, flags, body, e);
}

int
push_load_for(enum push_protocol p, char *const *paths, size_t n,
    const struct push_group *g, unsigned flags, struct buf *body,
    struct perr *e)
{
	return push_load_with(p, paths, n, g, flags, NULL, body, e);
}

int
push_load_with(enum push_protocol p, char *const *paths, size_t n,
    const struct push_group *g, unsigned flags,
    const struct expfmt_handler *also, struct buf *body, struct perr *e)
{
	struct hmap families = HMAP_INIT;
	struct check k = {g, flags, NULL, e, n > 1 ? &families : NULL, 0,
	    paths, p == PUSH_GATEWAY, NULL};
	size_t start;
	int rc = 0;

	/* Each input is read straight into body and checked where it lies. */
	for (k.input = 0; rc == 0 && k.input < n; k.input++) {
		start = body->len;
		k.what = display_name(paths[k.input]);
		if ((rc = read_input(paths[k.input], body, e)) != 0)
			break;
		if (n == 1)
			rc = check_last(body->len > start ? body->p + start :
			    NULL, body->len - start, &k, also);
		else
			rc = check_text(body->len > start ? body->p + start :
			    "", body->len - start, &k);
	}
	/* What only shows together: a histogram here, its _sum there. */
	if (rc == 0 && n > 1) {
		k.what = "the inputs combined";
		k.families = NULL;
		k.flags |= PUSH_ALLOW_EMPTY;	/* each input was checked */
		rc = check_last(body->p, body->len, &k, also);
	}
	hmap_free(&families);
	return rc;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
is_textfile_name(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 5 &&
	    strcmp(d->d_name + len - 5, ".prom") == 0;
}

static void
free_paths(char **paths, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

/* The *.prom files of dir, sorted, as a malloc'd array of "dir/name". */
static int
list_textfiles(const char *dir, char ***paths, size_t *n, struct perr *e)
{
	struct dirent **list = NULL;
	struct buf path = BUF_INIT(4096);
	struct stat st;
	int count, i, rc = 0;

	*paths = NULL;
	*n = 0;
	if ((count = scandir(dir, &list, is_textfile_name, by_name)) < 0)
		return perr_sys(e, errno, "cannot read directory %s", dir);
	if (count > 0 && (*paths = calloc((size_t)count, sizeof(char *))) ==
	    NULL)
		rc = perr_set(e, PERR_NOMEM, "out of memory");
	for (i = 0; i < count; i++) {
		if (rc == 0 && (buf_addf(&path, "%s/%s", dir,
		    list[i]->d_name) != 0))
			rc = perr_set(e, PERR_INVALID, "path too long in %s",
			    dir);
		/*
		 * Only regular files (or links to them), as node_exporter.  A
		 * name that vanished since the listing is skipped; one that
		 * cannot be examined (no search permission on dir) is an
		 * error, never silently "no files".
		 */
		if (rc == 0 && stat(buf_str(&path), &st) != 0) {
			if (errno != ENOENT)
				rc = perr_sys(e, errno, "cannot read %s",
				    buf_str(&path));
		} else if (rc == 0 && S_ISREG(st.st_mode)) {
			(*paths)[(*n)++] = buf_take(&path);
		}
		buf_free(&path);
		free(list[i]);
	}
	free(list);
	if (rc == 0 && *n == 0)
		rc = perr_set(e, PERR_INVALID, "no *.prom files in %s", dir);
	if (rc != 0) {
		free_paths(*paths, *n);
		*paths = NULL;
		*n = 0;
	}
	return rc;
}

void
push_dir_free(struct push_textfile *t, size_t n)
{
	size_t i;

	for (i = 0; t != NULL && i < n; i++) {
		free(t[i].path);
		buf_free(&t[i].body);
	}
	free(t);
}

int
push_dir_load(const char *dir, const struct push_group *g,
    bool with_bodies, unsigned flags, struct push_textfile **out, size_t *n,
    struct perr *e)
{
	return push_dir_load_for(PUSH_GATEWAY, dir, g, with_bodies, flags, out,
	    n, e);
}

int
push_dir_load_for(enum push_protocol p, const char *dir,
    const struct push_group *g, bool with_bodies, unsigned flags,
    struct push_textfile **out, size_t *n, struct perr *e)
{
	struct push_textfile *t;
	char **paths = NULL;
	size_t count = 0, i;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = list_textfiles(dir, &paths, &count, e)) != 0)
		return rc;
	if ((t = calloc(count, sizeof(*t))) == NULL) {
		free_paths(paths, count);
		return perr_set(e, PERR_NOMEM, "out of memory");
	}
	/* The paths move into t, which owns them from here on. */
	for (i = 0; i < count; i++) {
		t[i].path = paths[i];
		t[i].group = *g;
		buf_init(&t[i].body, PUSH_MAX_INPUT);
	}
	free(paths);
	*out = t;
	*n = count;
	for (i = 0; rc == 0 && i < count; i++) {
		rc = push_group_add(&t[i].group, PUSH_DIR_LABEL,
		    strrchr(t[i].path, '/') + 1, e);
		if (rc == 0 && with_bodies)
			rc = push_load_for(p, &t[i].path, 1, &t[i].group, flags,
			    &t[i].body, e);
	}
	return rc;
}

/* --- 3. the request --- */

enum auth { AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct push_client {
	struct transfer t;	/* the handle, the answer, the retries */
	struct push_options o;
	struct transfer_options to;
	char *base;		/* the gateway's URL, no trailing '/' */
	enum auth auth;
	char *secret;		/* password or token; cleared before free */
	struct buf url, gz, desc;
	thrd_t maker;		/* set_up's thread, */
	bool making;		/* until joined; */
	struct latch gate;	/* it waits for the gate to open, */
	struct latch done;	/* and tells when it is done */
	int made;		/* set_up's outcome, and its message: */
	struct perr made_err;
};

#define SETOPT(c, opt, val) \
	((c)->t.api->easy_setopt((c)->t.curl, (opt), (val)) == CURLE_OK)

void
push_options_init(struct push_options *o)
{
	memset(o, 0, sizeof(*o));
	o->method = PUSH_PUT;
	o->timeout = PUSH_DEFAULT_TIMEOUT;
	o->retries = PUSH_DEFAULT_RETRIES;
}

static bool
otlp_retryable(long status)
{
	return status == 429 || status == 502 || status == 503 ||
	    status == 504;
}

bool
push_retryable_status(enum push_protocol p, long status)
{
	return p == PUSH_OTLP ? otlp_retryable(status) :
	    push_retryable_http(status);
}

/* A -v line.  Callers pass nothing secret: the URL has no credentials. */
void
push_log(struct push_client *c, const char *fmt, ...)
{
	va_list ap;

	/* The log callback is the set-up's to give. */
	(void)push_client_end(c, 0, NULL);
	va_start(ap, fmt);
	transfer_vnote(&c->t, fmt, ap);
	va_end(ap);
}

/* Basic auth, a bearer token or none; at most one, never half of one. */
static int
load_auth(struct push_client *c, const struct push_options *o,
    struct perr *e)
{
	bool token = o->bearer_token_file != NULL ||
	    secret_env_set("PROMRUN_PUSH_TOKEN");

	if (o->user == NULL && o->password_file != NULL)
		return perr_set(e, PERR_INVALID, "a password file is given "
		    "but no user: add --user NAME");
	if (o->user == NULL && secret_env_set("PROMRUN_PUSH_PASSWORD"))
		return perr_set(e, PERR_INVALID, "PROMRUN_PUSH_PASSWORD is set "
		    "but no user: add --user NAME");
	if (o->user != NULL && token)
		return perr_set(e, PERR_INVALID, "both basic auth (--user) and "
		    "a bearer token (--bearer-token-file or PROMRUN_PUSH_TOKEN) "
		    "are given: use one");
	if (o->user != NULL) {
		if (o->user[0] == '\0' || strpbrk(o->user, ":\r\n") != NULL)
			return perr_set(e, PERR_INVALID, "the user name must "
			    "be non-empty, without ':' or line breaks");
		c->auth = AUTH_BASIC;
		if (o->password_file != NULL)
			return secret_read_file(o->password_file, "password",
			    &c->secret, e);
		if (secret_env_set("PROMRUN_PUSH_PASSWORD"))
			return secret_from_env("PROMRUN_PUSH_PASSWORD",
			    &c->secret, e);
		return perr_set(e, PERR_INVALID, "--user %s needs a password: "
		    "give --password-file FILE or set PROMRUN_PUSH_PASSWORD",
		    o->user);
	}
	if (!token)
		return 0;
	c->auth = AUTH_BEARER;
	if (o->bearer_token_file != NULL)
		return secret_read_file(o->bearer_token_file, "token",
		    &c->secret, e);
	return secret_from_env("PROMRUN_PUSH_TOKEN", &c->secret, e);
}

/* Who answers, for messages. */
static const char *
peer_name(const struct push_client *c)
{
	switch (c->o.protocol) {
	case PUSH_REMOTE_WRITE:
		return "remote-write";
	case PUSH_OTLP:
		return "OTLP";
	default:
		return "gateway";
	}
}

/* The path a URL of this protocol usually ends in, for messages. */
static const char *
url_path(const struct push_client *c)
{
	switch (c->o.protocol) {
	case PUSH_REMOTE_WRITE:
		return "/api/v1/write";
	case PUSH_OTLP:
		return "/v1/metrics";
	default:
		return "";
	}
}

/*
 * The URL (transfer.h's checks), which for the Pushgateway is the base one,
 * not already /metrics/..., kept without a trailing '/'.
 */
static int
check_url(struct push_client *c, const char *url, struct perr *e)
{
	const struct transfer_url how = {peer_name(c), url_path(c), "use "
	    "--user with --password-file or PROMRUN_PUSH_PASSWORD",
	    c->o.protocol != PUSH_GATEWAY};
	char q[PERR_QUOTE_MAX];
	const char *path;
	size_t len;
	int rc;

	if ((rc = transfer_url_check(&c->t, url, &how, &c->base, e)) != 0 ||
	    c->o.protocol != PUSH_GATEWAY)
		return rc;
	path = strstr(c->base, "://");
	path = path != NULL ? strchr(path + 3, '/') : NULL;
	if (path != NULL && strstr(path, "/metrics") != NULL)
		return perr_set(e, PERR_INVALID, "gateway URL %s names a path "
		    "under /metrics: give the gateway's base URL and the group "
		    "with --job and -g", perr_quote(url, q));
	len = strlen(c->base);
	while (len > 0 && c->base[len - 1] == '/')
		c->base[--len] = '\0';
	return 0;
}

static int
check_options(const struct push_options *o, const struct transfer_options
    *to, struct perr *e)
{
	int rc;

	if ((rc = transfer_check(to, o->retries, e)) != 0)
		return rc;
	if ((unsigned)o->method > PUSH_DELETE)
		return perr_set(e, PERR_INVALID, "unknown method");
	if (o->tenant != NULL && (rc = push_tenant_check(o->tenant, e)) != 0)
		return rc;
	if (o->protocol == PUSH_REMOTE_WRITE && o->gzip)
		return perr_set(e, PERR_INVALID, "--gzip does not apply to "
		    "remote write, whose body is always snappy-compressed");
	return 0;
}

static bool
setup_auth(struct push_client *c)
{
	if (c->auth == AUTH_BASIC)
		return SETOPT(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) &&
		    SETOPT(c, CURLOPT_USERNAME, c->o.user) &&
		    SETOPT(c, CURLOPT_PASSWORD, c->secret);
	if (c->auth == AUTH_BEARER)
		return SETOPT(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER) &&
		    SETOPT(c, CURLOPT_XOAUTH2_BEARER, c->secret);
	return true;
}

static bool
add_header(struct push_client *c, const char *h)
{
	return transfer_add_header(&c->t, h);
}

/* The headers of every request with a body, for the client's protocol. */
static bool
protocol_headers(struct push_client *c)
{
	char tenant[PUSH_MAX_TENANT + 32];
	bool ok;

	switch (c->o.protocol) {
	case PUSH_REMOTE_WRITE:
		/* The remote-write 1.0 specification's headers. */
		ok = add_header(c, "Content-Type: application/x-protobuf") &&
		    add_header(c, "Content-Encoding: snappy") &&
		    add_header(c, "X-Prometheus-Remote-Write-Version: 0.1.0");
		break;
	case PUSH_OTLP:
		ok = add_header(c, c->o.json ? "Content-Type: application/json" :
		    "Content-Type: application/x-protobuf");
		break;
	default:
		ok = add_header(c,
		    "Content-Type: text/plain; version=0.0.4; charset=utf-8");
	}
	if (ok && c->o.gzip)
		ok = add_header(c, "Content-Encoding: gzip");
	if (ok && c->o.tenant != NULL) {
		snprintf(tenant, sizeof(tenant), "X-Scope-OrgID: %s",
		    c->o.tenant);
		ok = add_header(c, tenant);
	}
	/* No "Expect: 100-continue" round trip before a large body. */
	return ok && add_header(c, "Expect:");
}

/*
 * What needs libcurl, in the order of the checks: the libraries loaded
 * (libsnappy for remote write's requests and the endpoints' state files),
 * the handle made, the URL checked, the credentials read, the headers set.
 */
static int
set_up(struct push_client *c, struct perr *e)
{
	const struct snappyapi *snappy;
	const struct curlapi *api;
	int rc;

	/*
	 * libsnappy first, its outcome kept for below: the state reader and
	 * the encoder need it, and it loads in a millisecond, where libcurl
	 * takes several, during which no other library can be loaded.
	 */
	if (c->o.protocol != PUSH_GATEWAY)
		(void)snappyapi_load(&snappy, NULL);
	if ((rc = curlapi_load(&api, e)) != 0 ||
	    (c->o.protocol != PUSH_GATEWAY &&
	    (rc = snappyapi_load(&snappy, e)) != 0) ||
	    (rc = transfer_open(&c->t, api, &c->to, e)) != 0 ||
	    (rc = check_url(c, c->o.url != NULL ? c->o.url : PUSH_DEFAULT_URL,
	    e)) != 0 || (rc = load_auth(c, &c->o, e)) != 0)
		return rc;
	if (!setup_auth(c) || !protocol_headers(c))
		return perr_set(e, PERR_IO, "cannot set up libcurl");
	return 0;
}

static int
make(void *arg)
{
	struct push_client *c = arg;
	int made;

	latch_wait(&c->gate);
	made = set_up(c, &c->made_err);
	/* Told, not joined (latch.h says why); push_client_free joins it. */
	c->made = made;
	latch_open(&c->done);
	return 0;
}

/* make's thread, with its gate; false when none could be started. */
static bool
start_maker(struct push_client *c, bool gate_open)
{
	if (latch_init(&c->gate, gate_open) != 0)
		return false;
	if (latch_init(&c->done, false) != 0) {
		latch_destroy(&c->gate);
		return false;
	}
	if (thrd_create(&c->maker, make, c) != thrd_success) {
		latch_destroy(&c->done);
		latch_destroy(&c->gate);
		return false;
	}
	return true;
}

void
push_client_go(struct push_client *c)
{
	if (c->making)
		latch_open(&c->gate);
}

int
push_client_begin(struct push_client **out, const struct push_options *o,
    struct perr *e)
{
	const struct transfer_options to = {"promrun-push/" PROMRUN_VERSION,
	    o->timeout, o->cacert, o->cert, o->key, o->insecure, o->log,
	    o->log_ctx};
	struct push_client *c;
	int rc;

	*out = NULL;
	if ((rc = check_options(o, &to, e)) != 0)
		return rc;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	c->o = *o;
	c->to = to;
	buf_init(&c->url, 64 << 10);
	buf_init(&c->gz, PUSH_MAX_INPUT + (PUSH_MAX_INPUT >> 6) + 4096);
	buf_init(&c->desc, 64 << 10);
	/*
	 * No thread starts while dlopen loads (glibc's loader lock): the
	 * endpoints start theirs before the gate opens (push_client_go).
	 * Where no thread can be started, the caller waits for it here.
	 */
	if (start_maker(c, o->protocol == PUSH_GATEWAY))
		c->making = true;
	else
		c->made = set_up(c, &c->made_err);
	*out = c;
	return 0;
}

int
push_client_end(struct push_client *c, int rc, struct perr *e)
{
	if (c->making) {
		push_client_go(c);
		latch_wait(&c->done);
	}
	if (c->made == 0)
		return rc;
	if (e != NULL)
		*e = c->made_err;
	return c->made;
}

int
push_client_new(struct push_client **out, const struct push_options *o,
    struct perr *e)
{
	int rc;

	if ((rc = push_client_begin(out, o, e)) != 0 ||
	    (rc = push_client_end(*out, 0, e)) == 0)
		return rc;
	push_client_free(*out);
	*out = NULL;
	return rc;
}

void
push_client_free(struct push_client *c)
{
	if (c == NULL)
		return;
	(void)push_client_end(c, 0, NULL);
	if (c->making) {
		(void)thrd_join(c->maker, NULL);
		latch_destroy(&c->done);
		latch_destroy(&c->gate);
	}
	transfer_close(&c->t);
	secret_free(c->secret);
	free(c->base);
	buf_free(&c->url);
	buf_free(&c->gz);
	buf_free(&c->desc);
	free(c);
}

/* gzip (RFC 1952) of in, into out. */
static int
gzip_body(const char *in, size_t len, struct buf *out, struct perr *e)
{
	unsigned char chunk[16384];
	z_stream z;
	int zrc, rc = 0;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip wrapper rather than zlib's. */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return perr_set(e, PERR_NOMEM, "cannot start gzip");
	z.next_in = (const Bytef *)in;
	z.avail_in = (uInt)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zrc = deflate(&z, Z_FINISH);
		if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR)
			rc = perr_set(e, PERR_NOMEM, "gzip failed");
		else if ((rc = buf_add(out, chunk, sizeof(chunk) -
		    z.avail_out)) != 0)
			perr_set(e, rc, "out of memory compressing the body");
	} while (rc == 0 && zrc != Z_STREAM_END);
	deflateEnd(&z);
	return rc;
}

/* Method, URL and body of this request; the rest was set up once. */
static bool
set_request(struct push_client *c, const char *body, size_t len)
{
	if (c->o.method == PUSH_DELETE)
		return SETOPT(c, CURLOPT_URL, buf_str(&c->url)) &&
		    SETOPT(c, CURLOPT_HTTPGET, 1L) &&
		    SETOPT(c, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL) &&
		    SETOPT(c, CURLOPT_CUSTOMREQUEST, "DELETE");
	return SETOPT(c, CURLOPT_URL, buf_str(&c->url)) &&
	    SETOPT(c, CURLOPT_HTTPHEADER, c->t.headers) &&
	    SETOPT(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) &&
	    SETOPT(c, CURLOPT_POSTFIELDS, body != NULL ? body : "") &&
	    SETOPT(c, CURLOPT_CUSTOMREQUEST,
	    c->o.method == PUSH_PUT ? "PUT" : (char *)NULL);
}

static const char *const verbs[] = {"push", "add", "delete"};

/* The verb of the request in messages. */
static const char *
verb_of(const struct push_client *c)
{
	return c->o.protocol != PUSH_GATEWAY ? "push" : verbs[c->o.method];
}

/* "gateway", or the receiver of a remote-write or OTLP request. */
static const char *
answerer(const struct push_client *c)
{
	switch (c->o.protocol) {
	case PUSH_REMOTE_WRITE:
		return "remote-write receiver";
	case PUSH_OTLP:
		return "OTLP receiver";
	default:
		return "gateway";
	}
}

/* The one-line error for a request that was not accepted. */
static int
failure(struct push_client *c, const struct transfer_result *r,
    struct perr *e)
{
	const char *verb = verb_of(c), *group = buf_str(&c->desc);
	struct buf line = BUF_INIT(PUSH_BODY_SHOWN + 32);
	char tries[48] = "";
	char *where = NULL;

	if (r->cc != CURLE_OK) {
		if (r->attempts > 1)
			snprintf(tries, sizeof(tries), " (%u attempts)",
			    r->attempts);
		return perr_set(e, PERR_IO, "cannot %s %.200s to %s%s: %s",
		    verb, group, c->base, tries, transfer_reason(&c->t, r));
	}
	if (r->attempts > 1)
		snprintf(tries, sizeof(tries), ", %u attempts", r->attempts);
	if (r->status >= 300 && r->status <= 399) {
		c->t.api->easy_getinfo(c->t.curl, CURLINFO_REDIRECT_URL,
		    &where);
		return perr_set(e, PERR_FAILED, "%s answered the %s of "
		    "%.200s with a redirect (HTTP %ld) to %.150s: redirects are "
		    "not followed; give the final URL%s", answerer(c), verb,
		    group, r->status, where != NULL ? where : "an unnamed "
		    "place", c->o.protocol == PUSH_GATEWAY ? " with --url" :
		    "");
	}
	(void)transfer_answer_line(&c->t, &line);
	perr_set(e, PERR_FAILED, "%s refused the %s of %.200s (HTTP "
	    "%ld%s): %s", answerer(c), verb, group, r->status, tries,
	    line.len > 0 ? buf_str(&line) : "(no reason given)");
	buf_free(&line);
	return PERR_FAILED;
}

/* The request set up in c, sent until accepted, refused or out of retries. */
static int
with_retries(struct push_client *c, struct perr *e)
{
	struct transfer_result r;

	transfer_perform(&c->t, c->o.retries, c->o.protocol == PUSH_OTLP ?
	    otlp_retryable : push_retryable_http, &r);
	if (r.cc == CURLE_OK && (c->o.protocol != PUSH_GATEWAY ?
	    r.status >= 200 && r.status <= 299 :
	    r.status == 200 || r.status == 202))
		return 0;
	return failure(c, &r, e);
}

int
push_send(struct push_client *c, const struct push_group *g,
    const char *body, size_t len, struct perr *e)
{
	int rc;

	if ((rc = push_client_end(c, 0, e)) != 0)
		return rc;
	buf_reset(&c->url);
	buf_reset(&c->desc);
	buf_reset(&c->gz);
	if (buf_adds(&c->url, c->base) != 0 ||
	    push_group_path(g, &c->url) != 0 ||
	    push_group_describe(g, &c->desc) != 0)
		return perr_set(e, PERR_INVALID, "grouping key too long");
	if (c->o.method != PUSH_DELETE && c->o.gzip) {
		if ((rc = gzip_body(body != NULL ? body : "", len, &c->gz,
		    e)) != 0)
			return rc;
		push_log(c, "%s %s %s: %zu bytes, %zu gzipped",
		    push_method_name(c->o.method), buf_str(&c->url),
		    buf_str(&c->desc), len, c->gz.len);
		body = c->gz.p;
		len = c->gz.len;
	} else if (c->o.method != PUSH_DELETE) {
		push_log(c, "%s %s %s: %zu bytes", push_method_name(c->o.method),
		    buf_str(&c->url), buf_str(&c->desc), len);
	} else {
		push_log(c, "DELETE %s %s", buf_str(&c->url), buf_str(&c->desc));
	}
	if (!set_request(c, body, len))
		return perr_set(e, PERR_IO, "cannot set up the request");
	return with_retries(c, e);
}

int
push_post(struct push_client *c, const char *what, const char *body,
    size_t len, struct perr *e)
{
	int rc;

	if ((rc = push_client_end(c, 0, e)) != 0)
		return rc;
	buf_reset(&c->desc);
	buf_reset(&c->gz);
	if (buf_adds(&c->desc, what) != 0)
		return perr_set(e, PERR_INVALID, "request name too long");
	if (c->o.gzip) {
		if ((rc = gzip_body(body, len, &c->gz, e)) != 0)
			return rc;
		push_log(c, "POST %s %s: %zu bytes, %zu gzipped", c->base, what,
		    len, c->gz.len);
		body = c->gz.p;
		len = c->gz.len;
	} else {
		push_log(c, "POST %s %s: %zu bytes", c->base, what, len);
	}
	if (!(SETOPT(c, CURLOPT_URL, c->base) &&
	    SETOPT(c, CURLOPT_HTTPHEADER, c->t.headers) &&
	    SETOPT(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) &&
	    SETOPT(c, CURLOPT_POSTFIELDS, body != NULL ? body : "") &&
	    SETOPT(c, CURLOPT_CUSTOMREQUEST, (char *)NULL)))
		return perr_set(e, PERR_IO, "cannot set up the request");
	return with_retries(c, e);
}

const char *
push_response(const struct push_client *c, size_t *len)
{
	*len = c->t.response.len;
	return c->t.response.p != NULL ? c->t.response.p : "";
}
