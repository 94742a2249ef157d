/*
 * lint.c - rules against a catalog of the metrics promrun emits (see
 * lint.h).
 *
 * The label checks follow what Prometheus does to labels: aggregation
 * keeps its "by" labels or drops its "without" labels, one-to-one matching
 * keeps the "on" labels or drops the "ignoring" ones, group_left adds the
 * included labels, label_replace adds its target, and so on.  A label set
 * can be "any" when we cannot know it (an unknown metric, absent()); then
 * nothing is reported about it.
 */
#include "rules/lint.h"
#include "common/buf.h"
#include "promql/func.h"
#include "common/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/*
 * For the functions with large locals (label sets, messages) that the walk
 * calls at every level: not inlined, they keep those locals off the frames
 * that stay on the stack while it recurses (ASan makes them larger still).
 */
#define NOINLINE __attribute__((noinline))
#define LSET_MAX 64

const char lint_check_names[] = "metric-unknown, label-unknown, "
    "template-label, rate-non-counter, counter-without-rate, "
    "alert-no-comparison, alert-no-for, duplicate-rule";

bool
lint_check_known(const char *name)
{
	const char *p = strstr(lint_check_names, name);
	size_t n = strlen(name);

	/* A whole item of the list: bounded by the start, ", " or the end. */
	return n > 0 && p != NULL && (p == lint_check_names || p[-1] == ' ') &&
	    (p[n] == ',' || p[n] == '\0');
}

/* --- the catalog --- */

static struct lint_metric *
new_metric(struct lint_catalog *c, const char *name)
{
	struct lint_metric *v;
	struct buf b = BUF_INIT(4096);
	size_t *slot;
	bool found;

	if (mem_grow(&c->v, &c->cap, c->n + 1, sizeof(c->v[0]), 32) != 0)
		return NULL;
	if (name[0] == '*')
		c->patterns = true;
	else if (hmap_upsert(&c->index, name, strlen(name), &slot, &found) != 0)
		return NULL;
	else if (!found)
		*slot = c->n;
	if (buf_adds(&b, name) != 0)
		return NULL;
	v = &c->v[c->n++];
	memset(v, 0, sizeof(*v));
	v->name = buf_take(&b);
	return v;
}

static int
add_label(struct lint_metric *m, const char *name)
{
	struct buf b = BUF_INIT(4096);
	size_t i;

	for (i = 0; i < m->nlabels; i++)
		if (strcmp(m->labels[i], name) == 0)
			return 0;
	if (m->nlabels == LINT_MAX_LABELS) {
		m->any_labels = true;
		return 0;
	}
	/* Allocated on demand: recorded metrics, often thousands, have none. */
	if (m->labels == NULL &&
	    (m->labels = calloc(LINT_MAX_LABELS, sizeof(*m->labels))) == NULL)
		return PERR_NOMEM;
	if (buf_adds(&b, name) != 0)
		return PERR_NOMEM;
	m->labels[m->nlabels++] = buf_take(&b);
	return 0;
}

static bool
suffixed(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return n > k && strcmp(name + n - k, suffix) == 0;
}

/* Does family f of preset p carry every configured user label? */
static bool
has_user_labels(const struct schema_family *f)
{
	size_t i;

	for (i = 0; i < SCHEMA_MAX_LABELS && f->labels[i].source != SRC_END;
	    i++)
		if (f->labels[i].source == SRC_USER_ALL)
			return true;
	return false;
}

int
lint_catalog_add_preset(struct lint_catalog *c,
    const struct schema_preset *p, const char *ns, char *const *user,
    size_t nuser, struct perr *e)
{
	struct schema_catalog cat;
	struct lint_metric *m;
	size_t i, k, fam = 0, left = 0;
	int rc;

	if ((rc = schema_catalog_build(p, ns, user, nuser, &cat, e)) != 0)
		return rc;
	c->checks = true;
	for (i = 0; i < cat.count; i++) {
		const struct schema_metric *s = &cat.metrics[i];

		/* The catalog lists families in order, histograms as three. */
		if (left == 0)
			left = p->families[fam++].type == EXPFMT_HISTOGRAM ? 3 : 1;
		left--;
		if ((m = new_metric(c, s->name)) == NULL)
			goto nomem;
		m->type = s->type;
		m->counter = s->type == EXPFMT_COUNTER ||
		    suffixed(s->name, "_bucket") || suffixed(s->name, "_sum") ||
		    suffixed(s->name, "_count");
		m->user_labels = nuser == 0 &&
		    has_user_labels(&p->families[fam - 1]);
		for (k = 0; k < s->nlabels; k++)
			if (add_label(m, s->labels[k]) != 0)
				goto nomem;
	}
	schema_catalog_free(&cat);
	return 0;
nomem:
	schema_catalog_free(&cat);
	return perr_set(e, PERR_NOMEM, "out of memory");
}

