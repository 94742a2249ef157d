/* series.c - exposition text as time series (see series.h). */
#include "push/series.h"
#include "common/text.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN (256u << 10)
#define TEXT_MAX (256u << 20)

struct series_chunk {
	struct series_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

void
series_set_init(struct series_set *s)
{
	memset(s, 0, sizeof(*s));
	s->start_time = NAN;
}

void
series_set_free(struct series_set *s)
{
	struct series_chunk *c, *next;

	for (c = s->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(s->families);
	free(s->series);
	hmap_free(&s->keys);
	hmap_free(&s->family_index);
	series_set_init(s);
}

/* n bytes from the set's chunks, aligned for any type; NULL when out of memory. */
static void *
alloc(struct series_set *s, size_t n)
{
	struct series_chunk *c = s->chunks;
	size_t cap;
	void *p;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (c == NULL || c->cap - c->used < n) {
		cap = n > CHUNK_MIN ? n : CHUNK_MIN;
		if ((c = malloc(sizeof(*c) + cap)) == NULL)
			return NULL;
		c->next = s->chunks;
		c->used = 0;
		c->cap = cap;
		s->chunks = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static const char *
copy_str(struct series_set *s, const char *str)
{
	size_t n = strlen(str) + 1;
	char *p = alloc(s, n);

	if (p != NULL)
		memcpy(p, str, n);
	return p;
}

int
series_write_key(struct buf *b, const char *name,
    const struct expfmt_label *labels, size_t n)
{
	int rc;

	/* The exposition writer's sample line, less its " 0\n". */
	if ((rc = expfmt_write_sample(b, name, labels, n, 0)) != 0)
		return rc;
	buf_truncate(b, b->len - 3);
	return 0;
}

bool
series_find(const struct series_set *s, const char *key, size_t len,
    size_t *index)
{
	return hmap_find(&s->keys, key, len, index);
}

struct adder {
	struct series_set *s;
	double render_time;	/* of this text, or NaN */
	const char *what;
	const struct push_group *g;
	struct perr *e;
	struct buf key;
};

static int
nomem(struct adder *a)
{
	return perr_set(a->e, PERR_NOMEM, "out of memory");
}

static size_t
family_of(struct adder *a, const struct expfmt_family *f)
{
	struct series_set *s = a->s;
	struct series_family *grown;
	size_t *slot;
	bool found;

	if (hmap_upsert(&s->family_index, f->name, strlen(f->name), &slot,
	    &found) != 0)
		return SIZE_MAX;
	if (found)
		return *slot;
	if (s->nfamilies == s->cap_families) {
		s->cap_families = s->cap_families ? 2 * s->cap_families : 64;
		if ((grown = realloc(s->families, s->cap_families *
		    sizeof(*grown))) == NULL)
			return SIZE_MAX;
		s->families = grown;
	}
	grown = &s->families[s->nfamilies];
	grown->type = f->type;
	if ((grown->name = copy_str(s, f->name)) == NULL ||
	    (grown->help = copy_str(s, f->help != NULL ? f->help : "")) ==
	    NULL)
		return SIZE_MAX;
	*slot = s->nfamilies;
	return s->nfamilies++;
}

/* Insertion sort by name: a sample has a handful of labels. */
static void
sort_labels(struct expfmt_label *l, size_t n)
{
	struct expfmt_label t;
	size_t i, j;

	for (i = 1; i < n; i++) {
		t = l[i];
		for (j = i; j > 0 && strcmp(l[j - 1].name, t.name) > 0; j--)
			l[j] = l[j - 1];
		l[j] = t;
	}
}

static const char *
sample_value(const struct expfmt_sample *smp, const char *name)
{
	size_t i;

	for (i = 0; i < smp->nlabels; i++)
		if (strcmp(smp->labels[i].name, name) == 0)
			return smp->labels[i].value;
	return "";
}

/* The sample's labels and the group's, sorted, checked, duplicates merged. */
static int
gather_labels(struct adder *a, const struct expfmt_sample *smp,
    struct expfmt_label *out, size_t *n)
{
	char q1[PERR_QUOTE_MAX], q2[PERR_QUOTE_MAX];
	const struct push_group *g = a->g;
	size_t i, k = 0;

	for (i = 0; i < smp->nlabels; i++)
		if (smp->labels[i].value[0] != '\0')
			out[k++] = smp->labels[i];
	if (g != NULL && g->job != NULL && g->job[0] != '\0')
		out[k++] = (struct expfmt_label){"job", g->job};
	for (i = 0; g != NULL && i < g->nlabels; i++)
		if (g->labels[i].value[0] != '\0')
			out[k++] = (struct expfmt_label){g->labels[i].name,
			    g->labels[i].value};
	sort_labels(out, k);
	for (i = 0; i < k; i++) {
		if (!label_name_valid(out[i].name) ||
		    strncmp(out[i].name, "__", 2) == 0)
			return perr_set(a->e, PERR_INVALID, "%s:%u: label name "
			    "%s of %s is not one remote write accepts: use "
			    "[a-zA-Z_][a-zA-Z0-9_]*, not starting with __",
			    a->what, smp->line, perr_quote(out[i].name, q1),
			    smp->name);
		if (i == 0 || strcmp(out[i - 1].name, out[i].name) != 0)
			continue;
		if (strcmp(out[i - 1].value, out[i].value) != 0)
			return perr_set(a->e, PERR_INVALID, "%s:%u: %s would "
			    "have label %s twice, %s from the sample and %s "
			    "from the grouping key: a series has each label "
			    "once; drop the label or change -g/--job", a->what,
			    smp->line, smp->name, out[i].name,
			    perr_quote(sample_value(smp, out[i].name), q1),
			    perr_quote(push_group_value(g, out[i].name), q2));
		memmove(&out[i], &out[i + 1], (k - i - 1) * sizeof(*out));
		k--;
		i--;
	}
	*n = k;
	return 0;
}

static int
grow_series(struct series_set *s)
{
	struct series *grown;
	size_t cap = s->cap_series ? 2 * s->cap_series : 1024;

	if ((grown = realloc(s->series, cap * sizeof(*grown))) == NULL)
		return PERR_NOMEM;
	s->series = grown;
	s->cap_series = cap;
	return 0;
}

static void
note_special(struct adder *a, const char *name, double v)
{
	if (strcmp(name, SERIES_RENDER_METRIC) == 0 &&
	    !(a->render_time >= v))
		a->render_time = v;
	else if (strcmp(name, SERIES_START_METRIC) == 0 &&
	    !(a->s->start_time <= v))
		a->s->start_time = v;
}

static int
on_sample(void *ctx, const struct expfmt_sample *smp)
{
	struct expfmt_label tmp[SERIES_MAX_LABELS], *labels;
	char q[PERR_QUOTE_MAX];
	struct adder *a = ctx;
	struct series_set *s = a->s;
	struct series *out;
	size_t n = 0, i, *slot, fam;
	bool found;
	int rc;

	if (!metric_name_valid(smp->name))
		return perr_set(a->e, PERR_INVALID, "%s:%u: metric name %s is "
		    "not one remote write accepts: use [a-zA-Z_:][a-zA-Z0-9_:]*",
		    a->what, smp->line, perr_quote(smp->name, q));
	if ((rc = gather_labels(a, smp, tmp, &n)) != 0)
		return rc;
	buf_reset(&a->key);
	if (series_write_key(&a->key, smp->name, tmp, n) != 0)
		return perr_set(a->e, PERR_LIMIT, "%s:%u: series too long",
		    a->what, smp->line);
	if (hmap_upsert(&s->keys, a->key.p, a->key.len, &slot, &found) != 0)
		return nomem(a);
	if (found)
		return perr_set(a->e, PERR_INVALID, "%s:%u: %s is the same "
		    "series as line %u once labels with empty values are left "
		    "out (Prometheus reads them as absent): drop one",
		    a->what, smp->line, a->key.len > 200 ? smp->name :
		    buf_str(&a->key), s->series[*slot].line);
	*slot = s->nseries;
	if (s->nseries == s->cap_series && grow_series(s) != 0)
		return nomem(a);
	if ((fam = family_of(a, smp->family)) == SIZE_MAX ||
	    (labels = alloc(a->s, (n ? n : 1) * sizeof(*labels))) == NULL)
		return nomem(a);
	out = &s->series[s->nseries];
	out->family = fam;
	out->value = smp->value;
	out->line = smp->line;
	out->nlabels = n;
	out->labels = labels;
	out->key_len = a->key.len;
	if ((out->name = copy_str(s, smp->name)) == NULL ||
	    (out->key = copy_str(s, buf_str(&a->key))) == NULL)
		return nomem(a);
	for (i = 0; i < n; i++)
		if ((labels[i].name = copy_str(s, tmp[i].name)) == NULL ||
		    (labels[i].value = copy_str(s, tmp[i].value)) == NULL)
			return nomem(a);
	s->nseries++;
	note_special(a, smp->name, smp->value);
	return 0;
}

static int
parse_into(struct series_set *s, const char *text, size_t len,
    const char *what, const struct push_group *g, double now,
    struct perr *e)
{
	struct adder a = {s, NAN, what, g, e, BUF_INIT(1u << 20)};
	const struct expfmt_handler h = {NULL, on_sample, &a};
	struct buf copy = BUF_INIT(TEXT_MAX);
	char empty[1] = "";
	size_t first = s->nseries, i;
	long long t;
	int rc;

	/* The parser writes into the text, which stays the caller's. */
	if (len > 0 && (rc = buf_add(&copy, text, len)) != 0)
		return perr_set(e, rc, "%s is too large", what);
	rc = expfmt_parse(len > 0 ? copy.p : empty, len, what, 0, &h, NULL,
	    e);
	/* Every series of this text at the time it was rendered. */
	t = llround((isfinite(a.render_time) ? a.render_time : now) * 1000);
	for (i = first; i < s->nseries; i++)
		s->series[i].time = t;
	buf_free(&copy);
	buf_free(&a.key);
	return rc;
}

int
series_set_add(struct series_set *s, const char *text, size_t len,
    const char *what, const struct push_group *g, double now,
    struct perr *e)
{
	return parse_into(s, text, len, what, g, now, e);
}

int
series_set_parse_keys(struct series_set *s, const char *keys, size_t len,
    const char *what, struct perr *e)
{
	struct buf text = BUF_INIT(TEXT_MAX);
	size_t i, start = 0;
	int rc = 0;

	/* Each key becomes a sample line "KEY 0" the parser reads back. */
	for (i = 0; rc == 0 && i < len; i++) {
		if (keys[i] != '\n')
			continue;
		if ((rc = buf_add(&text, keys + start, i - start)) == 0)
			rc = buf_add(&text, " 0\n", 3);
		start = i + 1;
	}
	if (rc != 0) {
		buf_free(&text);
		return perr_set(e, rc, "out of memory reading %s", what);
	}
	rc = parse_into(s, text.p != NULL ? text.p : "", text.len, what, NULL,
	    0, e);
	buf_free(&text);
	if (rc == PERR_INVALID && e != NULL)
		e->code = PERR_CORRUPT;
	return rc == PERR_INVALID ? PERR_CORRUPT : rc;
}
