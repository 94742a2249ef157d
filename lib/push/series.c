/* series.c - exposition text as time series (see series.h). */
#include "push/series.h"
#include "common/mem.h"
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

/* A parsed text the set's strings point into. */
struct series_text {
	struct series_text *next;
	char *text;
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
	struct series_text *t;

	/* The texts' records are in the chunks: free them first. */
	for (t = s->texts; t != NULL; t = t->next)
		free(t->text);
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
		/* A set that filled a chunk is a large one: the next is filled. */
		if (s->chunks != NULL)
			mem_prefault(c->data, cap);
		c->next = s->chunks;
		c->used = 0;
		c->cap = cap;
		s->chunks = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

/*
 * Keep only used bytes of the set's last allocation, p (n bytes were
 * asked for): the rest goes back to its chunk.
 */
static void
trim_last(struct series_set *s, void *p, size_t used)
{
	struct series_chunk *c = s->chunks;

	used = (used + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	c->used = (size_t)((char *)p - (char *)c->data) + used;
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

/* The set takes text (malloc'd), and frees it even when this fails. */
static int
keep_text(struct series_set *s, char *text)
{
	struct series_text *t;

	if (text == NULL)
		return 0;
	if ((t = alloc(s, sizeof(*t))) == NULL) {
		free(text);
		return PERR_NOMEM;
	}
	t->text = text;
	t->next = s->texts;
	s->texts = t;
	return 0;
}

/*
 * Every series' key into the map (those of a first text went in only if
 * its series could be told apart no other way, see add_sample).  Keys put
 * off were told apart by the parser already: none is found twice.
 */
static int
key_all(struct series_set *s)
{
	size_t i, *slot;
	uint64_t hash;
	bool found;

	if (s->keyed < s->nseries &&
	    hmap_reserve(&s->keys, s->keys.count + s->nseries - s->keyed) != 0)
		return PERR_NOMEM;
	for (i = s->keyed; i < s->nseries; i++) {
		hash = hmap_hash(s->series[i].key, s->series[i].key_len);
		if (hmap_upsert_hashed(&s->keys, hash, s->series[i].key,
		    s->series[i].key_len, &slot, &found, NULL) != 0)
			return PERR_NOMEM;
		if (!found)
			*slot = i;
		s->keyed = i + 1;
	}
	return 0;
}

bool
series_find(struct series_set *s, const char *key, size_t len,
    size_t *index)
{
	return key_all(s) == 0 && hmap_find(&s->keys, key, len, index);
}

/* Keep the first problem (already in a->err) and add nothing more. */
static int
hold(struct series_adder *a, int rc)
{
	a->rc = rc;
	return rc;
}

static int
nomem(struct series_adder *a)
{
	return hold(a, perr_set(&a->err, PERR_NOMEM, "out of memory"));
}

static size_t
family_of(struct series_adder *a, const struct expfmt_family *f)
{
	struct series_set *s = a->s;
	struct series_family *grown;
	size_t *slot;
	bool found;

	if (f == a->last_family)
		return a->last_index;
	if (hmap_upsert(&s->family_index, f->name, strlen(f->name), &slot,
	    &found) != 0)
		return SIZE_MAX;
	if (found) {
		a->last_family = f;
		return a->last_index = *slot;
	}
	if (s->nfamilies == s->cap_families) {
		s->cap_families = s->cap_families ? 2 * s->cap_families : 64;
		if ((grown = realloc(s->families, s->cap_families *
		    sizeof(*grown))) == NULL)
			return SIZE_MAX;
		s->families = grown;
	}
	grown = &s->families[s->nfamilies];
	grown->type = f->type;
	/* The parser's own name and help do not outlive the parse. */
	if ((grown->name = copy_str(s, f->name)) == NULL ||
	    (grown->help = copy_str(s, f->help != NULL ? f->help : "")) ==
	    NULL)
		return SIZE_MAX;
	*slot = s->nfamilies;
	a->last_family = f;
	return a->last_index = s->nfamilies++;
}

/* A label name remote write accepts: [a-zA-Z_][a-zA-Z0-9_]*, no "__". */
static bool
remote_label_name(const char *name)
{
	return label_name_valid(name) && strncmp(name, "__", 2) != 0;
}

/*
 * Insertion sort by name, each label's lengths (lens[2i], lens[2i + 1])
 * moved with it: a sample has a handful of labels.
 */
static void
sort_labels(struct expfmt_label *l, size_t *lens, size_t n)
{
	struct expfmt_label t;
	size_t i, j, nl, vl;

	for (i = 1; i < n; i++) {
		t = l[i];
		nl = lens[2 * i];
		vl = lens[2 * i + 1];
		for (j = i; j > 0 && expfmt_name_cmp(l[j - 1].name, t.name) > 0;
		    j--) {
			l[j] = l[j - 1];
			lens[2 * j] = lens[2 * j - 2];
			lens[2 * j + 1] = lens[2 * j - 1];
		}
		l[j] = t;
		lens[2 * j] = nl;
		lens[2 * j + 1] = vl;
	}
}

static const char *
value_of(const struct expfmt_label *l, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return l[i].value;
	return "";
}

/*
 * The sample's labels and the group's, sorted, checked, duplicates merged,
 * with their lengths in lens (as sort_labels).
 */
static int
gather_labels(struct series_adder *a, const struct expfmt_sample *smp,
    struct expfmt_label *out, size_t *lens, size_t *n)
{
	char q1[PERR_QUOTE_MAX], q2[PERR_QUOTE_MAX];
	size_t i, k = 0;

	for (i = 0; i < smp->nlabels; i++)
		if (smp->labels[i].value[0] != '\0') {
			lens[2 * k] = smp->lens[2 * i];
			lens[2 * k + 1] = smp->lens[2 * i + 1];
			out[k++] = smp->labels[i];
		}
	memcpy(out + k, a->group, a->ngroup * sizeof(*out));
	memcpy(lens + 2 * k, a->group_lens, 2 * a->ngroup * sizeof(*lens));
	k += a->ngroup;
	sort_labels(out, lens, k);
	for (i = 0; i < k; i++) {
		if (a->check_names && !remote_label_name(out[i].name))
			return perr_set(&a->err, PERR_INVALID, "%s:%u: label "
			    "name %s of %s is not one remote write accepts: use "
			    "[a-zA-Z_][a-zA-Z0-9_]*, not starting with __",
			    a->what, smp->line, perr_quote(out[i].name, q1),
			    smp->name);
		if (i == 0 || expfmt_name_cmp(out[i - 1].name, out[i].name) != 0)
			continue;
		if (strcmp(out[i - 1].value, out[i].value) != 0)
			return perr_set(&a->err, PERR_INVALID, "%s:%u: %s would "
			    "have label %s twice, %s from the sample and %s "
			    "from the grouping key: a series has each label "
			    "once; drop the label or change -g/--job", a->what,
			    smp->line, smp->name, out[i].name,
			    perr_quote(value_of(smp->labels, smp->nlabels,
			    out[i].name), q1), perr_quote(value_of(a->group,
			    a->ngroup, out[i].name), q2));
		memmove(&out[i], &out[i + 1], (k - i - 1) * sizeof(*out));
		memmove(&lens[2 * i], &lens[2 * i + 2], 2 * (k - i - 1) *
		    sizeof(*lens));
		k--;
		i--;
		a->merged = true;
	}
	*n = k;
	return 0;
}

static int
grow_series(struct series_set *s, size_t want)
{
	struct series *grown;
	size_t cap = s->cap_series ? 2 * s->cap_series : 1024;

	if (cap < want)
		cap = want;

	if ((grown = realloc(s->series, cap * sizeof(*grown))) == NULL)
		return PERR_NOMEM;
	/* Sized for a text (want), the room is about to be filled. */
	if (want > 0)
		mem_prefault(grown + s->cap_series, (cap - s->cap_series) *
		    sizeof(*grown));
	s->series = grown;
	s->cap_series = cap;
	return 0;
}

static void
note_special(struct series_adder *a, const char *name, double v)
{
	/* Most samples' names do not even start as these do. */
	if (name[0] != SERIES_RENDER_METRIC[0] &&
	    name[0] != SERIES_START_METRIC[0])
		return;
	if (strcmp(name, SERIES_RENDER_METRIC) == 0 &&
	    !(a->render_time >= v))
		a->render_time = v;
	else if (strcmp(name, SERIES_START_METRIC) == 0 &&
	    !(a->s->start_time <= v))
		a->s->start_time = v;
}

/* The series of one sample, whose strings stay where the parse put them. */
static int
add_sample(struct series_adder *a, const struct expfmt_sample *smp)
{
	struct expfmt_label tmp[SERIES_MAX_LABELS], *labels;
	size_t lens[2 * SERIES_MAX_LABELS];
	char q[PERR_QUOTE_MAX], *copy;
	struct series_set *s = a->s;
	struct series *out;
	const char *key;
	size_t n = 0, *slot, fam, room, key_len = 0, i;
	uint32_t *label_lens;
	uint64_t hash = 0;
	bool found, escape, direct;
	int rc;

	/* Room for a series per line of the text, once: no regrowing. */
	if (!a->sized) {
		a->sized = true;
		if ((!a->unkeyed && hmap_reserve(&s->keys, s->keys.count +
		    smp->lines) != 0) || (s->nseries + smp->lines >
		    s->cap_series && grow_series(s, s->nseries + smp->lines) !=
		    0))
			return nomem(a);
	}
	/*
	 * The parser's names are the specification's (expfmt.h): its metric
	 * and label names need no second look, only a group's (check_names).
	 */
	if (a->check_names && !metric_name_valid(smp->name))
		return hold(a, perr_set(&a->err, PERR_INVALID, "%s:%u: metric "
		    "name %s is not one remote write accepts: use "
		    "[a-zA-Z_:][a-zA-Z0-9_:]*", a->what, smp->line,
		    perr_quote(smp->name, q)));
	if ((rc = gather_labels(a, smp, tmp, lens, &n)) != 0)
		return hold(a, rc);
	/*
	 * A sample with a label of the group's (same value: merged) can be
	 * the same series as one without it: from here on, each key goes
	 * into the map as it comes, those before it first.
	 */
	if (a->unkeyed && a->merged) {
		a->unkeyed = false;
		if (key_all(s) != 0 || hmap_reserve(&s->keys, s->keys.count +
		    smp->lines) != 0)
			return nomem(a);
	}
	/*
	 * The key: the exposition writer's sample line less its value, from
	 * the lengths the parse measured.  One kept, not keyed, is written
	 * where it stays (the set's arena) when it fits the key's cap.
	 */
	escape = smp->escaped || a->group_escape;
	room = expfmt_series_room(smp->name_len, lens, n, escape);
	direct = a->unkeyed && room < a->key.max;
	buf_reset(&a->key);
	if (!direct && expfmt_write_series_lens(&a->key, smp->name,
	    smp->name_len, tmp, lens, n, escape) != 0)
		return hold(a, perr_set(&a->err, PERR_LIMIT, "%s:%u: series "
		    "too long", a->what, smp->line));
	/*
	 * Hashed only to go into the map (a first text's keys are hashed
	 * when they do: key_all), its slot on the way from memory while the
	 * series is put together.
	 */
	if (!a->unkeyed) {
		hash = hmap_hash(a->key.p, a->key.len);
		hmap_prefetch(&s->keys, hash);
	}
	if ((s->nseries == s->cap_series && grow_series(s, 0) != 0) ||
	    (fam = family_of(a, smp->family)) == SIZE_MAX ||
	    (labels = alloc(s, (n ? n : 1) * (sizeof(*labels) + 2 *
	    sizeof(*label_lens)))) == NULL)
		return nomem(a);
	memcpy(labels, tmp, n * sizeof(*labels));
	/* Their lengths after them, for the encoder: no strlen per label. */
	label_lens = (uint32_t *)(labels + (n ? n : 1));
	for (i = 0; i < 2 * n; i++)
		label_lens[i] = (uint32_t)lens[i];
	if (direct) {
		/* The parser told this one from the others: kept, not keyed. */
		if ((copy = alloc(s, room + 1)) == NULL)
			return nomem(a);
		key_len = (size_t)(expfmt_put_series_lens(copy, smp->name,
		    smp->name_len, tmp, lens, n, escape) - copy);
		copy[key_len] = '\0';
		trim_last(s, copy, key_len + 1);
		key = copy;
	} else if (a->unkeyed) {
		if ((copy = alloc(s, a->key.len + 1)) == NULL)
			return nomem(a);
		memcpy(copy, a->key.p, a->key.len + 1);
		key = copy;
	} else {
		if (hmap_upsert_hashed(&s->keys, hash, a->key.p, a->key.len,
		    &slot, &found, &key) != 0)
			return nomem(a);
		if (found)
			return hold(a, perr_set(&a->err, PERR_INVALID, "%s:%u: "
			    "%s is the same series as line %u once labels with "
			    "empty values are left out (Prometheus reads them "
			    "as absent): drop one", a->what, smp->line,
			    a->key.len > 200 ? smp->name : buf_str(&a->key),
			    s->series[*slot].line));
		*slot = s->nseries;
	}
	out = &s->series[s->nseries];
	out->name = smp->name;
	out->family = fam;
	out->labels = labels;
	out->nlabels = n;
	out->lens = label_lens;
	out->value = smp->value;
	out->key = key;
	out->key_len = direct ? key_len : a->key.len;
	out->line = smp->line;
	if (!a->unkeyed)
		s->keyed = s->nseries + 1;
	s->nseries++;
	note_special(a, smp->name, smp->value);
	return 0;
}

/* A problem is held for series_adder_end; the parse goes on. */
static int
on_sample_held(void *ctx, const struct expfmt_sample *smp)
{
	struct series_adder *a = ctx;

	if (a->rc == 0)
		(void)add_sample(a, smp);
	return 0;
}

/* A problem stops the parse (series_set_add: the text was validated). */
static int
on_sample_stop(void *ctx, const struct expfmt_sample *smp)
{
	return add_sample(ctx, smp);
}

struct expfmt_handler
series_adder_handler(struct series_adder *a)
{
	struct expfmt_handler h = {NULL, on_sample_held, a};

	return h;
}

int
series_adder_begin(struct series_adder *a, struct series_set *s,
    const char *what, const struct push_group *g, double now,
    struct perr *e)
{
	size_t i;

	memset(a, 0, sizeof(*a));
	a->s = s;
	a->what = what;
	a->now = now;
	a->render_time = NAN;
	a->first = s->nseries;
	/*
	 * The parser refuses a sample given twice; a series can be twice
	 * besides only through a label the group has too, or a text before.
	 * The first text's keys go into the set's map only when needed.
	 */
	a->unkeyed = s->nseries == 0 && s->keyed == 0;
	buf_init(&a->key, 1u << 20);
	if (!a->unkeyed && key_all(s) != 0)
		return perr_set(e, PERR_NOMEM, "out of memory");
	/* The group's labels, job first, empty values left out: copies, as
	 * a --dir group's textfile name does not outlive the load. */
	if (g != NULL && g->job != NULL && g->job[0] != '\0')
		a->group[a->ngroup++] = (struct expfmt_label){"job",
		    copy_str(s, g->job)};
	for (i = 0; g != NULL && i < g->nlabels; i++)
		if (g->labels[i].value[0] != '\0')
			a->group[a->ngroup++] = (struct expfmt_label){
			    copy_str(s, g->labels[i].name),
			    copy_str(s, g->labels[i].value)};
	for (i = 0; i < a->ngroup; i++) {
		if (a->group[i].name == NULL || a->group[i].value == NULL)
			return perr_set(e, PERR_NOMEM, "out of memory");
		/* push_group_add refuses such names; a group built by hand
		 * might not have been through it. */
		if (!remote_label_name(a->group[i].name))
			a->check_names = true;
		a->group_lens[2 * i] = strlen(a->group[i].name);
		a->group_lens[2 * i + 1] = strlen(a->group[i].value);
		if (a->group[i].value[strcspn(a->group[i].value, "\\\"\n")] !=
		    '\0')
			a->group_escape = true;
	}
	return 0;
}

int
series_adder_end(struct series_adder *a, char *text, struct perr *e)
{
	struct series_set *s = a->s;
	long long t;
	size_t i;

	buf_free(&a->key);
	if (keep_text(s, text) != 0 && a->rc == 0)
		nomem(a);
	/* Every series of this text at the time it was rendered. */
	t = llround((isfinite(a->render_time) ? a->render_time : a->now) *
	    1000);
	for (i = a->first; i < s->nseries; i++)
		s->series[i].time = t;
	if (a->rc != 0 && e != NULL)
		*e = a->err;
	return a->rc;
}

/* Parse text[0..len) (malloc'd, NUL-terminated) into s, which takes it. */
static int
parse_into(struct series_set *s, char *text, size_t len, const char *what,
    const struct push_group *g, double now, struct perr *e)
{
	struct series_adder a;
	const struct expfmt_handler h = {NULL, on_sample_stop, &a};
	int rc, end;

	if ((rc = series_adder_begin(&a, s, what, g, now, e)) != 0) {
		free(text);
		return rc;
	}
	rc = expfmt_parse(text, len, what, 0, &h, NULL, e);
	/* A problem of the adder's stopped the parse: its message. */
	end = series_adder_end(&a, text, e);
	return end != 0 ? end : rc;
}

int
series_set_add(struct series_set *s, const char *text, size_t len,
    const char *what, const struct push_group *g, double now,
    struct perr *e)
{
	char *copy;

	/* The parser writes into the text, which stays the caller's. */
	if (len > TEXT_MAX)
		return perr_set(e, PERR_LIMIT, "%s is too large", what);
	if ((copy = malloc(len + 1)) == NULL)
		return perr_set(e, PERR_NOMEM, "%s is too large", what);
	memcpy(copy, text, len);
	copy[len] = '\0';
	return parse_into(s, copy, len, what, g, now, e);
}

int
series_set_parse_keys(struct series_set *s, const char *keys, size_t len,
    const char *what, struct perr *e)
{
	struct buf text = BUF_INIT(TEXT_MAX);
	size_t i, start = 0;
	char *owned;
	int rc = 0;

	/* Each key becomes a sample line "KEY 0" the parser reads back. */
	for (i = 0; rc == 0 && i < len; i++) {
		if (keys[i] != '\n')
			continue;
		if ((rc = buf_add(&text, keys + start, i - start)) == 0)
			rc = buf_add(&text, " 0\n", 3);
		start = i + 1;
	}
	if (rc == 0 && text.p == NULL)
		rc = buf_add(&text, "", 0);
	if (rc != 0) {
		buf_free(&text);
		return perr_set(e, rc, "out of memory reading %s", what);
	}
	len = text.len;
	owned = buf_take(&text);
	rc = parse_into(s, owned, len, what, NULL, 0, e);
	if (rc == PERR_INVALID && e != NULL)
		e->code = PERR_CORRUPT;
	return rc == PERR_INVALID ? PERR_CORRUPT : rc;
}
