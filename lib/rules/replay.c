/* replay.c - a journal as Prometheus would have scraped it (see replay.h). */
#include "rules/replay.h"
#include "common/buf.h"
#include "common/text.h"
#include "metrics/aggregate.h"
#include "metrics/render.h"
#include "metrics/schema.h"
#include "common/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * A record held until the scrape at or after its time: decoded once, as
 * its time is read (agg_fold_run folds it then), or, when it does not
 * decode, its payload (agg_fold counts it corrupt).
 */
struct held {
	struct run run;
	bool decoded;
	size_t len, cap;		/* payload bytes, and room */
	char payload[];
};

/* A record waiting for the scrape at or after its time. */
struct pending {
	double t;
	uint64_t seq;			/* file order, for equal times */
	struct held *h;
};

#define SPARES 64		/* records' memory kept for the next ones */

#define WINDOW 256
#define STOP (-1)		/* a scan callback's "enough" */

/*
 * What a series of the aggregate rendered at its last render (or, for the
 * last owner, promrun's own families): its samples' slots in render order.
 * The renderer writes a series' samples in the same order every time and
 * only adds samples, so a render that gives an owner as many samples as
 * the last maps them to the same slots, with no lookups.
 */
struct owner {
	size_t *slot;
	size_t n, cap;
	size_t got;			/* samples of the render under way */
	bool dirty;			/* rendered at this scrape */
};

/*
 * A series of the store that renders make, with its latest value, and
 * the samples of it not yet stored: a stretch of one value at every
 * scrape from `from` on.  A value that does not change from one scrape
 * to the next (most of them: only what the records of the last minute
 * touched changes) costs nothing until it does; the stretch goes to the
 * store as one run then.
 */
struct slot {
	size_t store;			/* SIZE_MAX: a metric not wanted */
	double v;
	bool present;			/* in its owner's latest render */
	bool open;			/* a stretch waits */
	double sv;			/* its value */
	int64_t from;			/* its first scrape */
};

/* A stretch of one value at every scrape, ended, to be stored. */
struct stretch {
	size_t store;
	int64_t from;
	uint64_t n;
	double v;
};

