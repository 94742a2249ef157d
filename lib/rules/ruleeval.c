/* ruleeval.c - rule groups evaluated as Prometheus does (see ruleeval.h). */
#define _POSIX_C_SOURCE 200809L
#include "rules/ruleeval.h"
#include "promql/parse.h"
#include "rules/tmpl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long Prometheus keeps a resolved alert (resolvedRetention). */
#define RESOLVED_RETENTION_MS (15 * 60 * 1000)

static const char defs[] = "{{$labels := .Labels}}{{$externalLabels := "
    ".ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

const char *
alert_state_name(enum alert_state s)
{
	return s == ALERT_FIRING ? "firing" : s == ALERT_PENDING ? "pending" :
	    "inactive";
}

void
re_engine_init(struct re_engine *en, struct pq_store *st)
{
	memset(en, 0, sizeof(*en));
	en->st = st;
}

static void
alert_free(struct re_alert *a)
{
	if (a == NULL)
		return;
	pq_arena_free(&a->arena);
	free(a->key);
	free(a);
}

void
re_engine_free(struct re_engine *en)
{
	for (size_t g = 0; g < en->ngroups; g++) {
		struct re_group *gr = &en->groups[g];

		for (size_t i = 0; i < gr->nrules; i++) {
			struct re_rule *r = &gr->rules[i];

			pq_query_free(r->q);
			pq_expr_free(r->x);
			for (size_t k = 0; k < r->nalerts; k++)
				alert_free(r->alerts[k]);
			free(r->alerts);
			hmap_free(&r->written);
			free(r->error);
			free(r->w_ls);
			free(r->w_idx);
			pq_arena_free(&r->rec_arena);
			free(r->rec_in);
			free(r->rec_out);
			for (size_t k = 0; r->label_tmpl != NULL &&
			    k < r->r->nlabels; k++)
				tmpl_free(r->label_tmpl[k]);
			for (size_t k = 0; r->annotation_tmpl != NULL &&
			    k < r->r->nannotations; k++)
				tmpl_free(r->annotation_tmpl[k]);
			free(r->label_tmpl);
			free(r->annotation_tmpl);
		}
		free(gr->rules);
	}
	free(en->groups);
	pq_arena_free(&en->scratch);
	memset(en, 0, sizeof(*en));
}

int
re_engine_add(struct re_engine *en, const struct rule_file *rf,
    const char *file, struct perr *e)
{
	size_t pos;
	int rc;

	for (size_t g = 0; g < rf->ngroups; g++) {
		const struct rule_group *rg = &rf->groups[g];
		struct re_group *gr;

		if (en->ngroups == en->capgroups) {
			size_t cap = en->capgroups ? en->capgroups * 2 : 8;
			struct re_group *ng = realloc(en->groups, cap *
			    sizeof(*ng));

			if (ng == NULL)
				return perr_set(e, PERR_NOMEM, "out of memory");
			en->groups = ng;
			en->capgroups = cap;
		}
		gr = &en->groups[en->ngroups++];
		memset(gr, 0, sizeof(*gr));
		gr->g = rg;
		gr->file = file;
		if ((gr->rules = calloc(rg->nrules + 1, sizeof(*gr->rules))) ==
		    NULL)
			return perr_set(e, PERR_NOMEM, "out of memory");
		for (size_t i = 0; i < rg->nrules; i++) {
			struct re_rule *r = &gr->rules[gr->nrules++];

			r->r = &rg->rules[i];
			r->label_tmpl = calloc(r->r->nlabels + 1,
			    sizeof(*r->label_tmpl));
			r->annotation_tmpl = calloc(r->r->nannotations + 1,
			    sizeof(*r->annotation_tmpl));
			if (r->label_tmpl == NULL || r->annotation_tmpl == NULL)
				return perr_set(e, PERR_NOMEM, "out of memory");
			rc = pq_parse(r->r->expr.s, r->r->expr.len, &r->x, &pos, e);
			if (rc == 0)
				rc = pq_query_new(r->x->root, &r->q, e);
			if (rc != 0) {
				char msg[PERR_MSG_MAX];

				snprintf(msg, sizeof(msg), "%s", e->msg);
				return perr_set(e, rc, "%s: rule %s: %s", file,
				    r->r->name.s, msg);
			}
		}
	}
	return 0;
}

