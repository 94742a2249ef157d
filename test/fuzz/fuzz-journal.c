/*
 * fuzz-journal - libFuzzer target: the journal scanner and record decoder.
 *
 * The input is a journal file.  Properties checked (abort on violation):
 * - every intact record that decodes as a run re-encodes and decodes to the
 *   same run (run_encode and run_decode are inverses);
 * - the aggregate's state, written as records and folded into an empty
 *   aggregate, writes back byte for byte (what checkpoints and compaction
 *   rely on).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "metrics/aggregate.h"
#include "common/buf.h"
#include "journal/journal.h"
#include "journal/run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const double bounds[] = {1, 5, 60, 3600};
static const struct agg_config cfg = {bounds, 4, NULL, 0, 3600, 100000};

static void
check(int ok)
{
	if (!ok)
		abort();
}

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
check_run_round_trip(const char *payload, size_t len)
{
	char *copy = malloc(len + 1), *again;
	struct buf b = BUF_INIT(JOURNAL_RECORD_MAX);
	struct run r, s;
	size_t i;

	memcpy(copy, payload, len);
	copy[len] = '\0';
	if (run_decode(copy, len, &r, NULL) == 0) {
		check(run_encode(&r, &b) == 0);
		again = strdup(buf_str(&b));
		check(run_decode(again, b.len, &s, NULL) == 0);
		check(r.event == s.event && r.time == s.time &&
		    same_str(r.workflow, s.workflow) && same_str(r.step, s.step) &&
		    same_str(r.run_id, s.run_id) && r.status == s.status &&
		    r.has_duration == s.has_duration &&
		    (!r.has_duration || r.duration == s.duration) &&
		    r.exit_code == s.exit_code && r.nlabels == s.nlabels);
		for (i = 0; i < r.nlabels; i++)
			check(strcmp(r.labels[i].name, s.labels[i].name) == 0 &&
			    strcmp(r.labels[i].value, s.labels[i].value) == 0);
		free(again);
	}
	buf_free(&b);
	free(copy);
}

static int
on_record(void *ctx, char *payload, size_t len, uint64_t offset)
{
	(void)offset;
	check_run_round_trip(payload, len);
	if (agg_fold(ctx, payload, len, NULL) == PERR_NOMEM)
		abort();
	return 0;
}

static int
collect(void *ctx, const char *payload, size_t len)
{
	struct buf *b = ctx;

	return buf_add(b, payload, len) || buf_addc(b, '\n');
}

static void
write_state(struct agg *a, struct buf *out)
{
	check(agg_write_state(a, collect, out, NULL) == 0);
}

/* Fold state lines (one payload per line) into a. */
static void
fold_lines(struct agg *a, char *text)
{
	char *line = text, *nl;

	while ((nl = strchr(line, '\n')) != NULL) {
		check(agg_fold(a, line, (size_t)(nl - line), NULL) == 0);
		line = nl + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_scan_cb cb = {on_record, NULL, NULL};
	struct buf first = BUF_INIT((size_t)1 << 30);
	struct buf second = BUF_INIT((size_t)1 << 30);
	struct journal_stats st;
	struct agg *a, *b;
	char *copy;
	int fd;

	fd = memfd_create("journal", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	check(agg_new(&a, &cfg, NULL) == 0);
	cb.ctx = a;
	check(journal_scan_fd(fd, "fuzz", 0, &cb, &st, NULL) == 0);
	close(fd);
	check(st.end + st.tail == size);
	write_state(a, &first);
	check(agg_new(&b, &cfg, NULL) == 0);
	copy = strdup(buf_str(&first));
	fold_lines(b, copy);
	write_state(b, &second);
	check(first.len == second.len &&
	    memcmp(buf_str(&first), buf_str(&second), first.len) == 0);
	free(copy);
	agg_free(a);
	agg_free(b);
	buf_free(&first);
	buf_free(&second);
	return 0;
}