struct replay {
	const struct replay_opts *o;
	struct pq_store *st;
	struct replay_stats *rs;
	struct perr *e;
	struct agg *agg;
	const struct schema_preset *preset;
	signed char *want_memo;		/* render_format's, per family */
	struct render_statuses statuses;	/* render_format's */
	const char *ns;
	int64_t next, scrape, to;	/* the next scrape time */
	/* A scrape renders only the series that changed since the last one
	   (folded into, or what their open runs mean changed), and stores
	   every slot's latest value: the rows of the others would render
	   the same.  All are rendered when series were added (the labels of
	   every row may change) and while a row adds up several series. */
	struct owner *owners;		/* nowners - 1 series, then self */
	size_t nowners;
	struct slot *slots;		/* [0]: every sample not wanted */
	size_t nslots, capslots;
	size_t *slot_of;		/* store index -> slot + 1 (0: none) */
	size_t capslot_of;
	struct agg_live *live, *prev_live;
	/* values_at's: the dirty series, their values and how many each. */
	size_t *dirty, capdirty;
	double *vals;
	size_t capvals;
	size_t *counts, capcounts;
	size_t known;			/* series at the last whole render
					   (SIZE_MAX: none yet) */
	bool merged;			/* a row adds up several series */
	bool slow;			/* look every sample's series up */
	bool mismatch;			/* an owner's samples changed */
	struct pq_arena scratch;
	struct pq_lbuilder lb;
	/* Followed (replay_opts.follow): the stretches ended since the
	   last publication, stored at the next. */
	struct stretch *ended;
	size_t nended, capended;
	unsigned unpublished;		/* scrapes since then */
	/* Records in time order: those read in time order in a queue, the
	   others (finishes written ahead, records written late) in a
	   min-heap, both on (time, file order); the least of the two heads
	   comes first. */
	struct pending *heap;
	size_t nheap, capheap;
	struct pending *queue;
	size_t qhead, nqueue, capqueue;	/* [qhead, nqueue) waiting */
	struct held *spare[SPARES];
	size_t nspare;
	uint64_t seq;
	/* The watermark: the least time of the last WINDOW records read (a
	   monotonic queue of their times), so one record dated in the future
	   does not end the scrapes before it. */
	double read_t;			/* the time of the record read last
					   (-inf: none yet) */
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

/* Memory for a record of len bytes, its payload copied in. */
static struct held *
hold(struct replay *R, const char *payload, size_t len)
{
	struct held *h = NULL;

	for (size_t i = R->nspare; i-- > 0;)
		if (R->spare[i]->cap > len) {
			h = R->spare[i];
			R->spare[i] = R->spare[--R->nspare];
			break;
		}
	if (h == NULL) {
		size_t cap = len < 256 ? 256 : len + 1;

		if ((h = malloc(sizeof(*h) + cap)) == NULL) {
			perr_set(R->e, PERR_NOMEM, "out of memory");
			return NULL;
		}
		h->cap = cap;
	}
	memcpy(h->payload, payload, len);
	h->payload[len] = '\0';
	h->len = len;
	h->decoded = false;
	return h;
}

static void
release(struct replay *R, struct held *h)
{
	if (R->nspare < SPARES)
		R->spare[R->nspare++] = h;
	else
		free(h);
}

/* Add p behind the queue's last record (not before it); false: no room. */
static bool
queue_push(struct replay *R, const struct pending *p)
{
	struct pending *q;
	size_t cap;

	if (R->qhead > 0 && R->nqueue == R->capqueue) {
		/* Reuse the room of the records already taken. */
		memmove(R->queue, R->queue + R->qhead, (R->nqueue - R->qhead) *
		    sizeof(*q));
		R->nqueue -= R->qhead;
		R->qhead = 0;
	}
	if (R->nqueue == R->capqueue) {
		cap = R->capqueue ? R->capqueue * 2 : 256;
		if ((q = realloc(R->queue, cap * sizeof(*q))) == NULL)
			return false;
		R->queue = q;
		R->capqueue = cap;
	}
	R->queue[R->nqueue++] = *p;
	return true;
}

static int
heap_push(struct replay *R, double t, struct held *held)
{
	struct pending p, tmp;
	size_t i, parent;

	p.h = held;
	p.t = t;
	p.seq = R->seq++;
	/* In time order (its file order is the latest), and due by the
	   scrape after next or within a scrape interval of the record read
	   before it (as the records of a journal written as it happens
	   are, however far ahead of the scrapes reading runs): the queue
	   keeps it.  (A finish written ahead of its time would hold back
	   the records after it.) */
	if ((R->qhead == R->nqueue || R->queue[R->nqueue - 1].t <= t) &&
	    (t * 1000 <= (double)(R->next + R->scrape) ||
	    (t - R->read_t) * 1000 <= (double)R->scrape)) {
		if (!queue_push(R, &p)) {
			release(R, held);
			return perr_set(R->e, PERR_NOMEM, "out of memory");
		}
		return 0;
	}
	if (R->nheap == R->capheap) {
		size_t cap = R->capheap ? R->capheap * 2 : 256;
		struct pending *h = realloc(R->heap, cap * sizeof(*h));

		if (h == NULL) {
			release(R, held);
			return perr_set(R->e, PERR_NOMEM, "out of memory");
		}
		R->heap = h;
		R->capheap = cap;
	}
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

/*
 * The least record, taken out.  The hole it leaves goes down to a leaf by
 * the lesser child (one comparison a level), and the last record comes
 * up into it from there: it came from the bottom and mostly belongs near
 * it, so this costs about half the comparisons of sifting it down from
 * the top.  Keys are distinct (file order), so the order taken out is
 * the same either way.
 */
static struct pending
heap_pop(struct replay *R)
{
	struct pending top = R->heap[0], last = R->heap[--R->nheap];
	size_t i = 0, c, n = R->nheap;

	if (n == 0)
		return top;
	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && before(&R->heap[c + 1], &R->heap[c]))
			c++;
		R->heap[i] = R->heap[c];
		i = c;
	}
	while (i > 0 && before(&last, &R->heap[(i - 1) / 2])) {
		R->heap[i] = R->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	R->heap[i] = last;
	return top;
}

/* Fold one record (its memory released). */
static int
fold(struct replay *R, struct held *h)
{
	struct perr fe;
	int rc = h->decoded ? agg_fold_run(R->agg, &h->run, &fe) :
	    agg_fold(R->agg, h->payload, h->len, &fe);

	release(R, h);
	if (rc == PERR_NOMEM || rc == PERR_FAILED) {
		*R->e = fe;
		return rc;
	}
	R->rs->records++;
	return 0;
}

/* The first waiting record (the queue's head or the heap's top), taken
 * out; false when none waits. */
static bool
take_first(struct replay *R, struct pending *p)
{
	bool queued = R->qhead < R->nqueue;

	if (queued && (R->nheap == 0 ||
	    before(&R->queue[R->qhead], &R->heap[0]))) {
		*p = R->queue[R->qhead++];
		if (R->qhead == R->nqueue)
			R->qhead = R->nqueue = 0;
		return true;
	}
	if (R->nheap == 0)
		return false;
	*p = heap_pop(R);
	return true;
}

/* The time of the first waiting record; false when none waits. */
static bool
first_time(const struct replay *R, double *t)
{
	bool queued = R->qhead < R->nqueue;

	if (!queued && R->nheap == 0)
		return false;
	if (queued && (R->nheap == 0 ||
	    before(&R->queue[R->qhead], &R->heap[0])))
		*t = R->queue[R->qhead].t;
	else
		*t = R->heap[0].t;
	return true;
}

/* Fold the waiting records up to time t (ms). */
static int
fold_until(struct replay *R, int64_t t)
{
	struct pending p;
	double first;
	int rc;

	while (first_time(R, &first) && first * 1000 <= (double)t) {
		take_first(R, &p);
		if ((rc = fold(R, p.h)) != 0)
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
	int rc;

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
	if (R->o->follow == NULL)
		return pq_store_series(R->st, ls, idx, R->e);
	R->o->follow->lock(R->o->follow->ctx);
	rc = pq_store_series(R->st, ls, idx, R->e);
	R->o->follow->unlock(R->o->follow->ctx);
	return rc;
}

/* A new slot for store series store (SIZE_MAX: not stored). */
static int
new_slot(struct replay *R, size_t store, size_t *out)
{
	if (R->nslots == R->capslots) {
		size_t cap = R->capslots ? R->capslots * 2 : 256;
		struct slot *v = realloc(R->slots, cap * sizeof(*v));

		if (v == NULL)
			return perr_set(R->e, PERR_NOMEM, "out of memory");
		R->slots = v;
		R->capslots = cap;
	}
	memset(&R->slots[R->nslots], 0, sizeof(R->slots[0]));
	R->slots[R->nslots].store = store;
	*out = R->nslots++;
	return 0;
}

/* The slot of a sample, looked up by its labels (made when new). */
static int
slot_of_sample(struct replay *R, const char *name, const struct expfmt_label *l,
    size_t nl, size_t *out)
{
	size_t store, *grown;
	int rc;

	if (!want_name(R->o, name)) {
		*out = 0;
		return 0;
	}
	if ((rc = series_of(R, name, l, nl, &store)) != 0)
		return rc;
	if (store >= R->capslot_of) {
		size_t cap = R->capslot_of ? R->capslot_of : 256;

		while (cap <= store)
			cap *= 2;
		if ((grown = realloc(R->slot_of, cap * sizeof(*grown))) == NULL)
			return perr_set(R->e, PERR_NOMEM, "out of memory");
		memset(grown + R->capslot_of, 0, (cap - R->capslot_of) *
		    sizeof(*grown));
		R->slot_of = grown;
		R->capslot_of = cap;
	}
	if (R->slot_of[store] == 0) {
		if ((rc = new_slot(R, store, out)) != 0)
			return rc;
		R->slot_of[store] = *out + 1;
	}
	*out = R->slot_of[store] - 1;
	return 0;
}

static int
owner_add(struct replay *R, struct owner *o, size_t slot)
{
	if (mem_grow(&o->slot, &o->cap, o->n + 1, sizeof(o->slot[0]), 16) != 0)
		return perr_set(R->e, PERR_NOMEM, "out of memory");
	o->slot[o->n++] = slot;
	return 0;
}

static int
on_sample(void *ctx, const char *name, const struct expfmt_label *l,
    size_t nl, double value, size_t series, size_t nseries)
{
	struct replay *R = ctx;
	struct owner *o = &R->owners[series < R->nowners - 1 ? series :
	    R->nowners - 1];
	size_t slot = 0;
	int rc;

	if (nseries > 1)
		R->merged = true;
	if (R->slow) {
		if ((rc = slot_of_sample(R, name, l, nl, &slot)) != 0 ||
		    (rc = owner_add(R, o, slot)) != 0)
			return rc;
	} else if (o->got < o->n) {
		slot = o->slot[o->got];
	} else {
		R->mismatch = true;
		return 0;
	}
	o->got++;
	R->slots[slot].v = value;
	R->slots[slot].present = true;
	return 0;
}

static bool
want_series(void *ctx, size_t index)
{
	const struct replay *R = ctx;

	return R->owners[index].dirty;
}

/* Render the dirty owners at t (all of them when whole). */
static int
render_at(struct replay *R, int64_t t, bool whole)
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
	f.unsorted = true;		/* samples go by owner, not order */
	f.want = want_family;
	f.want_memo = R->want_memo;
	f.statuses = &R->statuses;
	f.want_series = whole ? NULL : want_series;
	/* Not whole: no row added up several series at the whole renders,
	   all of which set merged, and no series came since. */
	f.singletons = !whole;
	f.merged = &R->merged;
	f.live = R->live;		/* mark_dirty's, at t */
	f.ctx = R;
	for (size_t i = 0; i < R->nowners; i++)
		R->owners[i].got = 0;
	R->mismatch = false;
	pq_arena_reset(&R->scratch);
	rc = render_format(R->agg, &f, NULL, NULL, &nsamples, R->e);
	R->rs->renders++;
	return rc;
}

/*
 * The dirty series' values at t, without labels (render_series_values):
 * the fast way when no series came (not whole) and promrun's own families
 * give nothing.  Each owner's values go to its slots in order when there
 * are as many as it had (got == n); otherwise scrape renders again.
 */
static int
values_at(struct replay *R, int64_t t)
{
	struct render_format f;
	size_t nd = 0, want = 0, n, at = 0;
	int rc;

	if (mem_grow(&R->dirty, &R->capdirty, R->nowners, sizeof(R->dirty[0]),
	    64) != 0 || mem_grow(&R->counts, &R->capcounts, R->nowners,
	    sizeof(R->counts[0]), 64) != 0)
		return perr_set(R->e, PERR_NOMEM, "out of memory");
	for (size_t i = 0; i < R->nowners; i++) {
		R->owners[i].got = 0;
		if (i + 1 < R->nowners && R->owners[i].dirty) {
			R->dirty[nd++] = i;
			want += R->owners[i].n;
		}
	}
	if (mem_grow(&R->vals, &R->capvals, want + 1, sizeof(R->vals[0]),
	    256) != 0)
		return perr_set(R->e, PERR_NOMEM, "out of memory");
	memset(&f, 0, sizeof(f));
	f.preset = R->preset;
	f.ns = R->ns;
	f.now = (double)t / 1000;
	f.want = want_family;
	f.want_memo = R->want_memo;
	f.statuses = &R->statuses;
	f.live = R->live;
	f.ctx = R;
	R->mismatch = false;
	if ((rc = render_series_values(R->agg, &f, R->dirty, nd, R->vals,
	    want, R->counts, &n, R->e)) != 0)
		return rc;
	R->rs->renders++;
	for (size_t k = 0; k < nd; k++) {
		struct owner *o = &R->owners[R->dirty[k]];

		o->got = R->counts[k];
		/* (More values than the owners had: some are not in vals,
		   and scrape renders again.) */
		for (size_t j = 0; n <= want && o->got == o->n && j < o->n;
		    j++) {
			R->slots[o->slot[j]].v = R->vals[at + j];
			R->slots[o->slot[j]].present = true;
		}
		at += o->got;
	}
	return 0;
}

/* Owners for the aggregate's n series and self; the new ones dirty. */
static int
grow_owners(struct replay *R, size_t n)
{
	struct owner *o, self;
	struct agg_live *l;

	if (n + 1 <= R->nowners)
		return 0;
	if ((o = realloc(R->owners, (n + 1) * sizeof(*o))) == NULL)
		return perr_set(R->e, PERR_NOMEM, "out of memory");
	R->owners = o;
	memset(&self, 0, sizeof(self));
	if (R->nowners > 0)
		self = o[R->nowners - 1];
	memset(o + (R->nowners > 0 ? R->nowners - 1 : 0), 0, (n + 1 -
	    (R->nowners > 0 ? R->nowners - 1 : 0)) * sizeof(*o));
	o[n] = self;
	R->nowners = n + 1;
	if ((l = realloc(R->live, (n + 1) * sizeof(*l))) == NULL)
		return perr_set(R->e, PERR_NOMEM, "out of memory");
	R->live = l;
	if ((l = realloc(R->prev_live, (n + 1) * sizeof(*l))) == NULL)
		return perr_set(R->e, PERR_NOMEM, "out of memory");
	R->prev_live = l;
	return 0;
}

/* Which series to render at t: the changed ones, or all. */
static int
mark_dirty(struct replay *R, int64_t t, bool *whole)
{
	size_t n = agg_nseries(R->agg), nch;
	const size_t *changed;
	int rc;

	if ((rc = grow_owners(R, n)) != 0)
		return rc;
	agg_live_at(R->agg, (double)t / 1000, R->live);
	*whole = R->merged || n != R->known;
	for (size_t i = 0; i < n; i++)
		R->owners[i].dirty = *whole || memcmp(&R->live[i],
		    &R->prev_live[i], sizeof(R->live[i])) != 0;
	agg_changed(R->agg, &changed, &nch);
	for (size_t i = 0; i < nch; i++)
		R->owners[changed[i]].dirty = true;
	agg_changed_clear(R->agg);
	R->owners[n].dirty = true;	/* self: always made */
	memcpy(R->prev_live, R->live, n * sizeof(R->live[0]));
	return 0;
}

/* Store a stretch (followed: the store locked). */
static int
store_samples(struct replay *R, const struct stretch *x)
{
	struct perr ae;

	/* Only memory can fail: the scrapes come in time order, each
	   series from one slot. */
	if (pq_store_append_n(R->st, x->store, x->from, R->scrape, x->n, x->v,
	    &ae) == PERR_NOMEM)
		return perr_set(R->e, PERR_NOMEM, "out of memory");
	return 0;
}

/* Slot sl's waiting stretch up to scrape `last` as x; false: none. */
static bool
stretch_of(const struct replay *R, const struct slot *sl, int64_t last,
    struct stretch *x)
{
	if (!sl->open || sl->store == SIZE_MAX || last < sl->from)
		return false;
	x->store = sl->store;
	x->from = sl->from;
	x->n = (uint64_t)((last - sl->from) / R->scrape + 1);
	x->v = sl->sv;
	return true;
}

/* Store slot sl's waiting stretch, its samples up to scrape `last`
 * (followed: at the next publication); it ends. */
static int
store_stretch(struct replay *R, struct slot *sl, int64_t last)
{
	struct stretch x;

	if (!stretch_of(R, sl, last, &x))
		return 0;
	sl->open = false;
	if (R->o->follow == NULL)
		return store_samples(R, &x);
	if (mem_grow(&R->ended, &R->capended, R->nended + 1,
	    sizeof(R->ended[0]), 256) != 0)
		return perr_set(R->e, PERR_NOMEM, "out of memory");
	R->ended[R->nended++] = x;
	return 0;
}

/*
 * Hand the follower the samples up to scrape t (the last one made): the
 * stretches ended, and those still waiting up to t (they go on from the
 * next scrape), stored in one hold of the lock.
 */
static int
publish(struct replay *R, int64_t t)
{
	const struct replay_follow *f = R->o->follow;
	struct stretch x;
	int rc = 0;

	f->lock(f->ctx);
	for (size_t i = 0; i < R->nended && rc == 0; i++)
		rc = store_samples(R, &R->ended[i]);
	for (size_t i = 1; i < R->nslots && rc == 0; i++) {
		if (!stretch_of(R, &R->slots[i], t, &x))
			continue;
		rc = store_samples(R, &x);
		R->slots[i].from = t + R->scrape;
	}
	if (rc == 0)
		f->published(f->ctx, t);
	f->unlock(f->ctx);
	R->nended = 0;
	R->unpublished = 0;
	return rc;
}

static int
scrape(struct replay *R, int64_t t)
{
	bool whole;
	int rc;

	if ((rc = mark_dirty(R, t, &whole)) != 0)
		return rc;
	R->slow = false;
	rc = !whole && R->owners[R->nowners - 1].n == 0 ? values_at(R, t) :
	    render_at(R, t, whole);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < R->nowners; i++)
		if (R->owners[i].dirty && R->owners[i].got != R->owners[i].n)
			R->mismatch = true;
	if (R->mismatch) {
		/* Samples came or went: render again, looking each one up
		   (every owner's, when the render is whole: a row's first
		   series may have changed). */
		for (size_t i = 0; i < R->nowners; i++) {
			struct owner *o = &R->owners[i];

			if (!o->dirty)
				continue;
			for (size_t k = 0; k < o->n; k++)
				R->slots[o->slot[k]].present = false;
			o->n = 0;
		}
		R->slow = true;
		if ((rc = render_at(R, t, whole)) != 0)
			return rc;
	}
	if (whole)
		R->known = agg_nseries(R->agg);
	for (size_t i = 1; i < R->nslots; i++) {
		struct slot *sl = &R->slots[i];

		if (sl->store == SIZE_MAX ||
		    (sl->present && sl->open && pq_same_value(sl->v, sl->sv)))
			goto counted;
		/* The value changed, or the series went: the stretch up to
		   the last scrape is stored, and one starts with this. */
		if ((rc = store_stretch(R, sl, t - R->scrape)) != 0)
			return rc;
		sl->open = sl->present;
		sl->sv = sl->v;
		sl->from = t;
counted:
		if (sl->present && sl->store != SIZE_MAX)
			R->rs->samples++;
	}
	R->rs->scrapes++;
	if (R->o->follow != NULL && ++R->unpublished == REPLAY_BATCH)
		return publish(R, t);
	return 0;
}