/* --- writing results --- */

/* Room for n entries in each of *a and *b (capacity *cap). */
static int
grow2(void **a, void **b, size_t size_a, size_t size_b, size_t n,
    size_t *cap)
{
	void *p;

	if (n <= *cap)
		return 0;
	if ((p = realloc(*a, n * size_a)) == NULL)
		return PERR_NOMEM;
	*a = p;
	if ((p = realloc(*b, n * size_b)) == NULL)
		return PERR_NOMEM;
	*b = p;
	*cap = n;
	return 0;
}

/* Whether v holds the stable label sets r wrote last time, in order. */
static bool
same_writes(const struct re_rule *r, const struct pq_vector *v)
{
	if (!r->w_valid || r->w_n != v->n)
		return false;
	for (size_t i = 0; i < v->n; i++)
		if (r->w_ls[i] != v->v[i].ls)
			return false;
	return true;
}

/* Write the rule's samples to the store and mark the vanished stale. */
static int
write_series(struct re_engine *en, struct re_rule *r,
    const struct pq_vector *v, int64_t t, struct perr *e)
{
	struct hmap now = HMAP_INIT;
	struct buf key = BUF_INIT(1 << 24);
	struct perr ae;
	size_t idx, *slot, i;
	bool found, keep;
	int rc = 0;

	if (same_writes(r, v)) {
		/* The same series as last time: none vanished. */
		for (i = 0; i < v->n; i++)
			if (pq_store_append(en->st, r->w_idx[i], t, v->v[i].v,
			    &ae) != 0)
				break;
		if (i == v->n)
			return 0;
		/* A sample refused: the way below tells which (those
		   written again are the same at the same time: nothing). */
	}
	keep = grow2((void **)&r->w_ls, (void **)&r->w_idx, sizeof(*r->w_ls),
	    sizeof(*r->w_idx), v->n + 1, &r->w_cap) == 0;
	r->w_valid = false;
	for (i = 0; i < v->n && rc == 0; i++) {
		keep = keep && v->v[i].ls->stable;
		buf_reset(&key);
		if (pq_lset_key_all(&key, v->v[i].ls) != 0) {
			rc = perr_set(e, PERR_NOMEM, "out of memory");
			break;
		}
		if ((rc = pq_store_series(en->st, v->v[i].ls, &idx, e)) != 0)
			break;
		if (keep) {
			r->w_ls[i] = v->v[i].ls;
			r->w_idx[i] = idx;
		}
		if (pq_store_append(en->st, idx, t, v->v[i].v, &ae) != 0) {
			/* Prometheus discards the sample; the rule fails. */
			if (ae.code == PERR_NOMEM) {
				rc = perr_set(e, PERR_NOMEM, "out of memory");
				break;
			}
			free(r->error);
			r->error = strdup(ae.msg);
			keep = false;
			continue;
		}
		if (hmap_upsert(&now, key.p, key.len, &slot, &found) != 0) {
			rc = perr_set(e, PERR_NOMEM, "out of memory");
			break;
		}
		*slot = idx;
	}
	for (size_t s = 0; rc == 0 && s < r->written.cap; s++) {
		const struct hmap_slot *sl = &r->written.slots[s];

		if (sl->key == NULL || hmap_find(&now, sl->key, sl->len, NULL))
			continue;
		(void)pq_store_append(en->st, sl->value, t, pq_stale_nan(), &ae);
	}
	buf_free(&key);
	hmap_free(&r->written);
	r->written = now;
	if (rc == 0 && keep) {
		r->w_n = v->n;
		r->w_valid = true;
	}
	return rc;
}

/* --- recording rules --- */

/*
 * A recording rule's memo: before labelling (inputs true), note v's label
 * sets, if all stable; after (false), keep the labelled ones, stable, in
 * the rule's arena, and put them in v.  The arena starts over with each
 * memo, so what was written from the last one is forgotten too.
 */
