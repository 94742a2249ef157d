/* replay.c - a journal as Prometheus would have scraped it (see replay.h). */
#include "rules/replay.h"
#include "common/buf.h"
#include "common/text.h"
#include "metrics/aggregate.h"
#include "metrics/render.h"
#include "metrics/schema.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A record waiting for the scrape at or after its time. */
struct pending {
	double t;
	uint64_t seq;			/* file order, for equal times */
	char *payload;
	size_t len;
};

#define WINDOW 256
#define STOP (-1)		/* a scan callback's "enough" */

struct replay {
	const struct replay_opts *o;
	struct pq_store *st;
	struct replay_stats *rs;
	struct perr *e;
	struct agg *agg;
	const struct schema_preset *preset;
	const char *ns;
	int64_t next, scrape, to;	/* the next scrape time */
	/* The samples of one render, and the store series of each: the
	   renderer writes them in the same order every time, and only adds
	   series, so a render with as many samples as the last maps to the
	   same series and needs no lookups. */
	double *vals;
	size_t *idx;
	size_t n, cap, prev_n;
	bool slow;			/* look every sample's series up */
	struct pq_arena scratch;
	struct pq_lbuilder lb;
	/* Records in time order: a min-heap on (time, file order). */
	struct pending *heap;
	size_t nheap, capheap;
	uint64_t seq;
	/* The watermark: the least time of the last WINDOW records read (a
	   monotonic queue of their times), so one record dated in the future
	   does not end the scrapes before it. */
	double win[WINDOW];
	uint64_t winseq[WINDOW];
	size_t whead, wn;
	int rc;
};

static bool
before(const struct pending *a, const struct pending *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int
heap_push(struct replay *R, double t, const char *payload, size_t len)
{
	struct pending p, tmp;
	size_t i, parent;

	if (R->nheap == R->capheap) {
		size_t cap = R->capheap ? R->capheap * 2 : 256;
		struct pending *h = realloc(R->heap, cap * sizeof(*h));

		if (h == NULL)
			return perr_set(R->e, PERR_NOMEM, "out of memory");
		R->heap = h;
		R->capheap = cap;
	}
	if ((p.payload = malloc(len + 1)) == NULL)
		return perr_set(R->e, PERR_NOMEM, "out of memory");
	memcpy(p.payload, payload, len);
	p.payload[len] = '\0';
	p.len = len;
	p.t = t;
	p.seq = R->seq++;
	i = R->nheap++;
	R->heap[i] = p;
	while (i > 0 && before(&R->heap[i], &R->heap[parent = (i - 1) / 2])) {
		tmp = R->heap[i];
		R->heap[i] = R->heap[parent];
		R->heap[parent] = tmp;
		i = parent;
	}
	return 0;
}

static struct pending
heap_pop(struct replay *R)
{
	struct pending top = R->heap[0], tmp;
	size_t i = 0, l, m;

	R->heap[0] = R->heap[--R->nheap];
	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < R->nheap && before(&R->heap[l], &R->heap[m]))
			m = l;
		if (l + 1 < R->nheap && before(&R->heap[l + 1], &R->heap[m]))
			m = l + 1;
		if (m == i)
			break;
		tmp = R->heap[i];
		R->heap[i] = R->heap[m];
		R->heap[m] = tmp;
		i = m;
	}
	return top;
}

/* Fold one record (consumed). */
static int
fold(struct replay *R, struct pending *p)
{
	struct perr fe;
	int rc = agg_fold(R->agg, p->payload, p->len, &fe);

	free(p->payload);
	if (rc == PERR_NOMEM || rc == PERR_FAILED) {
		*R->e = fe;
		return rc;
	}
	R->rs->records++;
	return 0;
}

/* Fold the waiting records up to time t (ms). */
static int
fold_until(struct replay *R, int64_t t)
{
	struct pending p;
	int rc;

	while (R->nheap > 0 && R->heap[0].t * 1000 <= (double)t) {
		p = heap_pop(R);
		if ((rc = fold(R, &p)) != 0)
			return rc;
	}
	return 0;
}

static bool
want_name(const struct replay_opts *o, const char *name)
{
	if (o->metrics == NULL)
		return true;
	for (size_t i = 0; i < o->nmetrics; i++)
		if (strcmp(o->metrics[i], name) == 0)
			return true;
	return false;
}

/* A family is wanted when a wanted metric starts with its name
 * (x_bucket, x_sum and x_count belong to family x). */
static bool
want_family(void *ctx, const char *family)
{
	const struct replay *R = ctx;
	size_t n = strlen(family);

	if (R->o->metrics == NULL)
		return true;
	for (size_t i = 0; i < R->o->nmetrics; i++)
		if (strncmp(R->o->metrics[i], family, n) == 0)
			return true;
	return false;
}