int
lint_catalog_build(struct lint_catalog *c, const char *preset,
    const char *ns, const struct lint_configured *cf,
    const char *const *metrics, size_t n, struct perr *e)
{
	const struct schema_preset *p;
	const char *name = preset;
	size_t i;
	int rc = 0;

	if (name == NULL && n == 0 && cf->found)
		name = cf->preset != NULL ? cf->preset : "native";
	if (name != NULL) {
		if ((p = schema_preset_find(name, e)) == NULL)
			return PERR_INVALID;
		if (ns == NULL && (preset == NULL || (cf->preset != NULL &&
		    strcmp(cf->preset, preset) == 0)))
			ns = cf->ns;
		if ((rc = schema_check_namespace(p, ns, e)) != 0 ||
		    (rc = lint_catalog_add_preset(c, p, ns, cf->labels,
		    cf->nlabels, e)) != 0)
			return rc;
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = lint_catalog_add_textfile(c, metrics[i], e);
	return rc;
}

/* --- textfiles --- */

struct textfile {
	struct lint_catalog *c;
	int rc;
};

static struct lint_metric *
find_exact(const struct lint_catalog *c, const char *name)
{
	size_t i;

	if (!hmap_find(&c->index, name, strlen(name), &i))
		return NULL;
	return &c->v[i];
}

static int
on_sample(void *ctx, const struct expfmt_sample *s)
{
	struct textfile *t = ctx;
	struct lint_metric *m;
	enum expfmt_type type = s->family->type;
	size_t i;

	if ((m = find_exact(t->c, s->name)) == NULL) {
		if ((m = new_metric(t->c, s->name)) == NULL)
			return PERR_NOMEM;
		m->type = type;
		m->counter = type == EXPFMT_COUNTER ||
		    ((type == EXPFMT_HISTOGRAM || type == EXPFMT_SUMMARY) &&
		    strcmp(s->name, s->family->name) != 0 &&
		    (suffixed(s->name, "_bucket") || suffixed(s->name, "_sum") ||
		    suffixed(s->name, "_count")));
	}
	for (i = 0; i < s->nlabels; i++)
		if (add_label(m, s->labels[i].name) != 0)
			return PERR_NOMEM;
	return 0;
}

int
lint_catalog_add_textfile(struct lint_catalog *c, const char *path,
    struct perr *e)
{
	struct expfmt_handler h = {NULL, on_sample, NULL};
	struct textfile t = {c, 0};
	struct buf b;
	int rc;

	if ((rc = rules_read_file(path, RULES_FILE_MAX, &b, e)) != 0)
		return rc;
	h.ctx = &t;
	rc = expfmt_parse(b.p, b.len, path, 0, &h, NULL, e);
	buf_free(&b);
	if (rc == PERR_NOMEM)
		return perr_set(e, PERR_NOMEM, "out of memory");
	c->checks = true;
	return rc;
}

int
lint_catalog_add_recorded(struct lint_catalog *c, const struct rule_file *rf)
{
	struct lint_metric *m;
	size_t i, j;

	for (i = 0; i < rf->ngroups; i++)
		for (j = 0; j < rf->groups[i].nrules; j++) {
			const struct rule *r = &rf->groups[i].rules[j];

			if (r->alerting || r->name.len == 0 ||
			    find_exact(c, r->name.s) != NULL)
				continue;
			if ((m = new_metric(c, r->name.s)) == NULL)
				return PERR_NOMEM;
			m->type = EXPFMT_UNTYPED;
			m->any_labels = true;
		}
	return 0;
}

void
lint_catalog_free(struct lint_catalog *c)
{
	size_t i, k;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].name);
		for (k = 0; k < c->v[i].nlabels; k++)
			free(c->v[i].labels[k]);
		free(c->v[i].labels);
	}
	free(c->v);
	hmap_free(&c->index);
	memset(c, 0, sizeof(*c));
}