static int
keep_recorded(struct re_rule *r, struct pq_vector *v, bool inputs)
{
	const struct pq_lset *ls;
	size_t i;

	if (inputs) {
		r->rec_valid = false;
		r->rec_n = SIZE_MAX;	/* no memo to make */
		for (i = 0; i < v->n; i++)
			if (!v->v[i].ls->stable)
				return 0;
		if (grow2((void **)&r->rec_in, (void **)&r->rec_out,
		    sizeof(*r->rec_in), sizeof(*r->rec_out), v->n + 1,
		    &r->rec_cap) != 0)
			return PERR_NOMEM;
		for (i = 0; i < v->n; i++)
			r->rec_in[i] = v->v[i].ls;
		r->rec_n = v->n;
		return 0;
	}
	if (r->rec_n != v->n)
		return 0;	/* the inputs were not all stable */
	/* What was written from the old memo's label sets is forgotten
	   with them. */
	r->w_valid = false;
	pq_arena_free(&r->rec_arena);
	for (i = 0; i < v->n; i++) {
		if ((ls = pq_lset_copy_stable(&r->rec_arena, v->v[i].ls)) ==
		    NULL)
			return PERR_NOMEM;
		r->rec_out[i] = v->v[i].ls = ls;
	}
	r->rec_valid = true;
	return 0;
}

static int
eval_recording(struct re_engine *en, const struct re_group *g,
    struct re_rule *r, struct pq_vector *v, int64_t t, struct perr *e)
{
	struct pq_lbuilder lb;
	struct hmap seen = HMAP_INIT;
	struct buf key = BUF_INIT(1 << 24);
	const struct rule *ru = r->r;
	size_t *slot;
	bool found;
	int rc = 0;

	if (r->rec_valid && r->rec_n == v->n) {
		size_t i;

		for (i = 0; i < v->n && r->rec_in[i] == v->v[i].ls; i++)
			;
		if (i == v->n) {
			/* The labels made last time, checked already. */
			for (i = 0; i < v->n; i++) {
				v->v[i].ls = r->rec_out[i];
				v->v[i].t = t;
			}
			goto limit;
		}
	}
	if ((rc = keep_recorded(r, v, true)) != 0)
		return perr_set(e, rc, "out of memory");
	pq_lb_init(&lb, &en->scratch);
	for (size_t i = 0; i < v->n; i++) {
		pq_lb_reset(&lb, v->v[i].ls);
		pq_lb_set(&lb, PQ_NAME_LABEL, 8, ru->name.s, ru->name.len);
		for (size_t k = 0; k < ru->nlabels; k++)
			pq_lb_set(&lb, ru->labels[k].name.s, ru->labels[k].name.len,
			    ru->labels[k].value.s, ru->labels[k].value.len);
		if ((v->v[i].ls = pq_lb_finish(&lb)) == NULL) {
			rc = perr_set(e, PERR_NOMEM, "out of memory");
			goto out;
		}
		v->v[i].t = t;
		buf_reset(&key);
		if (pq_lset_key_all(&key, v->v[i].ls) != 0 ||
		    hmap_upsert(&seen, key.p, key.len, &slot, &found) != 0) {
			rc = perr_set(e, PERR_NOMEM, "out of memory");
			goto out;
		}
		if (found) {
			r->error = strdup("vector contains metrics with the same "
			    "labelset after applying rule labels");
			v->n = 0;
			goto out;
		}
	}
	if ((rc = keep_recorded(r, v, false)) != 0) {
		rc = perr_set(e, rc, "out of memory");
		goto out;
	}
limit:
	if (g->g->limit > 0 && v->n > (size_t)g->g->limit) {
		char msg[128];

		snprintf(msg, sizeof(msg), "exceeded limit of %lld with %zu "
		    "series", (long long)g->g->limit, v->n);
		r->error = strdup(msg);
		v->n = 0;
	}
out:
	pq_lb_free(&lb);
	hmap_free(&seen);
	buf_free(&key);
	return rc;
}

/* --- alerting rules --- */