/* Store every stretch still waiting, up to the last scrape (followed:
 * the last publication). */
static int
store_stretches(struct replay *R)
{
	int rc;

	if (R->o->follow != NULL)
		return publish(R, R->next - R->scrape);
	for (size_t i = 1; i < R->nslots; i++)
		if ((rc = store_stretch(R, &R->slots[i], R->next -
		    R->scrape)) != 0)
			return rc;
	return 0;
}

/* The "time=" field's value after the record's event word, or NULL;
 * *n receives its length. */
static const char *
time_field(const char *payload, size_t len, size_t *n)
{
	const char *p = memchr(payload, ' ', len), *v;

	if (p == NULL || (size_t)(payload + len - p) < 7 ||
	    memcmp(p, " time=", 6) != 0)
		return NULL;
	for (v = p += 6; p < payload + len && *p != ' '; p++)
		;
	*n = (size_t)(p - v);
	return v;
}

/* The record's time: the "time=" field after its event word. */
static bool
record_time(const char *payload, size_t len, double *t)
{
	const char *v;
	char tmp[64], *end;
	size_t n = 0;

	if ((v = time_field(payload, len, &n)) == NULL)
		return false;
	if (n > sizeof(tmp) - 1)
		n = sizeof(tmp) - 1;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	return n > 0 && text_parse_double(tmp, &end, t);
}

