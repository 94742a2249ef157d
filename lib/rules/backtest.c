/* backtest.c - rule groups over history, with alert intervals (see backtest.h). */
#define _GNU_SOURCE			/* sched_getaffinity, CPU_COUNT */
#include "rules/backtest.h"
#include "promql/duration.h"
#include "promql/quote.h"
#include "common/mem.h"
#include "promql/parse.h"

#include <pthread.h>
#include <sched.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
on_transition(void *ctx, const struct re_group *g, const struct re_rule *r,
    const struct re_alert *a, enum alert_state from, int64_t t)
{
	struct backtest *bt = ctx;
	struct bt_interval *iv;
	size_t i;

	(void)g;
	if (bt->rc != 0)
		return;
	for (i = 0; i < bt->nopen && bt->open_alert[i] != a; i++)
		;
	if (from == ALERT_INACTIVE && a->state != ALERT_INACTIVE) {
		if (mem_grow(&bt->v, &bt->cap, bt->n + 1, sizeof(bt->v[0]),
		    64) != 0)
			goto nomem;
		if (bt->nopen == bt->capopen) {
			size_t cap = bt->capopen ? bt->capopen * 2 : 64;
			size_t *o = realloc(bt->open, cap * sizeof(*o));
			const struct re_alert **oa;

			if (o == NULL)
				goto nomem;
			bt->open = o;
			if ((oa = realloc(bt->open_alert, cap * sizeof(*oa))) ==
			    NULL)
				goto nomem;
			bt->open_alert = oa;
			bt->capopen = cap;
		}
		iv = &bt->v[bt->n];
		iv->alertname = r->r->name.s;
		iv->labels = pq_lset_copy(&bt->arena, a->labels);
		iv->annotations = pq_lset_copy(&bt->arena, a->annotations);
		if (iv->labels == NULL || iv->annotations == NULL)
			goto nomem;
		iv->pending_at = t;
		iv->firing_at = iv->resolved_at = BT_NONE;
		bt->open[bt->nopen] = bt->n++;
		bt->open_alert[bt->nopen++] = a;
		return;
	}
	if (i == bt->nopen)
		return;
	iv = &bt->v[bt->open[i]];
	if (a->state == ALERT_FIRING) {
		iv->firing_at = t;
		if ((iv->annotations = pq_lset_copy(&bt->arena,
		    a->annotations)) == NULL)
			goto nomem;
		return;
	}
	if (a->state == ALERT_INACTIVE) {
		iv->resolved_at = t;
		bt->open[i] = bt->open[--bt->nopen];
		bt->open_alert[i] = bt->open_alert[bt->nopen];
	}
	return;
nomem:
	bt->rc = PERR_NOMEM;
}

/* The engine for the rule files, its callback ours. */
static int
prepare(struct backtest *bt, struct pq_store *st, const struct rule_file *rf,
    const char *const *files, size_t n, int64_t from, int64_t to,
    struct perr *e)
{
	int rc = 0;

	memset(bt, 0, sizeof(*bt));
	bt->from = from;
	bt->to = to;
	re_engine_init(&bt->en, st);
	bt->en.on_transition = on_transition;
	bt->en.ctx = bt;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = re_engine_add(&bt->en, &rf[i], files[i], e);
	return rc;
}

/* --- the replay in a thread of its own --- */

/*
 * A replay (replay.h) that runs while the rules are evaluated: it stores
 * its samples a batch at a time under the lock, and the evaluation at t
 * waits until the samples up to t and the windows ahead of it are there
 * (or the replay has ended).
 */
struct pipeline {
	pthread_mutex_t mu;		/* the store's, and what follows */
	pthread_cond_t cv;		/* published moved, or done */
	int64_t published;		/* every sample up to it stored */
	bool done;			/* the replay returned rc (e) */
	int rc;
	struct perr e;
	const char *journal;
	struct replay_opts ro;		/* the caller's, and follow */
	struct replay_follow follow;
	struct pq_store *st;
	struct replay_stats *rs;
	pthread_t thread;
};

static void
pipeline_lock(void *ctx)
{
	pthread_mutex_lock(&((struct pipeline *)ctx)->mu);
}