/*
 * The template of one label or annotation parsed, the variables'
 * definitions in front as Prometheus puts them: kept in *kept from the
 * first expansion on (a template that does not parse is parsed again at
 * each, failing the same way).
 */
static int
compiled(const struct re_rule *r, const struct rule_text *text,
    struct tmpl **kept, struct perr *e)
{
	struct buf full = BUF_INIT(RULES_FILE_MAX + sizeof(defs));
	struct buf name = BUF_INIT(1 << 20);
	int rc;

	if (*kept != NULL)
		return 0;
	if ((rc = buf_adds(&full, defs)) != 0 ||
	    (rc = buf_add(&full, text->s, text->len)) != 0 ||
	    (rc = buf_adds(&name, "__alert_")) != 0 ||
	    (rc = buf_add(&name, r->r->name.s, r->r->name.len)) != 0)
		rc = perr_set(e, PERR_NOMEM, "out of memory");
	else
		rc = tmpl_compile(buf_str(&full), full.len, buf_str(&name), kept,
		    e);
	buf_free(&full);
	buf_free(&name);
	return rc;
}

/* Expand one label or annotation template for a sample (its parsed
 * template kept in *kept). */
static int
expand(struct re_engine *en, const struct re_rule *r,
    const struct pq_lset *labels, double value, int64_t t,
    const struct rule_text *text, struct tmpl **kept, struct buf *out)
{
	struct buf name = BUF_INIT(1 << 20);
	struct tmpl_data d;
	struct perr e;
	size_t mark = out->len;
	int rc;

	if ((rc = compiled(r, text, kept, &e)) == 0 &&
	    ((rc = buf_adds(&name, "__alert_")) != 0 ||
	    (rc = buf_add(&name, r->r->name.s, r->r->name.len)) != 0))
		goto out;
	if (rc == 0) {
		memset(&d, 0, sizeof(d));
		d.name = buf_str(&name);
		d.labels = labels;
		d.external_labels = en->external_labels;
		d.external_url = en->external_url;
		d.value = value;
		d.store = en->st;
		d.opts = &en->opts;
		d.t = t;
		rc = tmpl_run(*kept, &d, out, &e);
	}
	if (rc == PERR_INVALID) {
		buf_truncate(out, mark);
		rc = buf_addf(out, "<error expanding template: %s>", e.msg);
	}
out:
	buf_free(&name);
	return rc;
}

/* A label set in which empty values stay (annotations). */
static const struct pq_lset *
pairs_lset(struct pq_arena *a, const struct pq_lpair *v, size_t n)
{
	struct pq_lset *ls = pq_arena_alloc(a, sizeof(*ls) + (n + 1) *
	    sizeof(ls->l[0]));

	if (ls == NULL)
		return NULL;
	ls->n = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		ls->l[i] = v[i];
		ls->l[i].name = pq_arena_strdup(a, v[i].name, v[i].nlen);
		ls->l[i].value = pq_arena_strdup(a, v[i].value, v[i].vlen);
		if (ls->l[i].name == NULL || ls->l[i].value == NULL)
			return NULL;
	}
	return ls;
}

static int
cmp_pair(const void *a, const void *b)
{
	const struct pq_lpair *x = a, *y = b;
	int c = memcmp(x->name, y->name, x->nlen < y->nlen ? x->nlen : y->nlen);

	return c != 0 ? c : x->nlen < y->nlen ? -1 : x->nlen > y->nlen;
}

/* A new alert for one sample: its labels and annotations expanded. */
static int
make_alert(struct re_engine *en, struct re_rule *r,
    const struct pq_sample *s, int64_t t, struct re_alert **out,
    struct perr *e)
{
	const struct rule *ru = r->r;
	struct re_alert *a = calloc(1, sizeof(*a));
	struct pq_lbuilder lb;
	struct pq_lpair *ann = NULL;
	struct buf b = BUF_INIT(RULES_FILE_MAX), key = BUF_INIT(1 << 24);
	int rc = 0;

