/*
 * rules.c - rule files via libyaml, validated like promtool 2.42 (see
 * rules.h).
 *
 * promtool decodes with yaml.v3 into rulefmt's types, then validates.  We
 * walk the document's tree (ydoc.h, built from libyaml's events) and apply
 * yaml.v3's decoding rules by hand:
 * any scalar fills a string field (a plain null gives ""), a mapping or a
 * list there is an error, "<<" merges mappings, repeated keys are errors.
 * record, alert and expr are yaml.Node fields in rulefmt, so they keep a
 * scalar's text as written ("~" stays "~") and a non-scalar counts as "".
 */
#define _POSIX_C_SOURCE 200809L
#include "rules/rules.h"
#include "common/buf.h"
#include "common/hmap.h"
#include "promql/duration.h"
#include "promql/parse.h"
#include "common/text.h"
#include "rules/tmpl.h"
#include "rules/ydoc.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

struct kv {
	struct ydoc_node *k, *v;
};

struct loader {
	const char *src;
	size_t len;
	size_t *lines;		/* byte offset of each line's start */
	size_t nlines;
	struct pq_arena scratch;	/* one expression's tree at a time */
	rules_tree_fn *fn;		/* rules_validate's caller's, or NULL */
	void *ctx;
	struct findings *f;
	struct rule_file *rf;
	bool structure_bad;	/* a yaml finding was made */
	bool in_manifest;	/* the document is a PrometheusRule */
	struct pq_arena *doc;	/* the arena of the document decoded */
	bool uses_doc;		/* rf points into it */
	size_t merged;		/* pairs merges read in the document */
	bool merge_failed;	/* and a merge was refused */
	int rc;			/* PERR_NOMEM once memory ran out, or fn's
				   error */
};

/* --- findings --- */

