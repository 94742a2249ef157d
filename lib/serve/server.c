/* server.c - start, event loop and stop of the receiver (see serve.h). */
#define _GNU_SOURCE
#include "serve/http.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "serve/listen.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define STOP_GRACE 10.0		/* seconds to finish what was taken */
#define EXPIRE_EVERY 60.0	/* seconds between dedupe index sweeps */
#define MEMORY_LIMIT 32768	/* bytes per connection for headers */

/* --- the log --- */

static void
emit(struct serve *s, const struct stats_log *l)
{
	struct buf line = BUF_INIT(8192);

	if (s->cfg->log == NULL)
		return;
	if (stats_log_line(&line, s->cfg->serve->log_format == SERVE_LOG_JSON,
	    l) == 0)
		s->cfg->log(s->cfg->log_ctx, buf_str(&line));
	buf_free(&line);
}

void
http_log(struct serve *s, const char *level, const char *org,
    const char *fmt, ...)
{
	struct stats_log l;
	char message[PERR_MSG_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	memset(&l, 0, sizeof(l));
	l.level = level;
	l.target = "promrun_serve";
	l.message = message;
	l.org = org;
	l.endpoint = -1;
	l.runs = -1;
	emit(s, &l);
}

void
http_completed(struct serve *s, struct request *r)
{
	struct stats_log l;
	char message[64];
	double seconds = clock_monotonic() - r->began;

	if (r->code != 0)
		stats_request(&s->stats, r->endpoint, r->code, r->ingest,
		    seconds);
	snprintf(message, sizeof(message), "%s %s %u", r->method,
	    stats_endpoint_name(r->endpoint), r->code);
	memset(&l, 0, sizeof(l));
	l.level = r->code >= 500 || r->code == 0 ? "WARN" : "INFO";
	l.target = "promrun_serve::http";
	l.message = message;
	l.org = r->org != NULL ? r->org->name : NULL;
	l.method = r->method;
	l.endpoint = (int)r->endpoint;
	l.code = r->code;
	l.duration_ms = seconds * 1000;
	l.runs = r->ingest ? r->runs : -1;
	emit(s, &l);
}

/* --- batches coming back from the writer --- */

static struct org *
org_of(struct commit_batch *b)
{
	return (struct org *)(void *)((char *)b->journal -
	    offsetof(struct org, cj));
}

/* Fold a written batch's records: scrapes show only what is durable. */
static void
fold_batch(struct serve *s, struct org *o, struct commit_batch *b)
{
	char *p = b->frames.p, *end = p + b->frames.len, *nl;
	uint64_t n = 0;
	struct perr e;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		perr_clear(&e);
		/* Only a limit promised away could fail: say so, go on. */
		if (agg_fold(o->agg, p + JOURNAL_FRAME_OVERHEAD - 1,
		    (size_t)(nl - p) - (JOURNAL_FRAME_OVERHEAD - 1), &e) != 0)
			http_log(s, "WARN", o->name, "run stored but not "
			    "counted until restart: %s", e.msg);
		n++;
	}
	o->recorded += n;
	o->version++;
	s->stats.recorded += n;
	o->journal_bytes = b->journal_size;
	o->failing = false;
}

/* Settle the identities a request's batch carried. */
static void
settle_keys(struct org *o, struct request *r, bool ok)
{
	/* A buffer never grown has p NULL: no pointer arithmetic on it. */
	const char *k = r->keys.p, *end = k != NULL ? k + r->keys.len : k;
	struct buf key = BUF_INIT(1 << 20);
	size_t len;

	for (; k < end; k += sizeof(len) + sizeof(double) + len) {
		memcpy(&len, k, sizeof(len));
		buf_reset(&key);
		if (buf_add(&key, k + sizeof(len) + sizeof(double), len) == 0)
			dedupe_settle(&o->dedupe, &key, ok);
	}
	buf_free(&key);
}

