/*
 * org.h - one organization of the receiver: its journal, the aggregate
 * folded from it, the index of the runs it has (dedupe.h), its tokens and
 * its counters.
 *
 * The default organization ("default") takes PRPC's posts, posts with the
 * [serve] write token (or any post while it is open) and is scraped at
 * GET /metrics in the [serve] preset.  Each [org NAME] is written with its
 * write token and scraped at /prom/NAME/metrics in the chainloop preset;
 * its runs carry the label org=NAME.  Journals live in DATA_DIR/NAME/journal.
 */
#ifndef PROMRUN_ORG_H
#define PROMRUN_ORG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "journal/journal.h"
#include "metrics/aggregate.h"
#include "metrics/schema.h"
#include "metrics/textfile.h"
#include "serve/commit.h"
#include "serve/dedupe.h"
#include "serve/token.h"

struct org {
	char *name;
	bool named;			/* an [org NAME] section */
	char *journal;			/* DATA_DIR/NAME/journal */
	struct journal_settings js;	/* [journal] with this path */
	const struct schema_preset *preset;
	const char *ns;			/* namespace, or NULL */
	struct agg_config acfg;
	struct agg *agg;
	struct dedupe dedupe;
	const char *write_file, *read_file;	/* token files, or NULL */
	struct token write, read;
	struct commit_journal cj;	/* the writer's */
	size_t pending_series;		/* new series promised to batches on
					   their way */
	uint64_t recorded, duplicates;
	uint64_t version;		/* changes with every fold */
	/*
	 * The last render: valid while nothing is folded and no open run
	 * becomes lost (until); a scrape then sends it again with the render
	 * time (the value at time_at, time_len bytes) made now.
	 */
	struct {
		bool valid;
		uint64_t version;
		double until;
		struct buf text;
		size_t time_at, time_len;	/* time_len 0: no such line */
		struct buf scratch;	/* where the renderer makes the text:
					   its memory kept between renders */
	} cache;
	unsigned long long journal_bytes;
	bool failing;			/* the last write failed */
	int failure_errno;		/* its system error, or 0 */
	char failure[PERR_MSG_MAX];
};

/*
 * org_init: set o up for organization name (named: an [org] section)
 * under data_dir, folding with preset p and namespace ns.  js and rs must
 * outlive o.  Returns 0 or PERR_NOMEM/PERR_INVALID.
 */
int org_init(struct org *o, const char *name, bool named,
    const char *data_dir, const struct journal_settings *js,
    const struct render_settings *rs, const struct schema_preset *p,
    const char *ns, struct perr *e);

/*
 * org_load: read the journal: fold it into a new aggregate and index the
 * runs with a run id whose time is at or after since.  Returns 0;
 * PERR_IO naming the journal; PERR_FAILED for the series limit; PERR_NOMEM.
 */
int org_load(struct org *o, double since, struct perr *e);

/*
 * org_load_tokens: read o's token files (those named), replacing the
 * tokens only when every file reads.  Returns 0 or PERR_INVALID/NOMEM.
 */
int org_load_tokens(struct org *o, struct perr *e);

/*
 * org_check_health: a failing org whose journal's file system has room
 * again and is writable is taken as healthy (the next write tells for
 * sure).  Returns !o->failing.
 */
bool org_check_health(struct org *o);

void org_free(struct org *o);

#endif
