/*
 * dedupe.h - which runs an organization already has: the index behind
 * the receiver's exactly-once answers.
 *
 * A run is identified by (workflow, step, run id, event) within its
 * organization; a run without a run id has no identity and is never a
 * duplicate.  An entry is kept while its run's own time (end time, or start
 * time for a start) lies within the dedupe window, so the index is the same
 * whether it was built by answering posts or rebuilt from the journal at
 * start.  An entry is first pending (its batch is on the way to the
 * journal), then stored, or dropped when the batch failed.
 */
#ifndef PROMRUN_DEDUPE_H
#define PROMRUN_DEDUPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/hmap.h"
#include "journal/run.h"

struct dedupe_entry {
	double time;		/* the run's time; -INFINITY when dropped */
	uint64_t pending;	/* batch sequence while on its way, else 0 */
};

struct dedupe {
	struct hmap map;	/* key -> index in entries */
	struct dedupe_entry *entries;
	size_t n, cap;
};

#define DEDUPE_INIT { HMAP_INIT, NULL, 0, 0 }

enum dedupe_state {
	DEDUPE_NEW,		/* not known (or only outside the window) */
	DEDUPE_STORED,		/* in the journal */
	DEDUPE_PENDING,		/* on its way; *batch says which batch */
};

/*
 * dedupe_key: r's identity into key (reset first).  Returns 0; 1 when r
 * has no run id (no identity); buf.h's errors.
 */
int dedupe_key(const struct run *r, struct buf *key);

/*
 * dedupe_lookup: key's state, counting only entries whose time is at or
 * after since (now minus the window).  *batch receives the pending
 * batch's sequence.
 */
enum dedupe_state dedupe_lookup(const struct dedupe *d, const struct buf *key,
    double since, uint64_t *batch);

/*
 * dedupe_add: remember key with time, pending in batch (0: stored).  A key
 * already there takes the new time and state.  Returns 0 or PERR_NOMEM.
 */
int dedupe_add(struct dedupe *d, const struct buf *key, double time,
    uint64_t batch);

/*
 * dedupe_settle: key's pending entry becomes stored (ok) or is dropped
 * (!ok), once its batch is written or has failed.
 */
void dedupe_settle(struct dedupe *d, const struct buf *key, bool ok);

/*
 * dedupe_expire: forget entries older than since, rebuilding the map when
 * a quarter or more of it is dead, so memory follows the runs of the window.
 * Returns 0 or PERR_NOMEM (the index is unchanged then).
 */
int dedupe_expire(struct dedupe *d, double since);

/* dedupe_count: entries held (dead ones included until the next rebuild). */
size_t dedupe_count(const struct dedupe *d);

void dedupe_free(struct dedupe *d);

#endif
