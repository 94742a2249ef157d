/* commit.c - the writer thread and group commit (see commit.h). */
#define _GNU_SOURCE
#include "serve/commit.h"
#include "common/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct commit {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct commit_batch *queue, *queue_tail;	/* to write */
	struct commit_batch *done, *done_tail;		/* written */
	struct commit_batch *staged, *staged_tail;	/* loop's, not yet queued */
	bool stopping;
	int efd;
	uint64_t seq;
	size_t busy;					/* loop thread's count */
};

static void
fail_batch(struct commit_batch *b, const struct perr *why)
{
	b->rc = why->code != PERR_OK ? why->code : PERR_IO;
	b->sys_errno = why->sys_errno;
	snprintf(b->error, sizeof(b->error), "%s", why->msg);
}

/* Open the appender the first time a journal is written. */
static int
open_journal(struct commit_journal *j, struct perr *e)
{
	int rc;

	if (j->opened)
		return 0;
	rc = journal_appender_open(&j->w, j->js->path, e);
	if (rc != 0) {
		journal_appender_close(&j->w);
		return rc;
	}
	j->opened = true;
	j->next_compaction = j->rs->max_journal_size;
	return 0;
}

/* One batch of j's that stands for the round's sync, to be counted once. */
static void
mark_synced(struct commit_journal *j, struct commit_batch *round)
{
	struct commit_batch *b;

	for (b = round; b != NULL; b = b->next)
		if (b->journal == j && b->rc == 0) {
			b->synced = true;
			return;
		}
}

/* Write and sync every batch of journal j in the round, in order. */
static void
write_journal(struct commit_journal *j, struct commit_batch *round)
{
	unsigned long long size = 0;
	struct commit_batch *b;
	struct perr e;
	size_t written = 0;

	perr_clear(&e);
	if (open_journal(j, &e) != 0 || journal_appender_lock(&j->w, &e) != 0) {
		for (b = round; b != NULL; b = b->next)
			if (b->journal == j)
				fail_batch(b, &e);
		return;
	}
	for (b = round; b != NULL; b = b->next) {
		if (b->journal != j)
			continue;
		perr_clear(&e);
		if (journal_appender_write(&j->w, b->frames.p, b->frames.len,
		    &size, &e) != 0) {
			fail_batch(b, &e);
			continue;
		}
		b->journal_size = size;
		written++;
	}
	perr_clear(&e);
	if (written > 0 && j->js->fsync == JOURNAL_FSYNC_ALWAYS) {
		if (journal_appender_sync(&j->w, &e) != 0)
			for (b = round; b != NULL; b = b->next)
				if (b->journal == j && b->rc == 0)
					fail_batch(b, &e);
		mark_synced(j, round);
	}
	journal_appender_unlock(&j->w);
}

/* Compact a journal past max_journal_size, as promrun-render would. */
static void
maybe_compact(struct commit_journal *j, struct commit_batch *last)
{
	unsigned long long limit = j->rs->max_journal_size;
	struct textfile_report rep;
	struct perr e;

	if (limit == 0 || last->rc != 0 || last->journal_size <= limit ||
	    last->journal_size < j->next_compaction)
		return;
	perr_clear(&e);
	if (textfile_compact(j->js, j->rs, j->preset, clock_now(), &rep,
	    &e) != 0) {
		snprintf(last->note, sizeof(last->note), "journal not "
		    "compacted: %.400s", e.msg);
		j->next_compaction = last->journal_size + limit / 4;
		return;
	}
	if (!rep.compacted) {
		j->next_compaction = last->journal_size + limit / 4;
		return;
	}
	snprintf(last->note, sizeof(last->note), "journal %.300s compacted "
	    "from %llu to %llu bytes", j->js->path,
	    (unsigned long long)rep.journal_before,
	    (unsigned long long)rep.journal_after);
	last->journal_size = rep.journal_after;
	j->next_compaction = rep.journal_after + limit / 4 > limit ?
	    rep.journal_after + limit / 4 : limit;
}

static void
write_round(struct commit_batch *round)
{
	struct commit_batch *b, *k, *last;

	for (b = round; b != NULL; b = b->next) {
		b->rc = 0;
		b->sys_errno = 0;
		b->synced = false;
		b->error[0] = b->note[0] = '\0';
	}
	for (b = round; b != NULL; b = b->next) {
		/* The first batch of its journal in the round writes them all. */
		for (k = round; k != b && k->journal != b->journal; k = k->next)
			;
		if (k != b)
			continue;
		write_journal(b->journal, round);
		for (last = k = b; k != NULL; k = k->next)
			if (k->journal == b->journal)
				last = k;
		maybe_compact(b->journal, last);
	}
}

static void *
writer(void *arg)
{
	struct commit *c = arg;
	struct commit_batch *round;
	uint64_t one = 1;

	for (;;) {
		pthread_mutex_lock(&c->lock);
		while (c->queue == NULL && !c->stopping)
			pthread_cond_wait(&c->wake, &c->lock);
		round = c->queue;
		c->queue = c->queue_tail = NULL;
		pthread_mutex_unlock(&c->lock);
		if (round == NULL)
			break;
		write_round(round);
		pthread_mutex_lock(&c->lock);
		if (c->done_tail != NULL)
			c->done_tail->next = round;
		else
			c->done = round;
		for (c->done_tail = round; c->done_tail->next != NULL;
		    c->done_tail = c->done_tail->next)
			;
		pthread_mutex_unlock(&c->lock);
		while (write(c->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	}
	return NULL;
}

int
commit_start(struct commit **out, struct perr *e)
{
	struct commit *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	if ((c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		rc = perr_sys(e, errno, "cannot create an eventfd");
		free(c);
		return rc;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	if ((rc = pthread_create(&c->thread, NULL, writer, c)) != 0) {
		close(c->efd);
		free(c);
		return perr_sys(e, rc, "cannot start the writer thread");
	}
	*out = c;
	return 0;
}

int
commit_fd(const struct commit *c)
{
	return c->efd;
}

uint64_t
commit_submit(struct commit *c, struct commit_batch *b)
{
	b->next = NULL;
	b->seq = ++c->seq;
	c->busy++;
	if (c->staged_tail != NULL)
		c->staged_tail->next = b;
	else
		c->staged = b;
	c->staged_tail = b;
	return b->seq;
}

void
commit_flush(struct commit *c)
{
	if (c->staged == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->queue_tail != NULL)
		c->queue_tail->next = c->staged;
	else
		c->queue = c->staged;
	c->queue_tail = c->staged_tail;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	c->staged = c->staged_tail = NULL;
}

struct commit_batch *
commit_done(struct commit *c)
{
	struct commit_batch *list, *b;
	uint64_t n;

	while (read(c->efd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&c->lock);
	list = c->done;
	c->done = c->done_tail = NULL;
	pthread_mutex_unlock(&c->lock);
	for (b = list; b != NULL; b = b->next)
		c->busy--;
	return list;
}

size_t
commit_busy(const struct commit *c)
{
	return c->busy;
}

void
commit_stop(struct commit *c)
{
	struct commit_batch *b, *next;

	if (c == NULL)
		return;
	commit_flush(c);
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	for (b = c->done; b != NULL; b = next) {
		next = b->next;
		buf_free(&b->frames);
		free(b);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->wake);
	close(c->efd);
	free(c);
}

void
commit_journal_close(struct commit_journal *j)
{
	if (j->opened)
		journal_appender_close(&j->w);
	j->opened = false;
}