	*out = NULL;
	if (a == NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
	pq_lb_init(&lb, &a->arena);
	pq_lb_reset(&lb, s->ls);
	pq_lb_del(&lb, PQ_NAME_LABEL, 8);
	for (size_t k = 0; k < ru->nlabels && rc == 0; k++) {
		buf_reset(&b);
		rc = expand(en, r, s->ls, s->v, t, &ru->labels[k].value,
		    &r->label_tmpl[k], &b);
		if (rc == 0)
			pq_lb_set_copy(&lb, ru->labels[k].name.s,
			    ru->labels[k].name.len, buf_str(&b), b.len);
	}
	pq_lb_set_copy(&lb, "alertname", 9, ru->name.s, ru->name.len);
	/* The sample's strings live in the scratch arena: copy them. */
	if (rc != 0 || (a->labels = pq_lb_finish(&lb)) == NULL ||
	    (a->labels = pq_lset_copy(&a->arena, a->labels)) == NULL)
		goto nomem;
	if ((ann = calloc(ru->nannotations + 1, sizeof(*ann))) == NULL)
		goto nomem;
	for (size_t k = 0; k < ru->nannotations; k++) {
		buf_reset(&b);
		if (expand(en, r, s->ls, s->v, t, &ru->annotations[k].value,
		    &r->annotation_tmpl[k], &b) != 0)
			goto nomem;
		ann[k].name = ru->annotations[k].name.s;
		ann[k].nlen = (uint32_t)ru->annotations[k].name.len;
		ann[k].value = pq_arena_strdup(&a->arena, buf_str(&b), b.len);
		ann[k].vlen = (uint32_t)b.len;
		if (ann[k].value == NULL)
			goto nomem;
	}
	qsort(ann, ru->nannotations, sizeof(*ann), cmp_pair);
	if ((a->annotations = pairs_lset(&a->arena, ann,
	    ru->nannotations)) == NULL)
		goto nomem;
	if (pq_lset_key_all(&key, a->labels) != 0)
		goto nomem;
	a->keylen = key.len;
	if ((a->key = buf_take(&key)) == NULL)
		goto nomem;
	a->state = ALERT_PENDING;
	a->active_at = t;
	a->keep_firing_since = INT64_MIN;
	a->value = s->v;
	*out = a;
	rc = 0;
	goto done;
nomem:
	alert_free(a);
	rc = perr_set(e, PERR_NOMEM, "out of memory");
done:
	pq_lb_free(&lb);
	free(ann);
	buf_free(&b);
	buf_free(&key);
	return rc;
}

/* Free one of r's alerts: its series' label sets go, and with them what
 * r remembers writing. */
static void
drop_alert(struct re_rule *r, struct re_alert *a)
{
	r->w_valid = false;
	alert_free(a);
}

static ssize_t
find_alert(const struct re_rule *r, const struct re_alert *a)
{
	for (size_t i = 0; i < r->nalerts; i++)
		if (r->alerts[i]->keylen == a->keylen &&
		    memcmp(r->alerts[i]->key, a->key, a->keylen) == 0)
			return (ssize_t)i;
	return -1;
}

static void
transition(struct re_engine *en, const struct re_group *g,
    const struct re_rule *r, const struct re_alert *a, enum alert_state from,
    int64_t t)
{
	if (en->on_transition != NULL && from != a->state)
		en->on_transition(en->ctx, g, r, a, from, t);
}

/* ALERTS or ALERTS_FOR_STATE for an alert: the rule's raw labels, then
 * the alert's (Prometheus's quirk: a label whose template expanded to ""
 * keeps its raw text here). */
static int
alert_sample(struct re_engine *en, const struct re_rule *r,
    struct re_alert *a, bool for_state, int64_t t, struct pq_vector *v,
    struct perr *e)
{
	const struct rule *ru = r->r;
	struct pq_lbuilder lb;
	const struct pq_lset *ls, **kept = for_state ? &a->for_state_ls :
	    &a->series_ls[a->state];
	const char *state = alert_state_name(a->state);
	int rc;

