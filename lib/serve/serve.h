/*
 * serve.h - promrun-serve: a receiver for runners that keep no journal.
 *
 * Runs posted over HTTP (POST /api/v1/runs, PRPC's POST /metrics) are
 * validated as promrun-record validates its options (record_build),
 * appended to their organization's journal through the journal's own
 * appender and answered only once durable per [journal] fsync (group
 * commit: one fdatasync for every request waiting).  A run with a run id
 * is recorded once: a retry within the dedupe window is answered 200
 * "duplicate"; the window's index is rebuilt from the journals at start.
 * Each organization's aggregate stays in memory, folded as batches land,
 * so a scrape costs O(series) and equals what promrun-render writes for
 * the same journal.  HTTP is GNU libmicrohttpd, driven by one event loop
 * (epoll, external mode); journals are written by one writer thread.
 *
 * Endpoints and their answers are in promrun-serve(1); the design and its
 * reasons in DESIGN.md, "The receiver".
 */
#ifndef PROMRUN_SERVE_H
#define PROMRUN_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "journal/journal.h"
#include "metrics/textfile.h"

#define SERVE_MAX_LISTEN 16		/* --listen / [serve] listen entries */
#define SERVE_MAX_ORGS 256		/* [org NAME] sections */
#define SERVE_ORG_NAME_MAX 64
#define SERVE_BODY_MAX 65536		/* bytes in a request body */
#define SERVE_BATCH_MAX 1000		/* runs in one POST /api/v1/runs */
#define SERVE_DEFAULT_DATA_DIR "/var/lib/promrun/serve"
#define SERVE_DEFAULT_ORG "default"

enum serve_log_format {
	SERVE_LOG_TEXT = 0,
	SERVE_LOG_JSON,
};

/* An [org NAME] section. */
struct serve_org_settings {
	char *name;
	char *write_token_file;		/* runners post with it; required */
	char *read_token_file;		/* Prometheus scrapes with it; or NULL */
};

/* The [serve] settings and the [org NAME] sections (config.h fills them). */
struct serve_settings {
	char *listen[SERVE_MAX_LISTEN];	/* none: LISTEN_DEFAULT */
	size_t nlisten;
	char *data_dir;			/* NULL: SERVE_DEFAULT_DATA_DIR */
	char *preset;			/* the default org's; NULL: [render] preset */
	char *prpc_psk_file;		/* PRPC's pre-shared key, or NULL */
	char *write_token_file;		/* the default org's, or NULL (open) */
	char *read_token_file;		/* the default org's, or NULL (open) */
	double dedupe_window;		/* seconds, default 24h */
	enum serve_log_format log_format;
	unsigned max_connections;	/* per listening socket, default 1024 */
	unsigned max_connections_per_ip; /* default 64 */
	unsigned connection_timeout;	/* idle seconds, default 10 */
	struct serve_org_settings orgs[SERVE_MAX_ORGS];
	size_t norgs;
};

/* serve_settings_defaults: the built-in values of every setting. */
void serve_settings_defaults(struct serve_settings *s);

/*
 * The log: one line per request and a line per notable event, formatted
 * as s->log_format says (text, or JSON with ATTEST's fields: timestamp,
 * level, target, message, fields).  Never a token, never a body.
 */
typedef void (*serve_log_fn)(void *ctx, const char *line);

/* Called after each turn of the event loop: the lines logged may be
 * buffered until then (one write for all the requests of a turn). */
typedef void (*serve_flush_fn)(void *ctx);

struct serve_config {
	const struct serve_settings *serve;
	const struct journal_settings *journal;	/* labels and fsync */
	const struct render_settings *render;	/* buckets, lost_after,
						   max_series, compaction */
	serve_log_fn log;
	serve_flush_fn flush;		/* or NULL */
	void *log_ctx;
};

struct serve;

/*
 * serve_new: check the settings, read the token files, load every
 * organization's journal (its aggregate and its dedupe index) and open the
 * listening sockets: those systemd passed (LISTEN_FDS) or else those of
 * [serve] listen (default LISTEN_DEFAULT).  cfg must outlive the server.
 * Returns 0; PERR_INVALID for bad settings or token files, naming them;
 * PERR_IO for a journal that cannot be read or an address that cannot be
 * listened on; PERR_FAILED when a journal has more series than max_series;
 * PERR_NOMEM.  Free with serve_free in every case.
 */
int serve_new(struct serve **out, const struct serve_config *cfg,
    struct perr *e);

/*
 * serve_run: answer requests until SIGTERM or SIGINT; SIGHUP reads the
 * token files again (a file that cannot be read keeps the old token and is
 * logged).  On the way out the listening sockets close, /health/ready
 * answers 503, and requests already taken are finished (at most 10 s).
 * Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and ignores
 * SIGPIPE.  Returns 0, or PERR_IO when the event loop itself fails.
 */
int serve_run(struct serve *s, struct perr *e);

void serve_free(struct serve *s);

#endif
