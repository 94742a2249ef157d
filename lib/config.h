/*
 * config.h - promrun.ini: where it is found, what it may say, defaults.
 *
 * The file is found as: the -c argument, else $PROMRUN_CONFIG, else
 * SYSCONFDIR/promrun/promrun.ini (default /etc/promrun/promrun.ini).  The
 * first two must exist; the last may be absent, and then every setting has
 * its built-in default.  Unknown sections and keys are errors, so a typo
 * never silently becomes a default; so are a key set twice in its section,
 * a section header given twice (the last would silently win), an indented
 * line after a setting (inih reads it as that setting's value again), a NUL
 * byte (the value would end there), and an empty file name (path,
 * checkpoint and the [push] files; an empty output means standard output).
 * The error names the file and line, and for a repeated key or section the
 * line of the first.
 *
 * Environment overrides, applied after the file: PROMRUN_JOURNAL (journal
 * path).  A program's own options override both.
 *
 * Sections and keys (examples/promrun.ini documents each):
 *   [journal] path, fsync, labels
 *   [render]  output, preset, namespace, buckets, lost_after, max_series,
 *             mode, keep_history, max_journal_size, checkpoint
 *   [push]    url, job, grouping, user, password_file, bearer_token_file,
 *             cacert, cert, key, insecure, timeout, retries, gzip,
 *             remote_write_url, otlp_url, otlp_resource, tenant, state_dir
 *             (no password or token: secrets come from their own files or
 *             the environment, see push.h)
 */
#ifndef PROMRUN_CONFIG_H
#define PROMRUN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "metrics/textfile.h"
#include "push/grouping.h"
#include "journal/journal.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CONFIG_DEFAULT_PATH SYSCONFDIR "/promrun/promrun.ini"
#define CONFIG_MAX_RESOURCE 32	/* [push] otlp_resource items */

struct config {
	char *file;			/* the file read, or NULL (defaults only) */
	struct journal_settings journal;
	struct render_settings render;
	struct {
		char *url;		/* NULL: the client's default */
		char *job;		/* NULL: the client's default */
		struct push_group grouping; /* labels only (job unset); they
					   point into grouping_items */
		char *grouping_items[PUSH_MAX_GROUPING];
		char *user;		/* basic auth user, or NULL */
		char *password_file;	/* or NULL */
		char *bearer_token_file; /* or NULL */
		char *cacert;		/* or NULL */
		char *cert;		/* or NULL */
		char *key;		/* or NULL */
		bool insecure;		/* default false */
		bool gzip;		/* default false */
		double timeout;		/* seconds per attempt, default 10 */
		unsigned retries;	/* default 3 */
		char *remote_write_url;	/* or NULL */
		char *otlp_url;		/* or NULL */
		char *tenant;		/* X-Scope-OrgID, or NULL */
		char *state_dir;	/* NULL: config_default_state_dir */
		char *resource[CONFIG_MAX_RESOURCE]; /* OTLP "KEY=VALUE" */
		size_t nresource;
	} push;
};

/*
 * config_load: fill c from the file found as described above (explicit is
 * the -c argument or NULL), then the environment, then defaults.
 * Returns 0; PERR_INVALID for a missing explicit file, a file that cannot be
 * read (the system's reason is given) or a bad setting, with "FILE:LINE: "
 * and the key, the value and what is accepted in the message; PERR_NOMEM.
 * Call config_free afterwards in every case.
 */
int config_load(struct config *c, const char *explicit, struct perr *e);

/* config_free: release what config_load allocated; c may be reloaded after. */
void config_free(struct config *c);

/*
 * config_set_journal_path: replace the journal path (a program's -j option).
 * Returns 0 or PERR_NOMEM.
 */
int config_set_journal_path(struct config *c, const char *path,
    struct perr *e);

/*
 * config_set_string: replace *slot with a copy of value (config's memory,
 * freed by config_free).  Returns 0 or PERR_NOMEM.
 */
int config_set_string(char **slot, const char *value, struct perr *e);

/*
 * config_parse_buckets: "1,5,15" into c's render buckets: finite, strictly
 * increasing, at most RENDER_MAX_BUCKETS, "+Inf" allowed last (it is always
 * there anyway).  PERR_INVALID names the value.
 */
int config_parse_buckets(struct config *c, const char *value, struct perr *e);

struct push_options;

/*
 * config_push_defaults: fill what o leaves unset from [push]: strings that
 * are NULL, insecure and gzip when the config turns them on, and timeout and
 * retries (a program parses its own options for those afterwards).
 */
void config_push_defaults(const struct config *c, struct push_options *o);

struct endpoint_options;

/*
 * config_endpoint_defaults: for a remote-write or OTLP push (p->protocol),
 * fill what p and ep leave unset from [push]: the URL (remote_write_url or
 * otlp_url; PERR_INVALID when there is none), tenant, otlp_resource,
 * state_dir (config_default_state_dir's, kept in c, when unset); and copy the protocol, URL, tenant and JSON choice into ep
 * with the journal's path and the request size bound.
 */
int config_endpoint_defaults(struct config *c, struct push_options *p,
    struct endpoint_options *ep, struct perr *e);

/*
 * config_parse_timeout: value as seconds ("10", "2.5") or a Prometheus
 * duration ("10s", "500ms", "1m"), above 0 and at most one hour.  what
 * names the setting in the message ("--timeout", "[push] timeout").
 * Returns 0 and sets *out, or PERR_INVALID.
 */
int config_parse_timeout(const char *what, const char *value, double *out,
    struct perr *e);

/*
 * config_parse_retries: a whole number from 0 to 10.  Returns 0 and sets
 * *out, or PERR_INVALID naming what and value.
 */
int config_parse_retries(const char *what, const char *value, unsigned *out,
    struct perr *e);

/*
 * config_default_journal_path: $XDG_STATE_HOME/promrun/journal when
 * XDG_STATE_HOME is an absolute path, else ~/.local/state/promrun/journal
 * ($HOME, or the password database's home).  A malloc'd string, or NULL
 * with e set.
 */
char *config_default_journal_path(struct perr *e);

/*
 * config_default_state_dir: where promrun-push keeps what it last sent to
 * a remote-write or OTLP endpoint when neither --state-dir nor [push]
 * state_dir says: $STATE_DIRECTORY (set by systemd for a unit with
 * StateDirectory=; its first entry) when absolute, else
 * $XDG_STATE_HOME/promrun/push, else ~/.local/state/promrun/push.  A
 * malloc'd string, or NULL with e set.
 */
char *config_default_state_dir(struct perr *e);

#endif
