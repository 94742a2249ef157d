/*
 * commit.h - the receiver's writer: batches of framed records go to their
 * journals on a thread of their own, so the event loop never waits for a
 * disk.
 *
 * Group commit: the writer takes every batch queued while it was busy
 * (the loop queues the batches of one pass together, commit_flush),
 * writes each with one write(2) (journal.h's appender: all or nothing,
 * under the journal's exclusive lock), then syncs each journal it wrote
 * once when its policy is fsync = always, and hands the batches back in the
 * order they were submitted, each with its outcome.  A batch handed back
 * with rc 0 is in the journal and, under fsync = always, on stable storage.
 *
 * After a round the writer compacts a journal grown past the renderer's
 * max_journal_size, as promrun-render does (textfile_compact); a journal
 * with nothing old enough to fold is tried again only after it has grown by
 * another quarter of max_journal_size, not after every batch.
 *
 * Threads: commit_submit, commit_flush, commit_done and commit_stop are
 * called from one thread (the event loop); everything else in here runs on
 * the writer.
 */
#ifndef PROMRUN_COMMIT_H
#define PROMRUN_COMMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "journal/journal.h"
#include "metrics/textfile.h"

/* One journal the writer appends to; the writer's alone once submitted to. */
struct commit_journal {
	const struct journal_settings *js;	/* path and fsync policy */
	const struct render_settings *rs;	/* compaction settings */
	const char *preset;			/* the preset its state uses */
	struct journal_appender w;
	bool opened;
	unsigned long long next_compaction;	/* size that triggers a try */
};

struct commit_batch {
	struct commit_batch *next;
	struct commit_journal *journal;
	struct buf frames;		/* whole framed records */
	uint64_t seq;			/* set by commit_submit: 1, 2, ... */
	void *owner;			/* the submitter's */
	/* The outcome, set by the writer: */
	int rc;				/* 0, or PERR_IO / PERR_NOMEM */
	char error[PERR_MSG_MAX];	/* why, when rc != 0 */
	int sys_errno;			/* the system's reason, or 0 */
	unsigned long long journal_size; /* the journal's size after it */
	bool synced;			/* the one that stands for its round's
					   sync of its journal */
	char note[PERR_MSG_MAX];	/* a compaction to report, or "" */
};

struct commit;

/*
 * commit_start: start the writer thread.  Signals should be blocked in the
 * calling thread first (the writer inherits the mask).  Returns 0, PERR_IO
 * or PERR_NOMEM.
 */
int commit_start(struct commit **out, struct perr *e);

/* commit_fd: readable when finished batches wait for commit_done. */
int commit_fd(const struct commit *c);

/*
 * commit_submit: stage b (its frames non-empty); it belongs to the writer
 * until commit_done hands it back.  Returns b's sequence number.  Staged
 * batches reach the writer at the next commit_flush.
 */
uint64_t commit_submit(struct commit *c, struct commit_batch *b);

/*
 * commit_flush: hand every staged batch to the writer at once.  The event
 * loop calls it once per pass, after it has read every request that was
 * ready: the batches of one pass then share one round and one sync, where
 * waking the writer at the first would sync that one alone.
 */
void commit_flush(struct commit *c);

/* commit_done: the finished batches in submission order (linked by next). */
struct commit_batch *commit_done(struct commit *c);

/* commit_busy: batches submitted and not handed back yet. */
size_t commit_busy(const struct commit *c);

/*
 * commit_stop: finish what is queued, stop the thread and free c.
 * Batches (malloc'd, as every batch submitted must be) finished and not
 * taken yet are freed: call it when nothing waits for them.
 */
void commit_stop(struct commit *c);

/* commit_journal_close: close a journal the writer no longer uses. */
void commit_journal_close(struct commit_journal *j);

#endif