/* Whether a time field is plain digits and a point, short: record_time
 * reads it as the decoder does (the same text, parsed the same way). */
static bool
plain_time(const char *v, size_t n)
{
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((v[i] < '0' || v[i] > '9') && v[i] != '.')
			return false;
	return true;
}

/*
 * The record held, decoded, and its time, read once: the decoder's when
 * the field is plain (the same value record_time would read), else
 * record_time's.  NULL with *h and no error when the record has no time
 * to wait for (folded at once, as meta and snapshot records are).
 */
static int
take_record(struct replay *R, const char *payload, size_t len,
    struct held **h, double *t)
{
	struct perr de;
	const char *v;
	size_t n;

	*h = NULL;
	if ((v = time_field(payload, len, &n)) == NULL)
		return 0;
	if ((*h = hold(R, payload, len)) == NULL)
		return PERR_NOMEM;
	(*h)->decoded = run_decode((*h)->payload, len, &(*h)->run, &de) == 0;
	if ((*h)->decoded && plain_time(v, n)) {
		*t = (*h)->run.time;
		return 0;
	}
	if (!(*h)->decoded) {
		/* The decoder wrote into it: the record as it was. */
		memcpy((*h)->payload, payload, len);
		(*h)->payload[len] = '\0';
	}
	if (!record_time(payload, len, t)) {
		release(R, *h);
		*h = NULL;
	}
	return 0;
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
	struct held *h;
	double t = 0;
	int rc;