static int
series_of(struct replay *R, const char *name, const struct expfmt_label *l,
    size_t nl, size_t *idx)
{
	const struct pq_lset *ls;

	pq_lb_reset(&R->lb, NULL);
	pq_lb_set(&R->lb, PQ_NAME_LABEL, 8, name, strlen(name));
	for (size_t i = 0; i < nl; i++)
		pq_lb_set(&R->lb, l[i].name, strlen(l[i].name), l[i].value,
		    strlen(l[i].value));
	pq_lb_set(&R->lb, "job", 3, R->o->job != NULL ? R->o->job : "node",
	    strlen(R->o->job != NULL ? R->o->job : "node"));
	pq_lb_set(&R->lb, "instance", 8, R->o->instance != NULL ?
	    R->o->instance : "localhost:9100", strlen(R->o->instance != NULL ?
	    R->o->instance : "localhost:9100"));
	if ((ls = pq_lb_finish(&R->lb)) == NULL)
		return perr_set(R->e, PERR_NOMEM, "out of memory");
	return pq_store_series(R->st, ls, idx, R->e);
}

static int
on_sample(void *ctx, const char *name, const struct expfmt_label *l,
    size_t nl, double value)
{
	struct replay *R = ctx;

	if (R->n == R->cap) {
		size_t cap = R->cap ? R->cap * 2 : 256;
		double *v = realloc(R->vals, cap * sizeof(*v));
		size_t *ix;

		if (v == NULL)
			return perr_set(R->e, PERR_NOMEM, "out of memory");
		R->vals = v;
		if ((ix = realloc(R->idx, cap * sizeof(*ix))) == NULL)
			return perr_set(R->e, PERR_NOMEM, "out of memory");
		R->idx = ix;
		R->cap = cap;
	}
	R->vals[R->n] = value;
	if (R->slow) {
		if (!want_name(R->o, name))
			R->idx[R->n] = SIZE_MAX;
		else if (series_of(R, name, l, nl, &R->idx[R->n]) != 0)
			return R->e->code;
	}
	R->n++;
	return 0;
}

static int
sink(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	(void)text;
	(void)len;
	return 0;
}

static int
render_at(struct replay *R, int64_t t)
{
	struct render_format f;
	size_t nsamples;
	int rc;

	memset(&f, 0, sizeof(f));
	f.preset = R->preset;
	f.ns = R->ns;
	f.now = (double)t / 1000;
	f.max_series = R->o->render->max_series;
	f.on_sample = on_sample;
	f.want = want_family;
	f.ctx = R;
	R->n = 0;
	pq_arena_reset(&R->scratch);
	rc = render_format(R->agg, &f, sink, NULL, &nsamples, R->e);
	R->rs->renders++;
	return rc;
}

static int
scrape(struct replay *R, int64_t t)
{
	struct perr ae;
	int rc;

	R->slow = false;
	if ((rc = render_at(R, t)) != 0)
		return rc;
	if (R->n != R->prev_n) {
		/* New series: render again, looking each one up. */
		R->slow = true;
		if ((rc = render_at(R, t)) != 0)
			return rc;
		R->prev_n = R->n;
	}
	for (size_t i = 0; i < R->n; i++) {
		if (R->idx[i] == SIZE_MAX)
			continue;
		rc = pq_store_append(R->st, R->idx[i], t, R->vals[i], &ae);
		if (rc == PERR_NOMEM)
			return perr_set(R->e, rc, "out of memory");
		R->rs->samples++;
	}
	R->rs->scrapes++;
	return 0;
}

/* The record's time: the "time=" field after its event word. */
static bool
record_time(const char *payload, size_t len, double *t)
{
	const char *p = memchr(payload, ' ', len);
	char tmp[64], *end;
	size_t n = 0;

	if (p == NULL || (size_t)(payload + len - p) < 7 ||
	    memcmp(p, " time=", 6) != 0)
		return false;
	for (p += 6; p < payload + len && *p != ' ' && n + 1 < sizeof(tmp); p++)
		tmp[n++] = *p;
	tmp[n] = '\0';
	return n > 0 && text_parse_double(tmp, &end, t);
}

/*
 * A record waits until the first scrape at or after its time; the
 * scrapes before the time of the record just read are done first, as
 * the journal is (mostly) in time order: a record read later with an
 * earlier time was written late, and counts from the next scrape.
 */