static void add(struct loader *L, unsigned line, unsigned col,
    enum finding_level level, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
add(struct loader *L, unsigned line, unsigned col, enum finding_level level,
    const char *check, const char *fmt, ...)
{
	char msg[FINDING_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (strcmp(check, "yaml") == 0)
		L->structure_bad = true;
	if (findings_add(L->f, line, col, level, check, "%s", msg) != 0)
		L->rc = PERR_NOMEM;
}

static unsigned
node_line(const struct ydoc_node *n)
{
	return n->line + 1;
}

static unsigned
node_col(const struct ydoc_node *n)
{
	return n->col + 1;
}

static const char *
kind_name(const struct ydoc_node *n)
{
	switch (n->kind) {
	case YDOC_MAPPING:
		return "a mapping";
	case YDOC_SEQUENCE:
		return "a list";
	default:
		return "a scalar";
	}
}

/* --- scalars --- */

static const char *
scalar(const struct ydoc_node *n, size_t *len)
{
	*len = n->n;
	return n->u.s;
}

static bool
scalar_is(const struct ydoc_node *n, const char *s)
{
	size_t len;
	const char *v;

	if (n == NULL || n->kind != YDOC_SCALAR)
		return false;
	v = scalar(n, &len);
	return len == strlen(s) && memcmp(v, s, len) == 0;
}

/* yaml.v3's null: a plain "", "~", "null", "Null" or "NULL". */
static bool
is_null(const struct ydoc_node *n)
{
	return n->kind == YDOC_SCALAR &&
	    n->style == YAML_PLAIN_SCALAR_STYLE &&
	    (n->n == 0 || scalar_is(n, "~") ||
	    scalar_is(n, "null") || scalar_is(n, "Null") ||
	    scalar_is(n, "NULL"));
}

/* Byte offset in the file of a (0-based line, character column) mark. */
static size_t
mark_offset(const struct loader *L, size_t line, size_t col)
{
	size_t off;

	if (line >= L->nlines)
		return L->len;
	off = L->lines[line];
	while (col > 0 && off < L->len && L->src[off] != '\n') {
		off++;
		while (off < L->len && ((unsigned char)L->src[off] & 0xc0) == 0x80)
			off++;
		col--;
	}
	return off;
}

/* Does value[0..len) stand in the file at byte off, exactly? */
static bool
raw_equals(const struct loader *L, size_t off, const char *value, size_t len)
{
	return off <= L->len && L->len - off >= len &&
	    memcmp(L->src + off, value, len) == 0 &&
	    memchr(value, '\n', len) == NULL;
}

/* Where s[0] of a scalar stands, when offsets map exactly. */
static void
locate(const struct loader *L, const struct ydoc_node *n, struct rule_text *t)
{
	size_t off = mark_offset(L, n->line, n->col);
	size_t line, p, indent;

	switch (n->style) {
	case YAML_PLAIN_SCALAR_STYLE:
		if (raw_equals(L, off, t->s, t->len)) {
			t->exact = true;
			t->line0 = t->line;
			t->col0 = t->col;
		}
		break;
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		if (raw_equals(L, off + 1, t->s, t->len) &&
		    off + 1 + t->len < L->len &&
		    L->src[off + 1 + t->len] == L->src[off]) {
			t->exact = true;
			t->line0 = t->line;
			t->col0 = t->col + 1;
		}
		break;
	case YAML_LITERAL_SCALAR_STYLE:
		/* Content starts on the next line; find its indentation. */
		line = n->line + 1;
		while (line < L->nlines) {
			p = L->lines[line];
			indent = 0;
			while (p + indent < L->len && L->src[p + indent] == ' ')
				indent++;
			if (p + indent < L->len && L->src[p + indent] != '\n')
				break;
			line++;
		}
		if (line >= L->nlines)
			break;
		t->exact = true;
		t->line0 = n->line + 2;
		t->col0 = (unsigned)indent + 1;
		break;
	default:
		break;
	}
}

/* *line, *col (at offset from of t) moved on to offset to. */
static void
scan_pos(const struct rule_text *t, size_t from, size_t to, unsigned *line,
    unsigned *col)
{
	size_t i;

	for (i = from; i < to && i < t->len; i++) {
		if (t->s[i] == '\n') {
			(*line)++;
			*col = t->col0;
		} else if (((unsigned char)t->s[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

void
rule_text_pos(const struct rule_text *t, size_t off, unsigned *line,
    unsigned *col)
{
	if (!t->exact) {
		*line = t->line;
		*col = t->col;
		return;
	}
	*line = t->line0;
	*col = t->col0;
	scan_pos(t, 0, off, line, col);
}

void
rule_pos_init(struct rule_pos *p, const struct rule_text *t)
{
	memset(p, 0, sizeof(*p));
	p->t = t;
}

void
rule_pos_at(struct rule_pos *p, size_t off, unsigned *line, unsigned *col)
{
	const struct rule_text *t = p->t;
	struct rule_mark *v, m;
	size_t k = (off < t->len ? off : t->len) / RULE_POS_STEP, cap;

	if (!t->exact || off < RULE_POS_STEP) {
		rule_text_pos(t, off, line, col);
		return;
	}
	/* Marks up to the one before off, each from the one before it. */
	if (k >= p->nmarks && k >= p->cap) {
		cap = k + 1 > 2 * p->cap ? k + 1 : 2 * p->cap;
		if ((v = realloc(p->marks, cap * sizeof(*v))) == NULL) {
			rule_text_pos(t, off, line, col);
			return;
		}
		p->marks = v;
		p->cap = cap;
	}
	if (p->nmarks == 0) {
		p->marks[0].line = t->line0;
		p->marks[0].col = t->col0;
		p->nmarks = 1;
	}
	while (p->nmarks <= k) {
		m = p->marks[p->nmarks - 1];
		scan_pos(t, (p->nmarks - 1) * RULE_POS_STEP,
		    p->nmarks * RULE_POS_STEP, &m.line, &m.col);
		p->marks[p->nmarks++] = m;
	}
	*line = p->marks[k].line;
	*col = p->marks[k].col;
	scan_pos(t, k * RULE_POS_STEP, off, line, col);
}

void
rule_pos_free(struct rule_pos *p)
{
	free(p->marks);
	memset(p, 0, sizeof(*p));
}

/*
 * size zeroed bytes that rf keeps, from the document being decoded: its
 * arena is kept too, and is large enough to be prefaulted.
 */
static void *
keep(struct loader *L, size_t size)
{
	void *p = pq_arena_alloc(L->doc, size);

	if (p == NULL)
		L->rc = PERR_NOMEM;
	else
		L->uses_doc = true;
	return p;
}

static const char *
dup_bytes(struct loader *L, const char *s, size_t len)
{
	const char *p = pq_arena_strdup(&L->rf->arena, s, len);

	if (p == NULL)
		L->rc = PERR_NOMEM;
	return p;
}

/*
 * Fill t from node n.  as_node: rulefmt's yaml.Node fields, which keep
 * what is written; otherwise a string field (null is "", non-scalars are
 * an error about what).  t takes the scalar's string from the document,
 * whose memory the file keeps (uses_doc).
 */
static void
text_of(struct loader *L, struct ydoc_node *n, bool as_node, const char *what,
    struct rule_text *t)
{
	const char *v = "";
	size_t len = 0;

	memset(t, 0, sizeof(*t));
	t->line = node_line(n);
	t->col = node_col(n);
	if (n->kind != YDOC_SCALAR) {
		if (!as_node)
			add(L, t->line, t->col, FINDING_ERROR, "yaml",
			    "%s must be a string, not %s", what, kind_name(n));
	} else if (as_node || !is_null(n)) {
		v = scalar(n, &len);
		L->uses_doc = true;
	}
	t->s = v;
	t->len = len;
	if (n->kind == YDOC_SCALAR && len > 0)
		locate(L, n, t);
}

/* --- mappings --- */

/*
 * The pairs of a mapping being gathered.  Looking a key up is a scan while
 * they are few; from INDEX_MIN on, an index of the scalar keys keeps a
 * mapping of n keys at O(n) (a labels: of 20,000 names took 0.4 s).
 */
#define INDEX_MIN 32

struct pairs {
	struct kv *v;
	size_t n;
	struct hmap index;	/* scalar key -> its first pair, or empty */
};

/* Does p hold key k (a scalar)?  *at: the first pair with it. */
static bool
find_key(const struct pairs *p, const struct ydoc_node *k, size_t *at)
{
	size_t i, len;
	const char *s;

	if (k->kind != YDOC_SCALAR)
		return false;
	s = scalar(k, &len);
	if (p->index.count > 0)
		return hmap_find(&p->index, s, len, at);
	for (i = 0; i < p->n; i++)
		if (p->v[i].k->kind == YDOC_SCALAR && p->v[i].k->n == len &&
		    memcmp(p->v[i].k->u.s, s, len) == 0) {
			*at = i;
			return true;
		}
	return false;
}

/* Index pair i of p, unless its key is there already. */
static int
index_pair(struct pairs *p, size_t i)
{
	const struct ydoc_node *k = p->v[i].k;
	size_t *slot, len;
	const char *s;
	bool found;

	if (k->kind != YDOC_SCALAR)
		return 0;
	s = scalar(k, &len);
	if (hmap_upsert(&p->index, s, len, &slot, &found) != 0)
		return PERR_NOMEM;
	if (!found)
		*slot = i;
	return 0;
}

static bool
push_pair(struct loader *L, struct pairs *p, struct ydoc_node *k,
    struct ydoc_node *v)
{
	struct kv *nv = p->v;
	size_t i, n = p->n;
	int rc = 0;

	/* Room for 8, 16, 32...: reallocate when n reaches a power of two. */
	if ((n >= 8 || p->v == NULL) && (n & (n - 1)) == 0) {
		nv = realloc(p->v, (n < 8 ? 8 : 2 * n) * sizeof(*nv));
		if (nv == NULL) {
			L->rc = PERR_NOMEM;
			return false;
		}
	}
	nv[n].k = k;
	nv[n].v = v;
	p->v = nv;
	p->n++;
	if (p->n == INDEX_MIN)
		for (i = 0; rc == 0 && i < p->n; i++)
			rc = index_pair(p, i);
	else if (p->n > INDEX_MIN)
		rc = index_pair(p, n);
	if (rc != 0)
		L->rc = rc;
	return rc == 0;
}

static bool gather_pairs(struct loader *L, struct ydoc_node *map, int depth,
    struct pairs *out);

/* "<<" written plain: a merge ("<<" quoted is an ordinary key). */
static bool
is_merge_key(const struct ydoc_node *k)
{
	return scalar_is(k, "<<") && k->style == YAML_PLAIN_SCALAR_STYLE;
}

static bool
not_mergeable(struct loader *L, struct ydoc_node *v)
{
	add(L, node_line(v), node_col(v), FINDING_ERROR, "yaml",
	    "map merge requires a mapping or a list of mappings");
	return true;
}

/*
 * Pairs that merges may bring into one document: each alias of a mapping
 * brings all of its pairs again, so a few lines of aliases of aliases can
 * stand for billions.  yaml.v3 refuses such a document, so we do, in its
 * words; the bound is far above what a rule file's merges bring.
 */
static size_t
merged_max(const struct loader *L)
{
	return 1000000 + L->len;
}

/* "<<: MAP" or "<<: [MAP, ...]": add the keys not already present. */
static bool
merge(struct loader *L, struct ydoc_node *v, int depth, struct pairs *out)
{
	struct pairs more;
	size_t i, at;
	bool ok = true;

	if (v->kind == YDOC_SEQUENCE) {
		/* Only mappings in the list, as in Go's YAML: a list in the
		   list (an alias of the list itself among them) is refused,
		   not followed. */
		for (i = 0; ok && i < v->n; i++)
			ok = v->u.items[i]->kind == YDOC_MAPPING ?
			    merge(L, v->u.items[i], depth + 1, out) :
			    not_mergeable(L, v->u.items[i]);
		return ok;
	}
	if (v->kind != YDOC_MAPPING)
		return not_mergeable(L, v);
	memset(&more, 0, sizeof(more));
	ok = gather_pairs(L, v, depth + 1, &more);
	for (i = 0; ok && i < more.n; i++)
		if (!find_key(out, more.v[i].k, &at))
			ok = push_pair(L, out, more.v[i].k, more.v[i].v);
	free(more.v);
	hmap_free(&more.index);
	return ok;
}

/*
 * The effective key/value pairs of a mapping: its own keys (a repeated one
 * is a finding), then merged keys it does not have.
 */
static bool
gather_pairs(struct loader *L, struct ydoc_node *map, int depth,
    struct pairs *out)
{
	struct ydoc_node *k, *v;
	size_t j, at;
	bool ok = true;

	/* Once per document: aliases could repeat them without end. */
	if (depth > 0 && (L->merged += map->n) > merged_max(L)) {
		if (!L->merge_failed)
			add(L, node_line(map), node_col(map), FINDING_ERROR,
			    "yaml", "document contains excessive aliasing (map "
			    "merges read more than %zu pairs)", merged_max(L));
		L->merge_failed = true;
		return true;
	}
	if (depth > 32) {
		if (!L->merge_failed)
			add(L, node_line(map), node_col(map), FINDING_ERROR,
			    "yaml", "map merges nest too deeply");
		L->merge_failed = true;
		return true;
	}
	for (j = 0; ok && j < map->n; j++) {
		k = map->u.pairs[j].k;
		v = map->u.pairs[j].v;
		if (is_merge_key(k))
			continue;
		if (find_key(out, k, &at))
			add(L, node_line(k), node_col(k), FINDING_ERROR,
			    "yaml", "mapping key \"%.*s\" already "
			    "defined at line %u",
			    (int)k->n, k->u.s, node_line(out->v[at].k));
		ok = push_pair(L, out, k, v);
	}
	for (j = 0; ok && j < map->n; j++)
		if (is_merge_key(map->u.pairs[j].k))
			ok = merge(L, map->u.pairs[j].v, depth, out);
	return ok;
}

/* gather_pairs, the pairs into *out (to free) and *n. */
static bool
mapping_pairs(struct loader *L, struct ydoc_node *map, int depth,
    struct kv **out, size_t *n)
{
	struct pairs p;
	bool ok;

	memset(&p, 0, sizeof(p));
	ok = gather_pairs(L, map, depth, &p);
	hmap_free(&p.index);
	*out = p.v;
	*n = p.n;
	return ok;
}

/* A field name not in known[]: the finding names the accepted ones. */
static void
unknown_field(struct loader *L, struct ydoc_node *k, const char *where,
    const char *accepted)
{
	size_t len;
	const char *s;

	if (k->kind != YDOC_SCALAR) {
		add(L, node_line(k), node_col(k), FINDING_ERROR, "yaml",
		    "%s: a key must be a string", where);
		return;
	}
	s = scalar(k, &len);
	add(L, node_line(k), node_col(k), FINDING_ERROR, "yaml",
	    "unknown field \"%.*s\" in %s (accepted: %s)",
	    (int)(len > 80 ? 80 : len), s, where, accepted);
}

/* --- values --- */

static bool
duration_of(struct loader *L, struct ydoc_node *v, const char *field,
    int64_t *ms)
{
	struct perr e;
	size_t len;
	const char *s;

	*ms = 0;
	if (is_null(v))
		return false;
	if (v->kind != YDOC_SCALAR) {
		add(L, node_line(v), node_col(v), FINDING_ERROR, "yaml",
		    "%s must be a duration, not %s", field, kind_name(v));
		return false;
	}
	s = scalar(v, &len);
	if (pq_duration_parse(s, len, ms, &e) != 0) {
		add(L, node_line(v), node_col(v), FINDING_ERROR, "yaml",
		    "%s: %s (use a Prometheus duration such as 90s, 5m, 1h30m)",
		    field, e.msg);
		return false;
	}
	return true;
}

/* yaml.v3 into an int: an integer, or a float in range (truncated). */
static void
check_int(struct loader *L, struct ydoc_node *v, const char *field,
    int64_t *out)
{
	char tmp[64], *end;
	size_t len;
	const char *s;
	double d;

	if (is_null(v))
		return;
	if (v->kind == YDOC_SCALAR &&
	    v->style == YAML_PLAIN_SCALAR_STYLE) {
		s = scalar(v, &len);
		if (len > 0 && len < sizeof(tmp)) {
			memcpy(tmp, s, len);
			tmp[len] = '\0';
			errno = 0;
			*out = strtoll(tmp, &end, 0);
			if (*end == '\0' && errno == 0)
				return;
			if (strpbrk(tmp, "xXiInN") == NULL) {
				d = strtod(tmp, &end);
				*out = (int64_t)d;
				if (*end == '\0' && d > -9.2e18 && d < 9.2e18)
					return;
			}
		}
	}
	add(L, node_line(v), node_col(v), FINDING_ERROR, "yaml",
	    "%s must be an integer", field);
}

/* labels: or annotations: into pairs. */
static bool
pairs_of(struct loader *L, struct ydoc_node *v, const char *field,
    struct rule_pair **out, size_t *n)
{
	struct kv *kvs = NULL;
	size_t nkv = 0, i;

	*out = NULL;
	*n = 0;
	if (is_null(v))
		return true;
	if (v->kind != YDOC_MAPPING) {
		add(L, node_line(v), node_col(v), FINDING_ERROR, "yaml",
		    "%s must be a mapping of names to strings, not %s", field,
		    kind_name(v));
		return true;
	}
	if (!mapping_pairs(L, v, 0, &kvs, &nkv))
		return free(kvs), false;
	if (nkv > 0 && (*out = keep(L, nkv * sizeof(**out))) == NULL) {
		free(kvs);
		return false;
	}
	for (i = 0; i < nkv; i++) {
		text_of(L, kvs[i].k, false, field, &(*out)[i].name);
		text_of(L, kvs[i].v, false, field, &(*out)[i].value);
	}
	*n = nkv;
	free(kvs);
	return true;
}

/* --- rules, groups, the file --- */

static const char rule_fields[] =
    "record, alert, expr, for, keep_firing_for, labels, annotations";

static bool
decode_rule(struct loader *L, struct ydoc_node *m, struct rule *r,
    struct rule_text *record, struct rule_text *alert)
{
	struct kv *kvs = NULL;
	size_t n = 0, i;
	bool ok = true, have_expr = false;
	struct ydoc_node *k, *v;

	r->line = node_line(m);
	r->col = node_col(m);
	if (m->kind != YDOC_MAPPING) {
		add(L, r->line, r->col, FINDING_ERROR, "yaml",
		    "a rule must be a mapping (%s), not %s", rule_fields,
		    kind_name(m));
		return true;
	}
	if (!mapping_pairs(L, m, 0, &kvs, &n))
		return free(kvs), false;
	for (i = 0; ok && i < n; i++) {
		k = kvs[i].k;
		v = kvs[i].v;
		if (scalar_is(k, "record")) {
			text_of(L, v, true, "record", record);
		} else if (scalar_is(k, "alert")) {
			text_of(L, v, true, "alert", alert);
		} else if (scalar_is(k, "expr")) {
			text_of(L, v, true, "expr", &r->expr);
			have_expr = true;
		} else if (scalar_is(k, "for")) {
			r->has_for = duration_of(L, v, "for", &r->for_ms) ||
			    r->has_for;
		} else if (scalar_is(k, "keep_firing_for")) {
			duration_of(L, v, "keep_firing_for",
			    &r->keep_firing_for_ms);
		} else if (scalar_is(k, "labels")) {
			ok = pairs_of(L, v, "labels", &r->labels, &r->nlabels);
		} else if (scalar_is(k, "annotations")) {
			ok = pairs_of(L, v, "annotations", &r->annotations,
			    &r->nannotations);
		} else {
			unknown_field(L, k, "rule", rule_fields);
		}
	}
	if (ok && !have_expr) {
		r->expr.line = r->line;
		r->expr.col = r->col;
	}
	free(kvs);
	return ok;
}

static void
empty_text(struct rule_text *t, unsigned line, unsigned col)
{
	memset(t, 0, sizeof(*t));
	t->line = line;
	t->col = col;
	t->s = "";
}

/*
 * The items of a list field: false (nothing to read) for null, and for a
 * value that is no list, which is a finding.
 */
static bool
list_of(struct loader *L, struct ydoc_node *v, const char *field, size_t *n)
{
	if (is_null(v))
		return false;
	if (v->kind != YDOC_SEQUENCE) {
		add(L, node_line(v), node_col(v), FINDING_ERROR, "yaml",
		    "%s must be a list, not %s", field, kind_name(v));
		return false;
	}
	*n = v->n;
	return true;
}

static bool
decode_rules(struct loader *L, struct ydoc_node *v, struct rule_group *g)
{
	struct rule_text record, alert;
	struct rule *r;
	size_t n, i;
	bool ok = true;

	if (!list_of(L, v, "rules", &n))
		return true;
	/* A repeated "rules:" (a finding already) replaces the first: kept,
	   they could take memory growing with the square of the file. */
	L->rf->nrules -= g->nrules;
	g->nrules = 0;
	if ((g->rules = keep(L, (n + 1) * sizeof(*g->rules))) == NULL)
		return false;
	for (i = 0; ok && i < n; i++) {
		struct ydoc_node *m = v->u.items[i];

		if (is_null(m))
			continue;	/* yaml.v3 leaves nothing for "- ~" */
		r = &g->rules[g->nrules++];
		empty_text(&record, node_line(m), node_col(m));
		empty_text(&alert, node_line(m), node_col(m));
		empty_text(&r->expr, node_line(m), node_col(m));
		ok = decode_rule(L, m, r, &record, &alert);
		/* Keep both names for validation: one of them is the name. */
		r->alerting = alert.len > 0;
		if (r->alerting) {
			r->name = alert;
			if (record.len > 0)
				add(L, record.line, record.col, FINDING_ERROR,
				    "rule", "only one of 'record' and 'alert' "
				    "must be set");
		} else {
			r->name = record;
		}
	}
	L->rf->nrules += g->nrules;
	return ok;
}

static const char group_fields[] = "name, interval, limit, rules";

static bool
decode_group(struct loader *L, struct ydoc_node *m, struct rule_group *g)
{
	struct kv *kvs = NULL;
	size_t n = 0, i;
	bool ok = true;

	empty_text(&g->name, node_line(m), node_col(m));
	if (m->kind != YDOC_MAPPING) {
		add(L, node_line(m), node_col(m), FINDING_ERROR, "yaml",
		    "a group must be a mapping (%s), not %s", group_fields,
		    kind_name(m));
		return true;
	}
	if (!mapping_pairs(L, m, 0, &kvs, &n))
		return free(kvs), false;
	for (i = 0; ok && i < n; i++) {
		struct ydoc_node *k = kvs[i].k, *v = kvs[i].v;

		if (scalar_is(k, "name")) {
			text_of(L, v, false, "name", &g->name);
		} else if (scalar_is(k, "interval")) {
			duration_of(L, v, "interval", &g->interval_ms);
		} else if (scalar_is(k, "limit")) {
			check_int(L, v, "limit", &g->limit);
		} else if (scalar_is(k, "rules")) {
			ok = decode_rules(L, v, g);
		} else if (L->in_manifest &&
		    scalar_is(k, "partial_response_strategy")) {
			continue;	/* Thanos's field, allowed by the CRD */
		} else {
			unknown_field(L, k, "group", L->in_manifest ?
			    "name, interval, limit, rules, "
			    "partial_response_strategy" : group_fields);
		}
	}
	free(kvs);
	return ok;
}

static bool
decode_groups(struct loader *L, struct ydoc_node *v)
{
	struct rule_group *g;
	size_t n, i;
	bool ok = true;

	if (!list_of(L, v, "groups", &n))
		return true;
	g = realloc(L->rf->groups, (L->rf->ngroups + n + 1) * sizeof(*g));
	if (g == NULL) {
		L->rc = PERR_NOMEM;
		return false;
	}
	L->rf->groups = g;
	for (i = 0; ok && i < n; i++) {
		struct ydoc_node *m = v->u.items[i];

		if (is_null(m))
			continue;	/* yaml.v3 leaves nothing for "- ~" */
		g = &L->rf->groups[L->rf->ngroups++];
		memset(g, 0, sizeof(*g));
		ok = decode_group(L, m, g);
	}
	return ok;
}

/* Is this document's top a PrometheusRule manifest? */
static bool
is_manifest(const struct ydoc_node *root)
{
	size_t i;

	for (i = 0; i < root->n; i++)
		if (scalar_is(root->u.pairs[i].k, "kind") &&
		    scalar_is(root->u.pairs[i].v, "PrometheusRule"))
			return true;
	return false;
}

static bool
decode_spec(struct loader *L, struct ydoc_node *specnode)
{
	struct kv *spec = NULL;
	size_t nspec = 0, i;
	bool ok = true;

	if (is_null(specnode))
		return true;
	if (specnode->kind != YDOC_MAPPING) {
		add(L, node_line(specnode), node_col(specnode), FINDING_ERROR,
		    "yaml", "spec must be a mapping with \"groups:\", not %s",
		    kind_name(specnode));
		return true;
	}
	if (!mapping_pairs(L, specnode, 0, &spec, &nspec))
		return free(spec), false;
	for (i = 0; ok && i < nspec; i++) {
		if (scalar_is(spec[i].k, "groups"))
			ok = decode_groups(L, spec[i].v);
		else
			unknown_field(L, spec[i].k, "PrometheusRule spec",
			    "groups");
	}
	free(spec);
	return ok;
}

/*
 * The top of a document: a rule file, or a PrometheusRule manifest.  After
 * the first document only manifests count, and other kinds are skipped.
 */
static bool
decode_top(struct loader *L, struct ydoc_node *root, bool first)
{
	struct kv *kvs = NULL;
	size_t n = 0, i;
	bool ok = true;

	if (root == NULL || is_null(root))
		return true;
	if (root->kind != YDOC_MAPPING) {
		if (first)
			add(L, node_line(root), node_col(root), FINDING_ERROR,
			    "yaml", "a rule file must be a mapping with "
			    "\"groups:\", not %s", kind_name(root));
		return true;
	}
	L->in_manifest = is_manifest(root);
	if (!first && !L->in_manifest)
		return true;
	L->rf->manifest |= L->in_manifest;
	if (!mapping_pairs(L, root, 0, &kvs, &n))
		return free(kvs), false;
	for (i = 0; ok && i < n; i++) {
		struct ydoc_node *k = kvs[i].k;

		if (!L->in_manifest && scalar_is(k, "groups"))
			ok = decode_groups(L, kvs[i].v);
		else if (L->in_manifest && scalar_is(k, "spec"))
			ok = decode_spec(L, kvs[i].v);
		else if (!L->in_manifest || (!scalar_is(k, "apiVersion") &&
		    !scalar_is(k, "kind") && !scalar_is(k, "metadata")))
			unknown_field(L, k, L->in_manifest ? "PrometheusRule" :
			    "rule file", L->in_manifest ?
			    "apiVersion, kind, metadata, spec" : "groups");
	}
	free(kvs);
	return ok;
}

/* --- validation (rulefmt's Validate) --- */

/*
 * The expression's tree, valid until the next call, or NULL when there is
 * none.  Trees are not kept: a file's would take more memory than all the
 * rest of it, and costly fresh memory at that.
 */
static struct pq_node *
check_expr(struct loader *L, struct rule *r)
{
	struct pq_node *root;
	struct perr e;
	size_t pos;
	unsigned line, col;
	int rc;

	if (r->expr.len == 0) {
		add(L, r->expr.line, r->expr.col, FINDING_ERROR, "rule",
		    "field 'expr' must be set in rule");
		return NULL;
	}
	pq_arena_reset(&L->scratch);
	rc = pq_parse_into(&L->scratch, r->expr.s, r->expr.len, &root, &pos,
	    &e);
	if (rc == PERR_NOMEM) {
		L->rc = rc;
		return NULL;
	}
	if (rc != 0) {
		rule_text_pos(&r->expr, pos, &line, &col);
		if (r->expr.exact)
			add(L, line, col, FINDING_ERROR, "promql",
			    "could not parse expression: %s", e.msg);
		else
			add(L, line, col, FINDING_ERROR, "promql",
			    "could not parse expression: at byte %zu of the "
			    "expression: %s", pos + 1, e.msg);
	}
	return root;
}

struct refs {
	struct loader *L;
	struct rule_pair *p;
	size_t cap;
};

/* Keep each $labels.NAME of an alert's template for lint's checks. */
static void
keep_ref(void *ctx, const char *name, size_t len, size_t off)
{
	struct refs *rs = ctx;
	struct rule_ref *v;

	if (rs->p->nrefs == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 4;
		v = pq_arena_alloc(&rs->L->rf->arena, rs->cap * sizeof(*v));
		if (v == NULL) {
			rs->L->rc = PERR_NOMEM;
			return;
		}
		if (rs->p->nrefs > 0)
			memcpy(v, rs->p->refs, rs->p->nrefs * sizeof(*v));
		rs->p->refs = v;
	}
	v = &rs->p->refs[rs->p->nrefs];
	if ((v->name = dup_bytes(rs->L, name, len)) == NULL)
		return;
	v->off = off;
	rs->p->nrefs++;
}

static void
check_template(struct loader *L, const char *what, struct rule_pair *p)
{
	struct refs rs = {L, p, 0};
	struct perr e;
	size_t off;
	unsigned line, col;

	if (tmpl_check(p->value.s, p->value.len, keep_ref, &rs, &off, &e) == 0)
		return;
	if (e.code == PERR_NOMEM) {
		L->rc = PERR_NOMEM;
		return;
	}
	rule_text_pos(&p->value, off, &line, &col);
	add(L, line, col, FINDING_ERROR, "template", "%s \"%s\": template: %s",
	    what, p->name.s, e.msg);
}

static void
check_labels(struct loader *L, struct rule *r)
{
	char q[PERR_QUOTE_MAX];
	size_t i;

	for (i = 0; i < r->nlabels; i++) {
		struct rule_pair *p = &r->labels[i];

		if (!label_name_valid(p->name.s) || p->name.len !=
		    strlen(p->name.s) || strcmp(p->name.s, "__name__") == 0)
			add(L, p->name.line, p->name.col, FINDING_ERROR, "rule",
			    "invalid label name: %s (use [a-zA-Z_][a-zA-Z0-9_]*,"
			    " not __name__)", perr_quote(p->name.s, q));
		if (!utf8_valid(p->value.s, p->value.len, NULL))
			add(L, p->value.line, p->value.col, FINDING_ERROR,
			    "rule", "invalid label value: not UTF-8");
		if (r->alerting)
			check_template(L, "label", p);
	}
	for (i = 0; i < r->nannotations; i++) {
		struct rule_pair *p = &r->annotations[i];

		if (!label_name_valid(p->name.s) || p->name.len !=
		    strlen(p->name.s))
			add(L, p->name.line, p->name.col, FINDING_ERROR, "rule",
			    "invalid annotation name: %s (use "
			    "[a-zA-Z_][a-zA-Z0-9_]*)", perr_quote(p->name.s, q));
		check_template(L, "annotation", p);
	}
}

static void
validate_rule(struct loader *L, struct rule *r)
{
	char q[PERR_QUOTE_MAX];
	struct pq_node *root;

	if (r->name.len == 0)
		add(L, r->line, r->col, FINDING_ERROR, "rule",
		    "one of 'record' or 'alert' must be set");
	root = check_expr(L, r);
	if (!r->alerting && r->name.len > 0) {
		if (r->nannotations > 0)
			add(L, r->name.line, r->name.col, FINDING_ERROR, "rule",
			    "invalid field 'annotations' in recording rule");
		if (r->for_ms != 0)
			add(L, r->name.line, r->name.col, FINDING_ERROR, "rule",
			    "invalid field 'for' in recording rule");
		if (r->keep_firing_for_ms != 0)
			add(L, r->name.line, r->name.col, FINDING_ERROR, "rule",
			    "invalid field 'keep_firing_for' in recording rule");
		if (!metric_name_valid(r->name.s) ||
		    r->name.len != strlen(r->name.s))
			add(L, r->name.line, r->name.col, FINDING_ERROR, "rule",
			    "invalid recording rule name: %s (use "
			    "[a-zA-Z_:][a-zA-Z0-9_:]*)", perr_quote(r->name.s, q));
	}
	check_labels(L, r);
	/* Last: the tree's user may want the labels' template references. */
	if (root != NULL && L->fn != NULL && L->rc == 0)
		L->rc = L->fn(L->ctx, r, root);
}

/*
 * The duplicate key of a rule: name, then its labels sorted by name.  Keys
 * are built only to compare rules whose hashes (dup_hash) are equal.
 */
static int
pair_cmp(const void *a, const void *b)
{
	const struct rule_pair *x = *(const struct rule_pair *const *)a;
	const struct rule_pair *y = *(const struct rule_pair *const *)b;

	return strcmp(x->name.s, y->name.s);
}

static int
dup_key(const struct rule *r, struct buf *b)
{
	const struct rule_pair **sorted;
	size_t i;
	int rc;

	if ((sorted = calloc(r->nlabels + 1, sizeof(*sorted))) == NULL)
		return PERR_NOMEM;
	for (i = 0; i < r->nlabels; i++)
		sorted[i] = &r->labels[i];
	qsort(sorted, r->nlabels, sizeof(*sorted), pair_cmp);
	buf_reset(b);
	rc = buf_add(b, r->name.s, r->name.len + 1);
	for (i = 0; rc == 0 && i < r->nlabels; i++)
		if ((rc = buf_add(b, sorted[i]->name.s,
		    sorted[i]->name.len + 1)) == 0)
			rc = buf_add(b, sorted[i]->value.s,
			    sorted[i]->value.len + 1);
	free(sorted);
	return rc;
}

/* Do rules x and y have the same key?  *rc is set when memory runs out. */
static bool
same_key(const struct rule *x, const struct rule *y, int *rc)
{
	struct buf a = BUF_INIT(RULES_FILE_MAX), b = BUF_INIT(RULES_FILE_MAX);
	bool same = false;

	if ((*rc = dup_key(x, &a)) == 0 && (*rc = dup_key(y, &b)) == 0)
		same = a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
	buf_free(&a);
	buf_free(&b);
	return same;
}

/*
 * A hash of the key that needs no sorting: the labels' hashes are added
 * up, and a sum does not depend on the order.
 */
static uint64_t
dup_hash(const struct rule *r)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < r->nlabels; i++)
		sum += hmap_hash(r->labels[i].name.s, r->labels[i].name.len) ^
		    hmap_hash(r->labels[i].value.s, r->labels[i].value.len) *
		    0x9e3779b97f4a7c15ull;
	return hmap_hash(r->name.s, r->name.len) * 0x100000001b3ull + sum;
}

struct dup {
	uint64_t hash;
	size_t seq;			/* place in the file */
	const struct rule *r;
};

static int
dup_cmp(const void *a, const void *b)
{
	const struct dup *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
report_duplicate(struct loader *L, const struct rule *r,
    const struct rule *first)
{
	add(L, r->name.line, r->name.col, FINDING_WARNING, "duplicate-rule",
	    "duplicate rule: %s \"%s\" has the same name and labels as the "
	    "rule at line %u", r->alerting ? "alert" : "record", r->name.s,
	    first->name.line);
}

/*
 * promtool's lint: rules with the same name and labels, across groups.
 * Each later copy is reported against the first one in the file.
 */
static void
check_duplicates(struct loader *L)
{
	struct dup *d;
	size_t n = 0, i, j, run = 0;
	int rc = 0;

	if ((d = calloc(L->rf->nrules + 1, sizeof(*d))) == NULL) {
		L->rc = PERR_NOMEM;
		return;
	}
	for (i = 0; i < L->rf->ngroups; i++)
		for (j = 0; j < L->rf->groups[i].nrules; j++, n++) {
			d[n].r = &L->rf->groups[i].rules[j];
			d[n].hash = dup_hash(d[n].r);
			d[n].seq = n;
		}
	qsort(d, n, sizeof(*d), dup_cmp);
	for (i = 1; i < n && rc == 0; i++) {
		if (d[i].hash != d[i - 1].hash) {
			run = i;
			continue;
		}
		/* Equal hashes: the first rule of the run with the same key. */
		for (j = run; j < i && rc == 0; j++)
			if (same_key(d[j].r, d[i].r, &rc)) {
				report_duplicate(L, d[i].r, d[j].r);
				break;
			}
	}
	if (rc != 0)
		L->rc = rc;
	free(d);
}

/*
 * The first group named like g, else g itself (remembered), found whole:
 * names are compared with their length, as Go compares strings.
 */
static const struct rule_group *
first_named(struct loader *L, struct hmap *seen, size_t i)
{
	const struct rule_text *name = &L->rf->groups[i].name;
	size_t *slot;
	bool found;

	if (hmap_upsert(seen, name->s, name->len, &slot, &found) != 0) {
		L->rc = PERR_NOMEM;
		return &L->rf->groups[i];
	}
	if (!found)
		*slot = i;
	return &L->rf->groups[*slot];
}

static void
validate(struct loader *L)
{
	struct hmap seen = HMAP_INIT;
	const struct rule_group *first;
	size_t i, j;

	for (i = 0; i < L->rf->ngroups; i++) {
		struct rule_group *g = &L->rf->groups[i];

		if (g->name.len == 0)
			add(L, g->name.line, g->name.col, FINDING_ERROR, "group",
			    "group name must not be empty");
		if ((first = first_named(L, &seen, i)) != g)
			add(L, g->name.line, g->name.col, FINDING_ERROR, "group",
			    "group name \"%s\" is repeated in the same file "
			    "(first at line %u)", g->name.s, first->name.line);
		for (j = 0; j < g->nrules; j++)
			validate_rule(L, &g->rules[j]);
	}
	hmap_free(&seen);
	check_duplicates(L);
}

/* --- loading --- */

static bool
index_lines(struct loader *L)
{
	const char *p, *end = L->src + L->len;
	size_t n = 1;

	for (p = L->src; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		n++;
	if ((L->lines = malloc(n * sizeof(*L->lines))) == NULL)
		return false;
	L->lines[0] = 0;
	L->nlines = 1;
	for (p = L->src; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		L->lines[L->nlines++] = (size_t)(p - L->src) + 1;
	return true;
}

static void
yaml_problem(struct loader *L, const struct ydoc_error *e)
{
	add(L, e->line + 1, e->col + 1, FINDING_ERROR, "yaml", "%s%s%s",
	    e->problem != NULL ? e->problem : "invalid YAML",
	    e->context != NULL ? " " : "",
	    e->context != NULL ? e->context : "");
}

/*
 * Decode one document; false when it ends the reading (no more documents,
 * a version we do not read, no memory).
 */
static bool
load_document(struct loader *L, struct ydoc *doc, bool first)
{
	if (doc->has_version && (doc->major != 1 || doc->minor != 1)) {
		/* yaml.v3, like libyaml before 0.2, knows only 1.1. */
		add(L, doc->line + 1, doc->col + 1, FINDING_ERROR, "yaml",
		    "found incompatible YAML document (%%YAML %d.%d; only 1.1 "
		    "is read)", doc->major, doc->minor);
		return false;
	}
	if (doc->root == NULL)
		return false;
	L->doc = &doc->arena;
	L->merged = 0;
	L->merge_failed = false;
	L->uses_doc = false;
	if (!decode_top(L, doc->root, first) && L->rc == 0)
		L->rc = PERR_NOMEM;
	/* Keep what rf points to (and the rest of the tree: it is cheaper
	 * than copying). */
	if (L->uses_doc)
		pq_arena_move(&L->rf->arena, &doc->arena);
	L->doc = NULL;
	return L->rc == 0;
}

/* Read the first document, and the later ones when it is a manifest. */
static void
load_documents(struct loader *L)
{
	struct ydoc_reader rd;
	struct ydoc doc;
	struct ydoc_error e;
	bool first = true, more = true;
	int rc;

	/* A text past YDOC_TEXT_MAX (4 GiB) could not be held either. */
	if (ydoc_reader_init(&rd, L->src, L->len) != 0) {
		L->rc = PERR_NOMEM;
		return;
	}
	while (more && (first || L->rf->manifest)) {
		if ((rc = ydoc_next(&rd, &doc, &e)) != 0) {
			if (rc == PERR_NOMEM)
				L->rc = PERR_NOMEM;
			else
				yaml_problem(L, &e);
			break;
		}
		more = load_document(L, &doc, first);
		ydoc_free(&doc);
		first = false;
	}
	ydoc_reader_free(&rd);
}

int
rules_load_text(const char *text, size_t len, struct rule_file *rf,
    struct findings *f, struct perr *e)
{
	struct loader L;

	memset(rf, 0, sizeof(*rf));
	memset(&L, 0, sizeof(L));
	L.src = text;
	L.len = len;
	L.f = f;
	L.rf = rf;
	if (!index_lines(&L))
		return perr_set(e, PERR_NOMEM, "out of memory");
	load_documents(&L);
	rf->structure_ok = !L.structure_bad && L.rc == 0;
	free(L.lines);
	if (L.rc != 0)
		return perr_set(e, L.rc, "out of memory");
	return 0;
}

int
rules_validate(struct rule_file *rf, struct findings *f, rules_tree_fn *fn,
    void *ctx)
{
	struct loader L;

	if (!rf->structure_ok)
		return 0;
	memset(&L, 0, sizeof(L));
	L.f = f;
	L.rf = rf;
	L.fn = fn;
	L.ctx = ctx;
	validate(&L);
	pq_arena_free(&L.scratch);
	return L.rc;
}

/* Did the file change between the two looks?  (Its size, or a write.) */
static bool
changed(const struct stat *a, const struct stat *b)
{
	return a->st_size != b->st_size ||
	    a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
	    a->st_mtim.tv_nsec != b->st_mtim.tv_nsec ||
	    a->st_ctim.tv_sec != b->st_ctim.tv_sec ||
	    a->st_ctim.tv_nsec != b->st_ctim.tv_nsec;
}

/*
 * The whole of fd (path names it) into out, and fd closed.  A regular
 * file that changes while it is read is PERR_IO: what was read may be
 * neither the old text nor the new one.  (The file used to be mapped,
 * and truncated under the mapping it killed the checker with SIGBUS.)
 */
static int
read_fd(int fd, const char *path, size_t max, struct buf *out,
    struct perr *e)
{
	char chunk[65536], q[PERR_QUOTE_MAX];
	struct stat before, after;
	bool regular;
	ssize_t n;
	int rc = 0;

	n = 0;
	regular = fstat(fd, &before) == 0 && S_ISREG(before.st_mode);
	/* Its size known, the buffer grows once, not by doubling. */
	if (regular && before.st_size > 0 && (uintmax_t)before.st_size <= max)
		rc = buf_reserve(out, (size_t)before.st_size);
	while (rc == 0) {
		if ((n = read(fd, chunk, sizeof(chunk))) < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (rc = buf_add(out, chunk, (size_t)n)) != 0)
			break;
	}
	if (n < 0)
		rc = perr_set(e, PERR_INVALID, "cannot read %s: %s",
		    perr_quote(path, q), strerror(errno));
	else if (rc == PERR_LIMIT)
		rc = perr_set(e, PERR_INVALID, "%s is larger than %zu bytes",
		    perr_quote(path, q), max);
	else if (rc != 0)
		rc = perr_set(e, rc, "out of memory");
	else if (regular && (fstat(fd, &after) != 0 ||
	    changed(&before, &after) || (before.st_size > 0 &&
	    out->len != (size_t)before.st_size)))
		/* (Files of /proc say 0 bytes: only a change tells there.) */
		rc = perr_set(e, PERR_IO, "%s changed while it was read (%lld "
		    "bytes, %zu read): check it again once it is written",
		    perr_quote(path, q), (long long)before.st_size, out->len);
	if (rc == 0 && out->p == NULL && buf_add(out, "", 0) != 0)
		rc = perr_set(e, PERR_NOMEM, "out of memory");
	if (rc != 0)
		buf_free(out);
	close(fd);
	return rc;
}

/*
 * path opened for reading, once (a FIFO must not be opened twice): the
 * descriptor in *fd.  Returns 0 or PERR_INVALID.
 */
static int
open_file(const char *path, int *fd, struct perr *e)
{
	char q[PERR_QUOTE_MAX];

	if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return perr_set(e, PERR_INVALID, "cannot open %s: %s",
		    perr_quote(path, q), strerror(errno));
	return 0;
}

int
rules_read_file(const char *path, size_t max, struct buf *out,
    struct perr *e)
{
	int fd, rc;

	buf_init(out, max);
	if ((rc = open_file(path, &fd, e)) != 0)
		return rc;
	return read_fd(fd, path, max, out, e);
}

int
rules_load(const char *path, struct rule_file *rf, struct findings *f,
    struct perr *e)
{
	struct buf b;
	int rc;

	memset(rf, 0, sizeof(*rf));
	if ((rc = rules_read_file(path, RULES_FILE_MAX, &b, e)) != 0)
		return rc;
	rc = rules_load_text(b.p, b.len, rf, f, e);
	buf_free(&b);
	return rc;
}

void
rules_free(struct rule_file *rf)
{
	free(rf->groups);
	pq_arena_free(&rf->arena);
	memset(rf, 0, sizeof(*rf));
}