static void
wake(struct serve *s, struct request *r)
{
	struct request **p;

	for (p = &s->waiting; *p != NULL; p = &(*p)->next_waiting)
		if (*p == r) {
			*p = r->next_waiting;
			break;
		}
	if (r->failed) {
		buf_reset(&r->answer);
		r->answer_code = MHD_HTTP_SERVICE_UNAVAILABLE;
		r->answer_type = "application/json";
		r->runs = 0;
		if (buf_adds(&r->answer, "{\"error\":") ||
		    wire_json_string(&r->answer, r->failure) ||
		    buf_adds(&r->answer, "}\n"))
			buf_reset(&r->answer);
	}
	r->state = REQ_ANSWER;
	MHD_resume_connection(r->conn);
}

void
http_batch_done(struct serve *s, struct commit_batch *b)
{
	struct org *o = org_of(b);
	struct request *r = b->owner, *w, *next;
	size_t i;

	s->done_seq = b->seq;
	if (b->synced)
		s->stats.syncs++;
	if (b->rc == 0) {
		fold_batch(s, o, b);
	} else {
		o->failing = true;
		o->failure_errno = b->sys_errno;
		snprintf(o->failure, sizeof(o->failure), "%s", b->error);
		s->stats.write_errors++;
		http_log(s, "ERROR", o->name, "runs not stored: %s", b->error);
	}
	if (b->note[0] != '\0')
		http_log(s, "INFO", o->name, "%s", b->note);
	if (r != NULL) {
		settle_keys(o, r, b->rc == 0);
		o->pending_series -= r->added_series;
		r->batch = NULL;
		if (b->rc != 0) {
			r->failed = true;
			snprintf(r->failure, sizeof(r->failure), "%s", b->error);
		}
	}
	for (w = s->waiting; w != NULL; w = next) {
		next = w->next_waiting;
		for (i = 0; i < w->ndeps && b->rc != 0; i++)
			if (w->deps[i] == b->seq && !w->failed) {
				w->failed = true;
				snprintf(w->failure, sizeof(w->failure), "%s",
				    b->error);
			}
		if (w->wait_seq <= s->done_seq)
			wake(s, w);
	}
	buf_free(&b->frames);
	free(b);
}

/* --- MHD's callbacks --- */

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct serve *s = cls;
	struct request *r = *con_cls, **p;

	(void)conn;
	(void)toe;
	if (r == NULL)
		return;
	http_completed(s, r);
	for (p = &s->waiting; *p != NULL; p = &(*p)->next_waiting)
		if (*p == r) {
			*p = r->next_waiting;
			break;
		}
	if (r->batch != NULL) {
		/* Gone before its batch came back (only at shutdown). */
		r->batch->owner = NULL;
		r->org->pending_series -= r->added_series;
	}
	buf_free(&r->body);
	buf_free(&r->answer);
	buf_free(&r->keys);
	free(r->deps);
	free(r);
	*con_cls = NULL;
}

/* libmicrohttpd's messages are printf formats of its own. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char message[1024];
	size_t n;

	vsnprintf(message, sizeof(message), fmt, ap);
	n = strlen(message);
	while (n > 0 && message[n - 1] == '\n')
		message[--n] = '\0';
	http_log(cls, "WARN", NULL, "libmicrohttpd: %s", message);
}

/* --- starting --- */

static bool
org_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > SERVE_ORG_NAME_MAX || name[0] == '.' ||
	    name[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '_' ||
		    name[i] == '-' || name[i] == '.'))
			return false;
	return true;
}

