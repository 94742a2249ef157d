/* query.c - promrun-rules eval and backtest over a journal's history. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "common/buf.h"
#include "common/clock.h"
#include "config.h"
#include "promql/eval.h"
#include "promql/parse.h"
#include "rules/backtest.h"
#include "rules/replay.h"
#include "rules/rules.h"

/* The metric names the expressions select, for the replay. */
struct names {
	char **v;
	size_t n;
	bool all;
};

static void
add_name(void *ctx, const char *s, size_t len)
{
	struct names *nm = ctx;
	char **v;

	for (size_t i = 0; i < nm->n; i++)
		if (strlen(nm->v[i]) == len && memcmp(nm->v[i], s, len) == 0)
			return;
	if ((v = realloc(nm->v, (nm->n + 1) * sizeof(*v))) == NULL ||
	    (v[nm->n] = strndup(s, len)) == NULL)
		usage("out of memory");
	nm->v = v;
	nm->n++;
}

static void
names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
}

static int64_t
time_ms(const char *s, const char *what)
{
	struct perr e;
	double t;

	if (clock_parse_time(s, what, &t, &e) != 0)
		fail(&e);
	return (int64_t)(t * 1000 + (t >= 0 ? 0.5 : -0.5));
}

static int64_t
duration_ms(const char *s, const char *what, int64_t dflt)
{
	struct perr e;
	double d;

	if (s == NULL)
		return dflt;
	if (clock_parse_duration(s, what, &d, &e) != 0)
		fail(&e);
	if (d <= 0) {
		perr_set(&e, PERR_INVALID, "%s: must be longer than 0", what);
		fail(&e);
	}
	return (int64_t)(d * 1000);
}

/* The replay of the journal from `from` (minus what the queries look
 * back) to `to`. */
static void
replay_opts_for(const struct options *o, struct config *c, struct names *nm,
    int64_t back, int64_t from, int64_t to, struct replay_opts *ro)
{
	struct perr e;

	if (o->journal != NULL && config_set_journal_path(c, o->journal, &e))
		fail(&e);
	memset(ro, 0, sizeof(*ro));
	ro->journal = &c->journal;
	ro->render = &c->render;
	ro->preset = o->preset;
	ro->ns = o->ns;
	ro->scrape_ms = duration_ms(o->scrape_interval, "--scrape-interval",
	    60000);
	ro->from_ms = from - back;
	ro->to_ms = to;
	if (!nm->all) {
		ro->metrics = (const char *const *)nm->v;
		ro->nmetrics = nm->n;
	}
}

static void
replay(const struct options *o, struct config *c, struct names *nm,
    int64_t back, int64_t from, int64_t to, struct pq_store *st)
{
	struct replay_opts ro;
	struct replay_stats rs;
	struct perr e;

	replay_opts_for(o, c, nm, back, from, to, &ro);
	if (replay_journal(c->journal.path, &ro, st, &rs, &e) != 0)
		fail(&e);
}

int
verb_eval(const struct options *o)
{
	struct config c;
	struct names nm = {NULL, 0, false};
	struct pq_store st;
	struct pq_expr *x;
	struct pq_query *q;
	struct pq_arena scratch = {NULL, 0};
	struct pq_value v;
	struct buf b = BUF_INIT((size_t)1 << 30);
	struct perr e;
	int64_t start, end, step, back = 0;
	size_t pos;
	int rc;

	if (o->noperands != 1)
		usage("eval needs exactly one expression");
	if (o->time != NULL && (o->start != NULL || o->end != NULL))
		usage("eval: give --time, or --start, --end and --step");
	if ((o->start != NULL) != (o->end != NULL) ||
	    (o->step != NULL && o->start == NULL))
		usage("eval: a range needs --start, --end and --step");
	start = o->start != NULL ? time_ms(o->start, "--start") :
	    o->time != NULL ? time_ms(o->time, "--time") :
	    (int64_t)(clock_now() * 1000);
	end = o->end != NULL ? time_ms(o->end, "--end") : start;
	step = duration_ms(o->step, "--step", 60000);
	if (pq_parse(o->operands[0], strlen(o->operands[0]), &x, &pos, &e))
		fail(&e);
	pq_node_reach(x->root, PQ_LOOKBACK_DEFAULT_MS, &back, add_name, &nm,
	    &nm.all);
	memset(&c, 0, sizeof(c));
	if (config_load(&c, o->config, &e) != 0)
		fail(&e);
	pq_store_init(&st);
	replay(o, &c, &nm, back, start, end, &st);
	if (pq_query_new(x->root, &q, &e) != 0)
		fail(&e);
	if (o->start != NULL)
		rc = pq_query_range(q, &st, NULL, start, end, step, &scratch, &v,
		    &e);
	else
		rc = pq_query_exec(q, &st, NULL, start, start, start, &scratch,
		    &v, &e);
	if (rc != 0)
		fail(&e);
	if (o->format == FORMAT_JSON)
		rc = buf_adds(&b, "{\"status\":\"success\",\"data\":") ||
		    pq_value_write(&b, &v, start, true) || buf_adds(&b, "}\n");
	else
		rc = pq_value_write(&b, &v, start, false);
	if (rc != 0)
		usage("the result is too large to print");
	fputs(buf_str(&b), stdout);
	buf_free(&b);
	pq_query_free(q);
	pq_expr_free(x);
	pq_arena_free(&scratch);
	pq_store_free(&st);
	names_free(&nm);
	config_free(&c);
	return 0;
}

