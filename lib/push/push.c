/* push.c - the Pushgateway client (see push.h). */
#define _DEFAULT_SOURCE		/* explicit_bzero */
#define _POSIX_C_SOURCE 200809L
#define ZLIB_CONST
#include "push/push.h"
#include "common/clock.h"
#include "metrics/expfmt.h"
#include "common/fsutil.h"
#include "common/hmap.h"

#include <curl/curl.h>
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
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define RESPONSE_MAX (64u << 10)	/* bytes of a response body kept */
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
	if (k->families == NULL)
		return 0;
	if (hmap_upsert(k->families, f->name, strlen(f->name), &slot,
	    &found) != 0)
		return perr_set(k->e, PERR_NOMEM, "out of memory");
	if (!found)
		*slot = k->input;
	else if (*slot != k->input)
		return perr_set(k->e, PERR_INVALID, "%s:%u: family %s is also "
		    "in %s: give each family in one input only", k->what,
		    f->line, f->name, display_name(k->names[*slot]));
	return 0;
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
	return 0;
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

static int
check_text(const char *text, size_t len, struct check *k)
{
	const struct expfmt_handler h = {on_family, on_sample, k};
	struct buf copy = BUF_INIT(PUSH_MAX_INPUT);
	struct expfmt_stats st;
	char empty[1] = "";
	int rc;

	/* The parser writes into the text; the body must stay as it is. */
	if (len > 0 && (rc = buf_add(&copy, text, len)) != 0)
		return perr_set(k->e, rc, rc == PERR_LIMIT ? "%s is larger "
		    "than %u MiB" : "out of memory", k->what,
		    PUSH_MAX_INPUT >> 20);
	rc = expfmt_parse(len > 0 ? copy.p : empty, len, k->what,
	    EXPFMT_NO_TIMESTAMPS, &h, &st, k->e);
	buf_free(&copy);
	if (rc == 0 && st.samples == 0 && !(k->flags & PUSH_ALLOW_EMPTY))
		return refuse_empty(k);
	return rc;
}

int
push_validate(const char *text, size_t len, const char *what,
    const struct push_group *g, unsigned flags, struct perr *e)
{
	struct check k = {g, flags, what, e, NULL, 0, NULL, true};

	return check_text(text, len, &k);
}

