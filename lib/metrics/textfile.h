/*
 * textfile.h - what promrun-render does, start to finish: bring the
 * textfile up to date with the journal.
 *
 * 1. Take an exclusive flock on "<checkpoint>.lock" for the whole run, so
 *    renders of one checkpoint never overlap (a path unit and a timer may
 *    fire together), and remove temporary files crashed renders left.
 * 2. Load the checkpoint when it matches the journal and the settings
 *    (checkpoint.h), else start from an empty aggregate; fold the journal
 *    from the checkpoint's offset to its end.
 * 3. Compact when asked, or when the journal is larger than
 *    max_journal_size: under the journal's exclusive lock, the records
 *    before the first one newer than keep_history are folded into state
 *    records ("meta", "snapshot", "open") written at the head of a new
 *    journal, followed by the rest of the old journal byte for byte; the
 *    new file replaces the old by rename.  Folding the new journal gives
 *    exactly the state folding the old one gave.
 * 4. Format (render.h) and replace the textfile atomically
 *    (atomicfile.h), or write to a stream.
 * 5. Save the checkpoint, unless it was used and fewer than
 *    TEXTFILE_CHECKPOINT_EVERY records came after it (reading them again
 *    costs less than writing it).  Failing to is a warning, not an error:
 *    the next render reads more of the journal, nothing is lost.
 *
 * On any error the textfile and the checkpoint are left as they were.
 */
#ifndef PROMRUN_TEXTFILE_H
#define PROMRUN_TEXTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "journal/journal.h"

#define TEXTFILE_CHECKPOINT_EVERY 1000	/* new records before it is rewritten */

#define RENDER_MAX_BUCKETS 64

/* The [render] settings (config.h fills them). */
struct render_settings {
	char *output;		/* NULL: standard output */
	char *preset;		/* NULL: "native" */
	char *namespace;	/* NULL: the preset's default */
	double buckets[RENDER_MAX_BUCKETS]; /* increasing, finite */
	size_t nbuckets;
	double lost_after;	/* seconds, default 24h */
	size_t max_series;	/* default 10000 */
	unsigned mode;		/* of the textfile, default 0644 */
	double keep_history;	/* seconds, default 30d */
	unsigned long long max_journal_size; /* bytes; 0: never compact
						automatically; default 64 MiB */
	char *checkpoint;	/* NULL: "<journal>.checkpoint" */
};

struct textfile_job {
	const struct journal_settings *journal;
	const struct render_settings *render;
	const char *output;		/* overrides [render] output; "-" is out */
	const char *preset;		/* overrides [render] preset */
	const char *ns;			/* overrides [render] namespace */
	double now;			/* the render time */
	bool compact;			/* compact now, whatever the size */
	bool rebuild;			/* ignore the checkpoint */
	FILE *out;			/* the stream for "-" or no output */
};

struct textfile_report {
	bool from_checkpoint;		/* the checkpoint was used */
	uint64_t records_read;		/* intact records read this time */
	uint64_t damaged;		/* damaged regions found this time */
	uint64_t foreign;		/* records read this time with a
					   foreign label (run_label_foreign),
					   dropped from the metrics */
	size_t samples;			/* time series written */
	bool compacted;
	uint64_t journal_before;	/* journal size before compaction */
	uint64_t journal_after;		/* and after */
	const char *written;		/* the textfile's path, or "-" */
	char warning[PERR_MSG_MAX];	/* a problem that did not stop the
					   render (checkpoint not saved), or "" */
};

/*
 * textfile_render: do the whole job.  The output, the checkpoint and the
 * journal on compaction are written by atomicfile.h's rule: a regular file
 * (through symbolic links, replaced where it lies) is replaced atomically;
 * an output that is a FIFO or a character device is written in place.
 * Returns 0 with rep filled; PERR_INVALID for bad settings (preset,
 * namespace) or an output atomicfile.h refuses (a directory, a dangling
 * link...); PERR_FAILED for the series limit; PERR_IO naming the file and
 * the reason; PERR_NOMEM.
 */
int textfile_render(const struct textfile_job *job,
    struct textfile_report *rep, struct perr *e);

#define TEXTFILE_VERIFY_LISTED 1000	/* damage entries kept for the report */

struct textfile_damage {
	uint64_t offset;
	uint64_t length;
	bool undecodable;		/* intact framing, invalid contents */
	char why[160];			/* for undecodable records */
};

struct textfile_verify_report {
	uint64_t records;		/* intact records */
	uint64_t undecodable;		/* of those, not valid records */
	uint64_t damaged;		/* damaged regions */
	uint64_t damaged_bytes;
	uint64_t tail;			/* bytes of an incomplete or damaged end */
	uint64_t size;			/* the journal's size */
	struct textfile_damage listed[TEXTFILE_VERIFY_LISTED];
	size_t nlisted;			/* the first problems, in file order */
};

/*
 * textfile_verify: read the whole journal at path, writing nothing, and
 * report its health.  Returns 0 whatever the health, or PERR_IO.
 */
int textfile_verify(const char *path, struct textfile_verify_report *rep,
    struct perr *e);

#endif