static void
pipeline_unlock(void *ctx)
{
	pthread_mutex_unlock(&((struct pipeline *)ctx)->mu);
}

/* The replay's: samples stored up to t (the lock held). */
static void
pipeline_published(void *ctx, int64_t t)
{
	struct pipeline *p = ctx;

	p->published = t;
	pthread_cond_broadcast(&p->cv);
}

static void *
pipeline_replay(void *arg)
{
	struct pipeline *p = arg;
	struct perr e;
	int rc = replay_journal(p->journal, &p->ro, p->st, p->rs, &e);

	pthread_mutex_lock(&p->mu);
	p->done = true;
	p->rc = rc;
	if (rc != 0)
		p->e = e;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Whether the process may run on two CPUs: on one, the replay and the
 * evaluation would take turns, each evicting the other's data from the
 * caches, slower than one after the other. */
static bool
two_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return true;
	return CPU_COUNT(&set) >= 2;
}

/* Start the replay's thread; nonzero: it could not start. */
static int
pipeline_start(struct pipeline *p, const char *journal,
    const struct replay_opts *ro, struct pq_store *st,
    struct replay_stats *rs)
{
	memset(p, 0, sizeof(*p));
	p->published = INT64_MIN;
	p->journal = journal;
	p->ro = *ro;
	p->follow.lock = pipeline_lock;
	p->follow.unlock = pipeline_unlock;
	p->follow.published = pipeline_published;
	p->follow.ctx = p;
	p->ro.follow = &p->follow;
	p->st = st;
	p->rs = rs;
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		return -1;
	if (pthread_cond_init(&p->cv, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		return -1;
	}
	if (pthread_create(&p->thread, NULL, pipeline_replay, p) != 0) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		return -1;
	}
	return 0;
}

/* Wait until the samples up to need are stored, or the replay ended;
 * false when it failed (pipeline_end tells how). */
static bool
pipeline_wait(struct pipeline *p, int64_t need)
{
	bool ok;

	pthread_mutex_lock(&p->mu);
	while (!p->done && p->published < need)
		pthread_cond_wait(&p->cv, &p->mu);
	ok = !p->done || p->rc == 0;
	pthread_mutex_unlock(&p->mu);
	return ok;
}

/* Wait for the replay to end; its return, its error in e. */
static int
pipeline_end(struct pipeline *p, struct perr *e)
{
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	if (p->rc != 0)
		*e = p->e;
	return p->rc;
}

/* --- evaluation --- */

/* The interval of group g: its own, or the default. */
static int64_t
interval_of(const struct backtest *bt, size_t g, int64_t default_interval)
{
	return bt->en.groups[g].g->interval_ms > 0 ?
	    bt->en.groups[g].g->interval_ms : default_interval;
}

/*
 * Evaluate the groups at their times from bt->from to bt->to.  With a
 * pipeline, each time waits until the replay has stored the samples up
 * to it and PQ_AHEAD_WINDOWS intervals after (the windows worked out
 * ahead are whole), and each group is evaluated holding the store's
 * lock.
 */
static int
evaluate(struct backtest *bt, struct pipeline *p, int64_t default_interval,
    struct perr *e)
{
	int64_t *next = NULL, t, step, ahead = 0;
	size_t g;
	int rc = 0;

