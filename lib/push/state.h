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
 * to state_close, so two pushes to one destination take turns.  The file,
 * version 2:
 *
 *   promrun-push-state 2 DESTINATION\n
 *   BLOCK
 *   CRC
 *
 * DESTINATION is the protocol, URL and tenant in one line; BLOCK the body
 * compressed as one snappy block (the format remote write's requests use);
 * CRC the CRC-32C of BLOCK, 4 bytes little-endian.  The body: the number
 * of series (8 bytes), then for each series, in the order last sent,
 * TIMESTAMP_MS and START_MS (two's complement) and VALUE (the double's
 * bits), 8 bytes each, little-endian, and the series' key with a NUL.
 * Binary and compressed because it is written on every push: for 10,000
 * series 120 KB rather than version 1's 1.26 MB of text, and read and
 * written without formatting numbers.  Version 1, a text line
 * "promrun-push-state 1 DESTINATION" then a line "TIMESTAMP_MS START_MS
 * VALUE KEY" per series (VALUE as 16 hex digits), is still read, and
 * replaced by version 2 by the next push that is accepted; state_dump
 * shows either as version 1's text.
 *
 * It is replaced atomically (atomicfile.h) only after a push was accepted
 * in full, so a refused push leaves it as it was; it is not fsynced (a
 * crash leaves the old state or an empty one: see state.c).  The state
 * replaced keeps a second name, ".NAME.prev" beside it, until the next
 * push (state_write) removes it: the rename then does not wait for the
 * file system to free the old file, the removal does, while a request is
 * out.
 */
#ifndef PROMRUN_STATE_H
#define PROMRUN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hmap.h"
#include "push/series.h"

#define STATE_MAX_FILE (512u << 20)	/* bytes of a state file, and of its body */
#define STATE_STALE_NAN 0x7ff0000000000002ull	/* Prometheus's staleness marker */

/* What was last sent for one series. */
struct state_rec {
	long long ts;		/* milliseconds since the epoch */
	long long start;	/* milliseconds; 0 when unknown */
	double value;
};

struct state_entry {
	const char *key;	/* in the file's text, NUL-terminated */
	size_t key_len;
	struct state_rec rec;
	bool seen;		/* matched by state_match */
};

struct state_writer;

struct push_state {
	char *path;
	char *destination;
	int lock_fd;
	char *text;		/* the file as read, which keys point into */
	struct state_entry *entries;	/* in the file's order */
	size_t n;
	struct hmap index;	/* key -> index into entries, when built */
	bool indexed;
	bool binary;		/* the file read is version 2: its faults are
				   named by record, not by line */
	struct state_writer *pending;	/* state_write's, until put or dropped */
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
 * 0700 for dir, when missing) and read the file when it exists (libsnappy
 * loaded for version 2: snappyapi.h).  A file for another destination, or
 * one that does not read back, is PERR_CORRUPT naming it and its line
 * (version 1) or record, or saying it is damaged (version 2: its checksum
 * does not match, its block does not uncompress) (remove it to start afresh: the next
 * push then sends no staleness markers and may be refused once as out of
 * order).  A series given twice, when nothing is wrong before it in the
 * file, is found by state_match instead: either way the first fault in the
 * file is the one named.  PERR_IO when dir or the lock cannot be made.  A
 * new file a killed push left beside it (state_write's) is removed.  Call
 * state_close in every case.
 */
int state_open(struct push_state *st, const char *dir, const char *name,
    const char *destination, struct perr *e);

/*
 * Reading ahead: the state read and parsed by a thread while the caller
 * does something else (reads its input), without the lock and without
 * creating anything.  state_read_ahead starts it (NULL when it cannot:
 * state_open_ahead then reads as state_open does); state_open_ahead is
 * state_open taking what was read if the file is still the one read
 * (same device, inode, size and times, looked at under the lock), and
 * reading it again otherwise; what was read ahead is never reported, and
 * a file that did not read back is read again for state_open's message.
 * state_ahead_found says whether the thread found the file and read it
 * back (found, the state directory and the lock's file exist already,
 * barring their removal since); false for NULL.  Both wait for the thread
 * to be done, not for it to exit.  state_ahead_free waits for that and
 * frees ahead, taken or not (NULL is fine for all): late, so the thread's
 * exit is not waited for on the way to the request.
 */
struct state_ahead;
struct state_ahead *state_read_ahead(const char *dir, const char *name,
    const char *destination);
bool state_ahead_found(struct state_ahead *ahead);
int state_open_ahead(struct push_state *st, const char *dir, const char *name,
    const char *destination, struct state_ahead *ahead, struct perr *e);
void state_ahead_free(struct state_ahead *ahead);

/*
 * state_match: prev[i] (room for set->nseries) is the record series i of
 * set had when last sent, or NULL for a series new to the destination;
 * each entry matched is marked seen.  A push mostly sends the series of
 * the one before in the same order, so the entry in series i's place is
 * tried first, and the entries are hashed into an index only when one is
 * not there, or the file has more.  Call it once, before anything else
 * of the push can fail.  Returns 0; PERR_CORRUPT, naming the line, for a
 * file that has a series twice (found here rather than by state_open,
 * but before anything is sent); PERR_NOMEM.
 */
int state_match(struct push_state *st, const struct series_set *set,
    const struct state_rec **prev, struct perr *e);

/*
 * state_lookup: after state_match, the record of key[0..len), or NULL.
 * Only entries state_match did not see need it (state_vanished's keys,
 * read back).
 */
const struct state_rec *state_lookup(const struct push_state *st,
    const char *key, size_t len);

/*
 * state_vanished: append, one per line, the keys of the entries
 * state_match did not see (the series set lacks), sorted (so keys of one
 * name are together).  buf.h's errors.
 */
int state_vanished(const struct push_state *st, struct buf *keys);

/*
 * state_commit: replace the file with recs[i] for set's series i: what is
 * now sent, as version 2.  Series not in set are forgotten.  Returns 0;
 * PERR_LIMIT for a body past STATE_MAX_FILE (nothing written); PERR_IO;
 * PERR_NOMEM; snappyapi_load's PERR_IO.
 */
int state_commit(struct push_state *st, const struct series_set *set,
    const struct state_rec *recs, struct perr *e);

/*
 * state_commit in two steps, so that the file can be written while a
 * receiver works on the request it is the state after: state_write writes
 * the new file beside the old one (atomicfile.h's temporary file), and
 * gives the old one its second name (the one before it removed), and
 * state_put puts the new one in place, or state_drop removes it and the
 * second name (state_close too).  st must not be used by another thread
 * between state_write and state_put or state_drop.  state_write lets the entries read from the file go
 * (state_match and state_vanished are done with them by then).
 * state_write's returns are state_commit's; state_put's 0 or PERR_IO.
 */
int state_write(struct push_state *st, const struct series_set *set,
    const struct state_rec *recs, struct perr *e);
int state_put(struct push_state *st, struct perr *e);
void state_drop(struct push_state *st);

/*
 * state_dump: append the state file at path, of either version, to out as
 * version 1's text: "promrun-push-state 1 DESTINATION", then a line
 * "TIMESTAMP_MS START_MS VALUE KEY" per series in the file's order, VALUE
 * as 16 hex digits (for people and tests: test/tools/state-dump).  Takes
 * no lock.  Returns 0; state_open's PERR_CORRUPT (a file that is not a
 * state file is one at line 1); PERR_IO; PERR_NOMEM.
 */
int state_dump(const char *path, struct buf *out, struct perr *e);

/* state_close: drop what state_write left, release the lock and the memory. */
void state_close(struct push_state *st);

/*
 * state_next_ts: the timestamp for a sample of value v at t (ms) after
 * prev (NULL for a new series): t when later than prev's; prev's own when
 * not later and v is the value sent then (a resend, which receivers take
 * as a duplicate); else one millisecond after prev's.
 */
long long state_next_ts(const struct state_rec *prev, long long t, double v);

#endif