/* Append the whole of path ("-": standard input) to out. */
static int
read_input(const char *path, struct buf *out, struct perr *e)
{
	char chunk[65536];
	ssize_t n;
	int fd, rc = 0;

	fd = strcmp(path, "-") == 0 ? STDIN_FILENO :
	    fs_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return perr_sys(e, errno, "cannot read %s", path);
	while ((n = fs_read(fd, chunk, sizeof(chunk))) > 0)
		if ((rc = buf_add(out, chunk, (size_t)n)) != 0)
			break;
	if (n < 0)
		rc = perr_sys(e, errno, "cannot read %s", display_name(path));
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
	struct hmap families = HMAP_INIT;
	struct check k = {g, flags, NULL, e, n > 1 ? &families : NULL, 0,
	    paths, p == PUSH_GATEWAY};
	size_t start;
	int rc = 0;

	/* Each input is read straight into body and checked where it lies. */
	for (k.input = 0; rc == 0 && k.input < n; k.input++) {
		start = body->len;
		k.what = display_name(paths[k.input]);
		if ((rc = read_input(paths[k.input], body, e)) == 0)
			rc = check_text(body->len > start ? body->p + start :
			    "", body->len - start, &k);
	}
	/* What only shows together: a histogram here, its _sum there. */
	if (rc == 0 && n > 1) {
		k.what = "the inputs combined";
		k.families = NULL;
		k.flags |= PUSH_ALLOW_EMPTY;	/* each input was checked */
		rc = check_text(body->p, body->len, &k);
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
	CURL *curl;
	struct curl_slist *body_headers;	/* for PUT and POST */
	struct push_options o;
	char *base;		/* the gateway's URL, no trailing '/' */
	enum auth auth;
	char *secret;		/* password or token; cleared before free */
	uint64_t rng;		/* jitter */
	struct buf url, response, gz, desc, line;
	char errbuf[CURL_ERROR_SIZE];
};

void
push_options_init(struct push_options *o)
{
	memset(o, 0, sizeof(*o));
	o->method = PUSH_PUT;
	o->timeout = PUSH_DEFAULT_TIMEOUT;
	o->retries = PUSH_DEFAULT_RETRIES;
}

double
push_backoff(unsigned attempt, double u)
{
	double d = PUSH_BACKOFF_BASE * ldexp(1.0, attempt > 30 ? 30 :
	    (int)attempt);

	if (d > PUSH_BACKOFF_CAP)
		d = PUSH_BACKOFF_CAP;
	return d / 2 + u * d / 2;
}

bool
push_retryable_status(enum push_protocol p, long status)
{
	if (p == PUSH_OTLP)
		return status == 429 || status == 502 || status == 503 ||
		    status == 504;
	return status == 429 || (status >= 500 && status <= 599);
}

/* Errors where the request may not have arrived or been answered. */
static bool
retryable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

int
push_body_line(struct buf *out, const char *body, size_t len, size_t max)
{
	size_t start = 0, end = len, i;
	bool cut = false;
	int rc;

	while (start < end && (unsigned char)body[start] <= ' ')
		start++;
	while (end > start && (unsigned char)body[end - 1] <= ' ')
		end--;
	if (end - start > max) {
		end = start + max;
		/* Do not split a UTF-8 sequence: back up to its lead byte. */
		while (end > start && ((unsigned char)body[end] & 0xc0) == 0x80)
			end--;
		cut = true;
	}
	for (i = start; i < end; i++) {
		unsigned char c = (unsigned char)body[i];

		if ((rc = buf_addc(out, c < ' ' || c == 0x7f ? ' ' :
		    (char)c)) != 0)
			return rc;
	}
	return cut ? buf_adds(out, "...") : 0;
}


/* A -v line.  Callers pass nothing secret: the URL has no credentials. */
void
push_log(struct push_client *c, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (c->o.log == NULL)
		return;
	buf_reset(&c->line);
	va_start(ap, fmt);
	rc = buf_vaddf(&c->line, fmt, ap);
	va_end(ap);
	if (rc == 0)
		c->o.log(c->o.log_ctx, buf_str(&c->line));
}

/* A file the user named cannot be used: their input is wrong, exit 2. */
static int
as_invalid(struct perr *e)
{
	if (e != NULL)
		e->code = PERR_INVALID;
	return PERR_INVALID;
}

static void
clear_secret(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
}

/*
 * A directory where a file is wanted (fd open on file, or -1 to stat it):
 * say so, instead of "empty" or a TLS error later.  A FIFO or a device is
 * fine: --password-file <(pass show gw) is one.
 */
static bool
is_directory(int fd, const char *file, const char *what, struct perr *e)
{
	struct stat st;

	if ((fd >= 0 ? fstat(fd, &st) : stat(file, &st)) != 0 ||
	    !S_ISDIR(st.st_mode))
		return false;
	perr_set(e, PERR_INVALID, "%s %s is a directory: give the file itself",
	    what, file);
	return true;
}

/*
 * One line, at most PUSH_MAX_SECRET bytes, from file.  Read into a fixed
 * array (a growing buffer would leave copies in freed memory) and cleared.
 * Messages name the file, never what it holds.
 */
static int
read_secret(const char *file, const char *what, char **out, struct perr *e)
{
	char tmp[PUSH_MAX_SECRET + 2], label[32];
	size_t len = 0;
	ssize_t n;
	int fd, rc = 0;

	if ((fd = fs_open(file, O_RDONLY | O_CLOEXEC, 0)) < 0) {
		perr_sys(e, errno, "cannot read %s file %s", what, file);
		return as_invalid(e);
	}
	snprintf(label, sizeof(label), "%s file", what);
	if (is_directory(fd, file, label, e)) {
		close(fd);
		return PERR_INVALID;
	}
	while (len < sizeof(tmp) - 1 &&
	    (n = fs_read(fd, tmp + len, sizeof(tmp) - 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0)
		rc = perr_sys(e, errno, "cannot read %s file %s", what, file);
	close(fd);
	tmp[len] = '\0';
	if (len > 0 && tmp[len - 1] == '\n')
		tmp[--len] = '\0';
	if (len > 0 && tmp[len - 1] == '\r')
		tmp[--len] = '\0';
	if (rc != 0)
		;
	else if (len > PUSH_MAX_SECRET)
		rc = perr_set(e, PERR_INVALID, "%s file %s is longer than %d "
		    "bytes", what, file, PUSH_MAX_SECRET);
	else if (len == 0)
		rc = perr_set(e, PERR_INVALID, "%s file %s is empty", what,
		    file);
	else if (strlen(tmp) != len || strpbrk(tmp, "\r\n") != NULL)
		rc = perr_set(e, PERR_INVALID, "%s file %s holds more than one "
		    "line: put only the %s in it", what, file, what);
	else if ((*out = strdup(tmp)) == NULL)
		rc = perr_set(e, PERR_NOMEM, "out of memory");
	explicit_bzero(tmp, sizeof(tmp));
	return rc;
}

/* A secret from the environment: the same rules as a file's. */
static int
env_secret(const char *var, char **out, struct perr *e)
{
	const char *v = getenv(var);

	if (strlen(v) > PUSH_MAX_SECRET || strpbrk(v, "\r\n") != NULL)
		return perr_set(e, PERR_INVALID, "%s must be one line of at "
		    "most %d bytes", var, PUSH_MAX_SECRET);
	if ((*out = strdup(v)) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	return 0;
}

static bool
env_set(const char *var)
{
	const char *v = getenv(var);

	return v != NULL && v[0] != '\0';
}

/* Basic auth, a bearer token or none; at most one, never half of one. */
static int
load_auth(struct push_client *c, const struct push_options *o,
    struct perr *e)
{
	bool token = o->bearer_token_file != NULL ||
	    env_set("PROMRUN_PUSH_TOKEN");

	if (o->user == NULL && o->password_file != NULL)
		return perr_set(e, PERR_INVALID, "a password file is given "
		    "but no user: add --user NAME");
	if (o->user == NULL && env_set("PROMRUN_PUSH_PASSWORD"))
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
			return read_secret(o->password_file, "password",
			    &c->secret, e);
		if (env_set("PROMRUN_PUSH_PASSWORD"))
			return env_secret("PROMRUN_PUSH_PASSWORD", &c->secret, e);
		return perr_set(e, PERR_INVALID, "--user %s needs a password: "
		    "give --password-file FILE or set PROMRUN_PUSH_PASSWORD",
		    o->user);
	}
	if (!token)
		return 0;
	c->auth = AUTH_BEARER;
	if (o->bearer_token_file != NULL)
		return read_secret(o->bearer_token_file, "token", &c->secret, e);
	return env_secret("PROMRUN_PUSH_TOKEN", &c->secret, e);
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
 * The base URL: http or https, no credentials (they would be on the command
 * line and in messages), no query or fragment, not already /metrics/....
 * Messages never repeat a URL that holds credentials.
 */
static int
check_url(struct push_client *c, const char *url, struct perr *e)
{
	char q[PERR_QUOTE_MAX], *scheme = NULL, *part = NULL, *norm = NULL;
	CURLU *u = curl_url();
	size_t len;
	int rc = 0;

	if (u == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		rc = strchr(url, '@') != NULL ? perr_set(e, PERR_INVALID,
		    "invalid %s URL: use http://HOST:PORT%s or "
		    "https://HOST:PORT%s", peer_name(c), url_path(c),
		    url_path(c)) : perr_set(e, PERR_INVALID, "invalid %s URL "
		    "%s: use http://HOST:PORT%s or https://HOST:PORT%s",
		    peer_name(c), perr_quote(url, q), url_path(c), url_path(c));
	} else if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
		rc = perr_set(e, PERR_INVALID, "the %s URL holds "
		    "credentials, which would show in ps and in messages: use "
		    "--user with --password-file or PROMRUN_PUSH_PASSWORD",
		    peer_name(c));
	} else if (curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK ||
	    (c->o.protocol == PUSH_GATEWAY &&
	    curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK)) {
		rc = perr_set(e, PERR_INVALID, "%s URL %s has a %s: give only "
		    "http(s)://HOST:PORT[/PATH]", peer_name(c),
		    perr_quote(url, q), c->o.protocol == PUSH_GATEWAY ?
		    "query or fragment" : "fragment");
	} else if (c->o.protocol == PUSH_GATEWAY &&
	    curl_url_get(u, CURLUPART_PATH, &part, 0) == CURLUE_OK &&
	    strstr(part, "/metrics") != NULL) {
		rc = perr_set(e, PERR_INVALID, "gateway URL %s names a path "
		    "under /metrics: give the gateway's base URL and the group "
		    "with --job and -g", perr_quote(url, q));
	} else if (curl_url_get(u, CURLUPART_URL, &norm, 0) != CURLUE_OK ||
	    (c->base = strdup(norm)) == NULL) {
		rc = perr_set(e, PERR_NOMEM, "out of memory");
	} else if (c->o.protocol == PUSH_GATEWAY) {
		len = strlen(c->base);
		while (len > 0 && c->base[len - 1] == '/')
			c->base[--len] = '\0';
	}
	curl_free(part);
	curl_free(scheme);
	curl_free(norm);
	curl_url_cleanup(u);
	return rc;
}

static int
check_readable(const char *file, const char *what, struct perr *e)
{
	if (file == NULL)
		return 0;
	if (is_directory(-1, file, what, e))
		return PERR_INVALID;
	if (access(file, R_OK) == 0)
		return 0;
	perr_sys(e, errno, "cannot read the %s %s", what, file);
	return as_invalid(e);
}

static int
check_options(const struct push_options *o, struct perr *e)
{
	int rc;

	if (!(o->timeout > 0 && o->timeout <= PUSH_MAX_TIMEOUT))
		return perr_set(e, PERR_INVALID, "timeout %g s is out of range: "
		    "use more than 0 and at most %g s", o->timeout,
		    PUSH_MAX_TIMEOUT);
	if (o->retries > PUSH_MAX_RETRIES)
		return perr_set(e, PERR_INVALID, "%u retries are too many: use "
		    "0 to %d", o->retries, PUSH_MAX_RETRIES);
	if ((unsigned)o->method > PUSH_DELETE)
		return perr_set(e, PERR_INVALID, "unknown method");
	if (o->key != NULL && o->cert == NULL)
		return perr_set(e, PERR_INVALID, "a client key is given without "
		    "its certificate: add --cert FILE");
	if (o->tenant != NULL && (rc = push_tenant_check(o->tenant, e)) != 0)
		return rc;
	if (o->protocol == PUSH_REMOTE_WRITE && o->gzip)
		return perr_set(e, PERR_INVALID, "--gzip does not apply to "
		    "remote write, whose body is always snappy-compressed");
	if ((rc = check_readable(o->cacert, "CA file", e)) != 0 ||
	    (rc = check_readable(o->cert, "client certificate", e)) != 0 ||
	    (rc = check_readable(o->key, "client key", e)) != 0)
		return rc;
	return 0;
}

static size_t
on_response(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct buf *b = ctx;
	size_t len = size * nmemb, keep = len;

	/* Keep the start of the body for the message, read all of it. */
	if (keep > b->max - b->len)
		keep = b->max - b->len;
	if (keep > 0)
		(void)buf_add(b, data, keep);
	return len;
}

#define SETOPT(c, opt, val) \
	(curl_easy_setopt((c)->curl, (opt), (val)) == CURLE_OK)

/* What stays the same for every request of this client. */
static bool
setup_curl(struct push_client *c)
{
	long ms = (long)ceil(c->o.timeout * 1000);
	bool ok;

	ok = SETOPT(c, CURLOPT_NOSIGNAL, 1L) &&
	    SETOPT(c, CURLOPT_ERRORBUFFER, c->errbuf) &&
	    SETOPT(c, CURLOPT_WRITEFUNCTION, on_response) &&
	    SETOPT(c, CURLOPT_WRITEDATA, &c->response) &&
	    SETOPT(c, CURLOPT_USERAGENT, "promrun-push/" PROMRUN_VERSION) &&
	    SETOPT(c, CURLOPT_FOLLOWLOCATION, 0L) &&
	    SETOPT(c, CURLOPT_PROTOCOLS_STR, "http,https") &&
	    SETOPT(c, CURLOPT_TIMEOUT_MS, ms) &&
	    SETOPT(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
	if (ok && c->auth == AUTH_BASIC)
		ok = SETOPT(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) &&
		    SETOPT(c, CURLOPT_USERNAME, c->o.user) &&
		    SETOPT(c, CURLOPT_PASSWORD, c->secret);
	if (ok && c->auth == AUTH_BEARER)
		ok = SETOPT(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER) &&
		    SETOPT(c, CURLOPT_XOAUTH2_BEARER, c->secret);
	if (ok && c->o.cacert != NULL)
		ok = SETOPT(c, CURLOPT_CAINFO, c->o.cacert);
	if (ok && c->o.cert != NULL)
		ok = SETOPT(c, CURLOPT_SSLCERT, c->o.cert);
	if (ok && c->o.key != NULL)
		ok = SETOPT(c, CURLOPT_SSLKEY, c->o.key);
	if (ok && c->o.insecure)
		ok = SETOPT(c, CURLOPT_SSL_VERIFYPEER, 0L) &&
		    SETOPT(c, CURLOPT_SSL_VERIFYHOST, 0L);
	return ok;
}

static bool
add_header(struct curl_slist **list, const char *h)
{
	struct curl_slist *grown = curl_slist_append(*list, h);

	if (grown == NULL)
		return false;
	*list = grown;
	return true;
}

/* The headers of every request with a body, for the client's protocol. */
static bool
protocol_headers(struct push_client *c)
{
	struct curl_slist **h = &c->body_headers;
	char tenant[PUSH_MAX_TENANT + 32];
	bool ok;

	switch (c->o.protocol) {
	case PUSH_REMOTE_WRITE:
		/* The remote-write 1.0 specification's headers. */
		ok = add_header(h, "Content-Type: application/x-protobuf") &&
		    add_header(h, "Content-Encoding: snappy") &&
		    add_header(h, "X-Prometheus-Remote-Write-Version: 0.1.0");
		break;
	case PUSH_OTLP:
		ok = add_header(h, c->o.json ? "Content-Type: application/json" :
		    "Content-Type: application/x-protobuf");
		break;
	default:
		ok = add_header(h,
		    "Content-Type: text/plain; version=0.0.4; charset=utf-8");
	}
	if (ok && c->o.gzip)
		ok = add_header(h, "Content-Encoding: gzip");
	if (ok && c->o.tenant != NULL) {
		snprintf(tenant, sizeof(tenant), "X-Scope-OrgID: %s",
		    c->o.tenant);
		ok = add_header(h, tenant);
	}
	/* No "Expect: 100-continue" round trip before a large body. */
	return ok && add_header(h, "Expect:");
}

int
push_client_new(struct push_client **out, const struct push_options *o,
    struct perr *e)
{
	struct push_client *c;
	int rc;

	*out = NULL;
	if ((rc = check_options(o, e)) != 0)
		return rc;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	c->o = *o;
	buf_init(&c->url, 64 << 10);
	buf_init(&c->response, RESPONSE_MAX);
	buf_init(&c->gz, PUSH_MAX_INPUT + (PUSH_MAX_INPUT >> 6) + 4096);
	buf_init(&c->desc, 64 << 10);
	buf_init(&c->line, 64 << 10);
	c->rng = (uint64_t)(clock_monotonic() * 1e9) ^
	    ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(c);
		return perr_set(e, PERR_IO, "cannot start libcurl");
	}
	if ((rc = check_url(c, o->url != NULL ? o->url : PUSH_DEFAULT_URL,
	    e)) != 0 || (rc = load_auth(c, o, e)) != 0)
		goto fail;
	if ((c->curl = curl_easy_init()) == NULL || !setup_curl(c) ||
	    !protocol_headers(c)) {
		rc = perr_set(e, PERR_IO, "cannot set up libcurl");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	push_client_free(c);
	return rc;
}

void
push_client_free(struct push_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->body_headers);
	clear_secret(c->secret);
	free(c->secret);
	free(c->base);
	buf_free(&c->url);
	buf_free(&c->response);
	buf_free(&c->gz);
	buf_free(&c->desc);
	buf_free(&c->line);
	free(c);
	curl_global_cleanup();
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

/* A uniform draw in [0, 1) for the jitter (xorshift64*). */
static double
draw(struct push_client *c)
{
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return (double)((c->rng * 0x2545f4914f6cdd1dull) >> 11) /
	    9007199254740992.0;
}

static void
pause_for(double seconds)
{
	struct timespec ts;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
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
	    SETOPT(c, CURLOPT_HTTPHEADER, c->body_headers) &&
	    SETOPT(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) &&
	    SETOPT(c, CURLOPT_POSTFIELDS, body != NULL ? body : "") &&
	    SETOPT(c, CURLOPT_CUSTOMREQUEST,
	    c->o.method == PUSH_PUT ? "PUT" : (char *)NULL);
}

/* The outcome of one attempt. */
struct attempt {
	CURLcode cc;
	long status;		/* 0 without an answer */
	double seconds;
};

static void
perform(struct push_client *c, unsigned n, struct attempt *a)
{
	double t0 = clock_monotonic();

	buf_reset(&c->response);
	c->errbuf[0] = '\0';
	a->status = 0;
	a->cc = curl_easy_perform(c->curl);
	if (a->cc == CURLE_OK)
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &a->status);
	a->seconds = clock_monotonic() - t0;
	if (a->cc == CURLE_OK)
		push_log(c, "attempt %u: HTTP %ld in %.1f ms", n, a->status,
		    a->seconds * 1000);
	else
		push_log(c, "attempt %u: %s (%.1f ms)", n, c->errbuf[0] != '\0' ?
		    c->errbuf : curl_easy_strerror(a->cc), a->seconds * 1000);
}

/* The wait before the next attempt: backoff, or a longer Retry-After. */
static double
next_wait(struct push_client *c, unsigned attempt)
{
	double wait = push_backoff(attempt, draw(c));
	curl_off_t after = 0;

	if (curl_easy_getinfo(c->curl, CURLINFO_RETRY_AFTER, &after) ==
	    CURLE_OK && (double)after > wait)
		wait = (double)after < PUSH_BACKOFF_CAP ? (double)after :
		    PUSH_BACKOFF_CAP;
	return wait;
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

/* The one-line error for the last attempt of n. */
static int
failure(struct push_client *c, const struct attempt *a, unsigned n,
    struct perr *e)
{
	const char *verb = verb_of(c), *group = buf_str(&c->desc);
	struct buf line = BUF_INIT(PUSH_BODY_SHOWN + 8);
	char tries[48] = "";
	char *where = NULL;
	int rc;

	if (a->cc != CURLE_OK) {
		if (n > 1)
			snprintf(tries, sizeof(tries), " (%u attempts)", n);
		return perr_set(e, PERR_IO, "cannot %s %.200s to %s%s: %s",
		    verb, group, c->base, tries, c->errbuf[0] != '\0' ?
		    c->errbuf : curl_easy_strerror(a->cc));
	}
	if (n > 1)
		snprintf(tries, sizeof(tries), ", %u attempts", n);
	if (a->status >= 300 && a->status <= 399) {
		curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &where);
		return perr_set(e, PERR_FAILED, "%s answered the %s of "
		    "%.200s with a redirect (HTTP %ld) to %.150s: redirects are "
		    "not followed; give the final URL%s", answerer(c), verb,
		    group, a->status, where != NULL ? where : "an unnamed "
		    "place", c->o.protocol == PUSH_GATEWAY ? " with --url" :
		    "");
	}
	rc = push_body_line(&line, c->response.p != NULL ? c->response.p : "",
	    c->response.len, PUSH_BODY_SHOWN);
	perr_set(e, PERR_FAILED, "%s refused the %s of %.200s (HTTP "
	    "%ld%s): %s", answerer(c), verb, group, a->status, tries, rc == 0 &&
	    line.len > 0 ? buf_str(&line) : "(no reason given)");
	buf_free(&line);
	return PERR_FAILED;
}

static bool
accepted(const struct push_client *c, const struct attempt *a)
{
	if (a->cc != CURLE_OK)
		return false;
	if (c->o.protocol != PUSH_GATEWAY)
		return a->status >= 200 && a->status <= 299;
	return a->status == 200 || a->status == 202;
}

static bool
worth_retrying(const struct push_client *c, const struct attempt *a)
{
	return a->cc != CURLE_OK ? retryable_curl(a->cc) :
	    push_retryable_status(c->o.protocol, a->status);
}

static int with_retries(struct push_client *c, struct perr *e);

int
push_send(struct push_client *c, const struct push_group *g,
    const char *body, size_t len, struct perr *e)
{
	int rc;

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
	    SETOPT(c, CURLOPT_HTTPHEADER, c->body_headers) &&
	    SETOPT(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) &&
	    SETOPT(c, CURLOPT_POSTFIELDS, body != NULL ? body : "") &&
	    SETOPT(c, CURLOPT_CUSTOMREQUEST, (char *)NULL)))
		return perr_set(e, PERR_IO, "cannot set up the request");
	return with_retries(c, e);
}

const char *
push_response(const struct push_client *c, size_t *len)
{
	*len = c->response.len;
	return c->response.p != NULL ? c->response.p : "";
}

/* The request set up in c, sent until accepted, refused or out of retries. */
static int
with_retries(struct push_client *c, struct perr *e)
{
	struct attempt a;
	unsigned attempt;
	double wait;

	for (attempt = 0;; attempt++) {
		perform(c, attempt + 1, &a);
		if (accepted(c, &a))
			return 0;
		if (!worth_retrying(c, &a) || attempt == c->o.retries)
			return failure(c, &a, attempt + 1, e);
		wait = next_wait(c, attempt);
		push_log(c, "retry %u of %u in %.2f s", attempt + 1, c->o.retries,
		    wait);
		pause_for(wait);
	}
}