	if ((next = calloc(bt->en.ngroups + 1, sizeof(*next))) == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	for (g = 0; g < bt->en.ngroups; g++) {
		step = interval_of(bt, g, default_interval);
		next[g] = bt->from / step * step;
		if (next[g] < bt->from)
			next[g] += step;
		if (step > ahead)
			ahead = step;
	}
	ahead *= PQ_AHEAD_WINDOWS;
	for (;;) {
		t = INT64_MAX;
		for (g = 0; g < bt->en.ngroups; g++)
			if (next[g] < t)
				t = next[g];
		if (t > bt->to || t == INT64_MAX)
			break;
		/* The replay failed: pipeline_end says how. */
		if (p != NULL && !pipeline_wait(p, t > INT64_MAX - ahead ?
		    INT64_MAX : t + ahead))
			break;
		for (g = 0; g < bt->en.ngroups && rc == 0; g++) {
			if (next[g] != t)
				continue;
			step = interval_of(bt, g, default_interval);
			/* Its next evaluation is step later: windows of the
			   next ones may be worked out with this one's. */
			bt->en.opts.ahead_ms = step;
			if (p != NULL)
				pthread_mutex_lock(&p->mu);
			rc = re_group_eval(&bt->en, g, t, e);
			if (p != NULL)
				pthread_mutex_unlock(&p->mu);
			next[g] += step;
			bt->evaluations++;
		}
		if (rc == 0 && bt->rc != 0)
			rc = perr_set(e, bt->rc, "out of memory");
		if (rc != 0)
			break;
	}
	free(next);
	return rc;
}

int
backtest_run(struct backtest *bt, struct pq_store *st,
    const struct rule_file *rf, const char *const *files, size_t n,
    int64_t from, int64_t to, int64_t default_interval, struct perr *e)
{
	int rc = prepare(bt, st, rf, files, n, from, to, e);

	return rc != 0 ? rc : evaluate(bt, NULL, default_interval, e);
}

/* Whether a template may query the store (Prometheus's query function),
 * by the word. */
static bool
may_query(const struct rule_pair *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(v[i].value.s, "query") != NULL)
			return true;
	return false;
}

/*
 * Whether rule r gives the same results evaluated while the replay runs:
 * its expression and templates read nothing after the evaluation time
 * (the replay may not have stored it yet), and a recording rule writes no
 * series the replay makes (it would meet the replay's samples in another
 * order).
 */
static int
follows(const struct rule *r, const struct replay_opts *ro, bool *ok,
    struct perr *e)
{
	struct pq_expr *x;
	size_t pos;
	bool makes = false;
	int rc;

	*ok = false;
	if ((rc = pq_parse(r->expr.s, r->expr.len, &x, &pos, e)) != 0)
		return rc;
	*ok = !pq_node_future(x->root);
	pq_expr_free(x);
	if (*ok && (may_query(r->labels, r->nlabels) ||
	    may_query(r->annotations, r->nannotations)))
		*ok = false;
	if (*ok && !r->alerting &&
	    (rc = replay_makes(ro, r->name.s, &makes, e)) != 0)
		return rc;
	*ok = *ok && !makes;
	return 0;
}

int
backtest_journal(struct backtest *bt, struct pq_store *st,
    const char *journal, const struct replay_opts *ro,
    struct replay_stats *rs, const struct rule_file *rf,
    const char *const *files, size_t n, int64_t from, int64_t to,
    int64_t default_interval, struct perr *e)
{
	struct pipeline p;
	struct perr fe;
	bool ok = true;
	int rc = 0, rrc;

	for (size_t i = 0; i < n && ok; i++)
		for (size_t g = 0; g < rf[i].ngroups && ok && rc == 0; g++)
			for (size_t k = 0; k < rf[i].groups[g].nrules && ok &&
			    rc == 0; k++)
				rc = follows(&rf[i].groups[g].rules[k], ro, &ok,
				    &fe);
	/* One after the other when the rules would notice, on one CPU, or
	   when a thread cannot start (a rule or the replay that fails here
	   fails the same way there). */
	if (rc != 0 || !ok || !two_cpus() ||
	    pipeline_start(&p, journal, ro, st, rs) != 0) {
		if ((rc = replay_journal(journal, ro, st, rs, e)) != 0)
			return rc;
		return backtest_run(bt, st, rf, files, n, from, to,
		    default_interval, e);
	}
	rc = prepare(bt, st, rf, files, n, from, to, e);
	if (rc == 0)
		rc = evaluate(bt, &p, default_interval, e);
	/* The replay's error first, as when it runs first. */
	if ((rrc = pipeline_end(&p, e)) != 0)
		return rrc;
	return rc;
}

void
backtest_free(struct backtest *bt)
{
	re_engine_free(&bt->en);
	pq_arena_free(&bt->arena);
	free(bt->v);
	free(bt->open);
	free(bt->open_alert);
	memset(bt, 0, sizeof(*bt));
}

