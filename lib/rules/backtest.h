/*
 * backtest.h - rule groups run over a stretch of history (a store that
 * replay.h filled from a journal), with every alert's pending, firing
 * and resolved times: would this alert have fired on last month's runs?
 *
 * Each group is evaluated at every multiple of its interval (its own, or
 * the default) from `from` to `to`, groups due at the same time in file
 * order, as ruleeval.h evaluates them (a running Prometheus offsets each
 * group by a hash of its name within the interval; here the offset is 0).
 * Alerts still pending or firing at `to` are reported open.
 */
#ifndef PROMRUN_BACKTEST_H
#define PROMRUN_BACKTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "promql/storage.h"
#include "rules/finding.h"
#include "rules/replay.h"
#include "rules/ruleeval.h"
#include "rules/rules.h"

#define BT_NONE INT64_MIN		/* a time that did not happen */

/* One alert's life: pending, maybe firing, maybe resolved. */
struct bt_interval {
	const char *alertname;
	const struct pq_lset *labels;
	const struct pq_lset *annotations;	/* when it fired (or last) */
	int64_t pending_at, firing_at, resolved_at;	/* ms, or BT_NONE */
};

struct backtest {
	struct re_engine en;
	struct pq_arena arena;		/* the intervals' label sets */
	struct bt_interval *v;
	size_t n, cap;
	size_t *open;			/* indexes of intervals not resolved */
	const struct re_alert **open_alert;
	size_t nopen, capopen;
	int64_t from, to;
	uint64_t evaluations;
	int rc;
};

/*
 * backtest_run: evaluate the groups of the rule files rf[0..n) (validated,
 * without errors; file names in files) over st from `from` to `to`
 * (milliseconds), groups without an interval every default_interval.
 * Returns 0 with bt filled (free with backtest_free); PERR_INVALID when a
 * rule cannot be prepared; PERR_NOMEM.  Rule evaluation errors are kept:
 * backtest_errors lists them.
 */
int backtest_run(struct backtest *bt, struct pq_store *st,
    const struct rule_file *rf, const char *const *files, size_t n,
    int64_t from, int64_t to, int64_t default_interval, struct perr *e);

/*
 * backtest_journal: replay the journal at path journal under ro into st
 * (replay_journal, stats into rs), then backtest_run as above, with the
 * same results; but the two at once, the replay in a thread of its own,
 * when the process may run on two CPUs and no rule can tell the
 * difference: its expression reads nothing
 * after its evaluation time (pq_node_future), no template may query the
 * store, and no recording rule writes a metric the replay makes
 * (replay_makes).  The evaluation at a time then waits until the replay
 * has stored the samples up to it.  Returns the replay's error (e), or
 * backtest_run's.
 */
int backtest_journal(struct backtest *bt, struct pq_store *st,
    const char *journal, const struct replay_opts *ro,
    struct replay_stats *rs, const struct rule_file *rf,
    const char *const *files, size_t n, int64_t from, int64_t to,
    int64_t default_interval, struct perr *e);

void backtest_free(struct backtest *bt);

/*
 * backtest_write: the report into out: text (one block per alert with
 * its times and labels and the annotations it fired with, then totals
 * per alert: times fired, time spent firing, the workflows it fired for)
 * or JSON (format FORMAT_JSON; an object with "alerts" and "totals").
 * Returns 0 or buf.h's codes.
 */
int backtest_write(const struct backtest *bt, enum finding_format format,
    struct buf *out);

#endif