static int
on_record(void *ctx, char *payload, size_t len, uint64_t offset)
{
	struct replay *R = ctx;
	struct pending p;
	double t;
	int rc;

	(void)offset;
	if (!record_time(payload, len, &t)) {
		/* Not a run record (meta, snapshot): fold it now. */
		p.payload = malloc(len + 1);
		if (p.payload == NULL)
			return perr_set(R->e, PERR_NOMEM, "out of memory");
		memcpy(p.payload, payload, len);
		p.payload[len] = '\0';
		p.len = len;
		return fold(R, &p);
	}
	/* Drop the times that leave the window or can no longer be the
	   least, then add this one. */
	while (R->wn > 0 && R->winseq[R->whead] + WINDOW <= R->seq) {
		R->whead = (R->whead + 1) % WINDOW;
		R->wn--;
	}
	while (R->wn > 0 && R->win[(R->whead + R->wn - 1) % WINDOW] >= t)
		R->wn--;
	R->win[(R->whead + R->wn) % WINDOW] = t;
	R->winseq[(R->whead + R->wn) % WINDOW] = R->seq;
	R->wn++;
	/* Past the last scrape: the rest of the journal cannot count. */
	if (R->next > R->to)
		return STOP;
	while (R->next <= R->to && (double)R->next < R->win[R->whead] * 1000) {
		if ((rc = fold_until(R, R->next)) != 0 ||
		    (rc = scrape(R, R->next)) != 0)
			return rc;
		R->next += R->scrape;
	}
	if (R->rs->first_time == 0 || t < R->rs->first_time)
		R->rs->first_time = t;
	if (t > R->rs->last_time)
		R->rs->last_time = t;
	if (t * 1000 > (double)R->to + 1000)
		return 0;	/* after every scrape */
	return heap_push(R, t, payload, len);
}

int
replay_journal(const char *path, const struct replay_opts *o,
    struct pq_store *st, struct replay_stats *rs, struct perr *e)
{
	const struct render_settings *rset = o->render;
	struct journal_scan_cb cb;
	struct journal_stats js;
	struct agg_config cfg;
	struct replay R;
	int rc;

	memset(rs, 0, sizeof(*rs));
	memset(&R, 0, sizeof(R));
	R.o = o;
	R.st = st;
	R.rs = rs;
	R.e = e;
	R.prev_n = SIZE_MAX;
	R.scrape = o->scrape_ms > 0 ? o->scrape_ms : 60000;
	R.to = o->to_ms;
	/* The first multiple of the interval at or after from. */
	R.next = o->from_ms / R.scrape * R.scrape;
	if (R.next < o->from_ms)
		R.next += R.scrape;
	if (R.to >= R.next && (R.to - R.next) / R.scrape >= REPLAY_SCRAPES_MAX)
		return perr_set(e, PERR_INVALID, "%lld scrapes from --from to "
		    "--to: at most %d (use a longer --scrape-interval)",
		    (long long)((R.to - R.next) / R.scrape + 1),
		    REPLAY_SCRAPES_MAX);
	if ((R.preset = schema_preset_find(o->preset != NULL ? o->preset :
	    rset->preset != NULL ? rset->preset : "native", e)) == NULL)
		return PERR_INVALID;
	R.ns = o->ns != NULL ? o->ns : rset->namespace;
	if ((rc = schema_check_namespace(R.preset, R.ns, e)) != 0)
		return rc;
	memset(&cfg, 0, sizeof(cfg));
	cfg.buckets = R.preset->buckets != NULL ? R.preset->buckets :
	    rset->buckets;
	cfg.nbuckets = R.preset->buckets != NULL ? R.preset->nbuckets :
	    rset->nbuckets;
	cfg.labels = o->journal->labels;
	cfg.nlabels = o->journal->nlabels;
	cfg.lost_after = rset->lost_after;
	cfg.max_series = rset->max_series;
	if ((rc = agg_new(&R.agg, &cfg, e)) != 0)
		return rc;
	pq_lb_init(&R.lb, &R.scratch);
	memset(&cb, 0, sizeof(cb));
	cb.record = on_record;
	cb.ctx = &R;
	rc = journal_scan(path, 0, &cb, &js, e);
	if (rc == STOP)
		rc = 0;
	if (rc == 0) {
		agg_add_damage(R.agg, js.damaged);
		rs->damaged = js.damaged;
		for (; rc == 0 && R.next <= R.to; R.next += R.scrape)
			if ((rc = fold_until(&R, R.next)) == 0)
				rc = scrape(&R, R.next);
	}
	while (R.nheap > 0) {
		struct pending p = heap_pop(&R);

		free(p.payload);
	}
	free(R.heap);
	agg_free(R.agg);
	pq_lb_free(&R.lb);
	pq_arena_free(&R.scratch);
	free(R.vals);
	free(R.idx);
	return rc;
}