/* --- the report --- */

static int
add_time(struct buf *b, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char tmp[64];

	if (gmtime_r(&s, &tm) == NULL)
		return buf_addf(b, "%lld", (long long)ms);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf_adds(b, tmp);
}

static int
add_duration(struct buf *b, int64_t ms)
{
	return pq_duration_format(b, ms < 0 ? 0 : ms);
}

static int
json_time(struct buf *b, const char *key, int64_t ms)
{
	int rc = buf_addf(b, ",\"%s\":", key);

	if (rc != 0)
		return rc;
	if (ms == BT_NONE)
		return buf_adds(b, "null");
	if ((rc = buf_addc(b, '"')) == 0 && (rc = add_time(b, ms)) == 0)
		rc = buf_addc(b, '"');
	return rc;
}

/* Per alert name: times fired, time firing, the workflows. */
struct total {
	const char *alertname;
	uint64_t fired, pending_only;
	int64_t firing_ms;
	const char **workflows;
	size_t nwf;
};

static int
add_workflow(struct total *t, const struct pq_lset *ls)
{
	const char *wf = pq_lset_get(ls, "workflow", 8, NULL);
	const char **v;

	if (wf == NULL)
		return 0;
	for (size_t i = 0; i < t->nwf; i++)
		if (strcmp(t->workflows[i], wf) == 0)
			return 0;
	if ((v = realloc(t->workflows, (t->nwf + 1) * sizeof(*v))) == NULL)
		return PERR_NOMEM;
	t->workflows = v;
	t->workflows[t->nwf++] = wf;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static struct total *
totals(const struct backtest *bt, size_t *n)
{
	struct total *t = calloc(bt->n + 1, sizeof(*t));
	size_t k;

	*n = 0;
	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < bt->n; i++) {
		const struct bt_interval *iv = &bt->v[i];

		for (k = 0; k < *n && strcmp(t[k].alertname, iv->alertname) != 0;
		    k++)
			;
		if (k == *n)
			t[(*n)++].alertname = iv->alertname;
		if (iv->firing_at == BT_NONE) {
			t[k].pending_only++;
			continue;
		}
		t[k].fired++;
		t[k].firing_ms += (iv->resolved_at != BT_NONE ? iv->resolved_at :
		    bt->to) - iv->firing_at;
		if (add_workflow(&t[k], iv->labels) != 0)
			return NULL;
	}
	for (k = 0; k < *n; k++)
		if (t[k].nwf > 1)
			qsort(t[k].workflows, t[k].nwf, sizeof(char *), cmp_str);
	return t;
}

static void
totals_free(struct total *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(t[i].workflows);
	free(t);
}

static int
write_text(const struct backtest *bt, const struct total *t, size_t nt,
    struct buf *b)
{
	int rc = 0;

