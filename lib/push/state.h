/*
 * state.h - what promrun-push last sent to one remote-write or OTLP
 * destination: for each series its key (series.h), the timestamp and value
 * of its last sample, and the start of its cumulative count (OTLP).
 *
 * It makes a stateless protocol safe to repeat: a series' timestamps never
 * go backwards (receivers refuse out-of-order samples), a series that
 * disappeared since the last push is known and gets a staleness marker,
 * and a counter keeps its start time until it resets.
 *
 * One file per destination in the state directory, named from the
 * protocol, the URL and the tenant ("remote-write-HOST-CRC.state"), and a
 * lock file beside it (".lock" appended) held exclusively from state_open
 * to state_close, so two pushes to one destination take turns.  The file:
 *
 *   promrun-push-state 1 DESTINATION
 *   TIMESTAMP_MS START_MS VALUE KEY
 *   ...
 *
 * DESTINATION is the protocol, URL and tenant in one line; VALUE the 16
 * hex digits of the double's bits (exact, and read and written without
 * floating-point formatting); KEY the series' key, to the end of the line.
 * It is replaced atomically (atomicfile.h) only after a push was accepted
 * in full, so a refused push leaves it as it was; it is not fsynced (a
 * crash leaves the old state or an empty one: see state.c).
 */
#ifndef PROMRUN_STATE_H
#define PROMRUN_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hmap.h"
#include "push/series.h"

#define STATE_MAX_FILE (512u << 20)	/* bytes of a state file */
#define STATE_STALE_NAN 0x7ff0000000000002ull	/* Prometheus's staleness marker */

/* What was last sent for one series. */
struct state_rec {
	long long ts;		/* milliseconds since the epoch */
	long long start;	/* milliseconds; 0 when unknown */
	double value;
};

struct state_entry {
	const char *key;	/* the map's copy */
	size_t key_len;
	struct state_rec rec;
};

struct push_state {
	char *path;
	char *destination;
	int lock_fd;
	struct hmap index;	/* key -> index into entries */
	struct state_entry *entries;
	size_t n, cap;
};

/*
 * state_file_name: append "PROTOCOL-HOST-CRC.state" to out: HOST the URL's
 * host (characters outside [A-Za-z0-9.-] as '_'), CRC the CRC-32C of
 * destination, in 8 hex digits.  buf.h's errors.
 */
int state_file_name(struct buf *out, const char *protocol, const char *url,
    const char *destination);

/*
 * state_open: take the lock of dir/NAME (creating dir and its parents, mode
 * 0700 for dir, when missing) and read the file when it exists.  A file
 * for another destination, or one that does not read back, is
 * PERR_CORRUPT naming it and its line (remove it to start afresh: the next
 * push then sends no staleness markers and may be refused once as out of
 * order).  PERR_IO when dir or the lock cannot be made.  Call state_close
 * in every case.
 */
int state_open(struct push_state *st, const char *dir, const char *name,
    const char *destination, struct perr *e);

/* state_lookup: the record of key[0..len), or NULL. */
const struct state_rec *state_lookup(const struct push_state *st,
    const char *key, size_t len);

/*
 * state_vanished: append, one per line, the keys of the state that set
 * does not have, sorted (so keys of one name are together).  buf.h's
 * errors.
 */
int state_vanished(const struct push_state *st, const struct series_set *set,
    struct buf *keys);

/*
 * state_commit: replace the file with recs[i] for set's series i: what is
 * now sent.  Series not in set are forgotten.  Returns 0 or PERR_IO.
 */
int state_commit(struct push_state *st, const struct series_set *set,
    const struct state_rec *recs, struct perr *e);

/* state_close: release the lock and the memory. */
void state_close(struct push_state *st);

/*
 * state_next_ts: the timestamp for a sample of value v at t (ms) after
 * prev (NULL for a new series): t when later than prev's; prev's own when
 * not later and v is the value sent then (a resend, which receivers take
 * as a duplicate); else one millisecond after prev's.
 */
long long state_next_ts(const struct state_rec *prev, long long t, double v);

#endif