/* Settings that only make sense together, checked before anything opens. */
static int
check_settings(const struct serve_config *cfg, struct perr *e)
{
	const struct serve_settings *ss = cfg->serve;
	char q[PERR_QUOTE_MAX];
	size_t i, k;

	for (i = 0; i < ss->norgs; i++) {
		const char *n = ss->orgs[i].name;

		if (!org_name_valid(n) || strcmp(n, SERVE_DEFAULT_ORG) == 0)
			return perr_set(e, PERR_INVALID, "[org %s]: an "
			    "organization's name is 1 to %d of a-z A-Z 0-9 _ . "
			    "- (not starting with . or -) and not \"%s\"",
			    perr_quote(n, q), SERVE_ORG_NAME_MAX,
			    SERVE_DEFAULT_ORG);
		if (ss->orgs[i].write_token_file == NULL)
			return perr_set(e, PERR_INVALID, "[org %s] has no "
			    "write_token_file: its runners need a token", n);
		for (k = 0; k < i; k++)
			if (strcmp(ss->orgs[k].name, n) == 0)
				return perr_set(e, PERR_INVALID, "[org %s] is "
				    "given twice", n);
	}
	for (i = 0; ss->norgs > 0 && i < cfg->journal->nlabels; i++)
		if (strcmp(cfg->journal->labels[i], "org") == 0)
			break;
	if (ss->norgs > 0 && cfg->journal->nlabels > 0 &&
	    i == cfg->journal->nlabels)
		return perr_set(e, PERR_INVALID, "[journal] labels must include "
		    "org: runs of an [org] section carry the label org");
	if (ss->dedupe_window > cfg->render->keep_history)
		return perr_set(e, PERR_INVALID, "[serve] dedupe_window is longer "
		    "than [render] keep_history: compaction would forget run "
		    "ids a retry still needs");
	return 0;
}

/* No token may open two doors: a runner's token never reads, and so on. */
static int
check_tokens(struct serve *s, struct perr *e)
{
	struct token *t[2 * SERVE_MAX_ORGS + 3];
	const char *whose[2 * SERVE_MAX_ORGS + 3];
	size_t n = 0, i, k;

	for (i = 0; i < s->norgs; i++) {
		t[n] = &s->orgs[i].write;
		whose[n++] = s->orgs[i].name;
		t[n] = &s->orgs[i].read;
		whose[n++] = s->orgs[i].name;
	}
	t[n] = &s->prpc_psk;
	whose[n++] = "prpc_psk_file";
	for (i = 0; i < n; i++)
		for (k = i + 1; k < n; k++)
			if (token_same(t[i], t[k]))
				return perr_set(e, PERR_INVALID, "two token "
				    "files hold the same token (%s and %s): "
				    "every write token, read token and the PRPC "
				    "key must differ", whose[i], whose[k]);
	return 0;
}

static int
load_tokens(struct serve *s, struct perr *e)
{
	const struct serve_settings *ss = s->cfg->serve;
	struct token psk = {NULL, 0};
	size_t i;
	int rc;

	for (i = 0; i < s->norgs; i++)
		if ((rc = org_load_tokens(&s->orgs[i], e)) != 0)
			return rc;
	if (ss->prpc_psk_file != NULL && (rc = token_load(ss->prpc_psk_file,
	    "[serve] prpc_psk_file", &psk, e)) != 0)
		return rc;
	token_free(&s->prpc_psk);
	s->prpc_psk = psk;
	return check_tokens(s, e);
}