	for (size_t i = 0; i < bt->n && rc == 0; i++) {
		const struct bt_interval *iv = &bt->v[i];

		rc = buf_adds(b, "alert ");
		if (rc == 0)
			rc = pq_lset_format(b, iv->labels);
		if (rc == 0)
			rc = buf_adds(b, "\n  pending   ");
		if (rc == 0)
			rc = add_time(b, iv->pending_at);
		if (rc == 0 && iv->firing_at != BT_NONE) {
			rc = buf_adds(b, "\n  firing    ");
			if (rc == 0)
				rc = add_time(b, iv->firing_at);
		}
		if (rc == 0)
			rc = buf_adds(b, iv->resolved_at != BT_NONE ?
			    "\n  resolved  " : "\n  still active at the end, ");
		if (rc == 0)
			rc = add_time(b, iv->resolved_at != BT_NONE ?
			    iv->resolved_at : bt->to);
		if (rc == 0 && iv->firing_at != BT_NONE) {
			rc = buf_adds(b, " (firing ");
			if (rc == 0)
				rc = add_duration(b, (iv->resolved_at != BT_NONE ?
				    iv->resolved_at : bt->to) - iv->firing_at);
			if (rc == 0)
				rc = buf_addc(b, ')');
		}
		for (size_t k = 0; k < iv->annotations->n && rc == 0; k++) {
			rc = buf_addf(b, "\n  %s: ", iv->annotations->l[k].name);
			if (rc == 0)
				rc = buf_add(b, iv->annotations->l[k].value,
				    iv->annotations->l[k].vlen);
		}
		if (rc == 0)
			rc = buf_adds(b, "\n");
	}
	if (rc == 0)
		rc = buf_adds(b, "totals:\n");
	for (size_t i = 0; i < nt && rc == 0; i++) {
		rc = buf_addf(b, "  %s: fired %llu time%s, firing for ",
		    t[i].alertname, (unsigned long long)t[i].fired,
		    t[i].fired == 1 ? "" : "s");
		if (rc == 0)
			rc = add_duration(b, t[i].firing_ms);
		if (rc == 0 && t[i].pending_only > 0)
			rc = buf_addf(b, ", pending without firing %llu time%s",
			    (unsigned long long)t[i].pending_only,
			    t[i].pending_only == 1 ? "" : "s");
		for (size_t k = 0; k < t[i].nwf && rc == 0; k++)
			rc = buf_addf(b, "%s%s", k == 0 ? "; workflows: " : ", ",
			    t[i].workflows[k]);
		if (rc == 0)
			rc = buf_addc(b, '\n');
	}
	return rc;
}

static int
write_json(const struct backtest *bt, const struct total *t, size_t nt,
    struct buf *b)
{
	int rc = buf_adds(b, "{\"alerts\":[");

	for (size_t i = 0; i < bt->n && rc == 0; i++) {
		const struct bt_interval *iv = &bt->v[i];

		rc = buf_adds(b, i > 0 ? ",{\"alertname\":" : "{\"alertname\":");
		if (rc == 0)
			rc = buf_add_json(b, iv->alertname, strlen(iv->alertname));
		if (rc == 0)
			rc = buf_adds(b, ",\"labels\":");
		if (rc == 0)
			rc = pq_lset_json(b, iv->labels);
		if (rc == 0)
			rc = buf_adds(b, ",\"annotations\":");
		if (rc == 0)
			rc = pq_lset_json(b, iv->annotations);
		if (rc == 0)
			rc = json_time(b, "pending_at", iv->pending_at);
		if (rc == 0)
			rc = json_time(b, "firing_at", iv->firing_at);
		if (rc == 0)
			rc = json_time(b, "resolved_at", iv->resolved_at);
		if (rc == 0)
			rc = buf_addc(b, '}');
	}
	if (rc == 0)
		rc = buf_adds(b, "],\"totals\":[");
	for (size_t i = 0; i < nt && rc == 0; i++) {
		rc = buf_addf(b, "%s{\"alertname\":", i > 0 ? "," : "");
		if (rc == 0)
			rc = buf_add_json(b, t[i].alertname,
			    strlen(t[i].alertname));
		if (rc == 0)
			rc = buf_addf(b, ",\"fired\":%llu,\"firing_seconds\":%lld,"
			    "\"pending_only\":%llu,\"workflows\":[",
			    (unsigned long long)t[i].fired,
			    (long long)(t[i].firing_ms / 1000),
			    (unsigned long long)t[i].pending_only);
		for (size_t k = 0; k < t[i].nwf && rc == 0; k++) {
			if (k > 0)
				rc = buf_addc(b, ',');
			if (rc == 0)
				rc = buf_add_json(b, t[i].workflows[k],
				    strlen(t[i].workflows[k]));
		}
		if (rc == 0)
			rc = buf_adds(b, "]}");
	}
	return rc != 0 ? rc : buf_adds(b, "]}\n");
}

int
backtest_write(const struct backtest *bt, enum finding_format format,
    struct buf *out)
{
	size_t nt;
	struct total *t = totals(bt, &nt);
	int rc;

	if (t == NULL)
		return PERR_NOMEM;
	rc = format == FORMAT_JSON ? write_json(bt, t, nt, out) :
	    write_text(bt, t, nt, out);
	totals_free(t, nt);
	return rc;
}