	(void)offset;
	if ((rc = take_record(R, payload, len, &h, &t)) != 0)
		return rc;
	if (h == NULL) {
		/* Not a run record (meta, snapshot): fold it now. */
		if ((h = hold(R, payload, len)) == NULL)
			return PERR_NOMEM;
		return fold(R, h);
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
	if (R->next > R->to) {
		release(R, h);
		return STOP;
	}
	while (R->next <= R->to && (double)R->next < R->win[R->whead] * 1000) {
		if ((rc = fold_until(R, R->next)) != 0 ||
		    (rc = scrape(R, R->next)) != 0) {
			release(R, h);
			return rc;
		}
		R->next += R->scrape;
	}
	if (R->rs->first_time == 0 || t < R->rs->first_time)
		R->rs->first_time = t;
	if (t > R->rs->last_time)
		R->rs->last_time = t;
	if (t * 1000 > (double)R->to + 1000) {
		release(R, h);
		return 0;	/* after every scrape */
	}
	rc = heap_push(R, t, h);
	R->read_t = t;
	return rc;
}

/* The preset and namespace of a replay under o, checked. */
static int
preset_of(const struct replay_opts *o, const struct schema_preset **p,
    const char **ns, struct perr *e)
{
	const struct render_settings *rset = o->render;

	if ((*p = schema_preset_find(o->preset != NULL ? o->preset :
	    rset->preset != NULL ? rset->preset : "native", e)) == NULL)
		return PERR_INVALID;
	*ns = o->ns != NULL ? o->ns : rset->namespace;
	return schema_check_namespace(*p, *ns, e);
}

int
replay_makes(const struct replay_opts *o, const char *name, bool *makes,
    struct perr *e)
{
	const struct schema_preset *p;
	struct schema_catalog cat;
	const char *ns, *m;
	size_t n = strlen(name), k;
	int rc;