static int
make_orgs(struct serve *s, struct perr *e)
{
	const struct serve_config *cfg = s->cfg;
	const struct serve_settings *ss = cfg->serve;
	const char *dir = ss->data_dir != NULL ? ss->data_dir :
	    SERVE_DEFAULT_DATA_DIR;
	const struct schema_preset *chainloop;
	double since = clock_now() - ss->dedupe_window;
	size_t i;
	int rc;

	if ((s->orgs = calloc(ss->norgs + 1, sizeof(*s->orgs))) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	chainloop = schema_preset_find("chainloop", NULL);
	rc = org_init(&s->orgs[0], SERVE_DEFAULT_ORG, false, dir, cfg->journal,
	    cfg->render, s->preset, cfg->render->namespace, e);
	s->norgs = 1;
	s->orgs[0].write_file = ss->write_token_file;
	s->orgs[0].read_file = ss->read_token_file;
	for (i = 0; rc == 0 && i < ss->norgs; i++) {
		rc = org_init(&s->orgs[i + 1], ss->orgs[i].name, true, dir,
		    cfg->journal, cfg->render, chainloop, NULL, e);
		s->norgs++;
		s->orgs[i + 1].write_file = ss->orgs[i].write_token_file;
		s->orgs[i + 1].read_file = ss->orgs[i].read_token_file;
	}
	for (i = 0; rc == 0 && i < s->norgs; i++)
		rc = org_load(&s->orgs[i], since, e);
	return rc;
}

static int
open_listeners(struct serve *s, struct perr *e)
{
	const struct serve_settings *ss = s->cfg->serve;
	size_t i;
	int rc;

	if ((rc = listen_inherited(s->fds, &s->nfds, LISTEN_MAX_SOCKETS,
	    e)) != 0 || s->nfds > 0)
		return rc;
	if (ss->nlisten == 0)
		return listen_open(LISTEN_DEFAULT, s->fds, &s->nfds,
		    LISTEN_MAX_SOCKETS, e);
	for (i = 0; i < ss->nlisten && rc == 0; i++)
		rc = listen_open(ss->listen[i], s->fds, &s->nfds,
		    LISTEN_MAX_SOCKETS, e);
	return rc;
}

int
serve_new(struct serve **out, const struct serve_config *cfg,
    struct perr *e)
{
	struct serve *s = calloc(1, sizeof(*s));
	const char *preset = cfg->serve->preset != NULL ? cfg->serve->preset :
	    cfg->render->preset != NULL ? cfg->render->preset : "native";
	int rc;

	*out = s;
	if (s == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	s->cfg = cfg;
	s->sigfd = -1;
	s->stats.start_time = clock_now();
	if ((s->preset = schema_preset_find(preset, e)) == NULL)
		return PERR_INVALID;
	if ((rc = schema_check_namespace(s->preset, cfg->render->namespace,
	    e)) != 0 || (rc = check_settings(cfg, e)) != 0 ||
	    (rc = make_orgs(s, e)) != 0 || (rc = load_tokens(s, e)) != 0)
		return rc;
	s->open_writes = cfg->serve->norgs == 0 &&
	    s->orgs[0].write.value == NULL;
	return open_listeners(s, e);
}

/* --- running --- */

static int
start_daemons(struct serve *s, struct perr *e)
{
	const struct serve_settings *ss = s->cfg->serve;
	char name[128];
	size_t i;

	for (i = 0; i < s->nfds; i++) {
		/* TURBO: read, write and accept before asking epoll, which
		 * mostly succeeds for short requests and saves a wakeup. */
		s->daemons[i] = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_TURBO |
		    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
		    http_dispatch, s,
		    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
		    MHD_OPTION_LISTEN_SOCKET, s->fds[i],
		    MHD_OPTION_CONNECTION_LIMIT, ss->max_connections,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		    ss->max_connections_per_ip,
		    MHD_OPTION_CONNECTION_TIMEOUT, ss->connection_timeout,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_LIMIT,
		    MHD_OPTION_STRICT_FOR_CLIENT, 1,
		    MHD_OPTION_NOTIFY_COMPLETED, completed, s,
		    MHD_OPTION_END);
		if (s->daemons[i] == NULL)
			return perr_set(e, PERR_IO, "libmicrohttpd cannot serve "
			    "listening socket %d", s->fds[i]);
		s->ndaemons++;
		listen_name(s->fds[i], name, sizeof(name));
		s->fds[i] = -1;		/* the daemon's now */
		http_log(s, "INFO", NULL, "listening on %s", name);
	}
	return 0;
}

static int
block_signals(struct serve *s, struct perr *e)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return perr_sys(e, errno, "cannot take signals");
	return 0;
}

static void
reload_tokens(struct serve *s)
{
	struct perr e;

	perr_clear(&e);
	if (load_tokens(s, &e) != 0)
		http_log(s, "ERROR", NULL, "tokens not reloaded, the old ones "
		    "stay: %s", e.msg);
	else
		http_log(s, "INFO", NULL, "tokens reloaded");
}

static void
begin_stop(struct serve *s)
{
	size_t i;
	int fd;

	if (s->stopping)
		return;
	s->stopping = true;
	http_log(s, "INFO", NULL, "stopping: finishing %zu batches",
	    commit_busy(s->commit));
	for (i = 0; i < s->ndaemons; i++)
		if ((fd = MHD_quiesce_daemon(s->daemons[i])) >= 0)
			close(fd);
}