/* Load and validate the rule files as check does; errors end here. */
static struct rule_file *
load_rules(const struct options *o, struct names *nm, int64_t *back)
{
	struct rule_file *rf = calloc((size_t)o->noperands, sizeof(*rf));
	struct findings f;
	struct pq_expr *x;
	struct perr e;
	size_t pos;
	bool bad = false;

	if (rf == NULL)
		usage("out of memory");
	for (int i = 0; i < o->noperands; i++) {
		memset(&f, 0, sizeof(f));
		if (rules_load(o->operands[i], &rf[i], &f, &e) != 0)
			fail(&e);
		if (rf[i].structure_ok && rules_validate(&rf[i], &f, NULL, NULL))
			usage("out of memory");
		findings_sort(&f);
		for (size_t k = 0; k < f.n; k++)
			if (f.v[k].level == FINDING_ERROR) {
				fprintf(stderr, "%s:%u:%u: error: %s [%s]\n",
				    o->operands[i], f.v[k].line, f.v[k].col,
				    f.v[k].msg, f.v[k].check);
				bad = true;
			}
		bad |= !rf[i].structure_ok;
		findings_free(&f);
		for (size_t g = 0; !bad && g < rf[i].ngroups; g++)
			for (size_t r = 0; r < rf[i].groups[g].nrules; r++) {
				const struct rule *ru = &rf[i].groups[g].rules[r];

				if (pq_parse(ru->expr.s, ru->expr.len, &x, &pos,
				    &e) != 0)
					fail(&e);
				pq_node_reach(x->root, PQ_LOOKBACK_DEFAULT_MS +
				    (ru->has_for ? ru->for_ms : 0), back,
				    add_name, nm, &nm->all);
				pq_expr_free(x);
			}
	}
	if (bad) {
		fprintf(stderr, "%s: the rule files have errors\n", progname);
		exit(1);
	}
	return rf;
}

int
verb_backtest(const struct options *o)
{
	struct config c;
	struct names nm = {NULL, 0, false};
	struct pq_store st;
	struct rule_file *rf;
	struct replay_opts ro;
	struct replay_stats rs;
	struct backtest bt;
	struct buf b = BUF_INIT((size_t)1 << 30);
	struct perr e;
	int64_t from, to, back = 0;

	if (o->noperands < 1)
		usage("backtest needs at least one rule file");
	if (o->from == NULL || o->to == NULL)
		usage("backtest needs --from and --to");
	from = time_ms(o->from, "--from");
	to = time_ms(o->to, "--to");
	if (to < from)
		usage("backtest: --to is before --from");
	rf = load_rules(o, &nm, &back);
	/* The recorded series are made by the rules, not the journal. */
	nm.all = nm.all || nm.n == 0;
	memset(&c, 0, sizeof(c));
	if (config_load(&c, o->config, &e) != 0)
		fail(&e);
	pq_store_init(&st);
	replay_opts_for(o, &c, &nm, back, from, to, &ro);
	if (backtest_journal(&bt, &st, c.journal.path, &ro, &rs, rf,
	    (const char *const *)o->operands, (size_t)o->noperands, from, to,
	    duration_ms(o->interval, "--interval", 60000), &e) != 0)
		fail(&e);
	if (backtest_write(&bt, o->format, &b) != 0)
		usage("the report is too large to print");
	fputs(buf_str(&b), stdout);
	buf_free(&b);
	backtest_free(&bt);
	for (int i = 0; i < o->noperands; i++)
		rules_free(&rf[i]);
	free(rf);
	pq_store_free(&st);
	names_free(&nm);
	config_free(&c);
	return 0;
}