	if (*kept != NULL)
		goto push;
	pq_lb_init(&lb, &en->scratch);
	for (size_t k = 0; k < ru->nlabels; k++)
		pq_lb_set(&lb, ru->labels[k].name.s, ru->labels[k].name.len,
		    ru->labels[k].value.s, ru->labels[k].value.len);
	for (size_t k = 0; k < a->labels->n; k++)
		pq_lb_set(&lb, a->labels->l[k].name, a->labels->l[k].nlen,
		    a->labels->l[k].value, a->labels->l[k].vlen);
	pq_lb_set(&lb, PQ_NAME_LABEL, 8, for_state ? "ALERTS_FOR_STATE" :
	    "ALERTS", for_state ? 16 : 6);
	pq_lb_set(&lb, "alertname", 9, ru->name.s, ru->name.len);
	if (!for_state)
		pq_lb_set(&lb, "alertstate", 10, state, strlen(state));
	ls = pq_lb_finish(&lb);
	pq_lb_free(&lb);
	/* Kept with the alert, stable: the same at every evaluation. */
	if (ls == NULL || (*kept = pq_lset_copy_stable(&a->arena, ls)) ==
	    NULL)
		return perr_set(e, PERR_NOMEM, "out of memory");
push:
	rc = pq_vector_push(&en->scratch, v, *kept, t, for_state ?
	    floor((double)a->active_at / 1000) : 1);
	return rc != 0 ? perr_set(e, PERR_NOMEM, "out of memory") : 0;
}

static int
eval_alerting(struct re_engine *en, const struct re_group *g,
    struct re_rule *r, struct pq_vector *v, int64_t t, struct perr *e)
{
	const struct rule *ru = r->r;
	struct re_alert **fresh;
	struct pq_vector out = {NULL, 0, 0};
	size_t nfresh = 0, active = 0;
	bool *moved;
	ssize_t k;
	int rc = 0;