static void
take_signals(struct serve *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload_tokens(s);
		else
			begin_stop(s);
	}
}

static void
take_batches(struct serve *s)
{
	struct commit_batch *b, *next;

	for (b = commit_done(s->commit); b != NULL; b = next) {
		next = b->next;
		http_batch_done(s, b);
	}
}

static void
expire(struct serve *s)
{
	double since = clock_now() - s->cfg->serve->dedupe_window;
	size_t i;

	for (i = 0; i < s->norgs; i++)
		dedupe_expire(&s->orgs[i].dedupe, since);
}

/* How long poll may sleep: what MHD needs, at most a second. */
static int
poll_timeout(struct serve *s)
{
	MHD_UNSIGNED_LONG_LONG t;
	int ms = s->stopping ? 100 : 1000;
	size_t i;

	for (i = 0; i < s->ndaemons; i++)
		if (MHD_get_timeout(s->daemons[i], &t) == MHD_YES &&
		    t < (MHD_UNSIGNED_LONG_LONG)ms)
			ms = (int)t;
	return ms;
}

static int
loop(struct serve *s, struct perr *e)
{
	struct pollfd pfd[LISTEN_MAX_SOCKETS + 2];
	const union MHD_DaemonInfo *info;
	double next_expire = clock_monotonic() + EXPIRE_EVERY, deadline = 0;
	size_t i, n;

	for (;;) {
		for (n = 0; n < s->ndaemons; n++) {
			info = MHD_get_daemon_info(s->daemons[n],
			    MHD_DAEMON_INFO_EPOLL_FD);
			pfd[n].fd = info != NULL ? info->epoll_fd : -1;
			pfd[n].events = POLLIN;
		}
		pfd[n].fd = commit_fd(s->commit);
		pfd[n++].events = POLLIN;
		pfd[n].fd = s->sigfd;
		pfd[n++].events = POLLIN;
		if (poll(pfd, n, poll_timeout(s)) < 0) {
			if (errno != EINTR)
				return perr_sys(e, errno, "poll failed");
			pfd[n - 1].revents = pfd[n - 2].revents = 0;
		}
		/* Only what poll says is there: a read each loop costs. */
		if (pfd[n - 1].revents & POLLIN)
			take_signals(s);
		if (pfd[n - 2].revents & POLLIN)
			take_batches(s);
		for (i = 0; i < s->ndaemons; i++)
			MHD_run(s->daemons[i]);
		commit_flush(s->commit);
		if (s->cfg->flush != NULL)
			s->cfg->flush(s->cfg->log_ctx);
		if (clock_monotonic() >= next_expire) {
			expire(s);
			next_expire = clock_monotonic() + EXPIRE_EVERY;
		}
		if (s->stopping && deadline == 0)
			deadline = clock_monotonic() + STOP_GRACE;
		if (s->stopping && ((s->waiting == NULL &&
		    commit_busy(s->commit) == 0) || clock_monotonic() > deadline))
			return 0;
	}
}

int
serve_run(struct serve *s, struct perr *e)
{
	int rc;

	if ((rc = block_signals(s, e)) != 0 ||
	    (rc = commit_start(&s->commit, e)) != 0 ||
	    (rc = start_daemons(s, e)) != 0)
		return rc;
	http_log(s, "INFO", NULL, "ready: %zu organization%s, preset %s",
	    s->norgs, s->norgs == 1 ? "" : "s", s->preset->name);
	rc = loop(s, e);
	http_log(s, "INFO", NULL, "stopped");
	return rc;
}

void
serve_free(struct serve *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ndaemons; i++)
		MHD_stop_daemon(s->daemons[i]);
	commit_stop(s->commit);
	for (i = 0; i < s->nfds; i++)
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	for (i = 0; i < s->norgs; i++)
		org_free(&s->orgs[i]);
	free(s->orgs);
	token_free(&s->prpc_psk);
	if (s->sigfd >= 0)
		close(s->sigfd);
	free(s);
}
