/*
 * replay.h - the series a journal implies: what Prometheus would have
 * scraped from promrun-render's output every scrape interval, built into
 * a series store for the evaluator (promrun-rules eval and backtest).
 *
 * The journal is folded record by record (metrics/aggregate.h), as the
 * renderer folds it; at each scrape time T, a multiple of the scrape
 * interval between from and to, the state of the records up to T is
 * rendered through the preset (metrics/render.h, with "now" = T, so runs
 * are lost at T as a render at T would find them) and every sample is
 * stored at T with the target's job and instance labels, as a scrape
 * adds them.  A record counts from the first scrape at or after its time
 * (records are held back in time order until then).  A scrape is made
 * once the least time of the last 256 records read has passed it, so a
 * record dated in the future (a runner's clock) does not hurry it; a
 * record read after that was written late, and counts from the next
 * scrape after it is read, as it would have.  Only the metrics asked for
 * are kept (none asked: all).
 *
 * Not replayed: node_exporter's own series (node_textfile_mtime_seconds
 * and the like), Prometheus's up and scrape_* series.
 *
 * Cost: one render per scrape of the families asked for; values that do
 * not change are one run in the store (storage.h).
 */
#ifndef PROMRUN_REPLAY_H
#define PROMRUN_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "journal/journal.h"
#include "metrics/textfile.h"
#include "promql/storage.h"

#define REPLAY_SCRAPES_MAX 10000000	/* scrapes of one replay */
#define REPLAY_BATCH 64			/* scrapes between publications */

/*
 * What a replay that another thread follows while it runs calls (rules
 * evaluated as the history comes, backtest.h): the replay changes the
 * store only between lock(ctx) and unlock(ctx), and, still holding it,
 * calls published(ctx, t) once the store holds every sample of the
 * scrapes up to t: after each REPLAY_BATCH scrapes, and after the last.
 * What it has not published yet it keeps.
 */
struct replay_follow {
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);
	void (*published)(void *ctx, int64_t t);
	void *ctx;
};

struct replay_opts {
	const struct journal_settings *journal;	/* labels allowed */
	const struct render_settings *render;	/* buckets, lost_after, ... */
	const char *preset, *ns;		/* NULL: [render]'s */
	int64_t scrape_ms;			/* 0: one minute */
	int64_t from_ms, to_ms;			/* the scrapes: [from, to] */
	const char *const *metrics;		/* names wanted; NULL: all */
	size_t nmetrics;
	const char *job, *instance;		/* NULL: "node", "localhost:9100" */
	const struct replay_follow *follow;	/* NULL: the store is the
						   replay's alone until it
						   returns */
};

struct replay_stats {
	uint64_t records, damaged;	/* journal records folded, damage */
	uint64_t scrapes, renders;	/* scrapes, and renders they took */
	uint64_t samples;		/* samples stored */
	double first_time, last_time;	/* of the records (0: none) */
};

/*
 * replay_journal: replay the journal at path into st.  Returns 0;
 * PERR_INVALID for bad settings or a range of more than
 * REPLAY_SCRAPES_MAX scrapes; PERR_IO naming the file; PERR_FAILED for
 * the series limit of [render] max_series; PERR_NOMEM.
 */
int replay_journal(const char *path, const struct replay_opts *o,
    struct pq_store *st, struct replay_stats *rs, struct perr *e);

/*
 * replay_makes: whether a replay under o may make series called name (a
 * metric of its preset, asked for or not; a name made per workflow, as
 * prpc's, by its ending).  Returns 0 with *makes set; PERR_INVALID for a
 * preset or namespace replay_journal refuses; PERR_NOMEM.
 */
int replay_makes(const struct replay_opts *o, const char *name, bool *makes,
    struct perr *e);

#endif