	fresh = calloc(v->n + 1, sizeof(*fresh));
	moved = calloc(v->n + 1, sizeof(*moved));
	if (fresh == NULL || moved == NULL) {
		free(fresh);
		free(moved);
		return perr_set(e, PERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < v->n; i++) {
		if ((rc = make_alert(en, r, &v->v[i], t, &fresh[nfresh], e)) !=
		    0)
			goto out;
		for (size_t j = 0; j < nfresh; j++)
			if (fresh[j]->keylen == fresh[nfresh]->keylen &&
			    memcmp(fresh[j]->key, fresh[nfresh]->key,
			    fresh[j]->keylen) == 0) {
				r->error = strdup("vector contains metrics with "
				    "the same labelset after applying alert "
				    "labels");
				nfresh++;
				v->n = 0;
				goto out;
			}
		nfresh++;
	}
	/* Known alerts take the new value and annotations; new ones come in
	   pending (as do ones that were resolved). */
	for (size_t i = 0; i < nfresh; i++) {
		k = find_alert(r, fresh[i]);
		if (k >= 0 && r->alerts[k]->state != ALERT_INACTIVE) {
			r->alerts[k]->value = fresh[i]->value;
			r->alerts[k]->annotations = pairs_lset(&r->alerts[k]->arena,
			    fresh[i]->annotations->l, fresh[i]->annotations->n);
			if (r->alerts[k]->annotations == NULL) {
				rc = perr_set(e, PERR_NOMEM, "out of memory");
				goto out;
			}
			continue;
		}
		if (k >= 0) {
			drop_alert(r, r->alerts[k]);
			r->alerts[k] = fresh[i];
		} else {
			if (r->nalerts == r->capalerts) {
				size_t cap = r->capalerts ? r->capalerts * 2 : 8;
				struct re_alert **na = realloc(r->alerts, cap *
				    sizeof(*na));

				if (na == NULL) {
					rc = perr_set(e, PERR_NOMEM,
					    "out of memory");
					goto out;
				}
				r->alerts = na;
				r->capalerts = cap;
			}
			r->alerts[r->nalerts++] = fresh[i];
		}
		transition(en, g, r, fresh[i], ALERT_INACTIVE, t);
		moved[i] = true;
	}
	for (size_t i = 0; i < r->nalerts;) {
		struct re_alert *a = r->alerts[i];
		enum alert_state from = a->state;
		bool present = false, keep = false;

		for (size_t j = 0; j < nfresh && !present; j++)
			present = fresh[j]->keylen == a->keylen &&
			    memcmp(fresh[j]->key, a->key, a->keylen) == 0;
		if (!present) {
			if (a->state == ALERT_FIRING &&
			    ru->keep_firing_for_ms > 0) {
				if (a->keep_firing_since == INT64_MIN)
					a->keep_firing_since = t;
				keep = t - a->keep_firing_since <
				    ru->keep_firing_for_ms;
			}
			if (a->state == ALERT_PENDING || (a->resolved &&
			    t - a->resolved_at > RESOLVED_RETENTION_MS)) {
				if (a->state != ALERT_INACTIVE) {
					a->state = ALERT_INACTIVE;
					transition(en, g, r, a, from, t);
				}
				drop_alert(r, a);
				r->alerts[i] = r->alerts[--r->nalerts];
				continue;
			}
			if (a->state != ALERT_INACTIVE && !keep) {
				a->state = ALERT_INACTIVE;
				a->resolved_at = t;
				a->resolved = true;
				transition(en, g, r, a, from, t);
			}
			if (!keep) {
				i++;
				continue;
			}
		} else {
			a->keep_firing_since = INT64_MIN;
		}
		active++;
		if (a->state == ALERT_PENDING && t - a->active_at >=
		    (ru->has_for ? ru->for_ms : 0)) {
			a->state = ALERT_FIRING;
			a->fired_at = t;
			transition(en, g, r, a, from, t);
		}
		if ((rc = alert_sample(en, r, a, false, t, &out, e)) != 0 ||
		    (rc = alert_sample(en, r, a, true, t, &out, e)) != 0)
			goto out;
		i++;
	}
	if (g->g->limit > 0 && active > (size_t)g->g->limit) {
		char msg[128];

		for (size_t i = 0; i < r->nalerts; i++)
			drop_alert(r, r->alerts[i]);
		r->nalerts = 0;
		snprintf(msg, sizeof(msg), "exceeded limit of %lld with %zu "
		    "alerts", (long long)g->g->limit, active);
		r->error = strdup(msg);
		out.n = 0;
	}
	*v = out;
out:
	for (size_t i = 0; i < nfresh; i++)
		if (!moved[i])
			alert_free(fresh[i]);
	free(fresh);
	free(moved);
	return rc;
}

int
re_group_eval(struct re_engine *en, size_t gi, int64_t t, struct perr *e)
{
	const struct re_group *g = &en->groups[gi];
	struct pq_value val;
	struct perr qe;
	int rc;

	for (size_t i = 0; i < g->nrules; i++) {
		struct re_rule *r = &g->rules[i];

		pq_arena_reset(&en->scratch);
		free(r->error);
		r->error = NULL;
		r->evaluations++;
		rc = pq_query_exec(r->q, en->st, &en->opts, t, t, t,
		    &en->scratch, &val, &qe);
		if (rc == PERR_NOMEM)
			return perr_set(e, rc, "%s", qe.msg);
		if (rc == 0 && val.type == PQ_TYPE_SCALAR) {
			memset(&val.vec, 0, sizeof(val.vec));
			if (pq_vector_push(&en->scratch, &val.vec,
			    &pq_lset_empty, t, val.scalar) != 0)
				return perr_set(e, PERR_NOMEM, "out of memory");
		} else if (rc == 0 && val.type != PQ_TYPE_VECTOR) {
			rc = perr_set(&qe, PERR_INVALID, "rule result is not a "
			    "vector or scalar");
		}
		if (rc != 0) {
			/* Nothing is written: the series written last time
			   keep their samples and get no marker, as in
			   Prometheus. */
			r->error = strdup(qe.msg);
			continue;
		}
		if (r->r->alerting)
			rc = eval_alerting(en, g, r, &val.vec, t, e);
		else
			rc = eval_recording(en, g, r, &val.vec, t, e);
		if (rc != 0)
			return rc;
		if (r->error != NULL)
			continue;
		if ((rc = write_series(en, r, &val.vec, t, e)) != 0)
			return rc;
	}
	return 0;
}