/* --- label sets --- */

struct lset {
	bool any;
	bool open;		/* plus any user label (see lint_metric) */
	const char *v[LSET_MAX];
	size_t n;
};

static const char *nearest(const char *s, const char *const *names,
    size_t n);

static bool
lset_listed(const struct lset *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return true;
	return false;
}

static bool
lset_has(const struct lset *s, const char *name)
{
	if (s->any || lset_listed(s, name))
		return true;
	/* An unlisted user label is fine, a typo of a listed one is not. */
	return s->open && nearest(name, s->v, s->n) == NULL;
}

static void
lset_add(struct lset *s, const char *name)
{
	if (s->any || lset_listed(s, name))
		return;
	if (s->n == LSET_MAX)
		s->any = true;
	else
		s->v[s->n++] = name;
}

static void
lset_del(struct lset *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0) {
			s->v[i] = s->v[--s->n];
			return;
		}
}

/* *to = *from, which may be the same set. */
static void
lset_copy(struct lset *to, const struct lset *from)
{
	if (to != from)
		*to = *from;
}

/* "a, b, c" or "none", for messages. */
static void
lset_list(const struct lset *s, char *out, size_t size)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < s->n && len + 4 < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s",
		    i > 0 ? ", " : "", s->v[i]);
	if (s->open && len + 20 < size)
		snprintf(out + len, size - len, "%suser labels",
		    s->n > 0 ? ", " : "");
	else if (s->n == 0)
		snprintf(out, size, "none");
}

/* --- context --- */

/*
 * The walk computes each node's labels once, from its children's, and so
 * checks a node after its children; but its findings keep the order of a
 * walk that checks each node before its children (they may share one
 * position, when an expression's offsets do not map to the file): each
 * finding is kept with the pre-order number of its node, and the rule's
 * findings are put in that order when it is done.
 */
struct ctx {
	const struct lint_catalog *c;
	const struct rule *r;
	struct rule_pos pos;		/* of r's expression */
	struct findings *f;		/* every rule's warnings */
	struct findings rule;		/* this rule's, as found */
	size_t *node_of;		/* the node of each of rule's */
	size_t cap_node_of;
	size_t node;			/* the node being checked */
	size_t next;			/* the pre-order number of the next */
	int rc;
};

#define AFTER_WALK ((size_t)-1)	/* the node of the alert's own checks */

static const char *const target_metrics[] = {
	"up", "scrape_duration_seconds", "scrape_samples_scraped",
	"scrape_samples_post_metric_relabeling", "scrape_series_added",
};

/* The target labels Prometheus attaches to every series it scrapes. */
static const char *const target_labels[] = {"job", "instance"};

