/*
 * test-render.c - unit tests of the renderer's ways to one row's values:
 * render_series_values gives what a partial render_format hands to
 * on_sample for a series alone, value for value, in every preset, with
 * histograms, late finishes, lost and open runs, steps and user labels.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "metrics/aggregate.h"
#include "metrics/render.h"
#include "metrics/schema.h"


/* What on_sample got for the one series rendered. */
struct got {
	double v[4096];
	size_t n;
};

static int
on_sample(void *ctx, const char *name, const struct expfmt_label *l,
    size_t nl, double value, size_t series, size_t nseries)
{
	struct got *g = ctx;

	(void)name;
	(void)l;
	(void)nl;
	(void)nseries;
	if (series != SIZE_MAX && g->n < sizeof(g->v) / sizeof(g->v[0]))
		g->v[g->n++] = value;
	return 0;
}

static size_t only;

static bool
want_only(void *ctx, size_t index)
{
	(void)ctx;
	return index == only;
}

/* An aggregate of random runs: workflows and steps, user labels, every
 * status, durations, starts finished on time, late or never. */
static struct agg *
random_agg(void)
{
	static const double buckets[] = {1, 10, 60, 600};
	static const char *const wf[] = {"build", "deploy", "nightly"};
	static const char *const branch[] = {"main", "dev"};
	static const char *const ids[] = {"1", "2", "3", "4", "5", "6"};
	struct agg_config cfg;
	struct agg *a;
	struct perr e;
	struct run r;

	memset(&cfg, 0, sizeof(cfg));
	cfg.buckets = buckets;
	cfg.nbuckets = 4;
	cfg.lost_after = 300;
	CHECK(agg_new(&a, &cfg, &e) == 0);
	for (int k = 0; k < 400; k++) {
		run_init(&r, (enum run_event)check_rnd(3));
		r.time = 1000 + k * 20 + (double)check_rnd(600);
		r.workflow = wf[check_rnd(3)];
		r.step = check_rnd(3) == 0 ? "test" : NULL;
		r.run_id = ids[check_rnd(6)];
		if (r.event != RUN_EVENT_START) {
			r.status = (enum run_status)(1 + check_rnd(4));
			if ((r.has_duration = check_rnd(2) == 0))
				r.duration = (double)check_rnd(900);
		}
		if (check_rnd(2) == 0) {
			r.labels[0].name = "branch";
			r.labels[0].value = branch[check_rnd(2)];
			r.nlabels = 1;
		}
		(void)agg_fold_run(a, &r, &e);
	}
	return a;
}

static void
test_series_values(void)
{
	struct agg *a = random_agg();
	struct agg_live *live = calloc(agg_nseries(a) + 1, sizeof(*live));
	struct render_statuses kept;
	struct render_format f;
	struct got g;
	double v[4096];
	size_t counts[1], n, nsamples, bad = 0, total = 0;
	struct perr e;

	CHECK(agg_nseries(a) > 6);
	agg_live_at(a, 9000, live);
	memset(&kept, 0, sizeof(kept));
	for (size_t p = 0; p < schema_npresets; p++)
		for (size_t i = 0; i < agg_nseries(a); i++) {
			memset(&f, 0, sizeof(f));
			f.preset = &schema_presets[p];
			f.now = 9000;
			f.on_sample = on_sample;
			f.unsorted = true;
			f.want_series = want_only;
			f.singletons = true;
			f.live = live;
			f.statuses = i % 2 == 0 ? &kept : NULL;
			f.ctx = &g;
			only = i;
			g.n = 0;
			CHECK(render_format(a, &f, NULL, NULL, &nsamples, &e) ==
			    0);
			CHECK(render_series_values(a, &f, &i, 1, v, 4096,
			    counts, &n, &e) == 0);
			if (n != g.n || counts[0] != n)
				bad++;
			for (size_t k = 0; k < n && k < g.n; k++)
				bad += memcmp(&v[k], &g.v[k], sizeof(v[k])) != 0;
			total += n;
		}
	CHECK(bad == 0);
	CHECK(total > 500);	/* many values compared (1,000 today) */
	free(live);
	agg_free(a);
}

int
main(void)
{
	test_series_values();
	return check_done("test-render");
}