	*makes = false;
	if ((rc = preset_of(o, &p, &ns, e)) != 0 ||
	    (rc = schema_catalog_build(p, ns, NULL, 0, &cat, e)) != 0)
		return rc;
	for (size_t i = 0; i < cat.count && !*makes; i++) {
		m = cat.metrics[i].name;
		/* "*_pipeline_run_total": made per workflow, by its end. */
		if (m[0] == '*' && (k = strlen(m + 1)) <= n)
			*makes = strcmp(name + n - k, m + 1) == 0;
		else
			*makes = strcmp(name, m) == 0;
	}
	schema_catalog_free(&cat);
	return 0;
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
	size_t slot;
	int rc;

	memset(rs, 0, sizeof(*rs));
	memset(&R, 0, sizeof(R));
	R.o = o;
	R.st = st;
	R.rs = rs;
	R.e = e;
	R.known = SIZE_MAX;
	R.read_t = -INFINITY;
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
	if ((rc = preset_of(o, &R.preset, &R.ns, e)) != 0)
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
	if ((rc = new_slot(&R, SIZE_MAX, &slot)) != 0 ||
	    (R.want_memo = calloc(R.preset->nfamilies + 1, 1)) == NULL) {
		agg_free(R.agg);
		free(R.slots);
		return rc != 0 ? rc : perr_set(e, PERR_NOMEM, "out of memory");
	}
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
	if (rc == 0)
		rc = store_stretches(&R);
	while (R.nheap > 0)
		free(heap_pop(&R).h);
	for (; R.qhead < R.nqueue; R.qhead++)
		free(R.queue[R.qhead].h);
	free(R.queue);
	while (R.nspare > 0)
		free(R.spare[--R.nspare]);
	free(R.heap);
	agg_free(R.agg);
	pq_lb_free(&R.lb);
	pq_arena_free(&R.scratch);
	for (size_t i = 0; i < R.nowners; i++)
		free(R.owners[i].slot);
	free(R.owners);
	free(R.slots);
	free(R.ended);
	free(R.dirty);
	free(R.vals);
	free(R.counts);
	free(R.want_memo);
	free(R.slot_of);
	free(R.live);
	free(R.prev_live);
	return rc;
}