static void vadd(struct ctx *x, unsigned line, unsigned col,
    const char *check, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
static void add(struct ctx *x, unsigned line, unsigned col,
    const char *check, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void warn(struct ctx *x, size_t off, const char *check,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A warning of the rule, at x->node. */
static void
vadd(struct ctx *x, unsigned line, unsigned col, const char *check,
    const char *fmt, va_list ap)
{
	char msg[FINDING_MSG_MAX];
	size_t *v, cap;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (x->rule.n == x->cap_node_of) {
		cap = x->cap_node_of ? 2 * x->cap_node_of : 16;
		if ((v = realloc(x->node_of, cap * sizeof(*v))) == NULL) {
			x->rc = PERR_NOMEM;
			return;
		}
		x->node_of = v;
		x->cap_node_of = cap;
	}
	if (findings_add(&x->rule, line, col, FINDING_WARNING, check, "%s",
	    msg) != 0) {
		x->rc = PERR_NOMEM;
		return;
	}
	x->node_of[x->rule.n - 1] = x->node;
}

static void
add(struct ctx *x, unsigned line, unsigned col, const char *check,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(x, line, col, check, fmt, ap);
	va_end(ap);
}

/* A warning at byte off of the rule's expression. */
static void
warn(struct ctx *x, size_t off, const char *check, const char *fmt, ...)
{
	unsigned line, col;
	va_list ap;

	rule_pos_at(&x->pos, off, &line, &col);
	va_start(ap, fmt);
	vadd(x, line, col, check, fmt, ap);
	va_end(ap);
}

struct found {
	size_t node, i;
};

static int
by_node(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* The rule's warnings, in the order of their nodes, to the end of x->f. */
static void
flush_rule(struct ctx *x)
{
	struct findings *r = &x->rule;
	struct finding *v = NULL;
	struct found *o = NULL;
	size_t i;

	if (r->n > 1 && ((o = calloc(r->n, sizeof(*o))) == NULL ||
	    (v = calloc(r->n, sizeof(*v))) == NULL)) {
		x->rc = PERR_NOMEM;
	} else if (r->n > 1) {
		for (i = 0; i < r->n; i++) {
			o[i].node = x->node_of[i];
			o[i].i = i;
		}
		qsort(o, r->n, sizeof(*o), by_node);
		for (i = 0; i < r->n; i++)
			v[i] = r->v[o[i].i];
		memcpy(r->v, v, r->n * sizeof(*v));
	}
	free(o);
	free(v);
	if (x->rc == 0 && findings_append(x->f, r) != 0)
		x->rc = PERR_NOMEM;
	findings_free(r);
}

/* The metric name a selector asks for, or NULL. */
static const char *
selector_name(const struct pq_node *vs)
{
	size_t i;

	if (vs->name.len > 0)
		return vs->name.p;
	for (i = 0; i < vs->nmatchers; i++)
		if (vs->matchers[i].op == PQ_MATCH_EQ &&
		    pq_str_eq(vs->matchers[i].name, "__name__"))
			return vs->matchers[i].value.p;
	return NULL;
}

static const struct lint_metric *
lookup(const struct lint_catalog *c, const char *name)
{
	const struct lint_metric *m = find_exact(c, name);
	size_t i;

	for (i = 0; m == NULL && c->patterns && i < c->n; i++)
		if (c->v[i].name[0] == '*' && suffixed(name, c->v[i].name + 1))
			m = &c->v[i];
	return m;
}

static bool
is_target_metric(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(target_metrics); i++)
		if (strcmp(name, target_metrics[i]) == 0)
			return true;
	return false;
}

/* Levenshtein distance, capped at 100 bytes a side. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, cur, tmp;
	size_t row[101];

	if (la > 100 || lb > 100)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < cur)
				cur = row[j] + 1;
			if (row[j - 1] + 1 < cur)
				cur = row[j - 1] + 1;
			tmp = row[j];
			row[j] = cur;
			prev = tmp;
		}
	}
	return row[lb];
}

/* The closest of names[0..n) to s, if close enough to be a typo. */
static const char *
nearest(const char *s, const char *const *names, size_t n)
{
	size_t i, d, best = (size_t)-1, limit = strlen(s) / 4;
	const char *pick = NULL;

	if (limit < 2)
		limit = 2;
	for (i = 0; i < n; i++) {
		if (names[i][0] == '*')
			continue;
		d = distance(s, names[i]);
		if (d < best) {
			best = d;
			pick = names[i];
		}
	}
	return best <= limit ? pick : NULL;
}

static const char *
nearest_metric(const struct lint_catalog *c, const char *s)
{
	const char **names;
	const char *pick;
	size_t i;

	if ((names = calloc(c->n + 1, sizeof(*names))) == NULL)
		return NULL;
	for (i = 0; i < c->n; i++)
		names[i] = c->v[i].name;
	pick = nearest(s, names, c->n);
	free(names);
	return pick;
}

/* --- what labels an expression's result carries --- */

static NOINLINE void
selector_labels(const struct ctx *x, const struct pq_node *vs,
    struct lset *out)
{
	const struct lint_metric *m;
	const char *name = selector_name(vs);
	size_t i;

	memset(out, 0, sizeof(*out));
	if (name == NULL || (m = lookup(x->c, name)) == NULL || m->any_labels) {
		out->any = true;
		return;
	}
	for (i = 0; i < m->nlabels; i++)
		lset_add(out, m->labels[i]);
	for (i = 0; i < NELEM(target_labels); i++)
		lset_add(out, target_labels[i]);
	out->open = m->user_labels;
}

static bool
func_is(const struct pq_node *n, const char *name)
{
	return n->kind == PQ_CALL && strcmp(n->func->name, name) == 0;
}

/* A call's labels, *out holding those of its first vector argument. */
static void
call_labels(const struct pq_node *n, struct lset *out)
{
	if (func_is(n, "absent") || func_is(n, "absent_over_time")) {
		memset(out, 0, sizeof(*out));
		out->any = true;
		return;
	}
	if ((func_is(n, "label_replace") || func_is(n, "label_join")) &&
	    n->nargs > 1 && n->args[1]->kind == PQ_STRING)
		lset_add(out, n->args[1]->str.p);
	if (func_is(n, "histogram_quantile") ||
	    func_is(n, "histogram_fraction"))
		lset_del(out, "le");
}

static NOINLINE void
aggregate_labels(const struct pq_node *n, const struct lset *in,
    struct lset *out)
{
	size_t i;

	if (n->op == PQ_T_TOPK || n->op == PQ_T_BOTTOMK) {
		*out = *in;
		return;
	}
	memset(out, 0, sizeof(*out));
	if (n->without) {
		*out = *in;
		for (i = 0; i < n->grouping.n; i++)
			lset_del(out, n->grouping.v[i].name.p);
	} else {
		for (i = 0; i < n->grouping.n; i++)
			if (lset_has(in, n->grouping.v[i].name.p))
				lset_add(out, n->grouping.v[i].name.p);
	}
	if (n->op == PQ_T_COUNT_VALUES && n->param->kind == PQ_STRING)
		lset_add(out, n->param->str.p);
}

/* Binary node n's labels from its operands' l and r; out may be l. */
static NOINLINE void
binary_labels(const struct pq_node *n, const struct lset *l,
    const struct lset *r, struct lset *out)
{
	struct lset keep;
	size_t i;

	if (pq_node_type(n->lhs) != PQ_TYPE_VECTOR) {
		*out = *r;
		return;
	}
	if (pq_node_type(n->rhs) != PQ_TYPE_VECTOR) {
		lset_copy(out, l);
		return;
	}
	if (n->op == PQ_T_LOR) {
		lset_copy(out, l);
		out->any = l->any || r->any;
		out->open = l->open || r->open;
		for (i = 0; i < r->n; i++)
			lset_add(out, r->v[i]);
		return;
	}
	if (n->op == PQ_T_LAND || n->op == PQ_T_LUNLESS) {
		lset_copy(out, l);
		return;
	}
	if (n->card == PQ_CARD_ONE_TO_ONE && n->on) {
		memset(&keep, 0, sizeof(keep));
		for (i = 0; i < n->matching.n; i++)
			if (lset_has(l, n->matching.v[i].name.p))
				lset_add(&keep, n->matching.v[i].name.p);
		*out = keep;
	} else {
		lset_copy(out, n->card == PQ_CARD_ONE_TO_MANY ? r : l);
		if (n->card == PQ_CARD_ONE_TO_ONE)
			for (i = 0; i < n->matching.n; i++)
				lset_del(out, n->matching.v[i].name.p);
	}
	for (i = 0; i < n->include.n; i++)
		lset_add(out, n->include.v[i].name.p);
}

/* --- the checks on one node --- */

static NOINLINE void
unknown_label(struct ctx *x, size_t off, const char *what, const char *label,
    const struct lset *have)
{
	char list[512];
	const char *hint = nearest(label, have->v, have->n);

	lset_list(have, list, sizeof(list));
	if (hint != NULL)
		warn(x, off, "label-unknown", "label \"%s\" is not on %s (did "
		    "you mean \"%s\"? it has: %s)", label, what, hint, list);
	else
		warn(x, off, "label-unknown", "label \"%s\" is not on %s (it "
		    "has: %s)", label, what, list);
}

/* Selector vs, whose labels are have. */
static NOINLINE void
check_selector(struct ctx *x, const struct pq_node *vs,
    const struct lset *have)
{
	const char *name = selector_name(vs), *hint;
	const struct lint_metric *m;
	char what[300];
	size_t i;

	if (name == NULL || is_target_metric(name))
		return;
	if ((m = lookup(x->c, name)) == NULL) {
		hint = nearest_metric(x->c, name);
		if (hint != NULL)
			warn(x, vs->start, "metric-unknown", "unknown metric "
			    "\"%s\": promrun does not emit it (did you mean "
			    "\"%s\"?)", name, hint);
		else
			warn(x, vs->start, "metric-unknown", "unknown metric "
			    "\"%s\": promrun does not emit it", name);
		return;
	}
	if (m->any_labels)
		return;
	snprintf(what, sizeof(what), "metric \"%s\"", name);
	for (i = 0; i < vs->nmatchers; i++) {
		const struct pq_matcher *mt = &vs->matchers[i];

		if (!pq_str_eq(mt->name, "__name__") &&
		    !lset_has(have, mt->name.p))
			unknown_label(x, mt->pos, what, mt->name.p, have);
	}
}

/* Aggregation n, whose input has the labels in. */
static NOINLINE void
check_grouping(struct ctx *x, const struct pq_node *n, const struct lset *in)
{
	char what[64];
	size_t i;

	if (in->any)
		return;
	snprintf(what, sizeof(what), "the input of %s %s",
	    pq_tok_text(n->op), n->without ? "without" : "by");
	for (i = 0; i < n->grouping.n; i++)
		if (!lset_has(in, n->grouping.v[i].name.p))
			unknown_label(x, n->grouping.v[i].pos, what,
			    n->grouping.v[i].name.p, in);
}

/* Binary node n, whose operands have the labels l and r. */
static NOINLINE void
check_matching(struct ctx *x, const struct pq_node *n, const struct lset *l,
    const struct lset *r)
{
	struct lset both;
	const struct lset *one;
	size_t i, k;

	if (!n->has_matching)
		return;
	both = *l;
	for (k = 0; k < r->n; k++)
		lset_add(&both, r->v[k]);
	both.any = l->any || r->any;
	both.open = l->open || r->open;
	for (i = 0; !both.any && i < n->matching.n; i++)
		if (!lset_has(&both, n->matching.v[i].name.p))
			unknown_label(x, n->matching.v[i].pos, n->on ?
			    "either side of on()" : "either side of ignoring()",
			    n->matching.v[i].name.p, &both);
	one = n->card == PQ_CARD_MANY_TO_ONE ? r : l;
	for (i = 0; !one->any && i < n->include.n; i++)
		if (!lset_has(one, n->include.v[i].name.p))
			unknown_label(x, n->include.v[i].pos,
			    n->card == PQ_CARD_MANY_TO_ONE ? "the right side "
			    "of group_left" : "the left side of group_right",
			    n->include.v[i].name.p, one);
}

static NOINLINE void
check_rate(struct ctx *x, const struct pq_node *n)
{
	const struct pq_node *a;
	const struct lint_metric *m;
	const char *name;

	if (!func_is(n, "rate") && !func_is(n, "irate") &&
	    !func_is(n, "increase"))
		return;
	if (n->nargs != 1 || (a = n->args[0])->kind != PQ_MATRIX_SELECTOR)
		return;
	if ((name = selector_name(a->expr)) == NULL ||
	    (m = lookup(x->c, name)) == NULL || m->counter ||
	    m->type == EXPFMT_UNTYPED)
		return;
	warn(x, n->start, "rate-non-counter", "%s() of %s \"%s\": rate, irate "
	    "and increase need a counter; use deriv(), delta() or "
	    "changes() for gauges", n->func->name, expfmt_type_name(m->type),
	    name);
}

static bool
is_comparison(const struct pq_node *n)
{
	return n->kind == PQ_BINARY && n->op >= PQ_T_EQLC && n->op <= PQ_T_GTE;
}

static void bare_chain(struct ctx *x, const struct pq_node *n);

/* A counter reaching a comparison without going through a function. */
static void
check_bare_counter(struct ctx *x, const struct pq_node *n)
{
	const struct lint_metric *m;
	const char *name;

	switch (n->kind) {
	case PQ_VECTOR_SELECTOR:
		if ((name = selector_name(n)) != NULL &&
		    (m = lookup(x->c, name)) != NULL && m->counter)
			warn(x, n->start, "counter-without-rate", "counter "
			    "\"%s\" compared as it is: its value only grows; "
			    "compare rate() or increase() of it", name);
		break;
	case PQ_PAREN:
	case PQ_UNARY:
	case PQ_AGGREGATE:
		check_bare_counter(x, n->expr);
		break;
	case PQ_BINARY:
		if (!is_comparison(n))
			bare_chain(x, n);
		break;
	default:
		break;
	}
}

/*
 * check_bare_counter of the operands of the chain of non-comparison binary
 * nodes that n ends (ast.h: a loop), the first operand first.
 */
static void
bare_chain(struct ctx *x, const struct pq_node *n)
{
	const struct pq_node *b = n;

	while (b->kind == PQ_BINARY && !is_comparison(b))
		b = b->lhs;
	check_bare_counter(x, b);
	do {
		b = b->up;
		check_bare_counter(x, b->rhs);
	} while (b != n);
}

static void lint_node(struct ctx *x, const struct pq_node *n,
    struct lset *out);

/*
 * The chain of binary nodes that n, numbered id, ends (ast.h): its first
 * operand, then each node's rhs and the node itself, with a loop.  The
 * chain's nodes are numbered from the top down, before their operands.
 */
static NOINLINE void
lint_chain(struct ctx *x, const struct pq_node *n, size_t id,
    struct lset *out)
{
	const struct pq_node *first = pq_chain_first(n), *b;
	struct lset r;
	size_t level = 0;

	for (b = first; b != n; b = b->up)
		level++;
	x->next += level - 1;
	lint_node(x, first, out);
	b = first;
	do {
		b = b->up;
		level--;
		lint_node(x, b->rhs, &r);
		x->node = id + level;
		check_matching(x, b, out, &r);
		if (is_comparison(b)) {
			check_bare_counter(x, b->lhs);
			check_bare_counter(x, b->rhs);
		}
		binary_labels(b, out, &r, out);
	} while (b != n);
}

/* A call's arguments, then the call; out gets its labels. */
static NOINLINE void
lint_call(struct ctx *x, const struct pq_node *n, size_t id,
    struct lset *out)
{
	struct lset other;
	bool vector = false;
	enum pq_type t;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n->nargs; i++) {
		/* The labels of the first vector argument are the call's. */
		t = pq_node_type(n->args[i]);
		if (!vector && (t == PQ_TYPE_VECTOR || t == PQ_TYPE_MATRIX)) {
			lint_node(x, n->args[i], out);
			vector = true;
		} else {
			lint_node(x, n->args[i], &other);
		}
	}
	x->node = id;
	check_rate(x, n);
	call_labels(n, out);
}

/* An aggregation's parameter and operand, then the aggregation. */
static NOINLINE void
lint_aggregate(struct ctx *x, const struct pq_node *n, size_t id,
    struct lset *out)
{
	struct lset in;

	if (n->param != NULL)
		lint_node(x, n->param, &in);
	lint_node(x, n->expr, &in);
	x->node = id;
	check_grouping(x, n, &in);
	aggregate_labels(n, &in, out);
}

/*
 * Check n and what is below it; out gets the labels of n's result.  A
 * node's checks use its operands' labels, so they come after its
 * operands', each finding with the node's pre-order number (see ctx).
 * Recursion goes one level deeper each time (ast.h), and each level keeps
 * one label set on the stack.
 */
static void
lint_node(struct ctx *x, const struct pq_node *n, struct lset *out)
{
	size_t id = x->next++;

	switch (n->kind) {
	case PQ_VECTOR_SELECTOR:
		selector_labels(x, n, out);
		x->node = id;
		check_selector(x, n, out);
		break;
	case PQ_CALL:
		lint_call(x, n, id, out);
		break;
	case PQ_AGGREGATE:
		lint_aggregate(x, n, id, out);
		break;
	case PQ_BINARY:
		lint_chain(x, n, id, out);
		break;
	case PQ_MATRIX_SELECTOR:
	case PQ_SUBQUERY:
	case PQ_PAREN:
	case PQ_UNARY:
		lint_node(x, n->expr, out);
		break;
	case PQ_NUMBER:
	case PQ_STRING:
		memset(out, 0, sizeof(*out));
		break;
	}
}

/* --- alerts --- */

/*
 * Does the expression drop series, so that an alert can stop firing?
 * Recursion goes one level deeper each time; lhs chains are a loop.
 */
static bool
filters(const struct pq_node *n)
{
	size_t i;

	for (;;) {
		switch (n->kind) {
		case PQ_BINARY:
			if (is_comparison(n))
				return !n->return_bool;
			if (n->op == PQ_T_LAND || n->op == PQ_T_LUNLESS)
				return true;
			/* or: both sides must filter; the others: either. */
			if (filters(n->rhs) != (n->op == PQ_T_LOR))
				return n->op != PQ_T_LOR;
			n = n->lhs;
			break;
		case PQ_CALL:
			if (func_is(n, "absent") ||
			    func_is(n, "absent_over_time"))
				return true;
			for (i = 0; i < n->nargs; i++)
				if (filters(n->args[i]))
					return true;
			return false;
		case PQ_PAREN:
		case PQ_UNARY:
		case PQ_AGGREGATE:
		case PQ_SUBQUERY:
			n = n->expr;
			break;
		default:
			return false;
		}
	}
}

/* $labels.x in labels or annotations that the result cannot carry. */
static void
check_template_labels(struct ctx *x, const struct rule_pair *pairs, size_t n,
    const char *what, const struct lset *have)
{
	char list[512];
	struct rule_pos pos;
	unsigned line, col;
	const char *hint;
	size_t i, k;

	for (i = 0; i < n && !have->any; i++) {
		rule_pos_init(&pos, &pairs[i].value);
		for (k = 0; k < pairs[i].nrefs; k++) {
			const struct rule_ref *ref = &pairs[i].refs[k];

			if (lset_has(have, ref->name))
				continue;
			lset_list(have, list, sizeof(list));
			hint = nearest(ref->name, have->v, have->n);
			rule_pos_at(&pos, ref->off, &line, &col);
			add(x, line, col, "template-label", "%s \"%s\": "
			    "$labels.%s is never set: the expression's result "
			    "has no label \"%s\"%s%s%s (it has: %s)", what,
			    pairs[i].name.s, ref->name, ref->name, hint ?
			    " (did you mean \"" : "", hint ? hint : "", hint ?
			    "\"?)" : "", list);
		}
		rule_pos_free(&pos);
	}
}

/* The alert's own checks; have is its result's labels (with a catalog). */
static void
check_alert(struct ctx *x, const struct rule *r, const struct pq_node *root,
    const struct lset *have)
{
	x->node = AFTER_WALK;
	if (!filters(root))
		warn(x, root->start, "alert-no-comparison", "alert "
		    "\"%s\" compares nothing: it fires for every series the "
		    "expression returns (add a comparison such as \"> 0\")",
		    r->name.s);
	if (!r->has_for || r->for_ms == 0)
		add(x, r->name.line, r->name.col, "alert-no-for", "alert "
		    "\"%s\" has no 'for': a single evaluation fires it; add "
		    "\"for:\" with how long the condition must hold",
		    r->name.s);
	if (!x->c->checks)
		return;
	check_template_labels(x, r->labels, r->nlabels, "label", have);
	check_template_labels(x, r->annotations, r->nannotations, "annotation",
	    have);
}

/* The checks of one rule, over its tree (rules_validate's callback). */
static int
lint_tree(void *arg, const struct rule *r, const struct pq_node *root)
{
	struct ctx *x = arg;
	struct lset have;

	x->r = r;
	x->next = 0;
	rule_pos_init(&x->pos, &r->expr);
	if (x->c->checks)
		lint_node(x, root, &have);
	if (r->alerting)
		check_alert(x, r, root, &have);
	rule_pos_free(&x->pos);
	flush_rule(x);
	return x->rc;
}

int
lint_rules(const struct lint_catalog *c, struct rule_file *rf,
    struct findings *f)
{
	struct findings warnings;
	struct ctx x;
	int rc;

	memset(&warnings, 0, sizeof(warnings));
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.f = &warnings;
	/* Ours after promtool's, as if each check read the file in turn. */
	if ((rc = rules_validate(rf, f, lint_tree, &x)) == 0)
		rc = findings_append(f, &warnings);
	findings_free(&warnings);
	findings_free(&x.rule);
	free(x.node_of);
	return rc;
}
